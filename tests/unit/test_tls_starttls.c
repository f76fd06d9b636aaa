/* test_tls_starttls.c: the STARTTLS state machines against scripted servers.
 * Each dialog is a list of turns (what the server sends, the exact bytes the
 * client must queue after it, the result) written from what real servers
 * send (Postfix, Exim, Dovecot, Cyrus, vsftpd, Pure-FTPd, INN, OpenLDAP,
 * ejabberd, Prosody, PostgreSQL, MySQL 8, MariaDB), and every dialog is
 * replayed whole, one byte at a time and in 2- and 7-byte pieces. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "portprobe/buf.h"
#include "test.h"
#include "tls/starttls.h"

/* One server flight and what must follow it. Strings starting "hex:" are
 * hex bytes (spaces ignored). */
struct turn {
	const char *recv; /* server bytes; NULL: the opening call (n == 0) */
	const char *send; /* exact client bytes queued after them */
	int result;       /* after the last byte */
};

#define TURNS(a) (a), sizeof(a) / sizeof((a)[0])

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The bytes a turn string stands for, into out (cap bytes); their count. */
static size_t bytes_of(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;

	if (strncmp(s, "hex:", 4)) {
		n = strlen(s);
		if (n > cap)
			abort();
		memcpy(out, s, n);
		return n;
	}
	for (s += 4; *s; s++) {
		if (*s == ' ')
			continue;
		if (hexval(s[0]) < 0 || hexval(s[1]) < 0 || n == cap)
			abort();
		out[n++] = (uint8_t)(hexval(s[0]) << 4 | hexval(s[1]));
		s++;
	}
	return n;
}

static void print_bytes(const char *what, const uint8_t *p, size_t n)
{
	fprintf(stderr, "%s (%zu):", what, n);
	for (size_t i = 0; i < n; i++)
		if (p[i] >= 0x20 && p[i] < 0x7f)
			fputc(p[i], stderr);
		else
			fprintf(stderr, "\\x%02x", p[i]);
	fputc('\n', stderr);
}

/* Plays turns against a fresh machine, feeding each flight `chunk` bytes at
 * a time (0: all at once); the last error must be `error` ("" for none). */
static int play(enum tls_starttls proto, const char *host, const struct turn *t, size_t nt,
		size_t chunk, const char *error)
{
	static struct tls_starttls_state st;
	static uint8_t in[1 << 17], want[4096];
	struct pp_buf send;
	int r = TLS_STARTTLS_MORE;

	tls_starttls_init(&st, proto, host);
	pp_buf_init(&send, 1 << 16);
	for (size_t i = 0; i < nt; i++) {
		size_t n = t[i].recv ? bytes_of(t[i].recv, in, sizeof(in)) : 0;
		size_t w = bytes_of(t[i].send, want, sizeof(want));

		if (!t[i].recv)
			r = tls_starttls_step(&st, in, 0, &send);
		for (size_t off = 0; off < n;) {
			size_t k = chunk && chunk < n - off ? chunk : n - off;

			r = tls_starttls_step(&st, in + off, k, &send);
			off += k;
		}
		if (r != t[i].result || send.len != w || (w && memcmp(send.data, want, w))) {
			print_bytes("sent", (const uint8_t *)send.data, send.len);
			print_bytes("want", want, w);
			pp_buf_release(&send);
			TEST_FAIL_("%s turn %zu, pieces of %zu: result %d, want %d; error \"%s\"",
				   tls_starttls_name(proto), i, chunk, r, t[i].result,
				   tls_starttls_error(&st));
		}
		pp_buf_reset(&send);
	}
	pp_buf_release(&send);
	ASSERT_STR_EQ(tls_starttls_error(&st), error);
	return 0;
}

/* play() whole, byte by byte and in 2- and 7-byte pieces. */
static int dialog(enum tls_starttls proto, const char *host, const struct turn *t, size_t nt,
		  const char *error)
{
	static const size_t chunks[] = {0, 1, 2, 7};

	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++)
		if (play(proto, host, t, nt, chunks[i], error))
			return 1;
	return 0;
}

#define MORE  TLS_STARTTLS_MORE
#define READY TLS_STARTTLS_READY
#define FAIL  TLS_STARTTLS_FAIL

/* --- names and ports ------------------------------------------------------- */

TEST_IMPL(tls_starttls_names_parse_case_insensitively_and_round_trip)
{
	enum tls_starttls p = TLS_STARTTLS_SMTP;

	for (int i = 0; i < TLS_STARTTLS_COUNT; i++) {
		ASSERT_EQ(tls_starttls_parse(tls_starttls_name((enum tls_starttls)i), &p), 0);
		ASSERT_EQ(p, i);
	}
	ASSERT_EQ(tls_starttls_parse("IMAP", &p), 0);
	ASSERT_EQ(p, TLS_STARTTLS_IMAP);
	ASSERT_EQ(tls_starttls_parse("PostGres", &p), 0);
	ASSERT_EQ(p, TLS_STARTTLS_POSTGRES);
	ASSERT_EQ(tls_starttls_parse("None", &p), 0);
	ASSERT_EQ(p, TLS_STARTTLS_NONE);
	p = TLS_STARTTLS_FTP;
	ASSERT_EQ(tls_starttls_parse("smtps", &p), -EINVAL);
	ASSERT_EQ(tls_starttls_parse("", &p), -EINVAL);
	ASSERT_EQ(tls_starttls_parse(NULL, &p), -EINVAL);
	ASSERT_EQ(p, TLS_STARTTLS_FTP); /* untouched on failure */
	ASSERT_STR_EQ(tls_starttls_name(TLS_STARTTLS_SIEVE), "sieve");
	ASSERT_STR_EQ(tls_starttls_name(TLS_STARTTLS_NONE), "none");
	ASSERT_STR_EQ(tls_starttls_name((enum tls_starttls)99), "unknown");
	return 0;
}

