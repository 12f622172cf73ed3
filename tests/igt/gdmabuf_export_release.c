// SPDX-License-Identifier: MIT
/**
 * TEST: gdmabuf export release
 * Category: Xen
 * Feature: gntdev-dmabuf
 * Description: The pollable release path: GDMABUF_IOCTL_EXP_ID names an export
 *   by a 64-bit id, poll() on the device says a release is pending, and
 *   GDMABUF_IOCTL_EXP_RELEASED collects the released ids without blocking.
 *
 * SUBTEST: export-release-poll
 * Description: Each export has a distinct non-zero id; each release is
 *   reported once, oldest first, and only after the last holder (a vgem
 *   handle) let go.
 *
 * SUBTEST: export-release-poll-wakeup
 * Description: poll() with a timeout wakes up when another thread releases an
 *   export; ids are never reused.
 *
 * SUBTEST: export-release-per-file
 * Description: Releases are reported to the exporting file only; closing that
 *   file drops its pending reports.
 *
 * SUBTEST: export-bad-id-flags
 * Description: EXP_ID with non-zero flags is refused with EINVAL.
 *
 * SUBTEST: export-bad-id-fd
 * Description: EXP_ID on an fd that is not open is EBADF, on a file that is
 *   not a dma-buf EINVAL, on another exporter's dma-buf (vgem) EINVAL.
 *
 * SUBTEST: export-bad-id-other-file
 * Description: EXP_ID through a file other than the exporting one is ENOENT.
 *
 * SUBTEST: export-bad-id-pointer
 * Description: EXP_ID and EXP_RELEASED with an unreadable argument fail with
 *   EFAULT.
 *
 * SUBTEST: export-bad-released-flags-pad
 * Description: EXP_RELEASED with non-zero flags or pad is refused with EINVAL
 *   (both bad-released subtests; kept for its name).
 *
 * SUBTEST: export-bad-released-flags
 * Description: EXP_RELEASED with non-zero flags is refused with EINVAL.
 *
 * SUBTEST: export-bad-released-pad
 * Description: EXP_RELEASED with a non-zero pad is refused with EINVAL.
 *
 * SUBTEST: export-bad-released-ids
 * Description: EXP_RELEASED into an unwritable id array fails with EFAULT and
 *   the release stays queued.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <drm.h>	/* libdrm-dev: Debian ships the DRM uAPI there */

#include "igt.h"
#include "gdmabuf_test.h"

IGT_TEST_DESCRIPTION("The pollable release path: GDMABUF_IOCTL_EXP_ID names an export by a "
		     "64-bit id, poll() on the device says a release is pending, and "
		     "GDMABUF_IOCTL_EXP_RELEASED collects the released ids without blocking.");

#define NPAGES 4

static struct gd_grant g;
static int dev = -1;

static int export_self(int fd)
{
	return gd_export_self(fd, &g, NPAGES);
}

static uint64_t exp_id(int fd, int buf)
{
	struct gdmabuf_exp_id op = { .fd = buf };

	do_ioctl(fd, GDMABUF_IOCTL_EXP_ID, &op);
	igt_assert_neq_u64(op.id, 0);
	return op.id;
}

/* Collects up to @max released ids; returns how many. */
static uint32_t released(int fd, uint64_t *ids, uint32_t max)
{
	struct gdmabuf_exp_released op = { .ids_ptr = (uintptr_t)ids, .max = max };

	do_ioctl(fd, GDMABUF_IOCTL_EXP_RELEASED, &op);
	return op.count;
}

static int poll_in(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n = poll(&p, 1, ms);

	igt_assert_lte(0, n);
	return n ? p.revents : 0;
}

static void *close_later(void *arg)
{
	usleep(200000);
	close(*(int *)arg);
	return NULL;
}

