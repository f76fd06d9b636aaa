/* scan.h: the connect scan's result model and engine.
 *
 * A scan probes the index space H hosts x P ports. Results arrive through
 * callbacks as they are known: one per port (pp_scan_record), one per host
 * when all of its ports in this run are done (pp_scan_host), and the run's
 * statistics at the end. Writers (scan_output.h) turn them into formats. */
#ifndef PORTPROBE_SCAN_H
#define PORTPROBE_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "portprobe/ports.h"
#include "portprobe/result.h"
#include "portprobe/target.h"

/* One port's result, as known when it is decided. */
struct pp_scan_record {
	const char *host;  /* the name the user wrote, or the address text */
	struct pp_addr ip; /* the address probed, port = the port */
	uint16_t port;
	enum pp_state state;
	enum pp_reason reason;
	struct pp_addr
	    reason_addr;     /* sender of the ICMP answer when it is not ip; len 0 otherwise */
	uint64_t rtt_ns;     /* from the probe that got the answer; 0 for no-response */
	unsigned attempts;   /* probes sent for this port */
	const char *service; /* NULL when unknown */
	struct timespec ts;  /* when it was decided (CLOCK_REALTIME) */
};

/* One port's result kept compactly for the host summary. */
struct pp_scan_port {
	uint32_t rtt_us;
	uint8_t state;  /* enum pp_state; PP_STATE_UNKNOWN: not probed in this run */
	uint8_t reason; /* enum pp_reason */
	uint8_t attempts;
	uint8_t raddr; /* 0: no reason_addr, else 1 + index into reason_addrs */
};

enum pp_host_status { PP_HOST_UP, PP_HOST_DOWN };

/* A host when all of its ports in this run are done. */
struct pp_scan_host {
	const char *host;  /* the name the user wrote, or NULL for an address */
	struct pp_addr ip; /* port 0 */
	enum pp_host_status status;
	enum pp_reason status_reason; /* why up/down: SYN_ACK / CONN_REFUSED (discovery),
					     NONE for -Pn ("user-set"), NO_RESPONSE when down */
	struct timespec start, end;
	size_t nports;                      /* the scan's port list */
	const uint16_t *ports;              /* ascending */
	const struct pp_scan_port *results; /* parallel to ports */
	const struct pp_addr *reason_addrs; /* the distinct ICMP senders seen */
	size_t nreason_addrs;
	bool timed_out; /* --host-timeout cut the host short: ports not decided are
			   PP_STATE_UNKNOWN in results (nmap's timedout="true") */
};

/* What the run did, so loss is visible. */
struct pp_scan_stats {
	uint64_t probes;   /* connect() calls that reached the network or the routing decision */
	uint64_t answers;  /* probes that got an answer (connected, reset, ICMP) */
	uint64_t timeouts; /* probes that got none */
	uint64_t retries;  /* probes that repeated an earlier one */
	uint64_t local_errors;  /* local resource failures backed off and retried */
	uint64_t self_connects; /* loopback self-connections caught */
	uint64_t ports_done;    /* (host, port) results decided in this run */
	uint64_t ports_total;   /* (host, port) pairs this run was to decide */
	uint64_t open;          /* open results */
	uint64_t hosts_up, hosts_down, hosts_total;
	struct timespec start, end;
	bool interrupted;             /* ended by a signal before every port was done */
	const char *interrupt_signal; /* "SIGINT" / "SIGTERM" when interrupted */
};

/* What a writer needs to know about the run before the first result. */
struct pp_scan_info {
	const char *version; /* PP_VERSION */
	int argc;
	char *const *argv; /* the command line, for args= and "args" */
	struct timespec start;
	const struct pp_ports *ports;
	uint64_t hosts;           /* H */
	bool open_only;           /* --open */
	bool host_discovery;      /* false with -Pn */
	const char *ports_source; /* "own", "nmap", "list" */
};

/* ---- the engine -------------------------------------------------------- */

struct pp_scan;

/* Where a resumed run starts: every shard-local index below watermark is
 * done, and so is each of done[0..ndone) (ascending, >= watermark). */
