/* test_config.c: the configuration file of run and serve: each of the three
 * check shapes and the mapping form read to exact values, defaults filled
 * in, units named, every kind of mistake refused with its file, line,
 * column, key and reason, the caps, the allowlist's rules, and the shipped
 * examples loading. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "portprobe/config.h"
#include "portprobe/parse.h"
#include "test.h"

/* Parses text as "checks.yaml"; NULL (with err filled) on failure. */
static struct pp_config *parse(const char *text, char *err, size_t errlen)
{
	struct pp_config *c = NULL;

	if (pp_config_parse(text, strlen(text), "checks.yaml", &c, err, errlen) < 0)
		return NULL;
	return c;
}

/* The address text of a (no port), in a static buffer. */
static const char *addr_text(const struct pp_addr *a)
{
	static char buf[PP_ADDRSTRLEN];

	return a->len ? pp_addr_str(a, buf, sizeof(buf)) : "";
}

TEST_IMPL(config_plugin_format_reads_to_exact_values)
{
	static const char text[] = "# the plugin's own examples\n"
				   "- name: check_web_server\n"
				   "  plugin: check_tcp_connection\n"
				   "  parameters:\n"
				   "    host: \"example.com\"\n"
				   "    port: 80\n"
				   "    timeout: 5\n"
				   "\n"
				   "- name: check_flaky_service\n"
				   "  plugin: check_tcp_connection\n"
				   "  parameters:\n"
				   "    host: \"api.service.com\"\n"
				   "    port: 443\n"
				   "    attempts: 3\n"
				   "    retry_delay: 2\n"
				   "    timeout: 15\n"
				   "- name: check_from_fixed_port\n"
				   "  plugin: check_tcp_connection\n"
				   "  parameters:\n"
				   "    host: \"192.168.1.100\"\n"
				   "    port: 22\n"
				   "    source_port: 54321\n"
				   "    source_address: 192.168.1.2\n"
				   "    family: ipv4\n"
				   "    retry_delay: 0\n";
	const struct pp_config_check *k;
	struct pp_config *c;
	char err[256];

	c = parse(text, err, sizeof(err));
	ASSERT_TRUE(c != NULL);
	ASSERT_STR_EQ(c->source, "checks.yaml");
	ASSERT_EQ(c->mapping_form, 0);
	ASSERT_UEQ(c->nchecks, 3);

	k = &c->checks[0];
	ASSERT_EQ(k->kind, PP_CONFIG_TCP);
	ASSERT_STR_EQ(k->name, "check_web_server");
	ASSERT_EQ(k->line, 2);
	ASSERT_EQ(k->column, 3);
	ASSERT_STR_EQ(k->host, "example.com");
	ASSERT_EQ(k->tcp.port, 80);
	ASSERT_DBL_EQ(k->timeout, 5);
	ASSERT_EQ(k->tcp.attempts, 1);
	ASSERT_DBL_EQ(k->tcp.retry_delay, 1);
	ASSERT_EQ(k->tcp.source_port, 0);
	ASSERT_EQ(k->tcp.source.len, 0);
	ASSERT_EQ(k->family, AF_UNSPEC);
	ASSERT_DBL_EQ(k->interval, 60);
	ASSERT_EQ(k->down_after, 3);
	ASSERT_EQ(k->up_after, 2);
	ASSERT_UEQ(k->nlabels, 0);
	ASSERT_UEQ(k->unit_first, 0);
	ASSERT_UEQ(k->unit_count, 1);

	k = &c->checks[1];
	ASSERT_STR_EQ(k->name, "check_flaky_service");
	ASSERT_EQ(k->line, 9);
	ASSERT_STR_EQ(k->host, "api.service.com");
	ASSERT_EQ(k->tcp.port, 443);
	ASSERT_EQ(k->tcp.attempts, 3);
	ASSERT_DBL_EQ(k->tcp.retry_delay, 2);
	ASSERT_DBL_EQ(k->timeout, 15);

	k = &c->checks[2];
	ASSERT_STR_EQ(k->host, "192.168.1.100");
	ASSERT_EQ(k->tcp.port, 22);
	ASSERT_EQ(k->tcp.source_port, 54321);
	ASSERT_STR_EQ(addr_text(&k->tcp.source), "192.168.1.2");
	ASSERT_EQ(k->family, AF_INET);
	ASSERT_DBL_EQ(k->tcp.retry_delay, 0);
	ASSERT_DBL_EQ(k->timeout, 10);

	/* one unit per check, named like it */
	ASSERT_UEQ(c->nunits, 3);
	ASSERT_STR_EQ(c->units[1].name, "check_flaky_service");
	ASSERT_EQ(c->units[1].kind, PP_CONFIG_UNIT_CONNECT);
	ASSERT_EQ(c->units[1].port, 443);
	ASSERT_UEQ(c->units[1].check, 1);
	pp_config_free(c);
	return 0;
}

TEST_IMPL(config_infrasonar_shape_expands_to_one_unit_per_port)
{
	static const char text[] = "- name: web\n"
				   "  plugin: tcp_probe\n"
				   "  parameters:\n"
				   "    address: www.example.com\n"
				   "    tcp_ports: [443, 22, 80, 22]\n"
				   "    certificate_ports: [443]\n"
				   "- name: mail\n"
				   "  plugin: tcp_probe\n"
				   "  parameters:\n"
				   "    address: 2001:db8::25\n"
				   "    checkPorts: \"25,8000-8002,110\"\n"
				   "    checkCertificatePorts: [995, \"993\"]\n"
				   "    timeout: 2.5\n"
				   "    warning_days: 30\n"
				   "    critical_days: 7\n"
				   "- name: certs-only\n"
				   "  plugin: tcp_probe\n"
				   "  parameters:\n"
				   "    address: db\n"
				   "    tcp_ports: []\n"
				   "    certificate_ports: 5432\n";
	static const char *const units[] = {
	    "web/tcp:22",    "web/tcp:80",    "web/tcp:443",   "web/cert:443",
	    "mail/tcp:25",   "mail/tcp:110",  "mail/tcp:8000", "mail/tcp:8001",
	    "mail/tcp:8002", "mail/cert:993", "mail/cert:995", "certs-only/cert:5432"};
	const struct pp_config_check *k;
	struct pp_check_opts co;
	struct pp_tls_opts to;
	struct pp_config *c;
	char err[256];

	c = parse(text, err, sizeof(err));
	ASSERT_TRUE(c != NULL);
	ASSERT_UEQ(c->nchecks, 3);
	k = &c->checks[0];
	ASSERT_EQ(k->kind, PP_CONFIG_TCP_PROBE);
	ASSERT_STR_EQ(k->host, "www.example.com");
	ASSERT_UEQ(k->tcp_ports.n, 3); /* sorted, the repeated 22 merged */
	ASSERT_EQ(k->tcp_ports.port[0], 22);
	ASSERT_EQ(k->tcp_ports.port[1], 80);
	ASSERT_EQ(k->tcp_ports.port[2], 443);
	ASSERT_UEQ(k->cert_ports.n, 1);
	ASSERT_EQ(k->cert_ports.port[0], 443);
	ASSERT_EQ(k->tls.cert_only, 0); /* tcp-probe enumerates: sslEnumCiphers needs it */
	ASSERT_EQ(k->tls.warning_days, 20);
	ASSERT_EQ(k->tls.critical_days, 15);
	ASSERT_UEQ(k->unit_first, 0);
	ASSERT_UEQ(k->unit_count, 4);
	k = &c->checks[1];
	ASSERT_STR_EQ(k->host, "2001:db8::25");
	ASSERT_UEQ(k->tcp_ports.n, 5);
	ASSERT_UEQ(k->cert_ports.n, 2);
	ASSERT_DBL_EQ(k->timeout, 2.5);
	ASSERT_EQ(k->tls.warning_days, 30);
	ASSERT_EQ(k->tls.critical_days, 7);
	ASSERT_UEQ(k->unit_first, 4);
	ASSERT_UEQ(k->unit_count, 7);
	ASSERT_UEQ(c->checks[2].tcp_ports.n, 0);
	ASSERT_UEQ(c->checks[2].unit_count, 1);

	ASSERT_UEQ(c->nunits, sizeof(units) / sizeof(units[0]));
	for (size_t i = 0; i < c->nunits; i++) {
		ASSERT_STR_EQ(c->units[i].name, units[i]);
		ASSERT_TRUE(pp_config_unit_find(c, units[i]) == &c->units[i]);
	}
	ASSERT_EQ(c->units[3].kind, PP_CONFIG_UNIT_CERT);
	ASSERT_EQ(c->units[3].port, 443);
	ASSERT_UEQ(c->units[3].check, 0);
	ASSERT_EQ(c->units[2].kind, PP_CONFIG_UNIT_CONNECT);
	ASSERT_TRUE(pp_config_unit_find(c, "web") == NULL);
	ASSERT_TRUE(pp_config_unit_find(c, "web/tcp:23") == NULL);
	ASSERT_TRUE(pp_config_check_find(c, "mail") == &c->checks[1]);
	ASSERT_TRUE(pp_config_check_find(c, "nope") == NULL);

	/* what the units run with */
	pp_config_unit_check_opts(c, &c->units[5], &co);
	ASSERT_STR_EQ(co.host, "2001:db8::25");
	ASSERT_EQ(co.port, 110);
	ASSERT_DBL_EQ(co.timeout, 2.5);
	ASSERT_EQ(co.attempts, 1);
	ASSERT_DBL_EQ(co.retry_delay, 1);
	pp_config_unit_tls_opts(c, &c->units[10], &to);
	ASSERT_TRUE(to.sni == NULL);
	ASSERT_TRUE(to.starttls == NULL);
	ASSERT_EQ(to.cert_only, 0);
	ASSERT_UEQ(to.timeout_ns, 2500000000ull);
	pp_config_free(c);
	return 0;
}

