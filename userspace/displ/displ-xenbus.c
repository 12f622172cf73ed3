// SPDX-License-Identifier: MIT
/*
 * gntdmabuf-displ: the xenstore side.  One watch on dom0's
 * backend/vdispl finds every vdispl device of every domain; each device
 * gets its own state machine (InitWait, Connected, Closed and back) driven
 * by a watch on its frontend's state.  A frontend that disconnects,
 * reconnects or disappears affects no other.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <xen/io/xenbus.h>

#include "displ.h"
#include "displ-sink.h"

#define DISPL_TOKEN_DEVICES	"displ-devices"

static char displ_home[64];

/* Reads @dir/@node as text into @buf; false if absent. */
static bool displ_xs_read(struct displ_backend *be, const char *dir, const char *node,
			  char *buf, size_t size)
{
	char path[256];
	unsigned int len;
	char *v;

	snprintf(path, sizeof(path), "%s/%s", dir, node);
	v = xs_read(be->xs, XBT_NULL, path, &len);
	if (!v)
		return false;
	snprintf(buf, size, "%s", v);
	free(v);
	return true;
}

/* Reads an unsigned number, all of it digits; false otherwise. */
static bool displ_xs_uint(struct displ_backend *be, const char *dir, const char *node,
			  uint32_t *val)
{
	char buf[32], *end;
	unsigned long v;

	if (!displ_xs_read(be, dir, node, buf, sizeof(buf)) || !buf[0])
		return false;
	errno = 0;
	v = strtoul(buf, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return false;
	*val = v;
	return true;
}

static void displ_xs_write(struct displ_backend *be, const char *dir, const char *node,
			   const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, node);
	xs_write(be->xs, XBT_NULL, path, val, strlen(val));
}

static void displ_set_state(struct displ_front *f, enum xenbus_state s)
{
	char v[8];

	snprintf(v, sizeof(v), "%d", s);
	displ_xs_write(f->be, f->be_path, "state", v);
	if (f->be->verbose)
		displ_log(f, -1, "backend state %d", s);
}

/* Unmaps and unbinds what displ_conn_connect() set up. */
static void displ_conn_disconnect(struct displ_conn *c)
{
	struct displ_backend *be = c->front->be;

	if (c->sink_priv != NULL || c->ring.sring) {
		if (be->sink)
			be->sink->ops->conn_remove(be->sink->priv, c);
	}
	if (c->ring.sring)
		xengnttab_unmap(be->xgt, c->ring.sring, 1);
	if (c->evt_page)
		xengnttab_unmap(be->xgt, c->evt_page, 1);
	if (c->req_port)
		xenevtchn_unbind(be->xce, c->req_port);
	if (c->evt_port)
		xenevtchn_unbind(be->xce, c->evt_port);
	c->ring.sring = NULL;
	c->evt_page = NULL;
	c->req_port = c->evt_port = 0;
	c->fb = c->flip_pending = NULL;
}

/* Everything a connection holds; the frontend keeps its place. */
static void displ_front_disconnect(struct displ_front *f)
{
	for (unsigned int i = 0; i < f->nconns; i++)
		displ_conn_disconnect(&f->conns[i]);
	displ_front_free_buffers(f);
	f->destroy.active = false;
	f->nconns = 0;
}

