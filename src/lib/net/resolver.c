/* resolver.c: c-ares driven by our loop.
 *
 * c-ares tells us through its socket-state callback which sockets to watch;
 * we watch them on the loop and hand readiness back with ares_process_fd(),
 * and keep one loop timer at ares_timeout(). Each lookup also has its own
 * deadline: when it passes, the caller hears "Temporary DNS failure" at once
 * and the lookup is abandoned (c-ares' later answer only frees it). Results,
 * even the ones c-ares produces synchronously (literals, /etc/hosts), are
 * delivered from a zero-delay timer so callers never re-enter themselves. */
#include "net/resolver.h"

#include <ares.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "portprobe/parse.h"

struct lookup {
	struct lookup *next, *prev; /* the resolver's live lookups */
	struct resolver *owner;
	resolve_cb *cb;
	void *data;
	struct pp_timer timer; /* deadline, then zero-delay delivery */
	bool answered;         /* c-ares has called back */
	bool abandoned;        /* caller no longer wants it */
	bool delivering;       /* timer is the zero-delay delivery */
	double timeout_s;      /* for the detail line */
	enum pp_error err;
	size_t n;
	struct pp_addr addrs[RESOLVER_MAX_ADDRS];
	char detail[128];
};

struct resolver {
	struct pp_loop *loop;
	ares_channel channel;
	struct pp_timer timer; /* c-ares' own retransmission timer */
	struct lookup live;    /* sentinel of the live lookups */
	bool destroying;
};

/* Unlinks and frees a lookup, stopping its timer. */
static void lookup_free(struct lookup *l)
{
	pp_timer_stop(l->owner->loop, &l->timer);
	l->prev->next = l->next;
	l->next->prev = l->prev;
	free(l);
}

static void resolver_arm(struct resolver *r)
{
	struct timeval tv, *tvp = ares_timeout(r->channel, NULL, &tv);

	if (!tvp) {
		pp_timer_stop(r->loop, &r->timer);
		return;
	}
	pp_timer_start(r->loop, &r->timer,
		       (uint64_t)tvp->tv_sec * PP_NSEC_PER_SEC + (uint64_t)tvp->tv_usec * 1000);
}

static void resolver_on_fd(struct pp_loop *loop, int fd, uint32_t events, void *data)
{
	struct resolver *r = data;
	ares_socket_t rfd = (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) ? fd : ARES_SOCKET_BAD;
	ares_socket_t wfd = (events & EPOLLOUT) ? fd : ARES_SOCKET_BAD;

	ares_process_fd(r->channel, rfd, wfd);
	resolver_arm(r);
}

static void resolver_on_timer(struct pp_loop *loop, struct pp_timer *t, void *data)
{
	struct resolver *r = data;

	ares_process_fd(r->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	resolver_arm(r);
}

static void resolver_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct resolver *r = data;
	uint32_t ev = (readable ? EPOLLIN : 0) | (writable ? EPOLLOUT : 0);

	if (!ev) {
		pp_loop_del_fd(r->loop, fd);
		return;
	}
	if (pp_loop_mod_fd(r->loop, fd, ev) == -ENOENT)
		pp_loop_add_fd(r->loop, fd, ev, resolver_on_fd, r);
}

