// SPDX-License-Identifier: GPL-2.0-only
/*
 * What each command runs once parsed, from the command table. Apart from cli.c, so that
 * the command line (and what links it: the unit tests, the fuzzers) needs no libbpf.
 */
#include <string.h>
#include "../lib/array.h"
#include "../lib/features.h"
#include "../lib/tracer.h"
#include "cli.h"

static const struct {
	const char *name;
	int (*run)(const struct trace_config *config, struct failure *failure);
} runners[] = {
#define TCPTRACE_COMMAND(cmd, cmd_aliases, cmd_summary, runner) { #cmd, runner },
#include "commands.def"
#undef TCPTRACE_COMMAND
};

int (*cli_runner(const char *command))(const struct trace_config *, struct failure *)
{
	for (size_t i = 0; i < ARRAY_SIZE(runners); i++)
		if (!strcmp(runners[i].name, command))
			return runners[i].run;
	return NULL;
}
