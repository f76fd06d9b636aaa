/* scan_csv.c: scan results as CSV, one row per record as it is decided.
 *
 * The header names the fields of the JSON record, in its order:
 *   host,ip,port,protocol,state,reason,reason_ip,rtt,attempts,service,timestamp
 * An absent value (no reason_ip, rtt of a no-response, unknown service) is
 * an empty field. Fields holding a comma, a quote or a line break are quoted
 * as RFC 4180 says; lines end in "\n" (not CRLF) like every other format.
 *
 * Every row is a decided port, so a host cut short by --host-timeout adds no
 * row and no mark: CSV has no comments, and a row of another shape would
 * break its readers. The host-level formats (text, XML, grepable, JSON) carry
 * the mark. */
#include <stdio.h>
#include <string.h>

#include "portprobe/output.h"
#include "portprobe/parse.h"
#include "out/scan_out.h"

static int csv_begin(struct pp_scan_writer *w, struct pp_buf *b, const struct pp_scan_info *info)
{
	return pp_buf_puts(b, "host,ip,port,protocol,state,reason,reason_ip,rtt,attempts,service,"
			      "timestamp\n");
}

static int csv_record(struct pp_scan_writer *w, struct pp_buf *b, const struct pp_scan_record *rec)
{
	char ip[PP_ADDRSTRLEN], rip[PP_ADDRSTRLEN], ts[40];
	const char *reason_ip = scanout_reason_ip(rec, rip);

	if (!scanout_wanted(w->open_only, rec->state))
		return b->err;
	pp_addr_str(&rec->ip, ip, sizeof(ip));
	pp_csv_put_field(b, rec->host ? rec->host : ip);
	pp_buf_printf(b, ",%s,%u,tcp,%s,%s,%s,", ip, rec->port, pp_state_name(rec->state),
		      pp_reason_name(rec->reason), reason_ip ? reason_ip : "");
	if (rec->rtt_ns)
		pp_buf_printf(b, "%.6f", (double)rec->rtt_ns / 1e9);
	pp_buf_printf(b, ",%u,", rec->attempts);
	if (rec->service)
		pp_csv_put_field(b, rec->service);
	pp_buf_printf(b, ",%s\n", pp_iso8601(&rec->ts, ts, sizeof(ts)));
	return b->err;
}

const struct scanout_format scanout_csv = {
    .begin = csv_begin,
    .record = csv_record,
};
