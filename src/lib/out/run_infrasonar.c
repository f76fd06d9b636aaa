/* run_infrasonar.c: units' results as InfraSonar tcp-probe items, one JSON
 * document per check (include/portprobe/probe_metrics.h; README.md lists
 * every field).
 *
 * The item types and field names are tcp-probe's (research probes.md 1.4)
 * so an InfraSonar consumer reads them unchanged; where tcp-probe's values
 * are wrong the field keeps its name and type but carries the real verdict:
 * hostMatch is the leaf's SAN/CN match as OpenSSL checks it (wildcards, IP
 * SANs), not CN equality, and isValid is the chain's trust and validity,
 * not the dates alone. Fields tcp-probe lacks are added (port
 * responseTime and error, sslCert sha256 and verifyError).
 *
 * The facts both exports need (failure message, fingerprint, verify error)
 * come from the metrics record (probe_metrics.c), so the two agree. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "out/tls_out.h"
#include "portprobe/output.h"
#include "portprobe/probe_metrics.h"
#include "tls/report.h"
#include "tls/suites.h"

#define ITEM_MAX (16u << 20) /* bytes of one item */

/* The item types, in the order a document lists them. */
enum item_type { ITEM_PORT, ITEM_CERT, ITEM_CIPHERS, ITEM_ERROR };

/* One item (or error message) and where it sorts. */
struct pp_infrasonar_item {
	enum item_type type;
	uint32_t order; /* the port (ciphers: port and protocol), as tcp-probe lists them */
	char *text;     /* a JSON object, or an error message */
};

void pp_infrasonar_check_init(struct pp_infrasonar_check *c)
{
	memset(c, 0, sizeof(*c));
}

void pp_infrasonar_check_release(struct pp_infrasonar_check *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		free(c->items[i].text);
	free(c->items);
	memset(c, 0, sizeof(*c));
}

/* Takes b's text as a new item; b is released. 0, or b's error / -ENOMEM. */
static int push(struct pp_infrasonar_check *c, enum item_type type, uint32_t order,
		struct pp_buf *b)
{
	int rc = b->err ? b->err : 0;

	if (!rc && c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 8;
		struct pp_infrasonar_item *v = realloc(c->items, cap * sizeof(*v));

		if (v) {
			c->items = v;
			c->cap = cap;
		} else {
			rc = -ENOMEM;
		}
	}
	if (!rc) {
		char *text = strdup(b->len ? b->data : "");

		if (text)
			c->items[c->n++] = (struct pp_infrasonar_item){type, order, text};
		else
			rc = -ENOMEM;
	}
	pp_buf_release(b);
	return rc;
}

static int add_error(struct pp_infrasonar_check *c, uint16_t port, const char *item,
		     const char *msg)
{
	struct pp_buf b;

	pp_buf_init(&b, ITEM_MAX);
	pp_buf_printf(&b, "%s: %s", item, msg && *msg ? msg : "failed");
	return push(c, ITEM_ERROR, port, &b);
}

static void put_str_or_null(struct pp_buf *b, const char *s)
{
	if (s)
		pp_json_put_string(b, s);
	else
		pp_buf_puts(b, "null");
}

/* ---- port ---------------------------------------------------------------- */

static int add_port(struct pp_infrasonar_check *c, const struct pp_run_result *r,
		    const struct pp_probe_metrics *m)
{
	const struct pp_check_result *k = r->check;
	char name[16];
	struct pp_buf b;

	snprintf(name, sizeof(name), "tcp:%u", k->port);
	if (k->out.state == PP_STATE_UNKNOWN || r->status == PP_RUN_UNKNOWN) {
		/* no verdict about the port itself (name not resolved, this host
		 * failed): tcp-probe sends no item then, only the error */
		return add_error(c, k->port, name, m->message);
	}
	pp_buf_init(&b, ITEM_MAX);
	pp_buf_printf(&b, "{\"name\":\"%s\",\"state\":\"%s\",\"reason\":\"%s\",", name,
		      pp_state_name(k->out.state), pp_reason_name(k->out.reason));
	pp_buf_puts(&b, "\"reasonTTL\":0,\"responseTime\":");
	if (k->connected)
		pp_buf_printf(&b, "%.6f", k->response_time);
	else
		pp_buf_puts(&b, "null");
	pp_buf_puts(&b, ",\"error\":");
	put_str_or_null(&b, k->connected ? NULL : pp_error_message(k->error));
	pp_buf_puts(&b, "}");
	return push(c, ITEM_PORT, k->port, &b);
}

