/* runner.h: runs the probe units of a configuration (include/portprobe/
 * config.h) on a loop: a connect unit is one pp_check, a certificate unit
 * one pp_tls in certificate-only mode (or full enumeration when the check
 * asks). `portprobe run` starts every unit once; `serve` starts units as
 * its schedule says. Each unit's result is handed to a callback the moment
 * it is known, with a verdict every output agrees on (pp_run_status). */
#ifndef PORTPROBE_RUNNER_H
#define PORTPROBE_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "portprobe/buf.h"
#include "portprobe/check.h"
#include "portprobe/config.h"
#include "portprobe/loop.h"
#include "portprobe/tls.h"

/* A unit's verdict, in monitoring-plugins terms (= Nagios exit codes). */
enum pp_run_status {
	PP_RUN_OK = 0,       /* connected; or chain valid and not expiring within warning_days */
	PP_RUN_WARNING = 1,  /* certificate valid but expiring within warning_days */
	PP_RUN_CRITICAL = 2, /* not connected; chain invalid; expiring within critical_days */
	PP_RUN_UNKNOWN = 3,  /* this host could not run the unit (local resources, source) */
};

/* One unit's result; everything it points to is valid during the callback only. */
struct pp_run_result {
	const struct pp_config *cfg;         /* the configuration run */
	size_t unit;                         /* index in cfg->units */
	enum pp_run_status status;           /* the verdict */
	const char *reason;                  /* why, for every status but OK: the error class
					      * ("Connection refused"), the TLS class ("Not a TLS
					      * server"), or the chain verdict ("expired",
					      * "untrusted-root"), or "expires soon"; NULL when OK */
	const struct pp_check_result *check; /* connect units: the check's result */
	const struct pp_tls_report *tls;     /* certificate units: the report */
	double duration;                     /* s from start to result */
	struct timespec timestamp;           /* CLOCK_REALTIME at the result */
};

typedef void pp_run_cb(void *data, const struct pp_run_result *r);

struct pp_runner;

/* A runner for cfg (borrowed: it must outlive the runner; NULL for a runner
 * of ad-hoc probes only), with at most
 * max_inflight units running at once (0: 256); further starts queue.
 * 0, -ENOMEM. */
int pp_runner_new(const struct pp_config *cfg, unsigned max_inflight, pp_run_cb *cb, void *data,
		  struct pp_runner **ret);
/* Bounds each unit's run to share (0 < share <= 1; anything else: no
 * bound) of its check's interval, as serve's schedule needs: a run still
 * going then is stopped and reported CRITICAL, "Connection timeout", with
 * the bound in the detail. For a whole cipher enumeration, whose many
 * connections each have the full timeout. */
void pp_runner_set_run_share(struct pp_runner *r, double share);
/* Starts unit (an index in cfg->units) on loop, or queues it; 0, -EINVAL
 * for an index out of range, -ENOMEM. The callback follows, on the loop,
 * exactly once (unless the runner is freed first): a unit that cannot start
 * (a CA file it cannot read, no descriptors) is reported UNKNOWN with a
 * check result saying why ("cannot start: ..."), not by this return. */
int pp_runner_start(struct pp_runner *r, struct pp_loop *loop, size_t unit);
/* Units started or queued and not yet reported. */
size_t pp_runner_pending(const struct pp_runner *r);
/* Frees the runner; units in flight are cancelled and not reported. NULL-safe. */
void pp_runner_free(struct pp_runner *r);

/* One ad-hoc probe, as /probe asks for it: a target with a module's settings
 * rather than a configured unit. The result's cfg is NULL and its unit
 * SIZE_MAX; its verdict follows blackbox_exporter: OK when connected (tcp
 * prober), or when the handshake worked and the chain verified for the host
 * (tls, or tcp with tls: true) unless the module skips verification; no
 * warning thresholds. */
struct pp_probe_spec {
	const struct pp_config_module *module; /* prober and TLS settings; borrowed */
	const char *host;                      /* name or address literal to connect to; copied */
	uint16_t port;                         /* 1..65535 */
	const char *server_name; /* SNI and the name verified; NULL: host when a name */
	double timeout;          /* s for the whole probe, > 0 */
};

/* Starts a probe on loop at once (not counted against max_inflight: the
 * caller bounds its own concurrency); cb(data, result) follows on the loop,
 * exactly once, unless the runner is freed first. 0, -EINVAL, -ENOMEM. */
int pp_runner_probe(struct pp_runner *r, struct pp_loop *loop, const struct pp_probe_spec *spec,
		    pp_run_cb *cb, void *data);

/* Runs every unit of cfg once on a new loop and returns when all are
 * reported (or a SIGINT/SIGTERM arrived: *signo says which, else 0).
 * 0 or -errno for a failure of this host. */
int pp_run_all(const struct pp_config *cfg, unsigned max_inflight, pp_run_cb *cb, void *data,
	       int *signo);

/* Days left of a certificate unit's leaf (floor, negative when expired), and
 * whether there is one; for writers that need the figure. */
bool pp_run_cert_days_left(const struct pp_run_result *r, long long *days);

/* "OK", "WARNING", "CRITICAL", "UNKNOWN". */
const char *pp_run_status_name(enum pp_run_status s);
/* One unit's result as a JSON object (no newline): the unit's name, check,
 * plugin, verdict, failure_reason and labels, then for a connect unit the
 * check_tcp_connection plugin's keys, for a certificate unit host, port,
 * days_left, duration, timestamp and the `portprobe tls` report as "tls". */
int pp_run_write_json(struct pp_buf *b, const struct pp_run_result *r);
/* One unit's result as a text line: "STATUS   NAME: what happened". */
int pp_run_write_text(struct pp_buf *b, const struct pp_run_result *r);

#endif
