/* tlsenum.c: the `portprobe tls` engine.
 *
 * Per target, a queue of jobs; each job is one TCP connection: connect
 * (connector, keep), the STARTTLS dialog if any (tls/starttls.c), then
 * either a hand-built ClientHello and the server's first flight read with
 * tls/record.c (a "raw" job), or a libssl handshake on the same
 * non-blocking fd (a "cert" job). At most max_conns jobs of a target run at
 * once, started delay_ns apart.
 *
 * Raw jobs, per protocol (research/tls.md lesson 2):
 *  - enumeration: offer a chunk of at most 64 candidate suites; the server
 *    picks one, which is recorded (with the group or DH size its
 *    ServerKeyExchange or key_share shows) and removed, and the rest is
 *    offered again, until the server refuses; then the next chunk. A reset
 *    or silence on a big hello halves the chunk (hello intolerance).
 *  - order: with two or more suites, [A, B] and then [B, A] (nmap's
 *    method): the same choice twice is server order, the first offered
 *    twice is client order, else indeterminate. Server order's list is the
 *    enumeration's own sequence when one chunk held every accepted suite,
 *    else one more remove-chosen run over the accepted suites.
 *  - groups: TLS 1.3 offers every group with an x25519 key share and reads
 *    the key_share or the HelloRetryRequest's group; TLS <= 1.2 offers the
 *    accepted ECDHE suites and reads ServerKeyExchange's curve; both
 *    remove the chosen group and go on.
 * SSLv2 is one hello listing every SSLv2 cipher spec: the server's
 * ServerHello lists all it has.
 *
 * Cert jobs: libssl at security level 0 with RSA-only, ECDSA-only and
 * EdDSA-only signature algorithms (and matching TLS <= 1.2 suites), with
 * and without SNI; every distinct chain is kept with the probes that saw
 * it, then summarised and verified (tls/x509sum.c) when the target ends. */
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "net/classify.h"
#include "net/connector.h"
#include "net/resolver.h"
#include "portprobe/parse.h"
#include "portprobe/tls.h"
#include "tls/hello.h"
#include "tls/record.h"
#include "tls/report.h"
#include "tls/starttls.h"
#include "tls/suites.h"
#include "tls/x509sum.h"

#define CHUNK_MAX        64u
#define CHUNK_MIN        8u
#define READ_SIZE        16384
#define DEFAULT_CONNS    4u
#define DEFAULT_PARALLEL 16u
#define DEFAULT_TIMEOUT  (5 * PP_NSEC_PER_SEC)

enum job_kind {
	JOB_ENUM,   /* offer a chunk, remove the chosen suite, repeat */
	JOB_ORDER,  /* two suites, in the order given */
	JOB_OLIST,  /* the server's full order: remove-chosen over the accepted */
	JOB_GROUPS, /* offer groups, remove the chosen one, repeat */
	JOB_SSL2,   /* one SSLv2 hello */
	JOB_CERT,   /* a libssl handshake for a certificate chain */
};

enum job_phase { PH_CONNECT, PH_STARTTLS, PH_HELLO, PH_SSL };

/* How a job ended. */
enum job_end {
	END_HELLO,      /* a ServerHello (or HRR, or SSLv2 ServerHello) */
	END_REFUSED,    /* an alert, or a clean close with no hello */
	END_SILENT,     /* timeout */
	END_RESET,      /* reset before any answer: maybe hello intolerance */
	END_TRUNCATED,  /* a record or message cut short (closed, or then silence) */
	END_NOT_TLS,    /* what came back is not TLS */
	END_BROKEN,     /* malformed or oversized */
	END_CONNECT,    /* the TCP connect failed: a target verdict */
	END_STARTTLS,   /* the STARTTLS dialog failed */
	END_LOCAL,      /* this host's failure (memory) */
	END_SSL_OK,     /* libssl handshake done */
	END_SSL_FAILED, /* libssl handshake refused */
};

struct target;

struct job {
	struct job *next;          /* target queue */
	struct job *rprev, *rnext; /* the engine's running jobs */
	struct target *t;
	enum job_kind kind;
	enum tls_proto proto;
	uint16_t *offer; /* suites (or groups for JOB_GROUPS) offered, owned */
	size_t noffer;
	unsigned cert_probe; /* JOB_CERT: enum tls_cert_probe bits */
	int which;           /* JOB_ORDER: 0 for [A, B], 1 for [B, A] */
	uint16_t *gsuites;   /* JOB_GROUPS below TLS 1.3: the ECDHE suites offered, owned */
	size_t ngsuites;

	/* running */
	enum job_phase phase;
	int fd;
	struct conn_probe *cp;
	struct pp_timer timer;
	struct pp_buf out;
	size_t out_off;
	struct tls_starttls_state *st;
	struct tls_reader rd;
	bool rd_used;
	SSL *ssl;

	/* what came back */
	enum job_end end;
	struct tls_server_hello sh;
	bool have_sh;
	uint16_t ske_curve, ske_dh_bits;
	uint32_t *v2_specs; /* SSLv2 ServerHello's specs, owned */
	size_t nv2;
	uint8_t alert;
	char *detail; /* what went wrong, owned */
	enum pp_error conn_error;
};

/* The enumeration state of one protocol. */
struct penum {
	uint16_t *pending; /* candidates not yet offered in a chunk */
	size_t npending;
	size_t chunk_size;
	unsigned chunks_with_hits; /* chunks that yielded at least one suite */
	bool chunk_hit;            /* the current chunk yielded one */
	bool done;                 /* enumeration over */
	uint16_t order_pick[2];    /* JOB_ORDER answers */
	int order_answers;
	uint16_t *first_offer; /* the hello that gave the first accepted suite */
	size_t nfirst;
	uint16_t first_pick; /* and that suite */
	bool groups_started;
};

struct target {
	struct target *next; /* run list */
	struct pp_tls *e;
	struct tls_report *r;
	char *name; /* host name for SNI and hostname checks, NULL for a literal */
	struct job *qhead, *qtail;
	unsigned active; /* jobs connected or connecting */
	unsigned jobs;   /* jobs queued or running */
	uint64_t next_start;
	struct pp_timer delay;
	struct lookup *lookup;
	bool failed;         /* a target verdict: cancel the rest */
	bool failed_quietly; /* gave up on a port that answers nothing TLS */
	bool answered;       /* some probe got a TLS answer (a hello, an alert, a handshake) */
	unsigned dead;       /* probes that failed before anything was answered */
	char *cert_fail;     /* the first cert job's failure, while no chain came */
	int worst; /* the most telling probe failure (rank), for a target that gave nothing */
	enum job_end worst_end;
	char *worst_detail;
	bool reported;
	struct penum pe[TLS_P_COUNT];
	unsigned cert_jobs_left;
	uint16_t last_group_version; /* JOB_GROUPS for <= 1.2 ran at this version */
};

struct pp_tls {
	struct pp_tls_opts o;
	enum tls_starttls starttls; /* -1 as int: by port */
	bool starttls_auto;
	struct pp_loop *loop;
	struct connector *conn;
	struct resolver *res;
	SSL_CTX *ctx; /* cert jobs */
	X509_STORE *store;
	struct target **targets;
	size_t ntargets, cap;
	size_t next_target; /* not started yet */
	unsigned running;
	struct tls_report **done; /* reports handed out, freed with the engine */
	size_t ndone;
	pp_tls_report_cb *cb;
	void *cbdata;
	struct pp_timer kick; /* starts more targets */
	struct job *running_jobs;
	bool stopping;
};

static void target_pump(struct target *t);
static void job_run(struct job *j);
static void target_finish(struct target *t);

/* ---- options ------------------------------------------------------------------ */

void pp_tls_opts_init(struct pp_tls_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->max_conns = DEFAULT_CONNS;
	o->timeout_ns = DEFAULT_TIMEOUT;
	o->parallel = DEFAULT_PARALLEL;
}

bool pp_tls_starttls_known(const char *name)
{
	enum tls_starttls p;

	return tls_starttls_parse(name, &p) == 0;
}

