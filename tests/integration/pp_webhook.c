/* pp_webhook: a tiny webhook receiver for tests that appends every POSTed body to a file. */

/*
 * Design: one listening socket (ADDR:PORT, parsed and opened by the lab's
 * lab_listen.h) and at most MAX_CONNS client connections, all non-blocking,
 * served by one ppoll() loop with SIGTERM and SIGINT blocked everywhere
 * except inside ppoll() (so a stop is never lost). Each connection gathers
 * bytes until the header ends ("\r\n\r\n") and Content-Length more have come,
 * however the peer splits them; then the body is appended to the output file
 * as one line (one write(2) on an O_APPEND descriptor: a reader sees whole
 * lines, and a line is on disk before the client gets its answer), CR and LF
 * inside the body written as spaces so that a line is always one body. The
 * answer is the status given on the command line (200 by default) for a POST
 * and an error for anything else: 405 for another method, 411 without a
 * Content-Length (chunked bodies are not spoken), 413 for a body above
 * MAX_BODY, 431 for a header above MAX_HEAD, 400 for a malformed one. Every
 * answer closes the connection. "Expect: 100-continue" gets its interim
 * answer. A connection idle for IDLE_MS is closed. Setup failures print one
 * line and exit 1; SIGTERM and SIGINT exit 0.
 */

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../lab/lab_listen.h"

enum {
	MAX_CONNS = 32,         /* clients at once; more wait in the backlog */
	MAX_HEAD = 16384,       /* request line and headers */
	MAX_BODY = 1024 * 1024, /* one body */
	IDLE_MS = 10000,        /* a connection silent this long is closed */
};

/* One client connection. */
struct conn {
	int fd;              /* -1: slot free */
	char *buf;           /* what the client sent so far (head and body) */
	size_t len;          /* bytes in buf */
	size_t cap;          /* bytes allocated for buf */
	size_t head_len;     /* head length including "\r\n\r\n"; 0 until it is whole */
	size_t body_len;     /* the Content-Length */
	char out[256];       /* the answer being sent */
	size_t out_len;      /* its length */
	size_t out_off;      /* bytes of it sent */
	int closing;         /* close once out is sent */
	long long active_ms; /* last time bytes moved */
};

static volatile sig_atomic_t stop_requested;

/* Signal handler for SIGTERM and SIGINT: asks the main loop to stop. */
static void on_stop_signal(int signo)
{
	(void)signo;
	stop_requested = 1;
}

/* Prints the usage text to out. */
static void usage(FILE *out)
{
	fputs("usage: pp_webhook [--ready-file PATH] [--status CODE] --out FILE ADDR:PORT\n"
	      "  appends the body of every HTTP POST to FILE, one line per body, and\n"
	      "  answers CODE (200..599, default 200); writes \"ready\" to PATH (or\n"
	      "  stdout) once it listens; exits 0 on SIGTERM or SIGINT.\n",
	      out);
}

/* The monotonic clock in milliseconds. */
static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The reason phrase of an HTTP status. */
static const char *reason_phrase(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	case 405:
		return "Method Not Allowed";
	case 411:
		return "Length Required";
	case 413:
		return "Content Too Large";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	default:
		return "Status";
	}
}

