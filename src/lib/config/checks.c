/* checks.c: the checks of a configuration file, in the three plugin shapes,
 * and the probe units they expand to.
 *
 * A check is read in a fixed order: name, plugin (which decides the schema
 * of its parameters), parameters, then the keys every check may have
 * (interval, labels, down_after, up_after). Defaults are filled in before a
 * check is read, so a check that reads without error is complete. Names are
 * checked for uniqueness at the end with one sort (which also becomes the
 * lookup index), so 100,000 checks cost O(n log n), and the error names the
 * later of the two. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config/config_int.h"
#include "portprobe/parse.h"

/* Keys of a check. */
enum {
	CK_NAME,
	CK_PLUGIN,
	CK_PARAMETERS,
	CK_INTERVAL,
	CK_LABELS,
	CK_DOWN_AFTER,
	CK_UP_AFTER,
	CK_N,
};

static const struct config_key check_keys[] = {
    {"name", CK_NAME},         {"plugin", CK_PLUGIN}, {"parameters", CK_PARAMETERS},
    {"interval", CK_INTERVAL}, {"labels", CK_LABELS}, {"down_after", CK_DOWN_AFTER},
    {"up_after", CK_UP_AFTER},
};

static const struct config_hint check_hints[] = {
    {"host", "parameters go under \"parameters:\""},
    {"port", "parameters go under \"parameters:\""},
    {"address", "parameters go under \"parameters:\""},
    {"params", "the key is \"parameters\""},
};

/* Keys of parameters, for every plugin (each plugin allows a subset). */
enum {
	P_HOST,
	P_ADDRESS,
	P_PORT,
	P_TIMEOUT,
	P_SOURCE_PORT,
	P_ATTEMPTS,
	P_RETRY_DELAY,
	P_SOURCE_ADDRESS,
	P_FAMILY,
	P_TCP_PORTS,
	P_CERT_PORTS,
	P_SNI,
	P_STARTTLS,
	P_CA_FILE,
	P_CERT_ONLY,
	P_WARNING_DAYS,
	P_CRITICAL_DAYS,
	P_N,
};

static const struct config_key tcp_keys[] = {
    {"host", P_HOST},
    {"port", P_PORT},
    {"timeout", P_TIMEOUT},
    {"source_port", P_SOURCE_PORT},
    {"attempts", P_ATTEMPTS},
    {"retry_delay", P_RETRY_DELAY},
    {"source_address", P_SOURCE_ADDRESS},
    {"family", P_FAMILY},
};

static const struct config_hint tcp_hints[] = {
    {"address", "check_tcp_connection calls it \"host\""},
    {"tcp_ports", "that is a tcp_probe parameter"},
    {"certificate_ports", "that is a tcp_probe parameter"},
    {"sni", "that is a tls parameter"},
};

static const struct config_key probe_keys[] = {
    {"address", P_ADDRESS},
    {"tcp_ports", P_TCP_PORTS},
    {"checkPorts", P_TCP_PORTS},
    {"certificate_ports", P_CERT_PORTS},
    {"checkCertificatePorts", P_CERT_PORTS},
    {"timeout", P_TIMEOUT},
    {"family", P_FAMILY},
    {"ca_file", P_CA_FILE},
    {"warning_days", P_WARNING_DAYS},
    {"critical_days", P_CRITICAL_DAYS},
};

static const struct config_hint probe_hints[] = {
    {"host", "tcp_probe calls it \"address\""},
    {"port", "tcp_probe takes tcp_ports and certificate_ports"},
    {"ports", "tcp_probe takes tcp_ports and certificate_ports"},
};

static const struct config_key tls_keys[] = {
    {"host", P_HOST},
    {"port", P_PORT},
    {"sni", P_SNI},
    {"starttls", P_STARTTLS},
    {"ca_file", P_CA_FILE},
    {"cert_only", P_CERT_ONLY},
    {"warning_days", P_WARNING_DAYS},
    {"critical_days", P_CRITICAL_DAYS},
    {"timeout", P_TIMEOUT},
    {"family", P_FAMILY},
};

