/* test_probereq.c: /probe requests as `serve` receives them, checked against
 * configurations written in YAML: targets (v4, v6, bracketed, named), ports,
 * modules, the scrape timeout header, server names, the allowlist with the
 * resolve check it may leave to the caller, exact messages and statuses;
 * then the server's basic and bearer authentication. */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "portprobe/config.h"
#include "portprobe/parse.h"
#include "portprobe/probereq.h"
#include "test.h"

/* Modules and an allowlist like examples/serve.yaml's. */
static const char serve_yaml[] = "server:\n"
				 "  probe_allowlist:\n"
				 "    - 10.0.0.0/8\n"
				 "    - \"192.0.2.10:443\"\n"
				 "    - \"[2001:db8::/32]:8000-8099\"\n"
				 "    - \"[fe80::/10]:22\"\n"
				 "    - \"*.example.com\"\n"
				 "    - \"db.internal:5432\"\n"
				 "modules:\n"
				 "  tcp4:\n"
				 "    prober: tcp\n"
				 "    timeout: 5s\n"
				 "    preferred_ip_protocol: ip4\n"
				 "  tls_internal:\n"
				 "    prober: tcp\n"
				 "    tcp:\n"
				 "      tls: true\n"
				 "      tls_config:\n"
				 "        server_name: internal.example.com\n"
				 "  cert:\n"
				 "    prober: tls\n"
				 "    timeout: 50ms\n";

/* Names only, and one address for port 443. */
static const char names_yaml[] = "server:\n"
				 "  probe_allowlist:\n"
				 "    - \"*.example.com:443\"\n"
				 "    - \"db.internal:5432\"\n"
				 "    - \"192.0.2.10:443\"\n";

static const char any_yaml[] = "server:\n"
			       "  probe_allowlist: [\"*\"]\n";

static const char empty_yaml[] = "server:\n"
				 "  listen: \"127.0.0.1:9115\"\n";

static const char basic_yaml[] = "server:\n"
				 "  auth:\n"
				 "    basic:\n"
				 "      username: prometheus\n"
				 "      password: \"s3cret:x\"\n";

static const char bearer_yaml[] = "server:\n"
				  "  auth:\n"
				  "    bearer_token: \"tok.EN-123_abc\"\n";

static struct pp_config *config(const char *text)
{
	struct pp_config *c = NULL;
	char err[256];

	if (pp_config_parse(text, strlen(text), "serve.yaml", &c, err, sizeof(err)) < 0) {
		fprintf(stderr, "config: %s\n", err);
		return NULL;
	}
	return c;
}

/* pp_probe_req_parse with the default offset, err always filled. */
static int req(const struct pp_config *c, const char *target, const char *module,
	       const char *hostname, const char *timeout, struct pp_probe_req *r, char *err)
{
	return pp_probe_req_parse(c, target, module, hostname, timeout, PP_PROBE_REQ_DEFAULT_OFFSET,
				  r, err, PP_PROBE_REQ_ERR_MAX);
}

/* The address text of a, port left out. */
static const char *addr_text(const struct pp_addr *a)
{
	static char buf[PP_ADDRSTRLEN];

	return a->len ? pp_addr_str(a, buf, sizeof(buf)) : "";
}

/* rc of a request that must fail, with err compared by the caller. */
#define ASSERT_REFUSED(c, target, module, hostname, timeout, want_rc, want_err)                    \
	do {                                                                                       \
		struct pp_probe_req r_;                                                            \
		char e_[PP_PROBE_REQ_ERR_MAX];                                                     \
		ASSERT_EQ(req(c, target, module, hostname, timeout, &r_, e_), want_rc);            \
		ASSERT_STR_EQ(e_, want_err);                                                       \
	} while (0)

TEST_IMPL(probereq_v4_target_is_a_literal_with_its_port)
{
	struct pp_config *c = config(serve_yaml);
	struct pp_probe_req r;
	char err[PP_PROBE_REQ_ERR_MAX];

	ASSERT_TRUE(c != NULL);
	ASSERT_EQ(req(c, "10.1.2.3:22", NULL, NULL, NULL, &r, err), 0);
	ASSERT_STR_EQ(err, "");
	ASSERT_STR_EQ(r.module->name, "tcp_connect");
	ASSERT_STR_EQ(r.host, "10.1.2.3");
	ASSERT_EQ(r.port, 22);
	ASSERT_EQ(r.literal, 1);
	ASSERT_EQ(pp_addr_family(&r.addr), AF_INET);
	ASSERT_STR_EQ(addr_text(&r.addr), "10.1.2.3");
	ASSERT_EQ(pp_addr_port(&r.addr), 22);
	ASSERT_TRUE(r.server_name == NULL);
	ASSERT_DBL_EQ(r.timeout, 120.0);
	ASSERT_EQ(r.need_resolve_check, 0);
	ASSERT_EQ(pp_probe_req_allowed_addr(c, &r, &r.addr), 1);
	pp_probe_req_release(&r);
	ASSERT_TRUE(r.host == NULL);

	/* IPv4-mapped IPv6 is judged as the IPv4 address it carries */
	ASSERT_EQ(req(c, "[::ffff:10.0.0.7]:80", NULL, NULL, NULL, &r, err), 0);
	ASSERT_STR_EQ(r.host, "::ffff:10.0.0.7");
	ASSERT_EQ(pp_addr_family(&r.addr), AF_INET6);
	pp_probe_req_release(&r);

	ASSERT_REFUSED(c, "192.0.2.10:80", NULL, NULL, NULL, -EACCES,
		       "target \"192.0.2.10:80\" is not in the probe allowlist");
	ASSERT_REFUSED(c, "11.0.0.1:22", NULL, NULL, NULL, -EACCES,
		       "target \"11.0.0.1:22\" is not in the probe allowlist");
	pp_config_free(c);
	return 0;
}

