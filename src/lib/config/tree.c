/* tree.c: libyaml's events to a small tree of positioned nodes.
 *
 * The event API (not libyaml's document loader) is used so that every cap is
 * enforced as the input is read: an alias is refused the moment it appears
 * (no billion laughs, no shared subtrees to walk twice), nesting stops at
 * PP_CONFIG_MAX_DEPTH with an explicit stack instead of recursion, and node
 * count and scalar length are bounded before anything is stored. Nodes live
 * in one array and scalar texts in one string block, so a tree of a million
 * nodes is two allocations that grow by doubling. Nothing is interpreted
 * here except YAML's null; the schema is the walker's business. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config/config_int.h"

/* Tags with a meaning we do not contradict (YAML's core schema); any other
 * tag is refused rather than ignored. */
static const char *const known_tags[] = {
    "tag:yaml.org,2002:str",  "tag:yaml.org,2002:int",  "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null", "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:map",
};

/* The position of byte off of text, for reader errors (libyaml gives only
 * the offset for those). Columns count characters, not bytes. */
static void offset_position(const char *text, size_t len, size_t off, unsigned *line, unsigned *col)
{
	unsigned l = 1, cl = 1;

	if (off > len)
		off = len;
	for (size_t i = 0; i < off; i++) {
		unsigned char b = (unsigned char)text[i];

		if (b == '\n') {
			l++;
			cl = 1;
		} else if ((b & 0xC0) != 0x80) {
			cl++;
		}
	}
	*line = l;
	*col = cl;
}

/* Describes libyaml's failure. */
static int yaml_failure(struct config_ctx *c, const yaml_parser_t *p, const char *text, size_t len)
{
	unsigned line, col;

	if (p->error == YAML_MEMORY_ERROR)
		return config_fail_errno(c, -ENOMEM, NULL, "out of memory");
	if (p->error == YAML_READER_ERROR) {
		offset_position(text, len, p->problem_offset, &line, &col);
		if (p->problem_value >= 0)
			return config_fail_at(c, line, col, "not a UTF-8 text file: %s (0x%X)",
					      p->problem ? p->problem : "unreadable",
					      (unsigned)p->problem_value);
		return config_fail_at(c, line, col, "not a UTF-8 text file: %s",
				      p->problem ? p->problem : "unreadable");
	}
	if (p->context)
		return config_fail_at(
		    c, (unsigned)p->problem_mark.line + 1, (unsigned)p->problem_mark.column + 1,
		    "YAML syntax error: %s (%s at %u:%u)",
		    p->problem ? p->problem : "unknown problem", p->context,
		    (unsigned)p->context_mark.line + 1, (unsigned)p->context_mark.column + 1);
	return config_fail_at(c, (unsigned)p->problem_mark.line + 1,
			      (unsigned)p->problem_mark.column + 1, "YAML syntax error: %s",
			      p->problem ? p->problem : "unknown problem");
}

/* Refuses a tag that is not one of the core schema's. */
static int check_tag(struct config_ctx *c, const yaml_char_t *tag, const yaml_mark_t *m)
{
	if (!tag)
		return 0;
	for (size_t i = 0; i < sizeof(known_tags) / sizeof(known_tags[0]); i++)
		if (!strcmp((const char *)tag, known_tags[i]))
			return 0;
	return config_fail_at(c, (unsigned)m->line + 1, (unsigned)m->column + 1,
			      "the tag %s is not supported",
			      config_show_str(c, (const char *)tag, strlen((const char *)tag)));
}

/* A new node at mark m, linked under parent (0: it is the root). Its index
 * in *ret. */
static int add_node(struct config_ctx *c, uint8_t type, const yaml_mark_t *m, uint32_t parent,
		    uint32_t *ret)
{
	struct ytree *t = &c->tree;
	struct ynode *n;
	uint32_t i;

	if (t->nnodes >= PP_CONFIG_MAX_NODES + 1)
		return config_fail_at(c, (unsigned)m->line + 1, (unsigned)m->column + 1,
				      "the file has more than %u YAML nodes", PP_CONFIG_MAX_NODES);
	if (t->nnodes >= t->capnodes) {
		uint32_t cap = t->capnodes ? t->capnodes * 2 : 256;
		struct ynode *nn;

		if (cap > PP_CONFIG_MAX_NODES + 1)
			cap = PP_CONFIG_MAX_NODES + 1;
		nn = realloc(t->nodes, (size_t)cap * sizeof(*nn));
		if (!nn)
			return config_fail_errno(c, -ENOMEM, NULL, "out of memory");
		t->nodes = nn;
		t->capnodes = cap;
	}
	i = t->nnodes++;
	n = &t->nodes[i];
	memset(n, 0, sizeof(*n));
	n->type = type;
	n->line = (uint32_t)m->line + 1;
	n->col = (uint32_t)m->column + 1;
	if (parent) {
		struct ynode *p = &t->nodes[parent];

		if (p->last)
			t->nodes[p->last].next = i;
		else
			p->first = i;
		p->last = i;
		p->count++;
	} else {
		t->root = i;
	}
	*ret = i;
	return 0;
}

