/* listen_out.c: the four formats of `portprobe listen`: text, JSON, CSV and
 * Prometheus exposition.
 *
 * JSON, CSV and Prometheus give one record per socket, so a SO_REUSEPORT
 * group is its members, tied by "reuseport_group". The text table is for
 * eyes: a group is one row whose queue column lists each member's queue,
 * and holders with one name share one entry ("nginx[100,101]"). Column
 * widths are measured over all rows first, so the table is built as an
 * array of cells and printed in a second pass. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "portprobe/listen.h"
#include "portprobe/output.h"
#include "portprobe/probe_metrics.h"
#include "portprobe/ports.h"

/* "127.0.0.1:80", "[::1]:80", "127.0.0.1%lo:80", "[::]%eth0:80" into buf. */
static const char *endpoint_text(const struct pp_listener *l, char *buf, size_t len)
{
	char addr[64], dev[IF_NAMESIZE + 16] = "";

	pp_listen_addr_text(l, addr, sizeof(addr));
	if (l->ifname[0])
		snprintf(dev, sizeof(dev), "%%%s", l->ifname);
	else if (l->ifindex)
		snprintf(dev, sizeof(dev), "%%%u", l->ifindex);
	if (l->family == AF_INET6)
		snprintf(buf, len, "[%s]%s:%u", addr, dev, l->port);
	else
		snprintf(buf, len, "%s%s:%u", addr, dev, l->port);
	return buf;
}

static int dual_stack(const struct pp_listener *l)
{
	return l->family == AF_INET6 && l->v6only == 0;
}

static const char *owners_name(enum pp_listen_owners o)
{
	switch (o) {
	case PP_OWNERS_NOT_LOOKED:
		return "not-looked";
	case PP_OWNERS_FOUND:
		return "found";
	case PP_OWNERS_NO_PERMISSION:
		return "no-permission";
	case PP_OWNERS_NONE:
		return "none";
	}
	return "none";
}

/* The service name of a port, or NULL when numeric output was asked for or
 * the port has none. */
static const char *service_of(const struct pp_listener *l, const struct pp_listen_out_opts *o)
{
	return o && o->numeric ? NULL : pp_service_name(l->port);
}

/* --- text --- */

enum { text_cols = 8 };

static const char *const text_heads[text_cols] = {"PROTO",    "LOCAL", "SERVICE", "QUEUE",
						  "EXPOSURE", "USER",  "PROCESS", "UNIT"};

/* Appends "name[pid,pid]" entries for the holders of rows [first, last):
 * one entry per name in order of first appearance, each pid once. */
static void put_holders(struct pp_buf *b, const struct pp_listener *v, size_t first, size_t last)
{
	const struct pp_listen_proc **all;
	size_t n = 0, total = 0;

	for (size_t i = first; i < last; i++)
		total += v[i].nprocs;
	if (!total) {
		pp_buf_puts(b, v[first].owners == PP_OWNERS_NO_PERMISSION
				   ? "unknown (no permission)"
				   : "-");
		return;
	}
	if (!(all = calloc(total, sizeof(*all)))) {
		b->err = b->err ? b->err : -ENOMEM;
		return;
	}
	for (size_t i = first; i < last; i++)
		for (size_t p = 0; p < v[i].nprocs; p++)
			all[n++] = &v[i].procs[p];
	for (size_t i = 0; i < n; i++) {
		int pids = 0;

		if (!all[i])
			continue; /* printed with an earlier entry of its name */
		pp_buf_printf(b, "%s%s[", i ? "," : "", all[i]->name);
		for (size_t j = i; j < n; j++) {
			int seen = 0;

			if (!all[j] || strcmp(all[j]->name, all[i]->name))
				continue;
			for (size_t k = i; k < j && !seen; k++)
				seen = all[k] && !strcmp(all[k]->name, all[i]->name) &&
				       all[k]->pid == all[j]->pid;
			if (!seen)
				pp_buf_printf(b, "%s%d", pids++ ? "," : "", all[j]->pid);
		}
		/* Drop this name's later entries, and their repeated pids with them. */
		for (size_t j = i + 1; j < n; j++)
			if (all[j] && !strcmp(all[j]->name, all[i]->name))
				all[j] = NULL;
		pp_buf_puts(b, "]");
	}
	free(all);
}

/* Fills the cells of the text row for rows [first, last) (one socket, or a
 * SO_REUSEPORT group), each cell a NUL-terminated string inside b. */
