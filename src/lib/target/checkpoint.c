/* checkpoint.c: reads and writes the resume file of `portprobe scan`.
 *
 * Reader and writer live together so that what one writes the other takes
 * back exactly (the format is in portprobe/checkpoint.h). The reader works on
 * a buffer the caller filled, so it never touches a file and can be fuzzed;
 * it is strict on purpose: a checkpoint decides which (host, port) pairs a
 * resumed run skips, so a line it does not fully understand (trailing bytes,
 * a number past 2^64-1, a second seed, an index outside the scan) must stop
 * the resume instead of silently skipping the wrong pairs. Problems inside a
 * line are reported with the line's number; a missing piece is reported for
 * the file as a whole. The writer streams to a FILE so a checkpoint with
 * millions of done indices never has to fit in one buffer. */
#include "portprobe/checkpoint.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define CHECKPOINT_MAGIC "portprobe-checkpoint 1"

/* What the reader has seen so far. */
struct reader {
	struct pp_checkpoint cp;         /* being filled; released on failure */
	size_t capdone;                  /* entries allocated in cp.done */
	bool magic, seed, total, wm;     /* lines seen */
	bool end;                        /* the end line was seen */
	unsigned long wm_line;           /* line of the watermark */
	unsigned long first_done_line;   /* line of cp.done[0] */
	unsigned long last_done_line;    /* line of cp.done[ndone - 1] */
	struct pp_checkpoint_error *err; /* where failures are described; may be NULL */
};

static int fail(struct reader *r, int ret, unsigned long line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Describes a failure in r->err; returns ret (a negative errno). */
static int fail(struct reader *r, int ret, unsigned long line, const char *fmt, ...)
{
	va_list ap;

	if (!r->err)
		return ret;
	r->err->line = line;
	va_start(ap, fmt);
	vsnprintf(r->err->msg, sizeof(r->err->msg), fmt, ap);
	va_end(ap);
	return ret;
}

/* s[0..n) as a decimal number: digits only, at least one. 0, -EINVAL or
 * -ERANGE (above UINT64_MAX). */
static int parse_dec(const char *s, size_t n, uint64_t *ret)
{
	uint64_t v = 0;

	if (n == 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned char)s[i] - '0';

		if (d > 9)
			return -EINVAL;
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*ret = v;
	return 0;
}

/* "seed N", "total N", "watermark N": the number after the keyword. */
static int read_number(struct reader *r, unsigned long line, const char *name, const char *s,
		       size_t n, bool *seen, uint64_t *v)
{
	int e;

	if (*seen)
		return fail(r, -EINVAL, line, "%s given twice", name);
	e = parse_dec(s, n, v);
	if (e == -ERANGE)
		return fail(r, -EINVAL, line, "%s is above %" PRIu64, name, UINT64_MAX);
	if (e < 0)
		return fail(r, -EINVAL, line, "%s is not a decimal number", name);
	*seen = true;
	return 0;
}

/* "done I J K": indices separated by one space, each above the one before. */
static int read_done(struct reader *r, unsigned long line, const char *s, size_t n)
{
	struct pp_checkpoint *cp = &r->cp;
	size_t i = 0;

	if (n == 0)
		return fail(r, -EINVAL, line, "bad index list");
	while (i < n) {
		size_t j = i;
		uint64_t v;
		int e;

		while (j < n && s[j] != ' ')
			j++;
		e = parse_dec(s + i, j - i, &v);
		if (e == -ERANGE)
			return fail(r, -EINVAL, line, "done index is above %" PRIu64, UINT64_MAX);
		if (e < 0 || (j < n && j + 1 == n))
			return fail(r, -EINVAL, line, "bad index list");
		if (cp->ndone && v <= cp->done[cp->ndone - 1])
			return fail(r, -EINVAL, line, "indices out of order");
		if (cp->ndone == r->capdone) {
			size_t cap = r->capdone ? r->capdone * 2 : 256;
			uint64_t *nd;

			if (cap > SIZE_MAX / sizeof(*nd))
				return fail(r, -ENOMEM, 0, "out of memory");
			nd = realloc(cp->done, cap * sizeof(*nd));
			if (!nd)
				return fail(r, -ENOMEM, 0, "out of memory");
			cp->done = nd;
			r->capdone = cap;
		}
		if (!cp->ndone)
			r->first_done_line = line;
		r->last_done_line = line;
		cp->done[cp->ndone++] = v;
		i = j + 1;
	}
	return 0;
}

/* "arg ESCAPED": one more argument, unescaped. */
static int read_arg(struct reader *r, unsigned long line, const char *s, size_t n)
{
	struct pp_checkpoint *cp = &r->cp;
	char **nv, *a, *o;

	if (cp->argc >= INT_MAX - 1)
		return fail(r, -EINVAL, line, "too many arguments");
	a = malloc(n + 1);
	if (!a)
		return fail(r, -ENOMEM, 0, "out of memory");
	o = a;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\\') {
			*o++ = s[i];
			continue;
		}
		if (++i == n || (s[i] != '\\' && s[i] != 'n' && s[i] != 'r')) {
			free(a);
			return fail(r, -EINVAL, line, "bad escape in arg");
		}
		*o++ = s[i] == 'n' ? '\n' : s[i] == 'r' ? '\r' : '\\';
	}
	*o = '\0';
	nv = realloc(cp->argv, ((size_t)cp->argc + 2) * sizeof(*nv));
	if (!nv) {
		free(a);
		return fail(r, -ENOMEM, 0, "out of memory");
	}
	cp->argv = nv;
	cp->argv[cp->argc++] = a;
	cp->argv[cp->argc] = NULL;
	return 0;
}

