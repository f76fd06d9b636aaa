/* scan.c: the connect scan engine (nmap -sT's ultra_scan, without its caps).
 *
 * Index space. The scan decides H hosts x P ports. Global index i in
 * [0, H*P) is cut into host groups of G hosts (G*P about 2^18 indices), so
 * that per-host state exists only for the groups in flight: a /8 costs what
 * a /24 does. Within a group a keyed permutation (target/perm.c) mixes hosts
 * and ports; groups follow each other in host order. Shard I of N owns the
 * global indices i = I-1 + k*N; k is the shard-local index that resume
 * files count in.
 *
 * Workers. One thread per core, each with its own loop and connector, takes
 * chunks of up to 64 consecutive k from a shared dispenser. A worker keeps
 * a congestion window in nmap's spirit: slow start, then +1 (T4/T5: +2) per
 * window of answers; a drop (an answer that needed a second probe) halves
 * it. Silent probes are not drops: a filtered port costs time, not window.
 * Each probe's timeout is SRTT + 4 RTTVAR of its host (RFC 6298, per
 * worker), clamped to [min_rtt, max_rtt], re-read while the probe waits, so
 * early probes do not keep the initial 1 s when answers show 100 us.
 *
 * Retries. A silent port is probed again up to twice the most probes any
 * answered port of its host needed, or as many as the loss rate its answered
 * ports show requires for odds below 1e-4 of losing a port (at least 2
 * probes, at most 1 + max_retries): nmap's allowedTryno, with more headroom
 * once loss shows. A port silent at that count waits (parked) until its
 * worker runs out of work, in case later answers raise the count.
 * Local failures (EMFILE, ENOBUFS, no ephemeral port) are never a state: the
 * probe goes back to the queue, the window halves and the worker pauses.
 *
 * Results. A port's result is written, reported and marked done (a bitmap
 * ring over k, for resume) under one mutex; when a group's last index is
 * done, its hosts are reported. A stop request cancels what is in flight;
 * unfinished hosts are then reported with what they have. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/clock.h"
#include "net/connector.h"
#include "net/resolver.h"
#include "portprobe/loop.h"
#include "portprobe/parse.h"
#include "portprobe/scan.h"
#include "target/perm.h"

#define GROUP_TARGET   (1u << 18) /* indices per host group, about */
#define GROUP_MAX_HOST 4096u
#define GROUP_SLOTS    4u         /* groups in flight at once */
#define PEND_MAX       128u       /* decided ports a worker records at once */
#define CHUNK          64u        /* indices taken from the dispenser at once */
#define RING_BITS      (1u << 24) /* done bitmap ring: k_next - watermark bound */
#define TICK_NS        (5 * PP_NSEC_PER_MSEC)
#define MAX_RADDR      16u
#define MAX_THREADS    64u

struct host_timing {
	uint64_t srtt, rttvar;        /* ns; srtt 0: no sample yet */
	unsigned max_ok_tries;        /* most probes an answered port needed */
	uint64_t ok_ports, ok_probes; /* answered ports and the probes they took */
};

struct scan_host {
	struct pp_addr addr; /* port 0 */
	const char *name;
	struct pp_scan_port *res; /* P entries */
	struct pp_addr raddr[MAX_RADDR];
	unsigned nraddr;
	enum pp_reason status_reason;
	int disc;      /* discovery: 0 pending, 1 up, 2 down */
	int disc_left; /* discovery probes not yet decided */
	bool any;      /* a port was decided in this run */
	bool timed_out;
	uint64_t first_ns; /* first probe (host timeout) */
	struct timespec start, end;
	struct host_timing *timing; /* one per worker */
	char ipstr[PP_ADDRSTRLEN];  /* the address as text, once needed */
};

enum group_phase { GROUP_DISCOVERING, GROUP_SCANNING };

struct scan_group {
	bool used;
	uint64_t g;
	uint64_t host_first; /* index of its first host */
	unsigned nhosts;
	uint64_t k_first, k_end; /* shard-local index range */
	uint64_t done;           /* indices of [k_first, k_end) done */
	enum group_phase phase;
	struct perm perm;
	struct scan_host *hosts;
};

/* A decided port waiting for its worker's next batch. */
struct pending {
	struct scan_group *grp;
	struct scan_host *host;
	uint64_t k;
	uint64_t rtt_ns;
	uint32_t pidx;
	unsigned tries;
	uint16_t port;
	uint8_t state, reason;
	struct pp_addr raddr; /* the ICMP sender, len 0 when none */
};

struct sprobe {
	struct sprobe *next; /* free list / retransmit queue */
	struct worker *w;
	struct scan_group *grp;
	struct scan_host *host;
	uint64_t k;
	uint32_t pidx; /* port index; UINT32_MAX for discovery */
	uint16_t port;
	unsigned tries;
	uint64_t sent_ns;
	struct conn_probe *cp;
	struct pp_timer timer;
};

struct worker {
	struct pp_scan *s;
	unsigned id;
	pthread_t th;
	bool started;
	struct pp_loop *loop;
	struct connector *conn;
	struct pp_timer tick;
	struct scan_group *cgroup; /* current chunk */
	uint64_t ck, cend;
	struct sprobe *rq_head, *rq_tail; /* probes to send again */
	struct sprobe *parked;            /* silent at the allowed tries: wait for more evidence */
	struct sprobe *free;
	struct pending pend[PEND_MAX]; /* decided, not yet recorded */
	unsigned npend;
	struct pp_timer flush; /* records pend at the end of the iteration */
	struct sprobe **live;  /* every probe allocated, for cancel on stop */
	size_t nlive, caplive;
	unsigned in_flight;
	double cwnd, ssthresh;
	uint64_t pause_until;          /* after a local failure */
	uint64_t rtt_min, rtt_avg;     /* over every answer of this worker (ns) */
	uint64_t last_drop_ns;         /* the last window cut */
	uint64_t t0, sent;             /* for min/max rate */
	struct scan_group *disc_group; /* discovery this worker runs */
	bool finished;
	/* counters, merged at the end */
	uint64_t probes, answers, timeouts, retries, local_errors, self_connects;
	int err;
};

