/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Summaries, instead of a line per event: -c counts events per row, keyed by the
 * addresses and port the command chooses (connect: source, destination and port;
 * accept: local address and port), with the duration of the successes; -H draws a log2
 * histogram of that duration. Both are printed at exit, and every interval with -i
 * (then started afresh).
 */
#ifndef TCPTRACE_SUMMARY_H
#define TCPTRACE_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "format.h"
#include "../bpf/event.h"

struct output;

/* Microsecond slots: 0 -> 1, 2 -> 3, 4 -> 7, ... up to 2^63. */
#define SUMMARY_SLOTS 64

/* What tells -c's rows apart; no padding, so that it hashes and compares as bytes. */
#define SUMMARY_KEY_ADDRS 2
struct summary_key {
	__u8 addrs[SUMMARY_KEY_ADDRS][16]; /* in the order of the labels' key columns */
	__u16 family;			   /* 0: a free slot */
	__u16 port;
};

/* A row's counts: one per count column of the labels. */
#define SUMMARY_COUNTS 3

struct summary_row {
	struct summary_key key;
	__u64 events; /* every event of the row, whatever its outcome: the rows' order */
	__u64 counts[SUMMARY_COUNTS];
	__u64 timed; /* successes whose duration is known: the figures below are theirs */
	__u64 duration_sum_ns;
	__u64 duration_min_ns;
	__u64 duration_max_ns;
};

/* A column of what keys the rows: one of the event's addresses, or one of its ports. */
struct summary_key_column {
	enum field field; /* FIELD_LADDR, FIELD_RADDR, FIELD_LPORT or FIELD_RPORT */
	const char *header;
	const char *key; /* in JSON */
};

/* The outcomes a count column counts: a bit each; outcomes from 31 share bit 31. */
#define SUMMARY_OUTCOME(outcome) (1u << ((outcome) < 31 ? (outcome) : 31))
#define SUMMARY_ANY_OUTCOME	 (~0u)
#define SUMMARY_FAILURES	 (~SUMMARY_OUTCOME(OUTCOME_SUCCESS))

struct summary_count_column {
	const char *header;
	const char *key; /* in JSON */
	unsigned int outcomes;
	/* Shown in text when one of these column flags is set (0: always); JSON has the key
	 * always, null when not shown: what the command did not watch is unknown. */
	unsigned int show_if;
};

/*
 * What the command's summaries show, and what it calls them (set in cmd/, by command):
 * the columns that key -c's rows, in order (at most SUMMARY_KEY_ADDRS addresses and one
 * port; the rest FIELD_NONE); the counts, in order (the rest without a header); the
 * duration's minimum, average and maximum; and for -H, what its total counts.
 */
struct summary_labels {
	struct summary_key_column keys[SUMMARY_KEY_ADDRS + 1];
	struct summary_count_column counts[SUMMARY_COUNTS];
	const char *duration_headers[3];
	const char *duration_keys[3];
	const char *timed_key;
	const char *timed_text; /* the total's line, after the number */
};

struct summary {
	const struct summary_labels *labels;
	unsigned int column_flags; /* for the count columns' show_if */
	bool count;		   /* -c */
	bool histogram;		   /* -H */
	/* -j: each summary is one JSON object, its time written by this formatter. */
	bool json;
	struct formatter *fmt;
	__u64 since_ns; /* CLOCK_MONOTONIC start of what is gathered */
	/* -c: an open-addressing table, size a power of two, at most half full. */
	struct summary_row *rows;
	size_t nr_rows;
	size_t size;
	__u64 uncounted; /* events no row could be made for: no memory */
	/* -H: the successes' duration, when known. */
	__u64 slots[SUMMARY_SLOTS];
};

/*
 * A summary of -c's counts, -H's histogram or both, gathered from fmt's start and
 * written through fmt (one JSON object each with -j).
 */
void summary_init(struct summary *summary, struct formatter *fmt,
		  const struct summary_labels *labels, bool count, bool histogram);
/* The log2 slot of a duration in microseconds: 0 for 0 and 1, then floor(log2). */
unsigned int summary_slot(__u64 duration_us);
void summary_add(struct summary *summary, const struct event *event);
/*
 * Writes what was gathered since the last print, as of now_ns (CLOCK_MONOTONIC), and
 * starts afresh; in text, at the end of an interval (-i), a blank line follows.
 */
void summary_print(struct summary *summary, struct output *out, __u64 now_ns, bool interval);
void summary_free(struct summary *summary);

#endif /* TCPTRACE_SUMMARY_H */
