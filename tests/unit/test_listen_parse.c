/* test_listen_parse.c: the two sources of `portprobe listen`, value for
 * value. The sock_diag parser on dumps recorded by `ss -D` in a lab
 * namespace (tests/fixtures/listen/README.md has the ground truth), on
 * damaged copies of them and on hand-built messages for each framing rule;
 * the /proc/net/tcp{,6} parser on the same lab's files and on every kind of
 * bad field; and both live, against a listener this test opens, found by its
 * inode, including a recording that must replay to the same rows. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "listen/listen_int.h"
#include "portprobe/listen.h"
#include "test.h"

/* One expected row. */
struct want {
	int family;            /* AF_INET or AF_INET6 */
	const char *addr;      /* text form */
	uint16_t port;         /* host order */
	uint32_t accept_queue; /* idiag_rqueue / rx_queue */
	int64_t backlog;       /* idiag_wqueue, -1 for procfs */
	uint32_t uid;          /* socket uid */
	uint64_t inode;        /* socket inode */
	uint64_t cookie;       /* 0 for procfs */
	int v6only;            /* -1 for v4 and procfs */
	unsigned ifindex;      /* SO_BINDTODEVICE */
	uint64_t cgroup_id;    /* 0 for procfs */
	enum pp_listen_exposure exposure;
};

/* lab.dump, in dump order (README.md). */
static const struct want lab_rows[] = {
    {AF_INET, "127.0.0.1", 29876, 2, 17, 0, 16540262, 0x6b9, -1, 0, 1, PP_EXPOSURE_LOOPBACK},
    {AF_INET, "0.0.0.0", 29881, 0, 4096, 65534, 16540270, 0x6ba, -1, 0, 1, PP_EXPOSURE_ANY},
    {AF_INET, "0.0.0.0", 29880, 0, 5, 0, 16540269, 0x6bb, -1, 1, 1, PP_EXPOSURE_ANY},
    {AF_INET, "192.0.2.1", 29879, 0, 64, 0, 16540268, 0x6bc, -1, 0, 1, PP_EXPOSURE_SPECIFIC},
    {AF_INET, "192.0.2.1", 29879, 0, 64, 0, 16540267, 0x6bd, -1, 0, 1, PP_EXPOSURE_SPECIFIC},
    {AF_INET6, "::", 29878, 0, 3, 0, 16540266, 0x6c2, 0, 0, 1, PP_EXPOSURE_ANY},
    {AF_INET6, "2001:db8::1", 29882, 0, 7, 0, 16540271, 0x6c3, 1, 0, 1, PP_EXPOSURE_SPECIFIC},
    {AF_INET6, "::1", 29877, 0, 9, 0, 16540265, 0x6c4, 1, 0, 1, PP_EXPOSURE_LOOPBACK},
};
enum { LAB_ROWS = sizeof(lab_rows) / sizeof(lab_rows[0]) };

/* Checks every field of l against w; procfs rows lack backlog, cookie,
 * v6only, device and cgroup. */
static int check_row(const struct pp_listener *l, const struct want *w, int procfs)
{
	uint8_t addr[16] = {0};
	char text[INET6_ADDRSTRLEN];

	ASSERT_EQ(l->family, w->family);
	ASSERT_EQ(inet_pton(w->family, w->addr, addr), 1);
	ASSERT_TRUE(!memcmp(l->addr, addr, sizeof(addr)));
	ASSERT_STR_EQ(pp_listen_addr_text(l, text, sizeof(text)), w->addr);
	ASSERT_UEQ(l->port, w->port);
	ASSERT_UEQ(l->accept_queue, w->accept_queue);
	ASSERT_EQ(l->backlog, procfs ? -1 : w->backlog);
	ASSERT_UEQ(l->uid, w->uid);
	ASSERT_UEQ(l->inode, w->inode);
	ASSERT_UEQ(l->cookie, procfs ? 0 : w->cookie);
	ASSERT_EQ(l->v6only, procfs ? -1 : w->v6only);
	ASSERT_UEQ(l->ifindex, procfs ? 0 : w->ifindex);
	ASSERT_STR_EQ(l->ifname, ""); /* a replay never names a device */
	ASSERT_UEQ(l->cgroup_id, procfs ? 0 : w->cgroup_id);
	ASSERT_EQ(l->exposure, w->exposure);
	ASSERT_EQ(l->owners, PP_OWNERS_NOT_LOOKED);
	ASSERT_TRUE(l->procs == NULL && l->nprocs == 0 && l->cgroup == NULL && l->unit == NULL);
	ASSERT_UEQ(l->group, 0);
	return 0;
}

/* Checks that set holds exactly rows[0..n). */
static int check_rows(const struct pp_listen_set *set, const struct want *rows, size_t n,
		      int procfs)
{
	ASSERT_UEQ(set->n, n);
	for (size_t i = 0; i < n; i++) {
		if (check_row(&set->v[i], &rows[i], procfs)) {
			fprintf(stderr, "  in row %zu (port %u)\n", i, rows[i].port);
			return 1;
		}
	}
	return 0;
}

/* PP_SRCDIR/tests/fixtures/listen/name into buf. */
static const char *fixture(char *buf, size_t len, const char *name)
{
	const char *src = getenv("PP_SRCDIR");

	snprintf(buf, len, "%s/tests/fixtures/listen/%s", src ? src : ".", name);
	return buf;
}

/* A fixture's bytes, malloc'd (*len set); NULL when unreadable. */
static uint8_t *load(const char *name, size_t *len)
{
	char path[4096];
	uint8_t *data = malloc(1 << 16);
	FILE *f = fopen(fixture(path, sizeof(path), name), "rb");

	*len = 0;
	if (!f || !data) {
		if (f)
			fclose(f);
		free(data);
		return NULL;
	}
	*len = fread(data, 1, 1 << 16, f);
	fclose(f);
	return data;
}

