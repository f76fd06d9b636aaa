/* classify.h: what a connect() outcome means (DESIGN.md §4), as pure functions. */
#ifndef PP_NET_CLASSIFY_H
#define PP_NET_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "portprobe/result.h"

/* Fills o->state, o->reason and o->error from err (0 = connected), the call
 * that failed, and the ICMP evidence already in o. fixed_source_port tells an
 * EADDRNOTAVAIL from connect() apart: the chosen 4-tuple is taken (port in
 * use) rather than the ephemeral range being exhausted. */
void classify_outcome(struct pp_conn_outcome *o, int err, const char *syscall,
		      bool fixed_source_port);
/* True for failures of this host's resources (fds, buffers, ports) that a
 * later retry may not meet: never a port state. */
bool classify_is_local_transient(int err, const char *syscall, bool fixed_source_port);
/* The nmap reason an ICMP or ICMPv6 destination-unreachable / time-exceeded
 * message stands for. origin is 4 or 6. */
enum pp_reason classify_icmp_reason(int origin, int type, int code);
/* One line of evidence for o ("ICMP admin-prohibited (type 3, code 13) from
 * 198.18.0.1", "TCP reset in answer to the SYN", ...) into buf. */
void classify_describe(const struct pp_conn_outcome *o, double timeout, char *buf, size_t len);

#endif
