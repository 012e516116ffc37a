// SPDX-License-Identifier: GPL-2.0-only
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/types.h>
#include "../bpf/event.h"
#include "identity.h"
#include "metrics.h"

#define TABLE_FIRST_SIZE 64
/* A label set dropped for want of events is looked for once a minute. */
#define EXPIRY_PERIOD_NS (60 * 1000000000ull)
/* A series key's identity: none known, or the label set was folded into "other". */
#define IDENTITY_NONE 0
/* What tells a family's series apart; no padding, so that it hashes and compares as bytes. */
struct series_key {
	__u8 daddr[16];
	__u32 identity; /* index + 1 in metrics->identities, or IDENTITY_NONE */
	__s32 error;
	__u16 family; /* index in metrics->families */
	__u16 address_family;
	__u16 lport;
	__u16 dport;
	__u8 outcome;
	__u8 other; /* folded: the unbounded labels read "other" */
	__u8 __pad[6];
};
/* Hashed a word at a time. */
_Static_assert(sizeof(struct series_key) % sizeof(__u64) == 0, "series_key: whole words");

struct metric_series {
	struct series_key key;
	__u64 last_ns; /* the last event it counted */
	__u64 count;   /* a counter's value, a histogram's _count */
	/* The sum, in whole seconds and the nanoseconds beyond: in nanoseconds alone, 50,000
	 * accepts a second that wait 100 ms would wrap it within two months. */
	__u64 sum_s;
	__u32 sum_ns;
	__u64 buckets[METRIC_BUCKETS_MAX + 1]; /* not cumulative; the last is +Inf's */
};

static void metric_text_fraction(struct metric_text *text, __u32 ns);

/* A task's identity as labels, written once: unit="x",pod="y". Shared by series. */
struct metric_identity {
	char *labels;
	size_t refs;
};

void metrics_init(struct metrics *metrics, const struct metric_family *families,
		  unsigned int nr_families, unsigned int labels, size_t max_series, __u64 ttl_ns)
{
	*metrics = (struct metrics){
		.families = families,
		.nr_families = nr_families,
		.labels = labels,
		.max_series = max_series,
		.ttl_ns = ttl_ns,
	};
}

/* The exposition lines a label set of this family takes. */
static size_t lines_of(const struct metric_family *family)
{
	return family->type == METRIC_HISTOGRAM ? family->nr_buckets + 3 : 1;
}

/*
 * A word at a time, each mixed in by a multiply and a shift (MurmurHash3's finalizer
 * constant): a byte at a time (FNV-1a) took half of serve's time under a storm.
 */
static size_t hash_of(const struct series_key *key)
{
	__u64 words[sizeof(*key) / sizeof(__u64)], hash = 0x9e3779b97f4a7c15ull;

	memcpy(words, key, sizeof(words));
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		hash = (hash ^ words[i]) * 0xff51afd7ed558ccdull;
		hash ^= hash >> 32;
	}
	return hash;
}

/* The key's slot: its series' index + 1, or 0 where it would go. */
static __u32 *slot_of(const struct metrics *metrics, const struct series_key *key)
{
	size_t mask = metrics->table_size - 1, i = hash_of(key) & mask;

	while (metrics->table[i] &&
	       memcmp(&metrics->series[metrics->table[i] - 1].key, key, sizeof(*key)))
		i = (i + 1) & mask;
	return &metrics->table[i];
}

/* Indexes every series anew in a table of this size: after growth, or expiry. */
static bool rebuild_table(struct metrics *metrics, size_t size)
{
	__u32 *table = calloc(size, sizeof(*table));

	if (!table)
		return false;
	free(metrics->table);
	metrics->table = table;
	metrics->table_size = size;
	for (size_t i = 0; i < metrics->nr_series; i++)
		*slot_of(metrics, &metrics->series[i].key) = i + 1;
	return true;
}

