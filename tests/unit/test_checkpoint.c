/* test_checkpoint.c: the scan's resume file, byte for byte: what the writer
 * writes, that the reader takes it back exactly (including files written
 * before reader and writer moved into the library), and that every kind of
 * damage is refused with its line and its fault. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>

#include "portprobe/checkpoint.h"
#include "test.h"

/* The writer's output for cp, in a malloc'd string (*len bytes); NULL on failure. */
static char *write_to_string(const struct pp_checkpoint *cp, const char *path, size_t *len)
{
	char *data = NULL;
	FILE *f = open_memstream(&data, len);

	if (!f)
		return NULL;
	if (pp_checkpoint_write(f, cp, path) < 0) {
		fclose(f);
		free(data);
		return NULL;
	}
	fclose(f);
	return data;
}

TEST_IMPL(checkpoint_round_trip_is_byte_exact)
{
	static char *argv[] = {"scan",     "-p", "1-100",     "back\\slash", "new\nline",
			       "cr\rhere", "",   "127.0.0.1", NULL};
	static const char expected[] =
	    "# portprobe scan checkpoint; continue with: portprobe scan --resume /tmp/scan.resume\n"
	    "portprobe-checkpoint 1\n"
	    "arg -p\n"
	    "arg 1-100\n"
	    "arg back\\\\slash\n"
	    "arg new\\nline\n"
	    "arg cr\\rhere\n"
	    "arg \n"
	    "arg 127.0.0.1\n"
	    "seed 18446744073709551615\n"
	    "total 18446744073709551615\n"
	    "watermark 10\n"
	    "done 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25\n"
	    "done 26 27 28 18446744073709551614\n"
	    "end\n";
	uint64_t done[20];
	struct pp_checkpoint cp = {.argc = 8,
				   .argv = argv,
				   .seed = UINT64_MAX,
				   .total = UINT64_MAX,
				   .watermark = 10,
				   .done = done,
				   .ndone = 20};
	struct pp_checkpoint back;
	struct pp_checkpoint_error err;
	size_t len;
	char *text;

	for (size_t i = 0; i < 19; i++)
		done[i] = 10 + i;
	done[19] = UINT64_MAX - 1;
	text = write_to_string(&cp, "/tmp/scan.resume", &len);
	ASSERT_TRUE(text != NULL);
	ASSERT_STR_EQ(text, expected);
	ASSERT_UEQ(len, sizeof(expected) - 1);

	ASSERT_EQ(pp_checkpoint_parse(text, len, &back, &err), 0);
	ASSERT_EQ(back.argc, 8);
	for (int i = 0; i < 8; i++)
		ASSERT_STR_EQ(back.argv[i], argv[i]);
	ASSERT_TRUE(back.argv[8] == NULL);
	ASSERT_UEQ(back.seed, UINT64_MAX);
	ASSERT_UEQ(back.total, UINT64_MAX);
	ASSERT_UEQ(back.watermark, 10);
	ASSERT_UEQ(back.ndone, 20);
	for (size_t i = 0; i < 20; i++)
		ASSERT_UEQ(back.done[i], done[i]);

	/* what it reads, it writes again the same */
	{
		size_t len2;
		char *again = write_to_string(&back, "/tmp/scan.resume", &len2);

		ASSERT_TRUE(again != NULL);
		ASSERT_STR_EQ(again, expected);
		free(again);
	}
	pp_checkpoint_release(&back);
	ASSERT_TRUE(back.argv == NULL && back.done == NULL && back.argc == 0);
	pp_checkpoint_release(&back); /* twice, and NULL: no-ops */
	pp_checkpoint_release(NULL);
	free(text);

	/* nothing done beyond the watermark: no done line */
	cp.ndone = 0;
	cp.argc = 1;
	text = write_to_string(&cp, NULL, &len);
	ASSERT_TRUE(text != NULL);
	ASSERT_STR_EQ(text, "portprobe-checkpoint 1\nseed 18446744073709551615\n"
			    "total 18446744073709551615\nwatermark 10\nend\n");
	ASSERT_EQ(pp_checkpoint_parse(text, len, &back, &err), 0);
	ASSERT_EQ(back.argc, 1);
	ASSERT_STR_EQ(back.argv[0], "scan");
	ASSERT_UEQ(back.ndone, 0);
	pp_checkpoint_release(&back);
	free(text);
	return 0;
}

