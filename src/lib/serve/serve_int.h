/* serve_int.h: what the parts of `portprobe serve` share (serve.c: the
 * scheduler, results, history and reloads; http.c: the workers;
 * serve_out.c: the pages). See include/portprobe/serve.h for the design. */
#ifndef PP_SERVE_INT_H
#define PP_SERVE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "portprobe/alert.h"
#include "portprobe/buf.h"
#include "portprobe/config.h"
#include "portprobe/loop.h"
#include "portprobe/probe_metrics.h"
#include "portprobe/runner.h"
#include "portprobe/serve.h"
#include "portprobe/stats.h"
#include "portprobe/store.h"

/* A loaded configuration and the runner that runs its units. Workers take a
 * reference for the length of a request; the scheduler frees a retired one
 * when nobody holds it and its runner has nothing in flight. */
struct gen {
	struct pp_serve *s;
	struct pp_config *cfg;
	struct pp_runner *runner; /* scheduled units of cfg */
	atomic_int refs;          /* workers' requests holding it */
	struct gen *next;         /* the retired list */
};

/* One unit's state; index = the unit's index in the current cfg. */
struct unit {
	struct pp_serve *s;
	size_t idx;                   /* in s->units and s->cur->cfg->units */
	char *name;                   /* unit name, the key across reloads */
	struct pp_stats stats;        /* under s->lock */
	bool has_last;                /* last and last_json are set */
	struct pp_probe_metrics last; /* the latest result as metrics; under s->lock */
	char *last_json;              /* ... as the run JSON object; under s->lock */
	int64_t last_ms;              /* its time */
	bool running;                 /* a run is in flight (in any gen's runner) */
	const struct gen *run_gen;    /* the gen whose runner runs it; only its result
				       * counts (compared, never dereferenced) */
	bool touched;                 /* had a result since the last commit: save its health */
	uint64_t skipped;             /* runs not started: the previous one was still running */
	uint64_t interval_ns;         /* the check's interval */
	uint64_t phase_ns;            /* offset in the interval, from the name */
	struct pp_timer timer;        /* the next run */
};

/* A result or a health change waiting for the next commit, with its own
 * copies of the strings. */
struct pending {
	bool is_transition; /* t is set, else r */
	union {
		struct pp_store_result r;
		struct pp_store_transition t;
	};
	char *strs; /* the strings r or t point to */
};

struct http_worker;

struct pp_serve {
	struct pp_serve_opts opts;
	char *config_path;
	struct pp_loop *loop;
	pthread_mutex_t lock; /* cur, units, nunits, the units' stats and last, counters */
	pthread_mutex_t log_lock;
	struct gen *cur;
	struct gen *retired;
	struct unit **units;
	size_t nunits;

	struct pp_store *store; /* NULL: no history */
	char *db_path;          /* NULL: no history */
	struct pp_alerter *alerter;

	/* pending writes, committed by the tick; kept while the database
	 * refuses them, up to a cap (serve.c) */
	struct pending *pend; /* a ring of cappend entries, oldest at pend_head */
	size_t pend_head, npend, cappend;
	char **deleted; /* units removed by a reload: their saved state goes */
	size_t ndeleted;
	bool prune_more;
	bool store_failing;      /* the last commit failed: its rows wait for the next tick */
	bool store_dropping;     /* pending rows were dropped in this failure (logged once) */
	unsigned store_failures; /* failed commits in a row */
	struct pp_timer tick;
	struct pp_timer grace;
	uint64_t grace_end_ns;

	/* http */
	struct http_worker **workers;
	unsigned nworkers;
	char url[96];
	char *tls_cert, *tls_key; /* PEM text for the daemons */

	/* lifecycle */
	bool stopping;
	int signo;
	int64_t start_ms;
	int64_t reload_ms; /* last successful (re)load */
	bool reload_ok;    /* the last reload attempt succeeded */
	uint64_t reloads;  /* successful reloads */

	/* counters, under lock */
	uint64_t results_total;
	uint64_t results_committed;
	uint64_t store_errors; /* failed commits, and pending rows dropped at the cap */
	uint64_t runs_skipped;
	uint64_t alerts_posted;
	uint64_t alerts_dropped;
	atomic_uint_fast64_t http_requests[8]; /* by the route index in http.c; no lock */
	atomic_uint_fast64_t probe_refused;    /* 403 answers; no lock */
	atomic_uint_fast64_t http_timeouts;    /* connections closed by request_timeout */
};

/* serve.c */
void serve_log(struct pp_serve *s, enum pp_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int64_t serve_now_ms(void);
/* Takes a reference on the current gen (under the lock); release it with gen_put. */
struct gen *serve_gen_get(struct pp_serve *s);
void serve_gen_put(struct gen *g);
/* Finds the unit called name (caller holds the lock); NULL when none. */
struct unit *serve_unit_find(struct pp_serve *s, const char *name);

/* http.c */
int http_workers_start(struct pp_serve *s, char *err, size_t errlen);
/* Asks every worker to stop accepting and to finish what is in flight. */
void http_workers_stop(struct pp_serve *s);
/* Joins and frees the workers (after http_workers_stop). */
void http_workers_free(struct pp_serve *s);
int http_sockets_open(struct pp_serve *s, char *err, size_t errlen);

/* serve_out.c */
/* /metrics: every unit's latest result and statistics, then the process's. */
int serve_write_metrics(struct pp_serve *s, struct pp_buf *b);
/* /api/v1/checks */
int serve_write_checks(struct pp_serve *s, struct pp_buf *b);
#endif
