/* cmd_run.c: `portprobe run CONFIG`: every check of a configuration file
 * once, concurrently.
 *
 * The file is loaded and validated whole before anything is sent: an
 * invalid file gets one line naming FILE:LINE:COLUMN and the key, exit 2.
 * Results are written as each unit finishes (text and JSONL line by line,
 * JSON as one array closed even when interrupted); an InfraSonar document
 * as soon as every unit of its check is in. The Nagios line, which sums up
 * every unit, and the Prometheus exposition, which groups samples by metric
 * family, come at the end (after an interruption too, with the units that
 * finished). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "portprobe/config.h"
#include "portprobe/output.h"
#include "portprobe/probe_metrics.h"
#include "portprobe/runner.h"

static const char run_usage[] =
    "Usage: portprobe run [OPTIONS] CONFIG\n"
    "\n"
    "Runs every check of a configuration file once, concurrently: the\n"
    "check_tcp_connection plugin's YAML list, InfraSonar tcp_probe entries\n"
    "(address, tcp_ports, certificate_ports) and tls entries (docs/config.md).\n"
    "\n"
    "Options:\n"
    "  -o, --output FORMAT     text (default), json (one array), jsonl (one object\n"
    "                          per line), nagios (one line for every check),\n"
    "                          prometheus (blackbox_exporter's probe_* metrics for\n"
    "                          every unit, labelled check, unit, host, port and the\n"
    "                          check's labels), or infrasonar (one InfraSonar\n"
    "                          tcp-probe result per check and line: port, sslCert\n"
    "                          and sslEnumCiphers items)\n"
    "      --max-inflight N    units running at once (default 256)\n"
    "  -h, --help              this help\n"
    "\n"
    "Each check_tcp_connection or tls check is one unit; a tcp_probe check is one\n"
    "unit per TCP port (NAME/tcp:PORT) and per certificate port (NAME/cert:PORT).\n"
    "A unit is OK when it connected, or when its certificate chain is valid and\n"
    "expires in more than warning_days; WARNING within warning_days; CRITICAL when\n"
    "it did not connect, the chain is invalid, or within critical_days; UNKNOWN\n"
    "when this host could not run it.\n"
    "\n"
    "Exit codes: 0 every unit OK, 1 some unit not OK, 2 usage error or invalid\n"
    "configuration (nothing was run), 3 environment error; 130/143 interrupted\n"
    "(the JSON array is closed). With -o nagios: 0 OK, 1 WARNING, 2 CRITICAL,\n"
    "3 UNKNOWN.\n"
    "\n"
    "Examples:\n"
    "  portprobe run checks.yaml\n"
    "  portprobe run -o jsonl examples/infrasonar.yaml\n"
    "  portprobe run -o nagios examples/checks-plugin.yaml\n"
    "  portprobe run -o prometheus checks.yaml > /var/lib/node_exporter/probes.prom\n"
    "  portprobe run -o infrasonar examples/infrasonar.yaml\n";

enum run_output { OUT_TEXT, OUT_JSON, OUT_JSONL, OUT_NAGIOS, OUT_PROMETHEUS, OUT_INFRASONAR };

/* What the run has written and seen. */
struct run_state {
	enum run_output format;
	struct pp_buf out;                /* formatted, not yet written */
	size_t written;                   /* units written (JSON: for the separators) */
	size_t not_ok;                    /* units not OK */
	enum pp_run_status *st;           /* every unit's status, for nagios */
	double *seconds;                  /* every unit's duration or response time */
	char **reason;                    /* every failed unit's reason, for nagios */
	bool *done;                       /* every unit reported */
	struct pp_probe_metrics *metrics; /* prometheus: every reported unit's record */
	struct pp_infrasonar_check *isc;  /* infrasonar: every check's items so far */
	size_t *left;                     /* infrasonar: every check's units not reported */
	const struct pp_config *cfg;      /* the configuration run */
};

/* Adds an InfraSonar unit to its check; writes the check when it is complete. */
static void put_infrasonar(struct run_state *s, const struct pp_run_result *r)
{
	size_t k = s->cfg->units[r->unit].check;
	int rc = pp_infrasonar_check_add(&s->isc[k], r);

	if (rc < 0)
		cli_fatal("cannot format a result: %s", strerror(-rc));
	if (--s->left[k])
		return;
	pp_infrasonar_check_write(&s->out, &s->isc[k], s->cfg->checks[k].name);
	pp_buf_puts(&s->out, "\n");
	pp_infrasonar_check_release(&s->isc[k]);
}

