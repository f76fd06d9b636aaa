/* pp_starttls: the TLS lab's test server: STARTTLS preambles of ten protocols, plain TLS, and hostile peers. */

/*
 * Design: one listening socket; every accepted connection is served by a
 * forked child (at most max_children at once) so that a client that stalls,
 * or a scanner that opens many connections in parallel, never blocks the
 * others. A child is bounded twice: alarm(--timeout) kills it (SIGALRM's
 * default action), and PR_SET_PDEATHSIG kills it when the parent goes, so
 * stopping the parent by PID stops everything it started.
 *
 * STARTTLS modes speak the plaintext preamble the way a real server does
 * (greeting, capability listing, refusal of authentication before TLS, the
 * "go ahead" reply), then hand the same fd to SSL_accept. Bytes a client
 * pipelined after the STARTTLS command are discarded, as fixed servers do
 * since CVE-2011-0411 (MySQL has no go-ahead reply, so its preamble reads
 * exactly up to the end of the SSLRequest). After the handshake the child echoes what it reads
 * (sieve first re-sends its capabilities, as RFC 5804 requires) until the
 * peer closes, the echo cap is reached or the alarm fires.
 *
 * Hostile modes need no TLS library: they read the ClientHello record and
 * then send garbage, send a truncated record and stall, stall silently,
 * reset the connection, or send a ServerHello followed by a Certificate
 * message of more than 1 MiB made of the given certificate repeated.
 *
 * Readiness is announced like pp_listen: "ready" on stdout, or a file
 * written to a temporary name and renamed into place. SIGTERM/SIGINT stop
 * the parent; they are blocked except inside ppoll(), so none is lost.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "lab_listen.h"

enum {
	max_children = 64,     /* concurrent connections served */
	in_cap = 8192,         /* plaintext bytes buffered per connection */
	line_cap = 1024,       /* longest accepted command line */
	echo_cap = 64 * 1024,  /* bytes echoed after the handshake */
	hello_wait_ms = 3000,  /* hostile modes: wait for the ClientHello */
	record_cap = 16384,    /* TLS plaintext fragment limit */
	bigcert_min = 1048577, /* Certificate message body: more than 1 MiB */
};

/* One client connection in plaintext: the fd and what was read but not consumed. */
struct conn {
	int fd;                   /* the accepted socket (blocking) */
	unsigned char in[in_cap]; /* bytes read and not yet consumed */
	size_t in_len;            /* bytes valid in in[] */
};

/* Settings shared by every connection (read-only after main()). */
struct server {
	const char *mode;                /* the mode name from the command line */
	int (*preamble)(struct conn *c); /* STARTTLS preamble; NULL for plain TLS */
	void (*hostile)(struct conn *c, const struct server *srv); /* hostile mode */
	SSL_CTX *ctx;       /* TLS context; NULL in hostile modes */
	unsigned char *der; /* bigcert: the certificate in DER */
	size_t der_len;     /* bigcert: its length */
	unsigned timeout;   /* seconds a connection may live */
};

static volatile sig_atomic_t stop_requested;

/* Signal handler for SIGTERM and SIGINT: asks the main loop to stop. */
static void on_stop_signal(int signo)
{
	(void)signo;
	stop_requested = 1;
}

/* SIGCHLD handler: only interrupts ppoll() so that children are reaped. */
static void on_child_signal(int signo)
{
	(void)signo;
}

/* Prints the usage text to out. */
static void usage(FILE *out)
{
	fputs(
	    "usage: pp_starttls [--ready-file PATH] [--chain PEM] [--cipher LIST]\n"
	    "                   [--ciphersuites LIST] [--timeout SECS] MODE ADDR:PORT [CERT KEY]\n"
	    "  STARTTLS modes (CERT and KEY required):\n"
	    "    smtp imap pop3 ftp ldap xmpp postgres mysql nntp sieve, and tls (no preamble)\n"
	    "  hostile modes (no TLS):\n"
	    "    garbage    reads the ClientHello, answers 1 KiB that is not TLS, closes\n"
	    "    truncated  reads the ClientHello, sends 15 bytes of a 79-byte record, stalls\n"
	    "    stall      accepts and never answers\n"
	    "    reset      reads the ClientHello, closes with a TCP reset (SO_LINGER 0)\n"
	    "    bigcert    reads the ClientHello, sends ServerHello, a Certificate message of\n"
	    "               more than 1 MiB (CERT repeated; KEY unused), ServerHelloDone\n"
	    "  ADDR is an IPv4 address or [IPv6]. Each connection lives at most --timeout\n"
	    "  seconds (default 10). Prints or writes \"ready\" once listening; SIGTERM stops.\n",
	    out);
}

/* ---------------------------------------------------------------- plaintext I/O */

