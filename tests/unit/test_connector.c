/* test_connector.c: the connect engine against real loopback sockets. */
#include <errno.h>
#include <sys/resource.h>

#include "core/clock.h"
#include "net/connector.h"
#include "net_util.h"
#include "portprobe/parse.h"
#include "test.h"

struct outcome_box {
	struct pp_conn_outcome out[1024];
	unsigned n;
};

static void on_outcome(void *data, const struct pp_conn_outcome *o)
{
	struct outcome_box *box = data;

	box->out[box->n++] = *o;
}

/* Runs one probe to 127.0.0.1:port to completion. */
static struct pp_conn_outcome probe_once(uint16_t port, uint16_t src_port, double timeout)
{
	struct pp_loop *loop;
	struct connector *c;
	struct conn_req req;
	static struct outcome_box box;
	const char *why;

	memset(&box, 0, sizeof(box));
	memset(&req, 0, sizeof(req));
	pp_loop_new(&loop);
	connector_new(loop, &c);
	pp_parse_ip("127.0.0.1", port, &req.dst, &why);
	req.src_port = src_port;
	req.timeout_ns = clock_sec_to_ns(timeout);
	connector_start(c, &req, on_outcome, &box, NULL);
	pp_loop_run(loop);
	connector_free(c);
	pp_loop_free(loop);
	return box.out[0];
}

TEST_IMPL(connect_open_port_is_open_syn_ack)
{
	uint16_t port;
	int lfd = test_listen(0, &port);
	struct pp_conn_outcome o;

	ASSERT_TRUE(lfd >= 0);
	o = probe_once(port, 0, 2);
	ASSERT_STR_EQ(pp_state_name(o.state), "open");
	ASSERT_STR_EQ(pp_reason_name(o.reason), "syn-ack");
	ASSERT_EQ(o.error, PP_ERROR_NONE);
	ASSERT_EQ(o.sys_errno, 0);
	ASSERT_TRUE(o.rtt_ns > 0 && o.rtt_ns < PP_NSEC_PER_SEC);
	close(lfd);
	return 0;
}

TEST_IMPL(connect_closed_port_is_closed_conn_refused)
{
	struct pp_conn_outcome o = probe_once(test_closed_port(), 0, 2);

	ASSERT_STR_EQ(pp_state_name(o.state), "closed");
	ASSERT_STR_EQ(pp_reason_name(o.reason), "conn-refused");
	ASSERT_STR_EQ(pp_error_message(o.error), "Connection refused");
	ASSERT_EQ(o.sys_errno, ECONNREFUSED);
	ASSERT_EQ(o.icmp_origin, 0);
	return 0;
}

TEST_IMPL(connect_self_connect_is_never_open)
{
	/* source port = destination port on loopback with no listener: TCP
	 * simultaneous open connects the socket to itself, every time */
	uint16_t port = test_closed_port();
	struct pp_conn_outcome o = probe_once(port, port, 2);

	ASSERT_STR_EQ(pp_state_name(o.state), "closed");
	ASSERT_STR_EQ(pp_error_message(o.error), "Connection refused");
	ASSERT_EQ(o.self_connects, 8);
	return 0;
}

TEST_IMPL(connect_fd_exhaustion_is_local_resource_not_a_state)
{
	struct pp_loop *loop;
	struct connector *c;
	struct conn_req req;
	static struct outcome_box box;
	struct rlimit old, low;
	const char *why;
	uint16_t port;
	int lfd = test_listen(0, &port);
	uint64_t t0;

	memset(&req, 0, sizeof(req));
	pp_loop_new(&loop);
	connector_new(loop, &c);
	pp_parse_ip("127.0.0.1", port, &req.dst, &why);
	req.timeout_ns = clock_sec_to_ns(0.3);
	getrlimit(RLIMIT_NOFILE, &old);
	low = old;
	low.rlim_cur = (rlim_t)lfd + 2; /* room for the epoll fd only */
	ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
	t0 = clock_now_ns();
	connector_start(c, &req, on_outcome, &box, NULL);
	pp_loop_run(loop);
	setrlimit(RLIMIT_NOFILE, &old);
	ASSERT_EQ(box.n, 1);
	ASSERT_EQ(box.out[0].state, PP_STATE_UNKNOWN);
	ASSERT_STR_EQ(pp_error_message(box.out[0].error), "Local resource exhausted");
	ASSERT_EQ(box.out[0].sys_errno, EMFILE);
	ASSERT_TRUE(box.out[0].local_retries >= 3);
	ASSERT_TRUE(clock_now_ns() - t0 >= clock_sec_to_ns(0.3));
	connector_free(c);
	pp_loop_free(loop);
	close(lfd);
	return 0;
}