struct pp_scan_resume {
	uint64_t watermark;
	const uint64_t *done;
	size_t ndone;
};

struct pp_scan_opts {
	const struct pp_targets *targets; /* sealed */
	const struct pp_ports *ports;
	uint64_t seed;          /* the order's key */
	bool sequential;        /* -r: hosts and ports in order */
	unsigned shard, shards; /* this is shard `shard` (1-based) of `shards`; 0/0: whole scan */
	unsigned threads;       /* 0: one per online CPU */
	unsigned max_parallel;  /* probes in flight in all; 0: from RLIMIT_NOFILE */
	unsigned min_parallel;  /* the window never falls below this (>= 1) */
	double min_rate;        /* probes/s the scan keeps up at least; 0: none */
	double max_rate;        /* probes/s it never exceeds; 0: none */
	unsigned max_retries;   /* a silent port gets at most 1 + this probes */
	uint64_t initial_rtt_ns, min_rtt_ns, max_rtt_ns; /* probe timeout: initial, clamps */
	uint64_t host_timeout_ns; /* give up a host after this long; 0: never */
	bool discovery;           /* connect to 80 and 443 first; skip hosts that do not answer */
	bool aggressive;          /* T4/T5: faster window growth after loss */
	struct pp_addr source;    /* source address (len 0: any) */
	const struct pp_scan_resume *resume;
};

struct pp_scan_callbacks {
	/* per decided port, from a worker thread, serialised; NULL: not wanted */
	void (*record)(void *data, const struct pp_scan_record *rec);
	/* per finished host, from a worker thread, serialised */
	void (*host)(void *data, const struct pp_scan_host *host);
	/* about every 100 ms from the thread in pp_scan_run(), not serialised
	 * with the others: progress, checkpoints, signals */
	void (*tick)(void *data);
	void *data;
};

/* A live view for progress lines. */
struct pp_scan_progress {
	uint64_t done, total, open, probes;
	double elapsed; /* seconds */
};

/* nmap's -T3 defaults: retries 10, rtt 1 s initial, 100 ms min, 10 s max,
 * discovery on, random order. */
void pp_scan_opts_init(struct pp_scan_opts *o);
/* Applies nmap's timing template -T level (0..5). 0 or -EINVAL. */
int pp_scan_opts_timing(struct pp_scan_opts *o, int level);
/* Shard-local index count: the (host, port) pairs shard `shard` of `shards` owns. */
uint64_t pp_scan_index_count(uint64_t hosts, size_t ports, unsigned shard, unsigned shards);

/* 0 or -errno (-EINVAL for bad options). */
int pp_scan_new(const struct pp_scan_opts *o, const struct pp_scan_callbacks *cb,
		struct pp_scan **ret);
/* Runs the scan to the end or until pp_scan_stop(); blocks. Fills stats.
 * 0 or -errno (a thread or loop could not be made). */
int pp_scan_run(struct pp_scan *s, struct pp_scan_stats *stats);
/* Asks the scan to stop soon (any thread; async-signal-safe). Hosts not
 * finished are then reported with the ports done so far. */
void pp_scan_stop(struct pp_scan *s);
void pp_scan_get_progress(struct pp_scan *s, struct pp_scan_progress *p);
/* The resume state now: watermark and the done indices above it. Caller
 * frees *done. 0 or -ENOMEM. */
int pp_scan_get_resume(struct pp_scan *s, uint64_t *watermark, uint64_t **done, size_t *ndone);
void pp_scan_free(struct pp_scan *s);

/* Resolves every host name of t (before sealing), in parallel within
 * timeout_s. Without all_addresses a name gets its first address (RFC 6724
 * order). family: AF_UNSPEC, AF_INET, AF_INET6. A name that fails is
 * reported through on_error and contributes no address. 0 or -errno. */
int pp_scan_resolve(struct pp_targets *t, int family, bool all_addresses, const char *dns_servers,
		    double timeout_s,
		    void (*on_error)(void *data, const char *name, enum pp_error err,
				     const char *detail),
		    void *data);

#endif
