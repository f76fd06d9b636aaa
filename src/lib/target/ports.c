/* ports.c: TCP port lists: nmap's -p syntax, --exclude-ports, top-N lists
 * and the compact "1-1024,8080" form.
 *
 * A list is built in a 65536-bit set (8 KiB), so duplicates and overlaps
 * merge for free and the result comes out ascending. Top-N lists rank either
 * portprobe's own list (top_ports.c) or, at run time, the open-frequency
 * column of an installed nmap's nmap-services, which we read but never ship.
 * Reasons that name a value ("port 70000 is not in 1..65535") are formatted
 * into a per-thread buffer, valid until the thread's next call here. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "portprobe/ports.h"
#include "target/top_ports.h"

#define PORTS_WORDS      (65536 / 64)
#define NMAP_LINE_MAX    1024       /* longer nmap-services lines are skipped */
#define NMAP_LINES_MAX   (1u << 20) /* the real file has about 27000 */
#define ITEM_SHOWN_MAX   32         /* longest item quoted in a reason */
#define MSG_NOT_TCP      "U: and S: lists are not supported (TCP only)"
#define MSG_EMPTY        "empty port list"
#define MSG_EMPTY_ITEM   "has an empty item (two commas, or one at an end)"
#define MSG_NOT_A_NUMBER "is not a number"

/* A set of ports; bit p set: port p is in the set. */
struct portset {
	uint64_t w[PORTS_WORDS]; /* bits, port 0 unused */
};

static _Thread_local char why_buf[96];

__attribute__((format(printf, 1, 2))) static const char *set_why(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why_buf, sizeof(why_buf), fmt, ap);
	va_end(ap);
	return why_buf;
}

static void set_add(struct portset *s, unsigned lo, unsigned hi)
{
	for (unsigned p = lo; p <= hi; p++)
		s->w[p / 64] |= 1ull << (p % 64);
}

static int set_has(const struct portset *s, unsigned p)
{
	return (int)(s->w[p / 64] >> (p % 64) & 1);
}

static size_t set_count(const struct portset *s)
{
	size_t n = 0;

	for (size_t i = 0; i < PORTS_WORDS; i++)
		n += (size_t)__builtin_popcountll(s->w[i]);
	return n;
}

/* The ports of s, ascending, into a new array. 0 or -ENOMEM. */
static int set_to_ports(const struct portset *s, struct pp_ports *ret)
{
	size_t n = set_count(s), k = 0;
	uint16_t *port = malloc((n ? n : 1) * sizeof(*port));

	if (!port)
		return -ENOMEM;
	for (size_t i = 0; i < PORTS_WORDS; i++)
		for (uint64_t w = s->w[i]; w; w &= w - 1)
			port[k++] = (uint16_t)(i * 64 + (size_t)__builtin_ctzll(w));
	ret->port = port;
	ret->n = n;
	return 0;
}

/* The reason for an item that is not a number: quoted when printable. */
static const char *not_a_port(const char *s, size_t n)
{
	if (n > ITEM_SHOWN_MAX)
		return MSG_NOT_A_NUMBER;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f || s[i] == '\'')
			return MSG_NOT_A_NUMBER;
	return set_why("'%.*s' is not a port number", (int)n, s);
}

/* A decimal port 1..65535 in s[0..n). */
static int parse_number(const char *s, size_t n, const char *item, size_t item_len, unsigned *ret,
			const char **why)
{
	unsigned long v = 0;

	if (!n) {
		*why = not_a_port(item, item_len);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9') {
			*why = not_a_port(item, item_len);
			return -EINVAL;
		}
		if (v <= 65535)
			v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v == 0 || v > 65535) {
		*why = set_why("port %.*s%s is not in 1..65535", n > 12 ? 12 : (int)n, s,
			       n > 12 ? "..." : "");
		return -EINVAL;
	}
	*ret = (unsigned)v;
	return 0;
}

/* One item: "N", "N-M", "-M", "N-" or "-". */
static int parse_item(const char *s, size_t n, struct portset *set, const char **why)
{
	const char *dash = memchr(s, '-', n);
	unsigned lo = 1, hi = 65535;

	if (!dash) {
		if (parse_number(s, n, s, n, &lo, why) < 0)
			return -EINVAL;
		hi = lo;
	} else {
		size_t left = (size_t)(dash - s), right = n - left - 1;

		if (left && parse_number(s, left, s, n, &lo, why) < 0)
			return -EINVAL;
		if (right && parse_number(dash + 1, right, s, n, &hi, why) < 0)
			return -EINVAL;
		if (lo > hi) {
			*why = set_why("range %u-%u is reversed", lo, hi);
			return -EINVAL;
		}
	}
	set_add(set, lo, hi);
	return 0;
}

