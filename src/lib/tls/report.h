/* report.h: what `portprobe tls` found about one target, as the engine
 * (probe/tlsenum.c) fills it and the writers (out/tls_*.c) read it.
 *
 * One report per target (HOST[:PORT]). Everything the issue asks for is
 * here as facts; names (IANA, OpenSSL), grades and verdict words come from
 * suites.h and x509sum.h at write time, so the report holds ids. */
#ifndef PP_TLS_REPORT_H
#define PP_TLS_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "portprobe/result.h"
#include "tls/starttls.h"
#include "tls/x509sum.h"

/* Protocol slots, oldest first. */
enum tls_proto {
	TLS_P_SSL2,
	TLS_P_SSL3,
	TLS_P_TLS10,
	TLS_P_TLS11,
	TLS_P_TLS12,
	TLS_P_TLS13,
	TLS_P_COUNT,
};

/* The wire version of a slot (0x0002, 0x0300 ... 0x0304) and back (-1: none). */
uint16_t tls_proto_version(enum tls_proto p);
int tls_proto_of_version(uint16_t version);

enum tls_support {
	TLS_SUPPORT_UNTESTED = 0, /* not probed (--cert-only, or the target failed first) */
	TLS_SUPPORT_NO,           /* refused (alert, close) every offer */
	TLS_SUPPORT_YES,          /* a ServerHello for this version */
	TLS_SUPPORT_ERROR,        /* probes failed without a verdict (timeouts, resets) */
};

enum tls_order {
	TLS_ORDER_NONE = 0,      /* no suite accepted (or not probed) */
	TLS_ORDER_SERVER,        /* the server chooses: order[] is its preference */
	TLS_ORDER_CLIENT,        /* the server follows the client's order */
	TLS_ORDER_INDETERMINATE, /* one suite only, or the two probes disagreed with both */
};

/* One accepted (protocol, suite). */
struct tls_accepted {
	enum tls_proto proto;
	uint16_t id;      /* cipher suite (SSLv2: 0, see v2_id) */
	uint32_t v2_id;   /* SSLv2 cipher spec, 0 otherwise */
	uint16_t group;   /* the key exchange group the server chose for it (ECDHE curve,
			       TLS 1.3 key_share or HRR group), 0 when none or unseen */
	uint16_t dh_bits; /* DHE: prime bits from ServerKeyExchange, 0 otherwise */
};

/* A key exchange group the server accepts, and in which protocols. */
struct tls_group {
	uint16_t id;     /* IANA supported_groups code point */
	unsigned protos; /* 1u << enum tls_proto */
};

/* Which probe found a certificate chain. */
enum tls_cert_probe {
	TLS_CERT_PROBE_RSA = 1u << 0,
	TLS_CERT_PROBE_ECDSA = 1u << 1,
	TLS_CERT_PROBE_EDDSA = 1u << 2,
	TLS_CERT_PROBE_SNI = 1u << 3,    /* with SNI */
	TLS_CERT_PROBE_NO_SNI = 1u << 4, /* without SNI */
};

/* One certificate chain the port serves. */
struct tls_deployment {
	size_t n;            /* certificates sent */
	unsigned char **der; /* n DER encodings, leaf first, as sent */
	size_t *der_len;
	struct tls_cert_info *certs; /* n summaries */
	struct tls_chain_info chain; /* verdicts over the chain as sent */
	struct tls_ocsp_info ocsp;   /* the stapled OCSP response, if any */
	unsigned char *ocsp_der;     /* the staple's bytes as sent (malloc), NULL when none */
	size_t ocsp_der_len;         /* bytes in ocsp_der */
	unsigned found_by;           /* enum tls_cert_probe bits, every probe that saw it */
	uint16_t version, suite;     /* what its first handshake negotiated */
};

struct tls_report {
	char *host;        /* as given (name or address literal) */
	struct pp_addr ip; /* the address used, port set; len 0 when unresolved */
	uint16_t port;
	char *sni; /* the server_name sent, NULL when none */
	enum tls_starttls starttls;
	struct timespec start, end;

	/* a failure of the whole target (resolution, connect, not TLS,
	 * STARTTLS refused); error is PP_ERROR_NONE when the target answered */
	enum pp_error error;
	char *error_detail;
	const char *error_kind; /* a TLS-level class ("Not a TLS server", "STARTTLS failed",
				   ...) that says more than error; NULL to use error's */

	enum tls_support support[TLS_P_COUNT];
	struct tls_accepted *ciphers; /* per protocol in the order they were found */
	size_t nciphers;
	enum tls_order order[TLS_P_COUNT];
	uint16_t
	    *server_order[TLS_P_COUNT]; /* TLS_ORDER_SERVER: the suites, most preferred first */
	size_t nserver_order[TLS_P_COUNT];
	struct tls_group *groups;
	size_t ngroups;
	struct tls_deployment *deps;
	size_t ndeps;

	char **notes; /* probe problems worth telling ("TLSv1.2: 64-suite hello reset, retried
			 with 32"), in order */
	size_t nnotes;
	unsigned connections; /* TCP connections made for this target */
	time_t now;           /* the time certificates were judged at */
};

/* Frees r (heap-allocated) and everything it owns: strings, arrays, each
 * deployment's DER buffers (OPENSSL_free: i2d_X509 allocates them) and
 * staple, its tls_cert_info summaries. NULL-safe. */
void tls_report_free(struct tls_report *r);

/* Earliest notAfter over every certificate of every chain (0 when none):
 * blackbox_exporter's probe_ssl_earliest_cert_expiry. */
time_t tls_report_earliest_expiry(const struct tls_report *r);
/* True when some chain failed verification or its host check. */
bool tls_report_any_invalid(const struct tls_report *r);

#endif
