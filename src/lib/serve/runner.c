/* runner.c: runs configuration units on a loop and judges each result.
 *
 * A job is one started unit: a pp_check for a connect unit, a pp_tls with one
 * target for a certificate unit. At most max_inflight jobs run at once; the
 * rest wait in a FIFO of unit indexes and start as jobs finish, so a file
 * with 10,000 units neither runs out of descriptors nor starts 10,000
 * resolvers at once. Neither a pp_check nor a pp_tls can be freed inside its
 * own callbacks (the connector is still on the stack), so finished jobs are
 * reaped from a zero-delay timer. A unit that cannot start (its CA file
 * is gone, descriptors ran out) or that overruns the bound serve sets
 * (pp_runner_set_run_share) is still reported, from a timer, with a result
 * of its own saying why: a unit is never left silent. The verdict rules
 * (pp_run_status and reason) are the ones `portprobe check` and
 * `portprobe tls -o nagios` use, so `run` agrees with them. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "portprobe/runner.h"
#include "out/tls_out.h"
#include "tls/report.h"
#include "tls/x509sum.h"

/* One started unit. */
struct job {
	struct pp_runner *r;                   /* owner */
	size_t unit;                           /* index in cfg->units; SIZE_MAX for a probe */
	const struct pp_config_module *module; /* a probe's module, NULL for a unit */
	pp_run_cb *cb;                         /* where the result goes */
	void *data;                            /* its argument */
	struct pp_check *check;                /* connect units */
	struct pp_tls *tls;                    /* certificate units */
	struct timespec start;                 /* CLOCK_MONOTONIC at start */
	struct pp_timer reap;                  /* frees a finished tls job outside its callback */
	struct pp_timer fail;                  /* reports failed (start failure, overrun) */
	struct pp_timer bound;                 /* the run's bound, when the runner has one */
	struct pp_check_result failed;         /* the result a failed start or overrun reports */
	enum pp_run_status fail_status;        /* its verdict */
	const char *fail_reason;               /* and reason (a static string) */
	bool reported;                         /* the callback has had its result */
	struct job *prev, *next;               /* the runner's list of jobs */
};

struct pp_runner {
	const struct pp_config *cfg; /* borrowed */
	unsigned max_inflight;       /* jobs at once */
	pp_run_cb *cb;               /* result callback */
	void *data;                  /* its argument */
	struct pp_loop *loop;        /* the loop jobs run on (the last start's) */
	struct job *jobs;            /* running jobs */
	unsigned running;            /* entries in jobs */
	size_t *queue;               /* waiting unit indexes, a ring */
	size_t qcap, qhead, qlen;    /* its size, first entry, entries */
	double run_share;            /* a unit's run is bounded to this share of its
				      * check's interval; 0: unbounded */
};

static double elapsed(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) + (double)(b.tv_nsec - a->tv_nsec) / 1e9;
}

static void job_unlink(struct job *j)
{
	struct pp_runner *r = j->r;

	if (j->prev)
		j->prev->next = j->next;
	else
		r->jobs = j->next;
	if (j->next)
		j->next->prev = j->prev;
	if (j->unit != SIZE_MAX)
		r->running--;
}

static void job_free(struct job *j)
{
	if (!j)
		return;
	if (j->r->loop) {
		pp_timer_stop(j->r->loop, &j->reap);
		pp_timer_stop(j->r->loop, &j->fail);
		pp_timer_stop(j->r->loop, &j->bound);
	}
	pp_check_free(j->check);
	pp_tls_free(j->tls);
	free(j);
}

static void start_queued(struct pp_runner *r);

/* Ends a job: unlinked and freed, then the next queued unit starts. */
static void job_end(struct job *j)
{
	struct pp_runner *r = j->r;

	job_unlink(j);
	job_free(j);
	start_queued(r);
}

/* The verdict of a connect unit's result. */
static void judge_check(const struct pp_check_result *c, struct pp_run_result *res)
{
	if (c->connected) {
		res->status = PP_RUN_OK;
		res->reason = NULL;
	} else {
		res->status = pp_check_result_is_local(c) ? PP_RUN_UNKNOWN : PP_RUN_CRITICAL;
		res->reason = pp_error_message(c->error);
	}
}

