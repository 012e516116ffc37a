/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the running kernel offers, checked without loading anything ("probe" is kept for
 * the attach points): shared by the session, which chooses how to attach, and by
 * `tcptrace features`, which shows it.
 */
#ifndef TCPTRACE_KERNEL_H
#define TCPTRACE_KERNEL_H

#include <stdbool.h>
#include "config.h"

#define KERNEL_BTF "/sys/kernel/btf/vmlinux"

/* --btf: the checks below read their types from this file where the kernel has none. */
void kernel_use_btf_file(const char *path);

/* 0 with the privileges to load tracing programs; -EPERM without; -errno otherwise. */
int kernel_check_privileges(void);
/*
 * Does the kernel's BTF have the tracepoint "event" (btf_trace_<event>)? tp_btf needs the
 * kernel's own: --btf's file is not enough.
 */
bool kernel_has_btf_tracepoint(const char *event);
/* Where tracefs is mounted (NULL: nowhere), with the effective IDs' access. */
const char *kernel_tracefs(int *err);
/* Does tracefs at root have the event "category/name"? */
bool kernel_has_tracefs_event(const char *root, const char *event);

/* Does this kernel load fentry programs on the function (a trial load: some refuse)? */
bool kernel_loads_fentry(const char *function);
/* Does this kernel have kprobes (the kprobe PMU), and the function (BTF, or kallsyms)? */
bool kernel_has_kprobe(const char *function);

struct probe;

enum kernel_offer {
	KERNEL_OFFERS_NOT,
	KERNEL_OFFERS,
	KERNEL_OFFER_UNKNOWN, /* the check needs tracefs, or privileges, this process lacks */
};

/*
 * Does this kernel offer the probe (bpf/probes.def) the way the method attaches it? The
 * one place each method is mapped to its check; tracefs: where it is, or NULL.
 */
enum kernel_offer kernel_offers(const struct probe *probe, enum attach_method method,
				const char *tracefs);

/*
 * Does the kernel's BTF (or --btf's) have this type (enum, struct, union), and, unless
 * member is NULL, this member or enum value?
 */
bool kernel_has_type(const char *type, const char *member);

/* Frees what these checks cached (the kernel's BTF: megabytes). */
void kernel_checks_release(void);

#endif /* TCPTRACE_KERNEL_H */
