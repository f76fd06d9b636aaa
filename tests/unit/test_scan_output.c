/* test_scan_output.c: the scan writers, byte for byte, and nmap's own tools
 * (xmllint with nmap.dtd, ndiff) and jq reading what they write.
 *
 * The fixture is a small fixed scan of ports 22,80,1000-1029,8080: host
 * example.com (192.0.2.7) is up with 22 and 80 open, 1000-1029 closed
 * (conn-refused) and 8080 filtered by an ICMP host-unreachable from the
 * router 198.18.0.1; 192.0.2.8 is down. Service names come from a services
 * file the test writes (ssh 22, http 80, http-alt 8080). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "portprobe/output.h"
#include "portprobe/parse.h"
#include "portprobe/scan_output.h"
#include "test.h"

#define NMAP_DTD "/usr/share/nmap/nmap.dtd"
#define NPORTS   33

struct fixture {
	char dir[64];                         /* temporary directory, removed by fixture_done */
	uint16_t ports[NPORTS];               /* the scan's port list */
	struct pp_ports list;                 /* the same as pp_ports */
	char *argv[7];                        /* the command line */
	struct pp_scan_info info;             /* begin() */
	struct pp_scan_port up_res[NPORTS];   /* example.com's results */
	struct pp_scan_port down_res[NPORTS]; /* 192.0.2.8: nothing probed */
	struct pp_addr router;                /* 198.18.0.1 */
	struct pp_scan_host up, down;         /* host() */
	struct pp_scan_stats stats;           /* end() */
};

static void put_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fwrite(data, 1, len, f);
		fclose(f);
	}
}

/* Sets up the fixture; 0 or -1 when the temporary directory cannot be made. */
static int fixture_init(struct fixture *fx)
{
	static const char services[] = "ssh\t\t22/tcp\nhttp\t\t80/tcp\t\twww\n"
				       "http-alt\t8080/tcp\n";
	static char *const argv[] = {"portprobe",   "scan",      "-p", "22,80,1000-1029,8080", "-n",
				     "example.com", "192.0.2.8", NULL};
	const char *why;
	char path[96];
	size_t n = 0;

	memset(fx, 0, sizeof(*fx));
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/pp_scan_output.XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	snprintf(path, sizeof(path), "%s/services", fx->dir);
	put_file(path, services, sizeof(services) - 1);
	if (pp_services_load(path) < 0)
		return -1;

	fx->ports[n++] = 22;
	fx->ports[n++] = 80;
	for (uint16_t p = 1000; p <= 1029; p++)
		fx->ports[n++] = p;
	fx->ports[n++] = 8080;
	fx->list.port = fx->ports;
	fx->list.n = NPORTS;
	memcpy(fx->argv, argv, sizeof(argv) - sizeof(argv[0]));

	fx->info.version = "0.1.0-test";
	fx->info.argc = 7;
	fx->info.argv = fx->argv;
	fx->info.start.tv_sec = 1704110400; /* 2024-01-01T12:00:00Z, a Monday */
	fx->info.ports = &fx->list;
	fx->info.hosts = 2;
	fx->info.host_discovery = true;
	fx->info.ports_source = "list";

	for (size_t i = 0; i < NPORTS; i++) {
		fx->up_res[i] = (struct pp_scan_port){.rtt_us = 110,
						      .state = PP_STATE_CLOSED,
						      .reason = PP_REASON_CONN_REFUSED,
						      .attempts = 1};
	}
	fx->up_res[0] = (struct pp_scan_port){120, PP_STATE_OPEN, PP_REASON_SYN_ACK, 1, 0};
	fx->up_res[1] = (struct pp_scan_port){100, PP_STATE_OPEN, PP_REASON_SYN_ACK, 1, 0};
	fx->up_res[32] =
	    (struct pp_scan_port){2000, PP_STATE_FILTERED, PP_REASON_HOST_UNREACH, 2, 1};
	pp_parse_ip("198.18.0.1", 0, &fx->router, &why);

	fx->up.host = "example.com";
	pp_parse_ip("192.0.2.7", 0, &fx->up.ip, &why);
	fx->up.status = PP_HOST_UP;
	fx->up.status_reason = PP_REASON_SYN_ACK;
	fx->up.start.tv_sec = 1704110400;
	fx->up.end = (struct timespec){1704110401, 500000000};
	fx->up.nports = NPORTS;
	fx->up.ports = fx->ports;
	fx->up.results = fx->up_res;
	fx->up.reason_addrs = &fx->router;
	fx->up.nreason_addrs = 1;

	fx->down = fx->up;
	fx->down.host = NULL;
	pp_parse_ip("192.0.2.8", 0, &fx->down.ip, &why);
	fx->down.status = PP_HOST_DOWN;
	fx->down.status_reason = PP_REASON_NO_RESPONSE;
	fx->down.end = (struct timespec){1704110403, 0};
	fx->down.results = fx->down_res;
	fx->down.reason_addrs = NULL;
	fx->down.nreason_addrs = 0;

	fx->stats = (struct pp_scan_stats){.probes = 34,
					   .answers = 33,
					   .retries = 1,
					   .ports_done = 33,
					   .ports_total = 66,
					   .open = 2,
					   .hosts_up = 1,
					   .hosts_down = 1,
					   .hosts_total = 2,
					   .start = {1704110400, 0},
					   .end = {1704110403, 250000000}};
	return 0;
}

static void fixture_done(struct fixture *fx)
{
	char cmd[128];

	if (!fx->dir[0])
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", fx->dir);
}

/* The record of the fixture host's port i, decided at ts. */
static struct pp_scan_record fixture_record(const struct fixture *fx, size_t i, time_t ts)
{
	struct pp_scan_record r = {.host = "example.com", .ip = fx->up.ip, .port = fx->ports[i]};

	pp_addr_set_port(&r.ip, r.port);
	r.state = fx->up_res[i].state;
	r.reason = fx->up_res[i].reason;
	if (fx->up_res[i].raddr)
		r.reason_addr = fx->router;
	r.rtt_ns = (uint64_t)fx->up_res[i].rtt_us * 1000;
	r.attempts = fx->up_res[i].attempts;
	r.service = pp_service_name(r.port);
	r.ts = (struct timespec){ts, 123000000};
	return r;
}

/* One writer through begin, the records, the hosts and end. 0 or the
 * first error. */
static int write_calls(enum pp_scan_format fmt, const struct pp_scan_info *info,
		       const struct pp_scan_record *recs, size_t nrecs,
		       const struct pp_scan_host *const *hosts, size_t nhosts,
		       const struct pp_scan_stats *stats, struct pp_buf *b)
{
	struct pp_scan_writer *w;
	int err = pp_scan_writer_new(fmt, &w);

	if (err < 0)
		return err;
	err = pp_scan_writer_begin(w, b, info);
	for (size_t i = 0; !err && i < nrecs; i++)
		err = pp_scan_writer_record(w, b, &recs[i]);
	for (size_t i = 0; !err && i < nhosts; i++)
		err = pp_scan_writer_host(w, b, hosts[i]);
	if (!err)
		err = pp_scan_writer_end(w, b, stats);
	pp_scan_writer_free(w);
	return err;
}

/* The whole fixture scan through one writer: the records of ports 22, 80,
 * 1000 and 8080 (decided a second apart), both hosts, end. */
static int write_scan(enum pp_scan_format fmt, const struct fixture *fx, bool open_only,
		      struct pp_buf *b)
{
	static const size_t idx[] = {0, 1, 2, 32};
	const struct pp_scan_host *hosts[] = {&fx->up, &fx->down};
	struct pp_scan_info info = fx->info;
	struct pp_scan_record recs[4];

