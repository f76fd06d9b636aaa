/* loop.c: the epoll loop (redis ae's shape, sized for a scanner).
 *
 * Handlers live in an array indexed by fd. Each slot carries a generation
 * number that goes into the epoll event, so an event already returned by
 * epoll_wait for an fd that a callback closed (and maybe reused) in the same
 * iteration is recognised as stale and dropped. Timers are a timing wheel
 * (wheel.c); epoll_wait sleeps until the next tick that holds a timer.
 * Signals arrive through one signalfd per loop. The loop runs while any fd or
 * timer is registered; the signalfd does not count. */
#include "portprobe/loop.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/wheel.h"

#define LOOP_MAX_EVENTS 256

struct fd_slot {
	pp_fd_cb *cb; /* NULL when the fd is not registered */
	void *data;   /* passed to cb */
	uint32_t gen; /* bumped on every add and delete */
	bool counted; /* keeps the loop running */
};

struct sig_slot {
	pp_signal_cb *cb; /* NULL when not handled */
	void *data;
};

struct pp_loop {
	int epfd;                    /* epoll instance */
	struct fd_slot *fds;         /* indexed by fd */
	size_t nfds_alloc;           /* length of fds */
	size_t nfds_active;          /* registered fds (excluding the signalfd) */
	struct wheel wheel;          /* timers */
	uint64_t now;                /* monotonic ns, refreshed each iteration */
	bool stop;                   /* pp_loop_stop() was called */
	int sigfd;                   /* signalfd or -1 */
	sigset_t sigmask;            /* signals routed to sigfd */
	struct sig_slot sigs[_NSIG]; /* per-signal handlers */
};

int pp_loop_new(struct pp_loop **ret)
{
	struct pp_loop *loop = calloc(1, sizeof(*loop));

	if (!loop)
		return -ENOMEM;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd == -1) {
		int r = -errno;

		free(loop);
		return r;
	}
	loop->sigfd = -1;
	sigemptyset(&loop->sigmask);
	loop->now = clock_now_ns();
	wheel_init(&loop->wheel, loop->now);
	*ret = loop;
	return 0;
}

void pp_loop_free(struct pp_loop *loop)
{
	if (!loop)
		return;
	if (loop->sigfd != -1) {
		/* hand the signals back to their handlers */
		sigprocmask(SIG_UNBLOCK, &loop->sigmask, NULL);
		close(loop->sigfd);
	}
	close(loop->epfd);
	free(loop->fds);
	free(loop);
}

/* Grows the handler array to cover fd; 0 or -ENOMEM. */
static int loop_grow(struct pp_loop *loop, int fd)
{
	size_t n = loop->nfds_alloc ? loop->nfds_alloc : 64;
	struct fd_slot *p;

	if ((size_t)fd < loop->nfds_alloc)
		return 0;
	while (n <= (size_t)fd)
		n *= 2;
	p = realloc(loop->fds, n * sizeof(*p));
	if (!p)
		return -ENOMEM;
	memset(p + loop->nfds_alloc, 0, (n - loop->nfds_alloc) * sizeof(*p));
	loop->fds = p;
	loop->nfds_alloc = n;
	return 0;
}

static uint64_t loop_event_key(int fd, uint32_t gen)
{
	return (uint64_t)gen << 32 | (uint32_t)fd;
}

/* Registers fd in epoll and the table; counted tells whether it keeps the loop alive. */
static int loop_add(struct pp_loop *loop, int fd, uint32_t events, pp_fd_cb *cb, void *data,
		    bool counted)
{
	struct epoll_event ev = {.events = events};
	struct fd_slot *s;
	int r;

	if (fd < 0 || !cb)
		return -EINVAL;
	r = loop_grow(loop, fd);
	if (r < 0)
		return r;
	s = &loop->fds[fd];
	if (s->cb)
		return -EEXIST;
	s->gen++;
	ev.data.u64 = loop_event_key(fd, s->gen);
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
		return -errno;
	s->cb = cb;
	s->data = data;
	s->counted = counted;
	if (counted)
		loop->nfds_active++;
	return 0;
}

int pp_loop_add_fd(struct pp_loop *loop, int fd, uint32_t events, pp_fd_cb *cb, void *data)
{
	return loop_add(loop, fd, events, cb, data, true);
}

int pp_loop_set_handler(struct pp_loop *loop, int fd, pp_fd_cb *cb, void *data, bool counted)
{
	struct fd_slot *s;

	if (fd < 0 || (size_t)fd >= loop->nfds_alloc || !loop->fds[fd].cb || !cb)
		return -ENOENT;
	s = &loop->fds[fd];
	if (s->counted != counted)
		loop->nfds_active += counted ? 1 : (size_t)-1;
	s->cb = cb;
	s->data = data;
	s->counted = counted;
	return 0;
}

int pp_loop_mod_fd(struct pp_loop *loop, int fd, uint32_t events)
{
	struct epoll_event ev = {.events = events};

	if (fd < 0 || (size_t)fd >= loop->nfds_alloc || !loop->fds[fd].cb)
		return -ENOENT;
	ev.data.u64 = loop_event_key(fd, loop->fds[fd].gen);
	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) == -1)
		return -errno;
	return 0;
}

