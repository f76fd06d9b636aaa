/* config.h: the configuration file of `portprobe run` and `portprobe serve`
 * (YAML, read with libyaml), loaded, validated and resolved to defaults.
 *
 * One loader takes three shapes of check so that users of the tools portprobe
 * replaces can keep their files: the check_tcp_connection plugin's list
 * (plugin: check_tcp_connection), InfraSonar's TCP probe (plugin: tcp_probe,
 * address + tcp_ports + certificate_ports), and a certificate check
 * (plugin: tls). The file is either that list or a mapping with `checks:`,
 * `interval:`, `server:`, `store:`, `alerts:` and blackbox_exporter-style
 * `modules:` for /probe. docs/config.md is the reference of every key.
 *
 * Nothing runs on an invalid file: the loader refuses the whole file at the
 * first problem with one line "FILE:LINE:COLUMN: KEY.PATH: what is wrong".
 * Once loaded, every value is resolved (defaults filled in, check intervals
 * and alert thresholds inherited), so consumers never look at YAML or at
 * defaults again. A loaded configuration is immutable; share it read-only
 * between threads. */
#ifndef PORTPROBE_CONFIG_H
#define PORTPROBE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "portprobe/check.h"
#include "portprobe/ports.h"
#include "portprobe/result.h"
#include "portprobe/tls.h"

/* Caps on what a file may hold; beyond them the file is refused. */
#define PP_CONFIG_MAX_BYTES   (4u << 20) /* file size */
#define PP_CONFIG_MAX_NODES   1000000u   /* YAML scalars, lists and mappings */
#define PP_CONFIG_MAX_DEPTH   32u        /* nesting of lists and mappings */
#define PP_CONFIG_MAX_STRING  4096u      /* bytes in one scalar */
#define PP_CONFIG_MAX_CHECKS  100000u    /* checks in a file */
#define PP_CONFIG_MAX_UNITS   200000u    /* probe units all checks expand to */
#define PP_CONFIG_MAX_LABELS  64u        /* labels on one check */
#define PP_CONFIG_MAX_MODULES 256u       /* /probe modules */
#define PP_CONFIG_MAX_ALLOW   4096u      /* probe_allowlist entries */
#define PP_CONFIG_NAME_MAX    128u       /* bytes in a check name */
#define PP_CONFIG_MODULE_MAX  64u        /* bytes in a module name */
#define PP_CONFIG_UNIT_NAME_MAX                                                                    \
	(PP_CONFIG_NAME_MAX + sizeof("/cert:65535")) /* bytes in a unit name, with its NUL */

/* Defaults (docs/config.md says why each). */
#define PP_CONFIG_DEFAULT_INTERVAL      60.0 /* s between runs of a check */
#define PP_CONFIG_DEFAULT_TIMEOUT       10.0 /* s, as pp_check_opts_init */
#define PP_CONFIG_DEFAULT_ATTEMPTS      1u
#define PP_CONFIG_DEFAULT_RETRY_DELAY   1.0 /* s */
#define PP_CONFIG_DEFAULT_TLS_PORT      443
#define PP_CONFIG_DEFAULT_WARNING_DAYS  20 /* check_ssl_cert's -w */
#define PP_CONFIG_DEFAULT_CRITICAL_DAYS 15 /* check_ssl_cert's -c */
#define PP_CONFIG_DEFAULT_LISTEN        "127.0.0.1:9115"
#define PP_CONFIG_DEFAULT_MAX_REQUEST   8192u
#define PP_CONFIG_DEFAULT_REQUEST_TIME  10.0 /* s */
#define PP_CONFIG_DEFAULT_CONCURRENCY   64u
#define PP_CONFIG_DEFAULT_STORE_PATH    "portprobe.db"
#define PP_CONFIG_DEFAULT_RETENTION     (30.0 * 86400) /* s */
#define PP_CONFIG_DEFAULT_WEBHOOK_TIME  5.0            /* s */
#define PP_CONFIG_DEFAULT_DOWN_AFTER    3u             /* Gatus' failure threshold */
#define PP_CONFIG_DEFAULT_UP_AFTER      2u             /* Gatus' success threshold */

/* Which plugin a check was written for. */
enum pp_config_kind {
	PP_CONFIG_TCP = 1,   /* check_tcp_connection: one host, one port */
	PP_CONFIG_TCP_PROBE, /* InfraSonar's tcp_probe: one address, port lists */
	PP_CONFIG_TLS,       /* tls: the certificate (and optionally TLS inventory) of one port */
};

