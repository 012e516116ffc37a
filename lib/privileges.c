// SPDX-License-Identifier: GPL-2.0-only
#define _GNU_SOURCE /* setresuid(), setresgid() */
#include <errno.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/types.h>
#include "privileges.h"

/* glibc wraps neither capget() nor capset(), and libcap is not worth a dependency. */
static int capabilities(__u64 *permitted, __u64 *effective)
{
	struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};

	if (syscall(SYS_capget, &header, data))
		return -errno;
	*permitted = data[0].permitted | (__u64)data[1].permitted << 32;
	*effective = data[0].effective | (__u64)data[1].effective << 32;
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

/*
 * The one capability that can let bpf() through where the kernel asks for one: CAP_BPF,
 * or, on a process given CAP_SYS_ADMIN alone, that.
 */
static __u64 bpf_capability(__u64 permitted)
{
	__u64 bpf = 1ull << CAP_BPF, sys_admin = 1ull << CAP_SYS_ADMIN;

	return (permitted & bpf) ? bpf : (permitted & sys_admin);
}

/*
 * Root without capabilities still owns root's files: /etc, /root, cron. Run as root,
 * tcptrace gives up the user and group IDs too, for the kernel's overflow ID (nobody),
 * by number: a static binary in an initramfs has no passwd file. That takes CAP_SETUID
 * and CAP_SETGID; root given only CAP_BPF and CAP_PERFMON stays root (*left false).
 * PR_SET_KEEPCAPS keeps the permitted set through the change, for capset() to decide.
 */
static int leave_root(__u64 effective, bool *left)
{
	__u64 needed = 1ull << CAP_SETUID | 1ull << CAP_SETGID;

	*left = false;
	if ((geteuid() != 0 && getuid() != 0) || (effective & needed) != needed)
		return 0;
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) || setgroups(0, NULL) ||
	    setresgid(PRIVILEGES_NOBODY, PRIVILEGES_NOBODY, PRIVILEGES_NOBODY) ||
	    setresuid(PRIVILEGES_NOBODY, PRIVILEGES_NOBODY, PRIVILEGES_NOBODY) ||
	    prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0))
		return -errno;
	*left = true;
	return 0;
}

int privileges_drop(bool (*bpf_works)(void *ctx), void *ctx, struct privileges_dropped *dropped)
{
	__u64 permitted = 0, effective = 0, keep;
	int err = capabilities(&permitted, &effective);

	if (!err)
		err = close_exec_paths();
	if (!err)
		err = leave_root(effective, &dropped->left_root);
	if (err)
		return err;
	/* That capability stays permitted, not effective, while the kernel is asked. */
	keep = bpf_capability(permitted);
	err = set_capabilities(keep, 0);
	if (err)
		return err;
	dropped->kept = NULL;
	if (bpf_works(ctx))
		return set_capabilities(0, 0);
	if (!keep)
		return 0;
	dropped->kept = keep == 1ull << CAP_BPF ? "CAP_BPF" : "CAP_SYS_ADMIN";
	return set_capabilities(keep, keep);
}
