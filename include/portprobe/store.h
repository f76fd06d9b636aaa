/* store.h: the history of `portprobe serve` in SQLite: every result with its
 * reason, every state change, and each unit's health state across restarts.
 *
 * One database file in WAL mode, one connection, prepared statements kept for
 * the life of the handle. Writes come in batches, one transaction each
 * (pp_store_add_batch), or inside an explicit pp_store_begin/pp_store_commit
 * that can also carry transitions and state rows, so that a scheduler commits
 * a whole tick at once. Reads return rows newest first through a callback.
 * Retention is enforced by pp_store_prune in bounded chunks, so one call never
 * holds the write lock for long.
 *
 * Durability. The default is synchronous=NORMAL: a commit appends its pages to
 * the WAL file with write(2) and returns without fsync; the WAL is fsynced
 * only at checkpoints. A killed process (kill -9, a crash, the OOM killer)
 * loses nothing it committed, because the written pages are in the kernel's
 * page cache, which the process's death does not touch, and the next open
 * replays the WAL (tests/integration/test_store_crash.sh checks exactly
 * that). Only a power loss or a kernel crash can lose the last transactions
 * since a checkpoint, and even then the file stays consistent, never
 * corrupt. PP_STORE_SYNC_FULL also fsyncs the WAL at each commit and so
 * survives power loss. Measured with `pp_store_writer --bench` (ext4 on a
 * virtio disk whose host caches writes, so fsync costs only ~0.13 ms here),
 * rows inserted per second with one transaction per batch of 1 / 100 / 1000:
 *   NORMAL  33,900 / 157,000 / 223,000
 *   FULL     6,300 / 125,000 / 209,000
 * 10,000 checks every 15 s is ~670 results/s: with NORMAL that is 2% of a
 * core unbatched and 0.4% in batches of 100. FULL costs little here once
 * batched (0.5%), but every commit then waits for the disk inside the
 * caller's thread; on a real disk an fsync takes milliseconds and can stall
 * for far longer under load, which would delay the checks of an event loop
 * and skew their measured latency. So NORMAL is the default: it keeps the
 * promise (no committed result lost on kill -9) and waits for the disk only
 * at the automatic checkpoints (one per 1000 WAL pages, ~4 MiB); FULL is
 * there for whoever must survive power loss.
 *
 * Not thread-safe: use a handle from one thread at a time. Errors are
 * negative errno values with a one-line message in the caller's err buffer
 * naming the file and the operation ("history.db: inserting result 0:
 * database or disk is full"); the library never prints.
 */
#ifndef PORTPROBE_STORE_H
#define PORTPROBE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "portprobe/check.h"
#include "portprobe/stats.h"

/* The schema this library writes (PRAGMA user_version). Older files are
 * migrated on open; newer ones are refused. */
#define PP_STORE_SCHEMA_VERSION 1
/* PRAGMA application_id of a portprobe history file ("PPHS"). */
#define PP_STORE_APPLICATION_ID 0x50504853

/* Caps on what one row may carry, in bytes; longer values are refused. */
#define PP_STORE_NAME_MAX   256   /* check_name, unit */
#define PP_STORE_WORD_MAX   64    /* state, error, ip, from/to state */
#define PP_STORE_DETAIL_MAX 4096  /* detail, reason */
#define PP_STORE_EXTRA_MAX  65536 /* extra (JSON) */

struct pp_store;

enum pp_store_sync {
	PP_STORE_SYNC_NORMAL = 0, /* fsync at checkpoints: survives kill -9, not power loss */
	PP_STORE_SYNC_FULL,       /* fsync at every commit: survives power loss */
};

struct pp_store_opts {
	int64_t retention_s;      /* prune results and transitions older than this; 0: keep all */
	enum pp_store_sync sync;  /* durability of a commit (see above) */
	unsigned busy_timeout_ms; /* wait this long for another process's lock; 0: 5000 */
	unsigned prune_chunk;     /* at most this many rows per table per prune call; 0: 2000 */
};