static int displ_conn_connect(struct displ_front *f, unsigned int i)
{
	struct displ_backend *be = f->be;
	struct displ_conn *c = &f->conns[i];
	uint32_t req_ref, evt_ref, req_ch, evt_ch;
	char dir[192], res[32];
	xenevtchn_port_or_error_t port;
	struct xen_displif_sring *sring;

	memset(c, 0, sizeof(*c));
	c->front = f;
	c->index = i;
	snprintf(dir, sizeof(dir), "%s/%u", f->fe_path, i);
	if (!displ_xs_read(be, dir, XENDISPL_FIELD_RESOLUTION, res, sizeof(res)) ||
	    sscanf(res, "%ux%u", &c->width, &c->height) != 2 || !c->width || !c->height ||
	    c->width > 16384 || c->height > 16384) {
		displ_log(f, i, "no valid resolution");
		return -EINVAL;
	}
	displ_xs_read(be, dir, XENDISPL_FIELD_UNIQUE_ID, c->unique_id, sizeof(c->unique_id));
	if (!displ_xs_uint(be, dir, XENDISPL_FIELD_REQ_RING_REF, &req_ref) ||
	    !displ_xs_uint(be, dir, XENDISPL_FIELD_EVT_RING_REF, &evt_ref) ||
	    !displ_xs_uint(be, dir, XENDISPL_FIELD_REQ_CHANNEL, &req_ch) ||
	    !displ_xs_uint(be, dir, XENDISPL_FIELD_EVT_CHANNEL, &evt_ch)) {
		displ_log(f, i, "ring references or event channels missing");
		return -EINVAL;
	}
	sring = xengnttab_map_grant_ref(be->xgt, f->domid, req_ref, PROT_READ | PROT_WRITE);
	if (!sring) {
		displ_log(f, i, "cannot map the request ring (ref %u): %m", req_ref);
		return -EINVAL;
	}
	/* The frontend initialised it; our private indices start at 0. */
	BACK_RING_INIT(&c->ring, sring, 4096);
	c->evt_page = xengnttab_map_grant_ref(be->xgt, f->domid, evt_ref, PROT_READ | PROT_WRITE);
	if (!c->evt_page) {
		displ_log(f, i, "cannot map the event ring (ref %u): %m", evt_ref);
		return -EINVAL;
	}
	c->evt_id = 0;
	port = xenevtchn_bind_interdomain(be->xce, f->domid, req_ch);
	if (port < 0) {
		displ_log(f, i, "cannot bind event channel %u: %m", req_ch);
		return -EINVAL;
	}
	c->req_port = port;
	port = xenevtchn_bind_interdomain(be->xce, f->domid, evt_ch);
	if (port < 0) {
		displ_log(f, i, "cannot bind event channel %u: %m", evt_ch);
		return -EINVAL;
	}
	c->evt_port = port;
	if (be->sink && be->sink->ops->conn_add(be->sink->priv, c)) {
		displ_log(f, i, "the %s sink refuses the connector", be->sink->ops->name);
		return -EINVAL;
	}
	return 0;
}

/* The frontend published its rings: map them, then say Connected. */
static void displ_front_connect(struct displ_front *f)
{
	struct displ_backend *be = f->be;
	char v[8] = "";
	unsigned int i;

	displ_xs_read(be, f->fe_path, XENDISPL_FIELD_BE_ALLOC, v, sizeof(v));
	f->be_alloc = !strcmp(v, "1");
	if (f->be_alloc && !be->alloc_ready) {
		if (displ_alloc_open(be)) {
			displ_log(f, -1, "be-alloc: no %s allocator in this dom0 (see --alloc)",
				  displ_alloc_name(be->alloc));
			displ_front_close(f, "no allocator for backend-allocated buffers");
			return;
		}
		be->alloc_ready = true;
		displ_log(NULL, -1, "backend-allocated buffers come from %s%s%s%s",
			  displ_alloc_name(be->alloc),
			  be->alloc_fallback ? " (or, laid out otherwise there, " : "",
			  be->alloc_fallback ? displ_alloc_name(be->alloc_fallback) : "",
			  be->alloc_fallback ? ")" : "");
	}
	for (i = 0; i < DISPL_MAX_CONNECTORS; i++) {
		char dir[192], res[32];

		snprintf(dir, sizeof(dir), "%s/%u", f->fe_path, i);
		if (!displ_xs_read(be, dir, XENDISPL_FIELD_RESOLUTION, res, sizeof(res)))
			break;
	}
	if (!i) {
		displ_front_close(f, "no connector");
		return;
	}
	f->nconns = i;
	for (i = 0; i < f->nconns; i++) {
		if (displ_conn_connect(f, i)) {
			displ_front_close(f, "cannot connect");
			return;
		}
	}
	f->state = DISPL_FRONT_CONNECTED;
	displ_set_state(f, XenbusStateConnected);
	displ_log(f, -1, "connected: %u connector(s), %ux%u first, %s buffers", f->nconns,
		  f->conns[0].width, f->conns[0].height, f->be_alloc ? "backend-allocated" : "frontend");
	/* Requests may be waiting already. */
	for (i = 0; i < f->nconns; i++)
		displ_conn_event(&f->conns[i]);
}