static void test_export_release_poll(void)
{
	int card = gd_open_vgem();
	uint64_t id[3], ids[8];
	uint32_t handle;
	int buf[3];

	for (int i = 0; i < 3; i++) {
		buf[i] = export_self(dev);
		id[i] = exp_id(dev, buf[i]);
	}
	igt_assert(id[0] != id[1] && id[1] != id[2] && id[0] != id[2]);
	igt_assert_eq(poll_in(dev, 0), 0);
	igt_assert_eq(released(dev, ids, 8), 0);

	handle = gd_prime_import(card, buf[1]);
	close(buf[1]);
	igt_assert_eq(poll_in(dev, 0), 0);
	close(buf[2]);
	igt_assert_eq(poll_in(dev, 0), POLLIN);
	gd_gem_close(card, handle);
	close(buf[0]);

	/* one at a time, oldest release first */
	igt_assert_eq(released(dev, ids, 1), 1);
	igt_assert_eq_u64(ids[0], id[2]);
	igt_assert_eq(released(dev, ids, 8), 2);
	igt_assert_eq_u64(ids[0], id[1]);
	igt_assert_eq_u64(ids[1], id[0]);
	igt_assert_eq(poll_in(dev, 0), 0);
	igt_assert_eq(released(dev, ids, 8), 0);
	igt_assert_eq(gd_wait_released(dev, buf[0], 0), -ENOENT);
	close(card);
}

static void test_export_release_poll_wakeup(void)
{
	uint64_t first, again, ids[2];
	int buf = export_self(dev);
	pthread_t t;

	first = exp_id(dev, buf);
	igt_assert_eq(pthread_create(&t, NULL, close_later, &buf), 0);
	igt_assert_eq(poll_in(dev, 10000), POLLIN);
	igt_assert_eq(pthread_join(t, NULL), 0);
	igt_assert_eq(released(dev, ids, 2), 1);
	igt_assert_eq_u64(ids[0], first);

	buf = export_self(dev);
	again = exp_id(dev, buf);
	igt_assert_lt_u64(first, again);
	close(buf);
	igt_assert_eq(released(dev, ids, 2), 1);
}

static void test_export_release_per_file(void)
{
	int fd2 = gd_open_dev();
	int buf = export_self(fd2);
	uint64_t ids[2];

	close(buf);
	igt_assert_eq(poll_in(dev, 0), 0);
	igt_assert_eq(poll_in(fd2, 0), POLLIN);
	close(fd2);
	igt_assert_eq(released(dev, ids, 2), 0);
}

static void test_export_bad_id_flags(void)
{
	int buf = export_self(dev);
	struct gdmabuf_exp_id op = { .fd = buf, .flags = 1 };

	do_ioctl_err(dev, GDMABUF_IOCTL_EXP_ID, &op, EINVAL);
	op.flags = 0x80000000;
	do_ioctl_err(dev, GDMABUF_IOCTL_EXP_ID, &op, EINVAL);
	close(buf);
	released(dev, (uint64_t[1]){ 0 }, 1);
}

static void test_export_bad_id_fd(void)
{
	struct drm_mode_create_dumb dumb = { .width = 64, .height = 64, .bpp = 32 };
	struct drm_prime_handle prime = { 0 };
	struct gdmabuf_exp_id op = { .fd = 1000 };
	int card;

	do_ioctl_err(dev, GDMABUF_IOCTL_EXP_ID, &op, EBADF);
	op.fd = dev;
	do_ioctl_err(dev, GDMABUF_IOCTL_EXP_ID, &op, EINVAL);

	card = gd_open_vgem();
	do_ioctl(card, DRM_IOCTL_MODE_CREATE_DUMB, &dumb);
	prime.handle = dumb.handle;
	prime.flags = DRM_CLOEXEC;
	do_ioctl(card, DRM_IOCTL_PRIME_HANDLE_TO_FD, &prime);
	op.fd = prime.fd;
	do_ioctl_err(dev, GDMABUF_IOCTL_EXP_ID, &op, EINVAL);
	close(prime.fd);
	close(card);
}

static void test_export_bad_id_other_file(void)
{
	int fd2 = gd_open_dev();
	int buf = export_self(fd2);
	struct gdmabuf_exp_id op = { .fd = buf };

	do_ioctl_err(dev, GDMABUF_IOCTL_EXP_ID, &op, ENOENT);
	close(buf);
	close(fd2);
}

