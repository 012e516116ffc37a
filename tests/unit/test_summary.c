// SPDX-License-Identifier: GPL-2.0-only
/* connect -c and -H: the log2 slots, the counts per row, the histogram's sum. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/types.h>
#include "../../bpf/event.h"
#include "../../lib/format.h"
#include "../../lib/output.h"
#include "../../lib/summary.h"
#include "../../cmd/cli.h"
#include "check.h"

/* connect's labels, as its parser hands them over. */
static const struct summary_labels *connect_labels(void)
{
	static struct trace_config config;
	char *argv[] = { "tcpconnect", "-c", NULL };

	cli_parse(2, argv, &config);
	return config.summary_labels;
}

static struct output out;
static volatile sig_atomic_t never;
static char printed[1 << 20];

/* What summary_print() writes, as a string. */
static const char *print(struct summary *summary)
{
	int fd = memfd_create("summary", 0);
	ssize_t len;

	output_init(&out, fd, &never);
	summary_print(summary, &out, 2000000000, false);
	CHECK(output_flush(&out) == 0);
	len = pread(fd, printed, sizeof(printed) - 1, 0);
	printed[len > 0 ? len : 0] = '\0';
	close(fd);
	return printed;
}

static struct event attempt(const char *daddr, __u16 dport, __u8 outcome, __u64 latency_us)
{
	struct event event = {
		.kind = EVENT_CONNECT,
		.family = AF_INET,
		.lport = 40000,
		.rport = dport,
		.outcome = outcome,
		.flags = EVENT_HAS_DURATION,
		.connect_latency_ns = latency_us * 1000,
	};

	inet_pton(AF_INET, "192.0.2.1", event.laddr);
	inet_pton(AF_INET, daddr, event.raddr);
	return event;
}

static void test_slots(void)
{
	static const struct {
		__u64 us;
		unsigned int slot;
	} cases[] = { { 0, 0 },	   { 1, 0 },	 { 2, 1 },	     { 3, 1 },	   { 4, 2 },
		      { 1023, 9 }, { 1024, 10 }, { 1ull << 40, 40 }, { ~0ull, 63 } };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_EQ_U64(summary_slot(cases[i].us), cases[i].slot);
}

/* Rows by source, destination and port; the most attempts first; latency of the
 * established only, "-" when there are none. */
static void test_counts(void)
{
	struct summary summary = { .labels = connect_labels(), .count = true };
	struct event events[] = {
		attempt("198.51.100.7", 443, CONNECT_ESTABLISHED, 1000),
		attempt("198.51.100.7", 443, CONNECT_FAILED, 50),
		attempt("198.51.100.7", 443, CONNECT_ESTABLISHED, 3000),
		attempt("198.51.100.7", 80, CONNECT_ABANDONED, 100000),
	};
	const char *text;

	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		summary_add(&summary, &events[i]);
	text = print(&summary);
	CHECK(strstr(text, "SADDR") == text);
	CHECK(strstr(text,
		     "\n192.0.2.1                               198.51.100.7             "
		     "               443          3        1       1.000       2.000       "
		     "3.000\n192.0.2.1                               198.51.100.7             "
		     "               80           1        1           -           -           "
		     "-\n") != NULL);
	/* Printing starts afresh. */
	CHECK(strchr(print(&summary), '\n') == strrchr(printed, '\n'));
	summary_free(&summary);
}

/* Many rows: the table grows, and every attempt is counted once. */
static void test_many_rows(void)
{
	struct summary summary = { .labels = connect_labels(), .count = true };
	unsigned long long total = 0, attempts;
	const char *line;

	for (int port = 1; port <= 3000; port++) {
		struct event event = attempt("203.0.113.9", port, CONNECT_ESTABLISHED, port);

		for (int i = 0; i < port % 3 + 1; i++)
			summary_add(&summary, &event);
		total += port % 3 + 1;
	}
	CHECK_EQ_U64(summary.nr_rows, 3000);
	line = strchr(print(&summary), '\n');
	for (attempts = 0; line && line[1]; line = strchr(line + 1, '\n')) {
		unsigned long long n;
		unsigned int port;

		CHECK(sscanf(line + 1, "%*s %*s %u %llu", &port, &n) == 2);
		CHECK_EQ_U64(n, port % 3 + 1);
		attempts += n;
	}
	CHECK_EQ_U64(attempts, total);
	summary_free(&summary);
}

