/* check_out.c: check results as JSON (the check_tcp_connection schema plus
 * the evidence), one text line, or a monitoring-plugins line with perfdata.
 *
 * Which facts a result has is decided once, in result_has_state(): a state
 * and reason exist only when a probe reached the network or the local routing
 * decision (not for a name that did not resolve or a bind that failed). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "portprobe/output.h"
#include "portprobe/parse.h"

static bool result_has_state(const struct pp_check_result *r)
{
	return r->has_ip && r->out.state != PP_STATE_UNKNOWN;
}

/* The error message of a failed result: the class, or strerror for OTHER. */
static const char *result_error(const struct pp_check_result *r)
{
	if (r->error == PP_ERROR_OTHER && r->out.sys_errno)
		return strerror(r->out.sys_errno);
	return pp_error_message(r->error);
}

int pp_check_write_json(struct pp_buf *b, const struct pp_check_result *r)
{
	char ts[40], ip[PP_ADDRSTRLEN];

	pp_buf_puts(b, "{\"status\":");
	pp_buf_puts(b, r->connected ? "\"success\"" : "\"error\"");
	pp_buf_puts(b, ",\"host\":");
	pp_json_put_string(b, r->host);
	pp_buf_printf(b, ",\"port\":%u,\"connected\":%s,\"response_time\":%.6f,\"attempts\":%u",
		      r->port, r->connected ? "true" : "false", r->response_time, r->attempts);
	pp_buf_printf(b, ",\"timestamp\":\"%s\"", pp_iso8601(&r->timestamp, ts, sizeof(ts)));
	if (!r->connected) {
		pp_buf_puts(b, ",\"error\":");
		pp_json_put_string(b, result_error(r));
	}
	if (r->has_ip) {
		pp_buf_puts(b, ",\"ip\":");
		pp_json_put_string(b, pp_addr_str(&r->ip, ip, sizeof(ip)));
	}
	if (result_has_state(r))
		pp_buf_printf(b, ",\"state\":\"%s\",\"reason\":\"%s\"", pp_state_name(r->out.state),
			      pp_reason_name(r->out.reason));
	if (r->out.icmp_origin) {
		if (r->out.reason_addr.len && !pp_addr_equal_host(&r->out.reason_addr, &r->ip)) {
			pp_buf_puts(b, ",\"reason_ip\":");
			pp_json_put_string(b, pp_addr_str(&r->out.reason_addr, ip, sizeof(ip)));
		}
		pp_buf_printf(b, ",\"icmp_type\":%u,\"icmp_code\":%u", r->out.icmp_type,
			      r->out.icmp_code);
	}
	if (r->out.sys_errno) {
		const char *name = strerrorname_np(r->out.sys_errno);

		pp_buf_printf(b, ",\"errno\":\"%s\"", name ? name : "unknown");
	}
	pp_buf_printf(b, ",\"dns_time\":%.6f,\"detail\":", r->dns_time);
	pp_json_put_string(b, r->detail);
	return pp_buf_puts(b, "}");
}

/* "host port N [ip]" */
static void put_where(struct pp_buf *b, const struct pp_check_result *r)
{
	char ip[PP_ADDRSTRLEN];

	pp_buf_printf(b, "%s port %u", r->host, r->port);
	if (r->has_ip && strcmp(pp_addr_str(&r->ip, ip, sizeof(ip)), r->host))
		pp_buf_printf(b, " [%s]", ip);
}

int pp_check_write_text(struct pp_buf *b, const struct pp_check_result *r)
{
	put_where(b, r);
	if (r->connected) {
		pp_buf_printf(b, ": open (syn-ack) in %.3f ms, %u attempt%s\n",
			      r->response_time * 1e3, r->attempts, r->attempts == 1 ? "" : "s");
		return b->err;
	}
	pp_buf_printf(b, ": %s", result_error(r));
	if (result_has_state(r))
		pp_buf_printf(b, " - %s (%s)", pp_state_name(r->out.state),
			      pp_reason_name(r->out.reason));
	return pp_buf_printf(b, ": %s; %u attempt%s, %.3f s\n", r->detail, r->attempts,
			     r->attempts == 1 ? "" : "s", r->response_time);
}

