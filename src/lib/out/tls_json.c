/* tls_json.c: `portprobe tls -o json`, an array with one object per target.
 *
 * The schema is docs/tls-json.md and is a contract: keys may be added, never
 * renamed or retyped. Every key is always present; what is unknown, not
 * tested or not applicable is null, never a missing key or a placeholder
 * string, so a consumer can test one way. Objects are written as targets
 * finish, one per line, so the array can be followed while it grows, and
 * tls_json_end() closes it after an interruption too. */
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "out/tls_out.h"
#include "portprobe/output.h"
#include "portprobe/parse.h"

/* "" counts as absent */
static void put_opt_str(struct pp_buf *b, const char *s)
{
	pp_json_put_string_or_null(b, s && s[0] ? s : NULL);
}

static void put_bool(struct pp_buf *b, bool v)
{
	pp_buf_puts(b, v ? "true" : "false");
}

static void put_uint_or_null(struct pp_buf *b, unsigned long long v)
{
	if (v)
		pp_buf_printf(b, "%llu", v);
	else
		pp_buf_puts(b, "null");
}

static void put_strlist(struct pp_buf *b, const struct tls_strlist *l)
{
	pp_buf_puts(b, "[");
	for (size_t i = 0; i < l->n; i++) {
		if (i)
			pp_buf_puts(b, ",");
		pp_json_put_string(b, l->v[i]);
	}
	pp_buf_puts(b, "]");
}

/* {"not_after":"...","days_left":N[,"index":I]} (index when >= 0), or null
 * when t is 0 (unknown) */
static void put_when(struct pp_buf *b, time_t t, time_t now, int index)
{
	char iso[TLS_TIME_LEN];

	if (!t) {
		pp_buf_puts(b, "null");
		return;
	}
	pp_buf_printf(b, "{\"not_after\":\"%s\",\"days_left\":%lld", tls_out_time(t, iso),
		      (long long)tls_out_days(t, now));
	if (index >= 0)
		pp_buf_printf(b, ",\"index\":%d", index);
	pp_buf_puts(b, "}");
}

static void put_proto_map_head(struct pp_buf *b, enum tls_proto p)
{
	pp_buf_printf(b, "%s\"%s\":", p ? "," : "{", tls_out_proto_name(p));
}

static void put_protocols(struct pp_buf *b, const struct tls_report *r)
{
	static const char *const support[] = {"untested", "disabled", "enabled", "error"};

	pp_buf_puts(b, ",\"protocols\":");
	for (int p = 0; p < TLS_P_COUNT; p++) {
		put_proto_map_head(b, p);
		if (r->support[p] == TLS_SUPPORT_YES || r->support[p] == TLS_SUPPORT_NO)
			put_bool(b, r->support[p] == TLS_SUPPORT_YES);
		else
			pp_buf_puts(b, "null");
	}
	pp_buf_puts(b, "},\"protocol_support\":");
	for (int p = 0; p < TLS_P_COUNT; p++) {
		put_proto_map_head(b, p);
		pp_buf_printf(b, "\"%s\"",
			      (unsigned)r->support[p] < 4 ? support[r->support[p]] : "error");
	}
	pp_buf_puts(b, "}");
}

static void put_suite(struct pp_buf *b, const struct tls_out_suite *s)
{
	pp_buf_printf(
	    b, "{\"protocol\":\"%s\",\"id\":\"%s\",\"iana\":", tls_out_proto_name(s->proto), s->id);
	pp_json_put_string_or_null(b, s->iana);
	pp_buf_puts(b, ",\"openssl\":");
	pp_json_put_string_or_null(b, s->openssl);
	pp_buf_puts(b, ",\"kx\":");
	pp_json_put_string_or_null(b, s->kx);
	pp_buf_puts(b, ",\"au\":");
	pp_json_put_string_or_null(b, s->au);
	pp_buf_puts(b, ",\"enc\":");
	pp_json_put_string_or_null(b, s->enc);
	pp_buf_puts(b, ",\"bits\":");
	put_uint_or_null(b, s->known ? s->bits : 0);
	pp_buf_puts(b, ",\"key_bits\":");
	put_uint_or_null(b, s->known ? s->key_bits : 0);
	pp_buf_puts(b, ",\"mac\":");
	pp_json_put_string_or_null(b, s->mac);
	if (s->known)
		pp_buf_printf(b, ",\"aead\":%s,\"pfs\":%s,\"strength\":\"%s\"",
			      s->aead ? "true" : "false", s->pfs ? "true" : "false",
			      tls_strength_name(s->strength));
	else
		pp_buf_puts(b, ",\"aead\":null,\"pfs\":null,\"strength\":null");
	pp_buf_puts(b, ",\"kex_group\":");
	pp_json_put_string_or_null(b, s->group ? s->group->name : NULL);
	if (s->group_id)
		pp_buf_printf(b, ",\"kex_group_id\":\"0x%04X\"", s->group_id);
	else
		pp_buf_puts(b, ",\"kex_group_id\":null");
	pp_buf_puts(b, ",\"kex_bits\":");
	put_uint_or_null(b, s->kex_bits);
	pp_buf_puts(b, "}");
}

