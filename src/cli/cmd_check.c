/* cmd_check.c: `portprobe check HOST PORT`: options, output, exit codes.
 *
 * Everything the user typed is validated before anything is sent, so bad
 * input gets one line and exit 2 with nothing written to stdout. Results are
 * written the moment they are known; with --all-addresses -o json they form
 * one array that is closed even when the run is interrupted. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "portprobe/portprobe.h"

static const char check_usage[] =
    "Usage: portprobe check [OPTIONS] HOST PORT\n"
    "       portprobe check [OPTIONS] -H HOST -p PORT\n"
    "\n"
    "Tests one TCP connection and says exactly why it failed: the check_tcp_connection\n"
    "plugin, nc -z, telnet and bash /dev/tcp in one, with nmap's state and reason.\n"
    "\n"
    "Options:\n"
    "  -t, --timeout SECONDS      time allowed per attempt, name lookup included\n"
    "                             (default 10; fractions allowed)\n"
    "  -a, --attempts N           attempts before giving up; stops at the first success\n"
    "                             (default 1)\n"
    "  -d, --retry-delay SECONDS  pause between attempts (default 1)\n"
    "      --source-port PORT     connect from this local port\n"
    "      --source-address ADDR  connect from this local address\n"
    "  -4, -6                     use IPv4 / IPv6 addresses only\n"
    "      --all-addresses        test every resolved address, one result each\n"
    "      --dns-server ADDR[:PORT][,...]\n"
    "                             resolve with these servers instead of resolv.conf\n"
    "  -o, --output FORMAT        text (default), json, or nagios\n"
    "  -w, --warning SECONDS      nagios: WARNING above this response time\n"
    "  -c, --critical SECONDS     nagios: CRITICAL above this response time\n"
    "  -q, --quiet                print nothing; the exit code tells\n"
    "  -H, --host HOST            the host, instead of the first argument\n"
    "  -p, --port PORT            the port, instead of the second argument\n"
    "  -h, --help                 this help\n"
    "\n"
    "Errors (JSON \"error\"): Connection refused, Connection timeout, Host not found,\n"
    "Temporary DNS failure, Network unreachable, No route to host, Permission denied,\n"
    "Port in use, Address not available, Local resource exhausted.\n"
    "\n"
    "Exit codes: 0 connected, 1 not connected, 2 usage error, 3 environment error\n"
    "(this host could not run the check: source port in use, source address not\n"
    "local, resources exhausted); 130/143 interrupted by SIGINT/SIGTERM.\n"
    "With -o nagios: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.\n"
    "\n"
    "Examples:\n"
    "  portprobe check example.com 443\n"
    "  portprobe check -o json -t 5 -a 3 -d 2 db.internal 5432\n"
    "  portprobe check -o nagios -w 0.5 -c 1 -H mail.example.com -p 25\n"
    "  portprobe check --all-addresses -o json localhost 22\n";

enum output_format { OUT_TEXT, OUT_JSON, OUT_NAGIOS };

struct check_run {
	enum output_format format;
	bool quiet;
	bool array;     /* json with --all-addresses: one array */
	size_t emitted; /* results written */
	struct pp_buf out;
	struct pp_check_result *results; /* kept for nagios and the exit code */
	size_t nresults;
	size_t cap;
	int interrupted; /* the signal that stopped the run */
	struct pp_loop *loop;
};

enum {
	OPT_SOURCE_PORT = 1000,
	OPT_SOURCE_ADDRESS,
	OPT_ALL_ADDRESSES,
	OPT_DNS_SERVER,
};

