/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The HTTP server of `tcptrace serve`: libmicrohttpd, in its external epoll mode, so that
 * it runs in the tracer's own loop, with no thread and no wakeup while nobody connects.
 * It answers GET and HEAD of two paths: "/" (a page linking to the other) and the
 * metrics path, whose body a callback renders at each request. Anything else is 404 or
 * 405. The socket is bound before privileges are dropped; the server needs none.
 *
 * Every peer is presumed hostile: requests are small and must arrive whole within a
 * deadline; when all connection slots are taken, the one idle the longest is closed, so
 * that no number of idle or slow clients can keep a scrape out.
 */
#ifndef TCPTRACE_HTTP_H
#define TCPTRACE_HTTP_H

#include <stddef.h>
#include <sys/socket.h>

struct http_server;

/*
 * The body of the metrics page, rendered for each GET or HEAD: a buffer from malloc()
 * that the server frees, its length in *len; NULL (with errno) answers 500.
 */
typedef char *(*http_render_fn)(void *ctx, size_t *len);

/* The server keeps pointers to the strings: they must outlive it. */
struct http_config {
	const char *metrics_path; /* "/metrics" */
	const char *content_type; /* the metrics page's */
	const char *index_html;	  /* the page at "/" */
	http_render_fn render;
	void *ctx;
	unsigned int max_connections;	 /* at once; beyond, the longest idle one is closed */
	unsigned int request_timeout_ms; /* from accept, or the last response, to a whole request */
	size_t max_request_bytes;	 /* request line and headers */
};

/*
 * A listening TCP socket on addr (IPv4 or IPv6; an IPv6 one takes no IPv4), made before
 * privileges are dropped: its descriptor, or -errno.
 */
int http_listen(const struct sockaddr *addr, socklen_t addr_len);
/* Serves on listen_fd, which it owns from then on, even on failure: 0, or -errno. */
int http_server_start(int listen_fd, const struct http_config *config, struct http_server **server);
/* The descriptor to wait on (an epoll instance: readable when there is work). */
int http_server_fd(const struct http_server *server);
/* How long the loop may wait before http_server_run() is due anyway: ms, or -1 for ever. */
int http_server_timeout_ms(struct http_server *server);
/* Does whatever is ready; never blocks. 0, or -errno. */
int http_server_run(struct http_server *server);
/* Closes every connection and the socket. NULL is fine. */
void http_server_stop(struct http_server *server);

#endif /* TCPTRACE_HTTP_H */
