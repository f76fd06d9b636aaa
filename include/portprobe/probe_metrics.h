/* probe_metrics.h: one unit's result (runner.h) in the shapes other
 * monitoring systems read: a flat, owned "probe metrics" record with its
 * Prometheus exposition (blackbox_exporter's names where the meaning is the
 * same), and InfraSonar's tcp-probe items.
 *
 * A pp_run_result points into the runner and is valid during its callback
 * only; a pp_probe_metrics record is extracted from it, owns everything it
 * holds and can be copied, kept (`serve` keeps the latest of every unit) and
 * written later. Extraction never looks at r->cfg, so `serve` can fill a
 * result for /probe without a configuration. Labels are not part of the
 * record: the writer takes them beside each record, because /probe answers
 * without labels (as blackbox_exporter does) while `run -o prometheus` and
 * `/metrics` name every series by check, unit, host and port.
 *
 * Exposition (text format 0.0.4), families in name order as client_golang
 * sorts them, each family's "# HELP" and "# TYPE" once and then one sample
 * per record that has it, records in the order given; a family no record has
 * is left out:
 *   probe_dns_lookup_time_seconds                 connect units: resolver time
 *   probe_duration_seconds                        the whole unit
 *   probe_failure_info{message,reason} 1          failed records only (blackbox #1077)
 *   probe_ip_addr_hash                            FNV-1a 32 of the address (0 unresolved)
 *   probe_ip_protocol                             4, 6, or 0 unresolved
 *   probe_ssl_chain_verified                      1 / 0
 *   probe_ssl_earliest_cert_expiry                earliest NotAfter presented
 *   probe_ssl_last_chain_expiry_timestamp_seconds verified chains only (never #653's zero time)
 *   probe_ssl_last_chain_info{fingerprint_sha256,issuer,serialnumber,subject,
 *                             subjectalternative} 1
 *   probe_ssl_leaf_cert_expiry_timestamp_seconds  the leaf's NotAfter
 *   probe_ssl_verify_error_info{error} 1          when the chain did not verify
 *   probe_success                                 1 / 0
 *   probe_tls_version_info{version} 1
 * The certificate families are written whenever a certificate was seen,
 * verified or not (blackbox #1119). A record's own labels come first, then
 * the metric's, in the order above; a record label that has the name of one
 * of the metric's labels is left out of that sample (the metric's wins), so
 * a sample never repeats a label name. Numbers are printed as Go's
 * strconv.FormatFloat(v, 'g', -1, 64), the form client_golang (and so
 * blackbox_exporter) writes: 1, 0.000206776, 1.847e-05, 3.668918509e+09;
 * timestamps too (1.794856511e+09), so a scraper sees the same text from
 * either exporter. */
#ifndef PORTPROBE_PROBE_METRICS_H
#define PORTPROBE_PROBE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "portprobe/buf.h"
#include "portprobe/result.h"
#include "portprobe/runner.h"

#define PP_PROBE_SLUG_MAX    24 /* longest slug ("reset_in_handshake") and its NUL, with room */
#define PP_PROBE_VERSION_MAX 12 /* "TLS 1.3", "SSL 3.0", "unknown" and the NUL */
#define PP_PROBE_SHA256_HEX  65 /* 64 lowercase hex digits and the NUL */

/* The certificate part of a record: the leaf is the first certificate of
 * the first chain the port served (deps[0] of the report). Times are s
 * since the epoch, 0 when unknown. verify_error is one of "expired",
 * "untrusted_root", "incomplete_chain", "not_yet_valid", "self_signed",
 * "bad_signature", "name_mismatch", "other". The strings are owned and
 * never NULL in a record with has_tls; the forms are blackbox's: Go's
 * DNSNames joined by "," for subjectalternative, and for serialnumber the
 * lowercase hex of the magnitude without leading zero bytes ("" for zero),
 * Go's %x of big.Int.Bytes(). */
