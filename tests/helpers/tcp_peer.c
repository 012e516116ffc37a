// SPDX-License-Identifier: GPL-2.0
/*
 * tcp_peer - make TCP connections with a known identity, for the tracer's
 * integration tests.
 *
 *   tcp_peer listen  [-c COMM] [-b BACKLOG] [-n COUNT] [-m METHOD] [-W MS] [-H] [-D] [-M]
 *                    [-F] [-A] ADDR PORT
 *     -A: TCP_DEFER_ACCEPT: a child is made when the client's first data comes, so
 *         with -H -b 0 every client after the first that writes overflows the queue
 *     -F: accept TCP Fast Open (TCP_FASTOPEN), and read each connection to its end
 *         before closing it: closed with the SYN's data unread, it would be reset
 *   tcp_peer not-tcp DIR
 *   tcp_peer connect [-c COMM] [-t] [-N] [-a MS] [-w MS] [-r REPEAT]
 *                    [-i MS] [-R PORT] [-Z MS] [-F [-s MS]] [-U MODE] ADDR PORT
 *     -R PORT: if the attempt fails, connect the same socket again, to PORT
 *     -Z MS: non-blocking, and give up after MS without asking how it went: no poll(),
 *         no SO_ERROR
 *     -F: connect with TCP_FASTOPEN_CONNECT; with a cookie from an earlier connection,
 *         connect() returns at once and the SYN waits for the first write. Without -s
 *         the socket is closed at once: "unsent" if no SYN had left by then.
 *     -s MS: then write one byte MS milliseconds after connect() returned (also
 *         without -F: once connected)
 *     -U MODE: connect through io_uring (IORING_OP_CONNECT), the request run by a
 *         worker thread (async: IOSQE_ASYNC) or the ring's polling thread (sqpoll)
 *
 * The test scripts compare the tracer's events against what this program
 * prints, so every printed field is what the kernel actually saw: the comm
 * is read back from the kernel, the local endpoint comes from getsockname()
 * and the outcome is the errno the kernel gave us.
 *
 * Build: gcc -O2 -Wall -Wextra -Werror -pthread -o tcp_peer tcp_peer.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define PROG		"tcp_peer"
#define COMM_LEN	16 /* TASK_COMM_LEN, including the NUL */
#define DEFAULT_BACKLOG 128
#define DEFAULT_WAIT_MS 5000

/* Outcome of one attempt: 0 is ESTABLISHED, > 0 an errno, or one of these. */
#define RESULT_ABANDONED (-1)
#define RESULT_UNSENT	 (-2) /* -F: closed with its SYN still waiting for data */

struct peer_addr {
	int family; /* AF_INET or AF_INET6 */
	struct sockaddr_storage ss;
	socklen_t len;
	char text[INET6_ADDRSTRLEN]; /* canonical form, from inet_ntop */
	uint16_t port;
};

enum accept_method {
	ACCEPT_PLAIN,	  /* accept() */
	ACCEPT4_CLOEXEC,  /* accept4(SOCK_CLOEXEC) */
	ACCEPT4_NONBLOCK, /* accept4(SOCK_NONBLOCK | SOCK_CLOEXEC) */
};

struct listen_opts {
	const char *comm;
	int backlog;
	long count; /* 0: accept forever */
	enum accept_method method;
	long wait_ms;  /* -W: wait this long once a connection is ready */
	bool hold;     /* -H: never accept */
	bool dual;     /* -D: an IPv6 listener takes IPv4 clients too (v4-mapped) */
	bool mptcp;    /* -M: an MPTCP socket */
	bool fastopen; /* -F: TCP_FASTOPEN */
	bool defer;    /* -A: TCP_DEFER_ACCEPT */
	struct peer_addr addr;
};

enum uring_mode {
	URING_NONE,
	URING_ASYNC,  /* IOSQE_ASYNC: an io-wq worker (iou-wrk-N) runs connect() */
	URING_SQPOLL, /* IORING_SETUP_SQPOLL: the ring's thread (iou-sqp-N) submits it */
};

struct connect_opts {
	const char *comm;
	bool thread;
	bool nonblock;
	long abandon_ms; /* -1: not requested */
	long wait_ms;
	bool wait_set;
	long repeat;
	long interval_ms;
	long again_port; /* -R: then connect the same socket again, to this port; 0: no */
	long blind_ms;	 /* -Z: give up after this long without looking; -1: no */
	bool fastopen;	 /* -F: TCP_FASTOPEN_CONNECT */
	long send_ms;	 /* -s: write one byte this long after connect(); -1: never */
	enum uring_mode uring;
	struct peer_addr dst;
};

