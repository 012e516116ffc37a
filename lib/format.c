// SPDX-License-Identifier: GPL-2.0-only
/*
 * Text output: columns separated by one space, each padded to its width, the last one
 * not padded. This runs once per connection, so it appends bytes to a caller's buffer
 * without the printf family.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <limits.h>
#include <string.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <time.h>
#include <linux/types.h>
#include "../bpf/event.h"
#include "format.h"
#include "identity.h"

_Static_assert(sizeof(struct event) == 128, "struct event changed: keep both sides in step");

static char *put_str(char *p, const char *s)
{
	size_t len = strlen(s);

	memcpy(p, s, len);
	return p + len;
}

/* "00" to "99": the digits come two per division, the costly part (callgrind). */
static const char digit_pairs[] = "00010203040506070809101112131415161718192021222324"
				  "25262728293031323334353637383940414243444546474849"
				  "50515253545556575859606162636465666768697071727374"
				  "75767778798081828384858687888990919293949596979899";

static char *put_u64(char *p, __u64 value)
{
	char digits[20], *end = digits + sizeof(digits), *d = end;

	for (; value >= 100; value /= 100) {
		d -= 2;
		memcpy(d, &digit_pairs[value % 100 * 2], 2);
	}
	if (value >= 10) {
		d -= 2;
		memcpy(d, &digit_pairs[value * 2], 2);
	} else {
		*--d = '0' + value;
	}
	memcpy(p, d, end - d);
	return p + (end - d);
}

char *format_str(char *p, const char *text)
{
	return put_str(p, text);
}

char *format_u64(char *p, __u64 value)
{
	return put_u64(p, value);
}

char *format_padded(char *p, const char *text, int width)
{
	size_t len = strlen(text), room = width < 0 ? (size_t)-width : (size_t)width;
	size_t pad = len < room ? room - len : 0;

	if (width > 0) {
		memset(p, ' ', pad);
		p += pad;
	}
	p = put_str(p, text);
	if (width < 0) {
		memset(p, ' ', pad);
		p += pad;
	}
	return p;
}

char *format_padded_u64(char *p, __u64 value, int width)
{
	char digits[24];

	*put_u64(digits, value) = '\0';
	return format_padded(p, digits, width);
}

/* An IPv4 address's byte: eight per line, so no loop at all. */
static char *put_u8(char *p, __u8 value)
{
	if (value >= 100) {
		*p++ = '0' + value / 100;
		value %= 100;
		memcpy(p, &digit_pairs[(size_t)value * 2], 2);
		return p + 2;
	}
	if (value >= 10) {
		memcpy(p, &digit_pairs[(size_t)value * 2], 2);
		return p + 2;
	}
	*p++ = '0' + value;
	return p;
}

/* value / 1000 with three decimals: 1234567 -> "1234.567" */
static char *put_thousandths(char *p, __u64 value)
{
	__u64 frac = value % 1000;

	p = put_u64(p, value / 1000);
	*p++ = '.';
	*p++ = '0' + frac / 100;
	*p++ = '0' + frac / 10 % 10;
	*p++ = '0' + frac % 10;
	return p;
}

char *format_ms(char *p, __u64 ns)
{
	return put_thousandths(p, ns / 1000);
}

char *format_escaped(char *p, const char *text, size_t max_len)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < max_len && text[i]; i++) {
		unsigned char c = text[i];

		if (c >= 0x20 && c < 0x7f && c != '\\') {
			*p++ = c;
			continue;
		}
		*p++ = '\\';
		*p++ = 'x';
		*p++ = hex[c >> 4];
		*p++ = hex[c & 0xf];
	}
	return p;
}

