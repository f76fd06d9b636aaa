/* probe_metrics.c: a unit's result as a flat, owned metrics record, and the
 * Prometheus exposition of a list of them (include/portprobe/probe_metrics.h).
 *
 * Extraction reads the check result or the TLS report once and keeps
 * numbers and short strings, so the record outlives the runner's callback.
 * The failure reason is derived from the data (error class, TLS failure,
 * chain verdict, expiry) in the order the runner judges a unit, so the slug
 * names the same cause as the unit's status and reason.
 *
 * The writer walks a table of families in name order; each family knows
 * whether a record has a sample and with which value and labels, so a
 * family no record has is left out and every family has one HELP/TYPE pair
 * however many records there are (the format forbids repeating them). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "out/tls_out.h"
#include "portprobe/parse.h"
#include "portprobe/probe_metrics.h"
#include "tls/report.h"
#include "tls/suites.h"
#include "tls/x509sum.h"

/* ---- slugs ----------------------------------------------------------------- */

static const char *error_slug(enum pp_error e)
{
	switch (e) {
	case PP_ERROR_NONE:
		return "";
	case PP_ERROR_REFUSED:
		return "refused";
	case PP_ERROR_TIMEOUT:
		return "timeout";
	case PP_ERROR_HOST_NOT_FOUND:
		return "host_not_found";
	case PP_ERROR_DNS_TEMPORARY:
		return "dns_temporary";
	case PP_ERROR_NET_UNREACHABLE:
		return "net_unreachable";
	case PP_ERROR_NO_ROUTE:
		return "no_route";
	case PP_ERROR_PERMISSION_DENIED:
		return "permission_denied";
	case PP_ERROR_PORT_IN_USE:
		return "port_in_use";
	case PP_ERROR_ADDR_NOT_AVAILABLE:
		return "addr_not_available";
	case PP_ERROR_LOCAL_RESOURCE:
		return "local_resource";
	case PP_ERROR_OTHER:
		break;
	}
	return "other";
}

static const char *verdict_slug(enum tls_verdict v)
{
	switch (v) {
	case TLS_VERDICT_EXPIRED:
		return "expired";
	case TLS_VERDICT_UNTRUSTED_ROOT:
		return "untrusted_root";
	case TLS_VERDICT_INCOMPLETE_CHAIN:
		return "incomplete_chain";
	case TLS_VERDICT_NOT_YET_VALID:
		return "not_yet_valid";
	case TLS_VERDICT_SELF_SIGNED_LEAF:
		return "self_signed";
	case TLS_VERDICT_BAD_SIGNATURE:
		return "bad_signature";
	case TLS_VERDICT_NAME_MISMATCH:
		return "name_mismatch";
	case TLS_VERDICT_OK:
	case TLS_VERDICT_OTHER:
		break;
	}
	return "other";
}

/* The TLS-level classes the engine reports in error_kind (probe/tlsenum.c). */
static const struct {
	const char *kind;
	const char *slug;
} kind_slugs[] = {
    {"Not a TLS server", "not_tls"},
    {"STARTTLS failed", "starttls_failed"},
    {"Handshake failed", "handshake_failed"},
    {"Malformed TLS answer", "malformed_tls"},
    {"Truncated TLS answer", "truncated_tls"},
    {"Connection reset in handshake", "reset_in_handshake"},
    {"No TLS answer", "no_tls_answer"},
};

static const char *kind_slug(const char *kind)
{
	for (size_t i = 0; i < sizeof(kind_slugs) / sizeof(kind_slugs[0]); i++)
		if (!strcmp(kind, kind_slugs[i].kind))
			return kind_slugs[i].slug;
	return "tls_failed"; /* a class added to the engine but not here yet */
}

/* A chain is good when it verified and names the host (when one was checked). */
static bool chain_ok(const struct tls_chain_info *c)
{
	return c->verified && (!c->hostname_checked || c->hostname_match);
}