	info.open_only = open_only;
	for (size_t i = 0; i < 4; i++)
		recs[i] = fixture_record(fx, idx[i], 1704110400 + (time_t)i);
	return write_calls(fmt, &info, recs, 4, hosts, 2, &fx->stats, b);
}

/* Writes b to dir/name; the path into path. */
static void save(const struct fixture *fx, const char *name, const struct pp_buf *b, char *path,
		 size_t len)
{
	snprintf(path, len, "%s/%s", fx->dir, name);
	put_file(path, b->data, b->len);
}

static bool have_command(const char *name)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", name);
	return system(cmd) == 0;
}

/* Exit status of a shell command, or -1. */
static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st)) {
		fprintf(stderr, "'%s' did not run\n", cmd);
		return -1;
	}
	return WEXITSTATUS(st);
}

/* 0 when xmllint accepts path against nmap.dtd, 1 when it rejects it, -1
 * (with a note) when xmllint or the DTD is missing. */
static int dtd_check(const char *path)
{
	if (!have_command("xmllint") || access(NMAP_DTD, R_OK)) {
		printf("note: xmllint or %s missing, DTD check skipped "
		       "(scripts/install-deps.sh test installs them)\n",
		       NMAP_DTD);
		return -1;
	}
	return run("xmllint --noout --dtdvalid " NMAP_DTD " '%s'", path) ? 1 : 0;
}

static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

TEST_IMPL(scan_format_names_parse)
{
	static const char *const names[] = {"text", "json", "jsonl", "xml", "grepable", "csv"};
	enum pp_scan_format f;

	for (int i = 0; i < 6; i++) {
		ASSERT_EQ(pp_scan_format_parse(names[i], &f), 0);
		ASSERT_EQ(f, i);
	}
	ASSERT_EQ(pp_scan_format_parse("nagios", &f), -EINVAL);
	ASSERT_EQ(pp_scan_format_parse("XML", &f), -EINVAL);
	ASSERT_EQ(pp_scan_format_parse(NULL, &f), -EINVAL);
	return 0;
}

TEST_IMPL(scan_writer_calls_out_of_order_are_einval)
{
	struct pp_scan_writer *w;
	struct fixture fx;
	struct pp_buf b;

	ASSERT_EQ(fixture_init(&fx), 0);
	pp_buf_init(&b, 1 << 20);
	ASSERT_EQ(pp_scan_writer_new(PP_SCAN_XML, &w), 0);
	ASSERT_EQ(pp_scan_writer_host(w, &b, &fx.up), -EINVAL);
	ASSERT_EQ(pp_scan_writer_end(w, &b, &fx.stats), -EINVAL);
	ASSERT_EQ(pp_scan_writer_begin(w, &b, &fx.info), 0);
	ASSERT_EQ(pp_scan_writer_begin(w, &b, &fx.info), -EINVAL);
	ASSERT_EQ(pp_scan_writer_end(w, &b, &fx.stats), 0);
	ASSERT_EQ(pp_scan_writer_host(w, &b, &fx.up), -EINVAL);
	ASSERT_EQ(pp_scan_writer_end(w, &b, &fx.stats), -EINVAL);
	pp_scan_writer_free(w);
	pp_scan_writer_free(NULL);
	ASSERT_EQ(pp_scan_writer_new((enum pp_scan_format)42, &w), -EINVAL);
	pp_buf_release(&b);
	fixture_done(&fx);
	return 0;
}

TEST_IMPL(scan_text_matches_nmap_normal_output)
{
	struct fixture fx;
	struct pp_buf b;

	ASSERT_EQ(fixture_init(&fx), 0);
	pp_buf_init(&b, 1 << 20);
	ASSERT_EQ(write_scan(PP_SCAN_TEXT, &fx, false, &b), 0);
	ASSERT_STR_EQ(b.data,
		      "Starting portprobe 0.1.0-test at 2024-01-01 12:00 UTC\n"
		      "portprobe scan report for example.com (192.0.2.7)\n"
		      "Host is up, received syn-ack (0.00011s latency).\n"
		      "Not shown: 30 closed tcp ports (conn-refused)\n"
		      "PORT     STATE    SERVICE  REASON\n"
		      "22/tcp   open     ssh      syn-ack\n"
		      "80/tcp   open     http     syn-ack\n"
		      "8080/tcp filtered http-alt host-unreach from 198.18.0.1\n"
		      "\n"
		      "portprobe done: 2 IP addresses (1 host up) scanned in 3.25 seconds\n"
		      "Probes: 34 sent, 33 answered, 0 timed out, 1 retries, 0 local errors, "
		      "0 self-connects caught\n");

	/* -Pn, nothing collapsed (nmap then prints an empty line), no rtt known,
	 * and an interruption */
	for (size_t i = 2; i < 32; i++)
		fx.up_res[i].state = PP_STATE_UNKNOWN;
	for (size_t i = 0; i < NPORTS; i++)
		fx.up_res[i].rtt_us = 0;
	fx.up.status_reason = PP_REASON_NONE;
	fx.stats.interrupted = true;
	fx.stats.interrupt_signal = "SIGINT";
	pp_buf_reset(&b);
	ASSERT_EQ(write_scan(PP_SCAN_TEXT, &fx, false, &b), 0);
	ASSERT_STR_EQ(b.data,
		      "Starting portprobe 0.1.0-test at 2024-01-01 12:00 UTC\n"
		      "portprobe scan report for example.com (192.0.2.7)\n"
		      "Host is up, received user-set.\n"
		      "\n"
		      "PORT     STATE    SERVICE  REASON\n"
		      "22/tcp   open     ssh      syn-ack\n"
		      "80/tcp   open     http     syn-ack\n"
		      "8080/tcp filtered http-alt host-unreach from 198.18.0.1\n"
		      "\n"
		      "Scan interrupted by SIGINT: 33 of 66 ports done\n"
		      "portprobe done: 2 IP addresses (1 host up) scanned in 3.25 seconds\n"
		      "Probes: 34 sent, 33 answered, 0 timed out, 1 retries, 0 local errors, "
		      "0 self-connects caught\n");
	pp_buf_release(&b);
	fixture_done(&fx);
	return 0;
}