struct pp_scan {
	struct pp_scan_opts o;
	struct pp_scan_callbacks cb;
	const uint16_t *ports;
	size_t P;
	uint64_t H, N, M; /* hosts, global indices, shard-local indices */
	uint64_t G;       /* hosts per group */
	unsigned threads, per_thread_max;
	double rate_min, rate_max; /* per worker */

	pthread_mutex_t mu;
	pthread_cond_t cond;
	unsigned running;
	uint64_t k_next;
	struct scan_group slot[GROUP_SLOTS];
	_Atomic uint64_t *ring; /* done bits, RING_BITS */
	uint64_t watermark;

	atomic_bool stop;
	atomic_uint_fast64_t done, open, probes;
	uint64_t ports_done;
	uint64_t hosts_up, hosts_down, hosts_total;
	struct timespec wall0;
	uint64_t t0;
	struct worker w[MAX_THREADS];
};

static void worker_pump(struct worker *w);

/* ---- options ------------------------------------------------------------ */

void pp_scan_opts_init(struct pp_scan_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->max_retries = 10;
	o->initial_rtt_ns = 1000 * PP_NSEC_PER_MSEC;
	o->min_rtt_ns = 100 * PP_NSEC_PER_MSEC;
	o->max_rtt_ns = 10000 * PP_NSEC_PER_MSEC;
	o->min_parallel = 1;
	o->discovery = true;
}

int pp_scan_opts_timing(struct pp_scan_opts *o, int level)
{
	switch (level) {
	case 0: /* paranoid: serial, 5 minutes between probes */
	case 1: /* sneaky: serial, 15 s */
	case 2: /* polite: 0.4 s */
		o->max_parallel = 1;
		o->max_rate = level == 0 ? 1.0 / 300 : level == 1 ? 1.0 / 15 : 1 / 0.4;
		o->aggressive = false;
		return 0;
	case 3:
		return 0;
	case 4:
		o->max_retries = 6;
		o->initial_rtt_ns = 500 * PP_NSEC_PER_MSEC;
		o->min_rtt_ns = 100 * PP_NSEC_PER_MSEC;
		o->max_rtt_ns = 1250 * PP_NSEC_PER_MSEC;
		o->aggressive = true;
		return 0;
	case 5:
		o->max_retries = 2;
		o->initial_rtt_ns = 250 * PP_NSEC_PER_MSEC;
		o->min_rtt_ns = 50 * PP_NSEC_PER_MSEC;
		o->max_rtt_ns = 300 * PP_NSEC_PER_MSEC;
		o->host_timeout_ns = 15 * 60 * PP_NSEC_PER_SEC;
		o->aggressive = true;
		return 0;
	default:
		return -EINVAL;
	}
}

uint64_t pp_scan_index_count(uint64_t hosts, size_t ports, unsigned shard, unsigned shards)
{
	uint64_t n = hosts * ports, s;

	if (!shards)
		return n;
	s = shard - 1;
	return s < n ? (n - s + shards - 1) / shards : 0;
}

/* ---- index arithmetic ---------------------------------------------------- */

static uint64_t shard_base(const struct pp_scan *s)
{
	return s->o.shards ? s->o.shard - 1 : 0;
}

static uint64_t shard_step(const struct pp_scan *s)
{
	return s->o.shards ? s->o.shards : 1;
}

/* First shard-local k whose global index is >= i. */
static uint64_t k_at_or_after(const struct pp_scan *s, uint64_t i)
{
	uint64_t b = shard_base(s), st = shard_step(s);

	if (i <= b)
		return 0;
	return (i - b + st - 1) / st;
}

/* ---- done bitmap (resume) ------------------------------------------------ */

static void ring_mark(struct pp_scan *s, uint64_t k)
{
	uint64_t bit = k % RING_BITS;

	atomic_fetch_or(&s->ring[bit / 64], 1ull << (bit % 64));
}

static bool ring_test(struct pp_scan *s, uint64_t k)
{
	uint64_t bit = k % RING_BITS;

	return atomic_load(&s->ring[bit / 64]) >> (bit % 64) & 1;
}

/* Moves the watermark over done indices (mu held). */
static void ring_advance(struct pp_scan *s)
{
	while (s->watermark < s->k_next && ring_test(s, s->watermark)) {
		uint64_t bit = s->watermark % RING_BITS;

		atomic_fetch_and(&s->ring[bit / 64], ~(1ull << (bit % 64)));
		s->watermark++;
	}
}

static bool resume_skips(const struct pp_scan *s, uint64_t k)
{
	const struct pp_scan_resume *r = s->o.resume;
	size_t lo = 0, hi;

	if (!r)
		return false;
	if (k < r->watermark)
		return true;
	hi = r->ndone;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->done[mid] == k)
			return true;
		if (r->done[mid] < k)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* ---- groups ------------------------------------------------------------- */

static void group_free(struct scan_group *gr)
{
	for (unsigned h = 0; gr->hosts && h < gr->nhosts; h++) {
		free(gr->hosts[h].res);
		free(gr->hosts[h].timing);
	}
	free(gr->hosts);
	memset(gr, 0, sizeof(*gr));
}

