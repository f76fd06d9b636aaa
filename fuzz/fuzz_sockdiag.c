/* fuzz_sockdiag.c: the sock_diag dump parser on arbitrary bytes, read the
 * way a recorded file is read (one parse per dump, each ending at
 * NLMSG_DONE). Beyond not crashing or reading out of bounds: progress is made
 * in whole 4-byte-aligned messages, a refusal says why and leaves the set as
 * it was, and every row kept is a listener of AF_INET or AF_INET6 whose
 * fields hold only what the format can carry (exposure recomputes to the
 * same class, v6only only on IPv6, no device name, owners untouched). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "listen/listen_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts unless l could have come out of a dump. */
static void check_row(const struct pp_listener *l)
{
	static const uint8_t zero[16];
	struct pp_listener copy = *l;

	if (l->family != AF_INET && l->family != AF_INET6)
		abort();
	if (l->family == AF_INET && memcmp(l->addr + 4, zero, 12))
		abort();
	if (l->v6only < -1 || l->v6only > 1 || (l->family == AF_INET && l->v6only != -1))
		abort();
	if (l->backlog < 0 || l->backlog > UINT32_MAX || l->ifname[0])
		abort();
	if (l->owners != PP_OWNERS_NOT_LOOKED || l->procs || l->nprocs || l->cgroup || l->unit)
		abort();
	if (l->group || l->group_size)
		abort();
	copy.exposure = (enum pp_listen_exposure)99;
	listen_mark_exposure(&copy);
	if (copy.exposure != l->exposure)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pp_listen_set set;
	char err[256];
	size_t off = 0;

	pp_listen_set_init(&set);
	while (off < size) {
		size_t before = set.n;
		int done = -1;
		long r;

		err[0] = '\0';
		r = sockdiag_parse(data + off, size - off, &set, &done, err, sizeof(err));
		if (r < 0) {
			/* a kernel errno from NLMSG_ERROR, or our own refusal */
			if (r < -4095 || !err[0] || strlen(err) >= sizeof(err) || set.n != before ||
			    done != 0)
				abort();
			break;
		}
		if (r == 0 || (size_t)r > size - off || (done != 0 && done != 1))
			abort();
		/* whole messages only: aligned unless it is all that was left */
		if ((r & 3) && (size_t)r != size - off)
			abort();
		if (!done && (size_t)r != size - off)
			abort();
		off += (size_t)r;
	}
	for (size_t i = 0; i < set.n; i++)
		check_row(&set.v[i]);
	pp_listen_set_release(&set);
	return 0;
}
