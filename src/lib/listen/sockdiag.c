/* sockdiag.c: the listening TCP sockets from the kernel's sock_diag netlink
 * interface, live or replayed from an `ss -D` recording.
 *
 * A live dump and a replayed file go through the same parser: the live path
 * first gathers one family's whole reply (every message of our sequence
 * number from the kernel, up to NLMSG_DONE) into one buffer, writes those
 * bytes to the record file if asked, then parses them exactly as a file is
 * parsed. Gathering first also makes an interrupted dump (NLM_F_DUMP_INTR:
 * the listening hash changed under the kernel's walk) cheap to redo: the
 * attempt is thrown away whole, so neither the set nor the recording ever
 * holds half of one. The request asks for TCP_LISTEN only, so the kernel
 * walks the listening hash and skips the established one.
 *
 * The recording format is ss's: the netlink messages as received, each
 * padded to 4 bytes, one dump per family each ending in NLMSG_DONE. The
 * parser trusts nothing in it: every length is checked against what is
 * left, attribute payloads must have their exact size, and a file that is
 * not a dump is refused at its first header instead of yielding rows. All
 * fields are copied out with memcpy, so the bytes need no alignment. A
 * failed parse leaves the set as it was. */
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "listen/listen_int.h"

enum {
	SOCKDIAG_TRIES = 5,               /* dumps of one family before giving up on DUMP_INTR */
	SOCKDIAG_RCVBUF = 64 << 10,       /* first receive buffer; grown to what MSG_PEEK says */
	SOCKDIAG_MAX_DATAGRAM = 16 << 20, /* refuse a single datagram larger than this */
	SOCKDIAG_TIMEOUT_S = 10,          /* the kernel answers at once; this only guards a hang */
	HDR_LEN = NLMSG_HDRLEN,           /* 16: struct nlmsghdr */
	RECORD_LEN = NLMSG_LENGTH(sizeof(struct inet_diag_msg)), /* 88: header + record */
	ERROR_LEN = NLMSG_LENGTH(sizeof(struct nlmsgerr)),       /* 36: header + nlmsgerr */
};

/* The family as ss and strace spell it, for messages. */
static const char *family_name(int family)
{
	return family == AF_INET ? "AF_INET" : family == AF_INET6 ? "AF_INET6" : "AF_?";
}

/* Reads the attributes of the record message at buf[0..len) (len is its
 * nlmsg_len, already checked against the buffer) into l, when l is not NULL;
 * a record that is not kept is still checked. at is the message's offset
 * for error messages. Returns 0 or -EBADMSG. */
static int parse_attrs(const uint8_t *buf, size_t len, size_t at, int family, struct pp_listener *l,
		       char *err, size_t errlen)
{
	size_t a = RECORD_LEN;

	while (a < len) {
		struct rtattr rta;
		size_t payload;
		unsigned type;

		if (len - a < sizeof(rta))
			return listen_fail(
			    err, errlen, -EBADMSG,
			    "malformed attribute at byte %zu (%zu stray bytes at the end "
			    "of the message at byte %zu)",
			    at + a, len - a, at);
		memcpy(&rta, buf + a, sizeof(rta));
		type = rta.rta_type & NLA_TYPE_MASK;
		if (rta.rta_len < sizeof(rta) || rta.rta_len > len - a)
			return listen_fail(
			    err, errlen, -EBADMSG,
			    "malformed attribute %u at byte %zu (length %u, %zu bytes left in "
			    "the message)",
			    type, at + a, rta.rta_len, len - a);
		payload = rta.rta_len - sizeof(rta);
		if (type == INET_DIAG_SKV6ONLY || type == INET_DIAG_CGROUP_ID) {
			size_t want = type == INET_DIAG_SKV6ONLY ? 1 : sizeof(uint64_t);

			if (payload != want)
				return listen_fail(
				    err, errlen, -EBADMSG,
				    "malformed attribute %u at byte %zu (%zu bytes of "
				    "payload, expected %zu)",
				    type, at + a, payload, want);
		}
		if (l && type == INET_DIAG_SKV6ONLY && family == AF_INET6)
			l->v6only = buf[a + sizeof(rta)] != 0;
		if (l && type == INET_DIAG_CGROUP_ID)
			memcpy(&l->cgroup_id, buf + a + sizeof(rta), sizeof(l->cgroup_id));
		/* the padding of the last attribute may be left out */
		a += RTA_ALIGN(rta.rta_len) < len - a ? RTA_ALIGN(rta.rta_len) : len - a;
	}
	return 0;
}

