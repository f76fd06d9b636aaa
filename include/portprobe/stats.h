/* stats.h: per-unit statistics of `portprobe serve`: counts, loss, latency
 * (min/avg/max/mdev and percentiles), and the up/down state with flap damping.
 *
 * One struct pp_stats per checked unit, fed every result in order with
 * pp_stats_add() in O(1) amortized time. Latency figures are over successful
 * results only, as ping counts only the replies it got: min, max, avg and
 * mdev over every success since start (mdev = sqrt(mean(x^2) - mean(x)^2), as
 * ping prints it, computed with Welford's update so that it stays accurate over
 * millions of samples), and p50/p90/p99 over a window of the last N
 * successful latencies (kept at microsecond resolution), computed on demand
 * by selection rather than by sorting.
 *
 * Health, as Gatus users know it (failure-threshold 3, success-threshold 2):
 *  - a unit starts "unknown";
 *  - unknown -> up on the first success: there is nothing to recover from,
 *    and a fresh probe should show a working port as up at once (Uptime
 *    Kuma's first heartbeat, Gatus' initial healthy state);
 *  - unknown -> down after fail_threshold consecutive failures, up -> down
 *    the same way: one lost connection at startup must not page anyone;
 *  - down -> up after ok_threshold consecutive successes.
 * Every change returns an event (from, to, at), exactly once, at the result
 * that completed the threshold; that result's time is when the new state
 * begins (time in state, longest up/down runs count from it). Alerting on
 * every event whose `from` is not unknown, and on unknown -> down, gives one
 * alert per real change; unknown -> up is the "first seen" event. The state
 * and the streak counters survive a restart through pp_stats_snapshot() and
 * pp_stats_restore() (the store's check_state row), so a restart neither
 * re-alerts nor forgets a streak in progress; counts and latencies restart
 * from zero.
 */
#ifndef PORTPROBE_STATS_H
#define PORTPROBE_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PP_STATS_FAIL_THRESHOLD 3    /* default: down after 3 consecutive failures */
#define PP_STATS_OK_THRESHOLD   2    /* default: up after 2 consecutive successes */
#define PP_STATS_WINDOW         1024 /* default: latencies kept for percentiles */
#define PP_STATS_WINDOW_MAX     65536

enum pp_health {
	PP_HEALTH_UNKNOWN = 0, /* no decision yet */
	PP_HEALTH_UP,
	PP_HEALTH_DOWN,
};

/* The part of a unit's statistics that is saved and restored. */
struct pp_stats_state {
	enum pp_health state;      /* current health */
	int64_t since_ms;          /* when it began (epoch ms); 0: no result yet */
	unsigned consecutive_ok;   /* successes in a row up to the last result */
	unsigned consecutive_fail; /* failures in a row up to the last result */
	int64_t longest_up_ms;     /* longest up run, the current one counted up to updated_ms */
	int64_t longest_down_ms;   /* longest down run, likewise */
	int64_t updated_ms;        /* the last result's time; 0: none */
};

struct pp_stats_opts {
	unsigned fail_threshold; /* >= 1: consecutive failures that make it down */
	unsigned ok_threshold;   /* >= 1: consecutive successes that bring it back up */
	unsigned window;         /* 1..PP_STATS_WINDOW_MAX successful latencies for percentiles */
};

/* A state change, returned by the result that caused it. */
struct pp_stats_event {
	enum pp_health from;     /* the state left */
	enum pp_health to;       /* the state entered */
	int64_t at_ms;           /* the deciding result's time: the new state's since */
	int64_t streak_start_ms; /* the first result of the streak that led to it */
	unsigned streak;         /* results in that streak (the threshold, or 1 from unknown) */
	int64_t prev_ms;         /* how long the state left lasted (0 when it was unknown) */
};

