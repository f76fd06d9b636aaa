/* config_int.h: the pieces of the configuration loader (not public).
 *
 * The loader runs in two passes. tree.c turns libyaml's events into a small
 * tree of nodes (scalars, lists, mappings) with their positions, refusing
 * aliases, tags it does not know, a second document and anything over the
 * caps of config.h; nothing is interpreted yet. Then checks.c and sections.c
 * walk that tree against the schema, with the helpers of values.c, which
 * keep the key path of the node being read so that every error can name
 * "FILE:LINE:COLUMN: checks[2].parameters.port". The first error stops the
 * walk; the half-built pp_config is freed by the caller. */
#ifndef PP_CONFIG_INT_H
#define PP_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "portprobe/config.h"

enum ynode_type {
	YNODE_SCALAR = 1,
	YNODE_SEQ,
	YNODE_MAP,
};

/* One YAML node. Children are linked through indices into the tree's array
 * (0 is no node); a mapping's children alternate key, value. */
struct ynode {
	uint8_t type;   /* enum ynode_type */
	bool plain;     /* scalar written without quotes (so "null" can mean null) */
	bool null;      /* plain scalar "", "~", "null", "Null" or "NULL" */
	uint32_t line;  /* 1-based */
	uint32_t col;   /* 1-based, in characters */
	uint32_t first; /* first child */
	uint32_t last;  /* last child (while building) */
	uint32_t next;  /* next sibling */
	uint32_t count; /* children (a mapping: 2 per pair) */
	uint32_t str;   /* scalar: offset of its NUL-terminated text in the tree's strings */
	uint32_t len;   /* scalar: bytes, without the NUL */
};

/* The parsed document. */
struct ytree {
	struct ynode *nodes; /* nodes[0] unused; root at index root */
	uint32_t nnodes;     /* used, with nodes[0] */
	uint32_t capnodes;   /* allocated */
	char *strings;       /* every scalar's text, NUL-terminated, back to back */
	size_t nstrings;     /* bytes used */
	size_t capstrings;   /* bytes allocated */
	uint32_t root;       /* 0: the file holds no document */
};

#define CONFIG_PATH_MAX 320
#define CONFIG_SHOW_MAX 72 /* bytes of a value quoted in a message */

/* The walk's state. */
struct config_ctx {
	const char *display;                /* the file's name in messages */
	char *err;                          /* the caller's buffer; may be NULL */
	size_t errlen;                      /* its size */
	struct ytree tree;                  /* the document */
	struct pp_config *cfg;              /* being filled */
	char path[CONFIG_PATH_MAX];         /* key path of the node being read */
	size_t pathlen;                     /* strlen(path) */
	char show[4][CONFIG_SHOW_MAX + 16]; /* config_show()'s rotating buffers */
	unsigned nshow;                     /* next buffer */
};

/* One key a mapping may have. Aliases name the same slot. */
struct config_key {
	const char *name; /* as written in the file */
	int slot;         /* index into the value arrays */
};

/* Unsupported keys that deserve a better word than "unknown key". */
struct config_hint {
	const char *name; /* the key */
	const char *hint; /* added to the message, e.g. "tcp_probe calls it \"address\"" */
};

/* A name and the index of what it names, for sorting (config.c). */
struct config_name_ref {
	const char *name; /* borrowed */
	size_t index;     /* in the array the name comes from */
};

/* qsort order of config_name_ref: by name (strcmp), then by index. */
int config_name_cmp(const void *a, const void *b);

/* tree.c */
/* Builds c->tree from text[0..len) with libyaml. 0, or -EINVAL / -ENOMEM
 * with the error in c->err. */
int config_tree_build(struct config_ctx *c, const char *text, size_t len);
/* Frees the tree. */
void config_tree_release(struct ytree *t);

/* values.c: navigation */
const struct ynode *config_node(const struct config_ctx *c, uint32_t i);
const struct ynode *config_first(const struct config_ctx *c, const struct ynode *n);
const struct ynode *config_next(const struct config_ctx *c, const struct ynode *n);
const char *config_str(const struct config_ctx *c, const struct ynode *n);

/* values.c: errors. Each writes "FILE:LINE:COLUMN: PATH: message" (at n;
 * n NULL: no position) and returns -EINVAL; config_fail_errno returns e. */
