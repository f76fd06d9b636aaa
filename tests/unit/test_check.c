/* test_check.c: the check engine end to end on loopback. */
#include <errno.h>

#include "core/clock.h"
#include "net_util.h"
#include "portprobe/check.h"
#include "portprobe/parse.h"
#include "test.h"

struct results {
	struct pp_check_result r[8];
	unsigned n;
	unsigned done;
	struct pp_loop *loop;
};

static void on_result(void *data, const struct pp_check_result *r)
{
	struct results *rs = data;

	rs->r[rs->n++] = *r;
}

static void on_done(void *data)
{
	struct results *rs = data;

	rs->done++;
}

/* Runs a check to completion; returns the wall time in seconds. */
static double run_check(struct pp_check_opts *opts, struct results *rs)
{
	struct pp_check *check;
	uint64_t t0 = clock_now_ns();

	memset(rs, 0, sizeof(*rs));
	pp_loop_new(&rs->loop);
	if (pp_check_start(rs->loop, opts, on_result, on_done, rs, &check) < 0)
		return -1;
	pp_loop_run(rs->loop);
	pp_check_free(check);
	pp_loop_free(rs->loop);
	return (double)(clock_now_ns() - t0) / 1e9;
}

TEST_IMPL(check_open_port_succeeds_on_first_attempt)
{
	struct pp_check_opts opts;
	struct results rs;
	char ip[PP_ADDRSTRLEN];
	uint16_t port;
	int lfd = test_listen(0, &port);

	pp_check_opts_init(&opts);
	opts.host = "127.0.0.1";
	opts.port = port;
	opts.timeout = 2;
	opts.attempts = 3;
	ASSERT_TRUE(run_check(&opts, &rs) >= 0);
	ASSERT_EQ(rs.n, 1);
	ASSERT_EQ(rs.done, 1);
	ASSERT_TRUE(rs.r[0].connected);
	ASSERT_EQ(rs.r[0].error, PP_ERROR_NONE);
	ASSERT_EQ(rs.r[0].attempts, 1);
	ASSERT_STR_EQ(pp_addr_str(&rs.r[0].ip, ip, sizeof(ip)), "127.0.0.1");
	ASSERT_EQ(pp_addr_port(&rs.r[0].ip), port);
	ASSERT_TRUE(rs.r[0].response_time > 0 && rs.r[0].response_time < 1);
	ASSERT_DBL_EQ(rs.r[0].dns_time, 0);
	close(lfd);
	return 0;
}

TEST_IMPL(check_refused_makes_every_attempt_with_delay)
{
	struct pp_check_opts opts;
	struct results rs;
	double wall;

	pp_check_opts_init(&opts);
	opts.host = "127.0.0.1";
	opts.port = test_closed_port();
	opts.timeout = 2;
	opts.attempts = 3;
	opts.retry_delay = 0.1;
	wall = run_check(&opts, &rs);
	ASSERT_EQ(rs.n, 1);
	ASSERT_TRUE(!rs.r[0].connected);
	ASSERT_STR_EQ(pp_error_message(rs.r[0].error), "Connection refused");
	ASSERT_STR_EQ(pp_state_name(rs.r[0].out.state), "closed");
	ASSERT_EQ(rs.r[0].attempts, 3);
	/* two delays separate three attempts; the time reported is the attempts' */
	ASSERT_TRUE(wall >= 0.2 && wall < 1.5);
	ASSERT_TRUE(rs.r[0].response_time < 0.2);
	return 0;
}

struct late_listener {
	struct pp_timer timer;
	uint16_t port;
	int fd;
};

static void open_listener(struct pp_loop *loop, struct pp_timer *t, void *data)
{
	struct late_listener *l = data;

	l->fd = test_listen(l->port, &l->port);
}

TEST_IMPL(check_stops_at_first_success)
{
	struct pp_check_opts opts;
	struct results rs;
	struct late_listener late = {.fd = -1};
	struct pp_check *check;

	/* attempts at 0, 0.3, 0.6 s; the port opens at 0.45 s: the third connects */
	late.port = test_closed_port();
	pp_check_opts_init(&opts);
	opts.host = "127.0.0.1";
	opts.port = late.port;
	opts.timeout = 1;
	opts.attempts = 6;
	opts.retry_delay = 0.3;
	memset(&rs, 0, sizeof(rs));
	pp_loop_new(&rs.loop);
	pp_timer_init(&late.timer, open_listener, &late);
	pp_timer_start(rs.loop, &late.timer, clock_sec_to_ns(0.45));
	ASSERT_EQ(pp_check_start(rs.loop, &opts, on_result, on_done, &rs, &check), 0);
	pp_loop_run(rs.loop);
	ASSERT_TRUE(late.fd >= 0);
	ASSERT_EQ(rs.n, 1);
	ASSERT_TRUE(rs.r[0].connected);
	ASSERT_EQ(rs.r[0].attempts, 3);
	pp_check_free(check);
	pp_loop_free(rs.loop);
	close(late.fd);
	return 0;
}

