/* cmd_scan.c: `portprobe scan TARGET...`: nmap -sT's command line, its
 * outputs and more, over the library's scan engine.
 *
 * Everything the user typed is validated before a packet is sent. Results
 * go to every output at once (stdout and -oN/-oX/-oG/-oJ files), each
 * flushed the moment a record or host is written, so a killed run keeps
 * every completed record; SIGINT/SIGTERM stop the scan, close the documents
 * and write the checkpoint. nmap's multi-letter flags (-iL, -oX, -Pn, -sT,
 * -T4) are rewritten to long options before getopt_long sees them. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "portprobe/checkpoint.h"
#include "portprobe/portprobe.h"
#include "portprobe/ports.h"
#include "portprobe/scan.h"
#include "portprobe/scan_output.h"
#include "portprobe/target.h"

static const char scan_usage[] =
    "Usage: portprobe scan [OPTIONS] TARGET...\n"
    "\n"
    "Connect-scans many hosts and ports and tells, per port, open / closed / filtered\n"
    "and why, as nmap -n --reason -sT does: without its caps, with JSON, and with\n"
    "nothing lost when the run is cut short.\n"
    "\n"
    "Targets (IPv4 and IPv6 may be mixed):\n"
    "  TARGET                 host name, 192.0.2.7, 2001:db8::1, 192.0.2.0/24,\n"
    "                         2001:db8::/120, octet ranges 10.0.1-3.1-254 or 10.0.0,2.*\n"
    "  -iL FILE               read targets from FILE ('-' for stdin; '#' comments)\n"
    "      --exclude LIST     skip these addresses (comma-separated specs)\n"
    "      --exclude-file FILE\n"
    "  -4, -6                 resolve host names to IPv4 / IPv6 only\n"
    "      --all-addresses    scan every address a name resolves to (default: the first)\n"
    "      --dns-server ADDR[:PORT][,...]\n"
    "  -n                     accepted for nmap users: portprobe never does reverse DNS\n"
    "  -sL, --list            list the targets (one address per line) and send nothing\n"
    "\n"
    "Ports:\n"
    "  -p, --ports SPEC       22,80,1000-2000; -p- for 1-65535; \"-100\", \"60000-\"\n"
    "      --top-ports N      the N most useful ports (nmap's ranking when nmap is\n"
    "                         installed, else portprobe's own list)\n"
    "  -F                     --top-ports 100\n"
    "      --exclude-ports SPEC\n"
    "  Default: the 1,000 most useful ports.\n"
    "\n"
    "Order, sharding, resume:\n"
    "  -r                     sequential order (default: a keyed random permutation)\n"
    "      --seed N           the permutation's key (default: random; kept in checkpoints)\n"
    "      --shard I/N        scan only shard I of N (N machines, no overlap, no gap;\n"
    "                         every shard needs the same --seed)\n"
    "      --checkpoint FILE  write the resume state to FILE every second and on\n"
    "                         SIGINT/SIGTERM\n"
    "      --resume FILE      continue the scan FILE was written for; emits exactly the\n"
    "                         records not yet emitted (give no other option)\n"
    "\n"
    "Host discovery:\n"
    "  -Pn                    scan every target (default with several hosts: a connect to\n"
    "                         80 and 443 first; any answer, even a refusal, means up)\n"
    "\n"
    "Timing (nmap's model: a congestion window, per-host RTT timeouts):\n"
    "  -T0..-T5               nmap's templates (default -T3)\n"
    "      --min-rate N       send at least N probes per second\n"
    "      --max-rate N       send at most N probes per second\n"
    "      --max-parallel N   at most N probes in flight (default: from the fd limit)\n"
    "      --min-parallel N   keep at least N probes in flight\n"
    "      --max-retries N    probe a silent port at most 1+N times (default 10)\n"
    "      --host-timeout S   give up a host after S seconds\n"
    "      --initial-rtt-timeout S, --min-rtt-timeout S, --max-rtt-timeout S\n"
    "      --threads N        worker threads (default: one per CPU)\n"
    "  -S, --source-address ADDR  connect from this local address\n"
    "\n"
    "Output:\n"
    "  -o, --output FORMAT    stdout format: text (default), json, jsonl, xml,\n"
    "                         grepable, csv\n"
    "  -oN FILE, -oX FILE, -oG FILE, -oJ FILE\n"
    "                         also write nmap normal / XML / grepable / JSONL to FILE\n"
    "  -oA BASE               BASE.nmap, BASE.xml and BASE.gnmap\n"
    "      --open             show only open ports (and hosts with one)\n"
    "      --reason, -sT      accepted for nmap users (always so)\n"
    "      --no-progress      no progress line on stderr (shown only on a terminal)\n"
    "  -h, --help             this help\n"
    "\n"
    "Exit codes: 0 the scan finished, 2 usage error, 3 environment error,\n"
    "130/143 interrupted by SIGINT/SIGTERM (documents closed, checkpoint written).\n"
    "\n"
    "Examples:\n"
    "  portprobe scan -p- 127.0.0.1\n"
    "  portprobe scan -Pn -p 22,80,443 -o jsonl 192.0.2.0/24 2001:db8::/120\n"
    "  portprobe scan --top-ports 100 -oA lan --open 10.0.0.0/24\n"
    "  portprobe scan -iL hosts.txt --checkpoint scan.resume -oJ out.jsonl\n"
    "  portprobe scan --resume scan.resume\n";

enum {
	OPT_EXCLUDE = 256,
	OPT_EXCLUDE_FILE,
	OPT_ALL_ADDRESSES,
	OPT_DNS_SERVER,
	OPT_LIST,
	OPT_TOP_PORTS,
	OPT_EXCLUDE_PORTS,
	OPT_SEED,
	OPT_SHARD,
	OPT_CHECKPOINT,
	OPT_RESUME,
	OPT_NO_PING,
	OPT_TIMING,
	OPT_MIN_RATE,
	OPT_MAX_RATE,
	OPT_MAX_PARALLEL,
	OPT_MIN_PARALLEL,
	OPT_MAX_RETRIES,
	OPT_HOST_TIMEOUT,
	OPT_INITIAL_RTT,
	OPT_MIN_RTT,
	OPT_MAX_RTT,
	OPT_THREADS,
	OPT_OUT_NORMAL,
	OPT_OUT_XML,
	OPT_OUT_GREP,
	OPT_OUT_JSONL,
	OPT_OUT_ALL,
	OPT_OPEN,
	OPT_REASON,
	OPT_CONNECT,
	OPT_INPUT,
	OPT_NO_PROGRESS,
};

static const struct option scan_options[] = {
    {"exclude", required_argument, NULL, OPT_EXCLUDE},
    {"exclude-file", required_argument, NULL, OPT_EXCLUDE_FILE},
    {"excludefile", required_argument, NULL, OPT_EXCLUDE_FILE},
    {"all-addresses", no_argument, NULL, OPT_ALL_ADDRESSES},
    {"dns-server", required_argument, NULL, OPT_DNS_SERVER},
    {"dns-servers", required_argument, NULL, OPT_DNS_SERVER},
    {"list", no_argument, NULL, OPT_LIST},
    {"ports", required_argument, NULL, 'p'},
    {"top-ports", required_argument, NULL, OPT_TOP_PORTS},
    {"exclude-ports", required_argument, NULL, OPT_EXCLUDE_PORTS},
    {"seed", required_argument, NULL, OPT_SEED},
    {"shard", required_argument, NULL, OPT_SHARD},
    {"checkpoint", required_argument, NULL, OPT_CHECKPOINT},
    {"resume", required_argument, NULL, OPT_RESUME},
    {"no-ping", no_argument, NULL, OPT_NO_PING},
    {"timing", required_argument, NULL, OPT_TIMING},
    {"min-rate", required_argument, NULL, OPT_MIN_RATE},
    {"max-rate", required_argument, NULL, OPT_MAX_RATE},
    {"max-parallel", required_argument, NULL, OPT_MAX_PARALLEL},
    {"max-parallelism", required_argument, NULL, OPT_MAX_PARALLEL},
    {"min-parallel", required_argument, NULL, OPT_MIN_PARALLEL},
    {"min-parallelism", required_argument, NULL, OPT_MIN_PARALLEL},
    {"max-retries", required_argument, NULL, OPT_MAX_RETRIES},
    {"host-timeout", required_argument, NULL, OPT_HOST_TIMEOUT},
    {"initial-rtt-timeout", required_argument, NULL, OPT_INITIAL_RTT},
    {"min-rtt-timeout", required_argument, NULL, OPT_MIN_RTT},
    {"max-rtt-timeout", required_argument, NULL, OPT_MAX_RTT},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"source-address", required_argument, NULL, 'S'},
    {"output", required_argument, NULL, 'o'},
    {"output-normal", required_argument, NULL, OPT_OUT_NORMAL},
    {"output-xml", required_argument, NULL, OPT_OUT_XML},
    {"output-grepable", required_argument, NULL, OPT_OUT_GREP},
    {"output-jsonl", required_argument, NULL, OPT_OUT_JSONL},
    {"output-all", required_argument, NULL, OPT_OUT_ALL},
    {"open", no_argument, NULL, OPT_OPEN},
    {"reason", no_argument, NULL, OPT_REASON},
    {"connect-scan", no_argument, NULL, OPT_CONNECT},
    {"input-file", required_argument, NULL, OPT_INPUT},
    {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

#define MAX_OUTPUTS 8

struct output {
	enum pp_scan_format fmt;
	const char *path; /* NULL: stdout */
	bool continued;   /* resumed into an existing file: no header */
	FILE *f;
	struct pp_scan_writer *w;
};

