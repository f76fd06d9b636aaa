/* sections.c: the top-level sections of the mapping form besides checks:
 * server, store, alerts and modules.
 *
 * Each section is optional and starts from its defaults, so a file that
 * leaves a section out and a file that writes it empty load the same.
 * Modules follow blackbox_exporter's layout: the TCP options may sit in the
 * module itself or under its `tcp:` key (as in a blackbox.yml), but not in
 * both. Options blackbox has and portprobe does not (other probers,
 * query_response, client certificates) are refused by name rather than
 * ignored, so a copied module never silently probes something else. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "config/config_int.h"
#include "portprobe/parse.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

int config_default_sections(struct config_ctx *c)
{
	struct pp_config *cfg = c->cfg;
	const char *why;

	cfg->interval = PP_CONFIG_DEFAULT_INTERVAL;
	if (config_strdup(c, PP_CONFIG_DEFAULT_LISTEN, &cfg->server.listen) < 0 ||
	    config_strdup(c, PP_CONFIG_DEFAULT_STORE_PATH, &cfg->store.path) < 0)
		return -ENOMEM;
	pp_parse_ip("127.0.0.1", 9115, &cfg->server.listen_addr, &why);
	cfg->server.max_request_bytes = PP_CONFIG_DEFAULT_MAX_REQUEST;
	cfg->server.request_timeout = PP_CONFIG_DEFAULT_REQUEST_TIME;
	cfg->server.max_concurrency = PP_CONFIG_DEFAULT_CONCURRENCY;
	cfg->store.retention = PP_CONFIG_DEFAULT_RETENTION;
	cfg->alerts.webhook_timeout = PP_CONFIG_DEFAULT_WEBHOOK_TIME;
	cfg->alerts.down_after = PP_CONFIG_DEFAULT_DOWN_AFTER;
	cfg->alerts.up_after = PP_CONFIG_DEFAULT_UP_AFTER;
	return 0;
}

/* Pushes k and checks that v is a mapping; a null v is an empty section
 * (*empty set, path popped). */
static int enter_section(struct config_ctx *c, const struct ynode *k, const struct ynode *v,
			 size_t *saved, bool *empty)
{
	*empty = config_enter(c, config_str(c, k), v, saved);
	return *empty ? 0 : config_want_map(c, v);
}

/* ---- server ------------------------------------------------------------------------ */

/* listen: "ADDR:PORT", "[ADDR6]:PORT" or ":PORT" (every address). */
int pp_config_parse_listen(const char *text, struct pp_addr *ret, const char **why)
{
	const char *colon = strrchr(text, ':');
	char host[INET6_ADDRSTRLEN + 8];
	size_t hl;
	uint16_t port;

	if (!colon || (text[0] != '[' && strchr(text, ':') != colon) ||
	    (text[0] == '[' && colon[-1] != ']')) {
		*why = "is not ADDRESS:PORT (e.g. 127.0.0.1:9115, [::1]:9115 or :9115 for every "
		       "address)";
		return -EINVAL;
	}
	if (pp_parse_port(colon + 1, 0, &port, why) < 0) {
		*why = "has a port that is not a number in 1..65535";
		return -EINVAL;
	}
	hl = (size_t)(colon - text);
	if (hl >= sizeof(host)) {
		*why = "has an address that is too long";
		return -EINVAL;
	}
	memcpy(host, text, hl);
	host[hl] = '\0';
	if (hl == 0) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ret->sa;

		memset(ret, 0, sizeof(*ret));
		in6->sin6_family = AF_INET6;
		in6->sin6_addr = in6addr_any;
		in6->sin6_port = htons(port);
		ret->len = sizeof(*in6);
		return 0;
	}
	if (pp_parse_ip(host, port, ret, why) < 0) {
		*why = "has an address that is not an IP literal (listen takes an address, not a "
		       "host name)";
		return -EINVAL;
	}
	return 0;
}

