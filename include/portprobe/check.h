/* check.h: one TCP connection test, the way check_tcp_connection, nc -z and
 * /dev/tcp do it, with the failure explained.
 *
 * A check resolves the host inside the loop (c-ares), then makes up to
 * `attempts` attempts, each bounded by `timeout` (name resolution included)
 * and separated by `retry_delay`; it stops at the first success. Without
 * all_addresses an attempt tries the resolved addresses in order until one
 * connects, as nc and getaddrinfo loops do; with it, every address is tested on
 * its own and yields its own result. Results arrive through a callback as they
 * are known; the done callback follows the last one. Nothing blocks.
 */
#ifndef PORTPROBE_CHECK_H
#define PORTPROBE_CHECK_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "portprobe/loop.h"
#include "portprobe/result.h"

struct pp_check;

struct pp_check_opts {
	const char *host;        /* name or address literal; copied */
	uint16_t port;           /* 1..65535 */
	double timeout;          /* seconds per attempt, > 0 */
	unsigned attempts;       /* >= 1 */
	double retry_delay;      /* seconds between attempts, >= 0 */
	struct pp_addr source;   /* source address (len 0: any) */
	uint16_t source_port;    /* 0: ephemeral */
	int family;              /* AF_UNSPEC, AF_INET or AF_INET6 */
	bool all_addresses;      /* one result per resolved address */
	const char *dns_servers; /* "ADDR[:PORT],..." or NULL for the system's; copied */
};

/* One result: for an address, or for the host when it did not resolve. */
struct pp_check_result {
	const char *host;           /* as given */
	uint16_t port;              /* as given */
	bool connected;             /* the check passed */
	bool has_ip;                /* ip is set (false when resolution failed) */
	struct pp_addr ip;          /* the address probed last */
	struct pp_conn_outcome out; /* the last attempt's outcome */
	enum pp_error error;        /* PP_ERROR_NONE when connected */
	double response_time;       /* s: the connect time, or all attempts' time on failure */
	double dns_time;            /* s spent resolving (0 for a literal) */
	unsigned attempts;          /* attempts made */
	struct timespec timestamp;  /* CLOCK_REALTIME when the result was known */
	char detail[192];           /* one line explaining the outcome */
};

typedef void pp_check_result_cb(void *data, const struct pp_check_result *result);
typedef void pp_check_done_cb(void *data);

/* True when a failed result is this host's fault rather than the path's (the
 * source port is taken, the source address is not local, a privileged bind
 * was refused, resources ran out): exit 3 / UNKNOWN rather than 1 / CRITICAL. */
bool pp_check_result_is_local(const struct pp_check_result *r);

/* Fills opts with the plugin's defaults (timeout 10, attempts 1, retry_delay 1). */
void pp_check_opts_init(struct pp_check_opts *opts);

/* Starts a check on loop; 0 or -errno (-EINVAL for bad options). The check
 * copies what it keeps from opts. on_result is called once per result, then
 * on_done once. *ret is written only on success. Free it with
 * pp_check_free() outside its own callbacks (from a timer, another fd's
 * callback, or after the loop): inside them the connector is still running; freeing it before
 * on_done cancels what is in flight, and on_done is then not called. */
int pp_check_start(struct pp_loop *loop, const struct pp_check_opts *opts,
		   pp_check_result_cb *on_result, pp_check_done_cb *on_done, void *data,
		   struct pp_check **ret);
void pp_check_free(struct pp_check *check);

#endif
