/* parse.c: strict parsers for command-line and configuration values.
 *
 * Numbers are decimal only: no sign, no hex, no exponent, no spaces, no unit,
 * so that "0x10", "1e3", " 5" and "5s" are all errors rather than surprises.
 * Every parser returns 0 or -EINVAL and sets *why to a phrase that completes
 * "<input> ..." in the command's error line. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portprobe/parse.h"

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

int pp_parse_uint(const char *s, unsigned min, unsigned max, unsigned *ret, const char **why)
{
	unsigned long v;

	if (!*s) {
		*why = "is empty";
		return -EINVAL;
	}
	if (!all_digits(s)) {
		*why = "is not a whole number";
		return -EINVAL;
	}
	errno = 0;
	v = strtoul(s, NULL, 10);
	if (errno == ERANGE || v < min || v > max) {
		*why = "is out of range";
		return -EINVAL;
	}
	*ret = (unsigned)v;
	return 0;
}

int pp_parse_port(const char *s, int allow_zero, uint16_t *ret, const char **why)
{
	unsigned v;

	if (!*s) {
		*why = "is empty";
		return -EINVAL;
	}
	if (!all_digits(s)) {
		*why = "is not a port number (expected 1..65535)";
		return -EINVAL;
	}
	if (strlen(s) > 5 || pp_parse_uint(s, 0, 65535, &v, why) < 0 || (v == 0 && !allow_zero)) {
		*why = allow_zero ? "is not in 0..65535" : "is not in 1..65535";
		return -EINVAL;
	}
	*ret = (uint16_t)v;
	return 0;
}

int pp_parse_seconds(const char *s, int allow_zero, double max, double *ret, const char **why)
{
	const char *p = s;
	int digits = 0, dots = 0;
	double v;

	if (!*s) {
		*why = "is empty";
		return -EINVAL;
	}
	for (; *p; p++) {
		if (*p >= '0' && *p <= '9')
			digits++;
		else if (*p == '.' && !dots)
			dots++;
		else
			break;
	}
	if (*p || !digits || strlen(s) > 32) {
		*why = "is not a number of seconds (expected e.g. 2 or 0.5)";
		return -EINVAL;
	}
	v = strtod(s, NULL);
	if (!isfinite(v) || v > max) {
		*why = "is too large";
		return -EINVAL;
	}
	if (v == 0 && !allow_zero) {
		*why = "must be greater than 0";
		return -EINVAL;
	}
	if (v > 0 && v < 0.001) {
		*why = "is below the 1 ms resolution";
		return -EINVAL;
	}
	*ret = v;
	return 0;
}

int pp_parse_host(const char *s, const char **why)
{
	size_t n = strlen(s), label = 0;

	if (n == 0) {
		*why = "is empty";
		return -EINVAL;
	}
	if (n > 253 && s[0] != '[') {
		*why = "is longer than 253 characters";
		return -EINVAL;
	}
	if (strchr(s, ':') || s[0] == '[') {
		struct pp_addr a;

		return pp_parse_ip(s, 0, &a, why);
	}
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= ' ' || c >= 0x7f || strchr("/\\\"'`<>|;,(){}*?!$&", c)) {
			*why = "contains a character a host name cannot have";
			return -EINVAL;
		}
		if (c == '.') {
			if (label == 0) { /* "a..b", "a..", ".a" */
				*why = "has an empty label";
				return -EINVAL;
			}
			label = 0;
		} else if (++label > 63) {
			*why = "has a label longer than 63 characters";
			return -EINVAL;
		}
	}
	if (s[0] == '.') {
		*why = "has an empty label";
		return -EINVAL;
	}
	return 0;
}

int pp_parse_dns_servers(const char *s, char *out, size_t outlen, const char **why)
{
	size_t used = 0;
	const char *p = s;

	if (!*s) {
		*why = "is empty";
		return -EINVAL;
	}
	while (*p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char item[INET6_ADDRSTRLEN + 16], host[sizeof(item)], text[PP_ADDRSTRLEN];
		const char *portstr = NULL;
		uint16_t port = 53;
		struct pp_addr a;
		int w;

		if (n == 0 || n >= sizeof(item)) {
			*why = n ? "has an entry that is too long" : "has an empty entry";
			return -EINVAL;
		}
		memcpy(item, p, n);
		item[n] = '\0';
		if (item[0] == '[') {
			char *close = strchr(item, ']');

			if (!close || (close[1] && close[1] != ':')) {
				*why = "has an IPv6 entry not written as [ADDR] or [ADDR]:PORT";
				return -EINVAL;
			}
			if (close[1] == ':')
				portstr = close + 2;
			close[1] = '\0';
			snprintf(host, sizeof(host), "%s", item);
		} else if (strchr(item, ':') && strchr(item, ':') != strrchr(item, ':')) {
			snprintf(host, sizeof(host), "%s", item); /* bare IPv6 */
		} else {
			char *colon = strchr(item, ':');

			if (colon) {
				*colon = '\0';
				portstr = colon + 1;
			}
			snprintf(host, sizeof(host), "%s", item);
		}
		if (strchr(host, '%')) {
			*why = "has a scope id, which c-ares cannot use";
			return -EINVAL;
		}
		if (pp_parse_ip(host, 0, &a, why) < 0)
			return -EINVAL;
		if (portstr && pp_parse_port(portstr, 0, &port, why) < 0)
			return -EINVAL;
		pp_addr_str(&a, text, sizeof(text));
		w = snprintf(out + used, outlen - used,
			     a.sa.ss_family == AF_INET6 ? "%s[%s]:%u" : "%s%s:%u", used ? "," : "",
			     text, (unsigned)port);
		if (w < 0 || (size_t)w >= outlen - used) {
			*why = "is too long";
			return -EINVAL;
		}
		used += (size_t)w;
		p += n;
		if (*p == ',') {
			p++;
			if (!*p) {
				*why = "has an empty entry";
				return -EINVAL;
			}
		}
	}
	return 0;
}
