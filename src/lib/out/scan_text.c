/* scan_text.c: scan results as nmap's normal output (`nmap -n --reason -sT`).
 *
 * Laid out as nmap 7.93 prints it: a report per host that is up ("Host is
 * up, received syn-ack (0.00011s latency)."), the collapsed states on one
 * "Not shown" line (an empty line when nothing is collapsed, as nmap does),
 * then the PORT STATE SERVICE REASON table with every column padded to its
 * widest value. The latency is the median rtt of the host's answered ports.
 *
 * A host cut short by --host-timeout gets nmap's line "Skipping host X due
 * to host timeout", with the number of its ports left without a state, and
 * then the ports it did decide, as any host: they are real results (JSON
 * lines and CSV have streamed them already), and an open port found before
 * the timeout is worth showing.
 *
 * Down hosts are not reported, except when no host is up at all: then the
 * ones held back (up to SCANOUT_HELD_MAX bytes of them) are written at the
 * end, in nmap's -v form "... [host down, received no-response]". After the
 * done line comes portprobe's own line of probe counters, so loss shows. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "portprobe/output.h"
#include "portprobe/parse.h"
#include "out/scan_out.h"

static int text_begin(struct pp_scan_writer *w, struct pp_buf *b, const struct pp_scan_info *info)
{
	char t[32];

	pp_buf_printf(b, "Starting portprobe %s at %s UTC\n", info->version ? info->version : "",
		      scanout_minute(&info->start, t, sizeof(t)));
	return b->err;
}

/* "NAME (IP)" or "IP" */
static void put_name_ip(struct pp_buf *b, const struct pp_scan_host *h)
{
	char ip[PP_ADDRSTRLEN];

	pp_addr_str(&h->ip, ip, sizeof(ip));
	if (h->host && strcmp(h->host, ip)) {
		scanout_put_clean(b, h->host);
		pp_buf_printf(b, " (%s)", ip);
	} else {
		pp_buf_puts(b, ip);
	}
}

/* Keeps a down host's line for the end, in case no host turns out to be up.
 * What does not fit below SCANOUT_HELD_MAX is only counted. */
static int text_hold_down(struct pp_scan_writer *w, const struct pp_scan_host *h)
{
	size_t mark = w->held.len;

	if (w->seen_up)
		return 0;
	if (mark < SCANOUT_HELD_MAX) {
		pp_buf_puts(&w->held, "portprobe scan report for ");
		put_name_ip(&w->held, h);
		pp_buf_printf(&w->held, " [host down, received %s]\n", scanout_status_reason(h));
		if (!w->held.err)
			return 0;
		if (w->held.err == -ENOMEM)
			return -ENOMEM;
		/* an over-long line: drop it, keep the rest */
		w->held.len = mark;
		if (w->held.data)
			w->held.data[mark] = '\0';
		w->held.err = 0;
	}
	w->held_over++;
	return 0;
}

/* "Not shown: 30 closed tcp ports (conn-refused), 1 filtered tcp port (host-unreach)" */
static void put_not_shown(struct pp_buf *b, const struct scanout_summary *s)
{
	const char *sep = "Not shown: ";

	for (size_t k = 0; k < s->norder; k++) {
		enum pp_state st = s->order[k];
		enum pp_reason rs[SCANOUT_NREASONS];
		size_t n = scanout_reasons(s, st, rs);

		/* nmap makes "port" plural by the state's count, not the reason's */
		for (size_t i = 0; i < n; i++) {
			pp_buf_printf(b, "%s%zu %s tcp port%s (%s)", sep, s->by_reason[st][rs[i]],
				      pp_state_name(st), s->count[st] == 1 ? "" : "s",
				      pp_reason_name(rs[i]));
			sep = ", ";
		}
	}
}

/* The REASON cell: "host-unreach from 198.18.0.1" when an ICMP sender is known. */
static void put_reason(struct pp_buf *b, const struct pp_scan_record *rec)
{
	char buf[PP_ADDRSTRLEN];
	const char *ip = scanout_reason_ip(rec, buf);

	pp_buf_puts(b, pp_reason_name(rec->reason));
	if (ip)
		pp_buf_printf(b, " from %s", ip);
}

