/* pp_hold: holds listening TCP sockets for the lab, never accepting: ground truth for listen. */

/*
 * Design: every SPEC (ADDR:PORT or ADDR:P1-P2, then /options) becomes one
 * listening socket per port, configured in the order the kernel needs:
 * SO_REUSEADDR, SO_REUSEPORT and IPV6_V6ONLY before bind(), SO_BINDTODEVICE
 * before bind() too, then listen(backlog). Only when every socket listens are
 * the clients= connections made, from this process, and kept open: nobody
 * ever calls accept(), so the kernel's accept queue (ss's Recv-Q, the
 * listener's tcpi_unacked) holds exactly the clients asked for; the program
 * reads that count back through TCP_INFO and waits until each port's queues
 * hold them before it announces anything, so the ready file is ground truth
 * (a SO_REUSEPORT group shares its port's connections as the kernel spreads
 * them).
 * With --fork it then forks once: the child holds the same descriptors, dies
 * with the parent (PR_SET_PDEATHSIG) and is stopped by it (SIGTERM by PID,
 * then waitpid) when the parent is stopped. The ready file, written aside and
 * renamed (lab_listen.h), lists the holders' PIDs and every socket's family,
 * address, actual port (port 0 lets the kernel choose) and inode. The
 * program then sleeps in ppoll() on no descriptor at all, SIGTERM and SIGINT
 * unblocked only inside it (the pp_listen pattern). Any setup failure prints
 * one line naming the SPEC and exits 1.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lab_listen.h"

enum {
	max_backlog = 1 << 20,     /* above any net.core.somaxconn in use */
	max_clients = 1 << 16,     /* per listener */
	connect_timeout_ms = 3000, /* one client's handshake; a full queue drops the SYN */
	queue_timeout_ms = 3000,   /* until every accept queue shows its clients */
};

/* One parsed SPEC. */
struct hold_spec {
	const char *text;        /* the argument as given, for messages; borrowed */
	struct listen_addr addr; /* address; its port is set per listener */
	unsigned first_port;     /* first port (0: the kernel chooses) */
	unsigned last_port;      /* last port of a range, first_port otherwise */
	int backlog;             /* listen() argument */
	int reuseport;           /* 1: SO_REUSEPORT before bind */
	int dual;                /* 1: IPv6 with IPV6_V6ONLY=0 */
	char dev[IF_NAMESIZE];   /* SO_BINDTODEVICE name, "" for none */
	unsigned clients;        /* connections to open to each listener */
};

/* One listening socket. */
struct held {
	const struct hold_spec *spec; /* where it came from; borrowed */
	int fd;                       /* the listener */
	struct sockaddr_storage ss;   /* its bound address, with the actual port */
	ino_t inode;                  /* st_ino of the socket */
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
	fputs("usage: pp_hold [--ready-file PATH] [--fork] [--clients N] SPEC...\n"
	      "  SPEC is ADDR:PORT or ADDR:P1-P2 (ADDR IPv4 or [IPv6]; port 0: the kernel\n"
	      "  chooses), then options, each after a '/':\n"
	      "    backlog=N   listen() backlog (default 128)\n"
	      "    reuseport   SO_REUSEPORT before bind\n"
	      "    dual        IPv6 socket with IPV6_V6ONLY=0 (IPv6 default: v6only)\n"
	      "    dev=IFNAME  SO_BINDTODEVICE\n"
	      "    clients=N   keep N connections to it open, never accepted\n"
	      "  --clients N is the default clients= of every SPEC. Listens on all, makes\n"
	      "  the connections, with --fork forks once (both processes hold every\n"
	      "  socket), then writes \"ready\", \"pid P\" per holder and \"sock FAMILY ADDR\n"
	      "  PORT INODE\" per socket to PATH (atomically) or stdout. Never accepts;\n"
	      "  exits 0 on SIGTERM or SIGINT.\n",
	      out);
}

/* Parses decimal text into *out if it is all digits and at most max; returns 0 or -1. */
static int parse_count(const char *text, unsigned long max, unsigned long *out)
{
	char *end = NULL;
	unsigned long value;

	if (text[0] < '0' || text[0] > '9') {
		return -1;
	}
	errno = 0;
	value = strtoul(text, &end, 10);
	if (errno != 0 || *end != '\0' || value > max) {
		return -1;
	}
	*out = value;
	return 0;
}

