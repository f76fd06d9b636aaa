/* tls_text.c: `portprobe tls -o text`, readable sections per target.
 *
 * Layout (tests/unit/test_tls_out.c holds whole examples, byte for byte):
 *
 *   host:port [ip]                       header, then SNI, STARTTLS, Scanned
 *   Error / Protocols / Cipher suites / Key exchange groups / Certificates /
 *   Notes                                each only when it has something to say
 *
 * Labels are indented by two and padded to one column so values line up;
 * suites are one line each (strength, strength bits, IANA name, OpenSSL name,
 * the key exchange the server chose), with the name columns as wide as the
 * longest name of the target. A protocol the server orders is listed in its
 * order and says so; any other is listed strongest first and says that the
 * listing is a sort, never that a suite is preferred. Nothing is coloured:
 * the strength word carries the grade. Each target ends with an empty line. */
#include <stdlib.h>
#include <string.h>

#include "out/tls_out.h"
#include "portprobe/output.h"
#include "portprobe/parse.h"

#define LABEL  "  %-15s"       /* a label under a section or the header */
#define CLABEL "        %-15s" /* a label under a chain element */

/* Appends the line in *line to b without trailing blanks, then a newline. */
static void put_line(struct pp_buf *b, struct pp_buf *line)
{
	size_t n = line->len;

	while (n && line->data[n - 1] == ' ')
		n--;
	if (n)
		pp_buf_put(b, line->data, n);
	pp_buf_puts(b, "\n");
	pp_buf_reset(line);
}

/* Appends s with what a terminal would act on made harmless: C0 controls,
 * DEL and the UTF-8 encodings of the C1 controls (U+0080..U+009F, CSI among
 * them) become '?'. Server-supplied strings (names, notes, details) go
 * through here; x509sum already escapes C0 controls in names. */
static void put_safe(struct pp_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	const unsigned char *run = p;

	for (; *p; p++) {
		size_t skip;

		if (*p < 0x20 || *p == 0x7f)
			skip = 1;
		else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			skip = 2;
		else
			continue;
		pp_buf_put(b, run, (size_t)(p - run));
		pp_buf_puts(b, "?");
		p += skip - 1;
		run = p + 1;
	}
	pp_buf_put(b, run, (size_t)(p - run));
}

static const char *plural(long long n)
{
	return n == 1 || n == -1 ? "" : "s";
}

/* "89 days left", "EXPIRED, days left -4" */
static void put_days_left(struct pp_buf *b, int64_t days)
{
	if (days >= 0)
		pp_buf_printf(b, "%lld day%s left", (long long)days, plural(days));
	else
		pp_buf_printf(b, "EXPIRED, days left %lld", (long long)days);
}

static void put_header(struct pp_buf *b, const struct tls_report *r)
{
	char target[300], ip[PP_ADDRSTRLEN], ts[40];
	double secs = (double)(r->end.tv_sec - r->start.tv_sec) +
		      (double)(r->end.tv_nsec - r->start.tv_nsec) / 1e9;

	pp_buf_puts(b, tls_out_target(r, target, sizeof(target)));
	if (r->ip.len && strcmp(pp_addr_str(&r->ip, ip, sizeof(ip)), r->host ? r->host : ""))
		pp_buf_printf(b, " [%s]", ip);
	pp_buf_printf(b, "\n" LABEL "%s\n", "SNI", r->sni ? r->sni : "(none)");
	pp_buf_printf(b, LABEL "%s\n", "STARTTLS", tls_starttls_name(r->starttls));
	pp_buf_printf(b, LABEL "%s, %.3f s, %u connection%s\n", "Scanned",
		      pp_iso8601(&r->start, ts, sizeof(ts)), secs < 0 ? 0.0 : secs, r->connections,
		      plural(r->connections));
	if (r->error != PP_ERROR_NONE) {
		pp_buf_printf(b, LABEL "%s", "Error", tls_out_error_class(r));
		if (r->error_detail && r->error_detail[0]) {
			pp_buf_puts(b, ": ");
			put_safe(b, r->error_detail);
		}
		pp_buf_puts(b, "\n");
	}
}

