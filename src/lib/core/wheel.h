/* wheel.h: the timing wheel behind pp_timer, kept free of syscalls so that
 * tests drive it with a fake clock. */
#ifndef PP_CORE_WHEEL_H
#define PP_CORE_WHEEL_H

#include <stddef.h>
#include <stdint.h>

#include "portprobe/loop.h"

#define WHEEL_SLOTS   1024u      /* power of two */
#define WHEEL_TICK_NS 1000000ull /* 1 ms */

struct wheel {
	struct pp_timer slots[WHEEL_SLOTS]; /* list heads (circular, sentinel) */
	struct pp_timer due;                /* collected, not yet fired (sentinel) */
	struct pp_timer ready;              /* zero-delay timers for the next collect */
	uint64_t next_tick;                 /* first tick not yet collected */
	size_t count;                       /* timers linked (slots + due) */
};

void wheel_init(struct wheel *w, uint64_t now_ns);
/* Links t to expire at t->expire_ns (already set). Never fires early. */
void wheel_add(struct wheel *w, struct pp_timer *t);
/* Links t to fire at the next collect, whatever the clock says. */
void wheel_add_now(struct wheel *w, struct pp_timer *t);
/* Unlinks t wherever it is (slot or due list). */
void wheel_del(struct wheel *w, struct pp_timer *t);
/* Moves every timer due at now_ns onto the due list. */
void wheel_collect(struct wheel *w, uint64_t now_ns);
/* Pops one collected timer (unlinked, inactive) or NULL. */
struct pp_timer *wheel_pop_due(struct wheel *w);
/* Nanoseconds from now_ns until a timer may be due: 0 when one is collected
 * or overdue, -1 when there are no timers. May be early, never late. */
int64_t wheel_next_wait(const struct wheel *w, uint64_t now_ns);

#endif
