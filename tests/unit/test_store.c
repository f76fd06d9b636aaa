/* test_store.c: the history store and the per-unit statistics, with exact
 * values: rows come back as written, newest first, cut by limit and since;
 * retention prunes exactly the old rows, in chunks; state survives a reopen;
 * files that are not ours are refused with a message naming them; latency
 * figures, percentiles and the flap-damped health follow known series.
 * Every store test works on a real file in a fresh temporary directory. */
#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "portprobe/parse.h"
#include "portprobe/stats.h"
#include "portprobe/store.h"
#include "test.h"

#define T0 1700000000000ll /* a fixed epoch ms: 2023-11-14T22:13:20Z */

/* --- temporary files -------------------------------------------------------- */

static char tmp_dirs[64][128]; /* every test of a whole-list run */
static unsigned tmp_ndirs;

static void tmp_remove_all(void)
{
	static const char *const names[] = {"history.db", "history.db-wal", "history.db-shm",
					    "other.db",   "other.db-wal",   "other.db-shm",
					    "text.db"};
	char path[192];

	for (unsigned i = 0; i < tmp_ndirs; i++) {
		for (size_t j = 0; j < sizeof(names) / sizeof(names[0]); j++) {
			snprintf(path, sizeof(path), "%s/%s", tmp_dirs[i], names[j]);
			unlink(path);
		}
		rmdir(tmp_dirs[i]);
	}
	tmp_ndirs = 0;
}

/* A fresh directory; *path gets DIR/NAME. Everything is removed at exit. */
static int tmp_path(const char *name, char *path, size_t len)
{
	const char *base = getenv("TMPDIR");
	char *d;

	if (tmp_ndirs == sizeof(tmp_dirs) / sizeof(tmp_dirs[0]))
		return -1;
	snprintf(tmp_dirs[tmp_ndirs], sizeof(tmp_dirs[0]), "%s/pp_store_XXXXXX",
		 base && *base ? base : "/tmp");
	d = mkdtemp(tmp_dirs[tmp_ndirs]);
	if (!d)
		return -1;
	if (!tmp_ndirs)
		atexit(tmp_remove_all);
	tmp_ndirs++;
	snprintf(path, len, "%s/%s", d, name);
	return 0;
}

static struct pp_store *open_or_null(const char *path, int64_t retention_s, unsigned chunk)
{
	struct pp_store_opts opts;
	struct pp_store *s = NULL;
	char err[256];

	pp_store_opts_init(&opts);
	opts.retention_s = retention_s;
	opts.prune_chunk = chunk;
	if (pp_store_open(path, &opts, &s, err, sizeof(err)) < 0) {
		fprintf(stderr, "pp_store_open: %s\n", err);
		return NULL;
	}
	return s;
}

/* A plain result of check "web" for unit at ts. */
static struct pp_store_result result_at(const char *unit, int64_t ts, bool ok)
{
	return (struct pp_store_result){
	    .check_name = "web",
	    .unit = unit,
	    .ts_ms = ts,
	    .ok = ok,
	    .state = ok ? "open" : "closed",
	    .error = ok ? NULL : "Connection refused",
	    .detail = ok ? "connected" : "connect: Connection refused",
	    .ip = "192.0.2.7",
	    .port = 443,
	    .response_time_s = ok ? 0.25 : NAN,
	    .dns_time_s = 0.125,
	    .attempts = 1,
	    .extra = NULL,
	};
}

/* --- collecting rows -------------------------------------------------------- */

struct row {
	int64_t id;
	int64_t ts_ms;
	char unit[64];
};

struct rows {
	struct row v[64];
	size_t n;
	size_t stop_after; /* 0: never */
};

static int collect_result(void *data, const struct pp_store_result *r)
{
	struct rows *rows = data;

	if (rows->n < 64) {
		rows->v[rows->n].id = r->id;
		rows->v[rows->n].ts_ms = r->ts_ms;
		snprintf(rows->v[rows->n].unit, sizeof(rows->v[0].unit), "%s", r->unit);
		rows->n++;
	}
	return rows->stop_after && rows->n == rows->stop_after;
}

static int collect_transition(void *data, const struct pp_store_transition *t)
{
	struct rows *rows = data;

	if (rows->n < 64) {
		rows->v[rows->n].id = t->id;
		rows->v[rows->n].ts_ms = t->ts_ms;
		snprintf(rows->v[rows->n].unit, sizeof(rows->v[0].unit), "%s>%s %s",
			 pp_health_name(t->from), pp_health_name(t->to),
			 t->reason ? t->reason : "-");
		rows->n++;
	}
	return 0;
}

/* A full copy of the one result a history call returns. */
struct one {
	int n;
	struct pp_store_result r;
	char check_name[300], unit[300], state[80], error[80], detail[200], ip[80], extra[200];
	bool has_error, has_detail, has_ip, has_extra;
};

static void copy_opt(char *dst, size_t len, const char *src, bool *has)
{
	*has = src != NULL;
	snprintf(dst, len, "%s", src ? src : "");
}

static int copy_one(void *data, const struct pp_store_result *r)
{
	struct one *o = data;

	o->n++;
	o->r = *r;
	snprintf(o->check_name, sizeof(o->check_name), "%s", r->check_name);
	snprintf(o->unit, sizeof(o->unit), "%s", r->unit);
	snprintf(o->state, sizeof(o->state), "%s", r->state);
	copy_opt(o->error, sizeof(o->error), r->error, &o->has_error);
	copy_opt(o->detail, sizeof(o->detail), r->detail, &o->has_detail);
	copy_opt(o->ip, sizeof(o->ip), r->ip, &o->has_ip);
	copy_opt(o->extra, sizeof(o->extra), r->extra, &o->has_extra);
	return 0;
}

