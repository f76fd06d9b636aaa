/* owners.c: which processes hold each listening socket, from PROC_ROOT/PID/fd.
 *
 * The wanted inodes go into a small open-addressing table first, so each
 * "socket:[N]" link costs one lookup; only holders have their stat and
 * cmdline read, once per process however many sockets it holds. Processes
 * are visited in ascending pid order (sorted, so a fake PROC_ROOT behaves
 * like the real one), each through one directory fd: getdents64 on
 * PID/fd, then readlinkat relative to it, so no path is built per
 * descriptor. Threads are not visited (they share the leader's table; a
 * thread that unshared its table is missed, as by `ss -p` without -T).
 *
 * Stopping rule. The kernel keeps no count of descriptors per socket, so
 * only a full scan (what `ss -p` always does) is sure to find every holder.
 * Instead:
 *   1. Every process is read, in pid order, until each wanted inode has
 *      been found once. An inode never found (the socket closed, or its
 *      holder lives in another PID namespace) means a full scan, as it must.
 *   2. After that point only processes tied to a holder by the process tree
 *      are read: the later processes connected to some holder through
 *      parent links that pass only through later processes (their parent
 *      pid comes from PID/stat, one small read each). That covers what
 *      shares listeners in practice: fork()ed workers (nginx, apache,
 *      gunicorn), socket activation (systemd or inetd holding the socket
 *      and starting the service as its child), and a parent whose pid is
 *      above its child's after pid wraparound.
 * Missed by design: a later process that got the socket over a Unix socket
 * (SCM_RIGHTS) or pidfd_getfd() from something that is not its relative,
 * or the grandchild of a holder whose middle process has exited (reparented
 * to a subreaper or init). Measured in a namespace where 500 processes hold
 * 20 listeners each and a master shares 5 with 9 forks (590 processes on
 * the host): `ss -tlnp` takes 90 ms (22 ms without -p); this scan takes
 * 33 ms for all 10,005 listeners and finds the same 10,050 holders as ss;
 * for one listener of an early process it takes 3.7 ms, 2.5 ms of which is
 * stage 2.
 *
 * Reading: a process whose fd directory or links cannot be read for any
 * reason but ENOENT/ESRCH (it exited) makes every unfound socket
 * PP_OWNERS_NO_PERMISSION instead of PP_OWNERS_NONE. Links that are not
 * sockets, names that are not numbers, over-long link targets and odd file
 * types are skipped; every read is capped. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "listen/listen_int.h"

enum {
	OWNERS_MAX_PIDS = 1 << 22,    /* PID_MAX_LIMIT */
	OWNERS_MAX_HOLDERS = 1 << 20, /* (socket, process, fd) triples kept */
	OWNERS_MAX_ENTRIES = 1 << 26, /* fd entries looked at, all processes */
	OWNERS_CMDLINE_MAX = 4096,    /* bytes of a cmdline kept, "..." included */
	OWNERS_STAT_MAX = 1024,       /* bytes of PID/stat read (comm is <= 64) */
	OWNERS_DENTS = 64 * 1024,     /* getdents64 buffer */
};

#define NO_NEXT SIZE_MAX

/* A wanted inode: the listeners holding it are chained through next[]. */
struct want {
	uint64_t inode; /* 0: empty slot */
	size_t first;   /* first listener index with it */
	bool found;     /* some holder was seen */
};

/* A process holding at least one wanted socket. */
struct holder_proc {
	int pid;       /* process id */
	int ppid;      /* parent pid from stat, 0 when unknown */
	char name[64]; /* from stat's (...) or comm */
	char *cmdline; /* owned, never NULL once filled */
};

/* One (listener, process, fd) found. */
struct holder {
	size_t listener; /* index in the set */
	size_t proc;     /* index in scan.procs */
	int fd;          /* descriptor number in that process */
};

/* The state of one owners_find() call. */
struct scan {
	struct pp_listen_set *set;
	int rootfd;                /* PROC_ROOT */
	struct want *tab;          /* wanted inodes, open addressing */
	size_t mask;               /* table size - 1 (a power of two) */
	size_t *next;              /* next listener with the same inode, per listener */
	size_t nwanted, nfound;    /* distinct inodes wanted, found */
	struct holder_proc *procs; /* holder processes, in scan order */
	size_t nprocs, capprocs;
	struct holder *h; /* every match */
	size_t nh, caph;
	size_t entries;  /* fd entries looked at */
	bool unreadable; /* some process could not be read */
	char *dents;     /* getdents64 buffer, OWNERS_DENTS bytes */
};

