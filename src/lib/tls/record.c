/* record.c: the incremental server-reply parser of record.h.
 *
 * Two buffers: `in` holds the raw bytes from the peer, `hs` the payloads of
 * handshake records laid end to end, so that a message split over records
 * becomes contiguous and several messages in one record are read one by
 * one. Memory only moves in tls_reader_feed(): it drops what was consumed,
 * grows `in` for the new bytes and grows `hs` by as much as could still
 * become handshake payload. tls_reader_next() therefore never reallocates
 * a byte buffer, and spans handed out stay put until the next feed.
 *
 * next() first emits a complete handshake message waiting in `hs`, and only
 * then consumes the next record, so events come out in wire order. */
#include "tls/record.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum reader_mode {
	MODE_SNIFF = 0, /* nothing accepted yet: TLS, SSLv2 or not TLS at all */
	MODE_TLS,       /* a good TLS record header was seen */
	MODE_DONE,      /* an SSLv2 ServerHello was read: ignore the rest */
};

/* Internal: next_record() appended handshake bytes; look for a message.
 * Not an event value. */
#define AGAIN 1000

#define REC_MAX_PLAIN  16384u          /* TLSPlaintext.length */
#define REC_MAX_CIPHER (16384u + 2048) /* TLSCiphertext.length */
#define V2_HELLO_FIXED 11u             /* SSLv2 SERVER-HELLO without its data */

/* SHA-256("HelloRetryRequest"), RFC 8446 4.1.3. */
static const uint8_t hrr_random[32] = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
};

/* A bounds-checked cursor: every read checks n first. */
struct cur {
	const uint8_t *p; /* next byte */
	size_t n;         /* bytes left */
};

static bool get8(struct cur *c, unsigned *v)
{
	if (c->n < 1)
		return false;
	*v = c->p[0];
	c->p++;
	c->n--;
	return true;
}

static bool get16(struct cur *c, unsigned *v)
{
	if (c->n < 2)
		return false;
	*v = (unsigned)c->p[0] << 8 | c->p[1];
	c->p += 2;
	c->n -= 2;
	return true;
}

static bool get24(struct cur *c, size_t *v)
{
	if (c->n < 3)
		return false;
	*v = (size_t)c->p[0] << 16 | (size_t)c->p[1] << 8 | c->p[2];
	c->p += 3;
	c->n -= 3;
	return true;
}

static bool take(struct cur *c, size_t len, struct tls_span *s)
{
	if (len > c->n)
		return false;
	s->p = len ? c->p : NULL;
	s->len = len;
	c->p += len;
	c->n -= len;
	return true;
}

/* A vector with a width-byte length prefix. */
static bool vec(struct cur *c, unsigned width, struct tls_span *s)
{
	unsigned v;
	size_t len;

	if (width == 1) {
		if (!get8(c, &v))
			return false;
		len = v;
	} else if (width == 2) {
		if (!get16(c, &v))
			return false;
		len = v;
	} else if (!get24(c, &len)) {
		return false;
	}
	return take(c, len, s);
}

void tls_reader_init(struct tls_reader *r, const struct tls_reader_limits *lim)
{
	memset(r, 0, sizeof(*r));
	r->lim.max_total = lim && lim->max_total ? lim->max_total : TLS_READER_MAX_TOTAL;
	r->lim.max_message = lim && lim->max_message ? lim->max_message : TLS_READER_MAX_MESSAGE;
	r->lim.max_certs = lim && lim->max_certs ? lim->max_certs : TLS_READER_MAX_CERTS;
}

void tls_reader_release(struct tls_reader *r)
{
	struct tls_reader_limits lim;

	if (!r)
		return;
	lim = r->lim;
	free(r->in);
	free(r->hs);
	free(r->certs);
	tls_reader_init(r, &lim);
}

void tls_reader_set_kx(struct tls_reader *r, enum tls_kx kx)
{
	r->kx = kx;
}

void tls_reader_eof(struct tls_reader *r)
{
	r->eof = true;
}

/* Grows *buf to hold need bytes (doubling, at least 4 KiB). */
static int reserve(uint8_t **buf, size_t *cap, size_t need)
{
	size_t c = *cap ? *cap : 4096;
	uint8_t *p;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	p = realloc(*buf, c);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = c;
	return 0;
}

