/* stats.c: per-unit statistics and the flap-damped health state.
 *
 * Every result costs O(1): counters, Welford's running mean and sum of
 * squared deviations (which give ping's mdev without the cancellation of
 * sum(x^2)/n - mean^2), and one slot of a ring of microsecond latencies. The
 * ring starts small and doubles up to the configured window, so a unit that
 * ran once costs a few bytes, not the whole window. Percentiles copy the ring
 * and run quickselect (median-of-three, Hoare partition) once per rank:
 * O(window) per query, no sort. The health machine is described in stats.h;
 * its only memory is the streak counters and the current state's start.
 */
#include "portprobe/stats.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define WIN_FIRST_CAP 16u

void pp_stats_opts_init(struct pp_stats_opts *opts)
{
	opts->fail_threshold = PP_STATS_FAIL_THRESHOLD;
	opts->ok_threshold = PP_STATS_OK_THRESHOLD;
	opts->window = PP_STATS_WINDOW;
}

const char *pp_health_name(enum pp_health h)
{
	switch (h) {
	case PP_HEALTH_UP:
		return "up";
	case PP_HEALTH_DOWN:
		return "down";
	case PP_HEALTH_UNKNOWN:
		break;
	}
	return "unknown";
}

int pp_health_parse(const char *name, enum pp_health *ret)
{
	static const enum pp_health all[] = {PP_HEALTH_UNKNOWN, PP_HEALTH_UP, PP_HEALTH_DOWN};

	if (!name)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (!strcmp(name, pp_health_name(all[i]))) {
			*ret = all[i];
			return 0;
		}
	}
	return -EINVAL;
}

int pp_stats_init(struct pp_stats *s, const struct pp_stats_opts *opts)
{
	struct pp_stats_opts def;

	if (!opts) {
		pp_stats_opts_init(&def);
		opts = &def;
	}
	if (!opts->fail_threshold || !opts->ok_threshold || !opts->window ||
	    opts->window > PP_STATS_WINDOW_MAX)
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	s->opts = *opts;
	s->st.state = PP_HEALTH_UNKNOWN;
	return 0;
}

void pp_stats_release(struct pp_stats *s)
{
	if (!s)
		return;
	free(s->win);
	s->win = NULL;
	s->win_cap = s->win_len = s->win_head = 0;
}

int pp_stats_set_thresholds(struct pp_stats *s, unsigned fail_threshold, unsigned ok_threshold)
{
	if (!fail_threshold || !ok_threshold)
		return -EINVAL;
	s->opts.fail_threshold = fail_threshold;
	s->opts.ok_threshold = ok_threshold;
	return 0;
}

/* Doubles the ring (up to the window), oldest slot first; on failure it keeps
 * the ring as it is. */
static void win_grow(struct pp_stats *s)
{
	unsigned cap = s->win_cap ? s->win_cap * 2 : WIN_FIRST_CAP;
	uint32_t *w;

	if (cap > s->opts.window)
		cap = s->opts.window;
	w = malloc((size_t)cap * sizeof(*w));
	if (!w)
		return;
	for (unsigned i = 0; i < s->win_len; i++)
		w[i] = s->win[(s->win_head + i) % s->win_cap];
	free(s->win);
	s->win = w;
	s->win_cap = cap;
	s->win_head = 0;
}

/* Appends one latency, dropping the oldest when the window is full. */
static void win_push(struct pp_stats *s, uint32_t us)
{
	if (s->win_len == s->win_cap && s->win_cap < s->opts.window)
		win_grow(s);
	if (!s->win_cap)
		return;
	if (s->win_len < s->win_cap) {
		s->win[(s->win_head + s->win_len) % s->win_cap] = us;
		s->win_len++;
		return;
	}
	s->win[s->win_head] = us;
	s->win_head = (s->win_head + 1) % s->win_cap;
}

static unsigned sat_inc(unsigned v)
{
	return v == UINT_MAX ? v : v + 1;
}

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

/* Counts one latency in the running figures and the window. */
static void latency_add(struct pp_stats *s, double x)
{
	double delta, us = nearbyint(x * 1e6);

	s->lat_n++;
	if (s->lat_n == 1 || x < s->lat_min)
		s->lat_min = x;
	if (s->lat_n == 1 || x > s->lat_max)
		s->lat_max = x;
	delta = x - s->lat_mean;
	s->lat_mean += delta / (double)s->lat_n;
	s->lat_m2 += delta * (x - s->lat_mean);
	win_push(s, us >= (double)UINT32_MAX ? UINT32_MAX : (uint32_t)us);
}

bool pp_stats_add(struct pp_stats *s, int64_t ts_ms, bool ok, double latency_s,
		  struct pp_stats_event *ev)
{
	struct pp_stats_state *st = &s->st;
	enum pp_health from = st->state, to = from;
	int64_t run;
	unsigned streak;

