/* classify.c: errno and ICMP evidence to nmap state/reason and check class.
 *
 * The check class follows errno, because that is what nc, telnet and the
 * check_tcp_connection plugin report (so an ICMPv6 admin-prohibited, which
 * Linux turns into EACCES, is "Permission denied" while its IPv4 twin is
 * EHOSTUNREACH, "No route to host"). The nmap reason follows the ICMP type and
 * code when IP_RECVERR delivered one, and errno otherwise. Local routing
 * decisions (unreachable, prohibit, throw, blackhole routes) fail connect()
 * at once with no packet sent; they get the reason of the ICMP message a
 * router with the same route would have sent. */
#include "net/classify.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "portprobe/parse.h"

enum pp_reason classify_icmp_reason(int origin, int type, int code)
{
	if (origin == 4 && type == 3) {
		switch (code) {
		case 0:
		case 6:
		case 11:
			return PP_REASON_NET_UNREACH;
		case 1:
		case 5:
		case 7:
		case 8:
		case 12:
			return PP_REASON_HOST_UNREACH;
		case 2:
			return PP_REASON_PROTO_UNREACH;
		case 3:
			return PP_REASON_PORT_UNREACH;
		case 9:
			return PP_REASON_NET_PROHIBITED;
		case 10:
			return PP_REASON_HOST_PROHIBITED;
		case 13:
		case 14:
		case 15:
			return PP_REASON_ADMIN_PROHIBITED;
		default:
			return PP_REASON_UNKNOWN_RESPONSE;
		}
	}
	if (origin == 4 && type == 11)
		return PP_REASON_TIME_EXCEEDED;
	if (origin == 6 && type == 1) {
		switch (code) {
		case 0:
			return PP_REASON_NO_ROUTE;
		case 1:
		case 5:
			return PP_REASON_ADMIN_PROHIBITED;
		case 2:
			return PP_REASON_BEYOND_SCOPE;
		case 3:
			return PP_REASON_HOST_UNREACH;
		case 4:
			return PP_REASON_PORT_UNREACH;
		case 6:
			return PP_REASON_REJECT_ROUTE;
		default:
			return PP_REASON_UNKNOWN_RESPONSE;
		}
	}
	if (origin == 6 && type == 3)
		return PP_REASON_TIME_EXCEEDED;
	return PP_REASON_UNKNOWN_RESPONSE;
}

bool classify_is_local_transient(int err, const char *syscall, bool fixed_source_port)
{
	switch (err) {
	case EMFILE:
	case ENFILE:
	case ENOBUFS:
	case ENOMEM:
	case EAGAIN:
		return true;
	case EADDRNOTAVAIL:
		/* connect() without a fixed port: no ephemeral port left */
		return syscall && !strcmp(syscall, "connect") && !fixed_source_port;
	default:
		return false;
	}
}

/* The reason for a filtered outcome: the ICMP message's, else the fallback. */
static enum pp_reason icmp_or(const struct pp_conn_outcome *o, enum pp_reason fallback)
{
	if (o->icmp_origin)
		return classify_icmp_reason(o->icmp_origin, o->icmp_type, o->icmp_code);
	return fallback;
}

