/* test_probe_metrics.c: the probe metrics record and its Prometheus
 * exposition (src/lib/out/probe_metrics.c), and the InfraSonar items
 * (src/lib/out/run_infrasonar.c), byte for byte.
 *
 * Results are built the way the runner hands them over: a check result for
 * a connect unit, a TLS report for a certificate unit, cfg NULL (as serve's
 * /probe passes it). The certificates are real, made here with the OpenSSL
 * API from fixed Ed25519 keys (Ed25519 signatures are deterministic, so the
 * DER, and every fingerprint in the expected texts, is the same on every
 * run) and judged by x509sum.c at the fixed present NOW. On a mismatch the
 * output is saved to /tmp/pp_probe_metrics_<name>.got and the first
 * differing line is printed. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "portprobe/parse.h"
#include "portprobe/probe_metrics.h"
#include "portprobe/runner.h"
#include "test.h"
#include "tls/report.h"
#include "tls/suites.h"
#include "tls/x509sum.h"

/* 2026-11-21T12:00:00Z: the fixed present */
#define NOW ((time_t)1795262400)

/* --- comparing texts ---------------------------------------------------------- */

/* 0 when equal; else saves got, prints the first differing line, returns 1. */
static int text_differs(const char *name, const char *got, const char *want)
{
	char path[128];
	FILE *f;
	size_t line = 1, i = 0, start = 0;

	if (got && !strcmp(got, want))
		return 0;
	if (!got)
		got = "";
	snprintf(path, sizeof(path), "/tmp/pp_probe_metrics_%s.got", name);
	f = fopen(path, "w");
	if (f) {
		fputs(got, f);
		fclose(f);
	}
	while (got[i] && got[i] == want[i]) {
		if (got[i] == '\n') {
			line++;
			start = i + 1;
		}
		i++;
	}
	fprintf(stderr, "%s: line %zu differs (output saved to %s)\n  got:  %.*s\n  want: %.*s\n",
		name, line, path, (int)strcspn(got + start, "\n"), got + start,
		(int)strcspn(want + start, "\n"), want + start);
	return 1;
}

#define ASSERT_TEXT(name, got, want)                                                               \
	do {                                                                                       \
		if (text_differs(name, got, want))                                                 \
			TEST_FAIL_("%s: output differs", name);                                    \
	} while (0)

/* --- results as the runner hands them over --------------------------------------- */

/* A connect unit's check result. ip NULL: the name did not resolve. */
static void check_result(struct pp_check_result *c, const char *host, const char *ip, uint16_t port,
			 enum pp_error err, enum pp_state st, enum pp_reason why,
			 double response_time, double dns_time)
{
	const char *bad;

	memset(c, 0, sizeof(*c));
	c->host = host;
	c->port = port;
	c->connected = err == PP_ERROR_NONE;
	if (ip && pp_parse_ip(ip, port, &c->ip, &bad) == 0)
		c->has_ip = true;
	c->error = err;
	c->out.state = st;
	c->out.reason = why;
	c->out.error = err;
	c->response_time = response_time;
	c->dns_time = dns_time;
	c->attempts = 1;
	c->timestamp = (struct timespec){NOW, 0};
}

static struct pp_run_result run_result(const struct pp_check_result *c, const struct tls_report *t,
				       enum pp_run_status st, const char *reason, double duration)
{
	struct pp_run_result r;

	memset(&r, 0, sizeof(r));
	r.cfg = NULL; /* as serve's /probe: extraction must not need it */
	r.unit = SIZE_MAX;
	r.status = st;
	r.reason = reason;
	r.check = c;
	r.tls = (const struct pp_tls_report *)t;
	r.duration = duration;
	r.timestamp = (struct timespec){NOW, 0};
	return r;
}

/* The exposition of one record into b (reset first); NULL on failure. */
static const char *expose(struct pp_buf *b, const struct pp_run_result *r,
			  const struct pp_label_set *ls)
{
	struct pp_probe_metrics m;
	const struct pp_probe_metrics *mp = &m;

	pp_buf_reset(b);
	if (pp_probe_metrics_from_result(&m, r) < 0)
		return NULL;
	pp_probe_metrics_write(b, &mp, ls ? &ls : NULL, 1);
	pp_probe_metrics_release(&m);
	return b->err ? NULL : b->len ? b->data : "";
}

/* --- fixed keys (openssl genpkey -algorithm ed25519; test material only) ------------ */

static const char key_root[] = "-----BEGIN PRIVATE KEY-----\n"
			       "MC4CAQAwBQYDK2VwBCIEII9TiTKzwculYij2Z3Ic5X6/J9onIfXjmhz5va+HCpjh\n"
			       "-----END PRIVATE KEY-----\n";
static const char key_int[] = "-----BEGIN PRIVATE KEY-----\n"
			      "MC4CAQAwBQYDK2VwBCIEIOQxWj35Sy/iFhqRBKfagvatghlgNRcOkbypzLVxzI6D\n"
			      "-----END PRIVATE KEY-----\n";
static const char key_leaf[] = "-----BEGIN PRIVATE KEY-----\n"
			       "MC4CAQAwBQYDK2VwBCIEIMUDdkRs1KnZukZf8LwwzAlEY6r8AkmDoIhTpPxHpEA+\n"
			       "-----END PRIVATE KEY-----\n";

/* The test PKI: root -> intermediate -> leaf, and a self-signed certificate. */
struct pki {
	EVP_PKEY *k_root, *k_int, *k_leaf;
	X509 *root;  /* O=Portprobe Tests/CN=Test Root, 2025-01-01 .. 2035-01-01 */
	X509 *inter; /* CN=Test Intermediate, .. 2026-12-15 (before the leaf) */
	X509 *leaf;  /* CN=www.example.test, SAN www + *.example.test + 192.0.2.7, .. 2027-01-01 */
	X509 *self;  /* CN=self.example.test, self-signed, .. 2026-12-01 */
	X509_STORE *store; /* trusts root */
};

static EVP_PKEY *pkey_of(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;

	BIO_free(b);
	return k;
}

/* "O=a/CN=b" as an X509_NAME, attributes in that order. */
static X509_NAME *dn_of(const char *spec)
{
	X509_NAME *n = X509_NAME_new();
	char buf[256];

	snprintf(buf, sizeof(buf), "%s", spec);
	for (char *rdn = buf; n && rdn;) {
		char *end = strchr(rdn, '/'), *eq;

		if (end)
			*end = '\0';
		eq = strchr(rdn, '=');
		if (!eq) {
			X509_NAME_free(n);
			return NULL;
		}
		*eq = '\0';
		if (!X509_NAME_add_entry_by_txt(n, rdn, MBSTRING_UTF8, (unsigned char *)eq + 1, -1,
						-1, 0)) {
			X509_NAME_free(n);
			return NULL;
		}
		rdn = end ? end + 1 : NULL;
	}
	return n;
}

static bool add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;
	bool ok;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	ok = e && X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok;
}

/* A certificate for key issued by issuer with issuer_key (NULL: self-signed),
 * read back from its DER as a probe would see it; NULL on failure. */
