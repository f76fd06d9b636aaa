/* cli.c: error lines and output shared by the subcommands. */
#include "cli.h"
#include "portprobe/parse.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *cli_progname = "portprobe";

/* Prints "portprobe: <message>" on stderr and exits with code. The format
 * attribute moves the format check to cli_usage_error's and cli_fatal's
 * callers, where the format is a literal. */
__attribute__((format(printf, 2, 0))) static _Noreturn void cli_vdie(int code, const char *fmt,
								     va_list ap)
{
	fflush(stdout);
	fprintf(stderr, "%s: ", cli_progname);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	exit(code);
}

_Noreturn void cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_vdie(EXIT_USAGE, fmt, ap);
}

_Noreturn void cli_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_vdie(EXIT_ENV, fmt, ap);
}

void cli_emit(struct pp_buf *b)
{
	if (b->err)
		cli_fatal("cannot format a result: %s", strerror(-b->err));
	if (b->len && fwrite(b->data, 1, b->len, stdout) != b->len)
		cli_fatal("cannot write to standard output: %s", strerror(errno));
	if (fflush(stdout) == EOF)
		cli_fatal("cannot write to standard output: %s", strerror(errno));
	pp_buf_reset(b);
}

_Noreturn void cli_option_error(int c, char **argv, const char *cmd)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "";
	char name[64];

	if (!strncmp(arg, "--", 2)) {
		/* a long option: name it as typed, without any "=value" */
		size_t n = strcspn(arg, "=");

		snprintf(name, sizeof(name), "%.*s", (int)(n < 60 ? n : 60), arg);
	} else {
		snprintf(name, sizeof(name), "-%c", optopt > 32 && optopt < 127 ? optopt : '?');
	}
	if (c == ':')
		cli_usage_error("option %s needs a value (see portprobe %s --help)", name, cmd);
	if (optopt && !strncmp(arg, "--", 2))
		cli_usage_error("option %s takes no value (see portprobe %s --help)", name, cmd);
	cli_usage_error("unknown option '%s' (see portprobe %s --help)", name, cmd);
}

double cli_opt_seconds(const char *name, const char *arg, int allow_zero, double max)
{
	const char *why;
	double v;

	if (pp_parse_seconds(arg, allow_zero, max, &v, &why) < 0)
		cli_usage_error("%s '%s' %s", name, arg, why);
	return v;
}

const char *cli_opt_dns_servers(const char *arg)
{
	static char csv[1024];
	const char *why;

	if (pp_parse_dns_servers(arg, csv, sizeof(csv), &why) < 0)
		cli_usage_error("--dns-server '%s' %s", arg, why);
	return csv;
}
