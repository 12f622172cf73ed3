// SPDX-License-Identifier: MIT
/*
 * gntdmabuf-displ: the process.  One event loop (epoll) over xenstore's
 * watches, the event channels of every connector, the module's release
 * reports, signals and the sink's own descriptors; no threads.
 *
 * Exit codes: 0 after SIGTERM or SIGINT (every frontend saw the backend
 * close), 1 when a Xen or module interface cannot be opened, 2 for a bad
 * command line.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <xen/io/xenbus.h>
#include <xentoollog.h>

#include "displ.h"
#include "displ-sink.h"

#ifndef GDMABUF_VERSION
#define GDMABUF_VERSION "unknown"
#endif

enum { DISPL_EV_XS = 1, DISPL_EV_EVTCHN, DISPL_EV_RELEASE, DISPL_EV_SIGNAL, DISPL_EV_SINK };

void displ_log(const struct displ_front *f, int conn, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!f)
		fprintf(stderr, "gntdmabuf-displ: %s\n", msg);
	else if (conn < 0)
		fprintf(stderr, "gntdmabuf-displ: dom%u vdispl%u: %s\n", f->domid, f->devid, msg);
	else
		fprintf(stderr, "gntdmabuf-displ: dom%u vdispl%u conn%d: %s\n", f->domid, f->devid,
			conn, msg);
}

uint64_t displ_now_ms(void)
{
	return displ_now_us() / 1000;
}

uint64_t displ_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int displ_sink_watch(struct displ_backend *be, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uint64_t)DISPL_EV_SINK << 32 | fd };

	return epoll_ctl(be->epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static int displ_watch(struct displ_backend *be, int fd, uint32_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uint64_t)tag << 32 | fd };

	return epoll_ctl(be->epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static struct displ_conn *displ_conn_by_port(struct displ_backend *be, evtchn_port_t port)
{
	for (struct displ_front *f = be->fronts; f; f = f->next)
		for (unsigned int i = 0; i < f->nconns; i++)
			if (f->conns[i].req_port == port || f->conns[i].evt_port == port)
				return &f->conns[i];
	return NULL;
}

static void displ_evtchn_event(struct displ_backend *be)
{
	xenevtchn_port_or_error_t port;

	while ((port = xenevtchn_pending(be->xce)) >= 0) {
		struct displ_conn *c = displ_conn_by_port(be, port);

		xenevtchn_unmask(be->xce, port);
		if (c && c->req_port == (evtchn_port_t)port)
			displ_conn_event(c);
	}
	displ_fronts_free_gone(be);
}

static void displ_stats(struct displ_backend *be)
{
	for (struct displ_front *f = be->fronts; f; f = f->next)
		displ_log(f, -1, "%u connector(s), %llu requests, %llu refused, %llu flips, %llu events, %u pages, %llu copied bytes",
			  f->nconns, (unsigned long long)f->stats.requests,
			  (unsigned long long)f->stats.errors, (unsigned long long)f->stats.flips,
			  (unsigned long long)f->stats.events, f->pages,
			  (unsigned long long)f->stats.copied_bytes);
	if (be->ndeferred)
		displ_log(NULL, -1, "%u destroyed buffer(s) still held by dom0 importers", be->ndeferred);
}

/* SIGTERM: every frontend sees the backend close, then the device go. */
static void displ_shutdown(struct displ_backend *be)
{
	for (struct displ_front *f = be->fronts; f; f = f->next) {
		char path[192], v[8];

		if (f->offline)
			continue;
		if (f->state == DISPL_FRONT_CONNECTED)
			displ_front_close(f, "the backend stops");
		snprintf(path, sizeof(path), "%s/state", f->be_path);
		snprintf(v, sizeof(v), "%d", XenbusStateClosed);
		xs_write(be->xs, XBT_NULL, path, v, strlen(v));
	}
	displ_stats(be);
}

