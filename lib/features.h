/* SPDX-License-Identifier: GPL-2.0-only */
/* tcptrace features: what this kernel offers tcptrace. No libbpf here: cmd/ includes it. */
#ifndef TCPTRACE_FEATURES_H
#define TCPTRACE_FEATURES_H

#include "config.h"
#include "failure.h"

int features_run(const struct trace_config *config, struct failure *failure);

#endif /* TCPTRACE_FEATURES_H */
