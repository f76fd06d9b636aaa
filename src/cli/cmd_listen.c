/* cmd_listen.c: `portprobe listen`: this host's listening TCP sockets.
 *
 * Options are checked before anything is read, so bad input gets one line
 * and exit 2 with nothing on stdout. A listing is collected whole, filtered
 * and written at once. --watch polls: the first snapshot is written as
 * "present" events, then every poll writes the sockets that appeared or went,
 * keyed on the socket cookie (the inode when reading procfs, which has no
 * cookie), one line each, flushed per poll. -N enters a named network
 * namespace (ip netns's /run/netns/NAME, or a path such as
 * /proc/PID/ns/net) before anything is read; /proc stays the host's, so the
 * owner scan still sees every process. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "portprobe/listen.h"
#include "portprobe/output.h"
#include "portprobe/parse.h"
#include "portprobe/ports.h"

static const char listen_usage[] =
    "Usage: portprobe listen [OPTIONS]\n"
    "\n"
    "This host's listening TCP sockets, read from the kernel (sock_diag, as ss does):\n"
    "address and port, accept queue and backlog, exposure, socket user, inode and\n"
    "cookie, SO_REUSEPORT groups, and with -p every process holding each socket.\n"
    "\n"
    "Options:\n"
    "  -p, --processes        find the processes holding each socket (pid, name,\n"
    "                         command line, fd); other users' processes need root\n"
    "                         or CAP_DAC_READ_SEARCH+CAP_SYS_PTRACE, else the owner\n"
    "                         reads \"unknown (no permission)\"\n"
    "  -n, --numeric          no service names\n"
    "  -4, -6                 IPv4 / IPv6 sockets only (a dual-stack [::] socket is IPv6)\n"
    "      --port PORTS       only these local ports (\"22,80,8000-8100\")\n"
    "      --process NAME|PID only sockets held by this process name or pid (implies -p)\n"
    "      --exposed          only sockets reachable from other hosts (not loopback)\n"
    "  -N, --netns NAME       look inside the network namespace NAME (/run/netns/NAME,\n"
    "                         as ip netns names it) or at a path (/proc/PID/ns/net)\n"
    "  -w, --watch [SECONDS]  keep polling (default every 2 s) and print each socket\n"
    "                         that appears or goes; the first poll prints \"present\"\n"
    "  -o, --output FORMAT    text (default), json, csv, or prometheus\n"
    "      --procfs           read /proc/net/tcp and tcp6 instead of sock_diag (no\n"
    "                         backlog, cookie, cgroup or dual-stack mark)\n"
    "      --proc-root DIR    read DIR instead of /proc (for net/tcp, PID/fd)\n"
    "      --dump-file FILE   read a recorded sock_diag dump (ss -D FILE makes one)\n"
    "      --record FILE      also save the live sock_diag dump to FILE (ss -D format)\n"
    "      --cgroup-root DIR  the cgroup2 mount (default /sys/fs/cgroup)\n"
    "  -h, --help             this help\n"
    "\n"
    "Columns (text): PROTO is tcp, tcp6, or tcp46 for a dual-stack [::] socket that\n"
    "takes IPv4 too; QUEUE is accept queue/backlog (\"?\" when unknown), one pair per\n"
    "member of a SO_REUSEPORT group; EXPOSURE is loopback, any (0.0.0.0 or ::) or\n"
    "specific; UNIT is the systemd unit or container named by the socket's cgroup.\n"
    "If sock_diag is unavailable the sockets are read from /proc/net/tcp{,6} and a\n"
    "note on stderr says the backlog is unknown.\n"
    "\n"
    "Exit codes: 0 listed, 1 --port/--process/--exposed matched no socket, 2 usage\n"
    "error (including an unreadable or malformed --dump-file or --proc-root file),\n"
    "3 environment error (no such namespace, no permission, kernel refused);\n"
    "--watch ends with 130/143 on SIGINT/SIGTERM.\n"
    "\n"
    "Examples:\n"
    "  portprobe listen -p\n"
    "  portprobe listen -p --exposed -o json\n"
    "  portprobe listen --port 5432 -p || echo 'postgres is not listening'\n"
    "  portprobe listen -N blue -o prometheus\n"
    "  portprobe listen -p --watch 5\n";

enum listen_output { OUT_TEXT, OUT_JSON, OUT_CSV, OUT_PROMETHEUS };

enum {
	OPT_PORT = 1000,
	OPT_PROCESS,
	OPT_EXPOSED,
	OPT_PROCFS,
	OPT_PROC_ROOT,
	OPT_DUMP_FILE,
	OPT_RECORD,
	OPT_CGROUP_ROOT,
};

static const struct option listen_options[] = {
    {"processes", no_argument, NULL, 'p'},
    {"numeric", no_argument, NULL, 'n'},
    {"port", required_argument, NULL, OPT_PORT},
    {"process", required_argument, NULL, OPT_PROCESS},
    {"exposed", no_argument, NULL, OPT_EXPOSED},
    {"netns", required_argument, NULL, 'N'},
    {"watch", optional_argument, NULL, 'w'},
    {"output", required_argument, NULL, 'o'},
    {"procfs", no_argument, NULL, OPT_PROCFS},
    {"proc-root", required_argument, NULL, OPT_PROC_ROOT},
    {"dump-file", required_argument, NULL, OPT_DUMP_FILE},
    {"record", required_argument, NULL, OPT_RECORD},
    {"cgroup-root", required_argument, NULL, OPT_CGROUP_ROOT},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Everything the options decided. */
