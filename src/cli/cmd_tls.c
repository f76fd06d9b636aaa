/* cmd_tls.c: `portprobe tls HOST[:PORT]...`: options, output, exit codes.
 *
 * Every argument is checked before anything is sent: bad input gets one
 * line and exit 2 with nothing on stdout. Reports are written as each
 * target finishes; an interrupted JSON document is still closed. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "portprobe/parse.h"
#include "portprobe/portprobe.h"
#include "portprobe/tls.h"

static const char tls_usage[] =
    "Usage: portprobe tls [OPTIONS] HOST[:PORT]...\n"
    "\n"
    "Every certificate chain, protocol version, cipher suite, server order and key\n"
    "exchange group a TLS port serves (port 443 when omitted; [IPv6]:PORT).\n"
    "Protocols and suites are found with hand-built ClientHellos over the whole IANA\n"
    "registry (SSLv2 to TLS 1.3, 3DES, RC4, export...), certificates with RSA, ECDSA\n"
    "and EdDSA offers, with and without SNI.\n"
    "\n"
    "Options:\n"
    "      --sni NAME             server_name to send (default: the host, when a name)\n"
    "      --no-sni               send no server_name\n"
    "      --starttls PROTO       speak PROTO first: smtp lmtp imap pop3 ftp ldap xmpp\n"
    "                             postgres mysql nntp sieve, or none (default: by port:\n"
    "                             25/587 smtp, 143 imap, 110 pop3, 21 ftp, 389 ldap,\n"
    "                             5222 xmpp, 5432 postgres, 3306 mysql, 119 nntp,\n"
    "                             4190 sieve, 24 lmtp)\n"
    "      --cert-only            certificates only: no protocol or suite enumeration\n"
    "      --ca-file FILE         trust these CAs (PEM) instead of the system store\n"
    "      --ca-path DIR          trust the CAs of this hashed directory\n"
    "      --max-conns N          connections at once per target (default 4)\n"
    "      --delay SECONDS        pause between connections to one target (default 0)\n"
    "  -t, --timeout SECONDS      time allowed per connection, handshake included\n"
    "                             (default 5)\n"
    "      --parallel N           targets probed at once (default 16)\n"
    "  -4, -6                     use IPv4 / IPv6 addresses only\n"
    "      --dns-server ADDR[:PORT][,...]\n"
    "                             resolve with these servers instead of resolv.conf\n"
    "  -o, --output FORMAT        text (default), json, or nagios\n"
    "  -w, --warning DAYS         WARNING (exit 1) when a certificate expires within DAYS\n"
    "  -c, --critical DAYS        CRITICAL when a certificate expires within DAYS\n"
    "  -h, --help                 this help\n"
    "\n"
    "Errors (JSON \"error\".class): the connection's (Connection refused, Connection\n"
    "timeout, Host not found, ...), Not a TLS server, Malformed TLS answer, Truncated\n"
    "TLS answer, Connection reset in handshake, No TLS answer, Handshake failed,\n"
    "STARTTLS failed. JSON keys: docs/tls-json.md.\n"
    "\n"
    "Exit codes: 0 every chain valid and not expiring within -w/-c, 1 a chain is\n"
    "invalid, expires within the thresholds, or a target failed; 2 usage error;\n"
    "3 environment error; 130/143 interrupted by SIGINT/SIGTERM.\n"
    "With -o nagios: 0 OK, 1 WARNING, 2 CRITICAL (invalid chain, or -c), 3 UNKNOWN.\n"
    "\n"
    "Examples:\n"
    "  portprobe tls example.com\n"
    "  portprobe tls -o json mail.example.com:25 imap.example.com:143\n"
    "  portprobe tls --cert-only -o nagios -w 30 -c 7 www.example.com\n"
    "  portprobe tls --ca-file internal-ca.pem --starttls postgres db.internal:5432\n";

enum {
	OPT_SNI = 1000,
	OPT_NO_SNI,
	OPT_STARTTLS,
	OPT_CERT_ONLY,
	OPT_CA_FILE,
	OPT_CA_PATH,
	OPT_MAX_CONNS,
	OPT_DELAY,
	OPT_PARALLEL,
	OPT_DNS_SERVER,
};

static const struct option tls_options[] = {
    {"sni", required_argument, NULL, OPT_SNI},
    {"no-sni", no_argument, NULL, OPT_NO_SNI},
    {"starttls", required_argument, NULL, OPT_STARTTLS},
    {"cert-only", no_argument, NULL, OPT_CERT_ONLY},
    {"ca-file", required_argument, NULL, OPT_CA_FILE},
    {"ca-path", required_argument, NULL, OPT_CA_PATH},
    {"max-conns", required_argument, NULL, OPT_MAX_CONNS},
    {"delay", required_argument, NULL, OPT_DELAY},
    {"timeout", required_argument, NULL, 't'},
    {"parallel", required_argument, NULL, OPT_PARALLEL},
    {"dns-server", required_argument, NULL, OPT_DNS_SERVER},
    {"output", required_argument, NULL, 'o'},
    {"warning", required_argument, NULL, 'w'},
    {"critical", required_argument, NULL, 'c'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

struct tls_run {
	struct pp_tls_writer *w;
	struct pp_loop *loop;
	struct pp_tls *tls;
	int interrupted;
	int write_err;
};

static void on_report(void *data, const struct pp_tls_report *r)
{
	struct tls_run *run = data;

	if (pp_tls_writer_report(run->w, r) < 0)
		run->write_err = 1;
}

static void on_signal(struct pp_loop *loop, int signo, void *data)
{
	struct tls_run *run = data;

	run->interrupted = signo;
	pp_tls_stop(run->tls);
}

static int opt_days(const char *name, const char *arg)
{
	const char *why;
	unsigned v;

	if (pp_parse_uint(arg, 0, 36500, &v, &why) < 0)
		cli_usage_error("%s '%s' %s (expected days, 0..36500)", name, arg, why);
	return (int)v;
}

/* Splits HOST[:PORT] / [V6]:PORT / a bare IPv6 literal; exits 2 when bad. */
static void split_target(const char *arg, char *host, size_t hostlen, uint16_t *port)
{
	const char *why, *colon;
	size_t n;

	*port = 443;
	if (arg[0] == '[') {
		const char *end = strchr(arg, ']');

		if (!end || end == arg + 1)
			cli_usage_error("target '%s' has an unclosed or empty [address]", arg);
		n = (size_t)(end - arg - 1);
		if (n >= hostlen)
			cli_usage_error("target '%s' is too long", arg);
		memcpy(host, arg + 1, n);
		host[n] = '\0';
		if (end[1] == ':') {
			if (pp_parse_port(end + 2, 0, port, &why) < 0)
				cli_usage_error("target '%s': port '%s' %s", arg, end + 2, why);
		} else if (end[1]) {
			cli_usage_error("target '%s': unexpected text after ']'", arg);
		}
		return;
	}
	colon = strrchr(arg, ':');
	if (colon && strchr(arg, ':') != colon)
		colon = NULL; /* several colons: an IPv6 literal without a port */
	n = colon ? (size_t)(colon - arg) : strlen(arg);
	if (n == 0 || n >= hostlen)
		cli_usage_error("target '%s' %s", arg, n ? "is too long" : "has no host");
	memcpy(host, arg, n);
	host[n] = '\0';
	if (colon && pp_parse_port(colon + 1, 0, port, &why) < 0)
		cli_usage_error("target '%s': port '%s' %s", arg, colon + 1, why);
	if (pp_parse_host(host, &why) < 0)
		cli_usage_error("target '%s': host %s", arg, why);
}