/* Usage errors: one line naming the problem, exit 2. */
static void __attribute__((noreturn, format(printf, 1, 2))) die_usage(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* Setup errors (a syscall we depend on failed): exit 1. */
static void __attribute__((noreturn)) die_sys(const char *what, int err)
{
	fprintf(stderr, PROG ": %s: %s\n", what, strerror(err));
	exit(1);
}

/*
 * Every line we print is flushed at once, so nothing is lost by leaving
 * straight from the handler; _exit() is async-signal-safe, exit() is not.
 */
static void on_term(int sig)
{
	(void)sig;
	_exit(0);
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) || sigaction(SIGINT, &sa, NULL))
		die_sys("sigaction", errno);
}

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static long parse_num(const char *s, const char *what, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		die_usage("invalid %s '%s' (expected %ld..%ld)", what, s, min, max);
	return v;
}

/* The family is decided by which parser accepts the literal. */
static void parse_addr(struct peer_addr *a, const char *addr, const char *port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&a->ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->ss;

	memset(a, 0, sizeof(*a));
	a->port = (uint16_t)parse_num(port, "PORT", 0, 65535);
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		a->family = AF_INET;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(a->port);
		a->len = sizeof(*sin);
		inet_ntop(AF_INET, &sin->sin_addr, a->text, sizeof(a->text));
	} else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		a->family = AF_INET6;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(a->port);
		a->len = sizeof(*sin6);
		inet_ntop(AF_INET6, &sin6->sin6_addr, a->text, sizeof(a->text));
	} else {
		die_usage("invalid ADDR '%s' (expected an IPv4 or IPv6 literal)", addr);
	}
}

/* Names the tracer reports; anything else still gets a stable name. */
static const char *errno_name(int err, char *buf, size_t len)
{
	static const struct {
		int err;
		const char *name;
	} names[] = {
		{ ECONNREFUSED, "ECONNREFUSED" },
		{ ETIMEDOUT, "ETIMEDOUT" },
		{ EHOSTUNREACH, "EHOSTUNREACH" },
		{ ENETUNREACH, "ENETUNREACH" },
		{ EADDRNOTAVAIL, "EADDRNOTAVAIL" },
		{ ECONNRESET, "ECONNRESET" },
		{ EADDRINUSE, "EADDRINUSE" },
		{ EACCES, "EACCES" },
		{ EPERM, "EPERM" },
		{ EINVAL, "EINVAL" },
		{ EINPROGRESS, "EINPROGRESS" },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].err == err)
			return names[i].name;
	snprintf(buf, len, "E%d", err);
	return buf;
}

static const char *result_name(int result, char *buf, size_t len)
{
	if (result == 0)
		return "ESTABLISHED";
	if (result == RESULT_ABANDONED)
		return "abandoned";
	if (result == RESULT_UNSENT)
		return "unsent";
	return errno_name(result, buf, len);
}

static void set_comm(const char *comm)
{
	if (comm && prctl(PR_SET_NAME, comm, 0, 0, 0))
		die_sys("prctl(PR_SET_NAME)", errno);
}

/*
 * Read the comm back rather than echoing -c: the kernel truncates it to
 * 15 bytes, and without -c it is whatever exec gave us.
 */
static void get_comm(char comm[COMM_LEN])
{
	memset(comm, 0, COMM_LEN);
	if (prctl(PR_GET_NAME, comm, 0, 0, 0))
		die_sys("prctl(PR_GET_NAME)", errno);
}

/* ---------------------------------------------------------------- listen */

static int open_listener(const struct listen_opts *o)
{
	int one = 1;
	int fd;

	fd = socket(o->addr.family, SOCK_STREAM | SOCK_CLOEXEC, o->mptcp ? IPPROTO_MPTCP : 0);
	if (fd < 0)
		die_sys("socket", errno);
	/* Tests restart listeners on the same port back to back. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		die_sys("setsockopt(SO_REUSEADDR)", errno);
	/* Keep v4 and v6 tests apart, unless -D: no v4-mapped connections on [::]. */
	if (o->addr.family == AF_INET6 && !o->dual &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)))
		die_sys("setsockopt(IPV6_V6ONLY)", errno);
	if (o->fastopen && setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN, &(int){ 16 }, sizeof(int)))
		die_sys("setsockopt(TCP_FASTOPEN)", errno);
	if (o->defer && setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &(int){ 5 }, sizeof(int)))
		die_sys("setsockopt(TCP_DEFER_ACCEPT)", errno);
	if (bind(fd, (const struct sockaddr *)&o->addr.ss, o->addr.len))
		die_sys("bind", errno);
	if (listen(fd, o->backlog))
		die_sys("listen", errno);
	return fd;
}