/* Everything a /metrics page or an API shows about one unit. */
struct pp_stats_summary {
	uint64_t count;          /* results */
	uint64_t successes;      /* of which passed */
	double loss;             /* failures / count; NAN with no result */
	double min_s;            /* latency over successes; NAN with none */
	double avg_s;            /* ditto */
	double max_s;            /* ditto */
	double mdev_s;           /* ditto, sqrt(mean(x^2) - mean(x)^2) */
	double p50_s;            /* nearest rank over the window; NAN when empty */
	double p90_s;            /* ditto */
	double p99_s;            /* ditto */
	unsigned window_len;     /* latencies in the window */
	enum pp_health state;    /* current health */
	int64_t in_state_ms;     /* now - since; 0 before the first result */
	int64_t longest_up_ms;   /* the current run counted up to now */
	int64_t longest_down_ms; /* ditto */
};

/* One unit's running statistics. Fields are read-only to callers; use the
 * functions. */
struct pp_stats {
	struct pp_stats_opts opts; /* thresholds and window size */
	struct pp_stats_state st;  /* health and streaks */
	int64_t streak_start_ms;   /* first result of the current ok or fail streak */
	uint64_t count;            /* results */
	uint64_t successes;        /* passed results */
	uint64_t lat_n;            /* successes with a latency */
	double lat_min;            /* s */
	double lat_max;            /* s */
	double lat_mean;           /* s, Welford running mean */
	double lat_m2;             /* Welford sum of squared deviations, s^2 */
	uint32_t *win;             /* ring of the last latencies, microseconds */
	unsigned win_cap;          /* allocated slots (grows by doubling to opts.window) */
	unsigned win_len;          /* slots in use */
	unsigned win_head;         /* index of the oldest slot */
};

/* Fills opts with the defaults (3, 2, 1024). */
void pp_stats_opts_init(struct pp_stats_opts *opts);
/* Names: "unknown", "up", "down". */
const char *pp_health_name(enum pp_health h);
/* Parses a health name; 0 or -EINVAL (*ret untouched). */
int pp_health_parse(const char *name, enum pp_health *ret);

/* Initializes s (nothing allocated yet; opts NULL: defaults). -EINVAL when a
 * threshold is 0 or the window is outside 1..PP_STATS_WINDOW_MAX. */
int pp_stats_init(struct pp_stats *s, const struct pp_stats_opts *opts);
/* Frees the window; s can be initialized again. */
void pp_stats_release(struct pp_stats *s);
/* Changes the thresholds (a reload); the streaks in progress are kept and
 * judged by the new values at the next result. -EINVAL for 0. */
int pp_stats_set_thresholds(struct pp_stats *s, unsigned fail_threshold, unsigned ok_threshold);

/* Feeds one result: ts_ms its time (epoch ms, results in order), ok whether
 * it passed, latency_s its response time (counted for successes when finite
 * and >= 0). Returns true and fills *ev (when not NULL) when the health
 * changed. Never fails: if the window cannot grow it keeps its current size. */
bool pp_stats_add(struct pp_stats *s, int64_t ts_ms, bool ok, double latency_s,
		  struct pp_stats_event *ev);

/* The nearest-rank percentiles ps[i] (each in 0..100) of the window into
 * out[i] (NAN when the window is empty). 0, -EINVAL for a p outside 0..100,
 * or -ENOMEM (it needs one scratch copy of the window). */
int pp_stats_percentiles(const struct pp_stats *s, const double *ps, size_t n, double *out);
/* Fills *ret for the time now_ms. 0 or -ENOMEM. */
int pp_stats_summary(const struct pp_stats *s, int64_t now_ms, struct pp_stats_summary *ret);

/* The health part of s, to be saved (longest runs include the current one
 * up to the last result). */
void pp_stats_snapshot(const struct pp_stats *s, struct pp_stats_state *ret);
/* Takes the health part back from a saved row (a restart or a reload).
 * -EINVAL for a state that is not a pp_health or negative times. */
int pp_stats_restore(struct pp_stats *s, const struct pp_stats_state *st);

#endif
