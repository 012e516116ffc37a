// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <poll.h>
#include <unistd.h>
#include "output.h"

void output_init(struct output *out, int fd, const volatile sig_atomic_t *give_up)
{
	out->fd = fd;
	out->give_up = give_up;
	out->error = 0;
	out->len = 0;
}

static int write_all(struct output *out, const char *buf, size_t len)
{
	while (len) {
		ssize_t n;

		/* A signal after part of a write ends it short, not with EINTR: check here. */
		if (*out->give_up)
			return -EINTR;
		n = write(out->fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= n;
	}
	return 0;
}

int output_flush(struct output *out)
{
	if (out->len && !out->error)
		out->error = write_all(out, out->buf, out->len);
	out->len = 0;
	return out->error;
}

char *output_reserve(struct output *out, size_t size)
{
	if (OUTPUT_BUFFER_SIZE - out->len < size)
		output_flush(out);
	return out->buf + out->len;
}

void output_commit(struct output *out, size_t len)
{
	out->len += len;
}

bool output_reader_gone(const struct output *out)
{
	struct pollfd pfd = { .fd = out->fd };

	/* POLLERR on a pipe's write end means no reader is left; files never report it. */
	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLERR);
}