TEST_IMPL(probereq_bracketed_v6_target_loses_its_brackets)
{
	struct pp_config *c = config(serve_yaml);
	struct pp_probe_req r;
	char err[PP_PROBE_REQ_ERR_MAX];

	ASSERT_TRUE(c != NULL);
	ASSERT_EQ(req(c, "[2001:DB8::1]:8080", "tcp4", NULL, NULL, &r, err), 0);
	ASSERT_STR_EQ(r.module->name, "tcp4");
	ASSERT_STR_EQ(r.host, "2001:DB8::1");
	ASSERT_EQ(r.port, 8080);
	ASSERT_EQ(r.literal, 1);
	ASSERT_EQ(pp_addr_family(&r.addr), AF_INET6);
	ASSERT_STR_EQ(addr_text(&r.addr), "2001:db8::1");
	ASSERT_EQ(pp_addr_port(&r.addr), 8080);
	ASSERT_TRUE(r.server_name == NULL);
	ASSERT_EQ(r.need_resolve_check, 0);
	pp_probe_req_release(&r);

	/* a scope id stays on the host and in the address */
	ASSERT_EQ(req(c, "[fe80::1%lo]:22", NULL, NULL, NULL, &r, err), 0);
	ASSERT_STR_EQ(r.host, "fe80::1%lo");
	ASSERT_UEQ(((struct sockaddr_in6 *)&r.addr.sa)->sin6_scope_id, if_nametoindex("lo"));
	pp_probe_req_release(&r);

	ASSERT_REFUSED(c, "[2001:db8::1]:9000", NULL, NULL, NULL, -EACCES,
		       "target \"[2001:db8::1]:9000\" is not in the probe allowlist");
	ASSERT_REFUSED(c, "2001:db8::1:8080", NULL, NULL, NULL, -EINVAL,
		       "target \"2001:db8::1:8080\": an IPv6 address needs brackets: [ADDR]:PORT");
	ASSERT_REFUSED(c, "[10.0.0.1]:22", NULL, NULL, NULL, -EINVAL,
		       "target \"[10.0.0.1]:22\": host is not an IP address");
	ASSERT_REFUSED(c, "[db.internal]:5432", NULL, NULL, NULL, -EINVAL,
		       "target \"[db.internal]:5432\": host is not an IP address");
	ASSERT_REFUSED(c, "[2001:db8::1:8080", NULL, NULL, NULL, -EINVAL,
		       "target \"[2001:db8::1:8080\": '[' without ']'");
	ASSERT_REFUSED(c, "[2001:db8::1]8080", NULL, NULL, NULL, -EINVAL,
		       "target \"[2001:db8::1]8080\": something other than :PORT after ']'");
	ASSERT_REFUSED(c, "[fe80::1%nosuchif0]:22", NULL, NULL, NULL, -EINVAL,
		       "target \"[fe80::1%nosuchif0]:22\": host names an unknown interface after "
		       "'%'");
	pp_config_free(c);
	return 0;
}

TEST_IMPL(probereq_named_target_is_its_own_server_name)
{
	struct pp_config *c = config(serve_yaml);
	struct pp_probe_req r;
	char err[PP_PROBE_REQ_ERR_MAX];

	ASSERT_TRUE(c != NULL);
	ASSERT_EQ(req(c, "www.example.com:443", NULL, NULL, NULL, &r, err), 0);
	ASSERT_STR_EQ(r.host, "www.example.com");
	ASSERT_EQ(r.port, 443);
	ASSERT_EQ(r.literal, 0);
	ASSERT_UEQ(r.addr.len, 0);
	ASSERT_STR_EQ(r.server_name, "www.example.com");
	ASSERT_EQ(r.need_resolve_check, 0);
	pp_probe_req_release(&r);

	/* names keep their case; the server name loses the final dot */
	ASSERT_EQ(req(c, "WWW.Example.COM.:443", NULL, NULL, NULL, &r, err), 0);
	ASSERT_STR_EQ(r.host, "WWW.Example.COM.");
	ASSERT_STR_EQ(r.server_name, "WWW.Example.COM");
	ASSERT_EQ(r.need_resolve_check, 0);
	pp_probe_req_release(&r);

	ASSERT_EQ(req(c, "_srv.a-b.example.com:25", NULL, NULL, NULL, &r, err), 0);
	ASSERT_STR_EQ(r.host, "_srv.a-b.example.com");
	pp_probe_req_release(&r);
	pp_config_free(c);
	return 0;
}

TEST_IMPL(probereq_target_without_port_is_refused)
{
	struct pp_config *c = config(serve_yaml);

	ASSERT_TRUE(c != NULL);
	ASSERT_REFUSED(c, "db.internal", NULL, NULL, NULL, -EINVAL,
		       "target \"db.internal\": no port");
	ASSERT_REFUSED(c, "10.0.0.1", NULL, NULL, NULL, -EINVAL, "target \"10.0.0.1\": no port");
	ASSERT_REFUSED(c, "[2001:db8::1]", NULL, NULL, NULL, -EINVAL,
		       "target \"[2001:db8::1]\": no port");
	ASSERT_REFUSED(c, "db.internal:", NULL, NULL, NULL, -EINVAL,
		       "target \"db.internal:\": port is empty");
	ASSERT_REFUSED(c, NULL, NULL, NULL, NULL, -EINVAL, "Target parameter is missing");
	ASSERT_REFUSED(c, "", NULL, NULL, NULL, -EINVAL, "Target parameter is missing");
	pp_config_free(c);
	return 0;
}

