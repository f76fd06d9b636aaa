/* test_listen_out.c: the four `portprobe listen` formats and the --watch
 * event lines, byte for byte, over one set that has every case: IPv4 with a
 * full accept queue, IPv6 v6only, a dual-stack [::] socket, a socket bound to
 * a device, a SO_REUSEPORT pair held by two processes, an owner that could not
 * be read, and a procfs row with no backlog or cookie. Also the set's own
 * rules: exposure, grouping, order and the filters. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "listen/listen_int.h"
#include "portprobe/listen.h"
#include "test.h"

/* Adds one holder to l. */
static void add_proc(struct pp_listener *l, int pid, int fd, const char *name, const char *cmd)
{
	l->procs = realloc(l->procs, (l->nprocs + 1) * sizeof(*l->procs));
	l->procs[l->nprocs].pid = pid;
	l->procs[l->nprocs].fd = fd;
	snprintf(l->procs[l->nprocs].name, sizeof(l->procs[l->nprocs].name), "%s", name);
	l->procs[l->nprocs].cmdline = strdup(cmd);
	l->nprocs++;
	l->owners = PP_OWNERS_FOUND;
}

/* Adds a listener on addr:port (text form) and returns it. */
static struct pp_listener *add(struct pp_listen_set *set, const char *addr, unsigned port,
			       uint64_t cookie)
{
	struct pp_listener *l = listen_set_push(set);

	l->family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	inet_pton(l->family, addr, l->addr);
	l->port = (uint16_t)port;
	l->cookie = cookie;
	l->inode = 280000 + cookie;
	l->backlog = 128;
	snprintf(l->user, sizeof(l->user), "root");
	listen_mark_exposure(l);
	return l;
}

/* The set every format test writes (unsorted on purpose). */
static void make_set(struct pp_listen_set *set)
{
	struct pp_listener *l;

	pp_listen_set_init(set);
	l = add(set, "0.0.0.0", 8080, 11);
	add_proc(l, 101, 6, "nginx", "nginx: worker process");
	l->cgroup = strdup("/system.slice/nginx.service");
	l->unit = strdup("nginx.service");
	l = add(set, "::", 22, 3);
	l->v6only = 0;
	add_proc(l, 90, 3, "sshd", "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups");
	l->cgroup = strdup("/system.slice/ssh.service");
	l->unit = strdup("ssh.service");
	l = add(set, "127.0.0.1", 29876, 7);
	l->accept_queue = 2;
	l->backlog = 17;
	add_proc(l, 12161, 3, "python3", "python3 -c \"srv\"");
	add_proc(l, 12160, 3, "python3", "python3 -c \"srv\"");
	l = add(set, "0.0.0.0", 8080, 10);
	add_proc(l, 100, 6, "nginx", "nginx: worker process");
	add_proc(l, 101, 7, "nginx", "nginx: worker process");
	l->cgroup = strdup("/system.slice/nginx.service");
	l->unit = strdup("nginx.service");
	l = add(set, "::1", 29877, 8);
	l->v6only = 1;
	l->uid = 1000;
	l->user[0] = '\0';
	l->owners = PP_OWNERS_NO_PERMISSION;
	l = add(set, "10.1.2.3", 5432, 0);
	l->backlog = -1; /* a procfs row */
	l->ifindex = 2;
	snprintf(l->ifname, sizeof(l->ifname), "eth0");
	l->owners = PP_OWNERS_NONE;
	pp_listen_sort(set);
}

