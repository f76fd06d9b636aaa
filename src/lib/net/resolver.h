/* resolver.h: name resolution inside the loop (c-ares), A and AAAA. */
#ifndef PP_NET_RESOLVER_H
#define PP_NET_RESOLVER_H

#include <stddef.h>
#include <stdint.h>

#include "portprobe/loop.h"
#include "portprobe/result.h"

struct resolver;
struct lookup;

/* The most addresses one lookup returns; the rest are dropped. */
#define RESOLVER_MAX_ADDRS 64

/* err is PP_ERROR_NONE (n >= 1 addresses, in c-ares' RFC 6724 order, port
 * set), PP_ERROR_HOST_NOT_FOUND or PP_ERROR_DNS_TEMPORARY; detail says why.
 * Everything is valid only during the call. */
typedef void resolve_cb(void *data, enum pp_error err, const struct pp_addr *addrs, size_t n,
			const char *detail);

/* servers: c-ares CSV ("1.2.3.4:53,[::1]:53") or NULL for resolv.conf.
 * 0, -ENOMEM, or -EINVAL when c-ares refuses the configuration. */
int resolver_new(struct pp_loop *loop, const char *servers, struct resolver **ret);
/* Cancels pending lookups without calling back; NULL-safe. */
void resolver_free(struct resolver *r);
/* Looks name up (family AF_UNSPEC, AF_INET or AF_INET6) within timeout_ns.
 * The callback always comes from the loop, never from inside this call.
 * 0 or -ENOMEM; *ret (may be NULL) is valid until the callback or cancel. */
int resolver_lookup(struct resolver *r, const char *name, int family, uint16_t port,
		    uint64_t timeout_ns, resolve_cb *cb, void *data, struct lookup **ret);
void resolver_cancel(struct resolver *r, struct lookup *l);

#endif
