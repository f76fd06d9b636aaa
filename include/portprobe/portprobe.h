/* portprobe.h: everything libportprobe offers. The library never prints and
 * never exits: results come through callbacks and writers fill buffers. Errors
 * are negative errno values. */
#ifndef PORTPROBE_PORTPROBE_H
#define PORTPROBE_PORTPROBE_H

#include "portprobe/buf.h"
#include "portprobe/check.h"
#include "portprobe/loop.h"
#include "portprobe/output.h"
#include "portprobe/parse.h"
#include "portprobe/result.h"

/* The library's version string. */
const char *pp_version(void);

#endif
