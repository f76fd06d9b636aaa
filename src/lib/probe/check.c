/* check.c: one TCP connection test, as the check_tcp_connection plugin
 * defines it, on the shared engine.
 *
 * A check is a set of runners. A runner owns an ordered list of addresses and
 * an attempt counter: an attempt starts a deadline (`timeout` from now),
 * resolves the name if that has not yet succeeded, then connects to its
 * addresses in order until one answers "open", falling over to the next
 * address only on a fast failure (refused, unreachable), never past the
 * deadline. A failed attempt waits `retry_delay` and starts again from the
 * first address. Without all_addresses there is one runner over every
 * address; with it, the first runner only resolves, then hands each address
 * to a runner of its own that continues the same attempt, so every address
 * gets its own result and its own attempts. Every wait is a loop timer and
 * every connect a connector probe: nothing blocks, and many checks can share
 * one loop. */
#include "portprobe/check.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "net/classify.h"
#include "net/connector.h"
#include "net/resolver.h"
#include "portprobe/parse.h"

struct runner {
	struct runner *next; /* the check's runners */
	struct pp_check *check;
	const struct pp_addr *addrs; /* borrowed from the check, NULL until resolved */
	size_t naddrs;
	size_t idx;                  /* next address to try in this attempt */
	unsigned attempt;            /* attempts started */
	uint64_t attempt_start;      /* monotonic ns */
	uint64_t deadline;           /* monotonic ns */
	uint64_t spent_ns;           /* duration of the finished attempts */
	struct pp_timer timer;       /* retry delay */
	struct conn_probe *probe;    /* in flight, or NULL */
	struct lookup *lookup;       /* in flight, or NULL */
	bool has_ip;                 /* last_ip is set */
	struct pp_addr last_ip;      /* the address of the last outcome */
	struct pp_conn_outcome last; /* the last outcome */
	enum pp_error error;         /* the last attempt's class */
	char detail[192];            /* the last attempt's explanation */
	bool finished;               /* result delivered, or retired */
};

struct pp_check {
	struct pp_loop *loop;
	struct pp_check_opts opts; /* host and dns_servers point at our copies */
	char *host;
	char *dns_servers;
	pp_check_result_cb *on_result;
	pp_check_done_cb *on_done;
	void *data;
	struct connector *conn;
	struct resolver *res; /* created on the first name lookup */
	struct runner *runners;
	unsigned pending;     /* runners not yet finished */
	unsigned in_callback; /* on_result is running */
	bool free_requested;  /* pp_check_free() was called from on_result */
	bool resolved;
	double dns_time; /* seconds */
	size_t naddrs;
	struct pp_addr *addrs; /* resolved (or literal) addresses, ports set */
};

static void runner_start_attempt(struct runner *run);
static void runner_connect_next(struct runner *run);
static void check_destroy(struct pp_check *c);

bool pp_check_result_is_local(const struct pp_check_result *r)
{
	if (r->connected)
		return false;
	switch (r->error) {
	case PP_ERROR_LOCAL_RESOURCE:
	case PP_ERROR_PORT_IN_USE:
	case PP_ERROR_ADDR_NOT_AVAILABLE:
		return true;
	case PP_ERROR_PERMISSION_DENIED:
		/* at bind, not a prohibit route or an ICMPv6 reject at connect */
		return r->out.syscall && strcmp(r->out.syscall, "connect");
	default:
		return false;
	}
}

void pp_check_opts_init(struct pp_check_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->timeout = 10;
	opts->attempts = 1;
	opts->retry_delay = 1;
	opts->family = AF_UNSPEC;
}

/* Hands the runner's final outcome to the caller; the last one also calls on_done. */
static void runner_deliver(struct runner *run, bool connected, double response_time)
{
	struct pp_check *c = run->check;
	struct pp_check_result r;

	memset(&r, 0, sizeof(r));
	r.host = c->host;
	r.port = c->opts.port;
	r.connected = connected;
	r.has_ip = run->has_ip;
	r.ip = run->last_ip;
	r.out = run->last;
	r.error = connected ? PP_ERROR_NONE : run->error;
	r.response_time = response_time;
	r.dns_time = c->dns_time;
	r.attempts = run->attempt;
	r.timestamp = clock_wall();
	snprintf(r.detail, sizeof(r.detail), "%s", run->detail);
	run->finished = true;
	c->pending--;
	c->in_callback++;
	c->on_result(c->data, &r);
	c->in_callback--;
	if (c->free_requested) {
		/* freed from on_result: every frame above us returns at once */
		check_destroy(c);
		return;
	}
	if (c->pending == 0 && c->on_done)
		c->on_done(c->data); /* may free the check: touch nothing after */
}

static void runner_on_delay(struct pp_loop *loop, struct pp_timer *t, void *data)
{
	struct runner *run = data;

	if (run->attempt >= run->check->opts.attempts) {
		runner_deliver(run, false, (double)run->spent_ns / 1e9);
		return;
	}
	runner_start_attempt(run);
}