TEST_IMPL(checkpoint_reads_what_portprobe_0_1_0_wrote)
{
	/* a checkpoint of an interrupted run, as the command wrote it before the
	 * reader and writer moved into the library */
	static const char file[] =
	    "# portprobe scan checkpoint; continue with: portprobe scan --resume cp\n"
	    "portprobe-checkpoint 1\n"
	    "arg -Pn\n"
	    "arg --max-rate\n"
	    "arg 4000\n"
	    "arg -p\n"
	    "arg 1-8000\n"
	    "arg 127.0.0.1\n"
	    "arg -o\n"
	    "arg json\n"
	    "seed 3477032247476503958\n"
	    "total 8000\n"
	    "watermark 2744\n"
	    "done 2752 2753 2754 2755 2756 2757 2758 2759 2760 2761 2762 2763 2764 2765 2766 2767\n"
	    "done 2768 2769 2770 2771 2772 2773 2774 2775 2776 2777 2778 2779 2780 2781 2782 2783\n"
	    "done 2784 2785 2786 2787 2788 2789 2790 2791 2792 2793 2794 2795 2796 2797 2798 2799\n"
	    "done 2800 2801 2802 2803 2804 2805 2806 2807 2808 2809 2810\n"
	    "end\n";
	static const char *const args[] = {"scan",   "-Pn",       "--max-rate", "4000", "-p",
					   "1-8000", "127.0.0.1", "-o",         "json"};
	struct pp_checkpoint cp;
	struct pp_checkpoint_error err;
	size_t len;
	char *again;

	ASSERT_EQ(pp_checkpoint_parse(file, sizeof(file) - 1, &cp, &err), 0);
	ASSERT_EQ(cp.argc, 9);
	for (int i = 0; i < 9; i++)
		ASSERT_STR_EQ(cp.argv[i], args[i]);
	ASSERT_UEQ(cp.seed, 3477032247476503958ull);
	ASSERT_UEQ(cp.total, 8000);
	ASSERT_UEQ(cp.watermark, 2744);
	ASSERT_UEQ(cp.ndone, 59);
	for (size_t i = 0; i < 59; i++)
		ASSERT_UEQ(cp.done[i], 2752 + i);
	/* and the writer still writes it byte for byte */
	again = write_to_string(&cp, "cp", &len);
	ASSERT_TRUE(again != NULL);
	ASSERT_STR_EQ(again, file);
	free(again);
	pp_checkpoint_release(&cp);
	return 0;
}

/* A bad checkpoint and what the reader must say about it. */
struct damage {
	const char *text;   /* the file */
	size_t len;         /* its length; 0: strlen(text) */
	unsigned long line; /* the line named, 0 for the whole file */
	const char *msg;    /* the fault */
};

/* Lines 1-5 of a checkpoint, then up to the end line. */
#define HEAD "# a comment\nportprobe-checkpoint 1\nseed 1\ntotal 10\nwatermark 4\n"

