// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <bpf/btf.h>
#include "probe.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static bool capable(const struct __user_cap_data_struct *caps, int cap)
{
	return caps[cap >> 5].effective & (1u << (cap & 31));
}

/*
 * Loading tracing programs and creating a ring buffer takes CAP_BPF and CAP_PERFMON, or
 * CAP_SYS_ADMIN on kernels before 5.8. Checking first turns the kernel's bare EPERM
 * at load time into advice.
 */
int probe_privileges(void)
{
	struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3] = {};

	if (syscall(SYS_capget, &header, caps))
		return -errno;
	if (capable(caps, CAP_SYS_ADMIN))
		return 0;
	if (capable(caps, CAP_BPF) && capable(caps, CAP_PERFMON))
		return 0;
	return -EPERM;
}

bool probe_btf_tracepoint(const char *event)
{
	static struct btf *vmlinux;
	char type[128];

	if (!vmlinux)
		vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux)
		return false;
	snprintf(type, sizeof(type), "btf_trace_%s", event);
	return btf__find_by_name_kind(vmlinux, type, BTF_KIND_TYPEDEF) > 0;
}

/* The checks use the effective IDs and capabilities: tracefs is mode 0700. */
const char *probe_tracefs(int *err)
{
	static const char *const roots[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	char events[64];

	*err = -ENOENT;
	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		snprintf(events, sizeof(events), "%s/events", roots[i]);
		if (!faccessat(AT_FDCWD, events, F_OK, AT_EACCESS))
			return *err = 0, roots[i];
		if (errno == EACCES)
			*err = -EACCES;
	}
	return NULL;
}

bool probe_tracefs_event(const char *root, const char *event)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/events/%s", root, event);
	return !faccessat(AT_FDCWD, path, F_OK, AT_EACCESS);
}
