/* test_ports.c: -p lists, --exclude-ports, top-N lists and service names,
 * asserted port by port. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "portprobe/ports.h"
#include "target/top_ports.h"
#include "test.h"

/* The compact form of a parsed spec, or "ERR: <why>". */
static const char *parsed(const char *spec)
{
	static char buf[256];
	struct pp_ports p;
	const char *why = NULL;

	if (pp_ports_parse(spec, &p, &why) < 0) {
		snprintf(buf, sizeof(buf), "ERR: %s", why ? why : "(no reason)");
		return buf;
	}
	if (!pp_ports_format(&p, buf, sizeof(buf)))
		snprintf(buf, sizeof(buf), "(too long: %zu ports)", p.n);
	pp_ports_free(&p);
	return buf;
}

/* Writes text to dir/name; returns the path (static) or NULL. */
static const char *fixture(const char *dir, const char *name, const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		return NULL;
	fputs(text, f);
	fclose(f);
	return path;
}

TEST_IMPL(ports_parse_nmap_syntax)
{
	struct pp_ports p;
	const char *why;

	ASSERT_EQ(pp_ports_parse("22,80,1000-2000", &p, &why), 0);
	ASSERT_UEQ(p.n, 2 + 1001);
	ASSERT_EQ(p.port[0], 22);
	ASSERT_EQ(p.port[1], 80);
	ASSERT_EQ(p.port[2], 1000);
	ASSERT_EQ(p.port[1002], 2000);
	pp_ports_free(&p);
	ASSERT_TRUE(p.port == NULL && p.n == 0);
	pp_ports_free(&p); /* twice is fine */

	ASSERT_EQ(pp_ports_parse("-", &p, &why), 0);
	ASSERT_UEQ(p.n, 65535);
	ASSERT_EQ(p.port[0], 1);
	ASSERT_EQ(p.port[65534], 65535);
	pp_ports_free(&p);

	ASSERT_STR_EQ(parsed("-100"), "1-100");
	ASSERT_STR_EQ(parsed("60000-"), "60000-65535");
	ASSERT_STR_EQ(parsed("T:80"), "80");
	ASSERT_STR_EQ(parsed("T:80,T:443"), "80,443");
	ASSERT_STR_EQ(parsed("443,80,80,79-81,1-3,2"), "1-3,79-81,443");
	ASSERT_STR_EQ(parsed("65535,1"), "1,65535");
	ASSERT_STR_EQ(parsed("00022"), "22");
	ASSERT_STR_EQ(parsed("5-5"), "5");
	return 0;
}

TEST_IMPL(ports_parse_rejects_with_reasons)
{
	static const struct {
		const char *spec;
		const char *why;
	} bad[] = {
	    {"0", "ERR: port 0 is not in 1..65535"},
	    {"70000", "ERR: port 70000 is not in 1..65535"},
	    {"1-70000", "ERR: port 70000 is not in 1..65535"},
	    {"5-1", "ERR: range 5-1 is reversed"},
	    {"", "ERR: empty port list"},
	    {"T:", "ERR: empty port list"},
	    {"1,,2", "ERR: has an empty item (two commas, or one at an end)"},
	    {"1,", "ERR: has an empty item (two commas, or one at an end)"},
	    {",1", "ERR: has an empty item (two commas, or one at an end)"},
	    {"U:53", "ERR: U: and S: lists are not supported (TCP only)"},
	    {"T:80,U:53", "ERR: U: and S: lists are not supported (TCP only)"},
	    {"S:9", "ERR: U: and S: lists are not supported (TCP only)"},
	    {"http", "ERR: 'http' is not a port number"},
	    {"80 ", "ERR: is not a number"},
	    {"1-2-3", "ERR: '1-2-3' is not a port number"},
	    {"--", "ERR: '--' is not a port number"},
	    {"99999999999999999999", "ERR: port 999999999999... is not in 1..65535"},
	};
	struct pp_ports p = {NULL, 0};
	const char *why;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ASSERT_STR_EQ(parsed(bad[i].spec), bad[i].why);
	ASSERT_EQ(pp_ports_parse("0", &p, &why), -EINVAL);
	ASSERT_TRUE(p.port == NULL); /* untouched on failure */
	return 0;
}