static int read_listen(struct config_ctx *c, const struct ynode *k, const struct ynode *v)
{
	struct pp_config_server *s = &c->cfg->server;
	const char *text, *why = NULL;
	size_t saved;
	int r;

	if (!v)
		return 0;
	saved = config_push_key(c, config_str(c, k));
	r = config_want_scalar(c, v);
	if (r < 0)
		return r;
	text = config_str(c, v);
	if (pp_config_parse_listen(text, &s->listen_addr, &why) < 0)
		return config_fail(c, v, "%s %s", config_show(c, v), why);
	config_pop(c, saved);
	return config_strdup(c, text, &s->listen);
}

enum { AU_BASIC, AU_BEARER, AU_N };
enum { BA_USERNAME, BA_PASSWORD, BA_N };

static int read_auth(struct config_ctx *c, const struct ynode *k, const struct ynode *v)
{
	static const struct config_key keys[] = {{"basic", AU_BASIC}, {"bearer_token", AU_BEARER}};
	static const struct config_key basic_keys[] = {{"username", BA_USERNAME},
						       {"password", BA_PASSWORD}};
	static const struct config_hint hints[] = {
	    {"bearer", "the key is \"bearer_token\""},
	    {"username", "put username and password under \"basic:\""},
	    {"password", "put username and password under \"basic:\""},
	};
	struct pp_config_auth *a = &c->cfg->server.auth;
	const struct ynode *vn[AU_N], *kn[AU_N], *bv[BA_N], *bk[BA_N];
	size_t saved;
	bool empty;
	int r;

	if (!v)
		return 0;
	r = enter_section(c, k, v, &saved, &empty);
	if (r < 0 || empty)
		return r;
	r = config_map(c, v, keys, N(keys), hints, N(hints), vn, kn, AU_N);
	if (r < 0)
		return r;
	if (vn[AU_BASIC] && vn[AU_BEARER])
		return config_fail(c, kn[AU_BEARER], "basic and bearer_token exclude each other");
	if (vn[AU_BASIC]) {
		size_t s2 = config_push_key(c, config_str(c, kn[AU_BASIC]));

		r = config_map(c, vn[AU_BASIC], basic_keys, N(basic_keys), NULL, 0, bv, bk, BA_N);
		if (r < 0)
			return r;
		if (!bv[BA_USERNAME])
			return config_missing(c, vn[AU_BASIC], "username");
		if (!bv[BA_PASSWORD])
			return config_missing(c, vn[AU_BASIC], "password");
		r = config_get_string(c, bk[BA_USERNAME], bv[BA_USERNAME], false, &a->username);
		if (r == 0 && strchr(a->username, ':')) {
			config_push_key(c, "username");
			return config_fail(c, bv[BA_USERNAME],
					   "%s holds ':', which basic auth cannot carry",
					   config_show(c, bv[BA_USERNAME]));
		}
		if (r == 0)
			r = config_get_string(c, bk[BA_PASSWORD], bv[BA_PASSWORD], false,
					      &a->password);
		if (r < 0)
			return r;
		config_pop(c, s2);
	}
	r = config_get_string(c, kn[AU_BEARER], vn[AU_BEARER], false, &a->bearer_token);
	if (r < 0)
		return r;
	if (a->bearer_token) {
		for (const char *p = a->bearer_token; *p; p++)
			if ((unsigned char)*p <= ' ' || *p == 0x7f) {
				config_push_key(c, "bearer_token");
				return config_fail(c, vn[AU_BEARER],
						   "holds a space or a control character, which an "
						   "HTTP header cannot carry");
			}
	}
	config_pop(c, saved);
	return 0;
}

enum { TL_CERT, TL_KEY, TL_N };

