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
 *
 * Prints "requests=<n> errors=<refused> ok=<n> reconnects=<n> events=<n>";
 * exit status 0, or 1 with the violation.
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
	if (!wait_state(be, XenbusStateConnected, 10000))
		die("the backend did not connect%s", "");
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

static void grant(struct gd_grant *g, unsigned int pages)
{
	if (gd_grant_pages(g, 0, pages, true))
		die("cannot grant pages to dom0%s", "");
}

int main(int argc, char **argv)
{
	unsigned long count;
	char path[200], v[64];
	uint32_t *dir;

	if (argc != 4)
		return 2;
	rng = strtoull(argv[2], NULL, 0) | 1;
	count = strtoul(argv[3], NULL, 0);
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
