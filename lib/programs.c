// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "tcptrace.skel.h"
#include "methods.h"
#include "programs.h"

static bool has_prefix(const char *name, const char *prefix)
{
	return strncmp(name, prefix, strlen(prefix)) == 0;
}

static bool has_suffix(const char *name, const char *suffix)
{
	size_t len = strlen(name), suffix_len = strlen(suffix);

	return len >= suffix_len && !strcmp(name + len - suffix_len, suffix);
}

/* ATTACH_AUTO for a program that is no variant of anything: it always loads. */
static enum attach_method variant_of(const char *name)
{
	for (enum attach_method m = ATTACH_TP_BTF; m <= ATTACH_KPROBE; m++)
		if (has_suffix(name, attach_method_suffix(m)))
			return m;
	return ATTACH_AUTO;
}

bool program_is(const char *name, const char *entry)
{
	size_t len = strlen(entry);

	if (strncmp(name, entry, len))
		return false;
	return !name[len] ||
	       (variant_of(name) && !strcmp(name + len, attach_method_suffix(variant_of(name))));
}

static bool disabled(const struct trace_config *config, const char *name)
{
	for (unsigned int i = 0; i < CONFIG_PROGRAM_LIST && config->disabled_programs[i]; i++)
		if (program_is(name, config->disabled_programs[i]))
			return true;
	return false;
}

static bool is_command_object(const char *name, const char *command)
{
	size_t len = strlen(command);

	return !strncmp(name, command, len) && name[len] == '_';
}

/*
 * Is this map another command's? Each command's programs and maps are named after it
 * ("<command>_..."): the programs tell which prefixes are commands'.
 */
static bool other_commands_map(struct tcptrace *skel, const char *name, const char *command)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, skel->obj) {
		const char *program = bpf_program__name(prog);
		size_t len = strcspn(program, "_");

		if (program[len] == '_' && !strncmp(name, program, len + 1) &&
		    !is_command_object(program, command))
			return true;
	}
	return false;
}

/* A name in disabled_programs that no program has is a typo: it would disable nothing. */
int check_disabled(struct tcptrace *skel, const struct trace_config *config,
		   struct failure *failure)
{
	for (unsigned int i = 0; i < CONFIG_PROGRAM_LIST && config->disabled_programs[i]; i++) {
		const char *entry = config->disabled_programs[i];
		struct bpf_program *prog;
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

/* Does the probe that program belongs to have a variant for method? */
static bool has_variant(struct tcptrace *skel, const char *program, enum attach_method method)
{
	size_t base = strlen(program) - strlen(attach_method_suffix(variant_of(program)));
	char name[64];

	snprintf(name, sizeof(name), "%.*s%s", (int)base, program, attach_method_suffix(method));
	return bpf_object__find_program_by_name(skel->obj, name);
}

/*
 * The variant of a probe for this attempt's method; a probe without one keeps its
 * tracepoint variant, the first of tp_btf, raw_tp and tracepoint that it has.
 */
static bool chosen_variant(struct tcptrace *skel, const char *program, enum attach_method method)
{
	enum attach_method variant = variant_of(program);

	if (has_variant(skel, program, method))
		return variant == method;
	for (enum attach_method m = ATTACH_TP_BTF; m <= ATTACH_TRACEPOINT; m++)
		if (has_variant(skel, program, m))
			return variant == m;
	return false;
}

/*
 * Is this program or map for the other way of catching skipped runs than the method's?
 * Where the method allows, the command's twin (with the map of their notes, named after
 * it) takes the runs the kernel skipped; elsewhere its cleanup program removes what they
 * left (docs/architecture.md, "Twins").
 */
static bool other_catch(const struct trace_config *config, const char *name,
			enum attach_method method)
{
	const char *other =
		attach_method_has_twins(method) ? config->cleanup_probe : config->twin_probe;

	return other && has_prefix(name, other);
}

void select_programs(struct tcptrace *skel, const struct trace_config *config,
		     enum attach_method method)
{
	struct bpf_program *prog;
	struct bpf_map *map;

	bpf_object__for_each_program(prog, skel->obj) {
		const char *name = bpf_program__name(prog);
		bool wanted = is_command_object(name, config->command) && !disabled(config, name) &&
			      !other_catch(config, name, method);

		if (wanted && variant_of(name))
			wanted = chosen_variant(skel, name, method);
		bpf_program__set_autoload(prog, wanted);
	}
	bpf_object__for_each_map(map, skel->obj) {
		const char *name = bpf_map__name(map);

		if (other_commands_map(skel, name, config->command) ||
		    other_catch(config, name, method))
			bpf_map__set_autocreate(map, false);
	}
}

/*
 * Is a run the kernel skips for this program taken by its twin? True for either twin,
 * when both are loaded.
 */
bool has_twin(struct tcptrace *skel, const struct trace_config *config,
	      const struct bpf_program *prog)
{
	const char *first = config->twinned_probe, *second = config->twin_probe;
	const char *name = bpf_program__name(prog);
	char twin[64];

	if (!first || !second)
		return false;
	if (has_prefix(name, first))
		snprintf(twin, sizeof(twin), "%s%s", second, name + strlen(first));
	else if (has_prefix(name, second))
		snprintf(twin, sizeof(twin), "%s%s", first, name + strlen(second));
	else
		return false;
	prog = bpf_object__find_program_by_name(skel->obj, twin);
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
