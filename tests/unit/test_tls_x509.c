/* test_tls_x509.c: certificate summaries, chain verdicts and OCSP staple
 * status (src/lib/tls/x509sum.c) on certificates made here, at test time,
 * with the OpenSSL API: a root CA (RSA 2048), an intermediate (EC P-256) and
 * leaves of every kind the probe meets (good, expired, not yet valid,
 * self-signed, wrong name, must-staple, bad signature, wrong purpose).
 * Every certificate goes through DER and back before the library sees it, as
 * one read off the wire would. Times are fixed (NOW), so every date, day
 * count and verdict is exact; fingerprints are checked against X509_digest
 * formatted by a routine of the test's own. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "test.h"
#include "tls/x509sum.h"

/* 2026-11-21T12:00:00Z: the fixed present of every test */
#define NOW ((time_t)1795262400)

/* --- the fixture builder -------------------------------------------------- */

/* Everything a test made, freed by fx_free_all(). */
static X509 *fx_certs[64];
static size_t fx_ncerts;
static EVP_PKEY *fx_keys[16];
static size_t fx_nkeys;

static EVP_PKEY *fx_keep_key(EVP_PKEY *k)
{
	if (k && fx_nkeys < sizeof(fx_keys) / sizeof(fx_keys[0]))
		fx_keys[fx_nkeys++] = k;
	return k;
}

static X509 *fx_keep_cert(X509 *x)
{
	if (x && fx_ncerts < sizeof(fx_certs) / sizeof(fx_certs[0]))
		fx_certs[fx_ncerts++] = x;
	return x;
}

static void fx_free_all(void)
{
	while (fx_ncerts)
		X509_free(fx_certs[--fx_ncerts]);
	while (fx_nkeys)
		EVP_PKEY_free(fx_keys[--fx_nkeys]);
}

static EVP_PKEY *fx_rsa(void)
{
	return fx_keep_key(EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048));
}

