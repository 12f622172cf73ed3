// SPDX-License-Identifier: MIT
/*
 * gdmabuf-displ-front: a hostile PV display frontend for the test domU.  It
 * speaks xen/io/displif.h itself (no xen-drm-front) on vdispl device DEVID,
 * which the toolstack created and no driver took, and sends COUNT requests
 * drawn from SEED: valid ones (real buffers, framebuffers, flips, EDID) and
 * malformed ones (unknown operations, reserved bytes, cookies that do not
 * exist or exist twice, bad, repeated and cyclic directories, sizes that
 * overflow, flips of what is not attached), in batches on the ring.  Every
 * request must get a response that echoes its id and operation.  Now and
 * then it breaks the ring itself (a producer index far ahead): the backend
 * must close the connection, and the frontend connects again.  Its event
 * ring is consumed only some of the time.
 *
 *   gdmabuf-displ-front DEVID SEED COUNT
 *   gdmabuf-displ-front DEVID bad
 *   gdmabuf-displ-front DEVID bench WIDTH HEIGHT FLIPS
 *   gdmabuf-displ-front DEVID kms WIDTH HEIGHT
 *   gdmabuf-displ-front DEVID balloc
 *
 * Prints "requests=<n> errors=<refused> ok=<n> reconnects=<n> events=<n>";
 * exit status 0, or 1 with the violation.  With "bad" it sends instead a
 * fixed list of named requests, each with one bad field (every field the
 * backend reads), and checks the exact status of each, then the valid
 * path (an EDID, a flip and its event); it prints "bad-cases=<n>".
 *
 * With "bench" it is a well-behaved frontend for the benchmark, at sizes
 * xen-drm-front cannot take (4095x2047 at most): two XRGB8888 buffers of
 * WIDTH x HEIGHT, five DBUF_CREATE/DBUF_DESTROY rounds of the first
 * (timed from request to response), then FLIPS flips between them, each
 * timed from its request to its EVT_PG_FLIP; it prints "create_us=<median>
 * flip_us=<median> min=<us> max=<us> fps=<flips per second>".
 *
 * With "kms" the backend's sink is a KMS plane and the connector's
 * resolution is WIDTH x HEIGHT: framebuffers the plane cannot take (too
 * small to cover the CRTC, a format it lacks) must be refused at
 * FB_ATTACH with -EINVAL, those it takes accepted, and flips between two
 * of them must each get their event; it prints "kms-cases=<n>
 * flip_us=<median>".
 *
 * With "balloc" the device is be-alloc (the backend allocates): every
 * way a frontend can get REQ_ALLOC wrong gets its exact status, then a
 * buffer the backend allocated is mapped from its references, written
 * and read back, and destroyed; it prints "balloc-cases=<n>".
 */
#define __XEN_TOOLS__ 1
#define xen_mb()	__atomic_thread_fence(__ATOMIC_SEQ_CST)
#define xen_rmb()	__atomic_thread_fence(__ATOMIC_ACQUIRE)
#define xen_wmb()	__atomic_thread_fence(__ATOMIC_RELEASE)

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <xen/xen.h>		/* Xen's public headers (libxen-dev): domid_t */
#include <xen/evtchn.h>		/* Linux's uAPI */
#include <xen/io/displif.h>
#include <xen/io/xenbus.h>
#include <drm_fourcc.h>

#include "gdmabuf_test.h"
#include "xs.h"

#define BATCH		32	/* a whole ring: fewer round trips */
#define COOKIES		6
#define BUF_W		64
#define BUF_H		64
#define BUF_PAGES	(BUF_W * BUF_H * 4 / 4096)
#define EDID_PAGES	(XENDISPL_EDID_MAX_SIZE / 4096)

static struct gd_xs *xs;
static char fe[128], be[160];
static int evfd;
static unsigned int req_port, evt_port;
static struct gd_grant ring_g, evt_g, buf_g, dir_g, cyc_g, edid_g, edid_dir_g;
static struct xen_displif_front_ring ring;
static uint64_t rng;
static unsigned long n_req, n_err, n_ok, n_reconnect, n_evt;

static void die(const char *fmt, const char *arg)
{
	printf("error: ");
	printf(fmt, arg);
	printf(" (after %lu requests)\n", n_req);
	exit(1);
}

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static unsigned int state_of(const char *dir)
{
	char path[200], v[16];

	snprintf(path, sizeof(path), "%s/state", dir);
	return gd_xs_read(xs, path, v, sizeof(v)) > 0 ? strtoul(v, NULL, 10) : 0;
}

static void node(const char *dir, const char *name, unsigned int v)
{
	char path[200], s[16];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(s, sizeof(s), "%u", v);
	if (gd_xs_write(xs, path, s))
		die("cannot write %s", path);
}

static bool wait_state(const char *dir, unsigned int want, int ms)
{
	for (int t = 0; t < ms; t += 10) {
		if (state_of(dir) == want)
			return true;
		usleep(10000);
	}
	return false;
}

static unsigned int bind_unbound(void)
{
	struct ioctl_evtchn_bind_unbound_port op = { .remote_domain = 0 };
	int port = ioctl(evfd, IOCTL_EVTCHN_BIND_UNBOUND_PORT, &op);

	if (port < 0)
		die("cannot allocate an event channel%s", "");
	return port;
}

static void notify(unsigned int port)
{
	struct ioctl_evtchn_notify op = { .port = port };

	ioctl(evfd, IOCTL_EVTCHN_NOTIFY, &op);
}

