/* cgroup.c: names a socket's cgroup v2 id as a path, and the path as a
 * systemd unit or a container.
 *
 * A socket's INET_DIAG_CGROUP_ID is the kernfs id of its cgroup directory,
 * which is what name_to_handle_at() returns as an 8-byte handle for that
 * directory (checked on Linux 6.18: handle, st_ino and the sock_diag id
 * agree, and the root is 1). The handle is used, as iproute2 does; st_ino
 * only when the handle cannot be had. The hierarchy is walked once, and
 * only when some listener has an id, with an explicit stack of paths
 * relative to the root directory: no symlinks followed, other mounts
 * skipped, depth and count capped, and the walk ends as soon as every
 * wanted id is named. On hybrid hosts /sys/fs/cgroup is a tmpfs of v1
 * hierarchies and the v2 one is mounted at its "unified" directory; a root
 * that is not cgroup2 but has a cgroup2 "unified" is used that way.
 *
 * cgroup_unit() reads components from the root down:
 *   - the first (shallowest) component naming a container wins:
 *     "docker-<64 hex>[.scope]" -> "docker:<12 hex>",
 *     "libpod-<64 hex>[.scope]" -> "podman:<12 hex>",
 *     "cri-containerd-<64 hex>[.scope]" -> "containerd:<12 hex>",
 *     "crio-<64 hex>[.scope]" -> "crio:<12 hex>",
 *     a bare <64 hex> right under a "docker" component -> "docker:<12 hex>",
 *     a bare <64 hex> anywhere under a "kubepods", "kubepods.*" or
 *     "kubepods-*" component -> "kubepods:<12 hex>",
 *     the component right under "lxc" -> "lxc:NAME",
 *     "lxc.payload.NAME" -> "lxc:NAME";
 *     ids are 64 lower-case hex digits exactly, else the rule does not apply
 *     (conmon scopes, "libpod-conmon-<id>.scope", are not containers);
 *   - otherwise the deepest component ending in ".service" or ".scope" with
 *     something before the suffix, so a delegated subtree
 *     ("/system.slice/foo.service/worker") still names foo.service;
 *   - otherwise NULL ("/", "/system.slice", "/lxc.monitor.x").
 * A component holding a control character (below 0x20, or 0x7f) never
 * becomes a name, so what comes back is always printable; it is never longer
 * than the path. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "listen/listen_int.h"

enum {
	CGROUP_MAX_DEPTH = 64,     /* components below the root walked */
	CGROUP_MAX_DIRS = 1 << 20, /* directories walked */
	CGROUP_PATH_MAX = 4096,    /* relative path length */
	CGROUP_DENTS = 32 * 1024,  /* getdents64 buffer */
	CGROUP_ID_HEX = 64,        /* container id length */
	CGROUP_ID_SHOWN = 12,      /* of which shown */
};

#define NO_NEXT SIZE_MAX

/* --- cgroup_unit ---------------------------------------------------------- */

/* One path component: s[0..len). */
struct comp {
	const char *s;
	size_t len;
};

static bool comp_is(struct comp c, const char *word)
{
	return c.len == strlen(word) && !memcmp(c.s, word, c.len);
}

static bool comp_starts(struct comp c, const char *prefix)
{
	size_t n = strlen(prefix);

	return c.len >= n && !memcmp(c.s, prefix, n);
}

static bool comp_ends(struct comp c, const char *suffix)
{
	size_t n = strlen(suffix);

	return c.len >= n && !memcmp(c.s + c.len - n, suffix, n);
}

