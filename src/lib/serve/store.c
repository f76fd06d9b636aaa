/* store.c: the SQLite history of `portprobe serve`.
 *
 * One connection, every statement prepared once at open (SQLITE_PREPARE_PERSISTENT)
 * and reset after each use; values are always bound, never pasted into SQL.
 * Opening reads the header fields first (application_id, user_version, whether
 * the file has tables) and refuses a foreign or newer file before anything is
 * written to it, since even switching to WAL rewrites the header. Schema
 * changes are a list of steps, one per version, run in one BEGIN IMMEDIATE
 * transaction so that two processes opening a new file cannot both create it.
 * Any failed write inside a transaction rolls the whole transaction back, so
 * a batch is all or nothing whether or not the caller opened the transaction.
 * Prune deletes through the ts_ms indexes, a bounded number of rows per call.
 */
#include "portprobe/store.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portprobe/parse.h"

#define BUSY_TIMEOUT_MS 5000
#define PRUNE_CHUNK     2000

enum stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_RESULT_ADD,
	ST_HISTORY_UNIT,
	ST_HISTORY_CHECK,
	ST_TRANSITION_ADD,
	ST_TRANSITIONS_UNIT,
	ST_TRANSITIONS_CHECK,
	ST_STATE_SAVE,
	ST_STATE_LOAD,
	ST_STATE_DELETE,
	ST_PRUNE_RESULTS,
	ST_PRUNE_TRANSITIONS,
	ST_COUNT,
};

#define RESULT_COLUMNS                                                                             \
	"id, check_name, unit, ts_ms, ok, state, error, detail, ip, port, response_time_s, "       \
	"dns_time_s, attempts, extra"
#define TRANSITION_COLUMNS "id, check_name, unit, ts_ms, from_state, to_state, reason"

/* Parameters: ?1 check_name, ?2 unit, ?3 since_ms, ?4 limit (-1: none). */
static const char *const stmt_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_RESULT_ADD] = "INSERT INTO results(check_name, unit, ts_ms, ok, state, error, detail, ip, "
		      "port, response_time_s, dns_time_s, attempts, extra) "
		      "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    [ST_HISTORY_UNIT] = "SELECT " RESULT_COLUMNS " FROM results "
			"WHERE check_name = ?1 AND unit = ?2 AND ts_ms >= ?3 "
			"ORDER BY ts_ms DESC, id DESC LIMIT ?4",
    [ST_HISTORY_CHECK] = "SELECT " RESULT_COLUMNS " FROM results "
			 "WHERE check_name = ?1 AND ts_ms >= ?3 "
			 "ORDER BY ts_ms DESC, id DESC LIMIT ?4",
    [ST_TRANSITION_ADD] = "INSERT INTO transitions(check_name, unit, ts_ms, from_state, to_state, "
			  "reason) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_TRANSITIONS_UNIT] = "SELECT " TRANSITION_COLUMNS " FROM transitions "
			    "WHERE check_name = ?1 AND unit = ?2 AND ts_ms >= ?3 "
			    "ORDER BY ts_ms DESC, id DESC LIMIT ?4",
    [ST_TRANSITIONS_CHECK] = "SELECT " TRANSITION_COLUMNS " FROM transitions "
			     "WHERE check_name = ?1 AND ts_ms >= ?3 "
			     "ORDER BY ts_ms DESC, id DESC LIMIT ?4",
    [ST_STATE_SAVE] = "INSERT OR REPLACE INTO check_state(check_name, unit, state, since_ms, "
		      "consecutive_ok, consecutive_fail, longest_up_ms, longest_down_ms, "
		      "updated_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [ST_STATE_LOAD] = "SELECT check_name, unit, state, since_ms, consecutive_ok, "
		      "consecutive_fail, longest_up_ms, longest_down_ms, updated_ms "
		      "FROM check_state ORDER BY check_name, unit",
    [ST_STATE_DELETE] = "DELETE FROM check_state WHERE check_name = ?1 AND unit = ?2",
    [ST_PRUNE_RESULTS] = "DELETE FROM results WHERE id IN "
			 "(SELECT id FROM results WHERE ts_ms < ?1 LIMIT ?2)",
    [ST_PRUNE_TRANSITIONS] = "DELETE FROM transitions WHERE id IN "
			     "(SELECT id FROM transitions WHERE ts_ms < ?1 LIMIT ?2)",
};

