// SPDX-License-Identifier: GPL-2.0-only
/*
 * refuse_bpf.so - an LD_PRELOAD shim that makes the kernel look as if it refused one
 * kind of BPF program, chosen by $REFUSE_BPF; everything else goes through. Tests use
 * it to see tcptrace fall back. libbpf makes its bpf() calls through libc's syscall().
 *   tp_btf         BPF_PROG_LOAD of a tracing program attached as a raw tracepoint
 *                  fails with EPERM
 *   fentry_attach  fentry and fexit programs load, but attaching one fails with EBUSY,
 *                  as when another ftrace user holds the function
 *   ringbuf        BPF_MAP_CREATE of a ring buffer fails with EINVAL, as before Linux
 *                  5.8, which has none
 *   helper:N       BPF_PROG_LOAD of a program that calls helper number N fails with
 *                  EINVAL, and the verifier's log says what a kernel without it says
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>
#include <sys/syscall.h>

#define MAX_FD 4096

/* Which descriptors are trampoline programs: every program load sets or clears its own. */
static bool fentry_fd[MAX_FD];

static bool refusing(const char *what)
{
	const char *mode = getenv("REFUSE_BPF");

	return mode && !strcmp(mode, what);
}

static bool is_fentry(const union bpf_attr *attr)
{
	return attr->prog_type == BPF_PROG_TYPE_TRACING &&
	       (attr->expected_attach_type == BPF_TRACE_FENTRY ||
		attr->expected_attach_type == BPF_TRACE_FEXIT);
}

/* REFUSE_BPF=helper:N: N, else -1. */
static int refused_helper(void)
{
	const char *mode = getenv("REFUSE_BPF");

	return mode && !strncmp(mode, "helper:", 7) ? atoi(mode + 7) : -1;
}

/* The first instruction of the program to load that calls the helper, or -1. */
static int call_of_helper(const union bpf_attr *attr, int helper)
{
	const struct bpf_insn *insns = (const struct bpf_insn *)(unsigned long)attr->insns;

	for (unsigned int i = 0; helper >= 0 && i < attr->insn_cnt; i++)
		if (insns[i].code == (BPF_JMP | BPF_CALL) && insns[i].src_reg == 0 &&
		    insns[i].imm == helper)
			return (int)i;
	return -1;
}

static int refuse(int err)
{
	errno = err;
	return -1;
}

static long attached_program(long cmd, const union bpf_attr *attr)
{
	if (cmd == BPF_RAW_TRACEPOINT_OPEN)
		return attr->raw_tracepoint.prog_fd;
	if (cmd == BPF_LINK_CREATE)
		return attr->link_create.prog_fd;
	return -1;
}

long syscall(long number, ...)
{
	static long (*real_syscall)(long, ...);
	const union bpf_attr *attr;
	long args[6], ret, fd;
	va_list ap;

	va_start(ap, number);
	for (int i = 0; i < 6; i++)
		args[i] = va_arg(ap, long);
	va_end(ap);
	if (!real_syscall)
		real_syscall = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	if (number != SYS_bpf)
		return real_syscall(number, args[0], args[1], args[2], args[3], args[4], args[5]);
	attr = (const union bpf_attr *)args[1];
	if (args[0] == BPF_MAP_CREATE && refusing("ringbuf") &&
	    attr->map_type == BPF_MAP_TYPE_RINGBUF)
		return refuse(EINVAL);
	if (args[0] == BPF_PROG_LOAD && refusing("tp_btf") &&
	    attr->prog_type == BPF_PROG_TYPE_TRACING &&
	    attr->expected_attach_type == BPF_TRACE_RAW_TP)
		return refuse(EPERM);
	if (args[0] == BPF_PROG_LOAD) {
		int at = call_of_helper(attr, refused_helper());

		if (at >= 0) {
			/* As the verifier of a kernel that does not know the number says it. */
			if (attr->log_level && attr->log_buf && attr->log_size)
				snprintf((char *)(unsigned long)attr->log_buf, attr->log_size,
					 "%d: (85) call unknown#%d\ninvalid func unknown#%d\n", at,
					 refused_helper(), refused_helper());
			return refuse(EINVAL);
		}
	}
	fd = attached_program(args[0], attr);
	if (refusing("fentry_attach") && fd >= 0 && fd < MAX_FD && fentry_fd[fd])
		return refuse(EBUSY);
	ret = real_syscall(number, args[0], args[1], args[2], args[3], args[4], args[5]);
	if (args[0] == BPF_PROG_LOAD && ret >= 0 && ret < MAX_FD)
		fentry_fd[ret] = is_fentry(attr);
	return ret;
}
