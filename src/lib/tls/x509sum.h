/* x509sum.h: certificate summaries, chain verdicts and OCSP staple status for
 * `portprobe tls`, as pure functions over OpenSSL objects (no sockets, no
 * output: the writers in src/lib/out/ turn these structs into text or JSON).
 *
 * Formats, fixed here so every writer prints the same thing:
 * - times: ISO 8601 UTC with seconds, "2026-11-21T12:00:00Z", plus time_t;
 * - serial: uppercase hex of the integer's magnitude, whole bytes without
 *   leading zero bytes ("0F", "00" for zero, "FEDCBA98"), "-" in front when
 *   negative; the same text as `openssl x509 -serial`;
 * - certificate fingerprints: uppercase hex bytes joined by ':' over the DER,
 *   as `openssl x509 -fingerprint -sha256` prints them ("AB:CD:...");
 * - SPKI pin: SHA-256 of the DER SubjectPublicKeyInfo, in base64 (curl's and
 *   HPKP's "sha256//<base64>" without the prefix) and in lowercase plain hex
 *   (`openssl pkey -pubin -outform DER | openssl dgst -sha256`, a DANE 3 1 1
 *   record);
 * - names: RFC 4514 (OpenSSL's RFC 2253 printer, most specific RDN first),
 *   UTF-8 kept as UTF-8, control characters escaped.
 *
 * Every function leaves OpenSSL's error queue as it found it, so a later
 * SSL_get_error() on the same thread is not misled. */
#ifndef PP_TLS_X509SUM_H
#define PP_TLS_X509SUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#define TLS_TIME_LEN        24        /* "2026-11-21T12:00:00Z" and its NUL, with room */
#define TLS_NAME_LEN        128       /* algorithm, curve and OID names */
#define TLS_SHA256_FP_LEN   96        /* 32 bytes as "AB:" * 32, last ':' is the NUL */
#define TLS_SHA1_FP_LEN     60        /* 20 bytes as "AB:" * 20 */
#define TLS_PIN_B64_LEN     45        /* base64 of 32 bytes: 44 characters */
#define TLS_PIN_HEX_LEN     65        /* hex of 32 bytes: 64 characters */
#define TLS_CERT_LIST_MAX   1024      /* entries kept per list; more set TLS_CERT_TRUNCATED */
#define TLS_KEY_USAGE_MAX   9         /* the bits RFC 5280 names */
#define TLS_VERIFY_MAX_ERRS 16        /* distinct (code, depth) pairs kept per chain */
#define TLS_OCSP_MAX        (1 << 20) /* a larger staple is refused as invalid */

/* t as "2026-11-21T12:00:00Z" into buf (TLS_TIME_LEN bytes); "" for a year
 * outside 0..9999. Returns buf. */
char *tls_time_iso(time_t t, char *buf);
/* Whole days from now to not_after, floored: -1 from one second after it. */
int64_t tls_days_left(time_t not_after, time_t now);

/* A list of strings, each owned by the list. */
struct tls_strlist {
	char **v; /* n NUL-terminated strings */
	size_t n; /* entries in v */
};

/* What could not be read, one bit per part (tls_cert_info.faults). The rest
 * of the summary is filled from what could. */
enum tls_cert_fault {
	TLS_CERT_BAD_NAME = 1u << 0,  /* subject or issuer has an invalid string: hex-dumped */
	TLS_CERT_BAD_TIME = 1u << 1,  /* notBefore or notAfter unreadable: left empty */
	TLS_CERT_BAD_KEY = 1u << 2,   /* the public key does not decode: no bits, no self-signed */
	TLS_CERT_BAD_SAN = 1u << 3,   /* subjectAltName malformed, repeated, or an odd entry */
	TLS_CERT_BAD_KU = 1u << 4,    /* keyUsage malformed or repeated */
	TLS_CERT_BAD_EKU = 1u << 5,   /* extendedKeyUsage malformed or repeated */
	TLS_CERT_BAD_BC = 1u << 6,    /* basicConstraints malformed, repeated, or bad pathlen */
	TLS_CERT_BAD_AIA = 1u << 7,   /* authorityInfoAccess malformed, repeated, or odd URL */
	TLS_CERT_BAD_CRLDP = 1u << 8, /* cRLDistributionPoints malformed, repeated, or odd URL */
	TLS_CERT_BAD_FEATURE = 1u << 9, /* TLS feature (must-staple) malformed or repeated */
	TLS_CERT_BAD_SCT = 1u << 10,    /* embedded SCT list malformed or repeated */
	TLS_CERT_TRUNCATED = 1u << 11,  /* a list reached TLS_CERT_LIST_MAX entries */
};

