/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a failed load lacked, read from libbpf's warnings and the verifier's log they
 * quote: a helper, a type or field of the kernel's, or a map type, with the Linux
 * version that brought it where known. No libbpf here: the unit tests link it alone.
 */
#ifndef TCPTRACE_LOADLOG_H
#define TCPTRACE_LOADLOG_H

#include <stdbool.h>

struct load_lack {
	char what[128];	   /* "the BPF helper bpf_task_pt_regs()"; empty: nothing named */
	const char *since; /* "5.15"; NULL where unknown */
	char map[64];	   /* a map that failed to be created, its type to be checked */
};

/*
 * Read one of libbpf's warnings: where it names something the kernel lacks, and lack
 * names nothing yet, fill it in. True if it did.
 */
bool load_lack_scan(const char *text, struct load_lack *lack);
/* The BPF helper with this number, as the verifier names it: NULL for one we do not call. */
const char *load_lack_helper_name(int id);
/* The version of Linux that brought the map type; NULL for one we do not create. */
const char *load_lack_map_since(unsigned int map_type);

#endif /* TCPTRACE_LOADLOG_H */