/* CRITICAL when the target gave no certificate to judge (it failed, or sent
 * none); true when that decided it. */
static bool judge_tls_answer(const struct tls_report *t, struct pp_run_result *res)
{
	res->status = PP_RUN_CRITICAL;
	if (t->error != PP_ERROR_NONE) {
		res->reason = t->error_kind ? t->error_kind : pp_error_message(t->error);
		return true;
	}
	if (!t->ndeps) {
		res->reason = "No certificate";
		return true;
	}
	return false;
}

/* The verdict of a certificate unit's report (the rules in runner.h). */
static void judge_tls(const struct tls_report *t, const struct pp_config_tls *o,
		      struct pp_run_result *res)
{
	long long days = 0;
	bool has = pp_run_cert_days_left(res, &days);

	if (judge_tls_answer(t, res))
		return;
	for (size_t k = 0; k < t->ndeps; k++) {
		const struct tls_chain_info *ch = &t->deps[k].chain;

		if (!ch->verified || (ch->hostname_checked && !ch->hostname_match)) {
			res->reason = tls_verdict_name(ch->verdict);
			return;
		}
	}
	if (has && days < 0) {
		res->reason = "expired";
	} else if (has && days <= o->critical_days) {
		res->reason = "expires soon";
	} else if (has && days <= o->warning_days) {
		res->status = PP_RUN_WARNING;
		res->reason = "expires soon";
	} else {
		res->status = PP_RUN_OK;
		res->reason = NULL;
	}
}

/* The verdict of a probe's report: blackbox_exporter's rules. */
static void judge_probe_tls(const struct tls_report *t, const struct pp_config_module *m,
			    struct pp_run_result *res)
{
	if (judge_tls_answer(t, res))
		return;
	if (!m->insecure_skip_verify) {
		const struct tls_chain_info *ch = &t->deps[0].chain;

		if (!ch->verified || (ch->hostname_checked && !ch->hostname_match)) {
			res->reason = tls_verdict_name(ch->verdict);
			return;
		}
	}
	res->status = PP_RUN_OK;
	res->reason = NULL;
}

bool pp_run_cert_days_left(const struct pp_run_result *r, long long *days)
{
	const struct tls_report *t = (const struct tls_report *)r->tls;
	time_t earliest;

	if (!t || t->error != PP_ERROR_NONE || !t->ndeps)
		return false;
	earliest = tls_report_earliest_expiry(t);
	if (!earliest)
		return false;
	*days = tls_out_days(earliest, t->now);
	return true;
}

static void fill_common(struct job *j, struct pp_run_result *res)
{
	memset(res, 0, sizeof(*res));
	res->cfg = j->unit == SIZE_MAX ? NULL : j->r->cfg;
	res->unit = j->unit;
	res->duration = elapsed(&j->start);
	clock_gettime(CLOCK_REALTIME, &res->timestamp);
}

static void on_check_result(void *data, const struct pp_check_result *c)
{
	struct job *j = data;
	struct pp_run_result res;

	if (j->reported)
		return; /* one result per unit (all_addresses is never set) */
	fill_common(j, &res);
	res.check = c;
	res.timestamp = c->timestamp;
	judge_check(c, &res);
	j->reported = true;
	pp_timer_stop(j->r->loop, &j->bound);
	j->cb(j->data, &res);
}

static void on_check_done(void *data)
{
	struct job *j = data;

	/* The connector is still on the stack: free the check from a timer. */
	pp_timer_start(j->r->loop, &j->reap, 0);
}

static void on_reap(struct pp_loop *loop, struct pp_timer *timer, void *data)
{
	(void)loop;
	(void)timer;
	job_end(data);
}

