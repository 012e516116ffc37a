/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Summaries, instead of a line per attempt: -c counts attempts per source,
 * destination and port, with failures and latency; -H draws a log2 histogram of the
 * latency. Both are printed at exit, and every interval with -i (then started afresh).
 */
#ifndef TCPTRACE_SUMMARY_H
#define TCPTRACE_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct event;
struct formatter;
struct output;

/* Microsecond slots: 0 -> 1, 2 -> 3, 4 -> 7, ... up to 2^63. */
#define SUMMARY_SLOTS 64

/* What tells -c's rows apart; no padding, so that it hashes and compares as bytes. */
struct summary_key {
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 family; /* 0: a free slot */
	__u16 dport;
};

struct summary_row {
	struct summary_key key;
	__u64 attempts;
	__u64 failed;	   /* ended other than ESTABLISHED */
	__u64 established; /* the latency figures are theirs */
	__u64 latency_sum_ns;
	__u64 latency_min_ns;
	__u64 latency_max_ns;
};

/*
 * What the command calls what its summaries count: a column and a JSON key for the
 * attempts, and for the successes, whose latency they gather (set in cmd/, by command).
 */
struct summary_labels {
	const char *attempts_header;
	const char *attempts_key;
	const char *successes_key;
	const char *successes_text;
};

struct summary {
	const struct summary_labels *labels;
	bool count;	/* -c */
	bool histogram; /* -H */
	/* -j: each summary is one JSON object, its time written by this formatter. */
	bool json;
	struct formatter *fmt;
	__u64 since_ns; /* CLOCK_MONOTONIC start of what is gathered */
	/* -c: an open-addressing table, size a power of two, at most half full. */
	struct summary_row *rows;
	size_t nr_rows;
	size_t size;
	__u64 uncounted; /* attempts no row could be made for: no memory */
	/* -H: established attempts' latency. */
	__u64 slots[SUMMARY_SLOTS];
};

/*
 * A summary of -c's counts, -H's histogram or both, gathered from fmt's start and
 * written through fmt (one JSON object each with -j).
 */
void summary_init(struct summary *summary, struct formatter *fmt,
		  const struct summary_labels *labels, bool count, bool histogram);
/* The log2 slot of a latency in microseconds: 0 for 0 and 1, then floor(log2). */
unsigned int summary_slot(__u64 latency_us);
void summary_add(struct summary *summary, const struct event *event);
/*
 * Writes what was gathered since the last print, as of now_ns (CLOCK_MONOTONIC), and
 * starts afresh; in text, at the end of an interval (-i), a blank line follows.
 */
void summary_print(struct summary *summary, struct output *out, __u64 now_ns, bool interval);
void summary_free(struct summary *summary);

#endif /* TCPTRACE_SUMMARY_H */
