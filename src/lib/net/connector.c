/* connector.c: the non-blocking connect, done right (OpenBSD nc's
 * timeout_connect, made event-driven), with the evidence kept.
 *
 * A probe: socket(SOCK_NONBLOCK) with IP_RECVERR so that an ICMP error's
 * type, code and sender are queued for us; bind when a source is given
 * (IP_BIND_ADDRESS_NO_PORT for an address without a port, so the port is
 * chosen per destination); connect(); EPOLLOUT; SO_ERROR first (reading the
 * error queue clears it), then the error queue. SO_ERROR also returns the
 * soft error of an ICMP message that arrived while connect() held the socket
 * lock, so such an answer is not left waiting for the SYN retransmission
 * (where nc, bash and nmap, which wait for POLLOUT, lose a second). A
 * connection to itself (a loopback connect whose ephemeral port equals the
 * destination port) is never "open": the probe starts over with a fresh
 * socket. Failures of this
 * host's resources (EMFILE, ENOBUFS, no ephemeral port) back off and retry
 * until the deadline, and only then become "Local resource exhausted".
 * A connected socket is closed with a RST (SO_LINGER 0) so that probes leave
 * no TIME_WAIT behind. Outcomes are always delivered from the loop, never
 * from inside connector_start(). */
#include "net/connector.h"

#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "net/classify.h"
#include "portprobe/parse.h"

#define SELF_CONNECT_MAX 8
#define BACKOFF_MIN_NS   (1 * PP_NSEC_PER_MSEC)
#define BACKOFF_MAX_NS   (100 * PP_NSEC_PER_MSEC)

enum probe_phase {
	PHASE_CONNECTING, /* timer = deadline */
	PHASE_BACKOFF,    /* timer = retry after a local failure (or the deadline) */
	PHASE_DELIVER,    /* timer = 0: deliver the outcome from the loop */
};

struct conn_probe {
	struct conn_probe *next, *prev; /* in-flight list */
	struct connector *owner;
	struct conn_req req;
	conn_done_cb *cb;
	void *data;
	int fd;         /* -1 when none */
	bool connected; /* fd holds an established connection (close it with RST) */
	enum probe_phase phase;
	struct pp_timer timer;
	uint64_t deadline_ns; /* monotonic */
	uint64_t t0_ns;       /* when connect() was called */
	uint64_t backoff_ns;  /* next local-failure backoff */
	int icmp_errno;       /* errno the first queued ICMP error stands for */
	int last_local_errno; /* for a deadline hit during backoff */
	const char *last_local_call;
	struct pp_conn_outcome out; /* filled as evidence arrives */
};

struct connector {
	struct pp_loop *loop;
	struct conn_probe active; /* sentinel of the in-flight list */
	struct conn_probe *free;  /* reusable probes (singly linked by next) */
	unsigned in_flight;
};

static void probe_begin(struct conn_probe *p);

int connector_new(struct pp_loop *loop, struct connector **ret)
{
	struct connector *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->loop = loop;
	c->active.next = c->active.prev = &c->active;
	*ret = c;
	return 0;
}