static void on_tls_report(void *data, const struct pp_tls_report *rep)
{
	struct job *j = data;
	struct pp_run_result res;

	if (j->reported)
		return; /* the bound reported it; the reaper frees it */
	pp_timer_stop(j->r->loop, &j->bound);
	fill_common(j, &res);
	res.tls = rep;
	if (j->module) {
		judge_probe_tls((const struct tls_report *)rep, j->module, &res);
	} else {
		const struct pp_config_unit *u = &j->r->cfg->units[j->unit];

		judge_tls((const struct tls_report *)rep, &j->r->cfg->checks[u->check].tls, &res);
	}
	j->reported = true;
	j->cb(j->data, &res);
	pp_timer_start(j->r->loop, &j->reap, 0);
}

/* Starts the connect unit u as job j. */
static int start_check(struct job *j, const struct pp_config_unit *u)
{
	struct pp_check_opts o;

	pp_config_unit_check_opts(j->r->cfg, u, &o);
	return pp_check_start(j->r->loop, &o, on_check_result, on_check_done, j, &j->check);
}

/* Starts the certificate unit u as job j: one pp_tls with one target. On
 * failure why[] may say more than the return. */
static int start_tls(struct job *j, const struct pp_config_unit *u, char *why, size_t whylen)
{
	const struct pp_config_check *ck = &j->r->cfg->checks[u->check];
	struct pp_tls_opts o;
	const char *what = NULL;
	int rc;

	pp_config_unit_tls_opts(j->r->cfg, u, &o);
	o.parallel = 1;
	if ((rc = pp_tls_new(&o, &j->tls, &what)) < 0) {
		if (o.ca_file && access(o.ca_file, R_OK) < 0)
			snprintf(why, whylen, "cannot read the CA file %s: %s", o.ca_file,
				 strerror(errno));
		else if (what)
			snprintf(why, whylen, "%s", what);
		return rc;
	}
	if ((rc = pp_tls_add(j->tls, ck->host, u->port)) < 0)
		return rc;
	return pp_tls_start(j->tls, j->r->loop, on_tls_report, j);
}

/* Reports j's failed result (a start failure or an overrun), then ends j. */
static void on_fail(struct pp_loop *loop, struct pp_timer *timer, void *data)
{
	struct job *j = data;
	struct pp_run_result res;

	(void)loop;
	(void)timer;
	if (!j->reported) {
		fill_common(j, &res);
		clock_gettime(CLOCK_REALTIME, &j->failed.timestamp);
		j->failed.response_time = res.duration;
		res.check = &j->failed;
		res.timestamp = j->failed.timestamp;
		res.status = j->fail_status;
		res.reason = j->fail_reason;
		j->reported = true;
		j->cb(j->data, &res);
	}
	job_end(j);
}

/* Makes j report, from a timer, that it failed with error and the detail. */
static void job_fail(struct job *j, enum pp_error error, enum pp_run_status status,
		     const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void job_fail(struct job *j, enum pp_error error, enum pp_run_status status,
		     const char *reason, const char *fmt, ...)
{
	const struct pp_config_unit *u = &j->r->cfg->units[j->unit];
	va_list ap;

	memset(&j->failed, 0, sizeof(j->failed));
	j->failed.host = j->r->cfg->checks[u->check].host;
	j->failed.port = u->port;
	j->failed.error = j->failed.out.error = error;
	j->failed.attempts = 1;
	va_start(ap, fmt);
	vsnprintf(j->failed.detail, sizeof(j->failed.detail), fmt, ap);
	va_end(ap);
	j->fail_status = status;
	j->fail_reason = reason;
	pp_timer_start(j->r->loop, &j->fail, 0);
}

/* The interval of unit's check, s. */
static double unit_interval(const struct pp_runner *r, size_t unit)
{
	return r->cfg->checks[r->cfg->units[unit].check].interval;
}

/* The bound of j's run passed: it is stopped and reported as a timeout. */
static void on_bound(struct pp_loop *loop, struct pp_timer *timer, void *data)
{
	struct job *j = data;
	double interval = unit_interval(j->r, j->unit);

	(void)loop;
	(void)timer;
	if (j->reported)
		return;
	job_fail(j, PP_ERROR_TIMEOUT, PP_RUN_CRITICAL, pp_error_message(PP_ERROR_TIMEOUT),
		 "the run took more than %.3g s (%.0f%% of the %.3g s interval) and was stopped",
		 interval * j->r->run_share, j->r->run_share * 100, interval);
}

/* A new job, linked into the runner's list. */
static struct job *job_new(struct pp_runner *r, size_t unit, pp_run_cb *cb, void *data)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->r = r;
	j->unit = unit;
	j->cb = cb;
	j->data = data;
	pp_timer_init(&j->reap, on_reap, j);
	pp_timer_init(&j->fail, on_fail, j);
	pp_timer_init(&j->bound, on_bound, j);
	clock_gettime(CLOCK_MONOTONIC, &j->start);
	j->next = r->jobs;
	if (r->jobs)
		r->jobs->prev = j;
	r->jobs = j;
	if (unit != SIZE_MAX)
		r->running++;
	return j;
}