const char *pp_tls_starttls_names(void)
{
	static char names[256];
	size_t off = 0;

	if (!names[0])
		for (int i = 1; i < TLS_STARTTLS_COUNT && off < sizeof(names); i++) {
			int n = snprintf(names + off, sizeof(names) - off, "%s%s", i > 1 ? " " : "",
					 tls_starttls_name((enum tls_starttls)i));

			if (n < 0)
				break;
			off += (size_t)n;
		}
	return names;
}

/* ---- report helpers ------------------------------------------------------------ */

static void note(struct target *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct target *t, const char *fmt, ...)
{
	struct tls_report *r = t->r;
	char **n, *s = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (!s)
		return;
	n = realloc(r->notes, (r->nnotes + 1) * sizeof(*n));
	if (!n) {
		free(s);
		return;
	}
	r->notes = n;
	r->notes[r->nnotes++] = s;
}

static void add_cipher(struct target *t, enum tls_proto p, uint16_t id, uint32_t v2, uint16_t group,
		       uint16_t dh_bits)
{
	struct tls_report *r = t->r;
	struct tls_accepted *n;

	for (size_t i = 0; i < r->nciphers; i++)
		if (r->ciphers[i].proto == p && r->ciphers[i].id == id && r->ciphers[i].v2_id == v2)
			return;
	n = realloc(r->ciphers, (r->nciphers + 1) * sizeof(*n));
	if (!n)
		return;
	r->ciphers = n;
	n[r->nciphers].proto = p;
	n[r->nciphers].id = id;
	n[r->nciphers].v2_id = v2;
	n[r->nciphers].group = group;
	n[r->nciphers].dh_bits = dh_bits;
	r->nciphers++;
}

static size_t accepted_of(const struct target *t, enum tls_proto p, uint16_t *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < t->r->nciphers; i++)
		if (t->r->ciphers[i].proto == p) {
			if (out && n < max)
				out[n] = t->r->ciphers[i].id;
			n++;
		}
	return n;
}

static void add_group(struct target *t, uint16_t id, enum tls_proto p)
{
	struct tls_report *r = t->r;
	struct tls_group *n;

	for (size_t i = 0; i < r->ngroups; i++)
		if (r->groups[i].id == id) {
			r->groups[i].protos |= 1u << p;
			return;
		}
	n = realloc(r->groups, (r->ngroups + 1) * sizeof(*n));
	if (!n)
		return;
	r->groups = n;
	n[r->ngroups].id = id;
	n[r->ngroups].protos = 1u << p;
	r->ngroups++;
}

/* ---- jobs ----------------------------------------------------------------------- */

static struct job *job_new(struct target *t, enum job_kind kind, enum tls_proto p,
			   const uint16_t *offer, size_t n)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->t = t;
	j->kind = kind;
	j->proto = p;
	j->fd = -1;
	if (n) {
		j->offer = malloc(n * sizeof(*offer));
		if (!j->offer) {
			free(j);
			return NULL;
		}
		memcpy(j->offer, offer, n * sizeof(*offer));
		j->noffer = n;
	}
	return j;
}

static void job_free(struct job *j)
{
	if (!j)
		return;
	free(j->offer);
	free(j->gsuites);
	free(j->v2_specs);
	free(j->detail);
	free(j->st);
	pp_buf_release(&j->out);
	if (j->rd_used)
		tls_reader_release(&j->rd);
	if (j->ssl)
		SSL_free(j->ssl);
	free(j);
}

static void queue(struct target *t, struct job *j)
{
	if (j && t->failed_quietly) {
		job_free(j);
		return;
	}
	if (!j) {
		note(t, "out of memory: a probe was dropped");
		return;
	}
	j->next = NULL;
	if (t->qtail)
		t->qtail->next = j;
	else
		t->qhead = j;
	t->qtail = j;
	t->jobs++;
}

/* Frees every job still queued (not the running ones). */
static void queue_drop(struct target *t)
{
	while (t->qhead) {
		struct job *j = t->qhead;

		t->qhead = j->next;
		t->jobs--;
		job_free(j);
	}
	t->qtail = NULL;
}