/* Frees c's buffer and closes it; the slot becomes free. */
static void conn_close(struct conn *c)
{
	close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/* Queues the final answer status (closing the connection after it). */
static void conn_answer(struct conn *c, int status)
{
	int n = snprintf(c->out, sizeof(c->out),
			 "HTTP/1.1 %d %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", status,
			 reason_phrase(status));

	c->out_len = n > 0 && (size_t)n < sizeof(c->out) ? (size_t)n : 0;
	c->out_off = 0;
	c->closing = 1;
}

/* The value of header name in the head (NUL-terminated, lines end in "\r\n"),
 * copied to val (at most vallen - 1 bytes, spaces trimmed); 1 if found, else 0. */
static int header_value(const char *head, const char *name, char *val, size_t vallen)
{
	size_t nlen = strlen(name);
	const char *line = strstr(head, "\r\n");

	while (line && line[2] != '\r') {
		const char *p = line + 2, *end = strstr(p, "\r\n");

		if (!end)
			return 0;
		if ((size_t)(end - p) > nlen && !strncasecmp(p, name, nlen) && p[nlen] == ':') {
			size_t l;

			p += nlen + 1;
			while (p < end && (*p == ' ' || *p == '\t'))
				p++;
			while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
				end--;
			l = (size_t)(end - p) < vallen - 1 ? (size_t)(end - p) : vallen - 1;
			memcpy(val, p, l);
			val[l] = 0;
			return 1;
		}
		line = end;
	}
	return 0;
}

/* Parses the head once it is whole: sets head_len and body_len, or queues an
 * error answer. Returns 0 when the request can go on, -1 when answered. */
static int conn_parse_head(struct conn *c, const char *end)
{
	char val[64], *stop = NULL;
	unsigned long long n;

	c->head_len = (size_t)(end - c->buf) + 4;
	if (strncmp(c->buf, "POST ", 5) != 0) {
		conn_answer(c, memchr(c->buf, ' ', c->head_len) ? 405 : 400);
		return -1;
	}
	if (header_value(c->buf, "Transfer-Encoding", val, sizeof(val)) ||
	    !header_value(c->buf, "Content-Length", val, sizeof(val))) {
		conn_answer(c, 411);
		return -1;
	}
	errno = 0;
	n = strtoull(val, &stop, 10);
	if (!isdigit((unsigned char)val[0]) || *stop || errno) {
		conn_answer(c, 400);
		return -1;
	}
	if (n > MAX_BODY) {
		conn_answer(c, 413);
		return -1;
	}
	c->body_len = (size_t)n;
	if (header_value(c->buf, "Expect", val, sizeof(val)) && !strcasecmp(val, "100-continue") &&
	    c->len < c->head_len + c->body_len) {
		static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

		memcpy(c->out, cont, sizeof(cont) - 1);
		c->out_len = sizeof(cont) - 1;
		c->out_off = 0;
	}
	return 0;
}

/* Appends the body of c's request to out_fd as one line (CR and LF as spaces),
 * then queues the configured answer (500 when the file cannot be written). */
static void conn_deliver(struct conn *c, int out_fd, int status)
{
	char *body = c->buf + c->head_len;
	size_t left = c->body_len + 1;
	const char *p = body;

	for (size_t i = 0; i < c->body_len; i++)
		if (body[i] == '\r' || body[i] == '\n')
			body[i] = ' ';
	body[c->body_len] = '\n'; /* buf always has room for it: see conn_read */
	while (left > 0) {
		ssize_t w = write(out_fd, p, left);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			fprintf(stderr, "pp_webhook: write: %s\n", strerror(w < 0 ? errno : EIO));
			conn_answer(c, 500);
			return;
		}
		p += w;
		left -= (size_t)w;
	}
	conn_answer(c, status);
}

/* Reads what c's client sent and moves its request on. */
static void conn_read(struct conn *c, int out_fd, int status)
{
	for (;;) {
		ssize_t r;

		/* one byte more than the longest request, for the body's newline */
		if (c->cap - c->len < 2) {
			size_t cap = c->cap ? c->cap * 2 : 4096;
			char *nb;

			if (cap > MAX_HEAD + MAX_BODY + 2)
				cap = MAX_HEAD + MAX_BODY + 2;
			if (cap - c->len < 2 || !(nb = realloc(c->buf, cap))) {
				conn_answer(c, c->head_len ? 413 : 431);
				return;
			}
			c->buf = nb;
			c->cap = cap;
		}
		r = read(c->fd, c->buf + c->len, c->cap - c->len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (r <= 0) { /* the client is gone: a cut request is not delivered */
			conn_close(c);
			return;
		}
		c->len += (size_t)r;
		c->buf[c->len] = 0;
		c->active_ms = now_ms();
		if (!c->head_len) {
			const char *end = strstr(c->buf, "\r\n\r\n");

			if (!end) {
				if (c->len > MAX_HEAD || memchr(c->buf, 0, c->len)) {
					conn_answer(c, c->len > MAX_HEAD ? 431 : 400);
					return;
				}
				continue;
			}
			if ((size_t)(end - c->buf) + 4 > MAX_HEAD) {
				conn_answer(c, 431);
				return;
			}
			if (conn_parse_head(c, end) < 0)
				return;
		}
		if (c->len >= c->head_len + c->body_len) {
			conn_deliver(c, out_fd, status);
			return;
		}
	}
}

/* Sends what is left of c's answer; closes c once a final answer is out. */
static void conn_write(struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (w <= 0) {
			conn_close(c);
			return;
		}
		c->out_off += (size_t)w;
		c->active_ms = now_ms();
	}
	c->out_len = c->out_off = 0;
	if (c->closing)
		conn_close(c);
}

/* Accepts pending clients into free slots of conns. */
static void accept_clients(int lfd, struct conn *conns)
{
	for (int i = 0; i < MAX_CONNS; i++) {
		int fd;

		if (conns[i].fd >= 0)
			continue;
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) /* EAGAIN: none left; others are retried on the next poll */
			return;
		conns[i].fd = fd;
		conns[i].active_ms = now_ms();
	}
}

