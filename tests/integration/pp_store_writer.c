/* pp_store_writer.c: drives the history store for the crash test and the
 * durability measurements.
 *
 *   pp_store_writer [--full] DB
 *       commits batches of 1..8 results (with a transition and a state row
 *       every 16th batch) as fast as it can, forever, printing "FIRST LAST
 *       TAG" (the batch's ids, and PID.BATCH, which every row of the batch
 *       has as its detail) on stdout, flushed, after each commit returns;
 *       test_store_crash.sh kills it with SIGKILL. The tag matters: ids of
 *       a batch that was never committed are used again by the next writer,
 *       so an id alone would not tell a lost batch from its successor.
 *   pp_store_writer --verify COMMITTED DB
 *       opens DB through the library (which recovers the WAL), runs
 *       PRAGMA integrity_check, and checks that every id range of COMMITTED
 *       (lines "FIRST LAST TAG") is present with its tag; prints one line,
 *       exit 0/1.
 *   pp_store_writer --bench ROWS BATCH [--full] DB
 *       inserts ROWS results in batches of BATCH and prints the rate.
 *
 * It uses only the library API for writing; verification also reads the file
 * with SQLite directly, since checking ids and integrity is not part of the API.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "portprobe/store.h"

#define MAX_BATCH 1000

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A strict decimal in 1..max, or 0. */
static unsigned long parse_count(const char *s, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v < 1 || v > max)
		return 0;
	return v;
}

/* Fills rows with results of the crash writer's check. */
static void fill(struct pp_store_result *r, size_t n, char units[][32], uint64_t seq,
		 const char *tag)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t k = seq + i;

		snprintf(units[i], sizeof(units[i]), "lab/tcp:%u", (unsigned)(1000 + k % 10));
		r[i] = (struct pp_store_result){
		    .check_name = "crash",
		    .unit = units[i],
		    .ts_ms = now_ms(),
		    .ok = k % 7 != 0,
		    .state = k % 7 != 0 ? "open" : "closed",
		    .error = k % 7 != 0 ? NULL : "Connection refused",
		    .detail = tag,
		    .ip = "127.0.0.1",
		    .port = (unsigned)(1000 + k % 10),
		    .response_time_s = 0.000123,
		    .dns_time_s = 0,
		    .attempts = 1,
		    .extra = k % 5 ? NULL : "{\"seq\":1}",
		};
	}
}

static int write_forever(const char *path, enum pp_store_sync sync)
{
	static struct pp_store_result r[8];
	static char units[8][32];
	struct pp_store_opts opts;
	struct pp_store *store;
	char err[512], tag[48];
	uint64_t seq = 0;
	int rc;

	pp_store_opts_init(&opts);
	opts.sync = sync;
	rc = pp_store_open(path, &opts, &store, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "pp_store_writer: %s\n", err);
		return 1;
	}
	srand((unsigned)now_ms());
	for (uint64_t batch = 0;; batch++) {
		size_t n = 1 + (size_t)(rand() % 8);
		int64_t last = 0;

		snprintf(tag, sizeof(tag), "%ld.%" PRIu64, (long)getpid(), batch);
		fill(r, n, units, seq, tag);
		rc = pp_store_begin(store, err, sizeof(err));
		if (rc == 0)
			rc = pp_store_add_batch(store, r, n, &last, err, sizeof(err));
		if (rc == 0 && batch % 16 == 0) {
			struct pp_store_transition t = {
			    .check_name = "crash",
			    .unit = units[0],
			    .ts_ms = r[0].ts_ms,
			    .from = PP_HEALTH_UP,
			    .to = PP_HEALTH_DOWN,
			    .reason = "pp_store_writer",
			};
			struct pp_stats_state st = {
			    .state = PP_HEALTH_DOWN,
			    .since_ms = r[0].ts_ms,
			    .consecutive_fail = 3,
			    .updated_ms = r[0].ts_ms,
			};

			rc = pp_store_transition_add(store, &t, err, sizeof(err));
			if (rc == 0)
				rc = pp_store_state_save(store, "crash", units[0], &st, err,
							 sizeof(err));
		}
		if (rc == 0)
			rc = pp_store_commit(store, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "pp_store_writer: %s\n", err);
			pp_store_close(store);
			return 1;
		}
		/* only now is the batch committed */
		printf("%" PRId64 " %" PRId64 " %s\n", last - (int64_t)n + 1, last, tag);
		fflush(stdout);
		seq += n;
	}
}

