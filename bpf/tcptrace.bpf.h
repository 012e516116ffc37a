/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What every BPF source file of tcptrace shares: the ring buffer, the counters, the
 * filters user space sets before load, and the helpers that use them. The definitions
 * live in common.bpf.c; the static linker joins all files into one object.
 */
#ifndef TCPTRACE_BPF_H
#define TCPTRACE_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_tracing.h>
#include "event.h"

#define AF_INET	      2
#define AF_INET6      10
#define IPPROTO_TCP   6
#define EADDRNOTAVAIL 99
#define PF_IO_WORKER  0x00000010 /* include/linux/sched.h: an io_uring worker thread */

/*
 * Named types, so that the definitions in common.bpf.c match these declarations. Where
 * the kernel has no ring buffer (before 5.8), user space turns events into a per-CPU
 * perf event array before load, and sets use_perf_buffer.
 */
struct events_map {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20); /* bytes; -b resizes it before load */
};

/*
 * The perf buffer's records are written whole, so they are built first in a slot per
 * CPU and nesting level: a softirq's program may interrupt a task's between reserve and
 * submit, and an NMI a softirq's.
 */
#define EVENT_NESTING 4

struct event_slots {
	__u32 depth;
	__u32 unused;
	struct event slots[EVENT_NESTING];
};

struct event_slots_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct event_slots);
};

struct counters_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, COUNTER_MAX);
	__type(key, __u32);
	__type(value, __u64);
};

extern struct events_map events SEC(".maps");
extern struct event_slots_map event_slots SEC(".maps");
extern struct counters_map counters SEC(".maps");
extern const volatile bool use_perf_buffer;

/* Filters: .rodata, so the verifier prunes the branches of a filter that is off. */
extern const volatile __u32 filter_tgid; /* -p; 0: every process */
extern const volatile bool filter_ports_enabled;
extern const volatile __u32 filter_uid;		  /* -u; FILTER_UID_ANY: every user */
extern const volatile bool filter_cgroup_enabled; /* --cgroup */
extern const volatile __u16 filter_family;	  /* -4, -6; 0: both */
extern const volatile __u32 filter_netns;	  /* --netns: its inode number; 0: all */

/* --cgroup: the cgroup (v2) whose tasks, and its descendants', are traced. */
struct filter_cgroup_map {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
};

extern struct filter_cgroup_map filter_cgroup SEC(".maps");

/* The ports of -P; a map, as a list of any length costs one lookup. */
struct filter_ports_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FILTER_PORTS_MAX);
	__type(key, __u16);
	__type(value, __u8);
};

extern struct filter_ports_map filter_ports SEC(".maps");
/* Wake the consumer early once this much is waiting; else it drains on its own timer. */
extern const volatile __u64 wakeup_bytes;

static __always_inline void count(enum counter counter)
{
	__u32 key = counter;
	__u64 *value = bpf_map_lookup_elem(&counters, &key);

	/* Atomic: programs share the counters, and a softirq's may interrupt a task's. */
	if (value)
		__sync_fetch_and_add(value, 1);
}

/* The next free slot of this CPU, or NULL when the nesting is deeper than the slots. */
static __always_inline struct event *event_slot(void)
{
	__u32 zero = 0, depth;
	struct event_slots *slots = bpf_map_lookup_elem(&event_slots, &zero);

	if (!slots)
		return NULL;
	depth = slots->depth;
	if (depth >= EVENT_NESTING)
		return NULL;
	slots->depth = depth + 1;
	return &slots->slots[depth];
}

/*
 * A zeroed record of this kind: reserved memory holds whatever was there before. Every
 * one reserved is submitted: the verifier holds the ring buffer's to it, and the slots'
 * depth counts on it.
 */
static __always_inline struct event *event_reserve(enum event_kind kind)
{
	struct event *event;

	if (use_perf_buffer)
		event = event_slot();
	else
		event = bpf_ringbuf_reserve(&events, sizeof(*event), 0);
	if (!event) {
		count(COUNTER_RINGBUF_FULL);
		return NULL;
	}
	__builtin_memset(event, 0, sizeof(*event));
	event->kind = kind;
	return event;
}