static void put_protocols(struct pp_buf *b, const struct tls_report *r)
{
	static const char *const words[] = {"not tested", "disabled", "enabled", "error"};
	bool any = false;

	for (int p = 0; p < TLS_P_COUNT; p++)
		any |= r->support[p] != TLS_SUPPORT_UNTESTED;
	if (!any)
		return;
	pp_buf_puts(b, "\nProtocols\n");
	for (int p = 0; p < TLS_P_COUNT; p++)
		pp_buf_printf(b, LABEL "%s\n", tls_out_proto_name(p),
			      (unsigned)r->support[p] < 4 ? words[r->support[p]] : "error");
}

/* The key exchange column: "x25519 253 bits", "DH 2048 bits", "". */
static void put_kex(struct pp_buf *b, const struct tls_out_suite *s)
{
	if (s->group)
		pp_buf_puts(b, s->group->name);
	else if (s->group_id)
		pp_buf_printf(b, "group 0x%04X", s->group_id);
	else if (s->kex_bits)
		pp_buf_puts(b, "DH");
	if (s->kex_bits)
		pp_buf_printf(b, " %u bits", s->kex_bits);
}

static const char *order_words(enum tls_proto p, enum tls_order o)
{
	if (p == TLS_P_SSL2 && o == TLS_ORDER_NONE)
		return "the client chooses in SSLv2, listed strongest first";
	switch (o) {
	case TLS_ORDER_SERVER:
		return "server order, most preferred first";
	case TLS_ORDER_CLIENT:
		return "client order (the server follows the client), listed strongest first";
	case TLS_ORDER_INDETERMINATE:
		return "order indeterminate, listed strongest first";
	case TLS_ORDER_NONE:
		break;
	}
	return "order not determined, listed strongest first";
}

static int put_ciphers(struct pp_buf *b, const struct tls_report *r)
{
	size_t wi = 0, wo = 0;
	bool any_kex = false;
	struct pp_buf line;

	if (!r->nciphers)
		return 0;
	for (size_t i = 0; i < r->nciphers; i++) {
		struct tls_out_suite s;

		tls_out_suite_of(&r->ciphers[i], &s);
		if (strlen(s.iana ? s.iana : s.id) > wi)
			wi = strlen(s.iana ? s.iana : s.id);
		if (strlen(s.openssl ? s.openssl : "-") > wo)
			wo = strlen(s.openssl ? s.openssl : "-");
	}
	pp_buf_init(&line, 4096);
	pp_buf_puts(b, "\nCipher suites\n");
	for (int p = 0; p < TLS_P_COUNT; p++) {
		size_t *idx;
		long n = tls_out_proto_suites(r, p, &idx);

		if (n < 0) {
			pp_buf_release(&line);
			return (int)n;
		}
		if (n)
			pp_buf_printf(b, "  %s: %s\n", tls_out_proto_name(p),
				      order_words(p, r->order[p]));
		for (long i = 0; i < n; i++) {
			struct tls_out_suite s;

			tls_out_suite_of(&r->ciphers[idx[i]], &s);
			pp_buf_printf(&line, "    %-10s ",
				      s.known ? tls_strength_name(s.strength) : "unknown");
			if (s.known)
				pp_buf_printf(&line, "%4u", s.bits);
			else
				pp_buf_puts(&line, "   ?");
			pp_buf_printf(&line, "  %-*s  %-*s  ", (int)wi, s.iana ? s.iana : s.id,
				      (int)wo, s.openssl ? s.openssl : "-");
			put_kex(&line, &s);
			any_kex |= s.group_id || s.kex_bits;
			put_line(b, &line);
		}
		free(idx);
	}
	if (any_kex)
		pp_buf_puts(b, "  Key exchange: the group the server chose from portprobe's offer; "
			       "other clients may get another.\n");
	pp_buf_release(&line);
	return 0;
}

