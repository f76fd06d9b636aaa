/* scan_out.c: the scan writer (dispatch to one format) and what its formats share.
 *
 * Which ports a host block lists is nmap's rule, from nmap's
 * PortList::isIgnoredState (portlist.cc) and printportoutput (output.cc) at
 * verbosity 0: an open port is always listed; any other state is collapsed
 * ("Not shown", <extraports>) when more than 25 ports of the host are in it;
 * with --open every state that cannot be open (all but open|filtered and
 * unfiltered) is collapsed whatever its count. Collapsed states are reported
 * most ports first (ties in state order), and within a state one entry per
 * reason, most ports first. A host is written with --open only when it holds a
 * possibly-open port (nmap's PortList::hasOpenPorts) or was cut short by
 * --host-timeout: nmap reports timed-out hosts before it applies --open, and
 * a scan that did not finish a host must say so whatever it found.
 *
 * Ports without a state (PP_STATE_UNKNOWN: not decided in this run, because
 * another shard or an earlier run owns them, or a host timeout or an
 * interruption came first) are never written as a port: they are left out of
 * every count, "Not shown" line, <extraports> and list. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "portprobe/output.h"
#include "portprobe/parse.h"
#include "out/scan_out.h"

static const struct {
	const char *name;
	enum pp_scan_format fmt;
	const struct scanout_format *ops;
} formats[] = {
    {"text", PP_SCAN_TEXT, &scanout_text},
    {"json", PP_SCAN_JSON, &scanout_json},
    {"jsonl", PP_SCAN_JSONL, &scanout_jsonl},
    {"xml", PP_SCAN_XML, &scanout_xml},
    {"grepable", PP_SCAN_GREPABLE, &scanout_grepable},
    {"csv", PP_SCAN_CSV, &scanout_csv},
};

int pp_scan_format_parse(const char *name, enum pp_scan_format *ret)
{
	for (size_t i = 0; name && i < sizeof(formats) / sizeof(formats[0]); i++) {
		if (!strcmp(name, formats[i].name)) {
			*ret = formats[i].fmt;
			return 0;
		}
	}
	return -EINVAL;
}

int pp_scan_writer_new(enum pp_scan_format fmt, struct pp_scan_writer **ret)
{
	const struct scanout_format *ops = NULL;
	struct pp_scan_writer *w;

	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (formats[i].fmt == fmt)
			ops = formats[i].ops;
	if (!ops)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->fmt = ops;
	pp_buf_init(&w->held, SCANOUT_HELD_MAX + 1024);
	*ret = w;
	return 0;
}

void pp_scan_writer_free(struct pp_scan_writer *w)
{
	if (!w)
		return;
	pp_buf_release(&w->held);
	free(w->scratch);
	free(w);
}

int pp_scan_writer_begin(struct pp_scan_writer *w, struct pp_buf *b,
			 const struct pp_scan_info *info)
{
	if (w->phase != SCANOUT_NEW)
		return -EINVAL;
	w->phase = SCANOUT_BEGUN;
	w->open_only = info->open_only;
	w->host_discovery = info->host_discovery;
	return w->fmt->begin ? w->fmt->begin(w, b, info) : b->err;
}

int pp_scan_writer_record(struct pp_scan_writer *w, struct pp_buf *b,
			  const struct pp_scan_record *rec)
{
	if (w->phase != SCANOUT_BEGUN)
		return -EINVAL;
	return w->fmt->record ? w->fmt->record(w, b, rec) : b->err;
}

int pp_scan_writer_host(struct pp_scan_writer *w, struct pp_buf *b, const struct pp_scan_host *host)
{
	if (w->phase != SCANOUT_BEGUN)
		return -EINVAL;
	return w->fmt->host ? w->fmt->host(w, b, host) : b->err;
}

int pp_scan_writer_end(struct pp_scan_writer *w, struct pp_buf *b,
		       const struct pp_scan_stats *stats)
{
	if (w->phase != SCANOUT_BEGUN)
		return -EINVAL;
	w->phase = SCANOUT_ENDED;
	return w->fmt->end ? w->fmt->end(w, b, stats) : b->err;
}

/* --- the host summary --------------------------------------------------- */

