// SPDX-License-Identifier: GPL-2.0-only
/*
 * serve's metrics: counts by result, histograms (cumulative, +Inf equal to _count, the sum
 * exact), labels (identity, opt-in peer, escaping), the series limit and the TTL, as
 * written in the exposition format, with serve's own families.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include "../../bpf/event.h"
#include "../../lib/identity.h"
#include "../../lib/metrics.h"
#include "../../cmd/cli.h"
#include "check.h"

#define SECOND 1000000000ull

static struct trace_config config;

/* serve's families and options, as its parser hands them over. */
static void parse(int argc, char **argv)
{
	memset(&config, 0, sizeof(config));
	CHECK(cli_parse(argc, argv, &config) == CLI_RUN);
}

static void start(struct metrics *metrics, unsigned int labels, size_t max_series, __u64 ttl)
{
	metrics_init(metrics, config.metrics.families, config.metrics.nr_families,
		     labels | METRIC_LABEL_RESULT | METRIC_LABEL_LPORT | METRIC_LABEL_IDENTITY,
		     max_series, ttl);
}

static struct event connect_event(__u8 outcome, int error, __u64 latency_ns, __u16 dport)
{
	struct event event = {
		.kind = EVENT_CONNECT,
		.outcome = outcome,
		.error = error,
		.duration_ns = latency_ns,
		.flags = outcome == CONNECT_ESTABLISHED ? EVENT_HAS_DURATION : 0,
		.family = AF_INET,
		.rport = dport,
	};

	inet_pton(AF_INET, "192.0.2.7", event.raddr);
	return event;
}

static struct event accept_event(__u8 outcome, __u16 lport, __u64 wait_ns)
{
	return (struct event){
		.kind = EVENT_ACCEPT,
		.outcome = outcome,
		.duration_ns = wait_ns,
		.flags = outcome == ACCEPT_ACCEPTED ? EVENT_HAS_DURATION : EVENT_NO_TASK,
		.family = AF_INET,
		.lport = lport,
	};
}

/* An identity, as the tracer would look it up: the one the test hands over. */
static const struct identity *given(void *ctx, const struct event *event)
{
	(void)event;
	return ctx;
}

/* The exposition, as a string the caller frees. */
static char *written(const struct metrics *metrics)
{
	struct metric_text text = {};

	metrics_write(metrics, &text);
	CHECK(!text.failed);
	return text.data;
}

/* The value of the sample that begins with this name and labels, or -1. */
static long long sample(const char *exposition, const char *series)
{
	size_t len = strlen(series);

	for (const char *line = exposition; line && *line; line = strchr(line, '\n')) {
		line += *line == '\n';
		if (!strncmp(line, series, len) && line[len] == ' ')
			return strtoll(line + len + 1, NULL, 10);
	}
	return -1;
}

static void test_counts_by_result(void)
{
	char *argv[] = { "tcptrace", "serve", NULL };
	struct metrics metrics;
	struct event event;
	char *text;

	parse(2, argv);
	start(&metrics, 0, 10000, 0);
	for (int i = 0; i < 3; i++) {
		event = connect_event(CONNECT_ESTABLISHED, 0, 700000, 80);
		metrics_add(&metrics, &event, given, (void *)NULL, SECOND);
	}
	event = connect_event(CONNECT_FAILED, ECONNREFUSED, 0, 1);
	metrics_add(&metrics, &event, given, (void *)NULL, SECOND);
	event = connect_event(CONNECT_ABANDONED, 0, 0, 1);
	metrics_add(&metrics, &event, given, (void *)NULL, SECOND);
	text = written(&metrics);
	CHECK_EQ_U64(sample(text, "tcptrace_connect_attempts_total{result=\"ESTABLISHED\"}"), 3);
	CHECK_EQ_U64(sample(text, "tcptrace_connect_attempts_total{result=\"ECONNREFUSED\"}"), 1);
	CHECK_EQ_U64(sample(text, "tcptrace_connect_attempts_total{result=\"ABANDONED\"}"), 1);
	/* No label but le: no braces on _sum and _count. */
	CHECK_EQ_U64(sample(text, "tcptrace_connect_latency_seconds_count"), 3);
	CHECK(strstr(text, "\ntcptrace_connect_latency_seconds_sum 0.0021\n"));
	CHECK(strstr(text, "# TYPE tcptrace_connect_latency_seconds histogram\n"));
	CHECK(strstr(text, "# TYPE tcptrace_connect_attempts_total counter\n"));
	free(text);
	metrics_free(&metrics);
}

