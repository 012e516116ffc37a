// SPDX-License-Identifier: GPL-2.0-only
/*
 * tcptrace accept: every TCP connection a local server accepts, named after the process
 * that really accepted it.
 *
 * The handshake of a passive connection runs in softirq, in whatever task the packet
 * interrupted (on loopback: the client), so no state change names the server. What
 * does is the accept itself, in the accepting task. Three ways, best first:
 * - __inet_accept() grafts the connection onto the socket accept() returns, for every
 *   accept from user space: accept(), accept4() and io_uring's. Where the kernel has
 *   it and lets a program attach to it (fentry, or kprobe), this is the way: it costs
 *   nothing to other system calls, and it runs after the wait, so an accept() already
 *   blocked when tracing starts is reported too.
 * - Where it is missing (Debian's 5.10), the return of do_accept(), by fexit: as cheap,
 *   but an fexit misses a call already in progress.
 * - Elsewhere, the syscall-exit tracepoints, and io_uring's completion. The descriptor
 *   returned leads, through the task's file table, to the socket. They see blocked
 *   calls, but a syscall tracepoint puts every task on the kernel's slow syscall path.
 *
 * With -x, the time a connection waited in the accept queue runs from the child
 * socket's SYN_RECV -> ESTABLISHED transition (the handshake done, the socket queued) to
 * that return, and the listener's backlog is read then.
 *
 * With -f, passive attempts that never reach accept() are reported from the kernel's
 * packet drops: a SYN to a port nobody listens on (answered by RST), and the handshake's
 * last ACK dropped because the accept queue was full.
 */
#include "tcptrace.bpf.h"

#define IPPROTO_MPTCP 262

/* -x: measure the accept-queue wait and read the listener's backlog. */
const volatile bool report_queue = false;

struct queued {
	__u64 sk; /* the key, again: an LRU may hand the entry to another socket meanwhile */
	__u64 queued_ns;
};

/* Children whose handshake is done, waiting to be accepted. Sized for the CPUs by user space. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64); /* the child's struct sock pointer */
	__type(value, struct queued);
} accept_queued_at SEC(".maps");

struct uring_request {
	__u64 ctx;
	__u64 user_data;
};

struct uring_accept {
	int listener_fd; /* the request's file is only assigned later, when it is issued */
	__u32 direct;	 /* into the ring's own file table: the result is no descriptor */
};

/*
 * io_uring accept requests, from submission to their last completion. A multishot
 * accept posts its completions without the request (io_uring_complete's req is NULL):
 * this is how they are known for accepts, and their listener found. One submitted
 * before tracing started cannot be told from any other request's completions.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct uring_request);
	__type(value, struct uring_accept);
} accept_uring_requests SEC(".maps");

/* TCP, and MPTCP, whose sockets hold their connection's addresses too. */
static __always_inline bool is_stream_inet(const struct sock *sk)
{
	__u16 protocol = sk_read_protocol(false, sk);

	return protocol == IPPROTO_TCP || protocol == IPPROTO_MPTCP;
}

/* With -x only: the states compare first, as this runs on every TCP state change. */
static __always_inline int accept_queue_state_change(const struct sock *sk, int oldstate,
						     int newstate)
{
	__u64 key = (__u64)sk;

	if (oldstate == TCP_SYN_RECV && newstate == TCP_ESTABLISHED) {
		struct queued queued = { .sk = key };

		/* A simultaneous open's active socket gets here too, but it has a socket. */
		if (BPF_CORE_READ(sk, sk_socket) || sk_read_protocol(false, sk) != IPPROTO_TCP)
			return 0;
		if (port_filtered_out(BPF_CORE_READ(sk, __sk_common.skc_num)))
			return 0;
		queued.queued_ns = bpf_ktime_get_ns();
		bpf_map_update_elem(&accept_queued_at, &key, &queued, BPF_ANY);
	} else if (newstate == TCP_CLOSE &&
		   (oldstate == TCP_ESTABLISHED || oldstate == TCP_CLOSE_WAIT)) {
		/* Reset or closed while queued: it will never be accepted. */
		bpf_map_delete_elem(&accept_queued_at, &key);
	}
	return 0;
}