TEST_IMPL(scan_text_all_ports_ignored_says_so)
{
	uint16_t ports[40];
	struct pp_scan_port res[40];
	struct fixture fx;
	struct pp_buf b;
	char path[128];

	ASSERT_EQ(fixture_init(&fx), 0);
	for (size_t i = 0; i < 40; i++) {
		ports[i] = (uint16_t)(2000 + i);
		res[i] = (struct pp_scan_port){110, PP_STATE_CLOSED, PP_REASON_CONN_REFUSED, 1, 0};
	}
	/* one no-response among them: still all ignored, now two states */
	res[39] = (struct pp_scan_port){0, PP_STATE_CLOSED, PP_REASON_NO_RESPONSE, 2, 0};
	fx.up.host = NULL;
	fx.up.status_reason = PP_REASON_CONN_REFUSED;
	fx.up.nports = 40;
	fx.up.ports = ports;
	fx.up.results = res;
	fx.list.port = ports;
	fx.list.n = 40;
	pp_buf_init(&b, 1 << 20);
	ASSERT_EQ(write_scan(PP_SCAN_TEXT, &fx, false, &b), 0);
	ASSERT_STR_EQ(b.data,
		      "Starting portprobe 0.1.0-test at 2024-01-01 12:00 UTC\n"
		      "portprobe scan report for 192.0.2.7\n"
		      "Host is up, received conn-refused (0.00011s latency).\n"
		      "All 40 scanned ports on 192.0.2.7 are in ignored states.\n"
		      "Not shown: 39 closed tcp ports (conn-refused), "
		      "1 closed tcp ports (no-response)\n"
		      "\n"
		      "portprobe done: 2 IP addresses (1 host up) scanned in 3.25 seconds\n"
		      "Probes: 34 sent, 33 answered, 0 timed out, 1 retries, 0 local errors, "
		      "0 self-connects caught\n");

	pp_buf_reset(&b);
	ASSERT_EQ(write_scan(PP_SCAN_GREPABLE, &fx, false, &b), 0);
	ASSERT_TRUE(strstr(b.data,
			   "\nHost: 192.0.2.7 ()\tStatus: Up\n"
			   "Host: 192.0.2.7 ()\tPorts: \tIgnored State: closed (40)\n#") != NULL);

	pp_buf_reset(&b);
	ASSERT_EQ(write_scan(PP_SCAN_XML, &fx, false, &b), 0);
	ASSERT_TRUE(strstr(b.data,
			   "<ports><extraports state=\"closed\" count=\"40\">\n"
			   "<extrareasons reason=\"conn-refused\" count=\"39\" proto=\"tcp\" "
			   "ports=\"2000-2038\"/>\n"
			   "<extrareasons reason=\"no-response\" count=\"1\" proto=\"tcp\" "
			   "ports=\"2039\"/>\n"
			   "</extraports>\n</ports>\n") != NULL);
	save(&fx, "all.xml", &b, path, sizeof(path));
	ASSERT_TRUE(dtd_check(path) <= 0);
	pp_buf_release(&b);
	fixture_done(&fx);
	return 0;
}

TEST_IMPL(scan_text_all_hosts_down_are_reported_at_the_end)
{
	const struct pp_scan_host *down[1];
	struct fixture fx;
	struct pp_buf b;

	ASSERT_EQ(fixture_init(&fx), 0);
	fx.stats.hosts_up = 0;
	fx.stats.hosts_down = 1;
	fx.stats.hosts_total = 1;
	down[0] = &fx.down;
	pp_buf_init(&b, 1 << 20);
	ASSERT_EQ(write_calls(PP_SCAN_TEXT, &fx.info, NULL, 0, down, 1, &fx.stats, &b), 0);
	ASSERT_STR_EQ(b.data,
		      "Starting portprobe 0.1.0-test at 2024-01-01 12:00 UTC\n"
		      "portprobe scan report for 192.0.2.8 [host down, received "
		      "no-response]\n"
		      "Note: Host seems down. If it is really up, but blocking our ping "
		      "probes, try -Pn\n"
		      "portprobe done: 1 IP address (0 hosts up) scanned in 3.25 seconds\n"
		      "Probes: 34 sent, 33 answered, 0 timed out, 1 retries, 0 local errors, "
		      "0 self-connects caught\n");

	/* once a host is up, down ones are not reported */
	pp_buf_reset(&b);
	ASSERT_EQ(write_scan(PP_SCAN_TEXT, &fx, false, &b), 0);
	ASSERT_TRUE(strstr(b.data, "192.0.2.8") == NULL);
	pp_buf_release(&b);
	fixture_done(&fx);
	return 0;
}

static const char fixture_xml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<!DOCTYPE nmaprun>\n"
    "<nmaprun scanner=\"nmap\" args=\"portprobe scan -p 22,80,1000-1029,8080 -n example.com "
    "192.0.2.8\" start=\"1704110400\" startstr=\"Mon Jan  1 12:00:00 2024\" "
    "version=\"0.1.0-test\" profile_name=\"portprobe\" xmloutputversion=\"1.05\">\n"
    "<scaninfo type=\"connect\" protocol=\"tcp\" numservices=\"33\" "
    "services=\"22,80,1000-1029,8080\"/>\n"
    "<verbose level=\"0\"/>\n"
    "<debugging level=\"0\"/>\n"
    "<host starttime=\"1704110400\" endtime=\"1704110401\"><status state=\"up\" "
    "reason=\"syn-ack\" reason_ttl=\"0\"/>\n"
    "<address addr=\"192.0.2.7\" addrtype=\"ipv4\"/>\n"
    "<hostnames>\n"
    "<hostname name=\"example.com\" type=\"user\"/>\n"
    "</hostnames>\n"
    "<ports><extraports state=\"closed\" count=\"30\">\n"
    "<extrareasons reason=\"conn-refused\" count=\"30\" proto=\"tcp\" ports=\"1000-1029\"/>\n"
    "</extraports>\n"
    "<port protocol=\"tcp\" portid=\"22\"><state state=\"open\" reason=\"syn-ack\" "
    "reason_ttl=\"0\"/><service name=\"ssh\" method=\"table\" conf=\"3\"/></port>\n"
    "<port protocol=\"tcp\" portid=\"80\"><state state=\"open\" reason=\"syn-ack\" "
    "reason_ttl=\"0\"/><service name=\"http\" method=\"table\" conf=\"3\"/></port>\n"
    "<port protocol=\"tcp\" portid=\"8080\"><state state=\"filtered\" reason=\"host-unreach\" "
    "reason_ttl=\"0\" reason_ip=\"198.18.0.1\"/><service name=\"http-alt\" method=\"table\" "
    "conf=\"3\"/></port>\n"
    "</ports>\n"
    "<times srtt=\"110\" rttvar=\"57\" to=\"338\"/>\n"
    "</host>\n"
    "<!-- portprobe stats: probes=34 answers=33 timeouts=0 retries=1 local_errors=0 "
    "self_connects=0 ports_done=33 ports_total=66 open=2 -->\n"
    "<runstats><finished time=\"1704110403\" timestr=\"Mon Jan  1 12:00:03 2024\" "
    "summary=\"portprobe done at Mon Jan  1 12:00:03 2024; 2 IP addresses (1 host up) scanned "
    "in 3.25 seconds\" elapsed=\"3.25\" exit=\"success\"/><hosts up=\"1\" down=\"1\" "
    "total=\"2\"/>\n"
    "</runstats>\n"
    "</nmaprun>\n";

TEST_IMPL(scan_xml_matches_nmap_and_validates_against_dtd)
{
	struct fixture fx;
	struct pp_buf b;
	char path[128];

	ASSERT_EQ(fixture_init(&fx), 0);
	pp_buf_init(&b, 1 << 20);
	ASSERT_EQ(write_scan(PP_SCAN_XML, &fx, false, &b), 0);
	ASSERT_STR_EQ(b.data, fixture_xml);
	save(&fx, "scan.xml", &b, path, sizeof(path));
	ASSERT_TRUE(dtd_check(path) <= 0);
	pp_buf_release(&b);
	fixture_done(&fx);
	return 0;
}

