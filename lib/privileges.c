// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/types.h>
#include "privileges.h"

/* glibc wraps neither capget() nor capset(), and libcap is not worth a dependency. */
static int capabilities(__u64 *permitted)
{
	struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};

	if (syscall(SYS_capget, &header, data))
		return -errno;
	*permitted = data[0].permitted | (__u64)data[1].permitted << 32;
	return 0;
}

/* The inheritable set is emptied too: nothing is handed on. */
static int set_capabilities(__u64 permitted, __u64 effective)
{
	struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {
		{ .permitted = permitted, .effective = effective },
		{ .permitted = permitted >> 32, .effective = effective >> 32 },
	};

	return syscall(SYS_capset, &header, data) ? -errno : 0;
}

/*
 * What an execve() could bring back: file capabilities and set-user-ID (no_new_privs),
 * the ambient set, and the bounding set. tcptrace never executes anything; a flaw that
 * made it would start with nothing. Emptying the bounding set takes CAP_SETPCAP, which
 * a run given only CAP_BPF and CAP_PERFMON lacks: no_new_privs still holds then.
 */
static int close_exec_paths(void)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0))
		return -errno;
	/* EINVAL past the kernel's last capability; EPERM without CAP_SETPCAP. */
	for (unsigned long cap = 0; cap < 64; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0))
			break;
	return 0;
}

int privileges_drop(bool (*bpf_works)(void *ctx), void *ctx, bool *kept_bpf)
{
	__u64 permitted = 0, bpf;
	int err = capabilities(&permitted);

	if (!err)
		err = close_exec_paths();
	if (err)
		return err;
	/* CAP_BPF stays permitted, not effective, while the kernel is asked. */
	bpf = permitted & (1ull << CAP_BPF);
	err = set_capabilities(bpf, 0);
	if (err)
		return err;
	*kept_bpf = bpf && !bpf_works(ctx);
	return *kept_bpf ? set_capabilities(bpf, bpf) : set_capabilities(0, 0);
}
