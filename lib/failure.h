/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What went wrong, for the one line at the top. lib/ returns -errno and fills this in;
 * cmd/main.c turns it into words. No libbpf here: cmd/ includes it.
 */
#ifndef TCPTRACE_FAILURE_H
#define TCPTRACE_FAILURE_H

#include <stdbool.h>
#include <stdio.h>

enum failure_kind {
	FAILURE_STEP,		/* "failed to <action> <object>: <errno>" */
	FAILURE_PRIVILEGES,	/* the capabilities to load BPF programs are missing */
	FAILURE_NO_BTF,		/* the kernel has no BTF */
	FAILURE_TRACEFS_ACCESS, /* tracefs is there, but this user may not read it */
	FAILURE_NO_HTTP,	/* serve, in a build without its HTTP server (the static one) */
	FAILURE_KERNEL_LACKS,	/* the load failed for want of object (lib/loadlog.h), since */
};

struct failure {
	enum failure_kind kind;
	const char *action; /* FAILURE_STEP: "attach" */
	/* FAILURE_STEP: a program's name. A copy: what named it is gone when it is printed. */
	char object[128];
	bool from_libbpf;  /* libbpf has more to say about it under -v */
	const char *since; /* FAILURE_KERNEL_LACKS: the Linux version that has it, if known */
};

static inline void failure_step(struct failure *failure, const char *action, const char *object)
{
	failure->kind = FAILURE_STEP;
	failure->action = action;
	snprintf(failure->object, sizeof(failure->object), "%s", object);
}

#endif /* TCPTRACE_FAILURE_H */