int config_fail(struct config_ctx *c, const struct ynode *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int config_fail_errno(struct config_ctx *c, int e, const struct ynode *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The same at a 1-based line and column (0: no position). */
int config_fail_at(struct config_ctx *c, unsigned line, unsigned col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The value of n for a message: numbers as written, anything else quoted
 * and escaped, long values cut. Valid until four more calls. */
const char *config_show(struct config_ctx *c, const struct ynode *n);
/* The same for a C string. */
const char *config_show_str(struct config_ctx *c, const char *s, size_t n);

/* values.c: the key path. Each push returns the length to pop back to. */
size_t config_push_key(struct config_ctx *c, const char *key);
size_t config_push_index(struct config_ctx *c, size_t i);
void config_pop(struct config_ctx *c, size_t len);
/* Pushes key for reading section v (*saved: the length to pop back to), and
 * returns true when v is null (`key:` with nothing, `~`): an empty section
 * or list, with nothing to read and the key popped again. */
bool config_enter(struct config_ctx *c, const char *key, const struct ynode *v, size_t *saved);

/* values.c: shapes. */
/* n must be a mapping (NULL or null: an empty one is not accepted). */
int config_want_map(struct config_ctx *c, const struct ynode *n);
/* n must be a list. */
int config_want_seq(struct config_ctx *c, const struct ynode *n);
/* n must be a scalar with a value. */
int config_want_scalar(struct config_ctx *c, const struct ynode *n);
/* Reads mapping map against keys[0..nkeys): vals[slot] and keyn[slot] get
 * the value and key node of each key present (NULL when absent; both arrays
 * have nslots entries). Unknown keys (with a suggestion or a hint), duplicate
 * keys (aliases included) and keys that are not strings are errors. */
int config_map(struct config_ctx *c, const struct ynode *map, const struct config_key *keys,
	       size_t nkeys, const struct config_hint *hints, size_t nhints,
	       const struct ynode **vals, const struct ynode **keyn, size_t nslots);
/* "missing required key" at map. */
int config_missing(struct config_ctx *c, const struct ynode *map, const char *key);

/* values.c: scalars. Each reads the value v of key k (pushing k on the
 * path for its messages); when v is NULL (key absent) the output is left
 * alone and 0 returned. */
int config_get_string(struct config_ctx *c, const struct ynode *k, const struct ynode *v,
		      bool allow_empty, char **out);
int config_get_uint(struct config_ctx *c, const struct ynode *k, const struct ynode *v,
		    unsigned min, unsigned max, unsigned *out);
int config_get_port(struct config_ctx *c, const struct ynode *k, const struct ynode *v,
		    bool allow_zero, uint16_t *out);
int config_get_seconds(struct config_ctx *c, const struct ynode *k, const struct ynode *v,
		       double min, double max, double *out);
int config_get_bool(struct config_ctx *c, const struct ynode *k, const struct ynode *v, bool *out);
/* One of names[0..n) (exact), its index in *out. */
int config_get_choice(struct config_ctx *c, const struct ynode *k, const struct ynode *v,
		      const char *const *names, size_t n, int *out);
/* A host name or address literal (pp_parse_host). */
int config_get_host(struct config_ctx *c, const struct ynode *k, const struct ynode *v, char **out);
/* An address literal (pp_parse_ip), no port. */
int config_get_ip(struct config_ctx *c, const struct ynode *k, const struct ynode *v,
		  struct pp_addr *out);
/* ipv4 | ipv6 | any, as AF_INET / AF_INET6 / AF_UNSPEC. */
int config_get_family(struct config_ctx *c, const struct ynode *k, const struct ynode *v, int *out);
/* A port list: a list of ports or a string in nmap's -p syntax. */
int config_get_ports(struct config_ctx *c, const struct ynode *k, const struct ynode *v,
		     struct pp_ports *out);
/* Copies s or fails with -ENOMEM (reported). */
int config_strdup(struct config_ctx *c, const char *s, char **out);

/* checks.c */
/* The list of checks at n (a list; NULL or null: none). */
int config_read_checks(struct config_ctx *c, const struct ynode *n);
/* Builds cfg->units from cfg->checks. */
int config_build_units(struct config_ctx *c);

/* sections.c */
int config_read_server(struct config_ctx *c, const struct ynode *n);
int config_read_store(struct config_ctx *c, const struct ynode *n);
int config_read_alerts(struct config_ctx *c, const struct ynode *n);
int config_read_modules(struct config_ctx *c, const struct ynode *n);
/* Sets the defaults of server, store and alerts (before reading them). */
int config_default_sections(struct config_ctx *c);
/* Appends the builtin modules the file did not define. */
int config_add_builtin_modules(struct config_ctx *c);

#endif
