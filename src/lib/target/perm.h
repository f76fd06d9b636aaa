/* perm.h: a keyed bijection of [0, n), the order a scan visits its index
 * space in (masscan's and ZMap's idea: encrypt the index, keep no list).
 * A balanced Feistel network over the smallest even bit width that holds n,
 * with cycle walking back into range; 0 rounds for the identity (-r). */
#ifndef PP_TARGET_PERM_H
#define PP_TARGET_PERM_H

#include <stdbool.h>
#include <stdint.h>

struct perm {
	uint64_t n;      /* domain size */
	unsigned half;   /* bits per Feistel half */
	uint64_t mask;   /* (1 << half) - 1 */
	uint64_t key[4]; /* round keys */
	bool identity;
};

/* Sets up a permutation of [0, n), n <= 2^62, keyed by seed; identity when
 * sequential. */
void perm_init(struct perm *p, uint64_t n, uint64_t seed, bool sequential);
/* The image of i (< n). */
uint64_t perm_apply(const struct perm *p, uint64_t i);
/* 64-bit mixing (splitmix64's finaliser), exposed for keyed hashes. */
uint64_t perm_mix64(uint64_t x);

#endif