/* Waits for an event on our channels, up to @ms; unmasks what came. */
static bool wait_event(int ms)
{
	struct pollfd p = { .fd = evfd, .events = POLLIN };
	unsigned int ports[16];
	ssize_t n;

	if (poll(&p, 1, ms) != 1)
		return false;
	n = read(evfd, ports, sizeof(ports));
	if (n > 0 && write(evfd, ports, n) != n)
		die("cannot unmask%s", "");
	return true;
}

/* Sets up both rings and channels and asks the backend to connect. */
static void connect_backend(void)
{
	char c0[160];
	struct xen_displif_sring *sring = (void *)ring_g.map;

	memset(ring_g.map, 0, 4096);
	memset(evt_g.map, 0, 4096);
	SHARED_RING_INIT(sring);
	FRONT_RING_INIT(&ring, sring, 4096);
	if (!wait_state(be, XenbusStateInitWait, 10000))
		die("the backend is not in InitWait%s", "");
	snprintf(c0, sizeof(c0), "%s/0", fe);
	node(c0, XENDISPL_FIELD_REQ_RING_REF, ring_g.refs[0]);
	node(c0, XENDISPL_FIELD_EVT_RING_REF, evt_g.refs[0]);
	node(c0, XENDISPL_FIELD_REQ_CHANNEL, req_port);
	node(c0, XENDISPL_FIELD_EVT_CHANNEL, evt_port);
	node(fe, "state", XenbusStateInitialised);
	for (int t = 0; state_of(be) != XenbusStateConnected; t += 10) {
		/* Refused: Closing says so at once, no need to wait it out. */
		if (state_of(be) == XenbusStateClosing || t >= 10000)
			die("the backend did not connect%s", "");
		usleep(10000);
	}
	node(fe, "state", XenbusStateConnected);
}

/* The backend closed us (as it must after a broken ring): start again. */
static void reconnect(void)
{
	if (!wait_state(be, XenbusStateClosing, 5000) && state_of(be) != XenbusStateClosed)
		die("the backend did not close a broken ring%s", "");
	node(fe, "state", XenbusStateClosed);
	node(fe, "state", XenbusStateInitialising);
	connect_backend();
	n_reconnect++;
}

static uint64_t cookie(void)
{
	/* A few cookies, so that they exist, exist twice or not at all. */
	return rnd() % 16 ? 1 + rnd() % COOKIES : rnd();
}

/* One request, valid or not, into @r. */
static void make_request(struct xendispl_req *r, uint16_t id)
{
	unsigned int kind = rnd() % 20;

	memset(r, 0, sizeof(*r));
	r->id = id;
	switch (kind) {
	case 0 ... 3:
		r->operation = XENDISPL_OP_DBUF_CREATE;
		r->op.dbuf_create.dbuf_cookie = cookie();
		r->op.dbuf_create.width = BUF_W;
		r->op.dbuf_create.height = BUF_H;
		r->op.dbuf_create.bpp = 32;
		r->op.dbuf_create.buffer_sz = BUF_PAGES * 4096;
		r->op.dbuf_create.gref_directory = dir_g.refs[0];
		switch (rnd() % 12) {
		case 0: r->op.dbuf_create.width = rnd(); break;
		case 1: r->op.dbuf_create.height = 0xffffffff; r->op.dbuf_create.bpp = 32; break;
		case 2: r->op.dbuf_create.buffer_sz = rnd(); break;
		case 3: r->op.dbuf_create.data_ofs = r->op.dbuf_create.buffer_sz + rnd() % 8192; break;
		case 4: r->op.dbuf_create.gref_directory = rnd() % 65536; break;
		case 5: r->op.dbuf_create.flags = 1u << (rnd() % 32); break;
		/* a chain longer than its page: the next page points back (a cycle) */
		case 6: r->op.dbuf_create.buffer_sz = 2000 * 4096;
			r->op.dbuf_create.gref_directory = cyc_g.refs[0];
			break;
		case 7: r->op.dbuf_create.bpp = 12; break;
		case 8: r->op.dbuf_create.width = r->op.dbuf_create.height =
			r->op.dbuf_create.bpp = 0;
			break;
		default: break;
		}
		break;
	case 4:
		r->operation = XENDISPL_OP_DBUF_DESTROY;
		r->op.dbuf_destroy.dbuf_cookie = cookie();
		break;
	case 5 ... 7:
		r->operation = XENDISPL_OP_FB_ATTACH;
		r->op.fb_attach.dbuf_cookie = cookie();
		r->op.fb_attach.fb_cookie = cookie();
		r->op.fb_attach.width = rnd() % 4 ? BUF_W : rnd();
		r->op.fb_attach.height = rnd() % 4 ? BUF_H : rnd() % (BUF_H * 2);
		r->op.fb_attach.pixel_format = rnd() % 4 ? DRM_FORMAT_XRGB8888 : (uint32_t)rnd();
		break;
	case 8:
		r->operation = XENDISPL_OP_FB_DETACH;
		r->op.fb_detach.fb_cookie = cookie();
		break;
	case 9 ... 10:
		r->operation = XENDISPL_OP_SET_CONFIG;
		if (rnd() % 5) {
			r->op.set_config.fb_cookie = cookie();
			r->op.set_config.width = rnd() % 4 ? BUF_W : rnd();
			r->op.set_config.height = BUF_H;
			r->op.set_config.x = rnd() % 3 ? 0 : rnd();
			r->op.set_config.bpp = rnd() % 4 ? 32 : rnd() % 64;
		}
		break;
	case 11 ... 14:
		r->operation = XENDISPL_OP_PG_FLIP;
		r->op.pg_flip.fb_cookie = cookie();
		break;
	case 15:
		r->operation = XENDISPL_OP_GET_EDID;
		r->op.get_edid.buffer_sz = rnd() % 4 ? XENDISPL_EDID_MAX_SIZE : rnd() % 65536;
		r->op.get_edid.gref_directory = rnd() % 4 ? edid_dir_g.refs[0] : rnd() % 65536;
		break;
	case 16:
		r->operation = rnd() % 256;
		memset(&r->op, (int)rnd(), sizeof(r->op));
		break;
	case 17:
		r->operation = XENDISPL_OP_PG_FLIP;
		r->reserved[rnd() % 5] = 1 + rnd() % 255;
		break;
	default:
		/* a DBUF_CREATE with a stray byte after its fields */
		r->operation = XENDISPL_OP_DBUF_CREATE;
		r->op.dbuf_create.dbuf_cookie = cookie();
		r->op.dbuf_create.buffer_sz = 4096;
		r->op.dbuf_create.gref_directory = dir_g.refs[0];
		r->op.reserved[50] = 1;
		break;
	}
}

