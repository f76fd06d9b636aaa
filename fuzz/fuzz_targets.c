/* fuzz_targets.c: target specs, excludes and -iL files on arbitrary bytes.
 * The bytes are tried as one spec, as an exclude against fixed targets, and
 * as a file of specs (through fmemopen). After every successful seal the
 * index must answer exactly: hosts 0 and H-1 exist, host H does not, and
 * within one octet-range spec the addresses ascend. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portprobe/parse.h"
#include "portprobe/target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Resolves every name to one address, seals, and checks the index. */
static void seal_and_check(struct pp_targets *t)
{
	struct pp_addr a;
	const char *why, *name;
	uint64_t h;

	if (pp_parse_ip("192.0.2.1", 0, &a, &why) < 0)
		abort();
	for (size_t i = 0; i < pp_targets_name_count(t); i++)
		if (pp_targets_resolve(t, i, &a, i % 2) < 0)
			abort();
	if (pp_targets_seal(t) < 0)
		return;
	h = pp_targets_count(t);
	if (h > PP_TARGETS_MAX)
		abort();
	if (h > 0 &&
	    (pp_targets_get(t, 0, &a, &name) < 0 || pp_targets_get(t, h - 1, &a, &name) < 0))
		abort();
	if (h > 0 && pp_addr_family(&a) != AF_INET && pp_addr_family(&a) != AF_INET6)
		abort();
	if (pp_targets_get(t, h, &a, &name) != -ERANGE)
		abort();
}

/* IPv4 host h of t as a number. */
static uint32_t v4(const struct pp_targets *t, uint64_t h)
{
	struct pp_addr a;

	if (pp_targets_get(t, h, &a, NULL) < 0 || pp_addr_family(&a) != AF_INET)
		abort();
	return ntohl(((const struct sockaddr_in *)&a.sa)->sin_addr.s_addr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[4200];
	struct pp_targets *t;
	unsigned long line;
	char bad[64];
	const char *why;
	FILE *f;

	if (size > 65536)
		return 0;
	memcpy(s, data, size < sizeof(s) ? size : sizeof(s) - 1);
	s[size < sizeof(s) ? size : sizeof(s) - 1] = '\0';

	/* one spec */
	if (pp_targets_new(&t) < 0)
		return 0;
	pp_targets_add(t, s, &why);
	seal_and_check(t);
	pp_targets_free(t);

	/* one exclude against targets of every kind */
	if (pp_targets_new(&t) < 0)
		return 0;
	if (pp_targets_add(t, "10.0.0.0/8", &why) < 0 ||
	    pp_targets_add(t, "2001:db8::/104", &why) < 0 || pp_targets_add(t, "::", &why) < 0 ||
	    pp_targets_add(t, "192.168.0-3.1-7,9", &why) < 0)
		abort();
	pp_targets_exclude(t, s, &why);
	seal_and_check(t);
	pp_targets_free(t);

	/* one exclude against an octet range: what is left still ascends */
	if (pp_targets_new(&t) < 0)
		return 0;
	if (pp_targets_add(t, "10.0-3.0-255,1.0-9,200-255", &why) < 0)
		abort();
	if (pp_targets_exclude(t, s, &why) == 0)
		seal_and_check(t);
	if (pp_targets_count(t) > 0) {
		uint64_t n = pp_targets_count(t), last_h = 0;
		uint32_t prev = v4(t, 0);

		for (uint64_t k = 1; k <= 64; k++) {
			uint64_t h = (n - 1) * k / 64;
			uint32_t x;

			if (h == last_h)
				continue;
			x = v4(t, h);
			if (x <= prev || (x >> 18) != (10u << 6))
				abort();
			prev = x;
			last_h = h;
		}
	}
	pp_targets_free(t);

	/* a file of specs, and a file of excludes */
	if (size == 0)
		return 0;
	if (pp_targets_new(&t) < 0)
		return 0;
	f = fmemopen((void *)data, size, "r");
	if (f) {
		pp_targets_add_file(t, f, &line, bad, sizeof(bad), &why);
		fclose(f);
	}
	f = fmemopen((void *)data, size, "r");
	if (f) {
		pp_targets_exclude_file(t, f, &line, bad, sizeof(bad), &why);
		fclose(f);
	}
	seal_and_check(t);
	pp_targets_free(t);
	return 0;
}
