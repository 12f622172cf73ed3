// SPDX-License-Identifier: MIT
/**
 * TEST: gdmabuf export
 * Category: Xen
 * Feature: gntdev-dmabuf
 * Description: IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS and
 *   IOCTL_GNTDEV_DMABUF_EXP_WAIT_RELEASED: grants of a domain become a dma-buf
 *   over the same memory.
 *
 * SUBTEST: export-basic
 * Description: Self-granted pages exported as a dma-buf of the right size; its
 *   CPU mapping shows the granter's memory and writes reach the granter.
 *
 * SUBTEST: export-prime-vgem
 * Description: The export is imported into vgem with PRIME: vgem attaches and
 *   maps it for DMA.
 *
 * SUBTEST: export-dma-address
 * Description: A device importer of the export gets, for every page, the same
 *   DMA address the device gets for the granter's own page: swiotlb-xen
 *   translates the foreign frames (PV: every device; arm64: the selftest's
 *   fw_cfg device, whose DMA operations come from its bus).
 *
 * SUBTEST: export-device-write
 * Description: A real device (QEMU's fw_cfg DMA engine, bound by the
 *   selftest build on arm64 so that its DMA operations come from the bus,
 *   swiotlb-xen) imports an export of the domU's pages and writes a file
 *   through the table's DMA addresses: every page's address is its bus
 *   frame, and the domU sees the bytes before any sync, so the device
 *   wrote into the guest's memory, not into a bounce buffer.
 *
 * SUBTEST: export-cross-domain-prime
 * Description: A domU's grants exported in dom0 and imported into vgem with
 *   PRIME (DMA-mapped foreign frames); released, the domU can end its grants.
 *
 * SUBTEST: export-wait-released
 * Description: WAIT_RELEASED: ETIMEDOUT while a holder remains (timeout 0 only
 *   polls), wakes a blocked waiter when the last holder lets go, then ENOENT.
 *
 * SUBTEST: export-outlives-device-fd
 * Description: An export outlives the device file that created it.
 *
 * SUBTEST: export-wait-other-file
 * Description: WAIT_RELEASED names buffers per device file: another file's
 *   export is ENOENT.
 *
 * SUBTEST: export-close-race
 * Description: Another thread closes the new dma-buf fd while EXP_FROM_REFS is
 *   still running, many times: no warning, no leak.
 *
 * SUBTEST: export-unload-busy
 * Description: The module cannot be unloaded while an export lives, even with
 *   every device file closed; it can once the export is released.
 *
 * SUBTEST: export-bad-count-zero
 * Description: count 0 is refused with EINVAL.
 *
 * SUBTEST: export-bad-count-over-limit
 * Description: count above the per-call limit is refused with EINVAL.
 *
 * SUBTEST: export-bad-both-dma-flags
 * Description: GNTDEV_DMA_FLAG_WC and GNTDEV_DMA_FLAG_COHERENT together are
 *   refused with EINVAL.
 *
 * SUBTEST: export-bad-unknown-flags
 * Description: Unknown flag bits are refused with EINVAL.
 *
 * SUBTEST: export-bad-gref
 * Description: A grant reference that was never issued is refused with EINVAL
 *   and nothing stays mapped.
 *
 * SUBTEST: export-bad-gref-partial
 * Description: One invalid reference in the middle: EINVAL, and the references
 *   mapped before it are unmapped.
 *
 * SUBTEST: export-bad-domid
 * Description: A reserved domid (DOMID_SELF and above) is refused with EINVAL;
 *   a domain that does not exist too.
 *
 * SUBTEST: export-bad-pointer
 * Description: An argument or reference array that cannot be read fails with
 *   EFAULT.
 *
 * SUBTEST: export-bad-wait-unknown
 * Description: WAIT_RELEASED on a number that names no export is ENOENT.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "igt.h"
#include "gdmabuf_test.h"

IGT_TEST_DESCRIPTION("IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS and "
		     "IOCTL_GNTDEV_DMABUF_EXP_WAIT_RELEASED: grants of a domain become a "
		     "dma-buf over the same memory.");

#define NPAGES 8

static struct gd_grant g;

static struct ioctl_gntdev_dmabuf_exp_from_refs *
exp_op(uint32_t domid, uint32_t count, const uint32_t *refs)
{
	struct ioctl_gntdev_dmabuf_exp_from_refs *op;

	op = calloc(1, sizeof(*op) + count * sizeof(uint32_t));
	igt_assert(op);
	op->domid = domid;
	op->count = count;
	if (refs)
		memcpy(op->refs, refs, count * sizeof(uint32_t));
	op->fd = -1;
	return op;
}

/* Exports g's pages; returns the dma-buf fd. */
static int export_grant(int fd)
{
	return gd_export_self(fd, &g, g.count);
}