static EVP_PKEY *fx_ec(void)
{
	return fx_keep_key(EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"));
}

static EVP_PKEY *fx_ed25519(void)
{
	return fx_keep_key(EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"));
}

/* "C=DE/O=Example Ltd/CN=x" as an X509_NAME (UTF-8 values). */
static X509_NAME *fx_name(const char *spec)
{
	X509_NAME *n = X509_NAME_new();
	char buf[256];

	snprintf(buf, sizeof(buf), "%s", spec);
	for (char *p = buf; n && p && *p;) {
		char *end = strchr(p, '/'), *eq;

		if (end)
			*end = '\0';
		eq = strchr(p, '=');
		if (!eq) {
			X509_NAME_free(n);
			return NULL;
		}
		*eq = '\0';
		if (!X509_NAME_add_entry_by_txt(n, p, MBSTRING_UTF8, (unsigned char *)eq + 1, -1,
						-1, 0)) {
			X509_NAME_free(n);
			return NULL;
		}
		p = end ? end + 1 : NULL;
	}
	return n;
}

/* What a certificate is made of. */
struct spec {
	const char *subject;    /* fx_name() form */
	const char *serial;     /* hex, "-" allowed */
	const char *not_before; /* "YYYYMMDDHHMMSSZ" */
	const char *not_after;
	EVP_PKEY *key;             /* the subject's key */
	X509 *issuer;              /* NULL: self-signed */
	EVP_PKEY *issuer_key;      /* the signing key; NULL: the issuer's (or own) key */
	const char *const *ext;    /* name, value pairs for X509V3_EXT_nconf; NULL-terminated */
	const char *raw_not_after; /* GeneralizedTime bytes as they stand, if set */
	int raw_nid;               /* an extension added as raw DER (0: none) */
	const unsigned char *raw;
	size_t raw_len;
};

/* x through DER and back, as the probe would read it; x is freed. */
static X509 *fx_reparse(X509 *x)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	int n = x ? i2d_X509(x, &der) : -1;
	X509 *y = NULL;

	if (n > 0) {
		p = der;
		y = d2i_X509(NULL, &p, n);
	}
	OPENSSL_free(der);
	X509_free(x);
	return y;
}

/* Adds an extension whose value is der[0..len) as it stands. */
static int fx_raw_ext(X509 *x, int nid, const unsigned char *der, size_t len)
{
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *e = NULL;
	int ok = os && ASN1_OCTET_STRING_set(os, der, (int)len) &&
		 (e = X509_EXTENSION_create_by_NID(NULL, nid, 0, os)) && X509_add_ext(x, e, -1);

	X509_EXTENSION_free(e);
	ASN1_OCTET_STRING_free(os);
	return ok;
}

/* A certificate made to s, signed, reparsed; NULL on any failure. */
static X509 *fx_cert(const struct spec *s)
{
	X509 *x = X509_new();
	X509_NAME *subj = fx_name(s->subject);
	BIGNUM *bn = NULL;
	ASN1_INTEGER *serial = NULL;
	EVP_PKEY *signer = s->issuer_key ? s->issuer_key : s->key;
	X509V3_CTX v3;
	int ok = x && subj && BN_hex2bn(&bn, s->serial) &&
		 (serial = BN_to_ASN1_INTEGER(bn, NULL)) && X509_set_version(x, X509_VERSION_3) &&
		 X509_set_serialNumber(x, serial) && X509_set_subject_name(x, subj) &&
		 X509_set_issuer_name(x, s->issuer ? X509_get_subject_name(s->issuer) : subj) &&
		 ASN1_TIME_set_string_X509(X509_getm_notBefore(x), s->not_before) &&
		 ASN1_TIME_set_string_X509(X509_getm_notAfter(x), s->not_after) &&
		 X509_set_pubkey(x, s->key);

	X509V3_set_ctx(&v3, s->issuer ? s->issuer : x, x, NULL, NULL, 0);
	for (size_t i = 0; ok && s->ext && s->ext[i]; i += 2) {
		X509_EXTENSION *e = X509V3_EXT_nconf(NULL, &v3, s->ext[i], s->ext[i + 1]);

		ok = e && X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	/* a GeneralizedTime (any date from 2050), then its bytes replaced */
	if (ok && s->raw_not_after)
		ok = ASN1_TIME_set_string_X509(X509_getm_notAfter(x), "20500101000000Z") &&
		     ASN1_STRING_set(X509_getm_notAfter(x), s->raw_not_after, -1);
	if (ok && s->raw_nid)
		ok = fx_raw_ext(x, s->raw_nid, s->raw, s->raw_len);
	if (ok)
		ok = X509_sign(x, signer,
			       EVP_PKEY_get_base_id(signer) == EVP_PKEY_ED25519 ? NULL
										: EVP_sha256()) > 0;
	BN_free(bn);
	ASN1_INTEGER_free(serial);
	X509_NAME_free(subj);
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return fx_keep_cert(fx_reparse(x));
}

/* fx_cert() for the usual case: no raw extension. */
static X509 *fx_make(const char *subject, const char *serial, const char *not_before,
		     const char *not_after, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
		     const char *const *ext)
{
	return fx_cert(&(struct spec){.subject = subject,
				      .serial = serial,
				      .not_before = not_before,
				      .not_after = not_after,
				      .key = key,
				      .issuer = issuer,
				      .issuer_key = issuer_key,
				      .ext = ext});
}

static const char *const root_ext[] = {"basicConstraints",
				       "critical,CA:TRUE",
				       "keyUsage",
				       "critical,keyCertSign,cRLSign",
				       "subjectKeyIdentifier",
				       "hash",
				       NULL};
static const char *const int_ext[] = {"basicConstraints",
				      "critical,CA:TRUE,pathlen:0",
				      "keyUsage",
				      "critical,keyCertSign,cRLSign",
				      "subjectKeyIdentifier",
				      "hash",
				      "authorityKeyIdentifier",
				      "keyid:always",
				      NULL};
static const char *const leaf_ext[] = {
    "basicConstraints",
    "critical,CA:FALSE",
    "keyUsage",
    "critical,digitalSignature,keyEncipherment",
    "extendedKeyUsage",
    "serverAuth,clientAuth",
    "subjectKeyIdentifier",
    "hash",
    "authorityKeyIdentifier",
    "keyid:always",
    "subjectAltName",
    "DNS:www.example.test,DNS:*.example.test,IP:192.0.2.7,IP:::1,"
    "email:hostmaster@example.test,URI:https://www.example.test/",
    "authorityInfoAccess",
    "OCSP;URI:http://ocsp.example.test/,caIssuers;URI:http://ca.example.test/int.der",
    "crlDistributionPoints",
    "URI:http://crl.example.test/int.crl",
    NULL};
/* a plain server leaf: names and purpose only */
static const char *const plain_ext[] = {"basicConstraints",
					"critical,CA:FALSE",
					"extendedKeyUsage",
					"serverAuth",
					"subjectKeyIdentifier",
					"hash",
					"authorityKeyIdentifier",
					"keyid:always",
					"subjectAltName",
					"DNS:www.example.test",
					NULL};

#define ROOT_SUBJECT "C=DE/O=Example Ltd/CN=Example Root CA"
#define INT_SUBJECT  "C=DE/O=Example Ltd/CN=Example Intermediate CA"
#define LEAF_SUBJECT "C=DE/O=Example Ltd/CN=www.example.test"

/* The usual world: root, intermediate, a good leaf, and a directory holding
 * ca.pem (the root). */
struct world {
	EVP_PKEY *root_key; /* RSA 2048 */
	EVP_PKEY *int_key;  /* EC P-256 */
	EVP_PKEY *leaf_key; /* RSA 2048 */
	X509 *root;         /* 2020-01-01 .. 2045-01-01 */
	X509 *inter;        /* 2021-06-01 .. 2031-06-01, signed by root */
	X509 *leaf;         /* 2026-09-01 .. 2027-02-19T11:59:59Z, signed by inter */
	char dir[32];       /* a temporary directory */
	char ca_file[64];   /* dir/ca.pem: the root */
};

static int write_pem(const char *path, X509 *const *certs, size_t n)
{
	FILE *f = fopen(path, "w");
	int ok = f != NULL;

	for (size_t i = 0; ok && i < n; i++)
		ok = PEM_write_X509(f, certs[i]);
	if (f && fclose(f))
		ok = 0;
	return ok;
}

static int world_init(struct world *w)
{
	memset(w, 0, sizeof(*w));
	w->root_key = fx_rsa();
	w->int_key = fx_ec();
	w->leaf_key = fx_rsa();
	if (!w->root_key || !w->int_key || !w->leaf_key)
		return -1;
	w->root = fx_make(ROOT_SUBJECT, "01", "20200101000000Z", "20450101000000Z", w->root_key,
			  NULL, NULL, root_ext);
	w->inter = fx_make(INT_SUBJECT, "1000", "20210601000000Z", "20310601000000Z", w->int_key,
			   w->root, w->root_key, int_ext);
	w->leaf = fx_make(LEAF_SUBJECT, "00FEDCBA9876543210", "20260901000000Z", "20270219115959Z",
			  w->leaf_key, w->inter, w->int_key, leaf_ext);
	if (!w->root || !w->inter || !w->leaf)
		return -1;
	snprintf(w->dir, sizeof(w->dir), "/tmp/pp_x509_XXXXXX");
	if (!mkdtemp(w->dir))
		return -1;
	snprintf(w->ca_file, sizeof(w->ca_file), "%s/ca.pem", w->dir);
	return write_pem(w->ca_file, &w->root, 1) ? 0 : -1;
}

static void world_free(struct world *w)
{
	char path[128];

	unlink(w->ca_file);
	snprintf(path, sizeof(path), "%s/other.pem", w->dir);
	unlink(path);
	rmdir(w->dir);
	fx_free_all();
}

/* A leaf under w's intermediate with its own subject, dates and extensions. */
static X509 *world_leaf(struct world *w, const char *cn_subject, const char *nb, const char *na,
			const char *const *ext)
{
	return fx_make(cn_subject, "2A", nb, na, w->leaf_key, w->inter, w->int_key, ext);
}

/* A stack of the n certificates given (borrowed: free with sk_X509_free). */
static STACK_OF(X509) * chain_of(X509 *const *c, size_t n)
{
	STACK_OF(X509) *sk = sk_X509_new_null();

	for (size_t i = 0; sk && i < n; i++)
		if (!c[i] || !sk_X509_push(sk, c[i])) {
			sk_X509_free(sk);
			return NULL;
		}
	return sk;
}

/* tls_chain_verify over c[0..n) with the CA file (or store) and host given. */
static int verify(X509 *const *c, size_t n, const char *ca_file, X509_STORE *store,
		  const char *host, struct tls_chain_info *ci)
{
	STACK_OF(X509) *sk = chain_of(c, n);
	struct tls_verify_opts o = {.store = store, .ca_file = ca_file, .host = host, .now = NOW};
	int r = sk ? tls_chain_verify(sk, &o, ci) : -ENOMEM;

	sk_X509_free(sk);
	return r;
}

/* The test's own fingerprint format: uppercase hex pairs joined by ':'. */
static void fp_colon(const unsigned char *md, unsigned n, char *out)
{
	for (unsigned i = 0; i < n; i++)
		snprintf(out + 3 * i, 4, "%02X%s", md[i], i + 1 < n ? ":" : "");
}

/* The test's own base64 (RFC 4648, padded). */
static void b64(const unsigned char *in, size_t n, char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) |
			     (i + 2 < n ? in[i + 2] : 0);

		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
		out[o++] = i + 1 < n ? a[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? a[v & 63] : '=';
	}
	out[o] = '\0';
}

/* --- summaries -------------------------------------------------------------- */

TEST_IMPL(tls_cert_summary_of_a_server_leaf_is_exact)
{
	struct world w;
	struct tls_cert_info ci;
	unsigned char md[EVP_MAX_MD_SIZE], *spki = NULL;
	unsigned mdlen;
	int spki_len;
	char want[128];

	ASSERT_EQ(world_init(&w), 0);
	ASSERT_EQ(tls_cert_summarize(w.leaf, NOW, &ci), 0);
	ASSERT_EQ(ci.version, 3);
	ASSERT_STR_EQ(ci.subject, "CN=www.example.test,O=Example Ltd,C=DE");
	ASSERT_STR_EQ(ci.issuer, "CN=Example Intermediate CA,O=Example Ltd,C=DE");
	ASSERT_STR_EQ(ci.serial, "FEDCBA9876543210");
	ASSERT_UEQ(ci.san_dns.n, 2);
	ASSERT_STR_EQ(ci.san_dns.v[0], "www.example.test");
	ASSERT_STR_EQ(ci.san_dns.v[1], "*.example.test");
	ASSERT_UEQ(ci.san_ip.n, 2);
	ASSERT_STR_EQ(ci.san_ip.v[0], "192.0.2.7");
	ASSERT_STR_EQ(ci.san_ip.v[1], "::1");
	ASSERT_UEQ(ci.san_other, 2); /* the email and the URI */
	ASSERT_STR_EQ(ci.not_before, "2026-09-01T00:00:00Z");
	ASSERT_STR_EQ(ci.not_after, "2027-02-19T11:59:59Z");
	ASSERT_EQ(ci.not_before_t, 1788220800);
	ASSERT_EQ(ci.not_after_t, 1803038399);
	ASSERT_EQ(ci.days_left, 89); /* 90 days less one second, floored */
	ASSERT_STR_EQ(ci.key_type, "RSA");
	ASSERT_EQ(ci.key_bits, 2048);
	ASSERT_STR_EQ(ci.curve, "");
	ASSERT_STR_EQ(ci.curve_nist, "");
	ASSERT_STR_EQ(ci.sig_alg, "ecdsa-with-SHA256");
	ASSERT_STR_EQ(ci.sig_short, "ECDSA-SHA256");

	ASSERT_TRUE(X509_digest(w.leaf, EVP_sha256(), md, &mdlen));
	fp_colon(md, mdlen, want);
	ASSERT_STR_EQ(ci.sha256, want);
	ASSERT_TRUE(X509_digest(w.leaf, EVP_sha1(), md, &mdlen));
	fp_colon(md, mdlen, want);
	ASSERT_STR_EQ(ci.sha1, want);
	ASSERT_EQ(strlen(ci.sha256), 95);
	ASSERT_EQ(strlen(ci.sha1), 59);
	/* the pin: SHA-256 over the SubjectPublicKeyInfo, re-encoded from the key */
	spki_len = i2d_PUBKEY(X509_get0_pubkey(w.leaf), &spki);
	ASSERT_TRUE(spki_len > 0);
	SHA256(spki, (size_t)spki_len, md);
	OPENSSL_free(spki);
	b64(md, 32, want);
	ASSERT_STR_EQ(ci.spki_sha256, want);
	for (int i = 0; i < 32; i++)
		snprintf(want + 2 * i, 3, "%02x", md[i]);
	ASSERT_STR_EQ(ci.spki_sha256_hex, want);

	ASSERT_TRUE(ci.has_key_usage);
	ASSERT_UEQ(ci.n_key_usage, 2);
	ASSERT_STR_EQ(ci.key_usage[0], "digitalSignature");
	ASSERT_STR_EQ(ci.key_usage[1], "keyEncipherment");
	ASSERT_TRUE(ci.has_ext_key_usage);
	ASSERT_UEQ(ci.ext_key_usage.n, 2);
	ASSERT_STR_EQ(ci.ext_key_usage.v[0], "serverAuth");
	ASSERT_STR_EQ(ci.ext_key_usage.v[1], "clientAuth");
	ASSERT_TRUE(ci.has_basic_constraints);
	ASSERT_TRUE(!ci.is_ca);
	ASSERT_EQ(ci.path_len, -1);
	ASSERT_UEQ(ci.ocsp_urls.n, 1);
	ASSERT_STR_EQ(ci.ocsp_urls.v[0], "http://ocsp.example.test/");
	ASSERT_UEQ(ci.ca_issuers_urls.n, 1);
	ASSERT_STR_EQ(ci.ca_issuers_urls.v[0], "http://ca.example.test/int.der");
	ASSERT_UEQ(ci.crl_urls.n, 1);
	ASSERT_STR_EQ(ci.crl_urls.v[0], "http://crl.example.test/int.crl");
	ASSERT_TRUE(!ci.must_staple);
	ASSERT_EQ(ci.sct_count, 0);
	ASSERT_TRUE(!ci.self_signed);
	ASSERT_UEQ(ci.faults, 0);
	tls_cert_info_free(&ci);
	ASSERT_TRUE(ci.subject == NULL && ci.san_dns.n == 0);
	tls_cert_info_free(&ci); /* twice is harmless */
	tls_cert_info_free(NULL);
	world_free(&w);
	return 0;
}

TEST_IMPL(tls_cert_summary_of_root_and_intermediate)
{
	struct world w;
	struct tls_cert_info ci;

	ASSERT_EQ(world_init(&w), 0);
	ASSERT_EQ(tls_cert_summarize(w.root, NOW, &ci), 0);
	ASSERT_STR_EQ(ci.subject, "CN=Example Root CA,O=Example Ltd,C=DE");
	ASSERT_STR_EQ(ci.issuer, ci.subject);
	ASSERT_STR_EQ(ci.serial, "01");
	ASSERT_STR_EQ(ci.not_after, "2045-01-01T00:00:00Z");
	ASSERT_EQ(ci.days_left, 6615);
	ASSERT_STR_EQ(ci.key_type, "RSA");
	ASSERT_EQ(ci.key_bits, 2048);
	ASSERT_STR_EQ(ci.sig_alg, "sha256WithRSAEncryption");
	ASSERT_STR_EQ(ci.sig_short, "RSA-SHA256");
	ASSERT_TRUE(ci.has_basic_constraints && ci.is_ca);
	ASSERT_EQ(ci.path_len, -1);
	ASSERT_UEQ(ci.n_key_usage, 2);
	ASSERT_STR_EQ(ci.key_usage[0], "keyCertSign");
	ASSERT_STR_EQ(ci.key_usage[1], "cRLSign");
	ASSERT_TRUE(!ci.has_ext_key_usage);
	ASSERT_UEQ(ci.san_dns.n + ci.san_ip.n + ci.san_other, 0);
	ASSERT_UEQ(ci.ocsp_urls.n + ci.ca_issuers_urls.n + ci.crl_urls.n, 0);
	ASSERT_TRUE(ci.self_signed);
	ASSERT_UEQ(ci.faults, 0);
	tls_cert_info_free(&ci);

	ASSERT_EQ(tls_cert_summarize(w.inter, NOW, &ci), 0);
	ASSERT_STR_EQ(ci.subject, "CN=Example Intermediate CA,O=Example Ltd,C=DE");
	ASSERT_STR_EQ(ci.issuer, "CN=Example Root CA,O=Example Ltd,C=DE");
	ASSERT_STR_EQ(ci.serial, "1000");
	ASSERT_STR_EQ(ci.key_type, "EC");
	ASSERT_EQ(ci.key_bits, 256);
	ASSERT_STR_EQ(ci.curve, "prime256v1");
	ASSERT_STR_EQ(ci.curve_nist, "P-256");
	ASSERT_STR_EQ(ci.sig_alg, "sha256WithRSAEncryption");
	ASSERT_TRUE(ci.is_ca);
	ASSERT_EQ(ci.path_len, 0);
	ASSERT_TRUE(!ci.self_signed);
	tls_cert_info_free(&ci);
	world_free(&w);
	return 0;
}

TEST_IMPL(tls_cert_serial_is_minimal_uppercase_hex_with_a_sign)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"0F", "0F"},
	    {"0", "00"},
	    {"ABC", "0ABC"},
	    {"1000", "1000"},
	    {"-1", "-01"},
	    {"-80", "-80"},
	    {"7F", "7F"},
	    {"FEDCBA9876543210FEDCBA9876543210", "FEDCBA9876543210FEDCBA9876543210"},
	};
	EVP_PKEY *k = fx_ec();
	struct tls_cert_info ci;

	ASSERT_TRUE(k);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		X509 *x = fx_make("CN=serial.example.test", cases[i].in, "20260101000000Z",
				  "20270101000000Z", k, NULL, NULL, NULL);

		ASSERT_TRUE(x);
		ASSERT_EQ(tls_cert_summarize(x, NOW, &ci), 0);
		ASSERT_STR_EQ(ci.serial, cases[i].want);
		tls_cert_info_free(&ci);
	}
	fx_free_all();
	return 0;
}