static size_t hash_u64(uint64_t v, size_t mask)
{
	return (size_t)((v * 0x9E3779B97F4A7C15ull) >> 17) & mask;
}

/* The slot for inode: its entry, or the empty slot where it would go. */
static struct want *want_slot(const struct scan *s, uint64_t inode)
{
	size_t i = hash_u64(inode, s->mask);

	while (s->tab[i].inode && s->tab[i].inode != inode)
		i = (i + 1) & s->mask;
	return &s->tab[i];
}

/* Builds the table of wanted inodes (listeners with inode 0 are skipped). */
static int want_build(struct scan *s)
{
	const struct pp_listen_set *set = s->set;
	size_t size = 16;

	while (size < set->n * 2)
		size *= 2;
	s->tab = calloc(size, sizeof(*s->tab));
	s->next = malloc(set->n * sizeof(*s->next));
	if (!s->tab || !s->next)
		return -ENOMEM;
	s->mask = size - 1;
	/* walk backwards so each chain lists listeners in set order */
	for (size_t i = set->n; i-- > 0;) {
		uint64_t inode = set->v[i].inode;
		struct want *w;

		s->next[i] = NO_NEXT;
		if (!inode)
			continue;
		w = want_slot(s, inode);
		if (w->inode) {
			s->next[i] = w->first;
		} else {
			w->inode = inode;
			s->nwanted++;
		}
		w->first = i;
	}
	return 0;
}

/* Digits only, no leading zero, 1..INT_MAX: the number, or -1. */
static int parse_pid(const char *name)
{
	long v = 0;

	if (name[0] < '1' || name[0] > '9')
		return -1;
	for (const char *p = name; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
		if (v > INT32_MAX)
			return -1;
	}
	return (int)v;
}

/* An fd entry's name: digits only, 0..INT_MAX; the number, or -1. */
static int parse_fd(const char *name)
{
	return strcmp(name, "0") ? parse_pid(name) : 0;
}

/* "socket:[N]" exactly (len bytes, not NUL-terminated): N, or 0. */
static uint64_t parse_socket_link(const char *link, size_t len)
{
	static const char pre[] = "socket:[";
	uint64_t v = 0;
	size_t i = sizeof(pre) - 1;

	/* at least one digit between the brackets */
	if (len < sizeof(pre) + 1 || memcmp(link, pre, sizeof(pre) - 1) || link[len - 1] != ']')
		return 0;
	for (; i < len - 1; i++) {
		unsigned d = (unsigned char)link[i] - '0';

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return 0;
		v = v * 10 + d;
	}
	return v;
}

/* Reads up to cap bytes of PROC_ROOT/PID/file into buf; the count, or -1.
 * O_NONBLOCK and O_NOFOLLOW keep a FIFO or a symlink in a fake tree harmless. */
