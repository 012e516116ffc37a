// SPDX-License-Identifier: GPL-2.0-only
/*
 * `tcptrace features`: for each probe of every command, which attach methods this kernel
 * offers, from the table of probes (bpf/probes.def), which every load checks the BPF
 * object against, so the list never drifts from what tcptrace attaches. Nothing is
 * loaded.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "array.h"
#include "features.h"
#include "kernel.h"
#include "methods.h"
#include "probes.h"

#define MAX_PROBES 16

struct probe_row {
	char event[64];				/* as tracefs and perf name it: "sock:..." */
	char name[48];				/* the tracepoint's name alone, the key */
	char used_by[32];			/* the commands whose programs attach it */
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

static void add_user(struct probe_row *row, const char *command)
{
	if (strstr(row->used_by, command))
		return;
	snprintf(row->used_by + strlen(row->used_by), sizeof(row->used_by) - strlen(row->used_by),
		 "%s%s", row->used_by[0] ? "," : "", command);
}

static const char *offered(const struct probe *probe, enum attach_method method,
			   const char *tracefs)
{
	static const char *const answers[] = {
		[KERNEL_OFFERS_NOT] = "no",
		[KERNEL_OFFERS] = "yes",
		[KERNEL_OFFER_UNKNOWN] = "?",
	};

	return answers[kernel_offers(probe, method, tracefs)];
}

/*
 * A probe's row is its event's, which other probes may share; a function's alone, as
 * "function()".
 */
static void add_probe(struct probe_row *rows, unsigned int *n, const struct probe *probe,
		      const char *tracefs)
{
	struct probe_row *row = row_for(rows, n, probe->event ?: probe->function);

	if (!row)
		return;
	if (probe->event)
		snprintf(row->event, sizeof(row->event), "%s:%s", probe->category, probe->event);
	else
		snprintf(row->event, sizeof(row->event), "%s()", probe->function);
	for (enum attach_method m = ATTACH_TP_BTF; m <= ATTACH_KPROBE; m++)
		if (probe_has_variant(probe, m))
			row->offered[m] = offered(probe, m, tracefs);
	add_user(row, probe->command);
}

static void print_kernel(const struct trace_config *config, const char *tracefs, int tracefs_err)
{
	struct utsname uts;
	int ringbuf = -1;

	uname(&uts);
	printf("%-14s %s\n", "kernel", uts.release);
	if (!access(KERNEL_BTF, R_OK))
		printf("%-14s %s\n", "BTF", "yes");
	else
		printf("%-14s no%s%s%s\n", "BTF", config->btf_path ? " (types from " : "",
		       config->btf_path ?: "", config->btf_path ? ")" : "");
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

/* Under auto, a preferred probe the kernel offers leaves its fallbacks unloaded. */
static bool fallbacks_load(void)
{
	for (unsigned int i = 0; i < nr_probes; i++)
		for (enum attach_method m = ATTACH_FENTRY;
		     probes[i].role == PROBE_PREFERRED && m <= ATTACH_KPROBE; m++)
			if (probe_has_variant(&probes[i], m) &&
			    kernel_offers(&probes[i], m, NULL) == KERNEL_OFFERS)
				return false;
	return true;
}

/* Does the kernel offer the probe called name by fentry or kprobe (NULL: no)? */
static bool offered_by_function(const char *name)
{
	const struct probe *probe = name ? probe_named(name) : NULL;

	for (enum attach_method m = ATTACH_FENTRY; probe && m <= ATTACH_KPROBE; m++)
		if (probe_has_variant(probe, m) && kernel_offers(probe, m, NULL) == KERNEL_OFFERS)
			return true;
	return false;
}

/* What the commands' programs, as auto attaches them, cannot give on this kernel. */
static void print_limits(const struct trace_config *config)
{
	bool fallbacks = fallbacks_load(), any = false;

	printf("\n%-8s %s\n", "COMMAND", "CANNOT GIVE HERE (with -A auto)");
	for (unsigned int i = 0; i < CONFIG_PROGRAM_LIST && config->limits[i]; i++) {
		const struct kernel_limit *limit = config->limits[i];
		const struct probe *probe = probe_named(limit->program);

		if (!probe || (probe->role == PROBE_FALLBACK && !fallbacks) ||
		    offered_by_function(limit->unless) ||
		    kernel_has_type(limit->type, limit->member))
			continue;
		printf("%-8s %s\n", probe->command, limit->lost);
		any = true;
	}
	if (!any)
		printf("%-8s %s\n", "-", "nothing: every field and outcome");
}

int features_run(const struct trace_config *config, struct failure *failure)
{
	struct probe_row rows[MAX_PROBES];
	unsigned int n = 0;
	const char *tracefs;
	int tracefs_err;

	libbpf_set_print(NULL);
	kernel_use_btf_file(config->btf_path);
	tracefs = kernel_tracefs(&tracefs_err);
	print_kernel(config, tracefs, tracefs_err);
	for (unsigned int i = 0; i < nr_probes; i++)
		add_probe(rows, &n, &probes[i], tracefs);
	printf("\n%-30s %-7s %-7s %-11s %-7s %-7s %s\n", "PROBE", "TP_BTF", "RAW_TP", "TRACEPOINT",
	       "FENTRY", "KPROBE", "USED BY");
	for (unsigned int i = 0; i < n; i++)
		printf("%-30s %-7s %-7s %-11s %-7s %-7s %s\n", rows[i].event,
		       rows[i].offered[ATTACH_TP_BTF], rows[i].offered[ATTACH_RAW_TP],
		       rows[i].offered[ATTACH_TRACEPOINT], rows[i].offered[ATTACH_FENTRY],
		       rows[i].offered[ATTACH_KPROBE], rows[i].used_by);
	print_limits(config);
	if (fflush(stdout)) {
		int err = -errno;

		failure_step(failure, "write", "the output");
		return err;
	}
	return 0;
}
