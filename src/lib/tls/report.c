/* report.c: the few functions of the tls report model (report.h): protocol
 * slots and wire versions, freeing, and the two verdicts over every chain
 * that the exit status and the nagios line are built on. */
#include "tls/report.h"

#include <stdlib.h>

#include <openssl/crypto.h>

#include "tls/suites.h"

static const uint16_t proto_versions[TLS_P_COUNT] = {
    TLS_VERSION_SSL2,  TLS_VERSION_SSL3,  TLS_VERSION_TLS10,
    TLS_VERSION_TLS11, TLS_VERSION_TLS12, TLS_VERSION_TLS13,
};

uint16_t tls_proto_version(enum tls_proto p)
{
	return (unsigned)p < TLS_P_COUNT ? proto_versions[p] : 0;
}

int tls_proto_of_version(uint16_t version)
{
	for (int p = 0; p < TLS_P_COUNT; p++)
		if (proto_versions[p] == version)
			return p;
	return -1;
}

static void deployment_release(struct tls_deployment *d)
{
	for (size_t i = 0; d->der && i < d->n; i++)
		OPENSSL_free(d->der[i]);
	free(d->der);
	free(d->der_len);
	for (size_t i = 0; d->certs && i < d->n; i++)
		tls_cert_info_free(&d->certs[i]);
	free(d->certs);
	free(d->ocsp_der);
}

void tls_report_free(struct tls_report *r)
{
	if (!r)
		return;
	free(r->host);
	free(r->sni);
	free(r->error_detail);
	free(r->ciphers);
	for (int p = 0; p < TLS_P_COUNT; p++)
		free(r->server_order[p]);
	free(r->groups);
	for (size_t k = 0; r->deps && k < r->ndeps; k++)
		deployment_release(&r->deps[k]);
	free(r->deps);
	for (size_t i = 0; r->notes && i < r->nnotes; i++)
		free(r->notes[i]);
	free(r->notes);
	free(r);
}

time_t tls_report_earliest_expiry(const struct tls_report *r)
{
	time_t best = 0;

	for (size_t k = 0; k < r->ndeps; k++) {
		const struct tls_deployment *d = &r->deps[k];

		for (size_t i = 0; d->certs && i < d->n; i++) {
			time_t t = d->certs[i].not_after_t;

			if (t && (!best || t < best))
				best = t;
		}
	}
	return best;
}

bool tls_report_any_invalid(const struct tls_report *r)
{
	for (size_t k = 0; k < r->ndeps; k++) {
		const struct tls_chain_info *c = &r->deps[k].chain;

		if (!c->verified || (c->hostname_checked && !c->hostname_match))
			return true;
	}
	return false;
}
