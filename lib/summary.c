// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include "../bpf/event.h"
#include "format.h"
#include "output.h"
#include "summary.h"

/* Widest line printed here: two addresses and six numbers, or a histogram row. */
#define SUMMARY_LINE_MAX   256
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

static void count(struct summary *summary, const struct event *event, bool established)
{
	struct summary_row *row = row_of(summary, event);
	__u64 ns = event->connect_latency_ns;

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

void summary_add(struct summary *summary, const struct event *event)
{
	bool established =
		event->outcome == CONNECT_ESTABLISHED && (event->flags & EVENT_HAS_DURATION);

	if (summary->count)
		count(summary, event, established);
	if (summary->histogram && established)
		summary->slots[summary_slot(event->connect_latency_ns / 1000)]++;
}

static void print_line(struct output *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void print_line(struct output *out, const char *fmt, ...)
{
	char *line = output_reserve(out, SUMMARY_LINE_MAX);
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(line, SUMMARY_LINE_MAX, fmt, ap);
	va_end(ap);
	output_commit(out, len < 0 ? 0 : len >= SUMMARY_LINE_MAX ? SUMMARY_LINE_MAX - 1 : len);
}

static int by_attempts(const void *a, const void *b)
{
	const struct summary_row *x = a, *y = b;

	if (x->attempts != y->attempts)
		return x->attempts < y->attempts ? 1 : -1;
	return x->key.dport - y->key.dport;
}

/* A latency as the table shows it, "-" when unknown; buf holds FORMAT_MS_MAX. */
static const char *ms_text(char *buf, __u64 ns, bool known)
{
	*(known ? format_ms(buf, ns) : stpcpy(buf, "-")) = '\0';
	return buf;
}

/* -c: one row per source, destination and port, the most attempts first. */
static void print_counts(struct summary *summary, struct output *out)
{
	size_t n = 0;

	for (size_t i = 0; i < summary->size; i++)
		if (summary->rows[i].key.family)
			summary->rows[n++] = summary->rows[i];
	qsort(summary->rows, n, sizeof(*summary->rows), by_attempts);
	print_line(out, "%-*s %-*s %-5s %8s %8s %11s %11s %11s\n", FORMAT_ADDR_WIDTH, "SADDR",
		   FORMAT_ADDR_WIDTH, "DADDR", "DPORT", "CONNECTS", "FAILED", "LAT_MIN(ms)",
		   "LAT_AVG(ms)", "LAT_MAX(ms)");
	for (size_t i = 0; i < n; i++) {
		const struct summary_row *row = &summary->rows[i];
		char saddr[INET6_ADDRSTRLEN], daddr[INET6_ADDRSTRLEN];
		char min[FORMAT_MS_MAX], avg[FORMAT_MS_MAX], max[FORMAT_MS_MAX];
		bool known = row->established > 0;

		*format_address(saddr, row->key.family, row->key.saddr) = '\0';
		*format_address(daddr, row->key.family, row->key.daddr) = '\0';
		print_line(out, "%-*s %-*s %-5u %8llu %8llu %11s %11s %11s\n", FORMAT_ADDR_WIDTH,
			   saddr, FORMAT_ADDR_WIDTH, daddr, row->key.dport,
			   (unsigned long long)row->attempts, (unsigned long long)row->failed,
			   ms_text(min, row->latency_min_ns, known),
			   ms_text(avg, known ? row->latency_sum_ns / row->established : 0, known),
			   ms_text(max, row->latency_max_ns, known));
	}
	if (summary->uncounted)
		print_line(out, "(%llu attempts not counted: no memory for their rows)\n",
			   (unsigned long long)summary->uncounted);
	memset(summary->rows, 0, summary->size * sizeof(*summary->rows));
	summary->nr_rows = 0;
	summary->uncounted = 0;
}

/* -H: bcc's log2 histogram, from slot 0 to the last one used. */
static void print_histogram(struct summary *summary, struct output *out)
{
	__u64 most = 0, total = 0;
	int last = -1;

	for (int i = 0; i < SUMMARY_SLOTS; i++) {
		if (summary->slots[i])
			last = i;
		if (summary->slots[i] > most)
			most = summary->slots[i];
		total += summary->slots[i];
	}
	print_line(out, "%10s%-13s: %-8s %s\n", "usecs", "", "count", "distribution");
	for (int i = 0; i <= last; i++) {
		__u64 low = i ? 1ull << i : 0, high = (2ull << i) - 1;
		int stars = most ? (int)(summary->slots[i] * HISTOGRAM_BAR / most) : 0;
		char bar[HISTOGRAM_BAR + 1];

		memset(bar, '*', stars);
		memset(bar + stars, ' ', HISTOGRAM_BAR - stars);
		bar[HISTOGRAM_BAR] = '\0';
		print_line(out, "%9llu -> %-9llu : %-8llu |%s|\n", (unsigned long long)low,
			   (unsigned long long)high, (unsigned long long)summary->slots[i], bar);
	}
	print_line(out, "%llu established attempts\n", (unsigned long long)total);
	memset(summary->slots, 0, sizeof(summary->slots));
}

void summary_print(struct summary *summary, struct output *out, bool interval)
{
	if (summary->count)
		print_counts(summary, out);
	if (summary->count && summary->histogram)
		print_line(out, "\n");
	if (summary->histogram)
		print_histogram(summary, out);
	if (interval)
		print_line(out, "\n");
}

void summary_free(struct summary *summary)
{
	free(summary->rows);
	memset(summary, 0, sizeof(*summary));
}
