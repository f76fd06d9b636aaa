/* http.c: the HTTP workers of `portprobe serve` (libmicrohttpd).
 *
 * Each worker is one thread with its own pp_loop, a duplicate of the one
 * listening socket (the workers share its accept queue) and its own MHD daemon in external epoll mode: the daemon's
 * epoll descriptor sits in the worker's loop and MHD_run() is called when it
 * is readable or MHD's timeout is due. A /probe request is parsed, its
 * connection suspended, the probe started on the same loop (pp_runner_probe)
 * and the connection resumed with the answer when the probe reports; nothing
 * crosses threads but the read-only pages under the scheduler's lock.
 *
 * Limits: max_request_bytes bounds what MHD buffers for a request (request
 * line and headers; larger ones are answered 431 or 414 by MHD, a body 413
 * here), request_timeout bounds the time a request may take to arrive whole
 * (MHD's own timeout counts silence only: a client trickling a byte at a time
 * would hold a connection forever, so each worker closes those itself),
 * max_concurrency bounds
 * connections (split over the workers). Everything that is not a well-formed
 * GET or HEAD of a known path gets a 4xx with one line saying why. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "core/clock.h"
#include "net/resolver.h"
#include "portprobe/output.h"
#include "portprobe/parse.h"
#include "portprobe/probereq.h"
#include "serve/serve_int.h"

#define DRAIN_NS      5000000000ull /* a stopping worker waits this long for its probes */
#define CT_TEXT       "text/plain; charset=utf-8"
#define CT_METRICS    "text/plain; version=0.0.4; charset=utf-8"
#define CT_JSON       "application/json"
#define HISTORY_LIMIT 100
#define HISTORY_MAX   10000
#define SCRAPE_OFFSET 0.5 /* s taken off Prometheus' scrape timeout, as blackbox does */

enum route { R_METRICS, R_PROBE, R_CHECKS, R_HISTORY, R_HEALTHZ, R_OTHER, R_N };

struct http_worker;

/* One accepted connection and the time by which its next request must have
 * arrived whole: request_timeout after the connection opened or after its
 * previous answer was sent. */
struct hconn {
	int fd;
	uint64_t deadline;         /* monotonic ns; 0 while an answer is made or sent */
	struct hconn *prev, *next; /* the worker's connections */
};

struct req {
	struct http_worker *w;
	struct MHD_Connection *conn;
	struct gen *gen;          /* held while a probe runs */
	struct pp_probe_req preq; /* the parsed /probe request */
	bool has_preq;
	struct lookup *lookup;   /* a name being resolved for the allowlist */
	struct pp_buf body;      /* the answer */
	unsigned status;         /* its HTTP status; 0: not decided yet */
	const char *ctype;       /* its Content-Type */
	bool has_body;           /* the client sent a body */
	bool debug;              /* /probe?debug=true: logs, metrics and module as text */
	bool suspended;          /* waiting for a probe */
	struct timespec start;   /* CLOCK_MONOTONIC when the probe was asked for */
	struct req *prev, *next; /* the worker's suspended requests */
};

struct http_worker {
	struct pp_serve *s;
	unsigned idx;
	int lfd; /* listening socket (ours; MHD uses it) */
	pthread_t th;
	bool started;
	struct pp_loop *loop;
	struct MHD_Daemon *d;
	int epfd; /* MHD's epoll descriptor */
	struct pp_timer mhd_timer;
	int stop_efd; /* written by the scheduler's thread to stop the worker */
	struct pp_runner *runner;
	struct resolver *resolver;
	struct pp_store *store; /* history reads, opened on first use */
	struct req *waiting;    /* suspended requests */
	unsigned nwaiting;
	bool stopping;
	bool resume_pending; /* a connection was resumed: MHD_run must come soon */
	bool quiesced;       /* MHD gave lfd back: ours to close */
	struct pp_timer drain;
	struct hconn *conns;   /* open connections */
	uint64_t request_ns;   /* request_timeout */
	struct pp_timer sweep; /* closes connections past their deadline */
};

/* ---- sockets ------------------------------------------------------------------------ */

