/* test_target.c: target specs, lazy indexing, excludes and -iL files, with
 * exact counts and addresses. */
#include <arpa/inet.h>
#include <errno.h>

#include "portprobe/parse.h"
#include "portprobe/target.h"
#include "test.h"

/* The text of host h of a sealed set, or "ERANGE". */
static const char *host(const struct pp_targets *t, uint64_t h)
{
	static char buf[PP_ADDRSTRLEN];
	struct pp_addr a;

	if (pp_targets_get(t, h, &a, NULL) < 0)
		return "ERANGE";
	return pp_addr_str(&a, buf, sizeof(buf));
}

/* A sealed set of specs and excludes (NULL-terminated lists); NULL on failure. */
static struct pp_targets *sealed(const char *const *specs, const char *const *excludes)
{
	struct pp_targets *t;
	const char *why;

	if (pp_targets_new(&t) < 0)
		return NULL;
	for (; specs && *specs; specs++) {
		if (pp_targets_add(t, *specs, &why) != 0) {
			fprintf(stderr, "add %s: %s\n", *specs, why);
			goto fail;
		}
	}
	for (; excludes && *excludes; excludes++) {
		if (pp_targets_exclude(t, *excludes, &why) != 0) {
			fprintf(stderr, "exclude %s: %s\n", *excludes, why);
			goto fail;
		}
	}
	if (pp_targets_seal(t) == 0)
		return t;
fail:
	pp_targets_free(t);
	return NULL;
}

#define SEALED(...) sealed((const char *const[]){__VA_ARGS__, NULL}, NULL)

TEST_IMPL(targets_octet_ranges_index_in_ascending_order)
{
	struct pp_targets *t = SEALED("10.0.1-3.1-254");

	ASSERT_TRUE(t);
	ASSERT_UEQ(pp_targets_count(t), 762);
	ASSERT_STR_EQ(host(t, 0), "10.0.1.1");
	ASSERT_STR_EQ(host(t, 253), "10.0.1.254");
	ASSERT_STR_EQ(host(t, 254), "10.0.2.1");
	ASSERT_STR_EQ(host(t, 761), "10.0.3.254");
	ASSERT_STR_EQ(host(t, 762), "ERANGE");
	pp_targets_free(t);

	t = SEALED("10.0.0,2,4.*");
	ASSERT_TRUE(t);
	ASSERT_UEQ(pp_targets_count(t), 768);
	ASSERT_STR_EQ(host(t, 255), "10.0.0.255");
	ASSERT_STR_EQ(host(t, 256), "10.0.2.0");
	ASSERT_STR_EQ(host(t, 767), "10.0.4.255");
	pp_targets_free(t);

	/* "-5" is 0-5, "250-" is 250-255, "-" is 0-255, in spec order */
	t = SEALED("192.0.2.-5", "192.0.2.250-", "198.51.100.-", "1,3.2.3.4");
	ASSERT_TRUE(t);
	ASSERT_UEQ(pp_targets_count(t), 6 + 6 + 256 + 2);
	ASSERT_STR_EQ(host(t, 0), "192.0.2.0");
	ASSERT_STR_EQ(host(t, 5), "192.0.2.5");
	ASSERT_STR_EQ(host(t, 6), "192.0.2.250");
	ASSERT_STR_EQ(host(t, 11), "192.0.2.255");
	ASSERT_STR_EQ(host(t, 12), "198.51.100.0");
	ASSERT_STR_EQ(host(t, 267), "198.51.100.255");
	ASSERT_STR_EQ(host(t, 268), "1.2.3.4");
	ASSERT_STR_EQ(host(t, 269), "3.2.3.4");
	pp_targets_free(t);

	/* a product with gaps in every octet */
	t = SEALED("1,5-6.0,255.7,9.1-2,200");
	ASSERT_TRUE(t);
	ASSERT_UEQ(pp_targets_count(t), 3 * 2 * 2 * 3);
	ASSERT_STR_EQ(host(t, 0), "1.0.7.1");
	ASSERT_STR_EQ(host(t, 3), "1.0.9.1");
	ASSERT_STR_EQ(host(t, 6), "1.255.7.1");
	ASSERT_STR_EQ(host(t, 12), "5.0.7.1");
	ASSERT_STR_EQ(host(t, 35), "6.255.9.200");
	ASSERT_TRUE(!pp_targets_mixed(t));
	pp_targets_free(t);
	return 0;
}