/* Drops consumed bytes from both buffers. Only called from feed. */
static void compact(struct tls_reader *r)
{
	if (r->in_off) {
		memmove(r->in, r->in + r->in_off, r->in_len - r->in_off);
		r->in_len -= r->in_off;
		r->in_off = 0;
	}
	if (r->hs_off) {
		memmove(r->hs, r->hs + r->hs_off, r->hs_len - r->hs_off);
		r->hs_len -= r->hs_off;
		r->hs_off = 0;
	}
}

int tls_reader_feed(struct tls_reader *r, const uint8_t *p, size_t n)
{
	size_t room = r->lim.max_total - r->total;
	int err;

	if (r->final < 0)
		return r->final;
	if (r->eof)
		return -EINVAL;
	if (r->final || r->mode == MODE_DONE)
		return 0;
	if (r->over)
		return TLS_ERR_TOO_LARGE;
	if (n == 0)
		return 0;
	if (!p)
		return -EINVAL;
	if (n > room) {
		n = room;
		r->over = true;
	}
	compact(r);
	/* every unconsumed raw byte may yet be copied to hs: make room now so
	 * that next() never has to move hs under a span it handed out */
	err = reserve(&r->in, &r->in_cap, r->in_len + n);
	if (!err)
		err = reserve(&r->hs, &r->hs_cap, r->hs_len + r->in_len + n);
	if (err) {
		r->final = err;
		return err;
	}
	if (n)
		memcpy(r->in + r->in_len, p, n);
	r->in_len += n;
	r->total += n;
	return r->over ? TLS_ERR_TOO_LARGE : 0;
}

/* What to say when the bytes held do not complete the next unit. */
static int at_end(const struct tls_reader *r)
{
	if (r->over)
		return TLS_ERR_TOO_LARGE;
	if (!r->eof)
		return TLS_EV_NEED_MORE;
	if (r->in_len > r->in_off || r->hs_len > r->hs_off)
		return TLS_ERR_TRUNCATED;
	return TLS_EV_END;
}

/* Checks as much of a TLS record header as is there: -1 impossible, 0 fine
 * so far, 1 a complete good header. */
static int check_header(const uint8_t *p, size_t n)
{
	size_t len;

	if (n >= 1 && (p[0] < 20 || p[0] > 23))
		return -1;
	if (n >= 2 && p[1] != 3)
		return -1;
	if (n >= 3 && p[2] > 4)
		return -1;
	if (n < 5)
		return 0;
	len = (size_t)p[3] << 8 | p[4];
	if (p[0] == 23)
		return len <= REC_MAX_CIPHER ? 1 : -1;
	/* handshake, alert and change_cipher_spec fragments are never empty */
	return len >= 1 && len <= REC_MAX_PLAIN ? 1 : -1;
}

static unsigned bit_length(struct tls_span s)
{
	size_t i = 0;
	unsigned top, bits = 0;

	while (i < s.len && s.p[i] == 0)
		i++;
	if (i == s.len)
		return 0;
	for (top = s.p[i]; top; top >>= 1)
		bits++;
	return (unsigned)(8 * (s.len - i - 1)) + bits;
}

static int parse_server_hello(struct tls_reader *r, const uint8_t *p, size_t n,
			      struct tls_server_hello *sh)
{
	struct cur c = {p, n}, ext = {NULL, 0};
	struct tls_span random, sid, data, list, reneg;
	unsigned v, type;

	if (!get16(&c, &v))
		return TLS_ERR_MALFORMED;
	sh->legacy_version = sh->version = (uint16_t)v;
	if (!take(&c, 32, &random) || !vec(&c, 1, &sid) || sid.len > 32)
		return TLS_ERR_MALFORMED;
	sh->random = random.p;
	sh->is_hrr = !memcmp(random.p, hrr_random, 32);
	sh->session_id_len = (uint8_t)sid.len;
	if (!get16(&c, &v))
		return TLS_ERR_MALFORMED;
	sh->suite = (uint16_t)v;
	if (!get8(&c, &v))
		return TLS_ERR_MALFORMED;
	sh->compression = (uint8_t)v;
	/* extensions are optional, but when present they fill the rest exactly */
	if (c.n) {
		if (!vec(&c, 2, &list) || c.n)
			return TLS_ERR_MALFORMED;
		ext = (struct cur){list.p, list.len};
	}
	while (ext.n) {
		struct cur d;

		if (!get16(&ext, &type) || !vec(&ext, 2, &data))
			return TLS_ERR_MALFORMED;
		if (sh->nextensions < TLS_SH_MAX_EXTENSIONS)
			sh->extensions[sh->nextensions] = (uint16_t)type;
		sh->nextensions++;
		d = (struct cur){data.p, data.len};
		switch (type) {
		case 43: /* supported_versions: selected_version */
			if (!get16(&d, &v) || d.n)
				return TLS_ERR_MALFORMED;
			sh->version = (uint16_t)v;
			sh->has_supported_versions = true;
			break;
		case 51: /* key_share: group, then (not in HRR) key_exchange<1..> */
			if (!get16(&d, &v))
				return TLS_ERR_MALFORMED;
			if (!sh->is_hrr) {
				struct tls_span key;

				if (!vec(&d, 2, &key) || key.len == 0)
					return TLS_ERR_MALFORMED;
			}
			if (d.n)
				return TLS_ERR_MALFORMED;
			sh->has_key_share = true;
			sh->key_share_group = (uint16_t)v;
			break;
		case 0xFF01: /* renegotiation_info: renegotiated_connection<0..255> */
			if (!vec(&d, 1, &reneg) || d.n)
				return TLS_ERR_MALFORMED;
			sh->renegotiation_info = true;
			break;
		default:
			break;
		}
	}
	r->sh_seen = true;
	r->version = sh->version;
	r->hrr = sh->is_hrr;
	return TLS_EV_SERVER_HELLO;
}

