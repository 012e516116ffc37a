// SPDX-License-Identifier: GPL-2.0-only
/*
 * serve's HTTP server: libmicrohttpd parses, this file decides who gets a slot.
 *
 * MHD's own limits do not keep a scrape in: its timeout restarts at every byte, so a
 * client sending one byte a second never times out, and at its connection limit it stops
 * accepting, so idle clients hold every slot (1,000 of them starved a scrape for good).
 * So each connection is tracked here, in a list ordered by when it last changed state:
 * accepted, began a request, or finished one. An idle connection (no request being
 * answered) must bring a whole request within request_timeout_ms of that change; a new
 * connection beyond max_connections closes the one idle the longest.
 *
 * Closing means shutdown(), never close(): MHD owns the descriptor and sees end of file
 * on its next run, so no descriptor is closed under it and then reused.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include "http.h"

/*
 * Beyond max_connections, MHD's own limit leaves room for connections already shut down
 * that MHD has yet to close: it accepts up to 10 per run, each may shut one down, and
 * those close on the next run. At its limit MHD would stop accepting altogether.
 */
#define EVICTED_SLOTS 32
/*
 * The listen queue: with 128, a flood of connections filled it, and a scrape's SYN was
 * dropped and sent again a second later. The kernel caps it at net.core.somaxconn.
 */
#define LISTEN_BACKLOG SOMAXCONN
/*
 * The kernel hands a connection over once its first bytes arrive, or after this long:
 * a client that sends nothing takes no slot meanwhile, and a scrape arrives with its
 * request, to be read before a flood of newer connections can push it out.
 */
#define DEFER_ACCEPT_S 1
/*
 * Metrics replies being sent at once. Each holds its own rendering (a few MB at 10,000
 * series) until its client has read it: slow readers must not multiply that. Prometheus
 * sends one scrape at a time per target.
 */
#define METRICS_REPLIES_MAX 4
/* Room in a connection's memory pool beyond the request: MHD's header records, the reply's. */
#define POOL_EXTRA_BYTES 2048

#define HTML_TYPE "text/html; charset=utf-8"
#define TEXT_TYPE "text/plain; charset=utf-8"

struct http_conn {
	struct http_conn *prev, *next;
	uint64_t since_ms; /* accepted, or began or finished a request */
	int fd;
	bool busy;    /* a request is being answered */
	bool evicted; /* shut down, and out of the list; MHD has yet to close it */
	bool metrics; /* the request being answered is a metrics reply */
};

struct http_server {
	struct MHD_Daemon *daemon;
	struct http_config config;
	struct http_conn *oldest, *newest; /* the list, by since_ms */
	unsigned int connections;	   /* in the list */
	unsigned int metrics_replies;	   /* connections whose metrics reply is being sent */
	/*
	 * A connection closed. At its limit, or out of descriptors, MHD takes its listen
	 * socket out of its epoll set, and puts it back only when a run begins: run again.
	 */
	bool rerun;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void conn_unlink(struct http_server *server, struct http_conn *conn)
{
	if (conn->prev)
		conn->prev->next = conn->next;
	else
		server->oldest = conn->next;
	if (conn->next)
		conn->next->prev = conn->prev;
	else
		server->newest = conn->prev;
	conn->prev = conn->next = NULL;
	server->connections--;
}

static void conn_append(struct http_server *server, struct http_conn *conn)
{
	conn->since_ms = now_ms();
	conn->prev = server->newest;
	conn->next = NULL;
	if (server->newest)
		server->newest->next = conn;
	else
		server->oldest = conn;
	server->newest = conn;
	server->connections++;
}

/* A request began (busy) or ended: the connection goes to the end of the list. */
static void conn_touch(struct http_server *server, struct http_conn *conn, bool busy)
{
	if (!conn || conn->evicted)
		return;
	conn_unlink(server, conn);
	conn->busy = busy;
	conn_append(server, conn);
}

static void conn_evict(struct http_server *server, struct http_conn *conn)
{
	shutdown(conn->fd, SHUT_RDWR);
	conn_unlink(server, conn);
	conn->evicted = true;
}

/* The oldest connection that is idle, or else answering with anything but metrics. */
static struct http_conn *oldest_but(const struct http_server *server, bool answering)
{
	struct http_conn *conn;

