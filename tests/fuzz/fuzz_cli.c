// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the whole command line, from argv[0] on. The input is split at NUL
 * bytes into at most FUZZ_ARGS_MAX arguments. Whatever it says, cli_parse() must return
 * one of its three results, and a command line it accepts must leave a configuration the
 * tracer can trust: the checks below abort (a crash to libFuzzer) when it does not.
 *
 * --cgroup and --netns open what they are given: an input with an argument beyond
 * argv[0] that holds a '/' or is "." or ".." is skipped, and the fuzzer runs in an empty
 * directory of its own (removed: nothing can be made in it), so that no path can reach a
 * device or anything else outside it. An option's value after '=' ("--netns=..") gets
 * no further than the directory's parent, read-only.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include "../../cmd/cli.h"

#define FUZZ_ARGS_MAX  16
#define FUZZ_INPUT_MAX 4096

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/tmp/tcptrace-fuzz-cli.XXXXXX";

	(void)argc;
	(void)argv;
	/* The usage and help are noise here: run with -close_fd_mask=3 to silence them. */
	if (!mkdtemp(dir) || chdir(dir) || rmdir(dir))
		abort();
	return 0;
}

static void check(int ok)
{
	if (!ok)
		abort();
}

/* What the tracer relies on in a configuration cli_parse() accepted. */
static void check_config(const struct trace_config *config)
{
	check(config->command && cli_is_command(config->command));
	/* A command prints lines, lists features, or serves metrics from a listening socket. */
	check(config->columns != NULL || !strcmp(config->command, "features") ||
	      config->metrics.families);
	check(!config->metrics.families || ((config->metrics.listen.ss_family == AF_INET ||
					     config->metrics.listen.ss_family == AF_INET6) &&
					    config->metrics.max_series >= 1));
	check(config->nr_filter_ports <= FILTER_PORTS_MAX);
	for (unsigned int i = 0; i < config->nr_filter_ports; i++)
		check(config->filter_ports[i] != 0);
	check(config->filter_family == 0 || config->filter_family == AF_INET ||
	      config->filter_family == AF_INET6);
	check(config->attach_method <= ATTACH_KPROBE);
	check(!config->interval_ns || config->count_mode || config->histogram);
	check(!config->ring_size || !(config->ring_size & (config->ring_size - 1)));
	check(config->disabled_programs[CONFIG_PROGRAM_LIST - 1] == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char text[FUZZ_INPUT_MAX + 1];
	char *argv[FUZZ_ARGS_MAX + 1];
	struct trace_config config;
	int argc = 0;

	if (size > FUZZ_INPUT_MAX)
		return -1;
	memcpy(text, data, size);
	text[size] = '\0';
	for (char *arg = text; argc < FUZZ_ARGS_MAX && arg <= text + size; arg += strlen(arg) + 1) {
		if (argc > 0 && (strchr(arg, '/') || !strcmp(arg, ".") || !strcmp(arg, "..")))
			return -1; /* a path out of the directory: see above */
		argv[argc++] = arg;
	}
	argv[argc] = NULL;
	switch (cli_parse(argc, argv, &config)) {
	case CLI_RUN:
		check_config(&config);
		break;
	case CLI_DONE:
	case CLI_BAD_USAGE:
		break;
	default:
		abort();
	}
	return 0;
}