static X509 *cert_new(const char *subject, const char *serial_hex, const char *not_before,
		      const char *not_after, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
		      bool ca, const char *san)
{
	X509 *x = X509_new(), *out = NULL;
	X509_NAME *dn = dn_of(subject);
	BIGNUM *bn = NULL;
	ASN1_INTEGER *sn = NULL;
	unsigned char *der = NULL;
	const unsigned char *p;
	int len;
	bool ok = x && dn && BN_hex2bn(&bn, serial_hex) && (sn = BN_to_ASN1_INTEGER(bn, NULL)) &&
		  X509_set_version(x, X509_VERSION_3) && X509_set_serialNumber(x, sn) &&
		  X509_set_subject_name(x, dn) &&
		  X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : dn) &&
		  ASN1_TIME_set_string_X509(X509_getm_notBefore(x), not_before) &&
		  ASN1_TIME_set_string_X509(X509_getm_notAfter(x), not_after) &&
		  X509_set_pubkey(x, key) &&
		  add_ext(x, issuer ? issuer : x, NID_basic_constraints,
			  ca ? "critical,CA:TRUE" : "critical,CA:FALSE") &&
		  (!ca || add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign")) &&
		  (!san || add_ext(x, x, NID_subject_alt_name, san)) &&
		  X509_sign(x, issuer ? issuer_key : key, NULL) > 0;

	if (ok && (len = i2d_X509(x, &der)) > 0) {
		p = der;
		out = d2i_X509(NULL, &p, len);
	}
	OPENSSL_free(der);
	BN_free(bn);
	ASN1_INTEGER_free(sn);
	X509_NAME_free(dn);
	X509_free(x);
	return out;
}

static void pki_free(struct pki *p)
{
	X509_free(p->root);
	X509_free(p->inter);
	X509_free(p->leaf);
	X509_free(p->self);
	EVP_PKEY_free(p->k_root);
	EVP_PKEY_free(p->k_int);
	EVP_PKEY_free(p->k_leaf);
	X509_STORE_free(p->store);
	memset(p, 0, sizeof(*p));
}

static int pki_init(struct pki *p)
{
	memset(p, 0, sizeof(*p));
	p->k_root = pkey_of(key_root);
	p->k_int = pkey_of(key_int);
	p->k_leaf = pkey_of(key_leaf);
	if (!p->k_root || !p->k_int || !p->k_leaf)
		return -1;
	p->root = cert_new("O=Portprobe Tests/CN=Test Root", "01", "20250101000000Z",
			   "20350101000000Z", p->k_root, NULL, NULL, true, NULL);
	p->inter = cert_new("O=Portprobe Tests/CN=Test Intermediate", "1000", "20250601000000Z",
			    "20261215000000Z", p->k_int, p->root, p->k_root, true, NULL);
	p->leaf = cert_new("O=Portprobe Tests/CN=www.example.test", "00FEDCBA98", "20261001000000Z",
			   "20270101000000Z", p->k_leaf, p->inter, p->k_int, false,
			   "DNS:www.example.test,DNS:*.example.test,IP:192.0.2.7");
	p->self = cert_new("CN=self.example.test", "01", "20261101000000Z", "20261201000000Z",
			   p->k_leaf, NULL, NULL, false, "DNS:self.example.test");
	p->store = X509_STORE_new();
	if (!p->root || !p->inter || !p->leaf || !p->self || !p->store ||
	    !X509_STORE_add_cert(p->store, p->root))
		return -1;
	return 0;
}

/* A certificate unit's report as the engine fills it: chain as sent (owned
 * DER, summaries), verified against the PKI's store for host at NOW, and the
 * given negotiated version. NULL on failure. */
static struct tls_report *cert_report(const struct pki *p, const char *host, const char *ip,
				      X509 *const *chain, size_t n, uint16_t version)
{
	struct tls_report *r = calloc(1, sizeof(*r));
	struct tls_verify_opts vo = {.store = p->store, .host = host, .now = NOW};
	STACK_OF(X509) *sk = sk_X509_new_null();
	struct tls_deployment *d;
	const char *bad;
	bool ok;

	if (!r || !sk || !(r->host = strdup(host)) || pp_parse_ip(ip, 443, &r->ip, &bad) < 0)
		goto fail;
	r->port = 443;
	r->start = (struct timespec){NOW, 0};
	r->end = (struct timespec){NOW, 250000000};
	r->now = NOW;
	r->connections = 3;
	r->deps = calloc(1, sizeof(*r->deps));
	if (!r->deps)
		goto fail;
	r->ndeps = 1;
	d = &r->deps[0];
	d->n = n;
	d->der = calloc(n, sizeof(*d->der));
	d->der_len = calloc(n, sizeof(*d->der_len));
	d->certs = calloc(n, sizeof(*d->certs));
	ok = d->der && d->der_len && d->certs;
	for (size_t i = 0; ok && i < n; i++) {
		int len = i2d_X509(chain[i], &d->der[i]);

		ok = len > 0 && tls_cert_summarize(chain[i], NOW, &d->certs[i]) == 0 &&
		     sk_X509_push(sk, chain[i]);
		d->der_len[i] = len > 0 ? (size_t)len : 0;
	}
	if (!ok || tls_chain_verify(sk, &vo, &d->chain) < 0)
		goto fail;
	d->found_by = TLS_CERT_PROBE_RSA | TLS_CERT_PROBE_SNI;
	d->version = version;
	sk_X509_free(sk);
	return r;
fail:
	sk_X509_free(sk);
	tls_report_free(r);
	return NULL;
}

static int add_suite(struct tls_report *r, enum tls_proto p, uint16_t id)
{
	struct tls_accepted *a = realloc(r->ciphers, (r->nciphers + 1) * sizeof(*a));

	if (!a)
		return -1;
	r->ciphers = a;
	r->ciphers[r->nciphers++] = (struct tls_accepted){.proto = p, .id = id};
	r->support[p] = TLS_SUPPORT_YES;
	return 0;
}

/* --- the exposition of connect units ------------------------------------------------ */

#define HEAD(name, help) "# HELP " name " " help "\n# TYPE " name " gauge\n"
#define H_DNS            HEAD("probe_dns_lookup_time_seconds", "Seconds spent resolving the target's name.")
#define H_DURATION       HEAD("probe_duration_seconds", "Seconds the whole probe took.")
#define H_FAILURE                                                                                  \
	HEAD("probe_failure_info", "Why the probe failed: a stable reason slug and the human "     \
				   "message (failed probes only).")
#define H_HASH                                                                                     \
	HEAD("probe_ip_addr_hash",                                                                 \
	     "FNV-1a 32-bit hash of the probed IP address, to notice it change.")
#define H_PROTO                                                                                    \
	HEAD("probe_ip_protocol", "IP version of the probed address: 4 or 6, 0 when unresolved.")
#define H_VERIFIED                                                                                 \
	HEAD("probe_ssl_chain_verified",                                                           \
	     "1 when the certificate chain verified and names the host, else 0.")
#define H_EARLIEST                                                                                 \
	HEAD("probe_ssl_earliest_cert_expiry",                                                     \
	     "Earliest NotAfter of the certificates the server presented, in Unix seconds.")