/* The attempt failed: retry after the delay, or deliver the failure. */
static void runner_attempt_failed(struct runner *run)
{
	struct pp_check *c = run->check;

	run->spent_ns += clock_now_ns() - run->attempt_start;
	run->idx = 0;
	/* the timer either starts the next attempt or, after the last, delivers
	 * the failure: either way from the loop, never from the caller's stack */
	pp_timer_start(c->loop, &run->timer,
		       run->attempt < c->opts.attempts ? clock_sec_to_ns(c->opts.retry_delay) : 0);
}

/* Sets a failure that no probe produced (resolution, address selection). */
static void runner_fail_early(struct runner *run, enum pp_error err, const char *detail)
{
	memset(&run->last, 0, sizeof(run->last));
	run->last.error = err;
	run->error = err;
	snprintf(run->detail, sizeof(run->detail), "%s", detail);
	runner_attempt_failed(run);
}

static void runner_on_conn(void *data, const struct pp_conn_outcome *o)
{
	struct runner *run = data;
	struct pp_check *c = run->check;

	run->probe = NULL;
	run->last = *o;
	run->last_ip = run->addrs[run->idx];
	run->has_ip = true;
	run->error = o->error;
	classify_describe(o, c->opts.timeout, run->detail, sizeof(run->detail));
	if (o->self_connects && !o->self_connected) {
		size_t n = strlen(run->detail);

		snprintf(run->detail + n, sizeof(run->detail) - n,
			 "; %u connection(s) to itself discarded", o->self_connects);
	}
	if (o->error == PP_ERROR_NONE) {
		runner_deliver(run, true, (double)o->rtt_ns / 1e9);
		return;
	}
	run->idx++;
	if (o->error == PP_ERROR_TIMEOUT || run->idx >= run->naddrs ||
	    clock_now_ns() >= run->deadline) {
		runner_attempt_failed(run);
		return;
	}
	runner_connect_next(run);
}

static void runner_connect_next(struct runner *run)
{
	struct pp_check *c = run->check;
	uint64_t now = clock_now_ns();
	struct conn_req req;
	int r;

	memset(&req, 0, sizeof(req));
	req.dst = run->addrs[run->idx];
	req.src = c->opts.source;
	req.src_port = c->opts.source_port;
	req.timeout_ns = run->deadline > now ? run->deadline - now : 0;
	r = connector_start(c->conn, &req, runner_on_conn, run, &run->probe);
	if (r < 0) {
		run->probe = NULL;
		runner_fail_early(run, PP_ERROR_LOCAL_RESOURCE, "out of memory starting a probe");
	}
}

/* Keeps the addresses usable with the requested family and source address. */
static void check_set_addrs(struct pp_check *c, const struct pp_addr *addrs, size_t n,
			    enum pp_error *err, const char **why)
{
	int src_family = pp_addr_family(&c->opts.source);

	*err = PP_ERROR_NONE;
	c->naddrs = 0;
	for (size_t i = 0; i < n; i++) {
		int fam = pp_addr_family(&addrs[i]);

		if (c->opts.family != AF_UNSPEC && fam != c->opts.family)
			continue;
		if (src_family != AF_UNSPEC && fam != src_family)
			continue;
		c->addrs[c->naddrs] = addrs[i];
		pp_addr_set_port(&c->addrs[c->naddrs], c->opts.port);
		c->naddrs++;
	}
	if (c->naddrs)
		return;
	if (src_family != AF_UNSPEC) {
		*err = PP_ERROR_ADDR_NOT_AVAILABLE;
		*why = src_family == AF_INET
			   ? "the host has no IPv4 address for the IPv4 source address"
			   : "the host has no IPv6 address for the IPv6 source address";
	} else {
		*err = PP_ERROR_HOST_NOT_FOUND;
		*why = c->opts.family == AF_INET ? "the host has no IPv4 address"
						 : "the host has no IPv6 address";
	}
}

/* With addresses known: connect, or hand each address to a runner of its own. */
static void runner_resolved(struct runner *run)
{
	struct pp_check *c = run->check;

	if (!c->opts.all_addresses) {
		run->addrs = c->addrs;
		run->naddrs = c->naddrs;
		runner_connect_next(run);
		return;
	}
	/* this runner retires; each address continues its attempt. Allocate
	 * every runner before linking any, so a failure leaves nothing half done */
	struct runner **fresh = calloc(c->naddrs, sizeof(*fresh));
	size_t made = 0;

	while (fresh && made < c->naddrs && (fresh[made] = calloc(1, sizeof(**fresh))))
		made++;
	if (!fresh || made < c->naddrs) {
		while (fresh && made)
			free(fresh[--made]);
		free(fresh);
		runner_fail_early(run, PP_ERROR_LOCAL_RESOURCE, "out of memory");
		return;
	}
	run->finished = true;
	c->pending--;
	for (size_t i = 0; i < c->naddrs; i++) {
		struct runner *r = fresh[i];

		r->check = c;
		r->addrs = &c->addrs[i];
		r->naddrs = 1;
		r->attempt = run->attempt;
		r->attempt_start = run->attempt_start;
		r->deadline = run->deadline;
		r->spent_ns = run->spent_ns;
		pp_timer_init(&r->timer, runner_on_delay, r);
		r->next = c->runners;
		c->runners = r;
		c->pending++;
	}
	for (size_t i = 0; i < c->naddrs; i++)
		runner_connect_next(fresh[i]);
	free(fresh);
}