TEST_IMPL(probereq_ports_are_1_to_65535_in_decimal_only)
{
	struct pp_config *c = config(serve_yaml);
	struct pp_probe_req r;
	char err[PP_PROBE_REQ_ERR_MAX];

	ASSERT_TRUE(c != NULL);
	ASSERT_EQ(req(c, "10.0.0.1:65535", NULL, NULL, NULL, &r, err), 0);
	ASSERT_EQ(r.port, 65535);
	pp_probe_req_release(&r);
	ASSERT_EQ(req(c, "10.0.0.1:1", NULL, NULL, NULL, &r, err), 0);
	ASSERT_EQ(r.port, 1);
	pp_probe_req_release(&r);

	ASSERT_REFUSED(c, "10.0.0.1:0", NULL, NULL, NULL, -EINVAL,
		       "target \"10.0.0.1:0\": port is not in 1..65535");
	ASSERT_REFUSED(c, "10.0.0.1:65536", NULL, NULL, NULL, -EINVAL,
		       "target \"10.0.0.1:65536\": port is not in 1..65535");
	ASSERT_REFUSED(c, "10.0.0.1:800000", NULL, NULL, NULL, -EINVAL,
		       "target \"10.0.0.1:800000\": port is not in 1..65535");
	ASSERT_REFUSED(c, "10.0.0.1:80x", NULL, NULL, NULL, -EINVAL,
		       "target \"10.0.0.1:80x\": port is not a port number (expected 1..65535)");
	ASSERT_REFUSED(c, "10.0.0.1:0x50", NULL, NULL, NULL, -EINVAL,
		       "target \"10.0.0.1:0x50\": port is not a port number (expected 1..65535)");
	ASSERT_REFUSED(c, "10.0.0.1:+80", NULL, NULL, NULL, -EINVAL,
		       "target \"10.0.0.1:+80\": port is not a port number (expected 1..65535)");
	ASSERT_REFUSED(c, "10.0.0.1:-1", NULL, NULL, NULL, -EINVAL,
		       "target \"10.0.0.1:-1\": port is not a port number (expected 1..65535)");
	ASSERT_REFUSED(c, "[2001:db8::1]:0", NULL, NULL, NULL, -EINVAL,
		       "target \"[2001:db8::1]:0\": port is not in 1..65535");
	pp_config_free(c);
	return 0;
}

TEST_IMPL(probereq_hosts_are_dns_names_or_literals)
{
	struct pp_config *c = config(serve_yaml);
	struct pp_probe_req r;
	char err[PP_PROBE_REQ_ERR_MAX], name[300], target[320];

	ASSERT_TRUE(c != NULL);
	ASSERT_REFUSED(c, "a b.example.com:80", NULL, NULL, NULL, -EINVAL,
		       "target \"a b.example.com:80\" holds a space, a control character or a "
		       "non-ASCII byte");
	ASSERT_REFUSED(c, "a\tb:80", NULL, NULL, NULL, -EINVAL,
		       "target \"a?b:80\" holds a space, a control character or a non-ASCII byte");
	ASSERT_REFUSED(c, "b\xc3\xa4r.example.com:80", NULL, NULL, NULL, -EINVAL,
		       "target \"b??r.example.com:80\" holds a space, a control character or a "
		       "non-ASCII byte");
	ASSERT_REFUSED(c, "bad!host:80", NULL, NULL, NULL, -EINVAL,
		       "target \"bad!host:80\": host contains a character a host name cannot have");
	ASSERT_REFUSED(c, "bad@host:80", NULL, NULL, NULL, -EINVAL,
		       "target \"bad@host:80\": host contains a character a host name cannot have");
	ASSERT_REFUSED(c, "a..example.com:80", NULL, NULL, NULL, -EINVAL,
		       "target \"a..example.com:80\": host has an empty label");
	ASSERT_REFUSED(c, "a.example.com..:80", NULL, NULL, NULL, -EINVAL,
		       "target \"a.example.com..:80\": host has an empty label");
	ASSERT_REFUSED(c, "10.0..:80", NULL, NULL, NULL, -EINVAL,
		       "target \"10.0..:80\": host has an empty label");
	ASSERT_REFUSED(c, ":80", NULL, NULL, NULL, -EINVAL, "target \":80\": host is empty");
	/* numbers that resolvers read as addresses, inet_pton does not */
	ASSERT_REFUSED(c, "010.0.0.1:80", NULL, NULL, NULL, -EINVAL,
		       "target \"010.0.0.1:80\": host ends in a number but is not an IP address");
	ASSERT_REFUSED(c, "0x7f.1:80", NULL, NULL, NULL, -EINVAL,
		       "target \"0x7f.1:80\": host ends in a number but is not an IP address");
	ASSERT_REFUSED(c, "10.0.0.0x1:80", NULL, NULL, NULL, -EINVAL,
		       "target \"10.0.0.0x1:80\": host ends in a number but is not an IP address");
	ASSERT_REFUSED(c, "2130706433:80", NULL, NULL, NULL, -EINVAL,
		       "target \"2130706433:80\": host ends in a number but is not an IP address");
	ASSERT_REFUSED(c, "10.0.0.1.:80", NULL, NULL, NULL, -EINVAL,
		       "target \"10.0.0.1.:80\": host ends in a number but is not an IP address");

	/* 63-byte labels and 253-byte names are the limits */
	memset(name, 'a', 63);
	memcpy(name + 63, ".example.com", sizeof(".example.com"));
	snprintf(target, sizeof(target), "%s:443", name);
	ASSERT_EQ(req(c, target, NULL, NULL, NULL, &r, err), 0);
	pp_probe_req_release(&r);
	memmove(name + 1, name, strlen(name) + 1); /* 64 */
	snprintf(target, sizeof(target), "%s:443", name);
	ASSERT_REFUSED(
	    c, target, NULL, NULL, NULL, -EINVAL,
	    "target \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa..."
	    "\": host has a label longer than 63 characters");
	for (size_t i = 0; i < 241; i += 2)
		memcpy(name + i, "a.", 2);
	memcpy(name + 241, "example.com", sizeof("example.com")); /* 252 bytes */
	snprintf(target, sizeof(target), "%s:443", name);
	ASSERT_EQ(req(c, target, NULL, NULL, NULL, &r, err), 0);
	ASSERT_UEQ(strlen(r.host), 252);
	pp_probe_req_release(&r);
	memmove(name + 2, name, strlen(name) + 1); /* 254 */
	snprintf(target, sizeof(target), "%s:443", name);
	ASSERT_REFUSED(
	    c, target, NULL, NULL, NULL, -EINVAL,
	    "target \"a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a....\""
	    ": host is longer than 253 characters");
	memset(target, 'a', 301);
	target[301] = '\0';
	ASSERT_REFUSED(
	    c, target, NULL, NULL, NULL, -EINVAL,
	    "target \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\""
	    " is longer than 300 bytes");
	pp_config_free(c);
	return 0;
}