/* The ways to attach it, best first, as for connect (see connect.bpf.c). */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(accept_queue_btf, const struct sock *sk, int oldstate, int newstate)
{
	return accept_queue_state_change(sk, oldstate, newstate);
}

SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(accept_queue_raw, const struct sock *sk, int oldstate, int newstate)
{
	return accept_queue_state_change(sk, oldstate, newstate);
}

SEC("tracepoint/sock/inet_sock_set_state")
int accept_queue_tp(struct trace_event_raw_inet_sock_set_state *ctx)
{
	return accept_queue_state_change(ctx->skaddr, ctx->oldstate, ctx->newstate);
}

SEC("fentry/tcp_set_state")
int BPF_PROG(accept_queue_fentry, struct sock *sk, int newstate)
{
	return accept_queue_state_change(sk, BPF_CORE_READ(sk, __sk_common.skc_state), newstate);
}

SEC("kprobe/tcp_set_state")
int BPF_KPROBE(accept_queue_kprobe, struct sock *sk, int newstate)
{
	return accept_queue_state_change(sk, BPF_CORE_READ(sk, __sk_common.skc_state), newstate);
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
static __always_inline struct sock *sock_of_fd(struct task_struct *task, int fd)
{
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **files, *file = NULL;

	if (fd < 0 || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	files = BPF_CORE_READ(fdt, fd);
	bpf_core_read(&file, sizeof(file), &files[fd]);
	return sock_of_file(file);
}

/*
 * The listener's accept queue just after this accept. Only a TCP listener of the same
 * port: an MPTCP listener keeps its queue on a subflow, and a descriptor closed or
 * replaced since accept() was called would name another socket.
 */
static __always_inline void set_backlog(struct event *event, const struct sock *sk,
					const struct sock *listener)
{
	if (!listener || BPF_CORE_READ(listener, __sk_common.skc_state) != TCP_LISTEN ||
	    sk_read_protocol(false, listener) != IPPROTO_TCP ||
	    BPF_CORE_READ(listener, __sk_common.skc_num) != BPF_CORE_READ(sk, __sk_common.skc_num))
		return;
	event->backlog = BPF_CORE_READ(listener, sk_ack_backlog);
	event->max_backlog = BPF_CORE_READ(listener, sk_max_ack_backlog);
	event->flags |= EVENT_HAS_BACKLOG;
}

static __always_inline void set_queue_wait(struct event *event, const struct sock *sk)
{
	__u64 key = (__u64)sk;
	struct queued queued, *entry;

	entry = bpf_map_lookup_elem(&accept_queued_at, &key);
	if (!entry)
		return; /* queued before tracing started */
	/* Copy first, then check it is still this socket's: LRU entries are reused at once. */
	__builtin_memcpy(&queued, entry, sizeof(queued));
	bpf_map_delete_elem(&accept_queued_at, &key);
	if (queued.sk != key || queued.queued_ns > event->ts_ns)
		return;
	event->accept_queue_wait_ns = event->ts_ns - queued.queued_ns;
	event->flags |= EVENT_HAS_DURATION;
}

/* Report the connection sk, just accepted by the current task from listener. */
static __always_inline int report_accepted(void *ctx, const struct sock *sk,
					   const struct sock *listener, __u64 pid_tgid)
{
	struct event *event;

	/* A listening socket is no accepted one: the descriptor changed hands. */
	if (!sk || !is_stream_inet(sk) || BPF_CORE_READ(sk, __sk_common.skc_state) == TCP_LISTEN)
		return 0;
	if (port_filtered_out(BPF_CORE_READ(sk, __sk_common.skc_num)) ||
	    socket_filtered_out(sk, false))
		return 0;
	event = event_reserve(EVENT_ACCEPT);
	if (!event)
		return 0;
	event->ts_ns = bpf_ktime_get_ns();
	event->outcome = ACCEPT_ACCEPTED;
	get_current_task(&event->task, pid_tgid);
	event_set_addresses(event, sk, false);
	if (report_queue) {
		set_queue_wait(event, sk);
		set_backlog(event, sk, listener);
	}
	event_submit(ctx, event);
	return 0;
}

/*
 * The accept as __inet_accept(listener, newsock, newsk) sees it, where the kernel has
 * it (6.1 and later, in Debian's kernels). It runs once newsk is out of the accept
 * queue, before its descriptor is installed. In-kernel acceptors (the NFS server,
 * ksmbd) give the new socket no file: skipped, as the syscall tracepoints never see
 * them. An accept that then fails to copy the peer's address out (EFAULT) is reported
 * here, though the application never gets the connection.
 */
static __always_inline int inet_accepted(void *ctx, const struct socket *listener,
					 const struct socket *newsock, const struct sock *newsk)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	if (!BPF_CORE_READ(newsock, file) || task_filtered_out(pid_tgid))
		return 0;
	return report_accepted(ctx, newsk, report_queue ? BPF_CORE_READ(listener, sk) : NULL,
			       pid_tgid);
}

SEC("fentry/__inet_accept")
int BPF_PROG(accept_accepted_fentry, struct socket *listener, struct socket *newsock,
	     struct sock *newsk)
{
	return inet_accepted(ctx, listener, newsock, newsk);
}

SEC("kprobe/__inet_accept")
int BPF_KPROBE(accept_accepted_kprobe, struct socket *listener, struct socket *newsock,
	       struct sock *newsk)
{
	return inet_accepted(ctx, listener, newsock, newsk);
}

#define MAX_ERRNO 4095

/*
 * Where the kernel has no __inet_accept() (Debian's 5.10; it came with an MPTCP fix), the
 * accept as
 * do_accept(listener, ..., flags) returns it: the new connection's file, or an error.
 * accept(), accept4() and io_uring's accepts all go through it, in the accepting task.
 * Its second argument's type changed in 6.10; the others did not. Unlike
 * __inet_accept(), an fexit misses an accept() already blocked when tracing started.
 */
SEC("fexit/do_accept")
int BPF_PROG(accept_returned_fentry, struct file *listener, unsigned long flags_or_arg,
	     void *upeer_sockaddr, void *upeer_addrlen, int flags, struct file *ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	if ((unsigned long)ret >= (unsigned long)-MAX_ERRNO || task_filtered_out(pid_tgid))
		return 0;
	return report_accepted(ctx, sock_of_file(ret), report_queue ? sock_of_file(listener) : NULL,
			       pid_tgid);
}

/*
 * Where neither can be hooked. accept()'s listening socket is its first argument. The
 * syscall-exit tracepoint does not pass the arguments, but the task's saved user
 * registers still hold them (bpf_task_pt_regs(), 5.15). Before, the entry tracepoints
 * keep the descriptor for the exit, per thread: those load only there, and only with -x.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64); /* the accepting thread's pid_tgid */
	__type(value, int);
} accept_listener_fds SEC(".maps");

