/* test_tls_suites.c: the cipher-suite registry. Exact rows for suites of every
 * kind, lookups by id and both names, the table's order and uniqueness, the
 * per-version lists, the strength rule, and the table against what the
 * installed `openssl ciphers` says about the suites it knows. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "test.h"
#include "tls/suites.h"

struct want {
	struct tls_suite s;
	enum tls_strength strength;
};

#define LEGACY TLS_VER_LEGACY
#define V12    TLS_VER_TLS12
#define V13    TLS_VER_TLS13

/* clang-format off */
static const struct want wanted[] = {
	/* id, IANA, OpenSSL, kx, au, enc, mac, prf, key, strength, block, versions,
	 * aead, short_tag, pfs, export, registered */
	{{0x0000, "TLS_NULL_WITH_NULL_NULL", NULL, "NULL", "anon", "NULL", "NULL", "default",
	  0, 0, 0, 0, false, false, false, false, true}, TLS_STRENGTH_INSECURE},
	{{0x0001, "TLS_RSA_WITH_NULL_MD5", "NULL-MD5", "RSA", "RSA", "NULL", "MD5", "default",
	  0, 0, 0, LEGACY, false, false, false, false, true}, TLS_STRENGTH_INSECURE},
	{{0x0003, "TLS_RSA_EXPORT_WITH_RC4_40_MD5", "EXP-RC4-MD5", "RSA", "RSA", "RC4_40", "MD5",
	  "default", 40, 40, 0, LEGACY, false, false, false, true, true}, TLS_STRENGTH_INSECURE},
	{{0x0005, "TLS_RSA_WITH_RC4_128_SHA", "RC4-SHA", "RSA", "RSA", "RC4_128", "SHA", "default",
	  128, 128, 0, LEGACY, false, false, false, false, true}, TLS_STRENGTH_INSECURE},
	{{0x0007, "TLS_RSA_WITH_IDEA_CBC_SHA", "IDEA-CBC-SHA", "RSA", "RSA", "IDEA_CBC", "SHA",
	  "default", 128, 128, 64, LEGACY, false, false, false, false, true}, TLS_STRENGTH_WEAK},
	{{0x0009, "TLS_RSA_WITH_DES_CBC_SHA", "DES-CBC-SHA", "RSA", "RSA", "DES_CBC", "SHA",
	  "default", 56, 56, 64, LEGACY, false, false, false, false, true}, TLS_STRENGTH_INSECURE},
	{{0x000A, "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "DES-CBC3-SHA", "RSA", "RSA", "3DES_EDE_CBC",
	  "SHA", "default", 168, 112, 64, LEGACY, false, false, false, false, true},
	 TLS_STRENGTH_WEAK},
	{{0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA", "DHE-RSA-DES-CBC3-SHA", "DHE", "RSA",
	  "3DES_EDE_CBC", "SHA", "default", 168, 112, 64, LEGACY, false, false, true, false, true},
	 TLS_STRENGTH_WEAK},
	{{0x001F, "TLS_KRB5_WITH_3DES_EDE_CBC_SHA", "KRB5-DES-CBC3-SHA", "KRB5", "KRB5",
	  "3DES_EDE_CBC", "SHA", "default", 168, 112, 64, LEGACY, false, false, false, false, true},
	 TLS_STRENGTH_WEAK},
	{{0x0034, "TLS_DH_anon_WITH_AES_128_CBC_SHA", "ADH-AES128-SHA", "DH", "anon", "AES_128_CBC",
	  "SHA", "default", 128, 128, 128, LEGACY, false, false, false, false, true},
	 TLS_STRENGTH_INSECURE},
	{{0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA", "RSA", "RSA", "AES_256_CBC", "SHA",
	  "default", 256, 256, 128, LEGACY, false, false, false, false, true}, TLS_STRENGTH_WEAK},
	{{0x008C, "TLS_PSK_WITH_AES_128_CBC_SHA", "PSK-AES128-CBC-SHA", "PSK", "PSK", "AES_128_CBC",
	  "SHA", "default", 128, 128, 128, LEGACY, false, false, false, false, true},
	 TLS_STRENGTH_WEAK},
	{{0x009A, "TLS_DHE_RSA_WITH_SEED_CBC_SHA", "DHE-RSA-SEED-SHA", "DHE", "RSA", "SEED_CBC",
	  "SHA", "default", 128, 128, 128, LEGACY, false, false, true, false, true},
	 TLS_STRENGTH_ACCEPTABLE},
	{{0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256", "RSA", "RSA",
	  "AES_128_GCM", "AEAD", "SHA256", 128, 128, 128, V12, true, false, false, false, true},
	 TLS_STRENGTH_ACCEPTABLE},
	{{0x00A8, "TLS_PSK_WITH_AES_128_GCM_SHA256", "PSK-AES128-GCM-SHA256", "PSK", "PSK",
	  "AES_128_GCM", "AEAD", "SHA256", 128, 128, 128, V12, true, false, false, false, true},
	 TLS_STRENGTH_ACCEPTABLE},
	{{0x00B2, "TLS_DHE_PSK_WITH_AES_128_CBC_SHA256", "DHE-PSK-AES128-CBC-SHA256", "DHE_PSK",
	  "PSK", "AES_128_CBC", "SHA256", "SHA256", 128, 128, 128, LEGACY, false, false, true,
	  false, true}, TLS_STRENGTH_ACCEPTABLE},
	{{0x00C6, "TLS_SM4_GCM_SM3", NULL, "any", "any", "SM4_GCM", "AEAD", "SM3", 128, 128, 128,
	  V13, true, false, true, false, true}, TLS_STRENGTH_STRONG},
	{{0x1301, "TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256", "any", "any", "AES_128_GCM",
	  "AEAD", "SHA256", 128, 128, 128, V13, true, false, true, false, true},
	 TLS_STRENGTH_STRONG},
	{{0x1305, "TLS_AES_128_CCM_8_SHA256", "TLS_AES_128_CCM_8_SHA256", "any", "any",
	  "AES_128_CCM_8", "AEAD", "SHA256", 128, 128, 128, V13, true, true, true, false, true},
	 TLS_STRENGTH_ACCEPTABLE},
	{{0x1306, "TLS_AEGIS_256_SHA512", NULL, "any", "any", "AEGIS_256", "AEAD", "SHA512", 256,
	  256, 0, V13, true, false, true, false, true}, TLS_STRENGTH_STRONG},
	{{0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA", "ECDHE", "RSA",
	  "AES_128_CBC", "SHA", "default", 128, 128, 128, LEGACY, false, false, true, false, true},
	 TLS_STRENGTH_ACCEPTABLE},
	{{0xC028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", "ECDHE-RSA-AES256-SHA384", "ECDHE",
	  "RSA", "AES_256_CBC", "SHA384", "SHA384", 256, 256, 128, V12, false, false, true, false,
	  true}, TLS_STRENGTH_ACCEPTABLE},
	{{0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE",
	  "RSA", "AES_128_GCM", "AEAD", "SHA256", 128, 128, 128, V12, true, false, true, false,
	  true}, TLS_STRENGTH_STRONG},
	{{0xC032, "TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384", "ECDH-RSA-AES256-GCM-SHA384", "ECDH",
	  "RSA", "AES_256_GCM", "AEAD", "SHA384", 256, 256, 128, V12, true, false, false, false,
	  true}, TLS_STRENGTH_ACCEPTABLE},
	{{0xC0AA, "TLS_PSK_DHE_WITH_AES_128_CCM_8", "DHE-PSK-AES128-CCM8", "DHE_PSK", "PSK",
	  "AES_128_CCM_8", "AEAD", "SHA256", 128, 128, 128, V12, true, true, true, false, true},
	 TLS_STRENGTH_ACCEPTABLE},
	{{0xC0B4, "TLS_SHA256_SHA256", NULL, "any", "any", "NULL", "SHA256", "SHA256", 0, 0, 0,
	  V13, false, false, true, false, true}, TLS_STRENGTH_INSECURE},
	{{0xC102, "TLS_GOSTR341112_256_WITH_28147_CNT_IMIT", "IANA-GOST2012-GOST8912-GOST8912",
	  "GOST", "GOST", "28147_CNT", "IMIT", "GOSTR341112_256", 256, 256, 64, V12, false, false,
	  false, false, true}, TLS_STRENGTH_WEAK},
	{{0xC103, "TLS_GOSTR341112_256_WITH_KUZNYECHIK_MGM_L", NULL, "any", "any",
	  "KUZNYECHIK_MGM_L", "AEAD", "GOSTR341112_256", 256, 256, 128, V13, true, false, true,
	  false, true}, TLS_STRENGTH_STRONG},
	{{0xCCAD, "TLS_DHE_PSK_WITH_CHACHA20_POLY1305_SHA256", "DHE-PSK-CHACHA20-POLY1305",
	  "DHE_PSK", "PSK", "CHACHA20_POLY1305", "AEAD", "SHA256", 256, 256, 0, V12, true, false,
	  true, false, true}, TLS_STRENGTH_STRONG},
	{{0xFF85, "LEGACY-GOST2012-GOST8912-GOST8912", "LEGACY-GOST2012-GOST8912-GOST8912", "GOST",
	  "GOST", "28147_CNT", "IMIT", "GOSTR341112_256", 256, 256, 64,
	  TLS_VER_TLS10 | TLS_VER_TLS11 | TLS_VER_TLS12, false, false, false, false, false},
	 TLS_STRENGTH_WEAK},
};
/* clang-format on */