TEST_IMPL(checkpoint_refuses_damage_naming_line_and_fault)
{
	static const struct damage cases[] = {
	    {"", 0, 0, "is not a portprobe scan checkpoint"},
	    {"not a checkpoint\n", 0, 0, "is not a portprobe scan checkpoint"},
	    {"# only comments\n\n", 0, 0, "is not a portprobe scan checkpoint"},
	    {"portprobe-checkpoint 2\n" HEAD "end\n", 0, 0, "is not a portprobe scan checkpoint"},
	    {"portprobe-checkpoint 1\r\nseed 1\r\n", 0, 0, "is not a portprobe scan checkpoint"},
	    {HEAD, 0, 0, "checkpoint is incomplete"},
	    {"portprobe-checkpoint 1\ntotal 1\nwatermark 0\nend\n", 0, 0,
	     "checkpoint is incomplete"},
	    {"portprobe-checkpoint 1\nseed 1\nwatermark 0\nend\n", 0, 0,
	     "checkpoint is incomplete"},
	    {"portprobe-checkpoint 1\nseed 1\ntotal 1\nend\n", 0, 0, "checkpoint is incomplete"},
	    {HEAD "done 4 5\n", 0, 0, "checkpoint is incomplete"},
	    /* trailing garbage, spacing, signs, overflow */
	    {"portprobe-checkpoint 1\nseed 12x\ntotal 10\nwatermark 4\nend\n", 0, 2,
	     "seed is not a decimal number"},
	    {"portprobe-checkpoint 1\nseed  12\ntotal 10\nwatermark 4\nend\n", 0, 2,
	     "seed is not a decimal number"},
	    {"portprobe-checkpoint 1\nseed 12 \ntotal 10\nwatermark 4\nend\n", 0, 2,
	     "seed is not a decimal number"},
	    {"portprobe-checkpoint 1\nseed -1\ntotal 10\nwatermark 4\nend\n", 0, 2,
	     "seed is not a decimal number"},
	    {"portprobe-checkpoint 1\nseed +1\ntotal 10\nwatermark 4\nend\n", 0, 2,
	     "seed is not a decimal number"},
	    {"portprobe-checkpoint 1\nseed 0x10\ntotal 10\nwatermark 4\nend\n", 0, 2,
	     "seed is not a decimal number"},
	    {"portprobe-checkpoint 1\nseed \ntotal 10\nwatermark 4\nend\n", 0, 2,
	     "seed is not a decimal number"},
	    {"portprobe-checkpoint 1\nseed 18446744073709551616\ntotal 10\nwatermark 4\nend\n", 0,
	     2, "seed is above 18446744073709551615"},
	    {"portprobe-checkpoint 1\nseed 1\ntotal 99999999999999999999\nwatermark 4\nend\n", 0, 3,
	     "total is above 18446744073709551615"},
	    {"portprobe-checkpoint 1\nseed 1\ntotal 10\nwatermark 4x\nend\n", 0, 4,
	     "watermark is not a decimal number"},
	    /* each single line given twice */
	    {HEAD "seed 1\nend\n", 0, 6, "seed given twice"},
	    {HEAD "total 10\nend\n", 0, 6, "total given twice"},
	    {HEAD "watermark 4\nend\n", 0, 6, "watermark given twice"},
	    {HEAD "portprobe-checkpoint 1\nend\n", 0, 6, "portprobe-checkpoint given twice"},
	    /* done lists */
	    {HEAD "done 5 5\nend\n", 0, 6, "indices out of order"},
	    {HEAD "done 6 5\nend\n", 0, 6, "indices out of order"},
	    {HEAD "done 5 6\ndone 6 7\nend\n", 0, 7, "indices out of order"},
	    {HEAD "done 5  6\nend\n", 0, 6, "bad index list"},
	    {HEAD "done 5 6 \nend\n", 0, 6, "bad index list"},
	    {HEAD "done  5\nend\n", 0, 6, "bad index list"},
	    {HEAD "done 5,6\nend\n", 0, 6, "bad index list"},
	    {HEAD "done \nend\n", 0, 6, "bad index list"},
	    {HEAD "done 5 18446744073709551616\nend\n", 0, 6,
	     "done index is above 18446744073709551615"},
	    {HEAD "done 3 5\nend\n", 0, 6, "done index 3 is below the watermark 4"},
	    {HEAD "done 5\n# more\ndone 9 10\nend\n", 0, 8, "done index 10 is not below total 10"},
	    {"portprobe-checkpoint 1\nseed 1\ntotal 10\nwatermark 11\nend\n", 0, 4,
	     "watermark 11 is above total 10"},
	    /* arguments */
	    {HEAD "arg a\\x\nend\n", 0, 6, "bad escape in arg"},
	    {HEAD "arg a\\\nend\n", 0, 6, "bad escape in arg"},
	    /* lines that are not part of the format */
	    {HEAD "bogus\nend\n", 0, 6, "unexpected line"},
	    {HEAD "seed\nend\n", 0, 6, "unexpected line"},
	    {HEAD "arg\nend\n", 0, 6, "unexpected line"},
	    {HEAD "end \n", 0, 6, "unexpected line"},
	    {HEAD " end\n", 0, 6, "unexpected line"},
	    {HEAD "END\n", 0, 6, "unexpected line"},
	    /* NUL bytes, the end line and what follows it */
	    {HEAD "arg a\0b\nend\n", sizeof(HEAD "arg a\0b\nend\n") - 1, 6, "holds a NUL byte"},
	    {"\0", 1, 1, "holds a NUL byte"},
	    {HEAD "end\n\0", sizeof(HEAD "end\n\0") - 1, 7, "holds a NUL byte"},
	    {HEAD "end", 0, 6, "the last line has no newline"},
	    {HEAD "end\n\n", 0, 7, "data after end"},
	    {HEAD "end\n# comment\n", 0, 7, "data after end"},
	    {HEAD "end\nend\n", 0, 7, "data after end"},
	    {HEAD "end\ndone 5\n", 0, 7, "data after end"},
	};
	static const char sentinel_arg[] = "untouched";
	char *sentinel_argv[] = {(char *)sentinel_arg, NULL};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct damage *d = &cases[i];
		size_t len = d->len ? d->len : strlen(d->text);
		struct pp_checkpoint cp = {.argc = 1, .argv = sentinel_argv, .seed = 77};
		struct pp_checkpoint_error err = {.line = 999, .msg = "not set"};
		int r = pp_checkpoint_parse(d->text, len, &cp, &err);

		if (r != -EINVAL || err.line != d->line || strcmp(err.msg, d->msg))
			fprintf(stderr, "case %zu: \"%s\"\n", i, d->text);
		ASSERT_EQ(r, -EINVAL);
		ASSERT_STR_EQ(err.msg, d->msg);
		ASSERT_UEQ(err.line, d->line);
		/* the out-parameter is written only on success */
		ASSERT_TRUE(cp.argv == sentinel_argv && cp.argc == 1 && cp.seed == 77);
		/* and err may be left out */
		ASSERT_EQ(pp_checkpoint_parse(d->text, len, &cp, NULL), -EINVAL);
	}
	return 0;
}