/* PORT may be 0, so the scripts need the port the kernel picked. */
static unsigned int bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		die_sys("getsockname", errno);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static int accept_with(int fd, enum accept_method method)
{
	switch (method) {
	case ACCEPT_PLAIN:
		return accept(fd, NULL, NULL);
	case ACCEPT4_NONBLOCK:
		return accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	case ACCEPT4_CLOEXEC:
		break;
	}
	return accept4(fd, NULL, NULL, SOCK_CLOEXEC);
}

static void endpoint_text(const struct sockaddr_storage *ss, char *addr, unsigned int *port)
{
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, addr, INET6_ADDRSTRLEN);
		*port = ntohs(sin6->sin6_port);
	} else {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, addr, INET6_ADDRSTRLEN);
		*port = ntohs(sin->sin_port);
	}
}

/* One line per accepted connection, with what the kernel says of both ends. */
static void report_accepted(int c, long long waited_us)
{
	char raddr[INET6_ADDRSTRLEN], laddr[INET6_ADDRSTRLEN], comm[COMM_LEN];
	struct sockaddr_storage peer, local;
	socklen_t plen = sizeof(peer), llen = sizeof(local);
	unsigned int rport, lport;

	if (getpeername(c, (struct sockaddr *)&peer, &plen) ||
	    getsockname(c, (struct sockaddr *)&local, &llen))
		die_sys("getpeername/getsockname", errno);
	endpoint_text(&peer, raddr, &rport);
	endpoint_text(&local, laddr, &lport);
	get_comm(comm);
	printf("accept pid=%d tid=%ld comm=%s family=%d raddr=%s rport=%u laddr=%s lport=%u "
	       "waited_us=%lld\n",
	       getpid(), (long)syscall(SYS_gettid), comm, peer.ss_family == AF_INET6 ? 6 : 4, raddr,
	       rport, laddr, lport, waited_us);
	fflush(stdout);
}

/* -W: from the moment a connection is ready to be accepted, wait before accepting it. */
static long long wait_ready_then(int fd, long wait_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	long long ready;

	while (poll(&pfd, 1, -1) < 0)
		if (errno != EINTR)
			die_sys("poll", errno);
	ready = now_us();
	sleep_ms(wait_ms);
	return ready;
}

static void accept_loop(int fd, const struct listen_opts *o)
{
	char buf[512];
	long accepted = 0;
	long long ready = 0;

	while (!o->count || accepted < o->count) {
		int c;

		if (o->wait_ms)
			ready = wait_ready_then(fd, o->wait_ms);
		c = accept_with(fd, o->method);
		if (c < 0) {
			/* The peer may give up before we get to it. */
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			die_sys("accept", errno);
		}
		report_accepted(c, ready ? now_us() - ready : 0);
		while (o->fastopen && read(c, buf, sizeof(buf)) > 0)
			;
		close(c);
		accepted++;
	}
}

static enum accept_method parse_method(const char *text)
{
	if (!strcmp(text, "accept"))
		return ACCEPT_PLAIN;
	if (!strcmp(text, "accept4"))
		return ACCEPT4_CLOEXEC;
	if (!strcmp(text, "accept4-nonblock"))
		return ACCEPT4_NONBLOCK;
	die_usage("listen: -m takes accept, accept4 or accept4-nonblock, not '%s'", text);
}

static int cmd_listen(int argc, char **argv)
{
	struct listen_opts o = { .backlog = DEFAULT_BACKLOG, .method = ACCEPT4_CLOEXEC };
	int fd, opt;

	while ((opt = getopt(argc, argv, "+:c:b:n:m:W:HDMFA")) != -1) {
		switch (opt) {
		case 'F':
			o.fastopen = true;
			break;
		case 'A':
			o.defer = true;
			break;
		case 'c':
			o.comm = optarg;
			break;
		case 'm':
			o.method = parse_method(optarg);
			break;
		case 'W':
			o.wait_ms = parse_num(optarg, "MS", 0, 3600000);
			break;
		case 'H':
			o.hold = true;
			break;
		case 'D':
			o.dual = true;
			break;
		case 'M':
			o.mptcp = true;
			break;
		case 'b':
			o.backlog = (int)parse_num(optarg, "BACKLOG", 0, INT_MAX);
			break;
		case 'n':
			o.count = parse_num(optarg, "COUNT", 1, INT_MAX);
			break;
		case ':':
			die_usage("listen: option -%c needs a value", optopt);
		default:
			die_usage("listen: unknown option -%c", optopt);
		}
	}
	if (argc - optind != 2)
		die_usage("listen: expected ADDR PORT");
	parse_addr(&o.addr, argv[optind], argv[optind + 1]);

	set_comm(o.comm);
	fd = open_listener(&o);
	printf("listening pid=%d port=%u\n", getpid(), bound_port(fd));
	fflush(stdout);
	if (o.hold)
		pause(); /* until SIGTERM: connections pile up in the accept queue */
	else
		accept_loop(fd, &o);
	close(fd);
	return 0;
}

