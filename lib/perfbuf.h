/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The events' other transport, for kernels without the BPF ring buffer (before 5.8): a
 * perf buffer per CPU, read with libbpf's perf_buffer, handing each record to the same
 * callback the ring buffer would. The programs count the records a full buffer refused.
 */
#ifndef TCPTRACE_PERFBUF_H
#define TCPTRACE_PERFBUF_H

#include <stddef.h>
#include <bpf/libbpf.h>
#include <linux/types.h>

struct perfbuf;

/* On the events map, turned into a perf event array; bytes are shared out among CPUs. */
int perfbuf_open(struct perfbuf **perfbuf, int map_fd, size_t bytes, ring_buffer_sample_fn on_event,
		 void *ctx);
/* An epoll descriptor: readable when a CPU's buffer has records. */
int perfbuf_fd(const struct perfbuf *perfbuf);
/* Every record waiting, to the callback: their count, or -errno (the callback's too). */
int perfbuf_drain(struct perfbuf *perfbuf);
void perfbuf_free(struct perfbuf *perfbuf);

#endif /* TCPTRACE_PERFBUF_H */
