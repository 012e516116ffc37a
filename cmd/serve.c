// SPDX-License-Identifier: GPL-2.0-only
/* tcptrace serve: connect's and accept's events as Prometheus metrics. Options and families. */
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include "../lib/array.h"
#include "../lib/metrics.h"
#include "cli.h"

/*
 * The default port. Prometheus' list of default port allocations has been full from 9100
 * to 9999 since 2023 (tcptrace-serve(8) says more).
 */
#define SERVE_DEFAULT_PORT	 10026
#define SERVE_TEXT(x)		 #x
#define SERVE_NUMBER(x)		 SERVE_TEXT(x)
#define SERVE_DEFAULT_LISTEN	 "127.0.0.1:" SERVE_NUMBER(SERVE_DEFAULT_PORT)
#define SERVE_DEFAULT_MAX_SERIES 10000
#define SERVE_MAX_SERIES_LIMIT	 10000000
#define SERVE_DEFAULT_TTL_S	 3600

/* From 50 µs (loopback) to 10 s (a SYN sent three times), in seconds. */
static const struct metric_bucket duration_buckets[] = {
	{ "5e-05", 50000 },    { "0.0001", 100000 },  { "0.00025", 250000 }, { "0.0005", 500000 },
	{ "0.001", 1000000 },  { "0.0025", 2500000 }, { "0.005", 5000000 },  { "0.01", 10000000 },
	{ "0.025", 25000000 }, { "0.05", 50000000 },  { "0.1", 100000000 },  { "0.25", 250000000 },
	{ "0.5", 500000000 },  { "1", 1000000000 },   { "2.5", 2500000000 }, { "5", 5000000000 },
	{ "10", 10000000000 },
};

_Static_assert(ARRAY_SIZE(duration_buckets) <= METRIC_BUCKETS_MAX, "too many buckets");

#define EVERY_OUTCOME 0xffffffffu
#define OUTCOME(o)    (1u << (o))
#define WHO	      METRIC_LABEL_IDENTITY
#define PEER	      (METRIC_LABEL_DADDR | METRIC_LABEL_DPORT)

/* The names dashboards rely on: tcptrace-serve(8) lists them, and json.md's fields. */
static const struct metric_family serve_families[] = {
	{
		.name = "tcptrace_connect_attempts_total",
		.help = "Active TCP connection attempts, by how they ended.",
		.type = METRIC_COUNTER,
		.labels = METRIC_LABEL_RESULT | WHO | PEER,
		.kind = EVENT_CONNECT,
		.outcomes = EVERY_OUTCOME,
		.names = &connect_names,
	},
	{
		.name = "tcptrace_connect_latency_seconds",
		.help = "Time from the SYN to the answer, of established attempts.",
		.type = METRIC_HISTOGRAM,
		.labels = WHO | PEER,
		.kind = EVENT_CONNECT,
		.outcomes = OUTCOME(CONNECT_ESTABLISHED),
		.buckets = duration_buckets,
		.nr_buckets = ARRAY_SIZE(duration_buckets),
	},
	{
		.name = "tcptrace_accepts_total",
		.help = "TCP connections returned by accept(), by local port.",
		.type = METRIC_COUNTER,
		.labels = METRIC_LABEL_LPORT | WHO,
		.kind = EVENT_ACCEPT,
		.outcomes = OUTCOME(ACCEPT_ACCEPTED),
	},
	{
		.name = "tcptrace_accept_queue_wait_seconds",
		.help = "Time accepted connections waited in the accept queue.",
		.type = METRIC_HISTOGRAM,
		.labels = METRIC_LABEL_LPORT | WHO,
		.kind = EVENT_ACCEPT,
		.outcomes = OUTCOME(ACCEPT_ACCEPTED),
		.buckets = duration_buckets,
		.nr_buckets = ARRAY_SIZE(duration_buckets),
	},
	{
		.name = "tcptrace_accept_failed_total",
		.help = "Passive connections that never reached accept() (with -f).",
		.type = METRIC_COUNTER,
		.labels = METRIC_LABEL_LPORT | METRIC_LABEL_RESULT,
		.kind = EVENT_ACCEPT,
		.outcomes = OUTCOME(ACCEPT_REFUSED) | OUTCOME(ACCEPT_DROPPED),
		.names = &accept_names,
	},
};