/* Schema steps: migrations[v] takes a file from version v to v + 1. */
static const char *const migrations[PP_STORE_SCHEMA_VERSION] = {
    /* 0 -> 1: the first schema */
    "CREATE TABLE results("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " check_name TEXT NOT NULL,"
    " unit TEXT NOT NULL,"
    " ts_ms INTEGER NOT NULL,"
    " ok INTEGER NOT NULL CHECK (ok IN (0, 1)),"
    " state TEXT NOT NULL,"
    " error TEXT,"
    " detail TEXT,"
    " ip TEXT,"
    " port INTEGER CHECK (port BETWEEN 1 AND 65535),"
    " response_time_s REAL,"
    " dns_time_s REAL,"
    " attempts INTEGER NOT NULL,"
    " extra TEXT CHECK (extra IS NULL OR json_valid(extra)));"
    "CREATE INDEX results_by_unit ON results(check_name, unit, ts_ms);"
    "CREATE INDEX results_by_time ON results(ts_ms);"
    "CREATE TABLE transitions("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " check_name TEXT NOT NULL,"
    " unit TEXT NOT NULL,"
    " ts_ms INTEGER NOT NULL,"
    " from_state TEXT NOT NULL CHECK (from_state IN ('unknown', 'up', 'down')),"
    " to_state TEXT NOT NULL CHECK (to_state IN ('unknown', 'up', 'down')),"
    " reason TEXT);"
    "CREATE INDEX transitions_by_unit ON transitions(check_name, unit, ts_ms);"
    "CREATE INDEX transitions_by_time ON transitions(ts_ms);"
    "CREATE TABLE check_state("
    " check_name TEXT NOT NULL,"
    " unit TEXT NOT NULL,"
    " state TEXT NOT NULL CHECK (state IN ('unknown', 'up', 'down')),"
    " since_ms INTEGER NOT NULL,"
    " consecutive_ok INTEGER NOT NULL,"
    " consecutive_fail INTEGER NOT NULL,"
    " longest_up_ms INTEGER NOT NULL,"
    " longest_down_ms INTEGER NOT NULL,"
    " updated_ms INTEGER NOT NULL,"
    " PRIMARY KEY (check_name, unit)) WITHOUT ROWID;",
};

struct pp_store {
	sqlite3 *db;                /* the connection */
	char *path;                 /* as given to open */
	struct pp_store_opts opts;  /* with defaults filled in */
	bool in_tx;                 /* a transaction is open (ours or the caller's) */
	sqlite3_stmt *st[ST_COUNT]; /* prepared at open */
};

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Writes the message into err (when there is room) and returns rc. */
static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return rc;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

/* The negative errno closest to an SQLite result code. */
static int errno_of(sqlite3 *db, int rc)
{
	int sys;

	switch (rc & 0xff) {
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
		return -EBADMSG;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
	case SQLITE_RANGE:
		return -EINVAL;
	case SQLITE_TOOBIG:
		return -E2BIG;
	case SQLITE_CANTOPEN:
	case SQLITE_IOERR:
		sys = db ? sqlite3_system_errno(db) : 0;
		return sys > 0 ? -sys : -EIO;
	}
	return -EIO;
}

/* Describes SQLite's failure rc of operation op on s's file. */
static int db_fail(const struct pp_store *s, int rc, const char *op, char *err, size_t errlen)
{
	const char *msg = s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
	int e = errno_of(s->db, rc);

	if (((rc & 0xff) == SQLITE_CANTOPEN || (rc & 0xff) == SQLITE_IOERR) && e != -EIO)
		return fail(err, errlen, e, "%s: %s: %s (%s)", s->path, op, msg, strerror(-e));
	return fail(err, errlen, e, "%s: %s: %s", s->path, op, msg);
}

