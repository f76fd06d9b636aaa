/* test_tls_codec.c: the raw TLS wire codec. ClientHellos are checked byte
 * by byte and walked by an independent parser (lengths, SCSV, extension
 * order, padding rules over every suite count and SNI length); the reader
 * is fed hand-built server replies whole and in every split, damaged at
 * every offset, too big, and not TLS at all; and a real `openssl s_server`
 * answers hellos built here. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "portprobe/buf.h"
#include "tls/hello.h"
#include "tls/record.h"
#include "test.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define U8(b)    ((const uint8_t *)(b)->data)

/* --- building bytes ---------------------------------------------------- */

static void p8(struct pp_buf *b, unsigned v)
{
	uint8_t c = (uint8_t)v;

	pp_buf_put(b, &c, 1);
}

static void p16(struct pp_buf *b, unsigned v)
{
	p8(b, v >> 8);
	p8(b, v);
}

static void p24(struct pp_buf *b, size_t v)
{
	p8(b, (unsigned)(v >> 16));
	p8(b, (unsigned)(v >> 8));
	p8(b, (unsigned)v);
}

static void pfill(struct pp_buf *b, unsigned v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p8(b, v);
}

/* Wraps data as records of type/version, at most frag bytes each. */
static void records(struct pp_buf *out, unsigned type, unsigned version, const void *data, size_t n,
		    size_t frag)
{
	const uint8_t *p = data;

	do {
		size_t k = n < frag ? n : frag;

		p8(out, type);
		p16(out, version);
		p16(out, (unsigned)k);
		pp_buf_put(out, p, k);
		p += k;
		n -= k;
	} while (n);
}

/* A handshake message: type, 3-byte length, body. */
static void handshake(struct pp_buf *out, unsigned type, const void *body, size_t n)
{
	p8(out, type);
	p24(out, n);
	pp_buf_put(out, body, n);
}

static const uint8_t hrr_magic[32] = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
};

/* A TLS 1.2 ServerHello body: 32-byte session id, ECDHE-RSA-AES128-GCM,
 * renegotiation_info, ec_point_formats and an empty extended_master_secret. */
static void sh12_body(struct pp_buf *b)
{
	p16(b, 0x0303);
	for (unsigned i = 0; i < 32; i++)
		p8(b, 0x40 + i);
	p8(b, 32);
	pfill(b, 0x55, 32);
	p16(b, 0xC02F);
	p8(b, 0);
	p16(b, 5 + 6 + 4);
	p16(b, 0xFF01), p16(b, 1), p8(b, 0);
	p16(b, 0x000B), p16(b, 2), p8(b, 1), p8(b, 0);
	p16(b, 0x0017), p16(b, 0);
}

/* Offset of the extensions length in sh12_body(): where a ServerHello may
 * legitimately end. */
#define SH12_EXT_AT (2 + 32 + 1 + 32 + 2 + 1)

/* A TLS 1.3 ServerHello (or HRR) body with supported_versions and key_share. */
static void sh13_body(struct pp_buf *b, bool hrr, unsigned group)
{
	p16(b, 0x0303);
	if (hrr) {
		pp_buf_put(b, hrr_magic, 32);
	} else {
		for (unsigned i = 0; i < 32; i++)
			p8(b, 0x80 + i);
	}
	p8(b, 32);
	pfill(b, 0xAA, 32);
	p16(b, 0x1301);
	p8(b, 0);
	p16(b, 6 + (hrr ? 6 : 40));
	p16(b, 43), p16(b, 2), p16(b, 0x0304);
	p16(b, 51);
	if (hrr) {
		p16(b, 2), p16(b, group);
	} else {
		p16(b, 36), p16(b, group), p16(b, 32);
		pfill(b, 0x77, 32);
	}
}

/* A Certificate body with n certificates of the given lengths; byte j of
 * certificate i is (i * 31 + j) & 0xff, so spans can be checked. */
static void cert_body(struct pp_buf *b, const size_t *lens, size_t n)
{
	size_t total = 0;

	for (size_t i = 0; i < n; i++)
		total += 3 + lens[i];
	p24(b, total);
	for (size_t i = 0; i < n; i++) {
		p24(b, lens[i]);
		for (size_t j = 0; j < lens[i]; j++)
			p8(b, (unsigned)((i * 31 + j) & 0xff));
	}
}

static int cert_content_ok(const struct tls_span *s, size_t i, size_t len)
{
	if (s->len != len)
		return 0;
	for (size_t j = 0; j < len; j++)
		if (s->p[j] != (uint8_t)((i * 31 + j) & 0xff))
			return 0;
	return 1;
}

/* ServerKeyExchange bodies. */
static void ske_dhe_body(struct pp_buf *b, size_t plen, unsigned top)
{
	p16(b, (unsigned)plen);
	p8(b, top);
	pfill(b, 0xFF, plen - 1);
	p16(b, 1), p8(b, 2);
	p16(b, 256), pfill(b, 0x33, 256);
	p16(b, 0x0401), p16(b, 256), pfill(b, 0x44, 256);
}

static void ske_ecdhe_body(struct pp_buf *b)
{
	p8(b, 3);
	p16(b, 0x0017);
	p8(b, 65), p8(b, 4), pfill(b, 0x21, 64);
	p16(b, 0x0403), p16(b, 72), pfill(b, 0x30, 72);
}

/* --- running the reader ----------------------------------------------- */

/* Feeds p in chunks of chunk bytes (0: all at once), taking events after
 * every feed, then signals EOF; stores the event types (NEED_MORE left out)
 * up to and including the first sticky one. Returns how many. */
static size_t run_types(const uint8_t *p, size_t n, size_t chunk, int *types, size_t max,
			const struct tls_reader_limits *lim)
{
	struct tls_reader r;
	struct tls_event ev;
	size_t count = 0, off = 0;
	bool done = false;

	tls_reader_init(&r, lim);
	while (!done) {
		size_t k = chunk && n - off > chunk ? chunk : n - off;

		if (off < n)
			tls_reader_feed(&r, p + off, k);
		off += k;
		if (off == n)
			tls_reader_eof(&r);
		for (;;) {
			int t = tls_reader_next(&r, &ev);

			if (t == TLS_EV_NEED_MORE)
				break;
			if (count < max)
				types[count++] = t;
			if (t < 0 || t == TLS_EV_END || t == TLS_EV_ENCRYPTED) {
				done = true;
				break;
			}
		}
		if (off == n)
			done = true;
	}
	tls_reader_release(&r);
	return count;
}

/* The single result of feeding p (whole, then EOF) and taking one event. */
static int first_event(const uint8_t *p, size_t n, bool eof)
{
	struct tls_reader r;
	struct tls_event ev;
	int t;

	tls_reader_init(&r, NULL);
	tls_reader_feed(&r, p, n);
	if (eof)
		tls_reader_eof(&r);
	t = tls_reader_next(&r, &ev);
	tls_reader_release(&r);
	return t;
}

/* --- an independent ClientHello walker --------------------------------- */

struct hello_view {
	unsigned rec_version;        /* record-layer version */
	size_t rec_len;              /* record payload = handshake message length */
	unsigned legacy_version;     /* client_version / legacy_version */
	const uint8_t *random;       /* 32 bytes */
	size_t sid_len;              /* legacy_session_id length */
	const uint8_t *sid;          /* its bytes */
	uint16_t suites[2048];       /* cipher_suites, in order */
	size_t nsuites;              /* their count */
	bool has_ext_block;          /* an extensions length field is there */
	size_t next;                 /* extensions */
	uint16_t ext_type[16];       /* their types, in order */
	size_t ext_len[16];          /* their data lengths */
	const uint8_t *ext_data[16]; /* their data */
};

#define RD16(p) ((unsigned)(p)[0] << 8 | (p)[1])

/* Walks a ClientHello record strictly; 0 or the offset of the first fault. */
static int walk_hello(const uint8_t *p, size_t n, struct hello_view *v)
{
	size_t i, hl, sl, el, end;

	memset(v, 0, sizeof(*v));
	if (n < 9 || p[0] != 22)
		return -1;
	v->rec_version = RD16(p + 1);
	v->rec_len = RD16(p + 3);
	if (v->rec_len != n - 5 || p[5] != 1)
		return -2;
	hl = (size_t)p[6] << 16 | (size_t)p[7] << 8 | p[8];
	if (hl != v->rec_len - 4)
		return -3;
	i = 9;
	v->legacy_version = RD16(p + i);
	i += 2;
	v->random = p + i;
	i += 32;
	v->sid_len = p[i++];
	v->sid = p + i;
	i += v->sid_len;
	sl = RD16(p + i);
	i += 2;
	if (sl % 2 || i + sl > n || sl / 2 > COUNT(v->suites))
		return -4;
	for (size_t k = 0; k < sl / 2; k++)
		v->suites[v->nsuites++] = (uint16_t)RD16(p + i + 2 * k);
	i += sl;
	if (p[i] != 1 || p[i + 1] != 0)
		return -5;
	i += 2;
	if (i == n)
		return 0;
	v->has_ext_block = true;
	el = RD16(p + i);
	i += 2;
	if (i + el != n)
		return -6;
	end = n;
	while (i < end) {
		size_t len;

		if (end - i < 4 || v->next == COUNT(v->ext_type))
			return -7;
		len = RD16(p + i + 2);
		if (end - i - 4 < len)
			return -8;
		v->ext_type[v->next] = (uint16_t)RD16(p + i);
		v->ext_len[v->next] = len;
		v->ext_data[v->next] = p + i + 4;
		v->next++;
		i += 4 + len;
	}
	return 0;
}

static const uint8_t *ext_of(const struct hello_view *v, unsigned type, size_t *len)
{
	*len = 0;
	for (size_t i = 0; i < v->next; i++)
		if (v->ext_type[i] == type) {
			*len = v->ext_len[i];
			return v->ext_data[i];
		}
	return NULL;
}

static void fill_spec(struct tls_hello_spec *s, uint16_t version, const uint16_t *suites, size_t n,
		      const char *sni)
{
	memset(s, 0, sizeof(*s));
	s->version = version;
	s->suites = suites;
	s->nsuites = n;
	s->sni = sni;
	for (unsigned i = 0; i < 32; i++) {
		s->random[i] = (uint8_t)i;
		s->session_id[i] = 0xAA;
		s->key_share[i] = 0xBB;
	}
}

/* --- ClientHello ------------------------------------------------------- */

