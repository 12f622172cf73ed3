// SPDX-License-Identifier: MIT
/**
 * TEST: gdmabuf displ
 * Category: Xen
 * Feature: gntdev-dmabuf
 * Description: gntdmabuf-displ, the PV display backend, serving Linux's
 *   xen-drm-front in the test domU: the toolstack attaches a vdispl device,
 *   a KMS program in the domU draws frame-numbered patterns and flips, and
 *   the backend's capture sink holds exactly the pixels the guest drew,
 *   frame by frame, with no byte copied.
 *
 * SUBTEST: displ-frontend-frames
 * Description: gdmabuf-kms in the domU sets a 640x480 mode and flips 60
 *   times through xen-drm-front, waiting for each flip event; the backend's
 *   frame log holds the hash of every frame the guest drew, in order; the
 *   PNG it wrote of the 60th frame holds its pixels; the device detaches, the
 *   backend exits 0 on SIGTERM having copied 0 bytes, and the module's
 *   counters are back to zero.
 *
 * SUBTEST: displ-hostile-frontend
 * Description: A second vdispl device that no driver takes is driven by
 *   gdmabuf-displ-front, which speaks the protocol itself: 100,000 seeded
 *   requests, valid and malformed (every field of every request), in
 *   batches, with broken rings now and then.  Every request is answered
 *   with its id and operation, a broken ring only closes that device, and
 *   meanwhile xen-drm-front on the first device streams 200 frames that
 *   arrive exactly as drawn.
 *   Afterwards the backend exits 0 and the module's counters are back to
 *   zero.
 *
 * SUBTEST: displ-modetest
 * Description: Debian's modetest (libdrm-tests), a KMS client nobody here
 *   wrote, sets a 640x480 mode with its SMPTE bars through xen-drm-front;
 *   the PNG the backend writes on SIGUSR1 holds those bars pixel for pixel.
 *
 * SUBTEST: displ-backend-killed
 * Description: The backend is SIGKILLed while xen-drm-front streams
 *   frames: the module releases everything it held (counters to zero); a
 *   restarted backend finds the device connected to its dead predecessor,
 *   makes the frontend start again, and serves the guest's next frames
 *   exactly as drawn.
 *
 * SUBTEST: displ-frontend-reload
 * Description: The device is unbound from drm_xen_front in the domU and
 *   the module unloaded (the backend goes back to InitWait, as the
 *   driver's remove waits for), then loaded again; the backend serves the
 *   new frontend's frames exactly as drawn.
 *
 * SUBTEST: displ-destroy-held
 * Description: A dom0 process holds the backend's dma-bufs (taken with
 *   pidfd_getfd()) while the guest destroys its buffers: each destroy is
 *   answered after the backend's timeout, the guest's program ends
 *   normally, the backend serves the next frames, and when the holder lets
 *   go the module releases the buffers (the backend logs it) and every
 *   counter goes back to zero.
 *
 * SUBTEST: displ-wayland-frames
 * Description: Weston runs in dom0 (headless, GL renderer on Mesa's
 *   llvmpipe, kiosk shell) and the backend's Wayland sink makes each guest
 *   buffer a zwp_linux_dmabuf_v1 buffer of the export; gdmabuf-kms flips
 *   60 frames through xen-drm-front; Weston maps the guest's pages, and its
 *   own capture of its output equals the guest's last frame pixel for
 *   pixel; after the program ends the capture is black; flips are paced by
 *   Weston's frame callbacks; nothing is copied and everything is released.
 *
 * SUBTEST: displ-wayland-shm
 * Description: --wayland-buffers=shm: every frame is copied from the
 *   export into wl_shm (the comparison path), counted as copied bytes;
 *   Weston's capture equals the guest's last frame.
 *
 * SUBTEST: displ-wayland-destroy-shown
 * Description: The guest's program is SIGKILLed while Weston shows its
 *   frame: the window is unmapped (a black capture), Weston lets go of the
 *   dma-bufs, the module releases them, and the next program is shown as
 *   drawn.
 *
 * SUBTEST: displ-wayland-resize
 * Description: The connector comes back at 320x240 after 640x480 (displif
 *   fixes a connector's resolution for its device's life: a resize is a
 *   detach and an attach): Weston's capture shows the new frame centred on
 *   black, with nothing left of the larger one, and black after the
 *   program ends.
 *
 * SUBTEST: displ-wayland-balloc
 * Description: A be-alloc device with the Wayland sink: the guest draws
 *   60 frames into buffers dom0 allocated, which Weston imports as
 *   linux-dmabuf buffers; its capture equals the last frame, black after
 *   the program ends, nothing copied.  Auto-translated domU only (arm64).
 *
 * SUBTEST: displ-guest-destroyed
 * Description: The domU is destroyed while xen-drm-front streams frames:
 *   the backend sees the device go, the module lets go of every grant (the
 *   domain dies, counters to zero), the backend keeps running and serves
 *   the domU created again.
 *
 * SUBTEST: displ-kms-scanout
 * Description: The backend's KMS sink scans the guest's frames out on vkms
 *   in dom0: gdmabuf-kms flips 60 frames through xen-drm-front, each an
 *   atomic commit of a PRIME-imported export whose completion sends the
 *   flip event; vkms's writeback connector captures what the CRTC
 *   composed, equal to the guest's last frame pixel for pixel; flips are
 *   paced by vkms's vblank; nothing copied, no commit refused.
 *
 * SUBTEST: displ-kms-modetest
 * Description: modetest's SMPTE bars, set through xen-drm-front, scanned
 *   out by vkms: the writeback capture holds them pixel for pixel.
 *
 * SUBTEST: displ-kms-destroy-shown
 * Description: The guest's program is killed while vkms scans its frame
 *   out: the plane goes off, its buffers are released (counters to zero),
 *   and the next program is scanned out as drawn.
 *
 * SUBTEST: displ-kms-map
 * Description: --kms-map to an output the device lacks refuses the
 *   frontend, with the reason logged; a map of this domain's connector 0
 *   to Virtual-1 shows its frames there (writeback capture).
 *
 * SUBTEST: displ-kms-bad-fb
 * Description: Framebuffers vkms's primary plane cannot take (smaller
 *   than the CRTC; XRGB1555) are refused at FB_ATTACH with EINVAL, with
 *   the reason in the backend's log; RGB565 and XRGB8888 are taken and
 *   flips between them get their events.
 *
 * SUBTEST: displ-balloc-frames
 * Description: A be-alloc device: the backend allocates each buffer in
 *   dom0 and grants it (the module's import); xen-drm-front maps dom0's
 *   pages and gdmabuf-kms draws 60 frames into them, which the frame log
 *   holds as drawn; nothing copied; the grants end with the device.
 *
 * SUBTEST: displ-kms-balloc
 * Description: be-alloc with the KMS sink: vkms's own dumb buffers are
 *   granted to the guest, which draws 60 frames into them; the writeback
 *   capture equals the last.
 *
 * SUBTEST: displ-kms-balloc-modetest
 * Description: modetest's SMPTE bars in vkms's dumb buffers through
 *   be-alloc, captured pixel for pixel.
 *
 * SUBTEST: displ-balloc-bad-requests
 * Description: be-alloc requests a frontend can get wrong (frontend pages
 *   on a be-alloc device; directories not granted, read-only, ref 0, too
 *   short, cyclic; a size over the limit), each with its exact errno;
 *   then the guest maps the pages the backend allocated from the
 *   references it wrote, writes and reads them back, and destroys them.
 *
 * SUBTEST: displ-balloc-pv-user-map
 * Description: On a PV domU a process that maps a backend-allocated
 *   buffer gets SIGBUS: the guest cannot map dom0's pages into a process
 *   (xen-drm-front's mmap); dom0 is unharmed, everything is released.
 *
 * SUBTEST: displ-balloc-guest-destroyed
 * Description: The domU is destroyed while it maps dom0's be-alloc
 *   buffers: the module keeps the pages until Xen has unmapped them, then
 *   every counter goes to zero.
 *
 * SUBTEST: displ-bad-requests
 * Description: One request per bad field of every request the backend
 *   reads (cookies zero, unknown or twice, unknown flags and operations,
 *   reserved bytes, sizes that overflow or pass the buffer, bad, cyclic
 *   and repeated directories, formats, rectangles, flips and destroys of
 *   what is on screen, EDID buffers, the buffer limit), each answered with
 *   its exact errno; then the valid path: a flip and its event (id 0), an
 *   EDID.  No xen-drm-front needed: every target.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "igt.h"
#include "gdmabuf_test.h"

IGT_TEST_DESCRIPTION("gntdmabuf-displ, the PV display backend, serving Linux's xen-drm-front "
		     "in the test domU with zero copy.");

#define DISPL_DIR	"/tmp/displ"
#define DISPL_LOG	DISPL_DIR "/backend.log"
#define DISPL_FRAMES	DISPL_DIR "/frames.log"
/*
 * Domain shell: waits up to 10 s for xen-drm-front's DRM device and puts
 * the newest in $c (an earlier device's node may still be going away).
 */
#define WAIT_CARD	"i=0; while ! ls /dev/dri/card* > /dev/null 2>&1 && [ $i -lt 100 ]; do " \
			"sleep 0.1; i=$((i+1)); done; c=$(ls /dev/dri/card* | tail -n 1); "

static pid_t backend = -1;
static const char *backend_log = DISPL_LOG;
/* The KMS sink's card (vkms), or "" for the capture sink. */
static char kms_card[64];
/* Whether attach() makes the device be-alloc (the backend allocates). */
static bool be_alloc;
/* One more option for the next KMS or Wayland backend, or NULL. */
static const char *backend_extra;
/* The Wayland sink's compositor: Weston in dom0 (its socket), or "". */
static char wl_socket[32];
static pid_t weston = -1;

static void weston_stop(void);

static int backend_stop(void);

/* fork(), the child's stdout and stderr going to @log (truncated). */
static pid_t fork_logged(const char *log)
{
	pid_t pid = fork();

	igt_assert(pid >= 0);
	if (!pid) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		dup2(fd, 1);
		dup2(fd, 2);
	}
	return pid;
}

/*
 * Starts the backend, logging to @log; @verbose logs every buffer and
 * refused request; @fresh empties DISPL_DIR first (not for a restart).
 */
