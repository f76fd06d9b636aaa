/* scan_grep.c: scan results as nmap's grepable output (-oG).
 *
 * Two lines per host that is up, in nmap's field layout:
 *   Host: IP (NAME)<TAB>Status: Up
 *   Host: IP (NAME)<TAB>Ports: 22/open/tcp//ssh///, ...<TAB>Ignored State: closed (30)
 * where a port is port/state/protocol/owner/service/rpc info/version/ and
 * "Ignored State" appears only when exactly one state is collapsed (nmap's
 * format has room for one). NAME is the name the user wrote, empty for an
 * address. A host cut short by --host-timeout says "Status: Timeout" (nmap's
 * word) instead of "Status: Up", and its Ports line lists the ports it did
 * decide. Down hosts are left out, as nmap does without -v. Comment lines
 * ('#') open and close the file; portprobe adds "# Probes: ..." with its
 * counters (and "# Scan interrupted ...") just before the done line. */
#include <stdio.h>
#include <string.h>

#include "portprobe/output.h"
#include "portprobe/parse.h"
#include "out/scan_out.h"

static int grep_begin(struct pp_scan_writer *w, struct pp_buf *b, const struct pp_scan_info *info)
{
	char t[32];

	pp_buf_printf(b, "# portprobe %s scan initiated %s as:", info->version ? info->version : "",
		      scanout_ctime(&info->start, t, sizeof(t)));
	for (int i = 0; i < info->argc && info->argv && info->argv[i]; i++) {
		pp_buf_puts(b, " ");
		scanout_put_clean(b, info->argv[i]);
	}
	pp_buf_puts(b, "\n");
	return b->err;
}

static void put_host_field(struct pp_buf *b, const struct pp_scan_host *h)
{
	char ip[PP_ADDRSTRLEN];

	pp_buf_printf(b, "Host: %s (", pp_addr_str(&h->ip, ip, sizeof(ip)));
	if (h->host && strcmp(h->host, ip))
		scanout_put_clean(b, h->host);
	pp_buf_puts(b, ")");
}

/* A service name with nmap's escape for the field separator ('/' as '|'). */
static void put_service(struct pp_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '/')
			pp_buf_put(b, "|", 1);
		else if ((unsigned char)*s < 0x20 || *s == 0x7f)
			pp_buf_put(b, "?", 1);
		else
			pp_buf_put(b, s, 1);
	}
}

static int grep_host(struct pp_scan_writer *w, struct pp_buf *b, const struct pp_scan_host *h)
{
	struct scanout_summary s;
	const char *sep = "";

	if (!scanout_host_summary(w, h, &s))
		return b->err;
	put_host_field(b, h);
	pp_buf_puts(b, scanout_timed_out(h) ? "\tStatus: Timeout\n" : "\tStatus: Up\n");
	if (!s.probed)
		return b->err;
	put_host_field(b, h);
	pp_buf_puts(b, "\tPorts: ");
	for (size_t i = 0; i < h->nports; i++) {
		enum pp_state st = scanout_port_state(&h->results[i]);
		const char *svc;

		if (!scanout_listed(&s, st))
			continue;
		svc = pp_service_name(h->ports[i]);
		pp_buf_printf(b, "%s%u/%s/tcp//", sep, h->ports[i], pp_state_name(st));
		put_service(b, svc ? svc : "unknown");
		pp_buf_puts(b, "///");
		sep = ", ";
	}
	if (s.norder == 1)
		pp_buf_printf(b, "\tIgnored State: %s (%zu)", pp_state_name(s.order[0]),
			      s.count[s.order[0]]);
	pp_buf_puts(b, "\n");
	return b->err;
}

static int grep_end(struct pp_scan_writer *w, struct pp_buf *b, const struct pp_scan_stats *st)
{
	char t[32];

	if (st->interrupted) {
		pp_buf_puts(b, "# ");
		scanout_put_interrupted(b, st);
		pp_buf_puts(b, "\n");
	}
	pp_buf_puts(b, "# ");
	scanout_put_probes(b, st);
	pp_buf_puts(b, "\n");
	pp_buf_printf(b, "# portprobe done at %s -- ", scanout_ctime(&st->end, t, sizeof(t)));
	scanout_put_done(b, st);
	pp_buf_puts(b, "\n");
	return b->err;
}

const struct scanout_format scanout_grepable = {
    .begin = grep_begin,
    .host = grep_host,
    .end = grep_end,
};
