/* serve.c: the scheduler of `portprobe serve`: units on timers, results
 * judged and counted, history committed once a second, alerts on each health
 * change, SIGHUP reloads and a clean stop (include/portprobe/serve.h).
 *
 * Schedule. A unit runs every `interval` at a fixed phase inside it, taken
 * from a hash of its name: 10,000 units at 15 s start about 667 runs each
 * second rather than 10,000 at once, and a restart or a reload keeps every
 * unit's rhythm. A unit whose previous run has not finished is skipped (and
 * counted), never stacked. Each run is bounded to 80% of its interval (the
 * timeout, and for several attempts their delays too, are scaled down when
 * the file asks for more), as InfraSonar bounds its checks.
 *
 * History. Results, health changes and the health rows wait in memory and
 * are committed by a one-second tick in one transaction: a kill -9 loses at
 * most the last second's results, and nothing committed (store.h). A change
 * that raises an alert is committed before the alert is posted, so that a
 * kill -9 right after an alert cannot lose the change and make the restart
 * alert it again. The writes run on the loop, so they wait at most
 * STORE_BUSY_MS for another process's lock: a locked file fails the commit
 * fast, and its rows wait (up to PEND_MAX) for the next tick's try. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "portprobe/output.h"
#include "serve/serve_int.h"

#define TICK_NS        1000000000ull /* history commit and housekeeping */
#define GRACE_NS       5000000000ull /* runs in flight at a stop */
#define PEND_FLUSH_MAX 4096          /* commit early past this many results */
#define PEND_MAX       100000        /* rows kept while the database refuses them */
#define STORE_BUSY_MS  200           /* a commit's wait for another process's lock */
#define TIMEOUT_SHARE  0.8           /* of the interval a run may take */

void pp_serve_opts_init(struct pp_serve_opts *o)
{
	memset(o, 0, sizeof(*o));
}

void serve_log(struct pp_serve *s, enum pp_log_level level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!s->opts.log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&s->log_lock);
	s->opts.log(s->opts.log_data, level, msg);
	pthread_mutex_unlock(&s->log_lock);
}

int64_t serve_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct gen *serve_gen_get(struct pp_serve *s)
{
	struct gen *g;

	pthread_mutex_lock(&s->lock);
	g = s->cur;
	atomic_fetch_add(&g->refs, 1);
	pthread_mutex_unlock(&s->lock);
	return g;
}

void serve_gen_put(struct gen *g)
{
	if (g)
		atomic_fetch_sub(&g->refs, 1);
}

static void gen_free(struct gen *g)
{
	if (!g)
		return;
	pp_runner_free(g->runner);
	pp_config_free(g->cfg);
	free(g);
}

/* 64-bit FNV-1a: the phase of a unit in its interval. */
static uint64_t name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

/* Bounds every check's run to TIMEOUT_SHARE of its interval. */
static void cap_timeouts(struct pp_serve *s, struct pp_config *cfg)
{
	for (size_t i = 0; i < cfg->nchecks; i++) {
		struct pp_config_check *ck = &cfg->checks[i];
		double cap = ck->interval * TIMEOUT_SHARE;
		unsigned n = ck->tcp.attempts ? ck->tcp.attempts : 1;
		double total = ck->timeout * n + ck->tcp.retry_delay * (n - 1);

		if (total <= cap)
			continue;
		ck->timeout *= cap / total;
		ck->tcp.retry_delay *= cap / total;
		serve_log(s, PP_LOG_INFO,
			  "check %s: a run may take %.3g s, more than 80%% of its %.3g s interval; "
			  "timeout lowered to %.3g s",
			  ck->name, total, ck->interval, ck->timeout);
	}
}

struct unit *serve_unit_find(struct pp_serve *s, const char *name)
{
	const struct pp_config_unit *u;

	if (!s->cur || !(u = pp_config_unit_find(s->cur->cfg, name)))
		return NULL;
	return s->units[u - s->cur->cfg->units];
}

static void unit_free(struct unit *u)
{
	if (!u)
		return;
	pp_stats_release(&u->stats);
	if (u->has_last)
		pp_probe_metrics_release(&u->last);
	free(u->last_json);
	free(u->name);
	free(u);
}

static void on_unit_timer(struct pp_loop *loop, struct pp_timer *t, void *data);

/* Thresholds of a check: its own, else the file's alerts: defaults. */
static void unit_thresholds(const struct pp_config *cfg, const struct pp_config_check *ck,
			    unsigned *down, unsigned *up)
{
	*down = ck->down_after ? ck->down_after : cfg->alerts.down_after;
	*up = ck->up_after ? ck->up_after : cfg->alerts.up_after;
	if (!*down)
		*down = PP_STATS_FAIL_THRESHOLD;
	if (!*up)
		*up = PP_STATS_OK_THRESHOLD;
}

