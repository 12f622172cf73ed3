// SPDX-License-Identifier: MIT
/*
 * gntdmabuf-displ: a connector's request ring and event ring.  Every
 * request is copied out of the shared page once and checked field by
 * field; a frontend that breaks the ring itself (indices that run ahead or
 * backwards) is disconnected, never trusted.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "displ.h"
#include "displ-sink.h"

static bool displ_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--)
		if (*b++)
			return false;
	return true;
}

/* Sends EVT_PG_FLIP for @fb_cookie; a full event ring drops it (logged). */
static void displ_send_flip_event(struct displ_conn *c, uint64_t fb_cookie)
{
	struct xendispl_event_page *page = c->evt_page;
	struct displ_front *f = c->front;
	struct xendispl_evt *evt;
	uint32_t prod, cons;

	prod = page->in_prod;
	cons = __atomic_load_n(&page->in_cons, __ATOMIC_ACQUIRE);
	if (prod - cons >= XENDISPL_IN_RING_LEN) {
		f->stats.errors++;
		if (f->be->verbose)
			displ_log(f, c->index, "event ring full (the frontend does not consume it): flip event dropped");
		return;
	}
	evt = &XENDISPL_IN_RING_REF(page, prod);
	memset(evt, 0, sizeof(*evt));
	evt->id = c->evt_id++;
	evt->type = XENDISPL_EVT_PG_FLIP;
	evt->op.pg_flip.fb_cookie = fb_cookie;
	xen_wmb();
	page->in_prod = prod + 1;
	xenevtchn_notify(f->be->xce, c->evt_port);
	f->stats.events++;
}

/**
 * displ_flip_done() - the sink put @c's pending flip on screen
 * @c: the connector
 *
 * Sends EVT_PG_FLIP for it.  A sink calls it once per show().
 */
void displ_flip_done(struct displ_conn *c)
{
	struct displ_fb *fb = c->flip_pending;

	c->frames++;
	if (!fb)
		return;
	c->flip_pending = NULL;
	displ_send_flip_event(c, fb->cookie);
	c->front->stats.flips_done++;
	c->front->stats.flip_us += displ_now_us() - c->flip_start_us;
}

static int displ_show(struct displ_conn *c, struct displ_fb *fb)
{
	struct displ_backend *be = c->front->be;
	struct displ_frame frame;

	displ_fb_frame(fb, &frame);

	if (c->fb != fb) {
		if (c->fb)
			c->fb->shown--;
		fb->shown++;
		c->fb = fb;
	}
	if (be->copy)
		c->front->stats.copied_bytes += displ_copy_frame(fb);
	return be->sink ? be->sink->ops->show(be->sink->priv, c, &frame) : (displ_flip_done(c), 0);
}

static int displ_set_config(struct displ_conn *c, const struct xendispl_set_config_req *r)
{
	struct displ_backend *be = c->front->be;
	struct displ_fb *fb;

	if (!r->fb_cookie) {
		/* A reset: all zeros. */
		if (!displ_zero(r, sizeof(*r)))
			return -EINVAL;
		if (c->fb) {
			c->fb->shown--;
			c->fb = NULL;
		}
		c->flip_pending = NULL;
		if (be->sink)
			be->sink->ops->blank(be->sink->priv, c);
		return 0;
	}
	fb = displ_fb_find(c->front, r->fb_cookie);
	if (!fb)
		return -ENOENT;
	if (!r->width || !r->height || r->x > c->width || r->y > c->height ||
	    r->width > c->width - r->x || r->height > c->height - r->y)
		return -EINVAL;
	if (r->bpp != fb->cpp * 8)
		return -EINVAL;
	return displ_show(c, fb);
}

/* Checks a flip; the caller shows it after the reply (displ_flip_show()). */
static int displ_page_flip(struct displ_conn *c, const struct xendispl_page_flip_req *r)
{
	struct displ_fb *fb = displ_fb_find(c->front, r->fb_cookie);

	if (!fb)
		return -ENOENT;
	if (!c->fb)		/* not configured: nothing to flip on */
		return -EINVAL;
	/*
	 * xen-drm-front stops waiting for EVT_PG_FLIP after 100 ms and sends
	 * the next flip; refused, it takes the connector for unplugged.  The
	 * newest flip replaces the one the sink has not shown, whose event
	 * never comes: the frontend gave up on it.
	 */
	if (c->flip_pending)
		c->front->stats.flips_superseded++;
	c->front->stats.flips++;
	/* Never 0, which a sink may keep for "no flip". */
	if (!++c->flip_seq)
		c->flip_seq = 1;
	c->flip_pending = fb;
	c->flip_start_us = displ_now_us();
	return 0;
}

