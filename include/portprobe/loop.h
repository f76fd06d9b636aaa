/* loop.h: the event loop every engine runs on.
 *
 * One epoll loop per thread: level-triggered fd handlers indexed by fd, a
 * timing wheel for timers (O(1) to add and remove, millisecond ticks), and
 * signals delivered through a signalfd as ordinary events. Nothing here blocks
 * except epoll_wait itself. Timers are embedded in their owner's struct, so a
 * probe in flight costs no allocation beyond its own.
 */
#ifndef PORTPROBE_LOOP_H
#define PORTPROBE_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

struct pp_loop;
struct pp_timer;

typedef void pp_fd_cb(struct pp_loop *loop, int fd, uint32_t events, void *data);
typedef void pp_timer_cb(struct pp_loop *loop, struct pp_timer *timer, void *data);
typedef void pp_signal_cb(struct pp_loop *loop, int signo, void *data);

/* A timer; embed it, pp_timer_init() it once, then start and stop at will. */
struct pp_timer {
	struct pp_timer *next; /* wheel slot list */
	struct pp_timer *prev; /* wheel slot list */
	uint64_t expire_ns;    /* monotonic deadline */
	pp_timer_cb *cb;       /* called once when due */
	void *data;            /* passed to cb */
	bool active;           /* linked in the wheel */
};

/* Creates a loop; 0 or -errno. *ret is written only on success. */
int pp_loop_new(struct pp_loop **ret);
/* Frees the loop (NULL-safe). Registered fds are not closed: their owners close them. */
void pp_loop_free(struct pp_loop *loop);

/* Watches fd for events (EPOLLIN/EPOLLOUT); 0 or -errno. One handler per fd. */
int pp_loop_add_fd(struct pp_loop *loop, int fd, uint32_t events, pp_fd_cb *cb, void *data);
/* Points a registered fd at another handler without an epoll_ctl (the same
 * epoll registration goes on); counted tells whether it keeps
 * pp_loop_run() alive. For sockets kept idle between uses. 0 or -ENOENT. */
int pp_loop_set_handler(struct pp_loop *loop, int fd, pp_fd_cb *cb, void *data, bool counted);
/* Changes the events watched on a registered fd; 0 or -errno. */
int pp_loop_mod_fd(struct pp_loop *loop, int fd, uint32_t events);
/* Stops watching fd (call before closing it). Safe from inside any callback. */
void pp_loop_del_fd(struct pp_loop *loop, int fd);
/* Forgets fd's handler and closes it, without an epoll_ctl: for an fd that
 * was never duplicated, closing it removes it from the epoll set. */
void pp_loop_close_fd(struct pp_loop *loop, int fd);

void pp_timer_init(struct pp_timer *timer, pp_timer_cb *cb, void *data);
/* (Re)starts the timer to fire delay_ns from now. */
void pp_timer_start(struct pp_loop *loop, struct pp_timer *timer, uint64_t delay_ns);
/* (Re)starts the timer to fire at expire_ns (monotonic, clock_gettime
 * CLOCK_MONOTONIC in ns), for callers that already read the clock. */
void pp_timer_start_at(struct pp_loop *loop, struct pp_timer *timer, uint64_t expire_ns);
/* Stops the timer if active. Safe from inside any callback. */
void pp_timer_stop(struct pp_loop *loop, struct pp_timer *timer);

/* Delivers signo through the loop instead of a handler (blocks it for the
 * thread); 0 or -errno. Signals do not keep pp_loop_run() alive. */
int pp_loop_add_signal(struct pp_loop *loop, int signo, pp_signal_cb *cb, void *data);

/* Runs until pp_loop_stop() or until no fd and no timer is left; 0 or -errno. */
int pp_loop_run(struct pp_loop *loop);
/* Makes pp_loop_run() return after the current callback. */
void pp_loop_stop(struct pp_loop *loop);
/* The loop's monotonic time in nanoseconds, refreshed every iteration. */
uint64_t pp_loop_now(const struct pp_loop *loop);
/* Raises RLIMIT_NOFILE's soft limit to the hard one; returns the new soft limit. */
long pp_raise_nofile(void);

#endif
