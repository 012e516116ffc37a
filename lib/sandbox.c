// SPDX-License-Identifier: GPL-2.0-only
/*
 * The filter is built by hand, as OpenSSH builds its own: a list of rules, each a short
 * block of classic BPF. libseccomp would read better, but it loads filters with the
 * seccomp() system call, which the shipped systemd unit's own filter refuses; prctl()
 * needs no new dependency, and works in the static build alike.
 *
 * The rules follow what each part was seen to call after tracing starts
 * (docs/security.md lists them, with why). Arguments are checked where a call could do
 * more than tcptrace asks of it: bpf() and ioctl() by command, openat() read-only,
 * mmap() never executable.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <linux/audit.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/perf_event.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include "array.h"
#include "sandbox.h"

/* Arguments are read as two words, the low one first: little-endian machines alone. */
#if defined(__x86_64__)
#define SANDBOX_ARCH AUDIT_ARCH_X86_64
/* x32's calls come as x86_64's, with this bit set: tcptrace makes none. */
#define SANDBOX_X32_BIT 0x40000000u
#elif defined(__aarch64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SANDBOX_ARCH AUDIT_ARCH_AARCH64
#endif

#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1 /* si_code of a SIGSYS from a filter (asm-generic/siginfo.h) */
#endif

bool sandbox_available(void)
{
#ifdef SANDBOX_ARCH
	return true;
#else
	return false;
#endif
}

#ifdef SANDBOX_ARCH

enum rule_kind {
	RULE_ANY,
	RULE_ARG_IS,	/* the argument's low 32 bits are value (an int's whole) */
	RULE_ARG_CLEAR, /* none of value's bits are set in the argument's low 32 bits */
	RULE_ARG_NULL,	/* the argument, a pointer, is NULL */
};

struct rule {
	int nr;
	enum rule_kind kind;
	unsigned int arg;
	__u32 value;
	unsigned int parts; /* enum sandbox_part; 0: always */
};

/* clang-format off */
#define ANY(call, parts)                   { __NR_##call, RULE_ANY, 0, 0, parts }
#define ARG_IS(call, arg, value, parts)    { __NR_##call, RULE_ARG_IS, arg, value, parts }
#define ARG_CLEAR(call, arg, value, parts) { __NR_##call, RULE_ARG_CLEAR, arg, value, parts }
#define ARG_NULL(call, arg, parts)         { __NR_##call, RULE_ARG_NULL, arg, 0, parts }
/* clang-format on */

/* The files tcptrace reads once tracing: never opened to write, create or truncate. */
#define OPEN_TO_CHANGE ((__u32)(O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND))
#define FILES	       (SANDBOX_IDENTITY | SANDBOX_HTTP)