static void backend_launch(bool verbose, bool fresh, const char *log)
{
	const char *bin = getenv("GDMABUF_DISPL");

	igt_require_f(bin, "GDMABUF_DISPL does not name the backend (built with the release's libxen-dev)\n");
	/* What a failed subtest left running. */
	backend_stop();
	if (fresh)
		igt_assert(!system("rm -rf " DISPL_DIR " && mkdir -p " DISPL_DIR));
	backend_log = log;
	backend = fork_logged(log);
	if (!backend) {
		char dev[96];

		snprintf(dev, sizeof(dev), "--kms-device=%s", kms_card);
		if (wl_socket[0]) {
			snprintf(dev, sizeof(dev), "--wayland-display=%s", wl_socket);
			setenv("XDG_RUNTIME_DIR", GD_WL_RUNTIME, 1);
			execl(bin, bin, "--sink=wayland", dev, "--capture-dir=" DISPL_DIR,
			      verbose ? "-v" : "--destroy-timeout=2000", backend_extra, (char *)NULL);
		} else if (kms_card[0])
			execl(bin, bin, "--sink=kms", dev, "--capture-dir=" DISPL_DIR,
			      verbose ? "-v" : "--destroy-timeout=2000", backend_extra, (char *)NULL);
		else
			execl(bin, bin, "--capture-dir=" DISPL_DIR, "--frame-log=" DISPL_FRAMES,
			      "--png-every=60", verbose ? "-v" : "--destroy-timeout=2000",
			      (char *)NULL);
		_exit(127);
	}
	/* A compositor's first repaint (llvmpipe compiling) holds its roundtrips. */
	if (!gd_file_has(log, "serving vdispl devices", 60000)) {
		gd_print_file(log);
		if (wl_socket[0])
			gd_print_file(GD_WESTON_LOG);
		igt_assert_f(false, "the backend did not start in 60 s\n");
	}
}

static void backend_start(bool verbose)
{
	backend_launch(verbose, true, DISPL_LOG);
}

/* SIGTERM, and its exit status; SIGKILL (status 137) after 10 s. */
static int backend_stop(void)
{
	pid_t pid = backend;
	int st, i;

	if (pid < 0)
		return -1;
	backend = -1;
	kill(pid, SIGTERM);
	for (i = 0; i < 100 && waitpid(pid, &st, WNOHANG) == 0; i++)
		usleep(100000);
	if (i == 100) {
		igt_info("the backend ignored SIGTERM for 10 s:\n");
		gd_print_file(DISPL_LOG);
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/*
 * The frame log's hashes of connector 0 of @domid as gdmabuf-kms lists
 * them: FNV-1a over "%016llx\n" lines; @n gets their number.
 */
static uint64_t frame_log_hash_from(int domid, unsigned int devid, unsigned int skip,
				    unsigned int *n)
{
	unsigned int d, dev, conn;
	unsigned long long frame, fb, h;
	uint64_t list = 0xcbf29ce484222325ULL;
	char line[256], hex[32];
	FILE *f = fopen(DISPL_FRAMES, "r");

	*n = 0;
	igt_assert(f);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%u %u %u %llu %llx %llx", &d, &dev, &conn, &frame, &fb, &h) != 6 ||
		    (int)d != domid || dev != devid || conn)
			continue;
		if (skip) {
			skip--;
			continue;
		}
		snprintf(hex, sizeof(hex), "%016llx\n", h);
		list = gd_hash_continue(list, hex, strlen(hex));
		(*n)++;
	}
	fclose(f);
	return list;
}

static uint64_t frame_log_hash(int domid, unsigned int devid, unsigned int *n)
{
	return frame_log_hash_from(domid, devid, 0, n);
}

/* How many frames of connector 0 of @domid's device @devid the log holds. */
static unsigned int frames_logged(int domid, unsigned int devid)
{
	unsigned int n;

	if (access(DISPL_FRAMES, F_OK))
		return 0;
	frame_log_hash(domid, devid, &n);
	return n;
}

/*
 * Checks that @path is the capture sink's PNG of gdmabuf-kms's frame @f at
 * @w x @h: the sink writes stored (uncompressed) deflate blocks, so the
 * pixels are read back without zlib.
 */
static uint32_t kms_pixel(uint32_t x, uint32_t y, uint32_t w, uint32_t h, uint32_t f)
{
	(void)w;
	(void)h;
	return gd_kms_pixel(x, y, f);
}

static bool png_check(const char *path, uint32_t w, uint32_t h, uint32_t f,
		      uint32_t (*pixel)(uint32_t x, uint32_t y, uint32_t w, uint32_t h, uint32_t f),
		      bool soft)
{
	size_t row = 1 + (size_t)w * 3, raw = row * h, got = 0, size, pos = 8;
	uint8_t *png, *pix = malloc(raw);
	FILE *fp = fopen(path, "rb");
	struct stat st;

	igt_assert_f(fp, "no PNG at %s\n", path);
	igt_assert_eq(fstat(fileno(fp), &st), 0);
	size = st.st_size;
	png = malloc(size);
	igt_assert(png && pix);
	igt_assert_eq_u64(fread(png, 1, size, fp), size);
	fclose(fp);
	igt_assert(!memcmp(png + 1, "PNG", 3));
	while (pos + 12 <= size) {
		uint32_t len = png[pos] << 24 | png[pos + 1] << 16 | png[pos + 2] << 8 | png[pos + 3];
		const uint8_t *d = png + pos + 8;

		igt_assert_lte_u64(pos + 12 + (uint64_t)len, size);
		if (!memcmp(png + pos + 4, "IHDR", 4)) {
			igt_assert_eq_u32((uint32_t)(d[0] << 24 | d[1] << 16 | d[2] << 8 | d[3]), w);
			igt_assert_eq_u32((uint32_t)(d[4] << 24 | d[5] << 16 | d[6] << 8 | d[7]), h);
		} else if (!memcmp(png + pos + 4, "IDAT", 4)) {
			size_t z = 2;

			while (z + 5 <= len && got < raw) {
				size_t n = d[z + 1] | d[z + 2] << 8;

				igt_assert_lte_u64(z + 5 + n, len);
				igt_assert_lte_u64(got + n, raw);
				memcpy(pix + got, d + z + 5, n);
				got += n;
				z += 5 + n;
			}
		}
		pos += 12 + len;
	}
	igt_assert_eq_u64(got, raw);
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++) {
			uint32_t v = pixel(x, y, w, h, f);
			const uint8_t *p = pix + y * row + 1 + x * 3;

			if (soft && (p[0] != (uint8_t)(v >> 16) || p[1] != (uint8_t)(v >> 8) ||
				     p[2] != (uint8_t)v)) {
				igt_info("PNG pixel (%u, %u) is %02x%02x%02x, not frame %u's %06x\n",
					 x, y, p[0], p[1], p[2], f, v & 0xffffff);
				free(png);
				free(pix);
				return false;
			}
			igt_assert_f(p[0] == (uint8_t)(v >> 16) && p[1] == (uint8_t)(v >> 8) &&
				     p[2] == (uint8_t)v, "PNG pixel (%u, %u) is %02x%02x%02x, not frame %u's %06x\n",
				     x, y, p[0], p[1], p[2], f, v & 0xffffff);
		}
	free(png);
	free(pix);
	return true;
}

static void check_png(const char *path, uint32_t w, uint32_t h, uint32_t f,
		      uint32_t (*pixel)(uint32_t x, uint32_t y, uint32_t w, uint32_t h, uint32_t f))
{
	png_check(path, w, h, f, pixel, false);
}

/* Every vdispl device of @domid, by number; returns how many (up to @max). */
static int devices(int domid, int *ids, int max)
{
	char cmd[160], line[64];
	FILE *p;
	int n = 0;

	snprintf(cmd, sizeof(cmd), "xenstore-list /local/domain/0/backend/vdispl/%d 2>/dev/null",
		 domid);
	p = popen(cmd, "r");
	while (p && n < max && fgets(line, sizeof(line), p))
		ids[n++] = atoi(line);
	if (p)
		pclose(p);
	return n;
}

/* Waits up to 10 s for @domid to have @n vdispl devices or fewer. */
static bool devices_at_most(int domid, int n)
{
	int ids[16];

	for (int t = 0; t < 100; t++) {
		if (devices(domid, ids, 16) <= n)
			return true;
		usleep(100000);
	}
	return false;
}

/* Detaches what an earlier (failed) subtest left. */
static void detach_all(int domid)
{
	int ids[16], n = devices(domid, ids, 16);
	char cmd[160];

	/* Clients a failed subtest left running in the domU. */
	gd_domu_call(NULL, 0, "exec pkill -f modetest.bin; pkill gdmabuf-kms; true");

	for (int i = 0; i < n; i++) {
		snprintf(cmd, sizeof(cmd), "xl vdispl-detach %d %d > /dev/null 2>&1", domid, ids[i]);
		if (system(cmd))
			igt_info("xl vdispl-detach %d %d failed\n", domid, ids[i]);
	}
	igt_assert_f(devices_at_most(domid, 0), "vdispl devices of domain %d do not go\n", domid);
	/*
	 * And their DRM nodes in the domU: a program that opened a node of a
	 * device going away would get SIGBUS on its buffers.
	 */
	igt_assert_f(!gd_domu_call(NULL, 0, "exec i=0; while ls /dev/dri/card* > /dev/null 2>&1 && "
				   "[ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; "
				   "! ls /dev/dri/card* > /dev/null 2>&1"),
		     "the domU keeps a DRM node of a detached device\n");
	/*
	 * And its xenbus device, which goes a second later (xen-drm-front's
	 * remove waits for InitWait, which a device going offline does not
	 * get): a device attached meanwhile with the same number would be
	 * taken for the old one and never probed.
	 */
	igt_assert_f(!gd_domu_call(NULL, 0, "exec i=0; while ls /sys/bus/xen/devices | grep -q '^vdispl-' && "
				   "[ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; "
				   "! ls /sys/bus/xen/devices | grep -q '^vdispl-'"),
		     "the domU keeps the xenbus device of a detached vdispl\n");
	/*
	 * Its remove ends by writing Closed to its state node, which brings
	 * back the frontend directory the toolstack removed: a device
	 * attached later with the same number would start with that state,
	 * and the domU would not probe it.  What is left is removed.
	 */
	snprintf(cmd, sizeof(cmd), "xenstore-list /local/domain/%d/device/vdispl 2> /dev/null | "
		 "grep -q .", domid);
	for (int t = 0; t < 20 && !system(cmd); t++)
		usleep(100000);
	if (!system(cmd)) {
		igt_info("the domU left frontend nodes of a detached vdispl; removing them\n");
		snprintf(cmd, sizeof(cmd), "xenstore-rm /local/domain/%d/device/vdispl", domid);
		igt_assert_eq(system(cmd), 0);
	}
}

