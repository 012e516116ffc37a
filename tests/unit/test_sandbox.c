// SPDX-License-Identifier: GPL-2.0-only
/*
 * lib/sandbox.c: the real filter, installed in a child each (no_new_privs is all it
 * needs), which then makes one call: let through, stopped and named, or killed.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "../../lib/sandbox.h"
#include "check.h"

struct outcome {
	int status;    /* as waitpid() gives it */
	char err[512]; /* what the child wrote to stderr */
};

/* A pipe nobody writes to: a child blocks reading it (made before the filter). */
static int never_written[2];

/*
 * Runs call() in a child under the filter for parts; it exits 0 if the call returned.
 * With sigsys, the parent sends it SIGSYS meanwhile.
 */
static struct outcome run_filtered_signalled(unsigned int parts, long (*call)(void), bool sigsys)
{
	struct outcome outcome = {};
	int pipe_fds[2];
	ssize_t n, len = 0;
	pid_t pid;

	if (pipe(pipe_fds) || pipe(never_written))
		abort();
	pid = fork();
	if (pid == 0) {
		dup2(pipe_fds[1], STDERR_FILENO);
		close(pipe_fds[0]);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || sandbox_enter(parts) <= 0)
			_exit(3);
		call();
		_exit(0);
	}
	close(pipe_fds[1]);
	close(never_written[0]);
	if (sigsys) {
		usleep(200000);
		kill(pid, SIGSYS);
	}
	while ((n = read(pipe_fds[0], outcome.err + len, sizeof(outcome.err) - 1 - len)) > 0)
		len += n;
	close(pipe_fds[0]);
	close(never_written[1]);
	waitpid(pid, &outcome.status, 0);
	return outcome;
}

static struct outcome run_filtered(unsigned int parts, long (*call)(void))
{
	return run_filtered_signalled(parts, call, false);
}

static bool exited(const struct outcome *outcome, int code)
{
	return WIFEXITED(outcome->status) && WEXITSTATUS(outcome->status) == code;
}

static long call_write(void)
{
	return write(STDOUT_FILENO, "", 0);
}

static long call_getppid(void)
{
	return syscall(SYS_getppid);
}

static long call_socket(void)
{
	return syscall(SYS_socket, 2, 1, 0);
}

static long call_execve(void)
{
	char *argv[] = { "true", NULL };

	return syscall(SYS_execve, "/bin/true", argv, NULL);
}

static long call_open_to_read(void)
{
	long fd = syscall(SYS_openat, AT_FDCWD, "/proc/self/stat", O_RDONLY | O_CLOEXEC);

	return fd < 0 ? fd : syscall(SYS_close, fd);
}

static long call_open_to_write(void)
{
	return syscall(SYS_openat, AT_FDCWD, "/dev/null", O_WRONLY | O_CLOEXEC);
}

static long call_mmap_exec(void)
{
	return syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		       0);
}

static long call_mmap_data(void)
{
	return syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
}

static long call_bpf_load(void)
{
	union bpf_attr attr = {};

	return syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
}

static long call_bpf_lookup(void)
{
	union bpf_attr attr = {};

	return syscall(SYS_bpf, BPF_MAP_LOOKUP_ELEM, &attr, sizeof(attr));
}

static long call_read_limit(void)
{
	struct rlimit limit;

	return syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &limit);
}

static long call_set_limit(void)
{
	struct rlimit limit = { 1024, 1024 };

	return syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &limit, NULL);
}

static long call_block(void)
{
	char byte;

	return read(never_written[0], &byte, 1);
}

static long call_fcntl_cloexec(void)
{
	return syscall(SYS_fcntl, STDERR_FILENO, F_SETFD, FD_CLOEXEC);
}

static long call_bpf_delete(void)
{
	union bpf_attr attr = {};

	return syscall(SYS_bpf, BPF_MAP_DELETE_ELEM, &attr, sizeof(attr));
}

static long call_perf_disable(void)
{
	return syscall(SYS_ioctl, -1, PERF_EVENT_IOC_DISABLE, 0);
}

static long call_terminal_ioctl(void)
{
	return syscall(SYS_ioctl, STDERR_FILENO, TCGETS, NULL);
}

static long call_tgkill_term(void)
{
	return syscall(SYS_tgkill, 1 << 30, 1 << 30, SIGTERM); /* no such task: ESRCH */
}

