// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include "array.h"
#include "kernel.h"
#include "probes.h"

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
int kernel_check_privileges(void)
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

static struct btf *vmlinux;
static const char *btf_file; /* --btf */

void kernel_use_btf_file(const char *path)
{
	btf_file = path;
}

static bool kernel_has_own_btf(void)
{
	return !access(KERNEL_BTF, R_OK);
}

/* The kernel's types: its own where it has them, else --btf's. */
static struct btf *vmlinux_btf(void)
{
	if (!vmlinux && kernel_has_own_btf())
		vmlinux = btf__load_vmlinux_btf();
	else if (!vmlinux && btf_file)
		vmlinux = btf__parse(btf_file, NULL);
	if (libbpf_get_error(vmlinux))
		vmlinux = NULL;
	return vmlinux;
}

void kernel_checks_release(void)
{
	btf__free(vmlinux);
	vmlinux = NULL;
}

static bool has_member(const struct btf *btf, const struct btf_type *t, const char *member)
{
	if (btf_is_enum(t)) {
		for (unsigned int i = 0; i < btf_vlen(t); i++)
			if (!strcmp(btf__name_by_offset(btf, btf_enum(t)[i].name_off), member))
				return true;
	} else if (btf_is_composite(t)) {
		for (unsigned int i = 0; i < btf_vlen(t); i++)
			if (!strcmp(btf__name_by_offset(btf, btf_members(t)[i].name_off), member))
				return true;
	}
	return false;
}

bool kernel_has_type(const char *type, const char *member)
{
	static const int kinds[] = { BTF_KIND_ENUM, BTF_KIND_STRUCT, BTF_KIND_UNION };
	struct btf *btf = vmlinux_btf();

	for (size_t i = 0; btf && i < ARRAY_SIZE(kinds); i++) {
		int id = btf__find_by_name_kind(btf, type, kinds[i]);

		if (id > 0 && (!member || has_member(btf, btf__type_by_id(btf, id), member)))
			return true;
	}
	return false;
}

bool kernel_has_btf_tracepoint(const char *event)
{
	char type[128];

	snprintf(type, sizeof(type), "btf_trace_%s", event);
	return kernel_has_own_btf() && vmlinux_btf() &&
	       btf__find_by_name_kind(vmlinux_btf(), type, BTF_KIND_TYPEDEF) > 0;
}

/* A trampoline attaches by the kernel's own BTF ID: --btf's file has none to give. */
static int function_btf_id(const char *function)
{
	if (!kernel_has_own_btf() || !vmlinux_btf())
		return -1;
	return btf__find_by_name_kind(vmlinux_btf(), function, BTF_KIND_FUNC);
}

/* Without the kernel's BTF, its symbols say whether it has the function. */
static bool kallsyms_has(const char *function)
{
	char line[256], name[128];
	bool found = false;
	FILE *file = fopen("/proc/kallsyms", "re");

	if (!file)
		return false;
	while (!found && fgets(line, sizeof(line), file))
		found = sscanf(line, "%*s %*s %127s", name) == 1 && !strcmp(name, function);
	fclose(file);
	return found;
}

bool kernel_loads_fentry(const char *function)
{
	/* return 0 */
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int id = function_btf_id(function), fd;
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_FENTRY,
		    .attach_btf_id = id);

	if (id <= 0)
		return false;
	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "tcptrace_probe", "GPL", insns, 2, &opts);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

bool kernel_has_kprobe(const char *function)
{
	if (access("/sys/bus/event_source/devices/kprobe/type", R_OK))
		return false;
	return kernel_has_own_btf() ? function_btf_id(function) > 0 : kallsyms_has(function);
}

/* The checks use the effective IDs and capabilities: tracefs is mode 0700. */
const char *kernel_tracefs(int *err)
{
	static const char *const roots[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	char events[64];

	*err = -ENOENT;
	for (size_t i = 0; i < ARRAY_SIZE(roots); i++) {
		snprintf(events, sizeof(events), "%s/events", roots[i]);
		if (!faccessat(AT_FDCWD, events, F_OK, AT_EACCESS))
			return *err = 0, roots[i];
		if (errno == EACCES)
			*err = -EACCES;
	}
	return NULL;
}

bool kernel_has_tracefs_event(const char *root, const char *event)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/events/%s", root, event);
	return !faccessat(AT_FDCWD, path, F_OK, AT_EACCESS);
}

static enum kernel_offer offer(bool yes)
{
	return yes ? KERNEL_OFFERS : KERNEL_OFFERS_NOT;
}

enum kernel_offer kernel_offers(const struct probe *probe, enum attach_method method,
				const char *tracefs)
{
	char event[96];
	int err;

	switch (method) {
	case ATTACH_TP_BTF:
		return offer(kernel_has_btf_tracepoint(probe->event));
	case ATTACH_RAW_TP:
		/* Attached by name: without the kernel's BTF, tracefs tells it has the event. */
		if (kernel_has_own_btf())
			return offer(kernel_has_btf_tracepoint(probe->event));
		if (!tracefs)
			tracefs = kernel_tracefs(&err);
		/* fallthrough */
	case ATTACH_TRACEPOINT:
		if (!tracefs)
			return KERNEL_OFFER_UNKNOWN;
		snprintf(event, sizeof(event), "%s/%s", probe->category, probe->event);
		return offer(kernel_has_tracefs_event(tracefs, event));
	case ATTACH_FENTRY:
		/* Only a trial load tells, and loading takes privileges. */
		if (kernel_check_privileges())
			return KERNEL_OFFER_UNKNOWN;
		return offer(kernel_loads_fentry(probe->function));
	case ATTACH_KPROBE:
		return offer(kernel_has_kprobe(probe->function));
	case ATTACH_AUTO:
		break;
	}
	return KERNEL_OFFERS;
}