static void text_row(struct pp_buf *b, size_t *cell, const struct pp_listener *v, size_t first,
		     size_t last, const struct pp_listen_out_opts *o)
{
	const struct pp_listener *l = &v[first];
	const char *service = service_of(l, o);
	char ep[128];

	cell[0] = b->len;
	pp_buf_puts(b, l->family == AF_INET ? "tcp" : dual_stack(l) ? "tcp46" : "tcp6");
	pp_buf_put(b, "", 1);
	cell[1] = b->len;
	pp_buf_puts(b, endpoint_text(l, ep, sizeof(ep)));
	pp_buf_put(b, "", 1);
	cell[2] = b->len;
	pp_buf_puts(b, service ? service : "-");
	pp_buf_put(b, "", 1);
	cell[3] = b->len;
	for (size_t i = first; i < last; i++) {
		pp_buf_printf(b, "%s%" PRIu32 "/", i > first ? "," : "", v[i].accept_queue);
		if (v[i].backlog >= 0)
			pp_buf_printf(b, "%" PRId64, v[i].backlog);
		else
			pp_buf_puts(b, "?");
	}
	pp_buf_put(b, "", 1);
	cell[4] = b->len;
	pp_buf_puts(b, pp_listen_exposure_name(l->exposure));
	pp_buf_put(b, "", 1);
	cell[5] = b->len;
	if (l->user[0])
		pp_buf_puts(b, l->user);
	else
		pp_buf_printf(b, "%" PRIu32, l->uid);
	pp_buf_put(b, "", 1);
	cell[6] = b->len;
	put_holders(b, v, first, last);
	pp_buf_put(b, "", 1);
	cell[7] = b->len;
	pp_buf_puts(b, l->unit ? l->unit : l->cgroup ? l->cgroup : "-");
	pp_buf_put(b, "", 1);
}

/* Which text columns are shown for these options and rows. */
static void text_shown(int *show, const struct pp_listener *v, size_t n,
		       const struct pp_listen_out_opts *o)
{
	for (size_t c = 0; c < text_cols; c++)
		show[c] = c < 6;
	show[2] = !(o && o->numeric);
	show[6] = o && o->processes;
	show[7] = 0;
	for (size_t i = 0; i < n; i++)
		if (v[i].cgroup || v[i].unit)
			show[7] = 1;
}

int pp_listen_write_text(struct pp_buf *b, const struct pp_listen_set *set,
			 const struct pp_listen_out_opts *o)
{
	struct pp_buf cells;
	size_t *offs = NULL, rows = 0, width[text_cols] = {0};
	int show[text_cols];
	int rc;

	text_shown(show, set->v, set->n, o);
	pp_buf_init(&cells, (size_t)1 << 30);
	if (set->n && !(offs = calloc(set->n * text_cols, sizeof(*offs))))
		return -ENOMEM;
	for (size_t i = 0; i < set->n;) {
		size_t j = i + 1;

		while (j < set->n && set->v[i].group && set->v[j].group == set->v[i].group)
			j++;
		text_row(&cells, &offs[rows * text_cols], set->v, i, j, o);
		rows++;
		i = j;
	}
	if ((rc = cells.err) < 0)
		goto out;
	for (size_t c = 0; c < text_cols; c++) {
		width[c] = strlen(text_heads[c]);
		for (size_t r = 0; r < rows; r++) {
			size_t n = strlen(cells.data + offs[r * text_cols + c]);

			if (n > width[c])
				width[c] = n;
		}
	}
	for (size_t r = 0; r <= rows; r++) {
		int first = 1;
		size_t last = 0;

		for (size_t c = 0; c < text_cols; c++)
			if (show[c])
				last = c;
		for (size_t c = 0; c < text_cols; c++) {
			const char *s =
			    r == 0 ? text_heads[c] : cells.data + offs[(r - 1) * text_cols + c];

			if (!show[c])
				continue;
			if (c == last)
				pp_buf_printf(b, "%s%s", first ? "" : "  ", s);
			else
				pp_buf_printf(b, "%s%-*s", first ? "" : "  ", (int)width[c], s);
			first = 0;
		}
		pp_buf_puts(b, "\n");
	}
	rc = b->err;
out:
	free(offs);
	pp_buf_release(&cells);
	return rc;
}

/* --- JSON --- */

static void json_str_or_null(struct pp_buf *b, const char *s)
{
	pp_json_put_string_or_null(b, s && s[0] ? s : NULL);
}

/* Appends v, or null when it is unknown. */
static void json_u64_or_null(struct pp_buf *b, int known, unsigned long long v)
{
	if (known)
		pp_buf_put_u64(b, v);
	else
		pp_buf_puts(b, "null");
}

/* One listener as a JSON object (docs/listen-json.md). Written with puts and
 * pp_buf_put_u64 rather than printf: a host can have tens of thousands. */