struct pp_probe_tls_metrics {
	char version[PP_PROBE_VERSION_MAX];   /* "TLS 1.3" .. "TLS 1.0", "SSL 3.0", "unknown"; "" */
	int64_t earliest_expiry;              /* earliest NotAfter over every certificate sent */
	int64_t leaf_expiry;                  /* the leaf's NotAfter */
	bool chain_verified;                  /* the leaf's chain verified and names the host */
	int64_t chain_expiry;                 /* the verified chain's earliest NotAfter; 0 if not */
	char verify_error[PP_PROBE_SLUG_MAX]; /* why not verified (above); "" when verified */
	char fingerprint_sha256[PP_PROBE_SHA256_HEX]; /* SHA-256 of the leaf's DER, lowercase hex */
	char *subject;                                /* the leaf's, RFC 4514: "CN=a,O=b" */
	char *issuer;                                 /* the leaf's issuer, RFC 4514 */
	char *subjectalternative;                     /* "www.example.com,*.example.com" */
	char *serialnumber;                           /* "0fa3" */
};

/* Everything the exposition needs about one unit's result, owned. */
struct pp_probe_metrics {
	bool success;                   /* status OK or WARNING: reachable, and a certificate
					   valid even if expiring soon (as blackbox) */
	double duration_s;              /* the whole unit */
	bool has_dns_time;              /* dns_lookup_s is known (connect units) */
	double dns_lookup_s;            /* s spent resolving (0 for a literal) */
	int ip_protocol;                /* 4, 6, 0 when unresolved */
	bool has_ip;                    /* ip and ip_addr_hash are set */
	char ip[PP_ADDRSTRLEN];         /* the address probed, "" when unresolved */
	uint32_t ip_addr_hash;          /* pp_probe_ip_hash(address); 0 when unresolved */
	char reason[PP_PROBE_SLUG_MAX]; /* why not OK, a stable slug: a connect error class
					   ("refused", "timeout", "host_not_found", ...), a TLS
					   failure ("not_tls", "starttls_failed", ...), a chain
					   verdict (verify_error's slugs), "no_certificate",
					   "expired", or "expires_soon"; "" when OK */
	char *message;                  /* the human words for reason ("Connection refused",
					   "self-signed certificate"); owned; NULL when OK */
	bool has_tls;                   /* a certificate was seen: tls is set */
	struct pp_probe_tls_metrics tls;
};

/* Fills *m from r (borrowed; r->cfg is never read, so it may be NULL).
 * Returns 0, -EINVAL (r has neither a check nor a TLS report) or -ENOMEM;
 * *m is written only on success and then owns its strings (release with
 * pp_probe_metrics_release). */
int pp_probe_metrics_from_result(struct pp_probe_metrics *m, const struct pp_run_result *r);
/* A deep copy of src into *dst (written only on success); 0 or -ENOMEM. */
int pp_probe_metrics_copy(struct pp_probe_metrics *dst, const struct pp_probe_metrics *src);
/* Frees what *m owns and zeroes it. NULL-safe, and safe on a zeroed record. */
void pp_probe_metrics_release(struct pp_probe_metrics *m);

/* One Prometheus label; both strings borrowed. name must be a valid label
 * name ([a-zA-Z_][a-zA-Z0-9_]*); value may hold anything (it is escaped). */
struct pp_label {
	const char *name;
	const char *value;
};

/* The labels of one record's series, in the order they are written. */
struct pp_label_set {
	const struct pp_label *v; /* n labels, borrowed */
	size_t n;                 /* entries in v */
};

/* Appends the exposition of n records to b (the layout above). labels is
 * NULL (no labels at all, /probe's form) or n entries, each NULL for a
 * record without labels. Returns 0 or b's error (-ENOMEM, -E2BIG). */
int pp_probe_metrics_write(struct pp_buf *b, const struct pp_probe_metrics *const *ms,
			   const struct pp_label_set *const *labels, size_t n);
/* What /probe?debug=true says besides the metrics: the request. */
struct pp_probe_debug {
	const struct pp_config_module *module; /* the module probed with; borrowed */
	const char *target;                    /* as asked, "HOST:PORT"; borrowed */
	const char *host;                      /* the host resolved; borrowed */
	double timeout;                        /* s, the probe's budget */
};

