/* clock.c: monotonic and wall clocks. */
#include "core/clock.h"

#include <math.h>

uint64_t clock_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * PP_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

struct timespec clock_wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts;
}

uint64_t clock_sec_to_ns(double seconds)
{
	if (!(seconds > 0))
		return 0;
	if (seconds >= 1.8e10) /* ~570 years: far beyond any deadline */
		return UINT64_MAX / 2;
	return (uint64_t)llround(seconds * 1e9);
}
