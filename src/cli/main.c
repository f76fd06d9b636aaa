/* main.c: the portprobe command: picks the subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "portprobe/portprobe.h"

static const char usage[] =
    "Usage: portprobe COMMAND [OPTIONS] ARGS...\n"
    "\n"
    "Is this TCP port reachable, in what state, and why?\n"
    "\n"
    "Commands:\n"
    "  check HOST PORT   one TCP connection test with timeout, attempts and retry delay;\n"
    "                    says exactly why it failed (text, JSON, Nagios)\n"
    "  scan TARGET...    nmap-style connect scan of many hosts and ports: open, closed,\n"
    "                    filtered and why (text, JSON, JSONL, nmap XML, grepable, CSV)\n"
    "  tls HOST[:PORT]...  every certificate chain, protocol, cipher suite, server order\n"
    "                    and group a TLS port serves; STARTTLS (text, JSON, Nagios)\n"
    "  listen            this host's listening TCP sockets: queues, exposure, owners,\n"
    "                    cgroup and unit; --watch for changes (text, JSON, CSV, Prometheus)\n"
    "  run CONFIG        every check of a YAML file once, concurrently: check_tcp_connection,\n"
    "                    InfraSonar tcp_probe and tls entries (text, JSON, JSONL, Nagios,\n"
    "                    Prometheus, InfraSonar)\n"
    "  serve --config FILE  the same checks on a schedule: history (SQLite), alerts on\n"
    "                    state changes, Prometheus /metrics and blackbox-style /probe\n"
    "\n"
    "Options:\n"
    "  -h, --help        this help; 'portprobe COMMAND --help' for a command's options\n"
    "  -V, --version     the version\n"
    "\n"
    "Exit codes: 0 connected, 1 not connected, 2 usage error, 3 environment error.\n"
    "See portprobe(1).\n";

/* The subcommands, by name. */
static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} commands[] = {
    {"check", cmd_check},   {"scan", cmd_scan}, {"tls", cmd_tls},
    {"listen", cmd_listen}, {"run", cmd_run},   {"serve", cmd_serve},
};

/* The subcommand called name, or NULL. */
static int (*find_command(const char *name))(int, char **)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return commands[i].run;
	return NULL;
}

int main(int argc, char **argv)
{
	int (*run)(int, char **);

	if (argc < 2) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		if (argc > 2 && !strcmp(argv[1], "help") && (run = find_command(argv[2]))) {
			char *args[] = {argv[2], "--help", NULL};

			return run(2, args);
		}
		fputs(usage, stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("portprobe %s\n", pp_version());
		return EXIT_OK;
	}
	if ((run = find_command(argv[1])))
		return run(argc - 1, argv + 1);
	cli_usage_error("'%s' is not a portprobe command (see portprobe --help)", argv[1]);
}