TEST_IMPL(config_tls_entry_reads_to_exact_values)
{
	static const char text[] = "- name: portal\n"
				   "  plugin: tls\n"
				   "  parameters:\n"
				   "    host: portal.example.com\n"
				   "- name: mail\n"
				   "  plugin: tls\n"
				   "  parameters:\n"
				   "    host: 192.0.2.25\n"
				   "    port: 587\n"
				   "    sni: mail.example.com\n"
				   "    starttls: smtp\n"
				   "    ca_file: /etc/ssl/private-ca.pem\n"
				   "    cert_only: false\n"
				   "    warning_days: 30\n"
				   "    critical_days: 0\n"
				   "    timeout: 1500ms\n"
				   "    family: ipv4\n"
				   "- name: nosni\n"
				   "  plugin: tls\n"
				   "  parameters: {host: a.example, sni: \"\", starttls: none}\n";
	const struct pp_config_check *k;
	struct pp_tls_opts to;
	struct pp_config *c;
	char err[256];

	c = parse(text, err, sizeof(err));
	ASSERT_TRUE(c != NULL);
	k = &c->checks[0];
	ASSERT_EQ(k->kind, PP_CONFIG_TLS);
	ASSERT_STR_EQ(k->host, "portal.example.com");
	ASSERT_EQ(k->tls.port, 443);
	ASSERT_TRUE(k->tls.sni == NULL);
	ASSERT_TRUE(k->tls.starttls == NULL);
	ASSERT_TRUE(k->tls.ca_file == NULL);
	ASSERT_EQ(k->tls.cert_only, 1);
	ASSERT_EQ(k->tls.warning_days, 20);
	ASSERT_EQ(k->tls.critical_days, 15);
	ASSERT_DBL_EQ(k->timeout, 10);
	ASSERT_EQ(k->family, AF_UNSPEC);
	ASSERT_STR_EQ(c->units[0].name, "portal");
	ASSERT_EQ(c->units[0].kind, PP_CONFIG_UNIT_CERT);
	ASSERT_EQ(c->units[0].port, 443);

	k = &c->checks[1];
	ASSERT_EQ(k->tls.port, 587);
	ASSERT_STR_EQ(k->tls.sni, "mail.example.com");
	ASSERT_STR_EQ(k->tls.starttls, "smtp");
	ASSERT_STR_EQ(k->tls.ca_file, "/etc/ssl/private-ca.pem");
	ASSERT_EQ(k->tls.cert_only, 0);
	ASSERT_EQ(k->tls.warning_days, 30);
	ASSERT_EQ(k->tls.critical_days, 0);
	ASSERT_DBL_EQ(k->timeout, 1.5);
	ASSERT_EQ(k->family, AF_INET);
	pp_config_unit_tls_opts(c, &c->units[1], &to);
	ASSERT_STR_EQ(to.sni, "mail.example.com");
	ASSERT_STR_EQ(to.starttls, "smtp");
	ASSERT_STR_EQ(to.ca_file, "/etc/ssl/private-ca.pem");
	ASSERT_EQ(to.cert_only, 0);
	ASSERT_UEQ(to.timeout_ns, 1500000000ull);
	ASSERT_EQ(to.family, AF_INET);

	ASSERT_STR_EQ(c->checks[2].tls.sni, ""); /* "": send no SNI */
	ASSERT_STR_EQ(c->checks[2].tls.starttls, "none");
	pp_config_free(c);
	return 0;
}