/* The domU's last kernel messages, for a failure's log. */
static void domu_dmesg(void)
{
	char resp[1100];

	gd_domu_call(resp, sizeof(resp), "exec dmesg | tail -n 12 | tr '\\n' '|'");
	igt_info("domU kernel log: %s\n", resp);
}

/*
 * For a failure's log: the backend's log, the domU's kernel log, both
 * ends' xenstore nodes and the domU's xenbus devices.
 */
static void both_ends(int domid)
{
	char cmd[256], resp[1100];

	gd_print_file(backend_log);
	domu_dmesg();
	snprintf(cmd, sizeof(cmd), "xenstore-ls -f /local/domain/%d/device/vdispl; "
		 "xenstore-ls -f /local/domain/0/backend/vdispl", domid);
	if (system(cmd))
		igt_info("xenstore-ls failed\n");
	gd_domu_call(resp, sizeof(resp), "exec ls /sys/bus/xen/devices | tr '\\n' ' '");
	igt_info("domU's xenbus devices: %s\n", resp);
}

/* Whether the domU's kernel has xen-drm-front (loaded by domu-init). */
static bool domu_has_frontend(void)
{
	return !gd_domu_call(NULL, 0, "exec modprobe drm_xen_front 2> /dev/null; "
			     "test -d /sys/module/drm_xen_front");
}

#define NO_FRONTEND "no xen-drm-front in the domU (the harness builds it from linux-source where the kernel lacks it: see harness@build)"

static void attach(int domid, const char *res);
static void kms_frames(int domid, unsigned int devid, unsigned int frames);

/* xen-drm-front in the domU, a fresh backend and a 640x480 device for it. */
static void serve_frontend(int domid)
{
	igt_require_f(domu_has_frontend(), NO_FRONTEND "\n");
	detach_all(domid);
	backend_start(true);
	attach(domid, "640x480");
}

static void test_frontend_frames(int domid)
{
	char cmd[256], png[128];

	serve_frontend(domid);

	/* 60 frames, each as the guest drew it. */
	kms_frames(domid, 0, 60);

	/* The 60th frame on the connector was written as a PNG: the last one. */
	snprintf(png, sizeof(png), DISPL_DIR "/displ-%d-0-0.png", domid);
	check_png(png, 640, 480, 59, kms_pixel);

	snprintf(cmd, sizeof(cmd), "xl vdispl-detach %d 0 >> " DISPL_DIR "/xl.log 2>&1", domid);
	igt_assert_eq(system(cmd), 0);
	igt_assert_f(gd_file_has(DISPL_LOG, "device gone", 10000), "the backend did not see the device go\n");
	igt_assert_f(devices_at_most(domid, 0), "the toolstack did not remove the device\n");
	igt_assert_f(gd_file_has(DISPL_LOG, " 0 copied bytes", 0), "the backend copied bytes\n");
	igt_assert_eq(backend_stop(), 0);
	printf("summary: 60 frames of 640x480 through xen-drm-front, hashes equal, 0 bytes copied\n");
}

/* Whether the domU made a xenbus device of vdispl @id, waiting up to 10 s. */
static bool domu_has_device(int id)
{
	return !gd_domu_call(NULL, 0, "exec i=0; while [ ! -e /sys/bus/xen/devices/vdispl-%d ] && "
			     "[ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; "
			     "test -e /sys/bus/xen/devices/vdispl-%d", id, id);
}

/*
 * Attaches a device with one connector at @res and waits for the domU to
 * make it a xenbus device.  Now and then (arm64) the domU does not take a
 * device attached right after another one went, and its frontend state
 * reads Closed: that device is detached and attached again, once, and the
 * log says so (testing.rst).
 */
static void attach(int domid, const char *res)
{
	int ids[16], n, id, ret;
	char cmd[256];

	for (int tries = 0;; tries++) {
		snprintf(cmd, sizeof(cmd),
			 "xl vdispl-attach %d backend=0 be-alloc=%d connectors=id0:%s >> " DISPL_DIR "/xl.log 2>&1",
			 domid, be_alloc, res);
		ret = system(cmd);
		if (ret) {
			gd_print_file(DISPL_DIR "/xl.log");
			gd_print_file(backend_log);
		}
		igt_assert_f(!ret, "xl vdispl-attach failed\n");
		n = devices(domid, ids, 16);
		id = -1;
		for (int i = 0; i < n; i++)
			id = ids[i] > id ? ids[i] : id;
		if (domu_has_device(id))
			return;
		snprintf(cmd, sizeof(cmd), "xenstore-ls -f /local/domain/%d/device/vdispl/%d", domid, id);
		igt_assert_eq(system(cmd), 0);
		igt_assert_f(!tries, "the domU does not take vdispl %d\n", id);
		igt_info("the domU did not take vdispl %d: detaching it and attaching again\n", id);
		snprintf(cmd, sizeof(cmd), "xl vdispl-detach %d %d >> " DISPL_DIR "/xl.log 2>&1 && "
			 "xenstore-rm /local/domain/%d/device/vdispl/%d 2> /dev/null; true",
			 domid, id, domid, id);
		igt_assert_eq(system(cmd), 0);
		igt_assert(devices_at_most(domid, n - 1));
	}
}

static void test_hostile_frontend(int domid)
{
	unsigned long requests, errors, ok, reconnects, events;
	unsigned long long want, first, last;
	unsigned int frames, logged, w, h;
	const char *seed_env = getenv("GDMABUF_FUZZ_SEED");
	unsigned long long seed = seed_env ? strtoull(seed_env, NULL, 0) : (unsigned long long)time(NULL);
	char resp[1100], cmd[256];
	int ids[16], good, bad;
	bool with_kms;
	const char *kms;
	int ret;

	igt_info("seed 0x%llx (GDMABUF_FUZZ_SEED replays it)\n", seed);
	with_kms = domu_has_frontend();
	if (!with_kms)
		igt_info("%s: the hostile frontend runs alone\n", NO_FRONTEND);
	detach_all(domid);
	backend_start(false);
	good = -1;
	if (with_kms) {
		attach(domid, "320x240");
		igt_assert_eq(devices(domid, ids, 16), 1);
		good = ids[0];
		/*
		 * xen-drm-front must have taken it before autoprobe goes off:
		 * the domU registers the device when its xenstore watch fires.
		 */
		if (gd_domu_call(resp, sizeof(resp), "exec " WAIT_CARD "test -n \"$c\"")) {
			both_ends(domid);
			igt_assert_f(false, "xen-drm-front did not take the first device\n");
		}
	}
	/* The (other) device is for the hostile program, not for xen-drm-front. */
	igt_assert_eq(gd_domu_call(resp, sizeof(resp),
				   "exec echo 0 > /sys/bus/xen/drivers_autoprobe"), 0);
	attach(domid, "320x240");
	igt_assert_eq(devices(domid, ids, 16), with_kms ? 2 : 1);
	bad = ids[0] == good ? ids[1] : ids[0];
	/* As long as the subtest may take (debug kernels: 1200 s), less a margin. */
	gd_domu_set_timeout((getenv("GD_TEST_TIMEOUT") ? atoi(getenv("GD_TEST_TIMEOUT")) : 300) - 30);
	if (with_kms)
		ret = gd_domu_call(resp, sizeof(resp),
				   "exec " WAIT_CARD "/bin/gdmabuf-kms -d $c 199 > /kms.out 2>&1 & kp=$!; "
				   "f=$(/bin/gdmabuf-displ-front %d 0x%llx 100000 2>&1); r=$?; wait $kp; k=$?; "
				   "echo \"$f | kms $k $(cat /kms.out)\"; exit $r", bad, seed);
	else
		ret = gd_domu_call(resp, sizeof(resp), "exec /bin/gdmabuf-displ-front %d 0x%llx 100000 2>&1",
				   bad, seed);
	gd_domu_set_timeout(60);
	gd_domu_call(NULL, 0, "exec echo 1 > /sys/bus/xen/drivers_autoprobe");
	igt_info("domU: %s\n", resp);
	if (ret || (with_kms && !strstr(resp, "frames="))) {
		gd_print_file(DISPL_LOG);
		domu_dmesg();
	}
	igt_assert_eq(ret, 0);
	igt_assert_eq(sscanf(resp, "0 requests=%lu errors=%lu ok=%lu reconnects=%lu events=%lu",
			     &requests, &errors, &ok, &reconnects, &events), 5);
	igt_assert_eq_u64(requests, 100000);
	if (with_kms) {
		kms = strstr(resp, " | kms ");
		igt_assert(kms);
		igt_assert_f(sscanf(kms, " | kms 0 frames=%u hash=%llx first=%llx last=%llx %ux%u",
				    &frames, &want, &first, &last, &w, &h) == 6,
			     "gdmabuf-kms (exit status, output): %s\n", kms + 7);
		igt_assert_eq(frames, 200);
		igt_assert_f(frame_log_hash(domid, good, &logged) == want && logged == frames,
			     "the well-behaved frontend's frames changed while the other was hostile (%u logged)\n",
			     logged);
	}

	for (int dev = with_kms ? 0 : 1; dev < 2; dev++) {
		char gone[64];

		snprintf(cmd, sizeof(cmd), "xl vdispl-detach %d %d >> " DISPL_DIR "/xl.log 2>&1",
			 domid, dev ? bad : good);
		igt_assert_eq(system(cmd), 0);
		snprintf(gone, sizeof(gone), "vdispl%d: device gone", dev ? bad : good);
		igt_assert_f(gd_file_has(DISPL_LOG, gone, 10000), "the backend did not see %s\n", gone);
	}
	igt_assert_eq(backend_stop(), 0);
	printf("summary: %lu requests (%lu refused, %lu ok, %lu reconnects)%s\n",
	       requests, errors, ok, reconnects,
	       with_kms ? ", 200 frames of xen-drm-front intact next to them" : "; no xen-drm-front in this guest");
}

/*
 * Runs gdmabuf-kms in the domU for @frames frames on its newest DRM device
 * and checks that the backend logged exactly those frames for device
 * @devid of @domid.
 */
