// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include "../bpf/event.h"
#include "format.h"
#include "output.h"
#include "summary.h"

/*
 * Room for the widest line printed here: a JSON row with two IPv6 addresses, two 20-digit
 * counts and three latencies comes to about 290 bytes.
 */
#define SUMMARY_LINE_MAX   512
#define SUMMARY_FIRST_SIZE 64
#define HISTOGRAM_BAR	   40

unsigned int summary_slot(__u64 latency_us)
{
	return latency_us < 2 ? 0 : 63 - __builtin_clzll(latency_us);
}

static struct summary_key key_of(const struct event *event)
{
	struct summary_key key = { .family = event->family, .dport = event->rport };

	memcpy(key.saddr, event->laddr, sizeof(key.saddr));
	memcpy(key.daddr, event->raddr, sizeof(key.daddr));
	return key;
}

/* FNV-1a over the key's bytes. */
static size_t hash_of(const struct summary_key *key)
{
	const __u8 *byte = (const __u8 *)key;
	__u64 hash = 14695981039346656037ull;

	for (size_t i = 0; i < sizeof(*key); i++)
		hash = (hash ^ byte[i]) * 1099511628211ull;
	return hash;
}

/* The key's place in a table of that size: its row, or the free slot where it goes. */
static struct summary_row *slot_of(struct summary_row *rows, size_t size,
				   const struct summary_key *key)
{
	size_t i = hash_of(key) & (size - 1);

	while (rows[i].key.family && memcmp(&rows[i].key, key, sizeof(*key)))
		i = (i + 1) & (size - 1);
	return &rows[i];
}

/* Doubles the table; false when there is no memory for it. */
static bool grow(struct summary *summary)
{
	size_t size = summary->size ? summary->size * 2 : SUMMARY_FIRST_SIZE;
	struct summary_row *rows = calloc(size, sizeof(*rows));

	if (!rows)
		return false;
	for (size_t i = 0; i < summary->size; i++)
		if (summary->rows[i].key.family)
			*slot_of(rows, size, &summary->rows[i].key) = summary->rows[i];
	free(summary->rows);
	summary->rows = rows;
	summary->size = size;
	return true;
}

static struct summary_row *row_of(struct summary *summary, const struct event *event)
{
	struct summary_key key = key_of(event);
	struct summary_row *row;

	if ((summary->nr_rows + 1) * 2 > summary->size && !grow(summary))
		return NULL;
	row = slot_of(summary->rows, summary->size, &key);
	if (!row->key.family) {
		row->key = key;
		summary->nr_rows++;
	}
	return row;
}

static void count_attempt(struct summary *summary, const struct event *event, bool established)
{
	struct summary_row *row = row_of(summary, event);
	__u64 ns = event->duration_ns;

	if (!row) {
		summary->uncounted++;
		return;
	}
	row->attempts++;
	if (!established) {
		row->failed++;
		return;
	}
	if (!row->established || ns < row->latency_min_ns)
		row->latency_min_ns = ns;
	if (ns > row->latency_max_ns)
		row->latency_max_ns = ns;
	row->latency_sum_ns += ns;
	row->established++;
}

void summary_init(struct summary *summary, struct formatter *fmt,
		  const struct summary_labels *labels, bool count, bool histogram)
{
	*summary = (struct summary){
		.labels = labels,
		.count = count,
		.histogram = histogram,
		.json = fmt->flags & FORMAT_JSON,
		.fmt = fmt,
		.since_ns = fmt->start_ns,
	};
}

void summary_add(struct summary *summary, const struct event *event)
{
	bool established = event->outcome == OUTCOME_SUCCESS && (event->flags & EVENT_HAS_DURATION);

	if (summary->count)
		count_attempt(summary, event, established);
	if (summary->histogram && established)
		summary->slots[summary_slot(event->duration_ns / 1000)]++;
}

/* Commits the line built from line to end. */
static void commit_line(struct output *out, const char *line, const char *end)
{
	output_commit(out, end - line);
}

static void print_text(struct output *out, const char *text)
{
	char *line = output_reserve(out, SUMMARY_LINE_MAX);

	commit_line(out, line, format_str(line, text));
}

static int by_attempts(const void *a, const void *b)
{
	const struct summary_row *x = a, *y = b;

	if (x->attempts != y->attempts)
		return x->attempts < y->attempts ? 1 : -1;
	return x->key.dport - y->key.dport;
}