	s->count++;
	if (from == PP_HEALTH_UNKNOWN && !st->since_ms)
		st->since_ms = ts_ms;
	if (ok) {
		s->successes++;
		if (isfinite(latency_s) && latency_s >= 0)
			latency_add(s, latency_s);
		if (!st->consecutive_ok)
			s->streak_start_ms = ts_ms;
		st->consecutive_ok = sat_inc(st->consecutive_ok);
		st->consecutive_fail = 0;
		streak = st->consecutive_ok;
		if (from == PP_HEALTH_UNKNOWN ||
		    (from == PP_HEALTH_DOWN && st->consecutive_ok >= s->opts.ok_threshold))
			to = PP_HEALTH_UP;
	} else {
		if (!st->consecutive_fail)
			s->streak_start_ms = ts_ms;
		st->consecutive_fail = sat_inc(st->consecutive_fail);
		st->consecutive_ok = 0;
		streak = st->consecutive_fail;
		if (from != PP_HEALTH_DOWN && st->consecutive_fail >= s->opts.fail_threshold)
			to = PP_HEALTH_DOWN;
	}
	/* the run in progress, up to this result (the end of it on a change) */
	run = max64(0, ts_ms - st->since_ms);
	if (from == PP_HEALTH_UP)
		st->longest_up_ms = max64(st->longest_up_ms, run);
	else if (from == PP_HEALTH_DOWN)
		st->longest_down_ms = max64(st->longest_down_ms, run);
	st->updated_ms = ts_ms;
	if (to == from)
		return false;
	if (ev) {
		ev->from = from;
		ev->to = to;
		ev->at_ms = ts_ms;
		ev->streak_start_ms = s->streak_start_ms;
		ev->streak = streak;
		ev->prev_ms = from == PP_HEALTH_UNKNOWN ? 0 : run;
	}
	st->state = to;
	st->since_ms = ts_ms;
	return true;
}

static void swap_u32(uint32_t *a, uint32_t *b)
{
	uint32_t t = *a;

	*a = *b;
	*b = t;
}

/* The k-th smallest (0-based) of a[0..n-1], n > k; reorders a. */
static uint32_t select_kth(uint32_t *a, long n, long k)
{
	long lo = 0, hi = n - 1;

	while (lo < hi) {
		long mid = lo + (hi - lo) / 2, i = lo, j = hi;
		uint32_t pivot;

		if (a[mid] < a[lo])
			swap_u32(&a[mid], &a[lo]);
		if (a[hi] < a[lo])
			swap_u32(&a[hi], &a[lo]);
		if (a[hi] < a[mid])
			swap_u32(&a[hi], &a[mid]);
		pivot = a[mid];
		while (i <= j) {
			while (a[i] < pivot)
				i++;
			while (a[j] > pivot)
				j--;
			if (i <= j) {
				swap_u32(&a[i], &a[j]);
				i++;
				j--;
			}
		}
		/* a[lo..j] <= pivot, a[i..hi] >= pivot, a[j+1..i-1] == pivot */
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			return a[k];
	}
	return a[k];
}

int pp_stats_percentiles(const struct pp_stats *s, const double *ps, size_t n, double *out)
{
	uint32_t *tmp;
	long len = (long)s->win_len;

	for (size_t i = 0; i < n; i++)
		if (!(ps[i] >= 0 && ps[i] <= 100))
			return -EINVAL;
	if (!len) {
		for (size_t i = 0; i < n; i++)
			out[i] = NAN;
		return 0;
	}
	tmp = malloc((size_t)len * sizeof(*tmp));
	if (!tmp)
		return -ENOMEM;
	/* order does not matter to selection; copy the ring as it lies */
	memcpy(tmp, s->win, (size_t)len * sizeof(*tmp));
	for (size_t i = 0; i < n; i++) {
		/* nearest rank: ceil(p/100 * len), at least 1; p * len is exact */
		long rank = (long)ceil(ps[i] * (double)len / 100.0);

		if (rank < 1)
			rank = 1;
		out[i] = (double)select_kth(tmp, len, rank - 1) / 1e6;
	}
	free(tmp);
	return 0;
}

int pp_stats_summary(const struct pp_stats *s, int64_t now_ms, struct pp_stats_summary *ret)
{
	static const double ps[3] = {50, 90, 99};
	const struct pp_stats_state *st = &s->st;
	double q[3];
	int64_t run = st->since_ms ? max64(0, now_ms - st->since_ms) : 0;
	int rc;

	rc = pp_stats_percentiles(s, ps, 3, q);
	if (rc < 0)
		return rc;
	memset(ret, 0, sizeof(*ret));
	ret->count = s->count;
	ret->successes = s->successes;
	ret->loss = s->count ? (double)(s->count - s->successes) / (double)s->count : NAN;
	if (s->lat_n) {
		ret->min_s = s->lat_min;
		ret->avg_s = s->lat_mean;
		ret->max_s = s->lat_max;
		ret->mdev_s = sqrt(s->lat_m2 > 0 ? s->lat_m2 / (double)s->lat_n : 0);
	} else {
		ret->min_s = ret->avg_s = ret->max_s = ret->mdev_s = NAN;
	}
	ret->p50_s = q[0];
	ret->p90_s = q[1];
	ret->p99_s = q[2];
	ret->window_len = s->win_len;
	ret->state = st->state;
	ret->in_state_ms = run;
	ret->longest_up_ms = st->longest_up_ms;
	ret->longest_down_ms = st->longest_down_ms;
	if (st->state == PP_HEALTH_UP)
		ret->longest_up_ms = max64(ret->longest_up_ms, run);
	else if (st->state == PP_HEALTH_DOWN)
		ret->longest_down_ms = max64(ret->longest_down_ms, run);
	return 0;
}

void pp_stats_snapshot(const struct pp_stats *s, struct pp_stats_state *ret)
{
	*ret = s->st;
}

int pp_stats_restore(struct pp_stats *s, const struct pp_stats_state *st)
{
	if (st->state != PP_HEALTH_UNKNOWN && st->state != PP_HEALTH_UP &&
	    st->state != PP_HEALTH_DOWN)
		return -EINVAL;
	if (st->since_ms < 0 || st->updated_ms < 0 || st->longest_up_ms < 0 ||
	    st->longest_down_ms < 0)
		return -EINVAL;
	s->st = *st;
	/* the streak's first result was not saved; its last one is the best guess */
	s->streak_start_ms = st->updated_ms;
	return 0;
}