TEST_IMPL(ports_exclude_removes_ports)
{
	struct pp_ports p;
	const char *why;
	char buf[64];

	ASSERT_EQ(pp_ports_parse("1-1024,8080", &p, &why), 0);
	ASSERT_EQ(pp_ports_exclude(&p, "2-1023,9999", &why), 0);
	ASSERT_STR_EQ(pp_ports_format(&p, buf, sizeof(buf)), "1,1024,8080");
	ASSERT_EQ(pp_ports_exclude(&p, "0", &why), -EINVAL);
	ASSERT_STR_EQ(why, "port 0 is not in 1..65535");
	ASSERT_UEQ(p.n, 3); /* untouched on failure */
	ASSERT_EQ(pp_ports_exclude(&p, "-", &why), 0);
	ASSERT_UEQ(p.n, 0);
	ASSERT_STR_EQ(pp_ports_format(&p, buf, sizeof(buf)), "");
	pp_ports_free(&p);
	return 0;
}

TEST_IMPL(ports_format_is_compact_and_round_trips)
{
	struct pp_ports p, q;
	const char *why;
	char buf[64], small[8];

	ASSERT_EQ(pp_ports_parse("8080,1-1024,22,1026,1027", &p, &why), 0);
	ASSERT_STR_EQ(pp_ports_format(&p, buf, sizeof(buf)), "1-1024,1026-1027,8080");
	ASSERT_EQ(pp_ports_parse(buf, &q, &why), 0);
	ASSERT_UEQ(q.n, p.n);
	ASSERT_TRUE(!memcmp(p.port, q.port, p.n * sizeof(*p.port)));
	ASSERT_TRUE(pp_ports_format(&p, small, sizeof(small)) == NULL);
	ASSERT_TRUE(pp_ports_format(&p, buf, 21) == NULL); /* no room for the NUL */
	ASSERT_TRUE(pp_ports_format(&p, buf, 22) != NULL);
	pp_ports_free(&p);
	pp_ports_free(&q);
	return 0;
}

TEST_IMPL(ports_top_own_list_is_1000_distinct_ports)
{
	static uint8_t seen[65536];
	struct pp_ports p;
	const char *why;
	char buf[64];
	int has22 = 0, has80 = 0, has443 = 0;

	for (size_t i = 0; i < PP_TOP_PORTS_OWN_N; i++) {
		ASSERT_TRUE(pp_top_ports_own[i] != 0);
		ASSERT_EQ(seen[pp_top_ports_own[i]], 0);
		seen[pp_top_ports_own[i]] = 1;
	}
	ASSERT_EQ(pp_ports_top(1000, PP_PORTS_SOURCE_OWN, NULL, &p, &why), 0);
	ASSERT_UEQ(p.n, 1000);
	for (size_t i = 0; i < p.n; i++) {
		if (i)
			ASSERT_TRUE(p.port[i - 1] < p.port[i]);
		ASSERT_EQ(seen[p.port[i]], 1);
		has22 |= p.port[i] == 22;
		has80 |= p.port[i] == 80;
		has443 |= p.port[i] == 443;
	}
	ASSERT_TRUE(has22 && has80 && has443);
	pp_ports_free(&p);

	/* the first n of the ranking, ascending */
	ASSERT_EQ(pp_ports_top(4, PP_PORTS_SOURCE_OWN, NULL, &p, &why), 0);
	ASSERT_STR_EQ(pp_ports_format(&p, buf, sizeof(buf)), "80,443,8080,8443");
	pp_ports_free(&p);

	/* beyond the ranking: the lowest other ports, ascending */
	ASSERT_EQ(pp_ports_top(65535, PP_PORTS_SOURCE_OWN, NULL, &p, &why), 0);
	ASSERT_UEQ(p.n, 65535);
	pp_ports_free(&p);
	ASSERT_EQ(pp_ports_top(1001, PP_PORTS_SOURCE_OWN, NULL, &p, &why), 0);
	ASSERT_UEQ(p.n, 1001);
	for (size_t i = 0, extra = 0; i < p.n; i++) {
		if (!seen[p.port[i]]) {
			extra++;
			ASSERT_EQ(p.port[i], 560); /* the lowest port not in the list */
		}
		if (i == p.n - 1)
			ASSERT_UEQ(extra, 1);
	}
	pp_ports_free(&p);
	ASSERT_EQ(pp_ports_top(0, PP_PORTS_SOURCE_OWN, NULL, &p, &why), -EINVAL);
	ASSERT_STR_EQ(why, "is not in 1..65535");
	ASSERT_EQ(pp_ports_top(65536, PP_PORTS_SOURCE_OWN, NULL, &p, &why), -EINVAL);
	return 0;
}

