/* tls_nagios.c: `portprobe tls -o nagios`, one monitoring-plugins line for
 * the whole run, and the exit status of the other formats.
 *
 * Both are decided by one function, evaluate(), per target (rules in
 * tls_out.h). The line follows the monitoring-plugins guidelines: "TLS STATE
 * - text|perfdata", perfdata 'label'=value;warn;crit;min;max with U for a
 * value that is not known, and perfdata kept when a target fails. Text from
 * a server (error details) is stripped of '|' and control characters so it
 * cannot end the text or start a second line. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "out/tls_out.h"
#include "portprobe/output.h"

/* What one target amounts to. */
struct verdict {
	enum tls_nagios_state state;
	time_t earliest;   /* earliest notAfter over every chain, 0 when none */
	int64_t days;      /* days to it, valid when earliest != 0 */
	bool invalid;      /* some chain failed verification or the host check */
	unsigned problems; /* 1u << tls_verdict over the invalid chains */
};

static void evaluate(const struct tls_report *r, int warn, int crit, struct verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->earliest = tls_report_earliest_expiry(r);
	if (v->earliest)
		v->days = tls_out_days(v->earliest, r->now);
	v->invalid = tls_report_any_invalid(r);
	for (size_t k = 0; k < r->ndeps; k++) {
		const struct tls_chain_info *c = &r->deps[k].chain;

		if (!c->verified || (c->hostname_checked && !c->hostname_match))
			v->problems |= c->problems;
	}
	if (r->error != PP_ERROR_NONE || !r->ndeps)
		v->state = TLS_NAGIOS_UNKNOWN;
	else if (v->invalid || (crit >= 0 && v->earliest && v->days <= crit))
		v->state = TLS_NAGIOS_CRITICAL;
	else if (warn >= 0 && v->earliest && v->days <= warn)
		v->state = TLS_NAGIOS_WARNING;
	else
		v->state = TLS_NAGIOS_OK;
}

/* Worse = higher, UNKNOWN between WARNING and CRITICAL (the states share
 * pp_nagios_state's values). */
static int rank(enum tls_nagios_state s)
{
	return pp_nagios_rank((enum pp_nagios_state)s);
}

static const char *state_name(enum tls_nagios_state s)
{
	static const char *const names[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};

	return names[s];
}

int tls_nagios_status(const struct tls_report *const *reports, size_t n, int warn_days,
		      int crit_days)
{
	enum tls_nagios_state worst = TLS_NAGIOS_OK;

	if (!n)
		return TLS_NAGIOS_UNKNOWN;
	for (size_t i = 0; i < n; i++) {
		struct verdict v;

		evaluate(reports[i], warn_days, crit_days, &v);
		if (rank(v.state) > rank(worst))
			worst = v.state;
	}
	return worst;
}

int tls_exit_status(const struct tls_report *const *reports, size_t n, int warn_days, int crit_days)
{
	int limit = warn_days > crit_days ? warn_days : crit_days;

	for (size_t i = 0; i < n; i++) {
		struct verdict v;

		evaluate(reports[i], -1, -1, &v);
		if (reports[i]->error != PP_ERROR_NONE || v.invalid)
			return 1;
		if (limit >= 0 && v.earliest && v.days <= limit)
			return 1;
	}
	return 0;
}

/* s without '|' (it would start the perfdata) and control characters. */
static void put_clean(struct pp_buf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		char c = (char)*p;

		if (*p == '|')
			c = '/';
		else if (*p < 0x20 || *p == 0x7f)
			c = ' ';
		pp_buf_put(b, &c, 1);
	}
}

static void put_expiry(struct pp_buf *b, const struct verdict *v)
{
	char iso[TLS_TIME_LEN];

	if (!v->earliest) {
		pp_buf_puts(b, "expiry unknown");
		return;
	}
	pp_buf_printf(b, "earliest expiry %s (%lld day%s)", tls_out_time(v->earliest, iso),
		      (long long)v->days, v->days == 1 || v->days == -1 ? "" : "s");
}