/* Each call runs the list until a rule lets it through: the run loop's first. */
static const struct rule rules[] = {
	/* The run loop: the wait, with the stop signals let in only during it. */
	ANY(epoll_pwait, 0),
	ANY(rt_sigprocmask, 0),
	/* Lines to stdout, notices to stderr; the files and /proc entries read. */
	ANY(write, 0),
	ANY(read, 0),
	/* The clocks, where the vDSO falls back to the kernel (qemu, some clock sources). */
	ANY(clock_gettime, 0),
#ifdef __NR_gettimeofday
	ANY(gettimeofday, 0),
#endif
#ifdef __NR_time
	ANY(time, 0),
#endif
/* Is the reader of stdout gone? (lib/output.c) */
#ifdef __NR_poll
	ANY(poll, 0),
#else
	ANY(ppoll, 0),
#endif
	/* The perf buffer's descriptors, muted and back; the HTTP server's sockets. */
	ANY(epoll_ctl, 0),
	ANY(close, 0),
/* Stops: a handler arms an alarm and returns. */
#ifdef __NR_alarm
	ANY(alarm, 0),
#else
	ANY(setitimer, 0), /* glibc's alarm() where the kernel has none */
#endif
	ANY(rt_sigreturn, 0),
	ANY(restart_syscall, 0),
	/* malloc(), and the ring and maps unmapped at the end; never executable memory. */
	ANY(brk, 0),
	ARG_CLEAR(mmap, 2, PROT_EXEC, 0),
	ANY(munmap, 0),
	ANY(mremap, 0),
	ANY(madvise, 0),
	/* The loss counters and the maps' evictions, read; a perf buffer's slots cleared. */
	ARG_IS(bpf, 0, BPF_MAP_LOOKUP_ELEM, 0),
	ARG_IS(bpf, 0, BPF_MAP_GET_NEXT_KEY, 0),
	ARG_IS(bpf, 0, BPF_OBJ_GET_INFO_BY_FD, 0),
	ARG_IS(bpf, 0, BPF_MAP_DELETE_ELEM, SANDBOX_PERF_BUFFER), /* perf_buffer__free() */
	/* libbpf's detach of a perf event's program (tracepoints, kprobes, perf buffers). */
	ARG_IS(ioctl, 1, PERF_EVENT_IOC_DISABLE, 0),
	/* stdio's fstat() of a stream it buffers; the cgroup tree's inodes. */
	ANY(newfstatat, 0),
	/* The end, and glibc's own on a fatal error: its message, then SIGABRT alone. */
	ANY(exit_group, 0),
	ANY(writev, 0),
	ANY(getpid, 0),
	ANY(gettid, 0),
	ARG_IS(tgkill, 2, SIGABRT, 0),
	/* The cgroup tree and kubelet's directories, below descriptors held; /proc. */
	ARG_CLEAR(openat, 2, OPEN_TO_CHANGE, FILES),
	ANY(getdents64, FILES),
	ANY(lseek, FILES),
	ARG_IS(fcntl, 1, F_DUPFD_CLOEXEC, SANDBOX_IDENTITY),
	ARG_IS(fcntl, 1, F_GETFL, SANDBOX_IDENTITY),
	ARG_IS(fcntl, 1, F_SETFD, SANDBOX_IDENTITY), /* fdopendir()'s FD_CLOEXEC */
	/* glibc's qsort() asks how much memory there is, once, for a large sort. */
	ANY(sysinfo, SANDBOX_SUMMARIES),
/* libmicrohttpd, driven by the run loop: no thread of its own. */
#ifdef __NR_epoll_wait
	ANY(epoll_wait, SANDBOX_HTTP),
#endif
	ANY(accept4, SANDBOX_HTTP),
	ANY(recvfrom, SANDBOX_HTTP),
	ANY(sendto, SANDBOX_HTTP),
	ANY(sendmsg, SANDBOX_HTTP),
	ARG_IS(setsockopt, 1, IPPROTO_TCP, SANDBOX_HTTP), /* TCP_NODELAY, TCP_CORK */
	ANY(shutdown, SANDBOX_HTTP),
	/* The process's own metrics: CPU time, and its limit of descriptors, read only. */
	ANY(getrusage, SANDBOX_HTTP),
	ARG_NULL(prlimit64, 2, SANDBOX_HTTP),
};

static const char *const syscall_names[] = {
#include "syscall_names.h"
};

#define MAX_INSNS  256
#define ALLOW	   SECCOMP_RET_ALLOW
#define KILL	   SECCOMP_RET_KILL_PROCESS
#define TRAP	   SECCOMP_RET_TRAP
#define NR	   offsetof(struct seccomp_data, nr)
#define ARG_LOW(i) (offsetof(struct seccomp_data, args) + sizeof(__u64) * (i)) /* little-endian */

struct program {
	struct sock_filter insns[MAX_INSNS];
	unsigned int len;
};

static void emit(struct program *p, __u16 code, __u8 jt, __u8 jf, __u32 k)
{
	if (p->len < MAX_INSNS)
		p->insns[p->len] = (struct sock_filter){ code, jt, jf, k };
	p->len++;
}

static void emit_load(struct program *p, __u32 offset)
{
	emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, offset);
}

/*
 * One rule's block, the call's number in the accumulator: through to the next block
 * unless it lets the call through. Argument checks leave another value there.
 */
static void emit_rule(struct program *p, const struct rule *rule)
{
	switch (rule->kind) {
	case RULE_ANY:
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, rule->nr);
		break;
	case RULE_ARG_IS:
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 3, rule->nr);
		emit_load(p, ARG_LOW(rule->arg));
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, rule->value);
		break;
	case RULE_ARG_CLEAR:
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 3, rule->nr);
		emit_load(p, ARG_LOW(rule->arg));
		emit(p, BPF_JMP | BPF_JSET | BPF_K, 1, 0, rule->value);
		break;
	case RULE_ARG_NULL:
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 5, rule->nr);
		emit_load(p, ARG_LOW(rule->arg));
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 3, 0);
		emit_load(p, ARG_LOW(rule->arg) + 4);
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0);
		break;
	}
	emit(p, BPF_RET | BPF_K, 0, 0, ALLOW);
	if (rule->kind != RULE_ANY)
		emit_load(p, NR);
}