static int parse_certificate(struct tls_reader *r, const uint8_t *p, size_t n,
			     struct tls_certificates *out)
{
	struct cur c = {p, n};
	struct tls_span list, one;
	size_t count = 0;

	if (!vec(&c, 3, &list) || c.n)
		return TLS_ERR_MALFORMED;
	c = (struct cur){list.p, list.len};
	while (c.n) {
		if (!vec(&c, 3, &one) || one.len == 0)
			return TLS_ERR_MALFORMED;
		if (count == r->lim.max_certs)
			return TLS_ERR_TOO_LARGE;
		if (count == r->certs_cap) {
			size_t cap = r->certs_cap ? 2 * r->certs_cap : 8;
			struct tls_span *s;

			if (cap > r->lim.max_certs)
				cap = r->lim.max_certs;
			s = realloc(r->certs, cap * sizeof(*s));
			if (!s)
				return -ENOMEM;
			r->certs = s;
			r->certs_cap = cap;
		}
		r->certs[count++] = one;
	}
	out->certs = count ? r->certs : NULL;
	out->n = count;
	return TLS_EV_CERTIFICATE;
}

/* After the parameters: nothing (anonymous), signature<0..2^16-1> (TLS <=
 * 1.1) or SignatureAndHashAlgorithm + signature (TLS 1.2). */
static bool signature_fills(struct cur c)
{
	struct cur t = c;
	struct tls_span s;
	unsigned alg;

	if (c.n == 0)
		return true;
	if (vec(&t, 2, &s) && t.n == 0)
		return true;
	t = c;
	return get16(&t, &alg) && vec(&t, 2, &s) && t.n == 0;
}

static bool read_dhe(const uint8_t *p, size_t n, struct tls_server_key_exchange *ske)
{
	struct cur c = {p, n};
	struct tls_span dp, dg, ys;

	if (!vec(&c, 2, &dp) || !dp.len || !vec(&c, 2, &dg) || !dg.len || !vec(&c, 2, &ys) ||
	    !ys.len || !signature_fills(c))
		return false;
	ske->kx = TLS_KX_DHE;
	ske->dh_p = dp;
	ske->dh_g = dg;
	ske->dh_bits = bit_length(dp);
	return true;
}

/* 1 read, 0 not ECDHE-shaped, -1 explicit curve parameters (not parsed). */
static int read_ecdhe(const uint8_t *p, size_t n, struct tls_server_key_exchange *ske)
{
	struct cur c = {p, n};
	struct tls_span pt;
	unsigned type, curve;

	if (!get8(&c, &type))
		return 0;
	if (type == 1 || type == 2)
		return -1; /* explicit_prime / explicit_char2 */
	if (type != 3 || !get16(&c, &curve) || !vec(&c, 1, &pt) || !pt.len || !signature_fills(c))
		return 0;
	ske->kx = TLS_KX_ECDHE;
	ske->curve = (uint16_t)curve;
	ske->point = pt;
	return 1;
}

