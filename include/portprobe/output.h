/* output.h: writers for check results. They format into a pp_buf and never
 * touch a socket or a terminal; the command writes the bytes out. */
#ifndef PORTPROBE_OUTPUT_H
#define PORTPROBE_OUTPUT_H

#include <stddef.h>

#include "portprobe/buf.h"
#include "portprobe/check.h"

/* Nagios / monitoring-plugins service states (= exit codes). */
enum pp_nagios_state { PP_NAGIOS_OK = 0, PP_NAGIOS_WARNING, PP_NAGIOS_CRITICAL, PP_NAGIOS_UNKNOWN };

/* One JSON object in the check_tcp_connection schema plus portprobe's keys, no newline. */
int pp_check_write_json(struct pp_buf *b, const struct pp_check_result *r);
/* One human-readable line, newline included. */
int pp_check_write_text(struct pp_buf *b, const struct pp_check_result *r);

/* Worse = higher, except UNKNOWN ranks between WARNING and CRITICAL: a
 * check that could not run is less bad than one that failed. Every writer
 * that sums states up (check, tls, run) ranks them with this. */
int pp_nagios_rank(enum pp_nagios_state s);

/* Thresholds for the nagios line; negative means unset. */
struct pp_nagios_opts {
	double warning;  /* seconds */
	double critical; /* seconds */
	double timeout;  /* seconds, the perfdata maximum */
};
/* One monitoring-plugins line with perfdata for n results of one check;
 * returns the state (the exit code) or -errno. */
int pp_check_write_nagios(struct pp_buf *b, const struct pp_check_result *const *r, size_t n,
			  const struct pp_nagios_opts *opts);

/* ISO 8601 UTC with milliseconds ("2026-11-21T12:00:00.123Z") into buf (>= 32 bytes). */
char *pp_iso8601(const struct timespec *ts, char *buf, size_t len);
/* Appends s as a JSON string literal (quoted, escaped). */
int pp_json_put_string(struct pp_buf *b, const char *s);
/* Appends s as a JSON string literal, or null when s is NULL. */
int pp_json_put_string_or_null(struct pp_buf *b, const char *s);
/* Appends s as one CSV field (RFC 4180), quoted, quotes doubled, only when needed. */
void pp_csv_put_field(struct pp_buf *b, const char *s);

#endif