void serve_usage(const struct command_context *ctx, FILE *out)
{
	fprintf(out,
		"Usage: %s [-fv46] [--listen ADDR:PORT] [--label LABELS]\n"
		"       [--max-series COUNT] [--series-ttl SECONDS] [--bpf-stats] [-p PID]\n"
		"       [-u UID] [--cgroup PATH]\n"
		"       [--unit NAME] [--pod NAMESPACE/NAME] [--container ID] [--netns PATH]\n"
		"       [-d SECONDS] [-A METHOD] [-b SIZE] [--btf FILE] [--no-seccomp]\n"
		"\n"
		"Serve connect's and accept's events as Prometheus metrics, at /metrics over\n"
		"HTTP: attempts by result, connect latency, accepts and accept-queue wait by\n"
		"port, with the unit, container or pod of the process.\n"
		"\n"
		"Options:\n"
		"      --listen ADDR:PORT\n"
		"                     serve on this address: IPv4, or [IPv6]\n"
		"                     (default %s)\n"
		"  -f, --failed       also count connections refused or dropped before accept()\n"
		"      --label LABELS also label connect's metrics by daddr, dport or both\n"
		"                     (comma-separated; one series per peer: mind --max-series)\n"
		"      --max-series COUNT\n"
		"                     serve at most this many series; new label sets beyond it\n"
		"                     are counted as \"other\" (default %d)\n"
		"      --series-ttl SECONDS\n"
		"                     forget label sets no event touched for this long\n"
		"                     (default %d)\n"
		"      --bpf-stats    switch on the kernel's run-time statistics of BPF programs,\n"
		"                     to serve tcptrace's (costs every BPF program on the host)\n"
		"  -p, --pid PID      count only this process\n" CLI_USAGE_SELECT
		"  -A, --attach METHOD\n"
		"                     attach as tp_btf, raw_tp, tracepoint, fentry or kprobe\n"
		"                     (default: auto, the best this kernel offers, falling back\n"
		"                     on failure; 'tcptrace features' lists them)\n"
		"  -d, --duration SECONDS\n"
		"                     stop after this many seconds (decimals allowed)\n"
		"  -b, --ring-size SIZE\n"
		"                     the kernel's buffer for events not yet counted (default "
		"1M)\n" CLI_USAGE_BTF CLI_USAGE_NO_SECCOMP
		"  -v, --verbose      print how each probe is attached, and libbpf's messages\n"
		"  -h, --help         print this help\n"
		"\n"
		"Examples:\n"
		"  %s                           # on http://%s/metrics\n"
		"  %s -f --listen 0.0.0.0:%d # to other hosts, refused ones too\n",
		ctx->prog, SERVE_DEFAULT_LISTEN, SERVE_DEFAULT_MAX_SERIES, SERVE_DEFAULT_TTL_S,
		ctx->prog, SERVE_DEFAULT_LISTEN, ctx->prog, SERVE_DEFAULT_PORT);
}

enum {
	OPTION_LISTEN = CLI_OPTION_FIRST_OWN,
	OPTION_LABEL,
	OPTION_MAX_SERIES,
	OPTION_SERIES_TTL,
	OPTION_BPF_STATS,
};

/* The shared options that mean the same for connect and accept, and serve's own. */
static const struct option serve_options[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "uid", required_argument, NULL, 'u' },
	{ "ipv4", no_argument, NULL, '4' },
	{ "ipv6", no_argument, NULL, '6' },
	{ "cgroup", required_argument, NULL, CLI_OPTION_CGROUP },
	{ "netns", required_argument, NULL, CLI_OPTION_NETNS },
	{ "unit", required_argument, NULL, CLI_OPTION_UNIT },
	{ "pod", required_argument, NULL, CLI_OPTION_POD },
	{ "container", required_argument, NULL, CLI_OPTION_CONTAINER },
	{ "attach", required_argument, NULL, 'A' },
	{ "ring-size", required_argument, NULL, 'b' },
	{ "duration", required_argument, NULL, 'd' },
	{ "btf", required_argument, NULL, CLI_OPTION_BTF },
	{ "no-seccomp", no_argument, NULL, CLI_OPTION_NO_SECCOMP },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "failed", no_argument, NULL, 'f' },
	{ "listen", required_argument, NULL, OPTION_LISTEN },
	{ "label", required_argument, NULL, OPTION_LABEL },
	{ "max-series", required_argument, NULL, OPTION_MAX_SERIES },
	{ "series-ttl", required_argument, NULL, OPTION_SERIES_TTL },
	{ "bpf-stats", no_argument, NULL, OPTION_BPF_STATS },
	{},
};