static void kms_frames(int domid, unsigned int devid, unsigned int frames)
{
	unsigned int before = frames_logged(domid, devid), got, logged, w, h;
	unsigned long long want, first, last;
	char resp[1100];
	int ret;

	ret = gd_domu_call(resp, sizeof(resp), "exec " WAIT_CARD "/bin/gdmabuf-kms -d $c %u 2>&1",
			   frames - 1);
	if (ret) {
		igt_info("gdmabuf-kms: %s\n", resp);
		gd_print_file(backend_log);
		domu_dmesg();
	}
	igt_assert_eq(ret, 0);
	igt_assert_eq(sscanf(resp, "0 frames=%u hash=%llx first=%llx last=%llx %ux%u", &got,
			     &want, &first, &last, &w, &h), 6);
	igt_assert_eq(got, frames);
	ret = frame_log_hash_from(domid, devid, before, &logged) == want;
	if (!ret || logged != frames) {
		igt_info("the guest drew %u frames, first %016llx, last %016llx; the backend logged:\n",
			 frames, first, last);
		gd_print_file(DISPL_FRAMES);
	}
	igt_assert_eq(logged, frames);
	igt_assert_f(ret, "the frames dom0 got are not the frames the guest drew\n");
}

/* Starts gdmabuf-kms in the domU's background for @frames frames. */
static void kms_background(unsigned int frames)
{
	igt_assert_eq(gd_domu_call(NULL, 0, "exec " WAIT_CARD "rm -f /kms.out; "
				   "(/bin/gdmabuf-kms -d $c %u > /kms.out 2>&1; echo \"exit $?\" >> /kms.out) "
				   "> /dev/null 2>&1 & echo $! > /kms.pid", frames - 1), 0);
}

/* Waits up to @s seconds for the background gdmabuf-kms; its output's last two lines. */
static bool kms_background_end(int s, char *resp, size_t size)
{
	/*
	 * Its "exit" line: the domU's init does not reap, kill -0 sees
	 * zombies.  Bounded by the clock, not by a count of rounds: under
	 * TCG a busy domU's grep and sleep took more than the call's 60 s
	 * for 300 rounds of 0.1 s.
	 */
	return !gd_domu_call(resp, size, "exec end=$(($(date +%%s) + %d)); "
			     "while ! grep -q '^exit ' /kms.out && [ $(date +%%s) -lt $end ]; do "
			     "sleep 0.1; done; "
			     "grep -q '^exit ' /kms.out && tail -n 2 /kms.out | tr '\\n' ' '", s);
}

/* Waits up to @ms for the backend to log @n frames of connector 0 of @domid's @devid. */
static void frames_reach(int domid, unsigned int devid, unsigned int n, int ms)
{
	for (int t = 0; t < ms && frames_logged(domid, devid) < n; t += 100)
		usleep(100000);
	if (frames_logged(domid, devid) < n) {
		char resp[1100];

		both_ends(domid);
		gd_domu_call(resp, sizeof(resp), "exec cat /kms.out | tr '\\n' ' '");
		igt_info("kms: %s\n", resp);
	}
	igt_assert_f(frames_logged(domid, devid) >= n, "the guest's frames do not arrive\n");
}

/* Waits up to @ms for every counter of the module to be zero and no domain charged. */
static bool module_idle(int ms)
{
	char line[256];

	for (int t = 0; t <= ms; t += 100) {
		FILE *f = fopen("/sys/kernel/debug/gntdev-dmabuf/stats", "r");
		FILE *d = fopen("/sys/kernel/debug/gntdev-dmabuf/domains", "r");
		bool idle = f && d;

		while (idle && fgets(line, sizeof(line), f)) {
			char name[128];
			unsigned long long v;

			if (sscanf(line, "%127s %llu", name, &v) == 2 && v)
				idle = false;
		}
		while (idle && fgets(line, sizeof(line), d)) {
			unsigned long long dom, pages;

			if (sscanf(line, "%llu %llu", &dom, &pages) == 2)
				idle = false;
		}
		if (f)
			fclose(f);
		if (d)
			fclose(d);
		if (idle)
			return true;
		usleep(100000);
	}
	gd_print_file("/sys/kernel/debug/gntdev-dmabuf/stats");
	return false;
}

/* A fresh backend and gdmabuf-kms streaming @frames frames, the first @ready arrived. */
static void stream_start(int domid, unsigned int frames, unsigned int ready)
{
	serve_frontend(domid);
	kms_background(frames);
	frames_reach(domid, 0, ready, 30000);
}

static void test_backend_killed(void)
{
	int domid = gd_require_domu(), st;
	char resp[1100];

	stream_start(domid, 100000, 20);

	kill(backend, SIGKILL);
	igt_assert_eq(waitpid(backend, &st, 0), backend);
	backend = -1;
	igt_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	igt_assert_f(module_idle(10000), "the module kept what the killed backend held\n");

	backend_launch(true, false, DISPL_DIR "/backend2.log");
	/* xen-drm-front drops its device (the stream stops) and starts again. */
	igt_assert_f(kms_background_end(30, resp, sizeof(resp)),
		     "the guest's program still runs 30 s after the restart\n");
	igt_info("the stream the backend died under: %s\n", resp);
	igt_assert_f(gd_file_has(backend_log, "connected:", 10000),
		     "the restarted backend did not connect the frontend again\n");
	kms_frames(domid, 0, 30);

	detach_all(domid);
	igt_assert_f(gd_file_has(backend_log, " 0 copied bytes", 10000), "the backend copied bytes\n");
	igt_assert_eq(backend_stop(), 0);
	printf("summary: backend SIGKILLed mid-stream, module idle, restarted backend served 30 frames as drawn\n");
}

/*
 * The SMPTE colour bars libdrm's modetest draws in XRGB8888 (its default
 * pattern): seven bars over the top two thirds, seven reversed ones in
 * the next ninth, and the PLUGE row below (-I, white, +Q, black, then
 * three levels of black in the sixth seventh, black at the end).
 */
static uint32_t smpte_pixel(uint32_t x, uint32_t y, uint32_t w, uint32_t h, uint32_t f)
{
	static const uint32_t top[7] = {
		0xc0c0c0, 0xc0c000, 0x00c0c0, 0x00c000, 0xc000c0, 0xc00000, 0x0000c0,
	};
	static const uint32_t middle[7] = {
		0x0000c0, 0x131313, 0xc000c0, 0x131313, 0x00c0c0, 0x131313, 0xc0c0c0,
	};
	static const uint32_t bottom[8] = {
		0x00214c, 0xffffff, 0x32006a, 0x131313, 0x090909, 0x131313, 0x1d1d1d, 0x131313,
	};

	(void)f;
	if (y < h * 6 / 9)
		return top[x * 7 / w];
	if (y < h * 7 / 9)
		return middle[x * 7 / w];
	if (x < w * 5 / 7)
		return bottom[x * 4 / (w * 5 / 7)];
	if (x < w * 6 / 7)
		return bottom[(x - w * 5 / 7) * 3 / (w / 7) + 4];
	return bottom[7];
}

static void test_modetest(void)
{
	int domid = gd_require_domu();
	char resp[1100], png[128];

	igt_require_f(domu_has_frontend(), NO_FRONTEND "\n");
	igt_require_f(!gd_domu_call(NULL, 0, "exec modetest -h > /dev/null 2>&1; test $? -ne 127"),
		      "no modetest in the domU\n");
	detach_all(domid);
	backend_start(true);
	attach(domid, "640x480");
	/* modetest holds the mode until a line comes on its input. */
	igt_assert_eq(gd_domu_call(resp, sizeof(resp), "exec " WAIT_CARD
				   "modetest -M xendrm-du -c > /modetest.out 2>&1; "
				   "id=$(awk '$3 == \"connected\" { print $1; exit }' /modetest.out); "
				   "test -n \"$id\" && "
				   "((sleep 15; echo) | modetest -M xendrm-du -F smpte -s $id:640x480 >> /modetest.out 2>&1; "
				   "echo \"exit $?\" >> /modetest.out) > /dev/null 2>&1 &"), 0);
	for (int t = 0; t < 200 && !frames_logged(domid, 0); t++)
		usleep(100000);
	if (!frames_logged(domid, 0)) {
		gd_domu_call(resp, sizeof(resp), "exec tail -n 12 /modetest.out | tr '\\n' '|'");
		igt_info("modetest: %s\n", resp);
	}
	frames_reach(domid, 0, 1, 0);
	kill(backend, SIGUSR1);
	igt_assert_f(gd_file_has(backend_log, "written to", 10000), "no PNG written on SIGUSR1\n");
	snprintf(png, sizeof(png), DISPL_DIR "/displ-%d-0-0.png", domid);
	check_png(png, 640, 480, 0, smpte_pixel);

	igt_assert(!gd_domu_call(resp, sizeof(resp), "exec i=0; while ! grep -q '^exit ' /modetest.out && "
				 "[ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; "
				 "tail -n 3 /modetest.out | tr '\\n' ' '"));
	igt_info("modetest: %s\n", resp);
	igt_assert_f(strstr(resp, "exit 0"), "modetest failed\n");
	detach_all(domid);
	igt_assert_f(gd_file_has(backend_log, " 0 copied bytes", 10000), "the backend copied bytes\n");
	igt_assert_eq(backend_stop(), 0);
	printf("summary: modetest's SMPTE bars at 640x480 arrived pixel for pixel, 0 bytes copied\n");
}

/* How often xen-drm-front's remove found the backend not in InitWait. */
static int remove_complaints(void)
{
	char resp[256];
	int n = -1;

	igt_assert_eq(gd_domu_call(resp, sizeof(resp),
				   "exec dmesg | grep -c 'while removing driver' || true"), 0);
	igt_assert_eq(sscanf(resp, "%*d %d", &n), 1);
	return n;
}