static void test_export_bad_id_pointer(void)
{
	do_ioctl_err(dev, GDMABUF_IOCTL_EXP_ID, NULL, EFAULT);
	do_ioctl_err(dev, GDMABUF_IOCTL_EXP_RELEASED, NULL, EFAULT);
}

static void test_export_bad_released_flags(void)
{
	uint64_t ids[1];
	struct gdmabuf_exp_released op = { .ids_ptr = (uintptr_t)ids, .max = 1, .flags = 1 };

	do_ioctl_err(dev, GDMABUF_IOCTL_EXP_RELEASED, &op, EINVAL);
}

static void test_export_bad_released_pad(void)
{
	uint64_t ids[1];
	struct gdmabuf_exp_released op = { .ids_ptr = (uintptr_t)ids, .max = 1, .pad = 1 };

	do_ioctl_err(dev, GDMABUF_IOCTL_EXP_RELEASED, &op, EINVAL);
}

static void test_export_bad_released_ids(void)
{
	struct gdmabuf_exp_released op = { .ids_ptr = 8, .max = 4 };
	uint64_t id, ids[4];
	int buf = export_self(dev);

	id = exp_id(dev, buf);
	close(buf);
	do_ioctl_err(dev, GDMABUF_IOCTL_EXP_RELEASED, &op, EFAULT);
	igt_assert_eq(poll_in(dev, 0), POLLIN);
	igt_assert_eq(released(dev, ids, 4), 1);
	igt_assert_eq_u64(ids[0], id);
}

igt_main
{
	igt_fixture {
		gd_require_ours("no GDMABUF_IOCTL_EXP_ID/EXP_RELEASED, no poll() (our extensions)");
		dev = gd_open_dev();
		gd_grant_self(&g, NPAGES);
	}

	igt_describe("Each export has a distinct non-zero id; each release is reported once, oldest first, and only after the last holder (a vgem handle) let go.");
	igt_subtest("export-release-poll")
		test_export_release_poll();

	igt_describe("poll() with a timeout wakes up when another thread releases an export; ids are never reused.");
	igt_subtest("export-release-poll-wakeup")
		test_export_release_poll_wakeup();

	igt_describe("Releases are reported to the exporting file only; closing that file drops its pending reports.");
	igt_subtest("export-release-per-file")
		test_export_release_per_file();

	igt_describe("EXP_ID with non-zero flags is refused with EINVAL.");
	igt_subtest("export-bad-id-flags")
		test_export_bad_id_flags();

	igt_describe("EXP_ID on an fd that is not open is EBADF, on a file that is not a dma-buf EINVAL, on another exporter's dma-buf (vgem) EINVAL.");
	igt_subtest("export-bad-id-fd")
		test_export_bad_id_fd();

	igt_describe("EXP_ID through a file other than the exporting one is ENOENT.");
	igt_subtest("export-bad-id-other-file")
		test_export_bad_id_other_file();

	igt_describe("EXP_ID and EXP_RELEASED with an unreadable argument fail with EFAULT.");
	igt_subtest("export-bad-id-pointer")
		test_export_bad_id_pointer();

	igt_describe("EXP_RELEASED with non-zero flags or pad is refused with EINVAL (both bad-released subtests; kept for its name).");
	igt_subtest("export-bad-released-flags-pad") {
		test_export_bad_released_flags();
		test_export_bad_released_pad();
	}

	igt_describe("EXP_RELEASED with non-zero flags is refused with EINVAL.");
	igt_subtest("export-bad-released-flags")
		test_export_bad_released_flags();

	igt_describe("EXP_RELEASED with a non-zero pad is refused with EINVAL.");
	igt_subtest("export-bad-released-pad")
		test_export_bad_released_pad();

	igt_describe("EXP_RELEASED into an unwritable id array fails with EFAULT and the release stays queued.");
	igt_subtest("export-bad-released-ids")
		test_export_bad_released_ids();

	igt_fixture {
		gd_grant_free(&g);
		close(dev);
	}
}
