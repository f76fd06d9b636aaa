/* listen_int.h: the pieces behind pp_listen_collect(): the sock_diag dump
 * and its parser, the /proc/net/tcp reader, the owner scan and the cgroup
 * names. Each parser takes bytes and appends to a set, so the fuzz targets
 * and the unit tests drive exactly what the command runs. */
#ifndef PP_LISTEN_INT_H
#define PP_LISTEN_INT_H

#include <stddef.h>
#include <stdio.h>

#include "portprobe/listen.h"

enum {
	LISTEN_MAX_SOCKETS = 1 << 20, /* cap on rows in one set */
	LISTEN_MAX_DUMP = 256 << 20,  /* cap on a dump file's size */
};

/* set.c */
/* Appends a zeroed listener (v6only -1, backlog -1) and returns it, or NULL
 * when out of memory or over LISTEN_MAX_SOCKETS. */
struct pp_listener *listen_set_push(struct pp_listen_set *set);
/* Frees one listener's owned contents (procs, cmdlines, cgroup, unit). */
void listen_release_one(struct pp_listener *l);
/* Sets exposure from addr (v4-mapped loopback counts as loopback). */
void listen_mark_exposure(struct pp_listener *l);
/* Numbers SO_REUSEPORT groups: sockets sharing family, addr, port, ifindex. */
void listen_mark_groups(struct pp_listen_set *set);

/* Drops the rows appended after the first n (a failed parse rolls back). */
void listen_set_truncate(struct pp_listen_set *set, size_t n);
/* Writes the message into err (when there is room) and returns rc. */
int listen_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Reads all of fd into b (which caps the size). Returns 0, -E2BIG or -errno. */
int listen_read_all(int fd, struct pp_buf *b);

/* sockdiag.c */
/* Parses a stream of netlink messages (a reply to SOCK_DIAG_BY_FAMILY, or an
 * `ss -D` file, which is the same bytes) and appends every TCP_LISTEN record.
 * Stops at NLMSG_DONE (*done = 1). Returns the bytes consumed (a multiple of
 * whole messages), or -EBADMSG for a truncated or malformed message, or the
 * error of an NLMSG_ERROR, with a message naming the byte offset in err. */
long sockdiag_parse(const void *buf, size_t len, struct pp_listen_set *set, int *done, char *err,
		    size_t errlen);
/* Dumps the listeners of family (AF_INET or AF_INET6) from the kernel,
 * idiag_states = 1 << TCP_LISTEN only; when record is not NULL, writes every
 * received message to it as well (ss -D format). Returns 0 or -errno
 * (socket() failing gives -EPROTONOSUPPORT, -EACCES, -EPERM ...). */
int sockdiag_dump(int family, struct pp_listen_set *set, FILE *record, char *err, size_t errlen);
/* Replays a recorded dump file (at most LISTEN_MAX_DUMP bytes); a file that
 * ends inside a message is an error naming the path and offset. */
int sockdiag_read_file(const char *path, struct pp_listen_set *set, char *err, size_t errlen);

/* procnet.c */
/* Parses the text of /proc/net/tcp (family AF_INET) or tcp6 (AF_INET6) and
 * appends every LISTEN (st 0A) line: backlog -1, cookie 0, v6only -1.
 * Returns 0, or -EBADMSG naming the line number for a malformed line
 * (including a last line cut short). */
int procnet_parse(const char *text, size_t len, int family, struct pp_listen_set *set, char *err,
		  size_t errlen);
/* Reads PROC_ROOT/net/tcp and/or tcp6 (family 0 = both) and parses them.
 * A missing tcp6 (IPv6 disabled) is not an error. */
int procnet_read(const char *proc_root, int family, struct pp_listen_set *set, char *err,
		 size_t errlen);

/* owners.c */
/* Fills procs/owners for every listener of set by scanning
 * PROC_ROOT/[0-9]*\/fd for "socket:[INODE]" links of the wanted inodes only.
 * Once every wanted inode has been found, only later processes tied to a
 * holder by parent links are read, so fork()ed holders are still listed
 * (owners.c states the rule and what it misses). Reads stat/comm and cmdline
 * only for holders. Returns 0 or -errno when PROC_ROOT itself cannot be read
 * (-ENOMEM, or -E2BIG past the caps). */
int owners_find(struct pp_listen_set *set, const char *proc_root, char *err, size_t errlen);

/* cgroup.c */
/* Fills cgroup and unit for every listener with a cgroup_id, by walking the
 * cgroup2 hierarchy at root once (name_to_handle_at gives each directory's
 * id). A listener whose id is not found keeps cgroup NULL. Returns 0 or
 * -errno when root is not a readable cgroup2 mount (a hybrid host's
 * root/unified is used instead when it is one). */
int cgroup_name_all(struct pp_listen_set *set, const char *root, char *err, size_t errlen);
/* The systemd unit or container a cgroup path names, malloc'd, or NULL:
 * "/system.slice/nginx.service" -> "nginx.service",
 * "/user.slice/user-1000.slice/session-2.scope" -> "session-2.scope",
 * "/system.slice/docker-<64 hex>.scope" -> "docker:<12 hex>",
 * "/docker/<64 hex>" -> "docker:<12 hex>", likewise for libpod/podman,
 * containerd (cri-containerd-*.scope), crio; "/" -> NULL. */
char *cgroup_unit(const char *path);

#endif