static __always_inline int keep_listener_fd(long fd)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	int value = fd;

	if (report_queue)
		bpf_map_update_elem(&accept_listener_fds, &pid_tgid, &value, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_accept4")
int accept_listener_accept4(struct trace_event_raw_sys_enter *ctx)
{
	return keep_listener_fd(ctx->args[0]);
}

SEC("tracepoint/syscalls/sys_enter_accept")
int accept_listener_accept(struct trace_event_raw_sys_enter *ctx)
{
	return keep_listener_fd(ctx->args[0]);
}

/* The descriptor accept() was called with; -1 where unknown (a call from before start). */
static __always_inline int listener_fd_of_syscall(__u64 pid_tgid)
{
	struct pt_regs *regs;
	int *kept, fd;

	if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_task_pt_regs)) {
		/* A BTF pointer (5.11), which bpf_task_pt_regs() wants: dead code before. */
		regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
		return (int)PT_REGS_PARM1_CORE_SYSCALL(regs);
	}
	kept = bpf_map_lookup_elem(&accept_listener_fds, &pid_tgid);
	if (!kept)
		return -1;
	fd = *kept;
	bpf_map_delete_elem(&accept_listener_fds, &pid_tgid);
	return fd;
}

static __always_inline int accept_returned(void *ctx, long fd)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	/* Read first: what the entry kept goes, whatever the result. */
	int listener_fd = report_queue ? listener_fd_of_syscall(pid_tgid) : -1;
	struct task_struct *task;

	if (fd < 0 || task_filtered_out(pid_tgid))
		return 0;
	task = (struct task_struct *)bpf_get_current_task();
	return report_accepted(ctx, sock_of_fd(task, fd),
			       listener_fd < 0 ? NULL : sock_of_fd(task, listener_fd), pid_tgid);
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int accept_accept4_exit(struct trace_event_raw_sys_exit *ctx)
{
	return accept_returned(ctx, ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int accept_accept_exit(struct trace_event_raw_sys_exit *ctx)
{
	return accept_returned(ctx, ctx->ret);
}

static __always_inline bool is_accept(struct io_kiocb *req)
{
	return BPF_CORE_READ(req, opcode) ==
	       bpf_core_enum_value(enum io_uring_op, IORING_OP_ACCEPT);
}

/* Remember each io_uring accept's listener, for completions that come without it. */
SEC("tracepoint/io_uring/io_uring_submit_req")
int accept_uring_submit(struct trace_event_raw_io_uring_submit_req *ctx)
{
	struct uring_request key = {};
	struct uring_accept value = {};
	struct io_kiocb *req;

	/* Older kernels' event (6.1's) carries no request: their multishot goes unseen. */
	if (!bpf_core_field_exists(ctx->req))
		return 0;
	req = BPF_CORE_READ(ctx, req);
	if (!is_accept(req))
		return 0;
	key.ctx = (__u64)BPF_CORE_READ(ctx, ctx);
	key.user_data = BPF_CORE_READ(ctx, user_data);
	value.listener_fd = BPF_CORE_READ(req, cqe.fd);
	value.direct = BPF_CORE_READ((struct io_accept *)&req->cmd, file_slot) != 0;
	bpf_map_update_elem(&accept_uring_requests, &key, &value, BPF_ANY);
	return 0;
}

/*
 * An io_uring accept completes with the new descriptor as its result, in the task that
 * submitted it (task work) or in one of its ring's worker threads: either way a thread
 * of the process that owns the ring, sharing its file table. A multishot accept posts
 * each connection without the request; its last completion, and a single accept's
 * only one, come with it. An accept into the ring's own file table (sqe->file_index)
 * returns a slot, not a descriptor: skipped.
 */
SEC("tracepoint/io_uring/io_uring_complete")
int accept_uring_complete(struct trace_event_raw_io_uring_complete *ctx)
{
	/* Debian's 5.10's record has no request: this program is not loaded (cli_limit_uring). */
	struct io_kiocb *req = bpf_core_field_exists(ctx->req) ? BPF_CORE_READ(ctx, req) : NULL;
	struct uring_request key = { .ctx = (__u64)BPF_CORE_READ(ctx, ctx) };
	int fd = BPF_CORE_READ(ctx, res);
	struct uring_accept *request;
	struct task_struct *task;
	struct sock *listener;
	__u64 pid_tgid;

	if (req && !is_accept(req))
		return 0;
	key.user_data = BPF_CORE_READ(ctx, user_data);
	task = (struct task_struct *)bpf_get_current_task();
	listener = NULL;
	/* Branches on the map value alone: the verifier wants it checked before any use. */
	request = bpf_map_lookup_elem(&accept_uring_requests, &key);
	if (request) {
		if (request->direct)
			return 0;
		if (report_queue)
			listener = sock_of_fd(task, request->listener_fd);
	} else {
		if (!req)
			return 0; /* some other multishot request's completion */
		if (BPF_CORE_READ((struct io_accept *)&req->cmd, file_slot))
			return 0;
		if (report_queue)
			listener = sock_of_file(BPF_CORE_READ(req, file));
	}
	if (req)
		bpf_map_delete_elem(&accept_uring_requests, &key); /* its last completion */
	pid_tgid = bpf_get_current_pid_tgid();
	if (fd < 0 || task_filtered_out(pid_tgid))
		return 0;
	return report_accepted(ctx, sock_of_fd(task, fd), listener, pid_tgid);
}

/*
 * -f: passive attempts the kernel drops before any accept(), read from the packet it
 * drops: its source is the remote end, its destination the local one.
 */
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_ACK 0x10
#define NO_HEADER    0xffff /* skb->transport_header when unset */

struct tcp_ports_flags {
	__be16 source;
	__be16 dest;
	__u8 unused[9];
	__u8 flags; /* byte 13 of the TCP header */
};

struct dropped_packet {
	__u8 laddr[16];
	__u8 raddr[16];
	__u16 family;
	struct tcp_ports_flags tcp;
};

/* Addresses and ports of a TCP packet over IPv4 or IPv6; false for anything else. */
static __always_inline bool parse_packet(struct dropped_packet *packet, const struct sk_buff *skb)
{
	unsigned char *head = BPF_CORE_READ(skb, head);
	__u16 network = BPF_CORE_READ(skb, network_header);
	__u16 transport = BPF_CORE_READ(skb, transport_header);
	__u8 version = 0;

	if (transport == NO_HEADER || network == NO_HEADER)
		return false;
	bpf_probe_read_kernel(&version, 1, head + network);
	if (version >> 4 == 4) {
		struct iphdr ip;

		bpf_probe_read_kernel(&ip, sizeof(ip), head + network);
		if (ip.protocol != IPPROTO_TCP)
			return false;
		packet->family = AF_INET;
		__builtin_memcpy(packet->laddr, &ip.daddr, 4);
		__builtin_memcpy(packet->raddr, &ip.saddr, 4);
	} else if (version >> 4 == 6) {
		struct ipv6hdr ip6;

		/* A TCP segment behind IPv6 extension headers is not told from others here. */
		bpf_probe_read_kernel(&ip6, sizeof(ip6), head + network);
		if (ip6.nexthdr != IPPROTO_TCP)
			return false;
		packet->family = AF_INET6;
		__builtin_memcpy(packet->laddr, &ip6.daddr, 16);
		__builtin_memcpy(packet->raddr, &ip6.saddr, 16);
	} else {
		return false;
	}
	return !bpf_probe_read_kernel(&packet->tcp, sizeof(packet->tcp), head + transport);
}

static __always_inline int report_dropped(void *ctx, const struct sk_buff *skb, __u8 outcome)
{
	struct dropped_packet packet = {};
	struct event *event;

	if (!parse_packet(&packet, skb))
		return 0;
	/* A refused attempt is a bare SYN; an overflow drops the handshake's last ACK. */
	if (outcome == ACCEPT_REFUSED &&
	    (packet.tcp.flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) != TCP_FLAG_SYN)
		return 0;
	if (port_filtered_out(bpf_ntohs(packet.tcp.dest)) ||
	    (filter_family && packet.family != filter_family) ||
	    netns_filtered_out(BPF_CORE_READ(skb, dev, nd_net.net)))
		return 0;
	event = event_reserve(EVENT_ACCEPT);
	if (!event)
		return 0;
	event->ts_ns = bpf_ktime_get_ns();
	event->outcome = outcome;
	event->flags = EVENT_NO_TASK;
	event->family = packet.family;
	__builtin_memcpy(event->laddr, packet.laddr, sizeof(event->laddr));
	__builtin_memcpy(event->raddr, packet.raddr, sizeof(event->raddr));
	event->lport = bpf_ntohs(packet.tcp.dest);
	event->rport = bpf_ntohs(packet.tcp.source);
	event_submit(ctx, event);
	return 0;
}

static __always_inline int accept_dropped(void *ctx, const struct sk_buff *skb, __u32 reason)
{
	if (reason == bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_NO_SOCKET))
		return report_dropped(ctx, skb, ACCEPT_REFUSED);
	/* The accept queue's overflow has its own reason since Linux 6.15. */
	if (bpf_core_enum_value_exists(enum skb_drop_reason, SKB_DROP_REASON_TCP_LISTEN_OVERFLOW) &&
	    reason ==
		    bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_TCP_LISTEN_OVERFLOW))
		return report_dropped(ctx, skb, ACCEPT_DROPPED);
	return 0;
}

