/* target.c: target specs as an ordered set of addresses, indexed lazily.
 *
 * Each spec becomes one item, kept in spec order: a contiguous range (one
 * address, an IPv4 or IPv6 CIDR, or an octet range that happens to be
 * contiguous such as 10.0.0.*), an IPv4 octet-range product (four sets of
 * octet values, 10.0.1-3.1-254), or a host name waiting for its addresses.
 * Addresses are 128-bit numbers with a family (IPv4 in the low 32 bits), so
 * 10.0.0.0/8 is one item of a few dozen bytes, whatever its size.
 *
 * Sealing turns the items into pieces with prefix sums of their host counts;
 * pp_targets_get() finds host h's piece by binary search (O(log pieces)) and
 * computes the address, so nothing is ever stored per address.
 *
 * Excludes are kept as a sorted, merged list of intervals per family and
 * applied at seal time:
 *  - a contiguous range is split into the intervals the excludes leave
 *    (at most one more piece per exclude that falls inside it);
 *  - an octet product P stays one piece. For every exclude interval [x, y]
 *    that meets P, we store how many hosts of P were kept before x and how
 *    many elements of P are excluded up to y; both come from rank(v), the
 *    number of elements of P below v, which is O(1) on four 256-bit octet
 *    sets. Host h is then element h + (excluded before it) of P: one binary
 *    search over those intervals, one mixed-radix select. Exact, ascending,
 *    and the cost does not depend on the size of P;
 *  - the addresses of a host name are excluded too: an excluded address is
 *    never probed, however it was named.
 * An exclude that is itself an octet range is split into intervals (at most
 * 65536; beyond that use CIDR).
 *
 * Duplicates are not removed: an address named by two specs (or a spec and a
 * host name) is probed twice, as nmap does.
 *
 * Parsing: a spec of digits, dots, ',', '*' and '-' only is an IPv4 address
 * or octet range, never a host name (no top-level domain is all digits), so
 * "1.2.3" is an error rather than a lookup. Octets with a leading zero are
 * refused (010 is 8 to inet_aton() and 10 to nmap). Reasons that name a
 * value are formatted into t->why, valid until the next call on t.
 *
 * Caps: PP_TARGETS_MAX addresses (counted as added, before excludes), 2^24
 * specs, 2^24 exclude intervals, 2^25 pieces after sealing. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portprobe/parse.h"
#include "portprobe/target.h"

#define SPEC_MAX          4096         /* longest spec, in bytes */
#define ITEMS_MAX         (1u << 24)   /* specs plus resolved addresses */
#define EXCLUDES_MAX      (1u << 24)   /* exclude intervals, before merging */
#define EXCLUDE_SPLIT_MAX 65536        /* intervals one octet-range exclude may add */
#define PIECES_MAX        (1u << 25)   /* pieces plus octet skips after sealing */
#define OCTET_WORK_MAX    (1ull << 26) /* exclude/octet-range checks while sealing */
#define MSG_NOT_A_TARGET  "is not an address, CIDR, octet range or host name"
#define MSG_TOO_MANY      "more than 2^40 addresses"

/* An address as a number: IPv6 big-endian in hi:lo, IPv4 in the low 32 bits. */
struct u128 {
	uint64_t hi; /* first 8 bytes of an IPv6 address, 0 for IPv4 */
	uint64_t lo; /* last 8 bytes, or the IPv4 address */
};

/* The values one octet of an octet range may take. */
struct octet_set {
	uint64_t bits[4]; /* bit v set: value v is in the set */
	uint16_t n;       /* values in the set, 1..256 */
	uint8_t lo;       /* smallest value */
	uint8_t hi;       /* largest value */
	uint8_t run;      /* 1 when the set is lo..hi without gaps */
};

/* An exclude interval that meets an octet product (see the file comment). */
struct skip {
	uint64_t kept; /* hosts of the product kept below the interval */
	uint64_t skip; /* elements of the product excluded up to its end */
};

/* An IPv4 octet-range product S0 x S1 x S2 x S3, ascending. */
struct octets {
	struct octet_set o[4]; /* the four octets */
	uint64_t size;         /* elements of the product, before excludes */
	struct skip *skip;     /* sealed: exclude intervals meeting the product */
	size_t nskip;          /* entries in skip */
};

enum item_kind {
	ITEM_RANGE,  /* contiguous addresses from u.lo */
	ITEM_OCTETS, /* an octet product, u.oct */
	ITEM_NAME,   /* a host name (unsealed only) */
};

/* A spec before sealing, a piece after. */
struct item {
	uint64_t first; /* sealed: index of the piece's first host */
	uint64_t count; /* hosts (sealed: after excludes; 0 for a name) */
	union {
		struct u128 lo;     /* ITEM_RANGE: first address */
		struct octets *oct; /* ITEM_OCTETS, owned */
	} u;
	uint32_t scope_id; /* ITEM_RANGE: IPv6 scope of a single address */
	uint32_t name;     /* 1 + index of the host name it came from, 0 for none */
	uint8_t kind;      /* enum item_kind */
	uint8_t family;    /* AF_INET or AF_INET6 (ITEM_NAME: 0) */
};

