/* x509sum.c: certificate summaries, chain verdicts and OCSP staple status.
 *
 * Everything here reads OpenSSL objects the probe already has and fills plain
 * structs (formats in x509sum.h). The certificate is hostile input: every
 * extension is decoded on its own, so one that does not decode costs only its
 * own fields and sets a fault bit; strings a peer controls (DNS names, URLs)
 * are copied with anything outside printable ASCII replaced by '?', so a
 * writer never meets a NUL or broken UTF-8 from them.
 *
 * Chain verification does not stop at the first problem: a verify callback
 * records each (code, depth) OpenSSL reports and tells it to go on, so an
 * expired leaf under an untrusted root shows both facts. The first error is
 * the verdict; the hostname is checked apart from trust (X509_check_host,
 * X509_check_ip_asc), and becomes the verdict only for a trusted chain. */
#include "tls/x509sum.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/ct.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#define DAY_SECONDS 86400

/* --- small formatting helpers ------------------------------------------- */

/* Hex of n bytes, upper- or lowercase, joined by sep when sep is not 0, into
 * buf (room for n * 3 bytes with sep, n * 2 + 1 without). */
static void hex_bytes(const unsigned char *p, size_t n, char sep, bool upper, char *buf)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char *o = buf;

	for (size_t i = 0; i < n; i++) {
		if (sep && i)
			*o++ = sep;
		*o++ = digits[p[i] >> 4];
		*o++ = digits[p[i] & 15];
	}
	*o = '\0';
}

char *tls_time_iso(time_t t, char *buf)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
		buf[0] = '\0';
		return buf;
	}
	/* the years are 4-digit now; the modulos only tell the compiler */
	snprintf(buf, TLS_TIME_LEN, "%04u-%02u-%02uT%02u:%02u:%02uZ",
		 (unsigned)(tm.tm_year + 1900) % 10000u, (unsigned)(tm.tm_mon + 1) % 100u,
		 (unsigned)tm.tm_mday % 100u, (unsigned)tm.tm_hour % 100u,
		 (unsigned)tm.tm_min % 100u, (unsigned)tm.tm_sec % 100u);
	return buf;
}

int64_t tls_days_left(time_t not_after, time_t now)
{
	int64_t d = (int64_t)not_after - (int64_t)now, q = d / DAY_SECONDS;

	return (d % DAY_SECONDS < 0) ? q - 1 : q;
}

/* t into *ret_t and, as ISO 8601, into buf (TLS_TIME_LEN); false when t is
 * NULL or not a valid time (buf "" and *ret_t 0 then). */
static bool asn1_time_iso(const ASN1_TIME *t, char *buf, time_t *ret_t)
{
	struct tm tm;

	buf[0] = '\0';
	*ret_t = 0;
	/* ASN1_TIME_to_tm(NULL) means "now": never let it */
	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return false;
	*ret_t = timegm(&tm);
	/* an offset can carry 9999-12-31 into year 10000 */
	if (!tls_time_iso(*ret_t, buf)[0]) {
		*ret_t = 0;
		return false;
	}
	return true;
}

/* --- string lists -------------------------------------------------------- */

/* Appends a copy of p[0..n) to l, with every byte outside printable ASCII
 * replaced by '?'. *faults gets odd_fault when a byte was replaced and
 * TLS_CERT_TRUNCATED when l is full (the entry is then dropped). 0 or
 * -ENOMEM. */
static int strlist_add(struct tls_strlist *l, const unsigned char *p, size_t n, unsigned odd_fault,
		       unsigned *faults)
{
	char *s, **v;

	if (l->n >= TLS_CERT_LIST_MAX) {
		*faults |= TLS_CERT_TRUNCATED;
		return 0;
	}
	/* grow at powers of two */
	if ((l->n & (l->n - 1)) == 0) {
		v = realloc(l->v, (l->n ? l->n * 2 : 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
	}
	s = malloc(n + 1);
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		s[i] = (char)p[i];
		if (p[i] < 0x20 || p[i] > 0x7e) {
			s[i] = '?';
			*faults |= odd_fault;
		}
	}
	s[n] = '\0';
	l->v[l->n++] = s;
	return 0;
}

static int strlist_add_str(struct tls_strlist *l, const char *s, unsigned *faults)
{
	return strlist_add(l, (const unsigned char *)s, strlen(s), 0, faults);
}

static int strlist_add_asn1(struct tls_strlist *l, const ASN1_STRING *s, unsigned odd_fault,
			    unsigned *faults)
{
	return strlist_add(l, ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s), odd_fault,
			   faults);
}