int http_sockets_open(struct pp_serve *s, char *err, size_t errlen)
{
	const struct pp_config *cfg = s->cur->cfg;
	struct pp_addr addr = cfg->server.listen_addr;
	const char *text = s->opts.listen ? s->opts.listen : cfg->server.listen;
	const char *why = NULL;
	unsigned n = s->opts.threads;
	char host[PP_ADDRSTRLEN];

	if (s->opts.listen && pp_config_parse_listen(s->opts.listen, &addr, &why) < 0) {
		snprintf(err, errlen, "--listen \"%s\" %s", s->opts.listen, why);
		return -EINVAL;
	}
	if (!n) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);

		n = c < 1 ? 1 : c > 8 ? 8 : (unsigned)c;
	}
	if (!(s->workers = calloc(n, sizeof(*s->workers))))
		return -ENOMEM;
	/* One listening socket, without SO_REUSEPORT (which would let another
	 * process of the same user bind the port too and take half of its
	 * requests); each worker's daemon gets a dup of it and they share its
	 * accept queue. */
	for (unsigned i = 0; i < n; i++) {
		struct http_worker *w = calloc(1, sizeof(*w));
		int one = 1, zero = 0, fd;

		if (!w)
			return -ENOMEM;
		w->s = s;
		w->idx = i;
		w->lfd = w->stop_efd = w->epfd = -1;
		s->workers[i] = w;
		s->nworkers = i + 1;
		if (i > 0) {
			if ((w->lfd = fcntl(s->workers[0]->lfd, F_DUPFD_CLOEXEC, 3)) < 0)
				goto sock_fail;
			continue;
		}
		fd = socket(addr.sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			goto sock_fail;
		w->lfd = fd;
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
			goto sock_fail;
		if (addr.sa.ss_family == AF_INET6 &&
		    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) < 0)
			goto sock_fail;
		if (bind(fd, (struct sockaddr *)&addr.sa, addr.len) < 0 || listen(fd, 4096) < 0)
			goto sock_fail;
		if (pp_addr_port(&addr) == 0) {
			/* port 0 (tests): the URL shows the port the kernel chose */
			socklen_t l = sizeof(addr.sa);

			if (getsockname(fd, (struct sockaddr *)&addr.sa, &l) < 0)
				goto sock_fail;
			addr.len = l;
		}
		continue;
	sock_fail : {
		int e = errno;

		snprintf(err, errlen, "%s: cannot listen: %s", text, strerror(e));
		return -e;
	}
	}
	pp_addr_str(&addr, host, sizeof(host));
	snprintf(s->url, sizeof(s->url),
		 addr.sa.ss_family == AF_INET6 ? "%s://[%s]:%u" : "%s://%s:%u",
		 cfg->server.tls_cert_file ? "https" : "http", host, pp_addr_port(&addr));
	if (cfg->server.tls_cert_file) {
		FILE *f;
		const char *paths[2] = {cfg->server.tls_cert_file, cfg->server.tls_key_file};
		char **dst[2] = {&s->tls_cert, &s->tls_key};

		for (int k = 0; k < 2; k++) {
			size_t len = 0, cap = 0;
			char buf[4096];
			size_t got;

			if (!(f = fopen(paths[k], "re"))) {
				int e = errno;

				snprintf(err, errlen, "%s: cannot read: %s", paths[k], strerror(e));
				return -e;
			}
			while ((got = fread(buf, 1, sizeof(buf), f)) > 0) {
				if (len + got + 1 > cap) {
					char *p;

					cap = (len + got + 1) * 2;
					if (!(p = realloc(*dst[k], cap))) {
						fclose(f);
						return -ENOMEM;
					}
					*dst[k] = p;
				}
				memcpy(*dst[k] + len, buf, got);
				len += got;
				(*dst[k])[len] = 0;
			}
			fclose(f);
			if (!len) {
				snprintf(err, errlen, "%s: empty file", paths[k]);
				return -EINVAL;
			}
		}
	}
	return 0;
}

/* ---- answers ------------------------------------------------------------------------ */

static void count(struct pp_serve *s, enum route r)
{
	atomic_fetch_add_explicit(&s->http_requests[r], 1, memory_order_relaxed);
}

/* Sets the deadline of c's next request: now + request_timeout, or none (0)
 * while its current request is answered. */
static void conn_deadline(struct http_worker *w, struct MHD_Connection *c, bool start)
{
	const union MHD_ConnectionInfo *info =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct hconn *hc = info ? info->socket_context : NULL;

	if (hc)
		hc->deadline = start ? pp_loop_now(w->loop) + w->request_ns : 0;
}

/* Queues req's answer (body, status, type) on its connection. */
static enum MHD_Result answer(struct req *req, const char *extra_name, const char *extra_value)
{
	struct MHD_Response *resp;
	enum MHD_Result rc;
	size_t len = req->body.err ? 0 : req->body.len;