TEST_IMPL(checkpoint_accepts_comments_blank_lines_and_any_order)
{
	static const char file[] = "\n# written by hand\n\nportprobe-checkpoint 1\n"
				   "done 7\n# between\n\nwatermark 5\narg -p\ntotal 8\narg 1-8\n"
				   "done 8\nseed 0\nend\n";
	struct pp_checkpoint cp;
	struct pp_checkpoint_error err;

	/* done 8 is not below total 8 */
	ASSERT_EQ(pp_checkpoint_parse(file, sizeof(file) - 1, &cp, &err), -EINVAL);
	ASSERT_STR_EQ(err.msg, "done index 8 is not below total 8");
	ASSERT_UEQ(err.line, 12);
	{
		char fixed[sizeof(file)];

		memcpy(fixed, file, sizeof(file));
		*strstr(fixed, "total 8") = 'T'; /* "Total 8": now an unexpected line */
		ASSERT_EQ(pp_checkpoint_parse(fixed, sizeof(file) - 1, &cp, &err), -EINVAL);
		ASSERT_STR_EQ(err.msg, "unexpected line");
		ASSERT_UEQ(err.line, 10);
		memcpy(fixed, file, sizeof(file));
		strstr(fixed, "total 8")[6] = '9';
		ASSERT_EQ(pp_checkpoint_parse(fixed, sizeof(file) - 1, &cp, &err), 0);
	}
	ASSERT_EQ(cp.argc, 3);
	ASSERT_STR_EQ(cp.argv[1], "-p");
	ASSERT_STR_EQ(cp.argv[2], "1-8");
	ASSERT_UEQ(cp.seed, 0);
	ASSERT_UEQ(cp.total, 9);
	ASSERT_UEQ(cp.watermark, 5);
	ASSERT_UEQ(cp.ndone, 2);
	ASSERT_UEQ(cp.done[0], 7);
	ASSERT_UEQ(cp.done[1], 8);
	pp_checkpoint_release(&cp);
	return 0;
}

TEST_IMPL(checkpoint_comment_keeps_an_odd_path_on_one_line)
{
	static char *argv[] = {"scan", "10.0.0.1", NULL};
	struct pp_checkpoint cp = {.argc = 2, .argv = argv, .seed = 5, .total = 3};
	struct pp_checkpoint back;
	struct pp_checkpoint_error err;
	size_t len;
	char *text = write_to_string(&cp, "x\nseed 9\rend", &len);

	ASSERT_TRUE(text != NULL);
	ASSERT_STR_EQ(text,
		      "# portprobe scan checkpoint; continue with: portprobe scan --resume "
		      "x?seed 9?end\n"
		      "portprobe-checkpoint 1\narg 10.0.0.1\nseed 5\ntotal 3\nwatermark 0\nend\n");
	ASSERT_EQ(pp_checkpoint_parse(text, len, &back, &err), 0);
	ASSERT_UEQ(back.seed, 5);
	pp_checkpoint_release(&back);
	free(text);
	return 0;
}