/*
 * not-tcp DIR: accepts that must not be traced as TCP: a unix stream socket's (socket
 * file in DIR), and accept() on a UDP socket, which fails with EOPNOTSUPP.
 */
static int cmd_not_tcp(int argc, char **argv)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int listener, client, accepted, udp;

	if (argc != 2)
		die_usage("not-tcp: expected DIR");
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/tcp_peer.sock", argv[1]);
	unlink(addr.sun_path);
	listener = socket(AF_UNIX, SOCK_STREAM, 0);
	client = socket(AF_UNIX, SOCK_STREAM, 0);
	if (listener < 0 || client < 0 || bind(listener, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(listener, 1) || connect(client, (struct sockaddr *)&addr, sizeof(addr)))
		die_sys("unix socket", errno);
	accepted = accept(listener, NULL, NULL);
	if (accepted < 0)
		die_sys("unix accept", errno);
	udp = socket(AF_INET, SOCK_DGRAM, 0);
	if (udp < 0)
		die_sys("udp socket", errno);
	printf("not-tcp pid=%d unix_accept=ok udp_accept=%s\n", getpid(),
	       accept(udp, NULL, NULL) < 0 && errno == EOPNOTSUPP ? "EOPNOTSUPP" : "unexpected");
	unlink(addr.sun_path);
	return 0;
}

/* --------------------------------------------------------------- connect */

/*
 * Wait for the handshake until the deadline; past it the attempt is ours
 * to abandon, which is reported as such and not as a kernel timeout.
 * Poll at least once, so an attempt that has already finished (loopback
 * often answers within connect() itself) is never called abandoned.
 */
static int wait_outcome(int fd, long long deadline, long long *t_end)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int err;

	for (;;) {
		long long left = deadline - now_us();
		int r;

		if (left < 0)
			left = 0;
		/* Round up so we never spin on a sub-millisecond rest. */
		r = poll(&pfd, 1, (int)((left + 999) / 1000));
		if (r > 0)
			break;
		if (r < 0 && errno != EINTR)
			die_sys("poll", errno);
		if (r == 0 && now_us() >= deadline) {
			*t_end = now_us();
			return RESULT_ABANDONED;
		}
	}
	*t_end = now_us();
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		die_sys("getsockopt(SO_ERROR)", errno);
	return err;
}

static int connect_nonblocking(int fd, const struct connect_opts *o, long long *t_start,
			       long long *t_end)
{
	long timeout = o->abandon_ms >= 0 ? o->abandon_ms : o->wait_ms;
	int err;

	*t_start = now_us();
	if (connect(fd, (const struct sockaddr *)&o->dst.ss, o->dst.len) == 0) {
		*t_end = now_us();
		fprintf(stderr, PROG ": note: non-blocking connect returned 0, "
				     "not EINPROGRESS\n");
		return 0;
	}
	err = errno;
	if (err != EINPROGRESS) {
		char buf[16];

		*t_end = now_us();
		fprintf(stderr,
			PROG ": note: non-blocking connect failed "
			     "at once with %s, not EINPROGRESS\n",
			errno_name(err, buf, sizeof(buf)));
		return err;
	}
	if (o->blind_ms >= 0) {
		sleep_ms(o->blind_ms);
		*t_end = now_us();
		return RESULT_ABANDONED;
	}
	return wait_outcome(fd, *t_start + timeout * 1000LL, t_end);
}

static int connect_blocking(int fd, const struct connect_opts *o, long long *t_start,
			    long long *t_end)
{
	int r;

	*t_start = now_us();
	r = connect(fd, (const struct sockaddr *)&o->dst.ss, o->dst.len);
	*t_end = now_us();
	return r ? errno : 0;
}