static void displ_usage(FILE *out)
{
	fprintf(out,
		"Usage: gntdmabuf-displ [OPTION]...\n"
		"A Xen PV display backend (vdispl) for dom0: every buffer of every frontend\n"
		"becomes a dma-buf through /dev/xen/gntdev-dmabuf, with no copy on any frame.\n"
		"\n"
		"  --sink=capture|kms|wayland  where frames go (capture: kept, hashed, PNGs;\n"
		"                          kms: scanned out by a dom0 display controller;\n"
		"                          wayland: a window of a dom0 compositor each)\n"
		"  --capture-dir=DIR       capture: write each connector's latest frame as\n"
		"                          DIR/displ-DOMID-DEVID-CONN.png on SIGUSR1;\n"
		"                          kms: what each CRTC composed, from a writeback\n"
		"                          connector, as DIR/scanout-DOMID-DEVID-CONN.png;\n"
		"                          wayland: each output of the compositor, by\n"
		"                          Weston's capture protocol, as DIR/compositor-N.png\n"
		"  --png-every=N           capture: ... and every N frames of a connector\n"
		"  --frame-log=FILE        capture: a line per frame with its pixels' hash\n"
		"  --kms-device=PATH       kms: the card (default: the first with a CRTC,\n"
		"                          a connector and atomic modesetting)\n"
		"  --kms-map=D.V.C=NAME    kms: connector C of device V of domain D (each\n"
		"                          may be *) on the dom0 connector NAME (HDMI-A-1);\n"
		"                          repeatable, first match wins; without any, each\n"
		"                          connector takes the next free dom0 output\n"
		"  --wayland-display=NAME  wayland: the compositor (default: $WAYLAND_DISPLAY)\n"
		"  --wayland-buffers=KIND  wayland: dmabuf (no copy; a buffer the compositor\n"
		"                          cannot import is refused, the default), auto (...\n"
		"                          or else copied into wl_shm on every flip), shm\n"
		"                          (every buffer copied, for comparison)\n"
		"  --wayland-fullscreen    wayland: ask for fullscreen windows\n"
		"  --max-buffers=N         display buffers per frontend (default 64)\n"
		"  --max-framebuffers=N    framebuffers per frontend (default 64)\n"
		"  --max-pages=N           pages over a frontend's buffers (default 262144)\n"
		"  --destroy-timeout=MS    wait for a destroyed buffer's release (default 2000)\n"
		"  --alloc=KIND            where backend-allocated (be-alloc) buffers come\n"
		"                          from: kms (the KMS sink's device), heap (the\n"
		"                          system dma-heap), udmabuf, vgem, or auto (the\n"
		"                          first of these there is; the default)\n"
		"  --copy                  for comparison only: map the guest's pages with the\n"
		"                          stock gntdev and copy every frame into a udmabuf\n"
		"  -v, --verbose           log every buffer and refused request\n"
		"  -h, --help              this text\n"
		"  -V, --version           the version\n"
		"\n"
		"Signals: SIGTERM/SIGINT close every frontend and exit 0; SIGUSR1 writes the\n"
		"capture PNGs; SIGUSR2 logs each frontend's counters.\n"
		"Exit status: 0 after SIGTERM/SIGINT, 1 when xenstore, event channels,\n"
		"grant mapping or the gntdev-dmabuf module cannot be used, 2 for bad usage.\n");
}

