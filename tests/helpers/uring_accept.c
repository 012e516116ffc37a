// SPDX-License-Identifier: GPL-2.0-only
/*
 * uring_accept - accept TCP connections through io_uring (IORING_OP_ACCEPT), for the
 * tracer's integration tests.
 *
 * Usage: uring_accept [-c COMM] ADDR PORT COUNT
 *
 * Listens on ADDR:PORT (PORT 0: any), prints "listening pid=<pid> port=<port>", then
 * accepts COUNT connections, each through one IORING_OP_ACCEPT request, printing
 * "accept pid=<pid> comm=<comm> rport=<peer port> lport=<local port>" for each.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int die(const char *what, int err)
{
	fprintf(stderr, "uring_accept: %s: %s\n", what, strerror(err));
	exit(1);
}

static int listen_on(const char *addr, int port, socklen_t *len, struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	int fd, one = 1;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*len = sizeof(*sin6);
	} else {
		fprintf(stderr, "uring_accept: not an address: %s\n", addr);
		exit(2);
	}
	fd = socket(ss->ss_family, SOCK_STREAM, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)ss, *len) || listen(fd, 16))
		die("listen", errno);
	return fd;
}

static int port_of(int fd, int peer)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if ((peer ? getpeername : getsockname)(fd, (struct sockaddr *)&ss, &len))
		die("getsockname", errno);
	return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					      : ((struct sockaddr_in *)&ss)->sin_port);
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	struct io_uring ring;
	char comm[16] = "";
	socklen_t len;
	int opt, fd, count, err;

	while ((opt = getopt(argc, argv, "c:")) != -1) {
		if (opt != 'c') {
			fprintf(stderr, "usage: uring_accept [-c COMM] ADDR PORT COUNT\n");
			return 2;
		}
		prctl(PR_SET_NAME, optarg, 0, 0, 0);
	}
	if (argc - optind != 3) {
		fprintf(stderr, "usage: uring_accept [-c COMM] ADDR PORT COUNT\n");
		return 2;
	}
	fd = listen_on(argv[optind], atoi(argv[optind + 1]), &len, &ss);
	count = atoi(argv[optind + 2]);
	err = io_uring_queue_init(8, &ring, 0);
	if (err)
		die("io_uring_queue_init", -err);
	prctl(PR_GET_NAME, comm, 0, 0, 0);
	printf("listening pid=%d port=%d\n", getpid(), port_of(fd, 0));
	fflush(stdout);
	for (int i = 0; i < count; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
		struct io_uring_cqe *cqe;
		int conn;

		io_uring_prep_accept(sqe, fd, NULL, NULL, 0);
		io_uring_submit(&ring);
		err = io_uring_wait_cqe(&ring, &cqe);
		if (err)
			die("io_uring_wait_cqe", -err);
		conn = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
		if (conn < 0)
			die("accept", -conn);
		printf("accept pid=%d comm=%s rport=%d lport=%d\n", getpid(), comm,
		       port_of(conn, 1), port_of(conn, 0));
		fflush(stdout);
		close(conn);
	}
	io_uring_queue_exit(&ring);
	return 0;
}