/* A latency as the table shows it, or as JSON does: "-" or null when unknown. */
static const char *ms_text(char *buf, __u64 ns, bool known, bool json)
{
	*(known ? format_ms(buf, ns) : stpcpy(buf, json ? "null" : "-")) = '\0';
	return buf;
}

/* ,"key": */
static char *put_json_key(char *p, const char *key)
{
	p = format_str(p, ",\"");
	p = format_str(p, key);
	return format_str(p, "\":");
}

static char *put_json_u64(char *p, const char *key, __u64 value)
{
	return format_u64(put_json_key(p, key), value);
}

/* The opening of a summary's JSON object: its time, its kind and when it began. */
static char *put_json_head(char *p, struct summary *summary, const char *event, __u64 now_ns)
{
	p = format_json_head(p, summary->fmt, now_ns, event);
	return put_json_u64(p, "since_ns", summary->since_ns);
}

static char *put_row_json(char *p, const struct summary *summary, const struct summary_row *row,
			  const char *saddr, const char *daddr, const char *const latencies[3])
{
	static const char *const keys[3] = { "latency_min_ms", "latency_avg_ms", "latency_max_ms" };

	p = format_str(p, "{\"saddr\":\"");
	p = format_str(p, saddr);
	p = format_str(p, "\",\"daddr\":\"");
	p = format_str(p, daddr);
	*p++ = '"';
	p = put_json_u64(p, "dport", row->key.dport);
	p = put_json_u64(p, summary->labels->attempts_key, row->attempts);
	p = put_json_u64(p, "failed", row->failed);
	for (int i = 0; i < 3; i++)
		p = format_str(put_json_key(p, keys[i]), latencies[i]);
	*p++ = '}';
	return p;
}

/* The table's columns, in the widths of the header's; the last one is padded too. */
static char *put_row_text(char *p, const char *saddr, const char *daddr, const char *dport,
			  const char *attempts, const char *failed, const char *const latencies[3])
{
	p = format_padded(p, saddr, -FORMAT_ADDR_WIDTH);
	*p++ = ' ';
	p = format_padded(p, daddr, -FORMAT_ADDR_WIDTH);
	*p++ = ' ';
	p = format_padded(p, dport, -5);
	*p++ = ' ';
	p = format_padded(p, attempts, 8);
	*p++ = ' ';
	p = format_padded(p, failed, 8);
	for (int i = 0; i < 3; i++) {
		*p++ = ' ';
		p = format_padded(p, latencies[i], 11);
	}
	*p++ = '\n';
	return p;
}

static void print_row(struct summary *summary, struct output *out, const struct summary_row *row,
		      bool first)
{
	char saddr[INET6_ADDRSTRLEN], daddr[INET6_ADDRSTRLEN];
	char min[FORMAT_MS_MAX], avg[FORMAT_MS_MAX], max[FORMAT_MS_MAX];
	char dport[8], attempts[24], failed[24];
	const char *const latencies[3] = { min, avg, max };
	bool known = row->established > 0, json = summary->json;
	__u64 avg_ns = known ? row->latency_sum_ns / row->established : 0;
	char *line = output_reserve(out, SUMMARY_LINE_MAX), *p = line;

	*format_address(saddr, row->key.family, row->key.saddr) = '\0';
	*format_address(daddr, row->key.family, row->key.daddr) = '\0';
	ms_text(min, row->latency_min_ns, known, json);
	ms_text(avg, avg_ns, known, json);
	ms_text(max, row->latency_max_ns, known, json);
	if (json) {
		if (!first)
			*p++ = ',';
		commit_line(out, line, put_row_json(p, summary, row, saddr, daddr, latencies));
		return;
	}
	*format_u64(dport, row->key.dport) = '\0';
	*format_u64(attempts, row->attempts) = '\0';
	*format_u64(failed, row->failed) = '\0';
	commit_line(out, line, put_row_text(p, saddr, daddr, dport, attempts, failed, latencies));
}

static void print_counts_header(struct summary *summary, struct output *out, __u64 now_ns)
{
	static const char *const latencies[3] = { "LAT_MIN(ms)", "LAT_AVG(ms)", "LAT_MAX(ms)" };
	char *line = output_reserve(out, SUMMARY_LINE_MAX + FORMAT_JSON_HEAD_MAX), *p;

	if (summary->json)
		p = format_str(put_json_head(line, summary, "counts", now_ns), ",\"rows\":[");
	else
		p = put_row_text(line, "SADDR", "DADDR", "DPORT", summary->labels->attempts_header,
				 "FAILED", latencies);
	commit_line(out, line, p);
}

