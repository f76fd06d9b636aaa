/* values.c: the loader's vocabulary: key paths, error lines, mapping
 * schemas and typed scalars.
 *
 * Every reader of a value gets the key node and the value node, pushes the
 * key on the path, and on failure writes one line "FILE:LINE:COLUMN: PATH:
 * VALUE what is wrong" at the value's position (at the key for unknown and
 * duplicate keys). Values are shown as written: numbers bare, anything else
 * quoted with control characters escaped and long values cut, so a message
 * is always one line whatever the file holds. Scalars are read by their text,
 * whatever their YAML style ("80" and 80 are both a port); only a plain null
 * ("", ~, null) is different: it is no value at all. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_int.h"
#include "portprobe/parse.h"

/* ---- navigation ---------------------------------------------------------------- */

const struct ynode *config_node(const struct config_ctx *c, uint32_t i)
{
	return i ? &c->tree.nodes[i] : NULL;
}

const struct ynode *config_first(const struct config_ctx *c, const struct ynode *n)
{
	return config_node(c, n->first);
}

const struct ynode *config_next(const struct config_ctx *c, const struct ynode *n)
{
	return config_node(c, n->next);
}

const char *config_str(const struct config_ctx *c, const struct ynode *n)
{
	return n->type == YNODE_SCALAR ? c->tree.strings + n->str : "";
}

/* ---- error lines ----------------------------------------------------------------- */

/* Appends s to the error buffer, cut at its end. */
static void err_append(struct config_ctx *c, size_t *used, const char *s)
{
	size_t n = strlen(s);

	if (*used + 1 >= c->errlen)
		return;
	if (n > c->errlen - 1 - *used)
		n = c->errlen - 1 - *used;
	memcpy(c->err + *used, s, n);
	*used += n;
	c->err[*used] = '\0';
}

static int vfail(struct config_ctx *c, int e, unsigned line, unsigned col, const char *fmt,
		 va_list ap) __attribute__((format(printf, 5, 0)));