static void put_groups(struct pp_buf *b, const struct tls_report *r)
{
	size_t w = 0;
	struct pp_buf line;

	if (!r->ngroups)
		return;
	for (size_t i = 0; i < r->ngroups; i++) {
		const char *name = tls_group_name(r->groups[i].id);

		if (name && strlen(name) > w)
			w = strlen(name);
	}
	if (w < 6)
		w = 6;
	pp_buf_init(&line, 4096);
	pp_buf_puts(b, "\nKey exchange groups (accepted from portprobe's offer)\n");
	for (size_t i = 0; i < r->ngroups; i++) {
		const struct tls_named_group *g = tls_group_by_id(r->groups[i].id);

		pp_buf_printf(&line, "  %-*s  0x%04X  ", (int)w, g ? g->name : "?",
			      r->groups[i].id);
		if (g && g->bits)
			pp_buf_printf(&line, "%4u bits", g->bits);
		else
			pp_buf_puts(&line, "         ");
		for (int p = 0; p < TLS_P_COUNT; p++)
			if (r->groups[i].protos & (1u << p))
				pp_buf_printf(&line, "  %s", tls_out_proto_name(p));
		put_line(b, &line);
	}
	pp_buf_release(&line);
}

/* A label and a list joined by ", "; nothing when the list is empty. */
static void put_list(struct pp_buf *b, const char *label, const char *const *v, size_t n)
{
	if (!n)
		return;
	pp_buf_printf(b, CLABEL, label);
	for (size_t i = 0; i < n; i++) {
		if (i)
			pp_buf_puts(b, ", ");
		put_safe(b, v[i]);
	}
	pp_buf_puts(b, "\n");
}

static void put_strlist(struct pp_buf *b, const char *label, const struct tls_strlist *l)
{
	put_list(b, label, (const char *const *)l->v, l->n);
}

static void put_cert(struct pp_buf *b, const struct tls_cert_info *c, size_t i, time_t now)
{
	const char *flags[8], *faults[16];
	size_t nf = 0, nfault = 0;
	char ca[48], scts[32];

	pp_buf_printf(b, "    [%zu] ", i);
	put_safe(b, c->subject);
	pp_buf_printf(b, "\n" CLABEL, "issuer");
	put_safe(b, c->issuer);
	pp_buf_puts(b, "\n");
	put_strlist(b, "DNS names", &c->san_dns);
	put_strlist(b, "IP names", &c->san_ip);
	pp_buf_printf(b, CLABEL, "serial");
	put_safe(b, c->serial);
	pp_buf_puts(b, "\n");
	pp_buf_printf(b, CLABEL "%s to %s", "valid", c->not_before[0] ? c->not_before : "?",
		      c->not_after[0] ? c->not_after : "?");
	if (c->not_after[0]) {
		pp_buf_puts(b, " (");
		put_days_left(b, c->days_left);
		pp_buf_puts(b, ")");
	}
	if (c->not_before_t && c->not_before_t > now)
		pp_buf_puts(b, " NOT YET VALID");
	pp_buf_puts(b, "\n");
	pp_buf_printf(b, CLABEL "%s", "key", c->key_type[0] ? c->key_type : "?");
	if (c->key_bits > 0)
		pp_buf_printf(b, " %d bits", c->key_bits);
	if (c->curve[0] && c->curve_nist[0])
		pp_buf_printf(b, " (%s, %s)", c->curve, c->curve_nist);
	else if (c->curve[0])
		pp_buf_printf(b, " (%s)", c->curve);
	pp_buf_puts(b, "\n");
	pp_buf_printf(b, CLABEL "%s\n", "signature", c->sig_alg[0] ? c->sig_alg : "?");
	pp_buf_printf(b, CLABEL "%s\n", "SHA-256", c->sha256);
	pp_buf_printf(b, CLABEL "%s\n", "SPKI pin", c->spki_sha256);
	if (c->has_key_usage)
		put_list(b, "key usage", c->key_usage, c->n_key_usage);
	if (c->has_ext_key_usage)
		put_strlist(b, "ext key usage", &c->ext_key_usage);
	put_strlist(b, "OCSP", &c->ocsp_urls);
	put_strlist(b, "CA issuers", &c->ca_issuers_urls);
	put_strlist(b, "CRL", &c->crl_urls);
	if (c->has_basic_constraints && c->is_ca) {
		if (c->path_len >= 0)
			snprintf(ca, sizeof(ca), "CA (path length %ld)", c->path_len);
		else
			snprintf(ca, sizeof(ca), "CA");
		flags[nf++] = ca;
	}
	if (c->self_signed)
		flags[nf++] = "self-signed";
	if (c->must_staple)
		flags[nf++] = "must-staple";
	if (c->sct_count != 0) {
		if (c->sct_count > 0)
			snprintf(scts, sizeof(scts), "%d SCT%s", c->sct_count,
				 plural(c->sct_count));
		else
			snprintf(scts, sizeof(scts), "SCT list unreadable");
		flags[nf++] = scts;
	}
	put_list(b, "flags", flags, nf);
	for (unsigned bit = 1; bit && bit <= TLS_CERT_TRUNCATED && nfault < 16; bit <<= 1)
		if ((c->faults & bit) && tls_cert_fault_name(bit))
			faults[nfault++] = tls_cert_fault_name(bit);
	put_list(b, "unreadable", faults, nfault);
}