TEST_IMPL(probereq_no_module_is_tcp_connect_unknown_is_400)
{
	struct pp_config *c = config(serve_yaml);
	struct pp_probe_req r;
	char err[PP_PROBE_REQ_ERR_MAX];

	ASSERT_TRUE(c != NULL);
	ASSERT_EQ(req(c, "10.0.0.1:22", "", NULL, NULL, &r, err), 0);
	ASSERT_TRUE(r.module == pp_config_module_find(c, "tcp_connect"));
	pp_probe_req_release(&r);
	ASSERT_EQ(req(c, "10.0.0.1:443", "tls", NULL, NULL, &r, err), 0);
	ASSERT_TRUE(r.module == pp_config_module_find(c, "tls"));
	ASSERT_EQ(r.module->tls, 1);
	pp_probe_req_release(&r);
	ASSERT_EQ(req(c, "10.0.0.1:443", "cert", NULL, NULL, &r, err), 0);
	ASSERT_EQ(r.module->prober, PP_CONFIG_PROBER_TLS);
	pp_probe_req_release(&r);

	ASSERT_REFUSED(c, "10.0.0.1:22", "http_2xx", NULL, NULL, -ENOENT,
		       "Unknown module \"http_2xx\"");
	ASSERT_REFUSED(c, "10.0.0.1:22", "TCP4", NULL, NULL, -ENOENT, "Unknown module \"TCP4\"");
	/* the module is judged first, as blackbox does */
	ASSERT_REFUSED(c, NULL, "nope\n", NULL, NULL, -ENOENT, "Unknown module \"nope?\"");
	ASSERT_EQ(pp_probe_req_status(-ENOENT), 400);
	pp_config_free(c);
	return 0;
}

TEST_IMPL(probereq_scrape_timeout_header_minus_offset_with_floor)
{
	struct pp_config *c = config(serve_yaml);
	struct pp_probe_req r;
	char err[PP_PROBE_REQ_ERR_MAX];

	ASSERT_TRUE(c != NULL);
	ASSERT_EQ(req(c, "10.0.0.1:22", NULL, NULL, "10", &r, err), 0);
	ASSERT_DBL_EQ(r.timeout, 9.5);
	pp_probe_req_release(&r);
	ASSERT_EQ(req(c, "10.0.0.1:22", NULL, NULL, "2.5", &r, err), 0);
	ASSERT_DBL_EQ(r.timeout, 2.0);
	pp_probe_req_release(&r);
	/* a scrape shorter than the offset still gets the floor */
	ASSERT_EQ(req(c, "10.0.0.1:22", NULL, NULL, "0.2", &r, err), 0);
	ASSERT_DBL_EQ(r.timeout, PP_PROBE_REQ_MIN_TIMEOUT);
	pp_probe_req_release(&r);
	ASSERT_EQ(req(c, "10.0.0.1:22", NULL, NULL, "0.6", &r, err), 0);
	ASSERT_DBL_EQ(r.timeout, PP_PROBE_REQ_MIN_TIMEOUT);
	pp_probe_req_release(&r);
	ASSERT_EQ(req(c, "10.0.0.1:22", NULL, NULL, "1e3", &r, err), 0);
	ASSERT_DBL_EQ(r.timeout, 999.5);
	pp_probe_req_release(&r);
	ASSERT_EQ(req(c, "10.0.0.1:22", NULL, NULL, "86400", &r, err), 0);
	ASSERT_DBL_EQ(r.timeout, PP_PROBE_REQ_MAX_TIMEOUT);
	pp_probe_req_release(&r);
	/* no header, or an empty one: 120 s */
	ASSERT_EQ(req(c, "10.0.0.1:22", NULL, NULL, NULL, &r, err), 0);
	ASSERT_DBL_EQ(r.timeout, 120.0);
	pp_probe_req_release(&r);
	ASSERT_EQ(req(c, "10.0.0.1:22", NULL, NULL, "", &r, err), 0);
	ASSERT_DBL_EQ(r.timeout, 120.0);
	pp_probe_req_release(&r);
	/* the offset: 0, negative or NaN counts as 0 */
	ASSERT_EQ(pp_probe_req_parse(c, "10.0.0.1:22", NULL, NULL, "10", 0, &r, err, sizeof(err)),
		  0);
	ASSERT_DBL_EQ(r.timeout, 10.0);
	pp_probe_req_release(&r);
	ASSERT_EQ(pp_probe_req_parse(c, "10.0.0.1:22", NULL, NULL, "10", -3, &r, err, sizeof(err)),
		  0);
	ASSERT_DBL_EQ(r.timeout, 10.0);
	pp_probe_req_release(&r);
	ASSERT_EQ(pp_probe_req_parse(c, "10.0.0.1:22", NULL, NULL, "10", NAN, &r, err, sizeof(err)),
		  0);
	ASSERT_DBL_EQ(r.timeout, 10.0);
	pp_probe_req_release(&r);
	ASSERT_EQ(pp_probe_req_parse(c, "10.0.0.1:22", NULL, NULL, "10", 2, &r, err, sizeof(err)),
		  0);
	ASSERT_DBL_EQ(r.timeout, 8.0);
	pp_probe_req_release(&r);
	pp_config_free(c);
	return 0;
}