static void consume_events(void)
{
	struct xendispl_event_page *page = (void *)evt_g.map;
	uint32_t prod = __atomic_load_n(&page->in_prod, __ATOMIC_ACQUIRE);

	n_evt += prod - page->in_cons;
	__atomic_store_n(&page->in_cons, prod, __ATOMIC_RELEASE);
}

/* A batch of requests; every one must be answered, in order. */
static void batch(unsigned int n)
{
	struct xendispl_req reqs[BATCH];
	unsigned int got = 0;
	int need;

	for (unsigned int i = 0; i < n; i++) {
		make_request(&reqs[i], (uint16_t)(n_req + i));
		*RING_GET_REQUEST(&ring, ring.req_prod_pvt) = reqs[i];
		ring.req_prod_pvt++;
	}
	/* Always notify: the backend must cope with notifications it did not ask for. */
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&ring, need);
	(void)need;
	notify(req_port);
	while (got < n) {
		while (ring.rsp_cons != ring.sring->rsp_prod && got < n) {
			struct xendispl_resp rsp;

			xen_rmb();
			rsp = *RING_GET_RESPONSE(&ring, ring.rsp_cons);
			ring.rsp_cons++;
			if (rsp.id != reqs[got].id || rsp.operation != reqs[got].operation) {
				char m[96];

				snprintf(m, sizeof(m), "response %u/%#x for request %u/%#x", rsp.id,
					 rsp.operation, reqs[got].id, reqs[got].operation);
				die("%s", m);
			}
			if (rsp.status)
				n_err++;
			else
				n_ok++;
			got++;
		}
		if (got < n) {
			int more;

			/* Asks for a notification, then looks once more, as frontends do. */
			RING_FINAL_CHECK_FOR_RESPONSES(&ring, more);
			if (more)
				continue;
		}
		if (got < n && !wait_event(5000)) {
			if (state_of(be) != XenbusStateConnected)
				die("the backend closed a well-formed ring%s", "");
			die("no response within 5 s%s", "");
		}
	}
	n_req += n;
}

/* One request; its response's status (and the whole response in @out). */
static int32_t call(struct xendispl_req *r, struct xendispl_resp *out)
{
	struct xendispl_resp rsp;
	int need;

	r->id = (uint16_t)n_req++;
	*RING_GET_REQUEST(&ring, ring.req_prod_pvt) = *r;
	ring.req_prod_pvt++;
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&ring, need);
	(void)need;
	notify(req_port);
	for (;;) {
		int more;

		if (ring.rsp_cons != ring.sring->rsp_prod)
			break;
		RING_FINAL_CHECK_FOR_RESPONSES(&ring, more);
		if (!more && !wait_event(5000))
			die("no response within 5 s%s", "");
	}
	xen_rmb();
	rsp = *RING_GET_RESPONSE(&ring, ring.rsp_cons);
	ring.rsp_cons++;
	if (rsp.id != r->id || rsp.operation != r->operation)
		die("a response that does not echo its request%s", "");
	if (out)
		*out = rsp;
	return rsp.status;
}

static unsigned int n_cases;

/* Sends @r, whose case is @name, and checks its status is @want. */
static void expect(const char *name, struct xendispl_req *r, int32_t want)
{
	int32_t got = call(r, NULL);
	char m[160];

	if (got != want) {
		snprintf(m, sizeof(m), "%s: status %d, want %d", name, got, want);
		die("%s", m);
	}
	n_cases++;
}

static void dbuf_req(struct xendispl_req *r, uint64_t cookie)
{
	memset(r, 0, sizeof(*r));
	r->operation = XENDISPL_OP_DBUF_CREATE;
	r->op.dbuf_create.dbuf_cookie = cookie;
	r->op.dbuf_create.width = BUF_W;
	r->op.dbuf_create.height = BUF_H;
	r->op.dbuf_create.bpp = 32;
	r->op.dbuf_create.buffer_sz = BUF_PAGES * 4096;
	r->op.dbuf_create.gref_directory = dir_g.refs[0];
}