static int same_suite(const struct tls_suite *got, const struct want *w)
{
	const struct tls_suite *e = &w->s;

	ASSERT_TRUE(got != NULL);
	ASSERT_UEQ(got->id, e->id);
	ASSERT_STR_EQ(got->iana, e->iana);
	if (e->openssl)
		ASSERT_STR_EQ(got->openssl, e->openssl);
	else
		ASSERT_TRUE(got->openssl == NULL);
	ASSERT_STR_EQ(got->kx, e->kx);
	ASSERT_STR_EQ(got->au, e->au);
	ASSERT_STR_EQ(got->enc, e->enc);
	ASSERT_STR_EQ(got->mac, e->mac);
	ASSERT_STR_EQ(got->prf, e->prf);
	ASSERT_EQ(got->key_bits, e->key_bits);
	ASSERT_EQ(got->strength_bits, e->strength_bits);
	ASSERT_EQ(got->block_bits, e->block_bits);
	ASSERT_EQ(got->versions, e->versions);
	ASSERT_EQ(got->aead, e->aead);
	ASSERT_EQ(got->short_tag, e->short_tag);
	ASSERT_EQ(got->pfs, e->pfs);
	ASSERT_EQ(got->export, e->export);
	ASSERT_EQ(got->registered, e->registered);
	ASSERT_STR_EQ(tls_strength_name(tls_suite_strength(got)), tls_strength_name(w->strength));
	return 0;
}

