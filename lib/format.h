/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The formatter: one description of a subcommand's columns drives the header, every
 * line, and the JSON keys. A subcommand lists its columns in a table; each names a field
 * of struct event, when it is shown, and its key in JSON.
 */
#ifndef TCPTRACE_FORMAT_H
#define TCPTRACE_FORMAT_H

#include <stddef.h>
#include <linux/types.h>

struct event;

enum field {
	FIELD_NONE,	  /* ends a column table */
	FIELD_TIME_S,	  /* event time, seconds since tracing started */
	FIELD_TIME_CLOCK, /* event time, local wall clock HH:MM:SS */
	FIELD_PID,
	FIELD_COMM,
	FIELD_IP, /* 4 or 6 */
	FIELD_LADDR,
	FIELD_RADDR,
	FIELD_LPORT,
	FIELD_RPORT,
	FIELD_LATENCY_MS, /* connect latency, or accept-queue wait; - when unknown */
	FIELD_UID,
	FIELD_BACKLOG,	   /* accept queue length/limit (JSON: the length); - when unknown */
	FIELD_BACKLOG_MAX, /* its limit: JSON's own column */
	FIELD_RESULT,	   /* the outcome's name (struct event_names) */
	FIELD_PPID,	   /* the parent process */
	FIELD_PCOMM,	   /* its name */
	/* Who the task is, from its cgroup (lib/identity.h); - or null when unknown. */
	FIELD_CGROUP_ID,
	FIELD_CGROUP, /* the path, relative to the cgroup2 mount */
	FIELD_UNIT,
	FIELD_CONTAINER_ID,
	FIELD_K8S_NAMESPACE,
	FIELD_K8S_POD,
	FIELD_K8S_CONTAINER,
	/* The most specific of those: namespace/pod/container, container, unit, cgroup. */
	FIELD_IDENTITY,
};

/* Optional columns, switched on by options; a column with show_if 0 is always shown. */
enum column_flag {
	COLUMN_TIMESTAMP = 1 << 0, /* -t */
	COLUMN_EXTENDED = 1 << 1,  /* -x */
	COLUMN_LPORT = 1 << 2,	   /* -L */
	COLUMN_CLOCK = 1 << 3,	   /* -T */
	COLUMN_FAILED = 1 << 4,	   /* -f: RESULT, for attempts that never reached a process */
	COLUMN_UID = 1 << 5,	   /* -U */
	FORMAT_JSON = 1 << 6,	   /* -j: JSON Lines, every column, instead of the table */
	COLUMN_IDENTITY = 1 << 7,  /* -I: IDENTITY */
	COLUMN_PARENT = 1 << 8,	   /* -e: PPID and PCOMM */
};

/* The fields that need the cgroup named: a formatter showing one needs a resolver. */
#define FORMAT_NEEDS_IDENTITY (FORMAT_JSON | COLUMN_IDENTITY)

struct column {
	enum field field;
	unsigned int width; /* minimum width; the last column is never padded */
	const char *header;
	const char *key;      /* in JSON; NULL for the time columns (JSON has its own) */
	unsigned int show_if; /* shown when any of these flags is set (0: always) */
	unsigned int hide_if; /* ...unless one of these is set */
};

/*
 * What a command calls its events and their outcomes: JSON's "event", and RESULT's
 * names by event->outcome. FORMAT_OUTCOME_ERRNO: a failure, named by its errno
 * (event->error); an outcome without a name prints as E and its number.
 */
#define FORMAT_OUTCOMES_MAX  4
#define FORMAT_OUTCOME_ERRNO ""
struct event_names {
	const char *event;
	const char *outcomes[FORMAT_OUTCOMES_MAX];
};

/* Addresses get the width of the longest IPv6 text, so that mixed tables stay aligned. */
#define FORMAT_ADDR_WIDTH 39

/*
 * A cgroup path longer than this is shown as unknown rather than cut: a cut path would
 * name another cgroup. Real ones are far shorter (Kubernetes': about 200 bytes).
 */
#define FORMAT_CGROUP_MAX 768
/* Longest line the formatter writes: every field at its widest, escaped, in JSON. */
#define FORMAT_LINE_MAX 16384

struct identity;

struct formatter {
	const struct column *columns;
	const struct event_names *names;
	unsigned int flags;	  /* enum column_flag */
	__u64 start_ns;		  /* CLOCK_MONOTONIC origin of FIELD_TIME_S */
	__s64 realtime_offset_ns; /* CLOCK_REALTIME - CLOCK_MONOTONIC, for FIELD_TIME_CLOCK */
	/* FIELD_TIME_CLOCK's last second, so that localtime_r() runs once a second. */
	__s64 clock_second;
	char clock_text[8];
	/* JSON's "time": the UTC date and time of its last second, "YYYY-MM-DDTHH:MM:SS". */
	__s64 utc_second;
	char utc_text[19];
	const struct identity *identity; /* the event being formatted's */
};

/* Sets the time origins to now: TIME(s) counts from here. */
void format_start(struct formatter *fmt);
/* A formatter for a command's columns and names, started now (format_start()). */
void format_init(struct formatter *fmt, const struct column *columns,
		 const struct event_names *names, unsigned int flags);
/*
 * Pieces of a line, for what prints its own tables (lib/summary.c), without printf():
 * each writes at p and returns the end of what it wrote, unterminated. Text; a number;
 * either padded with spaces to |width| (on the right when width < 0, as printf's "%-8s",
 * on the left otherwise); an address as the columns show it (room: INET6_ADDRSTRLEN);
 * nanoseconds as milliseconds with three decimals (room: FORMAT_MS_MAX).
 */
#define FORMAT_MS_MAX 24
char *format_str(char *p, const char *text);
char *format_u64(char *p, __u64 value);
char *format_padded(char *p, const char *text, int width);
char *format_padded_u64(char *p, __u64 value, int width);
char *format_address(char *p, __u16 family, const __u8 *addr);
/*
 * Text others chose, such as a COMM (any process may name itself with escape sequences
 * or newlines): at most max_len bytes, each outside printable ASCII, and the backslash,
 * as \xHH, so that nothing acts on the operator's terminal and the text reads back
 * unambiguously. Up to 4 * max_len bytes; not terminated.
 */
char *format_escaped(char *p, const char *text, size_t max_len);
char *format_ms(char *p, __u64 ns);
/* An event's outcome as RESULT names it (struct event_names); room: FORMAT_RESULT_MAX. */
#define FORMAT_RESULT_MAX 32
char *format_result(char *p, const struct event_names *names, const struct event *event);
/*
 * The start of every JSON object: '{', "time_ns" and "time" for a CLOCK_MONOTONIC
 * moment, and "event"; the object is left open. Room: FORMAT_JSON_HEAD_MAX plus the
 * event's name.
 */
#define FORMAT_JSON_HEAD_MAX 96
char *format_json_head(char *p, struct formatter *fmt, __u64 ts_ns, const char *event);

/* The table's header; nothing in JSON. */
size_t format_header(struct formatter *fmt, char *buf);
/*
 * One event: a line of the table, or a JSON object on a line of its own. Its task's
 * identity, for FORMAT_NEEDS_IDENTITY, is the caller's to find (lib/identity.h): NULL
 * when unknown. The formatter reads no file.
 */
size_t format_event_named(struct formatter *fmt, const struct event *event,
			  const struct identity *identity, char *buf);
/* The same without an identity: every name unknown. */
size_t format_event(struct formatter *fmt, const struct event *event, char *buf);

#endif /* TCPTRACE_FORMAT_H */