static void test_histogram_buckets(void)
{
	char *argv[] = { "tcptrace", "serve", NULL };
	/* On a bound (le is inclusive), between two, past the last. */
	const __u64 waits[] = { 50000, 50001, 1000000, 20 * SECOND };
	struct metrics metrics;
	char *text;

	parse(2, argv);
	start(&metrics, 0, 10000, 0);
	for (size_t i = 0; i < sizeof(waits) / sizeof(waits[0]); i++) {
		struct event event = accept_event(ACCEPT_ACCEPTED, 8080, waits[i]);

		metrics_add(&metrics, &event, given, (void *)NULL, SECOND);
	}
	text = written(&metrics);
	CHECK_EQ_U64(sample(text, "tcptrace_accepts_total{lport=\"8080\"}"), 4);
#define BUCKET(le) "tcptrace_accept_queue_wait_seconds_bucket{lport=\"8080\",le=\"" le "\"}"
	CHECK_EQ_U64(sample(text, BUCKET("5e-05")), 1);
	CHECK_EQ_U64(sample(text, BUCKET("0.0001")), 2);
	CHECK_EQ_U64(sample(text, BUCKET("0.001")), 3);
	CHECK_EQ_U64(sample(text, BUCKET("10")), 3);
	CHECK_EQ_U64(sample(text, BUCKET("+Inf")), 4);
#undef BUCKET
	CHECK_EQ_U64(sample(text, "tcptrace_accept_queue_wait_seconds_count{lport=\"8080\"}"), 4);
	CHECK(strstr(text, "_sum{lport=\"8080\"} 20.001100001\n"));
	free(text);
	metrics_free(&metrics);
}

static void test_failed_accepts(void)
{
	char *argv[] = { "tcptrace", "serve", "-f", NULL };
	struct event refused = accept_event(ACCEPT_REFUSED, 9, 0);
	struct event dropped = accept_event(ACCEPT_DROPPED, 80, 0);
	struct metrics metrics;
	char *text;

	parse(3, argv);
	start(&metrics, 0, 10000, 0);
	metrics_add(&metrics, &refused, given, (void *)NULL, SECOND);
	metrics_add(&metrics, &refused, given, (void *)NULL, SECOND);
	metrics_add(&metrics, &dropped, given, (void *)NULL, SECOND);
	text = written(&metrics);
	CHECK_EQ_U64(sample(text, "tcptrace_accept_failed_total{result=\"REFUSED\",lport=\"9\"}"),
		     2);
	CHECK_EQ_U64(sample(text, "tcptrace_accept_failed_total{result=\"DROPPED\",lport=\"80\"}"),
		     1);
	/* Neither is an accept, nor waited in a queue. */
	CHECK(!strstr(text, "tcptrace_accepts_total{"));
	CHECK(!strstr(text, "tcptrace_accept_queue_wait_seconds_count"));
	free(text);
	metrics_free(&metrics);
}

static void test_identity_and_peer_labels(void)
{
	char *argv[] = { "tcptrace", "serve", "--label", "daddr,dport", NULL };
	const struct identity pod = {
		.cgroup = "/kubepods.slice/x",
		.unit = "cri-containerd-ab.scope",
		.container_id = "abababababababababababababababababababababababababababababababab",
		.k8s_namespace = "shop",
		.k8s_pod = "cart-7d4",
		.k8s_container = "app",
	};
	const struct identity docker = {
		.unit = "docker-cd.scope",
		.container_id = "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd",
	};
	const struct identity hostile = { .unit = "a\"b\\c\n\xff\x01\xc3\xa9.service" };
	struct event event = connect_event(CONNECT_ESTABLISHED, 0, 1000, 443);
	struct metrics metrics;
	char *text;

	parse(4, argv);
	start(&metrics, config.metrics.labels, 10000, 0);
	/* Each in a cgroup of its own: metrics keep a cgroup's identity for a second. */
	event.task.cgroup_id = 1;
	metrics_add(&metrics, &event, given, (void *)&pod, SECOND);
	event.task.cgroup_id = 2;
	metrics_add(&metrics, &event, given, (void *)&docker, SECOND);
	event.task.cgroup_id = 3;
	metrics_add(&metrics, &event, given, (void *)&hostile, SECOND);
	text = written(&metrics);
	/* A pod's containers keep their names across restarts, not their IDs or units. */
	CHECK_EQ_U64(sample(text, "tcptrace_connect_attempts_total{result=\"ESTABLISHED\","
				  "daddr=\"192.0.2.7\",dport=\"443\","
				  "namespace=\"shop\",pod=\"cart-7d4\",container=\"app\"}"),
		     1);
	CHECK_EQ_U64(sample(text,
			    "tcptrace_connect_attempts_total{result=\"ESTABLISHED\","
			    "daddr=\"192.0.2.7\",dport=\"443\","
			    "container_id=\"cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
			    "cdcdcdcdcdcd\"}"),
		     1);
	/*
	 * A quote, a backslash and a newline as the format escapes them; a byte that is no
	 * UTF-8, and a control character, as \xHH; UTF-8 as it is.
	 */
	CHECK(strstr(text, "unit=\"a\\\"b\\\\c\\n\\\\xff\\\\x01\xc3\xa9.service\"} 1\n"));
	free(text);
	metrics_free(&metrics);
}