TEST_IMPL(targets_cidr_is_one_lazy_item)
{
	struct pp_targets *t = SEALED("10.0.0.0/8");

	ASSERT_TRUE(t);
	ASSERT_UEQ(pp_targets_count(t), 16777216);
	ASSERT_STR_EQ(host(t, 0), "10.0.0.0");
	ASSERT_STR_EQ(host(t, 65536 + 256 + 1), "10.1.1.1");
	ASSERT_STR_EQ(host(t, 16777215), "10.255.255.255");
	ASSERT_STR_EQ(host(t, 16777216), "ERANGE");
	pp_targets_free(t);

	/* host bits are cleared, as nmap does; /32 is one address, /0 all */
	t = SEALED("192.0.2.77/24", "198.51.100.9/32", "0.0.0.0/0");
	ASSERT_TRUE(t);
	ASSERT_UEQ(pp_targets_count(t), 256 + 1 + 4294967296ull);
	ASSERT_STR_EQ(host(t, 0), "192.0.2.0");
	ASSERT_STR_EQ(host(t, 256), "198.51.100.9");
	ASSERT_STR_EQ(host(t, 257), "0.0.0.0");
	ASSERT_STR_EQ(host(t, 256 + 4294967296ull), "255.255.255.255");
	pp_targets_free(t);

	/* contiguous octet ranges are ranges too: one piece each */
	t = SEALED("10.*.*.*", "172.16.0-15.*");
	ASSERT_TRUE(t);
	ASSERT_UEQ(pp_targets_count(t), 16777216 + 4096);
	ASSERT_STR_EQ(host(t, 16777216 + 4095), "172.16.15.255");
	pp_targets_free(t);
	return 0;
}

TEST_IMPL(targets_duplicates_are_kept_in_spec_order)
{
	struct pp_targets *t = SEALED("10.0.0.2", "10.0.0.1-3", "10.0.0.2");

	ASSERT_TRUE(t);
	ASSERT_UEQ(pp_targets_count(t), 5);
	ASSERT_STR_EQ(host(t, 0), "10.0.0.2");
	ASSERT_STR_EQ(host(t, 1), "10.0.0.1");
	ASSERT_STR_EQ(host(t, 3), "10.0.0.3");
	ASSERT_STR_EQ(host(t, 4), "10.0.0.2");
	pp_targets_free(t);
	return 0;
}

TEST_IMPL(targets_ipv6_cidr_and_mixed_families)
{
	struct pp_targets *t = SEALED("2001:db8::/120", "[2001:db8::1:1]", "192.0.2.1");
	struct pp_addr a;
	const char *why, *name = "x";
	char buf[PP_ADDRSTRLEN];

	ASSERT_TRUE(t);
	ASSERT_UEQ(pp_targets_count(t), 258);
	ASSERT_STR_EQ(host(t, 0), "2001:db8::");
	ASSERT_STR_EQ(host(t, 255), "2001:db8::ff");
	ASSERT_STR_EQ(host(t, 256), "2001:db8::1:1");
	ASSERT_STR_EQ(host(t, 257), "192.0.2.1");
	ASSERT_TRUE(pp_targets_mixed(t));
	ASSERT_EQ(pp_targets_get(t, 256, &a, &name), 0);
	ASSERT_TRUE(name == NULL);
	ASSERT_EQ(pp_addr_family(&a), AF_INET6);
	ASSERT_EQ(pp_addr_port(&a), 0);
	pp_targets_free(t);

	/* a /100 without its lower half; an exclude ending at a 64-bit boundary */
	t = sealed(
	    (const char *const[]){"2001:db8:0:1::/100", "2001:db8::ffff:ffff:ffff:ff00/120", NULL},
	    (const char *const[]){"2001:db8:0:1::/101", "2001:db8::/64", NULL});
	ASSERT_TRUE(t);
	ASSERT_UEQ(pp_targets_count(t), 1u << 27);
	ASSERT_STR_EQ(host(t, 0), "2001:db8:0:1::800:0");
	ASSERT_STR_EQ(host(t, (1u << 27) - 1), "2001:db8:0:1::fff:ffff");
	pp_targets_free(t);

	/* a scope id is kept on a single link-local address, refused on CIDR */
	ASSERT_EQ(pp_targets_new(&t), 0);
	ASSERT_EQ(pp_targets_add(t, "fe80::1%lo", &why), 0);
	ASSERT_EQ(pp_targets_add(t, "fe80::/120%lo", &why), -EINVAL);
	ASSERT_EQ(pp_targets_add(t, "fe80::1%lo/128", &why), -EINVAL);
	ASSERT_STR_EQ(why, "has a scope id, which only a single address may have");
	ASSERT_EQ(pp_targets_seal(t), 0);
	ASSERT_EQ(pp_targets_get(t, 0, &a, NULL), 0);
	ASSERT_STR_EQ(pp_addr_str(&a, buf, sizeof(buf)), "fe80::1%lo");
	ASSERT_TRUE(!pp_targets_mixed(t));
	pp_targets_free(t);
	return 0;
}