static bool make_room(struct metrics *metrics)
{
	if (metrics->nr_series == metrics->series_room) {
		size_t room = metrics->series_room ? metrics->series_room * 2 : TABLE_FIRST_SIZE;
		struct metric_series *series = reallocarray(metrics->series, room, sizeof(*series));

		if (!series)
			return false;
		metrics->series = series;
		metrics->series_room = room;
	}
	if ((metrics->nr_series + 1) * 2 > metrics->table_size)
		return rebuild_table(metrics, metrics->table_size ? metrics->table_size * 2
								  : (size_t)TABLE_FIRST_SIZE * 2);
	return true;
}

static void put_label(struct metric_text *text, bool *first, const char *name)
{
	metric_text_str(text, *first ? "" : ",");
	metric_text_str(text, name);
	metric_text_str(text, "=\"");
	*first = false;
}

/* An identity's labels, escaped; NULL when it names nothing (or no memory). */
static char *identity_labels(const struct identity *identity)
{
	/*
	 * Pods' containers restart under new IDs: the names stay, so they are the labels.
	 * A container's unit is only its ID in a wrapper (docker-ID.scope): left out too.
	 */
	bool k8s = identity->k8s_pod && identity->k8s_container;
	const struct {
		const char *name, *value;
	} labels[] = {
		{ "unit", identity->container_id ? NULL : identity->unit },
		{ "container_id", k8s ? NULL : identity->container_id },
		{ "namespace", identity->k8s_namespace },
		{ "pod", identity->k8s_pod },
		{ "container", identity->k8s_container },
	};
	struct metric_text text = {};
	bool first = true;

	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
		if (!labels[i].value)
			continue;
		put_label(&text, &first, labels[i].name);
		metric_text_label_value(&text, labels[i].value);
		metric_text_str(&text, "\"");
	}
	if (text.failed || !text.len) {
		free(text.data);
		return NULL;
	}
	return text.data;
}

/* The identity's index + 1, interned; IDENTITY_NONE when it names nothing. */
static __u32 intern_identity(struct metrics *metrics, const struct identity *identity)
{
	char *labels = identity ? identity_labels(identity) : NULL;

	if (!labels)
		return IDENTITY_NONE;
	for (size_t i = 0; i < metrics->nr_identities; i++) {
		if (!strcmp(metrics->identities[i].labels, labels)) {
			free(labels);
			return i + 1;
		}
	}
	if (metrics->nr_identities == metrics->identities_room) {
		size_t room = metrics->identities_room ? metrics->identities_room * 2 : 16;
		struct metric_identity *identities =
			reallocarray(metrics->identities, room, sizeof(*identities));

		if (!identities) {
			free(labels);
			return IDENTITY_NONE;
		}
		metrics->identities = identities;
		metrics->identities_room = room;
	}
	metrics->identities[metrics->nr_identities] = (struct metric_identity){ .labels = labels };
	return ++metrics->nr_identities;
}

static struct series_key key_of(const struct metrics *metrics, unsigned int family,
				const struct event *event, __u32 identity)
{
	unsigned int labels = metrics->families[family].labels & metrics->labels;
	struct series_key key = { .family = family };

	if (labels & METRIC_LABEL_RESULT) {
		const struct event_names *names = metrics->families[family].names;

		key.outcome = event->outcome;
		/* The error tells results apart only where RESULT names it. */
		if (event->outcome < FORMAT_OUTCOMES_MAX && names->outcomes[event->outcome] &&
		    !*names->outcomes[event->outcome])
			key.error = event->error;
	}
	if (labels & METRIC_LABEL_LPORT)
		key.lport = event->lport;
	if (labels & METRIC_LABEL_DADDR) {
		key.address_family = event->family;
		memcpy(key.daddr, event->raddr, sizeof(key.daddr));
	}
	if (labels & METRIC_LABEL_DPORT)
		key.dport = event->rport;
	if (labels & METRIC_LABEL_IDENTITY)
		key.identity = identity;
	return key;
}