static long call_tcp_option(void)
{
	int one = 1;

	return syscall(SYS_setsockopt, -1, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static long call_socket_option(void)
{
	int one = 1;

	return syscall(SYS_setsockopt, -1, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
}

#ifdef __x86_64__
/* i386's execve (11), through int 0x80: on x86_64, 11 is munmap, which is let through. */
static long call_i386(void)
{
	long ret = 11;

	__asm__ volatile("int $0x80" : "+a"(ret) : "b"(0), "c"(0), "d"(0) : "memory");
	return ret;
}

static long call_x32(void)
{
	return syscall(SYS_getpid | 0x40000000);
}
#endif

/* Stopped, with the one line that names the call. */
static void check_stopped(const struct outcome *outcome, const char *name, int nr)
{
	char line[256];

	snprintf(line, sizeof(line),
		 "tcptrace: stopped: system call %s (%d) is not one tcptrace makes while "
		 "tracing (--no-seccomp lifts the filter)\n",
		 name, nr);
	CHECK(exited(outcome, 1));
	CHECK_STR(outcome->err, line);
}

static void test_calls_let_through(void)
{
	struct outcome outcome = run_filtered(0, call_write);

	CHECK(exited(&outcome, 0));
	CHECK_STR(outcome.err, "");
	outcome = run_filtered(0, call_mmap_data);
	CHECK(exited(&outcome, 0));
	outcome = run_filtered(0, call_bpf_lookup); /* EBADF, but let through */
	CHECK(exited(&outcome, 0));
	outcome = run_filtered(SANDBOX_IDENTITY, call_open_to_read);
	CHECK(exited(&outcome, 0));
	outcome = run_filtered(SANDBOX_HTTP, call_read_limit);
	CHECK(exited(&outcome, 0));
	outcome = run_filtered(SANDBOX_IDENTITY, call_fcntl_cloexec);
	CHECK(exited(&outcome, 0));
	outcome = run_filtered(SANDBOX_PERF_BUFFER, call_bpf_delete);
	CHECK(exited(&outcome, 0));
	outcome = run_filtered(0, call_perf_disable);
	CHECK(exited(&outcome, 0));
	outcome = run_filtered(SANDBOX_HTTP, call_tcp_option);
	CHECK(exited(&outcome, 0));
}

static void test_calls_stopped(void)
{
	struct outcome outcome = run_filtered(0, call_getppid);

	check_stopped(&outcome, "getppid", SYS_getppid);
	outcome = run_filtered(SANDBOX_IDENTITY | SANDBOX_SUMMARIES | SANDBOX_HTTP, call_socket);
	check_stopped(&outcome, "socket", SYS_socket);
	outcome = run_filtered(SANDBOX_HTTP, call_execve);
	check_stopped(&outcome, "execve", SYS_execve);
}

/* What a call may do is checked where it could do more than tcptrace asks. */
static void test_arguments(void)
{
	struct outcome outcome = run_filtered(0, call_open_to_read);

	check_stopped(&outcome, "openat", SYS_openat); /* no file is read without the parts */
	outcome = run_filtered(SANDBOX_IDENTITY | SANDBOX_HTTP, call_open_to_write);
	check_stopped(&outcome, "openat", SYS_openat);
	outcome = run_filtered(0, call_mmap_exec);
	check_stopped(&outcome, "mmap", SYS_mmap);
	outcome = run_filtered(0, call_bpf_load);
	check_stopped(&outcome, "bpf", SYS_bpf);
	outcome = run_filtered(SANDBOX_HTTP, call_set_limit);
	check_stopped(&outcome, "prlimit64", SYS_prlimit64);
	outcome = run_filtered(0, call_bpf_delete); /* a perf buffer's alone */
	check_stopped(&outcome, "bpf", SYS_bpf);
	outcome = run_filtered(SANDBOX_HTTP, call_terminal_ioctl);
	check_stopped(&outcome, "ioctl", SYS_ioctl);
	outcome = run_filtered(0, call_tgkill_term);
	check_stopped(&outcome, "tgkill", SYS_tgkill);
	outcome = run_filtered(SANDBOX_HTTP, call_socket_option);
	check_stopped(&outcome, "setsockopt", SYS_setsockopt);
}

/* SIGSYS from another process stops it too, with a line of its own. */
static void test_sigsys_sent(void)
{
	struct outcome outcome = run_filtered_signalled(0, call_block, true);

	CHECK(exited(&outcome, 1));
	CHECK_STR(outcome.err, "tcptrace: stopped by SIGSYS from another process\n");
}

/* Another ABI's calls are killed outright: their numbers mean other calls. */
static void test_other_abi(void)
{
#ifdef __x86_64__
	struct outcome outcome = run_filtered(0, call_x32);

	CHECK(WIFSIGNALED(outcome.status) && WTERMSIG(outcome.status) == SIGSYS);
	outcome = run_filtered(0, call_i386);
	/* A kernel without IA-32 emulation faults instead: nothing to check there. */
	if (WIFSIGNALED(outcome.status) && WTERMSIG(outcome.status) == SIGSEGV)
		printf("     no IA-32 emulation here: the i386 call not checked\n");
	else
		CHECK(WIFSIGNALED(outcome.status) && WTERMSIG(outcome.status) == SIGSYS);
#endif
}

int main(void)
{
	CHECK(sandbox_available());
	RUN(test_calls_let_through);
	RUN(test_calls_stopped);
	RUN(test_arguments);
	RUN(test_sigsys_sent);
	RUN(test_other_abi);
	return CHECK_RESULT();
}