/* One check result. On write every string is bound as a parameter (never
 * pasted into SQL) and copied by SQLite; on read (history) the strings point
 * into SQLite's row and are valid only during the callback. */
struct pp_store_result {
	int64_t id;             /* increasing, a committed one never reused; ignored on write */
	const char *check_name; /* the check's configured name; required */
	const char *unit;       /* what was tested, e.g. "web/tcp:443"; required */
	int64_t ts_ms;          /* when the result was known, Unix epoch milliseconds */
	bool ok;                /* the check passed */
	const char *state;      /* "open", "closed", "filtered", TLS "valid"...; required */
	const char *error;      /* the error class name, NULL when ok */
	const char *detail;     /* one line explaining the outcome, or NULL */
	const char *ip;         /* the address tested, NULL when the name did not resolve */
	unsigned port;          /* 0..65535; 0: none (stored as NULL) */
	double response_time_s; /* NAN: unknown (stored as NULL) */
	double dns_time_s;      /* NAN: unknown (stored as NULL) */
	unsigned attempts;      /* attempts made */
	const char *extra;      /* valid JSON (e.g. {"days_left":12}) or NULL */
};

/* Fills *ret from a TCP check's result: check_name and unit as given; ts_ms
 * from its timestamp; state the nmap state name ("open", "closed",
 * "filtered", or "unknown" when nothing was probed, e.g. the name did not
 * resolve); error the plugin's class message ("Connection refused") or NULL
 * when connected; detail, port, times and attempts as they are; ip formatted
 * into ipbuf (PP_ADDRSTRLEN bytes) or NULL. The strings borrow from c, ipbuf
 * and the arguments; extra is NULL. */
void pp_store_result_from_check(struct pp_store_result *ret, const char *check_name,
				const char *unit, const struct pp_check_result *c, char *ipbuf,
				size_t iplen);

/* One health change, for alert history and time-in-state. Strings as above. */
struct pp_store_transition {
	int64_t id;             /* the row's id; ignored on write */
	const char *check_name; /* required */
	const char *unit;       /* required */
	int64_t ts_ms;          /* when the change was decided, epoch ms */
	enum pp_health from;    /* previous state */
	enum pp_health to;      /* new state */
	const char *reason;     /* e.g. "3 consecutive failures: Connection refused", or NULL */
};

/* Called once per row, newest first; the row is valid only during the call,
 * which must not call back into the store. Return 0 to go on, anything else
 * to stop after this row. */
typedef int pp_store_result_cb(void *data, const struct pp_store_result *r);
typedef int pp_store_transition_cb(void *data, const struct pp_store_transition *t);
/* Called once per saved state row (in check_name, unit order); the strings
 * are valid only during the call. Return 0 to go on, non-zero to stop. */
typedef int pp_store_state_cb(void *data, const char *check_name, const char *unit,
			      const struct pp_stats_state *st);

/* Fills opts with the defaults: retention 0 (keep all), NORMAL, 5000 ms, 2000 rows. */
void pp_store_opts_init(struct pp_store_opts *opts);

/* Opens (creating when missing) the history database at path, switches it to
 * WAL with the requested synchronous mode, and creates or migrates the schema
 * in one transaction. A file that is not SQLite, an SQLite file of another
 * application, or a schema newer than PP_STORE_SCHEMA_VERSION is refused
 * with -EBADMSG, -EBADMSG and -EPROTONOSUPPORT respectively. path is copied.
 * *ret is written only on success; free it with pp_store_close(). */
int pp_store_open(const char *path, const struct pp_store_opts *opts, struct pp_store **ret,
		  char *err, size_t errlen);
/* Rolls back an open transaction, finalizes the statements and closes the
 * file (checkpointing the WAL). NULL-safe. */
void pp_store_close(struct pp_store *store);

/* Starts a write transaction (BEGIN IMMEDIATE); every write until
 * pp_store_commit() joins it. -EBUSY when one is already open. */
