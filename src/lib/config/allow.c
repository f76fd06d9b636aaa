/* allow.c: the probe allowlist of `serve`: which targets /probe may touch.
 *
 * The allowlist is what keeps an exposed /probe from becoming a scanner of
 * other people's networks, so its rules are few and strict. Addresses and
 * CIDRs match addresses only (a literal target, or the address the server
 * resolved and will probe); names match names only, exactly or below a
 * "*.domain" wildcard, case-insensitively and ignoring a final dot; a name
 * never matches through the address it happens to resolve to unless an
 * address entry allows that address. IPv4-mapped IPv6 addresses are judged
 * as the IPv4 address they carry, on both sides. An entry may end in
 * ":PORT" or ":P1-P2" (IPv6 then in brackets); without it every port is
 * allowed. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config_int.h"
#include "portprobe/parse.h"

#define ALLOW_TEXT_MAX 300

/* "PORT" or "P1-P2" (s is the entry's copy; the dash is cut) into a. */
static int parse_ports(char *s, struct pp_config_allow *a, const char **why)
{
	char *dash = strchr(s, '-');
	const char *ignored;

	if (!dash) {
		if (pp_parse_port(s, 0, &a->port_min, &ignored) < 0) {
			*why = "has a port that is not a number in 1..65535";
			return -EINVAL;
		}
		a->port_max = a->port_min;
		return 0;
	}
	*dash = '\0';
	if (pp_parse_port(s, 0, &a->port_min, &ignored) < 0 ||
	    pp_parse_port(dash + 1, 0, &a->port_max, &ignored) < 0) {
		*why = "has a port range that is not P1-P2 with ports in 1..65535";
		return -EINVAL;
	}
	if (a->port_min > a->port_max) {
		*why = "has a reversed port range";
		return -EINVAL;
	}
	return 0;
}

/* The first 12 bytes of an IPv4-mapped IPv6 address (::ffff:0:0/96). */
static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* An IPv4 or IPv6 literal into family/bytes; IPv4-mapped IPv6 becomes IPv4. */
static bool literal(const char *s, int *family, uint8_t *addr)
{
	if (inet_pton(AF_INET, s, addr) == 1) {
		*family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, s, addr) != 1)
		return false;
	*family = AF_INET6;
	if (!memcmp(addr, v4mapped, 12)) {
		memmove(addr, addr + 12, 4);
		memset(addr + 4, 0, 12);
		*family = AF_INET;
	}
	return true;
}

