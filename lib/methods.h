/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one table of attach methods: -A's names, how a probe's variants are named and
 * sectioned, and which methods let a program have a twin. No libbpf here: the command
 * line parses -A with it.
 */
#ifndef TCPTRACE_METHODS_H
#define TCPTRACE_METHODS_H

#include <stdbool.h>
#include "config.h"

const char *attach_method_name(enum attach_method method);
/* A probe's variant for the method is named "<command>_<probe><suffix>". */
const char *attach_method_suffix(enum attach_method method);
int attach_method_parse(const char *text, enum attach_method *method);
/* How a program with this section attaches; ATTACH_AUTO for none of the five. */
enum attach_method attach_method_of_section(const char *section);
/*
 * Can a run the kernel skips (the program was busy on that CPU) be taken by a twin? The
 * kernel then skips only the busy program, and runs both with preemption off.
 */
bool attach_method_has_twins(enum attach_method method);

#endif /* TCPTRACE_METHODS_H */