/* Runs a statement that returns no rows; 0 or the SQLite code. */
static int run(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

/* Runs a one-row one-integer query (a PRAGMA) outside the kept statements. */
static int query_int(struct pp_store *s, const char *sql, int64_t *out)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		*out = 0;
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

void pp_store_opts_init(struct pp_store_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->sync = PP_STORE_SYNC_NORMAL;
	opts->busy_timeout_ms = BUSY_TIMEOUT_MS;
	opts->prune_chunk = PRUNE_CHUNK;
}

const char *pp_store_path(const struct pp_store *store)
{
	return store->path;
}

/* The retention bounds of pp_store_open: the cutoff now_ms - retention * 1000
 * must not overflow. */
static bool retention_valid(int64_t retention_s)
{
	return retention_s >= 0 && retention_s <= INT64_MAX / 1000;
}

int pp_store_set_retention(struct pp_store *store, int64_t retention_s)
{
	if (!retention_valid(retention_s))
		return -EINVAL;
	store->opts.retention_s = retention_s;
	return 0;
}

/* Applies the connection's busy timeout (clamped into SQLite's int). */
static void apply_busy_timeout(struct pp_store *s)
{
	sqlite3_busy_timeout(
	    s->db,
	    (int)(s->opts.busy_timeout_ms > INT32_MAX ? INT32_MAX : s->opts.busy_timeout_ms));
}

void pp_store_set_busy_timeout(struct pp_store *store, unsigned ms)
{
	store->opts.busy_timeout_ms = ms ? ms : BUSY_TIMEOUT_MS;
	apply_busy_timeout(store);
}

/* Reads the header fields and refuses a file that is not ours to write. */
static int check_header(struct pp_store *s, int64_t *version, char *err, size_t errlen)
{
	int64_t app = 0, tables = 0;
	int rc;

	rc = query_int(s, "SELECT count(*) FROM sqlite_master", &tables);
	if (rc == SQLITE_OK)
		rc = query_int(s, "PRAGMA application_id", &app);
	if (rc == SQLITE_OK)
		rc = query_int(s, "PRAGMA user_version", version);
	if (rc != SQLITE_OK)
		return db_fail(s, rc, "reading the schema version", err, errlen);
	if (app != 0 && app != PP_STORE_APPLICATION_ID)
		return fail(
		    err, errlen, -EBADMSG,
		    "%s: not a portprobe history database (SQLite application_id 0x%08" PRIx64 ")",
		    s->path, (uint64_t)(uint32_t)app);
	if (app == 0 && *version == 0 && tables > 0)
		return fail(
		    err, errlen, -EBADMSG,
		    "%s: not a portprobe history database (an SQLite file with other tables)",
		    s->path);
	if (*version > PP_STORE_SCHEMA_VERSION)
		return fail(err, errlen, -EPROTONOSUPPORT,
			    "%s: schema version %" PRId64
			    " is newer than this portprobe understands (%d); use a newer portprobe "
			    "or another database file",
			    s->path, *version, PP_STORE_SCHEMA_VERSION);
	if (*version < 0)
		return fail(err, errlen, -EBADMSG, "%s: schema version %" PRId64 " is not valid",
			    s->path, *version);
	return 0;
}

/* Switches to WAL and the synchronous mode asked for. */
static int set_journal(struct pp_store *s, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	char mode[16] = "";
	int rc;

	rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			const char *m = (const char *)sqlite3_column_text(st, 0);

			snprintf(mode, sizeof(mode), "%s", m ? m : "");
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_OK)
		return db_fail(s, rc, "switching to WAL journal mode", err, errlen);
	if (strcmp(mode, "wal"))
		return fail(err, errlen, -ENOTSUP,
			    "%s: switching to WAL journal mode: the file stays in '%s' mode "
			    "(a memory database or a file system without shared memory?)",
			    s->path, mode);
	rc = sqlite3_exec(s->db,
			  s->opts.sync == PP_STORE_SYNC_FULL ? "PRAGMA synchronous=FULL"
							     : "PRAGMA synchronous=NORMAL",
			  NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return db_fail(s, rc, "setting synchronous mode", err, errlen);
	return 0;
}

/* Brings the schema to PP_STORE_SCHEMA_VERSION in one transaction. */
static int migrate(struct pp_store *s, char *err, size_t errlen)
{
	int64_t version = 0;
	char op[64], sql[96];
	int rc;

	rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return db_fail(s, rc, "locking the file to create the schema", err, errlen);
	/* another process may have created it since we looked */
	rc = check_header(s, &version, err, errlen);
	if (rc < 0)
		goto out;
	for (; version < PP_STORE_SCHEMA_VERSION; version++) {
		rc = sqlite3_exec(s->db, migrations[version], NULL, NULL, NULL);
		if (rc != SQLITE_OK) {
			snprintf(op, sizeof(op), "creating the schema (version %" PRId64 ")",
				 version + 1);
			rc = db_fail(s, rc, op, err, errlen);
			goto out;
		}
	}
	/* PRAGMAs take no parameters; these are our own integer constants */
	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d; PRAGMA application_id=%d",
		 PP_STORE_SCHEMA_VERSION, PP_STORE_APPLICATION_ID);
	rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		rc = db_fail(s, rc, "writing the schema version", err, errlen);
		goto out;
	}
	return 0;