/* Reads one SOCK_DIAG_BY_FAMILY message (buf[0..len), len its nlmsg_len)
 * and appends it to set when it is a TCP listener. Returns 0 or -errno. */
static int parse_record(const uint8_t *buf, size_t len, size_t at, struct pp_listen_set *set,
			char *err, size_t errlen)
{
	struct inet_diag_msg m;
	struct pp_listener *l;
	int keep, rc;

	if (len < RECORD_LEN)
		return listen_fail(
		    err, errlen, -EBADMSG,
		    "netlink message at byte %zu too short for a socket record (%zu bytes, "
		    "need %d)",
		    at, len, (int)RECORD_LEN);
	memcpy(&m, buf + HDR_LEN, sizeof(m));
	keep = m.idiag_state == TCP_LISTEN &&
	       (m.idiag_family == AF_INET || m.idiag_family == AF_INET6);
	if (!keep)
		return parse_attrs(buf, len, at, m.idiag_family, NULL, err, errlen);
	if (set->n >= LISTEN_MAX_SOCKETS)
		return listen_fail(err, errlen, -E2BIG, "more than %d listeners at byte %zu",
				   (int)LISTEN_MAX_SOCKETS, at);
	l = listen_set_push(set);
	if (!l)
		return listen_fail(err, errlen, -ENOMEM, "out of memory");
	l->family = m.idiag_family;
	memcpy(l->addr, m.id.idiag_src, l->family == AF_INET ? 4 : 16);
	l->port = ntohs(m.id.idiag_sport);
	l->ifindex = m.id.idiag_if;
	l->accept_queue = m.idiag_rqueue;
	l->backlog = m.idiag_wqueue;
	l->uid = m.idiag_uid;
	l->inode = m.idiag_inode;
	l->cookie = m.id.idiag_cookie[0] | (uint64_t)m.id.idiag_cookie[1] << 32;
	rc = parse_attrs(buf, len, at, l->family, l, err, errlen);
	if (rc < 0)
		return rc;
	listen_mark_exposure(l);
	return 0;
}

/* The parser behind sockdiag_parse(); base is buf's offset in the whole
 * input, for error messages. On failure the set is as it was. */