static void runner_on_resolved(void *data, enum pp_error err, const struct pp_addr *addrs, size_t n,
			       const char *detail)
{
	struct runner *run = data;
	struct pp_check *c = run->check;
	const char *why = NULL;

	run->lookup = NULL;
	c->dns_time = (double)(clock_now_ns() - run->attempt_start) / 1e9;
	if (err != PP_ERROR_NONE) {
		runner_fail_early(run, err, detail);
		return;
	}
	check_set_addrs(c, addrs, n, &err, &why);
	if (err != PP_ERROR_NONE) {
		runner_fail_early(run, err, why);
		return;
	}
	c->resolved = true;
	runner_resolved(run);
}

static void runner_start_attempt(struct runner *run)
{
	struct pp_check *c = run->check;
	int r, family;

	run->attempt++;
	run->attempt_start = clock_now_ns();
	run->deadline = run->attempt_start + clock_sec_to_ns(c->opts.timeout);
	run->idx = 0;
	if (c->resolved) {
		if (run->addrs)
			runner_connect_next(run);
		else
			runner_resolved(run); /* a literal: known before the first attempt */
		return;
	}
	if (!c->res) {
		r = resolver_new(c->loop, c->dns_servers, &c->res);
		if (r < 0) {
			runner_fail_early(run, PP_ERROR_DNS_TEMPORARY,
					  r == -ENOMEM ? "out of memory starting the resolver"
						       : "the resolver could not be configured");
			return;
		}
	}
	/* without -4/-6, a source address still decides the family wanted */
	family = c->opts.family != AF_UNSPEC ? c->opts.family : pp_addr_family(&c->opts.source);
	r = resolver_lookup(c->res, c->host, family, c->opts.port, clock_sec_to_ns(c->opts.timeout),
			    runner_on_resolved, run, &run->lookup);
	if (r < 0)
		runner_fail_early(run, PP_ERROR_LOCAL_RESOURCE, "out of memory starting a lookup");
}

int pp_check_start(struct pp_loop *loop, const struct pp_check_opts *opts,
		   pp_check_result_cb *on_result, pp_check_done_cb *on_done, void *data,
		   struct pp_check **ret)
{
	struct pp_check *c;
	struct runner *run;
	struct pp_addr literal;
	const char *why;
	int r;

	if (!opts->host || !*opts->host || opts->port == 0 || !(opts->timeout > 0) ||
	    opts->attempts == 0 || !(opts->retry_delay >= 0) || !on_result)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	run = calloc(1, sizeof(*run));
	if (!c || !run) {
		free(c);
		free(run);
		return -ENOMEM;
	}
	c->loop = loop;
	c->opts = *opts;
	c->on_result = on_result;
	c->on_done = on_done;
	c->data = data;
	c->host = strdup(opts->host);
	c->dns_servers = opts->dns_servers ? strdup(opts->dns_servers) : NULL;
	c->addrs = calloc(RESOLVER_MAX_ADDRS, sizeof(*c->addrs));
	r = connector_new(loop, &c->conn);
	if (!c->host || (opts->dns_servers && !c->dns_servers) || !c->addrs || r < 0) {
		free(run);
		pp_check_free(c);
		return -ENOMEM;
	}
	c->opts.host = c->host;
	c->opts.dns_servers = c->dns_servers;
	run->check = c;
	pp_timer_init(&run->timer, runner_on_delay, run);
	c->runners = run;
	c->pending = 1;
	if (pp_parse_ip(c->host, c->opts.port, &literal, &why) == 0) {
		enum pp_error err;

		check_set_addrs(c, &literal, 1, &err, &why);
		if (err != PP_ERROR_NONE) {
			pp_check_free(c);
			return -EINVAL; /* a literal of the wrong family is a usage error */
		}
		c->resolved = true;
	}
	runner_start_attempt(run);
	*ret = c;
	return 0;
}

void pp_check_free(struct pp_check *c)
{
	if (!c)
		return;
	if (c->in_callback) {
		c->free_requested = true; /* runner_deliver frees it when on_result returns */
		return;
	}
	check_destroy(c);
}

/* Cancels everything in flight (no callbacks) and frees the check. */
static void check_destroy(struct pp_check *c)
{
	struct runner *run;

	connector_free(c->conn); /* cancels probes without callbacks */
	resolver_free(c->res);   /* cancels lookups without callbacks */
	while ((run = c->runners)) {
		c->runners = run->next;
		pp_timer_stop(c->loop, &run->timer);
		free(run);
	}
	free(c->addrs);
	free(c->host);
	free(c->dns_servers);
	free(c);
}
