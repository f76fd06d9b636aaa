/* target.h: what `scan` probes. Target specs (literals, CIDR, nmap octet
 * ranges, host names) become an ordered set of addresses that is indexed
 * lazily: host h of H is computed, never stored, so 10.0.0.0/8 costs a few
 * bytes. Excludes are applied by the index. Addresses named twice are probed
 * twice (as in nmap). Design: src/lib/target/target.c. */
#ifndef PORTPROBE_TARGET_H
#define PORTPROBE_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "portprobe/result.h"

/* The largest number of addresses one target set may hold (2^40). */
#define PP_TARGETS_MAX ((uint64_t)1 << 40)

struct pp_targets;

/* 0 or -ENOMEM. */
int pp_targets_new(struct pp_targets **ret);
void pp_targets_free(struct pp_targets *t);

/* Adds one target spec, in order:
 *   192.0.2.7  2001:db8::1  [2001:db8::1]      one address
 *   192.0.2.0/24  2001:db8::/120              CIDR (/0../32, /0../128)
 *   10.0.1-3.1-254  10.0.0,2,4.*               nmap octet ranges (IPv4 only;
 *                                              '*' is 0-255, "-5" is 0-5, "250-" is 250-255)
 *   example.com  example.com/24?               a host name: added as a
 *                                              placeholder to be resolved
 *                                              (CIDR on a name is rejected)
 * A spec of digits, dots, ',', '*' and '-' is always IPv4 ("1.2.3" is an
 * error, not a name); octets with a leading zero are refused; a scope id is
 * allowed on a single IPv6 address only.
 * Returns 0 for an address spec, 1 for a host name (its addresses are set
 * later with pp_targets_resolve), or -EINVAL with *why set ("prefix length
 * 33 is not in 0..32"), -E2BIG when the set would exceed PP_TARGETS_MAX
 * (counted before excludes; why "more than 2^40 addresses"), or -ENOMEM.
 * *why is static or points into t, valid until the next call on t. */
int pp_targets_add(struct pp_targets *t, const char *spec, const char **why);

/* Adds every whitespace-separated spec of a file (nmap -iL: '#' starts a
 * comment to the end of the line). On failure *line is the 1-based line of
 * the bad spec (0 for a read error, with -errno) and *why the reason;
 * bad_spec (if not NULL, size bad_len) receives the spec. Returns the number
 * of specs added, or a negative errno. */
long pp_targets_add_file(struct pp_targets *t, FILE *f, unsigned long *line, char *bad_spec,
			 size_t bad_len, const char **why);

/* Excludes a spec (address, CIDR or octet range; host names are -EINVAL with
 * why "exclude takes addresses, not host names"). Excludes apply to every
 * spec, before or after them, and to the addresses of host names. An IPv6
 * CIDR may be of any size; an octet range that splits into more than 65536
 * intervals is -E2BIG (use CIDR). */
int pp_targets_exclude(struct pp_targets *t, const char *spec, const char **why);
/* As pp_targets_add_file, for excludes. */
long pp_targets_exclude_file(struct pp_targets *t, FILE *f, unsigned long *line, char *bad_spec,
			     size_t bad_len, const char **why);

/* Host names waiting for addresses, in the order they were added. */
size_t pp_targets_name_count(const struct pp_targets *t);
const char *pp_targets_name(const struct pp_targets *t, size_t i);
/* Sets the addresses of name i (n may be 0: the name then contributes no
 * address). Every address given becomes a host, in the order given (pass one
 * for nmap's behaviour). Ports in addrs are ignored, IPv6 scope ids kept.
 * 0, -EINVAL (i out of range, already set, sealed, or a family other than
 * AF_INET/AF_INET6), -E2BIG (PP_TARGETS_MAX) or -ENOMEM. */
int pp_targets_resolve(struct pp_targets *t, size_t i, const struct pp_addr *addrs, size_t n);

/* Freezes the set: every name must be resolved. Applies excludes and
 * computes the count. Adding after sealing is -EINVAL; sealing twice is 0.
 * 0, -EINVAL (a name not resolved), -E2BIG (the excludes cut the set into
 * more than 2^25 pieces), -ENOMEM; on failure the set stays unsealed. */
int pp_targets_seal(struct pp_targets *t);
/* Number of hosts H after sealing. Exact: excluded addresses are not counted. */
uint64_t pp_targets_count(const struct pp_targets *t);
/* Host h (0 <= h < H) in spec order (within a spec, ascending address;
 * a name's addresses in the order resolved), port 0. *name (name may be
 * NULL) is the host name it came from, owned by t, or NULL for an address
 * spec. 0 or -ERANGE (also before sealing). Thread-safe after sealing;
 * O(log pieces), where excludes add at most one piece each. */
int pp_targets_get(const struct pp_targets *t, uint64_t h, struct pp_addr *addr, const char **name);
/* True when the set holds both IPv4 and IPv6 addresses (after sealing: hosts
 * left after excludes; before: specs and resolved addresses so far). */
bool pp_targets_mixed(const struct pp_targets *t);

#endif
