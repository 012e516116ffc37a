// SPDX-License-Identifier: GPL-2.0-only
/*
 * syscall_loop - what one unrelated system call costs: getppid() in a loop for
 * SECONDS (default 1), then "ns_per_call=<n.nn> calls=<n>". The benchmark runs it with
 * and without a tracer, to see the tax a tracer puts on every system call of the host.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 1, start = now_s(), elapsed;
	unsigned long long calls = 0;

	do {
		/* A batch between clock reads, so that the clock costs nothing measurable. */
		for (int i = 0; i < 10000; i++)
			syscall(SYS_getppid);
		calls += 10000;
		elapsed = now_s() - start;
	} while (elapsed < seconds);
	printf("ns_per_call=%.2f calls=%llu\n", elapsed * 1e9 / calls, calls);
	return 0;
}
