/* scan_json.c: scan results as one JSON document, or as JSON lines.
 *
 * Both write the same record object (DESIGN.md section 4):
 *   {"host","ip","port","protocol":"tcp","state","reason",["reason_ip",]
 *    "rtt","attempts","service","timestamp"}
 * "reason_ip" is there only when an ICMP answer came from another address
 * than the target; "rtt" is seconds, or null when no answer was timed
 * (no-response); "service" is a string or null.
 *
 * JSONL streams one record per line as each port is decided, with its real
 * decision time; begin, host and end write nothing, so the stream holds only
 * records (the run's statistics are in the other formats).
 *
 * JSON is {"portprobe","args","start","ports","hosts":[...],"stats","end",
 * "interrupted"}; hosts are written as they complete, one per line, so a
 * consumer may follow the file, and end() closes the document also after an
 * interruption. A host's records carry the host's end time as "timestamp"
 * (per-port decision times are not kept in the host summary; JSONL has
 * them). Every host is listed, down ones with their status; with --open only
 * hosts with a possibly-open port (or cut short by a host timeout), and only
 * those ports. A host cut short by --host-timeout has "timed_out":true and
 * "ports_undecided", the number of its ports without a state in this run;
 * other hosts (down ones included) have neither key.
 *
 * JSON lines (and CSV) stream port records only: a host timeout has no record
 * to carry it, and a line of another shape would break readers that take
 * every line as a port, so those formats show it only by the ports missing. */
#include <stdio.h>
#include <string.h>

#include "portprobe/output.h"
#include "portprobe/parse.h"
#include "out/scan_out.h"

static void json_put_record(struct pp_buf *b, const struct pp_scan_record *rec)
{
	char ip[PP_ADDRSTRLEN], rip[PP_ADDRSTRLEN], ts[40];
	const char *reason_ip = scanout_reason_ip(rec, rip);

	pp_addr_str(&rec->ip, ip, sizeof(ip));
	pp_buf_puts(b, "{\"host\":");
	pp_json_put_string(b, rec->host ? rec->host : ip);
	pp_buf_puts(b, ",\"ip\":");
	pp_json_put_string(b, ip);
	pp_buf_printf(b, ",\"port\":%u,\"protocol\":\"tcp\",\"state\":\"%s\",\"reason\":\"%s\"",
		      rec->port, pp_state_name(rec->state), pp_reason_name(rec->reason));
	if (reason_ip) {
		pp_buf_puts(b, ",\"reason_ip\":");
		pp_json_put_string(b, reason_ip);
	}
	if (rec->rtt_ns)
		pp_buf_printf(b, ",\"rtt\":%.6f", (double)rec->rtt_ns / 1e9);
	else
		pp_buf_puts(b, ",\"rtt\":null");
	pp_buf_printf(b, ",\"attempts\":%u,\"service\":", rec->attempts);
	if (rec->service)
		pp_json_put_string(b, rec->service);
	else
		pp_buf_puts(b, "null");
	pp_buf_printf(b, ",\"timestamp\":\"%s\"}", pp_iso8601(&rec->ts, ts, sizeof(ts)));
}

static int json_begin(struct pp_scan_writer *w, struct pp_buf *b, const struct pp_scan_info *info)
{
	char ts[40];

	pp_buf_puts(b, "{\"portprobe\":");
	pp_json_put_string(b, info->version ? info->version : "");
	pp_buf_puts(b, ",\"args\":[");
	for (int i = 0; i < info->argc && info->argv && info->argv[i]; i++) {
		if (i)
			pp_buf_puts(b, ",");
		pp_json_put_string(b, info->argv[i]);
	}
	pp_buf_printf(b, "],\"start\":\"%s\",\"ports\":\"",
		      pp_iso8601(&info->start, ts, sizeof(ts)));
	if (info->ports)
		scanout_put_ranges(b, info->ports->port, NULL, info->ports->n, PP_STATE_UNKNOWN,
				   PP_REASON_NONE);
	pp_buf_puts(b, "\",\"hosts\":[");
	return b->err;
}

