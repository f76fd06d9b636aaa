/* test_wheel.c: the timing wheel, driven by a fake clock. */
#include "core/wheel.h"
#include "test.h"

static struct wheel w;

#define MS 1000000ull

static void timer_at(struct pp_timer *t, uint64_t expire)
{
	memset(t, 0, sizeof(*t));
	t->expire_ns = expire;
	wheel_add(&w, t);
}

TEST_IMPL(wheel_never_fires_early_and_at_most_one_tick_late)
{
	struct pp_timer t;
	uint64_t start = 5000 * MS + 123; /* not on a tick boundary */

	wheel_init(&w, start);
	timer_at(&t, start + 10 * MS);
	for (uint64_t now = start; now < start + 10 * MS; now += MS / 4) {
		wheel_collect(&w, now);
		ASSERT_TRUE(wheel_pop_due(&w) == NULL);
	}
	wheel_collect(&w, start + 11 * MS);
	ASSERT_TRUE(wheel_pop_due(&w) == &t);
	ASSERT_TRUE(!t.active);
	ASSERT_UEQ(w.count, 0);
	return 0;
}

TEST_IMPL(wheel_keeps_far_timers_for_later_rounds)
{
	struct pp_timer far, near;
	uint64_t start = 0;

	wheel_init(&w, start);
	/* 3.5 revolutions away shares a slot with a near timer */
	timer_at(&far, start + (3 * WHEEL_SLOTS + 7) * MS);
	timer_at(&near, start + 7 * MS);
	wheel_collect(&w, start + 7 * MS);
	ASSERT_TRUE(wheel_pop_due(&w) == &near);
	ASSERT_TRUE(wheel_pop_due(&w) == NULL);
	/* a late collect covering many revolutions still does not fire it early */
	wheel_collect(&w, start + (3 * WHEEL_SLOTS + 6) * MS);
	ASSERT_TRUE(wheel_pop_due(&w) == NULL);
	wheel_collect(&w, start + (3 * WHEEL_SLOTS + 7) * MS);
	ASSERT_TRUE(wheel_pop_due(&w) == &far);
	return 0;
}

TEST_IMPL(wheel_stops_a_collected_timer)
{
	struct pp_timer a, b;

	wheel_init(&w, 0);
	timer_at(&a, 2 * MS);
	timer_at(&b, 2 * MS);
	wheel_collect(&w, 3 * MS);
	/* firing a stops b, which is already on the due list */
	ASSERT_TRUE(wheel_pop_due(&w) == &a);
	wheel_del(&w, &b);
	ASSERT_TRUE(wheel_pop_due(&w) == NULL);
	ASSERT_UEQ(w.count, 0);
	wheel_del(&w, &b); /* twice is harmless */
	ASSERT_UEQ(w.count, 0);
	return 0;
}

TEST_IMPL(wheel_zero_delay_fires_on_next_collect)
{
	struct pp_timer t;

	wheel_init(&w, 10 * MS + 1);
	memset(&t, 0, sizeof(t));
	t.expire_ns = 10 * MS + 1;
	wheel_add_now(&w, &t);
	ASSERT_EQ(wheel_next_wait(&w, 10 * MS + 1), 0);
	wheel_collect(&w, 10 * MS + 1);
	ASSERT_TRUE(wheel_pop_due(&w) == &t);
	return 0;
}

TEST_IMPL(wheel_next_wait_points_at_the_next_busy_tick)
{
	struct pp_timer t;

	wheel_init(&w, 0);
	ASSERT_EQ(wheel_next_wait(&w, 0), -1);
	wheel_collect(&w, 0);
	timer_at(&t, 5 * MS + 1); /* rounds up to the 6 ms tick */
	ASSERT_EQ(wheel_next_wait(&w, MS / 2), (int64_t)(6 * MS - MS / 2));
	return 0;
}