void classify_outcome(struct pp_conn_outcome *o, int err, const char *syscall,
		      bool fixed_source_port)
{
	bool at_connect = syscall && !strcmp(syscall, "connect");

	o->sys_errno = err;
	o->syscall = err ? syscall : NULL;
	o->state = PP_STATE_UNKNOWN;
	o->reason = PP_REASON_NONE;
	if (classify_is_local_transient(err, syscall, fixed_source_port)) {
		o->error = PP_ERROR_LOCAL_RESOURCE;
		return;
	}
	if (err && !at_connect) {
		/* socket() or bind(): nothing was sent, so no port state */
		switch (err) {
		case EADDRINUSE:
			o->error = PP_ERROR_PORT_IN_USE;
			break;
		case EADDRNOTAVAIL:
			o->error = PP_ERROR_ADDR_NOT_AVAILABLE;
			break;
		case EACCES:
		case EPERM:
			o->error = PP_ERROR_PERMISSION_DENIED;
			break;
		case EAFNOSUPPORT:
			o->error = PP_ERROR_NET_UNREACHABLE;
			break;
		default:
			o->error = PP_ERROR_OTHER;
			break;
		}
		return;
	}
	switch (err) {
	case 0:
		o->state = PP_STATE_OPEN;
		o->reason = PP_REASON_SYN_ACK;
		o->error = PP_ERROR_NONE;
		break;
	case ECONNREFUSED:
	case ECONNRESET:
		o->state = PP_STATE_CLOSED;
		o->reason = icmp_or(o, PP_REASON_CONN_REFUSED);
		o->error = PP_ERROR_REFUSED;
		break;
	case ETIMEDOUT:
		o->state = PP_STATE_FILTERED;
		o->reason = icmp_or(o, PP_REASON_NO_RESPONSE);
		o->error = PP_ERROR_TIMEOUT;
		break;
	case EHOSTUNREACH:
	case EHOSTDOWN:
		o->state = PP_STATE_FILTERED;
		o->reason = icmp_or(o, PP_REASON_HOST_UNREACH);
		o->error = PP_ERROR_NO_ROUTE;
		break;
	case ENETUNREACH:
	case ENETDOWN:
		o->state = PP_STATE_FILTERED;
		o->reason = icmp_or(o, PP_REASON_NET_UNREACH);
		o->error = PP_ERROR_NET_UNREACHABLE;
		break;
	case EACCES:
	case EPERM:
		o->state = PP_STATE_FILTERED;
		o->reason = icmp_or(o, PP_REASON_ADMIN_PROHIBITED);
		o->error = PP_ERROR_PERMISSION_DENIED;
		break;
	case EINVAL:
		/* a blackhole route: the kernel discards and says EINVAL */
		o->state = PP_STATE_FILTERED;
		o->reason = PP_REASON_NO_ROUTE;
		o->error = PP_ERROR_NET_UNREACHABLE;
		break;
	case ENOPROTOOPT:
		o->state = PP_STATE_FILTERED;
		o->reason = icmp_or(o, PP_REASON_PROTO_UNREACH);
		o->error = PP_ERROR_OTHER;
		break;
	case EADDRINUSE:
	case EADDRNOTAVAIL:
		o->error = PP_ERROR_PORT_IN_USE; /* the fixed 4-tuple is taken */
		break;
	default:
		o->state = PP_STATE_FILTERED;
		o->reason = icmp_or(o, PP_REASON_UNKNOWN_RESPONSE);
		o->error = PP_ERROR_OTHER;
		break;
	}
}

static const char *icmp_name(int origin)
{
	return origin == 6 ? "ICMPv6" : "ICMP";
}

void classify_describe(const struct pp_conn_outcome *o, double timeout, char *buf, size_t len)
{
	char who[PP_ADDRSTRLEN];

	if (o->icmp_origin) {
		pp_addr_str(&o->reason_addr, who, sizeof(who));
		snprintf(buf, len, "%s %s (type %u, code %u) from %s", icmp_name(o->icmp_origin),
			 pp_reason_name(
			     classify_icmp_reason(o->icmp_origin, o->icmp_type, o->icmp_code)),
			 o->icmp_type, o->icmp_code, who[0] ? who : "an unknown sender");
		return;
	}
	if (o->error == PP_ERROR_NONE) {
		snprintf(buf, len, "connected (SYN-ACK received)");
		return;
	}
	if (o->error == PP_ERROR_TIMEOUT) {
		snprintf(buf, len, "no answer to the SYN within %g s", timeout);
		return;
	}
	if (o->error == PP_ERROR_LOCAL_RESOURCE) {
		snprintf(buf, len, "%s: %s (this host ran out; retried %u times)",
			 o->syscall ? o->syscall : "connect", strerror(o->sys_errno),
			 o->local_retries);
		return;
	}
	if (o->syscall && strcmp(o->syscall, "connect")) {
		snprintf(buf, len, "%s: %s", o->syscall, strerror(o->sys_errno));
		return;
	}
	if (o->self_connected) {
		snprintf(buf, len,
			 "every connect reached itself (source = destination): nothing listens");
		return;
	}
	if (o->sys_errno == ECONNREFUSED) {
		snprintf(buf, len, "TCP reset in answer to the SYN");
		return;
	}
	if (!o->immediate) {
		snprintf(buf, len, "connect: %s", strerror(o->sys_errno));
		return;
	}
	switch (o->sys_errno) {
	case EHOSTUNREACH:
		snprintf(buf, len, "local routing table: unreachable route (connect: %s)",
			 strerror(o->sys_errno));
		return;
	case EACCES:
	case EPERM:
		snprintf(buf, len, "local routing table or firewall: prohibited (connect: %s)",
			 strerror(o->sys_errno));
		return;
	case ENETUNREACH:
		snprintf(buf, len, "local routing table: no route to the network (connect: %s)",
			 strerror(o->sys_errno));
		return;
	case EINVAL:
		snprintf(buf, len,
			 "local routing table: blackhole route discards the packets (connect: %s)",
			 strerror(o->sys_errno));
		return;
	default:
		snprintf(buf, len, "connect: %s", strerror(o->sys_errno));
		return;
	}
}
