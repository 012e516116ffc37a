// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <string.h>
#include "methods.h"

/* One row per attach method: what -A calls it, and how its programs are told apart. */
static const struct {
	const char *name;    /* the value of -A */
	const char *suffix;  /* a probe's variant is named "<command>_<probe><suffix>" */
	const char *section; /* its section starts with this */
	const char *also;    /* or with this */
	bool twins;	     /* see attach_method_has_twins() */
} methods[] = {
	[ATTACH_AUTO] = { .name = "auto" },
	[ATTACH_TP_BTF] = { .name = "tp_btf",
			    .suffix = "_btf",
			    .section = "tp_btf/",
			    .twins = true },
	[ATTACH_RAW_TP] = { .name = "raw_tp",
			    .suffix = "_raw",
			    .section = "raw_tp/",
			    .twins = true },
	[ATTACH_TRACEPOINT] = { .name = "tracepoint", .suffix = "_tp", .section = "tracepoint/" },
	/* A trampoline either way: fexit runs at the function's return. */
	[ATTACH_FENTRY] = { .name = "fentry",
			    .suffix = "_fentry",
			    .section = "fentry/",
			    .also = "fexit/" },
	[ATTACH_KPROBE] = { .name = "kprobe", .suffix = "_kprobe", .section = "kprobe/" },
};

const char *attach_method_name(enum attach_method method)
{
	return methods[method].name;
}

const char *attach_method_suffix(enum attach_method method)
{
	return methods[method].suffix;
}

int attach_method_parse(const char *text, enum attach_method *method)
{
	for (enum attach_method m = ATTACH_AUTO; m <= ATTACH_KPROBE; m++) {
		if (!strcmp(text, methods[m].name)) {
			*method = m;
			return 0;
		}
	}
	return -EINVAL;
}

enum attach_method attach_method_of_section(const char *section)
{
	for (enum attach_method m = ATTACH_TP_BTF; m <= ATTACH_KPROBE; m++)
		if (!strncmp(section, methods[m].section, strlen(methods[m].section)) ||
		    (methods[m].also &&
		     !strncmp(section, methods[m].also, strlen(methods[m].also))))
			return m;
	return ATTACH_AUTO;
}

bool attach_method_has_twins(enum attach_method method)
{
	return methods[method].twins;
}
