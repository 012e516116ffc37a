/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A buffered writer for event lines. The consumer formats straight into the buffer and
 * flushes once per drain of the ring buffer, so a busy machine costs one write(2) per
 * batch while a quiet one still shows each event as soon as it is drained.
 */
#ifndef TCPTRACE_OUTPUT_H
#define TCPTRACE_OUTPUT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * A line is written only where FORMAT_LINE_MAX bytes fit (16 KiB, for JSON's longest
 * identity): twice the 64 KiB a drain fills, so that a flush comes about as rarely as
 * before lines could be that long.
 */
#define OUTPUT_BUFFER_SIZE ((size_t)128 * 1024)

struct output {
	int fd;
	/* Set by a signal handler: a write blocked by a stalled reader gives up then. */
	const volatile sig_atomic_t *give_up;
	int error; /* the first write error, as -errno; later output is dropped */
	size_t len;
	char buf[OUTPUT_BUFFER_SIZE];
};

void output_init(struct output *out, int fd, const volatile sig_atomic_t *give_up);
/* Room for at least size bytes (size <= OUTPUT_BUFFER_SIZE); flushes when needed. */
char *output_reserve(struct output *out, size_t size);
void output_commit(struct output *out, size_t len);
/*
 * 0, or the first write error as -errno: -EPIPE once the reader is gone, -EINTR when
 * *give_up was set while the reader let a write block.
 */
int output_flush(struct output *out);

/* The reader of a pipe went away: no need to wait for the next event to find out. */
bool output_reader_gone(const struct output *out);

#endif /* TCPTRACE_OUTPUT_H */