#define H_CHAIN_EXPIRY                                                                             \
	HEAD("probe_ssl_last_chain_expiry_timestamp_seconds",                                      \
	     "Earliest NotAfter of the verified chain, in Unix seconds (only when it verified).")
#define H_CHAIN_INFO HEAD("probe_ssl_last_chain_info", "The leaf certificate's identity.")
#define H_LEAF                                                                                     \
	HEAD("probe_ssl_leaf_cert_expiry_timestamp_seconds",                                       \
	     "NotAfter of the leaf certificate, in Unix seconds.")
#define H_VERIFY_ERROR                                                                             \
	HEAD("probe_ssl_verify_error_info", "Why the certificate chain did not verify.")
#define H_SUCCESS HEAD("probe_success", "1 when the probe succeeded, else 0.")
#define H_VERSION HEAD("probe_tls_version_info", "The TLS version negotiated.")

TEST_IMPL(probe_metrics_open_port_is_blackbox_tcp_connect_answer)
{
	/* research probes.md 2.4: blackbox's answer for an open loopback port */
	static const char want[] = H_DNS "probe_dns_lookup_time_seconds 1.847e-05\n" H_DURATION
					 "probe_duration_seconds 0.000206776\n" H_HASH
					 "probe_ip_addr_hash 3.668918509e+09\n" H_PROTO
					 "probe_ip_protocol 4\n" H_SUCCESS "probe_success 1\n";
	struct pp_check_result c;
	struct pp_run_result r;
	struct pp_probe_metrics m;
	struct pp_buf b;

	check_result(&c, "localhost", "127.0.0.1", 18080, PP_ERROR_NONE, PP_STATE_OPEN,
		     PP_REASON_SYN_ACK, 0.000150, 1.847e-05);
	r = run_result(&c, NULL, PP_RUN_OK, NULL, 0.000206776);
	ASSERT_EQ(pp_probe_metrics_from_result(&m, &r), 0);
	ASSERT_TRUE(m.success);
	ASSERT_TRUE(m.has_ip);
	ASSERT_STR_EQ(m.ip, "127.0.0.1");
	ASSERT_EQ(m.ip_protocol, 4);
	ASSERT_UEQ(m.ip_addr_hash, 3668918509u);
	ASSERT_STR_EQ(m.reason, "");
	ASSERT_TRUE(m.message == NULL);
	ASSERT_TRUE(!m.has_tls);
	pp_probe_metrics_release(&m);

	pp_buf_init(&b, 1 << 20);
	ASSERT_TEXT("open", expose(&b, &r, NULL), want);
	pp_buf_release(&b);
	return 0;
}

TEST_IMPL(probe_metrics_refused_port_says_refused_as_data)
{
	static const struct pp_label l[] = {{"check", "db"},
					    {"unit", "db"},
					    {"host", "127.0.0.1"},
					    {"port", "18081"},
					    {"tier", "1"}};
	static const struct pp_label_set ls = {l, 5};
	static const char want[] =
	    H_DNS "probe_dns_lookup_time_seconds{check=\"db\",unit=\"db\",host=\"127.0.0.1\","
		  "port=\"18081\",tier=\"1\"} 0\n" H_DURATION
		  "probe_duration_seconds{check=\"db\",unit=\"db\",host=\"127.0.0.1\","
		  "port=\"18081\",tier=\"1\"} 0.000240924\n" H_FAILURE
		  "probe_failure_info{check=\"db\",unit=\"db\",host=\"127.0.0.1\",port=\"18081\","
		  "tier=\"1\",message=\"Connection refused\",reason=\"refused\"} 1\n" H_HASH
		  "probe_ip_addr_hash{check=\"db\",unit=\"db\",host=\"127.0.0.1\",port=\"18081\","
		  "tier=\"1\"} 3.668918509e+09\n" H_PROTO
		  "probe_ip_protocol{check=\"db\",unit=\"db\",host=\"127.0.0.1\",port=\"18081\","
		  "tier=\"1\"} 4\n" H_SUCCESS
		  "probe_success{check=\"db\",unit=\"db\",host=\"127.0.0.1\",port=\"18081\","
		  "tier=\"1\"} 0\n";
	struct pp_check_result c;
	struct pp_run_result r;
	struct pp_buf b;

	check_result(&c, "127.0.0.1", "127.0.0.1", 18081, PP_ERROR_REFUSED, PP_STATE_CLOSED,
		     PP_REASON_CONN_REFUSED, 0.000100, 0);
	r = run_result(&c, NULL, PP_RUN_CRITICAL, "Connection refused", 0.000240924);
	pp_buf_init(&b, 1 << 20);
	ASSERT_TEXT("refused", expose(&b, &r, &ls), want);
	pp_buf_release(&b);
	return 0;
}

TEST_IMPL(probe_metrics_timeout_says_timeout)
{
	static const char want[] =
	    H_DNS "probe_dns_lookup_time_seconds 0\n" H_DURATION
		  "probe_duration_seconds 3.002401733\n" H_FAILURE
		  "probe_failure_info{message=\"Connection timeout\","
		  "reason=\"timeout\"} 1\n" H_HASH "probe_ip_addr_hash 1.24746452e+09\n" H_PROTO
		  "probe_ip_protocol 6\n" H_SUCCESS "probe_success 0\n";
	struct pp_check_result c;
	struct pp_run_result r;
	struct pp_buf b;

	check_result(&c, "2001:db8::25", "2001:db8::25", 18082, PP_ERROR_TIMEOUT, PP_STATE_FILTERED,
		     PP_REASON_NO_RESPONSE, 3.0, 0);
	r = run_result(&c, NULL, PP_RUN_CRITICAL, "Connection timeout", 3.002401733);
	pp_buf_init(&b, 1 << 20);
	ASSERT_TEXT("timeout", expose(&b, &r, NULL), want);
	pp_buf_release(&b);
	return 0;
}

TEST_IMPL(probe_metrics_unresolved_name_has_no_address_and_says_host_not_found)
{
	/* blackbox: probe_ip_addr_hash 0, probe_ip_protocol 0, and no reason */
	static const char want[] =
	    H_DNS "probe_dns_lookup_time_seconds 0.0125\n" H_DURATION
		  "probe_duration_seconds 0.013\n" H_FAILURE
		  "probe_failure_info{message=\"Host not found\","
		  "reason=\"host_not_found\"} 1\n" H_HASH "probe_ip_addr_hash 0\n" H_PROTO
		  "probe_ip_protocol 0\n" H_SUCCESS "probe_success 0\n";
	struct pp_check_result c;
	struct pp_run_result r;
	struct pp_probe_metrics m;
	struct pp_buf b;

	check_result(&c, "nonexistent.invalid", NULL, 80, PP_ERROR_HOST_NOT_FOUND, PP_STATE_UNKNOWN,
		     PP_REASON_NONE, 0.013, 0.0125);
	r = run_result(&c, NULL, PP_RUN_CRITICAL, "Host not found", 0.013);
	ASSERT_EQ(pp_probe_metrics_from_result(&m, &r), 0);
	ASSERT_TRUE(!m.has_ip);
	ASSERT_STR_EQ(m.ip, "");
	ASSERT_STR_EQ(m.reason, "host_not_found");
	ASSERT_STR_EQ(m.message, "Host not found");
	pp_probe_metrics_release(&m);
	pp_buf_init(&b, 1 << 20);
	ASSERT_TEXT("unresolved", expose(&b, &r, NULL), want);
	pp_buf_release(&b);
	return 0;
}