/* One certificate, as summarize fills it. Strings are never NULL after a
 * successful tls_cert_summarize ("" when absent); tls_cert_info_free
 * releases them. */
struct tls_cert_info {
	long version;                  /* 1, 2 or 3 (the field's value + 1) */
	char *subject;                 /* RFC 4514: "CN=www.example.test,O=Example,C=DE" */
	char *issuer;                  /* RFC 4514 */
	char *serial;                  /* "0F", "-01": see the header comment */
	struct tls_strlist san_dns;    /* dNSName entries, in certificate order */
	struct tls_strlist san_ip;     /* iPAddress entries: "192.0.2.7", "::1" */
	size_t san_other;              /* every other subjectAltName entry (email, URI, ...) */
	char not_before[TLS_TIME_LEN]; /* "2026-11-21T12:00:00Z", "" if unreadable */
	char not_after[TLS_TIME_LEN];  /* same */
	time_t not_before_t;           /* 0 if unreadable */
	time_t not_after_t;            /* 0 if unreadable */
	int64_t days_left;             /* floor((not_after - now) / 1 day): -1 one second after */
	char key_type[TLS_NAME_LEN];   /* "RSA", "RSA-PSS", "EC", "Ed25519", "Ed448", "DSA",
					     "DH", else the OID's short name or dotted form */
	int key_bits;             /* EVP_PKEY_get_bits(): 2048, 256 (P-256, Ed25519); 0 unknown */
	char curve[TLS_NAME_LEN]; /* EC named curve, OpenSSL short name: "prime256v1" */
	char curve_nist[TLS_NAME_LEN];            /* the NIST name when it has one: "P-256" */
	char sig_alg[TLS_NAME_LEN];               /* OpenSSL long name: "sha256WithRSAEncryption" */
	char sig_short[TLS_NAME_LEN];             /* "RSA-SHA256", "ECDSA-SHA384", "RSA-PSS-SHA256",
					     "Ed25519"; "" when unknown */
	char sha256[TLS_SHA256_FP_LEN];           /* SHA-256 of the DER: "AB:CD:..." */
	char sha1[TLS_SHA1_FP_LEN];               /* SHA-1 of the DER: "AB:CD:..." */
	char spki_sha256[TLS_PIN_B64_LEN];        /* SPKI pin, base64 */
	char spki_sha256_hex[TLS_PIN_HEX_LEN];    /* SPKI pin, lowercase hex */
	bool has_key_usage;                       /* the keyUsage extension is present */
	const char *key_usage[TLS_KEY_USAGE_MAX]; /* static names: "digitalSignature", ... */
	size_t n_key_usage;                       /* entries in key_usage */
	bool has_ext_key_usage;                   /* the extendedKeyUsage extension is present */
	struct tls_strlist ext_key_usage;         /* "serverAuth", ..., or a dotted OID */
	bool has_basic_constraints;               /* the basicConstraints extension is present */
	bool is_ca;                               /* cA is TRUE */
	long path_len;                            /* pathLenConstraint, -1 when absent */
	struct tls_strlist ocsp_urls;             /* AIA id-ad-ocsp URIs */
	struct tls_strlist ca_issuers_urls;       /* AIA id-ad-caIssuers URIs */
	struct tls_strlist crl_urls;              /* CRL distribution point full-name URIs */
	bool must_staple;                         /* TLS feature extension lists status_request */
	int sct_count;                            /* embedded SCTs; 0 when none, -1 unparsable */
	bool self_signed;                         /* subject == issuer, own key verifies it */
	unsigned faults;                          /* enum tls_cert_fault bits */
};