/* A host name and, once resolved, its addresses (single-address ranges). */
struct name {
	char *text;         /* owned copy */
	struct item *addrs; /* resolved addresses, owned */
	size_t n;           /* entries in addrs */
	int resolved;       /* pp_targets_resolve() was called */
};

/* An excluded interval, inclusive. */
struct interval {
	struct u128 lo; /* first excluded address */
	struct u128 hi; /* last excluded address */
	uint8_t family; /* AF_INET or AF_INET6 */
};

struct pp_targets {
	struct item *item;   /* unsealed: specs in order; sealed: pieces */
	size_t nitem;        /* entries in item */
	size_t capitem;      /* allocated entries in item */
	struct name *name;   /* host names in order of appearance */
	size_t nname;        /* entries in name */
	size_t capname;      /* allocated entries in name */
	struct interval *ex; /* excludes (sorted and merged while sealing) */
	size_t nex;          /* entries in ex */
	size_t capex;        /* allocated entries in ex */
	size_t naddrs;       /* addresses given by pp_targets_resolve() */
	uint64_t total;      /* addresses added, before excludes */
	uint64_t count;      /* sealed: hosts */
	int sealed;          /* pp_targets_seal() succeeded */
	int has4;            /* holds an IPv4 address (or spec, unsealed) */
	int has6;            /* holds an IPv6 address (or spec, unsealed) */
	char why[128];       /* formatted failure reasons point here */
};

/* A parsed spec. */
struct spec {
	enum item_kind kind; /* what the spec names */
	uint8_t family;      /* AF_INET or AF_INET6 */
	struct u128 lo;      /* ITEM_RANGE: first address */
	struct u128 hi;      /* ITEM_RANGE: last address */
	uint64_t count;      /* ITEM_RANGE, ITEM_OCTETS: addresses (0 when big) */
	int big;             /* more than PP_TARGETS_MAX addresses (IPv6 CIDR) */
	uint32_t scope_id;   /* ITEM_RANGE: scope of a single IPv6 address */
	struct octets oct;   /* ITEM_OCTETS */
};

/* --- 128-bit helpers ------------------------------------------------------ */

static int u128_cmp(struct u128 a, struct u128 b)
{
	if (a.hi != b.hi)
		return a.hi < b.hi ? -1 : 1;
	if (a.lo != b.lo)
		return a.lo < b.lo ? -1 : 1;
	return 0;
}

static struct u128 u128_add(struct u128 a, uint64_t n)
{
	struct u128 r = {a.hi, a.lo + n};

	if (r.lo < a.lo)
		r.hi++;
	return r;
}

static struct u128 u128_dec(struct u128 a)
{
	struct u128 r = {a.hi - (a.lo == 0), a.lo - 1};

	return r;
}

/* b - a + 1 for a <= b, when the result fits 64 bits. */
static uint64_t u128_span(struct u128 a, struct u128 b)
{
	return b.lo - a.lo + 1;
}

static int u128_is_max(struct u128 a, uint8_t family)
{
	if (family == AF_INET)
		return a.lo == UINT32_MAX;
	return a.hi == UINT64_MAX && a.lo == UINT64_MAX;
}

static void addr_to_u128(const struct pp_addr *a, uint8_t *family, struct u128 *v,
			 uint32_t *scope_id)
{
	v->hi = 0;
	v->lo = 0;
	*scope_id = 0;
	if (a->sa.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&a->sa;

		*family = AF_INET;
		v->lo = ntohl(in->sin_addr.s_addr);
	} else {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&a->sa;
		const uint8_t *b = in6->sin6_addr.s6_addr;

		*family = AF_INET6;
		for (int i = 0; i < 8; i++) {
			v->hi = v->hi << 8 | b[i];
			v->lo = v->lo << 8 | b[i + 8];
		}
		*scope_id = in6->sin6_scope_id;
	}
}

static void u128_to_addr(uint8_t family, struct u128 v, uint32_t scope_id, struct pp_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&a->sa;

		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl((uint32_t)v.lo);
		a->len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->sa;
		uint8_t *b = in6->sin6_addr.s6_addr;

		in6->sin6_family = AF_INET6;
		for (int i = 7; i >= 0; i--) {
			b[i] = (uint8_t)v.hi;
			b[i + 8] = (uint8_t)v.lo;
			v.hi >>= 8;
			v.lo >>= 8;
		}
		in6->sin6_scope_id = scope_id;
		a->len = sizeof(*in6);
	}
}

/* --- octet sets ----------------------------------------------------------- */

static int octet_has(const struct octet_set *s, unsigned v)
{
	return (int)(s->bits[v / 64] >> (v % 64) & 1);
}

/* Values of s below v (v <= 256). */
static unsigned octet_rank(const struct octet_set *s, unsigned v)
{
	unsigned r = 0, w;

	if (s->run)
		return v <= s->lo ? 0 : v > s->hi ? s->n : v - s->lo;
	for (w = 0; w < v / 64; w++)
		r += (unsigned)__builtin_popcountll(s->bits[w]);
	if (v % 64)
		r += (unsigned)__builtin_popcountll(s->bits[w] & ((1ull << (v % 64)) - 1));
	return r;
}

