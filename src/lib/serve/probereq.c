/* probereq.c: checks a /probe request and the server's HTTP authentication.
 *
 * Everything here reads what an HTTP client sent, so every piece is checked
 * whole before it is used: the target is split by hand ("[v6]:port" or
 * "host:port", nothing else), its host is an address literal (parse.h's
 * pp_parse_ip) or a DNS name of [A-Za-z0-9._-] with the label rules of
 * pp_parse_host, the port is 1..65535 in decimal, and the allowlist is asked
 * before the caller may resolve or connect. Messages quote the input cut to
 * QUOTE_MAX bytes with anything unprintable replaced, so that they stay one
 * short line whatever was sent.
 *
 * Credentials are compared through their SHA-256 digests with
 * CRYPTO_memcmp: the time taken then depends on neither where nor whether
 * the sent value differs, and hashing the configured secret costs the same
 * on every request. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "portprobe/parse.h"
#include "portprobe/probereq.h"

#define QUOTE_MAX           64u   /* bytes of an input quoted in a message */
#define TIMEOUT_TEXT_MAX    32u   /* bytes in a scrape timeout header value */
#define AUTH_HEADER_MAX     8192u /* bytes of credentials in an Authorization header */
#define AUTH_DECODED_MAX    (AUTH_HEADER_MAX / 4 * 3)
#define TIMEOUT_HEADER_NAME "X-Prometheus-Scrape-Timeout-Seconds"

/* s for a message: at most QUOTE_MAX bytes, bytes outside printable ASCII as
 * '?', "..." when cut. Returns buf. */
