/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The last wall around the code that reads bytes others choose (process names, cgroup
 * and kubelet paths, HTTP requests): once tracing, a seccomp filter lets through only
 * the system calls tcptrace's own parts make from then on. Any other is stopped: the
 * process says which, and exits. Installed after the privileges are dropped, it cannot
 * be lifted; threads created later inherit it (tcptrace starts none).
 */
#ifndef TCPTRACE_SANDBOX_H
#define TCPTRACE_SANDBOX_H

#include <stdbool.h>

/* The parts that run, besides the consumer, the formatter and the writers. */
enum sandbox_part {
	SANDBOX_IDENTITY = 1 << 0,    /* lib/identity.c reads /proc and the cgroup tree */
	SANDBOX_SUMMARIES = 1 << 1,   /* lib/summary.c sorts its rows */
	SANDBOX_HTTP = 1 << 2,	      /* serve's exporter and HTTP server */
	SANDBOX_PERF_BUFFER = 1 << 3, /* events through perf buffers: cleared at the end */
};

/* Is there a filter for this architecture? Without one, sandbox_enter() fails. */
bool sandbox_available(void);
/*
 * Installs the filter for these parts (enum sandbox_part), and a SIGSYS handler that
 * names a refused call on stderr and exits with status 1. Needs no_new_privs (or
 * CAP_SYS_ADMIN), and a process of one thread (-EBUSY). The number of system calls
 * allowed, or -errno.
 */
int sandbox_enter(unsigned int parts);

#endif /* TCPTRACE_SANDBOX_H */