	for (conn = server->oldest; conn; conn = conn->next)
		if (answering ? conn->busy && !conn->metrics : !conn->busy)
			return conn;
	return NULL;
}

/*
 * The one idle the longest. When every connection is answering, the oldest answer that
 * is no scrape's: clients sending junk are answered with error pages too, and under a
 * flood of them a scrape being answered was closed before its headers went out.
 */
static void evict_one(struct http_server *server)
{
	struct http_conn *victim = oldest_but(server, false);

	if (!victim)
		victim = oldest_but(server, true);
	conn_evict(server, victim ? victim : server->oldest);
}

/* Idle connections whose request has not come in time. */
static void evict_late(struct http_server *server)
{
	uint64_t now = now_ms();
	struct http_conn *conn, *next;

	for (conn = server->oldest; conn; conn = next) {
		next = conn->next;
		if (conn->busy)
			continue;
		if (conn->since_ms + server->config.request_timeout_ms > now)
			break; /* and so are all after it */
		conn_evict(server, conn);
	}
}

static void on_connection(void *cls, struct MHD_Connection *connection, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct http_server *server = cls;
	struct http_conn *conn = *socket_context;
	int fd;

	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (conn && !conn->evicted)
			conn_unlink(server, conn);
		free(conn);
		server->rerun = true;
		return;
	}
	fd = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD)->connect_fd;
	conn = calloc(1, sizeof(*conn));
	if (!conn) { /* untracked, it would escape every limit */
		shutdown(fd, SHUT_RDWR);
		return;
	}
	conn->fd = fd;
	if (server->connections >= server->config.max_connections)
		evict_one(server);
	conn_append(server, conn);
	*socket_context = conn;
}

static struct http_conn *conn_of(struct MHD_Connection *connection)
{
	return MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT)
		->socket_context;
}

static void on_completed(void *cls, struct MHD_Connection *connection, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http_server *server = cls;
	struct http_conn *conn = conn_of(connection);

	(void)req_cls;
	(void)toe;
	if (conn->metrics) {
		conn->metrics = false;
		server->metrics_replies--;
	}
	conn_touch(server, conn, false);
}

/* Queues a page; body is freed with the response when mode is MHD_RESPMEM_MUST_FREE. */
static enum MHD_Result reply(struct MHD_Connection *connection, unsigned int status, char *body,
			     size_t len, enum MHD_ResponseMemoryMode mode, const char *type)
{
	struct MHD_Response *response = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret = MHD_NO;

	if (!response) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	if (MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, type) &&
	    (status != MHD_HTTP_METHOD_NOT_ALLOWED ||
	     MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, "GET, HEAD")))
		ret = MHD_queue_response(connection, status, response);
	MHD_destroy_response(response);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *connection, unsigned int status,
				  const char *text)
{
	return reply(connection, status, (char *)text, strlen(text), MHD_RESPMEM_PERSISTENT,
		     TEXT_TYPE);
}

static enum MHD_Result reply_metrics(struct http_server *server, struct MHD_Connection *connection)
{
	struct http_conn *conn = conn_of(connection);
	size_t len = 0;
	char *body;

	if (server->metrics_replies >= METRICS_REPLIES_MAX)
		return reply_text(connection, MHD_HTTP_SERVICE_UNAVAILABLE,
				  "Too many scrapes at once: try again.\n");
	body = server->config.render(server->config.ctx, &len);
	if (!body)
		return reply_text(connection, MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "The metrics could not be rendered.\n");
	conn->metrics = true;
	server->metrics_replies++;
	return reply(connection, MHD_HTTP_OK, body, len, MHD_RESPMEM_MUST_FREE,
		     server->config.content_type);
}

static bool allowed(const char *method)
{
	return !strcmp(method, MHD_HTTP_METHOD_GET) || !strcmp(method, MHD_HTTP_METHOD_HEAD);
}

static bool has_body(struct MHD_Connection *connection)
{
	const char *length = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
							 MHD_HTTP_HEADER_CONTENT_LENGTH);

	return (length && strcmp(length, "0")) ||
	       MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
					   MHD_HTTP_HEADER_TRANSFER_ENCODING);
}

/*
 * MHD calls this once the request line and headers are in, then for each piece of a body,
 * then once the request is whole. A body is refused at the first call (MHD_NO closes the
 * connection); the answer waits for the last, since MHD 0.9.75 closes a connection after
 * a reply queued at the first call.
 */
static enum MHD_Result answer(void *cls, struct MHD_Connection *connection, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_size, void **req_cls)
{
	struct http_server *server = cls;