/* Fills *out from cert (not modified beyond OpenSSL's caches), with days_left
 * counted from now. Works on any parsed certificate: expired, self-signed,
 * or with extensions that do not decode (see faults). Returns 0, -EINVAL
 * (cert or out NULL) or -ENOMEM; *out is written only on success and must
 * be released with tls_cert_info_free. */
int tls_cert_summarize(X509 *cert, time_t now, struct tls_cert_info *out);
/* Releases what *info owns and zeroes it; NULL-safe, and safe on a zeroed struct. */
void tls_cert_info_free(struct tls_cert_info *info);
/* "subject-name", "validity", ... for one enum tls_cert_fault bit; NULL for others. */
const char *tls_cert_fault_name(unsigned fault);

/* The trust verdict of a chain; hostname match is reported beside it. */
enum tls_verdict {
	TLS_VERDICT_OK = 0,           /* verified, and the host (if checked) matches */
	TLS_VERDICT_UNTRUSTED_ROOT,   /* the chain ends in a self-signed root the store lacks */
	TLS_VERDICT_INCOMPLETE_CHAIN, /* an issuer is neither sent nor in the store */
	TLS_VERDICT_EXPIRED,          /* a certificate's notAfter is before now */
	TLS_VERDICT_NOT_YET_VALID,    /* a certificate's notBefore is after now */
	TLS_VERDICT_SELF_SIGNED_LEAF, /* the leaf alone, self-signed, not in the store */
	TLS_VERDICT_BAD_SIGNATURE,    /* a signature does not verify */
	TLS_VERDICT_NAME_MISMATCH,    /* trusted, but the host is not among the names */
	TLS_VERDICT_OTHER,            /* anything else: see the OpenSSL code and string */
};
#define TLS_VERDICT_COUNT (TLS_VERDICT_OTHER + 1)

/* "ok", "untrusted-root", "incomplete-chain", "expired", "not-yet-valid",
 * "self-signed", "bad-signature", "name-mismatch", "other". */
const char *tls_verdict_name(enum tls_verdict v);
/* The verdict an X509_V_ERR_* code stands for. last_sent_self_signed turns
 * "issuer not found" into UNTRUSTED_ROOT: the server sent a root, the store
 * lacks it, nothing is missing from the chain. */
enum tls_verdict tls_verdict_of(int x509_err, bool last_sent_self_signed);

/* Where trust comes from, and what to check. */
struct tls_verify_opts {
	X509_STORE *store;   /* used as is (borrowed) when set; ca_file and ca_dir are ignored */
	const char *ca_file; /* PEM bundle, or NULL */
	const char *ca_dir;  /* OpenSSL hashed directory (c_rehash), or NULL */
			     /* store, ca_file and ca_dir all NULL: the system store */
	const char *host;    /* DNS name (wildcards per X509_check_host) or IP literal; NULL or
				"" checks none */
	time_t now;          /* verification time (pass time(NULL) for the present) */
};

/* One error OpenSSL reported while verifying. */
struct tls_verify_error {
	int code;                 /* X509_V_ERR_* */
	int depth;                /* in the chain OpenSSL built: 0 = leaf */
	enum tls_verdict verdict; /* tls_verdict_of(code, ...) */
};