static const struct config_hint tls_hints[] = {
    {"address", "tls calls it \"host\""},
    {"server_name", "tls calls it \"sni\""},
    {"certificate_ports", "that is a tcp_probe parameter"},
};

/* Label names portprobe puts on its own series (or Prometheus gives a
 * meaning); a check's labels may not take them. */
static const char *const reserved_labels[] = {"check", "unit",     "host", "port",
					      "job",   "instance", "le",   "quantile"};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A check name: 1..PP_CONFIG_NAME_MAX bytes, printable, no '/', no space at
 * either end. */
static int read_name(struct config_ctx *c, const struct ynode *k, const struct ynode *v, char **out)
{
	size_t saved = config_push_key(c, config_str(c, k));
	const unsigned char *s;
	int r = config_want_scalar(c, v);

	if (r < 0)
		return r;
	s = (const unsigned char *)config_str(c, v);
	if (v->len == 0)
		return config_fail(c, v, "is empty");
	if (v->len > PP_CONFIG_NAME_MAX)
		return config_fail(c, v, "%s is longer than %u bytes", config_show(c, v),
				   PP_CONFIG_NAME_MAX);
	for (size_t i = 0; i < v->len; i++) {
		/* C0 and C1 controls, DEL, and the line and paragraph separators:
		 * none may end up in a metric label, a log line or a URL */
		if (s[i] < 0x20 || s[i] == 0x7f ||
		    (s[i] == 0xC2 && s[i + 1] >= 0x80 && s[i + 1] <= 0x9F) ||
		    (s[i] == 0xE2 && s[i + 1] == 0x80 && (s[i + 2] == 0xA8 || s[i + 2] == 0xA9)))
			return config_fail(c, v, "%s holds a control character", config_show(c, v));
		if (s[i] == '/')
			return config_fail(c, v,
					   "%s holds '/', which names cannot have (they are used "
					   "in URLs and unit names)",
					   config_show(c, v));
	}
	if (s[0] == ' ' || s[v->len - 1] == ' ')
		return config_fail(c, v, "%s begins or ends with a space", config_show(c, v));
	r = config_strdup(c, (const char *)s, out);
	if (r == 0)
		config_pop(c, saved);
	return r;
}