/* ciphers, server_order and server_order_list */
static int put_ciphers(struct pp_buf *b, const struct tls_report *r)
{
	static const char *const order[] = {NULL, "server", "client", "indeterminate"};
	bool first = true;

	pp_buf_puts(b, ",\"ciphers\":[");
	for (int p = 0; p < TLS_P_COUNT; p++) {
		size_t *idx;
		long n = tls_out_proto_suites(r, p, &idx);

		if (n < 0)
			return (int)n;
		for (long i = 0; i < n; i++) {
			struct tls_out_suite s;

			tls_out_suite_of(&r->ciphers[idx[i]], &s);
			if (!first)
				pp_buf_puts(b, ",");
			put_suite(b, &s);
			first = false;
		}
		free(idx);
	}
	pp_buf_puts(b, "],\"server_order\":");
	for (int p = 0; p < TLS_P_COUNT; p++) {
		put_proto_map_head(b, p);
		pp_json_put_string_or_null(b,
					   (unsigned)r->order[p] < 4 ? order[r->order[p]] : NULL);
	}
	pp_buf_puts(b, "},\"server_order_list\":");
	for (int p = 0; p < TLS_P_COUNT; p++) {
		put_proto_map_head(b, p);
		if (r->order[p] != TLS_ORDER_SERVER || !r->server_order[p]) {
			pp_buf_puts(b, "null");
			continue;
		}
		pp_buf_puts(b, "[");
		for (size_t i = 0; i < r->nserver_order[p]; i++)
			pp_buf_printf(b, "%s\"0x%04X\"", i ? "," : "", r->server_order[p][i]);
		pp_buf_puts(b, "]");
	}
	pp_buf_puts(b, "}");
	return 0;
}

static void put_groups(struct pp_buf *b, const struct tls_report *r)
{
	pp_buf_puts(b, ",\"groups\":[");
	for (size_t i = 0; i < r->ngroups; i++) {
		const struct tls_group *g = &r->groups[i];
		const struct tls_named_group *ng = tls_group_by_id(g->id);
		bool first = true;

		pp_buf_puts(b, i ? ",{\"name\":" : "{\"name\":");
		pp_json_put_string_or_null(b, ng ? ng->name : NULL);
		pp_buf_printf(b, ",\"id\":\"0x%04X\",\"kind\":", g->id);
		pp_json_put_string_or_null(b, ng ? tls_group_kind_name(ng->kind) : NULL);
		pp_buf_puts(b, ",\"bits\":");
		put_uint_or_null(b, ng ? ng->bits : 0);
		pp_buf_puts(b, ",\"protocols\":[");
		for (int p = 0; p < TLS_P_COUNT; p++)
			if (g->protos & (1u << p)) {
				pp_buf_printf(b, "%s\"%s\"", first ? "" : ",",
					      tls_out_proto_name(p));
				first = false;
			}
		pp_buf_puts(b, "]}");
	}
	pp_buf_puts(b, "]");
}