struct scan_cli {
	/* what the user asked for */
	struct pp_scan_opts o;
	struct pp_targets *targets;
	struct pp_ports ports;
	const char *ports_source;
	int family;
	bool all_addresses, list, seed_given, progress, open_only;
	const char *dns_servers;
	const char *checkpoint;
	int argc;
	char **argv;    /* the arguments after "scan", for args= and the checkpoint */
	int cp_argc;    /* entries of cp_argv */
	char **cp_argv; /* argv without --checkpoint/--resume: what a checkpoint keeps */

	/* the run */
	struct output out[MAX_OUTPUTS];
	unsigned nout;
	struct pp_buf buf;
	struct pp_scan *scan;
	sigset_t sigs;
	int signo;
	uint64_t last_checkpoint_ns, last_progress_ns;
	bool progress_shown;
	struct pp_scan_resume resume;
	uint64_t *resume_done;
};

/* ---- argument rewriting (nmap's multi-letter flags) ----------------------- */

/* Rewrites argv in place into a new vector: "-iL" -> "--input-file",
 * "-oX" -> "--output-xml", "-Pn" -> "--no-ping", "-T4" -> "--timing=4", ... */
static char **rewrite_args(int argc, char **argv)
{
	static const struct {
		const char *flag, *opt;
	} map[] = {
	    {"-iL", "--input-file"},      {"-oN", "--output-normal"}, {"-oX", "--output-xml"},
	    {"-oG", "--output-grepable"}, {"-oJ", "--output-jsonl"},  {"-oA", "--output-all"},
	    {"-Pn", "--no-ping"},         {"-sT", "--connect-scan"},  {"-sL", "--list"},
	    {"-T", "--timing"},
	};
	char **v = calloc((size_t)argc + 1, sizeof(*v));

	if (!v)
		cli_fatal("out of memory");
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		bool done = false;

		v[i] = argv[i];
		if (i == 0 || a[0] != '-' || a[1] == '-')
			continue;
		for (size_t m = 0; m < sizeof(map) / sizeof(map[0]) && !done; m++) {
			size_t n = strlen(map[m].flag);

			if (strncmp(a, map[m].flag, n))
				continue;
			if (a[n] == '\0') {
				v[i] = (char *)map[m].opt;
			} else {
				/* -oXfile */
				size_t len = strlen(map[m].opt) + strlen(a + n) + 2;
				char *s = malloc(len);

				if (!s)
					cli_fatal("out of memory");
				snprintf(s, len, "%s=%s", map[m].opt, a + n);
				v[i] = s;
			}
			done = true;
		}
	}
	return v;
}

