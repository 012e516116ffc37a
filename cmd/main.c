// SPDX-License-Identifier: GPL-2.0-only
/*
 * tcptrace: parse the command line, trace, and turn what went wrong into one line and an
 * exit status: 0 done, 1 could not trace, 2 bad usage.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"

static void report_failure(int err, const struct failure *failure, bool verbose)
{
	switch (failure->kind) {
	case FAILURE_PRIVILEGES:
		fputs("tcptrace: loading BPF programs needs CAP_BPF and CAP_PERFMON: "
		      "run tcptrace as root\n",
		      stderr);
		return;
	case FAILURE_NO_BTF:
		fputs("tcptrace: this kernel has no BTF (/sys/kernel/btf/vmlinux is missing): "
		      "give its types with --btf FILE, from BTFHub or bpftool gen min_core_btf "
		      "(tcptrace(8), REQUIREMENTS)\n",
		      stderr);
		return;
	case FAILURE_TRACEFS_ACCESS:
		fputs("tcptrace: reading tracefs (/sys/kernel/tracing) needs root or "
		      "CAP_DAC_READ_SEARCH: run tcptrace as root\n",
		      stderr);
		return;
	case FAILURE_NO_HTTP:
		fputs("tcptrace: serve is not in this static build: Debian has no static "
		      "libmicrohttpd; use the dynamic build\n",
		      stderr);
		return;
	case FAILURE_KERNEL_LACKS:
		if (failure->since)
			fprintf(stderr,
				"tcptrace: this kernel lacks %s, which came in Linux %s: "
				"run tcptrace on a newer kernel\n",
				failure->object, failure->since);
		else
			fprintf(stderr, "tcptrace: this kernel lacks %s, which tcptrace needs%s\n",
				failure->object, verbose ? "" : " (-v shows libbpf's messages)");
		return;
	case FAILURE_STEP:
		break;
	}
	fprintf(stderr, "tcptrace: failed to %s %s: %s%s\n", failure->action, failure->object,
		strerror(-err),
		failure->from_libbpf && !verbose ? " (-v shows libbpf's messages)" : "");
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
	err = cli_runner(config.command)(&config, &failure);
	if (err) {
		report_failure(err, &failure, config.verbose);
		return 1;
	}
	return 0;
}
