/* fuzz_ports.c: port lists (-p, --exclude-ports) and nmap-services files on
 * arbitrary bytes. An accepted list ascends, has no duplicates, stays in
 * 1..65535, and survives a round trip through its compact form. Input that
 * starts with "#nmap" is read as an nmap-services file instead. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "portprobe/ports.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_list(const struct pp_ports *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->port[i] == 0 || (i && p->port[i - 1] >= p->port[i]))
			abort();
}

/* The bytes as an nmap-services file, through a memfd. */
static void nmap_file(const uint8_t *data, size_t size)
{
	char path[64];
	struct pp_ports p;
	const char *why;
	int fd = memfd_create("nmap-services", MFD_CLOEXEC);

	if (fd < 0)
		return;
	if (write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (pp_ports_top(100, PP_PORTS_SOURCE_NMAP, path, &p, &why) == 0) {
			check_list(&p);
			if (p.n != 100)
				abort();
			pp_ports_free(&p);
		}
	}
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char fmt[65536 * 7];
	char s[1024];
	struct pp_ports p, q;
	const char *why;

	if (size >= 5 && !memcmp(data, "#nmap", 5)) {
		nmap_file(data, size);
		return 0;
	}
	if (size >= sizeof(s))
		size = sizeof(s) - 1;
	memcpy(s, data, size);
	s[size] = '\0';
	if (pp_ports_parse(s, &p, &why) == 0) {
		if (p.n == 0)
			abort();
		check_list(&p);
		if (!pp_ports_format(&p, fmt, sizeof(fmt)) || pp_ports_parse(fmt, &q, &why) < 0)
			abort();
		if (q.n != p.n || memcmp(q.port, p.port, p.n * sizeof(*p.port)))
			abort();
		pp_ports_free(&q);
		pp_ports_free(&p);
	}
	if (pp_ports_parse("1-1024,8080,65535", &p, &why) < 0)
		abort();
	if (pp_ports_exclude(&p, s, &why) == 0) {
		check_list(&p);
		if (p.n > 1026)
			abort();
	} else if (p.n != 1026) {
		abort();
	}
	pp_ports_free(&p);
	return 0;
}