static void put_expiry_line(struct pp_buf *b, const char *label, const char *what, time_t t,
			    time_t now)
{
	char iso[TLS_TIME_LEN];
	int64_t d = tls_out_days(t, now);

	pp_buf_printf(b, "    %-15s%s %s (%lld day%s)\n", label, what, tls_out_time(t, iso),
		      (long long)d, plural(d));
}

static void put_verdict(struct pp_buf *b, const struct tls_deployment *d, time_t now)
{
	const struct tls_chain_info *c = &d->chain;
	const struct tls_ocsp_info *o = &d->ocsp;
	char what[48];

	pp_buf_printf(b, "    %-15s%s", "verdict", tls_verdict_name(c->verdict));
	if (!c->verified && c->error_string[0])
		pp_buf_printf(b, ": %s (depth %d)", c->error_string, c->error_depth);
	pp_buf_puts(b, "\n");
	if (c->problems & ~(1u << c->verdict)) {
		bool first = true;

		pp_buf_printf(b, "    %-15s", "problems");
		for (int v = 1; v < TLS_VERDICT_COUNT; v++)
			if (c->problems & (1u << v)) {
				pp_buf_printf(b, "%s%s", first ? "" : ", ", tls_verdict_name(v));
				first = false;
			}
		pp_buf_puts(b, "\n");
	}
	pp_buf_printf(b, "    %-15s%s\n", "hostname",
		      !c->hostname_checked ? "not checked"
		      : c->hostname_match  ? "matches"
					   : "DOES NOT MATCH");
	pp_buf_printf(b, "    %-15s%d sent, %s, root %s; ", "chain", c->sent_length,
		      c->order_ok ? "in order" : "OUT OF ORDER",
		      c->root_included ? "included" : "not included");
	if (c->verified)
		pp_buf_printf(b, "verified chain of %d\n", c->verified_length);
	else
		pp_buf_puts(b, "not verified\n");

	pp_buf_printf(b, "    %-15s%s", "OCSP staple", tls_ocsp_status_name(o->status));
	if (o->status == TLS_OCSP_INVALID && o->invalid_reason)
		pp_buf_printf(b, ": %s", o->invalid_reason);
	if (o->status == TLS_OCSP_REVOKED && o->revocation_time[0])
		pp_buf_printf(b, " at %s", o->revocation_time);
	if (o->status == TLS_OCSP_REVOKED && o->revocation_reason_name)
		pp_buf_printf(b, " (%s)", o->revocation_reason_name);
	if (o->status != TLS_OCSP_NONE && o->status != TLS_OCSP_INVALID) {
		if (o->this_update[0])
			pp_buf_printf(b, ", this update %s", o->this_update);
		if (o->next_update[0])
			pp_buf_printf(b, ", next update %s", o->next_update);
		if (o->expired)
			pp_buf_puts(b, ", EXPIRED");
		if (!o->signature_checked)
			pp_buf_puts(b, ", signature not checked");
	}
	pp_buf_puts(b, "\n");

	if (c->leaf_not_after)
		put_expiry_line(b, "expiry", "leaf", c->leaf_not_after, now);
	if (c->earliest_sent_not_after) {
		snprintf(what, sizeof(what), "earliest sent [%d]", c->earliest_sent_index);
		put_expiry_line(b, c->leaf_not_after ? "" : "expiry", what,
				c->earliest_sent_not_after, now);
	}
	if (c->verified && c->earliest_verified_not_after)
		put_expiry_line(b, "", "earliest verified", c->earliest_verified_not_after, now);
}