	conn_deadline(req->w, req->conn, false);
	if (req->body.err) {
		req->status = 500;
		req->ctype = CT_TEXT;
	}
	resp =
	    MHD_create_response_from_buffer(len, len ? req->body.data : (void *)"",
					    len ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	if (len) {
		/* the response owns the bytes now */
		req->body.data = NULL;
		req->body.len = req->body.cap = 0;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				req->ctype ? req->ctype : CT_TEXT);
	if (extra_name)
		MHD_add_response_header(resp, extra_name, extra_value);
	if (req->w->stopping) /* no next request on this connection */
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	rc = MHD_queue_response(req->conn, req->status ? req->status : 500, resp);
	MHD_destroy_response(resp);
	return rc;
}

static void set_error(struct req *req, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_error(struct req *req, unsigned status, const char *fmt, ...)
{
	va_list ap;

	pp_buf_reset(&req->body);
	va_start(ap, fmt);
	pp_buf_vprintf(&req->body, fmt, ap);
	va_end(ap);
	pp_buf_puts(&req->body, "\n");
	req->status = status;
	req->ctype = CT_TEXT;
}

/* ---- /probe ------------------------------------------------------------------------- */

static double elapsed_s(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) + (double)(b.tv_nsec - a->tv_nsec) / 1e9;
}

/* A query argument, or NULL when absent; *bad when its decoded value holds
 * a NUL (MHD would hand over only what precedes it). */
static const char *get_arg(struct MHD_Connection *c, const char *key, bool *bad)
{
	const char *v = NULL;
	size_t n = 0;

	if (MHD_lookup_connection_value_n(c, MHD_GET_ARGUMENT_KIND, key, strlen(key), &v, &n) !=
		MHD_YES ||
	    !v)
		return NULL;
	if (strlen(v) != n)
		*bad = true;
	return v;
}

static void req_unlink(struct req *req)
{
	struct http_worker *w = req->w;

	if (!req->suspended)
		return;
	if (req->prev)
		req->prev->next = req->next;
	else
		w->waiting = req->next;
	if (req->next)
		req->next->prev = req->prev;
	req->prev = req->next = NULL;
	req->suspended = false;
	w->nwaiting--;
}

static void req_suspend(struct req *req)
{
	struct http_worker *w = req->w;

	conn_deadline(w, req->conn, false);
	MHD_suspend_connection(req->conn);
	req->suspended = true;
	req->next = w->waiting;
	if (w->waiting)
		w->waiting->prev = req;
	w->waiting = req;
	w->nwaiting++;
}

/* The answer is in req: wake its connection (MHD calls the handler again). */
static void req_resume(struct req *req)
{
	struct http_worker *w = req->w;

	req_unlink(req);
	MHD_resume_connection(req->conn);
	/* MHD takes the resumption in its next MHD_run(), which the epoll
	 * descriptor does not announce, and MHD_get_timeout() does not count
	 * it: run it from the loop's next turn, also when this is called from
	 * inside MHD_run() (mhd_rearm honours the flag) */
	w->resume_pending = true;
	pp_timer_start(w->loop, &w->mhd_timer, 0);
}

static void on_probe_result(void *data, const struct pp_run_result *r)
{
	struct req *req = data;
	struct pp_probe_metrics m;
	const struct pp_probe_metrics *mp = &m;

	pp_buf_reset(&req->body);
	if (pp_probe_metrics_from_result(&m, r) < 0) {
		set_error(req, 500, "out of memory");
	} else {
		if (req->debug) {
			bool v6 = strchr(req->preq.host, ':') != NULL;
			char target[PP_PROBE_REQ_TARGET_MAX + 16];
			struct pp_probe_debug d = {
			    .module = req->preq.module,
			    .target = target,
			    .host = req->preq.host,
			    .timeout = req->preq.timeout,
			};

			snprintf(target, sizeof(target), "%s%s%s:%u", v6 ? "[" : "", req->preq.host,
				 v6 ? "]" : "", req->preq.port);
			pp_probe_debug_write(&req->body, &d, r, &m);
			req->ctype = CT_TEXT;
		} else {
			pp_probe_metrics_write(&req->body, &mp, NULL, 1);
			req->ctype = CT_METRICS;
		}
		pp_probe_metrics_release(&m);
		req->status = 200;
		if (r->status != PP_RUN_OK && r->status != PP_RUN_WARNING)
			serve_log(req->w->s, PP_LOG_DEBUG, "probe %s:%u (%s): %s", req->preq.host,
				  req->preq.port, req->preq.module->name,
				  r->reason ? r->reason : "failed");
	}
	req_resume(req);
}

static int probe_start(struct req *req, const char *connect_host)
{
	struct pp_probe_spec spec = {
	    .module = req->preq.module,
	    .host = connect_host,
	    .port = req->preq.port,
	    .server_name = req->preq.server_name,
	    .timeout = req->preq.timeout,
	};

	return pp_runner_probe(req->w->runner, req->w->loop, &spec, on_probe_result, req);
}

/* Answers 500 for a probe that could not start: the module's CA file when
 * it is what is missing (it is read when used, not when the file loads). */
static void probe_start_failed(struct req *req, int rc)
{
	const struct pp_config_module *m = req->preq.module;

	if (rc == -EINVAL && m->ca_file && access(m->ca_file, R_OK) < 0)
		set_error(req, 500, "cannot start the probe: module %s: tls_config.ca_file %s: %s",
			  m->name, m->ca_file, strerror(errno));
	else
		set_error(req, 500, "cannot start the probe: %s", strerror(-rc));
	req_resume(req);
}

static void on_resolved(void *data, enum pp_error e, const struct pp_addr *addrs, size_t n,
			const char *detail)
{
	struct req *req = data;
	const struct pp_config_module *m = req->preq.module;
	const struct pp_addr *pick = NULL;
	char ip[PP_ADDRSTRLEN];
	int rc;

	req->lookup = NULL;
	if (e != PP_ERROR_NONE) {
		/* answered as a probe that could not resolve, without connecting:
		 * the prober would resolve again and reach an unchecked address */
		struct pp_check_result cr;
		struct pp_run_result rr;

		memset(&cr, 0, sizeof(cr));
		memset(&rr, 0, sizeof(rr));
		cr.host = req->preq.host;
		cr.port = req->preq.port;
		cr.error = cr.out.error = e;
		cr.attempts = 1;
		cr.dns_time = cr.response_time = elapsed_s(&req->start);
		clock_gettime(CLOCK_REALTIME, &cr.timestamp);
		snprintf(cr.detail, sizeof(cr.detail), "%s", detail ? detail : pp_error_message(e));
		rr.unit = SIZE_MAX;
		rr.status = PP_RUN_CRITICAL;
		rr.reason = pp_error_message(e);
		rr.check = &cr;
		rr.duration = cr.response_time;
		rr.timestamp = cr.timestamp;
		on_probe_result(req, &rr);
		return;
	}
	/* the address the probe will use: the first of the preferred family,
	 * else (with fallback) the first */
	for (size_t i = 0; i < n && !pick; i++)
		if (pp_addr_family(&addrs[i]) == m->preferred_family)
			pick = &addrs[i];
	if (!pick && m->ip_protocol_fallback && n)
		pick = &addrs[0];
	if (!pick || !pp_probe_req_allowed_addr(req->gen->cfg, &req->preq, pick)) {
		char shown[PP_ADDRSTRLEN];

		atomic_fetch_add_explicit(&req->w->s->probe_refused, 1, memory_order_relaxed);
		set_error(req, 403,
			  "target \"%s:%u\" is not in the probe allowlist (it resolves to %s)",
			  req->preq.host, req->preq.port,
			  pick ? pp_addr_str(pick, shown, sizeof(shown)) : "no usable address");
		req_resume(req);
		return;
	}
	pp_addr_str(pick, ip, sizeof(ip));
	if ((rc = probe_start(req, ip)) < 0)
		probe_start_failed(req, rc);
}

/* Handles /probe; returns true when req waits (suspended) for the probe. */
static bool route_probe(struct req *req)
{
	struct http_worker *w = req->w;
	struct MHD_Connection *c = req->conn;
	char err[512];
	int rc;

	const char *target, *module, *hostname;
	bool bad = false;

	if (w->stopping) {
		set_error(req, 503, "portprobe is stopping");
		return false;
	}
	clock_gettime(CLOCK_MONOTONIC, &req->start);
	target = get_arg(c, "target", &bad);
	module = get_arg(c, "module", &bad);
	hostname = get_arg(c, "hostname", &bad);
	{
		/* as blackbox: exactly "true" asks for the logs */
		const char *debug = get_arg(c, "debug", &bad);

		req->debug = debug && !strcmp(debug, "true");
	}
	if (bad) {
		set_error(req, 400, "a parameter holds a NUL byte (%%00)");
		return false;
	}
	req->gen = serve_gen_get(w->s);
	rc = pp_probe_req_parse(
	    req->gen->cfg, target, module, hostname,
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Prometheus-Scrape-Timeout-Seconds"),
	    SCRAPE_OFFSET, &req->preq, err, sizeof(err));
	if (rc < 0) {
		if (pp_probe_req_status(rc) == 403) {
			atomic_fetch_add_explicit(&w->s->probe_refused, 1, memory_order_relaxed);
		}
		set_error(req, (unsigned)pp_probe_req_status(rc), "%s", err);
		return false;
	}
	req->has_preq = true;
	/* suspended first: a probe may report before its start returns */
	req_suspend(req);
	if (req->preq.need_resolve_check) {
		const struct pp_config_module *m = req->preq.module;

		rc = w->resolver ? 0 : resolver_new(w->loop, NULL, &w->resolver);
		if (rc == 0)
			rc = resolver_lookup(w->resolver, req->preq.host,
					     m->ip_protocol_fallback ? AF_UNSPEC
								     : m->preferred_family,
					     req->preq.port, (uint64_t)(req->preq.timeout * 1e9),
					     on_resolved, req, &req->lookup);
	} else {
		rc = probe_start(req, req->preq.host);
	}
	if (rc < 0) {
		probe_start_failed(req, rc);
	}
	return true;
}

/* ---- /api/v1/checks/NAME/history ------------------------------------------------------ */

struct hist_ctx {
	struct pp_buf *b;
	unsigned n;
};

static void put_ms_time(struct pp_buf *b, int64_t ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
	char t[40];

	pp_buf_puts(b, "\"");
	pp_buf_puts(b, pp_iso8601(&ts, t, sizeof(t)));
	pp_buf_puts(b, "\"");
}

static void put_num_or_null(struct pp_buf *b, double v)
{
	if (isfinite(v))
		pp_buf_printf(b, "%.6f", v);
	else
		pp_buf_puts(b, "null");
}

static int on_hist_row(void *data, const struct pp_store_result *r)
{
	struct hist_ctx *h = data;
	struct pp_buf *b = h->b;

	pp_buf_puts(b, h->n++ ? ",{\"id\":" : "{\"id\":");
	pp_buf_printf(b, "%" PRId64 ",\"check\":", r->id);
	pp_json_put_string(b, r->check_name);
	pp_buf_puts(b, ",\"unit\":");
	pp_json_put_string(b, r->unit);
	pp_buf_puts(b, ",\"time\":");
	put_ms_time(b, r->ts_ms);
	pp_buf_printf(b, ",\"time_ms\":%" PRId64 ",\"ok\":%s,\"state\":", r->ts_ms,
		      r->ok ? "true" : "false");
	pp_json_put_string(b, r->state);
	pp_buf_puts(b, ",\"error\":");
	pp_json_put_string_or_null(b, r->error);
	pp_buf_puts(b, ",\"detail\":");
	pp_json_put_string_or_null(b, r->detail);
	pp_buf_puts(b, ",\"ip\":");
	pp_json_put_string_or_null(b, r->ip);
	pp_buf_puts(b, ",\"port\":");
	if (r->port)
		pp_buf_printf(b, "%u", r->port);
	else
		pp_buf_puts(b, "null");
	pp_buf_puts(b, ",\"response_time\":");
	put_num_or_null(b, r->response_time_s);
	pp_buf_puts(b, ",\"dns_time\":");
	put_num_or_null(b, r->dns_time_s);
	pp_buf_printf(b, ",\"attempts\":%u,\"extra\":%s}", r->attempts,
		      r->extra ? r->extra : "null");
	return b->err;
}

static int on_hist_transition(void *data, const struct pp_store_transition *t)
{
	struct hist_ctx *h = data;
	struct pp_buf *b = h->b;

	pp_buf_puts(b, h->n++ ? ",{\"id\":" : "{\"id\":");
	pp_buf_printf(b, "%" PRId64 ",\"check\":", t->id);
	pp_json_put_string(b, t->check_name);
	pp_buf_puts(b, ",\"unit\":");
	pp_json_put_string(b, t->unit);
	pp_buf_puts(b, ",\"time\":");
	put_ms_time(b, t->ts_ms);
	pp_buf_printf(b, ",\"time_ms\":%" PRId64 ",\"from\":\"%s\",\"to\":\"%s\",\"reason\":",
		      t->ts_ms, pp_health_name(t->from), pp_health_name(t->to));
	pp_json_put_string_or_null(b, t->reason);
	pp_buf_puts(b, "}");
	return b->err;
}

static void route_history(struct req *req, const char *name)
{
	struct http_worker *w = req->w;
	struct pp_serve *s = w->s;
	struct MHD_Connection *c = req->conn;
	const char *ls = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit");
	const char *ss = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "since");
	const char *check = name, *unit = NULL, *why = NULL;
	unsigned limit = HISTORY_LIMIT;
	double since = 0;
	struct hist_ctx h = {&req->body, 0};
	struct gen *g;
	char err[256];
	int rc;

