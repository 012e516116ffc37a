// SPDX-License-Identifier: GPL-2.0-only
/*
 * tcptrace connect: every active TCP connection attempt, its outcome and its latency.
 *
 * Built on the stable tracepoint sock:inet_sock_set_state alone:
 *   CLOSE -> SYN_SENT runs in the task calling connect(): remember who and when, keyed by
 *     the socket. (The local port is not chosen yet; it is read at the end.)
 *   SYN_SENT -> anything runs wherever the outcome arrives (softirq for a SYN-ACK, RST or
 *     ICMP error, the timer for a timeout, the task for close()): report the attempt
 *     with the identity remembered at the start.
 * Every way out of SYN_SENT passes this tracepoint, and the entry is deleted there. The
 * one way to miss it is for the program to be busy on the same CPU already: a softirq's
 * state change interrupting the program while it handles a task's. The kernel then skips
 * the program, but only that program: for tp_btf and raw_tp, which a tracepoint runs one
 * after the other with preemption off, a twin attached to the same event takes the
 * change the other was skipped for. Where the kernel keeps one guard for all programs
 * (classic tracepoints, kprobes), or a program may be preempted mid-run and its twin run
 * on another CPU (fentry), a third program on tcp_destroy_sock removes the entry a
 * missed end leaves, and counts the attempt as missed. The map is an LRU besides, so
 * that a flood of unanswered SYNs evicts the oldest attempts instead of refusing new
 * ones; user space counts the evictions (see enum counter).
 */
#include "tcptrace.bpf.h"

struct connect_start {
	__u64 sk; /* the key, again: an LRU may hand the entry to another socket meanwhile */
	__u64 start_ns;
	__u64 soft_error_ns; /* when soft_error came */
	__s32 soft_error;    /* an ICMP error kept for SO_ERROR (see connect_error_reported()) */
	__u32 __pad;
	struct event_task task; /* who called connect() */
};

/* Sized by user space for the number of CPUs (LRU maps keep free entries per CPU). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64); /* the struct sock pointer */
	__type(value, struct connect_start);
} connect_in_flight SEC(".maps");

/*
 * Notes the twins leave each other, per CPU: a change is the socket and its new state.
 * The first twin to run for a change notes it and takes it; the second finds the note,
 * removes it, and leaves the change alone. A twin the kernel skipped notes nothing, so
 * the other, finding no note, takes the change, and its own note stays behind. The
 * next change of the same socket and state (freed socket memory is soon reused) then
 * finds that note, and the twins swap roles: still one takes it. A change is lost only
 * if both twins are skipped for it, which needs three nested levels of TCP state
 * changes on one CPU (there are two: task and softirq), or if a twin is skipped again
 * for the same socket and state while the stale note is among the last few; such a
 * loss is not counted. Which twin runs first does not matter. The other way round, a
 * softirq between the two twins that makes more changes than there are notes pushes
 * the first twin's note out, and the second takes the change again: at an attempt's
 * end it finds nothing left to do, at its start it restarts the clock a few
 * microseconds later and counts nothing twice (connect_begin()).
 */
#define RECENT_CHANGES 16

struct recent_changes {
	__u64 socks[RECENT_CHANGES];
	__u8 states[RECENT_CHANGES];
	__u32 next;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct recent_changes);
} connect_twin_notes SEC(".maps");

/* Report only attempts at least this slow (the positional min_ms). */
const volatile __u64 filter_min_latency_ns = 0;

static __always_inline int connect_begin(const struct sock *sk, bool typed)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 key = (__u64)sk;
	struct connect_start start = {};

	if (task_filtered_out(pid_tgid) || socket_filtered_out(sk, typed) ||
	    port_filtered_out(bpf_ntohs(sk_read(typed, sk, __sk_common.skc_dport))))
		return 0;
	start.sk = key;
	start.start_ns = bpf_ktime_get_ns();
	get_current_task(&start.task, pid_tgid);
	/*
	 * Counted once per entry, so that user space's arithmetic holds. An entry already
	 * there is this attempt's, taken by both twins (see connect_twin_notes), or one whose
	 * end was missed, which this attempt takes over.
	 */
	if (bpf_map_update_elem(&connect_in_flight, &key, &start, BPF_NOEXIST) == 0)
		count(COUNTER_INFLIGHT_STARTED);
	else
		bpf_map_update_elem(&connect_in_flight, &key, &start, BPF_ANY);
	return 0;
}

/* Before 6.6, TCP Fast Open's deferred connect was a bit field of its own. */
struct inet_sock___bitfields {
	__u8 defer_connect : 1;
} __attribute__((preserve_access_index));