static void json_one(struct pp_buf *b, const struct pp_listener *l,
		     const struct pp_listen_out_opts *o)
{
	char addr[64];

	pp_buf_puts(b, l->family == AF_INET ? "{\"family\":\"ipv4\",\"address\":"
					    : "{\"family\":\"ipv6\",\"address\":");
	pp_json_put_string(b, pp_listen_addr_text(l, addr, sizeof(addr)));
	pp_buf_puts(b, ",\"port\":");
	pp_buf_put_u64(b, l->port);
	pp_buf_puts(b, dual_stack(l) ? ",\"dual_stack\":true,\"v6only\":"
				     : ",\"dual_stack\":false,\"v6only\":");
	pp_buf_puts(b, l->v6only < 0 ? "null" : l->v6only ? "true" : "false");
	pp_buf_puts(b, ",\"device\":");
	if (l->ifname[0])
		pp_json_put_string(b, l->ifname);
	else if (l->ifindex)
		pp_buf_printf(b, "\"%u\"", l->ifindex);
	else
		pp_buf_puts(b, "null");
	pp_buf_puts(b, ",\"service\":");
	json_str_or_null(b, service_of(l, o));
	pp_buf_puts(b, ",\"accept_queue\":");
	pp_buf_put_u64(b, l->accept_queue);
	pp_buf_puts(b, ",\"backlog\":");
	json_u64_or_null(b, l->backlog >= 0, (unsigned long long)l->backlog);
	pp_buf_puts(b, ",\"uid\":");
	pp_buf_put_u64(b, l->uid);
	pp_buf_puts(b, ",\"user\":");
	json_str_or_null(b, l->user);
	pp_buf_puts(b, ",\"inode\":");
	pp_buf_put_u64(b, l->inode);
	pp_buf_puts(b, ",\"cookie\":");
	json_u64_or_null(b, l->cookie != 0, l->cookie);
	pp_buf_puts(b, ",\"exposure\":\"");
	pp_buf_puts(b, pp_listen_exposure_name(l->exposure));
	pp_buf_puts(b, "\",\"reuseport_group\":");
	json_u64_or_null(b, l->group != 0, l->group);
	pp_buf_puts(b, ",\"owners\":\"");
	pp_buf_puts(b, owners_name(l->owners));
	pp_buf_puts(b, "\",\"processes\":");
	if (l->owners == PP_OWNERS_NOT_LOOKED) {
		pp_buf_puts(b, "null");
	} else {
		pp_buf_puts(b, "[");
		for (size_t p = 0; p < l->nprocs; p++) {
			pp_buf_puts(b, p ? ",{\"pid\":" : "{\"pid\":");
			pp_buf_put_u64(b, (unsigned long long)l->procs[p].pid);
			pp_buf_puts(b, ",\"name\":");
			pp_json_put_string(b, l->procs[p].name);
			pp_buf_puts(b, ",\"cmdline\":");
			pp_json_put_string(b, l->procs[p].cmdline ? l->procs[p].cmdline : "");
			pp_buf_puts(b, ",\"fd\":");
			pp_buf_put_u64(b, (unsigned long long)l->procs[p].fd);
			pp_buf_puts(b, "}");
		}
		pp_buf_puts(b, "]");
	}
	pp_buf_puts(b, ",\"cgroup\":");
	json_str_or_null(b, l->cgroup);
	pp_buf_puts(b, ",\"unit\":");
	json_str_or_null(b, l->unit);
	pp_buf_puts(b, "}");
}

int pp_listen_write_json(struct pp_buf *b, const struct pp_listen_set *set,
			 const struct pp_listen_out_opts *o)
{
	pp_buf_puts(b, "[");
	for (size_t i = 0; i < set->n; i++) {
		pp_buf_puts(b, i ? ",\n" : "\n");
		json_one(b, &set->v[i], o);
	}
	pp_buf_puts(b, set->n ? "\n]\n" : "]\n");
	return b->err;
}

/* --- CSV --- */

static const char csv_header[] =
    "family,address,port,dual_stack,device,service,accept_queue,backlog,uid,user,inode,cookie,"
    "exposure,reuseport_group,owners,pids,processes,cgroup,unit\n";