	if (ls && pp_parse_uint(ls, 1, HISTORY_MAX, &limit, &why) < 0) {
		set_error(req, 400, "limit \"%s\" %s", ls, why);
		return;
	}
	if (ss && pp_parse_seconds(ss, 1, 1e12, &since, &why) < 0) {
		set_error(req, 400, "since \"%s\" %s (Unix time in seconds)", ss, why);
		return;
	}
	if (!s->db_path) {
		set_error(req, 404, "history is disabled (--no-db or store.disabled)");
		return;
	}
	/* NAME is a check (all its units) or one unit */
	g = serve_gen_get(s);
	if (!pp_config_check_find(g->cfg, name)) {
		const struct pp_config_unit *u = pp_config_unit_find(g->cfg, name);

		if (!u) {
			serve_gen_put(g);
			set_error(req, 404, "no check or unit called \"%s\"", name);
			return;
		}
		unit = name;
		check = g->cfg->checks[u->check].name;
	}
	if (!w->store) {
		struct pp_store_opts so;

		pp_store_opts_init(&so);
		if ((rc = pp_store_open(s->db_path, &so, &w->store, err, sizeof(err))) < 0) {
			serve_gen_put(g);
			set_error(req, 503, "%s", err);
			return;
		}
	}
	pp_buf_puts(&req->body, "{\"name\":");
	pp_json_put_string(&req->body, name);
	pp_buf_puts(&req->body, ",\"results\":[");
	rc = pp_store_history(w->store, check, unit, (int64_t)(since * 1000), limit, on_hist_row,
			      &h, err, sizeof(err));
	if (rc >= 0) {
		pp_buf_puts(&req->body, "],\"transitions\":[");
		h.n = 0;
		rc = pp_store_transitions(w->store, check, unit, (int64_t)(since * 1000), limit,
					  on_hist_transition, &h, err, sizeof(err));
	}
	serve_gen_put(g);
	if (rc < 0) {
		set_error(req, 503, "%s", err);
		return;
	}
	pp_buf_puts(&req->body, "]}\n");
	req->status = 200;
	req->ctype = CT_JSON;
}

