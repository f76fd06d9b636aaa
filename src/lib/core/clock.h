/* clock.h: the two clocks the library reads. Monotonic for every duration,
 * realtime only for timestamps that users see. */
#ifndef PP_CORE_CLOCK_H
#define PP_CORE_CLOCK_H

#include <stdint.h>
#include <time.h>

#define PP_NSEC_PER_SEC  1000000000ull
#define PP_NSEC_PER_MSEC 1000000ull

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t clock_now_ns(void);
/* CLOCK_REALTIME. */
struct timespec clock_wall(void);
/* Seconds (>= 0, finite) to nanoseconds, saturating. */
uint64_t clock_sec_to_ns(double seconds);

#endif