static void test_frontend_reload(void)
{
	int domid = gd_require_domu(), complaints;
	char resp[1100];

	serve_frontend(domid);
	kms_frames(domid, 0, 10);
	/* Detaches (the toolstack's Closed) make its remove complain. */
	complaints = remove_complaints();

	/* xenbus holds the driver's module while a device is bound to it. */
	igt_assert_f(!gd_domu_call(resp, sizeof(resp),
				   "exec echo vdispl-0 > /sys/bus/xen/drivers/vdispl/unbind && "
				   "rmmod drm_xen_front 2>&1"),
		     "unbind and rmmod drm_xen_front: %s\n", resp);
	igt_assert_f(gd_file_has(backend_log, "disconnecting", 10000),
		     "the backend did not see the frontend go\n");
	igt_assert_f(module_idle(10000), "the module kept the unloaded frontend's buffers\n");
	/* Its remove waited for InitWait, and got it (no new complaint). */
	igt_assert_f(remove_complaints() == complaints,
		     "xen-drm-front's remove did not see the backend in InitWait\n");
	igt_assert_f(!gd_domu_call(resp, sizeof(resp), "exec modprobe drm_xen_front 2>&1"),
		     "modprobe drm_xen_front: %s\n", resp);
	kms_frames(domid, 0, 30);

	detach_all(domid);
	igt_assert_eq(backend_stop(), 0);
	printf("summary: drm_xen_front unloaded and loaded again, 30 frames as drawn after it\n");
}

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

/* Takes (pidfd_getfd()) every dma-buf of this module that @pid holds. */
static int take_dmabufs(pid_t pid, int *fds, int max)
{
	int pidfd = syscall(SYS_pidfd_open, pid, 0), n = 0;
	char dir[64], path[320], line[256];
	struct dirent *e;
	DIR *d;

	igt_assert_lte(0, pidfd);
	snprintf(dir, sizeof(dir), "/proc/%d/fdinfo", pid);
	d = opendir(dir);
	igt_assert(d);
	while (n < max && (e = readdir(d))) {
		FILE *f;
		bool ours = false;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f))
			if (!strncmp(line, "exp_name:", 9) && strstr(line, "xen_gntdev_dmabuf"))
				ours = true;
		if (f)
			fclose(f);
		if (ours) {
			int fd = syscall(SYS_pidfd_getfd, pidfd, atoi(e->d_name), 0);

			igt_assert_lte(0, fd);
			fds[n++] = fd;
		}
	}
	closedir(d);
	close(pidfd);
	return n;
}

/* How many lines of @path hold @needle. */
static int file_count(const char *path, const char *needle)
{
	char line[512];
	FILE *f = fopen(path, "r");
	int n = 0;

	while (f && fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	if (f)
		fclose(f);
	return n;
}

static void test_destroy_held(void)
{
	int domid = gd_require_domu(), fds[16], n;
	char resp[1100];

	stream_start(domid, 60, 10);
	n = take_dmabufs(backend, fds, 16);
	igt_info("holding %d of the backend's dma-bufs\n", n);
	igt_assert_lte(2, n);

	/* Two destroys, each answered after the backend's 2 s. */
	igt_assert_f(kms_background_end(30, resp, sizeof(resp)), "the guest's program does not end\n");
	igt_info("domU: %s\n", resp);
	igt_assert_f(strstr(resp, "frames=60 ") && strstr(resp, "exit 0"),
		     "the guest's program failed while dom0 held its buffers\n");
	igt_assert_eq(file_count(backend_log, "still held after"), 2);
	igt_assert_f(gd_stat("live_exports") > 0, "the held buffers are not live\n");
	kms_frames(domid, 0, 20);

	for (int i = 0; i < n; i++)
		close(fds[i]);
	for (int t = 0; t < 100 && file_count(backend_log, "after its destroy reply") < 2; t++)
		usleep(100000);
	igt_assert_f(file_count(backend_log, "after its destroy reply") == 2,
		     "the backend did not see both late releases\n");
	igt_assert_f(module_idle(10000), "the module kept the buffers after the holder let go\n");
	detach_all(domid);
	igt_assert_eq(backend_stop(), 0);
	printf("summary: %d dma-bufs held in dom0 past 2 destroys; replies after 2 s each, released when let go\n",
	       n);
}

static void test_guest_destroyed(void)
{
	int domid = gd_require_domu(), st;
	char gone[64];

	stream_start(domid, 100000, 20);

	gd_domu_destroy();
	snprintf(gone, sizeof(gone), "dom%d vdispl0: device gone", domid);
	igt_assert_f(gd_file_has(backend_log, gone, 20000), "the backend did not see the device go\n");
	igt_assert_f(module_idle(10000), "the module kept the destroyed domain's grants\n");
	for (int t = 0; t < 100 && gd_domain_exists(domid); t++)
		usleep(100000);
	igt_assert_f(!gd_domain_exists(domid), "domain %d does not die\n", domid);
	igt_assert_eq(waitpid(backend, &st, WNOHANG), 0);

	domid = gd_domu_start();
	attach(domid, "640x480");
	kms_frames(domid, 0, 30);
	detach_all(domid);
	igt_assert_f(gd_file_has(backend_log, " 0 copied bytes", 10000), "the backend copied bytes\n");
	igt_assert_eq(backend_stop(), 0);
	printf("summary: domU destroyed mid-stream, its domain died, the backend served the new domU %d\n",
	       domid);
}


/* ---- the KMS sink: vkms in dom0 scans the guest's buffers out ---- */

/*
 * Loads vkms and makes the next backend its KMS sink's; the card is
 * closed again, so that the backend is its first opener and master.
 */
static void kms_sink_start(void)
{
	close(gd_vkms_open(kms_card, sizeof(kms_card)));
	igt_info("vkms is %s\n", kms_card);
}

/* The backend is stopped: vkms goes, the next backend captures again. */
static void kms_sink_end(void)
{
	if (!kms_card[0])
		return;
	kms_card[0] = 0;
	gd_vkms_unload();
}

/*
 * xen-drm-front, what a sink shows on (@start: vkms, Weston), a backend
 * with that sink (@sink, as its start line names it) and a 640x480 device.
 */
static void serve_sink(int domid, void (*start)(void), const char *sink)
{
	igt_require_f(domu_has_frontend(), NO_FRONTEND "\n");
	detach_all(domid);
	start();
	backend_start(true);
	igt_assert_f(gd_file_has(backend_log, sink, 0), "the backend has no %s\n", sink);
	attach(domid, "640x480");
}

static void serve_kms(int domid)
{
	serve_sink(domid, kms_sink_start, "kms sink");
}

/*
 * Asks the backend for a writeback capture until one is written (up to
 * @s seconds: the guest may not have set its mode yet).
 */
static void kms_capture(int s)
{
	const char *done = wl_socket[0] ? "(compositor capture)" : "(writeback";
	int before = file_count(backend_log, done);

	for (int t = 0; t < s; t++) {
		kill(backend, SIGUSR1);
		for (int i = 0; i < 10; i++) {
			if (file_count(backend_log, done) > before)
				return;
			usleep(100000);
		}
	}
	if (wl_socket[0]) {
		gd_print_file(backend_log);
		gd_print_file(GD_WESTON_LOG);
		igt_assert_f(false, "no compositor capture in %d s\n", s);
	}
	/* Why the kernel refused the commit: DRM's atomic debug messages. */
	if (!system("echo 0x16 > /sys/module/drm/parameters/debug")) {
		kill(backend, SIGUSR1);
		usleep(500000);
		igt_assert_eq(system("echo 0 > /sys/module/drm/parameters/debug"), 0);
		igt_assert_eq(system("dmesg | grep -i '\\[drm' | tail -n 40"), 0);
	}
	gd_print_file(backend_log);
	igt_assert_f(false, "no writeback capture in %d s\n", s);
}

/*
 * gdmabuf-kms in the domU's background for @frames frames, holding the
 * last on screen (until /hold goes); waits up to 60 s until it holds it.
 */
static void kms_hold(unsigned int frames)
{
	char resp[1100];

	igt_assert_eq(gd_domu_call(NULL, 0, "exec " WAIT_CARD "rm -f /kms.out /hold; "
				   "(/bin/gdmabuf-kms -d $c -H /hold %u > /kms.out 2>&1; "
				   "echo \"exit $?\" >> /kms.out) > /dev/null 2>&1 &", frames - 1), 0);
	if (gd_domu_call(NULL, 0, "exec i=0; while [ ! -e /hold ] && ! grep -q '^exit ' /kms.out && "
			 "[ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; test -e /hold")) {
		gd_domu_call(resp, sizeof(resp), "exec cat /kms.out | tr '\\n' ' '");
		igt_info("gdmabuf-kms: %s\n", resp);
		gd_print_file(backend_log);
		if (wl_socket[0] && system("tail -n 12 " GD_WESTON_LOG))
			igt_info("no Weston log\n");
		domu_dmesg();
		igt_assert_f(false, "gdmabuf-kms did not reach its last frame\n");
	}
}

/* Lets the held gdmabuf-kms end; checks it showed @frames frames. */
static void kms_release(unsigned int frames)
{
	char resp[1100], want[32];

	gd_domu_call(NULL, 0, "exec rm -f /hold");
	igt_assert_f(kms_background_end(30, resp, sizeof(resp)), "gdmabuf-kms does not end\n");
	igt_info("gdmabuf-kms: %s\n", resp);
	snprintf(want, sizeof(want), "frames=%u ", frames);
	igt_assert_f(strstr(resp, want) && strstr(resp, "exit 0"), "gdmabuf-kms failed\n");
}

/* The backend's "N flips shown, U us each" of the device that went: U. */
static unsigned long long flip_us_logged(void)
{
	unsigned long long n = 0, us = 0;
	char line[512];
	FILE *f = fopen(backend_log, "r");

	while (f && fgets(line, sizeof(line), f)) {
		char *p = strstr(line, " flips shown, ");

		while (p && p > line && p[-1] != ' ')
			p--;
		if (p && sscanf(p, "%llu flips shown, %llu us each", &n, &us) != 2)
			us = 0;
	}
	if (f)
		fclose(f);
	return us;
}

/*
 * The time the last device's flips took (logged), which must be that of a
 * 60 Hz display (@by), not the backend's own speed: at least 8 ms.
 */
static unsigned long long flips_paced(const char *by)
{
	unsigned long long us = flip_us_logged();

	igt_info("flips took %llu us each from request to %s\n", us, by);
	igt_assert_f(us >= 8000, "flips complete faster than a 60 Hz display: %llu us\n", us);
	return us;
}

/*
 * The end of a subtest that served a frontend: detached, nothing copied,
 * no commit refused (KMS), the backend ended well, vkms gone, every
 * buffer released.
 */
static void serve_done(int domid)
{
	detach_all(domid);
	be_alloc = false;
	igt_assert_f(gd_file_has(backend_log, " 0 copied bytes", 10000), "the backend copied bytes\n");
	igt_assert_f(!kms_card[0] || gd_file_has(backend_log, " 0 refused", 0),
		     "vkms refused a commit\n");
	igt_assert_eq(backend_stop(), 0);
	kms_sink_end();
	weston_stop();
	igt_assert_f(module_idle(10000), "the module kept buffers after the backend ended\n");
}

/* Weston ends, if it runs. */
static void weston_stop(void)
{
	wl_socket[0] = 0;
	if (weston >= 0)
		gd_weston_stop(weston);
	weston = -1;
}

/* Weston at 640x480 (gd_weston_start()). */
static void weston_start(void)
{
	weston_stop();
	weston = gd_weston_start(640, 480);
	snprintf(wl_socket, sizeof(wl_socket), "%s", GD_WL_SOCKET);
}

/* The renderer Weston says it uses must be Mesa's software one. */
static void weston_renderer_check(void)
{
	igt_assert_f(gd_file_has(GD_WESTON_LOG, "GL renderer: llvmpipe", 0) &&
		     gd_file_has(GD_WESTON_LOG, "Using GL renderer", 0),
		     "Weston does not render with GL on llvmpipe\n");
	igt_assert_f(gd_file_has(GD_WESTON_LOG, "dmabuf support: modifiers", 0),
		     "Weston's EGL cannot import dma-bufs with modifiers\n");
}

/* How many of Weston's mappings are of dma-bufs (llvmpipe maps what it imports). */
static int weston_dmabuf_maps(void)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/maps", weston);
	return file_count(path, "dmabuf");
}