TEST_IMPL(scan_xml_interrupted_still_closes_a_valid_document)
{
	/* arguments a user may type that XML must escape or cannot carry */
	static char *const argv[] = {"portprobe", "scan", "--open",          "a&b<c>\"d\"'",
				     "tab\there", "\x01", "caf\xc3\xa9\xff", NULL};
	const struct pp_scan_host *up[1];
	struct fixture fx;
	struct pp_buf b;
	char path[128];

	ASSERT_EQ(fixture_init(&fx), 0);
	fx.info.argc = 7;
	fx.info.argv = argv;
	fx.stats.interrupted = true;
	fx.stats.interrupt_signal = "SIGINT";
	up[0] = &fx.up;
	pp_buf_init(&b, 1 << 20);
	ASSERT_EQ(write_calls(PP_SCAN_XML, &fx.info, NULL, 0, up, 1, &fx.stats, &b), 0);
	ASSERT_TRUE(strstr(b.data, " args=\"portprobe scan --open a&amp;b&lt;c&gt;&quot;d&quot;' "
				   "tab&#9;here \\x01 caf\xc3\xa9\\xFF\" ") != NULL);
	ASSERT_TRUE(strstr(b.data, "exit=\"error\" errormsg=\"interrupted by SIGINT\"/>"
				   "<hosts up=\"1\" down=\"1\" total=\"2\"/>\n</runstats>\n"
				   "</nmaprun>\n") != NULL);
	save(&fx, "interrupted.xml", &b, path, sizeof(path));
	ASSERT_TRUE(dtd_check(path) <= 0);

	/* interrupted before any host completed */
	pp_buf_reset(&b);
	ASSERT_EQ(write_calls(PP_SCAN_XML, &fx.info, NULL, 0, NULL, 0, &fx.stats, &b), 0);
	save(&fx, "empty.xml", &b, path, sizeof(path));
	ASSERT_TRUE(dtd_check(path) <= 0);
	pp_buf_release(&b);
	fixture_done(&fx);
	return 0;
}

TEST_IMPL(scan_xml_ndiff_reports_a_port_changing_state)
{
	char a[128], c[128], out[160], cmd[512];
	struct fixture fx;
	struct pp_buf b;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (!have_command("ndiff")) {
		printf("note: ndiff missing, test skipped (scripts/install-deps.sh test installs "
		       "it)\n");
		return 0;
	}
	ASSERT_EQ(fixture_init(&fx), 0);
	pp_buf_init(&b, 1 << 20);
	ASSERT_EQ(write_scan(PP_SCAN_XML, &fx, false, &b), 0);
	save(&fx, "a.xml", &b, a, sizeof(a));
	/* the next scan finds 1000 open and 8080 closed */
	fx.up_res[2] = (struct pp_scan_port){90, PP_STATE_OPEN, PP_REASON_SYN_ACK, 1, 0};
	fx.up_res[32] = (struct pp_scan_port){95, PP_STATE_CLOSED, PP_REASON_CONN_REFUSED, 1, 0};
	pp_buf_reset(&b);
	ASSERT_EQ(write_scan(PP_SCAN_XML, &fx, false, &b), 0);
	save(&fx, "b.xml", &b, c, sizeof(c));
	snprintf(out, sizeof(out), "%s/ndiff.out", fx.dir);
	/* ndiff exits 1 when the scans differ, 2 on an error */
	snprintf(cmd, sizeof(cmd), "ndiff '%s' '%s' > '%s'", a, c, out);
	ASSERT_EQ(run("%s", cmd), 1);
	f = fopen(out, "r");
	ASSERT_TRUE(f != NULL);
	ASSERT_TRUE(getdelim(&text, &len, '\0', f) > 0);
	fclose(f);
	ASSERT_TRUE(strstr(text, " example.com (192.0.2.7):\n"
				 " PORT     STATE    SERVICE  VERSION\n"
				 "+1000/tcp open     unknown\n"
				 "-8080/tcp filtered http-alt\n") != NULL);
	/* the same scan twice: no difference */
	snprintf(cmd, sizeof(cmd), "ndiff '%s' '%s' > /dev/null", c, c);
	ASSERT_EQ(run("%s", cmd), 0);
	free(text);
	pp_buf_release(&b);
	fixture_done(&fx);
	return 0;
}

TEST_IMPL(scan_grepable_matches_nmap_layout)
{
	struct fixture fx;
	struct pp_buf b;

	ASSERT_EQ(fixture_init(&fx), 0);
	pp_buf_init(&b, 1 << 20);
	ASSERT_EQ(write_scan(PP_SCAN_GREPABLE, &fx, false, &b), 0);
	ASSERT_STR_EQ(b.data,
		      "# portprobe 0.1.0-test scan initiated Mon Jan  1 12:00:00 2024 as: "
		      "portprobe scan -p 22,80,1000-1029,8080 -n example.com 192.0.2.8\n"
		      "Host: 192.0.2.7 (example.com)\tStatus: Up\n"
		      "Host: 192.0.2.7 (example.com)\tPorts: 22/open/tcp//ssh///, "
		      "80/open/tcp//http///, 8080/filtered/tcp//http-alt///\t"
		      "Ignored State: closed (30)\n"
		      "# Probes: 34 sent, 33 answered, 0 timed out, 1 retries, 0 local errors, "
		      "0 self-connects caught\n"
		      "# portprobe done at Mon Jan  1 12:00:03 2024 -- 2 IP addresses (1 host up) "
		      "scanned in 3.25 seconds\n");
	pp_buf_release(&b);
	fixture_done(&fx);
	return 0;
}

/* The record object of the fixture's port i, timestamp ts. */
static void expect_record(struct pp_buf *e, const struct fixture *fx, size_t i, const char *ts)
{
	const struct pp_scan_port *p = &fx->up_res[i];
	const char *svc = pp_service_name(fx->ports[i]);

	pp_buf_printf(e,
		      "{\"host\":\"example.com\",\"ip\":\"192.0.2.7\",\"port\":%u,"
		      "\"protocol\":\"tcp\",\"state\":\"%s\",\"reason\":\"%s\"",
		      fx->ports[i], pp_state_name(p->state), pp_reason_name(p->reason));
	if (p->raddr)
		pp_buf_puts(e, ",\"reason_ip\":\"198.18.0.1\"");
	pp_buf_printf(e, ",\"rtt\":0.%06u,\"attempts\":%u,\"service\":", p->rtt_us, p->attempts);
	pp_buf_printf(e, svc ? "\"%s\"" : "null", svc ? svc : "");
	pp_buf_printf(e, ",\"timestamp\":\"%s\"}", ts);
}