	(void)version;
	(void)upload_data;
	if (!*req_cls) {
		/* Another method gets its 405 at once; a GET or HEAD with a body, nothing. */
		if (has_body(connection) && !allowed(method))
			return reply_text(connection, MHD_HTTP_METHOD_NOT_ALLOWED,
					  "Only GET and HEAD are served.\n");
		if (has_body(connection))
			return MHD_NO;
		*req_cls = server;
		conn_touch(server, conn_of(connection), true);
		return MHD_YES;
	}
	if (*upload_size)
		return MHD_NO;
	if (!allowed(method))
		return reply_text(connection, MHD_HTTP_METHOD_NOT_ALLOWED,
				  "Only GET and HEAD are served.\n");
	if (!strcmp(url, server->config.metrics_path))
		return reply_metrics(server, connection);
	if (!strcmp(url, "/"))
		return reply(connection, MHD_HTTP_OK, (char *)server->config.index_html,
			     strlen(server->config.index_html), MHD_RESPMEM_PERSISTENT, HTML_TYPE);
	return reply_text(connection, MHD_HTTP_NOT_FOUND, "Not found.\n");
}

int http_listen(const struct sockaddr *addr, socklen_t addr_len)
{
	int one = 1, defer = DEFER_ACCEPT_S, fd;

	fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    (addr->sa_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one))) ||
	    setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, sizeof(defer)) ||
	    bind(fd, addr, addr_len) || listen(fd, LISTEN_BACKLOG)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int http_server_start(int listen_fd, const struct http_config *config,
		      struct http_server **server_out)
{
	/* MHD's own timeout (seconds, restarted at every byte) is left to busy connections. */
	unsigned int timeout_s = config->request_timeout_ms / 1000 + 1;
	struct http_server *server;

	if (!config->max_connections || !config->request_timeout_ms || !config->render ||
	    config->max_request_bytes > SIZE_MAX - POOL_EXTRA_BYTES) {
		close(listen_fd);
		return -EINVAL;
	}
	server = calloc(1, sizeof(*server));
	if (!server) {
		close(listen_fd);
		return -ENOMEM;
	}
	server->config = *config;
	/*
	 * No MHD_USE_ERROR_LOG: without it MHD logs nothing at all, where with it every bad
	 * request would write a line. A server facing hostile clients has nothing to say.
	 */
	errno = 0;
	server->daemon = MHD_start_daemon(
		MHD_USE_EPOLL, 0, NULL, NULL, answer, server, MHD_OPTION_LISTEN_SOCKET, listen_fd,
		MHD_OPTION_CONNECTION_LIMIT, config->max_connections + EVICTED_SLOTS,
		MHD_OPTION_CONNECTION_TIMEOUT, timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		config->max_request_bytes + POOL_EXTRA_BYTES, MHD_OPTION_STRICT_FOR_CLIENT, 1,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, server, MHD_OPTION_NOTIFY_COMPLETED,
		on_completed, server, MHD_OPTION_END);
	if (!server->daemon) {
		int err = errno ? -errno : -EINVAL;

		/* MHD closes the socket on some of its failures, not on others. */
		if (fcntl(listen_fd, F_GETFD) >= 0)
			close(listen_fd);
		free(server);
		return err;
	}
	*server_out = server;
	return 0;
}

int http_server_fd(const struct http_server *server)
{
	return MHD_get_daemon_info(server->daemon, MHD_DAEMON_INFO_EPOLL_FD)->epoll_fd;
}

int http_server_timeout_ms(struct http_server *server)
{
	const struct http_conn *conn = oldest_but(server, false);
	MHD_UNSIGNED_LONG_LONG mhd_ms;
	int ms = -1;

	if (server->rerun)
		return 0;
	if (conn) {
		uint64_t deadline = conn->since_ms + server->config.request_timeout_ms;
		uint64_t now = now_ms();

		ms = deadline > now ? (int)(deadline - now) : 0;
	}
	/* MHD_NO when no connection is open: the loop may sleep for ever. */
	if (MHD_get_timeout(server->daemon, &mhd_ms) == MHD_YES &&
	    (ms < 0 || mhd_ms < (unsigned)ms))
		ms = mhd_ms > INT_MAX ? INT_MAX : (int)mhd_ms;
	return ms;
}

int http_server_run(struct http_server *server)
{
	/* First, so that MHD sees these connections end in this very run. */
	evict_late(server);
	server->rerun = false;
	return MHD_run(server->daemon) == MHD_YES ? 0 : -EINVAL;
}

void http_server_stop(struct http_server *server)
{
	if (!server)
		return;
	/* Closes each connection, which frees its record, then the listen socket. */
	MHD_stop_daemon(server->daemon);
	free(server);
}
