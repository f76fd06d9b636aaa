/* record.h: an incremental parser of what a TLS/SSL server sends back to a
 * raw ClientHello (pure: bytes in, events out, no sockets).
 *
 * The caller feeds bytes as they arrive (tls_reader_feed), then takes events
 * one at a time (tls_reader_next) until TLS_EV_NEED_MORE, and calls
 * tls_reader_eof() when the peer closed. Records are reassembled, handshake
 * messages may span records or share one, and every length read from the
 * wire is checked against what was received and against the limits before
 * use: nothing is allocated from a wire length, buffers grow with the bytes
 * actually received (capped by max_total).
 *
 * The very first bytes decide whether the peer speaks TLS at all: a record
 * type outside 20..23, a record version outside 0x0300..0x0304, an
 * impossible record length, or a high-bit SSLv2 header whose message is not
 * a SERVER-HELLO (type 4, session_id_hit 0/1, version 0x0002) is
 * TLS_ERR_NOT_TLS, decided from as few bytes as possible
 * (an HTTP "HTTP/1.1 400" or an SMTP "220 " banner fails on the first byte;
 * testssl #2500 misread HTTP as TLS). The same faults after the first good
 * record header are TLS_ERR_MALFORMED.
 *
 * Once the server's messages are encrypted (application_data after a
 * ServerHello, or anything after a TLS <= 1.2 ChangeCipherSpec) the reader
 * stops with TLS_EV_ENCRYPTED. Errors and ENCRYPTED/END are sticky: next()
 * returns them again.
 *
 * Lifetimes: spans point into the reader's buffers and stay valid until the
 * next tls_reader_feed() or tls_reader_release(); the array of certificate
 * spans of a TLS_EV_CERTIFICATE event until the next tls_reader_next() too. */
#ifndef PP_TLS_RECORD_H
#define PP_TLS_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLS_READER_MAX_TOTAL   (2u << 20) /* default: bytes over the stream */
#define TLS_READER_MAX_MESSAGE (3u << 19) /* default: 1.5 MiB per handshake message */
#define TLS_READER_MAX_CERTS   256        /* default: certificates per Certificate */
#define TLS_SH_MAX_EXTENSIONS  32         /* ServerHello extension types kept */

/* Events (>= 0) and errors (< 0) from tls_reader_next(); the errors are far
 * from errno values, which can also come back (-ENOMEM). */
enum tls_event_type {
	TLS_EV_NEED_MORE = 0,       /* feed more bytes (or call tls_reader_eof) */
	TLS_EV_SERVER_HELLO,        /* ev->sh (also a HelloRetryRequest: sh.is_hrr) */
	TLS_EV_ALERT,               /* ev->alert */
	TLS_EV_CERTIFICATE,         /* ev->cert: TLS <= 1.2 plaintext Certificate */
	TLS_EV_SERVER_KEY_EXCHANGE, /* ev->ske */
	TLS_EV_SERVER_HELLO_DONE,   /* no payload */
	TLS_EV_OTHER_HANDSHAKE,     /* ev->hs: any other handshake message */
	TLS_EV_CHANGE_CIPHER_SPEC,  /* no payload */
	TLS_EV_ENCRYPTED,           /* encrypted records follow: stop (sticky) */
	TLS_EV_SSLV2_SERVER_HELLO,  /* ev->v2; later bytes are ignored */
	TLS_EV_END,                 /* peer closed at a message boundary (sticky) */

	TLS_ERR_NOT_TLS = -1000,   /* the first bytes are not a TLS/SSL record */
	TLS_ERR_MALFORMED = -1001, /* inconsistent lengths, bad inner structure */
	TLS_ERR_TRUNCATED = -1002, /* peer closed inside a record or message */
	TLS_ERR_TOO_LARGE = -1003, /* over max_total, max_message or max_certs */
};

/* How to read a ServerKeyExchange; the suite table knows, this module does
 * not (see tls_reader_set_kx). */
enum tls_kx {
	TLS_KX_AUTO = 0, /* guess from the structure (see tls_reader_set_kx) */
	TLS_KX_DHE,      /* dh_p, dh_g, dh_Ys, signature? (also DH_anon) */
	TLS_KX_ECDHE,    /* named curve, point, signature? (also ECDH_anon) */
	TLS_KX_OTHER,    /* not parsed: RSA export, PSK, SRP, GOST, ... */
};

struct tls_reader_limits {
	size_t max_total;   /* bytes accepted over the stream; 0: TLS_READER_MAX_TOTAL */
	size_t max_message; /* one handshake message body; 0: TLS_READER_MAX_MESSAGE */
	size_t max_certs;   /* certificates in one message; 0: TLS_READER_MAX_CERTS */
};

struct tls_span {
	const uint8_t *p; /* first byte (NULL when len is 0) */
	size_t len;       /* bytes */
};

struct tls_server_hello {
	uint16_t legacy_version;                    /* server_version / legacy_version field */
	uint16_t version;                           /* supported_versions if present, else legacy */
	uint16_t suite;                             /* selected cipher suite */
	uint8_t compression;                        /* selected compression method */
	uint8_t session_id_len;                     /* 0..32 */
	bool has_supported_versions;                /* the extension was present */
	bool is_hrr;                                /* random is the HelloRetryRequest magic */
	bool has_key_share;                         /* key_share extension present */
	uint16_t key_share_group;                   /* its group (TLS 1.3 ServerHello or HRR) */
	bool renegotiation_info;                    /* renegotiation_info (0xFF01) present */
	size_t nextensions;                         /* extensions in the message */
	uint16_t extensions[TLS_SH_MAX_EXTENSIONS]; /* the first types, in order */
	const uint8_t *random;                      /* 32 bytes */
};