static void job_detail(struct job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void job_detail(struct job *j, const char *fmt, ...)
{
	va_list ap;

	free(j->detail);
	j->detail = NULL;
	va_start(ap, fmt);
	if (vasprintf(&j->detail, fmt, ap) < 0)
		j->detail = NULL;
	va_end(ap);
}

/* ---- the decisions ------------------------------------------------------------------ */

static void enum_next_chunk(struct target *t, enum tls_proto p);

static const char *proto_name(enum tls_proto p)
{
	return tls_version_name(tls_proto_version(p));
}

static bool offered(const struct job *j, uint16_t id)
{
	for (size_t i = 0; i < j->noffer; i++)
		if (j->offer[i] == id)
			return true;
	return false;
}

/* The offer of j without id, as a new job of the same kind. */
static struct job *job_without(const struct job *j, uint16_t id)
{
	struct job *n = job_new(j->t, j->kind, j->proto, NULL, 0);

	if (!n)
		return NULL;
	n->offer = malloc((j->noffer ? j->noffer : 1) * sizeof(*n->offer));
	if (!n->offer) {
		job_free(n);
		return NULL;
	}
	for (size_t i = 0; i < j->noffer; i++)
		if (j->offer[i] != id)
			n->offer[n->noffer++] = j->offer[i];
	return n;
}

static void start_groups(struct target *t, enum tls_proto p);
static void start_order(struct target *t, enum tls_proto p);

/* A protocol's enumeration is over: its verdict, then order and groups. */
static void enum_done(struct target *t, enum tls_proto p)
{
	struct penum *pe = &t->pe[p];
	size_t n = accepted_of(t, p, NULL, 0);

	pe->done = true;
	free(pe->pending);
	pe->pending = NULL;
	pe->npending = 0;
	if (n)
		t->r->support[p] = TLS_SUPPORT_YES;
	else if (t->r->support[p] == TLS_SUPPORT_UNTESTED)
		t->r->support[p] = TLS_SUPPORT_NO;
	if (p == TLS_P_SSL2 || !n)
		return;
	start_order(t, p);
	start_groups(t, p);
}

static bool is_accepted(const struct target *t, enum tls_proto p, uint16_t id)
{
	for (size_t i = 0; i < t->r->nciphers; i++)
		if (t->r->ciphers[i].proto == p && t->r->ciphers[i].id == id)
			return true;
	return false;
}

/* Decides the order with as few probes as the first hello allows. The
 * first hello offered X and Y (both accepted) and the server took X: a
 * probe offering [Y, X] then tells server order (X again) from client
 * order (Y), when Y came after X there. When Y came before X, the server
 * already passed over the client's order: X again is server order, Y
 * indeterminate. Without such a Y, nmap's two probes [A, B] and [B, A]. */
static void start_order(struct target *t, enum tls_proto p)
{
	struct penum *pe = &t->pe[p];
	uint16_t two[2], y = 0;
	size_t xpos = 0;
	int mode = 0;

	if (accepted_of(t, p, two, 2) < 2) {
		t->r->order[p] = TLS_ORDER_INDETERMINATE;
		return;
	}
	for (size_t i = 0; i < pe->nfirst; i++)
		if (pe->first_offer[i] == pe->first_pick)
			xpos = i;
	for (size_t i = xpos + 1; i < pe->nfirst && !y; i++)
		if (is_accepted(t, p, pe->first_offer[i])) {
			y = pe->first_offer[i];
			mode = 2;
		}
	for (size_t i = 0; i < xpos && !y; i++)
		if (is_accepted(t, p, pe->first_offer[i])) {
			y = pe->first_offer[i];
			mode = 3;
		}
	if (y) {
		uint16_t offer[2] = {y, pe->first_pick};
		struct job *j = job_new(t, JOB_ORDER, p, offer, 2);

		if (j)
			j->which = mode;
		queue(t, j);
		return;
	}
	for (int w = 0; w < 2; w++) {
		uint16_t offer[2] = {two[w], two[1 - w]};
		struct job *j = job_new(t, JOB_ORDER, p, offer, 2);

		if (j)
			j->which = w;
		queue(t, j);
	}
}

/* Both order probes answered (or failed). */
static void order_decided(struct target *t, enum tls_proto p, enum tls_order verdict)
{
	struct penum *pe = &t->pe[p];
	uint16_t *acc;
	size_t n;

	t->r->order[p] = verdict;
	if (verdict != TLS_ORDER_SERVER)
		return;
	n = accepted_of(t, p, NULL, 0);
	acc = malloc(n * sizeof(*acc));
	if (!acc)
		return;
	accepted_of(t, p, acc, n);
	if (pe->chunks_with_hits <= 1) {
		/* one chunk held them all: the enumeration's sequence is the order */
		t->r->server_order[p] = acc;
		t->r->nserver_order[p] = n;
		return;
	}
	if (n > CHUNK_MAX) {
		note(t, "%s: server order over the first %u of %zu suites only", proto_name(p),
		     CHUNK_MAX, n);
		n = CHUNK_MAX;
	}
	queue(t, job_new(t, JOB_OLIST, p, acc, n));
	free(acc);
}

/* The TLS 1.3 groups and the TLS <= 1.2 ECDHE curves. */
static const uint16_t all_groups[] = {
    0x001D, 0x0017, 0x0018, 0x0019, 0x001E, 0x0100, 0x0101, 0x0102, 0x0103, 0x0104, 0x001A,
    0x001B, 0x001C, 0x001F, 0x0020, 0x0021, 0x0029, 0x0015, 0x0016, 0x0013, 0x0014, 0x0012,
    0x0011, 0x0010, 0x000F, 0x000E, 0x000D, 0x000C, 0x000B, 0x000A, 0x0009, 0x0008, 0x0007,
    0x0006, 0x0005, 0x0004, 0x0003, 0x0002, 0x0001, 0x11EC, 0x11EB, 0x11ED, 0x6399,
};
static const uint16_t ec_groups[] = {
    0x001D, 0x0017, 0x0018, 0x0019, 0x001E, 0x001A, 0x001B, 0x001C, 0x0016, 0x0015,
    0x0014, 0x0013, 0x0012, 0x0011, 0x0010, 0x000F, 0x000E, 0x000D, 0x000C, 0x000B,
    0x000A, 0x0009, 0x0008, 0x0007, 0x0006, 0x0005, 0x0004, 0x0003, 0x0002, 0x0001,
};

static void start_groups(struct target *t, enum tls_proto p)
{
	struct penum *pe = &t->pe[p];
	uint16_t ecdhe[CHUNK_MAX];
	size_t n = 0;

	if (t->e->o.cert_only || pe->groups_started)
		return;
	if (p == TLS_P_TLS13) {
		struct job *j = job_new(t, JOB_GROUPS, p, all_groups,
					sizeof(all_groups) / sizeof(all_groups[0]));

		pe->groups_started = true;
		queue(t, j);
		return;
	}
	if (p == TLS_P_SSL2 || p == TLS_P_SSL3)
		return;
	/* the highest TLS <= 1.2 version with an ECDHE suite; it decides when
	 * it is done and no higher one is still enumerating */
	for (int q = TLS_P_TLS12; q > (int)p; q--)
		if (!t->pe[q].done || t->pe[q].groups_started)
			return;
	for (size_t i = 0; i < t->r->nciphers && n < CHUNK_MAX; i++) {
		const struct tls_suite *s;

		if (t->r->ciphers[i].proto != p)
			continue;
		s = tls_suite_by_id(t->r->ciphers[i].id);
		if (s && !strcmp(s->kx, "ECDHE"))
			ecdhe[n++] = s->id;
	}
	if (!n) {
		/* none here: a lower version may have some */
		if (p > TLS_P_TLS10 && t->pe[p - 1].done)
			start_groups(t, p - 1);
		return;
	}
	pe->groups_started = true;
	{
		struct job *j =
		    job_new(t, JOB_GROUPS, p, ec_groups, sizeof(ec_groups) / sizeof(ec_groups[0]));

		if (j && (j->gsuites = malloc(n * sizeof(*j->gsuites)))) {
			memcpy(j->gsuites, ecdhe, n * sizeof(*ecdhe));
			j->ngsuites = n;
		}
		queue(t, j);
	}
}

/* A target-wide failure: cancel what is queued, report. */
static void target_fail(struct target *t, enum pp_error err, const char *detail)
{
	if (!t->failed) {
		t->failed = true;
		t->r->error = err;
		free(t->r->error_detail);
		t->r->error_detail = detail ? strdup(detail) : NULL;
	}
	queue_drop(t);
}

/* What one enumeration job's answer means. */
static void enum_result(struct target *t, struct job *j)
{
	struct penum *pe = &t->pe[j->proto];
	uint16_t version = tls_proto_version(j->proto);

	if (j->end == END_HELLO && j->have_sh && j->sh.version == version &&
	    offered(j, j->sh.suite)) {
		add_cipher(t, j->proto, j->sh.suite, 0,
			   j->sh.is_hrr || j->sh.has_key_share ? j->sh.key_share_group
							       : j->ske_curve,
			   j->ske_dh_bits);
		t->r->support[j->proto] = TLS_SUPPORT_YES;
		if (!pe->first_offer && (pe->first_offer = malloc(j->noffer * sizeof(*j->offer)))) {
			memcpy(pe->first_offer, j->offer, j->noffer * sizeof(*j->offer));
			pe->nfirst = j->noffer;
			pe->first_pick = j->sh.suite;
		}
		if (!pe->chunk_hit) {
			pe->chunk_hit = true;
			pe->chunks_with_hits++;
		}
		if (j->noffer > 1) {
			queue(t, job_without(j, j->sh.suite));
			return;
		}
		enum_next_chunk(t, j->proto);
		return;
	}
	if (j->end == END_HELLO && j->have_sh) {
		if (j->sh.version != version) {
			/* answered with another version: this one is not spoken */
			enum_done(t, j->proto);
			return;
		}
		note(t, "%s: the server chose suite 0x%04X, which was not offered",
		     proto_name(j->proto), j->sh.suite);
		enum_next_chunk(t, j->proto);
		return;
	}
	if (j->end == END_REFUSED && j->alert == 70 /* protocol_version */ &&
	    t->r->support[j->proto] != TLS_SUPPORT_YES) {
		enum_done(t, j->proto);
		return;
	}
	if ((j->end == END_RESET || j->end == END_SILENT) && j->noffer > CHUNK_MIN && t->answered) {
		/* hello intolerance? offer half now, half later */
		size_t half = j->noffer / 2;
		uint16_t *np =
		    realloc(pe->pending, (pe->npending + j->noffer - half) * sizeof(*np));

		if (np) {
			memmove(np + (j->noffer - half), np, pe->npending * sizeof(*np));
			memcpy(np, j->offer + half, (j->noffer - half) * sizeof(*np));
			pe->pending = np;
			pe->npending += j->noffer - half;
			pe->chunk_size = half;
			note(t, "%s: a %zu-suite hello got %s; offering %zu at a time",
			     proto_name(j->proto), j->noffer,
			     j->end == END_SILENT ? "no answer" : "a reset", half);
			queue(t, job_new(t, JOB_ENUM, j->proto, j->offer, half));
			return;
		}
	}
	if (j->end == END_RESET || j->end == END_SILENT || j->end == END_BROKEN ||
	    j->end == END_NOT_TLS || j->end == END_TRUNCATED) {
		note(t, "%s: %zu suites not decided: %s", proto_name(j->proto), j->noffer,
		     j->detail ? j->detail : "no answer");
		if (t->r->support[j->proto] == TLS_SUPPORT_UNTESTED)
			t->r->support[j->proto] = TLS_SUPPORT_ERROR;
	}
	enum_next_chunk(t, j->proto);
}

/* Offers the next chunk of p's candidates, or ends p's enumeration. */
static void enum_next_chunk(struct target *t, enum tls_proto p)
{
	struct penum *pe = &t->pe[p];
	size_t n;
	struct job *j;

	pe->chunk_hit = false;
	if (!pe->npending) {
		if (t->r->support[p] == TLS_SUPPORT_ERROR && accepted_of(t, p, NULL, 0))
			t->r->support[p] = TLS_SUPPORT_YES;
		if (t->r->support[p] == TLS_SUPPORT_ERROR) {
			pe->done = true;
			return;
		}
		enum_done(t, p);
		return;
	}
	n = pe->npending < pe->chunk_size ? pe->npending : pe->chunk_size;
	j = job_new(t, JOB_ENUM, p, pe->pending, n);
	memmove(pe->pending, pe->pending + n, (pe->npending - n) * sizeof(*pe->pending));
	pe->npending -= n;
	queue(t, j);
}

static void start_enum(struct target *t, enum tls_proto p)
{
	struct penum *pe = &t->pe[p];
	uint16_t version = tls_proto_version(p);
	size_t n;

	if (p == TLS_P_SSL2) {
		queue(t, job_new(t, JOB_SSL2, p, NULL, 0));
		return;
	}
	n = tls_suites_for_version(version, NULL, 0);
	pe->pending = malloc((n ? n : 1) * sizeof(*pe->pending));
	if (!pe->pending) {
		note(t, "%s: out of memory", proto_name(p));
		return;
	}
	pe->npending = tls_suites_for_version(version, pe->pending, n);
	pe->chunk_size = CHUNK_MAX;
	enum_next_chunk(t, p);
}

/* ---- certificates ----------------------------------------------------------------- */

/* Keeps the chain j's handshake got, merged with an identical one. */
static void cert_keep(struct target *t, struct job *j)
{
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(j->ssl);
	struct tls_report *r = t->r;
	struct tls_deployment *d, *nd;
	const unsigned char *ocsp = NULL;
	long ocsp_len;
	int n = chain ? sk_X509_num(chain) : 0;
	unsigned char **der;
	size_t *len;

	if (n <= 0)
		return;
	der = calloc((size_t)n, sizeof(*der));
	len = calloc((size_t)n, sizeof(*len));
	if (!der || !len)
		goto fail;
	for (int i = 0; i < n; i++) {
		int l = i2d_X509(sk_X509_value(chain, i), &der[i]);

		if (l <= 0)
			goto fail;
		len[i] = (size_t)l;
	}
	for (size_t k = 0; k < r->ndeps; k++) {
		d = &r->deps[k];
		if (d->n != (size_t)n)
			continue;
		bool same = true;

		for (int i = 0; i < n && same; i++)
			same = d->der_len[i] == len[i] && !memcmp(d->der[i], der[i], len[i]);
		if (same) {
			d->found_by |= j->cert_probe;
			goto fail; /* not a failure: a duplicate, freed below */
		}
	}
	nd = realloc(r->deps, (r->ndeps + 1) * sizeof(*nd));
	if (!nd)
		goto fail;
	r->deps = nd;
	d = &nd[r->ndeps++];
	memset(d, 0, sizeof(*d));
	d->n = (size_t)n;
	d->der = der;
	d->der_len = len;
	d->found_by = j->cert_probe;
	d->version = (uint16_t)SSL_version(j->ssl);
	d->suite = SSL_get_current_cipher(j->ssl)
		       ? SSL_CIPHER_get_protocol_id(SSL_get_current_cipher(j->ssl))
		       : 0;
	ocsp_len = SSL_get_tlsext_status_ocsp_resp(j->ssl, &ocsp);
	if (ocsp && ocsp_len > 0 && (d->ocsp_der = malloc((size_t)ocsp_len))) {
		memcpy(d->ocsp_der, ocsp, (size_t)ocsp_len);
		d->ocsp_der_len = (size_t)ocsp_len; /* judged with the chain at the end */
	}
	return;
fail:
	for (int i = 0; der && i < n; i++)
		OPENSSL_free(der[i]);
	free(der);
	free(len);
}

static void start_certs(struct target *t)
{
	static const unsigned types[] = {TLS_CERT_PROBE_RSA, TLS_CERT_PROBE_ECDSA,
					 TLS_CERT_PROBE_EDDSA};

	for (size_t i = 0; i < 3; i++) {
		struct job *j = job_new(t, JOB_CERT, TLS_P_TLS13, NULL, 0);

		if (j)
			j->cert_probe =
			    types[i] | (t->r->sni ? TLS_CERT_PROBE_SNI : TLS_CERT_PROBE_NO_SNI);
		queue(t, j);
		if (t->r->sni) {
			j = job_new(t, JOB_CERT, TLS_P_TLS13, NULL, 0);
			if (j)
				j->cert_probe = types[i] | TLS_CERT_PROBE_NO_SNI;
			queue(t, j);
		}
	}
}

/* ---- a job's end ------------------------------------------------------------------ */

static void job_close(struct job *j)
{
	struct pp_tls *e = j->t->e;

	pp_timer_stop(e->loop, &j->timer);
	if (j->cp) {
		connector_cancel(e->conn, j->cp);
		j->cp = NULL;
	}
	if (j->fd >= 0) {
		pp_loop_close_fd(e->loop, j->fd);
		j->fd = -1;
	}
}

/* The job is over: decide, free, start more. */
static void job_end(struct job *j, enum job_end end)
{
	struct target *t = j->t;
	struct penum *pe = &t->pe[j->proto];

	j->end = end;
	job_close(j);
	if (j->rprev)
		j->rprev->rnext = j->rnext;
	else
		t->e->running_jobs = j->rnext;
	if (j->rnext)
		j->rnext->rprev = j->rprev;
	t->active--;
	t->jobs--;
	if (t->failed || t->e->stopping)
		goto out;
	if (end == END_CONNECT) {
		target_fail(t, j->conn_error, j->detail);
		goto out;
	}
	if (end == END_STARTTLS) {
		target_fail(t, PP_ERROR_OTHER, j->detail);
		t->r->error_kind = "STARTTLS failed";
		goto out;
	}
	if (end == END_HELLO || end == END_SSL_OK || (end == END_REFUSED && j->alert))
		t->answered = true;
	if (!t->answered &&
	    (end == END_SILENT || end == END_RESET || end == END_TRUNCATED || end == END_NOT_TLS ||
	     end == END_BROKEN) &&
	    ++t->dead >= 2) {
		/* two probes failed and nothing ever answered TLS: the port does
		 * not speak it (or not to us); stop rather than wait out every
		 * probe's timeout */
		queue_drop(t);
		t->failed_quietly = true;
	}
	{
		/* remembered in case nothing else is learned from the target */
		static const int rank[] = {
		    [END_NOT_TLS] = 6, [END_BROKEN] = 5, [END_TRUNCATED] = 4,
		    [END_RESET] = 3,   [END_SILENT] = 2, [END_SSL_FAILED] = 1,
		};

		if ((size_t)end < sizeof(rank) / sizeof(rank[0]) && rank[end] > t->worst) {
			t->worst = rank[end];
			t->worst_end = end;
			free(t->worst_detail);
			t->worst_detail = j->detail ? strdup(j->detail) : NULL;
		}
	}
	switch (j->kind) {
	case JOB_ENUM:
		enum_result(t, j);
		break;
	case JOB_SSL2:
		if (end == END_HELLO && j->nv2) {
			for (size_t i = 0; i < j->nv2; i++)
				add_cipher(t, TLS_P_SSL2, 0, j->v2_specs[i], 0, 0);
		} else if (end != END_REFUSED && end != END_HELLO && end != END_NOT_TLS) {
			note(t, "SSLv2: %s", j->detail ? j->detail : "no answer");
			t->r->support[TLS_P_SSL2] = TLS_SUPPORT_ERROR;
		}
		enum_done(t, TLS_P_SSL2);
		break;
	case JOB_ORDER: {
		uint16_t pick =
		    end == END_HELLO && j->have_sh && offered(j, j->sh.suite) ? j->sh.suite : 0;

		if (j->which >= 2) { /* one probe [Y, X], see start_order */
			order_decided(t, j->proto,
				      pick == j->offer[1] ? TLS_ORDER_SERVER
				      : pick == j->offer[0] && j->which == 2
					  ? TLS_ORDER_CLIENT
					  : TLS_ORDER_INDETERMINATE);
			break;
		}
		pe->order_pick[j->which] = pick;
		if (++pe->order_answers < 2)
			break;
		{
			uint16_t two[2];

			accepted_of(t, j->proto, two, 2);
			order_decided(t, j->proto,
				      !pe->order_pick[0] || !pe->order_pick[1]
					  ? TLS_ORDER_INDETERMINATE
				      : pe->order_pick[0] == pe->order_pick[1] ? TLS_ORDER_SERVER
				      : pe->order_pick[0] == two[0] && pe->order_pick[1] == two[1]
					  ? TLS_ORDER_CLIENT
					  : TLS_ORDER_INDETERMINATE);
		}
		break;
	}
	case JOB_OLIST:
		if (end == END_HELLO && j->have_sh && offered(j, j->sh.suite)) {
			uint16_t *n = realloc(t->r->server_order[j->proto],
					      (t->r->nserver_order[j->proto] + 1) * sizeof(*n));

			if (n) {
				n[t->r->nserver_order[j->proto]++] = j->sh.suite;
				t->r->server_order[j->proto] = n;
			}
			if (j->noffer > 1)
				queue(t, job_without(j, j->sh.suite));
		}
		break;
	case JOB_GROUPS: {
		uint16_t g = 0;

		if (end == END_HELLO && j->have_sh) {
			if (j->proto == TLS_P_TLS13 && (j->sh.is_hrr || j->sh.has_key_share))
				g = j->sh.key_share_group;
			else if (j->proto != TLS_P_TLS13)
				g = j->ske_curve;
		}
		if (g && offered(j, g)) {
			struct job *n;

			add_group(t, g, j->proto);
			n = job_without(j, g);
			if (n && j->ngsuites) {
				n->gsuites = malloc(j->ngsuites * sizeof(*n->gsuites));
				if (n->gsuites) {
					memcpy(n->gsuites, j->gsuites,
					       j->ngsuites * sizeof(*n->gsuites));
					n->ngsuites = j->ngsuites;
				}
			}
			if (n && n->noffer)
				queue(t, n);
			else
				job_free(n);
		}
		break;
	}
	case JOB_CERT:
		if (end == END_SSL_OK) {
			cert_keep(t, j);
		} else if (j->detail && !t->cert_fail) {
			t->cert_fail = j->detail; /* why no chain came, if none does */
			j->detail = NULL;
		}
		break;
	}
	/* a lower version's groups wait for the higher ones to finish */
	if (j->kind == JOB_ENUM || j->kind == JOB_SSL2)
		for (int q = TLS_P_TLS12; q >= TLS_P_TLS10; q--)
			if (t->pe[q].done && !t->pe[q].groups_started &&
			    accepted_of(t, (enum tls_proto)q, NULL, 0)) {
				start_groups(t, (enum tls_proto)q);
				break;
			}
out:
	job_free(j);
	target_pump(t);
}

/* ---- a job's connection ------------------------------------------------------------- */

static void job_on_io(struct pp_loop *loop, int fd, uint32_t events, void *data);

static void job_on_timeout(struct pp_loop *loop, struct pp_timer *tm, void *data)
{
	struct job *j = data;

	job_detail(j, "no answer in %.1f s", (double)j->t->e->o.timeout_ns / 1e9);
	if (j->phase == PH_CONNECT) {
		j->conn_error = PP_ERROR_TIMEOUT;
		job_end(j, END_CONNECT);
		return;
	}
	if (j->phase == PH_STARTTLS) {
		tls_starttls_abort(j->st, "timed out");
		job_detail(j, "%s", tls_starttls_error(j->st));
		job_end(j, END_STARTTLS);
		return;
	}
	if (j->kind != JOB_CERT && j->rd_used && j->rd.total && !j->have_sh) {
		job_detail(j, "%zu bytes of a TLS answer, then nothing for %.1f s", j->rd.total,
			   (double)j->t->e->o.timeout_ns / 1e9);
		job_end(j, END_TRUNCATED);
		return;
	}
	job_end(j, j->kind == JOB_CERT ? END_SSL_FAILED : END_SILENT);
}

/* Writes what is pending in j->out: 1 all written, 0 the socket is full
 * (wait for EPOLLOUT), -1 failed (j->detail says why). */
static int job_flush(struct job *j)
{
	while (j->out_off < j->out.len) {
		ssize_t w = send(j->fd, j->out.data + j->out_off, j->out.len - j->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			job_detail(j, "send: %s", strerror(errno));
			return -1;
		}
		j->out_off += (size_t)w;
	}
	pp_buf_reset(&j->out);
	j->out_off = 0;
	return 1;
}

static void job_watch(struct job *j)
{
	pp_loop_mod_fd(j->t->e->loop, j->fd, EPOLLIN | (j->out.len ? EPOLLOUT : 0));
}

static int random_bytes(uint8_t *p, size_t n)
{
	return RAND_bytes(p, (int)n) == 1 ? 0 : -EIO;
}

/* Builds j's ClientHello into j->out. */
static int job_build_hello(struct job *j)
{
	struct target *t = j->t;
	struct tls_hello_spec spec;
	uint16_t *suites = j->offer;
	size_t nsuites = j->noffer;
	uint16_t tmp[CHUNK_MAX];
	int r;

	if (j->kind == JOB_SSL2) {
		uint32_t specs[16];
		uint8_t challenge[16];
		size_t n = 0;

		for (size_t i = 0; i < tls_sslv2_suites_count && n < 16; i++)
			specs[n++] = tls_sslv2_suites[i].id;
		if ((r = random_bytes(challenge, sizeof(challenge))) < 0)
			return r;
		return tls_hello_build_v2(&j->out, specs, n, challenge);
	}
	memset(&spec, 0, sizeof(spec));
	spec.version = tls_proto_version(j->proto);
	spec.sni = t->r->sni;
	if (j->kind == JOB_GROUPS) {
		spec.groups = j->offer;
		spec.ngroups = j->noffer;
		if (j->proto == TLS_P_TLS13) {
			nsuites = tls_suites_for_version(TLS_VERSION_TLS13, tmp, CHUNK_MAX);
			suites = tmp;
		} else {
			suites = j->gsuites;
			nsuites = j->ngsuites;
		}
	}
	spec.suites = suites;
	spec.nsuites = nsuites;
	if ((r = random_bytes(spec.random, sizeof(spec.random))) < 0 ||
	    (r = random_bytes(spec.session_id, sizeof(spec.session_id))) < 0 ||
	    (r = random_bytes(spec.key_share, sizeof(spec.key_share))) < 0)
		return r;
	return tls_hello_build(&j->out, &spec);
}

/* What a cert job of each type offers: TLS <= 1.2 suites by authentication,
 * and signature algorithms (which pick the certificate in TLS 1.3). */
static const struct {
	const char *ciphers, *sigalgs;
} cert_offer[3] = {
    {"aRSA:@SECLEVEL=0", "RSA+SHA256:RSA+SHA384:RSA+SHA512:RSA-PSS+SHA256:RSA-PSS+SHA384:"
			 "RSA-PSS+SHA512:rsa_pss_pss_sha256:rsa_pss_pss_sha384:"
			 "rsa_pss_pss_sha512:RSA+SHA224:RSA+SHA1"},
    {"aECDSA:@SECLEVEL=0", "ECDSA+SHA256:ECDSA+SHA384:ECDSA+SHA512:ECDSA+SHA224:ECDSA+SHA1"},
    {"aECDSA:@SECLEVEL=0", "ed25519:ed448"},
};

/* Sets up the libssl handshake of a cert job on j->fd. */
static int job_ssl_setup(struct job *j)
{
	struct pp_tls *e = j->t->e;
	int type = j->cert_probe & TLS_CERT_PROBE_RSA     ? 0
		   : j->cert_probe & TLS_CERT_PROBE_ECDSA ? 1
							  : 2;

	j->ssl = SSL_new(e->ctx);
	if (!j->ssl || !SSL_set_fd(j->ssl, j->fd) ||
	    !SSL_set_cipher_list(j->ssl, cert_offer[type].ciphers) ||
	    !SSL_set1_sigalgs_list(j->ssl, cert_offer[type].sigalgs))
		return -ENOMEM;
	if ((j->cert_probe & TLS_CERT_PROBE_SNI) && j->t->r->sni)
		SSL_set_tlsext_host_name(j->ssl, j->t->r->sni);
	SSL_set_tlsext_status_type(j->ssl, TLSEXT_STATUSTYPE_ocsp);
	SSL_set_connect_state(j->ssl);
	return 0;
}

/* Drives the libssl handshake one step. */
static void job_ssl_step(struct job *j)
{
	int r, err;

	ERR_clear_error();
	r = SSL_do_handshake(j->ssl);
	if (r == 1) {
		job_end(j, END_SSL_OK);
		return;
	}
	err = SSL_get_error(j->ssl, r);
	if (err == SSL_ERROR_WANT_READ) {
		pp_loop_mod_fd(j->t->e->loop, j->fd, EPOLLIN);
		return;
	}
	if (err == SSL_ERROR_WANT_WRITE) {
		pp_loop_mod_fd(j->t->e->loop, j->fd, EPOLLOUT);
		return;
	}
	{
		char buf[160];
		unsigned long e = ERR_peek_error();

		ERR_error_string_n(e, buf, sizeof(buf));
		job_detail(j, "handshake: %s", e ? buf : "connection closed");
	}
	job_end(j, END_SSL_FAILED);
}

/* The server's bytes after the hello: decide when enough is known. */
static void job_read_events(struct job *j)
{
	struct tls_event ev;
	int r;

	while ((r = tls_reader_next(&j->rd, &ev)) > 0) {
		switch (r) {
		case TLS_EV_SERVER_HELLO: {
			const struct tls_suite *s;

			j->sh = ev.sh;
			j->sh.random = NULL;
			j->have_sh = true;
			s = tls_suite_by_id(ev.sh.suite);
			if (s && (!strcmp(s->kx, "DHE") || !strcmp(s->kx, "DH") ||
				  !strcmp(s->kx, "DHE_PSK")))
				tls_reader_set_kx(&j->rd, TLS_KX_DHE);
			else if (s && (!strcmp(s->kx, "ECDHE") || !strcmp(s->kx, "ECDHE_PSK")))
				tls_reader_set_kx(&j->rd, TLS_KX_ECDHE);
			else
				tls_reader_set_kx(&j->rd, TLS_KX_OTHER);
			/* done unless a ServerKeyExchange will tell the group or
			 * DH size: TLS 1.3 and HRR carry it in the hello itself */
			if (ev.sh.is_hrr || ev.sh.version == TLS_VERSION_TLS13 ||
			    j->kind == JOB_ORDER || j->kind == JOB_OLIST || !s ||
			    (strcmp(s->kx, "DHE") && strcmp(s->kx, "ECDHE") &&
			     strcmp(s->kx, "DHE_PSK") && strcmp(s->kx, "ECDHE_PSK"))) {
				job_end(j, END_HELLO);
				return;
			}
			break;
		}
		case TLS_EV_SERVER_KEY_EXCHANGE:
			if (ev.ske.kx == TLS_KX_ECDHE)
				j->ske_curve = ev.ske.curve;
			else if (ev.ske.kx == TLS_KX_DHE)
				j->ske_dh_bits = (uint16_t)ev.ske.dh_bits;
			job_end(j, END_HELLO);
			return;
		case TLS_EV_ALERT:
			if (j->have_sh) {
				job_end(j, END_HELLO);
				return;
			}
			j->alert = ev.alert.description;
			job_detail(j, "alert %u", ev.alert.description);
			job_end(j, END_REFUSED);
			return;
		case TLS_EV_SSLV2_SERVER_HELLO:
			j->nv2 = 0;
			j->v2_specs =
			    malloc((ev.v2.nspecs ? ev.v2.nspecs : 1) * sizeof(*j->v2_specs));
			if (j->v2_specs)
				for (size_t i = 0; i < ev.v2.nspecs; i++)
					j->v2_specs[j->nv2++] = tls_sslv2_spec(&ev.v2, i);
			j->have_sh = true;
			job_end(j, END_HELLO);
			return;
		case TLS_EV_SERVER_HELLO_DONE:
		case TLS_EV_ENCRYPTED:
		case TLS_EV_CHANGE_CIPHER_SPEC:
		case TLS_EV_END:
			job_end(j, j->have_sh ? END_HELLO : END_REFUSED);
			return;
		default:
			break; /* certificate, other handshake messages: read on */
		}
	}
	if (r == TLS_EV_NEED_MORE)
		return;
	if (j->have_sh) {
		job_end(j, END_HELLO); /* what came after the hello does not matter */
		return;
	}
	if (r == TLS_ERR_NOT_TLS && j->rd.in_len) {
		/* show what came instead: printable text as text, else hex */
		char text[40], hex[3 * 12 + 1];
		size_t n = j->rd.in_len < 32 ? j->rd.in_len : 32, k = 0, h = 0;
		bool printable = true;

		for (size_t i = 0; i < n; i++) {
			uint8_t c = j->rd.in[i];

			if (c == '\r' || c == '\n')
				break;
			printable = printable && c >= 0x20 && c < 0x7f;
			text[k++] = printable ? (char)c : '?';
		}
		text[k] = '\0';
		for (size_t i = 0; i < n && i < 12; i++)
			h += (size_t)snprintf(hex + h, sizeof(hex) - h, "%s%02X", i ? " " : "",
					      j->rd.in[i]);
		if (printable && k)
			job_detail(j, "the answer starts with \"%s\"", text);
		else
			job_detail(j, "the answer starts with bytes %s", hex);
	} else {
		job_detail(j, "%s", tls_event_name(r));
	}
	job_end(j, r == TLS_ERR_NOT_TLS     ? END_NOT_TLS
		   : r == TLS_ERR_TRUNCATED ? END_RESET
		   : r == -ENOMEM           ? END_LOCAL
					    : END_BROKEN);
}

/* Starts the TLS part (hello or handshake) once STARTTLS is through. */
static void job_begin_tls(struct job *j)
{

	if (j->kind == JOB_CERT) {
		j->phase = PH_SSL;
		if (job_ssl_setup(j) < 0) {
			job_detail(j, "out of memory");
			job_end(j, END_LOCAL);
			return;
		}
		job_ssl_step(j);
		return;
	}
	j->phase = PH_HELLO;
	if (job_build_hello(j) < 0) {
		job_detail(j, "cannot build the hello");
		job_end(j, END_LOCAL);
		return;
	}
	tls_reader_init(&j->rd, NULL);
	j->rd_used = true;
	if (job_flush(j) < 0) {
		job_end(j, END_RESET);
		return;
	}
	job_watch(j);
}

static void job_starttls(struct job *j, const uint8_t *in, size_t n)
{
	int r = tls_starttls_step(j->st, in, n, &j->out);

	if (r == TLS_STARTTLS_FAIL) {
		job_detail(j, "%s", tls_starttls_error(j->st));
		job_end(j, END_STARTTLS);
		return;
	}
	if (job_flush(j) < 0) {
		job_end(j, END_STARTTLS);
		return;
	}
	if (r == TLS_STARTTLS_READY) {
		if (j->out.len) { /* rare: READY with bytes still to send; keep it simple */
			job_detail(j, "%s: could not send the request",
				   tls_starttls_name(j->t->r->starttls));
			job_end(j, END_STARTTLS);
			return;
		}
		job_begin_tls(j);
		return;
	}
	job_watch(j);
}

static void job_on_io(struct pp_loop *loop, int fd, uint32_t events, void *data)
{
	struct job *j = data;
	uint8_t buf[READ_SIZE];
	ssize_t n;

	if (j->phase == PH_SSL) {
		job_ssl_step(j);
		return;
	}
	if ((events & EPOLLOUT) && j->out.len) {
		if (job_flush(j) < 0) {
			job_end(j, j->phase == PH_STARTTLS ? END_STARTTLS : END_RESET);
			return;
		}
		job_watch(j);
	}
	if (!(events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
		return;
	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		job_detail(j, "%s", strerror(errno));
		if (j->phase == PH_STARTTLS) {
			job_end(j, END_STARTTLS);
			return;
		}
		if (j->have_sh) {
			job_end(j, END_HELLO);
			return;
		}
		job_end(j, END_RESET);
		return;
	}
	if (j->phase == PH_STARTTLS) {
		if (n == 0) {
			tls_starttls_abort(j->st, "connection closed");
			job_detail(j, "%s", tls_starttls_error(j->st));
			job_end(j, END_STARTTLS);
			return;
		}
		job_starttls(j, buf, (size_t)n);
		return;
	}
	if (n == 0) {
		tls_reader_eof(&j->rd);
	} else if (tls_reader_feed(&j->rd, buf, (size_t)n) == -ENOMEM) {
		job_end(j, END_LOCAL);
		return;
	}
	job_read_events(j);
}

/* The TCP connect is done. */
static void job_on_connect(void *data, const struct pp_conn_outcome *o)
{
	struct job *j = data;
	struct pp_tls *e = j->t->e;

	j->cp = NULL;
	j->t->r->connections++;
	if (o->state != PP_STATE_OPEN) {
		char what[256];

		classify_describe(o, (double)e->o.timeout_ns / 1e9, what, sizeof(what));
		job_detail(j, "%s", what);
		j->conn_error = o->error;
		job_end(j, o->error == PP_ERROR_LOCAL_RESOURCE ? END_LOCAL : END_CONNECT);
		return;
	}
	j->fd = connector_take_fd(e->conn);
	if (j->fd < 0 || pp_loop_set_handler(e->loop, j->fd, job_on_io, j, true) < 0) {
		job_detail(j, "lost the connection");
		job_end(j, END_LOCAL);
		return;
	}
	if (j->t->r->starttls != TLS_STARTTLS_NONE) {
		j->st = malloc(sizeof(*j->st));
		if (!j->st) {
			job_end(j, END_LOCAL);
			return;
		}
		j->phase = PH_STARTTLS;
		tls_starttls_init(j->st, j->t->r->starttls,
				  j->t->r->sni ? j->t->r->sni : j->t->r->host);
		job_starttls(j, NULL, 0);
		return;
	}
	job_begin_tls(j);
}

static void job_run(struct job *j)
{
	struct target *t = j->t;
	struct pp_tls *e = t->e;
	struct conn_req req;

	memset(&req, 0, sizeof(req));
	req.dst = t->r->ip;
	req.timeout_ns = e->o.timeout_ns;
	req.keep = true;
	pp_buf_init(&j->out, 1u << 20);
	pp_timer_init(&j->timer, job_on_timeout, j);
	pp_timer_start(e->loop, &j->timer, e->o.timeout_ns);
	j->phase = PH_CONNECT;
	t->active++;
	j->rprev = NULL;
	j->rnext = e->running_jobs;
	if (j->rnext)
		j->rnext->rprev = j;
	e->running_jobs = j;
	if (connector_start(e->conn, &req, job_on_connect, j, &j->cp) < 0) {
		job_detail(j, "out of memory");
		job_end(j, END_LOCAL);
	}
}

/* ---- targets -------------------------------------------------------------------- */

static void target_on_delay(struct pp_loop *loop, struct pp_timer *tm, void *data)
{
	target_pump(data);
}

/* Starts queued jobs within the target's limits; finishes an idle target. */
static void target_pump(struct target *t)
{
	struct pp_tls *e = t->e;

	while (t->qhead && t->active < e->o.max_conns && !t->failed && !e->stopping) {
		uint64_t now = clock_now_ns();
		struct job *j;

		if (e->o.delay_ns && now < t->next_start) {
			pp_timer_start(e->loop, &t->delay, t->next_start - now);
			return;
		}
		j = t->qhead;
		t->qhead = j->next;
		if (!t->qhead)
			t->qtail = NULL;
		t->next_start = now + e->o.delay_ns;
		job_run(j);
	}
	if (!t->jobs && !t->reported)
		target_finish(t);
}

/* Summarises and judges every chain, for the report. */
static void judge_chains(struct target *t)
{
	struct pp_tls *e = t->e;
	struct tls_report *r = t->r;
	char ip[PP_ADDRSTRLEN];

	for (size_t k = 0; k < r->ndeps; k++) {
		struct tls_deployment *d = &r->deps[k];
		STACK_OF(X509) *sk = sk_X509_new_null();
		struct tls_verify_opts vo;

		d->certs = calloc(d->n, sizeof(*d->certs));
		if (!sk || !d->certs) {
			sk_X509_free(sk);
			continue;
		}
		for (size_t i = 0; i < d->n; i++) {
			const unsigned char *p = d->der[i];
			X509 *x = d2i_X509(NULL, &p, (long)d->der_len[i]);

			if (!x)
				continue;
			tls_cert_summarize(x, r->now, &d->certs[i]);
			if (!sk_X509_push(sk, x))
				X509_free(x);
		}
		memset(&vo, 0, sizeof(vo));
		vo.store = e->store;
		/* the name the user gave, else the SNI sent, else the address */
		vo.host = t->name ? t->name : r->sni ? r->sni : pp_addr_str(&r->ip, ip, sizeof(ip));
		vo.now = r->now;
		tls_chain_verify(sk, &vo, &d->chain);
		if (d->ocsp_der && sk_X509_num(sk) > 0)
			tls_ocsp_staple_status(d->ocsp_der, d->ocsp_der_len, sk_X509_value(sk, 0),
					       sk_X509_num(sk) > 1 ? sk_X509_value(sk, 1) : NULL,
					       e->store, r->now, &d->ocsp);
		sk_X509_pop_free(sk, X509_free);
	}
}

static void target_finish(struct target *t)
{
	struct pp_tls *e = t->e;

	t->reported = true;
	if (!t->failed)
		judge_chains(t);
	if (!t->failed && !t->r->ndeps && !t->r->nciphers && t->worst) {
		/* the port answered nothing TLS: say how */
		static const struct {
			enum job_end end;
			enum pp_error err;
			const char *kind;
		} cls[] = {
		    {END_NOT_TLS, PP_ERROR_OTHER, "Not a TLS server"},
		    {END_BROKEN, PP_ERROR_OTHER, "Malformed TLS answer"},
		    {END_TRUNCATED, PP_ERROR_OTHER, "Truncated TLS answer"},
		    {END_RESET, PP_ERROR_OTHER, "Connection reset in handshake"},
		    {END_SILENT, PP_ERROR_TIMEOUT, "No TLS answer"},
		    {END_SSL_FAILED, PP_ERROR_OTHER, "Handshake failed"},
		};

		for (size_t i = 0; i < sizeof(cls) / sizeof(cls[0]); i++)
			if (cls[i].end == t->worst_end) {
				t->r->error = cls[i].err;
				t->r->error_kind = cls[i].kind;
				t->r->error_detail = t->worst_detail;
				t->worst_detail = NULL;
			}
	} else if (!t->failed && !t->r->ndeps && t->cert_fail) {
		/* hellos were answered, but no handshake delivered a certificate */
		t->r->error = PP_ERROR_OTHER;
		t->r->error_kind = "Handshake failed";
		t->r->error_detail = t->cert_fail;
		t->cert_fail = NULL;
	}
	clock_gettime(CLOCK_REALTIME, &t->r->end);
	e->done[e->ndone++] = t->r;
	e->running--;
	if (e->cb && !e->stopping)
		e->cb(e->cbdata, (const struct pp_tls_report *)t->r);
	if (e->next_target < e->ntargets && !e->stopping)
		pp_timer_start(e->loop, &e->kick, 0); /* the next target, from the loop */
}

/* Queues a resolved target's first jobs. */
static void target_begin(struct target *t)
{
	struct pp_tls *e = t->e;
	static const enum tls_proto order[] = {TLS_P_TLS12, TLS_P_TLS13, TLS_P_TLS11,
					       TLS_P_TLS10, TLS_P_SSL3,  TLS_P_SSL2};

	/* certificates first: a handshake also tells early whether the port
	 * speaks TLS at all */
	start_certs(t);
	if (!e->o.cert_only)
		for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
			start_enum(t, order[i]);
	target_pump(t);
}

static void target_on_resolved(void *data, enum pp_error err, const struct pp_addr *addrs, size_t n,
			       const char *detail)
{
	struct target *t = data;

	t->lookup = NULL;
	if (err != PP_ERROR_NONE || !n) {
		t->failed = true;
		t->r->error = err != PP_ERROR_NONE ? err : PP_ERROR_HOST_NOT_FOUND;
		t->r->error_detail = detail ? strdup(detail) : NULL;
		target_finish(t);
		return;
	}
	t->r->ip = addrs[0];
	pp_addr_set_port(&t->r->ip, t->r->port);
	target_begin(t);
}

/* Starts the next targets while fewer than o.parallel run. */
static void start_targets(struct pp_tls *e)
{
	while (e->next_target < e->ntargets && e->running < e->o.parallel && !e->stopping) {
		struct target *t = e->targets[e->next_target++];
		const char *why;

		e->running++;
		clock_gettime(CLOCK_REALTIME, &t->r->start);
		pp_timer_init(&t->delay, target_on_delay, t);
		if (pp_parse_ip(t->r->host, t->r->port, &t->r->ip, &why) == 0) {
			target_begin(t);
			continue;
		}
		if (resolver_lookup(e->res, t->r->host, e->o.family, t->r->port, e->o.timeout_ns,
				    target_on_resolved, t, &t->lookup) < 0) {
			t->failed = true;
			t->r->error = PP_ERROR_LOCAL_RESOURCE;
			target_finish(t);
		}
	}
}

/* ---- the engine ------------------------------------------------------------------ */

/* One client context for every cert job; the type-specific offer (suites
 * and signature algorithms) is set per connection, since each SSL_CTX_new
 * costs OpenSSL 3 milliseconds. */
static int ctx_new(SSL_CTX **ret)
{
	SSL_CTX *c = SSL_CTX_new(TLS_client_method());

	if (!c)
		return -ENOMEM;
	SSL_CTX_set_security_level(c, 0);
	SSL_CTX_set_min_proto_version(c, TLS1_VERSION);
	SSL_CTX_set_max_proto_version(c, TLS1_3_VERSION);
	SSL_CTX_set_verify(c, SSL_VERIFY_NONE, NULL);
	if (!SSL_CTX_set_ciphersuites(c, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
					 "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_CCM_SHA256:"
					 "TLS_AES_128_CCM_8_SHA256")) {
		SSL_CTX_free(c);
		return -EINVAL;
	}
	SSL_CTX_set1_groups_list(c, "X25519:P-256:P-384:P-521:X448:ffdhe2048:ffdhe3072:"
				    "ffdhe4096:ffdhe6144:ffdhe8192");
	*ret = c;
	return 0;
}

/* The system's trust anchors, looked up by subject hash in the certificate
 * directory when a chain needs one (SSL_CERT_DIR, else OpenSSL's default).
 * Not X509_STORE_set_default_paths(): in OpenSSL 3 it also adds a store
 * loader that lists the whole directory for every lookup, and it parses the
 * whole bundle file up front (25 ms for Debian's, more than a probe). A
 * SSL_CERT_FILE is loaded too unless it is the system bundle itself (whose
 * certificates the hashed directory already holds). */
static int store_system(X509_STORE *st)
{
	const char *dir = getenv(X509_get_default_cert_dir_env());
	const char *file = getenv(X509_get_default_cert_file_env());
	X509_LOOKUP *lk = X509_STORE_add_lookup(st, X509_LOOKUP_hash_dir());
	char *a, *b;
	bool system_bundle;

	if (!lk ||
	    !X509_LOOKUP_add_dir(lk, dir ? dir : X509_get_default_cert_dir(), X509_FILETYPE_PEM))
		return -EINVAL;
	if (!file)
		return 0;
	a = realpath(file, NULL);
	b = realpath(X509_get_default_cert_file(), NULL);
	system_bundle = a && b && !strcmp(a, b);
	free(a);
	free(b);
	if (!system_bundle && !X509_STORE_load_file(st, file))
		return -EINVAL;
	return 0;
}

int pp_tls_new(const struct pp_tls_opts *o, struct pp_tls **ret, const char **why)
{
	struct pp_tls *e = calloc(1, sizeof(*e));
	int r;

	*why = NULL;
	if (!e)
		return -ENOMEM;
	e->o = *o;
	if (!e->o.max_conns)
		e->o.max_conns = DEFAULT_CONNS;
	if (!e->o.timeout_ns)
		e->o.timeout_ns = DEFAULT_TIMEOUT;
	if (!e->o.parallel)
		e->o.parallel = DEFAULT_PARALLEL;
	if (!e->o.now)
		e->o.now = time(NULL);
	e->starttls_auto = !o->starttls;
	if (o->starttls && tls_starttls_parse(o->starttls, &e->starttls) < 0) {
		*why = "unknown STARTTLS protocol";
		free(e);
		return -EINVAL;
	}
	if ((r = ctx_new(&e->ctx)) < 0) {
		*why = "OpenSSL refused the probe settings";
		pp_tls_free(e);
		return r;
	}
	e->store = X509_STORE_new();
	if (!e->store) {
		pp_tls_free(e);
		return -ENOMEM;
	}
	if (o->ca_file || o->ca_path) {
		if (!X509_STORE_load_locations(e->store, o->ca_file, o->ca_path)) {
			*why = "cannot load the CA file or directory";
			pp_tls_free(e);
			return -EINVAL;
		}
	} else if (store_system(e->store) < 0) {
		*why = "cannot load the system's trust store";
		pp_tls_free(e);
		return -EINVAL;
	}
	*ret = e;
	return 0;
}

int pp_tls_add(struct pp_tls *e, const char *host, uint16_t port)
{
	struct target *t;
	struct pp_addr a;
	const char *why;

	if (e->ntargets == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 8;
		struct target **n = realloc(e->targets, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		e->targets = n;
		e->cap = cap;
	}
	t = calloc(1, sizeof(*t));
	if (!t || !(t->r = calloc(1, sizeof(*t->r))) || !(t->r->host = strdup(host))) {
		if (t)
			free(t->r);
		free(t);
		return -ENOMEM;
	}
	t->e = e;
	t->r->port = port;
	t->r->now = e->o.now;
	t->r->starttls = e->starttls_auto ? tls_starttls_for_port(port) : e->starttls;
	if (pp_parse_ip(host, port, &a, &why) < 0)
		t->name = t->r->host;
	if (e->o.sni)
		t->r->sni = e->o.sni[0] ? strdup(e->o.sni) : NULL;
	else if (t->name)
		t->r->sni = strdup(t->name);
	e->targets[e->ntargets++] = t;
	return 0;
}

static void on_kick(struct pp_loop *loop, struct pp_timer *tm, void *data)
{
	start_targets(data);
}

int pp_tls_start(struct pp_tls *e, struct pp_loop *loop, pp_tls_report_cb *cb, void *data)
{
	int r;

	e->cb = cb;
	e->cbdata = data;
	e->loop = loop;
	e->done = calloc(e->ntargets ? e->ntargets : 1, sizeof(*e->done));
	if (!e->done)
		return -ENOMEM;
	if ((r = connector_new(loop, &e->conn)) < 0 ||
	    (r = resolver_new(loop, e->o.dns_servers, &e->res)) < 0)
		return r;
	pp_timer_init(&e->kick, on_kick, e);
	start_targets(e);
	return 0;
}

int pp_tls_run(struct pp_tls *e, struct pp_loop *loop, pp_tls_report_cb *cb, void *data)
{
	int r = pp_tls_start(e, loop, cb, data);

	if (r < 0)
		return r;
	r = pp_loop_run(loop);
	return r < 0 ? r : 0;
}

void pp_tls_stop(struct pp_tls *e)
{
	e->stopping = true;
	if (e->loop)
		pp_loop_stop(e->loop);
}

void pp_tls_free(struct pp_tls *e)
{
	if (!e)
		return;
	while (e->running_jobs) { /* stopped: close what is in flight */
		struct job *j = e->running_jobs;

		e->running_jobs = j->rnext;
		job_close(j);
		job_free(j);
	}
	for (size_t i = 0; i < e->ntargets; i++) {
		struct target *t = e->targets[i];

		queue_drop(t);
		for (int p = 0; p < TLS_P_COUNT; p++) {
			free(t->pe[p].pending);
			free(t->pe[p].first_offer);
		}
		if (!t->reported)
			tls_report_free(t->r);
		free(t->worst_detail);
		free(t->cert_fail);
		free(t);
	}
	for (size_t i = 0; i < e->ndone; i++)
		tls_report_free(e->done[i]);
	free(e->done);
	free(e->targets);
	resolver_free(e->res);
	connector_free(e->conn);
	if (e->loop)
		pp_timer_stop(e->loop, &e->kick);
	SSL_CTX_free(e->ctx);
	X509_STORE_free(e->store);
	free(e);
}