/* Starts a probe's TLS handshake(s): certificate-only pp_tls, one target. */
static int start_probe_tls(struct job *j, const struct pp_probe_spec *sp)
{
	const struct pp_config_module *m = sp->module;
	struct pp_tls_opts o;
	const char *why = NULL;
	int rc;

	pp_tls_opts_init(&o);
	o.cert_only = true;
	o.parallel = 1;
	o.starttls = "none";
	o.sni = sp->server_name;
	o.ca_file = m->ca_file;
	o.timeout_ns = (uint64_t)(sp->timeout * 1e9);
	o.family = m->ip_protocol_fallback ? AF_UNSPEC : m->preferred_family;
	if ((rc = pp_tls_new(&o, &j->tls, &why)) < 0)
		return rc;
	if ((rc = pp_tls_add(j->tls, sp->host, sp->port)) < 0)
		return rc;
	return pp_tls_start(j->tls, j->r->loop, on_tls_report, j);
}

int pp_runner_probe(struct pp_runner *r, struct pp_loop *loop, const struct pp_probe_spec *sp,
		    pp_run_cb *cb, void *data)
{
	const struct pp_config_module *m = sp->module;
	struct job *j;
	int rc;

	if (!m || !sp->host || !sp->port || !(sp->timeout > 0))
		return -EINVAL;
	r->loop = loop;
	if (!(j = job_new(r, SIZE_MAX, cb, data)))
		return -ENOMEM;
	j->module = m;
	if (m->prober == PP_CONFIG_PROBER_TLS || m->tls) {
		rc = start_probe_tls(j, sp);
	} else {
		struct pp_check_opts o;

		pp_check_opts_init(&o);
		o.host = sp->host;
		o.port = sp->port;
		o.timeout = sp->timeout;
		o.attempts = 1;
		o.source = m->source;
		o.family = m->ip_protocol_fallback ? AF_UNSPEC : m->preferred_family;
		rc = pp_check_start(loop, &o, on_check_result, on_check_done, j, &j->check);
	}
	if (rc < 0) {
		job_unlink(j);
		job_free(j);
	}
	return rc;
}

/* Starts one unit now. A unit that cannot start is reported as failed
 * (UNKNOWN: a problem of this host or of the configuration's files), from a
 * timer, so that the caller's callback never runs inside its start. */
static int start_now(struct pp_runner *r, size_t unit)
{
	const struct pp_config_unit *u = &r->cfg->units[unit];
	struct job *j = job_new(r, unit, r->cb, r->data);
	char why[160] = "";
	int rc;

	if (!j)
		return -ENOMEM;
	rc = u->kind == PP_CONFIG_UNIT_CERT ? start_tls(j, u, why, sizeof(why)) : start_check(j, u);
	if (rc < 0) {
		pp_check_free(j->check);
		pp_tls_free(j->tls);
		j->check = NULL;
		j->tls = NULL;
		job_fail(j,
			 rc == -ENOMEM || rc == -EMFILE || rc == -ENFILE ? PP_ERROR_LOCAL_RESOURCE
									 : PP_ERROR_OTHER,
			 PP_RUN_UNKNOWN, "Cannot start", "cannot start: %s",
			 why[0] ? why : strerror(-rc));
		return 0;
	}
	if (r->run_share > 0)
		pp_timer_start(r->loop, &j->bound,
			       clock_sec_to_ns(unit_interval(r, unit) * r->run_share));
	return 0;
}