TEST_IMPL(listen_sockdiag_lab_dump_rows_are_exact)
{
	struct pp_listen_set set;
	char path[4096], err[256] = "";

	pp_listen_set_init(&set);
	ASSERT_EQ(
	    sockdiag_read_file(fixture(path, sizeof(path), "lab.dump"), &set, err, sizeof(err)), 0);
	ASSERT_STR_EQ(err, "");
	ASSERT_EQ(check_rows(&set, lab_rows, LAB_ROWS, 0), 0);
	pp_listen_set_release(&set);
	return 0;
}

TEST_IMPL(listen_sockdiag_all_states_dump_keeps_only_the_listeners)
{
	struct pp_listen_set set;
	char path[4096], err[256];

	/* four ESTABLISHED records sit between the IPv4 listeners and NLMSG_DONE */
	pp_listen_set_init(&set);
	ASSERT_EQ(
	    sockdiag_read_file(fixture(path, sizeof(path), "lab-all.dump"), &set, err, sizeof(err)),
	    0);
	ASSERT_EQ(check_rows(&set, lab_rows, LAB_ROWS, 0), 0);
	pp_listen_set_release(&set);
	return 0;
}

TEST_IMPL(listen_sockdiag_host_dump_has_one_listener_and_an_empty_v6_dump)
{
	static const struct want host = {AF_INET, "0.0.0.0", 2024, 0, 128, 0,
					 1060,    0x193,     -1,   0, 1,   PP_EXPOSURE_ANY};
	struct pp_listen_set set;
	char path[4096], err[256];

	pp_listen_set_init(&set);
	ASSERT_EQ(
	    sockdiag_read_file(fixture(path, sizeof(path), "host.dump"), &set, err, sizeof(err)),
	    0);
	ASSERT_EQ(check_rows(&set, &host, 1, 0), 0);
	ASSERT_EQ(set.source, PP_LISTEN_SOCK_DIAG);
	pp_listen_set_release(&set);
	return 0;
}

TEST_IMPL(listen_sockdiag_parse_stops_at_each_done)
{
	struct pp_listen_set set;
	char err[256];
	size_t len;
	uint8_t *data = load("lab.dump", &len);
	int done = -1;

	ASSERT_TRUE(data != NULL);
	ASSERT_UEQ(len, 1056);
	pp_listen_set_init(&set);
	/* AF_INET's dump ends with NLMSG_DONE at 620 (20 bytes) */
	ASSERT_EQ(sockdiag_parse(data, len, &set, &done, err, sizeof(err)), 640);
	ASSERT_EQ(done, 1);
	ASSERT_UEQ(set.n, 5);
	ASSERT_EQ(sockdiag_parse(data + 640, len - 640, &set, &done, err, sizeof(err)), 416);
	ASSERT_EQ(done, 1);
	ASSERT_EQ(check_rows(&set, lab_rows, LAB_ROWS, 0), 0);
	/* whole records without their NLMSG_DONE: all consumed, not done */
	pp_listen_set_release(&set);
	ASSERT_EQ(sockdiag_parse(data, 620, &set, &done, err, sizeof(err)), 620);
	ASSERT_EQ(done, 0);
	ASSERT_UEQ(set.n, 5);
	/* nothing at all */
	ASSERT_EQ(sockdiag_parse(data, 0, &set, &done, err, sizeof(err)), 0);
	ASSERT_EQ(done, 0);
	ASSERT_UEQ(set.n, 5);
	pp_listen_set_release(&set);
	free(data);
	return 0;
}