enum pp_state scanout_port_state(const struct pp_scan_port *p)
{
	return p->state < SCANOUT_NSTATES ? (enum pp_state)p->state : PP_STATE_UNKNOWN;
}

enum pp_reason scanout_port_reason(const struct pp_scan_port *p)
{
	return p->reason < SCANOUT_NREASONS ? (enum pp_reason)p->reason
					    : PP_REASON_UNKNOWN_RESPONSE;
}

static bool state_maybe_open(enum pp_state st)
{
	return st == PP_STATE_OPEN || st == PP_STATE_OPEN_FILTERED || st == PP_STATE_UNFILTERED;
}

/* nmap's isIgnoredState at verbosity 0. */
static bool state_ignored(enum pp_state st, size_t count, bool open_only)
{
	if (st == PP_STATE_OPEN || st == PP_STATE_UNKNOWN || count == 0)
		return false;
	if (open_only && st != PP_STATE_OPEN_FILTERED && st != PP_STATE_UNFILTERED)
		return true;
	return count > SCANOUT_MAX_PER_STATE;
}

void scanout_summarize(const struct pp_scan_host *h, bool open_only, struct scanout_summary *s)
{
	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < h->nports; i++) {
		enum pp_state st = scanout_port_state(&h->results[i]);

		if (st == PP_STATE_UNKNOWN)
			continue;
		s->probed++;
		s->count[st]++;
		s->by_reason[st][scanout_port_reason(&h->results[i])]++;
	}
	for (int st = PP_STATE_OPEN; st < SCANOUT_NSTATES; st++) {
		size_t k;

		if (!state_ignored(st, s->count[st], open_only))
			continue;
		s->ignored[st] = true;
		s->nignored += s->count[st];
		/* insert after every state with as many ports or more */
		for (k = s->norder; k > 0 && s->count[s->order[k - 1]] < s->count[st]; k--)
			s->order[k] = s->order[k - 1];
		s->order[k] = st;
		s->norder++;
	}
}

bool scanout_listed(const struct scanout_summary *s, enum pp_state st)
{
	return st != PP_STATE_UNKNOWN && !s->ignored[st];
}

bool scanout_wanted(bool open_only, enum pp_state st)
{
	return st != PP_STATE_UNKNOWN && (!open_only || state_maybe_open(st));
}

bool scanout_host_summary(const struct pp_scan_writer *w, const struct pp_scan_host *h,
			  struct scanout_summary *s)
{
	scanout_summarize(h, w->open_only, s);
	if (h->status != PP_HOST_UP)
		return false;
	return !w->open_only || scanout_timed_out(h) || s->count[PP_STATE_OPEN] ||
	       s->count[PP_STATE_OPEN_FILTERED] || s->count[PP_STATE_UNFILTERED];
}

bool scanout_timed_out(const struct pp_scan_host *h)
{
	return h->timed_out && h->status == PP_HOST_UP;
}

size_t scanout_reasons(const struct scanout_summary *s, enum pp_state st,
		       enum pp_reason out[SCANOUT_NREASONS])
{
	const size_t *c = s->by_reason[st];
	size_t n = 0;

	for (int r = 0; r < SCANOUT_NREASONS; r++) {
		size_t k;

		if (!c[r])
			continue;
		for (k = n; k > 0 && c[out[k - 1]] < c[r]; k--)
			out[k] = out[k - 1];
		out[k] = r;
		n++;
	}
	return n;
}

static bool range_takes(const struct pp_scan_port *res, size_t i, enum pp_state st,
			enum pp_reason r)
{
	return !res || (scanout_port_state(&res[i]) == st && scanout_port_reason(&res[i]) == r);
}

