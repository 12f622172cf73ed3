// SPDX-License-Identifier: MIT
/**
 * TEST: gdmabuf vkms
 * Category: Xen
 * Feature: gntdev-dmabuf
 * Description: vkms, Linux's virtual KMS driver, as dom0's display
 *   controller for the display backend's scanout.  Debian's kernels are
 *   built without it; the harness builds it from the release's
 *   linux-source against the target kernel's headers and stages it in
 *   dom0.  These subtests show it loads with its writeback connector and
 *   takes an export of the domU's pages as a framebuffer.
 *
 * SUBTEST: vkms-writeback-connector
 * Description: vkms loads in dom0 (after vgem, which stays card0) and
 *   offers a CRTC, a primary plane and a writeback connector to a client
 *   that asks for atomic and writeback.
 *
 * SUBTEST: vkms-import-export
 * Description: The domU grants a 640x480 XRGB8888 buffer, dom0 exports it
 *   with EXP_FROM_REFS, and vkms imports the dma-buf with PRIME and makes
 *   a framebuffer of it; closing everything releases the export (the
 *   module's counters go back to zero).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <drm.h>	/* libdrm-dev: Debian ships the DRM uAPI there */
#include <drm_mode.h>
#include <drm_fourcc.h>

#include "igt.h"
#include "gdmabuf_test.h"

IGT_TEST_DESCRIPTION("vkms, built from Debian's source, as dom0's KMS device: its writeback "
		     "connector, and an export of the domU's pages as its framebuffer.");

#define W	640
#define H	480
#define PAGES	(W * H * 4 / GD_PAGE_SIZE)

static void test_writeback_connector(void)
{
	struct drm_set_client_cap atomic = { .capability = DRM_CLIENT_CAP_ATOMIC, .value = 1 };
	struct drm_set_client_cap wb = { .capability = DRM_CLIENT_CAP_WRITEBACK_CONNECTORS,
					 .value = 1 };
	struct drm_set_client_cap planes = { .capability = DRM_CLIENT_CAP_UNIVERSAL_PLANES,
					     .value = 1 };
	uint32_t conns[8], crtcs[8], plane_ids[8];
	struct drm_mode_card_res res = {
		.connector_id_ptr = (uintptr_t)conns, .count_connectors = 8,
		.crtc_id_ptr = (uintptr_t)crtcs, .count_crtcs = 8,
	};
	struct drm_mode_get_plane_res pres = {
		.plane_id_ptr = (uintptr_t)plane_ids, .count_planes = 8,
	};
	int card = gd_vkms_open(NULL, 0), writeback = 0;

	igt_assert_eq(ioctl(card, DRM_IOCTL_SET_CLIENT_CAP, &planes), 0);
	igt_assert_eq(ioctl(card, DRM_IOCTL_SET_CLIENT_CAP, &atomic), 0);
	igt_assert_eq(ioctl(card, DRM_IOCTL_SET_CLIENT_CAP, &wb), 0);
	igt_assert_eq(ioctl(card, DRM_IOCTL_MODE_GETRESOURCES, &res), 0);
	igt_assert_eq(ioctl(card, DRM_IOCTL_MODE_GETPLANERESOURCES, &pres), 0);
	igt_assert_lt(0, (int)res.count_crtcs);
	igt_assert_lt(0, (int)pres.count_planes);
	for (uint32_t i = 0; i < res.count_connectors && i < 8; i++) {
		struct drm_mode_get_connector c = { .connector_id = conns[i] };

		igt_assert_eq(ioctl(card, DRM_IOCTL_MODE_GETCONNECTOR, &c), 0);
		writeback += c.connector_type == DRM_MODE_CONNECTOR_WRITEBACK;
	}
	igt_assert_f(writeback == 1, "vkms offers %d writeback connectors\n", writeback);
	close(card);
	gd_vkms_unload();
	printf("summary: vkms: %u CRTC(s), %u plane(s), %u connectors, one of them writeback\n",
	       res.count_crtcs, pres.count_planes, res.count_connectors);
}

static void test_import_export(void)
{
	int domid = gd_require_domu(), card, dev, buf, h;
	struct drm_prime_handle prime = { 0 };
	struct drm_mode_fb_cmd2 fb = {
		.width = W, .height = H, .pixel_format = DRM_FORMAT_XRGB8888,
		.pitches = { W * 4 },
	};
	struct drm_gem_close gc = { 0 };
	uint32_t refs[PAGES];

	card = gd_vkms_open(NULL, 0);
	dev = gd_open_dev();
	h = gd_domu_grant(0, PAGES, 0x5eed, refs);
	buf = gd_export_refs(dev, domid, PAGES, refs, 0);
	igt_assert_f(buf >= 0, "EXP_FROM_REFS: %s\n", strerror(-buf));

	prime.fd = buf;
	igt_assert_f(!ioctl(card, DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime),
		     "vkms does not import the export: %s\n", strerror(errno));
	fb.handles[0] = gc.handle = prime.handle;
	igt_assert_f(!ioctl(card, DRM_IOCTL_MODE_ADDFB2, &fb),
		     "vkms makes no framebuffer of it: %s\n", strerror(errno));
	gd_assert_stat("live_exports", 1);

	igt_assert_eq(ioctl(card, DRM_IOCTL_MODE_RMFB, &fb.fb_id), 0);
	igt_assert_eq(ioctl(card, DRM_IOCTL_GEM_CLOSE, &gc), 0);
	close(buf);
	close(card);
	gd_vkms_unload();
	close(dev);
	gd_domu_call(NULL, 0, "free %d", h);
	/* our counters; against the stock gntdev the kernel log is the check */
	for (int t = 0; !gd_upstream() && t < 50 && gd_stat("live_exports"); t++)
		usleep(100000);
	gd_assert_stat("live_exports", 0);
	printf("summary: vkms imported an export of %u domU pages as a %ux%u framebuffer\n",
	       PAGES, W, H);
}

igt_main
{
	igt_describe("vkms loads in dom0 (after vgem, which stays card0) and offers a CRTC, a primary plane and a writeback connector to a client that asks for atomic and writeback.");
	igt_subtest("vkms-writeback-connector")
		test_writeback_connector();

	igt_describe("The domU grants a 640x480 XRGB8888 buffer, dom0 exports it with EXP_FROM_REFS, and vkms imports the dma-buf with PRIME and makes a framebuffer of it; closing everything releases the export (the module's counters go back to zero).");
	igt_subtest("vkms-import-export")
		test_import_export();
}
