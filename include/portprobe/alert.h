/* alert.h: delivers the state changes of `portprobe serve` (stats.h) to a
 * webhook and/or a command, off the caller's thread.
 *
 * An alerter owns one worker thread and a bounded FIFO queue. The caller
 * (serve's event loop) hands each change to pp_alerter_post(), which copies
 * it, queues it and returns at once: it never waits for the network or a
 * child process. The worker takes the alerts in post order and, for each,
 * POSTs one JSON object to the webhook (retrying a few times), then runs the
 * command with the change in its environment; one delivery per configured
 * channel per alert, never more (a retry is only sent after a failed attempt:
 * no answer, a 408, a 429 or a 5xx). Because there is one worker, a slow or
 * dead webhook delays the alerts behind it by up to
 * attempts * webhook_timeout + the backoffs each; when the queue is full new
 * alerts are dropped and counted, never blocking the caller.
 *
 * The webhook body (pp_alert_write_json), one line, no newline:
 *   {"event":"state_change","check":"web","unit":"web/tcp:443",
 *    "host":"www.example.com","port":443,"from":"up","to":"down",
 *    "at":"2023-11-14T22:13:20.250Z","at_ms":1700000000250,
 *    "reason":"3 consecutive failures: Connection refused","streak":3,
 *    "previous_state_seconds":3600.5,"labels":{"env":"prod"},
 *    "portprobe_version":"0.1.0"}
 * sent with Content-Type: application/json and User-Agent:
 * portprobe/VERSION. Redirects are not followed (a 3xx is a failure), only
 * http and https are spoken, and libcurl's usual proxy variables
 * (https_proxy, no_proxy, ...) apply.
 *
 * The command runs as /bin/sh -c COMMAND in a process group of its own, with
 * stdin /dev/null, no descriptor of ours but its stdout and stderr (a pipe:
 * the first line is quoted in the log when it fails, otherwise discarded), an
 * empty signal mask and default signal dispositions, and the environment of
 * this process minus any PORTPROBE_* variable, plus:
 *   PORTPROBE_EVENT=state_change  PORTPROBE_CHECK  PORTPROBE_UNIT
 *   PORTPROBE_HOST  PORTPROBE_PORT  PORTPROBE_FROM  PORTPROBE_TO
 *   PORTPROBE_AT (ISO 8601 UTC, ms)  PORTPROBE_AT_MS  PORTPROBE_REASON
 *   PORTPROBE_STREAK  PORTPROBE_PREVIOUS_STATE_SECONDS
 *   PORTPROBE_LABEL_<NAME> per label (name upper-cased, bytes other than
 *   A-Z 0-9 _ turned into _)  PORTPROBE_JSON (the webhook body)
 * The environment is read at each run, from the worker thread: do not call
 * setenv() or putenv() while an alerter runs.
 * Exit status 0 is a success. Once command_timeout has passed the whole
 * process group gets SIGKILL. The worker reaps the child with waitpid() on
 * its pid (polled, no SIGCHLD handler): the process must not ignore SIGCHLD
 * nor reap children it did not start (waitpid(-1, ...)).
 *
 * Failures reach the caller only through the log callback, one line each,
 * "alert UNIT FROM->TO: CHANNEL: WHY", e.g.
 *   alert web/tcp:443 up->down: webhook https://hooks.example.com: HTTP 500 after 3 attempts
 * The webhook is named by its scheme, host and port only: the path, the
 * query and any user:password@ often hold the secret of a webhook URL.
 * The library never prints.
 */
#ifndef PORTPROBE_ALERT_H
#define PORTPROBE_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include "portprobe/buf.h"
#include "portprobe/stats.h"

/* Defaults, as pp_alerter_opts_init sets them. */
#define PP_ALERT_DEFAULT_TIMEOUT     5.0 /* s per webhook attempt (the config's webhook_timeout) */
#define PP_ALERT_DEFAULT_ATTEMPTS    3u  /* webhook attempts per alert */
#define PP_ALERT_DEFAULT_RETRY_DELAY 1.0 /* s before the 2nd attempt, doubled before each next */
#define PP_ALERT_DEFAULT_QUEUE       10000 /* alerts waiting at most */

/* Limits; beyond them pp_alerter_new or pp_alerter_post refuse. */
#define PP_ALERT_MAX_ATTEMPTS 10u      /* webhook_attempts */
#define PP_ALERT_MAX_TIMEOUT  3600.0   /* s, webhook_timeout, command_timeout, retry_delay */
#define PP_ALERT_MAX_QUEUE    1000000u /* queue_max */
#define PP_ALERT_MAX_URL      2048u    /* bytes in the webhook URL */
#define PP_ALERT_MAX_COMMAND  65536u   /* bytes in the command */
#define PP_ALERT_MAX_NAME     256u     /* bytes in check, unit, host, a label name */
#define PP_ALERT_MAX_TEXT     4096u    /* bytes in reason, a label value */
#define PP_ALERT_MAX_LABELS   64u      /* labels on one alert */

/* Levels of the log callback (syslog's numbers). */
#define PP_ALERT_LOG_ERR     3 /* a delivery failed */
#define PP_ALERT_LOG_WARNING 4 /* alerts were dropped: queue full, or left at shutdown */

/* One label of the alert's check, as the configuration has it. */
struct pp_alert_label {
	const char *name;  /* non-empty, < PP_ALERT_MAX_NAME bytes */
	const char *value; /* < PP_ALERT_MAX_TEXT bytes; NULL: "" */
};