static int verify(const char *committed, const char *path)
{
	struct pp_store_opts opts;
	struct pp_store *store;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char err[512], line[128];
	const unsigned char *ic = NULL;
	unsigned long ranges = 0, missing = 0;
	int64_t rows = 0;
	FILE *f;
	int rc, bad = 1;

	pp_store_opts_init(&opts);
	rc = pp_store_open(path, &opts, &store, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "pp_store_writer: %s\n", err);
		return 1;
	}
	pp_store_close(store);
	f = fopen(committed, "r");
	if (!f) {
		fprintf(stderr, "pp_store_writer: %s: %s\n", committed, strerror(errno));
		return 1;
	}
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		goto sqlfail;
	if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW)
		goto sqlfail;
	ic = sqlite3_column_text(st, 0);
	if (!ic || strcmp((const char *)ic, "ok")) {
		fprintf(stderr, "pp_store_writer: integrity_check: %s\n",
			ic ? (const char *)ic : "?");
		goto out;
	}
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(db,
			       "SELECT count(*) FROM results WHERE id BETWEEN ?1 AND ?2 "
			       "AND detail = ?3",
			       -1, &st, NULL) != SQLITE_OK)
		goto sqlfail;
	while (fgets(line, sizeof(line), f)) {
		int64_t first, last;
		char tag[48], nl;

		/* a line cut by the kill has no newline: it proves nothing */
		if (sscanf(line, "%" SCNd64 " %" SCNd64 " %47s%c", &first, &last, tag, &nl) != 4 ||
		    nl != '\n')
			continue;
		sqlite3_bind_int64(st, 1, first);
		sqlite3_bind_int64(st, 2, last);
		sqlite3_bind_text(st, 3, tag, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) != SQLITE_ROW)
			goto sqlfail;
		if (sqlite3_column_int64(st, 0) != last - first + 1) {
			if (missing++ < 5)
				fprintf(stderr,
					"pp_store_writer: committed ids %" PRId64 "..%" PRId64
					" of batch %s are missing\n",
					first, last, tag);
		}
		rows += last - first + 1;
		ranges++;
		sqlite3_reset(st);
	}
	printf("%s: integrity ok, %lu committed batches (%" PRId64 " rows), %lu missing\n", path,
	       ranges, rows, missing);
	bad = missing != 0 || ranges == 0;
	goto out;
sqlfail:
	fprintf(stderr, "pp_store_writer: %s: %s\n", path, db ? sqlite3_errmsg(db) : "open failed");
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	fclose(f);
	return bad;
}

static int bench(const char *path, unsigned long rows, unsigned long batch, enum pp_store_sync sync)
{
	static struct pp_store_result r[MAX_BATCH];
	static char units[MAX_BATCH][32];
	struct pp_store_opts opts;
	struct pp_store *store;
	char err[512];
	double t0, t;
	int rc;

	pp_store_opts_init(&opts);
	opts.sync = sync;
	rc = pp_store_open(path, &opts, &store, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "pp_store_writer: %s\n", err);
		return 1;
	}
	t0 = mono_s();
	for (unsigned long done = 0; done < rows; done += batch) {
		size_t n = rows - done < batch ? rows - done : batch;

		fill(r, n, units, done, "pp_store_writer --bench");
		rc = pp_store_add_batch(store, r, n, NULL, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "pp_store_writer: %s\n", err);
			pp_store_close(store);
			return 1;
		}
	}
	t = mono_s() - t0;
	pp_store_close(store);
	printf(
	    "synchronous=%s batch=%lu rows=%lu seconds=%.3f rows_per_s=%.0f commits_per_s=%.0f\n",
	    sync == PP_STORE_SYNC_FULL ? "FULL" : "NORMAL", batch, rows, t, (double)rows / t,
	    ceil((double)rows / (double)batch) / t);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: pp_store_writer [--full] DB\n"
			"       pp_store_writer --verify COMMITTED DB\n"
			"       pp_store_writer --bench ROWS BATCH [--full] DB\n");
	return 2;
}

int main(int argc, char **argv)
{
	enum pp_store_sync sync = PP_STORE_SYNC_NORMAL;
	const char *committed = NULL;
	unsigned long rows = 0, batch = 0;
	int i = 1;

	for (; i < argc - 1; i++) {
		if (!strcmp(argv[i], "--full")) {
			sync = PP_STORE_SYNC_FULL;
		} else if (!strcmp(argv[i], "--verify") && i + 2 < argc) {
			committed = argv[++i];
		} else if (!strcmp(argv[i], "--bench") && i + 3 < argc) {
			rows = parse_count(argv[++i], 100000000);
			batch = parse_count(argv[++i], MAX_BATCH);
			if (!rows || !batch)
				return usage();
		} else {
			return usage();
		}
	}
	if (i != argc - 1)
		return usage();
	if (committed)
		return verify(committed, argv[i]);
	if (rows)
		return bench(argv[i], rows, batch, sync);
	return write_forever(argv[i], sync);
}