static bool printable(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static bool hex64(const char *s, size_t len)
{
	if (len != CGROUP_ID_HEX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* "label:" followed by len bytes of s, malloc'd. */
static char *labelled(const char *label, const char *s, size_t len)
{
	size_t n = strlen(label);
	char *out = malloc(n + 1 + len + 1);

	if (!out)
		return NULL;
	memcpy(out, label, n);
	out[n] = ':';
	memcpy(out + n + 1, s, len);
	out[n + 1 + len] = '\0';
	return out;
}

/* The container label of "PREFIX<64 hex>[.scope]", or NULL. */
static const char *prefixed_container(struct comp c, const char **id)
{
	static const struct {
		const char *prefix, *label;
	} rules[] = {
	    {"docker-", "docker"},
	    {"libpod-", "podman"},
	    {"cri-containerd-", "containerd"},
	    {"crio-", "crio"},
	};

	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		size_t n = strlen(rules[i].prefix);
		struct comp rest;

		if (!comp_starts(c, rules[i].prefix))
			continue;
		rest = (struct comp){c.s + n, c.len - n};
		if (comp_ends(rest, ".scope"))
			rest.len -= strlen(".scope");
		if (hex64(rest.s, rest.len)) {
			*id = rest.s;
			return rules[i].label;
		}
	}
	return NULL;
}

char *cgroup_unit(const char *path)
{
	struct comp prev = {"", 0}, unit = {NULL, 0};
	bool kubepods = false;
	const char *p = path;

	if (!path)
		return NULL;
	while (*p) {
		struct comp c;
		const char *label, *id;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		c.s = p;
		while (*p && *p != '/')
			p++;
		c.len = (size_t)(p - c.s);

		label = prefixed_container(c, &id);
		if (label)
			return labelled(label, id, CGROUP_ID_SHOWN);
		if (hex64(c.s, c.len) && (comp_is(prev, "docker") || kubepods))
			return labelled(comp_is(prev, "docker") ? "docker" : "kubepods", c.s,
					CGROUP_ID_SHOWN);
		if (comp_is(prev, "lxc") && printable(c.s, c.len))
			return labelled("lxc", c.s, c.len);
		if (comp_starts(c, "lxc.payload.") && c.len > strlen("lxc.payload.") &&
		    printable(c.s, c.len))
			return labelled("lxc", c.s + strlen("lxc.payload."),
					c.len - strlen("lxc.payload."));
		if (comp_is(c, "kubepods") || comp_starts(c, "kubepods.") ||
		    comp_starts(c, "kubepods-"))
			kubepods = true;
		if (((comp_ends(c, ".service") && c.len > strlen(".service")) ||
		     (comp_ends(c, ".scope") && c.len > strlen(".scope"))) &&
		    printable(c.s, c.len))
			unit = c;
		prev = c;
	}
	return unit.s ? strndup(unit.s, unit.len) : NULL;
}

/* --- cgroup_name_all -------------------------------------------------------- */

/* A wanted cgroup id: the listeners with it are chained through next[]. */
struct want {
	uint64_t id;  /* 0: empty slot */
	size_t first; /* first listener index with it */
	bool found;   /* named already */
};

/* A directory still to visit. */
struct pending {
	char *rel;      /* path below the root, "" for the root; owned */
	unsigned depth; /* components in rel */
};

/* The state of one cgroup_name_all() call. */
struct walk {
	struct pp_listen_set *set;
	int rootfd;
	int mount_id;           /* the root's, from name_to_handle_at; -1 unknown */
	dev_t dev;              /* the root's st_dev, when mount_id is unknown */
	struct want *tab;       /* wanted ids, open addressing */
	size_t mask;            /* table size - 1 */
	size_t *next;           /* next listener with the same id */
	size_t nwanted, nfound; /* distinct ids */
	struct pending *stack;
	size_t nstack, capstack;
	size_t visited;
	char *dents; /* getdents64 buffer */
};

static struct want *want_slot(const struct walk *w, uint64_t id)
{
	size_t i = (size_t)((id * 0x9E3779B97F4A7C15ull) >> 17) & w->mask;

	while (w->tab[i].id && w->tab[i].id != id)
		i = (i + 1) & w->mask;
	return &w->tab[i];
}

static int want_build(struct walk *w)
{
	const struct pp_listen_set *set = w->set;
	size_t size = 16;

	while (size < set->n * 2)
		size *= 2;
	w->tab = calloc(size, sizeof(*w->tab));
	w->next = malloc(set->n * sizeof(*w->next));
	if (!w->tab || !w->next)
		return -ENOMEM;
	w->mask = size - 1;
	for (size_t i = set->n; i-- > 0;) {
		uint64_t id = set->v[i].cgroup_id;
		struct want *e;

		w->next[i] = NO_NEXT;
		if (!id)
			continue;
		e = want_slot(w, id);
		if (e->id) {
			w->next[i] = e->first;
		} else {
			e->id = id;
			w->nwanted++;
		}
		e->first = i;
	}
	return 0;
}

/* The id of the cgroup directory dfd, and whether it is on the root's mount:
 * 1 yes, 0 another mount, -1 unreadable. */
static int dir_id(const struct walk *w, int dfd, uint64_t *id, int *mount_id, dev_t *dev)
{
	struct {
		struct file_handle fh;
		unsigned char bytes[sizeof(uint64_t)];
	} h;
	struct stat st;

	h.fh.handle_bytes = sizeof(uint64_t);
	if (name_to_handle_at(dfd, "", &h.fh, mount_id, AT_EMPTY_PATH) == 0 &&
	    h.fh.handle_bytes == sizeof(uint64_t)) {
		memcpy(id, h.fh.f_handle, sizeof(*id));
		if (w)
			return w->mount_id == -1 || *mount_id == w->mount_id;
		if (fstat(dfd, &st) == 0)
			*dev = st.st_dev; /* for later directories that give no handle */
		return 1;
	}
	*mount_id = -1;
	if (fstat(dfd, &st) == -1)
		return -1;
	*id = st.st_ino;
	*dev = st.st_dev;
	return !w || st.st_dev == w->dev;
}

/* Gives every listener with id its path and unit. */
static int name_listeners(struct walk *w, struct want *e, const char *rel)
{
	size_t len = strlen(rel);
	char *path = malloc(len + 2);

	if (!path)
		return -ENOMEM;
	path[0] = '/';
	memcpy(path + 1, rel, len + 1);
	for (size_t i = e->first; i != NO_NEXT; i = w->next[i]) {
		struct pp_listener *l = &w->set->v[i];

		free(l->cgroup);
		free(l->unit);
		l->cgroup = strdup(path);
		l->unit = cgroup_unit(path);
		if (!l->cgroup) {
			free(path);
			return -ENOMEM;
		}
	}
	free(path);
	e->found = true;
	w->nfound++;
	return 0;
}

static int push(struct walk *w, char *rel, unsigned depth)
{
	if (w->nstack == w->capstack) {
		size_t cap = w->capstack ? w->capstack * 2 : 64;
		struct pending *v = realloc(w->stack, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		w->stack = v;
		w->capstack = cap;
	}
	w->stack[w->nstack++] = (struct pending){rel, depth};
	return 0;
}

/* Queues the subdirectories of dfd (whose path is rel). */
static int push_children(struct walk *w, int dfd, const char *rel, unsigned depth)
{
	size_t rlen = strlen(rel);

	for (;;) {
		ssize_t n = getdents64(dfd, w->dents, CGROUP_DENTS);

		if (n <= 0)
			return 0; /* a directory removed meanwhile just ends */
		for (ssize_t off = 0; off < n;) {
			const struct dirent64 *d = (const struct dirent64 *)(w->dents + off);
			size_t nlen = strlen(d->d_name);
			char *child;
			int r;

			off += d->d_reclen;
			if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
				continue;
			if (d->d_type == DT_UNKNOWN) {
				struct stat st;

				if (fstatat(dfd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
				    !S_ISDIR(st.st_mode))
					continue;
			} else if (d->d_type != DT_DIR) {
				continue;
			}
			if (rlen + 1 + nlen >= CGROUP_PATH_MAX)
				continue;
			child = malloc(rlen + 1 + nlen + 1);
			if (!child)
				return -ENOMEM;
			if (rlen) {
				memcpy(child, rel, rlen);
				child[rlen] = '/';
				memcpy(child + rlen + 1, d->d_name, nlen + 1);
			} else {
				memcpy(child, d->d_name, nlen + 1);
			}
			r = push(w, child, depth + 1);
			if (r < 0) {
				free(child);
				return r;
			}
		}
	}
}

/* Visits one directory: names it if wanted, queues its children. */
static int visit(struct walk *w, const char *rel, unsigned depth)
{
	int dfd =
	    openat(w->rootfd, rel[0] ? rel : ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	uint64_t id;
	int mount_id, on_mount, r = 0;
	dev_t dev;
	struct want *e;

	if (dfd == -1)
		return 0; /* removed or unreadable: skipped */
	on_mount = dir_id(w, dfd, &id, &mount_id, &dev);
	if (on_mount != 1)
		goto out;
	e = want_slot(w, id);
	if (e->id && !e->found) {
		r = name_listeners(w, e, rel);
		if (r < 0 || w->nfound == w->nwanted)
			goto out;
	}
	if (depth < CGROUP_MAX_DEPTH)
		r = push_children(w, dfd, rel, depth);
out:
	close(dfd);
	return r;
}

/* Opens root as a cgroup2 mount, or its "unified" directory on hybrid hosts. */
static int open_root(const char *root, char *err, size_t errlen)
{
	struct statfs sf;
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC), sub;

	if (fd == -1) {
		int e = errno;

		snprintf(err, errlen, "%s: %s", root, strerror(e));
		return -e;
	}
	if (fstatfs(fd, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
		return fd;
	sub = openat(fd, "unified", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	close(fd);
	if (sub != -1 && fstatfs(sub, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
		return sub;
	if (sub != -1)
		close(sub);
	snprintf(err, errlen, "%s: not a cgroup2 mount, nor is %s/unified", root, root);
	return -ENOTSUP;
}

int cgroup_name_all(struct pp_listen_set *set, const char *root, char *err, size_t errlen)
{
	struct walk w = {.set = set, .rootfd = -1};
	char dummy[1];
	uint64_t id;
	int r;

	if (!errlen) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	if (!root)
		root = "/sys/fs/cgroup";
	if (set->n == 0)
		return 0;
	r = want_build(&w);
	if (r < 0 || !w.nwanted)
		goto out;
	w.dents = malloc(CGROUP_DENTS);
	if (!w.dents) {
		r = -ENOMEM;
		goto out;
	}
	r = open_root(root, err, errlen);
	if (r < 0)
		goto out;
	w.rootfd = r;
	if (dir_id(NULL, w.rootfd, &id, &w.mount_id, &w.dev) < 0) {
		int e = errno;

		snprintf(err, errlen, "%s: %s", root, strerror(e));
		r = -e;
		goto out;
	}
	r = push(&w, NULL, 0);
	while (r == 0 && w.nstack && w.nfound < w.nwanted && w.visited < CGROUP_MAX_DIRS) {
		struct pending p = w.stack[--w.nstack];

		w.visited++;
		r = visit(&w, p.rel ? p.rel : "", p.depth);
		free(p.rel);
	}
out:
	if (r == -ENOMEM)
		snprintf(err, errlen, "%s: %s", root, strerror(ENOMEM));
	for (size_t i = 0; i < w.nstack; i++)
		free(w.stack[i].rel);
	free(w.stack);
	if (w.rootfd != -1)
		close(w.rootfd);
	free(w.tab);
	free(w.next);
	free(w.dents);
	return r < 0 ? r : 0;
}
