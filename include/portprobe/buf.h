/* buf.h: a growable byte buffer with a size cap (curl's dynbuf idea).
 * Writers format into one; the command decides where the bytes go. Once an
 * append fails (out of memory or over the cap) the buffer stays failed and
 * every later append is a no-op returning the same error. */
#ifndef PORTPROBE_BUF_H
#define PORTPROBE_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct pp_buf {
	char *data; /* NUL-terminated when len > 0 */
	size_t len; /* bytes used, without the NUL */
	size_t cap; /* bytes allocated */
	size_t max; /* cap on len */
	int err;    /* first failure (-ENOMEM, -E2BIG) or 0 */
};

/* Initialises an empty buffer that will hold at most max bytes. No allocation. */
void pp_buf_init(struct pp_buf *b, size_t max);
/* Frees the contents; the buffer can be reused after pp_buf_init(). */
void pp_buf_release(struct pp_buf *b);
/* Empties the buffer, keeping its memory and clearing a failure. */
void pp_buf_reset(struct pp_buf *b);
int pp_buf_put(struct pp_buf *b, const void *p, size_t n);
int pp_buf_puts(struct pp_buf *b, const char *s);
/* Appends v in decimal, without printf's cost (hot writers). */
int pp_buf_put_u64(struct pp_buf *b, unsigned long long v);
int pp_buf_printf(struct pp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int pp_buf_vprintf(struct pp_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#endif