/* --- the exposition of certificate units --------------------------------------------- */

TEST_IMPL(probe_metrics_verified_chain_exports_every_certificate_family)
{
	/* the intermediate expires first: earliest and chain expiry are its
	 * NotAfter (2026-12-15), the leaf's own is 2027-01-01 */
	static const char want[] = H_DURATION
	    "probe_duration_seconds{unit=\"web/cert:443\"} 0.25\n" H_HASH
	    "probe_ip_addr_hash{unit=\"web/cert:443\"} 1.936431214e+09\n" H_PROTO
	    "probe_ip_protocol{unit=\"web/cert:443\"} 4\n" H_VERIFIED
	    "probe_ssl_chain_verified{unit=\"web/cert:443\"} 1\n" H_EARLIEST
	    "probe_ssl_earliest_cert_expiry{unit=\"web/cert:443\"} 1.7972928e+09\n" H_CHAIN_EXPIRY
	    "probe_ssl_last_chain_expiry_timestamp_seconds{unit=\"web/cert:443\"} "
	    "1.7972928e+09\n" H_CHAIN_INFO "probe_ssl_last_chain_info{unit=\"web/"
	    "cert:443\",fingerprint_sha256="
	    "\"a18ae44498f20550b336104206cf71c5b2dfb88b8cff83905b782de7c1366bf1\","
	    "issuer=\"CN=Test Intermediate,O=Portprobe Tests\",serialnumber=\"fedcba98\","
	    "subject=\"CN=www.example.test,O=Portprobe Tests\","
	    "subjectalternative=\"www.example.test,*.example.test\"} 1\n" H_LEAF
	    "probe_ssl_leaf_cert_expiry_timestamp_seconds{unit=\"web/cert:443\"} "
	    "1.7987616e+09\n" H_SUCCESS "probe_success{unit=\"web/cert:443\"} 1\n" H_VERSION
	    "probe_tls_version_info{unit=\"web/cert:443\",version=\"TLS 1.3\"} 1\n";
	static const struct pp_label l[] = {{"unit", "web/cert:443"}};
	static const struct pp_label_set ls = {l, 1};
	struct pki p;
	struct tls_report *t;
	struct pp_run_result r;
	struct pp_probe_metrics m;
	struct pp_buf b;
	X509 *chain[2];

	ASSERT_EQ(pki_init(&p), 0);
	chain[0] = p.leaf;
	chain[1] = p.inter;
	t = cert_report(&p, "www.example.test", "192.0.2.7", chain, 2, TLS_VERSION_TLS13);
	ASSERT_TRUE(t != NULL);
	ASSERT_TRUE(t->deps[0].chain.verified);
	r = run_result(NULL, t, PP_RUN_OK, NULL, 0.25);
	ASSERT_EQ(pp_probe_metrics_from_result(&m, &r), 0);
	ASSERT_TRUE(m.success && m.has_tls && m.tls.chain_verified);
	ASSERT_TRUE(!m.has_dns_time);
	ASSERT_EQ(m.tls.earliest_expiry, 1797292800);
	ASSERT_EQ(m.tls.leaf_expiry, 1798761600);
	ASSERT_EQ(m.tls.chain_expiry, 1797292800);
	ASSERT_STR_EQ(m.tls.verify_error, "");
	ASSERT_STR_EQ(m.tls.fingerprint_sha256,
		      "a18ae44498f20550b336104206cf71c5b2dfb88b8cff83905b782de7c1366bf1");
	pp_probe_metrics_release(&m);

	pp_buf_init(&b, 1 << 20);
	ASSERT_TEXT("verified", expose(&b, &r, &ls), want);

	/* WARNING (expiring within warning_days) is still success, no failure info */
	r = run_result(NULL, t, PP_RUN_WARNING, "expires soon", 0.25);
	ASSERT_EQ(pp_probe_metrics_from_result(&m, &r), 0);
	ASSERT_TRUE(m.success);
	ASSERT_STR_EQ(m.reason, "expires_soon");
	ASSERT_STR_EQ(m.message, "certificate expires soon");
	pp_probe_metrics_release(&m);
	ASSERT_TRUE(strstr(expose(&b, &r, NULL), "probe_failure_info") == NULL);
	pp_buf_release(&b);
	tls_report_free(t);
	pki_free(&p);
	return 0;
}

TEST_IMPL(probe_metrics_untrusted_chain_still_exports_its_certificate)
{
	/* blackbox #1119: a certificate that does not verify is still described;
	 * #653: no last-chain expiry (blackbox would print Go's zero time) */
	static const char want[] = H_DURATION
	    "probe_duration_seconds 0.5\n" H_FAILURE
	    "probe_failure_info{message=\"self-signed certificate\",reason=\"self_signed\"} "
	    "1\n" H_HASH "probe_ip_addr_hash 3.668918509e+09\n" H_PROTO
	    "probe_ip_protocol 4\n" H_VERIFIED "probe_ssl_chain_verified 0\n" H_EARLIEST
	    "probe_ssl_earliest_cert_expiry 1.7960832e+09\n" H_CHAIN_INFO
	    "probe_ssl_last_chain_info{fingerprint_sha256="
	    "\"78bfea3843013ecec028cd3ad8c853ce2cea4ad95b36fc7a4dd366f6c49ab84c\",issuer=\"CN=self."
	    "example.test\","
	    "serialnumber=\"01\",subject=\"CN=self.example.test\","
	    "subjectalternative=\"self.example.test\"} 1\n" H_LEAF
	    "probe_ssl_leaf_cert_expiry_timestamp_seconds 1.7960832e+09\n" H_VERIFY_ERROR
	    "probe_ssl_verify_error_info{error=\"self_signed\"} 1\n" H_SUCCESS
	    "probe_success 0\n" H_VERSION "probe_tls_version_info{version=\"TLS 1.2\"} 1\n";
	struct pki p;
	struct tls_report *t;
	struct pp_run_result r;
	struct pp_buf b;

	ASSERT_EQ(pki_init(&p), 0);
	t = cert_report(&p, "self.example.test", "127.0.0.1", &p.self, 1, TLS_VERSION_TLS12);
	ASSERT_TRUE(t != NULL);
	ASSERT_TRUE(!t->deps[0].chain.verified);
	r = run_result(NULL, t, PP_RUN_CRITICAL, "self-signed", 0.5);
	pp_buf_init(&b, 1 << 20);
	ASSERT_TEXT("untrusted", expose(&b, &r, NULL), want);
	pp_buf_release(&b);
	tls_report_free(t);
	pki_free(&p);
	return 0;
}