TEST_IMPL(probereq_malformed_scrape_timeout_header_is_400)
{
	static const char *const bad[] = {"abc", "-1", "inf",  "nan", "1e309",  "0", "0.0", "+5",
					  " 5",  "5 ", "0x10", "1e",  "1e-400", ".", "5s"};
	struct pp_config *c = config(serve_yaml);
	char want[PP_PROBE_REQ_ERR_MAX];

	ASSERT_TRUE(c != NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(want, sizeof(want),
			 "X-Prometheus-Scrape-Timeout-Seconds \"%s\" is not a positive number of "
			 "seconds",
			 bad[i]);
		ASSERT_REFUSED(c, "10.0.0.1:22", NULL, NULL, bad[i], -EINVAL, want);
	}
	ASSERT_REFUSED(c, "10.0.0.1:22", NULL, NULL, "1000000000000000000000000000000000", -EINVAL,
		       "X-Prometheus-Scrape-Timeout-Seconds \"1000000000000000000000000000000000\" "
		       "is not a positive number of seconds");
	pp_config_free(c);
	return 0;
}

TEST_IMPL(probereq_module_timeout_caps_the_scrape_timeout)
{
	struct pp_config *c = config(serve_yaml);
	const struct pp_config_module *cert;
	struct pp_probe_req r;
	char err[PP_PROBE_REQ_ERR_MAX];

	ASSERT_TRUE(c != NULL);
	cert = pp_config_module_find(c, "cert");
	ASSERT_TRUE(cert != NULL);
	ASSERT_EQ(req(c, "10.0.0.1:22", "tcp4", NULL, "10", &r, err), 0);
	ASSERT_DBL_EQ(r.timeout, 5.0);
	pp_probe_req_release(&r);
	ASSERT_EQ(req(c, "10.0.0.1:22", "tcp4", NULL, "3", &r, err), 0);
	ASSERT_DBL_EQ(r.timeout, 2.5);
	pp_probe_req_release(&r);
	/* no header: the module's own timeout */
	ASSERT_EQ(req(c, "10.0.0.1:22", "tcp4", NULL, NULL, &r, err), 0);
	ASSERT_DBL_EQ(r.timeout, 5.0);
	pp_probe_req_release(&r);
	/* a module timeout below the floor is used as set */
	ASSERT_EQ(req(c, "10.0.0.1:22", "cert", NULL, "10", &r, err), 0);
	ASSERT_DBL_EQ(r.timeout, cert->timeout);
	ASSERT_TRUE(r.timeout < PP_PROBE_REQ_MIN_TIMEOUT);
	pp_probe_req_release(&r);
	ASSERT_EQ(req(c, "10.0.0.1:22", "cert", NULL, "0.2", &r, err), 0);
	ASSERT_DBL_EQ(r.timeout, cert->timeout);
	pp_probe_req_release(&r);
	pp_config_free(c);
	return 0;
}

TEST_IMPL(probereq_module_server_name_then_hostname_then_target)
{
	struct pp_config *c = config(serve_yaml);
	struct pp_probe_req r;
	char err[PP_PROBE_REQ_ERR_MAX], name[300];

	ASSERT_TRUE(c != NULL);
	/* hostname names an address target */
	ASSERT_EQ(req(c, "10.0.0.1:443", "tls", "api.example.com", NULL, &r, err), 0);
	ASSERT_STR_EQ(r.server_name, "api.example.com");
	ASSERT_STR_EQ(r.host, "10.0.0.1");
	pp_probe_req_release(&r);
	/* and replaces a named target's own name */
	ASSERT_EQ(req(c, "www.example.com:443", "tls", "API.example.com.", NULL, &r, err), 0);
	ASSERT_STR_EQ(r.server_name, "API.example.com");
	ASSERT_STR_EQ(r.host, "www.example.com");
	pp_probe_req_release(&r);
	/* but not the module's server_name (blackbox: hostname fills it when unset) */
	ASSERT_EQ(req(c, "10.0.0.1:443", "tls_internal", "api.example.com", NULL, &r, err), 0);
	ASSERT_STR_EQ(r.server_name, "internal.example.com");
	pp_probe_req_release(&r);
	ASSERT_EQ(req(c, "www.example.com:443", "tls_internal", NULL, NULL, &r, err), 0);
	ASSERT_STR_EQ(r.server_name, "internal.example.com");
	pp_probe_req_release(&r);
	/* an empty hostname is no hostname */
	ASSERT_EQ(req(c, "10.0.0.1:443", "tls", "", NULL, &r, err), 0);
	ASSERT_TRUE(r.server_name == NULL);
	pp_probe_req_release(&r);

	ASSERT_REFUSED(c, "10.0.0.1:443", "tls", "10.0.0.1", NULL, -EINVAL,
		       "hostname \"10.0.0.1\" is an address, not a host name");
	ASSERT_REFUSED(c, "10.0.0.1:443", "tls", "[::1]", NULL, -EINVAL,
		       "hostname \"[::1]\" is an address, not a host name");
	ASSERT_REFUSED(c, "10.0.0.1:443", "tls", "::1", NULL, -EINVAL,
		       "hostname \"::1\" is an address, not a host name");
	ASSERT_REFUSED(c, "10.0.0.1:443", "tls", "a b", NULL, -EINVAL,
		       "hostname \"a b\" holds a space, a control character or a non-ASCII byte");
	ASSERT_REFUSED(c, "10.0.0.1:443", "tls", "a/b", NULL, -EINVAL,
		       "hostname \"a/b\" contains a character a host name cannot have");
	ASSERT_REFUSED(c, "10.0.0.1:443", "tls_internal", "a..b", NULL, -EINVAL,
		       "hostname \"a..b\" has an empty label");
	memset(name, 'a', 254);
	name[254] = '\0';
	ASSERT_REFUSED(
	    c, "10.0.0.1:443", "tls", name, NULL, -EINVAL,
	    "hostname \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\" "
	    "is longer than 253 bytes");
	pp_config_free(c);
	return 0;
}