/**
 * displ_front_close() - give up a frontend's connection
 * @f: the frontend
 * @why: for the log
 *
 * Everything it held is released; the backend goes to Closing and waits
 * for the frontend to start again (Initialising) or the device to go.
 */
void displ_front_close(struct displ_front *f, const char *why)
{
	displ_log(f, -1, "closing: %s", why);
	displ_front_disconnect(f);
	f->state = DISPL_FRONT_CLOSED;
	displ_set_state(f, XenbusStateClosing);
}

/* The frontend's state changed (or its node went). */
static void displ_front_changed(struct displ_front *f)
{
	uint32_t st;

	/* Offline, the device is the toolstack's to remove: write nothing more. */
	if (f->offline)
		return;

	if (!displ_xs_uint(f->be, f->fe_path, "state", &st))
		st = XenbusStateUnknown;
	switch (st) {
	case XenbusStateInitialised:
		if (f->state == DISPL_FRONT_WAITING)
			displ_front_connect(f);
		break;
	case XenbusStateConnected:
		/*
		 * Connected while we wait: the rings belong to a backend that
		 * died (SIGKILL) and are in use at indices we cannot know.
		 * Our InitWait makes xen-drm-front start again.
		 */
		if (f->state == DISPL_FRONT_WAITING && f->be->verbose)
			displ_log(f, -1, "frontend connected to an earlier backend: waiting for it to start again");
		break;
	case XenbusStateInitialising:
		/*
		 * A frontend that starts again (driver reloaded, guest
		 * rebooted, recovering from a backend that died).  InitWait
		 * is written again even when it is there already: it is the
		 * change xen-drm-front waits for after its DRM device is
		 * released.
		 */
		if (f->state != DISPL_FRONT_WAITING)
			displ_front_disconnect(f);
		f->state = DISPL_FRONT_WAITING;
		displ_set_state(f, XenbusStateInitWait);
		break;
	case XenbusStateClosing:
	case XenbusStateClosed:
	case XenbusStateUnknown:
		if (f->state == DISPL_FRONT_CONNECTED)
			displ_log(f, -1, "frontend state %u: disconnecting", st);
		if (f->state != DISPL_FRONT_CLOSED || f->nconns)
			displ_front_disconnect(f);
		displ_set_state(f, XenbusStateClosed);
		f->state = DISPL_FRONT_CLOSED;
		/*
		 * A frontend that closed (not one whose node is missing,
		 * still being written or gone with its device) finds us
		 * ready for the next one at once: xen-drm-front's remove
		 * waits (1 s) for InitWait before it lets its driver go.
		 */
		if (st != XenbusStateUnknown) {
			f->state = DISPL_FRONT_WAITING;
			displ_set_state(f, XenbusStateInitWait);
		}
		break;
	default:
		break;
	}
}

/*
 * The toolstack set "online" to 0 (xl vdispl-detach, domain destruction):
 * it waits for the backend to reach Closed before removing the device.
 */
static void displ_online_changed(struct displ_front *f)
{
	uint32_t online = 1;

	if (!displ_xs_uint(f->be, f->be_path, "online", &online) || online || f->offline)
		return;
	f->offline = true;
	if (f->state == DISPL_FRONT_CONNECTED)
		displ_log(f, -1, "the toolstack takes the device offline: disconnecting");
	displ_front_disconnect(f);
	f->state = DISPL_FRONT_CLOSED;
	displ_set_state(f, XenbusStateClosed);
}

static struct displ_front *displ_front_find(struct displ_backend *be, uint32_t domid,
					    uint32_t devid)
{
	for (struct displ_front *f = be->fronts; f; f = f->next)
		if (f->domid == domid && f->devid == devid)
			return f;
	return NULL;
}

