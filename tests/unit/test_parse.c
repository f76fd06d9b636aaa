/* test_parse.c: what users type, accepted and refused exactly. */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>

#include "portprobe/buf.h"
#include "portprobe/parse.h"
#include "test.h"

TEST_IMPL(parse_port_accepts_1_to_65535_only)
{
	static const char *const bad[] = {"",     "0",    "65536", "70000",
					  "http", "-1",   "+80",   " 80",
					  "80 ",  "0x50", "1e2",   "99999999999999999999",
					  "8O"};
	const char *why = NULL;
	uint16_t p = 0;

	ASSERT_EQ(pp_parse_port("1", 0, &p, &why), 0);
	ASSERT_EQ(p, 1);
	ASSERT_EQ(pp_parse_port("65535", 0, &p, &why), 0);
	ASSERT_EQ(p, 65535);
	ASSERT_EQ(pp_parse_port("00080", 0, &p, &why), 0);
	ASSERT_EQ(p, 80);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p = 7;
		ASSERT_EQ(pp_parse_port(bad[i], 0, &p, &why), -EINVAL);
		ASSERT_EQ(p, 7); /* untouched on failure */
	}
	ASSERT_EQ(pp_parse_port("65536", 0, &p, &why), -EINVAL);
	ASSERT_STR_EQ(why, "is not in 1..65535");
	ASSERT_EQ(pp_parse_port("http", 0, &p, &why), -EINVAL);
	ASSERT_STR_EQ(why, "is not a port number (expected 1..65535)");
	ASSERT_EQ(pp_parse_port("0", 1, &p, &why), 0);
	ASSERT_EQ(p, 0);
	return 0;
}

TEST_IMPL(parse_seconds_is_strict_decimal)
{
	static const char *const bad[] = {"",    "0",    "0.0",   "-1", "nan", "NaN", "inf",
					  "1e3", "0x10", "1.2.3", ".",  "5s",  " 1",  "1,5"};
	const char *why = NULL;
	double v = 0;

	ASSERT_EQ(pp_parse_seconds("2", 0, 86400, &v, &why), 0);
	ASSERT_DBL_EQ(v, 2.0);
	ASSERT_EQ(pp_parse_seconds("0.25", 0, 86400, &v, &why), 0);
	ASSERT_DBL_EQ(v, 0.25);
	ASSERT_EQ(pp_parse_seconds(".5", 0, 86400, &v, &why), 0);
	ASSERT_DBL_EQ(v, 0.5);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ASSERT_EQ(pp_parse_seconds(bad[i], 0, 86400, &v, &why), -EINVAL);
	ASSERT_EQ(pp_parse_seconds("0", 0, 86400, &v, &why), -EINVAL);
	ASSERT_STR_EQ(why, "must be greater than 0");
	ASSERT_EQ(pp_parse_seconds("0", 1, 86400, &v, &why), 0);
	ASSERT_DBL_EQ(v, 0.0);
	ASSERT_EQ(pp_parse_seconds("0.0001", 1, 86400, &v, &why), -EINVAL);
	ASSERT_STR_EQ(why, "is below the 1 ms resolution");
	ASSERT_EQ(pp_parse_seconds("0.001", 0, 86400, &v, &why), 0);
	ASSERT_EQ(pp_parse_seconds("86401", 0, 86400, &v, &why), -EINVAL);
	ASSERT_STR_EQ(why, "is too large");
	return 0;
}

TEST_IMPL(parse_host_rejects_what_cannot_be_a_host)
{
	char longlabel[80], longname[300];
	const char *why = NULL;

	ASSERT_EQ(pp_parse_host("example.com", &why), 0);
	ASSERT_EQ(pp_parse_host("example.com.", &why), 0);
	ASSERT_EQ(pp_parse_host("localhost", &why), 0);
	ASSERT_EQ(pp_parse_host("10.0.0.1", &why), 0);
	ASSERT_EQ(pp_parse_host("::1", &why), 0);
	ASSERT_EQ(pp_parse_host("[::1]", &why), 0);
	ASSERT_EQ(pp_parse_host("", &why), -EINVAL);
	ASSERT_STR_EQ(why, "is empty");
	ASSERT_EQ(pp_parse_host("a b", &why), -EINVAL);
	ASSERT_EQ(pp_parse_host("a..b", &why), -EINVAL);
	ASSERT_STR_EQ(why, "has an empty label");
	ASSERT_EQ(pp_parse_host(".a", &why), -EINVAL);
	ASSERT_EQ(pp_parse_host("x/y", &why), -EINVAL);
	ASSERT_EQ(pp_parse_host("::zz", &why), -EINVAL);
	memset(longlabel, 'a', 64);
	longlabel[64] = '\0';
	ASSERT_EQ(pp_parse_host(longlabel, &why), -EINVAL);
	ASSERT_STR_EQ(why, "has a label longer than 63 characters");
	for (int i = 0; i < 254; i++)
		longname[i] = i % 10 == 9 ? '.' : 'a';
	longname[254] = '\0';
	ASSERT_EQ(pp_parse_host(longname, &why), -EINVAL);
	ASSERT_STR_EQ(why, "is longer than 253 characters");
	return 0;
}