static void bad_export(int fd, uint32_t flags, uint32_t domid, uint32_t count,
		       const uint32_t *refs, int err)
{
	struct ioctl_gntdev_dmabuf_exp_from_refs *op = exp_op(domid, count, refs);

	op->flags = flags;
	do_ioctl_err(fd, IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS, op, err);
	free(op);
}

struct waiter {
	int fd, buf, ret;
};

static void *wait_thread(void *arg)
{
	struct waiter *w = arg;

	w->ret = gd_wait_released(w->fd, w->buf, 10000);
	return NULL;
}

static atomic_bool racing;

/* Closes whatever the next few fd numbers hold, as fast as it can. */
static void *close_thread(void *arg)
{
	int base = *(int *)arg;

	while (atomic_load(&racing))
		for (int i = 0; i < 4; i++)
			close(base + i);
	return NULL;
}

static void test_export_basic(int fd)
{
	int buf = export_grant(fd);
	uint8_t *map;

	igt_assert_eq_s64(lseek(buf, 0, SEEK_END), NPAGES * GD_PAGE_SIZE);
	map = mmap(NULL, NPAGES * GD_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);
	igt_assert(map != MAP_FAILED);
	igt_assert_eq_s64(gd_check_pattern(map, NPAGES, 0xe0), -1);
	gd_fill_pattern(map, NPAGES, 0xe1);
	igt_assert_eq_s64(gd_check_pattern(g.map, NPAGES, 0xe1), -1);
	gd_fill_pattern(g.map, NPAGES, 0xe0);
	munmap(map, NPAGES * GD_PAGE_SIZE);
	close(buf);
	igt_assert_eq(gd_wait_released(fd, buf, 1000), -ENOENT);
}

static void test_export_prime_vgem(int fd, int card)
{
	int buf = export_grant(fd);
	uint32_t handle = gd_prime_import(card, buf);

	igt_assert_neq(handle, 0);
	close(buf);
	/* vgem's handle keeps the buffer alive */
	igt_assert_eq(gd_wait_released(fd, buf, 0), -ETIMEDOUT);
	gd_gem_close(card, handle);
	igt_assert_eq(gd_wait_released(fd, buf, 5000), -ENOENT);
}

static void test_export_dma_address(int fd)
{
	char cmd[64], res[64];
	unsigned int pages, same;
	int buf;

	gd_require_ours("no debugfs dmacheck (our selftest's kernel importer)");
	igt_require_f(gd_pv_domain() || gd_bus_device(),
		      "auto-translated and no device whose DMA operations come from a bus (the selftest binds QEMU's fw_cfg device where the device tree has one)\n");
	buf = export_grant(fd);
	snprintf(cmd, sizeof(cmd), "%d %lx", buf, (unsigned long)g.map);
	gd_debugfs_cmd("dmacheck", cmd, res, sizeof(res));
	igt_assert_eq(sscanf(res, "pages=%u same=%u", &pages, &same), 2);
	igt_info("%u of %u pages have the granter's DMA address\n", same, pages);
	igt_assert_eq(pages, NPAGES);
	igt_assert_eq(same, NPAGES);
	close(buf);
}