/* ---- the handler ------------------------------------------------------------------------ */

static enum route route_of(const char *url)
{
	if (!strcmp(url, "/metrics"))
		return R_METRICS;
	if (!strcmp(url, "/probe"))
		return R_PROBE;
	if (!strcmp(url, "/api/v1/checks"))
		return R_CHECKS;
	if (!strcmp(url, "/healthz"))
		return R_HEALTHZ;
	if (!strncmp(url, "/api/v1/checks/", 15) && strlen(url) > 15 + 8 &&
	    !strcmp(url + strlen(url) - 8, "/history"))
		return R_HISTORY;
	return R_OTHER;
}

static enum MHD_Result add_header_size(void *cls, enum MHD_ValueKind kind, const char *key,
				       const char *value)
{
	(void)kind;
	*(size_t *)cls += strlen(key) + 2 + (value ? strlen(value) : 0) + 2; /* "K: V\r\n" */
	return MHD_YES;
}

/* The request's size as it came: request line, headers, the blank line
 * (the URL's query counted from its decoded arguments: close enough). */
static size_t request_size(struct MHD_Connection *c, const char *url, const char *method,
			   const char *version)
{
	size_t n = strlen(method) + 1 + strlen(url) + 1 + strlen(version) + 2 + 2;

	MHD_get_connection_values(c, MHD_HEADER_KIND, add_header_size, &n);
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_header_size, &n);
	return n;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **req_cls)
{
	struct http_worker *w = cls;
	struct pp_serve *s = w->s;
	struct req *req = *req_cls;
	enum route rt;

	(void)version;
	(void)upload;
	if (!req) {
		if (!(req = calloc(1, sizeof(*req))))
			return MHD_NO;
		req->w = w;
		req->conn = c;
		pp_buf_init(&req->body, 64u << 20);
		*req_cls = req;
		return MHD_YES;
	}
	if (req->status) /* resumed with its answer */
		return answer(req, NULL, NULL);
	if (*upload_size) {
		req->has_body = true;
		*upload_size = 0;
		return MHD_YES;
	}
	rt = route_of(url);
	count(s, rt);
	{
		struct gen *g = serve_gen_get(s);
		size_t max = g->cfg->server.max_request_bytes, size;

		serve_gen_put(g);
		if (strlen(url) > max) {
			set_error(req, 414, "the URL is longer than max_request_bytes (%zu)", max);
			return answer(req, NULL, NULL);
		}
		size = request_size(c, url, method, version);
		if (size > max) {
			set_error(req, 431,
				  "the request line and headers (%zu bytes) are larger than "
				  "max_request_bytes (%zu)",
				  size, max);
			return answer(req, NULL, NULL);
		}
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD)) {
		set_error(req, 405, "method %s is not allowed: use GET", method);
		return answer(req, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	}
	if (req->has_body) {
		set_error(req, 413, "a GET request takes no body");
		return answer(req, NULL, NULL);
	}
	if (rt != R_HEALTHZ) {
		struct gen *g = serve_gen_get(s);
		int rc = pp_http_auth_check(
		    &g->cfg->server.auth,
		    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION));
		const char *challenge = pp_http_auth_challenge(&g->cfg->server.auth);

		serve_gen_put(g);
		if (rc < 0) {
			set_error(req, 401, "authentication required");
			return answer(req, MHD_HTTP_HEADER_WWW_AUTHENTICATE, challenge);
		}
	}
	switch (rt) {
	case R_HEALTHZ:
		pp_buf_puts(&req->body, "ok\n");
		req->status = 200;
		break;
	case R_METRICS:
		serve_write_metrics(s, &req->body);
		req->status = 200;
		req->ctype = CT_METRICS;
		break;
	case R_CHECKS:
		serve_write_checks(s, &req->body);
		req->status = 200;
		req->ctype = CT_JSON;
		break;
	case R_HISTORY: {
		size_t l = strlen(url) - 15 - 8;
		char *name = strndup(url + 15, l);

		if (!name)
			return MHD_NO;
		route_history(req, name);
		free(name);
		break;
	}
	case R_PROBE:
		if (route_probe(req))
			return MHD_YES; /* suspended until the probe reports */
		break;
	default:
		set_error(req, 404,
			  "no such page: %s (try /metrics, /probe?target=HOST:PORT&module=NAME, "
			  "/api/v1/checks, /healthz)",
			  url);
		break;
	}
	return answer(req, NULL, NULL);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct req *req = *req_cls;

	(void)toe;
	conn_deadline(cls, c, true); /* the next request's time starts now */
	if (!req)
		return;
	if (req->lookup)
		resolver_cancel(req->w->resolver, req->lookup);
	req_unlink(req);
	if (req->has_preq)
		pp_probe_req_release(&req->preq);
	serve_gen_put(req->gen);
	pp_buf_release(&req->body);
	free(req);
	*req_cls = NULL;
}