TEST_IMPL(listen_sockdiag_malformed_dumps_name_the_file_and_byte)
{
	static const struct {
		const char *file;
		const char *msg;
	} cases[] = {
	    {"bad-truncated.dump",
	     "truncated netlink message at byte 248 (header says 124 bytes, 52 left)"},
	    {"bad-nlmsg-len.dump",
	     "truncated netlink message at byte 124 (header says 4000 bytes, 932 left)"},
	    {"bad-attr-len.dump",
	     "malformed attribute 21 at byte 104 (length 200, 20 bytes left in the message)"},
	    {"bad-v6only-size.dump",
	     "malformed attribute 11 at byte 736 (2 bytes of payload, expected 1)"},
	    {"bad-no-done.dump", "the dump stops at byte 620 without NLMSG_DONE (cut short?)"},
	    {"bad-text.dump", "not a sock_diag dump: message type 8224 at byte 0 (expected "
			      "SOCK_DIAG_BY_FAMILY, NLMSG_DONE or NLMSG_ERROR)"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pp_listen_set set;
		char path[4096], want[4400], err[512] = "";

		fixture(path, sizeof(path), cases[i].file);
		snprintf(want, sizeof(want), "%s: %s", path, cases[i].msg);
		pp_listen_set_init(&set);
		ASSERT_EQ(sockdiag_read_file(path, &set, err, sizeof(err)), -EBADMSG);
		ASSERT_STR_EQ(err, want);
		ASSERT_UEQ(set.n, 0);
		pp_listen_set_release(&set);
	}
	return 0;
}

TEST_IMPL(listen_sockdiag_failed_parse_leaves_the_set_as_it_was)
{
	struct pp_listen_set set;
	char path[4096], err[512];
	size_t len;
	uint8_t *data = load("bad-attr-len.dump", &len);
	int done;

	pp_listen_set_init(&set);
	ASSERT_EQ(
	    sockdiag_read_file(fixture(path, sizeof(path), "host.dump"), &set, err, sizeof(err)),
	    0);
	ASSERT_UEQ(set.n, 1);
	/* the fault comes after six good records: none of them may stay */
	ASSERT_EQ(sockdiag_read_file(fixture(path, sizeof(path), "bad-v6only-size.dump"), &set, err,
				     sizeof(err)),
		  -EBADMSG);
	ASSERT_UEQ(set.n, 1);
	ASSERT_TRUE(data != NULL);
	ASSERT_EQ(sockdiag_parse(data, len, &set, &done, err, sizeof(err)), -EBADMSG);
	ASSERT_EQ(done, 0);
	ASSERT_UEQ(set.n, 1);
	ASSERT_UEQ(set.v[0].port, 2024);
	pp_listen_set_release(&set);
	free(data);
	return 0;
}

TEST_IMPL(listen_sockdiag_empty_and_missing_files)
{
	char path[] = "/tmp/pp_listen_emptyXXXXXX", want[600], err[512] = "x";
	struct pp_listen_set set;
	int fd = mkstemp(path);

	ASSERT_TRUE(fd >= 0);
	close(fd);
	pp_listen_set_init(&set);
	ASSERT_EQ(sockdiag_read_file(path, &set, err, sizeof(err)), 0);
	ASSERT_UEQ(set.n, 0);
	unlink(path);
	ASSERT_EQ(sockdiag_read_file(path, &set, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	ASSERT_STR_EQ(err, want);
	pp_listen_set_release(&set);
	return 0;
}

/* Hand-built messages. */
struct msgs {
	uint8_t b[1024]; /* the bytes */
	size_t n;        /* used */
};

/* Appends a netlink header (type, len) and returns its offset. */
static size_t put_hdr(struct msgs *m, uint16_t type, uint32_t len)
{
	struct nlmsghdr h = {.nlmsg_len = len, .nlmsg_type = type, .nlmsg_flags = NLM_F_MULTI};
	size_t at = m->n;

	memcpy(m->b + m->n, &h, sizeof(h));
	m->n += sizeof(h);
	return at;
}

/* Appends a listener record for 127.0.0.1:port with room for extra
 * attribute bytes (nlmsg_len = 88 + extra, set by the caller's attributes). */
static size_t put_record(struct msgs *m, uint8_t family, uint8_t state, uint16_t port,
			 uint32_t extra)
{
	struct inet_diag_msg r;
	size_t at = put_hdr(m, SOCK_DIAG_BY_FAMILY, (uint32_t)(NLMSG_LENGTH(sizeof(r)) + extra));

	memset(&r, 0, sizeof(r));
	r.idiag_family = family;
	r.idiag_state = state;
	r.id.idiag_sport = htons(port);
	r.id.idiag_src[0] = htonl(INADDR_LOOPBACK);
	r.id.idiag_cookie[0] = 7;
	r.id.idiag_cookie[1] = 1;
	r.idiag_rqueue = 3;
	r.idiag_wqueue = 10;
	r.idiag_uid = 1000;
	r.idiag_inode = 4242;
	memcpy(m->b + m->n, &r, sizeof(r));
	m->n += sizeof(r);
	return at;
}

/* Appends an attribute header (rta_len, type) and payload bytes. */
static void put_attr(struct msgs *m, uint16_t rta_len, uint16_t type, const void *p, size_t n)
{
	struct rtattr a = {.rta_len = rta_len, .rta_type = type};

	memcpy(m->b + m->n, &a, sizeof(a));
	m->n += sizeof(a);
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

/* Runs the parser on m and checks its result and message. */
static int expect_parse(const struct msgs *m, long rc, const char *msg)
{
	struct pp_listen_set set;
	char err[512] = "";
	int done;

	pp_listen_set_init(&set);
	ASSERT_EQ(sockdiag_parse(m->b, m->n, &set, &done, err, sizeof(err)), rc);
	ASSERT_STR_EQ(err, msg);
	ASSERT_UEQ(set.n, 0);
	pp_listen_set_release(&set);
	return 0;
}

TEST_IMPL(listen_sockdiag_framing_faults_are_refused_exactly)
{
	struct msgs m = {.n = 0};
	uint8_t pad[8] = {0};

	/* a header cut short */
	memset(&m, 0, sizeof(m));
	m.n = 10;
	ASSERT_EQ(expect_parse(&m, -EBADMSG,
			       "truncated netlink message at byte 0 (10 bytes left, a header needs "
			       "16)"),
		  0);
	/* a header of another netlink family */
	m.n = 16;
	ASSERT_EQ(expect_parse(&m, -EBADMSG,
			       "not a sock_diag dump: message type 0 at byte 0 (expected "
			       "SOCK_DIAG_BY_FAMILY, NLMSG_DONE or NLMSG_ERROR)"),
		  0);
	m.n = 0;
	put_hdr(&m, NLMSG_DONE, 20);
	put_attr(&m, 0, 0, pad, 0);
	m.n = 30; /* a second message of 10 bytes */
	ASSERT_EQ(expect_parse(&m, 20, ""), 0);
	m.n = 0;
	put_record(&m, AF_INET, TCP_LISTEN, 80, 0);
	m.n += 10;
	ASSERT_EQ(
	    expect_parse(&m, -EBADMSG,
			 "truncated netlink message at byte 88 (10 bytes left, a header needs "
			 "16)"),
	    0);
	/* a length shorter than the header */
	m.n = 0;
	put_hdr(&m, SOCK_DIAG_BY_FAMILY, 8);
	m.n = 100;
	ASSERT_EQ(expect_parse(&m, -EBADMSG,
			       "bad netlink message length at byte 0 (header says 8 bytes, less "
			       "than the header itself)"),
		  0);
	/* a record too short for struct inet_diag_msg */
	m.n = 0;
	put_hdr(&m, SOCK_DIAG_BY_FAMILY, 60);
	m.n = 60;
	ASSERT_EQ(expect_parse(&m, -EBADMSG,
			       "netlink message at byte 0 too short for a socket record (60 bytes, "
			       "need 88)"),
		  0);
	/* the last message's padding missing from the buffer */
	m.n = 0;
	put_record(&m, AF_INET6, TCP_LISTEN, 80, 5);
	put_attr(&m, 5, INET_DIAG_SKV6ONLY, pad, 1);
	ASSERT_UEQ(m.n, 93);
	ASSERT_EQ(expect_parse(&m, -EBADMSG,
			       "truncated netlink message at byte 0 (header says 93 bytes, padded "
			       "to 96, 93 left)"),
		  0);
	m.n = 96; /* with it, the record is fine */
	{
		struct pp_listen_set set;
		char err[64];
		int done;

		pp_listen_set_init(&set);
		ASSERT_EQ(sockdiag_parse(m.b, m.n, &set, &done, err, sizeof(err)), 96);
		ASSERT_UEQ(set.n, 1);
		ASSERT_EQ(set.v[0].v6only, 0);
		pp_listen_set_release(&set);
	}
	/* an unknown message type after a good record */
	m.n = 0;
	put_record(&m, AF_INET, TCP_LISTEN, 80, 0);
	put_hdr(&m, RTM_NEWLINK, 16);
	ASSERT_EQ(expect_parse(&m, -EBADMSG,
			       "not a sock_diag dump: message type 16 at byte 88 (expected "
			       "SOCK_DIAG_BY_FAMILY, NLMSG_DONE or NLMSG_ERROR)"),
		  0);
	return 0;
}

TEST_IMPL(listen_sockdiag_attribute_faults_are_refused_exactly)
{
	struct msgs m;
	uint8_t pad[16] = {0};
	uint64_t cg = 0x1122334455667788ull;
	struct pp_listen_set set;
	char err[256];
	int done;

	/* an attribute shorter than its own header */
	memset(&m, 0, sizeof(m));
	put_record(&m, AF_INET, TCP_LISTEN, 80, 4);
	put_attr(&m, 3, INET_DIAG_CGROUP_ID, pad, 0);
	ASSERT_EQ(expect_parse(&m, -EBADMSG,
			       "malformed attribute 21 at byte 88 (length 3, 4 bytes left in the "
			       "message)"),
		  0);
	/* stray bytes after the last attribute */
	memset(&m, 0, sizeof(m));
	put_record(&m, AF_INET, TCP_LISTEN, 80, 2);
	m.n += 2 + 2; /* the message and its padding */
	ASSERT_EQ(expect_parse(&m, -EBADMSG,
			       "malformed attribute at byte 88 (2 stray bytes at the end of the "
			       "message at byte 0)"),
		  0);
	/* a cgroup id of the wrong size */
	memset(&m, 0, sizeof(m));
	put_record(&m, AF_INET, TCP_LISTEN, 80, 8);
	put_attr(&m, 8, INET_DIAG_CGROUP_ID, pad, 4);
	ASSERT_EQ(
	    expect_parse(&m, -EBADMSG,
			 "malformed attribute 21 at byte 88 (4 bytes of payload, expected 8)"),
	    0);
	/* a record that is not kept is checked all the same */
	memset(&m, 0, sizeof(m));
	put_record(&m, AF_INET, TCP_ESTABLISHED, 80, 8);
	put_attr(&m, 9, INET_DIAG_MARK, pad, 4);
	ASSERT_EQ(expect_parse(&m, -EBADMSG,
			       "malformed attribute 15 at byte 88 (length 9, 8 bytes left in the "
			       "message)"),
		  0);
	/* good attributes: flag bits ignored in the type, unknown ones skipped,
	 * SKV6ONLY ignored on IPv4 */
	memset(&m, 0, sizeof(m));
	put_record(&m, AF_INET, TCP_LISTEN, 443, 12 + 8 + 8);
	put_attr(&m, 12, INET_DIAG_CGROUP_ID | NLA_F_NET_BYTEORDER, &cg, sizeof(cg));
	put_attr(&m, 5, INET_DIAG_SKV6ONLY, "\1\0\0", 4);
	put_attr(&m, 8, 200, pad, 4);
	pp_listen_set_init(&set);
	ASSERT_EQ(sockdiag_parse(m.b, m.n, &set, &done, err, sizeof(err)), (long)m.n);
	ASSERT_EQ(done, 0);
	ASSERT_UEQ(set.n, 1);
	ASSERT_UEQ(set.v[0].cgroup_id, cg);
	ASSERT_EQ(set.v[0].v6only, -1);
	ASSERT_UEQ(set.v[0].port, 443);
	ASSERT_UEQ(set.v[0].cookie, 0x100000007ull);
	ASSERT_UEQ(set.v[0].accept_queue, 3);
	ASSERT_EQ(set.v[0].backlog, 10);
	ASSERT_UEQ(set.v[0].uid, 1000);
	ASSERT_UEQ(set.v[0].inode, 4242);
	ASSERT_EQ(set.v[0].exposure, PP_EXPOSURE_LOOPBACK);
	pp_listen_set_release(&set);
	return 0;
}

TEST_IMPL(listen_sockdiag_error_and_ack_messages)
{
	struct msgs m;
	struct nlmsgerr e;
	int32_t code = -EINTR;

	/* the kernel refusing the request: its errno */
	memset(&m, 0, sizeof(m));
	memset(&e, 0, sizeof(e));
	e.error = -EPERM;
	put_hdr(&m, NLMSG_ERROR, NLMSG_LENGTH(sizeof(e)));
	memcpy(m.b + m.n, &e, sizeof(e));
	m.n += sizeof(e);
	ASSERT_EQ(expect_parse(&m, -EPERM,
			       "the kernel refused the dump (error message at byte 0): Operation "
			       "not permitted"),
		  0);
	/* an error message too short to hold its code */
	memset(&m, 0, sizeof(m));
	put_hdr(&m, NLMSG_ERROR, 20);
	m.n = 20;
	ASSERT_EQ(
	    expect_parse(&m, -EBADMSG, "truncated error message at byte 0 (20 bytes, need 36)"), 0);
	/* a code that is no errno */
	memset(&m, 0, sizeof(m));
	e.error = 5;
	put_hdr(&m, NLMSG_ERROR, NLMSG_LENGTH(sizeof(e)));
	memcpy(m.b + m.n, &e, sizeof(e));
	m.n += sizeof(e);
	ASSERT_EQ(expect_parse(&m, -EBADMSG, "bad error code 5 in the error message at byte 0"), 0);
	/* an acknowledgement, then the end */
	memset(&m, 0, sizeof(m));
	e.error = 0;
	put_hdr(&m, NLMSG_ERROR, NLMSG_LENGTH(sizeof(e)));
	memcpy(m.b + m.n, &e, sizeof(e));
	m.n += sizeof(e);
	put_hdr(&m, NLMSG_DONE, 20);
	m.n += 4;
	ASSERT_EQ(expect_parse(&m, 56, ""), 0);
	/* a dump that failed midway says so in NLMSG_DONE */
	memset(&m, 0, sizeof(m));
	put_hdr(&m, NLMSG_DONE, 20);
	memcpy(m.b + m.n, &code, sizeof(code));
	m.n += sizeof(code);
	ASSERT_EQ(
	    expect_parse(&m, -EINTR, "the dump ended in error at byte 0: Interrupted system call"),
	    0);
	return 0;
}

TEST_IMPL(listen_sockdiag_skips_other_states_and_families_and_reads_flagged_types)
{
	struct msgs m;
	struct pp_listen_set set;
	char err[256] = "";
	int done;

	memset(&m, 0, sizeof(m));
	put_record(&m, AF_INET, TCP_ESTABLISHED, 1, 0);
	put_record(&m, AF_INET, TCP_CLOSE, 2, 0);
	put_record(&m, AF_UNIX, TCP_LISTEN, 3, 0);
	put_record(&m, AF_INET, TCP_LISTEN, 4, 0);
	put_hdr(&m, NLMSG_DONE, 16);
	put_record(&m, AF_INET, TCP_LISTEN, 5, 0); /* after the end: not read */
	pp_listen_set_init(&set);
	ASSERT_EQ(sockdiag_parse(m.b, m.n, &set, &done, err, sizeof(err)), 4 * 88 + 16);
	ASSERT_EQ(done, 1);
	ASSERT_UEQ(set.n, 1);
	ASSERT_UEQ(set.v[0].port, 4);
	ASSERT_STR_EQ(err, "");
	pp_listen_set_release(&set);
	return 0;
}

/* A TCP listener on the loopback address of family (port 0 picks one);
 * the fd, with *port and *ino set; -1 when the family is not available. */
static int open_listener(int family, int backlog, const char *dev, uint16_t *port, uint64_t *ino)
{
	struct sockaddr_storage ss;
	socklen_t len =
	    family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	struct stat st;
	int one = 1, fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	}
	if ((dev && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev, (socklen_t)strlen(dev))) ||
	    bind(fd, (struct sockaddr *)&ss, len) || listen(fd, backlog) ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) || fstat(fd, &st)) {
		close(fd);
		return -1;
	}
	*port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					: ((struct sockaddr_in6 *)&ss)->sin6_port);
	*ino = st.st_ino;
	return fd;
}

