/* fuzz_tls_record.c: the TLS server-reply reader (src/lib/tls/record.c) on
 * arbitrary bytes fed in random-sized pieces. Beyond not crashing, the
 * events must not depend on how the stream was split: the bytes are read
 * once whole and once in pieces, and the two event sequences (types, fields
 * and every byte of every span, which also makes ASan check each span) must
 * be equal. Sticky results must stay sticky and the buffers within limits.
 *
 * Input: two control bytes, then the server's bytes.
 *   byte 0: bits 0-1 the ServerKeyExchange hint (enum tls_kx), bit 2 small
 *           limits (8 KiB stream, 2 KiB message, 4 certificates), bits 4-7
 *           log2 of the largest piece (1 byte .. 32 KiB)
 *   byte 1: seed of the piece sizes
 * The real-* seeds are replies of openssl s_server recorded by the unit test
 * tls_reader_openssl_s_server_answers_raw_hellos (PP_TLS_RECORD_DIR=dir)
 * behind the two bytes 00 00 (or F0 00, F4 07...). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tls/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What a run saw: a running hash of the events and their count. */
struct trace {
	uint64_t h; /* FNV-1a over the events */
	size_t n;   /* events (NEED_MORE not counted) */
	int last;   /* the last event */
};

static void mix(struct trace *t, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		t->h ^= b[i];
		t->h *= 0x100000001b3ull;
	}
}

static void mix_u(struct trace *t, uint64_t v)
{
	mix(t, &v, sizeof(v));
}

static void mix_span(struct trace *t, struct tls_span s)
{
	if (s.len && !s.p)
		abort();
	mix_u(t, s.len);
	mix(t, s.p, s.len);
}

/* Folds one event into the trace, checking what the API promises. */
static void fold(struct trace *t, const struct tls_event *ev, const struct tls_reader_limits *lim)
{
	mix_u(t, (uint64_t)(int64_t)ev->type);
	t->n++;
	t->last = ev->type;
	switch (ev->type) {
	case TLS_EV_SERVER_HELLO: {
		const struct tls_server_hello *sh = &ev->sh;
		size_t kept = sh->nextensions < TLS_SH_MAX_EXTENSIONS ? sh->nextensions
								      : TLS_SH_MAX_EXTENSIONS;

		if (sh->session_id_len > 32 || !sh->random)
			abort();
		if (!sh->has_supported_versions && sh->version != sh->legacy_version)
			abort();
		mix_u(t, sh->legacy_version);
		mix_u(t, sh->version);
		mix_u(t, sh->suite);
		mix_u(t, sh->compression);
		mix_u(t, sh->session_id_len);
		mix_u(t, sh->is_hrr | sh->has_key_share << 1 | sh->renegotiation_info << 2);
		mix_u(t, sh->key_share_group);
		mix_u(t, sh->nextensions);
		mix(t, sh->extensions, kept * sizeof(sh->extensions[0]));
		mix(t, sh->random, 32);
		break;
	}
	case TLS_EV_ALERT:
		mix_u(t, ev->alert.level);
		mix_u(t, ev->alert.description);
		break;
	case TLS_EV_CERTIFICATE:
		if (ev->cert.n > lim->max_certs || (ev->cert.n && !ev->cert.certs))
			abort();
		mix_u(t, ev->cert.n);
		for (size_t i = 0; i < ev->cert.n; i++) {
			if (ev->cert.certs[i].len == 0)
				abort();
			mix_span(t, ev->cert.certs[i]);
		}
		break;
	case TLS_EV_SERVER_KEY_EXCHANGE:
		if (ev->ske.body.len > lim->max_message)
			abort();
		if (ev->ske.kx == TLS_KX_DHE &&
		    (!ev->ske.dh_p.len || ev->ske.dh_bits > 8 * ev->ske.dh_p.len))
			abort();
		mix_u(t, ev->ske.kx);
		mix_u(t, ev->ske.dh_bits);
		mix_u(t, ev->ske.curve);
		mix_span(t, ev->ske.dh_p);
		mix_span(t, ev->ske.dh_g);
		mix_span(t, ev->ske.point);
		mix_span(t, ev->ske.body);
		break;
	case TLS_EV_OTHER_HANDSHAKE:
		mix_u(t, ev->hs.type);
		mix_span(t, ev->hs.body);
		break;
	case TLS_EV_SSLV2_SERVER_HELLO:
		if (ev->v2.version != 2 || (ev->v2.nspecs && !ev->v2.specs))
			abort();
		mix_u(t, ev->v2.version);
		mix_u(t, ev->v2.session_id_hit);
		mix_u(t, ev->v2.certificate_type);
		mix_u(t, ev->v2.nspecs);
		mix(t, ev->v2.specs, 3 * ev->v2.nspecs);
		mix_span(t, ev->v2.certificate);
		mix_span(t, ev->v2.connection_id);
		break;
	case TLS_EV_SERVER_HELLO_DONE:
	case TLS_EV_CHANGE_CIPHER_SPEC:
	case TLS_EV_ENCRYPTED:
	case TLS_EV_END:
	case TLS_ERR_NOT_TLS:
	case TLS_ERR_MALFORMED:
	case TLS_ERR_TRUNCATED:
	case TLS_ERR_TOO_LARGE:
		break;
	default:
		abort(); /* no other value may come out (no allocation fails here) */
	}
}