/* ---- parsing helpers ------------------------------------------------------ */

static double parse_seconds_opt(const char *opt, const char *val)
{
	const char *why;
	double d;

	if (pp_parse_seconds(val, 0, 86400 * 7, &d, &why) < 0)
		cli_usage_error("%s %s: %s", opt, val, why);
	return d;
}

static unsigned parse_uint_opt(const char *opt, const char *val, unsigned min, unsigned max)
{
	const char *why;
	unsigned u;

	if (pp_parse_uint(val, min, max, &u, &why) < 0)
		cli_usage_error("%s %s: %s", opt, val, why);
	return u;
}

static double parse_rate(const char *opt, const char *val)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(val, &end);
	if (errno || end == val || *end || !(d > 0) || d > 1e9)
		cli_usage_error("%s %s: is not a rate in probes per second (0 < N <= 1e9)", opt,
				val);
	return d;
}

static uint64_t parse_u64(const char *opt, const char *val)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (!*val || *val == '-' || *val == '+')
		cli_usage_error("%s %s: is not an unsigned number", opt, val);
	v = strtoull(val, &end, 0);
	if (errno || *end)
		cli_usage_error("%s %s: is not an unsigned number", opt, val);
	return v;
}

static void parse_shard(struct scan_cli *c, const char *val)
{
	unsigned i, n;
	char tail;

	if (sscanf(val, "%u/%u%c", &i, &n, &tail) != 2 || strchr(val, '-') || strchr(val, '+'))
		cli_usage_error("--shard %s: is not I/N (e.g. 1/4)", val);
	if (n < 1 || n > 1000000)
		cli_usage_error("--shard %s: shard count %u is not in 1..1000000", val, n);
	if (i < 1 || i > n)
		cli_usage_error("--shard %s: shard %u is not in 1..%u", val, i, n);
	c->o.shard = i;
	c->o.shards = n;
}

static void add_spec_list(struct scan_cli *c, const char *list, bool exclude)
{
	char *copy = strdup(list), *save = NULL, *tok;

	if (!copy)
		cli_fatal("out of memory");
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		const char *why = "is not valid";
		int r = exclude ? pp_targets_exclude(c->targets, tok, &why)
				: pp_targets_add(c->targets, tok, &why);

		if (r < 0)
			cli_usage_error("%s %s: %s", exclude ? "--exclude" : "target", tok, why);
	}
	free(copy);
}

static void add_spec_file(struct scan_cli *c, const char *path, bool exclude)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	const char *opt = exclude ? "--exclude-file" : "-iL";
	const char *why = "is not valid";
	unsigned long line = 0;
	char bad[128] = "";
	long r;

	if (!f)
		cli_usage_error("%s %s: cannot read: %s", opt, path, strerror(errno));
	r = exclude ? pp_targets_exclude_file(c->targets, f, &line, bad, sizeof(bad), &why)
		    : pp_targets_add_file(c->targets, f, &line, bad, sizeof(bad), &why);
	if (f != stdin)
		fclose(f);
	if (r < 0 && line == 0)
		cli_usage_error("%s %s: cannot read: %s", opt, path, strerror((int)-r));
	if (r < 0)
		cli_usage_error("%s %s:%lu: %s: %s", opt, path, line, bad, why);
}

static void add_output(struct scan_cli *c, enum pp_scan_format fmt, const char *path)
{
	if (c->nout == MAX_OUTPUTS)
		cli_usage_error("too many outputs (at most %d)", MAX_OUTPUTS);
	if (path && !*path)
		cli_usage_error("output file name is empty");
	if (path && !strcmp(path, "-"))
		path = NULL;
	c->out[c->nout].fmt = fmt;
	c->out[c->nout].path = path;
	c->nout++;
}

/* ---- checkpoints ------------------------------------------------------------ */

