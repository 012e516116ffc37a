/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Once the programs are attached and the ring buffer mapped, tracing needs no privilege:
 * every object is reached through a file descriptor already held. tcptrace then gives
 * up its capabilities, so that whatever a traced process sends through the kernel meets
 * an unprivileged consumer.
 */
#ifndef TCPTRACE_PRIVILEGES_H
#define TCPTRACE_PRIVILEGES_H

#include <stdbool.h>

/*
 * Drops every capability, from every set, and forbids gaining any back (no_new_privs).
 * Kernels before 5.19 with kernel.unprivileged_bpf_disabled set refuse every bpf() call
 * without CAP_BPF, reading a map through a descriptor already held included (5.19 let
 * those through): bpf_works() tells, run with CAP_BPF out of
 * the effective set, and when it says no, CAP_BPF alone is kept (*kept_bpf).
 * 0 or -errno.
 */
int privileges_drop(bool (*bpf_works)(void *ctx), void *ctx, bool *kept_bpf);

#endif /* TCPTRACE_PRIVILEGES_H */
