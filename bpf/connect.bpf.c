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
 * Every way out of SYN_SENT passes this tracepoint before the socket can be destroyed,
 * so the entry is deleted there and no destroy hook is needed. The map is an LRU all the
 * same: a flood of unanswered SYNs evicts the oldest attempts instead of refusing new
 * ones, and user space counts the evictions (see enum counter).
 */
#include "tcptrace.bpf.h"

struct connect_start {
	__u64 start_ns;
	__u32 pid;
	__u32 tid;
	__u32 uid;
	char comm[TASK_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64); /* the struct sock pointer */
	__type(value, struct connect_start);
} connects_in_flight SEC(".maps");

/* Report only attempts at least this slow (the positional min_ms). */
const volatile __u64 filter_min_latency_ns = 0;

static __always_inline int connect_begin(const struct sock *sk)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 key = (__u64)sk;
	struct connect_start start = {};

	if (tgid_filtered_out(pid_tgid >> 32))
		return 0;
	start.start_ns = bpf_ktime_get_ns();
	start.pid = pid_tgid >> 32;
	start.tid = (__u32)pid_tgid;
	start.uid = (__u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(start.comm, sizeof(start.comm));
	if (bpf_map_update_elem(&connects_in_flight, &key, &start, BPF_ANY) == 0)
		count(COUNTER_CONNECT_STARTED);
	return 0;
}

/*
 * Leaving SYN_SENT for CLOSE without sk_err set has two causes. With a local port, the
 * SYN went out and the application gave up (close(), shutdown()). Without one,
 * connect() itself failed to find a free port (inet_hash_connect(): EADDRNOTAVAIL)
 * before any SYN left.
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
	} else if (!event->lport) {
		event->outcome = CONNECT_FAILED;
		event->error = EADDRNOTAVAIL;
	} else {
		event->outcome = CONNECT_ABANDONED;
	}
}

static __always_inline int connect_end(const struct sock *sk, int newstate)
{
	__u64 key = (__u64)sk;
	struct connect_start *start;
	struct event *event;
	__u64 now, latency_ns;

	start = bpf_map_lookup_elem(&connects_in_flight, &key);
	if (!start)
		return 0; /* started before tracing, filtered out, or evicted */
	count(COUNTER_CONNECT_FINISHED);
	now = bpf_ktime_get_ns();
	latency_ns = now - start->start_ns;
	if (latency_ns < filter_min_latency_ns)
		goto out;
	event = event_reserve(EVENT_CONNECT);
	if (!event)
		goto out;
	event->ts_ns = now;
	event->latency_ns = latency_ns;
	event->flags = EVENT_HAS_LATENCY;
	event->pid = start->pid;
	event->tid = start->tid;
	event->uid = start->uid;
	__builtin_memcpy(event->comm, start->comm, sizeof(event->comm));
	event_set_addresses(event, sk);
	set_outcome(event, sk, newstate);
	event_submit(event);
out:
	bpf_map_delete_elem(&connects_in_flight, &key);
	return 0;
}

static __always_inline int connect_state_change(const struct sock *sk, int oldstate, int newstate)
{
	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	if (newstate == TCP_SYN_SENT)
		return connect_begin(sk);
	if (oldstate == TCP_SYN_SENT)
		return connect_end(sk, newstate);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(connect_state_btf, const struct sock *sk, int oldstate, int newstate)
{
	return connect_state_change(sk, oldstate, newstate);
}