TEST_IMPL(tls_hello_tls12_is_byte_exact)
{
	static const uint16_t suites[] = {0xC02F, 0x009C};
	static const uint16_t groups[] = {0x001D, 0x0017};
	static const uint16_t sigalgs[] = {0x0804, 0x0403};
	static const uint8_t want_head[] = {
	    0x16, 0x03, 0x01, 0x00, 0x61, /* record: handshake, 0x0301, 97 */
	    0x01, 0x00, 0x00, 0x5D,       /* client_hello, 93 */
	    0x03, 0x03,                   /* legacy_version = probed version */
	};
	static const uint8_t want_tail[] = {
	    0x00,                                           /* empty session id */
	    0x00, 0x06, 0xC0, 0x2F, 0x00, 0x9C, 0x00, 0xFF, /* suites + SCSV */
	    0x01, 0x00,                                     /* null compression */
	    0x00, 0x2E,                                     /* extensions: 46 */
	    0x00, 0x00, 0x00, 0x10, 0x00, 0x0E, 0x00, 0x00, 0x0B, 'e',
	    'x',  'a',  'm',  'p',  'l',  'e',  '.',  'c',  'o',  'm',  /* server_name */
	    0x00, 0x0B, 0x00, 0x02, 0x01, 0x00,                         /* ec_point_formats */
	    0x00, 0x0A, 0x00, 0x06, 0x00, 0x04, 0x00, 0x1D, 0x00, 0x17, /* groups */
	    0x00, 0x0D, 0x00, 0x06, 0x00, 0x04, 0x08, 0x04, 0x04, 0x03, /* sigalgs */
	};
	struct tls_hello_spec s;
	struct hello_view v;
	struct pp_buf b;

	fill_spec(&s, TLS_VERSION_TLS12, suites, 2, "example.com");
	s.groups = groups;
	s.ngroups = 2;
	s.sigalgs = sigalgs;
	s.nsigalgs = 2;
	pp_buf_init(&b, 1 << 16);
	ASSERT_EQ(tls_hello_build(&b, &s), 0);
	ASSERT_UEQ(b.len, sizeof(want_head) + 32 + sizeof(want_tail));
	ASSERT_EQ(memcmp(b.data, want_head, sizeof(want_head)), 0);
	for (unsigned i = 0; i < 32; i++)
		ASSERT_EQ(U8(&b)[sizeof(want_head) + i], i);
	ASSERT_EQ(memcmp(U8(&b) + sizeof(want_head) + 32, want_tail, sizeof(want_tail)), 0);

	/* the same through the walker: appending keeps earlier bytes */
	ASSERT_EQ(walk_hello(U8(&b), b.len, &v), 0);
	ASSERT_UEQ(v.rec_version, 0x0301);
	ASSERT_UEQ(v.nsuites, 3);
	ASSERT_UEQ(v.suites[2], 0x00FF);
	ASSERT_UEQ(v.next, 4);
	ASSERT_UEQ(v.ext_type[0], 0);
	ASSERT_UEQ(v.ext_type[1], 11);
	ASSERT_UEQ(v.ext_type[2], 10);
	ASSERT_UEQ(v.ext_type[3], 13);
	ASSERT_EQ(tls_hello_build(&b, &s), 0);
	ASSERT_UEQ(b.len, 2 * (sizeof(want_head) + 32 + sizeof(want_tail)));
	pp_buf_release(&b);

	/* TLS 1.0 and 1.1: legacy_version is the probed one, record 0x0301 */
	for (uint16_t ver = TLS_VERSION_TLS10; ver <= TLS_VERSION_TLS11; ver++) {
		fill_spec(&s, ver, suites, 2, NULL);
		pp_buf_init(&b, 1 << 16);
		ASSERT_EQ(tls_hello_build(&b, &s), 0);
		ASSERT_EQ(walk_hello(U8(&b), b.len, &v), 0);
		ASSERT_UEQ(v.rec_version, 0x0301);
		ASSERT_UEQ(v.legacy_version, ver);
		ASSERT_UEQ(v.sid_len, 0);
		ASSERT_UEQ(v.ext_type[0], 11); /* no server_name */
		pp_buf_release(&b);
	}
	return 0;
}

TEST_IMPL(tls_hello_tls13_has_versions_key_share_and_session_id)
{
	static const uint16_t suites[] = {0x1301, 0x1302, 0x1303};
	static const unsigned order[] = {0, 10, 13, 43, 45, 51};
	struct tls_hello_spec s;
	struct hello_view v;
	struct pp_buf b;
	const uint8_t *d;
	size_t len, ng;
	const uint16_t *groups = tls_hello_default_groups(TLS_VERSION_TLS13, &ng);

	fill_spec(&s, TLS_VERSION_TLS13, suites, 3, "example.com");
	pp_buf_init(&b, 1 << 16);
	ASSERT_EQ(tls_hello_build(&b, &s), 0);
	ASSERT_EQ(walk_hello(U8(&b), b.len, &v), 0);
	ASSERT_UEQ(v.rec_version, 0x0301);
	ASSERT_UEQ(v.legacy_version, 0x0303);
	ASSERT_UEQ(v.sid_len, 32);
	for (unsigned i = 0; i < 32; i++)
		ASSERT_UEQ(v.sid[i], 0xAA);
	ASSERT_UEQ(v.nsuites, 3); /* no SCSV in a TLS 1.3 hello */
	ASSERT_UEQ(v.suites[2], 0x1303);
	ASSERT_TRUE(v.next == 6 || v.next == 7);
	for (size_t i = 0; i < COUNT(order); i++)
		ASSERT_UEQ(v.ext_type[i], order[i]);
	if (v.next == 7)
		ASSERT_UEQ(v.ext_type[6], 21);
	ASSERT_TRUE(v.rec_len < 256 || v.rec_len >= 512);

	d = ext_of(&v, 43, &len);
	ASSERT_UEQ(len, 3);
	ASSERT_TRUE(d[0] == 2 && d[1] == 3 && d[2] == 4); /* {0x0304} only */
	d = ext_of(&v, 45, &len);
	ASSERT_UEQ(len, 2);
	ASSERT_TRUE(d[0] == 1 && d[1] == 1); /* psk_dhe_ke */
	d = ext_of(&v, 51, &len);
	ASSERT_UEQ(len, 2 + 4 + 32);
	ASSERT_UEQ(RD16(d), 36);
	ASSERT_UEQ(RD16(d + 2), 0x001D);
	ASSERT_UEQ(RD16(d + 4), 32);
	for (unsigned i = 0; i < 32; i++)
		ASSERT_UEQ(d[6 + i], 0xBB);
	ASSERT_TRUE(ext_of(&v, 11, &len) == NULL); /* ec_point_formats is <= 1.2 */

	/* default groups: no brainpool in TLS 1.3; sigalgs: no DSA */
	d = ext_of(&v, 10, &len);
	ASSERT_UEQ(len, 2 + 2 * ng);
	for (size_t i = 0; i < ng; i++) {
		ASSERT_UEQ(RD16(d + 2 + 2 * i), groups[i]);
		ASSERT_TRUE(groups[i] < 0x001A || groups[i] > 0x001C);
	}
	d = ext_of(&v, 13, &len);
	for (size_t i = 2; i < len; i += 2)
		ASSERT_TRUE((RD16(d + i) & 0xFF) != 0x02);
	pp_buf_release(&b);

	/* the TLS 1.2 defaults carry brainpool and DSA */
	fill_spec(&s, TLS_VERSION_TLS12, suites, 3, NULL);
	pp_buf_init(&b, 1 << 16);
	ASSERT_EQ(tls_hello_build(&b, &s), 0);
	ASSERT_EQ(walk_hello(U8(&b), b.len, &v), 0);
	d = ext_of(&v, 10, &len);
	ASSERT_UEQ(len, 2 + 2 * 13);
	ASSERT_UEQ(RD16(d + 2), 0x001D);
	ASSERT_UEQ(RD16(d + 2 + 2 * 5), 0x001A);
	d = ext_of(&v, 13, &len);
	ASSERT_UEQ(len, 2 + 2 * 23);
	ASSERT_UEQ(RD16(d + len - 2), 0x0202); /* dsa_sha1 */
	pp_buf_release(&b);
	return 0;
}

TEST_IMPL(tls_hello_tls13_without_x25519_sends_empty_key_share)
{
	static const uint16_t suites[] = {0x1301};
	static const uint16_t groups[] = {TLS_GROUP_SECP384R1};
	struct tls_hello_spec s;
	struct hello_view v;
	struct pp_buf b;
	const uint8_t *d;
	size_t len;

	fill_spec(&s, TLS_VERSION_TLS13, suites, 1, NULL);
	s.groups = groups;
	s.ngroups = 1;
	pp_buf_init(&b, 1 << 16);
	ASSERT_EQ(tls_hello_build(&b, &s), 0);
	ASSERT_EQ(walk_hello(U8(&b), b.len, &v), 0);
	d = ext_of(&v, 51, &len);
	ASSERT_UEQ(len, 2); /* client_shares<0..>: empty, but the extension is not */
	ASSERT_UEQ(RD16(d), 0);
	ASSERT_UEQ(v.ext_type[v.next - 1], 51);
	pp_buf_release(&b);
	return 0;
}

TEST_IMPL(tls_hello_sslv3_has_no_extensions_and_one_scsv)
{
	static const uint16_t suites[] = {0x000A, 0x0005, 0x00FF};
	uint16_t many[200];
	struct tls_hello_spec s;
	struct hello_view v;
	struct pp_buf b;

	fill_spec(&s, TLS_VERSION_SSL3, suites, 2, "example.com");
	pp_buf_init(&b, 1 << 16);
	ASSERT_EQ(tls_hello_build(&b, &s), 0);
	ASSERT_EQ(walk_hello(U8(&b), b.len, &v), 0);
	ASSERT_UEQ(v.rec_version, 0x0300);
	ASSERT_UEQ(v.legacy_version, 0x0300);
	ASSERT_UEQ(v.sid_len, 0);
	ASSERT_UEQ(v.nsuites, 3);
	ASSERT_UEQ(v.suites[2], 0x00FF);
	ASSERT_TRUE(!v.has_ext_block); /* not even an empty extensions block */
	ASSERT_UEQ(b.len, 5 + 4 + 2 + 32 + 1 + 2 + 6 + 2);
	pp_buf_reset(&b);

	/* a caller's own SCSV is not repeated */
	fill_spec(&s, TLS_VERSION_TLS12, suites, 3, NULL);
	ASSERT_EQ(tls_hello_build(&b, &s), 0);
	ASSERT_EQ(walk_hello(U8(&b), b.len, &v), 0);
	ASSERT_UEQ(v.nsuites, 3);
	pp_buf_reset(&b);

	/* SSLv3 is never padded: there is no extension to pad with */
	for (unsigned i = 0; i < 200; i++)
		many[i] = (uint16_t)(0x0100 + i);
	fill_spec(&s, TLS_VERSION_SSL3, many, 150, NULL);
	ASSERT_EQ(tls_hello_build(&b, &s), 0);
	ASSERT_EQ(walk_hello(U8(&b), b.len, &v), 0);
	ASSERT_UEQ(v.rec_len, 4 + 2 + 32 + 1 + 2 + 2 * 151 + 2);
	pp_buf_release(&b);
	return 0;
}

