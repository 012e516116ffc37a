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

static bool same_key(const struct summary_row *row, const struct event *event)
{
	return row->family == event->family && row->dport == event->rport &&
	       !memcmp(row->saddr, event->laddr, sizeof(row->saddr)) &&
	       !memcmp(row->daddr, event->raddr, sizeof(row->daddr));
}

/* FNV-1a over what tells rows apart. */
static size_t hash_of(const struct event *event)
{
	const __u8 *parts[] = { event->laddr, event->raddr };
	__u64 hash = 14695981039346656037ull;

	for (int p = 0; p < 2; p++)
		for (int i = 0; i < 16; i++)
			hash = (hash ^ parts[p][i]) * 1099511628211ull;
	return (hash ^ event->rport ^ (__u64)event->family << 16) * 1099511628211ull;
}

/* The row's place in a table of that size: its own, or the free one where it goes. */
static struct summary_row *slot_of(struct summary_row *rows, size_t size, const struct event *event)
{
	size_t i = hash_of(event) & (size - 1);

	while (rows[i].family && !same_key(&rows[i], event))
		i = (i + 1) & (size - 1);
	return &rows[i];
}

static void key_event(struct event *key, const struct summary_row *row)
{
	memcpy(key->laddr, row->saddr, sizeof(key->laddr));
	memcpy(key->raddr, row->daddr, sizeof(key->raddr));
	key->family = row->family;
	key->rport = row->dport;
}

/* Doubles the table; false when there is no memory for it. */
static bool grow(struct summary *summary)
{
	size_t size = summary->size ? summary->size * 2 : SUMMARY_FIRST_SIZE;
	struct summary_row *rows = calloc(size, sizeof(*rows));

	if (!rows)
		return false;
	for (size_t i = 0; i < summary->size; i++) {
		struct event key = {};

		if (!summary->rows[i].family)
			continue;
		key_event(&key, &summary->rows[i]);
		*slot_of(rows, size, &key) = summary->rows[i];
	}
	free(summary->rows);
	summary->rows = rows;
	summary->size = size;
	return true;
}

static struct summary_row *row_of(struct summary *summary, const struct event *event)
{
	struct summary_row *row;

	if ((summary->nr_rows + 1) * 2 > summary->size && !grow(summary))
		return NULL;
	row = slot_of(summary->rows, summary->size, event);
	if (!row->family) {
		memcpy(row->saddr, event->laddr, sizeof(row->saddr));
		memcpy(row->daddr, event->raddr, sizeof(row->daddr));
		row->family = event->family;
		row->dport = event->rport;
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
	return x->dport - y->dport;
}

static void print_ms(char *buf, size_t size, __u64 ns, bool known)
{
	if (known)
		snprintf(buf, size, "%llu.%03llu", (unsigned long long)ns / 1000000,
			 (unsigned long long)ns / 1000 % 1000);
	else
		snprintf(buf, size, "-");
}

/* -c: one row per source, destination and port, the most attempts first. */
static void print_counts(struct summary *summary, struct output *out)
{
	size_t n = 0;

	for (size_t i = 0; i < summary->size; i++)
		if (summary->rows[i].family)
			summary->rows[n++] = summary->rows[i];
	qsort(summary->rows, n, sizeof(*summary->rows), by_attempts);
	print_line(out, "%-*s %-*s %-5s %8s %8s %11s %11s %11s\n", FORMAT_ADDR_WIDTH, "SADDR",
		   FORMAT_ADDR_WIDTH, "DADDR", "DPORT", "CONNECTS", "FAILED", "LAT_MIN(ms)",
		   "LAT_AVG(ms)", "LAT_MAX(ms)");
	for (size_t i = 0; i < n; i++) {
		const struct summary_row *row = &summary->rows[i];
		char saddr[INET6_ADDRSTRLEN], daddr[INET6_ADDRSTRLEN], min[24], avg[24], max[24];
		int af = row->family == AF_INET6 ? AF_INET6 : AF_INET;
		bool known = row->established > 0;

		inet_ntop(af, row->saddr, saddr, sizeof(saddr));
		inet_ntop(af, row->daddr, daddr, sizeof(daddr));
		print_ms(min, sizeof(min), row->latency_min_ns, known);
		print_ms(avg, sizeof(avg), known ? row->latency_sum_ns / row->established : 0,
			 known);
		print_ms(max, sizeof(max), row->latency_max_ns, known);
		print_line(out, "%-*s %-*s %-5u %8llu %8llu %11s %11s %11s\n", FORMAT_ADDR_WIDTH,
			   saddr, FORMAT_ADDR_WIDTH, daddr, row->dport,
			   (unsigned long long)row->attempts, (unsigned long long)row->failed, min,
			   avg, max);
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