/* One CSV row for l, newline included. */
static void csv_one(struct pp_buf *b, const struct pp_listener *l,
		    const struct pp_listen_out_opts *o)
{
	const char *service = service_of(l, o);
	char addr[64];
	struct pp_buf f;

	pp_buf_printf(b, "%s,%s,%u,%s,", l->family == AF_INET ? "ipv4" : "ipv6",
		      pp_listen_addr_text(l, addr, sizeof(addr)), l->port,
		      dual_stack(l) ? "true" : "false");
	if (l->ifname[0])
		pp_csv_put_field(b, l->ifname);
	else if (l->ifindex)
		pp_buf_printf(b, "%u", l->ifindex);
	pp_buf_printf(b, ",%s,%" PRIu32 ",", service ? service : "", l->accept_queue);
	if (l->backlog >= 0)
		pp_buf_printf(b, "%" PRId64, l->backlog);
	pp_buf_printf(b, ",%" PRIu32 ",", l->uid);
	pp_csv_put_field(b, l->user);
	pp_buf_printf(b, ",%" PRIu64 ",", l->inode);
	if (l->cookie)
		pp_buf_printf(b, "%" PRIu64, l->cookie);
	pp_buf_printf(b, ",%s,", pp_listen_exposure_name(l->exposure));
	if (l->group)
		pp_buf_printf(b, "%u", l->group);
	pp_buf_printf(b, ",%s,", owners_name(l->owners));
	for (size_t p = 0; p < l->nprocs; p++)
		pp_buf_printf(b, "%s%d", p ? ";" : "", l->procs[p].pid);
	pp_buf_puts(b, ",");
	/* "name[pid]:fd" per holder, ';'-separated, one field. */
	pp_buf_init(&f, 1 << 20);
	for (size_t p = 0; p < l->nprocs; p++)
		pp_buf_printf(&f, "%s%s[%d]:%d", p ? ";" : "", l->procs[p].name, l->procs[p].pid,
			      l->procs[p].fd);
	if (f.err)
		b->err = b->err ? b->err : f.err;
	pp_csv_put_field(b, f.len ? f.data : "");
	pp_buf_release(&f);
	pp_buf_puts(b, ",");
	pp_csv_put_field(b, l->cgroup ? l->cgroup : "");
	pp_buf_puts(b, ",");
	pp_csv_put_field(b, l->unit ? l->unit : "");
	pp_buf_puts(b, "\n");
}

int pp_listen_write_csv(struct pp_buf *b, const struct pp_listen_set *set,
			const struct pp_listen_out_opts *o)
{
	pp_buf_puts(b, csv_header);
	for (size_t i = 0; i < set->n; i++)
		csv_one(b, &set->v[i], o);
	return b->err;
}

/* --- watch events --- */

int pp_listen_write_event_header(struct pp_buf *b, enum pp_listen_format f,
				 const struct pp_listen_out_opts *o)
{
	if (f == PP_LISTEN_CSV) {
		pp_buf_printf(b, "event,time,%s", csv_header);
	} else if (f == PP_LISTEN_TEXT) {
		pp_buf_puts(b, "TIME EVENT PROTO LOCAL");
		if (!(o && o->numeric))
			pp_buf_puts(b, " SERVICE");
		pp_buf_puts(b, " QUEUE EXPOSURE USER");
		if (o && o->processes)
			pp_buf_puts(b, " PROCESS");
		pp_buf_puts(b, " UNIT\n");
	}
	return b->err;
}

int pp_listen_write_event(struct pp_buf *b, enum pp_listen_format f, const char *event,
			  const struct timespec *ts, const struct pp_listener *l,
			  const struct pp_listen_out_opts *o)
{
	char when[40];

	pp_iso8601(ts, when, sizeof(when));
	if (f == PP_LISTEN_JSON) {
		pp_buf_printf(b, "{\"event\":\"%s\",\"time\":\"%s\",\"listener\":", event, when);
		json_one(b, l, o);
		pp_buf_puts(b, "}\n");
	} else if (f == PP_LISTEN_CSV) {
		pp_buf_printf(b, "%s,%s,", event, when);
		csv_one(b, l, o);
	} else {
		struct pp_buf cells;
		size_t cell[text_cols];
		int show[text_cols];

		text_shown(show, l, 1, o);
		show[7] = 1; /* an event stream has a fixed column set */
		pp_buf_init(&cells, 1 << 20);
		text_row(&cells, cell, l, 0, 1, o);
		if (cells.err) {
			int rc = cells.err;

			pp_buf_release(&cells);
			return rc;
		}
		pp_buf_printf(b, "%s %s", when, event);
		for (size_t c = 0; c < text_cols; c++)
			if (show[c])
				pp_buf_printf(b, " %s", cells.data + cell[c]);
		pp_buf_puts(b, "\n");
		pp_buf_release(&cells);
	}
	return b->err;
}

/* --- Prometheus --- */

static void prom_label(struct pp_buf *b, const char *name, const char *value, int *first)
{
	pp_buf_printf(b, "%s%s=\"", *first ? "" : ",", name);
	pp_prom_put_label_value(b, value);
	pp_buf_puts(b, "\"");
	*first = 0;
}