/*
 * connect() with TCP_FASTOPEN_CONNECT and a cookie in hand returns 0 at once and leaves
 * the SYN, with the data, to the first write.
 */
static __always_inline bool syn_deferred(const struct sock *sk)
{
	const struct inet_sock___bitfields *old = (const void *)sk;
	const struct inet_sock *inet = (const void *)sk;

	if (bpf_core_field_exists(old->defer_connect))
		return BPF_CORE_READ_BITFIELD_PROBED(old, defer_connect);
	/*
	 * Since 6.6 a bit of inet_flags, numbered by an enum without a name, which CO-RE
	 * cannot relocate: its value is the build kernel's (checked on each tested kernel).
	 */
	return BPF_CORE_READ(inet, inet_flags) & (1UL << INET_FLAGS_DEFER_CONNECT);
}

/* How an attempt ended, worked out before an event is reserved (min_ms needs it). */
struct outcome {
	__u64 latency_ns;
	__s32 error;
	__u8 kind;	    /* enum connect_outcome */
	bool has_latency;   /* a round trip was measured */
	bool no_local_port; /* connect() failed before it chose one */
};

/*
 * A SYN carrying TCP Fast Open may have left at the first write, long after connect()
 * (syn_deferred()). Its round trip is then the SYN-ACK's RTT sample, which the kernel
 * takes before it enters ESTABLISHED: exact unless the SYN was sent again.
 */
static __always_inline __u64 established_latency(const struct sock *sk, __u64 elapsed_ns)
{
	const struct tcp_sock *tp = (const void *)sk;
	__u32 srtt_us;

	if (!BPF_CORE_READ_BITFIELD_PROBED(tp, syn_fastopen) || BPF_CORE_READ(tp, total_retrans))
		return elapsed_ns;
	srtt_us = BPF_CORE_READ(tp, srtt_us) >> 3; /* the first sample, unsmoothed */
	if (!srtt_us || srtt_us * 1000ULL > elapsed_ns)
		return elapsed_ns;
	return srtt_us * 1000ULL;
}

/*
 * Leaving SYN_SENT for CLOSE, in order of what the application was told:
 * - sk_err set: refused (RST), timed out, or an ICMP error while connect() did not hold
 *   the socket;
 * - an ICMP error kept as the soft error (connect() held the socket when it came), and
 *   sk_err_soft since cleared: the application took it with SO_ERROR, as event loops do
 *   after poll() says POLLERR. The latency is the ICMP's. Still set: the application
 *   closed without asking, and gave up on the attempt like any other;
 * - a SYN out (packets_out): the application gave up on it (close(), shutdown(),
 *   SO_LINGER 0);
 * - no SYN out, and Fast Open's connect waiting for data: closed before writing;
 * - no SYN out otherwise: connect() itself failed after entering SYN_SENT and before
 *   sending one, in practice for lack of a free local port (inet_hash_connect():
 *   EADDRNOTAVAIL). The port would be left over from an earlier attempt on the same
 *   socket, so none is shown.
 */
static __always_inline void closed_outcome(struct outcome *outcome, const struct sock *sk,
					   const struct connect_start *start, bool typed)
{
	outcome->kind = CONNECT_FAILED;
	outcome->error = sk_read(typed, sk, sk_err);
	if (outcome->error)
		return;
	if (start->soft_error && !sk_read(typed, sk, sk_err_soft)) {
		outcome->error = start->soft_error;
		outcome->latency_ns = start->soft_error_ns - start->start_ns;
		return;
	}
	/* (through the helper even when typed: tcp_sock lies beyond struct sock) */
	if (BPF_CORE_READ((const struct tcp_sock *)sk, packets_out)) {
		outcome->kind = CONNECT_ABANDONED;
	} else if (syn_deferred(sk)) {
		outcome->kind = CONNECT_UNSENT;
		outcome->has_latency = false;
	} else {
		outcome->error = EADDRNOTAVAIL;
		outcome->no_local_port = true;
	}
}

static __always_inline void get_outcome(struct outcome *outcome, const struct sock *sk,
					int newstate, const struct connect_start *start, __u64 now,
					bool typed)
{
	outcome->latency_ns = now - start->start_ns;
	outcome->has_latency = true;
	if (newstate == TCP_CLOSE) {
		closed_outcome(outcome, sk, start, typed);
		return;
	}
	/* SYN_RECV after a bare SYN (simultaneous open) is an answer too. */
	outcome->kind = CONNECT_ESTABLISHED;
	outcome->latency_ns = established_latency(sk, outcome->latency_ns);
}

