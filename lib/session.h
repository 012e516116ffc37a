/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The BPF side's lifecycle, in libbpf-bootstrap's order: check the kernel can run us,
 * open the skeleton, set the .rodata filters, keep only the command's programs, load,
 * attach, map the ring buffer; then poll; then tear everything down.
 *
 * Functions return 0 or -errno and print nothing; on failure they say what they were
 * doing in struct failure, so that the caller can write one line with context.
 */
#ifndef TCPTRACE_SESSION_H
#define TCPTRACE_SESSION_H

#include <bpf/libbpf.h>
#include <linux/types.h>
#include "config.h"
#include "failure.h"

struct tcptrace;
struct perfbuf;

#define SESSION_MAX_LINKS 16
/* Every attach method, with each way of the preferred probes, then without. */
#define SESSION_PREFERRED_WAYS 3
#define SESSION_MAX_ATTEMPTS   ((SESSION_PREFERRED_WAYS + 1) * ATTACH_KPROBE)
#define SESSION_TRACEFS	       "/sys/kernel/tracing"
#define SESSION_RING_SIZE      (1 << 20) /* bpf/tcptrace.bpf.h's, unless -b */

struct session {
	const struct trace_config *config; /* the caller's, for as long as the session */
	struct tcptrace *skel;
	struct ring_buffer *ring;
	/* Where the kernel has no ring buffer (before 5.8), or refuses one: a perf buffer. */
	bool perf_buffer;
	struct perfbuf *perf;
	struct bpf_link *links[SESSION_MAX_LINKS];
	struct bpf_program *programs[SESSION_MAX_LINKS]; /* links[i] is programs[i]'s */
	unsigned int nr_links;
	enum attach_method method; /* the attach method that worked */
	bool mounted_tracefs;	   /* tracefs was missing and this session mounted it */
	const char *tracefs;	   /* where tracefs is, when a program needs it */
	/* Optional programs left out (this kernel lacks their event), and, for -v, the
	 * attach methods tried before the one that worked, with what went wrong. */
	struct {
		char event[64];
		const char *lost;
	} missing_events[CONFIG_PROGRAM_LIST];
	char fallbacks[SESSION_MAX_ATTEMPTS][512];
	/* What this kernel cannot give, of config->limits: to be told once. */
	const struct kernel_limit *limits[CONFIG_PROGRAM_LIST];
};

struct losses {
	__u64 ringbuf_full;	/* events the kernel could not reserve room for */
	__u64 inflight_evicted; /* attempts pushed out of the in-flight map */
	__u64 inflight_missed;	/* attempts whose end a busy program missed */
	__u64 recursion_misses; /* program runs the kernel skipped: already running there */
	__u64 taken_by_twin;	/* the same, for programs whose twin took those runs: no loss */
};

/*
 * The kinds of loss the kernel side counts, each a __u64 of struct losses: how stderr
 * words them (what, why), and how serve's tcptrace_events_lost_total labels them.
 */
struct loss_kind {
	const char *what;
	const char *why;
	const char *label;
	size_t offset;
};
extern const struct loss_kind loss_kinds[];
extern const size_t nr_loss_kinds;
static inline __u64 *loss_count(struct losses *losses, const struct loss_kind *kind)
{
	return (__u64 *)((char *)losses + kind->offset);
}

int session_open(struct session *session, const struct trace_config *config,
		 ring_buffer_sample_fn on_event, void *ctx, struct failure *failure);
/*
 * The ring buffer's map, to wait on (edge-triggered): it signals the first record after
 * a drain, and a ring a quarter full (bpf/tcptrace.bpf.h's event_submit()). The perf
 * buffer's descriptor instead signals every record (session_signals_each_record()).
 */
int session_ring_fd(const struct session *session);
bool session_signals_each_record(const struct session *session);
/* Hands every record in the ring to the session's callback: their count, or -errno. */
int session_drain(struct session *session);
/* While tracing, lower bounds; exact once detached. */
int session_read_losses(struct session *session, struct losses *losses);
/*
 * Whether bpf() still reads the session's maps with the process's present privileges:
 * for privileges_drop(), hence the void pointer.
 */
bool session_bpf_works(void *session);
/* Stops new events; the maps and counters stay readable until session_close(). */
void session_detach(struct session *session);
void session_close(struct session *session);

#endif /* TCPTRACE_SESSION_H */