static void fb_req(struct xendispl_req *r, uint64_t dbuf, uint64_t fb)
{
	memset(r, 0, sizeof(*r));
	r->operation = XENDISPL_OP_FB_ATTACH;
	r->op.fb_attach.dbuf_cookie = dbuf;
	r->op.fb_attach.fb_cookie = fb;
	r->op.fb_attach.width = BUF_W;
	r->op.fb_attach.height = BUF_H;
	r->op.fb_attach.pixel_format = DRM_FORMAT_XRGB8888;
}

static void cfg_req(struct xendispl_req *r, uint64_t fb)
{
	memset(r, 0, sizeof(*r));
	r->operation = XENDISPL_OP_SET_CONFIG;
	r->op.set_config.fb_cookie = fb;
	r->op.set_config.width = BUF_W;
	r->op.set_config.height = BUF_H;
	r->op.set_config.bpp = 32;
}

static void simple_req(struct xendispl_req *r, uint8_t op, uint64_t cookie)
{
	memset(r, 0, sizeof(*r));
	r->operation = op;
	r->op.dbuf_destroy.dbuf_cookie = cookie;	/* the first field of each */
}

/* Every field of every request, one bad value at a time. */
static void bad_cases(void)
{
	struct xendispl_event_page *page = (void *)evt_g.map;
	struct xendispl_resp rsp;
	struct xendispl_req r;
	struct gd_grant rep;
	uint32_t *dir;
	int i;

	/* A directory that names one page twice. */
	if (gd_grant_pages(&rep, 0, 1, true))
		die("cannot grant pages to dom0%s", "");
	dir = (uint32_t *)rep.map;
	for (i = 0; i < BUF_PAGES; i++)
		dir[1 + i] = buf_g.refs[i ? i - 1 : 0];

	dbuf_req(&r, 1);
	expect("dbuf-create", &r, 0);
	dbuf_req(&r, 0);
	expect("dbuf-create-cookie-zero", &r, -EINVAL);
	dbuf_req(&r, 1);
	expect("dbuf-create-cookie-twice", &r, -EINVAL);
	dbuf_req(&r, 2);
	r.op.dbuf_create.flags = 1u << 5;
	expect("dbuf-create-unknown-flag", &r, -EINVAL);
	dbuf_req(&r, 2);
	r.op.dbuf_create.flags = XENDISPL_DBUF_FLG_REQ_ALLOC;
	expect("dbuf-create-alloc-without-be-alloc", &r, -EINVAL);
	dbuf_req(&r, 2);
	r.op.dbuf_create.buffer_sz = 0;
	expect("dbuf-create-size-zero", &r, -EINVAL);
	dbuf_req(&r, 2);
	r.op.dbuf_create.data_ofs = r.op.dbuf_create.buffer_sz;
	expect("dbuf-create-offset-past-size", &r, -EINVAL);
	dbuf_req(&r, 2);
	r.op.dbuf_create.height = 0;
	expect("dbuf-create-height-zero", &r, -EINVAL);
	dbuf_req(&r, 2);
	r.op.dbuf_create.bpp = 12;
	expect("dbuf-create-bpp-12", &r, -EINVAL);
	dbuf_req(&r, 2);
	r.op.dbuf_create.bpp = 40;
	expect("dbuf-create-bpp-40", &r, -EINVAL);
	dbuf_req(&r, 2);
	r.op.dbuf_create.width = r.op.dbuf_create.height = 0xffffffff;
	expect("dbuf-create-size-overflow", &r, -EINVAL);
	dbuf_req(&r, 2);
	r.op.dbuf_create.height = BUF_H + 1;
	expect("dbuf-create-geometry-past-size", &r, -EINVAL);
	dbuf_req(&r, 2);
	r.op.dbuf_create.gref_directory = 0xfffff;
	expect("dbuf-create-bad-directory-ref", &r, -EINVAL);
	dbuf_req(&r, 2);
	r.op.dbuf_create.buffer_sz = 2000 * 4096;
	r.op.dbuf_create.gref_directory = cyc_g.refs[0];
	expect("dbuf-create-directory-cycle", &r, -EINVAL);
	dbuf_req(&r, 2);
	r.op.dbuf_create.gref_directory = rep.refs[0];
	expect("dbuf-create-repeated-ref", &r, -EINVAL);
	dbuf_req(&r, 2);
	r.op.reserved[55] = 1;
	expect("dbuf-create-trailing-byte", &r, -EINVAL);
	dbuf_req(&r, 2);
	r.reserved[0] = 1;
	expect("header-reserved-byte", &r, -EINVAL);
	simple_req(&r, 0x05, 0);
	expect("operation-reserved-range", &r, -EINVAL);
	simple_req(&r, 0x17, 0);
	expect("operation-unknown", &r, -EINVAL);
	simple_req(&r, XENDISPL_OP_DBUF_DESTROY, 99);
	expect("dbuf-destroy-unknown", &r, -ENOENT);

	fb_req(&r, 1, 10);
	expect("fb-attach", &r, 0);
	fb_req(&r, 99, 11);
	expect("fb-attach-unknown-dbuf", &r, -EINVAL);
	fb_req(&r, 1, 0);
	expect("fb-attach-cookie-zero", &r, -EINVAL);
	fb_req(&r, 1, 10);
	expect("fb-attach-cookie-twice", &r, -EINVAL);
	fb_req(&r, 1, 11);
	r.op.fb_attach.pixel_format = 0x20202020;
	expect("fb-attach-unknown-format", &r, -EINVAL);
	fb_req(&r, 1, 11);
	r.op.fb_attach.width = 0;
	expect("fb-attach-width-zero", &r, -EINVAL);
	fb_req(&r, 1, 11);
	r.op.fb_attach.pixel_format = DRM_FORMAT_RGB565;
	expect("fb-attach-bpp-mismatch", &r, -EINVAL);
	fb_req(&r, 1, 11);
	r.op.fb_attach.height = BUF_H + 1;
	expect("fb-attach-past-buffer", &r, -EINVAL);
	/* A PRIME-style buffer: no geometry, data past the start of its first page. */
	dbuf_req(&r, 3);
	r.op.dbuf_create.width = r.op.dbuf_create.height = r.op.dbuf_create.bpp = 0;
	r.op.dbuf_create.data_ofs = 64;
	expect("dbuf-create-prime-style", &r, 0);
	fb_req(&r, 3, 30);
	r.op.fb_attach.width = 0x80000000u;
	r.op.fb_attach.height = 0x80000000u;
	expect("fb-attach-prime-pitch-times-height-past-2^64", &r, -EINVAL);
	fb_req(&r, 3, 30);
	r.op.fb_attach.height = BUF_H - 1;
	expect("fb-attach-prime-style", &r, 0);
	simple_req(&r, XENDISPL_OP_FB_DETACH, 30);
	expect("fb-detach-prime-style", &r, 0);
	simple_req(&r, XENDISPL_OP_DBUF_DESTROY, 3);
	expect("dbuf-destroy-prime-style", &r, 0);
	simple_req(&r, XENDISPL_OP_FB_DETACH, 99);
	expect("fb-detach-unknown", &r, -ENOENT);

	simple_req(&r, XENDISPL_OP_PG_FLIP, 10);
	expect("pg-flip-not-configured", &r, -EINVAL);
	cfg_req(&r, 99);
	expect("set-config-unknown-fb", &r, -ENOENT);
	cfg_req(&r, 10);
	r.op.set_config.x = 100000;
	expect("set-config-past-connector", &r, -EINVAL);
	cfg_req(&r, 10);
	r.op.set_config.bpp = 16;
	expect("set-config-bpp-mismatch", &r, -EINVAL);
	cfg_req(&r, 0);
	r.op.set_config.width = r.op.set_config.height = r.op.set_config.bpp = 0;
	r.op.set_config.y = 1;
	expect("set-config-reset-not-zero", &r, -EINVAL);
	cfg_req(&r, 10);
	expect("set-config", &r, 0);
	simple_req(&r, XENDISPL_OP_PG_FLIP, 99);
	expect("pg-flip-unknown-fb", &r, -ENOENT);
	simple_req(&r, XENDISPL_OP_DBUF_DESTROY, 1);
	expect("dbuf-destroy-on-screen", &r, -EBUSY);
	simple_req(&r, XENDISPL_OP_FB_DETACH, 10);
	expect("fb-detach-on-screen", &r, -EBUSY);

	/* A flip, and its event: id 0, our cookie. */
	page->in_cons = page->in_prod;
	simple_req(&r, XENDISPL_OP_PG_FLIP, 10);
	expect("pg-flip", &r, 0);
	for (i = 0; i < 500 && page->in_prod == page->in_cons; i++)
		usleep(10000);
	xen_rmb();
	if (page->in_prod != page->in_cons + 1 ||
	    XENDISPL_IN_RING_REF(page, page->in_cons).type != XENDISPL_EVT_PG_FLIP ||
	    XENDISPL_IN_RING_REF(page, page->in_cons).op.pg_flip.fb_cookie != 10)
		die("no flip event for the flip%s", "");
	page->in_cons++;
	n_cases++;

	memset(&r, 0, sizeof(r));
	r.operation = XENDISPL_OP_GET_EDID;
	r.op.get_edid.buffer_sz = 4096;
	r.op.get_edid.gref_directory = edid_dir_g.refs[0];
	expect("get-edid-buffer-too-small", &r, -EINVAL);
	r.op.get_edid.buffer_sz = XENDISPL_EDID_MAX_SIZE;
	r.op.get_edid.gref_directory = 0xfffff;
	expect("get-edid-bad-directory", &r, -EINVAL);
	r.op.get_edid.gref_directory = edid_dir_g.refs[0];
	r.id = 0;
	if (call(&r, &rsp) || rsp.op.get_edid.edid_sz != 128 ||
	    memcmp(edid_g.map, "\0\xff\xff\xff\xff\xff\xff\0", 8))
		die("no EDID%s", "");
	n_cases++;

	/* The per-frontend limit of display buffers (64 by default). */
	for (i = 0; i < 63; i++) {
		dbuf_req(&r, 100 + i);
		expect("dbuf-create-up-to-the-limit", &r, 0);
	}
	dbuf_req(&r, 200);
	expect("dbuf-create-over-the-limit", &r, -ENOSPC);
	for (i = 0; i < 63; i++) {
		simple_req(&r, XENDISPL_OP_DBUF_DESTROY, 100 + i);
		expect("dbuf-destroy", &r, 0);
	}

	cfg_req(&r, 0);
	r.op.set_config.width = r.op.set_config.height = r.op.set_config.bpp = 0;
	expect("set-config-reset", &r, 0);
	simple_req(&r, XENDISPL_OP_FB_DETACH, 10);
	expect("fb-detach", &r, 0);
	simple_req(&r, XENDISPL_OP_DBUF_DESTROY, 1);
	expect("dbuf-destroy", &r, 0);
	gd_grant_free(&rep);
}