static void test_series_limit_folds(void)
{
	char *argv[] = { "tcptrace", "serve", NULL };
	struct metrics metrics;
	char *text;

	parse(2, argv);
	/* Room for one accept label set: its counter and its histogram (20 lines). */
	start(&metrics, 0, 21, 0);
	for (__u16 port = 1; port <= 5; port++) {
		struct event event = accept_event(ACCEPT_ACCEPTED, port, 1000);

		metrics_add(&metrics, &event, given, (void *)NULL, SECOND);
	}
	text = written(&metrics);
	CHECK_EQ_U64(sample(text, "tcptrace_accepts_total{lport=\"1\"}"), 1);
	CHECK_EQ_U64(sample(text, "tcptrace_accepts_total{lport=\"2\"}"), -1);
	CHECK_EQ_U64(sample(text, "tcptrace_accepts_total{lport=\"other\",unit=\"other\"}"), 4);
	CHECK_EQ_U64(sample(text, "tcptrace_accept_queue_wait_seconds_count{lport=\"other\","
				  "unit=\"other\"}"),
		     4);
	/* Four events, each folded (in two families). */
	CHECK_EQ_U64(metrics.folded, 4);
	free(text);
	metrics_free(&metrics);
}

static void test_ttl_forgets(void)
{
	char *argv[] = { "tcptrace", "serve", NULL };
	const struct identity gone = { .unit = "gone.service" },
			      stays = { .unit = "stays.service" };
	struct event event = connect_event(CONNECT_FAILED, ETIMEDOUT, 0, 80);
	struct metrics metrics;
	char *text;

	parse(2, argv);
	start(&metrics, 0, 10000, 600 * SECOND);
	event.task.cgroup_id = 1;
	metrics_add(&metrics, &event, given, (void *)&gone, SECOND);
	event.task.cgroup_id = 2;
	metrics_add(&metrics, &event, given, (void *)&stays, SECOND);
	metrics_expire(&metrics, 2 * SECOND);
	metrics_add(&metrics, &event, given, (void *)&stays, 500 * SECOND);
	metrics_expire(&metrics, 700 * SECOND);
	text = written(&metrics);
	CHECK(!strstr(text, "gone.service"));
	CHECK_EQ_U64(sample(text, "tcptrace_connect_attempts_total{result=\"ETIMEDOUT\","
				  "unit=\"stays.service\"}"),
		     2);
	CHECK_EQ_U64(metrics.nr_identities, 1);
	CHECK_EQ_U64(metrics.lines, 1);
	/* The table still finds what stayed. */
	metrics_add(&metrics, &event, given, (void *)&stays, 701 * SECOND);
	CHECK_EQ_U64(metrics.nr_series, 1);
	/* A cgroup renamed (a pod named late) is seen within a second. */
	metrics_add(&metrics, &event, given, (void *)&gone, 701 * SECOND + SECOND / 2);
	CHECK_EQ_U64(metrics.nr_series, 1);
	metrics_add(&metrics, &event, given, (void *)&gone, 703 * SECOND);
	CHECK_EQ_U64(metrics.nr_series, 2);
	free(text);
	metrics_free(&metrics);
}

static void test_seconds(void)
{
	const struct {
		__u64 ns;
		const char *text;
	} cases[] = {
		{ 0, "0" }, { 1, "0.000000001" }, { 1500000, "0.0015" }, { 3 * SECOND, "3" }
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct metric_text text = {};

		metric_text_seconds(&text, cases[i].ns);
		CHECK_STR(text.data, cases[i].text);
		free(text.data);
	}
}

int main(void)
{
	RUN(test_counts_by_result);
	RUN(test_histogram_buckets);
	RUN(test_failed_accepts);
	RUN(test_identity_and_peer_labels);
	RUN(test_series_limit_folds);
	RUN(test_ttl_forgets);
	RUN(test_seconds);
	return CHECK_RESULT();
}
