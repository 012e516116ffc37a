// SPDX-License-Identifier: GPL-2.0-only
/* tcptrace connect (tcpconnect, tcpconnlat): options, usage and columns. */
#include <getopt.h>
#include "../lib/summary.h"
#include "cli.h"

static const struct column connect_columns[] = {
	{ .field = FIELD_TIME_S, .header = "TIME(s)", .width = 9, .show_if = COLUMN_TIMESTAMP },
	{ .field = FIELD_TIME_CLOCK, .header = "TIME", .width = 8, .show_if = COLUMN_CLOCK },
	{ .field = FIELD_PID, .header = "PID", .key = "pid", .width = 7 },
	{ .field = FIELD_COMM, .header = "COMM", .key = "comm", .width = 16 },
	CLI_COLUMNS_PARENT,
	{ .field = FIELD_IP, .header = "IP", .key = "ip", .width = 2 },
	{ .field = FIELD_LADDR, .header = "SADDR", .key = "saddr", .width = FORMAT_ADDR_WIDTH },
	/* One local-port column: bcc's name under -L, SPORT among -x's columns (and JSON's). */
	{ .field = FIELD_LPORT, .header = "LPORT", .width = 5, .show_if = COLUMN_LPORT },
	{ .field = FIELD_LPORT,
	  .header = "SPORT",
	  .key = "sport",
	  .width = 5,
	  .show_if = COLUMN_EXTENDED,
	  .hide_if = COLUMN_LPORT },
	{ .field = FIELD_RADDR, .header = "DADDR", .key = "daddr", .width = FORMAT_ADDR_WIDTH },
	{ .field = FIELD_RPORT, .header = "DPORT", .key = "dport", .width = 5 },
	{ .field = FIELD_LATENCY_MS, .header = "LAT(ms)", .key = "latency_ms", .width = 8 },
	{ .field = FIELD_UID,
	  .header = "UID",
	  .key = "uid",
	  .width = 6,
	  .show_if = COLUMN_EXTENDED | COLUMN_UID },
	CLI_COLUMNS_IDENTITY,
	{ .field = FIELD_RESULT, .header = "RESULT", .key = "result", .show_if = COLUMN_EXTENDED },
	{ .field = FIELD_NONE },
};

const struct event_names connect_names = {
	.event = "connect",
	.outcomes = {
		[CONNECT_ESTABLISHED] = "ESTABLISHED",
		[CONNECT_FAILED] = FORMAT_OUTCOME_ERRNO,
		[CONNECT_ABANDONED] = "ABANDONED",
		[CONNECT_UNSENT] = "UNSENT",
	},
};

/* -c's rows: per source, destination and port; -H: the latency of the established. */
static const struct summary_labels connect_summary_labels = {
	.keys = {
		{ .field = FIELD_LADDR, .header = "SADDR", .key = "saddr" },
		{ .field = FIELD_RADDR, .header = "DADDR", .key = "daddr" },
		{ .field = FIELD_RPORT, .header = "DPORT", .key = "dport" },
	},
	.counts = {
		{ .header = "CONNECTS", .key = "connects", .outcomes = SUMMARY_ANY_OUTCOME },
		{ .header = "FAILED", .key = "failed", .outcomes = SUMMARY_FAILURES },
	},
	.duration_headers = { "LAT_MIN(ms)", "LAT_AVG(ms)", "LAT_MAX(ms)" },
	.duration_keys = { "latency_min_ms", "latency_avg_ms", "latency_max_ms" },
	.timed_key = "established",
	.timed_text = "established attempts\n",
};

