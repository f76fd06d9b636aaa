/* error.c: the names of states, reasons and error classes, spelled exactly as
 * nmap and the check_tcp_connection plugin spell them. */
#include "portprobe/portprobe.h"

const char *pp_version(void)
{
	return PP_VERSION;
}

const char *pp_state_name(enum pp_state state)
{
	switch (state) {
	case PP_STATE_OPEN:
		return "open";
	case PP_STATE_CLOSED:
		return "closed";
	case PP_STATE_FILTERED:
		return "filtered";
	case PP_STATE_UNFILTERED:
		return "unfiltered";
	case PP_STATE_OPEN_FILTERED:
		return "open|filtered";
	case PP_STATE_CLOSED_FILTERED:
		return "closed|filtered";
	case PP_STATE_UNKNOWN:
		break;
	}
	return "unknown";
}

const char *pp_reason_name(enum pp_reason reason)
{
	switch (reason) {
	case PP_REASON_SYN_ACK:
		return "syn-ack";
	case PP_REASON_CONN_REFUSED:
		return "conn-refused";
	case PP_REASON_NO_RESPONSE:
		return "no-response";
	case PP_REASON_NET_UNREACH:
		return "net-unreach";
	case PP_REASON_HOST_UNREACH:
		return "host-unreach";
	case PP_REASON_PROTO_UNREACH:
		return "proto-unreach";
	case PP_REASON_PORT_UNREACH:
		return "port-unreach";
	case PP_REASON_NET_PROHIBITED:
		return "net-prohibited";
	case PP_REASON_HOST_PROHIBITED:
		return "host-prohibited";
	case PP_REASON_ADMIN_PROHIBITED:
		return "admin-prohibited";
	case PP_REASON_NO_ROUTE:
		return "no-route";
	case PP_REASON_BEYOND_SCOPE:
		return "beyond-scope";
	case PP_REASON_REJECT_ROUTE:
		return "reject-route";
	case PP_REASON_TIME_EXCEEDED:
		return "time-exceeded";
	case PP_REASON_UNKNOWN_RESPONSE:
		return "unknown-response";
	case PP_REASON_NONE:
		break;
	}
	return "";
}

const char *pp_error_message(enum pp_error error)
{
	switch (error) {
	case PP_ERROR_NONE:
		return "";
	case PP_ERROR_REFUSED:
		return "Connection refused";
	case PP_ERROR_TIMEOUT:
		return "Connection timeout";
	case PP_ERROR_HOST_NOT_FOUND:
		return "Host not found";
	case PP_ERROR_DNS_TEMPORARY:
		return "Temporary DNS failure";
	case PP_ERROR_NET_UNREACHABLE:
		return "Network unreachable";
	case PP_ERROR_NO_ROUTE:
		return "No route to host";
	case PP_ERROR_PERMISSION_DENIED:
		return "Permission denied";
	case PP_ERROR_PORT_IN_USE:
		return "Port in use";
	case PP_ERROR_ADDR_NOT_AVAILABLE:
		return "Address not available";
	case PP_ERROR_LOCAL_RESOURCE:
		return "Local resource exhausted";
	case PP_ERROR_OTHER:
		break;
	}
	return "Connection failed";
}
