/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Events counted as Prometheus metrics, and written in its text exposition format
 * (version 0.0.4). The families come from cmd/: each says which events it counts, by
 * kind and outcome, and which labels tell its series apart. Counters and histograms
 * keep exact integer counts; nothing is sampled.
 *
 * The series are bounded twice: at most max_series exposition lines (a histogram's label
 * set costs a line per bucket, plus _sum and _count), beyond which new label sets fold
 * into one "other" series per family and result; and a label set that no event touched
 * for ttl_ns is dropped, so that units, pods and peers that come and go over months
 * leave nothing behind.
 */
#ifndef TCPTRACE_METRICS_H
#define TCPTRACE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "format.h"

struct event;
struct identity;

enum metric_type {
	METRIC_COUNTER,
	METRIC_GAUGE,
	METRIC_HISTOGRAM,
};

/* The labels a family's series may carry, written in this order. */
enum metric_label {
	METRIC_LABEL_RESULT = 1 << 0, /* the outcome, named as RESULT names it */
	METRIC_LABEL_LPORT = 1 << 1,
	METRIC_LABEL_DADDR = 1 << 2, /* the remote address and port: opt-in, unbounded */
	METRIC_LABEL_DPORT = 1 << 3,
	/* The task's unit, container_id, namespace, pod and container, where known. */
	METRIC_LABEL_IDENTITY = 1 << 4,
};

/* A histogram's upper bounds: `le` as written, and the same in nanoseconds. */
#define METRIC_BUCKETS_MAX 24
struct metric_bucket {
	const char *le;
	__u64 ns;
};

/* A family of series that counts events. */
struct metric_family {
	const char *name;
	const char *help;
	enum metric_type type; /* METRIC_COUNTER or METRIC_HISTOGRAM */
	unsigned int labels;   /* enum metric_label */
	/* What it counts: events of this kind (enum event_kind) whose outcome is in outcomes
	 * (a bit per outcome); a histogram, those with a duration, observed in seconds. */
	__u8 kind;
	unsigned int outcomes;
	const struct event_names *names; /* RESULT's names for this kind */
	/* A histogram's finite buckets, in increasing order; +Inf is added. */
	const struct metric_bucket *buckets;
	unsigned int nr_buckets;
};

#define METRICS_RECENT_CGROUPS 256

struct metric_series; /* lib/metrics.c */
struct metric_identity;

struct metrics {
	const struct metric_family *families;
	unsigned int nr_families;
	unsigned int labels; /* labels switched on: the bounded ones and those asked for */
	size_t max_series;   /* exposition lines */
	__u64 ttl_ns;
	/* Open addressing over series indices, size a power of two, at most half full. */
	__u32 *table;
	size_t table_size;
	struct metric_series *series;
	size_t nr_series, series_room;
	size_t lines;	 /* exposition lines the series take */
	__u64 folded;	 /* events counted in an "other" series (in one metric or more) */
	__u64 uncounted; /* events no series could be made for: no memory */
	struct metric_identity *identities; /* their label text, shared by series */
	size_t nr_identities, identities_room;
	/* The last identity each cgroup had, so that an event does not write its labels
	 * again: direct-mapped by cgroup ID, good for a second (a pod is named late). */
	struct {
		__u64 cgroup_id;
		__u64 until_ns;
		__u32 identity;
	} recent[METRICS_RECENT_CGROUPS];
	__u64 next_expiry_ns;
};

/* Text that grows as it is written; on a failed allocation, failed is set and the rest dropped. */
struct metric_text {
	char *data;
	size_t len, room;
	bool failed;
};

/* families lives as long as metrics; labels: the unbounded ones wanted (opt-in). */
void metrics_init(struct metrics *metrics, const struct metric_family *families,
		  unsigned int nr_families, unsigned int labels, size_t max_series, __u64 ttl_ns);
/* Who an event's task is (lib/identity.h): NULL when unknown. */
typedef const struct identity *(*metrics_identify_fn)(void *ctx, const struct event *event);
/*
 * Counts an event in every family that counts it, as of now_ns (CLOCK_MONOTONIC).
 * identify() is asked only when a cgroup's identity is not at hand: at most once per
 * cgroup and second, not per event.
 */
void metrics_add(struct metrics *metrics, const struct event *event, metrics_identify_fn identify,
		 void *ctx, __u64 now_ns);
/* Drops the label sets no event touched for ttl_ns; runs at most once per minute of now_ns. */
void metrics_expire(struct metrics *metrics, __u64 now_ns);
/* Every family, with its series, in exposition format. */
void metrics_write(const struct metrics *metrics, struct metric_text *text);
void metrics_free(struct metrics *metrics);

/* The exposition's pieces, for metrics that are not events'. */
void metric_text_str(struct metric_text *text, const char *str);
void metric_text_u64(struct metric_text *text, __u64 value);
/* Nanoseconds as seconds, exactly: 1500000 -> 0.0015. */
void metric_text_seconds(struct metric_text *text, __u64 ns);
/* A label value others chose: escaped as the format wants, invalid UTF-8 as \\xHH. */
void metric_text_label_value(struct metric_text *text, const char *value);
/* # HELP and # TYPE. */
void metric_text_family(struct metric_text *text, const char *name, const char *help,
			enum metric_type type);
/* A sample without labels: "name value\n". */
void metric_text_sample(struct metric_text *text, const char *name, __u64 value);

#endif /* TCPTRACE_METRICS_H */