TEST_IMPL(probe_metrics_tls_failures_and_name_mismatch_have_their_slugs)
{
	struct pki p;
	struct tls_report *t;
	struct pp_run_result r;
	struct pp_probe_metrics m;
	X509 *chain[2];

	ASSERT_EQ(pki_init(&p), 0);
	chain[0] = p.leaf;
	chain[1] = p.inter;
	/* trusted, but for another name */
	t = cert_report(&p, "mail.example.org", "192.0.2.7", chain, 2, TLS_VERSION_TLS13);
	ASSERT_TRUE(t != NULL);
	r = run_result(NULL, t, PP_RUN_CRITICAL, "name-mismatch", 0.1);
	ASSERT_EQ(pp_probe_metrics_from_result(&m, &r), 0);
	ASSERT_STR_EQ(m.reason, "name_mismatch");
	ASSERT_STR_EQ(m.message, "hostname mismatch");
	ASSERT_TRUE(m.has_tls && !m.tls.chain_verified);
	ASSERT_STR_EQ(m.tls.verify_error, "name_mismatch");
	ASSERT_EQ(m.tls.chain_expiry, 0);
	pp_probe_metrics_release(&m);

	/* a port that does not speak TLS: no certificate part at all */
	t->error = PP_ERROR_OTHER;
	t->error_kind = "Not a TLS server";
	ASSERT_EQ(pp_probe_metrics_from_result(&m, &r), 0);
	ASSERT_STR_EQ(m.reason, "not_tls");
	ASSERT_STR_EQ(m.message, "Not a TLS server");
	ASSERT_TRUE(!m.has_tls);
	pp_probe_metrics_release(&m);
	t->error_kind = "STARTTLS failed";
	ASSERT_EQ(pp_probe_metrics_from_result(&m, &r), 0);
	ASSERT_STR_EQ(m.reason, "starttls_failed");
	pp_probe_metrics_release(&m);
	/* refused before any TLS: the connect class */
	t->error = PP_ERROR_REFUSED;
	t->error_kind = NULL;
	ASSERT_EQ(pp_probe_metrics_from_result(&m, &r), 0);
	ASSERT_STR_EQ(m.reason, "refused");
	ASSERT_STR_EQ(m.message, "Connection refused");
	pp_probe_metrics_release(&m);

	/* neither a check nor a report */
	r = run_result(NULL, NULL, PP_RUN_CRITICAL, NULL, 0);
	ASSERT_EQ(pp_probe_metrics_from_result(&m, &r), -EINVAL);
	tls_report_free(t);
	pki_free(&p);
	return 0;
}

/* --- the writer ------------------------------------------------------------------ */

TEST_IMPL(probe_metrics_groups_records_by_family_and_escapes_labels)
{
	/* one HELP/TYPE per family; a record label named like the metric's own
	 * label ("reason") is left out of that sample; \, " and newline escaped */
	static const char want[] = H_DNS
	    "probe_dns_lookup_time_seconds{unit=\"a\\\\b\",reason=\"x\"} 0\n"
	    "probe_dns_lookup_time_seconds{unit=\"q\\\"\\n\"} 0\n" H_DURATION
	    "probe_duration_seconds{unit=\"a\\\\b\",reason=\"x\"} 1\n"
	    "probe_duration_seconds{unit=\"q\\\"\\n\"} 2\n" H_FAILURE
	    "probe_failure_info{unit=\"a\\\\b\",message=\"Connection refused\","
	    "reason=\"refused\"} 1\n" H_HASH "probe_ip_addr_hash{unit=\"a\\\\b\",reason=\"x\"} "
	    "3.668918509e+09\n"
	    "probe_ip_addr_hash{unit=\"q\\\"\\n\"} 3.668918509e+09\n" H_PROTO
	    "probe_ip_protocol{unit=\"a\\\\b\",reason=\"x\"} 4\n"
	    "probe_ip_protocol{unit=\"q\\\"\\n\"} 4\n" H_SUCCESS
	    "probe_success{unit=\"a\\\\b\",reason=\"x\"} 0\n"
	    "probe_success{unit=\"q\\\"\\n\"} 1\n";
	static const struct pp_label la[] = {{"unit", "a\\b"}, {"reason", "x"}};
	static const struct pp_label lb[] = {{"unit", "q\"\n"}};
	const struct pp_label_set sa = {la, 2}, sb = {lb, 1};
	const struct pp_label_set *ls[] = {&sa, &sb};
	struct pp_check_result c1, c2;
	struct pp_run_result r1, r2;
	struct pp_probe_metrics m[2], copy;
	const struct pp_probe_metrics *ms[2] = {&m[0], &m[1]};
	struct pp_buf b;

	check_result(&c1, "h", "127.0.0.1", 1, PP_ERROR_REFUSED, PP_STATE_CLOSED,
		     PP_REASON_CONN_REFUSED, 0, 0);
	check_result(&c2, "h", "127.0.0.1", 2, PP_ERROR_NONE, PP_STATE_OPEN, PP_REASON_SYN_ACK, 0,
		     0);
	r1 = run_result(&c1, NULL, PP_RUN_CRITICAL, "Connection refused", 1);
	r2 = run_result(&c2, NULL, PP_RUN_OK, NULL, 2);
	ASSERT_EQ(pp_probe_metrics_from_result(&m[0], &r1), 0);
	ASSERT_EQ(pp_probe_metrics_from_result(&m[1], &r2), 0);
	pp_buf_init(&b, 1 << 20);
	ASSERT_EQ(pp_probe_metrics_write(&b, ms, ls, 2), 0);
	ASSERT_TEXT("grouped", b.data, want);
	/* family by family: the same bytes */
	pp_buf_reset(&b);
	ASSERT_UEQ(pp_probe_metrics_families(), 13);
	for (size_t f = 0; f < pp_probe_metrics_families(); f++)
		ASSERT_EQ(pp_probe_metrics_write_family(&b, f, ms, ls, 2), 0);
	ASSERT_TEXT("families", b.data, want);
	ASSERT_EQ(pp_probe_metrics_write_family(&b, 13, ms, ls, 2), -EINVAL);

	/* a copy owns its strings: the original can go */
	ASSERT_EQ(pp_probe_metrics_copy(&copy, &m[0]), 0);
	ASSERT_TRUE(copy.message != m[0].message);
	pp_probe_metrics_release(&m[0]);
	pp_probe_metrics_release(&m[0]); /* released twice: zeroed, harmless */
	pp_probe_metrics_release(NULL);
	ASSERT_STR_EQ(copy.message, "Connection refused");
	ASSERT_STR_EQ(copy.reason, "refused");
	pp_probe_metrics_release(&copy);
	pp_probe_metrics_release(&m[1]);

	/* no records: nothing at all */
	pp_buf_reset(&b);
	ASSERT_EQ(pp_probe_metrics_write(&b, ms, NULL, 0), 0);
	ASSERT_UEQ(b.len, 0);
	pp_buf_release(&b);
	return 0;
}

static const char *float_text(struct pp_buf *b, double v)
{
	pp_buf_reset(b);
	pp_prom_put_float(b, v);
	return b->data;
}