int resolver_new(struct pp_loop *loop, const char *servers, struct resolver **ret)
{
	struct ares_options opts;
	struct resolver *r;
	int st;

	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
		return -ENOMEM;
	r = calloc(1, sizeof(*r));
	if (!r) {
		ares_library_cleanup();
		return -ENOMEM;
	}
	r->loop = loop;
	r->live.next = r->live.prev = &r->live;
	pp_timer_init(&r->timer, resolver_on_timer, r);
	memset(&opts, 0, sizeof(opts));
	opts.sock_state_cb = resolver_sock_state;
	opts.sock_state_cb_data = r;
	opts.timeout = 1000; /* ms per try, doubling per round; the lookup deadline rules */
	opts.tries = 3;
	st = ares_init_options(&r->channel, &opts,
			       ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
	if (st != ARES_SUCCESS) {
		free(r);
		ares_library_cleanup();
		return st == ARES_ENOMEM ? -ENOMEM : -EINVAL;
	}
	if (servers && ares_set_servers_ports_csv(r->channel, servers) != ARES_SUCCESS) {
		ares_destroy(r->channel);
		free(r);
		ares_library_cleanup();
		return -EINVAL;
	}
	*ret = r;
	return 0;
}

void resolver_free(struct resolver *r)
{
	if (!r)
		return;
	r->destroying = true;
	ares_destroy(r->channel); /* calls back every unanswered lookup, which frees itself */
	while (r->live.next != &r->live)
		lookup_free(r->live.next); /* answered, delivery pending */
	pp_timer_stop(r->loop, &r->timer);
	ares_library_cleanup();
	free(r);
}

/* Once no caller waits for any query, cancels them all in c-ares, so that
 * abandoned queries (past their deadline) do not keep sockets and a timer on
 * the loop for c-ares' own retries. Their callbacks free them. Must not be
 * called from inside c-ares. */
static void resolver_drop_abandoned(struct resolver *r)
{
	for (struct lookup *l = r->live.next; l != &r->live; l = l->next)
		if (!l->answered && !l->abandoned)
			return;
	ares_cancel(r->channel);
	resolver_arm(r);
}

/* Delivers a finished lookup and frees it. */
static void lookup_deliver(struct lookup *l)
{
	resolve_cb *cb = l->cb;
	void *data = l->data;
	struct lookup copy;

	pp_timer_stop(l->owner->loop, &l->timer);
	copy = *l;
	if (l->answered) {
		lookup_free(l);
	} else {
		l->abandoned = true; /* c-ares still holds it; its callback frees it */
		resolver_drop_abandoned(l->owner);
	}
	cb(data, copy.err, copy.addrs, copy.n, copy.detail);
}

static void lookup_on_timer(struct pp_loop *loop, struct pp_timer *t, void *data)
{
	struct lookup *l = data;

	if (!l->delivering) {
		l->err = PP_ERROR_DNS_TEMPORARY;
		l->n = 0;
		snprintf(l->detail, sizeof(l->detail), "no answer from the DNS server within %g s",
			 l->timeout_s);
	}
	lookup_deliver(l);
}

/* Maps a c-ares status to a check class and a detail line. */
static enum pp_error lookup_status(int status, char *detail, size_t len)
{
	switch (status) {
	case ARES_ENOTFOUND:
		snprintf(detail, len, "the name does not exist (NXDOMAIN)");
		return PP_ERROR_HOST_NOT_FOUND;
	case ARES_ENODATA:
		snprintf(detail, len, "the name has no address of the requested family");
		return PP_ERROR_HOST_NOT_FOUND;
	case ARES_EBADNAME:
		snprintf(detail, len, "the name is not a valid DNS name");
		return PP_ERROR_HOST_NOT_FOUND;
	default:
		snprintf(detail, len, "DNS: %s", ares_strerror(status));
		return PP_ERROR_DNS_TEMPORARY;
	}
}

static void lookup_on_ares(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	struct lookup *l = arg;
	struct resolver *r = l->owner;

	l->answered = true;
	if (l->abandoned || r->destroying) {
		ares_freeaddrinfo(res);
		lookup_free(l);
		return;
	}
	if (status == ARES_SUCCESS && res) {
		for (struct ares_addrinfo_node *n = res->nodes; n && l->n < RESOLVER_MAX_ADDRS;
		     n = n->ai_next) {
			struct pp_addr *a = &l->addrs[l->n];
			bool dup = false;

			if ((n->ai_family != AF_INET && n->ai_family != AF_INET6) ||
			    n->ai_addrlen > sizeof(a->sa))
				continue;
			memset(a, 0, sizeof(*a));
			memcpy(&a->sa, n->ai_addr, n->ai_addrlen);
			a->len = n->ai_addrlen;
			for (size_t i = 0; i < l->n; i++)
				dup |= pp_addr_equal(&l->addrs[i], a);
			if (!dup)
				l->n++;
		}
		l->err = l->n ? PP_ERROR_NONE : PP_ERROR_HOST_NOT_FOUND;
		if (!l->n)
			snprintf(l->detail, sizeof(l->detail), "the name has no usable address");
	} else {
		l->err = lookup_status(status, l->detail, sizeof(l->detail));
	}
	ares_freeaddrinfo(res);
	l->delivering = true;
	pp_timer_start(r->loop, &l->timer, 0);
}

int resolver_lookup(struct resolver *r, const char *name, int family, uint16_t port,
		    uint64_t timeout_ns, resolve_cb *cb, void *data, struct lookup **ret)
{
	struct ares_addrinfo_hints hints;
	struct lookup *l = calloc(1, sizeof(*l));
	char service[8];

	if (!l)
		return -ENOMEM;
	l->owner = r;
	l->next = r->live.next;
	l->prev = &r->live;
	r->live.next->prev = l;
	r->live.next = l;
	l->cb = cb;
	l->data = data;
	l->timeout_s = (double)timeout_ns / 1e9;
	pp_timer_init(&l->timer, lookup_on_timer, l);
	pp_timer_start(r->loop, &l->timer, timeout_ns);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = ARES_AI_NUMERICSERV;
	snprintf(service, sizeof(service), "%u", (unsigned)port);
	if (ret)
		*ret = l;
	ares_getaddrinfo(r->channel, name, service, &hints, lookup_on_ares, l);
	resolver_arm(r);
	return 0;
}

void resolver_cancel(struct resolver *r, struct lookup *l)
{
	if (!l)
		return;
	pp_timer_stop(r->loop, &l->timer);
	if (l->answered) {
		lookup_free(l);
	} else {
		l->abandoned = true;
		resolver_drop_abandoned(r);
	}
}