out:
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

void pp_store_close(struct pp_store *store)
{
	if (!store)
		return;
	if (store->in_tx)
		run(store->st[ST_ROLLBACK]);
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(store->st[i]);
	sqlite3_close(store->db);
	free(store->path);
	free(store);
}

int pp_store_open(const char *path, const struct pp_store_opts *opts, struct pp_store **ret,
		  char *err, size_t errlen)
{
	struct pp_store *s;
	int64_t version = 0;
	int rc;

	if (!path || !*path)
		return fail(err, errlen, -EINVAL, "history database: no file name");
	if (opts && (!retention_valid(opts->retention_s) ||
		     (opts->sync != PP_STORE_SYNC_NORMAL && opts->sync != PP_STORE_SYNC_FULL)))
		return fail(err, errlen, -EINVAL, "%s: bad store options (retention %" PRId64 " s)",
			    path, opts->retention_s);
	s = calloc(1, sizeof(*s));
	if (!s)
		return fail(err, errlen, -ENOMEM, "%s: out of memory", path);
	s->path = strdup(path);
	if (!s->path) {
		free(s);
		return fail(err, errlen, -ENOMEM, "%s: out of memory", path);
	}
	if (opts)
		s->opts = *opts;
	else
		pp_store_opts_init(&s->opts);
	if (!s->opts.busy_timeout_ms)
		s->opts.busy_timeout_ms = BUSY_TIMEOUT_MS;
	if (!s->opts.prune_chunk)
		s->opts.prune_chunk = PRUNE_CHUNK;

	rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		rc = db_fail(s, rc, "opening", err, errlen);
		goto out;
	}
	sqlite3_extended_result_codes(s->db, 1);
	apply_busy_timeout(s);
	rc = check_header(s, &version, err, errlen);
	if (rc < 0)
		goto out;
	rc = set_journal(s, err, errlen);
	if (rc < 0)
		goto out;
	if (version < PP_STORE_SCHEMA_VERSION) {
		rc = migrate(s, err, errlen);
		if (rc < 0)
			goto out;
	}
	for (int i = 0; i < ST_COUNT; i++) {
		rc = sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
					&s->st[i], NULL);
		if (rc != SQLITE_OK) {
			rc = db_fail(s, rc, "preparing statements", err, errlen);
			goto out;
		}
	}
	*ret = s;
	return 0;
out:
	pp_store_close(s);
	return rc;
}

int pp_store_begin(struct pp_store *store, char *err, size_t errlen)
{
	int rc;

	if (store->in_tx)
		return fail(err, errlen, -EBUSY, "%s: a transaction is already open", store->path);
	rc = run(store->st[ST_BEGIN]);
	if (rc != SQLITE_OK)
		return db_fail(store, rc, "starting a transaction", err, errlen);
	store->in_tx = true;
	return 0;
}

void pp_store_rollback(struct pp_store *store)
{
	if (!store->in_tx)
		return;
	run(store->st[ST_ROLLBACK]);
	store->in_tx = false;
}

