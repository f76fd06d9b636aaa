/* result.h: the result model shared by every probe and every writer.
 *
 * A probe outcome is described three ways at once, because three kinds of
 * users read it: nmap's port state and reason strings (scanners), the
 * check_tcp_connection error classes (monitoring), and the raw evidence
 * (errno, ICMP type/code and the address that sent it) for whoever asks why.
 * The mapping between them lives in one place, src/lib/net/classify.c.
 */
#ifndef PORTPROBE_RESULT_H
#define PORTPROBE_RESULT_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* nmap's six port states. */
enum pp_state {
	PP_STATE_UNKNOWN = 0,
	PP_STATE_OPEN,
	PP_STATE_CLOSED,
	PP_STATE_FILTERED,
	PP_STATE_UNFILTERED,
	PP_STATE_OPEN_FILTERED,
	PP_STATE_CLOSED_FILTERED,
};

/* nmap's reason strings, for the reasons a connect() probe can observe. */
enum pp_reason {
	PP_REASON_NONE = 0,
	PP_REASON_SYN_ACK,          /* connected */
	PP_REASON_CONN_REFUSED,     /* ECONNREFUSED without ICMP: a TCP reset */
	PP_REASON_NO_RESPONSE,      /* nothing before the deadline */
	PP_REASON_NET_UNREACH,      /* ICMP net unreachable, or a local ENETUNREACH */
	PP_REASON_HOST_UNREACH,     /* ICMP host unreachable, or a local EHOSTUNREACH */
	PP_REASON_PROTO_UNREACH,    /* ICMP protocol unreachable */
	PP_REASON_PORT_UNREACH,     /* ICMP port unreachable */
	PP_REASON_NET_PROHIBITED,   /* ICMP code 9 */
	PP_REASON_HOST_PROHIBITED,  /* ICMP code 10 */
	PP_REASON_ADMIN_PROHIBITED, /* ICMP code 13, ICMPv6 code 1/5, local EACCES */
	PP_REASON_NO_ROUTE,         /* ICMPv6 code 0, or a local blackhole route */
	PP_REASON_BEYOND_SCOPE,     /* ICMPv6 code 2 */
	PP_REASON_REJECT_ROUTE,     /* ICMPv6 code 6 */
	PP_REASON_TIME_EXCEEDED,    /* ICMP time exceeded (a routing loop or TTL) */
	PP_REASON_UNKNOWN_RESPONSE, /* anything else */
};

/* The check error classes of the check_tcp_connection plugin, plus the ones it lacks. */
enum pp_error {
	PP_ERROR_NONE = 0,
	PP_ERROR_REFUSED,            /* "Connection refused" */
	PP_ERROR_TIMEOUT,            /* "Connection timeout" */
	PP_ERROR_HOST_NOT_FOUND,     /* "Host not found": NXDOMAIN or no address */
	PP_ERROR_DNS_TEMPORARY,      /* "Temporary DNS failure": SERVFAIL, no answer */
	PP_ERROR_NET_UNREACHABLE,    /* "Network unreachable" */
	PP_ERROR_NO_ROUTE,           /* "No route to host" */
	PP_ERROR_PERMISSION_DENIED,  /* "Permission denied" */
	PP_ERROR_PORT_IN_USE,        /* "Port in use": the source port is taken */
	PP_ERROR_ADDR_NOT_AVAILABLE, /* "Address not available": source address not local */
	PP_ERROR_LOCAL_RESOURCE,     /* "Local resource exhausted": fds, buffers, ports */
	PP_ERROR_OTHER,              /* an errno no class describes (see detail) */
};

/* An address with its length; the port is part of the sockaddr. */
struct pp_addr {
	struct sockaddr_storage sa; /* AF_INET or AF_INET6 */
	socklen_t len;              /* 0 when unset */
};

/* Longest text form of a pp_addr without the port, with a scope suffix. */
#define PP_ADDRSTRLEN (INET6_ADDRSTRLEN + 20)

/* The evidence behind one connect() outcome and what it means. */
struct pp_conn_outcome {
	enum pp_state state;        /* nmap state */
	enum pp_reason reason;      /* nmap reason */
	enum pp_error error;        /* check class; PP_ERROR_NONE when connected */
	int sys_errno;              /* errno from the failing call, 0 when none */
	const char *syscall;        /* "socket", "bind", "connect" or NULL */
	uint8_t icmp_origin;        /* 0 none, 4 ICMP, 6 ICMPv6 */
	uint8_t icmp_type;          /* when icmp_origin != 0 */
	uint8_t icmp_code;          /* when icmp_origin != 0 */
	struct pp_addr reason_addr; /* the ICMP error's sender (len 0 when none) */
	uint64_t rtt_ns;            /* connect() to outcome, nanoseconds */
	bool self_connected;        /* gave up: every try connected to itself */
	bool immediate;             /* the call itself failed: decided locally, nothing sent */
	unsigned self_connects;     /* loopback self-connections seen and retried */
	unsigned local_retries;     /* local resource failures backed off and retried */
};

const char *pp_state_name(enum pp_state state);
const char *pp_reason_name(enum pp_reason reason);
/* The plugin's message for an error class ("Connection refused", ...). */
const char *pp_error_message(enum pp_error error);

#endif