static void strlist_release(struct tls_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* --- the certificate summary --------------------------------------------- */

/* An OID as OpenSSL's short name, or dotted when OpenSSL has no name. */
static void oid_name(const ASN1_OBJECT *obj, char *buf, size_t len)
{
	int nid = OBJ_obj2nid(obj);

	if (nid != NID_undef) {
		snprintf(buf, len, "%s", OBJ_nid2sn(nid));
		return;
	}
	if (!obj || OBJ_obj2txt(buf, (int)len, obj, 1) <= 0)
		snprintf(buf, len, "unknown");
}

/* The decoded extension nid of cert, or NULL. An extension present but not
 * decodable, or present twice, sets fault. */
static void *ext_d2i(X509 *cert, int nid, unsigned fault, unsigned *faults)
{
	int crit = -1;
	void *ext = X509_get_ext_d2i(cert, nid, &crit, NULL);

	/* crit: -1 absent, -2 more than once, 0/1 found (ext NULL: undecodable) */
	if (!ext && crit != -1)
		*faults |= fault;
	return ext;
}

/* name in RFC 4514 form, UTF-8 kept; a name whose strings do not convert is
 * printed with its values hex-dumped and sets TLS_CERT_BAD_NAME. NULL on
 * allocation failure. */
static char *name_rfc4514(const X509_NAME *name, unsigned *faults)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *s = NULL;
	long n;

	if (!b)
		return NULL;
	if (name && X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0) {
		*faults |= TLS_CERT_BAD_NAME;
		(void)BIO_reset(b);
		if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 | ASN1_STRFLGS_DUMP_ALL) < 0)
			(void)BIO_reset(b);
	}
	n = BIO_get_mem_data(b, &data);
	if (n >= 0)
		s = strndup(n ? data : "", (size_t)n);
	BIO_free(b);
	return s;
}

/* Magnitude bytes as hex, leading zero bytes dropped (one kept for zero),
 * "-" for a negative serial. NULL on allocation failure. */
static char *serial_hex(const ASN1_INTEGER *serial)
{
	const unsigned char *p = serial ? ASN1_STRING_get0_data(serial) : NULL;
	size_t n = serial ? (size_t)ASN1_STRING_length(serial) : 0;
	bool neg = serial && ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER;
	char *s;

	while (n > 1 && p[0] == 0) {
		p++;
		n--;
	}
	s = malloc(n * 2 + 4);
	if (!s)
		return NULL;
	if (n == 0) {
		snprintf(s, 4, "00");
		return s;
	}
	if (neg)
		s[0] = '-';
	hex_bytes(p, n, 0, true, s + neg);
	return s;
}

/* "RSA", "EC", ... for an SPKI algorithm; NULL for one without a name here. */
static const char *key_type_name(int nid)
{
	switch (nid) {
	case NID_rsaEncryption:
		return "RSA";
	case NID_rsassaPss:
		return "RSA-PSS";
	case NID_X9_62_id_ecPublicKey:
		return "EC";
	case NID_ED25519:
		return "Ed25519";
	case NID_ED448:
		return "Ed448";
	case NID_dsa:
		return "DSA";
	case NID_dhKeyAgreement:
	case NID_dhpublicnumber:
		return "DH";
	}
	return NULL;
}

static void summarize_key(X509 *cert, struct tls_cert_info *ci)
{
	X509_PUBKEY *xpk = X509_get_X509_PUBKEY(cert);
	ASN1_OBJECT *alg = NULL;
	X509_ALGOR *algor = NULL;
	const void *pval = NULL;
	int ptype = V_ASN1_UNDEF, nid, bits;
	EVP_PKEY *pk;

	if (!xpk || !X509_PUBKEY_get0_param(&alg, NULL, NULL, &algor, xpk)) {
		ci->faults |= TLS_CERT_BAD_KEY;
		snprintf(ci->key_type, sizeof(ci->key_type), "unknown");
		return;
	}
	nid = OBJ_obj2nid(alg);
	if (key_type_name(nid))
		snprintf(ci->key_type, sizeof(ci->key_type), "%s", key_type_name(nid));
	else
		oid_name(alg, ci->key_type, sizeof(ci->key_type));
	/* the curve from the SPKI's parameters, so a key whose point does not
	 * decode still names its curve */
	if (nid == NID_X9_62_id_ecPublicKey && algor) {
		X509_ALGOR_get0(NULL, &ptype, &pval, algor);
		if (ptype == V_ASN1_OBJECT) {
			int cnid = OBJ_obj2nid(pval);
			const char *nist = cnid != NID_undef ? EC_curve_nid2nist(cnid) : NULL;

			oid_name(pval, ci->curve, sizeof(ci->curve));
			snprintf(ci->curve_nist, sizeof(ci->curve_nist), "%s", nist ? nist : "");
		}
	}
	pk = X509_get0_pubkey(cert);
	if (!pk) {
		ci->faults |= TLS_CERT_BAD_KEY;
		return;
	}
	bits = EVP_PKEY_get_bits(pk);
	ci->key_bits = bits > 0 ? bits : 0;
}