TEST_IMPL(connect_source_port_in_use_is_port_in_use)
{
	uint16_t held;
	int lfd = test_listen(0, &held);
	struct pp_conn_outcome o = probe_once(test_closed_port(), held, 2);

	ASSERT_STR_EQ(pp_error_message(o.error), "Port in use");
	ASSERT_STR_EQ(o.syscall, "bind");
	ASSERT_EQ(o.sys_errno, EADDRINUSE);
	ASSERT_EQ(o.state, PP_STATE_UNKNOWN);
	close(lfd);
	return 0;
}

TEST_IMPL(connect_many_in_flight_on_one_loop)
{
	struct pp_loop *loop;
	struct connector *c;
	static struct outcome_box box;
	uint16_t open_port, closed_port = test_closed_port();
	int lfd = test_listen(0, &open_port);
	unsigned open = 0, closed = 0;
	const char *why;

	pp_loop_new(&loop);
	connector_new(loop, &c);
	for (int i = 0; i < 1000; i++) {
		struct conn_req req;

		memset(&req, 0, sizeof(req));
		pp_parse_ip("127.0.0.1", i % 2 ? closed_port : open_port, &req.dst, &why);
		req.timeout_ns = clock_sec_to_ns(5);
		ASSERT_EQ(connector_start(c, &req, on_outcome, &box, NULL), 0);
	}
	ASSERT_EQ(connector_in_flight(c), 1000);
	pp_loop_run(loop);
	ASSERT_EQ(box.n, 1000);
	ASSERT_EQ(connector_in_flight(c), 0);
	for (unsigned i = 0; i < box.n; i++) {
		open += box.out[i].state == PP_STATE_OPEN;
		closed += box.out[i].state == PP_STATE_CLOSED;
	}
	ASSERT_EQ(open, 500);
	ASSERT_EQ(closed, 500);
	connector_free(c);
	pp_loop_free(loop);
	close(lfd);
	return 0;
}

/* The sockets in this process bound to 127.0.0.1 that are not listening:
 * the connector's pool after a run. Their ports go to ports[]. */
static unsigned pooled_ports(uint16_t *ports, unsigned max)
{
	unsigned n = 0;

	for (int fd = 3; fd < 1024 && n < max; fd++) {
		struct sockaddr_in a;
		socklen_t len = sizeof(a);
		int listening = 0, type = 0;
		socklen_t llen = sizeof(listening), tlen = sizeof(type);

		if (getsockname(fd, (struct sockaddr *)&a, &len) == -1 || a.sin_family != AF_INET ||
		    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) == -1 ||
		    type != SOCK_STREAM ||
		    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &llen) == -1 || listening)
			continue;
		if (a.sin_addr.s_addr == htonl(INADDR_LOOPBACK) && a.sin_port)
			ports[n++] = ntohs(a.sin_port);
	}
	return n;
}

/* Runs one wave of reuse probes to 127.0.0.1 ports[0..n), all at once. */
static void reuse_wave(struct connector *c, struct pp_loop *loop, struct outcome_box *box,
		       const uint16_t *ports, unsigned n)
{
	const char *why;

	box->n = 0;
	for (unsigned i = 0; i < n; i++) {
		struct conn_req req;

		memset(&req, 0, sizeof(req));
		pp_parse_ip("127.0.0.1", ports[i], &req.dst, &why);
		req.timeout_ns = clock_sec_to_ns(5);
		req.reuse = true;
		connector_start(c, &req, on_outcome, box, NULL);
	}
	pp_loop_run(loop);
}

