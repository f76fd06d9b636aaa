/* tls_out.c: what the tls writers share: one accepted suite resolved to its
 * names and facts, the order suites are listed in, days and times, and the
 * write-out of a formatted buffer.
 *
 * The listing order is decided here once so text and JSON agree: a protocol
 * the server orders is listed in the server's order; any other is listed
 * strongest first, which is visibly a sort and so cannot be mistaken for a
 * preference (research/tls.md lesson 3: sslscan's "Preferred" mislabel). */
#include "out/tls_out.h"
#include "tls/x509sum.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "portprobe/result.h"

void tls_out_suite_of(const struct tls_accepted *a, struct tls_out_suite *out)
{
	const struct tls_suite *s;

	memset(out, 0, sizeof(*out));
	out->proto = a->proto;
	if (a->proto == TLS_P_SSL2) {
		const struct tls_sslv2_suite *v2 = tls_sslv2_by_id(a->v2_id);

		snprintf(out->id, sizeof(out->id), "0x%06X", (unsigned)(a->v2_id & 0xFFFFFF));
		if (v2) {
			/* SSLv2 kinds: RSA key transport, MD5 MAC, all insecure */
			out->known = true;
			out->iana = v2->name;
			out->openssl = v2->openssl;
			out->kx = "RSA";
			out->au = "RSA";
			out->enc = v2->enc;
			out->mac = "MD5";
			out->bits = v2->strength_bits;
			out->key_bits = v2->key_bits;
			out->strength = TLS_STRENGTH_INSECURE;
		}
		return;
	}
	snprintf(out->id, sizeof(out->id), "0x%04X", a->id);
	s = tls_suite_by_id(a->id);
	if (s) {
		out->known = true;
		out->iana = s->iana;
		out->openssl = s->openssl;
		out->kx = s->kx;
		out->au = s->au;
		out->enc = s->enc;
		out->mac = s->mac;
		out->bits = s->strength_bits;
		out->key_bits = s->key_bits;
		out->aead = s->aead;
		out->pfs = s->pfs;
		out->strength = tls_suite_strength(s);
	}
	out->group_id = a->group;
	out->group = a->group ? tls_group_by_id(a->group) : NULL;
	if (a->dh_bits)
		out->kex_bits = a->dh_bits;
	else if (out->group)
		out->kex_bits = out->group->bits;
}

const char *tls_out_proto_name(enum tls_proto p)
{
	const char *n = tls_version_name(tls_proto_version(p));

	return n ? n : "?";
}

/* Strongest first: class, strength bits, then the code point. */
static int cmp_strength(const struct tls_accepted *x, const struct tls_accepted *y)
{
	struct tls_out_suite a, b;

	tls_out_suite_of(x, &a);
	tls_out_suite_of(y, &b);
	if (a.known != b.known)
		return a.known ? -1 : 1;
	if (a.known && a.strength != b.strength)
		return a.strength > b.strength ? -1 : 1;
	if (a.bits != b.bits)
		return a.bits > b.bits ? -1 : 1;
	if (x->v2_id != y->v2_id)
		return x->v2_id < y->v2_id ? -1 : 1;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return 0;
}

long tls_out_proto_suites(const struct tls_report *r, enum tls_proto p, size_t **ret)
{
	size_t n = 0, k = 0, *idx;
	bool *used;

	*ret = NULL;
	for (size_t i = 0; i < r->nciphers; i++)
		n += r->ciphers[i].proto == p;
	if (!n)
		return 0;
	idx = malloc(n * sizeof(*idx));
	used = calloc(r->nciphers, sizeof(*used));
	if (!idx || !used) {
		free(idx);
		free(used);
		return -ENOMEM;
	}
	if (r->order[p] == TLS_ORDER_SERVER && r->server_order[p]) {
		for (size_t j = 0; j < r->nserver_order[p]; j++)
			for (size_t i = 0; i < r->nciphers; i++)
				if (!used[i] && r->ciphers[i].proto == p &&
				    r->ciphers[i].id == r->server_order[p][j]) {
					used[i] = true;
					idx[k++] = i;
					break;
				}
		for (size_t i = 0; i < r->nciphers; i++)
			if (!used[i] && r->ciphers[i].proto == p)
				idx[k++] = i;
	} else {
		/* insertion sort: a protocol has at most a few hundred suites */
		for (size_t i = 0; i < r->nciphers; i++) {
			size_t j;

			if (r->ciphers[i].proto != p)
				continue;
			for (j = k;
			     j > 0 && cmp_strength(&r->ciphers[idx[j - 1]], &r->ciphers[i]) > 0;
			     j--)
				idx[j] = idx[j - 1];
			idx[j] = i;
			k++;
		}
	}
	free(used);
	*ret = idx;
	return (long)k;
}

int64_t tls_out_days(time_t t, time_t now)
{
	return tls_days_left(t, now);
}

char *tls_out_time(time_t t, char *buf)
{
	return tls_time_iso(t, buf);
}

char *tls_out_target(const struct tls_report *r, char *buf, size_t len)
{
	const char *h = r->host ? r->host : "";

	if (strchr(h, ':'))
		snprintf(buf, len, "[%s]:%u", h, r->port);
	else
		snprintf(buf, len, "%s:%u", h, r->port);
	return buf;
}

size_t tls_out_found_by(unsigned found_by, const char **names, size_t max)
{
	static const struct {
		unsigned bit;
		const char *name;
	} probes[] = {
	    {TLS_CERT_PROBE_RSA, "rsa"},       {TLS_CERT_PROBE_ECDSA, "ecdsa"},
	    {TLS_CERT_PROBE_EDDSA, "eddsa"},   {TLS_CERT_PROBE_SNI, "sni"},
	    {TLS_CERT_PROBE_NO_SNI, "no-sni"},
	};
	size_t n = 0;

	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]) && n < max; i++)
		if (found_by & probes[i].bit)
			names[n++] = probes[i].name;
	return n;
}

const char *tls_out_error_class(const struct tls_report *r)
{
	return r->error_kind ? r->error_kind : pp_error_message(r->error);
}

int tls_out_flush(FILE *f, struct pp_buf *b)
{
	if (b->err)
		return b->err;
	if (b->len && fwrite(b->data, 1, b->len, f) != b->len)
		return -EIO;
	if (fflush(f) != 0)
		return -EIO;
	return 0;
}