/* Writes all len bytes of data to c; returns 0, or -1 on error. */
static int conn_send(struct conn *c, const void *data, size_t len)
{
	const unsigned char *p = data;

	while (len > 0) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Writes the NUL-terminated text to c in one call; returns 0 or -1. */
static int conn_sendz(struct conn *c, const char *text)
{
	return conn_send(c, text, strlen(text));
}

/* Reads more bytes into c->in; returns the count, 0 at EOF, -1 on error or a full buffer. */
static int conn_fill(struct conn *c)
{
	ssize_t n;

	if (c->in_len >= sizeof(c->in)) {
		return -1;
	}
	do {
		n = read(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		return -1;
	}
	c->in_len += (size_t)n;
	return (int)n;
}

/* Drops the first n buffered bytes of c. */
static void conn_consume(struct conn *c, size_t n)
{
	memmove(c->in, c->in + n, c->in_len - n);
	c->in_len -= n;
}

/*
 * Reads one line (LF or CRLF terminated) into line (cap bytes, NUL-terminated,
 * without the line end); returns its length, or -1 at EOF, on error, or when
 * the line is longer than cap - 1 or line_cap.
 */
static int conn_line(struct conn *c, char *line, size_t cap)
{
	for (;;) {
		unsigned char *nl = memchr(c->in, '\n', c->in_len);

		if (nl != NULL) {
			size_t len = (size_t)(nl - c->in);
			size_t used = len + 1;

			if (len > 0 && c->in[len - 1] == '\r') {
				len--;
			}
			if (len >= cap || len >= line_cap) {
				return -1;
			}
			memcpy(line, c->in, len);
			line[len] = '\0';
			conn_consume(c, used);
			return (int)len;
		}
		if (c->in_len >= line_cap || conn_fill(c) <= 0) {
			return -1;
		}
	}
}

/*
 * Reads exactly n bytes into out (n <= in_cap); returns 0 or -1 at EOF or on
 * error. It never reads past them: a MySQL client sends its ClientHello right
 * behind the SSLRequest packet, without waiting for an answer.
 */
static int conn_bytes(struct conn *c, void *out, size_t n)
{
	if (n > sizeof(c->in)) {
		return -1;
	}
	while (c->in_len < n) {
		ssize_t got = read(c->fd, c->in + c->in_len, n - c->in_len);

		if (got < 0 && errno == EINTR) {
			continue;
		}
		if (got <= 0) {
			return -1;
		}
		c->in_len += (size_t)got;
	}
	memcpy(out, c->in, n);
	conn_consume(c, n);
	return 0;
}

/* Splits line into its first word (upper-cased into verb, cap bytes) and the rest; returns the rest. */
static const char *split_verb(const char *line, char *verb, size_t cap)
{
	size_t i = 0;

	while (*line == ' ') {
		line++;
	}
	while (*line != '\0' && *line != ' ' && i + 1 < cap) {
		char ch = *line++;

		verb[i++] = (ch >= 'a' && ch <= 'z') ? (char)(ch - 'a' + 'A') : ch;
	}
	verb[i] = '\0';
	while (*line != '\0' && *line != ' ') {
		line++; /* a verb longer than cap: the rest of it is ignored */
	}
	while (*line == ' ') {
		line++;
	}
	return line;
}

/* ---------------------------------------------------------------- STARTTLS preambles */

/*
 * Each preamble returns 0 when the client asked for TLS and was told to go
 * ahead, -1 when the connection must be closed. They follow the RFCs:
 * SMTP 3207, IMAP 3501/2595, POP3 2449/2595, FTP 4217, LDAP 4511 4.14,
 * XMPP 6120 5.4, NNTP 4642, ManageSieve 5804, PostgreSQL's SSLRequest and
 * MySQL's Protocol::HandshakeV10 / SSLRequest.
 */

/* SMTP (RFC 3207): 220 banner, EHLO lists STARTTLS, STARTTLS after EHLO gets 220. */
static int preamble_smtp(struct conn *c)
{
	char line[line_cap], verb[16];
	int greeted = 0;

	if (conn_sendz(c, "220 tls.lab.test ESMTP pp_starttls\r\n") != 0) {
		return -1;
	}
	while (conn_line(c, line, sizeof(line)) >= 0) {
		const char *reply;

		split_verb(line, verb, sizeof(verb));
		if (strcmp(verb, "EHLO") == 0) {
			greeted = 1;
			reply = "250-tls.lab.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"
				"250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n";
		} else if (strcmp(verb, "HELO") == 0) {
			greeted = 1;
			reply = "250 tls.lab.test\r\n";
		} else if (strcmp(verb, "STARTTLS") == 0) {
			if (!greeted) {
				reply = "503 5.5.1 Error: send HELO/EHLO first\r\n";
			} else {
				return conn_sendz(c, "220 2.0.0 Ready to start TLS\r\n");
			}
		} else if (strcmp(verb, "QUIT") == 0) {
			conn_sendz(c, "221 2.0.0 Bye\r\n");
			return -1;
		} else if (strcmp(verb, "NOOP") == 0 || strcmp(verb, "RSET") == 0) {
			reply = "250 2.0.0 Ok\r\n";
		} else if (strcmp(verb, "MAIL") == 0 || strcmp(verb, "RCPT") == 0 ||
			   strcmp(verb, "DATA") == 0 || strcmp(verb, "AUTH") == 0) {
			reply = "530 5.7.0 Must issue a STARTTLS command first\r\n";
		} else {
			reply = "502 5.5.2 Error: command not recognized\r\n";
		}
		if (conn_sendz(c, reply) != 0) {
			return -1;
		}
	}
	return -1;
}

/* IMAP (RFC 3501): "* OK" greeting with capabilities, tagged CAPABILITY and STARTTLS. */
static int preamble_imap(struct conn *c)
{
	static const char caps[] = "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ "
				   "STARTTLS LOGINDISABLED";
	char line[line_cap], tag[64], verb[32], reply[512];

	snprintf(reply, sizeof(reply), "* OK [CAPABILITY %s] pp_starttls IMAP ready.\r\n", caps);
	if (conn_sendz(c, reply) != 0) {
		return -1;
	}
	while (conn_line(c, line, sizeof(line)) >= 0) {
		const char *rest = line;
		size_t n = 0;

		while (*rest != '\0' && *rest != ' ' && n + 1 < sizeof(tag)) {
			tag[n++] = *rest++;
		}
		tag[n] = '\0';
		if (n == 0 || *rest != ' ') {
			if (conn_sendz(c, "* BAD Error in IMAP command received by server.\r\n") !=
			    0) {
				return -1;
			}
			continue;
		}
		split_verb(rest, verb, sizeof(verb));
		if (strcmp(verb, "CAPABILITY") == 0) {
			snprintf(reply, sizeof(reply),
				 "* CAPABILITY %s\r\n%s OK Pre-login capabilities listed.\r\n",
				 caps, tag);
		} else if (strcmp(verb, "STARTTLS") == 0) {
			snprintf(reply, sizeof(reply), "%s OK Begin TLS negotiation now.\r\n", tag);
			return conn_sendz(c, reply);
		} else if (strcmp(verb, "NOOP") == 0) {
			snprintf(reply, sizeof(reply), "%s OK NOOP completed.\r\n", tag);
		} else if (strcmp(verb, "LOGOUT") == 0) {
			snprintf(reply, sizeof(reply),
				 "* BYE Logging out\r\n%s OK Logout completed.\r\n", tag);
			conn_sendz(c, reply);
			return -1;
		} else if (strcmp(verb, "LOGIN") == 0 || strcmp(verb, "AUTHENTICATE") == 0) {
			snprintf(reply, sizeof(reply),
				 "%s NO [PRIVACYREQUIRED] Plaintext authentication disallowed on "
				 "non-secure (SSL/TLS) connections.\r\n",
				 tag);
		} else {
			snprintf(reply, sizeof(reply),
				 "%s BAD Error in IMAP command received by server.\r\n", tag);
		}
		if (conn_sendz(c, reply) != 0) {
			return -1;
		}
	}
	return -1;
}

/* POP3 (RFC 2449, 2595): +OK greeting, CAPA lists STLS, STLS gets +OK. */
static int preamble_pop3(struct conn *c)
{
	char line[line_cap], verb[16];

	if (conn_sendz(c, "+OK pp_starttls POP3 ready.\r\n") != 0) {
		return -1;
	}
	while (conn_line(c, line, sizeof(line)) >= 0) {
		const char *reply;

		split_verb(line, verb, sizeof(verb));
		if (strcmp(verb, "CAPA") == 0) {
			reply = "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-"
				"CODES\r\nPIPELINING\r\nSTLS\r\n.\r\n";
		} else if (strcmp(verb, "STLS") == 0) {
			return conn_sendz(c, "+OK Begin TLS negotiation now.\r\n");
		} else if (strcmp(verb, "QUIT") == 0) {
			conn_sendz(c, "+OK Logging out.\r\n");
			return -1;
		} else if (strcmp(verb, "NOOP") == 0) {
			reply = "+OK\r\n";
		} else if (strcmp(verb, "USER") == 0 || strcmp(verb, "PASS") == 0 ||
			   strcmp(verb, "APOP") == 0 || strcmp(verb, "AUTH") == 0) {
			reply = "-ERR [AUTH] Plaintext authentication disallowed on non-secure "
				"(SSL/TLS) "
				"connections.\r\n";
		} else {
			reply = "-ERR Unknown command.\r\n";
		}
		if (conn_sendz(c, reply) != 0) {
			return -1;
		}
	}
	return -1;
}

/* FTP (RFC 4217): 220 banner, FEAT lists AUTH TLS, AUTH TLS (or SSL, TLS-C) gets 234. */
static int preamble_ftp(struct conn *c)
{
	char line[line_cap], verb[16];

	if (conn_sendz(c, "220 pp_starttls FTP ready.\r\n") != 0) {
		return -1;
	}
	while (conn_line(c, line, sizeof(line)) >= 0) {
		const char *reply;
		const char *arg = split_verb(line, verb, sizeof(verb));

		if (strcmp(verb, "FEAT") == 0) {
			reply =
			    "211-Features:\r\n AUTH TLS\r\n PBSZ\r\n PROT\r\n UTF8\r\n211 End\r\n";
		} else if (strcmp(verb, "AUTH") == 0) {
			if (strcasecmp(arg, "TLS") == 0 || strcasecmp(arg, "TLS-C") == 0 ||
			    strcasecmp(arg, "SSL") == 0) {
				return conn_sendz(c, "234 Proceed with negotiation.\r\n");
			}
			reply = "504 Unknown AUTH type.\r\n";
		} else if (strcmp(verb, "QUIT") == 0) {
			conn_sendz(c, "221 Goodbye.\r\n");
			return -1;
		} else if (strcmp(verb, "NOOP") == 0) {
			reply = "200 NOOP ok.\r\n";
		} else if (strcmp(verb, "USER") == 0 || strcmp(verb, "PASS") == 0) {
			reply = "530 Non-anonymous sessions must use encryption.\r\n";
		} else {
			reply = "530 Please login with USER and PASS.\r\n";
		}
		if (conn_sendz(c, reply) != 0) {
			return -1;
		}
	}
	return -1;
}

/* NNTP (RFC 4642, 3977): 200 banner, CAPABILITIES lists STARTTLS, STARTTLS gets 382. */
static int preamble_nntp(struct conn *c)
{
	char line[line_cap], verb[16];

	if (conn_sendz(c, "200 pp_starttls NNTP service ready, posting allowed\r\n") != 0) {
		return -1;
	}
	while (conn_line(c, line, sizeof(line)) >= 0) {
		const char *reply;

		split_verb(line, verb, sizeof(verb));
		if (strcmp(verb, "CAPABILITIES") == 0) {
			reply = "101 Capability list:\r\nVERSION 2\r\nREADER\r\nSTARTTLS\r\n"
				"LIST ACTIVE NEWSGROUPS\r\n.\r\n";
		} else if (strcmp(verb, "STARTTLS") == 0) {
			return conn_sendz(c, "382 Continue with TLS negotiation\r\n");
		} else if (strcmp(verb, "QUIT") == 0) {
			conn_sendz(c, "205 Connection closing\r\n");
			return -1;
		} else if (strcmp(verb, "AUTHINFO") == 0) {
			reply = "483 Encryption or stronger authentication required\r\n";
		} else {
			reply = "500 Unknown command\r\n";
		}
		if (conn_sendz(c, reply) != 0) {
			return -1;
		}
	}
	return -1;
}

/* The ManageSieve capability listing before TLS (with STARTTLS) or after it. */
static const char sieve_caps_plain[] =
    "\"IMPLEMENTATION\" \"pp_starttls\"\r\n\"SIEVE\" \"fileinto reject envelope vacation\"\r\n"
    "\"NOTIFY\" \"mailto\"\r\n\"SASL\" \"\"\r\n\"STARTTLS\"\r\n\"VERSION\" \"1.0\"\r\n";
static const char sieve_caps_tls[] =
    "\"IMPLEMENTATION\" \"pp_starttls\"\r\n\"SIEVE\" \"fileinto reject envelope vacation\"\r\n"
    "\"NOTIFY\" \"mailto\"\r\n\"SASL\" \"PLAIN\"\r\n\"VERSION\" \"1.0\"\r\n"
    "OK \"TLS negotiation successful.\"\r\n";

/* ManageSieve (RFC 5804): capabilities on connect, STARTTLS gets OK. */
static int preamble_sieve(struct conn *c)
{
	char line[line_cap], verb[16], reply[512];

	snprintf(reply, sizeof(reply), "%sOK \"pp_starttls ManageSieve ready.\"\r\n",
		 sieve_caps_plain);
	if (conn_sendz(c, reply) != 0) {
		return -1;
	}
	while (conn_line(c, line, sizeof(line)) >= 0) {
		split_verb(line, verb, sizeof(verb));
		if (strcmp(verb, "CAPABILITY") == 0) {
			snprintf(reply, sizeof(reply), "%sOK \"Capability completed.\"\r\n",
				 sieve_caps_plain);
		} else if (strcmp(verb, "STARTTLS") == 0) {
			return conn_sendz(c, "OK \"Begin TLS negotiation now.\"\r\n");
		} else if (strcmp(verb, "LOGOUT") == 0) {
			conn_sendz(c, "OK \"Logout completed.\"\r\n");
			return -1;
		} else if (strcmp(verb, "AUTHENTICATE") == 0) {
			snprintf(reply, sizeof(reply),
				 "NO \"Plaintext authentication disallowed on non-secure "
				 "connections.\"\r\n");
		} else {
			snprintf(reply, sizeof(reply), "NO \"Unknown command.\"\r\n");
		}
		if (conn_sendz(c, reply) != 0) {
			return -1;
		}
	}
	return -1;
}

/* Finds needle in the first len bytes of hay; returns its offset or -1. */
static long find_bytes(const unsigned char *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle);
	size_t i;

	for (i = 0; n <= len && i <= len - n; i++) {
		if (memcmp(hay + i, needle, n) == 0) {
			return (long)i;
		}
	}
	return -1;
}

/* XMPP (RFC 6120 5.4): stream header and features with <starttls/>, then <proceed/>. */
static int preamble_xmpp(struct conn *c)
{
	char reply[768];
	long start, end;
	const char *ns;

	/* the client's stream header: "<stream:stream ... >" (an XML declaration may precede it) */
	for (;;) {
		start = find_bytes(c->in, c->in_len, "<stream:stream");
		if (start >= 0) {
			const unsigned char *gt =
			    memchr(c->in + start, '>', c->in_len - (size_t)start);

			if (gt != NULL) {
				end = (long)(gt - c->in) + 1;
				break;
			}
		}
		if (conn_fill(c) <= 0) {
			return -1;
		}
	}
	ns = find_bytes(c->in + start, (size_t)(end - start), "jabber:server") >= 0
		 ? "jabber:server"
		 : "jabber:client";
	conn_consume(c, (size_t)end);
	snprintf(reply, sizeof(reply),
		 "<?xml version='1.0'?><stream:stream xmlns='%s' "
		 "xmlns:stream='http://etherx.jabber.org/streams' id='pplab-1' "
		 "from='tls.lab.test' version='1.0' xml:lang='en'><stream:features>"
		 "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"
		 "</stream:features>",
		 ns);
	if (conn_sendz(c, reply) != 0) {
		return -1;
	}
	/* then <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/> (or an empty element pair) */
	for (;;) {
		if (find_bytes(c->in, c->in_len, "</stream:stream>") >= 0) {
			conn_sendz(c, "</stream:stream>");
			return -1;
		}
		start = find_bytes(c->in, c->in_len, "<starttls");
		if (start >= 0 &&
		    (find_bytes(c->in + start, c->in_len - (size_t)start, "/>") >= 0 ||
		     find_bytes(c->in + start, c->in_len - (size_t)start, "</starttls>") >= 0)) {
			return conn_sendz(c, "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
		}
		if (conn_fill(c) <= 0) {
			return -1;
		}
	}
}

/* Reads a big-endian 32-bit value. */
static uint32_t get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* PostgreSQL: SSLRequest (length 8, code 80877103) gets 'S'; GSSENCRequest gets 'N'. */
static int preamble_postgres(struct conn *c)
{
	static const char fatal[] = "SFATAL\0VFATAL\0C28000\0Mconnection requires SSL";
	unsigned char msg[8];

	for (;;) {
		uint32_t len, code;

		if (conn_bytes(c, msg, sizeof(msg)) != 0) {
			return -1;
		}
		len = get_be32(msg);
		code = get_be32(msg + 4);
		if (len == 8 && code == 80877103) {
			return conn_send(c, "S", 1);
		}
		if (len == 8 && code == 80877104) {
			if (conn_send(c, "N", 1) != 0) {
				return -1;
			}
			continue;
		}
		/* a StartupMessage without SSL: ErrorResponse, as with "hostssl" only in pg_hba.conf */
		{
			unsigned char err[1 + 4 + sizeof(fatal) + 1];
			uint32_t elen = (uint32_t)(4 + sizeof(fatal) + 1);

			err[0] = 'E';
			err[1] = (unsigned char)(elen >> 24);
			err[2] = (unsigned char)(elen >> 16);
			err[3] = (unsigned char)(elen >> 8);
			err[4] = (unsigned char)elen;
			memcpy(err + 5, fatal, sizeof(fatal)); /* with the last field's NUL */
			err[sizeof(err) - 1] = '\0';           /* the end of the field list */
			conn_send(c, err, sizeof(err));
		}
		return -1;
	}
}

/* MySQL capability flags used below. */
enum {
	mysql_long_password = 0x1,
	mysql_found_rows = 0x2,
	mysql_long_flag = 0x4,
	mysql_connect_with_db = 0x8,
	mysql_protocol_41 = 0x200,
	mysql_ssl = 0x800,
	mysql_transactions = 0x2000,
	mysql_secure_connection = 0x8000,
	mysql_multi_statements = 0x10000,
	mysql_multi_results = 0x20000,
	mysql_plugin_auth = 0x80000,
	mysql_connect_attrs = 0x100000,
};

/* MySQL: Protocol::HandshakeV10 with CLIENT_SSL; a client packet with CLIENT_SSL starts TLS. */
static int preamble_mysql(struct conn *c)
{
	static const char version[] = "8.0.36-pp_starttls";
	static const char plugin[] = "caching_sha2_password";
	const uint32_t caps =
	    mysql_long_password | mysql_found_rows | mysql_long_flag | mysql_connect_with_db |
	    mysql_protocol_41 | mysql_ssl | mysql_transactions | mysql_secure_connection |
	    mysql_multi_statements | mysql_multi_results | mysql_plugin_auth | mysql_connect_attrs;
	unsigned char pkt[128], hdr[4], body[in_cap];
	size_t n = 4;
	uint32_t len, client_caps;

	pkt[n++] = 10; /* protocol version */
	memcpy(pkt + n, version, sizeof(version));
	n += sizeof(version);
	memcpy(pkt + n, "\x01\x00\x00\x00", 4); /* connection id */
	n += 4;
	memcpy(pkt + n, "pplab-sa", 8); /* auth-plugin-data part 1 */
	n += 8;
	pkt[n++] = 0; /* filler */
	pkt[n++] = (unsigned char)(caps & 0xff);
	pkt[n++] = (unsigned char)((caps >> 8) & 0xff);
	pkt[n++] = 0xff; /* character set utf8mb4_0900_ai_ci */
	pkt[n++] = 0x02; /* status: SERVER_STATUS_AUTOCOMMIT */
	pkt[n++] = 0x00;
	pkt[n++] = (unsigned char)((caps >> 16) & 0xff);
	pkt[n++] = (unsigned char)((caps >> 24) & 0xff);
	pkt[n++] = 21; /* length of auth-plugin-data */
	memset(pkt + n, 0, 10);
	n += 10;
	memcpy(pkt + n, "lt-pp-lab-xy", 12); /* auth-plugin-data part 2 ... */
	n += 12;
	pkt[n++] = 0; /* ... and its terminating NUL (13 bytes) */
	memcpy(pkt + n, plugin, sizeof(plugin));
	n += sizeof(plugin);
	pkt[0] = (unsigned char)((n - 4) & 0xff);
	pkt[1] = (unsigned char)(((n - 4) >> 8) & 0xff);
	pkt[2] = 0;
	pkt[3] = 0; /* sequence id */
	if (conn_send(c, pkt, n) != 0) {
		return -1;
	}
	/* the client's SSLRequest (32 bytes) or a HandshakeResponse41 */
	if (conn_bytes(c, hdr, sizeof(hdr)) != 0) {
		return -1;
	}
	len = (uint32_t)hdr[0] | (uint32_t)hdr[1] << 8 | (uint32_t)hdr[2] << 16;
	if (len < 4 || len > sizeof(body) || conn_bytes(c, body, len) != 0) {
		return -1;
	}
	client_caps = (uint32_t)body[0] | (uint32_t)body[1] << 8 | (uint32_t)body[2] << 16 |
		      (uint32_t)body[3] << 24;
	if (client_caps & mysql_ssl) {
		return 0;
	}
	{
		/* ERR_Packet: ER_SECURE_TRANSPORT_REQUIRED (3159), SQL state HY000 */
		static const char msg[] = "Connections using insecure transport are prohibited "
					  "while --require_secure_transport=ON.";
		unsigned char err[4 + 9 + sizeof(msg)];
		size_t elen = 9 + sizeof(msg) - 1;

		err[0] = (unsigned char)elen;
		err[1] = 0;
		err[2] = 0;
		err[3] = (unsigned char)(hdr[3] + 1);
		err[4] = 0xff;
		err[5] = 3159 & 0xff;
		err[6] = 3159 >> 8;
		memcpy(err + 7, "#HY000", 6);
		memcpy(err + 13, msg, sizeof(msg) - 1);
		conn_send(c, err, 4 + elen);
	}
	return -1;
}

/* The StartTLS OID (RFC 4511 4.14.1). */
static const char ldap_starttls_oid[] = "1.3.6.1.4.1.1466.20037";

/*
 * Reads one BER header at *p (end bounds it): tag and definite length of at
 * most 2 length bytes; returns 0 and advances *p, or -1.
 */
static int ber_header(const unsigned char **p, const unsigned char *end, unsigned *tag, size_t *len)
{
	const unsigned char *q = *p;

	if (end - q < 2) {
		return -1;
	}
	*tag = *q++;
	if (*q < 0x80) {
		*len = *q++;
	} else if (*q == 0x81 && end - q >= 2) {
		*len = q[1];
		q += 2;
	} else if (*q == 0x82 && end - q >= 3) {
		*len = (size_t)q[1] << 8 | q[2];
		q += 3;
	} else {
		return -1;
	}
	if ((size_t)(end - q) < *len) {
		return -1;
	}
	*p = q;
	return 0;
}

/* LDAP (RFC 4511 4.14): ExtendedRequest with the StartTLS OID gets an ExtendedResponse success. */
static int preamble_ldap(struct conn *c)
{
	unsigned char msg[in_cap], reply[64];
	const unsigned char *p, *end, *id;
	size_t len, id_len, hdr_len, n, oid_len, resp_len;
	unsigned tag;

	/* the LDAPMessage SEQUENCE: read its header, then its body */
	while (c->in_len < 2 || (c->in[1] >= 0x80 && c->in_len < 2 + (size_t)(c->in[1] & 0x7f))) {
		if (conn_fill(c) <= 0) {
			return -1;
		}
	}
	if (c->in[0] != 0x30) {
		return -1;
	}
	if (c->in[1] < 0x80) {
		hdr_len = 2;
		len = c->in[1];
	} else if (c->in[1] == 0x81) {
		hdr_len = 3;
		len = c->in[2];
	} else if (c->in[1] == 0x82) {
		hdr_len = 4;
		len = (size_t)c->in[2] << 8 | c->in[3];
	} else {
		return -1;
	}
	if (hdr_len + len > sizeof(msg) || conn_bytes(c, msg, hdr_len + len) != 0) {
		return -1;
	}
	p = msg + hdr_len;
	end = p + len;
	/* messageID INTEGER */
	if (ber_header(&p, end, &tag, &id_len) != 0 || tag != 0x02 || id_len < 1 || id_len > 4) {
		return -1;
	}
	id = p;
	p += id_len;
	/* extendedReq [APPLICATION 23] { requestName [0] LDAPOID } */
	if (ber_header(&p, end, &tag, &len) != 0 || tag != 0x77) {
		return -1; /* another operation: a server wanting TLS first would refuse it */
	}
	end = p + len;
	if (ber_header(&p, end, &tag, &len) != 0 || tag != 0x80 ||
	    len != sizeof(ldap_starttls_oid) - 1 || memcmp(p, ldap_starttls_oid, len) != 0) {
		return -1;
	}
	/*
	 * LDAPMessage { messageID, extendedResp [APPLICATION 24] { resultCode success,
	 * matchedDN "", diagnosticMessage "", responseName [10] the StartTLS OID } }
	 */
	oid_len = sizeof(ldap_starttls_oid) - 1;
	resp_len = 7 + 2 + oid_len;
	n = 0;
	reply[n++] = 0x30;
	reply[n++] = (unsigned char)(2 + id_len + 2 + resp_len);
	reply[n++] = 0x02;
	reply[n++] = (unsigned char)id_len;
	memcpy(reply + n, id, id_len);
	n += id_len;
	reply[n++] = 0x78;
	reply[n++] = (unsigned char)resp_len;
	memcpy(reply + n, "\x0a\x01\x00\x04\x00\x04\x00", 7);
	n += 7;
	reply[n++] = 0x8a;
	reply[n++] = (unsigned char)oid_len;
	memcpy(reply + n, ldap_starttls_oid, oid_len);
	n += oid_len;
	return conn_send(c, reply, n);
}

/* ---------------------------------------------------------------- hostile modes */

/*
 * Waits up to hello_wait_ms for the client's first TLS record (5-byte header
 * plus body, capped by in_cap) and leaves what arrived in c->in; returns the
 * number of bytes buffered (possibly 0 if the client sent nothing).
 */
static size_t read_client_hello(struct conn *c)
{
	for (;;) {
		struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
		size_t want = 5;

		if (c->in_len >= 5) {
			want = 5 + ((size_t)c->in[3] << 8 | c->in[4]);
		}
		if (c->in_len >= want || c->in_len >= sizeof(c->in)) {
			break;
		}
		if (poll(&pfd, 1, hello_wait_ms) <= 0 || conn_fill(c) <= 0) {
			break;
		}
	}
	return c->in_len;
}

/* Keeps the connection open and silent until the peer closes it (or the alarm fires). */
static void stall(struct conn *c)
{
	unsigned char sink[4096];

	for (;;) {
		ssize_t n = read(c->fd, sink, sizeof(sink));

		if (n == 0 || (n < 0 && errno != EINTR)) {
			return;
		}
	}
}

/* garbage: 1 KiB that is no TLS record (first byte 'p', not a content type), then close. */
static void hostile_garbage(struct conn *c, const struct server *srv)
{
	static const char text[] = "pp_starttls garbage: this is not a TLS ServerHello\r\n";
	unsigned char out[1024];
	uint32_t x = 0x2545f491;
	size_t i;

	(void)srv;
	read_client_hello(c);
	memcpy(out, text, sizeof(text) - 1);
	for (i = sizeof(text) - 1; i < sizeof(out); i++) {
		x = x * 1103515245u + 12345u; /* fixed bytes from a linear congruential generator */
		out[i] = (unsigned char)(x >> 24);
	}
	conn_send(c, out, sizeof(out));
	shutdown(c->fd, SHUT_WR);
}

/* truncated: the first 15 bytes of a 79-byte ServerHello record, then silence. */
static void hostile_truncated(struct conn *c, const struct server *srv)
{
	static const unsigned char part[] = {
	    0x16, 0x03, 0x03, 0x00, 0x4a,       /* handshake record, TLS 1.2, 74 bytes */
	    0x02, 0x00, 0x00, 0x46,             /* ServerHello, 70 bytes */
	    0x03, 0x03, 0x70, 0x70, 0x6c, 0x61, /* version, the first 4 random bytes */
	};

	(void)srv;
	read_client_hello(c);
	if (conn_send(c, part, sizeof(part)) == 0) {
		stall(c);
	}
}

/* stall: accept and never answer. */
static void hostile_stall(struct conn *c, const struct server *srv)
{
	(void)srv;
	stall(c);
}

/* reset: read the ClientHello, then close with SO_LINGER 0 so the kernel sends RST. */
static void hostile_reset(struct conn *c, const struct server *srv)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	(void)srv;
	read_client_hello(c);
	setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(c->fd);
	c->fd = -1;
}

/* What bigcert takes from the ClientHello. */
struct hello_choice {
	unsigned version; /* legacy_version to answer with (<= 0x0303) */
	unsigned suite;   /* the suite to name in the ServerHello */
	int reneg;        /* the client offered renegotiation_info or its SCSV */
};

/*
 * Picks a version and suite from the ClientHello in buf (a TLS record);
 * prefers TLS_RSA_WITH_AES_128_GCM_SHA256 and TLS_RSA_WITH_AES_128_CBC_SHA
 * (static RSA: Certificate and ServerHelloDone are then the whole server
 * flight), else the first TLS <= 1.2 suite. Anything malformed keeps the
 * defaults (TLS 1.2, 0x009C).
 */
static void choose_from_hello(const unsigned char *buf, size_t len, struct hello_choice *out)
{
	const unsigned char *p = buf + 9, *end = buf + len;
	size_t n, i;
	unsigned first = 0;
	int have_9c = 0, have_2f = 0;

	out->version = 0x0303;
	out->suite = 0x009c;
	out->reneg = 0;
	if (len < 9 + 2 + 32 + 1 || buf[0] != 0x16 || buf[5] != 0x01) {
		return;
	}
	if (((unsigned)p[0] << 8 | p[1]) >= 0x0301 && ((unsigned)p[0] << 8 | p[1]) < 0x0303) {
		out->version = (unsigned)p[0] << 8 | p[1];
	}
	p += 2 + 32;
	n = *p++; /* session id */
	if ((size_t)(end - p) < n + 2) {
		return;
	}
	p += n;
	n = (size_t)p[0] << 8 | p[1];
	p += 2;
	if ((size_t)(end - p) < n) {
		return;
	}
	for (i = 0; i + 1 < n; i += 2) {
		unsigned s = (unsigned)p[i] << 8 | p[i + 1];

		if (s == 0x00ff) {
			out->reneg = 1;
		} else if (s == 0x009c) {
			have_9c = 1;
		} else if (s == 0x002f) {
			have_2f = 1;
		} else if (first == 0 && (s >> 8) != 0x13 && s != 0x5600 &&
			   (s & 0x0f0f) != 0x0a0a) {
			first = s; /* not TLS 1.3, not FALLBACK_SCSV, not GREASE */
		}
	}
	out->suite = have_9c ? 0x009c : have_2f ? 0x002f : first != 0 ? first : 0x009c;
	p += n;
	if (end - p < 1) {
		return;
	}
	n = *p++; /* compression methods */
	if ((size_t)(end - p) < n + 2) {
		return;
	}
	p += n + 2; /* and the extensions' total length */
	while (end - p >= 4) {
		unsigned type = (unsigned)p[0] << 8 | p[1];
		size_t elen = (size_t)p[2] << 8 | p[3];

		if (type == 0xff01) {
			out->reneg = 1;
		}
		if ((size_t)(end - p - 4) < elen) {
			break;
		}
		p += 4 + elen;
	}
}

/* Appends a 24-bit big-endian length at p. */
static void put_be24(unsigned char *p, size_t v)
{
	p[0] = (unsigned char)(v >> 16);
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)v;
}