static void test_export_cross_domain_prime(int fd, int card, int domu)
{
	struct ioctl_gntdev_dmabuf_exp_from_refs *op;
	uint32_t handle;
	int buf, h;

	op = exp_op(domu, NPAGES, NULL);
	h = gd_domu_grant(0, NPAGES, 0x77, op->refs);
	do_ioctl(fd, IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS, op);
	buf = op->fd;
	free(op);
	gd_assert_stat("mapped_grants", NPAGES);
	handle = gd_prime_import(card, buf);
	close(buf);
	gd_gem_close(card, handle);
	igt_assert_eq(gd_wait_released(fd, buf, 5000), -ENOENT);
	gd_assert_stat("mapped_grants", 0);
	/* the domU's memory is untouched and its grants can end */
	gd_domu_check(h, 0x77);
	gd_domu_free(h);
}

static void test_export_wait_released(int fd)
{
	int buf = export_grant(fd);
	int dup_fd = dup(buf);
	struct waiter w = { .fd = fd, .buf = buf };
	pthread_t t;

	igt_assert_eq(gd_wait_released(fd, buf, 0), -ETIMEDOUT);
	igt_assert_eq(gd_wait_released(fd, buf, 50), -ETIMEDOUT);
	close(buf);
	/* the number still names the export: the dup holds it */
	igt_assert_eq(gd_wait_released(fd, buf, 0), -ETIMEDOUT);
	igt_assert_eq(pthread_create(&t, NULL, wait_thread, &w), 0);
	usleep(200000);
	close(dup_fd);
	igt_assert_eq(pthread_join(t, NULL), 0);
	igt_assert_eq(w.ret, 0);
	igt_assert_eq(gd_wait_released(fd, buf, 0), -ENOENT);
}

static void test_export_outlives_device_fd(void)
{
	int fd2 = gd_open_dev();
	int buf = export_grant(fd2);

	close(fd2);
	/* our debugfs counter; the size shows the buffer is alive anyway */
	if (!gd_upstream())
		igt_assert_lte_s64(1, gd_stat("live_exports"));
	igt_assert_eq_s64(lseek(buf, 0, SEEK_END), NPAGES * GD_PAGE_SIZE);
	close(buf);
}

static void test_export_wait_other_file(int fd)
{
	int fd2 = gd_open_dev();
	int buf = export_grant(fd);

	igt_assert_eq(gd_wait_released(fd2, buf, 0), -ENOENT);
	close(buf);
	close(fd2);
}

static void test_export_close_race(int fd)
{
	struct ioctl_gntdev_dmabuf_exp_from_refs *op = exp_op(gd_self_domid(), NPAGES, g.refs);
	int base = dup(0);
	pthread_t t;

	close(base);
	atomic_store(&racing, true);
	igt_assert_eq(pthread_create(&t, NULL, close_thread, &base), 0);
	for (int i = 0; i < 2000; i++) {
		/* Xen pins a grant at most 255 times: never let exports pile up */
		do_ioctl(fd, IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS, op);
		close(op->fd);	/* unless the other thread was first */
	}
	atomic_store(&racing, false);
	igt_assert_eq(pthread_join(t, NULL), 0);
	for (int i = 0; i < 4; i++)
		close(base + i);
	free(op);
	gd_assert_stat("live_exports", 0);
}

static void test_export_unload_busy(int *fd)
{
	const char *path = getenv("GDMABUF_MODULE");
	int buf, mod;

	gd_require_ours("built into the kernel, no module to unload");
	igt_require_f(path, "GDMABUF_MODULE does not name the module file\n");
	buf = export_grant(*fd);
	close(*fd);
	*fd = -1;
	igt_assert_eq_s64(syscall(SYS_delete_module, "xen_gntdev_dmabuf", O_NONBLOCK), -1);
	igt_assert_eq(errno, EWOULDBLOCK);
	close(buf);
	igt_assert_eq_s64(syscall(SYS_delete_module, "xen_gntdev_dmabuf", O_NONBLOCK), 0);
	mod = open(path, O_RDONLY | O_CLOEXEC);
	igt_assert_lte(0, mod);
	igt_assert_eq_s64(syscall(SYS_finit_module, mod, "", 0), 0);
	close(mod);
	*fd = gd_open_dev();
}