/* Parses "0", "P" or "P1-P2" (1..65535, P1 <= P2) into spec's port range; returns 0 or -1. */
static int parse_ports(const char *text, struct hold_spec *spec)
{
	const char *dash = strchr(text, '-');
	char first[8];
	in_port_t lo;
	in_port_t hi;

	if (strcmp(text, "0") == 0) {
		spec->first_port = 0;
		spec->last_port = 0;
		return 0;
	}
	if (dash == NULL) {
		if (parse_port(text, &lo) != 0) {
			return -1;
		}
		spec->first_port = lo;
		spec->last_port = lo;
		return 0;
	}
	if ((size_t)(dash - text) >= sizeof(first)) {
		return -1;
	}
	memcpy(first, text, (size_t)(dash - text));
	first[dash - text] = '\0';
	if (parse_port(first, &lo) != 0 || parse_port(dash + 1, &hi) != 0 || lo > hi) {
		return -1;
	}
	spec->first_port = lo;
	spec->last_port = hi;
	return 0;
}

/* Parses the "HOST:PORTS" part of a SPEC into spec; returns 0 or -1. */
static int parse_host_ports(const char *text, struct hold_spec *spec)
{
	char probe[max_arg_len + 2];
	const char *sep;
	int n;

	if (text[0] == '[') {
		sep = strchr(text, ']');
		if (sep == NULL || sep[1] != ':') {
			return -1;
		}
		sep++;
	} else {
		sep = strrchr(text, ':');
		if (sep == NULL) {
			return -1;
		}
	}
	/* lab_listen.h parses the host; it wants a port 1..65535, so it is
	 * given port 1 and the real ports are set per listener. */
	n = snprintf(probe, sizeof(probe), "%.*s:1", (int)(sep - text), text);
	if (n < 0 || (size_t)n >= sizeof(probe) || parse_listen_addr(probe, &spec->addr) != 0) {
		return -1;
	}
	return parse_ports(sep + 1, spec);
}

/* Applies one "/option" of a SPEC; returns 0, or -1 with *why set. */
static int parse_option(const char *opt, struct hold_spec *spec, const char **why)
{
	unsigned long value;

	if (strncmp(opt, "backlog=", 8) == 0) {
		*why = "backlog= wants 0..1048576";
		if (parse_count(opt + 8, max_backlog, &value) != 0) {
			return -1;
		}
		spec->backlog = (int)value;
	} else if (strncmp(opt, "clients=", 8) == 0) {
		*why = "clients= wants 0..65536";
		if (parse_count(opt + 8, max_clients, &value) != 0) {
			return -1;
		}
		spec->clients = (unsigned)value;
	} else if (strncmp(opt, "dev=", 4) == 0) {
		size_t len = strlen(opt + 4);

		*why = "dev= wants an interface name of 1..15 bytes";
		if (len == 0 || len >= sizeof(spec->dev)) {
			return -1;
		}
		memcpy(spec->dev, opt + 4, len + 1);
	} else if (strcmp(opt, "reuseport") == 0) {
		spec->reuseport = 1;
	} else if (strcmp(opt, "dual") == 0) {
		spec->dual = 1;
	} else {
		*why = "unknown option (want backlog=N, reuseport, dual, dev=IFNAME or clients=N)";
		return -1;
	}
	return 0;
}

/* Parses one SPEC (borrowed; kept in spec->text) with clients as the default
 * clients=; returns 0, or -1 after printing one line naming it. */
static int parse_spec(const char *text, unsigned clients, struct hold_spec *spec)
{
	char buf[max_arg_len];
	const char *why = "bad address (want A.B.C.D:PORT[-PORT] or [IPV6]:PORT[-PORT])";
	char *opt;
	size_t len = strlen(text);

	memset(spec, 0, sizeof(*spec));
	spec->text = text;
	spec->backlog = listen_backlog;
	spec->clients = clients;
	if (len >= sizeof(buf)) {
		why = "too long";
		goto fail;
	}
	memcpy(buf, text, len + 1);
	/* neither an IPv4 nor an IPv6 address holds a '/': the first one ends ADDR:PORT */
	opt = strchr(buf, '/');
	if (opt != NULL) {
		*opt++ = '\0';
	}
	if (parse_host_ports(buf, spec) != 0) {
		goto fail;
	}
	while (opt != NULL) {
		char *next = strchr(opt, '/');

		if (next != NULL) {
			*next++ = '\0';
		}
		if (parse_option(opt, spec, &why) != 0) {
			goto fail;
		}
		opt = next;
	}
	if (spec->dual && spec->addr.family != AF_INET6) {
		why = "dual wants an IPv6 address";
		goto fail;
	}
	return 0;

fail:
	fprintf(stderr, "pp_hold: %s: %s: %s\n", text, why, strerror(EINVAL));
	return -1;
}

/* Prints the one-line setup failure for h's SPEC (with the port of a range) and
 * the step that failed, using errno. */
