/* scan_output.h: writers of scan results. Each formats into a pp_buf given
 * by the caller, who writes the bytes out (and flushes them) at once: the
 * writer never touches a file, socket or terminal. Every writer is driven by
 * the same four calls, in this order:
 *
 *   begin(info)            once
 *   record(rec)            per decided port, as it is known (streaming formats)
 *   host(host)             per host, once all its ports in this run are done
 *   end(stats)             once; also after an interruption, so documents close
 *
 * Formats that do not stream per record ignore record(); formats that have no
 * per-host block ignore host(). With open_only (--open) only open ports are
 * written, and hosts without open ports are left out (as nmap --open). */
#ifndef PORTPROBE_SCAN_OUTPUT_H
#define PORTPROBE_SCAN_OUTPUT_H

#include "portprobe/buf.h"
#include "portprobe/scan.h"

enum pp_scan_format {
	PP_SCAN_TEXT,     /* nmap normal output (-oN) */
	PP_SCAN_JSON,     /* one document, hosts written as they complete */
	PP_SCAN_JSONL,    /* one record per line */
	PP_SCAN_XML,      /* nmap XML, nmap.dtd-valid */
	PP_SCAN_GREPABLE, /* nmap -oG */
	PP_SCAN_CSV,      /* header + one row per record */
};

struct pp_scan_writer;

/* Parses "text", "json", "jsonl", "xml", "grepable", "csv". 0 or -EINVAL. */
int pp_scan_format_parse(const char *name, enum pp_scan_format *ret);

/* 0 or -ENOMEM. */
int pp_scan_writer_new(enum pp_scan_format fmt, struct pp_scan_writer **ret);
void pp_scan_writer_free(struct pp_scan_writer *w);
int pp_scan_writer_begin(struct pp_scan_writer *w, struct pp_buf *b,
			 const struct pp_scan_info *info);
int pp_scan_writer_record(struct pp_scan_writer *w, struct pp_buf *b,
			  const struct pp_scan_record *rec);
int pp_scan_writer_host(struct pp_scan_writer *w, struct pp_buf *b,
			const struct pp_scan_host *host);
int pp_scan_writer_end(struct pp_scan_writer *w, struct pp_buf *b,
		       const struct pp_scan_stats *stats);

#endif
