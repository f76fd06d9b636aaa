/* hello.c: the ClientHello builders of hello.h.
 *
 * One writer emits the hello twice: first counting only, to learn the
 * length without padding, then for real into a stack buffer once the padding
 * is decided. Lengths of nested vectors are written as placeholders and
 * patched when the vector is closed, so no length is computed by hand. */
#include "tls/hello.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* The largest record a hello may take: the caps above keep far below it. */
#define HELLO_MAX_RECORD (5 + 16384)

static const uint16_t groups_tls12[] = {
    0x001D, /* x25519 */
    0x0017, /* secp256r1 */
    0x0018, /* secp384r1 */
    0x0019, /* secp521r1 */
    0x001E, /* x448 */
    0x001A, /* brainpoolP256r1 */
    0x001B, /* brainpoolP384r1 */
    0x001C, /* brainpoolP512r1 */
    0x0100, /* ffdhe2048 */
    0x0101, /* ffdhe3072 */
    0x0102, /* ffdhe4096 */
    0x0103, /* ffdhe6144 */
    0x0104, /* ffdhe8192 */
};

static const uint16_t groups_tls13[] = {
    0x001D, 0x0017, 0x0018, 0x0019, 0x001E, 0x0100, 0x0101, 0x0102, 0x0103, 0x0104,
};

static const uint16_t sigalgs_tls12[] = {
    0x0403, /* ecdsa_secp256r1_sha256 */
    0x0503, /* ecdsa_secp384r1_sha384 */
    0x0603, /* ecdsa_secp521r1_sha512 */
    0x0807, /* ed25519 */
    0x0808, /* ed448 */
    0x0804, /* rsa_pss_rsae_sha256 */
    0x0805, /* rsa_pss_rsae_sha384 */
    0x0806, /* rsa_pss_rsae_sha512 */
    0x0809, /* rsa_pss_pss_sha256 */
    0x080A, /* rsa_pss_pss_sha384 */
    0x080B, /* rsa_pss_pss_sha512 */
    0x0401, /* rsa_pkcs1_sha256 */
    0x0501, /* rsa_pkcs1_sha384 */
    0x0601, /* rsa_pkcs1_sha512 */
    0x0303, /* ecdsa_sha224 */
    0x0301, /* rsa_pkcs1_sha224 */
    0x0203, /* ecdsa_sha1 */
    0x0201, /* rsa_pkcs1_sha1 */
    0x0402, /* dsa_sha256 */
    0x0502, /* dsa_sha384 */
    0x0602, /* dsa_sha512 */
    0x0302, /* dsa_sha224 */
    0x0202, /* dsa_sha1 */
};

/* TLS 1.3: no DSA and no SHA-224 (not in RFC 8446); SHA-1 stays because a
 * server may still hold a SHA-1-signed certificate (RFC 8446 4.2.3 legacy). */