/* "RSA", "ECDSA", ... for a signature's public-key algorithm. */
static const char *sig_pk_name(int pknid)
{
	switch (pknid) {
	case NID_rsaEncryption:
		return "RSA";
	case NID_rsassaPss:
		return "RSA-PSS";
	case NID_X9_62_id_ecPublicKey:
		return "ECDSA";
	case NID_dsa:
		return "DSA";
	case NID_ED25519:
		return "Ed25519";
	case NID_ED448:
		return "Ed448";
	}
	return NULL;
}

static void summarize_signature(X509 *cert, struct tls_cert_info *ci)
{
	const X509_ALGOR *alg = NULL;
	const ASN1_OBJECT *obj = NULL;
	int nid, mdnid = NID_undef, pknid = NID_undef;
	const char *pk;

	X509_get0_signature(NULL, &alg, cert);
	if (alg)
		X509_ALGOR_get0(&obj, NULL, NULL, alg);
	nid = obj ? OBJ_obj2nid(obj) : NID_undef;
	if (nid != NID_undef)
		snprintf(ci->sig_alg, sizeof(ci->sig_alg), "%s", OBJ_nid2ln(nid));
	else
		oid_name(obj, ci->sig_alg, sizeof(ci->sig_alg));
	/* X509_get_signature_info reads RSA-PSS parameters for the hash; it
	 * fails on a certificate whose extensions do not decode, so fall back
	 * to the OID table */
	if (!X509_get_signature_info(cert, &mdnid, &pknid, NULL, NULL) &&
	    !OBJ_find_sigid_algs(nid, &mdnid, &pknid))
		return;
	pk = sig_pk_name(pknid);
	if (!pk)
		return;
	if (mdnid == NID_undef)
		snprintf(ci->sig_short, sizeof(ci->sig_short), "%s", pk);
	else
		snprintf(ci->sig_short, sizeof(ci->sig_short), "%s-%s", pk, OBJ_nid2sn(mdnid));
}

/* SHA-256 and SHA-1 of the DER, and the SPKI pin. */
static int summarize_digests(X509 *cert, struct tls_cert_info *ci)
{
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	int n;

	n = i2d_X509(cert, &der);
	if (n < 0)
		return -ENOMEM;
	if (EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL))
		hex_bytes(md, mdlen, ':', true, ci->sha256);
	if (EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha1(), NULL))
		hex_bytes(md, mdlen, ':', true, ci->sha1);
	OPENSSL_free(der);
	der = NULL;
	n = X509_get_X509_PUBKEY(cert) ? i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der) : -1;
	if (n > 0 && EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL)) {
		EVP_EncodeBlock((unsigned char *)ci->spki_sha256, md, (int)mdlen);
		hex_bytes(md, mdlen, 0, false, ci->spki_sha256_hex);
	}
	OPENSSL_free(der);
	return 0;
}

static int summarize_san(X509 *cert, struct tls_cert_info *ci)
{
	GENERAL_NAMES *gens = ext_d2i(cert, NID_subject_alt_name, TLS_CERT_BAD_SAN, &ci->faults);
	int r = 0;

	for (int i = 0; r == 0 && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const ASN1_OCTET_STRING *ip;
		char text[INET6_ADDRSTRLEN];

		switch (g->type) {
		case GEN_DNS:
			r = strlist_add_asn1(&ci->san_dns, g->d.dNSName, TLS_CERT_BAD_SAN,
					     &ci->faults);
			break;
		case GEN_IPADD:
			ip = g->d.iPAddress;
			if ((ASN1_STRING_length(ip) == 4 || ASN1_STRING_length(ip) == 16) &&
			    inet_ntop(ASN1_STRING_length(ip) == 4 ? AF_INET : AF_INET6,
				      ASN1_STRING_get0_data(ip), text, sizeof(text))) {
				r = strlist_add_str(&ci->san_ip, text, &ci->faults);
			} else {
				/* 8 or 32 bytes is a name-constraint form, never a SAN */
				ci->faults |= TLS_CERT_BAD_SAN;
				ci->san_other++;
			}
			break;
		default:
			ci->san_other++;
			break;
		}
	}
	GENERAL_NAMES_free(gens);
	return r;
}

