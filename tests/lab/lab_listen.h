/* lab_listen.h: what the lab's small servers share (pp_listen, pp_starttls,
 * pp_tlsd, pp_hold): parsing ADDR:PORT, opening a listener, blocking the stop
 * signals outside ppoll(), announcing readiness through a ready file that
 * appears whole (written aside, then renamed). */
#ifndef PP_LAB_LISTEN_H
#define PP_LAB_LISTEN_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { listen_backlog = 128, max_arg_len = 256 };

/* One parsed ADDR:PORT argument. */
struct listen_addr {
	struct sockaddr_storage ss; /* the address */
	socklen_t len;              /* its length */
	int family;                 /* AF_INET or AF_INET6 */
};

/* Parses a decimal port 1..65535; returns 0 on success, -1 otherwise. */
static inline int parse_port(const char *text, in_port_t *port)
{
	char *end = NULL;
	long value;

	if (text[0] < '0' || text[0] > '9') {
		return -1;
	}
	errno = 0;
	value = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || value < 1 || value > 65535) {
		return -1;
	}
	*port = (in_port_t)value;
	return 0;
}

/* Parses "1.2.3.4:80" or "[2001:db8::1]:80"; returns 0 on success, -1 otherwise. */
static inline int parse_listen_addr(const char *arg, struct listen_addr *out)
{
	char host[max_arg_len];
	const char *port_text;
	size_t host_len;
	in_port_t port;

	memset(out, 0, sizeof(*out));
	if (arg[0] == '[') {
		const char *close = strchr(arg, ']');

		if (close == NULL || close[1] != ':') {
			return -1;
		}
		host_len = (size_t)(close - (arg + 1));
		if (host_len == 0 || host_len >= sizeof(host)) {
			return -1;
		}
		memcpy(host, arg + 1, host_len);
		host[host_len] = '\0';
		port_text = close + 2;
		if (parse_port(port_text, &port) != 0) {
			return -1;
		}
		{
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->ss;

			if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) {
				return -1;
			}
			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons(port);
			out->len = (socklen_t)sizeof(*sin6);
			out->family = AF_INET6;
		}
		return 0;
	}

	port_text = strrchr(arg, ':');
	if (port_text == NULL) {
		return -1;
	}
	host_len = (size_t)(port_text - arg);
	if (host_len == 0 || host_len >= sizeof(host)) {
		return -1;
	}
	memcpy(host, arg, host_len);
	host[host_len] = '\0';
	if (parse_port(port_text + 1, &port) != 0) {
		return -1;
	}
	{
		struct sockaddr_in *sin = (struct sockaddr_in *)&out->ss;

		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
			return -1;
		}
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		out->len = (socklen_t)sizeof(*sin);
		out->family = AF_INET;
	}
	return 0;
}

/* Opens, binds and listens on one address; returns the fd, or -1 after printing why. */
static inline int open_listener(const char *prog, const char *arg, const struct listen_addr *addr)
{
	int one = 1;
	int fd = socket(addr->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	const char *step = "socket";

	if (fd < 0) {
		goto fail;
	}
	step = "setsockopt(SO_REUSEADDR)";
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) {
		goto fail;
	}
	if (addr->family == AF_INET6) {
		step = "setsockopt(IPV6_V6ONLY)";
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) {
			goto fail;
		}
	}
	step = "bind";
	if (bind(fd, (const struct sockaddr *)&addr->ss, addr->len) != 0) {
		goto fail;
	}
	step = "listen";
	if (listen(fd, listen_backlog) != 0) {
		goto fail;
	}
	return fd;

fail:
	fprintf(stderr, "%s: %s: %s: %s\n", prog, arg, step, strerror(errno));
	if (fd >= 0) {
		close(fd);
	}
	return -1;
}

/* Installs handler for SIGTERM and SIGINT and blocks both; stores in wait_mask the
 * old mask without them, for ppoll(), so that a stop signal arrives only while
 * the caller waits and can never be lost between its check of the stop flag
 * and the wait. Returns 0, or -1 with errno set. */
static inline int block_stop_signals(void (*handler)(int), sigset_t *wait_mask)
{
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	if (sigprocmask(SIG_BLOCK, &block, wait_mask) != 0) {
		return -1;
	}
	if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0) {
		return -1;
	}
	sigdelset(wait_mask, SIGTERM);
	sigdelset(wait_mask, SIGINT);
	return 0;
}

/* Writes len bytes of text to path through a temporary file next to it and
 * rename(), so a reader sees no file or the whole text; returns 0, or -1
 * after printing why (prefixed with prog). text is borrowed. */
static inline int write_ready_text(const char *prog, const char *path, const char *text, size_t len)
{
	char tmp[PATH_MAX];
	int n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	int fd;

	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		fprintf(stderr, "%s: %s: ready file path too long\n", prog, path);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, tmp, strerror(errno));
		return -1;
	}
	while (len > 0) {
		ssize_t w = write(fd, text, len);

		if (w < 0 && errno == EINTR) {
			continue;
		}
		if (w <= 0) {
			if (w == 0) {
				errno = EIO;
			}
			fprintf(stderr, "%s: %s: write: %s\n", prog, tmp, strerror(errno));
			close(fd);
			unlink(tmp);
			return -1;
		}
		text += w;
		len -= (size_t)w;
	}
	if (close(fd) != 0) {
		fprintf(stderr, "%s: %s: write: %s\n", prog, tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) != 0) {
		fprintf(stderr, "%s: %s: rename: %s\n", prog, path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* Writes "ready\n" to path through a temporary file and rename(); returns 0 or -1. */
static inline int write_ready_file(const char *prog, const char *path)
{
	static const char text[] = "ready\n";

	return write_ready_text(prog, path, text, sizeof(text) - 1);
}

#endif
