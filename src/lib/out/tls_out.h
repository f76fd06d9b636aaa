/* tls_out.h: the writers of `portprobe tls` reports (tls/report.h): text
 * (readable sections per target), JSON (an array of one object per target;
 * the schema is docs/tls-json.md, a contract), and a monitoring-plugins line.
 *
 * Every writer formats into memory and then writes the bytes to the FILE *
 * the caller gives, and flushes it, so each target's result is out as soon as
 * it is written (a killed run loses no completed target). They never open,
 * close or choose a stream themselves. Errors: 0 on success, -ENOMEM or -E2BIG
 * (one target's output over TLS_OUT_MAX), -EIO when the stream fails (errno
 * then says why).
 *
 * Thresholds (warn_days, crit_days) are days before the earliest notAfter of
 * any certificate of any chain (tls_report_earliest_expiry), counted as
 * tls_cert_info.days_left is: floor((notAfter - now) / 86400), now being the
 * report's judgement time. A negative threshold is unset.
 *
 * Nagios status of one target, the first rule that matches:
 *   UNKNOWN   the target failed (error set: not resolved, refused, not TLS,
 *             STARTTLS refused ...), or it answered without any certificate
 *   CRITICAL  some chain failed verification or its host check
 *             (tls_report_any_invalid), or days <= crit_days
 *   WARNING   days <= warn_days
 *   OK        otherwise
 * The run's status is the worst over its targets, ranked OK < WARNING <
 * UNKNOWN < CRITICAL as check_out.c ranks them: a failed target is UNKNOWN
 * unless another is CRITICAL.
 *
 * Exit status for the other formats (tls_exit_status): 1 when any target
 * failed, any chain is invalid, or the earliest expiry is within the larger
 * of the thresholds set (days <= max(warn_days, crit_days)); else 0. A target
 * that answered without a certificate is not a failure there (a --cert-only
 * run can meet a server that sends none; the output says so). */
#ifndef PP_OUT_TLS_OUT_H
#define PP_OUT_TLS_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "portprobe/buf.h"
#include "tls/groups.h"
#include "tls/report.h"
#include "tls/suites.h"

#define TLS_OUT_MAX (64u << 20) /* bytes one target's output may take */

/* ---- JSON ---------------------------------------------------------------- */

/* Opens the array: "[". */
int tls_json_begin(FILE *f);
/* Writes one target's object on its own line, preceded by "," unless first. */
int tls_json_report(FILE *f, const struct tls_report *r, bool first);
/* Appends one target's object to b (no separator, no newline); <0 on failure. */
int tls_json_put_report(struct pp_buf *b, const struct tls_report *r);
/* Closes the array: "\n]\n". Call it also after an interruption. */
int tls_json_end(FILE *f);

/* ---- text ---------------------------------------------------------------- */

/* Writes one target's sections, ending with an empty line. */
int tls_text_report(FILE *f, const struct tls_report *r);

/* ---- nagios and exit status ---------------------------------------------- */

enum tls_nagios_state {
	TLS_NAGIOS_OK = 0,
	TLS_NAGIOS_WARNING = 1,
	TLS_NAGIOS_CRITICAL = 2,
	TLS_NAGIOS_UNKNOWN = 3,
};

/* The run's monitoring-plugins state (= exit code 0..3) by the rules above;
 * UNKNOWN for n == 0. reports[0..n) are borrowed. */
int tls_nagios_status(const struct tls_report *const *reports, size_t n, int warn_days,
		      int crit_days);
/* Writes the one line for the whole run:
 *   TLS <STATE> - <summary> | <perfdata>
 * The summary is "host:port: <what>" for one target; for several, the count
 * per state and then each target that is not OK. Perfdata per target
 * 'days_left'=D;W;C;; (labelled 'days_left_<host:port>' when there are
 * several; U when unknown), then 'connections'=N;;;0; over the run. With
 * n == 0 (an interrupted run before any target finished) the line is
 * "TLS UNKNOWN - no target finished". Returns the state (as
 * tls_nagios_status) or a negative errno. */
int tls_nagios_write(FILE *f, const struct tls_report *const *reports, size_t n, int warn_days,
		     int crit_days);
/* The command's exit code for the text and JSON formats: 0 or 1 (above). */
int tls_exit_status(const struct tls_report *const *reports, size_t n, int warn_days,
		    int crit_days);

/* ---- shared by the writers ----------------------------------------------- */

/* One accepted suite with every fact the writers print, resolved once. */
struct tls_out_suite {
	enum tls_proto proto;                /* the protocol it was accepted in */
	char id[12];                         /* "0xC02F"; SSLv2: the 3-byte kind, "0x0700C0" */
	bool known;                          /* in the registry: the fields below are set */
	const char *iana;                    /* IANA name (SSLv2: the SSL_CK_ name); NULL unknown */
	const char *openssl;                 /* OpenSSL's name; NULL when it has none */
	const char *kx, *au;                 /* key exchange, authentication; NULL unknown */
	const char *enc;                     /* cipher and mode; NULL unknown */
	const char *mac;                     /* "AEAD" or the MAC hash; NULL unknown */
	unsigned bits;                       /* effective strength bits (3DES 112) */
	unsigned key_bits;                   /* secret key bits (3DES 168) */
	bool aead, pfs;                      /* AEAD; forward secret */
	enum tls_strength strength;          /* the class; valid when known */
	uint16_t group_id;                   /* the group the server chose from our offer, 0 none */
	const struct tls_named_group *group; /* its table entry, NULL unknown or none */
	unsigned kex_bits;                   /* DHE prime bits, else the group's bits; 0 unknown */
};

/* Resolves a (the protocol and code points) into *out. */
void tls_out_suite_of(const struct tls_accepted *a, struct tls_out_suite *out);
/* "SSLv2" ... "TLSv1.3" for a slot; "?" outside the enum. */
const char *tls_out_proto_name(enum tls_proto p);
/* The indices into r->ciphers of the suites accepted in p, in the order the
 * writers list them: the server's order when it has one (then any accepted
 * suite it did not rank, as found), otherwise strongest first (class, then
 * strength bits, then id), an order that claims no preference. *ret is
 * malloc'd (NULL when there are none); returns the count or -ENOMEM. */
long tls_out_proto_suites(const struct tls_report *r, enum tls_proto p, size_t **ret);
/* floor((t - now) / 86400): days_left as tls_cert_info counts it. */
int64_t tls_out_days(time_t t, time_t now);
/* t as "2026-11-21T12:00:00Z" into buf (TLS_TIME_LEN bytes); returns buf. */
char *tls_out_time(time_t t, char *buf);
/* "host:port", with an IPv6 literal bracketed, into buf (len bytes). */
char *tls_out_target(const struct tls_report *r, char *buf, size_t len);
/* Names of the enum tls_cert_probe bits in found_by, in bit order: "rsa",
 * "ecdsa", "eddsa", "sni", "no-sni"; stored in names (max entries); returns
 * the count. */
size_t tls_out_found_by(unsigned found_by, const char **names, size_t max);
/* The message of a target error: pp_error_message(r->error). */
const char *tls_out_error_class(const struct tls_report *r);
/* Writes b to f and flushes; 0, b's own error, or -EIO. */
int tls_out_flush(FILE *f, struct pp_buf *b);

#endif