TEST_IMPL(ports_top_nmap_ranks_by_open_frequency)
{
	static const char services[] = "# nmap-services fixture\n"
				       "alpha\t7/tcp\t0.100000\t# comment\n"
				       "alpha\t7/udp\t0.900000\n"
				       "beta\t300/tcp\t0.500000\n"
				       "gamma\t20/tcp\t0.100000\n"
				       "delta\t9/tcp\t0.000100\n"
				       "broken\t10/tcp\tlots\n"
				       "zero\t0/tcp\t0.9\n"
				       "big\t65536/tcp\t0.9\n"
				       "epsilon 65000/tcp 0.700000\n";
	char dir[] = "/tmp/pp_ports_XXXXXX", path[256];
	struct pp_ports p;
	const char *why, *fx;
	char buf[128];

	ASSERT_TRUE(mkdtemp(dir));
	fx = fixture(dir, "nmap-services", services);
	ASSERT_TRUE(fx);
	snprintf(path, sizeof(path), "%s", fx);

	/* ranked 65000, 300, 7, 20 (tie with 7: lower port first), 9 */
	ASSERT_EQ(pp_ports_top(1, PP_PORTS_SOURCE_NMAP, path, &p, &why), 0);
	ASSERT_STR_EQ(pp_ports_format(&p, buf, sizeof(buf)), "65000");
	pp_ports_free(&p);
	ASSERT_EQ(pp_ports_top(3, PP_PORTS_SOURCE_NMAP, path, &p, &why), 0);
	ASSERT_STR_EQ(pp_ports_format(&p, buf, sizeof(buf)), "7,300,65000");
	pp_ports_free(&p);
	ASSERT_EQ(pp_ports_top(4, PP_PORTS_SOURCE_NMAP, path, &p, &why), 0);
	ASSERT_STR_EQ(pp_ports_format(&p, buf, sizeof(buf)), "7,20,300,65000");
	pp_ports_free(&p);
	/* 5 ranked, then the lowest others: 1-4 */
	ASSERT_EQ(pp_ports_top(9, PP_PORTS_SOURCE_NMAP, path, &p, &why), 0);
	ASSERT_STR_EQ(pp_ports_format(&p, buf, sizeof(buf)), "1-4,7,9,20,300,65000");
	pp_ports_free(&p);

	fx = fixture(dir, "empty", "# nothing\nfoo\t53/udp\t0.5\n");
	ASSERT_TRUE(fx);
	ASSERT_EQ(pp_ports_top(3, PP_PORTS_SOURCE_NMAP, fx, &p, &why), -EINVAL);
	ASSERT_STR_EQ(why, "nmap-services has no TCP entries");
	unlink(fx);
	snprintf(path + strlen(dir), sizeof(path) - strlen(dir), "/missing");
	ASSERT_EQ(pp_ports_top(3, PP_PORTS_SOURCE_NMAP, path, &p, &why), -ENOENT);
	ASSERT_STR_EQ(why, "cannot read nmap-services");
	snprintf(path, sizeof(path), "%s/nmap-services", dir);
	unlink(path);
	rmdir(dir);
	return 0;
}

TEST_IMPL(ports_service_name_first_tcp_entry_wins)
{
	static const char services[] = "# services fixture\n"
				       "tcpmux\t\t1/tcp\n"
				       "first\t\t4242/udp\n"
				       "second\t\t4242/tcp\talias # comment\n"
				       "third\t\t4242/tcp\n"
				       "  indented 4343/tcp\n"
				       "bad\t\t0/tcp\n"
				       "bad2\t\t70000/tcp\n"
				       "bad3\t\t4444/tcpx\n"
				       "# 4545/tcp commented\n";
	char dir[] = "/tmp/pp_services_XXXXXX";
	const char *fx;

	ASSERT_TRUE(mkdtemp(dir));
	fx = fixture(dir, "services", services);
	ASSERT_TRUE(fx);
	ASSERT_EQ(pp_services_load(fx), 0);
	ASSERT_STR_EQ(pp_service_name(1), "tcpmux");
	ASSERT_STR_EQ(pp_service_name(4242), "second");
	ASSERT_STR_EQ(pp_service_name(4343), "indented");
	ASSERT_TRUE(pp_service_name(4444) == NULL);
	ASSERT_TRUE(pp_service_name(4545) == NULL);
	ASSERT_TRUE(pp_service_name(0) == NULL);
	ASSERT_TRUE(pp_service_name(65535) == NULL);
	unlink(fx);
	ASSERT_EQ(pp_services_load("/nonexistent/services"), -ENOENT);
	ASSERT_STR_EQ(pp_service_name(4242), "second"); /* the table stays */
	rmdir(dir);
	/* leave the system's names for tests run after this one in-process */
	if (access("/etc/services", R_OK) == 0)
		ASSERT_EQ(pp_services_load("/etc/services"), 0);
	return 0;
}