/*
 * After PG_FLIP's reply, so that its event never overtakes it: a sink
 * that cannot show the frame drops it, and the event still comes.
 */
static void displ_flip_show(struct displ_conn *c)
{
	int ret = displ_show(c, c->flip_pending);

	if (ret) {
		c->front->stats.errors++;
		displ_log(c->front, c->index, "the sink dropped a frame: %s", strerror(-ret));
		displ_flip_done(c);
	}
}

static void displ_respond(struct displ_conn *c, uint16_t id, uint8_t op, int status,
			  uint32_t edid_sz)
{
	struct displ_front *f = c->front;
	struct xendispl_resp *rsp;
	int notify;

	rsp = RING_GET_RESPONSE(&c->ring, c->ring.rsp_prod_pvt);
	memset(rsp, 0, sizeof(*rsp));
	rsp->id = id;
	rsp->operation = op;
	rsp->status = status;
	if (op == XENDISPL_OP_GET_EDID && !status)
		rsp->op.get_edid.edid_sz = edid_sz;
	c->ring.rsp_prod_pvt++;
	xen_wmb();
	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&c->ring, notify);
	if (notify)
		xenevtchn_notify(f->be->xce, c->req_port);
	if (status)
		f->stats.errors++;
}

/*
 * Carries out one request; returns 1 when the reply waits for a release
 * (DBUF_DESTROY), else 0 after replying.
 */
static int displ_request(struct displ_conn *c, const struct xendispl_req *req)
{
	struct displ_front *f = c->front;
	uint32_t edid_sz = 0;
	uint64_t export_id;
	int status;

	f->stats.requests++;
	/* "All reserved fields ... must be 0"; xen-drm-front zeroes them. */
	if (!displ_zero(req->reserved, sizeof(req->reserved))) {
		status = -EINVAL;
		goto reply;
	}
	switch (req->operation) {
	case XENDISPL_OP_DBUF_CREATE:
	case XENDISPL_OP_DBUF_DESTROY:
	case XENDISPL_OP_FB_ATTACH:
	case XENDISPL_OP_FB_DETACH:
		/* Not connector-specific: connector 0's ring only. */
		if (c->index) {
			status = -EINVAL;
			goto reply;
		}
		break;
	}
	switch (req->operation) {
	case XENDISPL_OP_DBUF_CREATE:
		status = displ_zero((const uint8_t *)&req->op + sizeof(req->op.dbuf_create),
				    sizeof(req->op) - sizeof(req->op.dbuf_create)) ?
			 displ_dbuf_create(f, &req->op.dbuf_create) : -EINVAL;
		break;
	case XENDISPL_OP_DBUF_DESTROY:
		status = displ_dbuf_destroy(f, req->op.dbuf_destroy.dbuf_cookie, &export_id);
		/* Nothing exported (--copy, be-alloc): nothing to wait for. */
		if (!status && export_id) {
			f->destroy.active = true;
			f->destroy.req_id = req->id;
			f->destroy.export_id = export_id;
			f->destroy.deadline_ms = displ_now_ms() + f->be->destroy_timeout_ms;
			/* It may be released already: nobody else held it. */
			displ_releases(f->be);
			return f->destroy.active;
		}
		break;
	case XENDISPL_OP_FB_ATTACH:
		status = displ_fb_attach(f, &req->op.fb_attach);
		break;
	case XENDISPL_OP_FB_DETACH:
		status = displ_fb_detach(f, req->op.fb_detach.fb_cookie);
		break;
	case XENDISPL_OP_SET_CONFIG:
		status = displ_set_config(c, &req->op.set_config);
		break;
	case XENDISPL_OP_PG_FLIP:
		status = displ_page_flip(c, &req->op.pg_flip);
		break;
	case XENDISPL_OP_GET_EDID:
		status = displ_get_edid(c, &req->op.get_edid, &edid_sz);
		break;
	default:
		status = -EINVAL;
		break;
	}
reply:
	if (status && f->be->verbose)
		displ_log(f, c->index, "request %u (operation %#x) refused: %s", req->id,
			  req->operation, strerror(-status));
	displ_respond(c, req->id, req->operation, status, edid_sz);
	if (req->operation == XENDISPL_OP_PG_FLIP && !status)
		displ_flip_show(c);
	return 0;
}

/**
 * displ_conn_event() - the frontend notified @c's request channel
 * @c: the connector
 *
 * Takes every request on the ring, one after the other.  Stops while a
 * DBUF_DESTROY waits for its release: the reply must come first.
 */
