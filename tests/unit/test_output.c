/* test_output.c: the writers, byte for byte. */
#include <arpa/inet.h>
#include <errno.h>

#include "portprobe/output.h"
#include "portprobe/parse.h"
#include "test.h"

static struct pp_check_result result_ok(void)
{
	struct pp_check_result r;
	const char *why;

	memset(&r, 0, sizeof(r));
	r.host = "example.com";
	r.port = 80;
	r.connected = true;
	r.has_ip = true;
	pp_parse_ip("192.0.2.7", 80, &r.ip, &why);
	r.out.state = PP_STATE_OPEN;
	r.out.reason = PP_REASON_SYN_ACK;
	r.response_time = 0.045;
	r.dns_time = 0.0012;
	r.attempts = 1;
	r.timestamp.tv_sec = 1704110400; /* 2024-01-01T12:00:00Z */
	r.timestamp.tv_nsec = 123456789;
	snprintf(r.detail, sizeof(r.detail), "connected (SYN-ACK received)");
	return r;
}

static struct pp_check_result result_prohibited(void)
{
	struct pp_check_result r = result_ok();
	const char *why;

	r.port = 8080;
	r.connected = false;
	r.error = PP_ERROR_NO_ROUTE;
	r.out.state = PP_STATE_FILTERED;
	r.out.reason = PP_REASON_ADMIN_PROHIBITED;
	r.out.error = PP_ERROR_NO_ROUTE;
	r.out.sys_errno = EHOSTUNREACH;
	r.out.syscall = "connect";
	r.out.icmp_origin = 4;
	r.out.icmp_type = 3;
	r.out.icmp_code = 13;
	pp_parse_ip("198.18.0.1", 0, &r.out.reason_addr, &why);
	r.response_time = 10.123;
	r.attempts = 3;
	snprintf(r.detail, sizeof(r.detail),
		 "ICMP admin-prohibited (type 3, code 13) from 198.18.0.1");
	return r;
}

TEST_IMPL(json_escapes_strings)
{
	struct pp_buf b;

	pp_buf_init(&b, 1024);
	pp_json_put_string(&b, "a\"b\\c\nd\x01\x7f"
			       "é");
	ASSERT_STR_EQ(b.data, "\"a\\\"b\\\\c\\nd\\u0001\\u007f"
			      "é\"");
	pp_buf_release(&b);
	return 0;
}

TEST_IMPL(json_check_success_matches_plugin_schema)
{
	struct pp_check_result r = result_ok();
	struct pp_buf b;

	pp_buf_init(&b, 4096);
	ASSERT_EQ(pp_check_write_json(&b, &r), 0);
	ASSERT_STR_EQ(b.data, "{\"status\":\"success\",\"host\":\"example.com\",\"port\":80,"
			      "\"connected\":true,\"response_time\":0.045000,\"attempts\":1,"
			      "\"timestamp\":\"2024-01-01T12:00:00.123Z\",\"ip\":\"192.0.2.7\","
			      "\"state\":\"open\",\"reason\":\"syn-ack\",\"dns_time\":0.001200,"
			      "\"detail\":\"connected (SYN-ACK received)\"}");
	pp_buf_release(&b);
	return 0;
}

TEST_IMPL(json_check_failure_has_error_and_evidence)
{
	struct pp_check_result r = result_prohibited();
	struct pp_buf b;

	pp_buf_init(&b, 4096);
	ASSERT_EQ(pp_check_write_json(&b, &r), 0);
	ASSERT_STR_EQ(b.data,
		      "{\"status\":\"error\",\"host\":\"example.com\",\"port\":8080,"
		      "\"connected\":false,\"response_time\":10.123000,\"attempts\":3,"
		      "\"timestamp\":\"2024-01-01T12:00:00.123Z\",\"error\":\"No route to host\","
		      "\"ip\":\"192.0.2.7\",\"state\":\"filtered\",\"reason\":\"admin-prohibited\","
		      "\"reason_ip\":\"198.18.0.1\",\"icmp_type\":3,\"icmp_code\":13,"
		      "\"errno\":\"EHOSTUNREACH\",\"dns_time\":0.001200,"
		      "\"detail\":\"ICMP admin-prohibited (type 3, code 13) from 198.18.0.1\"}");
	/* the sender is the target itself: no reason_ip */
	r.out.reason_addr = r.ip;
	pp_buf_reset(&b);
	pp_check_write_json(&b, &r);
	ASSERT_TRUE(strstr(b.data, "reason_ip") == NULL);
	/* a name that did not resolve: no ip, state or reason */
	memset(&r.out, 0, sizeof(r.out));
	r.has_ip = false;
	r.error = PP_ERROR_HOST_NOT_FOUND;
	pp_buf_reset(&b);
	pp_check_write_json(&b, &r);
	ASSERT_TRUE(strstr(b.data, "\"error\":\"Host not found\"") != NULL);
	ASSERT_TRUE(strstr(b.data, "\"ip\"") == NULL);
	ASSERT_TRUE(strstr(b.data, "\"state\"") == NULL);
	pp_buf_release(&b);
	return 0;
}