static long parse_stream(const uint8_t *buf, size_t len, size_t base, struct pp_listen_set *set,
			 int *done, char *err, size_t errlen)
{
	size_t n0 = set->n, off = 0;
	int rc = 0;

	*done = 0;
	while (off < len && !*done) {
		size_t left = len - off, at = base + off, need;
		struct nlmsghdr h;

		if (left < HDR_LEN) {
			rc = listen_fail(
			    err, errlen, -EBADMSG,
			    "truncated netlink message at byte %zu (%zu bytes left, a header "
			    "needs %d)",
			    at, left, (int)HDR_LEN);
			goto out;
		}
		memcpy(&h, buf + off, sizeof(h));
		if (h.nlmsg_type != SOCK_DIAG_BY_FAMILY && h.nlmsg_type != NLMSG_DONE &&
		    h.nlmsg_type != NLMSG_ERROR) {
			rc = listen_fail(
			    err, errlen, -EBADMSG,
			    "not a sock_diag dump: message type %u at byte %zu (expected "
			    "SOCK_DIAG_BY_FAMILY, NLMSG_DONE or NLMSG_ERROR)",
			    h.nlmsg_type, at);
			goto out;
		}
		if (h.nlmsg_len < HDR_LEN) {
			rc = listen_fail(
			    err, errlen, -EBADMSG,
			    "bad netlink message length at byte %zu (header says %u bytes, "
			    "less than the header itself)",
			    at, h.nlmsg_len);
			goto out;
		}
		if (h.nlmsg_len > left) {
			rc = listen_fail(
			    err, errlen, -EBADMSG,
			    "truncated netlink message at byte %zu (header says %u bytes, %zu "
			    "left)",
			    at, h.nlmsg_len, left);
			goto out;
		}
		need = NLMSG_ALIGN((size_t)h.nlmsg_len);
		if (need > left) {
			rc = listen_fail(
			    err, errlen, -EBADMSG,
			    "truncated netlink message at byte %zu (header says %u bytes, "
			    "padded to %zu, %zu left)",
			    at, h.nlmsg_len, need, left);
			goto out;
		}
		if (h.nlmsg_type == NLMSG_DONE) {
			int32_t code = 0;

			/* a dump that failed midway says so in NLMSG_DONE's payload */
			if (h.nlmsg_len >= NLMSG_LENGTH(sizeof(code)))
				memcpy(&code, buf + off + HDR_LEN, sizeof(code));
			if (code < -4095) {
				rc = listen_fail(err, errlen, -EBADMSG,
						 "bad error code %d in NLMSG_DONE at byte %zu",
						 (int)code, at);
				goto out;
			}
			if (code < 0) {
				rc = listen_fail(err, errlen, code,
						 "the dump ended in error at byte %zu: %s", at,
						 strerror(-code));
				goto out;
			}
			*done = 1;
		} else if (h.nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr e;

			if (h.nlmsg_len < ERROR_LEN) {
				rc = listen_fail(
				    err, errlen, -EBADMSG,
				    "truncated error message at byte %zu (%u bytes, need %d)", at,
				    h.nlmsg_len, (int)ERROR_LEN);
				goto out;
			}
			memcpy(&e, buf + off + HDR_LEN, sizeof(e));
			if (e.error > 0 || e.error < -4095) {
				rc = listen_fail(
				    err, errlen, -EBADMSG,
				    "bad error code %d in the error message at byte %zu", e.error,
				    at);
				goto out;
			}
			if (e.error < 0) {
				rc = listen_fail(
				    err, errlen, e.error,
				    "the kernel refused the dump (error message at byte "
				    "%zu): %s",
				    at, strerror(-e.error));
				goto out;
			}
			/* error 0 is an acknowledgement: nothing to read */
		} else {
			rc = parse_record(buf + off, h.nlmsg_len, at, set, err, errlen);
			if (rc < 0)
				goto out;
		}
		off += need;
	}
out:
	if (rc < 0) {
		listen_set_truncate(set, n0);
		*done = 0;
		return rc;
	}
	return (long)off;
}

long sockdiag_parse(const void *buf, size_t len, struct pp_listen_set *set, int *done, char *err,
		    size_t errlen)
{
	return parse_stream(buf, len, 0, set, done, err, errlen);
}

/* Sends one dump request for family's TCP listeners with sequence seq. */
static int send_request(int fd, int family, uint32_t seq, char *err, size_t errlen)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 r;
	} req;
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	ssize_t n;

	memset(&req, 0, sizeof(req));
	req.nlh.nlmsg_len = sizeof(req);
	req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.nlh.nlmsg_seq = seq;
	req.r.sdiag_family = (uint8_t)family;
	req.r.sdiag_protocol = IPPROTO_TCP;
	req.r.idiag_ext = 0;
	/* LISTEN alone: with any other state the kernel walks every connection too */
	req.r.idiag_states = 1u << TCP_LISTEN;
	do
		n = sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&kernel, sizeof(kernel));
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return listen_fail(err, errlen, -errno, "sock_diag request for %s: %s",
				   family_name(family), strerror(errno));
	if ((size_t)n != sizeof(req))
		return listen_fail(err, errlen, -EIO, "sock_diag request for %s: short send",
				   family_name(family));
	return 0;
}

/* What one attempt at a dump gathered. */
struct gather {
	uint8_t *dgram;    /* receive buffer, malloc'd */
	size_t dgram_cap;  /* its size */
	struct pp_buf out; /* our messages, in order, up to and including the last */
	int intr;          /* a message carried NLM_F_DUMP_INTR */
};

/* Receives one datagram into g->dgram, sized by a peek first. Returns its
 * length, 0 for a datagram not from the kernel, or -errno. */