static void displ_front_add(struct displ_backend *be, uint32_t domid, uint32_t devid)
{
	struct displ_front *f = calloc(1, sizeof(*f));
	char token[64], path[192];
	uint32_t feid;

	if (!f)
		return;
	f->be = be;
	f->domid = domid;
	f->devid = devid;
	snprintf(f->be_path, sizeof(f->be_path), "%s/backend/vdispl/%u/%u", displ_home, domid, devid);
	if (!displ_xs_read(be, f->be_path, "frontend", f->fe_path, sizeof(f->fe_path)) ||
	    !displ_xs_uint(be, f->be_path, "frontend-id", &feid) || feid != domid) {
		/* The toolstack is still writing the device, or it is bogus. */
		if (be->verbose)
			displ_log(NULL, -1, "%s: no frontend (yet)", f->be_path);
		free(f);
		return;
	}
	f->next = be->fronts;
	be->fronts = f;
	displ_xs_write(be, f->be_path, XENDISPL_FIELD_BE_VERSIONS, "1,2");
	f->state = DISPL_FRONT_WAITING;
	displ_set_state(f, XenbusStateInitWait);
	snprintf(token, sizeof(token), "fe:%u:%u", domid, devid);
	snprintf(path, sizeof(path), "%s/state", f->fe_path);
	xs_watch(be->xs, path, token);
	snprintf(token, sizeof(token), "be:%u:%u", domid, devid);
	snprintf(path, sizeof(path), "%s/online", f->be_path);
	xs_watch(be->xs, path, token);
	displ_log(f, -1, "new device, frontend %s", f->fe_path);
}

static void displ_front_remove(struct displ_front *f)
{
	char token[64], path[192];

	snprintf(token, sizeof(token), "fe:%u:%u", f->domid, f->devid);
	snprintf(path, sizeof(path), "%s/state", f->fe_path);
	xs_unwatch(f->be->xs, path, token);
	snprintf(token, sizeof(token), "be:%u:%u", f->domid, f->devid);
	snprintf(path, sizeof(path), "%s/online", f->be_path);
	xs_unwatch(f->be->xs, path, token);
	displ_front_disconnect(f);
	if (f->stats.creates)
		displ_log(f, -1, "%llu buffers created, %llu us each: %llu reading the directory, %llu exporting",
			  (unsigned long long)f->stats.creates,
			  (unsigned long long)(f->stats.create_us / f->stats.creates),
			  (unsigned long long)(f->stats.directory_us / f->stats.creates),
			  (unsigned long long)(f->stats.export_us / f->stats.creates));
	if (f->stats.flips_done)
		displ_log(f, -1, "%llu flips shown, %llu us each from request to event",
			  (unsigned long long)f->stats.flips_done,
			  (unsigned long long)(f->stats.flip_us / f->stats.flips_done));
	if (f->stats.flips_superseded)
		displ_log(f, -1, "%llu flips replaced by the next before the sink showed them",
			  (unsigned long long)f->stats.flips_superseded);
	displ_log(f, -1, "device gone (%llu requests, %llu refused, %llu flips, %llu copied bytes)",
		  (unsigned long long)f->stats.requests, (unsigned long long)f->stats.errors,
		  (unsigned long long)f->stats.flips, (unsigned long long)f->stats.copied_bytes);
	f->gone = true;
}

/**
 * displ_fronts_free_gone() - free the frontends displ_front_remove() left
 * @be: the backend
 */
void displ_fronts_free_gone(struct displ_backend *be)
{
	struct displ_front **p = &be->fronts, *f;

	while ((f = *p)) {
		if (f->gone) {
			*p = f->next;
			free(f);
		} else {
			p = &f->next;
		}
	}
}

