/* cmd_serve.c: `portprobe serve --config FILE`: the checks of a file on a
 * schedule, with history, alerts and an HTTP server (include/portprobe/serve.h).
 *
 * The command parses its options, builds the server (which validates the
 * file, opens the history and binds the port before anything runs, so every
 * setup error is one line and an exit code), then runs it until SIGTERM or
 * SIGINT. Log lines go to stderr, one per event, with a UTC timestamp and a
 * level. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>

#include "cli.h"
#include "portprobe/output.h"
#include "portprobe/parse.h"
#include "portprobe/serve.h"

static const char serve_usage[] =
    "Usage: portprobe serve --config FILE [OPTIONS]\n"
    "\n"
    "Runs the checks of a configuration file on a schedule, keeps their history in\n"
    "SQLite, alerts on state changes, and answers Prometheus over HTTP:\n"
    "  /metrics                      every unit's latest result (blackbox_exporter's\n"
    "                                probe_* names) and statistics, and the process's\n"
    "  /probe?target=HOST:PORT&module=NAME\n"
    "                                one probe now, as blackbox_exporter answers it;\n"
    "                                the target must be in server.probe_allowlist;\n"
    "                                &debug=true adds the probe's steps and module\n"
    "  /api/v1/checks                every unit's state, latest result and statistics\n"
    "  /api/v1/checks/NAME/history   results and state changes of a check or unit\n"
    "                                (?limit=N, default 100; ?since=UNIX_SECONDS)\n"
    "  /healthz                      200 ok while the server runs (no authentication)\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE     the configuration (docs/config.md); read again on SIGHUP\n"
    "  -l, --listen ADDR:PORT  overrides server.listen (default 127.0.0.1:9115;\n"
    "                        [::1]:9115, or :9115 for every address)\n"
    "      --db FILE         history database (overrides store.path, default\n"
    "                        portprobe.db)\n"
    "      --no-db           keep no history\n"
    "      --threads N       HTTP worker threads (default: the CPUs, at most 8)\n"
    "      --max-inflight N  scheduled units running at once (default 4096)\n"
    "  -q, --quiet           log errors and warnings only\n"
    "  -v, --verbose         log every failed /probe and skipped run too\n"
    "  -h, --help            this help\n"
    "\n"
    "Each unit runs every `interval` (default 60 s) at a fixed point of the interval\n"
    "taken from its name, so runs are spread evenly and keep their rhythm across\n"
    "restarts; a run may take at most 80% of the interval. A unit goes down after\n"
    "down_after failures in a row (3) and up after up_after successes (2); each\n"
    "change is one alert (alerts.webhook, alerts.command) and one history row.\n"
    "\n"
    "Signals: SIGHUP reloads the file (an invalid one is refused and the running one\n"
    "goes on; units keep their history and state by name); SIGTERM or SIGINT stop:\n"
    "runs in flight get 5 s, every result is committed, alerts are delivered.\n"
    "\n"
    "Exit codes: 0 stopped by a signal, 2 usage error or invalid configuration,\n"
    "3 environment error (the port is taken, the database cannot be opened).\n"
    "\n"
    "Examples:\n"
    "  portprobe serve --config examples/serve.yaml\n"
    "  portprobe serve -c checks.yaml --listen :9115 --db /var/lib/portprobe/history.db\n"
    "  curl 'http://127.0.0.1:9115/probe?target=127.0.0.1:22&module=tcp_connect'\n";

static enum pp_log_level log_max = PP_LOG_INFO;

static void on_log(void *data, enum pp_log_level level, const char *msg)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	struct timespec ts;
	char t[40];

	(void)data;
	if (level > log_max)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(stderr, "%s %s %s\n", pp_iso8601(&ts, t, sizeof(t)), names[level], msg);
	fflush(stderr);
}

int cmd_serve(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"listen", required_argument, NULL, 'l'},
	    {"db", required_argument, NULL, 'D'},
	    {"no-db", no_argument, NULL, 'N'},
	    {"threads", required_argument, NULL, 'T'},
	    {"max-inflight", required_argument, NULL, 'M'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct pp_serve_opts o;
	struct pp_serve *s = NULL;
	char err[1200];
	const char *why = NULL;
	int c, rc;

	pp_serve_opts_init(&o);
	while ((c = getopt_long(argc, argv, ":c:l:qvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o.config_path = optarg;
			break;
		case 'l':
			o.listen = optarg;
			break;
		case 'D':
			o.db_path = optarg;
			break;
		case 'N':
			o.no_db = true;
			break;
		case 'T':
			if (pp_parse_uint(optarg, 1, 64, &o.threads, &why) < 0)
				cli_usage_error("--threads \"%s\" %s", optarg, why);
			break;
		case 'M':
			if (pp_parse_uint(optarg, 1, 1000000, &o.max_inflight, &why) < 0)
				cli_usage_error("--max-inflight \"%s\" %s", optarg, why);
			break;
		case 'q':
			log_max = PP_LOG_WARNING;
			break;
		case 'v':
			log_max = PP_LOG_DEBUG;
			break;
		case 'h':
			fputs(serve_usage, stdout);
			return EXIT_OK;
		default:
			cli_option_error(c, argv, "serve");
		}
	}
	if (optind < argc && !o.config_path)
		o.config_path = argv[optind++];
	if (optind < argc)
		cli_usage_error("serve: unexpected argument \"%s\" (see portprobe serve --help)",
				argv[optind]);
	if (!o.config_path)
		cli_usage_error("serve: --config FILE is required (see portprobe serve --help)");
	if (o.no_db && o.db_path)
		cli_usage_error("serve: --db and --no-db contradict each other");
	o.log = on_log;
	signal(SIGPIPE, SIG_IGN);
	err[0] = 0;
	if ((rc = pp_serve_new(&o, &s, err, sizeof(err))) < 0) {
		if (rc == -EINVAL || rc == -EFBIG)
			cli_usage_error("%s", err[0] ? err : strerror(-rc));
		cli_fatal("%s", err[0] ? err : strerror(-rc));
	}
	rc = pp_serve_run(s);
	pp_serve_free(s);
	if (rc < 0)
		return EXIT_ENV;
	return EXIT_OK;
}
