// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "tcptrace.skel.h"
#include "methods.h"
#include "probes.h"
#include "programs.h"

static bool has_prefix(const char *name, const char *prefix)
{
	return strncmp(name, prefix, strlen(prefix)) == 0;
}

bool program_is(const char *name, const char *entry)
{
	enum attach_method variant;
	const struct probe *probe = probe_of_program(name, &variant);

	return !strcmp(name, entry) || (probe && !strcmp(probe->name, entry));
}

static bool disabled(const struct trace_config *config, const char *name)
{
	for (unsigned int i = 0; i < CONFIG_PROGRAM_LIST && config->disabled_programs[i]; i++)
		if (program_is(name, config->disabled_programs[i]))
			return true;
	return false;
}

bool loads_programs_of(const struct trace_config *config, const char *command)
{
	if (!config->program_commands[0])
		return !strcmp(command, config->command);
	for (unsigned int i = 0; i < CONFIG_COMMANDS_MAX && config->program_commands[i]; i++)
		if (!strcmp(command, config->program_commands[i]))
			return true;
	return false;
}

/*
 * Is this map a command's whose programs are not loaded? A command's maps are named
 * after it, as its probes are.
 */
static bool unloaded_commands_map(const char *name, const struct trace_config *config)
{
	for (unsigned int i = 0; i < nr_probes; i++) {
		size_t len = strlen(probes[i].command);

		if (!loads_programs_of(config, probes[i].command) &&
		    !strncmp(name, probes[i].command, len) && name[len] == '_')
			return true;
	}
	return false;
}

/* Every program of the object is a probe's variant: a name out of step is found here. */
int check_programs(struct tcptrace *skel, const struct trace_config *config,
		   struct failure *failure)
{
	struct bpf_program *prog;
	enum attach_method variant;

	bpf_object__for_each_program(prog, skel->obj) {
		if (!probe_of_program(bpf_program__name(prog), &variant)) {
			failure_step(failure, "find", bpf_program__name(prog));
			return -ENOENT;
		}
	}
	/* A name in disabled_programs that no program has is a typo: it would disable nothing. */
	for (unsigned int i = 0; i < CONFIG_PROGRAM_LIST && config->disabled_programs[i]; i++) {
		const char *entry = config->disabled_programs[i];
		bool found = false;

		bpf_object__for_each_program(prog, skel->obj)
			found |= program_is(bpf_program__name(prog), entry);
		if (!found) {
			failure_step(failure, "find", entry);
			return -ENOENT;
		}
	}
	return 0;
}

/*
 * The probes (and the maps named after them) of the other way of catching skipped runs
 * than the method's: where the method allows, a twin takes the runs the kernel skipped;
 * elsewhere a cleanup program removes what they left (bpf/connect.bpf.c says why).
 */
static enum probe_role other_catch(enum attach_method method)
{
	return attach_method_has_twins(method) ? PROBE_CLEANUP : PROBE_TWIN;
}

static bool other_catchs_map(const char *name, const struct trace_config *config,
			     enum attach_method method)
{
	for (unsigned int i = 0; i < nr_probes; i++)
		if (probes[i].role == other_catch(method) &&
		    loads_programs_of(config, probes[i].command) &&
		    has_prefix(name, probes[i].name))
			return true;
	return false;
}

const struct probe *next_preferred_probe(const struct trace_config *config,
					 const struct probe *after)
{
	for (unsigned int i = after ? after - probes + 1 : 0; i < nr_probes; i++)
		if (probes[i].role == PROBE_PREFERRED &&
		    loads_programs_of(config, probes[i].command) &&
		    !disabled(config, probes[i].name))
			return &probes[i];
	return NULL;
}

bool loads_probe(const struct trace_config *config, const struct probe *probe)
{
	return loads_programs_of(config, probe->command) && !disabled(config, probe->name);
}

static bool wanted(const struct trace_config *config, const char *name,
		   const struct attach_plan *plan)
{
	enum attach_method variant;
	const struct probe *probe = probe_of_program(name, &variant);

	if (!probe || !loads_programs_of(config, probe->command) || disabled(config, name))
		return false;
	if (probe->role == PROBE_PREFERRED)
		return probe == plan->preferred_probe && variant == plan->preferred;
	if (probe->role == PROBE_STAND_IN)
		return variant == plan->stand_in;
	if (probe->role == other_catch(plan->method) ||
	    (probe->role == PROBE_FALLBACK && plan->preferred))
		return false;
	return variant == probe_chosen_variant(probe, plan->method);
}

void select_programs(struct tcptrace *skel, const struct trace_config *config,
		     const struct attach_plan *plan)
{
	struct bpf_program *prog;
	struct bpf_map *map;

	bpf_object__for_each_program(prog, skel->obj)
		bpf_program__set_autoload(prog, wanted(config, bpf_program__name(prog), plan));
	bpf_object__for_each_map(map, skel->obj) {
		const char *name = bpf_map__name(map);

		if (unloaded_commands_map(name, config) ||
		    other_catchs_map(name, config, plan->method))
			bpf_map__set_autocreate(map, false);
	}
}

/* The other of a pair of twins: same command, the other role. */
static const struct probe *twin_of(const struct probe *probe)
{
	enum probe_role other = probe->role == PROBE_TWIN ? PROBE_TWINNED : PROBE_TWIN;

	if (probe->role != PROBE_TWIN && probe->role != PROBE_TWINNED)
		return NULL;
	for (unsigned int i = 0; i < nr_probes; i++)
		if (probes[i].role == other && !strcmp(probes[i].command, probe->command))
			return &probes[i];
	return NULL;
}

bool has_twin(struct tcptrace *skel, const struct bpf_program *prog)
{
	enum attach_method variant;
	const struct probe *probe = probe_of_program(bpf_program__name(prog), &variant);
	const struct probe *twin = probe ? twin_of(probe) : NULL;
	char name[64];

	if (!twin || !probe_has_variant(twin, variant))
		return false;
	snprintf(name, sizeof(name), "%s%s", twin->name, attach_method_suffix(variant));
	prog = bpf_object__find_program_by_name(skel->obj, name);
	return prog && bpf_program__autoload(prog);
}

/* Does a program selected for loading attach that way? Its section says. */
bool uses_method(struct tcptrace *skel, enum attach_method method)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, skel->obj)
		if (bpf_program__autoload(prog) &&
		    attach_method_of_section(bpf_program__section_name(prog)) == method)
			return true;
	return false;
}
