/* test_classify.c: DESIGN.md §4, row by row. */
#include <arpa/inet.h>
#include <errno.h>

#include "net/classify.h"
#include "portprobe/parse.h"
#include "test.h"

/* Classifies err at connect() with optional ICMP evidence. */
static struct pp_conn_outcome at_connect(int err, int origin, int type, int code)
{
	struct pp_conn_outcome o;

	memset(&o, 0, sizeof(o));
	o.icmp_origin = (uint8_t)origin;
	o.icmp_type = (uint8_t)type;
	o.icmp_code = (uint8_t)code;
	classify_outcome(&o, err, "connect", false);
	return o;
}

#define EXPECT(err, st, rs, cls)                                                                   \
	do {                                                                                       \
		struct pp_conn_outcome o_ = at_connect(err, 0, 0, 0);                              \
		ASSERT_STR_EQ(pp_state_name(o_.state), st);                                        \
		ASSERT_STR_EQ(pp_reason_name(o_.reason), rs);                                      \
		ASSERT_STR_EQ(pp_error_message(o_.error), cls);                                    \
	} while (0)

TEST_IMPL(classify_errno_to_state_reason_and_class)
{
	EXPECT(0, "open", "syn-ack", "");
	EXPECT(ECONNREFUSED, "closed", "conn-refused", "Connection refused");
	EXPECT(ETIMEDOUT, "filtered", "no-response", "Connection timeout");
	EXPECT(EHOSTUNREACH, "filtered", "host-unreach", "No route to host");
	EXPECT(ENETUNREACH, "filtered", "net-unreach", "Network unreachable");
	EXPECT(EACCES, "filtered", "admin-prohibited", "Permission denied");
	EXPECT(EPERM, "filtered", "admin-prohibited", "Permission denied");
	EXPECT(EINVAL, "filtered", "no-route", "Network unreachable");
	return 0;
}

TEST_IMPL(classify_icmp_codes_to_nmap_reasons)
{
	ASSERT_STR_EQ(pp_reason_name(classify_icmp_reason(4, 3, 0)), "net-unreach");
	ASSERT_STR_EQ(pp_reason_name(classify_icmp_reason(4, 3, 1)), "host-unreach");
	ASSERT_STR_EQ(pp_reason_name(classify_icmp_reason(4, 3, 2)), "proto-unreach");
	ASSERT_STR_EQ(pp_reason_name(classify_icmp_reason(4, 3, 3)), "port-unreach");
	ASSERT_STR_EQ(pp_reason_name(classify_icmp_reason(4, 3, 9)), "net-prohibited");
	ASSERT_STR_EQ(pp_reason_name(classify_icmp_reason(4, 3, 10)), "host-prohibited");
	ASSERT_STR_EQ(pp_reason_name(classify_icmp_reason(4, 3, 13)), "admin-prohibited");
	ASSERT_STR_EQ(pp_reason_name(classify_icmp_reason(4, 11, 0)), "time-exceeded");
	ASSERT_STR_EQ(pp_reason_name(classify_icmp_reason(6, 1, 0)), "no-route");
	ASSERT_STR_EQ(pp_reason_name(classify_icmp_reason(6, 1, 1)), "admin-prohibited");
	ASSERT_STR_EQ(pp_reason_name(classify_icmp_reason(6, 1, 2)), "beyond-scope");
	ASSERT_STR_EQ(pp_reason_name(classify_icmp_reason(6, 1, 3)), "host-unreach");
	ASSERT_STR_EQ(pp_reason_name(classify_icmp_reason(6, 1, 4)), "port-unreach");
	ASSERT_STR_EQ(pp_reason_name(classify_icmp_reason(6, 1, 6)), "reject-route");
	ASSERT_STR_EQ(pp_reason_name(classify_icmp_reason(6, 3, 0)), "time-exceeded");
	ASSERT_STR_EQ(pp_reason_name(classify_icmp_reason(4, 5, 1)), "unknown-response");
	return 0;
}