TEST_IMPL(targets_reject_bad_specs_with_reasons)
{
	static const struct {
		const char *spec;
		int err;
		const char *why;
	} bad[] = {
	    {"10.0.0.0/33", -EINVAL, "prefix length 33 is not in 0..32"},
	    {"::/129", -EINVAL, "prefix length 129 is not in 0..128"},
	    {"10.0.0.256", -EINVAL, "octet 256 is not in 0..255"},
	    {"1.2.3", -EINVAL, "has 3 octets; an IPv4 address or octet range has 4"},
	    {"1.2.3.4.5", -EINVAL, "has 5 octets; an IPv4 address or octet range has 4"},
	    {"10.0.5-1.1", -EINVAL, "octet range 5-1 is reversed"},
	    {"10.0.0.010", -EINVAL, "octet 010 has a leading zero"},
	    {"10.0..1", -EINVAL, "has an empty octet"},
	    {"10.0.1,,2.1", -EINVAL, "has an empty item in an octet list"},
	    {"10.0.1-2-3.1", -EINVAL, "has an octet range with two '-'"},
	    {"10.0.0.0/", -EINVAL, "has an empty prefix length"},
	    {"10.0.0.0/x", -EINVAL, "has a prefix length that is not a number"},
	    {"10.0.0.1-5/24", -EINVAL,
	     "has a prefix length on an octet range (only a single address takes one)"},
	    {"example.com/24", -EINVAL,
	     "has a prefix length, which needs an address, not a host name"},
	    {"a b", -EINVAL, "is not an address, CIDR, octet range or host name"},
	    {"x!y", -EINVAL, "is not an address, CIDR, octet range or host name"},
	    {"", -EINVAL, "is empty"},
	    {"2001:db8::zz", -EINVAL, "is not an IP address"},
	    {"2001:db8::/64", -E2BIG, "more than 2^40 addresses"},
	};
	struct pp_targets *t;
	const char *why;

	ASSERT_EQ(pp_targets_new(&t), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		if (pp_targets_add(t, bad[i].spec, &why) != bad[i].err || !why ||
		    strcmp(why, bad[i].why))
			TEST_FAIL_("'%s': want %d \"%s\", got \"%s\"", bad[i].spec, bad[i].err,
				   bad[i].why, why ? why : "(null)");
	}
	ASSERT_EQ(pp_targets_seal(t), 0);
	ASSERT_UEQ(pp_targets_count(t), 0);
	pp_targets_free(t);
	return 0;
}

TEST_IMPL(targets_cap_is_2_to_the_40_addresses)
{
	struct pp_targets *t;
	const char *why;

	ASSERT_EQ(pp_targets_new(&t), 0);
	ASSERT_EQ(pp_targets_add(t, "2001:db8::/88", &why), 0);
	ASSERT_EQ(pp_targets_add(t, "192.0.2.1", &why), -E2BIG);
	ASSERT_STR_EQ(why, "more than 2^40 addresses");
	ASSERT_EQ(pp_targets_seal(t), 0);
	ASSERT_UEQ(pp_targets_count(t), PP_TARGETS_MAX);
	ASSERT_STR_EQ(host(t, PP_TARGETS_MAX - 1), "2001:db8::ff:ffff:ffff");
	pp_targets_free(t);
	return 0;
}