/* The largest file --resume reads. The biggest checkpoint the writer makes
 * is about 310 MB: 2^24 done indices (the engine's resume window) of up to
 * 17 digits each (H x P < 2^56), so this leaves room and still refuses a
 * file that cannot be one. */
#define CHECKPOINT_MAX ((size_t)512 << 20)

static bool is_checkpoint_opt(const char *a, bool *takes_value)
{
	*takes_value = !strcmp(a, "--checkpoint") || !strcmp(a, "--resume");
	return *takes_value || !strncmp(a, "--checkpoint=", 13) || !strncmp(a, "--resume=", 9);
}

/* The arguments a checkpoint keeps: c->argv without --checkpoint, --resume
 * and their values. The strings stay c->argv's. */
static void checkpoint_args(struct scan_cli *c)
{
	c->cp_argv = calloc((size_t)c->argc + 1, sizeof(*c->cp_argv));
	if (!c->cp_argv)
		cli_fatal("out of memory");
	c->cp_argc = 0;
	for (int i = 0; i < c->argc; i++) {
		bool val;

		if (i && is_checkpoint_opt(c->argv[i], &val)) {
			i += val;
			continue;
		}
		c->cp_argv[c->cp_argc++] = c->argv[i];
	}
}

/* Writes the checkpoint atomically (a temporary file renamed over it). A
 * failure is a warning: the scan goes on. */
static void checkpoint_write(struct scan_cli *c)
{
	struct pp_checkpoint cp;
	uint64_t wm, *done = NULL;
	size_t ndone = 0;
	char tmp[4096];
	FILE *f;
	int r;

	if (!c->checkpoint || !c->scan)
		return;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", c->checkpoint) >= sizeof(tmp)) {
		fprintf(stderr, "%s: warning: cannot write checkpoint %s: %s\n", cli_progname,
			c->checkpoint, strerror(ENAMETOOLONG));
		return;
	}
	if (pp_scan_get_resume(c->scan, &wm, &done, &ndone) < 0)
		return;
	f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "%s: warning: cannot write checkpoint %s: %s\n", cli_progname, tmp,
			strerror(errno));
		free(done);
		return;
	}
	memset(&cp, 0, sizeof(cp));
	cp.argc = c->cp_argc;
	cp.argv = c->cp_argv;
	cp.seed = c->o.seed;
	cp.total =
	    pp_scan_index_count(pp_targets_count(c->targets), c->ports.n, c->o.shard, c->o.shards);
	cp.watermark = wm;
	cp.done = done;
	cp.ndone = ndone;
	r = pp_checkpoint_write(f, &cp, c->checkpoint);
	free(done);
	if (r < 0 || fflush(f) || ferror(f) || fsync(fileno(f))) {
		fclose(f);
		fprintf(stderr, "%s: warning: cannot write checkpoint %s\n", cli_progname, tmp);
		return;
	}
	fclose(f);
	if (rename(tmp, c->checkpoint))
		fprintf(stderr, "%s: warning: cannot write checkpoint %s: %s\n", cli_progname,
			c->checkpoint, strerror(errno));
}

/* Reads the checkpoint at path into *cp (owned by the caller); exits 2 when
 * it cannot be read or is not a checkpoint. */
static void checkpoint_read(const char *path, struct pp_checkpoint *cp)
{
	struct pp_checkpoint_error err;
	FILE *f = fopen(path, "r");
	char chunk[65536];
	struct stat st;
	struct pp_buf b;
	size_t n;
	int r;

	if (!f)
		cli_usage_error("--resume %s: cannot read: %s", path, strerror(errno));
	if (!fstat(fileno(f), &st) && S_ISREG(st.st_mode) && (uint64_t)st.st_size > CHECKPOINT_MAX)
		cli_usage_error("--resume %s: is larger than a checkpoint can be (%zu MiB)", path,
				CHECKPOINT_MAX >> 20);
	pp_buf_init(&b, CHECKPOINT_MAX);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && pp_buf_put(&b, chunk, n) == 0)
		;
	if (ferror(f))
		cli_usage_error("--resume %s: cannot read: %s", path, strerror(errno));
	fclose(f);
	if (b.err == -E2BIG)
		cli_usage_error("--resume %s: is larger than a checkpoint can be (%zu MiB)", path,
				CHECKPOINT_MAX >> 20);
	if (b.err)
		cli_fatal("out of memory");
	r = pp_checkpoint_parse(b.data, b.len, cp, &err);
	pp_buf_release(&b);
	if (r == -ENOMEM)
		cli_fatal("out of memory");
	if (r < 0 && err.line)
		cli_usage_error("--resume %s:%lu: %s", path, err.line, err.msg);
	if (r < 0)
		cli_usage_error("--resume %s: %s", path, err.msg);
}

/* ---- output ----------------------------------------------------------------- */

static void out_flush(struct scan_cli *c, struct output *o)
{
	if (c->buf.err)
		cli_fatal("output too large or out of memory");
	if (c->buf.len && fwrite(c->buf.data, 1, c->buf.len, o->f) != c->buf.len)
		cli_fatal("cannot write %s: %s", o->path ? o->path : "stdout", strerror(errno));
	if (c->buf.len && fflush(o->f))
		cli_fatal("cannot write %s: %s", o->path ? o->path : "stdout", strerror(errno));
	pp_buf_reset(&c->buf);
}