static int read_server_tls(struct config_ctx *c, const struct ynode *k, const struct ynode *v)
{
	static const struct config_key keys[] = {{"cert_file", TL_CERT}, {"key_file", TL_KEY}};
	struct pp_config_server *s = &c->cfg->server;
	const struct ynode *vn[TL_N], *kn[TL_N];
	size_t saved;
	bool empty;
	int r;

	if (!v)
		return 0;
	r = enter_section(c, k, v, &saved, &empty);
	if (r < 0 || empty)
		return r;
	r = config_map(c, v, keys, N(keys), NULL, 0, vn, kn, TL_N);
	if (r < 0)
		return r;
	if (!vn[TL_CERT])
		return config_missing(c, v, "cert_file");
	if (!vn[TL_KEY])
		return config_missing(c, v, "key_file");
	r = config_get_string(c, kn[TL_CERT], vn[TL_CERT], false, &s->tls_cert_file);
	if (r == 0)
		r = config_get_string(c, kn[TL_KEY], vn[TL_KEY], false, &s->tls_key_file);
	if (r == 0)
		config_pop(c, saved);
	return r;
}

static int read_allowlist(struct config_ctx *c, const struct ynode *k, const struct ynode *v)
{
	struct pp_config_server *s = &c->cfg->server;
	size_t saved, i = 0;
	int r;

	if (!v)
		return 0;
	if (config_enter(c, config_str(c, k), v, &saved))
		return 0;
	r = config_want_seq(c, v);
	if (r < 0)
		return r;
	if (v->count > PP_CONFIG_MAX_ALLOW)
		return config_fail(c, v, "more than %u entries", PP_CONFIG_MAX_ALLOW);
	s->allow = calloc(v->count + 1, sizeof(*s->allow));
	if (!s->allow)
		return config_fail_errno(c, -ENOMEM, NULL, "out of memory");
	for (const struct ynode *e = config_first(c, v); e; e = config_next(c, e), i++) {
		size_t s2 = config_push_index(c, i);
		const char *why = NULL;

		r = config_want_scalar(c, e);
		if (r < 0)
			return r;
		r = pp_config_allow_parse(config_str(c, e), &s->allow[s->nallow], &why);
		if (r == -ENOMEM)
			return config_fail_errno(c, r, NULL, "out of memory");
		if (r < 0)
			return config_fail(c, e, "%s %s", config_show(c, e),
					   why ? why : "is not an entry");
		s->nallow++;
		config_pop(c, s2);
	}
	config_pop(c, saved);
	return 0;
}

enum { LI_BYTES, LI_TIMEOUT, LI_CONCURRENCY, LI_N };

static int read_limits(struct config_ctx *c, const struct ynode *k, const struct ynode *v)
{
	static const struct config_key keys[] = {{"max_request_bytes", LI_BYTES},
						 {"request_timeout", LI_TIMEOUT},
						 {"max_concurrency", LI_CONCURRENCY}};
	struct pp_config_server *s = &c->cfg->server;
	const struct ynode *vn[LI_N], *kn[LI_N];
	unsigned bytes = (unsigned)s->max_request_bytes;
	size_t saved;
	bool empty;
	int r;

	if (!v)
		return 0;
	r = enter_section(c, k, v, &saved, &empty);
	if (r < 0 || empty)
		return r;
	r = config_map(c, v, keys, N(keys), NULL, 0, vn, kn, LI_N);
	if (r < 0)
		return r;
	if ((r = config_get_uint(c, kn[LI_BYTES], vn[LI_BYTES], 256, 1u << 20, &bytes)) < 0 ||
	    (r = config_get_seconds(c, kn[LI_TIMEOUT], vn[LI_TIMEOUT], 0.1, 300,
				    &s->request_timeout)) < 0 ||
	    (r = config_get_uint(c, kn[LI_CONCURRENCY], vn[LI_CONCURRENCY], 1, 65536,
				 &s->max_concurrency)) < 0)
		return r;
	s->max_request_bytes = bytes;
	config_pop(c, saved);
	return 0;
}