TEST_IMPL(targets_exclude_splits_contiguous_ranges)
{
	struct pp_targets *t = sealed((const char *const[]){"10.0.0.0/8", NULL},
				      (const char *const[]){"10.0.0.0/9", NULL});

	ASSERT_TRUE(t);
	ASSERT_UEQ(pp_targets_count(t), 8388608);
	ASSERT_STR_EQ(host(t, 0), "10.128.0.0");
	ASSERT_STR_EQ(host(t, 8388607), "10.255.255.255");
	pp_targets_free(t);

	/* holes in the middle, at the edges, overlapping and adjacent excludes */
	t = sealed((const char *const[]){"192.0.2.0/24", "198.51.100.0/30", NULL},
		   (const char *const[]){"192.0.2.0", "192.0.2.10-19", "192.0.2.15-25",
					 "192.0.2.26", "192.0.2.255", "198.51.100.0/30",
					 "203.0.113.0/24", NULL});
	ASSERT_TRUE(t);
	ASSERT_UEQ(pp_targets_count(t), 256 - 1 - 17 - 1);
	ASSERT_STR_EQ(host(t, 0), "192.0.2.1");
	ASSERT_STR_EQ(host(t, 8), "192.0.2.9");
	ASSERT_STR_EQ(host(t, 9), "192.0.2.27");
	ASSERT_STR_EQ(host(t, 236), "192.0.2.254");
	ASSERT_STR_EQ(host(t, 237), "ERANGE");
	pp_targets_free(t);

	/* excludes are per family: 10.0.0.1 does not exclude ::a00:1 */
	t = sealed((const char *const[]){"::a00:0/127", NULL},
		   (const char *const[]){"10.0.0.1", "0.0.0.0/0", NULL});
	ASSERT_TRUE(t);
	ASSERT_UEQ(pp_targets_count(t), 2);
	pp_targets_free(t);

	/* excluding everything leaves an empty set */
	t = sealed((const char *const[]){"10.0.0.0/8", "2001:db8::/120", NULL},
		   (const char *const[]){"0.0.0.0/0", "::/0", NULL});
	ASSERT_TRUE(t);
	ASSERT_UEQ(pp_targets_count(t), 0);
	ASSERT_STR_EQ(host(t, 0), "ERANGE");
	ASSERT_TRUE(!pp_targets_mixed(t));
	pp_targets_free(t);
	return 0;
}

/* 10.0.0-9,20.0-255 with holes, for the brute-force check below. */
static int in_spec(uint32_t a)
{
	unsigned o2 = a >> 8 & 0xff;

	return (a >> 16) == 0x0a00 && (o2 <= 9 || o2 == 20);
}

static const char *const cross_excludes[] = {
    "10.0.2.0/24", "10.0.3.7",      "10.0.4.250-",  "10.0.5-6.0-9,100",
    "10.0.8.255",  "10.0.9.0",      "10.0.10-19.*", "10.0.20.128/25",
    "10.0.0.0/30", "9.255.255.255", "10.0.21.0/24", "10.0.7.1,3,5,7,9,11",
    NULL,
};

static int in_excludes(uint32_t a)
{
	unsigned o2 = a >> 8 & 0xff, o3 = a & 0xff;

	if ((a >> 16) != 0x0a00)
		return 0;
	return o2 == 2 || (o2 == 3 && o3 == 7) || (o2 == 4 && o3 >= 250) ||
	       ((o2 == 5 || o2 == 6) && (o3 <= 9 || o3 == 100)) || (o2 == 8 && o3 == 255) ||
	       (o2 == 9 && o3 == 0) || (o2 >= 10 && o2 <= 19) || (o2 == 20 && o3 >= 128) ||
	       (o2 == 0 && o3 <= 3) || o2 == 21 || (o2 == 7 && o3 <= 11 && o3 % 2 == 1);
}