TEST_IMPL(tls_cert_days_left_floors_toward_the_past)
{
	static const struct {
		const char *not_after;
		long long days;
	} cases[] = {
	    {"20261121120000Z", 0},                              /* expires this very second */
	    {"20261121120001Z", 0},                              /* one second left */
	    {"20261121115959Z", -1},                             /* one second ago */
	    {"20261101000000Z", -21},                            /* 20.5 days ago */
	    {"20261122120000Z", 1},   {"20500101000000Z", 8441}, /* a GeneralizedTime */
	};
	EVP_PKEY *k = fx_ec();
	struct tls_cert_info ci;
	char buf[TLS_TIME_LEN];
	X509 *last = NULL;

	ASSERT_TRUE(k);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		X509 *x = fx_make("CN=days.example.test", "01", "20200101000000Z",
				  cases[i].not_after, k, NULL, NULL, NULL);

		ASSERT_TRUE(x);
		ASSERT_EQ(tls_cert_summarize(x, NOW, &ci), 0);
		ASSERT_EQ(ci.days_left, cases[i].days);
		tls_cert_info_free(&ci);
		last = x;
	}
	ASSERT_EQ(tls_cert_summarize(last, NOW, &ci), 0); /* the 2050 one */
	ASSERT_STR_EQ(ci.not_after, "2050-01-01T00:00:00Z");
	ASSERT_STR_EQ(ci.not_before, "2020-01-01T00:00:00Z");
	tls_cert_info_free(&ci);
	fx_free_all();

	/* the two helpers the writers share */
	ASSERT_STR_EQ(tls_time_iso(NOW, buf), "2026-11-21T12:00:00Z");
	ASSERT_STR_EQ(tls_time_iso(0, buf), "1970-01-01T00:00:00Z");
	ASSERT_STR_EQ(tls_time_iso((time_t)253402300799, buf), "9999-12-31T23:59:59Z");
	ASSERT_STR_EQ(tls_time_iso((time_t)253402300800, buf), ""); /* year 10000 */
	ASSERT_EQ(tls_days_left(NOW + 86399, NOW), 0);
	ASSERT_EQ(tls_days_left(NOW + 86400, NOW), 1);
	ASSERT_EQ(tls_days_left(NOW - 1, NOW), -1);
	ASSERT_EQ(tls_days_left(NOW - 86400, NOW), -1);
	ASSERT_EQ(tls_days_left(NOW - 86401, NOW), -2);
	return 0;
}

TEST_IMPL(tls_cert_unreadable_dates_are_flagged_not_guessed)
{
	static const char *const raw[] = {
	    "20261399999999Z",     /* month 13 */
	    "99991231230000-0200", /* year 10000 in UTC: ASN1_TIME_to_tm refuses it */
	};
	EVP_PKEY *k = fx_ec();
	struct tls_cert_info ci;
	struct tls_chain_info ch;
	X509_STORE *st = X509_STORE_new();
	X509 *x, *month13 = NULL;

	ASSERT_TRUE(k && st);
	for (size_t i = 0; i < sizeof(raw) / sizeof(raw[0]); i++) {
		x = fx_cert(&(struct spec){.subject = "CN=when.example.test",
					   .serial = "06",
					   .not_before = "20260101000000Z",
					   .not_after = "20270101000000Z",
					   .key = k,
					   .raw_not_after = raw[i]});
		ASSERT_TRUE(x);
		ASSERT_EQ(tls_cert_summarize(x, NOW, &ci), 0);
		ASSERT_STR_EQ(ci.not_after, "");
		ASSERT_EQ(ci.not_after_t, 0);
		ASSERT_EQ(ci.days_left, 0);
		ASSERT_STR_EQ(ci.not_before, "2026-01-01T00:00:00Z");
		ASSERT_UEQ(ci.faults, TLS_CERT_BAD_TIME);
		ASSERT_STR_EQ(tls_cert_fault_name(ci.faults), "validity");
		ASSERT_TRUE(ci.self_signed);
		tls_cert_info_free(&ci);
		if (i == 0)
			month13 = x;
	}
	/* OpenSSL refuses the month-13 one too, which is no verdict of ours */
	ASSERT_TRUE(X509_STORE_add_cert(st, month13));
	ASSERT_EQ(verify(&month13, 1, NULL, st, NULL, &ch), 0);
	ASSERT_TRUE(!ch.verified);
	ASSERT_EQ(ch.verdict, TLS_VERDICT_OTHER);
	ASSERT_EQ(ch.error, X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD);
	ASSERT_EQ(ch.error_depth, 0);
	ASSERT_EQ(ch.leaf_not_after, 0);
	ASSERT_EQ(ch.earliest_sent_index, -1);
	X509_STORE_free(st);
	fx_free_all();
	return 0;
}

TEST_IMPL(tls_cert_ed25519_self_signed_leaf)
{
	static const char *const ext[] = {"subjectAltName", "DNS:self.example.test", NULL};
	EVP_PKEY *k = fx_ed25519();
	X509 *x = fx_make("CN=self.example.test", "5EED", "20260101000000Z", "20270101000000Z", k,
			  NULL, NULL, ext);
	struct tls_cert_info ci;

	ASSERT_TRUE(x);
	ASSERT_EQ(tls_cert_summarize(x, NOW, &ci), 0);
	ASSERT_STR_EQ(ci.subject, "CN=self.example.test");
	ASSERT_STR_EQ(ci.issuer, "CN=self.example.test");
	ASSERT_STR_EQ(ci.key_type, "Ed25519");
	ASSERT_EQ(ci.key_bits, 256); /* what EVP_PKEY_get_bits says */
	ASSERT_STR_EQ(ci.curve, "");
	ASSERT_STR_EQ(ci.sig_alg, "ED25519");
	ASSERT_STR_EQ(ci.sig_short, "Ed25519");
	ASSERT_TRUE(ci.self_signed);
	ASSERT_TRUE(!ci.has_basic_constraints && !ci.has_key_usage && !ci.has_ext_key_usage);
	ASSERT_UEQ(ci.san_dns.n, 1);
	ASSERT_UEQ(ci.faults, 0);
	tls_cert_info_free(&ci);
	fx_free_all();
	return 0;
}

/* A v1 SCT for the list: version 0, a log id, a timestamp, no extensions,
 * SHA-256/ECDSA and a 4-byte stand-in signature (51 bytes). */
static size_t put_sct(unsigned char *p, unsigned char log_byte)
{
	size_t o = 0;

	p[o++] = 0;
	memset(p + o, log_byte, 32);
	o += 32;
	memcpy(p + o, "\x00\x00\x01\x8b\xcf\x00\x00\x00", 8);
	o += 8;
	p[o++] = 0, p[o++] = 0; /* extensions */
	p[o++] = 4, p[o++] = 3; /* sha256, ecdsa */
	p[o++] = 0, p[o++] = 4;
	memcpy(p + o, "\x30\x02\x00\x00", 4);
	return o + 4;
}