struct listen_cmd {
	struct pp_listen_opts opts;     /* what to read */
	struct pp_listen_filter filter; /* what to keep */
	struct pp_listen_out_opts out;  /* how to write */
	enum listen_output format;      /* -o */
	struct pp_ports ports;          /* --port, owned */
	const char *netns;              /* -N */
	int filtered;                   /* a filter was given */
	double watch;                   /* --watch interval, 0 = once */
};

/* Enters the network namespace name (a name under /run/netns, or a path). */
static void enter_netns(const char *name)
{
	char path[4096];
	int fd;

	if (strchr(name, '/'))
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			cli_usage_error("network namespace '%s' does not exist (%s)", name, path);
		cli_fatal("network namespace '%s': %s: %s", name, path, strerror(errno));
	}
	if (setns(fd, CLONE_NEWNET) < 0)
		cli_fatal("cannot enter network namespace '%s': %s%s", name, strerror(errno),
			  errno == EPERM ? " (needs CAP_SYS_ADMIN)" : "");
	close(fd);
}

/* Exits 2 naming a file option that cannot be read. */
static void check_readable(const char *opt, const char *path, int dir)
{
	if (access(path, R_OK | (dir ? X_OK : 0)) < 0)
		cli_usage_error("%s '%s': %s", opt, path, strerror(errno));
}

