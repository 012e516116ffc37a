// SPDX-License-Identifier: GPL-2.0-only
/*
 * refuse_tp_btf.so - an LD_PRELOAD shim that makes the kernel look as if it refused
 * tp_btf programs: BPF_PROG_LOAD of a tracing program attached as a raw tracepoint
 * fails with EPERM; everything else goes through. Tests use it to see tcptrace fall back
 * to its next attach method. libbpf makes its bpf() calls through libc's syscall().
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <linux/bpf.h>
#include <sys/syscall.h>

long syscall(long number, ...)
{
	static long (*real_syscall)(long, ...);
	long args[6];
	va_list ap;

	va_start(ap, number);
	for (int i = 0; i < 6; i++)
		args[i] = va_arg(ap, long);
	va_end(ap);
	if (!real_syscall)
		real_syscall = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	if (number == SYS_bpf && args[0] == BPF_PROG_LOAD) {
		const union bpf_attr *attr = (const union bpf_attr *)args[1];

		if (attr->prog_type == BPF_PROG_TYPE_TRACING &&
		    attr->expected_attach_type == BPF_TRACE_RAW_TP) {
			errno = EPERM;
			return -1;
		}
	}
	return real_syscall(number, args[0], args[1], args[2], args[3], args[4], args[5]);
}