static const struct option check_options[] = {
    {"timeout", required_argument, NULL, 't'},
    {"attempts", required_argument, NULL, 'a'},
    {"retry-delay", required_argument, NULL, 'd'},
    {"source-port", required_argument, NULL, OPT_SOURCE_PORT},
    {"source-address", required_argument, NULL, OPT_SOURCE_ADDRESS},
    {"all-addresses", no_argument, NULL, OPT_ALL_ADDRESSES},
    {"dns-server", required_argument, NULL, OPT_DNS_SERVER},
    {"output", required_argument, NULL, 'o'},
    {"warning", required_argument, NULL, 'w'},
    {"critical", required_argument, NULL, 'c'},
    {"quiet", no_argument, NULL, 'q'},
    {"host", required_argument, NULL, 'H'},
    {"port", required_argument, NULL, 'p'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* The exit code of one result: 0 connected, 3 for this host's failures, else 1. */
static int result_exit(const struct pp_check_result *r)
{
	if (r->connected)
		return EXIT_OK;
	return pp_check_result_is_local(r) ? EXIT_ENV : EXIT_FAILED;
}

static void on_result(void *data, const struct pp_check_result *r)
{
	struct check_run *run = data;

	if (run->nresults == run->cap) {
		size_t cap = run->cap ? run->cap * 2 : 4;
		struct pp_check_result *p = realloc(run->results, cap * sizeof(*p));

		if (!p)
			cli_fatal("out of memory");
		run->results = p;
		run->cap = cap;
	}
	run->results[run->nresults++] = *r;
	if (run->quiet || run->format == OUT_NAGIOS)
		return; /* nagios needs every result for its one line */
	if (run->format == OUT_JSON) {
		if (run->array)
			pp_buf_puts(&run->out, run->emitted ? ",\n  " : "[\n  ");
		pp_check_write_json(&run->out, r);
		if (!run->array)
			pp_buf_puts(&run->out, "\n");
	} else {
		pp_check_write_text(&run->out, r);
	}
	run->emitted++;
	cli_emit(&run->out);
}

static void on_done(void *data)
{
	struct check_run *run = data;

	pp_loop_stop(run->loop);
}

static void on_signal(struct pp_loop *loop, int signo, void *data)
{
	struct check_run *run = data;

	run->interrupted = signo;
	pp_loop_stop(loop);
}

/* Parses a seconds option or exits 2 naming it. */
static uint16_t opt_port(const char *name, const char *arg)
{
	const char *why;
	uint16_t v;

	if (pp_parse_port(arg, 0, &v, &why) < 0)
		cli_usage_error("%s '%s' %s", name, arg, why);
	return v;
}

int cmd_check(int argc, char **argv)
{
	struct pp_check_opts opts;
	struct pp_nagios_opts nagios = {.warning = -1, .critical = -1};
	struct check_run run;
	const char *host = NULL, *port_arg = NULL, *why;
	struct pp_check *check = NULL;
	int c, r, want4 = 0, want6 = 0, code = EXIT_OK;

	memset(&run, 0, sizeof(run));
	pp_buf_init(&run.out, 1 << 20);
	pp_check_opts_init(&opts);
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":t:a:d:46o:w:c:qH:p:h", check_options, NULL)) != -1) {
		switch (c) {
		case 't':
			opts.timeout = cli_opt_seconds("--timeout", optarg, 0, 86400);
			break;
		case 'a':
			if (pp_parse_uint(optarg, 1, 1000, &opts.attempts, &why) < 0)
				cli_usage_error("--attempts '%s' %s (expected 1..1000)", optarg,
						why);
			break;
		case 'd':
			opts.retry_delay = cli_opt_seconds("--retry-delay", optarg, 1, 86400);
			break;
		case OPT_SOURCE_PORT:
			opts.source_port = opt_port("--source-port", optarg);
			break;
		case OPT_SOURCE_ADDRESS:
			if (pp_parse_ip(optarg, 0, &opts.source, &why) < 0)
				cli_usage_error("--source-address '%s' %s", optarg, why);
			break;
		case '4':
			want4 = 1;
			break;
		case '6':
			want6 = 1;
			break;
		case OPT_ALL_ADDRESSES:
			opts.all_addresses = true;
			break;
		case OPT_DNS_SERVER:
			opts.dns_servers = cli_opt_dns_servers(optarg);
			break;
		case 'o':
			if (!strcmp(optarg, "text"))
				run.format = OUT_TEXT;
			else if (!strcmp(optarg, "json"))
				run.format = OUT_JSON;
			else if (!strcmp(optarg, "nagios"))
				run.format = OUT_NAGIOS;
			else
				cli_usage_error(
				    "--output '%s' is not a format (expected text, json or nagios)",
				    optarg);
			break;
		case 'w':
			nagios.warning = cli_opt_seconds("--warning", optarg, 1, 86400);
			break;
		case 'c':
			nagios.critical = cli_opt_seconds("--critical", optarg, 1, 86400);
			break;
		case 'q':
			run.quiet = true;
			break;
		case 'H':
			host = optarg;
			break;
		case 'p':
			port_arg = optarg;
			break;
		case 'h':
			fputs(check_usage, stdout);
			return EXIT_OK;
		default:
			cli_option_error(c, argv, "check");
		}
	}
	if (!host && optind < argc)
		host = argv[optind++];
	if (!port_arg && optind < argc)
		port_arg = argv[optind++];
	if (optind < argc)
		cli_usage_error("unexpected argument '%s' (usage: portprobe check HOST PORT)",
				argv[optind]);
	if (!host || !port_arg)
		cli_usage_error("missing %s (usage: portprobe check HOST PORT)",
				host ? "PORT" : "HOST and PORT");
	if (pp_parse_host(host, &why) < 0)
		cli_usage_error("host '%s' %s", host, why);
	opts.host = host;
	opts.port = opt_port("port", port_arg);
	if (want4 && want6)
		cli_usage_error("-4 and -6 exclude each other");
	opts.family = want4 ? AF_INET : want6 ? AF_INET6 : AF_UNSPEC;
	{
		struct pp_addr lit;
		int src_family = pp_addr_family(&opts.source);

		if (src_family != AF_UNSPEC && opts.family != AF_UNSPEC &&
		    src_family != opts.family)
			cli_usage_error("--source-address is IPv%d but %s was given",
					src_family == AF_INET ? 4 : 6, want4 ? "-4" : "-6");
		if (pp_parse_ip(host, 0, &lit, &why) == 0) {
			int fam = pp_addr_family(&lit);

			if (opts.family != AF_UNSPEC && fam != opts.family)
				cli_usage_error("host '%s' is an IPv%d address but %s was given",
						host, fam == AF_INET ? 4 : 6, want4 ? "-4" : "-6");
			if (src_family != AF_UNSPEC && fam != src_family)
				cli_usage_error(
				    "host '%s' is an IPv%d address but --source-address is IPv%d",
				    host, fam == AF_INET ? 4 : 6, src_family == AF_INET ? 4 : 6);
		}
	}
	/* the perfdata maximum: a failure reports the time of every attempt */
	nagios.timeout = opts.timeout * opts.attempts;
	run.array = run.format == OUT_JSON && opts.all_addresses;

	signal(SIGPIPE, SIG_IGN);
	pp_raise_nofile();
	r = pp_loop_new(&run.loop);
	if (r < 0)
		cli_fatal("cannot create the event loop: %s", strerror(-r));
	if ((r = pp_loop_add_signal(run.loop, SIGINT, on_signal, &run)) < 0 ||
	    (r = pp_loop_add_signal(run.loop, SIGTERM, on_signal, &run)) < 0)
		cli_fatal("cannot watch signals: %s", strerror(-r));
	r = pp_check_start(run.loop, &opts, on_result, on_done, &run, &check);
	if (r < 0)
		cli_fatal("cannot start the check: %s", strerror(-r));
	r = pp_loop_run(run.loop);
	if (r < 0)
		cli_fatal("event loop failed: %s", strerror(-r));

	if (run.array && !run.quiet) {
		pp_buf_puts(&run.out, run.emitted ? "\n]\n" : "[]\n");
		cli_emit(&run.out);
	}
	if (run.format == OUT_NAGIOS && run.nresults) {
		const struct pp_check_result *ptrs[64];
		size_t n = run.nresults < 64 ? run.nresults : 64;

		for (size_t i = 0; i < n; i++)
			ptrs[i] = &run.results[i];
		code = pp_check_write_nagios(&run.out, ptrs, n, &nagios);
		if (!run.quiet)
			cli_emit(&run.out);
		if (code < 0)
			code = EXIT_ENV;
	} else {
		for (size_t i = 0; i < run.nresults; i++) {
			int e = result_exit(&run.results[i]);

			if (e > code)
				code = e;
		}
	}
	if (!run.interrupted && run.nresults == 0)
		cli_fatal("the check ended without a result");
	pp_check_free(check);
	pp_loop_free(run.loop);
	free(run.results);
	pp_buf_release(&run.out);
	if (run.interrupted)
		return 128 + run.interrupted;
	return code;
}
