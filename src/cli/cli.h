/* cli.h: what every subcommand shares: exit codes, error lines, output. */
#ifndef PP_CLI_H
#define PP_CLI_H

#include "portprobe/buf.h"

/* Exit codes (DESIGN.md §1). */
enum {
	EXIT_OK = 0,     /* connected / all checks passed */
	EXIT_FAILED = 1, /* a check failed */
	EXIT_USAGE = 2,  /* bad input: nothing was done */
	EXIT_ENV = 3,    /* this host could not run the check */
};

/* The program name used in messages ("portprobe"). */
extern const char *cli_progname;

/* Prints "portprobe: <message>" on stderr and exits 2. */
_Noreturn void cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "portprobe: <message>" on stderr and exits 3. */
_Noreturn void cli_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Writes the buffer to stdout and flushes (results stream); exits 3 on failure. */
void cli_emit(struct pp_buf *b);
/* Exits 2 with one line for getopt_long's ':' (missing value) or '?' (unknown
 * option, or a value given to an option that takes none); cmd names the
 * subcommand for the help hint. */
_Noreturn void cli_option_error(int c, char **argv, const char *cmd);

/* Parses a seconds option (fractions allowed, up to max) or exits 2 naming it. */
double cli_opt_seconds(const char *name, const char *arg, int allow_zero, double max);

/* Parses a --dns-server value into c-ares' form (kept in static storage) or
 * exits 2 naming it. */
const char *cli_opt_dns_servers(const char *arg);

int cmd_check(int argc, char **argv);
int cmd_scan(int argc, char **argv);
int cmd_tls(int argc, char **argv);
int cmd_listen(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_serve(int argc, char **argv);

#endif
