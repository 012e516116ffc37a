// SPDX-License-Identifier: GPL-2.0-only
/*
 * tcptrace accept: every TCP connection a local server accepts, named after the process
 * that really accepted it.
 *
 * The handshake of a passive connection runs in softirq, in whatever task the packet
 * interrupted (on loopback: the client), so no state change names the server. What
 * does is the return of accept(): the syscall-exit tracepoints run in the accepting
 * task, and the file descriptor accept() returns leads, through that task's file
 * table, to the socket. The same holds for an io_uring accept, at its completion.
 * Because it hooks the return and not the call, an accept() already blocked when
 * tracing starts is reported too.
 *
 * The time a connection waited in the accept queue runs from the child socket's
 * SYN_RECV -> ESTABLISHED transition (the handshake done, the socket queued) to that
 * return.
 *
 * With -f, passive attempts that never reach accept() are reported from the kernel's
 * packet drops: a SYN to a port nobody listens on (answered by RST), and the handshake's
 * last ACK dropped because the accept queue was full.
 */
#include "tcptrace.bpf.h"

#define PF_IO_WORKER 0x00000010 /* include/linux/sched.h: an io_uring worker thread */

/* Children whose handshake is done, waiting to be accepted: when they were queued. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64); /* the child's struct sock pointer */
	__type(value, __u64);
} accept_queued_at SEC(".maps");

static __always_inline bool is_tcp(const struct sock *sk)
{
	return BPF_CORE_READ(sk, sk_protocol) == IPPROTO_TCP;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(accept_state_btf, const struct sock *sk, int oldstate, int newstate)
{
	__u64 key = (__u64)sk, now;

	if (!is_tcp(sk))
		return 0;
	if (oldstate == TCP_SYN_RECV && newstate == TCP_ESTABLISHED) {
		if (port_filtered_out(BPF_CORE_READ(sk, __sk_common.skc_num)))
			return 0;
		now = bpf_ktime_get_ns();
		bpf_map_update_elem(&accept_queued_at, &key, &now, BPF_ANY);
	} else if (newstate == TCP_CLOSE) {
		/* Closed before anyone accepted it: it never will be. */
		bpf_map_delete_elem(&accept_queued_at, &key);
	}
	return 0;
}

/*
 * The socket behind a file, or NULL. A socket's file and its struct socket point at
 * each other: checking that tells a socket from any other file, should a descriptor
 * have changed hands since accept() returned it.
 */
static __always_inline struct sock *sock_of_file(struct file *file)
{
	struct socket *sock;

	if (!file)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	if (!sock || BPF_CORE_READ(sock, file) != file)
		return NULL;
	return BPF_CORE_READ(sock, sk);
}

/* The socket behind one of the task's file descriptors, or NULL. */
static __always_inline struct sock *sock_of_fd(struct task_struct *task, long fd)
{
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **files, *file = NULL;

	if (fd < 0 || fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	files = BPF_CORE_READ(fdt, fd);
	bpf_core_read(&file, sizeof(file), &files[fd]);
	return sock_of_file(file);
}

static __always_inline void set_backlog(struct event *event, const struct sock *listener)
{
	if (!listener || BPF_CORE_READ(listener, __sk_common.skc_state) != TCP_LISTEN)
		return;
	event->backlog = BPF_CORE_READ(listener, sk_ack_backlog);
	event->max_backlog = BPF_CORE_READ(listener, sk_max_ack_backlog);
	event->flags |= EVENT_HAS_BACKLOG;
}

static __always_inline void set_queue_wait(struct event *event, const struct sock *sk)
{
	__u64 key = (__u64)sk, *queued_at;

	queued_at = bpf_map_lookup_elem(&accept_queued_at, &key);
	if (!queued_at)
		return; /* queued before tracing started */
	event->latency_ns = event->ts_ns - *queued_at;
	event->flags |= EVENT_HAS_LATENCY;
	bpf_map_delete_elem(&accept_queued_at, &key);
}

/* An io_uring worker thread is named iou-wrk-N: name the process that owns the ring. */
static __always_inline void set_task(struct event *event, struct task_struct *task)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	event->pid = pid_tgid >> 32;
	event->tid = (__u32)pid_tgid;
	event->uid = (__u32)bpf_get_current_uid_gid();
	if (BPF_CORE_READ(task, flags) & PF_IO_WORKER)
		BPF_CORE_READ_STR_INTO(&event->comm, task, group_leader, comm);
	else
		bpf_get_current_comm(event->comm, sizeof(event->comm));
}

/* Report the connection sk, just accepted by the current task from listener. */
static __always_inline int report_accepted(struct task_struct *task, const struct sock *sk,
					   const struct sock *listener)
{
	struct event *event;

	if (!sk || !is_tcp(sk))
		return 0;
	if (port_filtered_out(BPF_CORE_READ(sk, __sk_common.skc_num)))
		return 0;
	event = event_reserve(EVENT_ACCEPT);
	if (!event)
		return 0;
	event->ts_ns = bpf_ktime_get_ns();
	event->outcome = ACCEPT_ACCEPTED;
	set_task(event, task);
	event_set_addresses(event, sk);
	set_queue_wait(event, sk);
	set_backlog(event, listener);
	event_submit(event);
	return 0;
}

/*
 * accept()'s listening socket is its first argument. The syscall-exit tracepoint does
 * not pass the arguments, but the task's saved user registers still hold them.
 */
static __always_inline struct sock *listener_of_syscall(struct task_struct *task)
{
	struct pt_regs *regs;

	if (!bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_task_pt_regs))
		return NULL;
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	return sock_of_fd(task, PT_REGS_PARM1_CORE_SYSCALL(regs));
}