/* Reports the hosts of a group (mu held) and frees it. */
static void group_report(struct pp_scan *s, struct scan_group *gr)
{
	for (unsigned h = 0; h < gr->nhosts; h++) {
		struct scan_host *sh = &gr->hosts[h];
		struct pp_scan_host out;

		if (!sh->any && sh->disc != 2 && !sh->timed_out)
			continue;
		if (sh->any && !sh->end.tv_sec)
			sh->end = clock_wall();
		memset(&out, 0, sizeof(out));
		out.host = sh->name;
		out.ip = sh->addr;
		out.status = sh->disc == 2 ? PP_HOST_DOWN : PP_HOST_UP;
		out.status_reason = sh->status_reason;
		out.start = sh->start;
		out.end = sh->end.tv_sec ? sh->end : sh->start;
		out.nports = s->P;
		out.ports = s->ports;
		out.results = sh->res;
		out.reason_addrs = sh->raddr;
		out.nreason_addrs = sh->nraddr;
		out.timed_out = sh->timed_out;
		if (out.status == PP_HOST_UP)
			s->hosts_up++;
		else
			s->hosts_down++;
		s->hosts_total++;
		if (s->cb.host)
			s->cb.host(s->cb.data, &out);
	}
	group_free(gr);
}

/* Counts one index of gr done (mu held); reports the group when complete. */
static void group_index_done(struct pp_scan *s, struct scan_group *gr, uint64_t k)
{
	ring_mark(s, k);
	atomic_fetch_add(&s->done, 1);
	if (++gr->done == gr->k_end - gr->k_first && gr->phase == GROUP_SCANNING) {
		group_report(s, gr);
		pthread_cond_broadcast(&s->cond);
	}
}

/* Creates group g (mu held). NULL on allocation failure. */
static struct scan_group *group_create(struct pp_scan *s, uint64_t g)
{
	struct scan_group *gr = NULL;
	uint64_t gi = s->G * s->P;

	for (unsigned i = 0; i < GROUP_SLOTS; i++)
		if (!s->slot[i].used) {
			gr = &s->slot[i];
			break;
		}
	if (!gr)
		return NULL;
	memset(gr, 0, sizeof(*gr));
	gr->g = g;
	gr->host_first = g * s->G;
	gr->nhosts = (unsigned)(s->H - gr->host_first < s->G ? s->H - gr->host_first : s->G);
	gr->k_first = k_at_or_after(s, g * gi);
	gr->k_end = k_at_or_after(s, (g + 1) * gi < s->N ? (g + 1) * gi : s->N);
	if (gr->k_end > s->M)
		gr->k_end = s->M;
	if (s->o.resume && s->o.resume->watermark > gr->k_first) /* done in an earlier run */
		gr->done =
		    (s->o.resume->watermark < gr->k_end ? s->o.resume->watermark : gr->k_end) -
		    gr->k_first;
	perm_init(&gr->perm, (uint64_t)gr->nhosts * s->P, s->o.seed ^ perm_mix64(g + 1),
		  s->o.sequential);
	gr->hosts = calloc(gr->nhosts, sizeof(*gr->hosts));
	if (!gr->hosts)
		return NULL;
	for (unsigned h = 0; h < gr->nhosts; h++) {
		struct scan_host *sh = &gr->hosts[h];

		pp_targets_get(s->o.targets, gr->host_first + h, &sh->addr, &sh->name);
		pp_addr_set_port(&sh->addr, 0);
		sh->res = calloc(s->P, sizeof(*sh->res));
		sh->timing = calloc(s->threads, sizeof(*sh->timing));
		if (!sh->res || !sh->timing) {
			group_free(gr);
			return NULL;
		}
		sh->status_reason = PP_REASON_NONE;
		sh->disc = s->o.discovery ? 0 : 1;
		sh->disc_left = 2;
	}
	gr->used = true;
	gr->phase = s->o.discovery ? GROUP_DISCOVERING : GROUP_SCANNING;
	return gr;
}

static struct scan_group *group_find(struct pp_scan *s, uint64_t g)
{
	for (unsigned i = 0; i < GROUP_SLOTS; i++)
		if (s->slot[i].used && s->slot[i].g == g)
			return &s->slot[i];
	return NULL;
}

/* ---- timing -------------------------------------------------------------- */

static uint64_t host_timeout(const struct pp_scan *s, const struct host_timing *t)
{
	uint64_t to;

	if (!t->srtt)
		return s->o.initial_rtt_ns;
	to = t->srtt + 4 * t->rttvar;
	if (to < s->o.min_rtt_ns)
		to = s->o.min_rtt_ns;
	if (to > s->o.max_rtt_ns)
		to = s->o.max_rtt_ns;
	return to;
}

/* RFC 6298 with alpha 1/8, beta 1/4. */
static void host_rtt_sample(struct host_timing *t, uint64_t rtt)
{
	if (!t->srtt) {
		t->srtt = rtt ? rtt : 1;
		t->rttvar = rtt / 2;
		return;
	}
	{
		uint64_t d = rtt > t->srtt ? rtt - t->srtt : t->srtt - rtt;

		t->rttvar = (3 * t->rttvar + d) / 4;
		t->srtt = (7 * t->srtt + rtt) / 8;
		if (!t->srtt)
			t->srtt = 1;
	}
}

static unsigned allowed_tries(const struct pp_scan *s, const struct host_timing *t)
{
	unsigned n = 2 * t->max_ok_tries;

	if (t->ok_ports >= 8 && t->ok_probes > t->ok_ports) {
		/* the loss rate answered ports show: enough tries that a port of
		 * this host is lost to it with odds below 1e-4 over all its ports */
		double loss = 1.0 - (double)t->ok_ports / (double)t->ok_probes;
		double need = log(1e-4 / (double)s->P) / log(loss);

		if (need > n)
			n = need > 1000 ? 1000 : (unsigned)ceil(need);
	}

	if (n < 2)
		n = 2;
	if (n > s->o.max_retries + 1)
		n = s->o.max_retries + 1;
	return n;
}