static void start_queued(struct pp_runner *r)
{
	while (r->qlen && r->running < r->max_inflight) {
		size_t unit = r->queue[r->qhead];

		r->qhead = (r->qhead + 1) % r->qcap;
		r->qlen--;
		if (start_now(r, unit) < 0) {
			/* no memory for the job: the unit goes back to the queue's
			 * front and is tried again when the next job ends */
			r->qhead = (r->qhead + r->qcap - 1) % r->qcap;
			r->qlen++;
			break;
		}
	}
}

int pp_runner_new(const struct pp_config *cfg, unsigned max_inflight, pp_run_cb *cb, void *data,
		  struct pp_runner **ret)
{
	struct pp_runner *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->cfg = cfg;
	r->max_inflight = max_inflight ? max_inflight : 256;
	r->cb = cb;
	r->data = data;
	*ret = r;
	return 0;
}

void pp_runner_set_run_share(struct pp_runner *r, double share)
{
	r->run_share = share > 0 && share <= 1 ? share : 0;
}

int pp_runner_start(struct pp_runner *r, struct pp_loop *loop, size_t unit)
{
	if (!r->cfg || unit >= r->cfg->nunits)
		return -EINVAL;
	r->loop = loop;
	if (r->running < r->max_inflight && !r->qlen)
		return start_now(r, unit);
	if (r->qlen == r->qcap) {
		size_t cap = r->qcap ? r->qcap * 2 : 64;
		size_t *q = malloc(cap * sizeof(*q));

		if (!q)
			return -ENOMEM;
		for (size_t i = 0; i < r->qlen; i++)
			q[i] = r->queue[(r->qhead + i) % r->qcap];
		free(r->queue);
		r->queue = q;
		r->qcap = cap;
		r->qhead = 0;
	}
	r->queue[(r->qhead + r->qlen) % r->qcap] = unit;
	r->qlen++;
	return 0;
}

size_t pp_runner_pending(const struct pp_runner *r)
{
	return r->running + r->qlen;
}

void pp_runner_free(struct pp_runner *r)
{
	if (!r)
		return;
	while (r->jobs) {
		struct job *j = r->jobs;

		job_unlink(j);
		job_free(j);
	}
	free(r->queue);
	free(r);
}

/* SIGINT/SIGTERM during pp_run_all: remember which, stop the loop. */
static void on_signal(struct pp_loop *loop, int signo, void *data)
{
	*(int *)data = signo;
	pp_loop_stop(loop);
}

int pp_run_all(const struct pp_config *cfg, unsigned max_inflight, pp_run_cb *cb, void *data,
	       int *signo)
{
	struct pp_loop *loop = NULL;
	struct pp_runner *r = NULL;
	int rc;

	*signo = 0;
	pp_raise_nofile();
	if ((rc = pp_loop_new(&loop)) < 0)
		return rc;
	if ((rc = pp_loop_add_signal(loop, SIGINT, on_signal, signo)) < 0 ||
	    (rc = pp_loop_add_signal(loop, SIGTERM, on_signal, signo)) < 0 ||
	    (rc = pp_runner_new(cfg, max_inflight, cb, data, &r)) < 0)
		goto out;
	for (size_t i = 0; i < cfg->nunits; i++)
		if ((rc = pp_runner_start(r, loop, i)) < 0)
			goto out;
	/* The loop returns when nothing is left on it (the signal descriptor
	 * does not count), that is when every unit is in, or on a signal. */
	if ((rc = pp_loop_run(loop)) < 0)
		goto out;
	rc = !*signo && pp_runner_pending(r) > 0 ? -EIO : 0;
out:
	pp_runner_free(r);
	pp_loop_free(loop);
	return rc;
}