/* Copies a scalar's text into the string block. */
static int add_string(struct config_ctx *c, struct ynode *n, const char *s, size_t len)
{
	struct ytree *t = &c->tree;

	if (t->capstrings - t->nstrings < len + 1) {
		size_t cap = t->capstrings ? t->capstrings : 4096;
		char *ns;

		while (cap - t->nstrings < len + 1)
			cap *= 2;
		ns = realloc(t->strings, cap);
		if (!ns)
			return config_fail_errno(c, -ENOMEM, NULL, "out of memory");
		t->strings = ns;
		t->capstrings = cap;
	}
	memcpy(t->strings + t->nstrings, s, len);
	t->strings[t->nstrings + len] = '\0';
	n->str = (uint32_t)t->nstrings;
	n->len = (uint32_t)len;
	t->nstrings += len + 1;
	return 0;
}

/* YAML's null: a plain "", "~", "null", "Null" or "NULL". */
static bool is_null(const char *s, size_t len)
{
	return len == 0 || (len == 1 && s[0] == '~') ||
	       (len == 4 &&
		(!memcmp(s, "null", 4) || !memcmp(s, "Null", 4) || !memcmp(s, "NULL", 4)));
}

/* One event; *done set at the end of the stream. */
static int on_event(struct config_ctx *c, const yaml_event_t *ev, uint32_t *stack, unsigned *depth,
		    unsigned *docs, bool *done)
{
	const yaml_mark_t *m = &ev->start_mark;
	uint32_t parent = *depth ? stack[*depth - 1] : 0, i;
	int r;

	switch (ev->type) {
	case YAML_STREAM_END_EVENT:
		*done = true;
		return 0;
	case YAML_DOCUMENT_START_EVENT:
		if ((*docs)++)
			return config_fail_at(c, (unsigned)m->line + 1, (unsigned)m->column + 1,
					      "a second YAML document starts here; the file must "
					      "hold one");
		return 0;
	case YAML_ALIAS_EVENT:
		return config_fail_at(c, (unsigned)m->line + 1, (unsigned)m->column + 1,
				      "aliases (*name) are not supported; write the value out");
	case YAML_SCALAR_EVENT: {
		const char *s = (const char *)ev->data.scalar.value;
		size_t len = ev->data.scalar.length;
		struct ynode *n;

		r = check_tag(c, ev->data.scalar.tag, m);
		if (r < 0)
			return r;
		if (len > PP_CONFIG_MAX_STRING)
			return config_fail_at(c, (unsigned)m->line + 1, (unsigned)m->column + 1,
					      "a value is longer than %u bytes",
					      PP_CONFIG_MAX_STRING);
		if (memchr(s, '\0', len))
			return config_fail_at(c, (unsigned)m->line + 1, (unsigned)m->column + 1,
					      "a value holds a NUL character");
		r = add_node(c, YNODE_SCALAR, m, parent, &i);
		if (r < 0)
			return r;
		n = &c->tree.nodes[i];
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		n->null = n->plain && !ev->data.scalar.tag && is_null(s, len);
		return add_string(c, n, s, len);
	}
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		r = check_tag(c,
			      ev->type == YAML_SEQUENCE_START_EVENT ? ev->data.sequence_start.tag
								    : ev->data.mapping_start.tag,
			      m);
		if (r < 0)
			return r;
		if (*depth >= PP_CONFIG_MAX_DEPTH)
			return config_fail_at(c, (unsigned)m->line + 1, (unsigned)m->column + 1,
					      "lists and mappings nest deeper than %u levels",
					      PP_CONFIG_MAX_DEPTH);
		r = add_node(c, ev->type == YAML_SEQUENCE_START_EVENT ? YNODE_SEQ : YNODE_MAP, m,
			     parent, &i);
		if (r < 0)
			return r;
		stack[(*depth)++] = i;
		return 0;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		if (*depth)
			(*depth)--;
		return 0;
	default:
		return 0;
	}
}

int config_tree_build(struct config_ctx *c, const char *text, size_t len)
{
	uint32_t stack[PP_CONFIG_MAX_DEPTH];
	unsigned depth = 0, docs = 0;
	bool done = false;
	yaml_parser_t p;
	yaml_event_t ev;
	int r = 0;

	/* libyaml would read a UTF-16 file (by its BOM); the format is UTF-8 */
	if (len >= 2 && (((unsigned char)text[0] == 0xFF && (unsigned char)text[1] == 0xFE) ||
			 ((unsigned char)text[0] == 0xFE && (unsigned char)text[1] == 0xFF)))
		return config_fail(c, NULL, "is UTF-16; save it as UTF-8");
	c->tree.nnodes = 1; /* index 0 means "no node" */
	if (!yaml_parser_initialize(&p))
		return config_fail_errno(c, -ENOMEM, NULL, "out of memory");
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	while (!done && r == 0) {
		if (!yaml_parser_parse(&p, &ev)) {
			r = yaml_failure(c, &p, text, len);
			break;
		}
		r = on_event(c, &ev, stack, &depth, &docs, &done);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return r;
}

void config_tree_release(struct ytree *t)
{
	free(t->nodes);
	free(t->strings);
	memset(t, 0, sizeof(*t));
}