/* Sends data as handshake records of at most record_cap bytes each; returns 0 or -1. */
static int send_handshake_records(struct conn *c, unsigned version, const unsigned char *data,
				  size_t len)
{
	while (len > 0) {
		size_t frag = len < record_cap ? len : record_cap;
		unsigned char hdr[5] = {0x16, (unsigned char)(version >> 8), (unsigned char)version,
					(unsigned char)(frag >> 8), (unsigned char)frag};

		if (conn_send(c, hdr, sizeof(hdr)) != 0 || conn_send(c, data, frag) != 0) {
			return -1;
		}
		data += frag;
		len -= frag;
	}
	return 0;
}

/* bigcert: ServerHello, a Certificate message of more than 1 MiB, ServerHelloDone. */
static void hostile_bigcert(struct conn *c, const struct server *srv)
{
	struct hello_choice ch;
	unsigned char hello[4 + 2 + 32 + 1 + 32 + 2 + 1 + 2 + 5];
	unsigned char *msg;
	size_t count, list_len, msg_len, n, i;
	static const unsigned char done[] = {0x0e, 0x00, 0x00, 0x00};

	choose_from_hello(c->in, read_client_hello(c), &ch);
	n = 0;
	hello[n++] = 0x02;
	n += 3; /* length, below */
	hello[n++] = (unsigned char)(ch.version >> 8);
	hello[n++] = (unsigned char)ch.version;
	/* server random: fixed bytes without the TLS 1.3 downgrade marker */
	for (i = 0; i < 32; i++) {
		hello[n++] = (unsigned char)(0x40 + i);
	}
	hello[n++] = 32;
	for (i = 0; i < 32; i++) {
		hello[n++] = (unsigned char)(0xa0 + i); /* session id */
	}
	hello[n++] = (unsigned char)(ch.suite >> 8);
	hello[n++] = (unsigned char)ch.suite;
	hello[n++] = 0; /* compression: null */
	if (ch.reneg) {
		static const unsigned char ext[] = {0x00, 0x05, 0xff, 0x01, 0x00, 0x01, 0x00};

		memcpy(hello + n, ext, sizeof(ext));
		n += sizeof(ext);
	}
	put_be24(hello + 1, n - 4);

	count = bigcert_min / (3 + srv->der_len) + 1; /* so that list_len > bigcert_min */
	list_len = count * (3 + srv->der_len);
	msg_len = 4 + 3 + list_len;
	msg = malloc(msg_len);
	if (msg == NULL) {
		return;
	}
	msg[0] = 0x0b;
	put_be24(msg + 1, 3 + list_len);
	put_be24(msg + 4, list_len);
	for (i = 0; i < count; i++) {
		unsigned char *q = msg + 7 + i * (3 + srv->der_len);

		put_be24(q, srv->der_len);
		memcpy(q + 3, srv->der, srv->der_len);
	}
	if (send_handshake_records(c, ch.version, hello, n) == 0 &&
	    send_handshake_records(c, ch.version, msg, msg_len) == 0 &&
	    send_handshake_records(c, ch.version, done, sizeof(done)) == 0) {
		stall(c); /* wait for the client's verdict (an alert) or its close */
	}
	free(msg);
}

