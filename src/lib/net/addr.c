/* addr.c: IPv4/IPv6 addresses as sockaddr_storage with a length: parsing
 * literals (with brackets and scope ids), formatting and comparing. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "portprobe/parse.h"

int pp_addr_family(const struct pp_addr *addr)
{
	return addr->len ? addr->sa.ss_family : AF_UNSPEC;
}

uint16_t pp_addr_port(const struct pp_addr *addr)
{
	if (addr->sa.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&addr->sa)->sin_port);
	if (addr->sa.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)&addr->sa)->sin6_port);
	return 0;
}

void pp_addr_set_port(struct pp_addr *addr, uint16_t port)
{
	if (addr->sa.ss_family == AF_INET)
		((struct sockaddr_in *)&addr->sa)->sin_port = htons(port);
	else if (addr->sa.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&addr->sa)->sin6_port = htons(port);
}

char *pp_addr_str(const struct pp_addr *addr, char *buf, size_t len)
{
	if (!len)
		return buf;
	buf[0] = '\0';
	if (addr->len && addr->sa.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&addr->sa;

		if (!inet_ntop(AF_INET, &in->sin_addr, buf, (socklen_t)len))
			buf[0] = '\0';
	} else if (addr->len && addr->sa.ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&addr->sa;
		char ifname[IF_NAMESIZE];
		size_t n;

		if (!inet_ntop(AF_INET6, &in6->sin6_addr, buf, (socklen_t)len)) {
			buf[0] = '\0';
			return buf;
		}
		n = strlen(buf);
		if (in6->sin6_scope_id && n < len) {
			if (if_indextoname(in6->sin6_scope_id, ifname))
				snprintf(buf + n, len - n, "%%%s", ifname);
			else
				snprintf(buf + n, len - n, "%%%u", in6->sin6_scope_id);
		}
	}
	return buf;
}

int pp_addr_equal(const struct pp_addr *a, const struct pp_addr *b)
{
	if (!a->len || !b->len || a->sa.ss_family != b->sa.ss_family)
		return 0;
	if (a->sa.ss_family == AF_INET) {
		const struct sockaddr_in *x = (const struct sockaddr_in *)&a->sa;
		const struct sockaddr_in *y = (const struct sockaddr_in *)&b->sa;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->sa.ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)&a->sa;
		const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)&b->sa;

		return x->sin6_port == y->sin6_port &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) &&
		       x->sin6_scope_id == y->sin6_scope_id;
	}
	return 0;
}

int pp_addr_equal_host(const struct pp_addr *a, const struct pp_addr *b)
{
	struct pp_addr x = *a, y = *b;

	pp_addr_set_port(&x, 0);
	pp_addr_set_port(&y, 0);
	return pp_addr_equal(&x, &y);
}

int pp_parse_ip(const char *s, uint16_t port, struct pp_addr *ret, const char **why)
{
	char tmp[INET6_ADDRSTRLEN + IF_NAMESIZE + 4];
	struct pp_addr a;
	size_t n = strlen(s);
	char *pct;

	memset(&a, 0, sizeof(a));
	if (n == 0 || n >= sizeof(tmp)) {
		*why = n ? "is too long for an IP address" : "is empty";
		return -EINVAL;
	}
	if (s[0] == '[') {
		if (n < 3 || s[n - 1] != ']') {
			*why = "is not an IP address (unbalanced '[')";
			return -EINVAL;
		}
		memcpy(tmp, s + 1, n - 2);
		tmp[n - 2] = '\0';
	} else {
		memcpy(tmp, s, n + 1);
	}
	if (!strchr(tmp, ':')) {
		struct sockaddr_in *in = (struct sockaddr_in *)&a.sa;

		if (s[0] == '[' || inet_pton(AF_INET, tmp, &in->sin_addr) != 1) {
			*why = "is not an IP address";
			return -EINVAL;
		}
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		a.len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a.sa;

		pct = strchr(tmp, '%');
		if (pct) {
			*pct++ = '\0';
			in6->sin6_scope_id = if_nametoindex(pct);
			if (!in6->sin6_scope_id) {
				*why = "names an unknown interface after '%'";
				return -EINVAL;
			}
		}
		if (inet_pton(AF_INET6, tmp, &in6->sin6_addr) != 1) {
			*why = "is not an IP address";
			return -EINVAL;
		}
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		a.len = sizeof(*in6);
	}
	*ret = a;
	return 0;
}
