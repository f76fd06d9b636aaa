/* groups.h: the TLS Supported Groups registry (the supported_groups and
 * key_share code points) as a small read-only table: names and key sizes for
 * the writers.
 *
 * Names are the IANA registry's descriptions ("secp256r1", "x25519",
 * "ffdhe2048", "X25519MLKEM768"), which is also how RFC 8446 and OpenSSL's
 * group lists spell them. The table holds every registered code point
 * (RFC 8422 curves 1-25, brainpool RFC 7027/8734, x25519/x448 RFC 8446, GOST
 * RFC 9189, curveSM2 RFC 8998, ffdhe RFC 7919, ML-KEM and the ECDHE/ML-KEM
 * hybrids of draft-ietf-tls-mlkem / draft-ietf-tls-ecdhe-mlkem, the two
 * obsolete Kyber drafts that browsers shipped, and the explicit-curve
 * markers); unknown code points (private use, GREASE) have no entry. */
#ifndef PP_TLS_GROUPS_H
#define PP_TLS_GROUPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tls_group_kind {
	TLS_GROUP_KIND_EC,     /* elliptic curve (ECDHE, or a curve of an ECDSA key) */
	TLS_GROUP_KIND_FF,     /* finite field Diffie-Hellman (RFC 7919) */
	TLS_GROUP_KIND_KEM,    /* a post-quantum KEM alone (ML-KEM) */
	TLS_GROUP_KIND_HYBRID, /* an ECDHE group combined with a post-quantum KEM */
	TLS_GROUP_KIND_OTHER,  /* the explicit-curve markers: no group of their own */
};

struct tls_named_group {
	uint16_t id;              /* IANA code point */
	const char *name;         /* IANA description: "x25519", "secp256r1", "X25519MLKEM768" */
	enum tls_group_kind kind; /* what kind of key exchange it is */
	uint16_t bits;            /* key size as OpenSSL reports a key of the group
				     (EVP_PKEY_get_bits) and sslscan and testssl print it: 253 for
				     x25519, 256 for secp256r1, 2048 for ffdhe2048; 0 for KEMs,
				     hybrids and markers, which have no single size */
	bool tls13_only;          /* defined for TLS 1.3 only (brainpool...tls13, GOST,
				     curveSM2, ML-KEM and the hybrids) */
};

/* The table, sorted by id, and its length. */
extern const struct tls_named_group tls_named_groups[];
extern const size_t tls_named_groups_count;

/* The group with code point id, or NULL (unregistered, private use, GREASE). */
const struct tls_named_group *tls_group_by_id(uint16_t id);
/* The group whose name is name, compared without regard to case; NULL if
 * none or name is NULL. */
const struct tls_named_group *tls_group_by_name(const char *name);
/* The name of code point id, or NULL when the table has none. */
const char *tls_group_name(uint16_t id);
/* "ec", "ff", "kem", "hybrid", "other"; NULL for values outside the enum. */
const char *tls_group_kind_name(enum tls_group_kind kind);

#endif
