/* SPDX-License-Identifier: MIT */
/*
 * A minimal xenstore client for the test programs, speaking the wire
 * protocol of xen/io/xs_wire.h over xenstored's socket (dom0) or
 * /dev/xen/xenbus (any domain).  No libxenstore: the domU is a static
 * busybox guest.  Its names are prefixed so that they do not collide with
 * libxenstore's xs_open(), xs_read() and the rest.
 */
#ifndef GDMABUF_XS_H
#define GDMABUF_XS_H

#include <stddef.h>

struct gd_xs;

/* Returns NULL with errno set when neither transport can be opened. */
struct gd_xs *gd_xs_open(void);
void gd_xs_close(struct gd_xs *xs);
/* Reads @path into @buf (NUL-terminated); returns its length or -errno. */
int gd_xs_read(struct gd_xs *xs, const char *path, char *buf, size_t size);
/* Writes @value at @path; returns 0 or -errno. */
int gd_xs_write(struct gd_xs *xs, const char *path, const char *value);
/* Removes @path; returns 0 or -errno. */
int gd_xs_rm(struct gd_xs *xs, const char *path);

#endif
