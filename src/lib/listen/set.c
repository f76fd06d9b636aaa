/* set.c: the listener set: growth, release, exposure, SO_REUSEPORT groups
 * and order. Groups are found after sorting, so members are adjacent. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "listen/listen_int.h"

void pp_listen_set_init(struct pp_listen_set *set)
{
	memset(set, 0, sizeof(*set));
}

void listen_release_one(struct pp_listener *l)
{
	for (size_t i = 0; i < l->nprocs; i++)
		free(l->procs[i].cmdline);
	free(l->procs);
	free(l->cgroup);
	free(l->unit);
	l->procs = NULL;
	l->nprocs = 0;
	l->cgroup = NULL;
	l->unit = NULL;
}

void pp_listen_set_release(struct pp_listen_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		listen_release_one(&set->v[i]);
	free(set->v);
	pp_listen_set_init(set);
}

struct pp_listener *listen_set_push(struct pp_listen_set *set)
{
	struct pp_listener *l;

	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 64;
		struct pp_listener *v;

		if (set->n >= LISTEN_MAX_SOCKETS)
			return NULL;
		v = realloc(set->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		set->v = v;
		set->cap = cap;
	}
	l = &set->v[set->n++];
	memset(l, 0, sizeof(*l));
	l->v6only = -1;
	l->backlog = -1;
	return l;
}

void listen_mark_exposure(struct pp_listener *l)
{
	static const uint8_t zero[16];
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	const uint8_t *a = l->addr;

	if (l->family == AF_INET6 && !memcmp(a, mapped, sizeof(mapped))) {
		a += 12; /* ::ffff:a.b.c.d is judged as a.b.c.d */
	} else if (l->family == AF_INET6) {
		if (!memcmp(a, zero, 16)) {
			l->exposure = PP_EXPOSURE_ANY;
			return;
		}
		l->exposure = !memcmp(a, zero, 15) && a[15] == 1 ? PP_EXPOSURE_LOOPBACK
								 : PP_EXPOSURE_SPECIFIC;
		return;
	}
	if (!memcmp(a, zero, 4))
		l->exposure = PP_EXPOSURE_ANY;
	else
		l->exposure = a[0] == 127 ? PP_EXPOSURE_LOOPBACK : PP_EXPOSURE_SPECIFIC;
}

/* Same family, address, port and device: only SO_REUSEPORT lets two
 * listeners share all four. */
static int same_bind(const struct pp_listener *a, const struct pp_listener *b)
{
	return a->family == b->family && a->port == b->port && a->ifindex == b->ifindex &&
	       !memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16);
}

void listen_mark_groups(struct pp_listen_set *set)
{
	unsigned group = 0;

	for (size_t i = 0; i < set->n;) {
		size_t j = i + 1;

		while (j < set->n && same_bind(&set->v[i], &set->v[j]))
			j++;
		if (j - i > 1)
			group++;
		for (size_t k = i; k < j; k++) {
			set->v[k].group = j - i > 1 ? group : 0;
			set->v[k].group_size = j - i > 1 ? (unsigned)(j - i) : 0;
		}
		i = j;
	}
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

static int listener_cmp(const void *pa, const void *pb)
{
	const struct pp_listener *a = pa, *b = pb;
	int c;

	if (a->family != b->family)
		return a->family == AF_INET ? -1 : 1;
	c = memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16);
	if (c)
		return c;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	if (a->ifindex != b->ifindex)
		return a->ifindex < b->ifindex ? -1 : 1;
	c = cmp_u64(a->cookie, b->cookie);
	return c ? c : cmp_u64(a->inode, b->inode);
}

void pp_listen_sort(struct pp_listen_set *set)
{
	if (set->n > 1)
		qsort(set->v, set->n, sizeof(*set->v), listener_cmp);
	listen_mark_groups(set);
}

const char *pp_listen_exposure_name(enum pp_listen_exposure e)
{
	switch (e) {
	case PP_EXPOSURE_LOOPBACK:
		return "loopback";
	case PP_EXPOSURE_ANY:
		return "any";
	case PP_EXPOSURE_SPECIFIC:
		return "specific";
	}
	return "specific";
}

const char *pp_listen_addr_text(const struct pp_listener *l, char *buf, size_t len)
{
	if (!inet_ntop(l->family, l->addr, buf, (socklen_t)len)) {
		if (len)
			buf[0] = '\0';
	}
	return buf;
}

/* Whether one of l's holders is named name (comm) or has that pid. */
static int held_by(const struct pp_listener *l, const char *name)
{
	char *end = NULL;
	long pid = strtol(name, &end, 10);
	int is_pid = end != name && *end == '\0' && pid > 0;

	for (size_t p = 0; p < l->nprocs; p++)
		if (is_pid ? l->procs[p].pid == pid : !strcmp(l->procs[p].name, name))
			return 1;
	return 0;
}

static int port_wanted(const struct pp_listen_filter *f, uint16_t port)
{
	size_t lo = 0, hi = f->nports;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (f->ports[mid] == port)
			return 1;
		if (f->ports[mid] < port)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

void pp_listen_filter(struct pp_listen_set *set, const struct pp_listen_filter *f)
{
	size_t w = 0;

	for (size_t r = 0; r < set->n; r++) {
		struct pp_listener *l = &set->v[r];
		int keep = (!f->ports || port_wanted(f, l->port)) &&
			   (!f->process || held_by(l, f->process)) &&
			   (!f->exposed || l->exposure != PP_EXPOSURE_LOOPBACK);

		if (keep)
			set->v[w++] = *l;
		else
			listen_release_one(l);
	}
	set->n = w;
}

void listen_set_truncate(struct pp_listen_set *set, size_t n)
{
	while (set->n > n)
		listen_release_one(&set->v[--set->n]);
}

int listen_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return rc;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

int listen_read_all(int fd, struct pp_buf *b)
{
	char chunk[64 << 10];

	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -errno;
		if (n == 0)
			return 0;
		if (pp_buf_put(b, chunk, (size_t)n) < 0)
			return b->err;
	}
}