/* Writes the error line (see config_fail) and returns e. */
static int vfail(struct config_ctx *c, int e, unsigned line, unsigned col, const char *fmt,
		 va_list ap)
{
	char msg[512], pos[32];
	size_t used = 0;

	if (!c->err || !c->errlen)
		return e;
	c->err[0] = '\0';
	vsnprintf(msg, sizeof(msg), fmt, ap);
	err_append(c, &used, c->display);
	if (line) {
		snprintf(pos, sizeof(pos), ":%u:%u", line, col);
		err_append(c, &used, pos);
	}
	err_append(c, &used, ": ");
	if (c->pathlen) {
		err_append(c, &used, c->path);
		err_append(c, &used, ": ");
	}
	err_append(c, &used, msg);
	/* one line, whatever the display name or a value held */
	for (char *p = c->err; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return e;
}

int config_fail_at(struct config_ctx *c, unsigned line, unsigned col, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vfail(c, -EINVAL, line, col, fmt, ap);
	va_end(ap);
	return r;
}

int config_fail(struct config_ctx *c, const struct ynode *n, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vfail(c, -EINVAL, n ? n->line : 0, n ? n->col : 0, fmt, ap);
	va_end(ap);
	return r;
}

int config_fail_errno(struct config_ctx *c, int e, const struct ynode *n, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vfail(c, e, n ? n->line : 0, n ? n->col : 0, fmt, ap);
	va_end(ap);
	return r;
}

/* True when s[0..n) reads as a number (shown without quotes). */
static bool numeric(const char *s, size_t n)
{
	if (n == 0 || n > 24)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789.+-", s[i]) || s[i] == '\0')
			return false;
	return true;
}

const char *config_show_str(struct config_ctx *c, const char *s, size_t n)
{
	char *out = c->show[c->nshow++ % 4];
	size_t o = 0, i = 0;

	out[o++] = '"';
	while (i < n && o < CONFIG_SHOW_MAX) {
		unsigned char b = (unsigned char)s[i], b1 = i + 1 < n ? (unsigned char)s[i + 1] : 0,
			      b2 = i + 2 < n ? (unsigned char)s[i + 2] : 0;
		size_t clen = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;

		if (b == '"' || b == '\\') {
			out[o++] = '\\';
			out[o++] = (char)b;
		} else if (b == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else if (b == '\t') {
			out[o++] = '\\';
			out[o++] = 't';
		} else if (b < 0x20 || b == 0x7f) {
			snprintf(out + o, 5, "\\x%02X", b);
			o += 4;
		} else if (b == 0xC2 && b1 >= 0x80 && b1 <= 0x9F) {
			/* C1 controls: U+0080..U+009F (NEL ends a line for some) */
			snprintf(out + o, 7, "\\u%04X", b1);
			o += 6;
		} else if (b == 0xE2 && b1 == 0x80 && (b2 == 0xA8 || b2 == 0xA9)) {
			/* U+2028, U+2029: line and paragraph separators */
			snprintf(out + o, 7, "\\u%04X", 0x2000 + b2 - 0x80);
			o += 6;
		} else {
			/* a whole character or nothing (libyaml checked the UTF-8) */
			if (i + clen > n || o + clen > CONFIG_SHOW_MAX)
				break;
			memcpy(out + o, s + i, clen);
			o += clen;
		}
		i += b >= 0x80 ? clen : 1;
	}
	if (i < n) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

const char *config_show(struct config_ctx *c, const struct ynode *n)
{
	const char *s = config_str(c, n);

	if (n->type == YNODE_SEQ)
		return "a list";
	if (n->type == YNODE_MAP)
		return "a mapping";
	if (n->plain && numeric(s, n->len)) {
		char *out = c->show[c->nshow++ % 4];

		memcpy(out, s, n->len + 1);
		return out;
	}
	return config_show_str(c, s, n->len);
}

/* ---- the key path ---------------------------------------------------------------- */

/* True when key can be written bare in a path. */
static bool bare_key(const char *key)
{
	size_t n = 0;

	for (; key[n]; n++)
		if (!isalnum((unsigned char)key[n]) && key[n] != '_' && key[n] != '-')
			return false;
	return n > 0 && n <= 64;
}

size_t config_push_key(struct config_ctx *c, const char *key)
{
	size_t old = c->pathlen;
	int w;

	if (bare_key(key))
		w = snprintf(c->path + old, sizeof(c->path) - old, "%s%s", old ? "." : "", key);
	else
		w = snprintf(c->path + old, sizeof(c->path) - old, "[%s]",
			     config_show_str(c, key, strlen(key)));
	if (w > 0)
		c->pathlen +=
		    (size_t)w < sizeof(c->path) - old ? (size_t)w : sizeof(c->path) - old - 1;
	return old;
}

size_t config_push_index(struct config_ctx *c, size_t i)
{
	size_t old = c->pathlen;
	int w = snprintf(c->path + old, sizeof(c->path) - old, "[%zu]", i);

	if (w > 0)
		c->pathlen +=
		    (size_t)w < sizeof(c->path) - old ? (size_t)w : sizeof(c->path) - old - 1;
	return old;
}

void config_pop(struct config_ctx *c, size_t len)
{
	c->pathlen = len;
	c->path[len] = '\0';
}

/* ---- shapes ------------------------------------------------------------------------ */

/* What n is, for "expected X, found Y". */
static const char *found(struct config_ctx *c, const struct ynode *n)
{
	if (n->type == YNODE_SCALAR && n->null)
		return "nothing";
	return config_show(c, n);
}

bool config_enter(struct config_ctx *c, const char *key, const struct ynode *v, size_t *saved)
{
	*saved = config_push_key(c, key);
	if (v->type != YNODE_SCALAR || !v->null)
		return false;
	config_pop(c, *saved);
	return true;
}

int config_want_map(struct config_ctx *c, const struct ynode *n)
{
	if (n->type == YNODE_MAP)
		return 0;
	return config_fail(c, n, "expected a mapping (key: value lines), found %s", found(c, n));
}

int config_want_seq(struct config_ctx *c, const struct ynode *n)
{
	if (n->type == YNODE_SEQ)
		return 0;
	return config_fail(c, n, "expected a list, found %s", found(c, n));
}

int config_want_scalar(struct config_ctx *c, const struct ynode *n)
{
	if (n->type == YNODE_SEQ)
		return config_fail(c, n, "expected a single value, found a list");
	if (n->type == YNODE_MAP)
		return config_fail(c, n, "expected a single value, found a mapping");
	if (n->null)
		return config_fail(c, n, "has no value");
	return 0;
}

/* Edit distance of a and b, case-insensitive, a swap of two neighbours
 * counting one ("hots" is one from "host"); a large number when either is
 * too long to bother. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), d[33][33];

	if (la > 32 || lb > 32)
		return 99;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			int ca = tolower((unsigned char)a[i - 1]),
			    cb = tolower((unsigned char)b[j - 1]);
			size_t best = d[i - 1][j - 1] + (ca != cb);

			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	return d[la][lb];
}

/* "unknown key" with a hint or a suggestion. */
static int unknown_key(struct config_ctx *c, const struct ynode *k, const struct config_key *keys,
		       size_t nkeys, const struct config_hint *hints, size_t nhints)
{
	const char *name = config_str(c, k), *best = NULL;
	size_t bestd = 99;

	for (size_t i = 0; i < nhints; i++)
		if (!strcmp(name, hints[i].name))
			return config_fail(c, k, "unknown key %s (%s)", config_show(c, k),
					   hints[i].hint);
	for (size_t i = 0; i < nkeys; i++) {
		size_t d = distance(name, keys[i].name), len = strlen(keys[i].name);

		if (d < bestd && (d == 0 || d <= (len <= 4 ? 1u : 2u))) {
			bestd = d;
			best = keys[i].name;
		}
	}
	if (best)
		return config_fail(c, k, "unknown key %s (did you mean \"%s\"?)", config_show(c, k),
				   best);
	return config_fail(c, k, "unknown key %s", config_show(c, k));
}

int config_map(struct config_ctx *c, const struct ynode *map, const struct config_key *keys,
	       size_t nkeys, const struct config_hint *hints, size_t nhints,
	       const struct ynode **vals, const struct ynode **keyn, size_t nslots)
{
	int r = config_want_map(c, map);

	if (r < 0)
		return r;
	for (size_t i = 0; i < nslots; i++)
		vals[i] = keyn[i] = NULL;
	for (const struct ynode *k = config_first(c, map), *v; k; k = config_next(c, v)) {
		const char *name;
		size_t i;
		int slot;

		v = config_next(c, k);
		if (k->type != YNODE_SCALAR || k->null)
			return config_fail(c, k, "a key must be a string, found %s", found(c, k));
		name = config_str(c, k);
		for (i = 0; i < nkeys; i++)
			if (!strcmp(name, keys[i].name))
				break;
		if (i == nkeys)
			return unknown_key(c, k, keys, nkeys, hints, nhints);
		slot = keys[i].slot;
		if (keyn[slot]) {
			if (!strcmp(config_str(c, keyn[slot]), name))
				return config_fail(c, k, "duplicate key %s (first at line %u)",
						   config_show(c, k), keyn[slot]->line);
			return config_fail(c, k, "%s repeats %s (line %u): give one of them",
					   config_show(c, k), config_show(c, keyn[slot]),
					   keyn[slot]->line);
		}
		vals[slot] = v;
		keyn[slot] = k;
	}
	return 0;
}

int config_missing(struct config_ctx *c, const struct ynode *map, const char *key)
{
	return config_fail(c, map, "missing required key \"%s\"", key);
}

/* ---- scalars ------------------------------------------------------------------------ */

/* Pushes key k on the path; returns the length to go back to. */
static size_t enter(struct config_ctx *c, const struct ynode *k)
{
	return config_push_key(c, config_str(c, k));
}

/* Pops back to saved when r is 0 (on failure the path stays for the
 * message already written) and returns r. */
static int leave(struct config_ctx *c, size_t saved, int r)
{
	if (r == 0)
		config_pop(c, saved);
	return r;
}

int config_strdup(struct config_ctx *c, const char *s, char **out)
{
	char *d = strdup(s);

	if (!d)
		return config_fail_errno(c, -ENOMEM, NULL, "out of memory");
	free(*out);
	*out = d;
	return 0;
}

int config_get_string(struct config_ctx *c, const struct ynode *k, const struct ynode *v,
		      bool allow_empty, char **out)
{
	size_t saved;
	int r;

	if (!v)
		return 0;
	saved = enter(c, k);
	r = config_want_scalar(c, v);
	if (r == 0 && !allow_empty && v->len == 0)
		r = config_fail(c, v, "is empty");
	if (r == 0)
		r = config_strdup(c, config_str(c, v), out);
	return leave(c, saved, r);
}

int config_get_uint(struct config_ctx *c, const struct ynode *k, const struct ynode *v,
		    unsigned min, unsigned max, unsigned *out)
{
	const char *why = NULL;
	size_t saved;
	int r;

	if (!v)
		return 0;
	saved = enter(c, k);
	r = config_want_scalar(c, v);
	if (r == 0 && pp_parse_uint(config_str(c, v), min, max, out, &why) < 0) {
		if (strspn(config_str(c, v), "0123456789") == v->len)
			r = config_fail(c, v, "%s is not in %u..%u", config_show(c, v), min, max);
		else
			r = config_fail(c, v, "%s %s", config_show(c, v), why);
	}
	return leave(c, saved, r);
}

int config_get_port(struct config_ctx *c, const struct ynode *k, const struct ynode *v,
		    bool allow_zero, uint16_t *out)
{
	const char *why = NULL;
	size_t saved;
	int r;

	if (!v)
		return 0;
	saved = enter(c, k);
	r = config_want_scalar(c, v);
	if (r == 0 && pp_parse_port(config_str(c, v), allow_zero, out, &why) < 0)
		r = config_fail(c, v, "%s %s", config_show(c, v), why);
	return leave(c, saved, r);
}

/* A number of seconds in the shortest exact unit: "1s", "7d", "0.5s". */
static const char *show_seconds(double s, char *buf, size_t len)
{
	static const struct {
		double mul;
		const char *unit;
	} units[] = {{604800, "w"}, {86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (s >= units[i].mul && fmod(s, units[i].mul) == 0) {
			snprintf(buf, len, "%.0f%s", s / units[i].mul, units[i].unit);
			return buf;
		}
	if (s < 1)
		snprintf(buf, len, "%gms", s * 1000);
	else
		snprintf(buf, len, "%gs", s);
	return buf;
}

int pp_config_parse_duration(const char *s, double *ret)
{
	static const struct {
		const char *unit;
		double mul;
	} units[] = {{"w", 604800}, {"d", 86400}, {"h", 3600}, {"m", 60}, {"s", 1}, {"ms", 0.001}};
	size_t next_unit = 0; /* units must come in this order, each at most once */
	double total = 0;
	const char *p = s;

	if (!s || !*s)
		return -EINVAL;
	while (*p) {
		const char *start = p;
		size_t digits = 0, u;
		char num[40];
		double v;

		while ((*p >= '0' && *p <= '9') || *p == '.') {
			digits += *p != '.';
			p++;
		}
		if (!digits || p - start > 30 ||
		    memchr(start, '.', (size_t)(p - start)) !=
			memrchr(start, '.', (size_t)(p - start)))
			return -EINVAL;
		memcpy(num, start, (size_t)(p - start));
		num[p - start] = '\0';
		v = strtod(num, NULL);
		if (!*p && start == s) {
			total = v; /* bare seconds */
			break;
		}
		for (u = next_unit; u < sizeof(units) / sizeof(units[0]); u++) {
			size_t ul = strlen(units[u].unit);

			/* "m" must not take the "m" of "ms" */
			if (!strncmp(p, units[u].unit, ul) &&
			    !(ul == 1 && p[0] == 'm' && p[1] == 's'))
				break;
		}
		if (u == sizeof(units) / sizeof(units[0]))
			return -EINVAL;
		total += v * units[u].mul;
		p += strlen(units[u].unit);
		next_unit = u + 1;
	}
	if (!isfinite(total))
		return -EINVAL;
	*ret = total;
	return 0;
}

int config_get_seconds(struct config_ctx *c, const struct ynode *k, const struct ynode *v,
		       double min, double max, double *out)
{
	char b1[32];
	size_t saved;
	double d;
	int r;

	if (!v)
		return 0;
	saved = enter(c, k);
	r = config_want_scalar(c, v);
	if (r == 0) {
		if (pp_config_parse_duration(config_str(c, v), &d) < 0)
			r = config_fail(c, v,
					"%s is not a number of seconds (e.g. 10, 0.5, 30s, 5m, 1h)",
					config_show(c, v));
		else if (d < min && min <= 0.001)
			r = config_fail(c, v, "%s must be more than 0", config_show(c, v));
		else if (d < min)
			r = config_fail(c, v, "%s is less than %s", config_show(c, v),
					show_seconds(min, b1, sizeof(b1)));
		else if (d > max)
			r = config_fail(c, v, "%s is more than %s", config_show(c, v),
					show_seconds(max, b1, sizeof(b1)));
		else
			*out = d;
	}
	return leave(c, saved, r);
}

int config_get_bool(struct config_ctx *c, const struct ynode *k, const struct ynode *v, bool *out)
{
	static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes",
					  "YES",  "on",   "On",   "ON"};
	static const char *const no[] = {"false", "False", "FALSE", "no", "No",
					 "NO",    "off",   "Off",   "OFF"};
	size_t saved;
	int r;

	if (!v)
		return 0;
	saved = enter(c, k);
	r = config_want_scalar(c, v);
	if (r == 0) {
		const char *s = config_str(c, v);
		size_t i;

		for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
			if (!strcmp(s, yes[i])) {
				*out = true;
				break;
			}
			if (!strcmp(s, no[i])) {
				*out = false;
				break;
			}
		}
		if (i == sizeof(yes) / sizeof(yes[0]))
			r = config_fail(c, v, "%s is not true or false", config_show(c, v));
	}
	return leave(c, saved, r);
}

int config_get_choice(struct config_ctx *c, const struct ynode *k, const struct ynode *v,
		      const char *const *names, size_t n, int *out)
{
	char list[256];
	size_t saved, used = 0;
	int r;

	if (!v)
		return 0;
	saved = enter(c, k);
	r = config_want_scalar(c, v);
	if (r == 0) {
		for (size_t i = 0; i < n; i++)
			if (!strcmp(config_str(c, v), names[i])) {
				*out = (int)i;
				return leave(c, saved, 0);
			}
		list[0] = '\0';
		for (size_t i = 0; i < n && used < sizeof(list); i++) {
			int w = snprintf(list + used, sizeof(list) - used, "%s%s",
					 i == 0       ? ""
					 : i + 1 == n ? " or "
						      : ", ",
					 names[i]);

			if (w < 0)
				break;
			used += (size_t)w;
		}
		r = config_fail(c, v, "%s is not %s", config_show(c, v), list);
	}
	return leave(c, saved, r);
}

int config_get_host(struct config_ctx *c, const struct ynode *k, const struct ynode *v, char **out)
{
	const char *why = NULL;
	size_t saved;
	int r;

	if (!v)
		return 0;
	saved = enter(c, k);
	r = config_want_scalar(c, v);
	if (r == 0 && pp_parse_host(config_str(c, v), &why) < 0)
		r = config_fail(c, v, "%s %s", config_show(c, v), why ? why : "is not a host");
	if (r == 0)
		r = config_strdup(c, config_str(c, v), out);
	return leave(c, saved, r);
}

int config_get_ip(struct config_ctx *c, const struct ynode *k, const struct ynode *v,
		  struct pp_addr *out)
{
	const char *why = NULL;
	struct pp_addr a;
	size_t saved;
	int r;

	if (!v)
		return 0;
	saved = enter(c, k);
	r = config_want_scalar(c, v);
	if (r == 0 && pp_parse_ip(config_str(c, v), 0, &a, &why) < 0)
		r = config_fail(c, v, "%s %s", config_show(c, v),
				why ? why : "is not an IP address");
	if (r == 0)
		*out = a;
	return leave(c, saved, r);
}

int config_get_family(struct config_ctx *c, const struct ynode *k, const struct ynode *v, int *out)
{
	static const char *const names[] = {"ipv4", "ipv6", "any"};
	static const int families[] = {AF_INET, AF_INET6, AF_UNSPEC};
	int i = 0, r;

	if (!v)
		return 0;
	r = config_get_choice(c, k, v, names, 3, &i);
	if (r == 0)
		*out = families[i];
	return r;
}

/* A 65536-bit set of ports. */
struct portbits {
	uint64_t w[1024];
};

/* One item of a port list (a list entry or the whole string): a port
 * number, or an nmap -p spec, into set. */
static int ports_item(struct config_ctx *c, const struct ynode *v, struct portbits *set)
{
	const char *s = config_str(c, v), *why = NULL;
	struct pp_ports p;
	int r = config_want_scalar(c, v);

	if (r < 0)
		return r;
	if (*s && strspn(s, "0123456789") == strlen(s)) {
		uint16_t port;

		if (pp_parse_port(s, 0, &port, &why) < 0)
			return config_fail(c, v, "%s %s", config_show(c, v), why);
		set->w[port / 64] |= 1ull << (port % 64);
		return 0;
	}
	r = pp_ports_parse(s, &p, &why);
	if (r == -ENOMEM)
		return config_fail_errno(c, -ENOMEM, NULL, "out of memory");
	if (r < 0)
		return config_fail(c, v, "%s is not a port list: %s", config_show(c, v),
				   why ? why : "bad syntax");
	for (size_t i = 0; i < p.n; i++)
		set->w[p.port[i] / 64] |= 1ull << (p.port[i] % 64);
	pp_ports_free(&p);
	return 0;
}

int config_get_ports(struct config_ctx *c, const struct ynode *k, const struct ynode *v,
		     struct pp_ports *out)
{
	struct portbits *set;
	size_t saved, n = 0;
	int r = 0;

	if (!v)
		return 0;
	saved = config_push_key(c, config_str(c, k));
	set = calloc(1, sizeof(*set));
	if (!set)
		return config_fail_errno(c, -ENOMEM, NULL, "out of memory");
	if (v->type == YNODE_MAP) {
		r = config_fail(c, v,
				"expected a list of ports or a string like \"22,80,8000-8010\", "
				"found a mapping");
	} else if (v->type == YNODE_SEQ) {
		size_t i = 0;

		for (const struct ynode *e = config_first(c, v); e && r == 0;
		     e = config_next(c, e), i++) {
			size_t s2 = config_push_index(c, i);

			r = ports_item(c, e, set);
			if (r == 0)
				config_pop(c, s2);
		}
	} else if (!v->null) {
		r = ports_item(c, v, set);
	}
	if (r == 0) {
		for (size_t w = 0; w < 1024; w++)
			n += (size_t)__builtin_popcountll(set->w[w]);
		pp_ports_free(out);
		if (n) {
			out->port = malloc(n * sizeof(*out->port));
			if (!out->port)
				r = config_fail_errno(c, -ENOMEM, NULL, "out of memory");
		}
		for (unsigned p = 1; r == 0 && p < 65536; p++)
			if (set->w[p / 64] >> (p % 64) & 1)
				out->port[out->n++] = (uint16_t)p;
	}
	free(set);
	return leave(c, saved, r);
}
