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
 * one way to miss that is for the program to be busy on the same CPU already (a
 * softirq's state change interrupting a task's): tcp_destroy_sock then removes the
 * entry, and counts the attempt as missed. The map is an LRU besides, so that a flood
 * of unanswered SYNs evicts the oldest attempts instead of refusing new ones; user space
 * counts the evictions (see enum counter).
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

/* Report only attempts at least this slow (the positional min_ms). */
const volatile __u64 filter_min_latency_ns = 0;

static __always_inline int connect_begin(const struct sock *sk)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 key = (__u64)sk;
	struct connect_start start = {};

	if (tgid_filtered_out(pid_tgid >> 32))
		return 0;
	start.sk = key;
	start.start_ns = bpf_ktime_get_ns();
	start.pid = pid_tgid >> 32;
	start.tid = (__u32)pid_tgid;
	start.uid = (__u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(start.comm, sizeof(start.comm));
	if (bpf_map_update_elem(&connect_in_flight, &key, &start, BPF_ANY) == 0)
		count(COUNTER_CONNECT_STARTED);
	return 0;
}

/*
 * Leaving SYN_SENT for CLOSE without sk_err set: if a SYN is out (packets_out), the
 * application gave up on it (close(), shutdown(), SO_LINGER 0). If none is, connect()
 * itself failed after entering SYN_SENT and before sending one: in practice, no free
 * local port (inet_hash_connect(): EADDRNOTAVAIL); the port shown would be left over
 * from an earlier attempt on the same socket, so none is.
 */
static __always_inline void set_outcome(struct event *event, const struct sock *sk, int newstate)
{
	if (newstate != TCP_CLOSE) {
		/* SYN_RECV after a bare SYN (simultaneous open) is an answer too. */
		event->outcome = CONNECT_ESTABLISHED;
		return;
	}
	event->error = BPF_CORE_READ(sk, sk_err);
	if (event->error) {
		event->outcome = CONNECT_FAILED;
	} else if (BPF_CORE_READ((const struct tcp_sock *)sk, packets_out)) {
		event->outcome = CONNECT_ABANDONED;
	} else {
		event->outcome = CONNECT_FAILED;
		event->error = EADDRNOTAVAIL;
		event->lport = 0;
	}
}

static __always_inline int connect_end(const struct sock *sk, int newstate)
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
	event_set_addresses(event, sk);
	set_outcome(event, sk, newstate);
	event_submit(event);
	return 0;
}

/* The state compares come first: this runs on every state change of every TCP socket. */
static __always_inline int connect_state_change(const struct sock *sk, int oldstate, int newstate)
{
	if (newstate != TCP_SYN_SENT && oldstate != TCP_SYN_SENT)
		return 0;
	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	if (newstate == TCP_SYN_SENT)
		return connect_begin(sk);
	return connect_end(sk, newstate);
}

/*
 * Each probe comes in the ways a kernel may offer it, best first; user space keeps one
 * (lib/session.c): tp_btf (typed arguments), raw_tp (the same arguments, untyped), the
 * classic tracepoint (its record, through tracefs), and, where a kernel has no such
 * tracepoint, fentry or a kprobe on the function that fires it. Every field is read
 * with CO-RE helpers, so one handler serves them all.
 */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(connect_state_btf, const struct sock *sk, int oldstate, int newstate)
{
	return connect_state_change(sk, oldstate, newstate);
}

SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(connect_state_raw, const struct sock *sk, int oldstate, int newstate)
{
	return connect_state_change(sk, oldstate, newstate);
}

SEC("tracepoint/sock/inet_sock_set_state")
int connect_state_tp(struct trace_event_raw_inet_sock_set_state *ctx)
{
	return connect_state_change(ctx->skaddr, ctx->oldstate, ctx->newstate);
}

/*
 * tcp_set_state() fires the tracepoint for every transition connect and accept -x use
 * (not for a new child's LISTEN -> SYN_RECV, nor a listener's, which go through
 * inet_sk_set_state()): the old state is the socket's at its entry.
 */
SEC("fentry/tcp_set_state")
int BPF_PROG(connect_state_fentry, struct sock *sk, int newstate)
{
	return connect_state_change(sk, BPF_CORE_READ(sk, __sk_common.skc_state), newstate);
}

SEC("kprobe/tcp_set_state")
int BPF_KPROBE(connect_state_kprobe, struct sock *sk, int newstate)
{
	return connect_state_change(sk, BPF_CORE_READ(sk, __sk_common.skc_state), newstate);
}

/* An entry left when its socket goes: the attempt's end was missed (see above). */
static __always_inline int connect_destroyed(const struct sock *sk)
{
	__u64 key = (__u64)sk;

	if (!bpf_map_delete_elem(&connect_in_flight, &key))
		count(COUNTER_CONNECT_MISSED);
	return 0;
}

SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(connect_destroy_btf, struct sock *sk)
{
	return connect_destroyed(sk);
}

SEC("raw_tp/tcp_destroy_sock")
int BPF_PROG(connect_destroy_raw, struct sock *sk)
{
	return connect_destroyed(sk);
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