/* Closes the probe's socket; with rst the peer gets a reset, not a FIN. */
static void probe_close(struct conn_probe *p, bool rst)
{
	int saved = errno;

	if (p->fd < 0)
		return;
	if (rst) {
		struct linger lg = {.l_onoff = 1, .l_linger = 0};

		setsockopt(p->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	pp_loop_close_fd(p->owner->loop, p->fd);
	p->fd = -1;
	errno = saved;
}

/* Unlinks p from the in-flight list and puts it on the free list. */
static void probe_release(struct conn_probe *p)
{
	struct connector *c = p->owner;

	probe_close(p, p->connected); /* a failed connect has nothing to reset */
	pp_timer_stop(c->loop, &p->timer);
	p->prev->next = p->next;
	p->next->prev = p->prev;
	p->next = c->free;
	p->prev = NULL;
	c->free = p;
	c->in_flight--;
}

void connector_free(struct connector *c)
{
	struct conn_probe *p;

	if (!c)
		return;
	while (c->active.next != &c->active)
		probe_release(c->active.next);
	while ((p = c->free)) {
		c->free = p->next;
		free(p);
	}
	free(c);
}

void connector_cancel(struct connector *c, struct conn_probe *p)
{
	if (p && p->prev)
		probe_release(p);
}

unsigned connector_in_flight(const struct connector *c)
{
	return c->in_flight;
}

/* Classifies err, then delivers the outcome now (from the loop). */
static void probe_finish(struct conn_probe *p, int err, const char *syscall)
{
	struct pp_conn_outcome out;
	conn_done_cb *cb = p->cb;
	void *data = p->data;

	p->out.rtt_ns = clock_now_ns() - p->t0_ns;
	classify_outcome(&p->out, err, syscall, p->req.src_port != 0);
	out = p->out;
	probe_release(p);
	cb(data, &out);
}

/* Records err and delivers it on the next loop iteration. */
static void probe_finish_later(struct conn_probe *p, int err, const char *syscall)
{
	probe_close(p, false);
	p->out.rtt_ns = clock_now_ns() - p->t0_ns;
	classify_outcome(&p->out, err, syscall, p->req.src_port != 0);
	p->phase = PHASE_DELIVER;
	pp_timer_start(p->owner->loop, &p->timer, 0);
}

/* A local resource failure: retry after a growing pause, or give up at the deadline. */
static void probe_backoff(struct conn_probe *p, int err, const char *syscall)
{
	uint64_t now = clock_now_ns(), delay = p->backoff_ns;

	probe_close(p, false);
	p->last_local_errno = err;
	p->last_local_call = syscall;
	p->out.local_retries++;
	p->backoff_ns = p->backoff_ns * 2 > BACKOFF_MAX_NS ? BACKOFF_MAX_NS : p->backoff_ns * 2;
	if (now >= p->deadline_ns) {
		probe_finish_later(p, err, syscall);
		return;
	}
	if (now + delay > p->deadline_ns)
		delay = p->deadline_ns - now;
	p->phase = PHASE_BACKOFF;
	pp_timer_start(p->owner->loop, &p->timer, delay);
}

/* Reads the ICMP evidence (type, code, sender) from the socket's error queue. */
static void probe_read_errqueue(struct conn_probe *p)
{
	for (int i = 0; i < 4; i++) {
		char cbuf[512], dbuf[64];
		struct iovec iov = {.iov_base = dbuf, .iov_len = sizeof(dbuf)};
		struct msghdr msg = {.msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = cbuf,
				     .msg_controllen = sizeof(cbuf)};
		struct cmsghdr *cm;

		if (recvmsg(p->fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) == -1)
			return;
		for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			const struct sock_extended_err *ee;
			const struct sockaddr *off;

			if (!((cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_RECVERR) ||
			      (cm->cmsg_level == SOL_IPV6 && cm->cmsg_type == IPV6_RECVERR)))
				continue;
			ee = (const struct sock_extended_err *)CMSG_DATA(cm);
			if (ee->ee_origin != SO_EE_ORIGIN_ICMP &&
			    ee->ee_origin != SO_EE_ORIGIN_ICMP6)
				continue;
			if (p->out.icmp_origin)
				continue; /* keep the first */
			p->icmp_errno = (int)ee->ee_errno;
			p->out.icmp_origin = ee->ee_origin == SO_EE_ORIGIN_ICMP ? 4 : 6;
			p->out.icmp_type = ee->ee_type;
			p->out.icmp_code = ee->ee_code;
			off = SO_EE_OFFENDER(ee);
			if (off->sa_family == AF_INET) {
				memcpy(&p->out.reason_addr.sa, off, sizeof(struct sockaddr_in));
				p->out.reason_addr.len = sizeof(struct sockaddr_in);
			} else if (off->sa_family == AF_INET6) {
				memcpy(&p->out.reason_addr.sa, off, sizeof(struct sockaddr_in6));
				p->out.reason_addr.len = sizeof(struct sockaddr_in6);
			}
		}
	}
}

/* True when the socket is connected to itself (source = destination). */
static bool probe_is_self_connect(const struct conn_probe *p)
{
	struct pp_addr local = {.len = sizeof(local.sa)}, peer = {.len = sizeof(peer.sa)};

	if (getsockname(p->fd, (struct sockaddr *)&local.sa, &local.len) == -1 ||
	    getpeername(p->fd, (struct sockaddr *)&peer.sa, &peer.len) == -1)
		return false;
	return pp_addr_equal(&local, &peer);
}

/* The connect completed (or failed): decide what it was. */
static void probe_on_event(struct pp_loop *loop, int fd, uint32_t events, void *data)
{
	struct conn_probe *p = data;
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err) {
		probe_read_errqueue(p);
		probe_finish(p, err, "connect");
		return;
	}
	if (!(events & EPOLLOUT)) {
		/* EPOLLERR without a verdict: the error queue holds an entry
		 * that SO_ERROR did not report (SO_ERROR already hands back the
		 * "soft" error of an ICMP that arrived while connect() held the
		 * socket). Drain it so level-triggered EPOLLERR stops firing, and
		 * conclude if it was an ICMP error. */
		probe_read_errqueue(p);
		if (p->icmp_errno)
			probe_finish(p, p->icmp_errno, "connect");
		return;
	}
	if (probe_is_self_connect(p)) {
		probe_close(p, true);
		if (++p->out.self_connects < SELF_CONNECT_MAX) {
			probe_begin(p);
			return;
		}
		/* nothing listens, or the kernel would not have picked this port */
		p->out.self_connected = true;
		probe_finish(p, ECONNREFUSED, "connect");
		return;
	}
	p->connected = true;
	probe_finish(p, 0, "connect");
}

