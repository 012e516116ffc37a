// SPDX-License-Identifier: GPL-2.0-only
/*
 * stamp - a reader for the tracer's output that notes when each line arrived:
 * "<CLOCK_MONOTONIC ns> <line>". The benchmark compares it with the line's TIME(s) to
 * get the delay from an event to its line being written.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <time.h>

int main(void)
{
	char *line = NULL;
	size_t size = 0;
	ssize_t len;

	/* Line by line: the benchmark watches for the header to see the tracer start. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((len = getline(&line, &size, stdin)) > 0) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		printf("%lld %s", ts.tv_sec * 1000000000LL + ts.tv_nsec, line);
	}
	return 0;
}
