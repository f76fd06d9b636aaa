/* config.c: the configuration loader's entry points: load, parse, free,
 * lookups, and the options a probe unit runs with.
 *
 * pp_config_parse reads the whole text into a tree (tree.c), decides the
 * form from the root (a list is the plugin's file of checks; a mapping is
 * the full form with checks: and the server's sections), reads the sections
 * in dependency order (interval and alerts first, because checks inherit
 * from them), then adds the builtin /probe modules, expands checks into
 * units and sorts names for the lookups. Any failure frees the half-built
 * configuration: the caller gets a complete configuration or none. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config_int.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Names sorted for binary search. */
struct pp_config_index {
	struct config_name_ref *checks; /* nchecks entries */
	struct config_name_ref *units;  /* nunits entries */
};

int config_name_cmp(const void *a, const void *b)
{
	const struct config_name_ref *x = a, *y = b;
	int d = strcmp(x->name, y->name);

	return d ? d : (x->index > y->index) - (x->index < y->index);
}

/* The entry of refs[0..n) called name, or -1. */
static long find_ref(const struct config_name_ref *refs, size_t n, const char *name)
{
	size_t lo = 0, hi = n;

	if (!name)
		return -1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = strcmp(name, refs[mid].name);

		if (d == 0)
			return (long)refs[mid].index;
		if (d < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

static int build_index(struct config_ctx *c)
{
	struct pp_config *cfg = c->cfg;
	struct pp_config_index *x = calloc(1, sizeof(*x));

	if (!x)
		return config_fail_errno(c, -ENOMEM, NULL, "out of memory");
	cfg->index = x;
	x->checks = malloc((cfg->nchecks + 1) * sizeof(*x->checks));
	x->units = malloc((cfg->nunits + 1) * sizeof(*x->units));
	if (!x->checks || !x->units)
		return config_fail_errno(c, -ENOMEM, NULL, "out of memory");
	for (size_t i = 0; i < cfg->nchecks; i++)
		x->checks[i] = (struct config_name_ref){cfg->checks[i].name, i};
	for (size_t i = 0; i < cfg->nunits; i++)
		x->units[i] = (struct config_name_ref){cfg->units[i].name, i};
	qsort(x->checks, cfg->nchecks, sizeof(*x->checks), config_name_cmp);
	qsort(x->units, cfg->nunits, sizeof(*x->units), config_name_cmp);
	return 0;
}

enum { TOP_CHECKS, TOP_INTERVAL, TOP_SERVER, TOP_STORE, TOP_ALERTS, TOP_MODULES, TOP_N };

/* The mapping form. */
static int read_top(struct config_ctx *c, const struct ynode *root)
{
	static const struct config_key keys[] = {
	    {"checks", TOP_CHECKS}, {"interval", TOP_INTERVAL}, {"server", TOP_SERVER},
	    {"store", TOP_STORE},   {"alerts", TOP_ALERTS},     {"modules", TOP_MODULES},
	};
#define AS_ITEM "a check is an item of a list: start it with \"- \", under checks:"
	static const struct config_hint hints[] = {
	    {"name", AS_ITEM},
	    {"plugin", AS_ITEM},
	    {"parameters", AS_ITEM},
	    {"check", "the key is \"checks\""},
	    {"targets", "the key is \"checks\""},
	};
#undef AS_ITEM
	const struct ynode *vn[TOP_N], *kn[TOP_N];
	int r;

	c->cfg->mapping_form = true;
	r = config_map(c, root, keys, N(keys), hints, N(hints), vn, kn, TOP_N);
	if (r < 0)
		return r;
	if ((r = config_get_seconds(c, kn[TOP_INTERVAL], vn[TOP_INTERVAL], 1, 7 * 86400,
				    &c->cfg->interval)) < 0 ||
	    (vn[TOP_ALERTS] && (r = config_read_alerts(c, vn[TOP_ALERTS])) < 0) ||
	    (vn[TOP_CHECKS] && (r = config_read_checks(c, vn[TOP_CHECKS])) < 0) ||
	    (vn[TOP_SERVER] && (r = config_read_server(c, vn[TOP_SERVER])) < 0) ||
	    (vn[TOP_STORE] && (r = config_read_store(c, vn[TOP_STORE])) < 0) ||
	    (vn[TOP_MODULES] && (r = config_read_modules(c, vn[TOP_MODULES])) < 0))
		return r;
	return 0;
}

static int parse(struct config_ctx *c, const char *text, size_t len)
{
	const struct ynode *root;
	int r;

	if (len > PP_CONFIG_MAX_BYTES)
		return config_fail_errno(c, -EFBIG, NULL, "is larger than %u bytes",
					 PP_CONFIG_MAX_BYTES);
	c->cfg = calloc(1, sizeof(*c->cfg));
	if (!c->cfg)
		return config_fail_errno(c, -ENOMEM, NULL, "out of memory");
	if ((r = config_strdup(c, c->display, &c->cfg->source)) < 0 ||
	    (r = config_default_sections(c)) < 0 || (r = config_tree_build(c, text, len)) < 0)
		return r;
	root = config_node(c, c->tree.root);
	if (!root || (root->type == YNODE_SCALAR && root->null))
		return config_fail(
		    c, NULL, "is empty (expected a list of checks, or a mapping with checks:)");
	if (root->type == YNODE_SEQ)
		r = config_read_checks(c, root);
	else if (root->type == YNODE_MAP)
		r = read_top(c, root);
	else
		r = config_fail(c, root,
				"expected a list of checks, or a mapping with checks:, found %s",
				config_show(c, root));
	if (r == 0)
		r = config_add_builtin_modules(c);
	if (r == 0)
		r = config_build_units(c);
	if (r == 0)
		r = build_index(c);
	return r;
}

int pp_config_parse(const char *text, size_t len, const char *display_name, struct pp_config **ret,
		    char *err, size_t errlen)
{
	struct config_ctx *c = calloc(1, sizeof(*c));
	int r;

	if (err && errlen)
		err[0] = '\0';
	if (!c) {
		if (err && errlen)
			snprintf(err, errlen, "%s: out of memory",
				 display_name ? display_name : "");
		return -ENOMEM;
	}
	c->display = display_name ? display_name : "config";
	c->err = err;
	c->errlen = errlen;
	r = parse(c, len ? text : "", len);
	config_tree_release(&c->tree);
	if (r < 0)
		pp_config_free(c->cfg);
	else
		*ret = c->cfg;
	free(c);
	return r;
}

int pp_config_load(const char *path, struct pp_config **ret, char *err, size_t errlen)
{
	char *buf = NULL, ebuf[128];
	size_t len = 0, cap = 0;
	struct stat st;
	int fd, r = 0;

	if (err && errlen)
		err[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		goto fail;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		r = -EISDIR;
		goto fail;
	}
	/* read at most one byte more than allowed, to tell "too large" */
	for (;;) {
		ssize_t n;

		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			char *nb;

			if (ncap > PP_CONFIG_MAX_BYTES + 1)
				ncap = PP_CONFIG_MAX_BYTES + 1;
			if (ncap == cap)
				break;
			nb = realloc(buf, ncap);
			if (!nb) {
				r = -ENOMEM;
				goto fail;
			}
			buf = nb;
			cap = ncap;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	r = pp_config_parse(buf, len, path, ret, err, errlen);
	free(buf);
	return r;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	if (err && errlen)
		snprintf(err, errlen, "%s: cannot read: %s", path,
			 strerror_r(-r, ebuf, sizeof(ebuf)));
	return r;
}

/* Frees what a check owns. */
static void check_release(struct pp_config_check *chk)
{
	free(chk->name);
	free(chk->host);
	for (size_t i = 0; i < chk->nlabels; i++) {
		free(chk->labels[i].name);
		free(chk->labels[i].value);
	}
	free(chk->labels);
	free(chk->tls.sni);
	free(chk->tls.starttls);
	free(chk->tls.ca_file);
	pp_ports_free(&chk->tcp_ports);
	pp_ports_free(&chk->cert_ports);
}

void pp_config_free(struct pp_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nchecks; i++)
		check_release(&c->checks[i]);
	free(c->checks);
	for (size_t i = 0; i < c->nunits; i++)
		free(c->units[i].name);
	free(c->units);
	free(c->server.listen);
	free(c->server.auth.username);
	free(c->server.auth.password);
	free(c->server.auth.bearer_token);
	free(c->server.tls_cert_file);
	free(c->server.tls_key_file);
	for (size_t i = 0; i < c->server.nallow; i++)
		pp_config_allow_release(&c->server.allow[i]);
	free(c->server.allow);
	free(c->store.path);
	free(c->alerts.webhook);
	free(c->alerts.command);
	for (size_t i = 0; i < c->nmodules; i++) {
		free(c->modules[i].name);
		free(c->modules[i].ca_file);
		free(c->modules[i].server_name);
	}
	free(c->modules);
	if (c->index) {
		free(c->index->checks);
		free(c->index->units);
		free(c->index);
	}
	free(c->source);
	free(c);
}

const struct pp_config_check *pp_config_check_find(const struct pp_config *c, const char *name)
{
	long i;

	if (!c || !c->index)
		return NULL;
	i = find_ref(c->index->checks, c->nchecks, name);
	return i < 0 ? NULL : &c->checks[i];
}

const struct pp_config_unit *pp_config_unit_find(const struct pp_config *c, const char *name)
{
	long i;

	if (!c || !c->index)
		return NULL;
	i = find_ref(c->index->units, c->nunits, name);
	return i < 0 ? NULL : &c->units[i];
}

const struct pp_config_module *pp_config_module_find(const struct pp_config *c, const char *name)
{
	if (!c || !name)
		return NULL;
	for (size_t i = 0; i < c->nmodules; i++)
		if (!strcmp(c->modules[i].name, name))
			return &c->modules[i];
	return NULL;
}

void pp_config_unit_check_opts(const struct pp_config *c, const struct pp_config_unit *u,
			       struct pp_check_opts *o)
{
	const struct pp_config_check *chk = &c->checks[u->check];

	pp_check_opts_init(o);
	o->host = chk->host;
	o->port = u->port;
	o->timeout = chk->timeout;
	o->attempts = chk->tcp.attempts;
	o->retry_delay = chk->tcp.retry_delay;
	o->source = chk->tcp.source;
	o->source_port = chk->tcp.source_port;
	o->family = chk->family;
}

void pp_config_unit_tls_opts(const struct pp_config *c, const struct pp_config_unit *u,
			     struct pp_tls_opts *o)
{
	const struct pp_config_check *chk = &c->checks[u->check];

	pp_tls_opts_init(o);
	o->sni = chk->tls.sni;
	o->starttls = chk->tls.starttls;
	o->cert_only = chk->tls.cert_only;
	o->ca_file = chk->tls.ca_file;
	o->timeout_ns = (uint64_t)(chk->timeout * 1e9);
	o->family = chk->family;
}
