// SPDX-License-Identifier: MIT
/*
 * Import: a local dma-buf (vgem, udmabuf, a dma-heap, the module's test
 * exporter) is granted to a domain, through the legacy
 * IOCTL_GNTDEV_DMABUF_IMP_* calls and GDMABUF_IOCTL_IMP_*, and released
 * safely even while the peer still maps it.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <drm.h>	/* libdrm-dev: Debian ships the DRM uAPI there */
#include <drm_mode.h>
#include <linux/dma-heap.h>
#include <linux/udmabuf.h>

#include "igt.h"
#include "gdmabuf_test.h"

#define NPAGES 8
#define SIZE (NPAGES * GD_PAGE_SIZE)

static int dev = -1;

/* A vgem buffer of @pages pages, mapped at *@map; returns its dma-buf fd. */
static int vgem_buf(int card, uint32_t pages, uint8_t **map)
{
	int buf = gd_vgem_dmabuf(card, pages);

	*map = mmap(NULL, (size_t)pages * GD_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);
	igt_assert(*map != MAP_FAILED);
	return buf;
}

static int open_vgem(void)
{
	int card = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);

	igt_require_f(card >= 0, "no /dev/dri/card0 (vgem not loaded)\n");
	return card;
}

static struct ioctl_gntdev_dmabuf_imp_to_refs *imp_op(int buf, uint32_t domid, uint32_t count)
{
	struct ioctl_gntdev_dmabuf_imp_to_refs *op;

	op = calloc(1, sizeof(*op) + count * sizeof(uint32_t));
	igt_assert(op);
	op->fd = buf;
	op->domid = domid;
	op->count = count;
	return op;
}

/* Legacy import of @buf (@count pages) to @domid; returns the op with refs. */
static struct ioctl_gntdev_dmabuf_imp_to_refs *import_legacy(int buf, uint32_t domid,
							     uint32_t count)
{
	struct ioctl_gntdev_dmabuf_imp_to_refs *op = imp_op(buf, domid, count);

	/* libxengnttab leaves reserved uninitialised: it must be ignored */
	op->reserved = 0xdeadbeef;
	do_ioctl(dev, IOCTL_GNTDEV_DMABUF_IMP_TO_REFS, op);
	return op;
}

static int release_legacy(int buf)
{
	struct ioctl_gntdev_dmabuf_imp_release rel = { .fd = buf, .reserved = 0x1234 };

	return ioctl(dev, IOCTL_GNTDEV_DMABUF_IMP_RELEASE, &rel) ? -errno : 0;
}

/* Waits up to @ms for debugfs counter @name to reach @want. */
static bool stat_reaches(const char *name, long long want, int ms)
{
	for (int i = 0; i < ms / 20; i++) {
		if (gd_stat(name) == want)
			return true;
		usleep(20000);
	}
	return gd_stat(name) == want;
}

/* Maps @refs of our own domain through the stock gntdev and checks @seed. */
static void check_self_refs(const uint32_t *refs, uint32_t count, uint32_t seed,
			    uint32_t newseed)
{
	struct gd_mapping m;

	igt_assert_eq(gd_map_grants(&m, gd_self_domid(), refs, count, true), 0);
	igt_assert_eq_s64(gd_check_pattern(m.map, count, seed), -1);
	gd_fill_pattern(m.map, count, newseed);
	gd_unmap_grants(&m);
}

static void import_and_check(int buf, uint8_t *map)
{
	struct ioctl_gntdev_dmabuf_imp_to_refs *op;

	gd_fill_pattern(map, NPAGES, 0xa0);
	op = import_legacy(buf, gd_self_domid(), NPAGES);
	igt_assert_eq_s64(gd_stat("granted_refs"), NPAGES);
	check_self_refs(op->refs, NPAGES, 0xa0, 0xa1);
	igt_assert_eq_s64(gd_check_pattern(map, NPAGES, 0xa1), -1);
	igt_assert_eq(release_legacy(buf), 0);
	igt_assert_eq_s64(gd_stat("granted_refs"), 0);
	igt_assert_eq_s64(gd_stat("live_imports"), 0);
	free(op);
}

/* A dma-buf from the module's test exporter; skips without a test build. */
static int mkbuf(uint32_t pages, uint32_t offset, uint32_t seed, const char *mode)
{
	char cmd[48], res[32];
	int fd = -1;

	snprintf(cmd, sizeof(cmd), "%u %u %u %s", pages, offset, seed, mode);
	gd_debugfs_cmd("mkbuf", cmd, res, sizeof(res));
	igt_assert_eq(sscanf(res, "fd=%d", &fd), 1);
	return fd;
}

