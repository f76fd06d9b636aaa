/* alert.c: the alert dispatcher of `portprobe serve`: a bounded queue, one
 * worker thread, a webhook POST through libcurl and a command through
 * posix_spawn.
 *
 * The caller's side only copies the alert into one allocation and pushes a
 * pointer onto a ring under a mutex, so posting costs a malloc and never
 * waits for delivery. The worker pops in order and delivers each alert to
 * every channel before the next, which keeps the order a receiver sees equal
 * to the post order. Every place the worker can block is bounded and
 * interruptible by the stop deadline pp_alerter_free sets: the webhook runs
 * its one easy handle inside a multi handle so that curl_multi_wakeup() can
 * cut curl_multi_poll() short; backoffs are condition waits on the same
 * condition variable the posts signal; a command is reaped by polling
 * waitpid(pid, WNOHANG) between polls of its output pipe (no SIGCHLD
 * handler: serve owns the process's signals). All waits use the monotonic
 * clock, so a wall-clock jump neither fires nor stalls a timeout.
 */
#include "portprobe/alert.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "portprobe/output.h"

#define BODY_MAX     (2u << 20) /* bytes of one JSON body */
#define ENV_MAX      (4u << 20) /* bytes of the PORTPROBE_* variables of one command */
#define OUTPUT_KEEP  512        /* bytes of a command's output kept for the log line */
#define OUTPUT_QUOTE 200        /* bytes of its first line quoted in the log line */
#define LOG_MAX      1024       /* bytes of one log line */
#define POLL_MS      10         /* command: waitpid polling period */
#define CURL_WAIT_MS 1000       /* webhook: longest curl_multi_poll between deadline checks */
#define NO_STOP      UINT64_MAX /* stop_at_ns before pp_alerter_free */

/* One queued alert: the struct, its labels and its strings in one block. */
struct alert_item {
	struct pp_alert alert;          /* points into this block */
	struct pp_alert_label labels[]; /* alert.nlabels, followed by the strings */
};

struct pp_alerter {
	/* set by pp_alerter_new, read-only afterwards */
	char *webhook;               /* the URL; NULL: no webhook */
	char *origin;                /* "scheme://host[:port]" of it, for log lines */
	char *command;               /* NULL: no command */
	uint64_t webhook_timeout_ns; /* per attempt */
	uint64_t retry_delay_ns;     /* before the 2nd attempt */
	uint64_t command_timeout_ns; /* then SIGKILL */
	double webhook_timeout;      /* s, as given, for log lines */
	double command_timeout;      /* s, as resolved, for log lines */
	unsigned attempts;           /* webhook tries per alert */
	size_t queue_max;            /* ring slots */
	pp_alert_log_fn *log;        /* NULL: no log */
	void *log_data;              /* its argument */
	bool curl_global;            /* curl_global_init succeeded: clean up */
	CURL *easy;                  /* the worker's one easy handle */
	CURLM *multi;                /* runs it; curl_multi_wakeup interrupts it */
	struct curl_slist *headers;  /* Content-Type, no Expect */
	pthread_t thread;            /* the worker */
	bool started;                /* thread is running */
	_Atomic uint64_t stop_at_ns; /* monotonic deadline of the drain; NO_STOP */
	struct pp_buf body;          /* worker: the JSON of the alert in delivery */
	struct pp_buf env;           /* worker: its PORTPROBE_* variables, NUL-separated */
	pthread_mutex_t lock;        /* guards everything below */
	pthread_cond_t cond;         /* posts and pp_alerter_free signal the worker */
	struct alert_item **queue;   /* ring of queue_max slots */
	size_t qhead;                /* oldest slot */
	size_t qlen;                 /* slots in use */
	bool busy;                   /* the worker is delivering one alert */
	bool stopping;               /* pp_alerter_free was called */
	uint64_t sent;               /* counters, see pp_alerter_stats */
	uint64_t failed;             /* ditto */
	uint64_t dropped;            /* ditto */
	uint64_t dropped_logged;     /* dropped as of the last log line about it */
	bool webhook_down;           /* the last webhook delivery failed after its retries:
				      * each alert gets one attempt until one is delivered */
};

