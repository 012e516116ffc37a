/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one event path every subcommand shares: session (BPF) -> ring buffer -> consumer
 * -> formatter -> output, until a signal, a closed reader or an error ends it.
 */
#ifndef TCPTRACE_TRACER_H
#define TCPTRACE_TRACER_H

#include "config.h"
#include "failure.h"

/* How long the consumer waits, once the ring signalled, before it drains: a batch. */
#define TRACER_DRAIN_INTERVAL_MS 10
/* How often losses are checked and, when they grew, reported. */
#define TRACER_LOSS_REPORT_MS 1000

/* 0 on a clean stop (signal, reader gone); -errno with failure filled in otherwise. */
int tracer_run(const struct trace_config *config, struct failure *failure);

#endif /* TCPTRACE_TRACER_H */