static void on_result(void *data, const struct pp_run_result *r)
{
	struct run_state *s = data;

	s->st[r->unit] = r->status;
	s->done[r->unit] = true;
	s->seconds[r->unit] = r->check ? r->check->response_time : r->duration;
	if (r->status != PP_RUN_OK) {
		s->not_ok++;
		free(s->reason[r->unit]);
		s->reason[r->unit] = strdup(r->reason ? r->reason : "failed");
	}
	switch (s->format) {
	case OUT_TEXT:
		pp_run_write_text(&s->out, r);
		break;
	case OUT_JSON:
		pp_buf_puts(&s->out, s->written ? ",\n" : "\n");
		pp_run_write_json(&s->out, r);
		break;
	case OUT_JSONL:
		pp_run_write_json(&s->out, r);
		pp_buf_puts(&s->out, "\n");
		break;
	case OUT_PROMETHEUS:
		if (pp_probe_metrics_from_result(&s->metrics[r->unit], r) < 0)
			cli_fatal("out of memory");
		break;
	case OUT_INFRASONAR:
		put_infrasonar(s, r);
		break;
	case OUT_NAGIOS:
		break;
	}
	s->written++;
	cli_emit(&s->out);
}

/* Worse = higher, ranked as check and tls rank (pp_run_status has the Nagios values). */
static int rank(enum pp_run_status st)
{
	return pp_nagios_rank((enum pp_nagios_state)st);
}

/* The one-line summary of every unit, monitoring-plugins style; returns the state. */
static enum pp_run_status put_nagios(struct run_state *s, const struct pp_config *cfg)
{
	enum pp_run_status worst = PP_RUN_OK;
	size_t shown = 0;

	for (size_t i = 0; i < cfg->nunits; i++) {
		if (!s->done[i])
			s->st[i] = PP_RUN_UNKNOWN;
		if (rank(s->st[i]) > rank(worst))
			worst = s->st[i];
	}
	pp_buf_printf(&s->out, "PORTPROBE %s - ", pp_run_status_name(worst));
	if (worst == PP_RUN_OK) {
		pp_buf_printf(&s->out, "%zu of %zu units OK", cfg->nunits, cfg->nunits);
	} else {
		pp_buf_printf(&s->out, "%zu of %zu units not OK:", s->not_ok, cfg->nunits);
		for (size_t i = 0; i < cfg->nunits && shown < 10; i++) {
			if (s->st[i] == PP_RUN_OK)
				continue;
			pp_buf_printf(&s->out, "%s %s (", shown ? "," : "", cfg->units[i].name);
			/* '|' would start the perfdata */
			for (const char *p = s->reason[i] ? s->reason[i] : "not run"; *p; p++)
				pp_buf_put(&s->out, *p == '|' ? "/" : p, 1);
			pp_buf_puts(&s->out, ")");
			shown++;
		}
		if (s->not_ok > shown)
			pp_buf_printf(&s->out, ", and %zu more", s->not_ok - shown);
	}
	pp_buf_puts(&s->out, " |");
	for (size_t i = 0; i < cfg->nunits; i++) {
		pp_buf_printf(&s->out, " '%s'=", cfg->units[i].name);
		if (s->done[i] && s->st[i] == PP_RUN_OK)
			pp_buf_printf(&s->out, "%.6fs;;;0", s->seconds[i]);
		else
			pp_buf_puts(&s->out, "U;;;0");
	}
	pp_buf_puts(&s->out, "\n");
	return worst;
}

/* Every reported unit's probe_* metrics, labelled check, unit, host, port
 * and then the check's own labels (docs/config.md reserves the first four). */