void scanout_put_ranges(struct pp_buf *b, const uint16_t *ports, const struct pp_scan_port *res,
			size_t n, enum pp_state st, enum pp_reason r)
{
	bool first = true;

	for (size_t i = 0; i < n; i++) {
		size_t j = i;

		if (!range_takes(res, i, st, r))
			continue;
		while (j + 1 < n && ports[j + 1] == ports[j] + 1 && range_takes(res, j + 1, st, r))
			j++;
		pp_buf_printf(b, "%s%u", first ? "" : ",", ports[i]);
		if (j > i)
			pp_buf_printf(b, "-%u", ports[j]);
		first = false;
		i = j;
	}
}

void scanout_host_record(const struct pp_scan_host *h, size_t i, struct pp_scan_record *rec,
			 char *ipbuf)
{
	const struct pp_scan_port *p = &h->results[i];

	memset(rec, 0, sizeof(*rec));
	rec->host = h->host ? h->host : pp_addr_str(&h->ip, ipbuf, PP_ADDRSTRLEN);
	rec->ip = h->ip;
	rec->port = h->ports[i];
	pp_addr_set_port(&rec->ip, rec->port);
	rec->state = scanout_port_state(p);
	rec->reason = scanout_port_reason(p);
	if (p->raddr && p->raddr <= h->nreason_addrs)
		rec->reason_addr = h->reason_addrs[p->raddr - 1];
	rec->rtt_ns = (uint64_t)p->rtt_us * 1000;
	rec->attempts = p->attempts;
	rec->service = pp_service_name(rec->port);
	rec->ts = h->end;
}

const char *scanout_reason_ip(const struct pp_scan_record *rec, char *buf)
{
	if (!rec->reason_addr.len || pp_addr_equal_host(&rec->reason_addr, &rec->ip))
		return NULL;
	return pp_addr_str(&rec->reason_addr, buf, PP_ADDRSTRLEN);
}

const char *scanout_status_reason(const struct pp_scan_host *h)
{
	if (h->status_reason == PP_REASON_NONE)
		return "user-set";
	return pp_reason_name(h->status_reason);
}

/* The k-th smallest of v[0..n) (Hoare's selection, middle pivot): v is
 * left partitioned around it. O(n) on average, where sorting a full-range
 * scan's 65,535 round trips took milliseconds. */
static uint32_t select_kth(uint32_t *v, size_t n, size_t k)
{
	size_t lo = 0, hi = n - 1;

	while (lo < hi) {
		uint32_t pivot = v[lo + (hi - lo) / 2];
		size_t i = lo, j = hi;

		while (i <= j) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j) {
				uint32_t t = v[i];

				v[i] = v[j];
				v[j] = t;
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			break;
	}
	return v[k];
}

int scanout_rtt(struct pp_scan_writer *w, const struct pp_scan_host *h, uint32_t *median,
		uint32_t *spread)
{
	uint64_t sum = 0;
	size_t n = 0;
	uint32_t m;

	if (h->nports > w->scratch_cap) {
		uint32_t *p = realloc(w->scratch, h->nports * sizeof(*p));

		if (!p)
			return -ENOMEM;
		w->scratch = p;
		w->scratch_cap = h->nports;
	}
	for (size_t i = 0; i < h->nports; i++)
		if (scanout_port_state(&h->results[i]) != PP_STATE_UNKNOWN && h->results[i].rtt_us)
			w->scratch[n++] = h->results[i].rtt_us;
	if (!n)
		return 0;
	m = select_kth(w->scratch, n, n / 2);
	if (n % 2 == 0) {
		/* the lower middle: the largest of the part left below n/2 */
		uint32_t lower = w->scratch[0];

		for (size_t i = 1; i < n / 2; i++)
			if (w->scratch[i] > lower)
				lower = w->scratch[i];
		m = (uint32_t)(((uint64_t)lower + m) / 2);
	}
	for (size_t i = 0; i < n; i++)
		sum += w->scratch[i] > m ? w->scratch[i] - m : m - w->scratch[i];
	*median = m;
	*spread = (uint32_t)(sum / n);
	return 1;
}