/* ---------------------------------------------------------------- TLS */

/*
 * XMPP after TLS (RFC 6120 5.4.3.3): the client opens a new stream; answer it
 * with a stream header and the SASL features, as a server would. Returns 0 or
 * -1 (the header did not come within in_cap bytes).
 */
static int xmpp_restart(SSL *ssl)
{
	static const char reply[] =
	    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
	    "xmlns:stream='http://etherx.jabber.org/streams' id='pplab-2' from='tls.lab.test' "
	    "version='1.0' xml:lang='en'><stream:features>"
	    "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism>"
	    "</mechanisms></stream:features>";
	unsigned char buf[in_cap];
	size_t len = 0;

	for (;;) {
		long start = find_bytes(buf, len, "<stream:stream");
		int n;

		if (start >= 0 && memchr(buf + start, '>', len - (size_t)start) != NULL) {
			break;
		}
		if (len >= sizeof(buf)) {
			return -1;
		}
		n = SSL_read(ssl, buf + len, (int)(sizeof(buf) - len));
		if (n <= 0) {
			return -1;
		}
		len += (size_t)n;
	}
	return SSL_write(ssl, reply, (int)sizeof(reply) - 1) > 0 ? 0 : -1;
}

/*
 * After a STARTTLS preamble (or none): handshake, then echo until close.
 * Sieve first re-sends its capabilities (RFC 5804 2.2); XMPP answers the
 * restarted stream.
 */
