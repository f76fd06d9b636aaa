/* fuzz_procnet.c: the /proc/net/tcp{,6} parser on arbitrary text, read as
 * both files. Beyond not crashing: a refusal says why (naming a line) and
 * leaves the set as it was, and every row kept is a listener of the file's
 * family carrying only what procfs knows (no backlog, cookie, v6only,
 * device or cgroup; exposure consistent with the address). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "listen/listen_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts unless l could have come out of the family's file. */
static void check_row(const struct pp_listener *l, int family)
{
	static const uint8_t zero[16];
	struct pp_listener copy = *l;

	if (l->family != family)
		abort();
	if (family == AF_INET && memcmp(l->addr + 4, zero, 12))
		abort();
	if (l->backlog != -1 || l->cookie || l->v6only != -1 || l->ifindex || l->ifname[0] ||
	    l->cgroup_id)
		abort();
	if (l->owners != PP_OWNERS_NOT_LOOKED || l->procs || l->nprocs || l->cgroup || l->unit)
		abort();
	copy.exposure = (enum pp_listen_exposure)99;
	listen_mark_exposure(&copy);
	if (copy.exposure != l->exposure)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int families[] = {AF_INET, AF_INET6};

	for (size_t f = 0; f < 2; f++) {
		struct pp_listen_set set;
		char err[256];
		int r;

		pp_listen_set_init(&set);
		err[0] = '\0';
		r = procnet_parse((const char *)data, size, families[f], &set, err, sizeof(err));
		if (r < 0) {
			if ((r != -EBADMSG && r != -ENOMEM && r != -E2BIG) || set.n != 0)
				abort();
			if (r == -EBADMSG && strncmp(err, "line ", 5))
				abort();
		} else {
			if (r != 0)
				abort();
			/* a listener per line at most, and the header is a line */
			if (set.n && set.n >= size / 2)
				abort();
			for (size_t i = 0; i < set.n; i++)
				check_row(&set.v[i], families[f]);
		}
		pp_listen_set_release(&set);
	}
	return 0;
}