char *format_address(char *p, __u16 family, const __u8 *addr)
{
	/* glibc's inet_ntop() prints IPv4 with sprintf(): the common case is done here. */
	if (family != AF_INET6) {
		for (int i = 0; i < 4; i++) {
			p = put_u8(p, addr[i]);
			*p++ = '.';
		}
		return p - 1;
	}
	/* FORMAT_LINE_MAX leaves room for INET6_ADDRSTRLEN. */
	if (!inet_ntop(AF_INET6, addr, p, INET6_ADDRSTRLEN))
		return put_str(p, "?");
	return p + strlen(p);
}

char *format_result(char *p, const struct event_names *names, const struct event *event)
{
	const char *name = NULL;
	__u64 number = event->outcome;

	if (event->outcome < FORMAT_OUTCOMES_MAX)
		name = names->outcomes[event->outcome];
	if (name && !*name) { /* FORMAT_OUTCOME_ERRNO */
		name = strerrorname_np(event->error);
		number = event->error;
	}
	if (name)
		return put_str(p, name);
	/* An errno without a name, or an outcome this build does not know. */
	*p++ = 'E';
	return put_u64(p, number);
}

static char *put_two_digits(char *p, int value)
{
	*p++ = '0' + value / 10;
	*p++ = '0' + value % 10;
	return p;
}

/*
 * A CLOCK_MONOTONIC stamp on the wall clock, in nanoseconds since the epoch. Unsigned: a
 * stamp no kernel would give wraps to a wrong date, never to a negative time (or to
 * undefined behaviour), and a u64 of nanoseconds ends in 2554, within four-digit years.
 */
static __u64 wall_clock_ns(const struct formatter *fmt, __u64 ts_ns)
{
	return ts_ns + (__u64)fmt->realtime_offset_ns;
}

/* HH:MM:SS of the local wall clock; localtime_r() only when the second changes. */
static char *put_clock(char *p, struct formatter *fmt, const struct event *event)
{
	__s64 second = wall_clock_ns(fmt, event->ts_ns) / 1000000000;

	if (second != fmt->clock_second) {
		time_t t = second;
		struct tm tm;

		localtime_r(&t, &tm);
		put_two_digits(fmt->clock_text, tm.tm_hour);
		fmt->clock_text[2] = ':';
		put_two_digits(fmt->clock_text + 3, tm.tm_min);
		fmt->clock_text[5] = ':';
		put_two_digits(fmt->clock_text + 6, tm.tm_sec);
		fmt->clock_second = second;
	}
	memcpy(p, fmt->clock_text, sizeof(fmt->clock_text));
	return p + sizeof(fmt->clock_text);
}

/* What an unknown value prints as: "-" in the table, null in JSON. */
static const char *unknown(const struct formatter *fmt)
{
	return fmt->flags & FORMAT_JSON ? "null" : "-";
}

/* The accept queue, "length/limit"; in JSON, the length alone (its limit has a column). */
static char *put_backlog(char *p, const struct formatter *fmt, const struct event *event)
{
	if (!(event->flags & EVENT_HAS_BACKLOG))
		return put_str(p, unknown(fmt));
	p = put_u64(p, event->backlog);
	if (fmt->flags & FORMAT_JSON)
		return p;
	*p++ = '/';
	return put_u64(p, event->max_backlog);
}

static bool no_task(const struct event *event)
{
	return event->flags & EVENT_NO_TASK;
}

/*
 * JSON strings: quote and backslash escaped, and every byte outside printable ASCII as
 * \u00XX, so that any COMM gives valid JSON (and valid UTF-8) that reads back byte for
 * byte.
 */
static char *put_json_string(char *p, const char *s, size_t max)
{
	static const char hex[] = "0123456789abcdef";

	*p++ = '"';
	for (size_t i = 0; i < max && s[i]; i++) {
		unsigned char c = s[i];

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			*p++ = c;
			continue;
		}
		if (c == '"' || c == '\\') {
			*p++ = '\\';
			*p++ = c;
			continue;
		}
		p = put_str(p, "\\u00");
		*p++ = hex[c >> 4];
		*p++ = hex[c & 0xf];
	}
	*p++ = '"';
	return p;
}