/* ---- sslCert ------------------------------------------------------------- */

/* digest(der) as lowercase hex into out (>= 2 * EVP_MAX_MD_SIZE + 1); false
 * when the digest is not available (md5 under a FIPS provider). */
static bool der_digest(const EVP_MD *md, const unsigned char *der, size_t len, char *out)
{
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!md || !EVP_Digest(der, len, h, &n, md, NULL))
		return false;
	for (unsigned int i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
	out[2 * n] = '\0';
	return true;
}

/* A name as nmap's ssl-cert tables print it: "commonName=a/organizationName=b",
 * attributes in certificate order, OpenSSL's long names. */
static void put_nmap_name(struct pp_buf *b, const X509_NAME *name)
{
	struct pp_buf s;

	pp_buf_init(&s, 1 << 16);
	for (int i = 0; name && i < X509_NAME_entry_count(name); i++) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
		unsigned char *utf8 = NULL;
		char key[128];
		int n;

		if (OBJ_obj2txt(key, sizeof(key), X509_NAME_ENTRY_get_object(e), 0) <= 0)
			snprintf(key, sizeof(key), "?");
		n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
		pp_buf_printf(&s, "%s%s=", i ? "/" : "", key);
		if (n > 0)
			pp_buf_put(&s, utf8, (size_t)n);
		OPENSSL_free(utf8);
	}
	pp_json_put_string(b, s.len ? s.data : "");
	pp_buf_release(&s);
}

/* The subject's first commonName, "" when none. */
static void put_cn(struct pp_buf *b, const X509_NAME *name)
{
	int i = name ? X509_NAME_get_index_by_NID(name, NID_commonName, -1) : -1;
	unsigned char *utf8 = NULL;
	int n = i >= 0 ? ASN1_STRING_to_UTF8(&utf8,
					     X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)))
		       : -1;
	struct pp_buf s;

	pp_buf_init(&s, 1 << 16);
	if (n > 0)
		pp_buf_put(&s, utf8, (size_t)n);
	pp_json_put_string(b, s.len ? s.data : "");
	pp_buf_release(&s);
	OPENSSL_free(utf8);
}

static void put_lower(struct pp_buf *b, const char *s)
{
	char v[TLS_NAME_LEN];
	size_t i;

	for (i = 0; s[i] && i + 1 < sizeof(v); i++)
		v[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]);
	v[i] = '\0';
	pp_json_put_string(b, v);
}

static int add_cert(struct pp_infrasonar_check *c, const struct tls_report *t,
		    const struct pp_probe_metrics *m, const char *item)
{
	const struct tls_deployment *d = &t->deps[0];
	const struct tls_cert_info *leaf = &d->certs[0];
	const unsigned char *p = d->der ? d->der[0] : NULL;
	X509 *x = p ? d2i_X509(NULL, &p, (long)d->der_len[0]) : NULL;
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	struct pp_buf item_buf, *b = &item_buf;

	if (!x)
		return -EINVAL; /* the engine parsed these bytes once already */
	pp_buf_init(b, ITEM_MAX);
	pp_buf_puts(b, "{\"name\":");
	pp_json_put_string(b, item);
	pp_buf_puts(b, ",\"requestedHost\":");
	pp_json_put_string(b, t->host ? t->host : "");
	pp_buf_puts(b, ",\"subjectCN\":");
	put_cn(b, X509_get_subject_name(x));
	pp_buf_printf(b, ",\"hostMatch\":%s,\"subject\":",
		      d->chain.hostname_checked && d->chain.hostname_match ? "true" : "false");
	put_nmap_name(b, X509_get_subject_name(x));
	pp_buf_puts(b, ",\"issuer\":");
	put_nmap_name(b, X509_get_issuer_name(x));
	pp_buf_printf(b,
		      ",\"validNotBefore\":%lld,\"validNotAfter\":%lld,\"isValid\":%s,"
		      "\"expiresIn\":%lld,\"pubkeyType\":",
		      (long long)leaf->not_before_t, (long long)leaf->not_after_t,
		      d->chain.verified ? "true" : "false",
		      (long long)leaf->not_after_t - (long long)t->now);
	put_lower(b, leaf->key_type);
	pp_buf_puts(b, ",\"pubkeyBits\":");
	if (leaf->key_bits > 0)
		pp_buf_printf(b, "\"%d\"", leaf->key_bits);
	else
		pp_buf_puts(b, "null");
	pp_buf_puts(b, ",\"md5\":");
	put_str_or_null(b, der_digest(EVP_md5(), d->der[0], d->der_len[0], hex) ? hex : NULL);
	pp_buf_puts(b, ",\"sha1\":");
	put_str_or_null(b, der_digest(EVP_sha1(), d->der[0], d->der_len[0], hex) ? hex : NULL);
	pp_buf_printf(b, ",\"sha256\":\"%s\",\"verifyError\":", m->tls.fingerprint_sha256);
	put_str_or_null(b, m->tls.verify_error[0] ? m->tls.verify_error : NULL);
	pp_buf_puts(b, "}");
	X509_free(x);
	return push(c, ITEM_CERT, t->port, b);
}