static bool displ_parse_u32(const char *s, uint32_t *v)
{
	char *end;
	unsigned long x;

	errno = 0;
	x = strtoul(s, &end, 10);
	if (errno || !*s || *end || x > UINT32_MAX)
		return false;
	*v = x;
	return true;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "sink", required_argument, NULL, 's' },
		{ "capture-dir", required_argument, NULL, 'd' },
		{ "png-every", required_argument, NULL, 'n' },
		{ "frame-log", required_argument, NULL, 'l' },
		{ "kms-device", required_argument, NULL, 'k' },
		{ "kms-map", required_argument, NULL, 'm' },
		{ "max-buffers", required_argument, NULL, 'B' },
		{ "max-framebuffers", required_argument, NULL, 'F' },
		{ "max-pages", required_argument, NULL, 'P' },
		{ "destroy-timeout", required_argument, NULL, 'T' },
		{ "wayland-display", required_argument, NULL, 'W' },
		{ "wayland-buffers", required_argument, NULL, 'U' },
		{ "wayland-fullscreen", no_argument, NULL, 'L' },
		{ "copy", no_argument, NULL, 'C' },
		{ "alloc", required_argument, NULL, 'A' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ }
	};
	struct displ_capture_opts copts = { 0 };
	struct displ_kms_opts kopts = { 0 };
	struct displ_wayland_opts wopts = { 0 };
	struct displ_backend be = {
		.limits = { .max_dbufs = 64, .max_fbs = 64, .max_pages = 262144 },
		.destroy_timeout_ms = 2000,
	};
	xentoollog_logger *quiet;
	struct displ_sink sink;
	const char *sink_name = "capture";
	sigset_t mask;
	int opt, sfd, ret;
	bool running = true;

	while ((opt = getopt_long(argc, argv, "vhV", longopts, NULL)) != -1) {
		bool ok = true;

		switch (opt) {
		case 's': sink_name = optarg; break;
		case 'd': copts.dir = optarg; break;
		case 'n': ok = displ_parse_u32(optarg, &copts.png_every); break;
		case 'l': copts.frame_log = optarg; break;
		case 'k': kopts.device = optarg; break;
		case 'm':
			if (kopts.nmaps == DISPL_KMS_MAX_MAPS ||
			    displ_kms_parse_map(optarg, &kopts.maps[kopts.nmaps++])) {
				fprintf(stderr, "gntdmabuf-displ: bad or too many --kms-map: %s\n",
					optarg);
				return 2;
			}
			break;
		case 'B': ok = displ_parse_u32(optarg, &be.limits.max_dbufs); break;
		case 'F': ok = displ_parse_u32(optarg, &be.limits.max_fbs); break;
		case 'P': ok = displ_parse_u32(optarg, &be.limits.max_pages); break;
		case 'T': ok = displ_parse_u32(optarg, &be.destroy_timeout_ms); break;
		case 'W': wopts.display = optarg; break;
		case 'U':
			ret = displ_wayland_parse_buffers(optarg);
			if (ret < 0) {
				fprintf(stderr, "gntdmabuf-displ: unknown --wayland-buffers: %s\n", optarg);
				return 2;
			}
			wopts.buffers = ret;
			break;
		case 'L': wopts.fullscreen = true; break;
		case 'C': be.copy = true; break;
		case 'A':
			ret = displ_alloc_parse(optarg);
			if (ret < 0) {
				fprintf(stderr, "gntdmabuf-displ: unknown allocator: %s\n", optarg);
				return 2;
			}
			be.alloc = ret;
			break;
		case 'v': be.verbose++; break;
		case 'h': displ_usage(stdout); return 0;
		case 'V': printf("gntdmabuf-displ %s\n", GDMABUF_VERSION); return 0;
		default: displ_usage(stderr); return 2;
		}
		if (!ok) {
			fprintf(stderr, "gntdmabuf-displ: not a number: %s\n", optarg);
			return 2;
		}
	}
	if (optind < argc || (strcmp(sink_name, "capture") && strcmp(sink_name, "kms") &&
			      strcmp(sink_name, "wayland"))) {
		displ_usage(stderr);
		return 2;
	}

	ret = gntdmabuf_open(&be.gdb, GNTDMABUF_OPEN_MODULE_ONLY);
	if (ret) {
		displ_log(NULL, -1, "cannot open /dev/xen/gntdev-dmabuf: %s", gntdmabuf_strerror(ret));
		return 1;
	}
	/*
	 * Xen's libraries log every failed grant map, and a frontend decides
	 * how many there are: only critical messages, ours say the rest.
	 */
	quiet = (xentoollog_logger *)xtl_createlogger_stdiostream(stderr, XTL_CRITICAL, 0);
	be.xs = xs_open(0);
	be.xce = xenevtchn_open(quiet, 0);
	be.xgt = xengnttab_open(quiet, 0);
	if (!be.xs || !be.xce || !be.xgt) {
		displ_log(NULL, -1, "cannot open %s: %m",
			  !be.xs ? "xenstore" : !be.xce ? "the event channel device" : "the grant device");
		return 1;
	}
	be.udmabuf = be.vgem = be.heap = -1;
	if (be.copy && displ_copy_open(&be)) {
		displ_log(NULL, -1, "--copy needs /dev/udmabuf or a vgem card (modprobe udmabuf or vgem)");
		return 1;
	}
	be.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!strcmp(sink_name, "kms")) {
		kopts.capture_dir = copts.dir;
		ret = displ_kms_create(&be, &kopts, &sink);
	} else if (!strcmp(sink_name, "wayland")) {
		wopts.capture_dir = copts.dir;
		ret = displ_wayland_create(&be, &wopts, &sink);
	} else {
		ret = displ_capture_create(&be, &copts, &sink);
	}
	if (ret) {
		displ_log(NULL, -1, "cannot start the %s sink: %s", sink_name,
			  ret == -ENODEV ? "no KMS device with atomic modesetting" :
			  ret == -ECONNREFUSED ? "no Wayland compositor answers (WAYLAND_DISPLAY, --wayland-display)" :
			  strerror(-ret));
		return 1;
	}
	be.sink = &sink;
	/* The loop drains the pending ports; a blocking read would stop it. */
	fcntl(xenevtchn_fd(be.xce), F_SETFL, fcntl(xenevtchn_fd(be.xce), F_GETFL) | O_NONBLOCK);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGUSR2);
	sigaddset(&mask, SIGPIPE);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (be.epfd < 0 || sfd < 0 ||
	    displ_watch(&be, xs_fileno(be.xs), DISPL_EV_XS) ||
	    displ_watch(&be, xenevtchn_fd(be.xce), DISPL_EV_EVTCHN) ||
	    displ_watch(&be, gntdmabuf_fd(be.gdb), DISPL_EV_RELEASE) ||
	    displ_watch(&be, sfd, DISPL_EV_SIGNAL) || displ_xenbus_start(&be)) {
		displ_log(NULL, -1, "cannot set up the event loop: %m");
		return 1;
	}
	displ_log(NULL, -1, "version %s, %s sink%s, serving vdispl devices", GDMABUF_VERSION,
		  sink.ops->name, be.copy ? ", copying every frame (--copy)" : "");

	while (running) {
		struct epoll_event evs[16];
		int timeout = -1, n;

		for (struct displ_front *f = be.fronts; f; f = f->next)
			if (f->destroy.active)
				timeout = 50;
		n = epoll_wait(be.epfd, evs, 16, timeout);
		if (n < 0 && errno != EINTR) {
			displ_log(NULL, -1, "epoll_wait: %m");
			break;
		}
		for (int i = 0; i < n; i++) {
			uint32_t tag = evs[i].data.u64 >> 32;
			int fd = (int)(uint32_t)evs[i].data.u64;

			switch (tag) {
			case DISPL_EV_XS:
				displ_xenbus_event(&be);
				break;
			case DISPL_EV_EVTCHN:
				displ_evtchn_event(&be);
				break;
			case DISPL_EV_RELEASE:
				displ_releases(&be);
				break;
			case DISPL_EV_SINK:
				if (sink.ops->event)
					sink.ops->event(sink.priv, fd);
				break;
			case DISPL_EV_SIGNAL: {
				struct signalfd_siginfo si;

				if (read(sfd, &si, sizeof(si)) != sizeof(si))
					break;
				if (si.ssi_signo == SIGUSR1)
					sink.ops->signal(sink.priv);
				else if (si.ssi_signo == SIGUSR2)
					displ_stats(&be);
				else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
					running = false;
				break;
			}
			}
		}
		displ_timeouts(&be);
		displ_resume(&be);
		displ_fronts_free_gone(&be);
	}
	displ_shutdown(&be);
	sink.ops->destroy(sink.priv);
	xengnttab_close(be.xgt);
	xenevtchn_close(be.xce);
	xs_close(be.xs);
	gntdmabuf_close(be.gdb);
	if (be.udmabuf >= 0)
		close(be.udmabuf);
	if (be.vgem >= 0)
		close(be.vgem);
	if (be.heap >= 0)
		close(be.heap);
	free(be.deferred);
	return be.exit_status;
}
