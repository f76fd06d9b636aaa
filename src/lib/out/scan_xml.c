/* scan_xml.c: scan results as nmap XML (-oX), valid against nmap.dtd.
 *
 * The elements, attributes and line breaks are the ones nmap 7.93 writes for
 * `nmap -sT`, so ndiff and other nmap-XML readers take the file as nmap's.
 * Two things differ because the DTD says so: scanner must be "nmap" (it is an
 * enumeration), so the writer says who it is with profile_name="portprobe";
 * and portprobe's probe counters, which have no element, go into an XML
 * comment just before <runstats> ("<!-- portprobe stats: probes=... -->").
 *
 * A host cut short by --host-timeout has nmap's timedout="true" on <host>.
 * nmap then writes no <ports>; portprobe writes the ports the host did
 * decide (the DTD allows both), so the XML agrees with the other formats.
 *
 * Each host is written whole when it completes, so the output so far is
 * always a well-formed prefix; end() closes the document also after an
 * interruption (exit="error" errormsg="interrupted by SIGINT"). Down hosts
 * are left out, as nmap does without -v. Attribute values are escaped, and
 * bytes XML 1.0 cannot carry (control characters, invalid UTF-8) are written
 * as the text \xNN. */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "portprobe/output.h"
#include "portprobe/parse.h"
#include "out/scan_out.h"

/* Length of the valid UTF-8 sequence of an XML Char at p, or 0. */
static size_t utf8_char_len(const unsigned char *p)
{
	uint32_t c;
	size_t n;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, c = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, c = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, c = p[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	if ((c >= 0xd800 && c <= 0xdfff) || c == 0xfffe || c == 0xffff)
		return 0;
	return n;
}

/* Appends s escaped for an attribute value in double quotes. */
static void xml_put_escaped(struct pp_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		const char *rep = NULL;
		size_t n = utf8_char_len(p);

		switch (*p) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\t':
			rep = "&#9;";
			break;
		case '\n':
			rep = "&#10;";
			break;
		case '\r':
			rep = "&#13;";
			break;
		default:
			break;
		}
		if (rep) {
			pp_buf_puts(b, rep);
		} else if (n == 0 || *p < 0x20) {
			pp_buf_printf(b, "\\x%02X", *p);
			n = 1;
		} else {
			pp_buf_put(b, p, n);
		}
		p += rep ? 1 : n;
	}
}

static int xml_begin(struct pp_scan_writer *w, struct pp_buf *b, const struct pp_scan_info *info)
{
	char t[32];

	pp_buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE nmaprun>\n"
		       "<nmaprun scanner=\"nmap\" args=\"");
	for (int i = 0; i < info->argc && info->argv && info->argv[i]; i++) {
		if (i)
			pp_buf_puts(b, " ");
		xml_put_escaped(b, info->argv[i]);
	}
	pp_buf_printf(b, "\" start=\"%lld\" startstr=\"%s\" version=\"",
		      (long long)info->start.tv_sec, scanout_ctime(&info->start, t, sizeof(t)));
	xml_put_escaped(b, info->version ? info->version : "");
	pp_buf_printf(b,
		      "\" profile_name=\"portprobe\" xmloutputversion=\"1.05\">\n"
		      "<scaninfo type=\"connect\" protocol=\"tcp\" numservices=\"%zu\" services=\"",
		      info->ports ? info->ports->n : 0);
	if (info->ports)
		scanout_put_ranges(b, info->ports->port, NULL, info->ports->n, PP_STATE_UNKNOWN,
				   PP_REASON_NONE);
	pp_buf_puts(b, "\"/>\n<verbose level=\"0\"/>\n<debugging level=\"0\"/>\n");
	return b->err;
}

static void put_extraports(struct pp_buf *b, const struct pp_scan_host *h,
			   const struct scanout_summary *s)
{
	for (size_t k = 0; k < s->norder; k++) {
		enum pp_state st = s->order[k];
		enum pp_reason rs[SCANOUT_NREASONS];
		size_t n = scanout_reasons(s, st, rs);

		pp_buf_printf(b, "<extraports state=\"%s\" count=\"%zu\">\n", pp_state_name(st),
			      s->count[st]);
		for (size_t i = 0; i < n; i++) {
			pp_buf_printf(b,
				      "<extrareasons reason=\"%s\" count=\"%zu\" proto=\"tcp\" "
				      "ports=\"",
				      pp_reason_name(rs[i]), s->by_reason[st][rs[i]]);
			scanout_put_ranges(b, h->ports, h->results, h->nports, st, rs[i]);
			pp_buf_puts(b, "\"/>\n");
		}
		pp_buf_puts(b, "</extraports>\n");
	}
}