static struct unit *unit_new(struct pp_serve *s, const struct pp_config *cfg, size_t idx)
{
	const struct pp_config_unit *cu = &cfg->units[idx];
	const struct pp_config_check *ck = &cfg->checks[cu->check];
	struct unit *u = calloc(1, sizeof(*u));
	struct pp_stats_opts so;

	if (!u || !(u->name = strdup(cu->name))) {
		free(u);
		return NULL;
	}
	u->s = s;
	u->idx = idx;
	pp_stats_opts_init(&so);
	unit_thresholds(cfg, ck, &so.fail_threshold, &so.ok_threshold);
	if (pp_stats_init(&u->stats, &so) < 0) {
		unit_free(u);
		return NULL;
	}
	pp_timer_init(&u->timer, on_unit_timer, u);
	return u;
}

/* Sets the unit's schedule from its check and starts its timer at the next
 * point of its phase. */
static void unit_schedule(struct pp_serve *s, const struct pp_config *cfg, struct unit *u)
{
	const struct pp_config_check *ck = &cfg->checks[cfg->units[u->idx].check];
	uint64_t now = mono_ns(), iv, due;

	iv = (uint64_t)(ck->interval * 1e9);
	if (iv < 1000000)
		iv = 1000000;
	u->interval_ns = iv;
	u->phase_ns = name_hash(u->name) % iv;
	/* the next time t >= now with t = phase (mod interval), on the
	 * monotonic clock's grid */
	due = now - now % iv + u->phase_ns;
	if (due < now)
		due += iv;
	pp_timer_start_at(s->loop, &u->timer, due);
}

static void on_unit_timer(struct pp_loop *loop, struct pp_timer *t, void *data)
{
	struct unit *u = data;
	struct pp_serve *s = u->s;
	int rc;
	uint64_t next = t->expire_ns + u->interval_ns, now = pp_loop_now(loop);

	/* after a stall (a suspended process, a slow commit) keep the grid
	 * but do not replay the runs missed */
	if (next <= now)
		next += (now - next) / u->interval_ns * u->interval_ns + u->interval_ns;
	pp_timer_start_at(loop, t, next);
	if (s->stopping)
		return;
	if (u->running) {
		u->skipped++;
		pthread_mutex_lock(&s->lock);
		s->runs_skipped++;
		pthread_mutex_unlock(&s->lock);
		serve_log(s, PP_LOG_DEBUG, "unit %s: previous run still in flight, run skipped",
			  u->name);
		return;
	}
	if ((rc = pp_runner_start(s->cur->runner, loop, u->idx)) < 0) {
		serve_log(s, PP_LOG_ERROR, "unit %s: cannot start: %s", u->name, strerror(-rc));
		return;
	}
	u->running = true;
	u->run_gen = s->cur;
}

/* ---- results ------------------------------------------------------------------ */

/* Copies n strings into one allocation; *dst[i] point into it (NULL stays NULL). */
static char *pack_strings(const char **src[], size_t n)
{
	size_t len = 0, off = 0;
	char *buf;

	for (size_t i = 0; i < n; i++)
		if (*src[i])
			len += strlen(*src[i]) + 1;
	if (!(buf = malloc(len ? len : 1)))
		return NULL;
	for (size_t i = 0; i < n; i++) {
		size_t l;

		if (!*src[i])
			continue;
		l = strlen(*src[i]) + 1;
		memcpy(buf + off, *src[i], l);
		*src[i] = buf + off;
		off += l;
	}
	return buf;
}

static void count_store_errors(struct pp_serve *s, uint64_t n)
{
	pthread_mutex_lock(&s->lock);
	s->store_errors += n;
	pthread_mutex_unlock(&s->lock);
}

/* The i-th oldest pending row. */
static struct pending *pend_at(struct pp_serve *s, size_t i)
{
	return &s->pend[(s->pend_head + i) % s->cappend];
}

/* The slot after the newest pending row, or NULL (no memory). The rows wait
 * in a ring so that, at PEND_MAX while the database refuses them, the oldest
 * one goes (counted as a store error, logged once per failure) in O(1). */
static struct pending *pend_slot(struct pp_serve *s)
{
	if (s->npend == PEND_MAX) {
		free(pend_at(s, 0)->strs);
		s->pend_head = (s->pend_head + 1) % s->cappend;
		s->npend--;
		count_store_errors(s, 1);
		if (!s->store_dropping)
			serve_log(s, PP_LOG_ERROR,
				  "history: %d rows wait for the database; the oldest are dropped",
				  PEND_MAX);
		s->store_dropping = true;
	}
	if (s->npend == s->cappend) {
		size_t cap = s->cappend ? s->cappend * 2 : 256;
		struct pending *np = malloc(cap * sizeof(*np));

		if (!np)
			return NULL;
		for (size_t i = 0; i < s->npend; i++)
			np[i] = *pend_at(s, i);
		free(s->pend);
		s->pend = np;
		s->cappend = cap;
		s->pend_head = 0;
	}
	return &s->pend[(s->pend_head + s->npend) % s->cappend];
}