/*
 * Before drop reasons (5.17), the event has two arguments, skb and location: tp_btf's
 * verifier refuses a read of a third, and raw_tp's attach a program that reads one. It
 * is read only where the reasons exist.
 */
static __always_inline int accept_dropped_args(__u64 *args)
{
	if (!bpf_core_type_exists(enum skb_drop_reason))
		return 0;
	return accept_dropped(args, (const struct sk_buff *)args[0], args[2]);
}

SEC("tp_btf/kfree_skb")
int accept_failed_drop_btf(__u64 *ctx)
{
	return accept_dropped_args(ctx);
}

SEC("raw_tp/kfree_skb")
int accept_failed_drop_raw(__u64 *ctx)
{
	return accept_dropped_args(ctx);
}

/*
 * Before drop reasons (5.17), a SYN to a port nobody listens on is told by the reset the
 * kernel sends for it: tcp_v4_send_reset() and tcp_v6_send_reset() get no socket then,
 * and the packet that found none. Every other reset has a socket.
 */
static __always_inline int reset_sent(void *ctx, const struct sock *sk, const struct sk_buff *skb)
{
	if (sk)
		return 0;
	return report_dropped(ctx, skb, ACCEPT_REFUSED);
}

/*
 * A function of (sk, skb) hooked as fentry and as kprobe, both handing them to
 * handler: the programs probes.def names <probe>_fentry and <probe>_kprobe.
 */