/* ---- probes -------------------------------------------------------------- */

static struct sprobe *probe_alloc(struct worker *w)
{
	struct sprobe *p = w->free;

	if (p) {
		w->free = p->next;
		return p;
	}
	if (w->nlive == w->caplive) {
		size_t cap = w->caplive ? w->caplive * 2 : 256;
		struct sprobe **n = realloc(w->live, cap * sizeof(*n));

		if (!n)
			return NULL;
		w->live = n;
		w->caplive = cap;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	w->live[w->nlive++] = p;
	return p;
}

static void probe_put(struct worker *w, struct sprobe *p)
{
	p->next = w->free;
	w->free = p;
}

static void requeue(struct worker *w, struct sprobe *p)
{
	p->next = NULL;
	if (w->rq_tail)
		w->rq_tail->next = p;
	else
		w->rq_head = p;
	w->rq_tail = p;
}

static void on_outcome(void *data, const struct pp_conn_outcome *out);
static void on_probe_timer(struct pp_loop *loop, struct pp_timer *t, void *data);

static void probe_send(struct worker *w, struct sprobe *p)
{
	struct pp_scan *s = w->s;
	struct conn_req req;
	uint64_t to;
	int r;

	memset(&req, 0, sizeof(req));
	req.dst = p->host->addr;
	pp_addr_set_port(&req.dst, p->port);
	req.src = s->o.source;
	req.timeout_ns = s->o.max_rtt_ns + PP_NSEC_PER_SEC;
	req.fail_fast = true;
	req.reuse = true;
	p->tries++;
	p->sent_ns = clock_now_ns();
	if (!p->host->first_ns)
		p->host->first_ns = p->sent_ns;
	r = connector_start(w->conn, &req, on_outcome, p, &p->cp);
	if (r < 0) {
		/* out of memory: treat as a local failure */
		p->tries--;
		w->local_errors++;
		w->pause_until = clock_now_ns() + 10 * PP_NSEC_PER_MSEC;
		requeue(w, p);
		return;
	}
	w->in_flight++;
	w->sent++;
	w->probes++;
	atomic_fetch_add_explicit(&s->probes, 1, memory_order_relaxed);
	if (p->tries > 1)
		w->retries++;
	to = host_timeout(s, &p->host->timing[w->id]);
	pp_timer_init(&p->timer, on_probe_timer, p);
	pp_timer_start_at(w->loop, &p->timer, p->sent_ns + to);
}

/* A discovery probe's verdict: an answer (open or closed) means up; two
 * probes without one mean down. When every host of the worker's group is
 * decided, the group starts scanning. */
static void discovery_answer(struct worker *w, struct sprobe *p, enum pp_state st,
			     enum pp_reason reason)
{
	struct pp_scan *s = w->s;
	struct scan_host *sh = p->host;
	struct scan_group *gr = w->disc_group;