/* Takes p (from pend_slot) into the pending rows once its strings, the n
 * fields f point at, are copied into one allocation it owns. */
static void pend_push(struct pp_serve *s, struct pending *p, const char **f[], size_t n)
{
	if (!(p->strs = pack_strings(f, n))) {
		count_store_errors(s, 1);
		return;
	}
	s->npend++;
}

static void pend_result(struct pp_serve *s, const struct pp_store_result *r)
{
	struct pending *p;

	if (!s->store)
		return;
	if (!(p = pend_slot(s))) {
		count_store_errors(s, 1);
		return;
	}
	p->is_transition = false;
	p->r = *r;
	pend_push(s, p,
		  (const char **[]){&p->r.check_name, &p->r.unit, &p->r.state, &p->r.error,
				    &p->r.detail, &p->r.ip, &p->r.extra},
		  7);
}

static void pend_transition(struct pp_serve *s, const struct pp_store_transition *t)
{
	struct pending *p;

	if (!s->store)
		return;
	if (!(p = pend_slot(s))) {
		count_store_errors(s, 1);
		return;
	}
	p->is_transition = true;
	p->t = *t;
	pend_push(s, p, (const char **[]){&p->t.check_name, &p->t.unit, &p->t.reason}, 3);
}

/* The history row of a certificate unit's result. */
static void cert_row(const struct pp_run_result *r, const struct pp_config *cfg,
		     struct pp_store_result *row, char *extra, size_t extralen)
{
	const struct pp_config_unit *cu = &cfg->units[r->unit];
	long long days;

	row->state = r->status == PP_RUN_OK        ? "valid"
		     : r->status == PP_RUN_WARNING ? "expiring"
		     : r->reason                   ? r->reason
						   : "invalid";
	row->error = r->status == PP_RUN_OK ? NULL : r->reason;
	row->port = cu->port;
	row->response_time_s = r->duration;
	row->dns_time_s = NAN;
	row->attempts = 1;
	if (pp_run_cert_days_left(r, &days)) {
		snprintf(extra, extralen, "{\"days_left\":%lld}", days);
		row->extra = extra;
	}
}

static void commit(struct pp_serve *s);