TEST_IMPL(listen_exposure_classes)
{
	struct pp_listen_set set;
	static const struct {
		const char *addr;
		enum pp_listen_exposure e;
	} cases[] = {
	    {"127.0.0.1", PP_EXPOSURE_LOOPBACK},
	    {"127.255.0.9", PP_EXPOSURE_LOOPBACK},
	    {"0.0.0.0", PP_EXPOSURE_ANY},
	    {"10.0.0.1", PP_EXPOSURE_SPECIFIC},
	    {"::1", PP_EXPOSURE_LOOPBACK},
	    {"::", PP_EXPOSURE_ANY},
	    {"::ffff:127.0.0.2", PP_EXPOSURE_LOOPBACK},
	    {"::ffff:0.0.0.0", PP_EXPOSURE_ANY},
	    {"fe80::1", PP_EXPOSURE_SPECIFIC},
	    {"::2", PP_EXPOSURE_SPECIFIC},
	};

	pp_listen_set_init(&set);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pp_listener *l = add(&set, cases[i].addr, 1, i + 1);

		ASSERT_STR_EQ(pp_listen_exposure_name(l->exposure),
			      pp_listen_exposure_name(cases[i].e));
	}
	pp_listen_set_release(&set);
	return 0;
}

TEST_IMPL(listen_sort_orders_and_groups_reuseport_members)
{
	struct pp_listen_set set;
	char a[64];

	make_set(&set);
	ASSERT_EQ(set.n, 6);
	/* v4 first, by address then port; a group's members by cookie. */
	ASSERT_STR_EQ(pp_listen_addr_text(&set.v[0], a, sizeof(a)), "0.0.0.0");
	ASSERT_UEQ(set.v[0].cookie, 10);
	ASSERT_UEQ(set.v[1].cookie, 11);
	ASSERT_EQ(set.v[0].group, 1);
	ASSERT_EQ(set.v[1].group, 1);
	ASSERT_EQ(set.v[0].group_size, 2);
	ASSERT_STR_EQ(pp_listen_addr_text(&set.v[2], a, sizeof(a)), "10.1.2.3");
	ASSERT_EQ(set.v[2].group, 0);
	ASSERT_STR_EQ(pp_listen_addr_text(&set.v[3], a, sizeof(a)), "127.0.0.1");
	ASSERT_STR_EQ(pp_listen_addr_text(&set.v[4], a, sizeof(a)), "::");
	ASSERT_STR_EQ(pp_listen_addr_text(&set.v[5], a, sizeof(a)), "::1");
	ASSERT_EQ(set.v[5].group, 0);
	pp_listen_set_release(&set);
	return 0;
}

TEST_IMPL(listen_filters_keep_ports_process_and_exposure)
{
	static const uint16_t ports[] = {22, 8080, 29877};
	struct pp_listen_set set;
	struct pp_listen_filter f = {0};

	make_set(&set);
	f.ports = ports;
	f.nports = 3;
	pp_listen_filter(&set, &f);
	ASSERT_EQ(set.n, 4);
	f.ports = NULL;
	f.exposed = 1;
	pp_listen_filter(&set, &f); /* drops ::1 */
	ASSERT_EQ(set.n, 3);
	f.exposed = 0;
	f.process = "101"; /* by pid: both group members held by 101 */
	pp_listen_filter(&set, &f);
	ASSERT_EQ(set.n, 2);
	ASSERT_EQ(set.v[0].port, 8080);
	f.process = "sshd";
	pp_listen_filter(&set, &f);
	ASSERT_EQ(set.n, 0);
	pp_listen_set_release(&set);
	make_set(&set);
	f.process = "sshd";
	pp_listen_filter(&set, &f);
	ASSERT_EQ(set.n, 1);
	ASSERT_EQ(set.v[0].port, 22);
	pp_listen_set_release(&set);
	return 0;
}

/* Runs one writer over the set and compares with expected. */
static int expect_output(int (*writer)(struct pp_buf *, const struct pp_listen_set *,
				       const struct pp_listen_out_opts *),
			 const struct pp_listen_out_opts *o, const char *expected)
{
	struct pp_listen_set set;
	struct pp_buf b;
	int rc;

	make_set(&set);
	pp_buf_init(&b, 1 << 20);
	rc = writer(&b, &set, o);
	if (rc == 0 && (!b.data || strcmp(b.data, expected))) {
		fprintf(stderr, "got:\n%s\nexpected:\n%s\n", b.data ? b.data : "", expected);
		rc = -1;
	}
	pp_buf_release(&b);
	pp_listen_set_release(&set);
	return rc;
}