static void serve_tls(struct conn *c, const struct server *srv)
{
	SSL *ssl = SSL_new(srv->ctx);
	char buf[4096];
	size_t echoed = 0;

	if (ssl == NULL || SSL_set_fd(ssl, c->fd) != 1 || SSL_accept(ssl) != 1) {
		SSL_free(ssl);
		return;
	}
	if (strcmp(srv->mode, "sieve") == 0 &&
	    SSL_write(ssl, sieve_caps_tls, (int)strlen(sieve_caps_tls)) <= 0) {
		goto out;
	}
	if (strcmp(srv->mode, "xmpp") == 0 && xmpp_restart(ssl) != 0) {
		goto out;
	}
	while (echoed < echo_cap) {
		int n = SSL_read(ssl, buf, sizeof(buf));

		if (n <= 0 || SSL_write(ssl, buf, n) != n) {
			break;
		}
		echoed += (size_t)n;
	}
	SSL_shutdown(ssl);
out:
	SSL_free(ssl);
}

/* Serves one accepted connection in the child process. */
static void serve_conn(int fd, const struct server *srv)
{
	static struct conn c; /* 8 KiB: kept off the stack; one per child process */

	c.fd = fd;
	c.in_len = 0;
	if (srv->hostile != NULL) {
		srv->hostile(&c, srv);
	} else if (srv->preamble == NULL || srv->preamble(&c) == 0) {
		/* bytes pipelined after the STARTTLS command are not TLS: drop them */
		c.in_len = 0;
		serve_tls(&c, srv);
	}
	if (c.fd >= 0) {
		close(c.fd);
	}
}

