// SPDX-License-Identifier: GPL-2.0-only
/*
 * connect_storm - many connection attempts in flight at once.
 *
 * Usage: connect_storm ADDR PORT COUNT HOLD_MS
 *
 * Starts COUNT non-blocking connect()s to ADDR:PORT, which should not answer (its SYNs
 * dropped), keeps them all in SYN_SENT for HOLD_MS, then closes them. Prints
 * "storm pid=<pid> attempts=<n>" once all are closed. Tests use it to overfill the
 * tracer's in-flight map and check that every attempt is either reported or counted
 * as lost. Raise RLIMIT_NOFILE (ulimit -n) above COUNT first.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int parse_sockaddr(const char *addr, const char *port, struct sockaddr_storage *ss,
			  socklen_t *len)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(atoi(port));
		*len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(atoi(port));
		*len = sizeof(*sin6);
		return 0;
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int count, hold_ms, *fds, opened = 0;

	if (argc != 5 || parse_sockaddr(argv[1], argv[2], &ss, &len) ||
	    (count = atoi(argv[3])) <= 0 || (hold_ms = atoi(argv[4])) < 0) {
		fprintf(stderr, "usage: connect_storm ADDR PORT COUNT HOLD_MS\n");
		return 2;
	}
	fds = calloc(count, sizeof(*fds));
	if (!fds)
		return 1;
	for (; opened < count; opened++) {
		int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);

		if (fd < 0) {
			perror("connect_storm: socket");
			return 1;
		}
		if (connect(fd, (struct sockaddr *)&ss, len) == 0 || errno != EINPROGRESS) {
			fprintf(stderr, "connect_storm: attempt %d: %s\n", opened, strerror(errno));
			return 1;
		}
		fds[opened] = fd;
	}
	usleep(hold_ms * 1000);
	for (int i = 0; i < opened; i++)
		close(fds[i]);
	printf("storm pid=%d attempts=%d\n", getpid(), opened);
	free(fds);
	return 0;
}