static int json_host(struct pp_scan_writer *w, struct pp_buf *b, const struct pp_scan_host *h)
{
	char ip[PP_ADDRSTRLEN], ipbuf[PP_ADDRSTRLEN], ts[40];
	struct scanout_summary s;
	struct pp_scan_record rec;
	bool first = true;

	if (!scanout_host_summary(w, h, &s) && w->open_only)
		return b->err;
	pp_addr_str(&h->ip, ip, sizeof(ip));
	pp_buf_puts(b, w->nhosts++ ? ",\n{\"host\":" : "\n{\"host\":");
	pp_json_put_string(b, h->host ? h->host : ip);
	pp_buf_puts(b, ",\"ip\":");
	pp_json_put_string(b, ip);
	pp_buf_printf(b, ",\"status\":\"%s\",\"status_reason\":\"%s\"",
		      h->status == PP_HOST_UP ? "up" : "down", scanout_status_reason(h));
	pp_buf_printf(b, ",\"start\":\"%s\"", pp_iso8601(&h->start, ts, sizeof(ts)));
	pp_buf_printf(b, ",\"end\":\"%s\"", pp_iso8601(&h->end, ts, sizeof(ts)));
	if (scanout_timed_out(h))
		pp_buf_printf(b, ",\"timed_out\":true,\"ports_undecided\":%zu",
			      h->nports - s.probed);
	pp_buf_puts(b, ",\"ports\":[");
	for (size_t i = 0; i < h->nports; i++) {
		if (!scanout_wanted(w->open_only, scanout_port_state(&h->results[i])))
			continue;
		scanout_host_record(h, i, &rec, ipbuf);
		if (!first)
			pp_buf_puts(b, ",");
		json_put_record(b, &rec);
		first = false;
	}
	pp_buf_puts(b, "]}");
	return b->err;
}

static int json_end(struct pp_scan_writer *w, struct pp_buf *b, const struct pp_scan_stats *st)
{
	char ts[40];

	pp_buf_printf(b,
		      "%s],\"stats\":{\"probes\":%llu,\"answers\":%llu,\"timeouts\":%llu,"
		      "\"retries\":%llu,\"local_errors\":%llu,\"self_connects\":%llu,"
		      "\"ports_done\":%llu,\"ports_total\":%llu,\"open\":%llu,\"hosts_up\":%llu,"
		      "\"hosts_down\":%llu,\"hosts_total\":%llu,\"elapsed\":%.3f}",
		      w->nhosts ? "\n" : "", (unsigned long long)st->probes,
		      (unsigned long long)st->answers, (unsigned long long)st->timeouts,
		      (unsigned long long)st->retries, (unsigned long long)st->local_errors,
		      (unsigned long long)st->self_connects, (unsigned long long)st->ports_done,
		      (unsigned long long)st->ports_total, (unsigned long long)st->open,
		      (unsigned long long)st->hosts_up, (unsigned long long)st->hosts_down,
		      (unsigned long long)st->hosts_total, scanout_elapsed(&st->start, &st->end));
	pp_buf_printf(b, ",\"end\":\"%s\",\"interrupted\":%s", pp_iso8601(&st->end, ts, sizeof(ts)),
		      st->interrupted ? "true" : "false");
	if (st->interrupted && st->interrupt_signal) {
		pp_buf_puts(b, ",\"interrupt_signal\":");
		pp_json_put_string(b, st->interrupt_signal);
	}
	pp_buf_puts(b, "}\n");
	return b->err;
}

static int jsonl_record(struct pp_scan_writer *w, struct pp_buf *b,
			const struct pp_scan_record *rec)
{
	if (!scanout_wanted(w->open_only, rec->state))
		return b->err;
	json_put_record(b, rec);
	pp_buf_puts(b, "\n");
	return b->err;
}

const struct scanout_format scanout_json = {
    .begin = json_begin,
    .host = json_host,
    .end = json_end,
};

const struct scanout_format scanout_jsonl = {
    .record = jsonl_record,
};
