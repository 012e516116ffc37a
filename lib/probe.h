/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the running kernel offers, asked without loading anything: shared by the
 * session, which chooses how to attach, and by `tcptrace features`, which shows it.
 */
#ifndef TCPTRACE_PROBE_H
#define TCPTRACE_PROBE_H

#include <stdbool.h>

#define PROBE_KERNEL_BTF "/sys/kernel/btf/vmlinux"

/* 0 with the privileges to load tracing programs; -EPERM without; -errno otherwise. */
int probe_privileges(void);
/* Does the kernel's BTF have the tracepoint "event" (btf_trace_<event>)? */
bool probe_btf_tracepoint(const char *event);
/* Where tracefs is mounted (NULL: nowhere), with the effective IDs' access. */
const char *probe_tracefs(int *err);
/* Does tracefs at root have the event "category/name"? */
bool probe_tracefs_event(const char *root, const char *event);

/* Does this kernel load fentry programs on the function (a trial load: some refuse)? */
bool probe_fentry(const char *function);
/* Does this kernel have kprobes (the kprobe PMU), and the function in its BTF? */
bool probe_kprobe(const char *function);

/* Frees what the probes cached (the kernel's BTF: megabytes). */
void probe_release(void);

#endif /* TCPTRACE_PROBE_H */