/* --- small helpers -------------------------------------------------------- */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void log_line(struct pp_alerter *a, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void log_line(struct pp_alerter *a, int level, const char *fmt, ...)
{
	char msg[LOG_MAX];
	va_list ap;

	if (!a->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	a->log(a->log_data, level, msg);
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Milliseconds to wait for ns nanoseconds, rounded up, at most cap. */
static int wait_ms(uint64_t ns, int cap)
{
	uint64_t ms = (ns + PP_NSEC_PER_MSEC - 1) / PP_NSEC_PER_MSEC;

	return ms > (uint64_t)cap ? cap : (int)ms;
}

/* ms as seconds, the shortest exact decimal: 3600500 -> "3600.5", 0 -> "0". */
static void ms_to_seconds(int64_t ms, char *buf, size_t len)
{
	int frac = (int)(ms % 1000);
	int digits = 3;

	if (!frac) {
		snprintf(buf, len, "%" PRId64, ms / 1000);
		return;
	}
	while (frac % 10 == 0) {
		frac /= 10;
		digits--;
	}
	snprintf(buf, len, "%" PRId64 ".%0*d", ms / 1000, digits, frac);
}

static void iso_ms(int64_t ms, char *buf, size_t len)
{
	struct timespec ts = {.tv_sec = (time_t)(ms / 1000),
			      .tv_nsec = (long)(ms % 1000) * 1000000};

	pp_iso8601(&ts, buf, len);
}

/* --- the alert: checks, copy, JSON --------------------------------------- */

/* 0 when s fits in max bytes with its NUL (NULL passes when !required). */
static int check_string(const char *s, size_t max, bool required)
{
	if (!s)
		return required ? -EINVAL : 0;
	return strnlen(s, max) < max ? 0 : -E2BIG;
}

static int alert_check(const struct pp_alert *al)
{
	int r;

	if ((unsigned)al->from > PP_HEALTH_DOWN || (unsigned)al->to > PP_HEALTH_DOWN ||
	    al->at_ms < 0 || al->prev_ms < 0 || al->nlabels > PP_ALERT_MAX_LABELS ||
	    (al->nlabels && !al->labels))
		return -EINVAL;
	if ((r = check_string(al->check, PP_ALERT_MAX_NAME, true)) < 0 ||
	    (r = check_string(al->unit, PP_ALERT_MAX_NAME, true)) < 0 ||
	    (r = check_string(al->host, PP_ALERT_MAX_NAME, true)) < 0 ||
	    (r = check_string(al->reason, PP_ALERT_MAX_TEXT, false)) < 0)
		return r;
	for (size_t i = 0; i < al->nlabels; i++) {
		if (al->labels[i].name && !al->labels[i].name[0])
			return -EINVAL;
		if ((r = check_string(al->labels[i].name, PP_ALERT_MAX_NAME, true)) < 0 ||
		    (r = check_string(al->labels[i].value, PP_ALERT_MAX_TEXT, false)) < 0)
			return r;
	}
	return 0;
}

static size_t string_size(const char *s)
{
	return (s ? strlen(s) : 0) + 1;
}

/* Copies s (NULL: "") to *p and moves *p past it. */
static const char *string_take(char **p, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	char *d = *p;

	memcpy(d, s ? s : "", n);
	d[n] = '\0';
	*p += n + 1;
	return d;
}

/* One allocation holding a checked alert and everything it points to. */
static struct alert_item *alert_copy(const struct pp_alert *al)
{
	size_t size = sizeof(struct alert_item) + al->nlabels * sizeof(struct pp_alert_label);
	struct alert_item *it;
	char *p;

	size += string_size(al->check) + string_size(al->unit) + string_size(al->host) +
		string_size(al->reason);
	for (size_t i = 0; i < al->nlabels; i++)
		size += string_size(al->labels[i].name) + string_size(al->labels[i].value);
	it = malloc(size);
	if (!it)
		return NULL;
	it->alert = *al;
	p = (char *)&it->labels[al->nlabels];
	it->alert.check = string_take(&p, al->check);
	it->alert.unit = string_take(&p, al->unit);
	it->alert.host = string_take(&p, al->host);
	it->alert.reason = string_take(&p, al->reason);
	for (size_t i = 0; i < al->nlabels; i++) {
		it->labels[i].name = string_take(&p, al->labels[i].name);
		it->labels[i].value = string_take(&p, al->labels[i].value);
	}
	it->alert.labels = al->nlabels ? it->labels : NULL;
	return it;
}

int pp_alert_write_json(struct pp_buf *b, const struct pp_alert *al)
{
	char at[40], prev[32];

	iso_ms(al->at_ms, at, sizeof(at));
	ms_to_seconds(al->prev_ms, prev, sizeof(prev));
	pp_buf_puts(b, "{\"event\":\"state_change\",\"check\":");
	pp_json_put_string(b, al->check);
	pp_buf_puts(b, ",\"unit\":");
	pp_json_put_string(b, al->unit);
	pp_buf_puts(b, ",\"host\":");
	pp_json_put_string(b, al->host);
	pp_buf_printf(b, ",\"port\":%u,\"from\":", (unsigned)al->port);
	pp_json_put_string(b, pp_health_name(al->from));
	pp_buf_puts(b, ",\"to\":");
	pp_json_put_string(b, pp_health_name(al->to));
	pp_buf_printf(b, ",\"at\":\"%s\",\"at_ms\":%" PRId64 ",\"reason\":", at, al->at_ms);
	pp_json_put_string(b, al->reason ? al->reason : "");
	pp_buf_printf(b, ",\"streak\":%u,\"previous_state_seconds\":%s,\"labels\":{", al->streak,
		      prev);
	for (size_t i = 0; i < al->nlabels; i++) {
		if (i)
			pp_buf_puts(b, ",");
		pp_json_put_string(b, al->labels[i].name);
		pp_buf_puts(b, ":");
		pp_json_put_string(b, al->labels[i].value ? al->labels[i].value : "");
	}
	pp_buf_puts(b, "},\"portprobe_version\":");
	pp_json_put_string(b, PP_VERSION);
	return pp_buf_puts(b, "}");
}

/* --- waiting for the stop deadline ---------------------------------------- */

static bool stop_due(struct pp_alerter *a, uint64_t now)
{
	return now >= atomic_load(&a->stop_at_ns);
}

/* Sleeps ns, cut short by the stop deadline. True when the whole delay passed. */
static bool worker_sleep(struct pp_alerter *a, uint64_t ns)
{
	uint64_t until = add_sat(clock_now_ns(), ns);
	bool full = true;

	pthread_mutex_lock(&a->lock);
	for (;;) {
		uint64_t now = clock_now_ns(), stop = atomic_load(&a->stop_at_ns);
		uint64_t end = until < stop ? until : stop;
		struct timespec ts;

		if (now >= stop) {
			full = false;
			break;
		}
		if (now >= until)
			break;
		ts.tv_sec = (time_t)(end / PP_NSEC_PER_SEC);
		ts.tv_nsec = (long)(end % PP_NSEC_PER_SEC);
		pthread_cond_timedwait(&a->cond, &a->lock, &ts);
	}
	pthread_mutex_unlock(&a->lock);
	return full;
}

/* --- the webhook ---------------------------------------------------------- */

enum attempt {
	ATTEMPT_SENT,    /* a 2xx */
	ATTEMPT_RETRY,   /* no answer, 408, 429, 5xx: worth another try */
	ATTEMPT_GIVE_UP, /* any other answer, or the stop deadline */
};

static size_t discard_body(char *p, size_t size, size_t n, void *data)
{
	return size * n;
}

/* One POST of a->body; why gets the failure. */
static enum attempt webhook_attempt(struct pp_alerter *a, char *why, size_t len)
{
	CURLMcode mc;
	CURLcode res = CURLE_OK;
	CURLMsg *m;
	long status = 0;
	int running = 1, left;
	bool abandoned = false;

	if (stop_due(a, clock_now_ns())) {
		snprintf(why, len, "abandoned at shutdown");
		return ATTEMPT_GIVE_UP;
	}
	mc = curl_multi_add_handle(a->multi, a->easy);
	while (mc == CURLM_OK) {
		uint64_t now, stop;

		mc = curl_multi_perform(a->multi, &running);
		if (mc != CURLM_OK || !running)
			break;
		now = clock_now_ns();
		stop = atomic_load(&a->stop_at_ns);
		if (now >= stop) {
			abandoned = true;
			break;
		}
		mc = curl_multi_poll(a->multi, NULL, 0, wait_ms(stop - now, CURL_WAIT_MS), NULL);
	}
	if (mc == CURLM_OK && !abandoned) {
		while ((m = curl_multi_info_read(a->multi, &left)))
			if (m->msg == CURLMSG_DONE)
				res = m->data.result;
	}
	curl_multi_remove_handle(a->multi, a->easy);
	if (abandoned) {
		snprintf(why, len, "abandoned at shutdown");
		return ATTEMPT_GIVE_UP;
	}
	if (mc != CURLM_OK) {
		snprintf(why, len, "%s", curl_multi_strerror(mc));
		return ATTEMPT_RETRY;
	}
	if (res == CURLE_OPERATION_TIMEDOUT) {
		snprintf(why, len, "timed out (%g s)", a->webhook_timeout);
		return ATTEMPT_RETRY;
	}
	if (res != CURLE_OK) {
		snprintf(why, len, "%s", curl_easy_strerror(res));
		return ATTEMPT_RETRY;
	}
	curl_easy_getinfo(a->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200 && status <= 299)
		return ATTEMPT_SENT;
	snprintf(why, len, "HTTP %ld", status);
	return status == 408 || status == 429 || status >= 500 ? ATTEMPT_RETRY : ATTEMPT_GIVE_UP;
}

/* Marks the webhook down or up (read by pp_alerter_stats). */
static void set_webhook_down(struct pp_alerter *a, bool down)
{
	pthread_mutex_lock(&a->lock);
	a->webhook_down = down;
	pthread_mutex_unlock(&a->lock);
}

/* POSTs a->body with retries; true when a 2xx came back. While the webhook
 * is down (an alert failed after all its retries, for a reason a retry could
 * cure), each alert gets one attempt: a dead receiver then costs one timeout
 * per alert, not attempts x timeout plus the backoffs, and the queue behind
 * it keeps moving. The first alert delivered brings the retries back. (With
 * one attempt per alert only the state changes, for the metric.) */
static bool webhook_send(struct pp_alerter *a, const char *prefix)
{
	uint64_t delay = a->retry_delay_ns;
	bool down = a->webhook_down, now_down; /* written by this thread only */
	unsigned n, tries = down ? 1 : a->attempts;
	enum attempt r;
	char why[256];

	curl_easy_setopt(a->easy, CURLOPT_POSTFIELDS, a->body.data);
	curl_easy_setopt(a->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)a->body.len);
	for (n = 1;; n++) {
		r = webhook_attempt(a, why, sizeof(why));
		if (r == ATTEMPT_SENT) {
			if (down) {
				set_webhook_down(a, false);
				if (a->attempts > 1)
					log_line(a, PP_ALERT_LOG_WARNING,
						 "%s: webhook %s: delivered again; alerts get %u "
						 "attempts again",
						 prefix, a->origin, a->attempts);
			}
			return true;
		}
		if (r == ATTEMPT_GIVE_UP || n == tries || !worker_sleep(a, delay))
			break;
		delay = add_sat(delay, delay);
	}
	/* every attempt failed for a reason a retry could cure: down now */
	now_down = r == ATTEMPT_RETRY && !down && n == tries;
	if (now_down)
		set_webhook_down(a, true);
	log_line(a, PP_ALERT_LOG_ERR, "%s: webhook %s: %s after %u attempt%s%s", prefix, a->origin,
		 why, n, n == 1 ? "" : "s",
		 now_down && tries > 1
		     ? "; it is down: later alerts get one attempt each until one is delivered"
		     : "");
	return false;
}

/* --- the command ---------------------------------------------------------- */

static void env_put(struct pp_buf *b, const char *name, const char *value)
{
	pp_buf_puts(b, name);
	pp_buf_put(b, "=", 1);
	pp_buf_puts(b, value);
	pp_buf_put(b, "", 1);
}

/* The PORTPROBE_* variables of al into b, each NUL-terminated. 0 or b's error. */
static int env_build(struct pp_buf *b, const struct pp_alert *al, const char *json)
{
	char num[32], at[40];

	env_put(b, "PORTPROBE_EVENT", "state_change");
	env_put(b, "PORTPROBE_CHECK", al->check);
	env_put(b, "PORTPROBE_UNIT", al->unit);
	env_put(b, "PORTPROBE_HOST", al->host);
	snprintf(num, sizeof(num), "%u", (unsigned)al->port);
	env_put(b, "PORTPROBE_PORT", num);
	env_put(b, "PORTPROBE_FROM", pp_health_name(al->from));
	env_put(b, "PORTPROBE_TO", pp_health_name(al->to));
	iso_ms(al->at_ms, at, sizeof(at));
	env_put(b, "PORTPROBE_AT", at);
	snprintf(num, sizeof(num), "%" PRId64, al->at_ms);
	env_put(b, "PORTPROBE_AT_MS", num);
	env_put(b, "PORTPROBE_REASON", al->reason);
	snprintf(num, sizeof(num), "%u", al->streak);
	env_put(b, "PORTPROBE_STREAK", num);
	ms_to_seconds(al->prev_ms, num, sizeof(num));
	env_put(b, "PORTPROBE_PREVIOUS_STATE_SECONDS", num);
	for (size_t i = 0; i < al->nlabels; i++) {
		pp_buf_puts(b, "PORTPROBE_LABEL_");
		for (const char *p = al->labels[i].name; *p; p++) {
			char c = *p;

			if (c >= 'a' && c <= 'z')
				c = (char)(c - 'a' + 'A');
			else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
				c = '_';
			pp_buf_put(b, &c, 1);
		}
		pp_buf_put(b, "=", 1);
		pp_buf_puts(b, al->labels[i].value);
		pp_buf_put(b, "", 1);
	}
	env_put(b, "PORTPROBE_JSON", json);
	return b->err;
}

/* environ without its PORTPROBE_* entries, then the variables in vars
 * (pointing into it). Freed with free(); NULL when out of memory. */
static char **env_merge(const struct pp_buf *vars)
{
	size_t n = 0, nvars = 0, i = 0;
	char **envp;

	for (char **e = environ; e && *e; e++)
		n++;
	for (size_t off = 0; off < vars->len; off += strlen(vars->data + off) + 1)
		nvars++;
	envp = calloc(n + nvars + 1, sizeof(*envp));
	if (!envp)
		return NULL;
	for (char **e = environ; e && *e; e++)
		if (strncmp(*e, "PORTPROBE_", 10))
			envp[i++] = *e;
	for (size_t off = 0; off < vars->len; off += strlen(vars->data + off) + 1)
		envp[i++] = vars->data + off;
	envp[i] = NULL;
	return envp;
}

/* Starts /bin/sh -c a->command with envp, in its own process group, stdin
 * /dev/null, stdout and stderr into a pipe whose non-blocking read end goes
 * to *rfd, no other descriptor. 0 or -errno. */
static int command_spawn(struct pp_alerter *a, char **envp, pid_t *pid, int *rfd)
{
	char *argv[] = {"sh", "-c", a->command, NULL};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	int fds[2], r;

	if (pipe2(fds, O_CLOEXEC) == -1)
		return -errno;
	sigemptyset(&none);
	sigfillset(&all);
	r = posix_spawn_file_actions_init(&fa);
	if (r) {
		close(fds[0]);
		close(fds[1]);
		return -r;
	}
	r = posix_spawnattr_init(&attr);
	if (r) {
		posix_spawn_file_actions_destroy(&fa);
		close(fds[0]);
		close(fds[1]);
		return -r;
	}
	r = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (!r)
		r = posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	if (!r)
		r = posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
	if (!r)
		r = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	if (!r)
		r = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
							POSIX_SPAWN_SETSIGDEF);
	if (!r)
		r = posix_spawnattr_setpgroup(&attr, 0);
	if (!r)
		r = posix_spawnattr_setsigmask(&attr, &none);
	if (!r)
		r = posix_spawnattr_setsigdefault(&attr, &all);
	if (!r)
		r = posix_spawn(pid, "/bin/sh", &fa, &attr, argv, envp);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (r) {
		close(fds[0]);
		return -r;
	}
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	*rfd = fds[0];
	return 0;
}

/* Reads what the pipe holds: the first OUTPUT_KEEP bytes into out, the rest
 * discarded. Closes it (*fd = -1) at end of file or error. */
static void output_read(int *fd, char *out, size_t *outlen)
{
	char buf[4096];

	for (int i = 0; i < 16; i++) {
		ssize_t n = read(*fd, buf, sizeof(buf));

		if (n > 0) {
			size_t keep = OUTPUT_KEEP - *outlen;

			if (keep > (size_t)n)
				keep = (size_t)n;
			memcpy(out + *outlen, buf, keep);
			*outlen += keep;
			continue;
		}
		if (n == -1 && (errno == EINTR))
			continue;
		if (n == 0 || errno != EAGAIN) {
			close(*fd);
			*fd = -1;
		}
		return;
	}
}

enum wait_end {
	WAIT_EXITED,    /* *status holds its status */
	WAIT_TIMED_OUT, /* killed at command_timeout */
	WAIT_ABANDONED, /* killed at the stop deadline */
	WAIT_LOST,      /* waitpid failed: someone else reaped it */
};

/* Waits for pid while collecting its output from *fd (closed on return). */
static enum wait_end command_wait(struct pp_alerter *a, pid_t pid, int *fd, int *status, char *out,
				  size_t *outlen)
{
	uint64_t until = add_sat(clock_now_ns(), a->command_timeout_ns);
	enum wait_end end;

	for (;;) {
		pid_t w = waitpid(pid, status, WNOHANG);
		uint64_t now, stop, limit;

		if (w == pid) {
			end = WAIT_EXITED;
			break;
		}
		if (w == -1 && errno != EINTR) {
			end = WAIT_LOST;
			break;
		}
		now = clock_now_ns();
		stop = atomic_load(&a->stop_at_ns);
		if (now >= until || now >= stop) {
			/* the shell and whatever it started, as one group */
			kill(-pid, SIGKILL);
			while (waitpid(pid, status, 0) == -1 && errno == EINTR)
				;
			end = now >= stop ? WAIT_ABANDONED : WAIT_TIMED_OUT;
			break;
		}
		limit = until < stop ? until : stop;
		if (*fd >= 0) {
			struct pollfd p = {.fd = *fd, .events = POLLIN};

			if (poll(&p, 1, wait_ms(limit - now, POLL_MS)) > 0)
				output_read(fd, out, outlen);
		} else {
			uint64_t ns = limit - now < POLL_MS * PP_NSEC_PER_MSEC
					  ? limit - now
					  : POLL_MS * PP_NSEC_PER_MSEC;
			struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)ns};

			nanosleep(&ts, NULL);
		}
	}
	if (*fd >= 0)
		output_read(fd, out, outlen);
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
	return end;
}