/* -U: the connect() runs in one of the ring's threads, not in ours. */
static int connect_uring(int fd, const struct connect_opts *o, long long *t_start, long long *t_end)
{
	struct io_uring_params params = { 0 };
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	struct io_uring ring;
	int err, res;

	if (o->uring == URING_SQPOLL) {
		params.flags = IORING_SETUP_SQPOLL;
		params.sq_thread_idle = 1000;
	}
	err = io_uring_queue_init_params(4, &ring, &params);
	if (err)
		die_sys("io_uring_queue_init", -err);
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_connect(sqe, fd, (const struct sockaddr *)&o->dst.ss, o->dst.len);
	if (o->uring == URING_ASYNC)
		sqe->flags |= IOSQE_ASYNC;
	*t_start = now_us();
	err = io_uring_submit(&ring);
	if (err < 0)
		die_sys("io_uring_submit", -err);
	err = io_uring_wait_cqe(&ring, &cqe);
	if (err)
		die_sys("io_uring_wait_cqe", -err);
	*t_end = now_us();
	res = cqe->res;
	io_uring_cqe_seen(&ring, cqe);
	io_uring_queue_exit(&ring);
	return res < 0 ? -res : 0;
}

/* -F: connect() returned 0; is the SYN still waiting for the first write? */
static bool syn_waiting(int fd)
{
	struct tcp_info info;
	socklen_t len = sizeof(info);

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len))
		die_sys("getsockopt(TCP_INFO)", errno);
	return info.tcpi_state == TCP_SYN_SENT;
}

/*
 * -F -s: the first write sends the SYN, with the byte; on a blocking socket it returns
 * once the handshake is done (the time taken includes the wait before it).
 */
static int send_first_byte(int fd, const struct connect_opts *o, long long *t_end)
{
	int result = 0;

	sleep_ms(o->send_ms);
	if (write(fd, "x", 1) != 1)
		result = errno;
	*t_end = now_us();
	return result;
}

/* The local endpoint, or "-"/0 when the socket has none (any more). */
static void local_endpoint(int fd, char *addr, socklen_t len, unsigned int *port)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	const void *ip;

	strcpy(addr, "-");
	*port = 0;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl))
		return;
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		*port = ntohs(s6->sin6_port);
		if (IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr))
			return;
		ip = &s6->sin6_addr;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		*port = ntohs(s4->sin_port);
		if (s4->sin_addr.s_addr == htonl(INADDR_ANY))
			return;
		ip = &s4->sin_addr;
	}
	if (!inet_ntop(ss.ss_family, ip, addr, len))
		strcpy(addr, "-");
}

static void report(int fd, const struct connect_opts *o, int result, long long elapsed_us)
{
	char saddr[INET6_ADDRSTRLEN], comm[COMM_LEN], buf[16];
	unsigned int sport;

	local_endpoint(fd, saddr, sizeof(saddr), &sport);
	get_comm(comm);
	printf("connect pid=%d tid=%ld comm=%s family=%d saddr=%s sport=%u "
	       "daddr=%s dport=%u result=%s elapsed_us=%lld\n",
	       getpid(), (long)syscall(SYS_gettid), comm, o->dst.family == AF_INET6 ? 6 : 4, saddr,
	       sport, o->dst.text, o->dst.port, result_name(result, buf, sizeof(buf)), elapsed_us);
	fflush(stdout);
}

static int attempt_on(int fd, const struct connect_opts *o)
{
	long long t_start, t_end;
	int result;

	if (o->uring)
		result = connect_uring(fd, o, &t_start, &t_end);
	else if (o->nonblock)
		result = connect_nonblocking(fd, o, &t_start, &t_end);
	else
		result = connect_blocking(fd, o, &t_start, &t_end);
	if (o->fastopen && result == 0 && o->send_ms >= 0)
		result = send_first_byte(fd, o, &t_end);
	else if (o->fastopen && result == 0 && syn_waiting(fd))
		result = RESULT_UNSENT;
	else if (result == 0 && o->send_ms >= 0) {
		sleep_ms(o->send_ms);
		if (write(fd, "x", 1) != 1)
			result = errno;
	}
	/* getsockname before close: afterwards there is nothing to read. */
	report(fd, o, result, t_end - t_start);
	return result;
}

