/* tls.h: `portprobe tls`: every certificate chain, protocol version, cipher
 * suite, server order and key exchange group a TLS port serves.
 *
 * Targets are probed concurrently on one loop; each gets at most max_conns
 * connections at a time. Protocols and suites are found with hand-built
 * ClientHellos (offer many, remove the chosen one, repeat), so the answer
 * does not depend on what the local OpenSSL can negotiate; certificates come
 * from libssl handshakes (RSA, ECDSA and EdDSA offers, with and without
 * SNI). A report per target is handed to the callback as soon as the target
 * is done; reports stay valid until pp_tls_free(). */
#ifndef PORTPROBE_TLS_H
#define PORTPROBE_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "portprobe/loop.h"

struct pp_tls;
struct pp_tls_report; /* one target's findings (opaque; see the writers below) */

struct pp_tls_opts {
	const char *sni;         /* server_name for every target; NULL: the target's host name
				    when it is a name, none for an address; "" never */
	const char *starttls;    /* "smtp", "imap", ..., "none"; NULL: chosen by port */
	bool cert_only;          /* certificates only: no protocol or suite enumeration */
	const char *ca_file;     /* trust anchors (PEM); NULL with ca_path NULL: the system store */
	const char *ca_path;     /* hashed directory of trust anchors */
	unsigned max_conns;      /* connections at once per target; 0: 4 */
	uint64_t delay_ns;       /* pause between connection starts to one target */
	uint64_t timeout_ns;     /* one connection: connect, STARTTLS, handshake; 0: 5 s */
	int family;              /* AF_UNSPEC, AF_INET or AF_INET6 for names */
	const char *dns_servers; /* c-ares servers CSV, NULL for resolv.conf */
	unsigned parallel;       /* targets probed at once; 0: 16 */
	time_t now;              /* judge certificates at this time; 0: the present */
};

void pp_tls_opts_init(struct pp_tls_opts *o);
/* True when name is a STARTTLS protocol portprobe speaks (or "none"). */
bool pp_tls_starttls_known(const char *name);
/* The STARTTLS protocols, space-separated, for help texts. */
const char *pp_tls_starttls_names(void);

/* 0, -ENOMEM, -EINVAL (a bad option: starttls name, CA file unreadable:
 * *why says which). */
int pp_tls_new(const struct pp_tls_opts *o, struct pp_tls **ret, const char **why);
/* Adds a target (host name or address literal, and port); 0 or -ENOMEM. */
int pp_tls_add(struct pp_tls *t, const char *host, uint16_t port);
typedef void pp_tls_report_cb(void *data, const struct pp_tls_report *r);
/* Probes every target on loop (the caller's, e.g. with its signals); cb
 * gets each report, in the order targets finish. Returns when all are done
 * or pp_tls_stop() was called: 0, or -errno for a failure of this host. */
int pp_tls_run(struct pp_tls *t, struct pp_loop *loop, pp_tls_report_cb *cb, void *data);
/* Starts probing every target on loop and returns at once; the caller runs
 * the loop (with other work on it). cb gets each report as pp_tls_run's
 * does. 0 or -errno. Call it at most once per pp_tls, instead of pp_tls_run. */
int pp_tls_start(struct pp_tls *t, struct pp_loop *loop, pp_tls_report_cb *cb, void *data);
/* Stops pp_tls_run() soon (targets not finished are not reported); safe
 * from a signal callback on the same thread. */
void pp_tls_stop(struct pp_tls *t);
void pp_tls_free(struct pp_tls *t);

/* ---- writers ---------------------------------------------------------------- */

enum pp_tls_format { PP_TLS_TEXT, PP_TLS_JSON, PP_TLS_NAGIOS };
struct pp_tls_writer;
/* 0 or -EINVAL for a name that is not a format. */
int pp_tls_format_parse(const char *name, enum pp_tls_format *ret);
/* warn_days/crit_days: thresholds on the earliest expiry (-1: none). */
int pp_tls_writer_new(FILE *f, enum pp_tls_format fmt, int warn_days, int crit_days,
		      struct pp_tls_writer **ret);
int pp_tls_writer_report(struct pp_tls_writer *w, const struct pp_tls_report *r);
/* Closes the document (JSON array; nagios line). */
int pp_tls_writer_end(struct pp_tls_writer *w);
/* The exit status for what was written: nagios 0..3; other formats 0, or 1
 * when a certificate is invalid or expires within the thresholds, or a
 * target failed. */
int pp_tls_writer_status(const struct pp_tls_writer *w);
void pp_tls_writer_free(struct pp_tls_writer *w);

#endif