/* The first non-empty line of out, control bytes as spaces, capped. */
static void output_quote(const char *out, size_t outlen, char *buf, size_t len)
{
	size_t i = 0, n = 0;

	while (i < outlen && (out[i] == '\n' || out[i] == '\r'))
		i++;
	for (; i < outlen && out[i] != '\n' && n + 1 < len && n < OUTPUT_QUOTE; i++) {
		unsigned char c = (unsigned char)out[i];

		buf[n++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
	}
	while (n && buf[n - 1] == ' ')
		n--;
	buf[n] = '\0';
}

/* Runs the command for al; true when it exited 0. */
static bool command_run(struct pp_alerter *a, const struct pp_alert *al, const char *prefix)
{
	char out[OUTPUT_KEEP], quote[OUTPUT_QUOTE + 1], why[128];
	size_t outlen = 0;
	char **envp = NULL;
	int fd = -1, status = 0, r;
	pid_t pid;

	pp_buf_reset(&a->env);
	r = env_build(&a->env, al, a->body.data);
	if (r < 0) {
		log_line(a, PP_ALERT_LOG_ERR, "%s: command: cannot build its environment: %s",
			 prefix, strerror(-r));
		return false;
	}
	envp = env_merge(&a->env);
	if (!envp) {
		log_line(a, PP_ALERT_LOG_ERR, "%s: command: cannot build its environment: %s",
			 prefix, strerror(ENOMEM));
		return false;
	}
	r = command_spawn(a, envp, &pid, &fd);
	free(envp);
	if (r < 0) {
		log_line(a, PP_ALERT_LOG_ERR, "%s: command: cannot start /bin/sh: %s", prefix,
			 strerror(-r));
		return false;
	}
	switch (command_wait(a, pid, &fd, &status, out, &outlen)) {
	case WAIT_EXITED:
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			return true;
		if (WIFEXITED(status))
			snprintf(why, sizeof(why), "exit status %d", WEXITSTATUS(status));
		else
			snprintf(why, sizeof(why), "killed by signal %d", WTERMSIG(status));
		break;
	case WAIT_TIMED_OUT:
		snprintf(why, sizeof(why), "timed out (%g s), killed", a->command_timeout);
		break;
	case WAIT_ABANDONED:
		snprintf(why, sizeof(why), "abandoned at shutdown, killed");
		break;
	case WAIT_LOST:
	default:
		snprintf(why, sizeof(why), "lost its exit status (SIGCHLD ignored?)");
		break;
	}
	output_quote(out, outlen, quote, sizeof(quote));
	log_line(a, PP_ALERT_LOG_ERR, "%s: command: %s%s%s", prefix, why, quote[0] ? ": " : "",
		 quote);
	return false;
}

/* --- the worker ----------------------------------------------------------- */

/* Delivers al to every channel; adds to *sent and *failed. */
static void deliver(struct pp_alerter *a, const struct pp_alert *al, unsigned *sent,
		    unsigned *failed)
{
	char prefix[PP_ALERT_MAX_NAME + 64];
	int r;

	snprintf(prefix, sizeof(prefix), "alert %s %s->%s", al->unit, pp_health_name(al->from),
		 pp_health_name(al->to));
	pp_buf_reset(&a->body);
	r = pp_alert_write_json(&a->body, al);
	if (r < 0) {
		unsigned n = (a->webhook != NULL) + (a->command != NULL);

		if (n)
			log_line(a, PP_ALERT_LOG_ERR, "%s: cannot format the alert: %s", prefix,
				 strerror(-r));
		*failed += n;
		return;
	}
	if (a->webhook)
		*(webhook_send(a, prefix) ? sent : failed) += 1;
	if (a->command)
		*(command_run(a, al, prefix) ? sent : failed) += 1;
}

/* Logs the drops since the last such line; called with the lock held. */
static void log_dropped_locked(struct pp_alerter *a)
{
	uint64_t n = a->dropped - a->dropped_logged;

	if (!n)
		return;
	a->dropped_logged = a->dropped;
	pthread_mutex_unlock(&a->lock);
	log_line(a, PP_ALERT_LOG_WARNING, "alerts: queue full, %" PRIu64 " alert%s dropped", n,
		 n == 1 ? "" : "s");
	pthread_mutex_lock(&a->lock);
}

static void *worker_main(void *data)
{
	struct pp_alerter *a = data;
	size_t left;

	pthread_mutex_lock(&a->lock);
	for (;;) {
		struct alert_item *it;
		unsigned sent = 0, failed = 0;

		while (!a->qlen && !a->stopping)
			pthread_cond_wait(&a->cond, &a->lock);
		if (!a->qlen || stop_due(a, clock_now_ns()))
			break;
		it = a->queue[a->qhead];
		a->qhead = (a->qhead + 1) % a->queue_max;
		a->qlen--;
		a->busy = true;
		pthread_mutex_unlock(&a->lock);

		deliver(a, &it->alert, &sent, &failed);
		free(it);

		pthread_mutex_lock(&a->lock);
		a->busy = false;
		a->sent += sent;
		a->failed += failed;
		log_dropped_locked(a);
	}
	log_dropped_locked(a);
	left = a->qlen;
	for (; a->qlen; a->qlen--) {
		free(a->queue[a->qhead]);
		a->qhead = (a->qhead + 1) % a->queue_max;
	}
	pthread_mutex_unlock(&a->lock);
	if (left)
		log_line(a, PP_ALERT_LOG_WARNING, "alerts: %zu alert%s undelivered at shutdown",
			 left, left == 1 ? "" : "s");
	return NULL;
}

/* --- the handle ----------------------------------------------------------- */

void pp_alerter_opts_init(struct pp_alerter_opts *o)
{
	*o = (struct pp_alerter_opts){
	    .webhook_timeout = PP_ALERT_DEFAULT_TIMEOUT,
	    .webhook_attempts = PP_ALERT_DEFAULT_ATTEMPTS,
	    .webhook_retry_delay = PP_ALERT_DEFAULT_RETRY_DELAY,
	    .queue_max = PP_ALERT_DEFAULT_QUEUE,
	};
}

static bool seconds_ok(double s, bool zero_ok)
{
	return isfinite(s) && (zero_ok ? s >= 0 : s > 0) && s <= PP_ALERT_MAX_TIMEOUT;
}

static int opts_check(const struct pp_alerter_opts *o, char *err, size_t errlen)
{
	if (!seconds_ok(o->webhook_timeout, false)) {
		set_err(err, errlen, "alerts: webhook timeout must be > 0 and at most %g s",
			PP_ALERT_MAX_TIMEOUT);
		return -EINVAL;
	}
	if (!o->webhook_attempts || o->webhook_attempts > PP_ALERT_MAX_ATTEMPTS) {
		set_err(err, errlen, "alerts: webhook attempts must be 1..%u",
			PP_ALERT_MAX_ATTEMPTS);
		return -EINVAL;
	}
	if (!seconds_ok(o->webhook_retry_delay, true)) {
		set_err(err, errlen, "alerts: webhook retry delay must be 0..%g s",
			PP_ALERT_MAX_TIMEOUT);
		return -EINVAL;
	}
	if (!seconds_ok(o->command_timeout, true)) {
		set_err(err, errlen, "alerts: command timeout must be 0..%g s",
			PP_ALERT_MAX_TIMEOUT);
		return -EINVAL;
	}
	if (!o->queue_max || o->queue_max > PP_ALERT_MAX_QUEUE) {
		set_err(err, errlen, "alerts: queue size must be 1..%u", PP_ALERT_MAX_QUEUE);
		return -EINVAL;
	}
	if (o->webhook && strnlen(o->webhook, PP_ALERT_MAX_URL + 1) > PP_ALERT_MAX_URL) {
		set_err(err, errlen, "alerts: webhook: URL longer than %u bytes", PP_ALERT_MAX_URL);
		return -EINVAL;
	}
	if (o->command && (!o->command[0] ||
			   strnlen(o->command, PP_ALERT_MAX_COMMAND + 1) > PP_ALERT_MAX_COMMAND)) {
		set_err(err, errlen, "alerts: command must be 1..%u bytes", PP_ALERT_MAX_COMMAND);
		return -EINVAL;
	}
	return 0;
}

/* "scheme://host[:port]" of an http or https URL into *ret (malloc'd).
 * -EINVAL for anything else. */
static int url_origin(const char *url, char **ret)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *s;
	size_t len;
	int r = -EINVAL;

	if (!u)
		return -ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host[0] ||
	    (strcmp(scheme, "http") && strcmp(scheme, "https")))
		goto out;
	if (curl_url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK)
		port = NULL;
	len = strlen(scheme) + strlen(host) + (port ? strlen(port) : 0) + 8;
	s = malloc(len);
	if (!s) {
		r = -ENOMEM;
		goto out;
	}
	snprintf(s, len, "%s://%s%s%s", scheme, host, port ? ":" : "", port ? port : "");
	*ret = s;
	r = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return r;
}