static void test_export_bad_count_zero(int fd)
{
	bad_export(fd, 0, gd_self_domid(), 0, g.refs, EINVAL);
}

static void test_export_bad_count_over_limit(int fd)
{
	bad_export(fd, 0, gd_self_domid(), gd_max_pages_per_call(fd) + 1, NULL, EINVAL);
}

static void test_export_bad_both_dma_flags(int fd)
{
	bad_export(fd, GNTDEV_DMA_FLAG_WC | GNTDEV_DMA_FLAG_COHERENT, gd_self_domid(),
		   NPAGES, g.refs, EINVAL);
}

static void test_export_bad_unknown_flags(int fd)
{
	for (int bit = 2; bit < 32; bit++)
		bad_export(fd, 1u << bit, gd_self_domid(), NPAGES, g.refs, EINVAL);
}

static void test_export_bad_gref(int fd)
{
	uint32_t ref = 0x7fffff;

	bad_export(fd, 0, gd_self_domid(), 1, &ref, EINVAL);
}

static void test_export_bad_gref_partial(int fd)
{
	uint32_t refs[NPAGES];

	memcpy(refs, g.refs, sizeof(refs));
	refs[NPAGES / 2] = 0x7fffff;
	bad_export(fd, 0, gd_self_domid(), NPAGES, refs, EINVAL);
	gd_assert_stat("mapped_grants", 0);
}

static void test_export_bad_domid(int fd)
{
	bad_export(fd, 0, 0x7ff0, NPAGES, g.refs, EINVAL);
	bad_export(fd, 0, 0x10000, NPAGES, g.refs, EINVAL);
	bad_export(fd, 0, 0x7fe0, NPAGES, g.refs, EINVAL);
}

