/* scan_resolve.c: every host name of a scan resolved at once, in parallel on
 * one loop (c-ares), before the index is sealed: the index needs to know how
 * many addresses each name stands for. */
#include <errno.h>
#include <stdlib.h>

#include "core/clock.h"
#include "net/resolver.h"
#include "portprobe/scan.h"

struct name_job {
	struct pp_targets *t;
	size_t i;
	bool all;
	int err;
	void (*on_error)(void *data, const char *name, enum pp_error err, const char *detail);
	void *data;
};

static void on_resolved(void *data, enum pp_error err, const struct pp_addr *addrs, size_t n,
			const char *detail)
{
	struct name_job *j = data;
	int r;

	if (err != PP_ERROR_NONE) {
		if (j->on_error)
			j->on_error(j->data, pp_targets_name(j->t, j->i), err, detail);
		n = 0;
	}
	r = pp_targets_resolve(j->t, j->i, addrs, j->all ? n : n ? 1 : 0);
	if (r < 0)
		j->err = r;
}

int pp_scan_resolve(struct pp_targets *t, int family, bool all_addresses, const char *dns_servers,
		    double timeout_s,
		    void (*on_error)(void *data, const char *name, enum pp_error err,
				     const char *detail),
		    void *data)
{
	size_t n = pp_targets_name_count(t);
	struct name_job *jobs;
	struct resolver *res = NULL;
	struct pp_loop *loop = NULL;
	int err;

	if (!n)
		return 0;
	jobs = calloc(n, sizeof(*jobs));
	if (!jobs)
		return -ENOMEM;
	if ((err = pp_loop_new(&loop)) < 0 || (err = resolver_new(loop, dns_servers, &res)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		jobs[i] = (struct name_job){
		    .t = t, .i = i, .all = all_addresses, .on_error = on_error, .data = data};
		/* c-ares 1.18 refuses port 0; the port is dropped again later */
		err = resolver_lookup(res, pp_targets_name(t, i), family, 80,
				      clock_sec_to_ns(timeout_s), on_resolved, &jobs[i], NULL);
		if (err < 0)
			goto out;
	}
	if (pp_loop_run(loop) < 0)
		err = -EIO;
	for (size_t i = 0; i < n && !err; i++)
		err = jobs[i].err;
out:
	resolver_free(res);
	pp_loop_free(loop);
	free(jobs);
	return err;
}