/*
 * A wakeup per event costs the traced workload a context switch per connection: measured
 * here, a third of a connection storm's rate. No flag asks the kernel's own choice: it
 * wakes the consumer only for the first record after it drained the ring. The consumer
 * then waits a drain interval before draining, and the records of that interval wake
 * nobody. A burst that fills a quarter of the ring meanwhile wakes it at once. An idle
 * consumer sleeps until the next record, with no timer.
 */
static __always_inline void ringbuf_submit(struct event *event)
{
	__u64 flags = 0;

	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes)
		flags = BPF_RB_FORCE_WAKEUP;
	bpf_ringbuf_submit(event, flags);
}

/*
 * A record that finds this CPU's perf buffer full is counted here. The kernel's own
 * count reaches the reader only with the next record written there: a burst at the end
 * would go uncounted.
 */
static __always_inline void perf_submit(void *ctx, struct event *event)
{
	__u32 zero = 0;
	struct event_slots *slots;

	if (bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, event, sizeof(*event)))
		count(COUNTER_RINGBUF_FULL);
	slots = bpf_map_lookup_elem(&event_slots, &zero);
	if (slots && slots->depth)
		slots->depth--;
}

/* ctx: the program's own, which the perf buffer's helper wants. */
static __always_inline void event_submit(void *ctx, struct event *event)
{
	if (use_perf_buffer)
		perf_submit(ctx, event);
	else
		ringbuf_submit(event);
}

/*
 * The name of the current task's process. io_uring runs a request in a thread of the
 * process that owns the ring (iou-wrk-N with IOSQE_ASYNC or when it would block,
 * iou-sqp-N with SQPOLL): what names the process is its main thread's name. This runs
 * at every connect(): the task's flags are read only for a thread named so, and a
 * process that names itself "iou-..." keeps its name.
 */
static __always_inline void get_process_comm(char comm[EVENT_COMM_LEN])
{
	struct task_struct *task;

	bpf_get_current_comm(comm, EVENT_COMM_LEN);
	if (comm[0] != 'i' || comm[1] != 'o' || comm[2] != 'u' || comm[3] != '-')
		return;
	task = (struct task_struct *)bpf_get_current_task();
	if (BPF_CORE_READ(task, flags) & PF_IO_WORKER)
		BPF_CORE_READ_STR_INTO((char(*)[EVENT_COMM_LEN])comm, task, group_leader, comm);
}

/*
 * Who the current task is: IDs, names, its parent and its cgroup. The parent is the
 * thread that forked the process (real_parent, shared by all its threads); its name is
 * its process's, the main thread's.
 */
static __always_inline void get_current_task(struct event_task *who, __u64 pid_tgid)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct task_struct *parent = BPF_CORE_READ(task, real_parent);

	who->cgroup_id = bpf_get_current_cgroup_id();
	who->pid = pid_tgid >> 32;
	who->tid = (__u32)pid_tgid;
	who->uid = (__u32)bpf_get_current_uid_gid();
	who->ppid = BPF_CORE_READ(parent, tgid);
	get_process_comm(who->comm);
	BPF_CORE_READ_STR_INTO(&who->pcomm, parent, group_leader, comm);
}

/* -p, -u, --cgroup: the filters on the task, which must be the current one. */
static __always_inline bool task_filtered_out(__u64 pid_tgid)
{
	if (filter_tgid && pid_tgid >> 32 != filter_tgid)
		return true;
	if (filter_uid != FILTER_UID_ANY && (__u32)bpf_get_current_uid_gid() != filter_uid)
		return true;
	/* 1: the task is in that cgroup, or in one below it. */
	return filter_cgroup_enabled && bpf_current_task_under_cgroup(&filter_cgroup, 0) != 1;
}

/* --netns: a network namespace is known by its inode number, as stat() shows it. */
static __always_inline bool netns_filtered_out(const struct net *net)
{
	return filter_netns && BPF_CORE_READ(net, ns.inum) != filter_netns;
}

static __always_inline bool port_filtered_out(__u16 port)
{
	return filter_ports_enabled && !bpf_map_lookup_elem(&filter_ports, &port);
}

