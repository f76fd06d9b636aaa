/* connector.h: non-blocking TCP connects on the loop, classified.
 *
 * The engine owns its probes; callers get a handle only to cancel. check
 * drives one connector with one probe at a time, scan will drive thousands. */
#ifndef PP_NET_CONNECTOR_H
#define PP_NET_CONNECTOR_H

#include <stdbool.h>
#include <stdint.h>

#include "portprobe/loop.h"
#include "portprobe/result.h"

struct connector;
struct conn_probe;

struct conn_req {
	struct pp_addr dst;  /* address and port to connect to */
	struct pp_addr src;  /* source address, len 0 for any */
	uint16_t src_port;   /* source port, 0 for ephemeral */
	uint64_t timeout_ns; /* the deadline, from start */
	bool fail_fast;      /* report local resource failures at once (PP_ERROR_LOCAL_RESOURCE)
				instead of backing off until the deadline: the caller paces */
	bool keep;           /* a connected socket is offered to the callback, which may take
				it with connector_take_fd() (TLS, STARTTLS) */
	bool reuse;          /* many probes (scan): a socket whose connect was refused or
				failed goes back to a pool and makes the next probe, see
				connector.c; ignored with src_port */
};

/* Called once per started probe (never from inside connector_start()). The
 * outcome is valid only during the call. */
typedef void conn_done_cb(void *data, const struct pp_conn_outcome *outcome);

/* 0 or -errno; *ret written only on success. */
int connector_new(struct pp_loop *loop, struct connector **ret);
/* Cancels every probe in flight without calling back, frees all (NULL-safe). */
void connector_free(struct connector *c);
/* Starts a probe; 0 or -errno (-ENOMEM). The request is copied. ret may be NULL. */
int connector_start(struct connector *c, const struct conn_req *req, conn_done_cb *cb, void *data,
		    struct conn_probe **ret);
/* Inside the callback of a connected probe started with keep: the connected
 * fd, now the caller's (-1 otherwise). It stays registered in the loop,
 * with a handler that ignores events and does not keep the loop running:
 * point it at the caller's own with pp_loop_set_handler() and
 * pp_loop_mod_fd(), and close it with pp_loop_close_fd(). An fd not taken
 * is closed (with a reset) after the callback. */
int connector_take_fd(struct connector *c);
/* Cancels a probe in flight; its callback will not be called. */
void connector_cancel(struct connector *c, struct conn_probe *p);
/* Probes in flight. */
unsigned connector_in_flight(const struct connector *c);

#endif
