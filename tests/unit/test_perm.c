/* test_perm.c: the scan order. The keyed permutation is a bijection for any
 * domain size, the same seed gives the same order, -r is the identity, and
 * shard index counts add up to the whole scan. */
#include <stdlib.h>
#include <string.h>

#include "portprobe/scan.h"
#include "target/perm.h"
#include "test.h"

/* 1 when perm is a bijection of [0, n) (checked with a bitmap). */
static int is_bijection(const struct perm *p, uint64_t n)
{
	unsigned char *seen = calloc((size_t)n / 8 + 1, 1);
	int ok = 1;

	if (!seen)
		return 0;
	for (uint64_t i = 0; i < n && ok; i++) {
		uint64_t v = perm_apply(p, i);

		if (v >= n || seen[v / 8] & (1u << (v % 8)))
			ok = 0;
		else
			seen[v / 8] |= (unsigned char)(1u << (v % 8));
	}
	free(seen);
	return ok;
}

TEST_IMPL(perm_is_a_bijection_for_any_size)
{
	static const uint64_t sizes[] = {1, 2, 3, 4, 5, 17, 1000, 65535, 65536, 100003, 1 << 20};
	struct perm p;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (uint64_t seed = 0; seed < 3; seed++) {
			perm_init(&p, sizes[i], seed * 0x1234567ull, false);
			ASSERT_EQ(is_bijection(&p, sizes[i]), 1);
		}
	return 0;
}

TEST_IMPL(perm_seed_repeats_and_sequential_is_identity)
{
	struct perm a, b, c;
	unsigned moved = 0;

	perm_init(&a, 65535, 42, false);
	perm_init(&b, 65535, 42, false);
	perm_init(&c, 65535, 43, false);
	for (uint64_t i = 0; i < 65535; i++) {
		ASSERT_UEQ(perm_apply(&a, i), perm_apply(&b, i));
		moved += perm_apply(&a, i) != i;
	}
	ASSERT_TRUE(moved > 65000); /* a real shuffle, not a near-identity */
	ASSERT_TRUE(perm_apply(&a, 0) != perm_apply(&c, 0) ||
		    perm_apply(&a, 1) != perm_apply(&c, 1));
	perm_init(&a, 65535, 42, true);
	for (uint64_t i = 0; i < 65535; i += 97)
		ASSERT_UEQ(perm_apply(&a, i), i);
	return 0;
}

TEST_IMPL(scan_shard_counts_cover_the_index_once)
{
	ASSERT_UEQ(pp_scan_index_count(3, 1000, 0, 0), 3000);
	ASSERT_UEQ(pp_scan_index_count(3, 1000, 1, 7), 429);
	ASSERT_UEQ(pp_scan_index_count(3, 1000, 7, 7), 428);
	for (unsigned n = 1; n < 40; n++) {
		uint64_t sum = 0;

		for (unsigned i = 1; i <= n; i++)
			sum += pp_scan_index_count(5, 7, i, n);
		ASSERT_UEQ(sum, 35);
	}
	ASSERT_UEQ(pp_scan_index_count(1, 2, 3, 3), 0);
	return 0;
}
