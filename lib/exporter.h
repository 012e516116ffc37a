/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The metrics exporter: events counted into lib/metrics.h's families, served over HTTP
 * (lib/http.h) with what the session knows (losses, the programs' run time) and the
 * process's own figures. Each scrape first drains the ring buffer, so that it counts
 * every event that came before it.
 */
#ifndef TCPTRACE_EXPORTER_H
#define TCPTRACE_EXPORTER_H

#include <linux/types.h>
#include "config.h"
#include "failure.h"
#include "metrics.h"

struct event;
struct identity;
struct session;
struct losses;
struct http_server;

struct exporter {
	const struct trace_config *config;
	struct session *session;
	/* The losses as the tracer reports them: totals that never go down. */
	const struct losses *losses;
	struct metrics metrics;
	int listen_fd;
	int bpf_stats_fd; /* keeps the kernel's BPF statistics on; -1 when not ours */
	struct http_server *http;
};

/*
 * Before privileges are dropped: binds the listening socket and, with --bpf-stats,
 * switches the kernel's BPF statistics on. 0, or -errno with failure filled in.
 */
int exporter_open(struct exporter *exporter, const struct trace_config *config,
		  struct session *session, const struct losses *losses, struct failure *failure);
/* Serves, with no privilege. 0, or -errno with failure filled in. */
int exporter_start(struct exporter *exporter, struct failure *failure);
/* Counts an event; identify() names its task when the metrics ask (lib/metrics.h). */
void exporter_count(struct exporter *exporter, const struct event *event,
		    metrics_identify_fn identify, void *ctx);
/* The descriptor to wait on, and for how long at most (ms, -1 for ever). */
int exporter_wait_fd(const struct exporter *exporter);
int exporter_timeout_ms(struct exporter *exporter);
/* Answers whatever requests are ready, and forgets stale label sets. */
int exporter_run(struct exporter *exporter, __u64 now_ns);
void exporter_close(struct exporter *exporter);

#endif /* TCPTRACE_EXPORTER_H */