TEST_IMPL(probereq_allowlist_cidr_name_and_port_range)
{
	struct pp_config *c = config(serve_yaml), *n = config(names_yaml);
	struct pp_probe_req r;
	char err[PP_PROBE_REQ_ERR_MAX];

	ASSERT_TRUE(c != NULL && n != NULL);
	/* CIDR, any port */
	ASSERT_EQ(req(c, "10.255.255.255:1", NULL, NULL, NULL, &r, err), 0);
	pp_probe_req_release(&r);
	/* one address, one port */
	ASSERT_EQ(req(c, "192.0.2.10:443", NULL, NULL, NULL, &r, err), 0);
	pp_probe_req_release(&r);
	/* IPv6 CIDR with a port range: both ends */
	ASSERT_EQ(req(c, "[2001:db8:ffff::1]:8000", NULL, NULL, NULL, &r, err), 0);
	pp_probe_req_release(&r);
	ASSERT_EQ(req(c, "[2001:db8::2]:8099", NULL, NULL, NULL, &r, err), 0);
	pp_probe_req_release(&r);
	ASSERT_REFUSED(c, "[2001:db8::2]:7999", NULL, NULL, NULL, -EACCES,
		       "target \"[2001:db8::2]:7999\" is not in the probe allowlist");
	ASSERT_REFUSED(c, "[2001:db9::2]:8000", NULL, NULL, NULL, -EACCES,
		       "target \"[2001:db9::2]:8000\" is not in the probe allowlist");
	/* a name entry with a port */
	ASSERT_EQ(req(n, "DB.internal.:5432", NULL, NULL, NULL, &r, err), 0);
	ASSERT_EQ(r.need_resolve_check, 0);
	pp_probe_req_release(&r);
	ASSERT_REFUSED(n, "db.internal:5433", NULL, NULL, NULL, -EACCES,
		       "target \"db.internal:5433\" is not in the probe allowlist");
	/* a wildcard with a port: names below, not the domain itself */
	ASSERT_EQ(req(n, "a.b.example.com:443", NULL, NULL, NULL, &r, err), 0);
	ASSERT_EQ(r.need_resolve_check, 0);
	pp_probe_req_release(&r);
	ASSERT_REFUSED(n, "a.example.com:80", NULL, NULL, NULL, -EACCES,
		       "target \"a.example.com:80\" is not in the probe allowlist");
	ASSERT_REFUSED(n, "example.com:80", NULL, NULL, NULL, -EACCES,
		       "target \"example.com:80\" is not in the probe allowlist");
	/* a name never matches an address entry by itself, nor an address a name entry */
	ASSERT_REFUSED(n, "10.0.0.1:5432", NULL, NULL, NULL, -EACCES,
		       "target \"10.0.0.1:5432\" is not in the probe allowlist");
	ASSERT_EQ(pp_probe_req_status(-EACCES), 403);
	pp_config_free(c);
	pp_config_free(n);
	return 0;
}

TEST_IMPL(probereq_allowlist_wildcard_and_empty)
{
	struct pp_config *any = config(any_yaml), *none = config(empty_yaml);
	struct pp_probe_req r;
	char err[PP_PROBE_REQ_ERR_MAX];

	ASSERT_TRUE(any != NULL && none != NULL);
	ASSERT_EQ(req(any, "anything.test:1", NULL, NULL, NULL, &r, err), 0);
	ASSERT_EQ(r.need_resolve_check, 0);
	pp_probe_req_release(&r);
	ASSERT_EQ(req(any, "[::1]:65535", NULL, NULL, NULL, &r, err), 0);
	pp_probe_req_release(&r);
	ASSERT_REFUSED(none, "127.0.0.1:9115", NULL, NULL, NULL, -EACCES,
		       "target \"127.0.0.1:9115\" is not in the probe allowlist");
	ASSERT_REFUSED(none, "localhost:22", NULL, NULL, NULL, -EACCES,
		       "target \"localhost:22\" is not in the probe allowlist");
	/* a malformed request is a 400 even where nothing is allowed */
	ASSERT_REFUSED(none, "localhost", NULL, NULL, NULL, -EINVAL,
		       "target \"localhost\": no port");
	pp_config_free(any);
	pp_config_free(none);
	return 0;
}