TEST_IMPL(scan_json_document_exact_and_parsed_by_jq)
{
	struct fixture fx;
	struct pp_buf b, e;
	char path[128];

	ASSERT_EQ(fixture_init(&fx), 0);
	pp_buf_init(&b, 1 << 20);
	pp_buf_init(&e, 1 << 20);
	ASSERT_EQ(write_scan(PP_SCAN_JSON, &fx, false, &b), 0);
	pp_buf_puts(&e, "{\"portprobe\":\"0.1.0-test\",\"args\":[\"portprobe\",\"scan\",\"-p\","
			"\"22,80,1000-1029,8080\",\"-n\",\"example.com\",\"192.0.2.8\"],"
			"\"start\":\"2024-01-01T12:00:00.000Z\",\"ports\":\"22,80,1000-1029,8080\","
			"\"hosts\":[\n"
			"{\"host\":\"example.com\",\"ip\":\"192.0.2.7\",\"status\":\"up\","
			"\"status_reason\":\"syn-ack\",\"start\":\"2024-01-01T12:00:00.000Z\","
			"\"end\":\"2024-01-01T12:00:01.500Z\",\"ports\":[");
	for (size_t i = 0; i < NPORTS; i++) {
		if (i)
			pp_buf_puts(&e, ",");
		expect_record(&e, &fx, i, "2024-01-01T12:00:01.500Z");
	}
	pp_buf_puts(&e, "]},\n"
			"{\"host\":\"192.0.2.8\",\"ip\":\"192.0.2.8\",\"status\":\"down\","
			"\"status_reason\":\"no-response\",\"start\":\"2024-01-01T12:00:00.000Z\","
			"\"end\":\"2024-01-01T12:00:03.000Z\",\"ports\":[]}\n"
			"],\"stats\":{\"probes\":34,\"answers\":33,\"timeouts\":0,\"retries\":1,"
			"\"local_errors\":0,\"self_connects\":0,\"ports_done\":33,"
			"\"ports_total\":66,\"open\":2,\"hosts_up\":1,\"hosts_down\":1,"
			"\"hosts_total\":2,\"elapsed\":3.250},"
			"\"end\":\"2024-01-01T12:00:03.250Z\",\"interrupted\":false}\n");
	ASSERT_STR_EQ(b.data, e.data);
	/* spot-check one literal record, independent of expect_record() */
	ASSERT_TRUE(strstr(b.data, "{\"host\":\"example.com\",\"ip\":\"192.0.2.7\",\"port\":8080,"
				   "\"protocol\":\"tcp\",\"state\":\"filtered\","
				   "\"reason\":\"host-unreach\",\"reason_ip\":\"198.18.0.1\","
				   "\"rtt\":0.002000,\"attempts\":2,\"service\":\"http-alt\","
				   "\"timestamp\":\"2024-01-01T12:00:01.500Z\"}") != NULL);

	save(&fx, "scan.json", &b, path, sizeof(path));
	if (have_command("jq"))
		ASSERT_EQ(run("jq -e '(.hosts | length) == 2 and .hosts[1].status == \"down\" and "
			      "(.hosts[0].ports | length) == 33 and "
			      "([.hosts[0].ports[] | select(.port == 8080) | .reason_ip] == "
			      "[\"198.18.0.1\"]) and .stats.open == 2 and .stats.elapsed == 3.25 "
			      "and .interrupted == false' '%s' > /dev/null",
			      path),
			  0);
	else
		printf("note: jq missing, jq check skipped\n");

	/* interrupted with no host written: still one document */
	{
		fx.stats.interrupted = true;
		fx.stats.interrupt_signal = "SIGTERM";
		pp_buf_reset(&b);
		ASSERT_EQ(write_calls(PP_SCAN_JSON, &fx.info, NULL, 0, NULL, 0, &fx.stats, &b), 0);
		ASSERT_TRUE(strstr(b.data, "\"hosts\":[],\"stats\":{") != NULL);
		ASSERT_TRUE(strstr(b.data, ",\"interrupted\":true,\"interrupt_signal\":"
					   "\"SIGTERM\"}\n") != NULL);
		save(&fx, "empty.json", &b, path, sizeof(path));
		if (have_command("jq"))
			ASSERT_EQ(
			    run("jq -e '.interrupted and .hosts == []' '%s' > /dev/null", path), 0);
	}
	pp_buf_release(&e);
	pp_buf_release(&b);
	fixture_done(&fx);
	return 0;
}

TEST_IMPL(scan_jsonl_one_record_per_line)
{
	struct fixture fx;
	struct pp_buf b;

	ASSERT_EQ(fixture_init(&fx), 0);
	pp_buf_init(&b, 1 << 20);
	ASSERT_EQ(write_scan(PP_SCAN_JSONL, &fx, false, &b), 0);
	ASSERT_STR_EQ(b.data,
		      "{\"host\":\"example.com\",\"ip\":\"192.0.2.7\",\"port\":22,"
		      "\"protocol\":\"tcp\",\"state\":\"open\",\"reason\":\"syn-ack\","
		      "\"rtt\":0.000120,\"attempts\":1,\"service\":\"ssh\","
		      "\"timestamp\":\"2024-01-01T12:00:00.123Z\"}\n"
		      "{\"host\":\"example.com\",\"ip\":\"192.0.2.7\",\"port\":80,"
		      "\"protocol\":\"tcp\",\"state\":\"open\",\"reason\":\"syn-ack\","
		      "\"rtt\":0.000100,\"attempts\":1,\"service\":\"http\","
		      "\"timestamp\":\"2024-01-01T12:00:01.123Z\"}\n"
		      "{\"host\":\"example.com\",\"ip\":\"192.0.2.7\",\"port\":1000,"
		      "\"protocol\":\"tcp\",\"state\":\"closed\",\"reason\":\"conn-refused\","
		      "\"rtt\":0.000110,\"attempts\":1,\"service\":null,"
		      "\"timestamp\":\"2024-01-01T12:00:02.123Z\"}\n"
		      "{\"host\":\"example.com\",\"ip\":\"192.0.2.7\",\"port\":8080,"
		      "\"protocol\":\"tcp\",\"state\":\"filtered\",\"reason\":\"host-unreach\","
		      "\"reason_ip\":\"198.18.0.1\",\"rtt\":0.002000,\"attempts\":2,"
		      "\"service\":\"http-alt\",\"timestamp\":\"2024-01-01T12:00:03.123Z\"}\n");

	/* no answer: rtt null; the target itself as the ICMP sender: no reason_ip */
	{
		struct pp_scan_record r = fixture_record(&fx, 32, 1704110400);

		r.reason = PP_REASON_NO_RESPONSE;
		r.rtt_ns = 0;
		r.reason_addr = r.ip;
		pp_buf_reset(&b);
		ASSERT_EQ(write_calls(PP_SCAN_JSONL, &fx.info, &r, 1, NULL, 0, &fx.stats, &b), 0);
		ASSERT_STR_EQ(b.data,
			      "{\"host\":\"example.com\",\"ip\":\"192.0.2.7\",\"port\":8080,"
			      "\"protocol\":\"tcp\",\"state\":\"filtered\","
			      "\"reason\":\"no-response\",\"rtt\":null,\"attempts\":2,"
			      "\"service\":\"http-alt\","
			      "\"timestamp\":\"2024-01-01T12:00:00.123Z\"}\n");
	}
	pp_buf_release(&b);
	fixture_done(&fx);
	return 0;
}

TEST_IMPL(scan_csv_header_rows_and_quoting)
{
	struct fixture fx;
	struct pp_buf b;

	ASSERT_EQ(fixture_init(&fx), 0);
	pp_buf_init(&b, 1 << 20);
	ASSERT_EQ(write_scan(PP_SCAN_CSV, &fx, false, &b), 0);
	ASSERT_STR_EQ(
	    b.data, "host,ip,port,protocol,state,reason,reason_ip,rtt,attempts,service,timestamp\n"
		    "example.com,192.0.2.7,22,tcp,open,syn-ack,,0.000120,1,ssh,"
		    "2024-01-01T12:00:00.123Z\n"
		    "example.com,192.0.2.7,80,tcp,open,syn-ack,,0.000100,1,http,"
		    "2024-01-01T12:00:01.123Z\n"
		    "example.com,192.0.2.7,1000,tcp,closed,conn-refused,,0.000110,1,,"
		    "2024-01-01T12:00:02.123Z\n"
		    "example.com,192.0.2.7,8080,tcp,filtered,host-unreach,198.18.0.1,0.002000,2,"
		    "http-alt,2024-01-01T12:00:03.123Z\n");

	/* RFC 4180 quoting where a field needs it */
	{
		struct pp_scan_record r = fixture_record(&fx, 0, 1704110400);

		r.host = "odd,\"name\"";
		r.service = "a\nb";
		r.rtt_ns = 0;
		pp_buf_reset(&b);
		ASSERT_EQ(write_calls(PP_SCAN_CSV, &fx.info, &r, 1, NULL, 0, &fx.stats, &b), 0);
		ASSERT_STR_EQ(strchr(b.data, '\n') + 1,
			      "\"odd,\"\"name\"\"\",192.0.2.7,22,tcp,open,syn-ack,,,1,\"a\nb\","
			      "2024-01-01T12:00:00.123Z\n");
	}
	pp_buf_release(&b);
	fixture_done(&fx);
	return 0;
}