/* ---------------------------------------------------------------- setup */

/* Parses a decimal number in lo..hi; returns 0 and sets *out, or -1. */
static int parse_long(const char *text, long lo, long hi, long *out)
{
	char *end = NULL;
	long value;

	if (text[0] < '0' || text[0] > '9') {
		return -1;
	}
	errno = 0;
	value = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || value < lo || value > hi) {
		return -1;
	}
	*out = value;
	return 0;
}

/* Prints the OpenSSL error queue after a message; returns -1. */
static int tls_fail(const char *what, const char *arg)
{
	unsigned long e;

	fprintf(stderr, "pp_starttls: %s %s\n", what, arg != NULL ? arg : "");
	while ((e = ERR_get_error()) != 0) {
		char text[256];

		ERR_error_string_n(e, text, sizeof(text));
		fprintf(stderr, "pp_starttls:   %s\n", text);
	}
	return -1;
}

/*
 * Builds the server's SSL_CTX from cert, key, an optional chain file and
 * optional cipher lists; returns 0 and sets srv->ctx, or -1 after printing why.
 */
static int setup_tls(struct server *srv, const char *cert, const char *key, const char *chain,
		     const char *cipher, const char *suites)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL) {
		return tls_fail("SSL_CTX_new failed", NULL);
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		SSL_CTX_free(ctx);
		return tls_fail("cannot load certificate", cert);
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		SSL_CTX_free(ctx);
		return tls_fail("cannot load key (or it does not match)", key);
	}
	if (chain != NULL) {
		FILE *f = fopen(chain, "r");
		X509 *x;
		int added = 0;

		if (f == NULL) {
			fprintf(stderr, "pp_starttls: %s: %s\n", chain, strerror(errno));
			SSL_CTX_free(ctx);
			return -1;
		}
		while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
			if (SSL_CTX_add0_chain_cert(ctx, x) != 1) {
				X509_free(x);
				fclose(f);
				SSL_CTX_free(ctx);
				return tls_fail("cannot add chain certificate from", chain);
			}
			added++;
		}
		fclose(f);
		ERR_clear_error(); /* the end of the file */
		if (added == 0) {
			fprintf(stderr, "pp_starttls: %s: no certificate in chain file\n", chain);
			SSL_CTX_free(ctx);
			return -1;
		}
	}
	/* DHE suites with the built-in groups, as openssl s_server does: S6 then matches S2 */
	SSL_CTX_set_dh_auto(ctx, 1);
	if (cipher != NULL && SSL_CTX_set_cipher_list(ctx, cipher) != 1) {
		SSL_CTX_free(ctx);
		return tls_fail("bad --cipher", cipher);
	}
	if (suites != NULL && SSL_CTX_set_ciphersuites(ctx, suites) != 1) {
		SSL_CTX_free(ctx);
		return tls_fail("bad --ciphersuites", suites);
	}
	srv->ctx = ctx;
	return 0;
}

