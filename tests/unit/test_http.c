// SPDX-License-Identifier: GPL-2.0-only
/*
 * serve's HTTP server, in this process on 127.0.0.1, its loop in a thread as serve runs
 * it: the two pages, the refusals, and the limits against clients that send nothing,
 * send slowly, send too much, or take every slot. Timings are bounded generously (a
 * 5 s socket timeout) and printed, never judged to the millisecond.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include "../../lib/http.h"
#include "check.h"

#define METRICS_TYPE	 "text/plain; version=0.0.4; charset=utf-8"
#define METRICS_BODY	 "# TYPE x_total counter\nx_total 1\n"
#define INDEX_HTML	 "<html><body><a href=\"/metrics\">Metrics</a></body></html>\n"
#define CLIENT_TIMEOUT_S 5

/* What the metrics page renders: a body of `size` bytes, or a failure. */
struct page {
	size_t size;
	bool fail;
	atomic_uint renders;
};

/* A server and the thread that runs its loop. */
struct loop {
	struct http_server *server;
	struct page page;
	int port;
	int stop_fd;
	pthread_t thread;
	atomic_int timeout_ms; /* what the loop last waited for */
	atomic_ulong wakeups;
	atomic_int run_error;
};

static char *render(void *ctx, size_t *len)
{
	struct page *page = ctx;
	char *body;

	atomic_fetch_add(&page->renders, 1);
	if (page->fail) {
		errno = EIO;
		return NULL;
	}
	if (!page->size) {
		*len = strlen(METRICS_BODY);
		return strdup(METRICS_BODY);
	}
	body = malloc(page->size);
	if (body)
		memset(body, '#', page->size);
	*len = page->size;
	return body;
}

static void *serve_loop(void *arg)
{
	struct loop *loop = arg;
	struct epoll_event events[2], server_event = { .events = EPOLLIN, .data.fd = 0 },
				      stop_event = { .events = EPOLLIN, .data.fd = 1 };
	int ep = epoll_create1(EPOLL_CLOEXEC);

	epoll_ctl(ep, EPOLL_CTL_ADD, http_server_fd(loop->server), &server_event);
	epoll_ctl(ep, EPOLL_CTL_ADD, loop->stop_fd, &stop_event);
	for (;;) {
		int ms = http_server_timeout_ms(loop->server), n, err;

		atomic_store(&loop->timeout_ms, ms);
		n = epoll_wait(ep, events, 2, ms);
		atomic_fetch_add(&loop->wakeups, 1);
		for (int i = 0; i < n; i++)
			if (events[i].data.fd == 1)
				goto out;
		err = http_server_run(loop->server);
		if (err)
			atomic_store(&loop->run_error, err);
	}
out:
	close(ep);
	return NULL;
}

static struct http_config config_default(void)
{
	return (struct http_config){
		.metrics_path = "/metrics",
		.content_type = METRICS_TYPE,
		.index_html = INDEX_HTML,
		.render = render,
		.max_connections = 16,
		.request_timeout_ms = 10000,
		.max_request_bytes = 4096,
	};
}

static struct sockaddr_in loopback(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sin;
}

static bool loop_start(struct loop *loop, struct http_config config)
{
	struct sockaddr_in sin = loopback(0);
	socklen_t len = sizeof(sin);
	int fd = http_listen((struct sockaddr *)&sin, sizeof(sin));

	memset(loop, 0, sizeof(*loop));
	CHECK(fd >= 0);
	if (fd < 0)
		return false;
	getsockname(fd, (struct sockaddr *)&sin, &len);
	loop->port = ntohs(sin.sin_port);
	config.ctx = &loop->page;
	CHECK(http_server_start(fd, &config, &loop->server) == 0);
	if (!loop->server)
		return false;
	/* Nobody has connected: nothing to wake up for. */
	CHECK(http_server_timeout_ms(loop->server) == -1);
	loop->stop_fd = eventfd(0, EFD_CLOEXEC);
	pthread_create(&loop->thread, NULL, serve_loop, loop);
	return true;
}

static void loop_stop(struct loop *loop)
{
	eventfd_write(loop->stop_fd, 1);
	pthread_join(loop->thread, NULL);
	close(loop->stop_fd);
	CHECK(atomic_load(&loop->run_error) == 0);
	http_server_stop(loop->server);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A connected client socket, blocking, whose reads and writes give up after 5 s. */
static int dial(int port)
{
	struct sockaddr_in sin = loopback(port);
	struct timeval tv = { .tv_sec = CLIENT_TIMEOUT_S };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool send_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

		if (n <= 0)
			return false;
		data += n;
		len -= n;
	}
	return true;
}