TEST_IMPL(tls_hello_mid_size_is_padded_to_512)
{
	uint16_t suites[60];
	struct tls_hello_spec s;
	struct hello_view v;
	struct pp_buf b;
	size_t unpadded;

	for (unsigned i = 0; i < 60; i++)
		suites[i] = (uint16_t)(0xC000 + i);
	fill_spec(&s, TLS_VERSION_TLS12, suites, 60, "example.com");
	pp_buf_init(&b, 1 << 16);
	ASSERT_EQ(tls_hello_build(&b, &s), 0);
	ASSERT_EQ(walk_hello(U8(&b), b.len, &v), 0);
	/* 4 + 2 + 32 + 1 + (2 + 122) + 2 + 2 + sni 20 + ecpf 6 + groups 32 + sigalgs 52 */
	unpadded = 4 + 2 + 32 + 1 + 2 + 2 * 61 + 2 + 2 + 20 + 6 + 32 + 52;
	ASSERT_UEQ(unpadded, 277);
	ASSERT_UEQ(v.rec_len, 512);
	ASSERT_UEQ(b.len, 5 + 512);
	ASSERT_UEQ(v.next, 5);
	ASSERT_UEQ(v.ext_type[4], TLS_EXT_PADDING);
	ASSERT_UEQ(v.ext_len[4], 512 - unpadded - 4);
	for (size_t i = 0; i < v.ext_len[4]; i++)
		ASSERT_UEQ(v.ext_data[4][i], 0);
	pp_buf_release(&b);
	return 0;
}

TEST_IMPL(tls_hello_sizes_avoid_256_to_511_and_mod256_10_14)
{
	static const size_t edges[] = {256, 300, 507, 508, 509, 510, 511, 522, 526};
	static bool seen[2048];
	uint16_t suites[200];
	char sni[65];
	struct tls_hello_spec s;
	struct hello_view v;
	struct pp_buf b;

	for (unsigned i = 0; i < 200; i++)
		suites[i] = (uint16_t)(0x0001 + i);
	pp_buf_init(&b, 1 << 16);
	for (uint16_t ver = TLS_VERSION_TLS10; ver <= TLS_VERSION_TLS13; ver++)
		for (size_t n = 1; n <= 200; n++)
			for (size_t k = 0; k <= 64; k++) {
				size_t len, unpadded;

				memset(sni, 'a', k);
				sni[k] = '\0';
				fill_spec(&s, ver, suites, n, sni);
				pp_buf_reset(&b);
				ASSERT_EQ(tls_hello_build(&b, &s), 0);
				ASSERT_EQ(walk_hello(U8(&b), b.len, &v), 0);
				len = v.rec_len;
				if (len >= 256 && len <= 511)
					TEST_FAIL_("v%04x n=%zu sni=%zu: %zu bytes", ver, n, k,
						   len);
				if (len % 256 == 10 || len % 256 == 14)
					TEST_FAIL_("v%04x n=%zu sni=%zu: %zu bytes", ver, n, k,
						   len);
				ASSERT_TRUE(v.next > 0);
				ASSERT_TRUE(v.ext_len[v.next - 1] > 0); /* last non-empty */
				ASSERT_UEQ(v.ext_type[0], k ? 0u : (ver == 0x0304 ? 10u : 11u));
				unpadded = len;
				for (size_t e = 0; e < v.next; e++)
					if (v.ext_type[e] == TLS_EXT_PADDING) {
						ASSERT_UEQ(e, v.next - 1); /* padding is last */
						unpadded -= 4 + v.ext_len[e];
					}
				ASSERT_TRUE(unpadded < COUNT(seen));
				seen[unpadded] = true;
				/* padding only where needed, and then as little as allowed */
				if (unpadded < 256 || (unpadded >= 512 && unpadded % 256 != 10 &&
						       unpadded % 256 != 14))
					ASSERT_UEQ(len, unpadded);
				else if (unpadded <= 507)
					ASSERT_UEQ(len, 512);
				else
					ASSERT_TRUE(len >= unpadded + 5 && len <= unpadded + 6);
			}
	/* the loop went through the edges of every rule */
	for (size_t i = 0; i < COUNT(edges); i++)
		if (!seen[edges[i]])
			TEST_FAIL_("unpadded length %zu never built", edges[i]);
	pp_buf_release(&b);
	return 0;
}

TEST_IMPL(tls_hello_rejects_specs_outside_the_caps)
{
	static uint16_t suites[TLS_HELLO_MAX_SUITES + 1];
	static const uint32_t specs[] = {0x1000000};
	uint8_t challenge[16] = {0};
	char sni[TLS_HELLO_MAX_SNI + 2];
	struct tls_hello_spec s;
	struct pp_buf b;

	pp_buf_init(&b, 1 << 16);
	fill_spec(&s, 0x0200, suites, 1, NULL);
	ASSERT_EQ(tls_hello_build(&b, &s), -EINVAL);
	s.version = 0x0305;
	ASSERT_EQ(tls_hello_build(&b, &s), -EINVAL);
	fill_spec(&s, TLS_VERSION_TLS12, suites, 0, NULL);
	ASSERT_EQ(tls_hello_build(&b, &s), -EINVAL);
	s.nsuites = TLS_HELLO_MAX_SUITES + 1;
	ASSERT_EQ(tls_hello_build(&b, &s), -EINVAL);
	s.nsuites = TLS_HELLO_MAX_SUITES; /* the cap itself fits in one record */
	ASSERT_EQ(tls_hello_build(&b, &s), 0);
	pp_buf_reset(&b);
	s.suites = NULL;
	s.nsuites = 1;
	ASSERT_EQ(tls_hello_build(&b, &s), -EINVAL);
	memset(sni, 'a', sizeof(sni) - 1);
	sni[sizeof(sni) - 1] = '\0';
	fill_spec(&s, TLS_VERSION_TLS12, suites, 1, sni);
	ASSERT_EQ(tls_hello_build(&b, &s), -EINVAL);
	sni[TLS_HELLO_MAX_SNI] = '\0';
	ASSERT_EQ(tls_hello_build(&b, &s), 0);
	pp_buf_reset(&b);
	fill_spec(&s, TLS_VERSION_TLS12, suites, 1, NULL);
	s.ngroups = TLS_HELLO_MAX_GROUPS + 1;
	s.groups = suites;
	ASSERT_EQ(tls_hello_build(&b, &s), -EINVAL);
	s.ngroups = 0;
	s.nsigalgs = 3;
	s.sigalgs = NULL;
	ASSERT_EQ(tls_hello_build(&b, &s), -EINVAL);
	ASSERT_EQ(tls_hello_build(&b, NULL), -EINVAL);
	ASSERT_EQ(tls_hello_build_v2(&b, specs, 1, challenge), -EINVAL);
	ASSERT_EQ(tls_hello_build_v2(&b, specs, 0, challenge), -EINVAL);
	ASSERT_UEQ(b.len, 0); /* nothing written by a refused spec */
	pp_buf_release(&b);
	return 0;
}

TEST_IMPL(tls_hello_v2_is_byte_exact)
{
	static const uint32_t specs[] = {0x010080, 0x0700C0};
	static const uint8_t want[] = {
	    0x80, 0x1F,                         /* 2-byte header: 31 bytes */
	    0x01,                               /* MSG-CLIENT-HELLO */
	    0x00, 0x02,                         /* version */
	    0x00, 0x06,                         /* cipher specs length */
	    0x00, 0x00,                         /* session id length */
	    0x00, 0x10,                         /* challenge length */
	    0x01, 0x00, 0x80, 0x07, 0x00, 0xC0, /* specs */
	    0,    1,    2,    3,    4,    5,    6, 7, 8, 9, 10, 11, 12, 13, 14, 15, /* challenge */
	};
	uint8_t challenge[16];
	struct pp_buf b;

	for (unsigned i = 0; i < 16; i++)
		challenge[i] = (uint8_t)i;
	pp_buf_init(&b, 1 << 16);
	ASSERT_EQ(tls_hello_build_v2(&b, specs, 2, challenge), 0);
	ASSERT_UEQ(b.len, sizeof(want));
	ASSERT_EQ(memcmp(b.data, want, sizeof(want)), 0);
	pp_buf_release(&b);
	return 0;
}

/* --- reader: what servers send ----------------------------------------- */