/* ---- sslEnumCiphers ---------------------------------------------------------- */

/* nmap's letters for portprobe's strength classes (suites.h). */
static char grade_of(enum tls_strength s)
{
	switch (s) {
	case TLS_STRENGTH_STRONG:
		return 'A';
	case TLS_STRENGTH_ACCEPTABLE:
		return 'B';
	case TLS_STRENGTH_WEAK:
		return 'C';
	case TLS_STRENGTH_INSECURE:
		break;
	}
	return 'F';
}

static const char *proto_warning(enum tls_proto p)
{
	switch (p) {
	case TLS_P_SSL2:
		return "SSLv2 is broken (RFC 6176)";
	case TLS_P_SSL3:
		return "SSLv3 is broken (RFC 7568)";
	case TLS_P_TLS10:
		return "TLSv1.0 is deprecated (RFC 8996)";
	case TLS_P_TLS11:
		return "TLSv1.1 is deprecated (RFC 8996)";
	default:
		return NULL;
	}
}

/* The warnings of protocol p: its deprecation, then the probe's notes about
 * it ("TLSv1.2: ..."), joined by CR LF as tcp-probe joins nmap's. */
static void put_warnings(struct pp_buf *b, const struct tls_report *t, enum tls_proto p)
{
	const char *pname = tls_out_proto_name(p), *w = proto_warning(p);
	size_t plen = strlen(pname);
	struct pp_buf s;

	pp_buf_init(&s, 1 << 20);
	if (w)
		pp_buf_puts(&s, w);
	for (size_t i = 0; i < t->nnotes; i++)
		if (t->notes[i] && !strncmp(t->notes[i], pname, plen) && t->notes[i][plen] == ':') {
			if (s.len)
				pp_buf_puts(&s, "\r\n");
			pp_buf_puts(&s, t->notes[i]);
		}
	pp_json_put_string(b, s.len ? s.data : "");
	pp_buf_release(&s);
}

static int add_ciphers(struct pp_infrasonar_check *c, const struct tls_report *t, const char *item)
{
	int rc;

	for (int p = 0; p < TLS_P_COUNT; p++) {
		struct pp_buf lines, item_buf, *b = &item_buf;
		size_t *idx = NULL;
		long n = tls_out_proto_suites(t, p, &idx);
		char least = 0, name[PP_ADDRSTRLEN + 320];

		if (n < 0)
			return (int)n;
		if (!n)
			continue;
		pp_buf_init(&lines, 1 << 20);
		for (long i = 0; i < n; i++) {
			struct tls_out_suite s;

			tls_out_suite_of(&t->ciphers[idx[i]], &s);
			if (i)
				pp_buf_puts(&lines, "\r\n");
			pp_buf_puts(&lines, s.iana ? s.iana : s.id);
			if (s.known) {
				char g = grade_of(s.strength);

				pp_buf_printf(&lines, " - %c", g);
				if (g > least)
					least = g; /* 'F' is the worst, and the greatest */
			} else {
				pp_buf_puts(&lines, " - unknown");
			}
		}
		free(idx);
		snprintf(name, sizeof(name), "%s-%s", item, tls_out_proto_name(p));
		pp_buf_init(b, ITEM_MAX);
		pp_buf_puts(b, "{\"name\":");
		pp_json_put_string(b, name);
		pp_buf_puts(b, ",\"sslCert\":");
		pp_json_put_string(b, item);
		pp_buf_printf(b, ",\"protocol\":\"%s\",\"ciphers\":", tls_out_proto_name(p));
		pp_json_put_string(b, lines.len ? lines.data : "");
		pp_buf_puts(b, ",\"warnings\":");
		put_warnings(b, t, p);
		pp_buf_puts(b, ",\"leastStrength\":");
		if (least)
			pp_buf_printf(b, "\"%c\"", least);
		else
			pp_buf_puts(b, "\"unknown\"");
		pp_buf_puts(b, "}");
		pp_buf_release(&lines);
		if ((rc = push(c, ITEM_CIPHERS, (uint32_t)t->port * TLS_P_COUNT + (uint32_t)p, b)) <
		    0)
			return rc;
	}
	return 0;
}

