/* tls_writer.c: the public writer of include/portprobe/tls.h, one object over
 * the three formats of tls_out.h, so the command drives every format with the
 * same calls: report() per target as it finishes, end() once (also after an
 * interruption: it closes the JSON array and writes the nagios line), then
 * status() for the exit code.
 *
 * The writer keeps the report pointers it was given (the engine keeps the
 * reports until pp_tls_free()): the nagios line and the exit status are over
 * every target, and the nagios line can only be written at the end. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "out/tls_out.h"
#include "portprobe/tls.h"

struct pp_tls_writer {
	FILE *f;                           /* where the bytes go (borrowed) */
	enum pp_tls_format fmt;            /* the format */
	int warn_days, crit_days;          /* thresholds, negative: none */
	const struct tls_report **reports; /* every report written, borrowed */
	size_t n, cap;                     /* entries used and allocated */
	bool begun;                        /* JSON: "[" written */
	bool ended;                        /* end() done */
};

int pp_tls_format_parse(const char *name, enum pp_tls_format *ret)
{
	static const struct {
		const char *name;
		enum pp_tls_format fmt;
	} formats[] = {{"text", PP_TLS_TEXT}, {"json", PP_TLS_JSON}, {"nagios", PP_TLS_NAGIOS}};

	for (size_t i = 0; name && i < sizeof(formats) / sizeof(formats[0]); i++)
		if (!strcmp(name, formats[i].name)) {
			*ret = formats[i].fmt;
			return 0;
		}
	return -EINVAL;
}

int pp_tls_writer_new(FILE *f, enum pp_tls_format fmt, int warn_days, int crit_days,
		      struct pp_tls_writer **ret)
{
	struct pp_tls_writer *w;

	if (!f || (fmt != PP_TLS_TEXT && fmt != PP_TLS_JSON && fmt != PP_TLS_NAGIOS))
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->f = f;
	w->fmt = fmt;
	w->warn_days = warn_days;
	w->crit_days = crit_days;
	*ret = w;
	return 0;
}

static int writer_begin(struct pp_tls_writer *w)
{
	int rc = 0;

	if (w->fmt == PP_TLS_JSON && !w->begun)
		rc = tls_json_begin(w->f);
	if (rc == 0)
		w->begun = true;
	return rc;
}

int pp_tls_writer_report(struct pp_tls_writer *w, const struct pp_tls_report *pr)
{
	const struct tls_report *r = (const struct tls_report *)pr;
	int rc;

	if (!r || w->ended)
		return -EINVAL;
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 16;
		const struct tls_report **v = realloc(w->reports, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		w->reports = v;
		w->cap = cap;
	}
	w->reports[w->n++] = r;
	switch (w->fmt) {
	case PP_TLS_TEXT:
		return tls_text_report(w->f, r);
	case PP_TLS_JSON:
		rc = writer_begin(w);
		return rc < 0 ? rc : tls_json_report(w->f, r, w->n == 1);
	case PP_TLS_NAGIOS:
		break;
	}
	return 0;
}

int pp_tls_writer_end(struct pp_tls_writer *w)
{
	int rc = 0;

	if (w->ended)
		return 0;
	w->ended = true;
	switch (w->fmt) {
	case PP_TLS_TEXT:
		break;
	case PP_TLS_JSON:
		rc = writer_begin(w);
		if (rc == 0)
			rc = tls_json_end(w->f);
		break;
	case PP_TLS_NAGIOS:
		rc = tls_nagios_write(w->f, w->reports, w->n, w->warn_days, w->crit_days);
		break;
	}
	return rc < 0 ? rc : 0;
}

int pp_tls_writer_status(const struct pp_tls_writer *w)
{
	if (w->fmt == PP_TLS_NAGIOS)
		return tls_nagios_status(w->reports, w->n, w->warn_days, w->crit_days);
	return tls_exit_status(w->reports, w->n, w->warn_days, w->crit_days);
}

void pp_tls_writer_free(struct pp_tls_writer *w)
{
	if (!w)
		return;
	free(w->reports);
	free(w);
}