/* One label of a check: exported on its metrics and results. */
struct pp_config_label {
	char *name;  /* [a-zA-Z_][a-zA-Z0-9_]*, not reserved (see docs/config.md) */
	char *value; /* any string, may be empty */
};

/* Connection parameters of a check_tcp_connection check; tcp_probe checks
 * carry the defaults here for their TCP units. */
struct pp_config_tcp {
	uint16_t port;         /* 1..65535 (check_tcp_connection); 0 for other kinds */
	unsigned attempts;     /* 1..100, default 1 */
	double retry_delay;    /* s between attempts, 0..3600, default 1 */
	uint16_t source_port;  /* 0: any */
	struct pp_addr source; /* source_address; len 0: any */
};

/* Certificate parameters of a tls check; tcp_probe checks carry them for
 * their certificate units (port 0, full enumeration as InfraSonar's probe
 * does, no sni or starttls). */
struct pp_config_tls {
	uint16_t port;     /* 1..65535, default 443; 0 for tcp_probe (units have the ports) */
	char *sni;         /* server_name; NULL: the host when it is a name; "": send none */
	char *starttls;    /* a pp_tls_starttls_known() name, "none"; NULL: chosen by port */
	char *ca_file;     /* trust anchors (PEM), as written; NULL: the system store */
	bool cert_only;    /* certificates only, no protocol/cipher enumeration; default true
			      for tls checks, false for tcp_probe (sslEnumCiphers needs them) */
	int warning_days;  /* WARNING when the earliest expiry is this close; default 20 */
	int critical_days; /* CRITICAL when this close; default 15, <= warning_days */
};

/* One check as written in the file, every parameter resolved. */
struct pp_config_check {
	enum pp_config_kind kind;       /* the plugin */
	char *name;                     /* 1..128 bytes, unique, no '/' (see docs) */
	unsigned line, column;          /* 1-based position of its mapping in the file */
	char *host;                     /* host (tcp, tls) or address (tcp_probe) */
	double timeout;                 /* s per attempt or connection, default 10 */
	int family;                     /* AF_UNSPEC (any), AF_INET or AF_INET6 */
	double interval;                /* s between runs, >= 1: own, file's, or 60 */
	unsigned down_after;            /* failures in a row before DOWN: own or alerts' */
	unsigned up_after;              /* successes in a row before UP: own or alerts' */
	struct pp_config_label *labels; /* nlabels labels, in file order, names unique */
	size_t nlabels;                 /* entries in labels */
	struct pp_config_tcp tcp;       /* PP_CONFIG_TCP; defaults for TCP_PROBE */
	struct pp_config_tls tls;       /* PP_CONFIG_TLS; defaults for TCP_PROBE */
	struct pp_ports tcp_ports;      /* TCP_PROBE: ascending, unique; n may be 0 */
	struct pp_ports cert_ports;     /* TCP_PROBE: ascending, unique; n may be 0 */
	size_t unit_first;              /* its units: units[unit_first .. +unit_count) */
	size_t unit_count;              /* >= 1 */
};

/* What one probe unit does. */
enum pp_config_unit_kind {
	PP_CONFIG_UNIT_CONNECT = 1, /* a TCP connection test (pp_check) */
	PP_CONFIG_UNIT_CERT,        /* a TLS certificate check (pp_tls) */
};

/* The smallest thing the scheduler runs and the store keeps history for. A
 * check_tcp_connection or tls check is one unit named like the check; a
 * tcp_probe check is one unit per port: "NAME/tcp:PORT" for each TCP port,
 * then "NAME/cert:PORT" for each certificate port, ascending. Check names
 * cannot hold '/', so unit names are unique in a file and stable across
 * reloads as long as the check keeps its name and ports. */
struct pp_config_unit {
	char *name;                    /* as above, < PP_CONFIG_UNIT_NAME_MAX bytes */
	size_t check;                  /* index of its check in pp_config.checks */
	enum pp_config_unit_kind kind; /* connect or certificate */
	uint16_t port;                 /* 1..65535 */
};

/* One probe_allowlist entry, parsed. */
enum pp_config_allow_kind {
	PP_CONFIG_ALLOW_ANY = 1, /* "*": every target (still limited by the port part) */
	PP_CONFIG_ALLOW_NET,     /* an address or CIDR: matches addresses only */
	PP_CONFIG_ALLOW_NAME,    /* a host name: matches that name, case-insensitively */
	PP_CONFIG_ALLOW_SUFFIX,  /* "*.example.com": names below example.com, not itself */
};