/* The histogram's counts are the established attempts', slot by slot. */
static void test_histogram(void)
{
	struct summary summary = { .labels = connect_labels(), .histogram = true };
	struct event fast = attempt("198.51.100.7", 443, CONNECT_ESTABLISHED, 5);
	struct event slow = attempt("198.51.100.7", 443, CONNECT_ESTABLISHED, 1500);
	struct event failed = attempt("198.51.100.7", 443, CONNECT_FAILED, 10);
	const char *text;

	for (int i = 0; i < 30; i++)
		summary_add(&summary, &fast);
	for (int i = 0; i < 3; i++)
		summary_add(&summary, &slow);
	summary_add(&summary, &failed);
	text = print(&summary);
	CHECK(strstr(text, "     usecs             : count    distribution\n") == text);
	CHECK(strstr(text, "\n        4 -> 7         : 30       |*****************************"
			   "***********|\n") != NULL);
	CHECK(strstr(text, "\n     1024 -> 2047      : 3        |****                        "
			   "            |\n33 established attempts\n") != NULL);
	CHECK(strstr(text, "2048") == NULL);
	summary_free(&summary);
}

/* -j: one object per summary, its time first, then the rows or buckets in order. */
static void test_json(void)
{
	struct formatter fmt = { 0 };
	struct summary summary = { .labels = connect_labels(),
				   .count = true,
				   .histogram = true,
				   .json = true,
				   .fmt = &fmt,
				   .since_ns = 1000000000 };
	struct event established = attempt("198.51.100.7", 443, CONNECT_ESTABLISHED, 5);
	struct event refused = attempt("198.51.100.8", 80, CONNECT_FAILED, 10);
	const char *text;

	format_start(&fmt);
	fmt.realtime_offset_ns = 0;
	summary_add(&summary, &established);
	summary_add(&summary, &established);
	summary_add(&summary, &refused);
	text = print(&summary);
	CHECK_STR(text, "{\"time_ns\":2000000000,\"time\":\"1970-01-01T00:00:02.000000000Z\","
			"\"event\":\"counts\",\"since_ns\":1000000000,\"rows\":["
			"{\"saddr\":\"192.0.2.1\",\"daddr\":\"198.51.100.7\",\"dport\":443,"
			"\"connects\":2,\"failed\":0,\"latency_min_ms\":0.005,"
			"\"latency_avg_ms\":0.005,\"latency_max_ms\":0.005},"
			"{\"saddr\":\"192.0.2.1\",\"daddr\":\"198.51.100.8\",\"dport\":80,"
			"\"connects\":1,\"failed\":1,\"latency_min_ms\":null,"
			"\"latency_avg_ms\":null,\"latency_max_ms\":null}],\"uncounted\":0}\n"
			"{\"time_ns\":2000000000,\"time\":\"1970-01-01T00:00:02.000000000Z\","
			"\"event\":\"histogram\",\"since_ns\":1000000000,\"buckets\":["
			"{\"low_us\":0,\"high_us\":1,\"count\":0},"
			"{\"low_us\":2,\"high_us\":3,\"count\":0},"
			"{\"low_us\":4,\"high_us\":7,\"count\":2}],\"established\":2}\n");
	/* The next summary starts where this one ended, with nothing in it. */
	CHECK(strstr(print(&summary), "\"since_ns\":2000000000,\"rows\":[],\"uncounted\":0}\n"
				      "{") != NULL);
	CHECK(strstr(printed, "\"buckets\":[],\"established\":0}\n") != NULL);
	summary_free(&summary);
}

/* Nothing traced yet (the first interval of a quiet machine): headers, and no table. */
static void test_empty(void)
{
	struct summary summary = { .labels = connect_labels(), .count = true, .histogram = true };

	CHECK(strstr(print(&summary), "SADDR") == printed);
	CHECK(strstr(printed, "\n0 established attempts\n") != NULL);
	summary_free(&summary);
}

int main(void)
{
	RUN(test_slots);
	RUN(test_counts);
	RUN(test_many_rows);
	RUN(test_histogram);
	RUN(test_json);
	RUN(test_empty);
	return CHECK_RESULT();
}
