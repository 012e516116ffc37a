/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The table of probes (bpf/probes.def): which programs the BPF object has for each
 * attach point, and what part each plays. No libbpf here.
 */
#ifndef TCPTRACE_PROBES_H
#define TCPTRACE_PROBES_H

#include <stdbool.h>
#include "config.h"

enum probe_variant {
	VARIANT_TP_BTF = 1 << ATTACH_TP_BTF,
	VARIANT_RAW_TP = 1 << ATTACH_RAW_TP,
	VARIANT_TRACEPOINT = 1 << ATTACH_TRACEPOINT,
	VARIANT_FENTRY = 1 << ATTACH_FENTRY,
	VARIANT_KPROBE = 1 << ATTACH_KPROBE,
	/* A classic tracepoint alone, its program named without a suffix. */
	VARIANT_BARE = 1 << 7,
	VARIANTS_TYPED = VARIANT_TP_BTF | VARIANT_RAW_TP,
	VARIANTS_FUNCTION = VARIANT_FENTRY | VARIANT_KPROBE,
	VARIANTS_ALL = VARIANTS_TYPED | VARIANT_TRACEPOINT | VARIANTS_FUNCTION,
};

enum probe_role {
	PROBE_PLAIN,
	PROBE_TWINNED, /* has a PROBE_TWIN of the same command where the method allows */
	PROBE_TWIN,
	PROBE_CLEANUP,	 /* stands in for the twin where the method allows none */
	PROBE_PREFERRED, /* a function's: attached wherever the kernel allows, any method */
	PROBE_FALLBACK,	 /* stands in for the command's PROBE_PREFERRED probe elsewhere */
	PROBE_STAND_IN,	 /* a function's, only where the kernel lacks what config's stand_ins say */
};

struct probe {
	const char *command;
	const char *name;     /* "<command>_<probe>", as config's program lists name it */
	const char *category; /* NULL, with event, for a function's probe alone */
	const char *event;
	const char *function;
	unsigned int variants; /* enum probe_variant */
	enum probe_role role;
};

extern const struct probe probes[];
extern const unsigned int nr_probes;

/* Does the probe have a program for the method (a bare one counts as the tracepoint's)? */
bool probe_has_variant(const struct probe *probe, enum attach_method method);
/*
 * The probe a program of the object belongs to, and the method of that program, by its
 * name; NULL for a program that is no probe's variant.
 */
const struct probe *probe_of_program(const char *program, enum attach_method *method);
/* The probe called name ("<command>_<probe>"), or NULL. */
const struct probe *probe_named(const char *name);
/* The variant of the probe chosen for a method: that method's, or its first tracepoint's. */
enum attach_method probe_chosen_variant(const struct probe *probe, enum attach_method method);

#endif /* TCPTRACE_PROBES_H */