/* Rows of a table, read with SQLite directly. */
static long long count_rows(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long long n = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/* --- store ------------------------------------------------------------------ */

TEST_IMPL(store_result_fields_round_trip_exactly)
{
	char path[192], err[256];
	struct pp_store *s;
	struct one o = {0};
	struct pp_store_result r = result_at("web/tcp:443", T0, false), q;
	int64_t last = 0;

	ASSERT_EQ(tmp_path("history.db", path, sizeof(path)), 0);
	s = open_or_null(path, 0, 0);
	ASSERT_TRUE(s);
	r.extra = "{\"days_left\":12}";
	r.attempts = 3;
	ASSERT_EQ(pp_store_add_batch(s, &r, 1, &last, err, sizeof(err)), 0);
	ASSERT_EQ(last, 1);
	ASSERT_EQ(pp_store_history(s, "web", NULL, 0, 0, copy_one, &o, err, sizeof(err)), 1);
	ASSERT_EQ(o.r.id, 1);
	ASSERT_STR_EQ(o.check_name, "web");
	ASSERT_STR_EQ(o.unit, "web/tcp:443");
	ASSERT_EQ(o.r.ts_ms, T0);
	ASSERT_EQ(o.r.ok, 0);
	ASSERT_STR_EQ(o.state, "closed");
	ASSERT_STR_EQ(o.error, "Connection refused");
	ASSERT_STR_EQ(o.detail, "connect: Connection refused");
	ASSERT_STR_EQ(o.ip, "192.0.2.7");
	ASSERT_EQ(o.r.port, 443);
	ASSERT_TRUE(isnan(o.r.response_time_s));
	ASSERT_DBL_EQ(o.r.dns_time_s, 0.125);
	ASSERT_EQ(o.r.attempts, 3);
	ASSERT_STR_EQ(o.extra, "{\"days_left\":12}");

	/* NULLs stay NULL: no error, detail, ip, port or extra */
	q = (struct pp_store_result){.check_name = "dns",
				     .unit = "nowhere/tcp:80",
				     .ts_ms = T0 + 1,
				     .ok = false,
				     .state = "unresolved",
				     .response_time_s = 1.5,
				     .dns_time_s = NAN,
				     .attempts = 2};
	ASSERT_EQ(pp_store_add_batch(s, &q, 1, &last, err, sizeof(err)), 0);
	ASSERT_EQ(last, 2);
	memset(&o, 0, sizeof(o));
	ASSERT_EQ(
	    pp_store_history(s, "dns", "nowhere/tcp:80", 0, 0, copy_one, &o, err, sizeof(err)), 1);
	ASSERT_TRUE(!o.has_error && !o.has_detail && !o.has_ip && !o.has_extra);
	ASSERT_EQ(o.r.port, 0);
	ASSERT_DBL_EQ(o.r.response_time_s, 1.5);
	ASSERT_TRUE(isnan(o.r.dns_time_s));
	ASSERT_EQ(count_rows(path, "SELECT count(*) FROM results WHERE port IS NULL AND "
				   "error IS NULL AND extra IS NULL AND dns_time_s IS NULL"),
		  1);
	pp_store_close(s);
	return 0;
}

TEST_IMPL(store_result_from_check_keeps_the_class_state_and_address)
{
	struct pp_check_result c = {
	    .host = "localhost",
	    .port = 8080,
	    .connected = false,
	    .has_ip = true,
	    .out = {.state = PP_STATE_CLOSED, .reason = PP_REASON_CONN_REFUSED},
	    .error = PP_ERROR_REFUSED,
	    .response_time = 0.0005,
	    .dns_time = 0.002,
	    .attempts = 2,
	    .timestamp = {.tv_sec = T0 / 1000, .tv_nsec = 123456789},
	    .detail = "connect: Connection refused",
	};
	struct pp_store_result r;
	char ip[PP_ADDRSTRLEN], path[192], err[256];
	struct pp_store *s;
	struct one o = {0};

	ASSERT_EQ(pp_parse_ip("127.0.0.1", 8080, &c.ip, NULL), 0);
	pp_store_result_from_check(&r, "api", "api/tcp:8080", &c, ip, sizeof(ip));
	ASSERT_STR_EQ(r.check_name, "api");
	ASSERT_STR_EQ(r.unit, "api/tcp:8080");
	ASSERT_EQ(r.ts_ms, T0 + 123);
	ASSERT_EQ(r.ok, 0);
	ASSERT_STR_EQ(r.state, "closed");
	ASSERT_STR_EQ(r.error, "Connection refused");
	ASSERT_STR_EQ(r.detail, "connect: Connection refused");
	ASSERT_STR_EQ(r.ip, "127.0.0.1");
	ASSERT_EQ(r.port, 8080);
	ASSERT_DBL_EQ(r.response_time_s, 0.0005);
	ASSERT_DBL_EQ(r.dns_time_s, 0.002);
	ASSERT_EQ(r.attempts, 2);
	ASSERT_TRUE(r.extra == NULL);

	ASSERT_EQ(tmp_path("history.db", path, sizeof(path)), 0);
	s = open_or_null(path, 0, 0);
	ASSERT_TRUE(s);
	ASSERT_EQ(pp_store_add_batch(s, &r, 1, NULL, err, sizeof(err)), 0);

	/* a name that did not resolve: no address, no port state */
	c.has_ip = false;
	c.out.state = PP_STATE_UNKNOWN;
	c.error = PP_ERROR_HOST_NOT_FOUND;
	c.timestamp.tv_nsec = 999999999;
	pp_store_result_from_check(&r, "api", "api/tcp:8080", &c, ip, sizeof(ip));
	ASSERT_STR_EQ(r.state, "unknown");
	ASSERT_STR_EQ(r.error, "Host not found");
	ASSERT_TRUE(r.ip == NULL);
	ASSERT_EQ(pp_store_add_batch(s, &r, 1, NULL, err, sizeof(err)), 0);
	ASSERT_EQ(pp_store_history(s, "api", NULL, 0, 1, copy_one, &o, err, sizeof(err)), 1);
	ASSERT_EQ(o.r.ts_ms, T0 + 999);
	ASSERT_STR_EQ(o.error, "Host not found");
	ASSERT_TRUE(!o.has_ip);

	/* connected: no error */
	c.connected = true;
	c.has_ip = true;
	c.out.state = PP_STATE_OPEN;
	c.error = PP_ERROR_NONE;
	pp_store_result_from_check(&r, "api", "api/tcp:8080", &c, ip, sizeof(ip));
	ASSERT_EQ(r.ok, 1);
	ASSERT_STR_EQ(r.state, "open");
	ASSERT_TRUE(r.error == NULL);
	pp_store_close(s);
	return 0;
}

TEST_IMPL(store_history_is_newest_first_with_limit_since_and_unit)
{
	static const struct {
		const char *unit;
		int64_t ts;
	} in[] = {
	    {"web/tcp:443", T0 + 3000}, {"web/tcp:80", T0 + 1000}, {"web/tcp:443", T0 + 1000},
	    {"web/tcp:443", T0 + 5000}, {"web/tcp:80", T0 + 5000}, {"web/tcp:443", T0 + 3000},
	};
	struct pp_store_result r[6];
	char path[192], err[256];
	struct pp_store *s;
	struct rows rows = {0};

	ASSERT_EQ(tmp_path("history.db", path, sizeof(path)), 0);
	s = open_or_null(path, 0, 0);
	ASSERT_TRUE(s);
	for (size_t i = 0; i < 6; i++)
		r[i] = result_at(in[i].unit, in[i].ts, true);
	ASSERT_EQ(pp_store_add_batch(s, r, 6, NULL, err, sizeof(err)), 0);

	/* one unit: by time, then by id, both descending */
	ASSERT_EQ(pp_store_history(s, "web", "web/tcp:443", 0, 0, collect_result, &rows, err,
				   sizeof(err)),
		  4);
	ASSERT_EQ(rows.v[0].id, 4);
	ASSERT_EQ(rows.v[1].id, 6);
	ASSERT_EQ(rows.v[2].id, 1);
	ASSERT_EQ(rows.v[3].id, 3);
	ASSERT_EQ(rows.v[1].ts_ms, T0 + 3000);

	/* every unit of the check */
	memset(&rows, 0, sizeof(rows));
	ASSERT_EQ(pp_store_history(s, "web", NULL, 0, 0, collect_result, &rows, err, sizeof(err)),
		  6);
	ASSERT_EQ(rows.v[0].id, 5);
	ASSERT_EQ(rows.v[1].id, 4);
	ASSERT_EQ(rows.v[2].id, 6);
	ASSERT_EQ(rows.v[3].id, 1);
	ASSERT_EQ(rows.v[4].id, 3);
	ASSERT_EQ(rows.v[5].id, 2);
	ASSERT_STR_EQ(rows.v[5].unit, "web/tcp:80");

	/* limit */
	memset(&rows, 0, sizeof(rows));
	ASSERT_EQ(pp_store_history(s, "web", NULL, 0, 2, collect_result, &rows, err, sizeof(err)),
		  2);
	ASSERT_EQ(rows.v[0].id, 5);
	ASSERT_EQ(rows.v[1].id, 4);

	/* since is inclusive */
	memset(&rows, 0, sizeof(rows));
	ASSERT_EQ(pp_store_history(s, "web", "web/tcp:443", T0 + 3000, 0, collect_result, &rows,
				   err, sizeof(err)),
		  3);
	ASSERT_EQ(rows.v[2].id, 1);

	/* the callback stops the walk */
	memset(&rows, 0, sizeof(rows));
	rows.stop_after = 3;
	ASSERT_EQ(pp_store_history(s, "web", NULL, 0, 0, collect_result, &rows, err, sizeof(err)),
		  3);

	/* another check, nothing */
	ASSERT_EQ(pp_store_history(s, "mail", NULL, 0, 0, collect_result, &rows, err, sizeof(err)),
		  0);
	pp_store_close(s);
	return 0;
}

TEST_IMPL(store_a_bad_row_refuses_the_whole_batch)
{
	struct pp_store_result r[3];
	char path[192], err[256], want[400];
	char *long_detail;
	struct pp_store *s;
	int64_t last = -1;

	ASSERT_EQ(tmp_path("history.db", path, sizeof(path)), 0);
	s = open_or_null(path, 0, 0);
	ASSERT_TRUE(s);
	for (size_t i = 0; i < 3; i++)
		r[i] = result_at("web/tcp:443", T0 + (int64_t)i, true);

	r[2].unit = NULL;
	ASSERT_EQ(pp_store_add_batch(s, r, 3, &last, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s: result 2: unit is missing", path);
	ASSERT_STR_EQ(err, want);
	ASSERT_EQ(last, -1);

	r[2].unit = "";
	ASSERT_EQ(pp_store_add_batch(s, r, 3, &last, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s: result 2: unit is empty", path);
	ASSERT_STR_EQ(err, want);
	r[2].unit = "web/tcp:443";

	long_detail = malloc(PP_STORE_DETAIL_MAX + 2);
	ASSERT_TRUE(long_detail);
	memset(long_detail, 'x', PP_STORE_DETAIL_MAX + 1);
	long_detail[PP_STORE_DETAIL_MAX + 1] = '\0';
	r[1].detail = long_detail;
	ASSERT_EQ(pp_store_add_batch(s, r, 3, &last, err, sizeof(err)), -E2BIG);
	snprintf(want, sizeof(want), "%s: result 1: detail is longer than 4096 bytes", path);
	ASSERT_STR_EQ(err, want);
	long_detail[PP_STORE_DETAIL_MAX] = '\0'; /* exactly the cap is fine */
	ASSERT_EQ(pp_store_add_batch(s, &r[1], 1, NULL, err, sizeof(err)), 0);
	free(long_detail);
	r[1].detail = NULL;

	r[0].port = 70000;
	ASSERT_EQ(pp_store_add_batch(s, r, 3, &last, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s: result 0: port 70000 is not in 0..65535", path);
	ASSERT_STR_EQ(err, want);
	r[0].port = 443;

	/* invalid JSON is found by SQLite mid-batch: the rows before it go too */
	r[2].extra = "{\"days_left\":";
	ASSERT_EQ(pp_store_add_batch(s, r, 3, &last, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s: inserting result 2: extra is not valid JSON", path);
	ASSERT_STR_EQ(err, want);
	ASSERT_EQ(count_rows(path, "SELECT count(*) FROM results"), 1);

	/* and the store is usable afterwards; ids are never reused */
	r[2].extra = "{\"days_left\":3}";
	ASSERT_EQ(pp_store_add_batch(s, r, 3, &last, err, sizeof(err)), 0);
	ASSERT_TRUE(last >= 4);
	ASSERT_EQ(count_rows(path, "SELECT count(*) FROM results"), 4);
	ASSERT_EQ(count_rows(path, "SELECT max(id) - min(id) FROM results WHERE id > 1"), 2);
	pp_store_close(s);
	return 0;
}

TEST_IMPL(store_strings_are_bound_never_pasted_into_sql)
{
	static const char evil[] = "x'); DROP TABLE results; --\"";
	struct pp_store_result r = result_at(evil, T0, true);
	char path[192], err[256];
	struct pp_store *s;
	struct one o = {0};

	ASSERT_EQ(tmp_path("history.db", path, sizeof(path)), 0);
	s = open_or_null(path, 0, 0);
	ASSERT_TRUE(s);
	r.check_name = evil;
	r.detail = "it's \"quoted\" and has a % sign";
	ASSERT_EQ(pp_store_add_batch(s, &r, 1, NULL, err, sizeof(err)), 0);
	ASSERT_EQ(pp_store_history(s, evil, evil, 0, 0, copy_one, &o, err, sizeof(err)), 1);
	ASSERT_STR_EQ(o.check_name, evil);
	ASSERT_STR_EQ(o.unit, evil);
	ASSERT_STR_EQ(o.detail, "it's \"quoted\" and has a % sign");
	pp_store_close(s);
	return 0;
}

TEST_IMPL(store_transaction_carries_results_transitions_and_state_or_nothing)
{
	struct pp_store_result r = result_at("web/tcp:443", T0, false);
	struct pp_store_transition t = {.check_name = "web",
					.unit = "web/tcp:443",
					.ts_ms = T0,
					.from = PP_HEALTH_UP,
					.to = PP_HEALTH_DOWN,
					.reason = "3 consecutive failures: Connection refused"};
	struct pp_stats_state st = {.state = PP_HEALTH_DOWN, .since_ms = T0, .updated_ms = T0};
	char path[192], err[256], want[300];
	struct pp_store *s;

	ASSERT_EQ(tmp_path("history.db", path, sizeof(path)), 0);
	s = open_or_null(path, 0, 0);
	ASSERT_TRUE(s);

	/* rolled back: nothing */
	ASSERT_EQ(pp_store_begin(s, err, sizeof(err)), 0);
	ASSERT_EQ(pp_store_begin(s, err, sizeof(err)), -EBUSY);
	snprintf(want, sizeof(want), "%s: a transaction is already open", path);
	ASSERT_STR_EQ(err, want);
	ASSERT_EQ(pp_store_add_batch(s, &r, 1, NULL, err, sizeof(err)), 0);
	ASSERT_EQ(pp_store_transition_add(s, &t, err, sizeof(err)), 0);
	ASSERT_EQ(pp_store_state_save(s, "web", "web/tcp:443", &st, err, sizeof(err)), 0);
	pp_store_rollback(s);
	ASSERT_EQ(count_rows(path, "SELECT (SELECT count(*) FROM results) + "
				   "(SELECT count(*) FROM transitions) + "
				   "(SELECT count(*) FROM check_state)"),
		  0);

	/* committed: all three */
	ASSERT_EQ(pp_store_begin(s, err, sizeof(err)), 0);
	ASSERT_EQ(pp_store_add_batch(s, &r, 1, NULL, err, sizeof(err)), 0);
	ASSERT_EQ(pp_store_transition_add(s, &t, err, sizeof(err)), 0);
	ASSERT_EQ(pp_store_state_save(s, "web", "web/tcp:443", &st, err, sizeof(err)), 0);
	/* not visible to another reader before the commit */
	ASSERT_EQ(count_rows(path, "SELECT count(*) FROM results"), 0);
	ASSERT_EQ(pp_store_commit(s, err, sizeof(err)), 0);
	ASSERT_EQ(count_rows(path, "SELECT count(*) FROM results"), 1);
	ASSERT_EQ(count_rows(path, "SELECT count(*) FROM transitions"), 1);
	ASSERT_EQ(count_rows(path, "SELECT count(*) FROM check_state"), 1);

	ASSERT_EQ(pp_store_commit(s, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s: commit without a transaction", path);
	ASSERT_STR_EQ(err, want);

	/* a failure inside the caller's transaction rolls it all back */
	ASSERT_EQ(pp_store_begin(s, err, sizeof(err)), 0);
	ASSERT_EQ(pp_store_transition_add(s, &t, err, sizeof(err)), 0);
	r.extra = "not json";
	ASSERT_EQ(pp_store_add_batch(s, &r, 1, NULL, err, sizeof(err)), -EINVAL);
	ASSERT_EQ(pp_store_commit(s, err, sizeof(err)), -EINVAL);
	ASSERT_EQ(count_rows(path, "SELECT count(*) FROM transitions"), 1);
	pp_store_close(s);
	return 0;
}

TEST_IMPL(store_transitions_come_back_newest_first)
{
	struct pp_store_transition t[3] = {
	    {.check_name = "web",
	     .unit = "web/tcp:443",
	     .ts_ms = T0,
	     .from = PP_HEALTH_UNKNOWN,
	     .to = PP_HEALTH_UP,
	     .reason = NULL},
	    {.check_name = "web",
	     .unit = "web/tcp:443",
	     .ts_ms = T0 + 40000,
	     .from = PP_HEALTH_UP,
	     .to = PP_HEALTH_DOWN,
	     .reason = "3 consecutive failures"},
	    {.check_name = "web",
	     .unit = "web/tcp:80",
	     .ts_ms = T0 + 50000,
	     .from = PP_HEALTH_UNKNOWN,
	     .to = PP_HEALTH_DOWN,
	     .reason = "3 consecutive failures"},
	};
	char path[192], err[256];
	struct pp_store *s;
	struct rows rows = {0};

	ASSERT_EQ(tmp_path("history.db", path, sizeof(path)), 0);
	s = open_or_null(path, 0, 0);
	ASSERT_TRUE(s);
	for (size_t i = 0; i < 3; i++)
		ASSERT_EQ(pp_store_transition_add(s, &t[i], err, sizeof(err)), 0);
	ASSERT_EQ(pp_store_transitions(s, "web", "web/tcp:443", 0, 0, collect_transition, &rows,
				       err, sizeof(err)),
		  2);
	ASSERT_STR_EQ(rows.v[0].unit, "up>down 3 consecutive failures");
	ASSERT_EQ(rows.v[0].ts_ms, T0 + 40000);
	ASSERT_STR_EQ(rows.v[1].unit, "unknown>up -");
	memset(&rows, 0, sizeof(rows));
	ASSERT_EQ(pp_store_transitions(s, "web", NULL, T0 + 1, 1, collect_transition, &rows, err,
				       sizeof(err)),
		  1);
	ASSERT_EQ(rows.v[0].id, 3);
	ASSERT_STR_EQ(rows.v[0].unit, "unknown>down 3 consecutive failures");
	pp_store_close(s);
	return 0;
}

TEST_IMPL(store_prune_deletes_exactly_the_old_rows_in_bounded_chunks)
{
	struct pp_store_result r[10];
	struct pp_store_transition t = {
	    .check_name = "web", .unit = "web/tcp:443", .from = PP_HEALTH_UP, .to = PP_HEALTH_DOWN};
	char path[192], err[256];
	struct pp_store *s;
	struct rows rows = {0};
	bool more = false;
	int64_t now = T0 + 100000;

	ASSERT_EQ(tmp_path("history.db", path, sizeof(path)), 0);
	/* keep 60 s, delete at most 3 rows per table per call */
	s = open_or_null(path, 60, 3);
	ASSERT_TRUE(s);
	/* results at T0 + 0, 10, ..., 90 s: those before now - 60 s = T0 + 40 s go */
	for (int i = 0; i < 10; i++)
		r[i] = result_at("web/tcp:443", T0 + i * 10000, true);
	ASSERT_EQ(pp_store_add_batch(s, r, 10, NULL, err, sizeof(err)), 0);
	for (int i = 0; i < 4; i++) {
		t.ts_ms = T0 + 20000 * i; /* 0, 20, 40, 60 s: two are old */
		ASSERT_EQ(pp_store_transition_add(s, &t, err, sizeof(err)), 0);
	}
	ASSERT_EQ(pp_store_prune(s, now, &more, err, sizeof(err)),
		  5); /* 3 results, 2 transitions */
	ASSERT_TRUE(more);
	ASSERT_EQ(pp_store_prune(s, now, &more, err, sizeof(err)), 1); /* the 4th result */
	ASSERT_TRUE(!more);
	ASSERT_EQ(pp_store_prune(s, now, &more, err, sizeof(err)), 0);
	ASSERT_TRUE(!more);
	ASSERT_EQ(pp_store_history(s, "web", NULL, 0, 0, collect_result, &rows, err, sizeof(err)),
		  6);
	ASSERT_EQ(rows.v[5].ts_ms, T0 + 40000); /* the boundary row stays */
	ASSERT_EQ(rows.v[5].id, 5);
	ASSERT_EQ(count_rows(path, "SELECT min(ts_ms) FROM transitions"), T0 + 40000);
	pp_store_close(s);

	/* retention 0 keeps everything */
	s = open_or_null(path, 0, 0);
	ASSERT_TRUE(s);
	ASSERT_EQ(pp_store_prune(s, now + 1000000000, &more, err, sizeof(err)), 0);
	ASSERT_TRUE(!more);
	ASSERT_EQ(count_rows(path, "SELECT count(*) FROM results"), 6);
	pp_store_close(s);
	return 0;
}

/* A reload that changes the retention: the next prune deletes by the new
 * one; a value out of range is refused and changes nothing. */
TEST_IMPL(store_set_retention_applies_to_the_next_prune)
{
	struct pp_store_result r[10];
	char path[192], err[256];
	struct pp_store *s;
	bool more = true;
	int64_t now = T0 + 100000;

	ASSERT_EQ(tmp_path("history.db", path, sizeof(path)), 0);
	s = open_or_null(path, 0, 0); /* keep all */
	ASSERT_TRUE(s);
	/* results at T0 + 0, 10, ..., 90 s */
	for (int i = 0; i < 10; i++)
		r[i] = result_at("web/tcp:443", T0 + i * 10000, true);
	ASSERT_EQ(pp_store_add_batch(s, r, 10, NULL, err, sizeof(err)), 0);
	ASSERT_EQ(pp_store_prune(s, now, &more, err, sizeof(err)), 0);
	ASSERT_TRUE(!more);
	/* 60 s: the rows before T0 + 40 s go */
	ASSERT_EQ(pp_store_set_retention(s, 60), 0);
	ASSERT_EQ(pp_store_prune(s, now, &more, err, sizeof(err)), 4);
	ASSERT_EQ(count_rows(path, "SELECT min(ts_ms) FROM results"), T0 + 40000);
	/* out of range: refused, 60 s stays */
	ASSERT_EQ(pp_store_set_retention(s, -1), -EINVAL);
	ASSERT_EQ(pp_store_set_retention(s, INT64_MAX / 1000 + 1), -EINVAL);
	ASSERT_EQ(pp_store_prune(s, now, &more, err, sizeof(err)), 0);
	/* 30 s: the rows before T0 + 70 s go */
	ASSERT_EQ(pp_store_set_retention(s, 30), 0);
	ASSERT_EQ(pp_store_prune(s, now, &more, err, sizeof(err)), 3);
	ASSERT_EQ(count_rows(path, "SELECT count(*) FROM results"), 3);
	/* 0: keep all again */
	ASSERT_EQ(pp_store_set_retention(s, 0), 0);
	ASSERT_EQ(pp_store_prune(s, now + 1000000000, &more, err, sizeof(err)), 0);
	ASSERT_EQ(count_rows(path, "SELECT count(*) FROM results"), 3);
	pp_store_close(s);
	return 0;
}

static long long elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000LL + (now.tv_nsec - since->tv_nsec) / 1000000;
}

/* Another process holds the write lock: with a short busy timeout a write
 * fails with -EBUSY within about that time (not the default 5 s), leaves no
 * transaction open, and the same rows written again once the lock is gone
 * get the ids they would have had. */
TEST_IMPL(store_a_locked_file_fails_within_the_busy_timeout_and_the_retry_writes)
{
	struct pp_store_result r[3];
	char path[192], err[256];
	struct pp_store *s;
	sqlite3 *other = NULL;
	struct timespec t0;
	int64_t last = 0;
	bool more = false;
	long long ms;

	ASSERT_EQ(tmp_path("history.db", path, sizeof(path)), 0);
	s = open_or_null(path, 60, 0);
	ASSERT_TRUE(s);
	for (int i = 0; i < 3; i++)
		r[i] = result_at("web/tcp:443", T0 + i * 1000, true);
	pp_store_set_busy_timeout(s, 100);
	ASSERT_EQ(sqlite3_open_v2(path, &other, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_EQ(pp_store_add_batch(s, r, 3, NULL, err, sizeof(err)), -EBUSY);
	ms = elapsed_ms(&t0);
	ASSERT_TRUE(ms >= 90 && ms < 1000);
	ASSERT_TRUE(strstr(err, ": starting a transaction: database is locked"));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_EQ(pp_store_prune(s, T0 + 1000000000, &more, err, sizeof(err)), -EBUSY);
	ASSERT_TRUE(elapsed_ms(&t0) < 1000);
	/* the failed begin left no transaction behind: a begin waits again */
	ASSERT_EQ(pp_store_begin(s, err, sizeof(err)), -EBUSY);
	ASSERT_TRUE(strstr(err, ": starting a transaction: database is locked"));

	ASSERT_EQ(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(other);
	ASSERT_EQ(pp_store_add_batch(s, r, 3, &last, err, sizeof(err)), 0);
	ASSERT_EQ(last, 3);
	ASSERT_EQ(count_rows(path, "SELECT count(*) FROM results"), 3);
	pp_store_close(s);
	return 0;
}

/* Field by field: the struct has padding that memcmp would compare. */
static bool same_state(const struct pp_stats_state *a, const struct pp_stats_state *b)
{
	return a->state == b->state && a->since_ms == b->since_ms &&
	       a->consecutive_ok == b->consecutive_ok &&
	       a->consecutive_fail == b->consecutive_fail && a->longest_up_ms == b->longest_up_ms &&
	       a->longest_down_ms == b->longest_down_ms && a->updated_ms == b->updated_ms;
}

struct states {
	char names[8][128];
	struct pp_stats_state st[8];
	int n;
};

static int collect_state(void *data, const char *check_name, const char *unit,
			 const struct pp_stats_state *st)
{
	struct states *ss = data;

	if (ss->n < 8) {
		snprintf(ss->names[ss->n], sizeof(ss->names[0]), "%s|%s", check_name, unit);
		ss->st[ss->n] = *st;
		ss->n++;
	}
	return 0;
}

TEST_IMPL(store_state_save_and_load_all_round_trip)
{
	struct pp_stats_state a = {.state = PP_HEALTH_DOWN,
				   .since_ms = T0 + 5000,
				   .consecutive_ok = 1,
				   .consecutive_fail = 0,
				   .longest_up_ms = 86400000,
				   .longest_down_ms = 5000,
				   .updated_ms = T0 + 9000};
	struct pp_stats_state b = {.state = PP_HEALTH_UP, .since_ms = T0, .updated_ms = T0};
	struct pp_stats_state u = {.state = PP_HEALTH_UNKNOWN, .consecutive_fail = 2};
	char path[192], err[256];
	struct pp_store *s;
	struct states ss = {0};

	ASSERT_EQ(tmp_path("history.db", path, sizeof(path)), 0);
	s = open_or_null(path, 0, 0);
	ASSERT_TRUE(s);
	ASSERT_EQ(pp_store_state_save(s, "web", "web/tcp:80", &b, err, sizeof(err)), 0);
	ASSERT_EQ(pp_store_state_save(s, "web", "web/tcp:443", &b, err, sizeof(err)), 0);
	ASSERT_EQ(pp_store_state_save(s, "web", "web/tcp:443", &a, err, sizeof(err)), 0);
	ASSERT_EQ(pp_store_state_save(s, "db", "db/tcp:5432", &u, err, sizeof(err)), 0);
	ASSERT_EQ(pp_store_state_load_all(s, collect_state, &ss, err, sizeof(err)), 3);
	ASSERT_STR_EQ(ss.names[0], "db|db/tcp:5432");
	ASSERT_STR_EQ(ss.names[1], "web|web/tcp:443");
	ASSERT_STR_EQ(ss.names[2], "web|web/tcp:80");
	ASSERT_EQ(ss.st[0].state, PP_HEALTH_UNKNOWN);
	ASSERT_EQ(ss.st[0].consecutive_fail, 2);
	ASSERT_TRUE(same_state(&ss.st[1], &a));
	ASSERT_TRUE(same_state(&ss.st[2], &b));

	ASSERT_EQ(pp_store_state_delete(s, "web", "web/tcp:80", err, sizeof(err)), 0);
	ASSERT_EQ(pp_store_state_delete(s, "web", "nosuch", err, sizeof(err)), 0);
	memset(&ss, 0, sizeof(ss));
	ASSERT_EQ(pp_store_state_load_all(s, collect_state, &ss, err, sizeof(err)), 2);
	pp_store_close(s);
	return 0;
}

TEST_IMPL(store_reopening_keeps_results_transitions_and_state)
{
	struct pp_store_result r[3];
	struct pp_store_transition t = {.check_name = "web",
					.unit = "web/tcp:443",
					.ts_ms = T0,
					.from = PP_HEALTH_UNKNOWN,
					.to = PP_HEALTH_UP};
	struct pp_stats_state st = {.state = PP_HEALTH_UP, .since_ms = T0, .updated_ms = T0 + 2};
	char path[192], err[256];
	struct pp_store *s;
	struct rows rows = {0};
	struct states ss = {0};
	int64_t last = 0;

	ASSERT_EQ(tmp_path("history.db", path, sizeof(path)), 0);
	s = open_or_null(path, 0, 0);
	ASSERT_TRUE(s);
	for (int i = 0; i < 3; i++)
		r[i] = result_at("web/tcp:443", T0 + i, true);
	ASSERT_EQ(pp_store_add_batch(s, r, 3, NULL, err, sizeof(err)), 0);
	ASSERT_EQ(pp_store_transition_add(s, &t, err, sizeof(err)), 0);
	ASSERT_EQ(pp_store_state_save(s, "web", "web/tcp:443", &st, err, sizeof(err)), 0);
	pp_store_close(s);

	s = open_or_null(path, 0, 0);
	ASSERT_TRUE(s);
	ASSERT_STR_EQ(pp_store_path(s), path);
	ASSERT_EQ(pp_store_history(s, "web", NULL, 0, 0, collect_result, &rows, err, sizeof(err)),
		  3);
	ASSERT_EQ(rows.v[0].ts_ms, T0 + 2);
	memset(&rows, 0, sizeof(rows));
	ASSERT_EQ(
	    pp_store_transitions(s, "web", NULL, 0, 0, collect_transition, &rows, err, sizeof(err)),
	    1);
	ASSERT_EQ(pp_store_state_load_all(s, collect_state, &ss, err, sizeof(err)), 1);
	ASSERT_TRUE(same_state(&ss.st[0], &st));
	/* ids go on after the old ones */
	ASSERT_EQ(pp_store_add_batch(s, r, 1, &last, err, sizeof(err)), 0);
	ASSERT_EQ(last, 4);
	pp_store_close(s);

	/* what is on disk: WAL, our application id, schema version 1 */
	ASSERT_EQ(count_rows(path, "PRAGMA user_version"), PP_STORE_SCHEMA_VERSION);
	ASSERT_EQ(count_rows(path, "PRAGMA application_id"), PP_STORE_APPLICATION_ID);
	ASSERT_EQ(count_rows(path, "SELECT count(*) FROM pragma_journal_mode WHERE "
				   "journal_mode = 'wal'"),
		  1);
	return 0;
}

/* Sets a PRAGMA (or runs any statement) on path with SQLite directly. */
static int exec_sql(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc;
}

TEST_IMPL(store_refuses_a_schema_newer_than_it_knows)
{
	char path[192], err[256], want[400];
	struct pp_store *s = NULL;

	ASSERT_EQ(tmp_path("history.db", path, sizeof(path)), 0);
	s = open_or_null(path, 0, 0);
	ASSERT_TRUE(s);
	pp_store_close(s);
	s = NULL;
	ASSERT_EQ(exec_sql(path, "PRAGMA user_version=2"), SQLITE_OK);
	ASSERT_EQ(pp_store_open(path, NULL, &s, err, sizeof(err)), -EPROTONOSUPPORT);
	ASSERT_TRUE(!s);
	snprintf(want, sizeof(want),
		 "%s: schema version 2 is newer than this portprobe understands (1); use a "
		 "newer portprobe or another database file",
		 path);
	ASSERT_STR_EQ(err, want);
	/* untouched: still version 2 */
	ASSERT_EQ(count_rows(path, "PRAGMA user_version"), 2);
	return 0;
}

TEST_IMPL(store_refuses_a_file_that_is_not_sqlite)
{
	char path[192], err[256], want[400];
	struct pp_store *s = NULL;
	FILE *f;

	ASSERT_EQ(tmp_path("text.db", path, sizeof(path)), 0);
	f = fopen(path, "w");
	ASSERT_TRUE(f);
	for (int i = 0; i < 64; i++)
		fputs("checks:\n  - name: web\n    port: 443\n", f);
	fclose(f);
	ASSERT_EQ(pp_store_open(path, NULL, &s, err, sizeof(err)), -EBADMSG);
	ASSERT_TRUE(!s);
	snprintf(want, sizeof(want), "%s: reading the schema version: file is not a database",
		 path);
	ASSERT_STR_EQ(err, want);
	return 0;
}

TEST_IMPL(store_refuses_another_applications_sqlite_file_untouched)
{
	char path[192], err[256], want[400];
	struct pp_store *s = NULL;
	char wal[200];

	ASSERT_EQ(tmp_path("other.db", path, sizeof(path)), 0);
	ASSERT_EQ(exec_sql(path, "CREATE TABLE photos(id INTEGER PRIMARY KEY, name TEXT)"),
		  SQLITE_OK);
	ASSERT_EQ(pp_store_open(path, NULL, &s, err, sizeof(err)), -EBADMSG);
	snprintf(want, sizeof(want),
		 "%s: not a portprobe history database (an SQLite file with other tables)", path);
	ASSERT_STR_EQ(err, want);
	/* not switched to WAL behind its owner's back */
	snprintf(wal, sizeof(wal), "%s-wal", path);
	ASSERT_TRUE(access(wal, F_OK) != 0);
	ASSERT_EQ(count_rows(path, "SELECT count(*) FROM pragma_journal_mode WHERE "
				   "journal_mode = 'delete'"),
		  1);

	ASSERT_EQ(exec_sql(path, "PRAGMA application_id=1234"), SQLITE_OK);
	ASSERT_EQ(pp_store_open(path, NULL, &s, err, sizeof(err)), -EBADMSG);
	snprintf(want, sizeof(want),
		 "%s: not a portprobe history database (SQLite application_id 0x000004d2)", path);
	ASSERT_STR_EQ(err, want);
	ASSERT_TRUE(!s);
	return 0;
}

TEST_IMPL(store_open_names_the_file_it_cannot_open)
{
	char path[192], bad[256], err[400], want[400];
	struct pp_store *s = NULL;
	struct pp_store_opts opts;

	ASSERT_EQ(tmp_path("history.db", path, sizeof(path)), 0);
	snprintf(bad, sizeof(bad), "%s/no/such/dir/history.db", path);
	ASSERT_EQ(pp_store_open(bad, NULL, &s, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want),
		 "%s: opening: unable to open database file (No such file or directory)", bad);
	ASSERT_STR_EQ(err, want);
	ASSERT_EQ(pp_store_open("", NULL, &s, err, sizeof(err)), -EINVAL);
	ASSERT_STR_EQ(err, "history database: no file name");
	pp_store_opts_init(&opts);
	opts.retention_s = -1;
	ASSERT_EQ(pp_store_open(path, &opts, &s, err, sizeof(err)), -EINVAL);
	ASSERT_TRUE(!s);
	return 0;
}

TEST_IMPL(stats_state_survives_the_store_and_a_restart)
{
	struct pp_stats a, b;
	struct pp_stats_state st;
	struct pp_stats_event ev;
	char path[192], err[256];
	struct pp_store *s;
	struct states ss = {0};

	ASSERT_EQ(tmp_path("history.db", path, sizeof(path)), 0);
	ASSERT_EQ(pp_stats_init(&a, NULL), 0);
	/* up, then two failures: one short of down when the process stops */
	ASSERT_TRUE(pp_stats_add(&a, T0, true, 0.01, &ev));
	ASSERT_TRUE(!pp_stats_add(&a, T0 + 15000, false, NAN, &ev));
	ASSERT_TRUE(!pp_stats_add(&a, T0 + 30000, false, NAN, &ev));
	pp_stats_snapshot(&a, &st);
	s = open_or_null(path, 0, 0);
	ASSERT_TRUE(s);
	ASSERT_EQ(pp_store_state_save(s, "web", "web/tcp:443", &st, err, sizeof(err)), 0);
	pp_store_close(s);
	pp_stats_release(&a);

	s = open_or_null(path, 0, 0);
	ASSERT_TRUE(s);
	ASSERT_EQ(pp_store_state_load_all(s, collect_state, &ss, err, sizeof(err)), 1);
	pp_store_close(s);
	ASSERT_EQ(pp_stats_init(&b, NULL), 0);
	ASSERT_EQ(pp_stats_restore(&b, &ss.st[0]), 0);
	ASSERT_EQ(b.st.state, PP_HEALTH_UP);
	ASSERT_EQ(b.st.consecutive_fail, 2);
	/* the third failure after the restart completes the streak: one event */
	ASSERT_TRUE(pp_stats_add(&b, T0 + 45000, false, NAN, &ev));
	ASSERT_EQ(ev.from, PP_HEALTH_UP);
	ASSERT_EQ(ev.to, PP_HEALTH_DOWN);
	ASSERT_EQ(ev.at_ms, T0 + 45000);
	ASSERT_EQ(ev.prev_ms, 45000);
	ASSERT_EQ(ev.streak, 3);
	pp_stats_release(&b);

	/* a restored "up" unit that stays up raises nothing */
	ASSERT_EQ(pp_stats_init(&b, NULL), 0);
	st.consecutive_fail = 0;
	ASSERT_EQ(pp_stats_restore(&b, &st), 0);
	ASSERT_TRUE(!pp_stats_add(&b, T0 + 60000, true, 0.01, &ev));
	st.state = (enum pp_health)7;
	ASSERT_EQ(pp_stats_restore(&b, &st), -EINVAL);
	pp_stats_release(&b);
	return 0;
}

/* --- stats ------------------------------------------------------------------ */

TEST_IMPL(stats_latency_min_avg_max_mdev_and_loss_of_a_known_series)
{
	static const double lat[] = {1.5, 0.5, 2.5, 1.0, 2.0};
	struct pp_stats s;
	struct pp_stats_summary sum;
	int64_t ts = T0;

	ASSERT_EQ(pp_stats_init(&s, NULL), 0);
	for (size_t i = 0; i < 5; i++) {
		pp_stats_add(&s, ts += 1000, true, lat[i], NULL);
		if (i == 1 || i == 3) /* failures count for loss, never for latency */
			pp_stats_add(&s, ts += 1000, false, 9.0, NULL);
	}
	pp_stats_add(&s, ts += 1000, true, NAN, NULL); /* a success without a time */
	ASSERT_EQ(pp_stats_summary(&s, ts, &sum), 0);
	ASSERT_UEQ(sum.count, 8);
	ASSERT_UEQ(sum.successes, 6);
	ASSERT_DBL_EQ(sum.loss, 2.0 / 8.0);
	ASSERT_DBL_EQ(sum.min_s, 0.5);
	ASSERT_DBL_EQ(sum.max_s, 2.5);
	ASSERT_DBL_EQ(sum.avg_s, 1.5);
	/* ping: sqrt(mean(x^2) - mean(x)^2) = sqrt(13.75/5 - 2.25) = sqrt(0.5) */
	ASSERT_DBL_EQ(sum.mdev_s, sqrt(0.5));
	ASSERT_DBL_EQ(sum.p50_s, 1.5);
	ASSERT_DBL_EQ(sum.p90_s, 2.5);
	ASSERT_EQ(sum.window_len, 5);
	pp_stats_release(&s);
	return 0;
}

TEST_IMPL(stats_percentiles_are_nearest_rank_over_the_last_n)
{
	struct pp_stats_opts opts;
	struct pp_stats s;
	struct pp_stats_summary sum;
	double ps[4] = {0, 50, 100, 25}, out[4];

	/* 1..100 ms in a scrambled order (37 is prime to 100) */
	ASSERT_EQ(pp_stats_init(&s, NULL), 0);
	for (int i = 0; i < 100; i++)
		pp_stats_add(&s, T0 + i, true, (double)((i * 37) % 100 + 1) / 1000.0, NULL);
	ASSERT_EQ(pp_stats_summary(&s, T0 + 100, &sum), 0);
	ASSERT_DBL_EQ(sum.p50_s, 50000 / 1e6);
	ASSERT_DBL_EQ(sum.p90_s, 90000 / 1e6);
	ASSERT_DBL_EQ(sum.p99_s, 99000 / 1e6);
	ASSERT_EQ(pp_stats_percentiles(&s, ps, 4, out), 0);
	ASSERT_DBL_EQ(out[0], 1000 / 1e6);
	ASSERT_DBL_EQ(out[1], 50000 / 1e6);
	ASSERT_DBL_EQ(out[2], 100000 / 1e6);
	ASSERT_DBL_EQ(out[3], 25000 / 1e6);
	ps[0] = 100.5;
	ASSERT_EQ(pp_stats_percentiles(&s, ps, 1, out), -EINVAL);
	ps[0] = NAN;
	ASSERT_EQ(pp_stats_percentiles(&s, ps, 1, out), -EINVAL);
	pp_stats_release(&s);

	/* a window of 4 keeps the last 4 successes only; min/max keep everything */
	pp_stats_opts_init(&opts);
	opts.window = 4;
	ASSERT_EQ(pp_stats_init(&s, &opts), 0);
	for (int i = 1; i <= 10; i++)
		pp_stats_add(&s, T0 + i, true, i / 1000.0, NULL);
	ASSERT_EQ(pp_stats_summary(&s, T0 + 10, &sum), 0);
	ASSERT_EQ(sum.window_len, 4);
	ASSERT_DBL_EQ(sum.p50_s, 8000 / 1e6); /* of 7, 8, 9, 10: rank 2 */
	ASSERT_DBL_EQ(sum.p90_s, 10000 / 1e6);
	ASSERT_DBL_EQ(sum.min_s, 0.001);
	ASSERT_DBL_EQ(sum.max_s, 0.010);
	pp_stats_release(&s);
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

TEST_IMPL(stats_selection_agrees_with_sorting_on_random_windows)
{
	static const double ps[] = {0, 1, 25, 50, 66.6, 90, 99, 99.9, 100};
	enum { NP = sizeof(ps) / sizeof(ps[0]) };
	uint32_t sorted[300];
	double out[NP];
	unsigned seed = 12345;

	for (unsigned n = 1; n <= 300; n += (n < 20 ? 1 : 7)) {
		struct pp_stats_opts opts;
		struct pp_stats s;

		pp_stats_opts_init(&opts);
		opts.window = n;
		ASSERT_EQ(pp_stats_init(&s, &opts), 0);
		/* 2n values so the ring wraps; few distinct values so ties abound */
		for (unsigned i = 0; i < 2 * n; i++) {
			seed = seed * 1103515245u + 12345u;
			pp_stats_add(&s, T0 + i, true, (double)((seed >> 16) % 50) / 1e6, NULL);
		}
		ASSERT_EQ(s.win_len, n);
		for (unsigned i = 0; i < n; i++)
			sorted[i] = s.win[i];
		qsort(sorted, n, sizeof(sorted[0]), cmp_u32);
		ASSERT_EQ(pp_stats_percentiles(&s, ps, NP, out), 0);
		for (size_t k = 0; k < NP; k++) {
			long rank = (long)ceil(ps[k] * n / 100.0);

			if (rank < 1)
				rank = 1;
			ASSERT_DBL_EQ(out[k], sorted[rank - 1] / 1e6);
		}
		pp_stats_release(&s);
	}
	return 0;
}

/* Feeds "o"/"x" results 10 s apart from T0 + 10 s; records the events. */
static int feed(struct pp_stats *s, const char *seq, struct pp_stats_event *evs, int max)
{
	int n = 0;

	for (int i = 0; seq[i]; i++) {
		struct pp_stats_event ev;

		if (pp_stats_add(s, T0 + 10000 * (i + 1), seq[i] == 'o', 0.001, &ev) && n < max)
			evs[n++] = ev;
	}
	return n;
}

TEST_IMPL(stats_flap_damping_ok_ok_fail_fail_fail_ok_ok)
{
	struct pp_stats s;
	struct pp_stats_event ev[8];

	ASSERT_EQ(pp_stats_init(&s, NULL), 0);
	ASSERT_EQ(feed(&s, "ooxxxoo", ev, 8), 3);
	/* result 1: first seen up */
	ASSERT_EQ(ev[0].from, PP_HEALTH_UNKNOWN);
	ASSERT_EQ(ev[0].to, PP_HEALTH_UP);
	ASSERT_EQ(ev[0].at_ms, T0 + 10000);
	ASSERT_EQ(ev[0].prev_ms, 0);
	/* result 5, the third failure: down; the streak began at result 3 */
	ASSERT_EQ(ev[1].from, PP_HEALTH_UP);
	ASSERT_EQ(ev[1].to, PP_HEALTH_DOWN);
	ASSERT_EQ(ev[1].at_ms, T0 + 50000);
	ASSERT_EQ(ev[1].streak_start_ms, T0 + 30000);
	ASSERT_EQ(ev[1].streak, 3);
	ASSERT_EQ(ev[1].prev_ms, 40000);
	/* result 7, the second success: up again */
	ASSERT_EQ(ev[2].from, PP_HEALTH_DOWN);
	ASSERT_EQ(ev[2].to, PP_HEALTH_UP);
	ASSERT_EQ(ev[2].at_ms, T0 + 70000);
	ASSERT_EQ(ev[2].streak_start_ms, T0 + 60000);
	ASSERT_EQ(ev[2].streak, 2);
	ASSERT_EQ(ev[2].prev_ms, 20000);
	ASSERT_EQ(s.st.state, PP_HEALTH_UP);
	ASSERT_EQ(s.st.since_ms, T0 + 70000);
	pp_stats_release(&s);
	return 0;
}

TEST_IMPL(stats_short_failure_and_recovery_streaks_raise_nothing)
{
	struct pp_stats s;
	struct pp_stats_event ev[8];

	ASSERT_EQ(pp_stats_init(&s, NULL), 0);
	/* up; then never three failures in a row */
	ASSERT_EQ(feed(&s, "oxoxxoxxooxxo", ev, 8), 1);
	ASSERT_EQ(s.st.state, PP_HEALTH_UP);
	pp_stats_release(&s);

	ASSERT_EQ(pp_stats_init(&s, NULL), 0);
	/* down, then single successes never bring it up */
	ASSERT_EQ(feed(&s, "xxxoxoxox", ev, 8), 1);
	ASSERT_EQ(ev[0].from, PP_HEALTH_UNKNOWN);
	ASSERT_EQ(ev[0].to, PP_HEALTH_DOWN);
	ASSERT_EQ(ev[0].at_ms, T0 + 30000);
	ASSERT_EQ(ev[0].streak_start_ms, T0 + 10000);
	ASSERT_EQ(s.st.state, PP_HEALTH_DOWN);
	pp_stats_release(&s);
	return 0;
}

TEST_IMPL(stats_unknown_goes_up_at_once_but_down_only_after_n_failures)
{
	struct pp_stats s;
	struct pp_stats_event ev[8];

	ASSERT_EQ(pp_stats_init(&s, NULL), 0);
	ASSERT_EQ(feed(&s, "xx", ev, 8), 0);
	ASSERT_EQ(s.st.state, PP_HEALTH_UNKNOWN);
	pp_stats_release(&s);

	/* two failures then a success: up, with no down before it */
	ASSERT_EQ(pp_stats_init(&s, NULL), 0);
	ASSERT_EQ(feed(&s, "xxo", ev, 8), 1);
	ASSERT_EQ(ev[0].from, PP_HEALTH_UNKNOWN);
	ASSERT_EQ(ev[0].to, PP_HEALTH_UP);
	ASSERT_EQ(ev[0].at_ms, T0 + 30000);
	pp_stats_release(&s);
	return 0;
}

TEST_IMPL(stats_thresholds_are_per_unit_and_checked)
{
	struct pp_stats_opts opts;
	struct pp_stats s;
	struct pp_stats_event ev[8];

	pp_stats_opts_init(&opts);
	ASSERT_EQ(opts.fail_threshold, 3);
	ASSERT_EQ(opts.ok_threshold, 2);
	ASSERT_EQ(opts.window, 1024);
	opts.fail_threshold = 1;
	opts.ok_threshold = 1;
	ASSERT_EQ(pp_stats_init(&s, &opts), 0);
	ASSERT_EQ(feed(&s, "oxoxo", ev, 8), 5);
	ASSERT_EQ(ev[3].to, PP_HEALTH_DOWN);
	ASSERT_EQ(ev[3].at_ms, T0 + 40000);
	/* after a reload to 2/3 it takes two failures */
	ASSERT_EQ(pp_stats_set_thresholds(&s, 2, 3), 0);
	ASSERT_TRUE(!pp_stats_add(&s, T0 + 60000, false, NAN, &ev[0]));
	ASSERT_TRUE(pp_stats_add(&s, T0 + 70000, false, NAN, &ev[0]));
	ASSERT_EQ(ev[0].to, PP_HEALTH_DOWN);
	ASSERT_EQ(pp_stats_set_thresholds(&s, 0, 3), -EINVAL);
	pp_stats_release(&s);

	pp_stats_opts_init(&opts);
	opts.fail_threshold = 0;
	ASSERT_EQ(pp_stats_init(&s, &opts), -EINVAL);
	pp_stats_opts_init(&opts);
	opts.window = 0;
	ASSERT_EQ(pp_stats_init(&s, &opts), -EINVAL);
	opts.window = PP_STATS_WINDOW_MAX + 1;
	ASSERT_EQ(pp_stats_init(&s, &opts), -EINVAL);
	return 0;
}

TEST_IMPL(stats_longest_up_and_down_count_the_current_run)
{
	struct pp_stats s;
	struct pp_stats_summary sum;
	struct pp_stats_state st;
	struct pp_stats_event ev[8];

	ASSERT_EQ(pp_stats_init(&s, NULL), 0);
	/* up at 10 s; down at 50 s (third failure); up at 70 s */
	ASSERT_EQ(feed(&s, "ooxxxoo", ev, 8), 3);
	ASSERT_EQ(pp_stats_summary(&s, T0 + 80000, &sum), 0);
	ASSERT_EQ(sum.state, PP_HEALTH_UP);
	ASSERT_EQ(sum.in_state_ms, 10000);
	ASSERT_EQ(sum.longest_up_ms, 40000);
	ASSERT_EQ(sum.longest_down_ms, 20000);
	/* the current up run overtakes the old one */
	ASSERT_EQ(pp_stats_summary(&s, T0 + 200000, &sum), 0);
	ASSERT_EQ(sum.in_state_ms, 130000);
	ASSERT_EQ(sum.longest_up_ms, 130000);
	/* saved figures count the current run up to the last result */
	pp_stats_add(&s, T0 + 150000, true, 0.001, NULL);
	pp_stats_snapshot(&s, &st);
	ASSERT_EQ(st.longest_up_ms, 80000);
	ASSERT_EQ(st.longest_down_ms, 20000);
	ASSERT_EQ(st.updated_ms, T0 + 150000);
	ASSERT_EQ(st.consecutive_ok, 3);
	pp_stats_release(&s);
	return 0;
}

TEST_IMPL(stats_summary_before_any_result)
{
	struct pp_stats s;
	struct pp_stats_summary sum;
	enum pp_health h = PP_HEALTH_UP;

	ASSERT_EQ(pp_stats_init(&s, NULL), 0);
	ASSERT_EQ(pp_stats_summary(&s, T0, &sum), 0);
	ASSERT_UEQ(sum.count, 0);
	ASSERT_TRUE(isnan(sum.loss) && isnan(sum.min_s) && isnan(sum.avg_s) && isnan(sum.max_s) &&
		    isnan(sum.mdev_s) && isnan(sum.p50_s) && isnan(sum.p99_s));
	ASSERT_EQ(sum.state, PP_HEALTH_UNKNOWN);
	ASSERT_EQ(sum.in_state_ms, 0);
	ASSERT_EQ(sum.longest_up_ms, 0);
	ASSERT_STR_EQ(pp_health_name(PP_HEALTH_DOWN), "down");
	ASSERT_EQ(pp_health_parse("unknown", &h), 0);
	ASSERT_EQ(h, PP_HEALTH_UNKNOWN);
	ASSERT_EQ(pp_health_parse("Up", &h), -EINVAL);
	pp_stats_release(&s);
	pp_stats_release(NULL);
	return 0;
}