/* The k-th smallest value of s (k < s->n). */
static unsigned octet_select(const struct octet_set *s, unsigned k)
{
	unsigned w = 0, c;
	uint64_t word;

	if (s->run)
		return s->lo + k;
	for (;; w++) {
		c = (unsigned)__builtin_popcountll(s->bits[w]);
		if (k < c)
			break;
		k -= c;
	}
	word = s->bits[w];
	for (unsigned byte = 0;; byte++) {
		c = (unsigned)__builtin_popcountll(word >> (byte * 8) & 0xff);
		if (k < c) {
			word = word >> (byte * 8) & 0xff;
			while (k--)
				word &= word - 1;
			return w * 64 + byte * 8 + (unsigned)__builtin_ctzll(word);
		}
		k -= c;
	}
}

static void octet_finish(struct octet_set *s)
{
	unsigned n = 0, lo = 256, hi = 0;

	for (unsigned v = 0; v < 256; v++) {
		if (!octet_has(s, v))
			continue;
		n++;
		if (lo == 256)
			lo = v;
		hi = v;
	}
	s->n = (uint16_t)n;
	s->lo = (uint8_t)lo;
	s->hi = (uint8_t)hi;
	s->run = n == hi - lo + 1;
}

/* Elements of the product below v (v <= 2^32). */
static uint64_t octets_rank(const struct octets *p, uint64_t v)
{
	uint64_t r = 0, m = p->size;

	if (v > UINT32_MAX)
		return p->size;
	for (int k = 0; k < 4; k++) {
		unsigned d = (unsigned)(v >> (24 - 8 * k)) & 0xff;

		m /= p->o[k].n;
		r += octet_rank(&p->o[k], d) * m;
		if (!octet_has(&p->o[k], d))
			break;
	}
	return r;
}

/* The r-th smallest element of the product (r < size). */
static uint32_t octets_select(const struct octets *p, uint64_t r)
{
	uint32_t a = 0;

	for (int k = 3; k >= 0; k--) {
		unsigned n = p->o[k].n;

		a |= (uint32_t)octet_select(&p->o[k], (unsigned)(r % n)) << (24 - 8 * k);
		r /= n;
	}
	return a;
}

static uint32_t octets_min(const struct octets *p)
{
	return (uint32_t)p->o[0].lo << 24 | (uint32_t)p->o[1].lo << 16 | (uint32_t)p->o[2].lo << 8 |
	       p->o[3].lo;
}

static uint32_t octets_max(const struct octets *p)
{
	return (uint32_t)p->o[0].hi << 24 | (uint32_t)p->o[1].hi << 16 | (uint32_t)p->o[2].hi << 8 |
	       p->o[3].hi;
}

/* --- parsing -------------------------------------------------------------- */

__attribute__((format(printf, 2, 3))) static const char *set_why(struct pp_targets *t,
								 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->why, sizeof(t->why), fmt, ap);
	va_end(ap);
	return t->why;
}

