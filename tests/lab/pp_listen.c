/* pp_listen: a tiny TCP listener for the network lab that accepts and closes every connection. */

/*
 * Design: every ADDR:PORT argument becomes one non-blocking listening socket
 * (SO_REUSEADDR; IPV6_V6ONLY for IPv6 so that v4 and v6 listeners on one port
 * never collide). Only when all of them listen does the program announce
 * "ready", either on stdout or by writing a temporary file next to the ready
 * file and renaming it into place, so a waiting script never sees a partial
 * file. It then sleeps in ppoll() with SIGTERM and SIGINT blocked everywhere
 * except inside ppoll(), so a signal can never be lost between the check of
 * the stop flag and the wait; each accepted connection is closed at once.
 * Any setup failure prints one line naming the address and exits 1.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

enum { listen_backlog = 128, max_arg_len = 256 };

/* One parsed ADDR:PORT argument. */
struct listen_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	int family;
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
	fputs("usage: pp_listen [--ready-file PATH] ADDR:PORT ...\n"
	      "  ADDR is an IPv4 address or [IPv6]; prints or writes \"ready\" once\n"
	      "  every socket listens, closes each accepted connection, exits 0 on\n"
	      "  SIGTERM or SIGINT.\n",
	      out);
}

/* Parses a decimal port 1..65535; returns 0 on success, -1 otherwise. */
static int parse_port(const char *text, in_port_t *port)
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
static int parse_listen_addr(const char *arg, struct listen_addr *out)
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
static int open_listener(const char *arg, const struct listen_addr *addr)
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
	fprintf(stderr, "pp_listen: %s: %s: %s\n", arg, step, strerror(errno));
	if (fd >= 0) {
		close(fd);
	}
	return -1;
}

/* Writes "ready\n" to path through a temporary file and rename(); returns 0 or -1. */
static int write_ready_file(const char *path)
{
	char tmp[PATH_MAX];
	int n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	int fd;
	static const char text[] = "ready\n";

	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		fprintf(stderr, "pp_listen: %s: ready file path too long\n", path);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "pp_listen: %s: %s\n", tmp, strerror(errno));
		return -1;
	}
	if (write(fd, text, sizeof(text) - 1) != (ssize_t)(sizeof(text) - 1) || close(fd) != 0) {
		fprintf(stderr, "pp_listen: %s: write: %s\n", tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) != 0) {
		fprintf(stderr, "pp_listen: %s: rename: %s\n", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* Accepts every pending connection on fd and closes each one at once. */
static void drain_accepts(int fd)
{
	for (;;) {
		int conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

		if (conn >= 0) {
			close(conn);
			continue;
		}
		/* EAGAIN: queue empty; other errors (ECONNABORTED, EMFILE ...) are retried on the next poll. */
		return;
	}
}

/* Installs the stop handlers and blocks SIGTERM/SIGINT; stores the old mask in old_mask. */
static int setup_signals(sigset_t *old_mask)
{
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	if (sigprocmask(SIG_BLOCK, &block, old_mask) != 0) {
		return -1;
	}
	if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0) {
		return -1;
	}
	sigdelset(old_mask, SIGTERM);
	sigdelset(old_mask, SIGINT);
	return 0;
}

/* Entry point: parse arguments, listen on every address, announce readiness, serve until stopped. */
int main(int argc, char **argv)
{
	const char *ready_file = NULL;
	struct pollfd *fds;
	sigset_t wait_mask;
	int first = 1;
	int count;
	int i;

	if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc > 2 && strcmp(argv[1], "--ready-file") == 0) {
		ready_file = argv[2];
		first = 3;
	}
	count = argc - first;
	if (count < 1) {
		usage(stderr);
		return 2;
	}
	if (setup_signals(&wait_mask) != 0) {
		fprintf(stderr, "pp_listen: signals: %s\n", strerror(errno));
		return 1;
	}
	fds = calloc((size_t)count, sizeof(*fds));
	if (fds == NULL) {
		fprintf(stderr, "pp_listen: out of memory\n");
		return 1;
	}
	for (i = 0; i < count; i++) {
		struct listen_addr addr;
		const char *arg = argv[first + i];

		if (parse_listen_addr(arg, &addr) != 0) {
			fprintf(
			    stderr,
			    "pp_listen: %s: bad address (want A.B.C.D:PORT or [IPV6]:PORT): %s\n",
			    arg, strerror(EINVAL));
			return 1;
		}
		fds[i].fd = open_listener(arg, &addr);
		if (fds[i].fd < 0) {
			return 1;
		}
		fds[i].events = POLLIN;
	}

	if (ready_file != NULL) {
		if (write_ready_file(ready_file) != 0) {
			return 1;
		}
	} else if (fputs("ready\n", stdout) == EOF || fflush(stdout) != 0) {
		fprintf(stderr, "pp_listen: stdout: %s\n", strerror(errno));
		return 1;
	}

	while (!stop_requested) {
		int rc = ppoll(fds, (nfds_t)count, NULL, &wait_mask);

		if (rc < 0) {
			if (errno == EINTR) {
				continue;
			}
			fprintf(stderr, "pp_listen: ppoll: %s\n", strerror(errno));
			return 1;
		}
		for (i = 0; i < count; i++) {
			if (fds[i].revents & POLLIN) {
				drain_accepts(fds[i].fd);
			}
		}
	}
	for (i = 0; i < count; i++) {
		close(fds[i].fd);
	}
	free(fds);
	return 0;
}
