// SPDX-License-Identifier: GPL-2.0-only
/* The formatter against golden lines: columns, widths, flags, escaping. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <linux/types.h>
#include "../../bpf/event.h"
#include "../../lib/format.h"
#include "../../lib/identity.h"
#include "check.h"

/* The subcommand's real column table: what users see is what is tested. */
#include "../../lib/config.h"
#include "../../cmd/cli.h"

/* A formatter for the command's columns and names, as its parser sets them. */
static struct formatter formatter_of(char *command, unsigned int flags)
{
	static struct trace_config config;
	char *argv[] = { "tcptrace", command, NULL };

	cli_parse(2, argv, &config);
	return (struct formatter){ .columns = config.columns,
				   .names = config.names,
				   .flags = flags };
}

static char line[FORMAT_LINE_MAX];

static const char *header(unsigned int flags)
{
	struct formatter fmt = formatter_of("connect", flags);

	line[format_header(&fmt, line)] = '\0';
	return line;
}

static const char *render(const struct event *event, unsigned int flags, __u64 start_ns)
{
	struct formatter fmt = formatter_of("connect", flags);

	fmt.start_ns = start_ns;
	line[format_event(&fmt, event, line)] = '\0';
	return line;
}

static struct event ipv4_event(void)
{
	struct event event = {
		.ts_ns = 5123456789,
		.connect_latency_ns = 1234567,
		.task = { .cgroup_id = 8123,
			  .pid = 4242,
			  .tid = 4243,
			  .uid = 1000,
			  .ppid = 1,
			  .comm = "curl",
			  .pcomm = "systemd" },
		.family = AF_INET,
		.lport = 40001,
		.rport = 443,
		.kind = EVENT_CONNECT,
		.outcome = CONNECT_ESTABLISHED,
		.flags = EVENT_HAS_DURATION,
	};

	inet_pton(AF_INET, "192.0.2.1", event.laddr);
	inet_pton(AF_INET, "198.51.100.7", event.raddr);
	return event;
}

static struct event ipv6_event(void)
{
	struct event event = ipv4_event();

	event.family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8:1234:5678:9abc:def0:1234:5678", event.laddr);
	/* The longest text an IPv6 address can have: 39 characters. */
	inet_pton(AF_INET6, "fd12:3456:789a:bcde:f012:3456:789a:bcde", event.raddr);
	return event;
}

static void test_default_header(void)
{
	CHECK_STR(header(0), "PID     COMM             IP SADDR                                   "
			     "DADDR                                   DPORT LAT(ms)\n");
}

static void test_ipv4_line(void)
{
	struct event event = ipv4_event();

	CHECK_STR(render(&event, 0, 0),
		  "4242    curl             4  192.0.2.1                               "
		  "198.51.100.7                            443   1.234\n");
}

/* Full IPv6 addresses, and the columns after them start where the header's do. */
static void test_ipv6_full_and_aligned(void)
{
	struct event event = ipv6_event();
	const char *expected =
		"4242    curl             6  2001:db8:1234:5678:9abc:def0:1234:5678  "
		"fd12:3456:789a:bcde:f012:3456:789a:bcde 443   1.234\n";

	CHECK_STR(render(&event, 0, 0), expected);
	CHECK_EQ_U64(strstr(render(&event, 0, 0), "443") - line, strstr(header(0), "DPORT") - line);
}

static void test_timestamp(void)
{
	struct event event = ipv4_event();

	CHECK_STR(header(COLUMN_TIMESTAMP),
		  "TIME(s)   PID     COMM             IP SADDR                                   "
		  "DADDR                                   DPORT LAT(ms)\n");
	/* 5.123456789 s after a start at 2.000000000 s */
	CHECK_STR(render(&event, COLUMN_TIMESTAMP, 2000000000),
		  "3.123     4242    curl             4  192.0.2.1                               "
		  "198.51.100.7                            443   1.234\n");
	/* An event stamped before the start clamps to 0. */
	CHECK(strncmp(render(&event, COLUMN_TIMESTAMP, 9000000000), "0.000 ", 6) == 0);
}

static void test_extended(void)
{
	struct event event = ipv4_event();

	CHECK_STR(header(COLUMN_EXTENDED),
		  "PID     COMM             IP SADDR                                   SPORT "
		  "DADDR                                   DPORT LAT(ms)  UID    RESULT\n");
	CHECK_STR(render(&event, COLUMN_EXTENDED, 0),
		  "4242    curl             4  192.0.2.1                               40001 "
		  "198.51.100.7                            443   1.234    1000   ESTABLISHED\n");
}