static void put_prometheus(struct run_state *s, const struct pp_config *cfg)
{
	const struct pp_probe_metrics **ms = calloc(cfg->nunits, sizeof(*ms));
	const struct pp_label_set **ls = calloc(cfg->nunits, sizeof(*ls));
	struct pp_label_set *sets = calloc(cfg->nunits, sizeof(*sets));
	struct pp_label *labels = NULL;
	char(*ports)[8] = calloc(cfg->nunits, sizeof(*ports));
	size_t n = 0, nlabels = 0, at = 0;

	for (size_t i = 0; i < cfg->nunits; i++)
		nlabels += 4 + cfg->checks[cfg->units[i].check].nlabels;
	labels = calloc(nlabels ? nlabels : 1, sizeof(*labels));
	if (!ms || !ls || !sets || !labels || !ports)
		cli_fatal("out of memory");
	for (size_t i = 0; i < cfg->nunits; i++) {
		const struct pp_config_unit *u = &cfg->units[i];
		const struct pp_config_check *ck = &cfg->checks[u->check];
		struct pp_label *l = &labels[at];

		if (!s->done[i])
			continue;
		snprintf(ports[i], sizeof(ports[i]), "%u", u->port);
		l[0] = (struct pp_label){"check", ck->name};
		l[1] = (struct pp_label){"unit", u->name};
		l[2] = (struct pp_label){"host", ck->host};
		l[3] = (struct pp_label){"port", ports[i]};
		for (size_t j = 0; j < ck->nlabels; j++)
			l[4 + j] = (struct pp_label){ck->labels[j].name, ck->labels[j].value};
		sets[n] = (struct pp_label_set){l, 4 + ck->nlabels};
		at += 4 + ck->nlabels;
		ms[n] = &s->metrics[i];
		ls[n] = &sets[n];
		n++;
	}
	/* a family at a time, so 200,000 units fit the output buffer's cap */
	for (size_t f = 0; f < pp_probe_metrics_families(); f++) {
		pp_probe_metrics_write_family(&s->out, f, ms, ls, n);
		cli_emit(&s->out);
	}
	free(ms);
	free(ls);
	free(sets);
	free(labels);
	free(ports);
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"max-inflight", required_argument, NULL, 1000},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct run_state s = {0};
	struct pp_config *cfg = NULL;
	unsigned max_inflight = 0;
	char err[1024];
	int c, rc, signo = 0, exit_code;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (!strcmp(optarg, "text"))
				s.format = OUT_TEXT;
			else if (!strcmp(optarg, "json"))
				s.format = OUT_JSON;
			else if (!strcmp(optarg, "jsonl"))
				s.format = OUT_JSONL;
			else if (!strcmp(optarg, "nagios"))
				s.format = OUT_NAGIOS;
			else if (!strcmp(optarg, "prometheus"))
				s.format = OUT_PROMETHEUS;
			else if (!strcmp(optarg, "infrasonar"))
				s.format = OUT_INFRASONAR;
			else
				cli_usage_error(
				    "-o '%s': choose text, json, jsonl, nagios, prometheus "
				    "or infrasonar",
				    optarg);
			break;
		case 1000: {
			char *end = NULL;
			unsigned long v = strtoul(optarg, &end, 10);

			if (optarg[0] < '0' || optarg[0] > '9' || *end || v < 1 || v > 65536)
				cli_usage_error("--max-inflight '%s' is not in 1..65536", optarg);
			max_inflight = (unsigned)v;
			break;
		}
		case 'h':
			fputs(run_usage, stdout);
			return EXIT_OK;
		default:
			cli_option_error(c, argv, "run");
		}
	}
	if (optind >= argc)
		cli_usage_error("missing CONFIG (usage: portprobe run [OPTIONS] CONFIG)");
	if (optind + 1 < argc)
		cli_usage_error("unexpected argument '%s' (see portprobe run --help)",
				argv[optind + 1]);
	if (pp_config_load(argv[optind], &cfg, err, sizeof(err)) < 0)
		cli_usage_error("%s", err);
	if (!cfg->nunits) {
		pp_config_free(cfg);
		cli_usage_error("%s: no checks to run", argv[optind]);
	}
	pp_buf_init(&s.out, (size_t)64 << 20);
	s.st = calloc(cfg->nunits, sizeof(*s.st));
	s.seconds = calloc(cfg->nunits, sizeof(*s.seconds));
	s.reason = calloc(cfg->nunits, sizeof(*s.reason));
	s.done = calloc(cfg->nunits, sizeof(*s.done));
	s.cfg = cfg;
	if (!s.st || !s.seconds || !s.reason || !s.done)
		cli_fatal("out of memory");
	if (s.format == OUT_PROMETHEUS && !(s.metrics = calloc(cfg->nunits, sizeof(*s.metrics))))
		cli_fatal("out of memory");
	if (s.format == OUT_INFRASONAR) {
		s.isc = calloc(cfg->nchecks, sizeof(*s.isc));
		s.left = calloc(cfg->nchecks, sizeof(*s.left));
		if (!s.isc || !s.left)
			cli_fatal("out of memory");
		for (size_t k = 0; k < cfg->nchecks; k++) {
			pp_infrasonar_check_init(&s.isc[k]);
			s.left[k] = cfg->checks[k].unit_count;
		}
	}
	if (s.format == OUT_JSON) {
		pp_buf_puts(&s.out, "[");
		cli_emit(&s.out);
	}
	rc = pp_run_all(cfg, max_inflight, on_result, &s, &signo);
	if (s.format == OUT_JSON) {
		pp_buf_puts(&s.out, s.written ? "\n]\n" : "]\n");
		cli_emit(&s.out);
	}
	if (s.format == OUT_PROMETHEUS)
		put_prometheus(&s, cfg);
	exit_code = s.not_ok ? EXIT_FAILED : EXIT_OK;
	if (s.format == OUT_NAGIOS && !signo) {
		exit_code = (int)put_nagios(&s, cfg);
		cli_emit(&s.out);
	}
	if (rc < 0) {
		fprintf(stderr, "%s: run: %s\n", cli_progname, strerror(-rc));
		exit_code = EXIT_ENV;
	}
	if (signo)
		exit_code = 128 + signo;
	for (size_t i = 0; i < cfg->nunits; i++)
		free(s.reason[i]);
	free(s.reason);
	free(s.st);
	free(s.seconds);
	free(s.done);
	for (size_t i = 0; s.metrics && i < cfg->nunits; i++)
		pp_probe_metrics_release(&s.metrics[i]);
	free(s.metrics);
	for (size_t k = 0; s.isc && k < cfg->nchecks; k++)
		pp_infrasonar_check_release(&s.isc[k]);
	free(s.isc);
	free(s.left);
	pp_buf_release(&s.out);
	pp_config_free(cfg);
	return exit_code;
}