static int is_digits(const char *s, size_t n)
{
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* One octet value: 1..3 decimal digits, no leading zero, 0..255. */
static int parse_octet_value(struct pp_targets *t, const char *s, size_t n, unsigned *v,
			     const char **why)
{
	unsigned x = 0;

	if (!is_digits(s, n)) {
		*why = "has an octet that is not a number, range or '*'";
		return -EINVAL;
	}
	if (n > 1 && s[0] == '0') {
		/* 010 is 8 to inet_aton() and 10 to nmap: refuse to guess */
		*why = set_why(t, "octet %.*s%s has a leading zero", n > 12 ? 12 : (int)n, s,
			       n > 12 ? "..." : "");
		return -EINVAL;
	}
	if (n > 3) {
		*why = set_why(t, "octet %.*s%s is not in 0..255", n > 12 ? 12 : (int)n, s,
			       n > 12 ? "..." : "");
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		x = x * 10 + (unsigned)(s[i] - '0');
	if (x > 255) {
		*why = set_why(t, "octet %.*s is not in 0..255", (int)n, s);
		return -EINVAL;
	}
	*v = x;
	return 0;
}

/* One octet's item list: "1", "1-3", "-5", "250-", "*", "0,2,4". */
static int parse_octet(struct pp_targets *t, const char *s, size_t n, struct octet_set *set,
		       const char **why)
{
	const char *end = s + n;

	memset(set, 0, sizeof(*set));
	if (!n) {
		*why = "has an empty octet";
		return -EINVAL;
	}
	while (s <= end) {
		const char *comma = memchr(s, ',', (size_t)(end - s));
		const char *e = comma ? comma : end, *dash;
		unsigned lo = 0, hi = 255;

		if (e == s) {
			*why = "has an empty item in an octet list";
			return -EINVAL;
		}
		dash = memchr(s, '-', (size_t)(e - s));
		if (e - s == 1 && *s == '*') {
			/* 0-255 */
		} else if (!dash) {
			if (parse_octet_value(t, s, (size_t)(e - s), &lo, why) < 0)
				return -EINVAL;
			hi = lo;
		} else {
			if (memchr(dash + 1, '-', (size_t)(e - dash - 1))) {
				*why = "has an octet range with two '-'";
				return -EINVAL;
			}
			if (dash > s && parse_octet_value(t, s, (size_t)(dash - s), &lo, why) < 0)
				return -EINVAL;
			if (dash + 1 < e &&
			    parse_octet_value(t, dash + 1, (size_t)(e - dash - 1), &hi, why) < 0)
				return -EINVAL;
			if (lo > hi) {
				*why = set_why(t, "octet range %u-%u is reversed", lo, hi);
				return -EINVAL;
			}
		}
		for (unsigned v = lo; v <= hi; v++)
			set->bits[v / 64] |= 1ull << (v % 64);
		if (!comma)
			break;
		s = comma + 1;
	}
	octet_finish(set);
	return 0;
}

/* Four octet lists; a contiguous product becomes a range. */
static int parse_octets(struct pp_targets *t, const char *s, size_t n, struct spec *r,
			const char **why)
{
	const char *p = s, *end = s + n;
	unsigned dots = 0;
	int k;

	for (size_t i = 0; i < n; i++)
		dots += s[i] == '.';
	if (dots != 3) {
		*why = set_why(t, "has %u octet%s; an IPv4 address or octet range has 4", dots + 1,
			       dots ? "s" : "");
		return -EINVAL;
	}
	memset(r, 0, sizeof(*r));
	for (k = 0; k < 4; k++) {
		const char *dot = k < 3 ? memchr(p, '.', (size_t)(end - p)) : end;

		if (parse_octet(t, p, (size_t)(dot - p), &r->oct.o[k], why) < 0)
			return -EINVAL;
		p = dot + 1;
	}
	r->family = AF_INET;
	r->oct.size = (uint64_t)r->oct.o[0].n * r->oct.o[1].n * r->oct.o[2].n * r->oct.o[3].n;
	r->count = r->oct.size;
	/* contiguous: singletons, then one run, then full octets */
	for (k = 0; k < 4 && r->oct.o[k].n == 1; k++)
		;
	if (k < 4 && r->oct.o[k].run) {
		int j = k + 1;

		while (j < 4 && r->oct.o[j].n == 256)
			j++;
		if (j == 4)
			k = 4;
	}
	if (k == 4) {
		r->kind = ITEM_RANGE;
		r->lo.lo = octets_min(&r->oct);
		r->hi.lo = octets_max(&r->oct);
	} else {
		r->kind = ITEM_OCTETS;
	}
	return 0;
}

/* Prefix length after '/': 0..max. */
static int parse_prefix(struct pp_targets *t, const char *s, unsigned max, unsigned *ret,
			const char **why)
{
	size_t n = strlen(s);
	unsigned v = 0;

	if (!is_digits(s, n)) {
		*why =
		    n ? "has a prefix length that is not a number" : "has an empty prefix length";
		return -EINVAL;
	}
	for (size_t i = 0; i < n && v <= max; i++)
		v = v * 10 + (unsigned)(s[i] - '0');
	if (v > max || n > 3) {
		*why = set_why(t, "prefix length %.*s%s is not in 0..%u", n > 12 ? 12 : (int)n, s,
			       n > 12 ? "..." : "", max);
		return -EINVAL;
	}
	*ret = v;
	return 0;
}

static int only_chars(const char *s, size_t n, const char *set)
{
	for (size_t i = 0; i < n; i++)
		if (!s[i] || !strchr(set, s[i]))
			return 0;
	return 1;
}

/* IPv6: an address (brackets and scope allowed) or CIDR. */
static int parse_v6(struct pp_targets *t, const char *s, struct spec *r, const char **why)
{
	char a[SPEC_MAX + 1];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	struct pp_addr addr;
	unsigned plen = 128, host;

	memcpy(a, s, n);
	a[n] = '\0';
	if (slash && memchr(a, '%', n)) {
		*why = "has a scope id, which only a single address may have";
		return -EINVAL;
	}
	if (pp_parse_ip(a, 0, &addr, why) < 0)
		return -EINVAL;
	if (addr.sa.ss_family != AF_INET6) {
		*why = MSG_NOT_A_TARGET;
		return -EINVAL;
	}
	if (slash && parse_prefix(t, slash + 1, 128, &plen, why) < 0)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	r->kind = ITEM_RANGE;
	addr_to_u128(&addr, &r->family, &r->lo, &r->scope_id);
	host = 128 - plen;
	if (host >= 64) {
		uint64_t m = host == 128 ? ~0ull : (1ull << (host - 64)) - 1;

		r->lo.hi &= ~m;
		r->lo.lo = 0;
		r->hi.hi = r->lo.hi | m;
		r->hi.lo = ~0ull;
	} else {
		uint64_t m = (1ull << host) - 1;

		r->lo.lo &= ~m;
		r->hi.hi = r->lo.hi;
		r->hi.lo = r->lo.lo | m;
	}
	if (host > 40)
		r->big = 1;
	else
		r->count = (uint64_t)1 << host;
	return 0;
}

/* IPv4 CIDR "a.b.c.d/n": the address part n bytes of s. */
static int parse_v4_cidr(struct pp_targets *t, const char *s, size_t n, const char *prefix,
			 struct spec *r, const char **why)
{
	unsigned plen;

	if (parse_octets(t, s, n, r, why) < 0)
		return -EINVAL;
	if (r->kind != ITEM_RANGE || r->count != 1) {
		*why = "has a prefix length on an octet range (only a single address takes one)";
		return -EINVAL;
	}
	if (parse_prefix(t, prefix, 32, &plen, why) < 0)
		return -EINVAL;
	r->count = (uint64_t)1 << (32 - plen);
	r->lo.lo &= ~(r->count - 1);
	r->hi.lo = r->lo.lo + r->count - 1;
	return 0;
}

/* Parses any spec into r; ITEM_NAME for a host name (s itself is the name). */
static int parse_spec(struct pp_targets *t, const char *s, struct spec *r, const char **why)
{
	size_t n = strlen(s);
	const char *slash = strchr(s, '/');

	if (!n) {
		*why = "is empty";
		return -EINVAL;
	}
	if (n > SPEC_MAX) {
		*why = "is longer than 4096 characters";
		return -EINVAL;
	}
	if (s[0] == '[' || strchr(s, ':'))
		return parse_v6(t, s, r, why);
	if (slash) {
		size_t an = (size_t)(slash - s);

		char name[256];

		if (only_chars(s, an, "0123456789.,*-"))
			return parse_v4_cidr(t, s, an, slash + 1, r, why);
		*why = MSG_NOT_A_TARGET;
		if (an < sizeof(name)) {
			memcpy(name, s, an);
			name[an] = '\0';
			if (pp_parse_host(name, why) == 0)
				*why =
				    "has a prefix length, which needs an address, not a host name";
			else
				*why = MSG_NOT_A_TARGET;
		}
		return -EINVAL;
	}
	/* digits, dots, ',', '*' and '-' only: an IPv4 address or octet range,
	 * never a host name (no top-level domain is all digits) */
	if (only_chars(s, n, "0123456789.,*-"))
		return parse_octets(t, s, n, r, why);
	if (pp_parse_host(s, why) < 0) {
		*why = MSG_NOT_A_TARGET;
		return -EINVAL;
	}
	memset(r, 0, sizeof(*r));
	r->kind = ITEM_NAME;
	return 0;
}

/* --- building ------------------------------------------------------------- */

/* Makes room for one more element of size `size` in *p. 0 or -ENOMEM. */
static int grow(void **p, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *np;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	np = realloc(*p, ncap * size);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

int pp_targets_new(struct pp_targets **ret)
{
	struct pp_targets *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	*ret = t;
	return 0;
}

void pp_targets_free(struct pp_targets *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nitem; i++) {
		if (t->item[i].kind == ITEM_OCTETS) {
			free(t->item[i].u.oct->skip);
			free(t->item[i].u.oct);
		}
	}
	for (size_t i = 0; i < t->nname; i++) {
		free(t->name[i].text);
		free(t->name[i].addrs);
	}
	free(t->item);
	free(t->name);
	free(t->ex);
	free(t);
}

int pp_targets_add(struct pp_targets *t, const char *spec, const char **why)
{
	struct spec r;
	struct item *it;
	int err;

	if (t->sealed) {
		*why = "cannot be added: the target set is already sealed";
		return -EINVAL;
	}
	err = parse_spec(t, spec, &r, why);
	if (err < 0)
		return err;
	if (t->nitem >= ITEMS_MAX) {
		*why = "is one spec too many (more than 16777216)";
		return -E2BIG;
	}
	if (r.kind != ITEM_NAME && (r.big || r.count > PP_TARGETS_MAX - t->total)) {
		*why = MSG_TOO_MANY;
		return -E2BIG;
	}
	if (grow((void **)&t->item, &t->capitem, t->nitem, sizeof(*t->item)) < 0)
		return -ENOMEM;
	it = &t->item[t->nitem];
	memset(it, 0, sizeof(*it));
	it->kind = (uint8_t)r.kind;
	it->family = r.family;
	it->count = r.count;
	if (r.kind == ITEM_NAME) {
		struct name *nm;

		if (grow((void **)&t->name, &t->capname, t->nname, sizeof(*t->name)) < 0)
			return -ENOMEM;
		nm = &t->name[t->nname];
		memset(nm, 0, sizeof(*nm));
		nm->text = strdup(spec);
		if (!nm->text)
			return -ENOMEM;
		it->name = (uint32_t)++t->nname;
		t->nitem++;
		return 1;
	}
	if (r.kind == ITEM_OCTETS) {
		it->u.oct = malloc(sizeof(*it->u.oct));
		if (!it->u.oct)
			return -ENOMEM;
		*it->u.oct = r.oct;
	} else {
		it->u.lo = r.lo;
		it->scope_id = r.scope_id;
	}
	t->total += r.count;
	t->has4 |= r.family == AF_INET;
	t->has6 |= r.family == AF_INET6;
	t->nitem++;
	return 0;
}

static int add_exclude(struct pp_targets *t, uint8_t family, struct u128 lo, struct u128 hi)
{
	if (grow((void **)&t->ex, &t->capex, t->nex, sizeof(*t->ex)) < 0)
		return -ENOMEM;
	t->ex[t->nex].lo = lo;
	t->ex[t->nex].hi = hi;
	t->ex[t->nex].family = family;
	t->nex++;
	return 0;
}

/* Splits an octet product into its contiguous intervals and excludes them. */
static int exclude_octets(struct pp_targets *t, const struct octets *p, const char **why)
{
	const struct octet_set *o = p->o;
	uint8_t run_lo[128], run_hi[128]; /* the runs of octet m-1 */
	unsigned runs = 0;
	uint64_t outer = 1;
	int m = 4, k;

	while (m > 0 && o[m - 1].n == 256)
		m--;
	if (m == 0)
		return add_exclude(t, AF_INET, (struct u128){0, 0}, (struct u128){0, UINT32_MAX});
	/* intervals: every value of octets 0..m-2 times every run of octet m-1 */
	for (k = 0; k < m - 1; k++)
		outer *= o[k].n;
	for (unsigned v = 0; v < 256; v++) {
		if (!octet_has(&o[m - 1], v))
			continue;
		if (v == 0 || !octet_has(&o[m - 1], v - 1))
			run_lo[runs++] = (uint8_t)v;
		run_hi[runs - 1] = (uint8_t)v;
	}
	if (outer * runs > EXCLUDE_SPLIT_MAX) {
		*why = "is an octet range of more than 65536 pieces; exclude with CIDR";
		return -E2BIG;
	}
	if (t->nex + outer * runs > EXCLUDES_MAX) {
		*why = "is one exclude too many (more than 16777216 intervals)";
		return -E2BIG;
	}
	for (uint64_t i = 0; i < outer; i++) {
		uint32_t base = 0, shift = (uint32_t)(8 * (4 - m)), unit = 1u << shift;
		uint64_t r = i;

		/* the i-th combination of octets 0..m-2 */
		for (k = m - 2; k >= 0; k--) {
			base |= (uint32_t)octet_select(&o[k], (unsigned)(r % o[k].n))
				<< (24 - 8 * k);
			r /= o[k].n;
		}
		for (unsigned j = 0; j < runs; j++) {
			uint64_t lo = base | (uint64_t)run_lo[j] << shift;
			uint64_t hi = (base | (uint64_t)run_hi[j] << shift) + unit - 1;

			if (add_exclude(t, AF_INET, (struct u128){0, lo}, (struct u128){0, hi}) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

int pp_targets_exclude(struct pp_targets *t, const char *spec, const char **why)
{
	struct spec r;
	int err;

	if (t->sealed) {
		*why = "cannot be excluded: the target set is already sealed";
		return -EINVAL;
	}
	err = parse_spec(t, spec, &r, why);
	if (err < 0)
		return err;
	if (r.kind == ITEM_NAME) {
		*why = "exclude takes addresses, not host names";
		return -EINVAL;
	}
	if (r.kind == ITEM_OCTETS)
		return exclude_octets(t, &r.oct, why);
	if (t->nex >= EXCLUDES_MAX) {
		*why = "is one exclude too many (more than 16777216 intervals)";
		return -E2BIG;
	}
	return add_exclude(t, r.family, r.lo, r.hi);
}

/* Reads whitespace-separated specs ('#' to end of line is a comment) and
 * hands each to fn. */
static long read_specs(struct pp_targets *t, FILE *f,
		       int (*fn)(struct pp_targets *, const char *, const char **),
		       unsigned long *line, char *bad_spec, size_t bad_len, const char **why)
{
	char tok[SPEC_MAX + 2];
	size_t n = 0;
	unsigned long ln = 1;
	int comment = 0, nul = 0, c;
	long added = 0;

	for (;;) {
		c = getc(f);
		if (comment && c != '\n' && c != EOF)
			continue;
		if (c != EOF && c != '#' && c != ' ' && c != '\t' && c != '\n' && c != '\r' &&
		    c != '\v' && c != '\f') {
			if (n < sizeof(tok) - 1)
				tok[n++] = (char)c;
			nul |= c == '\0';
			continue;
		}
		if (n) {
			int err;

			tok[n] = '\0';
			if (nul) {
				*why = "contains a NUL byte";
				err = -EINVAL;
			} else if (n > SPEC_MAX) {
				*why = "is longer than 4096 characters";
				err = -EINVAL;
			} else {
				err = fn(t, tok, why);
			}
			if (err < 0) {
				*line = ln;
				if (bad_spec && bad_len)
					snprintf(bad_spec, bad_len, "%s", tok);
				return err;
			}
			added++;
			n = 0;
			nul = 0;
		}
		if (c == '#')
			comment = 1;
		if (c == '\n') {
			comment = 0;
			ln++;
		}
		if (c == EOF)
			break;
	}
	if (ferror(f)) {
		*line = 0;
		*why = "cannot be read";
		if (bad_spec && bad_len)
			bad_spec[0] = '\0';
		return errno > 0 ? -errno : -EIO;
	}
	return added;
}

long pp_targets_add_file(struct pp_targets *t, FILE *f, unsigned long *line, char *bad_spec,
			 size_t bad_len, const char **why)
{
	return read_specs(t, f, pp_targets_add, line, bad_spec, bad_len, why);
}

long pp_targets_exclude_file(struct pp_targets *t, FILE *f, unsigned long *line, char *bad_spec,
			     size_t bad_len, const char **why)
{
	return read_specs(t, f, pp_targets_exclude, line, bad_spec, bad_len, why);
}

size_t pp_targets_name_count(const struct pp_targets *t)
{
	return t->nname;
}

const char *pp_targets_name(const struct pp_targets *t, size_t i)
{
	return i < t->nname ? t->name[i].text : NULL;
}

int pp_targets_resolve(struct pp_targets *t, size_t i, const struct pp_addr *addrs, size_t n)
{
	struct name *nm;

	if (t->sealed || i >= t->nname || t->name[i].resolved)
		return -EINVAL;
	for (size_t k = 0; k < n; k++)
		if (addrs[k].sa.ss_family != AF_INET && addrs[k].sa.ss_family != AF_INET6)
			return -EINVAL;
	if (n > ITEMS_MAX - t->naddrs || n > PP_TARGETS_MAX - t->total)
		return -E2BIG;
	nm = &t->name[i];
	if (n) {
		nm->addrs = calloc(n, sizeof(*nm->addrs));
		if (!nm->addrs)
			return -ENOMEM;
	}
	for (size_t k = 0; k < n; k++) {
		struct item *it = &nm->addrs[k];

		it->kind = ITEM_RANGE;
		it->count = 1;
		it->name = (uint32_t)(i + 1);
		addr_to_u128(&addrs[k], &it->family, &it->u.lo, &it->scope_id);
		t->has4 |= it->family == AF_INET;
		t->has6 |= it->family == AF_INET6;
	}
	nm->n = n;
	nm->resolved = 1;
	t->naddrs += n;
	t->total += n;
	return 0;
}

/* --- sealing -------------------------------------------------------------- */

static int interval_cmp(const void *a, const void *b)
{
	const struct interval *x = a, *y = b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return u128_cmp(x->lo, y->lo);
}

/* Sorts and merges the excludes (overlapping or adjacent intervals). */
static void merge_excludes(struct pp_targets *t)
{
	size_t out = 0;

	if (!t->nex)
		return;
	qsort(t->ex, t->nex, sizeof(*t->ex), interval_cmp);
	for (size_t i = 1; i < t->nex; i++) {
		struct interval *last = &t->ex[out], *cur = &t->ex[i];

		if (cur->family == last->family &&
		    (u128_is_max(last->hi, last->family) ||
		     u128_cmp(cur->lo, u128_add(last->hi, 1)) <= 0)) {
			if (u128_cmp(cur->hi, last->hi) > 0)
				last->hi = cur->hi;
			continue;
		}
		t->ex[++out] = *cur;
	}
	t->nex = out + 1;
}

/* The first exclude of family with hi >= v. */
static size_t exclude_lower_bound(const struct pp_targets *t, uint8_t family, struct u128 v)
{
	size_t lo = 0, hi = t->nex;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct interval *e = &t->ex[mid];

		if (e->family < family || (e->family == family && u128_cmp(e->hi, v) < 0))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The pieces being built by pp_targets_seal(). */
struct pieces {
	struct item *p; /* pieces */
	size_t n;       /* entries in p */
	size_t cap;     /* allocated entries in p */
	size_t budget;  /* pieces and octet skips still allowed */
};

static int push_piece(struct pieces *ps, const struct item *it)
{
	if (!ps->budget)
		return -E2BIG;
	ps->budget--;
	if (grow((void **)&ps->p, &ps->cap, ps->n, sizeof(*ps->p)) < 0)
		return -ENOMEM;
	ps->p[ps->n++] = *it;
	return 0;
}

/* Pushes what the excludes leave of a contiguous range. */
static int seal_range(const struct pp_targets *t, struct pieces *ps, const struct item *it)
{
	struct u128 cur = it->u.lo, last = u128_add(it->u.lo, it->count - 1);
	size_t j = exclude_lower_bound(t, it->family, cur);
	struct item piece = *it;
	int err;

	for (; j < t->nex && t->ex[j].family == it->family && u128_cmp(t->ex[j].lo, last) <= 0;
	     j++) {
		const struct interval *e = &t->ex[j];

		if (u128_cmp(e->lo, cur) > 0) {
			piece.u.lo = cur;
			piece.count = u128_span(cur, u128_dec(e->lo));
			err = push_piece(ps, &piece);
			if (err < 0)
				return err;
		}
		if (u128_cmp(e->hi, last) >= 0)
			return 0;
		cur = u128_add(e->hi, 1);
	}
	piece.u.lo = cur;
	piece.count = u128_span(cur, last);
	return push_piece(ps, &piece);
}

/* Computes an octet product's skips and pushes it when hosts are left. */
static int seal_octets(const struct pp_targets *t, struct pieces *ps, struct item *it,
		       uint64_t *work)
{
	struct octets *p = it->u.oct;
	uint64_t excluded = 0;
	uint32_t pmax = octets_max(p);
	size_t j = exclude_lower_bound(t, AF_INET, (struct u128){0, octets_min(p)}), cap = 0;

	free(p->skip);
	p->skip = NULL;
	p->nskip = 0;
	for (; j < t->nex && t->ex[j].family == AF_INET && t->ex[j].lo.lo <= pmax; j++) {
		uint64_t a, c;

		if (++*work > OCTET_WORK_MAX)
			return -E2BIG;
		a = octets_rank(p, t->ex[j].lo.lo);
		c = octets_rank(p, t->ex[j].hi.lo + 1) - a;
		if (!c)
			continue;
		if (!ps->budget)
			return -E2BIG;
		ps->budget--;
		if (grow((void **)&p->skip, &cap, p->nskip, sizeof(*p->skip)) < 0)
			return -ENOMEM;
		p->skip[p->nskip].kept = a - excluded;
		excluded += c;
		p->skip[p->nskip].skip = excluded;
		p->nskip++;
	}
	it->count = p->size - excluded;
	if (!it->count)
		return 0;
	return push_piece(ps, it);
}

int pp_targets_seal(struct pp_targets *t)
{
	struct pieces ps = {NULL, 0, 0, PIECES_MAX};
	uint64_t work = 0, sum = 0;
	int err = 0;

	if (t->sealed)
		return 0;
	for (size_t i = 0; i < t->nname; i++)
		if (!t->name[i].resolved)
			return -EINVAL;
	merge_excludes(t);
	for (size_t i = 0; i < t->nitem && !err; i++) {
		struct item *it = &t->item[i];

		if (it->kind == ITEM_RANGE) {
			err = seal_range(t, &ps, it);
		} else if (it->kind == ITEM_OCTETS) {
			err = seal_octets(t, &ps, it, &work);
		} else {
			const struct name *nm = &t->name[it->name - 1];

			for (size_t k = 0; k < nm->n && !err; k++)
				err = seal_range(t, &ps, &nm->addrs[k]);
		}
	}
	if (err < 0) {
		/* unsealed again: no skips, and the items as they were */
		for (size_t i = 0; i < t->nitem; i++) {
			if (t->item[i].kind == ITEM_OCTETS) {
				free(t->item[i].u.oct->skip);
				t->item[i].u.oct->skip = NULL;
				t->item[i].u.oct->nskip = 0;
				t->item[i].count = t->item[i].u.oct->size;
			}
		}
		free(ps.p);
		return err;
	}
	/* octet products left without hosts are not pieces: free them now */
	for (size_t i = 0; i < t->nitem; i++) {
		if (t->item[i].kind == ITEM_OCTETS && !t->item[i].count) {
			free(t->item[i].u.oct->skip);
			free(t->item[i].u.oct);
		}
	}
	free(t->item);
	t->item = ps.p;
	t->nitem = ps.n;
	t->capitem = ps.cap;
	t->has4 = 0;
	t->has6 = 0;
	for (size_t i = 0; i < t->nitem; i++) {
		t->item[i].first = sum;
		sum += t->item[i].count;
		t->has4 |= t->item[i].family == AF_INET;
		t->has6 |= t->item[i].family == AF_INET6;
	}
	t->count = sum;
	t->sealed = 1;
	return 0;
}

uint64_t pp_targets_count(const struct pp_targets *t)
{
	return t->sealed ? t->count : 0;
}

int pp_targets_get(const struct pp_targets *t, uint64_t h, struct pp_addr *addr, const char **name)
{
	const struct item *it;
	size_t lo = 0, hi;
	uint64_t off;

	if (!t->sealed || h >= t->count)
		return -ERANGE;
	hi = t->nitem;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->item[mid].first <= h)
			lo = mid;
		else
			hi = mid;
	}
	it = &t->item[lo];
	off = h - it->first;
	if (it->kind == ITEM_RANGE) {
		u128_to_addr(it->family, u128_add(it->u.lo, off), it->scope_id, addr);
	} else {
		const struct octets *p = it->u.oct;
		size_t a = 0, b = p->nskip;

		/* the last excluded interval with fewer kept hosts below it than off */
		while (a < b) {
			size_t mid = a + (b - a) / 2;

			if (p->skip[mid].kept <= off)
				a = mid + 1;
			else
				b = mid;
		}
		if (a)
			off += p->skip[a - 1].skip;
		u128_to_addr(AF_INET, (struct u128){0, octets_select(p, off)}, 0, addr);
	}
	if (name)
		*name = it->name ? t->name[it->name - 1].text : NULL;
	return 0;
}

bool pp_targets_mixed(const struct pp_targets *t)
{
	return t->has4 && t->has6;
}
