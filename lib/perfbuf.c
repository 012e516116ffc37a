// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <bpf/libbpf.h>
#include "perfbuf.h"

struct perfbuf {
	struct perf_buffer *buffer;
	ring_buffer_sample_fn on_event;
	void *ctx;
	int drained; /* records handed over by this drain */
	int error;   /* the first callback error of this drain */
};

/* A sample with PERF_SAMPLE_RAW: the header, then the record's size and bytes. */
struct raw_sample {
	struct perf_event_header header;
	__u32 size;
	char data[];
};

/* Records are struct event, padded: room for them with a margin. */
#define RECORD_MAX 512

/*
 * A sample's data begins 4 bytes past an 8-byte boundary: copied to an aligned buffer
 * first, since the callback reads it as a struct.
 */
static int hand_over(struct perfbuf *perfbuf, const struct raw_sample *sample)
{
	_Alignas(16) char record[RECORD_MAX];
	__u32 size = sample->size < sizeof(record) ? sample->size : sizeof(record);

	memcpy(record, sample->data, size);
	return perfbuf->on_event(perfbuf->ctx, record, size);
}

static enum bpf_perf_event_ret on_record(void *ctx, int cpu, struct perf_event_header *header)
{
	struct perfbuf *perfbuf = ctx;
	int err;

	(void)cpu;
	/*
	 * PERF_RECORD_LOST is left alone: the programs count what they could not write, as
	 * for the ring buffer (bpf/tcptrace.bpf.h's perf_submit() says why).
	 */
	if (header->type != PERF_RECORD_SAMPLE)
		return LIBBPF_PERF_EVENT_CONT;
	err = hand_over(perfbuf, (struct raw_sample *)header);
	if (err) {
		/* Like ring_buffer__consume(): the callback's error stops the drain. */
		perfbuf->error = err;
		return LIBBPF_PERF_EVENT_ERROR;
	}
	perfbuf->drained++;
	return LIBBPF_PERF_EVENT_CONT;
}

/* The pages for each CPU's buffer: bytes shared out, a power of two, at least 8. */
static size_t pages_per_cpu(size_t bytes)
{
	long page = sysconf(_SC_PAGESIZE);
	int ncpus = libbpf_num_possible_cpus();
	size_t pages = 8;

	if (ncpus < 1)
		ncpus = 1;
	while (pages * 2 * page * ncpus <= bytes)
		pages *= 2;
	return pages;
}

int perfbuf_open(struct perfbuf **out, int map_fd, size_t bytes, ring_buffer_sample_fn on_event,
		 void *ctx)
{
	/*
	 * A wakeup per record: a watermark would leave a lone record unread until more
	 * came. The tracer stops listening while it gathers a batch (tracer.c).
	 */
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_BPF_OUTPUT,
		.sample_type = PERF_SAMPLE_RAW,
		.sample_period = 1,
		.wakeup_events = 1,
	};
	struct perfbuf *perfbuf = calloc(1, sizeof(*perfbuf));

	if (!perfbuf)
		return -ENOMEM;
	perfbuf->on_event = on_event;
	perfbuf->ctx = ctx;
	perfbuf->buffer =
		perf_buffer__new_raw(map_fd, pages_per_cpu(bytes), &attr, on_record, perfbuf, NULL);
	if (!perfbuf->buffer) {
		int err = -errno;

		free(perfbuf);
		return err;
	}
	*out = perfbuf;
	return 0;
}

int perfbuf_fd(const struct perfbuf *perfbuf)
{
	return perf_buffer__epoll_fd(perfbuf->buffer);
}

int perfbuf_drain(struct perfbuf *perfbuf)
{
	int err;

	perfbuf->drained = 0;
	perfbuf->error = 0;
	err = perf_buffer__consume(perfbuf->buffer);
	if (perfbuf->error)
		return perfbuf->error;
	return err < 0 ? err : perfbuf->drained;
}

void perfbuf_free(struct perfbuf *perfbuf)
{
	if (!perfbuf)
		return;
	perf_buffer__free(perfbuf->buffer);
	free(perfbuf);
}