static const uint16_t sigalgs_tls13[] = {
    0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0804, 0x0805, 0x0806,
    0x0809, 0x080A, 0x080B, 0x0401, 0x0501, 0x0601, 0x0203, 0x0201,
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const uint16_t *tls_hello_default_groups(uint16_t version, size_t *n)
{
	if (version >= TLS_VERSION_TLS13) {
		*n = COUNT(groups_tls13);
		return groups_tls13;
	}
	*n = COUNT(groups_tls12);
	return groups_tls12;
}

const uint16_t *tls_hello_default_sigalgs(uint16_t version, size_t *n)
{
	if (version >= TLS_VERSION_TLS13) {
		*n = COUNT(sigalgs_tls13);
		return sigalgs_tls13;
	}
	*n = COUNT(sigalgs_tls12);
	return sigalgs_tls12;
}

/* A byte writer into buf (capacity cap), or a counter when buf is NULL.
 * Bytes past cap are counted but not stored; the caller checks n <= cap. */
struct wr {
	uint8_t *buf; /* destination, or NULL to count only */
	size_t cap;   /* bytes buf holds */
	size_t n;     /* bytes written (or counted) so far */
};

static void w8(struct wr *w, unsigned v)
{
	if (w->buf && w->n < w->cap)
		w->buf[w->n] = (uint8_t)v;
	w->n++;
}

static void w16(struct wr *w, unsigned v)
{
	w8(w, v >> 8);
	w8(w, v);
}

static void wbytes(struct wr *w, const void *p, size_t len)
{
	if (w->buf && w->n <= w->cap && len <= w->cap - w->n)
		memcpy(w->buf + w->n, p, len);
	w->n += len;
}

/* Opens a vector with a width-byte length placeholder; returns its position. */
static size_t wopen(struct wr *w, unsigned width)
{
	size_t at = w->n;

	while (width--)
		w8(w, 0);
	return at;
}

/* Closes the vector opened at at: its length is everything written since. */
static void wclose(struct wr *w, size_t at, unsigned width)
{
	size_t len = w->n - at - width;

	if (!w->buf || w->n > w->cap)
		return;
	for (unsigned i = 0; i < width; i++)
		w->buf[at + i] = (uint8_t)(len >> (8 * (width - 1 - i)));
}

static void wlist16(struct wr *w, const uint16_t *v, size_t n)
{
	size_t at = wopen(w, 2);

	for (size_t i = 0; i < n; i++)
		w16(w, v[i]);
	wclose(w, at, 2);
}

/* What the spec asks for once defaults and version rules are applied. */
struct plan {
	const struct tls_hello_spec *spec; /* the caller's spec */
	bool tls13;                        /* supported_versions, key_share, session id */
	bool extensions;                   /* false for SSLv3 */
	bool scsv;                         /* append 0x00FF */
	size_t sni_len;                    /* 0 for no server_name */
	const uint16_t *groups;            /* the supported_groups to send */
	size_t ngroups;                    /* their count */
	const uint16_t *sigalgs;           /* the signature_algorithms to send */
	size_t nsigalgs;                   /* their count */
	bool x25519_share;                 /* key_share carries the x25519 entry */
};

static int plan_hello(struct plan *pl, const struct tls_hello_spec *s)
{
	uint16_t v = s->version;

	if (v < TLS_VERSION_SSL3 || v > TLS_VERSION_TLS13)
		return -EINVAL;
	if (!s->suites || s->nsuites == 0 || s->nsuites > TLS_HELLO_MAX_SUITES)
		return -EINVAL;
	if (s->ngroups > TLS_HELLO_MAX_GROUPS || (s->ngroups && !s->groups))
		return -EINVAL;
	if (s->nsigalgs > TLS_HELLO_MAX_SIGALGS || (s->nsigalgs && !s->sigalgs))
		return -EINVAL;
	memset(pl, 0, sizeof(*pl));
	pl->spec = s;
	pl->tls13 = v == TLS_VERSION_TLS13;
	pl->extensions = v != TLS_VERSION_SSL3;
	pl->scsv = !pl->tls13;
	for (size_t i = 0; pl->scsv && i < s->nsuites; i++)
		if (s->suites[i] == TLS_SUITE_EMPTY_RENEGOTIATION_INFO_SCSV)
			pl->scsv = false; /* the caller offers it already */
	if (s->sni) {
		pl->sni_len = strnlen(s->sni, TLS_HELLO_MAX_SNI + 1);
		if (pl->sni_len > TLS_HELLO_MAX_SNI)
			return -EINVAL;
	}
	if (s->ngroups) {
		pl->groups = s->groups;
		pl->ngroups = s->ngroups;
	} else {
		pl->groups = tls_hello_default_groups(v, &pl->ngroups);
	}
	if (s->nsigalgs) {
		pl->sigalgs = s->sigalgs;
		pl->nsigalgs = s->nsigalgs;
	} else {
		pl->sigalgs = tls_hello_default_sigalgs(v, &pl->nsigalgs);
	}
	for (size_t i = 0; i < pl->ngroups; i++)
		if (pl->groups[i] == TLS_GROUP_X25519)
			pl->x25519_share = true;
	return 0;
}

/* Opens extension type; returns the position of its length. */
static size_t ext_open(struct wr *w, unsigned type)
{
	w16(w, type);
	return wopen(w, 2);
}

/* Writes the whole record; pad is the padding extension's data length, or
 * -1 for no padding extension. */
static void emit_hello(struct wr *w, const struct plan *pl, long pad)
{
	const struct tls_hello_spec *s = pl->spec;
	size_t rec, hs, at, ext, e;

	w8(w, 22);
	w16(w, s->version == TLS_VERSION_SSL3 ? TLS_VERSION_SSL3 : TLS_VERSION_TLS10);
	rec = wopen(w, 2);
	w8(w, 1); /* client_hello */
	hs = wopen(w, 3);
	w16(w, pl->tls13 ? TLS_VERSION_TLS12 : s->version);
	wbytes(w, s->random, 32);
	if (pl->tls13) {
		w8(w, 32);
		wbytes(w, s->session_id, 32);
	} else {
		w8(w, 0);
	}
	at = wopen(w, 2);
	for (size_t i = 0; i < s->nsuites; i++)
		w16(w, s->suites[i]);
	if (pl->scsv)
		w16(w, TLS_SUITE_EMPTY_RENEGOTIATION_INFO_SCSV);
	wclose(w, at, 2);
	w8(w, 1); /* compression methods: null only */
	w8(w, 0);

	if (pl->extensions) {
		ext = wopen(w, 2);
		if (pl->sni_len) {
			e = ext_open(w, TLS_EXT_SERVER_NAME);
			at = wopen(w, 2); /* server_name_list */
			w8(w, 0);         /* host_name */
			w16(w, (unsigned)pl->sni_len);
			wbytes(w, s->sni, pl->sni_len);
			wclose(w, at, 2);
			wclose(w, e, 2);
		}
		if (!pl->tls13) {
			e = ext_open(w, TLS_EXT_EC_POINT_FORMATS);
			w8(w, 1);
			w8(w, 0); /* uncompressed */
			wclose(w, e, 2);
		}
		e = ext_open(w, TLS_EXT_SUPPORTED_GROUPS);
		wlist16(w, pl->groups, pl->ngroups);
		wclose(w, e, 2);
		e = ext_open(w, TLS_EXT_SIGNATURE_ALGORITHMS);
		wlist16(w, pl->sigalgs, pl->nsigalgs);
		wclose(w, e, 2);
		if (pl->tls13) {
			e = ext_open(w, TLS_EXT_SUPPORTED_VERSIONS);
			w8(w, 2);
			w16(w, TLS_VERSION_TLS13);
			wclose(w, e, 2);
			e = ext_open(w, TLS_EXT_PSK_KEY_EXCHANGE_MODES);
			w8(w, 1);
			w8(w, 1); /* psk_dhe_ke */
			wclose(w, e, 2);
			e = ext_open(w, TLS_EXT_KEY_SHARE);
			at = wopen(w, 2); /* client_shares */
			if (pl->x25519_share) {
				w16(w, TLS_GROUP_X25519);
				w16(w, 32);
				wbytes(w, s->key_share, 32);
			}
			wclose(w, at, 2);
			wclose(w, e, 2);
		}
		if (pad >= 0) {
			e = ext_open(w, TLS_EXT_PADDING);
			for (long i = 0; i < pad; i++)
				w8(w, 0);
			wclose(w, e, 2);
		}
		wclose(w, ext, 2);
	}
	wclose(w, hs, 3);
	wclose(w, rec, 2);
}

static bool bad_mod256(size_t len)
{
	return len % 256 == 10 || len % 256 == 14;
}

/* The padding extension's data length for a handshake message of len bytes
 * without it, or -1 when none is needed. The extension adds 4 + pad bytes
 * and pad >= 1 so that it is never an empty last extension. The length it
 * makes is never 10 or 14 mod 256: it is 512 (0), or len + 5 where len is
 * 508..511 (1..4) or 10/14 mod 256 (15/19). */
static long padding_for(size_t len)
{
	size_t target;

	if (len < 256 || (len >= 512 && !bad_mod256(len)))
		return -1;
	target = len + 5;
	if (target < 512)
		target = 512;
	return (long)(target - len - 4);
}

int tls_hello_build(struct pp_buf *out, const struct tls_hello_spec *spec)
{
	uint8_t buf[HELLO_MAX_RECORD];
	struct wr w = {NULL, 0, 0};
	struct plan pl;
	long pad = -1;
	int r;

	if (!spec)
		return -EINVAL;
	r = plan_hello(&pl, spec);
	if (r < 0)
		return r;
	emit_hello(&w, &pl, -1);
	if (pl.extensions)
		pad = padding_for(w.n - 5);
	w = (struct wr){buf, sizeof(buf), 0};
	emit_hello(&w, &pl, pad);
	if (w.n > sizeof(buf))
		return -EINVAL; /* cannot happen within the caps */
	return pp_buf_put(out, buf, w.n);
}

int tls_hello_build_v2(struct pp_buf *out, const uint32_t *specs, size_t n,
		       const uint8_t challenge[16])
{
	uint8_t buf[2 + 9 + 3 * TLS_HELLO_V2_MAX_SPECS + 16];
	struct wr w = {buf, sizeof(buf), 0};
	size_t len;

	if (!specs || !challenge || n == 0 || n > TLS_HELLO_V2_MAX_SPECS)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (specs[i] > 0xFFFFFF)
			return -EINVAL;
	len = 9 + 3 * n + 16;
	w8(&w, 0x80 | (unsigned)(len >> 8));
	w8(&w, (unsigned)len);
	w8(&w, 1); /* MSG-CLIENT-HELLO */
	w16(&w, 0x0002);
	w16(&w, (unsigned)(3 * n));
	w16(&w, 0);  /* session id length */
	w16(&w, 16); /* challenge length */
	for (size_t i = 0; i < n; i++) {
		w8(&w, specs[i] >> 16);
		w16(&w, specs[i] & 0xFFFF);
	}
	wbytes(&w, challenge, 16);
	return pp_buf_put(out, buf, w.n);
}
