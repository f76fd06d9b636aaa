/* listen.h: the host's listening TCP sockets and who holds them, as
 * `portprobe listen` shows them.
 *
 * A listener set is read from the kernel's sock_diag interface (one
 * NETLINK_SOCK_DIAG dump per family asking for LISTEN only), or, when that
 * is unavailable, from /proc/net/tcp and tcp6, where the backlog, the cookie,
 * the cgroup and the dual-stack mark are unknown. Owners are found by
 * scanning /proc/PID/fd only for the inodes wanted, stopping as soon as all
 * are found. The library never prints; errors are negative errno values with
 * a message in the caller's buffer. */
#ifndef PORTPROBE_LISTEN_H
#define PORTPROBE_LISTEN_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "portprobe/buf.h"

/* Where a listener's address puts it. */
enum pp_listen_exposure {
	PP_EXPOSURE_LOOPBACK = 0, /* 127.0.0.0/8, ::1, ::ffff:127.0.0.0/104 */
	PP_EXPOSURE_ANY,          /* 0.0.0.0 or :: */
	PP_EXPOSURE_SPECIFIC,     /* any other address */
};

/* What is known of a listener's holders. */
enum pp_listen_owners {
	PP_OWNERS_NOT_LOOKED = 0, /* owners were not asked for */
	PP_OWNERS_FOUND,          /* procs[] holds at least one process */
	PP_OWNERS_NO_PERMISSION,  /* not found, and some /proc/PID/fd could not be read */
	PP_OWNERS_NONE,           /* not found though every process could be read
				   * (another PID namespace, or closed meanwhile) */
};

/* Where a set was read from. */
enum pp_listen_source {
	PP_LISTEN_SOCK_DIAG = 0, /* netlink sock_diag (live or a recorded dump) */
	PP_LISTEN_PROCFS,        /* /proc/net/tcp{,6}: no backlog, cookie, cgroup, v6only */
};

/* One process holding a listening socket. */
struct pp_listen_proc {
	int pid;       /* process id */
	int fd;        /* its descriptor number for the socket */
	char name[64]; /* comm from /proc/PID/stat (at most 15 bytes + NUL in practice) */
	char *cmdline; /* arguments joined by spaces, owned; "" for kernel threads or
			* when unreadable */
};

/* One listening socket. */
struct pp_listener {
	int family;                       /* AF_INET or AF_INET6 */
	uint8_t addr[16];                 /* local address, network order (4 bytes used for v4) */
	uint16_t port;                    /* local port, host order */
	int v6only;                       /* 1 v6only, 0 dual-stack (v6 socket taking v4 too),
				      * -1 unknown or not IPv6 */
	unsigned ifindex;                 /* SO_BINDTODEVICE index, 0 when not bound */
	char ifname[IF_NAMESIZE];         /* its name, "" when not bound or unknown */
	uint32_t accept_queue;            /* connections completed but not accepted */
	int64_t backlog;                  /* effective backlog, -1 when unknown (procfs) */
	uint32_t uid;                     /* socket owner uid */
	char user[64];                    /* its user name, "" when it has none */
	uint64_t inode;                   /* socket inode (join key to /proc/PID/fd) */
	uint64_t cookie;                  /* socket cookie, 0 when unknown (procfs) */
	uint64_t cgroup_id;               /* cgroup v2 id of the creating task, 0 when unknown */
	enum pp_listen_exposure exposure; /* derived from addr */
	unsigned group;                   /* SO_REUSEPORT group number (1-based, in set order)
				      * when another socket shares family, address, port
				      * and device; 0 when alone */
	unsigned group_size;              /* members of that group, 0 when alone */
	enum pp_listen_owners owners;     /* what procs[] means */
	struct pp_listen_proc *procs;     /* holders, sorted by pid then fd; owned */
	size_t nprocs;                    /* entries in procs */
	char *cgroup;                     /* cgroup path ("/system.slice/nginx.service"), owned,
				      * NULL when unknown */
	char *unit;                       /* systemd unit or "docker:ID"-style container
				      * named by the cgroup, owned, NULL when none */
};

/* A set of listeners, in the kernel's dump order until sorted. */
struct pp_listen_set {
	struct pp_listener *v;        /* entries */
	size_t n;                     /* used */
	size_t cap;                   /* allocated */
	enum pp_listen_source source; /* where they were read from */
};