static int parse_server_key_exchange(const struct tls_reader *r, const uint8_t *p, size_t n,
				     struct tls_server_key_exchange *ske)
{
	ske->body = (struct tls_span){n ? p : NULL, n};
	ske->kx = TLS_KX_OTHER;
	switch (r->kx) {
	case TLS_KX_DHE:
		return read_dhe(p, n, ske) ? TLS_EV_SERVER_KEY_EXCHANGE : TLS_ERR_MALFORMED;
	case TLS_KX_ECDHE:
		return read_ecdhe(p, n, ske) ? TLS_EV_SERVER_KEY_EXCHANGE : TLS_ERR_MALFORMED;
	case TLS_KX_OTHER:
		return TLS_EV_SERVER_KEY_EXCHANGE;
	case TLS_KX_AUTO:
		break;
	}
	/* each reader fills ske only when the whole body fits its shape; a
	 * first byte of 1 or 2 is as likely a DH prime length (0x01xx: 2048
	 * bits) as an explicit curve, so anything but a named curve goes on */
	if (read_ecdhe(p, n, ske) != 1)
		read_dhe(p, n, ske);
	return TLS_EV_SERVER_KEY_EXCHANGE;
}

/* One complete handshake message: type, body p[0..n). */
static int parse_message(struct tls_reader *r, unsigned type, const uint8_t *p, size_t n,
			 struct tls_event *ev)
{
	bool tls13 = r->sh_seen && r->version >= 0x0304;

	switch (type) {
	case 2:
		return parse_server_hello(r, p, n, &ev->sh);
	case 11:
		if (tls13) /* a TLS 1.3 Certificate in plaintext: not ours to read */
			break;
		return parse_certificate(r, p, n, &ev->cert);
	case 12:
		if (tls13)
			break;
		return parse_server_key_exchange(r, p, n, &ev->ske);
	case 14:
		return n ? TLS_ERR_MALFORMED : TLS_EV_SERVER_HELLO_DONE;
	default:
		break;
	}
	ev->hs.type = (uint8_t)type;
	ev->hs.body = (struct tls_span){n ? p : NULL, n};
	return TLS_EV_OTHER_HANDSHAKE;
}