/* How often connections are checked against their deadline: a quarter of
 * request_timeout, between 50 ms and 1 s. */
static uint64_t sweep_period(uint64_t request_ns)
{
	uint64_t p = request_ns / 4;

	return p < 50000000ull ? 50000000ull : p > 1000000000ull ? 1000000000ull : p;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct http_worker *w = cls;
	struct hconn *hc = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *info =
		    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

		if (!info || !(hc = calloc(1, sizeof(*hc))))
			return; /* MHD's idle timeout still applies */
		hc->fd = info->connect_fd;
		hc->deadline = pp_loop_now(w->loop) + w->request_ns;
		if ((hc->next = w->conns))
			w->conns->prev = hc;
		w->conns = hc;
		*socket_context = hc;
		return;
	}
	if (!hc)
		return;
	if (hc->prev)
		hc->prev->next = hc->next;
	else
		w->conns = hc->next;
	if (hc->next)
		hc->next->prev = hc->prev;
	free(hc);
	*socket_context = NULL;
}

/* Every connection whose request has not arrived whole by its deadline is
 * shut down; MHD sees the end of the stream and closes it. */
static void on_sweep(struct pp_loop *loop, struct pp_timer *t, void *data)
{
	struct http_worker *w = data;
	uint64_t now = pp_loop_now(loop);

	for (struct hconn *hc = w->conns; hc; hc = hc->next) {
		if (!hc->deadline || now < hc->deadline)
			continue;
		hc->deadline = 0;
		shutdown(hc->fd, SHUT_RDWR);
		atomic_fetch_add_explicit(&w->s->http_timeouts, 1, memory_order_relaxed);
		serve_log(
		    w->s, PP_LOG_DEBUG,
		    "http: a request did not arrive within request_timeout; connection closed");
	}
	pp_timer_start(loop, t, sweep_period(w->request_ns));
}