TEST_IMPL(tls_reader_tls12_server_hello_fields)
{
	struct pp_buf body, in;
	struct tls_reader r;
	struct tls_event ev;
	int types[8];

	pp_buf_init(&body, 1 << 20);
	pp_buf_init(&in, 1 << 20);
	sh12_body(&body);
	handshake(&in, 2, body.data, body.len);
	pp_buf_reset(&body);
	pp_buf_put(&body, in.data, in.len);
	pp_buf_reset(&in);
	records(&in, 22, 0x0303, body.data, body.len, 16384);

	tls_reader_init(&r, NULL);
	ASSERT_EQ(tls_reader_feed(&r, U8(&in), in.len), 0);
	ASSERT_EQ(tls_reader_next(&r, &ev), TLS_EV_SERVER_HELLO);
	ASSERT_EQ(ev.type, TLS_EV_SERVER_HELLO);
	ASSERT_UEQ(ev.sh.legacy_version, 0x0303);
	ASSERT_UEQ(ev.sh.version, 0x0303);
	ASSERT_TRUE(!ev.sh.has_supported_versions);
	ASSERT_UEQ(ev.sh.suite, 0xC02F);
	ASSERT_UEQ(ev.sh.compression, 0);
	ASSERT_UEQ(ev.sh.session_id_len, 32);
	ASSERT_TRUE(!ev.sh.is_hrr);
	ASSERT_TRUE(!ev.sh.has_key_share);
	ASSERT_TRUE(ev.sh.renegotiation_info);
	ASSERT_UEQ(ev.sh.nextensions, 3);
	ASSERT_UEQ(ev.sh.extensions[0], 0xFF01);
	ASSERT_UEQ(ev.sh.extensions[1], 0x000B);
	ASSERT_UEQ(ev.sh.extensions[2], 0x0017);
	ASSERT_UEQ(ev.sh.random[0], 0x40);
	ASSERT_UEQ(ev.sh.random[31], 0x5F);
	ASSERT_EQ(tls_reader_next(&r, &ev), TLS_EV_NEED_MORE);
	tls_reader_eof(&r);
	ASSERT_EQ(tls_reader_next(&r, &ev), TLS_EV_END);
	ASSERT_EQ(tls_reader_next(&r, &ev), TLS_EV_END);     /* sticky */
	ASSERT_EQ(tls_reader_feed(&r, U8(&in), 1), -EINVAL); /* after EOF */
	tls_reader_release(&r);
	tls_reader_release(&r); /* twice is fine, and NULL too */
	tls_reader_release(NULL);
	tls_reader_init(&r, NULL);
	ASSERT_EQ(tls_reader_feed(&r, NULL, 1), -EINVAL);
	ASSERT_EQ(tls_reader_feed(&r, NULL, 0), 0);
	ASSERT_EQ(tls_reader_next(&r, &ev), TLS_EV_NEED_MORE); /* nothing fed yet */
	tls_reader_release(&r);

	/* byte by byte: the same events */
	ASSERT_UEQ(run_types(U8(&in), in.len, 1, types, COUNT(types), NULL), 2);
	ASSERT_EQ(types[0], TLS_EV_SERVER_HELLO);
	ASSERT_EQ(types[1], TLS_EV_END);
	pp_buf_release(&body);
	pp_buf_release(&in);
	return 0;
}

TEST_IMPL(tls_reader_tls13_server_hello_then_encrypted)
{
	static const uint8_t ccs[] = {0x14, 0x03, 0x03, 0x00, 0x01, 0x01};
	struct pp_buf body, msg, in;
	struct tls_reader r;
	struct tls_event ev;
	uint8_t appdata[5 + 32] = {0x17, 0x03, 0x03, 0x00, 0x20};

	pp_buf_init(&body, 1 << 20);
	pp_buf_init(&msg, 1 << 20);
	pp_buf_init(&in, 1 << 20);
	sh13_body(&body, false, TLS_GROUP_X25519);
	handshake(&msg, 2, body.data, body.len);
	records(&in, 22, 0x0303, msg.data, msg.len, 16384);
	pp_buf_put(&in, ccs, sizeof(ccs));
	pp_buf_put(&in, appdata, sizeof(appdata));

	tls_reader_init(&r, NULL);
	ASSERT_EQ(tls_reader_feed(&r, U8(&in), in.len), 0);
	ASSERT_EQ(tls_reader_next(&r, &ev), TLS_EV_SERVER_HELLO);
	ASSERT_UEQ(ev.sh.legacy_version, 0x0303);
	ASSERT_UEQ(ev.sh.version, 0x0304);
	ASSERT_TRUE(ev.sh.has_supported_versions);
	ASSERT_UEQ(ev.sh.suite, 0x1301);
	ASSERT_TRUE(!ev.sh.is_hrr);
	ASSERT_TRUE(ev.sh.has_key_share);
	ASSERT_UEQ(ev.sh.key_share_group, 0x001D);
	ASSERT_UEQ(ev.sh.nextensions, 2);
	ASSERT_UEQ(ev.sh.extensions[0], 43);
	ASSERT_UEQ(ev.sh.extensions[1], 51);
	ASSERT_EQ(tls_reader_next(&r, &ev), TLS_EV_CHANGE_CIPHER_SPEC);
	ASSERT_EQ(tls_reader_next(&r, &ev), TLS_EV_ENCRYPTED);
	ASSERT_EQ(tls_reader_next(&r, &ev), TLS_EV_ENCRYPTED);
	ASSERT_EQ(tls_reader_feed(&r, appdata, sizeof(appdata)), 0); /* ignored */
	ASSERT_EQ(tls_reader_next(&r, &ev), TLS_EV_ENCRYPTED);
	tls_reader_release(&r);

	/* a key_share with a byte after its key is malformed: the key is
	 * announced one byte shorter, the extension length left alone */
	pp_buf_reset(&in);
	pp_buf_reset(&msg);
	body.data[body.len - 33] = 0x1F;
	handshake(&msg, 2, body.data, body.len);
	records(&in, 22, 0x0303, msg.data, msg.len, 16384);
	ASSERT_EQ(first_event(U8(&in), in.len, true), TLS_ERR_MALFORMED);
	/* and so is one with an empty key */
	pp_buf_reset(&in);
	pp_buf_reset(&msg);
	pp_buf_reset(&body);
	sh13_body(&body, false, TLS_GROUP_X25519);
	body.len -= 32;
	body.data[body.len - 1] = 0;             /* key length 0 */
	body.data[body.len - 5] = 4;             /* key_share data: 4 bytes */
	body.data[2 + 32 + 1 + 32 + 3 + 1] = 14; /* extensions: 6 + 8 */
	handshake(&msg, 2, body.data, body.len);
	records(&in, 22, 0x0303, msg.data, msg.len, 16384);
	ASSERT_EQ(first_event(U8(&in), in.len, true), TLS_ERR_MALFORMED);
	pp_buf_release(&body);
	pp_buf_release(&msg);
	pp_buf_release(&in);
	return 0;
}

TEST_IMPL(tls_reader_hello_retry_request_names_the_group)
{
	static const uint8_t ccs[] = {0x14, 0x03, 0x03, 0x00, 0x01, 0x01};
	struct pp_buf body, msg, in;
	struct tls_reader r;
	struct tls_event ev;

	pp_buf_init(&body, 1 << 20);
	pp_buf_init(&msg, 1 << 20);
	pp_buf_init(&in, 1 << 20);
	sh13_body(&body, true, TLS_GROUP_SECP384R1);
	handshake(&msg, 2, body.data, body.len);
	records(&in, 22, 0x0303, msg.data, msg.len, 16384);
	pp_buf_put(&in, ccs, sizeof(ccs));
	records(&in, 21, 0x0303, "\x02\x28", 2, 16384);

	tls_reader_init(&r, NULL);
	ASSERT_EQ(tls_reader_feed(&r, U8(&in), in.len), 0);
	ASSERT_EQ(tls_reader_next(&r, &ev), TLS_EV_SERVER_HELLO);
	ASSERT_TRUE(ev.sh.is_hrr);
	ASSERT_UEQ(ev.sh.version, 0x0304);
	ASSERT_UEQ(ev.sh.suite, 0x1301);
	ASSERT_TRUE(ev.sh.has_key_share);
	ASSERT_UEQ(ev.sh.key_share_group, 0x0018);
	/* after an HRR the CCS is compatibility only: records stay readable */
	ASSERT_EQ(tls_reader_next(&r, &ev), TLS_EV_CHANGE_CIPHER_SPEC);
	ASSERT_EQ(tls_reader_next(&r, &ev), TLS_EV_ALERT);
	ASSERT_UEQ(ev.alert.level, 2);
	ASSERT_UEQ(ev.alert.description, 40);
	tls_reader_release(&r);

	/* an HRR key_share carrying a key is malformed */
	pp_buf_reset(&body);
	pp_buf_reset(&msg);
	pp_buf_reset(&in);
	sh13_body(&body, false, TLS_GROUP_X25519);
	memcpy(body.data + 2, hrr_magic, 32);
	handshake(&msg, 2, body.data, body.len);
	records(&in, 22, 0x0303, msg.data, msg.len, 16384);
	ASSERT_EQ(first_event(U8(&in), in.len, true), TLS_ERR_MALFORMED);
	pp_buf_release(&body);
	pp_buf_release(&msg);
	pp_buf_release(&in);
	return 0;
}

TEST_IMPL(tls_reader_alerts_one_event_each)
{
	static const uint8_t one[] = {0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46};
	static const uint8_t two[] = {0x15, 0x03, 0x03, 0x00, 0x04, 0x01, 0x00, 0x02, 0x28};
	static const uint8_t odd[] = {0x15, 0x03, 0x03, 0x00, 0x03, 0x02, 0x28, 0x00};
	struct tls_reader r;
	struct tls_event ev;

	tls_reader_init(&r, NULL);
	ASSERT_EQ(tls_reader_feed(&r, one, sizeof(one)), 0);
	ASSERT_EQ(tls_reader_next(&r, &ev), TLS_EV_ALERT);
	ASSERT_UEQ(ev.alert.level, 2);
	ASSERT_UEQ(ev.alert.description, 70); /* protocol_version */
	ASSERT_EQ(tls_reader_next(&r, &ev), TLS_EV_NEED_MORE);
	/* two alerts in one record, fed in two pieces around a feed */
	ASSERT_EQ(tls_reader_feed(&r, two, 7), 0);
	ASSERT_EQ(tls_reader_next(&r, &ev), TLS_EV_NEED_MORE);
	ASSERT_EQ(tls_reader_feed(&r, two + 7, 2), 0);
	ASSERT_EQ(tls_reader_next(&r, &ev), TLS_EV_ALERT);
	ASSERT_UEQ(ev.alert.level, 1);
	ASSERT_UEQ(ev.alert.description, 0);
	ASSERT_EQ(tls_reader_feed(&r, one, 0), 0); /* a feed between the two */
	ASSERT_EQ(tls_reader_next(&r, &ev), TLS_EV_ALERT);
	ASSERT_UEQ(ev.alert.level, 2);
	ASSERT_UEQ(ev.alert.description, 40);
	tls_reader_eof(&r);
	ASSERT_EQ(tls_reader_next(&r, &ev), TLS_EV_END);
	tls_reader_release(&r);

	ASSERT_EQ(first_event(odd, sizeof(odd), false), TLS_ERR_MALFORMED);
	ASSERT_EQ(first_event(one, 6, true), TLS_ERR_TRUNCATED);
	ASSERT_EQ(first_event(one, 0, true), TLS_EV_END);
	return 0;
}