static void put_cert(struct pp_buf *b, const struct tls_cert_info *c)
{
	bool first = true;

	pp_buf_puts(b, "{\"subject\":");
	pp_json_put_string(b, c->subject ? c->subject : "");
	pp_buf_puts(b, ",\"issuer\":");
	pp_json_put_string(b, c->issuer ? c->issuer : "");
	pp_buf_printf(b, ",\"version\":%ld,\"serial\":", c->version);
	pp_json_put_string(b, c->serial ? c->serial : "");
	pp_buf_puts(b, ",\"san\":");
	put_strlist(b, &c->san_dns);
	pp_buf_puts(b, ",\"san_ip\":");
	put_strlist(b, &c->san_ip);
	pp_buf_printf(b, ",\"san_other\":%zu,\"not_before\":", c->san_other);
	put_opt_str(b, c->not_before);
	pp_buf_puts(b, ",\"not_after\":");
	put_opt_str(b, c->not_after);
	if (c->not_after[0])
		pp_buf_printf(b, ",\"days_left\":%lld", (long long)c->days_left);
	else
		pp_buf_puts(b, ",\"days_left\":null");
	pp_buf_puts(b, ",\"key_type\":");
	put_opt_str(b, c->key_type);
	pp_buf_puts(b, ",\"key_bits\":");
	put_uint_or_null(b, c->key_bits > 0 ? (unsigned long long)c->key_bits : 0);
	pp_buf_puts(b, ",\"curve\":");
	put_opt_str(b, c->curve);
	pp_buf_puts(b, ",\"curve_nist\":");
	put_opt_str(b, c->curve_nist);
	pp_buf_puts(b, ",\"sig_alg\":");
	put_opt_str(b, c->sig_alg);
	pp_buf_puts(b, ",\"sig_short\":");
	put_opt_str(b, c->sig_short);
	pp_buf_printf(b,
		      ",\"sha256\":\"%s\",\"sha1\":\"%s\",\"spki_sha256\":\"%s\","
		      "\"spki_sha256_hex\":\"%s\",\"key_usage\":",
		      c->sha256, c->sha1, c->spki_sha256, c->spki_sha256_hex);
	if (c->has_key_usage) {
		pp_buf_puts(b, "[");
		for (size_t i = 0; i < c->n_key_usage; i++)
			pp_buf_printf(b, "%s\"%s\"", i ? "," : "", c->key_usage[i]);
		pp_buf_puts(b, "]");
	} else {
		pp_buf_puts(b, "null");
	}
	pp_buf_puts(b, ",\"ext_key_usage\":");
	if (c->has_ext_key_usage)
		put_strlist(b, &c->ext_key_usage);
	else
		pp_buf_puts(b, "null");
	pp_buf_puts(b, ",\"basic_constraints\":");
	if (c->has_basic_constraints) {
		pp_buf_printf(b, "{\"ca\":%s,\"path_len\":", c->is_ca ? "true" : "false");
		if (c->path_len >= 0)
			pp_buf_printf(b, "%ld}", c->path_len);
		else
			pp_buf_puts(b, "null}");
	} else {
		pp_buf_puts(b, "null");
	}
	pp_buf_puts(b, ",\"ocsp_urls\":");
	put_strlist(b, &c->ocsp_urls);
	pp_buf_puts(b, ",\"ca_issuers_urls\":");
	put_strlist(b, &c->ca_issuers_urls);
	pp_buf_puts(b, ",\"crl_urls\":");
	put_strlist(b, &c->crl_urls);
	pp_buf_printf(b, ",\"must_staple\":%s,\"sct_count\":", c->must_staple ? "true" : "false");
	if (c->sct_count >= 0)
		pp_buf_printf(b, "%d", c->sct_count);
	else
		pp_buf_puts(b, "null");
	pp_buf_printf(b, ",\"self_signed\":%s,\"faults\":[", c->self_signed ? "true" : "false");
	for (unsigned bit = 1; bit && bit <= TLS_CERT_TRUNCATED; bit <<= 1) {
		const char *name = (c->faults & bit) ? tls_cert_fault_name(bit) : NULL;

		if (!name)
			continue;
		pp_buf_printf(b, "%s\"%s\"", first ? "" : ",", name);
		first = false;
	}
	pp_buf_puts(b, "]}");
}