	pthread_mutex_lock(&s->mu);
	if (sh->disc == 0) {
		if (st == PP_STATE_OPEN || st == PP_STATE_CLOSED) {
			sh->disc = 1;
			sh->status_reason = reason;
		} else if (--sh->disc_left == 0) {
			sh->disc = 2;
			sh->status_reason =
			    reason == PP_REASON_NONE ? PP_REASON_NO_RESPONSE : reason;
		}
	}
	if (gr) {
		unsigned h = 0;

		while (h < gr->nhosts && gr->hosts[h].disc != 0)
			h++;
		if (h == gr->nhosts) {
			gr->phase = GROUP_SCANNING;
			w->disc_group = NULL;
			if (gr->done == gr->k_end - gr->k_first)
				group_report(s, gr);
			pthread_cond_broadcast(&s->cond);
		}
	}
	pthread_mutex_unlock(&s->mu);
}

/* A port's final result. */
/* Records one decided port (mu held); now is the batch's wall time. */
static void port_record(struct pp_scan *s, const struct pending *e, struct timespec now)
{
	struct scan_host *sh = e->host;
	struct pp_scan_port *r = &sh->res[e->pidx];
	struct pp_scan_record rec;
	bool has_raddr = false;

	if (!sh->any) {
		sh->any = true;
		sh->start = now;
	}
	r->state = e->state;
	r->reason = e->reason;
	r->attempts = (uint8_t)(e->tries > 255 ? 255 : e->tries);
	r->rtt_us = (uint32_t)(e->rtt_ns / 1000 > UINT32_MAX ? UINT32_MAX : e->rtt_ns / 1000);
	if (e->raddr.len && !pp_addr_equal_host(&e->raddr, &sh->addr)) {
		unsigned i;

		has_raddr = true;
		for (i = 0; i < sh->nraddr; i++)
			if (pp_addr_equal_host(&sh->raddr[i], &e->raddr))
				break;
		if (i == sh->nraddr && i < MAX_RADDR) {
			sh->raddr[i] = e->raddr;
			pp_addr_set_port(&sh->raddr[i], 0);
			sh->nraddr++;
		}
		r->raddr = i < MAX_RADDR ? (uint8_t)(i + 1) : 0;
	}
	if (e->state == PP_STATE_OPEN)
		atomic_fetch_add(&s->open, 1);
	s->ports_done++;
	sh->end = now;
	if (s->cb.record) {
		if (!sh->name && !sh->ipstr[0])
			pp_addr_str(&sh->addr, sh->ipstr, sizeof(sh->ipstr));
		memset(&rec, 0, sizeof(rec));
		rec.host = sh->name ? sh->name : sh->ipstr;
		rec.ip = sh->addr;
		pp_addr_set_port(&rec.ip, e->port);
		rec.port = e->port;
		rec.state = (enum pp_state)e->state;
		rec.reason = (enum pp_reason)e->reason;
		if (has_raddr) {
			rec.reason_addr = e->raddr;
			pp_addr_set_port(&rec.reason_addr, 0);
		}
		rec.rtt_ns = e->rtt_ns;
		rec.attempts = e->tries;
		rec.service = pp_service_name(e->port);
		rec.ts = now;
		s->cb.record(s->cb.data, &rec);
	}
	group_index_done(s, e->grp, e->k);
}

/* Records the worker's decided ports under one lock. */
static void results_flush(struct worker *w)
{
	struct pp_scan *s = w->s;
	struct timespec now;

	pp_timer_stop(w->loop, &w->flush);
	if (!w->npend)
		return;
	now = clock_wall();
	pthread_mutex_lock(&s->mu);
	for (unsigned i = 0; i < w->npend; i++)
		port_record(s, &w->pend[i], now);
	pthread_mutex_unlock(&s->mu);
	w->npend = 0;
}

static void on_flush(struct pp_loop *loop, struct pp_timer *t, void *data)
{
	results_flush(data);
}

/* A port is decided (out NULL: silent to the end). Results are recorded in
 * batches, at the end of the loop iteration that decided them, so the
 * workers do not take turns on the scan's lock for every port. */
static void port_final(struct worker *w, struct sprobe *p, const struct pp_conn_outcome *out)
{
	struct pending *e = &w->pend[w->npend];

	e->grp = p->grp;
	e->host = p->host;
	e->k = p->k;
	e->pidx = p->pidx;
	e->port = p->port;
	e->tries = p->tries;
	e->state = (uint8_t)(out ? out->state : PP_STATE_FILTERED);
	e->reason = (uint8_t)(out ? out->reason : PP_REASON_NO_RESPONSE);
	e->rtt_ns = out ? out->rtt_ns : 0;
	e->raddr.len = 0;
	if (out && out->reason_addr.len)
		e->raddr = out->reason_addr;
	if (++w->npend == PEND_MAX)
		results_flush(w);
	else if (w->npend == 1)
		pp_timer_start(w->loop, &w->flush, 0);
}

/* The probe got no answer in time. */
static void probe_silent(struct worker *w, struct sprobe *p)
{
	struct pp_scan *s = w->s;

	w->timeouts++;
	if (p->pidx == UINT32_MAX) {
		if (p->tries < 2 && !atomic_load(&s->stop)) {
			requeue(w, p);
			return;
		}
		discovery_answer(w, p, PP_STATE_FILTERED, PP_REASON_NO_RESPONSE);
		probe_put(w, p);
		return;
	}
	if (p->tries < allowed_tries(s, &p->host->timing[w->id])) {
		requeue(w, p);
		return;
	}
	if (p->tries < s->o.max_retries + 1) {
		/* later answers may show loss and allow more tries (nmap keeps
		 * such probes too): decide when this worker runs out of work */
		p->next = w->parked;
		w->parked = p;
		return;
	}
	port_final(w, p, NULL);
	probe_put(w, p);
}

/* Parked probes whose host now allows more tries go back to the queue; with
 * force the others are final (filtered, no-response). */
static void drain_parked(struct worker *w, bool force)
{
	struct sprobe **pp = &w->parked, *p;

	while ((p = *pp)) {
		if (p->tries < allowed_tries(w->s, &p->host->timing[w->id])) {
			*pp = p->next;
			requeue(w, p);
		} else if (force) {
			*pp = p->next;
			port_final(w, p, NULL);
			probe_put(w, p);
		} else {
			pp = &p->next;
		}
	}
}

static void on_probe_timer(struct pp_loop *loop, struct pp_timer *t, void *data)
{
	struct sprobe *p = data;
	struct worker *w = p->w;
	uint64_t now = clock_now_ns(), elapsed = now - p->sent_ns;
	uint64_t to = host_timeout(w->s, &p->host->timing[w->id]);

	if (elapsed < to) {
		pp_timer_start(loop, &p->timer, to - elapsed);
		return;
	}
	connector_cancel(w->conn, p->cp);
	p->cp = NULL;
	w->in_flight--;
	probe_silent(w, p);
	worker_pump(w);
}

/* Loss is not the only sign of a full path: when answers take far longer
 * than the fastest one did, probes are queueing (on loopback the backlog
 * overflows and drops long before any answer says so), so the window stops
 * growing, and shrinks when the queue keeps building. */
static void window_grow(struct worker *w, uint64_t rtt)
{
	struct pp_scan *s = w->s;
	uint64_t gate;

	if (!w->rtt_min || rtt < w->rtt_min)
		w->rtt_min = rtt ? rtt : 1;
	w->rtt_avg = w->rtt_avg ? (7 * w->rtt_avg + rtt) / 8 : rtt;
	gate = 4 * w->rtt_min + PP_NSEC_PER_MSEC;
	if (w->rtt_avg > 2 * gate) {
		if (w->cwnd > (s->o.min_parallel ? s->o.min_parallel : 1) + 1)
			w->cwnd -= 1;
		return;
	}
	if (w->rtt_avg > gate)
		return;
	if (w->cwnd < w->ssthresh)
		w->cwnd += 1;
	else
		w->cwnd += (s->o.aggressive ? 2.0 : 1.0) / w->cwnd;
	if (w->cwnd > s->per_thread_max)
		w->cwnd = s->per_thread_max;
}

/* A loss: at most one cut per timeout period, as TCP cuts once per window,
 * so that 20% random loss slows the scan down instead of serialising it. */
static void window_drop(struct worker *w)
{
	struct pp_scan *s = w->s;
	double floor = s->o.min_parallel ? s->o.min_parallel : 1;
	uint64_t now = clock_now_ns();

	if (w->last_drop_ns && now - w->last_drop_ns < s->o.min_rtt_ns)
		return;
	w->last_drop_ns = now;

	w->ssthresh = w->in_flight / (s->o.aggressive ? 4.0 / 3.0 : 1.5);
	if (w->ssthresh < 2)
		w->ssthresh = 2;
	w->cwnd /= 2;
	if (w->cwnd < floor)
		w->cwnd = floor;
}

static void on_outcome(void *data, const struct pp_conn_outcome *out)
{
	struct sprobe *p = data;
	struct worker *w = p->w;
	struct host_timing *t = &p->host->timing[w->id];

	pp_timer_stop(w->loop, &p->timer);
	p->cp = NULL;
	w->in_flight--;
	w->self_connects += out->self_connects;
	if (out->error == PP_ERROR_LOCAL_RESOURCE) {
		/* this host's limit, not the port's answer: slow down, send again */
		w->local_errors++;
		p->tries--;
		w->probes--;
		window_drop(w);
		w->pause_until = clock_now_ns() + 5 * PP_NSEC_PER_MSEC;
		requeue(w, p);
		worker_pump(w);
		return;
	}
	if (out->error == PP_ERROR_TIMEOUT && out->state == PP_STATE_FILTERED) {
		probe_silent(w, p); /* the connector's own safety deadline */
		worker_pump(w);
		return;
	}
	w->answers++;
	host_rtt_sample(t, out->rtt_ns);
	if (p->tries > t->max_ok_tries)
		t->max_ok_tries = p->tries;
	t->ok_ports++;
	t->ok_probes += p->tries;
	if (p->tries > 1)
		window_drop(w);
	else
		window_grow(w, out->rtt_ns);
	if (p->pidx == UINT32_MAX) {
		discovery_answer(w, p, out->state, out->reason);
	} else {
		port_final(w, p, out);
	}
	probe_put(w, p);
	worker_pump(w);
}

/* ---- dispensing ---------------------------------------------------------- */

/* Starts discovery for every host of gr in this worker (mu held). */
static void discovery_start(struct worker *w, struct scan_group *gr)
{
	w->disc_group = gr;
	for (unsigned h = 0; h < gr->nhosts; h++)
		for (int i = 0; i < 2; i++) {
			struct sprobe *p = probe_alloc(w);

			if (!p) {
				/* no memory: call the host up rather than lose it */
				gr->hosts[h].disc = 1;
				break;
			}
			memset(p, 0, sizeof(*p));
			p->w = w;
			p->grp = gr;
			p->host = &gr->hosts[h];
			p->pidx = UINT32_MAX;
			p->port = i ? 443 : 80;
			requeue(w, p);
		}
}

/* Takes the next chunk of indices for w (mu held). 1: got one; 0: nothing
 * now (wait); -1: nothing ever again. */
static int take_chunk(struct worker *w)
{
	struct pp_scan *s = w->s;
	uint64_t gi = s->G * s->P, g, end;
	struct scan_group *gr;

	if (atomic_load(&s->stop))
		return -1;
	ring_advance(s);
	for (;;) {
		if (s->k_next >= s->M)
			return -1;
		if (s->k_next - s->watermark >= RING_BITS - CHUNK)
			return 0;
		g = (shard_base(s) + s->k_next * shard_step(s)) / gi;
		gr = group_find(s, g);
		if (!gr) {
			gr = group_create(s, g);
			if (!gr)
				return 0; /* every slot busy (or no memory): wait */
			if (gr->phase == GROUP_DISCOVERING) {
				discovery_start(w, gr);
				return 1;
			}
		}
		if (gr->phase == GROUP_DISCOVERING)
			return 0;
		end = s->k_next + CHUNK < gr->k_end ? s->k_next + CHUNK : gr->k_end;
		w->cgroup = gr;
		w->ck = s->k_next;
		w->cend = end;
		s->k_next = end;
		return 1;
	}
}

/* Maps k to its host and port within gr. */
static void k_locate(const struct pp_scan *s, const struct scan_group *gr, uint64_t k, unsigned *h,
		     uint32_t *pidx)
{
	uint64_t i = shard_base(s) + k * shard_step(s);
	uint64_t off = perm_apply(&gr->perm, i - gr->host_first * s->P);

	*h = (unsigned)(off / s->P);
	*pidx = (uint32_t)(off % s->P);
}

/* The next index of the current chunk that needs a probe, as a probe; NULL
 * when the chunk is used up. Skipped indices are counted done. */
static struct sprobe *next_from_chunk(struct worker *w)
{
	struct pp_scan *s = w->s;