static void one_attempt(const struct connect_opts *o)
{
	int type = SOCK_STREAM | SOCK_CLOEXEC;
	int fd;

	if (o->nonblock)
		type |= SOCK_NONBLOCK;
	fd = socket(o->dst.family, type, 0);
	if (fd < 0)
		die_sys("socket", errno);
	if (o->fastopen &&
	    setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, &(int){ 1 }, sizeof(int)))
		die_sys("setsockopt(TCP_FASTOPEN_CONNECT)", errno);
	/* -R: a failed attempt leaves the socket reusable for another connect(). */
	if (attempt_on(fd, o) != 0 && o->again_port) {
		struct connect_opts again = *o;
		char port[8];

		snprintf(port, sizeof(port), "%ld", o->again_port);
		parse_addr(&again.dst, o->dst.text, port);
		attempt_on(fd, &again);
	}
	close(fd);
}

static void *connect_thread(void *arg)
{
	const struct connect_opts *o = arg;
	long i;

	set_comm(o->comm);
	for (i = 0; i < o->repeat; i++) {
		if (i && o->interval_ms)
			sleep_ms(o->interval_ms);
		one_attempt(o);
	}
	return NULL;
}

static void parse_connect_opts(struct connect_opts *o, int argc, char **argv)
{
	int opt;

	while ((opt = getopt(argc, argv, "+:c:tNa:w:r:i:R:Z:Fs:U:")) != -1) {
		switch (opt) {
		case 'Z':
			o->blind_ms = parse_num(optarg, "-Z MS", 0, INT_MAX);
			o->nonblock = true;
			break;
		case 'F':
			o->fastopen = true;
			break;
		case 's':
			o->send_ms = parse_num(optarg, "-s MS", 0, INT_MAX);
			break;
		case 'U':
			if (!strcmp(optarg, "async"))
				o->uring = URING_ASYNC;
			else if (!strcmp(optarg, "sqpoll"))
				o->uring = URING_SQPOLL;
			else
				die_usage("connect: -U takes async or sqpoll, not '%s'", optarg);
			break;
		case 'c':
			o->comm = optarg;
			break;
		case 't':
			o->thread = true;
			break;
		case 'N':
			o->nonblock = true;
			break;
		case 'a':
			o->abandon_ms = parse_num(optarg, "-a MS", 0, INT_MAX);
			o->nonblock = true;
			break;
		case 'w':
			o->wait_ms = parse_num(optarg, "-w MS", 0, INT_MAX);
			o->wait_set = true;
			break;
		case 'r':
			o->repeat = parse_num(optarg, "REPEAT", 1, INT_MAX);
			break;
		case 'i':
			o->interval_ms = parse_num(optarg, "-i MS", 0, INT_MAX);
			break;
		case 'R':
			o->again_port = parse_num(optarg, "-R PORT", 1, 65535);
			break;
		case ':':
			die_usage("connect: option -%c needs a value", optopt);
		default:
			die_usage("connect: unknown option -%c", optopt);
		}
	}
	/* A blocking connect has no wait of ours to bound. */
	if (o->wait_set && !o->nonblock)
		die_usage("connect: -w needs -N or -a");
	if (o->uring && o->nonblock)
		die_usage("connect: -U waits for the completion: not with -N or -a");
	if (argc - optind != 2)
		die_usage("connect: expected ADDR PORT");
	parse_addr(&o->dst, argv[optind], argv[optind + 1]);
}

static int cmd_connect(int argc, char **argv)
{
	struct connect_opts o = {
		.abandon_ms = -1,
		.send_ms = -1,
		.blind_ms = -1,
		.wait_ms = DEFAULT_WAIT_MS,
		.repeat = 1,
	};
	pthread_t tid;
	int err;

	parse_connect_opts(&o, argc, argv);
	if (!o.thread) {
		connect_thread(&o);
		return 0;
	}
	/* Only the new thread renames itself; main keeps the exec comm. */
	err = pthread_create(&tid, NULL, connect_thread, &o);
	if (err)
		die_sys("pthread_create", err);
	err = pthread_join(tid, NULL);
	if (err)
		die_sys("pthread_join", err);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		die_usage("expected a mode: listen, connect or not-tcp");
	install_signals();
	/* Hand the mode's own argv to getopt, the mode acting as argv[0]. */
	if (!strcmp(argv[1], "listen"))
		return cmd_listen(argc - 1, argv + 1);
	if (!strcmp(argv[1], "connect"))
		return cmd_connect(argc - 1, argv + 1);
	if (!strcmp(argv[1], "not-tcp"))
		return cmd_not_tcp(argc - 1, argv + 1);
	die_usage("unknown mode '%s' (expected listen, connect or not-tcp)", argv[1]);
}
