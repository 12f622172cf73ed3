/* SPDX-License-Identifier: MIT */
/*
 * A minimal xenstore client for the test programs, speaking the wire
 * protocol of xen/io/xs_wire.h over xenstored's socket (dom0) or
 * /dev/xen/xenbus (any domain).  No libxenstore: the domU is a static
 * busybox guest.
 */
#ifndef GDMABUF_XS_H
#define GDMABUF_XS_H

#include <stddef.h>

struct xs;

/* Returns NULL with errno set when neither transport can be opened. */
struct xs *xs_open(void);
void xs_close(struct xs *xs);
/* Reads @path into @buf (NUL-terminated); returns its length or -errno. */
int xs_read(struct xs *xs, const char *path, char *buf, size_t size);
/* Writes @value at @path; returns 0 or -errno. */
int xs_write(struct xs *xs, const char *path, const char *value);
/* Removes @path; returns 0 or -errno. */
int xs_rm(struct xs *xs, const char *path);

#endif
