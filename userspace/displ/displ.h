/* SPDX-License-Identifier: MIT */
/*
 * gntdmabuf-displ: a Xen PV display backend (xen/io/displif.h) that turns
 * every frontend buffer into a dma-buf with libgntdmabuf, with no copy on
 * any frame.  The state of one process: the frontends it serves, their
 * connectors, display buffers and framebuffers.
 */
#ifndef DISPL_H
#define DISPL_H

/*
 * The current interface of Xen's public headers, as Xen's own tools use
 * it; they get xen/io/ring.h's barriers from xenctrl.h, we define them.
 */
#define __XEN_TOOLS__ 1
#define xen_mb()	__atomic_thread_fence(__ATOMIC_SEQ_CST)
#define xen_rmb()	__atomic_thread_fence(__ATOMIC_ACQUIRE)
#define xen_wmb()	__atomic_thread_fence(__ATOMIC_RELEASE)

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include <xenevtchn.h>
#include <xengnttab.h>
#include <xenstore.h>
#include <xen/io/displif.h>

#include "gntdmabuf.h"

#define DISPL_MAX_CONNECTORS	8

struct displ_sink;

/* Counters of one frontend, reported on SIGUSR1 and at exit. */
struct displ_stats {
	uint64_t requests;
	uint64_t errors;		/* requests answered with an error */
	uint64_t flips;
	uint64_t events;
	uint64_t copied_bytes;		/* 0 unless --copy */
	/* DBUF_CREATEs that succeeded, and where their time went (us) */
	uint64_t creates, create_us, directory_us, export_us;
	/* flips shown, and their time from request to event (us) */
	uint64_t flips_done, flip_us;
	uint64_t flips_superseded;	/* replaced by the next before shown */
};

/* Per-frontend limits on top of the module's quotas (see --help). */
struct displ_limits {
	uint32_t max_dbufs;
	uint32_t max_fbs;
	uint32_t max_pages;		/* over all of a frontend's buffers */
};

/* A display buffer: the frontend's pages as one of our exports. */
struct displ_dbuf {
	struct displ_dbuf *next;
	uint64_t cookie;
	uint32_t width, height, bpp;	/* 0 for an imported (PRIME) buffer */
	uint32_t size;			/* buffer_sz */
	uint32_t offset;		/* data_ofs */
	uint32_t pages;
	int fd;				/* the dma-buf; -1 once closed */
	uint64_t export_id;		/* of the frontend's pages, or 0 */
	uint64_t import_id;		/* be-alloc: of dom0's pages, or 0 */
	unsigned int fbs;		/* framebuffers on it */
	/* --copy: the guest's pages (stock gntdev) and our copy of them */
	void *grant_map;
	uint8_t *copy_map;
	int memfd;			/* udmabuf's, or -1 */
	uint32_t vgem_handle;		/* or vgem's dumb buffer */
};

/* A framebuffer: a view of a display buffer with a size and a format. */
struct displ_fb {
	struct displ_fb *next;
	uint64_t cookie;
	struct displ_dbuf *dbuf;
	uint32_t width, height, format;	/* DRM fourcc */
	uint32_t pitch, cpp;
	int shown;			/* connectors showing it */
	uint32_t sink_fb;		/* the sink's name for it (a KMS framebuffer) */
	void *sink_priv;		/* or what the sink keeps for it */
};

struct displ_front;

/* One connector: its rings, its event ids and what it shows. */
struct displ_conn {
	struct displ_front *front;
	unsigned int index;
	uint32_t width, height;		/* "resolution" */
	char unique_id[64];
	xen_displif_back_ring_t ring;
	struct xendispl_event_page *evt_page;
	evtchn_port_t req_port, evt_port;	/* local ports */
	uint16_t evt_id;
	struct displ_fb *fb;		/* on screen (SET_CONFIG, PG_FLIP) */
	struct displ_fb *flip_pending;	/* waits for the sink */
	uint32_t flip_seq;		/* counts PG_FLIPs taken */
	uint64_t flip_start_us;		/* when its request was read */
	uint64_t frames;
	void *sink_priv;
};

enum displ_front_state {
	DISPL_FRONT_WAITING,		/* InitWait written, frontend not ready */
	DISPL_FRONT_CONNECTED,
	DISPL_FRONT_CLOSED,
};

/* A display buffer whose release is awaited before its destroy reply. */
struct displ_pending_destroy {
	uint16_t req_id;
	uint64_t export_id;
	uint64_t deadline_ms;
	bool active;
};

/* Where backend-allocated (be-alloc) buffers come from (displ-alloc.c). */
enum displ_alloc {
	DISPL_ALLOC_AUTO,
	DISPL_ALLOC_KMS,
	DISPL_ALLOC_HEAP,
	DISPL_ALLOC_UDMABUF,
	DISPL_ALLOC_VGEM,
};