/* A chain as sent, judged. */
struct tls_chain_info {
	bool verified;                   /* OpenSSL accepted the chain with no error at all */
	enum tls_verdict verdict;        /* the first error's verdict; NAME_MISMATCH only when
					      verified; OK when verified and the host matches */
	int error;                       /* the first X509_V_ERR_* (0 when none) */
	int error_depth;                 /* its depth, -1 when none */
	char error_string[TLS_NAME_LEN]; /* X509_verify_cert_error_string(error), "" when none */
	unsigned problems;               /* 1u << verdict for every error seen, name mismatch
					      included */
	struct tls_verify_error errors[TLS_VERIFY_MAX_ERRS]; /* every distinct error, in order */
	size_t n_errors;                                     /* entries in errors */
	bool errors_truncated;          /* more distinct errors than TLS_VERIFY_MAX_ERRS */
	bool hostname_checked;          /* a host was given */
	bool hostname_match;            /* the leaf names it (X509_check_host / _ip_asc) */
	bool order_ok;                  /* sent[i] is issued by sent[i + 1] for every i */
	bool root_included;             /* the last sent certificate is self-signed */
	int sent_length;                /* certificates sent */
	int verified_length;            /* certificates in the verified chain, 0 if not verified */
	time_t leaf_not_after;          /* 0 when unreadable */
	time_t earliest_sent_not_after; /* min notAfter over what was sent; 0 when unreadable */
	int earliest_sent_index;        /* which sent certificate that is, -1 when none */
	time_t earliest_verified_not_after; /* min notAfter over the verified chain; 0 if not
					       verified */
};

/* Verifies sent (sent[0] is the leaf; the rest is untrusted material in the
 * server's order) for TLS server use at o->now, recording every error rather
 * than stopping at the first. Returns 0 with *out filled (whatever the
 * verdict), -EINVAL (no chain, no opts, no out), -ENOENT (ca_file or ca_dir
 * could not be loaded) or -ENOMEM. sent is not modified. */
int tls_chain_verify(STACK_OF(X509) * sent, const struct tls_verify_opts *o,
		     struct tls_chain_info *out);

/* OCSP staple status for one certificate. */
enum tls_ocsp_status {
	TLS_OCSP_NONE = 0, /* no staple */
	TLS_OCSP_GOOD,
	TLS_OCSP_REVOKED,
	TLS_OCSP_UNKNOWN, /* the responder does not know the certificate */
	TLS_OCSP_INVALID, /* see invalid_reason */
};

/* "none", "good", "revoked", "unknown", "invalid". */
const char *tls_ocsp_status_name(enum tls_ocsp_status s);

struct tls_ocsp_info {
	enum tls_ocsp_status status;
	const char *invalid_reason;         /* static text when INVALID, else NULL */
	int response_status;                /* OCSP responseStatus (0 successful, 3 tryLater);
					       -1 when the bytes do not parse */
	bool signature_checked;             /* a store was given and the signature was checked */
	char this_update[TLS_TIME_LEN];     /* ISO 8601, "" when unknown */
	time_t this_update_t;               /* 0 when unknown */
	char next_update[TLS_TIME_LEN];     /* ISO 8601, "" when absent */
	time_t next_update_t;               /* 0 when absent */
	bool expired;                       /* next_update is before now */
	char revocation_time[TLS_TIME_LEN]; /* ISO 8601 when REVOKED, else "" */
	time_t revocation_time_t;           /* 0 unless REVOKED */
	int revocation_reason;              /* CRLReason 0..10, -1 when not given */
	const char *revocation_reason_name; /* "keyCompromise", ...; NULL when not given */
};

/* Reads a stapled OCSP response (der, len; NULL or 0 bytes = none) for leaf,
 * issued by issuer (NULL when unknown: a self-signed leaf is then its own
 * issuer, any other staple is invalid). Invalid: not DER, trailing bytes,
 * larger than TLS_OCSP_MAX, responseStatus not successful, not a basic
 * response, no issuer, no single response for leaf (CertIDs with any hash
 * OpenSSL knows match), or,
 * when store is given, a signature that OCSP_basic_verify rejects (issuer is
 * trusted as a signer: a response signed by the issuer needs nothing from
 * the store; a delegated responder is chain-verified against the store at
 * the store's own time). now only sets expired. Returns 0 with *out filled,
 * -EINVAL (out NULL; bytes given without a leaf) or -ENOMEM. Nothing is
 * allocated in *out. */
int tls_ocsp_staple_status(const unsigned char *der, size_t len, X509 *leaf, X509 *issuer,
			   X509_STORE *store, time_t now, struct tls_ocsp_info *out);

#endif
