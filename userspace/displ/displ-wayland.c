// SPDX-License-Identifier: MIT
/*
 * gntdmabuf-displ: the Wayland sink.  Each connector of a frontend is a
 * toplevel surface of a dom0 compositor, and each of its framebuffers a
 * zwp_linux_dmabuf_v1 buffer made from the export's dma-buf, so that the
 * compositor samples the guest's pages: no copy.  A flip attaches the
 * buffer and commits; the guest's EVT_PG_FLIP waits for the surface's
 * frame callback, so the guest runs at the compositor's frame rate.
 *
 * A buffer the compositor cannot import is refused at FB_ATTACH, or with
 * --wayland-buffers=auto shown through wl_shm instead, copied on each
 * flip and counted as copied bytes; --wayland-buffers=shm copies every
 * buffer (for comparison).  On SIGUSR1, a compositor that offers Weston's
 * capture protocol (weston --debug) has each output read back into
 * DIR/compositor-N.png.
 *
 * The backend is single-threaded: requests to the compositor are flushed
 * at the end of every operation, and the waits of FB_ATTACH (the import's
 * answer) and of a capture dispatch only their own event queue.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <drm_fourcc.h>
#include <linux/dma-buf.h>
#include <wayland-client.h>

#include "linux-dmabuf-unstable-v1-client-protocol.h"
#include "presentation-time-client-protocol.h"
#include "xdg-shell-client-protocol.h"

#include "displ.h"
#include "displ-sink.h"

#define DISPL_WL_MAX_FORMATS	1024
#define DISPL_WL_MAX_OUTPUTS	8
#define DISPL_WL_SHM_SLOTS	2
#define DISPL_WL_MAX_SURFACES	(DISPL_MAX_CONNECTORS * 4)

/* Weston's output capture (weston-output-capture.xml), version 1. */
#define DISPL_WCAP_SOURCE_FRAMEBUFFER	1

/* One framebuffer as the compositor has it (displ_fb.sink_priv). */
struct displ_wl_buf {
	struct wl_buffer *buffer;	/* the dma-buf, or NULL: through wl_shm */
	/* wl_shm: slots of a pool, and the dma-buf mapped for the copies */
	struct wl_buffer *slot[DISPL_WL_SHM_SLOTS];
	bool busy[DISPL_WL_SHM_SLOTS];	/* held by the compositor */
	/* the surface generation of each window it was attached to, or 0 */
	uint32_t attached[DISPL_WL_MAX_SURFACES];
	uint8_t *shm_map, *src_map;
	size_t shm_size, src_size;
	int src_fd;
};

/* One connector's surface. */
struct displ_wl_out {
	struct displ_wl *wl;
	struct displ_conn *conn;
	struct wl_surface *surface;
	struct xdg_surface *xdg_surface;
	struct xdg_toplevel *toplevel;
	bool configured;		/* the last configure was acked */
	struct wl_callback *frame_cb;	/* of the last commit, or NULL */
	uint32_t cb_seq;		/* ... the flip it carried (displ_conn.flip_seq), or 0 */
	const struct displ_fb *next;	/* to show once the callback came */
	const struct displ_fb *shown;	/* attached last, or NULL: black */
	struct wl_buffer *black;	/* of the connector's size, for a blank */
	bool want_black;		/* to be attached once configured */
	uint32_t gen;			/* counts the surfaces made for it */
	uint64_t commits, presented, discarded, present_us, copied;
	uint64_t show_us;		/* when the next frame came (presentation clock) */
};

/* One commit's presentation feedback. */
struct displ_wl_present {
	struct displ_wl_out *o;
	uint64_t start_us;		/* when its frame came */
};

struct displ_wl_format {
	uint32_t format;
	uint64_t modifier;
};

struct displ_wl {
	struct displ_backend *be;
	struct displ_wayland_opts opts;
	struct wl_display *display;
	struct wl_registry *registry;
	struct wl_event_queue *queue;	/* FB_ATTACH's and the capture's waits */
	int wake;			/* an eventfd: events those waits read for the main queue */
	struct wl_compositor *compositor;
	struct xdg_wm_base *wm_base;
	struct zwp_linux_dmabuf_v1 *dmabuf;
	uint32_t dmabuf_version;
	struct wl_shm *shm;
	struct wp_presentation *presentation;
	clockid_t present_clock;
	struct wl_proxy *capture;	/* weston_capture_v1, or NULL */
	struct wl_output *outputs[DISPL_WL_MAX_OUTPUTS];
	unsigned int noutputs;
	/* what linux-dmabuf can import: format and modifier pairs */
	struct displ_wl_format formats[DISPL_WL_MAX_FORMATS];
	unsigned int nformats;
	uint32_t shm_formats[64];
	unsigned int nshm_formats;
	/* linux-dmabuf v4's default feedback, while it is read */
	const struct displ_wl_format *table;
	size_t table_len;
	bool feedback_done;
	struct displ_wl_out out[DISPL_WL_MAX_SURFACES];
};

/* Weston's capture protocol: its interfaces as libwayland describes them. */
static const struct wl_interface displ_wcap_source_interface;

static const struct wl_interface *displ_wcap_types[] = {
	NULL, NULL,
	&wl_output_interface, NULL, &displ_wcap_source_interface,
	&wl_buffer_interface,
};

static const struct wl_message displ_wcap_requests[] = {
	{ "destroy", "", displ_wcap_types },
	{ "create", "oun", displ_wcap_types + 2 },
};

static const struct wl_interface displ_wcap_interface = {
	"weston_capture_v1", 1, 2, displ_wcap_requests, 0, NULL,
};

static const struct wl_message displ_wcap_source_requests[] = {
	{ "destroy", "", displ_wcap_types },
	{ "capture", "o", displ_wcap_types + 5 },
};

static const struct wl_message displ_wcap_source_events[] = {
	{ "format", "u", displ_wcap_types },
	{ "size", "ii", displ_wcap_types },
	{ "complete", "", displ_wcap_types },
	{ "retry", "", displ_wcap_types },
	{ "failed", "?s", displ_wcap_types },
};