/* The row of set with this inode, or NULL. */
static const struct pp_listener *find_inode(const struct pp_listen_set *set, uint64_t ino)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->v[i].inode == ino)
			return &set->v[i];
	return NULL;
}

TEST_IMPL(listen_sockdiag_live_dump_finds_our_listener_by_inode)
{
	struct pp_listen_set set;
	struct sockaddr_in to = {.sin_family = AF_INET};
	const struct pp_listener *l;
	char err[256] = "";
	uint16_t port;
	uint64_t ino;
	int fd = open_listener(AF_INET, 5, NULL, &port, &ino), c;

	ASSERT_TRUE(fd >= 0);
	pp_listen_set_init(&set);
	ASSERT_EQ(sockdiag_dump(AF_INET, &set, NULL, err, sizeof(err)), 0);
	ASSERT_STR_EQ(err, "");
	l = find_inode(&set, ino);
	ASSERT_TRUE(l != NULL);
	ASSERT_EQ(l->family, AF_INET);
	ASSERT_UEQ(l->port, port);
	ASSERT_UEQ(l->addr[0], 127);
	ASSERT_UEQ(l->addr[3], 1);
	ASSERT_EQ(l->backlog, 5);
	ASSERT_UEQ(l->accept_queue, 0);
	ASSERT_UEQ(l->uid, geteuid());
	ASSERT_TRUE(l->cookie != 0);
	ASSERT_EQ(l->v6only, -1);
	ASSERT_UEQ(l->ifindex, 0);
	ASSERT_STR_EQ(l->ifname, "");
	ASSERT_EQ(l->exposure, PP_EXPOSURE_LOOPBACK);
	for (size_t i = 0; i < set.n; i++)
		ASSERT_EQ(set.v[i].family, AF_INET);
	pp_listen_set_release(&set);

	/* one connection the kernel completed and nobody accepted */
	to.sin_port = htons(port);
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_EQ(connect(c, (struct sockaddr *)&to, sizeof(to)), 0);
	ASSERT_EQ(sockdiag_dump(AF_INET, &set, NULL, err, sizeof(err)), 0);
	l = find_inode(&set, ino);
	ASSERT_TRUE(l != NULL);
	ASSERT_UEQ(l->accept_queue, 1);
	pp_listen_set_release(&set);
	close(c);
	close(fd);
	return 0;
}