/* The easy handle, its options, and the multi handle that runs it. */
static int webhook_setup(struct pp_alerter *a, char *err, size_t errlen)
{
	long timeout_ms = (long)(a->webhook_timeout_ns / PP_NSEC_PER_MSEC);
	CURLcode c;
	int r;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		set_err(err, errlen, "alerts: cannot initialise libcurl");
		return -ENOMEM;
	}
	a->curl_global = true;
	r = url_origin(a->webhook, &a->origin);
	if (r < 0) {
		set_err(err, errlen, "alerts: webhook: %s",
			r == -EINVAL ? "not an http:// or https:// URL with a host" : strerror(-r));
		return r;
	}
	a->easy = curl_easy_init();
	a->multi = curl_multi_init();
	/* no "Expect: 100-continue" round trip before a large body */
	a->headers = curl_slist_append(NULL, "Expect:");
	if (a->headers) {
		struct curl_slist *h =
		    curl_slist_append(a->headers, "Content-Type: application/json");

		if (!h) {
			curl_slist_free_all(a->headers);
			a->headers = NULL;
		}
	}
	if (!a->easy || !a->multi || !a->headers) {
		set_err(err, errlen, "alerts: webhook: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	c = curl_easy_setopt(a->easy, CURLOPT_URL, a->webhook);
	if (!c)
		c = curl_easy_setopt(a->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	if (!c)
		c = curl_easy_setopt(a->easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	if (!c)
		c = curl_easy_setopt(a->easy, CURLOPT_FOLLOWLOCATION, 0L);
	if (!c)
		c = curl_easy_setopt(a->easy, CURLOPT_NOSIGNAL, 1L);
	if (!c)
		c = curl_easy_setopt(a->easy, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 1L);
	if (!c)
		c = curl_easy_setopt(a->easy, CURLOPT_HTTPHEADER, a->headers);
	if (!c)
		c = curl_easy_setopt(a->easy, CURLOPT_USERAGENT, "portprobe/" PP_VERSION);
	if (!c)
		c = curl_easy_setopt(a->easy, CURLOPT_WRITEFUNCTION, discard_body);
	if (c != CURLE_OK) {
		set_err(err, errlen, "alerts: webhook: libcurl %s: %s",
			curl_version_info(CURLVERSION_NOW)->version, curl_easy_strerror(c));
		return c == CURLE_OUT_OF_MEMORY ? -ENOMEM : -ENOTSUP;
	}
	return 0;
}

/* Frees what pp_alerter_new set up; the thread is not running. */
static void alerter_destroy(struct pp_alerter *a)
{
	if (a->multi)
		curl_multi_cleanup(a->multi);
	if (a->easy)
		curl_easy_cleanup(a->easy);
	curl_slist_free_all(a->headers);
	if (a->curl_global)
		curl_global_cleanup();
	pthread_cond_destroy(&a->cond);
	pthread_mutex_destroy(&a->lock);
	pp_buf_release(&a->body);
	pp_buf_release(&a->env);
	free(a->queue);
	free(a->webhook);
	free(a->origin);
	free(a->command);
	free(a);
}

int pp_alerter_new(const struct pp_alerter_opts *o, struct pp_alerter **ret, char *err,
		   size_t errlen)
{
	struct pp_alerter *a;
	pthread_condattr_t ca;
	sigset_t all, old;
	int r;

	r = opts_check(o, err, errlen);
	if (r < 0)
		return r;
	a = calloc(1, sizeof(*a));
	if (!a) {
		set_err(err, errlen, "alerts: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	pthread_mutex_init(&a->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&a->cond, &ca);
	pthread_condattr_destroy(&ca);
	pp_buf_init(&a->body, BODY_MAX);
	pp_buf_init(&a->env, ENV_MAX);
	atomic_init(&a->stop_at_ns, NO_STOP);
	a->webhook_timeout = o->webhook_timeout;
	a->webhook_timeout_ns = clock_sec_to_ns(o->webhook_timeout);
	a->retry_delay_ns = clock_sec_to_ns(o->webhook_retry_delay);
	a->command_timeout = o->command_timeout > 0 ? o->command_timeout : o->webhook_timeout;
	a->command_timeout_ns = clock_sec_to_ns(a->command_timeout);
	a->attempts = o->webhook_attempts;
	a->queue_max = o->queue_max;
	a->log = o->log;
	a->log_data = o->log_data;
	a->queue = calloc(a->queue_max, sizeof(*a->queue));
	a->webhook = o->webhook ? strdup(o->webhook) : NULL;
	a->command = o->command ? strdup(o->command) : NULL;
	if (!a->queue || (o->webhook && !a->webhook) || (o->command && !a->command)) {
		set_err(err, errlen, "alerts: %s", strerror(ENOMEM));
		r = -ENOMEM;
		goto fail;
	}
	if (a->webhook) {
		r = webhook_setup(a, err, errlen);
		if (r < 0)
			goto fail;
	}
	/* the worker takes no signal: serve reads its own through a signalfd */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = -pthread_create(&a->thread, NULL, worker_main, a);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0) {
		set_err(err, errlen, "alerts: cannot start the alert thread: %s", strerror(-r));
		goto fail;
	}
	a->started = true;
	*ret = a;
	return 0;
fail:
	alerter_destroy(a);
	return r;
}

int pp_alerter_post(struct pp_alerter *a, const struct pp_alert *alert)
{
	struct alert_item *it;
	int r;

	if (!a || !alert)
		return -EINVAL;
	r = alert_check(alert);
	if (r < 0)
		return r;
	/* a cheap early refusal, so a flood of posts to a full queue mallocs nothing */
	pthread_mutex_lock(&a->lock);
	r = a->qlen < a->queue_max;
	if (!r)
		a->dropped++;
	pthread_mutex_unlock(&a->lock);
	if (!r)
		return -ENOSPC;
	it = alert_copy(alert);
	if (!it)
		return -ENOMEM;
	pthread_mutex_lock(&a->lock);
	if (a->qlen < a->queue_max) {
		a->queue[(a->qhead + a->qlen) % a->queue_max] = it;
		a->qlen++;
		it = NULL;
		pthread_cond_signal(&a->cond);
	} else {
		a->dropped++;
	}
	pthread_mutex_unlock(&a->lock);
	if (it) {
		free(it);
		return -ENOSPC;
	}
	return 0;
}

void pp_alerter_stats(struct pp_alerter *a, struct pp_alerter_stats *ret)
{
	pthread_mutex_lock(&a->lock);
	ret->sent = a->sent;
	ret->failed = a->failed;
	ret->dropped = a->dropped;
	ret->queued = a->qlen + (a->busy ? 1 : 0);
	ret->has_webhook = a->webhook != NULL;
	ret->webhook_down = a->webhook_down;
	pthread_mutex_unlock(&a->lock);
}

void pp_alerter_free(struct pp_alerter *a, double drain_s)
{
	if (!a)
		return;
	if (a->started) {
		uint64_t stop = add_sat(clock_now_ns(), clock_sec_to_ns(drain_s));

		pthread_mutex_lock(&a->lock);
		a->stopping = true;
		atomic_store(&a->stop_at_ns, stop == NO_STOP ? NO_STOP - 1 : stop);
		pthread_cond_broadcast(&a->cond);
		pthread_mutex_unlock(&a->lock);
		if (a->multi)
			curl_multi_wakeup(a->multi);
		pthread_join(a->thread, NULL);
	}
	alerter_destroy(a);
}
