// SPDX-License-Identifier: GPL-2.0
/*
 * nfq_delay - hold every packet of an NFQUEUE for a fixed time, then accept it.
 *
 * The test kernels have no sch_netem, so this is how the integration tests
 * add a known latency to one direction of a TCP handshake (typically the
 * SYN-ACK) and then check the connect latency measured by the tracer.
 *
 * Usage: nfq_delay -q QUEUE_NUM -d DELAY_MS [-n COUNT]
 *
 *   -q QUEUE_NUM  NFQUEUE number to bind (0..65535)
 *   -d DELAY_MS   time each packet is held, in milliseconds (0..3600000)
 *   -n COUNT      exit 0 after COUNT packets have been released
 *
 * Once the queue is bound the program prints "ready" on stdout; wait for
 * that line before generating traffic.  SIGINT/SIGTERM accept everything
 * still held and exit 0.  Bad options exit 2, runtime failures exit 1.
 *
 * Example, delaying SYN-ACKs seen by the client (run in its namespace):
 *
 *   nft add table inet t
 *   nft add chain inet t in '{ type filter hook input priority 0; }'
 *   nft add rule inet t in tcp flags '& (syn|ack) == syn|ack' queue num 7
 *   nfq_delay -q 7 -d 100 &
 *
 * The nft "queue" statement needs CONFIG_NFT_QUEUE.  Kernels that only have
 * the xtables target (CONFIG_NETFILTER_XT_TARGET_NFQUEUE, reached through
 * CONFIG_NFT_COMPAT) reject that rule with ENOENT; use iptables (package
 * "iptables", nf_tables backend) instead:
 *
 *   iptables -A INPUT -p tcp --tcp-flags SYN,ACK SYN,ACK -j NFQUEUE --queue-num 7
 *
 * Without a program bound to the queue the kernel DROPS queued packets, and
 * since every retransmitted SYN-ACK is queued too, connect() never completes.
 * "queue num 7 bypass" / "--queue-bypass" lets packets through unqueued
 * instead, at the price of silently losing the delay.
 *
 * Build:
 *   gcc -O2 -Wall -Wextra -Werror -o nfq_delay nfq_delay.c \
 *       $(pkg-config --cflags --libs libnetfilter_queue)
 */
/* ppoll() */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <linux/netfilter.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#define PROG	     "nfq_delay"
#define USAGE	     "usage: " PROG " -q QUEUE_NUM -d DELAY_MS [-n COUNT]"
#define MAX_DELAY_MS 3600000UL
#define NS_PER_MS    1000000ULL
#define NS_PER_SEC   1000000000ULL

/*
 * The kernel never has more than the queue's maxlen packets waiting for a
 * verdict, and we set maxlen to this value, so a fixed ring cannot overflow
 * and no allocation is needed on the packet path.  Power of two so that the
 * free-running indices wrap correctly.
 */
#define RING_SIZE 1024U

/* Large enough for any single netlink message, even in COPY_PACKET mode. */
#define RX_BUF_SIZE 65536

struct pending {
	uint32_t id;
	uint64_t due_ns;
};

struct delayer {
	struct nfq_handle *h;
	struct nfq_q_handle *qh;
	uint64_t delay_ns;
	uint64_t rx_ns;	     /* when the message being parsed was read */
	unsigned long limit; /* 0: run until signalled */
	unsigned long released;
	unsigned int head; /* free-running ring indices */
	unsigned int tail;
	int err; /* errno of a failure inside the callback */
	struct pending ring[RING_SIZE];
};

struct options {
	unsigned long queue;
	unsigned long delay_ms;
	unsigned long count;
	int have_queue;
	int have_delay;
};

static void usage_error(const char *msg, const char *arg)
{
	if (arg)
		fprintf(stderr, PROG ": %s '%s'\n", msg, arg);
	else
		fprintf(stderr, PROG ": %s\n", msg);
	exit(2);
}