/* Timer: the deadline, the end of a backoff, or a deferred delivery. */
static void probe_on_timer(struct pp_loop *loop, struct pp_timer *t, void *data)
{
	struct conn_probe *p = data;

	switch (p->phase) {
	case PHASE_DELIVER: {
		struct pp_conn_outcome out = p->out;
		conn_done_cb *cb = p->cb;
		void *cbdata = p->data;

		probe_release(p);
		cb(cbdata, &out);
		return;
	}
	case PHASE_BACKOFF:
		if (clock_now_ns() >= p->deadline_ns) {
			probe_finish(p, p->last_local_errno, p->last_local_call);
			return;
		}
		probe_begin(p);
		return;
	case PHASE_CONNECTING:
		probe_finish(p, ETIMEDOUT, "connect");
		return;
	}
}

/* Opens, binds and connects a fresh socket for p. */
static void probe_begin(struct conn_probe *p)
{
	struct connector *c = p->owner;
	int family = p->req.dst.sa.ss_family, one = 1, fd, r;
	const char *call = "socket";

	p->t0_ns = clock_now_ns();
	p->out.icmp_origin = 0;
	p->icmp_errno = 0;
	p->out.reason_addr.len = 0;
	p->out.immediate = false;
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		goto fail;
	p->fd = fd;
	if (family == AF_INET)
		setsockopt(fd, SOL_IP, IP_RECVERR, &one, sizeof(one));
	else
		setsockopt(fd, SOL_IPV6, IPV6_RECVERR, &one, sizeof(one));
	if (p->req.src.len || p->req.src_port) {
		struct pp_addr src = p->req.src;

		if (!src.len) {
			memset(&src, 0, sizeof(src));
			src.sa.ss_family = (sa_family_t)family;
			src.len = family == AF_INET ? sizeof(struct sockaddr_in)
						    : sizeof(struct sockaddr_in6);
		}
		pp_addr_set_port(&src, p->req.src_port);
		if (!p->req.src_port)
			setsockopt(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		call = "bind";
		if (bind(fd, (struct sockaddr *)&src.sa, src.len) == -1)
			goto fail;
	}
	call = "connect";
	p->t0_ns = clock_now_ns();
	if (connect(fd, (struct sockaddr *)&p->req.dst.sa, p->req.dst.len) == 0 ||
	    errno == EINPROGRESS) {
		uint64_t now;

		r = pp_loop_add_fd(c->loop, fd, EPOLLOUT, probe_on_event, p);
		if (r < 0) {
			errno = -r;
			call = "socket";
			goto fail;
		}
		now = clock_now_ns();
		p->phase = PHASE_CONNECTING;
		pp_timer_start(c->loop, &p->timer, p->deadline_ns > now ? p->deadline_ns - now : 0);
		return;
	}
fail:
	r = errno;
	if (!p->req.fail_fast && classify_is_local_transient(r, call, p->req.src_port != 0)) {
		probe_backoff(p, r, call);
		return;
	}
	p->out.immediate = true;
	probe_finish_later(p, r, call);
}

int connector_start(struct connector *c, const struct conn_req *req, conn_done_cb *cb, void *data,
		    struct conn_probe **ret)
{
	struct conn_probe *p = c->free;

	if (req->dst.len == 0 || !cb)
		return -EINVAL;
	if (p)
		c->free = p->next;
	else if (!(p = malloc(sizeof(*p))))
		return -ENOMEM;
	memset(p, 0, sizeof(*p));
	p->owner = c;
	p->req = *req;
	p->cb = cb;
	p->data = data;
	p->fd = -1;
	p->backoff_ns = BACKOFF_MIN_NS;
	p->deadline_ns = clock_now_ns() + req->timeout_ns;
	pp_timer_init(&p->timer, probe_on_timer, p);
	p->next = c->active.next;
	p->prev = &c->active;
	c->active.next->prev = p;
	c->active.next = p;
	c->in_flight++;
	probe_begin(p);
	if (ret)
		*ret = p;
	return 0;
}
