/* test_loop.c: the epoll loop with real fds, timers and signals. */
#include <signal.h>
#include <unistd.h>

#include "core/clock.h"
#include "portprobe/loop.h"
#include "test.h"

static int order[8], norder;

static void record(struct pp_loop *loop, struct pp_timer *t, void *data)
{
	order[norder++] = (int)(intptr_t)data;
}

TEST_IMPL(loop_runs_timers_in_deadline_order)
{
	struct pp_loop *loop;
	struct pp_timer a, b, c;
	uint64_t t0 = clock_now_ns(), elapsed;

	ASSERT_EQ(pp_loop_new(&loop), 0);
	pp_timer_init(&a, record, (void *)1);
	pp_timer_init(&b, record, (void *)2);
	pp_timer_init(&c, record, (void *)3);
	pp_timer_start(loop, &c, 30 * PP_NSEC_PER_MSEC);
	pp_timer_start(loop, &a, 10 * PP_NSEC_PER_MSEC);
	pp_timer_start(loop, &b, 20 * PP_NSEC_PER_MSEC);
	ASSERT_EQ(pp_loop_run(loop), 0);
	elapsed = clock_now_ns() - t0;
	ASSERT_EQ(norder, 3);
	ASSERT_EQ(order[0], 1);
	ASSERT_EQ(order[1], 2);
	ASSERT_EQ(order[2], 3);
	ASSERT_TRUE(elapsed >= 30 * PP_NSEC_PER_MSEC);
	pp_loop_free(loop);
	return 0;
}

struct pair_ctx {
	int fds[2][2]; /* two pipes */
	int calls;
};

static void on_readable(struct pp_loop *loop, int fd, uint32_t events, void *data)
{
	struct pair_ctx *ctx = data;

	ctx->calls++;
	/* close both pipes' read ends: the other pipe's pending event is stale */
	for (int i = 0; i < 2; i++) {
		pp_loop_del_fd(loop, ctx->fds[i][0]);
		close(ctx->fds[i][0]);
	}
}

TEST_IMPL(loop_drops_events_of_an_fd_closed_in_the_same_iteration)
{
	struct pp_loop *loop;
	struct pair_ctx ctx = {.calls = 0};

	ASSERT_EQ(pp_loop_new(&loop), 0);
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(pipe(ctx.fds[i]), 0);
		ASSERT_EQ(pp_loop_add_fd(loop, ctx.fds[i][0], EPOLLIN, on_readable, &ctx), 0);
		ASSERT_EQ(write(ctx.fds[i][1], "x", 1), 1);
	}
	ASSERT_EQ(pp_loop_run(loop), 0);
	ASSERT_EQ(ctx.calls, 1);
	close(ctx.fds[0][1]);
	close(ctx.fds[1][1]);
	pp_loop_free(loop);
	return 0;
}

static int got_signal;

static void on_sig(struct pp_loop *loop, int signo, void *data)
{
	got_signal = signo;
	pp_loop_stop(loop);
}

static void send_signal(struct pp_loop *loop, struct pp_timer *t, void *data)
{
	kill(getpid(), SIGUSR1);
	pp_timer_start(loop, t, 10 * PP_NSEC_PER_SEC); /* keeps the loop alive */
}

TEST_IMPL(loop_delivers_signals_through_signalfd)
{
	struct pp_loop *loop;
	struct pp_timer t;

	ASSERT_EQ(pp_loop_new(&loop), 0);
	ASSERT_EQ(pp_loop_add_signal(loop, SIGUSR1, on_sig, NULL), 0);
	pp_timer_init(&t, send_signal, NULL);
	pp_timer_start(loop, &t, 0);
	ASSERT_EQ(pp_loop_run(loop), 0);
	ASSERT_EQ(got_signal, SIGUSR1);
	pp_timer_stop(loop, &t);
	pp_loop_free(loop);
	return 0;
}

TEST_IMPL(loop_returns_when_no_work_is_left)
{
	struct pp_loop *loop;

	ASSERT_EQ(pp_loop_new(&loop), 0);
	ASSERT_EQ(pp_loop_add_signal(loop, SIGUSR2, on_sig, NULL), 0);
	ASSERT_EQ(pp_loop_run(loop), 0); /* the signalfd alone does not keep it running */
	pp_loop_free(loop);
	return 0;
}