TEST_IMPL(listen_text_table_is_exact)
{
	static const struct pp_listen_out_opts o = {.processes = 1, .numeric = 1};
	static const char expected[] =
	    "PROTO  LOCAL               QUEUE        EXPOSURE  USER  PROCESS                  "
	    "UNIT\n"
	    "tcp    0.0.0.0:8080        0/128,0/128  any       root  nginx[100,101]           "
	    "nginx.service\n"
	    "tcp    10.1.2.3%eth0:5432  0/?          specific  root  -                        -\n"
	    "tcp    127.0.0.1:29876     2/17         loopback  root  python3[12161,12160]     -\n"
	    "tcp46  [::]:22             0/128        any       root  sshd[90]                 "
	    "ssh.service\n"
	    "tcp6   [::1]:29877         0/128        loopback  1000  unknown (no permission)  -\n";

	ASSERT_EQ(expect_output(pp_listen_write_text, &o, expected), 0);
	return 0;
}

TEST_IMPL(listen_json_is_exact)
{
	static const struct pp_listen_out_opts o = {.processes = 1, .numeric = 1};
	static const char expected[] =
	    "[\n"
	    "{\"family\":\"ipv4\",\"address\":\"0.0.0.0\",\"port\":8080,\"dual_stack\":false,"
	    "\"v6only\":null,\"device\":null,\"service\":null,\"accept_queue\":0,\"backlog\":128,"
	    "\"uid\":0,\"user\":\"root\",\"inode\":280010,\"cookie\":10,\"exposure\":\"any\","
	    "\"reuseport_group\":1,\"owners\":\"found\",\"processes\":[{\"pid\":100,\"name\":"
	    "\"nginx\",\"cmdline\":\"nginx: worker "
	    "process\",\"fd\":6},{\"pid\":101,\"name\":\"nginx\",\"cmdline\":\"nginx: worker "
	    "process\",\"fd\":7}],\"cgroup\":\"/system.slice/"
	    "nginx.service\",\"unit\":\"nginx.service\"},\n"
	    "{\"family\":\"ipv4\",\"address\":\"0.0.0.0\",\"port\":8080,\"dual_stack\":false,"
	    "\"v6only\":null,\"device\":null,\"service\":null,\"accept_queue\":0,\"backlog\":128,"
	    "\"uid\":0,\"user\":\"root\",\"inode\":280011,\"cookie\":11,\"exposure\":\"any\","
	    "\"reuseport_group\":1,\"owners\":\"found\",\"processes\":[{\"pid\":101,\"name\":"
	    "\"nginx\",\"cmdline\":\"nginx: worker "
	    "process\",\"fd\":6}],\"cgroup\":\"/system.slice/"
	    "nginx.service\",\"unit\":\"nginx.service\"},\n"
	    "{\"family\":\"ipv4\",\"address\":\"10.1.2.3\",\"port\":5432,\"dual_stack\":false,"
	    "\"v6only\":null,\"device\":\"eth0\",\"service\":null,\"accept_queue\":0,\"backlog\":"
	    "null,\"uid\":0,\"user\":\"root\",\"inode\":280000,\"cookie\":null,\"exposure\":"
	    "\"specific\",\"reuseport_group\":null,\"owners\":\"none\",\"processes\":[],\"cgroup\":"
	    "null,\"unit\":null},\n"
	    "{\"family\":\"ipv4\",\"address\":\"127.0.0.1\",\"port\":29876,\"dual_stack\":false,"
	    "\"v6only\":null,\"device\":null,\"service\":null,\"accept_queue\":2,\"backlog\":17,"
	    "\"uid\":0,\"user\":\"root\",\"inode\":280007,\"cookie\":7,\"exposure\":\"loopback\","
	    "\"reuseport_group\":null,\"owners\":\"found\",\"processes\":[{\"pid\":12161,\"name\":"
	    "\"python3\",\"cmdline\":\"python3 -c "
	    "\\\"srv\\\"\",\"fd\":3},{\"pid\":12160,\"name\":\"python3\",\"cmdline\":\"python3 -c "
	    "\\\"srv\\\"\",\"fd\":3}],\"cgroup\":null,\"unit\":null},\n"
	    "{\"family\":\"ipv6\",\"address\":\"::\",\"port\":22,\"dual_stack\":true,\"v6only\":"
	    "false,\"device\":null,\"service\":null,\"accept_queue\":0,\"backlog\":128,\"uid\":0,"
	    "\"user\":\"root\",\"inode\":280003,\"cookie\":3,\"exposure\":\"any\",\"reuseport_"
	    "group\":null,\"owners\":\"found\",\"processes\":[{\"pid\":90,\"name\":\"sshd\","
	    "\"cmdline\":\"sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 "
	    "startups\",\"fd\":3}],\"cgroup\":\"/system.slice/"
	    "ssh.service\",\"unit\":\"ssh.service\"},\n"
	    "{\"family\":\"ipv6\",\"address\":\"::1\",\"port\":29877,\"dual_stack\":false,"
	    "\"v6only\":true,\"device\":null,\"service\":null,\"accept_queue\":0,\"backlog\":128,"
	    "\"uid\":1000,\"user\":null,\"inode\":280008,\"cookie\":8,\"exposure\":\"loopback\","
	    "\"reuseport_group\":null,\"owners\":\"no-permission\",\"processes\":[],\"cgroup\":"
	    "null,\"unit\":null}\n"
	    "]\n";

	ASSERT_EQ(expect_output(pp_listen_write_json, &o, expected), 0);
	return 0;
}

