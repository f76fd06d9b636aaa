/* ports.h: port lists (nmap's -p syntax, --top-ports, the default list) and
 * service names. A *why that names a value ("port 70000 ...") is in a
 * per-thread buffer, valid until the thread's next call here. */
#ifndef PORTPROBE_PORTS_H
#define PORTPROBE_PORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A set of TCP ports, ascending, no duplicates. */
struct pp_ports {
	uint16_t *port;
	size_t n;
};

/* Where a top-N list came from. */
enum pp_ports_source {
	PP_PORTS_SOURCE_OWN,  /* portprobe's own list (src/lib/target/top_ports.c) */
	PP_PORTS_SOURCE_NMAP, /* an installed nmap's nmap-services, by open-frequency */
};

void pp_ports_free(struct pp_ports *p);

/* Parses nmap's -p syntax: "22,80,1000-2000", "-" (1-65535), "-100"
 * (1-100), "60000-" (60000-65535), an optional "T:" prefix on a list; spaces
 * are not allowed; duplicates and overlaps are merged. Port 0 and > 65535,
 * a reversed range ("5-1"), empty items and U:/S: lists are -EINVAL with
 * why set ("port 70000 is not in 1..65535", "range 5-1 is reversed",
 * "'http' is not a port number": numbers only, no service names). *ret is
 * written only on success, with n >= 1. */
int pp_ports_parse(const char *spec, struct pp_ports *ret, const char **why);
/* Removes the ports of spec (same syntax) from p; p may become empty
 * (n == 0). On -EINVAL p is untouched. */
int pp_ports_exclude(struct pp_ports *p, const char *spec, const char **why);
/* The n most useful ports (1 <= n <= 65535), ascending. With
 * PP_PORTS_SOURCE_NMAP the ranking of path (an nmap-services file; NULL for
 * the installed one) is used; when it cannot be read -ENOENT is returned,
 * when it has no TCP entries -EINVAL. n out of range is -EINVAL with why
 * "is not in 1..65535". When n exceeds the ranked list, the rest are the
 * lowest ports not yet chosen, ascending. */
int pp_ports_top(size_t n, enum pp_ports_source src, const char *path, struct pp_ports *ret,
		 const char **why);
/* The installed nmap-services path if readable, else NULL. */
const char *pp_ports_nmap_services_path(void);
/* Compact nmap form of a list: "1-1024,8080" (into buf; returns buf or NULL
 * when it does not fit). */
char *pp_ports_format(const struct pp_ports *p, char *buf, size_t len);

/* Service name of a TCP port from /etc/services (loaded once, on first use;
 * thread-safe; the first name of a port wins), or NULL when unknown. The
 * name stays valid for the life of the process. pp_services_load(path)
 * replaces the table with another file's (tests); 0 or -errno. */
const char *pp_service_name(uint16_t port);
int pp_services_load(const char *path);

#endif