static void progress_clear(struct scan_cli *c)
{
	if (c->progress_shown) {
		fputs("\r\033[K", stderr);
		c->progress_shown = false;
	}
}

static void on_record(void *data, const struct pp_scan_record *rec)
{
	struct scan_cli *c = data;

	for (unsigned i = 0; i < c->nout; i++) {
		pp_scan_writer_record(c->out[i].w, &c->buf, rec);
		out_flush(c, &c->out[i]);
	}
}

static void on_host(void *data, const struct pp_scan_host *host)
{
	struct scan_cli *c = data;

	for (unsigned i = 0; i < c->nout; i++) {
		pp_scan_writer_host(c->out[i].w, &c->buf, host);
		out_flush(c, &c->out[i]);
	}
}

static void on_tick(void *data)
{
	struct scan_cli *c = data;
	struct timespec zero = {0, 0};
	uint64_t now;
	struct timespec ts;
	int sig;

	sig = sigtimedwait(&c->sigs, NULL, &zero);
	if (sig > 0 && !c->signo) {
		c->signo = sig;
		pp_scan_stop(c->scan);
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	if (c->checkpoint && now - c->last_checkpoint_ns >= 1000000000ull) {
		c->last_checkpoint_ns = now;
		checkpoint_write(c);
	}
	if (c->progress && now - c->last_progress_ns >= 1000000000ull) {
		struct pp_scan_progress p;
		double rate, eta;

		c->last_progress_ns = now;
		pp_scan_get_progress(c->scan, &p);
		rate = p.elapsed > 0 ? (double)p.done / p.elapsed : 0;
		eta = rate > 0 ? (double)(p.total - p.done) / rate : 0;
		fprintf(stderr,
			"\r\033[K%" PRIu64 "/%" PRIu64
			" ports (%.1f%%), %.0f/s, ETA %.0fs, %" PRIu64 " open",
			p.done, p.total, p.total ? 100.0 * (double)p.done / (double)p.total : 100.0,
			rate, eta, p.open);
		c->progress_shown = true;
	}
}

static void on_resolve_error(void *data, const char *name, enum pp_error err, const char *detail)
{
	fprintf(stderr, "%s: warning: cannot resolve %s: %s%s%s\n", cli_progname, name,
		pp_error_message(err), detail && *detail ? ": " : "", detail ? detail : "");
}

/* Opens an output file of a resumed scan. Line formats are appended to, as
 * nmap does; an XML document is cut before its run statistics (or taken as
 * it is when a SIGKILL left it open) so that the resumed hosts and the new
 * statistics complete the same document. */
static FILE *open_continued(struct output *o)
{
	FILE *f = fopen(o->path, "r+");
	char *doc = NULL;
	size_t len = 0, n;
	long cut = -1;

	if (!f)
		return fopen(o->path, "a");
	o->continued = true;
	if (o->fmt == PP_SCAN_XML) {
		char chunk[65536];
		const char *m;

		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
			char *nd = realloc(doc, len + n + 1);

			if (!nd)
				cli_fatal("out of memory");
			doc = nd;
			memcpy(doc + len, chunk, n);
			len += n;
		}
		if (doc) {
			doc[len] = '\0';
			for (m = doc; (m = strstr(m, "<!-- portprobe stats:")); m++)
				cut = m - doc;
			if (cut < 0)
				for (m = doc; (m = strstr(m, "<runstats>")); m++)
					cut = m - doc;
		}
		free(doc);
		if (cut >= 0 && ftruncate(fileno(f), cut) < 0)
			cli_fatal("cannot continue %s: %s", o->path, strerror(errno));
	}
	if (fseek(f, 0, SEEK_END) < 0)
		cli_fatal("cannot continue %s: %s", o->path, strerror(errno));
	return f;
}

/* A source address that cannot be bound, or of the other family, would make
 * every probe fail locally: say so before anything is sent. */
static void check_source(struct scan_cli *c)
{
	int fam = pp_addr_family(&c->o.source), fd;
	char src[PP_ADDRSTRLEN];
	struct pp_addr first;

	pp_addr_str(&c->o.source, src, sizeof(src));
	pp_targets_get(c->targets, 0, &first, NULL);
	if (pp_targets_mixed(c->targets) || pp_addr_family(&first) != fam)
		cli_usage_error("--source-address %s: every target must be IPv%c as well", src,
				fam == AF_INET ? '4' : '6');
	fd = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&c->o.source.sa, c->o.source.len) < 0)
		cli_fatal("--source-address %s: cannot use it: %s", src, strerror(errno));
	close(fd);
}

/* --list: every target address, one per line, nothing sent. */
static int run_list(struct scan_cli *c)
{
	uint64_t n = pp_targets_count(c->targets);
	static char obuf[1 << 20];
	char ip[PP_ADDRSTRLEN];

	if (c->nout != 1 || c->out[0].path || c->out[0].fmt != PP_SCAN_TEXT)
		cli_usage_error("--list writes plain text to stdout; drop -o and the -o? files");
	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
	for (uint64_t h = 0; h < n; h++) {
		struct pp_addr a;
		const char *name;

		if (c->o.shards && h % c->o.shards != c->o.shard - 1)
			continue;
		pp_targets_get(c->targets, h, &a, &name);
		pp_addr_str(&a, ip, sizeof(ip));
		if (name)
			printf("%s (%s)\n", name, ip);
		else
			puts(ip);
	}
	if (fflush(stdout))
		cli_fatal("cannot write stdout: %s", strerror(errno));
	return EXIT_OK;
}

