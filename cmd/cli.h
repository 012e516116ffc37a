/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The command line: which subcommand argv names, and its options turned into a
 * struct trace_config. Nothing here loads or touches BPF.
 */
#ifndef TCPTRACE_CLI_H
#define TCPTRACE_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include "../lib/config.h"
#include "../lib/failure.h"

enum cli_result {
	CLI_RUN,       /* config is ready: trace */
	CLI_DONE,      /* help or version printed: exit 0 */
	CLI_BAD_USAGE, /* a line and the usage went to stderr: exit 2 */
};

struct command;

struct command_context {
	const char *prog; /* how messages name us: "tcptrace connect" or "tcpconnect" */
	const struct command *command;
	int current; /* the argv element cli_getopt() was reading: for error messages */
};

struct command {
	const char *name;
	const char *aliases; /* space-separated argv[0] names that run this command */
	const char *summary;
	enum cli_result (*parse)(struct command_context *ctx, int argc, char **argv,
				 struct trace_config *config);
	void (*usage)(const struct command_context *ctx, FILE *out);
};

#define TCPTRACE_COMMAND(name, aliases, summary, runner)                                 \
	enum cli_result name##_parse(struct command_context *ctx, int argc, char **argv, \
				     struct trace_config *config);                       \
	void name##_usage(const struct command_context *ctx, FILE *out);
#include "commands.def"
#undef TCPTRACE_COMMAND

/* Is this the name of a command (as cli_parse() puts it in trace_config)? */
bool cli_is_command(const char *name);
/*
 * What a command does once parsed: lib/'s tracer, or another runner (cmd/runners.c,
 * linked into the program alone: the command line needs no libbpf).
 */
int (*cli_runner(const char *command))(const struct trace_config *, struct failure *);
/* Parses the whole command line, whichever name it was run by. */
enum cli_result cli_parse(int argc, char **argv, struct trace_config *config);

/*
 * A value as a usage error quotes it: its first CLI_QUOTE_MAX bytes escaped (see
 * format_escaped()), "..." when there is more. Two calls may share a message.
 */
