/* test.h: the unit-test harness (libuv's task.h idea): assertions that print
 * both sides and the place, and a table of tests each run as its own ctest
 * entry (see list.h and runner.c). */
#ifndef PP_TEST_H
#define PP_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_IMPL(name) int test_##name(void)

/* Every test's prototype, from the table. */
#define TEST_ENTRY(name) int test_##name(void);
#include "unit_lists.h"
#undef TEST_ENTRY

#define TEST_FAIL_(...)                                                                            \
	do {                                                                                       \
		fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                                    \
		fprintf(stderr, __VA_ARGS__);                                                      \
		fputc('\n', stderr);                                                               \
		return 1;                                                                          \
	} while (0)

#define ASSERT_TRUE(expr)                                                                          \
	do {                                                                                       \
		if (!(expr))                                                                       \
			TEST_FAIL_("assertion failed: %s", #expr);                                 \
	} while (0)

#define ASSERT_EQ(a, b)                                                                            \
	do {                                                                                       \
		long long a_ = (long long)(a), b_ = (long long)(b);                                \
		if (a_ != b_)                                                                      \
			TEST_FAIL_("%s == %s: %lld != %lld", #a, #b, a_, b_);                      \
	} while (0)

#define ASSERT_UEQ(a, b)                                                                           \
	do {                                                                                       \
		unsigned long long a_ = (unsigned long long)(a), b_ = (unsigned long long)(b);     \
		if (a_ != b_)                                                                      \
			TEST_FAIL_("%s == %s: %llu != %llu", #a, #b, a_, b_);                      \
	} while (0)

#define ASSERT_STR_EQ(a, b)                                                                        \
	do {                                                                                       \
		const char *a_ = (a), *b_ = (b);                                                   \
		if (!a_ || !b_ || strcmp(a_, b_))                                                  \
			TEST_FAIL_("%s == %s: \"%s\" != \"%s\"", #a, #b, a_ ? a_ : "(null)",       \
				   b_ ? b_ : "(null)");                                            \
	} while (0)

#define ASSERT_DBL_EQ(a, b)                                                                        \
	do {                                                                                       \
		double a_ = (a), b_ = (b);                                                         \
		if (a_ != b_)                                                                      \
			TEST_FAIL_("%s == %s: %.9g != %.9g", #a, #b, a_, b_);                      \
	} while (0)

#endif
