/* fuzz_starttls.c: the STARTTLS state machines on arbitrary server bytes.
 * Byte 0 picks the protocol (its high bit an IPv6 'to' for XMPP), byte 1 the
 * piece size (1..64, or 0 for everything at once); the rest is what the
 * server sends. The bytes are fed twice, in pieces and in one call, and both
 * runs must end alike: same result, same error, and the same bytes sent
 * unless the dialog failed (a failed call takes back what it queued, so a
 * MySQL SSLRequest queued before trailing bytes differs). On every call the
 * result is one of the three, FAIL sticks, an error exists exactly when
 * FAIL, it is printable and bounded, and the state stays inside its caps. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "portprobe/buf.h"
#include "tls/starttls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_state(const struct tls_starttls_state *st, int r, int prev)
{
	const char *e = tls_starttls_error(st);
	size_t n = strlen(e);

	if (r != TLS_STARTTLS_MORE && r != TLS_STARTTLS_READY && r != TLS_STARTTLS_FAIL)
		abort();
	if (prev == TLS_STARTTLS_FAIL && r != TLS_STARTTLS_FAIL)
		abort();
	if ((r == TLS_STARTTLS_FAIL) != (n > 0) || n >= TLS_STARTTLS_ERROR_MAX)
		abort();
	for (size_t i = 0; i < n; i++)
		if (e[i] < 0x20 || e[i] > 0x7e)
			abort();
	if (st->len > TLS_STARTTLS_MSG_MAX || st->total > TLS_STARTTLS_TOTAL_MAX)
		abort();
}

/* Feeds in (n bytes) piece bytes at a time (0: at once); the bytes sent
 * pile up in all. Returns the last result. */
static int run(struct tls_starttls_state *st, enum tls_starttls proto, const char *host,
	       const uint8_t *in, size_t n, size_t piece, struct pp_buf *all)
{
	struct pp_buf send;
	int r, prev;

	pp_buf_init(&send, 4096);
	tls_starttls_init(st, proto, host);
	r = tls_starttls_step(st, NULL, 0, &send);
	check_state(st, r, TLS_STARTTLS_MORE);
	for (size_t off = 0; off < n;) {
		size_t k = piece && piece < n - off ? piece : n - off;

		pp_buf_reset(&send);
		prev = r;
		r = tls_starttls_step(st, in + off, k, &send);
		check_state(st, r, prev);
		if (send.len > 512)
			abort(); /* no request is that long */
		pp_buf_put(all, send.data, send.len);
		off += k;
	}
	pp_buf_release(&send);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tls_starttls_state a, b;
	struct pp_buf sa, sb;
	enum tls_starttls proto;
	const char *host;
	size_t piece;
	int ra, rb;

	if (size < 2)
		return 0;
	proto = (enum tls_starttls)(data[0] % TLS_STARTTLS_COUNT);
	host = data[0] & 0x80 ? "2001:db8::1%eth0" : "example.com";
	piece = data[1] % 65;
	pp_buf_init(&sa, 1 << 20);
	pp_buf_init(&sb, 1 << 20);
	ra = run(&a, proto, host, data + 2, size - 2, piece, &sa);
	rb = run(&b, proto, host, data + 2, size - 2, 0, &sb);
	if (ra != rb || strcmp(tls_starttls_error(&a), tls_starttls_error(&b)))
		abort();
	if (ra != TLS_STARTTLS_FAIL &&
	    (sa.len != sb.len || (sa.len && memcmp(sa.data, sb.data, sa.len))))
		abort();
	if (tls_starttls_abort(&a, "connection closed") != TLS_STARTTLS_FAIL)
		abort();
	check_state(&a, TLS_STARTTLS_FAIL, TLS_STARTTLS_FAIL);
	pp_buf_release(&sa);
	pp_buf_release(&sb);
	return 0;
}