static const struct wl_interface displ_wcap_source_interface = {
	"weston_capture_source_v1", 1, 2, displ_wcap_source_requests, 5, displ_wcap_source_events,
};

/* One capture in progress. */
struct displ_wcap {
	uint32_t format;
	int32_t width, height;
	int state;			/* 0: waiting, 1: complete, 2: retry, -1: failed */
};

struct displ_wcap_listener {
	void (*format)(void *data, struct wl_proxy *src, uint32_t format);
	void (*size)(void *data, struct wl_proxy *src, int32_t width, int32_t height);
	void (*complete)(void *data, struct wl_proxy *src);
	void (*retry)(void *data, struct wl_proxy *src);
	void (*failed)(void *data, struct wl_proxy *src, const char *msg);
};

static void displ_wcap_format(void *data, struct wl_proxy *src, uint32_t format)
{
	(void)src;
	((struct displ_wcap *)data)->format = format;
}

static void displ_wcap_size(void *data, struct wl_proxy *src, int32_t width, int32_t height)
{
	(void)src;
	((struct displ_wcap *)data)->width = width;
	((struct displ_wcap *)data)->height = height;
}

static void displ_wcap_complete(void *data, struct wl_proxy *src)
{
	(void)src;
	((struct displ_wcap *)data)->state = 1;
}

static void displ_wcap_retry(void *data, struct wl_proxy *src)
{
	(void)src;
	((struct displ_wcap *)data)->state = 2;
}

static void displ_wcap_failed(void *data, struct wl_proxy *src, const char *msg)
{
	(void)src;
	displ_log(NULL, -1, "compositor capture failed: %s", msg ? msg : "(no reason)");
	((struct displ_wcap *)data)->state = -1;
}

static const struct displ_wcap_listener displ_wcap_listener = {
	displ_wcap_format, displ_wcap_size, displ_wcap_complete, displ_wcap_retry,
	displ_wcap_failed,
};

/*
 * A wait on the private queue may have read events of the main queue
 * from the socket: the main loop dispatches them at its next turn.
 */
static void displ_wl_wake(struct displ_wl *wl)
{
	uint64_t one = 1;

	if (write(wl->wake, &one, sizeof(one)) < 0 && errno != EAGAIN)
		displ_log(NULL, -1, "eventfd: %m");
}

static void displ_wl_flush(struct displ_wl *wl)
{
	if (wl_display_flush(wl->display) < 0 && errno != EAGAIN)
		displ_log(NULL, -1, "the compositor's connection: %m");
}

/* wl_shm names ARGB8888 and XRGB8888 0 and 1, every other format by fourcc. */
static uint32_t displ_wl_shm_format(uint32_t drm)
{
	return drm == DRM_FORMAT_ARGB8888 ? WL_SHM_FORMAT_ARGB8888 :
	       drm == DRM_FORMAT_XRGB8888 ? WL_SHM_FORMAT_XRGB8888 : drm;
}

static bool displ_wl_has_shm(const struct displ_wl *wl, uint32_t drm)
{
	for (unsigned int i = 0; i < wl->nshm_formats; i++)
		if (wl->shm_formats[i] == displ_wl_shm_format(drm))
			return true;
	return false;
}

/* The modifier to create a linear buffer of @format with, or false. */
static bool displ_wl_modifier(const struct displ_wl *wl, uint32_t format, uint64_t *mod)
{
	bool implicit = false;

	for (unsigned int i = 0; i < wl->nformats; i++) {
		if (wl->formats[i].format != format)
			continue;
		if (wl->formats[i].modifier == DRM_FORMAT_MOD_LINEAR) {
			*mod = DRM_FORMAT_MOD_LINEAR;
			return true;
		}
		if (wl->formats[i].modifier == DRM_FORMAT_MOD_INVALID)
			implicit = true;
	}
	*mod = DRM_FORMAT_MOD_INVALID;
	return implicit;
}

static void displ_wl_add_format(struct displ_wl *wl, uint32_t format, uint64_t modifier)
{
	for (unsigned int i = 0; i < wl->nformats; i++)
		if (wl->formats[i].format == format && wl->formats[i].modifier == modifier)
			return;
	if (wl->nformats < DISPL_WL_MAX_FORMATS)
		wl->formats[wl->nformats++] = (struct displ_wl_format){ format, modifier };
}

/* linux-dmabuf before version 4: the formats are events of the global. */
static void displ_wl_dmabuf_format(void *data, struct zwp_linux_dmabuf_v1 *d, uint32_t format)
{
	(void)d;
	displ_wl_add_format(data, format, DRM_FORMAT_MOD_INVALID);
}

static void displ_wl_dmabuf_modifier(void *data, struct zwp_linux_dmabuf_v1 *d, uint32_t format,
				     uint32_t hi, uint32_t lo)
{
	(void)d;
	displ_wl_add_format(data, format, (uint64_t)hi << 32 | lo);
}

static const struct zwp_linux_dmabuf_v1_listener displ_wl_dmabuf_listener = {
	.format = displ_wl_dmabuf_format,
	.modifier = displ_wl_dmabuf_modifier,
};

/* Version 4: the default feedback, a table of pairs and tranches of indices. */
static void displ_wl_fb_done(void *data, struct zwp_linux_dmabuf_feedback_v1 *fb)
{
	(void)fb;
	((struct displ_wl *)data)->feedback_done = true;
}

static void displ_wl_fb_table(void *data, struct zwp_linux_dmabuf_feedback_v1 *fb, int32_t fd,
			      uint32_t size)
{
	struct displ_wl *wl = data;
	void *map;

	(void)fb;
	if (wl->table)
		munmap((void *)wl->table, wl->table_len * sizeof(*wl->table));
	wl->table = NULL;
	wl->table_len = 0;
	map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return;
	wl->table = map;
	wl->table_len = size / sizeof(*wl->table);
}