static void on_run_result(void *data, const struct pp_run_result *r)
{
	struct gen *g = data;
	struct pp_serve *s;
	const struct pp_config_unit *cu = &r->cfg->units[r->unit];
	const struct pp_config_check *ck = &r->cfg->checks[cu->check];
	struct pp_store_result row;
	struct pp_stats_event ev;
	struct pp_probe_metrics m;
	struct pp_buf js;
	char ipbuf[PP_ADDRSTRLEN], extra[64];
	int64_t ts_ms = (int64_t)r->timestamp.tv_sec * 1000 + r->timestamp.tv_nsec / 1000000;
	bool ok = r->status == PP_RUN_OK || r->status == PP_RUN_WARNING, changed;
	double latency = r->check ? r->check->response_time : r->duration;
	struct unit *u;
	bool have_m;

	s = g->s;
	pp_buf_init(&js, 1 << 22);
	pp_run_write_json(&js, r);
	have_m = pp_probe_metrics_from_result(&m, r) == 0;

	pthread_mutex_lock(&s->lock);
	u = serve_unit_find(s, cu->name);
	/* Only the run the unit itself started counts. A unit removed by a
	 * reload while it ran has no unit left; one removed and added back by
	 * a later reload is a new unit, whose own run may be in flight: the
	 * old run's result would clear its running flag and let runs stack.
	 * A unit carried over by a reload keeps its run_gen, and so its result. */
	if (!u || !u->running || u->run_gen != g) {
		pthread_mutex_unlock(&s->lock);
		if (have_m)
			pp_probe_metrics_release(&m);
		pp_buf_release(&js);
		return;
	}
	u->running = false;
	changed = pp_stats_add(&u->stats, ts_ms, ok, latency, &ev);
	if (u->has_last)
		pp_probe_metrics_release(&u->last);
	u->has_last = have_m;
	if (have_m)
		u->last = m;
	free(u->last_json);
	u->last_json = js.err ? NULL : js.data;
	if (js.err)
		pp_buf_release(&js);
	u->last_ms = ts_ms;
	s->results_total++;
	u->touched = true;
	pthread_mutex_unlock(&s->lock);

	/* history */
	if (r->check) {
		pp_store_result_from_check(&row, ck->name, cu->name, r->check, ipbuf,
					   sizeof(ipbuf));
	} else {
		memset(&row, 0, sizeof(row));
		row.check_name = ck->name;
		row.unit = cu->name;
		row.ts_ms = ts_ms;
		cert_row(r, r->cfg, &row, extra, sizeof(extra));
	}
	row.ok = ok; /* the verdict's: an UNKNOWN connect result is a failure too */
	pend_result(s, &row);

	if (changed) {
		char reason[256];
		struct pp_store_transition t = {
		    .check_name = ck->name,
		    .unit = cu->name,
		    .ts_ms = ev.at_ms,
		    .from = ev.from,
		    .to = ev.to,
		    .reason = reason,
		};

		if (ev.to == PP_HEALTH_DOWN)
			snprintf(reason, sizeof(reason), "%u consecutive failure%s: %s", ev.streak,
				 ev.streak == 1 ? "" : "s", r->reason ? r->reason : "failed");
		else
			snprintf(reason, sizeof(reason), "%u consecutive success%s", ev.streak,
				 ev.streak == 1 ? "" : "es");
		pend_transition(s, &t);
		serve_log(s, ev.from == PP_HEALTH_UNKNOWN ? PP_LOG_INFO : PP_LOG_WARNING,
			  "unit %s: %s -> %s (%s)", cu->name, pp_health_name(ev.from),
			  pp_health_name(ev.to), reason);
		if (s->alerter && !(ev.from == PP_HEALTH_UNKNOWN && ev.to == PP_HEALTH_UP)) {
			struct pp_alert_label al[PP_ALERT_MAX_LABELS];
			struct pp_alert a;
			int rc;

			/* The change (and the unit's saved health) is committed
			 * before anyone hears of it: a kill -9 after the alert
			 * must not lose it, or the restart would alert it again.
			 * While the database refuses writes the alert goes out
			 * anyway (it matters more than the history) and this
			 * commit is not tried: each try would stall the loop. */
			if (!s->store_failing)
				commit(s);
			memset(&a, 0, sizeof(a));
			a.check = ck->name;
			a.unit = cu->name;
			a.host = ck->host;
			a.port = cu->port;
			a.from = ev.from;
			a.to = ev.to;
			a.at_ms = ev.at_ms;
			a.reason = reason;
			a.streak = ev.streak;
			a.prev_ms = ev.prev_ms;
			a.nlabels =
			    ck->nlabels < PP_ALERT_MAX_LABELS ? ck->nlabels : PP_ALERT_MAX_LABELS;
			for (size_t k = 0; k < a.nlabels; k++)
				al[k] = (struct pp_alert_label){ck->labels[k].name,
								ck->labels[k].value};
			a.labels = a.nlabels ? al : NULL;
			rc = pp_alerter_post(s->alerter, &a);
			pthread_mutex_lock(&s->lock);
			if (rc < 0)
				s->alerts_dropped++;
			else
				s->alerts_posted++;
			pthread_mutex_unlock(&s->lock);
			if (rc < 0)
				serve_log(s, PP_LOG_ERROR, "unit %s: alert not queued: %s",
					  cu->name, strerror(-rc));
		}
	}
	if (s->npend >= PEND_FLUSH_MAX && !s->store_failing && !s->stopping)
		pp_timer_start(s->loop, &s->tick, 0);
}

/* ---- history commits ------------------------------------------------------------ */

static void pend_clear(struct pp_serve *s)
{
	for (size_t i = 0; i < s->npend; i++)
		free(pend_at(s, i)->strs);
	s->npend = 0;
	s->pend_head = 0;
	for (size_t i = 0; i < s->ndeleted; i++)
		free(s->deleted[i]);
	s->ndeleted = 0;
}

/* Commits everything pending in one transaction: the results, the health
 * changes, the saved health of every unit that had a result since the last
 * commit (its streak counters moved), and the removal of units a reload
 * dropped. Only this thread changes units, so reading them needs no lock.
 * When the database refuses the transaction (another process holds the lock,
 * the disk is full) everything stays pending for the next try; only rows the
 * store refuses as invalid, which every try would refuse again, are dropped. */