/* Has an earlier rule of these parts named the call? */
static bool named_before(size_t i, unsigned int parts)
{
	for (size_t j = 0; j < i; j++)
		if (rules[j].nr == rules[i].nr && (!rules[j].parts || (rules[j].parts & parts)))
			return true;
	return false;
}

/* The filter for these parts; the number of calls it allows. */
static int build(struct program *p, unsigned int parts)
{
	int calls = 0;

	p->len = 0;
	emit_load(p, offsetof(struct seccomp_data, arch));
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, SANDBOX_ARCH);
	emit(p, BPF_RET | BPF_K, 0, 0, KILL);
	emit_load(p, NR);
#ifdef SANDBOX_X32_BIT
	emit(p, BPF_JMP | BPF_JGE | BPF_K, 0, 1, SANDBOX_X32_BIT);
	emit(p, BPF_RET | BPF_K, 0, 0, KILL);
#endif
	for (size_t i = 0; i < ARRAY_SIZE(rules); i++) {
		if (rules[i].parts && !(rules[i].parts & parts))
			continue;
		emit_rule(p, &rules[i]);
		calls += !named_before(i, parts);
	}
	emit(p, BPF_RET | BPF_K, 0, 0, TRAP);
	return p->len <= MAX_INSNS ? calls : -E2BIG;
}

/*
 * The line, from a pattern with one %s (the call's name) and one %u (its number), in a
 * signal handler: no stdio may run there.
 */
static size_t format_line(char *line, size_t size, const char *pattern, const char *name,
			  unsigned int nr)
{
	char digits[16];
	size_t len = 0, n = sizeof(digits) - 1;
	const char *text;

	digits[n] = '\0';
	do
		digits[--n] = (char)('0' + nr % 10);
	while (nr /= 10);
	for (; *pattern && len < size; pattern++) {
		if (pattern[0] != '%' || (pattern[1] != 's' && pattern[1] != 'u')) {
			line[len++] = *pattern;
			continue;
		}
		for (text = *++pattern == 's' ? name : digits + n; *text && len < size; text++)
			line[len++] = *text;
	}
	return len;
}

/* A call the filter refused: say which, and stop. Only async-signal-safe calls. */
static void on_refused_call(int sig, siginfo_t *info, void *context)
{
	unsigned int nr = (unsigned int)info->si_syscall;
	const char *name = nr < ARRAY_SIZE(syscall_names) ? syscall_names[nr] : NULL;
	/* SIGSYS sent by another process, as kill -SYS does, stops tracing too. */
	const char *pattern =
		info->si_code != SYS_SECCOMP
			? "tcptrace: stopped by SIGSYS from another process\n"
			: "tcptrace: stopped: system call %s (%u) is not one tcptrace "
			  "makes while tracing (--no-seccomp lifts the filter)\n";
	char line[256];
	ssize_t written;

	(void)sig;
	(void)context;
	written = write(STDERR_FILENO, line,
			format_line(line, sizeof(line), pattern, name ? name : "#", nr));
	(void)written; /* stderr gone: nothing else to tell it with */
	_exit(1);
}

/* A filter loaded with prctl() holds for the calling thread alone, and those it starts. */
static bool single_threaded(void)
{
	struct stat st;

	/* A directory's link count: 2, plus one per subdirectory (thread). */
	return !stat("/proc/self/task", &st) && st.st_nlink == 3;
}

int sandbox_enter(unsigned int parts)
{
	static struct program program;
	struct sigaction action = { .sa_sigaction = on_refused_call,
				    .sa_flags = SA_SIGINFO | SA_RESETHAND };
	struct sock_fprog fprog;
	int calls = build(&program, parts);

	if (calls < 0)
		return calls;
	if (!single_threaded())
		return -EBUSY;
	sigfillset(&action.sa_mask);
	if (sigaction(SIGSYS, &action, NULL))
		return -errno;
	fprog.len = (unsigned short)program.len;
	fprog.filter = program.insns;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0))
		return -errno;
	return calls;
}

#else

int sandbox_enter(unsigned int parts)
{
	(void)parts;
	return -EOPNOTSUPP;
}

#endif