static void summarize_key_usage(X509 *cert, struct tls_cert_info *ci)
{
	/* RFC 5280 4.2.1.3, with the names OpenSSL's configuration uses */
	static const char *const names[TLS_KEY_USAGE_MAX] = {
	    "digitalSignature", "nonRepudiation", "keyEncipherment",
	    "dataEncipherment", "keyAgreement",   "keyCertSign",
	    "cRLSign",          "encipherOnly",   "decipherOnly",
	};
	ASN1_BIT_STRING *ku = ext_d2i(cert, NID_key_usage, TLS_CERT_BAD_KU, &ci->faults);

	if (!ku)
		return;
	ci->has_key_usage = true;
	for (int i = 0; i < TLS_KEY_USAGE_MAX; i++)
		if (ASN1_BIT_STRING_get_bit(ku, i))
			ci->key_usage[ci->n_key_usage++] = names[i];
	ASN1_BIT_STRING_free(ku);
}

static int summarize_eku(X509 *cert, struct tls_cert_info *ci)
{
	EXTENDED_KEY_USAGE *eku = ext_d2i(cert, NID_ext_key_usage, TLS_CERT_BAD_EKU, &ci->faults);
	char name[TLS_NAME_LEN];
	int r = 0;

	if (!eku)
		return 0;
	ci->has_ext_key_usage = true;
	for (int i = 0; r == 0 && i < sk_ASN1_OBJECT_num(eku); i++) {
		oid_name(sk_ASN1_OBJECT_value(eku, i), name, sizeof(name));
		r = strlist_add_str(&ci->ext_key_usage, name, &ci->faults);
	}
	EXTENDED_KEY_USAGE_free(eku);
	return r;
}

static void summarize_basic_constraints(X509 *cert, struct tls_cert_info *ci)
{
	BASIC_CONSTRAINTS *bc = ext_d2i(cert, NID_basic_constraints, TLS_CERT_BAD_BC, &ci->faults);
	int64_t v;

	ci->path_len = -1;
	if (!bc)
		return;
	ci->has_basic_constraints = true;
	ci->is_ca = bc->ca != 0;
	if (bc->pathlen) {
		if (ASN1_INTEGER_get_int64(&v, bc->pathlen) && v >= 0 && v <= LONG_MAX)
			ci->path_len = (long)v;
		else
			ci->faults |= TLS_CERT_BAD_BC;
	}
	BASIC_CONSTRAINTS_free(bc);
}

static int summarize_aia(X509 *cert, struct tls_cert_info *ci)
{
	AUTHORITY_INFO_ACCESS *aia = ext_d2i(cert, NID_info_access, TLS_CERT_BAD_AIA, &ci->faults);
	int r = 0;

	for (int i = 0; r == 0 && i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
		const ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);
		int method = OBJ_obj2nid(ad->method);
		struct tls_strlist *l = method == NID_ad_OCSP         ? &ci->ocsp_urls
					: method == NID_ad_ca_issuers ? &ci->ca_issuers_urls
								      : NULL;

		if (l && ad->location && ad->location->type == GEN_URI)
			r = strlist_add_asn1(l, ad->location->d.uniformResourceIdentifier,
					     TLS_CERT_BAD_AIA, &ci->faults);
	}
	AUTHORITY_INFO_ACCESS_free(aia);
	return r;
}

static int summarize_crldp(X509 *cert, struct tls_cert_info *ci)
{
	CRL_DIST_POINTS *dps =
	    ext_d2i(cert, NID_crl_distribution_points, TLS_CERT_BAD_CRLDP, &ci->faults);
	int r = 0;

	for (int i = 0; r == 0 && i < sk_DIST_POINT_num(dps); i++) {
		const DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
		GENERAL_NAMES *full;

		/* type 0 is fullName; 1 (relative to the issuer) has no URL */
		if (!dp->distpoint || dp->distpoint->type != 0)
			continue;
		full = dp->distpoint->name.fullname;
		for (int j = 0; r == 0 && j < sk_GENERAL_NAME_num(full); j++) {
			const GENERAL_NAME *g = sk_GENERAL_NAME_value(full, j);

			if (g->type == GEN_URI)
				r = strlist_add_asn1(&ci->crl_urls, g->d.uniformResourceIdentifier,
						     TLS_CERT_BAD_CRLDP, &ci->faults);
		}
	}
	CRL_DIST_POINTS_free(dps);
	return r;
}

static void summarize_tls_feature(X509 *cert, struct tls_cert_info *ci)
{
	/* RFC 7633: a SEQUENCE OF INTEGER naming TLS extensions; 5 is
	 * status_request, which makes the certificate "must-staple" */
	TLS_FEATURE *f = ext_d2i(cert, NID_tlsfeature, TLS_CERT_BAD_FEATURE, &ci->faults);
	int64_t v;

	for (int i = 0; i < sk_ASN1_INTEGER_num(f); i++)
		if (ASN1_INTEGER_get_int64(&v, sk_ASN1_INTEGER_value(f, i)) && v == 5)
			ci->must_staple = true;
	TLS_FEATURE_free(f);
}

