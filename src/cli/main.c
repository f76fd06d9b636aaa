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
    "\n"
    "Options:\n"
    "  -h, --help        this help; 'portprobe COMMAND --help' for a command's options\n"
    "  -V, --version     the version\n"
    "\n"
    "Exit codes: 0 connected, 1 not connected, 2 usage error, 3 environment error.\n"
    "See portprobe(1).\n";

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		if (argc > 2 && !strcmp(argv[1], "help") &&
		    (!strcmp(argv[2], "check") || !strcmp(argv[2], "scan") ||
		     !strcmp(argv[2], "tls"))) {
			char *args[] = {argv[2], "--help", NULL};

			return !strcmp(argv[2], "scan")  ? cmd_scan(2, args)
			       : !strcmp(argv[2], "tls") ? cmd_tls(2, args)
							 : cmd_check(2, args);
		}
		fputs(usage, stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("portprobe %s\n", pp_version());
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "check"))
		return cmd_check(argc - 1, argv + 1);
	if (!strcmp(argv[1], "scan"))
		return cmd_scan(argc - 1, argv + 1);
	if (!strcmp(argv[1], "tls"))
		return cmd_tls(argc - 1, argv + 1);
	cli_usage_error("'%s' is not a portprobe command (see portprobe --help)", argv[1]);
}