/* Loads the first certificate of a PEM file as DER into srv (bigcert); returns 0 or -1. */
static int load_der(struct server *srv, const char *cert)
{
	FILE *f = fopen(cert, "r");
	X509 *x;
	unsigned char *der = NULL;
	int len;

	if (f == NULL) {
		fprintf(stderr, "pp_starttls: %s: %s\n", cert, strerror(errno));
		return -1;
	}
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (x == NULL) {
		return tls_fail("no certificate in", cert);
	}
	len = i2d_X509(x, &der);
	X509_free(x);
	if (len <= 0) {
		return tls_fail("cannot encode certificate from", cert);
	}
	srv->der = der;
	srv->der_len = (size_t)len;
	return 0;
}

/* Installs the handlers; blocks SIGTERM/SIGINT/SIGCHLD and stores the ppoll mask in wait_mask. */
static int setup_signals(sigset_t *wait_mask)
{
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &block, wait_mask) != 0) {
		return -1;
	}
	sa.sa_handler = on_stop_signal;
	if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0) {
		return -1;
	}
	sa.sa_handler = on_child_signal;
	if (sigaction(SIGCHLD, &sa, NULL) != 0) {
		return -1;
	}
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) != 0) {
		return -1;
	}
	sigdelset(wait_mask, SIGTERM);
	sigdelset(wait_mask, SIGINT);
	sigdelset(wait_mask, SIGCHLD);
	return 0;
}

