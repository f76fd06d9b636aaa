/* pp_tlsd: a TLS server for benchmarks: one process, many listening ports.
 *
 * Usage: pp_tlsd --cert FILE --key FILE [--chain FILE] [--addr ADDR]
 *                --ports LO-HI [--ready-file FILE]
 *
 * Every port of LO-HI listens on ADDR (default 127.0.0.1). Connections are
 * served concurrently on one epoll loop: a non-blocking SSL_accept, then the
 * connection is closed. openssl s_server serves one connection at a time
 * and one port per process, which would make a 1,000-port benchmark measure
 * the server. When every port listens, "ready" goes to the ready file (or
 * stdout). SIGTERM/SIGINT end it. Setup failures print one line, exit 1. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lab_listen.h"

#define MAX_FDS 65536

static SSL *conns[MAX_FDS]; /* SSL of an accepted fd */
static bool listeners[MAX_FDS];
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig;
}

static void die(const char *what, const char *arg)
{
	fprintf(stderr, "pp_tlsd: %s %s: %s\n", what, arg ? arg : "", strerror(errno));
	exit(1);
}

static void conn_close(int ep, int fd)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
	SSL_free(conns[fd]);
	conns[fd] = NULL;
	close(fd);
}

static void conn_step(int ep, int fd)
{
	SSL *ssl = conns[fd];
	int r = SSL_accept(ssl), e;
	struct epoll_event ev = {.data.fd = fd};

	if (r == 1) {
		SSL_shutdown(ssl);
		conn_close(ep, fd);
		return;
	}
	e = SSL_get_error(ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		ev.events = e == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT;
		epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
		return;
	}
	ERR_clear_error();
	conn_close(ep, fd);
}

int main(int argc, char **argv)
{
	const char *cert = NULL, *key = NULL, *chain = NULL, *addr = "127.0.0.1", *ready = NULL;
	unsigned lo = 0, hi = 0;
	struct rlimit rl;
	SSL_CTX *ctx;
	int ep;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--cert"))
			cert = argv[i + 1];
		else if (!strcmp(argv[i], "--key"))
			key = argv[i + 1];
		else if (!strcmp(argv[i], "--chain"))
			chain = argv[i + 1];
		else if (!strcmp(argv[i], "--addr"))
			addr = argv[i + 1];
		else if (!strcmp(argv[i], "--ready-file"))
			ready = argv[i + 1];
		else if (!strcmp(argv[i], "--ports") && sscanf(argv[i + 1], "%u-%u", &lo, &hi) == 2)
			continue;
		else {
			fprintf(stderr, "pp_tlsd: unknown option %s\n", argv[i]);
			return 1;
		}
	}
	if (!cert || !key || !lo || hi < lo || hi > 65535) {
		fprintf(stderr, "pp_tlsd: usage: --cert F --key F --ports LO-HI\n");
		return 1;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx || SSL_CTX_use_certificate_file(ctx, cert, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    (chain && SSL_CTX_use_certificate_chain_file(ctx, chain) != 1)) {
		fprintf(stderr, "pp_tlsd: cannot load %s / %s\n", cert, key);
		return 1;
	}
	ep = epoll_create1(0);
	if (ep < 0)
		die("epoll_create1", NULL);
	for (unsigned p = lo; p <= hi; p++) {
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p)};
		struct epoll_event ev = {.events = EPOLLIN};
		int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		if (fd < 0 || fd >= MAX_FDS)
			die("socket", NULL);
		if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
			fprintf(stderr, "pp_tlsd: bad address %s\n", addr);
			return 1;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 512) < 0)
			die("bind/listen", argv[0]);
		listeners[fd] = true;
		ev.data.fd = fd;
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (ready) {
		if (write_ready_file("pp_tlsd", ready) != 0)
			return 1;
	} else {
		puts("ready");
		fflush(stdout);
	}
	while (!stop) {
		struct epoll_event evs[256];
		int n = epoll_wait(ep, evs, 256, 200);

		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (!listeners[fd]) {
				if (conns[fd])
					conn_step(ep, fd);
				continue;
			}
			for (;;) {
				int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
				struct epoll_event ev = {.events = EPOLLIN};

				if (c < 0)
					break;
				if (c >= MAX_FDS || !(conns[c] = SSL_new(ctx))) {
					close(c);
					continue;
				}
				SSL_set_fd(conns[c], c);
				ev.data.fd = c;
				epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
				conn_step(ep, c);
			}
		}
	}
	return 0;
}