TEST_IMPL(config_mapping_form_reads_every_section)
{
	static const char text[] =
	    "interval: 2m\n"
	    "alerts:\n"
	    "  webhook: https://hooks.example.com/pp?x=1\n"
	    "  webhook_timeout: 3s\n"
	    "  command: 'logger \"$PORTPROBE_CHECK\"'\n"
	    "  down_after: 5\n"
	    "  up_after: 4\n"
	    "checks:\n"
	    "  - name: api\n"
	    "    plugin: check_tcp_connection\n"
	    "    interval: 15\n"
	    "    down_after: 1\n"
	    "    labels:\n"
	    "      team: payments\n"
	    "      env: \"\"\n"
	    "      tier: 1\n"
	    "    parameters: {host: api.example.com, port: 443}\n"
	    "  - name: db\n"
	    "    plugin: check_tcp_connection\n"
	    "    up_after: 1\n"
	    "    parameters: {host: db, port: 5432}\n"
	    "server:\n"
	    "  listen: \"[::1]:9200\"\n"
	    "  auth:\n"
	    "    basic: {username: prometheus, password: \"s3cret: yes\"}\n"
	    "  tls: {cert_file: /etc/pp/server.crt, key_file: /etc/pp/server.key}\n"
	    "  probe_allowlist: [10.0.0.0/8, \"*.example.com:443\"]\n"
	    "  limits: {max_request_bytes: 4096, request_timeout: 2.5, max_concurrency: 8}\n"
	    "store:\n"
	    "  path: /var/lib/portprobe/pp.db\n"
	    "  retention: 1w\n"
	    "  disabled: yes\n"
	    "modules:\n"
	    "  tcp4:\n"
	    "    prober: tcp\n"
	    "    timeout: 5s\n"
	    "    preferred_ip_protocol: ip4\n"
	    "    ip_protocol_fallback: false\n"
	    "    source_ip_address: 127.0.0.2\n"
	    "  tls:\n"
	    "    prober: tcp\n"
	    "    tcp:\n"
	    "      tls: true\n"
	    "      tls_config:\n"
	    "        insecure_skip_verify: true\n"
	    "        ca_file: ca.pem\n"
	    "        server_name: internal.example.com\n"
	    "  cert:\n"
	    "    prober: tls\n";
	const struct pp_config_module *m;
	const struct pp_config_check *k;
	struct pp_config *c;
	char err[256];

	c = parse(text, err, sizeof(err));
	ASSERT_TRUE(c != NULL);
	ASSERT_EQ(c->mapping_form, 1);
	ASSERT_DBL_EQ(c->interval, 120);

	k = &c->checks[0];
	ASSERT_STR_EQ(k->name, "api");
	ASSERT_EQ(k->line, 9);
	ASSERT_EQ(k->column, 5);
	ASSERT_DBL_EQ(k->interval, 15);
	ASSERT_EQ(k->down_after, 1);
	ASSERT_EQ(k->up_after, 4); /* from alerts */
	ASSERT_UEQ(k->nlabels, 3);
	ASSERT_STR_EQ(k->labels[0].name, "team");
	ASSERT_STR_EQ(k->labels[0].value, "payments");
	ASSERT_STR_EQ(k->labels[1].name, "env");
	ASSERT_STR_EQ(k->labels[1].value, "");
	ASSERT_STR_EQ(k->labels[2].name, "tier");
	ASSERT_STR_EQ(k->labels[2].value, "1");
	k = &c->checks[1];
	ASSERT_DBL_EQ(k->interval, 120); /* the file's */
	ASSERT_EQ(k->down_after, 5);
	ASSERT_EQ(k->up_after, 1);

	ASSERT_STR_EQ(c->server.listen, "[::1]:9200");
	ASSERT_EQ(c->server.listen_addr.sa.ss_family, AF_INET6);
	ASSERT_STR_EQ(addr_text(&c->server.listen_addr), "::1");
	ASSERT_EQ(pp_addr_port(&c->server.listen_addr), 9200);
	ASSERT_STR_EQ(c->server.auth.username, "prometheus");
	ASSERT_STR_EQ(c->server.auth.password, "s3cret: yes");
	ASSERT_TRUE(c->server.auth.bearer_token == NULL);
	ASSERT_STR_EQ(c->server.tls_cert_file, "/etc/pp/server.crt");
	ASSERT_STR_EQ(c->server.tls_key_file, "/etc/pp/server.key");
	ASSERT_UEQ(c->server.nallow, 2);
	ASSERT_EQ(c->server.allow[0].kind, PP_CONFIG_ALLOW_NET);
	ASSERT_STR_EQ(c->server.allow[1].text, "*.example.com:443");
	ASSERT_EQ(c->server.allow[1].kind, PP_CONFIG_ALLOW_SUFFIX);
	ASSERT_STR_EQ(c->server.allow[1].name, ".example.com");
	ASSERT_EQ(c->server.allow[1].port_min, 443);
	ASSERT_EQ(c->server.allow[1].port_max, 443);
	ASSERT_UEQ(c->server.max_request_bytes, 4096);
	ASSERT_DBL_EQ(c->server.request_timeout, 2.5);
	ASSERT_EQ(c->server.max_concurrency, 8);

	ASSERT_STR_EQ(c->store.path, "/var/lib/portprobe/pp.db");
	ASSERT_DBL_EQ(c->store.retention, 7 * 86400);
	ASSERT_EQ(c->store.disabled, 1);

	ASSERT_STR_EQ(c->alerts.webhook, "https://hooks.example.com/pp?x=1");
	ASSERT_DBL_EQ(c->alerts.webhook_timeout, 3);
	ASSERT_STR_EQ(c->alerts.command, "logger \"$PORTPROBE_CHECK\"");
	ASSERT_EQ(c->alerts.down_after, 5);
	ASSERT_EQ(c->alerts.up_after, 4);

	/* the file's modules in order, then the builtin it did not redefine */
	ASSERT_UEQ(c->nmodules, 4);
	ASSERT_STR_EQ(c->modules[0].name, "tcp4");
	ASSERT_STR_EQ(c->modules[1].name, "tls");
	ASSERT_STR_EQ(c->modules[2].name, "cert");
	ASSERT_STR_EQ(c->modules[3].name, "tcp_connect");
	m = pp_config_module_find(c, "tcp4");
	ASSERT_TRUE(m == &c->modules[0]);
	ASSERT_EQ(m->prober, PP_CONFIG_PROBER_TCP);
	ASSERT_DBL_EQ(m->timeout, 5);
	ASSERT_EQ(m->preferred_family, AF_INET);
	ASSERT_EQ(m->ip_protocol_fallback, 0);
	ASSERT_EQ(m->tls, 0);
	ASSERT_STR_EQ(addr_text(&m->source), "127.0.0.2");
	ASSERT_EQ(m->builtin, 0);
	ASSERT_EQ(m->line, 34);
	ASSERT_EQ(m->column, 3);
	m = pp_config_module_find(c, "tls");
	ASSERT_EQ(m->prober, PP_CONFIG_PROBER_TCP);
	ASSERT_EQ(m->tls, 1);
	ASSERT_EQ(m->insecure_skip_verify, 1);
	ASSERT_STR_EQ(m->ca_file, "ca.pem");
	ASSERT_STR_EQ(m->server_name, "internal.example.com");
	ASSERT_EQ(m->preferred_family, AF_INET6);
	ASSERT_EQ(m->ip_protocol_fallback, 1);
	ASSERT_EQ(m->builtin, 0);
	m = pp_config_module_find(c, "cert");
	ASSERT_EQ(m->prober, PP_CONFIG_PROBER_TLS);
	ASSERT_DBL_EQ(m->timeout, 0);
	m = pp_config_module_find(c, "tcp_connect");
	ASSERT_EQ(m->builtin, 1);
	ASSERT_EQ(m->line, 0);
	ASSERT_TRUE(pp_config_module_find(c, "http_2xx") == NULL);
	pp_config_free(c);
	return 0;
}

TEST_IMPL(config_defaults_fill_every_section_left_out)
{
	static const char *const texts[] = {
	    "checks: []\n",
	    "checks:\nserver:\nstore:\nalerts:\nmodules:\n",
	    "{}\n",
	    "[]\n",
	};
	char err[256];

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct pp_config *c = parse(texts[i], err, sizeof(err));
		const struct pp_config_module *m;

		ASSERT_TRUE(c != NULL);
		ASSERT_UEQ(c->nchecks, 0);
		ASSERT_UEQ(c->nunits, 0);
		ASSERT_DBL_EQ(c->interval, 60);
		ASSERT_STR_EQ(c->server.listen, "127.0.0.1:9115");
		ASSERT_STR_EQ(addr_text(&c->server.listen_addr), "127.0.0.1");
		ASSERT_EQ(pp_addr_port(&c->server.listen_addr), 9115);
		ASSERT_TRUE(c->server.auth.username == NULL);
		ASSERT_TRUE(c->server.auth.bearer_token == NULL);
		ASSERT_TRUE(c->server.tls_cert_file == NULL);
		ASSERT_UEQ(c->server.nallow, 0);
		ASSERT_UEQ(c->server.max_request_bytes, 8192);
		ASSERT_DBL_EQ(c->server.request_timeout, 10);
		ASSERT_EQ(c->server.max_concurrency, 64);
		ASSERT_STR_EQ(c->store.path, "portprobe.db");
		ASSERT_DBL_EQ(c->store.retention, 30 * 86400);
		ASSERT_EQ(c->store.disabled, 0);
		ASSERT_TRUE(c->alerts.webhook == NULL);
		ASSERT_TRUE(c->alerts.command == NULL);
		ASSERT_DBL_EQ(c->alerts.webhook_timeout, 5);
		ASSERT_EQ(c->alerts.down_after, 3);
		ASSERT_EQ(c->alerts.up_after, 2);
		ASSERT_UEQ(c->nmodules, 2);
		m = pp_config_module_find(c, "tcp_connect");
		ASSERT_TRUE(m != NULL);
		ASSERT_EQ(m->prober, PP_CONFIG_PROBER_TCP);
		ASSERT_EQ(m->tls, 0);
		ASSERT_EQ(m->preferred_family, AF_INET6); /* blackbox's default */
		ASSERT_EQ(m->ip_protocol_fallback, 1);
		ASSERT_EQ(m->builtin, 1);
		m = pp_config_module_find(c, "tls");
		ASSERT_TRUE(m != NULL);
		ASSERT_EQ(m->prober, PP_CONFIG_PROBER_TCP);
		ASSERT_EQ(m->tls, 1);
		/* no allowlist: /probe may probe nothing */
		ASSERT_EQ(pp_config_allowed(c, "127.0.0.1", 80, NULL), 0);
		pp_config_free(c);
	}
	return 0;
}