/* The same label set with every unbounded label read as "other". */
static struct series_key folded(const struct series_key *key)
{
	return (struct series_key){
		.family = key->family,
		.outcome = key->outcome,
		.error = key->error,
		.other = 1,
	};
}

/*
 * The series of this label set, made if need be; past max_series, its family's "other"
 * series for the same result. NULL when there is no memory.
 */
static struct metric_series *series_of(struct metrics *metrics, struct series_key key,
				       bool *folded_one)
{
	const struct metric_family *family = &metrics->families[key.family];
	struct metric_series *series;
	__u32 *slot;

	if (!make_room(metrics))
		return NULL;
	slot = slot_of(metrics, &key);
	if (*slot)
		return &metrics->series[*slot - 1];
	/* "other" series are made whatever the limit: there is one per family and result. */
	if (!key.other && metrics->lines + lines_of(family) > metrics->max_series) {
		*folded_one = true;
		key = folded(&key);
		slot = slot_of(metrics, &key);
		if (*slot)
			return &metrics->series[*slot - 1];
	}
	series = &metrics->series[metrics->nr_series++];
	*series = (struct metric_series){ .key = key };
	*slot = metrics->nr_series;
	metrics->lines += lines_of(family);
	if (key.identity)
		metrics->identities[key.identity - 1].refs++;
	return series;
}

static unsigned int bucket_of(const struct metric_family *family, __u64 ns)
{
	unsigned int i = 0;

	while (i < family->nr_buckets && ns > family->buckets[i].ns)
		i++;
	return i;
}

static void count(struct metric_series *series, const struct metric_family *family,
		  const struct event *event, __u64 now_ns)
{
	series->last_ns = now_ns;
	series->count++;
	if (family->type != METRIC_HISTOGRAM)
		return;
	series->sum_ns += event->duration_ns % 1000000000;
	series->sum_s += event->duration_ns / 1000000000 + series->sum_ns / 1000000000;
	series->sum_ns %= 1000000000;
	series->buckets[bucket_of(family, event->duration_ns)]++;
}

static bool counts(const struct metric_family *family, const struct event *event)
{
	/* An outcome past the mask is none a family counts (a kernel bug, say). */
	if (family->kind != event->kind || event->outcome >= 32 ||
	    !(family->outcomes & (1u << event->outcome)))
		return false;
	return family->type != METRIC_HISTOGRAM || (event->flags & EVENT_HAS_DURATION);
}

#define RECENT_NS 1000000000ull

/*
 * The event's identity, interned: from the recent cgroups while still good, else asked
 * of identify(), once per cgroup and second.
 */
static __u32 interned_identity(struct metrics *metrics, const struct event *event,
			       metrics_identify_fn identify, void *ctx, __u64 now_ns)
{
	typeof(metrics->recent[0]) *recent =
		&metrics->recent[event->task.cgroup_id % METRICS_RECENT_CGROUPS];

	if (!(event->flags & EVENT_NO_TASK) && recent->cgroup_id == event->task.cgroup_id &&
	    now_ns < recent->until_ns)
		return recent->identity;
	recent->identity = intern_identity(metrics, identify(ctx, event));
	/* A cgroup not named yet (just made, say) is asked again at its next event. */
	recent->cgroup_id = recent->identity ? event->task.cgroup_id : 0;
	recent->until_ns = now_ns + RECENT_NS;
	return recent->identity;
}

void metrics_add(struct metrics *metrics, const struct event *event, metrics_identify_fn identify,
		 void *ctx, __u64 now_ns)
{
	__u32 identity_index = IDENTITY_NONE;
	bool interned = false, folded_one = false;

	for (unsigned int i = 0; i < metrics->nr_families; i++) {
		const struct metric_family *family = &metrics->families[i];
		struct metric_series *series;

		if (!counts(family, event))
			continue;
		if ((family->labels & METRIC_LABEL_IDENTITY) && !interned) {
			identity_index = interned_identity(metrics, event, identify, ctx, now_ns);
			interned = true;
		}
		series = series_of(metrics, key_of(metrics, i, event, identity_index), &folded_one);
		if (series)
			count(series, family, event, now_ns);
		else
			metrics->uncounted++;
	}
	metrics->folded += folded_one;
}