TEST_IMPL(tls_cert_must_staple_and_embedded_sct_count)
{
	static const char *const ext[] = {"tlsfeature", "status_request", NULL};
	unsigned char raw[2 + 2 + 2 * (2 + 51)], *p = raw + 4;
	size_t n = 0;
	EVP_PKEY *k = fx_ec();
	X509 *x;
	struct tls_cert_info ci;

	/* extnValue = OCTET STRING { u16 list length, (u16 length, SCT)* } */
	for (unsigned char i = 0; i < 2; i++) {
		size_t len = put_sct(p + n + 2, (unsigned char)(0xA0 + i));

		p[n] = 0, p[n + 1] = (unsigned char)len;
		n += 2 + len;
	}
	raw[0] = 0x04, raw[1] = (unsigned char)(n + 2);
	raw[2] = (unsigned char)(n >> 8), raw[3] = (unsigned char)n;
	ASSERT_TRUE(k);
	x = fx_cert(&(struct spec){.subject = "CN=staple.example.test",
				   .serial = "02",
				   .not_before = "20260101000000Z",
				   .not_after = "20270101000000Z",
				   .key = k,
				   .issuer = NULL,
				   .issuer_key = NULL,
				   .ext = ext,
				   .raw_nid = NID_ct_precert_scts,
				   .raw = raw,
				   .raw_len = 4 + n});
	ASSERT_TRUE(x);
	ASSERT_EQ(tls_cert_summarize(x, NOW, &ci), 0);
	ASSERT_TRUE(ci.must_staple);
	ASSERT_EQ(ci.sct_count, 2);
	ASSERT_UEQ(ci.faults, 0);
	tls_cert_info_free(&ci);
	fx_free_all();
	return 0;
}

TEST_IMPL(tls_cert_malformed_extensions_cost_only_their_fields)
{
	static const struct {
		int nid;
		const char *der;
		size_t len;
		unsigned fault;
	} cases[] = {
	    /* SEQUENCE of 5 bytes holding 4 */
	    {NID_subject_alt_name, "\x30\x05\x82\x03\x61\x62", 6, TLS_CERT_BAD_SAN},
	    {NID_basic_constraints, "\x30\x03\x01\x01", 4, TLS_CERT_BAD_BC},
	    {NID_key_usage, "\x03\x05\x00", 3, TLS_CERT_BAD_KU},
	    {NID_ext_key_usage, "\x30\x02\x06\x05", 4, TLS_CERT_BAD_EKU},
	    {NID_info_access, "\x30\x01\x30", 3, TLS_CERT_BAD_AIA},
	    {NID_crl_distribution_points, "\x31\x00", 2, TLS_CERT_BAD_CRLDP},
	    {NID_tlsfeature, "\x30\x03\x02\x01", 4, TLS_CERT_BAD_FEATURE},
	    /* an SCT list whose length says 16 bytes and holds none */
	    {NID_ct_precert_scts, "\x04\x02\x00\x10", 4, TLS_CERT_BAD_SCT},
	};
	static const char *const ext[] = {"subjectAltName", "DNS:ok.example.test", NULL};
	EVP_PKEY *k = fx_ec();
	struct tls_cert_info ci;

	ASSERT_TRUE(k);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool san = cases[i].nid == NID_subject_alt_name;
		X509 *x = fx_cert(&(struct spec){.subject = "CN=bad.example.test",
						 .serial = "03",
						 .not_before = "20260101000000Z",
						 .not_after = "20270101000000Z",
						 .key = k,
						 .issuer = NULL,
						 .issuer_key = NULL,
						 .ext = san ? NULL : ext,
						 .raw_nid = cases[i].nid,
						 .raw = (const unsigned char *)cases[i].der,
						 .raw_len = cases[i].len});

		ASSERT_TRUE(x);
		ASSERT_EQ(tls_cert_summarize(x, NOW, &ci), 0);
		ASSERT_UEQ(ci.faults, cases[i].fault);
		ASSERT_STR_EQ(tls_cert_fault_name(ci.faults), tls_cert_fault_name(cases[i].fault));
		/* the rest is still there */
		ASSERT_STR_EQ(ci.subject, "CN=bad.example.test");
		ASSERT_STR_EQ(ci.serial, "03");
		ASSERT_STR_EQ(ci.not_after, "2027-01-01T00:00:00Z");
		ASSERT_STR_EQ(ci.key_type, "EC");
		ASSERT_TRUE(ci.self_signed);
		ASSERT_UEQ(ci.san_dns.n, san ? 0 : 1);
		ASSERT_EQ(ci.sct_count, cases[i].nid == NID_ct_precert_scts ? -1 : 0);
		tls_cert_info_free(&ci);
	}
	ASSERT_STR_EQ(tls_cert_fault_name(TLS_CERT_BAD_SCT), "sct-list");
	ASSERT_TRUE(tls_cert_fault_name(0) == NULL);
	ASSERT_TRUE(ERR_peek_error() == 0); /* the error queue is left clean */
	fx_free_all();
	return 0;
}

TEST_IMPL(tls_cert_names_are_rfc4514_with_utf8_kept)
{
	static const char *const ext[] = {
	    "subjectAltName", "DNS:xn--bcher-kva.example.test,DNS:bad\x01name.example.test", NULL};
	EVP_PKEY *k = fx_ec();
	X509 *x = fx_make("C=DE/O=B\xc3\xbc"
			  "cher, KG/OU=a+b/CN=#1 caf\xc3\xa9",
			  "04", "20260101000000Z", "20270101000000Z", k, NULL, NULL, ext);
	struct tls_cert_info ci;

	ASSERT_TRUE(x);
	ASSERT_EQ(tls_cert_summarize(x, NOW, &ci), 0);
	ASSERT_STR_EQ(ci.subject, "CN=\\#1 caf\xc3\xa9,OU=a\\+b,O=B\xc3\xbc"
				  "cher\\, KG,C=DE");
	ASSERT_UEQ(ci.san_dns.n, 2);
	ASSERT_STR_EQ(ci.san_dns.v[0], "xn--bcher-kva.example.test");
	/* a control byte in a DNS name is replaced and flagged */
	ASSERT_STR_EQ(ci.san_dns.v[1], "bad?name.example.test");
	ASSERT_UEQ(ci.faults, TLS_CERT_BAD_SAN);
	tls_cert_info_free(&ci);

	ASSERT_EQ(tls_cert_summarize(NULL, NOW, &ci), -EINVAL);
	ASSERT_EQ(tls_cert_summarize(x, NOW, NULL), -EINVAL);
	fx_free_all();
	return 0;
}

/* --- chain verdicts --------------------------------------------------------- */

TEST_IMPL(tls_chain_good_chain_verifies_against_a_ca_file)
{
	struct world w;
	struct tls_chain_info ci;
	X509 *sent[2];

	ASSERT_EQ(world_init(&w), 0);
	sent[0] = w.leaf, sent[1] = w.inter;
	ASSERT_EQ(verify(sent, 2, w.ca_file, NULL, "www.example.test", &ci), 0);
	ASSERT_TRUE(ci.verified);
	ASSERT_EQ(ci.verdict, TLS_VERDICT_OK);
	ASSERT_EQ(ci.error, 0);
	ASSERT_EQ(ci.error_depth, -1);
	ASSERT_STR_EQ(ci.error_string, "");
	ASSERT_UEQ(ci.problems, 0);
	ASSERT_UEQ(ci.n_errors, 0);
	ASSERT_TRUE(ci.hostname_checked && ci.hostname_match);
	ASSERT_TRUE(ci.order_ok);
	ASSERT_TRUE(!ci.root_included);
	ASSERT_EQ(ci.sent_length, 2);
	ASSERT_EQ(ci.verified_length, 3);
	ASSERT_EQ(ci.leaf_not_after, 1803038399);
	ASSERT_EQ(ci.earliest_sent_not_after, 1803038399);
	ASSERT_EQ(ci.earliest_sent_index, 0);
	ASSERT_EQ(ci.earliest_verified_not_after, 1803038399);

	/* without a host nothing is checked, and the verdict is the chain's */
	ASSERT_EQ(verify(sent, 2, w.ca_file, NULL, NULL, &ci), 0);
	ASSERT_TRUE(ci.verified && ci.verdict == TLS_VERDICT_OK);
	ASSERT_TRUE(!ci.hostname_checked && !ci.hostname_match);
	world_free(&w);
	return 0;
}

TEST_IMPL(tls_chain_hostname_follows_wildcard_and_ip_rules)
{
	static const struct {
		const char *host;
		bool match;
	} cases[] = {
	    {"www.example.test", true},
	    {"WWW.Example.Test", true},
	    {"mail.example.test", true},
	    {"example.test", false},
	    {"a.b.example.test", false},
	    {"www.example.tes", false},
	    {"192.0.2.7", true},
	    {"192.0.2.8", false},
	    {"::1", true},
	    {"0:0:0:0:0:0:0:1", true},
	    {"::2", false},
	    {"Example Ltd", false},
	};
	struct world w;
	struct tls_chain_info ci;
	X509 *sent[2];

	ASSERT_EQ(world_init(&w), 0);
	sent[0] = w.leaf, sent[1] = w.inter;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ASSERT_EQ(verify(sent, 2, w.ca_file, NULL, cases[i].host, &ci), 0);
		if (ci.hostname_match != cases[i].match)
			TEST_FAIL_("host %s: match %d", cases[i].host, ci.hostname_match);
		ASSERT_TRUE(ci.hostname_checked && ci.verified);
		ASSERT_EQ(ci.verdict, cases[i].match ? TLS_VERDICT_OK : TLS_VERDICT_NAME_MISMATCH);
	}
	world_free(&w);
	return 0;
}