int cmd_tls(int argc, char **argv)
{
	struct pp_tls_opts o;
	struct tls_run run;
	enum pp_tls_format fmt = PP_TLS_TEXT;
	int c, r, want4 = 0, want6 = 0, warn = -1, crit = -1, code;
	const char *why;
	bool no_sni = false;

	memset(&run, 0, sizeof(run));
	pp_tls_opts_init(&o);
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":t:46o:w:c:h", tls_options, NULL)) != -1) {
		switch (c) {
		case OPT_SNI:
			if (pp_parse_host(optarg, &why) < 0)
				cli_usage_error("--sni '%s' %s", optarg, why);
			o.sni = optarg;
			break;
		case OPT_NO_SNI:
			no_sni = true;
			break;
		case OPT_STARTTLS:
			if (!pp_tls_starttls_known(optarg))
				cli_usage_error(
				    "--starttls '%s' is not a protocol portprobe speaks "
				    "(expected one of: %s, none)",
				    optarg, pp_tls_starttls_names());
			o.starttls = optarg;
			break;
		case OPT_CERT_ONLY:
			o.cert_only = true;
			break;
		case OPT_CA_FILE:
		case OPT_CA_PATH:
			if (access(optarg, R_OK) < 0)
				cli_usage_error("%s '%s': %s",
						c == OPT_CA_FILE ? "--ca-file" : "--ca-path",
						optarg, strerror(errno));
			if (c == OPT_CA_FILE)
				o.ca_file = optarg;
			else
				o.ca_path = optarg;
			break;
		case OPT_MAX_CONNS:
			if (pp_parse_uint(optarg, 1, 64, &o.max_conns, &why) < 0)
				cli_usage_error("--max-conns '%s' %s (expected 1..64)", optarg,
						why);
			break;
		case OPT_DELAY:
			o.delay_ns = (uint64_t)(cli_opt_seconds("--delay", optarg, 1, 3600) * 1e9);
			break;
		case 't':
			o.timeout_ns =
			    (uint64_t)(cli_opt_seconds("--timeout", optarg, 0, 3600) * 1e9);
			break;
		case OPT_PARALLEL:
			if (pp_parse_uint(optarg, 1, 1024, &o.parallel, &why) < 0)
				cli_usage_error("--parallel '%s' %s (expected 1..1024)", optarg,
						why);
			break;
		case OPT_DNS_SERVER:
			o.dns_servers = cli_opt_dns_servers(optarg);
			break;
		case '4':
			want4 = 1;
			break;
		case '6':
			want6 = 1;
			break;
		case 'o':
			if (pp_tls_format_parse(optarg, &fmt) < 0)
				cli_usage_error(
				    "--output '%s' is not a format (expected text, json or nagios)",
				    optarg);
			break;
		case 'w':
			warn = opt_days("--warning", optarg);
			break;
		case 'c':
			crit = opt_days("--critical", optarg);
			break;
		case 'h':
			fputs(tls_usage, stdout);
			return EXIT_OK;
		default:
			cli_option_error(c, argv, "tls");
		}
	}
	if (optind >= argc)
		cli_usage_error(
		    "missing HOST[:PORT] (usage: portprobe tls [OPTIONS] HOST[:PORT]...)");
	if (want4 && want6)
		cli_usage_error("-4 and -6 exclude each other");
	if (no_sni && o.sni)
		cli_usage_error("--sni and --no-sni exclude each other");
	if (warn >= 0 && crit >= 0 && crit > warn)
		cli_usage_error("--critical %d is more days than --warning %d", crit, warn);
	if (no_sni)
		o.sni = "";
	o.family = want4 ? AF_INET : want6 ? AF_INET6 : AF_UNSPEC;

	r = pp_tls_new(&o, &run.tls, &why);
	if (r == -EINVAL)
		cli_usage_error("%s", why ? why : "bad options");
	if (r < 0)
		cli_fatal("cannot start: %s", strerror(-r));
	for (int i = optind; i < argc; i++) {
		char host[512];
		uint16_t port;

		split_target(argv[i], host, sizeof(host), &port);
		if (pp_tls_add(run.tls, host, port) < 0)
			cli_fatal("out of memory");
	}

	signal(SIGPIPE, SIG_IGN);
	pp_raise_nofile();
	if ((r = pp_loop_new(&run.loop)) < 0)
		cli_fatal("cannot create the event loop: %s", strerror(-r));
	if ((r = pp_loop_add_signal(run.loop, SIGINT, on_signal, &run)) < 0 ||
	    (r = pp_loop_add_signal(run.loop, SIGTERM, on_signal, &run)) < 0)
		cli_fatal("cannot watch signals: %s", strerror(-r));
	if ((r = pp_tls_writer_new(stdout, fmt, warn, crit, &run.w)) < 0)
		cli_fatal("cannot write: %s", strerror(-r));
	r = pp_tls_run(run.tls, run.loop, on_report, &run);
	if (r < 0)
		cli_fatal("the probe failed: %s", strerror(-r));
	if (pp_tls_writer_end(run.w) < 0 || run.write_err)
		cli_fatal("cannot write the output");
	code = pp_tls_writer_status(run.w);
	pp_tls_writer_free(run.w);
	pp_tls_free(run.tls);
	pp_loop_free(run.loop);
	if (run.interrupted)
		return 128 + run.interrupted;
	return code;
}