TEST_IMPL(config_listen_takes_v4_v6_and_every_address)
{
	static const struct {
		const char *listen;
		int family;
		const char *addr;
		unsigned port;
	} cases[] = {
	    {"0.0.0.0:80", AF_INET, "0.0.0.0", 80},
	    {"\"[2001:db8::1]:9115\"", AF_INET6, "2001:db8::1", 9115},
	    {"\":9115\"", AF_INET6, "::", 9115},
	};
	char text[128], err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pp_config *c;

		snprintf(text, sizeof(text), "server: {listen: %s}\n", cases[i].listen);
		c = parse(text, err, sizeof(err));
		ASSERT_TRUE(c != NULL);
		ASSERT_EQ(c->server.listen_addr.sa.ss_family, cases[i].family);
		ASSERT_STR_EQ(addr_text(&c->server.listen_addr), cases[i].addr);
		ASSERT_EQ(pp_addr_port(&c->server.listen_addr), cases[i].port);
		pp_config_free(c);
	}
	return 0;
}

/* Each bad file and the exact line it earns. */
static const struct {
	const char *text;
	const char *msg;
} bad_files[] = {
    {"- name: web\n"
     "  plugin: check_tcp_connection\n"
     "  parameters:\n"
     "    hots: example.com\n"
     "    port: 80\n",
     "checks.yaml:4:5: checks[0].parameters: unknown key \"hots\" (did you mean \"host\"?)"},
    {"- name: web\n"
     "  plugin: check_tcp_connection\n"
     "  parameters:\n"
     "    host: example.com\n"
     "    port: 70000\n",
     "checks.yaml:5:11: checks[0].parameters.port: 70000 is not in 1..65535"},
    {"checks:\n"
     "  - {name: a, plugin: tls, parameters: {host: a}}\n"
     "  - {name: b, plugin: tls, parameters: {host: b}}\n"
     "  - name: c\n"
     "    plugin: check_tcp_connection\n"
     "    parameters:\n"
     "      host: c\n"
     "      port: 1\n"
     "      timeout: abc\n",
     "checks.yaml:9:16: checks[2].parameters.timeout: \"abc\" is not a number of seconds (e.g. 10, "
     "0.5, 30s, 5m, 1h)"},
    {"- name: web\n"
     "  plugin: check_tcp_connection\n"
     "  parameters:\n"
     "    host: a\n"
     "    port: 80\n"
     "    port: 81\n",
     "checks.yaml:6:5: checks[0].parameters: duplicate key \"port\" (first at line 5)"},
    {"- name: web\n"
     "  name: web2\n"
     "  plugin: tls\n"
     "  parameters: {host: a}\n",
     "checks.yaml:2:3: checks[0]: duplicate key \"name\" (first at line 1)"},
    {"- {name: web, plugin: tls, parameters: {host: a}}\n"
     "- {name: db, plugin: tls, parameters: {host: b}}\n"
     "- {name: web, plugin: tls, parameters: {host: c}}\n",
     "checks.yaml:3:10: checks[2].name: \"web\" is already the name of checks[0] (line 1)"},
    {"- plugin: tls\n"
     "  parameters: {host: a}\n",
     "checks.yaml:1:3: checks[0]: missing required key \"name\""},
    {"- name: web\n"
     "  parameters: {host: a}\n",
     "checks.yaml:1:3: checks[0]: missing required key \"plugin\""},
    {"- name: web\n"
     "  plugin: tls\n",
     "checks.yaml:1:3: checks[0]: missing required key \"parameters\""},
    {"- name: web\n"
     "  plugin: check_tcp_connection\n"
     "  parameters: {host: a}\n",
     "checks.yaml:3:15: checks[0].parameters: missing required key \"port\""},
    {"- name: web\n"
     "  plugin: check_tcp_connection\n"
     "  parameters: {port: 80}\n",
     "checks.yaml:3:15: checks[0].parameters: missing required key \"host\""},
    {"- name: web\n"
     "  plugin: tcp_probe\n"
     "  parameters: {host: a, tcp_ports: [80]}\n",
     "checks.yaml:3:16: checks[0].parameters: unknown key \"host\" (tcp_probe calls it "
     "\"address\")"},
    {"- name: web\n"
     "  plugin: tcp_probe\n"
     "  parameters: {address: a}\n",
     "checks.yaml:3:15: checks[0].parameters: tcp_probe needs at least one port in tcp_ports or "
     "certificate_ports"},
    {"- name: web\n"
     "  plugin: check_tcp_connection\n"
     "  parameters:\n"
     "    host: [a, b]\n"
     "    port: 80\n",
     "checks.yaml:4:11: checks[0].parameters.host: expected a single value, found a list"},
    {"- name: web\n"
     "  plugin: nmap\n"
     "  parameters: {host: a}\n",
     "checks.yaml:2:11: checks[0].plugin: unknown plugin \"nmap\" (expected check_tcp_connection, "
     "tcp_probe or tls)"},
    {"- name: web\n"
     "  plugin: tls\n"
     "  parameters: {host: \"bad host\"}\n",
     "checks.yaml:3:22: checks[0].parameters.host: \"bad host\" contains a character a host name "
     "cannot have"},
    {"- name: web\n"
     "  plugin: tls\n"
     "  interval: 0.5\n"
     "  parameters: {host: a}\n",
     "checks.yaml:3:13: checks[0].interval: 0.5 is less than 1s"},
    {"- name: web\n"
     "  plugin: tls\n"
     "  interval: soon\n"
     "  parameters: {host: a}\n",
     "checks.yaml:3:13: checks[0].interval: \"soon\" is not a number of seconds (e.g. 10, 0.5, "
     "30s, 5m, 1h)"},
    {"a: &anchor 1\n"
     "b: *anchor\n",
     "checks.yaml:2:4: aliases (*name) are not supported; write the value out"},
    {"checks:\n"
     "  - name: [web\n",
     "checks.yaml:3:1: YAML syntax error: did not find expected ',' or ']' (while parsing a flow "
     "sequence at 2:11)"},
    {"\n", "checks.yaml: is empty (expected a list of checks, or a mapping with checks:)"},
    {"# only a comment\n",
     "checks.yaml: is empty (expected a list of checks, or a mapping with checks:)"},
    {"---\n", "checks.yaml: is empty (expected a list of checks, or a mapping with checks:)"},
    {"- name: web\n"
     "  plugin: tcp_probe\n"
     "  parameters:\n"
     "    address: a\n"
     "    tcp_ports: [22, 80, 70000]\n",
     "checks.yaml:5:25: checks[0].parameters.tcp_ports[2]: 70000 is not in 1..65535"},
    {"- name: web\n"
     "  plugin: tcp_probe\n"
     "  parameters:\n"
     "    address: a\n"
     "    tcp_ports: \"22,80-\"\n"
     "    checkPorts: [1]\n",
     "checks.yaml:6:5: checks[0].parameters: \"checkPorts\" repeats \"tcp_ports\" (line 5): give "
     "one of them"},
    {"- name: web\n"
     "  plugin: tcp_probe\n"
     "  parameters:\n"
     "    address: a\n"
     "    certificate_ports: \"443,x\"\n",
     "checks.yaml:5:24: checks[0].parameters.certificate_ports: \"443,x\" is not a port list: 'x' "
     "is not a port number"},
    {"- name: a/b\n"
     "  plugin: tls\n"
     "  parameters: {host: a}\n",
     "checks.yaml:1:9: checks[0].name: \"a/b\" holds '/', which names cannot have (they are used "
     "in URLs and unit names)"},
    {"- name: \"\"\n"
     "  plugin: tls\n"
     "  parameters: {host: a}\n",
     "checks.yaml:1:9: checks[0].name: is empty"},
    {"- name: web\n"
     "  plugin: tls\n"
     "  labels:\n"
     "    9lives: x\n"
     "  parameters: {host: a}\n",
     "checks.yaml:4:5: checks[0].labels: \"9lives\" is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)"},
    {"- name: web\n"
     "  plugin: tls\n"
     "  labels: {instance: x}\n"
     "  parameters: {host: a}\n",
     "checks.yaml:3:12: checks[0].labels: label name \"instance\" is reserved (portprobe sets it)"},
    {"- name: web\n"
     "  plugin: tls\n"
     "  parameters: {host: a, starttls: gopher}\n",
     "checks.yaml:3:35: checks[0].parameters.starttls: \"gopher\" is not a STARTTLS protocol "
     "(expected none or one of: smtp lmtp imap pop3 ftp ldap xmpp postgres mysql nntp sieve)"},
    {"- name: web\n"
     "  plugin: tls\n"
     "  parameters: {host: a, sni: 10.0.0.1}\n",
     "checks.yaml:3:30: checks[0].parameters.sni: 10.0.0.1 is an address; SNI takes a host name"},
    {"- name: web\n"
     "  plugin: tls\n"
     "  parameters: {host: a, warning_days: 7, critical_days: 14}\n",
     "checks.yaml:3:57: checks[0].parameters.critical_days: 14 is more than warning_days 7"},
    {"- name: web\n"
     "  plugin: tls\n"
     "  parameters: {host: a, cert_only: maybe}\n",
     "checks.yaml:3:36: checks[0].parameters.cert_only: \"maybe\" is not true or false"},
    {"- name: web\n"
     "  plugin: check_tcp_connection\n"
     "  parameters: {host: a, port: 80, family: ip4}\n",
     "checks.yaml:3:43: checks[0].parameters.family: \"ip4\" is not ipv4, ipv6 or any"},
    {"- name: web\n"
     "  plugin: check_tcp_connection\n"
     "  parameters: {host: a, port: 80, attempts: 0}\n",
     "checks.yaml:3:45: checks[0].parameters.attempts: 0 is not in 1..100"},
    {"- name: web\n"
     "  plugin: check_tcp_connection\n"
     "  parameters: {host: a, port: 80, source_address: example.com}\n",
     "checks.yaml:3:51: checks[0].parameters.source_address: \"example.com\" is not an IP address"},
    {"- name: web\n"
     "  plugin: check_tcp_connection\n"
     "  parameters: {host: 127.0.0.1, port: 80, family: ipv6}\n",
     "checks.yaml:3:51: checks[0].parameters.family: ipv6, but host 127.0.0.1 is an IPv4 "
     "address"},
    {"- name: box\n"
     "  plugin: tcp_probe\n"
     "  parameters: {address: \"2001:db8::1\", tcp_ports: [22], family: ipv4}\n",
     "checks.yaml:3:65: checks[0].parameters.family: ipv4, but address 2001:db8::1 is an IPv6 "
     "address"},
    {"name: web\n"
     "plugin: tls\n",
     "checks.yaml:1:1: unknown key \"name\" (a check is an item of a list: start it with \"- \", "
     "under checks:)"},
    {"chekcs: []\n", "checks.yaml:1:1: unknown key \"chekcs\" (did you mean \"checks\"?)"},
    {"server:\n"
     "  listen: localhost:9115\n",
     "checks.yaml:2:11: server.listen: \"localhost:9115\" has an address that is not an IP "
     "literal (listen takes an address, not a host name)"},
    {"server:\n"
     "  listen: \"127.0.0.1\"\n",
     "checks.yaml:2:11: server.listen: \"127.0.0.1\" is not ADDRESS:PORT (e.g. 127.0.0.1:9115, "
     "[::1]:9115 or :9115 for every address)"},
    {"server:\n"
     "  probe_allowlist:\n"
     "    - 10.0.0.0/8\n"
     "    - 10.0.0.0/33\n",
     "checks.yaml:4:7: server.probe_allowlist[1]: \"10.0.0.0/33\" has a prefix length above 32"},
    {"server:\n"
     "  probe_allowlist: [\"db.example.com:0\"]\n",
     "checks.yaml:2:21: server.probe_allowlist[0]: \"db.example.com:0\" has a port that is not a "
     "number in 1..65535"},
    {"server:\n"
     "  auth:\n"
     "    basic: {username: a, password: b}\n"
     "    bearer_token: c\n",
     "checks.yaml:4:5: server.auth: basic and bearer_token exclude each other"},
    {"server:\n"
     "  auth:\n"
     "    basic: {username: a}\n",
     "checks.yaml:3:12: server.auth.basic: missing required key \"password\""},
    {"server:\n"
     "  tls: {cert_file: a.pem}\n",
     "checks.yaml:2:8: server.tls: missing required key \"key_file\""},
    {"server:\n"
     "  limits: {max_request_bytes: 10}\n",
     "checks.yaml:2:31: server.limits.max_request_bytes: 10 is not in 256..1048576"},
    {"store:\n"
     "  retention: 10s\n",
     "checks.yaml:2:14: store.retention: \"10s\" is less than 1m"},
    {"store: [a]\n", "checks.yaml:1:8: store: expected a mapping (key: value lines), found a list"},
    {"alerts:\n"
     "  webhook: ftp://hooks.example.com/\n",
     "checks.yaml:2:12: alerts.webhook: \"ftp://hooks.example.com/\" is not an http:// or https:// "
     "URL"},
    {"alerts:\n"
     "  down_after: 0\n",
     "checks.yaml:2:15: alerts.down_after: 0 is not in 1..1000"},
    {"modules:\n"
     "  ping:\n"
     "    prober: icmp\n",
     "checks.yaml:3:13: modules.ping.prober: \"icmp\" is not a prober portprobe has (expected tcp "
     "or tls)"},
    {"modules:\n"
     "  m:\n"
     "    prober: tcp\n"
     "    http: {}\n",
     "checks.yaml:4:5: modules.m: unknown key \"http\" (portprobe has only the tcp and tls "
     "probers)"},
    {"modules:\n"
     "  m:\n"
     "    prober: tcp\n"
     "    tls: true\n"
     "    tcp:\n"
     "      tls: false\n",
     "checks.yaml:6:7: modules.m.tcp: \"tls\" is also set in the module (line 4)"},
    {"modules:\n"
     "  \"bad name\":\n"
     "    prober: tcp\n",
     "checks.yaml:2:3: modules: \"bad name\" is not a module name (1..64 of A-Z a-z 0-9 _ . -)"},
    {"modules:\n"
     "  m:\n"
     "    prober: tcp\n"
     "    preferred_ip_protocol: ipv6\n",
     "checks.yaml:4:28: modules.m.preferred_ip_protocol: \"ipv6\" is not ip4 or ip6"},
    {"modules:\n"
     "  m:\n"
     "    tls: true\n",
     "checks.yaml:3:5: modules.m: missing required key \"prober\""},
    {"a: !secret x\n", "checks.yaml:1:4: the tag \"!secret\" is not supported"},
    {"a: 1\n"
     "---\n"
     "b: 2\n",
     "checks.yaml:2:1: a second YAML document starts here; the file must hold one"},
    {"hello\n",
     "checks.yaml:1:1: expected a list of checks, or a mapping with checks:, found \"hello\""},
    {"- 42\n", "checks.yaml:1:3: checks[0]: expected a mapping (key: value lines), found 42"},
    {"- name: web\n"
     "  plugin: tls\n"
     "  parameters: {host: a, port: 0}\n",
     "checks.yaml:3:31: checks[0].parameters.port: 0 is not in 1..65535"},
    {"- name: web\n"
     "  plugin: tls\n"
     "  parameters:\n"
     "    host:\n",
     "checks.yaml:4:10: checks[0].parameters.host: has no value"},
    {"- name: web\n"
     "  plugin: check_tcp_connection\n"
     "  parameters: {host: a, port: http}\n",
     "checks.yaml:3:31: checks[0].parameters.port: \"http\" is not a port number (expected "
     "1..65535)"},
    {"- name: web\n"
     "  plugin: check_tcp_connection\n"
     "  parameters: {host: a, port: 1, attempts: many}\n",
     "checks.yaml:3:44: checks[0].parameters.attempts: \"many\" is not a whole number"},
};

