/* top_ports.h: portprobe's own ranking of the 1000 most useful TCP ports
 * (see docs/internals/top-ports.md). */
#ifndef PP_TOP_PORTS_H
#define PP_TOP_PORTS_H

#include <stdint.h>

#define PP_TOP_PORTS_OWN_N 1000

/* Distinct ports, most useful first. */
extern const uint16_t pp_top_ports_own[PP_TOP_PORTS_OWN_N];

#endif