static void put_table(struct pp_buf *b, const struct pp_scan_host *h,
		      const struct scanout_summary *s)
{
	int wport = (int)strlen("PORT"), wstate = (int)strlen("STATE");
	int wservice = (int)strlen("SERVICE");
	char ipbuf[PP_ADDRSTRLEN], cell[16];
	struct pp_scan_record rec;

	for (size_t i = 0; i < h->nports; i++) {
		enum pp_state st = scanout_port_state(&h->results[i]);
		const char *svc = pp_service_name(h->ports[i]);
		int n;

		if (!scanout_listed(s, st))
			continue;
		n = snprintf(cell, sizeof(cell), "%u/tcp", h->ports[i]);
		if (n > wport)
			wport = n;
		if ((int)strlen(pp_state_name(st)) > wstate)
			wstate = (int)strlen(pp_state_name(st));
		if (svc && (int)strlen(svc) > wservice)
			wservice = (int)strlen(svc);
	}
	pp_buf_printf(b, "%-*s %-*s %-*s REASON\n", wport, "PORT", wstate, "STATE", wservice,
		      "SERVICE");
	for (size_t i = 0; i < h->nports; i++) {
		if (!scanout_listed(s, scanout_port_state(&h->results[i])))
			continue;
		scanout_host_record(h, i, &rec, ipbuf);
		snprintf(cell, sizeof(cell), "%u/tcp", rec.port);
		pp_buf_printf(b, "%-*s %-*s %-*s ", wport, cell, wstate, pp_state_name(rec.state),
			      wservice, rec.service ? rec.service : "unknown");
		put_reason(b, &rec);
		pp_buf_puts(b, "\n");
	}
}

static int text_host(struct pp_scan_writer *w, struct pp_buf *b, const struct pp_scan_host *h)
{
	struct scanout_summary s;
	uint32_t median, spread;
	int r;

	if (h->status != PP_HOST_UP)
		return text_hold_down(w, h);
	if (!w->seen_up) {
		w->seen_up = true;
		pp_buf_release(&w->held);
	}
	if (!scanout_host_summary(w, h, &s))
		return b->err;
	r = scanout_rtt(w, h, &median, &spread);
	if (r < 0)
		return r;
	pp_buf_puts(b, "portprobe scan report for ");
	put_name_ip(b, h);
	pp_buf_printf(b, "\nHost is up, received %s", scanout_status_reason(h));
	if (r > 0) {
		pp_buf_puts(b, " (");
		scanout_put_sigdigits(b, median / 1e6);
		pp_buf_puts(b, "s latency)");
	}
	pp_buf_puts(b, ".\n");
	if (scanout_timed_out(h)) {
		pp_buf_puts(b, "Skipping host ");
		put_name_ip(b, h);
		pp_buf_printf(b, " due to host timeout: %zu of %zu ports not decided\n",
			      h->nports - s.probed, h->nports);
	}
	if (s.probed) {
		if (s.nignored == s.probed) {
			pp_buf_printf(b, "All %zu scanned ports on ", s.probed);
			put_name_ip(b, h);
			pp_buf_puts(b, " are in ignored states.\n");
		}
		put_not_shown(b, &s);
		pp_buf_puts(b, "\n");
		if (s.nignored < s.probed)
			put_table(b, h, &s);
	}
	pp_buf_puts(b, "\n");
	return b->err;
}

static int text_end(struct pp_scan_writer *w, struct pp_buf *b, const struct pp_scan_stats *st)
{
	if (!w->seen_up && (w->held.len || w->held_over)) {
		pp_buf_put(b, w->held.data, w->held.len);
		if (w->held_over)
			pp_buf_printf(b, "(%llu more down hosts not listed)\n",
				      (unsigned long long)w->held_over);
		if (w->host_discovery && st->hosts_total == 1)
			pp_buf_puts(b, "Note: Host seems down. If it is really up, but blocking "
				       "our ping probes, try -Pn\n");
		else if (w->host_discovery)
			pp_buf_puts(b, "Note: Hosts seem down. If they are really up, but "
				       "blocking our ping probes, try -Pn\n");
	}
	if (st->interrupted) {
		scanout_put_interrupted(b, st);
		pp_buf_puts(b, "\n");
	}
	pp_buf_puts(b, "portprobe done: ");
	scanout_put_done(b, st);
	pp_buf_puts(b, "\n");
	scanout_put_probes(b, st);
	pp_buf_puts(b, "\n");
	return b->err;
}

const struct scanout_format scanout_text = {
    .begin = text_begin,
    .host = text_host,
    .end = text_end,
};