TEST_IMPL(config_bad_files_name_file_line_column_key_and_reason)
{
	char err[512];

	ASSERT_TRUE(sizeof(bad_files) / sizeof(bad_files[0]) >= 25);
	for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		struct pp_config *c = (struct pp_config *)&err; /* must stay untouched */
		int r;

		memset(err, 0, sizeof(err));
		r = pp_config_parse(bad_files[i].text, strlen(bad_files[i].text), "checks.yaml", &c,
				    err, sizeof(err));
		if (r != -EINVAL || strcmp(err, bad_files[i].msg))
			fprintf(stderr, "bad file %zu:\n%s\n", i, bad_files[i].text);
		ASSERT_EQ(r, -EINVAL);
		ASSERT_STR_EQ(err, bad_files[i].msg);
		ASSERT_TRUE(c == (struct pp_config *)&err);
	}
	return 0;
}

TEST_IMPL(config_messages_stay_one_line_and_fit_the_buffer)
{
	static const char text[] =
	    "- name: \"a\\nb\\tc\\x01\"\n  plugin: tls\n  parameters: {host: a}\n";
	struct pp_config *c = NULL;
	char err[512], small[24];

	ASSERT_EQ(pp_config_parse(text, strlen(text), "new\nline.yaml", &c, err, sizeof(err)),
		  -EINVAL);
	ASSERT_STR_EQ(err, "new?line.yaml:1:9: checks[0].name: \"a\\nb\\tc\\x01\" holds a control "
			   "character");
	/* a long value is cut, on a character boundary */
	{
		char big[400];
		int n = snprintf(
		    big, sizeof(big), "- name: %s\n  plugin: tls\n  parameters: {host: a}\n",
		    "\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9/\"");

		ASSERT_TRUE(n > 0 && (size_t)n < sizeof(big));
		ASSERT_EQ(pp_config_parse(big, (size_t)n, "x", &c, err, sizeof(err)), -EINVAL);
		ASSERT_STR_EQ(err,
			      "x:1:9: checks[0].name: \"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
			      "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
			      "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
			      "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
			      "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9...\" is "
			      "longer than 128 bytes");
	}
	/* a buffer too small gets a cut, NUL-terminated prefix */
	ASSERT_EQ(pp_config_parse("- 1\n", 4, "checks.yaml", &c, small, sizeof(small)), -EINVAL);
	ASSERT_STR_EQ(small, "checks.yaml:1:3: checks");
	/* and no buffer at all is fine */
	ASSERT_EQ(pp_config_parse("- 1\n", 4, "checks.yaml", &c, NULL, 0), -EINVAL);
	return 0;
}