int pp_store_begin(struct pp_store *store, char *err, size_t errlen);
/* Commits the open transaction: on return 0 its rows survive kill -9. On
 * failure the transaction is rolled back. -EINVAL when none is open. */
int pp_store_commit(struct pp_store *store, char *err, size_t errlen);
/* Abandons the open transaction; no-op when none is open. */
void pp_store_rollback(struct pp_store *store);

/* Appends n results. Every row is checked first (required fields, caps,
 * port range) so that a bad row refuses the whole batch before anything is
 * written (-EINVAL or -E2BIG, the message naming the row's index and field);
 * extra that is not valid JSON is found by SQLite while inserting (-EINVAL).
 * Outside a transaction the batch is one transaction of its own; inside one
 * it joins it; any failure rolls back the transaction, the caller's too.
 * Returns 0 and, when ret_last_id is not NULL, the last row's id (ids of a
 * batch are consecutive) in *ret_last_id; n == 0 does nothing. */
int pp_store_add_batch(struct pp_store *store, const struct pp_store_result *r, size_t n,
		       int64_t *ret_last_id, char *err, size_t errlen);

/* Calls cb for the results of check_name (and of unit, unless NULL) with
 * ts_ms >= since_ms, newest first (ts_ms, then id), at most limit rows (0: no
 * limit). Returns the number of rows delivered, or -errno. */
int pp_store_history(struct pp_store *store, const char *check_name, const char *unit,
		     int64_t since_ms, unsigned limit, pp_store_result_cb *cb, void *data,
		     char *err, size_t errlen);

/* Appends one state change (inside the open transaction, or its own). */
int pp_store_transition_add(struct pp_store *store, const struct pp_store_transition *t, char *err,
			    size_t errlen);
/* As pp_store_history, for transitions. */
int pp_store_transitions(struct pp_store *store, const char *check_name, const char *unit,
			 int64_t since_ms, unsigned limit, pp_store_transition_cb *cb, void *data,
			 char *err, size_t errlen);

/* Saves (inserts or replaces) the health state of one unit. */
int pp_store_state_save(struct pp_store *store, const char *check_name, const char *unit,
			const struct pp_stats_state *st, char *err, size_t errlen);
/* Calls cb for every saved state row. A row whose state is not up, down or
 * unknown stops the walk with -EBADMSG. Returns the number of rows, or -errno. */
int pp_store_state_load_all(struct pp_store *store, pp_store_state_cb *cb, void *data, char *err,
			    size_t errlen);
/* Deletes the saved state of one unit (a check removed from the
 * configuration); 0 whether or not it existed. */
int pp_store_state_delete(struct pp_store *store, const char *check_name, const char *unit,
			  char *err, size_t errlen);

/* Deletes results and transitions older than now_ms - retention, at most
 * prune_chunk rows from each table, in one short transaction (or the open
 * one). Returns the number of rows deleted; *ret_more (when not NULL) is set
 * to whether old rows may remain, so the caller runs it again later (e.g. on
 * its next idle tick) until it is false. With retention 0 it deletes nothing. */
int pp_store_prune(struct pp_store *store, int64_t now_ms, bool *ret_more, char *err,
		   size_t errlen);

/* Changes the retention of the next pp_store_prune calls (as
 * pp_store_opts.retention_s; 0: keep all), e.g. when a reloaded
 * configuration asks for another. 0, or -EINVAL for a value out of range
 * (the retention is then unchanged). */
int pp_store_set_retention(struct pp_store *store, int64_t retention_s);
/* Changes how long a write waits for another process's lock (as
 * pp_store_opts.busy_timeout_ms; 0: 5000 ms). A writer on an event loop
 * opens with the default, so that the schema can wait for another process at
 * start, then shortens it: a locked file then fails a write with -EBUSY
 * within ms and the caller keeps its rows for a later try, instead of
 * stalling its loop for seconds. */
void pp_store_set_busy_timeout(struct pp_store *store, unsigned ms);

/* The path the store was opened with. */
const char *pp_store_path(const struct pp_store *store);

#endif