TEST_IMPL(text_check_lines)
{
	struct pp_check_result ok = result_ok(), bad = result_prohibited();
	struct pp_buf b;

	pp_buf_init(&b, 4096);
	pp_check_write_text(&b, &ok);
	ASSERT_STR_EQ(b.data,
		      "example.com port 80 [192.0.2.7]: open (syn-ack) in 45.000 ms, 1 attempt\n");
	pp_buf_reset(&b);
	pp_check_write_text(&b, &bad);
	ASSERT_STR_EQ(b.data, "example.com port 8080 [192.0.2.7]: No route to host - filtered "
			      "(admin-prohibited): ICMP admin-prohibited (type 3, code 13) from "
			      "198.18.0.1; 3 attempts, 10.123 s\n");
	pp_buf_release(&b);
	return 0;
}

TEST_IMPL(nagios_ok_warning_critical_with_perfdata)
{
	struct pp_check_result r = result_ok();
	const struct pp_check_result *rp = &r;
	struct pp_nagios_opts o = {.warning = -1, .critical = -1, .timeout = 10};
	struct pp_buf b;

	pp_buf_init(&b, 4096);
	ASSERT_EQ(pp_check_write_nagios(&b, &rp, 1, &o), PP_NAGIOS_OK);
	ASSERT_STR_EQ(b.data, "TCP OK - 0.045 second response time on example.com port "
			      "80|time=0.045000s;;;0.000000;10.000000\n");
	o.warning = 0.01;
	o.critical = 5;
	pp_buf_reset(&b);
	ASSERT_EQ(pp_check_write_nagios(&b, &rp, 1, &o), PP_NAGIOS_WARNING);
	ASSERT_STR_EQ(b.data, "TCP WARNING - 0.045 second response time on example.com port "
			      "80|time=0.045000s;0.010000;5.000000;0.000000;10.000000\n");
	o.critical = 0.02;
	pp_buf_reset(&b);
	ASSERT_EQ(pp_check_write_nagios(&b, &rp, 1, &o), PP_NAGIOS_CRITICAL);
	ASSERT_TRUE(!strncmp(b.data, "TCP CRITICAL - 0.045 second", 27));
	pp_buf_release(&b);
	return 0;
}

TEST_IMPL(nagios_failure_keeps_perfdata_and_unknown_for_local)
{
	struct pp_check_result r = result_prohibited();
	const struct pp_check_result *rp = &r;
	struct pp_nagios_opts o = {.warning = -1, .critical = -1, .timeout = 10};
	struct pp_buf b;

	pp_buf_init(&b, 4096);
	ASSERT_EQ(pp_check_write_nagios(&b, &rp, 1, &o), PP_NAGIOS_CRITICAL);
	ASSERT_STR_EQ(b.data,
		      "TCP CRITICAL - No route to host on example.com port 8080 [192.0.2.7] - "
		      "filtered (admin-prohibited): ICMP admin-prohibited (type 3, code 13) "
		      "from 198.18.0.1|time=10.123000s;;;0.000000;10.000000\n");
	memset(&r.out, 0, sizeof(r.out));
	r.out.syscall = "bind";
	r.out.sys_errno = EADDRINUSE;
	r.error = PP_ERROR_PORT_IN_USE;
	snprintf(r.detail, sizeof(r.detail), "bind: Address already in use");
	pp_buf_reset(&b);
	ASSERT_EQ(pp_check_write_nagios(&b, &rp, 1, &o), PP_NAGIOS_UNKNOWN);
	ASSERT_STR_EQ(b.data,
		      "TCP UNKNOWN - Port in use on example.com port 8080 [192.0.2.7]: bind: "
		      "Address already in use|time=10.123000s;;;0.000000;10.000000\n");
	pp_buf_release(&b);
	return 0;
}

TEST_IMPL(nagios_all_addresses_one_line)
{
	struct pp_check_result a = result_ok(), c = result_prohibited();
	const struct pp_check_result *rs[2] = {&a, &c};
	struct pp_nagios_opts o = {.warning = -1, .critical = -1, .timeout = 10};
	const char *why;
	struct pp_buf b;

	c.port = 80;
	pp_parse_ip("2001:db8::7", 80, &c.ip, &why);
	pp_buf_init(&b, 4096);
	ASSERT_EQ(pp_check_write_nagios(&b, rs, 2, &o), PP_NAGIOS_CRITICAL);
	ASSERT_STR_EQ(b.data, "TCP CRITICAL - 1 of 2 addresses failed on example.com port 80: "
			      "2001:db8::7 No route to host|'time_192.0.2.7'=0.045000s;;;0.000000;"
			      "10.000000 'time_2001:db8::7'=10.123000s;;;0.000000;10.000000\n");
	pp_buf_release(&b);
	return 0;
}
