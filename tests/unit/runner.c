/* runner.c: runs one unit test by name (ctest runs each as its own process),
 * or every test when called without arguments. */
#include <stdio.h>
#include <string.h>

#include "test.h"

struct test_entry {
	const char *name;
	int (*fn)(void);
};

#define TEST_ENTRY(name) {#name, test_##name},
static const struct test_entry tests[] = {
#include "unit_lists.h"
    {NULL, NULL},
};
#undef TEST_ENTRY

int main(int argc, char **argv)
{
	int failed = 0;

	for (const struct test_entry *t = tests; t->name; t++) {
		int r;

		if (argc > 1 && strcmp(argv[1], t->name))
			continue;
		r = t->fn();
		if (argc > 1)
			return r;
		printf("%s %s\n", r ? "FAIL" : "ok  ", t->name);
		failed |= r;
	}
	if (argc > 1) {
		fprintf(stderr, "no test named %s\n", argv[1]);
		return 2;
	}
	return failed;
}