static void serve_wayland(int domid)
{
	serve_sink(domid, weston_start, "wayland sink");
}

static uint32_t black_pixel(uint32_t x, uint32_t y, uint32_t w, uint32_t h, uint32_t f)
{
	(void)x;
	(void)y;
	(void)w;
	(void)h;
	(void)f;
	return 0;
}

/*
 * Weston's capture of its output must become frame @f of the guest (or
 * black) while the guest holds it: up to 20 captures a second apart, each
 * logged when it differs (Weston may still be compiling a shader for the
 * frame: testing.rst).
 */
static void wl_capture_check(uint32_t f,
			     uint32_t (*pixel)(uint32_t x, uint32_t y, uint32_t w, uint32_t h, uint32_t f))
{
	for (int i = 0; i < 20; i++) {
		kms_capture(15);
		if (png_check(DISPL_DIR "/compositor-0.png", 640, 480, f, pixel, true)) {
			if (i)
				igt_info("capture %d of frame %u was right\n", i + 1, f);
			return;
		}
		sleep(1);
	}
	if (system("grep -v '^ \\|EGL\\|GL_' " GD_WESTON_LOG " | tail -n 25; grep -c . " DISPL_LOG
		   "; grep -i 'flip\\|dropped\\|busy' " DISPL_LOG " | tail -n 5"))
		igt_info("no logs\n");
	kms_capture(15);
	check_png(DISPL_DIR "/compositor-0.png", 640, 480, f, pixel);
}

static void test_wayland_frames(int domid)
{
	unsigned long long us;
	int maps;

	serve_wayland(domid);
	weston_renderer_check();
	igt_assert_f(gd_file_has(backend_log, "(XRGB8888 linear)", 0),
		     "Weston does not offer linear XRGB8888 dma-bufs\n");
	kms_hold(60);
	/* Imported by mapping: llvmpipe has the guest's pages in its address space. */
	maps = weston_dmabuf_maps();
	igt_info("Weston has %d dma-buf mappings\n", maps);
	igt_assert_f(maps > 0, "Weston did not map the imported dma-bufs\n");
	wl_capture_check(59, kms_pixel);
	kms_release(60);
	/* The program ended, xen-drm-front turned the CRTC off: no stale frame. */
	wl_capture_check(0, black_pixel);
	detach_all(domid);
	igt_assert_f(!gd_file_has(backend_log, "goes through wl_shm", 0), "a buffer was copied\n");
	us = flips_paced("Weston's frame callback");
	serve_done(domid);
	printf("summary: 60 frames as linux-dmabuf buffers in Weston (GL, llvmpipe), its capture of the last equal to the guest's, black after the guest's program ended, %llu us per flip, 0 bytes copied\n",
	       us);
}

static void test_wayland_shm(int domid)
{
	unsigned long long copied = 0, commits = 0, replaced = 0;
	const char *p;
	char line[512];
	FILE *f;

	backend_extra = "--wayland-buffers=shm";
	serve_wayland(domid);
	kms_hold(30);
	wl_capture_check(29, kms_pixel);
	kms_release(30);
	detach_all(domid);
	igt_assert_eq(backend_stop(), 0);
	backend_extra = NULL;
	f = fopen(backend_log, "r");
	while (f && fgets(line, sizeof(line), f)) {
		if ((p = strstr(line, " discarded, ")))
			sscanf(p, " discarded, %llu bytes copied", &copied);
		if ((p = strstr(line, "conn0: ")) && strstr(line, " commits, "))
			sscanf(p, "conn0: %llu commits", &commits);
		if (strstr(line, " flips replaced by the next") && (p = strstr(line, "vdispl")) &&
		    (p = strchr(p, ' ')))
			sscanf(p, " %llu", &replaced);
	}
	if (f)
		fclose(f);
	igt_info("%llu commits, %llu bytes copied into wl_shm, %llu flips replaced while Weston was busy\n",
		 commits, copied, replaced);
	/*
	 * Each commit one whole frame of 640x480x4, the first and the last
	 * at least; flips that came while Weston was busy are not copied.
	 */
	igt_assert_lte_u64(2, commits);
	igt_assert_eq_u64(commits * 640 * 480 * 4, copied);
	weston_stop();
	igt_assert_f(module_idle(10000), "the module kept buffers after the backend ended\n");
	printf("summary: --wayland-buffers=shm: %llu commits of 30 frames, each copied into wl_shm (%llu bytes, %llu flips replaced while Weston was busy), Weston's capture equal to the guest's last frame\n",
	       commits, copied, replaced);
}