static const char *chain_slug(const struct tls_chain_info *c)
{
	if (c->verified)
		return "name_mismatch"; /* chain_ok() is false: only the name is wrong */
	return verdict_slug(c->verdict);
}

/* The human words for a bad chain: OpenSSL's text for its first error. */
static const char *chain_message(const struct tls_chain_info *c)
{
	if (c->verified)
		return "hostname mismatch";
	return c->error_string[0] ? c->error_string : tls_verdict_name(c->verdict);
}

/* ---- extraction -------------------------------------------------------------- */

uint32_t pp_probe_ip_hash(const struct pp_addr *a)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	const unsigned char *p;
	size_t n;
	uint32_t h = 2166136261u; /* FNV-1a 32 offset basis */

	if (!a->len)
		return 0;
	if (a->sa.ss_family == AF_INET) {
		p = (const unsigned char *)&((const struct sockaddr_in *)&a->sa)->sin_addr;
		n = 4;
	} else if (a->sa.ss_family == AF_INET6) {
		p = (const unsigned char *)&((const struct sockaddr_in6 *)&a->sa)->sin6_addr;
		n = 16;
		if (!memcmp(p, mapped, sizeof(mapped))) {
			p += 12; /* Go's To4(): an IPv4-mapped address hashes as IPv4 */
			n = 4;
		}
	} else {
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 16777619u; /* FNV 32 prime */
	}
	return h;
}

static void set_ip(struct pp_probe_metrics *m, const struct pp_addr *a)
{
	int fam = pp_addr_family(a);

	if (!a->len || (fam != AF_INET && fam != AF_INET6))
		return;
	m->has_ip = true;
	m->ip_protocol = fam == AF_INET ? 4 : 6;
	m->ip_addr_hash = pp_probe_ip_hash(a);
	pp_addr_str(a, m->ip, sizeof(m->ip));
}

static void set_slug(char *dst, const char *slug)
{
	snprintf(dst, PP_PROBE_SLUG_MAX, "%s", slug);
}