TEST_IMPL(connect_reuse_pools_refused_sockets_and_never_self_connects)
{
	struct pp_loop *loop;
	struct connector *c;
	static struct outcome_box box;
	uint16_t open_port, closed_port = test_closed_port(), ports[200], bound[400];
	int lfd = test_listen(0, &open_port);
	unsigned npool, open = 0;

	pp_loop_new(&loop);
	connector_new(loop, &c);
	/* wave 1: 190 refused, 10 open */
	for (unsigned i = 0; i < 200; i++)
		ports[i] = i % 20 ? closed_port : open_port;
	reuse_wave(c, loop, &box, ports, 200);
	ASSERT_EQ(box.n, 200);
	for (unsigned i = 0; i < box.n; i++) {
		if (box.out[i].state == PP_STATE_OPEN) {
			open++;
			continue;
		}
		ASSERT_STR_EQ(pp_state_name(box.out[i].state), "closed");
		ASSERT_STR_EQ(pp_reason_name(box.out[i].reason), "conn-refused");
		ASSERT_EQ(box.out[i].sys_errno, ECONNREFUSED);
	}
	ASSERT_EQ(open, 10);
	/* refused sockets stay, bound to their own port; connected ones do not */
	npool = pooled_ports(bound, 400);
	ASSERT_TRUE(npool >= 1 && npool <= 190);
	for (unsigned i = 0; i < npool; i++)
		ASSERT_TRUE(bound[i] != closed_port && bound[i] != open_port);
	/* wave 2: probe exactly the pooled sockets' own ports, so each idle
	 * socket is the wrong one for one probe: never a self-connect, always
	 * refused, and no new socket beyond one per probe in flight */
	reuse_wave(c, loop, &box, bound, npool);
	ASSERT_EQ(box.n, npool);
	for (unsigned i = 0; i < box.n; i++) {
		ASSERT_STR_EQ(pp_state_name(box.out[i].state), "closed");
		ASSERT_EQ(box.out[i].self_connects, 0);
		ASSERT_EQ(box.out[i].self_connected, false);
	}
	ASSERT_TRUE(pooled_ports(bound, 400) <= npool + 1);
	connector_free(c);
	pp_loop_free(loop);
	/* the pool is closed with the connector */
	ASSERT_EQ(pooled_ports(bound, 400), 0);

	/* one pooled socket, bound to P; a probe to 127.0.0.1:P must take a
	 * new socket, or it would connect to itself */
	pp_loop_new(&loop);
	connector_new(loop, &c);
	reuse_wave(c, loop, &box, &closed_port, 1);
	ASSERT_EQ(pooled_ports(bound, 400), 1);
	reuse_wave(c, loop, &box, bound, 1);
	ASSERT_EQ(box.n, 1);
	ASSERT_STR_EQ(pp_state_name(box.out[0].state), "closed");
	ASSERT_STR_EQ(pp_reason_name(box.out[0].reason), "conn-refused");
	ASSERT_EQ(box.out[0].self_connects, 0);
	ASSERT_EQ(pooled_ports(bound, 400), 2);
	connector_free(c);
	pp_loop_free(loop);
	close(lfd);
	return 0;
}

struct keep_box {
	struct connector *c;
	int fd;
	enum pp_state state;
};

static void on_keep(void *data, const struct pp_conn_outcome *o)
{
	struct keep_box *b = data;

	b->state = o->state;
	b->fd = connector_take_fd(b->c);
}

TEST_IMPL(connect_keep_hands_the_connected_fd_over)
{
	struct pp_loop *loop;
	struct keep_box box = {.fd = -1};
	struct conn_req req;
	uint16_t port;
	int lfd = test_listen(0, &port), afd;
	const char *why;
	char got[8] = {0};

	ASSERT_TRUE(lfd >= 0);
	pp_loop_new(&loop);
	connector_new(loop, &box.c);
	memset(&req, 0, sizeof(req));
	pp_parse_ip("127.0.0.1", port, &req.dst, &why);
	req.timeout_ns = clock_sec_to_ns(2);
	req.keep = true;
	ASSERT_EQ(connector_start(box.c, &req, on_keep, &box, NULL), 0);
	/* a taken fd no longer keeps the loop running: it returns after the callback */
	ASSERT_EQ(pp_loop_run(loop), 0);
	ASSERT_STR_EQ(pp_state_name(box.state), "open");
	ASSERT_TRUE(box.fd >= 0);
	ASSERT_EQ(write(box.fd, "hi", 2), 2);
	afd = accept(lfd, NULL, NULL);
	ASSERT_TRUE(afd >= 0);
	ASSERT_EQ(read(afd, got, sizeof(got)), 2);
	ASSERT_STR_EQ(got, "hi");
	pp_loop_close_fd(loop, box.fd);
	close(afd);
	connector_free(box.c);
	pp_loop_free(loop);
	close(lfd);
	return 0;
}