void connect_usage(const struct command_context *ctx, FILE *out)
{
	fprintf(out,
		"Usage: %s [-htTxLUIejcHv46] [-p PID] [-P PORTS] [-u UID] [--cgroup PATH]\n"
		"       [--unit NAME] [--pod NAMESPACE/NAME] [--container ID] [--netns PATH]\n"
		"       [-i SECONDS] [-d SECONDS] [-n COUNT] [-A METHOD] [-b SIZE] [--btf FILE]\n"
		"       [--no-seccomp] [min_ms]\n"
		"\n"
		"Trace active TCP connections (IPv4 and IPv6): one line per connect() attempt,\n"
		"once its outcome is known, with the time from connect() to the answer.\n"
		"Failed attempts (refused, timed out, unreachable, abandoned) are shown too.\n"
		"\n"
		"Options:\n"
		"  -p, --pid PID      trace only this process\n"
		"  -P, --ports PORTS  trace only these destination ports (comma-separated, at\n"
		"                     most %d)\n" CLI_USAGE_SELECT
		"  -t, --timestamp    print TIME(s): when the answer came, in seconds since start\n"
		"  -T, --time         print TIME: when the answer came, as HH:MM:SS\n"
		"  -x, --extended     print SPORT, UID and RESULT (ESTABLISHED, an errno name\n"
		"                     such as ECONNREFUSED, ABANDONED or UNSENT)\n"
		"  -L, --lport        print LPORT, the local port\n"
		"  -c, --count        count attempts per source, destination and port, with\n"
		"                     failures and latency, instead of a line each\n"
		"  -H, --histogram    draw a histogram of the latency of established "
		"attempts\n" CLI_USAGE_INTERVAL CLI_USAGE_OUTPUT "  -A, --attach METHOD\n"
		"                     attach as tp_btf, raw_tp, tracepoint, fentry or kprobe\n"
		"                     (default: auto, the best this kernel offers, falling back\n"
		"                     on failure; 'tcptrace features' lists them)\n" CLI_USAGE_RUN
		"  min_ms             print only attempts that took at least this many\n"
		"                     milliseconds (decimals allowed: 0.5)\n"
		"\n"
		"Examples:\n"
		"  %s               # every attempt, with its latency\n"
		"  %s -tx           # with time stamps and the outcome of each attempt\n"
		"  %s -p 181        # only process 181\n"
		"  %s 10            # only attempts that took 10 ms or more\n",
		ctx->prog, FILTER_PORTS_MAX, ctx->prog, ctx->prog, ctx->prog, ctx->prog);
}

static const struct option connect_options[] = {
	CLI_SHARED_LONG_OPTIONS,
	CLI_SUMMARY_LONG_OPTIONS,
	{ "lport", no_argument, NULL, 'L' },
	{},
};

enum cli_result connect_parse(struct command_context *ctx, int argc, char **argv,
			      struct trace_config *config)
{
	enum cli_result result;
	int opt;

	config->columns = connect_columns;
	config->names = &connect_names;
	config->summary_labels = &connect_summary_labels;
	config->in_flight_map = "connect_in_flight"; /* its evictions are counted */
	config->optional_programs[0] = cli_icmp_soft_errors;
	while ((opt = cli_getopt(ctx, argc, argv,
				 ":p:P:u:46UIejtTxLcHi:vhA:b:d:n:", connect_options)) != -1) {
		switch (opt) {
		case 'L':
			config->column_flags |= COLUMN_LPORT;
			break;
		default:
			result = cli_shared_option(ctx, opt, argv, config);
			if (result != CLI_RUN)
				return result;
		}
	}
	result = cli_check_interval(ctx, config);
	if (result != CLI_RUN)
		return result;
	if (argc - optind > 1)
		return cli_bad_usage(ctx, "unexpected argument '%s'", cli_quote(argv[optind + 1]));
	if (argc - optind == 1 && cli_parse_ms(argv[optind], &config->filter_min_latency_ns))
		return cli_bad_usage(ctx,
				     "invalid min_ms '%s': expected milliseconds from 0 to "
				     "86400000, with up to 6 decimals",
				     cli_quote(argv[optind]));
	return CLI_RUN;
}
