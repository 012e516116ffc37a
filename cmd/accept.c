// SPDX-License-Identifier: GPL-2.0-only
/* tcptrace accept (tcpaccept): options, usage and columns. */
#include <errno.h>
#include <getopt.h>
#include "../lib/array.h"
#include "../lib/summary.h"
#include "cli.h"

static const struct column accept_columns[] = {
	{ .field = FIELD_TIME_S, .header = "TIME(s)", .width = 9, .show_if = COLUMN_TIMESTAMP },
	{ .field = FIELD_TIME_CLOCK, .header = "TIME", .width = 8, .show_if = COLUMN_CLOCK },
	{ .field = FIELD_PID, .header = "PID", .key = "pid", .width = 7 },
	{ .field = FIELD_COMM, .header = "COMM", .key = "comm", .width = 16 },
	CLI_COLUMNS_PARENT,
	{ .field = FIELD_IP, .header = "IP", .key = "ip", .width = 2 },
	{ .field = FIELD_RADDR, .header = "RADDR", .key = "raddr", .width = FORMAT_ADDR_WIDTH },
	{ .field = FIELD_RPORT, .header = "RPORT", .key = "rport", .width = 5 },
	{ .field = FIELD_LADDR, .header = "LADDR", .key = "laddr", .width = FORMAT_ADDR_WIDTH },
	{ .field = FIELD_LPORT, .header = "LPORT", .key = "lport", .width = 5 },
	{ .field = FIELD_UID,
	  .header = "UID",
	  .key = "uid",
	  .width = 6,
	  .show_if = COLUMN_EXTENDED | COLUMN_UID },
	/* How long the connection waited in the accept queue. */
	{ .field = FIELD_LATENCY_MS,
	  .header = "QUEUED(ms)",
	  .key = "queued_ms",
	  .width = 10,
	  .show_if = COLUMN_EXTENDED },
	{ .field = FIELD_BACKLOG,
	  .header = "BACKLOG",
	  .key = "backlog",
	  .width = 11,
	  .show_if = COLUMN_EXTENDED },
	/* The backlog's limit has a key of its own in JSON; the table shows it in BACKLOG. */
	{ .field = FIELD_BACKLOG_MAX, .key = "backlog_max", .show_if = FORMAT_JSON },
	CLI_COLUMNS_IDENTITY,
	{ .field = FIELD_RESULT, .header = "RESULT", .key = "result", .show_if = COLUMN_FAILED },
	{ .field = FIELD_NONE },
};

const struct event_names accept_names = {
	.event = "accept",
	.outcomes = {
		[ACCEPT_ACCEPTED] = "ACCEPTED",
		[ACCEPT_REFUSED] = "REFUSED",
		[ACCEPT_DROPPED] = "DROPPED",
	},
};

/*
 * -c's rows: per local address and port, where the listener was reached; -H: the time
 * in the accept queue. -f's attempts count apart, never in QUEUED: a refused one met no
 * listener, a dropped one no room in the queue.
 */
static const struct summary_labels accept_summary_labels = {
	.keys = {
		{ .field = FIELD_LADDR, .header = "LADDR", .key = "laddr" },
		{ .field = FIELD_LPORT, .header = "LPORT", .key = "lport" },
	},
	.counts = {
		{ .header = "ACCEPTS",
		  .key = "accepts",
		  .outcomes = SUMMARY_OUTCOME(ACCEPT_ACCEPTED) },
		{ .header = "REFUSED",
		  .key = "refused",
		  .outcomes = SUMMARY_OUTCOME(ACCEPT_REFUSED),
		  .show_if = COLUMN_FAILED },
		{ .header = "DROPPED",
		  .key = "dropped",
		  .outcomes = SUMMARY_OUTCOME(ACCEPT_DROPPED),
		  .show_if = COLUMN_FAILED },
	},
	.duration_headers = { "QUEUED_MIN(ms)", "QUEUED_AVG(ms)", "QUEUED_MAX(ms)" },
	.duration_keys = { "queued_min_ms", "queued_avg_ms", "queued_max_ms" },
	.timed_key = "accepted",
	.timed_text = "accepted connections with a known queue wait\n",
};

