/* parse.h: strict parsers for what users type. Each accepts exactly the
 * documented syntax, rejects everything else, and on failure writes a short
 * reason ("is not a number", "is not in 1..65535") to why. */
#ifndef PORTPROBE_PARSE_H
#define PORTPROBE_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "portprobe/result.h"

/* Decimal port 1..65535 (0 allowed when allow_zero). 0 or -EINVAL. */
int pp_parse_port(const char *s, int allow_zero, uint16_t *ret, const char **why);
/* Decimal seconds with optional fraction ("2", "0.25"), min <= v <= max,
 * v > 0 unless allow_zero. 0 or -EINVAL. */
int pp_parse_seconds(const char *s, int allow_zero, double max, double *ret, const char **why);
/* Decimal unsigned integer in [min, max]. 0 or -EINVAL. */
int pp_parse_uint(const char *s, unsigned min, unsigned max, unsigned *ret, const char **why);
/* IPv4 or IPv6 literal ("::1", "[::1]", "fe80::1%eth0"); port set to `port`.
 * 0 or -EINVAL. */
int pp_parse_ip(const char *s, uint16_t port, struct pp_addr *ret, const char **why);
/* Host name or literal: 1..253 bytes, no spaces or control characters,
 * labels of 1..63 bytes. 0 or -EINVAL. */
int pp_parse_host(const char *s, const char **why);
/* DNS server list "ADDR[:PORT][,ADDR[:PORT]...]" with IPv6 as "[ADDR]:PORT"
 * or bare "ADDR". Writes the c-ares CSV form into out. 0 or -EINVAL. */
int pp_parse_dns_servers(const char *s, char *out, size_t outlen, const char **why);

/* Formats an address (no port) into buf (PP_ADDRSTRLEN); returns buf. */
char *pp_addr_str(const struct pp_addr *addr, char *buf, size_t len);
/* The port of an address. */
uint16_t pp_addr_port(const struct pp_addr *addr);
/* Sets the port of an address. */
void pp_addr_set_port(struct pp_addr *addr, uint16_t port);
/* Address family of an address (AF_INET/AF_INET6) or AF_UNSPEC when unset. */
int pp_addr_family(const struct pp_addr *addr);
/* 1 when both name the same address, whatever the ports. */
int pp_addr_equal_host(const struct pp_addr *a, const struct pp_addr *b);
/* 1 when both name the same address and port. */
int pp_addr_equal(const struct pp_addr *a, const struct pp_addr *b);

#endif