void displ_conn_event(struct displ_conn *c)
{
	struct displ_front *f = c->front;
	RING_IDX rp;
	int more;

	do {
		/* Connector 0's ring waits for a destroy's reply. */
		if ((f->destroy.active && !c->index) || f->state != DISPL_FRONT_CONNECTED)
			break;
		rp = c->ring.sring->req_prod;
		xen_rmb();
		if (rp - c->ring.req_cons > RING_SIZE(&c->ring)) {
			displ_front_close(f, "request producer index ahead of the ring");
			break;
		}
		while (c->ring.req_cons != rp) {
			struct xendispl_req req;

			if (RING_REQUEST_CONS_OVERFLOW(&c->ring, c->ring.req_cons)) {
				displ_front_close(f, "requests overrun the responses");
				goto out;
			}
			memcpy(&req, RING_GET_REQUEST(&c->ring, c->ring.req_cons), sizeof(req));
			c->ring.req_cons++;
			if (displ_request(c, &req) || f->state != DISPL_FRONT_CONNECTED)
				goto out;
		}
		RING_FINAL_CHECK_FOR_REQUESTS(&c->ring, more);
	} while (more);
out:
}

/* Remembers an export released after its reply, for the log and the stats. */
static void displ_defer(struct displ_front *f, uint64_t export_id)
{
	struct displ_backend *be = f->be;

	if (be->ndeferred == be->deferred_cap) {
		unsigned int cap = be->deferred_cap ? 2 * be->deferred_cap : 16;
		struct displ_deferred *d = realloc(be->deferred, cap * sizeof(*d));

		/* Only the report is lost: the module releases it anyway. */
		if (!d)
			return;
		be->deferred = d;
		be->deferred_cap = cap;
	}
	be->deferred[be->ndeferred++] = (struct displ_deferred) {
		.export_id = export_id, .domid = f->domid, .devid = f->devid,
		.since_ms = displ_now_ms(),
	};
}

static void displ_finish_destroy(struct displ_front *f, bool released)
{
	f->destroy.active = false;
	if (!released) {
		displ_log(f, 0, "buffer (export %llu) still held after %u ms: replying, the release comes later",
			  (unsigned long long)f->destroy.export_id, f->be->destroy_timeout_ms);
		displ_defer(f, f->destroy.export_id);
	}
	displ_respond(&f->conns[0], f->destroy.req_id, XENDISPL_OP_DBUF_DESTROY, 0, 0);
	/* Not from inside a ring's loop: the main loop reads the ring again. */
	f->resume = true;
}

/**
 * displ_resume() - read the rings that waited for a destroy's reply
 * @be: the backend
 */
void displ_resume(struct displ_backend *be)
{
	for (struct displ_front *f = be->fronts; f; f = f->next) {
		if (!f->resume)
			continue;
		f->resume = false;
		if (f->nconns)
			displ_conn_event(&f->conns[0]);
	}
}

/**
 * displ_releases() - collect the module's release reports
 * @be: the backend
 *
 * A DBUF_DESTROY waiting for one of them gets its reply.
 */
void displ_releases(struct displ_backend *be)
{
	uint64_t ids[64];
	int n;

	while ((n = gntdmabuf_released(be->gdb, ids, 64)) > 0) {
		for (int i = 0; i < n; i++) {
			bool ours = false;

			for (struct displ_front *f = be->fronts; f; f = f->next) {
				if (f->destroy.active && f->destroy.export_id == ids[i]) {
					displ_finish_destroy(f, true);
					ours = true;
				}
			}
			for (unsigned int k = 0; !ours && k < be->ndeferred; k++) {
				struct displ_deferred *d = &be->deferred[k];

				if (d->export_id != ids[i])
					continue;
				displ_log(NULL, -1, "dom%u vdispl%u: buffer (export %llu) released %llu ms after its destroy reply",
					  d->domid, d->devid, (unsigned long long)d->export_id,
					  (unsigned long long)(displ_now_ms() - d->since_ms));
				*d = be->deferred[--be->ndeferred];
				ours = true;
			}
		}
	}
}

/**
 * displ_timeouts() - reply to destroys whose release did not come in time
 * @be: the backend
 */
void displ_timeouts(struct displ_backend *be)
{
	uint64_t now = displ_now_ms();

	for (struct displ_front *f = be->fronts; f; f = f->next)
		if (f->destroy.active && now >= f->destroy.deadline_ms)
			displ_finish_destroy(f, false);
}
