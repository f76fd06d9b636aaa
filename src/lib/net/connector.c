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
 * from inside connector_start().
 *
 * Reuse (conn_req.reuse, for scans). Most probes of a scan are refused, and
 * a socket whose connect failed can connect again: Linux leaves it in CLOSE,
 * and a second connect() on it hands back the pending error and makes it
 * unconnected. So such sockets go to a pool and carry the next probe, which
 * saves socket(), setsockopt(), epoll_ctl() and close() per probe and, since
 * each pooled socket is bound once to an explicit source address and port,
 * the kernel's ephemeral port search and bind-hash updates in every
 * connect(). A pooled probe: connect(); on the edge-triggered event,
 * connect() again as the verdict (0 or EISCONN: connected; EALREADY: still
 * waiting; else the error, as SO_ERROR would give it), then the error queue.
 * The source address is the one the routing table gives for the destination
 * (a connected UDP socket's, cached per destination) or -S's; the port is
 * one the kernel chose as free for bind. A socket is never taken for its own
 * address and port (no self-connect), and leaves the pool when it connected,
 * timed out, or failed in connect() itself (then the probe starts over on a
 * fresh ephemeral socket). */
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
#define SRC_CACHE        512 /* destinations whose source address is remembered */
#define BIND_TRIES       8
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
	int pool;                   /* index of the pool p->fd came from, -1 for a fresh socket */
	uint16_t pool_port;         /* the pooled socket's bound port */
	bool reusable;              /* the pooled socket is unconnected again: back to the pool */
	bool no_reuse;              /* this probe uses fresh sockets */
	struct pp_conn_outcome out; /* filled as evidence arrives */
};

struct pooled {
	int fd;
	uint16_t port;
};

/* Idle sockets bound to one source address. */
struct sock_pool {
	struct pp_addr src; /* port 0 */
	struct pooled *idle;
	size_t n, cap;
};

struct src_entry {
	struct pp_addr dst, src; /* ports 0; dst.len 0 when empty */
};

struct connector {
	struct pp_loop *loop;
	struct conn_probe active; /* sentinel of the in-flight list */
	struct conn_probe *free;  /* reusable probes (singly linked by next) */
	unsigned in_flight;
	struct sock_pool *pools; /* reuse: one per source address */
	size_t npools;
	struct src_entry *srcs; /* reuse: destination -> source address cache */
	int udp[2];             /* reuse: route lookups (v4, v6), -1 until needed */
	int offered_fd;         /* keep: the connected fd a callback may take, or -1 */
};

static void probe_begin(struct conn_probe *p);