TEST_IMPL(tls_suites_rows_of_every_kind_are_exact)
{
	for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
		if (same_suite(tls_suite_by_id(wanted[i].s.id), &wanted[i])) {
			fprintf(stderr, "  in suite 0x%04X\n", wanted[i].s.id);
			return 1;
		}
	}
	return 0;
}

TEST_IMPL(tls_suites_lookup_by_id_iana_and_openssl_name)
{
	const struct tls_suite *s = tls_suite_by_id(0xC02F);

	ASSERT_TRUE(s != NULL);
	ASSERT_TRUE(tls_suite_by_name("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256") == s);
	ASSERT_TRUE(tls_suite_by_name("ECDHE-RSA-AES128-GCM-SHA256") == s);
	ASSERT_TRUE(tls_suite_by_name("ecdhe-rsa-aes128-gcm-sha256") == s);
	/* mixed-case IANA names match as written and in any case */
	ASSERT_UEQ(tls_suite_by_name("TLS_DH_anon_WITH_AES_128_CBC_SHA")->id, 0x0034);
	ASSERT_UEQ(tls_suite_by_name("TLS_DH_ANON_WITH_AES_128_CBC_SHA")->id, 0x0034);
	/* historical OpenSSL names, and the EDH- spelling of DHE- */
	ASSERT_UEQ(tls_suite_by_name("DES-CBC3-SHA")->id, 0x000A);
	ASSERT_UEQ(tls_suite_by_name("RC4-MD5")->id, 0x0004);
	ASSERT_UEQ(tls_suite_by_name("EXP-RC4-MD5")->id, 0x0003);
	ASSERT_UEQ(tls_suite_by_name("SEED-SHA")->id, 0x0096);
	ASSERT_UEQ(tls_suite_by_name("ECDHE-RSA-DES-CBC3-SHA")->id, 0xC012);
	ASSERT_UEQ(tls_suite_by_name("DHE-RSA-DES-CBC3-SHA")->id, 0x0016);
	ASSERT_UEQ(tls_suite_by_name("EDH-RSA-DES-CBC3-SHA")->id, 0x0016);
	ASSERT_UEQ(tls_suite_by_name("EXP-EDH-DSS-DES-CBC-SHA")->id, 0x0011);
	/* TLS 1.3 names are the same in both columns */
	ASSERT_UEQ(tls_suite_by_name("TLS_CHACHA20_POLY1305_SHA256")->id, 0x1303);
	/* misses */
	ASSERT_TRUE(tls_suite_by_id(0x00FF) == NULL); /* SCSV */
	ASSERT_TRUE(tls_suite_by_id(0x5600) == NULL); /* SCSV */
	ASSERT_TRUE(tls_suite_by_id(0x0A0A) == NULL); /* GREASE */
	ASSERT_TRUE(tls_suite_by_id(0x0047) == NULL); /* reserved */
	ASSERT_TRUE(tls_suite_by_id(0xFFFF) == NULL);
	ASSERT_TRUE(tls_suite_by_name("TLS_EMPTY_RENEGOTIATION_INFO_SCSV") == NULL);
	ASSERT_TRUE(tls_suite_by_name("EDH-") == NULL);
	ASSERT_TRUE(tls_suite_by_name("XEDH-RSA-DES-CBC3-SHA") == NULL);
	ASSERT_TRUE(tls_suite_by_name("") == NULL);
	ASSERT_TRUE(tls_suite_by_name(NULL) == NULL);
	/* first, last, and the neighbours of gaps */
	ASSERT_UEQ(tls_suite_by_id(0x0000)->id, 0x0000);
	ASSERT_UEQ(tls_suite_by_id(0xFF87)->id, 0xFF87);
	ASSERT_UEQ(tls_suite_by_id(0xD005)->id, 0xD005);
	ASSERT_TRUE(tls_suite_by_id(0xD004) == NULL);
	return 0;
}