/* ---- main --------------------------------------------------------------------- */

static void parse_args(struct scan_cli *c, int argc, char **argv)
{
	bool ports_given = false, top_given = false, no_ping = false;
	const char *exclude_ports = NULL, *top = NULL;
	char **v = rewrite_args(argc, argv);
	int opt, tmpl = 3;
	struct {
		int id;
		const char *val;
	} timing[16];
	unsigned ntiming = 0;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, v, ":46np:rFS:o:h", scan_options, NULL)) != -1) {
		switch (opt) {
		case '4':
			c->family = AF_INET;
			break;
		case '6':
			c->family = AF_INET6;
			break;
		case 'n':
		case OPT_REASON:
		case OPT_CONNECT:
			break;
		case 'p':
			if (ports_given)
				cli_usage_error("-p given twice");
			pp_ports_free(&c->ports);
			{
				const char *why = "is not valid";

				if (pp_ports_parse(optarg, &c->ports, &why) < 0)
					cli_usage_error("-p %s: %s", optarg, why);
			}
			ports_given = true;
			c->ports_source = "list";
			break;
		case OPT_TOP_PORTS:
			top = optarg;
			top_given = true;
			break;
		case 'F':
			top = "100";
			top_given = true;
			break;
		case OPT_EXCLUDE_PORTS:
			exclude_ports = optarg;
			break;
		case 'r':
			c->o.sequential = true;
			break;
		case OPT_SEED:
			c->o.seed = parse_u64("--seed", optarg);
			c->seed_given = true;
			break;
		case OPT_SHARD:
			parse_shard(c, optarg);
			break;
		case OPT_CHECKPOINT:
			c->checkpoint = optarg;
			break;
		case OPT_RESUME: /* taken (and checked alone) before parsing */
			break;
		case OPT_INPUT:
			add_spec_file(c, optarg, false);
			break;
		case OPT_EXCLUDE:
			add_spec_list(c, optarg, true);
			break;
		case OPT_EXCLUDE_FILE:
			add_spec_file(c, optarg, true);
			break;
		case OPT_ALL_ADDRESSES:
			c->all_addresses = true;
			break;
		case OPT_DNS_SERVER: {
			static char csv[1024];
			const char *why;

			if (pp_parse_dns_servers(optarg, csv, sizeof(csv), &why) < 0)
				cli_usage_error("--dns-server %s: %s", optarg, why);
			c->dns_servers = csv;
			break;
		}
		case OPT_LIST:
			c->list = true;
			break;
		case OPT_NO_PING:
			no_ping = true;
			break;
		case OPT_TIMING:
			if (strlen(optarg) != 1 || optarg[0] < '0' || optarg[0] > '5')
				cli_usage_error("-T%s: timing template is not in 0..5", optarg);
			tmpl = optarg[0] - '0';
			break;
		case OPT_MIN_RATE:
		case OPT_MAX_RATE:
		case OPT_MAX_PARALLEL:
		case OPT_MIN_PARALLEL:
		case OPT_MAX_RETRIES:
		case OPT_HOST_TIMEOUT:
		case OPT_INITIAL_RTT:
		case OPT_MIN_RTT:
		case OPT_MAX_RTT:
		case OPT_THREADS:
			if (ntiming == sizeof(timing) / sizeof(timing[0]))
				cli_usage_error("too many timing options");
			timing[ntiming].id = opt;
			timing[ntiming].val = optarg;
			ntiming++;
			break;
		case 'S': {
			const char *why;

			if (pp_parse_ip(optarg, 0, &c->o.source, &why) < 0)
				cli_usage_error("--source-address %s: %s", optarg, why);
			break;
		}
		case 'o': {
			enum pp_scan_format fmt;

			if (pp_scan_format_parse(optarg, &fmt) < 0)
				cli_usage_error(
				    "-o %s: is not text, json, jsonl, xml, grepable or csv",
				    optarg);
			c->out[0].fmt = fmt;
			break;
		}
		case OPT_OUT_NORMAL:
			add_output(c, PP_SCAN_TEXT, optarg);
			break;
		case OPT_OUT_XML:
			add_output(c, PP_SCAN_XML, optarg);
			break;
		case OPT_OUT_GREP:
			add_output(c, PP_SCAN_GREPABLE, optarg);
			break;
		case OPT_OUT_JSONL:
			add_output(c, PP_SCAN_JSONL, optarg);
			break;
		case OPT_OUT_ALL: {
			static const char *ext[] = {"nmap", "xml", "gnmap"};
			static const enum pp_scan_format fmts[] = {PP_SCAN_TEXT, PP_SCAN_XML,
								   PP_SCAN_GREPABLE};

			for (int i = 0; i < 3; i++) {
				size_t len = strlen(optarg) + 8;
				char *p = malloc(len);

				if (!p)
					cli_fatal("out of memory");
				snprintf(p, len, "%s.%s", optarg, ext[i]);
				add_output(c, fmts[i], p);
			}
			break;
		}
		case OPT_OPEN:
			c->open_only = true;
			break;
		case OPT_NO_PROGRESS:
			c->progress = false;
			break;
		case 'h':
			fputs(scan_usage, stdout);
			exit(EXIT_OK);
		default:
			cli_option_error(opt, v, "scan");
		}
	}
	/* the template first, then the explicit values over it */
	pp_scan_opts_timing(&c->o, tmpl);
	for (unsigned i = 0; i < ntiming; i++) {
		const char *val = timing[i].val;

		switch (timing[i].id) {
		case OPT_MIN_RATE:
			c->o.min_rate = parse_rate("--min-rate", val);
			break;
		case OPT_MAX_RATE:
			c->o.max_rate = parse_rate("--max-rate", val);
			break;
		case OPT_MAX_PARALLEL:
			c->o.max_parallel = parse_uint_opt("--max-parallel", val, 1, 1000000);
			break;
		case OPT_MIN_PARALLEL:
			c->o.min_parallel = parse_uint_opt("--min-parallel", val, 1, 1000000);
			break;
		case OPT_MAX_RETRIES:
			c->o.max_retries = parse_uint_opt("--max-retries", val, 0, 50);
			break;
		case OPT_HOST_TIMEOUT:
			c->o.host_timeout_ns =
			    (uint64_t)(parse_seconds_opt("--host-timeout", val) * 1e9);
			break;
		case OPT_INITIAL_RTT:
			c->o.initial_rtt_ns =
			    (uint64_t)(parse_seconds_opt("--initial-rtt-timeout", val) * 1e9);
			break;
		case OPT_MIN_RTT:
			c->o.min_rtt_ns =
			    (uint64_t)(parse_seconds_opt("--min-rtt-timeout", val) * 1e9);
			break;
		case OPT_MAX_RTT:
			c->o.max_rtt_ns =
			    (uint64_t)(parse_seconds_opt("--max-rtt-timeout", val) * 1e9);
			break;
		case OPT_THREADS:
			c->o.threads = parse_uint_opt("--threads", val, 1, 64);
			break;
		}
	}
	if (c->o.min_rate > 0 && c->o.max_rate > 0 && c->o.min_rate > c->o.max_rate)
		cli_usage_error("--min-rate %g is above --max-rate %g", c->o.min_rate,
				c->o.max_rate);
	if (c->o.min_rtt_ns > c->o.max_rtt_ns)
		cli_usage_error("--min-rtt-timeout is above --max-rtt-timeout");
	if (c->o.min_parallel && c->o.max_parallel && c->o.min_parallel > c->o.max_parallel)
		cli_usage_error("--min-parallel %u is above --max-parallel %u", c->o.min_parallel,
				c->o.max_parallel);
	if (ports_given && top_given)
		cli_usage_error("-p and --top-ports/-F exclude each other");
	if (!ports_given) {
		const char *path = pp_ports_nmap_services_path(), *why = "is not valid";
		unsigned n = top ? parse_uint_opt("--top-ports", top, 1, 65535) : 1000;
		enum pp_ports_source src = path ? PP_PORTS_SOURCE_NMAP : PP_PORTS_SOURCE_OWN;

		if (pp_ports_top(n, src, path, &c->ports, &why) < 0 &&
		    (src == PP_PORTS_SOURCE_OWN ||
		     pp_ports_top(n, src = PP_PORTS_SOURCE_OWN, NULL, &c->ports, &why) < 0))
			cli_usage_error("--top-ports %u: %s", n, why);
		c->ports_source = src == PP_PORTS_SOURCE_NMAP ? "nmap" : "own";
	}
	if (exclude_ports) {
		const char *why = "is not valid";

		if (pp_ports_exclude(&c->ports, exclude_ports, &why) < 0)
			cli_usage_error("--exclude-ports %s: %s", exclude_ports, why);
		if (!c->ports.n)
			cli_usage_error("--exclude-ports %s: no port is left to scan",
					exclude_ports);
	}
	for (int i = optind; i < argc; i++) {
		const char *why = "is not valid";

		if (pp_targets_add(c->targets, v[i], &why) < 0)
			cli_usage_error("target %s: %s", v[i], why);
	}
	c->o.discovery = !no_ping;
	free(v);
}