static __always_inline int connect_end(void *ctx, const struct sock *sk, int newstate, bool typed)
{
	struct connect_start start, *entry;
	__u64 key = (__u64)sk, now;
	struct outcome outcome = {};
	struct event *event;

	entry = bpf_map_lookup_elem(&connect_in_flight, &key);
	if (!entry)
		return 0; /* started before tracing, filtered out, or evicted */
	/* Copy first, then check it is still this socket's: LRU entries are reused at once. */
	__builtin_memcpy(&start, entry, sizeof(start));
	bpf_map_delete_elem(&connect_in_flight, &key);
	if (start.sk != key)
		return 0; /* evicted while we read it: counted as such */
	count(COUNTER_INFLIGHT_FINISHED);
	now = bpf_ktime_get_ns();
	get_outcome(&outcome, sk, newstate, &start, now, typed);
	/* min_ms: an attempt without a round trip took no time to compare. */
	if (filter_min_latency_ns &&
	    (!outcome.has_latency || outcome.latency_ns < filter_min_latency_ns))
		return 0;
	event = event_reserve(EVENT_CONNECT);
	if (!event)
		return 0;
	event->ts_ns = now;
	if (outcome.has_latency) {
		event->connect_latency_ns = outcome.latency_ns;
		event->flags = EVENT_HAS_DURATION;
	}
	event->task = start.task;
	event_set_addresses(event, sk, typed);
	event->outcome = outcome.kind;
	event->error = outcome.error;
	if (outcome.no_local_port)
		event->lport = 0;
	event_submit(ctx, event);
	return 0;
}

/* Is this change for this twin to take? Only if the other has not taken it already. */
static __always_inline bool twin_claims(const struct sock *sk, int newstate)
{
	struct recent_changes *recent;
	__u32 zero = 0, slot;

	recent = bpf_map_lookup_elem(&connect_twin_notes, &zero);
	if (!recent)
		return true;
	for (int i = 0; i < RECENT_CHANGES; i++) {
		if (recent->socks[i] == (__u64)sk && recent->states[i] == newstate) {
			recent->socks[i] = 0;
			return false;
		}
	}
	slot = recent->next++ % RECENT_CHANGES;
	recent->socks[slot] = (__u64)sk;
	recent->states[slot] = newstate;
	return true;
}

/*
 * The state compares come first: this runs on every state change of every TCP socket.
 * typed: sk may be loaded from directly (tp_btf, fentry). twin: one of two programs on
 * the same tracepoint, of which the first to run takes each change.
 */
static __always_inline int connect_state_change(void *ctx, const struct sock *sk, int oldstate,
						int newstate, bool typed, bool twin)
{
	if (newstate != TCP_SYN_SENT && oldstate != TCP_SYN_SENT)
		return 0;
	if (sk_read_protocol(typed, sk) != IPPROTO_TCP)
		return 0;
	if (twin && !twin_claims(sk, newstate))
		return 0;
	if (newstate == TCP_SYN_SENT)
		return connect_begin(sk, typed);
	return connect_end(ctx, sk, newstate, typed);
}