TEST_IMPL(config_caps_refuse_huge_deep_and_long_input)
{
	struct pp_config *c = NULL;
	char err[256], *text;
	size_t n = PP_CONFIG_MAX_BYTES + 1, len = 0;

	/* a file above 4 MiB is refused before it is read as YAML */
	text = malloc(n);
	ASSERT_TRUE(text != NULL);
	memset(text, '#', n);
	ASSERT_EQ(pp_config_parse(text, n, "big.yaml", &c, err, sizeof(err)), -EFBIG);
	ASSERT_STR_EQ(err, "big.yaml: is larger than 4194304 bytes");

	/* more nodes than the cap: "[0,0,0,...]" */
	text[len++] = '[';
	for (size_t i = 0; i < PP_CONFIG_MAX_NODES + 1; i++) {
		text[len++] = '0';
		text[len++] = ',';
	}
	text[len - 1] = ']';
	ASSERT_TRUE(len <= PP_CONFIG_MAX_BYTES);
	ASSERT_EQ(pp_config_parse(text, len, "nodes.yaml", &c, err, sizeof(err)), -EINVAL);
	ASSERT_STR_EQ(err, "nodes.yaml:1:2000000: the file has more than 1000000 YAML nodes");

	/* nesting deeper than 32 */
	len = 0;
	for (int i = 0; i < 40; i++)
		text[len++] = '[';
	ASSERT_EQ(pp_config_parse(text, len, "deep.yaml", &c, err, sizeof(err)), -EINVAL);
	ASSERT_STR_EQ(err, "deep.yaml:1:33: lists and mappings nest deeper than 32 levels");

	/* a scalar above 4096 bytes */
	len = 0;
	memcpy(text, "a: ", 3);
	len = 3;
	memset(text + len, 'x', 5000);
	len += 5000;
	ASSERT_EQ(pp_config_parse(text, len, "long.yaml", &c, err, sizeof(err)), -EINVAL);
	ASSERT_STR_EQ(err, "long.yaml:1:4: a value is longer than 4096 bytes");

	/* not UTF-8 */
	ASSERT_EQ(pp_config_parse("a: \xff\n", 6, "bin.yaml", &c, err, sizeof(err)), -EINVAL);
	ASSERT_STR_EQ(err,
		      "bin.yaml:1:4: not a UTF-8 text file: invalid leading UTF-8 octet (0xFF)");
	ASSERT_EQ(pp_config_parse("a: b\0c\n", 7, "nul.yaml", &c, err, sizeof(err)), -EINVAL);
	ASSERT_STR_EQ(
	    err, "nul.yaml:1:5: not a UTF-8 text file: control characters are not allowed (0x0)");
	ASSERT_EQ(pp_config_parse("\xff\xfe", 2, "u16.yaml", &c, err, sizeof(err)), -EINVAL);
	ASSERT_STR_EQ(err, "u16.yaml: is UTF-16; save it as UTF-8");
	ASSERT_TRUE(c == NULL);
	free(text);
	return 0;
}

TEST_IMPL(config_too_many_units_is_refused_at_the_check)
{
	struct pp_config *c = NULL;
	char err[256], text[1024];
	size_t len = 0;

	/* four checks of 65535 ports pass the 200000-unit cap at the fourth */
	for (int i = 0; i < 4; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"- {name: c%d, plugin: tcp_probe, parameters: {address: a, "
					"tcp_ports: \"1-65535\"}}\n",
					i);
	ASSERT_EQ(pp_config_parse(text, len, "units.yaml", &c, err, sizeof(err)), -EINVAL);
	ASSERT_STR_EQ(err, "units.yaml:4:3: checks[3]: the checks expand to more than 200000 probe "
			   "units");
	return 0;
}

TEST_IMPL(config_durations_are_seconds_or_descending_units)
{
	static const struct {
		const char *s;
		double v;
	} good[] = {{"10", 10},         {"0.5", 0.5},     {"1.", 1},       {"500ms", 0.5},
		    {"15s", 15},        {"1m", 60},       {"1m30s", 90},   {"2h", 7200},
		    {"1h30m15s", 5415}, {"30d", 2592000}, {"1w", 604800},  {"1w2d", 777600},
		    {"1.5h", 5400},     {"0s", 0},        {"1s500ms", 1.5}};
	static const char *const bad[] = {"",      "abc",    "-1", "1e3",  "1x",   "1h1h",
					  "30s1m", "1 s",    " 1", "1h30", "0x10", "ms",
					  "1..2",  "1.2.3s", "5M", "1y"};
	double v;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = -1;
		ASSERT_EQ(pp_config_parse_duration(good[i].s, &v), 0);
		ASSERT_DBL_EQ(v, good[i].v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r;

		v = -1;
		r = pp_config_parse_duration(bad[i], &v);
		if (r != -EINVAL)
			fprintf(stderr, "accepted \"%s\"\n", bad[i]);
		ASSERT_EQ(r, -EINVAL);
		ASSERT_DBL_EQ(v, -1);
	}
	return 0;
}