TEST_IMPL(tls_chain_name_mismatch_is_the_verdict_only_when_trusted)
{
	struct world w;
	struct tls_chain_info ci;
	X509 *sent[2];

	ASSERT_EQ(world_init(&w), 0);
	sent[0] = w.leaf, sent[1] = w.inter;
	ASSERT_EQ(verify(sent, 2, w.ca_file, NULL, "other.test", &ci), 0);
	ASSERT_TRUE(ci.verified);
	ASSERT_EQ(ci.verdict, TLS_VERDICT_NAME_MISMATCH);
	ASSERT_STR_EQ(tls_verdict_name(ci.verdict), "name-mismatch");
	ASSERT_TRUE(ci.hostname_checked && !ci.hostname_match);
	ASSERT_UEQ(ci.problems, 1u << TLS_VERDICT_NAME_MISMATCH);
	ASSERT_EQ(ci.error, 0); /* no OpenSSL error behind it */

	/* untrusted and the wrong name: the trust problem is the verdict */
	ASSERT_EQ(verify(sent, 1, w.ca_file, NULL, "other.test", &ci), 0);
	ASSERT_TRUE(!ci.verified);
	ASSERT_EQ(ci.verdict, TLS_VERDICT_INCOMPLETE_CHAIN);
	ASSERT_TRUE(!ci.hostname_match);
	ASSERT_TRUE(ci.problems & (1u << TLS_VERDICT_NAME_MISMATCH));
	world_free(&w);
	return 0;
}

TEST_IMPL(tls_chain_expired_and_not_yet_valid_leaves)
{
	struct world w;
	struct tls_chain_info ci;
	X509 *sent[2];

	ASSERT_EQ(world_init(&w), 0);
	sent[0] = world_leaf(&w, LEAF_SUBJECT, "20250101000000Z", "20261101000000Z", plain_ext);
	sent[1] = w.inter;
	ASSERT_EQ(verify(sent, 2, w.ca_file, NULL, "www.example.test", &ci), 0);
	ASSERT_TRUE(!ci.verified);
	ASSERT_EQ(ci.verdict, TLS_VERDICT_EXPIRED);
	ASSERT_EQ(ci.error, X509_V_ERR_CERT_HAS_EXPIRED);
	ASSERT_EQ(ci.error_depth, 0);
	ASSERT_STR_EQ(ci.error_string, "certificate has expired");
	ASSERT_UEQ(ci.n_errors, 1);
	ASSERT_UEQ(ci.problems, 1u << TLS_VERDICT_EXPIRED);
	ASSERT_TRUE(ci.hostname_match); /* the name is still right */
	ASSERT_EQ(ci.verified_length, 0);
	ASSERT_EQ(ci.earliest_verified_not_after, 0);
	ASSERT_EQ(ci.leaf_not_after, 1793491200);

	sent[0] = world_leaf(&w, LEAF_SUBJECT, "20261201000000Z", "20271201000000Z", plain_ext);
	ASSERT_EQ(verify(sent, 2, w.ca_file, NULL, "www.example.test", &ci), 0);
	ASSERT_TRUE(!ci.verified);
	ASSERT_EQ(ci.verdict, TLS_VERDICT_NOT_YET_VALID);
	ASSERT_EQ(ci.error, X509_V_ERR_CERT_NOT_YET_VALID);
	ASSERT_EQ(ci.error_depth, 0);
	ASSERT_STR_EQ(ci.error_string, "certificate is not yet valid");
	ASSERT_STR_EQ(tls_verdict_name(ci.verdict), "not-yet-valid");
	world_free(&w);
	return 0;
}

