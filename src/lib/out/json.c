/* json.c: the small pieces every JSON and CSV writer shares: string escaping,
 * ISO 8601 timestamps and CSV field quoting. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "portprobe/output.h"

int pp_json_put_string(struct pp_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *run = p;

	pp_buf_put(b, "\"", 1);
	for (; *p; p++) {
		char esc[6] = {'\\', 'u', '0', '0', 0, 0};
		const char *rep = NULL;
		size_t replen = 2;

		switch (*p) {
		case '"':
			rep = "\\\"";
			break;
		case '\\':
			rep = "\\\\";
			break;
		case '\n':
			rep = "\\n";
			break;
		case '\r':
			rep = "\\r";
			break;
		case '\t':
			rep = "\\t";
			break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				esc[4] = hex[*p >> 4];
				esc[5] = hex[*p & 15];
				rep = esc;
				replen = 6;
			}
			break;
		}
		if (!rep)
			continue;
		pp_buf_put(b, run, (size_t)(p - run));
		pp_buf_put(b, rep, replen);
		run = p + 1;
	}
	pp_buf_put(b, run, (size_t)(p - run));
	return pp_buf_put(b, "\"", 1);
}

char *pp_iso8601(const struct timespec *ts, char *buf, size_t len)
{
	struct tm tm;
	time_t t = ts->tv_sec;

	if (!gmtime_r(&t, &tm)) {
		snprintf(buf, len, "1970-01-01T00:00:00.000Z");
		return buf;
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts->tv_nsec / 1000000);
	return buf;
}

void pp_csv_put_field(struct pp_buf *b, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		pp_buf_puts(b, s);
		return;
	}
	pp_buf_puts(b, "\"");
	for (const char *q; (q = strchr(s, '"')); s = q + 1) {
		pp_buf_put(b, s, (size_t)(q - s));
		pp_buf_puts(b, "\"\"");
	}
	pp_buf_puts(b, s);
	pp_buf_puts(b, "\"");
}

int pp_json_put_string_or_null(struct pp_buf *b, const char *s)
{
	return s ? pp_json_put_string(b, s) : pp_buf_puts(b, "null");
}