static void put_ocsp(struct pp_buf *b, const struct tls_ocsp_info *o)
{
	pp_buf_printf(b, ",\"ocsp_staple\":{\"status\":\"%s\",\"invalid_reason\":",
		      tls_ocsp_status_name(o->status));
	pp_json_put_string_or_null(b, o->status == TLS_OCSP_INVALID ? o->invalid_reason : NULL);
	pp_buf_puts(b, ",\"response_status\":");
	if (o->status != TLS_OCSP_NONE && o->response_status >= 0)
		pp_buf_printf(b, "%d", o->response_status);
	else
		pp_buf_puts(b, "null");
	pp_buf_puts(b, ",\"signature_checked\":");
	if (o->status != TLS_OCSP_NONE)
		put_bool(b, o->signature_checked);
	else
		pp_buf_puts(b, "null");
	pp_buf_puts(b, ",\"this_update\":");
	put_opt_str(b, o->status != TLS_OCSP_NONE ? o->this_update : NULL);
	pp_buf_puts(b, ",\"next_update\":");
	put_opt_str(b, o->status != TLS_OCSP_NONE ? o->next_update : NULL);
	pp_buf_puts(b, ",\"expired\":");
	if (o->status != TLS_OCSP_NONE)
		put_bool(b, o->expired);
	else
		pp_buf_puts(b, "null");
	pp_buf_puts(b, ",\"revocation_time\":");
	put_opt_str(b, o->status == TLS_OCSP_REVOKED ? o->revocation_time : NULL);
	pp_buf_puts(b, ",\"revocation_reason\":");
	pp_json_put_string_or_null(b, o->status == TLS_OCSP_REVOKED ? o->revocation_reason_name
								    : NULL);
	pp_buf_puts(b, "}");
}

static void put_chain_verdict(struct pp_buf *b, const struct tls_chain_info *c, time_t now)
{
	bool first = true;

	pp_buf_printf(b, ",\"verified\":%s,\"verify_error\":", c->verified ? "true" : "false");
	put_opt_str(b, c->verified ? NULL : c->error_string);
	pp_buf_printf(b, ",\"verdict\":\"%s\",\"problems\":[", tls_verdict_name(c->verdict));
	for (int v = 1; v < TLS_VERDICT_COUNT; v++)
		if (c->problems & (1u << v)) {
			pp_buf_printf(b, "%s\"%s\"", first ? "" : ",", tls_verdict_name(v));
			first = false;
		}
	pp_buf_puts(b, "],\"errors\":[");
	for (size_t i = 0; i < c->n_errors && i < TLS_VERIFY_MAX_ERRS; i++) {
		const struct tls_verify_error *e = &c->errors[i];

		pp_buf_printf(b, "%s{\"code\":%d,\"depth\":%d,\"verdict\":\"%s\",\"message\":",
			      i ? "," : "", e->code, e->depth, tls_verdict_name(e->verdict));
		pp_json_put_string_or_null(b, X509_verify_cert_error_string(e->code));
		pp_buf_puts(b, "}");
	}
	pp_buf_printf(b, "],\"errors_truncated\":%s,\"hostname_checked\":%s,\"hostname_match\":",
		      c->errors_truncated ? "true" : "false",
		      c->hostname_checked ? "true" : "false");
	if (c->hostname_checked)
		put_bool(b, c->hostname_match);
	else
		pp_buf_puts(b, "null");
	pp_buf_printf(b, ",\"order_ok\":%s,\"root_included\":%s,\"sent\":%d,\"verified_length\":",
		      c->order_ok ? "true" : "false", c->root_included ? "true" : "false",
		      c->sent_length);
	put_uint_or_null(b, c->verified ? (unsigned long long)c->verified_length : 0);
	pp_buf_puts(b, ",\"expiry\":{\"leaf\":");
	put_when(b, c->leaf_not_after, now, -1);
	pp_buf_puts(b, ",\"earliest_in_chain\":");
	put_when(b, c->earliest_sent_not_after, now, c->earliest_sent_index);
	pp_buf_puts(b, ",\"earliest_verified\":");
	put_when(b, c->verified ? c->earliest_verified_not_after : 0, now, -1);
	pp_buf_puts(b, "}");
}

