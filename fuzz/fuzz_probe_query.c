/* fuzz_probe_query.c: a /probe request as a client sends it. The input is a
 * raw query string, a newline, and an Authorization header value (the rest
 * of the input; no newline: no header). The query is split on '&' and '='
 * and percent-decoded here as libmicrohttpd does ('+' is a space, a bad
 * escape stays as written, %00 ends the C string the server gets); the
 * first target, module, hostname and timeout (standing for the scrape
 * timeout header) go to pp_probe_req_parse() against a fixed configuration
 * with modules and an allowlist, and the header to pp_http_auth_check()
 * with basic, bearer and no auth configured.
 *
 * Beyond not crashing: a refusal is one printable line with the status its
 * code implies and leaves the result untouched; an accepted request holds
 * what probereq.h promises (a known module, port 1..65535, a timeout in
 * range, a literal with its address, an allowlist that agrees) and a
 * credential is accepted only in its scheme. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "portprobe/config.h"
#include "portprobe/parse.h"
#include "portprobe/probereq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define QUERY_MAX  4096 /* bytes of query string tried */
#define HEADER_MAX 9000 /* bytes of header tried (above the library's cap) */

static const char config_yaml[] = "server:\n"
				  "  probe_allowlist:\n"
				  "    - 10.0.0.0/8\n"
				  "    - \"192.0.2.10:443\"\n"
				  "    - \"[2001:db8::/32]:8000-8099\"\n"
				  "    - \"[fe80::/10]:22\"\n"
				  "    - \"[::ffff:172.16.0.0/108]:22\"\n"
				  "    - \"*.example.com\"\n"
				  "    - \"db.internal:5432\"\n"
				  "modules:\n"
				  "  tcp4:\n"
				  "    prober: tcp\n"
				  "    timeout: 5s\n"
				  "    preferred_ip_protocol: ip4\n"
				  "  tls_internal:\n"
				  "    prober: tcp\n"
				  "    tcp:\n"
				  "      tls: true\n"
				  "      tls_config:\n"
				  "        server_name: internal.example.com\n"
				  "  cert:\n"
				  "    prober: tls\n"
				  "    timeout: 50ms\n";

static char user[] = "prometheus", password[] = "s3cret:x", token[] = "tok.EN-123_abc";

/* The configuration, parsed once; aborts when it does not load. */
static const struct pp_config *config(void)
{
	static struct pp_config *c;
	char err[256];

	if (!c && pp_config_parse(config_yaml, strlen(config_yaml), "fuzz.yaml", &c, err,
				  sizeof(err)) < 0)
		abort();
	return c;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes s[0..n) into out (n + 1 bytes): '+' is a space, %XX a byte, a bad
 * escape is kept. The result ends at its first NUL, as a C server sees it. */
static void decode(const char *s, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int hi, lo;

		if (s[i] == '+') {
			out[o++] = ' ';
		} else if (s[i] == '%' && i + 2 < n && (hi = hexval(s[i + 1])) >= 0 &&
			   (lo = hexval(s[i + 2])) >= 0) {
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
}

/* The parameters the harness looks at: the first of each. */
struct query {
	char *target, *module, *hostname, *timeout;
};

/* Splits q (NUL-terminated, modified) on '&' and '='; values point into q. */
static void split_query(char *q, struct query *ret)
{
	char *p = q;

	memset(ret, 0, sizeof(*ret));
	while (p) {
		char *amp = strchr(p, '&'), *eq, *key, *val;

		if (amp)
			*amp = '\0';
		eq = strchr(p, '=');
		val = eq ? eq + 1 : p + strlen(p);
		if (eq)
			*eq = '\0';
		/* decode in place: never longer than the text */
		key = p;
		decode(key, strlen(key), key);
		decode(val, strlen(val), val);
		if (!strcmp(key, "target") && !ret->target)
			ret->target = val;
		else if (!strcmp(key, "module") && !ret->module)
			ret->module = val;
		else if (!strcmp(key, "hostname") && !ret->hostname)
			ret->hostname = val;
		else if (!strcmp(key, "timeout") && !ret->timeout)
			ret->timeout = val;
		p = amp ? amp + 1 : NULL;
	}
}

static void check_line(const char *err, size_t errlen, bool empty)
{
	size_t n = strlen(err);

	if (n >= errlen || (empty ? n != 0 : n == 0))
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)err[i] < 0x20 || err[i] == 0x7f)
			abort();
}