TEST_IMPL(probereq_name_needs_resolve_check_only_when_an_address_entry_could_allow_it)
{
	struct pp_config *c = config(serve_yaml), *n = config(names_yaml);
	struct pp_addr in, out, mapped, v6;
	struct pp_probe_req r;
	char err[PP_PROBE_REQ_ERR_MAX];
	const char *why;

	ASSERT_TRUE(c != NULL && n != NULL);
	ASSERT_EQ(pp_parse_ip("10.9.9.9", 22, &in, &why), 0);
	ASSERT_EQ(pp_parse_ip("192.0.2.10", 22, &out, &why), 0);
	ASSERT_EQ(pp_parse_ip("::ffff:10.1.1.1", 22, &mapped, &why), 0);
	ASSERT_EQ(pp_parse_ip("2001:db8::5", 22, &v6, &why), 0);

	/* 10.0.0.0/8 takes every port: any name may resolve into it */
	ASSERT_EQ(req(c, "host.other:22", NULL, NULL, NULL, &r, err), 0);
	ASSERT_EQ(r.need_resolve_check, 1);
	ASSERT_STR_EQ(r.server_name, "host.other");
	ASSERT_EQ(pp_probe_req_allowed_addr(c, &r, &in), 1);
	ASSERT_EQ(pp_probe_req_allowed_addr(c, &r, &mapped), 1);
	ASSERT_EQ(pp_probe_req_allowed_addr(c, &r, &out), 0);
	ASSERT_EQ(pp_probe_req_allowed_addr(c, &r, &v6), 0); /* 2001:db8::/32 is 8000-8099 */
	ASSERT_EQ(pp_probe_req_allowed_addr(c, &r, NULL), 0);
	pp_probe_req_release(&r);

	/* allowed by name: every address it resolves to */
	ASSERT_EQ(req(c, "db.internal:5432", NULL, NULL, NULL, &r, err), 0);
	ASSERT_EQ(r.need_resolve_check, 0);
	ASSERT_EQ(pp_probe_req_allowed_addr(c, &r, &out), 1);
	pp_probe_req_release(&r);

	/* only 192.0.2.10:443 could allow a name on 443 */
	ASSERT_EQ(req(n, "example.com:443", NULL, NULL, NULL, &r, err), 0);
	ASSERT_EQ(r.need_resolve_check, 1);
	pp_addr_set_port(&out, 443);
	ASSERT_EQ(pp_probe_req_allowed_addr(n, &r, &out), 1);
	ASSERT_EQ(pp_probe_req_allowed_addr(n, &r, &in), 0);
	pp_probe_req_release(&r);
	/* and nothing could on 22: refused before any DNS query */
	ASSERT_REFUSED(n, "example.com:22", NULL, NULL, NULL, -EACCES,
		       "target \"example.com:22\" is not in the probe allowlist");

	/* a literal is judged at once, and the check agrees */
	ASSERT_EQ(req(c, "10.0.0.1:22", NULL, NULL, NULL, &r, err), 0);
	ASSERT_EQ(r.need_resolve_check, 0);
	ASSERT_EQ(pp_probe_req_allowed_addr(c, &r, &r.addr), 1);
	pp_probe_req_release(&r);
	pp_config_free(c);
	pp_config_free(n);
	return 0;
}

TEST_IMPL(probereq_status_maps_each_error)
{
	ASSERT_EQ(pp_probe_req_status(0), 200);
	ASSERT_EQ(pp_probe_req_status(-EINVAL), 400);
	ASSERT_EQ(pp_probe_req_status(-ENOENT), 400);
	ASSERT_EQ(pp_probe_req_status(-EACCES), 403);
	ASSERT_EQ(pp_probe_req_status(-ENOMEM), 500);
	return 0;
}

TEST_IMPL(probereq_messages_quote_input_short_and_printable)
{
	struct pp_config *c = config(serve_yaml);
	struct pp_probe_req r;
	char err[PP_PROBE_REQ_ERR_MAX], small[16], module[200];

	ASSERT_TRUE(c != NULL);
	ASSERT_REFUSED(c, "x\x1b[2Jy:22", NULL, NULL, NULL, -EINVAL,
		       "target \"x?[2Jy:22\" holds a space, a control character or a non-ASCII "
		       "byte");
	memset(module, 'm', sizeof(module) - 1);
	module[sizeof(module) - 1] = '\0';
	ASSERT_REFUSED(c, "10.0.0.1:22", module, NULL, NULL, -ENOENT,
		       "Unknown module "
		       "\"mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm...\"");
	/* a short buffer gets the start of the line, NUL-terminated */
	memset(small, 'z', sizeof(small));
	ASSERT_EQ(pp_probe_req_parse(c, "db:0", NULL, NULL, NULL, 0.5, &r, small, sizeof(small)),
		  -EINVAL);
	ASSERT_STR_EQ(small, "target \"db:0\": ");
	/* no buffer at all */
	ASSERT_EQ(pp_probe_req_parse(c, "db:0", NULL, NULL, NULL, 0.5, &r, NULL, 0), -EINVAL);
	ASSERT_EQ(pp_probe_req_parse(NULL, "db:1", NULL, NULL, NULL, 0.5, &r, err, sizeof(err)),
		  -EINVAL);
	ASSERT_STR_EQ(err, "no configuration");
	pp_config_free(c);
	return 0;
}

TEST_IMPL(probereq_failure_leaves_ret_untouched)
{
	struct pp_config *c = config(serve_yaml);
	struct pp_probe_req r, before;
	char err[PP_PROBE_REQ_ERR_MAX];

	ASSERT_TRUE(c != NULL);
	memset(&r, 0x5a, sizeof(r));
	before = r;
	ASSERT_EQ(req(c, "host.other:22", NULL, NULL, "abc", &r, err), -EINVAL);
	ASSERT_EQ(memcmp(&r, &before, sizeof(r)), 0);
	ASSERT_EQ(req(c, "11.0.0.1:22", "tls", "x.example.com", NULL, &r, err), -EACCES);
	ASSERT_EQ(memcmp(&r, &before, sizeof(r)), 0);
	pp_probe_req_release(NULL);
	memset(&r, 0, sizeof(r));
	pp_probe_req_release(&r);
	pp_config_free(c);
	return 0;
}

TEST_IMPL(http_auth_basic_accepts_only_the_configured_credentials)
{
	struct pp_config *c = config(basic_yaml);
	const struct pp_config_auth *a;

	ASSERT_TRUE(c != NULL);
	a = &c->server.auth;
	/* prometheus:s3cret:x (the password holds a ':') */
	ASSERT_EQ(pp_http_auth_check(a, "Basic cHJvbWV0aGV1czpzM2NyZXQ6eA=="), 0);
	ASSERT_EQ(pp_http_auth_check(a, "basic cHJvbWV0aGV1czpzM2NyZXQ6eA=="), 0);
	ASSERT_EQ(pp_http_auth_check(a, "BASIC   cHJvbWV0aGV1czpzM2NyZXQ6eA=="), 0);
	/* prometheus:s3cret, prometheus:s3cret:xx, prometheus:s3cret: */
	ASSERT_EQ(pp_http_auth_check(a, "Basic cHJvbWV0aGV1czpzM2NyZXQ="), -EACCES);
	ASSERT_EQ(pp_http_auth_check(a, "Basic cHJvbWV0aGV1czpzM2NyZXQ6eHg="), -EACCES);
	ASSERT_EQ(pp_http_auth_check(a, "Basic cHJvbWV0aGV1czpzM2NyZXQ6"), -EACCES);
	/* Prometheus:s3cret:x: user names compare exactly */
	ASSERT_EQ(pp_http_auth_check(a, "Basic UHJvbWV0aGV1czpzM2NyZXQ6eA=="), -EACCES);
	/* ":" */
	ASSERT_EQ(pp_http_auth_check(a, "Basic Og=="), -EACCES);
	ASSERT_EQ(pp_http_auth_check(a, NULL), -EACCES);
	ASSERT_EQ(pp_http_auth_check(a, ""), -EACCES);
	pp_config_free(c);
	return 0;
}