static void displ_wl_fb_main_device(void *data, struct zwp_linux_dmabuf_feedback_v1 *fb,
				    struct wl_array *dev)
{
	(void)data;
	(void)fb;
	(void)dev;
}

static void displ_wl_fb_tranche_done(void *data, struct zwp_linux_dmabuf_feedback_v1 *fb)
{
	(void)data;
	(void)fb;
}

static void displ_wl_fb_tranche_formats(void *data, struct zwp_linux_dmabuf_feedback_v1 *fb,
					struct wl_array *indices)
{
	struct displ_wl *wl = data;
	const uint16_t *idx;

	(void)fb;
	wl_array_for_each(idx, indices)
		if (wl->table && *idx < wl->table_len)
			displ_wl_add_format(wl, wl->table[*idx].format, wl->table[*idx].modifier);
}

static void displ_wl_fb_tranche_flags(void *data, struct zwp_linux_dmabuf_feedback_v1 *fb,
				      uint32_t flags)
{
	(void)data;
	(void)fb;
	(void)flags;
}

static const struct zwp_linux_dmabuf_feedback_v1_listener displ_wl_feedback_listener = {
	.done = displ_wl_fb_done,
	.format_table = displ_wl_fb_table,
	.main_device = displ_wl_fb_main_device,
	.tranche_done = displ_wl_fb_tranche_done,
	.tranche_target_device = displ_wl_fb_main_device,
	.tranche_formats = displ_wl_fb_tranche_formats,
	.tranche_flags = displ_wl_fb_tranche_flags,
};

static void displ_wl_shm_format_ev(void *data, struct wl_shm *shm, uint32_t format)
{
	struct displ_wl *wl = data;

	(void)shm;
	if (wl->nshm_formats < sizeof(wl->shm_formats) / sizeof(wl->shm_formats[0]))
		wl->shm_formats[wl->nshm_formats++] = format;
}

static const struct wl_shm_listener displ_wl_shm_listener = {
	.format = displ_wl_shm_format_ev,
};

static void displ_wl_ping(void *data, struct xdg_wm_base *wm, uint32_t serial)
{
	(void)data;
	xdg_wm_base_pong(wm, serial);
}

static const struct xdg_wm_base_listener displ_wl_wm_listener = {
	.ping = displ_wl_ping,
};

static void displ_wl_clock(void *data, struct wp_presentation *p, uint32_t clk_id)
{
	(void)p;
	((struct displ_wl *)data)->present_clock = clk_id;
}

static const struct wp_presentation_listener displ_wl_presentation_listener = {
	.clock_id = displ_wl_clock,
};

static void displ_wl_global(void *data, struct wl_registry *reg, uint32_t name,
			    const char *iface, uint32_t version)
{
	struct displ_wl *wl = data;

	if (!strcmp(iface, wl_compositor_interface.name) && version >= 4) {
		wl->compositor = wl_registry_bind(reg, name, &wl_compositor_interface, 4);
	} else if (!strcmp(iface, xdg_wm_base_interface.name)) {
		wl->wm_base = wl_registry_bind(reg, name, &xdg_wm_base_interface, 1);
		xdg_wm_base_add_listener(wl->wm_base, &displ_wl_wm_listener, wl);
	} else if (!strcmp(iface, zwp_linux_dmabuf_v1_interface.name) && version >= 3) {
		wl->dmabuf_version = version < 4 ? version : 4;
		wl->dmabuf = wl_registry_bind(reg, name, &zwp_linux_dmabuf_v1_interface,
					      wl->dmabuf_version);
		zwp_linux_dmabuf_v1_add_listener(wl->dmabuf, &displ_wl_dmabuf_listener, wl);
	} else if (!strcmp(iface, wl_shm_interface.name)) {
		wl->shm = wl_registry_bind(reg, name, &wl_shm_interface, 1);
		wl_shm_add_listener(wl->shm, &displ_wl_shm_listener, wl);
	} else if (!strcmp(iface, wp_presentation_interface.name)) {
		wl->presentation = wl_registry_bind(reg, name, &wp_presentation_interface, 1);
		wp_presentation_add_listener(wl->presentation, &displ_wl_presentation_listener, wl);
	} else if (!strcmp(iface, wl_output_interface.name) && wl->noutputs < DISPL_WL_MAX_OUTPUTS) {
		wl->outputs[wl->noutputs++] = wl_registry_bind(reg, name, &wl_output_interface, 1);
	} else if (!strcmp(iface, displ_wcap_interface.name)) {
		wl->capture = wl_registry_bind(reg, name, &displ_wcap_interface, 1);
	}
}

static void displ_wl_global_remove(void *data, struct wl_registry *reg, uint32_t name)
{
	(void)data;
	(void)reg;
	(void)name;
}

static const struct wl_registry_listener displ_wl_registry_listener = {
	.global = displ_wl_global,
	.global_remove = displ_wl_global_remove,
};

