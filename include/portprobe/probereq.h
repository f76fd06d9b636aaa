/* probereq.h: the request of `serve`'s /probe, checked before anything is
 * probed, and the server's HTTP authentication.
 *
 * /probe?target=HOST:PORT&module=NAME[&hostname=SNI] answers as
 * blackbox_exporter's /probe does; pp_probe_req_parse() turns its (already
 * percent-decoded) parameters and the X-Prometheus-Scrape-Timeout-Seconds
 * header into what the prober needs, or into one line and an HTTP status.
 * It refuses, before any DNS query or connection: a missing or malformed
 * target, a target without a port, an unknown module, a malformed timeout
 * header (400), and a target the probe allowlist cannot allow (403). A name
 * that only an address or CIDR entry could allow is let through with
 * need_resolve_check set: the caller resolves it, asks
 * pp_probe_req_allowed_addr() about the one address it picked, and probes
 * exactly that address or nothing.
 *
 * Choices where blackbox_exporter leaves room, and why:
 *  - no module (or module=""): "tcp_connect". Blackbox falls back to its
 *    "http_2xx"; tcp_connect is the builtin that plays that part here.
 *  - timeout: the header minus timeout_offset, at least
 *    PP_PROBE_REQ_MIN_TIMEOUT (a 0.2 s scrape would otherwise get none),
 *    at most PP_PROBE_REQ_MAX_TIMEOUT, then capped by the module's timeout
 *    (which is used as set, even below the minimum: the operator chose it).
 *    No header: the module's timeout, else 120 s (no offset: there is no
 *    scrape deadline to answer before). A header that is not a positive
 *    decimal number ("0", "-1", "abc", "inf", "1e309") is a 400, where
 *    blackbox takes "0" as no header and answers other garbage with 500.
 *  - server_name: the module's tls_config.server_name, else the hostname
 *    parameter, else the target when it is a name; as blackbox, hostname
 *    only fills in what the module leaves unset. An address is never a
 *    server name (SNI cannot carry one).
 *  - a target's name may not end in an all-numeric label ("010.0.0.1",
 *    "0x7f.1"): resolvers read such names as addresses in forms inet_pton
 *    refuses, which would slip past the allowlist's address rules. */
#ifndef PORTPROBE_PROBEREQ_H
#define PORTPROBE_PROBEREQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "portprobe/config.h"
#include "portprobe/result.h"

#define PP_PROBE_REQ_DEFAULT_MODULE  "tcp_connect"
#define PP_PROBE_REQ_DEFAULT_TIMEOUT 120.0  /* s, with neither header nor module timeout */
#define PP_PROBE_REQ_DEFAULT_OFFSET  0.5    /* s, blackbox's --timeout-offset */
#define PP_PROBE_REQ_MIN_TIMEOUT     0.1    /* s, floor of the header's budget */
#define PP_PROBE_REQ_MAX_TIMEOUT     3600.0 /* s, ceiling of the header's budget */
#define PP_PROBE_REQ_HOST_MAX        253u   /* bytes in a host name */
#define PP_PROBE_REQ_TARGET_MAX      300u   /* bytes in a target */
#define PP_PROBE_REQ_ERR_MAX         256u   /* a buffer that holds every message whole */

/* A checked /probe request. */
struct pp_probe_req {
	const struct pp_config_module *module; /* borrowed from the configuration */
	char *host;                            /* owned: the target's host, brackets stripped */
	uint16_t port;                         /* 1..65535 */
	bool literal;                          /* host is an address literal, parsed in addr */
	struct pp_addr addr;     /* literal: the address, port set; len 0 for a name */
	char *server_name;       /* owned: TLS server name (see above); NULL: none */
	double timeout;          /* s for the whole probe, > 0 (see above) */
	bool need_resolve_check; /* a name only an address entry can allow: check what it
				    resolves to with pp_probe_req_allowed_addr */
};

/* Checks a /probe request against cfg. target, module, hostname and
 * scrape_timeout (the header's value) are borrowed and may each be NULL
 * (absent; "" counts as absent too, as in blackbox); timeout_offset is
 * subtracted from the header's value (negative or NaN counts as 0). On
 * success fills *ret (release with pp_probe_req_release) and returns 0.
 * Otherwise *ret is untouched, err (when not NULL) holds one line such as
 * `target "db:0": port is not in 1..65535` with any quoted input cut short
 * and its control bytes replaced by '?', and the return is -EINVAL (a
 * malformed request), -ENOENT (unknown module), -EACCES (not in the
 * allowlist) or -ENOMEM; pp_probe_req_status() gives the HTTP status. */
int pp_probe_req_parse(const struct pp_config *cfg, const char *target, const char *module,
		       const char *hostname, const char *scrape_timeout, double timeout_offset,
		       struct pp_probe_req *ret, char *err, size_t errlen);

/* The HTTP status for a pp_probe_req_parse() return: 200 for 0, 403 for
 * -EACCES, 500 for -ENOMEM, 400 for the rest. */
int pp_probe_req_status(int rc);

/* True when req's target may be probed at resolved, the one address the
 * caller is about to connect to (the allowlist's rules, pp_config_allowed).
 * Needed when req->need_resolve_check is set; correct for any request.
 * False when resolved is NULL or unset. */
bool pp_probe_req_allowed_addr(const struct pp_config *cfg, const struct pp_probe_req *req,
			       const struct pp_addr *resolved);

/* Frees what pp_probe_req_parse() allocated in req and zeroes it. NULL-safe. */
void pp_probe_req_release(struct pp_probe_req *req);

/* Checks an Authorization header value (NULL: no header) against the
 * server's auth: 0 when auth is NULL or configures nothing, or when the
 * header is "Basic base64(user:password)" or "Bearer TOKEN" (the scheme in
 * any case) with the configured credentials; -EACCES otherwise (no header,
 * another scheme, bad base64, a NUL in the decoded value, no ':', or wrong
 * credentials). Credentials are compared as SHA-256 digests with
 * CRYPTO_memcmp, both user and password every time, so the time taken does
 * not say where, or whether, they differ. */
int pp_http_auth_check(const struct pp_config_auth *auth, const char *authorization);

/* The WWW-Authenticate value of a 401 for auth: `Basic realm="portprobe",
 * charset="UTF-8"` or `Bearer realm="portprobe"`; NULL when auth is NULL or
 * configures nothing. A static string. */
const char *pp_http_auth_challenge(const struct pp_config_auth *auth);

#endif
