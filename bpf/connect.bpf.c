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
	__u32 pid;
	__u32 tid;
	__u32 uid;
	char comm[EVENT_COMM_LEN];
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
	start.pid = pid_tgid >> 32;
	start.tid = (__u32)pid_tgid;
	start.uid = (__u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(start.comm, sizeof(start.comm));
	/*
	 * Counted once per entry, so that user space's arithmetic holds. An entry already
	 * there is this attempt's, taken by both twins (see connect_twin_notes), or one whose
	 * end was missed, which this attempt takes over.
	 */
	if (bpf_map_update_elem(&connect_in_flight, &key, &start, BPF_NOEXIST) == 0)
		count(COUNTER_CONNECT_STARTED);
	else
		bpf_map_update_elem(&connect_in_flight, &key, &start, BPF_ANY);
	return 0;
}

/*
 * Leaving SYN_SENT for CLOSE without sk_err set: if a SYN is out (packets_out), the
 * application gave up on it (close(), shutdown(), SO_LINGER 0). If none is, connect()
 * itself failed after entering SYN_SENT and before sending one: in practice, no free
 * local port (inet_hash_connect(): EADDRNOTAVAIL); the port shown would be left over
 * from an earlier attempt on the same socket, so none is.
 */
static __always_inline void set_outcome(struct event *event, const struct sock *sk, int newstate,
					bool typed)
{
	if (newstate != TCP_CLOSE) {
		/* SYN_RECV after a bare SYN (simultaneous open) is an answer too. */
		event->outcome = CONNECT_ESTABLISHED;
		return;
	}
	event->error = sk_read(typed, sk, sk_err);
	if (event->error) {
		event->outcome = CONNECT_FAILED;
	} else if (BPF_CORE_READ((const struct tcp_sock *)sk, packets_out)) {
		/* (through the helper even when typed: tcp_sock lies beyond struct sock) */
		event->outcome = CONNECT_ABANDONED;
	} else {
		event->outcome = CONNECT_FAILED;
		event->error = EADDRNOTAVAIL;
		event->lport = 0;
	}
}

static __always_inline int connect_end(const struct sock *sk, int newstate, bool typed)
{
	struct connect_start start, *entry;
	__u64 key = (__u64)sk, now;
	struct event *event;

	entry = bpf_map_lookup_elem(&connect_in_flight, &key);
	if (!entry)
		return 0; /* started before tracing, filtered out, or evicted */
	/* Copy first, then check it is still this socket's: LRU entries are reused at once. */
	__builtin_memcpy(&start, entry, sizeof(start));
	bpf_map_delete_elem(&connect_in_flight, &key);
	if (start.sk != key)
		return 0; /* evicted while we read it: counted as such */
	count(COUNTER_CONNECT_FINISHED);
	now = bpf_ktime_get_ns();
	if (now - start.start_ns < filter_min_latency_ns)
		return 0;
	event = event_reserve(EVENT_CONNECT);
	if (!event)
		return 0;
	event->ts_ns = now;
	event->connect_latency_ns = now - start.start_ns;
	event->flags = EVENT_HAS_DURATION;
	event->pid = start.pid;
	event->tid = start.tid;
	event->uid = start.uid;
	__builtin_memcpy(event->comm, start.comm, sizeof(event->comm));
	event_set_addresses(event, sk, typed);
	set_outcome(event, sk, newstate, typed);
	event_submit(event);
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
static __always_inline int connect_state_change(const struct sock *sk, int oldstate, int newstate,
						bool typed, bool twin)
{
	if (newstate != TCP_SYN_SENT && oldstate != TCP_SYN_SENT)
		return 0;
	if (sk_read(typed, sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	if (twin && !twin_claims(sk, newstate))
		return 0;
	if (newstate == TCP_SYN_SENT)
		return connect_begin(sk, typed);
	return connect_end(sk, newstate, typed);
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
	return connect_state_change(sk, oldstate, newstate, true, true);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(connect_twin_btf, const struct sock *sk, int oldstate, int newstate)
{
	return connect_state_change(sk, oldstate, newstate, true, true);
}

SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(connect_state_raw, const struct sock *sk, int oldstate, int newstate)
{
	return connect_state_change(sk, oldstate, newstate, false, true);
}

SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(connect_twin_raw, const struct sock *sk, int oldstate, int newstate)
{
	return connect_state_change(sk, oldstate, newstate, false, true);
}

SEC("tracepoint/sock/inet_sock_set_state")
int connect_state_tp(struct trace_event_raw_inet_sock_set_state *ctx)
{
	return connect_state_change(ctx->skaddr, ctx->oldstate, ctx->newstate, false, false);
}

/*
 * tcp_set_state() fires the tracepoint for every transition connect and accept -x use
 * (not for a new child's LISTEN -> SYN_RECV, nor a listener's, which go through
 * inet_sk_set_state()): the old state is the socket's at its entry.
 */
SEC("fentry/tcp_set_state")
int BPF_PROG(connect_state_fentry, struct sock *sk, int newstate)
{
	return connect_state_change(sk, sk->__sk_common.skc_state, newstate, true, false);
}

SEC("kprobe/tcp_set_state")
int BPF_KPROBE(connect_state_kprobe, struct sock *sk, int newstate)
{
	return connect_state_change(sk, BPF_CORE_READ(sk, __sk_common.skc_state), newstate, false,
				    false);
}

/*
 * An entry left when its socket goes: the attempt's end was missed (see above). Only
 * where connect_state has no twin.
 */
static __always_inline int connect_destroyed(const struct sock *sk)
{
	__u64 key = (__u64)sk;

	if (!bpf_map_delete_elem(&connect_in_flight, &key))
		count(COUNTER_CONNECT_MISSED);
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