TEST_IMPL(probe_metrics_numbers_read_as_go_prints_them)
{
	/* strconv.FormatFloat(v, 'g', -1, 64), as client_golang writes samples */
	static const struct {
		double v;
		const char *text;
	} cases[] = {
	    {0, "0"},
	    {1, "1"},
	    {-1, "-1"},
	    {4, "4"},
	    {0.5, "0.5"},
	    {1.847e-05, "1.847e-05"},
	    {0.0001, "0.0001"},
	    {0.000206776, "0.000206776"},
	    {3.002401733, "3.002401733"},
	    {123456, "123456"},
	    {999999, "999999"},
	    {1e6, "1e+06"},
	    {1234567, "1.234567e+06"},
	    {3668918509.0, "3.668918509e+09"},
	    {1794856511.0, "1.794856511e+09"},
	    {-62135596800.0, "-6.21355968e+10"},
	    {0.1 + 0.2, "0.30000000000000004"},
	    {1e-300, "1e-300"},
	    {1.7976931348623157e308, "1.7976931348623157e+308"},
	};
	struct pp_buf b;

	pp_buf_init(&b, 1 << 10);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ASSERT_STR_EQ(float_text(&b, cases[i].v), cases[i].text);
	ASSERT_STR_EQ(float_text(&b, 0.0 / 0.0), "NaN");
	ASSERT_STR_EQ(float_text(&b, 1.0 / 0.0), "+Inf");
	ASSERT_STR_EQ(float_text(&b, -1.0 / 0.0), "-Inf");
	pp_buf_release(&b);
	return 0;
}

TEST_IMPL(probe_metrics_ip_hash_is_blackbox_fnv1a_over_the_address_bytes)
{
	static const struct {
		const char *ip;
		uint32_t hash;
	} cases[] = {
	    {"127.0.0.1", 3668918509u},        /* measured from blackbox (research 2.4) */
	    {"::ffff:127.0.0.1", 3668918509u}, /* Go's To4(): mapped hashes as IPv4 */
	    {"192.0.2.7", 1936431214u},        {"::1", 1751717746u}, {"2001:db8::25", 1247464520u},
	};
	struct pp_addr a = {0};
	const char *bad;

	ASSERT_UEQ(pp_probe_ip_hash(&a), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ASSERT_EQ(pp_parse_ip(cases[i].ip, 0, &a, &bad), 0);
		ASSERT_UEQ(pp_probe_ip_hash(&a), cases[i].hash);
	}
	return 0;
}

/* --- InfraSonar ------------------------------------------------------------------ */

TEST_IMPL(infrasonar_ports_are_tcp_probe_items_and_failures_are_the_error)
{
	static const char want[] =
	    "{\"check\":\"box\",\"result\":{\"port\":["
	    "{\"name\":\"tcp:18080\",\"state\":\"open\",\"reason\":\"syn-ack\",\"reasonTTL\":0,"
	    "\"responseTime\":0.000150,\"error\":null},"
	    "{\"name\":\"tcp:18081\",\"state\":\"closed\",\"reason\":\"conn-refused\","
	    "\"reasonTTL\":0,\"responseTime\":null,\"error\":\"Connection refused\"},"
	    "{\"name\":\"tcp:18082\",\"state\":\"filtered\",\"reason\":\"no-response\","
	    "\"reasonTTL\":0,\"responseTime\":null,\"error\":\"Connection timeout\"}],"
	    "\"sslCert\":[],\"sslEnumCiphers\":[]},\"error\":null,"
	    "\"framework\":{\"duration\":3.002402,\"timestamp\":1795262400}}";
	static const char want_dns[] =
	    "{\"check\":\"gone\",\"result\":{\"port\":[],\"sslCert\":[],\"sslEnumCiphers\":[]},"
	    "\"error\":{\"error\":\"tcp:80: Host not found; tcp:443: Host not found\","
	    "\"severity\":1},\"framework\":{\"duration\":0.013000,\"timestamp\":1795262400}}";
	struct pp_check_result c[3];
	struct pp_run_result r;
	struct pp_infrasonar_check ic;
	struct pp_buf b;

	check_result(&c[0], "127.0.0.1", "127.0.0.1", 18080, PP_ERROR_NONE, PP_STATE_OPEN,
		     PP_REASON_SYN_ACK, 0.000150, 0);
	check_result(&c[1], "127.0.0.1", "127.0.0.1", 18081, PP_ERROR_REFUSED, PP_STATE_CLOSED,
		     PP_REASON_CONN_REFUSED, 0.0001, 0);
	check_result(&c[2], "127.0.0.1", "127.0.0.1", 18082, PP_ERROR_TIMEOUT, PP_STATE_FILTERED,
		     PP_REASON_NO_RESPONSE, 3.0, 0);
	pp_infrasonar_check_init(&ic);
	r = run_result(&c[0], NULL, PP_RUN_OK, NULL, 0.0002);
	ASSERT_EQ(pp_infrasonar_check_add(&ic, &r), 0);
	r = run_result(&c[1], NULL, PP_RUN_CRITICAL, "Connection refused", 0.0003);
	ASSERT_EQ(pp_infrasonar_check_add(&ic, &r), 0);
	r = run_result(&c[2], NULL, PP_RUN_CRITICAL, "Connection timeout", 3.002401733);
	ASSERT_EQ(pp_infrasonar_check_add(&ic, &r), 0);
	pp_buf_init(&b, 1 << 20);
	ASSERT_EQ(pp_infrasonar_check_write(&b, &ic, "box"), 0);
	ASSERT_TEXT("infrasonar_ports", b.data, want);
	pp_infrasonar_check_release(&ic);

	/* an unresolvable address: no items, the error says why (tcp-probe's
	 * "most likely the host is down", but with the cause) */
	pp_infrasonar_check_init(&ic);
	check_result(&c[0], "nonexistent.invalid", NULL, 80, PP_ERROR_HOST_NOT_FOUND,
		     PP_STATE_UNKNOWN, PP_REASON_NONE, 0.013, 0.013);
	check_result(&c[1], "nonexistent.invalid", NULL, 443, PP_ERROR_HOST_NOT_FOUND,
		     PP_STATE_UNKNOWN, PP_REASON_NONE, 0.012, 0.012);
	r = run_result(&c[0], NULL, PP_RUN_CRITICAL, "Host not found", 0.013);
	ASSERT_EQ(pp_infrasonar_check_add(&ic, &r), 0);
	r = run_result(&c[1], NULL, PP_RUN_CRITICAL, "Host not found", 0.012);
	ASSERT_EQ(pp_infrasonar_check_add(&ic, &r), 0);
	pp_buf_reset(&b);
	ASSERT_EQ(pp_infrasonar_check_write(&b, &ic, "gone"), 0);
	ASSERT_TEXT("infrasonar_dns", b.data, want_dns);
	pp_infrasonar_check_release(&ic);
	pp_infrasonar_check_release(NULL);
	pp_buf_release(&b);
	return 0;
}

