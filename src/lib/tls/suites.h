/* suites.h: the TLS cipher-suite registry, its lookups and the strength rule.
 *
 * One sorted, read-only table of every cipher suite in the IANA registry
 * (plus OpenSSL's two private-use GOST code points), generated from
 * suites.txt by tools/gen_suites.py into suites_table.c, and a small table of
 * the SSLv2 cipher kinds. The raw-hello prober offers any of these code
 * points whether or not the linked libssl implements them, so nothing here
 * asks OpenSSL anything: the facts are data, the rules are code.
 *
 * Field derivation (see tools/gen_suites.py for the full list):
 * - kx, au: from the IANA name's prefix ("ECDHE_RSA" -> "ECDHE", "RSA");
 *   anonymous suites have au "anon"; TLS 1.3 suites have "any" for both.
 * - enc: the cipher and mode as IANA spells it ("AES_128_GCM",
 *   "3DES_EDE_CBC", "RC4_128", "DES40_CBC", "CHACHA20_POLY1305", "NULL").
 * - key_bits: secret key bits (168 for 3DES, 40 for export suites);
 *   strength_bits: the effective security (112 for 3DES), as OpenSSL and
 *   nmap report it.
 * - mac: "AEAD" for AEAD suites, else the record MAC hash as IANA names it
 *   ("MD5", "SHA" = SHA-1, "SHA256", "SHA384"; "OMAC"/"IMIT" for GOST).
 *   prf: the handshake hash the suite fixes ("SHA256", "SHA384", ...), or
 *   "default" for suites that leave it to the protocol (MD5+SHA-1 before
 *   TLS 1.2, SHA-256 in TLS 1.2).
 * - versions: TLS 1.3 suites only TLSv1.3; AEAD suites and suites with a
 *   SHA-256/SHA-384 MAC only TLSv1.2 (RFC 5246 added them), except the PSK
 *   ones with such a MAC, which RFC 5487/5489/6367 define for TLS 1.0 and
 *   later; the RFC 9189 GOST suites only TLSv1.2; everything else SSLv3 to
 *   TLSv1.2 (OpenSSL takes ECC and PSK suites from TLSv1.0). This is the range
 *   a client may offer a suite in, not what an RFC allows: servers that
 *   still take export suites in TLS 1.2 exist, and a scanner wants to see
 *   them. TLS_NULL_WITH_NULL_NULL has no versions: it is never offered.
 * - pfs: DHE, ECDHE, DHE_PSK, ECDHE_PSK, SRP and ECCPWD key exchanges (the
 *   last two are password-authenticated exchanges with ephemeral secrets)
 *   and every TLS 1.3 suite; never for anonymous suites, whose ephemeral
 *   keys protect nothing against an active attacker.
 *
 * Strength rule (tls_suite_strength; also docs/internals/tls.md), first
 * match wins:
 *   insecure   NULL encryption, anonymous authentication, export, strength
 *              of 56 bits or less (DES), RC2, RC4, or an MD5 MAC;
 *   weak       a 64-bit block cipher (3DES, IDEA, GOST 28147-89, Magma),
 *              strength below 128 bits, or no AEAD and no forward secrecy
 *              (static RSA/DH/ECDH, plain PSK, RSA_PSK, KRB5 and GOST key
 *              transport with CBC or a stream mode);
 *   acceptable no AEAD but forward secrecy, AEAD without forward secrecy,
 *              or an AEAD with a truncated 64-bit tag (CCM_8);
 *   strong     AEAD with a full tag and forward secrecy (every TLS 1.3
 *              suite except TLS_AES_128_CCM_8_SHA256 and the integrity-only
 *              and Magma ones).
 * PSK suites are authenticated (by the key), not anonymous: plain PSK and
 * RSA_PSK are judged like static RSA, DHE_PSK and ECDHE_PSK like DHE. SEED
 * (a 128-bit block cipher) is judged like AES-CBC.
 */
#ifndef PP_TLS_SUITES_H
#define PP_TLS_SUITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Protocol version numbers as they appear on the wire. */
#define TLS_VERSION_SSL2  0x0002
#define TLS_VERSION_SSL3  0x0300
#define TLS_VERSION_TLS10 0x0301
#define TLS_VERSION_TLS11 0x0302
#define TLS_VERSION_TLS12 0x0303
#define TLS_VERSION_TLS13 0x0304

/* Bits of tls_suite.versions. */
#define TLS_VER_SSL3   (1u << 0)
#define TLS_VER_TLS10  (1u << 1)
#define TLS_VER_TLS11  (1u << 2)
#define TLS_VER_TLS12  (1u << 3)
#define TLS_VER_TLS13  (1u << 4)
#define TLS_VER_LEGACY (TLS_VER_SSL3 | TLS_VER_TLS10 | TLS_VER_TLS11 | TLS_VER_TLS12)

