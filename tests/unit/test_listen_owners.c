/* test_listen_owners.c: who holds each listener, and which cgroup and unit
 * it belongs to, value for value. The owner scan runs on fake PROC_ROOT
 * trees built in a temporary directory (holders, odd names, bad links, an
 * unreadable process, the stopping rule's tail) and live on the real /proc
 * against a listener this test opens and a child it forks. The cgroup
 * names run on the real cgroup2 hierarchy, with ids taken from the kernel
 * through a sock_diag query of our own listeners, so the test does not
 * trust the code it checks for the id; cgroup_unit() is checked rule by
 * rule. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/inet_diag.h>
#include <linux/magic.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "listen/listen_int.h"
#include "net_util.h"
#include "portprobe/listen.h"
#include "test.h"

/* --- fixtures -------------------------------------------------------------- */

/* Writes len bytes to dir/rel, creating the parent directories; 0 or -1. */
static int put_file(const char *dir, const char *rel, const void *data, size_t len)
{
	char path[512];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	for (char *p = path + strlen(dir) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(path, 0755) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1)
		return -1;
	n = write(fd, data, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

/* Makes dir/rel a directory (and its parents); 0 or -1. */
static int put_dir(const char *dir, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s/", dir, rel);
	for (char *p = path + strlen(dir) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(path, 0755) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return 0;
}

/* Makes dir/rel a symlink to target, creating the parent directories. */
static int put_link(const char *dir, const char *rel, const char *target)
{
	char path[512], parent[512];
	char *slash;

	snprintf(parent, sizeof(parent), "%s", rel);
	slash = strrchr(parent, '/');
	if (slash) {
		*slash = '\0';
		if (put_dir(dir, parent) == -1)
			return -1;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	return symlink(target, path);
}

/* A fake process: stat (when name is not NULL) naming it with ppid, and
 * one fd link per "FD=TARGET" in links (NULL-terminated). */
static int put_proc(const char *dir, int pid, int ppid, const char *name, const char *const *links)
{
	char rel[64], text[256];
	int r = 0;

	snprintf(rel, sizeof(rel), "%d/fd", pid);
	r |= put_dir(dir, rel);
	if (name) {
		int n = snprintf(text, sizeof(text), "%d (%s) S %d %d %d 0 -1 4194560 0\n", pid,
				 name, ppid, pid, pid);

		snprintf(rel, sizeof(rel), "%d/stat", pid);
		r |= put_file(dir, rel, text, (size_t)n);
	}
	for (size_t i = 0; links && links[i]; i++) {
		const char *eq = strchr(links[i], '=');

		snprintf(rel, sizeof(rel), "%d/fd/%.*s", pid, (int)(eq - links[i]), links[i]);
		r |= put_link(dir, rel, eq + 1);
	}
	return r;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* rm -rf dir (never following symlinks). */
static void rm_tree(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A set of listeners with these inodes (and nothing else set). */
static int make_set(struct pp_listen_set *set, const uint64_t *inodes, size_t n)
{
	pp_listen_set_init(set);
	for (size_t i = 0; i < n; i++) {
		struct pp_listener *l = listen_set_push(set);

		if (!l)
			return -1;
		l->family = AF_INET;
		l->inode = inodes[i];
	}
	return 0;
}

/* The NUL-separated arguments of /proc/self/cmdline joined by spaces. */
static char *self_cmdline(void)
{
	char *buf = calloc(1, 65536);
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd == -1 ? -1 : read(fd, buf, 65535);

	if (fd != -1)
		close(fd);
	while (n > 0 && buf[n - 1] == '\0')
		n--;
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	if (n >= 0)
		buf[n] = '\0';
	return buf;
}

/* Asserts one holder's fields. */
#define ASSERT_PROC(p, pid_, fd_, name_, cmdline_)                                                 \
	do {                                                                                       \
		ASSERT_EQ((p).pid, (pid_));                                                        \
		ASSERT_EQ((p).fd, (fd_));                                                          \
		ASSERT_STR_EQ((p).name, (name_));                                                  \
		ASSERT_STR_EQ((p).cmdline, (cmdline_));                                            \
	} while (0)

/* --- owners on a fake PROC_ROOT ---------------------------------------------- */

/* The tree of listen_owners_fake_proc_holders_names_and_states_are_exact. */
static int build_fake_proc(const char *dir, char *long_cmdline, size_t long_len)
{
	static const char nginx_cmdline[] = "nginx\0-g\0daemon off;\0";
	static const char worker_cmdline[] = "nginx: worker process\0\0\0\0";
	char zeros[128];
	int r = 0;

	/* 100: a holder with stat, comm and cmdline; a pipe and a non-numeric
	 * entry beside its sockets */
	r |= put_proc(dir, 100, 1, "nginx",
		      (const char *const[]){"3=socket:[5001]", "4=pipe:[9]", "5=socket:[5003]",
					    "x=socket:[5002]", "6=socket:[777]", NULL});
	r |= put_file(dir, "100/comm", "nginx\n", 6);
	r |= put_file(dir, "100/cmdline", nginx_cmdline, sizeof(nginx_cmdline) - 1);
	/* 101: shares 5001 (fork); no stat, so the name comes from comm;
	 * trailing NULs of a rewritten title dropped */
	r |= put_proc(dir, 101, 100, NULL, (const char *const[]){"7=socket:[5001]", NULL});
	r |= put_file(dir, "101/comm", "nginx\n", 6);
	r |= put_file(dir, "101/cmdline", worker_cmdline, sizeof(worker_cmdline) - 1);
	/* 102: its fd "directory" is a file, as unreadable as a denied one */
	r |= put_file(dir, "102/fd", "", 0);
	/* 103: a name with spaces and parentheses, no cmdline (kernel thread) */
	r |= put_proc(dir, 103, 2, "my (odd) name) x",
		      (const char *const[]){"9=socket:[5003]", NULL});
	/* 104: nothing usable: malformed links, a directory, a truncated link
	 * that would read as socket:[5002] if it were not cut at 64 bytes */
	memset(zeros, '0', 70);
	memcpy(zeros, "socket:[", 8);
	memcpy(zeros + 70, "5002]", 6);
	r |= put_proc(dir, 104, 1, "odd",
		      (const char *const[]){"1=socket:[5002", "2=socket:[]", "3=socket:[5002]x",
					    "4=socket:[18446744073709551616]", "5=socket:5002",
					    "01=socket:[5002]", NULL});
	r |= put_link(dir, "104/fd/7", zeros);
	r |= put_dir(dir, "104/fd/6");
	/* 105: a cmdline over the cap */
	r |= put_proc(dir, 105, 1, "java", (const char *const[]){"11=socket:[5004]", NULL});
	r |= put_file(dir, "105/cmdline", long_cmdline, long_len);
	/* names that are not pids hold 5002, and must not be read */
	r |= put_proc(dir, 0, 1, "zero", (const char *const[]){"1=socket:[5002]", NULL});
	r |= put_link(dir, "self/fd/3", "socket:[5002]");
	r |= put_link(dir, "0123/fd/3", "socket:[5002]");
	r |= put_link(dir, "12a/fd/3", "socket:[5002]");
	r |= put_link(dir, "99999999999/fd/3", "socket:[5002]");
	r |= put_file(dir, "net", "", 0);
	return r;
}

static int fake_proc_holders(const char *dir)
{
	static const uint64_t inodes[] = {5001, 5002, 5003, 5004, 0};
	char long_cmdline[5000], expect_long[4097], err[256];
	struct pp_listen_set set;
	const struct pp_listener *l;

	memset(long_cmdline, 'b', sizeof(long_cmdline));
	memcpy(long_cmdline, "aaaaaaaaaa", 10);
	long_cmdline[10] = '\0';
	memset(expect_long, 'b', 4096);
	memcpy(expect_long, "aaaaaaaaaa ", 11);
	memcpy(expect_long + 4093, "...", 4);
	ASSERT_EQ(build_fake_proc(dir, long_cmdline, sizeof(long_cmdline)), 0);

	ASSERT_EQ(make_set(&set, inodes, 5), 0);
	ASSERT_EQ(owners_find(&set, dir, err, sizeof(err)), 0);
	ASSERT_STR_EQ(err, "");
	l = &set.v[0]; /* 5001: the process and its fork, by pid */
	ASSERT_EQ(l->owners, PP_OWNERS_FOUND);
	ASSERT_UEQ(l->nprocs, 2);
	ASSERT_PROC(l->procs[0], 100, 3, "nginx", "nginx -g daemon off;");
	ASSERT_PROC(l->procs[1], 101, 7, "nginx", "nginx: worker process");
	l = &set.v[1]; /* 5002: only in places never read, and 102 was unreadable */
	ASSERT_EQ(l->owners, PP_OWNERS_NO_PERMISSION);
	ASSERT_UEQ(l->nprocs, 0);
	ASSERT_TRUE(l->procs == NULL);
	l = &set.v[2]; /* 5003 */
	ASSERT_EQ(l->owners, PP_OWNERS_FOUND);
	ASSERT_UEQ(l->nprocs, 2);
	ASSERT_PROC(l->procs[0], 100, 5, "nginx", "nginx -g daemon off;");
	ASSERT_PROC(l->procs[1], 103, 9, "my (odd) name) x", "");
	l = &set.v[3]; /* 5004: the cmdline cut to 4096 bytes ending in "..." */
	ASSERT_EQ(l->owners, PP_OWNERS_FOUND);
	ASSERT_UEQ(l->nprocs, 1);
	ASSERT_PROC(l->procs[0], 105, 11, "java", expect_long);
	ASSERT_UEQ(strlen(l->procs[0].cmdline), 4096);
	l = &set.v[4]; /* no inode: nothing to match */
	ASSERT_UEQ(l->nprocs, 0);
	ASSERT_EQ(l->owners, PP_OWNERS_NO_PERMISSION);

	/* with 102 gone every process was read: 5002 has no owner, and the set
	 * is filled afresh (the old procs freed, not appended to) */
	snprintf(err, sizeof(err), "%s/102/fd", dir);
	ASSERT_EQ(unlink(err), 0);
	ASSERT_EQ(owners_find(&set, dir, err, sizeof(err)), 0);
	ASSERT_EQ(set.v[1].owners, PP_OWNERS_NONE);
	ASSERT_EQ(set.v[4].owners, PP_OWNERS_NONE);
	ASSERT_UEQ(set.v[0].nprocs, 2);
	ASSERT_UEQ(set.v[2].nprocs, 2);
	ASSERT_UEQ(set.v[3].nprocs, 1);
	pp_listen_set_release(&set);
	return 0;
}

TEST_IMPL(listen_owners_fake_proc_holders_names_and_states_are_exact)
{
	char dir[] = "/tmp/pp_owners_XXXXXX";
	int r;

	ASSERT_TRUE(mkdtemp(dir));
	r = fake_proc_holders(dir);
	rm_tree(dir);
	return r;
}

static int fake_proc_tail(const char *dir)
{
	static const uint64_t inodes[] = {6001, 6002};
	struct pp_listen_set set;
	const struct pp_listener *l;
	char err[256];

	/* 150 is read first and holds both sockets, so the first stage ends
	 * with it. After that only processes tied to it through later
	 * processes count: its parent 500 (above it: pid wraparound), 500's
	 * child 200, 200's child 300 and 300's child 400. 350 also holds the
	 * socket (received over a Unix socket, say) but is related to no holder,
	 * so it is never read. 600, a child of 150, is read and cannot be,
	 * which changes nothing: both sockets were found. */
	ASSERT_EQ(put_proc(dir, 150, 500, "w",
			   (const char *const[]){"3=socket:[6001]", "4=socket:[6002]", NULL}),
		  0);
	ASSERT_EQ(put_proc(dir, 200, 500, "w", (const char *const[]){"5=socket:[6001]", NULL}), 0);
	ASSERT_EQ(put_proc(dir, 300, 200, "w", (const char *const[]){"6=socket:[6001]", NULL}), 0);
	ASSERT_EQ(put_proc(dir, 350, 1, "other", (const char *const[]){"7=socket:[6001]", NULL}),
		  0);
	ASSERT_EQ(put_proc(dir, 400, 300, "w",
			   (const char *const[]){"8=socket:[6001]", "9=socket:[6002]", NULL}),
		  0);
	ASSERT_EQ(put_proc(dir, 500, 1, "master", (const char *const[]){"3=socket:[6001]", NULL}),
		  0);
	ASSERT_EQ(put_file(dir, "600/fd", "", 0), 0);
	ASSERT_EQ(put_file(dir, "600/stat", "600 (x) S 150 1 1\n", 18), 0);
	/* a process below 150 without links is read in the first stage */
	ASSERT_EQ(put_proc(dir, 7, 1, "init", NULL), 0);

	ASSERT_EQ(make_set(&set, inodes, 2), 0);
	ASSERT_EQ(owners_find(&set, dir, err, sizeof(err)), 0);
	l = &set.v[0];
	ASSERT_EQ(l->owners, PP_OWNERS_FOUND);
	ASSERT_UEQ(l->nprocs, 5);
	ASSERT_PROC(l->procs[0], 150, 3, "w", "");
	ASSERT_PROC(l->procs[1], 200, 5, "w", "");
	ASSERT_PROC(l->procs[2], 300, 6, "w", "");
	ASSERT_PROC(l->procs[3], 400, 8, "w", "");
	ASSERT_PROC(l->procs[4], 500, 3, "master", "");
	l = &set.v[1];
	ASSERT_EQ(l->owners, PP_OWNERS_FOUND);
	ASSERT_UEQ(l->nprocs, 2);
	ASSERT_PROC(l->procs[0], 150, 4, "w", "");
	ASSERT_PROC(l->procs[1], 400, 9, "w", "");

	/* an inode found nowhere means every process is read: now 350 counts,
	 * and the unreadable 600 makes the missing one NO_PERMISSION */
	pp_listen_set_release(&set);
	ASSERT_EQ(make_set(&set, (const uint64_t[]){6001, 6999}, 2), 0);
	ASSERT_EQ(owners_find(&set, dir, err, sizeof(err)), 0);
	ASSERT_UEQ(set.v[0].nprocs, 6);
	ASSERT_PROC(set.v[0].procs[3], 350, 7, "other", "");
	ASSERT_EQ(set.v[1].owners, PP_OWNERS_NO_PERMISSION);
	pp_listen_set_release(&set);
	return 0;
}

TEST_IMPL(listen_owners_after_all_are_found_only_relatives_of_holders_are_read)
{
	char dir[] = "/tmp/pp_owners_XXXXXX";
	int r;

	ASSERT_TRUE(mkdtemp(dir));
	r = fake_proc_tail(dir);
	rm_tree(dir);
	return r;
}

TEST_IMPL(listen_owners_unreadable_proc_root_is_an_error_and_empty_sets_are_free)
{
	static const uint64_t inodes[] = {5001};
	struct pp_listen_set set;
	char err[256] = "x";

	ASSERT_EQ(make_set(&set, inodes, 1), 0);
	ASSERT_EQ(owners_find(&set, "/nonexistent-pp-proc", err, sizeof(err)), -ENOENT);
	ASSERT_STR_EQ(err, "/nonexistent-pp-proc: No such file or directory");
	ASSERT_EQ(set.v[0].owners, PP_OWNERS_NOT_LOOKED);
	ASSERT_UEQ(set.v[0].nprocs, 0);
	ASSERT_EQ(owners_find(&set, "/nonexistent-pp-proc", err, 0), -ENOENT);
	pp_listen_set_release(&set);

	/* nothing asked, nothing read */
	pp_listen_set_init(&set);
	ASSERT_EQ(owners_find(&set, "/nonexistent-pp-proc", err, sizeof(err)), 0);
	ASSERT_STR_EQ(err, "");
	return 0;
}

/* --- owners live --------------------------------------------------------------- */

static int live_fork(int fd, pid_t child)
{
	struct pp_listen_set set;
	struct stat st;
	char comm[64] = "", err[256];
	char *cmdline = self_cmdline();
	int cfd = open("/proc/self/comm", O_RDONLY | O_CLOEXEC);
	ssize_t n = cfd == -1 ? -1 : read(cfd, comm, sizeof(comm) - 1);
	int first = getpid() < child ? getpid() : child;
	int second = getpid() < child ? child : getpid();
	int r = 1;

	if (cfd != -1)
		close(cfd);
	if (n > 0 && comm[n - 1] == '\n')
		comm[n - 1] = '\0';
	ASSERT_TRUE(n > 1);
	ASSERT_EQ(fstat(fd, &st), 0);
	ASSERT_EQ(make_set(&set, (const uint64_t[]){(uint64_t)st.st_ino}, 1), 0);
	ASSERT_EQ(owners_find(&set, NULL, err, sizeof(err)), 0);
	ASSERT_EQ(set.v[0].owners, PP_OWNERS_FOUND);
	ASSERT_UEQ(set.v[0].nprocs, 2);
	ASSERT_PROC(set.v[0].procs[0], first, fd, comm, cmdline);
	ASSERT_PROC(set.v[0].procs[1], second, fd, comm, cmdline);
	r = 0;
	pp_listen_set_release(&set);
	free(cmdline);
	return r;
}

TEST_IMPL(listen_owners_live_forked_child_is_listed_with_the_parent)
{
	uint16_t port;
	int fd = test_listen(0, &port), p[2], r, status;
	pid_t child;
	char c;

	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(pipe(p), 0);
	child = fork();
	ASSERT_TRUE(child >= 0);
	if (child == 0) {
		close(p[0]);
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(p[1]);
	ASSERT_EQ(read(p[0], &c, 1), 1);
	close(p[0]);
	r = live_fork(fd, child);
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	close(fd);
	return r;
}

/* --- cgroup_unit ------------------------------------------------------------ */

#define ID64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID12 "0123456789ab"

TEST_IMPL(listen_cgroup_unit_follows_every_rule)
{
	static const struct {
		const char *path, *unit;
	} cases[] = {
	    /* systemd: the deepest .service or .scope */
	    {"/system.slice/nginx.service", "nginx.service"},
	    {"/user.slice/user-1000.slice/session-2.scope", "session-2.scope"},
	    {"/user.slice/user-1000.slice/user@1000.service/app.slice/app-foo@1.service",
	     "app-foo@1.service"},
	    {"/system.slice/foo.service/worker", "foo.service"},
	    {"/init.scope", "init.scope"},
	    {"//system.slice//nginx.service/", "nginx.service"},
	    {"system.slice/nginx.service", "nginx.service"},
	    /* nothing to name */
	    {"/", NULL},
	    {"", NULL},
	    {"/system.slice", NULL},
	    {"/.service", NULL},
	    {"/x/.scope", NULL},
	    {"/system.slice/nginx.socket", NULL},
	    {"/" ID64, NULL},
	    {"/lxc", NULL},
	    {"/lxc.payload.", NULL},
	    {"/lxc.monitor.db", NULL},
	    /* containers, the shallowest one winning over any unit */
	    {"/system.slice/docker-" ID64 ".scope", "docker:" ID12},
	    {"/system.slice/docker-" ID64 ".scope/system.slice/nginx.service", "docker:" ID12},
	    {"/docker/" ID64, "docker:" ID12},
	    {"/docker/" ID64 "/init.scope", "docker:" ID12},
	    {"/machine.slice/libpod-" ID64 ".scope/container", "podman:" ID12},
	    {"/libpod_parent/libpod-" ID64, "podman:" ID12},
	    {"/machine.slice/libpod-conmon-" ID64 ".scope", "libpod-conmon-" ID64 ".scope"},
	    {"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod12_34.slice/"
	     "cri-containerd-" ID64 ".scope",
	     "containerd:" ID12},
	    {"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/"
	     "crio-" ID64 ".scope",
	     "crio:" ID12},
	    {"/kubepods.slice/kubepods-pod1.slice/crio-conmon-" ID64 ".scope",
	     "crio-conmon-" ID64 ".scope"},
	    {"/kubepods/burstable/pod0f1e/" ID64, "kubepods:" ID12},
	    {"/kubepods/besteffort/pod0f1e/crio-" ID64, "crio:" ID12},
	    {"/lxc/web1", "lxc:web1"},
	    {"/lxc/web1/init.scope", "lxc:web1"},
	    {"/lxc.payload.db", "lxc:db"},
	    {"/lxc.payload.db/system.slice/sshd.service", "lxc:db"},
	    /* ids must be 64 lower-case hex digits */
	    {"/docker/" ID64 "0", NULL},
	    {"/docker/0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", NULL},
	    {"/system.slice/docker-0123.scope", "docker-0123.scope"},
	    /* control characters never make a name */
	    {"/system.slice/evil\n.service", NULL},
	    {"/system.slice/good.service/evil\x7f.scope", "good.service"},
	    {"/lxc/a\tb", NULL},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *unit = cgroup_unit(cases[i].path);

		if (cases[i].unit) {
			if (!unit || strcmp(unit, cases[i].unit))
				TEST_FAIL_("cgroup_unit(\"%s\") = \"%s\", want \"%s\"",
					   cases[i].path, unit ? unit : "(null)", cases[i].unit);
		} else if (unit) {
			TEST_FAIL_("cgroup_unit(\"%s\") = \"%s\", want NULL", cases[i].path, unit);
		}
		free(unit);
	}
	ASSERT_TRUE(cgroup_unit(NULL) == NULL);
	return 0;
}

/* --- cgroup names on the real hierarchy -------------------------------------- */

/* The cgroup id the kernel reports for our IPv4 listener with this inode,
 * read with a sock_diag dump of our own; 0 when not found. */
static uint64_t diag_cgroup_id(uint64_t inode)
{
	struct {
		struct nlmsghdr h;
		struct inet_diag_req_v2 r;
	} req = {
	    .h = {.nlmsg_len = sizeof(req),
		  .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		  .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP},
	    .r = {.sdiag_family = AF_INET, .sdiag_protocol = IPPROTO_TCP, .idiag_states = 1 << 10},
	};
	static char buf[65536];
	uint64_t id = 0;
	int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);

	if (nl == -1 || send(nl, &req, sizeof(req), 0) != (ssize_t)sizeof(req))
		goto out;
	for (;;) {
		ssize_t n = recv(nl, buf, sizeof(buf), 0);

		if (n <= 0)
			goto out;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, n);
		     h = NLMSG_NEXT(h, n)) {
			struct inet_diag_msg *m = NLMSG_DATA(h);
			int len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));

			if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR)
				goto out;
			if (m->idiag_inode != inode)
				continue;
			for (struct rtattr *a = (struct rtattr *)(m + 1); RTA_OK(a, len);
			     a = RTA_NEXT(a, len))
				if (a->rta_type == INET_DIAG_CGROUP_ID &&
				    RTA_PAYLOAD(a) == sizeof(id))
					memcpy(&id, RTA_DATA(a), sizeof(id));
		}
	}
out:
	if (nl != -1)
		close(nl);
	return id;
}

/* Our cgroup v2 path from /proc/self/cgroup ("0::/path"), into buf. */
static int self_cgroup(char *buf, size_t len)
{
	char text[4096];
	int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd == -1 ? -1 : read(fd, text, sizeof(text) - 1);
	char *line, *end;

	if (fd != -1)
		close(fd);
	if (n <= 0)
		return -1;
	text[n] = '\0';
	if (!strncmp(text, "0::", 3)) {
		line = text + 3;
	} else {
		line = strstr(text, "\n0::");
		if (!line)
			return -1;
		line += 4;
	}
	end = strchr(line, '\n');
	if (end)
		*end = '\0';
	if (strlen(line) >= len)
		return -1;
	memcpy(buf, line, strlen(line) + 1);
	return 0;
}

/* Where cgroup2 is mounted: /sys/fs/cgroup, or its "unified" on hybrid hosts. */
static const char *cgroup2_mount(void)
{
	struct statfs sf;

	if (statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
		return "/sys/fs/cgroup";
	if (statfs("/sys/fs/cgroup/unified", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
		return "/sys/fs/cgroup/unified";
	return NULL;
}

TEST_IMPL(listen_cgroup_names_our_own_cgroup_from_its_sock_diag_id)
{
	struct pp_listen_set set;
	char path[1024], err[256];
	struct stat st;
	uint16_t port;
	uint64_t id;
	int fd = test_listen(0, &port);
	char *unit;

	ASSERT_TRUE(fd >= 0);
	ASSERT_TRUE(cgroup2_mount() != NULL);
	ASSERT_EQ(self_cgroup(path, sizeof(path)), 0);
	ASSERT_EQ(fstat(fd, &st), 0);
	id = diag_cgroup_id(st.st_ino);
	ASSERT_TRUE(id != 0);

	pp_listen_set_init(&set);
	ASSERT_TRUE(listen_set_push(&set) && listen_set_push(&set) && listen_set_push(&set));
	set.v[0].cgroup_id = id;
	set.v[1].cgroup_id = UINT64_MAX - 7; /* no such cgroup */
	set.v[2].cgroup_id = id;
	for (int pass = 0; pass < 2; pass++) {
		/* the default root (on a hybrid host through its "unified"), then
		 * the cgroup2 mount named directly */
		const char *root = pass ? cgroup2_mount() : NULL;

		ASSERT_EQ(cgroup_name_all(&set, root, err, sizeof(err)), 0);
		ASSERT_STR_EQ(err, "");
		ASSERT_STR_EQ(set.v[0].cgroup, path);
		ASSERT_STR_EQ(set.v[2].cgroup, path);
		ASSERT_TRUE(set.v[1].cgroup == NULL && set.v[1].unit == NULL);
		unit = cgroup_unit(path);
		if (unit) {
			ASSERT_STR_EQ(set.v[0].unit, unit);
		} else {
			ASSERT_TRUE(set.v[0].unit == NULL);
		}
		free(unit);
	}
	pp_listen_set_release(&set);
	close(fd);
	return 0;
}

/* The child's part: joins the cgroup dir, opens a listener, reports its inode. */
static void join_and_listen(const char *dir, int out)
{
	char procs[1200];
	uint64_t inode = 0;
	uint16_t port;
	struct stat st;
	int fd;

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	fd = open(procs, O_WRONLY | O_CLOEXEC);
	if (fd != -1 && write(fd, "0", 1) == 1) {
		int l = test_listen(0, &port);

		if (l >= 0 && fstat(l, &st) == 0)
			inode = st.st_ino;
	}
	if (write(out, &inode, sizeof(inode)) != (ssize_t)sizeof(inode))
		_exit(1);
	pause();
	_exit(0);
}

static int child_cgroup(const char *slice, const char *leaf, const char *rel, const char *unit)
{
	struct pp_listen_set set;
	struct stat st;
	char err[256];
	uint64_t inode = 0, id;
	int p[2], r = 1, status;
	pid_t child;

	ASSERT_EQ(pipe(p), 0);
	child = fork();
	ASSERT_TRUE(child >= 0);
	if (child == 0) {
		close(p[0]);
		join_and_listen(leaf, p[1]);
	}
	close(p[1]);
	if (read(p[0], &inode, sizeof(inode)) != (ssize_t)sizeof(inode) || !inode) {
		printf("note: could not move a process into %s, test skipped\n", leaf);
		r = 0;
		goto out;
	}
	id = diag_cgroup_id(inode);
	/* the premise of cgroup.c: the kernel's id is the directory's inode */
	if (stat(leaf, &st) != 0 || id != st.st_ino) {
		fprintf(stderr, "%s:%d: sock_diag id %llu, %s inode %llu\n", __FILE__, __LINE__,
			(unsigned long long)id, leaf, (unsigned long long)st.st_ino);
		goto out;
	}
	pp_listen_set_init(&set);
	if (!listen_set_push(&set))
		goto out;
	set.v[0].cgroup_id = id;
	if (cgroup_name_all(&set, NULL, err, sizeof(err)) != 0 || !set.v[0].cgroup ||
	    strcmp(set.v[0].cgroup, rel) || !set.v[0].unit || strcmp(set.v[0].unit, unit)) {
		fprintf(stderr, "%s:%d: cgroup \"%s\" unit \"%s\" (%s), want \"%s\" \"%s\"\n",
			__FILE__, __LINE__, set.v[0].cgroup ? set.v[0].cgroup : "(null)",
			set.v[0].unit ? set.v[0].unit : "(null)", err, rel, unit);
	} else {
		r = 0;
	}
	pp_listen_set_release(&set);
out:
	close(p[0]);
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	for (int i = 0; i < 50 && rmdir(leaf) == -1 && errno == EBUSY; i++)
		usleep(20000);
	rmdir(slice);
	return r;
}

TEST_IMPL(listen_cgroup_names_a_new_child_cgroup_and_its_service_unit)
{
	const char *mount = cgroup2_mount();
	char self[512], slice[1024], leaf[1100], rel[1200], unit[64];
	const char *base;

	ASSERT_TRUE(mount != NULL);
	ASSERT_EQ(self_cgroup(self, sizeof(self)), 0);
	base = strcmp(self, "/") ? self : "";
	snprintf(unit, sizeof(unit), "pp-owners-%d.service", (int)getpid());
	snprintf(slice, sizeof(slice), "%s%s/pp-test-%d.slice", mount, base, (int)getpid());
	snprintf(leaf, sizeof(leaf), "%s/%s", slice, unit);
	snprintf(rel, sizeof(rel), "%s/pp-test-%d.slice/%s", base, (int)getpid(), unit);
	if (mkdir(slice, 0755) == -1 || mkdir(leaf, 0755) == -1) {
		printf("note: cannot create cgroups under %s%s (%s), test skipped\n", mount, base,
		       strerror(errno));
		rmdir(slice);
		return 0;
	}
	return child_cgroup(slice, leaf, rel, unit);
}

TEST_IMPL(listen_cgroup_root_missing_or_not_cgroup2_is_an_error)
{
	char dir[] = "/tmp/pp_cgroup_XXXXXX", err[256], want[256];
	struct pp_listen_set set;

	pp_listen_set_init(&set);
	ASSERT_TRUE(listen_set_push(&set) && listen_set_push(&set));
	/* no ids: the root is not even looked at */
	ASSERT_EQ(cgroup_name_all(&set, "/nonexistent-pp-cgroup", err, sizeof(err)), 0);
	ASSERT_STR_EQ(err, "");

	set.v[1].cgroup_id = 1;
	ASSERT_EQ(cgroup_name_all(&set, "/nonexistent-pp-cgroup", err, sizeof(err)), -ENOENT);
	ASSERT_STR_EQ(err, "/nonexistent-pp-cgroup: No such file or directory");
	ASSERT_TRUE(mkdtemp(dir));
	ASSERT_EQ(cgroup_name_all(&set, dir, err, sizeof(err)), -ENOTSUP);
	snprintf(want, sizeof(want), "%s: not a cgroup2 mount, nor is %s/unified", dir, dir);
	ASSERT_STR_EQ(err, want);
	ASSERT_EQ(cgroup_name_all(&set, dir, err, 0), -ENOTSUP);
	ASSERT_TRUE(set.v[1].cgroup == NULL && set.v[1].unit == NULL);
	rmdir(dir);
	pp_listen_set_release(&set);
	return 0;
}