void scanout_put_sigdigits(struct pp_buf *b, double seconds)
{
	int exp10 = 0, decimals;
	double x = seconds;

	if (!(x > 0)) {
		pp_buf_puts(b, "0");
		return;
	}
	while (x >= 10) {
		x /= 10;
		exp10++;
	}
	while (x < 1) {
		x *= 10;
		exp10--;
	}
	decimals = exp10 < 1 ? 1 - exp10 : 0;
	pp_buf_printf(b, "%.*f", decimals, seconds);
}

/* --- times and common lines ---------------------------------------------- */

static bool utc(const struct timespec *ts, struct tm *tm)
{
	time_t t = ts->tv_sec;

	return gmtime_r(&t, tm) != NULL;
}

char *scanout_ctime(const struct timespec *ts, char *buf, size_t len)
{
	static const char days[][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char months[][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;

	if (!utc(ts, &tm) || tm.tm_wday < 0 || tm.tm_wday > 6 || tm.tm_mon < 0 || tm.tm_mon > 11) {
		snprintf(buf, len, "Thu Jan  1 00:00:00 1970");
		return buf;
	}
	snprintf(buf, len, "%s %s %2d %02d:%02d:%02d %d", days[tm.tm_wday], months[tm.tm_mon],
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_year + 1900);
	return buf;
}

char *scanout_minute(const struct timespec *ts, char *buf, size_t len)
{
	struct tm tm;

	if (!utc(ts, &tm)) {
		snprintf(buf, len, "1970-01-01 00:00");
		return buf;
	}
	snprintf(buf, len, "%04d-%02d-%02d %02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min);
	return buf;
}

double scanout_elapsed(const struct timespec *a, const struct timespec *b)
{
	double s = (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;

	return s > 0 ? s : 0;
}

void scanout_put_done(struct pp_buf *b, const struct pp_scan_stats *st)
{
	pp_buf_printf(b, "%llu IP address%s (%llu host%s up) scanned in %.2f seconds",
		      (unsigned long long)st->hosts_total, st->hosts_total == 1 ? "" : "es",
		      (unsigned long long)st->hosts_up, st->hosts_up == 1 ? "" : "s",
		      scanout_elapsed(&st->start, &st->end));
}

void scanout_put_interrupted(struct pp_buf *b, const struct pp_scan_stats *st)
{
	pp_buf_printf(b, "Scan interrupted%s%s: %llu of %llu ports done",
		      st->interrupt_signal ? " by " : "",
		      st->interrupt_signal ? st->interrupt_signal : "",
		      (unsigned long long)st->ports_done, (unsigned long long)st->ports_total);
}

void scanout_put_probes(struct pp_buf *b, const struct pp_scan_stats *st)
{
	pp_buf_printf(b,
		      "Probes: %llu sent, %llu answered, %llu timed out, %llu retries, "
		      "%llu local errors, %llu self-connects caught",
		      (unsigned long long)st->probes, (unsigned long long)st->answers,
		      (unsigned long long)st->timeouts, (unsigned long long)st->retries,
		      (unsigned long long)st->local_errors, (unsigned long long)st->self_connects);
}

void scanout_put_clean(struct pp_buf *b, const char *s)
{
	const char *run = s;

	for (; *s; s++) {
		if ((unsigned char)*s >= 0x20 && *s != 0x7f)
			continue;
		pp_buf_put(b, run, (size_t)(s - run));
		pp_buf_put(b, "?", 1);
		run = s + 1;
	}
	pp_buf_put(b, run, (size_t)(s - run));
}
