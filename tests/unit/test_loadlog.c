// SPDX-License-Identifier: GPL-2.0-only
/* lib/loadlog.c: what a failed load lacked, from libbpf's warnings as they read. */
#include <stdbool.h>
#include <string.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include "../../lib/loadlog.h"
#include "check.h"

static struct load_lack scanned(const char *text)
{
	struct load_lack lack = {};

	CHECK(load_lack_scan(text, &lack));
	return lack;
}

/* A kernel older than the helper knows no such number; a newer one names it. */
static void test_helpers(void)
{
	struct load_lack lack =
		scanned("libbpf: prog 'accept_accept4_exit': -- BEGIN PROG LOAD LOG "
			"--\n0: (bf) r6 = r1\n41: (85) call unknown#175\n"
			"invalid func unknown#175\n-- END PROG LOAD LOG --\n");

	CHECK_STR(lack.what, "the BPF helper bpf_task_pt_regs()");
	CHECK(lack.since && !strcmp(lack.since, "5.15"));
	lack = scanned("12: (85) call bpf_get_current_task_btf#158\n"
		       "unknown func bpf_get_current_task_btf#158\n");
	CHECK_STR(lack.what, "the BPF helper bpf_get_current_task_btf()");
	CHECK(lack.since && !strcmp(lack.since, "5.11"));
	lack = scanned("program of this type cannot use helper bpf_ringbuf_query#134\n");
	CHECK_STR(lack.what, "the BPF helper bpf_ringbuf_query()");
	CHECK(lack.since && !strcmp(lack.since, "5.8"));
	/* One the object does not call is named by its number. */
	lack = scanned("invalid func unknown#999\n");
	CHECK_STR(lack.what, "the BPF helper #999");
	CHECK(!lack.since);
}

/* libbpf rewrites a relocation it could not resolve into words of its own. */
static void test_core_relocations(void)
{
	struct load_lack lack = scanned(
		"41: <invalid CO-RE relocation>\nfailed to resolve CO-RE relocation <byte_off> "
		"[118] struct io_kiocb.cmd (0:27 @ offset 72)\nprocessed 42 insns\n");

	CHECK_STR(lack.what, "the field struct io_kiocb.cmd");
	CHECK(!lack.since);
	lack = scanned("failed to resolve CO-RE relocation <enumval_value> [40] enum "
		       "io_uring_op::IORING_OP_ACCEPT = 13\n");
	CHECK_STR(lack.what, "the enum value enum io_uring_op::IORING_OP_ACCEPT");
	lack = scanned("failed to resolve CO-RE relocation <type_size> [7] struct io_accept\n");
	CHECK_STR(lack.what, "the type struct io_accept");
	/* The poisoned call alone says nothing: the relocation's words do. */
	CHECK(!load_lack_scan("1: (85) call unknown#195896080\ninvalid func unknown#195896080\n",
			      &lack));
}

static void test_maps_and_the_rest(void)
{
	struct load_lack lack = scanned("libbpf: map 'events': failed to create: Invalid "
					"argument(-22)\n");

	CHECK_STR(lack.map, "events");
	CHECK_STR(lack.what, "");
	/* The first thing named stays. */
	CHECK(!load_lack_scan("invalid func unknown#175\n", &lack));
	CHECK_STR(lack.map, "events");
	memset(&lack, 0, sizeof(lack));
	CHECK(!load_lack_scan("libbpf: failed to load object 'tcptrace_bpf'\n", &lack));
	CHECK(!load_lack_scan("R1 invalid mem access 'scalar'\n", &lack));
	CHECK_STR(lack.what, "");
	CHECK(load_lack_map_since(BPF_MAP_TYPE_RINGBUF) &&
	      !strcmp(load_lack_map_since(BPF_MAP_TYPE_RINGBUF), "5.8"));
}

/* Every helper the BPF object calls has its version in the table, and every map type. */
static void test_object_covered(void)
{
	struct bpf_object *obj = bpf_object__open_file(TCPTRACE_BPF_OBJECT, NULL);
	struct bpf_program *prog;
	struct bpf_map *map;
	unsigned int calls = 0;

	CHECK(obj != NULL);
	if (!obj)
		return;
	bpf_object__for_each_program(prog, obj) {
		const struct bpf_insn *insns = bpf_program__insns(prog);

		for (size_t i = 0; i < bpf_program__insn_cnt(prog); i++) {
			if (insns[i].code != (BPF_JMP | BPF_CALL) || insns[i].src_reg)
				continue;
			calls++;
			if (!load_lack_helper_name(insns[i].imm)) {
				fprintf(stderr, "%s calls helper #%d, which lib/loadlog.c lacks\n",
					bpf_program__name(prog), insns[i].imm);
				CHECK(false);
			}
		}
	}
	CHECK(calls > 0);
	bpf_object__for_each_map(map, obj)
		if (!bpf_map__is_internal(map) && !load_lack_map_since(bpf_map__type(map))) {
			fprintf(stderr, "map %s's type is not in lib/loadlog.c\n",
				bpf_map__name(map));
			CHECK(false);
		}
	bpf_object__close(obj);
}

int main(void)
{
	libbpf_set_print(NULL);
	RUN(test_helpers);
	RUN(test_core_relocations);
	RUN(test_maps_and_the_rest);
	RUN(test_object_covered);
	return CHECK_RESULT();
}