TEST_IMPL(tls_reader_certificate_split_over_three_records)
{
	static const size_t lens[] = {300, 500, 700};
	static const size_t chunks[] = {0, 1, 7, 100, 1000};
	struct pp_buf body, msg, in;
	struct tls_reader r;
	struct tls_event ev;
	size_t cut1 = 100, cut2 = 900;

	pp_buf_init(&body, 1 << 20);
	pp_buf_init(&msg, 1 << 20);
	pp_buf_init(&in, 1 << 20);
	sh12_body(&body);
	handshake(&msg, 2, body.data, body.len);
	records(&in, 22, 0x0303, msg.data, msg.len, 16384);
	pp_buf_reset(&body);
	pp_buf_reset(&msg);
	cert_body(&body, lens, 3);
	handshake(&msg, 11, body.data, body.len);
	handshake(&msg, 14, NULL, 0);
	/* three records cutting the Certificate at 100 and 900; the last one
	 * also carries ServerHelloDone */
	records(&in, 22, 0x0303, msg.data, cut1, 16384);
	records(&in, 22, 0x0303, msg.data + cut1, cut2 - cut1, 16384);
	records(&in, 22, 0x0303, msg.data + cut2, msg.len - cut2, 16384);

	for (size_t c = 0; c < COUNT(chunks); c++) {
		size_t chunk = chunks[c] ? chunks[c] : in.len, off = 0;
		int seen = 0, t;

		tls_reader_init(&r, NULL);
		while (off < in.len) {
			size_t k = in.len - off < chunk ? in.len - off : chunk;

			ASSERT_EQ(tls_reader_feed(&r, U8(&in) + off, k), 0);
			off += k;
			while ((t = tls_reader_next(&r, &ev)) != TLS_EV_NEED_MORE) {
				ASSERT_EQ(t, seen == 0   ? TLS_EV_SERVER_HELLO
					     : seen == 1 ? TLS_EV_CERTIFICATE
							 : TLS_EV_SERVER_HELLO_DONE);
				if (t == TLS_EV_CERTIFICATE) {
					ASSERT_UEQ(ev.cert.n, 3);
					for (size_t i = 0; i < 3; i++)
						ASSERT_TRUE(
						    cert_content_ok(&ev.cert.certs[i], i, lens[i]));
				}
				seen++;
			}
		}
		ASSERT_EQ(seen, 3);
		tls_reader_eof(&r);
		ASSERT_EQ(tls_reader_next(&r, &ev), TLS_EV_END);
		tls_reader_release(&r);
	}
	pp_buf_release(&body);
	pp_buf_release(&msg);
	pp_buf_release(&in);
	return 0;
}

TEST_IMPL(tls_reader_four_messages_in_one_record_any_split)
{
	static const size_t one_cert[] = {1200};
	static const int want[] = {TLS_EV_SERVER_HELLO, TLS_EV_CERTIFICATE,
				   TLS_EV_SERVER_KEY_EXCHANGE, TLS_EV_SERVER_HELLO_DONE,
				   TLS_EV_END};
	struct pp_buf body, msg, in;
	int types[16];

	pp_buf_init(&body, 1 << 20);
	pp_buf_init(&msg, 1 << 20);
	pp_buf_init(&in, 1 << 20);
	sh12_body(&body);
	handshake(&msg, 2, body.data, body.len);
	pp_buf_reset(&body);
	cert_body(&body, one_cert, 1);
	handshake(&msg, 11, body.data, body.len);
	pp_buf_reset(&body);
	ske_ecdhe_body(&body);
	handshake(&msg, 12, body.data, body.len);
	handshake(&msg, 14, NULL, 0);
	records(&in, 22, 0x0303, msg.data, msg.len, 16384);

	for (size_t chunk = 0; chunk <= 64; chunk++) {
		size_t n = run_types(U8(&in), in.len, chunk, types, COUNT(types), NULL);

		ASSERT_UEQ(n, COUNT(want));
		for (size_t i = 0; i < n; i++)
			ASSERT_EQ(types[i], want[i]);
	}
	/* the same messages one per record, and fragmented every 5 bytes */
	pp_buf_reset(&in);
	records(&in, 22, 0x0303, msg.data, msg.len, 5);
	ASSERT_UEQ(run_types(U8(&in), in.len, 0, types, COUNT(types), NULL), COUNT(want));
	for (size_t i = 0; i < COUNT(want); i++)
		ASSERT_EQ(types[i], want[i]);
	pp_buf_release(&body);
	pp_buf_release(&msg);
	pp_buf_release(&in);
	return 0;
}

/* One ServerKeyExchange message body through a reader with kx hint. */
static int read_ske(const struct pp_buf *body, enum tls_kx kx, struct tls_reader *r,
		    struct tls_event *ev)
{
	struct pp_buf msg, in;
	int t;

	pp_buf_init(&msg, 1 << 20);
	pp_buf_init(&in, 1 << 20);
	handshake(&msg, 12, body->data, body->len);
	records(&in, 22, 0x0303, msg.data, msg.len, 16384);
	tls_reader_init(r, NULL);
	tls_reader_set_kx(r, kx);
	tls_reader_feed(r, U8(&in), in.len);
	t = tls_reader_next(r, ev);
	pp_buf_release(&msg);
	pp_buf_release(&in);
	return t;
}

TEST_IMPL(tls_reader_server_key_exchange_dhe_2048)
{
	static const enum tls_kx hints[] = {TLS_KX_DHE, TLS_KX_AUTO};
	struct pp_buf body;
	struct tls_reader r;
	struct tls_event ev;

	pp_buf_init(&body, 1 << 20);
	ske_dhe_body(&body, 256, 0xFF);
	for (size_t h = 0; h < COUNT(hints); h++) {
		ASSERT_EQ(read_ske(&body, hints[h], &r, &ev), TLS_EV_SERVER_KEY_EXCHANGE);
		ASSERT_EQ(ev.ske.kx, TLS_KX_DHE);
		ASSERT_UEQ(ev.ske.dh_bits, 2048);
		ASSERT_UEQ(ev.ske.dh_p.len, 256);
		ASSERT_UEQ(ev.ske.dh_g.len, 1);
		ASSERT_UEQ(ev.ske.dh_g.p[0], 2);
		ASSERT_UEQ(ev.ske.body.len, body.len);
		tls_reader_release(&r);
	}
	/* bits count from the top set bit, leading zero bytes left out */
	pp_buf_reset(&body);
	ske_dhe_body(&body, 257, 0x00);
	ASSERT_EQ(read_ske(&body, TLS_KX_DHE, &r, &ev), TLS_EV_SERVER_KEY_EXCHANGE);
	ASSERT_UEQ(ev.ske.dh_bits, 2048);
	tls_reader_release(&r);
	pp_buf_reset(&body);
	ske_dhe_body(&body, 128, 0x7F);
	ASSERT_EQ(read_ske(&body, TLS_KX_DHE, &r, &ev), TLS_EV_SERVER_KEY_EXCHANGE);
	ASSERT_UEQ(ev.ske.dh_bits, 1023);
	tls_reader_release(&r);
	/* a prime of zeros has no bits (and is the caller's to judge) */
	pp_buf_reset(&body);
	p16(&body, 2), p16(&body, 0), p16(&body, 1), p8(&body, 2), p16(&body, 1), p8(&body, 5);
	ASSERT_EQ(read_ske(&body, TLS_KX_DHE, &r, &ev), TLS_EV_SERVER_KEY_EXCHANGE);
	ASSERT_EQ(ev.ske.kx, TLS_KX_DHE);
	ASSERT_UEQ(ev.ske.dh_bits, 0);
	tls_reader_release(&r);
	/* a TLS 1.0 signature (no algorithm) and an anonymous one fit too */
	pp_buf_reset(&body);
	p16(&body, 2), p8(&body, 0xC1), p8(&body, 0x01);
	p16(&body, 1), p8(&body, 5), p16(&body, 1), p8(&body, 9);
	ASSERT_EQ(read_ske(&body, TLS_KX_DHE, &r, &ev), TLS_EV_SERVER_KEY_EXCHANGE);
	ASSERT_UEQ(ev.ske.dh_bits, 16);
	tls_reader_release(&r);
	p16(&body, 3), pfill(&body, 0xEE, 3);
	ASSERT_EQ(read_ske(&body, TLS_KX_DHE, &r, &ev), TLS_EV_SERVER_KEY_EXCHANGE);
	tls_reader_release(&r);
	/* a stray byte after the signature is malformed when DHE is known... */
	p8(&body, 0);
	ASSERT_EQ(read_ske(&body, TLS_KX_DHE, &r, &ev), TLS_ERR_MALFORMED);
	tls_reader_release(&r);
	/* ...and unparsed (OTHER) when guessing */
	ASSERT_EQ(read_ske(&body, TLS_KX_AUTO, &r, &ev), TLS_EV_SERVER_KEY_EXCHANGE);
	ASSERT_EQ(ev.ske.kx, TLS_KX_OTHER);
	ASSERT_UEQ(ev.ske.body.len, body.len);
	ASSERT_UEQ(ev.ske.dh_bits, 0);
	tls_reader_release(&r);
	pp_buf_release(&body);
	return 0;
}

TEST_IMPL(tls_reader_server_key_exchange_ecdhe_secp256r1)
{
	static const enum tls_kx hints[] = {TLS_KX_ECDHE, TLS_KX_AUTO};
	struct pp_buf body;
	struct tls_reader r;
	struct tls_event ev;

	pp_buf_init(&body, 1 << 20);
	ske_ecdhe_body(&body);
	for (size_t h = 0; h < COUNT(hints); h++) {
		ASSERT_EQ(read_ske(&body, hints[h], &r, &ev), TLS_EV_SERVER_KEY_EXCHANGE);
		ASSERT_EQ(ev.ske.kx, TLS_KX_ECDHE);
		ASSERT_UEQ(ev.ske.curve, 0x0017);
		ASSERT_UEQ(ev.ske.point.len, 65);
		ASSERT_UEQ(ev.ske.point.p[0], 4);
		ASSERT_UEQ(ev.ske.body.len, body.len);
		tls_reader_release(&r);
	}
	ASSERT_EQ(read_ske(&body, TLS_KX_DHE, &r, &ev), TLS_ERR_MALFORMED);
	tls_reader_release(&r);
	ASSERT_EQ(read_ske(&body, TLS_KX_OTHER, &r, &ev), TLS_EV_SERVER_KEY_EXCHANGE);
	ASSERT_EQ(ev.ske.kx, TLS_KX_OTHER);
	ASSERT_UEQ(ev.ske.curve, 0);
	tls_reader_release(&r);
	/* explicit curve parameters are not parsed, not malformed */
	body.data[0] = 1;
	ASSERT_EQ(read_ske(&body, TLS_KX_ECDHE, &r, &ev), TLS_EV_SERVER_KEY_EXCHANGE);
	ASSERT_EQ(ev.ske.kx, TLS_KX_OTHER);
	tls_reader_release(&r);
	/* a point length past the end is */
	body.data[0] = 3;
	body.data[3] = (char)0xF0;
	ASSERT_EQ(read_ske(&body, TLS_KX_ECDHE, &r, &ev), TLS_ERR_MALFORMED);
	tls_reader_release(&r);
	pp_buf_release(&body);
	return 0;
}