static ssize_t recv_datagram(int fd, struct gather *g, char *err, size_t errlen)
{
	struct sockaddr_nl from;
	struct iovec iov;
	struct msghdr msg;
	ssize_t n;

	do
		n = recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC);
	while (n == -1 && errno == EINTR);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return listen_fail(err, errlen, -ETIMEDOUT,
					   "no answer from sock_diag in %d s", SOCKDIAG_TIMEOUT_S);
		return listen_fail(err, errlen, -errno, "sock_diag receive: %s", strerror(errno));
	}
	if ((size_t)n > SOCKDIAG_MAX_DATAGRAM)
		return listen_fail(err, errlen, -EMSGSIZE,
				   "sock_diag datagram of %zd bytes (over %d)", n,
				   (int)SOCKDIAG_MAX_DATAGRAM);
	if ((size_t)n > g->dgram_cap) {
		uint8_t *p = realloc(g->dgram, (size_t)n);

		if (!p)
			return listen_fail(err, errlen, -ENOMEM, "out of memory");
		g->dgram = p;
		g->dgram_cap = (size_t)n;
	}
	memset(&msg, 0, sizeof(msg));
	memset(&from, 0, sizeof(from));
	iov.iov_base = g->dgram;
	iov.iov_len = g->dgram_cap;
	msg.msg_name = &from;
	msg.msg_namelen = sizeof(from);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	do
		n = recvmsg(fd, &msg, 0);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return listen_fail(err, errlen, -errno, "sock_diag receive: %s", strerror(errno));
	if (msg.msg_flags & MSG_TRUNC)
		return listen_fail(err, errlen, -EMSGSIZE, "sock_diag datagram truncated");
	if (msg.msg_namelen != sizeof(from) || from.nl_family != AF_NETLINK || from.nl_pid != 0)
		return 0; /* not the kernel: ignore */
	return n;
}

/* Gathers one dump's messages addressed to (portid, seq) into g->out, up to
 * and including NLMSG_DONE or NLMSG_ERROR. A datagram whose framing is
 * broken is kept from that point on and ends the dump; the parser then
 * names the fault. Returns 0 or -errno. */
static int gather_dump(int fd, uint32_t portid, uint32_t seq, struct gather *g, char *err,
		       size_t errlen)
{
	for (;;) {
		ssize_t n = recv_datagram(fd, g, err, errlen);
		size_t off = 0, len;

		if (n < 0)
			return (int)n;
		len = (size_t)n;
		while (off < len) {
			struct nlmsghdr h = {0};
			size_t mlen;

			if (len - off >= sizeof(h))
				memcpy(&h, g->dgram + off, sizeof(h));
			if (len - off < sizeof(h) || h.nlmsg_len < sizeof(h) ||
			    h.nlmsg_len > len - off) {
				if (pp_buf_put(&g->out, g->dgram + off, len - off) < 0)
					return listen_fail(err, errlen, -E2BIG,
							   "sock_diag dump larger than %d bytes",
							   (int)LISTEN_MAX_DUMP);
				return 0;
			}
			mlen = NLMSG_ALIGN((size_t)h.nlmsg_len);
			if (mlen > len - off)
				mlen = len - off;
			if (h.nlmsg_seq == seq && h.nlmsg_pid == portid) {
				if (pp_buf_put(&g->out, g->dgram + off, mlen) < 0)
					return listen_fail(err, errlen, -E2BIG,
							   "sock_diag dump larger than %d bytes",
							   (int)LISTEN_MAX_DUMP);
				if (h.nlmsg_flags & NLM_F_DUMP_INTR)
					g->intr = 1;
				if (h.nlmsg_type == NLMSG_DONE || h.nlmsg_type == NLMSG_ERROR)
					return 0;
			}
			off += mlen;
		}
	}
}

/* Opens the sock_diag socket and learns its port id. Returns the fd or -errno. */
static int open_sockdiag(uint32_t *portid, char *err, size_t errlen)
{
	struct sockaddr_nl local = {.nl_family = AF_NETLINK};
	socklen_t alen = sizeof(local);
	struct timeval tv = {.tv_sec = SOCKDIAG_TIMEOUT_S};
	int fd, rc;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd == -1)
		return listen_fail(err, errlen, -errno,
				   "cannot open a NETLINK_SOCK_DIAG socket: %s", strerror(errno));
	if (bind(fd, (struct sockaddr *)&local, sizeof(local)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&local, &alen) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1) {
		rc = -errno;
		listen_fail(err, errlen, rc, "sock_diag socket setup: %s", strerror(errno));
		close(fd);
		return rc;
	}
	*portid = local.nl_pid;
	return fd;
}