TEST_IMPL(config_allowlist_entries_parse_or_say_why)
{
	static const struct {
		const char *s;
		enum pp_config_allow_kind kind;
		const char *name;
		unsigned prefix, pmin, pmax;
	} good[] = {
	    {"*", PP_CONFIG_ALLOW_ANY, NULL, 0, 1, 65535},
	    {"*:443", PP_CONFIG_ALLOW_ANY, NULL, 0, 443, 443},
	    {"10.0.0.0/8", PP_CONFIG_ALLOW_NET, NULL, 8, 1, 65535},
	    {"10.1.2.3/8:22", PP_CONFIG_ALLOW_NET, NULL, 8, 22, 22},
	    {"192.0.2.10", PP_CONFIG_ALLOW_NET, NULL, 32, 1, 65535},
	    {"192.0.2.10:8000-8100", PP_CONFIG_ALLOW_NET, NULL, 32, 8000, 8100},
	    {"2001:db8::/32", PP_CONFIG_ALLOW_NET, NULL, 32, 1, 65535},
	    {"2001:db8::1", PP_CONFIG_ALLOW_NET, NULL, 128, 1, 65535},
	    {"[2001:db8::1]:443", PP_CONFIG_ALLOW_NET, NULL, 128, 443, 443},
	    {"[2001:db8::/48]:443", PP_CONFIG_ALLOW_NET, NULL, 48, 443, 443},
	    {"[2001:db8::]/48:1-2", PP_CONFIG_ALLOW_NET, NULL, 48, 1, 2},
	    {"::ffff:10.0.0.0/104", PP_CONFIG_ALLOW_NET, NULL, 8, 1, 65535},
	    {"0.0.0.0/0", PP_CONFIG_ALLOW_NET, NULL, 0, 1, 65535},
	    {"DB.Example.com.", PP_CONFIG_ALLOW_NAME, "db.example.com", 0, 1, 65535},
	    {"localhost:6379", PP_CONFIG_ALLOW_NAME, "localhost", 0, 6379, 6379},
	    {"*.Example.COM:443", PP_CONFIG_ALLOW_SUFFIX, ".example.com", 0, 443, 443},
	};
	static const struct {
		const char *s, *why;
	} bad[] = {
	    {"", "is empty"},
	    {"10.0.0.0/33", "has a prefix length above 32"},
	    {"2001:db8::/129", "has a prefix length above 128"},
	    {"10.0.0.0/x", "has a prefix length that is not a number"},
	    {"10.0.0.0/", "has a prefix length that is not a number"},
	    {"host:0", "has a port that is not a number in 1..65535"},
	    {"host:65536", "has a port that is not a number in 1..65535"},
	    {"host:http", "has a port that is not a number in 1..65535"},
	    {"host:2-1", "has a reversed port range"},
	    {"host:1-", "has a port range that is not P1-P2 with ports in 1..65535"},
	    {"[2001:db8::1", "has '[' without ']'"},
	    {"[2001:db8::1]x", "has something after ']' that is not :PORT"},
	    {"[10.0.0.1]:80", "has brackets around something that is not an IPv6 address"},
	    {"a*.example.com", "may have '*' only as its whole first label (*.example.com)"},
	    {"*.*.example.com", "may have '*' only as its whole first label (*.example.com)"},
	    {"fe80::1%eth0", "has a scope id ('%'), which an entry cannot have"},
	    {"a b", "holds a space or a control character"},
	    {":80", "has no address or name before the port"},
	    {"1.2.3.4.5/8", "is not an address, a CIDR, a host name or *.domain"},
	    {"a..b", "has an empty label"},
	    {"::ffff:10.0.0.0/95", "has an IPv4-mapped prefix length outside 96..128"},
	};
	struct pp_config_allow a;
	const char *why;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		int r = pp_config_allow_parse(good[i].s, &a, &why);

		if (r != 0)
			fprintf(stderr, "refused \"%s\": %s\n", good[i].s, why);
		ASSERT_EQ(r, 0);
		ASSERT_EQ(a.kind, good[i].kind);
		ASSERT_STR_EQ(a.text, good[i].s);
		if (good[i].name)
			ASSERT_STR_EQ(a.name, good[i].name);
		else
			ASSERT_TRUE(a.name == NULL);
		if (a.kind == PP_CONFIG_ALLOW_NET)
			ASSERT_EQ(a.prefix, good[i].prefix);
		ASSERT_EQ(a.port_min, good[i].pmin);
		ASSERT_EQ(a.port_max, good[i].pmax);
		pp_config_allow_release(&a);
	}
	/* the network is stored with its host bits cleared */
	ASSERT_EQ(pp_config_allow_parse("10.1.2.3/8", &a, &why), 0);
	ASSERT_EQ(a.family, AF_INET);
	ASSERT_EQ(a.addr[0], 10);
	ASSERT_EQ(a.addr[1], 0);
	ASSERT_EQ(a.addr[3], 0);
	pp_config_allow_release(&a);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		ASSERT_EQ(pp_config_allow_parse(bad[i].s, &a, &why), -EINVAL);
		ASSERT_STR_EQ(why, bad[i].why);
	}
	return 0;
}

