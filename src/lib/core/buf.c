/* buf.c: capped growable buffer.
 *
 * Growth doubles up to the cap; the first failure sticks so that a writer can
 * append a whole record and check once at the end. */
#include "portprobe/buf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pp_buf_init(struct pp_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
	b->err = 0;
}

void pp_buf_release(struct pp_buf *b)
{
	free(b->data);
	pp_buf_init(b, b->max);
}

void pp_buf_reset(struct pp_buf *b)
{
	b->len = 0;
	b->err = 0;
	if (b->data)
		b->data[0] = '\0';
}

/* Makes room for n more bytes plus a NUL; 0 or the sticky error. */
static int buf_reserve(struct pp_buf *b, size_t n)
{
	size_t need, cap;
	char *p;

	if (b->err)
		return b->err;
	if (n > b->max || b->len > b->max - n) {
		b->err = -E2BIG;
		return b->err;
	}
	need = b->len + n + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p) {
		b->err = -ENOMEM;
		return b->err;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

int pp_buf_put(struct pp_buf *b, const void *p, size_t n)
{
	int r = buf_reserve(b, n);

	if (r < 0)
		return r;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int pp_buf_puts(struct pp_buf *b, const char *s)
{
	return pp_buf_put(b, s, strlen(s));
}

int pp_buf_vprintf(struct pp_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n, r;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		if (!b->err)
			b->err = -EINVAL;
		return b->err;
	}
	r = buf_reserve(b, (size_t)n);
	if (r < 0)
		return r;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int pp_buf_printf(struct pp_buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = pp_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

int pp_buf_put_u64(struct pp_buf *b, unsigned long long v)
{
	char digits[24];
	size_t i = sizeof(digits);

	do {
		digits[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return pp_buf_put(b, digits + i, sizeof(digits) - i);
}