TEST_IMPL(scan_open_only_filters_every_format)
{
	uint16_t cports[40];
	struct pp_scan_port cres[40];
	struct pp_scan_host closed_host;
	struct fixture fx;
	struct pp_buf b;
	char path[128];
	const char *p;

	ASSERT_EQ(fixture_init(&fx), 0);
	pp_buf_init(&b, 1 << 20);

	ASSERT_EQ(write_scan(PP_SCAN_TEXT, &fx, true, &b), 0);
	ASSERT_STR_EQ(b.data,
		      "Starting portprobe 0.1.0-test at 2024-01-01 12:00 UTC\n"
		      "portprobe scan report for example.com (192.0.2.7)\n"
		      "Host is up, received syn-ack (0.00011s latency).\n"
		      "Not shown: 30 closed tcp ports (conn-refused), "
		      "1 filtered tcp port (host-unreach)\n"
		      "PORT   STATE SERVICE REASON\n"
		      "22/tcp open  ssh     syn-ack\n"
		      "80/tcp open  http    syn-ack\n"
		      "\n"
		      "portprobe done: 2 IP addresses (1 host up) scanned in 3.25 seconds\n"
		      "Probes: 34 sent, 33 answered, 0 timed out, 1 retries, 0 local errors, "
		      "0 self-connects caught\n");

	pp_buf_reset(&b);
	ASSERT_EQ(write_scan(PP_SCAN_GREPABLE, &fx, true, &b), 0);
	ASSERT_TRUE(strstr(b.data, "Host: 192.0.2.7 (example.com)\tPorts: 22/open/tcp//ssh///, "
				   "80/open/tcp//http///\n") != NULL);

	pp_buf_reset(&b);
	ASSERT_EQ(write_scan(PP_SCAN_XML, &fx, true, &b), 0);
	ASSERT_TRUE(strstr(b.data,
			   "<ports><extraports state=\"closed\" count=\"30\">\n"
			   "<extrareasons reason=\"conn-refused\" count=\"30\" proto=\"tcp\" "
			   "ports=\"1000-1029\"/>\n</extraports>\n"
			   "<extraports state=\"filtered\" count=\"1\">\n"
			   "<extrareasons reason=\"host-unreach\" count=\"1\" proto=\"tcp\" "
			   "ports=\"8080\"/>\n</extraports>\n"
			   "<port protocol=\"tcp\" portid=\"22\">") != NULL);
	ASSERT_EQ(count_of(b.data, "<port "), 2);
	save(&fx, "open.xml", &b, path, sizeof(path));
	ASSERT_TRUE(dtd_check(path) <= 0);

	pp_buf_reset(&b);
	ASSERT_EQ(write_scan(PP_SCAN_JSON, &fx, true, &b), 0);
	ASSERT_EQ(count_of(b.data, "{\"host\":\"example.com\",\"ip\":\"192.0.2.7\",\"status\""), 1);
	ASSERT_EQ(count_of(b.data, "\"port\":"), 2);
	ASSERT_EQ(count_of(b.data, "\"state\":\"open\""), 2);
	ASSERT_TRUE(strstr(b.data, "\"ip\":\"192.0.2.8\"") == NULL);

	pp_buf_reset(&b);
	ASSERT_EQ(write_scan(PP_SCAN_JSONL, &fx, true, &b), 0);
	ASSERT_EQ(count_of(b.data, "\n"), 2);
	ASSERT_EQ(count_of(b.data, "\"state\":\"open\""), 2);

	pp_buf_reset(&b);
	ASSERT_EQ(write_scan(PP_SCAN_CSV, &fx, true, &b), 0);
	ASSERT_EQ(count_of(b.data, "\n"), 3);
	ASSERT_EQ(count_of(b.data, ",open,"), 2);

	/* a host that is up without an open port is left out of every block format */
	for (size_t i = 0; i < 40; i++) {
		cports[i] = (uint16_t)(3000 + i);
		cres[i] = (struct pp_scan_port){50, PP_STATE_CLOSED, PP_REASON_CONN_REFUSED, 1, 0};
	}
	closed_host = fx.up;
	closed_host.host = NULL;
	pp_parse_ip("192.0.2.9", 0, &closed_host.ip, &p);
	closed_host.nports = 40;
	closed_host.ports = cports;
	closed_host.results = cres;
	for (enum pp_scan_format f = PP_SCAN_TEXT; f <= PP_SCAN_CSV; f++) {
		const struct pp_scan_host *hosts[] = {&closed_host};
		struct pp_scan_info info = fx.info;

		info.open_only = true;
		pp_buf_reset(&b);
		ASSERT_EQ(write_calls(f, &info, NULL, 0, hosts, 1, &fx.stats, &b), 0);
		ASSERT_TRUE(strstr(b.data, "192.0.2.9") == NULL);
		ASSERT_TRUE(strstr(b.data, "3000") == NULL);
	}
	pp_buf_release(&b);
	fixture_done(&fx);
	return 0;
}

/* doc from the first `from` through the first `to` after it, malloc'd, or
 * NULL when either is missing. */
static char *between(const char *doc, const char *from, const char *to)
{
	const char *a = strstr(doc, from), *z = a ? strstr(a, to) : NULL;

	return z ? strndup(a, (size_t)(z - a) + strlen(to)) : NULL;
}

/* 192.0.2.9, cut short by --host-timeout (with -Pn: user-set): 22 open and
 * 1000-1025 closed were decided; 80, 1026-1029 and 8080 were not. */
static void timed_out_host(const struct fixture *fx, struct pp_scan_port *res,
			   struct pp_scan_host *h)
{
	const char *why;

	memset(res, 0, NPORTS * sizeof(*res));
	res[0] = fx->up_res[0];
	for (size_t i = 2; i < 28; i++)
		res[i] = fx->up_res[i];
	*h = fx->up;
	h->host = NULL;
	pp_parse_ip("192.0.2.9", 0, &h->ip, &why);
	h->status_reason = PP_REASON_NONE;
	h->start = (struct timespec){1704110400, 0};
	h->end = (struct timespec){1704110402, 0};
	h->results = res;
	h->reason_addrs = NULL;
	h->nreason_addrs = 0;
	h->timed_out = true;
}

/* 192.0.2.10, timed out before any of its ports was decided. */
static void timed_out_empty_host(const struct fixture *fx, struct pp_scan_port *res,
				 struct pp_scan_host *h)
{
	const char *why;

	timed_out_host(fx, res, h);
	memset(res, 0, NPORTS * sizeof(*res));
	pp_parse_ip("192.0.2.10", 0, &h->ip, &why);
	h->start = (struct timespec){1704110401, 0};
	h->end = h->start;
}