static enum pp_nagios_state result_nagios(const struct pp_check_result *r,
					  const struct pp_nagios_opts *o)
{
	if (!r->connected)
		return pp_check_result_is_local(r) ? PP_NAGIOS_UNKNOWN : PP_NAGIOS_CRITICAL;
	if (o->critical >= 0 && r->response_time > o->critical)
		return PP_NAGIOS_CRITICAL;
	if (o->warning >= 0 && r->response_time > o->warning)
		return PP_NAGIOS_WARNING;
	return PP_NAGIOS_OK;
}

int pp_nagios_rank(enum pp_nagios_state s)
{
	static const int rank[] = {0, 1, 3, 2};

	return (unsigned)s < 4 ? rank[s] : rank[PP_NAGIOS_UNKNOWN];
}

static const char *nagios_name(enum pp_nagios_state s)
{
	static const char *const names[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};

	return names[s];
}

/* One perfdata item: label=value s;warn;crit;0;timeout */
static void put_perf(struct pp_buf *b, const char *label, double v, const struct pp_nagios_opts *o)
{
	pp_buf_printf(b, "%s=%.6fs;", label, v);
	if (o->warning >= 0)
		pp_buf_printf(b, "%.6f", o->warning);
	pp_buf_puts(b, ";");
	if (o->critical >= 0)
		pp_buf_printf(b, "%.6f", o->critical);
	pp_buf_printf(b, ";0.000000;%.6f", o->timeout);
}

int pp_check_write_nagios(struct pp_buf *b, const struct pp_check_result *const *r, size_t n,
			  const struct pp_nagios_opts *o)
{
	enum pp_nagios_state worst = PP_NAGIOS_OK;
	size_t failed = 0;

	if (n == 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		enum pp_nagios_state s = result_nagios(r[i], o);

		if (pp_nagios_rank(s) > pp_nagios_rank(worst))
			worst = s;
		failed += !r[i]->connected;
	}
	pp_buf_printf(b, "TCP %s - ", nagios_name(worst));
	if (n == 1 && r[0]->connected) {
		pp_buf_printf(b, "%.3f second response time on %s port %u", r[0]->response_time,
			      r[0]->host, r[0]->port);
	} else if (n == 1) {
		pp_buf_printf(b, "%s on ", result_error(r[0]));
		put_where(b, r[0]);
		if (result_has_state(r[0]))
			pp_buf_printf(b, " - %s (%s)", pp_state_name(r[0]->out.state),
				      pp_reason_name(r[0]->out.reason));
		pp_buf_printf(b, ": %s", r[0]->detail);
	} else {
		pp_buf_printf(b, "%zu of %zu addresses %s on %s port %u", failed ? failed : n, n,
			      failed ? "failed" : "answered", r[0]->host, r[0]->port);
		for (size_t i = 0, k = 0; i < n; i++) {
			char ip[PP_ADDRSTRLEN];

			if (r[i]->connected)
				continue;
			pp_buf_printf(b, "%s %s %s", k++ ? "," : ":",
				      r[i]->has_ip ? pp_addr_str(&r[i]->ip, ip, sizeof(ip)) : "-",
				      result_error(r[i]));
		}
	}
	pp_buf_puts(b, "|");
	if (n == 1) {
		put_perf(b, "time", r[0]->response_time, o);
	} else {
		for (size_t i = 0; i < n; i++) {
			char ip[PP_ADDRSTRLEN], label[PP_ADDRSTRLEN + 8];

			snprintf(label, sizeof(label), "'time_%s'",
				 r[i]->has_ip ? pp_addr_str(&r[i]->ip, ip, sizeof(ip))
					      : "unresolved");
			if (i)
				pp_buf_puts(b, " ");
			put_perf(b, label, r[i]->response_time, o);
		}
	}
	pp_buf_puts(b, "\n");
	return b->err ? b->err : (int)worst;
}