TEST_IMPL(tls_reader_sslv2_server_hello)
{
	struct pp_buf in;
	struct tls_reader r;
	struct tls_event ev;
	size_t mlen = 11 + 100 + 6 + 16;
	int types[4];

	pp_buf_init(&in, 1 << 20);
	p8(&in, 0x80 | (unsigned)(mlen >> 8));
	p8(&in, (unsigned)mlen);
	p8(&in, 4);    /* SERVER-HELLO */
	p8(&in, 0);    /* session id hit */
	p8(&in, 1);    /* X.509 */
	p16(&in, 2);   /* version */
	p16(&in, 100); /* certificate length */
	p16(&in, 6);   /* cipher specs length */
	p16(&in, 16);  /* connection id length */
	p8(&in, 0x30);
	pfill(&in, 0x82, 99);
	p8(&in, 0x01), p16(&in, 0x0080);
	p8(&in, 0x07), p16(&in, 0x00C0);
	pfill(&in, 0x99, 16);

	tls_reader_init(&r, NULL);
	ASSERT_EQ(tls_reader_feed(&r, U8(&in), in.len), 0);
	ASSERT_EQ(tls_reader_next(&r, &ev), TLS_EV_SSLV2_SERVER_HELLO);
	ASSERT_UEQ(ev.v2.version, 0x0002);
	ASSERT_TRUE(!ev.v2.session_id_hit);
	ASSERT_UEQ(ev.v2.certificate_type, 1);
	ASSERT_UEQ(ev.v2.certificate.len, 100);
	ASSERT_UEQ(ev.v2.certificate.p[0], 0x30);
	ASSERT_UEQ(ev.v2.nspecs, 2);
	ASSERT_UEQ(tls_sslv2_spec(&ev.v2, 0), 0x010080);
	ASSERT_UEQ(tls_sslv2_spec(&ev.v2, 1), 0x0700C0);
	ASSERT_UEQ(ev.v2.connection_id.len, 16);
	/* what follows is not read */
	ASSERT_EQ(tls_reader_feed(&r, (const uint8_t *)"junk", 4), 0);
	ASSERT_EQ(tls_reader_next(&r, &ev), TLS_EV_NEED_MORE);
	tls_reader_eof(&r);
	ASSERT_EQ(tls_reader_next(&r, &ev), TLS_EV_END);
	tls_reader_release(&r);

	ASSERT_UEQ(run_types(U8(&in), in.len, 1, types, COUNT(types), NULL), 2);
	ASSERT_EQ(types[0], TLS_EV_SSLV2_SERVER_HELLO);

	/* lengths that do not add up */
	in.data[10] = 7;
	ASSERT_EQ(first_event(U8(&in), in.len, true), TLS_ERR_MALFORMED);
	/* an SSLv2 message that is not SERVER-HELLO (an ERROR) is not ours */
	ASSERT_EQ(first_event((const uint8_t *)"\x80\x03\x00\x00\x01", 5, true), TLS_ERR_NOT_TLS);
	/* nor a SERVER-HELLO header with another version or a hit flag of 2 */
	ASSERT_EQ(first_event((const uint8_t *)"\x80\x20\x04\x00\x01\x03\x00", 7, false),
		  TLS_ERR_NOT_TLS);
	ASSERT_EQ(first_event((const uint8_t *)"\x80\x20\x04\x02", 4, false), TLS_ERR_NOT_TLS);
	ASSERT_EQ(first_event((const uint8_t *)"\x80\x20\x04\x00\x01\x00", 6, false),
		  TLS_EV_NEED_MORE);
	/* a message shorter than a SERVER-HELLO can be */
	ASSERT_EQ(first_event((const uint8_t *)"\x80\x05\x04\x00\x01\x00\x02", 7, true),
		  TLS_ERR_NOT_TLS);
	/* cut short */
	ASSERT_EQ(first_event(U8(&in), 40, true), TLS_ERR_TRUNCATED);
	pp_buf_release(&in);
	return 0;
}

TEST_IMPL(tls_reader_http_smtp_and_garbage_are_not_tls)
{
	static const char *const texts[] = {
	    "HTTP/1.1 400 Bad Request\r\n", "220 smtp ESMTP\r\n", "SSH-2.0-OpenSSH_9.2p1\r\n",
	    "+OK POP3 ready\r\n",           "* OK IMAP4rev1\r\n", "<html>",
	};
	uint8_t buf[64];
	uint64_t x = 0x9E3779B97F4A7C15ull;
	unsigned decided_early = 0;

	ASSERT_STR_EQ(tls_event_name(TLS_ERR_NOT_TLS), "not_tls");
	ASSERT_STR_EQ(tls_event_name(TLS_EV_SERVER_HELLO), "server_hello");
	ASSERT_STR_EQ(tls_event_name(12345), "unknown");
	for (size_t i = 0; i < COUNT(texts); i++) {
		const uint8_t *p = (const uint8_t *)texts[i];

		ASSERT_EQ(first_event(p, strlen(texts[i]), false), TLS_ERR_NOT_TLS);
		ASSERT_EQ(first_event(p, 1, false), TLS_ERR_NOT_TLS); /* on the first byte */
	}
	/* a TLS-looking prefix is refused as soon as a byte is impossible */
	ASSERT_EQ(first_event((const uint8_t *)"\x16\x03", 2, false), TLS_EV_NEED_MORE);
	ASSERT_EQ(first_event((const uint8_t *)"\x16\x03\x09", 3, false), TLS_ERR_NOT_TLS);
	ASSERT_EQ(first_event((const uint8_t *)"\x16\x02", 2, false), TLS_ERR_NOT_TLS);
	ASSERT_EQ(first_event((const uint8_t *)"\x16\x03\x01\xFF\xFF", 5, false), TLS_ERR_NOT_TLS);
	ASSERT_EQ(first_event((const uint8_t *)"\x16\x03\x01\x00\x00", 5, false), TLS_ERR_NOT_TLS);
	ASSERT_EQ(first_event((const uint8_t *)"\x18\x03\x03\x00\x01\x01", 6, false),
		  TLS_ERR_NOT_TLS); /* heartbeat is not an answer to a hello */

	/* random bytes: 2000 buffers from a fixed xorshift */
	for (unsigned n = 0; n < 2000; n++) {
		int t;

		for (size_t i = 0; i < sizeof(buf); i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[i] = (uint8_t)(x >> 24);
		}
		t = first_event(buf, sizeof(buf), true);
		ASSERT_EQ(t, TLS_ERR_NOT_TLS);
		decided_early += first_event(buf, 7, false) == TLS_ERR_NOT_TLS;
	}
	ASSERT_UEQ(decided_early, 2000);
	return 0;
}

TEST_IMPL(tls_reader_bad_records_after_the_first_are_malformed)
{
	static const uint8_t tails[][6] = {
	    {0x18, 0x03, 0x03, 0x00, 0x01, 0x01}, /* heartbeat */
	    {0x16, 0x03, 0x05, 0x00, 0x01, 0x01}, /* version 0x0305 */
	    {0x16, 0x02, 0x00, 0x00, 0x01, 0x01}, /* version 0x0200 */
	    {0x14, 0x03, 0x03, 0x00, 0x01, 0x02}, /* CCS that is not 1 */
	    {0x15, 0x03, 0x03, 0x00, 0x00, 0x00}, /* empty alert record */
	};
	static const uint8_t appdata_first[] = {0x17, 0x03, 0x03, 0x00, 0x01, 0x00};
	static const uint8_t alert[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x00};
	uint8_t in[sizeof(alert) + 6];
	int types[4];

	for (size_t i = 0; i < COUNT(tails); i++) {
		memcpy(in, alert, sizeof(alert));
		memcpy(in + sizeof(alert), tails[i], 6);
		ASSERT_UEQ(run_types(in, sizeof(in), 0, types, COUNT(types), NULL), 2);
		ASSERT_EQ(types[0], TLS_EV_ALERT);
		ASSERT_EQ(types[1], TLS_ERR_MALFORMED);
	}
	/* application data before any ServerHello is no answer to a hello */
	ASSERT_EQ(first_event(appdata_first, sizeof(appdata_first), false), TLS_ERR_MALFORMED);
	/* ServerHelloDone with a body */
	ASSERT_EQ(
	    first_event((const uint8_t *)"\x16\x03\x03\x00\x05\x0e\x00\x00\x01\x00", 10, false),
	    TLS_ERR_MALFORMED);
	/* a Certificate whose list overruns, and one holding an empty cert */
	ASSERT_EQ(first_event((const uint8_t *)"\x16\x03\x03\x00\x07\x0b\x00\x00\x03\x00\x00\x09",
			      12, false),
		  TLS_ERR_MALFORMED);
	ASSERT_EQ(first_event((const uint8_t *)"\x16\x03\x03\x00\x0a\x0b\x00\x00\x06\x00\x00\x03"
					       "\x00\x00\x00",
			      15, false),
		  TLS_ERR_MALFORMED);
	return 0;
}