#define SOCK_SKB_PROBES(probe, function, handler)                                  \
	SEC("fentry/" #function)                                                   \
	int BPF_PROG(probe##_fentry, const struct sock *sk, struct sk_buff *skb)   \
	{                                                                          \
		return handler(ctx, sk, skb);                                      \
	}                                                                          \
	SEC("kprobe/" #function)                                                   \
	int BPF_KPROBE(probe##_kprobe, const struct sock *sk, struct sk_buff *skb) \
	{                                                                          \
		return handler(ctx, sk, skb);                                      \
	}

SOCK_SKB_PROBES(accept_refused_v4, tcp_v4_send_reset, reset_sent)
SOCK_SKB_PROBES(accept_refused_v6, tcp_v6_send_reset, reset_sent)

/*
 * Before the drop reason TCP_LISTEN_OVERFLOW (6.15), the handshake's last packet that
 * finds the accept queue full is told where the child socket would be made:
 * tcp_v4_syn_recv_sock() and tcp_v6_syn_recv_sock() give up then, and the packet is
 * dropped. The IPv6 one hands an IPv4 packet (a v4-mapped peer) to the IPv4 one.
 */
static __always_inline int child_wanted(void *ctx, const struct sock *listener,
					const struct sk_buff *skb)
{
	if (BPF_CORE_READ(listener, sk_ack_backlog) <= BPF_CORE_READ(listener, sk_max_ack_backlog))
		return 0;
	return report_dropped(ctx, skb, ACCEPT_DROPPED);
}

#define ETH_P_IP 0x0800

static __always_inline bool is_ipv4_packet(const struct sk_buff *skb)
{
	return BPF_CORE_READ(skb, protocol) == bpf_htons(ETH_P_IP);
}

static __always_inline int child_wanted_v6(void *ctx, const struct sock *listener,
					   const struct sk_buff *skb)
{
	return is_ipv4_packet(skb) ? 0 : child_wanted(ctx, listener, skb);
}

SOCK_SKB_PROBES(accept_overflow_v4, tcp_v4_syn_recv_sock, child_wanted)
SOCK_SKB_PROBES(accept_overflow_v6, tcp_v6_syn_recv_sock, child_wanted_v6)

SEC("tracepoint/skb/kfree_skb")
int accept_failed_drop_tp(struct trace_event_raw_kfree_skb *ctx)
{
	/* Before drop reasons (5.17), the record has none: nothing to tell. */
	if (!bpf_core_field_exists(ctx->reason))
		return 0;
	return accept_dropped(ctx, ctx->skbaddr, ctx->reason);
}
