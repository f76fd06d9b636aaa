/* fuzz_args.c: every parser of user input (ports, seconds, counts, hosts,
 * IP literals, DNS server lists) on arbitrary bytes. Beyond not crashing, an
 * accepted value must be in range and an accepted IP must survive a round
 * trip through its text form. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "portprobe/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[512], csv[1024], text[PP_ADDRSTRLEN];
	const char *why;
	struct pp_addr a, b;
	uint16_t port;
	unsigned u;
	double d;

	if (size >= sizeof(s))
		size = sizeof(s) - 1;
	memcpy(s, data, size);
	s[size] = '\0';
	if (pp_parse_port(s, 0, &port, &why) == 0 && port == 0)
		abort();
	if (pp_parse_seconds(s, 0, 86400, &d, &why) == 0 && !(d > 0 && d <= 86400))
		abort();
	if (pp_parse_uint(s, 1, 1000, &u, &why) == 0 && (u < 1 || u > 1000))
		abort();
	pp_parse_host(s, &why);
	if (pp_parse_ip(s, 80, &a, &why) == 0) {
		pp_addr_str(&a, text, sizeof(text));
		if (pp_parse_ip(text, 80, &b, &why) != 0 || !pp_addr_equal(&a, &b))
			abort();
	}
	if (pp_parse_dns_servers(s, csv, sizeof(csv), &why) == 0 && strlen(csv) >= sizeof(csv))
		abort();
	return 0;
}