static void grant(struct gd_grant *g, unsigned int pages);

/* Waits (up to 5 s) for the next event, and consumes every one there is. */
static void flip_event(void)
{
	struct xendispl_event_page *page = (void *)evt_g.map;

	for (;;) {
		xen_rmb();
		if (page->in_prod != page->in_cons)
			break;
		if (!wait_event(5000))
			die("no flip event within 5 s%s", "");
	}
	page->in_cons = page->in_prod;
}

/*
 * A display buffer of @pages pages for the benchmark: the pages and the
 * chain of directory pages that lists them.
 */
static void bench_buffer(struct gd_grant *buf, struct gd_grant *dir, unsigned int pages)
{
	unsigned int per = (4096 - sizeof(grant_ref_t)) / sizeof(grant_ref_t);
	unsigned int ndir = (pages + per - 1) / per;

	grant(buf, pages);
	grant(dir, ndir);
	for (unsigned int i = 0; i < ndir; i++) {
		uint32_t *d = (uint32_t *)(dir->map + (size_t)i * 4096);
		unsigned int n = pages - i * per < per ? pages - i * per : per;

		d[0] = i + 1 < ndir ? dir->refs[i + 1] : 0;
		memcpy(d + 1, buf->refs + (size_t)i * per, n * sizeof(uint32_t));
	}
}