static void check_accepted(const struct pp_config *c, const struct query *q,
			   const struct pp_probe_req *r)
{
	const char *mname = q->module && *q->module ? q->module : PP_PROBE_REQ_DEFAULT_MODULE;
	static const char *const probes[] = {"10.1.2.3", "192.0.2.10", "2001:db8::1",
					     "::ffff:10.0.0.1", "172.16.5.5"};
	size_t hl;

	if (!r->module || r->module != pp_config_module_find(c, mname))
		abort();
	if (!r->host || !(hl = strlen(r->host)) || hl > PP_PROBE_REQ_HOST_MAX || r->port == 0)
		abort();
	if (!isfinite(r->timeout) || !(r->timeout > 0) || r->timeout > PP_PROBE_REQ_MAX_TIMEOUT)
		abort();
	if (r->literal != (r->addr.len != 0))
		abort();
	if (r->literal) {
		if (pp_addr_port(&r->addr) != r->port || r->need_resolve_check ||
		    !pp_config_allowed(c, r->host, r->port, &r->addr) ||
		    !pp_probe_req_allowed_addr(c, r, &r->addr))
			abort();
	} else {
		for (size_t i = 0; i < hl; i++)
			if (!strchr(
				"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-",
				r->host[i]))
				abort();
		if (r->need_resolve_check == pp_config_allowed(c, r->host, r->port, NULL))
			abort();
	}
	if (r->server_name) {
		size_t sl = strlen(r->server_name);

		if (!sl || sl > PP_PROBE_REQ_HOST_MAX || strchr(r->server_name, ':') ||
		    (sl > 1 && r->server_name[sl - 1] == '.'))
			abort();
	} else if (!r->literal || (q->hostname && *q->hostname)) {
		abort();
	}
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		struct pp_addr a;
		const char *why;

		if (pp_parse_ip(probes[i], r->port, &a, &why) < 0)
			abort();
		if (pp_probe_req_allowed_addr(c, r, &a) !=
		    pp_config_allowed(c, r->host, r->port, &a))
			abort();
	}
	if (pp_probe_req_allowed_addr(c, r, NULL))
		abort();
}

static void try_request(const struct query *q)
{
	const struct pp_config *c = config();
	struct pp_probe_req r, before;
	char err[PP_PROBE_REQ_ERR_MAX];
	int rc, status;

	memset(&r, 0xa5, sizeof(r));
	before = r;
	memset(err, 'x', sizeof(err));
	rc = pp_probe_req_parse(c, q->target, q->module, q->hostname, q->timeout,
				PP_PROBE_REQ_DEFAULT_OFFSET, &r, err, sizeof(err));
	status = pp_probe_req_status(rc);
	switch (rc) {
	case 0:
		if (status != 200)
			abort();
		check_line(err, sizeof(err), true);
		check_accepted(c, q, &r);
		pp_probe_req_release(&r);
		if (r.host || r.server_name)
			abort();
		return;
	case -EINVAL:
	case -ENOENT:
		if (status != 400)
			abort();
		break;
	case -EACCES:
		if (status != 403)
			abort();
		break;
	case -ENOMEM:
		if (status != 500)
			abort();
		break;
	default:
		abort();
	}
	check_line(err, sizeof(err), false);
	if (memcmp(&r, &before, sizeof(r)))
		abort();
}

/* True when h is scheme, one or more spaces, then something. */
static bool in_scheme(const char *h, const char *scheme)
{
	size_t n = strlen(scheme);

	return !strncasecmp(h, scheme, n) && h[n] == ' ';
}

static void try_auth(const char *header)
{
	struct pp_config_auth basic = {user, password, NULL}, bearer = {NULL, NULL, token},
			      none = {NULL, NULL, NULL};
	size_t n = header ? strlen(header) : 0, tl = strlen(token);

	if (pp_http_auth_check(&none, header) != 0 || pp_http_auth_check(NULL, header) != 0)
		abort();
	if (pp_http_auth_check(&basic, header) == 0 && !in_scheme(header, "Basic"))
		abort();
	if (pp_http_auth_check(&bearer, header) == 0 &&
	    (!in_scheme(header, "Bearer") || n < tl || strcmp(header + n - tl, token)))
		abort();
	if (!pp_http_auth_challenge(&basic) || !pp_http_auth_challenge(&bearer) ||
	    pp_http_auth_challenge(&none))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char query[QUERY_MAX + 1], header[HEADER_MAX + 1];
	const uint8_t *nl = memchr(data, '\n', size);
	size_t qn = nl ? (size_t)(nl - data) : size;
	struct query q;

	if (qn > QUERY_MAX)
		return 0;
	memcpy(query, data, qn);
	query[qn] = '\0';
	split_query(query, &q);
	try_request(&q);
	if (nl) {
		size_t hn = size - qn - 1;

		if (hn > HEADER_MAX)
			hn = HEADER_MAX;
		memcpy(header, nl + 1, hn);
		header[hn] = '\0';
		try_auth(header);
	} else {
		try_auth(NULL);
	}
	return 0;
}
