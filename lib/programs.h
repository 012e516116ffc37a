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

struct tcptrace;

const char *attach_method_name(enum attach_method method);
/* A name in config->disabled_programs that no program has is a typo: -ENOENT. */
int check_disabled(struct tcptrace *skel, const struct trace_config *config,
		   struct failure *failure);
void select_programs(struct tcptrace *skel, const struct trace_config *config,
		     enum attach_method method);

bool uses_method(struct tcptrace *skel, enum attach_method method);

#endif /* TCPTRACE_PROGRAMS_H */