/*
 * tp_btf and fentry programs get typed pointers, which the verifier lets them load from
 * directly: a plain load, its offset relocated by CO-RE. The other methods get plain
 * numbers, read through bpf_probe_read_kernel(), a helper call each. Handlers pass
 * `typed` down as a constant, so each variant compiles to one of the two.
 */
#define sk_read(typed, sk, field) ((typed) ? (sk)->field : BPF_CORE_READ(sk, field))
/* sk_protocol was a bitfield before 5.6: read as one, it relocates on either layout. */
#define sk_read_protocol(typed, sk)                        \
	((typed) ? BPF_CORE_READ_BITFIELD(sk, sk_protocol) \
		 : BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol))
#define sk_read_bytes(typed, dst, size, src) \
	((typed) ? (__builtin_memcpy(dst, src, size), 0) : bpf_core_read(dst, size, src))

static __always_inline bool ipv4_mapped(const __u8 *addr)
{
	const __u32 *words = (const __u32 *)addr;

	return !words[0] && !words[1] && words[2] == bpf_htonl(0xffff);
}

/* The family a socket's connection is shown with: a v4-mapped peer makes it IPv4. */
static __always_inline __u16 reported_family(const struct sock *sk, bool typed)
{
	__u16 family = sk_read(typed, sk, __sk_common.skc_family);
	__u8 daddr[16];

	if (!bpf_core_field_exists(sk->__sk_common.skc_v6_daddr) || family != AF_INET6)
		return family;
	sk_read_bytes(typed, daddr, 16, &sk->__sk_common.skc_v6_daddr);
	return ipv4_mapped(daddr) ? AF_INET : AF_INET6;
}

/*
 * -4, -6, --netns: the filters on the socket. They run before an event is reserved, so
 * -4/-6 read the family (and a v6 address) that event_set_addresses() reads again: a
 * few loads, cheaper than reserving, filling and discarding every event filtered out.
 */
static __always_inline bool socket_filtered_out(const struct sock *sk, bool typed)
{
	if (filter_family && reported_family(sk, typed) != filter_family)
		return true;
	return filter_netns && netns_filtered_out(sk_read(typed, sk, __sk_common.skc_net.net));
}

/*
 * Fill the address part of an event from a socket whose addresses are set. An IPv6
 * socket talking to a v4-mapped address (::ffff:a.b.c.d) is an IPv4 connection on the
 * wire; it is reported as one, with the IPv4 addresses the socket also holds.
 */
static __always_inline void event_set_addresses(struct event *event, const struct sock *sk,
						bool typed)
{
	const struct inet_sock *inet = (const struct inet_sock *)sk;

	event->family = sk_read(typed, sk, __sk_common.skc_family);
	/*
	 * inet_sport, not skc_num: a socket entering TCP_CLOSE has already given its
	 * port back (inet_put_port() zeroes skc_num before the state changes). Read
	 * through the helper even when typed: inet_sock lies beyond struct sock, which is
	 * all the verifier knows this pointer to be.
	 */
	event->lport = bpf_ntohs(BPF_CORE_READ(inet, inet_sport));
	event->rport = bpf_ntohs(sk_read(typed, sk, __sk_common.skc_dport));
	/* A kernel built without IPv6 has no such fields, and no IPv6 sockets. */
	if (bpf_core_field_exists(sk->__sk_common.skc_v6_daddr) && event->family == AF_INET6) {
		sk_read_bytes(typed, event->laddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		sk_read_bytes(typed, event->raddr, 16, &sk->__sk_common.skc_v6_daddr);
		if (!ipv4_mapped(event->raddr))
			return;
		event->family = AF_INET;
		__builtin_memset(event->laddr, 0, sizeof(event->laddr));
		__builtin_memset(event->raddr, 0, sizeof(event->raddr));
	}
	sk_read_bytes(typed, event->laddr, 4, &sk->__sk_common.skc_rcv_saddr);
	sk_read_bytes(typed, event->raddr, 4, &sk->__sk_common.skc_daddr);
}

#endif /* TCPTRACE_BPF_H */
