/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The record that travels through the ring buffer, and the counters both sides read.
 *
 * Shared by the BPF programs and user space, so it includes nothing: the BPF side gets
 * __u32 and friends from vmlinux.h, user space from <linux/types.h>. Fixed-size fields,
 * largest first, no implicit padding; user space asserts the size.
 *
 * One layout serves every subcommand. Addresses and ports are named from this host's
 * point of view (local/remote), so connect's SADDR/DPORT and accept's LADDR/RPORT are
 * the same fields under different column headers.
 */
#ifndef TCPTRACE_EVENT_H
#define TCPTRACE_EVENT_H

#define EVENT_COMM_LEN 16
/* -u not given: (uid_t)-1 is nobody's UID, so it stands for every user. */
#define FILTER_UID_ANY 0xffffffffu
/* How many ports -P takes. */
#define FILTER_PORTS_MAX 64

enum event_kind {
	EVENT_CONNECT = 1,
	EVENT_ACCEPT = 2,
};

/* Every kind's outcome 0 is its success: an attempt established, a connection accepted. */
#define OUTCOME_SUCCESS 0

/* How a connection attempt ended; error holds the errno for CONNECT_FAILED. */
enum connect_outcome {
	CONNECT_ESTABLISHED = OUTCOME_SUCCESS, /* the peer answered with a SYN-ACK (or a SYN) */
	CONNECT_FAILED = 1,		       /* RST, timeout or ICMP error: see error */
	CONNECT_ABANDONED = 2,		       /* the application closed it before any answer */
	CONNECT_UNSENT = 3, /* closed before its SYN left (TCP Fast Open's connect) */
};

/* What became of a passive connection; the last two only with accept -f. */
enum accept_outcome {
	ACCEPT_ACCEPTED = OUTCOME_SUCCESS, /* returned by accept(), accept4() or io_uring */
	ACCEPT_REFUSED = 1,		   /* a SYN to a port nobody listens on, answered by RST */
	ACCEPT_DROPPED = 2, /* completed by the peer, dropped: the accept queue was full */
};

enum event_flag {
	EVENT_HAS_DURATION = 1 << 0, /* duration_ns is known */
	EVENT_HAS_BACKLOG = 1 << 1,  /* backlog and max_backlog are known */
	EVENT_NO_TASK = 1 << 2,	     /* no process: the kernel handled it in softirq */
};

/*
 * The task behind an event: the one that called connect(), or that accept() returned
 * to. IDs as the initial namespaces see them. User space names the cgroup (its path, and
 * the unit, container or pod that path belongs to).
 */
struct event_task {
	__u64 cgroup_id; /* cgroup v2: the inode number of the cgroup's directory */
	__u32 pid;	 /* process (tgid) */
	__u32 tid;	 /* thread whose comm is in comm */
	__u32 uid;
	__u32 ppid; /* the parent process, as getppid() would say */
	char comm[EVENT_COMM_LEN];
	char pcomm[EVENT_COMM_LEN]; /* the parent process's name (its main thread's) */
};

struct event {
	__u64 ts_ns; /* CLOCK_MONOTONIC when the outcome was known */
	/* The command's duration column: connect's latency, accept's queue wait. */
	union {
		__u64 duration_ns;
		__u64 connect_latency_ns;   /* from SYN_SENT to the outcome */
		__u64 accept_queue_wait_ns; /* from queued (handshake done) to accepted */
	};
	struct event_task task; /* all 0 with EVENT_NO_TASK */
	__u8 laddr[16];		/* local address; IPv4 uses the first 4 bytes */
	__u8 raddr[16];		/* remote address */
	__s32 error;		/* positive errno, 0 when none */
	__u32 backlog;		/* accept: the listener's accept queue, after this accept */
	__u32 max_backlog;	/* accept: its limit, from listen() */
	__u16 family;		/* AF_INET or AF_INET6 */
	__u16 lport;		/* host byte order */
	__u16 rport;		/* host byte order */
	__u8 kind;		/* enum event_kind */
	__u8 outcome;		/* enum connect_outcome or enum accept_outcome, by kind */
	__u8 flags;		/* enum event_flag */
	__u8 __pad[3];
};

/*
 * Per-CPU counters, summed by user space. A command that keeps its events' starts in an
 * LRU map (an in-flight map: connect's) counts them: the kernel evicts from it silently,
 * and user space derives the evictions as INFLIGHT_STARTED - INFLIGHT_FINISHED -
 * INFLIGHT_MISSED - entries still in the map.
 */
enum counter {
	COUNTER_RINGBUF_FULL,	   /* events dropped: no room in the ring buffer */
	COUNTER_INFLIGHT_STARTED,  /* attempts entered into the in-flight map */
	COUNTER_INFLIGHT_MISSED,   /* entries a destroyed socket left: its outcome was missed */
	COUNTER_INFLIGHT_FINISHED, /* attempts found there when their outcome was known */
	COUNTER_MAX,
};

#endif /* TCPTRACE_EVENT_H */
