/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the command line decides and the machinery in lib/ carries out: which programs to
 * load, the in-kernel filters, and the columns to print. cmd/ fills it; nothing in lib/
 * looks at argv.
 */
#ifndef TCPTRACE_CONFIG_H
#define TCPTRACE_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <linux/types.h>
#include "format.h"
#include "../bpf/event.h"

/* How the probes that come in several variants are attached (docs/kernel-support.md). */
enum attach_method {
	ATTACH_AUTO,	   /* the best this kernel offers, falling back on failure */
	ATTACH_TP_BTF,	   /* typed tracepoint arguments, no tracefs */
	ATTACH_RAW_TP,	   /* the same arguments, untyped, no tracefs */
	ATTACH_TRACEPOINT, /* the tracepoint's record, through tracefs */
	ATTACH_FENTRY,	   /* a trampoline on the function that fires the tracepoint */
	ATTACH_KPROBE,	   /* a kprobe on that function */
};

#define CONFIG_PROGRAM_LIST 10
#define CONFIG_COMMANDS_MAX 2

struct metric_family;

/* Events as Prometheus metrics, served over HTTP, instead of lines (lib/metrics.h). */
struct metrics_config {
	const struct metric_family *families;
	unsigned int nr_families;
	unsigned int labels; /* enum metric_label: the unbounded ones asked for */
	size_t max_series;   /* exposition lines */
	__u64 series_ttl_ns; /* a label set no event touched for this long goes */
	struct sockaddr_storage listen;
	socklen_t listen_len;
	bool bpf_stats; /* switch the kernel's BPF run-time statistics on */
};

/* A probe the command can do without where the kernel lacks its event, and at what cost. */
struct optional_program {
	const char *name; /* a probe's name stands for all its variants */
	const char *lost; /* what goes unseen without it, told when it is left out */
};

/*
 * What a loaded program cannot give on a kernel whose types lack something: told once
 * at start. The kernel has it when its BTF has the type (an enum, struct or union) and,
 * if member is set, that member or enum value.
 */
struct kernel_limit {
	const char *program; /* a probe's name stands for all its variants */
	const char *type;
	const char *member;
	const char *lost;   /* what goes unseen, and since when the kernel gives it */
	bool useless;	    /* the program can give nothing else: it is not loaded */
	const char *unless; /* a program that gives it instead, when loaded */
};

/*
 * Programs that stand in for what older kernels lack: loaded only where the kernel's
 * BTF lacks the type (or its member), read as for kernel_limit.
 */
struct kernel_stand_in {
	const char *programs[2]; /* a probe's name stands for all its variants */
	const char *type;
	const char *member;
};

struct trace_config {
	/* The command, as messages name it. */
	const char *command;
	/* Programs named "<command>_*" in the BPF object are loaded for each of these
	 * commands (none: command's own), the rest are not. Ends early with NULL. */
	const char *program_commands[CONFIG_COMMANDS_MAX];
	/* Programs of the command that its options leave out (a probe's name stands for all
	 * its variants), and those it can do without; both end early with NULL. */
	const char *disabled_programs[CONFIG_PROGRAM_LIST];
	struct optional_program optional_programs[CONFIG_PROGRAM_LIST];
	const struct kernel_limit *limits[CONFIG_PROGRAM_LIST];
	/* Ends early with NULL. The PROBE_STAND_IN probes load only through these. */
	const struct kernel_stand_in *stand_ins[CONFIG_PROGRAM_LIST];
	/* The LRU map the command keeps its events' starts in, whose evictions are counted
	 * (bpf/event.h's INFLIGHT counters); NULL for none. */
	const char *in_flight_map;
	/* In-kernel filters; 0 means off. */
	__u32 filter_tgid;
	__u32 filter_uid;	 /* FILTER_UID_ANY: every user (UID 0 is root's) */
	__u16 filter_family;	 /* AF_INET or AF_INET6 */
	__u32 filter_netns;	 /* the namespace file's inode number */
	const char *cgroup_path; /* a cgroup v2 directory: its tasks and its descendants' */
	/* The option that chose it: --cgroup, or --unit, --pod or --container by name. */
	const char *cgroup_option;
	char cgroup_found[PATH_MAX]; /* the directory such a name led to */
	__u64 filter_min_latency_ns;
	__u16 filter_ports[FILTER_PORTS_MAX];
	unsigned int nr_filter_ports;
	/* Measure the accept-queue wait, and read the listener's backlog. */
	bool report_queue;
	/* The subcommand's column table, which of its optional columns to show, and the
	 * names of its events and outcomes. */
	const struct column *columns;
	const struct event_names *names;
	unsigned int column_flags;
	enum attach_method attach_method;
	/* -c and -H: summaries instead of lines, printed at exit and every interval_ns
	 * (0: at exit only), with the command's labels. */
	const struct summary_labels *summary_labels;
	bool count_mode;
	bool histogram;
	__u64 interval_ns;
	/* Bounded runs: stop after this long, or this many events; 0 means no bound. */
	__u64 duration_ns;
	__u64 max_events;
	/* Metrics instead of lines: families is set. */
	struct metrics_config metrics;
	/* Bytes of the ring buffer events wait in until read; 0: the default. */
	__u32 ring_size;
	/* --btf: the kernel's types from this file, for a kernel without KERNEL_BTF. */
	const char *btf_path;
	/* --no-seccomp: trace without the system call filter (lib/sandbox.h), to debug. */
	bool no_seccomp;
	bool verbose;
};

#endif /* TCPTRACE_CONFIG_H */
