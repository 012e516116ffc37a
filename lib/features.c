// SPDX-License-Identifier: GPL-2.0-only
/*
 * `tcptrace features`: for each probe of every command, which attach methods this kernel
 * offers, from the programs in the BPF object itself, so the list never drifts from
 * what tcptrace attaches. Nothing is loaded.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "array.h"
#include "tcptrace.skel.h"
#include "features.h"
#include "kernel.h"
#include "programs.h"

#define MAX_PROBES 16

struct probe_row {
	char event[64];	  /* as the classic tracepoint names it when it can: "sock:..." */
	char name[48];	  /* the tracepoint's name alone, the key */
	char used_by[32]; /* the commands whose programs attach it */
	const char *offered[ATTACH_KPROBE + 1]; /* by enum attach_method */
};

static struct probe_row *row_for(struct probe_row *rows, unsigned int *n, const char *name)
{
	for (unsigned int i = 0; i < *n; i++)
		if (!strcmp(rows[i].name, name))
			return &rows[i];
	if (*n == MAX_PROBES)
		return NULL;
	memset(&rows[*n], 0, sizeof(rows[*n]));
	snprintf(rows[*n].name, sizeof(rows[*n].name), "%s", name);
	snprintf(rows[*n].event, sizeof(rows[*n].event), "%s", name);
	for (int m = ATTACH_TP_BTF; m <= ATTACH_KPROBE; m++)
		rows[*n].offered[m] = "-";
	return &rows[(*n)++];
}

static void add_user(struct probe_row *row, const char *program)
{
	char command[16];

	snprintf(command, sizeof(command), "%.*s", (int)strcspn(program, "_"), program);
	if (strstr(row->used_by, command))
		return;
	snprintf(row->used_by + strlen(row->used_by), sizeof(row->used_by) - strlen(row->used_by),
		 "%s%s", row->used_by[0] ? "," : "", command);
}

static const char *yes_no(bool yes)
{
	return yes ? "yes" : "no";
}

static const char *offered(enum attach_method method, const char *target, const char *tracefs)
{
	const char *name = strrchr(target, '/') ? strrchr(target, '/') + 1 : target;

	switch (method) {
	case ATTACH_TP_BTF:
	case ATTACH_RAW_TP:
		return yes_no(kernel_has_btf_tracepoint(name));
	case ATTACH_TRACEPOINT:
		return tracefs ? yes_no(kernel_has_tracefs_event(tracefs, target)) : "?";
	case ATTACH_FENTRY:
		/* Only a trial load tells, and loading takes privileges. */
		return kernel_check_privileges() ? "?" : yes_no(kernel_loads_fentry(name));
	case ATTACH_KPROBE:
	case ATTACH_AUTO:
		break;
	}
	return yes_no(kernel_has_kprobe(name));
}

/*
 * The probe a program attaches, as its tracepoint is named ("category/name"): fentry and
 * kprobe variants name a function, so they take their classic sibling's ("<base>_tp"),
 * or, for a tracepoint whose classic record cannot serve, their tp_btf sibling's (the
 * name alone).
 */
static const char *probe_event(struct tcptrace *skel, const struct bpf_program *prog,
			       enum attach_method method)
{
	static const enum attach_method siblings[] = { ATTACH_TRACEPOINT, ATTACH_TP_BTF };
	const char *program = bpf_program__name(prog);
	const char *section = bpf_program__section_name(prog);

	if (method != ATTACH_FENTRY && method != ATTACH_KPROBE)
		return strchr(section, '/') + 1;
	for (unsigned int i = 0; i < ARRAY_SIZE(siblings); i++) {
		const struct bpf_program *sibling;
		char name[64];

		snprintf(name, sizeof(name), "%.*s%s",
			 (int)(strlen(program) - strlen(attach_method_suffix(method))), program,
			 attach_method_suffix(siblings[i]));
		sibling = bpf_object__find_program_by_name(skel->obj, name);
		if (sibling)
			return strchr(bpf_program__section_name(sibling), '/') + 1;
	}
	return NULL;
}

static void add_program(struct probe_row *rows, unsigned int *n, struct tcptrace *skel,
			const struct bpf_program *prog, const char *tracefs)
{
	const char *section = bpf_program__section_name(prog);
	enum attach_method method = attach_method_of_section(section);
	const char *event, *name;
	struct probe_row *row;

	if (method == ATTACH_AUTO)
		return;
	event = probe_event(skel, prog, method);
	if (!event)
		return;
	name = strrchr(event, '/') ? strrchr(event, '/') + 1 : event;
	row = row_for(rows, n, name);
	if (!row)
		return;
	if (strchr(event, '/')) {
		snprintf(row->event, sizeof(row->event), "%s", event);
		*strchr(row->event, '/') = ':';
	}
	row->offered[method] = offered(method, strchr(section, '/') + 1, tracefs);
	add_user(row, bpf_program__name(prog));
}

static void print_kernel(const char *tracefs, int tracefs_err)
{
	struct utsname uts;
	int ringbuf = -1;

	uname(&uts);
	printf("%-14s %s\n", "kernel", uts.release);
	printf("%-14s %s\n", "BTF", access(KERNEL_BTF, R_OK) ? "no" : "yes");
	if (!kernel_check_privileges())
		ringbuf = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL);
	printf("%-14s %s\n", "ring buffer",
	       ringbuf < 0 ? "unknown (probing it needs root)"
	       : ringbuf   ? "yes"
			   : "no");
	printf("%-14s %s\n", "tracefs",
	       tracefs			? tracefs
	       : tracefs_err == -EACCES ? "not readable (needs root)"
					: "not mounted (tcptrace mounts it when needed)");
}

int features_run(const struct trace_config *config, struct failure *failure)
{
	struct probe_row rows[MAX_PROBES];
	struct bpf_program *prog;
	struct tcptrace *skel;
	unsigned int n = 0;
	const char *tracefs;
	int tracefs_err;

	(void)config;
	libbpf_set_print(NULL);
	skel = tcptrace__open();
	if (!skel) {
		int err = -errno;

		failure_step(failure, "open", "the BPF object");
		return err;
	}
	tracefs = kernel_tracefs(&tracefs_err);
	print_kernel(tracefs, tracefs_err);
	bpf_object__for_each_program(prog, skel->obj)
		add_program(rows, &n, skel, prog, tracefs);
	printf("\n%-30s %-7s %-7s %-11s %-7s %-7s %s\n", "PROBE", "TP_BTF", "RAW_TP", "TRACEPOINT",
	       "FENTRY", "KPROBE", "USED BY");
	for (unsigned int i = 0; i < n; i++)
		printf("%-30s %-7s %-7s %-11s %-7s %-7s %s\n", rows[i].event,
		       rows[i].offered[ATTACH_TP_BTF], rows[i].offered[ATTACH_RAW_TP],
		       rows[i].offered[ATTACH_TRACEPOINT], rows[i].offered[ATTACH_FENTRY],
		       rows[i].offered[ATTACH_KPROBE], rows[i].used_by);
	tcptrace__destroy(skel);
	if (fflush(stdout)) {
		int err = -errno;

		failure_step(failure, "write", "the output");
		return err;
	}
	return 0;
}