/*
 * One of the identity's names, as a field; NULL when unknown, or longer than such a name
 * can be (a cut name would be another's). The bounds keep a line within FORMAT_LINE_MAX.
 */
static const char *identity_field(const struct identity *identity, enum field field)
{
	const char *text = NULL;
	size_t max = IDENTITY_K8S_NAME_MAX;

	if (!identity)
		return NULL;
	switch (field) {
	case FIELD_CGROUP:
		text = identity->cgroup;
		max = FORMAT_CGROUP_MAX;
		break;
	case FIELD_UNIT:
		text = identity->unit;
		max = NAME_MAX; /* a directory's name */
		break;
	case FIELD_CONTAINER_ID:
		text = identity->container_id;
		max = IDENTITY_CONTAINER_ID_LEN;
		break;
	case FIELD_K8S_NAMESPACE:
		text = identity->k8s_namespace;
		break;
	case FIELD_K8S_POD:
		text = identity->k8s_pod;
		break;
	case FIELD_K8S_CONTAINER:
		text = identity->k8s_container;
		break;
	default:
		break;
	}
	return text && strnlen(text, max + 1) <= max ? text : NULL;
}

/* Names come from directory names anyone with a cgroup of their own may choose. */
static char *put_identity_text(char *p, const struct formatter *fmt, const char *text)
{
	if (!text)
		return put_str(p, unknown(fmt));
	if (fmt->flags & FORMAT_JSON)
		return put_json_string(p, text, strlen(text));
	return format_escaped(p, text, strlen(text));
}

/*
 * IDENTITY: the most specific name known. A pod's container as namespace/pod/container
 * (namespace/pod without its container's name), a container by the first 12 digits of
 * its ID as docker ps shows it, a unit, a cgroup's path; its ID when even that is gone.
 */
static char *put_identity(char *p, const struct formatter *fmt, const struct event *event)
{
	const struct identity *identity = fmt->identity;
	const char *pod = identity_field(identity, FIELD_K8S_POD);
	const char *namespace = identity_field(identity, FIELD_K8S_NAMESPACE);
	const char *container = identity_field(identity, FIELD_K8S_CONTAINER);
	const char *id = identity_field(identity, FIELD_CONTAINER_ID);
	const char *unit = identity_field(identity, FIELD_UNIT);
	const char *cgroup = identity_field(identity, FIELD_CGROUP);

	if (pod && namespace) {
		p = format_escaped(p, namespace, IDENTITY_K8S_NAME_MAX);
		*p++ = '/';
		p = format_escaped(p, pod, IDENTITY_K8S_NAME_MAX);
		if (!container)
			return p;
		*p++ = '/';
		return format_escaped(p, container, IDENTITY_K8S_NAME_MAX);
	}
	if (id)
		return format_escaped(p, id, IDENTITY_CONTAINER_ID_SHORT);
	if (unit)
		return format_escaped(p, unit, strlen(unit));
	if (cgroup)
		return format_escaped(p, cgroup, strlen(cgroup));
	p = put_str(p, "cgroup:");
	return put_u64(p, event->task.cgroup_id);
}