	while (w->ck < w->cend) {
		uint64_t k = w->ck++;
		struct scan_group *gr = w->cgroup;
		struct scan_host *sh;
		struct sprobe *p;
		unsigned h;
		uint32_t pidx;

		k_locate(s, gr, k, &h, &pidx);
		sh = &gr->hosts[h];
		if (!sh->timed_out && sh->disc != 2 && s->o.host_timeout_ns && sh->first_ns &&
		    clock_now_ns() - sh->first_ns > s->o.host_timeout_ns) {
			pthread_mutex_lock(&s->mu);
			if (!sh->any) {
				sh->start = clock_wall();
				sh->end = sh->start;
			}
			sh->timed_out = true;
			pthread_mutex_unlock(&s->mu);
		}
		if (resume_skips(s, k) || sh->disc == 2 || sh->timed_out) {
			pthread_mutex_lock(&s->mu);
			group_index_done(s, gr, k);
			pthread_mutex_unlock(&s->mu);
			continue;
		}
		p = probe_alloc(w);
		if (!p) {
			w->ck--;
			w->pause_until = clock_now_ns() + 10 * PP_NSEC_PER_MSEC;
			return NULL;
		}
		memset(p, 0, sizeof(*p));
		p->w = w;
		p->grp = gr;
		p->host = sh;
		p->k = k;
		p->pidx = pidx;
		p->port = s->ports[pidx];
		return p;
	}
	return NULL;
}

/* May w send one more probe now? */
static bool may_send(struct worker *w, uint64_t now)
{
	struct pp_scan *s = w->s;
	double el;

	if (now < w->pause_until)
		return false;
	if (w->in_flight >= s->per_thread_max)
		return false;
	el = (double)(now - w->t0) / 1e9;
	if (s->rate_max > 0 && (double)w->sent >= s->rate_max * el + 1)
		return false;
	if (w->in_flight < (unsigned)w->cwnd)
		return true;
	/* --min-rate: keep up even when the window says wait */
	return s->rate_min > 0 && (double)w->sent < s->rate_min * el;
}

static void worker_pump(struct worker *w)
{
	struct pp_scan *s = w->s;
	uint64_t now = pp_loop_now(w->loop); /* this iteration's: pacing needs no finer */

	if (atomic_load(&s->stop))
		return;
again:
	while (may_send(w, now)) {
		struct sprobe *p = w->rq_head;

		if (p) {
			w->rq_head = p->next;
			if (!w->rq_head)
				w->rq_tail = NULL;
			probe_send(w, p);
			continue;
		}
		p = next_from_chunk(w);
		if (p) {
			probe_send(w, p);
			continue;
		}
		if (w->ck < w->cend)
			break; /* paused for memory */
		{
			int r;

			pthread_mutex_lock(&s->mu);
			r = take_chunk(w);
			pthread_mutex_unlock(&s->mu);
			if (r <= 0) {
				if (r < 0)
					w->finished = true;
				break;
			}
		}
	}
	if (w->parked && !w->in_flight && !w->rq_head && w->ck >= w->cend) {
		/* nothing left that could bring more evidence */
		drain_parked(w, true);
		if (w->rq_head)
			goto again;
	}
}

/* Cancels everything in flight (stop requested). */
static void worker_cancel_all(struct worker *w)
{
	for (size_t i = 0; i < w->nlive; i++) {
		struct sprobe *p = w->live[i];

		if (p->cp) {
			connector_cancel(w->conn, p->cp);
			p->cp = NULL;
		}
		pp_timer_stop(w->loop, &p->timer);
	}
	w->in_flight = 0;
	w->rq_head = w->rq_tail = NULL;
	w->parked = NULL;
}

static void on_tick(struct pp_loop *loop, struct pp_timer *t, void *data)
{
	struct worker *w = data;
	struct pp_scan *s = w->s;

	if (atomic_load(&s->stop)) {
		worker_cancel_all(w);
		return; /* no timer, no fd: the loop returns */
	}
	drain_parked(w, false);
	worker_pump(w);
	if (w->finished && !w->in_flight && !w->rq_head && w->ck >= w->cend && !w->disc_group &&
	    !w->parked)
		return;
	pp_timer_start(loop, &w->tick,
		       w->pause_until || s->rate_max > 0 ? PP_NSEC_PER_MSEC : TICK_NS);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct pp_scan *s = w->s;

	w->t0 = clock_now_ns();
	w->cwnd = 64 < s->per_thread_max ? 64 : s->per_thread_max;
	if (s->o.min_parallel && w->cwnd < s->o.min_parallel)
		w->cwnd = s->o.min_parallel;
	w->ssthresh = s->per_thread_max;
	pp_timer_init(&w->tick, on_tick, w);
	pp_timer_init(&w->flush, on_flush, w);
	pp_timer_start(w->loop, &w->tick, 0);
	if (pp_loop_run(w->loop) < 0)
		w->err = -EIO;
	results_flush(w); /* a stop leaves none unrecorded */
	pthread_mutex_lock(&s->mu);
	s->running--;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* ---- the scan ------------------------------------------------------------ */

static unsigned online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > (long)MAX_THREADS ? MAX_THREADS : (unsigned)n;
}

int pp_scan_new(const struct pp_scan_opts *o, const struct pp_scan_callbacks *cb,
		struct pp_scan **ret)
{
	struct pp_scan *s;
	unsigned long total;
	long nofile;