static void put_deployment(struct pp_buf *b, const struct tls_deployment *d, time_t now)
{
	const char *names[8];
	size_t nn = tls_out_found_by(d->found_by, names, 8);
	const char *vname = tls_version_name(d->version);
	const struct tls_suite *s = d->suite ? tls_suite_by_id(d->suite) : NULL;

	pp_buf_puts(b, "{\"found_by\":[");
	for (size_t i = 0; i < nn; i++)
		pp_buf_printf(b, "%s\"%s\"", i ? "," : "", names[i]);
	pp_buf_puts(b, "],\"negotiated\":{\"protocol\":");
	pp_json_put_string_or_null(b, vname);
	if (d->suite)
		pp_buf_printf(b, ",\"id\":\"0x%04X\",\"iana\":", d->suite);
	else
		pp_buf_puts(b, ",\"id\":null,\"iana\":");
	pp_json_put_string_or_null(b, s ? s->iana : NULL);
	pp_buf_puts(b, "},\"chain\":[");
	for (size_t i = 0; d->certs && i < d->n; i++) {
		if (i)
			pp_buf_puts(b, ",");
		put_cert(b, &d->certs[i]);
	}
	pp_buf_puts(b, "]");
	put_chain_verdict(b, &d->chain, now);
	put_ocsp(b, &d->ocsp);
	pp_buf_puts(b, "}");
}

static int put_report(struct pp_buf *b, const struct tls_report *r)
{
	char ip[PP_ADDRSTRLEN], ts[40];
	int rc;

	pp_buf_puts(b, "{\"host\":");
	pp_json_put_string(b, r->host ? r->host : "");
	pp_buf_puts(b, ",\"ip\":");
	pp_json_put_string_or_null(b, r->ip.len ? pp_addr_str(&r->ip, ip, sizeof(ip)) : NULL);
	pp_buf_printf(b, ",\"port\":%u,\"sni\":", r->port);
	pp_json_put_string_or_null(b, r->sni);
	pp_buf_puts(b, ",\"starttls\":");
	pp_json_put_string_or_null(
	    b, r->starttls != TLS_STARTTLS_NONE ? tls_starttls_name(r->starttls) : NULL);
	pp_buf_printf(b, ",\"start\":\"%s\"", pp_iso8601(&r->start, ts, sizeof(ts)));
	pp_buf_printf(b, ",\"end\":\"%s\"", pp_iso8601(&r->end, ts, sizeof(ts)));
	pp_buf_printf(b, ",\"connections\":%u,\"error\":", r->connections);
	if (r->error != PP_ERROR_NONE) {
		pp_buf_puts(b, "{\"class\":");
		pp_json_put_string(b, tls_out_error_class(r));
		pp_buf_puts(b, ",\"detail\":");
		put_opt_str(b, r->error_detail);
		pp_buf_puts(b, "}");
	} else {
		pp_buf_puts(b, "null");
	}
	put_protocols(b, r);
	rc = put_ciphers(b, r);
	if (rc < 0)
		return rc;
	put_groups(b, r);
	pp_buf_puts(b, ",\"certificates\":[");
	for (size_t k = 0; k < r->ndeps; k++) {
		if (k)
			pp_buf_puts(b, ",");
		put_deployment(b, &r->deps[k], r->now);
	}
	pp_buf_puts(b, "],\"notes\":[");
	for (size_t i = 0; i < r->nnotes; i++) {
		if (i)
			pp_buf_puts(b, ",");
		pp_json_put_string(b, r->notes[i] ? r->notes[i] : "");
	}
	return pp_buf_puts(b, "]}");
}

int tls_json_begin(FILE *f)
{
	struct pp_buf b;
	int rc;

	pp_buf_init(&b, 16);
	pp_buf_puts(&b, "[");
	rc = tls_out_flush(f, &b);
	pp_buf_release(&b);
	return rc;
}

int tls_json_put_report(struct pp_buf *b, const struct tls_report *r)
{
	return put_report(b, r);
}

int tls_json_report(FILE *f, const struct tls_report *r, bool first)
{
	struct pp_buf b;
	int rc;

	pp_buf_init(&b, TLS_OUT_MAX);
	pp_buf_puts(&b, first ? "\n" : ",\n");
	rc = put_report(&b, r);
	if (rc >= 0)
		rc = tls_out_flush(f, &b);
	pp_buf_release(&b);
	return rc < 0 ? rc : 0;
}

int tls_json_end(FILE *f)
{
	struct pp_buf b;
	int rc;

	pp_buf_init(&b, 16);
	pp_buf_puts(&b, "\n]\n");
	rc = tls_out_flush(f, &b);
	pp_buf_release(&b);
	return rc;
}