enum { SV_LISTEN, SV_AUTH, SV_TLS, SV_ALLOW, SV_LIMITS, SV_N };

int config_read_server(struct config_ctx *c, const struct ynode *n)
{
	static const struct config_key keys[] = {{"listen", SV_LISTEN},
						 {"auth", SV_AUTH},
						 {"tls", SV_TLS},
						 {"probe_allowlist", SV_ALLOW},
						 {"limits", SV_LIMITS}};
	static const struct config_hint hints[] = {
	    {"allowlist", "the key is \"probe_allowlist\""},
	    {"listen_address", "the key is \"listen\""},
	    {"basic_auth", "use auth: {basic: {username, password}}"},
	};
	const struct ynode *vn[SV_N], *kn[SV_N];
	size_t saved;
	int r;

	if (config_enter(c, "server", n, &saved))
		return 0;
	r = config_map(c, n, keys, N(keys), hints, N(hints), vn, kn, SV_N);
	if (r < 0)
		return r;
	if ((r = read_listen(c, kn[SV_LISTEN], vn[SV_LISTEN])) < 0 ||
	    (r = read_auth(c, kn[SV_AUTH], vn[SV_AUTH])) < 0 ||
	    (r = read_server_tls(c, kn[SV_TLS], vn[SV_TLS])) < 0 ||
	    (r = read_allowlist(c, kn[SV_ALLOW], vn[SV_ALLOW])) < 0 ||
	    (r = read_limits(c, kn[SV_LIMITS], vn[SV_LIMITS])) < 0)
		return r;
	config_pop(c, saved);
	return 0;
}

/* ---- store ------------------------------------------------------------------------- */

enum { ST_PATH, ST_RETENTION, ST_DISABLED, ST_N };

int config_read_store(struct config_ctx *c, const struct ynode *n)
{
	static const struct config_key keys[] = {
	    {"path", ST_PATH}, {"retention", ST_RETENTION}, {"disabled", ST_DISABLED}};
	struct pp_config_store *s = &c->cfg->store;
	const struct ynode *vn[ST_N], *kn[ST_N];
	size_t saved;
	int r;

	if (config_enter(c, "store", n, &saved))
		return 0;
	r = config_map(c, n, keys, N(keys), NULL, 0, vn, kn, ST_N);
	if (r < 0)
		return r;
	if ((r = config_get_string(c, kn[ST_PATH], vn[ST_PATH], false, &s->path)) < 0 ||
	    (r = config_get_seconds(c, kn[ST_RETENTION], vn[ST_RETENTION], 60, 3650.0 * 86400,
				    &s->retention)) < 0 ||
	    (r = config_get_bool(c, kn[ST_DISABLED], vn[ST_DISABLED], &s->disabled)) < 0)
		return r;
	config_pop(c, saved);
	return 0;
}

/* ---- alerts ------------------------------------------------------------------------ */

