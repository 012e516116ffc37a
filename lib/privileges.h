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

/* The kernel's overflow UID and GID: nobody, nogroup. */
#define PRIVILEGES_NOBODY 65534

struct privileges_dropped {
	const char *kept; /* the capability kept for bpf(), or NULL: none was */
	bool left_root;	  /* the user and group IDs were root's, and are nobody's now */
};

/*
 * Drops every capability, from every set, and forbids gaining any back (no_new_privs);
 * run as root, becomes nobody too. Kernels before 5.19 with
 * kernel.unprivileged_bpf_disabled set refuse every bpf() call without CAP_BPF (or
 * CAP_SYS_ADMIN), reading a map through a descriptor already held included (5.19 let
 * those through): bpf_works() tells, run with that capability out of the effective set,
 * and when it says no, the capability alone is kept. 0 or -errno.
 */
int privileges_drop(bool (*bpf_works)(void *ctx), void *ctx, struct privileges_dropped *dropped);

#endif /* TCPTRACE_PRIVILEGES_H */