/*
 * Each probe comes in the ways a kernel may offer it, best first; user space keeps one
 * (lib/session.c): tp_btf (typed arguments), raw_tp (the same arguments, untyped), the
 * classic tracepoint (its record, through tracefs), and, where a kernel has no such
 * tracepoint, fentry or a kprobe on the function that fires it. Every field is read
 * with CO-RE, so one handler serves them all.
 */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(connect_state_btf, const struct sock *sk, int oldstate, int newstate)
{
	return connect_state_change(ctx, sk, oldstate, newstate, true, true);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(connect_twin_btf, const struct sock *sk, int oldstate, int newstate)
{
	return connect_state_change(ctx, sk, oldstate, newstate, true, true);
}

SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(connect_state_raw, const struct sock *sk, int oldstate, int newstate)
{
	return connect_state_change(ctx, sk, oldstate, newstate, false, true);
}

SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(connect_twin_raw, const struct sock *sk, int oldstate, int newstate)
{
	return connect_state_change(ctx, sk, oldstate, newstate, false, true);
}

SEC("tracepoint/sock/inet_sock_set_state")
int connect_state_tp(struct trace_event_raw_inet_sock_set_state *ctx)
{
	return connect_state_change(ctx, ctx->skaddr, ctx->oldstate, ctx->newstate, false, false);
}

/*
 * tcp_set_state() fires the tracepoint for every transition connect and accept -x use
 * (not for a new child's LISTEN -> SYN_RECV, nor a listener's, which go through
 * inet_sk_set_state()): the old state is the socket's at its entry.
 */
SEC("fentry/tcp_set_state")
int BPF_PROG(connect_state_fentry, struct sock *sk, int newstate)
{
	return connect_state_change(ctx, sk, sk->__sk_common.skc_state, newstate, true, false);
}

SEC("kprobe/tcp_set_state")
int BPF_KPROBE(connect_state_kprobe, struct sock *sk, int newstate)
{
	return connect_state_change(ctx, sk, BPF_CORE_READ(sk, __sk_common.skc_state), newstate,
				    false, false);
}

/*
 * An entry left when its socket goes: the attempt's end was missed (see above). Only
 * where connect_state has no twin.
 */
static __always_inline int connect_destroyed(const struct sock *sk)
{
	__u64 key = (__u64)sk;

	if (!bpf_map_delete_elem(&connect_in_flight, &key))
		count(COUNTER_INFLIGHT_MISSED);
	return 0;
}

SEC("tracepoint/tcp/tcp_destroy_sock")
int connect_destroy_tp(struct trace_event_raw_tcp_event_sk *ctx)
{
	return connect_destroyed(ctx->skaddr);
}

/* tcp_v4_destroy_sock() fires the tracepoint, for IPv6 sockets too. */
SEC("fentry/tcp_v4_destroy_sock")
int BPF_PROG(connect_destroy_fentry, struct sock *sk)
{
	return connect_destroyed(sk);
}

SEC("kprobe/tcp_v4_destroy_sock")
int BPF_KPROBE(connect_destroy_kprobe, struct sock *sk)
{
	return connect_destroyed(sk);
}

/*
 * An ICMP error for an attempt's SYN (unreachable, prohibited, port unreachable) that
 * comes while connect() still holds the socket: on a veth pair or loopback it comes
 * within connect() itself, and a REJECT rule in the local output path always does. The
 * kernel cannot close the socket then: tcp_v4_err() and tcp_v6_err() keep the error as
 * the soft error, which SO_ERROR hands to the application (and clears), the socket left
 * in SYN_SENT. Before that, they queue it on the socket's error queue and report it:
 * this is where it is seen, on an event that fires only for socket errors.
 */
#define SO_EE_ORIGIN_ICMP  2
#define SO_EE_ORIGIN_ICMP6 3

/* The errno of the ICMP error just queued on the socket (the queue's tail), or 0. */
static __always_inline __s32 queued_icmp_error(const struct sock *sk)
{
	struct sk_buff *skb = BPF_CORE_READ(sk, sk_error_queue.prev);
	struct sock_exterr_skb *serr;
	__u8 origin;

	if (!skb || (void *)skb == (void *)&sk->sk_error_queue)
		return 0; /* empty: the queue's head links to itself */
	serr = (struct sock_exterr_skb *)skb->cb;
	origin = BPF_CORE_READ(serr, ee.ee_origin);
	if (origin != SO_EE_ORIGIN_ICMP && origin != SO_EE_ORIGIN_ICMP6)
		return 0;
	return BPF_CORE_READ(serr, ee.ee_errno);
}

/* typed: as for connect_state_change(). */
static __always_inline int connect_error_reported(const struct sock *sk, bool typed)
{
	struct connect_start *entry;
	__u64 key = (__u64)sk;
	__s32 error;

	/* With sk_err set the error is hard: the change to CLOSE that follows reports it. */
	if (sk_read(typed, sk, __sk_common.skc_state) != TCP_SYN_SENT ||
	    sk_read(typed, sk, sk_err) || sk_read_protocol(typed, sk) != IPPROTO_TCP)
		return 0;
	entry = bpf_map_lookup_elem(&connect_in_flight, &key);
	if (!entry || entry->sk != key)
		return 0;
	error = queued_icmp_error(sk);
	if (!error)
		return 0;
	entry->soft_error = error;
	entry->soft_error_ns = bpf_ktime_get_ns();
	return 0;
}

/*
 * sk_error_report() fires the tracepoint (Linux 5.13 and later). Its classic form's record
 * has no socket to find the attempt by: no "tracepoint" variant.
 */
SEC("tp_btf/inet_sk_error_report")
int BPF_PROG(connect_error_btf, const struct sock *sk)
{
	return connect_error_reported(sk, true);
}

SEC("raw_tp/inet_sk_error_report")
int BPF_PROG(connect_error_raw, const struct sock *sk)
{
	return connect_error_reported(sk, false);
}

SEC("fentry/sk_error_report")
int BPF_PROG(connect_error_fentry, struct sock *sk)
{
	return connect_error_reported(sk, true);
}

SEC("kprobe/sk_error_report")
int BPF_KPROBE(connect_error_kprobe, struct sock *sk)
{
	return connect_error_reported(sk, false);
}