TEST_IMPL(parse_ip_handles_brackets_and_scope)
{
	struct pp_addr a;
	const char *why = NULL;
	char buf[PP_ADDRSTRLEN];

	ASSERT_EQ(pp_parse_ip("127.0.0.1", 80, &a, &why), 0);
	ASSERT_EQ(pp_addr_family(&a), AF_INET);
	ASSERT_EQ(pp_addr_port(&a), 80);
	ASSERT_STR_EQ(pp_addr_str(&a, buf, sizeof(buf)), "127.0.0.1");
	ASSERT_EQ(pp_parse_ip("[2001:db8::1]", 443, &a, &why), 0);
	ASSERT_EQ(pp_addr_family(&a), AF_INET6);
	ASSERT_STR_EQ(pp_addr_str(&a, buf, sizeof(buf)), "2001:db8::1");
	ASSERT_EQ(pp_parse_ip("fe80::1%lo", 22, &a, &why), 0);
	ASSERT_STR_EQ(pp_addr_str(&a, buf, sizeof(buf)), "fe80::1%lo");
	ASSERT_EQ(pp_parse_ip("fe80::1%nosuchif0", 22, &a, &why), -EINVAL);
	ASSERT_EQ(pp_parse_ip("[127.0.0.1]", 22, &a, &why), -EINVAL);
	ASSERT_EQ(pp_parse_ip("1.2.3", 22, &a, &why), -EINVAL);
	ASSERT_EQ(pp_parse_ip("[::1", 22, &a, &why), -EINVAL);
	ASSERT_EQ(pp_parse_ip("example.com", 22, &a, &why), -EINVAL);
	ASSERT_STR_EQ(why, "is not an IP address");
	return 0;
}

TEST_IMPL(parse_dns_servers_builds_cares_csv)
{
	char out[256];
	const char *why = NULL;

	ASSERT_EQ(pp_parse_dns_servers("198.18.1.2", out, sizeof(out), &why), 0);
	ASSERT_STR_EQ(out, "198.18.1.2:53");
	ASSERT_EQ(
	    pp_parse_dns_servers("198.18.1.2:5353,[2001:db8::1]:54,::1", out, sizeof(out), &why),
	    0);
	ASSERT_STR_EQ(out, "198.18.1.2:5353,[2001:db8::1]:54,[::1]:53");
	ASSERT_EQ(pp_parse_dns_servers("", out, sizeof(out), &why), -EINVAL);
	ASSERT_EQ(pp_parse_dns_servers("dns.google", out, sizeof(out), &why), -EINVAL);
	ASSERT_EQ(pp_parse_dns_servers("1.1.1.1:0", out, sizeof(out), &why), -EINVAL);
	ASSERT_EQ(pp_parse_dns_servers("1.1.1.1,", out, sizeof(out), &why), -EINVAL);
	ASSERT_EQ(pp_parse_dns_servers("[::1]x", out, sizeof(out), &why), -EINVAL);
	ASSERT_EQ(pp_parse_dns_servers("1.1.1.1", out, 8, &why), -EINVAL);
	ASSERT_EQ(pp_parse_dns_servers("fe80::1%lo", out, sizeof(out), &why), -EINVAL);
	ASSERT_STR_EQ(why, "has a scope id, which c-ares cannot use");
	return 0;
}

TEST_IMPL(buf_caps_and_sticks_on_failure)
{
	struct pp_buf b;

	pp_buf_init(&b, 8);
	ASSERT_EQ(pp_buf_puts(&b, "12345"), 0);
	ASSERT_EQ(pp_buf_printf(&b, "%d", 678), 0);
	ASSERT_STR_EQ(b.data, "12345678");
	ASSERT_EQ(pp_buf_puts(&b, "9"), -E2BIG);
	ASSERT_EQ(pp_buf_puts(&b, ""), -E2BIG); /* sticks */
	ASSERT_UEQ(b.len, 8);
	pp_buf_reset(&b);
	ASSERT_EQ(pp_buf_puts(&b, "ok"), 0);
	ASSERT_STR_EQ(b.data, "ok");
	pp_buf_release(&b);
	return 0;
}