igt_main
{
	igt_fixture
		dev = gd_open_dev();

	igt_describe("A vgem buffer granted to ourselves: the stock gntdev maps the refs and sees vgem's data, and writes through the grant appear in vgem's mapping.");
	igt_subtest("import-basic") {
		int card = open_vgem();
		uint8_t *map;
		int buf = vgem_buf(card, NPAGES, &map);

		import_and_check(buf, map);
		munmap(map, SIZE);
		close(buf);
		close(card);
	}

	igt_describe("dom0 grants a vgem buffer to a domU, which maps it, reads the pattern and writes a reply that dom0 sees through vgem.");
	igt_subtest("import-cross-domain") {
		struct ioctl_gntdev_dmabuf_imp_to_refs *op;
		char resp[4096], list[4096];
		int card, buf, domu = gd_require_domu();
		uint8_t *map;

		card = open_vgem();
		buf = vgem_buf(card, NPAGES, &map);
		gd_fill_pattern(map, NPAGES, 0xb0);
		op = import_legacy(buf, domu, NPAGES);
		gd_format_refs(list, sizeof(list), op->refs, NPAGES);
		igt_assert_eq(gd_domu_call(resp, sizeof(resp), "mapcheck 0 0xb0 0xb1 %s", list), 0);
		igt_assert_eq_s64(gd_check_pattern(map, NPAGES, 0xb1), -1);
		igt_assert_eq(release_legacy(buf), 0);
		igt_assert_eq_s64(gd_stat("granted_refs"), 0);
		free(op);
		munmap(map, SIZE);
		close(buf);
		close(card);
	}

	igt_describe("IMP_RELEASE while the peer still maps the pages returns at once; the buffer is kept (the mapping still works) and the release completes when the peer unmaps.");
	igt_subtest("import-release-while-mapped") {
		struct ioctl_gntdev_dmabuf_imp_to_refs *op;
		struct gd_mapping m;
		int card = open_vgem(), buf;
		char line[128] = "";
		uint8_t *map;
		FILE *f;

		buf = vgem_buf(card, NPAGES, &map);
		gd_fill_pattern(map, NPAGES, 0xd0);
		op = import_legacy(buf, gd_self_domid(), NPAGES);
		igt_assert_eq(gd_map_grants(&m, gd_self_domid(), op->refs, NPAGES, true), 0);
		/* drop every other holder of the vgem buffer */
		munmap(map, SIZE);
		close(buf);
		igt_assert_eq(release_legacy(buf), 0);
		igt_assert_eq_s64(gd_stat("pending_releases"), 1);
		igt_assert_eq_s64(gd_stat("granted_refs"), NPAGES);
		f = fopen("/sys/kernel/debug/gntdev-dmabuf/pending", "r");
		igt_assert(f);
		igt_assert(fgets(line, sizeof(line), f));
		fclose(f);
		igt_info("pending: %s", line);
		/* the peer's view still is the buffer's memory, not freed pages */
		igt_assert_eq_s64(gd_check_pattern(m.map, NPAGES, 0xd0), -1);
		gd_fill_pattern(m.map, NPAGES, 0xd1);
		igt_assert_eq_s64(gd_check_pattern(m.map, NPAGES, 0xd1), -1);
		gd_unmap_grants(&m);
		igt_assert(stat_reaches("pending_releases", 0, 5000));
		igt_assert_eq_s64(gd_stat("granted_refs"), 0);
		igt_assert_eq_s64(gd_stat("live_imports"), 0);
		free(op);
		close(card);
	}

	igt_describe("A buffer larger than the free grant table (Xen gives dom0 64 frames, 32768 entries) fails with ENOSPC part way: the grants already made are ended, nothing stays attached, and a small import works afterwards.");
	igt_subtest("import-grant-table-full") {
		const uint32_t pages = 40000;
		struct ioctl_gntdev_dmabuf_imp_to_refs *op;
		int card = open_vgem(), buf;
		uint8_t *map;

		igt_require_f(gd_meminfo_kb("MemAvailable:") > pages * 4 * 2,
			      "needs %u MiB of free memory for a %u-page buffer, dom0 has %lld MiB\n",
			      pages * 4 * 2 / 1024, pages, gd_meminfo_kb("MemAvailable:") / 1024);
		buf = vgem_buf(card, pages, &map);
		/* touch every page so that vgem's table has them all */
		for (uint32_t i = 0; i < pages; i++)
			map[(size_t)i * GD_PAGE_SIZE] = 1;
		op = imp_op(buf, gd_self_domid(), pages);
		do_ioctl_err(dev, IOCTL_GNTDEV_DMABUF_IMP_TO_REFS, op, ENOSPC);
		igt_assert_eq_s64(gd_stat("granted_refs"), 0);
		igt_assert_eq_s64(gd_stat("live_imports"), 0);
		igt_assert_eq_s64(gd_stat("pending_releases"), 0);
		free(op);
		munmap(map, (size_t)pages * GD_PAGE_SIZE);
		close(buf);

		buf = vgem_buf(card, NPAGES, &map);
		import_and_check(buf, map);
		munmap(map, SIZE);
		close(buf);
		close(card);
	}

	igt_describe("Closing the device file releases everything it imported.");
	igt_subtest("import-close-releases") {
		struct ioctl_gntdev_dmabuf_imp_to_refs *op;
		int card = open_vgem(), buf;
		uint8_t *map;

		buf = vgem_buf(card, NPAGES, &map);
		op = import_legacy(buf, gd_self_domid(), NPAGES);
		igt_assert_eq_s64(gd_stat("live_imports"), 1);
		close(dev);
		igt_assert_eq_s64(gd_stat("granted_refs"), 0);
		igt_assert_eq_s64(gd_stat("live_imports"), 0);
		dev = gd_open_dev();
		free(op);
		munmap(map, SIZE);
		close(buf);
		close(card);
	}

	igt_describe("A udmabuf (memfd pages) is granted and shows the memfd's data.");
	igt_subtest("import-udmabuf") {
		struct udmabuf_create create = { .flags = UDMABUF_FLAGS_CLOEXEC, .size = SIZE };
		int u = open("/dev/udmabuf", O_RDWR | O_CLOEXEC), memfd, buf;
		uint8_t *map;

		igt_require_f(u >= 0, "no /dev/udmabuf on this kernel (CONFIG_UDMABUF)\n");
		memfd = memfd_create("gdmabuf-import", MFD_ALLOW_SEALING);
		igt_assert_lte(0, memfd);
		igt_assert_eq(ftruncate(memfd, SIZE), 0);
		igt_assert_eq(fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK), 0);
		create.memfd = memfd;
		buf = ioctl(u, UDMABUF_CREATE, &create);
		igt_assert_lte(0, buf);
		map = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
		igt_assert(map != MAP_FAILED);
		import_and_check(buf, map);
		munmap(map, SIZE);
		close(buf);
		close(memfd);
		close(u);
	}

	igt_describe("A buffer of the system dma-heap is granted and shows the heap buffer's data.");
	igt_subtest("import-dma-heap") {
		struct dma_heap_allocation_data alloc = {
			.len = SIZE, .fd_flags = O_RDWR | O_CLOEXEC,
		};
		int heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
		uint8_t *map;

		igt_require_f(heap >= 0, "no /dev/dma_heap/system on this kernel (CONFIG_DMABUF_HEAPS_SYSTEM)\n");
		do_ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &alloc);
		map = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, alloc.fd, 0);
		igt_assert(map != MAP_FAILED);
		import_and_check(alloc.fd, map);
		munmap(map, SIZE);
		close(alloc.fd);
		close(heap);
	}

	igt_describe("A dma-buf whose data starts inside its first page: GDMABUF_IOCTL_IMP_TO_REFS measures it, grants the covering pages and reports the offset; the legacy call refuses it with EINVAL.");
	igt_subtest("import-data-offset") {
		const uint32_t pages = 4, offset = 256, seed = 7;
		struct gdmabuf_imp_to_refs op = { .domid = gd_self_domid() };
		struct gdmabuf_imp_release rel = { 0 };
		struct ioctl_gntdev_dmabuf_imp_to_refs *legacy;
		uint32_t refs[8];
		struct gd_mapping m;
		int buf = mkbuf(pages, offset, seed, "ram");

		legacy = imp_op(buf, gd_self_domid(), pages);
		do_ioctl_err(dev, IOCTL_GNTDEV_DMABUF_IMP_TO_REFS, legacy, EINVAL);
		free(legacy);

		op.fd = buf;
		do_ioctl(dev, GDMABUF_IOCTL_IMP_TO_REFS, &op);
		igt_assert_eq(op.count, pages);
		igt_assert_eq(op.offset, offset);
		igt_assert_eq_u64(op.size, pages * GD_PAGE_SIZE - offset);
		igt_assert_eq_u64(op.id, 0);
		igt_assert_eq_s64(gd_stat("granted_refs"), 0);

		op.count = 8;
		op.refs_ptr = (uintptr_t)refs;
		do_ioctl(dev, GDMABUF_IOCTL_IMP_TO_REFS, &op);
		igt_assert_eq(op.count, pages);
		igt_assert_neq_u64(op.id, 0);
		igt_assert_eq(gd_map_grants(&m, gd_self_domid(), refs, pages, false), 0);
		for (uint32_t k = 0; k < pages * GD_PAGE_SIZE; k++)
			igt_assert_eq(m.map[k], (uint8_t)(k * 13 + seed));
		gd_unmap_grants(&m);
		rel.id = op.id;
		do_ioctl(dev, GDMABUF_IOCTL_IMP_RELEASE, &rel);
		do_ioctl_err(dev, GDMABUF_IOCTL_IMP_RELEASE, &rel, ENOENT);
		igt_assert_eq_s64(gd_stat("granted_refs"), 0);
		close(buf);
	}

	igt_describe("GDMABUF_IMP_READONLY grants read-only: a read-only mapping works, a writable one is refused.");
	igt_subtest("import-readonly") {
		struct gdmabuf_imp_to_refs op = { .domid = gd_self_domid(), .flags = GDMABUF_IMP_READONLY };
		struct gdmabuf_imp_release rel = { 0 };
		uint32_t refs[NPAGES];
		struct gd_mapping m;
		int card = open_vgem(), buf;
		uint8_t *map;

		buf = vgem_buf(card, NPAGES, &map);
		gd_fill_pattern(map, NPAGES, 0xe0);
		op.fd = buf;
		op.count = NPAGES;
		op.refs_ptr = (uintptr_t)refs;
		do_ioctl(dev, GDMABUF_IOCTL_IMP_TO_REFS, &op);
		igt_assert_eq(op.offset, 0);
		igt_assert_neq(gd_map_grants(&m, gd_self_domid(), refs, NPAGES, true), 0);
		igt_assert_eq(gd_map_grants(&m, gd_self_domid(), refs, NPAGES, false), 0);
		igt_assert_eq_s64(gd_check_pattern(m.map, NPAGES, 0xe0), -1);
		gd_unmap_grants(&m);
		rel.id = op.id;
		do_ioctl(dev, GDMABUF_IOCTL_IMP_RELEASE, &rel);
		igt_assert_eq_s64(gd_stat("granted_refs"), 0);
		munmap(map, SIZE);
		close(buf);
		close(card);
	}

	igt_describe("Legacy IMP_TO_REFS: count 0, count above the limit, a count that does not match the buffer and a reserved domid are refused with EINVAL.");
	igt_subtest("import-bad-count-domid") {
		int card = open_vgem(), buf;
		struct ioctl_gntdev_dmabuf_imp_to_refs *op;
		uint8_t *map;

		buf = vgem_buf(card, NPAGES, &map);
		op = imp_op(buf, gd_self_domid(), 0);
		do_ioctl_err(dev, IOCTL_GNTDEV_DMABUF_IMP_TO_REFS, op, EINVAL);
		op->count = 65537;
		do_ioctl_err(dev, IOCTL_GNTDEV_DMABUF_IMP_TO_REFS, op, EINVAL);
		op->count = NPAGES / 2;
		do_ioctl_err(dev, IOCTL_GNTDEV_DMABUF_IMP_TO_REFS, op, EINVAL);
		op->count = NPAGES + 1;
		do_ioctl_err(dev, IOCTL_GNTDEV_DMABUF_IMP_TO_REFS, op, EINVAL);
		free(op);
		op = imp_op(buf, 0x7ff0, NPAGES);
		do_ioctl_err(dev, IOCTL_GNTDEV_DMABUF_IMP_TO_REFS, op, EINVAL);
		op->domid = 0xffffffff;
		do_ioctl_err(dev, IOCTL_GNTDEV_DMABUF_IMP_TO_REFS, op, EINVAL);
		free(op);
		igt_assert_eq_s64(gd_stat("granted_refs"), 0);
		munmap(map, SIZE);
		close(buf);
		close(card);
	}

	igt_describe("An fd that is not open is EBADF; a file that is not a dma-buf is EINVAL.");
	igt_subtest("import-bad-fd") {
		struct ioctl_gntdev_dmabuf_imp_to_refs *op = imp_op(1000, gd_self_domid(), 1);
		struct gdmabuf_imp_to_refs nop = { .fd = 1000, .domid = gd_self_domid() };

		do_ioctl_err(dev, IOCTL_GNTDEV_DMABUF_IMP_TO_REFS, op, EBADF);
		do_ioctl_err(dev, GDMABUF_IOCTL_IMP_TO_REFS, &nop, EBADF);
		op->fd = dev;
		nop.fd = dev;
		do_ioctl_err(dev, IOCTL_GNTDEV_DMABUF_IMP_TO_REFS, op, EINVAL);
		do_ioctl_err(dev, GDMABUF_IOCTL_IMP_TO_REFS, &nop, EINVAL);
		free(op);
	}

	igt_describe("Our own export of granted pages cannot be granted on (EXDEV: Xen cannot re-grant foreign frames).");
	igt_subtest("import-bad-own-export") {
		struct gd_grant g;
		struct ioctl_gntdev_dmabuf_imp_to_refs *op;
		int buf;

		gd_grant_self(&g, NPAGES);
		buf = gd_export_self(dev, &g, NPAGES);
		op = imp_op(buf, gd_self_domid(), NPAGES);
		do_ioctl_err(dev, IOCTL_GNTDEV_DMABUF_IMP_TO_REFS, op, EXDEV);
		free(op);
		close(buf);
		gd_grant_free(&g);
	}

	igt_describe("A dma-buf without struct pages (device memory) is refused with EOPNOTSUPP.");
	igt_subtest("import-bad-no-pages") {
		struct ioctl_gntdev_dmabuf_imp_to_refs *op;
		int buf = mkbuf(NPAGES, 0, 1, "nopage");

		op = imp_op(buf, gd_self_domid(), NPAGES);
		do_ioctl_err(dev, IOCTL_GNTDEV_DMABUF_IMP_TO_REFS, op, EOPNOTSUPP);
		free(op);
		close(buf);
	}

	igt_describe("An argument or refs array that cannot be written fails with EFAULT and grants nothing.");
	igt_subtest("import-bad-pointer") {
		struct gdmabuf_imp_to_refs nop = { .domid = gd_self_domid(), .count = NPAGES, .refs_ptr = 8 };
		int card = open_vgem(), buf;
		uint8_t *pages = mmap(NULL, 2 * GD_PAGE_SIZE, PROT_READ | PROT_WRITE,
				      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		struct ioctl_gntdev_dmabuf_imp_to_refs *op;
		uint8_t *map;

		igt_assert(pages != MAP_FAILED);
		buf = vgem_buf(card, NPAGES, &map);
		do_ioctl_err(dev, IOCTL_GNTDEV_DMABUF_IMP_TO_REFS, NULL, EFAULT);
		do_ioctl_err(dev, GDMABUF_IOCTL_IMP_TO_REFS, NULL, EFAULT);
		/* header readable, refs[] running into a read-only page */
		mprotect(pages + GD_PAGE_SIZE, GD_PAGE_SIZE, PROT_READ);
		op = (void *)(pages + GD_PAGE_SIZE - offsetof(typeof(*op), refs) - 4);
		op->fd = buf;
		op->count = NPAGES;
		op->domid = gd_self_domid();
		do_ioctl_err(dev, IOCTL_GNTDEV_DMABUF_IMP_TO_REFS, op, EFAULT);
		nop.fd = buf;
		do_ioctl_err(dev, GDMABUF_IOCTL_IMP_TO_REFS, &nop, EFAULT);
		igt_assert(stat_reaches("granted_refs", 0, 2000));
		igt_assert_eq_s64(gd_stat("live_imports"), 0);
		munmap(pages, 2 * GD_PAGE_SIZE);
		munmap(map, SIZE);
		close(buf);
		close(card);
	}

	igt_describe("GDMABUF_IOCTL_IMP_TO_REFS: unknown flags, non-zero pad, a reserved domid and a refs array smaller than the buffer are refused with EINVAL.");
	igt_subtest("import-bad-flags-pad-count") {
		uint32_t refs[NPAGES];
		struct gdmabuf_imp_to_refs op = {
			.domid = gd_self_domid(), .count = NPAGES, .refs_ptr = (uintptr_t)refs,
		};
		int card = open_vgem(), buf;
		uint8_t *map;

		buf = vgem_buf(card, NPAGES, &map);
		op.fd = buf;
		op.flags = 0x2;
		do_ioctl_err(dev, GDMABUF_IOCTL_IMP_TO_REFS, &op, EINVAL);
		op.flags = 0x80000000;
		do_ioctl_err(dev, GDMABUF_IOCTL_IMP_TO_REFS, &op, EINVAL);
		op.flags = 0;
		op.pad = 1;
		do_ioctl_err(dev, GDMABUF_IOCTL_IMP_TO_REFS, &op, EINVAL);
		op.pad = 0;
		op.domid = 0x7ff0;
		do_ioctl_err(dev, GDMABUF_IOCTL_IMP_TO_REFS, &op, EINVAL);
		op.domid = gd_self_domid();
		op.count = NPAGES - 1;
		do_ioctl_err(dev, GDMABUF_IOCTL_IMP_TO_REFS, &op, EINVAL);
		igt_assert_eq_s64(gd_stat("granted_refs"), 0);
		munmap(map, SIZE);
		close(buf);
		close(card);
	}

	igt_describe("Releasing an import that does not exist is ENOENT (legacy by fd, new by id); GDMABUF_IOCTL_IMP_RELEASE with non-zero flags or pad is EINVAL.");
	igt_subtest("import-bad-release") {
		struct gdmabuf_imp_release rel = { .id = 12345 };

		igt_assert_eq(release_legacy(12345), -ENOENT);
		igt_assert_eq(release_legacy(-1), -ENOENT);
		do_ioctl_err(dev, GDMABUF_IOCTL_IMP_RELEASE, &rel, ENOENT);
		rel.id = 0;
		do_ioctl_err(dev, GDMABUF_IOCTL_IMP_RELEASE, &rel, ENOENT);
		rel.flags = 1;
		do_ioctl_err(dev, GDMABUF_IOCTL_IMP_RELEASE, &rel, EINVAL);
		rel.flags = 0;
		rel.pad = 1;
		do_ioctl_err(dev, GDMABUF_IOCTL_IMP_RELEASE, &rel, EINVAL);
		do_ioctl_err(dev, GDMABUF_IOCTL_IMP_RELEASE, NULL, EFAULT);
		do_ioctl_err(dev, IOCTL_GNTDEV_DMABUF_IMP_RELEASE, NULL, EFAULT);
	}

	igt_describe("debugfs buffers lists a live export with its importers and a live import, and neither once released.");
	igt_subtest("debugfs-buffers") {
		struct ioctl_gntdev_dmabuf_imp_to_refs *op;
		struct drm_prime_handle prime = { 0 };
		char list[4096], want[128];
		int card = open_vgem(), buf, ebuf;
		struct gd_grant g;
		uint8_t *map;
		ssize_t n;
		int f;

		igt_assert_eq(gd_grant_pages(&g, gd_self_domid(), NPAGES, true), 0);
		ebuf = gd_export_refs(dev, gd_self_domid(), NPAGES, g.refs, 0);
		igt_assert_lte(0, ebuf);
		prime.fd = ebuf;
		do_ioctl(card, DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime);
		buf = vgem_buf(card, NPAGES, &map);
		op = import_legacy(buf, gd_self_domid(), NPAGES);

		f = open("/sys/kernel/debug/gntdev-dmabuf/buffers", O_RDONLY);
		igt_require_f(f >= 0, "no debugfs buffers file\n");
		n = read(f, list, sizeof(list) - 1);
		igt_assert_lt_s64(0, n);
		list[n] = '\0';
		close(f);
		igt_info("%s", list);
		snprintf(want, sizeof(want), "domid=%u pages=%u flags=0x0 importers=1 mapped=1 file=open",
			 gd_self_domid(), NPAGES);
		igt_assert(strstr(list, want));
		snprintf(want, sizeof(want), "domid=%u pages=%u offset=0 state=live live_refs=%u",
			 gd_self_domid(), NPAGES, NPAGES);
		igt_assert(strstr(list, want));

		igt_assert_eq(release_legacy(buf), 0);
		{
			struct drm_gem_close gclose = { .handle = prime.handle };

			do_ioctl(card, DRM_IOCTL_GEM_CLOSE, &gclose);
		}
		close(ebuf);
		f = open("/sys/kernel/debug/gntdev-dmabuf/buffers", O_RDONLY);
		igt_assert_lte(0, f);
		igt_assert_eq_s64(read(f, list, sizeof(list) - 1), 0);
		close(f);
		free(op);
		munmap(map, SIZE);
		close(buf);
		gd_grant_free(&g);
		close(card);
	}

	igt_fixture
		close(dev);
}