TEST_IMPL(tls_suites_table_is_sorted_without_duplicate_ids_or_names)
{
	ASSERT_EQ(tls_suites_count, 352); /* 350 IANA + 2 private-use */
	for (size_t i = 0; i < tls_suites_count; i++) {
		const struct tls_suite *a = &tls_suites[i];

		if (i > 0)
			ASSERT_TRUE(tls_suites[i - 1].id < a->id);
		ASSERT_TRUE(a->iana && a->kx && a->au && a->enc && a->mac && a->prf);
		ASSERT_TRUE(tls_suite_by_id(a->id) == a);
		ASSERT_TRUE(tls_suite_by_name(a->iana) == a);
		if (a->openssl)
			ASSERT_TRUE(tls_suite_by_name(a->openssl) == a);
		ASSERT_TRUE(!tls_suite_is_grease(a->id) && !tls_scsv_name(a->id));
		for (size_t j = i + 1; j < tls_suites_count; j++) {
			const struct tls_suite *b = &tls_suites[j];

			ASSERT_TRUE(strcasecmp(a->iana, b->iana) != 0);
			if (b->openssl)
				ASSERT_TRUE(strcasecmp(a->iana, b->openssl) != 0);
			if (a->openssl) {
				ASSERT_TRUE(strcasecmp(a->openssl, b->iana) != 0);
				if (b->openssl)
					ASSERT_TRUE(strcasecmp(a->openssl, b->openssl) != 0);
			}
		}
	}
	return 0;
}