/* The next complete handshake message in hs, or NEED_MORE. */
static int next_message(struct tls_reader *r, struct tls_event *ev)
{
	size_t avail = r->hs_len - r->hs_off, len;
	const uint8_t *p;

	if (avail < 4) /* also keeps NULL + 0 (UB) away before the first feed */
		return TLS_EV_NEED_MORE;
	p = r->hs + r->hs_off;
	len = (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
	if (len > r->lim.max_message)
		return TLS_ERR_TOO_LARGE;
	if (avail - 4 < len)
		return TLS_EV_NEED_MORE;
	r->hs_off += 4 + len;
	return parse_message(r, p[0], p + 4, len, ev);
}

/* An SSLv2 record at the start of the stream: SERVER-HELLO or not TLS. */
static int next_sslv2(struct tls_reader *r, struct tls_event *ev)
{
	const uint8_t *p = r->in + r->in_off;
	size_t avail = r->in_len - r->in_off, mlen = 0;
	struct tls_sslv2_server_hello *v2 = &ev->v2;
	struct tls_span cert, specs, conn;
	struct cur c;
	unsigned cl, sl, il;

	if (avail >= 2) {
		mlen = (size_t)(p[0] & 0x7F) << 8 | p[1];
		if (mlen < V2_HELLO_FIXED)
			return TLS_ERR_NOT_TLS;
	}
	/* SERVER-HELLO (4), session_id_hit 0 or 1, a certificate type, and
	 * server_version 0x0002: seven bytes before calling it SSLv2 */
	if (avail >= 3 && p[2] != 4)
		return TLS_ERR_NOT_TLS;
	if (avail >= 4 && p[3] > 1)
		return TLS_ERR_NOT_TLS;
	if ((avail >= 6 && p[5] != 0) || (avail >= 7 && p[6] != 2))
		return TLS_ERR_NOT_TLS;
	if (avail < 7 || avail - 2 < mlen)
		return at_end(r);
	/* mlen >= 11: the type (checked) and ten fixed bytes are there; then
	 * the three spans must fill the message exactly */
	v2->session_id_hit = p[3] != 0;
	v2->certificate_type = p[4];
	v2->version = (uint16_t)(p[5] << 8 | p[6]);
	cl = (unsigned)p[7] << 8 | p[8];
	sl = (unsigned)p[9] << 8 | p[10];
	il = (unsigned)p[11] << 8 | p[12];
	c = (struct cur){p + 2 + V2_HELLO_FIXED, mlen - V2_HELLO_FIXED};
	if (sl % 3 || !take(&c, cl, &cert) || !take(&c, sl, &specs) || !take(&c, il, &conn) || c.n)
		return TLS_ERR_MALFORMED;
	v2->certificate = cert;
	v2->specs = specs.p;
	v2->nspecs = sl / 3;
	v2->connection_id = conn;
	r->in_off += 2 + mlen;
	r->mode = MODE_DONE;
	return TLS_EV_SSLV2_SERVER_HELLO;
}

/* Consumes the next record: an event, AGAIN after handshake bytes, or
 * what at_end() says when it is not all there. */
static int next_record(struct tls_reader *r, struct tls_event *ev)
{
	size_t avail = r->in_len - r->in_off, len;
	const uint8_t *p, *payload;
	int h;

	if (r->mode == MODE_DONE)
		return r->eof ? TLS_EV_END : TLS_EV_NEED_MORE;
	if (avail == 0) /* in may still be NULL: no pointer arithmetic on it */
		return at_end(r);
	p = r->in + r->in_off;
	if (r->mode == MODE_SNIFF && (p[0] & 0x80))
		return next_sslv2(r, ev);
	if (r->encrypted)
		return TLS_EV_ENCRYPTED;
	h = check_header(p, avail);
	if (h < 0)
		return r->mode == MODE_SNIFF ? TLS_ERR_NOT_TLS : TLS_ERR_MALFORMED;
	if (h == 0)
		return at_end(r);
	r->mode = MODE_TLS;
	if (p[0] == 23) /* application_data: encrypted, or nonsense before a hello */
		return r->sh_seen ? TLS_EV_ENCRYPTED : TLS_ERR_MALFORMED;
	len = (size_t)p[3] << 8 | p[4];
	if (avail - 5 < len)
		return at_end(r);
	payload = p + 5;
	switch (p[0]) {
	case 22:
		/* feed() reserved room for every unconsumed raw byte */
		memcpy(r->hs + r->hs_len, payload, len);
		r->hs_len += len;
		r->in_off += 5 + len;
		return AGAIN;
	case 21:
		if (len % 2)
			return TLS_ERR_MALFORMED;
		ev->alert.level = payload[r->alert_pos];
		ev->alert.description = payload[r->alert_pos + 1];
		r->alert_pos += 2;
		if (r->alert_pos == len) {
			r->alert_pos = 0;
			r->in_off += 5 + len;
		}
		return TLS_EV_ALERT;
	default: /* 20 */
		if (len != 1 || payload[0] != 1)
			return TLS_ERR_MALFORMED;
		r->in_off += 5 + len;
		/* TLS 1.3 sends it for middlebox compatibility only; before
		 * 1.3 what follows it is encrypted */
		if (r->sh_seen && !r->hrr && r->version < 0x0304)
			r->encrypted = true;
		return TLS_EV_CHANGE_CIPHER_SPEC;
	}
}

int tls_reader_next(struct tls_reader *r, struct tls_event *ev)
{
	int t;

	memset(ev, 0, sizeof(*ev));
	if (r->final) {
		ev->type = r->final;
		return r->final;
	}
	do {
		t = next_message(r, ev);
		if (t == TLS_EV_NEED_MORE)
			t = next_record(r, ev);
	} while (t == AGAIN);
	if (t < 0 || t == TLS_EV_ENCRYPTED || t == TLS_EV_END) {
		memset(ev, 0, sizeof(*ev));
		r->final = t;
	}
	ev->type = t;
	return t;
}

const char *tls_event_name(int type)
{
	switch (type) {
	case TLS_EV_NEED_MORE:
		return "need_more";
	case TLS_EV_SERVER_HELLO:
		return "server_hello";
	case TLS_EV_ALERT:
		return "alert";
	case TLS_EV_CERTIFICATE:
		return "certificate";
	case TLS_EV_SERVER_KEY_EXCHANGE:
		return "server_key_exchange";
	case TLS_EV_SERVER_HELLO_DONE:
		return "server_hello_done";
	case TLS_EV_OTHER_HANDSHAKE:
		return "other_handshake";
	case TLS_EV_CHANGE_CIPHER_SPEC:
		return "change_cipher_spec";
	case TLS_EV_ENCRYPTED:
		return "encrypted";
	case TLS_EV_SSLV2_SERVER_HELLO:
		return "sslv2_server_hello";
	case TLS_EV_END:
		return "end";
	case TLS_ERR_NOT_TLS:
		return "not_tls";
	case TLS_ERR_MALFORMED:
		return "malformed";
	case TLS_ERR_TRUNCATED:
		return "truncated";
	case TLS_ERR_TOO_LARGE:
		return "too_large";
	case -ENOMEM:
		return "out_of_memory";
	default:
		return "unknown";
	}
}
