/* services.c: TCP service names from /etc/services.
 *
 * The file is read once, on the first lookup (pthread_once), into a table
 * sorted by port: "name port/proto aliases # comment", TCP entries only, the
 * first name of a port wins. Lookups read the current table through an
 * atomic pointer and never lock. pp_services_load() (for tests) publishes a
 * new table; replaced tables are kept on a list and never freed, so a name
 * returned earlier stays valid for the life of the process. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portprobe/ports.h"

#define SERVICES_PATH     "/etc/services"
#define SERVICES_LINE_MAX 1024       /* longer lines are skipped */
#define SERVICES_LINES    (1u << 20) /* lines read at most */
#define SERVICE_NAME_MAX  63         /* longer names are skipped */

/* One port's name. */
struct service {
	uint16_t port; /* TCP port */
	char *name;    /* into the table's pool */
};

/* A loaded file. */
struct services {
	struct service *ent;    /* sorted by port */
	size_t n;               /* entries in ent */
	char *pool;             /* the names, NUL-terminated */
	struct services *older; /* tables this one replaced (kept, never freed) */
};

static pthread_once_t services_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t services_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(struct services *) services_current;

/* Parses one line; 0 with *port and the name (start, length) or -1. */
static int services_line(char *line, uint16_t *port, char **name, size_t *name_len)
{
	char *p = line, *n, *f, *end;
	unsigned long v = 0;

	end = strchr(line, '#');
	if (end)
		*end = '\0';
	while (*p == ' ' || *p == '\t')
		p++;
	n = p;
	while (*p > ' ' && *p < 0x7f)
		p++;
	if (p == n || (*p != ' ' && *p != '\t') || (size_t)(p - n) > SERVICE_NAME_MAX)
		return -1;
	*name = n;
	*name_len = (size_t)(p - n);
	while (*p == ' ' || *p == '\t')
		p++;
	f = p;
	while (*p >= '0' && *p <= '9' && p - f < 6)
		v = v * 10 + (unsigned long)(*p++ - '0');
	if (p == f || v == 0 || v > 65535 || strncmp(p, "/tcp", 4) || !strchr(" \t\r\n", p[4]))
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* Reads a services file into a new table. 0 or -errno. */
static int services_read(const char *path, struct services **ret)
{
	char line[SERVICES_LINE_MAX];
	uint32_t *off = NULL; /* 1 + offset of a port's name in the pool, 0 for none */
	struct services *s = NULL;
	size_t used = 0, cap = 0, lines = 0;
	int skipping = 0, err = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	off = calloc(65536, sizeof(*off));
	s = calloc(1, sizeof(*s));
	if (!off || !s) {
		err = -ENOMEM;
		goto out;
	}
	while (fgets(line, sizeof(line), f) && lines++ < SERVICES_LINES) {
		size_t len = strlen(line), name_len;
		int whole = len && line[len - 1] == '\n';
		uint16_t port;
		char *name;

		if (skipping) {
			skipping = !whole;
			continue;
		}
		if (!whole && !feof(f)) {
			skipping = 1;
			continue;
		}
		if (services_line(line, &port, &name, &name_len) < 0 || off[port])
			continue;
		if (used + name_len + 1 > cap) {
			size_t ncap = cap ? cap * 2 : 4096;
			char *np = realloc(s->pool, ncap);

			if (!np) {
				err = -ENOMEM;
				goto out;
			}
			s->pool = np;
			cap = ncap;
		}
		memcpy(s->pool + used, name, name_len);
		s->pool[used + name_len] = '\0';
		off[port] = (uint32_t)(used + 1);
		used += name_len + 1;
		s->n++;
	}
	if (ferror(f)) {
		err = -EIO;
		goto out;
	}
	s->ent = malloc((s->n ? s->n : 1) * sizeof(*s->ent));
	if (!s->ent) {
		err = -ENOMEM;
		goto out;
	}
	s->n = 0;
	for (size_t p = 1; p < 65536; p++) {
		if (off[p]) {
			s->ent[s->n].port = (uint16_t)p;
			s->ent[s->n].name = s->pool + off[p] - 1;
			s->n++;
		}
	}
	*ret = s;
	s = NULL;
out:
	if (s) {
		free(s->pool);
		free(s->ent);
		free(s);
	}
	free(off);
	fclose(f);
	return err;
}

/* Makes s the current table; the one it replaces stays reachable from s. */
static void services_publish(struct services *s)
{
	pthread_mutex_lock(&services_lock);
	s->older = atomic_load_explicit(&services_current, memory_order_relaxed);
	atomic_store_explicit(&services_current, s, memory_order_release);
	pthread_mutex_unlock(&services_lock);
}

static void services_load_default(void)
{
	struct services *s;

	if (services_read(SERVICES_PATH, &s) == 0)
		services_publish(s);
}

int pp_services_load(const char *path)
{
	struct services *s;
	int err;

	/* the default must not replace this table later */
	pthread_once(&services_once, services_load_default);
	err = services_read(path, &s);
	if (err < 0)
		return err;
	services_publish(s);
	return 0;
}

const char *pp_service_name(uint16_t port)
{
	const struct services *s;
	size_t lo = 0, hi;

	pthread_once(&services_once, services_load_default);
	s = atomic_load_explicit(&services_current, memory_order_acquire);
	if (!s)
		return NULL;
	hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->ent[mid].port < port)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->n && s->ent[lo].port == port ? s->ent[lo].name : NULL;
}