TEST_IMPL(tls_starttls_ports_map_to_protocols_and_implicit_tls_to_none)
{
	static const struct {
		uint16_t port;
		enum tls_starttls proto;
	} cases[] = {
	    {25, TLS_STARTTLS_SMTP},    {587, TLS_STARTTLS_SMTP},   {24, TLS_STARTTLS_LMTP},
	    {143, TLS_STARTTLS_IMAP},   {110, TLS_STARTTLS_POP3},   {21, TLS_STARTTLS_FTP},
	    {389, TLS_STARTTLS_LDAP},   {5222, TLS_STARTTLS_XMPP},  {5432, TLS_STARTTLS_POSTGRES},
	    {3306, TLS_STARTTLS_MYSQL}, {119, TLS_STARTTLS_NNTP},   {4190, TLS_STARTTLS_SIEVE},
	    {465, TLS_STARTTLS_NONE},   {993, TLS_STARTTLS_NONE},   {995, TLS_STARTTLS_NONE},
	    {636, TLS_STARTTLS_NONE},   {5223, TLS_STARTTLS_NONE},  {443, TLS_STARTTLS_NONE},
	    {0, TLS_STARTTLS_NONE},     {65535, TLS_STARTTLS_NONE},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ASSERT_EQ(tls_starttls_for_port(cases[i].port), cases[i].proto);
	return 0;
}

TEST_IMPL(tls_starttls_none_is_ready_at_once_and_refuses_server_bytes)
{
	static const struct turn ok[] = {{NULL, "", READY}};
	static const struct turn talk[] = {{NULL, "", READY}, {"220 hello\r\n", "", FAIL}};

	ASSERT_EQ(dialog(TLS_STARTTLS_NONE, NULL, TURNS(ok), ""), 0);
	ASSERT_EQ(dialog(TLS_STARTTLS_NONE, NULL, TURNS(talk),
			 "none: server sent data before the ClientHello"),
		  0);
	return 0;
}

/* --- smtp and lmtp --------------------------------------------------------- */

#define POSTFIX_GREETING "220 mail.example.org ESMTP Postfix (Debian/GNU)\r\n"
#define POSTFIX_EHLO_HEAD                                                                          \
	"250-mail.example.org\r\n"                                                                 \
	"250-PIPELINING\r\n"                                                                       \
	"250-SIZE 10240000\r\n"                                                                    \
	"250-VRFY\r\n"                                                                             \
	"250-ETRN\r\n"
#define POSTFIX_EHLO_TAIL                                                                          \
	"250-ENHANCEDSTATUSCODES\r\n"                                                              \
	"250-8BITMIME\r\n"                                                                         \
	"250-DSN\r\n"                                                                              \
	"250-SMTPUTF8\r\n"                                                                         \
	"250 CHUNKING\r\n"

TEST_IMPL(tls_starttls_smtp_postfix_dialog_is_ready_after_220)
{
	static const struct turn t[] = {
	    {NULL, "", MORE},
	    {POSTFIX_GREETING, "EHLO portprobe.invalid\r\n", MORE},
	    {POSTFIX_EHLO_HEAD "250-STARTTLS\r\n" POSTFIX_EHLO_TAIL, "STARTTLS\r\n", MORE},
	    {"220 2.0.0 Ready to start TLS\r\n", "", READY},
	};

	return dialog(TLS_STARTTLS_SMTP, "mail.example.org", TURNS(t), "");
}

TEST_IMPL(tls_starttls_smtp_exim_multiline_greeting_and_lower_case_keyword)
{
	static const struct turn t[] = {
	    {NULL, "", MORE},
	    {"220-mx.example.net ESMTP Exim 4.96 Tue, 02 Jul 2024 10:15:02 +0000\r\n"
	     "220-We do not authorize the use of this system to transport unsolicited,\r\n"
	     "220 and/or bulk e-mail.\r\n",
	     "EHLO portprobe.invalid\r\n", MORE},
	    {"250-mx.example.net Hello portprobe.invalid [192.0.2.7]\r\n"
	     "250-SIZE 52428800\r\n"
	     "250-8BITMIME\r\n"
	     "250-PIPELINING\r\n"
	     "250-PIPECONNECT\r\n"
	     "250-CHUNKING\r\n"
	     "250-starttls\r\n"
	     "250-PRDR\r\n"
	     "250 HELP\r\n",
	     "STARTTLS\r\n", MORE},
	    {"220 TLS go ahead\r\n", "", READY},
	};

	return dialog(TLS_STARTTLS_SMTP, NULL, TURNS(t), "");
}

TEST_IMPL(tls_starttls_smtp_several_replies_in_one_read_are_all_answered)
{
	/* a server (or a test responder) that does not wait for the client */
	static const struct turn t[] = {
	    {POSTFIX_GREETING POSTFIX_EHLO_HEAD "250 STARTTLS\r\n"
						"220 2.0.0 Ready to start TLS\r\n",
	     "EHLO portprobe.invalid\r\nSTARTTLS\r\n", READY},
	};

	return play(TLS_STARTTLS_SMTP, NULL, TURNS(t), 0, "");
}

TEST_IMPL(tls_starttls_smtp_fails_when_ehlo_does_not_offer_starttls)
{
	static const struct turn t[] = {
	    {NULL, "", MORE},
	    {POSTFIX_GREETING, "EHLO portprobe.invalid\r\n", MORE},
	    {POSTFIX_EHLO_HEAD "250-XSTARTTLS\r\n"
			       "250-STARTTLSX\r\n" POSTFIX_EHLO_TAIL,
	     "", FAIL},
	};

	return dialog(TLS_STARTTLS_SMTP, NULL, TURNS(t),
		      "smtp: STARTTLS not offered in EHLO reply");
}

TEST_IMPL(tls_starttls_smtp_fails_on_454_to_starttls)
{
	static const struct turn t[] = {
	    {POSTFIX_GREETING, "EHLO portprobe.invalid\r\n", MORE},
	    {POSTFIX_EHLO_HEAD "250-STARTTLS\r\n" POSTFIX_EHLO_TAIL, "STARTTLS\r\n", MORE},
	    {"454 4.7.0 TLS not available due to local problem\r\n", "", FAIL},
	};

	return dialog(
	    TLS_STARTTLS_SMTP, NULL, TURNS(t),
	    "smtp: server answered STARTTLS with 454 4.7.0 TLS not available due to local problem");
}

TEST_IMPL(tls_starttls_smtp_fails_on_refused_greeting_and_ehlo)
{
	static const struct turn greet[] = {
	    {"554 5.7.1 <unknown[192.0.2.7]>: Client host rejected: Access denied\r\n", "", FAIL},
	};
	static const struct turn ehlo[] = {
	    {POSTFIX_GREETING, "EHLO portprobe.invalid\r\n", MORE},
	    {"502 5.5.2 Error: command not recognized\r\n", "", FAIL},
	};

	ASSERT_EQ(dialog(TLS_STARTTLS_SMTP, NULL, TURNS(greet),
			 "smtp: server greeted with 554 5.7.1 <unknown[192.0.2.7]>: Client host "
			 "rejected: Access denied"),
		  0);
	return dialog(TLS_STARTTLS_SMTP, NULL, TURNS(ehlo),
		      "smtp: server answered EHLO with 502 5.5.2 Error: command not recognized");
}

TEST_IMPL(tls_starttls_smtp_fails_on_garbage_and_quotes_it_safely)
{
	static const struct turn http[] = {
	    {"HTTP/1.1 400 Bad Request\r\nServer: nginx\r\n\r\n", "", FAIL},
	};
	static const struct turn bin[] = {
	    {"hex: 16 03 03 00 02 02 28 0a", "", FAIL},
	};
	static const struct turn mixed[] = {
	    {"220-mx.example.net\r\n250 wrong code\r\n", "", FAIL},
	};

	ASSERT_EQ(dialog(TLS_STARTTLS_SMTP, NULL, TURNS(http),
			 "smtp: unexpected greeting: HTTP/1.1 400 Bad Request"),
		  0);
	/* a TLS alert where the greeting should be: control bytes become '?' */
	ASSERT_EQ(
	    dialog(TLS_STARTTLS_SMTP, NULL, TURNS(bin), "smtp: unexpected greeting: \?\?\?\?\?\?("),
	    0);
	return dialog(TLS_STARTTLS_SMTP, NULL, TURNS(mixed),
		      "smtp: unexpected greeting: 250 wrong code");
}

TEST_IMPL(tls_starttls_smtp_fails_on_a_line_over_16k_and_on_64k_in_total)
{
	static struct tls_starttls_state st;
	static uint8_t big[TLS_STARTTLS_TOTAL_MAX + 2000];
	struct pp_buf send;
	size_t n = 0;
	int r;

	pp_buf_init(&send, 1 << 16);
	/* one line without an end */
	memcpy(big, "220 ", 4);
	memset(big + 4, 'x', TLS_STARTTLS_MSG_MAX);
	tls_starttls_init(&st, TLS_STARTTLS_SMTP, NULL);
	r = tls_starttls_step(&st, big, TLS_STARTTLS_MSG_MAX + 4, &send);
	ASSERT_EQ(r, TLS_STARTTLS_FAIL);
	ASSERT_STR_EQ(tls_starttls_error(&st), "smtp: reply too long (a line over 16384 bytes)");
	/* exactly 16384 bytes with CR LF is still a line */
	big[TLS_STARTTLS_MSG_MAX - 2] = '\r';
	big[TLS_STARTTLS_MSG_MAX - 1] = '\n';
	tls_starttls_init(&st, TLS_STARTTLS_SMTP, NULL);
	ASSERT_EQ(tls_starttls_step(&st, big, TLS_STARTTLS_MSG_MAX, &send), TLS_STARTTLS_MORE);
	ASSERT_EQ(send.len, strlen("EHLO portprobe.invalid\r\n"));
	/* a greeting that goes on and on in short lines */
	while (n + 1000 < sizeof(big)) {
		memcpy(big + n, "220-", 4);
		memset(big + n + 4, 'y', 994);
		memcpy(big + n + 998, "\r\n", 2);
		n += 1000;
	}
	tls_starttls_init(&st, TLS_STARTTLS_SMTP, NULL);
	for (size_t off = 0; off < n; off += 1000) {
		r = tls_starttls_step(&st, big + off, 1000, &send);
		if (off + 1000 <= TLS_STARTTLS_TOTAL_MAX)
			ASSERT_EQ(r, TLS_STARTTLS_MORE);
	}
	ASSERT_EQ(r, TLS_STARTTLS_FAIL);
	ASSERT_STR_EQ(tls_starttls_error(&st), "smtp: more than 65536 bytes before TLS");
	pp_buf_release(&send);
	return 0;
}

TEST_IMPL(tls_starttls_smtp_fails_on_bytes_after_the_go_ahead)
{
	static const struct turn same_read[] = {
	    {POSTFIX_GREETING, "EHLO portprobe.invalid\r\n", MORE},
	    {POSTFIX_EHLO_HEAD "250 STARTTLS\r\n", "STARTTLS\r\n", MORE},
	    {"220 2.0.0 Ready to start TLS\r\n\x16\x03\x01", "", FAIL},
	};
	static const struct turn later_read[] = {
	    {POSTFIX_GREETING, "EHLO portprobe.invalid\r\n", MORE},
	    {POSTFIX_EHLO_HEAD "250 STARTTLS\r\n", "STARTTLS\r\n", MORE},
	    {"220 2.0.0 Ready to start TLS\r\n", "", READY},
	    {"x", "", FAIL},
	};

	ASSERT_EQ(dialog(TLS_STARTTLS_SMTP, NULL, TURNS(same_read),
			 "smtp: unexpected data after the STARTTLS reply"),
		  0);
	return dialog(TLS_STARTTLS_SMTP, NULL, TURNS(later_read),
		      "smtp: unexpected data after the STARTTLS reply");
}

TEST_IMPL(tls_starttls_lmtp_dovecot_dialog_uses_lhlo)
{
	static const struct turn t[] = {
	    {NULL, "", MORE},
	    {"220 mail.example.org Dovecot (Debian) ready.\r\n", "LHLO portprobe.invalid\r\n",
	     MORE},
	    {"250-mail.example.org\r\n"
	     "250-8BITMIME\r\n"
	     "250-CHUNKING\r\n"
	     "250-ENHANCEDSTATUSCODES\r\n"
	     "250-PIPELINING\r\n"
	     "250-STARTTLS\r\n"
	     "250 XCLIENT ADDR PORT TRACE HELO LOGIN TIMEOUT\r\n",
	     "STARTTLS\r\n", MORE},
	    {"220 2.0.0 Begin TLS.\r\n", "", READY},
	};
	static const struct turn none[] = {
	    {"220 mail.example.org Dovecot (Debian) ready.\r\n", "LHLO portprobe.invalid\r\n",
	     MORE},
	    {"250-mail.example.org\r\n250 PIPELINING\r\n", "", FAIL},
	};

	ASSERT_EQ(dialog(TLS_STARTTLS_LMTP, NULL, TURNS(t), ""), 0);
	return dialog(TLS_STARTTLS_LMTP, NULL, TURNS(none),
		      "lmtp: STARTTLS not offered in LHLO reply");
}

/* --- imap ------------------------------------------------------------------ */

TEST_IMPL(tls_starttls_imap_dovecot_greeting_capability_skips_the_capability_command)
{
	static const struct turn t[] = {
	    {NULL, "", MORE},
	    {"* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ "
	     "STARTTLS LOGINDISABLED] Dovecot (Debian) ready.\r\n",
	     "a002 STARTTLS\r\n", MORE},
	    {"a002 OK Begin TLS negotiation now.\r\n", "", READY},
	};

	return dialog(TLS_STARTTLS_IMAP, NULL, TURNS(t), "");
}

TEST_IMPL(tls_starttls_imap_asks_capability_when_the_greeting_lists_none)
{
	static const struct turn t[] = {
	    {"* OK imap.example.net Cyrus IMAP 3.6.1 server ready\r\n", "a001 CAPABILITY\r\n",
	     MORE},
	    {"* CAPABILITY IMAP4rev1 LITERAL+ ID ENABLE STARTTLS AUTH=PLAIN SASL-IR\r\n"
	     "a001 OK Completed\r\n",
	     "a002 STARTTLS\r\n", MORE},
	    {"a002 OK Begin TLS negotiation now\r\n", "", READY},
	};
	/* a greeting code without STARTTLS is checked again with CAPABILITY;
	 * PREAUTH is let through (the server will answer STARTTLS itself) */
	static const struct turn preauth[] = {
	    {"* PREAUTH [CAPABILITY IMAP4rev1 IDLE] imapd ready\r\n", "a001 CAPABILITY\r\n", MORE},
	    {"* CAPABILITY IMAP4rev1 IDLE\r\n"
	     "* OK [ALERT] nothing to see\r\n"
	     "a001 OK [CAPABILITY IMAP4rev1 IDLE STARTTLS] done\r\n",
	     "a002 STARTTLS\r\n", MORE},
	    {"a002 OK go\r\n", "", READY},
	};

	ASSERT_EQ(dialog(TLS_STARTTLS_IMAP, NULL, TURNS(t), ""), 0);
	return dialog(TLS_STARTTLS_IMAP, NULL, TURNS(preauth), "");
}

TEST_IMPL(tls_starttls_imap_fails_on_bye_missing_starttls_and_bad)
{
	static const struct turn bye[] = {
	    {"* BYE Too many connections from 192.0.2.7\r\n", "", FAIL},
	};
	static const struct turn missing[] = {
	    {"* OK Courier-IMAP ready.\r\n", "a001 CAPABILITY\r\n", MORE},
	    {"* CAPABILITY IMAP4rev1 UIDPLUS CHILDREN NAMESPACE XSTARTTLS\r\n"
	     "a001 OK CAPABILITY completed\r\n",
	     "", FAIL},
	};
	static const struct turn bad[] = {
	    {"* OK [CAPABILITY IMAP4rev1 STARTTLS] Dovecot ready.\r\n", "a002 STARTTLS\r\n", MORE},
	    {"a002 BAD TLS support isn't enabled.\r\n", "", FAIL},
	};
	static const struct turn garbage[] = {
	    {"+OK POP3 server ready\r\n", "", FAIL},
	};

	ASSERT_EQ(dialog(TLS_STARTTLS_IMAP, NULL, TURNS(bye),
			 "imap: server greeted with * BYE Too many connections from 192.0.2.7"),
		  0);
	ASSERT_EQ(dialog(TLS_STARTTLS_IMAP, NULL, TURNS(missing),
			 "imap: STARTTLS not offered in CAPABILITY"),
		  0);
	ASSERT_EQ(dialog(TLS_STARTTLS_IMAP, NULL, TURNS(bad),
			 "imap: server answered STARTTLS with a002 BAD TLS support isn't enabled."),
		  0);
	return dialog(TLS_STARTTLS_IMAP, NULL, TURNS(garbage),
		      "imap: unexpected greeting: +OK POP3 server ready");
}

/* --- pop3 ------------------------------------------------------------------ */

TEST_IMPL(tls_starttls_pop3_dovecot_dialog_and_refusal)
{
	static const struct turn t[] = {
	    {NULL, "", MORE},
	    {"+OK Dovecot (Debian) ready.\r\n", "STLS\r\n", MORE},
	    {"+OK Begin TLS negotiation now.\r\n", "", READY},
	};
	static const struct turn refused[] = {
	    {"+OK Dovecot (Debian) ready.\r\n", "STLS\r\n", MORE},
	    {"-ERR TLS support isn't enabled.\r\n", "", FAIL},
	};

	ASSERT_EQ(dialog(TLS_STARTTLS_POP3, NULL, TURNS(t), ""), 0);
	return dialog(TLS_STARTTLS_POP3, NULL, TURNS(refused),
		      "pop3: server answered STLS with -ERR TLS support isn't enabled.");
}

/* --- ftp ------------------------------------------------------------------- */

TEST_IMPL(tls_starttls_ftp_vsftpd_dialog_and_refusal)
{
	static const struct turn t[] = {
	    {NULL, "", MORE},
	    {"220 (vsFTPd 3.0.3)\r\n", "AUTH TLS\r\n", MORE},
	    {"234 Proceed with negotiation.\r\n", "", READY},
	};
	static const struct turn refused[] = {
	    {"220 (vsFTPd 3.0.3)\r\n", "AUTH TLS\r\n", MORE},
	    {"530 Please login with USER and PASS.\r\n", "", FAIL},
	};

	ASSERT_EQ(dialog(TLS_STARTTLS_FTP, NULL, TURNS(t), ""), 0);
	return dialog(TLS_STARTTLS_FTP, NULL, TURNS(refused),
		      "ftp: server answered AUTH TLS with 530 Please login with USER and PASS.");
}

TEST_IMPL(tls_starttls_ftp_multiline_greetings_and_a_preliminary_120)
{
	static const struct turn pure[] = {
	    {"220---------- Welcome to Pure-FTPd [privsep] [TLS] ----------\r\n"
	     "220-You are user number 1 of 50 allowed.\r\n"
	     "220-Local time is now 10:15. Server port: 21.\r\n"
	     "220-This is a private system - No anonymous login\r\n"
	     "220 You will be disconnected after 15 minutes of inactivity.\r\n",
	     "AUTH TLS\r\n", MORE},
	    {"234 AUTH TLS OK.\r\n", "", READY},
	};
	/* RFC 959: middle lines need not carry the code; 1xx is preliminary */
	static const struct turn rfc959[] = {
	    {"120 Service ready in 1 minute.\r\n", "", MORE},
	    {"220-Welcome to the archive\r\n"
	     "  220 lines like this one do not end the reply\r\n"
	     "220-still going\r\n"
	     "220 ready\r\n",
	     "AUTH TLS\r\n", MORE},
	    {"234 AUTH TLS successful\r\n", "", READY},
	};
	static const struct turn ssh[] = {
	    {"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n", "", FAIL},
	};

	ASSERT_EQ(dialog(TLS_STARTTLS_FTP, NULL, TURNS(pure), ""), 0);
	ASSERT_EQ(dialog(TLS_STARTTLS_FTP, NULL, TURNS(rfc959), ""), 0);
	return dialog(TLS_STARTTLS_FTP, NULL, TURNS(ssh),
		      "ftp: unexpected greeting: SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3");
}

/* --- nntp ------------------------------------------------------------------ */

TEST_IMPL(tls_starttls_nntp_inn_dialog_and_refusals)
{
	static const struct turn t[] = {
	    {NULL, "", MORE},
	    {"200 news.example.net InterNetNews server INN 2.7.1 ready (transit mode)\r\n",
	     "STARTTLS\r\n", MORE},
	    {"382 Begin TLS negotiation now\r\n", "", READY},
	};
	static const struct turn reader[] = {
	    {"201 news.example.net InterNetNews NNRP server INN 2.7.1 ready (no posting)\r\n",
	     "STARTTLS\r\n", MORE},
	    {"580 Can not initiate TLS negotiation\r\n", "", FAIL},
	};
	static const struct turn denied[] = {
	    {"502 You have no permission to talk.  Goodbye!\r\n", "", FAIL},
	};

	ASSERT_EQ(dialog(TLS_STARTTLS_NNTP, NULL, TURNS(t), ""), 0);
	ASSERT_EQ(
	    dialog(TLS_STARTTLS_NNTP, NULL, TURNS(reader),
		   "nntp: server answered STARTTLS with 580 Can not initiate TLS negotiation"),
	    0);
	return dialog(TLS_STARTTLS_NNTP, NULL, TURNS(denied),
		      "nntp: server greeted with 502 You have no permission to talk.  Goodbye!");
}

/* --- sieve ----------------------------------------------------------------- */

#define PIGEONHOLE_HEAD                                                                            \
	"\"IMPLEMENTATION\" \"Dovecot Pigeonhole\"\r\n"                                            \
	"\"SIEVE\" \"fileinto reject envelope encoded-character vacation subaddress "              \
	"comparator-i;ascii-numeric relational regex imap4flags copy include variables body "      \
	"enotify environment mailbox date index ihave duplicate mime foreverypart "                \
	"extracttext\"\r\n"                                                                        \
	"\"NOTIFY\" \"mailto\"\r\n"                                                                \
	"\"SASL\" \"\"\r\n"
#define PIGEONHOLE_TAIL                                                                            \
	"\"VERSION\" \"1.0\"\r\n"                                                                  \
	"OK \"Dovecot (Debian) ready.\"\r\n"

TEST_IMPL(tls_starttls_sieve_pigeonhole_dialog_and_refusals)
{
	static const struct turn t[] = {
	    {NULL, "", MORE},
	    {PIGEONHOLE_HEAD "\"STARTTLS\"\r\n" PIGEONHOLE_TAIL, "STARTTLS\r\n", MORE},
	    {"OK \"Begin TLS negotiation now.\"\r\n", "", READY},
	};
	/* a literal whose text is "STARTTLS" is not the capability */
	static const struct turn none[] = {
	    {PIGEONHOLE_HEAD "\"X-NOTE\" {8}\r\nSTARTTLS\r\n" PIGEONHOLE_TAIL, "", FAIL},
	};
	static const struct turn no[] = {
	    {PIGEONHOLE_HEAD "\"STARTTLS\"\r\n" PIGEONHOLE_TAIL, "STARTTLS\r\n", MORE},
	    {"NO \"TLS support isn't enabled.\"\r\n", "", FAIL},
	};
	static const struct turn bye[] = {
	    {"BYE \"Too many connections\"\r\n", "", FAIL},
	};
	static const struct turn http[] = {
	    {"HTTP/1.1 400 Bad Request\r\n", "", FAIL},
	};

	ASSERT_EQ(dialog(TLS_STARTTLS_SIEVE, NULL, TURNS(t), ""), 0);
	ASSERT_EQ(dialog(TLS_STARTTLS_SIEVE, NULL, TURNS(none),
			 "sieve: STARTTLS not offered in capability list"),
		  0);
	ASSERT_EQ(dialog(TLS_STARTTLS_SIEVE, NULL, TURNS(no),
			 "sieve: server answered STARTTLS with NO \"TLS support isn't enabled.\""),
		  0);
	ASSERT_EQ(dialog(TLS_STARTTLS_SIEVE, NULL, TURNS(http),
			 "sieve: unexpected capability list: HTTP/1.1 400 Bad Request"),
		  0);
	return dialog(TLS_STARTTLS_SIEVE, NULL, TURNS(bye),
		      "sieve: server greeted with BYE \"Too many connections\"");
}

/* --- ldap ------------------------------------------------------------------ */

/* LDAPMessage { 1, ExtendedRequest { requestName 1.3.6.1.4.1.1466.20037 } } */
#define LDAP_REQUEST                                                                               \
	"hex:30 1d 02 01 01 77 18 80 16 31 2e 33 2e 36 2e 31 2e 34 2e 31 2e 31 34 36 36 2e 32 30 " \
	"30 33 37"

TEST_IMPL(tls_starttls_ldap_openldap_success_is_ready)
{
	/* slapd: success, empty matchedDN and message, responseName echoed */
	static const struct turn t[] = {
	    {NULL, LDAP_REQUEST, MORE},
	    {"hex:30 24 02 01 01 78 1f 0a 01 00 04 00 04 00 8a 16 31 2e 33 2e 36 2e 31 2e 34 2e "
	     "31 2e 31 34 36 36 2e 32 30 30 33 37",
	     "", READY},
	};

	return dialog(TLS_STARTTLS_LDAP, NULL, TURNS(t), "");
}

TEST_IMPL(tls_starttls_ldap_reports_the_result_code)
{
	static const struct turn proto[] = {
	    {NULL, LDAP_REQUEST, MORE},
	    {"hex:30 2a 02 01 01 78 25 0a 01 02 04 00 04 1e 75 6e 73 75 70 70 6f 72 74 65 64 20 "
	     "65 78 74 65 6e 64 65 64 20 6f 70 65 72 61 74 69 6f 6e",
	     "", FAIL},
	};
	static const struct turn unavailable[] = {
	    {NULL, LDAP_REQUEST, MORE},
	    {"hex:30 24 02 01 01 78 1f 0a 01 34 04 00 04 18 43 6f 75 6c 64 20 6e 6f 74 20 69 6e "
	     "69 74 69 61 6c 69 7a 65 20 54 4c 53",
	     "", FAIL},
	};
	static const struct turn notice[] = {
	    {NULL, LDAP_REQUEST, MORE},
	    {"hex:30 31 02 01 00 78 2c 0a 01 34 04 00 04 0d 73 68 75 74 74 69 6e 67 20 64 6f 77 "
	     "6e 8a 16 31 2e 33 2e 36 2e 31 2e 34 2e 31 2e 31 34 36 36 2e 32 30 30 33 36",
	     "", FAIL},
	};

	ASSERT_EQ(dialog(TLS_STARTTLS_LDAP, NULL, TURNS(proto),
			 "ldap: server answered StartTLS with resultCode 2 (protocolError): "
			 "unsupported extended operation"),
		  0);
	ASSERT_EQ(dialog(TLS_STARTTLS_LDAP, NULL, TURNS(unavailable),
			 "ldap: server answered StartTLS with resultCode 52 (unavailable): Could "
			 "not initialize TLS"),
		  0);
	return dialog(TLS_STARTTLS_LDAP, NULL, TURNS(notice),
		      "ldap: server sent a notice of disconnection: resultCode 52 (unavailable): "
		      "shutting down");
}

TEST_IMPL(tls_starttls_ldap_rejects_malformed_ber)
{
	static const struct turn http[] = {
	    {NULL, LDAP_REQUEST, MORE},
	    {"HTTP/1.0 400 Bad Request\r\n\r\n", "", FAIL},
	};
	/* the ExtendedResponse claims more bytes than the message holds */
	static const struct turn overrun[] = {
	    {NULL, LDAP_REQUEST, MORE},
	    {"hex:30 0c 02 01 01 78 7f 0a 01 00 04 00 04 00", "", FAIL},
	};
	static const struct turn other_op[] = {
	    {NULL, LDAP_REQUEST, MORE},
	    {"hex:30 0c 02 01 01 61 07 0a 01 00 04 00 04 00", "", FAIL},
	};
	static const struct turn other_id[] = {
	    {NULL, LDAP_REQUEST, MORE},
	    {"hex:30 0c 02 01 07 78 07 0a 01 00 04 00 04 00", "", FAIL},
	};
	static const struct turn indefinite[] = {
	    {NULL, LDAP_REQUEST, MORE},
	    {"hex:30 80 02 01 01", "", FAIL},
	};
	static const struct turn huge[] = {
	    {NULL, LDAP_REQUEST, MORE},
	    {"hex:30 84 7f ff ff ff", "", FAIL},
	};

	ASSERT_EQ(dialog(TLS_STARTTLS_LDAP, NULL, TURNS(http),
			 "ldap: unexpected answer to StartTLS (tag 0x48, not an LDAPMessage)"),
		  0);
	ASSERT_EQ(
	    dialog(TLS_STARTTLS_LDAP, NULL, TURNS(overrun), "ldap: malformed StartTLS response"),
	    0);
	ASSERT_EQ(dialog(TLS_STARTTLS_LDAP, NULL, TURNS(other_op),
			 "ldap: unexpected answer to StartTLS (protocolOp tag 0x61, not an "
			 "ExtendedResponse)"),
		  0);
	ASSERT_EQ(dialog(TLS_STARTTLS_LDAP, NULL, TURNS(other_id),
			 "ldap: unexpected messageID 7 in the StartTLS response"),
		  0);
	ASSERT_EQ(dialog(TLS_STARTTLS_LDAP, NULL, TURNS(indefinite),
			 "ldap: malformed StartTLS response (length form 0x80)"),
		  0);
	return dialog(TLS_STARTTLS_LDAP, NULL, TURNS(huge),
		      "ldap: StartTLS response too long (2147483647 bytes)");
}

/* --- xmpp ------------------------------------------------------------------ */

#define XMPP_OPEN(to)                                                                              \
	"<?xml version='1.0'?><stream:stream" to " xmlns='jabber:client' "                         \
	"xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
#define XMPP_STARTTLS "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
#define EJABBERD_HEADER                                                                            \
	"<?xml version='1.0'?><stream:stream id='10480412384812384768' version='1.0' "             \
	"xml:lang='en' xmlns:stream='http://etherx.jabber.org/streams' from='example.com' "        \
	"xmlns='jabber:client'>"

TEST_IMPL(tls_starttls_xmpp_ejabberd_dialog_is_ready_after_proceed)
{
	static const struct turn t[] = {
	    {NULL, XMPP_OPEN(" to='example.com'"), MORE},
	    {EJABBERD_HEADER, "", MORE},
	    {"<stream:features><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' "
	     "node='http://www.process-one.net/en/ejabberd/' ver='NQ/FvNKyQhRZ+YjYYJQj0LxFj1Y='/>"
	     "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"
	     "<sm xmlns='urn:xmpp:sm:2'/><sm xmlns='urn:xmpp:sm:3'/></stream:features>",
	     XMPP_STARTTLS, MORE},
	    {"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", "", READY},
	};

	return dialog(TLS_STARTTLS_XMPP, "example.com", TURNS(t), "");
}

TEST_IMPL(tls_starttls_xmpp_prosody_style_quotes_text_and_open_proceed)
{
	/* double quotes, a '>' inside an attribute, text and white space
	 * between stanzas, a <proceed> that is not self-closed */
	static const struct turn t[] = {
	    {NULL, XMPP_OPEN(" to='192.0.2.7'"), MORE},
	    {"<?xml version='1.0'?>\n<stream:stream xmlns:stream=\"http://etherx.jabber.org/"
	     "streams\" xml:lang=\"en\" id=\"a>b\" from=\"example.org\" version=\"1.0\" "
	     "xmlns=\"jabber:client\">\n<stream:features><mechanisms "
	     "xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\"><mechanism>SCRAM-SHA-1</mechanism>"
	     "<mechanism>PLAIN</mechanism></mechanisms><starttls "
	     "xmlns=\"urn:ietf:params:xml:ns:xmpp-tls\"/></stream:features> ",
	     XMPP_STARTTLS, MORE},
	    {" <proceed xmlns=\"urn:ietf:params:xml:ns:xmpp-tls\"></proceed>", "", READY},
	};

	return dialog(TLS_STARTTLS_XMPP, "192.0.2.7", TURNS(t), "");
}

TEST_IMPL(tls_starttls_xmpp_to_is_bracketed_for_ipv6_escaped_and_optional)
{
	static const struct turn v6[] = {{NULL, XMPP_OPEN(" to='[2001:db8::7]'"), MORE}};
	static const struct turn esc[] = {{NULL, XMPP_OPEN(" to='a&amp;b&apos;c'"), MORE}};
	static const struct turn none[] = {{NULL, XMPP_OPEN(""), MORE}};
	static const struct turn bad[] = {{NULL, "", FAIL}};
	char longname[300];

	ASSERT_EQ(play(TLS_STARTTLS_XMPP, "2001:db8::7%eth0", TURNS(v6), 0, ""), 0);
	ASSERT_EQ(play(TLS_STARTTLS_XMPP, "a&b'c", TURNS(esc), 0, ""), 0);
	ASSERT_EQ(play(TLS_STARTTLS_XMPP, NULL, TURNS(none), 0, ""), 0);
	ASSERT_EQ(play(TLS_STARTTLS_XMPP, "", TURNS(none), 0, ""), 0);
	ASSERT_EQ(play(TLS_STARTTLS_XMPP, "a b", TURNS(bad), 0,
		       "xmpp: host name has a space or control character"),
		  0);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	return play(TLS_STARTTLS_XMPP, longname, TURNS(bad), 0,
		    "xmpp: host name too long for the stream's 'to'");
}

TEST_IMPL(tls_starttls_xmpp_fails_without_starttls_on_failure_and_stream_error)
{
	static const struct turn none[] = {
	    {NULL, XMPP_OPEN(" to='example.com'"), MORE},
	    {EJABBERD_HEADER "<stream:features><starttls xmlns='urn:example:not-tls'/>"
			     "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>"
			     "PLAIN</mechanism></mechanisms></stream:features>",
	     "", FAIL},
	};
	static const struct turn empty[] = {
	    {NULL, XMPP_OPEN(" to='example.com'"), MORE},
	    {EJABBERD_HEADER "<stream:features/>", "", FAIL},
	};
	static const struct turn failure[] = {
	    {NULL, XMPP_OPEN(" to='example.com'"), MORE},
	    {EJABBERD_HEADER "<stream:features>" XMPP_STARTTLS "</stream:features>", XMPP_STARTTLS,
	     MORE},
	    {"<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>", "", FAIL},
	};
	static const struct turn error[] = {
	    {NULL, XMPP_OPEN(" to='example.com'"), MORE},
	    {EJABBERD_HEADER "<stream:error><host-unknown "
			     "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"
			     "</stream:stream>",
	     "", FAIL},
	};
	static const struct turn closed[] = {
	    {NULL, XMPP_OPEN(" to='example.com'"), MORE},
	    {EJABBERD_HEADER "</stream:stream>", "", FAIL},
	};
	static const struct turn http[] = {
	    {NULL, XMPP_OPEN(" to='example.com'"), MORE},
	    {"<html><body>hello</body></html>", "", FAIL},
	};

	ASSERT_EQ(dialog(TLS_STARTTLS_XMPP, "example.com", TURNS(none),
			 "xmpp: STARTTLS not offered in stream features"),
		  0);
	ASSERT_EQ(dialog(TLS_STARTTLS_XMPP, "example.com", TURNS(empty),
			 "xmpp: STARTTLS not offered in stream features"),
		  0);
	ASSERT_EQ(dialog(TLS_STARTTLS_XMPP, "example.com", TURNS(failure),
			 "xmpp: server answered <starttls/> with <failure/>"),
		  0);
	ASSERT_EQ(dialog(TLS_STARTTLS_XMPP, "example.com", TURNS(error),
			 "xmpp: stream error: host-unknown"),
		  0);
	ASSERT_EQ(dialog(TLS_STARTTLS_XMPP, "example.com", TURNS(closed),
			 "xmpp: server closed the stream"),
		  0);
	return dialog(TLS_STARTTLS_XMPP, "example.com", TURNS(http),
		      "xmpp: unexpected <html> instead of a stream header");
}

TEST_IMPL(tls_starttls_xmpp_fails_on_a_tag_over_16k)
{
	static struct tls_starttls_state st;
	static uint8_t big[TLS_STARTTLS_MSG_MAX + 100];
	struct pp_buf send;

	pp_buf_init(&send, 1 << 16);
	tls_starttls_init(&st, TLS_STARTTLS_XMPP, "example.com");
	ASSERT_EQ(tls_starttls_step(&st, NULL, 0, &send), TLS_STARTTLS_MORE);
	memcpy(big, "<stream:stream id='", 19);
	memset(big + 19, 'x', sizeof(big) - 19);
	ASSERT_EQ(tls_starttls_step(&st, big, sizeof(big), &send), TLS_STARTTLS_FAIL);
	ASSERT_STR_EQ(tls_starttls_error(&st), "xmpp: tag too long (over 16384 bytes)");
	pp_buf_release(&send);
	return 0;
}

/* --- postgres -------------------------------------------------------------- */

#define PG_SSLREQUEST "hex:00 00 00 08 04 d2 16 2f"

TEST_IMPL(tls_starttls_postgres_s_is_ready_n_and_e_fail)
{
	static const struct turn s[] = {{NULL, PG_SSLREQUEST, MORE}, {"S", "", READY}};
	static const struct turn n[] = {{NULL, PG_SSLREQUEST, MORE}, {"N", "", FAIL}};
	static const struct turn e3[] = {
	    {NULL, PG_SSLREQUEST, MORE},
	    {"hex:45 00 00 00 55 53 46 41 54 41 4c 00 56 46 41 54 41 4c 00 43 35 33 33 30 30 00 "
	     "4d 73 6f 72 72 79 2c 20 74 6f 6f 20 6d 61 6e 79 20 63 6c 69 65 6e 74 73 20 61 6c "
	     "72 65 61 64 79 00 46 70 72 6f 63 2e 63 00 4c 33 35 39 00 52 49 6e 69 74 50 72 6f "
	     "63 65 73 73 00 00",
	     "", FAIL},
	};
	static const struct turn e2[] = {
	    {NULL, PG_SSLREQUEST, MORE},
	    {"EFATAL 1:  Unsupported frontend protocol.\n", "", MORE},
	    {"hex:00", "", FAIL},
	};
	static const struct turn other[] = {{NULL, PG_SSLREQUEST, MORE}, {"H", "", FAIL}};
	static const struct turn inject[] = {{NULL, PG_SSLREQUEST, MORE}, {"SE", "", FAIL}};

	ASSERT_EQ(dialog(TLS_STARTTLS_POSTGRES, NULL, TURNS(s), ""), 0);
	ASSERT_EQ(
	    dialog(TLS_STARTTLS_POSTGRES, NULL, TURNS(n), "postgres: server refused SSL ('N')"), 0);
	ASSERT_EQ(dialog(TLS_STARTTLS_POSTGRES, NULL, TURNS(e3),
			 "postgres: server answered SSLRequest with an error: FATAL: sorry, too "
			 "many clients already"),
		  0);
	ASSERT_EQ(
	    dialog(TLS_STARTTLS_POSTGRES, NULL, TURNS(e2),
		   "postgres: server answered SSLRequest with an error: FATAL 1:  Unsupported "
		   "frontend protocol."),
	    0);
	ASSERT_EQ(dialog(TLS_STARTTLS_POSTGRES, NULL, TURNS(other),
			 "postgres: unexpected answer to SSLRequest: 0x48"),
		  0);
	/* libpq's CVE-2021-23222: bytes after 'S' would pass for TLS */
	return dialog(TLS_STARTTLS_POSTGRES, NULL, TURNS(inject),
		      "postgres: unexpected data after the answer to SSLRequest");
}

/* --- mysql ----------------------------------------------------------------- */

/* MySQL 8.0.36: protocol 10, capabilities 0xdfffffff, utf8mb4_0900_ai_ci */
#define MYSQL8_HANDSHAKE                                                                           \
	"hex:4a 00 00 00 0a 38 2e 30 2e 33 36 00 0b 00 00 00 36 5a 01 4b 5f 0c 6e 2c 00 ff ff ff " \
	"02 00 ff df 15 00 00 00 00 00 00 00 00 00 00 1b 7d 4a 39 30 6f 5e 12 56 26 78 51 00 63 "  \
	"61 63 68 69 6e 67 5f 73 68 61 32 5f 70 61 73 73 77 6f 72 64 00"
/* the SSLRequest: length 32, sequence 1, flags 0x8a01, 16 MiB, charset */
#define MYSQL_SSLREQUEST(cs)                                                                       \
	"hex:20 00 00 01 01 8a 00 00 00 00 00 01 " cs                                              \
	" 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "                                              \
	"00 00 00 00 00 00 00 00 00"

TEST_IMPL(tls_starttls_mysql8_handshake_gets_an_sslrequest_then_ready)
{
	static const struct turn t[] = {
	    {NULL, "", MORE},
	    {MYSQL8_HANDSHAKE, MYSQL_SSLREQUEST("ff"), READY},
	};
	/* MariaDB 10.11: "5.5.5-" version prefix, utf8mb4_general_ci */
	static const struct turn maria[] = {
	    {"hex:63 00 00 00 0a 35 2e 35 2e 35 2d 31 30 2e 31 31 2e 36 2d 4d 61 72 69 61 44 42 "
	     "2d 30 2b 64 65 62 31 32 75 31 00 0b 00 00 00 36 5a 01 4b 5f 0c 6e 2c 00 fe ff 2d 02 "
	     "00 bf 81 15 00 00 00 00 00 00 00 00 00 00 1b 7d 4a 39 30 6f 5e 12 56 26 78 51 00 6d "
	     "79 73 71 6c 5f 6e 61 74 69 76 65 5f 70 61 73 73 77 6f 72 64 00",
	     MYSQL_SSLREQUEST("2d"), READY},
	};
	/* protocol 4.1-era packet that stops after the low capability bytes */
	static const struct turn short_v10[] = {
	    {"hex:17 00 00 00 0a 34 2e 31 2e 32 32 00 05 00 00 00 61 62 63 64 65 66 67 68 00 "
	     "00 aa",
	     MYSQL_SSLREQUEST("21"), READY},
	};

	ASSERT_EQ(dialog(TLS_STARTTLS_MYSQL, NULL, TURNS(t), ""), 0);
	ASSERT_EQ(dialog(TLS_STARTTLS_MYSQL, NULL, TURNS(maria), ""), 0);
	return dialog(TLS_STARTTLS_MYSQL, NULL, TURNS(short_v10), "");
}

TEST_IMPL(tls_starttls_mysql_fails_without_client_ssl_on_errors_and_old_protocols)
{
	static const struct turn nossl[] = {
	    {"hex:4a 00 00 00 0a 38 2e 30 2e 33 36 00 0b 00 00 00 36 5a 01 4b 5f 0c 6e 2c 00 ff "
	     "f7 ff 02 00 ff df 15 00 00 00 00 00 00 00 00 00 00 1b 7d 4a 39 30 6f 5e 12 56 26 "
	     "78 51 00 63 61 63 68 69 6e 67 5f 73 68 61 32 5f 70 61 73 73 77 6f 72 64 00",
	     "", FAIL},
	};
	static const struct turn err[] = {
	    {"hex:42 00 00 00 ff 6a 04 48 6f 73 74 20 27 31 39 32 2e 30 2e 32 2e 37 27 20 69 73 "
	     "20 6e 6f 74 20 61 6c 6c 6f 77 65 64 20 74 6f 20 63 6f 6e 6e 65 63 74 20 74 6f 20 "
	     "74 68 69 73 20 4d 79 53 51 4c 20 73 65 72 76 65 72",
	     "", FAIL},
	};
	static const struct turn v9[] = {
	    {"hex:16 00 00 00 09 33 2e 32 31 2e 33 33 00 05 00 00 00 61 62 63 64 65 66 67 68 00",
	     "", FAIL},
	};
	/* the version string never ends inside the packet */
	static const struct turn unterminated[] = {
	    {"hex:05 00 00 00 0a 38 2e 30 2e", "", FAIL},
	};
	static const struct turn truncated[] = {
	    {"hex:0c 00 00 00 0a 38 2e 30 00 0b 00 00 00 36 5a 01", "", FAIL},
	};
	static const struct turn huge[] = {{"hex:ff ff ff 00", "", FAIL}};
	static const struct turn trailing[] = {{MYSQL8_HANDSHAKE "00", "", FAIL}};

	ASSERT_EQ(dialog(TLS_STARTTLS_MYSQL, NULL, TURNS(nossl),
			 "mysql: server lacks CLIENT_SSL (server 8.0.36)"),
		  0);
	ASSERT_EQ(dialog(TLS_STARTTLS_MYSQL, NULL, TURNS(err),
			 "mysql: server error 1130: Host '192.0.2.7' is not allowed to connect to "
			 "this MySQL server"),
		  0);
	ASSERT_EQ(dialog(TLS_STARTTLS_MYSQL, NULL, TURNS(v9),
			 "mysql: server speaks protocol 9 (before MySQL 3.22), which has no TLS"),
		  0);
	ASSERT_EQ(dialog(TLS_STARTTLS_MYSQL, NULL, TURNS(unterminated),
			 "mysql: malformed handshake packet (no end to the server version)"),
		  0);
	ASSERT_EQ(dialog(TLS_STARTTLS_MYSQL, NULL, TURNS(truncated),
			 "mysql: malformed handshake packet (12 bytes, server 8.0)"),
		  0);
	ASSERT_EQ(dialog(TLS_STARTTLS_MYSQL, NULL, TURNS(huge),
			 "mysql: handshake packet too long (16777215 bytes)"),
		  0);
	/* in one read only: in pieces, READY (and the SSLRequest) comes first */
	return play(TLS_STARTTLS_MYSQL, NULL, TURNS(trailing), 0,
		    "mysql: unexpected data after the handshake packet");
}

/* --- the engine's side ----------------------------------------------------- */

TEST_IMPL(tls_starttls_abort_names_what_was_awaited_and_failures_stick)
{
	static struct tls_starttls_state st;
	struct pp_buf send;
	static const char greeting[] = POSTFIX_GREETING;

	pp_buf_init(&send, 1 << 16);
	tls_starttls_init(&st, TLS_STARTTLS_IMAP, NULL);
	ASSERT_STR_EQ(tls_starttls_error(&st), "");
	ASSERT_EQ(tls_starttls_abort(&st, "connection closed"), TLS_STARTTLS_FAIL);
	ASSERT_STR_EQ(tls_starttls_error(&st), "imap: connection closed before the dialog started");

	tls_starttls_init(&st, TLS_STARTTLS_SMTP, NULL);
	ASSERT_EQ(tls_starttls_step(&st, NULL, 0, &send), TLS_STARTTLS_MORE);
	ASSERT_EQ(tls_starttls_abort(&st, "timed out"), TLS_STARTTLS_FAIL);
	ASSERT_STR_EQ(tls_starttls_error(&st), "smtp: timed out while waiting for the greeting");

	tls_starttls_init(&st, TLS_STARTTLS_SMTP, NULL);
	ASSERT_EQ(tls_starttls_step(&st, (const uint8_t *)greeting, sizeof(greeting) - 1, &send),
		  TLS_STARTTLS_MORE);
	ASSERT_EQ(tls_starttls_abort(&st, "connection closed"), TLS_STARTTLS_FAIL);
	ASSERT_STR_EQ(tls_starttls_error(&st),
		      "smtp: connection closed while waiting for the EHLO reply");
	/* the first failure stays, and so does FAIL */
	ASSERT_EQ(tls_starttls_abort(&st, "timed out"), TLS_STARTTLS_FAIL);
	ASSERT_EQ(tls_starttls_step(&st, (const uint8_t *)"250 OK\r\n", 8, &send),
		  TLS_STARTTLS_FAIL);
	ASSERT_STR_EQ(tls_starttls_error(&st),
		      "smtp: connection closed while waiting for the EHLO reply");

	tls_starttls_init(&st, TLS_STARTTLS_XMPP, "example.com");
	ASSERT_EQ(tls_starttls_step(&st, NULL, 0, &send), TLS_STARTTLS_MORE);
	ASSERT_EQ(tls_starttls_abort(&st, "connection reset"), TLS_STARTTLS_FAIL);
	ASSERT_STR_EQ(tls_starttls_error(&st),
		      "xmpp: connection reset while waiting for the stream features");

	tls_starttls_init(&st, TLS_STARTTLS_POSTGRES, NULL);
	ASSERT_EQ(tls_starttls_step(&st, NULL, 0, &send), TLS_STARTTLS_MORE);
	ASSERT_EQ(tls_starttls_step(&st, (const uint8_t *)"S", 1, &send), TLS_STARTTLS_READY);
	ASSERT_EQ(tls_starttls_step(&st, NULL, 0, &send), TLS_STARTTLS_READY);
	ASSERT_STR_EQ(tls_starttls_error(&st), "");

	tls_starttls_init(&st, (enum tls_starttls)42, NULL);
	ASSERT_EQ(tls_starttls_step(&st, NULL, 0, &send), TLS_STARTTLS_FAIL);
	ASSERT_STR_EQ(tls_starttls_error(&st), "unknown: no such STARTTLS protocol (42)");
	pp_buf_release(&send);
	return 0;
}

TEST_IMPL(tls_starttls_full_send_buffer_is_a_failure)
{
	static struct tls_starttls_state st;
	struct pp_buf send;

	pp_buf_init(&send, 8); /* smaller than LDAP's request */
	tls_starttls_init(&st, TLS_STARTTLS_LDAP, NULL);
	ASSERT_EQ(tls_starttls_step(&st, NULL, 0, &send), TLS_STARTTLS_FAIL);
	ASSERT_STR_EQ(tls_starttls_error(&st),
		      "ldap: cannot queue bytes to send (send buffer full)");
	pp_buf_release(&send);
	return 0;
}
