/* probe_debug.c: the answer of /probe?debug=true, in blackbox_exporter's
 * layout (include/portprobe/probe_metrics.h, pp_probe_debug_write).
 *
 * The log is written after the probe from what it recorded: the start (the
 * result's time less its duration), the resolution (start + DNS time), the
 * connect (+ the connect time, connect units), the handshake and the end.
 * Lines are logfmt as go-kit writes them: a value is quoted (JSON escapes)
 * when it holds anything but letters, digits and "_.:/-[]+". */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "core/clock.h"
#include "portprobe/output.h"
#include "portprobe/parse.h"
#include "portprobe/probe_metrics.h"
#include "tls/report.h"

/* A logfmt value: bare when it is a plain token, else a quoted string. */
static void put_value(struct pp_buf *b, const char *v)
{
	bool bare = *v != 0;

	for (const char *p = v; *p && bare; p++)
		bare = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		       (*p >= '0' && *p <= '9') || strchr("_.:/-[]+", *p);
	if (bare)
		pp_buf_puts(b, v);
	else
		pp_json_put_string(b, v);
}

/* "ts=2026-11-21T23:53:52.016690005Z module=M target=T level=L msg=" of a
 * line at at (CLOCK_REALTIME). */
static void line_start(struct pp_buf *b, const struct pp_probe_debug *d, const struct timespec *at,
		       const char *level)
{
	struct tm tm;
	char ts[64];

	gmtime_r(&at->tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	pp_buf_printf(b, "ts=%s.%09ldZ module=", ts, (long)at->tv_nsec);
	put_value(b, d->module->name);
	pp_buf_puts(b, " target=");
	put_value(b, d->target);
	pp_buf_printf(b, " level=%s msg=", level);
}

static uint64_t ts_ns(const struct timespec *t)
{
	return (uint64_t)t->tv_sec * PP_NSEC_PER_SEC + (uint64_t)t->tv_nsec;
}

/* start_ns + s seconds, never past end_ns, as a timespec. */
static struct timespec at_offset(uint64_t start_ns, double s, uint64_t end_ns)
{
	uint64_t ns = start_ns + clock_sec_to_ns(s > 0 && isfinite(s) ? s : 0);

	if (ns > end_ns || ns < start_ns)
		ns = end_ns;
	return (struct timespec){.tv_sec = (time_t)(ns / PP_NSEC_PER_SEC),
				 .tv_nsec = (long)(ns % PP_NSEC_PER_SEC)};
}

static void write_logs(struct pp_buf *b, const struct pp_probe_debug *d,
		       const struct pp_run_result *r, const struct pp_probe_metrics *m)
{
	const struct pp_config_module *mod = d->module;
	const struct pp_check_result *c = r->check;
	const struct tls_report *t = (const struct tls_report *)r->tls;
	bool tls = mod->prober == PP_CONFIG_PROBER_TLS || mod->tls;
	bool failed_said = false;
	/* the start: the result's time less the probe's duration */
	uint64_t end_ns = ts_ns(&r->timestamp),
		 took = clock_sec_to_ns(r->duration > 0 && isfinite(r->duration) ? r->duration : 0),
		 start_ns = took < end_ns ? end_ns - took : end_ns;
	struct timespec end = r->timestamp, start = at_offset(start_ns, 0, end_ns), at;
	double dns = m->has_dns_time ? m->dns_lookup_s : 0;
	const char *err = NULL;

	line_start(b, d, &start, "info");
	pp_buf_puts(b, "\"Beginning probe\" probe=");
	pp_buf_puts(b, mod->prober == PP_CONFIG_PROBER_TLS ? "tls" : "tcp");
	pp_buf_puts(b, " timeout_seconds=");
	pp_prom_put_float(b, d->timeout);
	pp_buf_puts(b, "\n");

	line_start(b, d, &start, "info");
	pp_buf_puts(b, "\"Resolving target address\" target=");
	put_value(b, d->host);
	pp_buf_printf(b, " ip_protocol=%s\n", mod->preferred_family == AF_INET ? "ip4" : "ip6");
	at = at_offset(start_ns, dns, end_ns);
	if (!m->has_ip) {
		if (c && c->detail[0])
			err = c->detail;
		else if (t && t->error_detail)
			err = t->error_detail;
		line_start(b, d, &at, "error");
		pp_buf_puts(b, "\"Error resolving address\" err=");
		put_value(b, err ? err : m->message ? m->message : "no address");
		pp_buf_puts(b, "\n");
		goto done;
	}
	line_start(b, d, &at, "info");
	pp_buf_puts(b, "\"Resolved target address\" target=");
	put_value(b, d->host);
	pp_buf_puts(b, " ip=");
	put_value(b, m->ip);
	pp_buf_puts(b, "\n");
	line_start(b, d, &at, "info");
	pp_buf_puts(b, tls ? "\"Dialing TCP with TLS\"\n" : "\"Dialing TCP without TLS\"\n");
	if (c) {
		at = at_offset(start_ns, dns + (c->connected ? c->response_time : 0), end_ns);
		if (c->connected) {
			line_start(b, d, &at, "info");
			pp_buf_puts(b, "\"Successfully dialed\"\n");
		} else {
			if (c->attempts > 1)
				at = end;
			line_start(b, d, &at, "error");
			pp_buf_puts(b, "\"Error dialing TCP\" err=");
			put_value(b, c->detail[0] ? c->detail : pp_error_message(c->error));
			pp_buf_printf(b, " attempts=%u\n", c->attempts);
			failed_said = true;
		}
	}
	if (!failed_said && t && t->error != PP_ERROR_NONE) {
		line_start(b, d, &end, "error");
		pp_buf_puts(b, c ? "\"TLS handshake failed\" err=" : "\"Error dialing TCP\" err=");
		put_value(b, t->error_detail ? t->error_detail
			     : t->error_kind ? t->error_kind
					     : pp_error_message(t->error));
		pp_buf_puts(b, "\n");
	}
	if (m->has_tls) {
		line_start(b, d, &end, "info");
		pp_buf_puts(b, "\"TLS handshake done\" version=");
		put_value(b, m->tls.version);
		pp_buf_puts(b, " subject=");
		put_value(b, m->tls.subject ? m->tls.subject : "");
		pp_buf_printf(b, " chain_verified=%s\n", m->tls.chain_verified ? "true" : "false");
		if (!m->tls.chain_verified) {
			line_start(b, d, &end, mod->insecure_skip_verify ? "warn" : "error");
			pp_buf_puts(b, "\"Certificate verification failed\" err=");
			put_value(b, m->tls.verify_error);
			if (mod->insecure_skip_verify)
				pp_buf_puts(b, " insecure_skip_verify=true");
			pp_buf_puts(b, "\n");
		}
	}
done:
	line_start(b, d, &end, m->success ? "info" : "error");
	pp_buf_puts(b, m->success ? "\"Probe succeeded\"" : "\"Probe failed\"");
	pp_buf_puts(b, " duration_seconds=");
	pp_prom_put_float(b, r->duration);
	if (!m->success) {
		pp_buf_puts(b, " reason=");
		put_value(b, m->reason);
		pp_buf_puts(b, " message=");
		put_value(b, m->message ? m->message : "failed");
	}
	pp_buf_puts(b, "\n");
}

static void write_module(struct pp_buf *b, const struct pp_config_module *mod)
{
	char ip[PP_ADDRSTRLEN];

	pp_buf_printf(b, "prober: %s\n", mod->prober == PP_CONFIG_PROBER_TLS ? "tls" : "tcp");
	if (mod->timeout > 0) {
		pp_buf_puts(b, "timeout: ");
		pp_prom_put_float(b, mod->timeout);
		pp_buf_puts(b, "s\n");
	}
	pp_buf_printf(b, "tcp:\n  preferred_ip_protocol: %s\n  ip_protocol_fallback: %s\n",
		      mod->preferred_family == AF_INET ? "ip4" : "ip6",
		      mod->ip_protocol_fallback ? "true" : "false");
	if (mod->source.len)
		pp_buf_printf(b, "  source_ip_address: \"%s\"\n",
			      pp_addr_str(&mod->source, ip, sizeof(ip)));
	pp_buf_printf(b, "  tls: %s\n  tls_config:\n    insecure_skip_verify: %s\n",
		      mod->tls ? "true" : "false", mod->insecure_skip_verify ? "true" : "false");
	if (mod->ca_file) {
		pp_buf_puts(b, "    ca_file: ");
		pp_json_put_string(b, mod->ca_file);
		pp_buf_puts(b, "\n");
	}
	if (mod->server_name) {
		pp_buf_puts(b, "    server_name: ");
		pp_json_put_string(b, mod->server_name);
		pp_buf_puts(b, "\n");
	}
}

int pp_probe_debug_write(struct pp_buf *b, const struct pp_probe_debug *d,
			 const struct pp_run_result *r, const struct pp_probe_metrics *m)
{
	if (!d || !d->module || !d->target || !d->host || !r || !m)
		return -EINVAL;
	pp_buf_puts(b, "Logs for the probe:\n");
	write_logs(b, d, r, m);
	pp_buf_puts(b, "\n\n\nMetrics that would have been returned:\n");
	pp_probe_metrics_write(b, &m, NULL, 1);
	pp_buf_puts(b, "\n\n\nModule configuration:\n");
	write_module(b, d->module);
	return b->err;
}
