/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Which of the BPF object's programs and maps a session loads: the command's own, less
 * what its options leave out, and of each probe's variants the one for the attach
 * method being tried.
 */
#ifndef TCPTRACE_PROGRAMS_H
#define TCPTRACE_PROGRAMS_H

#include <stdbool.h>
#include "config.h"
#include "failure.h"

#include "methods.h"

struct tcptrace;
struct bpf_program;
struct probe;

/* Are the programs of this command (bpf/probes.def's column) among those config loads? */
bool loads_programs_of(const struct trace_config *config, const char *command);
/* Is the program called name this entry of a list, or a variant of the probe it names? */
bool program_is(const char *name, const char *entry);
/*
 * -ENOENT for a program of the object that is no probe's variant (bpf/probes.def), or a
 * name in config->disabled_programs that no program has (a typo: it would disable
 * nothing).
 */
int check_programs(struct tcptrace *skel, const struct trace_config *config,
		   struct failure *failure);
/*
 * One attempt at attaching: the method, and which PROBE_PREFERRED probe attaches, and
 * how (NULL and ATTACH_AUTO: the PROBE_FALLBACK probes instead).
 */
struct attach_plan {
	const struct probe *preferred_probe;
	enum attach_method method;
	enum attach_method preferred;
	enum attach_method stand_in; /* the PROBE_STAND_IN probes' (ATTACH_AUTO: none) */
};

/* Is this probe among those config loads (its command's, and not disabled)? */
bool loads_probe(const struct trace_config *config, const struct probe *probe);
/* The PROBE_PREFERRED probes config loads, best first, after the one given (NULL: from
 * the start); NULL after the last. Options may leave them out. */
const struct probe *next_preferred_probe(const struct trace_config *config,
					 const struct probe *after);
void select_programs(struct tcptrace *skel, const struct trace_config *config,
		     const struct attach_plan *plan);

bool uses_method(struct tcptrace *skel, enum attach_method method);
/* Is a run the kernel skips for this program taken by a twin loaded with it? */
bool has_twin(struct tcptrace *skel, const struct bpf_program *prog);

#endif /* TCPTRACE_PROGRAMS_H */