#define CLI_QUOTE_MAX ((size_t)64)
const char *cli_quote(const char *value);
/* Shared by the subcommands' parsers: print "<prog>: <message>" and the usage. */
enum cli_result cli_bad_usage(const struct command_context *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* getopt_long(), noting where it reads, so that cli_bad_option() can name the culprit. */
int cli_getopt(struct command_context *ctx, int argc, char **argv, const char *optstring,
	       const struct option *longopts);
/* The option cli_getopt() stopped at, for "unknown option" and "missing value". */
enum cli_result cli_bad_option(const struct command_context *ctx, int opt, char **argv);
/*
 * -p -t -T -x -v -h -A -b -d -n, -c -H -i (for a command whose option string has them),
 * and any option a command does not know: CLI_RUN when it was fine.
 */
enum cli_result cli_shared_option(struct command_context *ctx, int opt, char **argv,
				  struct trace_config *config);
/* After the options: -i needs -c or -H. */
enum cli_result cli_check_interval(const struct command_context *ctx,
				   const struct trace_config *config);
/*
 * The help lines of the options every command has, spliced into each command's usage:
 * string literals, so that the usage stays one format string.
 */
/* clang-format off */
#define CLI_USAGE_SELECT							\
	"  -u, --uid UID      trace only this user's processes\n"			\
	"  -4, --ipv4         trace only IPv4 connections\n"				\
	"  -6, --ipv6         trace only IPv6 connections\n"				\
	"      --cgroup PATH  trace only the processes in this cgroup (v2), or below it\n"	\
	"      --unit NAME    trace only this systemd unit's processes (nginx.service)\n"	\
	"      --pod NAMESPACE/NAME\n"							\
	"                     trace only this Kubernetes pod's processes\n"		\
	"      --container ID trace only this container's processes (12 digits or more)\n"	\
	"      --netns PATH   trace only this network namespace (/proc/PID/ns/net,\n"	\
	"                     /run/netns/NAME)\n"
#define CLI_USAGE_OUTPUT							\
	"  -U, --print-uid    print UID\n"						\
	"  -I, --identity     print IDENTITY: the pod, container, unit or cgroup of the\n"	\
	"                     process\n"							\
	"  -e, --parent       print PPID and PCOMM: the parent process and its name\n"	\
	"  -j, --json         print JSON Lines: one object per event, with every field\n"
/* --btf, for every command that loads programs, and features. */
#define CLI_USAGE_BTF								\
	"      --btf FILE     the kernel's BTF from FILE, where the kernel has none in\n"	\
	"                     /sys/kernel/btf/vmlinux (see tcptrace(8), REQUIREMENTS)\n"
/* --no-seccomp, for every tracing command. */
#define CLI_USAGE_NO_SECCOMP							\
	"      --no-seccomp   for debugging only: trace without the system call filter\n"	\
	"                     (see tcptrace(8), SECURITY)\n"
/* -i, for the commands with summaries (-c, -H), after their own lines. */
#define CLI_USAGE_INTERVAL							\
	"  -i, --interval SECONDS\n"						\
	"                     with -c or -H: print them every SECONDS, and start afresh\n"
#define CLI_USAGE_RUN								\
	"  -d, --duration SECONDS\n"						\
	"                     stop after this many seconds (decimals allowed)\n"	\
	"  -n, --max-events COUNT\n"						\
	"                     stop after printing this many events\n"			\
	"  -b, --ring-size SIZE\n"							\
	"                     the kernel's buffer for events not yet read: a power of\n"	\
	"                     two, with K, M or G (default 1M; a larger one rides out\n"	\
	"                     longer stalls of the reader, in kernel memory)\n"	\
	CLI_USAGE_BTF CLI_USAGE_NO_SECCOMP					\
	"  -v, --verbose      print how each probe is attached, and libbpf's messages\n"	\
	"  -h, --help         print this help\n"
/* clang-format on */

/* Long options without a letter. */
enum {
	CLI_OPTION_CGROUP = 256,
	CLI_OPTION_NETNS,
	CLI_OPTION_UNIT,
	CLI_OPTION_POD,
	CLI_OPTION_CONTAINER,
	CLI_OPTION_BTF,
	CLI_OPTION_NO_SECCOMP,
	CLI_OPTION_FIRST_OWN, /* a command's own options without a letter start here */
};
/* Their long names, for each command's table. */
/* clang-format off */
#define CLI_SHARED_LONG_OPTIONS					\
	{ "pid", required_argument, NULL, 'p' },		\
	{ "ports", required_argument, NULL, 'P' },		\
	{ "uid", required_argument, NULL, 'u' },		\
	{ "ipv4", no_argument, NULL, '4' },			\
	{ "ipv6", no_argument, NULL, '6' },			\
	{ "cgroup", required_argument, NULL, CLI_OPTION_CGROUP },	\
	{ "netns", required_argument, NULL, CLI_OPTION_NETNS },	\
	{ "unit", required_argument, NULL, CLI_OPTION_UNIT },	\
	{ "pod", required_argument, NULL, CLI_OPTION_POD },	\
	{ "container", required_argument, NULL, CLI_OPTION_CONTAINER },	\
	{ "identity", no_argument, NULL, 'I' },			\
	{ "parent", no_argument, NULL, 'e' },			\
	{ "print-uid", no_argument, NULL, 'U' },		\
	{ "json", no_argument, NULL, 'j' },			\
	{ "timestamp", no_argument, NULL, 't' },		\
	{ "time", no_argument, NULL, 'T' },			\
	{ "extended", no_argument, NULL, 'x' },			\
	{ "attach", required_argument, NULL, 'A' },		\
	{ "ring-size", required_argument, NULL, 'b' },		\
	{ "duration", required_argument, NULL, 'd' },		\
	{ "max-events", required_argument, NULL, 'n' },		\
	{ "btf", required_argument, NULL, CLI_OPTION_BTF },	\
	{ "no-seccomp", no_argument, NULL, CLI_OPTION_NO_SECCOMP },	\
	{ "verbose", no_argument, NULL, 'v' },			\
	{ "help", no_argument, NULL, 'h' }
/* The summaries' options, for the commands that have them. */
#define CLI_SUMMARY_LONG_OPTIONS				\
	{ "count", no_argument, NULL, 'c' },			\
	{ "histogram", no_argument, NULL, 'H' },		\
	{ "interval", required_argument, NULL, 'i' }
/*
 * Who made the event, for both commands' tables: PPID and PCOMM after COMM (-e); in
 * JSON alone, the cgroup and what it names; IDENTITY, the most specific of those (-I).
 */
#define CLI_COLUMNS_PARENT										\
	{ .field = FIELD_PPID, .header = "PPID", .key = "ppid", .width = 7, .show_if = COLUMN_PARENT },	\
	{ .field = FIELD_PCOMM, .header = "PCOMM", .key = "pcomm", .width = 16, .show_if = COLUMN_PARENT }
#define CLI_COLUMNS_IDENTITY										\
	{ .field = FIELD_CGROUP_ID, .key = "cgroup_id", .show_if = FORMAT_JSON },			\
	{ .field = FIELD_CGROUP, .key = "cgroup", .show_if = FORMAT_JSON },				\
	{ .field = FIELD_UNIT, .key = "unit", .show_if = FORMAT_JSON },					\
	{ .field = FIELD_CONTAINER_ID, .key = "container_id", .show_if = FORMAT_JSON },		\
	{ .field = FIELD_K8S_NAMESPACE, .key = "k8s_namespace", .show_if = FORMAT_JSON },		\
	{ .field = FIELD_K8S_POD, .key = "k8s_pod", .show_if = FORMAT_JSON },			\
	{ .field = FIELD_K8S_CONTAINER, .key = "k8s_container", .show_if = FORMAT_JSON },		\
	{ .field = FIELD_IDENTITY, .header = "IDENTITY", .width = 24, .show_if = COLUMN_IDENTITY }
/* clang-format on */
/* What each command calls its events and outcomes (cmd/connect.c, cmd/accept.c). */
extern const struct event_names connect_names, accept_names;
/* The probes a command that loads them can do without, and what goes unseen then. */
extern const struct optional_program cli_icmp_soft_errors, cli_uring_multishot, cli_uring_accepts;
/* What accept's programs cannot give on older kernels, for accept and serve to list. */
extern const struct kernel_limit cli_limit_refused, cli_limit_dropped, cli_limit_uring;
/* What accept's programs do in other ways on older kernels (struct kernel_stand_in). */
extern const struct kernel_stand_in cli_stand_in_refused, cli_stand_in_dropped,
	cli_stand_in_listener;
/*
 * The option given that selects by process, if any: accept -f's attempts belong to no
 * process, so no such option can select them.
 */
const char *cli_process_option(const struct trace_config *config);
/* ADDR:PORT, IPv4, or [IPv6]:PORT; the port from 1 to 65535. 0, or -EINVAL. */
int cli_parse_listen(const char *text, struct sockaddr_storage *addr, socklen_t *len);
int cli_parse_pid(const char *text, __u32 *pid);
int cli_parse_ms(const char *text, __u64 *ns);
/* Seconds, more than 0 and at most a year, with up to 6 decimals, into nanoseconds. */
int cli_parse_seconds(const char *text, __u64 *ns);
/* A UID, 0 to 4294967294 (-1 is no UID). */
int cli_parse_uid(const char *text, __u32 *uid);
/* A cgroup v2 directory; 0 or -errno (-ENOTDIR, or -EMEDIUMTYPE for another filesystem). */
int cli_check_cgroup(const char *path);
/* A network namespace file (/proc/PID/ns/net, /run/netns/NAME): its inode number. */
int cli_parse_netns(const char *path, __u32 *inode);
/* An option of seconds (-d, -i): CLI_RUN, or one line naming it and the usage. */
enum cli_result cli_seconds_option(const struct command_context *ctx, const char *what,
				   const char *text, __u64 *ns);
/* A count of at least 1. */
int cli_parse_count(const char *text, __u64 *count);
/*
 * 0 if the file holds BTF, raw or as an ELF file's .BTF section (what libbpf's
 * btf__parse() reads); -EPROTO if it holds none; -errno if it cannot be read.
 */
int cli_check_btf_file(const char *path);
/* --btf FILE: CLI_RUN once it holds BTF, or one line naming it and the usage. */
enum cli_result cli_btf_option(const struct command_context *ctx, const char *path,
			       struct trace_config *config);
/* A ring buffer's size: a power of two from a page to 1G, in bytes or with K, M or G. */
int cli_parse_ring_size(const char *text, __u32 *bytes);
/* A comma-separated list of ports, 1 to 65535, at most FILTER_PORTS_MAX of them. */
int cli_parse_ports(const char *text, __u16 *ports, unsigned int *nr_ports);

#endif /* TCPTRACE_CLI_H */