static void bench(uint32_t w, uint32_t h, unsigned int flips)
{
	unsigned int pages = (w * h * 4 + 4095) / 4096, i;
	struct gd_grant buf[2], dir[2];
	double create[5], *flip = calloc(flips, sizeof(double)), total = 0, med_create, med_flip;
	struct xendispl_req r;

	if (!flip)
		die("no memory%s", "");
	for (i = 0; i < 2; i++)
		bench_buffer(&buf[i], &dir[i], pages);
	for (i = 0; i < 7; i++) {
		double t0 = gd_now_us();

		memset(&r, 0, sizeof(r));
		r.operation = XENDISPL_OP_DBUF_CREATE;
		r.op.dbuf_create.dbuf_cookie = i >= 5 ? i - 4 : 1;
		r.op.dbuf_create.width = w;
		r.op.dbuf_create.height = h;
		r.op.dbuf_create.bpp = 32;
		r.op.dbuf_create.buffer_sz = pages * 4096;
		r.op.dbuf_create.gref_directory = dir[i >= 5 ? i - 5 : 0].refs[0];
		expect("bench-dbuf-create", &r, 0);
		if (i < 5) {
			create[i] = gd_now_us() - t0;
			simple_req(&r, XENDISPL_OP_DBUF_DESTROY, 1);
			expect("bench-dbuf-destroy", &r, 0);
		}
	}
	/* Cookies 1 and 2 now; framebuffers 11 and 12 on them. */
	for (i = 0; i < 2; i++) {
		fb_req(&r, 1 + i, 11 + i);
		r.op.fb_attach.width = w;
		r.op.fb_attach.height = h;
		expect("bench-fb-attach", &r, 0);
	}
	cfg_req(&r, 11);
	r.op.set_config.width = w;
	r.op.set_config.height = h;
	expect("bench-set-config", &r, 0);
	for (i = 0; i < flips; i++) {
		double t0 = gd_now_us();

		simple_req(&r, XENDISPL_OP_PG_FLIP, 11 + (i + 1) % 2);
		expect("bench-pg-flip", &r, 0);
		flip_event();
		flip[i] = gd_now_us() - t0;
		total += flip[i];
	}
	cfg_req(&r, 0);
	r.op.set_config.width = r.op.set_config.height = r.op.set_config.bpp = 0;
	expect("bench-set-config-off", &r, 0);
	for (i = 0; i < 2; i++) {
		simple_req(&r, XENDISPL_OP_FB_DETACH, 11 + i);
		expect("bench-fb-detach", &r, 0);
		simple_req(&r, XENDISPL_OP_DBUF_DESTROY, 1 + i);
		expect("bench-dbuf-destroy", &r, 0);
		gd_grant_free(&buf[i]);
		gd_grant_free(&dir[i]);
	}
	/* The medians first: they sort. */
	med_create = gd_median(create, 5);
	med_flip = gd_median(flip, flips);
	printf("create_us=%.1f flip_us=%.1f min=%.1f max=%.1f fps=%.1f\n", med_create, med_flip,
	       flip[0], flip[flips - 1], flips * 1e6 / total);
	free(flip);
}