int pp_store_commit(struct pp_store *store, char *err, size_t errlen)
{
	int rc;

	if (!store->in_tx)
		return fail(err, errlen, -EINVAL, "%s: commit without a transaction", store->path);
	rc = run(store->st[ST_COMMIT]);
	if (rc != SQLITE_OK) {
		rc = db_fail(store, rc, "committing", err, errlen);
		pp_store_rollback(store);
		return rc;
	}
	store->in_tx = false;
	return 0;
}

/* Checks an optional (required: must be non-empty) string against its cap. */
static int check_str(const struct pp_store *s, const char *what, size_t idx, const char *field,
		     const char *v, bool required, size_t max, char *err, size_t errlen)
{
	size_t len;

	if (!v) {
		if (!required)
			return 0;
		return fail(err, errlen, -EINVAL, "%s: %s %zu: %s is missing", s->path, what, idx,
			    field);
	}
	len = strnlen(v, max + 1);
	if (required && !len)
		return fail(err, errlen, -EINVAL, "%s: %s %zu: %s is empty", s->path, what, idx,
			    field);
	if (len > max)
		return fail(err, errlen, -E2BIG, "%s: %s %zu: %s is longer than %zu bytes", s->path,
			    what, idx, field, max);
	return 0;
}

/* Everything a result row needs, before anything is written. */
static int result_check(const struct pp_store *s, size_t i, const struct pp_store_result *r,
			char *err, size_t errlen)
{
	int rc;

	if ((rc = check_str(s, "result", i, "check_name", r->check_name, true, PP_STORE_NAME_MAX,
			    err, errlen)) < 0 ||
	    (rc = check_str(s, "result", i, "unit", r->unit, true, PP_STORE_NAME_MAX, err,
			    errlen)) < 0 ||
	    (rc = check_str(s, "result", i, "state", r->state, true, PP_STORE_WORD_MAX, err,
			    errlen)) < 0 ||
	    (rc = check_str(s, "result", i, "error", r->error, false, PP_STORE_WORD_MAX, err,
			    errlen)) < 0 ||
	    (rc = check_str(s, "result", i, "ip", r->ip, false, PP_STORE_WORD_MAX, err, errlen)) <
		0 ||
	    (rc = check_str(s, "result", i, "detail", r->detail, false, PP_STORE_DETAIL_MAX, err,
			    errlen)) < 0 ||
	    (rc = check_str(s, "result", i, "extra", r->extra, false, PP_STORE_EXTRA_MAX, err,
			    errlen)) < 0)
		return rc;
	if (r->port > 65535)
		return fail(err, errlen, -EINVAL, "%s: result %zu: port %u is not in 0..65535",
			    s->path, i, r->port);
	return 0;
}