/* Every runtime failure is one line with strerror, exit 1. */
static void fail(const char *what, int err)
{
	/* libnfnetlink sometimes fails without setting errno */
	fprintf(stderr, PROG ": %s: %s\n", what, strerror(err ? err : EIO));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC so that wall clock steps cannot shorten a delay */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/*
 * strtoul() quietly accepts signs, blanks and trailing junk; a test that
 * passes "-d 10ms" must be told so, not get a 10 ms delay by luck.
 */
static int parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = (unsigned long)v;
	return 0;
}

static void parse_options(int argc, char **argv, struct options *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	opterr = 0; /* we print our own one-line diagnostics */
	while ((c = getopt(argc, argv, ":q:d:n:")) != -1) {
		switch (c) {
		case 'q':
			if (parse_ulong(optarg, 65535, &o->queue))
				usage_error("invalid queue number (0..65535)", optarg);
			o->have_queue = 1;
			break;
		case 'd':
			if (parse_ulong(optarg, MAX_DELAY_MS, &o->delay_ms))
				usage_error("invalid delay in ms (0..3600000)", optarg);
			o->have_delay = 1;
			break;
		case 'n':
			if (parse_ulong(optarg, ULONG_MAX, &o->count) || !o->count)
				usage_error("invalid packet count (>= 1)", optarg);
			break;
		case ':':
			fprintf(stderr, PROG ": option -%c needs a value\n", optopt);
			exit(2);
		default:
			fprintf(stderr, PROG ": unknown option -%c (" USAGE ")\n", optopt);
			exit(2);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument", argv[optind]);
	if (!o->have_queue)
		usage_error("missing -q QUEUE_NUM", NULL);
	if (!o->have_delay)
		usage_error("missing -d DELAY_MS", NULL);
}

static unsigned int ring_len(const struct delayer *d)
{
	return d->tail - d->head;
}

static int accept_packet(struct delayer *d, uint32_t id)
{
	if (nfq_set_verdict(d->qh, id, NF_ACCEPT, 0, NULL) < 0)
		return -1;
	d->released++;
	return 0;
}

/*
 * Release every packet whose time has come (all of them if @all).  The
 * delay is constant, so due times are in arrival order and only the head
 * needs checking.  Stops at the -n limit so that "-n 1" really exits
 * after one packet rather than after whatever happened to be queued.
 */
static int release_due(struct delayer *d, int all)
{
	uint64_t now = now_ns();

	while (ring_len(d)) {
		struct pending *p;

		if (!all && d->limit && d->released >= d->limit)
			break;
		p = &d->ring[d->head % RING_SIZE];
		if (!all && p->due_ns > now)
			break;
		if (accept_packet(d, p->id) < 0)
			return -1;
		d->head++;
	}
	return 0;
}

/*
 * Called by nfq_handle_packet() for each queued packet.  Only records the
 * packet: sleeping here would stack the delays of packets queued together.
 */
static int on_packet(struct nfq_q_handle *qh, struct nfgenmsg *nfmsg, struct nfq_data *nfa,
		     void *data)
{
	struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
	struct delayer *d = data;
	struct pending *p;
	uint32_t id;

	(void)qh;
	(void)nfmsg;
	if (!ph)
		return 0; /* no id: nothing we can give a verdict on */
	id = ntohl(ph->packet_id);

	/* Cannot happen with maxlen == RING_SIZE; never drop, pass early. */
	if (ring_len(d) == RING_SIZE) {
		if (accept_packet(d, id) < 0) {
			d->err = errno;
			return -1;
		}
		return 0;
	}
	p = &d->ring[d->tail % RING_SIZE];
	p->id = id;
	p->due_ns = d->rx_ns + d->delay_ns;
	d->tail++;
	return 0;
}

static void open_queue(struct delayer *d, unsigned int queue)
{
	d->h = nfq_open();
	if (!d->h)
		fail("nfq_open", errno);
	d->qh = nfq_create_queue(d->h, queue, on_packet, d);
	if (!d->qh)
		fail("cannot bind NFQUEUE (in use? root?)", errno);
	/* Only the packet id is needed; skip copying payloads to user space. */
	if (nfq_set_mode(d->qh, NFQNL_COPY_META, 0) < 0)
		fail("nfq_set_mode", errno);
	if (nfq_set_queue_maxlen(d->qh, RING_SIZE) < 0)
		fail("nfq_set_queue_maxlen", errno);
	/* Room for a full ring of messages, so bursts are not lost (ENOBUFS). */
	nfnl_rcvbufsiz(nfq_nfnlh(d->h), RING_SIZE * 256);
}

/*
 * Signals arrive through a signalfd polled together with the queue socket,
 * so a signal can never slip in between the due-time check and the wait.
 */
static int open_signalfd(void)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		fail("sigprocmask", errno);
	fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		fail("signalfd", errno);
	return fd;
}

/* Read one netlink message and queue the packet(s) it carries. */
static int receive(struct delayer *d, int flags)
{
	static char buf[RX_BUF_SIZE] __attribute__((aligned));
	ssize_t len;

	len = recv(nfq_fd(d->h), buf, sizeof(buf), flags);
	if (len < 0)
		return -1;
	d->rx_ns = now_ns();
	d->err = 0;
	if (nfq_handle_packet(d->h, buf, (int)len) < 0 && d->err) {
		errno = d->err;
		return -1;
	}
	return 0;
}

/* Time left until the head packet is due; NULL (wait forever) if none. */
static struct timespec *wait_time(const struct delayer *d, struct timespec *ts)
{
	uint64_t now, due, left;

	if (!ring_len(d))
		return NULL;
	now = now_ns();
	due = d->ring[d->head % RING_SIZE].due_ns;
	left = due > now ? due - now : 0;
	ts->tv_sec = (time_t)(left / NS_PER_SEC);
	ts->tv_nsec = (long)(left % NS_PER_SEC);
	return ts;
}

static int limit_reached(const struct delayer *d)
{
	return d->limit && d->released >= d->limit;
}

static void run(struct delayer *d, int sfd)
{
	struct pollfd fds[2] = {
		{ .fd = nfq_fd(d->h), .events = POLLIN },
		{ .fd = sfd, .events = POLLIN },
	};
	struct timespec ts;

	while (!limit_reached(d)) {
		if (ppoll(fds, 2, wait_time(d, &ts), NULL) < 0) {
			if (errno == EINTR)
				continue;
			fail("ppoll", errno);
		}
		if (fds[1].revents)
			return; /* SIGINT/SIGTERM: caller flushes */
		if (fds[0].revents && receive(d, MSG_DONTWAIT) < 0) {
			/*
			 * ENOBUFS means the kernel dropped messages for us
			 * (those packets are gone); keep serving the rest.
			 */
			if (errno == ENOBUFS) {
				fprintf(stderr, PROG ": recv: %s (packets lost)\n",
					strerror(ENOBUFS));
			} else if (errno != EAGAIN && errno != EINTR) {
				fail("recv", errno);
			}
		}
		if (release_due(d, 0) < 0)
			fail("nfq_set_verdict", errno);
	}
}

/*
 * Closing the queue makes the kernel drop whatever still awaits a verdict,
 * so read what is already in the socket and accept everything first.
 */
static void shutdown_queue(struct delayer *d)
{
	while (receive(d, MSG_DONTWAIT) == 0 || errno == ENOBUFS)
		;
	if (release_due(d, 1) < 0)
		fail("nfq_set_verdict", errno);
	nfq_destroy_queue(d->qh);
	nfq_close(d->h);
}

int main(int argc, char **argv)
{
	static struct delayer d; /* static: the ring is 16 KiB */
	struct options o;
	int sfd;

	parse_options(argc, argv, &o);
	d.delay_ns = (uint64_t)o.delay_ms * NS_PER_MS;
	d.limit = o.count;

	sfd = open_signalfd();
	open_queue(&d, (unsigned int)o.queue);

	if (printf("ready\n") < 0 || fflush(stdout) == EOF)
		fail("stdout", errno);

	run(&d, sfd);
	shutdown_queue(&d);
	close(sfd);
	return 0;
}