TEST_IMPL(tls_suites_tls13_is_openssls_five_plus_the_registry_rest)
{
	static const uint16_t expect[] = {0x00C6, 0x00C7, 0x1301, 0x1302, 0x1303,
					  0x1304, 0x1305, 0x1306, 0x1307, 0xC0B4,
					  0xC0B5, 0xC103, 0xC104, 0xC105, 0xC106};
	uint16_t ids[32];
	size_t n = tls_suites_for_version(TLS_VERSION_TLS13, ids, 32), known = 0;

	ASSERT_EQ(n, sizeof(expect) / sizeof(expect[0]));
	for (size_t i = 0; i < n; i++) {
		const struct tls_suite *s = tls_suite_by_id(ids[i]);

		ASSERT_UEQ(ids[i], expect[i]);
		ASSERT_EQ(s->versions, TLS_VER_TLS13);
		ASSERT_STR_EQ(s->kx, "any");
		ASSERT_STR_EQ(s->au, "any");
		ASSERT_TRUE(s->pfs);
		if (s->openssl) {
			known++;
			ASSERT_TRUE(s->id >= 0x1301 && s->id <= 0x1305);
		}
	}
	ASSERT_EQ(known, 5);
	return 0;
}

TEST_IMPL(tls_suites_for_version_lists_in_table_order_and_counts_past_max)
{
	uint16_t ids[400], few[3];
	size_t n;

	ASSERT_EQ(tls_suites_for_version(TLS_VERSION_SSL3, NULL, 0), 157);
	ASSERT_EQ(tls_suites_for_version(TLS_VERSION_TLS10, NULL, 0), 159);
	ASSERT_EQ(tls_suites_for_version(TLS_VERSION_TLS11, NULL, 0), 159);
	ASSERT_EQ(tls_suites_for_version(TLS_VERSION_TLS12, NULL, 0), 336);
	ASSERT_EQ(tls_suites_for_version(TLS_VERSION_SSL2, ids, 400), 0);
	ASSERT_EQ(tls_suites_for_version(0x0305, ids, 400), 0);
	ASSERT_EQ(tls_suites_for_version(0x0000, ids, 400), 0);

	/* SSLv3 through TLS 1.1 never get AEAD suites, nor SHA-2 MAC suites
	 * unless the key exchange is a PSK one (RFC 5487, 5489) */
	n = tls_suites_for_version(TLS_VERSION_TLS11, ids, 400);
	for (size_t i = 0; i < n; i++) {
		const struct tls_suite *s = tls_suite_by_id(ids[i]);
		bool sha2 = !strcmp(s->mac, "SHA256") || !strcmp(s->mac, "SHA384");

		ASSERT_TRUE(!s->aead && (!sha2 || strstr(s->kx, "PSK")));
		if (i > 0)
			ASSERT_TRUE(ids[i - 1] < ids[i]);
	}
	/* TLS 1.2 has the old and the AEAD suites, not the TLS 1.3 ones, and never
	 * TLS_NULL_WITH_NULL_NULL */
	n = tls_suites_for_version(TLS_VERSION_TLS12, ids, 400);
	ASSERT_EQ(n, 336);
	ASSERT_UEQ(ids[0], 0x0001);
	ASSERT_UEQ(ids[n - 1], 0xFF87);
	for (size_t i = 0; i < n; i++)
		ASSERT_TRUE(ids[i] != 0x1301 && ids[i] != 0x0000);

	/* more qualify than fit: the first max are written, the total returned */
	memset(few, 0xEE, sizeof(few));
	ASSERT_EQ(tls_suites_for_version(TLS_VERSION_SSL3, few, 2), 157);
	ASSERT_UEQ(few[0], 0x0001);
	ASSERT_UEQ(few[1], 0x0002);
	ASSERT_UEQ(few[2], 0xEEEE);
	return 0;
}