TEST_IMPL(targets_exclude_inside_octet_range_is_exact)
{
	struct pp_targets *t = sealed((const char *const[]){"10.0.1-3.1-254", NULL},
				      (const char *const[]){"10.0.2.0/24", NULL});
	uint64_t h = 0;

	ASSERT_TRUE(t);
	ASSERT_UEQ(pp_targets_count(t), 508);
	ASSERT_STR_EQ(host(t, 253), "10.0.1.254");
	ASSERT_STR_EQ(host(t, 254), "10.0.3.1");
	ASSERT_STR_EQ(host(t, 507), "10.0.3.254");
	pp_targets_free(t);

	/* every host of an octet product with holes against brute force */
	t = sealed((const char *const[]){"10.0.0-9,20.*", NULL}, cross_excludes);
	ASSERT_TRUE(t);
	for (uint32_t a = 0x0a000000; a < 0x0a010000; a++) {
		struct pp_addr got;
		const struct sockaddr_in *in = (const struct sockaddr_in *)&got.sa;

		if (!in_spec(a) || in_excludes(a))
			continue;
		ASSERT_EQ(pp_targets_get(t, h, &got, NULL), 0);
		ASSERT_UEQ(ntohl(in->sin_addr.s_addr), a);
		h++;
	}
	ASSERT_UEQ(pp_targets_count(t), h);
	ASSERT_UEQ(h, 2391);
	pp_targets_free(t);

	/* an octet-range exclude of too many pieces is refused */
	ASSERT_EQ(pp_targets_new(&t), 0);
	{
		const char *why;

		ASSERT_EQ(pp_targets_exclude(t, "*.*.*.1", &why), -E2BIG);
		ASSERT_STR_EQ(why,
			      "is an octet range of more than 65536 pieces; exclude with CIDR");
		ASSERT_EQ(pp_targets_exclude(t, "10.*.*.1", &why), 0);
		ASSERT_EQ(pp_targets_exclude(t, "2001:db8::/32", &why), 0);
		ASSERT_EQ(pp_targets_exclude(t, "example.com", &why), -EINVAL);
		ASSERT_STR_EQ(why, "exclude takes addresses, not host names");
		ASSERT_EQ(pp_targets_add(t, "10.0-1.0-1.0-2", &why), 0);
	}
	ASSERT_EQ(pp_targets_seal(t), 0);
	ASSERT_UEQ(pp_targets_count(t), 8);
	ASSERT_STR_EQ(host(t, 0), "10.0.0.0");
	ASSERT_STR_EQ(host(t, 1), "10.0.0.2");
	ASSERT_STR_EQ(host(t, 7), "10.1.1.2");
	pp_targets_free(t);
	return 0;
}

TEST_IMPL(targets_host_names_wait_for_their_addresses)
{
	struct pp_targets *t;
	struct pp_addr addrs[3], got;
	const char *why, *name = NULL;

	ASSERT_EQ(pp_targets_new(&t), 0);
	ASSERT_EQ(pp_targets_add(t, "192.0.2.1", &why), 0);
	ASSERT_EQ(pp_targets_add(t, "db.example", &why), 1);
	ASSERT_EQ(pp_targets_add(t, "198.51.100.0/31", &why), 0);
	ASSERT_EQ(pp_targets_add(t, "gone.example", &why), 1);
	ASSERT_EQ(pp_targets_exclude(t, "203.0.113.2", &why), 0);
	ASSERT_UEQ(pp_targets_name_count(t), 2);
	ASSERT_STR_EQ(pp_targets_name(t, 0), "db.example");
	ASSERT_STR_EQ(pp_targets_name(t, 1), "gone.example");
	ASSERT_TRUE(pp_targets_name(t, 2) == NULL);
	ASSERT_EQ(pp_targets_seal(t), -EINVAL); /* names not resolved */
	ASSERT_EQ(pp_parse_ip("203.0.113.1", 80, &addrs[0], &why), 0);
	ASSERT_EQ(pp_parse_ip("203.0.113.2", 0, &addrs[1], &why), 0);
	ASSERT_EQ(pp_parse_ip("2001:db8::5", 0, &addrs[2], &why), 0);
	ASSERT_EQ(pp_targets_resolve(t, 0, addrs, 3), 0);
	ASSERT_EQ(pp_targets_resolve(t, 0, addrs, 3), -EINVAL); /* already set */
	ASSERT_EQ(pp_targets_resolve(t, 2, addrs, 1), -EINVAL); /* no such name */
	ASSERT_EQ(pp_targets_resolve(t, 1, NULL, 0), 0);
	ASSERT_EQ(pp_targets_seal(t), 0);
	ASSERT_EQ(pp_targets_add(t, "192.0.2.9", &why), -EINVAL); /* sealed */
	/* 192.0.2.1, db.example's two addresses left after the exclude, 2 more */
	ASSERT_UEQ(pp_targets_count(t), 5);
	ASSERT_EQ(pp_targets_get(t, 0, &got, &name), 0);
	ASSERT_TRUE(name == NULL);
	ASSERT_EQ(pp_targets_get(t, 1, &got, &name), 0);
	ASSERT_STR_EQ(name, "db.example");
	ASSERT_STR_EQ(host(t, 1), "203.0.113.1");
	ASSERT_EQ(pp_addr_port(&got), 0); /* ports of resolved addresses are ignored */
	ASSERT_EQ(pp_targets_get(t, 2, &got, &name), 0);
	ASSERT_STR_EQ(name, "db.example");
	ASSERT_STR_EQ(host(t, 2), "2001:db8::5");
	ASSERT_EQ(pp_targets_get(t, 3, &got, &name), 0);
	ASSERT_TRUE(name == NULL);
	ASSERT_STR_EQ(host(t, 4), "198.51.100.1");
	ASSERT_TRUE(pp_targets_mixed(t));
	pp_targets_free(t);
	return 0;
}