int sockdiag_dump(int family, struct pp_listen_set *set, FILE *record, char *err, size_t errlen)
{
	struct gather g = {0};
	size_t n0 = set->n;
	uint32_t portid = 0;
	char msg[256];
	long used;
	int fd, rc = 0, tries, done = 0;

	if (family != AF_INET && family != AF_INET6)
		return listen_fail(err, errlen, -EINVAL,
				   "sock_diag: family %d is not AF_INET or AF_INET6", family);
	fd = open_sockdiag(&portid, err, errlen);
	if (fd < 0)
		return fd;
	pp_buf_init(&g.out, LISTEN_MAX_DUMP);
	g.dgram_cap = SOCKDIAG_RCVBUF;
	g.dgram = malloc(g.dgram_cap);
	if (!g.dgram) {
		rc = listen_fail(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	for (tries = 0; tries < SOCKDIAG_TRIES; tries++) {
		pp_buf_reset(&g.out);
		g.intr = 0;
		rc = send_request(fd, family, (uint32_t)tries + 1, err, errlen);
		if (rc == 0)
			rc = gather_dump(fd, portid, (uint32_t)tries + 1, &g, err, errlen);
		if (rc < 0)
			goto out;
		if (!g.intr)
			break;
	}
	if (tries == SOCKDIAG_TRIES) {
		rc = listen_fail(
		    err, errlen, -EAGAIN,
		    "sock_diag dump of %s listeners interrupted %d times in a row (sockets "
		    "opening and closing too fast)",
		    family_name(family), SOCKDIAG_TRIES);
		goto out;
	}
	/* recorded before parsing, so a reply we refuse can still be looked at */
	errno = 0;
	if (record && g.out.len && fwrite(g.out.data, 1, g.out.len, record) != g.out.len) {
		rc = listen_fail(err, errlen, -EIO, "cannot write the sock_diag recording: %s",
				 strerror(errno ? errno : EIO));
		goto out;
	}
	used =
	    parse_stream((const uint8_t *)g.out.data, g.out.len, 0, set, &done, msg, sizeof(msg));
	if (used < 0) {
		rc = listen_fail(err, errlen, (int)used, "sock_diag dump of %s: %s",
				 family_name(family), msg);
		goto out;
	}
	if (!done) {
		rc = listen_fail(err, errlen, -EBADMSG,
				 "sock_diag dump of %s ended without NLMSG_DONE",
				 family_name(family));
		goto out;
	}
	/* names are looked up only live: a replayed index may name another device */
	for (size_t i = n0; i < set->n; i++) {
		struct pp_listener *l = &set->v[i];

		if (l->ifindex && !if_indextoname(l->ifindex, l->ifname))
			l->ifname[0] = '\0';
	}
out:
	if (rc < 0)
		listen_set_truncate(set, n0);
	pp_buf_release(&g.out);
	free(g.dgram);
	close(fd);
	return rc;
}

int sockdiag_read_file(const char *path, struct pp_listen_set *set, char *err, size_t errlen)
{
	struct pp_buf b;
	size_t n0 = set->n, off = 0;
	char msg[256];
	int fd, rc, done = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return listen_fail(err, errlen, -errno, "%s: %s", path, strerror(errno));
	pp_buf_init(&b, LISTEN_MAX_DUMP);
	rc = listen_read_all(fd, &b);
	close(fd);
	if (rc == -E2BIG) {
		rc = listen_fail(err, errlen, -EFBIG, "%s: larger than %d MiB, not a listener dump",
				 path, (int)(LISTEN_MAX_DUMP >> 20));
		goto out;
	}
	if (rc < 0) {
		rc = listen_fail(err, errlen, rc, "%s: %s", path, strerror(-rc));
		goto out;
	}
	/* one dump per family, each closed by NLMSG_DONE */
	while (off < b.len) {
		long used = parse_stream((const uint8_t *)b.data + off, b.len - off, off, set,
					 &done, msg, sizeof(msg));

		if (used < 0) {
			rc = listen_fail(err, errlen, (int)used, "%s: %s", path, msg);
			goto out;
		}
		off += (size_t)used;
	}
	if (b.len && !done)
		rc = listen_fail(err, errlen, -EBADMSG,
				 "%s: the dump stops at byte %zu without NLMSG_DONE (cut short?)",
				 path, b.len);
out:
	if (rc < 0)
		listen_set_truncate(set, n0);
	pp_buf_release(&b);
	return rc;
}