/* A Prometheus label name that is not reserved. */
static int check_label_name(struct config_ctx *c, const struct ynode *k)
{
	const char *s = config_str(c, k);

	if (k->type != YNODE_SCALAR || k->null)
		return config_fail(c, k, "a label name must be a string");
	if (!*s || !(s[0] == '_' || (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		goto bad;
	for (const char *p = s; *p; p++)
		if (!(*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9')))
			goto bad;
	if (k->len > 128)
		return config_fail(c, k, "label name %s is longer than 128 bytes",
				   config_show(c, k));
	if (!strncmp(s, "__", 2))
		return config_fail(c, k,
				   "label name %s is reserved (names starting with __ are "
				   "Prometheus')",
				   config_show(c, k));
	for (size_t i = 0; i < N(reserved_labels); i++)
		if (!strcmp(s, reserved_labels[i]))
			return config_fail(c, k, "label name %s is reserved (portprobe sets it)",
					   config_show(c, k));
	return 0;
bad:
	return config_fail(c, k, "%s is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)",
			   config_show(c, k));
}

/* labels: a mapping of names to strings. */
static int read_labels(struct config_ctx *c, const struct ynode *k, const struct ynode *v,
		       struct pp_config_check *chk)
{
	size_t saved;
	int r;

	if (config_enter(c, config_str(c, k), v, &saved))
		return 0;
	r = config_want_map(c, v);
	if (r < 0)
		return r;
	if (v->count / 2 > PP_CONFIG_MAX_LABELS)
		return config_fail(c, v, "more than %u labels", PP_CONFIG_MAX_LABELS);
	chk->labels = calloc(v->count / 2 + 1, sizeof(*chk->labels));
	if (!chk->labels)
		return config_fail_errno(c, -ENOMEM, NULL, "out of memory");
	for (const struct ynode *lk = config_first(c, v), *lv; lk; lk = config_next(c, lv)) {
		struct pp_config_label *l = &chk->labels[chk->nlabels];

		lv = config_next(c, lk);
		r = check_label_name(c, lk);
		if (r < 0)
			return r;
		for (size_t i = 0; i < chk->nlabels; i++)
			if (!strcmp(chk->labels[i].name, config_str(c, lk)))
				return config_fail(c, lk, "duplicate label %s", config_show(c, lk));
		chk->nlabels++;
		r = config_strdup(c, config_str(c, lk), &l->name);
		if (r == 0)
			r = config_get_string(c, lk, lv, true, &l->value);
		if (r < 0)
			return r;
	}
	config_pop(c, saved);
	return 0;
}

/* warning_days and critical_days into t. */
static int read_days(struct config_ctx *c, const struct ynode **kn, const struct ynode **vn,
		     struct pp_config_tls *t)
{
	unsigned w = (unsigned)t->warning_days, cr = (unsigned)t->critical_days;
	int r = config_get_uint(c, kn[P_WARNING_DAYS], vn[P_WARNING_DAYS], 0, 3650, &w);

	if (r == 0)
		r = config_get_uint(c, kn[P_CRITICAL_DAYS], vn[P_CRITICAL_DAYS], 0, 3650, &cr);
	if (r < 0)
		return r;
	if (cr > w) {
		const struct ynode *at =
		    vn[P_CRITICAL_DAYS] ? vn[P_CRITICAL_DAYS] : vn[P_WARNING_DAYS];
		const struct ynode *ak =
		    vn[P_CRITICAL_DAYS] ? kn[P_CRITICAL_DAYS] : kn[P_WARNING_DAYS];

		config_push_key(c, config_str(c, ak));
		return config_fail(c, at, "%u is more than warning_days %u", cr, w);
	}
	t->warning_days = (int)w;
	t->critical_days = (int)cr;
	return 0;
}

/* An address literal host against family: family only chooses among a
 * name's addresses, so an address of the other family could never be
 * reached (the check would fail at every run). */
static int check_host_family(struct config_ctx *c, const struct ynode **kn, const struct ynode **vn,
			     const char *host_key, const struct pp_config_check *chk)
{
	struct pp_addr a;
	const char *why;
	int hf;

	if (chk->family == AF_UNSPEC || pp_parse_ip(chk->host, 0, &a, &why) < 0)
		return 0;
	hf = pp_addr_family(&a);
	if (hf == chk->family)
		return 0;
	config_push_key(c, config_str(c, kn[P_FAMILY]));
	return config_fail(c, vn[P_FAMILY], "%s, but %s %s is an IPv%d address",
			   chk->family == AF_INET ? "ipv4" : "ipv6", host_key, chk->host,
			   hf == AF_INET ? 4 : 6);
}

/* source_address against family: an IPv4 source cannot reach an IPv6-only
 * check and the other way round. */
static int check_source_family(struct config_ctx *c, const struct ynode **kn,
			       const struct ynode **vn, const struct pp_config_check *chk)
{
	int sf = pp_addr_family(&chk->tcp.source);

	if (!chk->tcp.source.len || chk->family == AF_UNSPEC || sf == chk->family)
		return 0;
	config_push_key(c, config_str(c, kn[P_SOURCE_ADDRESS]));
	return config_fail(c, vn[P_SOURCE_ADDRESS], "%s is an IPv%d address but family is %s",
			   config_show(c, vn[P_SOURCE_ADDRESS]), sf == AF_INET ? 4 : 6,
			   chk->family == AF_INET ? "ipv4" : "ipv6");
}

/* parameters of a check_tcp_connection check. */
static int read_tcp(struct config_ctx *c, const struct ynode *map, struct pp_config_check *chk)
{
	const struct ynode *vn[P_N], *kn[P_N];
	int r = config_map(c, map, tcp_keys, N(tcp_keys), tcp_hints, N(tcp_hints), vn, kn, P_N);

	if (r < 0)
		return r;
	if (!vn[P_HOST])
		return config_missing(c, map, "host");
	if (!vn[P_PORT])
		return config_missing(c, map, "port");
	if ((r = config_get_host(c, kn[P_HOST], vn[P_HOST], &chk->host)) < 0 ||
	    (r = config_get_port(c, kn[P_PORT], vn[P_PORT], false, &chk->tcp.port)) < 0 ||
	    (r = config_get_seconds(c, kn[P_TIMEOUT], vn[P_TIMEOUT], 0.001, 3600, &chk->timeout)) <
		0 ||
	    (r = config_get_port(c, kn[P_SOURCE_PORT], vn[P_SOURCE_PORT], true,
				 &chk->tcp.source_port)) < 0 ||
	    (r = config_get_uint(c, kn[P_ATTEMPTS], vn[P_ATTEMPTS], 1, 100, &chk->tcp.attempts)) <
		0 ||
	    (r = config_get_seconds(c, kn[P_RETRY_DELAY], vn[P_RETRY_DELAY], 0, 3600,
				    &chk->tcp.retry_delay)) < 0 ||
	    (r = config_get_ip(c, kn[P_SOURCE_ADDRESS], vn[P_SOURCE_ADDRESS], &chk->tcp.source)) <
		0 ||
	    (r = config_get_family(c, kn[P_FAMILY], vn[P_FAMILY], &chk->family)) < 0)
		return r;
	if ((r = check_host_family(c, kn, vn, "host", chk)) < 0)
		return r;
	return check_source_family(c, kn, vn, chk);
}

/* parameters of a tcp_probe check. */
static int read_probe(struct config_ctx *c, const struct ynode *map, struct pp_config_check *chk)
{
	const struct ynode *vn[P_N], *kn[P_N];
	int r =
	    config_map(c, map, probe_keys, N(probe_keys), probe_hints, N(probe_hints), vn, kn, P_N);

	if (r < 0)
		return r;
	if (!vn[P_ADDRESS])
		return config_missing(c, map, "address");
	if ((r = config_get_host(c, kn[P_ADDRESS], vn[P_ADDRESS], &chk->host)) < 0 ||
	    (r = config_get_ports(c, kn[P_TCP_PORTS], vn[P_TCP_PORTS], &chk->tcp_ports)) < 0 ||
	    (r = config_get_ports(c, kn[P_CERT_PORTS], vn[P_CERT_PORTS], &chk->cert_ports)) < 0 ||
	    (r = config_get_seconds(c, kn[P_TIMEOUT], vn[P_TIMEOUT], 0.001, 3600, &chk->timeout)) <
		0 ||
	    (r = config_get_family(c, kn[P_FAMILY], vn[P_FAMILY], &chk->family)) < 0 ||
	    (r = config_get_string(c, kn[P_CA_FILE], vn[P_CA_FILE], false, &chk->tls.ca_file)) <
		0 ||
	    (r = read_days(c, kn, vn, &chk->tls)) < 0 ||
	    (r = check_host_family(c, kn, vn, "address", chk)) < 0)
		return r;
	if (chk->tcp_ports.n + chk->cert_ports.n == 0)
		return config_fail(c, map,
				   "tcp_probe needs at least one port in tcp_ports or "
				   "certificate_ports");
	return 0;
}

/* sni: a host name, or "" for none; an address cannot be a server name. */
static int read_sni(struct config_ctx *c, const struct ynode *k, const struct ynode *v,
		    struct pp_config_check *chk)
{
	const char *why;
	struct pp_addr a;
	size_t saved;
	int r;

	if (!v)
		return 0;
	saved = config_push_key(c, config_str(c, k));
	r = config_want_scalar(c, v);
	if (r < 0)
		return r;
	if (v->len) {
		if (pp_parse_ip(config_str(c, v), 0, &a, &why) == 0)
			return config_fail(c, v, "%s is an address; SNI takes a host name",
					   config_show(c, v));
		if (pp_parse_host(config_str(c, v), &why) < 0)
			return config_fail(c, v, "%s %s", config_show(c, v), why);
	}
	config_pop(c, saved);
	return config_strdup(c, config_str(c, v), &chk->tls.sni);
}

/* starttls: a protocol portprobe speaks, or "none". */
static int read_starttls(struct config_ctx *c, const struct ynode *k, const struct ynode *v,
			 struct pp_config_check *chk)
{
	size_t saved;
	int r;

	if (!v)
		return 0;
	saved = config_push_key(c, config_str(c, k));
	r = config_want_scalar(c, v);
	if (r < 0)
		return r;
	if (!pp_tls_starttls_known(config_str(c, v)))
		return config_fail(c, v,
				   "%s is not a STARTTLS protocol (expected none or one of: %s)",
				   config_show(c, v), pp_tls_starttls_names());
	config_pop(c, saved);
	return config_strdup(c, config_str(c, v), &chk->tls.starttls);
}

/* parameters of a tls check. */
static int read_tls(struct config_ctx *c, const struct ynode *map, struct pp_config_check *chk)
{
	const struct ynode *vn[P_N], *kn[P_N];
	int r = config_map(c, map, tls_keys, N(tls_keys), tls_hints, N(tls_hints), vn, kn, P_N);

	if (r < 0)
		return r;
	if (!vn[P_HOST])
		return config_missing(c, map, "host");
	if ((r = config_get_host(c, kn[P_HOST], vn[P_HOST], &chk->host)) < 0 ||
	    (r = config_get_port(c, kn[P_PORT], vn[P_PORT], false, &chk->tls.port)) < 0 ||
	    (r = read_sni(c, kn[P_SNI], vn[P_SNI], chk)) < 0 ||
	    (r = read_starttls(c, kn[P_STARTTLS], vn[P_STARTTLS], chk)) < 0 ||
	    (r = config_get_string(c, kn[P_CA_FILE], vn[P_CA_FILE], false, &chk->tls.ca_file)) <
		0 ||
	    (r = config_get_bool(c, kn[P_CERT_ONLY], vn[P_CERT_ONLY], &chk->tls.cert_only)) < 0 ||
	    (r = read_days(c, kn, vn, &chk->tls)) < 0 ||
	    (r = config_get_seconds(c, kn[P_TIMEOUT], vn[P_TIMEOUT], 0.001, 3600, &chk->timeout)) <
		0 ||
	    (r = config_get_family(c, kn[P_FAMILY], vn[P_FAMILY], &chk->family)) < 0 ||
	    (r = check_host_family(c, kn, vn, "host", chk)) < 0)
		return r;
	return 0;
}

/* The defaults of a check, before its keys are read. */
static void check_defaults(const struct pp_config *cfg, struct pp_config_check *chk)
{
	chk->timeout = PP_CONFIG_DEFAULT_TIMEOUT;
	chk->family = AF_UNSPEC;
	chk->interval = cfg->interval;
	chk->down_after = cfg->alerts.down_after;
	chk->up_after = cfg->alerts.up_after;
	chk->tcp.attempts = PP_CONFIG_DEFAULT_ATTEMPTS;
	chk->tcp.retry_delay = PP_CONFIG_DEFAULT_RETRY_DELAY;
	chk->tls.cert_only = true;
	chk->tls.warning_days = PP_CONFIG_DEFAULT_WARNING_DAYS;
	chk->tls.critical_days = PP_CONFIG_DEFAULT_CRITICAL_DAYS;
}

/* One check. */
static int read_check(struct config_ctx *c, const struct ynode *n, struct pp_config_check *chk)
{
	static const char *const plugins[] = {"check_tcp_connection", "tcp_probe", "tls"};
	static const enum pp_config_kind kinds[] = {PP_CONFIG_TCP, PP_CONFIG_TCP_PROBE,
						    PP_CONFIG_TLS};
	const struct ynode *vn[CK_N], *kn[CK_N];
	size_t saved, plugin = 0;
	int r;

	check_defaults(c->cfg, chk);
	chk->line = n->line;
	chk->column = n->col;
	r = config_map(c, n, check_keys, N(check_keys), check_hints, N(check_hints), vn, kn, CK_N);
	if (r < 0)
		return r;
	if (!vn[CK_NAME])
		return config_missing(c, n, "name");
	if (!vn[CK_PLUGIN])
		return config_missing(c, n, "plugin");
	if (!vn[CK_PARAMETERS])
		return config_missing(c, n, "parameters");
	r = read_name(c, kn[CK_NAME], vn[CK_NAME], &chk->name);
	if (r < 0)
		return r;
	saved = config_push_key(c, config_str(c, kn[CK_PLUGIN]));
	r = config_want_scalar(c, vn[CK_PLUGIN]);
	if (r < 0)
		return r;
	while (strcmp(config_str(c, vn[CK_PLUGIN]), plugins[plugin]))
		if (++plugin == N(plugins))
			return config_fail(c, vn[CK_PLUGIN],
					   "unknown plugin %s (expected check_tcp_connection, "
					   "tcp_probe or tls)",
					   config_show(c, vn[CK_PLUGIN]));
	config_pop(c, saved);
	chk->kind = kinds[plugin];
	if (chk->kind == PP_CONFIG_TLS)
		chk->tls.port = PP_CONFIG_DEFAULT_TLS_PORT;
	else if (chk->kind == PP_CONFIG_TCP_PROBE)
		chk->tls.cert_only = false; /* tcp-probe always enumerates (its sslEnumCiphers) */
	saved = config_push_key(c, config_str(c, kn[CK_PARAMETERS]));
	if (chk->kind == PP_CONFIG_TCP)
		r = read_tcp(c, vn[CK_PARAMETERS], chk);
	else if (chk->kind == PP_CONFIG_TCP_PROBE)
		r = read_probe(c, vn[CK_PARAMETERS], chk);
	else
		r = read_tls(c, vn[CK_PARAMETERS], chk);
	if (r < 0)
		return r;
	config_pop(c, saved);
	if ((r = config_get_seconds(c, kn[CK_INTERVAL], vn[CK_INTERVAL], 1, 7 * 86400,
				    &chk->interval)) < 0 ||
	    (r = config_get_uint(c, kn[CK_DOWN_AFTER], vn[CK_DOWN_AFTER], 1, 1000,
				 &chk->down_after)) < 0 ||
	    (r = config_get_uint(c, kn[CK_UP_AFTER], vn[CK_UP_AFTER], 1, 1000, &chk->up_after)) < 0)
		return r;
	if (vn[CK_LABELS])
		return read_labels(c, kn[CK_LABELS], vn[CK_LABELS], chk);
	return 0;
}

/* How many units chk expands to. */
static size_t unit_count(const struct pp_config_check *chk)
{
	if (chk->kind == PP_CONFIG_TCP_PROBE)
		return chk->tcp_ports.n + chk->cert_ports.n;
	return 1;
}

/* Refuses the first (in file order) check whose name an earlier one has. */
static int check_unique_names(struct config_ctx *c, const struct ynode *list)
{
	const struct pp_config *cfg = c->cfg;
	size_t dup = SIZE_MAX, first = 0;
	const struct ynode *n, *at = NULL;
	struct config_name_ref *refs;

	refs = malloc((cfg->nchecks + 1) * sizeof(*refs));
	if (!refs)
		return config_fail_errno(c, -ENOMEM, NULL, "out of memory");
	for (size_t i = 0; i < cfg->nchecks; i++) {
		refs[i].name = cfg->checks[i].name;
		refs[i].index = i;
	}
	qsort(refs, cfg->nchecks, sizeof(*refs), config_name_cmp);
	for (size_t i = 1; i < cfg->nchecks; i++)
		if (!strcmp(refs[i].name, refs[i - 1].name) && refs[i].index < dup) {
			dup = refs[i].index;
			first = refs[i - 1].index;
		}
	free(refs);
	if (dup == SIZE_MAX)
		return 0;
	/* the name node of check dup, for the position */
	n = config_first(c, list);
	for (size_t i = 0; i < dup; i++)
		n = config_next(c, n);
	for (const struct ynode *k = config_first(c, n); k; k = config_next(c, config_next(c, k)))
		if (!strcmp(config_str(c, k), "name"))
			at = config_next(c, k);
	config_pop(c, 0);
	config_push_key(c, "checks");
	config_push_index(c, dup);
	config_push_key(c, "name");
	return config_fail(c, at, "%s is already the name of checks[%zu] (line %u)",
			   config_show(c, at), first, cfg->checks[first].line);
}

int config_read_checks(struct config_ctx *c, const struct ynode *n)
{
	struct pp_config *cfg = c->cfg;
	size_t saved, i = 0, units = 0;
	int r;

	if (config_enter(c, "checks", n, &saved))
		return 0;
	r = config_want_seq(c, n);
	if (r < 0)
		return r;
	if (n->count > PP_CONFIG_MAX_CHECKS)
		return config_fail(c, n, "more than %u checks", PP_CONFIG_MAX_CHECKS);
	cfg->checks = calloc(n->count + 1, sizeof(*cfg->checks));
	if (!cfg->checks)
		return config_fail_errno(c, -ENOMEM, NULL, "out of memory");
	for (const struct ynode *e = config_first(c, n); e; e = config_next(c, e), i++) {
		size_t s2 = config_push_index(c, i);
		struct pp_config_check *chk = &cfg->checks[cfg->nchecks++];

		r = read_check(c, e, chk);
		if (r < 0)
			return r;
		units += unit_count(chk);
		if (units > PP_CONFIG_MAX_UNITS)
			return config_fail(c, e, "the checks expand to more than %u probe units",
					   PP_CONFIG_MAX_UNITS);
		config_pop(c, s2);
	}
	r = check_unique_names(c, n);
	if (r < 0)
		return r;
	config_pop(c, saved);
	return 0;
}

int config_build_units(struct config_ctx *c)
{
	struct pp_config *cfg = c->cfg;
	size_t total = 0;

	for (size_t i = 0; i < cfg->nchecks; i++)
		total += unit_count(&cfg->checks[i]);
	cfg->units = calloc(total + 1, sizeof(*cfg->units));
	if (!cfg->units)
		return config_fail_errno(c, -ENOMEM, NULL, "out of memory");
	for (size_t i = 0; i < cfg->nchecks; i++) {
		struct pp_config_check *chk = &cfg->checks[i];

		chk->unit_first = cfg->nunits;
		chk->unit_count = unit_count(chk);
		for (size_t j = 0; j < chk->unit_count; j++) {
			struct pp_config_unit *u = &cfg->units[cfg->nunits++];
			char name[PP_CONFIG_UNIT_NAME_MAX];

			u->check = i;
			if (chk->kind == PP_CONFIG_TCP) {
				u->kind = PP_CONFIG_UNIT_CONNECT;
				u->port = chk->tcp.port;
			} else if (chk->kind == PP_CONFIG_TLS) {
				u->kind = PP_CONFIG_UNIT_CERT;
				u->port = chk->tls.port;
			} else if (j < chk->tcp_ports.n) {
				u->kind = PP_CONFIG_UNIT_CONNECT;
				u->port = chk->tcp_ports.port[j];
			} else {
				u->kind = PP_CONFIG_UNIT_CERT;
				u->port = chk->cert_ports.port[j - chk->tcp_ports.n];
			}
			if (chk->kind == PP_CONFIG_TCP_PROBE)
				snprintf(name, sizeof(name), "%s/%s:%u", chk->name,
					 u->kind == PP_CONFIG_UNIT_CONNECT ? "tcp" : "cert",
					 (unsigned)u->port);
			else
				snprintf(name, sizeof(name), "%s", chk->name);
			if (config_strdup(c, name, &u->name) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}