TEST_IMPL(check_resolves_localhost_from_the_hosts_file)
{
	struct pp_check_opts opts;
	struct results rs;
	char ip[PP_ADDRSTRLEN];
	uint16_t port;
	int lfd = test_listen(0, &port);

	pp_check_opts_init(&opts);
	opts.host = "localhost";
	opts.port = port;
	opts.timeout = 3;
	opts.family = AF_INET;
	ASSERT_TRUE(run_check(&opts, &rs) >= 0);
	ASSERT_EQ(rs.n, 1);
	ASSERT_TRUE(rs.r[0].connected);
	ASSERT_STR_EQ(pp_addr_str(&rs.r[0].ip, ip, sizeof(ip)), "127.0.0.1");
	ASSERT_TRUE(rs.r[0].dns_time > 0);
	close(lfd);
	return 0;
}

TEST_IMPL(check_unknown_literal_family_is_einval)
{
	struct pp_check_opts opts;
	struct pp_loop *loop;
	struct pp_check *check = NULL;

	pp_check_opts_init(&opts);
	opts.host = "::1";
	opts.port = 80;
	opts.family = AF_INET;
	pp_loop_new(&loop);
	ASSERT_EQ(pp_check_start(loop, &opts, on_result, on_done, NULL, &check), -EINVAL);
	ASSERT_TRUE(check == NULL);
	opts.family = AF_UNSPEC;
	opts.port = 0;
	ASSERT_EQ(pp_check_start(loop, &opts, on_result, on_done, NULL, &check), -EINVAL);
	pp_loop_free(loop);
	return 0;
}

TEST_IMPL(check_silent_dns_server_does_not_keep_the_loop_alive)
{
	/* a UDP socket that never answers is the DNS server; once the lookup's
	 * deadline has passed, c-ares' own retries must not hold the loop */
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	struct pp_check_opts opts;
	struct results rs;
	char servers[64];
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	double wall;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ASSERT_EQ(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	getsockname(fd, (struct sockaddr *)&a, &len);
	snprintf(servers, sizeof(servers), "127.0.0.1:%u", ntohs(a.sin_port));
	pp_check_opts_init(&opts);
	opts.host = "silent.test";
	opts.port = 80;
	opts.timeout = 0.3;
	opts.dns_servers = servers;
	wall = run_check(&opts, &rs);
	ASSERT_EQ(rs.n, 1);
	ASSERT_EQ(rs.done, 1);
	ASSERT_STR_EQ(pp_error_message(rs.r[0].error), "Temporary DNS failure");
	ASSERT_STR_EQ(rs.r[0].detail, "no answer from the DNS server within 0.3 s");
	ASSERT_TRUE(wall >= 0.3 && wall < 0.8);
	close(fd);
	return 0;
}

struct free_ctx {
	struct pp_check *check;
	unsigned results;
	unsigned done;
};

static void free_on_result(void *data, const struct pp_check_result *r)
{
	struct free_ctx *ctx = data;

	ctx->results++;
	pp_check_free(ctx->check);
}

static void count_done(void *data)
{
	((struct free_ctx *)data)->done++;
}

TEST_IMPL(check_can_be_freed_from_its_result_callback)
{
	struct pp_check_opts opts;
	struct free_ctx ctx = {NULL, 0, 0};
	struct pp_loop *loop;

	pp_check_opts_init(&opts);
	opts.host = "127.0.0.1";
	opts.port = test_closed_port();
	pp_loop_new(&loop);
	ASSERT_EQ(pp_check_start(loop, &opts, free_on_result, count_done, &ctx, &ctx.check), 0);
	ASSERT_EQ(pp_loop_run(loop), 0);
	ASSERT_EQ(ctx.results, 1);
	ASSERT_EQ(ctx.done, 0); /* freed: no done callback */
	pp_loop_free(loop);
	return 0;
}
