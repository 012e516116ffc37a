// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include "../bpf/event.h"
#include "array.h"
#include "format.h"
#include "output.h"
#include "summary.h"

/*
 * Room for the widest line printed here: a JSON row with two IPv6 addresses, three
 * 20-digit counts and three durations, their keys under 16 bytes, comes to about 380.
 */
#define SUMMARY_LINE_MAX   512
#define SUMMARY_FIRST_SIZE 64
#define HISTOGRAM_BAR	   40

_Static_assert(sizeof(struct summary_key) ==
		       sizeof(__u8[SUMMARY_KEY_ADDRS][16]) + 2 * sizeof(__u16),
	       "struct summary_key hashes and compares as bytes: no padding");

unsigned int summary_slot(__u64 duration_us)
{
	return duration_us < 2 ? 0 : 63 - __builtin_clzll(duration_us);
}

static bool is_port(enum field field)
{
	return field == FIELD_LPORT || field == FIELD_RPORT;
}

/* The event's address a key column names. */
static const __u8 *address_of(const struct event *event, enum field field)
{
	return field == FIELD_LADDR ? event->laddr : event->raddr;
}

/* The row an event goes in: its addresses and port, those the labels' key columns name. */
static struct summary_key key_of(const struct summary_labels *labels, const struct event *event)
{
	const struct summary_key_column *column = labels->keys;
	struct summary_key key = { .family = event->family };
	size_t addr = 0;

