// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "tcptrace.skel.h"
#include "programs.h"

static bool has_prefix(const char *name, const char *prefix)
{
	return strncmp(name, prefix, strlen(prefix)) == 0;
}

/* The variants of a probe end in these; user space keeps one (bpf/connect.bpf.c). */
static const char *const method_suffix[] = {
	[ATTACH_TP_BTF] = "_btf",    [ATTACH_RAW_TP] = "_raw",	  [ATTACH_TRACEPOINT] = "_tp",
	[ATTACH_FENTRY] = "_fentry", [ATTACH_KPROBE] = "_kprobe",
};

const char *attach_method_name(enum attach_method method)
{
	static const char *const names[] = {
		[ATTACH_AUTO] = "auto",	    [ATTACH_TP_BTF] = "tp_btf",
		[ATTACH_RAW_TP] = "raw_tp", [ATTACH_TRACEPOINT] = "tracepoint",
		[ATTACH_FENTRY] = "fentry", [ATTACH_KPROBE] = "kprobe",
	};

	return names[method];
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
		if (has_suffix(name, method_suffix[m]))
			return m;
	return ATTACH_AUTO;
}

/* A program is disabled by its name, or, for a probe's variant, by the probe's name. */
static bool disabled_as(const char *name, const char *entry)
{
	size_t len = strlen(entry);

	if (strncmp(name, entry, len))
		return false;
	return !name[len] ||
	       (variant_of(name) && !strcmp(name + len, method_suffix[variant_of(name)]));
}

static bool disabled(const struct trace_config *config, const char *name)
{
	for (unsigned int i = 0; i < CONFIG_PROGRAM_LIST && config->disabled_programs[i]; i++)
		if (disabled_as(name, config->disabled_programs[i]))
			return true;
	return false;
}

static bool is_command_object(const char *name, const char *command)
{
	size_t len = strlen(command);

	return !strncmp(name, command, len) && name[len] == '_';
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
			found |= disabled_as(bpf_program__name(prog), entry);
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
	size_t base = strlen(program) - strlen(method_suffix[variant_of(program)]);
	char name[64];

	snprintf(name, sizeof(name), "%.*s%s", (int)base, program, method_suffix[method]);
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

void select_programs(struct tcptrace *skel, const struct trace_config *config,
		     enum attach_method method)
{
	struct bpf_program *prog;
	struct bpf_map *map;

	bpf_object__for_each_program(prog, skel->obj) {
		const char *name = bpf_program__name(prog);
		bool wanted = is_command_object(name, config->command) && !disabled(config, name);

		if (wanted && variant_of(name))
			wanted = chosen_variant(skel, name, method);
		bpf_program__set_autoload(prog, wanted);
	}
	bpf_object__for_each_map(map, skel->obj) {
		const char *name = bpf_map__name(map);
		bool other_command = !is_command_object(name, config->command) &&
				     (has_prefix(name, "connect_") || has_prefix(name, "accept_"));

		if (other_command)
			bpf_map__set_autocreate(map, false);
	}
}

/* Does a program selected for loading attach that way? Its section says. */
bool uses_method(struct tcptrace *skel, enum attach_method method)
{
	static const char *const section_prefix[] = {
		[ATTACH_TP_BTF] = "tp_btf/",	     [ATTACH_RAW_TP] = "raw_tp/",
		[ATTACH_TRACEPOINT] = "tracepoint/", [ATTACH_FENTRY] = "fentry/",
		[ATTACH_KPROBE] = "kprobe/",
	};
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, skel->obj)
		if (bpf_program__autoload(prog) &&
		    has_prefix(bpf_program__section_name(prog), section_prefix[method]))
			return true;
	return false;
}