TEST_IMPL(tls_suites_strength_classes_and_names)
{
	size_t count[4] = {0};

	ASSERT_STR_EQ(tls_strength_name(TLS_STRENGTH_INSECURE), "insecure");
	ASSERT_STR_EQ(tls_strength_name(TLS_STRENGTH_WEAK), "weak");
	ASSERT_STR_EQ(tls_strength_name(TLS_STRENGTH_ACCEPTABLE), "acceptable");
	ASSERT_STR_EQ(tls_strength_name(TLS_STRENGTH_STRONG), "strong");
	ASSERT_TRUE(tls_strength_name((enum tls_strength)7) == NULL);
	ASSERT_TRUE(TLS_STRENGTH_INSECURE < TLS_STRENGTH_WEAK &&
		    TLS_STRENGTH_WEAK < TLS_STRENGTH_ACCEPTABLE &&
		    TLS_STRENGTH_ACCEPTABLE < TLS_STRENGTH_STRONG);
	for (size_t i = 0; i < tls_suites_count; i++) {
		const struct tls_suite *s = &tls_suites[i];
		enum tls_strength st = tls_suite_strength(s);

		count[st]++;
		/* the rule's invariants, whatever the suite */
		if (s->export || !strcmp(s->au, "anon") || !strcmp(s->enc, "NULL"))
			ASSERT_EQ(st, TLS_STRENGTH_INSECURE);
		if (st == TLS_STRENGTH_STRONG)
			ASSERT_TRUE(s->aead && s->pfs && !s->short_tag && s->strength_bits >= 128);
		if (s->versions == TLS_VER_TLS13 && strcmp(s->enc, "NULL") &&
		    strncmp(s->enc, "MAGMA", 5) && !s->short_tag)
			ASSERT_EQ(st, TLS_STRENGTH_STRONG);
	}
	ASSERT_EQ(count[TLS_STRENGTH_INSECURE] + count[TLS_STRENGTH_WEAK] +
		      count[TLS_STRENGTH_ACCEPTABLE] + count[TLS_STRENGTH_STRONG],
		  tls_suites_count);
	return 0;
}

TEST_IMPL(tls_suites_sslv2_kinds_and_version_names)
{
	const struct tls_sslv2_suite *s = tls_sslv2_by_id(0x0700C0);

	ASSERT_EQ(tls_sslv2_suites_count, 8);
	ASSERT_TRUE(s != NULL);
	ASSERT_STR_EQ(s->name, "SSL_CK_DES_192_EDE3_CBC_WITH_MD5");
	ASSERT_STR_EQ(s->openssl, "DES-CBC3-MD5");
	ASSERT_EQ(s->key_bits, 168);
	ASSERT_EQ(s->strength_bits, 112);
	ASSERT_TRUE(!s->export);
	s = tls_sslv2_by_id(0x020080);
	ASSERT_STR_EQ(s->name, "SSL_CK_RC4_128_EXPORT40_WITH_MD5");
	ASSERT_EQ(s->key_bits, 40);
	ASSERT_TRUE(s->export);
	ASSERT_UEQ(tls_sslv2_by_name("RC4-64-MD5")->id, 0x080080);
	ASSERT_UEQ(tls_sslv2_by_name("ssl_ck_des_64_cbc_with_md5")->id, 0x060040);
	ASSERT_EQ(tls_sslv2_by_id(0x060040)->key_bits, 56);
	ASSERT_TRUE(tls_sslv2_by_id(0x0A0A0A) == NULL);
	ASSERT_TRUE(tls_sslv2_by_name("TLS_AES_128_GCM_SHA256") == NULL);
	ASSERT_TRUE(tls_sslv2_by_name(NULL) == NULL);
	for (size_t i = 1; i < tls_sslv2_suites_count; i++)
		ASSERT_TRUE(tls_sslv2_suites[i - 1].id < tls_sslv2_suites[i].id);

	ASSERT_STR_EQ(tls_version_name(0x0002), "SSLv2");
	ASSERT_STR_EQ(tls_version_name(0x0300), "SSLv3");
	ASSERT_STR_EQ(tls_version_name(0x0301), "TLSv1.0");
	ASSERT_STR_EQ(tls_version_name(0x0302), "TLSv1.1");
	ASSERT_STR_EQ(tls_version_name(0x0303), "TLSv1.2");
	ASSERT_STR_EQ(tls_version_name(0x0304), "TLSv1.3");
	ASSERT_TRUE(tls_version_name(0x0305) == NULL);
	ASSERT_TRUE(tls_version_name(0x7F1C) == NULL); /* a TLS 1.3 draft */
	ASSERT_UEQ(tls_version_bit(0x0303), TLS_VER_TLS12);
	ASSERT_UEQ(tls_version_bit(0x0002), 0);
	return 0;
}