int cmd_scan(int argc, char **argv)
{
	static struct scan_cli cli;
	struct scan_cli *c = &cli;
	struct pp_checkpoint cp;
	bool resumed = false;
	struct pp_scan_callbacks cb;
	struct pp_scan_stats stats;
	struct pp_scan_info info;
	int r;

	signal(SIGPIPE, SIG_IGN);
	memset(&cp, 0, sizeof(cp));
	pp_scan_opts_init(&c->o);
	c->progress = isatty(STDERR_FILENO);
	c->nout = 1; /* out[0] is stdout */
	c->out[0].fmt = PP_SCAN_TEXT;
	if (pp_targets_new(&c->targets) < 0)
		cli_fatal("out of memory");
	/* --resume FILE alone: the arguments come from the checkpoint */
	for (int i = 1; i < argc; i++) {
		bool val;

		if (!is_checkpoint_opt(argv[i], &val) || strncmp(argv[i], "--resume", 8))
			continue;
		if (argc != 2 + val)
			cli_usage_error("--resume takes no other option (the checkpoint has them)");
		{
			const char *path = val ? argv[i + 1] : argv[i] + 9;

			checkpoint_read(path, &cp);
			c->checkpoint = path;
			resumed = true;
		}
	}
	if (resumed) {
		c->argc = cp.argc;
		c->argv = cp.argv;
		parse_args(c, cp.argc, cp.argv);
		c->o.seed = cp.seed;
		c->seed_given = true;
		c->resume.watermark = cp.watermark;
		c->resume.done = cp.done;
		c->resume.ndone = cp.ndone;
		c->o.resume = &c->resume;
	} else {
		c->argc = argc;
		c->argv = argv;
		parse_args(c, argc, argv);
	}
	checkpoint_args(c);
	if (!c->seed_given && getrandom(&c->o.seed, sizeof(c->o.seed), 0) != sizeof(c->o.seed))
		c->o.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);

	/* names, then the index */
	if (pp_targets_name_count(c->targets) &&
	    (r = pp_scan_resolve(c->targets, c->family, c->all_addresses, c->dns_servers, 10,
				 on_resolve_error, NULL)) < 0)
		cli_fatal("cannot resolve targets: %s", strerror(-r));
	r = pp_targets_seal(c->targets);
	if (r == -E2BIG)
		cli_usage_error("targets: more than 2^40 addresses");
	if (r < 0)
		cli_fatal("targets: %s", strerror(-r));
	if (!pp_targets_count(c->targets)) {
		if (pp_targets_name_count(c->targets))
			cli_fatal("no target address to scan (no name resolved)");
		cli_usage_error("no target given (see portprobe scan --help)");
	}
	if (resumed && cp.total != pp_scan_index_count(pp_targets_count(c->targets), c->ports.n,
						       c->o.shard, c->o.shards))
		cli_fatal("--resume: the targets now give %" PRIu64
			  " indices, the checkpoint was written for %" PRIu64
			  " (did a name resolve differently?)",
			  pp_scan_index_count(pp_targets_count(c->targets), c->ports.n, c->o.shard,
					      c->o.shards),
			  cp.total);
	if (c->list) {
		if (c->o.shards)
			cli_usage_error(
			    "--list lists every target; --shard splits (host, port) pairs, "
			    "not hosts");
		return run_list(c);
	}
	if (c->o.source.len)
		check_source(c);
	if (pp_targets_count(c->targets) < 2)
		c->o.discovery = false;

	/* open every output before sending anything */
	for (unsigned i = 0; i < c->nout; i++) {
		struct output *o = &c->out[i];

		if (!o->path) {
			o->f = stdout;
		} else {
			o->f = resumed ? open_continued(o) : fopen(o->path, "w");
			if (!o->f)
				cli_fatal("cannot open %s: %s", o->path, strerror(errno));
		}
		if (pp_scan_writer_new(o->fmt, &o->w) < 0)
			cli_fatal("out of memory");
	}
	pp_buf_init(&c->buf, 64u << 20);

	memset(&info, 0, sizeof(info));
	info.version = pp_version();
	info.argc = c->argc;
	info.argv = c->argv;
	clock_gettime(CLOCK_REALTIME, &info.start);
	info.ports = &c->ports;
	info.hosts = pp_targets_count(c->targets);
	info.open_only = c->open_only;
	info.host_discovery = c->o.discovery;
	info.ports_source = c->ports_source;

	/* signals are taken by the tick, never by a worker */
	sigemptyset(&c->sigs);
	sigaddset(&c->sigs, SIGINT);
	sigaddset(&c->sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &c->sigs, NULL);

	c->o.targets = c->targets;
	c->o.ports = &c->ports;
	memset(&cb, 0, sizeof(cb));
	cb.record = on_record;
	cb.host = on_host;
	cb.tick = on_tick;
	cb.data = c;
	r = pp_scan_new(&c->o, &cb, &c->scan);
	if (r == -EINVAL)
		cli_usage_error("scan options are inconsistent");
	if (r < 0)
		cli_fatal("cannot start the scan: %s", strerror(-r));
	for (unsigned i = 0; i < c->nout; i++) {
		pp_scan_writer_begin(c->out[i].w, &c->buf, &info);
		if (c->out[i].continued && c->out[i].fmt == PP_SCAN_XML)
			pp_buf_reset(&c->buf); /* the document already has its header */
		out_flush(c, &c->out[i]);
	}
	r = pp_scan_run(c->scan, &stats);
	progress_clear(c);
	{
		struct timespec zero = {0, 0};
		int sig = sigtimedwait(&c->sigs, NULL, &zero);

		if (sig > 0 && !c->signo)
			c->signo = sig;
	}
	if (c->signo) {
		stats.interrupted = true;
		stats.interrupt_signal = c->signo == SIGINT ? "SIGINT" : "SIGTERM";
	}
	for (unsigned i = 0; i < c->nout; i++) {
		pp_scan_writer_end(c->out[i].w, &c->buf, &stats);
		out_flush(c, &c->out[i]);
	}
	checkpoint_write(c);
	if (c->signo && !c->checkpoint)
		fprintf(stderr,
			"%s: scan interrupted; run with --checkpoint FILE to be able to resume\n",
			cli_progname);
	for (unsigned i = 0; i < c->nout; i++) {
		pp_scan_writer_free(c->out[i].w);
		if (c->out[i].path && fclose(c->out[i].f))
			cli_fatal("cannot write %s: %s", c->out[i].path, strerror(errno));
	}
	pp_scan_free(c->scan);
	pp_buf_release(&c->buf);
	free(c->cp_argv);
	if (resumed)
		pp_checkpoint_release(&cp);
	if (r < 0)
		cli_fatal("scan failed: %s", strerror(-r));
	if (c->signo)
		return 128 + c->signo;
	return EXIT_OK;
}