/* "AB:CD:..." (x509sum's fingerprint form) as "abcd..." into out (n bytes). */
static void hex_plain(const char *colons, char *out, size_t n)
{
	size_t j = 0;

	for (const char *p = colons; *p && j + 1 < n; p++)
		if (*p != ':')
			out[j++] = (char)(*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
	out[j] = '\0';
}

/* x509sum's serial ("0F", "-01", "00") as blackbox prints it ("0f", "01", ""). */
static char *serial_of(const char *serial)
{
	char *s;
	size_t j = 0;

	if (!serial)
		serial = "";
	if (*serial == '-')
		serial++;
	if (!strcmp(serial, "00"))
		serial = "";
	s = malloc(strlen(serial) + 1);
	if (!s)
		return NULL;
	for (const char *p = serial; *p; p++)
		s[j++] = (char)(*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
	s[j] = '\0';
	return s;
}

static char *join_names(const struct tls_strlist *l)
{
	size_t len = 1;
	char *s, *p;

	for (size_t i = 0; i < l->n; i++)
		len += strlen(l->v[i]) + 1;
	s = malloc(len);
	if (!s)
		return NULL;
	p = s;
	for (size_t i = 0; i < l->n; i++) {
		size_t k = strlen(l->v[i]);

		if (i)
			*p++ = ',';
		memcpy(p, l->v[i], k);
		p += k;
	}
	*p = '\0';
	return s;
}

/* Go's crypto/tls names, as blackbox_exporter's probe_tls_version_info. */
static const char *version_text(uint16_t v)
{
	switch (v) {
	case 0:
		return "";
	case TLS_VERSION_TLS13:
		return "TLS 1.3";
	case TLS_VERSION_TLS12:
		return "TLS 1.2";
	case TLS_VERSION_TLS11:
		return "TLS 1.1";
	case TLS_VERSION_TLS10:
		return "TLS 1.0";
	case TLS_VERSION_SSL3:
		return "SSL 3.0";
	case TLS_VERSION_SSL2:
		return "SSL 2.0";
	}
	return "unknown";
}

/* The certificate part, from the first chain served. 0 or -ENOMEM. */
static int set_tls(struct pp_probe_metrics *m, const struct tls_report *t)
{
	const struct tls_deployment *d = &t->deps[0];
	const struct tls_cert_info *leaf = &d->certs[0];
	struct pp_probe_tls_metrics *x = &m->tls;

	m->has_tls = true;
	snprintf(x->version, sizeof(x->version), "%s", version_text(d->version));
	x->earliest_expiry = (int64_t)tls_report_earliest_expiry(t);
	x->leaf_expiry = (int64_t)leaf->not_after_t;
	x->chain_verified = chain_ok(&d->chain);
	if (x->chain_verified)
		x->chain_expiry = (int64_t)d->chain.earliest_verified_not_after;
	else
		set_slug(x->verify_error, chain_slug(&d->chain));
	hex_plain(leaf->sha256, x->fingerprint_sha256, sizeof(x->fingerprint_sha256));
	x->subject = strdup(leaf->subject ? leaf->subject : "");
	x->issuer = strdup(leaf->issuer ? leaf->issuer : "");
	x->subjectalternative = join_names(&leaf->san_dns);
	x->serialnumber = serial_of(leaf->serial);
	if (!x->subject || !x->issuer || !x->subjectalternative || !x->serialnumber)
		return -ENOMEM;
	return 0;
}

/* reason and message of a certificate unit that is not OK, as runner.c's
 * judge_tls decides it: target failure, no certificate, a bad chain, then
 * the expiry. */
static void tls_failure(const struct tls_report *t, const char **slug, const char **msg)
{
	time_t earliest;

	if (t->error != PP_ERROR_NONE) {
		*slug = t->error_kind ? kind_slug(t->error_kind) : error_slug(t->error);
		*msg = t->error_kind ? t->error_kind : pp_error_message(t->error);
		return;
	}
	if (!t->ndeps) {
		*slug = "no_certificate";
		*msg = "No certificate";
		return;
	}
	for (size_t k = 0; k < t->ndeps; k++)
		if (!chain_ok(&t->deps[k].chain)) {
			*slug = chain_slug(&t->deps[k].chain);
			*msg = chain_message(&t->deps[k].chain);
			return;
		}
	earliest = tls_report_earliest_expiry(t);
	if (earliest && earliest < t->now) {
		*slug = "expired";
		*msg = "certificate expired";
	} else {
		*slug = "expires_soon";
		*msg = "certificate expires soon";
	}
}

int pp_probe_metrics_from_result(struct pp_probe_metrics *m, const struct pp_run_result *r)
{
	const struct tls_report *t = (const struct tls_report *)r->tls;
	const struct pp_check_result *c = r->check;
	struct pp_probe_metrics x;
	const char *slug = "", *msg = NULL;

	if (!c && !t)
		return -EINVAL;
	memset(&x, 0, sizeof(x));
	x.success = r->status == PP_RUN_OK || r->status == PP_RUN_WARNING;
	x.duration_s = r->duration;
	/* a connect unit has a check, a certificate unit a report; an ad-hoc
	 * probe with TLS after the connect (serve's /probe) may have both */
	if (c) {
		x.has_dns_time = true;
		x.dns_lookup_s = c->dns_time;
		if (c->has_ip)
			set_ip(&x, &c->ip);
	}
	if (t) {
		if (!x.has_ip)
			set_ip(&x, &t->ip);
		if (t->error == PP_ERROR_NONE && t->ndeps && t->deps[0].n && t->deps[0].certs &&
		    set_tls(&x, t) < 0) {
			pp_probe_metrics_release(&x);
			return -ENOMEM;
		}
	}
	if (r->status != PP_RUN_OK) {
		if (c && (!c->connected || !t)) {
			slug = error_slug(c->error);
			msg = pp_error_message(c->error);
		} else {
			tls_failure(t, &slug, &msg);
		}
		if (!msg || !*msg)
			msg = r->reason ? r->reason : "failed";
		set_slug(x.reason, *slug ? slug : "other");
		x.message = strdup(msg);
		if (!x.message) {
			pp_probe_metrics_release(&x);
			return -ENOMEM;
		}
	}
	*m = x;
	return 0;
}

/* *dst = a copy of src (NULL stays NULL); 0 or -ENOMEM. */
static int dup_or_null(char **dst, const char *src)
{
	*dst = src ? strdup(src) : NULL;
	return !src || *dst ? 0 : -ENOMEM;
}

int pp_probe_metrics_copy(struct pp_probe_metrics *dst, const struct pp_probe_metrics *src)
{
	struct pp_probe_metrics x = *src;

	/* no pointer into src survives, so a failure half-way releases only copies */
	x.message = x.tls.subject = x.tls.issuer = NULL;
	x.tls.subjectalternative = x.tls.serialnumber = NULL;
	if (dup_or_null(&x.message, src->message) < 0 ||
	    dup_or_null(&x.tls.subject, src->tls.subject) < 0 ||
	    dup_or_null(&x.tls.issuer, src->tls.issuer) < 0 ||
	    dup_or_null(&x.tls.subjectalternative, src->tls.subjectalternative) < 0 ||
	    dup_or_null(&x.tls.serialnumber, src->tls.serialnumber) < 0) {
		pp_probe_metrics_release(&x);
		return -ENOMEM;
	}
	*dst = x;
	return 0;
}

void pp_probe_metrics_release(struct pp_probe_metrics *m)
{
	if (!m)
		return;
	free(m->message);
	free(m->tls.subject);
	free(m->tls.issuer);
	free(m->tls.subjectalternative);
	free(m->tls.serialnumber);
	memset(m, 0, sizeof(*m));
}

/* ---- numbers and labels -------------------------------------------------------- */

void pp_prom_put_label_value(struct pp_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			pp_buf_puts(b, "\\\\");
		else if (*s == '"')
			pp_buf_puts(b, "\\\"");
		else if (*s == '\n')
			pp_buf_puts(b, "\\n");
		else
			pp_buf_put(b, s, 1);
	}
}

void pp_prom_put_float(struct pp_buf *b, double v)
{
	char e[40], digits[24], out[64];
	const char *p;
	int nd = 0, exp10, prec, len = 0;

	if (isnan(v)) {
		pp_buf_puts(b, "NaN");
		return;
	}
	if (isinf(v)) {
		pp_buf_puts(b, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (v == 0) {
		pp_buf_puts(b, signbit(v) ? "-0" : "0");
		return;
	}
	/* the shortest decimal that reads back as v: what Go's 'g', -1 prints */
	for (prec = 0; prec < 17; prec++) {
		snprintf(e, sizeof(e), "%.*e", prec, v);
		if (strtod(e, NULL) == v)
			break;
	}
	p = e;
	if (*p == '-') {
		out[len++] = '-';
		p++;
	}
	for (; *p && *p != 'e'; p++)
		if (*p >= '0' && *p <= '9' && nd < (int)sizeof(digits) - 1)
			digits[nd++] = *p;
	exp10 = *p == 'e' ? (int)strtol(p + 1, NULL, 10) : 0;
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	if (exp10 < -4 || exp10 >= 6) {
		/* d.ddde±XX, at least two exponent digits as Go writes them */
		out[len++] = digits[0];
		if (nd > 1) {
			out[len++] = '.';
			memcpy(out + len, digits + 1, (size_t)nd - 1);
			len += nd - 1;
		}
		snprintf(out + len, sizeof(out) - (size_t)len, "e%c%02d", exp10 < 0 ? '-' : '+',
			 exp10 < 0 ? -exp10 : exp10);
	} else if (exp10 < 0) {
		/* 0.000ddd */
		out[len++] = '0';
		out[len++] = '.';
		for (int i = -1; i > exp10; i--)
			out[len++] = '0';
		memcpy(out + len, digits, (size_t)nd);
		len += nd;
		out[len] = '\0';
	} else {
		/* ddd.ddd or ddd000 (exp10 < 6, so at most 6 integer digits) */
		for (int i = 0; i <= exp10 || i < nd; i++) {
			if (i == exp10 + 1)
				out[len++] = '.';
			out[len++] = i < nd ? digits[i] : '0';
		}
		out[len] = '\0';
	}
	pp_buf_puts(b, out);
}

/* ---- the exposition -------------------------------------------------------------- */

#define SAMPLE_LABELS_MAX 5

/* One record's sample of a family: its value and the metric's own labels. */
struct sample {
	double value;
	size_t nl;
	const char *name[SAMPLE_LABELS_MAX];
	const char *value_of[SAMPLE_LABELS_MAX];
};

/* Fills *s and returns true when the record has a sample of the family. */
typedef bool family_sample_fn(const struct pp_probe_metrics *m, struct sample *s);

static void label(struct sample *s, const char *name, const char *value)
{
	s->name[s->nl] = name;
	s->value_of[s->nl] = value ? value : "";
	s->nl++;
}

static bool f_dns(const struct pp_probe_metrics *m, struct sample *s)
{
	s->value = m->dns_lookup_s;
	return m->has_dns_time;
}

static bool f_duration(const struct pp_probe_metrics *m, struct sample *s)
{
	s->value = m->duration_s;
	return true;
}

static bool f_failure(const struct pp_probe_metrics *m, struct sample *s)
{
	if (m->success)
		return false;
	label(s, "message", m->message);
	label(s, "reason", m->reason[0] ? m->reason : "other");
	s->value = 1;
	return true;
}

static bool f_ip_hash(const struct pp_probe_metrics *m, struct sample *s)
{
	s->value = m->has_ip ? (double)m->ip_addr_hash : 0;
	return true;
}

static bool f_ip_protocol(const struct pp_probe_metrics *m, struct sample *s)
{
	s->value = m->has_ip ? m->ip_protocol : 0;
	return true;
}

static bool f_chain_verified(const struct pp_probe_metrics *m, struct sample *s)
{
	s->value = m->tls.chain_verified;
	return m->has_tls;
}

static bool f_earliest(const struct pp_probe_metrics *m, struct sample *s)
{
	s->value = (double)m->tls.earliest_expiry;
	return m->has_tls && m->tls.earliest_expiry;
}

static bool f_chain_expiry(const struct pp_probe_metrics *m, struct sample *s)
{
	s->value = (double)m->tls.chain_expiry;
	return m->has_tls && m->tls.chain_verified && m->tls.chain_expiry;
}

static bool f_chain_info(const struct pp_probe_metrics *m, struct sample *s)
{
	if (!m->has_tls)
		return false;
	label(s, "fingerprint_sha256", m->tls.fingerprint_sha256);
	label(s, "issuer", m->tls.issuer);
	label(s, "serialnumber", m->tls.serialnumber);
	label(s, "subject", m->tls.subject);
	label(s, "subjectalternative", m->tls.subjectalternative);
	s->value = 1;
	return true;
}

static bool f_leaf_expiry(const struct pp_probe_metrics *m, struct sample *s)
{
	s->value = (double)m->tls.leaf_expiry;
	return m->has_tls && m->tls.leaf_expiry;
}

static bool f_verify_error(const struct pp_probe_metrics *m, struct sample *s)
{
	if (!m->has_tls || m->tls.chain_verified)
		return false;
	label(s, "error", m->tls.verify_error[0] ? m->tls.verify_error : "other");
	s->value = 1;
	return true;
}

static bool f_success(const struct pp_probe_metrics *m, struct sample *s)
{
	s->value = m->success;
	return true;
}

static bool f_tls_version(const struct pp_probe_metrics *m, struct sample *s)
{
	if (!m->has_tls || !m->tls.version[0])
		return false;
	label(s, "version", m->tls.version);
	s->value = 1;
	return true;
}

/* In name order, as client_golang gathers them. */
static const struct {
	const char *name;
	const char *help;
	family_sample_fn *fn;
} families[] = {
    {"probe_dns_lookup_time_seconds", "Seconds spent resolving the target's name.", f_dns},
    {"probe_duration_seconds", "Seconds the whole probe took.", f_duration},
    {"probe_failure_info",
     "Why the probe failed: a stable reason slug and the human message (failed probes only).",
     f_failure},
    {"probe_ip_addr_hash", "FNV-1a 32-bit hash of the probed IP address, to notice it change.",
     f_ip_hash},
    {"probe_ip_protocol", "IP version of the probed address: 4 or 6, 0 when unresolved.",
     f_ip_protocol},
    {"probe_ssl_chain_verified",
     "1 when the certificate chain verified and names the host, else 0.", f_chain_verified},
    {"probe_ssl_earliest_cert_expiry",
     "Earliest NotAfter of the certificates the server presented, in Unix seconds.", f_earliest},
    {"probe_ssl_last_chain_expiry_timestamp_seconds",
     "Earliest NotAfter of the verified chain, in Unix seconds (only when it verified).",
     f_chain_expiry},
    {"probe_ssl_last_chain_info", "The leaf certificate's identity.", f_chain_info},
    {"probe_ssl_leaf_cert_expiry_timestamp_seconds",
     "NotAfter of the leaf certificate, in Unix seconds.", f_leaf_expiry},
    {"probe_ssl_verify_error_info", "Why the certificate chain did not verify.", f_verify_error},
    {"probe_success", "1 when the probe succeeded, else 0.", f_success},
    {"probe_tls_version_info", "The TLS version negotiated.", f_tls_version},
};

static bool metric_has_label(const struct sample *s, const char *name)
{
	for (size_t i = 0; i < s->nl; i++)
		if (!strcmp(s->name[i], name))
			return true;
	return false;
}

static void put_label(struct pp_buf *b, const char *name, const char *value, bool *first)
{
	pp_buf_puts(b, *first ? "{" : ",");
	pp_buf_puts(b, name);
	pp_buf_puts(b, "=\"");
	pp_prom_put_label_value(b, value ? value : "");
	pp_buf_puts(b, "\"");
	*first = false;
}

static void put_sample(struct pp_buf *b, const char *name, const struct pp_label_set *ls,
		       const struct sample *s)
{
	bool first = true;

	pp_buf_puts(b, name);
	for (size_t i = 0; ls && i < ls->n; i++)
		if (!metric_has_label(s, ls->v[i].name))
			put_label(b, ls->v[i].name, ls->v[i].value, &first);
	for (size_t i = 0; i < s->nl; i++)
		put_label(b, s->name[i], s->value_of[i], &first);
	pp_buf_puts(b, first ? " " : "} ");
	pp_prom_put_float(b, s->value);
	pp_buf_puts(b, "\n");
}

size_t pp_probe_metrics_families(void)
{
	return sizeof(families) / sizeof(families[0]);
}

int pp_probe_metrics_write_family(struct pp_buf *b, size_t f,
				  const struct pp_probe_metrics *const *ms,
				  const struct pp_label_set *const *labels, size_t n)
{
	bool head = false;

	if (f >= pp_probe_metrics_families())
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		struct sample s = {0};

		if (!ms[i] || !families[f].fn(ms[i], &s))
			continue;
		if (!head) {
			pp_buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n", families[f].name,
				      families[f].help, families[f].name);
			head = true;
		}
		put_sample(b, families[f].name, labels ? labels[i] : NULL, &s);
	}
	return b->err;
}

int pp_probe_metrics_write(struct pp_buf *b, const struct pp_probe_metrics *const *ms,
			   const struct pp_label_set *const *labels, size_t n)
{
	for (size_t f = 0; f < pp_probe_metrics_families(); f++)
		pp_probe_metrics_write_family(b, f, ms, labels, n);
	return b->err;
}