/* --label: the opt-in labels, comma-separated. */
static int parse_labels(const char *text, unsigned int *labels)
{
	const char *p = text;

	*labels = 0;
	do {
		size_t len = strcspn(p, ",");

		if (len == 5 && !strncmp(p, "daddr", len))
			*labels |= METRIC_LABEL_DADDR;
		else if (len == 5 && !strncmp(p, "dport", len))
			*labels |= METRIC_LABEL_DPORT;
		else
			return -EINVAL;
		p += len;
	} while (*p++ == ',');
	return 0;
}

static enum cli_result serve_option(struct command_context *ctx, int opt, char **argv,
				    struct trace_config *config, bool *failed)
{
	struct metrics_config *metrics = &config->metrics;
	__u64 count;

	switch (opt) {
	case 'f':
		*failed = true;
		return CLI_RUN;
	case OPTION_LISTEN:
		if (cli_parse_listen(optarg, &metrics->listen, &metrics->listen_len))
			return cli_bad_usage(ctx,
					     "invalid listen address '%s': expected IPV4:PORT or "
					     "[IPV6]:PORT, the port from 1 to 65535",
					     cli_quote(optarg));
		return CLI_RUN;
	case OPTION_LABEL:
		if (parse_labels(optarg, &metrics->labels))
			return cli_bad_usage(ctx,
					     "invalid labels '%s': expected daddr, dport or both, "
					     "comma-separated",
					     cli_quote(optarg));
		return CLI_RUN;
	case OPTION_MAX_SERIES:
		if (cli_parse_count(optarg, &count) || count > SERVE_MAX_SERIES_LIMIT)
			return cli_bad_usage(ctx,
					     "invalid series count '%s': expected a number from 1 "
					     "to %d",
					     cli_quote(optarg), SERVE_MAX_SERIES_LIMIT);
		metrics->max_series = count;
		return CLI_RUN;
	case OPTION_SERIES_TTL:
		return cli_seconds_option(ctx, "series TTL", optarg, &metrics->series_ttl_ns);
	case OPTION_BPF_STATS:
		metrics->bpf_stats = true;
		return CLI_RUN;
	}
	return cli_shared_option(ctx, opt, argv, config);
}

/* Both commands' programs, less what serve does not count. */
static void choose_programs(struct trace_config *config, bool failed)
{
	config->program_commands[0] = "connect";
	config->program_commands[1] = "accept";
	config->in_flight_map = "connect_in_flight";
	config->optional_programs[0] = cli_icmp_soft_errors;
	config->optional_programs[1] = cli_uring_multishot;
	config->optional_programs[2] = cli_uring_accepts;
	/* The queue wait is a metric: accept_queue always runs. */
	config->report_queue = true;
	/* No metric has the listener's backlog. */
	config->disabled_programs[0] = "accept_listener_accept4";
	config->disabled_programs[1] = "accept_listener_accept";
	if (!failed) {
		config->disabled_programs[2] = "accept_failed_drop";
		config->disabled_programs[3] = "accept_refused_v4";
		config->disabled_programs[4] = "accept_refused_v6";
		config->disabled_programs[5] = "accept_overflow_v4";
		config->disabled_programs[6] = "accept_overflow_v6";
	}
	config->stand_ins[0] = &cli_stand_in_refused;
	config->stand_ins[1] = &cli_stand_in_dropped;
	config->limits[0] = &cli_limit_uring;
	config->limits[1] = &cli_limit_refused;
	config->limits[2] = &cli_limit_dropped;
}

enum cli_result serve_parse(struct command_context *ctx, int argc, char **argv,
			    struct trace_config *config)
{
	struct metrics_config *metrics = &config->metrics;
	bool failed = false;
	int opt;

	metrics->families = serve_families;
	metrics->nr_families = ARRAY_SIZE(serve_families);
	metrics->max_series = SERVE_DEFAULT_MAX_SERIES;
	metrics->series_ttl_ns = SERVE_DEFAULT_TTL_S * 1000000000ull;
	cli_parse_listen(SERVE_DEFAULT_LISTEN, &metrics->listen, &metrics->listen_len);
	while ((opt = cli_getopt(ctx, argc, argv, ":p:u:46fvhA:b:d:", serve_options)) != -1) {
		enum cli_result result = serve_option(ctx, opt, argv, config, &failed);

		if (result != CLI_RUN)
			return result;
	}
	if (optind < argc)
		return cli_bad_usage(ctx, "unexpected argument '%s'", cli_quote(argv[optind]));
	if (failed && cli_process_option(config))
		return cli_bad_usage(ctx,
				     "options '-f' and '%s' exclude each other: -f's attempts "
				     "belong to no process",
				     cli_process_option(config));
	choose_programs(config, failed);
	return CLI_RUN;
}