static char *put_field(char *p, struct formatter *fmt, enum field field, const struct event *event)
{
	switch (field) {
	case FIELD_TIME_S:
		if (event->ts_ns < fmt->start_ns)
			return put_thousandths(p, 0);
		return put_thousandths(p, (event->ts_ns - fmt->start_ns) / 1000000);
	case FIELD_TIME_CLOCK:
		return put_clock(p, fmt, event);
	case FIELD_PID:
		return no_task(event) ? put_str(p, unknown(fmt)) : put_u64(p, event->task.pid);
	case FIELD_COMM:
		return no_task(event) ? put_str(p, unknown(fmt))
				      : format_escaped(p, event->task.comm, EVENT_COMM_LEN);
	case FIELD_PPID:
		return no_task(event) ? put_str(p, unknown(fmt)) : put_u64(p, event->task.ppid);
	case FIELD_PCOMM:
		return no_task(event) ? put_str(p, unknown(fmt))
				      : format_escaped(p, event->task.pcomm, EVENT_COMM_LEN);
	case FIELD_CGROUP_ID:
		return no_task(event) ? put_str(p, unknown(fmt))
				      : put_u64(p, event->task.cgroup_id);
	case FIELD_CGROUP:
	case FIELD_UNIT:
	case FIELD_CONTAINER_ID:
	case FIELD_K8S_NAMESPACE:
	case FIELD_K8S_POD:
	case FIELD_K8S_CONTAINER:
		return put_identity_text(p, fmt, identity_field(fmt->identity, field));
	case FIELD_IDENTITY:
		return no_task(event) ? put_str(p, unknown(fmt)) : put_identity(p, fmt, event);
	case FIELD_IP:
		*p++ = event->family == AF_INET6 ? '6' : '4';
		return p;
	case FIELD_LADDR:
		return format_address(p, event->family, event->laddr);
	case FIELD_RADDR:
		return format_address(p, event->family, event->raddr);
	case FIELD_LPORT:
		return put_u64(p, event->lport);
	case FIELD_RPORT:
		return put_u64(p, event->rport);
	case FIELD_LATENCY_MS:
		if (!(event->flags & EVENT_HAS_DURATION))
			return put_str(p, unknown(fmt));
		return format_ms(p, event->duration_ns);
	case FIELD_UID:
		return no_task(event) ? put_str(p, unknown(fmt)) : put_u64(p, event->task.uid);
	case FIELD_BACKLOG:
		return put_backlog(p, fmt, event);
	case FIELD_BACKLOG_MAX:
		if (!(event->flags & EVENT_HAS_BACKLOG))
			return put_str(p, unknown(fmt));
		return put_u64(p, event->max_backlog);
	case FIELD_RESULT:
		return format_result(p, fmt->names, event);
	case FIELD_NONE:
		break;
	}
	return p;
}

static bool column_shown(const struct formatter *fmt, const struct column *column)
{
	if (column->hide_if & fmt->flags)
		return false;
	return !column->show_if || (column->show_if & fmt->flags);
}

/* Pads the column that began at start, and separates it from the next one. */
static char *end_column(char *p, const char *start, const struct column *column)
{
	size_t len = p - start;

	if (len < column->width) {
		memset(p, ' ', column->width - len);
		p += column->width - len;
	}
	*p++ = ' ';
	return p;
}

/* Either the header (event NULL) or one event's line, newline-terminated. */
static size_t format_line(struct formatter *fmt, const struct event *event, char *buf)
{
	const struct column *column, *previous = NULL;
	char *p = buf, *previous_start = buf;

	for (column = fmt->columns; column->field != FIELD_NONE; column++) {
		if (!column_shown(fmt, column))
			continue;
		/* Padding goes after a column only once another follows it. */
		if (previous)
			p = end_column(p, previous_start, previous);
		previous = column;
		previous_start = p;
		p = event ? put_field(p, fmt, column->field, event) : put_str(p, column->header);
	}
	*p++ = '\n';
	return p - buf;
}

size_t format_header(struct formatter *fmt, char *buf)
{
	return fmt->flags & FORMAT_JSON ? 0 : format_line(fmt, NULL, buf);
}

static __s64 clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void format_start(struct formatter *fmt)
{
	fmt->start_ns = clock_ns(CLOCK_MONOTONIC);
	fmt->realtime_offset_ns = clock_ns(CLOCK_REALTIME) - fmt->start_ns;
	fmt->clock_second = -1;
	fmt->utc_second = -1;
}

void format_init(struct formatter *fmt, const struct column *columns,
		 const struct event_names *names, unsigned int flags)
{
	*fmt = (struct formatter){ .columns = columns, .names = names, .flags = flags };
	format_start(fmt);
}