struct tls_alert {
	uint8_t level;       /* 1 warning, 2 fatal */
	uint8_t description; /* e.g. 40 handshake_failure, 70 protocol_version */
};

struct tls_certificates {
	const struct tls_span *certs; /* DER of each certificate, as sent */
	size_t n;                     /* count (may be 0) */
};

struct tls_server_key_exchange {
	enum tls_kx kx;        /* how it was read: DHE, ECDHE or OTHER (not parsed) */
	unsigned dh_bits;      /* DHE: bit length of the prime */
	struct tls_span dh_p;  /* DHE: the prime */
	struct tls_span dh_g;  /* DHE: the generator */
	uint16_t curve;        /* ECDHE: the named curve */
	struct tls_span point; /* ECDHE: the public point */
	struct tls_span body;  /* the whole message body */
};

struct tls_other_handshake {
	uint8_t type;         /* handshake type, e.g. 13 certificate_request, 22 status */
	struct tls_span body; /* its body */
};

struct tls_sslv2_server_hello {
	uint16_t version;              /* server_version, 0x0002 */
	bool session_id_hit;           /* the server resumed */
	uint8_t certificate_type;      /* 1 = X.509 */
	const uint8_t *specs;          /* nspecs cipher specs, 3 bytes each, big-endian */
	size_t nspecs;                 /* count of specs */
	struct tls_span certificate;   /* DER */
	struct tls_span connection_id; /* 16..32 bytes as sent */
};

struct tls_event {
	int type; /* enum tls_event_type, the same value next() returns */
	union {
		struct tls_server_hello sh;
		struct tls_alert alert;
		struct tls_certificates cert;
		struct tls_server_key_exchange ske;
		struct tls_other_handshake hs;
		struct tls_sslv2_server_hello v2;
	};
};

/* The parser state; fields are private to record.c. */
struct tls_reader {
	struct tls_reader_limits lim; /* limits in force */
	uint8_t *in;                  /* received bytes (owned) */
	size_t in_len;                /* bytes held in in */
	size_t in_off;                /* start of the first record not yet consumed */
	size_t in_cap;                /* bytes allocated */
	uint8_t *hs;                  /* handshake bytes reassembled from records (owned) */
	size_t hs_len;                /* bytes held in hs */
	size_t hs_off;                /* start of the first message not yet parsed */
	size_t hs_cap;                /* bytes allocated */
	struct tls_span *certs;       /* spans of the last Certificate (owned) */
	size_t certs_cap;             /* spans allocated */
	size_t total;                 /* bytes accepted so far */
	size_t alert_pos;             /* alerts already reported from the current record */
	int mode;                     /* sniffing, TLS, done (record.c) */
	int final;                    /* sticky result, or 0 */
	enum tls_kx kx;               /* how to read the next ServerKeyExchange */
	bool sh_seen;                 /* a ServerHello was parsed */
	uint16_t version;             /* selected version of the last ServerHello */
	bool hrr;                     /* the last ServerHello was a HelloRetryRequest */
	bool encrypted;               /* a TLS <= 1.2 ChangeCipherSpec was seen */
	bool over;                    /* a feed went past max_total */
	bool eof;                     /* tls_reader_eof() was called */
};

/* Sets up an empty reader; lim NULL (or zero fields) for the defaults.
 * No allocation. */
void tls_reader_init(struct tls_reader *r, const struct tls_reader_limits *lim);
/* Frees the reader's buffers; NULL-safe. Events' spans die with them. */
void tls_reader_release(struct tls_reader *r);
/* Copies n bytes from the peer in. Returns 0; TLS_ERR_TOO_LARGE when they
 * take the stream past max_total (the bytes up to the limit are kept and
 * their events still come out before the error); the sticky error once
 * next() failed; -ENOMEM; -EINVAL after tls_reader_eof() or for p NULL.
 * After ENCRYPTED or an SSLv2 ServerHello, bytes are ignored (0). */
int tls_reader_feed(struct tls_reader *r, const uint8_t *p, size_t n);
/* Marks the end of the stream: what is left incomplete is TLS_ERR_TRUNCATED,
 * a clean end TLS_EV_END. */
void tls_reader_eof(struct tls_reader *r);
/* The next event, written to *ev and returned (ev->type); TLS_EV_NEED_MORE
 * when the bytes so far hold no more; an error (< 0) which then sticks. */
int tls_reader_next(struct tls_reader *r, struct tls_event *ev);
/* Says how to read the next ServerKeyExchange, from the suite the
 * ServerHello selected: DHE and ECDHE are parsed strictly (a mismatch is
 * MALFORMED), OTHER is not parsed. AUTO, the default, tries ECDHE then DHE
 * and falls back to OTHER; it cannot tell RSA_EXPORT parameters from
 * anonymous DH, so the engine should set the real key exchange. */
void tls_reader_set_kx(struct tls_reader *r, enum tls_kx kx);

/* A short stable name for an event or error ("server_hello", "not_tls"...). */
const char *tls_event_name(int type);

/* Cipher spec i of an SSLv2 ServerHello. */
static inline uint32_t tls_sslv2_spec(const struct tls_sslv2_server_hello *v2, size_t i)
{
	const uint8_t *s = v2->specs + 3 * i;

	return (uint32_t)s[0] << 16 | (uint32_t)s[1] << 8 | s[2];
}

#endif