/* Appends blackbox_exporter's debug=true answer for r (the probe's result)
 * and m (its metrics): "Logs for the probe:" then the probe's steps as
 * logfmt lines (ts=RFC 3339 UTC with nanoseconds, module=, target=, level=,
 * msg=: "Beginning probe", "Resolving target address", "Resolved target
 * address" or "Error resolving address", "Dialing TCP with[out] TLS",
 * "Successfully dialed" or "Error dialing TCP", "TLS handshake done",
 * "Certificate verification failed", "Probe succeeded" or "Probe failed"
 * with reason= and message=), each timed from what the probe recorded;
 * three blank lines, "Metrics that would have been returned:" and m's
 * exposition; three blank lines, "Module configuration:" and the module in
 * blackbox.yml layout. 0, -EINVAL (a NULL argument) or b's error. */
int pp_probe_debug_write(struct pp_buf *b, const struct pp_probe_debug *d,
			 const struct pp_run_result *r, const struct pp_probe_metrics *m);
/* The same, one family at a time, for a caller that sends each family's
 * bytes before formatting the next (many units in a capped buffer): the
 * number of families, and family f (0 .. count-1) of the n records, nothing
 * when no record has it. 0, -EINVAL (f out of range) or b's error. */
size_t pp_probe_metrics_families(void);
int pp_probe_metrics_write_family(struct pp_buf *b, size_t f,
				  const struct pp_probe_metrics *const *ms,
				  const struct pp_label_set *const *labels, size_t n);

/* s as a label value: backslash, double quote and newline escaped. */
void pp_prom_put_label_value(struct pp_buf *b, const char *s);
/* v as Go's strconv.FormatFloat(v, 'g', -1, 64): the shortest digits that
 * read back as v; exponent form (at least two exponent digits) when the
 * decimal exponent is below -4 or 6 and above ("1.847e-05", "1.234567e+06"),
 * plain otherwise ("0.000206776", "123456"); "NaN", "+Inf", "-Inf". */
void pp_prom_put_float(struct pp_buf *b, double v);
/* blackbox_exporter's probe_ip_addr_hash: FNV-1a 32 over the address bytes
 * as Go's net.IP holds them (4 bytes for IPv4 and IPv4-mapped IPv6, else
 * 16); 127.0.0.1 gives 3668918509. 0 for an unset address. */
uint32_t pp_probe_ip_hash(const struct pp_addr *a);

/* ---- InfraSonar ------------------------------------------------------------
 *
 * `run -o infrasonar` writes one JSON document per configured check, the
 * shape InfraSonar's probe framework sends for a check:
 *   {"check":NAME,"result":{"port":[..],"sslCert":[..],"sslEnumCiphers":[..]},
 *    "error":null|{"error":MSG,"severity":1},
 *    "framework":{"duration":S,"timestamp":EPOCH}}
 * with the items of tcp-probe (README.md, `portprobe run`, lists every
 * field). A check's units are added one by one as their results come in (the
 * result is only valid during the callback), then the document is written. */

struct pp_infrasonar_item; /* one item or error message (private) */

/* The items of one check so far, in the order they came. */
struct pp_infrasonar_check {
	struct pp_infrasonar_item *items; /* n items and error messages */
	size_t n, cap;                    /* entries used, allocated */
	double duration;                  /* s: the longest unit */
	time_t timestamp;                 /* s since the epoch: the latest unit's result */
};

/* Initialises an empty check; no allocation. */
void pp_infrasonar_check_init(struct pp_infrasonar_check *c);
/* Adds the items of one unit's result (r borrowed; r->cfg is not read): a
 * connect unit gives a "port" item; a certificate unit an "sslCert" item
 * and one "sslEnumCiphers" item per protocol it found; a unit that could not
 * say anything about its port (name not resolved, a local failure, no
 * certificate) gives an error message instead. Returns 0, -ENOMEM, or
 * -EINVAL when the report's leaf DER does not parse. */
int pp_infrasonar_check_add(struct pp_infrasonar_check *c, const struct pp_run_result *r);
/* Appends the check's document (one line, no newline) to b: the items of
 * each type by port, whatever order the units finished in (c's items are
 * sorted in place); the error, when a unit gave one, is the messages joined
 * by "; " ("tcp:80: Host not found"). name borrowed. 0 or b's error. */
int pp_infrasonar_check_write(struct pp_buf *b, struct pp_infrasonar_check *c, const char *name);
/* Frees what c holds; it can be initialised again. NULL-safe. */
void pp_infrasonar_check_release(struct pp_infrasonar_check *c);

#endif
