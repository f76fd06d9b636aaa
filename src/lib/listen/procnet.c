/* procnet.c: the listening TCP sockets from /proc/net/tcp and tcp6, the
 * fallback when sock_diag cannot be had.
 *
 * The kernel writes one line per socket after a header line:
 *   "sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt
 *    uid timeout inode refcnt pointer ..."
 * with addresses as hex 32-bit words in the kernel's (here: our) byte order,
 * one word for IPv4 and four for IPv6, and ports and the state in hex. For a
 * listener rx_queue is the accept queue; the backlog, the cookie, the cgroup
 * and the dual-stack mark are not there at all. The parser is strict, as the
 * text has one writer: the header must be there, every line must end in a
 * newline (a file cut short loses its last line visibly, not silently), and
 * every field up to the inode must have the kernel's shape, whatever the
 * socket's state; anything else is -EBADMSG naming the line and the field.
 * Fields after the inode differ between states and are not read. A failed
 * parse leaves the set as it was. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listen/listen_int.h"

enum {
	PROCNET_MAX_TEXT = 256 << 20, /* cap on one file: millions of connections */
	PROCNET_LISTEN = 0x0A,        /* st of a listener (TCP_LISTEN) */
};

/* One line being taken apart. */
struct line {
	const char *p;    /* next unread byte */
	const char *end;  /* end of the line (its '\n') */
	unsigned long no; /* line number, 1 = header */
	char *err;        /* where failures are described */
	size_t errlen;    /* its size */
};

/* The next space-separated token of the line; 0 when there is none. */
static int next_token(struct line *ln, const char **tok, size_t *len)
{
	while (ln->p < ln->end && *ln->p == ' ')
		ln->p++;
	if (ln->p == ln->end)
		return 0;
	*tok = ln->p;
	while (ln->p < ln->end && *ln->p != ' ')
		ln->p++;
	*len = (size_t)(ln->p - *tok);
	return 1;
}

/* -EBADMSG: field of this line is missing or malformed. */
static int bad_field(struct line *ln, const char *field, const char *want, const char *tok,
		     size_t len)
{
	char shown[41];
	size_t n = 0;

	if (!tok)
		return listen_fail(ln->err, ln->errlen, -EBADMSG,
				   "line %lu: cut short before the %s", ln->no, field);
	/* show the token only as printable text, shortened */
	for (size_t i = 0; i < len && n < sizeof(shown) - 1; i++)
		shown[n++] = tok[i] >= 0x20 && tok[i] < 0x7f ? tok[i] : '?';
	shown[n] = '\0';
	return listen_fail(ln->err, ln->errlen, -EBADMSG, "line %lu: %s \"%s%s\" is not %s", ln->no,
			   field, shown, len > n ? "..." : "", want);
}

/* s[0..len) as hex with 1 to max digits. 0 or -1. */
static int parse_hex(const char *s, size_t len, size_t max, uint64_t *v)
{
	uint64_t x = 0;

	if (len == 0 || len > max)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned c = (unsigned char)s[i], d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			return -1;
		x = x << 4 | d;
	}
	*v = x;
	return 0;
}