TEST_IMPL(targets_file_skips_comments_and_names_the_bad_line)
{
	static const char good[] = "# targets\n"
				   "192.0.2.1 192.0.2.2\t192.0.2.8/30 # a comment 10.0.0.1\n"
				   "\n"
				   "   \r\n"
				   "host.example#also a comment\n"
				   "2001:db8::/126";
	static const char bad[] = "192.0.2.1\n# 10.0.0.300\n\n10.0.0.1 10.0.0.300 10.0.0.2\n";
	struct pp_targets *t;
	unsigned long line = 99;
	char spec[64];
	const char *why;
	FILE *f;

	ASSERT_EQ(pp_targets_new(&t), 0);
	f = fmemopen((void *)good, sizeof(good) - 1, "r");
	ASSERT_TRUE(f);
	ASSERT_EQ(pp_targets_add_file(t, f, &line, spec, sizeof(spec), &why), 5);
	fclose(f);
	ASSERT_UEQ(pp_targets_name_count(t), 1);
	ASSERT_STR_EQ(pp_targets_name(t, 0), "host.example");
	ASSERT_EQ(pp_targets_resolve(t, 0, NULL, 0), 0);
	f = fmemopen((void *)"192.0.2.9 # no\n192.0.2.10", 25, "r");
	ASSERT_TRUE(f);
	ASSERT_EQ(pp_targets_exclude_file(t, f, &line, spec, sizeof(spec), &why), 2);
	fclose(f);
	ASSERT_EQ(pp_targets_seal(t), 0);
	ASSERT_UEQ(pp_targets_count(t), 2 + 2 + 4);
	ASSERT_STR_EQ(host(t, 2), "192.0.2.8");
	ASSERT_STR_EQ(host(t, 3), "192.0.2.11");
	ASSERT_STR_EQ(host(t, 4), "2001:db8::");
	pp_targets_free(t);

	ASSERT_EQ(pp_targets_new(&t), 0);
	f = fmemopen((void *)bad, sizeof(bad) - 1, "r");
	ASSERT_TRUE(f);
	ASSERT_EQ(pp_targets_add_file(t, f, &line, spec, sizeof(spec), &why), -EINVAL);
	fclose(f);
	ASSERT_UEQ(line, 4);
	ASSERT_STR_EQ(spec, "10.0.0.300");
	ASSERT_STR_EQ(why, "octet 300 is not in 0..255");
	/* excludes from a file name their bad line too */
	f = fmemopen((void *)"\n\nexample.com\n", 14, "r");
	ASSERT_TRUE(f);
	ASSERT_EQ(pp_targets_exclude_file(t, f, &line, NULL, 0, &why), -EINVAL);
	fclose(f);
	ASSERT_UEQ(line, 3);
	ASSERT_STR_EQ(why, "exclude takes addresses, not host names");
	pp_targets_free(t);
	return 0;
}
