// SPDX-License-Identifier: MIT
/*
 * gdmabuf-demo: what "make demo" shows, run in dom0 with the harness's
 * domU up.  It tells, step by step and in plain words, how a buffer
 * travels between the two domains.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <drm.h>

#include "igt.h"
#include "gdmabuf_test.h"

#define NPAGES 4

static int failures;

static void step(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void step(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void verdict(bool ok, const char *what)
{
	step("   -> %s: %s", what, ok ? "yes" : "NO");
	failures += !ok;
}

static void guest_to_dom0(int domu)
{
	uint32_t refs[NPAGES];
	char resp[4096], *sp;
	struct gd_mapping m;
	int h;

	step("1. The guest (domain %d) fills %d pages (%u KiB) with a pattern and grants them to dom0.",
	     domu, NPAGES, NPAGES * GD_PAGE_SIZE / 1024);
	if (gd_domu_call(resp, sizeof(resp), "grant 0 %d 0x1111", NPAGES)) {
		verdict(false, "guest granted the pages");
		return;
	}
	h = strtol(resp, &sp, 10);
	step("   The guest hands dom0 these grant references through xenstore: %s", sp + 1);
	gd_parse_refs(sp + 1, refs, NPAGES);

	step("2. dom0 maps the references with the stock /dev/xen/gntdev: the guest's own memory, no copy.");
	if (gd_map_grants(&m, domu, refs, NPAGES, true)) {
		verdict(false, "dom0 mapped the guest's pages");
		return;
	}
	step("   First bytes dom0 sees: %02x %02x %02x %02x ...", m.map[0], m.map[1], m.map[2], m.map[3]);
	verdict(gd_check_pattern(m.map, NPAGES, 0x1111) < 0, "dom0 reads exactly the guest's pattern");

	step("3. dom0 writes an answer into the same pages; the guest checks its memory.");
	gd_fill_pattern(m.map, NPAGES, 0x2222);
	verdict(!gd_domu_call(resp, sizeof(resp), "check %d 0x2222", h), "the guest sees dom0's answer");

	step("4. The guest writes again, and dom0 sees it at once through its mapping.");
	gd_domu_call(resp, sizeof(resp), "fill %d 0x3333", h);
	verdict(gd_check_pattern(m.map, NPAGES, 0x3333) < 0, "dom0 sees the guest's new data");
	gd_unmap_grants(&m);
	gd_domu_call(resp, sizeof(resp), "free %d", h);
	step("   dom0 unmapped, the guest ended its grants.");
}

static void dom0_to_guest(int domu)
{
	char reflist[256], resp[256];
	struct gd_grant g;

	step("5. The other way: dom0 grants %d pages of its own to the guest with /dev/xen/gntalloc.", NPAGES);
	if (gd_grant_pages(&g, domu, NPAGES, true)) {
		verdict(false, "dom0 granted its pages");
		return;
	}
	gd_fill_pattern(g.map, NPAGES, 0x4444);
	gd_format_refs(reflist, sizeof(reflist), g.refs, NPAGES);
	step("   References: %s. The guest maps them, checks them and writes a reply.", reflist);
	verdict(!gd_domu_call(resp, sizeof(resp), "mapcheck 0 0x4444 0x5555 %s", reflist),
		"the guest read dom0's pattern");
	verdict(gd_check_pattern(g.map, NPAGES, 0x5555) < 0, "dom0 reads the guest's reply in its own pages");
	gd_grant_free(&g);
}

static void guest_to_dmabuf(int fd, int domu)
{
	struct ioctl_gntdev_dmabuf_exp_from_refs *op;
	struct ioctl_gntdev_dmabuf_exp_wait_released w = { 0 };
	struct drm_prime_handle prime = { 0 };
	struct drm_gem_close gclose = { 0 };
	char resp[4096], *sp;
	int h, card, buf;

	step("6. Zero copy: the guest grants %d pages again, and dom0 turns the grants into a dma-buf", NPAGES);
	step("   with IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS on %s.", GD_DEV_PATH);
	if (gd_domu_call(resp, sizeof(resp), "grant 0 %d 0x6666", NPAGES)) {
		verdict(false, "guest granted the pages");
		return;
	}
	h = strtol(resp, &sp, 10);
	op = calloc(1, sizeof(*op) + NPAGES * sizeof(uint32_t));
	op->domid = domu;
	op->count = gd_parse_refs(sp + 1, op->refs, NPAGES);
	verdict(!ioctl(fd, IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS, op), "dom0 has a dma-buf of the guest's memory");
	buf = op->fd;
	free(op);
	step("   dma-buf fd %d, %ld bytes: the guest's pages themselves, nothing copied.",
	     buf, (long)lseek(buf, 0, SEEK_END));

	card = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
	if (card >= 0) {
		prime.fd = buf;
		verdict(!ioctl(card, DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime),
			"a DRM driver (vgem) imports it with PRIME and maps it for DMA");
		step("   vgem handle %u now refers to the guest's framebuffer-to-be.", prime.handle);
	}
	close(buf);
	w.fd = buf;
	verdict(ioctl(fd, IOCTL_GNTDEV_DMABUF_EXP_WAIT_RELEASED, &w) && errno == ETIMEDOUT,
		"while vgem holds it, dom0 is told the buffer is still in use");
	if (card >= 0) {
		gclose.handle = prime.handle;
		ioctl(card, DRM_IOCTL_GEM_CLOSE, &gclose);
		close(card);
	}
	w.wait_to_ms = 2000;
	verdict(ioctl(fd, IOCTL_GNTDEV_DMABUF_EXP_WAIT_RELEASED, &w) && errno == ENOENT,
		"once vgem lets go, the export is released and its grants unmapped");
	gd_domu_call(resp, sizeof(resp), "free %d", h);
}

#define DISPL_DIR	"/tmp/displ-demo"
#define DISPL_FRAMES	120

/* Sends @path to the host as FILE lines of base64 (run-demo.sh emits them). */
static void send_file(const char *path, const char *name)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char in[57];
	char out[80];
	FILE *f = fopen(path, "rb");
	size_t n;

	while (f && (n = fread(in, 1, sizeof(in), f)) > 0) {
		size_t o = 0;

		for (size_t i = 0; i < n; i += 3) {
			uint32_t v = in[i] << 16 | (i + 1 < n ? in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);

			out[o++] = b64[v >> 18 & 63];
			out[o++] = b64[v >> 12 & 63];
			out[o++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
			out[o++] = i + 2 < n ? b64[v & 63] : '=';
		}
		out[o] = '\0';
		printf("FILE\t%s\t%s\n", name, out);
	}
	if (f)
		fclose(f);
	fflush(stdout);
}