__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct pp_serve *s = cls;
	char msg[512];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = 0;
	serve_log(s, PP_LOG_DEBUG, "http: %s", msg);
}

/* ---- the worker's loop ---------------------------------------------------------------------- */

/* True while a connection has an answer being made or sent (its deadline
 * is 0: see conn_deadline), or a request waits for its probe. */
static bool worker_busy(const struct http_worker *w)
{
	if (w->nwaiting)
		return true;
	for (const struct hconn *hc = w->conns; hc; hc = hc->next)
		if (!hc->deadline)
			return true;
	return false;
}

static void mhd_rearm(struct http_worker *w)
{
	MHD_UNSIGNED_LONG_LONG ms;

	/* a stopping worker ends once every answer asked for is sent */
	if (w->stopping && !worker_busy(w)) {
		pp_loop_stop(w->loop);
		return;
	}
	if (w->resume_pending)
		pp_timer_start(w->loop, &w->mhd_timer, 0);
	else if (MHD_get_timeout(w->d, &ms) == MHD_YES)
		pp_timer_start(w->loop, &w->mhd_timer, (uint64_t)ms * 1000000ull);
	else
		pp_timer_stop(w->loop, &w->mhd_timer);
}

static void on_mhd_fd(struct pp_loop *loop, int fd, uint32_t events, void *data)
{
	struct http_worker *w = data;

	(void)loop;
	(void)fd;
	(void)events;
	w->resume_pending = false;
	MHD_run(w->d);
	mhd_rearm(w);
}

static void on_mhd_timer(struct pp_loop *loop, struct pp_timer *t, void *data)
{
	struct http_worker *w = data;

	(void)loop;
	(void)t;
	w->resume_pending = false;
	MHD_run(w->d);
	mhd_rearm(w);
}

/* Answers every waiting request with 503 (a stop that could not wait). */
static void abandon_waiting(struct http_worker *w)
{
	pp_runner_free(w->runner); /* cancels the probes: no callbacks */
	w->runner = NULL;
	while (w->waiting) {
		struct req *req = w->waiting;

		if (req->lookup) {
			resolver_cancel(w->resolver, req->lookup);
			req->lookup = NULL;
		}
		set_error(req, 503, "portprobe is stopping");
		req_unlink(req);
		MHD_resume_connection(req->conn);
	}
}

static void on_drain(struct pp_loop *loop, struct pp_timer *t, void *data)
{
	struct http_worker *w = data;

	(void)t;
	abandon_waiting(w);
	pp_loop_stop(loop);
}

static void on_stop(struct pp_loop *loop, int fd, uint32_t events, void *data)
{
	struct http_worker *w = data;
	uint64_t v;

	(void)events;
	if (read(fd, &v, sizeof(v)) < 0 || w->stopping)
		return;
	w->stopping = true;
	/* no new connections; the ones open get what they asked for (probes
	 * and answers being sent, for at most DRAIN_NS), then the loop ends */
	if (MHD_quiesce_daemon(w->d) >= 0)
		w->quiesced = true;
	pp_timer_start(loop, &w->drain, DRAIN_NS);
	mhd_rearm(w);
}

static void *worker_main(void *arg)
{
	struct http_worker *w = arg;
	int rc = pp_loop_run(w->loop);

	if (rc < 0)
		serve_log(w->s, PP_LOG_ERROR, "http worker %u: %s", w->idx, strerror(-rc));
	/* a request the last MHD_run() reads is answered 503: the runner is gone */
	w->stopping = true;
	abandon_waiting(w);
	MHD_run(w->d); /* hand the last answers to the sockets */
	return NULL;
}