static void test_export_bad_pointer(int fd)
{
	uint8_t *pages = mmap(NULL, 2 * GD_PAGE_SIZE, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct ioctl_gntdev_dmabuf_exp_from_refs *op;

	igt_assert(pages != MAP_FAILED);
	do_ioctl_err(fd, IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS, NULL, EFAULT);
	/* header readable, refs[] running into an unmapped page */
	munmap(pages + GD_PAGE_SIZE, GD_PAGE_SIZE);
	op = (void *)(pages + GD_PAGE_SIZE - offsetof(typeof(*op), refs) - 4);
	op->flags = 0;
	op->count = 2;
	op->domid = gd_self_domid();
	op->refs[0] = g.refs[0];
	do_ioctl_err(fd, IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS, op, EFAULT);
	munmap(pages, GD_PAGE_SIZE);
}

static void test_export_bad_wait_unknown(int fd)
{
	igt_assert_eq(gd_wait_released(fd, 12345, 0), -ENOENT);
	igt_assert_eq(gd_wait_released(fd, -1, 10), -ENOENT);
}

igt_main
{
	int fd = -1, card = -1, domu = -1;

	igt_fixture {
		fd = gd_open_dev();
		gd_grant_self(&g, NPAGES);
		gd_fill_pattern(g.map, NPAGES, 0xe0);
	}

	igt_describe("Self-granted pages exported as a dma-buf of the right size; its CPU mapping shows the granter's memory and writes reach the granter.");
	igt_subtest("export-basic")
		test_export_basic(fd);

	igt_subtest_group {
		igt_fixture
			card = gd_open_vgem();

		igt_describe("The export is imported into vgem with PRIME: vgem attaches and maps it for DMA.");
		igt_subtest("export-prime-vgem")
			test_export_prime_vgem(fd, card);

		igt_fixture
			close(card);
	}

	igt_describe("A device importer of the export gets, for every page, the same DMA address the device gets for the granter's own page: swiotlb-xen translates the foreign frames (PV: every device; arm64: the selftest's fw_cfg device, whose DMA operations come from its bus).");
	igt_subtest("export-dma-address")
		test_export_dma_address(fd);

	igt_describe("A real device (QEMU's fw_cfg DMA engine, bound by the selftest build on arm64 so that its DMA operations come from the bus, swiotlb-xen) imports an export of the domU's pages and writes a file through the table's DMA addresses: every page's address is its bus frame, and the domU sees the bytes before any sync, so the device wrote into the guest's memory, not into a bounce buffer.");
	igt_subtest("export-device-write")
		gd_check_device_write(fd, 0, 64);

	igt_subtest_group {
		igt_fixture {
			domu = gd_require_domu();
			card = gd_open_vgem();
		}

		igt_describe("A domU's grants exported in dom0 and imported into vgem with PRIME (DMA-mapped foreign frames); released, the domU can end its grants.");
		igt_subtest("export-cross-domain-prime")
			test_export_cross_domain_prime(fd, card, domu);

		igt_fixture
			close(card);
	}

	igt_describe("WAIT_RELEASED: ETIMEDOUT while a holder remains (timeout 0 only polls), wakes a blocked waiter when the last holder lets go, then ENOENT.");
	igt_subtest("export-wait-released")
		test_export_wait_released(fd);

	igt_describe("An export outlives the device file that created it.");
	igt_subtest("export-outlives-device-fd")
		test_export_outlives_device_fd();

	igt_describe("WAIT_RELEASED names buffers per device file: another file's export is ENOENT.");
	igt_subtest("export-wait-other-file")
		test_export_wait_other_file(fd);

	igt_describe("Another thread closes the new dma-buf fd while EXP_FROM_REFS is still running, many times: no warning, no leak.");
	igt_subtest("export-close-race")
		test_export_close_race(fd);

	igt_describe("The module cannot be unloaded while an export lives, even with every device file closed; it can once the export is released.");
	igt_subtest("export-unload-busy")
		test_export_unload_busy(&fd);

	igt_describe("count 0 is refused with EINVAL.");
	igt_subtest("export-bad-count-zero")
		test_export_bad_count_zero(fd);

	igt_describe("count above the per-call limit is refused with EINVAL.");
	igt_subtest("export-bad-count-over-limit")
		test_export_bad_count_over_limit(fd);

	igt_describe("GNTDEV_DMA_FLAG_WC and GNTDEV_DMA_FLAG_COHERENT together are refused with EINVAL.");
	igt_subtest("export-bad-both-dma-flags")
		test_export_bad_both_dma_flags(fd);

	igt_describe("Unknown flag bits are refused with EINVAL.");
	igt_subtest("export-bad-unknown-flags")
		test_export_bad_unknown_flags(fd);

	igt_describe("A grant reference that was never issued is refused with EINVAL and nothing stays mapped.");
	igt_subtest("export-bad-gref")
		test_export_bad_gref(fd);

	igt_describe("One invalid reference in the middle: EINVAL, and the references mapped before it are unmapped.");
	igt_subtest("export-bad-gref-partial")
		test_export_bad_gref_partial(fd);

	igt_describe("A reserved domid (DOMID_SELF and above) is refused with EINVAL; a domain that does not exist too.");
	igt_subtest("export-bad-domid")
		test_export_bad_domid(fd);

	igt_describe("An argument or reference array that cannot be read fails with EFAULT.");
	igt_subtest("export-bad-pointer")
		test_export_bad_pointer(fd);

	igt_describe("WAIT_RELEASED on a number that names no export is ENOENT.");
	igt_subtest("export-bad-wait-unknown")
		test_export_bad_wait_unknown(fd);

	igt_fixture {
		gd_grant_free(&g);
		close(fd);
	}
}