/* ---- a check ----------------------------------------------------------------- */

int pp_infrasonar_check_add(struct pp_infrasonar_check *c, const struct pp_run_result *r)
{
	const struct tls_report *t = (const struct tls_report *)r->tls;
	struct pp_probe_metrics m;
	int rc = pp_probe_metrics_from_result(&m, r);

	if (rc < 0)
		return rc;
	if (r->duration > c->duration)
		c->duration = r->duration;
	if (r->timestamp.tv_sec > c->timestamp)
		c->timestamp = r->timestamp.tv_sec;
	if (r->check) {
		rc = add_port(c, r, &m);
	} else {
		char item[PP_ADDRSTRLEN + 300];

		tls_out_target(t, item, sizeof(item));
		if (!m.has_tls)
			rc = add_error(c, t->port, item, m.message);
		else if ((rc = add_cert(c, t, &m, item)) >= 0)
			rc = add_ciphers(c, t, item);
	}
	pp_probe_metrics_release(&m);
	return rc < 0 ? rc : 0;
}

static int cmp_item(const void *a, const void *b)
{
	const struct pp_infrasonar_item *x = a, *y = b;

	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* The items of one type, in port order, as a JSON list's contents. */
static void put_items(struct pp_buf *b, const struct pp_infrasonar_check *c, enum item_type type,
		      const char *sep)
{
	bool first = true;

	for (size_t i = 0; i < c->n; i++)
		if (c->items[i].type == type) {
			if (!first)
				pp_buf_puts(b, sep);
			pp_buf_puts(b, c->items[i].text);
			first = false;
		}
}

int pp_infrasonar_check_write(struct pp_buf *b, struct pp_infrasonar_check *c, const char *name)
{
	bool error = false;

	/* results come in as units finish: list them by port, as tcp-probe does */
	if (c->n)
		qsort(c->items, c->n, sizeof(*c->items), cmp_item);
	for (size_t i = 0; i < c->n; i++)
		error |= c->items[i].type == ITEM_ERROR;
	pp_buf_puts(b, "{\"check\":");
	pp_json_put_string(b, name);
	pp_buf_puts(b, ",\"result\":{\"port\":[");
	put_items(b, c, ITEM_PORT, ",");
	pp_buf_puts(b, "],\"sslCert\":[");
	put_items(b, c, ITEM_CERT, ",");
	pp_buf_puts(b, "],\"sslEnumCiphers\":[");
	put_items(b, c, ITEM_CIPHERS, ",");
	pp_buf_puts(b, "]},\"error\":");
	if (error) {
		struct pp_buf msg;

		pp_buf_init(&msg, ITEM_MAX);
		put_items(&msg, c, ITEM_ERROR, "; ");
		pp_buf_puts(b, "{\"error\":");
		pp_json_put_string(b, msg.len ? msg.data : "");
		pp_buf_puts(b, ",\"severity\":1}");
		pp_buf_release(&msg);
	} else {
		pp_buf_puts(b, "null");
	}
	pp_buf_printf(b, ",\"framework\":{\"duration\":%.6f,\"timestamp\":%lld}}", c->duration,
		      (long long)c->timestamp);
	return b->err;
}