/* One state change of one unit. pp_alerter_post copies everything; the
 * caller keeps ownership of what it points to. */
struct pp_alert {
	const char *check;                   /* check name ("web"); required, < PP_ALERT_MAX_NAME */
	const char *unit;                    /* unit name ("web/tcp:443"); required, ditto */
	const char *host;                    /* host probed; required, ditto */
	uint16_t port;                       /* port probed */
	enum pp_health from;                 /* the state left (pp_stats_event.from) */
	enum pp_health to;                   /* the state entered (pp_stats_event.to) */
	int64_t at_ms;                       /* when, epoch ms >= 0 (pp_stats_event.at_ms) */
	const char *reason;                  /* why, "3 consecutive failures: Connection refused";
					      * NULL: ""; < PP_ALERT_MAX_TEXT bytes */
	unsigned streak;                     /* results in the deciding streak (pp_stats_event) */
	int64_t prev_ms;                     /* how long the state left lasted, ms >= 0 */
	const struct pp_alert_label *labels; /* nlabels labels, in order; NULL when 0 */
	size_t nlabels;                      /* at most PP_ALERT_MAX_LABELS */
};

/* The log callback: level PP_ALERT_LOG_*, msg one line without a newline,
 * valid during the call. It is called from the worker thread only, also
 * while pp_alerter_free waits for it: it must be safe against whatever the
 * caller's other threads do, and must not call back into the alerter. */
typedef void pp_alert_log_fn(void *data, int level, const char *msg);

struct pp_alerter_opts {
	const char *webhook;        /* http:// or https:// URL with a host; NULL: none (copied) */
	double webhook_timeout;     /* s per attempt, the whole request and answer; > 0 */
	unsigned webhook_attempts;  /* 1..PP_ALERT_MAX_ATTEMPTS: tries per alert */
	double webhook_retry_delay; /* s >= 0 before the 2nd attempt, doubled before each next */
	const char *command;        /* run with /bin/sh -c per alert; NULL: none (copied) */
	double command_timeout;     /* s, then SIGKILL to its process group; 0: webhook_timeout
				     * (a command that takes longer than a webhook may is as stuck) */
	size_t queue_max;           /* 1..PP_ALERT_MAX_QUEUE alerts waiting; more are dropped */
	pp_alert_log_fn *log;       /* NULL: failures are only counted */
	void *log_data;             /* passed to log */
};

/* Counters, for /metrics. sent and failed count deliveries: an alert makes
 * one per configured channel (webhook, command). */
struct pp_alerter_stats {
	uint64_t sent;     /* deliveries that succeeded: a 2xx answer, a command exiting 0 */
	uint64_t failed;   /* deliveries that failed, after all their attempts */
	uint64_t dropped;  /* alerts refused with -ENOSPC (queue full) */
	uint64_t queued;   /* alerts accepted and not finished: waiting or being delivered */
	bool has_webhook;  /* a webhook is configured */
	bool webhook_down; /* an alert failed after all its webhook attempts (for a reason a
			    * retry could cure) and none was delivered since: alerts get one
			    * attempt each meanwhile */
};

struct pp_alerter;

/* Fills o with no webhook, no command and the defaults above. */
void pp_alerter_opts_init(struct pp_alerter_opts *o);

/* Starts an alerter: checks and copies opts, prepares libcurl (calls
 * curl_global_init: call this from the main thread, not concurrently with
 * other libcurl setup) and starts the worker thread with every signal
 * blocked. On success stores it in *ret and returns 0; otherwise *ret is
 * untouched, err (when not NULL) holds one line, and the return is -EINVAL
 * (bad option: "alerts: webhook attempts must be 1..10"), -ENOTSUP
 * (libcurl too old for a needed option), -ENOMEM or -errno of
 * pthread_create. Having neither a webhook nor a command is allowed:
 * alerts are then accepted and forgotten. */
int pp_alerter_new(const struct pp_alerter_opts *opts, struct pp_alerter **ret, char *err,
		   size_t errlen);

/* Queues a copy of alert for delivery and wakes the worker; never blocks on
 * delivery. Safe from any thread. 0; -EINVAL (a required string NULL, a
 * health out of range, a negative time, a label without a name, more than
 * PP_ALERT_MAX_LABELS labels); -E2BIG (a string over its limit); -ENOSPC
 * (queue full: dropped and counted); -ENOMEM. */
int pp_alerter_post(struct pp_alerter *a, const struct pp_alert *alert);

/* Current counters into *ret. Safe from any thread. */
void pp_alerter_stats(struct pp_alerter *a, struct pp_alerter_stats *ret);

/* Stops the alerter: the worker goes on delivering what is queued for at
 * most drain_s seconds (<= 0 or NaN: none), then a transfer or command in
 * progress is abandoned (its process group killed) and counted failed, the
 * alerts still waiting are logged as undelivered, the thread is joined and
 * everything freed. Call it once, when no pp_alerter_post can run anymore.
 * NULL-safe. */
void pp_alerter_free(struct pp_alerter *a, double drain_s);

/* The webhook body of alert (the object shown above) appended to b, no
 * newline. 0 or b's error (-ENOMEM, -E2BIG). The alert is not checked. */
int pp_alert_write_json(struct pp_buf *b, const struct pp_alert *alert);

#endif