TEST_IMPL(listen_csv_is_exact)
{
	static const struct pp_listen_out_opts o = {.processes = 1, .numeric = 1};
	static const char expected[] =
	    "family,address,port,dual_stack,device,service,accept_queue,backlog,uid,user,inode,"
	    "cookie,exposure,reuseport_group,owners,pids,processes,cgroup,unit\n"
	    "ipv4,0.0.0.0,8080,false,,,0,128,0,root,280010,10,any,1,found,100;101,nginx[100]:6;"
	    "nginx[101]:7,/system.slice/nginx.service,nginx.service\n"
	    "ipv4,0.0.0.0,8080,false,,,0,128,0,root,280011,11,any,1,found,101,nginx[101]:6,/"
	    "system.slice/nginx.service,nginx.service\n"
	    "ipv4,10.1.2.3,5432,false,eth0,,0,,0,root,280000,,specific,,none,,,,\n"
	    "ipv4,127.0.0.1,29876,false,,,2,17,0,root,280007,7,loopback,,found,12161;12160,python3["
	    "12161]:3;python3[12160]:3,,\n"
	    "ipv6,::,22,true,,,0,128,0,root,280003,3,any,,found,90,sshd[90]:3,/system.slice/"
	    "ssh.service,ssh.service\n"
	    "ipv6,::1,29877,false,,,0,128,1000,,280008,8,loopback,,no-permission,,,,\n";

	ASSERT_EQ(expect_output(pp_listen_write_csv, &o, expected), 0);
	return 0;
}