TEST_IMPL(tls_reader_truncated_server_hello_at_every_offset)
{
	struct pp_buf body, msg, in;
	int types[4];

	pp_buf_init(&body, 1 << 20);
	pp_buf_init(&msg, 1 << 20);
	pp_buf_init(&in, 1 << 20);
	sh12_body(&body);
	handshake(&msg, 2, body.data, body.len);
	records(&in, 22, 0x0303, msg.data, msg.len, 16384);

	/* the stream cut at every offset: a clean end before the first byte,
	 * truncated anywhere after it, in one piece or byte by byte */
	for (size_t k = 0; k < in.len; k++) {
		ASSERT_EQ(first_event(U8(&in), k, true), k ? TLS_ERR_TRUNCATED : TLS_EV_END);
		ASSERT_UEQ(run_types(U8(&in), k, 1, types, COUNT(types), NULL), 1);
		ASSERT_EQ(types[0], k ? TLS_ERR_TRUNCATED : TLS_EV_END);
	}
	ASSERT_EQ(first_event(U8(&in), in.len, true), TLS_EV_SERVER_HELLO);

	/* the message cut at every offset inside consistent record and
	 * handshake headers: malformed, except where a ServerHello may end
	 * (right before the optional extensions) */
	for (size_t k = 0; k < body.len; k++) {
		int t;

		pp_buf_reset(&msg);
		pp_buf_reset(&in);
		handshake(&msg, 2, body.data, k);
		records(&in, 22, 0x0303, msg.data, msg.len, 16384);
		t = first_event(U8(&in), in.len, true);
		if (k == SH12_EXT_AT)
			ASSERT_EQ(t, TLS_EV_SERVER_HELLO);
		else if (t != TLS_ERR_MALFORMED)
			TEST_FAIL_("cut at %zu: %s", k, tls_event_name(t));
	}
	/* a handshake length longer than what arrives before EOF */
	pp_buf_reset(&msg);
	pp_buf_reset(&in);
	handshake(&msg, 2, body.data, body.len);
	msg.data[3] = (char)(msg.data[3] + 1);
	records(&in, 22, 0x0303, msg.data, msg.len, 16384);
	ASSERT_EQ(first_event(U8(&in), in.len, true), TLS_ERR_TRUNCATED);
	ASSERT_EQ(first_event(U8(&in), in.len, false), TLS_EV_NEED_MORE);
	/* trailing bytes after the extensions */
	pp_buf_reset(&msg);
	pp_buf_reset(&in);
	p8(&body, 0);
	handshake(&msg, 2, body.data, body.len);
	records(&in, 22, 0x0303, msg.data, msg.len, 16384);
	ASSERT_EQ(first_event(U8(&in), in.len, true), TLS_ERR_MALFORMED);
	pp_buf_release(&body);
	pp_buf_release(&msg);
	pp_buf_release(&in);
	return 0;
}

TEST_IMPL(tls_reader_encrypted_after_tls12_change_cipher_spec)
{
	static const uint8_t ccs[] = {0x14, 0x03, 0x03, 0x00, 0x01, 0x01};
	static const uint8_t finished[] = {0x16, 0x03, 0x03, 0x00, 0x04, 0xDE, 0xAD, 0xBE, 0xEF};
	struct pp_buf body, msg, in;
	int types[8];

	pp_buf_init(&body, 1 << 20);
	pp_buf_init(&msg, 1 << 20);
	pp_buf_init(&in, 1 << 20);
	sh12_body(&body);
	handshake(&msg, 2, body.data, body.len);
	records(&in, 22, 0x0303, msg.data, msg.len, 16384);
	pp_buf_put(&in, ccs, sizeof(ccs));
	pp_buf_put(&in, finished, sizeof(finished));
	ASSERT_UEQ(run_types(U8(&in), in.len, 0, types, COUNT(types), NULL), 3);
	ASSERT_EQ(types[0], TLS_EV_SERVER_HELLO);
	ASSERT_EQ(types[1], TLS_EV_CHANGE_CIPHER_SPEC);
	ASSERT_EQ(types[2], TLS_EV_ENCRYPTED);
	/* a CCS before any ServerHello changes nothing */
	ASSERT_UEQ(run_types(ccs, sizeof(ccs), 0, types, COUNT(types), NULL), 2);
	ASSERT_EQ(types[0], TLS_EV_CHANGE_CIPHER_SPEC);
	ASSERT_EQ(types[1], TLS_EV_END);
	pp_buf_release(&body);
	pp_buf_release(&msg);
	pp_buf_release(&in);
	return 0;
}

TEST_IMPL(tls_reader_3mib_stream_is_too_large_in_bounded_memory)
{
	static const uint8_t hello_request[] = {0x16, 0x03, 0x03, 0x00, 0x04, 0, 0, 0, 0};
	struct pp_buf in;
	struct tls_reader r;
	struct tls_event ev;
	size_t total = 3u << 20, off = 0, events = 0, peak = 0;
	uint8_t *chunk;
	int t, fed = 0;

	/* 3 MiB of valid 9-byte records: the events flow until 2 MiB went in,
	 * then TOO_LARGE; consumed bytes are dropped, so memory stays small */
	chunk = malloc(65536 * 9);
	ASSERT_TRUE(chunk != NULL);
	for (size_t i = 0; i < 65536; i++)
		memcpy(chunk + 9 * i, hello_request, 9);
	tls_reader_init(&r, NULL);
	while (off < total && fed == 0) {
		size_t k = total - off < 65536 * 9 ? total - off : 65536 * 9;

		fed = tls_reader_feed(&r, chunk, k);
		off += k;
		if (r.in_cap + r.hs_cap > peak)
			peak = r.in_cap + r.hs_cap;
		while ((t = tls_reader_next(&r, &ev)) == TLS_EV_OTHER_HANDSHAKE) {
			ASSERT_UEQ(ev.hs.type, 0);
			events++;
		}
		if (fed == 0)
			ASSERT_EQ(t, TLS_EV_NEED_MORE);
	}
	ASSERT_EQ(fed, TLS_ERR_TOO_LARGE);
	ASSERT_EQ(t, TLS_ERR_TOO_LARGE);
	ASSERT_STR_EQ(tls_event_name(t), "too_large");
	ASSERT_UEQ(r.total, TLS_READER_MAX_TOTAL);
	ASSERT_UEQ(events, TLS_READER_MAX_TOTAL / 9); /* every whole record before the cap */
	ASSERT_TRUE(peak <= 4 * 65536 * 9);
	ASSERT_EQ(tls_reader_feed(&r, chunk, 9), TLS_ERR_TOO_LARGE);
	ASSERT_EQ(tls_reader_next(&r, &ev), TLS_ERR_TOO_LARGE);
	tls_reader_release(&r);
	free(chunk);

	/* a feed crossing the cap is cut: what came before it still yields
	 * its events, then TOO_LARGE, whether fed again or not */
	{
		static const uint8_t alerts[] = {0x15, 3, 3, 0, 2, 1, 0, 0x15, 3, 3, 0, 2, 2, 40};
		struct tls_reader_limits lim = {.max_total = 10};

		tls_reader_init(&r, &lim);
		ASSERT_EQ(tls_reader_feed(&r, alerts, sizeof(alerts)), TLS_ERR_TOO_LARGE);
		ASSERT_EQ(tls_reader_feed(&r, alerts, 1), TLS_ERR_TOO_LARGE);
		ASSERT_UEQ(r.total, 10);
		ASSERT_EQ(tls_reader_next(&r, &ev), TLS_EV_ALERT);
		ASSERT_EQ(tls_reader_next(&r, &ev), TLS_ERR_TOO_LARGE);
		tls_reader_release(&r);
	}

	/* one handshake message announcing 3 MiB: refused at its header */
	pp_buf_init(&in, 1 << 20);
	p8(&in, 22), p16(&in, 0x0303), p16(&in, 16384);
	p8(&in, 11), p24(&in, total), p24(&in, total - 3);
	pfill(&in, 0, 16384 - 7);
	ASSERT_EQ(first_event(U8(&in), in.len, false), TLS_ERR_TOO_LARGE);
	pp_buf_release(&in);
	return 0;
}

TEST_IMPL(tls_reader_1mb_certificate_chain_parses)
{
	static const size_t lens[] = {350000, 350000, 350000};
	size_t many[300];
	struct tls_reader_limits lim = {0};
	struct pp_buf body, msg, in;
	struct tls_reader r;
	struct tls_event ev;
	size_t off = 0;
	int t = 0;

	pp_buf_init(&body, 8 << 20);
	pp_buf_init(&msg, 8 << 20);
	pp_buf_init(&in, 8 << 20);
	cert_body(&body, lens, 3);
	handshake(&msg, 11, body.data, body.len);
	records(&in, 22, 0x0303, msg.data, msg.len, 16384);
	ASSERT_TRUE(msg.len > 1000000);

	/* fed as a socket would, 4 KiB at a time */
	tls_reader_init(&r, NULL);
	while (off < in.len) {
		size_t k = in.len - off < 4096 ? in.len - off : 4096;

		ASSERT_EQ(tls_reader_feed(&r, U8(&in) + off, k), 0);
		off += k;
		t = tls_reader_next(&r, &ev);
		if (t != TLS_EV_NEED_MORE)
			break;
	}
	ASSERT_EQ(t, TLS_EV_CERTIFICATE);
	ASSERT_UEQ(off, in.len);
	ASSERT_UEQ(ev.cert.n, 3);
	for (size_t i = 0; i < 3; i++)
		ASSERT_TRUE(cert_content_ok(&ev.cert.certs[i], i, lens[i]));
	tls_reader_release(&r);

	/* a message over max_message is refused */
	lim.max_message = 1000000;
	tls_reader_init(&r, &lim);
	tls_reader_feed(&r, U8(&in), in.len);
	ASSERT_EQ(tls_reader_next(&r, &ev), TLS_ERR_TOO_LARGE);
	tls_reader_release(&r);

	/* more certificates than max_certs (256) */
	for (size_t i = 0; i < COUNT(many); i++)
		many[i] = 10;
	pp_buf_reset(&body);
	pp_buf_reset(&msg);
	pp_buf_reset(&in);
	cert_body(&body, many, 256);
	handshake(&msg, 11, body.data, body.len);
	records(&in, 22, 0x0303, msg.data, msg.len, 16384);
	ASSERT_EQ(first_event(U8(&in), in.len, false), TLS_EV_CERTIFICATE);
	pp_buf_reset(&body);
	pp_buf_reset(&msg);
	pp_buf_reset(&in);
	cert_body(&body, many, 300);
	handshake(&msg, 11, body.data, body.len);
	records(&in, 22, 0x0303, msg.data, msg.len, 16384);
	ASSERT_EQ(first_event(U8(&in), in.len, false), TLS_ERR_TOO_LARGE);
	pp_buf_release(&body);
	pp_buf_release(&msg);
	pp_buf_release(&in);
	return 0;
}

/* --- a real server ----------------------------------------------------- */

/* Runs argv with stdin /dev/null, stdout to *out_fd (a pipe) when asked,
 * stderr to /dev/null; returns the pid or -1. */