TEST_IMPL(listen_sockdiag_live_record_replays_to_the_same_rows)
{
	char path[] = "/tmp/pp_listen_recordXXXXXX", err[512] = "";
	struct pp_listen_set live, back;
	uint16_t port4, port6 = 0, portdev = 0;
	uint64_t ino4, ino6 = 0, inodev = 0;
	int fd4 = open_listener(AF_INET, 7, NULL, &port4, &ino4);
	int fd6 = open_listener(AF_INET6, 9, NULL, &port6, &ino6);      /* -1 without IPv6 */
	int fddev = open_listener(AF_INET, 3, "lo", &portdev, &inodev); /* needs CAP_NET_RAW */
	int tmp = mkstemp(path);
	FILE *rec = tmp >= 0 ? fdopen(tmp, "wb") : NULL;
	const struct pp_listener *l;
	size_t nbytes;
	uint8_t *bytes;
	struct stat st;

	ASSERT_TRUE(fd4 >= 0 && rec != NULL);
	pp_listen_set_init(&live);
	pp_listen_set_init(&back);
	ASSERT_EQ(sockdiag_dump(AF_INET, &live, rec, err, sizeof(err)), 0);
	ASSERT_EQ(sockdiag_dump(AF_INET6, &live, rec, err, sizeof(err)), 0);
	ASSERT_EQ(fclose(rec), 0);
	ASSERT_EQ(sockdiag_read_file(path, &back, err, sizeof(err)), 0);
	ASSERT_STR_EQ(err, "");
	ASSERT_UEQ(back.n, live.n);
	for (size_t i = 0; i < live.n; i++) {
		const struct pp_listener *a = &live.v[i], *b = &back.v[i];

		ASSERT_EQ(a->family, b->family);
		ASSERT_TRUE(!memcmp(a->addr, b->addr, sizeof(a->addr)));
		ASSERT_UEQ(a->port, b->port);
		ASSERT_EQ(a->v6only, b->v6only);
		ASSERT_UEQ(a->ifindex, b->ifindex);
		ASSERT_UEQ(a->accept_queue, b->accept_queue);
		ASSERT_EQ(a->backlog, b->backlog);
		ASSERT_UEQ(a->uid, b->uid);
		ASSERT_UEQ(a->inode, b->inode);
		ASSERT_UEQ(a->cookie, b->cookie);
		ASSERT_UEQ(a->cgroup_id, b->cgroup_id);
		ASSERT_EQ(a->exposure, b->exposure);
		ASSERT_STR_EQ(b->ifname, "");
	}
	l = find_inode(&back, ino4);
	ASSERT_TRUE(l != NULL);
	ASSERT_UEQ(l->port, port4);
	ASSERT_EQ(l->backlog, 7);
	if (fd6 >= 0) {
		l = find_inode(&back, ino6);
		ASSERT_TRUE(l != NULL);
		ASSERT_EQ(l->family, AF_INET6);
		ASSERT_UEQ(l->port, port6);
		ASSERT_EQ(l->backlog, 9);
		ASSERT_EQ(l->v6only, 1);
		ASSERT_EQ(l->exposure, PP_EXPOSURE_LOOPBACK);
	}
	if (fddev >= 0) {
		/* the live dump names the device, the replay only gives its index */
		const struct pp_listener *d = find_inode(&live, inodev);

		l = find_inode(&back, inodev);
		ASSERT_TRUE(l != NULL && d != NULL);
		ASSERT_UEQ(l->ifindex, if_nametoindex("lo"));
		ASSERT_STR_EQ(d->ifname, "lo");
		ASSERT_STR_EQ(l->ifname, "");
	}
	/* ss's format: whole messages, the last one NLMSG_DONE */
	ASSERT_EQ(stat(path, &st), 0);
	nbytes = (size_t)st.st_size;
	bytes = malloc(nbytes);
	ASSERT_TRUE(bytes != NULL);
	{
		FILE *f = fopen(path, "rb");

		ASSERT_TRUE(f != NULL);
		ASSERT_UEQ(fread(bytes, 1, nbytes, f), nbytes);
		fclose(f);
	}
	ASSERT_TRUE(nbytes >= 2 * 20 && nbytes % 4 == 0);
	{
		struct nlmsghdr h;
		size_t off = 0, dones = 0;

		while (off < nbytes) {
			memcpy(&h, bytes + off, sizeof(h));
			ASSERT_TRUE(h.nlmsg_type == SOCK_DIAG_BY_FAMILY ||
				    h.nlmsg_type == NLMSG_DONE);
			dones += h.nlmsg_type == NLMSG_DONE;
			off += NLMSG_ALIGN(h.nlmsg_len);
		}
		ASSERT_UEQ(off, nbytes);
		ASSERT_UEQ(dones, 2);
		ASSERT_EQ(h.nlmsg_type, NLMSG_DONE);
	}
	free(bytes);
	unlink(path);
	pp_listen_set_release(&live);
	pp_listen_set_release(&back);
	close(fd4);
	if (fd6 >= 0)
		close(fd6);
	if (fddev >= 0)
		close(fddev);
	return 0;
}