TEST_IMPL(listen_prometheus_is_exact)
{
	static const struct pp_listen_out_opts o = {.processes = 1, .numeric = 1, .netns = "blue"};
	static const char expected[] =
	    "# HELP portprobe_listen_socket_info A listening TCP socket; the labels say where it "
	    "listens and who holds it.\n"
	    "# TYPE portprobe_listen_socket_info gauge\n"
	    "portprobe_listen_socket_info{netns=\"blue\",family=\"ipv4\",address=\"0.0.0.0\",port="
	    "\"8080\",device=\"\",member=\"0\",exposure=\"any\",dual_stack=\"false\",service=\"\","
	    "user=\"root\",process=\"nginx\",pid=\"100\",unit=\"nginx.service\"} 1\n"
	    "portprobe_listen_socket_info{netns=\"blue\",family=\"ipv4\",address=\"0.0.0.0\",port="
	    "\"8080\",device=\"\",member=\"1\",exposure=\"any\",dual_stack=\"false\",service=\"\","
	    "user=\"root\",process=\"nginx\",pid=\"101\",unit=\"nginx.service\"} 1\n"
	    "portprobe_listen_socket_info{netns=\"blue\",family=\"ipv4\",address=\"10.1.2.3\",port="
	    "\"5432\",device=\"eth0\",member=\"0\",exposure=\"specific\",dual_stack=\"false\","
	    "service=\"\",user=\"root\",process=\"\",pid=\"\",unit=\"\"} 1\n"
	    "portprobe_listen_socket_info{netns=\"blue\",family=\"ipv4\",address=\"127.0.0.1\","
	    "port=\"29876\",device=\"\",member=\"0\",exposure=\"loopback\",dual_stack=\"false\","
	    "service=\"\",user=\"root\",process=\"python3\",pid=\"12161\",unit=\"\"} 1\n"
	    "portprobe_listen_socket_info{netns=\"blue\",family=\"ipv6\",address=\"::\",port="
	    "\"22\",device=\"\",member=\"0\",exposure=\"any\",dual_stack=\"true\",service=\"\","
	    "user=\"root\",process=\"sshd\",pid=\"90\",unit=\"ssh.service\"} 1\n"
	    "portprobe_listen_socket_info{netns=\"blue\",family=\"ipv6\",address=\"::1\",port="
	    "\"29877\",device=\"\",member=\"0\",exposure=\"loopback\",dual_stack=\"false\",service="
	    "\"\",user=\"\",process=\"\",pid=\"\",unit=\"\"} 1\n"
	    "# HELP portprobe_listen_accept_queue Connections the kernel completed that the "
	    "socket's owner has not accepted yet.\n"
	    "# TYPE portprobe_listen_accept_queue gauge\n"
	    "portprobe_listen_accept_queue{netns=\"blue\",family=\"ipv4\",address=\"0.0.0.0\",port="
	    "\"8080\",device=\"\",member=\"0\"} 0\n"
	    "portprobe_listen_accept_queue{netns=\"blue\",family=\"ipv4\",address=\"0.0.0.0\",port="
	    "\"8080\",device=\"\",member=\"1\"} 0\n"
	    "portprobe_listen_accept_queue{netns=\"blue\",family=\"ipv4\",address=\"10.1.2.3\","
	    "port=\"5432\",device=\"eth0\",member=\"0\"} 0\n"
	    "portprobe_listen_accept_queue{netns=\"blue\",family=\"ipv4\",address=\"127.0.0.1\","
	    "port=\"29876\",device=\"\",member=\"0\"} 2\n"
	    "portprobe_listen_accept_queue{netns=\"blue\",family=\"ipv6\",address=\"::\",port="
	    "\"22\",device=\"\",member=\"0\"} 0\n"
	    "portprobe_listen_accept_queue{netns=\"blue\",family=\"ipv6\",address=\"::1\",port="
	    "\"29877\",device=\"\",member=\"0\"} 0\n"
	    "# HELP portprobe_listen_backlog The socket's effective backlog: the listen() argument "
	    "capped by net.core.somaxconn.\n"
	    "# TYPE portprobe_listen_backlog gauge\n"
	    "portprobe_listen_backlog{netns=\"blue\",family=\"ipv4\",address=\"0.0.0.0\",port="
	    "\"8080\",device=\"\",member=\"0\"} 128\n"
	    "portprobe_listen_backlog{netns=\"blue\",family=\"ipv4\",address=\"0.0.0.0\",port="
	    "\"8080\",device=\"\",member=\"1\"} 128\n"
	    "portprobe_listen_backlog{netns=\"blue\",family=\"ipv4\",address=\"127.0.0.1\",port="
	    "\"29876\",device=\"\",member=\"0\"} 17\n"
	    "portprobe_listen_backlog{netns=\"blue\",family=\"ipv6\",address=\"::\",port=\"22\","
	    "device=\"\",member=\"0\"} 128\n"
	    "portprobe_listen_backlog{netns=\"blue\",family=\"ipv6\",address=\"::1\",port="
	    "\"29877\",device=\"\",member=\"0\"} 128\n"
	    "# HELP portprobe_listen_sockets Listening TCP sockets by exposure.\n"
	    "# TYPE portprobe_listen_sockets gauge\n"
	    "portprobe_listen_sockets{netns=\"blue\",exposure=\"loopback\"} 2\n"
	    "portprobe_listen_sockets{netns=\"blue\",exposure=\"any\"} 3\n"
	    "portprobe_listen_sockets{netns=\"blue\",exposure=\"specific\"} 1\n";

	ASSERT_EQ(expect_output(pp_listen_write_prometheus, &o, expected), 0);
	return 0;
}

