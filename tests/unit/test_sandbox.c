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
#include <linux/bpf.h>
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

/* Runs call() in a child under the filter for parts; it exits 0 if the call returned. */
static struct outcome run_filtered(unsigned int parts, long (*call)(void))
{
	struct outcome outcome = {};
	int pipe_fds[2];
	ssize_t n, len = 0;
	pid_t pid;

	if (pipe(pipe_fds))
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
	while ((n = read(pipe_fds[0], outcome.err + len, sizeof(outcome.err) - 1 - len)) > 0)
		len += n;
	close(pipe_fds[0]);
	waitpid(pid, &outcome.status, 0);
	return outcome;
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

#ifdef __x86_64__
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
}

/* Another ABI's calls are killed outright: their numbers mean other calls. */
static void test_other_abi(void)
{
#ifdef __x86_64__
	struct outcome outcome = run_filtered(0, call_x32);

	CHECK(WIFSIGNALED(outcome.status) && WTERMSIG(outcome.status) == SIGSYS);
#endif
}

int main(void)
{
	CHECK(sandbox_available());
	RUN(test_calls_let_through);
	RUN(test_calls_stopped);
	RUN(test_arguments);
	RUN(test_other_abi);
	return CHECK_RESULT();
}