/* Parses the command line into its outputs; returns 0, or -1 after printing why. */
static int parse_args(int argc, char **argv, const char **ready, const char **out, int *status,
		      const char **addr)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (i + 1 < argc && !strcmp(a, "--ready-file")) {
			*ready = argv[++i];
		} else if (i + 1 < argc && !strcmp(a, "--out")) {
			*out = argv[++i];
		} else if (i + 1 < argc && !strcmp(a, "--status")) {
			char *end = NULL;
			long v = strtol(argv[++i], &end, 10);

			if (*end || end == argv[i] || v < 200 || v > 599) {
				fprintf(stderr, "pp_webhook: --status %s: want 200..599\n",
					argv[i]);
				return -1;
			}
			*status = (int)v;
		} else if (a[0] != '-' && !*addr) {
			*addr = a;
		} else {
			usage(stderr);
			return -1;
		}
	}
	if (!*out || !*addr) {
		usage(stderr);
		return -1;
	}
	return 0;
}

/* Entry point: parse arguments, listen, announce readiness, serve until stopped. */
int main(int argc, char **argv)
{
	const char *ready = NULL, *out = NULL, *arg = NULL;
	struct conn conns[MAX_CONNS];
	struct pollfd fds[MAX_CONNS + 1];
	struct listen_addr addr;
	sigset_t wait_mask;
	int status = 200, lfd, out_fd;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (parse_args(argc, argv, &ready, &out, &status, &arg) < 0)
		return 2;
	if (block_stop_signals(on_stop_signal, &wait_mask) != 0) {
		fprintf(stderr, "pp_webhook: signals: %s\n", strerror(errno));
		return 1;
	}
	if (parse_listen_addr(arg, &addr) != 0) {
		fprintf(stderr, "pp_webhook: %s: bad address (want A.B.C.D:PORT or [IPV6]:PORT)\n",
			arg);
		return 1;
	}
	out_fd = open(out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (out_fd < 0) {
		fprintf(stderr, "pp_webhook: %s: %s\n", out, strerror(errno));
		return 1;
	}
	if ((lfd = open_listener("pp_webhook", arg, &addr)) < 0)
		return 1;
	if (ready && write_ready_file("pp_webhook", ready) != 0)
		return 1;
	if (!ready && (fputs("ready\n", stdout) == EOF || fflush(stdout) != 0))
		return 1;
	for (int i = 0; i < MAX_CONNS; i++) {
		memset(&conns[i], 0, sizeof(conns[i]));
		conns[i].fd = -1;
	}

	while (!stop_requested) {
		struct timespec tick = {1, 0};
		long long now;
		int n = 0, free_slots = 0, rc;

		for (int i = 0; i < MAX_CONNS; i++) {
			struct conn *c = &conns[i];

			fds[i].fd = c->fd; /* a negative fd is ignored by ppoll */
			fds[i].events = c->out_len ? POLLOUT : POLLIN;
			fds[i].revents = 0;
			if (c->fd < 0)
				free_slots++;
			else
				n++;
		}
		fds[MAX_CONNS].fd = free_slots ? lfd : -1;
		fds[MAX_CONNS].events = POLLIN;
		fds[MAX_CONNS].revents = 0;
		rc = ppoll(fds, MAX_CONNS + 1, n ? &tick : NULL, &wait_mask);
		if (rc < 0 && errno != EINTR) {
			fprintf(stderr, "pp_webhook: ppoll: %s\n", strerror(errno));
			return 1;
		}
		if (rc < 0)
			continue;
		now = now_ms();
		for (int i = 0; i < MAX_CONNS; i++) {
			struct conn *c = &conns[i];

			if (c->fd < 0)
				continue;
			if (fds[i].revents & POLLOUT)
				conn_write(c);
			else if (fds[i].revents & (POLLIN | POLLHUP | POLLERR))
				conn_read(c, out_fd, status);
			else if (now - c->active_ms > IDLE_MS)
				conn_close(c);
			/* an answer just queued goes out at once when it can */
			if (c->fd >= 0 && c->out_len && c->out_off == 0)
				conn_write(c);
		}
		if (fds[MAX_CONNS].revents & POLLIN)
			accept_clients(lfd, conns);
	}
	for (int i = 0; i < MAX_CONNS; i++)
		if (conns[i].fd >= 0)
			conn_close(&conns[i]);
	close(lfd);
	close(out_fd);
	return 0;
}