/* What a KMS sink must refuse at FB_ATTACH, and what it must take. */
static void kms_cases(uint32_t w, uint32_t h)
{
	unsigned int pages = (w * h * 4 + 4095) / 4096;
	struct gd_grant buf, dir;
	struct xendispl_req r;
	double flip[10];

	bench_buffer(&buf, &dir, pages);
	for (unsigned int i = 0; i < 2; i++) {
		memset(&r, 0, sizeof(r));
		r.operation = XENDISPL_OP_DBUF_CREATE;
		r.op.dbuf_create.dbuf_cookie = 1 + i;
		r.op.dbuf_create.width = w;
		r.op.dbuf_create.height = h;
		r.op.dbuf_create.bpp = i ? 16 : 32;
		r.op.dbuf_create.buffer_sz = pages * 4096;
		r.op.dbuf_create.gref_directory = dir.refs[0];
		expect("kms-dbuf-create", &r, 0);
	}
	fb_req(&r, 1, 12);
	r.op.fb_attach.width = w / 2;
	r.op.fb_attach.height = h / 2;
	expect("kms-fb-attach-smaller-than-the-crtc", &r, -EINVAL);
	fb_req(&r, 2, 13);
	r.op.fb_attach.width = w;
	r.op.fb_attach.height = h;
	r.op.fb_attach.pixel_format = DRM_FORMAT_XRGB1555;
	expect("kms-fb-attach-format-not-on-the-plane", &r, -EINVAL);
	r.op.fb_attach.pixel_format = DRM_FORMAT_RGB565;
	expect("kms-fb-attach-rgb565", &r, 0);
	fb_req(&r, 1, 11);
	r.op.fb_attach.width = w;
	r.op.fb_attach.height = h;
	expect("kms-fb-attach-xrgb8888", &r, 0);
	cfg_req(&r, 11);
	r.op.set_config.width = w;
	r.op.set_config.height = h;
	expect("kms-set-config", &r, 0);
	for (unsigned int i = 0; i < 10; i++) {
		double t0 = gd_now_us();

		simple_req(&r, XENDISPL_OP_PG_FLIP, i % 2 ? 11 : 13);
		expect("kms-pg-flip", &r, 0);
		flip_event();
		flip[i] = gd_now_us() - t0;
	}
	cfg_req(&r, 0);
	r.op.set_config.width = r.op.set_config.height = r.op.set_config.bpp = 0;
	expect("kms-set-config-off", &r, 0);
	for (unsigned int i = 0; i < 2; i++) {
		simple_req(&r, XENDISPL_OP_FB_DETACH, i ? 13 : 11);
		expect("kms-fb-detach", &r, 0);
		simple_req(&r, XENDISPL_OP_DBUF_DESTROY, 1 + i);
		expect("kms-dbuf-destroy", &r, 0);
	}
	gd_grant_free(&buf);
	gd_grant_free(&dir);
	printf("kms-cases=%u flip_us=%.1f\n", n_cases, gd_median(flip, 10));
}

/* REQ_ALLOC on a be-alloc device, the directory starting at @dir. */
static void balloc_req(struct xendispl_req *r, uint64_t cookie, const struct gd_grant *dir)
{
	dbuf_req(r, cookie);
	r->op.dbuf_create.flags = XENDISPL_DBUF_FLG_REQ_ALLOC;
	r->op.dbuf_create.gref_directory = dir->refs[0];
}

/* Everything a frontend can get wrong about backend allocation, then the right way. */
static void balloc_cases(void)
{
	unsigned int per = (4096 - sizeof(grant_ref_t)) / sizeof(grant_ref_t);
	struct gd_grant dir, ro, two;
	struct xendispl_req r;
	struct gd_mapping m;
	uint32_t *d;

	grant(&dir, 1);
	if (gd_grant_pages(&ro, 0, 1, false))
		die("cannot grant a read-only page%s", "");
	grant(&two, 2);

	dbuf_req(&r, 1);
	expect("balloc-frontend-pages-on-a-be-alloc-device", &r, -EINVAL);
	balloc_req(&r, 1, &dir);
	r.op.dbuf_create.gref_directory = 0xfffff;
	expect("balloc-directory-not-granted", &r, -EINVAL);
	balloc_req(&r, 1, &dir);
	r.op.dbuf_create.gref_directory = 0;
	expect("balloc-directory-ref-zero", &r, -EINVAL);
	balloc_req(&r, 1, &ro);
	expect("balloc-directory-read-only", &r, -EINVAL);
	/* Two directory pages needed: the chain ends after one, then loops. */
	balloc_req(&r, 1, &two);
	r.op.dbuf_create.width = 0;
	r.op.dbuf_create.height = 0;
	r.op.dbuf_create.bpp = 0;
	r.op.dbuf_create.buffer_sz = (per + 1) * 4096;
	((uint32_t *)two.map)[0] = 0;
	expect("balloc-directory-chain-too-short", &r, -EINVAL);
	((uint32_t *)two.map)[0] = two.refs[0];
	expect("balloc-directory-chain-cycle", &r, -EINVAL);
	balloc_req(&r, 1, &dir);
	r.op.dbuf_create.buffer_sz = 0x7ffff000;
	r.op.dbuf_create.width = r.op.dbuf_create.height = r.op.dbuf_create.bpp = 0;
	expect("balloc-over-the-page-limit", &r, -ENOSPC);

	/* The right way: the backend fills the directory with its references. */
	memset(dir.map, 0, 4096);
	balloc_req(&r, 1, &dir);
	expect("balloc-create", &r, 0);
	d = (uint32_t *)dir.map;
	for (unsigned int i = 0; i < BUF_PAGES; i++)
		if (!d[1 + i])
			die("the backend left a directory entry empty%s", "");
	if (gd_map_grants(&m, 0, d + 1, BUF_PAGES, true))
		die("cannot map the backend's pages%s", "");
	gd_fill_pattern(m.map, BUF_PAGES, 0xba110c);
	if (gd_check_pattern(m.map, BUF_PAGES, 0xba110c) != -1)
		die("the backend's pages do not keep what was written%s", "");
	gd_unmap_grants(&m);
	n_cases++;
	expect("balloc-create-cookie-twice", &r, -EINVAL);
	simple_req(&r, XENDISPL_OP_DBUF_DESTROY, 1);
	expect("balloc-destroy", &r, 0);
	gd_grant_free(&dir);
	gd_grant_free(&ro);
	gd_grant_free(&two);
}

