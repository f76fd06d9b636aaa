/* serve.h: `portprobe serve`: the checks of a configuration file run on a
 * schedule, with history, statistics, alerts and an HTTP server for
 * Prometheus (/metrics, /probe) and people (/api/v1/..., /healthz).
 *
 * Threads. The calling thread runs the scheduler: every unit on its own
 * timer, spread over its interval by a hash of its name (the same phase after
 * a restart or a reload), the results judged, counted (stats.h), written to
 * SQLite once a second in one transaction (store.h) and turned into alerts
 * (alert.h, its own thread). The HTTP server is `threads` workers, each with
 * its own event loop, its own libmicrohttpd daemon on a SO_REUSEPORT socket
 * of the same address, and its own probe runner, so a /probe request is
 * parsed, probed and answered on one thread without a hand-off. Workers read
 * the scheduler's state (latest results, statistics) under one mutex.
 *
 * Signals. pp_serve_new() blocks SIGHUP, SIGINT and SIGTERM in the calling
 * thread (every thread it starts inherits that) and pp_serve_run() takes them
 * from a signalfd: SIGHUP reloads the configuration (an invalid file is
 * refused with a log line and the old one goes on; units keep their history,
 * statistics and health by name), SIGINT and SIGTERM stop: no new run starts,
 * the HTTP server stops accepting, runs in flight get up to 5 s to finish,
 * every result is committed and the alert queue drained. A second signal
 * stops at once (still committing what is in).
 *
 * The library never prints: everything worth telling goes to the log callback.
 */
#ifndef PORTPROBE_SERVE_H
#define PORTPROBE_SERVE_H

#include <stdbool.h>
#include <stddef.h>

enum pp_log_level {
	PP_LOG_ERROR = 0,
	PP_LOG_WARNING,
	PP_LOG_INFO,
	PP_LOG_DEBUG,
};

/* One log line (no newline); called from any of serve's threads, one call
 * at a time (serve serializes them). */
typedef void pp_serve_log_cb(void *data, enum pp_log_level level, const char *msg);

struct pp_serve_opts {
	const char *config_path; /* required; read again on SIGHUP */
	const char *listen;  /* overrides server.listen ("127.0.0.1:9115", "[::1]:9115", ":9115") */
	const char *db_path; /* overrides store.path */
	bool no_db;          /* keep no history (store.disabled does the same) */
	unsigned threads;    /* HTTP workers; 0: the online CPUs, at most 8 */
	unsigned max_inflight; /* scheduled units running at once; 0: 4096 */
	pp_serve_log_cb *log;  /* NULL: nothing is logged */
	void *log_data;        /* its argument */
};

struct pp_serve;

void pp_serve_opts_init(struct pp_serve_opts *o);

/* Loads the configuration, opens the history (restoring each unit's health),
 * binds the HTTP sockets and starts the alert thread; nothing is probed yet.
 * 0, or -errno with one line in err: -EINVAL for an invalid configuration
 * (its loader's message) or option, -EADDRINUSE and other bind errors
 * ("127.0.0.1:9115: cannot listen: Address already in use"), store errors. */
int pp_serve_new(const struct pp_serve_opts *o, struct pp_serve **ret, char *err, size_t errlen);
/* Runs until SIGINT or SIGTERM (see above); returns the signal number, or
 * -errno when this host failed it (the log says why). */
int pp_serve_run(struct pp_serve *s);
/* The URL the HTTP server answers on ("http://127.0.0.1:9115"). */
const char *pp_serve_url(const struct pp_serve *s);
/* Frees everything (NULL-safe). */
void pp_serve_free(struct pp_serve *s);

#endif
