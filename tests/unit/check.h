/* SPDX-License-Identifier: GPL-2.0-only */
/* A minimal test harness: CHECK* record a failure and go on; main() returns the verdict. */
#ifndef TCPTRACE_CHECK_H
#define TCPTRACE_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures;

#define CHECK(cond)                                                                        \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #cond); \
			check_failures++;                                                  \
		}                                                                          \
	} while (0)

#define CHECK_EQ_U64(actual, expected)                                                            \
	do {                                                                                      \
		unsigned long long a_ = (actual), e_ = (expected);                                \
		if (a_ != e_) {                                                                   \
			fprintf(stderr, "%s:%d: %s is %llu, expected %llu\n", __FILE__, __LINE__, \
				#actual, a_, e_);                                                 \
			check_failures++;                                                         \
		}                                                                                 \
	} while (0)

#define CHECK_STR(actual, expected)                                                           \
	do {                                                                                  \
		const char *a_ = (actual), *e_ = (expected);                                  \
		if (strcmp(a_, e_)) {                                                         \
			fprintf(stderr, "%s:%d: %s is\n  [%s]\nexpected\n  [%s]\n", __FILE__, \
				__LINE__, #actual, a_, e_);                                   \
			check_failures++;                                                     \
		}                                                                             \
	} while (0)

#define RUN(test)                                                                      \
	do {                                                                           \
		int before_ = check_failures;                                          \
		test();                                                                \
		printf("%s %s\n", check_failures == before_ ? "ok  " : "FAIL", #test); \
	} while (0)

#define CHECK_RESULT() (check_failures ? 1 : 0)

#endif /* TCPTRACE_CHECK_H */
