// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: serve's metrics, fed events of arbitrary bytes with identities of
 * arbitrary bytes (as a cgroup or kubelet directory may be named), under a series limit
 * and a TTL both small enough to be reached. The first byte picks --label and the limit.
 * Every line of the exposition must be valid UTF-8 without a control character (one bad
 * byte fails a whole scrape), a comment or "name{labels} value" with labels that open
 * and close; every histogram's +Inf bucket must equal its _count.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include "../../bpf/event.h"
#include "../../cmd/cli.h"
#include "../../lib/identity.h"
#include "../../lib/metrics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
	if (!ok)
		abort();
}

/* A label set's text: name="value" pairs, values with \" and \\ only as escapes. */
static const char *check_labels(const char *p)
{
	while (*p != '}') {
		while (*p >= 'a' && *p <= 'z') /* our label names are lower case */
			p++;
		check(*p++ == '=' && *p++ == '"');
		for (; *p != '"'; p++)
			if (*p == '\\')
				check(*++p == '\\' || *p == '"' || *p == 'n');
		p++;
		if (*p == ',')
			p++;
	}
	return p + 1;
}

/* UTF-8, checked apart from the code under test: no overlong form, no surrogate. */
static void check_utf8(const unsigned char *p, const unsigned char *end)
{
	while (p < end) {
		unsigned int code = *p, len = 1;

		check(code >= 0x20 && code != 0x7f);
		if (code >= 0x80) {
			unsigned int min;

			len = code >= 0xf0 ? 4 : code >= 0xe0 ? 3 : 2;
			check(code >= 0xc2 && code < 0xf5 && p + len <= end);
			min = len == 4 ? 0x10000 : len == 3 ? 0x800 : 0x80;
			code &= 0x3f >> (len - 1);
			for (unsigned int i = 1; i < len; i++) {
				check((p[i] & 0xc0) == 0x80);
				code = code << 6 | (p[i] & 0x3f);
			}
			check(code >= min && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff));
		}
		p += len;
	}
}

static void check_line(const char *line, const char *end)
{
	const char *p = line;

	check_utf8((const unsigned char *)line, (const unsigned char *)end);
	if (*line == '#')
		return;
	while (*p == '_' || (*p >= 'a' && *p <= 'z'))
		p++;
	check(p > line);
	if (*p == '{')
		p = check_labels(p + 1);
	check(*p == ' ' && p + 1 < end);
}

/*
 * A histogram's samples come in order: the buckets, +Inf last, then _sum and _count.
 * Each _count must equal the +Inf bucket before it. The labels end at the line's last
 * "} ": quotes inside values are escaped, so no value can fake it.
 */
static void check_histogram_line(const char *line, const char *end, unsigned long long *inf)
{
	const char *name_end = line + strcspn(line, "{ "), *labels_end = NULL, *value;

	if (*line == '#')
		return;
	for (const char *p = line; p + 1 < end; p++)
		if (p[0] == '}' && p[1] == ' ')
			labels_end = p;
	value = *name_end == '{' ? labels_end + 2 : name_end + 1;
	if (*name_end == '{' && labels_end - line > 9 && !strncmp(labels_end - 9, "le=\"+Inf\"", 9))
		*inf = strtoull(value, NULL, 10);
	if (name_end - line > 6 && !strncmp(name_end - 6, "_count", 6))
		check(strtoull(value, NULL, 10) == *inf);
}

static const struct identity *given(void *ctx, const struct event *event)
{
	(void)event;
	return ctx;
}

/* A string of the input's bytes, at most max long; NULL when the input says none. */
static const char *take_string(const uint8_t **data, size_t *size, char *buf, size_t max)
{
	size_t len;

	if (!*size)
		return NULL;
	len = **data % (max + 1);
	(*data)++, (*size)--;
	if (!len)
		return NULL;
	len = len < *size ? len : *size;
	memcpy(buf, *data, len);
	buf[len] = '\0';
	*data += len, *size -= len;
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char labels[] = "--label=daddr,dport";
	char *argv[] = { "tcptrace", "serve", labels, NULL };
	static char unit[64], pod[64], container[64];
	struct trace_config config = {};
	struct metric_text text = {};
	struct metrics metrics;
	__u64 now = 0;

	if (!size)
		return 0;
	if (cli_parse(*data & 1 ? 3 : 2, argv, &config) != CLI_RUN)
		abort();
	metrics_init(&metrics, config.metrics.families, config.metrics.nr_families,
		     config.metrics.labels | METRIC_LABEL_RESULT | METRIC_LABEL_LPORT |
			     METRIC_LABEL_IDENTITY,
		     1 + (*data >> 1) % 64, 120000000000ull);
	data++, size--;
	while (size >= sizeof(struct event)) {
		struct identity identity = {};
		struct event event;

		memcpy(&event, data, sizeof(event));
		data += sizeof(event), size -= sizeof(event);
		identity.unit = take_string(&data, &size, unit, sizeof(unit) - 1);
		identity.k8s_pod = take_string(&data, &size, pod, sizeof(pod) - 1);
		identity.k8s_container =
			take_string(&data, &size, container, sizeof(container) - 1);
		/* Time moves on by the event's own bytes, a minute at most. */
		now += event.ts_ns % 60000000000ull;
		metrics_add(&metrics, &event, given, &identity, now);
		metrics_expire(&metrics, now);
	}
	metrics_write(&metrics, &text);
	check(!text.failed);
	unsigned long long inf = 0;

	for (const char *line = text.data; line && *line;) {
		const char *end = strchr(line, '\n');

		check(end);
		check_line(line, end);
		check_histogram_line(line, end, &inf);
		line = end + 1;
	}
	free(text.data);
	metrics_free(&metrics);
	return 0;
}