/*
 * A client idle after one byte of a request. The byte makes the kernel hand it over at
 * once: the listen socket defers the connections that send nothing.
 */
static int dial_idle(int port)
{
	int fd = dial(port);

	if (fd >= 0 && !send_all(fd, "G", 1)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A header's value in a reply, or "" when it has none. */
static const char *header(const char *reply, const char *name)
{
	static char value[256];
	char key[64];
	const char *at;
	size_t len;

	snprintf(key, sizeof(key), "\r\n%s: ", name);
	value[0] = '\0';
	at = strcasestr(reply, key);
	if (!at)
		return value;
	at += strlen(key);
	len = strcspn(at, "\r\n");
	if (len >= sizeof(value))
		len = sizeof(value) - 1;
	memcpy(value, at, len);
	value[len] = '\0';
	return value;
}

/*
 * Reads one reply: its headers, then Content-Length bytes of body unless it answers a
 * HEAD. Its length; 0 when the server closed before a whole reply, -1 on a timeout.
 */
static ssize_t read_reply(int fd, char *buf, size_t size, bool head)
{
	size_t have = 0, want = 0;

	for (;;) {
		ssize_t n;
		char *end;

		buf[have] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (end && !want)
			want = end + 4 - buf +
			       (head ? 0 : strtoul(header(buf, "Content-Length"), NULL, 10));
		if (want && have >= want)
			return have;
		n = recv(fd, buf + have, size - 1 - have, 0);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return -1;
		if (n <= 0 || have + n >= size - 1)
			return 0;
		have += n;
	}
}

static int status(const char *reply)
{
	int code = 0;

	sscanf(reply, "HTTP/1.%*d %d", &code);
	return code;
}

static const char *body_of(const char *reply)
{
	const char *end = strstr(reply, "\r\n\r\n");

	return end ? end + 4 : "";
}

static char last_reply[1 << 16];

/* Sends a request on a new connection and reads the reply into last_reply: its status. */
static int request(int port, const char *text)
{
	int fd = dial(port), code;

	last_reply[0] = '\0';
	if (fd < 0)
		return -1;
	code = send_all(fd, text, strlen(text)) && read_reply(fd, last_reply, sizeof(last_reply),
							      !strncmp(text, "HEAD", 4)) > 0
		       ? status(last_reply)
		       : 0;
	close(fd);
	return code;
}

/* True when the server closes fd, with nothing more to read, within 5 s. */
static bool closed_by_server(int fd)
{
	char byte;

	return recv(fd, &byte, 1, 0) == 0 || errno == ECONNRESET;
}

static bool still_open(int fd)
{
	char byte;

	return recv(fd, &byte, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN;
}

static void test_listen(void)
{
	struct sockaddr_in sin = loopback(0);
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int fd = http_listen((struct sockaddr *)&sin, sizeof(sin)), again, v6only = 0, defer = 0;
	socklen_t len = sizeof(defer);

	CHECK(fd >= 0);
	/* Connections that send nothing stay in the kernel for a while. */
	getsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, &len);
	CHECK(defer > 0);
	len = sizeof(sin);
	getsockname(fd, (struct sockaddr *)&sin, &len);
	again = http_listen((struct sockaddr *)&sin, sizeof(sin));
	CHECK_EQ_U64(again, -EADDRINUSE);
	close(fd);

	fd = http_listen((struct sockaddr *)&sin6, sizeof(sin6));
	if (fd == -EAFNOSUPPORT || fd == -EADDRNOTAVAIL)
		return; /* no IPv6 here */
	CHECK(fd >= 0);
	len = sizeof(v6only);
	getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &len);
	CHECK_EQ_U64(v6only, 1);
	close(fd);
}

static void test_pages(void)
{
	struct loop loop;

	if (!loop_start(&loop, config_default()))
		return;
	CHECK_EQ_U64(request(loop.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 200);
	CHECK_STR(header(last_reply, "Content-Type"), "text/html; charset=utf-8");
	CHECK_STR(body_of(last_reply), INDEX_HTML);

	CHECK_EQ_U64(request(loop.port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), 200);
	CHECK_STR(header(last_reply, "Content-Type"), METRICS_TYPE);
	CHECK_STR(body_of(last_reply), METRICS_BODY);
	/* The query is not part of the path. */
	CHECK_EQ_U64(request(loop.port, "GET /metrics?x=1 HTTP/1.0\r\n\r\n"), 200);
	CHECK_STR(body_of(last_reply), METRICS_BODY);

	/* HEAD: the headers GET would have, the length of its body, and no body. */
	CHECK_EQ_U64(request(loop.port, "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), 200);
	CHECK_STR(header(last_reply, "Content-Type"), METRICS_TYPE);
	CHECK_EQ_U64(strtoul(header(last_reply, "Content-Length"), NULL, 10), strlen(METRICS_BODY));
	CHECK_STR(body_of(last_reply), "");

	CHECK_EQ_U64(request(loop.port, "GET /metrics/ HTTP/1.1\r\nHost: x\r\n\r\n"), 404);
	CHECK_EQ_U64(request(loop.port, "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n"), 404);
	CHECK_EQ_U64(request(loop.port,
			     "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"),
		     405);
	CHECK_STR(header(last_reply, "Allow"), "GET, HEAD");
	CHECK_EQ_U64(request(loop.port, "DELETE / HTTP/1.1\r\nHost: x\r\n\r\n"), 405);
	CHECK_STR(header(last_reply, "Allow"), "GET, HEAD");
	/* Rendered for each GET and HEAD of the metrics page, and only for those. */
	CHECK_EQ_U64(atomic_load(&loop.page.renders), 3);
	loop_stop(&loop);
}

static void test_render_failure(void)
{
	struct loop loop;

	if (!loop_start(&loop, config_default()))
		return;
	loop.page.fail = true;
	CHECK_EQ_U64(request(loop.port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), 500);
	loop_stop(&loop);
}

/* A second request on the same connection is answered too. */
static void test_keepalive(void)
{
	static const char get[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
	struct loop loop;
	int fd;

	if (!loop_start(&loop, config_default()))
		return;
	fd = dial(loop.port);
	CHECK(fd >= 0);
	for (int i = 0; i < 2; i++) {
		CHECK(send_all(fd, get, strlen(get)));
		CHECK(read_reply(fd, last_reply, sizeof(last_reply), false) > 0);
		CHECK_EQ_U64(status(last_reply), 200);
	}
	close(fd);
	loop_stop(&loop);
}

/* Request line and headers beyond max_request_bytes: 431, or closed without a reply. */
static void test_request_size(void)
{
	struct http_config config = config_default();
	char text[3 * 4096];
	struct loop loop;
	int code;

	if (!loop_start(&loop, config))
		return;
	snprintf(text, sizeof(text), "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: %0*d\r\n\r\n",
		 (int)config.max_request_bytes - 100, 0);
	CHECK_EQ_U64(request(loop.port, text), 200);
	snprintf(text, sizeof(text), "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: %0*d\r\n\r\n",
		 (int)config.max_request_bytes * 2, 0);
	code = request(loop.port, text);
	CHECK(code == 431 || code == 0);
	snprintf(text, sizeof(text), "GET /%0*d HTTP/1.1\r\nHost: x\r\n\r\n",
		 (int)config.max_request_bytes * 2, 0);
	code = request(loop.port, text);
	CHECK(code == 414 || code == 431 || code == 0);
	loop_stop(&loop);
}

/*
 * A GET or HEAD with a body closes the connection, without a reply (no smuggling);
 * another method gets its 405 at once, its body unread.
 */
static void test_body(void)
{
	struct loop loop;

	if (!loop_start(&loop, config_default()))
		return;
	CHECK_EQ_U64(request(loop.port,
			     "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"),
		     0);
	CHECK_EQ_U64(
		request(loop.port, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n"),
		405);
	CHECK_EQ_U64(request(loop.port,
			     "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
			     "\r\n5\r\nhello\r\n0\r\n\r\n"),
		     0);
	CHECK_EQ_U64(atomic_load(&loop.page.renders), 0);
	loop_stop(&loop);
}

/*
 * A request must arrive whole within request_timeout_ms, however steadily its bytes
 * trickle in; after a reply, the next must too. MHD's own timeout would wait for ever.
 */
static void test_deadline(void)
{
	static const char partial[] = "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ";
	static const char get[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	struct http_config config = config_default();
	int silent, slow, kept;
	bool closed = false;
	struct loop loop;
	double start;

	config.request_timeout_ms = 500;
	if (!loop_start(&loop, config))
		return;
	start = now_s();
	silent = dial(loop.port);
	slow = dial(loop.port);
	kept = dial(loop.port);
	CHECK(send_all(kept, get, strlen(get)));
	CHECK(read_reply(kept, last_reply, sizeof(last_reply), false) > 0);
	CHECK(send_all(slow, partial, strlen(partial)));
	/* A byte every 100 ms: MHD's timeout (1 s, restarted at each byte) never comes. */
	for (int i = 0; i < 30 && !closed; i++) {
		usleep(100000);
		closed = !send_all(slow, "a", 1) || !still_open(slow);
	}
	CHECK(closed);
	printf("     slow client closed after %.2f s\n", now_s() - start);
	CHECK(closed_by_server(kept));
	/* Held by the kernel for a second (TCP_DEFER_ACCEPT), then given the deadline. */
	CHECK(closed_by_server(silent));
	printf("     silent client closed after %.2f s\n", now_s() - start);
	CHECK(now_s() - start < CLIENT_TIMEOUT_S);
	close(silent);
	close(slow);
	close(kept);
	loop_stop(&loop);
}

/*
 * With every slot held by an idle client, a new one is answered: the client idle the
 * longest is closed for it, and only that one.
 */
static void test_slots_full(void)
{
	struct http_config config = config_default();
	int idle[16];
	struct loop loop;
	double start;

	config.max_connections = 16;
	if (!loop_start(&loop, config))
		return;
	for (int i = 0; i < 16; i++) {
		idle[i] = dial_idle(loop.port);
		CHECK(idle[i] >= 0);
	}
	usleep(100000); /* all accepted */
	start = now_s();
	CHECK_EQ_U64(request(loop.port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), 200);
	printf("     answered in %.1f ms with every slot taken\n", (now_s() - start) * 1000);
	CHECK(closed_by_server(idle[0]));
	for (int i = 1; i < 16; i++)
		CHECK(still_open(idle[i]));
	for (int i = 0; i < 16; i++)
		close(idle[i]);
	loop_stop(&loop);
}

/* Many more idle clients than slots: each new one closes the oldest; a scrape still gets in. */
static void test_flood(void)
{
	struct http_config config = config_default();
	enum { FLOOD = 300 };
	int idle[FLOOD], evicted = 0;
	struct loop loop;
	double start;

	if (!loop_start(&loop, config))
		return;
	for (int i = 0; i < FLOOD; i++)
		idle[i] = dial_idle(loop.port);
	start = now_s();
	CHECK_EQ_U64(request(loop.port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), 200);
	printf("     answered in %.1f ms behind %d idle clients\n", (now_s() - start) * 1000,
	       FLOOD);
	usleep(100000);
	for (int i = 0; i < FLOOD; i++) {
		evicted += idle[i] >= 0 && !still_open(idle[i]);
		close(idle[i]);
	}
	CHECK_EQ_U64(evicted, FLOOD - config.max_connections + 1);
	loop_stop(&loop);
}

/*
 * When every slot is answering a client that does not read, a new client still gets in:
 * the oldest answer is closed for it.
 */
static void test_slots_busy(void)
{
	static const char get[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
	struct http_config config = config_default();
	struct loop loop;
	int stuck[2];

	config.max_connections = 2;
	if (!loop_start(&loop, config))
		return;
	loop.page.size = 64 << 20; /* more than the socket buffers hold */
	for (int i = 0; i < 2; i++) {
		stuck[i] = dial(loop.port);
		CHECK(send_all(stuck[i], get, strlen(get)));
	}
	for (int i = 0; i < 50 && atomic_load(&loop.page.renders) < 2; i++)
		usleep(20000);
	CHECK_EQ_U64(atomic_load(&loop.page.renders), 2);
	CHECK_EQ_U64(request(loop.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 200);
	for (int i = 0; i < 2; i++)
		close(stuck[i]);
	loop_stop(&loop);
}

/* Once every client has gone, the loop sleeps until the next one: no timer, no wakeup. */
static void test_no_idle_wakeups(void)
{
	struct loop loop;
	unsigned long wakeups;
	int i;

	if (!loop_start(&loop, config_default()))
		return;
	CHECK_EQ_U64(request(loop.port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), 200);
	for (i = 0; i < 100 && atomic_load(&loop.timeout_ms) != -1; i++)
		usleep(20000);
	CHECK_EQ_U64(atomic_load(&loop.timeout_ms), -1);
	wakeups = atomic_load(&loop.wakeups);
	usleep(300000);
	CHECK_EQ_U64(atomic_load(&loop.wakeups), wakeups);
	loop_stop(&loop);
}

int main(void)
{
	RUN(test_listen);
	RUN(test_pages);
	RUN(test_render_failure);
	RUN(test_keepalive);
	RUN(test_request_size);
	RUN(test_body);
	RUN(test_deadline);
	RUN(test_slots_full);
	RUN(test_flood);
	RUN(test_slots_busy);
	RUN(test_no_idle_wakeups);
	return CHECK_RESULT();
}
