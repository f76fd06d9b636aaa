/* hello.h: raw ClientHello bytes for probing (pure: no sockets, no libssl).
 *
 * The enumeration engine offers arbitrary cipher-suite ids in hand-built
 * hellos, so that SSLv3, RC4, 3DES, export and anything else a server still
 * speaks can be seen although the local OpenSSL cannot offer it. The rules
 * here are the ones the scanners learnt the hard way (docs/internals/tls.md):
 *
 * TLS 1.0-1.3 and SSLv3 (tls_hello_build), one record, big-endian:
 *
 *   record     type 22 | version 0x0301 (0x0300 for SSLv3) | length(2)
 *   handshake  type 1 (client_hello) | length(3)
 *   body       legacy_version(2): the probed version, 0x0303 for TLS 1.3
 *              random(32): spec->random
 *              session_id: len(1) = 0, or 32 + spec->session_id for TLS 1.3
 *              cipher_suites: len(2) | spec->suites | 0x00FF (SCSV, <= 1.2)
 *              compression: len(1) = 1 | 0 (null)
 *              extensions: len(2) | extension... (none at all for SSLv3)
 *
 *   extension order (each type(2) | len(2) | data):
 *     <= 1.2: server_name(0)? ec_point_formats(11) supported_groups(10)
 *             signature_algorithms(13) padding(21)?
 *     1.3:    server_name(0)? supported_groups(10) signature_algorithms(13)
 *             supported_versions(43) = {0x0304} psk_key_exchange_modes(45)
 *             = {psk_dhe_ke} key_share(51) padding(21)?
 *
 *   Padding (RFC 7685): a handshake message (= record payload) of 256..511
 *   bytes gets the padding extension so that it is 512 bytes; a length with
 *   length % 256 in {10, 14} is moved by the padding too; the padding
 *   extension is never empty and always last, and every other extension
 *   carries data, so the last extension is never empty. SSLv3 hellos have no
 *   extensions and are never padded.
 *
 *   key_share holds one x25519 entry (spec->key_share) when x25519 is among
 *   the offered groups, else an empty client_shares list: a key share for a
 *   group not offered is an illegal_parameter abort, an empty list is valid
 *   and draws a HelloRetryRequest naming the server's group.
 *
 * SSLv2 (tls_hello_build_v2), one record with a 2-byte header:
 *
 *   0x80 | len >> 8, len & 0xff
 *   MSG-CLIENT-HELLO 1 | version 0x0002 | cipher_specs_length(2)
 *   | session_id_length(2) = 0 | challenge_length(2) = 16
 *   | cipher specs (3 bytes each) | challenge(16) */
#ifndef PP_TLS_HELLO_H
#define PP_TLS_HELLO_H

#include <stddef.h>
#include <stdint.h>

#include "portprobe/buf.h"

#define TLS_VERSION_SSL3  0x0300
#define TLS_VERSION_TLS10 0x0301
#define TLS_VERSION_TLS11 0x0302
#define TLS_VERSION_TLS12 0x0303
#define TLS_VERSION_TLS13 0x0304

#define TLS_SUITE_EMPTY_RENEGOTIATION_INFO_SCSV 0x00FF

#define TLS_EXT_SERVER_NAME            0
#define TLS_EXT_SUPPORTED_GROUPS       10
#define TLS_EXT_EC_POINT_FORMATS       11
#define TLS_EXT_SIGNATURE_ALGORITHMS   13
#define TLS_EXT_PADDING                21
#define TLS_EXT_SUPPORTED_VERSIONS     43
#define TLS_EXT_PSK_KEY_EXCHANGE_MODES 45
#define TLS_EXT_KEY_SHARE              51
#define TLS_EXT_RENEGOTIATION_INFO     0xFF01

#define TLS_GROUP_SECP256R1 0x0017
#define TLS_GROUP_SECP384R1 0x0018
#define TLS_GROUP_SECP521R1 0x0019
#define TLS_GROUP_X25519    0x001D
#define TLS_GROUP_X448      0x001E
#define TLS_GROUP_FFDHE2048 0x0100

/* Caps on a spec; they keep every hello inside one record. */
#define TLS_HELLO_MAX_SUITES   1024
#define TLS_HELLO_MAX_GROUPS   128
#define TLS_HELLO_MAX_SIGALGS  128
#define TLS_HELLO_MAX_SNI      255
#define TLS_HELLO_V2_MAX_SPECS 1024

struct tls_hello_spec {
	uint16_t version;        /* TLS_VERSION_SSL3 .. TLS_VERSION_TLS13 */
	const uint16_t *suites;  /* suite ids to offer, in this order */
	size_t nsuites;          /* 1..TLS_HELLO_MAX_SUITES */
	const char *sni;         /* server_name host (1..255 bytes), NULL or "" for none */
	const uint16_t *groups;  /* supported_groups; NULL or 0 for the broad default */
	size_t ngroups;          /* 0..TLS_HELLO_MAX_GROUPS */
	const uint16_t *sigalgs; /* signature_algorithms; NULL or 0 for the broad default */
	size_t nsigalgs;         /* 0..TLS_HELLO_MAX_SIGALGS */
	uint8_t random[32];      /* the client random */
	uint8_t session_id[32];  /* TLS 1.3 only: legacy_session_id (middlebox compat) */
	uint8_t key_share[32];   /* TLS 1.3 only: the x25519 public value (any 32 bytes) */
};

/* Appends the complete record holding the ClientHello spec describes to out.
 * Returns 0, -EINVAL for a spec outside the caps or an unknown version, or
 * out's error (-ENOMEM, -E2BIG); out keeps its earlier contents. Nothing in
 * spec is kept. */
int tls_hello_build(struct pp_buf *out, const struct tls_hello_spec *spec);

/* Appends an SSLv2 CLIENT-HELLO offering the n (1..TLS_HELLO_V2_MAX_SPECS)
 * 3-byte cipher specs (each <= 0xFFFFFF) with the 16-byte challenge.
 * Returns 0, -EINVAL or out's error. */
int tls_hello_build_v2(struct pp_buf *out, const uint32_t *specs, size_t n,
		       const uint8_t challenge[16]);

/* The default supported_groups / signature_algorithms offered for a version
 * when the spec gives none; *n is set to the count. Static storage. */
const uint16_t *tls_hello_default_groups(uint16_t version, size_t *n);
const uint16_t *tls_hello_default_sigalgs(uint16_t version, size_t *n);

#endif
