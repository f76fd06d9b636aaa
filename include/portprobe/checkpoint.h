/* checkpoint.h: the resume file of `portprobe scan` ("portprobe-checkpoint 1"),
 * its reader and its writer.
 *
 * The format is text, one item per line, every line ending in '\n':
 *
 *   # ...                      a comment (also an empty line); ignored
 *   portprobe-checkpoint 1     the first line that is not a comment
 *   arg ESCAPED                one per argument after "scan", in order; '\',
 *                              newline and CR are written as \\, \n and \r
 *   seed N                     the permutation's key
 *   total N                    the shard-local (host, port) indices of the scan
 *   watermark N                every index below N is done (N <= total)
 *   done I J K ...             more done indices, watermark <= I < total,
 *                              ascending over all done lines
 *   end                        the last line: nothing may follow it
 *
 * N are unsigned 64-bit decimal numbers, separated by one space. seed,
 * total, watermark and end appear exactly once. The reader takes exactly
 * what the writer writes and refuses everything else, so a damaged file is
 * an error and never a different scan. */
#ifndef PORTPROBE_CHECKPOINT_H
#define PORTPROBE_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A scan's resume state. */
struct pp_checkpoint {
	int argc;           /* arguments, argv[0] included */
	char **argv;        /* argv[0] is "scan"; argv[argc] is NULL */
	uint64_t seed;      /* the permutation's key */
	uint64_t total;     /* shard-local indices of the scan */
	uint64_t watermark; /* every index below it is done */
	uint64_t *done;     /* ndone more done indices, ascending, in [watermark, total) */
	size_t ndone;       /* entries in done */
};

/* Why a checkpoint was refused. */
struct pp_checkpoint_error {
	unsigned long line; /* 1-based line of the problem; 0 when it is the file as a whole */
	char msg[128];      /* what is wrong: "indices out of order" */
};

/* Parses the checkpoint in buf[0..len) (not NUL-terminated; NUL bytes are
 * refused). On success fills *ret, which then owns its argv strings and done
 * array (release with pp_checkpoint_release), and returns 0. Otherwise
 * returns -EINVAL (not a checkpoint, or a damaged one) or -ENOMEM, leaves
 * *ret untouched and, when err is not NULL, says where and why in *err:
 * line 0 "is not a portprobe scan checkpoint" (no magic line) or "checkpoint
 * is incomplete" (seed, total, watermark or end missing), or the line and
 * its fault ("indices out of order", "seed given twice", ...). */
int pp_checkpoint_parse(const char *buf, size_t len, struct pp_checkpoint *ret,
			struct pp_checkpoint_error *err);

/* Frees what pp_checkpoint_parse allocated in cp and empties it. NULL-safe. */
void pp_checkpoint_release(struct pp_checkpoint *cp);

/* Writes cp to f in the format above: a comment naming `portprobe scan
 * --resume path` (control characters in path written as '?' so that the
 * comment stays one line; path NULL leaves the comment out), the magic,
 * argv[1..argc) as arg lines, seed, total, watermark, the done indices 16 to
 * a line, end. cp is borrowed; its done indices must ascend within
 * [watermark, total), or the file will be refused when read. Flushing and
 * syncing f are the caller's. 0, or -EIO when f reports an error. */
int pp_checkpoint_write(FILE *f, const struct pp_checkpoint *cp, const char *path);

#endif