struct pp_config_allow {
	enum pp_config_allow_kind kind; /* what it matches */
	char *text;                     /* the entry as written */
	char *name;                     /* NAME: lower case, no final dot; SUFFIX: ".example.com" */
	int family;                     /* NET: AF_INET or AF_INET6 */
	uint8_t addr[16];               /* NET: the network, host bits zero (4 bytes for IPv4) */
	unsigned prefix;                /* NET: prefix length, 0..32 or 0..128 */
	uint16_t port_min, port_max;    /* allowed ports; 1..65535 when the entry has none */
};

/* HTTP basic or bearer authentication of the server; at most one is set. */
struct pp_config_auth {
	char *username;     /* basic: user name (no ':'); NULL: no basic auth */
	char *password;     /* basic: password */
	char *bearer_token; /* "Authorization: Bearer TOKEN"; NULL: none */
};

/* The HTTP server of `serve`. */
struct pp_config_server {
	char *listen;                  /* as written, default "127.0.0.1:9115" */
	struct pp_addr listen_addr;    /* parsed; ":PORT" is [::]:PORT (bind with V6ONLY off) */
	struct pp_config_auth auth;    /* all NULL: no authentication */
	char *tls_cert_file;           /* PEM certificate chain; NULL: plain HTTP */
	char *tls_key_file;            /* PEM private key; set exactly when tls_cert_file is */
	struct pp_config_allow *allow; /* probe_allowlist; empty: /probe refuses every target */
	size_t nallow;                 /* entries in allow */
	size_t max_request_bytes;      /* request line + headers + body, default 8192 */
	double request_timeout;        /* s for one request, default 10 */
	unsigned max_concurrency;      /* requests at once, default 64 */
};

/* History in SQLite. */
struct pp_config_store {
	char *path;       /* database file, default "portprobe.db" (relative to the cwd) */
	double retention; /* s of history kept, default 30 days */
	bool disabled;    /* no history at all */
};

/* Alerts on state changes, and the flap damping that decides them. */
struct pp_config_alerts {
	char *webhook;          /* http:// or https:// URL to POST JSON to; NULL: none */
	double webhook_timeout; /* s per POST, default 5 */
	char *command;          /* run with /bin/sh -c on each change; NULL: none */
	unsigned down_after;    /* default for checks, 3 */
	unsigned up_after;      /* default for checks, 2 */
};

/* How a /probe module probes, as blackbox_exporter's modules. */
enum pp_config_prober {
	PP_CONFIG_PROBER_TCP = 1, /* connect (then a TLS handshake when tls is set) */
	PP_CONFIG_PROBER_TLS,     /* portprobe's certificate check (pp_tls, cert_only) */
};

struct pp_config_module {
	char *name;                   /* [A-Za-z0-9_.-], 1..64 bytes, unique */
	enum pp_config_prober prober; /* tcp or tls */
	double timeout;               /* s; 0: not set (the scrape timeout decides) */
	int preferred_family;         /* AF_INET6 (blackbox's default ip6) or AF_INET */
	bool ip_protocol_fallback;    /* use the other family when needed, default true */
	bool tls;                     /* tcp prober: TLS handshake after connecting */
	bool insecure_skip_verify;    /* tls_config: do not fail on an untrusted chain */
	char *ca_file;                /* tls_config: trust anchors; NULL: the system store */
	char *server_name;            /* tls_config: SNI and name to verify; NULL: the target */
	struct pp_addr source;        /* source_ip_address; len 0: any */
	bool builtin;                 /* a default (tcp_connect, tls) the file did not redefine */
	unsigned line, column;        /* where it was defined; 0 for a builtin */
};

/* A loaded configuration. */
struct pp_config {
	char *source;                     /* the display name errors used */
	bool mapping_form;                /* written as a mapping with checks:, not a list */
	struct pp_config_check *checks;   /* in file order */
	size_t nchecks;                   /* entries in checks */
	struct pp_config_unit *units;     /* every check's units, in check order */
	size_t nunits;                    /* entries in units */
	double interval;                  /* the file's default interval, s (60) */
	struct pp_config_server server;   /* defaults when the file has no server: */
	struct pp_config_store store;     /* defaults when the file has no store: */
	struct pp_config_alerts alerts;   /* defaults when the file has no alerts: */
	struct pp_config_module *modules; /* the file's modules, then the builtins left */
	size_t nmodules;                  /* entries in modules, >= 2 unless redefined */
	struct pp_config_index *index;    /* private: sorted names for the lookups */
};