/* webhook: an http:// or https:// URL with a host, no spaces or controls. */
static int read_webhook(struct config_ctx *c, const struct ynode *k, const struct ynode *v)
{
	const char *u, *host;
	size_t saved;
	int r;

	if (!v)
		return 0;
	saved = config_push_key(c, config_str(c, k));
	r = config_want_scalar(c, v);
	if (r < 0)
		return r;
	u = config_str(c, v);
	if (!strncasecmp(u, "http://", 7))
		host = u + 7;
	else if (!strncasecmp(u, "https://", 8))
		host = u + 8;
	else
		return config_fail(c, v, "%s is not an http:// or https:// URL", config_show(c, v));
	if (!*host || strchr("/?#:", *host))
		return config_fail(c, v, "%s has no host", config_show(c, v));
	for (const char *p = u; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return config_fail(c, v, "%s holds a space or a control character",
					   config_show(c, v));
	if (v->len > 2048)
		return config_fail(c, v, "is longer than 2048 bytes");
	config_pop(c, saved);
	return config_strdup(c, u, &c->cfg->alerts.webhook);
}

enum { AL_WEBHOOK, AL_WEBHOOK_TIMEOUT, AL_COMMAND, AL_DOWN, AL_UP, AL_N };

int config_read_alerts(struct config_ctx *c, const struct ynode *n)
{
	static const struct config_key keys[] = {{"webhook", AL_WEBHOOK},
						 {"webhook_timeout", AL_WEBHOOK_TIMEOUT},
						 {"command", AL_COMMAND},
						 {"down_after", AL_DOWN},
						 {"up_after", AL_UP}};
	static const struct config_hint hints[] = {
	    {"webhook_url", "the key is \"webhook\""},
	    {"url", "the key is \"webhook\""},
	    {"exec", "the key is \"command\""},
	};
	struct pp_config_alerts *a = &c->cfg->alerts;
	const struct ynode *vn[AL_N], *kn[AL_N];
	size_t saved;
	int r;

	if (config_enter(c, "alerts", n, &saved))
		return 0;
	r = config_map(c, n, keys, N(keys), hints, N(hints), vn, kn, AL_N);
	if (r < 0)
		return r;
	if ((r = read_webhook(c, kn[AL_WEBHOOK], vn[AL_WEBHOOK])) < 0 ||
	    (r = config_get_seconds(c, kn[AL_WEBHOOK_TIMEOUT], vn[AL_WEBHOOK_TIMEOUT], 0.001, 300,
				    &a->webhook_timeout)) < 0 ||
	    (r = config_get_string(c, kn[AL_COMMAND], vn[AL_COMMAND], false, &a->command)) < 0 ||
	    (r = config_get_uint(c, kn[AL_DOWN], vn[AL_DOWN], 1, 1000, &a->down_after)) < 0 ||
	    (r = config_get_uint(c, kn[AL_UP], vn[AL_UP], 1, 1000, &a->up_after)) < 0)
		return r;
	config_pop(c, saved);
	return 0;
}

/* ---- modules ----------------------------------------------------------------------- */

enum {
	MO_PROBER,
	MO_TIMEOUT,
	MO_PREFERRED,
	MO_FALLBACK,
	MO_TLS,
	MO_TLS_CONFIG,
	MO_SOURCE,
	MO_TCP,
	MO_N,
};

static const struct config_key module_keys[] = {
    {"prober", MO_PROBER},
    {"timeout", MO_TIMEOUT},
    {"preferred_ip_protocol", MO_PREFERRED},
    {"ip_protocol_fallback", MO_FALLBACK},
    {"tls", MO_TLS},
    {"tls_config", MO_TLS_CONFIG},
    {"source_ip_address", MO_SOURCE},
    {"tcp", MO_TCP},
};

/* The keys a blackbox module's tcp: section may hold here. */
static const struct config_key module_tcp_keys[] = {
    {"preferred_ip_protocol", MO_PREFERRED}, {"ip_protocol_fallback", MO_FALLBACK}, {"tls", MO_TLS},
    {"tls_config", MO_TLS_CONFIG},           {"source_ip_address", MO_SOURCE},
};

static const struct config_hint module_hints[] = {
    {"http", "portprobe has only the tcp and tls probers"},
    {"icmp", "portprobe has only the tcp and tls probers"},
    {"dns", "portprobe has only the tcp and tls probers"},
    {"grpc", "portprobe has only the tcp and tls probers"},
    {"query_response", "portprobe does not support query_response"},
};

enum { TC_SKIP, TC_CA, TC_SERVER_NAME, TC_N };

static int read_tls_config(struct config_ctx *c, const struct ynode *k, const struct ynode *v,
			   struct pp_config_module *m)
{
	static const struct config_key keys[] = {
	    {"insecure_skip_verify", TC_SKIP}, {"ca_file", TC_CA}, {"server_name", TC_SERVER_NAME}};
	static const struct config_hint hints[] = {
	    {"cert_file", "client certificates are not supported"},
	    {"key_file", "client certificates are not supported"},
	    {"min_version", "portprobe does not support min_version"},
	    {"max_version", "portprobe does not support max_version"},
	};
	const struct ynode *vn[TC_N], *kn[TC_N];
	size_t saved;
	bool empty;
	int r;

	if (!v)
		return 0;
	r = enter_section(c, k, v, &saved, &empty);
	if (r < 0 || empty)
		return r;
	r = config_map(c, v, keys, N(keys), hints, N(hints), vn, kn, TC_N);
	if (r < 0)
		return r;
	if ((r = config_get_bool(c, kn[TC_SKIP], vn[TC_SKIP], &m->insecure_skip_verify)) < 0 ||
	    (r = config_get_string(c, kn[TC_CA], vn[TC_CA], false, &m->ca_file)) < 0 ||
	    (r = config_get_host(c, kn[TC_SERVER_NAME], vn[TC_SERVER_NAME], &m->server_name)) < 0)
		return r;
	config_pop(c, saved);
	return 0;
}

/* A module name: [A-Za-z0-9_.-], 1..PP_CONFIG_MODULE_MAX bytes. */
static int check_module_name(struct config_ctx *c, const struct ynode *k)
{
	const char *s = config_str(c, k);

	if (k->type != YNODE_SCALAR || k->null)
		return config_fail(c, k, "a module name must be a string");
	if (!*s || k->len > PP_CONFIG_MODULE_MAX ||
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") !=
		k->len)
		return config_fail(c, k, "%s is not a module name (1..%u of A-Z a-z 0-9 _ . -)",
				   config_show(c, k), PP_CONFIG_MODULE_MAX);
	return 0;
}

/* One module, name k, body v. */
static int read_module(struct config_ctx *c, const struct ynode *k, const struct ynode *v,
		       struct pp_config_module *m)
{
	static const char *const probers[] = {"tcp", "tls"};
	static const char *const protocols[] = {"ip4", "ip6"};
	const struct ynode *vn[MO_N], *kn[MO_N], *tv[MO_N], *tk[MO_N];
	int r, prober = 0, proto = 1;
	size_t s2;

	m->preferred_family = AF_INET6;
	m->ip_protocol_fallback = true;
	m->line = k->line;
	m->column = k->col;
	r = config_map(c, v, module_keys, N(module_keys), module_hints, N(module_hints), vn, kn,
		       MO_N);
	if (r < 0)
		return r;
	if (vn[MO_TCP] && !(vn[MO_TCP]->type == YNODE_SCALAR && vn[MO_TCP]->null)) {
		s2 = config_push_key(c, "tcp");

		r = config_map(c, vn[MO_TCP], module_tcp_keys, N(module_tcp_keys), module_hints,
			       N(module_hints), tv, tk, MO_N);
		if (r < 0)
			return r;
		for (int i = 0; i < MO_N; i++) {
			if (!tv[i])
				continue;
			if (vn[i])
				return config_fail(c, tk[i],
						   "%s is also set in the module (line %u)",
						   config_show(c, tk[i]), kn[i]->line);
			vn[i] = tv[i];
			kn[i] = tk[i];
		}
		config_pop(c, s2);
	}
	if (!vn[MO_PROBER])
		return config_missing(c, v, "prober");
	s2 = config_push_key(c, "prober");
	r = config_want_scalar(c, vn[MO_PROBER]);
	if (r < 0)
		return r;
	while (strcmp(config_str(c, vn[MO_PROBER]), probers[prober]))
		if (++prober == (int)N(probers))
			return config_fail(c, vn[MO_PROBER],
					   "%s is not a prober portprobe has (expected tcp or tls)",
					   config_show(c, vn[MO_PROBER]));
	config_pop(c, s2);
	m->prober = prober == 0 ? PP_CONFIG_PROBER_TCP : PP_CONFIG_PROBER_TLS;
	if ((r = config_get_seconds(c, kn[MO_TIMEOUT], vn[MO_TIMEOUT], 0.001, 3600, &m->timeout)) <
		0 ||
	    (r = config_get_choice(c, kn[MO_PREFERRED], vn[MO_PREFERRED], protocols, N(protocols),
				   &proto)) < 0 ||
	    (r = config_get_bool(c, kn[MO_FALLBACK], vn[MO_FALLBACK], &m->ip_protocol_fallback)) <
		0 ||
	    (r = config_get_bool(c, kn[MO_TLS], vn[MO_TLS], &m->tls)) < 0 ||
	    (r = read_tls_config(c, kn[MO_TLS_CONFIG], vn[MO_TLS_CONFIG], m)) < 0 ||
	    (r = config_get_ip(c, kn[MO_SOURCE], vn[MO_SOURCE], &m->source)) < 0)
		return r;
	m->preferred_family = proto == 0 ? AF_INET : AF_INET6;
	return 0;
}

int config_read_modules(struct config_ctx *c, const struct ynode *n)
{
	struct pp_config *cfg = c->cfg;
	size_t saved;
	int r;

	if (config_enter(c, "modules", n, &saved))
		return 0;
	r = config_want_map(c, n);
	if (r < 0)
		return r;
	if (n->count / 2 > PP_CONFIG_MAX_MODULES)
		return config_fail(c, n, "more than %u modules", PP_CONFIG_MAX_MODULES);
	cfg->modules = calloc(n->count / 2 + 3, sizeof(*cfg->modules));
	if (!cfg->modules)
		return config_fail_errno(c, -ENOMEM, NULL, "out of memory");
	for (const struct ynode *k = config_first(c, n), *v; k; k = config_next(c, v)) {
		struct pp_config_module *m = &cfg->modules[cfg->nmodules];
		size_t s2;

		v = config_next(c, k);
		r = check_module_name(c, k);
		if (r < 0)
			return r;
		for (size_t i = 0; i < cfg->nmodules; i++)
			if (!strcmp(cfg->modules[i].name, config_str(c, k)))
				return config_fail(c, k, "duplicate module %s (first at line %u)",
						   config_show(c, k), cfg->modules[i].line);
		cfg->nmodules++;
		r = config_strdup(c, config_str(c, k), &m->name);
		if (r < 0)
			return r;
		s2 = config_push_key(c, m->name);
		r = read_module(c, k, v, m);
		if (r < 0)
			return r;
		config_pop(c, s2);
	}
	config_pop(c, saved);
	return 0;
}

int config_add_builtin_modules(struct config_ctx *c)
{
	static const struct {
		const char *name;
		bool tls;
	} builtins[] = {{"tcp_connect", false}, {"tls", true}};
	struct pp_config *cfg = c->cfg;

	if (!cfg->modules) {
		cfg->modules = calloc(N(builtins), sizeof(*cfg->modules));
		if (!cfg->modules)
			return config_fail_errno(c, -ENOMEM, NULL, "out of memory");
	}
	/* read_modules allocated room for two more */
	for (size_t b = 0; b < N(builtins); b++) {
		struct pp_config_module *m;
		bool defined = false;

		for (size_t i = 0; i < cfg->nmodules; i++)
			defined |= !strcmp(cfg->modules[i].name, builtins[b].name);
		if (defined)
			continue;
		m = &cfg->modules[cfg->nmodules++];
		memset(m, 0, sizeof(*m));
		if (config_strdup(c, builtins[b].name, &m->name) < 0)
			return -ENOMEM;
		m->prober = PP_CONFIG_PROBER_TCP;
		m->preferred_family = AF_INET6;
		m->ip_protocol_fallback = true;
		m->tls = builtins[b].tls;
		m->builtin = true;
	}
	return 0;
}