void pp_loop_del_fd(struct pp_loop *loop, int fd)
{
	struct fd_slot *s;

	if (fd < 0 || (size_t)fd >= loop->nfds_alloc || !loop->fds[fd].cb)
		return;
	s = &loop->fds[fd];
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	s->cb = NULL;
	s->data = NULL;
	s->gen++;
	if (s->counted)
		loop->nfds_active--;
}

void pp_loop_close_fd(struct pp_loop *loop, int fd)
{
	struct fd_slot *s;

	if (fd >= 0 && (size_t)fd < loop->nfds_alloc && loop->fds[fd].cb) {
		s = &loop->fds[fd];
		s->cb = NULL;
		s->data = NULL;
		s->gen++;
		if (s->counted)
			loop->nfds_active--;
	}
	close(fd); /* the last reference: the kernel drops it from the epoll set */
}

void pp_timer_init(struct pp_timer *timer, pp_timer_cb *cb, void *data)
{
	memset(timer, 0, sizeof(*timer));
	timer->cb = cb;
	timer->data = data;
}

void pp_timer_start(struct pp_loop *loop, struct pp_timer *timer, uint64_t delay_ns)
{
	wheel_del(&loop->wheel, timer);
	timer->expire_ns = clock_now_ns() + delay_ns;
	if (delay_ns == 0)
		wheel_add_now(&loop->wheel, timer);
	else
		wheel_add(&loop->wheel, timer);
}

void pp_timer_start_at(struct pp_loop *loop, struct pp_timer *timer, uint64_t expire_ns)
{
	wheel_del(&loop->wheel, timer);
	timer->expire_ns = expire_ns;
	wheel_add(&loop->wheel, timer);
}

void pp_timer_stop(struct pp_loop *loop, struct pp_timer *timer)
{
	wheel_del(&loop->wheel, timer);
}

/* Reads pending signals from the signalfd and dispatches them. */
static void loop_on_signal(struct pp_loop *loop, int fd, uint32_t events, void *data)
{
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		int signo = (int)si.ssi_signo;

		if (signo > 0 && signo < _NSIG && loop->sigs[signo].cb)
			loop->sigs[signo].cb(loop, signo, loop->sigs[signo].data);
	}
}

int pp_loop_add_signal(struct pp_loop *loop, int signo, pp_signal_cb *cb, void *data)
{
	sigset_t one;
	int fd;

	if (signo <= 0 || signo >= _NSIG || !cb)
		return -EINVAL;
	sigaddset(&loop->sigmask, signo);
	sigemptyset(&one);
	sigaddset(&one, signo);
	if (sigprocmask(SIG_BLOCK, &one, NULL) == -1)
		return -errno;
	fd = signalfd(loop->sigfd, &loop->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd == -1)
		return -errno;
	if (loop->sigfd == -1) {
		int r;

		loop->sigfd = fd;
		r = loop_add(loop, fd, EPOLLIN, loop_on_signal, NULL, false);
		if (r < 0)
			return r;
	}
	loop->sigs[signo].cb = cb;
	loop->sigs[signo].data = data;
	return 0;
}

/* Fires every timer due now. */
static void loop_run_timers(struct pp_loop *loop)
{
	struct pp_timer *t;

	wheel_collect(&loop->wheel, loop->now);
	while (!loop->stop && (t = wheel_pop_due(&loop->wheel)))
		t->cb(loop, t, t->data);
}

int pp_loop_run(struct pp_loop *loop)
{
	struct epoll_event events[LOOP_MAX_EVENTS];

	loop->stop = false;
	while (!loop->stop && (loop->nfds_active > 0 || loop->wheel.count > 0)) {
		int64_t wait_ns;
		int timeout_ms, n;

		loop->now = clock_now_ns();
		wait_ns = wheel_next_wait(&loop->wheel, loop->now);
		if (wait_ns < 0)
			timeout_ms = -1;
		else if (wait_ns > (int64_t)INT32_MAX * 1000000)
			timeout_ms = INT32_MAX;
		else
			timeout_ms = (int)((wait_ns + 999999) / 1000000);
		n = epoll_wait(loop->epfd, events, LOOP_MAX_EVENTS, timeout_ms);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		loop->now = clock_now_ns();
		for (int i = 0; i < n && !loop->stop; i++) {
			int fd = (int)(uint32_t)events[i].data.u64;
			uint32_t gen = (uint32_t)(events[i].data.u64 >> 32);
			struct fd_slot *s = &loop->fds[fd];

			if (!s->cb || s->gen != gen)
				continue; /* deleted or replaced earlier in this iteration */
			s->cb(loop, fd, events[i].events, s->data);
		}
		if (!loop->stop)
			loop_run_timers(loop);
	}
	return 0;
}

void pp_loop_stop(struct pp_loop *loop)
{
	loop->stop = true;
}

uint64_t pp_loop_now(const struct pp_loop *loop)
{
	return loop->now;
}

long pp_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return -errno;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			return -errno;
	}
	return rl.rlim_cur == RLIM_INFINITY ? (long)INT32_MAX : (long)rl.rlim_cur;
}
