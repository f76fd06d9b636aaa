/* fuzz_checkpoint.c: the resume file reader on arbitrary bytes. Beyond not
 * crashing, a refusal must say why, and an accepted checkpoint must hold what
 * the format promises (argv NULL-terminated and starting with "scan",
 * watermark <= total, done ascending within [watermark, total)) and survive
 * a round trip through the writer: written and read again, it is the same
 * checkpoint, and written again, the same bytes. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portprobe/checkpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_valid(const struct pp_checkpoint *cp)
{
	if (cp->argc < 1 || !cp->argv || strcmp(cp->argv[0], "scan") || cp->argv[cp->argc])
		abort();
	if (cp->watermark > cp->total)
		abort();
	for (size_t i = 0; i < cp->ndone; i++)
		if (cp->done[i] < cp->watermark || cp->done[i] >= cp->total ||
		    (i && cp->done[i - 1] >= cp->done[i]))
			abort();
}

static bool same(const struct pp_checkpoint *a, const struct pp_checkpoint *b)
{
	if (a->argc != b->argc || a->seed != b->seed || a->total != b->total ||
	    a->watermark != b->watermark || a->ndone != b->ndone)
		return false;
	for (int i = 0; i < a->argc; i++)
		if (strcmp(a->argv[i], b->argv[i]))
			return false;
	return !a->ndone || !memcmp(a->done, b->done, a->ndone * sizeof(*a->done));
}

/* The writer's bytes for cp, malloc'd; aborts when it cannot write. */
static char *write_all(const struct pp_checkpoint *cp, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	if (!f)
		abort();
	if (pp_checkpoint_write(f, cp, "fuzz\n.resume") < 0)
		abort();
	if (fclose(f))
		abort();
	return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pp_checkpoint cp, back;
	struct pp_checkpoint_error err;
	char *text, *text2;
	size_t len, len2;
	int r;

	memset(&err, 0, sizeof(err));
	r = pp_checkpoint_parse((const char *)data, size, &cp, &err);
	if (r == -ENOMEM)
		return 0;
	if (r < 0) {
		if (r != -EINVAL || !err.msg[0] || strlen(err.msg) >= sizeof(err.msg))
			abort();
		return 0;
	}
	check_valid(&cp);
	text = write_all(&cp, &len);
	if (pp_checkpoint_parse(text, len, &back, &err) < 0)
		abort();
	if (!same(&cp, &back))
		abort();
	text2 = write_all(&back, &len2);
	if (len2 != len || memcmp(text, text2, len))
		abort();
	free(text2);
	pp_checkpoint_release(&back);
	free(text);
	pp_checkpoint_release(&cp);
	return 0;
}