static void summarize_scts(X509 *cert, struct tls_cert_info *ci)
{
	unsigned bad = 0;
	STACK_OF(SCT) *scts = ext_d2i(cert, NID_ct_precert_scts, TLS_CERT_BAD_SCT, &bad);

	ci->faults |= bad;
	ci->sct_count = bad ? -1 : sk_SCT_num(scts) > 0 ? sk_SCT_num(scts) : 0;
	SCT_LIST_free(scts);
}

/* Subject equals issuer and the certificate's own key verifies it. */
static bool cert_self_signed(X509 *cert)
{
	EVP_PKEY *pk;

	if (X509_NAME_cmp(X509_get_subject_name(cert), X509_get_issuer_name(cert)) != 0)
		return false;
	pk = X509_get0_pubkey(cert);
	return pk && X509_verify(cert, pk) == 1;
}

void tls_cert_info_free(struct tls_cert_info *info)
{
	if (!info)
		return;
	free(info->subject);
	free(info->issuer);
	free(info->serial);
	strlist_release(&info->san_dns);
	strlist_release(&info->san_ip);
	strlist_release(&info->ext_key_usage);
	strlist_release(&info->ocsp_urls);
	strlist_release(&info->ca_issuers_urls);
	strlist_release(&info->crl_urls);
	memset(info, 0, sizeof(*info));
}

int tls_cert_summarize(X509 *cert, time_t now, struct tls_cert_info *out)
{
	struct tls_cert_info ci = {0};
	int r = -ENOMEM;

	if (!cert || !out)
		return -EINVAL;
	ERR_set_mark();
	ci.version = X509_get_version(cert) + 1;
	ci.subject = name_rfc4514(X509_get_subject_name(cert), &ci.faults);
	ci.issuer = name_rfc4514(X509_get_issuer_name(cert), &ci.faults);
	ci.serial = serial_hex(X509_get0_serialNumber(cert));
	if (!ci.subject || !ci.issuer || !ci.serial)
		goto out;
	if (!asn1_time_iso(X509_get0_notBefore(cert), ci.not_before, &ci.not_before_t))
		ci.faults |= TLS_CERT_BAD_TIME;
	if (asn1_time_iso(X509_get0_notAfter(cert), ci.not_after, &ci.not_after_t))
		ci.days_left = tls_days_left(ci.not_after_t, now);
	else
		ci.faults |= TLS_CERT_BAD_TIME;
	summarize_key(cert, &ci);
	summarize_signature(cert, &ci);
	summarize_key_usage(cert, &ci);
	summarize_basic_constraints(cert, &ci);
	summarize_tls_feature(cert, &ci);
	summarize_scts(cert, &ci);
	if (summarize_digests(cert, &ci) < 0 || summarize_san(cert, &ci) < 0 ||
	    summarize_eku(cert, &ci) < 0 || summarize_aia(cert, &ci) < 0 ||
	    summarize_crldp(cert, &ci) < 0)
		goto out;
	ci.self_signed = cert_self_signed(cert);
	*out = ci;
	r = 0;
out:
	if (r < 0)
		tls_cert_info_free(&ci);
	ERR_pop_to_mark();
	return r;
}

const char *tls_cert_fault_name(unsigned fault)
{
	switch (fault) {
	case TLS_CERT_BAD_NAME:
		return "name";
	case TLS_CERT_BAD_TIME:
		return "validity";
	case TLS_CERT_BAD_KEY:
		return "public-key";
	case TLS_CERT_BAD_SAN:
		return "subject-alt-name";
	case TLS_CERT_BAD_KU:
		return "key-usage";
	case TLS_CERT_BAD_EKU:
		return "extended-key-usage";
	case TLS_CERT_BAD_BC:
		return "basic-constraints";
	case TLS_CERT_BAD_AIA:
		return "authority-info-access";
	case TLS_CERT_BAD_CRLDP:
		return "crl-distribution-points";
	case TLS_CERT_BAD_FEATURE:
		return "tls-feature";
	case TLS_CERT_BAD_SCT:
		return "sct-list";
	case TLS_CERT_TRUNCATED:
		return "truncated";
	}
	return NULL;
}

/* --- chain verdicts ------------------------------------------------------ */

