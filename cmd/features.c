// SPDX-License-Identifier: GPL-2.0-only
/* tcptrace features: options and usage (the listing is lib/features.c). */
#include <getopt.h>
#include "cli.h"

void features_usage(const struct command_context *ctx, FILE *out)
{
	fprintf(out,
		"Usage: %s [--btf FILE] [-h]\n"
		"\n"
		"List what this kernel offers tcptrace: BTF, the ring buffer, tracefs, and for\n"
		"each probe of each command the attach methods it can use (the values of -A:\n"
		"tp_btf, raw_tp, tracepoint, fentry, kprobe). Loads nothing but an empty fentry\n"
		"program, to see whether the kernel takes one; root sees more.\n"
		"\n"
		"Options:\n" CLI_USAGE_BTF "  -h, --help         print this help\n",
		ctx->prog);
}

static const struct option features_options[] = {
	{ "btf", required_argument, NULL, CLI_OPTION_BTF },
	{ "help", no_argument, NULL, 'h' },
	{},
};

enum cli_result features_parse(struct command_context *ctx, int argc, char **argv,
			       struct trace_config *config)
{
	int opt;

	while ((opt = cli_getopt(ctx, argc, argv, ":h", features_options)) != -1) {
		if (opt == CLI_OPTION_BTF) {
			enum cli_result result = cli_btf_option(ctx, optarg, config);

			if (result != CLI_RUN)
				return result;
			continue;
		}
		if (opt != 'h')
			return cli_bad_option(ctx, opt, argv);
		features_usage(ctx, stdout);
		return CLI_DONE;
	}
	if (optind < argc)
		return cli_bad_usage(ctx, "unexpected argument '%s'", cli_quote(argv[optind]));
	/* Every limit a command may meet, whatever its options. */
	config->limits[0] = &cli_limit_uring;
	config->limits[1] = &cli_limit_refused;
	config->limits[2] = &cli_limit_dropped;
	return CLI_RUN;
}
