/* test_scan.c: the scan engine on real loopback sockets: every port is
 * reported exactly once with its state, hosts once at the end, and running
 * out of file descriptors slows the scan down without ever becoming a state. */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "net_util.h"
#include "portprobe/scan.h"
#include "test.h"

struct seen {
	unsigned records, hosts, open, closed, other;
	unsigned per_port[65536];
	uint16_t open_port;
	enum pp_host_status status;
};

static void on_record(void *data, const struct pp_scan_record *rec)
{
	struct seen *s = data;

	s->records++;
	s->per_port[rec->port]++;
	if (rec->state == PP_STATE_OPEN && rec->reason == PP_REASON_SYN_ACK) {
		s->open++;
		s->open_port = rec->port;
	} else if (rec->state == PP_STATE_CLOSED && rec->reason == PP_REASON_CONN_REFUSED) {
		s->closed++;
	} else {
		s->other++;
	}
}

static void on_host(void *data, const struct pp_scan_host *host)
{
	struct seen *s = data;

	s->hosts++;
	s->status = host->status;
}

/* Scans 127.0.0.1 on spec; fills seen and stats. 0 or -errno. */
static int scan_loopback(const char *spec, unsigned threads, struct seen *seen,
			 struct pp_scan_stats *st)
{
	struct pp_scan_callbacks cb = {.record = on_record, .host = on_host, .data = seen};
	struct pp_targets *t;
	struct pp_ports ports;
	struct pp_scan_opts o;
	struct pp_scan *s;
	const char *why;
	int r;

	if (pp_targets_new(&t) < 0 || pp_targets_add(t, "127.0.0.1", &why) != 0 ||
	    pp_targets_seal(t) < 0 || pp_ports_parse(spec, &ports, &why) < 0)
		return -1;
	pp_scan_opts_init(&o);
	o.targets = t;
	o.ports = &ports;
	o.threads = threads;
	o.discovery = false;
	r = pp_scan_new(&o, &cb, &s);
	if (r == 0)
		r = pp_scan_run(s, st);
	pp_scan_free(s);
	pp_ports_free(&ports);
	pp_targets_free(t);
	return r;
}

TEST_IMPL(scan_reports_every_port_once_with_its_state)
{
	static struct seen seen;
	struct pp_scan_stats st;
	uint16_t open;
	int lfd = test_listen(0, &open);
	char spec[64];

	ASSERT_TRUE(lfd >= 0);
	/* the listener and the 2000 ports after it, nothing else of ours listening */
	snprintf(spec, sizeof(spec), "%u-%u", open, open + 2000u > 65535 ? 65535 : open + 2000u);
	ASSERT_EQ(scan_loopback(spec, 2, &seen, &st), 0);
	close(lfd);
	ASSERT_UEQ(seen.open_port, open);
	ASSERT_UEQ(seen.records, st.ports_done);
	ASSERT_UEQ(st.ports_done, st.ports_total);
	ASSERT_UEQ(seen.hosts, 1);
	ASSERT_EQ(seen.status, PP_HOST_UP);
	ASSERT_UEQ(st.interrupted, 0);
	for (unsigned p = 0; p < 65536; p++)
		ASSERT_TRUE(seen.per_port[p] <= 1);
	ASSERT_UEQ(seen.other, 0);
	ASSERT_UEQ(st.answers, st.probes - st.timeouts);
	return 0;
}

TEST_IMPL(scan_fd_exhaustion_is_retried_never_a_state)
{
	static struct seen seen;
	struct pp_scan_stats st;
	struct rlimit rl = {.rlim_cur = 40, .rlim_max = 40};
	uint16_t base = test_closed_port();
	char spec[64];

	/* this test runs in a process of its own: the lower limit stays here */
	ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &rl), 0);
	snprintf(spec, sizeof(spec), "%u-%u", base > 60000 ? 1024 : base,
		 (base > 60000 ? 1024 : base) + 499u);
	ASSERT_EQ(scan_loopback(spec, 1, &seen, &st), 0);
	ASSERT_UEQ(seen.records, 500);
	ASSERT_UEQ(seen.other, 0); /* open or closed, never filtered or unknown */
	ASSERT_TRUE(st.local_errors > 0);
	ASSERT_UEQ(st.ports_done, 500);
	return 0;
}
