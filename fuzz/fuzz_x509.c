/* fuzz_x509.c: certificate summaries, chain verdicts and OCSP staples on
 * arbitrary bytes. The bytes are read as a DER certificate (PEM when DER
 * fails), summarized, and verified as a chain of one against a fixed issuer;
 * then the same bytes are read as a stapled OCSP response about a fixed leaf,
 * with and without a store, and with its issuer unknown. The fixed certificates are made from constant
 * Ed25519 keys with fixed dates and serials, so they are the same bytes in
 * every run and corpus entries that answer for the leaf keep reaching the
 * status code. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tls/x509sum.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 2026-11-21T12:00:00Z */
#define FUZZ_NOW ((time_t)1795262400)

static X509 *fixed_issuer, *fixed_leaf;
static EVP_PKEY *fixed_issuer_key;
static X509_STORE *fixed_store;

/* An Ed25519 key from a 32-byte seed that is seed_byte repeated. */
static EVP_PKEY *fixed_key(unsigned char seed_byte)
{
	unsigned char seed[32];

	memset(seed, seed_byte, sizeof(seed));
	return EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, sizeof(seed));
}

/* A certificate "CN=cn", serial, 2026-01-01 .. 2027-01-01, key, signed by
 * signer (named issuer_cn); a CA when ca. */
