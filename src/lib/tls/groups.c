/* groups.c: the TLS Supported Groups registry as data.
 *
 * Sorted by code point so lookups are a binary search. Sizes are OpenSSL's
 * (the order's bit length for EC curves, 253 and 448 for x25519 and x448, the
 * prime's for ffdhe); the unit test checks every EC entry against
 * EC_GROUP_order_bits() of the linked OpenSSL, so a typo cannot hide here. */
#include "tls/groups.h"

#include <strings.h>

#define EC     TLS_GROUP_KIND_EC
#define FF     TLS_GROUP_KIND_FF
#define KEM    TLS_GROUP_KIND_KEM
#define HYBRID TLS_GROUP_KIND_HYBRID
#define OTHER  TLS_GROUP_KIND_OTHER

/* clang-format off */
const struct tls_named_group tls_named_groups[] = {
	{0x0001, "sect163k1",                       EC,     163,  false},
	{0x0002, "sect163r1",                       EC,     162,  false},
	{0x0003, "sect163r2",                       EC,     163,  false},
	{0x0004, "sect193r1",                       EC,     193,  false},
	{0x0005, "sect193r2",                       EC,     193,  false},
	{0x0006, "sect233k1",                       EC,     232,  false},
	{0x0007, "sect233r1",                       EC,     233,  false},
	{0x0008, "sect239k1",                       EC,     238,  false},
	{0x0009, "sect283k1",                       EC,     281,  false},
	{0x000A, "sect283r1",                       EC,     282,  false},
	{0x000B, "sect409k1",                       EC,     407,  false},
	{0x000C, "sect409r1",                       EC,     409,  false},
	{0x000D, "sect571k1",                       EC,     570,  false},
	{0x000E, "sect571r1",                       EC,     570,  false},
	{0x000F, "secp160k1",                       EC,     161,  false},
	{0x0010, "secp160r1",                       EC,     161,  false},
	{0x0011, "secp160r2",                       EC,     161,  false},
	{0x0012, "secp192k1",                       EC,     192,  false},
	{0x0013, "secp192r1",                       EC,     192,  false},
	{0x0014, "secp224k1",                       EC,     225,  false},
	{0x0015, "secp224r1",                       EC,     224,  false},
	{0x0016, "secp256k1",                       EC,     256,  false},
	{0x0017, "secp256r1",                       EC,     256,  false},
	{0x0018, "secp384r1",                       EC,     384,  false},
	{0x0019, "secp521r1",                       EC,     521,  false},
	{0x001A, "brainpoolP256r1",                 EC,     256,  false},
	{0x001B, "brainpoolP384r1",                 EC,     384,  false},
	{0x001C, "brainpoolP512r1",                 EC,     512,  false},
	{0x001D, "x25519",                          EC,     253,  false},
	{0x001E, "x448",                            EC,     448,  false},
	{0x001F, "brainpoolP256r1tls13",            EC,     256,  true},
	{0x0020, "brainpoolP384r1tls13",            EC,     384,  true},
	{0x0021, "brainpoolP512r1tls13",            EC,     512,  true},
	{0x0022, "GC256A",                          EC,     256,  true},
	{0x0023, "GC256B",                          EC,     256,  true},
	{0x0024, "GC256C",                          EC,     256,  true},
	{0x0025, "GC256D",                          EC,     256,  true},
	{0x0026, "GC512A",                          EC,     512,  true},
	{0x0027, "GC512B",                          EC,     512,  true},
	{0x0028, "GC512C",                          EC,     512,  true},
	{0x0029, "curveSM2",                        EC,     256,  true},
	{0x0100, "ffdhe2048",                       FF,     2048, false},
	{0x0101, "ffdhe3072",                       FF,     3072, false},
	{0x0102, "ffdhe4096",                       FF,     4096, false},
	{0x0103, "ffdhe6144",                       FF,     6144, false},
	{0x0104, "ffdhe8192",                       FF,     8192, false},
	{0x0200, "MLKEM512",                        KEM,    0,    true},
	{0x0201, "MLKEM768",                        KEM,    0,    true},
	{0x0202, "MLKEM1024",                       KEM,    0,    true},
	{0x11EB, "SecP256r1MLKEM768",               HYBRID, 0,    true},
	{0x11EC, "X25519MLKEM768",                  HYBRID, 0,    true},
	{0x11ED, "SecP384r1MLKEM1024",              HYBRID, 0,    true},
	{0x6399, "X25519Kyber768Draft00",           HYBRID, 0,    true},
	{0x639A, "SecP256r1Kyber768Draft00",        HYBRID, 0,    true},
	{0xFF01, "arbitrary_explicit_prime_curves", OTHER,  0,    false},
	{0xFF02, "arbitrary_explicit_char2_curves", OTHER,  0,    false},
};
/* clang-format on */
const size_t tls_named_groups_count = sizeof(tls_named_groups) / sizeof(tls_named_groups[0]);

const struct tls_named_group *tls_group_by_id(uint16_t id)
{
	size_t lo = 0, hi = tls_named_groups_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (tls_named_groups[mid].id == id)
			return &tls_named_groups[mid];
		if (tls_named_groups[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct tls_named_group *tls_group_by_name(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < tls_named_groups_count; i++)
		if (!strcasecmp(tls_named_groups[i].name, name))
			return &tls_named_groups[i];
	return NULL;
}

const char *tls_group_name(uint16_t id)
{
	const struct tls_named_group *g = tls_group_by_id(id);

	return g ? g->name : NULL;
}

const char *tls_group_kind_name(enum tls_group_kind kind)
{
	switch (kind) {
	case TLS_GROUP_KIND_EC:
		return "ec";
	case TLS_GROUP_KIND_FF:
		return "ff";
	case TLS_GROUP_KIND_KEM:
		return "kem";
	case TLS_GROUP_KIND_HYBRID:
		return "hybrid";
	case TLS_GROUP_KIND_OTHER:
		return "other";
	}
	return NULL;
}