static uint64_t displ_wl_clock_us(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void displ_wl_kick(struct displ_wl_out *o);

/* The last commit's frame callback is over: the flip it carried is done. */
static void displ_wl_frame_end(struct displ_wl_out *o)
{
	/* A flip that came since waits for its own commit's callback. */
	bool flip = o->cb_seq && o->cb_seq == o->conn->flip_seq;

	if (!o->frame_cb)
		return;
	wl_callback_destroy(o->frame_cb);
	o->frame_cb = NULL;
	o->cb_seq = 0;
	if (flip)
		displ_flip_done(o->conn);
}

static void displ_wl_frame_done(void *data, struct wl_callback *cb, uint32_t time)
{
	struct displ_wl_out *o = data;

	(void)cb;
	(void)time;
	displ_wl_frame_end(o);
	displ_wl_kick(o);
}

static const struct wl_callback_listener displ_wl_frame_listener = {
	.done = displ_wl_frame_done,
};

static void displ_wl_presented(void *data, struct wp_presentation_feedback *fb,
			       uint32_t sec_hi, uint32_t sec_lo, uint32_t nsec, uint32_t refresh,
			       uint32_t seq_hi, uint32_t seq_lo, uint32_t flags)
{
	struct displ_wl_present *p = data;
	uint64_t at = ((uint64_t)sec_hi << 32 | sec_lo) * 1000000 + nsec / 1000;

	(void)refresh;
	(void)seq_hi;
	(void)seq_lo;
	(void)flags;
	if (p->o->conn) {
		p->o->presented++;
		if (at > p->start_us)
			p->o->present_us += at - p->start_us;
	}
	wp_presentation_feedback_destroy(fb);
	free(p);
}

static void displ_wl_discarded(void *data, struct wp_presentation_feedback *fb)
{
	struct displ_wl_present *p = data;

	if (p->o->conn)
		p->o->discarded++;
	wp_presentation_feedback_destroy(fb);
	free(p);
}

static void displ_wl_sync_output(void *data, struct wp_presentation_feedback *fb,
				 struct wl_output *output)
{
	(void)data;
	(void)fb;
	(void)output;
}

static const struct wp_presentation_feedback_listener displ_wl_feedback_ev_listener = {
	.sync_output = displ_wl_sync_output,
	.presented = displ_wl_presented,
	.discarded = displ_wl_discarded,
};

/* wl_shm: the compositor is done with a slot. */
static void displ_wl_slot_release(void *data, struct wl_buffer *buffer)
{
	struct displ_wl_buf *b = data;

	for (int i = 0; i < DISPL_WL_SHM_SLOTS; i++)
		if (b->slot[i] == buffer)
			b->busy[i] = false;
}

static const struct wl_buffer_listener displ_wl_slot_listener = {
	.release = displ_wl_slot_release,
};

/*
 * wl_shm: the frame is copied into a free slot, between the dma-buf's
 * CPU-access brackets.  Returns the slot's buffer, or NULL if both are
 * still the compositor's.
 */
static struct wl_buffer *displ_wl_copy(struct displ_wl_out *o, const struct displ_fb *fb)
{
	struct displ_wl_buf *b = fb->sink_priv;
	struct dma_buf_sync sync = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ };
	size_t row = (size_t)fb->width * fb->cpp, slot = (size_t)fb->pitch * fb->height;
	uint8_t *dst;
	int i;

	for (i = 0; i < DISPL_WL_SHM_SLOTS && b->busy[i]; i++)
		;
	if (i == DISPL_WL_SHM_SLOTS)
		return NULL;
	dst = b->shm_map + i * slot;
	ioctl(b->src_fd, DMA_BUF_IOCTL_SYNC, &sync);
	for (uint32_t y = 0; y < fb->height; y++)
		memcpy(dst + (size_t)y * fb->pitch,
		       b->src_map + fb->dbuf->offset + (size_t)y * fb->pitch, row);
	sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ;
	ioctl(b->src_fd, DMA_BUF_IOCTL_SYNC, &sync);
	o->conn->front->stats.copied_bytes += row * fb->height;
	o->copied += row * fb->height;
	b->busy[i] = true;
	return b->slot[i];
}

/* Commits the next frame when the surface may take one. */
static void displ_wl_kick(struct displ_wl_out *o)
{
	struct displ_wl *wl = o->wl;
	const struct displ_fb *fb = o->next;
	struct displ_wl_buf *b;
	struct wl_buffer *buffer;

	if (!o->configured || o->frame_cb)
		return;
	if (!fb) {
		if (o->want_black && o->black) {
			wl_surface_attach(o->surface, o->black, 0, 0);
			wl_surface_damage_buffer(o->surface, 0, 0, INT32_MAX, INT32_MAX);
			wl_surface_commit(o->surface);
			displ_wl_flush(wl);
		}
		o->want_black = false;
		return;
	}
	o->want_black = false;
	b = fb->sink_priv;
	buffer = b->buffer ? b->buffer : displ_wl_copy(o, fb);
	if (!buffer)
		return;		/* both wl_shm slots busy: again at their release */
	o->next = NULL;
	b->attached[o - wl->out] = o->gen;
	wl_surface_attach(o->surface, buffer, 0, 0);
	wl_surface_damage_buffer(o->surface, 0, 0, INT32_MAX, INT32_MAX);
	o->frame_cb = wl_surface_frame(o->surface);
	wl_callback_add_listener(o->frame_cb, &displ_wl_frame_listener, o);
	o->cb_seq = o->conn->flip_pending ? o->conn->flip_seq : 0;
	if (wl->presentation) {
		struct displ_wl_present *p = malloc(sizeof(*p));

		if (p) {
			p->o = o;
			p->start_us = o->show_us;
			wp_presentation_feedback_add_listener(
				wp_presentation_feedback(wl->presentation, o->surface),
				&displ_wl_feedback_ev_listener, p);
		}
	}
	wl_surface_commit(o->surface);
	o->shown = fb;
	o->commits++;
	displ_wl_flush(wl);
}

static void displ_wl_configure(void *data, struct xdg_surface *xs, uint32_t serial)
{
	struct displ_wl_out *o = data;

	xdg_surface_ack_configure(xs, serial);
	if (!o->configured) {
		o->configured = true;
		displ_wl_kick(o);
	}
	displ_wl_flush(o->wl);
}

static const struct xdg_surface_listener displ_wl_xdg_surface_listener = {
	.configure = displ_wl_configure,
};

static void displ_wl_toplevel_configure(void *data, struct xdg_toplevel *t, int32_t w, int32_t h,
					struct wl_array *states)
{
	(void)data;
	(void)t;
	(void)w;
	(void)h;
	(void)states;
}

static void displ_wl_toplevel_close(void *data, struct xdg_toplevel *t)
{
	struct displ_wl_out *o = data;

	(void)t;
	/* The guest decides when its display goes. */
	displ_log(o->conn->front, o->conn->index, "the compositor asks to close the window: ignored");
}

static const struct xdg_toplevel_listener displ_wl_toplevel_listener = {
	.configure = displ_wl_toplevel_configure,
	.close = displ_wl_toplevel_close,
};