TEST_IMPL(http_auth_basic_refuses_malformed_headers)
{
	static const char *const bad[] = {
	    "Bearer cHJvbWV0aGV1czpzM2NyZXQ6eA==",  /* another scheme */
	    "Digest cHJvbWV0aGV1czpzM2NyZXQ6eA==",  /* another scheme */
	    "Basic",                                /* no credentials */
	    "Basic ",                               /* empty credentials */
	    "Basiccdef",                            /* no space after the scheme */
	    "Basic cHJvbWV0aGV1czpzM2NyZXQ6eA",     /* padding left out */
	    "Basic cHJvbWV0aGV1czpzM2NyZXQ6eA=",    /* padding cut */
	    "Basic cHJvbWV0aGV1czpzM2NyZXQ6eA===",  /* padding too long */
	    "Basic cHJvbWV0aGV1czpz=M2NyZXQ6eA=",   /* '=' inside */
	    "Basic cHJvbWV0aGV1czpzM2NyZXQ6eA==\t", /* a control byte after */
	    "Basic cHJvbWV0aGV1czpzM2NyZXQ6eA== x", /* a second word */
	    "Basic cHJvbWV0aGV1czpzM2Ny*XQ6eA==",   /* not base64 */
	    "Basic cHJvbWV0aGV1cw==",               /* "prometheus": no ':' */
	    "Basic cHJvbWV0aGV1czpzM2NyZXQ6eAA=",   /* "prometheus:s3cret:x\0" */
	    "Basic cHJvbQBldGhldXM6czNjcmV0Ong=",   /* "prom\0etheus:s3cret:x" */
	    " Basic cHJvbWV0aGV1czpzM2NyZXQ6eA==",  /* a space before the scheme */
	};
	struct pp_config *c = config(basic_yaml);
	char huge[9000];

	ASSERT_TRUE(c != NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (pp_http_auth_check(&c->server.auth, bad[i]) != -EACCES)
			TEST_FAIL_("accepted: \"%s\"", bad[i]);
	memcpy(huge, "Basic ", 6);
	memset(huge + 6, 'A', sizeof(huge) - 7);
	huge[sizeof(huge) - 1] = '\0';
	ASSERT_EQ(pp_http_auth_check(&c->server.auth, huge), -EACCES);
	pp_config_free(c);
	return 0;
}

TEST_IMPL(http_auth_bearer_accepts_only_the_token)
{
	struct pp_config *c = config(bearer_yaml);
	const struct pp_config_auth *a;

	ASSERT_TRUE(c != NULL);
	a = &c->server.auth;
	ASSERT_EQ(pp_http_auth_check(a, "Bearer tok.EN-123_abc"), 0);
	ASSERT_EQ(pp_http_auth_check(a, "bearer tok.EN-123_abc"), 0);
	ASSERT_EQ(pp_http_auth_check(a, "Bearer tok.en-123_abc"), -EACCES);
	ASSERT_EQ(pp_http_auth_check(a, "Bearer tok.EN-123_ab"), -EACCES);
	ASSERT_EQ(pp_http_auth_check(a, "Bearer tok.EN-123_abcd"), -EACCES);
	ASSERT_EQ(pp_http_auth_check(a, "Bearer "), -EACCES);
	ASSERT_EQ(pp_http_auth_check(a, "Bearer tok.EN-123_abc x"), -EACCES);
	ASSERT_EQ(pp_http_auth_check(a, "Basic tok.EN-123_abc"), -EACCES);
	ASSERT_EQ(pp_http_auth_check(a, "tok.EN-123_abc"), -EACCES);
	ASSERT_EQ(pp_http_auth_check(a, NULL), -EACCES);
	pp_config_free(c);
	return 0;
}

TEST_IMPL(http_auth_without_configuration_accepts_every_request)
{
	struct pp_config *c = config(empty_yaml);

	ASSERT_TRUE(c != NULL);
	ASSERT_EQ(pp_http_auth_check(&c->server.auth, NULL), 0);
	ASSERT_EQ(pp_http_auth_check(&c->server.auth, "Basic Og=="), 0);
	ASSERT_EQ(pp_http_auth_check(&c->server.auth, "garbage"), 0);
	ASSERT_EQ(pp_http_auth_check(NULL, NULL), 0);
	pp_config_free(c);
	return 0;
}

TEST_IMPL(http_auth_challenge_names_the_scheme)
{
	struct pp_config *b = config(basic_yaml), *t = config(bearer_yaml), *n = config(empty_yaml);

	ASSERT_TRUE(b != NULL && t != NULL && n != NULL);
	ASSERT_STR_EQ(pp_http_auth_challenge(&b->server.auth),
		      "Basic realm=\"portprobe\", charset=\"UTF-8\"");
	ASSERT_STR_EQ(pp_http_auth_challenge(&t->server.auth), "Bearer realm=\"portprobe\"");
	ASSERT_TRUE(pp_http_auth_challenge(&n->server.auth) == NULL);
	ASSERT_TRUE(pp_http_auth_challenge(NULL) == NULL);
	pp_config_free(b);
	pp_config_free(t);
	pp_config_free(n);
	return 0;
}