/*
 * Identities no series names: those of expired series, and those interned for events
 * that were folded into "other". Each expiry period frees them.
 */
static bool unreferenced_identities(const struct metrics *metrics)
{
	for (size_t i = 0; i < metrics->nr_identities; i++)
		if (!metrics->identities[i].refs)
			return true;
	return false;
}

/* Identities no series names any more are freed, and the rest renumbered. */
static void compact_identities(struct metrics *metrics)
{
	__u32 *renumbered = calloc(metrics->nr_identities + 1, sizeof(*renumbered));
	size_t kept = 0;

	if (!renumbered)
		return; /* they stay: freed at the next expiry */
	for (size_t i = 0; i < metrics->nr_identities; i++) {
		if (!metrics->identities[i].refs) {
			free(metrics->identities[i].labels);
			continue;
		}
		metrics->identities[kept] = metrics->identities[i];
		renumbered[i + 1] = ++kept;
	}
	metrics->nr_identities = kept;
	for (size_t i = 0; i < metrics->nr_series; i++)
		metrics->series[i].key.identity = renumbered[metrics->series[i].key.identity];
	free(renumbered);
}

void metrics_expire(struct metrics *metrics, __u64 now_ns)
{
	size_t kept = 0;

	if (!metrics->ttl_ns || now_ns < metrics->next_expiry_ns)
		return;
	metrics->next_expiry_ns = now_ns + EXPIRY_PERIOD_NS;
	for (size_t i = 0; i < metrics->nr_series; i++) {
		struct metric_series *series = &metrics->series[i];

		if (now_ns - series->last_ns < metrics->ttl_ns) {
			metrics->series[kept++] = *series;
			continue;
		}
		metrics->lines -= lines_of(&metrics->families[series->key.family]);
		if (series->key.identity)
			metrics->identities[series->key.identity - 1].refs--;
	}
	if (kept == metrics->nr_series && !unreferenced_identities(metrics))
		return;
	metrics->nr_series = kept;
	compact_identities(metrics);
	/* The identities were renumbered. */
	memset(metrics->recent, 0, sizeof(metrics->recent));
	/* Emptier than before: the same table holds them, indexed anew. */
	memset(metrics->table, 0, metrics->table_size * sizeof(*metrics->table));
	for (size_t i = 0; i < metrics->nr_series; i++)
		*slot_of(metrics, &metrics->series[i].key) = i + 1;
}

static void put_address(struct metric_text *text, __u16 family, const __u8 *addr)
{
	char buf[64];

	*format_address(buf, family, addr) = '\0';
	metric_text_str(text, buf);
}

static void put_result(struct metric_text *text, const struct metric_family *family,
		       const struct series_key *key)
{
	struct event event = { .outcome = key->outcome, .error = key->error };
	char buf[FORMAT_RESULT_MAX];

	*format_result(buf, family->names, &event) = '\0';
	metric_text_str(text, buf);
}

/* A number label, or "other" for a folded series. */
static void put_port(struct metric_text *text, bool *first, const char *name, __u16 port,
		     bool other)
{
	put_label(text, first, name);
	if (other)
		metric_text_str(text, "other");
	else
		metric_text_u64(text, port);
	metric_text_str(text, "\"");
}

