/* SPDX-License-Identifier: MIT */
/*
 * gntdmabuf-displ: the sink interface.  A sink is where a connector's
 * frames go (a capture, a KMS plane, a compositor surface).  The protocol
 * code calls it; it never sees a ring or a grant.
 */
#ifndef DISPL_SINK_H
#define DISPL_SINK_H

#include <stdbool.h>
#include <stdint.h>

struct displ_backend;
struct displ_conn;
struct displ_fb;
struct displ_front;

/* What a sink gets to show: a view of a dma-buf, valid until fb_gone(). */
struct displ_frame {
	int fd;				/* the dma-buf (owned by the backend) */
	uint32_t offset;		/* of the first pixel in the dma-buf */
	uint32_t pitch, width, height;
	uint32_t format, cpp;		/* DRM fourcc, bytes per pixel */
	uint64_t fb_cookie;
	const struct displ_fb *fb;
};

/**
 * struct displ_sink_ops - what a sink implements
 * @name: for logs and --sink
 * @conn_add: a connector of a frontend is connected; 0 or -errno (the
 *	frontend is then refused)
 * @conn_remove: it goes away; drop everything kept for it
 * @fb_add: framebuffer @fb of frontend @f is attached: check that it can be
 *	shown at all (its format and size on every output of @f), and set up
 *	what showing it needs, so that a buffer the sink cannot take is
 *	refused at FB_ATTACH and not on its first flip.  0 or -errno (-EINVAL)
 * @show: put @frame on @conn; call displ_flip_done() once it is on screen
 *	(before returning or later, from the sink's own event).  0 or -errno
 * @blank: @conn shows nothing any more
 * @fb_gone: @fb (attached by @fb_add) is being detached or destroyed:
 *	drop everything kept for it, and any reference to its fd
 * @event: one of the sink's own file descriptors (displ_sink_watch()) is
 *	ready
 * @signal: SIGUSR1 arrived (the capture sink writes its PNGs)
 * @alloc: optional: a dma-buf of exactly @size bytes laid out as @width x
 *	@height at @bpp with the pitch the frontend computes (width * bpp / 8),
 *	from the sink's own device, for backend-allocated buffers; 0 or
 *	-errno (-EINVAL: the device lays it out otherwise)
 * @destroy: the process ends
 */
struct displ_sink_ops {
	const char *name;
	int (*conn_add)(void *priv, struct displ_conn *conn);
	void (*conn_remove)(void *priv, struct displ_conn *conn);
	int (*fb_add)(void *priv, struct displ_front *f, struct displ_fb *fb);
	int (*show)(void *priv, struct displ_conn *conn, const struct displ_frame *frame);
	void (*blank)(void *priv, struct displ_conn *conn);
	void (*fb_gone)(void *priv, const struct displ_fb *fb);
	void (*event)(void *priv, int fd);
	void (*signal)(void *priv);
	int (*alloc)(void *priv, uint32_t width, uint32_t height, uint32_t bpp, uint64_t size,
		     int *fd);
	void (*destroy)(void *priv);
};

/* A sink as the backend holds it. */
struct displ_sink {
	const struct displ_sink_ops *ops;
	void *priv;
};

/* Options of the capture sink (--capture-*). */
struct displ_capture_opts {
	const char *dir;		/* where PNGs go */
	const char *frame_log;		/* a line per frame with its hash, or NULL */
	unsigned int png_every;		/* every N frames per connector, 0: never */
};

int displ_capture_create(struct displ_backend *be, const struct displ_capture_opts *opts,
			 struct displ_sink *sink);

/* Options of the KMS sink (--kms-*). */
#define DISPL_KMS_MAX_MAPS	16
struct displ_kms_map {
	int32_t domid, devid, conn;	/* -1: any */
	char connector[32];		/* a dom0 connector's name, "HDMI-A-1" */
};

struct displ_kms_opts {
	const char *device;		/* /dev/dri/cardN, or NULL: the first with KMS */
	const char *capture_dir;	/* writeback PNGs on SIGUSR1, or NULL */
	unsigned int nmaps;
	struct displ_kms_map maps[DISPL_KMS_MAX_MAPS];
};

int displ_kms_create(struct displ_backend *be, const struct displ_kms_opts *opts,
		     struct displ_sink *sink);
int displ_kms_parse_map(const char *spec, struct displ_kms_map *map);

/* Options of the Wayland sink (--wayland-*). */
enum displ_wl_buffers {
	DISPL_WL_BUFFERS_DMABUF,	/* dma-bufs only: what cannot be imported is refused */
	DISPL_WL_BUFFERS_AUTO,		/* ... or else wl_shm, copied on every flip */
	DISPL_WL_BUFFERS_SHM,		/* wl_shm for every buffer (for comparison) */
};

struct displ_wayland_opts {
	const char *display;		/* NULL: $WAYLAND_DISPLAY */
	enum displ_wl_buffers buffers;
	bool fullscreen;
	const char *capture_dir;	/* compositor captures on SIGUSR1, or NULL */
};

int displ_wayland_create(struct displ_backend *be, const struct displ_wayland_opts *opts,
			 struct displ_sink *sink);
int displ_wayland_parse_buffers(const char *s);

/* Lets the sink's @fd wake the main loop (EPOLLIN). */
int displ_sink_watch(struct displ_backend *be, int fd);

/* The view of @fb that a sink shows. */
void displ_fb_frame(const struct displ_fb *fb, struct displ_frame *frame);

/* Writes @frame's pixels at @map as an RGB PNG to @path (via a rename). */
int displ_png_write(const char *path, const struct displ_frame *frame, const uint8_t *map);

/* FNV-1a over the visible pixels of @frame at @map, row by row. */
uint64_t displ_frame_hash(const struct displ_frame *frame, const uint8_t *map);

#endif /* DISPL_SINK_H */