static const char *result_of(__u8 outcome, int error)
{
	struct event event = ipv4_event();
	const char *full;

	event.outcome = outcome;
	event.error = error;
	full = render(&event, COLUMN_EXTENDED, 0);
	return strrchr(full, ' ') + 1;
}

static void test_results(void)
{
	CHECK_STR(result_of(CONNECT_FAILED, ECONNREFUSED), "ECONNREFUSED\n");
	CHECK_STR(result_of(CONNECT_FAILED, ETIMEDOUT), "ETIMEDOUT\n");
	CHECK_STR(result_of(CONNECT_FAILED, EHOSTUNREACH), "EHOSTUNREACH\n");
	CHECK_STR(result_of(CONNECT_FAILED, 4095), "E4095\n");
	CHECK_STR(result_of(CONNECT_ABANDONED, 0), "ABANDONED\n");
	CHECK_STR(result_of(CONNECT_UNSENT, 0), "UNSENT\n");
	CHECK_STR(result_of(CONNECT_FAILED, EACCES), "EACCES\n");
	CHECK_STR(result_of(CONNECT_FAILED, ENETUNREACH), "ENETUNREACH\n");
}

/* Closed before its SYN left: a real local port, no round trip to show. */
static void test_unsent(void)
{
	struct event event = ipv4_event();

	event.outcome = CONNECT_UNSENT;
	event.flags = 0;
	CHECK_STR(render(&event, COLUMN_EXTENDED, 0),
		  "4242    curl             4  192.0.2.1                               40001 "
		  "198.51.100.7                            443   -        1000   UNSENT\n");
}

/* -L alone shows LPORT; with -x too, the same column is not shown twice. */
static void test_lport(void)
{
	struct event event = ipv4_event();

	CHECK_STR(header(COLUMN_LPORT),
		  "PID     COMM             IP SADDR                                   LPORT "
		  "DADDR                                   DPORT LAT(ms)\n");
	CHECK_STR(render(&event, COLUMN_LPORT, 0),
		  "4242    curl             4  192.0.2.1                               40001 "
		  "198.51.100.7                            443   1.234\n");
	CHECK(strstr(header(COLUMN_LPORT | COLUMN_EXTENDED), "LPORT") != NULL);
	CHECK(strstr(header(COLUMN_LPORT | COLUMN_EXTENDED), "SPORT") == NULL);
}

/* A process can name itself with escape sequences; they must not reach the terminal. */
static void test_hostile_comm(void)
{
	struct event event = ipv4_event();

	memcpy(event.task.comm, "\x1b[2J\a\n\\ok", 10);
	CHECK(strncmp(render(&event, 0, 0), "4242    \\x1b[2J\\x07\\x0a\\x5cok 4  ", 33) == 0);
	/* A comm that fills all 16 bytes, with no NUL, stops at 16. */
	memcpy(event.task.comm, "abcdefghijklmnop", 16);
	CHECK(strncmp(render(&event, 0, 0) + 8, "abcdefghijklmnop 4 ", 19) == 0);
}

/* IPv4 addresses at their shortest and longest. */
static void test_ipv4_extremes(void)
{
	struct event event = ipv4_event();

	inet_pton(AF_INET, "0.0.0.0", event.laddr);
	inet_pton(AF_INET, "255.255.255.255", event.raddr);
	CHECK_STR(render(&event, 0, 0),
		  "4242    curl             4  0.0.0.0                                 "
		  "255.255.255.255                         443   1.234\n");
}

/* Every byte of an IPv4 address, and numbers of every length, as printf() has them. */
static void test_numbers_as_printf(void)
{
	static const __u32 pids[] = { 1, 9, 10, 99, 100, 999, 1000, 65535, 99999, 4194304 };
	struct event event = ipv4_event();
	char expected[FORMAT_LINE_MAX], addr[16];

	for (int byte = 0; byte < 256; byte++) {
		memset(event.raddr, byte, 4);
		snprintf(addr, sizeof(addr), "%d.%d.%d.%d", byte, byte, byte, byte);
		snprintf(expected, sizeof(expected),
			 "4242    curl             4  %-39s %-39s 443   1.234\n", "192.0.2.1",
			 addr);
		CHECK_STR(render(&event, 0, 0), expected);
	}
	event = ipv4_event();
	for (size_t i = 0; i < sizeof(pids) / sizeof(pids[0]); i++) {
		event.task.pid = pids[i];
		event.rport = pids[i] % 65536;
		event.connect_latency_ns = pids[i] * 1000000ull + 5000;
		snprintf(expected, sizeof(expected),
			 "%-7u curl             4  %-39s %-39s %-5u %u.005\n", pids[i], "192.0.2.1",
			 "198.51.100.7", pids[i] % 65536, pids[i]);
		CHECK_STR(render(&event, 0, 0), expected);
	}
}