TEST_IMPL(infrasonar_certificate_is_an_sslcert_item_with_real_verdicts)
{
	/* a trusted chain for a wildcard name (hostMatch through *.example.test,
	 * which tcp-probe's CN comparison would miss), and a self-signed one
	 * (isValid false, where tcp-probe only looks at the dates) */
	static const char want[] =
	    "{\"check\":\"certs\",\"result\":{\"port\":[],\"sslCert\":["
	    "{\"name\":\"api.example.test:443\",\"requestedHost\":\"api.example.test\","
	    "\"subjectCN\":\"www.example.test\",\"hostMatch\":true,"
	    "\"subject\":\"organizationName=Portprobe Tests/commonName=www.example.test\","
	    "\"issuer\":\"organizationName=Portprobe Tests/commonName=Test Intermediate\","
	    "\"validNotBefore\":1790812800,\"validNotAfter\":1798761600,\"isValid\":true,"
	    "\"expiresIn\":3499200,\"pubkeyType\":\"ed25519\",\"pubkeyBits\":\"256\","
	    "\"md5\":\"a01017ad99b6e8009854545859b20482\",\"sha1\":"
	    "\"13ac7263c68120e318ae9854fa1c7ce14549cfff\",\"sha256\":"
	    "\"a18ae44498f20550b336104206cf71c5b2dfb88b8cff83905b782de7c1366bf1\",\"verifyError\":"
	    "null},"
	    "{\"name\":\"self.example.test:443\",\"requestedHost\":\"self.example.test\","
	    "\"subjectCN\":\"self.example.test\",\"hostMatch\":true,"
	    "\"subject\":\"commonName=self.example.test\","
	    "\"issuer\":\"commonName=self.example.test\",\"validNotBefore\":1793491200,"
	    "\"validNotAfter\":1796083200,\"isValid\":false,\"expiresIn\":820800,"
	    "\"pubkeyType\":\"ed25519\",\"pubkeyBits\":\"256\",\"md5\":"
	    "\"844c4a78129f9414323ea2b47b909884\",\"sha1\":"
	    "\"4c893fc69a9ef052f102ef76380dbed96ee18ef5\","
	    "\"sha256\":\"78bfea3843013ecec028cd3ad8c853ce2cea4ad95b36fc7a4dd366f6c49ab84c\","
	    "\"verifyError\":\"self_signed\"}],"
	    "\"sslEnumCiphers\":["
	    "{\"name\":\"api.example.test:443-TLSv1.0\",\"sslCert\":\"api.example.test:443\","
	    "\"protocol\":\"TLSv1.0\",\"ciphers\":\"TLS_RSA_WITH_AES_128_CBC_SHA - C\","
	    "\"warnings\":\"TLSv1.0 is deprecated (RFC 8996)\",\"leastStrength\":\"C\"},"
	    "{\"name\":\"api.example.test:443-TLSv1.2\",\"sslCert\":\"api.example.test:443\","
	    "\"protocol\":\"TLSv1.2\",\"ciphers\":\"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 - "
	    "A\\r\\nTLS_RSA_WITH_AES_128_GCM_SHA256 - B\","
	    "\"warnings\":\"TLSv1.2: 64-suite hello reset, retried with 32\","
	    "\"leastStrength\":\"B\"},"
	    "{\"name\":\"api.example.test:443-TLSv1.3\",\"sslCert\":\"api.example.test:443\","
	    "\"protocol\":\"TLSv1.3\",\"ciphers\":\"TLS_AES_256_GCM_SHA384 - "
	    "A\\r\\nTLS_AES_128_GCM_SHA256 - A\",\"warnings\":\"\",\"leastStrength\":\"A\"}]},"
	    "\"error\":{\"error\":\"closed.example.test:443: Connection refused\",\"severity\":1},"
	    "\"framework\":{\"duration\":1.500000,\"timestamp\":1795262400}}";
	struct pki p;
	struct tls_report *t, *ts, *tc;
	struct pp_run_result r;
	struct pp_infrasonar_check ic;
	struct pp_buf b;
	X509 *chain[2];
	char *note = strdup("TLSv1.2: 64-suite hello reset, retried with 32");

	ASSERT_EQ(pki_init(&p), 0);
	chain[0] = p.leaf;
	chain[1] = p.inter;
	t = cert_report(&p, "api.example.test", "192.0.2.7", chain, 2, TLS_VERSION_TLS13);
	ts = cert_report(&p, "self.example.test", "127.0.0.1", &p.self, 1, TLS_VERSION_TLS12);
	tc = calloc(1, sizeof(*tc)); /* refused: an error and nothing else */
	ASSERT_TRUE(t && ts && tc && note);
	ASSERT_EQ(add_suite(t, TLS_P_TLS13, 0x1301), 0);
	ASSERT_EQ(add_suite(t, TLS_P_TLS13, 0x1302), 0);
	ASSERT_EQ(add_suite(t, TLS_P_TLS12, 0x009C), 0);
	ASSERT_EQ(add_suite(t, TLS_P_TLS12, 0xC02F), 0);
	ASSERT_EQ(add_suite(t, TLS_P_TLS10, 0x002F), 0);
	t->notes = &note;
	t->nnotes = 1;
	tc->host = strdup("closed.example.test");
	tc->port = 443;
	tc->error = PP_ERROR_REFUSED;
	tc->now = NOW;

	pp_infrasonar_check_init(&ic);
	r = run_result(NULL, t, PP_RUN_OK, NULL, 1.5);
	ASSERT_EQ(pp_infrasonar_check_add(&ic, &r), 0);
	r = run_result(NULL, ts, PP_RUN_CRITICAL, "self-signed", 0.5);
	ASSERT_EQ(pp_infrasonar_check_add(&ic, &r), 0);
	r = run_result(NULL, tc, PP_RUN_CRITICAL, "Connection refused", 0.001);
	ASSERT_EQ(pp_infrasonar_check_add(&ic, &r), 0);
	pp_buf_init(&b, 1 << 20);
	ASSERT_EQ(pp_infrasonar_check_write(&b, &ic, "certs"), 0);
	ASSERT_TEXT("infrasonar_certs", b.data, want);
	pp_buf_release(&b);
	pp_infrasonar_check_release(&ic);
	t->notes = NULL;
	t->nnotes = 0;
	free(note);
	tls_report_free(t);
	tls_report_free(ts);
	tls_report_free(tc);
	pki_free(&p);
	return 0;
}

/* --- /probe?debug=true ----------------------------------------------------------------- */

/* The debug answer of r with module mod into b (reset first); NULL on failure. */
static const char *debug_text(struct pp_buf *b, const struct pp_config_module *mod,
			      const char *target, const char *host, double timeout,
			      const struct pp_run_result *r)
{
	struct pp_probe_metrics m;
	struct pp_probe_debug d = {
	    .module = mod, .target = target, .host = host, .timeout = timeout};
	int rc;

	pp_buf_reset(b);
	if (pp_probe_metrics_from_result(&m, r) < 0)
		return NULL;
	rc = pp_probe_debug_write(b, &d, r, &m);
	pp_probe_metrics_release(&m);
	return rc < 0 ? NULL : b->data;
}

#define DBG_LINE(ts, level, rest)                                                                  \
	"ts=2026-11-21T" ts "Z module=tcp3 target=db.example.org:5432 level=" level " msg=" rest   \
	"\n"

