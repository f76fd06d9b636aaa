/* cli.c: error lines and output shared by the subcommands. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *cli_progname = "portprobe";

_Noreturn void cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", cli_progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_USAGE);
}

_Noreturn void cli_fatal(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", cli_progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_ENV);
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

const char *cli_bad_option(int argc, char **argv, int optopt_value)
{
	static char shortopt[3];

	if (optopt_value) {
		shortopt[0] = '-';
		shortopt[1] = (char)optopt_value;
		shortopt[2] = '\0';
		return shortopt;
	}
	if (optind > 0 && optind <= argc)
		return argv[optind - 1];
	return "?";
}
