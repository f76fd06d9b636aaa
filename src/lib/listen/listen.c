/* listen.c: pp_listen_collect(): which source to read, then owners and
 * cgroup names as asked, then order and SO_REUSEPORT groups.
 *
 * Live sock_diag is the source unless the caller asks for procfs or a
 * recorded dump. When the netlink socket cannot be had (inet_diag not
 * loaded, a seccomp or LSM denial) the set is read from /proc/net/tcp{,6}
 * instead and marked so, because the backlog, cookie, cgroup and dual-stack
 * mark are then unknown. A cgroup walk that fails costs only the cgroup
 * names, never the listing. */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "listen/listen_int.h"

/* Whether a live sock_diag failure should fall back to procfs. */
static int sockdiag_unavailable(int rc)
{
	return rc == -EPROTONOSUPPORT || rc == -EAFNOSUPPORT || rc == -EACCES || rc == -EPERM ||
	       rc == -ENOENT || rc == -EOPNOTSUPP;
}

/* Reads the live sock_diag dump of the families asked for. */
static int collect_sockdiag(struct pp_listen_set *set, const struct pp_listen_opts *o, char *err,
			    size_t errlen)
{
	static const int families[] = {AF_INET, AF_INET6};
	FILE *record = NULL;
	int rc = 0;

	if (o->record_file) {
		record = fopen(o->record_file, "wbe");
		if (!record) {
			rc = -errno;
			snprintf(err, errlen, "%s: %s", o->record_file, strerror(errno));
			return rc;
		}
	}
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]) && rc == 0; i++) {
		if (o->family && o->family != families[i])
			continue;
		rc = sockdiag_dump(families[i], set, record, err, errlen);
		/* IPv6 disabled in this kernel: no v6 listeners, not a failure. */
		if (rc == -EAFNOSUPPORT && families[i] == AF_INET6)
			rc = 0;
	}
	if (record && fclose(record) != 0 && rc == 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", o->record_file, strerror(errno));
	}
	return rc;
}

/* Drops the rows of the family not asked for (a replayed dump holds both). */
static void keep_family(struct pp_listen_set *set, int family)
{
	size_t w = 0;

	if (!family)
		return;
	for (size_t r = 0; r < set->n; r++) {
		if (set->v[r].family == family)
			set->v[w++] = set->v[r];
		else
			listen_release_one(&set->v[r]);
	}
	set->n = w;
}

/* Names each socket's uid, looking every distinct uid up once. */
static void name_users(struct pp_listen_set *set)
{
	enum { cache_max = 64 };
	struct {
		uint32_t uid;
		char name[64];
	} cache[cache_max];
	size_t ncache = 0;

	for (size_t i = 0; i < set->n; i++) {
		struct pp_listener *l = &set->v[i];
		size_t k = 0;

		while (k < ncache && cache[k].uid != l->uid)
			k++;
		if (k == ncache) {
			char buf[4096];
			struct passwd pw, *found = NULL;

			if (ncache == cache_max)
				ncache = k = 0; /* crude but bounded: start over */
			cache[k].uid = l->uid;
			cache[k].name[0] = '\0';
			if (getpwuid_r(l->uid, &pw, buf, sizeof(buf), &found) == 0 && found)
				snprintf(cache[k].name, sizeof(cache[k].name), "%s",
					 found->pw_name);
			ncache++;
		}
		memcpy(l->user, cache[k].name, sizeof(l->user));
	}
}

int pp_listen_collect(struct pp_listen_set *set, const struct pp_listen_opts *opts, char *err,
		      size_t errlen)
{
	static const struct pp_listen_opts defaults;
	const struct pp_listen_opts *o = opts ? opts : &defaults;
	const char *proc_root = o->proc_root ? o->proc_root : "/proc";
	int rc;

	err[0] = '\0';
	set->source = PP_LISTEN_SOCK_DIAG;
	if (o->dump_file) {
		rc = sockdiag_read_file(o->dump_file, set, err, errlen);
	} else if (o->procfs) {
		set->source = PP_LISTEN_PROCFS;
		rc = procnet_read(proc_root, o->family, set, err, errlen);
	} else {
		rc = collect_sockdiag(set, o, err, errlen);
		if (rc < 0 && sockdiag_unavailable(rc) && !o->record_file) {
			pp_listen_set_release(set);
			set->source = PP_LISTEN_PROCFS;
			rc = procnet_read(proc_root, o->family, set, err, errlen);
		}
	}
	if (rc < 0)
		return rc;
	keep_family(set, o->family);
	if (o->owners) {
		rc = owners_find(set, proc_root, err, errlen);
		if (rc < 0)
			return rc;
	}
	/* A replayed dump's cgroup ids belong to the host that recorded it. */
	if (o->cgroups && !o->dump_file) {
		char ignored[256];
		int any = 0;

		for (size_t i = 0; i < set->n && !any; i++)
			any = set->v[i].cgroup_id != 0;
		/* No cgroup2 mount or no permission: the listing stands without names. */
		if (any)
			(void)cgroup_name_all(set,
					      o->cgroup_root ? o->cgroup_root : "/sys/fs/cgroup",
					      ignored, sizeof(ignored));
	}
	name_users(set);
	pp_listen_sort(set);
	return 0;
}