TEST_IMPL(listen_sockdiag_dump_refuses_other_families)
{
	struct pp_listen_set set;
	char err[256];

	pp_listen_set_init(&set);
	ASSERT_EQ(sockdiag_dump(AF_UNIX, &set, NULL, err, sizeof(err)), -EINVAL);
	ASSERT_STR_EQ(err, "sock_diag: family 1 is not AF_INET or AF_INET6");
	ASSERT_UEQ(set.n, 0);
	pp_listen_set_release(&set);
	return 0;
}

TEST_IMPL(listen_procnet_lab_rows_are_exact)
{
	struct pp_listen_set set;
	char path[4096], err[256] = "";

	/* tcp first (the five IPv4 listeners, in the same order as the dump), then tcp6 */
	pp_listen_set_init(&set);
	ASSERT_EQ(procnet_read(fixture(path, sizeof(path), "procfs"), 0, &set, err, sizeof(err)),
		  0);
	ASSERT_STR_EQ(err, "");
	ASSERT_EQ(check_rows(&set, lab_rows, LAB_ROWS, 1), 0);
	pp_listen_set_release(&set);
	return 0;
}

TEST_IMPL(listen_procnet_family_selects_the_file)
{
	struct pp_listen_set set;
	char path[4096], err[256];

	fixture(path, sizeof(path), "procfs");
	pp_listen_set_init(&set);
	ASSERT_EQ(procnet_read(path, AF_INET, &set, err, sizeof(err)), 0);
	ASSERT_EQ(check_rows(&set, lab_rows, 5, 1), 0);
	pp_listen_set_release(&set);
	ASSERT_EQ(procnet_read(path, AF_INET6, &set, err, sizeof(err)), 0);
	ASSERT_EQ(check_rows(&set, lab_rows + 5, 3, 1), 0);
	pp_listen_set_release(&set);
	ASSERT_EQ(procnet_read(path, AF_UNIX, &set, err, sizeof(err)), -EINVAL);
	ASSERT_STR_EQ(err, "family 1 is not 0, AF_INET or AF_INET6");
	pp_listen_set_release(&set);
	return 0;
}