/* One vdispl device of one domain. */
struct displ_front {
	struct displ_front *next;
	struct displ_backend *be;
	uint32_t domid, devid;
	char be_path[128], fe_path[128];
	enum displ_front_state state;
	bool be_alloc;
	unsigned int nconns;
	struct displ_conn conns[DISPL_MAX_CONNECTORS];
	struct displ_dbuf *dbufs;
	struct displ_fb *fbs;
	uint32_t pages;			/* over all dbufs */
	struct displ_pending_destroy destroy;
	struct displ_stats stats;
	bool offline;			/* the toolstack removes the device */
	bool resume;			/* connector 0's ring to be read again */
	bool gone;			/* to be freed by the main loop */
};

/* A destroyed buffer's export whose release came after its reply. */
struct displ_deferred {
	uint64_t export_id;
	uint32_t domid, devid;
	uint64_t since_ms;
};

/* The process: its handles and every frontend. */
struct displ_backend {
	struct xs_handle *xs;
	xenevtchn_handle *xce;
	xengnttab_handle *xgt;
	struct gntdmabuf *gdb;
	int epfd;
	struct displ_front *fronts;
	struct displ_sink *sink;
	struct displ_limits limits;
	uint32_t destroy_timeout_ms;
	bool copy;			/* --copy: map with gntdev, copy each frame */
	int udmabuf;			/* /dev/udmabuf, for --copy or be-alloc, or -1 */
	int vgem;			/* a vgem card, for the same, or -1 */
	int heap;			/* the system dma-heap, for be-alloc, or -1 */
	enum displ_alloc alloc;		/* be-alloc's allocator (--alloc) */
	enum displ_alloc alloc_fallback; /* auto with kms: for what kms cannot lay out */
	bool alloc_ready;		/* ... opened (at the first be-alloc frontend) */
	/*
	 * Destroyed buffers that a dom0 importer still held when their
	 * reply went: the module releases them when it lets go.
	 */
	struct displ_deferred *deferred;
	unsigned int ndeferred, deferred_cap;
	int verbose;
	int exit_status;		/* 1 once a sink lost what it shows on */
};

/* displ-main.c: logs name the domain, the device and the connector (-1: none). */
void displ_log(const struct displ_front *f, int conn, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
uint64_t displ_now_ms(void);
uint64_t displ_now_us(void);

/* displ-xenbus.c */
int displ_xenbus_start(struct displ_backend *be);
void displ_xenbus_event(struct displ_backend *be);
void displ_front_close(struct displ_front *f, const char *why);
void displ_fronts_free_gone(struct displ_backend *be);

/* displ-ring.c */
void displ_conn_event(struct displ_conn *c);
void displ_flip_done(struct displ_conn *c);
void displ_releases(struct displ_backend *be);
void displ_timeouts(struct displ_backend *be);
void displ_resume(struct displ_backend *be);

/* displ-buffer.c */
int displ_dbuf_create(struct displ_front *f, const struct xendispl_dbuf_create_req *r);
int displ_dbuf_destroy(struct displ_front *f, uint64_t cookie, uint64_t *export_id);
int displ_fb_attach(struct displ_front *f, const struct xendispl_fb_attach_req *r);
int displ_fb_detach(struct displ_front *f, uint64_t cookie);
struct displ_fb *displ_fb_find(struct displ_front *f, uint64_t cookie);
void displ_front_free_buffers(struct displ_front *f);
int displ_format_cpp(uint32_t fourcc);
int displ_directory(struct displ_front *f, grant_ref_t ref, uint32_t *refs, uint32_t count,
		    bool write);

/* displ-alloc.c */
int displ_alloc_parse(const char *name);
const char *displ_alloc_name(enum displ_alloc a);
int displ_alloc_open(struct displ_backend *be);
int displ_alloc_create(struct displ_front *f, struct displ_dbuf *d,
		       const struct xendispl_dbuf_create_req *r);
void displ_alloc_destroy(struct displ_backend *be, struct displ_dbuf *d);

/* displ-copy.c */
int displ_vgem_open(void);
int displ_vgem_dmabuf(int vgem, uint32_t pages, int *fd, uint32_t *handle, uint8_t **map);
int displ_copy_open(struct displ_backend *be);
int displ_copy_create(struct displ_front *f, struct displ_dbuf *d, uint32_t *refs,
		      uint32_t pages);
void displ_copy_destroy(struct displ_backend *be, struct displ_dbuf *d);
uint64_t displ_copy_frame(const struct displ_fb *fb);

/* displ-edid.c */
size_t displ_edid(uint8_t *edid, size_t size, uint32_t width, uint32_t height);
int displ_get_edid(struct displ_conn *c, const struct xendispl_get_edid_req *r,
		   uint32_t *edid_sz);

#endif /* DISPL_H */
