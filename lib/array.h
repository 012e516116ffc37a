/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef TCPTRACE_ARRAY_H
#define TCPTRACE_ARRAY_H

/* The number of elements of an array (not of a pointer). */
#define ARRAY_SIZE(array) (sizeof(array) / sizeof((array)[0]))

#endif /* TCPTRACE_ARRAY_H */