static void test_latency_rounding(void)
{
	struct event event = ipv4_event();

	event.connect_latency_ns = 999; /* below a microsecond */
	CHECK(strstr(render(&event, 0, 0), " 0.000\n") != NULL);
	event.connect_latency_ns = 100000000; /* 100 ms */
	CHECK(strstr(render(&event, 0, 0), " 100.000\n") != NULL);
	event.connect_latency_ns = 75000123456ull;
	CHECK(strstr(render(&event, 0, 0), " 75000.123\n") != NULL);
}

static const char *accept_header(unsigned int flags)
{
	struct formatter fmt = formatter_of("accept", flags);

	line[format_header(&fmt, line)] = '\0';
	return line;
}

static const char *render_accept(const struct event *event, unsigned int flags)
{
	struct formatter fmt = formatter_of("accept", flags);

	format_start(&fmt);
	line[format_event(&fmt, event, line)] = '\0';
	return line;
}

static struct event accepted_event(void)
{
	struct event event = ipv4_event();

	event.kind = EVENT_ACCEPT;
	event.outcome = ACCEPT_ACCEPTED;
	event.lport = 8080;
	event.rport = 51234;
	event.connect_latency_ns = 12345678;
	event.backlog = 3;
	event.max_backlog = 128;
	event.flags = EVENT_HAS_DURATION | EVENT_HAS_BACKLOG;
	memcpy(event.task.comm, "nginx", 6);
	return event;
}

static void test_accept_columns(void)
{
	struct event event = accepted_event();

	CHECK_STR(accept_header(0),
		  "PID     COMM             IP RADDR                                   "
		  "RPORT LADDR                                   LPORT\n");
	CHECK_STR(render_accept(&event, 0),
		  "4242    nginx            4  198.51.100.7                            51234 "
		  "192.0.2.1                               8080\n");
	CHECK_STR(accept_header(COLUMN_EXTENDED | COLUMN_FAILED),
		  "PID     COMM             IP RADDR                                   RPORT "
		  "LADDR                                   LPORT UID    QUEUED(ms) BACKLOG     "
		  "RESULT\n");
	CHECK_STR(render_accept(&event, COLUMN_EXTENDED | COLUMN_FAILED),
		  "4242    nginx            4  198.51.100.7                            51234 "
		  "192.0.2.1                               8080  1000   12.345     3/128       "
		  "ACCEPTED\n");
}

/* Unknown values print as "-": no queue wait, no backlog, no process. */
static void test_accept_unknowns(void)
{
	struct event event = accepted_event();
	const char *text;

	event.flags = 0;
	text = render_accept(&event, COLUMN_EXTENDED);
	CHECK(strstr(text, " 1000   -          -\n") != NULL);
	event.flags = EVENT_NO_TASK;
	event.outcome = ACCEPT_DROPPED;
	CHECK_STR(render_accept(&event, COLUMN_EXTENDED | COLUMN_FAILED),
		  "-       -                4  198.51.100.7                            51234 "
		  "192.0.2.1                               8080  -      -          -           "
		  "DROPPED\n");
	event.outcome = ACCEPT_REFUSED;
	CHECK(strstr(render_accept(&event, COLUMN_FAILED), " REFUSED\n") != NULL);
}

/* -j: one object per event, every field typed, the time twice; the same column tables. */
static const char *render_json(char *command, const struct event *event, unsigned int flags)
{
	/* 2026-11-22T07:30:00Z, at a monotonic time of 1000 s. */
	struct formatter fmt = formatter_of(command, FORMAT_JSON | flags);

	fmt.realtime_offset_ns = 1795332600000000000ll - 1000000000000ll;
	fmt.clock_second = -1;
	fmt.utc_second = -1;
	line[format_event(&fmt, event, line)] = '\0';
	CHECK_EQ_U64(format_header(&fmt, line + 512), 0);
	return line;
}