static void report(const struct held *h, unsigned port, const char *step)
{
	int saved = errno;

	if (h->spec->first_port != h->spec->last_port) {
		fprintf(stderr, "pp_hold: %s (port %u): %s: %s\n", h->spec->text, port, step,
			strerror(saved));
	} else {
		fprintf(stderr, "pp_hold: %s: %s: %s\n", h->spec->text, step, strerror(saved));
	}
}

/* Opens h's listener on port of h->spec and fills h; returns 0, or -1 after
 * printing why (the descriptor is closed). */
static int hold_listen(struct held *h, unsigned port)
{
	const struct hold_spec *spec = h->spec;
	struct listen_addr addr = spec->addr;
	socklen_t len = sizeof(h->ss);
	int one = 1;
	int v6only = !spec->dual;
	struct stat st;
	const char *step = "socket";

	if (addr.family == AF_INET6) {
		((struct sockaddr_in6 *)&addr.ss)->sin6_port = htons((in_port_t)port);
	} else {
		((struct sockaddr_in *)&addr.ss)->sin_port = htons((in_port_t)port);
	}
	h->fd = socket(addr.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (h->fd < 0) {
		goto fail;
	}
	step = "setsockopt(SO_REUSEADDR)";
	if (setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) {
		goto fail;
	}
	step = "setsockopt(SO_REUSEPORT)";
	if (spec->reuseport &&
	    setsockopt(h->fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
		goto fail;
	}
	step = "setsockopt(IPV6_V6ONLY)";
	if (addr.family == AF_INET6 &&
	    setsockopt(h->fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) != 0) {
		goto fail;
	}
	step = "setsockopt(SO_BINDTODEVICE)";
	if (spec->dev[0] != '\0' && setsockopt(h->fd, SOL_SOCKET, SO_BINDTODEVICE, spec->dev,
					       (socklen_t)strlen(spec->dev)) != 0) {
		goto fail;
	}
	step = "bind";
	if (bind(h->fd, (const struct sockaddr *)&addr.ss, addr.len) != 0) {
		goto fail;
	}
	step = "listen";
	if (listen(h->fd, spec->backlog) != 0) {
		goto fail;
	}
	step = "getsockname";
	if (getsockname(h->fd, (struct sockaddr *)&h->ss, &len) != 0) {
		goto fail;
	}
	step = "fstat";
	if (fstat(h->fd, &st) != 0) {
		goto fail;
	}
	h->inode = st.st_ino;
	return 0;

fail:
	report(h, port, step);
	if (h->fd >= 0) {
		close(h->fd);
		h->fd = -1;
	}
	return -1;
}

/* The listener's port in host order. */
static unsigned held_port(const struct held *h)
{
	if (h->ss.ss_family == AF_INET6) {
		return ntohs(((const struct sockaddr_in6 *)&h->ss)->sin6_port);
	}
	return ntohs(((const struct sockaddr_in *)&h->ss)->sin_port);
}

/* Milliseconds of CLOCK_MONOTONIC. */
static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Opens one connection to h's listener (its own address, loopback for a
 * wildcard) and leaves it open; returns 0, or -1 after printing why. */
static int hold_client(const struct held *h)
{
	struct sockaddr_storage to = h->ss;
	socklen_t len = sizeof(struct sockaddr_in);
	struct pollfd pfd;
	int err = 0;
	socklen_t errlen = sizeof(err);
	int fd;
	const char *step = "client socket";

	if (to.ss_family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&to;

		if (IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr)) {
			sin6->sin6_addr = in6addr_loopback;
		}
		len = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&to;

		if (sin->sin_addr.s_addr == htonl(INADDR_ANY)) {
			sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		}
	}
	/* non-blocking: a full accept queue drops the SYN, and a blocking
	 * connect() would then retry for two minutes */
	fd = socket(to.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		goto fail;
	}
	step = "client connect";
	if (connect(fd, (const struct sockaddr *)&to, len) != 0) {
		if (errno != EINPROGRESS) {
			goto fail;
		}
		pfd.fd = fd;
		pfd.events = POLLOUT;
		pfd.revents = 0;
		if (poll(&pfd, 1, connect_timeout_ms) == 0) {
			errno = ETIMEDOUT;
			goto fail;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errlen) != 0) {
			goto fail;
		}
		if (err != 0) {
			errno = err;
			goto fail;
		}
	}
	return 0; /* the descriptor stays open until exit: that is the point */

fail:
	report(h, held_port(h), step);
	if (fd >= 0) {
		close(fd);
	}
	return -1;
}

