// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "xs.h"

/* Message types and header of xen/io/xs_wire.h. */
enum { XS_READ = 2, XS_WRITE = 11, XS_RM = 13, XS_ERROR = 16 };

struct xs_hdr {
	uint32_t type;
	uint32_t req_id;
	uint32_t tx_id;
	uint32_t len;
};

#define XS_PAYLOAD_MAX 4096

struct gd_xs {
	int fd;
	uint32_t req_id;
};

static const struct { const char *name; int err; } xs_errors[] = {
	{ "EINVAL", EINVAL }, { "EACCES", EACCES }, { "EEXIST", EEXIST },
	{ "EISDIR", EISDIR }, { "ENOENT", ENOENT }, { "ENOMEM", ENOMEM },
	{ "ENOSPC", ENOSPC }, { "EIO", EIO }, { "ENOTEMPTY", ENOTEMPTY },
	{ "ENOSYS", ENOSYS }, { "EROFS", EROFS }, { "EBUSY", EBUSY },
	{ "EAGAIN", EAGAIN }, { "EISCONN", EISCONN }, { "E2BIG", E2BIG },
};

struct gd_xs *gd_xs_open(void)
{
	static const char *const sockets[] = {
		"/run/xenstored/socket", "/var/run/xenstored/socket",
	};
	struct gd_xs *xs = calloc(1, sizeof(*xs));
	int fd = -1;

	if (!xs)
		return NULL;
	for (size_t i = 0; fd < 0 && i < sizeof(sockets) / sizeof(sockets[0]); i++) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			break;
		strncpy(sa.sun_path, sockets[i], sizeof(sa.sun_path) - 1);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
			close(fd);
			fd = -1;
		}
	}
	if (fd < 0)
		fd = open("/dev/xen/xenbus", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;

		free(xs);
		errno = err;
		return NULL;
	}
	xs->fd = fd;
	return xs;
}

void gd_xs_close(struct gd_xs *xs)
{
	if (!xs)
		return;
	close(xs->fd);
	free(xs);
}

static int full_io(int fd, void *buf, size_t len, int writing)
{
	char *p = buf;

	while (len) {
		ssize_t n = writing ? write(fd, p, len) : read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= n;
	}
	return 0;
}

/* Sends one request made of two strings; the reply payload lands in @out. */
static int xs_talk(struct gd_xs *xs, uint32_t type, const char *a, size_t alen,
		   const char *b, size_t blen, char *out, size_t outsize)
{
	char msg[sizeof(struct xs_hdr) + XS_PAYLOAD_MAX];
	struct xs_hdr hdr = { .type = type, .req_id = ++xs->req_id };
	char payload[XS_PAYLOAD_MAX + 1];
	int ret;

	if (alen + blen > XS_PAYLOAD_MAX)
		return -E2BIG;
	hdr.len = alen + blen;
	memcpy(msg, &hdr, sizeof(hdr));
	memcpy(msg + sizeof(hdr), a, alen);
	if (blen)
		memcpy(msg + sizeof(hdr) + alen, b, blen);
	/* One write: the xenbus device wants the whole message at once. */
	ret = full_io(xs->fd, msg, sizeof(hdr) + hdr.len, 1);
	if (ret)
		return ret;

	ret = full_io(xs->fd, &hdr, sizeof(hdr), 0);
	if (ret)
		return ret;
	if (hdr.len > XS_PAYLOAD_MAX)
		return -EIO;
	ret = full_io(xs->fd, payload, hdr.len, 0);
	if (ret)
		return ret;
	payload[hdr.len] = '\0';

	if (hdr.type == XS_ERROR) {
		for (size_t i = 0; i < sizeof(xs_errors) / sizeof(xs_errors[0]); i++)
			if (!strcmp(payload, xs_errors[i].name))
				return -xs_errors[i].err;
		return -EIO;
	}
	if (hdr.type != type)
		return -EIO;
	if (out) {
		if (hdr.len >= outsize)
			return -E2BIG;
		memcpy(out, payload, hdr.len + 1);
	}
	return hdr.len;
}

int gd_xs_read(struct gd_xs *xs, const char *path, char *buf, size_t size)
{
	return xs_talk(xs, XS_READ, path, strlen(path) + 1, NULL, 0, buf, size);
}

int gd_xs_write(struct gd_xs *xs, const char *path, const char *value)
{
	int ret = xs_talk(xs, XS_WRITE, path, strlen(path) + 1, value,
			  strlen(value), NULL, 0);

	return ret < 0 ? ret : 0;
}

int gd_xs_rm(struct gd_xs *xs, const char *path)
{
	int ret = xs_talk(xs, XS_RM, path, strlen(path) + 1, NULL, 0, NULL, 0);

	return ret < 0 ? ret : 0;
}