static void commit(struct pp_serve *s)
{
	char err[256];
	struct pp_store_result *rows = NULL;
	size_t n = 0;
	int rc = 0;

	if (!s->store) {
		pend_clear(s);
		return;
	}
	if (s->npend && !(rows = malloc(s->npend * sizeof(*rows)))) {
		rc = -ENOMEM;
		snprintf(err, sizeof(err), "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < s->npend; i++)
		if (!pend_at(s, i)->is_transition)
			rows[n++] = pend_at(s, i)->r;
	if ((rc = pp_store_begin(s->store, err, sizeof(err))) < 0)
		goto fail;
	if ((rc = pp_store_add_batch(s->store, rows, n, NULL, err, sizeof(err))) < 0)
		goto fail;
	for (size_t i = 0; i < s->npend; i++)
		if (pend_at(s, i)->is_transition &&
		    (rc = pp_store_transition_add(s->store, &pend_at(s, i)->t, err, sizeof(err))) <
			0)
			goto fail;
	for (size_t i = 0; i < s->ndeleted; i++) {
		char *nl = strchr(s->deleted[i], '\n'); /* "check\nunit" */

		if (!nl)
			continue;
		*nl = 0;
		rc = pp_store_state_delete(s->store, s->deleted[i], nl + 1, err, sizeof(err));
		*nl = '\n';
		if (rc < 0)
			goto fail;
	}
	for (size_t i = 0; i < s->nunits; i++) {
		struct unit *u = s->units[i];
		const struct pp_config *cfg = s->cur->cfg;
		struct pp_stats_state st;

		if (!u->touched)
			continue;
		pp_stats_snapshot(&u->stats, &st);
		if ((rc = pp_store_state_save(s->store, cfg->checks[cfg->units[i].check].name,
					      u->name, &st, err, sizeof(err))) < 0)
			goto fail;
	}
	if ((rc = pp_store_commit(s->store, err, sizeof(err))) < 0)
		goto fail;
	free(rows);
	for (size_t i = 0; i < s->nunits; i++)
		s->units[i]->touched = false;
	pthread_mutex_lock(&s->lock);
	s->results_committed += n;
	pthread_mutex_unlock(&s->lock);
	pend_clear(s);
	if (s->store_failing)
		serve_log(s, PP_LOG_INFO, "history: written again after %u failed commit%s",
			  s->store_failures, s->store_failures == 1 ? "" : "s");
	s->store_failing = false;
	s->store_dropping = false;
	s->store_failures = 0;
	return;
fail:
	free(rows);
	pp_store_rollback(s->store);
	count_store_errors(s, 1);
	if (rc == -EINVAL || rc == -E2BIG) {
		serve_log(s, PP_LOG_ERROR, "history: %s (%zu results not written)", err, n);
		pend_clear(s);
		return;
	}
	/* one line per failure, not one per try */
	if (!s->store_failing)
		serve_log(s, PP_LOG_ERROR,
			  "history: %s (%zu result%s kept, tried again each second)", err, n,
			  n == 1 ? "" : "s");
	s->store_failing = true;
	s->store_failures++;
}

static void retired_sweep(struct pp_serve *s)
{
	struct gen **pg = &s->retired;

	while (*pg) {
		struct gen *g = *pg;

		if (atomic_load(&g->refs) == 0 && !pp_runner_pending(g->runner)) {
			*pg = g->next;
			gen_free(g);
		} else {
			pg = &g->next;
		}
	}
}

static void on_tick(struct pp_loop *loop, struct pp_timer *t, void *data)
{
	struct pp_serve *s = data;

	commit(s);
	/* no prune while commits fail: it would wait for the same lock */
	if (s->store && !s->store_failing) {
		char err[256];
		int rc = pp_store_prune(s->store, serve_now_ms(), &s->prune_more, err, sizeof(err));

		if (rc < 0)
			serve_log(s, PP_LOG_ERROR, "history: %s", err);
	}
	retired_sweep(s);
	if (!s->stopping)
		pp_timer_start(loop, t, TICK_NS);
}

/* ---- configuration generations -------------------------------------------------- */

static int gen_new(struct pp_serve *s, struct pp_config *cfg, struct gen **ret)
{
	struct gen *g = calloc(1, sizeof(*g));
	int rc;

	if (!g)
		return -ENOMEM;
	g->cfg = cfg;
	g->s = s;
	atomic_init(&g->refs, 0);
	if ((rc = pp_runner_new(cfg, s->opts.max_inflight ? s->opts.max_inflight : 4096,
				on_run_result, g, &g->runner)) < 0) {
		free(g);
		return rc;
	}
	/* cap_timeouts bounds each connection; this bounds the whole run (a
	 * cipher enumeration makes many connections) */
	pp_runner_set_run_share(g->runner, TIMEOUT_SHARE);
	*ret = g;
	return 0;
}

/* Whether the saved health of check's unit waits to be deleted. */
static bool state_forgotten(const struct pp_serve *s, const char *check, const char *unit)
{
	size_t lc = strlen(check);

	for (size_t i = 0; i < s->ndeleted; i++) /* "check\nunit" */
		if (!strncmp(s->deleted[i], check, lc) && s->deleted[i][lc] == '\n' &&
		    !strcmp(s->deleted[i] + lc + 1, unit))
			return true;
	return false;
}

/* Deletes the saved health of a unit at the next commit. */
static void forget_state(struct pp_serve *s, const char *check, const char *unit)
{
	char **nd;
	char *key = NULL;

	if (!s->store || state_forgotten(s, check, unit) ||
	    !(nd = realloc(s->deleted, (s->ndeleted + 1) * sizeof(*nd))))
		return;
	s->deleted = nd;
	if (asprintf(&key, "%s\n%s", check, unit) >= 0) /* "check\nunit" */
		s->deleted[s->ndeleted++] = key;
}

struct restore_ctx {
	struct pp_serve *s;
	struct unit **units;
	const struct pp_config *cfg;
};

static int on_state_row(void *data, const char *check_name, const char *unit,
			const struct pp_stats_state *st)
{
	struct restore_ctx *c = data;
	const struct pp_config_unit *cu = pp_config_unit_find(c->cfg, unit);

	if (cu && !strcmp(c->cfg->checks[cu->check].name, check_name)) {
		/* not the health of a unit a reload removed, not yet deleted
		 * (the next commit does that): added back, it starts unknown */
		if (c->units[cu - c->cfg->units] && !state_forgotten(c->s, check_name, unit))
			(void)pp_stats_restore(&c->units[cu - c->cfg->units]->stats, st);
	} else {
		/* a unit the file no longer has (removed while serve was down):
		 * forget its health, or a check added back later would inherit it */
		forget_state(c->s, check_name, unit);
	}
	return 0;
}

/* Units for cfg: the current ones carried over by name (moved out of
 * s->units, which is then left holding the units cfg drops), new ones
 * restored from the store. Nothing moves unless everything could be made. */
static int units_build(struct pp_serve *s, const struct pp_config *cfg, struct unit ***ret)
{
	struct unit **units = calloc(cfg->nunits ? cfg->nunits : 1, sizeof(*units));
	size_t *from = calloc(cfg->nunits ? cfg->nunits : 1, sizeof(*from));
	int rc = 0;

	if (!units || !from) {
		free(units);
		free(from);
		return -ENOMEM;
	}
	for (size_t i = 0; i < cfg->nunits && rc == 0; i++) {
		const struct pp_config_unit *cu = &cfg->units[i];
		const struct pp_config_unit *ou =
		    s->cur && s->units ? pp_config_unit_find(s->cur->cfg, cu->name) : NULL;

		from[i] = SIZE_MAX;
		if (ou)
			from[i] = (size_t)(ou - s->cur->cfg->units);
		else if (!(units[i] = unit_new(s, cfg, i)))
			rc = -ENOMEM;
	}
	if (rc < 0) {
		for (size_t i = 0; i < cfg->nunits; i++)
			unit_free(units[i]);
		free(units);
		free(from);
		return rc;
	}
	if (s->store) {
		struct restore_ctx c = {s, units, cfg};
		char err[256];

		if (pp_store_state_load_all(s->store, on_state_row, &c, err, sizeof(err)) < 0)
			serve_log(s, PP_LOG_WARNING, "history: saved health not restored: %s", err);
	}
	for (size_t i = 0; i < cfg->nunits; i++) {
		unsigned down, up;
		struct unit *u;

		if (from[i] == SIZE_MAX)
			continue;
		u = units[i] = s->units[from[i]];
		s->units[from[i]] = NULL;
		unit_thresholds(cfg, &cfg->checks[cfg->units[i].check], &down, &up);
		pp_stats_set_thresholds(&u->stats, down, up);
		u->idx = i;
	}
	free(from);
	*ret = units;
	return 0;
}

static bool str_differs(const char *a, const char *b)
{
	return (a == NULL) != (b == NULL) || (a && strcmp(a, b));
}

static void restart_note(struct pp_serve *s, bool changed, const char *key)
{
	if (changed)
		serve_log(s, PP_LOG_WARNING, "reload: %s changed; restart to apply", key);
}

/* Logs one line for each changed setting a reload cannot apply: each is used
 * once, at start, by something a reload does not make again (the listening
 * socket, the HTTP daemons, the history file, the alerter's thread and queue).
 * Values are not logged: a webhook URL or a command may hold a secret. */
static void restart_notes(struct pp_serve *s, const struct pp_config *was,
			  const struct pp_config *now)
{
	const struct pp_config_server *a = &was->server, *b = &now->server;

	if (strcmp(a->listen, b->listen) && !s->opts.listen)
		serve_log(s, PP_LOG_WARNING,
			  "reload: server.listen changed to %s; restart to apply", b->listen);
	restart_note(s, a->max_request_bytes != b->max_request_bytes,
		     "server.limits.max_request_bytes");
	restart_note(s, a->request_timeout != b->request_timeout, "server.limits.request_timeout");
	restart_note(s, a->max_concurrency != b->max_concurrency, "server.limits.max_concurrency");
	restart_note(s,
		     str_differs(a->tls_cert_file, b->tls_cert_file) ||
			 str_differs(a->tls_key_file, b->tls_key_file),
		     "server.tls");
	/* --db and --no-db override the file's store */
	if (!s->opts.db_path && !s->opts.no_db) {
		restart_note(s, was->store.disabled != now->store.disabled, "store.disabled");
		restart_note(s, strcmp(was->store.path, now->store.path) != 0, "store.path");
	}
	restart_note(s, str_differs(was->alerts.webhook, now->alerts.webhook), "alerts.webhook");
	restart_note(s, was->alerts.webhook_timeout != now->alerts.webhook_timeout,
		     "alerts.webhook_timeout");
	restart_note(s, str_differs(was->alerts.command, now->alerts.command), "alerts.command");
}

static void reload(struct pp_serve *s)
{
	struct pp_config *cfg = NULL;
	struct gen *g = NULL, *old = s->cur;
	struct unit **units = NULL, **old_units = s->units;
	size_t old_n = s->nunits;
	char err[1024];
	int rc;

	if ((rc = pp_config_load(s->config_path, &cfg, err, sizeof(err))) < 0) {
		serve_log(s, PP_LOG_ERROR, "reload refused, the running configuration goes on: %s",
			  err);
		pthread_mutex_lock(&s->lock);
		s->reload_ok = false;
		pthread_mutex_unlock(&s->lock);
		return;
	}
	cap_timeouts(s, cfg);
	if ((rc = gen_new(s, cfg, &g)) < 0) {
		serve_log(s, PP_LOG_ERROR, "reload failed: %s", strerror(-rc));
		pp_config_free(cfg);
		return;
	}
	/* units_build takes the carried-over units out of s->units */
	pthread_mutex_lock(&s->lock);
	rc = units_build(s, cfg, &units);
	if (rc < 0) {
		pthread_mutex_unlock(&s->lock);
		serve_log(s, PP_LOG_ERROR, "reload failed: %s", strerror(-rc));
		gen_free(g);
		return;
	}
	s->cur = g;
	s->units = units;
	s->nunits = cfg->nunits;
	s->reload_ok = true;
	s->reload_ms = serve_now_ms();
	s->reloads++;
	pthread_mutex_unlock(&s->lock);
	restart_notes(s, old->cfg, cfg);
	/* the loader keeps retention in its range; the next tick prunes by it */
	if (s->store)
		(void)pp_store_set_retention(s->store, (int64_t)cfg->store.retention);

	/* the removed units: timers off, saved health deleted at the next commit */
	for (size_t i = 0; i < old_n; i++) {
		struct unit *u = old_units[i];
		const struct pp_config_unit *ou = &old->cfg->units[i];

		if (!u)
			continue;
		pp_timer_stop(s->loop, &u->timer);
		forget_state(s, old->cfg->checks[ou->check].name, ou->name);
		unit_free(u);
	}
	free(old_units);
	for (size_t i = 0; i < s->nunits; i++)
		unit_schedule(s, cfg, s->units[i]);
	old->next = s->retired;
	s->retired = old;
	serve_log(s, PP_LOG_INFO, "configuration reloaded: %zu checks, %zu units", cfg->nchecks,
		  cfg->nunits);
}

/* ---- lifecycle -------------------------------------------------------------------- */

/* Polls, while stopping, for the runs in flight to finish (a job is still
 * counted during its own callback, so the callback cannot tell). */
static void on_grace(struct pp_loop *loop, struct pp_timer *t, void *data)
{
	struct pp_serve *s = data;
	size_t left = pp_runner_pending(s->cur->runner);

	if (!left) {
		pp_loop_stop(loop);
		return;
	}
	if (pp_loop_now(loop) >= s->grace_end_ns) {
		serve_log(s, PP_LOG_WARNING, "stop: %zu runs still in flight after 5 s, abandoned",
			  left);
		pp_loop_stop(loop);
		return;
	}
	pp_timer_start(loop, t, 20000000ull);
}

static void on_signal(struct pp_loop *loop, int signo, void *data)
{
	struct pp_serve *s = data;

	if (signo == SIGHUP) {
		if (!s->stopping)
			reload(s);
		return;
	}
	if (s->stopping) {
		serve_log(s, PP_LOG_WARNING, "second signal: stopping now");
		pp_loop_stop(loop);
		return;
	}
	s->stopping = true;
	s->signo = signo;
	serve_log(s, PP_LOG_INFO, "%s: stopping", signo == SIGINT ? "SIGINT" : "SIGTERM");
	for (size_t i = 0; i < s->nunits; i++)
		pp_timer_stop(loop, &s->units[i]->timer);
	http_workers_stop(s);
	s->grace_end_ns = pp_loop_now(loop) + GRACE_NS;
	pp_timer_start(loop, &s->grace, 0);
}

static void alert_log(void *data, int level, const char *msg)
{
	serve_log(data, level <= PP_ALERT_LOG_ERR ? PP_LOG_ERROR : PP_LOG_WARNING, "%s", msg);
}

int pp_serve_new(const struct pp_serve_opts *o, struct pp_serve **ret, char *err, size_t errlen)
{
	struct pp_serve *s;
	struct pp_config *cfg = NULL;
	sigset_t set;
	int rc;

	if (!o->config_path) {
		snprintf(err, errlen, "no configuration file");
		return -EINVAL;
	}
	if (!(s = calloc(1, sizeof(*s))))
		return -ENOMEM;
	s->opts = *o;
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->log_lock, NULL);
	pp_timer_init(&s->tick, on_tick, s);
	pp_timer_init(&s->grace, on_grace, s);
	s->start_ms = serve_now_ms();
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	pp_raise_nofile();
	if (!(s->config_path = strdup(o->config_path))) {
		rc = -ENOMEM;
		goto fail;
	}
	if ((rc = pp_config_load(o->config_path, &cfg, err, errlen)) < 0) {
		if (rc != -ENOMEM)
			rc = -EINVAL; /* the file is the user's input, whatever is wrong with it */
		goto fail;
	}
	cap_timeouts(s, cfg);
	if ((rc = pp_loop_new(&s->loop)) < 0) {
		snprintf(err, errlen, "cannot create the event loop: %s", strerror(-rc));
		pp_config_free(cfg);
		goto fail;
	}
	if ((rc = gen_new(s, cfg, &s->cur)) < 0) {
		pp_config_free(cfg);
		snprintf(err, errlen, "%s", strerror(-rc));
		goto fail;
	}
	/* history */
	if (!o->no_db && !cfg->store.disabled) {
		struct pp_store_opts so;

		pp_store_opts_init(&so);
		so.retention_s = (int64_t)cfg->store.retention;
		if (!(s->db_path = strdup(o->db_path ? o->db_path : cfg->store.path))) {
			rc = -ENOMEM;
			goto fail;
		}
		if ((rc = pp_store_open(s->db_path, &so, &s->store, err, errlen)) < 0)
			goto fail;
		/* the open may wait for another process; the loop's writes may not */
		pp_store_set_busy_timeout(s->store, STORE_BUSY_MS);
	}
	if ((rc = units_build(s, cfg, &s->units)) < 0) {
		snprintf(err, errlen, "%s", strerror(-rc));
		goto fail;
	}
	s->nunits = cfg->nunits;
	s->reload_ok = true;
	s->reload_ms = s->start_ms;
	/* alerts */
	if (cfg->alerts.webhook || cfg->alerts.command) {
		struct pp_alerter_opts ao;

		pp_alerter_opts_init(&ao);
		ao.webhook = cfg->alerts.webhook;
		ao.webhook_timeout = cfg->alerts.webhook_timeout;
		ao.command = cfg->alerts.command;
		ao.log = alert_log;
		ao.log_data = s;
		if ((rc = pp_alerter_new(&ao, &s->alerter, err, errlen)) < 0)
			goto fail;
	}
	if ((rc = http_sockets_open(s, err, errlen)) < 0)
		goto fail;
	*ret = s;
	return 0;
fail:
	pp_serve_free(s);
	return rc;
}

const char *pp_serve_url(const struct pp_serve *s)
{
	return s->url;
}

int pp_serve_run(struct pp_serve *s)
{
	char err[256];
	int rc;

	if ((rc = pp_loop_add_signal(s->loop, SIGHUP, on_signal, s)) < 0 ||
	    (rc = pp_loop_add_signal(s->loop, SIGINT, on_signal, s)) < 0 ||
	    (rc = pp_loop_add_signal(s->loop, SIGTERM, on_signal, s)) < 0)
		return rc;
	if ((rc = http_workers_start(s, err, sizeof(err))) < 0) {
		serve_log(s, PP_LOG_ERROR, "%s", err);
		return rc;
	}
	serve_log(s, PP_LOG_INFO, "listening on %s: %zu checks, %zu units%s%s", s->url,
		  s->cur->cfg->nchecks, s->nunits, s->store ? ", history in " : ", no history",
		  s->store ? s->db_path : "");
	for (size_t i = 0; i < s->nunits; i++)
		unit_schedule(s, s->cur->cfg, s->units[i]);
	pp_timer_start(s->loop, &s->tick, TICK_NS);
	rc = pp_loop_run(s->loop);
	/* stopped: no more runs; the workers finish and go, history is committed */
	s->stopping = true;
	http_workers_free(s); /* stops them first */
	pp_timer_stop(s->loop, &s->tick);
	pp_timer_stop(s->loop, &s->grace);
	pp_runner_free(s->cur->runner);
	s->cur->runner = NULL;
	for (struct gen *g = s->retired; g; g = g->next) {
		pp_runner_free(g->runner);
		g->runner = NULL;
	}
	/* the loop is done: the last commit may wait for a lock (5 s) */
	if (s->store)
		pp_store_set_busy_timeout(s->store, 0);
	commit(s);
	if (rc < 0)
		return rc;
	return s->signo;
}

void pp_serve_free(struct pp_serve *s)
{
	if (!s)
		return;
	http_workers_free(s);
	if (s->alerter)
		pp_alerter_free(s->alerter, 5.0);
	pend_clear(s);
	free(s->pend);
	free(s->deleted);
	for (size_t i = 0; i < s->nunits; i++)
		unit_free(s->units[i]);
	free(s->units);
	while (s->retired) {
		struct gen *g = s->retired;

		s->retired = g->next;
		gen_free(g);
	}
	gen_free(s->cur);
	pp_store_close(s->store);
	free(s->db_path);
	free(s->tls_cert);
	free(s->tls_key);
	pp_loop_free(s->loop);
	free(s->config_path);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->log_lock);
	free(s);
}