static void put_port(struct pp_buf *b, const struct pp_scan_record *rec)
{
	char buf[PP_ADDRSTRLEN];
	const char *ip = scanout_reason_ip(rec, buf);

	pp_buf_printf(b,
		      "<port protocol=\"tcp\" portid=\"%u\"><state state=\"%s\" reason=\"%s\" "
		      "reason_ttl=\"0\"",
		      rec->port, pp_state_name(rec->state), pp_reason_name(rec->reason));
	if (ip)
		pp_buf_printf(b, " reason_ip=\"%s\"", ip);
	pp_buf_puts(b, "/><service name=\"");
	xml_put_escaped(b, rec->service ? rec->service : "unknown");
	pp_buf_puts(b, "\" method=\"table\" conf=\"3\"/></port>\n");
}

static int xml_host(struct pp_scan_writer *w, struct pp_buf *b, const struct pp_scan_host *h)
{
	char ip[PP_ADDRSTRLEN], ipbuf[PP_ADDRSTRLEN];
	struct scanout_summary s;
	struct pp_scan_record rec;
	uint32_t median, spread;
	int r;

	if (!scanout_host_summary(w, h, &s))
		return b->err;
	r = scanout_rtt(w, h, &median, &spread);
	if (r < 0)
		return r;
	pp_buf_printf(b,
		      "<host starttime=\"%lld\" endtime=\"%lld\"%s><status state=\"up\" "
		      "reason=\"%s\" reason_ttl=\"0\"/>\n<address addr=\"%s\" addrtype=\"%s\"/>\n"
		      "<hostnames>\n",
		      (long long)h->start.tv_sec, (long long)h->end.tv_sec,
		      scanout_timed_out(h) ? " timedout=\"true\"" : "", scanout_status_reason(h),
		      pp_addr_str(&h->ip, ip, sizeof(ip)),
		      pp_addr_family(&h->ip) == AF_INET6 ? "ipv6" : "ipv4");
	if (h->host && strcmp(h->host, ip)) {
		pp_buf_puts(b, "<hostname name=\"");
		xml_put_escaped(b, h->host);
		pp_buf_puts(b, "\" type=\"user\"/>\n");
	}
	pp_buf_puts(b, "</hostnames>\n");
	if (s.probed) {
		pp_buf_puts(b, "<ports>");
		put_extraports(b, h, &s);
		for (size_t i = 0; i < h->nports; i++) {
			if (!scanout_listed(&s, scanout_port_state(&h->results[i])))
				continue;
			scanout_host_record(h, i, &rec, ipbuf);
			put_port(b, &rec);
		}
		pp_buf_puts(b, "</ports>\n");
	}
	if (r > 0)
		pp_buf_printf(b, "<times srtt=\"%u\" rttvar=\"%u\" to=\"%llu\"/>\n", median, spread,
			      (unsigned long long)median + 4ULL * spread);
	pp_buf_puts(b, "</host>\n");
	return b->err;
}

static int xml_end(struct pp_scan_writer *w, struct pp_buf *b, const struct pp_scan_stats *st)
{
	double elapsed = scanout_elapsed(&st->start, &st->end);
	char t[32];

	pp_buf_printf(b,
		      "<!-- portprobe stats: probes=%llu answers=%llu timeouts=%llu retries=%llu "
		      "local_errors=%llu self_connects=%llu ports_done=%llu ports_total=%llu "
		      "open=%llu -->\n",
		      (unsigned long long)st->probes, (unsigned long long)st->answers,
		      (unsigned long long)st->timeouts, (unsigned long long)st->retries,
		      (unsigned long long)st->local_errors, (unsigned long long)st->self_connects,
		      (unsigned long long)st->ports_done, (unsigned long long)st->ports_total,
		      (unsigned long long)st->open);
	scanout_ctime(&st->end, t, sizeof(t));
	pp_buf_printf(b,
		      "<runstats><finished time=\"%lld\" timestr=\"%s\" summary=\"portprobe done "
		      "at %s; ",
		      (long long)st->end.tv_sec, t, t);
	scanout_put_done(b, st);
	pp_buf_printf(b, "\" elapsed=\"%.2f\" exit=\"%s\"", elapsed,
		      st->interrupted ? "error" : "success");
	if (st->interrupted) {
		pp_buf_puts(b, " errormsg=\"interrupted");
		if (st->interrupt_signal) {
			pp_buf_puts(b, " by ");
			xml_put_escaped(b, st->interrupt_signal);
		}
		pp_buf_puts(b, "\"");
	}
	pp_buf_printf(b,
		      "/><hosts up=\"%llu\" down=\"%llu\" total=\"%llu\"/>\n</runstats>\n"
		      "</nmaprun>\n",
		      (unsigned long long)st->hosts_up, (unsigned long long)st->hosts_down,
		      (unsigned long long)st->hosts_total);
	return b->err;
}

const struct scanout_format scanout_xml = {
    .begin = xml_begin,
    .host = xml_host,
    .end = xml_end,
};