/* Parses text[0..len) (need not be NUL-terminated) as a configuration file
 * named display_name in messages (borrowed, e.g. the path; NULL: "config").
 * On success stores a new configuration in *ret (free with pp_config_free)
 * and returns 0. Otherwise *ret is untouched, err (when not NULL) holds one
 * line, "display_name:LINE:COLUMN: KEY.PATH: what is wrong" (LINE:COLUMN left
 * out when the file as a whole is at fault), and the return is -EINVAL
 * (invalid file), -EFBIG (above PP_CONFIG_MAX_BYTES) or -ENOMEM. Never prints. */
int pp_config_parse(const char *text, size_t len, const char *display_name, struct pp_config **ret,
		    char *err, size_t errlen);

/* Reads the file at path (at most PP_CONFIG_MAX_BYTES; a pipe or /dev/stdin
 * works too) and parses it as pp_config_parse does, with path as the display
 * name. Besides its errors: -errno when the file cannot be opened or read
 * ("PATH: cannot read: No such file or directory"), -EISDIR for a directory. */
int pp_config_load(const char *path, struct pp_config **ret, char *err, size_t errlen);

/* Frees a configuration and everything in it. NULL-safe. */
void pp_config_free(struct pp_config *c);

/* The check called name, or NULL. */
const struct pp_config_check *pp_config_check_find(const struct pp_config *c, const char *name);
/* The unit called name ("web", "web/tcp:443"), or NULL. */
const struct pp_config_unit *pp_config_unit_find(const struct pp_config *c, const char *name);
/* The /probe module called name, or NULL. */
const struct pp_config_module *pp_config_module_find(const struct pp_config *c, const char *name);

/* Fills o for a PP_CONFIG_UNIT_CONNECT unit: host, port, timeout, attempts,
 * retry delay, source and family of its check (other fields as
 * pp_check_opts_init). o borrows strings from c; pp_check_start copies them. */
void pp_config_unit_check_opts(const struct pp_config *c, const struct pp_config_unit *u,
			       struct pp_check_opts *o);
/* Fills o for a PP_CONFIG_UNIT_CERT unit: sni, starttls, ca_file, cert_only,
 * timeout and family of its check (other fields as pp_tls_opts_init). The
 * target is the check's host and the unit's port. o borrows from c. */
void pp_config_unit_tls_opts(const struct pp_config *c, const struct pp_config_unit *u,
			     struct pp_tls_opts *o);

/* True when /probe may probe host (the target as requested: a name or an
 * address literal, IPv6 with or without brackets) on port. An entry matches
 * when its port part (if any) holds port and: "*" always; an address or CIDR
 * entry when the address that will be probed is inside it (resolved when not
 * NULL, else host when it is a literal; IPv4-mapped IPv6 counts as IPv4); a
 * name entry when host is that name; a "*.example.com" entry when host is a
 * name ending in ".example.com". Names compare case-insensitively, ignoring a
 * final dot, and never match an address. The caller must then probe exactly
 * the resolved address it passed. No entries: always false. */
bool pp_config_allowed(const struct pp_config *c, const char *host, uint16_t port,
		       const struct pp_addr *resolved);

/* Parses one probe_allowlist entry as the loader does (for tests and the
 * command line). 0 with *ret filled (release with pp_config_allow_release),
 * -EINVAL with *why set, or -ENOMEM. */
int pp_config_allow_parse(const char *s, struct pp_config_allow *ret, const char **why);
/* Frees what pp_config_allow_parse allocated in a. NULL-safe. */
void pp_config_allow_release(struct pp_config_allow *a);
/* True when entry a allows host/port/resolved (the rules of pp_config_allowed). */
bool pp_config_allow_match(const struct pp_config_allow *a, const char *host, uint16_t port,
			   const struct pp_addr *resolved);

/* Parses a listen address as the loader does: "ADDRESS:PORT" with an IP
 * literal ("127.0.0.1:9115", "[::1]:9115") or ":PORT" for every address
 * ([::]:PORT). 0, or -EINVAL with *why completing "<text> ...". */
int pp_config_parse_listen(const char *text, struct pp_addr *ret, const char **why);

/* Parses a duration as the loader does: seconds ("10", "0.5") or units in
 * descending order ("500ms", "15s", "1m30s", "2h", "30d", "1w"). 0 or -EINVAL. */
int pp_config_parse_duration(const char *s, double *ret);

#endif