/* The series' labels, without braces; le, for a bucket, comes after. */
static void put_labels(struct metric_text *text, const struct metrics *metrics,
		       const struct metric_series *series, bool *first)
{
	const struct series_key *key = &series->key;
	const struct metric_family *family = &metrics->families[key->family];
	unsigned int labels = family->labels & metrics->labels;

	if (labels & METRIC_LABEL_RESULT) {
		put_label(text, first, "result");
		put_result(text, family, key);
		metric_text_str(text, "\"");
	}
	if (labels & METRIC_LABEL_LPORT)
		put_port(text, first, "lport", key->lport, key->other);
	if (labels & METRIC_LABEL_DADDR) {
		put_label(text, first, "daddr");
		if (key->other)
			metric_text_str(text, "other");
		else
			put_address(text, key->address_family, key->daddr);
		metric_text_str(text, "\"");
	}
	if (labels & METRIC_LABEL_DPORT)
		put_port(text, first, "dport", key->dport, key->other);
	if ((labels & METRIC_LABEL_IDENTITY) && key->other) {
		put_label(text, first, "unit");
		metric_text_str(text, "other\"");
	} else if (key->identity) {
		metric_text_str(text, *first ? "" : ",");
		metric_text_str(text, metrics->identities[key->identity - 1].labels);
		*first = false;
	}
}

/* name{labels[,le="..."]} value */
static void put_sample(struct metric_text *text, const struct metrics *metrics,
		       const struct metric_series *series, const char *name, const char *suffix,
		       const char *le)
{
	size_t start;
	bool first = true;

	metric_text_str(text, name);
	metric_text_str(text, suffix);
	start = text->len;
	metric_text_str(text, "{");
	put_labels(text, metrics, series, &first);
	if (le) {
		put_label(text, &first, "le");
		metric_text_str(text, le);
		metric_text_str(text, "\"");
	}
	/* No label at all: no braces. */
	if (first && !text->failed)
		text->len = start;
	metric_text_str(text, first ? " " : "} ");
}

static void write_histogram(struct metric_text *text, const struct metrics *metrics,
			    const struct metric_series *series)
{
	const struct metric_family *family = &metrics->families[series->key.family];
	__u64 cumulative = 0;

	for (unsigned int i = 0; i <= family->nr_buckets; i++) {
		cumulative += series->buckets[i];
		put_sample(text, metrics, series, family->name, "_bucket",
			   i < family->nr_buckets ? family->buckets[i].le : "+Inf");
		metric_text_u64(text, cumulative);
		metric_text_str(text, "\n");
	}
	put_sample(text, metrics, series, family->name, "_sum", NULL);
	metric_text_u64(text, series->sum_s);
	metric_text_fraction(text, series->sum_ns);
	metric_text_str(text, "\n");
	put_sample(text, metrics, series, family->name, "_count", NULL);
	metric_text_u64(text, series->count);
	metric_text_str(text, "\n");
}

void metrics_write(const struct metrics *metrics, struct metric_text *text)
{
	for (unsigned int f = 0; f < metrics->nr_families; f++) {
		const struct metric_family *family = &metrics->families[f];

		metric_text_family(text, family->name, family->help, family->type);
		for (size_t i = 0; i < metrics->nr_series; i++) {
			const struct metric_series *series = &metrics->series[i];

			if (series->key.family != f)
				continue;
			if (family->type == METRIC_HISTOGRAM) {
				write_histogram(text, metrics, series);
				continue;
			}
			put_sample(text, metrics, series, family->name, "", NULL);
			metric_text_u64(text, series->count);
			metric_text_str(text, "\n");
		}
	}
}

void metrics_free(struct metrics *metrics)
{
	for (size_t i = 0; i < metrics->nr_identities; i++)
		free(metrics->identities[i].labels);
	free(metrics->identities);
	free(metrics->series);
	free(metrics->table);
	memset(metrics, 0, sizeof(*metrics));
}

static bool text_room(struct metric_text *text, size_t len)
{
	size_t room;
	char *data;

	if (text->failed)
		return false;
	if (text->len + len + 1 <= text->room)
		return true;
	room = text->room ? text->room : 4096;
	while (room < text->len + len + 1)
		room *= 2;
	data = realloc(text->data, room);
	if (!data) {
		text->failed = true;
		return false;
	}
	text->data = data;
	text->room = room;
	return true;
}

