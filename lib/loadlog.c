// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel's verifier names a missing helper by number ("invalid func unknown#175")
 * or by name ("unknown func bpf_x#N", "program of this type cannot use helper bpf_x#N").
 * libbpf rewrites the instruction a CO-RE relocation could not resolve, and the
 * verifier's complaint about it, as "failed to resolve CO-RE relocation <spec>". It
 * names a map it could not create in "map 'name': failed to create".
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>
#include "array.h"
#include "loadlog.h"

/* The calls libbpf poisons (CO-RE, and map references it could not resolve). */
#define POISONED_CORE_RELO 195896080 /* 0xbad2310 */
#define POISONED_MAP_BASE  2001000000

/*
 * Every helper the BPF object calls (unit.test_loadlog checks), and the version it came
 * in. libbpf turns bpf_probe_read_kernel*() into bpf_probe_read*() where they are missing.
 */
static const struct {
	int id;
	const char *name;
	const char *since;
} helpers[] = {
	{ BPF_FUNC_map_lookup_elem, "bpf_map_lookup_elem", "3.19" },
	{ BPF_FUNC_map_update_elem, "bpf_map_update_elem", "3.19" },
	{ BPF_FUNC_map_delete_elem, "bpf_map_delete_elem", "3.19" },
	{ BPF_FUNC_probe_read, "bpf_probe_read", "4.1" },
	{ BPF_FUNC_ktime_get_ns, "bpf_ktime_get_ns", "4.1" },
	{ BPF_FUNC_get_current_pid_tgid, "bpf_get_current_pid_tgid", "4.2" },
	{ BPF_FUNC_get_current_uid_gid, "bpf_get_current_uid_gid", "4.2" },
	{ BPF_FUNC_get_current_comm, "bpf_get_current_comm", "4.2" },
	{ BPF_FUNC_perf_event_output, "bpf_perf_event_output", "4.4" },
	{ BPF_FUNC_get_current_task, "bpf_get_current_task", "4.8" },
	{ BPF_FUNC_current_task_under_cgroup, "bpf_current_task_under_cgroup", "4.9" },
	{ BPF_FUNC_get_current_cgroup_id, "bpf_get_current_cgroup_id", "4.18" },
	{ BPF_FUNC_probe_read_str, "bpf_probe_read_str", "4.11" },
	{ BPF_FUNC_probe_read_kernel, "bpf_probe_read_kernel", "5.5" },
	{ BPF_FUNC_probe_read_kernel_str, "bpf_probe_read_kernel_str", "5.5" },
	{ BPF_FUNC_ringbuf_reserve, "bpf_ringbuf_reserve", "5.8" },
	{ BPF_FUNC_ringbuf_submit, "bpf_ringbuf_submit", "5.8" },
	{ BPF_FUNC_ringbuf_query, "bpf_ringbuf_query", "5.8" },
	{ BPF_FUNC_get_current_task_btf, "bpf_get_current_task_btf", "5.11" },
	{ BPF_FUNC_task_pt_regs, "bpf_task_pt_regs", "5.15" },
};

static const struct {
	unsigned int type;
	const char *since;
} map_types[] = {
	{ BPF_MAP_TYPE_HASH, "3.19" },
	{ BPF_MAP_TYPE_ARRAY, "3.19" },
	{ BPF_MAP_TYPE_PERF_EVENT_ARRAY, "4.3" },
	{ BPF_MAP_TYPE_PERCPU_ARRAY, "4.6" },
	{ BPF_MAP_TYPE_CGROUP_ARRAY, "4.8" },
	{ BPF_MAP_TYPE_LRU_HASH, "4.10" },
	{ BPF_MAP_TYPE_RINGBUF, "5.8" },
};

const char *load_lack_helper_name(int id)
{
	for (size_t i = 0; i < ARRAY_SIZE(helpers); i++)
		if (helpers[i].id == id)
			return helpers[i].name;
	return NULL;
}

const char *load_lack_map_since(unsigned int map_type)
{
	for (size_t i = 0; i < ARRAY_SIZE(map_types); i++)
		if (map_types[i].type == map_type)
			return map_types[i].since;
	return NULL;
}

static bool lack_helper(struct load_lack *lack, int id)
{
	if (id == POISONED_CORE_RELO || id >= POISONED_MAP_BASE)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(helpers); i++)
		if (helpers[i].id == id) {
			snprintf(lack->what, sizeof(lack->what), "the BPF helper %s()",
				 helpers[i].name);
			lack->since = helpers[i].since;
			return true;
		}
	snprintf(lack->what, sizeof(lack->what), "the BPF helper #%d", id);
	return true;
}

/* "<verifier's words> name#id": the helper's number, from where the words end. */
static bool scan_helper(const char *text, const char *words, struct load_lack *lack)
{
	const char *at = strstr(text, words);
	const char *hash;
	char *end;
	long id;

	if (!at)
		return false;
	hash = strchr(at + strlen(words), '#');
	if (!hash)
		return false;
	id = strtol(hash + 1, &end, 10);
	return end != hash + 1 && id >= 0 && id <= INT_MAX && lack_helper(lack, (int)id);
}

/*
 * "<byte_off> [118] struct sock.sk_protocol (0:22 @ offset 516)", or
 * "<enumval_exists> [40] enum io_uring_op::IORING_OP_ACCEPT = 13", or
 * "<type_exists> [7] struct io_kiocb": the kind of relocation, the local type's ID,
 * then what the kernel lacks.
 */
static bool scan_core_relo(const char *text, struct load_lack *lack)
{
	static const char words[] = "failed to resolve CO-RE relocation ";
	const char *at = strstr(text, words), *kind, *spec;
	size_t len;

	if (!at)
		return false;
	kind = at + strlen(words);
	spec = strchr(kind, ']');
	if (!spec || spec[1] != ' ')
		return false;
	spec += 2;
	/* Two words: "struct", then the name and what follows it. */
	len = strcspn(spec, " \n");
	if (spec[len] == ' ')
		len += 1 + strcspn(spec + len + 1, " \n");
	snprintf(lack->what, sizeof(lack->what), "the %s %.*s",
		 !strncmp(kind, "<enumval", 8) ? "enum value"
		 : !strncmp(kind, "<type", 5)  ? "type"
					       : "field",
		 (int)len, spec);
	lack->since = NULL;
	return true;
}

static bool scan_map(const char *text, struct load_lack *lack)
{
	const char *end;

	if (strncmp(text, "libbpf: map '", 13) || !strstr(text, "': failed to create"))
		return false;
	end = strchr(text + 13, '\'');
	snprintf(lack->map, sizeof(lack->map), "%.*s", (int)(end - (text + 13)), text + 13);
	return true;
}

bool load_lack_scan(const char *text, struct load_lack *lack)
{
	if (lack->what[0] || lack->map[0])
		return false;
	return scan_core_relo(text, lack) || scan_helper(text, "invalid func ", lack) ||
	       scan_helper(text, "unknown func ", lack) ||
	       scan_helper(text, "cannot use helper ", lack) || scan_map(text, lack);
}