const char *tls_verdict_name(enum tls_verdict v)
{
	switch (v) {
	case TLS_VERDICT_OK:
		return "ok";
	case TLS_VERDICT_UNTRUSTED_ROOT:
		return "untrusted-root";
	case TLS_VERDICT_INCOMPLETE_CHAIN:
		return "incomplete-chain";
	case TLS_VERDICT_EXPIRED:
		return "expired";
	case TLS_VERDICT_NOT_YET_VALID:
		return "not-yet-valid";
	case TLS_VERDICT_SELF_SIGNED_LEAF:
		return "self-signed";
	case TLS_VERDICT_BAD_SIGNATURE:
		return "bad-signature";
	case TLS_VERDICT_NAME_MISMATCH:
		return "name-mismatch";
	case TLS_VERDICT_OTHER:
		break;
	}
	return "other";
}

enum tls_verdict tls_verdict_of(int x509_err, bool last_sent_self_signed)
{
	switch (x509_err) {
	case X509_V_OK:
		return TLS_VERDICT_OK;
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_CERT_UNTRUSTED: /* the root is not trusted for this purpose */
	case X509_V_ERR_CERT_REJECTED:  /* the root is marked to reject it */
		return TLS_VERDICT_UNTRUSTED_ROOT;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		return last_sent_self_signed ? TLS_VERDICT_UNTRUSTED_ROOT
					     : TLS_VERDICT_INCOMPLETE_CHAIN;
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
		return TLS_VERDICT_SELF_SIGNED_LEAF;
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return TLS_VERDICT_EXPIRED;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return TLS_VERDICT_NOT_YET_VALID;
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
	case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
		return TLS_VERDICT_BAD_SIGNATURE;
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		return TLS_VERDICT_NAME_MISMATCH;
	}
	return TLS_VERDICT_OTHER;
}

/* What the verify callback writes to (the store context's app data). */
struct recorder {
	struct tls_chain_info *ci;
	bool last_sent_self_signed;
};

static void record_error(struct recorder *rec, int code, int depth)
{
	struct tls_chain_info *ci = rec->ci;
	enum tls_verdict v = tls_verdict_of(code, rec->last_sent_self_signed);

	for (size_t i = 0; i < ci->n_errors; i++)
		if (ci->errors[i].code == code && ci->errors[i].depth == depth)
			return;
	if (ci->n_errors == TLS_VERIFY_MAX_ERRS) {
		ci->errors_truncated = true;
		return;
	}
	ci->errors[ci->n_errors++] = (struct tls_verify_error){code, depth, v};
	ci->problems |= 1u << v;
}

/* Records each error and lets OpenSSL go on, so every problem is seen. */
static int record_cb(int ok, X509_STORE_CTX *ctx)
{
	struct recorder *rec = X509_STORE_CTX_get_app_data(ctx);

	if (!ok && rec)
		record_error(rec, X509_STORE_CTX_get_error(ctx),
			     X509_STORE_CTX_get_error_depth(ctx));
	return 1;
}

/* The leaf names host: an IP literal against iPAddress entries, anything
 * else as a DNS name (wildcards only as a whole leftmost label; the subject
 * CN only when there is no dNSName, as OpenSSL does). */
static bool host_matches(X509 *leaf, const char *host)
{
	unsigned char addr[16];

	if (inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1)
		return X509_check_ip_asc(leaf, host, 0) == 1;
	return X509_check_host(leaf, host, strlen(host), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS,
			       NULL) == 1;
}

/* The earliest readable notAfter in chain; its index in *ret_index. */
static time_t earliest_not_after(STACK_OF(X509) * chain, int *ret_index)
{
	time_t best = 0, t;
	char iso[TLS_TIME_LEN];

	*ret_index = -1;
	for (int i = 0; i < sk_X509_num(chain); i++)
		if (asn1_time_iso(X509_get0_notAfter(sk_X509_value(chain, i)), iso, &t) &&
		    (*ret_index < 0 || t < best)) {
			best = t;
			*ret_index = i;
		}
	return best;
}

/* The store o asks for: o->store (borrowed: *owned NULL), or a new one. */
static int open_store(const struct tls_verify_opts *o, X509_STORE **ret, X509_STORE **owned)
{
	X509_STORE *st;

	*owned = NULL;
	if (o->store) {
		*ret = o->store;
		return 0;
	}
	st = X509_STORE_new();
	if (!st)
		return -ENOMEM;
	if (!o->ca_file && !o->ca_dir) {
		/* no certificates at the default paths is not an error: every
		 * chain is then untrusted, which the verdict says */
		(void)X509_STORE_set_default_paths(st);
	} else if ((o->ca_file && !X509_STORE_load_file(st, o->ca_file)) ||
		   (o->ca_dir && !X509_STORE_load_path(st, o->ca_dir))) {
		X509_STORE_free(st);
		return -ENOENT;
	}
	*ret = *owned = st;
	return 0;
}