static X509 *fixed_cert(const char *cn, const char *issuer_cn, long serial, EVP_PKEY *key,
			EVP_PKEY *signer, bool ca)
{
	X509_EXTENSION *bc = X509V3_EXT_conf_nid(NULL, NULL, NID_basic_constraints,
						 ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	X509 *x = X509_new();
	X509_NAME *subj = X509_NAME_new(), *iss = X509_NAME_new();
	int ok = x && subj && iss &&
		 X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1,
					    -1, 0) &&
		 X509_NAME_add_entry_by_txt(iss, "CN", MBSTRING_ASC,
					    (const unsigned char *)issuer_cn, -1, -1, 0) &&
		 X509_set_version(x, X509_VERSION_3) &&
		 ASN1_INTEGER_set(X509_get_serialNumber(x), serial) &&
		 X509_set_subject_name(x, subj) && X509_set_issuer_name(x, iss) &&
		 ASN1_TIME_set_string_X509(X509_getm_notBefore(x), "20260101000000Z") &&
		 ASN1_TIME_set_string_X509(X509_getm_notAfter(x), "20270101000000Z") &&
		 X509_set_pubkey(x, key) && bc && X509_add_ext(x, bc, -1) &&
		 X509_sign(x, signer, NULL) > 0;

	X509_EXTENSION_free(bc);
	X509_NAME_free(subj);
	X509_NAME_free(iss);
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* The fixed issuer, leaf and store, made once. */
static void setup(void)
{
	EVP_PKEY *leaf_key;

	if (fixed_store)
		return;
	fixed_issuer_key = fixed_key(0x11);
	leaf_key = fixed_key(0x22);
	if (!fixed_issuer_key || !leaf_key)
		abort();
	fixed_issuer =
	    fixed_cert("Fuzz CA", "Fuzz CA", 1, fixed_issuer_key, fixed_issuer_key, true);
	fixed_leaf =
	    fixed_cert("fuzz.example.test", "Fuzz CA", 2, leaf_key, fixed_issuer_key, false);
	EVP_PKEY_free(leaf_key);
	fixed_store = X509_STORE_new();
	if (!fixed_issuer || !fixed_leaf || !fixed_store ||
	    !X509_STORE_add_cert(fixed_store, fixed_issuer))
		abort();
}

/* PEM without ever asking for a pass phrase (the default callback would
 * read the terminal for a "Proc-Type: 4,ENCRYPTED" header). */
static int no_pass(char *buf, int size, int rwflag, void *u)
{
	return -1;
}

static void check_str(const char *s, size_t cap)
{
	if (!s || strnlen(s, cap) == cap)
		abort();
}

static void check_list(const struct tls_strlist *l, bool ascii)
{
	if (l->n > TLS_CERT_LIST_MAX)
		abort();
	for (size_t i = 0; i < l->n; i++)
		for (const char *p = l->v[i]; *p; p++)
			if (ascii && (*p < 0x20 || *p > 0x7e))
				abort();
}

static void summarize(X509 *x)
{
	struct tls_cert_info ci;
	struct tls_chain_info ch;
	struct tls_verify_opts o = {
	    .store = fixed_store, .host = "fuzz.example.test", .now = FUZZ_NOW};
	STACK_OF(X509) * sk;

	/* every parsed certificate has a summary */
	if (tls_cert_summarize(x, FUZZ_NOW, &ci) != 0)
		abort();
	check_str(ci.subject, SIZE_MAX);
	check_str(ci.issuer, SIZE_MAX);
	check_str(ci.serial, SIZE_MAX);
	if (!ci.serial[0] || (ci.faults & ~0xfffu))
		abort();
	check_list(&ci.san_dns, true);
	check_list(&ci.san_ip, true);
	check_list(&ci.ocsp_urls, true);
	check_list(&ci.ca_issuers_urls, true);
	check_list(&ci.crl_urls, true);
	check_list(&ci.ext_key_usage, false);
	if (ci.n_key_usage > TLS_KEY_USAGE_MAX || ci.sct_count < -1)
		abort();
	/* a date is all there ("2026-11-21T12:00:00Z") or flagged */
	if (ci.not_after[0] ? strlen(ci.not_after) != 20
			    : (ci.not_after_t || ci.days_left || !(ci.faults & TLS_CERT_BAD_TIME)))
		abort();
	if (ci.not_before[0] ? strlen(ci.not_before) != 20
			     : (ci.not_before_t || !(ci.faults & TLS_CERT_BAD_TIME)))
		abort();
	tls_cert_info_free(&ci);

	sk = sk_X509_new_null();
	if (!sk || !sk_X509_push(sk, x) || tls_chain_verify(sk, &o, &ch) != 0)
		abort();
	if ((unsigned)ch.verdict >= TLS_VERDICT_COUNT || (ch.verified && ch.n_errors != 0) ||
	    (!ch.verified && (ch.n_errors == 0 || ch.error_depth < 0)) ||
	    ch.n_errors > TLS_VERIFY_MAX_ERRS || ch.sent_length != 1)
		abort();
	sk_X509_free(sk);
}

static void staple(const uint8_t *data, size_t size, X509 *issuer, X509_STORE *store)
{
	struct tls_ocsp_info oi;
	int r = tls_ocsp_staple_status(data, size, fixed_leaf, issuer, store, FUZZ_NOW, &oi);

	if (r != 0 || oi.status > TLS_OCSP_INVALID ||
	    (oi.status == TLS_OCSP_INVALID) != (oi.invalid_reason != NULL) ||
	    (size == 0) != (oi.status == TLS_OCSP_NONE) ||
	    (oi.status != TLS_OCSP_REVOKED && (oi.revocation_time[0] || oi.revocation_time_t)) ||
	    (oi.status != TLS_OCSP_INVALID && oi.status != TLS_OCSP_NONE &&
	     oi.signature_checked != (store != NULL)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char *p = data;
	X509 *x;

	setup();
	x = d2i_X509(NULL, &p, (long)size);
	if (!x) {
		BIO *b = BIO_new_mem_buf(data, (int)size);

		x = b ? PEM_read_bio_X509(b, NULL, no_pass, NULL) : NULL;
		BIO_free(b);
	}
	if (x) {
		summarize(x);
		X509_free(x);
	}
	staple(data, size, fixed_issuer, NULL);
	staple(data, size, fixed_issuer, fixed_store);
	staple(data, size, NULL, fixed_store);
	return 0;
}
