/* serve_out.c: the pages of `portprobe serve`: /metrics (every unit's
 * latest result with blackbox_exporter's names, its statistics, then the
 * process's own metrics) and /api/v1/checks (the same as JSON).
 *
 * Every unit's series carry check, unit, host and port, then the check's own
 * labels. Both pages are written under the scheduler's lock, from the units
 * as they are at that moment, so a page never mixes two results of a unit. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "portprobe/output.h"
#include "serve/serve_int.h"

#define MAX_LABELS (4 + 64) /* check, unit, host, port and the check's */

/* Labels of every unit, in one allocation. */
struct unit_labels {
	struct pp_label *v;        /* MAX_LABELS per unit */
	struct pp_label_set *sets; /* one per unit */
	const struct pp_label_set **ptrs;
	char (*ports)[8];
};

/* The labels of unit u into v (MAX_LABELS slots): check, unit, host, port,
 * then the check's own; ret points at them. */
static void unit_labels(const struct pp_config *cfg, const struct pp_config_unit *u,
			struct pp_label *v, struct pp_label_set *ret, char *portbuf, size_t portlen)
{
	const struct pp_config_check *ck = &cfg->checks[u->check];
	size_t n = 0;

	snprintf(portbuf, portlen, "%u", u->port);
	v[n++] = (struct pp_label){"check", ck->name};
	v[n++] = (struct pp_label){"unit", u->name};
	v[n++] = (struct pp_label){"host", ck->host};
	v[n++] = (struct pp_label){"port", portbuf};
	for (size_t i = 0; i < ck->nlabels && n < MAX_LABELS; i++)
		v[n++] = (struct pp_label){ck->labels[i].name, ck->labels[i].value};
	ret->v = v;
	ret->n = n;
}

static int labels_build(struct pp_serve *s, struct unit_labels *ul)
{
	size_t n = s->nunits ? s->nunits : 1;

	ul->v = calloc(n * MAX_LABELS, sizeof(*ul->v));
	ul->sets = calloc(n, sizeof(*ul->sets));
	ul->ptrs = calloc(n, sizeof(*ul->ptrs));
	ul->ports = calloc(n, sizeof(*ul->ports));
	if (!ul->v || !ul->sets || !ul->ptrs || !ul->ports)
		return -ENOMEM;
	for (size_t i = 0; i < s->nunits; i++) {
		unit_labels(s->cur->cfg, &s->cur->cfg->units[i], ul->v + i * MAX_LABELS,
			    &ul->sets[i], ul->ports[i], sizeof(ul->ports[i]));
		ul->ptrs[i] = &ul->sets[i];
	}
	return 0;
}

static void labels_free(struct unit_labels *ul)
{
	free(ul->v);
	free(ul->sets);
	free(ul->ptrs);
	free(ul->ports);
}

static void put_labels(struct pp_buf *b, const struct pp_label_set *ls, const char *extra_name,
		       const char *extra_value)
{
	bool any = false;

	for (size_t i = 0; i < ls->n; i++) {
		pp_buf_puts(b, any ? "," : "{");
		pp_buf_puts(b, ls->v[i].name);
		pp_buf_puts(b, "=\"");
		pp_prom_put_label_value(b, ls->v[i].value);
		pp_buf_puts(b, "\"");
		any = true;
	}
	if (extra_name) {
		pp_buf_puts(b, any ? "," : "{");
		pp_buf_printf(b, "%s=\"%s\"", extra_name, extra_value);
		any = true;
	}
	if (any)
		pp_buf_puts(b, "}");
}