static const char timed_out_xml_hosts[] =
    "<host starttime=\"1704110400\" endtime=\"1704110402\" timedout=\"true\"><status "
    "state=\"up\" reason=\"user-set\" reason_ttl=\"0\"/>\n"
    "<address addr=\"192.0.2.9\" addrtype=\"ipv4\"/>\n"
    "<hostnames>\n"
    "</hostnames>\n"
    "<ports><extraports state=\"closed\" count=\"26\">\n"
    "<extrareasons reason=\"conn-refused\" count=\"26\" proto=\"tcp\" ports=\"1000-1025\"/>\n"
    "</extraports>\n"
    "<port protocol=\"tcp\" portid=\"22\"><state state=\"open\" reason=\"syn-ack\" "
    "reason_ttl=\"0\"/><service name=\"ssh\" method=\"table\" conf=\"3\"/></port>\n"
    "</ports>\n"
    "<times srtt=\"110\" rttvar=\"0\" to=\"110\"/>\n"
    "</host>\n"
    "<host starttime=\"1704110401\" endtime=\"1704110401\" timedout=\"true\"><status "
    "state=\"up\" reason=\"user-set\" reason_ttl=\"0\"/>\n"
    "<address addr=\"192.0.2.10\" addrtype=\"ipv4\"/>\n"
    "<hostnames>\n"
    "</hostnames>\n"
    "</host>\n"
    "<!-- portprobe stats:";

TEST_IMPL(scan_timed_out_host_is_marked_in_every_format)
{
	struct pp_scan_port res[NPORTS], empty_res[NPORTS];
	struct pp_scan_host to, empty;
	const struct pp_scan_host *hosts[] = {&to, &empty};
	struct pp_scan_record recs[2];
	struct fixture fx;
	struct pp_buf b, e;
	char path[128], *part;

	ASSERT_EQ(fixture_init(&fx), 0);
	timed_out_host(&fx, res, &to);
	timed_out_empty_host(&fx, empty_res, &empty);
	fx.stats.hosts_up = 2;
	fx.stats.hosts_down = 0;
	pp_buf_init(&b, 1 << 20);
	pp_buf_init(&e, 1 << 20);

	/* text: nmap's line, the count left undecided, then the ports decided */
	ASSERT_EQ(write_calls(PP_SCAN_TEXT, &fx.info, NULL, 0, hosts, 2, &fx.stats, &b), 0);
	ASSERT_STR_EQ(b.data,
		      "Starting portprobe 0.1.0-test at 2024-01-01 12:00 UTC\n"
		      "portprobe scan report for 192.0.2.9\n"
		      "Host is up, received user-set (0.00011s latency).\n"
		      "Skipping host 192.0.2.9 due to host timeout: 6 of 33 ports not decided\n"
		      "Not shown: 26 closed tcp ports (conn-refused)\n"
		      "PORT   STATE SERVICE REASON\n"
		      "22/tcp open  ssh     syn-ack\n"
		      "\n"
		      "portprobe scan report for 192.0.2.10\n"
		      "Host is up, received user-set.\n"
		      "Skipping host 192.0.2.10 due to host timeout: 33 of 33 ports not decided\n"
		      "\n"
		      "portprobe done: 2 IP addresses (2 hosts up) scanned in 3.25 seconds\n"
		      "Probes: 34 sent, 33 answered, 0 timed out, 1 retries, 0 local errors, "
		      "0 self-connects caught\n");

	/* XML: timedout="true", still valid against nmap.dtd */
	pp_buf_reset(&b);
	ASSERT_EQ(write_calls(PP_SCAN_XML, &fx.info, NULL, 0, hosts, 2, &fx.stats, &b), 0);
	ASSERT_TRUE(strstr(b.data, "<debugging level=\"0\"/>\n<host ") != NULL);
	part = between(b.data, "<host ", "<!-- portprobe stats:");
	ASSERT_STR_EQ(part, timed_out_xml_hosts);
	free(part);
	save(&fx, "timedout.xml", &b, path, sizeof(path));
	ASSERT_TRUE(dtd_check(path) <= 0);

	/* grepable: nmap's "Status: Timeout", and the ports decided */
	pp_buf_reset(&b);
	ASSERT_EQ(write_calls(PP_SCAN_GREPABLE, &fx.info, NULL, 0, hosts, 2, &fx.stats, &b), 0);
	ASSERT_STR_EQ(b.data,
		      "# portprobe 0.1.0-test scan initiated Mon Jan  1 12:00:00 2024 as: "
		      "portprobe scan -p 22,80,1000-1029,8080 -n example.com 192.0.2.8\n"
		      "Host: 192.0.2.9 ()\tStatus: Timeout\n"
		      "Host: 192.0.2.9 ()\tPorts: 22/open/tcp//ssh///\tIgnored State: closed (26)\n"
		      "Host: 192.0.2.10 ()\tStatus: Timeout\n"
		      "# Probes: 34 sent, 33 answered, 0 timed out, 1 retries, 0 local errors, "
		      "0 self-connects caught\n"
		      "# portprobe done at Mon Jan  1 12:00:03 2024 -- 2 IP addresses (2 hosts up) "
		      "scanned in 3.25 seconds\n");

	/* JSON: "timed_out" and "ports_undecided" on the host, the decided ports */
	pp_buf_reset(&b);
	ASSERT_EQ(write_calls(PP_SCAN_JSON, &fx.info, NULL, 0, hosts, 2, &fx.stats, &b), 0);
	pp_buf_puts(&e,
		    "{\"host\":\"192.0.2.9\",\"ip\":\"192.0.2.9\",\"status\":\"up\","
		    "\"status_reason\":\"user-set\",\"start\":\"2024-01-01T12:00:00.000Z\","
		    "\"end\":\"2024-01-01T12:00:02.000Z\",\"timed_out\":true,"
		    "\"ports_undecided\":6,\"ports\":[{\"host\":\"192.0.2.9\",\"ip\":"
		    "\"192.0.2.9\",\"port\":22,\"protocol\":\"tcp\",\"state\":\"open\","
		    "\"reason\":\"syn-ack\",\"rtt\":0.000120,\"attempts\":1,\"service\":\"ssh\","
		    "\"timestamp\":\"2024-01-01T12:00:02.000Z\"}");
	for (unsigned p = 1000; p <= 1025; p++)
		pp_buf_printf(
		    &e,
		    ",{\"host\":\"192.0.2.9\",\"ip\":\"192.0.2.9\",\"port\":%u,"
		    "\"protocol\":\"tcp\",\"state\":\"closed\",\"reason\":\"conn-refused\","
		    "\"rtt\":0.000110,\"attempts\":1,\"service\":null,"
		    "\"timestamp\":\"2024-01-01T12:00:02.000Z\"}",
		    p);
	pp_buf_puts(&e, "]},\n{\"host\":\"192.0.2.10\",\"ip\":\"192.0.2.10\",\"status\":\"up\","
			"\"status_reason\":\"user-set\",\"start\":\"2024-01-01T12:00:01.000Z\","
			"\"end\":\"2024-01-01T12:00:01.000Z\",\"timed_out\":true,"
			"\"ports_undecided\":33,\"ports\":[]}\n],\"stats\":");
	ASSERT_TRUE(strstr(b.data, "\"hosts\":[\n{\"host\":\"192.0.2.9\"") != NULL);
	part = between(b.data, "{\"host\":\"192.0.2.9\"", "],\"stats\":");
	ASSERT_STR_EQ(part, e.data);
	free(part);
	save(&fx, "timedout.json", &b, path, sizeof(path));
	if (have_command("jq"))
		ASSERT_EQ(
		    run("jq -e '[.hosts[] | [.timed_out, .ports_undecided, (.ports | length)]] "
			"== [[true, 6, 27], [true, 33, 0]]' '%s' > /dev/null",
			path),
		    0);
	/* a host that finished has neither key, nor has a down host whose
	 * timeout ran out during discovery (it was never scanned) */
	fx.down.timed_out = true;
	pp_buf_reset(&b);
	ASSERT_EQ(write_scan(PP_SCAN_JSON, &fx, false, &b), 0);
	ASSERT_TRUE(strstr(b.data, "\"status\":\"down\"") != NULL);
	ASSERT_TRUE(strstr(b.data, "timed_out") == NULL);
	ASSERT_TRUE(strstr(b.data, "ports_undecided") == NULL);
	fx.down.timed_out = false;

	/* JSON lines and CSV: the decided records, nothing more */
	recs[0] = fixture_record(&fx, 0, 1704110400);
	recs[1] = fixture_record(&fx, 2, 1704110401);
	for (size_t i = 0; i < 2; i++) {
		recs[i].host = "192.0.2.9";
		recs[i].ip = to.ip;
		pp_addr_set_port(&recs[i].ip, recs[i].port);
	}
	pp_buf_reset(&b);
	ASSERT_EQ(write_calls(PP_SCAN_JSONL, &fx.info, recs, 2, hosts, 2, &fx.stats, &b), 0);
	ASSERT_STR_EQ(b.data,
		      "{\"host\":\"192.0.2.9\",\"ip\":\"192.0.2.9\",\"port\":22,"
		      "\"protocol\":\"tcp\",\"state\":\"open\",\"reason\":\"syn-ack\","
		      "\"rtt\":0.000120,\"attempts\":1,\"service\":\"ssh\","
		      "\"timestamp\":\"2024-01-01T12:00:00.123Z\"}\n"
		      "{\"host\":\"192.0.2.9\",\"ip\":\"192.0.2.9\",\"port\":1000,"
		      "\"protocol\":\"tcp\",\"state\":\"closed\",\"reason\":\"conn-refused\","
		      "\"rtt\":0.000110,\"attempts\":1,\"service\":null,"
		      "\"timestamp\":\"2024-01-01T12:00:01.123Z\"}\n");
	pp_buf_reset(&b);
	ASSERT_EQ(write_calls(PP_SCAN_CSV, &fx.info, recs, 2, hosts, 2, &fx.stats, &b), 0);
	ASSERT_STR_EQ(
	    b.data, "host,ip,port,protocol,state,reason,reason_ip,rtt,attempts,service,timestamp\n"
		    "192.0.2.9,192.0.2.9,22,tcp,open,syn-ack,,0.000120,1,ssh,"
		    "2024-01-01T12:00:00.123Z\n"
		    "192.0.2.9,192.0.2.9,1000,tcp,closed,conn-refused,,0.000110,1,,"
		    "2024-01-01T12:00:01.123Z\n");
	pp_buf_release(&e);
	pp_buf_release(&b);
	fixture_done(&fx);
	return 0;
}