int connector_new(struct pp_loop *loop, struct connector **ret)
{
	struct connector *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->loop = loop;
	c->active.next = c->active.prev = &c->active;
	c->udp[0] = c->udp[1] = -1;
	c->offered_fd = -1;
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

static void pool_idle_event(struct pp_loop *loop, int fd, uint32_t events, void *data)
{
	/* an idle pooled socket: the edge of its last use, nothing to do */
}

/* Puts p's pooled socket back to its pool (or closes it). */
static void pool_put(struct conn_probe *p)
{
	struct connector *c = p->owner;
	struct sock_pool *pl = &c->pools[p->pool];

	if (pl->n == pl->cap) {
		size_t cap = pl->cap ? pl->cap * 2 : 64;
		struct pooled *n = realloc(pl->idle, cap * sizeof(*n));

		if (!n) {
			probe_close(p, false);
			return;
		}
		pl->idle = n;
		pl->cap = cap;
	}
	pp_loop_set_handler(c->loop, p->fd, pool_idle_event, NULL, false);
	pl->idle[pl->n].fd = p->fd;
	pl->idle[pl->n].port = p->pool_port;
	pl->n++;
	p->fd = -1;
}

/* Unlinks p from the in-flight list and puts it on the free list. */
static void probe_release(struct conn_probe *p)
{
	struct connector *c = p->owner;

	if (p->fd >= 0 && p->pool >= 0 && p->reusable)
		pool_put(p);
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
	for (size_t i = 0; i < c->npools; i++) {
		for (size_t j = 0; j < c->pools[i].n; j++)
			pp_loop_close_fd(c->loop, c->pools[i].idle[j].fd);
		free(c->pools[i].idle);
	}
	free(c->pools);
	free(c->srcs);
	for (int i = 0; i < 2; i++)
		if (c->udp[i] >= 0)
			close(c->udp[i]);
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

	struct connector *c = p->owner;
	int offered = -1;

	p->out.rtt_ns = clock_now_ns() - p->t0_ns;
	classify_outcome(&p->out, err, syscall, p->req.src_port != 0);
	out = p->out;
	if (!err && p->req.keep && p->connected) {
		offered = p->fd; /* the caller may take it in the callback */
		p->fd = -1;
	}
	probe_release(p);
	c->offered_fd = offered;
	cb(data, &out);
	if (c->offered_fd >= 0) { /* not taken: close it as a probe is closed */
		struct linger lg = {.l_onoff = 1, .l_linger = 0};

		setsockopt(c->offered_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		pp_loop_close_fd(c->loop, c->offered_fd);
	}
	c->offered_fd = -1;
}

int connector_take_fd(struct connector *c)
{
	int fd = c->offered_fd;

	c->offered_fd = -1;
	if (fd >= 0) /* the probe is gone: events go nowhere until the caller says */
		pp_loop_set_handler(c->loop, fd, pool_idle_event, NULL, false);
	return fd;
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

/* Reads the ICMP evidence (type, code, sender) from the socket's error
 * queue; true when the queue was emptied. */
static bool probe_read_errqueue(struct conn_probe *p)
{
	for (int i = 0; i < 16; i++) {
		char cbuf[512], dbuf[64];
		struct iovec iov = {.iov_base = dbuf, .iov_len = sizeof(dbuf)};
		struct msghdr msg = {.msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = cbuf,
				     .msg_controllen = sizeof(cbuf)};
		struct cmsghdr *cm;

		if (recvmsg(p->fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) == -1)
			return errno == EAGAIN;
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
	return false;
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

/* A connected probe: open, unless it connected to itself. */
static void probe_connected(struct conn_probe *p)
{
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

/* A pooled socket's edge: connect() again is the verdict (see the top). */
static void probe_on_pooled_event(struct pp_loop *loop, int fd, uint32_t events, void *data)
{
	struct conn_probe *p = data;
	int err;

	if (connect(fd, (struct sockaddr *)&p->req.dst.sa, p->req.dst.len) == 0 ||
	    errno == EISCONN) {
		probe_connected(p);
		return;
	}
	err = errno;
	if (err == EALREADY || err == EINPROGRESS || err == EINTR) {
		/* still waiting; an ICMP error that came while connect() held the
		 * socket is queued but left the connect pending: conclude on it */
		if (events & EPOLLERR) {
			probe_read_errqueue(p);
			if (p->icmp_errno)
				probe_finish(p, p->icmp_errno, "connect");
		}
		return;
	}
	/* refused, unreachable, ...: the socket is unconnected again, and
	 * reusable once its error queue is empty */
	p->reusable = probe_read_errqueue(p);
	probe_finish(p, err, "connect");
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
	probe_connected(p);
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

/* ---- reuse ------------------------------------------------------------------ */

static size_t addr_hash(const struct pp_addr *a)
{
	const unsigned char *b;
	size_t n, h = 2166136261u;

	if (a->sa.ss_family == AF_INET) {
		b = (const unsigned char *)&((const struct sockaddr_in *)&a->sa)->sin_addr;
		n = 4;
	} else {
		b = (const unsigned char *)&((const struct sockaddr_in6 *)&a->sa)->sin6_addr;
		n = 16;
	}
	while (n--)
		h = (h ^ *b++) * 16777619u;
	return h;
}

/* The source address a probe to req->dst leaves from: -S's, else the
 * routing table's (a connected UDP socket's, cached). 0 or -errno. */
static int src_lookup(struct connector *c, const struct conn_req *req, struct pp_addr *src)
{
	int v6 = req->dst.sa.ss_family == AF_INET6;
	struct src_entry *e;

	if (req->src.len) {
		*src = req->src;
		pp_addr_set_port(src, 0);
		return 0;
	}
	if (!c->srcs && !(c->srcs = calloc(SRC_CACHE, sizeof(*c->srcs))))
		return -ENOMEM;
	e = &c->srcs[addr_hash(&req->dst) % SRC_CACHE];
	if (e->dst.len && pp_addr_equal_host(&e->dst, &req->dst)) {
		*src = e->src;
		return 0;
	}
	if (c->udp[v6] < 0) {
		c->udp[v6] = socket(req->dst.sa.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (c->udp[v6] < 0)
			return -errno;
	}
	memset(src, 0, sizeof(*src));
	src->len = sizeof(src->sa);
	if (connect(c->udp[v6], (const struct sockaddr *)&req->dst.sa, req->dst.len) == -1 ||
	    getsockname(c->udp[v6], (struct sockaddr *)&src->sa, &src->len) == -1)
		return -errno;
	pp_addr_set_port(src, 0);
	e->dst = req->dst;
	pp_addr_set_port(&e->dst, 0);
	e->src = *src;
	return 0;
}

/* The pool of sockets bound to src (created when missing); -1 without memory. */
static int pool_index(struct connector *c, const struct pp_addr *src)
{
	struct sock_pool *n;

	for (size_t i = 0; i < c->npools; i++)
		if (pp_addr_equal_host(&c->pools[i].src, src))
			return (int)i;
	n = realloc(c->pools, (c->npools + 1) * sizeof(*n));
	if (!n)
		return -1;
	c->pools = n;
	memset(&n[c->npools], 0, sizeof(*n));
	n[c->npools].src = *src;
	return (int)c->npools++;
}

/* A new socket for pool pl, bound to a port the kernel reports free; its fd
 * or -1 (errno set). */
static int pool_new_socket(struct connector *c, const struct sock_pool *pl, uint16_t *port)
{
	int family = pl->src.sa.ss_family, one = 1;

	for (int i = 0; i < BIND_TRIES; i++) {
		struct pp_addr a = pl->src;
		int probe, fd;

		/* ask the kernel for a free port (it honours the local port
		 * range and reserved ports), then hold it on the real socket */
		probe = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe == -1)
			return -1;
		if (bind(probe, (struct sockaddr *)&a.sa, a.len) == -1 ||
		    getsockname(probe, (struct sockaddr *)&a.sa, &a.len) == -1) {
			close(probe);
			return -1;
		}
		close(probe);
		fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd == -1)
			return -1;
		if (family == AF_INET)
			setsockopt(fd, SOL_IP, IP_RECVERR, &one, sizeof(one));
		else
			setsockopt(fd, SOL_IPV6, IPV6_RECVERR, &one, sizeof(one));
		/* a service that binds this port with SO_REUSEADDR while we
		 * hold it still can */
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&a.sa, a.len) == 0) {
			*port = pp_addr_port(&a);
			return fd;
		}
		close(fd);
		if (errno != EADDRINUSE)
			return -1;
	}
	errno = EADDRINUSE;
	return -1;
}

/* Gives p a pooled socket (an idle one, or a new one), registered for p;
 * false when p must use a fresh socket instead. */
static bool pool_take(struct connector *c, struct conn_probe *p)
{
	struct pp_addr src;
	struct sock_pool *pl;
	bool local;
	int idx, fd = -1;
	uint16_t port = 0, dport = pp_addr_port(&p->req.dst);

	if (src_lookup(c, &p->req, &src) < 0 || (idx = pool_index(c, &src)) < 0)
		return false;
	pl = &c->pools[idx];
	local = pp_addr_equal_host(&src, &p->req.dst);
	/* never a socket bound to the very address and port it would connect to */
	for (size_t back = 1; back <= 2 && back <= pl->n; back++) {
		struct pooled *it = &pl->idle[pl->n - back];

		if (local && it->port == dport)
			continue;
		fd = it->fd;
		port = it->port;
		*it = pl->idle[--pl->n];
		break;
	}
	if (fd >= 0) {
		pp_loop_set_handler(c->loop, fd, probe_on_pooled_event, p, true);
	} else {
		fd = pool_new_socket(c, pl, &port);
		if (fd < 0)
			return false;
		if (local && port == dport) {
			close(fd);
			return false;
		}
		if (pp_loop_add_fd(c->loop, fd, EPOLLOUT | EPOLLET, probe_on_pooled_event, p) < 0) {
			close(fd);
			return false;
		}
	}
	p->fd = fd;
	p->pool = idx;
	p->pool_port = port;
	p->reusable = false;
	return true;
}

/* Connects p on a pooled socket; false when p must use a fresh one. */
static bool probe_begin_pooled(struct conn_probe *p)
{
	struct connector *c = p->owner;

	if (!pool_take(c, p))
		return false;
	if (connect(p->fd, (struct sockaddr *)&p->req.dst.sa, p->req.dst.len) == -1 &&
	    errno != EINPROGRESS) {
		/* failed in connect() itself (a busy 4-tuple, a local route
		 * verdict, ...): the fresh-socket path meets it and classifies */
		probe_close(p, false);
		p->pool = -1;
		return false;
	}
	p->phase = PHASE_CONNECTING;
	pp_timer_start_at(c->loop, &p->timer, p->deadline_ns);
	return true;
}

/* Opens, binds and connects a fresh socket for p. */
static void probe_begin(struct conn_probe *p)
{
	struct connector *c = p->owner;
	int family = p->req.dst.sa.ss_family, one = 1, fd, r;
	const char *call = "socket";

	p->t0_ns = clock_now_ns();
	if (!p->deadline_ns)
		p->deadline_ns = p->t0_ns + p->req.timeout_ns;
	p->out.icmp_origin = 0;
	p->icmp_errno = 0;
	p->out.reason_addr.len = 0;
	p->out.immediate = false;
	p->pool = -1;
	if (p->req.reuse && !p->req.src_port && !p->no_reuse) {
		if (probe_begin_pooled(p))
			return;
		p->no_reuse = true; /* this probe goes on with fresh sockets */
	}
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
	p->pool = -1;
	p->backoff_ns = BACKOFF_MIN_NS;
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