static int worker_start(struct http_worker *w, char *err, size_t errlen)
{
	struct pp_serve *s = w->s;
	const struct pp_config_server *srv = &s->cur->cfg->server;
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO;
	unsigned limit = (srv->max_concurrency + s->nworkers - 1) / s->nworkers;
	size_t mem = srv->max_request_bytes < 4096 ? 4096 : srv->max_request_bytes;
	const union MHD_DaemonInfo *info;
	int rc;

	if ((rc = pp_loop_new(&w->loop)) < 0 ||
	    (rc = pp_runner_new(NULL, 0, NULL, NULL, &w->runner)) < 0) {
		snprintf(err, errlen, "http worker: %s", strerror(-rc));
		return rc;
	}
	pp_timer_init(&w->mhd_timer, on_mhd_timer, w);
	pp_timer_init(&w->drain, on_drain, w);
	pp_timer_init(&w->sweep, on_sweep, w);
	w->request_ns = clock_sec_to_ns(srv->request_timeout);
	if (s->tls_cert)
		flags |= MHD_USE_TLS;
	{
		/* the certificate and key, or nothing, for a plain HTTP daemon */
		struct MHD_OptionItem tls[] = {
		    {MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls_cert},
		    {MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls_key},
		    {MHD_OPTION_END, 0, NULL},
		};

		/* MHD's pool holds the request (line and headers) and builds the
		 * response's headers: the request cap plus room for those */
		w->d = MHD_start_daemon(
		    flags, 0, NULL, NULL, on_request, w, MHD_OPTION_LISTEN_SOCKET, w->lfd,
		    MHD_OPTION_CONNECTION_LIMIT, limit ? limit : 1u, MHD_OPTION_CONNECTION_TIMEOUT,
		    (unsigned)ceil(srv->request_timeout), MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		    mem + 2048, MHD_OPTION_NOTIFY_COMPLETED, on_completed, w,
		    MHD_OPTION_NOTIFY_CONNECTION, on_connection, w, MHD_OPTION_EXTERNAL_LOGGER,
		    on_mhd_log, s, MHD_OPTION_ARRAY, s->tls_cert ? tls : tls + 2, MHD_OPTION_END);
	}
	if (!w->d) {
		snprintf(err, errlen, "%s: the HTTP server did not start%s", s->url,
			 s->tls_cert ? " (is the TLS certificate and key a matching PEM pair?)"
				     : "");
		return -EINVAL;
	}
	if (!(info = MHD_get_daemon_info(w->d, MHD_DAEMON_INFO_EPOLL_FD))) {
		snprintf(err, errlen, "http: no epoll descriptor");
		return -EINVAL;
	}
	w->epfd = info->epoll_fd;
	if ((w->stop_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		rc = -errno;
		snprintf(err, errlen, "eventfd: %s", strerror(-rc));
		return rc;
	}
	if ((rc = pp_loop_add_fd(w->loop, w->epfd, EPOLLIN, on_mhd_fd, w)) < 0 ||
	    (rc = pp_loop_add_fd(w->loop, w->stop_efd, EPOLLIN, on_stop, w)) < 0) {
		snprintf(err, errlen, "http: %s", strerror(-rc));
		return rc;
	}
	mhd_rearm(w);
	pp_timer_start(w->loop, &w->sweep, sweep_period(w->request_ns));
	if ((rc = pthread_create(&w->th, NULL, worker_main, w)) != 0) {
		snprintf(err, errlen, "http: cannot start a thread: %s", strerror(rc));
		return -rc;
	}
	w->started = true;
	return 0;
}

int http_workers_start(struct pp_serve *s, char *err, size_t errlen)
{
	for (unsigned i = 0; i < s->nworkers; i++) {
		int rc = worker_start(s->workers[i], err, errlen);

		if (rc < 0)
			return rc;
	}
	return 0;
}

void http_workers_stop(struct pp_serve *s)
{
	uint64_t one = 1;

	for (unsigned i = 0; i < s->nworkers; i++) {
		ssize_t n = 0;

		/* an eventfd write fails only when the counter would overflow */
		if (s->workers[i]->started)
			n = write(s->workers[i]->stop_efd, &one, sizeof(one));
		(void)n;
	}
}

void http_workers_free(struct pp_serve *s)
{
	/* workers still running (a later one failed to start) end first */
	http_workers_stop(s);
	for (unsigned i = 0; i < s->nworkers; i++) {
		struct http_worker *w = s->workers[i];

		if (!w)
			continue;
		if (w->started)
			pthread_join(w->th, NULL);
		if (w->loop) {
			if (w->epfd >= 0)
				pp_loop_del_fd(w->loop, w->epfd);
			if (w->stop_efd >= 0)
				pp_loop_del_fd(w->loop, w->stop_efd);
			pp_timer_stop(w->loop, &w->mhd_timer);
			pp_timer_stop(w->loop, &w->drain);
			pp_timer_stop(w->loop, &w->sweep);
		}
		if (w->d) {
			MHD_stop_daemon(w->d);
			if (!w->quiesced)
				w->lfd = -1; /* MHD closed it */
		}
		while (w->conns) { /* in case MHD did not report every close */
			struct hconn *hc = w->conns;

			w->conns = hc->next;
			free(hc);
		}
		pp_runner_free(w->runner);
		resolver_free(w->resolver);
		pp_store_close(w->store);
		if (w->stop_efd >= 0)
			close(w->stop_efd);
		if (w->lfd >= 0)
			close(w->lfd);
		pp_loop_free(w->loop);
		free(w);
		s->workers[i] = NULL;
	}
	free(s->workers);
	s->workers = NULL;
	s->nworkers = 0;
}