	if (!o->targets || !o->ports || !o->ports->n || o->max_rtt_ns < o->min_rtt_ns ||
	    (o->shards && (o->shard < 1 || o->shard > o->shards)))
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->o = *o;
	/* the first probes wait at most what any probe may (nmap does the same) */
	if (s->o.initial_rtt_ns > s->o.max_rtt_ns)
		s->o.initial_rtt_ns = s->o.max_rtt_ns;
	if (s->o.initial_rtt_ns < s->o.min_rtt_ns)
		s->o.initial_rtt_ns = s->o.min_rtt_ns;
	if (cb)
		s->cb = *cb;
	s->ports = o->ports->port;
	s->P = o->ports->n;
	s->H = pp_targets_count(o->targets);
	s->N = s->H * s->P;
	s->M = pp_scan_index_count(s->H, s->P, o->shard, o->shards);
	s->G = (GROUP_TARGET + s->P - 1) / s->P;
	if (s->G > GROUP_MAX_HOST)
		s->G = GROUP_MAX_HOST;
	if (s->G < 1)
		s->G = 1;
	s->threads = o->threads ? o->threads : online_cpus();
	if (s->threads > MAX_THREADS)
		s->threads = MAX_THREADS;
	/* no more workers than there is work for */
	if (s->M < (uint64_t)s->threads * CHUNK * 4)
		s->threads = 1;
	nofile = pp_raise_nofile();
	total = nofile > 256 ? (unsigned long)nofile - 128 : 128;
	if (o->max_parallel && o->max_parallel < total)
		total = o->max_parallel;
	if (total < s->threads)
		s->threads = (unsigned)total;
	s->per_thread_max = (unsigned)(total / s->threads);
	s->rate_min = o->min_rate / s->threads;
	s->rate_max = o->max_rate / s->threads;
	if (o->min_parallel > s->per_thread_max)
		s->o.min_parallel = s->per_thread_max;
	s->ring = calloc(RING_BITS / 64, sizeof(*s->ring));
	if (!s->ring) {
		free(s);
		return -ENOMEM;
	}
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cond, NULL);
	if (o->resume) {
		s->k_next = o->resume->watermark < s->M ? o->resume->watermark : s->M;
		s->watermark = s->k_next;
		/* indices below the watermark were done in an earlier run */
	}
	*ret = s;
	return 0;
}