TEST_IMPL(listen_procnet_missing_tcp6_is_not_an_error_missing_tcp_is)
{
	struct pp_listen_set set;
	char path[4096], want[4200], err[4300];

	pp_listen_set_init(&set);
	ASSERT_EQ(
	    procnet_read(fixture(path, sizeof(path), "procfs-v4only"), 0, &set, err, sizeof(err)),
	    0);
	ASSERT_EQ(check_rows(&set, lab_rows, 5, 1), 0);
	pp_listen_set_release(&set);
	ASSERT_EQ(procnet_read(path, AF_INET6, &set, err, sizeof(err)), 0);
	ASSERT_UEQ(set.n, 0);
	fixture(path, sizeof(path), "no-such-dir");
	ASSERT_EQ(procnet_read(path, 0, &set, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "%s/net/tcp: No such file or directory", path);
	ASSERT_STR_EQ(err, want);
	pp_listen_set_release(&set);
	return 0;
}

TEST_IMPL(listen_procnet_malformed_files_name_the_file_and_line)
{
	static const struct {
		const char *dir;
		const char *msg;
	} cases[] = {
	    {"procfs-cut", "line 10: cut short (no newline at the end of the file)"},
	    {"procfs-nonhex", "line 3: local address \"0000000G\" is not hex"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pp_listen_set set;
		char path[4096], want[4400], err[4400] = "";

		fixture(path, sizeof(path), cases[i].dir);
		snprintf(want, sizeof(want), "%s/net/tcp: %s", path, cases[i].msg);
		pp_listen_set_init(&set);
		ASSERT_EQ(procnet_read(path, 0, &set, err, sizeof(err)), -EBADMSG);
		ASSERT_STR_EQ(err, want);
		ASSERT_UEQ(set.n, 0);
		pp_listen_set_release(&set);
	}
	return 0;
}

#define TCP_HEADER                                                                                 \
	"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "      \
	"timeout inode\n"
#define TCP6_HEADER                                                                                \
	"  sl  local_address                         remote_address                        st "    \
	"tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
#define GOOD_LINE                                                                                  \
	"   0: 0100007F:0050 00000000:0000 0A 00000000:00000003 00:00000000 00000000  1000       " \
	" "                                                                                        \
	"0 777 1 0000000000000000 100 0 0 10 0\n"

/* Runs procnet_parse on text and checks its result and message. */
static int expect_procnet(const char *text, int family, int rc, const char *msg)
{
	struct pp_listen_set set;
	char err[256] = "";

	pp_listen_set_init(&set);
	ASSERT_EQ(procnet_parse(text, strlen(text), family, &set, err, sizeof(err)), rc);
	ASSERT_STR_EQ(err, msg);
	if (rc < 0)
		ASSERT_UEQ(set.n, 0);
	pp_listen_set_release(&set);
	return 0;
}

TEST_IMPL(listen_procnet_each_bad_field_is_named)
{
	static const struct {
		const char *line;
		const char *msg;
	} cases[] = {
	    {"\n", "line 3: empty line"},
	    {"   1 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1\n",
	     "line 3: slot number \"1\" is not a number followed by ':'"},
	    {"   1: 0100007F0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1\n",
	     "line 3: local address \"0100007F0050\" is not 8 hex digits:port"},
	    {"   1: 0100007F:50 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1\n",
	     "line 3: local port \"50\" is not 4 hex digits"},
	    {"   1: 0100007F:0050 00000000:00x0 0A 00000000:00000000 00:00000000 00000000 0 0 1\n",
	     "line 3: remote port \"00x0\" is not 4 hex digits"},
	    {"   1: 0100007F:0050 00000000:0000 A 00000000:00000000 00:00000000 00000000 0 0 1\n",
	     "line 3: state \"A\" is not 2 hex digits"},
	    {"   1: 0100007F:0050 00000000:0000 0A 00000000-00000000 00:00000000 00000000 0 0 1\n",
	     "line 3: tx_queue:rx_queue \"00000000-00000000\" is not two hex numbers joined by "
	     "':'"},
	    {"   1: 0100007F:0050 00000000:0000 0A 00000000:100000000 00:00000000 00000000 0 0 1\n",
	     "line 3: tx_queue:rx_queue \"00000000:100000000\" is not two hex numbers joined by "
	     "':'"},
	    {"   1: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:0000000z 00000000 0 0 1\n",
	     "line 3: tr:tm->when \"00:0000000z\" is not two hex numbers joined by ':'"},
	    {"   1: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 0000000g 0 0 1\n",
	     "line 3: retrnsmt \"0000000g\" is not hex"},
	    {"   1: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000 "
	     "4294967296 "
	     "0 1\n",
	     "line 3: uid \"4294967296\" is not a decimal uid"},
	    {"   1: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 - 1\n",
	     "line 3: timeout \"-\" is not a decimal number"},
	    {"   1: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1x\n",
	     "line 3: inode \"1x\" is not a decimal inode number"},
	    {"   1: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0\n",
	     "line 3: cut short before the inode"},
	    {"   1: 0100007F:0050\n", "line 3: cut short before the remote address"},
	    {"   1: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 "
	     "\x01\x7f\n",
	     "line 3: inode \"??\" is not a decimal inode number"},
	};
	char text[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "%s%s%s", TCP_HEADER, GOOD_LINE, cases[i].line);
		if (expect_procnet(text, AF_INET, -EBADMSG, cases[i].msg)) {
			fprintf(stderr, "  in case %zu\n", i);
			return 1;
		}
	}
	/* the file as a whole */
	ASSERT_EQ(expect_procnet("", AF_INET, -EBADMSG, "line 1: missing header (empty file)"), 0);
	ASSERT_EQ(
	    expect_procnet(GOOD_LINE, AF_INET, -EBADMSG,
			   "line 1: not the header of /proc/net/tcp (\"sl local_address ...\")"),
	    0);
	ASSERT_EQ(expect_procnet(GOOD_LINE, AF_INET6, -EBADMSG,
				 "line 1: not the header of /proc/net/tcp6 (\"sl local_address "
				 "...\")"),
		  0);
	ASSERT_EQ(expect_procnet(TCP_HEADER, AF_INET, 0, ""), 0);
	ASSERT_EQ(
	    expect_procnet(TCP_HEADER GOOD_LINE, AF_INET6, -EBADMSG,
			   "line 2: local address \"0100007F:0050\" is not 32 hex digits:port"),
	    0);
	ASSERT_EQ(
	    expect_procnet(TCP_HEADER GOOD_LINE, 0, -EINVAL, "family 0 is not AF_INET or AF_INET6"),
	    0);
	/* a good one, and an IPv6 one with v4-mapped and lower-case hex */
	{
		static const char v6[] = TCP6_HEADER
		    "   0: 0000000000000000FFFF00000100007f:1F90 "
		    "00000000000000000000000000000000:0000 0A 00000000:00000000 "
		    "00:00000000 00000000     0        0 99 1 0000000000000000 100 0 0 10 0\n";
		struct pp_listen_set set;
		char err[256];
		uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1};

		pp_listen_set_init(&set);
		ASSERT_EQ(procnet_parse(TCP_HEADER GOOD_LINE, strlen(TCP_HEADER GOOD_LINE), AF_INET,
					&set, err, sizeof(err)),
			  0);
		ASSERT_EQ(procnet_parse(v6, strlen(v6), AF_INET6, &set, err, sizeof(err)), 0);
		ASSERT_UEQ(set.n, 2);
		ASSERT_UEQ(set.v[0].port, 80);
		ASSERT_UEQ(set.v[0].accept_queue, 3);
		ASSERT_UEQ(set.v[0].uid, 1000);
		ASSERT_UEQ(set.v[0].inode, 777);
		ASSERT_EQ(set.v[0].backlog, -1);
		ASSERT_EQ(set.v[0].exposure, PP_EXPOSURE_LOOPBACK);
		ASSERT_EQ(set.v[1].family, AF_INET6);
		ASSERT_TRUE(!memcmp(set.v[1].addr, mapped, 16));
		ASSERT_UEQ(set.v[1].port, 8080);
		ASSERT_EQ(set.v[1].exposure, PP_EXPOSURE_LOOPBACK);
		pp_listen_set_release(&set);
	}
	return 0;
}

TEST_IMPL(listen_procnet_live_proc_finds_our_listener_by_inode)
{
	struct pp_listen_set set;
	const struct pp_listener *l;
	char err[256] = "";
	uint16_t port;
	uint64_t ino;
	int fd = open_listener(AF_INET, 5, NULL, &port, &ino);

	ASSERT_TRUE(fd >= 0);
	pp_listen_set_init(&set);
	ASSERT_EQ(procnet_read(NULL, 0, &set, err, sizeof(err)), 0);
	ASSERT_STR_EQ(err, "");
	l = find_inode(&set, ino);
	ASSERT_TRUE(l != NULL);
	ASSERT_EQ(l->family, AF_INET);
	ASSERT_UEQ(l->port, port);
	ASSERT_UEQ(l->addr[0], 127);
	ASSERT_UEQ(l->addr[3], 1);
	ASSERT_UEQ(l->accept_queue, 0);
	ASSERT_EQ(l->backlog, -1);
	ASSERT_UEQ(l->cookie, 0);
	ASSERT_UEQ(l->uid, geteuid());
	ASSERT_EQ(l->exposure, PP_EXPOSURE_LOOPBACK);
	pp_listen_set_release(&set);
	close(fd);
	return 0;
}