/* The guest's display in dom0: gntdmabuf-displ serving xen-drm-front. */
static void guest_display(int domu)
{
	const char *bin = getenv("GDMABUF_DISPL");
	unsigned long long want, first, last, d, dev, conn, frame, fb, h;
	uint64_t list = 0xcbf29ce484222325ULL;
	char resp[1100], line[256], hex[32];
	unsigned int frames, logged = 0, w, ht;
	int st = -1;
	pid_t pid;
	FILE *f;

	if (!bin || gd_domu_call(NULL, 0, "exec test -d /sys/module/drm_xen_front")) {
		step("7. (The display part needs gntdmabuf-displ and xen-drm-front in the guest: not here.)");
		return;
	}
	step("7. A guest's display, in dom0.  gntdmabuf-displ, the display backend, starts in dom0:");
	step("   every buffer the guest's display driver shares becomes a dma-buf once; frames are flips.");
	if (system("rm -rf " DISPL_DIR " && mkdir -p " DISPL_DIR)) {
		verdict(false, "made " DISPL_DIR);
		return;
	}
	pid = fork();
	if (!pid) {
		int fd = open(DISPL_DIR "/backend.log", O_WRONLY | O_CREAT | O_TRUNC, 0644);

		dup2(fd, 1);
		dup2(fd, 2);
		execl(bin, bin, "--capture-dir=" DISPL_DIR, "--frame-log=" DISPL_DIR "/frames.log",
		      "--png-every=120", (char *)NULL);
		_exit(127);
	}
	if (!gd_file_has(DISPL_DIR "/backend.log", "serving vdispl devices", 5000)) {
		verdict(false, "the backend started");
		return;
	}
	snprintf(line, sizeof(line), "xl vdispl-attach %d backend=0 be-alloc=0 connectors=id0:320x240 "
		 "> /dev/null 2>&1", domu);
	step("   The toolstack gives the guest a 320x240 display: xl vdispl-attach %d ... connectors=id0:320x240", domu);
	verdict(!system(line), "the guest has a display device");
	step("8. In the guest, Linux's xen-drm-front makes it /dev/dri/card0.  A KMS program draws an");
	step("   animation (a pattern that moves with the frame number) and page-flips %d times,", DISPL_FRAMES);
	step("   waiting each time for the flip event that the backend sends.");
	if (gd_domu_call(resp, sizeof(resp), "exec i=0; while ! ls /dev/dri/card* > /dev/null 2>&1 && "
			 "[ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; "
			 "/bin/gdmabuf-kms -d $(ls /dev/dri/card* | tail -n 1) %d 2>&1", DISPL_FRAMES - 1) ||
	    sscanf(resp, "0 frames=%u hash=%llx first=%llx last=%llx %ux%u", &frames, &want, &first,
		   &last, &w, &ht) != 6) {
		step("   guest: %s", resp);
		verdict(false, "the guest's animation ran");
	} else {
		f = fopen(DISPL_DIR "/frames.log", "r");
		while (f && fgets(line, sizeof(line), f)) {
			if (sscanf(line, "%llu %llu %llu %llu %llx %llx", &d, &dev, &conn, &frame, &fb, &h) != 6)
				continue;
			snprintf(hex, sizeof(hex), "%016llx\n", h);
			list = gd_hash_continue(list, hex, strlen(hex));
			logged++;
		}
		if (f)
			fclose(f);
		step("   The guest drew %u frames of %ux%u; dom0's backend hashed each frame it was shown.", frames, w, ht);
		verdict(logged == frames && list == want, "dom0 got exactly the frames the guest drew, in order");
	}
	snprintf(line, sizeof(line), "xl vdispl-detach %d 0 > /dev/null 2>&1", domu);
	if (system(line))
		step("   (xl vdispl-detach failed)");
	gd_file_has(DISPL_DIR "/backend.log", "device gone", 10000);
	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
	verdict(gd_file_has(DISPL_DIR "/backend.log", "flips, 0 copied bytes", 0),
		"not one byte of a frame was copied");
	step("9. The backend wrote frame %d as dom0 saw it; the demo copies it to the host:", DISPL_FRAMES);
	snprintf(line, sizeof(line), DISPL_DIR "/displ-%d-0-0.png", domu);
	verdict(!access(line, R_OK), "the captured frame exists");
	send_file(line, "displ-frame.png");
}