static void parse_args(int argc, char **argv, struct listen_cmd *cmd)
{
	const char *why;
	int c;

	memset(cmd, 0, sizeof(*cmd));
	cmd->opts.cgroups = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":pn46N:w::o:h", listen_options, NULL)) != -1) {
		switch (c) {
		case 'p':
			cmd->opts.owners = 1;
			cmd->out.processes = 1;
			break;
		case 'n':
			cmd->out.numeric = 1;
			break;
		case '4':
		case '6':
			if (cmd->opts.family)
				cli_usage_error("-4 and -6 exclude each other");
			cmd->opts.family = c == '4' ? AF_INET : AF_INET6;
			break;
		case OPT_PORT:
			pp_ports_free(&cmd->ports);
			if (pp_ports_parse(optarg, &cmd->ports, &why) < 0)
				cli_usage_error("--port '%s': %s", optarg, why);
			cmd->filter.ports = cmd->ports.port;
			cmd->filter.nports = cmd->ports.n;
			cmd->filtered = 1;
			break;
		case OPT_PROCESS:
			if (!optarg[0] || strlen(optarg) > 255)
				cli_usage_error("--process '%s': give a process name or pid",
						optarg);
			cmd->filter.process = optarg;
			cmd->opts.owners = 1;
			cmd->out.processes = 1;
			cmd->filtered = 1;
			break;
		case OPT_EXPOSED:
			cmd->filter.exposed = 1;
			cmd->filtered = 1;
			break;
		case 'N':
			if (!optarg[0])
				cli_usage_error("-N: give a network namespace name");
			cmd->netns = optarg;
			cmd->out.netns = optarg;
			break;
		case 'w':
			/* "--watch 5" as well as "--watch=5" and "-w5". */
			if (!optarg && optind < argc && argv[optind][0] >= '0' &&
			    argv[optind][0] <= '9')
				optarg = argv[optind++];
			cmd->watch = optarg ? cli_opt_seconds("--watch", optarg, 0, 86400) : 2;
			if (cmd->watch < 0.1)
				cli_usage_error("--watch '%s' is below the 0.1 s minimum", optarg);
			break;
		case 'o':
			if (!strcmp(optarg, "text"))
				cmd->format = OUT_TEXT;
			else if (!strcmp(optarg, "json"))
				cmd->format = OUT_JSON;
			else if (!strcmp(optarg, "csv"))
				cmd->format = OUT_CSV;
			else if (!strcmp(optarg, "prometheus"))
				cmd->format = OUT_PROMETHEUS;
			else
				cli_usage_error("-o '%s': choose text, json, csv or prometheus",
						optarg);
			break;
		case OPT_PROCFS:
			cmd->opts.procfs = 1;
			break;
		case OPT_PROC_ROOT:
			check_readable("--proc-root", optarg, 1);
			cmd->opts.proc_root = optarg;
			break;
		case OPT_DUMP_FILE:
			check_readable("--dump-file", optarg, 0);
			cmd->opts.dump_file = optarg;
			break;
		case OPT_RECORD:
			cmd->opts.record_file = optarg;
			break;
		case OPT_CGROUP_ROOT:
			check_readable("--cgroup-root", optarg, 1);
			cmd->opts.cgroup_root = optarg;
			break;
		case 'h':
			fputs(listen_usage, stdout);
			exit(EXIT_OK);
		default:
			cli_option_error(c, argv, "listen");
		}
	}
	if (optind < argc)
		cli_usage_error("unexpected argument '%s' (see portprobe listen --help)",
				argv[optind]);
	if (cmd->opts.dump_file && (cmd->opts.procfs || cmd->opts.record_file))
		cli_usage_error("--dump-file excludes --procfs and --record");
	if (cmd->opts.procfs && cmd->opts.record_file)
		cli_usage_error("--record saves a sock_diag dump; it excludes --procfs");
	if (cmd->watch > 0 && cmd->format == OUT_PROMETHEUS)
		cli_usage_error("--watch writes events: choose -o text, json or csv");
	if (cmd->watch > 0 && cmd->opts.dump_file)
		cli_usage_error("--watch needs a live system, not --dump-file");
}

/* Collects one filtered snapshot, or exits: 2 for a bad replay input,
 * 3 for a live failure. */
static void snapshot(struct listen_cmd *cmd, struct pp_listen_set *set)
{
	static int noted;
	char err[512];
	int rc;

	pp_listen_set_init(set);
	rc = pp_listen_collect(set, &cmd->opts, err, sizeof(err));
	if (rc < 0) {
		pp_listen_set_release(set);
		if (cmd->opts.dump_file || cmd->opts.proc_root)
			cli_usage_error("%s", err);
		cli_fatal("%s", err);
	}
	if (set->source == PP_LISTEN_PROCFS && !cmd->opts.procfs && !noted) {
		fprintf(stderr,
			"%s: sock_diag is unavailable; read /proc/net/tcp{,6}: the backlog, "
			"cookie, cgroup and dual-stack mark are unknown\n",
			cli_progname);
		noted = 1;
	}
	pp_listen_filter(set, &cmd->filter);
}

/* The key a watch diff uses: the cookie, or the inode from procfs. */
static uint64_t watch_key(const struct pp_listener *l)
{
	return l->cookie ? l->cookie : l->inode;
}