TEST_IMPL(scan_timed_out_host_is_shown_with_open_too)
{
	struct pp_scan_port res[NPORTS];
	struct pp_scan_host empty;
	const struct pp_scan_host *hosts[] = {&empty};
	struct pp_scan_info info;
	struct fixture fx;
	struct pp_buf b;
	char path[128];

	/* as nmap: --open does not hide that a host was not finished */
	ASSERT_EQ(fixture_init(&fx), 0);
	timed_out_empty_host(&fx, res, &empty);
	info = fx.info;
	info.open_only = true;
	pp_buf_init(&b, 1 << 20);

	ASSERT_EQ(write_calls(PP_SCAN_TEXT, &info, NULL, 0, hosts, 1, &fx.stats, &b), 0);
	ASSERT_TRUE(strstr(b.data, "\nportprobe scan report for 192.0.2.10\n"
				   "Host is up, received user-set.\n"
				   "Skipping host 192.0.2.10 due to host timeout: 33 of 33 ports "
				   "not decided\n\nportprobe done:") != NULL);
	pp_buf_reset(&b);
	ASSERT_EQ(write_calls(PP_SCAN_XML, &info, NULL, 0, hosts, 1, &fx.stats, &b), 0);
	ASSERT_TRUE(strstr(b.data, "<host starttime=\"1704110401\" endtime=\"1704110401\" "
				   "timedout=\"true\">") != NULL);
	save(&fx, "open.xml", &b, path, sizeof(path));
	ASSERT_TRUE(dtd_check(path) <= 0);
	pp_buf_reset(&b);
	ASSERT_EQ(write_calls(PP_SCAN_GREPABLE, &info, NULL, 0, hosts, 1, &fx.stats, &b), 0);
	ASSERT_TRUE(strstr(b.data, "\nHost: 192.0.2.10 ()\tStatus: Timeout\n#") != NULL);
	pp_buf_reset(&b);
	ASSERT_EQ(write_calls(PP_SCAN_JSON, &info, NULL, 0, hosts, 1, &fx.stats, &b), 0);
	ASSERT_TRUE(strstr(b.data, ",\"timed_out\":true,\"ports_undecided\":33,\"ports\":[]}") !=
		    NULL);
	pp_buf_release(&b);
	fixture_done(&fx);
	return 0;
}

TEST_IMPL(scan_unknown_state_is_never_written_as_a_port)
{
	/* how each format would show ports 80, 1026 or 8080, or a state "unknown" */
	static const char *const never[] = {
	    "80/tcp",
	    " 80/",
	    "\t80/",
	    "1026/",
	    "8080/",
	    "portid=\"80\"",
	    "portid=\"1026\"",
	    "portid=\"8080\"",
	    "\"port\":80,",
	    "\"port\":1026,",
	    "\"port\":8080,",
	    ",80,tcp,",
	    ",1026,tcp,",
	    ",8080,tcp,",
	    "state=\"unknown\"",
	    "\"state\":\"unknown\"",
	    "/unknown/tcp",
	    ",tcp,unknown,",
	    "unknown tcp port",
	    "1000-1029",
	};
	struct pp_scan_port res[NPORTS];
	struct pp_scan_host to;
	const struct pp_scan_host *hosts[] = {&to};
	struct pp_scan_record rec;
	struct fixture fx;
	struct pp_buf b;

	ASSERT_EQ(fixture_init(&fx), 0);
	timed_out_host(&fx, res, &to);
	to.timed_out = false; /* an interrupted host has the same holes */
	/* a record the engine never sends: port 80 without a state */
	rec = fixture_record(&fx, 1, 1704110400);
	rec.state = PP_STATE_UNKNOWN;
	pp_buf_init(&b, 1 << 20);
	for (enum pp_scan_format f = PP_SCAN_TEXT; f <= PP_SCAN_CSV; f++) {
		const char *body;

		pp_buf_reset(&b);
		ASSERT_EQ(write_calls(f, &fx.info, &rec, 1, hosts, 1, &fx.stats, &b), 0);
		/* past the header, which names the scan's ports */
		body = f == PP_SCAN_JSON  ? strstr(b.data, "\"hosts\":")
		       : f == PP_SCAN_XML ? strstr(b.data, "<host ")
		       : b.len            ? strchr(b.data, '\n')
					  : "";
		ASSERT_TRUE(body != NULL);
		for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
			if (strstr(body, never[i]))
				fprintf(stderr, "format %d writes \"%s\":\n%s\n", (int)f, never[i],
					body);
			ASSERT_TRUE(strstr(body, never[i]) == NULL);
		}
	}
	pp_buf_release(&b);
	fixture_done(&fx);
	return 0;
}