/* Whether files @a and @b hold the same bytes. */
static bool same_file(const char *a, const char *b)
{
	FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
	bool same = fa && fb;
	int ca, cb;

	while (same && ((ca = fgetc(fa)) != EOF) | ((cb = fgetc(fb)) != EOF))
		same = ca == cb;
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return same;
}

/*
 * The same frames on a display controller: the backend's KMS sink scans
 * them out on vkms in dom0, and its writeback connector shows what the
 * CRTC composed.
 */
static void guest_scanout(int domu)
{
	const char *bin = getenv("GDMABUF_DISPL");
	char resp[1100], line[256], card[64], dev[96], png[128], guest[128];
	int st = -1;
	pid_t pid;

	if (!bin || gd_domu_call(NULL, 0, "exec test -d /sys/module/drm_xen_front") ||
	    system("modprobe vkms 2> /dev/null")) {
		step("10. (Scanout needs vkms in dom0 and xen-drm-front in the guest: not here.)");
		return;
	}
	close(gd_vkms_open(card, sizeof(card)));
	step("10. Now on a display controller: the backend's KMS sink puts every guest frame on a");
	step("   plane of %s (vkms, Linux's virtual KMS driver, in dom0) with an atomic commit,", card);
	step("   and the guest's flip event waits for the commit to complete.");
	pid = fork();
	if (!pid) {
		int fd = open(DISPL_DIR "/scanout.log", O_WRONLY | O_CREAT | O_TRUNC, 0644);

		dup2(fd, 1);
		dup2(fd, 2);
		snprintf(dev, sizeof(dev), "--kms-device=%s", card);
		execl(bin, bin, "--sink=kms", dev, "--capture-dir=" DISPL_DIR, (char *)NULL);
		_exit(127);
	}
	if (!gd_file_has(DISPL_DIR "/scanout.log", "serving vdispl devices", 5000)) {
		verdict(false, "the backend started with its KMS sink");
		return;
	}
	snprintf(line, sizeof(line), "xl vdispl-attach %d backend=0 be-alloc=0 connectors=id0:320x240 "
		 "> /dev/null 2>&1", domu);
	verdict(!system(line), "the guest has a display device again");
	if (gd_domu_call(resp, sizeof(resp), "exec i=0; while ! ls /dev/dri/card* > /dev/null 2>&1 && "
			 "[ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; rm -f /hold; "
			 "(/bin/gdmabuf-kms -d $(ls /dev/dri/card* | tail -n 1) -H /hold %d > /kms.out 2>&1 &); "
			 "i=0; while [ ! -e /hold ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; "
			 "test -e /hold", DISPL_FRAMES - 1)) {
		verdict(false, "the guest's animation ran on vkms");
	} else {
		step("11. The guest flipped its %d frames and holds the last on screen.  dom0 asks vkms's", DISPL_FRAMES);
		step("   writeback connector for what its CRTC composed:");
		for (int t = 0; t < 20 && !gd_file_has(DISPL_DIR "/scanout.log", "(writeback", 0); t++) {
			kill(pid, SIGUSR1);
			gd_file_has(DISPL_DIR "/scanout.log", "(writeback", 1000);
		}
		snprintf(png, sizeof(png), DISPL_DIR "/scanout-%d-0-0.png", domu);
		snprintf(guest, sizeof(guest), DISPL_DIR "/displ-%d-0-0.png", domu);
		verdict(!access(png, R_OK), "the display pipeline's output was captured");
		verdict(same_file(png, guest),
			"it is the guest's last frame pixel for pixel (the same PNG as in step 9)");
		send_file(png, "scanout-frame.png");
		gd_domu_call(NULL, 0, "exec rm -f /hold");
	}
	gd_domu_call(NULL, 0, "exec i=0; while pgrep gdmabuf-kms > /dev/null && [ $i -lt 100 ]; do "
		     "sleep 0.1; i=$((i+1)); done");
	snprintf(line, sizeof(line), "xl vdispl-detach %d 0 > /dev/null 2>&1", domu);
	if (system(line))
		step("   (xl vdispl-detach failed)");
	gd_file_has(DISPL_DIR "/scanout.log", "device gone", 10000);
	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
	verdict(gd_file_has(DISPL_DIR "/scanout.log", "flips, 0 copied bytes", 0),
		"not one byte copied on the way to the plane either");
	if (system("rmmod vkms"))
		step("   (rmmod vkms failed)");
}

int main(void)
{
	struct gdmabuf_info info = { 0 };
	int domu = gd_domu_id();
	int fd;

	step("gntdev-dmabuf demo: Xen %s, dom0 kernel and a PV guest, all inside QEMU.", "4.17");
	fd = open(GD_DEV_PATH, O_RDWR | O_CLOEXEC);
	if (fd >= 0 && !ioctl(fd, GDMABUF_IOCTL_GET_INFO, &info))
		step("0. Our module is loaded: %s, version %s, up to %u pages per call.",
		     GD_DEV_PATH, info.module_version, info.max_pages_per_call);
	else
		verdict(false, "our module is loaded");
	if (domu <= 0) {
		verdict(false, "the guest domain is running");
		return 1;
	}
	guest_to_dom0(domu);
	dom0_to_guest(domu);
	if (fd >= 0)
		guest_to_dmabuf(fd, domu);
	if (fd >= 0)
		close(fd);
	guest_display(domu);
	guest_scanout(domu);
	step("%s", failures ? "DEMO FAILED" : "Demo finished: every step worked.");
	return failures ? 1 : 0;
}