/*
 * A wl_shm pool of @size zeroed bytes in a new memfd, mapped at *@map
 * unless @map is NULL.  Returns the pool, or NULL with errno set.
 */
static struct wl_shm_pool *displ_wl_pool(struct displ_wl *wl, const char *name, size_t size,
					 uint8_t **map)
{
	struct wl_shm_pool *pool = NULL;
	int fd, err;
	void *m;

	if (!wl->shm || !size || size > INT32_MAX) {
		errno = EINVAL;
		return NULL;
	}
	fd = memfd_create(name, MFD_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (ftruncate(fd, size))
		goto out_close;
	if (map) {
		m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (m == MAP_FAILED)
			goto out_close;
		*map = m;
	}
	pool = wl_shm_create_pool(wl->shm, fd, size);
out_close:
	err = errno;
	close(fd);
	errno = err;
	return pool;
}

/* A wl_shm buffer of @w x @h black pixels (memfd pages are zero). */
static struct wl_buffer *displ_wl_black_buffer(struct displ_wl *wl, uint32_t w, uint32_t h)
{
	struct wl_shm_pool *pool = displ_wl_pool(wl, "gntdmabuf-displ-black", (size_t)w * 4 * h, NULL);
	struct wl_buffer *buffer;

	if (!pool)
		return NULL;
	buffer = wl_shm_pool_create_buffer(pool, 0, w, h, w * 4, WL_SHM_FORMAT_XRGB8888);
	wl_shm_pool_destroy(pool);
	return buffer;
}

/* A new window for @o's connector, to be mapped at its first configure. */
static void displ_wl_surface_create(struct displ_wl_out *o)
{
	struct displ_wl *wl = o->wl;
	struct displ_conn *c = o->conn;
	char title[96];

	o->gen++;
	o->surface = wl_compositor_create_surface(wl->compositor);
	o->xdg_surface = xdg_wm_base_get_xdg_surface(wl->wm_base, o->surface);
	xdg_surface_add_listener(o->xdg_surface, &displ_wl_xdg_surface_listener, o);
	o->toplevel = xdg_surface_get_toplevel(o->xdg_surface);
	xdg_toplevel_add_listener(o->toplevel, &displ_wl_toplevel_listener, o);
	snprintf(title, sizeof(title), "domain %u vdispl %u connector %u", c->front->domid,
		 c->front->devid, c->index);
	xdg_toplevel_set_title(o->toplevel, title);
	xdg_toplevel_set_app_id(o->toplevel, "gntdmabuf-displ");
	/* The guest's mode is the size; the compositor may not resize it. */
	xdg_toplevel_set_min_size(o->toplevel, c->width, c->height);
	xdg_toplevel_set_max_size(o->toplevel, c->width, c->height);
	if (wl->opts.fullscreen)
		xdg_toplevel_set_fullscreen(o->toplevel, NULL);
	/* The first commit, without a buffer: mapped at the configure it brings. */
	o->configured = false;
	wl_surface_commit(o->surface);
}

/* The window goes; a frame that waited for it is done. */
static void displ_wl_surface_destroy(struct displ_wl_out *o)
{
	displ_wl_frame_end(o);
	xdg_toplevel_destroy(o->toplevel);
	xdg_surface_destroy(o->xdg_surface);
	wl_surface_destroy(o->surface);
	o->shown = NULL;
	o->configured = false;
}

static int displ_wl_conn_add(void *priv, struct displ_conn *c)
{
	struct displ_wl *wl = priv;
	struct displ_wl_out *o = NULL;

	for (unsigned int i = 0; i < DISPL_WL_MAX_SURFACES && !o; i++)
		if (!wl->out[i].conn)
			o = &wl->out[i];
	if (!o)
		return -ENOSPC;
	/* The generation goes on: a buffer's mark of an earlier window is stale. */
	*o = (struct displ_wl_out){ .wl = wl, .conn = c, .gen = o->gen };
	o->black = displ_wl_black_buffer(wl, c->width, c->height);
	displ_wl_surface_create(o);
	c->sink_priv = o;
	displ_wl_flush(wl);
	displ_log(c->front, c->index, "shown as the compositor's window \"domain %u vdispl %u connector %u\"",
		  c->front->domid, c->front->devid, c->index);
	return 0;
}

static void displ_wl_conn_remove(void *priv, struct displ_conn *c)
{
	struct displ_wl *wl = priv;
	struct displ_wl_out *o = c->sink_priv;

	if (!o)
		return;
	displ_wl_surface_destroy(o);
	if (o->black)
		wl_buffer_destroy(o->black);
	displ_wl_flush(wl);
	displ_log(c->front, c->index, "%llu commits, %llu presented (%llu us from flip to presentation), %llu discarded, %llu bytes copied",
		  (unsigned long long)o->commits, (unsigned long long)o->presented,
		  (unsigned long long)(o->presented ? o->present_us / o->presented : 0),
		  (unsigned long long)o->discarded, (unsigned long long)o->copied);
	o->conn = NULL;
	c->sink_priv = NULL;
}

/* linux-dmabuf's answer to one buffer's parameters. */
struct displ_wl_create {
	struct wl_buffer *buffer;
	bool done;
};

static void displ_wl_created(void *data, struct zwp_linux_buffer_params_v1 *p,
			     struct wl_buffer *buffer)
{
	struct displ_wl_create *cr = data;

	(void)p;
	cr->buffer = buffer;
	cr->done = true;
}

static void displ_wl_failed(void *data, struct zwp_linux_buffer_params_v1 *p)
{
	(void)p;
	((struct displ_wl_create *)data)->done = true;
}

static const struct zwp_linux_buffer_params_v1_listener displ_wl_params_listener = {
	.created = displ_wl_created,
	.failed = displ_wl_failed,
};

/* The compositor imports the dma-buf; waits for its answer. */
static struct wl_buffer *displ_wl_import(struct displ_wl *wl, const struct displ_fb *fb,
					 uint64_t mod)
{
	struct displ_wl_create cr = { 0 };
	struct zwp_linux_buffer_params_v1 *p;
	struct displ_frame fr;

	displ_fb_frame(fb, &fr);
	p = zwp_linux_dmabuf_v1_create_params(wl->dmabuf);
	wl_proxy_set_queue((struct wl_proxy *)p, wl->queue);
	zwp_linux_buffer_params_v1_add_listener(p, &displ_wl_params_listener, &cr);
	zwp_linux_buffer_params_v1_add(p, fr.fd, 0, fr.offset, fr.pitch, mod >> 32,
				       (uint32_t)mod);
	zwp_linux_buffer_params_v1_create(p, fr.width, fr.height, fr.format, 0);
	while (!cr.done)
		if (wl_display_dispatch_queue(wl->display, wl->queue) < 0)
			break;
	zwp_linux_buffer_params_v1_destroy(p);
	displ_wl_wake(wl);
	/* Its events belong to the main queue from now on. */
	if (cr.buffer)
		wl_proxy_set_queue((struct wl_proxy *)cr.buffer, NULL);
	return cr.buffer;
}

/* Two slots of a wl_shm pool, and the dma-buf mapped to copy from. */
static int displ_wl_shm_setup(struct displ_wl *wl, const struct displ_fb *fb,
			      struct displ_wl_buf *b)
{
	size_t slot = (size_t)fb->pitch * fb->height;
	struct displ_frame fr;
	struct wl_shm_pool *pool;
	int ret = 0;

	displ_fb_frame(fb, &fr);
	if (slot * DISPL_WL_SHM_SLOTS > INT32_MAX)
		return -EINVAL;
	b->src_size = fb->dbuf->size;
	b->src_map = mmap(NULL, b->src_size, PROT_READ, MAP_SHARED, fr.fd, 0);
	if (b->src_map == MAP_FAILED) {
		b->src_map = NULL;
		return -errno;
	}
	b->src_fd = fr.fd;
	pool = displ_wl_pool(wl, "gntdmabuf-displ-shm", slot * DISPL_WL_SHM_SLOTS, &b->shm_map);
	if (!pool) {
		ret = -errno;
		goto err_unmap_src;
	}
	b->shm_size = slot * DISPL_WL_SHM_SLOTS;
	for (int i = 0; i < DISPL_WL_SHM_SLOTS; i++) {
		b->slot[i] = wl_shm_pool_create_buffer(pool, i * slot, fb->width, fb->height,
						       fb->pitch, displ_wl_shm_format(fb->format));
		wl_buffer_add_listener(b->slot[i], &displ_wl_slot_listener, b);
	}
	wl_shm_pool_destroy(pool);
	return 0;

err_unmap_src:
	munmap(b->src_map, b->src_size);
	b->src_map = NULL;
	return ret;
}

/*
 * FB_ATTACH: the compositor imports the buffer now, so that a buffer it
 * cannot take is refused here and not on its first flip.
 */
static int displ_wl_fb_add(void *priv, struct displ_front *f, struct displ_fb *fb)
{
	struct displ_wl *wl = priv;
	struct displ_wl_buf *b = calloc(1, sizeof(*b));
	bool shm = wl->opts.buffers == DISPL_WL_BUFFERS_SHM;
	uint64_t mod;
	int ret;

	if (!b)
		return -ENOMEM;
	if (!shm) {
		if (!wl->dmabuf || !displ_wl_modifier(wl, fb->format, &mod))
			displ_log(f, -1, "the compositor cannot import format %#x as a linear dma-buf%s",
				  fb->format, wl->dmabuf ? "" : " (no zwp_linux_dmabuf_v1)");
		else if (!(b->buffer = displ_wl_import(wl, fb, mod)))
			displ_log(f, -1, "the compositor refused buffer %#llx (%ux%u, format %#x, pitch %u)",
				  (unsigned long long)fb->dbuf->cookie, fb->width, fb->height,
				  fb->format, fb->pitch);
		if (!b->buffer) {
			if (wl->opts.buffers != DISPL_WL_BUFFERS_AUTO) {
				free(b);
				return -EINVAL;
			}
			displ_log(f, -1, "buffer %#llx goes through wl_shm, copied on every flip",
				  (unsigned long long)fb->dbuf->cookie);
			shm = true;
		}
	}
	if (shm) {
		if (!wl->shm || !displ_wl_has_shm(wl, fb->format)) {
			displ_log(f, -1, "the compositor's wl_shm has no format %#x", fb->format);
			free(b);
			return -EINVAL;
		}
		ret = displ_wl_shm_setup(wl, fb, b);
		if (ret) {
			displ_log(f, -1, "cannot set up wl_shm for buffer %#llx: %s",
				  (unsigned long long)fb->dbuf->cookie, strerror(-ret));
			free(b);
			return -EINVAL;
		}
	}
	fb->sink_priv = b;
	displ_wl_flush(wl);
	return 0;
}

/* The window goes black (SET_CONFIG to nothing: the guest's display is off). */
static void displ_wl_black(struct displ_wl_out *o)
{
	displ_wl_frame_end(o);
	o->shown = NULL;
	o->want_black = true;
	displ_wl_kick(o);
}

static void displ_wl_fb_gone(void *priv, const struct displ_fb *fb)
{
	struct displ_wl *wl = priv;
	struct displ_wl_buf *b = fb->sink_priv;

	if (!b)
		return;
	for (unsigned int i = 0; i < DISPL_WL_MAX_SURFACES; i++) {
		struct displ_wl_out *o = &wl->out[i];

		if (!o->conn)
			continue;
		/* A flip to it that waits: dropped, and its event still comes. */
		if (o->next == fb) {
			o->next = NULL;
			if (o->conn->flip_pending == fb)
				displ_flip_done(o->conn);
		}
		/*
		 * Attached to this window: Weston may keep a surface's
		 * earlier buffer (its import cached, or as the content of a
		 * surface it does not paint) for as long as the surface
		 * lives, and with it the guest's pages.  Only the window's
		 * end lets go of it for sure: a new window takes its place.
		 */
		if (b->attached[i] && b->attached[i] == o->gen) {
			if (wl->be->verbose)
				displ_log(o->conn->front, o->conn->index,
					  "buffer %#llx was on the window: a new window",
					  (unsigned long long)fb->dbuf->cookie);
			displ_wl_surface_destroy(o);
			displ_wl_surface_create(o);
			/*
			 * Shown black at once: Mesa frees what the old window's
			 * textures held (its import of the guest's pages) only
			 * when it draws again.
			 */
			o->want_black = true;
		}
	}
	if (b->buffer)
		wl_buffer_destroy(b->buffer);
	for (int i = 0; i < DISPL_WL_SHM_SLOTS; i++)
		if (b->slot[i])
			wl_buffer_destroy(b->slot[i]);
	if (b->shm_map)
		munmap(b->shm_map, b->shm_size);
	if (b->src_map)
		munmap(b->src_map, b->src_size);
	free(b);
	((struct displ_fb *)fb)->sink_priv = NULL;
	displ_wl_flush(wl);
}

static int displ_wl_show(void *priv, struct displ_conn *c, const struct displ_frame *fr)
{
	struct displ_wl_out *o = c->sink_priv;

	(void)priv;
	if (!o || !fr->fb->sink_priv)
		return -EINVAL;
	/* Newest wins: the frame in between was never shown. */
	o->next = fr->fb;
	o->show_us = displ_wl_clock_us(o->wl->present_clock);
	displ_wl_kick(o);
	return 0;
}

static void displ_wl_blank(void *priv, struct displ_conn *c)
{
	struct displ_wl_out *o = c->sink_priv;

	if (!o)
		return;
	o->next = NULL;
	if (o->shown)
		displ_wl_black(o);
	displ_wl_flush(o->wl);
	(void)priv;
}

static void displ_wl_event(void *priv, int fd)
{
	struct displ_wl *wl = priv;
	struct pollfd pfd = { .fd = wl_display_get_fd(wl->display), .events = POLLIN };
	uint64_t n;
	int ret = 0;

	if (fd == wl->wake && read(wl->wake, &n, sizeof(n)) < 0 && errno != EAGAIN)
		displ_log(NULL, -1, "eventfd: %m");
	/* What is queued, then what the socket has, without blocking. */
	while (ret >= 0 && wl_display_prepare_read(wl->display))
		ret = wl_display_dispatch_pending(wl->display);
	if (ret >= 0) {
		if (poll(&pfd, 1, 0) == 1)
			ret = wl_display_read_events(wl->display);
		else
			wl_display_cancel_read(wl->display);
	}
	if (ret >= 0)
		ret = wl_display_dispatch_pending(wl->display);
	if (ret < 0) {
		displ_log(NULL, -1, "the compositor's connection is gone: %s",
			  strerror(wl_display_get_error(wl->display)));
		/* Nothing can be shown any more: the backend ends, to be restarted. */
		wl->be->exit_status = 1;
		kill(getpid(), SIGTERM);
		return;
	}
	/* Frame callbacks may have committed more. */
	for (unsigned int i = 0; i < DISPL_WL_MAX_SURFACES; i++)
		if (wl->out[i].conn)
			displ_wl_kick(&wl->out[i]);
	displ_wl_flush(wl);
}

/* Reads output @i back through Weston's capture protocol into a PNG. */
static int displ_wl_capture_output(struct displ_wl *wl, unsigned int i, const char *path)
{
	struct displ_wcap st = { 0 };
	struct wl_proxy *src, *wrapped = wl_proxy_create_wrapper(wl->capture);
	struct displ_frame fr = { 0 };
	struct wl_shm_pool *pool;
	struct wl_buffer *buffer;
	size_t size;
	uint8_t *map;
	int ret = 0, tries = 0;

	if (!wrapped)
		return -ENOMEM;
	wl_proxy_set_queue(wrapped, wl->queue);
	src = wl_proxy_marshal_flags(wrapped, 1, &displ_wcap_source_interface, 1, 0,
				     wl->outputs[i], DISPL_WCAP_SOURCE_FRAMEBUFFER, NULL);
	wl_proxy_wrapper_destroy(wrapped);
	wl_proxy_add_listener(src, (void (**)(void))&displ_wcap_listener, &st);
	if (wl_display_roundtrip_queue(wl->display, wl->queue) < 0 || st.width <= 0 ||
	    st.height <= 0 || (st.format != DRM_FORMAT_XRGB8888 && st.format != DRM_FORMAT_ARGB8888)) {
		ret = -EPROTO;
		goto out_src;
	}
	fr.width = st.width;
	fr.height = st.height;
	fr.pitch = fr.width * 4;
	fr.cpp = 4;
	fr.format = st.format;
	size = (size_t)fr.pitch * fr.height;
	pool = displ_wl_pool(wl, "gntdmabuf-displ-capture", size, &map);
	if (!pool) {
		ret = -errno;
		goto out_src;
	}
	buffer = wl_shm_pool_create_buffer(pool, 0, fr.width, fr.height, fr.pitch,
					   displ_wl_shm_format(st.format));
	wl_shm_pool_destroy(pool);
	do {
		st.state = 0;
		wl_proxy_marshal_flags(src, 1, NULL, 1, 0, buffer);
		while (!st.state)
			if (wl_display_dispatch_queue(wl->display, wl->queue) < 0)
				st.state = -1;
	} while (st.state == 2 && ++tries < 10);
	if (st.state == 1)
		ret = displ_png_write(path, &fr, map);
	else
		ret = -EIO;
	wl_buffer_destroy(buffer);
	munmap(map, size);
out_src:
	wl_proxy_marshal_flags(src, 0, NULL, 1, WL_MARSHAL_FLAG_DESTROY);
	displ_wl_wake(wl);
	displ_wl_flush(wl);
	return ret;
}

static void displ_wl_signal(void *priv)
{
	struct displ_wl *wl = priv;
	char path[600];

	if (!wl->opts.capture_dir)
		return;
	if (!wl->capture || !wl->shm) {
		displ_log(NULL, -1, "the compositor offers no weston_capture_v1 (weston --debug): no capture");
		return;
	}
	for (unsigned int i = 0; i < wl->noutputs; i++) {
		int ret;

		snprintf(path, sizeof(path), "%s/compositor-%u.png", wl->opts.capture_dir, i);
		ret = displ_wl_capture_output(wl, i, path);
		if (ret)
			displ_log(NULL, -1, "cannot capture the compositor's output %u: %s", i,
				  strerror(-ret));
		else
			displ_log(NULL, -1, "%s written (compositor capture)", path);
	}
}

static void displ_wl_destroy(void *priv)
{
	struct displ_wl *wl = priv;

	if (wl->table)
		munmap((void *)wl->table, wl->table_len * sizeof(*wl->table));
	wl_display_disconnect(wl->display);
	close(wl->wake);
	free(wl);
}

static const struct displ_sink_ops displ_wl_ops = {
	.name = "wayland",
	.conn_add = displ_wl_conn_add,
	.conn_remove = displ_wl_conn_remove,
	.fb_add = displ_wl_fb_add,
	.show = displ_wl_show,
	.blank = displ_wl_blank,
	.fb_gone = displ_wl_fb_gone,
	.event = displ_wl_event,
	.signal = displ_wl_signal,
	.destroy = displ_wl_destroy,
};

/**
 * displ_wayland_parse_buffers() - the value of --wayland-buffers
 * @s: dmabuf, auto or shm
 *
 * Return: a DISPL_WL_BUFFERS_* value, or -EINVAL.
 */
int displ_wayland_parse_buffers(const char *s)
{
	if (!strcmp(s, "dmabuf"))
		return DISPL_WL_BUFFERS_DMABUF;
	if (!strcmp(s, "auto"))
		return DISPL_WL_BUFFERS_AUTO;
	if (!strcmp(s, "shm"))
		return DISPL_WL_BUFFERS_SHM;
	return -EINVAL;
}

/**
 * displ_wayland_create() - connect to the compositor
 * @be: the backend
 * @opts: --wayland-* options
 * @sink: filled in
 *
 * Return: 0; -ECONNREFUSED when no compositor answers; -ENOTSUP when it
 * lacks wl_compositor 4 or xdg_wm_base, or, with dmabuf buffers only,
 * zwp_linux_dmabuf_v1 3; -ENOMEM.
 */
int displ_wayland_create(struct displ_backend *be, const struct displ_wayland_opts *opts,
			 struct displ_sink *sink)
{
	struct displ_wl *wl = calloc(1, sizeof(*wl));
	int ret;

	if (!wl)
		return -ENOMEM;
	wl->be = be;
	wl->opts = *opts;
	wl->present_clock = CLOCK_MONOTONIC;
	wl->display = wl_display_connect(opts->display);
	if (!wl->display) {
		ret = -ECONNREFUSED;
		goto err_free;
	}
	wl->queue = wl_display_create_queue(wl->display);
	wl->registry = wl_display_get_registry(wl->display);
	wl_registry_add_listener(wl->registry, &displ_wl_registry_listener, wl);
	/* The globals, then their first events (formats, clock). */
	if (wl_display_roundtrip(wl->display) < 0 || wl_display_roundtrip(wl->display) < 0) {
		ret = -ECONNREFUSED;
		goto err_disconnect;
	}
	if (wl->dmabuf && wl->dmabuf_version >= 4) {
		struct zwp_linux_dmabuf_feedback_v1 *fb =
			zwp_linux_dmabuf_v1_get_default_feedback(wl->dmabuf);

		zwp_linux_dmabuf_feedback_v1_add_listener(fb, &displ_wl_feedback_listener, wl);
		while (!wl->feedback_done)
			if (wl_display_dispatch(wl->display) < 0)
				break;
		zwp_linux_dmabuf_feedback_v1_destroy(fb);
	}
	if (!wl->compositor || !wl->wm_base ||
	    (!wl->dmabuf && opts->buffers == DISPL_WL_BUFFERS_DMABUF) ||
	    (!wl->shm && opts->buffers == DISPL_WL_BUFFERS_SHM)) {
		displ_log(NULL, -1, "the compositor lacks %s",
			  !wl->compositor ? "wl_compositor version 4" :
			  !wl->wm_base ? "xdg_wm_base" :
			  !wl->shm ? "wl_shm" :
			  "zwp_linux_dmabuf_v1 version 3 (try --wayland-buffers=auto)");
		ret = -ENOTSUP;
		goto err_disconnect;
	}
	wl->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (wl->wake < 0) {
		ret = -errno;
		goto err_disconnect;
	}
	ret = displ_sink_watch(be, wl_display_get_fd(wl->display));
	if (!ret)
		ret = displ_sink_watch(be, wl->wake);
	if (ret)
		goto err_close;
	{
		uint64_t mod;
		bool xrgb = displ_wl_modifier(wl, DRM_FORMAT_XRGB8888, &mod);

		displ_log(NULL, -1, "compositor: linux-dmabuf v%u with %u format/modifier pairs (XRGB8888 %s), wl_shm %s, %s, %s",
			  wl->dmabuf ? wl->dmabuf_version : 0, wl->nformats,
			  xrgb ? (mod == DRM_FORMAT_MOD_LINEAR ? "linear" : "implicit") : "no",
			  wl->shm ? "yes" : "no",
			  wl->presentation ? "presentation feedback" : "no presentation feedback",
			  wl->capture ? "output capture" : "no output capture");
	}
	sink->ops = &displ_wl_ops;
	sink->priv = wl;
	return 0;

err_close:
	close(wl->wake);
err_disconnect:
	if (wl->table)
		munmap((void *)wl->table, wl->table_len * sizeof(*wl->table));
	wl_display_disconnect(wl->display);
err_free:
	free(wl);
	return ret;
}