static void grant(struct gd_grant *g, unsigned int pages)
{
	if (gd_grant_pages(g, 0, pages, true))
		die("cannot grant pages to dom0%s", "");
}

int main(int argc, char **argv)
{
	uint32_t bench_w = 0, bench_h = 0;
	bool balloc = false;
	unsigned long count;
	char path[200], v[64];
	uint32_t *dir;

	if (argc == 6 && !strcmp(argv[2], "bench")) {
		bench_w = strtoul(argv[3], NULL, 0);
		bench_h = strtoul(argv[4], NULL, 0);
		count = strtoul(argv[5], NULL, 0);
		if (!bench_w || !bench_h || bench_w > 8192 || bench_h > 8192 || !count)
			return 2;
	} else if (argc == 5 && !strcmp(argv[2], "kms")) {
		bench_w = strtoul(argv[3], NULL, 0);
		bench_h = strtoul(argv[4], NULL, 0);
		if (!bench_w || !bench_h || bench_w > 4096 || bench_h > 4096)
			return 2;
		count = 0;
	} else if (argc == 3 && !strcmp(argv[2], "bad")) {
		count = 0;
	} else if (argc == 3 && !strcmp(argv[2], "balloc")) {
		count = 0;
		balloc = true;
	} else if (argc == 4) {
		rng = strtoull(argv[2], NULL, 0) | 1;
		count = strtoul(argv[3], NULL, 0);
	} else {
		return 2;
	}
	xs = gd_xs_open();
	if (!xs || gd_xs_read(xs, "domid", v, sizeof(v)) <= 0)
		die("no xenstore%s", "");
	snprintf(fe, sizeof(fe), "/local/domain/%s/device/vdispl/%s", v, argv[1]);
	snprintf(path, sizeof(path), "%s/backend", fe);
	if (gd_xs_read(xs, path, be, sizeof(be)) <= 0)
		die("no vdispl device %s", argv[1]);
	evfd = open("/dev/xen/evtchn", O_RDWR | O_CLOEXEC);
	if (evfd < 0)
		die("no /dev/xen/evtchn%s", "");

	grant(&ring_g, 1);
	grant(&evt_g, 1);
	grant(&buf_g, BUF_PAGES);
	grant(&dir_g, 1);
	grant(&cyc_g, 1);
	grant(&edid_g, EDID_PAGES);
	grant(&edid_dir_g, 1);
	dir = (uint32_t *)dir_g.map;
	memcpy(dir + 1, buf_g.refs, BUF_PAGES * sizeof(uint32_t));
	/* A directory whose next page is itself. */
	dir = (uint32_t *)cyc_g.map;
	dir[0] = cyc_g.refs[0];
	for (unsigned int i = 1; i < 1024; i++)
		dir[i] = buf_g.refs[i % BUF_PAGES];
	dir = (uint32_t *)edid_dir_g.map;
	memcpy(dir + 1, edid_g.refs, EDID_PAGES * sizeof(uint32_t));
	req_port = bind_unbound();
	evt_port = bind_unbound();
	connect_backend();

	if (bench_w && !count) {
		kms_cases(bench_w, bench_h);
		node(fe, "state", XenbusStateClosing);
		wait_state(be, XenbusStateClosed, 5000);
		node(fe, "state", XenbusStateClosed);
		return 0;
	}
	if (bench_w) {
		int fd = open("/sys/module/xen_gntalloc/parameters/limit", O_WRONLY);

		/* Room for two 4K buffers (gntalloc allows 1024 grants by default). */
		if (fd < 0 || write(fd, "140000\n", 7) != 7)
			die("cannot raise gntalloc's limit%s", "");
		close(fd);
		bench(bench_w, bench_h, count);
		node(fe, "state", XenbusStateClosing);
		wait_state(be, XenbusStateClosed, 5000);
		node(fe, "state", XenbusStateClosed);
		return 0;
	}
	if (balloc) {
		balloc_cases();
		printf("balloc-cases=%u\n", n_cases);
		node(fe, "state", XenbusStateClosing);
		wait_state(be, XenbusStateClosed, 5000);
		node(fe, "state", XenbusStateClosed);
		return 0;
	}
	if (!count) {
		bad_cases();
		printf("bad-cases=%u\n", n_cases);
		node(fe, "state", XenbusStateClosing);
		wait_state(be, XenbusStateClosed, 5000);
		node(fe, "state", XenbusStateClosed);
		return 0;
	}
	while (n_req < count) {
		unsigned int n = 1 + rnd() % BATCH;

		if (n > count - n_req)
			n = count - n_req;
		if (rnd() % 3)
			consume_events();
		/* At least once per run (halfway), and now and then. */
		if (rnd() % 4000 == 0 || (!n_reconnect && n_req >= count / 2)) {
			/* A producer index far ahead of the ring. */
			ring.sring->req_prod = ring.req_prod_pvt + 1000 + rnd() % 100000;
			notify(req_port);
			reconnect();
			continue;
		}
		batch(n);
	}
	consume_events();
	printf("requests=%lu errors=%lu ok=%lu reconnects=%lu events=%lu\n", n_req, n_err, n_ok,
	       n_reconnect, n_evt);
	node(fe, "state", XenbusStateClosing);
	wait_state(be, XenbusStateClosed, 5000);
	node(fe, "state", XenbusStateClosed);
	return 0;
}