/* Reads the accept queue of every listener and adds it to have[its port];
 * returns 0, or -1 after printing why. */
static int count_queues(const struct held *held, size_t n, unsigned long *have)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct tcp_info info;
		socklen_t len = sizeof(info);

		memset(&info, 0, sizeof(info));
		/* for a listener, tcpi_unacked is the accept queue (tcp_get_info) */
		if (getsockopt(held[i].fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) {
			report(&held[i], held_port(&held[i]), "getsockopt(TCP_INFO)");
			return -1;
		}
		have[held_port(&held[i])] += info.tcpi_unacked;
	}
	return 0;
}

/* Waits until, for every port, the accept queues of the listeners on it hold
 * as many connections as their clients= asked for (a SO_REUSEPORT group's
 * connections are spread over its members by the kernel, so only the port's
 * total is known); returns 0, or -1 after printing one line naming a SPEC. */
static int wait_queues(const struct held *held, size_t n)
{
	enum { nports = 65536 };
	long long deadline = now_ms() + queue_timeout_ms;
	unsigned long *want = calloc(nports, sizeof(*want));
	unsigned long *have = calloc(nports, sizeof(*have));
	const struct held *bad = NULL;
	unsigned long total = 0;
	size_t i;
	int rc = -1;

	if (want == NULL || have == NULL) {
		fprintf(stderr, "pp_hold: out of memory\n");
		goto out;
	}
	for (i = 0; i < n; i++) {
		want[held_port(&held[i])] += held[i].spec->clients;
		total += held[i].spec->clients;
	}
	while (total > 0) {
		memset(have, 0, nports * sizeof(*have));
		if (count_queues(held, n, have) != 0) {
			goto out;
		}
		bad = NULL;
		for (i = 0; i < n && bad == NULL; i++) {
			unsigned port = held_port(&held[i]);

			if (want[port] != have[port]) {
				bad = &held[i];
			}
		}
		if (bad == NULL) {
			break;
		}
		if (now_ms() > deadline) {
			unsigned port = held_port(bad);

			fprintf(stderr,
				"pp_hold: %s: accept queues of port %u hold %lu connections, "
				"expected %lu\n",
				bad->spec->text, port, have[port], want[port]);
			goto out;
		}
		nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
	}
	rc = 0;
out:
	free(want);
	free(have);
	return rc;
}

/* Formats the ready text for the holders pids[0..npids) and the n sockets into
 * a malloc'ed string (caller frees) with its length in *ret_len; NULL when out of memory. */
static char *ready_text(const pid_t *pids, int npids, const struct held *held, size_t n,
			size_t *ret_len)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	size_t i;
	int k;

	if (f == NULL) {
		return NULL;
	}
	fputs("ready\n", f);
	for (k = 0; k < npids; k++) {
		fprintf(f, "pid %ld\n", (long)pids[k]);
	}
	for (i = 0; i < n; i++) {
		char addr[INET6_ADDRSTRLEN];
		const void *a = &((const struct sockaddr_in *)&held[i].ss)->sin_addr;
		int v6 = held[i].ss.ss_family == AF_INET6;

		if (v6) {
			a = &((const struct sockaddr_in6 *)&held[i].ss)->sin6_addr;
		}
		if (inet_ntop(held[i].ss.ss_family, a, addr, sizeof(addr)) == NULL) {
			fclose(f);
			free(text);
			return NULL;
		}
		fprintf(f, "sock %s %s %u %llu\n", v6 ? "inet6" : "inet", addr, held_port(&held[i]),
			(unsigned long long)held[i].inode);
	}
	if (ferror(f) != 0 || fclose(f) != 0) {
		free(text);
		return NULL;
	}
	*ret_len = len;
	return text;
}

/* In the child of --fork: die with the parent; returns 0, or -1 when it is already gone. */
static int child_setup(pid_t parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent) {
		return -1;
	}
	return 0;
}

/* Stops child (if any) by its PID and reaps it. */
static void stop_child(pid_t child)
{
	if (child <= 0) {
		return;
	}
	/* until waitpid() reaps it the PID cannot be reused, so this hits our child */
	kill(child, SIGTERM);
	while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {
	}
}

/* Raises the soft RLIMIT_NOFILE to the hard limit; failing that, the limit
 * stays and an EMFILE names the SPEC that hit it. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Entry point: parse, listen, connect the clients, fork, announce, hold until stopped. */