static void test_json(void)
{
	struct event event = ipv4_event();
	char plain[FORMAT_LINE_MAX];

	event.ts_ns = 1000123456789ull;
	event.outcome = CONNECT_FAILED;
	event.error = ECONNREFUSED;
	/* -x, -t and the others change nothing: every field is there. */
	CHECK_STR(render_json("connect", &event, 0),
		  "{\"time_ns\":1000123456789,\"time\":\"2026-11-22T07:30:00.123456789Z\","
		  "\"event\":\"connect\",\"pid\":4242,\"comm\":\"curl\",\"ppid\":1,"
		  "\"pcomm\":\"systemd\",\"ip\":4,\"saddr\":\"192.0.2.1\",\"sport\":40001,"
		  "\"daddr\":\"198.51.100.7\",\"dport\":443,\"latency_ms\":1.234,\"uid\":1000,"
		  "\"cgroup_id\":8123,\"cgroup\":null,\"unit\":null,\"container_id\":null,"
		  "\"k8s_namespace\":null,\"k8s_pod\":null,\"k8s_container\":null,"
		  "\"result\":\"ECONNREFUSED\"}\n");
	strcpy(plain, line);
	CHECK_STR(render_json("connect", &event, COLUMN_EXTENDED | COLUMN_TIMESTAMP | COLUMN_LPORT),
		  plain);
	event.outcome = CONNECT_UNSENT;
	event.error = 0;
	event.flags = 0;
	CHECK(strstr(render_json("connect", &event, 0),
		     "\"sport\":40001,\"daddr\":\"198.51.100.7\",\"dport\":443,\"latency_ms\":null,"
		     "\"uid\":1000,") != NULL);
	CHECK(strstr(line, "\"k8s_container\":null,\"result\":\"UNSENT\"}\n") != NULL);
	event = ipv6_event();
	event.flags = 0;
	memcpy(event.task.comm, "\x1b[2J\a\n\"\\\xff", 10);
	CHECK(strstr(render_json("connect", &event, 0),
		     "\"comm\":\"\\u001b[2J\\u0007\\u000a\\\"\\\\\\u00ff\",\"ppid\":1,"
		     "\"pcomm\":\"systemd\",\"ip\":6,"
		     "\"saddr\":\"2001:db8:1234:5678:9abc:def0:1234:5678\",") != NULL);
	CHECK(strstr(line, "\"latency_ms\":null,") != NULL);
	event = accepted_event();
	CHECK(strstr(render_json("accept", &event, 0),
		     "\"event\":\"accept\",\"pid\":4242,\"comm\":\"nginx\",\"ppid\":1,"
		     "\"pcomm\":\"systemd\",\"ip\":4,"
		     "\"raddr\":\"198.51.100.7\",\"rport\":51234,\"laddr\":\"192.0.2.1\","
		     "\"lport\":8080,\"uid\":1000,\"queued_ms\":12.345,\"backlog\":3,"
		     "\"backlog_max\":128,\"cgroup_id\":8123,") != NULL);
	event.flags = EVENT_NO_TASK;
	event.outcome = ACCEPT_REFUSED;
	memset(&event.task, 0, sizeof(event.task));
	CHECK(strstr(render_json("accept", &event, 0),
		     "\"pid\":null,\"comm\":null,\"ppid\":null,\"pcomm\":null,\"ip\":4,") != NULL);
	CHECK(strstr(line, "\"uid\":null,\"queued_ms\":null,\"backlog\":null,"
			   "\"backlog_max\":null,\"cgroup_id\":null,\"cgroup\":null,\"unit\":null,"
			   "\"container_id\":null,\"k8s_namespace\":null,\"k8s_pod\":null,"
			   "\"k8s_container\":null,\"result\":\"REFUSED\"}\n") != NULL);
}

/* -e and -I: who made the connection, from its parent to its pod. */
static const char *render_named(const struct event *event, const struct identity *identity,
				unsigned int flags)
{
	struct formatter fmt = formatter_of("connect", flags);

	fmt.start_ns = 0;
	line[format_event_named(&fmt, event, identity, line)] = '\0';
	return line;
}