static const char *quote(const char *s, char *buf, size_t len)
{
	size_t n = 0, i;

	for (i = 0; s[i] && i < QUOTE_MAX && n + 1 < len; i++)
		buf[n++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (s[i] && n + 3 < len) { /* room for "..." and the NUL */
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

/* Writes the message into err (when there is one) and returns e. */
__attribute__((format(printf, 4, 5))) static int fail(char *err, size_t errlen, int e,
						      const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return e;
}

/* True when s holds only printable ASCII other than space. */
static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/* Checks s as a DNS name: [A-Za-z0-9._-], pp_parse_host's length and label
 * rules, and a last label that is not a number (decimal or 0x hex: resolvers
 * read "010.0.0.1" or "0x7f.1" as addresses). 0 or -EINVAL with *why set. */
static int check_name(const char *s, const char **why)
{
	size_t n = strlen(s), start, i;
	bool digits = true, hex;

	if (pp_parse_host(s, why) < 0)
		return -EINVAL;
	if (strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_") != n) {
		*why = "contains a character a host name cannot have";
		return -EINVAL;
	}
	if (n && s[n - 1] == '.')
		n--;
	if (n && s[n - 1] == '.') {
		*why = "has an empty label"; /* "a..": pp_parse_host lets it through */
		return -EINVAL;
	}
	start = n;
	while (start > 0 && s[start - 1] != '.')
		start--;
	for (i = start; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			digits = false;
	hex = n - start >= 2 && s[start] == '0' && (s[start + 1] == 'x' || s[start + 1] == 'X');
	for (i = start + 2; hex && i < n; i++)
		if (!strchr("0123456789abcdefABCDEF", s[i]))
			hex = false;
	if ((digits && n > start) || hex) {
		*why = "ends in a number but is not an IP address";
		return -EINVAL;
	}
	return 0;
}

/* Splits and checks target into r->host (allocated), port, literal, addr. */
static int parse_target(const char *target, struct pp_probe_req *r, char *err, size_t errlen)
{
	char q[QUOTE_MAX + 4], host[PP_PROBE_REQ_TARGET_MAX + 1];
	const char *port_text = NULL, *why;
	size_t n;

	if (!target || !*target)
		return fail(err, errlen, -EINVAL, "Target parameter is missing");
	quote(target, q, sizeof(q));
	n = strlen(target);
	if (n > PP_PROBE_REQ_TARGET_MAX)
		return fail(err, errlen, -EINVAL, "target \"%s\" is longer than %u bytes", q,
			    PP_PROBE_REQ_TARGET_MAX);
	if (!printable(target))
		return fail(err, errlen, -EINVAL,
			    "target \"%s\" holds a space, a control character or a non-ASCII byte",
			    q);
	if (target[0] == '[') {
		const char *close = strchr(target, ']');
		char bracketed[PP_PROBE_REQ_TARGET_MAX + 1];

		if (!close)
			return fail(err, errlen, -EINVAL, "target \"%s\": '[' without ']'", q);
		if (close[1] == ':')
			port_text = close + 2;
		else if (close[1])
			return fail(err, errlen, -EINVAL,
				    "target \"%s\": something other than :PORT after ']'", q);
		n = (size_t)(close - target) + 1;
		memcpy(bracketed, target, n);
		bracketed[n] = '\0';
		/* IPv6 only: pp_parse_ip refuses "[10.0.0.1]" */
		if (pp_parse_ip(bracketed, 0, &r->addr, &why) < 0)
			return fail(err, errlen, -EINVAL, "target \"%s\": host %s", q, why);
		memcpy(host, target + 1, n - 2);
		host[n - 2] = '\0';
		r->literal = true;
	} else {
		const char *colon = strchr(target, ':');

		if (colon && strchr(colon + 1, ':'))
			return fail(err, errlen, -EINVAL,
				    "target \"%s\": an IPv6 address needs brackets: [ADDR]:PORT",
				    q);
		n = colon ? (size_t)(colon - target) : n;
		memcpy(host, target, n);
		host[n] = '\0';
		if (colon)
			port_text = colon + 1;
		if (pp_parse_ip(host, 0, &r->addr, &why) == 0)
			r->literal = true;
		else if (check_name(host, &why) < 0)
			return fail(err, errlen, -EINVAL, "target \"%s\": host %s", q, why);
	}
	if (!port_text)
		return fail(err, errlen, -EINVAL, "target \"%s\": no port", q);
	if (pp_parse_port(port_text, 0, &r->port, &why) < 0)
		return fail(err, errlen, -EINVAL, "target \"%s\": port %s", q, why);
	if (r->literal)
		pp_addr_set_port(&r->addr, r->port);
	r->host = strdup(host);
	if (!r->host)
		return fail(err, errlen, -ENOMEM, "out of memory");
	return 0;
}

/* Checks the hostname parameter: a DNS name, not an address. */
static int check_hostname(const char *hostname, char *err, size_t errlen)
{
	char q[QUOTE_MAX + 4];
	struct pp_addr a;
	const char *why;

	quote(hostname, q, sizeof(q));
	if (strlen(hostname) > PP_PROBE_REQ_HOST_MAX)
		return fail(err, errlen, -EINVAL, "hostname \"%s\" is longer than %u bytes", q,
			    PP_PROBE_REQ_HOST_MAX);
	if (!printable(hostname))
		return fail(
		    err, errlen, -EINVAL,
		    "hostname \"%s\" holds a space, a control character or a non-ASCII byte", q);
	if (hostname[0] == '[' || strchr(hostname, ':') || pp_parse_ip(hostname, 0, &a, &why) == 0)
		return fail(err, errlen, -EINVAL, "hostname \"%s\" is an address, not a host name",
			    q);
	if (check_name(hostname, &why) < 0)
		return fail(err, errlen, -EINVAL, "hostname \"%s\" %s", q, why);
	return 0;
}

/* A copy of name without a final dot (SNI carries none); NULL when out of memory. */
static char *server_name_dup(const char *name)
{
	size_t n = strlen(name);

	if (n > 1 && name[n - 1] == '.')
		n--;
	return strndup(name, n);
}

/* Parses a scrape timeout header value: decimal digits with an optional
 * fraction and exponent, as Prometheus writes it, positive and finite. */
static bool parse_scrape_timeout(const char *s, double *ret)
{
	size_t i = 0, digits = 0, n = strlen(s);
	double v;

	if (n == 0 || n > TIMEOUT_TEXT_MAX)
		return false;
	for (; s[i] >= '0' && s[i] <= '9'; i++)
		digits++;
	if (s[i] == '.')
		for (i++; s[i] >= '0' && s[i] <= '9'; i++)
			digits++;
	if (!digits)
		return false;
	if (s[i] == 'e' || s[i] == 'E') {
		size_t exp = 0;

		i++;
		if (s[i] == '+' || s[i] == '-')
			i++;
		for (; s[i] >= '0' && s[i] <= '9'; i++)
			exp++;
		if (!exp)
			return false;
	}
	if (s[i])
		return false;
	v = strtod(s, NULL);
	if (!isfinite(v) || !(v > 0))
		return false;
	*ret = v;
	return true;
}

/* The probe's timeout (see probereq.h). */
static int effective_timeout(const struct pp_config_module *m, const char *scrape_timeout,
			     double offset, double *ret, char *err, size_t errlen)
{
	char q[QUOTE_MAX + 4];
	double t, v;

	if (scrape_timeout && *scrape_timeout) {
		if (!parse_scrape_timeout(scrape_timeout, &v))
			return fail(err, errlen, -EINVAL,
				    TIMEOUT_HEADER_NAME
				    " \"%s\" is not a positive number of seconds",
				    quote(scrape_timeout, q, sizeof(q)));
		t = v - (offset > 0 ? offset : 0);
		if (!(t >= PP_PROBE_REQ_MIN_TIMEOUT))
			t = PP_PROBE_REQ_MIN_TIMEOUT;
		if (t > PP_PROBE_REQ_MAX_TIMEOUT)
			t = PP_PROBE_REQ_MAX_TIMEOUT;
		if (m->timeout > 0 && m->timeout < t)
			t = m->timeout;
	} else {
		t = m->timeout > 0 ? m->timeout : PP_PROBE_REQ_DEFAULT_TIMEOUT;
	}
	*ret = t;
	return 0;
}

/* True when some address or CIDR entry of cfg takes port: only then can a
 * name the name entries refuse still be allowed by what it resolves to. */
static bool net_entry_for_port(const struct pp_config *cfg, uint16_t port)
{
	for (size_t i = 0; i < cfg->server.nallow; i++) {
		const struct pp_config_allow *a = &cfg->server.allow[i];

		if (a->kind == PP_CONFIG_ALLOW_NET && port >= a->port_min && port <= a->port_max)
			return true;
	}
	return false;
}

int pp_probe_req_parse(const struct pp_config *cfg, const char *target, const char *module,
		       const char *hostname, const char *scrape_timeout, double timeout_offset,
		       struct pp_probe_req *ret, char *err, size_t errlen)
{
	const char *mname = module && *module ? module : PP_PROBE_REQ_DEFAULT_MODULE, *sn = NULL;
	struct pp_probe_req r;
	char q[QUOTE_MAX + 4];
	int rc;

	memset(&r, 0, sizeof(r));
	if (err && errlen)
		err[0] = '\0';
	if (!cfg) {
		rc = fail(err, errlen, -EINVAL, "no configuration");
		goto out;
	}
	r.module = pp_config_module_find(cfg, mname);
	if (!r.module) {
		rc =
		    fail(err, errlen, -ENOENT, "Unknown module \"%s\"", quote(mname, q, sizeof(q)));
		goto out;
	}
	rc = parse_target(target, &r, err, errlen);
	if (rc < 0)
		goto out;
	if (hostname && *hostname) {
		rc = check_hostname(hostname, err, errlen);
		if (rc < 0)
			goto out;
	}
	rc = effective_timeout(r.module, scrape_timeout, timeout_offset, &r.timeout, err, errlen);
	if (rc < 0)
		goto out;

	if (r.module->server_name && *r.module->server_name)
		sn = r.module->server_name;
	else if (hostname && *hostname)
		sn = hostname;
	else if (!r.literal)
		sn = r.host;
	if (sn && !(r.server_name = server_name_dup(sn))) {
		rc = fail(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}

	if (r.literal ? !pp_config_allowed(cfg, r.host, r.port, &r.addr)
		      : !pp_config_allowed(cfg, r.host, r.port, NULL)) {
		if (r.literal || !net_entry_for_port(cfg, r.port)) {
			rc = fail(err, errlen, -EACCES,
				  "target \"%s\" is not in the probe allowlist",
				  quote(target, q, sizeof(q)));
			goto out;
		}
		r.need_resolve_check = true;
	}
	*ret = r;
	return 0;
out:
	pp_probe_req_release(&r);
	return rc;
}

int pp_probe_req_status(int rc)
{
	switch (rc) {
	case 0:
		return 200;
	case -EACCES:
		return 403;
	case -ENOMEM:
		return 500;
	default:
		return 400;
	}
}

bool pp_probe_req_allowed_addr(const struct pp_config *cfg, const struct pp_probe_req *req,
			       const struct pp_addr *resolved)
{
	if (!cfg || !req || !req->host || !resolved || !resolved->len)
		return false;
	return pp_config_allowed(cfg, req->host, req->port, resolved);
}

void pp_probe_req_release(struct pp_probe_req *req)
{
	if (!req)
		return;
	free(req->host);
	free(req->server_name);
	memset(req, 0, sizeof(*req));
}

/* 1 when a[0..alen) equals the string b, else 0, in time independent of the
 * contents (see the top of the file). 0 when hashing fails. */
static unsigned same_secret(const void *a, size_t alen, const char *b)
{
	unsigned char da[EVP_MAX_MD_SIZE], db[EVP_MAX_MD_SIZE];
	unsigned la = 0, lb = 0;
	int oka, okb;

	oka = EVP_Digest(a, alen, da, &la, EVP_sha256(), NULL);
	okb = EVP_Digest(b, strlen(b), db, &lb, EVP_sha256(), NULL);
	if (oka != 1 || okb != 1 || la != lb || la == 0)
		return 0;
	return CRYPTO_memcmp(da, db, la) == 0;
}

/* When h starts with scheme (any case) and one or more spaces, points *cred
 * past them and returns true. */
static bool auth_scheme(const char *h, const char *scheme, const char **cred)
{
	size_t n = strlen(scheme);

	if (strncasecmp(h, scheme, n) || h[n] != ' ')
		return false;
	h += n;
	while (*h == ' ')
		h++;
	*cred = h;
	return true;
}

/* Checks base64(user:password) against auth's basic credentials. */
static int check_basic(const struct pp_config_auth *auth, const char *cred)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char buf[AUTH_DECODED_MAX + 4];
	size_t n = strlen(cred), pad = 0, len, ulen;
	const unsigned char *colon;
	unsigned ok;
	int dn;

	if (n == 0 || n % 4 || n > AUTH_HEADER_MAX)
		return -EACCES;
	while (pad < 2 && cred[n - 1 - pad] == '=')
		pad++;
	if (strspn(cred, alphabet) != n - pad)
		return -EACCES; /* a stray '=', a third '=', or a byte outside base64 */
	dn = EVP_DecodeBlock(buf, (const unsigned char *)cred, (int)n);
	/* EVP_DecodeBlock counts the padding as decoded zero bytes */
	if (dn < 0 || (size_t)dn != n / 4 * 3)
		return -EACCES;
	len = (size_t)dn - pad;
	colon = memchr(buf, ':', len);
	if (memchr(buf, '\0', len) || !colon) {
		OPENSSL_cleanse(buf, sizeof(buf));
		return -EACCES;
	}
	ulen = (size_t)(colon - buf);
	/* both compared, whatever the first says */
	ok = same_secret(buf, ulen, auth->username) &
	     same_secret(colon + 1, len - ulen - 1, auth->password ? auth->password : "");
	OPENSSL_cleanse(buf, sizeof(buf));
	return ok ? 0 : -EACCES;
}

int pp_http_auth_check(const struct pp_config_auth *auth, const char *authorization)
{
	const char *cred;

	if (!auth || (!auth->username && !auth->bearer_token))
		return 0;
	if (!authorization)
		return -EACCES;
	if (strnlen(authorization, AUTH_HEADER_MAX + 1) > AUTH_HEADER_MAX)
		return -EACCES;
	if (auth->username && auth_scheme(authorization, "Basic", &cred))
		return printable(cred) ? check_basic(auth, cred) : -EACCES;
	if (auth->bearer_token && auth_scheme(authorization, "Bearer", &cred)) {
		if (!*cred || !printable(cred))
			return -EACCES;
		return same_secret(cred, strlen(cred), auth->bearer_token) ? 0 : -EACCES;
	}
	return -EACCES;
}

const char *pp_http_auth_challenge(const struct pp_config_auth *auth)
{
	if (!auth)
		return NULL;
	if (auth->username)
		return "Basic realm=\"portprobe\", charset=\"UTF-8\"";
	if (auth->bearer_token)
		return "Bearer realm=\"portprobe\"";
	return NULL;
}