/* s[0..len) as a decimal number no larger than max. 0 or -1. */
static int parse_dec(const char *s, size_t len, uint64_t max, uint64_t *v)
{
	uint64_t x = 0;

	if (len == 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned char)s[i] - '0';

		if (d > 9 || x > (max - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	*v = x;
	return 0;
}

/* "HEX:HEX": splits tok at its one colon into a and b. 0 or -1. */
static int split_colon(const char *tok, size_t len, size_t *alen, const char **b, size_t *blen)
{
	const char *c = memchr(tok, ':', len);

	if (!c)
		return -1;
	*alen = (size_t)(c - tok);
	*b = c + 1;
	*blen = len - *alen - 1;
	return 0;
}

/* "ADDR:PORT" in the kernel's hex into addr (network order) and port. */
static int parse_endpoint(struct line *ln, int family, const char *what, uint8_t *addr,
			  uint16_t *port)
{
	size_t words = family == AF_INET ? 1 : 4, alen, plen, len = 0;
	const char *tok = NULL, *ptok;
	char field[32];
	uint64_t v;

	snprintf(field, sizeof(field), "%s address", what);
	if (!next_token(ln, &tok, &len))
		return bad_field(ln, field, "", NULL, 0);
	if (split_colon(tok, len, &alen, &ptok, &plen) < 0 || alen != words * 8)
		return bad_field(ln, field,
				 family == AF_INET ? "8 hex digits:port" : "32 hex digits:port",
				 tok, len);
	for (size_t w = 0; w < words; w++) {
		uint32_t word;

		if (parse_hex(tok + 8 * w, 8, 8, &v) < 0)
			return bad_field(ln, field, "hex", tok, alen);
		/* each word is printed as the kernel holds it in memory */
		word = (uint32_t)v;
		memcpy(addr + 4 * w, &word, sizeof(word));
	}
	snprintf(field, sizeof(field), "%s port", what);
	if (plen != 4 || parse_hex(ptok, plen, 4, &v) < 0)
		return bad_field(ln, field, "4 hex digits", ptok, plen);
	*port = (uint16_t)v;
	return 0;
}

/* A token of the form "HEX:HEX" with at most amax and bmax digits. */
static int parse_hex_pair(struct line *ln, const char *field, size_t amax, size_t bmax, uint64_t *a,
			  uint64_t *b)
{
	const char *tok = NULL, *btok;
	size_t len = 0, alen, blen;

	if (!next_token(ln, &tok, &len))
		return bad_field(ln, field, "", NULL, 0);
	if (split_colon(tok, len, &alen, &btok, &blen) < 0 || parse_hex(tok, alen, amax, a) < 0 ||
	    parse_hex(btok, blen, bmax, b) < 0)
		return bad_field(ln, field, "two hex numbers joined by ':'", tok, len);
	return 0;
}

/* One socket line (ln->p at its start); appends it to set when it is a listener. */
static int parse_socket_line(struct line *ln, int family, struct pp_listen_set *set)
{
	uint8_t addr[16] = {0}, raddr[16];
	uint16_t port, rport;
	uint64_t sl, st, txq, rxq, tr, when, retr, uid, inode, timeout;
	const char *tok = NULL;
	size_t len = 0;
	struct pp_listener *l;
	int rc;

	if (!next_token(ln, &tok, &len))
		return listen_fail(ln->err, ln->errlen, -EBADMSG, "line %lu: empty line", ln->no);
	if (len < 2 || tok[len - 1] != ':' || parse_dec(tok, len - 1, UINT32_MAX, &sl) < 0)
		return bad_field(ln, "slot number", "a number followed by ':'", tok, len);
	rc = parse_endpoint(ln, family, "local", addr, &port);
	if (rc == 0)
		rc = parse_endpoint(ln, family, "remote", raddr, &rport);
	if (rc < 0)
		return rc;
	tok = NULL;
	if (!next_token(ln, &tok, &len) || len != 2 || parse_hex(tok, len, 2, &st) < 0)
		return bad_field(ln, "state", "2 hex digits", tok, len);
	rc = parse_hex_pair(ln, "tx_queue:rx_queue", 8, 8, &txq, &rxq);
	if (rc == 0)
		rc = parse_hex_pair(ln, "tr:tm->when", 2, 16, &tr, &when);
	if (rc < 0)
		return rc;
	tok = NULL;
	if (!next_token(ln, &tok, &len) || parse_hex(tok, len, 8, &retr) < 0)
		return bad_field(ln, "retrnsmt", "hex", tok, len);
	tok = NULL;
	if (!next_token(ln, &tok, &len) || parse_dec(tok, len, UINT32_MAX, &uid) < 0)
		return bad_field(ln, "uid", "a decimal uid", tok, len);
	tok = NULL;
	if (!next_token(ln, &tok, &len) ||
	    parse_dec(tok + (len && *tok == '-'), len - (len && *tok == '-'), INT_MAX, &timeout) <
		0)
		return bad_field(ln, "timeout", "a decimal number", tok, len);
	tok = NULL;
	if (!next_token(ln, &tok, &len) || parse_dec(tok, len, UINT64_MAX, &inode) < 0)
		return bad_field(ln, "inode", "a decimal inode number", tok, len);
	if (st != PROCNET_LISTEN)
		return 0;
	if (set->n >= LISTEN_MAX_SOCKETS)
		return listen_fail(ln->err, ln->errlen, -E2BIG, "line %lu: more than %d listeners",
				   ln->no, (int)LISTEN_MAX_SOCKETS);
	l = listen_set_push(set);
	if (!l)
		return listen_fail(ln->err, ln->errlen, -ENOMEM, "out of memory");
	l->family = family;
	memcpy(l->addr, addr, sizeof(l->addr));
	l->port = port;
	l->accept_queue = (uint32_t)rxq;
	l->uid = (uint32_t)uid;
	l->inode = inode;
	listen_mark_exposure(l);
	return 0;
}

/* Whether the header line [s, e) is the one the kernel writes first. */
static int is_header(const char *s, const char *e)
{
	while (s < e && *s == ' ')
		s++;
	return e - s > 3 && !memcmp(s, "sl ", 3) && memmem(s, (size_t)(e - s), "local_address", 13);
}

int procnet_parse(const char *text, size_t len, int family, struct pp_listen_set *set, char *err,
		  size_t errlen)
{
	const char *p = text, *end = text + len;
	struct line ln = {.err = err, .errlen = errlen};
	size_t n0 = set->n;
	int rc = 0;

	if (family != AF_INET && family != AF_INET6)
		return listen_fail(err, errlen, -EINVAL, "family %d is not AF_INET or AF_INET6",
				   family);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		ln.no++;
		if (!nl) {
			rc = listen_fail(err, errlen, -EBADMSG,
					 "line %lu: cut short (no newline at the end of the file)",
					 ln.no);
			goto out;
		}
		ln.p = p;
		ln.end = nl;
		if (ln.no == 1) {
			if (!is_header(p, nl)) {
				rc = listen_fail(err, errlen, -EBADMSG,
						 "line 1: not the header of /proc/net/tcp%s (\"sl "
						 "local_address ...\")",
						 family == AF_INET6 ? "6" : "");
				goto out;
			}
		} else {
			rc = parse_socket_line(&ln, family, set);
			if (rc < 0)
				goto out;
		}
		p = nl + 1;
	}
	if (ln.no == 0)
		rc = listen_fail(err, errlen, -EBADMSG, "line 1: missing header (empty file)");
out:
	if (rc < 0)
		listen_set_truncate(set, n0);
	return rc;
}

/* Reads and parses one file; a missing file is 0 rows when optional. */
static int read_one(const char *proc_root, const char *name, int family, int optional,
		    struct pp_listen_set *set, char *err, size_t errlen)
{
	char path[PATH_MAX], msg[256];
	struct pp_buf b;
	int fd, rc, n;

	n = snprintf(path, sizeof(path), "%s/net/%s", proc_root, name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return listen_fail(err, errlen, -ENAMETOOLONG, "%s/net/%s: path too long",
				   proc_root, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT && optional)
			return 0;
		return listen_fail(err, errlen, -errno, "%s: %s", path, strerror(errno));
	}
	pp_buf_init(&b, PROCNET_MAX_TEXT);
	rc = listen_read_all(fd, &b);
	close(fd);
	if (rc == -E2BIG)
		rc = listen_fail(err, errlen, -EFBIG, "%s: larger than %d MiB", path,
				 (int)(PROCNET_MAX_TEXT >> 20));
	else if (rc < 0)
		rc = listen_fail(err, errlen, rc, "%s: %s", path, strerror(-rc));
	else if ((rc = procnet_parse(b.data ? b.data : "", b.len, family, set, msg, sizeof(msg))) <
		 0)
		listen_fail(err, errlen, rc, "%s: %s", path, msg);
	pp_buf_release(&b);
	return rc;
}

int procnet_read(const char *proc_root, int family, struct pp_listen_set *set, char *err,
		 size_t errlen)
{
	size_t n0 = set->n;
	int rc = 0;

	if (!proc_root)
		proc_root = "/proc";
	if (family != 0 && family != AF_INET && family != AF_INET6)
		return listen_fail(err, errlen, -EINVAL, "family %d is not 0, AF_INET or AF_INET6",
				   family);
	if (family != AF_INET6)
		rc = read_one(proc_root, "tcp", AF_INET, 0, set, err, errlen);
	/* no tcp6 when IPv6 is disabled: no IPv6 listeners, not a failure */
	if (rc == 0 && family != AF_INET)
		rc = read_one(proc_root, "tcp6", AF_INET6, 1, set, err, errlen);
	if (rc < 0)
		listen_set_truncate(set, n0);
	return rc;
}
