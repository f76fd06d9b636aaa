/* suites.c: lookups over the cipher-suite tables and the strength rule.
 *
 * The tables themselves are generated data (suites_table.c); this file is
 * the code that reads them. Lookup by id is a binary search over the sorted
 * table; lookup by name is a linear scan, since names come from people (the
 * command line) and the table has a few hundred rows. The strength rule is
 * documented in suites.h and docs/internals/tls.md.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tls/suites.h"

static int cmp_suite_id(const void *key, const void *elem)
{
	uint16_t id = *(const uint16_t *)key;
	const struct tls_suite *s = elem;

	return (id > s->id) - (id < s->id);
}

const struct tls_suite *tls_suite_by_id(uint16_t id)
{
	return bsearch(&id, tls_suites, tls_suites_count, sizeof(tls_suites[0]), cmp_suite_id);
}

static const struct tls_suite *suite_by_exact_name(const char *name)
{
	for (size_t i = 0; i < tls_suites_count; i++) {
		const struct tls_suite *s = &tls_suites[i];

		if (!strcasecmp(s->iana, name) || (s->openssl && !strcasecmp(s->openssl, name)))
			return s;
	}
	return NULL;
}

/* Room for any OpenSSL-style name worth rewriting; real ones are under 40
 * characters. */
#define ALIAS_NAME_MAX 64

const struct tls_suite *tls_suite_by_name(const char *name)
{
	const struct tls_suite *s;
	char alias[ALIAS_NAME_MAX];
	size_t len;

	if (!name)
		return NULL;
	s = suite_by_exact_name(name);
	if (s)
		return s;
	/* OpenSSL before 1.1.0 spelled DHE as EDH (EDH-RSA-DES-CBC3-SHA,
	 * EXP-EDH-DSS-DES-CBC-SHA); its headers still define both. */
	len = strlen(name);
	if (len >= sizeof(alias))
		return NULL;
	for (size_t i = 0; i + 4 <= len; i++) {
		if ((i == 0 || name[i - 1] == '-') && !strncasecmp(name + i, "EDH-", 4)) {
			memcpy(alias, name, len + 1);
			memcpy(alias + i, "DHE-", 4);
			return suite_by_exact_name(alias);
		}
	}
	return NULL;
}

unsigned tls_version_bit(uint16_t v)
{
	switch (v) {
	case TLS_VERSION_SSL3:
		return TLS_VER_SSL3;
	case TLS_VERSION_TLS10:
		return TLS_VER_TLS10;
	case TLS_VERSION_TLS11:
		return TLS_VER_TLS11;
	case TLS_VERSION_TLS12:
		return TLS_VER_TLS12;
	case TLS_VERSION_TLS13:
		return TLS_VER_TLS13;
	default:
		return 0;
	}
}

size_t tls_suites_for_version(uint16_t version, uint16_t *out, size_t max)
{
	unsigned bit = tls_version_bit(version);
	size_t n = 0;

	if (!bit)
		return 0;
	for (size_t i = 0; i < tls_suites_count; i++) {
		if (!(tls_suites[i].versions & bit))
			continue;
		if (n < max)
			out[n] = tls_suites[i].id;
		n++;
	}
	return n;
}

static bool starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

enum tls_strength tls_suite_strength(const struct tls_suite *s)
{
	if (!strcmp(s->enc, "NULL") || !strcmp(s->au, "anon") || s->export ||
	    s->strength_bits <= 56 || starts_with(s->enc, "RC2_") || starts_with(s->enc, "RC4_") ||
	    !strcmp(s->mac, "MD5"))
		return TLS_STRENGTH_INSECURE;
	if (s->block_bits == 64 || s->strength_bits < 128 || (!s->aead && !s->pfs))
		return TLS_STRENGTH_WEAK;
	if (!s->aead || !s->pfs || s->short_tag)
		return TLS_STRENGTH_ACCEPTABLE;
	return TLS_STRENGTH_STRONG;
}

const char *tls_strength_name(enum tls_strength strength)
{
	switch (strength) {
	case TLS_STRENGTH_INSECURE:
		return "insecure";
	case TLS_STRENGTH_WEAK:
		return "weak";
	case TLS_STRENGTH_ACCEPTABLE:
		return "acceptable";
	case TLS_STRENGTH_STRONG:
		return "strong";
	}
	return NULL;
}

const struct tls_sslv2_suite *tls_sslv2_by_id(uint32_t id)
{
	for (size_t i = 0; i < tls_sslv2_suites_count; i++)
		if (tls_sslv2_suites[i].id == id)
			return &tls_sslv2_suites[i];
	return NULL;
}

const struct tls_sslv2_suite *tls_sslv2_by_name(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < tls_sslv2_suites_count; i++) {
		const struct tls_sslv2_suite *s = &tls_sslv2_suites[i];

		if (!strcasecmp(s->name, name) || !strcasecmp(s->openssl, name))
			return s;
	}
	return NULL;
}

const char *tls_version_name(uint16_t v)
{
	switch (v) {
	case TLS_VERSION_SSL2:
		return "SSLv2";
	case TLS_VERSION_SSL3:
		return "SSLv3";
	case TLS_VERSION_TLS10:
		return "TLSv1.0";
	case TLS_VERSION_TLS11:
		return "TLSv1.1";
	case TLS_VERSION_TLS12:
		return "TLSv1.2";
	case TLS_VERSION_TLS13:
		return "TLSv1.3";
	default:
		return NULL;
	}
}

bool tls_suite_is_grease(uint16_t id)
{
	return (id & 0x0F0F) == 0x0A0A && (id >> 8) == (id & 0xFF);
}

const char *tls_scsv_name(uint16_t id)
{
	switch (id) {
	case TLS_SCSV_EMPTY_RENEGOTIATION_INFO:
		return "TLS_EMPTY_RENEGOTIATION_INFO_SCSV";
	case TLS_SCSV_FALLBACK:
		return "TLS_FALLBACK_SCSV";
	default:
		return NULL;
	}
}