static void test_identity_columns(void)
{
	static const char id[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	struct event event = ipv4_event();
	struct identity identity = { .cgroup = "/kubepods.slice/x.slice/cri-containerd-0123.scope",
				     .unit = "cri-containerd-0123.scope",
				     .container_id = id,
				     .k8s_namespace = "shop",
				     .k8s_pod = "web-7d4b9",
				     .k8s_container = "nginx" };
	char long_path[FORMAT_CGROUP_MAX + 2];

	CHECK_STR(header(COLUMN_PARENT | COLUMN_IDENTITY),
		  "PID     COMM             PPID    PCOMM            IP SADDR                      "
		  "             DADDR                                   DPORT LAT(ms)  IDENTITY\n");
	CHECK_STR(render_named(&event, &identity, COLUMN_PARENT | COLUMN_IDENTITY),
		  "4242    curl             1       systemd          4  192.0.2.1                  "
		  "             198.51.100.7                            443   1.234    "
		  "shop/web-7d4b9/nginx\n");
	/* The most specific name known: the pod, its container's ID, the unit, the path. */
	identity.k8s_container = NULL;
	CHECK(strstr(render_named(&event, &identity, COLUMN_IDENTITY), " shop/web-7d4b9\n"));
	identity.k8s_namespace = identity.k8s_pod = NULL;
	CHECK(strstr(render_named(&event, &identity, COLUMN_IDENTITY), " 0123456789ab\n"));
	identity.container_id = NULL;
	identity.unit = "nginx.service";
	CHECK(strstr(render_named(&event, &identity, COLUMN_IDENTITY), " nginx.service\n"));
	identity.unit = NULL;
	CHECK(strstr(render_named(&event, &identity, COLUMN_IDENTITY),
		     " /kubepods.slice/x.slice/cri-containerd-0123.scope\n"));
	/* A cgroup gone before its line: its ID. */
	CHECK(strstr(render_named(&event, NULL, COLUMN_IDENTITY), " cgroup:8123\n"));
	/* Anyone with a cgroup of their own names its directories. */
	identity.cgroup = "/a\x1b[2J\nb";
	CHECK(strstr(render_named(&event, &identity, COLUMN_IDENTITY), " /a\\x1b[2J\\x0ab\n"));
	CHECK(strstr(render_named(&event, &identity, FORMAT_JSON),
		     "\"cgroup_id\":8123,\"cgroup\":\"/a\\u001b[2J\\u000ab\",\"unit\":null,"));
	/* Too long to show whole: unknown, not cut into another cgroup's name. */
	memset(long_path, 'a', sizeof(long_path) - 1);
	long_path[0] = '/';
	long_path[sizeof(long_path) - 1] = '\0';
	identity.cgroup = long_path;
	CHECK(strstr(render_named(&event, &identity, FORMAT_JSON), "\"cgroup\":null,"));
	CHECK(strstr(render_named(&event, &identity, COLUMN_IDENTITY), " cgroup:8123\n"));
	/* Every key, in JSON. */
	identity = (struct identity){ .cgroup = "/system.slice/docker-0123.scope",
				      .unit = "docker-0123.scope",
				      .container_id = id,
				      .k8s_namespace = "shop",
				      .k8s_pod = "web-7d4b9",
				      .k8s_container = "nginx" };
	CHECK(strstr(
		render_named(&event, &identity, FORMAT_JSON),
		"\"uid\":1000,\"cgroup_id\":8123,\"cgroup\":\"/system.slice/docker-0123.scope\","
		"\"unit\":\"docker-0123.scope\",\"container_id\":\"0123456789abcdef0123456789"
		"abcdef0123456789abcdef0123456789abcdef\",\"k8s_namespace\":\"shop\","
		"\"k8s_pod\":\"web-7d4b9\",\"k8s_container\":\"nginx\",\"result\":"));
	/* No process, no identity: accept -f's lines. */
	event.flags = EVENT_NO_TASK;
	CHECK(strstr(render_named(&event, &identity, COLUMN_PARENT | COLUMN_IDENTITY),
		     "-       -                -       -                4  "));
}

/* TIME is the local wall clock of the event: here, in UTC, 1 h 2 min 3 s after midnight. */
static void test_clock(void)
{
	struct formatter fmt = formatter_of("accept", COLUMN_CLOCK);
	struct event event = accepted_event();

	setenv("TZ", "UTC", 1);
	tzset();
	format_start(&fmt);
	fmt.realtime_offset_ns = 0;
	event.ts_ns = (86400ull * 20000 + 3723) * 1000000000ull + 999999999;
	line[format_event(&fmt, &event, line)] = '\0';
	CHECK(strncmp(line, "01:02:03 4242 ", 14) == 0);
	/* The next second, and a cached one. */
	event.ts_ns += 1;
	line[format_event(&fmt, &event, line)] = '\0';
	CHECK(strncmp(line, "01:02:04 ", 9) == 0);
	line[format_event(&fmt, &event, line)] = '\0';
	CHECK(strncmp(line, "01:02:04 ", 9) == 0);
}

int main(void)
{
	RUN(test_default_header);
	RUN(test_ipv4_line);
	RUN(test_ipv6_full_and_aligned);
	RUN(test_timestamp);
	RUN(test_extended);
	RUN(test_results);
	RUN(test_unsent);
	RUN(test_lport);
	RUN(test_hostile_comm);
	RUN(test_ipv4_extremes);
	RUN(test_numbers_as_printf);
	RUN(test_latency_rounding);
	RUN(test_accept_columns);
	RUN(test_identity_columns);
	RUN(test_accept_unknowns);
	RUN(test_clock);
	RUN(test_json);
	return CHECK_RESULT();
}