TEST_IMPL(listen_watch_event_lines_are_exact)
{
	static const struct pp_listen_out_opts o = {.processes = 1};
	const struct timespec ts = {1795000000, 123000000};
	struct pp_listen_set set;
	struct pp_buf b;

	make_set(&set);
	pp_buf_init(&b, 1 << 20);
	pp_listen_write_event_header(&b, PP_LISTEN_TEXT, &o);
	pp_listen_write_event(&b, PP_LISTEN_TEXT, "appeared", &ts, &set.v[4], &o);
	pp_listen_write_event(&b, PP_LISTEN_JSON, "gone", &ts, &set.v[3], &o);
	pp_listen_write_event_header(&b, PP_LISTEN_CSV, &o);
	pp_listen_write_event(&b, PP_LISTEN_CSV, "present", &ts, &set.v[5], &o);
	ASSERT_EQ(b.err, 0);
	ASSERT_STR_EQ(
	    b.data,
	    "TIME EVENT PROTO LOCAL SERVICE QUEUE EXPOSURE USER PROCESS UNIT\n"
	    "2026-11-18T11:06:40.123Z appeared tcp46 [::]:22 ssh 0/128 any root sshd[90] "
	    "ssh.service\n"
	    "{\"event\":\"gone\",\"time\":\"2026-11-18T11:06:40.123Z\",\"listener\":{\"family\":"
	    "\"ipv4\",\"address\":\"127.0.0.1\",\"port\":29876,\"dual_stack\":false,\"v6only\":"
	    "null,\"device\":null,\"service\":null,\"accept_queue\":2,\"backlog\":17,\"uid\":0,"
	    "\"user\":\"root\",\"inode\":280007,\"cookie\":7,\"exposure\":\"loopback\",\"reuseport_"
	    "group\":null,\"owners\":\"found\",\"processes\":[{\"pid\":12161,\"name\":\"python3\","
	    "\"cmdline\":\"python3 -c "
	    "\\\"srv\\\"\",\"fd\":3},{\"pid\":12160,\"name\":\"python3\",\"cmdline\":\"python3 -c "
	    "\\\"srv\\\"\",\"fd\":3}],\"cgroup\":null,\"unit\":null}}\n"
	    "event,time,family,address,port,dual_stack,device,service,accept_queue,backlog,uid,"
	    "user,inode,cookie,exposure,reuseport_group,owners,pids,processes,cgroup,unit\n"
	    "present,2026-11-18T11:06:40.123Z,ipv6,::1,29877,false,,,0,128,1000,,280008,8,loopback,"
	    ",no-permission,,,,\n");
	pp_buf_release(&b);
	pp_listen_set_release(&set);
	return 0;
}
