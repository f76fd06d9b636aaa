/* starttls.c: the STARTTLS preambles of starttls.h.
 *
 * Line protocols (SMTP, LMTP, FTP, NNTP, IMAP, POP3, ManageSieve) share one
 * line splitter: bytes gather in st->buf until LF, the line (CR LF dropped)
 * goes to the protocol's handler, which may queue a request and move the
 * phase on. The numeric ones share one reply reader with RFC 959's rule for
 * multi-line replies (the last line starts "DDD " with the first line's code;
 * lines between may be anything), which SMTP's "DDD-" lines also satisfy.
 * Binary protocols (LDAP, PostgreSQL, MySQL) gather one message by its length
 * header and parse it with bounds checks. XMPP is a tolerant tag scanner, not
 * an XML parser: RFC 6120 forbids comments, DTDs and processing instructions
 * in a stream, so "<" ... ">" outside quotes is one tag; text is skipped and
 * only element names, depth and the TLS namespace matter.
 *
 * Choices: SMTP and LMTP say "EHLO/LHLO portprobe.invalid": a dotted name,
 * so servers that insist on a fully-qualified HELO name (Postfix's
 * reject_non_fqdn_helo_hostname) still answer, under the TLD RFC 2606 keeps
 * from ever resolving, so it claims no one's host. IMAP skips CAPABILITY
 * when the greeting's [CAPABILITY] code lists STARTTLS (a list without it is
 * asked again). POP3 sends STLS without CAPA: +OK or -ERR decides as well,
 * one round trip sooner. MySQL asks for CLIENT_LONG_PASSWORD |
 * CLIENT_PROTOCOL_41 | CLIENT_SSL | CLIENT_SECURE_CONNECTION (MariaDB reads
 * the first as "not MariaDB-extended") in the server's charset. A failed
 * step takes back what it queued, so FAIL never leaves bytes to send. */
#include "tls/starttls.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define SMTP_EHLO_NAME "portprobe.invalid"
#define EXCERPT_MAX    100 /* server text quoted in an error */

/* Where a dialog is; what each phase waits for is in struct proto. */
enum phase {
	PH_OPEN,     /* nothing sent or read yet */
	PH_GREETING, /* the server's greeting (sieve: capability list; mysql: handshake) */
	PH_CAPS,     /* the answer to EHLO/LHLO/CAPABILITY (xmpp: stream features) */
	PH_STARTTLS, /* the answer to the STARTTLS request */
	PH_PGERROR,  /* postgres: the rest of an 'E' message */
	PH_DONE,     /* READY or FAIL */
};

/* xmpp: the open top-level element. */
enum xmpp_top {
	TOP_NONE,
	TOP_FEATURES,
	TOP_ERROR,
	TOP_PROCEED,
};

/* Per protocol: names for messages and what each phase waits for. */
struct proto {
	const char *name;     /* as parsed and printed */
	const char *request;  /* the TLS request, named in refusals */
	const char *greeting; /* what PH_GREETING waits for, or NULL */
	const char *caps;     /* what PH_CAPS waits for, or NULL */
	const char *answer;   /* what PH_STARTTLS waits for, or NULL */
};

static const struct proto protos[TLS_STARTTLS_COUNT] = {
    [TLS_STARTTLS_NONE] = {"none", NULL, NULL, NULL, NULL},
    [TLS_STARTTLS_SMTP] = {"smtp", "STARTTLS", "greeting", "EHLO reply", "STARTTLS reply"},
    [TLS_STARTTLS_LMTP] = {"lmtp", "STARTTLS", "greeting", "LHLO reply", "STARTTLS reply"},
    [TLS_STARTTLS_IMAP] = {"imap", "STARTTLS", "greeting", "CAPABILITY reply", "STARTTLS reply"},
    [TLS_STARTTLS_POP3] = {"pop3", "STLS", "greeting", NULL, "STLS reply"},
    [TLS_STARTTLS_FTP] = {"ftp", "AUTH TLS", "greeting", NULL, "AUTH TLS reply"},
    [TLS_STARTTLS_LDAP] = {"ldap", "StartTLS", NULL, NULL, "StartTLS response"},
    [TLS_STARTTLS_XMPP] = {"xmpp", "<starttls/>", NULL, "stream features", "<proceed/>"},
    [TLS_STARTTLS_POSTGRES] = {"postgres", "SSLRequest", NULL, NULL, "answer to SSLRequest"},
    [TLS_STARTTLS_MYSQL] = {"mysql", "SSLRequest", "handshake packet", NULL, NULL},
    [TLS_STARTTLS_NNTP] = {"nntp", "STARTTLS", "greeting", NULL, "STARTTLS reply"},
    [TLS_STARTTLS_SIEVE] = {"sieve", "STARTTLS", "capability list", NULL, "STARTTLS reply"},
};

/* The port each protocol is usually found on with STARTTLS. */
static const struct {
	uint16_t port;
	enum tls_starttls proto;
} port_map[] = {
    {21, TLS_STARTTLS_FTP},     {24, TLS_STARTTLS_LMTP},   {25, TLS_STARTTLS_SMTP},
    {110, TLS_STARTTLS_POP3},   {119, TLS_STARTTLS_NNTP},  {143, TLS_STARTTLS_IMAP},
    {389, TLS_STARTTLS_LDAP},   {587, TLS_STARTTLS_SMTP},  {3306, TLS_STARTTLS_MYSQL},
    {4190, TLS_STARTTLS_SIEVE}, {5222, TLS_STARTTLS_XMPP}, {5432, TLS_STARTTLS_POSTGRES},
};

int tls_starttls_parse(const char *name, enum tls_starttls *out)
{
	if (!name)
		return -EINVAL;
	for (int i = 0; i < TLS_STARTTLS_COUNT; i++)
		if (!strcasecmp(name, protos[i].name)) {
			*out = (enum tls_starttls)i;
			return 0;
		}
	return -EINVAL;
}