TEST_IMPL(tls_chain_self_signed_leaf_alone)
{
	static const char *const ext[] = {"subjectAltName", "DNS:self.example.test", NULL};
	struct world w;
	struct tls_chain_info ci;
	X509 *self;

	ASSERT_EQ(world_init(&w), 0);
	self = fx_make("CN=self.example.test", "5EED", "20260101000000Z", "20270101000000Z",
		       fx_ed25519(), NULL, NULL, ext);
	ASSERT_TRUE(self);
	ASSERT_EQ(verify(&self, 1, w.ca_file, NULL, "self.example.test", &ci), 0);
	ASSERT_TRUE(!ci.verified);
	ASSERT_EQ(ci.verdict, TLS_VERDICT_SELF_SIGNED_LEAF);
	ASSERT_STR_EQ(tls_verdict_name(ci.verdict), "self-signed");
	ASSERT_EQ(ci.error, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
	ASSERT_EQ(ci.error_depth, 0);
	ASSERT_STR_EQ(ci.error_string, "self-signed certificate");
	ASSERT_UEQ(ci.n_errors, 1);
	ASSERT_UEQ(ci.problems, 1u << TLS_VERDICT_SELF_SIGNED_LEAF);
	ASSERT_TRUE(ci.hostname_match);
	ASSERT_TRUE(ci.order_ok);
	ASSERT_TRUE(ci.root_included); /* it is its own root */
	ASSERT_EQ(ci.sent_length, 1);
	world_free(&w);
	return 0;
}

TEST_IMPL(tls_chain_missing_intermediate_is_incomplete)
{
	struct world w;
	struct tls_chain_info ci;

	ASSERT_EQ(world_init(&w), 0);
	ASSERT_EQ(verify(&w.leaf, 1, w.ca_file, NULL, "www.example.test", &ci), 0);
	ASSERT_TRUE(!ci.verified);
	ASSERT_EQ(ci.verdict, TLS_VERDICT_INCOMPLETE_CHAIN);
	ASSERT_STR_EQ(tls_verdict_name(ci.verdict), "incomplete-chain");
	ASSERT_EQ(ci.error, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
	ASSERT_EQ(ci.error_depth, 0);
	ASSERT_STR_EQ(ci.error_string, "unable to get local issuer certificate");
	ASSERT_UEQ(ci.n_errors, 2);
	ASSERT_EQ(ci.errors[1].code, X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE);
	ASSERT_EQ(ci.errors[1].depth, 0);
	ASSERT_UEQ(ci.problems, 1u << TLS_VERDICT_INCOMPLETE_CHAIN);
	ASSERT_TRUE(ci.order_ok && !ci.root_included);
	ASSERT_EQ(ci.sent_length, 1);
	world_free(&w);
	return 0;
}

TEST_IMPL(tls_chain_with_root_included_trusted_or_not)
{
	struct world w;
	struct tls_chain_info ci;
	X509 *sent[3], *other_root;
	char other[128];

	ASSERT_EQ(world_init(&w), 0);
	sent[0] = w.leaf, sent[1] = w.inter, sent[2] = w.root;
	ASSERT_EQ(verify(sent, 3, w.ca_file, NULL, "www.example.test", &ci), 0);
	ASSERT_TRUE(ci.verified);
	ASSERT_EQ(ci.verdict, TLS_VERDICT_OK);
	ASSERT_TRUE(ci.order_ok && ci.root_included);
	ASSERT_EQ(ci.sent_length, 3);
	ASSERT_EQ(ci.verified_length, 3);

	/* the same chain against a store holding another root */
	other_root = fx_make("CN=Other Root CA", "07", "20200101000000Z", "20450101000000Z",
			     fx_ec(), NULL, NULL, root_ext);
	ASSERT_TRUE(other_root);
	snprintf(other, sizeof(other), "%s/other.pem", w.dir);
	ASSERT_TRUE(write_pem(other, &other_root, 1));
	ASSERT_EQ(verify(sent, 3, other, NULL, "www.example.test", &ci), 0);
	ASSERT_TRUE(!ci.verified);
	ASSERT_EQ(ci.verdict, TLS_VERDICT_UNTRUSTED_ROOT);
	ASSERT_STR_EQ(tls_verdict_name(ci.verdict), "untrusted-root");
	ASSERT_EQ(ci.error, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN);
	ASSERT_EQ(ci.error_depth, 2);
	ASSERT_STR_EQ(ci.error_string, "self-signed certificate in certificate chain");
	ASSERT_UEQ(ci.n_errors, 1);
	ASSERT_TRUE(ci.hostname_match && ci.root_included && ci.order_ok);

	/* without the root: the intermediate's issuer is nowhere */
	ASSERT_EQ(verify(sent, 2, other, NULL, "www.example.test", &ci), 0);
	ASSERT_EQ(ci.verdict, TLS_VERDICT_INCOMPLETE_CHAIN);
	ASSERT_EQ(ci.error, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
	ASSERT_EQ(ci.error_depth, 1);
	ASSERT_UEQ(ci.n_errors, 1);
	world_free(&w);
	return 0;
}

TEST_IMPL(tls_chain_out_of_order_verifies_but_order_is_flagged)
{
	struct world w;
	struct tls_chain_info ci;
	X509 *sent[3];

	ASSERT_EQ(world_init(&w), 0);
	sent[0] = w.leaf, sent[1] = w.root, sent[2] = w.inter;
	ASSERT_EQ(verify(sent, 3, w.ca_file, NULL, "www.example.test", &ci), 0);
	ASSERT_TRUE(ci.verified);
	ASSERT_EQ(ci.verdict, TLS_VERDICT_OK);
	ASSERT_TRUE(!ci.order_ok);
	ASSERT_TRUE(!ci.root_included); /* the last one sent is the intermediate */
	ASSERT_EQ(ci.verified_length, 3);
	world_free(&w);
	return 0;
}

TEST_IMPL(tls_chain_bad_signature)
{
	struct world w;
	struct tls_chain_info ci;
	X509 *sent[2];

	ASSERT_EQ(world_init(&w), 0);
	/* names and key identifier say the intermediate; another key signed it */
	sent[0] = fx_make(LEAF_SUBJECT, "66", "20260901000000Z", "20270219115959Z", w.leaf_key,
			  w.inter, fx_ec(), plain_ext);
	sent[1] = w.inter;
	ASSERT_TRUE(sent[0]);
	ASSERT_EQ(verify(sent, 2, w.ca_file, NULL, "www.example.test", &ci), 0);
	ASSERT_TRUE(!ci.verified);
	ASSERT_EQ(ci.verdict, TLS_VERDICT_BAD_SIGNATURE);
	ASSERT_STR_EQ(tls_verdict_name(ci.verdict), "bad-signature");
	ASSERT_EQ(ci.error, X509_V_ERR_CERT_SIGNATURE_FAILURE);
	ASSERT_EQ(ci.error_depth, 0);
	ASSERT_STR_EQ(ci.error_string, "certificate signature failure");
	ASSERT_UEQ(ci.n_errors, 1);
	ASSERT_TRUE(ci.order_ok); /* issued-by is names and key ids, not the signature */
	world_free(&w);
	return 0;
}

TEST_IMPL(tls_chain_records_every_error_not_just_the_first)
{
	struct world w;
	struct tls_chain_info ci;
	X509 *sent[3];
	char other[128];
	X509 *other_root;

	ASSERT_EQ(world_init(&w), 0);
	other_root = fx_make("CN=Other Root CA", "07", "20200101000000Z", "20450101000000Z",
			     fx_ec(), NULL, NULL, root_ext);
	snprintf(other, sizeof(other), "%s/other.pem", w.dir);
	ASSERT_TRUE(other_root && write_pem(other, &other_root, 1));
	sent[0] = world_leaf(&w, LEAF_SUBJECT, "20250101000000Z", "20261101000000Z", plain_ext);
	sent[1] = w.inter, sent[2] = w.root;
	ASSERT_EQ(verify(sent, 3, other, NULL, "wrong.test", &ci), 0);
	ASSERT_TRUE(!ci.verified);
	ASSERT_EQ(ci.verdict, TLS_VERDICT_UNTRUSTED_ROOT);
	ASSERT_EQ(ci.error, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN);
	ASSERT_EQ(ci.error_depth, 2);
	ASSERT_UEQ(ci.n_errors, 2);
	ASSERT_EQ(ci.errors[1].code, X509_V_ERR_CERT_HAS_EXPIRED);
	ASSERT_EQ(ci.errors[1].depth, 0);
	ASSERT_EQ(ci.errors[1].verdict, TLS_VERDICT_EXPIRED);
	ASSERT_UEQ(ci.problems, (1u << TLS_VERDICT_UNTRUSTED_ROOT) | (1u << TLS_VERDICT_EXPIRED) |
				    (1u << TLS_VERDICT_NAME_MISMATCH));
	ASSERT_TRUE(!ci.errors_truncated);
	world_free(&w);
	return 0;
}

TEST_IMPL(tls_chain_other_keeps_the_openssl_code_string_and_depth)
{
	static const char *const client_ext[] = {"basicConstraints",
						 "critical,CA:FALSE",
						 "extendedKeyUsage",
						 "clientAuth",
						 "subjectAltName",
						 "DNS:www.example.test",
						 NULL};
	static const char *const bare_ext[] = {"subjectKeyIdentifier", "hash", NULL};
	struct world w;
	struct tls_chain_info ci;
	X509 *sent[3], *not_ca;
	EVP_PKEY *nk;

	ASSERT_EQ(world_init(&w), 0);
	/* a client certificate shown by a server */
	sent[0] = world_leaf(&w, LEAF_SUBJECT, "20260901000000Z", "20270219115959Z", client_ext);
	sent[1] = w.inter;
	ASSERT_EQ(verify(sent, 2, w.ca_file, NULL, "www.example.test", &ci), 0);
	ASSERT_TRUE(!ci.verified);
	ASSERT_EQ(ci.verdict, TLS_VERDICT_OTHER);
	ASSERT_STR_EQ(tls_verdict_name(ci.verdict), "other");
	ASSERT_EQ(ci.error, X509_V_ERR_INVALID_PURPOSE);
	ASSERT_EQ(ci.error_depth, 0);
	ASSERT_STR_EQ(ci.error_string, "unsuitable certificate purpose");
	ASSERT_UEQ(ci.n_errors, 1);

	/* issued by a certificate that is no CA (no basicConstraints) */
	nk = fx_ec();
	not_ca = fx_make("CN=Not A CA", "77", "20210601000000Z", "20310601000000Z", nk, w.root,
			 w.root_key, bare_ext);
	ASSERT_TRUE(not_ca);
	sent[0] = fx_make(LEAF_SUBJECT, "78", "20260901000000Z", "20270219115959Z", w.leaf_key,
			  not_ca, nk, plain_ext);
	sent[1] = not_ca;
	ASSERT_TRUE(sent[0]);
	ASSERT_EQ(verify(sent, 2, w.ca_file, NULL, NULL, &ci), 0);
	ASSERT_EQ(ci.verdict, TLS_VERDICT_OTHER);
	ASSERT_EQ(ci.error, X509_V_ERR_INVALID_CA);
	ASSERT_EQ(ci.error_depth, 1);
	ASSERT_STR_EQ(ci.error_string, "invalid CA certificate");
	ASSERT_UEQ(ci.n_errors, 2); /* and no CA is fit for server use either */
	ASSERT_EQ(ci.errors[1].code, X509_V_ERR_INVALID_PURPOSE);
	ASSERT_EQ(ci.errors[1].depth, 1);
	ASSERT_UEQ(ci.problems, 1u << TLS_VERDICT_OTHER);
	world_free(&w);
	return 0;
}

TEST_IMPL(tls_chain_earliest_expiry_counts_what_was_sent_and_what_verified)
{
	struct world w;
	struct tls_chain_info ci;
	X509 *sent[3], *old_ca, *cross;
	EVP_PKEY *ok;
	static const char *const cross_ext[] = {"basicConstraints",
						"critical,CA:TRUE",
						"keyUsage",
						"critical,keyCertSign,cRLSign",
						"subjectKeyIdentifier",
						"hash",
						NULL};

	ASSERT_EQ(world_init(&w), 0);
	/* the root cross-signed by an old CA, expiring first: sent, but the
	 * verified chain ends in the trusted root instead (blackbox #340) */
	ok = fx_ec();
	old_ca = fx_make("CN=Old CA", "09", "20100101000000Z", "20300101000000Z", ok, NULL, NULL,
			 root_ext);
	ASSERT_TRUE(old_ca);
	cross = fx_make(ROOT_SUBJECT, "0A", "20200101000000Z", "20261215000000Z", w.root_key,
			old_ca, ok, cross_ext);
	ASSERT_TRUE(cross);
	sent[0] = w.leaf, sent[1] = w.inter, sent[2] = cross;
	ASSERT_EQ(verify(sent, 3, w.ca_file, NULL, "www.example.test", &ci), 0);
	ASSERT_TRUE(ci.verified);
	ASSERT_TRUE(ci.order_ok && !ci.root_included);
	ASSERT_EQ(ci.verified_length, 3);
	ASSERT_EQ(ci.leaf_not_after, 1803038399);
	ASSERT_EQ(ci.earliest_sent_not_after, 1797292800); /* 2026-12-15 */
	ASSERT_EQ(ci.earliest_sent_index, 2);
	ASSERT_EQ(ci.earliest_verified_not_after, 1803038399); /* the leaf */
	world_free(&w);
	return 0;
}

TEST_IMPL(tls_chain_in_memory_store_and_hashed_ca_dir)
{
	struct world w;
	struct tls_chain_info ci;
	X509 *sent[2];
	X509_STORE *st = X509_STORE_new();
	char hashed[128];
	struct tls_verify_opts o = {.now = NOW, .host = "www.example.test"};
	STACK_OF(X509) * sk;

	ASSERT_EQ(world_init(&w), 0);
	sent[0] = w.leaf, sent[1] = w.inter;
	ASSERT_TRUE(st && X509_STORE_add_cert(st, w.root));
	ASSERT_EQ(verify(sent, 2, NULL, st, "www.example.test", &ci), 0);
	ASSERT_TRUE(ci.verified && ci.verdict == TLS_VERDICT_OK);
	/* a store wins over a CA file */
	ASSERT_EQ(verify(sent, 2, "/nonexistent/ca.pem", st, NULL, &ci), 0);
	ASSERT_TRUE(ci.verified);
	X509_STORE_free(st);

	snprintf(hashed, sizeof(hashed), "%s/%08lx.0", w.dir,
		 X509_NAME_hash_ex(X509_get_subject_name(w.root), NULL, NULL, NULL));
	ASSERT_EQ(link(w.ca_file, hashed), 0);
	sk = chain_of(sent, 2);
	o.ca_dir = w.dir;
	ASSERT_EQ(tls_chain_verify(sk, &o, &ci), 0);
	ASSERT_TRUE(ci.verified && ci.verdict == TLS_VERDICT_OK);
	sk_X509_free(sk);
	unlink(hashed);
	world_free(&w);
	return 0;
}

TEST_IMPL(tls_chain_system_store_does_not_trust_a_private_root)
{
	struct world w;
	struct tls_chain_info ci;
	X509 *sent[2];

	ASSERT_EQ(world_init(&w), 0);
	sent[0] = w.leaf, sent[1] = w.inter;
	ASSERT_EQ(verify(sent, 2, NULL, NULL, "www.example.test", &ci), 0);
	ASSERT_TRUE(!ci.verified);
	ASSERT_EQ(ci.verdict, TLS_VERDICT_INCOMPLETE_CHAIN);
	ASSERT_EQ(ci.error_depth, 1);
	world_free(&w);
	return 0;
}

TEST_IMPL(tls_chain_refuses_bad_arguments_and_missing_ca_files)
{
	struct world w;
	struct tls_chain_info ci;
	struct tls_verify_opts o = {.ca_file = "/nonexistent/ca.pem", .now = NOW};
	STACK_OF(X509) *empty = sk_X509_new_null();

	ASSERT_EQ(world_init(&w), 0);
	ASSERT_EQ(verify(&w.leaf, 1, "/nonexistent/ca.pem", NULL, NULL, &ci), -ENOENT);
	o.ca_file = NULL;
	o.ca_dir = "/nonexistent";
	ASSERT_EQ(tls_chain_verify(empty, &o, &ci), -EINVAL);
	ASSERT_EQ(tls_chain_verify(NULL, &o, &ci), -EINVAL);
	sk_X509_free(empty);
	ASSERT_TRUE(ERR_peek_error() == 0);
	world_free(&w);
	return 0;
}

TEST_IMPL(tls_chain_verdict_of_maps_openssl_codes)
{
	static const struct {
		int code;
		bool last_self_signed;
		enum tls_verdict v;
	} cases[] = {
	    {X509_V_OK, false, TLS_VERDICT_OK},
	    {X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, false, TLS_VERDICT_UNTRUSTED_ROOT},
	    {X509_V_ERR_CERT_UNTRUSTED, false, TLS_VERDICT_UNTRUSTED_ROOT},
	    {X509_V_ERR_CERT_REJECTED, false, TLS_VERDICT_UNTRUSTED_ROOT},
	    {X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, false, TLS_VERDICT_INCOMPLETE_CHAIN},
	    {X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, true, TLS_VERDICT_UNTRUSTED_ROOT},
	    {X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, false, TLS_VERDICT_INCOMPLETE_CHAIN},
	    {X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, true, TLS_VERDICT_UNTRUSTED_ROOT},
	    {X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE, false, TLS_VERDICT_INCOMPLETE_CHAIN},
	    {X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, true, TLS_VERDICT_SELF_SIGNED_LEAF},
	    {X509_V_ERR_CERT_HAS_EXPIRED, false, TLS_VERDICT_EXPIRED},
	    {X509_V_ERR_CERT_NOT_YET_VALID, false, TLS_VERDICT_NOT_YET_VALID},
	    {X509_V_ERR_CERT_SIGNATURE_FAILURE, false, TLS_VERDICT_BAD_SIGNATURE},
	    {X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE, false, TLS_VERDICT_BAD_SIGNATURE},
	    {X509_V_ERR_HOSTNAME_MISMATCH, false, TLS_VERDICT_NAME_MISMATCH},
	    {X509_V_ERR_IP_ADDRESS_MISMATCH, false, TLS_VERDICT_NAME_MISMATCH},
	    {X509_V_ERR_INVALID_CA, false, TLS_VERDICT_OTHER},
	    {X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD, false, TLS_VERDICT_OTHER},
	    {X509_V_ERR_CA_MD_TOO_WEAK, false, TLS_VERDICT_OTHER},
	    {12345, false, TLS_VERDICT_OTHER},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (tls_verdict_of(cases[i].code, cases[i].last_self_signed) != cases[i].v)
			TEST_FAIL_("code %d: %s, want %s", cases[i].code,
				   tls_verdict_name(
				       tls_verdict_of(cases[i].code, cases[i].last_self_signed)),
				   tls_verdict_name(cases[i].v));
	ASSERT_STR_EQ(tls_verdict_name(TLS_VERDICT_OK), "ok");
	ASSERT_STR_EQ(tls_verdict_name(TLS_VERDICT_EXPIRED), "expired");
	return 0;
}

/* --- OCSP staples ------------------------------------------------------------ */

/* What an OCSP response says. */
struct ocsp_spec {
	X509 *leaf, *issuer; /* the certificate asked about */
	const EVP_MD *id_md; /* CertID hash; NULL: SHA-1 */
	int status;          /* V_OCSP_CERTSTATUS_* */
	int reason;          /* for REVOKED; -1 none */
	const char *revoked; /* "YYYYMMDDHHMMSSZ" */
	const char *this_upd;
	const char *next_upd; /* NULL: none */
	X509 *signer;
	EVP_PKEY *signer_key;
	bool include_signer; /* put the signer's certificate in the response */
};

static ASN1_GENERALIZEDTIME *gtime(const char *s)
{
	ASN1_GENERALIZEDTIME *t = s ? ASN1_GENERALIZEDTIME_new() : NULL;

	if (t && !ASN1_GENERALIZEDTIME_set_string(t, s)) {
		ASN1_GENERALIZEDTIME_free(t);
		return NULL;
	}
	return t;
}

/* The DER OCSPResponse s describes (OPENSSL_free it), *len bytes. */
static unsigned char *fx_ocsp(const struct ocsp_spec *s, size_t *len)
{
	OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
	OCSP_CERTID *id = OCSP_cert_to_id(s->id_md, s->leaf, s->issuer);
	ASN1_GENERALIZEDTIME *rev = gtime(s->revoked), *tu = gtime(s->this_upd),
			     *nu = gtime(s->next_upd);
	OCSP_RESPONSE *resp = NULL;
	unsigned char *der = NULL;
	int n = -1;

	if (bs && id && tu && OCSP_basic_add1_status(bs, id, s->status, s->reason, rev, tu, nu) &&
	    OCSP_basic_sign(bs, s->signer, s->signer_key, EVP_sha256(), NULL,
			    s->include_signer ? 0 : OCSP_NOCERTS) &&
	    (resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs)))
		n = i2d_OCSP_RESPONSE(resp, &der);
	OCSP_RESPONSE_free(resp);
	OCSP_BASICRESP_free(bs);
	OCSP_CERTID_free(id);
	ASN1_GENERALIZEDTIME_free(rev);
	ASN1_GENERALIZEDTIME_free(tu);
	ASN1_GENERALIZEDTIME_free(nu);
	*len = n > 0 ? (size_t)n : 0;
	return n > 0 ? der : NULL;
}

TEST_IMPL(tls_ocsp_good_revoked_and_unknown_staples)
{
	struct world w;
	struct tls_ocsp_info oi;
	X509_STORE *st = X509_STORE_new();
	struct ocsp_spec s;
	unsigned char *der;
	size_t len;
	EVP_PKEY *self_key;
	X509 *self;

	ASSERT_EQ(world_init(&w), 0);
	ASSERT_TRUE(st && X509_STORE_add_cert(st, w.root));
	s = (struct ocsp_spec){w.leaf,
			       w.inter,
			       NULL,
			       V_OCSP_CERTSTATUS_GOOD,
			       -1,
			       NULL,
			       "20261120000000Z",
			       "20261127000000Z",
			       w.inter,
			       w.int_key,
			       false};
	der = fx_ocsp(&s, &len);
	ASSERT_TRUE(der);
	ASSERT_EQ(tls_ocsp_staple_status(der, len, w.leaf, w.inter, st, NOW, &oi), 0);
	ASSERT_EQ(oi.status, TLS_OCSP_GOOD);
	ASSERT_STR_EQ(tls_ocsp_status_name(oi.status), "good");
	ASSERT_TRUE(oi.invalid_reason == NULL);
	ASSERT_EQ(oi.response_status, 0);
	ASSERT_TRUE(oi.signature_checked);
	ASSERT_STR_EQ(oi.this_update, "2026-11-20T00:00:00Z");
	ASSERT_EQ(oi.this_update_t, 1795132800);
	ASSERT_STR_EQ(oi.next_update, "2026-11-27T00:00:00Z");
	ASSERT_EQ(oi.next_update_t, 1795737600);
	ASSERT_TRUE(!oi.expired);
	ASSERT_STR_EQ(oi.revocation_time, "");
	ASSERT_EQ(oi.revocation_reason, -1);
	ASSERT_TRUE(oi.revocation_reason_name == NULL);
	/* a week later the same staple is past its nextUpdate */
	ASSERT_EQ(tls_ocsp_staple_status(der, len, w.leaf, w.inter, NULL, NOW + 7 * 86400, &oi), 0);
	ASSERT_EQ(oi.status, TLS_OCSP_GOOD);
	ASSERT_TRUE(oi.expired && !oi.signature_checked);
	OPENSSL_free(der);

	s.status = V_OCSP_CERTSTATUS_REVOKED;
	s.reason = OCSP_REVOKED_STATUS_KEYCOMPROMISE;
	s.revoked = "20261101093000Z";
	s.next_upd = NULL;
	s.id_md = EVP_sha256(); /* a SHA-256 CertID matches too */
	der = fx_ocsp(&s, &len);
	ASSERT_TRUE(der);
	ASSERT_EQ(tls_ocsp_staple_status(der, len, w.leaf, w.inter, st, NOW, &oi), 0);
	ASSERT_EQ(oi.status, TLS_OCSP_REVOKED);
	ASSERT_STR_EQ(tls_ocsp_status_name(oi.status), "revoked");
	ASSERT_STR_EQ(oi.revocation_time, "2026-11-01T09:30:00Z");
	ASSERT_EQ(oi.revocation_time_t, 1793525400);
	ASSERT_EQ(oi.revocation_reason, 1);
	ASSERT_STR_EQ(oi.revocation_reason_name, "keyCompromise");
	ASSERT_STR_EQ(oi.next_update, "");
	ASSERT_EQ(oi.next_update_t, 0);
	ASSERT_TRUE(!oi.expired);
	OPENSSL_free(der);

	s.status = V_OCSP_CERTSTATUS_UNKNOWN;
	s.reason = -1;
	s.revoked = NULL;
	der = fx_ocsp(&s, &len);
	ASSERT_TRUE(der);
	ASSERT_EQ(tls_ocsp_staple_status(der, len, w.leaf, w.inter, st, NOW, &oi), 0);
	ASSERT_EQ(oi.status, TLS_OCSP_UNKNOWN);
	ASSERT_STR_EQ(tls_ocsp_status_name(oi.status), "unknown");
	OPENSSL_free(der);

	/* a self-signed leaf answers for itself when no issuer is given */
	self_key = fx_ec();
	self = fx_make("CN=self.example.test", "5EED", "20260101000000Z", "20270101000000Z",
		       self_key, NULL, NULL, NULL);
	ASSERT_TRUE(self);
	s = (struct ocsp_spec){.leaf = self,
			       .issuer = self,
			       .status = V_OCSP_CERTSTATUS_GOOD,
			       .reason = -1,
			       .this_upd = "20261120000000Z",
			       .signer = self,
			       .signer_key = self_key};
	der = fx_ocsp(&s, &len);
	ASSERT_TRUE(der);
	ASSERT_EQ(tls_ocsp_staple_status(der, len, self, NULL, NULL, NOW, &oi), 0);
	ASSERT_EQ(oi.status, TLS_OCSP_GOOD);
	OPENSSL_free(der);

	ASSERT_EQ(tls_ocsp_staple_status(NULL, 0, NULL, NULL, NULL, NOW, &oi), 0);
	ASSERT_EQ(oi.status, TLS_OCSP_NONE);
	ASSERT_STR_EQ(tls_ocsp_status_name(oi.status), "none");
	ASSERT_EQ(oi.response_status, -1);
	X509_STORE_free(st);
	world_free(&w);
	return 0;
}

TEST_IMPL(tls_ocsp_invalid_staples_say_why)
{
	static const unsigned char garbage[] = "\x30\x82\xff\xffnot an OCSP response";
	struct world w;
	struct tls_ocsp_info oi;
	X509_STORE *st = X509_STORE_new();
	struct ocsp_spec s;
	unsigned char *der, *longer;
	size_t len;
	OCSP_RESPONSE *later = OCSP_response_create(OCSP_RESPONSE_STATUS_TRYLATER, NULL);
	X509 *other, *impostor;
	EVP_PKEY *impostor_key;

	ASSERT_EQ(world_init(&w), 0);
	ASSERT_TRUE(st && X509_STORE_add_cert(st, w.root) && later);
	ASSERT_EQ(
	    tls_ocsp_staple_status(garbage, sizeof(garbage) - 1, w.leaf, w.inter, st, NOW, &oi), 0);
	ASSERT_EQ(oi.status, TLS_OCSP_INVALID);
	ASSERT_STR_EQ(tls_ocsp_status_name(oi.status), "invalid");
	ASSERT_STR_EQ(oi.invalid_reason, "not a DER OCSPResponse");
	ASSERT_EQ(oi.response_status, -1);

	der = NULL;
	len = (size_t)i2d_OCSP_RESPONSE(later, &der);
	OCSP_RESPONSE_free(later);
	ASSERT_EQ(tls_ocsp_staple_status(der, len, w.leaf, w.inter, st, NOW, &oi), 0);
	ASSERT_EQ(oi.status, TLS_OCSP_INVALID);
	ASSERT_EQ(oi.response_status, OCSP_RESPONSE_STATUS_TRYLATER);
	ASSERT_STR_EQ(oi.invalid_reason, "responseStatus is not successful");
	OPENSSL_free(der);

	/* signed in the issuer's name with another key: checked only with a store */
	impostor_key = fx_ec();
	impostor = fx_make(INT_SUBJECT, "1000", "20210601000000Z", "20310601000000Z", impostor_key,
			   w.root, w.root_key, int_ext);
	ASSERT_TRUE(impostor);
	s = (struct ocsp_spec){
	    w.leaf,   w.inter,      NULL, V_OCSP_CERTSTATUS_GOOD, -1, NULL, "20261120000000Z", NULL,
	    impostor, impostor_key, false};
	der = fx_ocsp(&s, &len);
	ASSERT_TRUE(der);
	ASSERT_EQ(tls_ocsp_staple_status(der, len, w.leaf, w.inter, st, NOW, &oi), 0);
	ASSERT_EQ(oi.status, TLS_OCSP_INVALID);
	ASSERT_TRUE(oi.signature_checked);
	ASSERT_STR_EQ(oi.invalid_reason, "signature or signer rejected");
	ASSERT_EQ(tls_ocsp_staple_status(der, len, w.leaf, w.inter, NULL, NOW, &oi), 0);
	ASSERT_EQ(oi.status, TLS_OCSP_GOOD);
	ASSERT_TRUE(!oi.signature_checked);
	OPENSSL_free(der);

	/* a good answer about another certificate */
	s.signer = w.inter;
	s.signer_key = w.int_key;
	der = fx_ocsp(&s, &len);
	other = world_leaf(&w, "CN=other.example.test", "20260101000000Z", "20270101000000Z",
			   plain_ext);
	ASSERT_TRUE(der && other);
	ASSERT_EQ(tls_ocsp_staple_status(der, len, other, w.inter, st, NOW, &oi), 0);
	ASSERT_EQ(oi.status, TLS_OCSP_INVALID);
	ASSERT_STR_EQ(oi.invalid_reason, "no response for this certificate");
	/* and the right one, with a byte after it */
	longer = malloc(len + 1);
	ASSERT_TRUE(longer);
	memcpy(longer, der, len);
	longer[len] = 0;
	ASSERT_EQ(tls_ocsp_staple_status(longer, len + 1, w.leaf, w.inter, st, NOW, &oi), 0);
	ASSERT_EQ(oi.status, TLS_OCSP_INVALID);
	ASSERT_STR_EQ(oi.invalid_reason, "bytes after the OCSPResponse");
	free(longer);
	ASSERT_EQ(tls_ocsp_staple_status(der, len, w.leaf, w.inter, st, NOW, &oi), 0);
	ASSERT_EQ(oi.status, TLS_OCSP_GOOD);
	/* a server that sent the leaf alone: no issuer to match the CertID with */
	ASSERT_EQ(tls_ocsp_staple_status(der, len, w.leaf, NULL, st, NOW, &oi), 0);
	ASSERT_EQ(oi.status, TLS_OCSP_INVALID);
	ASSERT_STR_EQ(oi.invalid_reason, "issuer certificate not available to match the response");
	OPENSSL_free(der);

	ASSERT_EQ(tls_ocsp_staple_status(garbage, 4, NULL, w.inter, st, NOW, &oi), -EINVAL);
	ASSERT_EQ(tls_ocsp_staple_status(NULL, 4, w.leaf, w.inter, st, NOW, &oi), -EINVAL);
	ASSERT_EQ(tls_ocsp_staple_status(garbage, 4, w.leaf, w.inter, st, NOW, NULL), -EINVAL);
	ASSERT_TRUE(ERR_peek_error() == 0);
	X509_STORE_free(st);
	world_free(&w);
	return 0;
}

/* "YYYYMMDDHHMMSSZ" for t. */
static void gt_string(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y%m%d%H%M%SZ", &tm);
}

TEST_IMPL(tls_ocsp_delegated_responder_needs_ocsp_signing)
{
	/* OpenSSL verifies a delegated responder's chain at the store's time,
	 * which is the wall clock: this hierarchy is made around it */
	static const char *const responder_ext[] = {"extendedKeyUsage", "OCSPSigning",
						    "authorityKeyIdentifier", "keyid:always", NULL};
	static const char *const plain_responder_ext[] = {"authorityKeyIdentifier", "keyid:always",
							  NULL};
	char nb[20], na[20], tu[20];
	time_t t = time(NULL);
	EVP_PKEY *rk = fx_ec(), *ik = fx_ec(), *lk = fx_ec(), *pk = fx_ec();
	X509 *root, *inter, *leaf, *responder, *plain;
	X509_STORE *st = X509_STORE_new();
	struct tls_ocsp_info oi;
	struct ocsp_spec s;
	unsigned char *der;
	size_t len;

	gt_string(t - 86400, nb, sizeof(nb));
	gt_string(t + 30 * 86400, na, sizeof(na));
	gt_string(t - 3600, tu, sizeof(tu));
	root = fx_make(ROOT_SUBJECT, "01", nb, na, rk, NULL, NULL, root_ext);
	inter = fx_make(INT_SUBJECT, "02", nb, na, ik, root, rk, int_ext);
	leaf = fx_make(LEAF_SUBJECT, "03", nb, na, lk, inter, ik, plain_ext);
	responder =
	    fx_make("CN=Example OCSP Responder", "04", nb, na, pk, inter, ik, responder_ext);
	plain =
	    fx_make("CN=Example OCSP Responder", "05", nb, na, pk, inter, ik, plain_responder_ext);
	ASSERT_TRUE(root && inter && leaf && responder && plain && st);
	ASSERT_TRUE(X509_STORE_add_cert(st, root));

	s = (struct ocsp_spec){leaf,      inter, NULL, V_OCSP_CERTSTATUS_GOOD, -1, NULL, tu, NULL,
			       responder, pk,    true};
	der = fx_ocsp(&s, &len);
	ASSERT_TRUE(der);
	ASSERT_EQ(tls_ocsp_staple_status(der, len, leaf, inter, st, t, &oi), 0);
	ASSERT_EQ(oi.status, TLS_OCSP_GOOD);
	ASSERT_TRUE(oi.signature_checked);
	OPENSSL_free(der);

	s.signer = plain;
	der = fx_ocsp(&s, &len);
	ASSERT_TRUE(der);
	ASSERT_EQ(tls_ocsp_staple_status(der, len, leaf, inter, st, t, &oi), 0);
	ASSERT_EQ(oi.status, TLS_OCSP_INVALID);
	ASSERT_STR_EQ(oi.invalid_reason, "signature or signer rejected");
	OPENSSL_free(der);
	X509_STORE_free(st);
	fx_free_all();
	return 0;
}