	for (size_t i = 0; i < ARRAY_SIZE(labels->keys) && column[i].field != FIELD_NONE; i++) {
		if (is_port(column[i].field))
			key.port = column[i].field == FIELD_LPORT ? event->lport : event->rport;
		else if (addr < SUMMARY_KEY_ADDRS)
			memcpy(key.addrs[addr++], address_of(event, column[i].field),
			       sizeof(key.addrs[0]));
	}
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
	struct summary_key key = key_of(summary->labels, event);
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

/* -c: the event in its row, in the count columns that count its outcome. */
static void count_event(struct summary *summary, const struct event *event, bool timed)
{
	const struct summary_count_column *counts = summary->labels->counts;
	struct summary_row *row = row_of(summary, event);
	__u64 ns = event->duration_ns;

	if (!row) {
		summary->uncounted++;
		return;
	}
	row->events++;
	for (size_t i = 0; i < SUMMARY_COUNTS; i++)
		if (counts[i].header && (counts[i].outcomes & SUMMARY_OUTCOME(event->outcome)))
			row->counts[i]++;
	if (!timed)
		return;
	if (!row->timed || ns < row->duration_min_ns)
		row->duration_min_ns = ns;
	if (ns > row->duration_max_ns)
		row->duration_max_ns = ns;
	row->duration_sum_ns += ns;
	row->timed++;
}

void summary_init(struct summary *summary, struct formatter *fmt,
		  const struct summary_labels *labels, bool count, bool histogram)
{
	*summary = (struct summary){
		.labels = labels,
		.column_flags = fmt->flags,
		.count = count,
		.histogram = histogram,
		.json = fmt->flags & FORMAT_JSON,
		.fmt = fmt,
		.since_ns = fmt->start_ns,
	};
}

void summary_add(struct summary *summary, const struct event *event)
{
	/* A failure's duration, if any, is not the successes' (nor are -f's in QUEUED). */
	bool timed = event->outcome == OUTCOME_SUCCESS && (event->flags & EVENT_HAS_DURATION);

	if (summary->count)
		count_event(summary, event, timed);
	if (summary->histogram && timed)
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

static int by_events(const void *a, const void *b)
{
	const struct summary_row *x = a, *y = b;

	if (x->events != y->events)
		return x->events < y->events ? 1 : -1;
	return x->key.port - y->key.port;
}

/* A duration as the table shows it, or as JSON does: "-" or null when unknown. */
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

/*
 * One column of -c's table and of its JSON rows, as the labels describe it: a key
 * column, a count or a duration. Text pads it to width (on the right when negative).
 */
#define SUMMARY_COLUMNS	 (SUMMARY_KEY_ADDRS + 1 + SUMMARY_COUNTS + 3)
#define SUMMARY_CELL_MAX INET6_ADDRSTRLEN
struct cell {
	const char *header;
	const char *key;
	int width;
	bool quoted; /* a string in JSON */
	bool hidden; /* a count the options did not ask for: not in text, null in JSON */
	char text[SUMMARY_CELL_MAX];
};

static int width_of(const char *header, int least)
{
	int len = strlen(header);

	return len > least ? len : least;
}

/* The key columns: the row's addresses and port. */
static size_t key_cells(const struct summary *summary, const struct summary_row *row,
			struct cell *cells)
{
	const struct summary_key_column *column = summary->labels->keys;
	size_t n = 0, addr = 0;

	for (; n < ARRAY_SIZE(summary->labels->keys) && column[n].field != FIELD_NONE; n++) {
		struct cell *cell = &cells[n];

		*cell = (struct cell){ .header = column[n].header, .key = column[n].key };
		if (is_port(column[n].field)) {
			cell->width = -width_of(cell->header, 5);
			*format_u64(cell->text, row->key.port) = '\0';
		} else if (addr < SUMMARY_KEY_ADDRS) {
			cell->width = -FORMAT_ADDR_WIDTH;
			cell->quoted = true;
			*format_address(cell->text, row->key.family, row->key.addrs[addr++]) = '\0';
		}
	}
	return n;
}

/* The counts, then the successes' shortest, average and longest duration. */
static size_t count_cells(const struct summary *summary, const struct summary_row *row,
			  struct cell *cells)
{
	const struct summary_labels *labels = summary->labels;
	__u64 durations[3] = { row->duration_min_ns,
			       row->timed ? row->duration_sum_ns / row->timed : 0,
			       row->duration_max_ns };
	size_t n = 0;

	for (size_t i = 0; i < SUMMARY_COUNTS && labels->counts[i].header; i++, n++) {
		const struct summary_count_column *column = &labels->counts[i];

		cells[n] = (struct cell){
			.header = column->header,
			.key = column->key,
			.width = width_of(column->header, 8),
			.hidden = column->show_if && !(summary->column_flags & column->show_if),
		};
		*(cells[n].hidden ? format_str(cells[n].text, "null")
				  : format_u64(cells[n].text, row->counts[i])) = '\0';
	}
	for (int i = 0; i < 3; i++, n++) {
		cells[n] = (struct cell){ .header = labels->duration_headers[i],
					  .key = labels->duration_keys[i],
					  .width = width_of(labels->duration_headers[i], 11) };
		ms_text(cells[n].text, durations[i], row->timed > 0, summary->json);
	}
	return n;
}

static size_t cells_of(const struct summary *summary, const struct summary_row *row,
		       struct cell cells[SUMMARY_COLUMNS])
{
	size_t n = key_cells(summary, row, cells);

	return n + count_cells(summary, row, cells + n);
}

/* A row of the table, or its header: the cells shown, each padded, the last one too. */
static char *put_row_text(char *p, const struct cell *cells, size_t n, bool header)
{
	for (size_t i = 0; i < n; i++) {
		if (cells[i].hidden)
			continue;
		p = format_padded(p, header ? cells[i].header : cells[i].text, cells[i].width);
		*p++ = ' ';
	}
	p[-1] = '\n';
	return p;
}

static char *put_row_json(char *p, const struct cell *cells, size_t n)
{
	char *open = p;

	for (size_t i = 0; i < n; i++) {
		p = put_json_key(p, cells[i].key);
		if (cells[i].quoted)
			*p++ = '"';
		p = format_str(p, cells[i].text);
		if (cells[i].quoted)
			*p++ = '"';
	}
	*open = '{'; /* the first member's comma */
	*p++ = '}';
	return p;
}

static void print_row(struct summary *summary, struct output *out, const struct summary_row *row,
		      bool first)
{
	struct cell cells[SUMMARY_COLUMNS];
	size_t n = cells_of(summary, row, cells);
	char *line = output_reserve(out, SUMMARY_LINE_MAX), *p = line;

	if (!summary->json) {
		commit_line(out, line, put_row_text(p, cells, n, false));
		return;
	}
	if (!first)
		*p++ = ',';
	commit_line(out, line, put_row_json(p, cells, n));
}

static void print_counts_header(struct summary *summary, struct output *out, __u64 now_ns)
{
	static const struct summary_row none; /* its cells' headers are the header's */
	char *line = output_reserve(out, SUMMARY_LINE_MAX + FORMAT_JSON_HEAD_MAX), *p;

	if (summary->json) {
		p = format_str(put_json_head(line, summary, "counts", now_ns), ",\"rows\":[");
	} else {
		struct cell cells[SUMMARY_COLUMNS];
		size_t n = cells_of(summary, &none, cells);

		p = put_row_text(line, cells, n, true);
	}
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

/* -c: one row per key (addresses and port), the most events first. */
static void print_counts(struct summary *summary, struct output *out, __u64 now_ns)
{
	size_t n = 0;

	for (size_t i = 0; i < summary->size; i++)
		if (summary->rows[i].key.family)
			summary->rows[n++] = summary->rows[i];
	/* No event yet: no table either, and qsort() and memset() take no NULL. */
	if (n)
		qsort(summary->rows, n, sizeof(*summary->rows), by_events);
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
			put_json_u64(format_str(line, "]"), summary->labels->timed_key, total),
			"}\n");
	else
		p = format_str(format_str(format_u64(line, total), " "),
			       summary->labels->timed_text);
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