/* True when the line s[0..n) is "key" followed by a space; *val is the rest. */
static bool keyword(const char *s, size_t n, const char *key, const char **val, size_t *vlen)
{
	size_t k = strlen(key);

	if (n <= k || memcmp(s, key, k) || s[k] != ' ')
		return false;
	*val = s + k + 1;
	*vlen = n - k - 1;
	return true;
}

/* One line after the magic, without its newline. */
static int read_line(struct reader *r, unsigned long line, const char *s, size_t n)
{
	struct pp_checkpoint *cp = &r->cp;
	const char *v;
	size_t vn;

	if (n == strlen(CHECKPOINT_MAGIC) && !memcmp(s, CHECKPOINT_MAGIC, n))
		return fail(r, -EINVAL, line, "portprobe-checkpoint given twice");
	if (keyword(s, n, "arg", &v, &vn))
		return read_arg(r, line, v, vn);
	if (keyword(s, n, "seed", &v, &vn))
		return read_number(r, line, "seed", v, vn, &r->seed, &cp->seed);
	if (keyword(s, n, "total", &v, &vn))
		return read_number(r, line, "total", v, vn, &r->total, &cp->total);
	if (keyword(s, n, "watermark", &v, &vn)) {
		r->wm_line = line;
		return read_number(r, line, "watermark", v, vn, &r->wm, &cp->watermark);
	}
	if (keyword(s, n, "done", &v, &vn))
		return read_done(r, line, v, vn);
	if (n == 3 && !memcmp(s, "end", 3)) {
		r->end = true;
		return 0;
	}
	return fail(r, -EINVAL, line, "unexpected line");
}

/* The lines of buf; 0 or the first failure. */
static int read_lines(struct reader *r, const char *buf, size_t len)
{
	const char *nul = memchr(buf, '\0', len);
	unsigned long line = 0;
	size_t pos = 0;

	if (nul) {
		unsigned long at = 1;

		for (const char *p = buf; p < nul; p++)
			at += *p == '\n';
		return fail(r, -EINVAL, at, "holds a NUL byte");
	}
	while (pos < len) {
		const char *s = buf + pos, *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos;
		int e;

		line++;
		pos += n + 1;
		if (r->end)
			return fail(r, -EINVAL, line, "data after end");
		if (n == 0 || s[0] == '#')
			continue;
		if (!r->magic) {
			if (n != strlen(CHECKPOINT_MAGIC) || memcmp(s, CHECKPOINT_MAGIC, n))
				break;
			r->magic = true;
		} else {
			e = read_line(r, line, s, n);
			if (e < 0)
				return e;
		}
		if (!nl)
			return fail(r, -EINVAL, line, "the last line has no newline");
	}
	if (!r->magic)
		return fail(r, -EINVAL, 0, "is not a portprobe scan checkpoint");
	if (!r->end || !r->seed || !r->total || !r->wm)
		return fail(r, -EINVAL, 0, "checkpoint is incomplete");
	return 0;
}