static pid_t spawn(char *const argv[], int *out_fd)
{
	int p[2] = {-1, -1};
	pid_t pid;

	if (out_fd && pipe2(p, O_CLOEXEC) == -1)
		return -1;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(null, 0);
		dup2(out_fd ? p[1] : null, 1);
		dup2(null, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (out_fd) {
		close(p[1]);
		if (pid < 0)
			close(p[0]);
		else
			*out_fd = p[0];
	}
	return pid;
}

static int run_wait(char *const argv[])
{
	int st;
	pid_t pid = spawn(argv, NULL);

	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Reads s_server's stdout until "ACCEPT 127.0.0.1:PORT"; 0 on timeout. */
static uint16_t accept_port(int fd)
{
	char line[4096];
	size_t len = 0;

	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		char *at;
		ssize_t n;

		if (poll(&pfd, 1, 10000) != 1 || len == sizeof(line) - 1)
			return 0;
		n = read(fd, line + len, sizeof(line) - 1 - len);
		if (n <= 0)
			return 0;
		len += (size_t)n;
		line[len] = '\0';
		at = strstr(line, "ACCEPT 127.0.0.1:");
		if (at && strchr(at, '\n'))
			return (uint16_t)strtoul(at + strlen("ACCEPT 127.0.0.1:"), NULL, 10);
	}
}

/* What one probe saw. */
struct probe_result {
	int events[16];                     /* event types, in order */
	size_t nevents;                     /* their count */
	struct tls_server_hello sh;         /* the last ServerHello (random dropped) */
	size_t ncerts;                      /* certificates in the Certificate */
	struct tls_server_key_exchange ske; /* the ServerKeyExchange, spans dropped */
	struct tls_alert alert;             /* the last alert */
};

/* Connects, sends hello, reads for up to 5 s until a sticky event, a
 * ServerHelloDone or an HRR; optionally saves the raw reply under
 * $PP_TLS_RECORD_DIR. */
static int probe(uint16_t port, const struct pp_buf *hello, enum tls_kx kx, const char *save_as,
		 struct probe_result *res)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct timeval tv = {.tv_sec = 5};
	struct tls_reader r;
	struct tls_event ev;
	struct pp_buf raw;
	const char *dir = getenv("PP_TLS_RECORD_DIR");
	bool done = false;
	int fd;

	memset(res, 0, sizeof(*res));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == -1 ||
	    write(fd, hello->data, hello->len) != (ssize_t)hello->len) {
		close(fd);
		return -1;
	}
	pp_buf_init(&raw, 1 << 20);
	tls_reader_init(&r, NULL);
	tls_reader_set_kx(&r, kx);
	while (!done) {
		uint8_t buf[4096];
		ssize_t n = read(fd, buf, sizeof(buf));
		int t;

		if (n < 0)
			break; /* timeout: what was seen is the answer */
		if (n == 0)
			tls_reader_eof(&r);
		else
			tls_reader_feed(&r, buf, (size_t)n);
		pp_buf_put(&raw, buf, n > 0 ? (size_t)n : 0);
		while ((t = tls_reader_next(&r, &ev)) != TLS_EV_NEED_MORE) {
			if (res->nevents < COUNT(res->events))
				res->events[res->nevents++] = t;
			if (t == TLS_EV_SERVER_HELLO)
				res->sh = ev.sh;
			if (t == TLS_EV_CERTIFICATE)
				res->ncerts = ev.cert.n;
			if (t == TLS_EV_SERVER_KEY_EXCHANGE)
				res->ske = ev.ske;
			if (t == TLS_EV_ALERT)
				res->alert = ev.alert;
			/* after an HRR the server waits for a second ClientHello */
			if (t < 0 || t == TLS_EV_END || t == TLS_EV_ENCRYPTED ||
			    t == TLS_EV_SERVER_HELLO_DONE ||
			    (t == TLS_EV_SERVER_HELLO && ev.sh.is_hrr)) {
				done = true;
				break;
			}
		}
	}
	res->sh.random = NULL;
	res->ske.body = res->ske.dh_p = res->ske.dh_g = res->ske.point = (struct tls_span){0};
	if (dir && save_as) {
		char path[4096];
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", dir, save_as);
		f = fopen(path, "wb");
		if (f) {
			fwrite(raw.data, 1, raw.len, f);
			fclose(f);
		}
	}
	tls_reader_release(&r);
	pp_buf_release(&raw);
	close(fd);
	return 0;
}

static int build(struct pp_buf *b, uint16_t version, const uint16_t *suites, size_t n,
		 const uint16_t *groups, size_t ngroups)
{
	struct tls_hello_spec s;

	fill_spec(&s, version, suites, n, NULL);
	s.groups = groups;
	s.ngroups = ngroups;
	pp_buf_reset(b);
	return tls_hello_build(b, &s);
}

static int check_server(uint16_t port)
{
	static const uint16_t tls12[] = {0xC02F, 0x009C};
	static const uint16_t dhe[] = {0x009E};
	static const uint16_t tls13[] = {0x1301};
	static const uint16_t p384[] = {TLS_GROUP_SECP384R1};
	static const uint16_t ssl3[] = {0x002F, 0x000A};
	struct probe_result res;
	struct pp_buf b;

	pp_buf_init(&b, 1 << 16);

	/* TLS 1.2, ECDHE-RSA-AES128-GCM-SHA256 or AES128-GCM-SHA256: the
	 * server follows the client's order */
	ASSERT_EQ(build(&b, TLS_VERSION_TLS12, tls12, 2, NULL, 0), 0);
	ASSERT_EQ(probe(port, &b, TLS_KX_ECDHE, "real-tls12-ecdhe", &res), 0);
	ASSERT_UEQ(res.nevents, 4);
	ASSERT_EQ(res.events[0], TLS_EV_SERVER_HELLO);
	ASSERT_UEQ(res.sh.version, 0x0303);
	ASSERT_UEQ(res.sh.legacy_version, 0x0303);
	ASSERT_UEQ(res.sh.suite, 0xC02F);
	ASSERT_TRUE(res.sh.renegotiation_info); /* answer to the SCSV */
	ASSERT_EQ(res.events[1], TLS_EV_CERTIFICATE);
	ASSERT_UEQ(res.ncerts, 1);
	ASSERT_EQ(res.events[2], TLS_EV_SERVER_KEY_EXCHANGE);
	ASSERT_EQ(res.ske.kx, TLS_KX_ECDHE);
	ASSERT_UEQ(res.ske.curve, TLS_GROUP_X25519);
	ASSERT_EQ(res.events[3], TLS_EV_SERVER_HELLO_DONE);

	/* TLS 1.2 DHE: the structure guess finds the 2048-bit group */
	ASSERT_EQ(build(&b, TLS_VERSION_TLS12, dhe, 1, NULL, 0), 0);
	ASSERT_EQ(probe(port, &b, TLS_KX_AUTO, "real-tls12-dhe", &res), 0);
	ASSERT_UEQ(res.nevents, 4);
	ASSERT_UEQ(res.sh.suite, 0x009E);
	ASSERT_UEQ(res.ncerts, 1);
	ASSERT_EQ(res.events[2], TLS_EV_SERVER_KEY_EXCHANGE);
	ASSERT_EQ(res.ske.kx, TLS_KX_DHE);
	ASSERT_UEQ(res.ske.dh_bits, 2048);

	/* TLS 1.3 with an x25519 share: ServerHello, then encrypted */
	ASSERT_EQ(build(&b, TLS_VERSION_TLS13, tls13, 1, NULL, 0), 0);
	ASSERT_EQ(probe(port, &b, TLS_KX_AUTO, "real-tls13", &res), 0);
	ASSERT_TRUE(res.nevents >= 2);
	ASSERT_EQ(res.events[0], TLS_EV_SERVER_HELLO);
	ASSERT_UEQ(res.sh.legacy_version, 0x0303);
	ASSERT_UEQ(res.sh.version, 0x0304);
	ASSERT_UEQ(res.sh.suite, 0x1301);
	ASSERT_TRUE(!res.sh.is_hrr);
	ASSERT_UEQ(res.sh.key_share_group, TLS_GROUP_X25519);
	ASSERT_UEQ(res.sh.session_id_len, 32); /* echoed */
	ASSERT_EQ(res.events[res.nevents - 1], TLS_EV_ENCRYPTED);

	/* TLS 1.3 offering only secp384r1 and no share: HelloRetryRequest */
	ASSERT_EQ(build(&b, TLS_VERSION_TLS13, tls13, 1, p384, 1), 0);
	ASSERT_EQ(probe(port, &b, TLS_KX_AUTO, "real-tls13-hrr", &res), 0);
	ASSERT_EQ(res.events[0], TLS_EV_SERVER_HELLO);
	ASSERT_TRUE(res.sh.is_hrr);
	ASSERT_UEQ(res.sh.version, 0x0304);
	ASSERT_UEQ(res.sh.suite, 0x1301);
	ASSERT_UEQ(res.sh.key_share_group, TLS_GROUP_SECP384R1);

	/* SSLv3 (not in this OpenSSL): a fatal alert, then the close */
	ASSERT_EQ(build(&b, TLS_VERSION_SSL3, ssl3, 2, NULL, 0), 0);
	ASSERT_EQ(probe(port, &b, TLS_KX_AUTO, "real-ssl3-alert", &res), 0);
	ASSERT_TRUE(res.nevents >= 1);
	ASSERT_EQ(res.events[0], TLS_EV_ALERT);
	ASSERT_UEQ(res.alert.level, 2);
	ASSERT_TRUE(res.alert.description == 70 || res.alert.description == 40);
	pp_buf_release(&b);
	return 0;
}

TEST_IMPL(tls_reader_openssl_s_server_answers_raw_hellos)
{
	char dir[] = "/tmp/pp_tls_codec_XXXXXX", key[64], cert[64], accept[] = "127.0.0.1:0";
	char *version[] = {"openssl", "version", NULL};
	char *req[] = {"openssl", "req",   "-x509",    "-newkey", "rsa:2048",
		       "-nodes",  "-subj", "/CN=test", "-days",   "1",
		       "-keyout", key,     "-out",     cert,      NULL};
	char *server[] = {"openssl", "s_server", "-accept", accept, "-cert",
			  cert,      "-key",     key,       "-www", NULL};
	int out = -1, rc = 1, st;
	uint16_t port;
	pid_t pid;

	if (run_wait(version) != 0) {
		fprintf(stderr, "skipped: no openssl command\n");
		return 0;
	}
	if (!mkdtemp(dir))
		TEST_FAIL_("mkdtemp: %s", strerror(errno));
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	if (run_wait(req) != 0) {
		fprintf(stderr, "openssl req failed\n");
		goto out_files;
	}
	signal(SIGPIPE, SIG_IGN);
	pid = spawn(server, &out);
	if (pid < 0) {
		fprintf(stderr, "cannot start openssl s_server\n");
		goto out_files;
	}
	port = accept_port(out);
	if (port == 0)
		fprintf(stderr, "openssl s_server did not say where it listens\n");
	else
		rc = check_server(port);
	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
	close(out);
out_files:
	unlink(key);
	unlink(cert);
	rmdir(dir);
	return rc;
}