/* What to read and how. Zero-initialised means: live sock_diag, both
 * families, no owners, no cgroup paths, the real /proc and /sys/fs/cgroup. */
struct pp_listen_opts {
	int family;              /* 0 both, AF_INET, or AF_INET6 */
	int procfs;              /* 1: read /proc/net/tcp{,6} instead of sock_diag */
	int owners;              /* 1: scan PROC_ROOT/PID/fd for the holders */
	int cgroups;             /* 1: name each socket's cgroup and unit */
	const char *proc_root;   /* NULL: "/proc" */
	const char *cgroup_root; /* NULL: "/sys/fs/cgroup" */
	const char *dump_file;   /* replay this recorded sock_diag dump (ss -D format) */
	const char *record_file; /* also write the live dump here (ss -D format) */
};

void pp_listen_set_init(struct pp_listen_set *set);
/* Frees every listener's contents and the array; the set can be reused after init. */
void pp_listen_set_release(struct pp_listen_set *set);

/* Reads the listening sockets of the current network namespace into set
 * (which must be empty), then fills owners and cgroups as asked, and marks
 * exposure and SO_REUSEPORT groups. On live sock_diag failure with
 * EPROTONOSUPPORT, EACCES or EPERM it falls back to procfs (set->source
 * says so). Returns 0, or -errno with a one-line message in err (which
 * names the file and offset for a bad dump). */
int pp_listen_collect(struct pp_listen_set *set, const struct pp_listen_opts *opts, char *err,
		      size_t errlen);

/* Sorts by family (v4 first), address, port, device, then cookie/inode, and
 * renumbers the groups. */
void pp_listen_sort(struct pp_listen_set *set);

/* What to keep of a set; zero keeps everything. */
struct pp_listen_filter {
	const uint16_t *ports; /* keep only these local ports (ascending), NULL: any */
	size_t nports;         /* entries in ports */
	const char *process;   /* keep sockets with a holder of this name (comm) or
				* pid; needs owners; NULL: any */
	int exposed;           /* 1: drop loopback listeners */
};
/* Drops the listeners f does not keep (their contents freed); order and
 * group numbers of the rest are kept. */
void pp_listen_filter(struct pp_listen_set *set, const struct pp_listen_filter *f);

/* Exposure class name: "loopback", "any", "specific". */
const char *pp_listen_exposure_name(enum pp_listen_exposure e);

/* Address text without brackets ("127.0.0.1", "::1") into buf (>= 46 bytes). */
const char *pp_listen_addr_text(const struct pp_listener *l, char *buf, size_t len);

/* Output formats. Each appends to b and returns 0 or a negative errno. */
struct pp_listen_out_opts {
	int numeric;       /* 1: no service names */
	int processes;     /* 1: process columns were asked for (-p) */
	const char *netns; /* network namespace name for labels, NULL for the current one */
};
int pp_listen_write_text(struct pp_buf *b, const struct pp_listen_set *set,
			 const struct pp_listen_out_opts *o);
int pp_listen_write_json(struct pp_buf *b, const struct pp_listen_set *set,
			 const struct pp_listen_out_opts *o);
int pp_listen_write_csv(struct pp_buf *b, const struct pp_listen_set *set,
			const struct pp_listen_out_opts *o);
int pp_listen_write_prometheus(struct pp_buf *b, const struct pp_listen_set *set,
			       const struct pp_listen_out_opts *o);

/* Formats of a --watch stream. */
enum pp_listen_format { PP_LISTEN_TEXT = 0, PP_LISTEN_JSON, PP_LISTEN_CSV };
/* The header line of a watch stream: text and CSV name the columns, JSON
 * (one object per line) has none. */
int pp_listen_write_event_header(struct pp_buf *b, enum pp_listen_format f,
				 const struct pp_listen_out_opts *o);
/* One line of a watch stream: event ("present" for the first snapshot,
 * "appeared", "gone") of l at time ts.
 *   text: "TIME EVENT PROTO LOCAL SERVICE QUEUE EXPOSURE USER [PROCESS] UNIT"
 *   json: {"event": ..., "time": ..., "listener": {the -o json object}}
 *   csv:  event,time, then the -o csv columns */
int pp_listen_write_event(struct pp_buf *b, enum pp_listen_format f, const char *event,
			  const struct timespec *ts, const struct pp_listener *l,
			  const struct pp_listen_out_opts *o);

#endif