static ssize_t read_proc_file(int rootfd, int pid, const char *file, char *buf, size_t cap)
{
	char path[48];
	size_t got = 0;
	int fd;

	snprintf(path, sizeof(path), "%d/%s", pid, file);
	fd = openat(rootfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd == -1)
		return -1;
	while (got < cap) {
		ssize_t n = read(fd, buf + got, cap - got);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	return (ssize_t)got;
}

/* From PID/stat: the name between the first '(' and the last ')' (a comm
 * may hold spaces and parentheses) and the parent pid after it. Returns 0,
 * or -1 when stat is unreadable or malformed; *ppid is 0 when unknown. */
static int read_stat(int rootfd, int pid, char *name, size_t namelen, int *ppid)
{
	char buf[OWNERS_STAT_MAX + 1];
	ssize_t n = read_proc_file(rootfd, pid, "stat", buf, OWNERS_STAT_MAX);
	char *lp, *rp, *p;
	long v = 0;

	*ppid = 0;
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	lp = memchr(buf, '(', (size_t)n);
	rp = memrchr(buf, ')', (size_t)n);
	if (!lp || !rp || rp < lp)
		return -1;
	if (name) {
		size_t len = (size_t)(rp - lp - 1);

		if (len >= namelen)
			len = namelen - 1;
		memcpy(name, lp + 1, len);
		name[len] = '\0';
	}
	/* ") S 1 ...": state, then the parent pid */
	p = rp + 1;
	if (p[0] != ' ' || !p[1] || p[2] != ' ')
		return 0;
	for (p += 3; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (*p - '0');
		if (v > INT32_MAX)
			return 0;
	}
	if (*p == ' ')
		*ppid = (int)v;
	return 0;
}

/* PID/cmdline with NULs turned to spaces and trailing NULs dropped, capped
 * at OWNERS_CMDLINE_MAX bytes ending in "..." when cut; "" when empty or
 * unreadable. Malloc'd; NULL only when out of memory. */
static char *read_cmdline(int rootfd, int pid)
{
	char *buf = malloc(OWNERS_CMDLINE_MAX + 2), *shrunk;
	ssize_t n;
	size_t len;

	if (!buf)
		return NULL;
	n = read_proc_file(rootfd, pid, "cmdline", buf, OWNERS_CMDLINE_MAX + 1);
	len = n > 0 ? (size_t)n : 0;
	if (len > OWNERS_CMDLINE_MAX) {
		len = OWNERS_CMDLINE_MAX;
		memcpy(buf + len - 3, "...", 3);
	} else {
		while (len && buf[len - 1] == '\0')
			len--;
	}
	for (size_t i = 0; i < len; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[len] = '\0';
	shrunk = realloc(buf, len + 1);
	return shrunk ? shrunk : buf;
}

/* The holder entry for pid, read on its first match (stat or comm, cmdline).
 * Returns its index, or -ENOMEM. cur caches the current process's index. */
static long holder_proc_of(struct scan *s, int pid, long *cur)
{
	struct holder_proc *p;

	if (*cur >= 0)
		return *cur;
	if (s->nprocs == s->capprocs) {
		size_t cap = s->capprocs ? s->capprocs * 2 : 16;
		struct holder_proc *v = realloc(s->procs, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->procs = v;
		s->capprocs = cap;
	}
	p = &s->procs[s->nprocs];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	if (read_stat(s->rootfd, pid, p->name, sizeof(p->name), &p->ppid) < 0) {
		char buf[sizeof(p->name)];
		ssize_t n = read_proc_file(s->rootfd, pid, "comm", buf, sizeof(buf) - 1);

		if (n > 0 && buf[n - 1] == '\n')
			n--;
		if (n > 0) {
			memcpy(p->name, buf, (size_t)n);
			p->name[n] = '\0';
		}
	}
	p->cmdline = read_cmdline(s->rootfd, pid);
	if (!p->cmdline)
		return -ENOMEM;
	*cur = (long)s->nprocs++;
	return *cur;
}

/* Records every listener holding inode as held by pid through fd. */
static int add_match(struct scan *s, struct want *w, int pid, int fd, long *cur)
{
	long proc = holder_proc_of(s, pid, cur);

	if (proc < 0)
		return (int)proc;
	if (!w->found) {
		w->found = true;
		s->nfound++;
	}
	for (size_t i = w->first; i != NO_NEXT; i = s->next[i]) {
		if (s->nh == s->caph) {
			size_t cap = s->caph ? s->caph * 2 : 64;
			struct holder *v;

			if (s->nh >= OWNERS_MAX_HOLDERS)
				return -E2BIG;
			v = realloc(s->h, cap * sizeof(*v));
			if (!v)
				return -ENOMEM;
			s->h = v;
			s->caph = cap;
		}
		s->h[s->nh++] = (struct holder){.listener = i, .proc = (size_t)proc, .fd = fd};
	}
	return 0;
}

/* Whether errno after a failed read of a process means it cannot be read
 * (rather than that it exited meanwhile). */
static bool denied(int e)
{
	return e != ENOENT && e != ESRCH;
}

/* Reads PROC_ROOT/PID/fd and records the wanted sockets it holds. Returns 0,
 * or -ENOMEM / -E2BIG (caps). An unreadable process only sets s->unreadable. */
static int scan_pid(struct scan *s, int pid)
{
	char path[32];
	long cur = -1;
	int dfd, r = 0;

	snprintf(path, sizeof(path), "%d/fd", pid);
	dfd = openat(s->rootfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd == -1) {
		if (denied(errno))
			s->unreadable = true;
		return 0;
	}
	for (;;) {
		ssize_t n = getdents64(dfd, s->dents, OWNERS_DENTS);

		if (n <= 0) {
			if (n == -1 && denied(errno))
				s->unreadable = true;
			break;
		}
		for (ssize_t off = 0; off < n;) {
			const struct dirent64 *d = (const struct dirent64 *)(s->dents + off);
			char link[64];
			ssize_t len;
			uint64_t inode;
			struct want *w;
			int fd;

			off += d->d_reclen;
			fd = parse_fd(d->d_name);
			if (fd < 0)
				continue;
			if (++s->entries > OWNERS_MAX_ENTRIES) {
				r = -E2BIG;
				goto out;
			}
			len = readlinkat(dfd, d->d_name, link, sizeof(link));
			if (len == -1) {
				if (errno == EACCES || errno == EPERM)
					s->unreadable = true;
				continue;
			}
			inode =
			    (size_t)len < sizeof(link) ? parse_socket_link(link, (size_t)len) : 0;
			if (!inode)
				continue;
			w = want_slot(s, inode);
			if (!w->inode)
				continue;
			r = add_match(s, w, pid, fd, &cur);
			if (r < 0)
				goto out;
		}
	}
out:
	close(dfd);
	return r;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return x < y ? -1 : x > y;
}

/* Every numeric name in PROC_ROOT, ascending, into *ret (malloc'd). */
static int list_pids(struct scan *s, int **ret, size_t *ret_n)
{
	int *v = NULL;
	size_t n = 0, cap = 0;

	for (;;) {
		ssize_t got = getdents64(s->rootfd, s->dents, OWNERS_DENTS);

		if (got == -1) {
			free(v);
			return -errno;
		}
		if (got == 0)
			break;
		for (ssize_t off = 0; off < got;) {
			const struct dirent64 *d = (const struct dirent64 *)(s->dents + off);
			int pid = parse_pid(d->d_name);

			off += d->d_reclen;
			if (pid < 0)
				continue;
			if (n == cap) {
				int *nv;

				if (n >= OWNERS_MAX_PIDS) {
					free(v);
					return -E2BIG;
				}
				cap = cap ? cap * 2 : 1024;
				nv = realloc(v, cap * sizeof(*v));
				if (!nv) {
					free(v);
					return -ENOMEM;
				}
				v = nv;
			}
			v[n++] = pid;
		}
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_int);
	*ret = v;
	*ret_n = n;
	return 0;
}

/* Pid -> node index, open addressing; -1 marks an empty slot. */
struct pid_map {
	int *pid;     /* keys */
	size_t *node; /* values */
	size_t mask;  /* size - 1 (a power of two) */
};

/* The slot of pid: its entry, or the empty slot where it would go. */
static size_t pid_map_slot(const struct pid_map *m, int pid)
{
	size_t i = hash_u64((uint64_t)pid, m->mask);

	while (m->pid[i] != -1 && m->pid[i] != pid)
		i = (i + 1) & m->mask;
	return i;
}

static size_t uf_find(size_t *parent, size_t i)
{
	while (parent[i] != i) {
		parent[i] = parent[parent[i]];
		i = parent[i];
	}
	return i;
}

/* Stage 2 of the stopping rule (see the file comment): reads the parent of
 * every process in tail[0..ntail), joins each to its parent when that parent
 * is a later process or a holder, and scans the processes joined to a
 * holder. */
static int scan_tail(struct scan *s, const int *tail, size_t ntail)
{
	size_t nh = s->nprocs, nodes = ntail + nh, size = 16;
	struct pid_map m = {0};
	size_t *parent = NULL;
	int *ppid = NULL;
	bool *mark = NULL;
	int r = -ENOMEM;

	while (size < nodes * 2)
		size *= 2;
	m.pid = malloc(size * sizeof(*m.pid));
	m.node = malloc(size * sizeof(*m.node));
	parent = malloc(nodes * sizeof(*parent));
	ppid = malloc(nodes * sizeof(*ppid));
	mark = calloc(nodes, sizeof(*mark));
	if (!m.pid || !m.node || !parent || !ppid || !mark)
		goto out;
	m.mask = size - 1;
	memset(m.pid, 0xff, size * sizeof(*m.pid));
	for (size_t i = 0; i < nodes; i++) {
		int pid = i < ntail ? tail[i] : s->procs[i - ntail].pid;
		size_t k = pid_map_slot(&m, pid);

		if (i < ntail)
			read_stat(s->rootfd, pid, NULL, 0, &ppid[i]);
		else
			ppid[i] = s->procs[i - ntail].ppid;
		m.pid[k] = pid;
		m.node[k] = i;
		parent[i] = i;
	}
	for (size_t i = 0; i < nodes; i++) {
		size_t k;

		if (ppid[i] <= 0)
			continue;
		k = pid_map_slot(&m, ppid[i]);
		if (m.pid[k] == -1)
			continue; /* the parent is neither a later process nor a holder */
		parent[uf_find(parent, i)] = uf_find(parent, m.node[k]);
	}
	for (size_t i = ntail; i < nodes; i++)
		mark[uf_find(parent, i)] = true;
	r = 0;
	for (size_t i = 0; i < ntail && r == 0; i++)
		if (mark[uf_find(parent, i)])
			r = scan_pid(s, tail[i]);
out:
	free(m.pid);
	free(m.node);
	free(parent);
	free(ppid);
	free(mark);
	return r;
}

static int cmp_proc(const void *pa, const void *pb)
{
	const struct pp_listen_proc *a = pa, *b = pb;

	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	return a->fd < b->fd ? -1 : a->fd > b->fd;
}

static void free_procs(struct pp_listen_proc *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].cmdline);
	free(v);
}

/* Moves the matches into the set: builds every listener's procs first, so
 * that out of memory leaves the set as it was. */
static int commit(struct scan *s)
{
	struct pp_listen_set *set = s->set;
	struct pp_listen_proc **lists = calloc(set->n ? set->n : 1, sizeof(*lists));
	size_t *count = calloc(set->n ? set->n : 1, sizeof(*count));
	int r = -ENOMEM;

	if (!lists || !count)
		goto out;
	for (size_t i = 0; i < s->nh; i++)
		count[s->h[i].listener]++;
	for (size_t i = 0; i < set->n; i++) {
		if (count[i] && !(lists[i] = calloc(count[i], sizeof(**lists))))
			goto fail;
		count[i] = 0;
	}
	for (size_t i = 0; i < s->nh; i++) {
		const struct holder *h = &s->h[i];
		const struct holder_proc *p = &s->procs[h->proc];
		struct pp_listen_proc *e = &lists[h->listener][count[h->listener]++];

		e->pid = p->pid;
		e->fd = h->fd;
		memcpy(e->name, p->name, sizeof(e->name));
		e->cmdline = strdup(p->cmdline);
		if (!e->cmdline)
			goto fail;
	}
	for (size_t i = 0; i < set->n; i++) {
		struct pp_listener *l = &set->v[i];

		free_procs(l->procs, l->nprocs);
		l->procs = lists[i];
		l->nprocs = count[i];
		if (l->nprocs > 1)
			qsort(l->procs, l->nprocs, sizeof(*l->procs), cmp_proc);
		l->owners = l->nprocs       ? PP_OWNERS_FOUND
			    : s->unreadable ? PP_OWNERS_NO_PERMISSION
					    : PP_OWNERS_NONE;
	}
	r = 0;
	goto out;
fail:
	for (size_t i = 0; i < set->n; i++)
		free_procs(lists[i], count[i]);
out:
	free(lists);
	free(count);
	return r;
}

int owners_find(struct pp_listen_set *set, const char *proc_root, char *err, size_t errlen)
{
	struct scan s = {.set = set, .rootfd = -1};
	const char *root = proc_root ? proc_root : "/proc";
	int *pids = NULL;
	size_t npids = 0, i = 0;
	int r;

	if (errlen)
		err[0] = '\0';
	if (set->n == 0)
		return 0;
	r = want_build(&s);
	if (r < 0)
		goto out;
	s.dents = malloc(OWNERS_DENTS);
	if (!s.dents) {
		r = -ENOMEM;
		goto out;
	}
	s.rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s.rootfd == -1) {
		r = -errno;
		goto out;
	}
	if (s.nwanted) {
		r = list_pids(&s, &pids, &npids);
		if (r < 0)
			goto out;
	}
	for (; i < npids && s.nfound < s.nwanted; i++) {
		r = scan_pid(&s, pids[i]);
		if (r < 0)
			goto out;
	}
	if (i < npids) {
		r = scan_tail(&s, pids + i, npids - i);
		if (r < 0)
			goto out;
	}
	r = commit(&s);
out:
	if (r < 0 && errlen) {
		if (r == -E2BIG)
			snprintf(err, errlen,
				 "%s: more processes or descriptors than the caps allow", root);
		else
			snprintf(err, errlen, "%s: %s", root, strerror(-r));
	}
	if (s.rootfd != -1)
		close(s.rootfd);
	for (size_t k = 0; k < s.nprocs; k++)
		free(s.procs[k].cmdline);
	free(s.procs);
	free(s.h);
	free(s.tab);
	free(s.next);
	free(s.dents);
	free(pids);
	return r;
}