static __always_inline int accept_returned(long fd)
{
	struct task_struct *task;

	if (fd < 0 || tgid_filtered_out(bpf_get_current_pid_tgid() >> 32))
		return 0;
	task = bpf_get_current_task_btf();
	return report_accepted(task, sock_of_fd(task, fd), listener_of_syscall(task));
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int accept_accept4_exit(struct trace_event_raw_sys_exit *ctx)
{
	return accept_returned(BPF_CORE_READ(ctx, ret));
}

SEC("tracepoint/syscalls/sys_exit_accept")
int accept_accept_exit(struct trace_event_raw_sys_exit *ctx)
{
	return accept_returned(BPF_CORE_READ(ctx, ret));
}

/*
 * An io_uring accept completes with the new descriptor as its result, in the task that
 * submitted it (task work) or in one of its ring's worker threads: either way a thread
 * of the process that owns the ring, sharing its file table. An accept into the ring's
 * own file table (IOSQE_FIXED_FILE slots) returns a slot, not a descriptor: skipped.
 */
SEC("tracepoint/io_uring/io_uring_complete")
int accept_uring_complete(struct trace_event_raw_io_uring_complete *ctx)
{
	struct io_kiocb *req = BPF_CORE_READ(ctx, req);
	struct io_accept *accept = (struct io_accept *)&req->cmd;
	int fd = BPF_CORE_READ(ctx, res);
	struct task_struct *task;

	if (BPF_CORE_READ(req, opcode) != bpf_core_enum_value(enum io_uring_op, IORING_OP_ACCEPT))
		return 0;
	if (fd < 0 || BPF_CORE_READ(accept, file_slot))
		return 0;
	if (tgid_filtered_out(bpf_get_current_pid_tgid() >> 32))
		return 0;
	task = bpf_get_current_task_btf();
	/* The request's file is the listening socket. */
	return report_accepted(task, sock_of_fd(task, fd), sock_of_file(BPF_CORE_READ(req, file)));
}

/*
 * -f: passive attempts the kernel drops before any accept(), read from the packet it
 * drops: its source is the remote end, its destination the local one.
 */
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_ACK 0x10

struct tcp_ports_flags {
	__be16 source;
	__be16 dest;
	__u8 unused[9];
	__u8 flags; /* byte 13 of the TCP header */
};

/* Addresses from the IP header; 0 if the packet is not TCP over IPv4 or IPv6. */
static __always_inline int read_ip_header(struct event *event, const unsigned char *nh)
{
	__u8 version = 0;

	bpf_probe_read_kernel(&version, 1, nh);
	if (version >> 4 == 4) {
		struct iphdr ip;

		bpf_probe_read_kernel(&ip, sizeof(ip), nh);
		if (ip.protocol != IPPROTO_TCP)
			return 0;
		event->family = AF_INET;
		__builtin_memcpy(event->laddr, &ip.daddr, 4);
		__builtin_memcpy(event->raddr, &ip.saddr, 4);
		return 1;
	}
	if (version >> 4 == 6) {
		struct ipv6hdr ip6;

		bpf_probe_read_kernel(&ip6, sizeof(ip6), nh);
		if (ip6.nexthdr != IPPROTO_TCP)
			return 0;
		event->family = AF_INET6;
		__builtin_memcpy(event->laddr, &ip6.daddr, 16);
		__builtin_memcpy(event->raddr, &ip6.saddr, 16);
		return 1;
	}
	return 0;
}

static __always_inline int report_dropped(struct sk_buff *skb, __u8 outcome)
{
	unsigned char *head = BPF_CORE_READ(skb, head);
	struct tcp_ports_flags tcp;
	struct event *event;

	bpf_probe_read_kernel(&tcp, sizeof(tcp), head + BPF_CORE_READ(skb, transport_header));
	/* A refused attempt is a bare SYN; an overflow drops the handshake's last ACK. */
	if (outcome == ACCEPT_REFUSED &&
	    (tcp.flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) != TCP_FLAG_SYN)
		return 0;
	if (port_filtered_out(bpf_ntohs(tcp.dest)))
		return 0;
	event = event_reserve(EVENT_ACCEPT);
	if (!event)
		return 0;
	if (!read_ip_header(event, head + BPF_CORE_READ(skb, network_header))) {
		bpf_ringbuf_discard(event, BPF_RB_NO_WAKEUP);
		return 0;
	}
	event->ts_ns = bpf_ktime_get_ns();
	event->outcome = outcome;
	event->flags = EVENT_NO_TASK;
	event->lport = bpf_ntohs(tcp.dest);
	event->rport = bpf_ntohs(tcp.source);
	event_submit(event);
	return 0;
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(accept_failed_drop_btf, struct sk_buff *skb, void *location,
	     enum skb_drop_reason reason)
{
	if (reason == bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_NO_SOCKET))
		return report_dropped(skb, ACCEPT_REFUSED);
	/* The accept queue's overflow has its own reason since Linux 6.15. */
	if (bpf_core_enum_value_exists(enum skb_drop_reason, SKB_DROP_REASON_TCP_LISTEN_OVERFLOW) &&
	    reason ==
		    bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_TCP_LISTEN_OVERFLOW))
		return report_dropped(skb, ACCEPT_DROPPED);
	return 0;
}
