// SPDX-License-Identifier: MIT
/*
 * The pollable release path: GDMABUF_IOCTL_EXP_ID names an export by a
 * 64-bit id, poll() on the device says a release is pending, and
 * GDMABUF_IOCTL_EXP_RELEASED collects the released ids without blocking.
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

igt_main
{
	igt_fixture {
		dev = gd_open_dev();
		gd_grant_self(&g, NPAGES);
	}

	igt_describe("Each export has a distinct non-zero id; each release is reported once, oldest first, and only after the last holder (a vgem handle) let go.");
	igt_subtest("export-release-poll") {
		struct drm_prime_handle prime = { 0 };
		struct drm_gem_close gclose = { 0 };
		int card = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
		uint64_t id[3], ids[8];
		int buf[3];

		igt_require_f(card >= 0, "no /dev/dri/card0 (vgem not loaded)\n");
		for (int i = 0; i < 3; i++) {
			buf[i] = export_self(dev);
			id[i] = exp_id(dev, buf[i]);
		}
		igt_assert(id[0] != id[1] && id[1] != id[2] && id[0] != id[2]);
		igt_assert_eq(poll_in(dev, 0), 0);
		igt_assert_eq(released(dev, ids, 8), 0);

		prime.fd = buf[1];
		do_ioctl(card, DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime);
		close(buf[1]);
		igt_assert_eq(poll_in(dev, 0), 0);
		close(buf[2]);
		igt_assert_eq(poll_in(dev, 0), POLLIN);
		gclose.handle = prime.handle;
		do_ioctl(card, DRM_IOCTL_GEM_CLOSE, &gclose);
		close(buf[0]);

		/* one at a time, oldest release first */
		igt_assert_eq(released(dev, ids, 1), 1);
		igt_assert_eq_u64(ids[0], id[2]);
		igt_assert_eq(released(dev, ids, 8), 2);
		igt_assert_eq_u64(ids[0], id[1]);
		igt_assert_eq_u64(ids[1], id[0]);
		igt_assert_eq(poll_in(dev, 0), 0);
		igt_assert_eq(released(dev, ids, 8), 0);
		{
			struct ioctl_gntdev_dmabuf_exp_wait_released w = { .fd = buf[0] };

			do_ioctl_err(dev, IOCTL_GNTDEV_DMABUF_EXP_WAIT_RELEASED, &w, ENOENT);
		}
		close(card);
	}

	igt_describe("poll() with a timeout wakes up when another thread releases an export; ids are never reused.");
	igt_subtest("export-release-poll-wakeup") {
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

	igt_describe("Releases are reported to the exporting file only; closing that file drops its pending reports.");
	igt_subtest("export-release-per-file") {
		int fd2 = gd_open_dev();
		int buf = export_self(fd2);
		uint64_t ids[2];

		close(buf);
		igt_assert_eq(poll_in(dev, 0), 0);
		igt_assert_eq(poll_in(fd2, 0), POLLIN);
		close(fd2);
		igt_assert_eq(released(dev, ids, 2), 0);
	}

	igt_describe("EXP_ID with non-zero flags is refused with EINVAL.");
	igt_subtest("export-bad-id-flags") {
		int buf = export_self(dev);
		struct gdmabuf_exp_id op = { .fd = buf, .flags = 1 };

		do_ioctl_err(dev, GDMABUF_IOCTL_EXP_ID, &op, EINVAL);
		op.flags = 0x80000000;
		do_ioctl_err(dev, GDMABUF_IOCTL_EXP_ID, &op, EINVAL);
		close(buf);
		released(dev, (uint64_t[1]){ 0 }, 1);
	}

	igt_describe("EXP_ID on an fd that is not open is EBADF, on a file that is not a dma-buf EINVAL, on another exporter's dma-buf (vgem) EINVAL.");
	igt_subtest("export-bad-id-fd") {
		struct drm_mode_create_dumb dumb = { .width = 64, .height = 64, .bpp = 32 };
		struct drm_prime_handle prime = { 0 };
		struct gdmabuf_exp_id op = { .fd = 1000 };
		int card;

		do_ioctl_err(dev, GDMABUF_IOCTL_EXP_ID, &op, EBADF);
		op.fd = dev;
		do_ioctl_err(dev, GDMABUF_IOCTL_EXP_ID, &op, EINVAL);

		card = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
		igt_require_f(card >= 0, "no /dev/dri/card0 (vgem not loaded)\n");
		do_ioctl(card, DRM_IOCTL_MODE_CREATE_DUMB, &dumb);
		prime.handle = dumb.handle;
		prime.flags = DRM_CLOEXEC;
		do_ioctl(card, DRM_IOCTL_PRIME_HANDLE_TO_FD, &prime);
		op.fd = prime.fd;
		do_ioctl_err(dev, GDMABUF_IOCTL_EXP_ID, &op, EINVAL);
		close(prime.fd);
		close(card);
	}

	igt_describe("EXP_ID through a file other than the exporting one is ENOENT.");
	igt_subtest("export-bad-id-other-file") {
		int fd2 = gd_open_dev();
		int buf = export_self(fd2);
		struct gdmabuf_exp_id op = { .fd = buf };

		do_ioctl_err(dev, GDMABUF_IOCTL_EXP_ID, &op, ENOENT);
		close(buf);
		close(fd2);
	}

	igt_describe("EXP_ID and EXP_RELEASED with an unreadable argument fail with EFAULT.");
	igt_subtest("export-bad-id-pointer") {
		do_ioctl_err(dev, GDMABUF_IOCTL_EXP_ID, NULL, EFAULT);
		do_ioctl_err(dev, GDMABUF_IOCTL_EXP_RELEASED, NULL, EFAULT);
	}

	igt_describe("EXP_RELEASED with non-zero flags or pad is refused with EINVAL.");
	igt_subtest("export-bad-released-flags-pad") {
		uint64_t ids[1];
		struct gdmabuf_exp_released op = { .ids_ptr = (uintptr_t)ids, .max = 1, .flags = 1 };

		do_ioctl_err(dev, GDMABUF_IOCTL_EXP_RELEASED, &op, EINVAL);
		op.flags = 0;
		op.pad = 1;
		do_ioctl_err(dev, GDMABUF_IOCTL_EXP_RELEASED, &op, EINVAL);
	}

	igt_describe("EXP_RELEASED into an unwritable id array fails with EFAULT and the release stays queued.");
	igt_subtest("export-bad-released-ids") {
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

	igt_fixture {
		gd_grant_free(&g);
		close(dev);
	}
}