/* The labels naming one socket: netns, family, address, port, device and the
 * member number within a SO_REUSEPORT group (0 when alone). */
static void prom_id(struct pp_buf *b, const struct pp_listen_set *set, size_t i,
		    const struct pp_listen_out_opts *o)
{
	const struct pp_listener *l = &set->v[i];
	char addr[64], num[32];
	unsigned member = 0;
	int first = 1;

	for (size_t j = i; j > 0 && l->group && set->v[j - 1].group == l->group; j--)
		member++;
	if (o && o->netns)
		prom_label(b, "netns", o->netns, &first);
	prom_label(b, "family", l->family == AF_INET ? "ipv4" : "ipv6", &first);
	prom_label(b, "address", pp_listen_addr_text(l, addr, sizeof(addr)), &first);
	snprintf(num, sizeof(num), "%u", l->port);
	prom_label(b, "port", num, &first);
	if (l->ifname[0])
		snprintf(addr, sizeof(addr), "%s", l->ifname);
	else if (l->ifindex)
		snprintf(addr, sizeof(addr), "%u", l->ifindex);
	else
		addr[0] = '\0';
	prom_label(b, "device", addr, &first);
	snprintf(num, sizeof(num), "%u", member);
	prom_label(b, "member", num, &first);
}

int pp_listen_write_prometheus(struct pp_buf *b, const struct pp_listen_set *set,
			       const struct pp_listen_out_opts *o)
{
	size_t by_exposure[3] = {0};

	pp_buf_puts(b, "# HELP portprobe_listen_socket_info A listening TCP socket; the labels "
		       "say where it listens and who holds it.\n"
		       "# TYPE portprobe_listen_socket_info gauge\n");
	for (size_t i = 0; i < set->n; i++) {
		const struct pp_listener *l = &set->v[i];
		const char *service = service_of(l, o);
		char pid[32] = "";
		int first = 0;

		by_exposure[l->exposure]++;
		pp_buf_puts(b, "portprobe_listen_socket_info{");
		prom_id(b, set, i, o);
		prom_label(b, "exposure", pp_listen_exposure_name(l->exposure), &first);
		prom_label(b, "dual_stack", dual_stack(l) ? "true" : "false", &first);
		prom_label(b, "service", service ? service : "", &first);
		prom_label(b, "user", l->user, &first);
		if (l->nprocs)
			snprintf(pid, sizeof(pid), "%d", l->procs[0].pid);
		prom_label(b, "process", l->nprocs ? l->procs[0].name : "", &first);
		prom_label(b, "pid", pid, &first);
		prom_label(b, "unit", l->unit ? l->unit : "", &first);
		pp_buf_puts(b, "} 1\n");
	}
	pp_buf_puts(b, "# HELP portprobe_listen_accept_queue Connections the kernel completed that "
		       "the socket's owner has not accepted yet.\n"
		       "# TYPE portprobe_listen_accept_queue gauge\n");
	for (size_t i = 0; i < set->n; i++) {
		pp_buf_puts(b, "portprobe_listen_accept_queue{");
		prom_id(b, set, i, o);
		pp_buf_printf(b, "} %" PRIu32 "\n", set->v[i].accept_queue);
	}
	pp_buf_puts(b,
		    "# HELP portprobe_listen_backlog The socket's effective backlog: the listen() "
		    "argument capped by net.core.somaxconn.\n"
		    "# TYPE portprobe_listen_backlog gauge\n");
	for (size_t i = 0; i < set->n; i++) {
		if (set->v[i].backlog < 0)
			continue; /* unknown from procfs: no sample rather than a false one */
		pp_buf_puts(b, "portprobe_listen_backlog{");
		prom_id(b, set, i, o);
		pp_buf_printf(b, "} %" PRId64 "\n", set->v[i].backlog);
	}
	pp_buf_puts(b, "# HELP portprobe_listen_sockets Listening TCP sockets by exposure.\n"
		       "# TYPE portprobe_listen_sockets gauge\n");
	for (int e = PP_EXPOSURE_LOOPBACK; e <= PP_EXPOSURE_SPECIFIC; e++) {
		int first = 1;

		pp_buf_puts(b, "portprobe_listen_sockets{");
		if (o && o->netns)
			prom_label(b, "netns", o->netns, &first);
		prom_label(b, "exposure", pp_listen_exposure_name((enum pp_listen_exposure)e),
			   &first);
		pp_buf_printf(b, "} %zu\n", by_exposure[e]);
	}
	return b->err;
}
