// SPDX-License-Identifier: GPL-2.0-only
/*
 * forbidden_call.so - an LD_PRELOAD shim that makes tcptrace attempt a system call it
 * never makes while tracing, from its event path: the first write of a JSON Lines event
 * to stdout first calls $FORBIDDEN_CALL, socket or execve. The filter must stop the
 * process there and name the call.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/syscall.h>

static void forbidden_call(void)
{
	const char *call = getenv("FORBIDDEN_CALL");
	char *argv[] = { "true", NULL };

	if (!call)
		return;
	if (!strcmp(call, "socket"))
		syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	else if (!strcmp(call, "execve"))
		syscall(SYS_execve, "/bin/true", argv, NULL);
}

static ssize_t (*real_write)(int, const void *, size_t);

/* Resolved at load, before the filter: dlsym() later could make calls of its own. */
__attribute__((constructor)) static void find_write(void)
{
	real_write = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
}

ssize_t write(int fd, const void *buf, size_t count)
{
	if (fd == STDOUT_FILENO && memmem(buf, count, "{\"", 2))
		forbidden_call();
	return real_write(fd, buf, count);
}