const char *tls_starttls_name(enum tls_starttls proto)
{
	if ((unsigned)proto >= TLS_STARTTLS_COUNT)
		return "unknown";
	return protos[proto].name;
}

enum tls_starttls tls_starttls_for_port(uint16_t port)
{
	for (size_t i = 0; i < sizeof(port_map) / sizeof(port_map[0]); i++)
		if (port_map[i].port == port)
			return port_map[i].proto;
	return TLS_STARTTLS_NONE;
}

/* --- errors ---------------------------------------------------------------- */

/* Copies server text into out (cap >= 5 bytes): at most EXCERPT_MAX bytes
 * and what fits, trailing white space dropped, '?' for anything but
 * printable ASCII, "..." when cut. Returns out. */
static const char *excerpt(char *out, size_t cap, const void *text, size_t n)
{
	const uint8_t *p = text;
	size_t k = cap - 4 < EXCERPT_MAX ? cap - 4 : EXCERPT_MAX;

	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r' || p[n - 1] == '\n'))
		n--;
	if (n < k)
		k = n;
	for (size_t i = 0; i < k; i++)
		out[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	if (k < n) {
		memcpy(out + k, "...", 3);
		k += 3;
	}
	out[k] = '\0';
	return out;
}

/* Ends the dialog: "<proto>: <message>" becomes the error. Returns
 * TLS_STARTTLS_FAIL. */
__attribute__((format(printf, 2, 3))) static int fail(struct tls_starttls_state *st,
						      const char *fmt, ...)
{
	va_list ap;
	int k = snprintf(st->error, sizeof(st->error), "%s: ", tls_starttls_name(st->proto));

	va_start(ap, fmt);
	if (k > 0 && (size_t)k < sizeof(st->error))
		vsnprintf(st->error + k, sizeof(st->error) - (size_t)k, fmt, ap);
	va_end(ap);
	st->phase = PH_DONE;
	st->result = TLS_STARTTLS_FAIL;
	return TLS_STARTTLS_FAIL;
}

/* Fails on a refusal: "server greeted with <line>" (cmd NULL) or "server
 * answered <cmd> with <line>". */
static int fail_answer(struct tls_starttls_state *st, const char *cmd, const char *p, size_t n)
{
	char ex[EXCERPT_MAX + 4];

	excerpt(ex, sizeof(ex), p, n);
	if (!cmd)
		return fail(st, "server greeted with %s", ex);
	return fail(st, "server answered %s with %s", cmd, ex);
}

static int ready(struct tls_starttls_state *st)
{
	st->phase = PH_DONE;
	st->result = TLS_STARTTLS_READY;
	return TLS_STARTTLS_READY;
}

/* What the dialog waits for now ("EHLO reply"), or NULL. */
static const char *waiting_for(const struct tls_starttls_state *st)
{
	const struct proto *pr = &protos[st->proto];

	switch (st->phase) {
	case PH_GREETING:
		return pr->greeting;
	case PH_CAPS:
		return pr->caps;
	case PH_STARTTLS:
		return pr->answer;
	case PH_PGERROR:
		return "end of the error message";
	default:
		return NULL;
	}
}

/* Fails on a line that does not belong: "unexpected EHLO reply: <line>". */
static int fail_unexpected(struct tls_starttls_state *st, const char *p, size_t n)
{
	char ex[EXCERPT_MAX + 4];

	return fail(st, "unexpected %s: %s", waiting_for(st), excerpt(ex, sizeof(ex), p, n));
}

/* --- text helpers ---------------------------------------------------------- */

/* 1 when p (n bytes) starts with word, case-insensitively, followed by the
 * end or a space. */
static bool starts_word(const char *p, size_t n, const char *word)
{
	size_t k = strlen(word);

	return n >= k && !strncasecmp(p, word, k) && (n == k || p[k] == ' ');
}

/* 1 when the space-separated list p (n bytes, ending at n or at `stop`)
 * holds word, case-insensitively. */
static bool list_has(const char *p, size_t n, const char *word, char stop)
{
	size_t k = strlen(word), i = 0;

	while (i < n && p[i] != stop) {
		size_t j = i;

		while (j < n && p[j] != ' ' && p[j] != stop)
			j++;
		if (j - i == k && !strncasecmp(p + i, word, k))
			return true;
		i = j;
		while (i < n && p[i] == ' ')
			i++;
	}
	return false;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* --- line protocols -------------------------------------------------------- */

/* Feeds one line of a numeric reply (SMTP, LMTP, FTP, NNTP). 1 when the
 * reply is complete (*code set, st->first holds its first line), 0 when it
 * goes on, -1 when the line does not fit (not "DDD", "DDD text" or
 * "DDD-text"; or, except in FTP, a middle line without the first's code). */
static int reply_line(struct tls_starttls_state *st, const char *p, size_t n, int *code)
{
	if (st->reply_code < 0) {
		if (n < 3 || !is_digit(p[0]) || !is_digit(p[1]) || !is_digit(p[2]) ||
		    (n > 3 && p[3] != ' ' && p[3] != '-'))
			return -1;
		st->reply_code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
		st->reply_lines = 1;
		excerpt(st->first, sizeof(st->first), p, n);
		if (n > 3 && p[3] == '-')
			return 0;
	} else {
		bool same = n >= 3 && p[0] - '0' == st->reply_code / 100 &&
			    p[1] - '0' == st->reply_code / 10 % 10 &&
			    p[2] - '0' == st->reply_code % 10;

		st->reply_lines++;
		/* FTP's middle lines are free text; SMTP's repeat the code */
		if (st->proto != TLS_STARTTLS_FTP &&
		    (!same || (n > 3 && p[3] != ' ' && p[3] != '-')))
			return -1;
		if (!same || (n > 3 && p[3] != ' '))
			return 0;
	}
	*code = st->reply_code;
	st->reply_code = -1;
	return 1;
}

/* SMTP, LMTP, FTP and NNTP. */
static int numeric_line(struct tls_starttls_state *st, const char *p, size_t n, struct pp_buf *send)
{
	const struct proto *pr = &protos[st->proto];
	int code = 0, r = reply_line(st, p, n, &code);

	if (r < 0)
		return fail_unexpected(st, p, n);
	/* EHLO keywords: every line but the first (the server's name) */
	if (st->phase == PH_CAPS && st->reply_lines > 1 && n > 4 &&
	    starts_word(p + 4, n - 4, "STARTTLS"))
		st->offered = 1;
	if (r == 0)
		return TLS_STARTTLS_MORE;
	if (st->proto == TLS_STARTTLS_FTP && code < 200)
		return TLS_STARTTLS_MORE; /* 120 "ready in nnn minutes": another reply follows */

	switch (st->phase) {
	case PH_GREETING:
		if (st->proto == TLS_STARTTLS_NNTP ? code != 200 && code != 201 : code != 220)
			return fail(st, "server greeted with %s", st->first);
		if (st->proto == TLS_STARTTLS_SMTP || st->proto == TLS_STARTTLS_LMTP) {
			pp_buf_printf(send, "%s " SMTP_EHLO_NAME "\r\n",
				      st->proto == TLS_STARTTLS_SMTP ? "EHLO" : "LHLO");
			st->phase = PH_CAPS;
			return TLS_STARTTLS_MORE;
		}
		pp_buf_printf(send, "%s\r\n", pr->request);
		st->phase = PH_STARTTLS;
		return TLS_STARTTLS_MORE;
	case PH_CAPS:
		if (code != 250)
			return fail(st, "server answered %s with %s",
				    st->proto == TLS_STARTTLS_SMTP ? "EHLO" : "LHLO", st->first);
		if (!st->offered)
			return fail(st, "STARTTLS not offered in %s",
				    st->proto == TLS_STARTTLS_SMTP ? "EHLO reply" : "LHLO reply");
		pp_buf_puts(send, "STARTTLS\r\n");
		st->phase = PH_STARTTLS;
		return TLS_STARTTLS_MORE;
	default:
		if (code != (st->proto == TLS_STARTTLS_FTP    ? 234
			     : st->proto == TLS_STARTTLS_NNTP ? 382
							      : 220))
			return fail(st, "server answered %s with %s", pr->request, st->first);
		return ready(st);
	}
}

/* Scans an IMAP response text for a [CAPABILITY ...] code listing STARTTLS;
 * p is what follows the status word. */
static void imap_code_caps(struct tls_starttls_state *st, const char *p, size_t n)
{
	while (n && *p == ' ')
		p++, n--;
	if (n > 12 && p[0] == '[' && !strncasecmp(p + 1, "CAPABILITY ", 11) &&
	    list_has(p + 12, n - 12, "STARTTLS", ']'))
		st->offered = 1;
}

static int imap_line(struct tls_starttls_state *st, const char *p, size_t n, struct pp_buf *send)
{
	const char *tag = st->phase == PH_CAPS ? "a001" : "a002";
	const char *cmd = st->phase == PH_CAPS ? "CAPABILITY" : "STARTTLS";

	if (st->phase == PH_GREETING) {
		if (starts_word(p, n, "* BYE"))
			return fail_answer(st, NULL, p, n);
		if (starts_word(p, n, "* OK"))
			imap_code_caps(st, p + 4, n - 4);
		else if (starts_word(p, n, "* PREAUTH"))
			imap_code_caps(st, p + 9, n - 9);
		else
			return fail_unexpected(st, p, n);
		if (st->offered) {
			pp_buf_puts(send, "a002 STARTTLS\r\n");
			st->phase = PH_STARTTLS;
		} else {
			pp_buf_puts(send, "a001 CAPABILITY\r\n");
			st->phase = PH_CAPS;
		}
		return TLS_STARTTLS_MORE;
	}
	if (n >= 2 && p[0] == '*' && p[1] == ' ') {
		if (starts_word(p + 2, n - 2, "BYE"))
			return fail_answer(st, cmd, p, n);
		if (st->phase == PH_CAPS && starts_word(p + 2, n - 2, "CAPABILITY") &&
		    list_has(p + 12, n - 12, "STARTTLS", '\0'))
			st->offered = 1;
		return TLS_STARTTLS_MORE; /* other untagged data does not matter */
	}
	if (!starts_word(p, n, tag))
		return fail_unexpected(st, p, n);
	if (!starts_word(p + 4, n - 4, " OK"))
		return fail_answer(st, cmd, p, n);
	if (st->phase == PH_STARTTLS)
		return ready(st);
	imap_code_caps(st, p + 7, n - 7);
	if (!st->offered)
		return fail(st, "STARTTLS not offered in CAPABILITY");
	pp_buf_puts(send, "a002 STARTTLS\r\n");
	st->phase = PH_STARTTLS;
	return TLS_STARTTLS_MORE;
}

static int pop3_line(struct tls_starttls_state *st, const char *p, size_t n, struct pp_buf *send)
{
	bool ok = starts_word(p, n, "+OK"), err = starts_word(p, n, "-ERR");

	if (!ok && !err)
		return fail_unexpected(st, p, n);
	if (st->phase == PH_GREETING) {
		if (err)
			return fail_answer(st, NULL, p, n);
		pp_buf_puts(send, "STLS\r\n");
		st->phase = PH_STARTTLS;
		return TLS_STARTTLS_MORE;
	}
	if (err)
		return fail_answer(st, "STLS", p, n);
	return ready(st);
}

/* 1 when a ManageSieve line ends with a literal's length, "{12}" or "{12+}":
 * its text follows, taken to be the next line (servers quote capabilities;
 * a literal only needs to be kept from passing for one). */
static bool sieve_literal(const char *p, size_t n)
{
	if (n && p[n - 1] == '}')
		n--;
	else
		return false;
	if (n && p[n - 1] == '+')
		n--;
	if (!n || !is_digit(p[n - 1]))
		return false;
	while (n && is_digit(p[n - 1]))
		n--;
	return n && p[n - 1] == '{';
}

static int sieve_line(struct tls_starttls_state *st, const char *p, size_t n, struct pp_buf *send)
{
	bool ok = starts_word(p, n, "OK");
	bool no = starts_word(p, n, "NO") || starts_word(p, n, "BYE");

	if (st->skip_line) {
		st->skip_line = 0;
		return TLS_STARTTLS_MORE;
	}
	if (st->phase == PH_GREETING) {
		if (no)
			return fail_answer(st, NULL, p, n);
		if (!ok) {
			/* a capability: "NAME" ["VALUE"], strings quoted or literal */
			if (!n || (p[0] != '"' && p[0] != '{'))
				return fail_unexpected(st, p, n);
			if (n >= 10 && p[0] == '"' && !strncasecmp(p + 1, "STARTTLS\"", 9))
				st->offered = 1;
			st->skip_line = sieve_literal(p, n);
			return TLS_STARTTLS_MORE;
		}
		if (!st->offered)
			return fail(st, "STARTTLS not offered in capability list");
		pp_buf_puts(send, "STARTTLS\r\n");
		st->phase = PH_STARTTLS;
		return TLS_STARTTLS_MORE;
	}
	if (ok)
		return ready(st);
	if (no)
		return fail_answer(st, "STARTTLS", p, n);
	return fail_unexpected(st, p, n);
}

/* Splits in into lines for the line protocols. *used: bytes taken from in
 * (fewer than n only when the dialog ended). */
static int feed_lines(struct tls_starttls_state *st, const uint8_t *in, size_t n,
		      struct pp_buf *send, size_t *used)
{
	size_t i = 0;
	int r = TLS_STARTTLS_MORE;

	while (i < n && r == TLS_STARTTLS_MORE) {
		const uint8_t *nl = memchr(in + i, '\n', n - i);
		size_t take = nl ? (size_t)(nl - (in + i)) + 1 : n - i, len;

		if (take > TLS_STARTTLS_MSG_MAX - st->len)
			return fail(st, "reply too long (a line over %d bytes)",
				    TLS_STARTTLS_MSG_MAX);
		memcpy(st->buf + st->len, in + i, take);
		st->len += (uint32_t)take;
		i += take;
		if (!nl)
			break;
		len = st->len - 1;
		if (len && st->buf[len - 1] == '\r')
			len--;
		st->len = 0;
		switch (st->proto) {
		case TLS_STARTTLS_IMAP:
			r = imap_line(st, (const char *)st->buf, len, send);
			break;
		case TLS_STARTTLS_POP3:
			r = pop3_line(st, (const char *)st->buf, len, send);
			break;
		case TLS_STARTTLS_SIEVE:
			r = sieve_line(st, (const char *)st->buf, len, send);
			break;
		default:
			r = numeric_line(st, (const char *)st->buf, len, send);
			break;
		}
	}
	*used = i;
	return r;
}

/* --- binary messages ------------------------------------------------------- */

/* Gathers bytes into st->buf until it holds `want` bytes. Returns 1 when it
 * does, 0 when more are needed; *used grows by the bytes taken from in. */
static int gather(struct tls_starttls_state *st, const uint8_t *in, size_t n, size_t *used,
		  size_t want)
{
	size_t take = 0;

	if (st->len < want) {
		take = want - st->len;
		if (take > n - *used)
			take = n - *used;
		if (take)
			memcpy(st->buf + st->len, in + *used, take);
		st->len += (uint32_t)take;
		*used += take;
	}
	return st->len >= want;
}

/* The server's one-byte answer to SSLRequest, or the error message behind
 * an 'E'. */
static int postgres_feed(struct tls_starttls_state *st, const uint8_t *in, size_t n, size_t *used)
{
	char sev[32] = "", msg[EXCERPT_MAX + 4] = "";
	const uint8_t *m, *end, *z;
	size_t len;

	if (st->phase == PH_STARTTLS) {
		if (!n)
			return TLS_STARTTLS_MORE;
		*used = 1;
		switch (in[0]) {
		case 'S':
			return ready(st);
		case 'N':
			return fail(st, "server refused SSL ('N')");
		case 'E':
			st->buf[0] = 'E';
			st->len = 1;
			st->scan = 1;
			st->phase = PH_PGERROR;
			break;
		default:
			return fail(st, "unexpected answer to SSLRequest: 0x%02x", in[0]);
		}
	}
	/* 'E': protocol 3 has an int32 length (high byte 0) and typed fields;
	 * protocol 2 (servers older than SSL) one NUL-terminated text */
	if (!gather(st, in, n, used, 2))
		return TLS_STARTTLS_MORE;
	if (st->buf[1] == 0) {
		if (!gather(st, in, n, used, 5))
			return TLS_STARTTLS_MORE;
		len = (size_t)st->buf[2] << 16 | (size_t)st->buf[3] << 8 | st->buf[4];
		if (len < 5 || len > TLS_STARTTLS_MSG_MAX - 1)
			return fail(st,
				    "server answered SSLRequest with a malformed error message");
		if (!gather(st, in, n, used, len + 1))
			return TLS_STARTTLS_MORE;
		end = st->buf + 1 + len;
		for (m = st->buf + 5; m < end && *m; m = z + 1) {
			z = memchr(m + 1, 0, (size_t)(end - m - 1));
			if (!z)
				break;
			if (*m == 'S')
				excerpt(sev, sizeof(sev), m + 1, (size_t)(z - m - 1));
			else if (*m == 'M')
				excerpt(msg, sizeof(msg), m + 1, (size_t)(z - m - 1));
		}
		return fail(st, "server answered SSLRequest with an error: %s%s%s", sev,
			    *sev ? ": " : "", msg);
	}
	gather(st, in, n, used, TLS_STARTTLS_MSG_MAX);
	z = memchr(st->buf + st->scan, 0, st->len - st->scan);
	if (z)
		return fail(st, "server answered SSLRequest with an error: %s",
			    excerpt(msg, sizeof(msg), st->buf + 1, (size_t)(z - st->buf - 1)));
	st->scan = st->len;
	if (st->len == TLS_STARTTLS_MSG_MAX)
		return fail(st, "error message too long (over %d bytes)", TLS_STARTTLS_MSG_MAX);
	return TLS_STARTTLS_MORE;
}

#define MYSQL_CLIENT_LONG_PASSWORD     0x00000001u
#define MYSQL_CLIENT_PROTOCOL_41       0x00000200u
#define MYSQL_CLIENT_SSL               0x00000800u
#define MYSQL_CLIENT_SECURE_CONNECTION 0x00008000u
#define MYSQL_CHARSET_UTF8             33 /* utf8_general_ci, when the server names none */

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* The payload (len > 0 bytes) of the server's first packet: an error, or
 * Protocol::HandshakeV10 (version 1, server version NUL, connection id 4,
 * scramble 8, filler 1, capabilities low 2, then optionally charset 1,
 * status 2, capabilities high 2, ...). Queues the SSLRequest. */
static int mysql_handshake(struct tls_starttls_state *st, const uint8_t *p, size_t len,
			   struct pp_buf *send)
{
	char ex[EXCERPT_MAX + 4], ver[48];
	uint8_t req[4 + 32] = {32, 0, 0, 1}; /* payload length 32, sequence id 1 */
	uint8_t charset = MYSQL_CHARSET_UTF8;
	const uint8_t *z;
	uint32_t caps;
	size_t off, m = 3;

	if (p[0] == 0xff) {
		if (len < 3)
			return fail(st, "server sent a malformed error packet");
		if (len >= 9 && p[3] == '#')
			m = 9; /* "#" and a SQLSTATE */
		return fail(st, "server error %u: %s", (unsigned)(p[1] | p[2] << 8),
			    excerpt(ex, sizeof(ex), p + m, len - m));
	}
	if (p[0] == 9)
		return fail(st, "server speaks protocol 9 (before MySQL 3.22), which has no TLS");
	if (p[0] != 10)
		return fail(st, "not a MySQL handshake packet (protocol %u)", p[0]);
	z = memchr(p + 1, 0, len - 1);
	if (!z)
		return fail(st, "malformed handshake packet (no end to the server version)");
	excerpt(ver, sizeof(ver), p + 1, (size_t)(z - p - 1));
	off = (size_t)(z - p) + 1;
	if (len - off < 15)
		return fail(st, "malformed handshake packet (%zu bytes, server %s)", len, ver);
	caps = (uint32_t)p[off + 13] | (uint32_t)p[off + 14] << 8;
	if (len - off >= 16 && p[off + 15])
		charset = p[off + 15];
	if (len - off >= 20)
		caps |= (uint32_t)p[off + 18] << 16 | (uint32_t)p[off + 19] << 24;
	if (!(caps & MYSQL_CLIENT_SSL))
		return fail(st, "server lacks CLIENT_SSL (server %s)", ver);
	if (!(caps & MYSQL_CLIENT_PROTOCOL_41))
		return fail(st, "server lacks CLIENT_PROTOCOL_41 (server %s, before MySQL 4.1)",
			    ver);
	put_le32(req + 4, MYSQL_CLIENT_LONG_PASSWORD | MYSQL_CLIENT_PROTOCOL_41 | MYSQL_CLIENT_SSL |
			      MYSQL_CLIENT_SECURE_CONNECTION);
	put_le32(req + 8, 1u << 24); /* max packet size: 16 MiB */
	req[12] = charset;           /* 23 zero bytes follow */
	pp_buf_put(send, req, sizeof(req));
	return ready(st);
}

/* Gathers the server's first packet: 3-byte length, sequence id, payload. */
static int mysql_feed(struct tls_starttls_state *st, const uint8_t *in, size_t n,
		      struct pp_buf *send, size_t *used)
{
	size_t len;

	if (!gather(st, in, n, used, 4))
		return TLS_STARTTLS_MORE;
	len = (size_t)st->buf[0] | (size_t)st->buf[1] << 8 | (size_t)st->buf[2] << 16;
	if (len == 0)
		return fail(st, "empty handshake packet");
	if (len > TLS_STARTTLS_MSG_MAX - 4)
		return fail(st, "handshake packet too long (%zu bytes)", len);
	if (!gather(st, in, n, used, 4 + len))
		return TLS_STARTTLS_MORE;
	return mysql_handshake(st, st->buf + 4, len, send);
}

/* LDAPMessage { messageID 1, [APPLICATION 23] ExtendedRequest {
 * [0] requestName "1.3.6.1.4.1.1466.20037" } } (RFC 4511 4.14.1). */
static const char ldap_starttls_request[] = "\x30\x1d\x02\x01\x01\x77\x18\x80\x16"
					    "1.3.6.1.4.1.1466.20037";

/* The name of an LDAP resultCode (RFC 4511 4.1.9 and Appendix A), or
 * "unknown". */
static const char *ldap_result_name(long code)
{
	static const struct {
		short code;
		const char *name;
	} names[] = {
	    {0, "success"},
	    {1, "operationsError"},
	    {2, "protocolError"},
	    {3, "timeLimitExceeded"},
	    {4, "sizeLimitExceeded"},
	    {5, "compareFalse"},
	    {6, "compareTrue"},
	    {7, "authMethodNotSupported"},
	    {8, "strongerAuthRequired"},
	    {10, "referral"},
	    {11, "adminLimitExceeded"},
	    {12, "unavailableCriticalExtension"},
	    {13, "confidentialityRequired"},
	    {14, "saslBindInProgress"},
	    {16, "noSuchAttribute"},
	    {17, "undefinedAttributeType"},
	    {18, "inappropriateMatching"},
	    {19, "constraintViolation"},
	    {20, "attributeOrValueExists"},
	    {21, "invalidAttributeSyntax"},
	    {32, "noSuchObject"},
	    {33, "aliasProblem"},
	    {34, "invalidDNSyntax"},
	    {36, "aliasDereferencingProblem"},
	    {48, "inappropriateAuthentication"},
	    {49, "invalidCredentials"},
	    {50, "insufficientAccessRights"},
	    {51, "busy"},
	    {52, "unavailable"},
	    {53, "unwillingToPerform"},
	    {54, "loopDetect"},
	    {64, "namingViolation"},
	    {65, "objectClassViolation"},
	    {66, "notAllowedOnNonLeaf"},
	    {67, "notAllowedOnRDN"},
	    {68, "entryAlreadyExists"},
	    {69, "objectClassModsProhibited"},
	    {71, "affectsMultipleDSAs"},
	    {80, "other"},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].code == code)
			return names[i].name;
	return "unknown";
}

/* A BER value being read. */
struct ber {
	const uint8_t *p; /* next byte */
	size_t n;         /* bytes left */
};

/* Reads the next element of b (low tag numbers, definite lengths of at most
 * 4 bytes) into *tag and *val. 0, or -1 when it is malformed or runs past b. */
static int ber_next(struct ber *b, uint8_t *tag, struct ber *val)
{
	size_t len, hdr = 2;

	if (b->n < 2 || (b->p[0] & 0x1f) == 0x1f)
		return -1;
	*tag = b->p[0];
	len = b->p[1];
	if (len & 0x80) {
		size_t k = len & 0x7f;

		if (k == 0 || k > 4 || b->n < 2 + k)
			return -1;
		len = 0;
		for (size_t i = 0; i < k; i++)
			len = len << 8 | b->p[2 + i];
		hdr += k;
	}
	if (len > b->n - hdr)
		return -1;
	val->p = b->p + hdr;
	val->n = len;
	b->p += hdr + len;
	b->n -= hdr + len;
	return 0;
}

/* A BER INTEGER or ENUMERATED of 1..4 bytes (two's complement). */
static int ber_int(const struct ber *v, long *out)
{
	long x;

	if (v->n < 1 || v->n > 4)
		return -1;
	x = v->p[0] & 0x80 ? -1 : 0;
	for (size_t i = 0; i < v->n; i++)
		x = (long)((unsigned long)x << 8 | v->p[i]);
	*out = x;
	return 0;
}

/* One complete LDAPMessage (n bytes): the ExtendedResponse to StartTLS. */
static int ldap_response(struct tls_starttls_state *st, const uint8_t *p, size_t n)
{
	struct ber msg = {p, n}, body, id, op, rc, dn, diag = {NULL, 0};
	char ex[EXCERPT_MAX + 4];
	long msgid, code;
	uint8_t tag;

	if (ber_next(&msg, &tag, &body) < 0 || ber_next(&body, &tag, &id) < 0 || tag != 0x02 ||
	    ber_int(&id, &msgid) < 0 || ber_next(&body, &tag, &op) < 0)
		return fail(st, "malformed StartTLS response");
	if (tag != 0x78)
		return fail(st,
			    "unexpected answer to StartTLS (protocolOp tag 0x%02x, not an "
			    "ExtendedResponse)",
			    tag);
	if (ber_next(&op, &tag, &rc) < 0 || tag != 0x0a || ber_int(&rc, &code) < 0)
		return fail(st, "malformed StartTLS response (no resultCode)");
	if (ber_next(&op, &tag, &dn) < 0 || tag != 0x04 || ber_next(&op, &tag, &diag) < 0 ||
	    tag != 0x04)
		diag.n = 0; /* matchedDN and diagnosticMessage are only for the message */
	excerpt(ex, sizeof(ex), diag.p, diag.n);
	if (msgid == 0)
		return fail(st, "server sent a notice of disconnection: resultCode %ld (%s)%s%s",
			    code, ldap_result_name(code), *ex ? ": " : "", ex);
	if (msgid != 1)
		return fail(st, "unexpected messageID %ld in the StartTLS response", msgid);
	if (code != 0)
		return fail(st, "server answered StartTLS with resultCode %ld (%s)%s%s", code,
			    ldap_result_name(code), *ex ? ": " : "", ex);
	return ready(st);
}

/* Gathers one LDAPMessage: SEQUENCE tag, BER length, contents. */
static int ldap_feed(struct tls_starttls_state *st, const uint8_t *in, size_t n, size_t *used)
{
	size_t hdr = 2, len, k;

	if (!gather(st, in, n, used, 2))
		return TLS_STARTTLS_MORE;
	if (st->buf[0] != 0x30)
		return fail(st, "unexpected answer to StartTLS (tag 0x%02x, not an LDAPMessage)",
			    st->buf[0]);
	len = st->buf[1];
	if (len & 0x80) {
		k = len & 0x7f;
		if (k == 0 || k > 4)
			return fail(st, "malformed StartTLS response (length form 0x%02x)",
				    st->buf[1]);
		if (!gather(st, in, n, used, 2 + k))
			return TLS_STARTTLS_MORE;
		len = 0;
		for (size_t i = 0; i < k; i++)
			len = len << 8 | st->buf[2 + i];
		hdr += k;
	}
	if (len > TLS_STARTTLS_MSG_MAX - hdr)
		return fail(st, "StartTLS response too long (%zu bytes)", len);
	if (!gather(st, in, n, used, hdr + len))
		return TLS_STARTTLS_MORE;
	return ldap_response(st, st->buf, hdr + len);
}

/* --- xmpp ------------------------------------------------------------------ */

/* Keeps host as the stream's 'to', bracketed when it is an IPv6 address
 * (its %scope dropped) and escaped for a quoted XML attribute. */
static void xmpp_set_host(struct tls_starttls_state *st, const char *host)
{
	const char *end = host + strlen(host), *pct;
	bool v6 = strchr(host, ':') && host[0] != '[';
	size_t k = 0;

	if (v6 && (pct = strchr(host, '%')))
		end = pct;
	if (v6)
		st->host[k++] = '[';
	for (const char *p = host; p < end; p++) {
		unsigned char c = (unsigned char)*p;
		const char *esc = c == '&'    ? "&amp;"
				  : c == '\'' ? "&apos;"
				  : c == '"'  ? "&quot;"
				  : c == '<'  ? "&lt;"
				  : c == '>'  ? "&gt;"
					      : NULL;
		size_t m = esc ? strlen(esc) : 1;

		if (c <= ' ' || c == 0x7f) {
			fail(st, "host name has a space or control character");
			return;
		}
		if (m + 2 > sizeof(st->host) - k) {
			fail(st, "host name too long for the stream's 'to'");
			return;
		}
		memcpy(st->host + k, esc ? esc : p, m);
		k += m;
	}
	if (v6)
		st->host[k++] = ']';
	st->host[k] = '\0';
}

/* 1 when the name (n bytes) has the local part (after any prefix) local. */
static bool xml_local_is(const char *name, size_t n, const char *local)
{
	const char *c = memrchr(name, ':', n);
	size_t k = strlen(local);

	if (c) {
		n -= (size_t)(c + 1 - name);
		name = c + 1;
	}
	return n == k && !memcmp(name, local, k);
}

static int xmpp_features_end(struct tls_starttls_state *st, struct pp_buf *send)
{
	if (!st->offered)
		return fail(st, "STARTTLS not offered in stream features");
	pp_buf_puts(send, "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
	st->phase = PH_STARTTLS;
	return TLS_STARTTLS_MORE;
}

/* One complete tag t (tn bytes, "<" ... ">"). */
static int xmpp_tag(struct tls_starttls_state *st, const char *t, size_t tn, struct pp_buf *send)
{
	const char *e = t + tn - 1, *name, *p = t + 1;
	bool closing = false, selfclose;
	char ex[52];
	size_t nn;
	int d = st->depth;

	if (tn < 3 || t[1] == '?' || t[1] == '!')
		return TLS_STARTTLS_MORE; /* the XML declaration (or what XMPP forbids) */
	if (*p == '/') {
		closing = true;
		p++;
	}
	name = p;
	while (p < e && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n' && *p != '/')
		p++;
	nn = (size_t)(p - name);
	excerpt(ex, sizeof(ex), name, nn);
	selfclose = !closing && e[-1] == '/';
	if (closing) {
		if (d == 0)
			return fail(st, "unexpected </%s> outside the stream", ex);
		st->depth = --d;
		if (d == 0)
			return fail(st, "server closed the stream");
		if (d > 1)
			return TLS_STARTTLS_MORE;
		switch (st->top) {
		case TOP_FEATURES:
			st->top = TOP_NONE;
			return xmpp_features_end(st, send);
		case TOP_ERROR:
			return fail(st, "stream error");
		case TOP_PROCEED:
			return ready(st);
		}
		return TLS_STARTTLS_MORE;
	}
	if (!selfclose)
		st->depth++;
	if (d == 0) {
		if (!xml_local_is(name, nn, "stream"))
			return fail(st, "unexpected <%s> instead of a stream header", ex);
		if (selfclose)
			return fail(st, "server closed the stream");
		return TLS_STARTTLS_MORE;
	}
	if (d == 1) {
		if (xml_local_is(name, nn, "error")) {
			st->top = TOP_ERROR;
			return selfclose ? fail(st, "stream error") : TLS_STARTTLS_MORE;
		}
		if (st->phase == PH_CAPS) {
			if (!xml_local_is(name, nn, "features"))
				return fail(st, "unexpected <%s> before the stream features", ex);
			st->top = TOP_FEATURES;
			return selfclose ? xmpp_features_end(st, send) : TLS_STARTTLS_MORE;
		}
		if (xml_local_is(name, nn, "proceed")) {
			st->top = TOP_PROCEED;
			return selfclose ? ready(st) : TLS_STARTTLS_MORE;
		}
		if (xml_local_is(name, nn, "failure"))
			return fail(st, "server answered <starttls/> with <failure/>");
		return fail(st, "unexpected <%s> instead of <proceed/>", ex);
	}
	if (d == 2 && st->top == TOP_FEATURES && xml_local_is(name, nn, "starttls") &&
	    memmem(t, tn, "urn:ietf:params:xml:ns:xmpp-tls", 31))
		st->offered = 1;
	if (d == 2 && st->top == TOP_ERROR && !xml_local_is(name, nn, "text"))
		return fail(st, "stream error: %s", ex);
	return TLS_STARTTLS_MORE;
}

/* Runs the complete tags in st->buf through xmpp_tag, drops text, and keeps
 * an incomplete tag at buf[0] (st->scan bytes of it scanned, st->quote the
 * quote open there). */
static int xmpp_scan(struct tls_starttls_state *st, struct pp_buf *send)
{
	size_t start = 0, j;
	int r = TLS_STARTTLS_MORE;

	while (r == TLS_STARTTLS_MORE && start < st->len) {
		if (st->scan == 0) {
			const uint8_t *lt = memchr(st->buf + start, '<', st->len - start);

			if (!lt) {
				start = st->len;
				break;
			}
			start = (size_t)(lt - st->buf);
			st->scan = 1;
			st->quote = 0;
		}
		for (j = start + st->scan; j < st->len; j++) {
			char c = (char)st->buf[j];

			if (st->quote) {
				if (c == st->quote)
					st->quote = 0;
			} else if (c == '\'' || c == '"') {
				st->quote = c;
			} else if (c == '>') {
				break;
			}
		}
		if (j == st->len) {
			st->scan = (uint32_t)(j - start);
			break;
		}
		r = xmpp_tag(st, (const char *)st->buf + start, j + 1 - start, send);
		start = j + 1;
		st->scan = 0;
	}
	memmove(st->buf, st->buf + start, st->len - start);
	st->len -= (uint32_t)start;
	return r;
}

static void xmpp_open(struct tls_starttls_state *st, struct pp_buf *send)
{
	pp_buf_puts(send, "<?xml version='1.0'?><stream:stream");
	if (st->host[0])
		pp_buf_printf(send, " to='%s'", st->host);
	pp_buf_puts(send, " xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'"
			  " version='1.0'>");
}

static int xmpp_feed(struct tls_starttls_state *st, const uint8_t *in, size_t n,
		     struct pp_buf *send, size_t *used)
{
	size_t i = 0;
	int r = TLS_STARTTLS_MORE;

	while (i < n && r == TLS_STARTTLS_MORE) {
		size_t take = n - i;

		if (take > TLS_STARTTLS_MSG_MAX - st->len)
			take = TLS_STARTTLS_MSG_MAX - st->len;
		memcpy(st->buf + st->len, in + i, take);
		st->len += (uint32_t)take;
		i += take;
		r = xmpp_scan(st, send);
		if (r == TLS_STARTTLS_MORE && st->len == TLS_STARTTLS_MSG_MAX)
			return fail(st, "tag too long (over %d bytes)", TLS_STARTTLS_MSG_MAX);
	}
	*used = i - st->len; /* after READY, what followed <proceed/> is left in buf */
	return r;
}

/* --- the dialog ------------------------------------------------------------ */

void tls_starttls_init(struct tls_starttls_state *st, enum tls_starttls proto, const char *host)
{
	memset(st, 0, offsetof(struct tls_starttls_state, buf));
	st->proto = proto;
	st->phase = PH_OPEN;
	st->result = TLS_STARTTLS_MORE;
	st->reply_code = -1;
	if ((unsigned)proto >= TLS_STARTTLS_COUNT)
		fail(st, "no such STARTTLS protocol (%d)", (int)proto);
	else if (proto == TLS_STARTTLS_XMPP && host && *host)
		xmpp_set_host(st, host);
}

/* Queues the client's opening bytes and enters the first phase. */
static int open_dialog(struct tls_starttls_state *st, struct pp_buf *send)
{
	switch (st->proto) {
	case TLS_STARTTLS_NONE:
		return ready(st);
	case TLS_STARTTLS_LDAP:
		pp_buf_put(send, ldap_starttls_request, sizeof(ldap_starttls_request) - 1);
		st->phase = PH_STARTTLS;
		break;
	case TLS_STARTTLS_POSTGRES:
		/* SSLRequest: length 8, code 80877103 (1234 << 16 | 5679) */
		pp_buf_put(send, "\x00\x00\x00\x08\x04\xd2\x16\x2f", 8);
		st->phase = PH_STARTTLS;
		break;
	case TLS_STARTTLS_XMPP:
		xmpp_open(st, send);
		st->phase = PH_CAPS;
		break;
	default:
		st->phase = PH_GREETING;
		break;
	}
	return TLS_STARTTLS_MORE;
}

/* Fails for bytes that came after the server's go-ahead. */
static int fail_after_ready(struct tls_starttls_state *st)
{
	const struct proto *pr = &protos[st->proto];

	if (st->proto == TLS_STARTTLS_NONE)
		return fail(st, "server sent data before the ClientHello");
	return fail(st, "unexpected data after the %s", pr->answer ? pr->answer : pr->greeting);
}

/* tls_starttls_step() but for undoing what a failed step queued. */
static int step(struct tls_starttls_state *st, const uint8_t *in, size_t n, struct pp_buf *send)
{
	size_t used = 0;
	bool over;
	int r;

	if (st->result == TLS_STARTTLS_FAIL)
		return TLS_STARTTLS_FAIL;
	if (st->phase == PH_OPEN)
		open_dialog(st, send);
	if (st->result == TLS_STARTTLS_READY)
		return n ? fail_after_ready(st) : TLS_STARTTLS_READY;
	/* the bytes up to the cap go first: a failure among them is the one told */
	over = n > TLS_STARTTLS_TOTAL_MAX - st->total;
	if (over)
		n = TLS_STARTTLS_TOTAL_MAX - st->total;
	st->total += (uint32_t)n;
	switch (st->proto) {
	case TLS_STARTTLS_LDAP:
		r = ldap_feed(st, in, n, &used);
		break;
	case TLS_STARTTLS_POSTGRES:
		r = postgres_feed(st, in, n, &used);
		break;
	case TLS_STARTTLS_MYSQL:
		r = mysql_feed(st, in, n, send, &used);
		break;
	case TLS_STARTTLS_XMPP:
		r = xmpp_feed(st, in, n, send, &used);
		break;
	default:
		r = feed_lines(st, in, n, send, &used);
		break;
	}
	if (r != TLS_STARTTLS_FAIL && send->err)
		return fail(st, "cannot queue bytes to send (%s)",
			    send->err == -E2BIG ? "send buffer full" : "out of memory");
	if (r == TLS_STARTTLS_READY && (used < n || over))
		return fail_after_ready(st);
	if (r == TLS_STARTTLS_MORE && over)
		return fail(st, "more than %d bytes before TLS", TLS_STARTTLS_TOTAL_MAX);
	return r;
}

int tls_starttls_step(struct tls_starttls_state *st, const uint8_t *in, size_t n,
		      struct pp_buf *send)
{
	size_t before = send->len;
	int r = step(st, in, n, send);

	/* a failed dialog asks for nothing more (MySQL's SSLRequest before
	 * trailing bytes, say) */
	if (r == TLS_STARTTLS_FAIL && send->len > before) {
		send->len = before;
		send->data[before] = '\0';
	}
	return r;
}

int tls_starttls_abort(struct tls_starttls_state *st, const char *why)
{
	const char *w;

	if (st->result == TLS_STARTTLS_FAIL)
		return TLS_STARTTLS_FAIL;
	if (!why)
		why = "stopped";
	if (st->result == TLS_STARTTLS_READY) {
		const struct proto *pr = &protos[st->proto];

		return fail(st, "%s after the %s", why,
			    pr->answer     ? pr->answer
			    : pr->greeting ? pr->greeting
					   : "start");
	}
	w = waiting_for(st);
	if (!w)
		return fail(st, "%s before the dialog started", why);
	return fail(st, "%s while waiting for %s%s", why, w[0] == '<' ? "" : "the ", w);
}

const char *tls_starttls_error(const struct tls_starttls_state *st)
{
	return st->error;
}