TEST_IMPL(tls_suites_grease_and_scsv_are_told_apart)
{
	unsigned grease = 0;

	for (unsigned id = 0; id <= 0xFFFF; id++)
		grease += tls_suite_is_grease((uint16_t)id);
	ASSERT_EQ(grease, 16);
	ASSERT_TRUE(tls_suite_is_grease(0x0A0A) && tls_suite_is_grease(0xFAFA));
	ASSERT_TRUE(!tls_suite_is_grease(0x0A1A) && !tls_suite_is_grease(0x1301));
	ASSERT_STR_EQ(tls_scsv_name(0x00FF), "TLS_EMPTY_RENEGOTIATION_INFO_SCSV");
	ASSERT_STR_EQ(tls_scsv_name(0x5600), "TLS_FALLBACK_SCSV");
	ASSERT_TRUE(tls_scsv_name(0xC02F) == NULL);
	return 0;
}

static bool have_command(const char *name)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", name);
	return system(cmd) == 0;
}

/* Checks every line of an `openssl ciphers -V -stdname` listing against the
 * table: id, both names, AEAD, key bits, anonymity, forward secrecy and the
 * version rule. Adds the lines read to *lines. */
static int check_openssl_listing(const char *cmd, size_t *lines)
{
	char line[512], std[128], name[128], ver[16], kx[32], au[32], enc[64], mac[32];
	unsigned hi, lo;
	FILE *p = popen(cmd, "r");

	ASSERT_TRUE(p != NULL);
	while (fgets(line, sizeof(line), p)) {
		const struct tls_suite *s;
		const char *paren;
		bool anon, ephemeral;
		long bits = 0;

		if (sscanf(line, " %x,%x - %127s - %127s %15s Kx=%31s Au=%31s Enc=%63s Mac=%31s",
			   &hi, &lo, std, name, ver, kx, au, enc, mac) != 9) {
			pclose(p);
			TEST_FAIL_("unexpected openssl line: %s", line);
		}
		s = tls_suite_by_id((uint16_t)(hi << 8 | lo));
		if (!s) {
			pclose(p);
			TEST_FAIL_("0x%02X%02X %s is not in the table", hi, lo, std);
		}
		paren = strchr(enc, '(');
		if (paren)
			bits = strtol(paren + 1, NULL, 10);
		anon = !strcmp(au, "None");
		ephemeral = !strcmp(kx, "DH") || !strcmp(kx, "ECDH") || !strcmp(kx, "DHEPSK") ||
			    !strcmp(kx, "ECDHEPSK") || !strcmp(kx, "SRP") || !strcmp(kx, "any");
		if (strcmp(s->iana, std) || !s->openssl || strcmp(s->openssl, name) ||
		    s->aead != !strcmp(mac, "AEAD") || s->key_bits != bits ||
		    !strcmp(s->au, "anon") != anon || s->pfs != (ephemeral && !anon) ||
		    s->versions != (!strcmp(ver, "TLSv1.3")   ? TLS_VER_TLS13
				    : !strcmp(ver, "TLSv1.2") ? TLS_VER_TLS12
							      : TLS_VER_LEGACY)) {
			pclose(p);
			TEST_FAIL_("table row 0x%04X (%s, %s, aead %d, %u bits, au %s, pfs %d, "
				   "versions 0x%x) disagrees with openssl: %s",
				   s->id, s->iana, s->openssl ? s->openssl : "(null)", s->aead,
				   s->key_bits, s->au, s->pfs, s->versions, line);
		}
		(*lines)++;
	}
	ASSERT_EQ(pclose(p), 0);
	return 0;
}

TEST_IMPL(tls_suites_agree_with_openssl_ciphers)
{
	size_t all = 0, tls13 = 0;

	if (!have_command("openssl")) {
		printf("note: openssl missing, comparison with `openssl ciphers` skipped\n");
		return 0;
	}
	ASSERT_EQ(check_openssl_listing("openssl ciphers -V -stdname "
					"'ALL:COMPLEMENTOFALL:@SECLEVEL=0' 2>&1",
					&all),
		  0);
	ASSERT_EQ(check_openssl_listing(
		      "openssl ciphers -V -stdname -ciphersuites "
		      "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:"
		      "TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256 2>&1",
		      &tls13),
		  0);
	/* a listing that parsed to nothing would prove nothing */
	ASSERT_TRUE(all >= 100);
	ASSERT_TRUE(tls13 >= 5);
	printf("note: %zu + %zu openssl lines agree with the table\n", all, tls13);
	return 0;
}
