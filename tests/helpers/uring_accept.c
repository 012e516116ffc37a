// SPDX-License-Identifier: GPL-2.0-only
/*
 * uring_accept - accept TCP connections through io_uring (IORING_OP_ACCEPT), for the
 * tracer's integration tests.
 *
 * Usage: uring_accept [-c COMM] [-m MODE] ADDR PORT COUNT
 *
 * Listens on ADDR:PORT (PORT 0: any), prints "listening pid=<pid> port=<port>", then
 * accepts COUNT connections through IORING_OP_ACCEPT, printing
 * "accept pid=<pid> comm=<comm> rport=<peer port> lport=<local port>" for each. MODE:
 *   single     one request per connection (the default)
 *   async      the same with IOSQE_ASYNC: an io_uring worker thread does the accept
 *   multishot  one request for all COUNT connections (IORING_ACCEPT_MULTISHOT)
 *   direct     into slot 0 of the ring's own file table (no descriptor): prints
 *              "accept direct"
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

enum mode { MODE_SINGLE, MODE_ASYNC, MODE_MULTISHOT, MODE_DIRECT };

static enum mode parse_mode(const char *text)
{
	static const char *const names[] = { "single", "async", "multishot", "direct" };

	for (int i = 0; i < 4; i++)
		if (!strcmp(text, names[i]))
			return i;
	fprintf(stderr, "uring_accept: unknown mode '%s'\n", text);
	exit(2);
}

static void submit_accept(struct io_uring *ring, int fd, enum mode mode)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	switch (mode) {
	case MODE_MULTISHOT:
		io_uring_prep_multishot_accept(sqe, fd, NULL, NULL, 0);
		break;
	case MODE_DIRECT:
		/* An explicit slot: liburing 2.3 turns IORING_FILE_INDEX_ALLOC into slot 0 anyway. */
		io_uring_prep_accept_direct(sqe, fd, NULL, NULL, 0, 0);
		break;
	case MODE_ASYNC:
		io_uring_prep_accept(sqe, fd, NULL, NULL, 0);
		sqe->flags |= IOSQE_ASYNC;
		break;
	case MODE_SINGLE:
		io_uring_prep_accept(sqe, fd, NULL, NULL, 0);
		break;
	}
	io_uring_submit(ring);
}

static void usage(void)
{
	fprintf(stderr, "usage: uring_accept [-c COMM] [-m MODE] ADDR PORT COUNT\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	enum mode mode = MODE_SINGLE;
	struct io_uring ring;
	char comm[16] = "";
	socklen_t len;
	int opt, fd, count, err;

	while ((opt = getopt(argc, argv, "c:m:")) != -1) {
		if (opt == 'c')
			prctl(PR_SET_NAME, optarg, 0, 0, 0);
		else if (opt == 'm')
			mode = parse_mode(optarg);
		else
			usage();
	}
	if (argc - optind != 3)
		usage();
	fd = listen_on(argv[optind], atoi(argv[optind + 1]), &len, &ss);
	count = atoi(argv[optind + 2]);
	err = io_uring_queue_init(8, &ring, 0);
	if (err)
		die("io_uring_queue_init", -err);
	if (mode == MODE_DIRECT) {
		err = io_uring_register_files_sparse(&ring, 4);
		if (err)
			die("io_uring_register_files_sparse", -err);
	}
	prctl(PR_GET_NAME, comm, 0, 0, 0);
	printf("listening pid=%d port=%d\n", getpid(), port_of(fd, 0));
	fflush(stdout);
	if (mode == MODE_MULTISHOT)
		submit_accept(&ring, fd, mode);
	for (int i = 0; i < count; i++) {
		struct io_uring_cqe *cqe;
		int conn;

		if (mode != MODE_MULTISHOT)
			submit_accept(&ring, fd, mode);
		err = io_uring_wait_cqe(&ring, &cqe);
		if (err)
			die("io_uring_wait_cqe", -err);
		conn = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
		if (conn < 0)
			die("accept", -conn);
		if (mode == MODE_DIRECT) {
			printf("accept direct pid=%d result=%d\n", getpid(), conn);
			fflush(stdout);
			continue;
		}
		printf("accept pid=%d comm=%s rport=%d lport=%d\n", getpid(), comm,
		       port_of(conn, 1), port_of(conn, 0));
		fflush(stdout);
		close(conn);
	}
	io_uring_queue_exit(&ring);
	return 0;
}