/* "host:port: what" */
static void put_summary(struct pp_buf *b, const struct tls_report *r, const struct verdict *v)
{
	char target[300];

	put_clean(b, tls_out_target(r, target, sizeof(target)));
	pp_buf_puts(b, ": ");
	if (r->error != PP_ERROR_NONE) {
		pp_buf_puts(b, tls_out_error_class(r));
		if (r->error_detail && r->error_detail[0]) {
			pp_buf_puts(b, ": ");
			put_clean(b, r->error_detail);
		}
		return;
	}
	if (!r->ndeps) {
		pp_buf_puts(b, "no certificate received");
		return;
	}
	if (v->invalid) {
		bool first = true;

		pp_buf_puts(b, "certificate chain invalid (");
		for (int k = 1; k < TLS_VERDICT_COUNT; k++)
			if (v->problems & (1u << k)) {
				pp_buf_printf(b, "%s%s", first ? "" : ", ", tls_verdict_name(k));
				first = false;
			}
		pp_buf_puts(b, "), ");
	} else {
		pp_buf_printf(b, "%zu certificate chain%s valid, ", r->ndeps,
			      r->ndeps == 1 ? "" : "s");
	}
	put_expiry(b, v);
}

/* A perfdata label: host:port with '=', '\'' and blanks replaced. */
static void put_label(struct pp_buf *b, const struct tls_report *r)
{
	char target[300];

	tls_out_target(r, target, sizeof(target));
	for (char *p = target; *p; p++)
		if (*p == '=' || *p == '\'' || *p == ' ' || (unsigned char)*p < 0x20)
			*p = '_';
	pp_buf_printf(b, "'days_left_%s'", target);
}

static void put_perf(struct pp_buf *b, const struct verdict *v, int warn, int crit)
{
	if (v->earliest)
		pp_buf_printf(b, "=%lld;", (long long)v->days);
	else
		pp_buf_puts(b, "=U;");
	if (warn >= 0)
		pp_buf_printf(b, "%d", warn);
	pp_buf_puts(b, ";");
	if (crit >= 0)
		pp_buf_printf(b, "%d", crit);
	pp_buf_puts(b, ";;");
}

int tls_nagios_write(FILE *f, const struct tls_report *const *reports, size_t n, int warn_days,
		     int crit_days)
{
	enum tls_nagios_state worst = TLS_NAGIOS_OK;
	size_t count[4] = {0}, shown = 0;
	unsigned long long conns = 0;
	struct verdict *v;
	struct pp_buf b;
	size_t first_earliest = 0;
	int rc;

	if (!n) {
		pp_buf_init(&b, 256);
		pp_buf_puts(&b, "TLS UNKNOWN - no target finished|connections=0;;;0;\n");
		rc = tls_out_flush(f, &b);
		pp_buf_release(&b);
		return rc < 0 ? rc : TLS_NAGIOS_UNKNOWN;
	}
	v = calloc(n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		evaluate(reports[i], warn_days, crit_days, &v[i]);
		count[v[i].state]++;
		conns += reports[i]->connections;
		if (rank(v[i].state) > rank(worst))
			worst = v[i].state;
		if (v[i].earliest &&
		    (!v[first_earliest].earliest || v[i].earliest < v[first_earliest].earliest))
			first_earliest = i;
	}
	pp_buf_init(&b, TLS_OUT_MAX);
	pp_buf_printf(&b, "TLS %s - ", state_name(worst));
	if (n == 1) {
		put_summary(&b, reports[0], &v[0]);
	} else {
		static const enum tls_nagios_state by_rank[] = {
		    TLS_NAGIOS_CRITICAL, TLS_NAGIOS_UNKNOWN, TLS_NAGIOS_WARNING, TLS_NAGIOS_OK};

		pp_buf_printf(&b, "%zu targets:", n);
		for (size_t k = 0; k < 4; k++)
			if (count[by_rank[k]])
				pp_buf_printf(&b, "%s %zu %s", shown++ ? "," : "",
					      count[by_rank[k]], state_name(by_rank[k]));
		if (worst == TLS_NAGIOS_OK && v[first_earliest].earliest) {
			char target[300];

			pp_buf_puts(&b, ", ");
			put_expiry(&b, &v[first_earliest]);
			pp_buf_puts(&b, " on ");
			put_clean(&b,
				  tls_out_target(reports[first_earliest], target, sizeof(target)));
		}
		for (size_t i = 0; i < n; i++)
			if (v[i].state != TLS_NAGIOS_OK) {
				pp_buf_puts(&b, "; ");
				put_summary(&b, reports[i], &v[i]);
			}
	}
	pp_buf_puts(&b, "|");
	for (size_t i = 0; i < n; i++) {
		if (n == 1)
			pp_buf_puts(&b, "days_left");
		else
			put_label(&b, reports[i]);
		put_perf(&b, &v[i], warn_days, crit_days);
		pp_buf_puts(&b, " ");
	}
	pp_buf_printf(&b, "connections=%llu;;;0;\n", conns);
	rc = tls_out_flush(f, &b);
	pp_buf_release(&b);
	free(v);
	return rc < 0 ? rc : (int)worst;
}