/* Adds the ports of a -p spec to set. */
static int parse_into(const char *spec, struct portset *set, const char **why)
{
	const char *p = spec;

	if (!*spec) {
		*why = MSG_EMPTY;
		return -EINVAL;
	}
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);

		if (n >= 2 && p[1] == ':') {
			if (p[0] == 'T') {
				p += 2;
				n -= 2;
				if (!n && !comma && p - 2 == spec) {
					*why = MSG_EMPTY;
					return -EINVAL;
				}
			} else if (strchr("UuSs", p[0])) {
				*why = MSG_NOT_TCP;
				return -EINVAL;
			} else if (strchr("Pp", p[0])) {
				*why = "P: (IP protocol) lists are not supported (TCP only)";
				return -EINVAL;
			}
		}
		if (!n) {
			*why = MSG_EMPTY_ITEM;
			return -EINVAL;
		}
		if (parse_item(p, n, set, why) < 0)
			return -EINVAL;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

void pp_ports_free(struct pp_ports *p)
{
	if (!p)
		return;
	free(p->port);
	p->port = NULL;
	p->n = 0;
}

int pp_ports_parse(const char *spec, struct pp_ports *ret, const char **why)
{
	struct portset *set = calloc(1, sizeof(*set));
	int err;

	if (!set)
		return -ENOMEM;
	err = parse_into(spec, set, why);
	if (!err)
		err = set_to_ports(set, ret);
	free(set);
	return err;
}

int pp_ports_exclude(struct pp_ports *p, const char *spec, const char **why)
{
	struct portset *set = calloc(1, sizeof(*set));
	size_t k = 0;
	int err;

	if (!set)
		return -ENOMEM;
	err = parse_into(spec, set, why);
	if (!err) {
		for (size_t i = 0; i < p->n; i++)
			if (!set_has(set, p->port[i]))
				p->port[k++] = p->port[i];
		p->n = k;
	}
	free(set);
	return err;
}

/* --- top-N lists ---------------------------------------------------------- */

/* A TCP port and its open frequency from nmap-services. */
struct ranked {
	double freq;   /* fraction of scans that found it open */
	uint16_t port; /* the port */
};

static int ranked_cmp(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->freq != y->freq)
		return x->freq > y->freq ? -1 : 1;
	return (int)x->port - (int)y->port;
}

/* The next whitespace-separated field of *p, or NULL; *n its length. */
static const char *next_field(const char **p, size_t *n)
{
	const char *s = *p, *e;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s || *s == '\n' || *s == '\r' || *s == '#')
		return NULL;
	for (e = s; *e && *e != ' ' && *e != '\t' && *e != '\n' && *e != '\r'; e++)
		;
	*n = (size_t)(e - s);
	*p = e;
	return s;
}