/* RFC 3339 in UTC, to the nanosecond; gmtime_r() only when the second changes. */
static char *put_utc_time(char *p, struct formatter *fmt, __u64 ts_ns)
{
	__u64 ns = wall_clock_ns(fmt, ts_ns);
	__s64 second = ns / 1000000000;
	char nanos[9];

	if (second != fmt->utc_second) {
		time_t t = second;
		struct tm tm;
		char *u = fmt->utc_text;

		gmtime_r(&t, &tm);
		u = put_two_digits(u, (tm.tm_year + 1900) / 100);
		u = put_two_digits(u, (tm.tm_year + 1900) % 100);
		*u++ = '-';
		u = put_two_digits(u, tm.tm_mon + 1);
		*u++ = '-';
		u = put_two_digits(u, tm.tm_mday);
		*u++ = 'T';
		u = put_two_digits(u, tm.tm_hour);
		*u++ = ':';
		u = put_two_digits(u, tm.tm_min);
		*u++ = ':';
		put_two_digits(u, tm.tm_sec);
		fmt->utc_second = second;
	}
	memcpy(p, fmt->utc_text, sizeof(fmt->utc_text));
	p += sizeof(fmt->utc_text);
	*p++ = '.';
	ns %= 1000000000;
	for (int i = 8; i >= 0; i--, ns /= 10)
		nanos[i] = '0' + ns % 10;
	memcpy(p, nanos, sizeof(nanos));
	p += sizeof(nanos);
	*p++ = 'Z';
	return p;
}

/* A column's value in JSON: put_field()'s, with strings quoted and COMM escaped for JSON. */
static char *put_json_value(char *p, struct formatter *fmt, const struct column *column,
			    const struct event *event)
{
	switch (column->field) {
	case FIELD_COMM:
	case FIELD_PCOMM:
		if (no_task(event))
			return put_str(p, unknown(fmt));
		return put_json_string(
			p, column->field == FIELD_COMM ? event->task.comm : event->task.pcomm,
			EVENT_COMM_LEN);
	case FIELD_LADDR:
	case FIELD_RADDR:
	case FIELD_RESULT:
		*p++ = '"';
		p = put_field(p, fmt, column->field, event);
		*p++ = '"';
		return p;
	default:
		return put_field(p, fmt, column->field, event);
	}
}

char *format_json_head(char *p, struct formatter *fmt, __u64 ts_ns, const char *event)
{
	p = put_str(p, "{\"time_ns\":");
	p = put_u64(p, ts_ns);
	p = put_str(p, ",\"time\":\"");
	p = put_utc_time(p, fmt, ts_ns);
	p = put_str(p, "\",\"event\":\"");
	p = put_str(p, event);
	*p++ = '"';
	return p;
}

/*
 * -j: one JSON object per event: its time, monotonic and RFC 3339, its kind, and every
 * column of the table that has a key, shown or not.
 */
static size_t format_json(struct formatter *fmt, const struct event *event, char *buf)
{
	char *p = format_json_head(buf, fmt, event->ts_ns, fmt->names->event);

	for (const struct column *column = fmt->columns; column->field != FIELD_NONE; column++) {
		if (!column->key)
			continue;
		p = put_str(p, ",\"");
		p = put_str(p, column->key);
		p = put_str(p, "\":");
		p = put_json_value(p, fmt, column, event);
	}
	p = put_str(p, "}\n");
	return p - buf;
}

size_t format_event_named(struct formatter *fmt, const struct event *event,
			  const struct identity *identity, char *buf)
{
	fmt->identity = no_task(event) ? NULL : identity;
	if (fmt->flags & FORMAT_JSON)
		return format_json(fmt, event, buf);
	return format_line(fmt, event, buf);
}

size_t format_event(struct formatter *fmt, const struct event *event, char *buf)
{
	return format_event_named(fmt, event, NULL, buf);
}
