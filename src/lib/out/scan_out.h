/* scan_out.h: what the scan writers (scan_*.c) share; private to src/lib/out.
 *
 * A format is four calls in a table (struct scanout_format); scan_out.c
 * dispatches to them and owns the writer. The host-block formats (text, XML,
 * grepable) agree on which ports a block lists and which are collapsed into
 * "Not shown" / <extraports> through one summary (struct scanout_summary), and
 * every format that writes a record object builds it from a host's compact
 * results with scanout_host_record(), so a record looks the same whether it
 * streamed or came with its host. */
#ifndef PP_OUT_SCAN_OUT_H
#define PP_OUT_SCAN_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "portprobe/scan_output.h"

#define SCANOUT_NSTATES  (PP_STATE_CLOSED_FILTERED + 1)
#define SCANOUT_NREASONS (PP_REASON_UNKNOWN_RESPONSE + 1)

/* nmap's limit: a non-open state with more ports than this is collapsed. */
#define SCANOUT_MAX_PER_STATE 25

/* Down hosts the text format holds back while no host is up: lines of at
 * most ~400 bytes below this many bytes, the rest only counted. */
#define SCANOUT_HELD_MAX (64 * 1024)

/* One format's calls; NULL where the format ignores the call. */
struct scanout_format {
	int (*begin)(struct pp_scan_writer *w, struct pp_buf *b, const struct pp_scan_info *info);
	int (*record)(struct pp_scan_writer *w, struct pp_buf *b, const struct pp_scan_record *rec);
	int (*host)(struct pp_scan_writer *w, struct pp_buf *b, const struct pp_scan_host *host);
	int (*end)(struct pp_scan_writer *w, struct pp_buf *b, const struct pp_scan_stats *stats);
};

extern const struct scanout_format scanout_text;
extern const struct scanout_format scanout_json;
extern const struct scanout_format scanout_jsonl;
extern const struct scanout_format scanout_xml;
extern const struct scanout_format scanout_grepable;
extern const struct scanout_format scanout_csv;

struct pp_scan_writer {
	const struct scanout_format *fmt;                         /* the format's calls */
	enum { SCANOUT_NEW, SCANOUT_BEGUN, SCANOUT_ENDED } phase; /* which call may come */
	bool open_only;                                           /* --open */
	bool host_discovery;                                      /* false with -Pn */
	uint64_t nhosts;    /* host blocks written so far (JSON's commas) */
	bool seen_up;       /* text: a host that is up has been reported */
	struct pp_buf held; /* text: down hosts held back while none is up */
	uint64_t held_over; /* text: down hosts that did not fit in held */
	uint32_t *scratch;  /* rtt sort space, scratch_cap entries */
	size_t scratch_cap; /* entries in scratch */
};

/* How one host's probed ports fall into states, reasons and "Not shown". */
struct scanout_summary {
	size_t probed; /* ports with a state in this run; the rest are not decided */
	size_t count[SCANOUT_NSTATES];                       /* ports per state */
	size_t by_reason[SCANOUT_NSTATES][SCANOUT_NREASONS]; /* ports per state and reason */
	bool ignored[SCANOUT_NSTATES];                       /* collapsed, not listed */
	size_t nignored;                                     /* ports in collapsed states */
	enum pp_state order[SCANOUT_NSTATES]; /* collapsed states, most ports first */
	size_t norder;                        /* entries in order */
};

/* The state and reason of a compact result, out-of-range values mapped to
 * UNKNOWN (not probed) and UNKNOWN_RESPONSE. */
enum pp_state scanout_port_state(const struct pp_scan_port *p);
enum pp_reason scanout_port_reason(const struct pp_scan_port *p);

/* Counts h's results and applies nmap's collapse rule (see scan_out.c). */
void scanout_summarize(const struct pp_scan_host *h, bool open_only, struct scanout_summary *s);
/* True when a port in state st is listed in a host block. */
bool scanout_listed(const struct scanout_summary *s, enum pp_state st);
/* True when a port in state st is written at all: every probed state, or
 * with --open only the possibly-open ones (open, open|filtered, unfiltered). */
bool scanout_wanted(bool open_only, enum pp_state st);
/* Summarizes h into s (as scanout_summarize with the writer's --open);
 * true when h's block is written: h is up and, with --open, holds a
 * possibly-open port (nmap's hasOpenPorts) or timed out. */
bool scanout_host_summary(const struct pp_scan_writer *w, const struct pp_scan_host *h,
			  struct scanout_summary *s);
/* True when h is up and --host-timeout cut it short: the hosts that carry
 * the timed-out mark. A down host is never scanned, so a host timeout that
 * ran out during its discovery says nothing about its ports. */
bool scanout_timed_out(const struct pp_scan_host *h);
/* The reasons of state st, most ports first (ties in enum order), into
 * out[SCANOUT_NREASONS]; returns how many. */
size_t scanout_reasons(const struct scanout_summary *s, enum pp_state st,
		       enum pp_reason out[SCANOUT_NREASONS]);

/* Appends the ascending ports[0..n) in nmap's compact form ("1-3,7"). With
 * res (parallel to ports) only those in state st with reason r are taken;
 * with res NULL all are. */
void scanout_put_ranges(struct pp_buf *b, const uint16_t *ports, const struct pp_scan_port *res,
			size_t n, enum pp_state st, enum pp_reason r);

/* The record of h's port i; ipbuf (PP_ADDRSTRLEN) backs rec->host when h has
 * no name. Service from pp_service_name(), timestamp h->end. */
void scanout_host_record(const struct pp_scan_host *h, size_t i, struct pp_scan_record *rec,
			 char *ipbuf);
/* The text of rec's ICMP sender into buf (PP_ADDRSTRLEN), or NULL when
 * there is none or it is the target itself. */
const char *scanout_reason_ip(const struct pp_scan_record *rec, char *buf);
/* "syn-ack", "conn-refused", "no-response" or "user-set" (reason NONE). */
const char *scanout_status_reason(const struct pp_scan_host *h);

/* The median rtt (us) of h's answered ports and the mean distance from it;
 * 1 when there is one, 0 when no port was answered, -ENOMEM. */
int scanout_rtt(struct pp_scan_writer *w, const struct pp_scan_host *h, uint32_t *median,
		uint32_t *spread);
/* Appends seconds with two significant digits, as nmap's latency ("0.00011"). */
void scanout_put_sigdigits(struct pp_buf *b, double seconds);

/* "Mon Jan  1 12:00:00 2024" (ctime's layout, UTC) into buf (>= 32). */
char *scanout_ctime(const struct timespec *ts, char *buf, size_t len);
/* "2024-01-01 12:00" (UTC) into buf (>= 32). */
char *scanout_minute(const struct timespec *ts, char *buf, size_t len);
/* Seconds from a to b, never negative. */
double scanout_elapsed(const struct timespec *a, const struct timespec *b);
/* "2 IP addresses (1 host up) scanned in 12.34 seconds" */
void scanout_put_done(struct pp_buf *b, const struct pp_scan_stats *st);
/* "Scan interrupted by SIGINT: 5000 of 65535 ports done" */
void scanout_put_interrupted(struct pp_buf *b, const struct pp_scan_stats *st);
/* "Probes: 131072 sent, 131070 answered, 2 timed out, ..." (the loss counters) */
void scanout_put_probes(struct pp_buf *b, const struct pp_scan_stats *st);
/* Appends s with control characters as '?', for line formats. */
void scanout_put_clean(struct pp_buf *b, const char *s);

#endif
