/* run_out.c: one unit's result of `portprobe run`, as a JSON object or a
 * text line (include/portprobe/runner.h gives the verdicts).
 *
 * A connect unit's object is the check_tcp_connection plugin's own JSON
 * (pp_check_write_json: status, host, port, connected, response_time,
 * attempts, timestamp, error, ...) with the unit's name, check, plugin,
 * verdict and labels added in front, so a consumer of the plugin's output
 * reads it unchanged. A certificate unit's object carries the verdict, the
 * days left and the whole `portprobe tls -o json` report under "tls". */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "out/tls_out.h"
#include "portprobe/output.h"
#include "portprobe/runner.h"

static const char *const status_names[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};

const char *pp_run_status_name(enum pp_run_status s)
{
	return (unsigned)s < 4 ? status_names[s] : "UNKNOWN";
}

static const char *plugin_name(enum pp_config_kind k)
{
	switch (k) {
	case PP_CONFIG_TCP:
		return "check_tcp_connection";
	case PP_CONFIG_TCP_PROBE:
		return "tcp_probe";
	case PP_CONFIG_TLS:
		return "tls";
	}
	return "tls";
}

/* The keys every unit's object starts with, up to and including a comma. */
static void put_head(struct pp_buf *b, const struct pp_run_result *r)
{
	const struct pp_config_unit *u = &r->cfg->units[r->unit];
	const struct pp_config_check *ck = &r->cfg->checks[u->check];

	pp_buf_puts(b, "{\"name\":");
	pp_json_put_string(b, u->name);
	pp_buf_puts(b, ",\"check\":");
	pp_json_put_string(b, ck->name);
	pp_buf_printf(b, ",\"plugin\":\"%s\",\"verdict\":\"%s\",\"failure_reason\":",
		      plugin_name(ck->kind), pp_run_status_name(r->status));
	if (r->reason)
		pp_json_put_string(b, r->reason);
	else
		pp_buf_puts(b, "null");
	pp_buf_puts(b, ",\"labels\":{");
	for (size_t i = 0; i < ck->nlabels; i++) {
		if (i)
			pp_buf_puts(b, ",");
		pp_json_put_string(b, ck->labels[i].name);
		pp_buf_puts(b, ":");
		pp_json_put_string(b, ck->labels[i].value);
	}
	pp_buf_puts(b, "},");
}

int pp_run_write_json(struct pp_buf *b, const struct pp_run_result *r)
{
	const struct pp_config_unit *u = &r->cfg->units[r->unit];
	const struct pp_config_check *ck = &r->cfg->checks[u->check];

	put_head(b, r);
	if (r->check) {
		struct pp_buf c;

		pp_buf_init(&c, 1 << 20);
		pp_check_write_json(&c, r->check);
		if (c.err || c.len < 2) {
			int rc = c.err ? c.err : -EINVAL;

			pp_buf_release(&c);
			return rc;
		}
		pp_buf_put(b, c.data + 1, c.len - 1); /* the plugin's keys, without its "{" */
		pp_buf_release(&c);
	} else {
		long long days;
		char ts[40];

		pp_buf_puts(b, "\"host\":");
		pp_json_put_string(b, ck->host);
		pp_buf_printf(b, ",\"port\":%u,\"days_left\":", u->port);
		if (pp_run_cert_days_left(r, &days))
			pp_buf_printf(b, "%lld", days);
		else
			pp_buf_puts(b, "null");
		pp_buf_printf(b, ",\"duration\":%.6f,\"timestamp\":\"%s\",\"tls\":", r->duration,
			      pp_iso8601(&r->timestamp, ts, sizeof(ts)));
		if (r->tls)
			tls_json_put_report(b, (const struct tls_report *)r->tls);
		else
			pp_buf_puts(b, "null");
		pp_buf_puts(b, "}");
	}
	return b->err;
}

int pp_run_write_text(struct pp_buf *b, const struct pp_run_result *r)
{
	const struct pp_config_unit *u = &r->cfg->units[r->unit];
	const struct pp_config_check *ck = &r->cfg->checks[u->check];

	pp_buf_printf(b, "%-8s %s: ", pp_run_status_name(r->status), u->name);
	if (r->check) {
		/* the check's own line: "HOST PORT (IP): open (syn-ack) in 0.1 ms, ..." */
		return pp_check_write_text(b, r->check);
	}
	pp_buf_printf(b, "certificate of %s port %u", ck->host, u->port);
	if (r->reason)
		pp_buf_printf(b, ": %s", r->reason);
	{
		long long days;

		if (pp_run_cert_days_left(r, &days))
			pp_buf_printf(b, ", %lld day%s left", days,
				      days == 1 || days == -1 ? "" : "s");
	}
	pp_buf_printf(b, " (%.1f ms)\n", r->duration * 1e3);
	return b->err;
}
