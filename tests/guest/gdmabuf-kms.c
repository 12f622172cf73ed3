// SPDX-License-Identifier: MIT
/*
 * gdmabuf-kms: a KMS client for the test domU's xen-drm-front.  It creates
 * two dumb buffers on the first connector, draws a known, frame-numbered
 * pattern (gd_kms_pixel()), sets the mode, then page-flips FRAMES times, waiting for each
 * flip event, drawing the next frame into the buffer not on screen.
 *
 *   gdmabuf-kms [-d /dev/dri/cardN] [-t] [-N] [-H FILE] FRAMES
 *
 * It prints "frames=<n> hash=<h> first=<h0> last=<hn> <w>x<h>": the hash
 * of every frame's pixels (64-bit FNV-1a over each row's visible bytes, as
 * the display backend's frame log computes it), and <h> the FNV-1a of the
 * list of those hashes, one per line as "%016llx\n", in the order shown
 * (the frame set by SETCRTC first).  Exit status 0, or 1 with a message.
 *
 * With -t (the benchmark) it draws each buffer once and then only flips,
 * timing each flip from the PAGE_FLIP ioctl to its event, and adds
 * "flip_us=<median> min=<us> max=<us> fps=<flips per second>".
 *
 * With -H it creates FILE after the last flip and keeps that frame on
 * screen until FILE is removed (at most 120 s): what a test captures from
 * dom0's display pipeline meanwhile is the last frame.
 *
 * With -N it never maps or draws the buffers (every hash is 0): only the
 * kernels touch them, which is all a PV guest can do with buffers dom0
 * allocated (be-alloc).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <drm.h>
#include <drm_mode.h>
#include <drm_fourcc.h>

#include "gdmabuf_test.h"

struct kms_buf {
	uint32_t handle, fb, pitch;
	uint64_t size;
	uint8_t *map;
};

static int kms_fd;

static void kms_die(const char *what)
{
	fprintf(stdout, "error: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void kms_ioctl(unsigned long req, void *arg, const char *what)
{
	while (ioctl(kms_fd, req, arg)) {
		if (errno != EINTR && errno != EAGAIN)
			kms_die(what);
	}
}

static uint64_t kms_draw(struct kms_buf *b, uint32_t w, uint32_t h, uint32_t frame)
{
	uint64_t hash = 0xcbf29ce484222325ULL;

	for (uint32_t y = 0; y < h; y++) {
		uint32_t *row = (uint32_t *)(b->map + (size_t)y * b->pitch);

		for (uint32_t x = 0; x < w; x++)
			row[x] = gd_kms_pixel(x, y, frame);
		hash = gd_hash_continue(hash, (const uint8_t *)row, (size_t)w * 4);
	}
	return hash;
}

static void kms_wait_flip(void)
{
	struct pollfd p = { .fd = kms_fd, .events = POLLIN };
	char buf[256];

	for (;;) {
		ssize_t n;

		if (poll(&p, 1, 5000) != 1) {
			errno = ETIMEDOUT;
			kms_die("waiting for the flip event");
		}
		n = read(kms_fd, buf, sizeof(buf));
		for (ssize_t off = 0; off + (ssize_t)sizeof(struct drm_event) <= n;) {
			struct drm_event *e = (struct drm_event *)(buf + off);

			if (e->type == DRM_EVENT_FLIP_COMPLETE)
				return;
			off += e->length;
		}
	}
}

int main(int argc, char **argv)
{
	const char *dev = "/dev/dri/card0";
	uint32_t crtcs[8], conns[8], frames, w, h;
	struct drm_mode_card_res res = { 0 };
	struct drm_mode_get_connector conn = { 0 };
	struct drm_mode_modeinfo modes[16];
	struct drm_mode_crtc crtc = { 0 };
	struct kms_buf b[2] = { 0 };
	uint64_t list = 0xcbf29ce484222325ULL, first = 0, last = 0, last_odd = 0;
	double *flip_us = NULL, loop_us = 0;
	const char *hold = NULL;
	bool timed = false, nomap = false;
	char line[32];
	int opt;

	while ((opt = getopt(argc, argv, "d:tH:N")) != -1) {
		if (opt == 'd')
			dev = optarg;
		else if (opt == 'N')
			nomap = true;
		else if (opt == 'H')
			hold = optarg;
		else if (opt == 't')
			timed = true;
		else
			return 2;
	}
	if (optind != argc - 1)
		return 2;
	frames = strtoul(argv[optind], NULL, 0);
	if (timed) {
		flip_us = calloc(frames + 1, sizeof(*flip_us));
		if (!flip_us || !frames)
			return 2;
	}
	kms_fd = open(dev, O_RDWR | O_CLOEXEC);
	if (kms_fd < 0)
		kms_die(dev);

	res.crtc_id_ptr = (uintptr_t)crtcs;
	res.count_crtcs = 8;
	res.connector_id_ptr = (uintptr_t)conns;
	res.count_connectors = 8;
	kms_ioctl(DRM_IOCTL_MODE_GETRESOURCES, &res, "GETRESOURCES");
	if (!res.count_crtcs || !res.count_connectors) {
		errno = ENODEV;
		kms_die("no CRTC or connector");
	}
	/* As libdrm does: a call without room for modes probes them first. */
	conn.connector_id = conns[0];
	kms_ioctl(DRM_IOCTL_MODE_GETCONNECTOR, &conn, "GETCONNECTOR (probe)");
	memset(&conn, 0, sizeof(conn));
	conn.connector_id = conns[0];
	conn.modes_ptr = (uintptr_t)modes;
	conn.count_modes = 16;
	kms_ioctl(DRM_IOCTL_MODE_GETCONNECTOR, &conn, "GETCONNECTOR");
	if (!conn.count_modes) {
		errno = ENODEV;
		kms_die("the connector has no mode");
	}
	w = modes[0].hdisplay;
	h = modes[0].vdisplay;

	for (int i = 0; i < 2; i++) {
		struct drm_mode_create_dumb cd = { .width = w, .height = h, .bpp = 32 };
		struct drm_mode_map_dumb md = { 0 };
		struct drm_mode_fb_cmd2 fb = { .width = w, .height = h,
					       .pixel_format = DRM_FORMAT_XRGB8888 };

		kms_ioctl(DRM_IOCTL_MODE_CREATE_DUMB, &cd, "CREATE_DUMB");
		b[i].handle = cd.handle;
		b[i].pitch = cd.pitch;
		b[i].size = cd.size;
		md.handle = cd.handle;
		kms_ioctl(DRM_IOCTL_MODE_MAP_DUMB, &md, "MAP_DUMB");
		b[i].map = nomap ? NULL :
			   mmap(NULL, cd.size, PROT_READ | PROT_WRITE, MAP_SHARED, kms_fd, md.offset);
		if (b[i].map == MAP_FAILED)
			kms_die("mmap of a dumb buffer");
		fb.handles[0] = cd.handle;
		fb.pitches[0] = cd.pitch;
		kms_ioctl(DRM_IOCTL_MODE_ADDFB2, &fb, "ADDFB2");
		b[i].fb = fb.fb_id;
	}

	for (uint32_t f = 0; f <= frames; f++) {
		struct kms_buf *cur = &b[f % 2];
		/* Timed, each buffer keeps its first frame. */
		uint64_t hash = nomap ? 0 : timed && f > 1 ? (f % 2 ? last_odd : first) :
				kms_draw(cur, w, h, f);
		double t0 = gd_now_us();

		if (!f) {
			crtc.crtc_id = crtcs[0];
			crtc.fb_id = cur->fb;
			crtc.set_connectors_ptr = (uintptr_t)&conns[0];
			crtc.count_connectors = 1;
			crtc.mode = modes[0];
			crtc.mode_valid = 1;
			kms_ioctl(DRM_IOCTL_MODE_SETCRTC, &crtc, "SETCRTC");
			first = hash;
		} else {
			struct drm_mode_crtc_page_flip flip = {
				.crtc_id = crtcs[0],
				.fb_id = cur->fb,
				.flags = DRM_MODE_PAGE_FLIP_EVENT,
			};

			kms_ioctl(DRM_IOCTL_MODE_PAGE_FLIP, &flip, "PAGE_FLIP");
			kms_wait_flip();
			if (timed) {
				flip_us[f - 1] = gd_now_us() - t0;
				loop_us += flip_us[f - 1];
			}
			if (f == 1)
				last_odd = hash;
		}
		last = hash;
		snprintf(line, sizeof(line), "%016llx\n", (unsigned long long)hash);
		list = gd_hash_continue(list, (const uint8_t *)line, strlen(line));
	}

	if (hold) {
		int fd = open(hold, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd < 0)
			kms_die(hold);
		close(fd);
		for (int t = 0; t < 2400 && !access(hold, F_OK); t++)
			usleep(50000);
	}

	/* Off, then the framebuffers and buffers go (FB_DETACH, DBUF_DESTROY). */
	memset(&crtc, 0, sizeof(crtc));
	crtc.crtc_id = crtcs[0];
	kms_ioctl(DRM_IOCTL_MODE_SETCRTC, &crtc, "SETCRTC off");
	for (int i = 0; i < 2; i++) {
		struct drm_mode_destroy_dumb dd = { .handle = b[i].handle };

		kms_ioctl(DRM_IOCTL_MODE_RMFB, &b[i].fb, "RMFB");
		if (b[i].map)
			munmap(b[i].map, b[i].size);
		kms_ioctl(DRM_IOCTL_MODE_DESTROY_DUMB, &dd, "DESTROY_DUMB");
	}
	close(kms_fd);
	printf("frames=%u hash=%016llx first=%016llx last=%016llx %ux%u", frames + 1,
	       (unsigned long long)list, (unsigned long long)first, (unsigned long long)last, w, h);
	if (timed) {
		double med = gd_median(flip_us, frames);

		printf(" flip_us=%.1f min=%.1f max=%.1f fps=%.1f", med, flip_us[0],
		       flip_us[frames - 1], frames * 1e6 / loop_us);
	}
	printf("\n");
	free(flip_us);
	return 0;
}