/* In a new child: die with the parent, restore default signals, arm the alarm. Returns 0 or -1. */
static int child_setup(pid_t parent, const sigset_t *wait_mask, unsigned timeout)
{
	struct sigaction sa;

	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent) {
		return -1; /* the parent is already gone */
	}
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	sigprocmask(SIG_SETMASK, wait_mask, NULL);
	alarm(timeout);
	return 0;
}

/* The modes: a name and either a preamble (NULL for plain TLS) or a hostile handler. */
static const struct {
	const char *name;
	int (*preamble)(struct conn *c);
	void (*hostile)(struct conn *c, const struct server *srv);
} modes[] = {
    {"tls", NULL, NULL},
    {"smtp", preamble_smtp, NULL},
    {"imap", preamble_imap, NULL},
    {"pop3", preamble_pop3, NULL},
    {"ftp", preamble_ftp, NULL},
    {"ldap", preamble_ldap, NULL},
    {"xmpp", preamble_xmpp, NULL},
    {"postgres", preamble_postgres, NULL},
    {"mysql", preamble_mysql, NULL},
    {"nntp", preamble_nntp, NULL},
    {"sieve", preamble_sieve, NULL},
    {"garbage", NULL, hostile_garbage},
    {"truncated", NULL, hostile_truncated},
    {"stall", NULL, hostile_stall},
    {"reset", NULL, hostile_reset},
    {"bigcert", NULL, hostile_bigcert},
};

/* Entry point: parse arguments, set up TLS, listen, announce readiness, fork per connection. */
int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"ready-file", required_argument, NULL, 'r'},
	    {"chain", required_argument, NULL, 'c'},
	    {"cipher", required_argument, NULL, 'C'},
	    {"ciphersuites", required_argument, NULL, 'S'},
	    {"timeout", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *ready_file = NULL, *chain = NULL, *cipher = NULL, *suites = NULL;
	struct server srv;
	struct listen_addr addr;
	struct pollfd pfd;
	sigset_t wait_mask;
	pid_t self = getpid();
	int active = 0;
	size_t i;
	long value;
	int opt;

	memset(&srv, 0, sizeof(srv));
	srv.timeout = 10;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			ready_file = optarg;
			break;
		case 'c':
			chain = optarg;
			break;
		case 'C':
			cipher = optarg;
			break;
		case 'S':
			suites = optarg;
			break;
		case 't':
			if (parse_long(optarg, 1, 3600, &value) != 0) {
				fprintf(stderr, "pp_starttls: bad --timeout '%s' (1..3600)\n",
					optarg);
				return 2;
			}
			srv.timeout = (unsigned)value;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind < 2) {
		usage(stderr);
		return 2;
	}
	srv.mode = argv[optind];
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (strcmp(modes[i].name, srv.mode) == 0) {
			break;
		}
	}
	if (i == sizeof(modes) / sizeof(modes[0])) {
		fprintf(stderr, "pp_starttls: unknown mode '%s'\n", srv.mode);
		usage(stderr);
		return 2;
	}
	srv.preamble = modes[i].preamble;
	srv.hostile = modes[i].hostile;
	if (parse_listen_addr(argv[optind + 1], &addr) != 0) {
		fprintf(stderr, "pp_starttls: %s: bad address (want A.B.C.D:PORT or [IPV6]:PORT)\n",
			argv[optind + 1]);
		return 2;
	}
	if (srv.hostile == NULL || srv.hostile == hostile_bigcert) {
		if (argc - optind != 4) {
			fprintf(stderr, "pp_starttls: mode %s needs CERT and KEY\n", srv.mode);
			return 2;
		}
		if (srv.hostile == NULL ? setup_tls(&srv, argv[optind + 2], argv[optind + 3], chain,
						    cipher, suites) != 0
					: load_der(&srv, argv[optind + 2]) != 0) {
			return 1;
		}
	} else if (argc - optind != 2) {
		fprintf(stderr, "pp_starttls: mode %s takes no certificate\n", srv.mode);
		return 2;
	}
	if (setup_signals(&wait_mask) != 0) {
		fprintf(stderr, "pp_starttls: signals: %s\n", strerror(errno));
		return 1;
	}
	pfd.fd = open_listener("pp_starttls", argv[optind + 1], &addr);
	if (pfd.fd < 0) {
		return 1;
	}
	pfd.events = POLLIN;
	if (ready_file != NULL) {
		if (write_ready_file("pp_starttls", ready_file) != 0) {
			return 1;
		}
	} else if (fputs("ready\n", stdout) == EOF || fflush(stdout) != 0) {
		fprintf(stderr, "pp_starttls: stdout: %s\n", strerror(errno));
		return 1;
	}

	while (!stop_requested) {
		struct timespec tick = {.tv_sec = 0, .tv_nsec = 200 * 1000 * 1000};
		int rc;

		while (waitpid(-1, NULL, WNOHANG) > 0) {
			active--;
		}
		/* at the cap, stop accepting until a child exits (SIGCHLD or the tick wakes us) */
		pfd.events = active < max_children ? POLLIN : 0;
		rc = ppoll(&pfd, 1, &tick, &wait_mask);
		if (rc < 0 && errno != EINTR) {
			fprintf(stderr, "pp_starttls: ppoll: %s\n", strerror(errno));
			return 1;
		}
		if (rc <= 0 || !(pfd.revents & POLLIN)) {
			continue;
		}
		for (;;) {
			int conn = accept4(pfd.fd, NULL, NULL, SOCK_CLOEXEC);
			pid_t pid;

			if (conn < 0) {
				break; /* EAGAIN: queue empty; other errors retried on the next poll */
			}
			pid = fork();
			if (pid == 0) {
				close(pfd.fd);
				if (child_setup(self, &wait_mask, srv.timeout) == 0) {
					serve_conn(conn, &srv);
				}
				_exit(0);
			}
			close(conn);
			if (pid > 0) {
				active++;
			}
			if (active >= max_children) {
				break;
			}
		}
	}
	close(pfd.fd);
	SSL_CTX_free(srv.ctx);
	OPENSSL_free(srv.der);
	return 0;
}
