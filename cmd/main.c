// SPDX-License-Identifier: GPL-2.0-only
/*
 * tcptrace: parse the command line, trace, and turn what went wrong into one line and an
 * exit status: 0 done, 1 could not trace, 2 bad usage.
 */
#include <errno.h>
#include <string.h>
#include "../lib/tracer.h"
#include "cli.h"

static void report_failure(int err, const struct failure *failure, bool verbose)
{
	if (err == -EPERM && !strcmp(failure->action, "load")) {
		fputs("tcptrace: loading BPF programs needs CAP_BPF and CAP_PERFMON: "
		      "run tcptrace as root\n",
		      stderr);
		return;
	}
	if (err == -ENOENT && !strcmp(failure->object, SESSION_KERNEL_BTF)) {
		fputs("tcptrace: this kernel has no BTF (" SESSION_KERNEL_BTF " is missing): "
		      "tcptrace needs a kernel built with CONFIG_DEBUG_INFO_BTF=y\n",
		      stderr);
		return;
	}
	if (err == -EOPNOTSUPP && !strcmp(failure->action, "run on")) {
		fprintf(stderr,
			"tcptrace: this kernel is too old (%s): tcptrace needs Linux %s "
			"or later\n",
			failure->object, SESSION_MIN_KERNEL);
		return;
	}
	/* Only libbpf's steps have more to say under -v. */
	bool from_libbpf = !strcmp(failure->action, "open") || !strcmp(failure->action, "load") ||
			   !strcmp(failure->action, "attach");

	fprintf(stderr, "tcptrace: failed to %s %s: %s%s\n", failure->action, failure->object,
		strerror(-err), from_libbpf && !verbose ? " (-v shows libbpf's messages)" : "");
}

int main(int argc, char **argv)
{
	struct trace_config config;
	struct failure failure = {};
	int err;

	switch (cli_parse(argc, argv, &config)) {
	case CLI_RUN:
		break;
	case CLI_DONE:
		return 0;
	case CLI_BAD_USAGE:
		return 2;
	}
	err = tracer_run(&config, &failure);
	if (err) {
		report_failure(err, &failure, config.verbose);
		return 1;
	}
	return 0;
}
