// SPDX-License-Identifier: GPL-2.0-only
/*
 * loadgen - a TCP connection storm over loopback, for tcptrace's benchmarks.
 *
 * Usage: loadgen [-6] [-t THREADS] [-d SECONDS]
 *        loadgen -i [-6] [-t THREADS] [-d SECONDS] [-n IN_FLIGHT] PORT
 *
 * Storm (default): one listener thread accepts and closes; THREADS client threads
 * connect, and close with SO_LINGER 0 (an RST: no TIME_WAIT build-up), as fast as they
 * can for SECONDS. Prints "connections=<n> attempts=<n> seconds=<s> rate=<n/s> pid=<pid>":
 * the connections made, and every connect() (failed ones and the one that wakes the
 * listener at the end too), each of which tcptrace connect prints a line for.
 *
 * In flight (-i): each client thread keeps IN_FLIGHT non-blocking attempts open to PORT,
 * which should drop SYNs (a firewall rule), closing the oldest and opening a new one in
 * turn: many attempts in SYN_SENT at once, to load the tracer's in-flight map.
 * Prints "cycles=<n> attempts=<n> seconds=<s> rate=<cycles/s> pid=<pid>": each cycle
 * closes one attempt and opens one; attempts counts every connect().
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct options {
	bool ipv6;
	bool in_flight;
	int threads;
	double seconds;
	int per_thread; /* -n: attempts open at once per thread, with -i */
	struct sockaddr_storage target;
	socklen_t target_len;
};

static struct options opts = { .threads = 2, .seconds = 3, .per_thread = 256 };
static atomic_ulong done;
static atomic_ulong attempts; /* every connect(): each is one line of tcptrace connect */
static atomic_bool stop;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void set_loopback(struct sockaddr_storage *ss, socklen_t *len, int port)
{
	memset(ss, 0, sizeof(*ss));
	if (opts.ipv6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		sin6->sin6_port = htons(port);
		*len = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sin->sin_port = htons(port);
		*len = sizeof(*sin);
	}
}

static int listen_any_port(void)
{
	int fd = socket(opts.ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_storage ss;
	socklen_t len;

	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	set_loopback(&ss, &len, 0);
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 4096))
		die("listen");
	len = sizeof(opts.target);
	if (getsockname(fd, (struct sockaddr *)&opts.target, &len))
		die("getsockname");
	opts.target_len = len;
	return fd;
}

static void *acceptor(void *arg)
{
	int listener = *(int *)arg;

	prctl(PR_SET_NAME, "loadgen-srv", 0, 0, 0);
	while (!atomic_load(&stop)) {
		int fd = accept(listener, NULL, NULL);

		if (fd >= 0)
			close(fd);
	}
	return NULL;
}

/* Connect, then close with an RST: the connection leaves no TIME_WAIT behind. */
static void *storm_client(void *arg)
{
	struct linger linger = { .l_onoff = 1, .l_linger = 0 };

	(void)arg;
	while (!atomic_load(&stop)) {
		int fd = socket(opts.target.ss_family, SOCK_STREAM, 0);

		if (fd < 0)
			die("socket");
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, sizeof(linger));
		atomic_fetch_add(&attempts, 1);
		if (connect(fd, (struct sockaddr *)&opts.target, opts.target_len) == 0)
			atomic_fetch_add(&done, 1);
		close(fd);
	}
	return NULL;
}

static int open_attempt(void)
{
	int fd = socket(opts.target.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (fd < 0)
		die("socket");
	atomic_fetch_add(&attempts, 1);
	if (connect(fd, (struct sockaddr *)&opts.target, opts.target_len) && errno != EINPROGRESS)
		die("connect");
	return fd;
}

/* A ring of attempts left in SYN_SENT: the oldest is closed when a new one opens. */
static void *in_flight_client(void *arg)
{
	int *fds = calloc(opts.per_thread, sizeof(int)), next = 0;

	(void)arg;
	if (!fds)
		die("calloc");
	for (int i = 0; i < opts.per_thread; i++)
		fds[i] = open_attempt();
	while (!atomic_load(&stop)) {
		close(fds[next]);
		fds[next] = open_attempt();
		next = (next + 1) % opts.per_thread;
		atomic_fetch_add(&done, 1);
	}
	for (int i = 0; i < opts.per_thread; i++)
		close(fds[i]);
	free(fds);
	return NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: loadgen [-6] [-t THREADS] [-d SECONDS]\n"
			"       loadgen -i [-6] [-t THREADS] [-d SECONDS] [-n IN_FLIGHT] PORT\n");
	exit(2);
}

static void parse(int argc, char **argv)
{
	int opt;

	while ((opt = getopt(argc, argv, "6it:d:n:")) != -1) {
		switch (opt) {
		case '6':
			opts.ipv6 = true;
			break;
		case 'i':
			opts.in_flight = true;
			break;
		case 't':
			opts.threads = atoi(optarg);
			break;
		case 'd':
			opts.seconds = atof(optarg);
			break;
		case 'n':
			opts.per_thread = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (opts.threads < 1 || opts.threads > 64 || opts.seconds <= 0 || opts.per_thread < 1)
		usage();
	if (opts.in_flight != (optind == argc - 1))
		usage();
	if (opts.in_flight)
		set_loopback(&opts.target, &opts.target_len, atoi(argv[optind]));
}

int main(int argc, char **argv)
{
	pthread_t threads[65];
	pthread_t server;
	int listener = -1;
	double start;

	parse(argc, argv);
	if (!opts.in_flight) {
		listener = listen_any_port();
		if (pthread_create(&server, NULL, acceptor, &listener))
			die("pthread_create");
	}
	start = now();
	for (int i = 0; i < opts.threads; i++)
		if (pthread_create(&threads[i], NULL,
				   opts.in_flight ? in_flight_client : storm_client, NULL))
			die("pthread_create");
	usleep(opts.seconds * 1e6);
	atomic_store(&stop, true);
	for (int i = 0; i < opts.threads; i++)
		pthread_join(threads[i], NULL);
	double elapsed = now() - start;

	if (!opts.in_flight) {
		/* Wake the acceptor out of accept(). */
		close(open_attempt());
		shutdown(listener, SHUT_RDWR);
		pthread_join(server, NULL);
	}
	printf("%s=%lu attempts=%lu seconds=%.3f rate=%.0f pid=%d\n",
	       opts.in_flight ? "cycles" : "connections", atomic_load(&done),
	       atomic_load(&attempts), elapsed, atomic_load(&done) / elapsed, getpid());
	return 0;
}