static void family(struct pp_buf *b, const char *name, const char *type, const char *help)
{
	pp_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample(struct pp_buf *b, const char *name, const struct pp_label_set *ls,
		   const char *xn, const char *xv, double v)
{
	pp_buf_puts(b, name);
	if (ls)
		put_labels(b, ls, xn, xv);
	else if (xn)
		pp_buf_printf(b, "{%s=\"%s\"}", xn, xv);
	pp_buf_puts(b, " ");
	pp_prom_put_float(b, v);
	pp_buf_puts(b, "\n");
}

/* The statistics families: one value per unit that has results. */
enum stat_kind {
	ST_UP,
	ST_RESULTS,
	ST_FAILURES,
	ST_LOSS,
	ST_MIN,
	ST_AVG,
	ST_MAX,
	ST_MDEV,
	ST_IN_STATE,
	ST_LONGEST_UP,
	ST_LONGEST_DOWN,
	ST_LAST,
	ST_SKIPPED,
	ST_N,
};

static const struct {
	const char *name, *type, *help;
} stat_families[ST_N] = {
    [ST_UP] = {"portprobe_check_up", "gauge",
	       "1 when the unit is up, 0 when down (flap-damped: down after down_after failures "
	       "in a row, up after up_after successes); absent until decided"},
    [ST_RESULTS] = {"portprobe_check_results_total", "counter", "Results since start"},
    [ST_FAILURES] = {"portprobe_check_failures_total", "counter", "Failed results since start"},
    [ST_LOSS] = {"portprobe_check_loss_ratio", "gauge", "Failed results / results since start"},
    [ST_MIN] = {"portprobe_check_latency_min_seconds", "gauge",
		"Lowest response time of the successful results"},
    [ST_AVG] = {"portprobe_check_latency_avg_seconds", "gauge",
		"Mean response time of the successful results"},
    [ST_MAX] = {"portprobe_check_latency_max_seconds", "gauge",
		"Highest response time of the successful results"},
    [ST_MDEV] = {"portprobe_check_latency_mdev_seconds", "gauge",
		 "Standard deviation of the response time, as ping's mdev"},
    [ST_IN_STATE] = {"portprobe_check_state_seconds", "gauge",
		     "Time since the unit entered its current state"},
    [ST_LONGEST_UP] = {"portprobe_check_longest_up_seconds", "gauge", "Longest time up"},
    [ST_LONGEST_DOWN] = {"portprobe_check_longest_down_seconds", "gauge", "Longest time down"},
    [ST_LAST] = {"portprobe_check_last_result_timestamp_seconds", "gauge",
		 "When the latest result was known"},
    [ST_SKIPPED] = {"portprobe_check_runs_skipped_total", "counter",
		    "Runs not started because the previous one was still running"},
};

static bool stat_value(enum stat_kind k, const struct unit *u, const struct pp_stats_summary *sm,
		       double *v)
{
	switch (k) {
	case ST_UP:
		*v = sm->state == PP_HEALTH_UP ? 1 : 0;
		return sm->state != PP_HEALTH_UNKNOWN;
	case ST_RESULTS:
		*v = (double)sm->count;
		return true;
	case ST_FAILURES:
		*v = (double)(sm->count - sm->successes);
		return true;
	case ST_LOSS:
		*v = sm->loss;
		return sm->count > 0;
	case ST_MIN:
		*v = sm->min_s;
		return isfinite(sm->min_s);
	case ST_AVG:
		*v = sm->avg_s;
		return isfinite(sm->avg_s);
	case ST_MAX:
		*v = sm->max_s;
		return isfinite(sm->max_s);
	case ST_MDEV:
		*v = sm->mdev_s;
		return isfinite(sm->mdev_s);
	case ST_IN_STATE:
		*v = (double)sm->in_state_ms / 1e3;
		return sm->count > 0 || u->stats.st.since_ms;
	case ST_LONGEST_UP:
		*v = (double)sm->longest_up_ms / 1e3;
		return sm->count > 0;
	case ST_LONGEST_DOWN:
		*v = (double)sm->longest_down_ms / 1e3;
		return sm->count > 0;
	case ST_LAST:
		*v = (double)u->last_ms / 1e3;
		return u->last_ms > 0;
	case ST_SKIPPED:
		*v = (double)u->skipped;
		return true;
	case ST_N:
		break;
	}
	return false;
}

/* /proc/self/stat's utime+stime (clock ticks) and vsize, rss (pages). */
static void process_metrics(struct pp_buf *b, struct pp_serve *s)
{
	char buf[1024];
	FILE *f = fopen("/proc/self/stat", "re");
	long tck = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	unsigned long utime = 0, stime = 0, vsize = 0;
	long rss = 0;
	struct rlimit rl;
	size_t fds = 0;
	DIR *d;

	if (f && fgets(buf, sizeof(buf), f)) {
		char *p = strrchr(buf, ')');

		/* fields after "(comm)": state ppid ... utime(14) stime(15) ... vsize(23) rss(24) */
		if (p &&
		    sscanf(p + 2,
			   "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d "
			   "%*d %*d %*u %lu %ld",
			   &utime, &stime, &vsize, &rss) == 4) {
			family(b, "process_cpu_seconds_total", "counter",
			       "Total user and system CPU time spent in seconds.");
			sample(b, "process_cpu_seconds_total", NULL, NULL, NULL,
			       (double)(utime + stime) / (double)tck);
			family(b, "process_resident_memory_bytes", "gauge",
			       "Resident memory size in bytes.");
			sample(b, "process_resident_memory_bytes", NULL, NULL, NULL,
			       (double)rss * (double)page);
			family(b, "process_virtual_memory_bytes", "gauge",
			       "Virtual memory size in bytes.");
			sample(b, "process_virtual_memory_bytes", NULL, NULL, NULL, (double)vsize);
		}
	}
	if (f)
		fclose(f);
	if ((d = opendir("/proc/self/fd"))) {
		struct dirent *e;

		while ((e = readdir(d)))
			if (e->d_name[0] != '.')
				fds++;
		closedir(d);
		family(b, "process_open_fds", "gauge", "Number of open file descriptors.");
		sample(b, "process_open_fds", NULL, NULL, NULL, (double)(fds ? fds - 1 : 0));
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		family(b, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
		sample(b, "process_max_fds", NULL, NULL, NULL, (double)rl.rlim_cur);
	}
	family(b, "process_start_time_seconds", "gauge",
	       "Start time of the process since unix epoch in seconds.");
	sample(b, "process_start_time_seconds", NULL, NULL, NULL, (double)s->start_ms / 1e3);
}

static const char *const route_names[] = {
    "/metrics", "/probe", "/api/v1/checks", "/api/v1/checks/{name}/history", "/healthz", "other"};

/* portprobe's own counters (called under the lock). */
static void self_metrics(struct pp_buf *b, struct pp_serve *s)
{
	family(b, "portprobe_build_info", "gauge", "portprobe's version");
	sample(b, "portprobe_build_info", NULL, "version", PP_VERSION, 1);
	family(b, "portprobe_config_last_reload_successful", "gauge",
	       "1 when the last configuration (re)load succeeded");
	sample(b, "portprobe_config_last_reload_successful", NULL, NULL, NULL, s->reload_ok);
	family(b, "portprobe_config_last_reload_success_timestamp_seconds", "gauge",
	       "When the configuration was last loaded successfully");
	sample(b, "portprobe_config_last_reload_success_timestamp_seconds", NULL, NULL, NULL,
	       (double)s->reload_ms / 1e3);
	family(b, "portprobe_units", "gauge", "Units scheduled");
	sample(b, "portprobe_units", NULL, NULL, NULL, (double)s->nunits);
	family(b, "portprobe_results_total", "counter", "Results of scheduled units");
	sample(b, "portprobe_results_total", NULL, NULL, NULL, (double)s->results_total);
	family(b, "portprobe_history_results_committed_total", "counter",
	       "Results committed to the history database");
	sample(b, "portprobe_history_results_committed_total", NULL, NULL, NULL,
	       (double)s->results_committed);
	family(b, "portprobe_history_errors_total", "counter",
	       "History commits that failed, and rows dropped (invalid, or over 100,000 waiting)");
	sample(b, "portprobe_history_errors_total", NULL, NULL, NULL, (double)s->store_errors);
	family(b, "portprobe_runs_skipped_total", "counter",
	       "Runs not started because the unit's previous run was still in flight");
	sample(b, "portprobe_runs_skipped_total", NULL, NULL, NULL, (double)s->runs_skipped);
	if (s->alerter) {
		struct pp_alerter_stats as;

		pp_alerter_stats(s->alerter, &as);
		family(b, "portprobe_alerts_sent_total", "counter",
		       "Alert deliveries that succeeded");
		sample(b, "portprobe_alerts_sent_total", NULL, NULL, NULL, (double)as.sent);
		family(b, "portprobe_alerts_failed_total", "counter",
		       "Alert deliveries that failed after every attempt");
		sample(b, "portprobe_alerts_failed_total", NULL, NULL, NULL, (double)as.failed);
		family(b, "portprobe_alerts_dropped_total", "counter",
		       "Alerts dropped because the queue was full");
		sample(b, "portprobe_alerts_dropped_total", NULL, NULL, NULL, (double)as.dropped);
		family(b, "portprobe_alerts_queued", "gauge", "Alerts waiting for delivery");
		sample(b, "portprobe_alerts_queued", NULL, NULL, NULL, (double)as.queued);
		if (as.has_webhook) {
			family(b, "portprobe_alerts_webhook_up", "gauge",
			       "0 while the webhook fails every attempt (alerts get one attempt "
			       "each), else 1");
			sample(b, "portprobe_alerts_webhook_up", NULL, NULL, NULL,
			       as.webhook_down ? 0 : 1);
		}
	}
	family(b, "portprobe_http_requests_total", "counter", "HTTP requests by handler");
	for (int i = 0; i < 6; i++)
		sample(b, "portprobe_http_requests_total", NULL, "handler", route_names[i],
		       (double)atomic_load_explicit(&s->http_requests[i], memory_order_relaxed));
	family(b, "portprobe_probe_refused_total", "counter",
	       "/probe requests refused because the target is not in the allowlist");
	sample(b, "portprobe_probe_refused_total", NULL, NULL, NULL,
	       (double)atomic_load_explicit(&s->probe_refused, memory_order_relaxed));
	family(b, "portprobe_http_request_timeouts_total", "counter",
	       "Connections closed because a request did not arrive whole within request_timeout");
	sample(b, "portprobe_http_request_timeouts_total", NULL, NULL, NULL,
	       (double)atomic_load_explicit(&s->http_timeouts, memory_order_relaxed));
}

int serve_write_metrics(struct pp_serve *s, struct pp_buf *b)
{
	struct unit_labels ul = {0};
	const struct pp_probe_metrics **ms = NULL;
	const struct pp_label_set **ls = NULL;
	struct pp_stats_summary *sums = NULL;
	size_t n = 0;
	int64_t now = serve_now_ms();
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	if (labels_build(s, &ul) < 0 || !(ms = calloc(s->nunits + 1, sizeof(*ms))) ||
	    !(ls = calloc(s->nunits + 1, sizeof(*ls))) ||
	    !(sums = calloc(s->nunits + 1, sizeof(*sums)))) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < s->nunits; i++)
		if (s->units[i]->has_last) {
			ms[n] = &s->units[i]->last;
			ls[n] = ul.ptrs[i];
			n++;
		}
	pp_probe_metrics_write(b, ms, ls, n);
	for (size_t i = 0; i < s->nunits; i++)
		if ((rc = pp_stats_summary(&s->units[i]->stats, now, &sums[i])) < 0)
			goto out;
	for (int k = 0; k < ST_N; k++) {
		bool head = false;

		for (size_t i = 0; i < s->nunits; i++) {
			double v;

			if (!stat_value((enum stat_kind)k, s->units[i], &sums[i], &v))
				continue;
			if (!head)
				family(b, stat_families[k].name, stat_families[k].type,
				       stat_families[k].help);
			head = true;
			sample(b, stat_families[k].name, ul.ptrs[i], NULL, NULL, v);
		}
	}
	/* latency percentiles over the window, as a summary */
	{
		bool head = false;
		static const char *const qs[] = {"0.5", "0.9", "0.99"};

		for (size_t i = 0; i < s->nunits; i++) {
			const struct pp_stats_summary *sm = &sums[i];
			const struct pp_stats *st = &s->units[i]->stats;
			double q[3] = {sm->p50_s, sm->p90_s, sm->p99_s};

			if (!st->lat_n)
				continue;
			if (!head)
				family(b, "portprobe_check_latency_seconds", "summary",
				       "Response time of successful results: quantiles over the "
				       "last 1024, sum and count since start");
			head = true;
			for (int k = 0; k < 3; k++)
				sample(b, "portprobe_check_latency_seconds", ul.ptrs[i], "quantile",
				       qs[k], q[k]);
			sample(b, "portprobe_check_latency_seconds_sum", ul.ptrs[i], NULL, NULL,
			       st->lat_mean * (double)st->lat_n);
			sample(b, "portprobe_check_latency_seconds_count", ul.ptrs[i], NULL, NULL,
			       (double)st->lat_n);
		}
	}
	self_metrics(b, s);
out:
	pthread_mutex_unlock(&s->lock);
	process_metrics(b, s);
	labels_free(&ul);
	free(ms);
	free(ls);
	free(sums);
	return rc ? rc : b->err;
}

static void put_num(struct pp_buf *b, double v)
{
	if (isfinite(v))
		pp_buf_printf(b, "%.6f", v);
	else
		pp_buf_puts(b, "null");
}

int serve_write_checks(struct pp_serve *s, struct pp_buf *b)
{
	int64_t now = serve_now_ms();
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	pp_buf_puts(b, "{\"checks\":[");
	for (size_t i = 0; i < s->nunits && !b->err; i++) {
		const struct unit *u = s->units[i];
		const struct pp_config_unit *cu = &s->cur->cfg->units[i];
		const struct pp_config_check *ck = &s->cur->cfg->checks[cu->check];
		struct pp_stats_summary sm;

		if ((rc = pp_stats_summary(&u->stats, now, &sm)) < 0)
			break;
		pp_buf_puts(b, i ? ",\n{\"unit\":" : "\n{\"unit\":");
		pp_json_put_string(b, u->name);
		pp_buf_puts(b, ",\"check\":");
		pp_json_put_string(b, ck->name);
		pp_buf_puts(b, ",\"host\":");
		pp_json_put_string(b, ck->host);
		pp_buf_printf(b,
			      ",\"port\":%u,\"interval\":%g,\"health\":\"%s\",\"since\":", cu->port,
			      ck->interval, pp_health_name(sm.state));
		if (u->stats.st.since_ms) {
			struct timespec ts = {.tv_sec = u->stats.st.since_ms / 1000,
					      .tv_nsec =
						  (long)(u->stats.st.since_ms % 1000) * 1000000};
			char t[40];

			pp_json_put_string(b, pp_iso8601(&ts, t, sizeof(t)));
		} else {
			pp_buf_puts(b, "null");
		}
		pp_buf_puts(b, ",\"last\":");
		pp_buf_puts(b, u->last_json ? u->last_json : "null");
		pp_buf_printf(
		    b, ",\"stats\":{\"count\":%" PRIu64 ",\"successes\":%" PRIu64 ",\"loss\":",
		    sm.count, sm.successes);
		put_num(b, sm.loss);
		pp_buf_puts(b, ",\"min\":");
		put_num(b, sm.min_s);
		pp_buf_puts(b, ",\"avg\":");
		put_num(b, sm.avg_s);
		pp_buf_puts(b, ",\"max\":");
		put_num(b, sm.max_s);
		pp_buf_puts(b, ",\"mdev\":");
		put_num(b, sm.mdev_s);
		pp_buf_puts(b, ",\"p50\":");
		put_num(b, sm.p50_s);
		pp_buf_puts(b, ",\"p90\":");
		put_num(b, sm.p90_s);
		pp_buf_puts(b, ",\"p99\":");
		put_num(b, sm.p99_s);
		pp_buf_printf(b,
			      ",\"in_state_seconds\":%.3f,\"longest_up_seconds\":%.3f,"
			      "\"longest_down_seconds\":%.3f,\"runs_skipped\":%" PRIu64 "}}",
			      (double)sm.in_state_ms / 1e3, (double)sm.longest_up_ms / 1e3,
			      (double)sm.longest_down_ms / 1e3, u->skipped);
	}
	pp_buf_puts(b, "\n]}\n");
	pthread_mutex_unlock(&s->lock);
	return rc ? rc : b->err;
}