/* Signalling cipher suite values: sent in a ClientHello's suite list, never
 * chosen, so they are not in tls_suites[]. */
#define TLS_SCSV_EMPTY_RENEGOTIATION_INFO 0x00FF /* RFC 5746 */
#define TLS_SCSV_FALLBACK                 0x5600 /* RFC 7507 */

struct tls_suite {
	uint16_t id;            /* code point */
	const char *iana;       /* IANA name; OpenSSL's for the private-use ones */
	const char *openssl;    /* OpenSSL's name, NULL if OpenSSL never had one */
	const char *kx;         /* key exchange: RSA, DH, DHE, ECDH, ECDHE, PSK, ... */
	const char *au;         /* authentication: RSA, DSS, ECDSA, anon, PSK, ... */
	const char *enc;        /* cipher and mode, "NULL" for none */
	const char *mac;        /* "AEAD" or the record MAC hash ("SHA" is SHA-1) */
	const char *prf;        /* handshake hash the suite fixes, or "default" */
	uint16_t key_bits;      /* secret key bits (3DES 168, export 40) */
	uint16_t strength_bits; /* effective security bits (3DES 112) */
	uint8_t block_bits;     /* cipher block size, 0 for stream ciphers/NULL */
	uint8_t versions;       /* TLS_VER_* the suite may be offered in */
	bool aead;              /* authenticated encryption, no separate MAC */
	bool short_tag;         /* AEAD with a 64-bit tag (CCM_8) */
	bool pfs;               /* forward secret key exchange */
	bool export;            /* export-grade (40-bit secret) */
	bool registered;        /* in the IANA registry (false: private use) */
};

/* An SSLv2 cipher kind (3-byte code). Every one of them is insecure: SSLv2
 * itself is broken and they all use an MD5 MAC. */
struct tls_sslv2_suite {
	uint32_t id;            /* 3-byte code, e.g. 0x0700C0 */
	const char *name;       /* specification name, SSL_CK_... */
	const char *openssl;    /* OpenSSL's name */
	const char *enc;        /* cipher as the specification names it */
	uint16_t key_bits;      /* secret key bits (export 40) */
	uint16_t strength_bits; /* effective security bits */
	bool export;            /* export-grade */
};

/* The tables, sorted by id, generated into suites_table.c. */
extern const struct tls_suite tls_suites[];
extern const size_t tls_suites_count;
extern const struct tls_sslv2_suite tls_sslv2_suites[];
extern const size_t tls_sslv2_suites_count;

/* Ordered: a stronger class compares greater. */
enum tls_strength {
	TLS_STRENGTH_INSECURE,
	TLS_STRENGTH_WEAK,
	TLS_STRENGTH_ACCEPTABLE,
	TLS_STRENGTH_STRONG,
};

/* The suite with code point id, or NULL if the table has none (also for the
 * SCSVs and GREASE values). Binary search. */
const struct tls_suite *tls_suite_by_id(uint16_t id);
/* The suite whose IANA or OpenSSL name is name, compared without regard to
 * case; OpenSSL's older EDH- spellings find the DHE- suite. NULL if none or
 * name is NULL. */
const struct tls_suite *tls_suite_by_name(const char *name);
/* Writes the ids of every suite that may be offered in protocol version
 * (TLS_VERSION_SSL3..TLS_VERSION_TLS13), in table order, to out, at most max
 * of them (out may be NULL when max is 0). Returns how many suites qualify,
 * which may exceed max; 0 for any other version. */
size_t tls_suites_for_version(uint16_t version, uint16_t *out, size_t max);
/* The class of s under the rule above; s must not be NULL. */
enum tls_strength tls_suite_strength(const struct tls_suite *s);
/* "insecure", "weak", "acceptable", "strong"; NULL for other values. */
const char *tls_strength_name(enum tls_strength strength);

/* The SSLv2 cipher kind with 3-byte code id, or NULL. */
const struct tls_sslv2_suite *tls_sslv2_by_id(uint32_t id);
/* The SSLv2 cipher kind whose specification or OpenSSL name is name
 * (case-insensitive), or NULL. */
const struct tls_sslv2_suite *tls_sslv2_by_name(const char *name);

/* "SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3" for the wire
 * version v; NULL for anything else. */
const char *tls_version_name(uint16_t v);
/* The TLS_VER_* bit for wire version v (SSLv3..TLSv1.3), 0 for others. */
unsigned tls_version_bit(uint16_t v);
/* True for the RFC 8701 GREASE values (0x0A0A, 0x1A1A, ..., 0xFAFA). */
bool tls_suite_is_grease(uint16_t id);
/* "TLS_EMPTY_RENEGOTIATION_INFO_SCSV" or "TLS_FALLBACK_SCSV" for the two
 * signalling values, NULL for anything else. */
const char *tls_scsv_name(uint16_t id);

#endif