TEST_IMPL(config_allowlist_matching_follows_addresses_names_and_ports)
{
	static const struct {
		const char *entry, *host;
		unsigned port;
		const char *resolved; /* NULL: none */
		int want;
	} cases[] = {
	    /* CIDR: literal targets inside, outside, other family */
	    {"10.0.0.0/8", "10.1.2.3", 80, NULL, 1},
	    {"10.0.0.0/8", "11.1.2.3", 80, NULL, 0},
	    {"10.0.0.0/8", "::1", 80, NULL, 0},
	    {"10.0.0.0/8", "[::ffff:10.9.9.9]", 80, NULL, 1},
	    {"10.0.0.0/8", "::ffff:10.9.9.9", 80, NULL, 1},
	    {"::ffff:10.0.0.0/104", "10.2.3.4", 80, NULL, 1},
	    {"2001:db8::/32", "2001:db8:ffff::1", 443, NULL, 1},
	    {"2001:db8::/32", "[2001:db9::1]", 443, NULL, 0},
	    {"2001:db8::1", "2001:db8::1%lo", 443, NULL, 1},
	    {"0.0.0.0/0", "203.0.113.7", 1, NULL, 1},
	    {"192.0.2.10", "192.0.2.10", 22, NULL, 1},
	    {"192.0.2.10", "192.0.2.11", 22, NULL, 0},
	    /* CIDR: a name only through the address it was resolved to */
	    {"10.0.0.0/8", "db.internal", 5432, NULL, 0},
	    {"10.0.0.0/8", "db.internal", 5432, "10.0.0.5", 1},
	    {"10.0.0.0/8", "db.internal", 5432, "192.0.2.5", 0},
	    {"10.0.0.0/8", "db.internal", 5432, "::ffff:10.0.0.5", 1},
	    /* the resolved address is what is judged, even for a literal */
	    {"10.0.0.0/8", "10.0.0.1", 80, "192.0.2.1", 0},
	    /* names: exact, case and final dot ignored, never an address */
	    {"db.example.com", "db.example.com", 5432, NULL, 1},
	    {"db.example.com", "DB.EXAMPLE.COM.", 5432, NULL, 1},
	    {"db.example.com", "db.example.com.evil.net", 5432, NULL, 0},
	    {"db.example.com", "xdb.example.com", 5432, NULL, 0},
	    {"db.example.com", "db.example.com", 5432, "10.0.0.1", 1},
	    {"localhost", "127.0.0.1", 80, NULL, 0},
	    /* wildcards: any depth below, never the apex or a look-alike */
	    {"*.example.com", "a.example.com", 443, NULL, 1},
	    {"*.example.com", "a.b.example.com", 443, NULL, 1},
	    {"*.example.com", "A.Example.Com.", 443, NULL, 1},
	    {"*.example.com", "example.com", 443, NULL, 0},
	    {"*.example.com", "badexample.com", 443, NULL, 0},
	    {"*.example.com", "a.example.com.evil.net", 443, NULL, 0},
	    {"*.example.com", "", 443, NULL, 0},
	    /* ports */
	    {"*.example.com:443", "a.example.com", 443, NULL, 1},
	    {"*.example.com:443", "a.example.com", 80, NULL, 0},
	    {"10.0.0.0/8:8000-8010", "10.0.0.1", 8000, NULL, 1},
	    {"10.0.0.0/8:8000-8010", "10.0.0.1", 8010, NULL, 1},
	    {"10.0.0.0/8:8000-8010", "10.0.0.1", 8011, NULL, 0},
	    {"10.0.0.0/8:8000-8010", "10.0.0.1", 7999, NULL, 0},
	    {"[2001:db8::/32]:443", "2001:db8::5", 443, NULL, 1},
	    {"[2001:db8::/32]:443", "2001:db8::5", 444, NULL, 0},
	    /* "*": everything, on its ports */
	    {"*", "anything.example", 1, NULL, 1},
	    {"*", "10.0.0.1", 65535, NULL, 1},
	    {"*:22", "10.0.0.1", 23, NULL, 0},
	    {"*", "10.0.0.1", 0, NULL, 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pp_config_allow a;
		struct pp_addr addr;
		const char *why;
		int got;

		ASSERT_EQ(pp_config_allow_parse(cases[i].entry, &a, &why), 0);
		if (cases[i].resolved)
			ASSERT_EQ(pp_parse_ip(cases[i].resolved, cases[i].port, &addr, &why), 0);
		got = pp_config_allow_match(&a, cases[i].host, (uint16_t)cases[i].port,
					    cases[i].resolved ? &addr : NULL);
		if (got != cases[i].want)
			fprintf(stderr, "case %zu: %s vs %s:%u\n", i, cases[i].entry, cases[i].host,
				cases[i].port);
		ASSERT_EQ(got, cases[i].want);
		pp_config_allow_release(&a);
	}
	return 0;
}

TEST_IMPL(config_allowed_is_any_entry_of_the_file)
{
	static const char text[] = "server:\n"
				   "  probe_allowlist:\n"
				   "    - 127.0.0.0/8:9000-9100\n"
				   "    - \"*.lab.example\"\n"
				   "    - \"[::1]:443\"\n";
	struct pp_config *c;
	char err[256];

	c = parse(text, err, sizeof(err));
	ASSERT_TRUE(c != NULL);
	ASSERT_EQ(pp_config_allowed(c, "127.0.0.1", 9000, NULL), 1);
	ASSERT_EQ(pp_config_allowed(c, "127.0.0.1", 8999, NULL), 0);
	ASSERT_EQ(pp_config_allowed(c, "web.lab.example", 22, NULL), 1);
	ASSERT_EQ(pp_config_allowed(c, "lab.example", 22, NULL), 0);
	ASSERT_EQ(pp_config_allowed(c, "::1", 443, NULL), 1);
	ASSERT_EQ(pp_config_allowed(c, "[::1]", 443, NULL), 1);
	ASSERT_EQ(pp_config_allowed(c, "::1", 80, NULL), 0);
	ASSERT_EQ(pp_config_allowed(c, "8.8.8.8", 9000, NULL), 0);
	ASSERT_EQ(pp_config_allowed(NULL, "127.0.0.1", 9000, NULL), 0);
	pp_config_free(c);
	return 0;
}

TEST_IMPL(config_load_reads_files_and_says_why_it_cannot)
{
	char dir[] = "/tmp/pp_config_XXXXXX", path[64], err[512], want[600];
	struct pp_config *c = NULL;
	FILE *f;

	ASSERT_TRUE(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/checks.yaml", dir);
	f = fopen(path, "w");
	ASSERT_TRUE(f != NULL);
	fputs("- name: web\n  plugin: check_tcp_connection\n  parameters:\n    host: a\n"
	      "    port: 70000\n",
	      f);
	fclose(f);
	ASSERT_EQ(pp_config_load(path, &c, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:5:11: checks[0].parameters.port: 70000 is not in 1..65535",
		 path);
	ASSERT_STR_EQ(err, want);

	f = fopen(path, "w");
	ASSERT_TRUE(f != NULL);
	fputs("- name: web\n  plugin: check_tcp_connection\n  parameters: {host: a, port: 7}\n", f);
	fclose(f);
	ASSERT_EQ(pp_config_load(path, &c, err, sizeof(err)), 0);
	ASSERT_STR_EQ(c->source, path);
	ASSERT_EQ(c->checks[0].tcp.port, 7);
	pp_config_free(c);
	c = NULL;

	ASSERT_EQ(pp_config_load(dir, &c, err, sizeof(err)), -EISDIR);
	snprintf(want, sizeof(want), "%s: cannot read: Is a directory", dir);
	ASSERT_STR_EQ(err, want);
	unlink(path);
	ASSERT_EQ(pp_config_load(path, &c, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "%s: cannot read: No such file or directory", path);
	ASSERT_STR_EQ(err, want);
	ASSERT_TRUE(c == NULL);
	rmdir(dir);
	pp_config_free(NULL);
	return 0;
}

TEST_IMPL(config_shipped_examples_load)
{
	static const struct {
		const char *file;
		size_t checks, units, modules, allow;
	} examples[] = {
	    {"examples/checks-plugin.yaml", 5, 5, 2, 0},
	    {"examples/infrasonar.yaml", 3, 13, 2, 0},
	    {"examples/serve.yaml", 3, 6, 5, 5},
	};
	const char *src = getenv("PP_SRCDIR");
	char path[1024], err[512];

	for (size_t i = 0; i < sizeof(examples) / sizeof(examples[0]); i++) {
		struct pp_config *c = NULL;

		snprintf(path, sizeof(path), "%s/%s", src ? src : ".", examples[i].file);
		if (pp_config_load(path, &c, err, sizeof(err)) < 0)
			fprintf(stderr, "%s\n", err);
		ASSERT_TRUE(c != NULL);
		ASSERT_UEQ(c->nchecks, examples[i].checks);
		ASSERT_UEQ(c->nunits, examples[i].units);
		ASSERT_UEQ(c->nmodules, examples[i].modules);
		ASSERT_UEQ(c->server.nallow, examples[i].allow);
		pp_config_free(c);
	}
	return 0;
}

TEST_IMPL(config_check_names_take_utf8_and_refuse_slash_and_controls)
{
	static const char *const good[] = {"web", "Büro Drucker", "a:b", "x-1_2.3", "日本"};
	char text[256], err[256];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct pp_config *c;

		snprintf(text, sizeof(text),
			 "- {name: \"%s\", plugin: tls, parameters: {host: a}}\n", good[i]);
		c = parse(text, err, sizeof(err));
		ASSERT_TRUE(c != NULL);
		ASSERT_STR_EQ(c->checks[0].name, good[i]);
		ASSERT_STR_EQ(c->units[0].name, good[i]);
		pp_config_free(c);
	}
	/* U+0085 (NEL) is a control character too */
	ASSERT_TRUE(parse("- {name: \"a\\Nb\", plugin: tls, parameters: {host: a}}\n", err,
			  sizeof(err)) == NULL);
	ASSERT_STR_EQ(err, "checks.yaml:1:10: checks[0].name: \"a\\u0085b\" holds a control "
			   "character");
	ASSERT_TRUE(parse("- {name: \" web\", plugin: tls, parameters: {host: a}}\n", err,
			  sizeof(err)) == NULL);
	ASSERT_STR_EQ(err,
		      "checks.yaml:1:10: checks[0].name: \" web\" begins or ends with a space");
	return 0;
}