void pp_store_result_from_check(struct pp_store_result *ret, const char *check_name,
				const char *unit, const struct pp_check_result *c, char *ipbuf,
				size_t iplen)
{
	bool probed = c->has_ip && c->out.state != PP_STATE_UNKNOWN;

	*ret = (struct pp_store_result){
	    .check_name = check_name,
	    .unit = unit,
	    .ts_ms = (int64_t)c->timestamp.tv_sec * 1000 + c->timestamp.tv_nsec / 1000000,
	    .ok = c->connected,
	    .state = pp_state_name(probed ? c->out.state : PP_STATE_UNKNOWN),
	    .error = c->connected ? NULL : pp_error_message(c->error),
	    .detail = c->detail[0] ? c->detail : NULL,
	    .ip = c->has_ip && ipbuf ? pp_addr_str(&c->ip, ipbuf, iplen) : NULL,
	    .port = c->port,
	    .response_time_s = c->response_time,
	    .dns_time_s = c->dns_time,
	    .attempts = c->attempts,
	    .extra = NULL,
	};
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static void bind_real(sqlite3_stmt *st, int i, double v)
{
	if (isfinite(v))
		sqlite3_bind_double(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

static double column_real(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

static const char *column_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

/* Inserts one validated result; 0 or the SQLite code. */
static int result_insert(struct pp_store *s, const struct pp_store_result *r)
{
	sqlite3_stmt *st = s->st[ST_RESULT_ADD];

	bind_text(st, 1, r->check_name);
	bind_text(st, 2, r->unit);
	sqlite3_bind_int64(st, 3, r->ts_ms);
	sqlite3_bind_int(st, 4, r->ok ? 1 : 0);
	bind_text(st, 5, r->state);
	bind_text(st, 6, r->error);
	bind_text(st, 7, r->detail);
	bind_text(st, 8, r->ip);
	if (r->port)
		sqlite3_bind_int(st, 9, (int)r->port);
	else
		sqlite3_bind_null(st, 9);
	bind_real(st, 10, r->response_time_s);
	bind_real(st, 11, r->dns_time_s);
	sqlite3_bind_int64(st, 12, r->attempts);
	bind_text(st, 13, r->extra);
	return run(st);
}

/* Opens a transaction unless one is; *own says whether we did. */
static int tx_enter(struct pp_store *s, bool *own, char *err, size_t errlen)
{
	*own = !s->in_tx;
	return *own ? pp_store_begin(s, err, errlen) : 0;
}

/* Ends the write: commits our own transaction on success; rolls back the
 * transaction, ours or the caller's, on failure (rc < 0). */
static int tx_leave(struct pp_store *s, bool own, int rc, char *err, size_t errlen)
{
	if (rc < 0) {
		pp_store_rollback(s);
		return rc;
	}
	return own ? pp_store_commit(s, err, errlen) : 0;
}

int pp_store_add_batch(struct pp_store *store, const struct pp_store_result *r, size_t n,
		       int64_t *ret_last_id, char *err, size_t errlen)
{
	bool own;
	int rc;
	char op[64];

	if (!n)
		return 0;
	if (!r)
		return fail(err, errlen, -EINVAL, "%s: inserting results: no rows", store->path);
	for (size_t i = 0; i < n; i++) {
		rc = result_check(store, i, &r[i], err, errlen);
		if (rc < 0)
			return rc;
	}
	rc = tx_enter(store, &own, err, errlen);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		int src = result_insert(store, &r[i]);

		if (src == SQLITE_CONSTRAINT_CHECK && r[i].extra)
			rc = fail(err, errlen, -EINVAL,
				  "%s: inserting result %zu: extra is not valid JSON", store->path,
				  i);
		else if (src != SQLITE_OK) {
			snprintf(op, sizeof(op), "inserting result %zu", i);
			rc = db_fail(store, src, op, err, errlen);
		}
		if (rc < 0)
			break;
	}
	rc = tx_leave(store, own, rc, err, errlen);
	if (rc == 0 && ret_last_id)
		*ret_last_id = sqlite3_last_insert_rowid(store->db);
	return rc;
}

/* Binds the common filter of the history and transitions queries. */
static sqlite3_stmt *bind_filter(struct pp_store *s, enum stmt_id by_unit, enum stmt_id by_check,
				 const char *check_name, const char *unit, int64_t since_ms,
				 unsigned limit)
{
	sqlite3_stmt *st = s->st[unit ? by_unit : by_check];

	bind_text(st, 1, check_name);
	if (unit)
		bind_text(st, 2, unit);
	sqlite3_bind_int64(st, 3, since_ms);
	sqlite3_bind_int64(st, 4, limit ? (int64_t)limit : -1);
	return st;
}

int pp_store_history(struct pp_store *store, const char *check_name, const char *unit,
		     int64_t since_ms, unsigned limit, pp_store_result_cb *cb, void *data,
		     char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc, n = 0;

	if (!check_name || !cb)
		return fail(err, errlen, -EINVAL, "%s: reading history: no check name",
			    store->path);
	st = bind_filter(store, ST_HISTORY_UNIT, ST_HISTORY_CHECK, check_name, unit, since_ms,
			 limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct pp_store_result r = {
		    .id = sqlite3_column_int64(st, 0),
		    .check_name = column_text(st, 1),
		    .unit = column_text(st, 2),
		    .ts_ms = sqlite3_column_int64(st, 3),
		    .ok = sqlite3_column_int(st, 4) != 0,
		    .state = column_text(st, 5),
		    .error = column_text(st, 6),
		    .detail = column_text(st, 7),
		    .ip = column_text(st, 8),
		    .port = (unsigned)sqlite3_column_int(st, 9),
		    .response_time_s = column_real(st, 10),
		    .dns_time_s = column_real(st, 11),
		    .attempts = (unsigned)sqlite3_column_int64(st, 12),
		    .extra = column_text(st, 13),
		};

		n++;
		if (cb(data, &r)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE)
		n = db_fail(store, rc, "reading history", err, errlen);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return n;
}

int pp_store_transition_add(struct pp_store *store, const struct pp_store_transition *t, char *err,
			    size_t errlen)
{
	sqlite3_stmt *st = store->st[ST_TRANSITION_ADD];
	bool own;
	int rc;

	if ((rc = check_str(store, "transition", 0, "check_name", t->check_name, true,
			    PP_STORE_NAME_MAX, err, errlen)) < 0 ||
	    (rc = check_str(store, "transition", 0, "unit", t->unit, true, PP_STORE_NAME_MAX, err,
			    errlen)) < 0 ||
	    (rc = check_str(store, "transition", 0, "reason", t->reason, false, PP_STORE_DETAIL_MAX,
			    err, errlen)) < 0)
		return rc;
	rc = tx_enter(store, &own, err, errlen);
	if (rc < 0)
		return rc;
	bind_text(st, 1, t->check_name);
	bind_text(st, 2, t->unit);
	sqlite3_bind_int64(st, 3, t->ts_ms);
	bind_text(st, 4, pp_health_name(t->from));
	bind_text(st, 5, pp_health_name(t->to));
	bind_text(st, 6, t->reason);
	rc = run(st);
	if (rc != SQLITE_OK)
		rc = db_fail(store, rc, "inserting a transition", err, errlen);
	return tx_leave(store, own, rc, err, errlen);
}

int pp_store_transitions(struct pp_store *store, const char *check_name, const char *unit,
			 int64_t since_ms, unsigned limit, pp_store_transition_cb *cb, void *data,
			 char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc, n = 0;

	if (!check_name || !cb)
		return fail(err, errlen, -EINVAL, "%s: reading transitions: no check name",
			    store->path);
	st = bind_filter(store, ST_TRANSITIONS_UNIT, ST_TRANSITIONS_CHECK, check_name, unit,
			 since_ms, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct pp_store_transition t = {
		    .id = sqlite3_column_int64(st, 0),
		    .check_name = column_text(st, 1),
		    .unit = column_text(st, 2),
		    .ts_ms = sqlite3_column_int64(st, 3),
		    .reason = column_text(st, 6),
		};

		if (pp_health_parse(column_text(st, 4), &t.from) < 0 ||
		    pp_health_parse(column_text(st, 5), &t.to) < 0) {
			n = fail(err, errlen, -EBADMSG,
				 "%s: reading transitions: row %" PRId64 " has an unknown state",
				 store->path, t.id);
			rc = SQLITE_DONE;
			break;
		}
		n++;
		if (cb(data, &t)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE)
		n = db_fail(store, rc, "reading transitions", err, errlen);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return n;
}

int pp_store_state_save(struct pp_store *store, const char *check_name, const char *unit,
			const struct pp_stats_state *stt, char *err, size_t errlen)
{
	sqlite3_stmt *st = store->st[ST_STATE_SAVE];
	bool own;
	int rc;

	if ((rc = check_str(store, "state", 0, "check_name", check_name, true, PP_STORE_NAME_MAX,
			    err, errlen)) < 0 ||
	    (rc = check_str(store, "state", 0, "unit", unit, true, PP_STORE_NAME_MAX, err,
			    errlen)) < 0)
		return rc;
	rc = tx_enter(store, &own, err, errlen);
	if (rc < 0)
		return rc;
	bind_text(st, 1, check_name);
	bind_text(st, 2, unit);
	bind_text(st, 3, pp_health_name(stt->state));
	sqlite3_bind_int64(st, 4, stt->since_ms);
	sqlite3_bind_int64(st, 5, stt->consecutive_ok);
	sqlite3_bind_int64(st, 6, stt->consecutive_fail);
	sqlite3_bind_int64(st, 7, stt->longest_up_ms);
	sqlite3_bind_int64(st, 8, stt->longest_down_ms);
	sqlite3_bind_int64(st, 9, stt->updated_ms);
	rc = run(st);
	if (rc != SQLITE_OK)
		rc = db_fail(store, rc, "saving a check state", err, errlen);
	return tx_leave(store, own, rc, err, errlen);
}

/* A saved counter, clamped into an unsigned. */
static unsigned column_count(sqlite3_stmt *st, int i)
{
	int64_t v = sqlite3_column_int64(st, i);

	return v < 0 ? 0 : v > UINT32_MAX ? UINT32_MAX : (unsigned)v;
}

int pp_store_state_load_all(struct pp_store *store, pp_store_state_cb *cb, void *data, char *err,
			    size_t errlen)
{
	sqlite3_stmt *st = store->st[ST_STATE_LOAD];
	int rc, n = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct pp_stats_state s = {
		    .since_ms = sqlite3_column_int64(st, 3),
		    .consecutive_ok = column_count(st, 4),
		    .consecutive_fail = column_count(st, 5),
		    .longest_up_ms = sqlite3_column_int64(st, 6),
		    .longest_down_ms = sqlite3_column_int64(st, 7),
		    .updated_ms = sqlite3_column_int64(st, 8),
		};
		const char *check_name = column_text(st, 0), *unit = column_text(st, 1);

		if (pp_health_parse(column_text(st, 2), &s.state) < 0) {
			n = fail(err, errlen, -EBADMSG,
				 "%s: loading check states: %s %s has an unknown state",
				 store->path, check_name ? check_name : "?", unit ? unit : "?");
			rc = SQLITE_DONE;
			break;
		}
		n++;
		if (cb(data, check_name ? check_name : "", unit ? unit : "", &s)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE)
		n = db_fail(store, rc, "loading check states", err, errlen);
	sqlite3_reset(st);
	return n;
}

int pp_store_state_delete(struct pp_store *store, const char *check_name, const char *unit,
			  char *err, size_t errlen)
{
	sqlite3_stmt *st = store->st[ST_STATE_DELETE];
	bool own;
	int rc;

	if (!check_name || !unit)
		return fail(err, errlen, -EINVAL, "%s: deleting a check state: no name",
			    store->path);
	rc = tx_enter(store, &own, err, errlen);
	if (rc < 0)
		return rc;
	bind_text(st, 1, check_name);
	bind_text(st, 2, unit);
	rc = run(st);
	if (rc != SQLITE_OK)
		rc = db_fail(store, rc, "deleting a check state", err, errlen);
	return tx_leave(store, own, rc, err, errlen);
}

/* Deletes up to the chunk from one table; the count or the SQLite code negated. */
static int prune_one(struct pp_store *s, enum stmt_id id, int64_t cutoff, int *ret_n)
{
	sqlite3_stmt *st = s->st[id];
	int rc;

	sqlite3_bind_int64(st, 1, cutoff);
	sqlite3_bind_int64(st, 2, s->opts.prune_chunk);
	rc = run(st);
	if (rc == SQLITE_OK)
		*ret_n = sqlite3_changes(s->db);
	return rc;
}

int pp_store_prune(struct pp_store *store, int64_t now_ms, bool *ret_more, char *err, size_t errlen)
{
	int64_t cutoff;
	int nr = 0, nt = 0, rc, src;
	bool own;

	if (!store->opts.retention_s) {
		if (ret_more)
			*ret_more = false;
		return 0;
	}
	cutoff = now_ms - store->opts.retention_s * 1000;
	rc = tx_enter(store, &own, err, errlen);
	if (rc < 0)
		return rc;
	src = prune_one(store, ST_PRUNE_RESULTS, cutoff, &nr);
	if (src == SQLITE_OK)
		src = prune_one(store, ST_PRUNE_TRANSITIONS, cutoff, &nt);
	if (src != SQLITE_OK)
		rc = db_fail(store, src, "pruning old rows", err, errlen);
	rc = tx_leave(store, own, rc, err, errlen);
	if (rc < 0)
		return rc;
	if (ret_more)
		*ret_more = (unsigned)nr == store->opts.prune_chunk ||
			    (unsigned)nt == store->opts.prune_chunk;
	return nr + nt;
}