static void text_append(struct metric_text *text, const char *bytes, size_t len)
{
	if (!text_room(text, len))
		return;
	memcpy(text->data + text->len, bytes, len);
	text->len += len;
	text->data[text->len] = '\0';
}

void metric_text_str(struct metric_text *text, const char *str)
{
	text_append(text, str, strlen(str));
}

void metric_text_u64(struct metric_text *text, __u64 value)
{
	char buf[24];
	size_t len = format_u64(buf, value) - buf;

	text_append(text, buf, len);
}

/* ".0015" for 1500000 ns: nothing for 0, no trailing zero. */
static void metric_text_fraction(struct metric_text *text, __u32 ns)
{
	char fraction[10];
	int digits = 9;

	if (!ns)
		return;
	for (int i = digits - 1; i >= 0; i--, ns /= 10)
		fraction[i] = '0' + ns % 10;
	while (fraction[digits - 1] == '0')
		digits--;
	text_append(text, ".", 1);
	text_append(text, fraction, digits);
}

void metric_text_seconds(struct metric_text *text, __u64 ns)
{
	metric_text_u64(text, ns / 1000000000);
	metric_text_fraction(text, ns % 1000000000);
}

/* The length of the valid UTF-8 sequence at p, 1 to 4; 0 for an invalid one. */
static size_t utf8_length(const unsigned char *p)
{
	unsigned int code, min;
	size_t len;

	if (*p < 0x80)
		return 1;
	if ((*p & 0xe0) == 0xc0)
		len = 2, code = *p & 0x1f, min = 0x80;
	else if ((*p & 0xf0) == 0xe0)
		len = 3, code = *p & 0x0f, min = 0x800;
	else if ((*p & 0xf8) == 0xf0)
		len = 4, code = *p & 0x07, min = 0x10000;
	else
		return 0;
	/* A NUL is no continuation byte: the loop stops at the string's end. */
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		code = code << 6 | (p[i] & 0x3f);
	}
	if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))
		return 0;
	return len;
}

void metric_text_label_value(struct metric_text *text, const char *value)
{
	static const char hex[] = "0123456789abcdef";

	/*
	 * The format's escapes: \\, \" and \n. Others chose these bytes, and one invalid
	 * UTF-8 sequence fails the whole scrape: such a byte, or a control character, is
	 * written as the text \xHH, as the formatter shows it.
	 */
	for (const unsigned char *p = (const unsigned char *)value; *p;) {
		char escaped[5] = { '\\', '\\', 'x', hex[*p >> 4], hex[*p & 15] };
		size_t len = utf8_length(p);

		if (*p == '\\' || *p == '"') {
			text_append(text, "\\", 1);
			text_append(text, (const char *)p, 1);
		} else if (*p == '\n') {
			text_append(text, "\\n", 2);
		} else if (!len || *p < 0x20 || *p == 0x7f) {
			text_append(text, escaped, sizeof(escaped));
		} else {
			text_append(text, (const char *)p, len);
			p += len;
			continue;
		}
		p++;
	}
}

void metric_text_family(struct metric_text *text, const char *name, const char *help,
			enum metric_type type)
{
	static const char *const types[] = {
		[METRIC_COUNTER] = "counter",
		[METRIC_GAUGE] = "gauge",
		[METRIC_HISTOGRAM] = "histogram",
	};

	metric_text_str(text, "# HELP ");
	metric_text_str(text, name);
	metric_text_str(text, " ");
	metric_text_str(text, help);
	metric_text_str(text, "\n# TYPE ");
	metric_text_str(text, name);
	metric_text_str(text, " ");
	metric_text_str(text, types[type]);
	metric_text_str(text, "\n");
}

void metric_text_sample(struct metric_text *text, const char *name, __u64 value)
{
	metric_text_str(text, name);
	metric_text_str(text, " ");
	metric_text_u64(text, value);
	metric_text_str(text, "\n");
}