static void put_certificates(struct pp_buf *b, const struct tls_report *r)
{
	if (!r->ndeps) {
		if (r->error == PP_ERROR_NONE)
			pp_buf_puts(b, "\nCertificates\n  none received\n");
		return;
	}
	pp_buf_printf(b, "\nCertificates: %zu chain%s\n", r->ndeps, plural((long long)r->ndeps));
	for (size_t k = 0; k < r->ndeps; k++) {
		const struct tls_deployment *d = &r->deps[k];
		const char *names[8];
		size_t nn = tls_out_found_by(d->found_by, names, 8);
		const struct tls_suite *s = d->suite ? tls_suite_by_id(d->suite) : NULL;

		pp_buf_printf(b, "  Chain %zu of %zu", k + 1, r->ndeps);
		if (nn) {
			pp_buf_puts(b, ", found by ");
			for (size_t i = 0; i < nn; i++)
				pp_buf_printf(b, "%s%s", i ? ", " : "", names[i]);
		}
		if (tls_version_name(d->version)) {
			pp_buf_printf(b, "; first handshake %s", tls_version_name(d->version));
			if (s)
				pp_buf_printf(b, " %s", s->iana);
			else if (d->suite)
				pp_buf_printf(b, " 0x%04X", d->suite);
		}
		pp_buf_puts(b, "\n");
		for (size_t i = 0; d->certs && i < d->n; i++)
			put_cert(b, &d->certs[i], i, r->now);
		put_verdict(b, d, r->now);
	}
}

static int put_report(struct pp_buf *b, const struct tls_report *r)
{
	int rc;

	put_header(b, r);
	put_protocols(b, r);
	rc = put_ciphers(b, r);
	if (rc < 0)
		return rc;
	put_groups(b, r);
	put_certificates(b, r);
	if (r->nnotes) {
		pp_buf_puts(b, "\nNotes\n");
		for (size_t i = 0; i < r->nnotes; i++) {
			pp_buf_puts(b, "  ");
			put_safe(b, r->notes[i]);
			pp_buf_puts(b, "\n");
		}
	}
	return pp_buf_puts(b, "\n");
}

int tls_text_report(FILE *f, const struct tls_report *r)
{
	struct pp_buf b;
	int rc;

	pp_buf_init(&b, TLS_OUT_MAX);
	rc = put_report(&b, r);
	if (rc >= 0)
		rc = tls_out_flush(f, &b);
	pp_buf_release(&b);
	return rc < 0 ? rc : 0;
}
