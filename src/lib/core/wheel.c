/* wheel.c: a hashed timing wheel with rounds (masscan, Varghese & Lauck).
 *
 * A timer goes into slot (tick % SLOTS), where tick is its deadline rounded
 * up to the millisecond, so adding and removing are O(1) whatever the
 * duration. Collecting walks the slots of the ticks that have passed and
 * takes the timers whose tick has come; a timer more than one revolution
 * away simply stays in its slot for another round. Rounding the deadline up
 * means a timer never fires before its deadline and at most one tick after.
 * Collected timers sit on a due list until fired, so a callback may stop any
 * other timer, due or not. A zero-delay timer skips the slots and waits on
 * a ready list for the next collect, so deferring work costs no tick. No heap is needed: rounds give every duration the
 * same O(1) cost, and a scan runs thousands of equal timeouts. */
#include "core/wheel.h"

static void list_init(struct pp_timer *head)
{
	head->next = head;
	head->prev = head;
}

static void list_append(struct pp_timer *head, struct pp_timer *t)
{
	t->prev = head->prev;
	t->next = head;
	head->prev->next = t;
	head->prev = t;
}

static void list_unlink(struct pp_timer *t)
{
	t->prev->next = t->next;
	t->next->prev = t->prev;
	t->next = t->prev = NULL;
}

static uint64_t tick_of(uint64_t ns)
{
	return (ns + WHEEL_TICK_NS - 1) / WHEEL_TICK_NS;
}

void wheel_init(struct wheel *w, uint64_t now_ns)
{
	for (size_t i = 0; i < WHEEL_SLOTS; i++)
		list_init(&w->slots[i]);
	list_init(&w->due);
	list_init(&w->ready);
	w->next_tick = now_ns / WHEEL_TICK_NS;
	w->count = 0;
}

void wheel_add(struct wheel *w, struct pp_timer *t)
{
	uint64_t tick = tick_of(t->expire_ns);

	if (tick < w->next_tick)
		tick = w->next_tick;
	list_append(&w->slots[tick & (WHEEL_SLOTS - 1)], t);
	t->active = true;
	w->count++;
}

void wheel_add_now(struct wheel *w, struct pp_timer *t)
{
	list_append(&w->ready, t);
	t->active = true;
	w->count++;
}

void wheel_del(struct wheel *w, struct pp_timer *t)
{
	if (!t->active)
		return;
	list_unlink(t);
	t->active = false;
	w->count--;
}

void wheel_collect(struct wheel *w, uint64_t now_ns)
{
	uint64_t now_tick = now_ns / WHEEL_TICK_NS;
	uint64_t n, tick;

	while (w->ready.next != &w->ready) {
		struct pp_timer *t = w->ready.next;

		list_unlink(t);
		list_append(&w->due, t);
	}
	if (now_tick < w->next_tick)
		return;
	n = now_tick - w->next_tick + 1;
	if (n > WHEEL_SLOTS)
		n = WHEEL_SLOTS;
	for (tick = now_tick + 1 - n; tick <= now_tick; tick++) {
		struct pp_timer *head = &w->slots[tick & (WHEEL_SLOTS - 1)];
		struct pp_timer *t = head->next;

		while (t != head) {
			struct pp_timer *next = t->next;

			if (tick_of(t->expire_ns) <= now_tick) {
				list_unlink(t);
				list_append(&w->due, t);
			}
			t = next;
		}
	}
	w->next_tick = now_tick + 1;
}

struct pp_timer *wheel_pop_due(struct wheel *w)
{
	struct pp_timer *t = w->due.next;

	if (t == &w->due)
		return NULL;
	list_unlink(t);
	t->active = false;
	w->count--;
	return t;
}

int64_t wheel_next_wait(const struct wheel *w, uint64_t now_ns)
{
	uint64_t now_tick = now_ns / WHEEL_TICK_NS;

	if (w->count == 0)
		return -1;
	if (w->due.next != &w->due || w->ready.next != &w->ready || now_tick >= w->next_tick)
		return 0;
	for (uint64_t tick = w->next_tick; tick < w->next_tick + WHEEL_SLOTS; tick++) {
		const struct pp_timer *head = &w->slots[tick & (WHEEL_SLOTS - 1)];

		if (head->next != head)
			return (int64_t)(tick * WHEEL_TICK_NS - now_ns);
	}
	return (int64_t)(WHEEL_SLOTS * WHEEL_TICK_NS);
}
