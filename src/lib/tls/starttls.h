/* starttls.h: the client side of STARTTLS and its cousins (SMTP, LMTP, IMAP,
 * POP3, FTP, NNTP, ManageSieve, LDAP, XMPP, PostgreSQL, MySQL) as pure state
 * machines over bytes: no sockets, no clock, no allocation.
 *
 * The engine connects, calls tls_starttls_step() once with no input (the
 * client's opening bytes for protocols where the client speaks first), then
 * after each read with the new bytes, and sends whatever the machine appended
 * to `send`, until the machine says READY (once `send` is flushed, the next
 * byte on the wire is the ClientHello) or FAIL (tls_starttls_error() says why,
 * prefixed with the protocol's name). Replies may be split at any byte and
 * several may arrive in one read. A line or message over
 * TLS_STARTTLS_MSG_MAX bytes, more than TLS_STARTTLS_TOTAL_MAX bytes before
 * READY, or any byte after the server's final go-ahead (which the TLS layer
 * would otherwise take as its own: libpq's CVE-2021-23222) is a FAIL. */
#ifndef PP_TLS_STARTTLS_H
#define PP_TLS_STARTTLS_H

#include <stddef.h>
#include <stdint.h>

#include "portprobe/buf.h"

#define TLS_STARTTLS_MSG_MAX   16384 /* longest reply line or message kept */
#define TLS_STARTTLS_TOTAL_MAX 65536 /* bytes accepted before READY */
#define TLS_STARTTLS_HOST_MAX  256   /* longest XMPP 'to' kept, NUL included */
#define TLS_STARTTLS_ERROR_MAX 256   /* error string, NUL included */

/* The plaintext preamble spoken before the ClientHello. */
enum tls_starttls {
	TLS_STARTTLS_NONE = 0, /* implicit TLS: READY at once */
	TLS_STARTTLS_SMTP,     /* RFC 3207: EHLO, STARTTLS, 220 */
	TLS_STARTTLS_LMTP,     /* RFC 2033: as SMTP with LHLO */
	TLS_STARTTLS_IMAP,     /* RFC 3501/9051: CAPABILITY, STARTTLS, OK */
	TLS_STARTTLS_POP3,     /* RFC 2595: STLS, +OK */
	TLS_STARTTLS_FTP,      /* RFC 4217: AUTH TLS, 234 */
	TLS_STARTTLS_LDAP,     /* RFC 4511/4513: StartTLS extended operation */
	TLS_STARTTLS_XMPP,     /* RFC 6120: client stream, <starttls/>, <proceed/> */
	TLS_STARTTLS_POSTGRES, /* SSLRequest, 'S' */
	TLS_STARTTLS_MYSQL,    /* handshake v10 with CLIENT_SSL, SSLRequest */
	TLS_STARTTLS_NNTP,     /* RFC 4642: STARTTLS, 382 */
	TLS_STARTTLS_SIEVE,    /* RFC 5804: capabilities, STARTTLS, OK */
};
#define TLS_STARTTLS_COUNT (TLS_STARTTLS_SIEVE + 1)

/* What tls_starttls_step() returns. */
enum tls_starttls_result {
	TLS_STARTTLS_FAIL = -1, /* give up: tls_starttls_error() says why */
	TLS_STARTTLS_MORE = 0,  /* send what was appended, then read */
	TLS_STARTTLS_READY = 1, /* send what was appended, then the ClientHello */
};

/* One connection's dialog. Plain data: no release needed; about 17 KiB. */
struct tls_starttls_state {
	enum tls_starttls proto;            /* the protocol spoken */
	int phase;                          /* where the dialog is (starttls.c's enum phase) */
	int result;                         /* TLS_STARTTLS_MORE until READY or FAIL */
	uint32_t total;                     /* bytes received so far */
	uint32_t len;                       /* bytes held in buf */
	uint32_t scan;                      /* xmpp: bytes of buf already scanned */
	char quote;                         /* xmpp: quote open at buf[scan], or 0 */
	int depth;                          /* xmpp: element depth (1 inside the stream) */
	int reply_code;                     /* numeric reply: the code, -1 outside a reply */
	unsigned reply_lines;               /* lines of the reply so far */
	int offered;                        /* STARTTLS was seen in the capabilities */
	int top;                            /* xmpp: kind of the open top-level element */
	int skip_line;                      /* sieve: the next line is a literal's text */
	char first[128];                    /* first line of the last reply, sanitised */
	char host[TLS_STARTTLS_HOST_MAX];   /* xmpp: the 'to' domain, "" for none */
	char error[TLS_STARTTLS_ERROR_MAX]; /* why it failed */
	uint8_t buf[TLS_STARTTLS_MSG_MAX];  /* the line or message being read */
};

/* Parses a protocol name ("smtp", "IMAP", "none", ...; case-insensitive)
 * into *out. 0, or -EINVAL with *out untouched. */
int tls_starttls_parse(const char *name, enum tls_starttls *out);
/* The lower-case name of a protocol ("none" for NONE, "unknown" for a value
 * outside the enum); static storage. */
const char *tls_starttls_name(enum tls_starttls proto);
/* The protocol that usually needs STARTTLS on a port (25 and 587 smtp, 24
 * lmtp, 143 imap, 110 pop3, 21 ftp, 389 ldap, 5222 xmpp, 5432 postgres,
 * 3306 mysql, 119 nntp, 4190 sieve); NONE for any other port, implicit-TLS
 * ports (465, 993, 995, 636, 5223, ...) included. */
enum tls_starttls tls_starttls_for_port(uint16_t port);

/* Starts a dialog. host (borrowed, copied; NULL or "" for none) is the XMPP
 * stream's 'to' domain: the name the user gave, or the IP address (IPv6 is
 * bracketed, a %scope dropped, XML-escaped); other protocols ignore it. A
 * host with spaces or control characters, or that does not fit in
 * TLS_STARTTLS_HOST_MAX so written, or a proto outside the enum, leaves the
 * dialog failed: the first step returns FAIL with the reason. */
void tls_starttls_init(struct tls_starttls_state *st, enum tls_starttls proto, const char *host);
/* Feeds n bytes the server sent (n == 0: nothing new; the first call makes
 * the client's opening bytes). Appends the bytes to send to `send` (owned by
 * the caller; on READY it may hold the last request, MySQL's SSLRequest,
 * to send before the ClientHello; on FAIL nothing is appended). Returns
 * TLS_STARTTLS_MORE, TLS_STARTTLS_READY or TLS_STARTTLS_FAIL. READY and FAIL
 * stick: after READY a call with bytes fails, one without returns READY. */
int tls_starttls_step(struct tls_starttls_state *st, const uint8_t *in, size_t n,
		      struct pp_buf *send);
/* Ends the dialog from outside: why ("connection closed", "timed out") is
 * reported as "smtp: connection closed while waiting for the EHLO reply".
 * Keeps an earlier failure. Returns TLS_STARTTLS_FAIL. */
int tls_starttls_abort(struct tls_starttls_state *st, const char *why);
/* Why the dialog failed ("smtp: STARTTLS not offered in EHLO reply"), or ""
 * while it has not. Server text in it is cut to about 100 bytes and anything
 * but printable ASCII becomes '?'. Points into st. */
const char *tls_starttls_error(const struct tls_starttls_state *st);

#endif