void accept_usage(const struct command_context *ctx, FILE *out)
{
	fprintf(out,
		"Usage: %s [-htTxfUIejcHv46] [-p PID] [-P PORTS] [-u UID] [--cgroup PATH]\n"
		"       [--unit NAME] [--pod NAMESPACE/NAME] [--container ID] [--netns PATH]\n"
		"       [-i SECONDS] [-d SECONDS] [-n COUNT] [-A METHOD] [-b SIZE] [--btf FILE]\n"
		"       [--no-seccomp]\n"
		"\n"
		"Trace TCP connections accepted by local servers (IPv4 and IPv6): one line per\n"
		"connection returned by accept(), accept4() or io_uring, naming the process that\n"
		"accepted it.\n"
		"\n"
		"Options:\n"
		"  -p, --pid PID      trace only this process\n"
		"  -P, --ports PORTS  trace only these local ports (comma-separated, at most "
		"%d)\n" CLI_USAGE_SELECT
		"  -t, --timestamp    print TIME(s): when it was accepted, in seconds since start\n"
		"  -T, --time         print TIME: when it was accepted, as HH:MM:SS\n"
		"  -x, --extended     print UID, QUEUED(ms) (time spent in the accept queue) and\n"
		"                     BACKLOG (the listener's accept queue, length/limit)\n"
		"  -f, --failed       also print attempts that never reached accept(), with "
		"RESULT:\n"
		"                     REFUSED (no listener: RST) or DROPPED (accept queue "
		"full)\n"
		"  -c, --count        count accepts per local address and port, with -f's\n"
		"                     failures and the queue wait, instead of a line each\n"
		"  -H, --histogram    draw a histogram of the time spent in the accept "
		"queue\n" CLI_USAGE_INTERVAL CLI_USAGE_OUTPUT "  -A, --attach METHOD\n"
		"                     attach the probes that allow it as tp_btf, raw_tp,\n"
		"                     tracepoint, fentry or kprobe (default: auto, the best this\n"
		"                     kernel offers, falling back on failure; 'tcptrace features'\n"
		"                     lists them)\n" CLI_USAGE_RUN "\n"
		"Examples:\n"
		"  %s               # every accepted connection\n"
		"  %s -x            # with the accept-queue wait and backlog\n"
		"  %s -P 80,443 -f  # ports 80 and 443, refused and dropped ones too\n"
		"  %s -cf -i 10     # accepts per listener every 10 s, failures too\n",
		ctx->prog, FILTER_PORTS_MAX, ctx->prog, ctx->prog, ctx->prog, ctx->prog);
}

static const struct option accept_options[] = {
	CLI_SHARED_LONG_OPTIONS,
	CLI_SUMMARY_LONG_OPTIONS,
	{ "failed", no_argument, NULL, 'f' },
	{},
};

/*
 * The programs the options call for: -x's columns and the summaries need the queue wait
 * (report_queue, which reads the backlog too), -f's the packet drops. The rest are
 * disabled.
 */
static void choose_programs(struct trace_config *config, bool failed)
{
	unsigned int n = 0;

	/* A kernel without io_uring, or too old to show multishot submissions. */
	config->optional_programs[0] = cli_uring_multishot;
	config->optional_programs[1] = cli_uring_accepts;
	/* A probe's name stands for all its variants (_btf, _raw, _tp). */
	if (!config->report_queue)
		config->disabled_programs[n++] = "accept_queue";
	if (!failed) {
		config->disabled_programs[n++] = "accept_failed_drop";
		config->disabled_programs[n++] = "accept_refused_v4";
		config->disabled_programs[n++] = "accept_refused_v6";
		config->disabled_programs[n++] = "accept_overflow_v4";
		config->disabled_programs[n++] = "accept_overflow_v6";
	}
	/* BACKLOG is a column of -x's alone. */
	if (!(config->column_flags & COLUMN_EXTENDED)) {
		config->disabled_programs[n++] = "accept_listener_accept4";
		config->disabled_programs[n++] = "accept_listener_accept";
	}
	while (n < ARRAY_SIZE(config->disabled_programs))
		config->disabled_programs[n++] = NULL;
	config->stand_ins[0] = &cli_stand_in_refused;
	config->stand_ins[1] = &cli_stand_in_dropped;
	config->stand_ins[2] = &cli_stand_in_listener;
	/* What an older kernel cannot give of what the options ask, told once. */
	n = 0;
	config->limits[n++] = &cli_limit_uring;
	config->limits[n++] = &cli_limit_refused;
	config->limits[n++] = &cli_limit_dropped;
}

enum cli_result accept_parse(struct command_context *ctx, int argc, char **argv,
			     struct trace_config *config)
{
	enum cli_result result;
	bool failed = false;
	int opt;

	config->columns = accept_columns;
	config->names = &accept_names;
	config->summary_labels = &accept_summary_labels;
	while ((opt = cli_getopt(ctx, argc, argv,
				 ":p:P:u:46UIejtTxfcHi:vhA:b:d:n:", accept_options)) != -1) {
		switch (opt) {
		case 'f':
			failed = true;
			config->column_flags |= COLUMN_FAILED; /* the RESULT column */
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
	if (optind < argc)
		return cli_bad_usage(ctx, "unexpected argument '%s'", cli_quote(argv[optind]));
	config->report_queue =
		(config->column_flags & COLUMN_EXTENDED) || config->count_mode || config->histogram;
	choose_programs(config, failed);
	if (failed && cli_process_option(config))
		return cli_bad_usage(ctx,
				     "options '-f' and '%s' exclude each other: -f's attempts "
				     "belong to no process (select them with -P PORTS)",
				     cli_process_option(config));
	return CLI_RUN;
}