int tls_chain_verify(STACK_OF(X509) * sent, const struct tls_verify_opts *o,
		     struct tls_chain_info *out)
{
	struct tls_chain_info ci = {0};
	struct recorder rec = {&ci, false};
	X509_STORE *store = NULL, *owned = NULL;
	X509_STORE_CTX *ctx = NULL;
	X509 *leaf, *last;
	int n, rc, r;
	char iso[TLS_TIME_LEN];

	if (!sent || !o || !out || sk_X509_num(sent) < 1)
		return -EINVAL;
	ERR_set_mark();
	n = sk_X509_num(sent);
	leaf = sk_X509_value(sent, 0);
	last = sk_X509_value(sent, n - 1);
	ci.sent_length = n;
	ci.error_depth = -1;
	ci.root_included = rec.last_sent_self_signed = cert_self_signed(last);
	ci.order_ok = true;
	for (int i = 0; i + 1 < n; i++)
		if (X509_check_issued(sk_X509_value(sent, i + 1), sk_X509_value(sent, i)) !=
		    X509_V_OK)
			ci.order_ok = false;
	(void)asn1_time_iso(X509_get0_notAfter(leaf), iso, &ci.leaf_not_after);
	ci.earliest_sent_not_after = earliest_not_after(sent, &ci.earliest_sent_index);

	r = open_store(o, &store, &owned);
	if (r < 0)
		goto out;
	r = -ENOMEM;
	ctx = X509_STORE_CTX_new();
	if (!ctx || !X509_STORE_CTX_init(ctx, store, leaf, sent) ||
	    !X509_STORE_CTX_set_default(ctx, "ssl_server") ||
	    !X509_STORE_CTX_set_app_data(ctx, &rec))
		goto out;
	X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), o->now);
	X509_STORE_CTX_set_verify_cb(ctx, record_cb);
	rc = X509_verify_cert(ctx);
	if (rc <= 0 && ci.n_errors == 0) {
		/* failed without telling the callback (an internal error) */
		int code = X509_STORE_CTX_get_error(ctx);

		record_error(&rec, code != X509_V_OK ? code : X509_V_ERR_UNSPECIFIED,
			     X509_STORE_CTX_get_error_depth(ctx));
	}
	ci.verified = rc == 1 && ci.n_errors == 0;
	if (ci.verified) {
		int idx;
		STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);

		ci.verified_length = sk_X509_num(chain);
		ci.earliest_verified_not_after = earliest_not_after(chain, &idx);
	} else {
		ci.verdict = ci.errors[0].verdict;
		ci.error = ci.errors[0].code;
		ci.error_depth = ci.errors[0].depth;
		snprintf(ci.error_string, sizeof(ci.error_string), "%s",
			 X509_verify_cert_error_string(ci.error));
	}
	if (o->host && o->host[0]) {
		ci.hostname_checked = true;
		ci.hostname_match = host_matches(leaf, o->host);
		if (!ci.hostname_match) {
			ci.problems |= 1u << TLS_VERDICT_NAME_MISMATCH;
			if (ci.verified)
				ci.verdict = TLS_VERDICT_NAME_MISMATCH;
		}
	}
	*out = ci;
	r = 0;
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(owned);
	ERR_pop_to_mark();
	return r;
}

/* --- OCSP staple --------------------------------------------------------- */

const char *tls_ocsp_status_name(enum tls_ocsp_status s)
{
	switch (s) {
	case TLS_OCSP_NONE:
		return "none";
	case TLS_OCSP_GOOD:
		return "good";
	case TLS_OCSP_REVOKED:
		return "revoked";
	case TLS_OCSP_UNKNOWN:
		return "unknown";
	case TLS_OCSP_INVALID:
		break;
	}
	return "invalid";
}

/* RFC 5280 5.3.1 CRLReason names (7 is not used). */
static const char *crl_reason_name(int reason)
{
	static const char *const names[] = {
	    "unspecified",   "keyCompromise",        "cACompromise",    "affiliationChanged",
	    "superseded",    "cessationOfOperation", "certificateHold", NULL,
	    "removeFromCRL", "privilegeWithdrawn",   "aACompromise",
	};

	if (reason < 0 || reason >= (int)(sizeof(names) / sizeof(names[0])))
		return NULL;
	return names[reason];
}

/* The single response of bs about leaf (issued by issuer), or NULL. Each
 * CertID is compared with leaf's CertID under that CertID's own hash, so a
 * responder using SHA-256 CertIDs matches too; one whose hash OpenSSL cannot
 * compute matches nothing. */