/* Parses "name port/tcp frequency ..." into *port and *freq; 0 or -1. */
static int nmap_line(const char *line, uint16_t *port, double *freq)
{
	const char *p = line, *f;
	char num[32], *end;
	size_t n;
	unsigned long v = 0;
	double d;

	if (!next_field(&p, &n)) /* name */
		return -1;
	f = next_field(&p, &n);
	if (!f || n < 5 || n > 9 || memcmp(f + n - 4, "/tcp", 4))
		return -1;
	for (size_t i = 0; i < n - 4; i++) {
		if (f[i] < '0' || f[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(f[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	f = next_field(&p, &n);
	if (!f || n >= sizeof(num) || !strchr("0123456789.", f[0]))
		return -1;
	memcpy(num, f, n);
	num[n] = '\0';
	d = strtod(num, &end);
	if (*end || !isfinite(d) || d < 0)
		return -1;
	*port = (uint16_t)v;
	*freq = d;
	return 0;
}

/* Reads nmap-services into ports ranked by open frequency (descending, ties
 * by port). *ret is malloc'd. */
static int nmap_ranking(const char *path, struct ranked **ret, size_t *nret, const char **why)
{
	char line[NMAP_LINE_MAX];
	double *freq = NULL;
	struct ranked *r = NULL;
	size_t n = 0, lines = 0;
	int skipping = 0, err = 0;
	FILE *f;

	if (!path)
		path = pp_ports_nmap_services_path();
	f = path ? fopen(path, "re") : NULL;
	if (!f) {
		*why = "cannot read nmap-services";
		return -ENOENT;
	}
	freq = malloc(65536 * sizeof(*freq));
	if (!freq) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < 65536; i++)
		freq[i] = -1;
	while (fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);
		uint16_t port;
		double d;
		int whole = len && line[len - 1] == '\n';

		if (skipping) { /* the tail of a line that was too long */
			skipping = !whole;
			continue;
		}
		if (!whole && !feof(f)) {
			skipping = 1;
			continue;
		}
		if (++lines > NMAP_LINES_MAX) {
			*why = "nmap-services has more than 1048576 lines";
			err = -EINVAL;
			goto out;
		}
		if (nmap_line(line, &port, &d) == 0 && d > freq[port])
			freq[port] = d;
	}
	if (ferror(f)) {
		*why = "cannot read nmap-services";
		err = -ENOENT;
		goto out;
	}
	for (size_t p = 1; p < 65536; p++)
		n += freq[p] >= 0;
	if (!n) {
		*why = "nmap-services has no TCP entries";
		err = -EINVAL;
		goto out;
	}
	r = malloc(n * sizeof(*r));
	if (!r) {
		err = -ENOMEM;
		goto out;
	}
	n = 0;
	for (size_t p = 1; p < 65536; p++) {
		if (freq[p] >= 0) {
			r[n].freq = freq[p];
			r[n].port = (uint16_t)p;
			n++;
		}
	}
	qsort(r, n, sizeof(*r), ranked_cmp);
	*ret = r;
	*nret = n;
out:
	free(freq);
	fclose(f);
	return err;
}

int pp_ports_top(size_t n, enum pp_ports_source src, const char *path, struct pp_ports *ret,
		 const char **why)
{
	struct portset *set;
	struct ranked *rank = NULL;
	size_t nrank = 0, have = 0;
	int err;

	if (n < 1 || n > 65535) {
		*why = "is not in 1..65535";
		return -EINVAL;
	}
	if (src == PP_PORTS_SOURCE_NMAP) {
		err = nmap_ranking(path, &rank, &nrank, why);
		if (err < 0)
			return err;
	}
	set = calloc(1, sizeof(*set));
	if (!set) {
		free(rank);
		return -ENOMEM;
	}
	if (src == PP_PORTS_SOURCE_NMAP) {
		for (; have < n && have < nrank; have++)
			set_add(set, rank[have].port, rank[have].port);
	} else {
		for (; have < n && have < PP_TOP_PORTS_OWN_N; have++)
			set_add(set, pp_top_ports_own[have], pp_top_ports_own[have]);
	}
	/* beyond the ranking: the lowest ports not yet in, ascending */
	for (unsigned p = 1; have < n && p < 65536; p++) {
		if (!set_has(set, p)) {
			set_add(set, p, p);
			have++;
		}
	}
	err = set_to_ports(set, ret);
	free(set);
	free(rank);
	return err;
}

const char *pp_ports_nmap_services_path(void)
{
	static const char *const paths[] = {
	    "/usr/share/nmap/nmap-services",
	    "/usr/local/share/nmap/nmap-services",
	};

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (access(paths[i], R_OK) == 0)
			return paths[i];
	return NULL;
}

char *pp_ports_format(const struct pp_ports *p, char *buf, size_t len)
{
	size_t used = 0;

	if (!len)
		return NULL;
	buf[0] = '\0';
	for (size_t i = 0; i < p->n;) {
		size_t j = i;
		int w;

		while (j + 1 < p->n && p->port[j + 1] == p->port[j] + 1)
			j++;
		if (j > i)
			w = snprintf(buf + used, len - used, "%s%u-%u", used ? "," : "",
				     (unsigned)p->port[i], (unsigned)p->port[j]);
		else
			w = snprintf(buf + used, len - used, "%s%u", used ? "," : "",
				     (unsigned)p->port[i]);
		if (w < 0 || (size_t)w >= len - used) {
			buf[0] = '\0';
			return NULL;
		}
		used += (size_t)w;
		i = j + 1;
	}
	return buf;
}