void pp_scan_stop(struct pp_scan *s)
{
	atomic_store(&s->stop, true);
}

void pp_scan_get_progress(struct pp_scan *s, struct pp_scan_progress *p)
{
	uint64_t skip0 =
	    s->o.resume ? (s->o.resume->watermark < s->M ? s->o.resume->watermark : s->M) : 0;

	p->done = atomic_load(&s->done) + skip0;
	p->total = s->M;
	p->open = atomic_load(&s->open);
	p->probes = atomic_load(&s->probes);
	p->elapsed = (double)(clock_now_ns() - s->t0) / 1e9;
}

/* Appends x to the growable array *v; 0 or -ENOMEM (*v unchanged). */
static int u64_push(uint64_t **v, size_t *n, size_t *cap, uint64_t x)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		uint64_t *nv = realloc(*v, c * sizeof(**v));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = c;
	}
	(*v)[(*n)++] = x;
	return 0;
}

int pp_scan_get_resume(struct pp_scan *s, uint64_t *watermark, uint64_t **done, size_t *ndone)
{
	size_t n = 0, cap = 0;
	uint64_t *v = NULL;

	pthread_mutex_lock(&s->mu);
	ring_advance(s);
	*watermark = s->watermark;
	for (uint64_t k = s->watermark; k < s->k_next; k++) {
		if (!ring_test(s, k))
			continue;
		if (u64_push(&v, &n, &cap, k) < 0)
			goto nomem;
	}
	/* what an earlier run did beyond the point this run has reached */
	for (size_t i = 0; s->o.resume && i < s->o.resume->ndone; i++) {
		if (s->o.resume->done[i] < s->k_next)
			continue;
		if (u64_push(&v, &n, &cap, s->o.resume->done[i]) < 0)
			goto nomem;
	}
	pthread_mutex_unlock(&s->mu);
	*done = v;
	*ndone = n;
	return 0;
nomem:
	pthread_mutex_unlock(&s->mu);
	free(v);
	return -ENOMEM;
}

int pp_scan_run(struct pp_scan *s, struct pp_scan_stats *st)
{
	bool leftover = false;
	int err = 0;

	s->wall0 = clock_wall();
	s->t0 = clock_now_ns();
	for (unsigned i = 0; i < s->threads && !err; i++) {
		struct worker *w = &s->w[i];

		w->s = s;
		w->id = i;
		if ((err = pp_loop_new(&w->loop)) < 0 ||
		    (err = connector_new(w->loop, &w->conn)) < 0)
			break;
	}
	pthread_mutex_lock(&s->mu);
	for (unsigned i = 0; i < s->threads && !err; i++) {
		if (pthread_create(&s->w[i].th, NULL, worker_main, &s->w[i])) {
			err = -EAGAIN;
			atomic_store(&s->stop, true);
			break;
		}
		s->w[i].started = true;
		s->running++;
	}
	while (s->running) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 100 * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&s->cond, &s->mu, &until);
		if (s->running && s->cb.tick) {
			pthread_mutex_unlock(&s->mu);
			s->cb.tick(s->cb.data);
			pthread_mutex_lock(&s->mu);
		}
	}
	pthread_mutex_unlock(&s->mu);
	for (unsigned i = 0; i < s->threads; i++)
		if (s->w[i].started)
			pthread_join(s->w[i].th, NULL);

	/* what is left is unfinished: report it with what it has */
	pthread_mutex_lock(&s->mu);
	for (unsigned i = 0; i < GROUP_SLOTS; i++)
		if (s->slot[i].used) {
			leftover = true;
			group_report(s, &s->slot[i]);
		}
	leftover = leftover || s->k_next < s->M;
	pthread_mutex_unlock(&s->mu);

	memset(st, 0, sizeof(*st));
	for (unsigned i = 0; i < s->threads; i++) {
		struct worker *w = &s->w[i];

		st->probes += w->probes;
		st->answers += w->answers;
		st->timeouts += w->timeouts;
		st->retries += w->retries;
		st->local_errors += w->local_errors;
		st->self_connects += w->self_connects;
		if (w->err && !err)
			err = w->err;
	}
	st->ports_done = s->ports_done;
	st->ports_total = s->M;
	if (s->o.resume)
		st->ports_total -= (s->o.resume->watermark < s->M ? s->o.resume->watermark : s->M) +
				   s->o.resume->ndone;
	st->open = atomic_load(&s->open);
	st->hosts_up = s->hosts_up;
	st->hosts_down = s->hosts_down;
	st->hosts_total = s->hosts_total;
	st->start = s->wall0;
	st->end = clock_wall();
	st->interrupted = atomic_load(&s->stop) && leftover;
	return err;
}

void pp_scan_free(struct pp_scan *s)
{
	if (!s)
		return;
	for (unsigned i = 0; i < s->threads; i++) {
		struct worker *w = &s->w[i];

		connector_free(w->conn);
		pp_loop_free(w->loop);
		for (size_t j = 0; j < w->nlive; j++)
			free(w->live[j]);
		free(w->live);
	}
	for (unsigned i = 0; i < GROUP_SLOTS; i++)
		if (s->slot[i].used)
			group_free(&s->slot[i]);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cond);
	free(s->ring);
	free(s);
}