TEST_IMPL(probe_debug_refused_port_logs_each_step_then_metrics_and_module)
{
	/* started at 12:00:00 - 0.0004 s; resolved 0.0001 s later; the reset
	 * came at once (no connect time on failure); the result at 12:00:00 */
	static const char want[] = "Logs for the probe:\n" DBG_LINE(
	    "11:59:59.999600000", "info",
	    "\"Beginning probe\" probe=tcp timeout_seconds=2.5") DBG_LINE("11:59:59.999600000",
									  "info",
									  "\"Resolving target "
									  "address\" "
									  "target=db.example.org "
									  "ip_protocol=ip4")
	    DBG_LINE("11:59:59.999700000", "info",
		     "\"Resolved target address\" target=db.example.org ip=192.0.2.7")
		DBG_LINE("11:59:59.999700000", "info", "\"Dialing TCP without TLS\"") DBG_LINE(
		    "11:59:59.999700000", "error",
		    "\"Error dialing TCP\" err=\"TCP reset in answer to the SYN\" attempts=1")
		    DBG_LINE(
			"12:00:00.000000000", "error",
			"\"Probe failed\" duration_seconds=0.0004 reason=refused "
			"message=\"Connection refused\"") "\n\n\n"
							  "Metrics that would have been "
							  "returned:\n" H_DNS
							  "probe_dns_lookup_time_seconds "
							  "0.0001\n" H_DURATION
							  "probe_duration_seconds "
							  "0.0004\n" H_FAILURE
							  "probe_failure_info{message=\"Connection "
							  "refused\",reason=\"refused\"} 1\n" H_HASH
							  "probe_ip_addr_hash "
							  "1.936431214e+09\n" H_PROTO
							  "probe_ip_protocol 4\n" H_SUCCESS
							  "probe_success 0\n"
							  "\n\n\nModule configuration:\n"
							  "prober: tcp\n"
							  "timeout: 3s\n"
							  "tcp:\n"
							  "  preferred_ip_protocol: ip4\n"
							  "  ip_protocol_fallback: false\n"
							  "  source_ip_address: \"192.0.2.1\"\n"
							  "  tls: false\n"
							  "  tls_config:\n"
							  "    insecure_skip_verify: false\n";
	struct pp_config_module mod = {
	    .name = "tcp3",
	    .prober = PP_CONFIG_PROBER_TCP,
	    .timeout = 3,
	    .preferred_family = AF_INET,
	    .ip_protocol_fallback = false,
	};
	struct pp_check_result c;
	struct pp_run_result r;
	struct pp_buf b;
	const char *bad;

	ASSERT_EQ(pp_parse_ip("192.0.2.1", 0, &mod.source, &bad), 0);
	check_result(&c, "db.example.org", "192.0.2.7", 5432, PP_ERROR_REFUSED, PP_STATE_CLOSED,
		     PP_REASON_CONN_REFUSED, 0.0003, 0.0001);
	snprintf(c.detail, sizeof(c.detail), "TCP reset in answer to the SYN");
	r = run_result(&c, NULL, PP_RUN_CRITICAL, "Connection refused", 0.0004);
	pp_buf_init(&b, 1 << 20);
	ASSERT_TEXT("debug_refused",
		    debug_text(&b, &mod, "db.example.org:5432", "db.example.org", 2.5, &r), want);
	pp_buf_release(&b);
	return 0;
}

TEST_IMPL(probe_debug_unresolved_name_and_untrusted_chain_say_why)
{
	struct pp_config_module mod = {
	    .name = "tls",
	    .prober = PP_CONFIG_PROBER_TCP,
	    .preferred_family = AF_INET6,
	    .ip_protocol_fallback = true,
	    .tls = true,
	    .insecure_skip_verify = true,
	    .ca_file = "/etc/ca \"x\".pem",
	    .server_name = "self.example.test",
	};
	struct pp_check_result c;
	struct pp_run_result r;
	struct pp_buf b;
	struct pki p;
	struct tls_report *t;
	const char *got;

	pp_buf_init(&b, 1 << 20);
	/* no address: the resolver's words, then the failure; nothing dialed */
	check_result(&c, "nonexistent.invalid", NULL, 80, PP_ERROR_HOST_NOT_FOUND, PP_STATE_UNKNOWN,
		     PP_REASON_NONE, 0.013, 0.0125);
	snprintf(c.detail, sizeof(c.detail), "NXDOMAIN from 10.0.0.53");
	r = run_result(&c, NULL, PP_RUN_CRITICAL, "Host not found", 0.013);
	got = debug_text(&b, &mod, "nonexistent.invalid:80", "nonexistent.invalid", 120, &r);
	ASSERT_TRUE(got != NULL);
	ASSERT_TRUE(strstr(got, "ts=2026-11-21T11:59:59.999500000Z module=tls "
				"target=nonexistent.invalid:80 level=error msg=\"Error resolving "
				"address\" err=\"NXDOMAIN from 10.0.0.53\"\n"
				"ts=2026-11-21T12:00:00.000000000Z module=tls "
				"target=nonexistent.invalid:80 level=error msg=\"Probe failed\" "
				"duration_seconds=0.013 reason=host_not_found message=\"Host not "
				"found\"\n\n\n\n") != NULL);
	ASSERT_TRUE(strstr(got, "Dialing") == NULL);
	ASSERT_TRUE(strstr(got, "ip_protocol=ip6\n") != NULL);
	ASSERT_TRUE(strstr(got, "\nModule configuration:\nprober: tcp\ntcp:\n"
				"  preferred_ip_protocol: ip6\n  ip_protocol_fallback: true\n"
				"  tls: true\n  tls_config:\n    insecure_skip_verify: true\n"
				"    ca_file: \"/etc/ca \\\"x\\\".pem\"\n"
				"    server_name: \"self.example.test\"\n") != NULL);

	/* a self-signed certificate: the handshake worked, the chain did not */
	ASSERT_EQ(pki_init(&p), 0);
	t = cert_report(&p, "self.example.test", "127.0.0.1", &p.self, 1, TLS_VERSION_TLS12);
	ASSERT_TRUE(t != NULL);
	r = run_result(NULL, t, PP_RUN_CRITICAL, "self-signed", 0.5);
	got = debug_text(&b, &mod, "127.0.0.1:443", "127.0.0.1", 120, &r);
	ASSERT_TRUE(got != NULL);
	ASSERT_TRUE(strstr(got, "level=info msg=\"Dialing TCP with TLS\"\n") != NULL);
	ASSERT_TRUE(strstr(got, "level=info msg=\"TLS handshake done\" version=\"TLS 1.2\" "
				"subject=\"CN=self.example.test\" chain_verified=false\n") != NULL);
	ASSERT_TRUE(strstr(got, "level=warn msg=\"Certificate verification failed\" "
				"err=self_signed insecure_skip_verify=true\n") != NULL);
	ASSERT_TRUE(strstr(got, "\nprobe_ssl_verify_error_info{error=\"self_signed\"} 1\n") !=
		    NULL);
	tls_report_free(t);
	pki_free(&p);
	pp_buf_release(&b);
	return 0;
}
