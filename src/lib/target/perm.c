/* perm.c: the Feistel permutation of perm.h.
 *
 * With 2h bits (2^2h >= n, so 2^2h < 4n), walking the cycle until the value
 * lands below n takes fewer than 4 steps on average, and the walk is a
 * bijection of [0, n) because the Feistel network is one of [0, 2^2h). */
#include "target/perm.h"

#define ROUNDS 4

uint64_t perm_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

void perm_init(struct perm *p, uint64_t n, uint64_t seed, bool sequential)
{
	unsigned bits = 0;

	p->n = n;
	p->identity = sequential || n < 2;
	while (bits < 64 && (n - 1) >> bits)
		bits++;
	if (bits < 2)
		bits = 2;
	p->half = (bits + 1) / 2;
	p->mask = (1ull << p->half) - 1;
	for (unsigned r = 0; r < ROUNDS; r++)
		p->key[r] = perm_mix64(seed + 0x9e3779b97f4a7c15ull * (r + 1));
}

static uint64_t feistel(const struct perm *p, uint64_t x)
{
	uint64_t l = x >> p->half, r = x & p->mask;

	for (unsigned i = 0; i < ROUNDS; i++) {
		uint64_t t = l ^ (perm_mix64(r ^ p->key[i]) & p->mask);

		l = r;
		r = t;
	}
	return (l << p->half) | r;
}

uint64_t perm_apply(const struct perm *p, uint64_t i)
{
	if (p->identity)
		return i;
	do
		i = feistel(p, i);
	while (i >= p->n);
	return i;
}