static void print_counts_end(struct summary *summary, struct output *out)
{
	char *line = output_reserve(out, SUMMARY_LINE_MAX), *p = line;

	if (summary->json) {
		p = format_str(p, "]");
		p = format_str(put_json_u64(p, "uncounted", summary->uncounted), "}\n");
	} else if (summary->uncounted) {
		p = format_u64(format_str(p, "("), summary->uncounted);
		p = format_str(p, " attempts not counted: no memory for their rows)\n");
	}
	commit_line(out, line, p);
}

/* -c: one row per source, destination and port, the most attempts first. */
static void print_counts(struct summary *summary, struct output *out, __u64 now_ns)
{
	size_t n = 0;

	for (size_t i = 0; i < summary->size; i++)
		if (summary->rows[i].key.family)
			summary->rows[n++] = summary->rows[i];
	/* No attempt yet: no table either, and qsort() and memset() take no NULL. */
	if (n)
		qsort(summary->rows, n, sizeof(*summary->rows), by_attempts);
	print_counts_header(summary, out, now_ns);
	for (size_t i = 0; i < n; i++)
		print_row(summary, out, &summary->rows[i], i == 0);
	print_counts_end(summary, out);
	if (summary->rows)
		memset(summary->rows, 0, summary->size * sizeof(*summary->rows));
	summary->nr_rows = 0;
	summary->uncounted = 0;
}

static void print_bucket(struct summary *summary, struct output *out, int slot, __u64 most)
{
	__u64 low = slot ? 1ull << slot : 0, high = (2ull << slot) - 1;
	__u64 count = summary->slots[slot];
	int stars = most ? (int)(count * HISTOGRAM_BAR / most) : 0;
	char *line = output_reserve(out, SUMMARY_LINE_MAX), *p = line;

	if (summary->json) {
		p = format_u64(format_str(p, slot ? ",{\"low_us\":" : "{\"low_us\":"), low);
		p = put_json_u64(p, "high_us", high);
		p = put_json_u64(p, "count", count);
		commit_line(out, line, format_str(p, "}"));
		return;
	}
	p = format_padded_u64(p, low, 9);
	p = format_str(p, " -> ");
	p = format_padded_u64(p, high, -9);
	p = format_str(p, " : ");
	p = format_padded_u64(p, count, -8);
	p = format_str(p, " |");
	memset(p, '*', stars);
	memset(p + stars, ' ', HISTOGRAM_BAR - stars);
	p = format_str(p + HISTOGRAM_BAR, "|\n");
	commit_line(out, line, p);
}

/* -H: bcc's log2 histogram, from slot 0 to the last one used. */
static void print_histogram(struct summary *summary, struct output *out, __u64 now_ns)
{
	__u64 most = 0, total = 0;
	char *line, *p;
	int last = -1;

	for (int i = 0; i < SUMMARY_SLOTS; i++) {
		if (summary->slots[i])
			last = i;
		if (summary->slots[i] > most)
			most = summary->slots[i];
		total += summary->slots[i];
	}
	if (summary->json) {
		line = output_reserve(out, SUMMARY_LINE_MAX + FORMAT_JSON_HEAD_MAX);
		p = put_json_head(line, summary, "histogram", now_ns);
		commit_line(out, line, format_str(p, ",\"buckets\":["));
	} else {
		print_text(out, "     usecs             : count    distribution\n");
	}
	for (int i = 0; i <= last; i++)
		print_bucket(summary, out, i, most);
	line = output_reserve(out, SUMMARY_LINE_MAX);
	if (summary->json)
		p = format_str(
			put_json_u64(format_str(line, "]"), summary->labels->successes_key, total),
			"}\n");
	else
		p = format_str(format_str(format_u64(line, total), " "),
			       summary->labels->successes_text);
	commit_line(out, line, p);
	memset(summary->slots, 0, sizeof(summary->slots));
}

void summary_print(struct summary *summary, struct output *out, __u64 now_ns, bool interval)
{
	if (summary->count)
		print_counts(summary, out, now_ns);
	/* Text separates the tables with blank lines; JSON Lines has none. */
	if (summary->count && summary->histogram && !summary->json)
		print_text(out, "\n");
	if (summary->histogram)
		print_histogram(summary, out, now_ns);
	if (interval && !summary->json)
		print_text(out, "\n");
	summary->since_ns = now_ns;
}

void summary_free(struct summary *summary)
{
	free(summary->rows);
	memset(summary, 0, sizeof(*summary));
}
