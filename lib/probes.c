// SPDX-License-Identifier: GPL-2.0-only
#include <stdio.h>
#include <string.h>
#include "array.h"
#include "methods.h"
#include "probes.h"

const struct probe probes[] = {
#define PROBE(cmd, probe, cat, ev, fn, vars, part) \
	{ .command = #cmd,                         \
	  .name = #cmd "_" #probe,                 \
	  .category = (cat),                       \
	  .event = (ev),                           \
	  .function = (fn),                        \
	  .variants = (vars),                      \
	  .role = (part) },
#include "../bpf/probes.def"
#undef PROBE
};

const unsigned int nr_probes = ARRAY_SIZE(probes);

bool probe_has_variant(const struct probe *probe, enum attach_method method)
{
	if (method == ATTACH_TRACEPOINT && (probe->variants & VARIANT_BARE))
		return true;
	return method != ATTACH_AUTO && (probe->variants & (1u << method));
}

const struct probe *probe_of_program(const char *program, enum attach_method *method)
{
	for (unsigned int i = 0; i < nr_probes; i++) {
		size_t len = strlen(probes[i].name);

		if (strncmp(program, probes[i].name, len))
			continue;
		if (!program[len] && (probes[i].variants & VARIANT_BARE)) {
			*method = ATTACH_TRACEPOINT;
			return &probes[i];
		}
		for (enum attach_method m = ATTACH_TP_BTF; m <= ATTACH_KPROBE; m++) {
			if ((probes[i].variants & (1u << m)) &&
			    !strcmp(program + len, attach_method_suffix(m))) {
				*method = m;
				return &probes[i];
			}
		}
	}
	return NULL;
}

const struct probe *probe_named(const char *name)
{
	for (unsigned int i = 0; i < nr_probes; i++)
		if (!strcmp(probes[i].name, name))
			return &probes[i];
	return NULL;
}

enum attach_method probe_chosen_variant(const struct probe *probe, enum attach_method method)
{
	if (probe_has_variant(probe, method))
		return method;
	for (enum attach_method m = ATTACH_TP_BTF; m <= ATTACH_TRACEPOINT; m++)
		if (probe_has_variant(probe, m))
			return m;
	return ATTACH_AUTO;
}
