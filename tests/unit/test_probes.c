// SPDX-License-Identifier: GPL-2.0-only
/* The table of probes (bpf/probes.def): programs found by name, variants chosen by method. */
#include <string.h>
#include "../../lib/probes.h"
#include "check.h"

static const struct probe *found(const char *program, enum attach_method expected)
{
	enum attach_method method = ATTACH_AUTO;
	const struct probe *probe = probe_of_program(program, &method);

	CHECK(probe != NULL);
	CHECK_EQ_U64(method, expected);
	return probe;
}

static void test_names(void)
{
	CHECK_STR(found("connect_state_btf", ATTACH_TP_BTF)->name, "connect_state");
	CHECK_STR(found("connect_twin_raw", ATTACH_RAW_TP)->name, "connect_twin");
	CHECK_STR(found("connect_error_kprobe", ATTACH_KPROBE)->name, "connect_error");
	CHECK_STR(found("accept_accept4_exit", ATTACH_TRACEPOINT)->name, "accept_accept4_exit");
	CHECK_STR(found("accept_accept_exit", ATTACH_TRACEPOINT)->name, "accept_accept_exit");
	CHECK_STR(found("accept_failed_drop_tp", ATTACH_TRACEPOINT)->category, "skb");
	CHECK_STR(found("accept_accepted_fentry", ATTACH_FENTRY)->function, "__inet_accept");
	CHECK_STR(found("accept_accepted_kprobe", ATTACH_KPROBE)->name, "accept_accepted");
}

/* A variant the table does not list, or a name of no probe, is no program of ours. */
static void test_strangers(void)
{
	enum attach_method method;

	CHECK(probe_of_program("connect_twin_tp", &method) == NULL);
	CHECK(probe_of_program("connect_error_tp", &method) == NULL);
	CHECK(probe_of_program("accept_accept4_exit_tp", &method) == NULL);
	CHECK(probe_of_program("connect_state", &method) == NULL);
	CHECK(probe_of_program("serve_state_btf", &method) == NULL);
}

/* A probe without the method's variant keeps its first tracepoint variant. */
static void test_chosen_variants(void)
{
	enum attach_method method;
	const struct probe *drop = probe_of_program("accept_failed_drop_btf", &method);
	const struct probe *exits = probe_of_program("accept_accept4_exit", &method);
	const struct probe *error = probe_of_program("connect_error_btf", &method);

	CHECK_EQ_U64(probe_chosen_variant(drop, ATTACH_FENTRY), ATTACH_TP_BTF);
	CHECK_EQ_U64(probe_chosen_variant(drop, ATTACH_TRACEPOINT), ATTACH_TRACEPOINT);
	CHECK_EQ_U64(probe_chosen_variant(exits, ATTACH_TP_BTF), ATTACH_TRACEPOINT);
	CHECK_EQ_U64(probe_chosen_variant(error, ATTACH_TRACEPOINT), ATTACH_TP_BTF);
	CHECK_EQ_U64(probe_chosen_variant(error, ATTACH_KPROBE), ATTACH_KPROBE);
}

/* Each row names its command's probe, and a probe with fentry or kprobe names a function. */
static void test_rows(void)
{
	for (unsigned int i = 0; i < nr_probes; i++) {
		size_t len = strlen(probes[i].command);

		CHECK(!strncmp(probes[i].name, probes[i].command, len) &&
		      probes[i].name[len] == '_');
		CHECK(!(probes[i].variants & VARIANTS_FUNCTION) || probes[i].function);
		/* A probe without a tracepoint is a function's alone. */
		CHECK(probes[i].category
			      ? probes[i].event != NULL
			      : !probes[i].event && !(probes[i].variants & ~VARIANTS_FUNCTION));
	}
}

/* Fallbacks stand in for a preferred probe of their command, which has only functions. */
static void test_preferred(void)
{
	for (unsigned int i = 0; i < nr_probes; i++) {
		bool preferred = false;

		if (probes[i].role != PROBE_FALLBACK)
			continue;
		for (unsigned int j = 0; j < nr_probes; j++)
			preferred |= probes[j].role == PROBE_PREFERRED &&
				     !strcmp(probes[j].command, probes[i].command) &&
				     !(probes[j].variants & ~VARIANTS_FUNCTION);
		CHECK(preferred);
	}
}

int main(void)
{
	RUN(test_names);
	RUN(test_strangers);
	RUN(test_chosen_variants);
	RUN(test_rows);
	RUN(test_preferred);
	return CHECK_RESULT();
}