/* The values against each other, once every line is read. */
static int check_ranges(struct reader *r)
{
	const struct pp_checkpoint *cp = &r->cp;

	if (cp->watermark > cp->total)
		return fail(r, -EINVAL, r->wm_line, "watermark %" PRIu64 " is above total %" PRIu64,
			    cp->watermark, cp->total);
	if (cp->ndone && cp->done[0] < cp->watermark)
		return fail(r, -EINVAL, r->first_done_line,
			    "done index %" PRIu64 " is below the watermark %" PRIu64, cp->done[0],
			    cp->watermark);
	if (cp->ndone && cp->done[cp->ndone - 1] >= cp->total)
		return fail(r, -EINVAL, r->last_done_line,
			    "done index %" PRIu64 " is not below total %" PRIu64,
			    cp->done[cp->ndone - 1], cp->total);
	return 0;
}

int pp_checkpoint_parse(const char *buf, size_t len, struct pp_checkpoint *ret,
			struct pp_checkpoint_error *err)
{
	struct reader r;
	int e;

	memset(&r, 0, sizeof(r));
	r.err = err;
	r.cp.argv = calloc(2, sizeof(*r.cp.argv));
	if (!r.cp.argv)
		return fail(&r, -ENOMEM, 0, "out of memory");
	r.cp.argv[0] = strdup("scan");
	if (!r.cp.argv[0]) {
		e = fail(&r, -ENOMEM, 0, "out of memory");
		goto out;
	}
	r.cp.argc = 1;
	e = read_lines(&r, len ? buf : "", len);
	if (e == 0)
		e = check_ranges(&r);
out:
	if (e < 0) {
		pp_checkpoint_release(&r.cp);
		return e;
	}
	*ret = r.cp;
	return 0;
}

void pp_checkpoint_release(struct pp_checkpoint *cp)
{
	if (!cp)
		return;
	for (int i = 0; cp->argv && i < cp->argc; i++)
		free(cp->argv[i]);
	free(cp->argv);
	free(cp->done);
	memset(cp, 0, sizeof(*cp));
}

/* An argument, with \, newline and CR escaped. */
static void put_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else if (*s == '\r')
			fputs("\\r", f);
		else
			fputc(*s, f);
	}
}

int pp_checkpoint_write(FILE *f, const struct pp_checkpoint *cp, const char *path)
{
	if (path) {
		/* a comment must stay one line: control characters become '?' */
		fputs("# portprobe scan checkpoint; continue with: portprobe scan --resume ", f);
		for (const char *p = path; *p; p++)
			fputc((unsigned char)*p < 0x20 ? '?' : *p, f);
		fputc('\n', f);
	}
	fputs(CHECKPOINT_MAGIC "\n", f);
	for (int i = 1; i < cp->argc; i++) {
		fputs("arg ", f);
		put_escaped(f, cp->argv[i]);
		fputc('\n', f);
	}
	fprintf(f, "seed %" PRIu64 "\ntotal %" PRIu64 "\nwatermark %" PRIu64 "\n", cp->seed,
		cp->total, cp->watermark);
	for (size_t i = 0; i < cp->ndone; i++)
		fprintf(f, "%s%" PRIu64 "%s", i % 16 ? " " : "done ", cp->done[i],
			i % 16 == 15 || i + 1 == cp->ndone ? "\n" : "");
	fputs("end\n", f);
	return ferror(f) ? -EIO : 0;
}