int main(int argc, char **argv)
{
	const char *ready_file = NULL;
	struct hold_spec *specs = NULL;
	struct held *held = NULL;
	unsigned long clients = 0;
	size_t nspecs = 0;
	size_t nheld = 0;
	size_t total = 0;
	size_t i;
	sigset_t wait_mask;
	pid_t pids[2];
	int npids = 1;
	int do_fork = 0;
	const char **args = NULL;
	int rc = 1;
	char *text = NULL;
	size_t text_len = 0;

	args = calloc((size_t)argc, sizeof(*args));
	if (args == NULL) {
		fprintf(stderr, "pp_hold: out of memory\n");
		return 1;
	}
	/* options may stand anywhere: no SPEC starts with '-' */
	for (i = 1; i < (size_t)argc; i++) {
		const char *opt = argv[i];

		if (strcmp(opt, "-h") == 0 || strcmp(opt, "--help") == 0) {
			usage(stdout);
			free(args);
			return 0;
		}
		if (opt[0] != '-') {
			args[nspecs++] = opt;
		} else if (strcmp(opt, "--fork") == 0) {
			do_fork = 1;
		} else if (strcmp(opt, "--ready-file") == 0 && i + 1 < (size_t)argc) {
			ready_file = argv[++i];
		} else if (strcmp(opt, "--clients") == 0 && i + 1 < (size_t)argc) {
			if (parse_count(argv[++i], max_clients, &clients) != 0) {
				fprintf(stderr, "pp_hold: --clients %s: want 0..65536: %s\n",
					argv[i], strerror(EINVAL));
				free(args);
				return 1;
			}
		} else {
			usage(stderr);
			free(args);
			return 2;
		}
	}
	if (nspecs == 0) {
		usage(stderr);
		free(args);
		return 2;
	}
	raise_nofile();
	if (block_stop_signals(on_stop_signal, &wait_mask) != 0) {
		fprintf(stderr, "pp_hold: signals: %s\n", strerror(errno));
		goto out;
	}

	specs = calloc(nspecs, sizeof(*specs));
	if (specs == NULL) {
		fprintf(stderr, "pp_hold: out of memory\n");
		goto out;
	}
	for (i = 0; i < nspecs; i++) {
		if (parse_spec(args[i], (unsigned)clients, &specs[i]) != 0) {
			goto out;
		}
		total += specs[i].last_port - specs[i].first_port + 1;
	}
	held = calloc(total, sizeof(*held));
	if (held == NULL) {
		fprintf(stderr, "pp_hold: out of memory\n");
		goto out;
	}
	for (i = 0; i < nspecs; i++) {
		unsigned port;

		for (port = specs[i].first_port; port <= specs[i].last_port; port++) {
			held[nheld].spec = &specs[i];
			if (hold_listen(&held[nheld], port) != 0) {
				goto out;
			}
			nheld++;
		}
	}
	/* every socket listens before the first client connects */
	for (i = 0; i < nheld; i++) {
		unsigned c;

		for (c = 0; c < held[i].spec->clients; c++) {
			if (hold_client(&held[i]) != 0) {
				goto out;
			}
		}
	}
	if (wait_queues(held, nheld) != 0) {
		goto out;
	}

	pids[0] = getpid();
	if (do_fork) {
		fflush(NULL);
		pids[1] = fork();
		if (pids[1] < 0) {
			fprintf(stderr, "pp_hold: fork: %s\n", strerror(errno));
			goto out;
		}
		if (pids[1] == 0) {
			if (child_setup(pids[0]) != 0) {
				_exit(0);
			}
			while (!stop_requested) {
				ppoll(NULL, 0, NULL, &wait_mask);
			}
			_exit(0);
		}
		npids = 2;
	}

	text = ready_text(pids, npids, held, nheld, &text_len);
	if (text == NULL) {
		fprintf(stderr, "pp_hold: ready text: out of memory\n");
		goto out_child;
	}
	if (ready_file != NULL) {
		if (write_ready_text("pp_hold", ready_file, text, text_len) != 0) {
			goto out_child;
		}
	} else if (fwrite(text, 1, text_len, stdout) != text_len || fflush(stdout) != 0) {
		fprintf(stderr, "pp_hold: stdout: %s\n", strerror(errno));
		goto out_child;
	}

	/* nothing to poll: the sockets are held, never served */
	while (!stop_requested) {
		if (ppoll(NULL, 0, NULL, &wait_mask) < 0 && errno != EINTR) {
			fprintf(stderr, "pp_hold: ppoll: %s\n", strerror(errno));
			goto out_child;
		}
	}
	rc = 0;

out_child:
	if (npids == 2) {
		stop_child(pids[1]);
	}
out:
	for (i = 0; i < nheld; i++) {
		close(held[i].fd);
	}
	free(text);
	free(held);
	free(specs);
	free(args);
	return rc;
}