TEST_IMPL(classify_icmp_evidence_refines_the_reason)
{
	struct pp_conn_outcome o;

	/* IPv4 admin-prohibited: EHOSTUNREACH, so "No route to host" */
	o = at_connect(EHOSTUNREACH, 4, 3, 13);
	ASSERT_STR_EQ(pp_state_name(o.state), "filtered");
	ASSERT_STR_EQ(pp_reason_name(o.reason), "admin-prohibited");
	ASSERT_STR_EQ(pp_error_message(o.error), "No route to host");
	/* IPv6 admin-prohibited: Linux says EACCES */
	o = at_connect(EACCES, 6, 1, 1);
	ASSERT_STR_EQ(pp_reason_name(o.reason), "admin-prohibited");
	ASSERT_STR_EQ(pp_error_message(o.error), "Permission denied");
	/* ICMP port unreachable: ECONNREFUSED, closed */
	o = at_connect(ECONNREFUSED, 4, 3, 3);
	ASSERT_STR_EQ(pp_state_name(o.state), "closed");
	ASSERT_STR_EQ(pp_reason_name(o.reason), "port-unreach");
	ASSERT_STR_EQ(pp_error_message(o.error), "Connection refused");
	/* ICMP net unreachable from a router */
	o = at_connect(ENETUNREACH, 4, 3, 0);
	ASSERT_STR_EQ(pp_reason_name(o.reason), "net-unreach");
	ASSERT_STR_EQ(pp_error_message(o.error), "Network unreachable");
	/* ICMPv6 no route: ENETUNREACH */
	o = at_connect(ENETUNREACH, 6, 1, 0);
	ASSERT_STR_EQ(pp_reason_name(o.reason), "no-route");
	return 0;
}

TEST_IMPL(classify_local_failures_are_never_a_port_state)
{
	static const int transient[] = {EMFILE, ENFILE, ENOBUFS, ENOMEM, EAGAIN};
	struct pp_conn_outcome o;

	for (size_t i = 0; i < sizeof(transient) / sizeof(transient[0]); i++) {
		o = at_connect(transient[i], 0, 0, 0);
		ASSERT_EQ(o.state, PP_STATE_UNKNOWN);
		ASSERT_STR_EQ(pp_error_message(o.error), "Local resource exhausted");
		ASSERT_TRUE(classify_is_local_transient(transient[i], "socket", false));
	}
	/* EADDRNOTAVAIL at connect: ephemeral ports exhausted ... */
	o = at_connect(EADDRNOTAVAIL, 0, 0, 0);
	ASSERT_STR_EQ(pp_error_message(o.error), "Local resource exhausted");
	/* ... unless the source port was fixed: its 4-tuple is taken */
	memset(&o, 0, sizeof(o));
	classify_outcome(&o, EADDRNOTAVAIL, "connect", true);
	ASSERT_STR_EQ(pp_error_message(o.error), "Port in use");
	ASSERT_EQ(o.state, PP_STATE_UNKNOWN);
	/* bind failures */
	memset(&o, 0, sizeof(o));
	classify_outcome(&o, EADDRINUSE, "bind", true);
	ASSERT_STR_EQ(pp_error_message(o.error), "Port in use");
	ASSERT_EQ(o.state, PP_STATE_UNKNOWN);
	classify_outcome(&o, EADDRNOTAVAIL, "bind", false);
	ASSERT_STR_EQ(pp_error_message(o.error), "Address not available");
	classify_outcome(&o, EACCES, "bind", true);
	ASSERT_STR_EQ(pp_error_message(o.error), "Permission denied");
	ASSERT_EQ(o.state, PP_STATE_UNKNOWN);
	ASSERT_STR_EQ(o.syscall, "bind");
	return 0;
}

TEST_IMPL(classify_describe_names_the_evidence)
{
	struct pp_conn_outcome o;
	char buf[192];
	struct sockaddr_in *in;

	o = at_connect(EHOSTUNREACH, 4, 3, 13);
	in = (struct sockaddr_in *)&o.reason_addr.sa;
	in->sin_family = AF_INET;
	inet_pton(AF_INET, "198.18.0.1", &in->sin_addr);
	o.reason_addr.len = sizeof(*in);
	classify_describe(&o, 10, buf, sizeof(buf));
	ASSERT_STR_EQ(buf, "ICMP admin-prohibited (type 3, code 13) from 198.18.0.1");
	o = at_connect(ETIMEDOUT, 0, 0, 0);
	classify_describe(&o, 2.5, buf, sizeof(buf));
	ASSERT_STR_EQ(buf, "no answer to the SYN within 2.5 s");
	o = at_connect(ECONNREFUSED, 0, 0, 0);
	classify_describe(&o, 1, buf, sizeof(buf));
	ASSERT_STR_EQ(buf, "TCP reset in answer to the SYN");
	o = at_connect(EINVAL, 0, 0, 0);
	o.immediate = true;
	classify_describe(&o, 1, buf, sizeof(buf));
	ASSERT_STR_EQ(buf, "local routing table: blackhole route discards the packets (connect: "
			   "Invalid argument)");
	memset(&o, 0, sizeof(o));
	classify_outcome(&o, EADDRINUSE, "bind", true);
	classify_describe(&o, 1, buf, sizeof(buf));
	ASSERT_STR_EQ(buf, "bind: Address already in use");
	return 0;
}
