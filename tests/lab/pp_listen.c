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

#include "lab_listen.h"

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
		fds[i].fd = open_listener("pp_listen", arg, &addr);
		if (fds[i].fd < 0) {
			return 1;
		}
		fds[i].events = POLLIN;
	}

	if (ready_file != NULL) {
		if (write_ready_file("pp_listen", ready_file) != 0) {
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