static int key_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sorted keys of a set, malloc'd (NULL for an empty set). */
static uint64_t *set_keys(const struct pp_listen_set *set)
{
	uint64_t *k;

	if (!set->n)
		return NULL;
	if (!(k = malloc(set->n * sizeof(*k))))
		cli_fatal("out of memory");
	for (size_t i = 0; i < set->n; i++)
		k[i] = watch_key(&set->v[i]);
	qsort(k, set->n, sizeof(*k), key_cmp);
	return k;
}

static int has_key(const uint64_t *keys, size_t n, uint64_t key)
{
	return n && bsearch(&key, keys, n, sizeof(*keys), key_cmp) != NULL;
}

/* The watch stream's format for -o (prometheus was refused with --watch). */
static enum pp_listen_format event_format(const struct listen_cmd *cmd)
{
	return cmd->format == OUT_JSON  ? PP_LISTEN_JSON
	       : cmd->format == OUT_CSV ? PP_LISTEN_CSV
					: PP_LISTEN_TEXT;
}

/* Writes the events of set (event) for sockets whose key is not in keys. */
static void put_events(struct pp_buf *b, struct listen_cmd *cmd, const struct pp_listen_set *set,
		       const uint64_t *keys, size_t nkeys, const char *event)
{
	enum pp_listen_format f = event_format(cmd);
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	for (size_t i = 0; i < set->n; i++)
		if (!has_key(keys, nkeys, watch_key(&set->v[i])))
			pp_listen_write_event(b, f, event, &now, &set->v[i], &cmd->out);
}

/* Polls until SIGINT or SIGTERM; returns the exit code 130 or 143. */
static int watch(struct listen_cmd *cmd)
{
	enum pp_listen_format f = event_format(cmd);
	struct pp_listen_set old, cur;
	struct pp_buf b;
	sigset_t stop;
	uint64_t *old_keys;
	struct timespec wait = {(time_t)cmd->watch,
				(long)((cmd->watch - (double)(time_t)cmd->watch) * 1e9)};

	/* The signals are taken only by sigtimedwait, which is also the sleep, so
	 * one cannot slip in between a poll and the wait. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop, NULL);
	pp_buf_init(&b, (size_t)64 << 20);
	pp_listen_write_event_header(&b, f, &cmd->out);
	snapshot(cmd, &old);
	put_events(&b, cmd, &old, NULL, 0, "present");
	cli_emit(&b);
	old_keys = set_keys(&old);
	for (;;) {
		uint64_t *cur_keys;
		int sig = sigtimedwait(&stop, NULL, &wait);

		if (sig == SIGINT || sig == SIGTERM) {
			free(old_keys);
			pp_listen_set_release(&old);
			pp_buf_release(&b);
			return 128 + sig;
		}
		snapshot(cmd, &cur);
		cur_keys = set_keys(&cur);
		put_events(&b, cmd, &old, cur_keys, cur.n, "gone");
		put_events(&b, cmd, &cur, old_keys, old.n, "appeared");
		cli_emit(&b);
		free(old_keys);
		pp_listen_set_release(&old);
		old = cur;
		old_keys = cur_keys;
	}
}

int cmd_listen(int argc, char **argv)
{
	struct listen_cmd cmd;
	struct pp_listen_set set;
	struct pp_buf b;
	int rc = EXIT_OK;

	parse_args(argc, argv, &cmd);
	if (cmd.netns)
		enter_netns(cmd.netns);
	if (cmd.watch > 0) {
		rc = watch(&cmd);
		pp_ports_free(&cmd.ports);
		return rc;
	}
	snapshot(&cmd, &set);
	pp_buf_init(&b, (size_t)1 << 30);
	switch (cmd.format) {
	case OUT_TEXT:
		pp_listen_write_text(&b, &set, &cmd.out);
		break;
	case OUT_JSON:
		pp_listen_write_json(&b, &set, &cmd.out);
		break;
	case OUT_CSV:
		pp_listen_write_csv(&b, &set, &cmd.out);
		break;
	case OUT_PROMETHEUS:
		pp_listen_write_prometheus(&b, &set, &cmd.out);
		break;
	}
	cli_emit(&b);
	if (cmd.filtered && set.n == 0)
		rc = EXIT_FAILED;
	pp_buf_release(&b);
	pp_listen_set_release(&set);
	pp_ports_free(&cmd.ports);
	return rc;
}