static OCSP_SINGLERESP *find_single(OCSP_BASICRESP *bs, X509 *leaf, X509 *issuer)
{
	OCSP_CERTID *ours = NULL;
	const EVP_MD *ours_md = NULL;
	OCSP_SINGLERESP *found = NULL;

	for (int i = 0; !found && i < OCSP_resp_count(bs); i++) {
		OCSP_SINGLERESP *single = OCSP_resp_get0(bs, i);
		const OCSP_CERTID *cid = OCSP_SINGLERESP_get0_id(single);
		ASN1_OBJECT *md_oid = NULL;
		const EVP_MD *md;

		if (!cid || !OCSP_id_get0_info(NULL, &md_oid, NULL, NULL, (OCSP_CERTID *)cid))
			continue;
		md = EVP_get_digestbyobj(md_oid);
		if (!md)
			continue;
		if (md != ours_md) {
			OCSP_CERTID_free(ours);
			ours = OCSP_cert_to_id(md, leaf, issuer);
			ours_md = md;
		}
		if (ours && OCSP_id_cmp(ours, cid) == 0)
			found = single;
	}
	OCSP_CERTID_free(ours);
	return found;
}

/* OCSP_basic_verify with issuer as a trusted signer. */
static bool ocsp_signature_ok(OCSP_BASICRESP *bs, X509 *issuer, X509_STORE *store, bool *err)
{
	STACK_OF(X509) *extra = sk_X509_new_null();
	bool ok = false;

	if (!extra || !sk_X509_push(extra, issuer))
		*err = true;
	else
		ok = OCSP_basic_verify(bs, extra, store, OCSP_TRUSTOTHER) > 0;
	sk_X509_free(extra);
	return ok;
}

int tls_ocsp_staple_status(const unsigned char *der, size_t len, X509 *leaf, X509 *issuer,
			   X509_STORE *store, time_t now, struct tls_ocsp_info *out)
{
	struct tls_ocsp_info oi = {0};
	const unsigned char *p = der;
	OCSP_RESPONSE *resp = NULL;
	OCSP_BASICRESP *bs = NULL;
	OCSP_SINGLERESP *single;
	ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
	bool err = false;
	int st, reason = -1;

	if (!out || (!der && len) || (len && !leaf))
		return -EINVAL;
	oi.response_status = -1;
	oi.revocation_reason = -1;
	if (!der || len == 0) {
		*out = oi;
		return 0;
	}
	ERR_set_mark();
	oi.status = TLS_OCSP_INVALID;
	if (len > TLS_OCSP_MAX) {
		oi.invalid_reason = "larger than any staple portprobe reads";
		goto out;
	}
	resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
	if (!resp) {
		oi.invalid_reason = "not a DER OCSPResponse";
		goto out;
	}
	oi.response_status = OCSP_response_status(resp);
	if (p != der + len) {
		oi.invalid_reason = "bytes after the OCSPResponse";
		goto out;
	}
	if (oi.response_status != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		oi.invalid_reason = "responseStatus is not successful";
		goto out;
	}
	bs = OCSP_response_get1_basic(resp);
	if (!bs) {
		oi.invalid_reason = "not a basic OCSP response";
		goto out;
	}
	/* a self-signed leaf is its own issuer; any other needs the real one,
	 * whose name and key the CertID hashes */
	if (!issuer && cert_self_signed(leaf))
		issuer = leaf;
	if (!issuer) {
		oi.invalid_reason = "issuer certificate not available to match the response";
		goto out;
	}
	if (store) {
		oi.signature_checked = true;
		if (!ocsp_signature_ok(bs, issuer, store, &err)) {
			oi.invalid_reason = "signature or signer rejected";
			goto out;
		}
	}
	single = find_single(bs, leaf, issuer);
	if (!single) {
		oi.invalid_reason = "no response for this certificate";
		goto out;
	}
	st = OCSP_single_get0_status(single, &reason, &rev, &thisupd, &nextupd);
	(void)asn1_time_iso(thisupd, oi.this_update, &oi.this_update_t);
	if (asn1_time_iso(nextupd, oi.next_update, &oi.next_update_t))
		oi.expired = oi.next_update_t < now;
	switch (st) {
	case V_OCSP_CERTSTATUS_GOOD:
		oi.status = TLS_OCSP_GOOD;
		break;
	case V_OCSP_CERTSTATUS_REVOKED:
		oi.status = TLS_OCSP_REVOKED;
		(void)asn1_time_iso(rev, oi.revocation_time, &oi.revocation_time_t);
		oi.revocation_reason = reason >= 0 ? reason : -1;
		oi.revocation_reason_name = crl_reason_name(reason);
		break;
	case V_OCSP_CERTSTATUS_UNKNOWN:
		oi.status = TLS_OCSP_UNKNOWN;
		break;
	default:
		oi.invalid_reason = "unreadable certificate status";
		break;
	}
out:
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	ERR_pop_to_mark();
	if (err)
		return -ENOMEM;
	*out = oi;
	return 0;
}