static bool sticky(int t)
{
	return t < 0 || t == TLS_EV_END || t == TLS_EV_ENCRYPTED;
}

/* Takes events until NEED_MORE or a sticky one; true when stopped. */
static bool drain(struct tls_reader *r, struct trace *t, const struct tls_reader_limits *lim)
{
	struct tls_event ev;

	for (;;) {
		int ty = tls_reader_next(r, &ev);

		if (ty != ev.type)
			abort();
		if (ty == TLS_EV_NEED_MORE)
			return false;
		fold(t, &ev, lim);
		if (r->total > lim->max_total || r->in_len > lim->max_total ||
		    r->hs_len > lim->max_total)
			abort();
		if (sticky(ty)) {
			if (tls_reader_next(r, &ev) != ty || ev.type != ty)
				abort();
			return true;
		}
	}
}

/* One run over p[0..n), in pieces of 1..max bytes (0: whole) from seed. */
static struct trace run(const uint8_t *p, size_t n, size_t max, uint32_t seed, enum tls_kx kx,
			const struct tls_reader_limits *lim)
{
	struct trace t = {0xcbf29ce484222325ull, 0, TLS_EV_NEED_MORE};
	struct tls_reader r;
	uint32_t x = seed * 2654435761u + 1;
	size_t off = 0;
	bool stopped = false;

	tls_reader_init(&r, lim);
	tls_reader_set_kx(&r, kx);
	while (off < n && !stopped) {
		size_t k = n - off;
		int f;

		if (max) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			if (k > 1 + x % max)
				k = 1 + x % max;
		}
		f = tls_reader_feed(&r, p + off, k);
		if (f != 0 && f != TLS_ERR_TOO_LARGE && f != TLS_ERR_NOT_TLS &&
		    f != TLS_ERR_MALFORMED && f != TLS_ERR_TRUNCATED)
			abort();
		off += k;
		stopped = drain(&r, &t, lim);
	}
	if (!stopped) {
		tls_reader_eof(&r);
		if (!drain(&r, &t, lim))
			abort(); /* after EOF there is always a last word */
	}
	if (!sticky(t.last))
		abort();
	tls_reader_release(&r);
	return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct tls_reader_limits small = {8192, 2048, 4};
	struct tls_reader_limits lim = {0};
	struct trace whole, pieces;
	enum tls_kx kx;
	size_t max;

	if (size < 2)
		return 0;
	kx = (enum tls_kx)(data[0] & 3);
	if (data[0] & 4)
		lim = small;
	else
		lim = (struct tls_reader_limits){TLS_READER_MAX_TOTAL, TLS_READER_MAX_MESSAGE,
						 TLS_READER_MAX_CERTS};
	max = (size_t)1 << (data[0] >> 4);
	whole = run(data + 2, size - 2, 0, 0, kx, &lim);
	pieces = run(data + 2, size - 2, max, data[1], kx, &lim);
	if (whole.h != pieces.h || whole.n != pieces.n || whole.last != pieces.last)
		abort();
	return 0;
}