/* The module's counter @name (debugfs stats). */
static unsigned long long module_stat(const char *name)
{
	unsigned long long v = 0, x;
	char line[256], n[128];
	FILE *f = fopen("/sys/kernel/debug/gntdev-dmabuf/stats", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%127s %llu", n, &x) == 2 && !strcmp(n, name))
			v = x;
	if (f)
		fclose(f);
	return v;
}

/*
 * Weston 14 with Mesa 25's llvmpipe keeps what it imported of a dma-buf
 * until the client disconnects, even after the wl_buffer and every
 * surface it was attached to are destroyed (testing.rst): the guest's
 * pages stay held by the compositor until then, and only then.
 */
static void test_wayland_destroy_shown(int domid)
{
	unsigned long long held;

	serve_wayland(domid);
	kms_hold(20);
	wl_capture_check(19, kms_pixel);
	/* Killed with its frame in Weston's window. */
	igt_assert_eq(gd_domu_call(NULL, 0, "exec pkill -9 gdmabuf-kms; rm -f /hold"), 0);
	igt_assert_f(gd_file_has(backend_log, "was on the window: a new window", 15000),
		     "the window of the destroyed buffer stays\n");
	/* Its exit waits for the destroys, which wait for Weston (2 s each). */
	for (int i = 0; i < 120 && gd_domu_call(NULL, 0, "exec ! pidof gdmabuf-kms > /dev/null"); i++)
		usleep(500000);
	igt_assert_f(!gd_domu_call(NULL, 0, "exec ! pidof gdmabuf-kms > /dev/null"),
		     "the killed program does not end\n");
	wl_capture_check(0, black_pixel);
	held = module_stat("live_exports");
	igt_info("exports Weston still holds after the guest destroyed them: %llu\n", held);
	/* The next client is served as before. */
	kms_hold(10);
	wl_capture_check(9, kms_pixel);
	kms_release(10);
	/* Everything goes with the backend's connection. */
	serve_done(domid);
	printf("summary: buffers destroyed while Weston showed them: new black window, next client served, %llu exports held by Weston until the backend disconnected, then all released\n",
	       held);
}

/* A 320x240 connector's frame, centred on Weston's 640x480 output. */
static uint32_t centred_pixel(uint32_t x, uint32_t y, uint32_t w, uint32_t h, uint32_t f)
{
	uint32_t ox = (w - 320) / 2, oy = (h - 240) / 2;

	if (x < ox || y < oy || x >= ox + 320 || y >= oy + 240)
		return 0;
	return gd_kms_pixel(x - ox, y - oy, f);
}

static void test_wayland_resize(int domid)
{
	serve_wayland(domid);
	kms_hold(10);
	wl_capture_check(9, kms_pixel);
	kms_release(10);
	detach_all(domid);
	attach(domid, "320x240");
	kms_hold(10);
	wl_capture_check(9, centred_pixel);
	kms_release(10);
	wl_capture_check(0, black_pixel);
	serve_done(domid);
	printf("summary: a 640x480 connector, then 320x240: Weston's capture shows the smaller frame centred on black with nothing of the larger one, then black\n");
}

static void test_kms_scanout(int domid)
{
	unsigned long long us;
	char png[128];

	serve_kms(domid);
	kms_hold(60);
	kms_capture(10);
	snprintf(png, sizeof(png), DISPL_DIR "/scanout-%d-0-0.png", domid);
	check_png(png, 640, 480, 59, kms_pixel);
	kms_release(60);
	detach_all(domid);
	us = flips_paced("vkms's completion");
	serve_done(domid);
	printf("summary: 60 frames scanned out by vkms in dom0, writeback capture of the last equal to the guest's, %llu us per flip\n",
	       us);
}

static void test_kms_modetest(int domid)
{
	char resp[1100], png[128];

	igt_require_f(!gd_domu_call(NULL, 0, "exec modetest -h > /dev/null 2>&1; test $? -ne 127"),
		      "no modetest in the domU\n");
	serve_kms(domid);
	igt_assert_eq(gd_domu_call(resp, sizeof(resp), "exec " WAIT_CARD
				   "modetest -M xendrm-du -c > /modetest.out 2>&1; "
				   "id=$(awk '$3 == \"connected\" { print $1; exit }' /modetest.out); "
				   "test -n \"$id\" && "
				   "((sleep 20; echo) | modetest -M xendrm-du -F smpte -s $id:640x480 >> /modetest.out 2>&1; "
				   "echo \"exit $?\" >> /modetest.out) > /dev/null 2>&1 &"), 0);
	kms_capture(15);
	snprintf(png, sizeof(png), DISPL_DIR "/scanout-%d-0-0.png", domid);
	check_png(png, 640, 480, 0, smpte_pixel);
	igt_assert(!gd_domu_call(resp, sizeof(resp), "exec i=0; while ! grep -q '^exit ' /modetest.out && "
				 "[ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; "
				 "tail -n 3 /modetest.out | tr '\\n' ' '"));
	igt_info("modetest: %s\n", resp);
	igt_assert_f(strstr(resp, "exit 0"), "modetest failed\n");
	serve_done(domid);
	printf("summary: modetest's SMPTE bars scanned out by vkms, the writeback capture equal pixel for pixel\n");
}

static void test_kms_destroy_shown(int domid)
{
	char png[128];

	serve_kms(domid);
	kms_hold(20);
	kms_capture(10);
	/* Killed with its frame on dom0's plane: the guest's kernel cleans up. */
	igt_assert_eq(gd_domu_call(NULL, 0, "exec pkill -9 gdmabuf-kms; rm -f /hold"), 0);
	igt_assert_f(module_idle(15000),
		     "the module kept the killed program's buffers (the plane still holds them?)\n");
	kill(backend, SIGUSR1);
	igt_assert_f(gd_file_has(backend_log, "nothing on screen to capture", 10000),
		     "the plane still shows the destroyed buffer\n");
	/* The next client is served as before. */
	kms_hold(10);
	kms_capture(10);
	snprintf(png, sizeof(png), DISPL_DIR "/scanout-%d-0-0.png", domid);
	check_png(png, 640, 480, 9, kms_pixel);
	kms_release(10);
	serve_done(domid);
	printf("summary: buffers destroyed while vkms scanned them out: plane off, all released, next client served\n");
}

/*
 * gdmabuf-displ-front @args on a device of one connector at @res that no
 * driver takes (the domU's autoprobe is off while it is attached; be-alloc
 * as be_alloc says), its output in @resp; the device is detached again.
 * Returns its exit status.
 */
static int protocol_frontend(int domid, const char *res, const char *args, char *resp,
			     size_t size)
{
	char cmd[160];
	int ids[16], ret;

	igt_assert_eq(gd_domu_call(resp, size, "exec echo 0 > /sys/bus/xen/drivers_autoprobe"), 0);
	attach(domid, res);
	igt_assert_eq(devices(domid, ids, 16), 1);
	ret = gd_domu_call(resp, size, "exec /bin/gdmabuf-displ-front %d %s 2>&1", ids[0], args);
	gd_domu_call(NULL, 0, "exec echo 1 > /sys/bus/xen/drivers_autoprobe");
	igt_info("domU: %s\n", resp);
	if (ret)
		gd_print_file(backend_log);
	snprintf(cmd, sizeof(cmd), "xl vdispl-detach %d %d >> " DISPL_DIR "/xl.log 2>&1", domid, ids[0]);
	igt_assert_eq(system(cmd), 0);
	igt_assert_f(devices_at_most(domid, 0), "the toolstack did not remove the device\n");
	return ret;
}

static void test_kms_map(int domid)
{
	char resp[1100], png[128], map[64];

	igt_require_f(domu_has_frontend(), NO_FRONTEND "\n");
	/* A map to an output the device does not have: the frontend is refused. */
	detach_all(domid);
	kms_sink_start();
	backend_extra = "--kms-map=*.*.*=HDMI-A-1";
	backend_start(true);
	igt_assert_f(protocol_frontend(domid, "640x480", "kms 640 480", resp, sizeof(resp)),
		     "a frontend no map allows was connected: %s\n", resp);
	igt_assert_f(gd_file_has(backend_log, "(see --kms-map)", 0),
		     "the backend did not say why it refused the connector\n");
	detach_all(domid);
	igt_assert_eq(backend_stop(), 0);

	/* This domain's connector 0 on vkms's output, by name. */
	snprintf(map, sizeof(map), "--kms-map=%d.*.0=Virtual-1", domid);
	backend_extra = map;
	backend_start(true);
	backend_extra = NULL;
	attach(domid, "640x480");
	igt_assert_f(gd_file_has(backend_log, "shown on Virtual-1", 10000), "the map was not followed\n");
	kms_hold(10);
	kms_capture(10);
	snprintf(png, sizeof(png), DISPL_DIR "/scanout-%d-0-0.png", domid);
	check_png(png, 640, 480, 9, kms_pixel);
	kms_release(10);
	serve_done(domid);
	printf("summary: --kms-map: an output the device lacks refuses the frontend with the reason; one it has shows the frames\n");
}

static void test_kms_bad_fb(int domid)
{
	char resp[1100];
	unsigned int cases;
	double us;

	detach_all(domid);
	kms_sink_start();
	backend_start(true);
	igt_assert_eq(protocol_frontend(domid, "640x480", "kms 640 480", resp, sizeof(resp)), 0);
	igt_assert_eq(sscanf(resp, "0 kms-cases=%u flip_us=%lf", &cases, &us), 2);
	igt_assert_f(gd_file_has(backend_log, "cannot show format", 0),
		     "the backend did not say why it refused the format\n");
	igt_assert_f(gd_file_has(backend_log, "cannot show a 320x240 framebuffer", 0),
		     "the backend did not say why it refused the size\n");
	igt_assert_eq(backend_stop(), 0);
	kms_sink_end();
	igt_assert_f(module_idle(10000), "the module kept buffers after the backend ended\n");
	printf("summary: %u cases; what vkms's plane cannot take refused at FB_ATTACH; flips %.0f us\n",
	       cases, us);
}

/* ---- backend-allocated buffers: the guest draws into dom0's pages ---- */

#define BALLOC_PV "a PV domU cannot map dom0's pages into a process: xen-drm-front's mmap of a backend-allocated buffer ends in SIGBUS (displ-balloc-pv-user-map shows it)"

/* Whether the domU is a PV guest (x86_64's test domU). */
static bool domu_is_pv(void)
{
	return !gd_domu_call(NULL, 0, "exec grep -qx PV /sys/hypervisor/guest_type");
}

/*
 * On a PV domU, drawing into dom0's pages fails: the process that maps a
 * backend-allocated buffer gets SIGBUS, and the guest's kernel complains
 * about its own page accounting.  dom0 is not hurt: the backend serves
 * on, and everything is released when the device goes.
 */
static void test_balloc_pv_user_map(int domid)
{
	char resp[1100], dmesg[1100];

	igt_require_f(domu_is_pv(), "the domU is not PV: it draws into dom0's pages (displ-balloc-frames)\n");
	be_alloc = true;
	serve_frontend(domid);
	igt_assert_eq(gd_domu_call(resp, sizeof(resp), "exec " WAIT_CARD "/bin/gdmabuf-kms -d $c 9 2>&1; "
				   "echo \" status=$?\""), 0);
	gd_domu_call(dmesg, sizeof(dmesg), "exec dmesg | grep -m 1 'Bad rss-counter' || true");
	igt_info("domU: %s; its kernel: %s\n", resp, dmesg);
	igt_assert_f(strstr(resp, "status=135"), "not the SIGBUS a PV guest gets\n");
	serve_done(domid);
	printf("summary: PV domU: mmap of a be-alloc buffer gives SIGBUS in the guest; dom0 unharmed, all released\n");
}

static void test_balloc_frames(int domid)
{
	char png[128];

	igt_require_f(!domu_is_pv(), BALLOC_PV "\n");
	be_alloc = true;
	serve_frontend(domid);
	kms_frames(domid, 0, 60);
	snprintf(png, sizeof(png), DISPL_DIR "/displ-%d-0-0.png", domid);
	check_png(png, 640, 480, 59, kms_pixel);
	igt_assert_f(gd_file_has(backend_log, "backend-allocated buffers come from", 0) &&
		     gd_file_has(backend_log, " pages from ", 0), "the backend did not allocate\n");
	serve_done(domid);
	printf("summary: 60 frames drawn by the guest into dom0-allocated buffers, hashes equal, 0 bytes copied\n");
}

static void test_wayland_balloc(int domid)
{
	igt_require_f(!domu_is_pv(), BALLOC_PV "\n");
	be_alloc = true;
	serve_wayland(domid);
	weston_renderer_check();
	kms_hold(60);
	wl_capture_check(59, kms_pixel);
	igt_assert_f(gd_file_has(backend_log, "backend-allocated buffers come from", 0) &&
		     gd_file_has(backend_log, " pages from ", 0), "the backend did not allocate\n");
	kms_release(60);
	wl_capture_check(0, black_pixel);
	detach_all(domid);
	igt_assert_f(!gd_file_has(backend_log, "goes through wl_shm", 0), "a buffer was copied\n");
	be_alloc = false;
	serve_done(domid);
	printf("summary: 60 frames drawn by the guest into dom0-allocated buffers, shown by Weston as linux-dmabuf buffers, its capture equal to the last, black after the program ended, 0 bytes copied\n");
}

static void test_kms_balloc(int domid)
{
	char png[128];

	igt_require_f(!domu_is_pv(), BALLOC_PV "\n");
	be_alloc = true;
	serve_kms(domid);
	kms_hold(60);
	kms_capture(10);
	snprintf(png, sizeof(png), DISPL_DIR "/scanout-%d-0-0.png", domid);
	check_png(png, 640, 480, 59, kms_pixel);
	igt_assert_f(gd_file_has(backend_log, "backend-allocated buffers come from kms", 0),
		     "the buffers are not vkms's dumb buffers\n");
	kms_release(60);
	be_alloc = false;
	serve_done(domid);
	printf("summary: the guest drew 60 frames into vkms's own dumb buffers, scanned out as drawn\n");
}

static void test_kms_balloc_modetest(int domid)
{
	igt_require_f(!domu_is_pv(), BALLOC_PV "\n");
	be_alloc = true;
	test_kms_modetest(domid);
	be_alloc = false;
}

static void test_balloc_guest_destroyed(void)
{
	int domid = gd_require_domu();
	bool pv = domu_is_pv();
	char gone[64];

	be_alloc = true;
	/* The guest's kernel maps dom0's pages; on PV, no process may. */
	serve_frontend(domid);
	igt_assert_eq(gd_domu_call(NULL, 0, "exec " WAIT_CARD "rm -f /kms.out; "
				   "(/bin/gdmabuf-kms -d $c %s 99999 > /kms.out 2>&1; echo \"exit $?\" >> /kms.out) "
				   "> /dev/null 2>&1 &", pv ? "-N" : ""), 0);
	frames_reach(domid, 0, 20, 30000);
	igt_assert_f(gd_stat("live_imports") >= 2, "dom0's buffers are not granted\n");
	gd_domu_destroy();
	snprintf(gone, sizeof(gone), "dom%d vdispl0: device gone", domid);
	igt_assert_f(gd_file_has(backend_log, gone, 20000), "the backend did not see the device go\n");
	/* The pages stay out of reuse until Xen has unmapped them; then all goes. */
	igt_assert_f(module_idle(20000), "the module kept dom0's pages after the domain died\n");
	for (int t = 0; t < 100 && gd_domain_exists(domid); t++)
		usleep(100000);
	igt_assert_f(!gd_domain_exists(domid), "domain %d does not die\n", domid);
	be_alloc = false;
	igt_assert_eq(backend_stop(), 0);
	domid = gd_domu_start();
	printf("summary: domU destroyed while mapping dom0's buffers: grants ended, counters zero, domU %d started\n",
	       domid);
}

static void test_balloc_bad_requests(int domid)
{
	char resp[1100];
	unsigned int cases;
	int ret;

	detach_all(domid);
	backend_start(true);
	be_alloc = true;
	ret = protocol_frontend(domid, "320x240", "balloc", resp, sizeof(resp));
	be_alloc = false;
	igt_assert_eq(ret, 0);
	igt_assert_eq(sscanf(resp, "0 balloc-cases=%u", &cases), 1);
	igt_assert_eq(backend_stop(), 0);
	igt_assert_f(module_idle(10000), "the module kept dom0's pages granted\n");
	printf("summary: %u be-alloc cases, each with its exact status; dom0's pages mapped, written and read back by the guest\n",
	       cases);
}

static void test_bad_requests(int domid)
{
	char resp[1100];
	unsigned int cases;

	detach_all(domid);
	backend_start(false);
	igt_assert_eq(protocol_frontend(domid, "320x240", "bad", resp, sizeof(resp)), 0);
	igt_assert_eq(sscanf(resp, "0 bad-cases=%u", &cases), 1);
	igt_assert_eq(backend_stop(), 0);
	printf("summary: %u cases, each with its exact status\n", cases);
}

igt_main
{
	int domid = -1;

	igt_fixture {
		gd_require_ours("the gntdmabuf-displ backend uses our device and extensions");
		domid = gd_require_domu();
	}

	igt_describe("gdmabuf-kms in the domU sets a 640x480 mode and flips 60 times through xen-drm-front, waiting for each flip event; the backend's frame log holds the hash of every frame the guest drew, in order; the PNG it wrote of the 60th frame holds its pixels; the device detaches, the backend exits 0 on SIGTERM having copied 0 bytes, and the module's counters are back to zero.");
	igt_subtest("displ-frontend-frames")
		test_frontend_frames(domid);

	igt_describe("A second vdispl device that no driver takes is driven by gdmabuf-displ-front, which speaks the protocol itself: 100,000 seeded requests, valid and malformed (every field of every request), in batches, with broken rings now and then.  Every request is answered with its id and operation, a broken ring only closes that device, and meanwhile xen-drm-front on the first device streams 200 frames that arrive exactly as drawn.  Afterwards the backend exits 0 and the module's counters are back to zero.");
	igt_subtest("displ-hostile-frontend")
		test_hostile_frontend(domid);

	igt_describe("Debian's modetest (libdrm-tests), a KMS client nobody here wrote, sets a 640x480 mode with its SMPTE bars through xen-drm-front; the PNG the backend writes on SIGUSR1 holds those bars pixel for pixel.");
	igt_subtest("displ-modetest")
		test_modetest();

	igt_describe("The backend is SIGKILLed while xen-drm-front streams frames: the module releases everything it held; a restarted backend makes the frontend start again and serves its next frames exactly as drawn.");
	igt_subtest("displ-backend-killed")
		test_backend_killed();

	igt_describe("The device is unbound from drm_xen_front in the domU, the module unloaded and loaded again; the backend serves the new frontend's frames exactly as drawn.");
	igt_subtest("displ-frontend-reload")
		test_frontend_reload();

	igt_describe("A dom0 process holds the backend's dma-bufs while the guest destroys its buffers: each destroy is answered after the backend's timeout, the backend keeps serving, and when the holder lets go the module releases the buffers and every counter goes back to zero.");
	igt_subtest("displ-destroy-held")
		test_destroy_held();

	igt_describe("One request per bad field of every request the backend reads (cookies zero, unknown or twice, unknown flags and operations, reserved bytes, sizes that overflow or pass the buffer, bad, cyclic and repeated directories, formats, rectangles, flips and destroys of what is on screen, EDID buffers, the buffer limit), each answered with its exact errno; then the valid path: a flip and its event (id 0), an EDID.  No xen-drm-front needed: every target.");
	igt_subtest("displ-bad-requests")
		test_bad_requests(domid);

	igt_describe("gdmabuf-kms in the domU flips 60 frames through xen-drm-front while the backend scans each out on vkms in dom0 (PRIME import, atomic commits, the flip event from vkms's completion); vkms's writeback connector captures what its CRTC composed, which equals the guest's last frame pixel for pixel; flips are paced by vkms's vblank; nothing is copied, vkms refuses no commit, and everything is released.");
	igt_subtest("displ-kms-scanout")
		test_kms_scanout(domid);

	igt_describe("Debian's modetest sets its SMPTE bars through xen-drm-front while the backend scans them out on vkms; the writeback capture holds the bars pixel for pixel.");
	igt_subtest("displ-kms-modetest")
		test_kms_modetest(domid);

	igt_describe("The guest's program is SIGKILLed while vkms scans its frame out: its buffers are destroyed, the plane goes off, the module releases them, and the next program's frames are scanned out as drawn.");
	igt_subtest("displ-kms-destroy-shown")
		test_kms_destroy_shown(domid);

	igt_describe("--kms-map: a map to an output vkms does not have refuses the frontend and says why; a map of this domain's connector 0 to Virtual-1 shows its frames there.");
	igt_subtest("displ-kms-map")
		test_kms_map(domid);

	igt_describe("With the KMS sink, framebuffers vkms's primary plane cannot take (smaller than the CRTC, XRGB1555) are refused at FB_ATTACH with EINVAL and the backend says why; RGB565 and XRGB8888 are taken, and flips between them each get their event.");
	igt_subtest("displ-kms-bad-fb")
		test_kms_bad_fb(domid);

	igt_describe("The device is be-alloc: the backend allocates every buffer in dom0 and grants it to the guest, xen-drm-front maps dom0's pages and gdmabuf-kms draws 60 frames into them; the frame log holds every frame as drawn, nothing is copied, and the grants end when the device goes.");
	igt_subtest("displ-balloc-frames")
		test_balloc_frames(domid);

	igt_describe("be-alloc with the KMS sink: the buffers are vkms's own dumb buffers, granted to the guest, which draws 60 frames into them; the writeback capture equals the last frame.");
	igt_subtest("displ-kms-balloc")
		test_kms_balloc(domid);

	igt_describe("modetest's SMPTE bars drawn into vkms's dumb buffers through be-alloc, scanned out and captured pixel for pixel.");
	igt_subtest("displ-kms-balloc-modetest")
		test_kms_balloc_modetest(domid);

	igt_describe("A be-alloc device driven by the protocol-level frontend: frontend pages on it, directories that are not granted, read-only, ref 0, too short or cyclic, a size over the limit, each refused with its exact errno; then a buffer the backend allocated is mapped by the guest from the references it wrote, written and read back, and destroyed.  No xen-drm-front needed: every target.");
	igt_subtest("displ-balloc-bad-requests")
		test_balloc_bad_requests(domid);

	igt_describe("On a PV domU, a process that maps a backend-allocated buffer gets SIGBUS (the guest cannot map dom0's pages into a process); dom0 is unharmed and everything is released when the device goes.");
	igt_subtest("displ-balloc-pv-user-map")
		test_balloc_pv_user_map(domid);

	igt_describe("The domU is destroyed while it maps dom0's be-alloc buffers: the backend sees the device go, the module keeps the pages until Xen has unmapped them, then every counter goes to zero; the domU is started again.");
	igt_subtest("displ-balloc-guest-destroyed")
		test_balloc_guest_destroyed();

	/* Last: the domU gets a new id. */
	igt_describe("The domU is destroyed while xen-drm-front streams frames: the backend sees the device go, the module lets go of every grant, and the backend serves the domU created again.");
	igt_subtest("displ-guest-destroyed")
		test_guest_destroyed();

	igt_describe("Weston runs in dom0 (headless, GL renderer on Mesa's llvmpipe, kiosk shell) and the backend's Wayland sink makes each guest buffer a zwp_linux_dmabuf_v1 buffer of the export; gdmabuf-kms flips 60 frames through xen-drm-front; Weston maps the guest's pages (its /proc maps), and its own capture of its output equals the guest's last frame pixel for pixel; after the program ends the capture is black; flips are paced by Weston's frame callbacks; nothing is copied and everything is released.");
	igt_subtest("displ-wayland-frames")
		test_wayland_frames(domid);

	igt_describe("--wayland-buffers=shm: every frame is copied from the export into wl_shm (the comparison path), counted as copied bytes; Weston's capture equals the guest's last frame.");
	igt_subtest("displ-wayland-shm")
		test_wayland_shm(domid);

	igt_describe("The guest's program is SIGKILLed while Weston shows its frame: the window is unmapped (Weston's capture is black), Weston lets go of the dma-bufs, the module releases them, and the next program is shown as drawn.");
	igt_subtest("displ-wayland-destroy-shown")
		test_wayland_destroy_shown(domid);

	igt_describe("The connector comes back at 320x240 after 640x480 (displif fixes a connector's resolution for its device's life: a resize is a detach and an attach): Weston's capture shows the new frame centred on black, with nothing left of the larger one, and black after the program ends.");
	igt_subtest("displ-wayland-resize")
		test_wayland_resize(domid);

	igt_describe("be-alloc through Weston: the guest draws 60 frames into buffers dom0 allocated and the Wayland sink hands them to Weston as linux-dmabuf buffers; Weston's capture equals the last frame, black after the program ends, nothing copied.");
	igt_subtest("displ-wayland-balloc")
		test_wayland_balloc(domid);

	igt_fixture {
		backend_stop();
		kms_sink_end();
		weston_stop();
		be_alloc = false;
		backend_extra = NULL;
		detach_all(gd_require_domu());
	}
}