/* The address part: "*", CIDR, address, "*.domain" or a name. */
static int parse_host(char *h, struct pp_config_allow *a, const char **why)
{
	char *slash = strchr(h, '/');
	size_t n;

	if (!strcmp(h, "*")) {
		a->kind = PP_CONFIG_ALLOW_ANY;
		return 0;
	}
	if (slash || strchr(h, ':') || literal(h, &a->family, a->addr)) {
		bool mapped_v4;
		unsigned max, prefix = 0;
		const char *p;

		if (slash)
			*slash = '\0';
		mapped_v4 = strchr(h, ':') != NULL;
		if (!literal(h, &a->family, a->addr)) {
			*why = "is not an address, a CIDR, a host name or *.domain";
			return -EINVAL;
		}
		mapped_v4 = mapped_v4 && a->family == AF_INET;
		max = a->family == AF_INET ? 32 : 128;
		if (!slash) {
			prefix = max;
		} else {
			p = slash + 1;
			if (!*p || strlen(p) > 3 || strspn(p, "0123456789") != strlen(p)) {
				*why = "has a prefix length that is not a number";
				return -EINVAL;
			}
			prefix = (unsigned)strtoul(p, NULL, 10);
			if (mapped_v4) {
				if (prefix < 96 || prefix > 128) {
					*why = "has an IPv4-mapped prefix length outside 96..128";
					return -EINVAL;
				}
				prefix -= 96;
			} else if (prefix > max) {
				*why = max == 32 ? "has a prefix length above 32"
						 : "has a prefix length above 128";
				return -EINVAL;
			}
		}
		a->kind = PP_CONFIG_ALLOW_NET;
		a->prefix = prefix;
		/* the network: host bits cleared */
		for (unsigned bit = prefix; bit < max; bit++)
			a->addr[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
		return 0;
	}
	if (!strncmp(h, "*.", 2)) {
		a->kind = PP_CONFIG_ALLOW_SUFFIX;
		h++; /* keep the dot: ".example.com" */
	} else {
		a->kind = PP_CONFIG_ALLOW_NAME;
	}
	if (strchr(h, '*')) {
		*why = "may have '*' only as its whole first label (*.example.com)";
		return -EINVAL;
	}
	if (pp_parse_host(a->kind == PP_CONFIG_ALLOW_SUFFIX ? h + 1 : h, why) < 0)
		return -EINVAL;
	n = strlen(h);
	if (n && h[n - 1] == '.')
		h[--n] = '\0';
	if (n == 0 || (a->kind == PP_CONFIG_ALLOW_SUFFIX && n < 2)) {
		*why = "has no name";
		return -EINVAL;
	}
	for (char *p = h; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	a->name = strdup(h);
	return a->name ? 0 : -ENOMEM;
}

int pp_config_allow_parse(const char *s, struct pp_config_allow *ret, const char **why)
{
	struct pp_config_allow a;
	char buf[ALLOW_TEXT_MAX + 1], *host = buf, *ports = NULL;
	size_t n = s ? strlen(s) : 0;
	int r;

	*why = NULL;
	memset(&a, 0, sizeof(a));
	if (n == 0) {
		*why = "is empty";
		return -EINVAL;
	}
	if (n > ALLOW_TEXT_MAX) {
		*why = "is too long";
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f || s[i] == '%') {
			*why = s[i] == '%' ? "has a scope id ('%'), which an entry cannot have"
					   : "holds a space or a control character";
			return -EINVAL;
		}
	memcpy(buf, s, n + 1);
	if (buf[0] == '[') {
		/* "[ADDR]", "[ADDR/LEN]", "[ADDR]/LEN", each with an optional ":PORTS" */
		char *close = strchr(buf, ']'), *rest;

		if (!close) {
			*why = "has '[' without ']'";
			return -EINVAL;
		}
		*close = '\0';
		host = buf + 1;
		rest = close + 1;
		if (*rest == '/') {
			char *colon = strchr(rest, ':');
			size_t hl = strlen(host),
			       pl = colon ? (size_t)(colon - rest) : strlen(rest);

			if (strchr(host, '/')) {
				*why = "has two prefix lengths";
				return -EINVAL;
			}
			/* move "/LEN" next to the address (the ']' freed one byte) */
			memmove(host + hl, rest, pl);
			host[hl + pl] = '\0';
			rest = colon ? colon : rest + pl;
		}
		if (*rest == ':') {
			ports = rest + 1;
		} else if (*rest) {
			*why = "has something after ']' that is not :PORT";
			return -EINVAL;
		}
		if (!strchr(host, ':')) {
			*why = "has brackets around something that is not an IPv6 address";
			return -EINVAL;
		}
	} else {
		char *first = strchr(buf, ':'), *last = strrchr(buf, ':');

		if (first && first == last) {
			*first = '\0';
			ports = first + 1;
		}
		/* two or more colons: a bare IPv6 address or CIDR, no port */
	}
	if (ports) {
		r = parse_ports(ports, &a, why);
		if (r < 0)
			return r;
	} else {
		a.port_min = 1;
		a.port_max = 65535;
	}
	if (!*host) {
		*why = "has no address or name before the port";
		return -EINVAL;
	}
	r = parse_host(host, &a, why);
	if (r == 0) {
		a.text = strdup(s);
		if (!a.text)
			r = -ENOMEM;
	}
	if (r < 0) {
		if (r == -ENOMEM)
			*why = "out of memory";
		pp_config_allow_release(&a);
		return r;
	}
	*ret = a;
	return 0;
}

void pp_config_allow_release(struct pp_config_allow *a)
{
	if (!a)
		return;
	free(a->text);
	free(a->name);
	memset(a, 0, sizeof(*a));
}

/* The address to judge: resolved, else host when it is a literal
 * (brackets and a scope id stripped). */
static bool target_address(const char *host, const struct pp_addr *resolved, int *family,
			   uint8_t *addr)
{
	char buf[INET6_ADDRSTRLEN + 2];
	size_t n;
	char *pct;

	if (resolved && resolved->len) {
		if (resolved->sa.ss_family == AF_INET) {
			memcpy(addr, &((const struct sockaddr_in *)&resolved->sa)->sin_addr, 4);
			*family = AF_INET;
			return true;
		}
		if (resolved->sa.ss_family != AF_INET6)
			return false;
		memcpy(addr, &((const struct sockaddr_in6 *)&resolved->sa)->sin6_addr, 16);
		*family = AF_INET6;
		if (!memcmp(addr, v4mapped, 12)) {
			memmove(addr, addr + 12, 4);
			*family = AF_INET;
		}
		return true;
	}
	if (!host)
		return false;
	n = strlen(host);
	if (host[0] == '[') {
		if (n < 3 || host[n - 1] != ']')
			return false;
		host++;
		n -= 2;
	}
	if (n >= sizeof(buf))
		return false;
	memcpy(buf, host, n);
	buf[n] = '\0';
	pct = strchr(buf, '%');
	if (pct)
		*pct = '\0';
	return literal(buf, family, addr);
}

/* True when host is written as an address rather than a name. */
static bool host_is_literal(const char *host)
{
	int family;
	uint8_t addr[16];

	return target_address(host, NULL, &family, addr);
}

bool pp_config_allow_match(const struct pp_config_allow *a, const char *host, uint16_t port,
			   const struct pp_addr *resolved)
{
	size_t hl, nl;

	if (port < a->port_min || port > a->port_max)
		return false;
	switch (a->kind) {
	case PP_CONFIG_ALLOW_ANY:
		return true;
	case PP_CONFIG_ALLOW_NET: {
		uint8_t addr[16];
		int family;

		if (!target_address(host, resolved, &family, addr) || family != a->family)
			return false;
		for (unsigned bit = 0; bit < a->prefix; bit++)
			if ((addr[bit / 8] ^ a->addr[bit / 8]) & (0x80u >> (bit % 8)))
				return false;
		return true;
	}
	case PP_CONFIG_ALLOW_NAME:
	case PP_CONFIG_ALLOW_SUFFIX:
		if (!host || !*host || host_is_literal(host))
			return false;
		hl = strlen(host);
		if (hl > 1 && host[hl - 1] == '.')
			hl--;
		nl = strlen(a->name);
		if (a->kind == PP_CONFIG_ALLOW_NAME)
			return hl == nl && !strncasecmp(host, a->name, nl);
		return hl > nl && !strncasecmp(host + hl - nl, a->name, nl);
	}
	return false;
}

bool pp_config_allowed(const struct pp_config *c, const char *host, uint16_t port,
		       const struct pp_addr *resolved)
{
	if (!c)
		return false;
	for (size_t i = 0; i < c->server.nallow; i++)
		if (pp_config_allow_match(&c->server.allow[i], host, port, resolved))
			return true;
	return false;
}
