// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the formatter, fed events of arbitrary bytes, the way a kernel with
 * a bug, or a new field, could hand them over. The first input byte picks the command and
 * its column options (through cli_parse(), so that the real column tables are used); the
 * rest is the event. Every line must fit FORMAT_LINE_MAX, end with its only newline, and
 * hold printable ASCII alone (no byte a terminal would act on); with -j it must be one
 * valid JSON object.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include "../../bpf/event.h"
#include "../../cmd/cli.h"
#include "../../lib/format.h"
#include "../../lib/identity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
	if (!ok)
		abort();
}

/* A JSON validator, just enough for one line of ours: objects, arrays, strings with
 * escapes, numbers, true, false and null. Each returns the end of what it read, or NULL. */
static const char *json_value(const char *p, int depth);

static const char *json_string(const char *p)
{
	if (*p++ != '"')
		return NULL;
	for (; *p != '"'; p++) {
		if ((unsigned char)*p < 0x20)
			return NULL;
		if (*p != '\\')
			continue;
		p++;
		if (*p == 'u') {
			for (int i = 1; i <= 4; i++)
				if (!strchr("0123456789abcdefABCDEF", p[i]) || !p[i])
					return NULL;
			p += 4;
		} else if (!*p || !strchr("\"\\/bfnrt", *p)) {
			return NULL;
		}
	}
	return p + 1;
}

static const char *json_number(const char *p)
{
	const char *start;

	if (*p == '-')
		p++;
	start = p;
	while (*p >= '0' && *p <= '9')
		p++;
	if (p == start || (*start == '0' && p - start > 1))
		return NULL;
	if (*p == '.') {
		start = ++p;
		while (*p >= '0' && *p <= '9')
			p++;
		if (p == start)
			return NULL;
	}
	return p;
}

static const char *json_members(const char *p, char close, int depth, bool keyed)
{
	if (*p == close)
		return p + 1;
	for (;;) {
		if (keyed) {
			p = json_string(p);
			if (!p || *p++ != ':')
				return NULL;
		}
		p = json_value(p, depth + 1);
		if (!p)
			return NULL;
		if (*p == close)
			return p + 1;
		if (*p++ != ',')
			return NULL;
	}
}

static const char *json_value(const char *p, int depth)
{
	if (depth > 8)
		return NULL;
	switch (*p) {
	case '{':
		return json_members(p + 1, '}', depth, true);
	case '[':
		return json_members(p + 1, ']', depth, false);
	case '"':
		return json_string(p);
	case 't':
		return strncmp(p, "true", 4) ? NULL : p + 4;
	case 'f':
		return strncmp(p, "false", 5) ? NULL : p + 5;
	case 'n':
		return strncmp(p, "null", 4) ? NULL : p + 4;
	default:
		return json_number(p);
	}
}

/* "time" is RFC 3339 in UTC to the nanosecond, whatever the stamp: digits where due. */
static void check_time(const char *line)
{
	static const char form[] = "0000-00-00T00:00:00.000000000Z\"";
	const char *time = strstr(line, ",\"time\":\"");

	check(time != NULL);
	time += strlen(",\"time\":\"");
	for (size_t i = 0; i < sizeof(form) - 1; i++)
		check(form[i] == '0' ? time[i] >= '0' && time[i] <= '9' : time[i] == form[i]);
}

/* One formatted line: within bounds, one newline at its end, nothing unprintable. */
static void check_line(const char *buf, size_t len, bool json)
{
	static char text[FORMAT_LINE_MAX + 1];

	check(len > 0 && len <= FORMAT_LINE_MAX && buf[len - 1] == '\n');
	for (size_t i = 0; i + 1 < len; i++)
		check(buf[i] >= 0x20 && buf[i] < 0x7f);
	if (!json)
		return;
	memcpy(text, buf, len - 1);
	text[len - 1] = '\0';
	check(*text == '{');
	const char *end = json_value(text, 0);
	check(end && *end == '\0');
	check_time(text);
}

/* The command line a selector byte stands for: a command, and some of its columns. */
static int command_line(uint8_t selector, char **argv)
{
	static char *options[] = { "-t", "-T", "-x", "-U", "-j" };
	bool connect = selector & 1;
	int argc = 0;

	argv[argc++] = "tcptrace";
	argv[argc++] = connect ? "connect" : "accept";
	for (unsigned int i = 0; i < sizeof(options) / sizeof(options[0]); i++)
		if (selector & (2 << i))
			argv[argc++] = options[i];
	if (selector & 0x40)
		argv[argc++] = connect ? "-L" : "-f";
	if (selector & 0x80) {
		argv[argc++] = "-I";
		argv[argc++] = "-e";
	}
	argv[argc] = NULL;
	return argc;
}

/*
 * The names of the event's cgroup, from the bytes after the event: as many
 * NUL-separated strings as there are, any bytes and any length, as a directory's name
 * can hold (the formatter must not trust the resolver to have checked them).
 */
static const struct identity *identity_of(const uint8_t *data, size_t size)
{
	static char text[65536];
	static struct identity identity;
	const char **fields[] = { &identity.cgroup,	  &identity.unit,
				  &identity.container_id, &identity.k8s_namespace,
				  &identity.k8s_pod,	  &identity.k8s_container };
	char *p = text;

	if (size >= sizeof(text))
		size = sizeof(text) - 1;
	memcpy(text, data, size);
	text[size] = '\0';
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		*fields[i] = p < text + size ? p : NULL;
		p += p < text + size ? strlen(p) + 1 : 0;
	}
	return &identity;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Exactly the room the formatter is promised: AddressSanitizer sees any overrun. */
	static char buf[FORMAT_LINE_MAX];
	static struct formatter fmt;
	struct trace_config config;
	struct event event = { 0 };
	char *argv[12];
	int argc;

	if (size < 1)
		return -1;
	argc = command_line(data[0], argv);
	check(cli_parse(argc, argv, &config) == CLI_RUN);
	memcpy(&event, data + 1, size - 1 < sizeof(event) ? size - 1 : sizeof(event));
	fmt = (struct formatter){ .columns = config.columns,
				  .names = config.names,
				  .flags = config.column_flags };
	format_start(&fmt);
	if (!(fmt.flags & FORMAT_JSON))
		check_line(buf, format_header(&fmt, buf), false);
	check_line(buf, format_event(&fmt, &event, buf), fmt.flags & FORMAT_JSON);
	if (size > 1 + sizeof(event)) {
		const struct identity *identity =
			identity_of(data + 1 + sizeof(event), size - 1 - sizeof(event));

		check_line(buf, format_event_named(&fmt, &event, identity, buf),
			   fmt.flags & FORMAT_JSON);
	}
	return 0;
}