/* Finds devices that appeared or went under backend/vdispl. */
static void displ_scan(struct displ_backend *be)
{
	char base[96], dpath[128];
	unsigned int nd, nv;
	char **doms, **devs;

	snprintf(base, sizeof(base), "%s/backend/vdispl", displ_home);
	for (struct displ_front *f = be->fronts; f; f = f->next) {
		char path[192];
		unsigned int len;
		char *v;

		snprintf(path, sizeof(path), "%s/frontend-id", f->be_path);
		v = xs_read(be->xs, XBT_NULL, path, &len);
		if (!v && !f->gone)
			displ_front_remove(f);
		free(v);
	}
	doms = xs_directory(be->xs, XBT_NULL, base, &nd);
	if (be->verbose > 1)
		displ_log(NULL, -1, "%s: %u domain(s)", base, doms ? nd : 0);
	for (unsigned int i = 0; doms && i < nd; i++) {
		snprintf(dpath, sizeof(dpath), "%s/%s", base, doms[i]);
		devs = xs_directory(be->xs, XBT_NULL, dpath, &nv);
		for (unsigned int k = 0; devs && k < nv; k++) {
			char *e1, *e2;
			unsigned long domid = strtoul(doms[i], &e1, 10);
			unsigned long devid = strtoul(devs[k], &e2, 10);

			if (*e1 || *e2 || domid >= 0x7ff0 || devid > UINT32_MAX)
				continue;
			if (!displ_front_find(be, domid, devid))
				displ_front_add(be, domid, devid);
		}
		free(devs);
	}
	free(doms);
}

/*
 * Whether a change under backend/vdispl can add or remove a device: one
 * of the directories down to a device's, or the nodes that name its
 * frontend.  Not the state and the other nodes we write ourselves, which
 * fire the same watch.
 */
static bool displ_scan_needed(const char *path)
{
	char base[96];
	const char *rel, *node;
	int depth = 0;

	snprintf(base, sizeof(base), "%s/backend/vdispl", displ_home);
	if (strncmp(path, base, strlen(base)))
		return true;
	rel = path + strlen(base);
	for (const char *p = rel; *p; p++)
		depth += *p == '/';
	if (depth <= 2)
		return true;
	node = strrchr(rel, '/') + 1;
	return depth == 3 && (!strcmp(node, "frontend") || !strcmp(node, "frontend-id"));
}

/**
 * displ_xenbus_start() - watch for vdispl devices
 * @be: the backend
 *
 * Return: 0, or -errno when xenstore cannot be used.
 */
int displ_xenbus_start(struct displ_backend *be)
{
	char path[96];
	unsigned int len;
	char *domid = xs_read(be->xs, XBT_NULL, "domid", &len);

	snprintf(displ_home, sizeof(displ_home), "/local/domain/%s", domid ? domid : "0");
	free(domid);
	snprintf(path, sizeof(path), "%s/backend/vdispl", displ_home);
	if (!xs_watch(be->xs, path, DISPL_TOKEN_DEVICES))
		return -errno;
	if (be->verbose)
		displ_log(NULL, -1, "watching %s", path);
	/* Devices that exist already (a restarted backend). */
	displ_scan(be);
	return 0;
}

/**
 * displ_xenbus_event() - xenstore's fd is readable: handle the watches
 * @be: the backend
 */
void displ_xenbus_event(struct displ_backend *be)
{
	char **w;

	while ((w = xs_check_watch(be->xs))) {
		const char *token = w[XS_WATCH_TOKEN];
		unsigned int domid, devid;

		if (be->verbose > 1)
			displ_log(NULL, -1, "watch %s (%s)", w[XS_WATCH_PATH], token);
		if (!strcmp(token, DISPL_TOKEN_DEVICES)) {
			if (displ_scan_needed(w[XS_WATCH_PATH]))
				displ_scan(be);
		} else if (sscanf(token, "fe:%u:%u", &domid, &devid) == 2) {
			struct displ_front *f = displ_front_find(be, domid, devid);

			if (f && !f->gone)
				displ_front_changed(f);
		} else if (sscanf(token, "be:%u:%u", &domid, &devid) == 2) {
			struct displ_front *f = displ_front_find(be, domid, devid);

			if (f && !f->gone)
				displ_online_changed(f);
		}
		free(w);
	}
	displ_fronts_free_gone(be);
}
