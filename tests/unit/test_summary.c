// SPDX-License-Identifier: GPL-2.0-only
/*
 * connect's and accept's -c and -H: the log2 slots, the counts per row, the histogram's
 * sum, each command's rows and names.
 */
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

/* accept's, with or without -f. */
static const struct summary_labels *accept_labels(void)
{
	static struct trace_config config;
	char *argv[] = { "tcpaccept", "-c", NULL };

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

/* An accept -f event: a connection accepted from a client, or an attempt that was not. */
static struct event passive(const char *laddr, __u16 lport, const char *raddr, __u8 outcome,
			    __u64 queued_us)
{
	struct event event = {
		.kind = EVENT_ACCEPT,
		.family = strchr(laddr, ':') ? AF_INET6 : AF_INET,
		.lport = lport,
		.rport = 40000 + queued_us % 1000,
		.outcome = outcome,
		.flags = outcome == ACCEPT_ACCEPTED ? EVENT_HAS_DURATION : EVENT_NO_TASK,
		.accept_queue_wait_ns = queued_us * 1000,
	};

	inet_pton(event.family, laddr, event.laddr);
	inet_pton(event.family, raddr, event.raddr);
	return event;
}

/* A line of accept's table, as its columns pad it; the counts end early with NULL. */
static const char *accept_row(char *buf, const char *laddr, const char *lport,
			      const char *const counts[3], const char *const queued[3])
{
	char *p = buf + sprintf(buf, "%-39s %-5s %8s", laddr, lport, counts[0]);

	for (int i = 1; i < 3 && counts[i]; i++)
		p += sprintf(p, " %8s", counts[i]);
	sprintf(p, " %14s %14s %14s\n", queued[0], queued[1], queued[2]);
	return buf;
}

/*
 * accept -c: a row per local address and port, whoever the clients; ACCEPTS, and with
 * -f REFUSED and DROPPED, none of them in QUEUED; QUEUED of the accepted whose wait is
 * known.
 */
static void test_accept_counts(void)
{
	struct summary summary = { .labels = accept_labels(),
				   .column_flags = COLUMN_FAILED,
				   .count = true };
	struct event unknown_wait = passive("192.0.2.10", 443, "198.51.100.3", ACCEPT_ACCEPTED, 0);
	struct event events[] = {
		passive("192.0.2.10", 443, "198.51.100.1", ACCEPT_ACCEPTED, 1000),
		passive("192.0.2.10", 443, "198.51.100.2", ACCEPT_ACCEPTED, 3000),
		passive("192.0.2.10", 443, "198.51.100.1", ACCEPT_DROPPED, 0),
		passive("192.0.2.11", 443, "198.51.100.1", ACCEPT_ACCEPTED, 40),
		passive("2001:db8::10", 8080, "2001:db8::7", ACCEPT_ACCEPTED, 20),
		passive("192.0.2.10", 8443, "198.51.100.9", ACCEPT_REFUSED, 0),
		passive("192.0.2.10", 8443, "198.51.100.9", ACCEPT_REFUSED, 0),
	};
	char header[256], rows[4][256];
	const char *text;

	/* Queued before tracing started: accepted, with no wait to count. */
	unknown_wait.flags = 0;
	summary_add(&summary, &unknown_wait);
	/* A dropped attempt's wait, were there one, is no queue wait. */
	events[2].flags |= EVENT_HAS_DURATION;
	events[2].accept_queue_wait_ns = 999999999;
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		summary_add(&summary, &events[i]);
	CHECK_EQ_U64(summary.nr_rows, 4);
	text = print(&summary);
	accept_row(header, "LADDR", "LPORT", (const char *[]){ "ACCEPTS", "REFUSED", "DROPPED" },
		   (const char *[]){ "QUEUED_MIN(ms)", "QUEUED_AVG(ms)", "QUEUED_MAX(ms)" });
	/* The most events first; for as many, the lowest port first. */
	accept_row(rows[0], "192.0.2.10", "443", (const char *[]){ "3", "0", "1" },
		   (const char *[]){ "1.000", "2.000", "3.000" });
	accept_row(rows[1], "192.0.2.10", "8443", (const char *[]){ "0", "2", "0" },
		   (const char *[]){ "-", "-", "-" });
	accept_row(rows[2], "192.0.2.11", "443", (const char *[]){ "1", "0", "0" },
		   (const char *[]){ "0.040", "0.040", "0.040" });
	accept_row(rows[3], "2001:db8::10", "8080", (const char *[]){ "1", "0", "0" },
		   (const char *[]){ "0.020", "0.020", "0.020" });
	CHECK(strstr(text, header) == text);
	CHECK(strstr(text, rows[0]) == text + strlen(header));
	CHECK(strstr(text, rows[1]) == text + strlen(header) + strlen(rows[0]));
	/* The last two, as many each, in the table's order. */
	CHECK(strstr(text, rows[2]) != NULL);
	CHECK(strstr(text, rows[3]) != NULL);
	CHECK_EQ_U64(strlen(text), strlen(header) + strlen(rows[0]) + strlen(rows[1]) +
					   strlen(rows[2]) + strlen(rows[3]));
	summary_free(&summary);
}

/* Without -f, its counts are not shown: nothing watched them. */
static void test_accept_without_failed(void)
{
	struct summary summary = { .labels = accept_labels(), .count = true };
	struct event event = passive("192.0.2.10", 22, "198.51.100.1", ACCEPT_ACCEPTED, 500);
	char expected[512], row[256];

	summary_add(&summary, &event);
	accept_row(expected, "LADDR", "LPORT", (const char *[]){ "ACCEPTS", NULL, NULL },
		   (const char *[]){ "QUEUED_MIN(ms)", "QUEUED_AVG(ms)", "QUEUED_MAX(ms)" });
	accept_row(row, "192.0.2.10", "22", (const char *[]){ "1", NULL, NULL },
		   (const char *[]){ "0.500", "0.500", "0.500" });
	strcat(expected, row);
	CHECK_STR(print(&summary), expected);
	summary_free(&summary);
}

/* accept -H: the queue wait of the accepted whose wait is known, and nothing else. */
static void test_accept_histogram(void)
{
	struct summary summary = { .labels = accept_labels(), .histogram = true };
	struct event quick = passive("192.0.2.10", 443, "198.51.100.1", ACCEPT_ACCEPTED, 20);
	struct event slow = passive("192.0.2.10", 443, "198.51.100.1", ACCEPT_ACCEPTED, 70000);
	struct event unknown = quick;
	struct event refused = passive("192.0.2.10", 1, "198.51.100.1", ACCEPT_REFUSED, 0);
	const char *text;

	unknown.flags = 0;
	for (int i = 0; i < 4; i++)
		summary_add(&summary, &quick);
	summary_add(&summary, &slow);
	summary_add(&summary, &unknown);
	summary_add(&summary, &refused);
	text = print(&summary);
	CHECK(strstr(text, "     usecs             : count    distribution\n") == text);
	CHECK(strstr(text, "\n       16 -> 31        : 4        |****************************"
			   "************|\n") != NULL);
	CHECK(strstr(text,
		     "\n    65536 -> 131071    : 1        |**********                  "
		     "            |\n5 accepted connections with a known queue wait\n") != NULL);
	summary_free(&summary);
}

/* accept -j: laddr and lport, the counts by name (null without -f), the queue wait. */
static void test_accept_json(void)
{
	struct formatter fmt = { 0 };
	struct summary summary = { .labels = accept_labels(),
				   .column_flags = FORMAT_JSON,
				   .count = true,
				   .histogram = true,
				   .json = true,
				   .fmt = &fmt,
				   .since_ns = 1000000000 };
	struct event accepted = passive("2001:db8::10", 443, "2001:db8::7", ACCEPT_ACCEPTED, 5);
	struct event dropped = passive("2001:db8::10", 443, "2001:db8::7", ACCEPT_DROPPED, 0);

	format_start(&fmt);
	fmt.realtime_offset_ns = 0;
	summary_add(&summary, &accepted);
	summary_add(&summary, &accepted);
	CHECK_STR(print(&summary),
		  "{\"time_ns\":2000000000,\"time\":\"1970-01-01T00:00:02.000000000Z\","
		  "\"event\":\"counts\",\"since_ns\":1000000000,\"rows\":["
		  "{\"laddr\":\"2001:db8::10\",\"lport\":443,\"accepts\":2,\"refused\":null,"
		  "\"dropped\":null,\"queued_min_ms\":0.005,\"queued_avg_ms\":0.005,"
		  "\"queued_max_ms\":0.005}],\"uncounted\":0}\n"
		  "{\"time_ns\":2000000000,\"time\":\"1970-01-01T00:00:02.000000000Z\","
		  "\"event\":\"histogram\",\"since_ns\":1000000000,\"buckets\":["
		  "{\"low_us\":0,\"high_us\":1,\"count\":0},"
		  "{\"low_us\":2,\"high_us\":3,\"count\":0},"
		  "{\"low_us\":4,\"high_us\":7,\"count\":2}],\"accepted\":2}\n");
	/* -f: its counts are known, and a row with no accept has no queue wait. */
	summary.column_flags |= COLUMN_FAILED;
	summary_add(&summary, &dropped);
	CHECK(strstr(print(&summary),
		     "\"rows\":[{\"laddr\":\"2001:db8::10\",\"lport\":443,\"accepts\":0,"
		     "\"refused\":0,\"dropped\":1,\"queued_min_ms\":null,\"queued_avg_ms\":null,"
		     "\"queued_max_ms\":null}],\"uncounted\":0}\n") != NULL);
	CHECK(strstr(printed, "\"buckets\":[],\"accepted\":0}\n") != NULL);
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
	RUN(test_accept_counts);
	RUN(test_accept_without_failed);
	RUN(test_accept_histogram);
	RUN(test_accept_json);
	return CHECK_RESULT();
}
