/* fuzz_config.c: the configuration loader on arbitrary bytes. Beyond not
 * crashing (ASan/UBSan in the libFuzzer build), a refusal must be one line
 * that starts with the file's name, and an accepted configuration must hold
 * what the loader promises: named, unique checks with ports in range and
 * intervals of at least 1 s, units that add up and are found by name, the
 * builtin modules, sane allowlist entries. Short inputs are also tried as
 * one allowlist entry, and every accepted entry is matched against a few
 * targets. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "portprobe/config.h"
#include "portprobe/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DISPLAY "fuzz.yaml"

/* Aborts unless name is a valid check name. */
static void check_name(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > PP_CONFIG_NAME_MAX || strchr(name, '/') || name[0] == ' ' ||
	    name[n - 1] == ' ')
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			abort();
}

/* Aborts unless p is ascending, unique, within 1..65535. */
static void check_ports(const struct pp_ports *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->port[i] == 0 || (i && p->port[i - 1] >= p->port[i]))
			abort();
}

static void check_label(const struct pp_config_label *l)
{
	const char *s = l->name;

	if (!s || !*s || !l->value || !strncmp(s, "__", 2))
		abort();
	if (!(s[0] == '_' || (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		abort();
	for (; *s; s++)
		if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9')))
			abort();
}

static void check_check(const struct pp_config *c, const struct pp_config_check *chk)
{
	check_name(chk->name);
	if (pp_config_check_find(c, chk->name) != chk)
		abort();
	if (!chk->host || !*chk->host || chk->line == 0 || chk->column == 0)
		abort();
	if (chk->interval < 1 || !(chk->timeout > 0) || chk->down_after < 1 || chk->up_after < 1)
		abort();
	if (chk->tls.critical_days > chk->tls.warning_days || chk->tcp.attempts < 1)
		abort();
	for (size_t i = 0; i < chk->nlabels; i++) {
		check_label(&chk->labels[i]);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(chk->labels[i].name, chk->labels[j].name))
				abort();
	}
	switch (chk->kind) {
	case PP_CONFIG_TCP:
		if (chk->tcp.port == 0 || chk->unit_count != 1)
			abort();
		break;
	case PP_CONFIG_TLS:
		if (chk->tls.port == 0 || chk->unit_count != 1)
			abort();
		break;
	case PP_CONFIG_TCP_PROBE:
		check_ports(&chk->tcp_ports);
		check_ports(&chk->cert_ports);
		if (chk->unit_count != chk->tcp_ports.n + chk->cert_ports.n || chk->unit_count == 0)
			abort();
		break;
	default:
		abort();
	}
}

static void check_units(const struct pp_config *c)
{
	size_t next = 0;

	for (size_t i = 0; i < c->nchecks; i++) {
		if (c->checks[i].unit_first != next)
			abort();
		next += c->checks[i].unit_count;
	}
	if (next != c->nunits)
		abort();
	for (size_t i = 0; i < c->nunits; i++) {
		const struct pp_config_unit *u = &c->units[i];

		if (u->check >= c->nchecks || u->port == 0 || !u->name ||
		    strlen(u->name) >= PP_CONFIG_UNIT_NAME_MAX)
			abort();
		if (pp_config_unit_find(c, u->name) != u)
			abort();
	}
}

/* Matches entry a against a few targets: only for crashes and for the rule
 * that a name never matches an address entry and the other way round. */
static void try_match(const struct pp_config_allow *a)
{
	static const char *const hosts[] = {"10.1.2.3",      "[2001:db8::1]", "::ffff:10.1.2.3",
					    "a.example.com", "EXAMPLE.COM.",  "",
					    "fe80::1%lo"};
	struct pp_addr addr;
	const char *why;

	if (a->port_min < 1 || a->port_min > a->port_max)
		abort();
	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		bool m = pp_config_allow_match(a, hosts[i], 443, NULL);

		if (m && a->kind == PP_CONFIG_ALLOW_NET && i >= 3 && i <= 5)
			abort();
		if (m && (a->kind == PP_CONFIG_ALLOW_NAME || a->kind == PP_CONFIG_ALLOW_SUFFIX) &&
		    (i <= 2 || i == 6))
			abort();
	}
	if (pp_parse_ip("192.0.2.1", 80, &addr, &why) == 0)
		(void)pp_config_allow_match(a, "a.example.com", 80, &addr);
}

static void check_config(const struct pp_config *c)
{
	if (!c->source || strcmp(c->source, DISPLAY) || c->interval < 1)
		abort();
	for (size_t i = 0; i < c->nchecks; i++)
		check_check(c, &c->checks[i]);
	check_units(c);
	if (!pp_config_module_find(c, "tcp_connect") || !pp_config_module_find(c, "tls"))
		abort();
	for (size_t i = 0; i < c->nmodules; i++)
		if (pp_config_module_find(c, c->modules[i].name) != &c->modules[i])
			abort();
	if (!c->server.listen || !c->server.listen_addr.len || !c->store.path)
		abort();
	if (!c->server.auth.username != !c->server.auth.password ||
	    (c->server.auth.username && c->server.auth.bearer_token))
		abort();
	if (!c->server.tls_cert_file != !c->server.tls_key_file)
		abort();
	for (size_t i = 0; i < c->server.nallow; i++)
		try_match(&c->server.allow[i]);
	(void)pp_config_allowed(c, "a.example.com", 443, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pp_config *c = NULL;
	char err[512];
	int r;

	memset(err, 'x', sizeof(err));
	r = pp_config_parse((const char *)data, size, DISPLAY, &c, err, sizeof(err));
	if (r == 0) {
		check_config(c);
		pp_config_free(c);
	} else {
		if (r != -EINVAL && r != -ENOMEM && r != -EFBIG)
			abort();
		if (c || strlen(err) >= sizeof(err) || strncmp(err, DISPLAY ":", 10) ||
		    strchr(err, '\n') || strlen(err) < 12)
			abort();
	}
	if (size <= 300) {
		struct pp_config_allow a;
		const char *why = NULL;
		char s[301];

		memcpy(s, data, size);
		s[size] = '\0';
		r = pp_config_allow_parse(s, &a, &why);
		if (r == 0) {
			try_match(&a);
			pp_config_allow_release(&a);
		} else if (!why || !*why) {
			abort();
		}
	}
	return 0;
}
