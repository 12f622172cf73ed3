// SPDX-License-Identifier: MIT
/**
 * TEST: gdmabuf import
 * Category: Xen
 * Feature: gntdev-dmabuf
 * Description: Import: a local dma-buf (vgem, udmabuf, a dma-heap, the
 *   module's test exporter) is granted to a domain, through the legacy
 *   IOCTL_GNTDEV_DMABUF_IMP_* calls and GDMABUF_IOCTL_IMP_*, and released
 *   safely even while the peer still maps it.
 *
 * SUBTEST: import-basic
 * Description: A vgem buffer granted to ourselves: the stock gntdev maps the
 *   refs and sees vgem's data, and writes through the grant appear in vgem's
 *   mapping.
 *
 * SUBTEST: import-cross-domain
 * Description: dom0 grants a vgem buffer to a domU, which maps it, reads the
 *   pattern and writes a reply that dom0 sees through vgem.
 *
 * SUBTEST: import-release-while-mapped
 * Description: IMP_RELEASE while the peer still maps the pages returns at
 *   once; the buffer is kept (the mapping still works) and the release
 *   completes when the peer unmaps.
 *
 * SUBTEST: import-grant-table-full
 * Description: A buffer larger than the free grant table (Xen gives dom0 64
 *   frames, 32768 entries) fails with ENOSPC part way: the grants already made
 *   are ended, nothing stays attached, and a small import works afterwards.
 *
 * SUBTEST: import-close-releases
 * Description: Closing the device file releases everything it imported.
 *
 * SUBTEST: import-udmabuf
 * Description: A udmabuf (memfd pages) is granted and shows the memfd's data.
 *
 * SUBTEST: import-dma-heap
 * Description: A buffer of the system dma-heap is granted and shows the heap
 *   buffer's data.
 *
 * SUBTEST: import-data-offset
 * Description: A dma-buf whose data starts inside its first page:
 *   GDMABUF_IOCTL_IMP_TO_REFS measures it, grants the covering pages and
 *   reports the offset; the legacy call refuses it with EINVAL.
 *
 * SUBTEST: import-readonly
 * Description: GDMABUF_IMP_READONLY grants read-only: a read-only mapping
 *   works, a writable one is refused.
 *
 * SUBTEST: import-bad-count-domid
 * Description: Legacy IMP_TO_REFS: count 0, count above the limit, a count
 *   that does not match the buffer and a reserved domid are refused with
 *   EINVAL.
 *
 * SUBTEST: import-bad-legacy-count
 * Description: Legacy IMP_TO_REFS: count 0, count above the limit and a count
 *   that does not match the buffer are refused with EINVAL.
 *
 * SUBTEST: import-bad-legacy-domid
 * Description: Legacy IMP_TO_REFS: a reserved domid is refused with EINVAL.
 *
 * SUBTEST: import-bad-fd
 * Description: An fd that is not open is EBADF; a file that is not a dma-buf
 *   is EINVAL.
 *
 * SUBTEST: import-bad-own-export
 * Description: Our own export of granted pages cannot be granted on (EXDEV:
 *   Xen cannot re-grant foreign frames).
 *
 * SUBTEST: import-bad-no-pages
 * Description: A dma-buf without struct pages (device memory) is refused with
 *   EOPNOTSUPP.
 *
 * SUBTEST: import-bad-pointer
 * Description: An argument or refs array that cannot be written fails with
 *   EFAULT and grants nothing.
 *
 * SUBTEST: import-bad-flags-pad-count
 * Description: GDMABUF_IOCTL_IMP_TO_REFS: unknown flags, non-zero pad, a
 *   reserved domid and a refs array smaller than the buffer are refused with
 *   EINVAL.
 *
 * SUBTEST: import-bad-flags
 * Description: GDMABUF_IOCTL_IMP_TO_REFS: unknown flags are refused with
 *   EINVAL.
 *
 * SUBTEST: import-bad-pad
 * Description: GDMABUF_IOCTL_IMP_TO_REFS: a non-zero pad is refused with
 *   EINVAL.
 *
 * SUBTEST: import-bad-domid
 * Description: GDMABUF_IOCTL_IMP_TO_REFS: a reserved domid is refused with
 *   EINVAL.
 *
 * SUBTEST: import-bad-count
 * Description: GDMABUF_IOCTL_IMP_TO_REFS: a refs array smaller than the buffer
 *   is refused with EINVAL.
 *
 * SUBTEST: import-bad-release
 * Description: Releasing an import that does not exist is ENOENT (legacy by
 *   fd, new by id); GDMABUF_IOCTL_IMP_RELEASE with non-zero flags or pad is
 *   EINVAL.
 *
 * SUBTEST: import-bad-release-unknown
 * Description: Releasing an import that does not exist is ENOENT, by fd
 *   (legacy) and by id.
 *
 * SUBTEST: import-bad-release-flags
 * Description: GDMABUF_IOCTL_IMP_RELEASE with non-zero flags is refused with
 *   EINVAL.
 *
 * SUBTEST: import-bad-release-pad
 * Description: GDMABUF_IOCTL_IMP_RELEASE with a non-zero pad is refused with
 *   EINVAL.
 *
 * SUBTEST: import-bad-release-pointer
 * Description: Both release calls with an unreadable argument fail with
 *   EFAULT.
 *
 * SUBTEST: debugfs-buffers
 * Description: debugfs buffers lists a live export with its importers and a
 *   live import, and neither once released.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/dma-heap.h>
#include <linux/udmabuf.h>

#include "igt.h"
#include "gdmabuf_test.h"

IGT_TEST_DESCRIPTION("Import: a local dma-buf (vgem, udmabuf, a dma-heap, the module's test "
		     "exporter) is granted to a domain, through the legacy "
		     "IOCTL_GNTDEV_DMABUF_IMP_* calls and GDMABUF_IOCTL_IMP_*, and released "
		     "safely even while the peer still maps it.");

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
	gd_assert_stat("granted_refs", NPAGES);
	check_self_refs(op->refs, NPAGES, 0xa0, 0xa1);
	igt_assert_eq_s64(gd_check_pattern(map, NPAGES, 0xa1), -1);
	igt_assert_eq(release_legacy(buf), 0);
	gd_assert_stat("granted_refs", 0);
	gd_assert_stat("live_imports", 0);
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

static void test_import_basic(int card)
{
	uint8_t *map;
	int buf = vgem_buf(card, NPAGES, &map);

	import_and_check(buf, map);
	munmap(map, SIZE);
	close(buf);
}

static void test_import_cross_domain(int card)
{
	struct ioctl_gntdev_dmabuf_imp_to_refs *op;
	char resp[4096], list[4096];
	int buf, domu = gd_require_domu();
	uint8_t *map;

	buf = vgem_buf(card, NPAGES, &map);
	gd_fill_pattern(map, NPAGES, 0xb0);
	op = import_legacy(buf, domu, NPAGES);
	gd_format_refs(list, sizeof(list), op->refs, NPAGES);
	igt_assert_eq(gd_domu_call(resp, sizeof(resp), "mapcheck 0 0xb0 0xb1 %s", list), 0);
	igt_assert_eq_s64(gd_check_pattern(map, NPAGES, 0xb1), -1);
	igt_assert_eq(release_legacy(buf), 0);
	gd_assert_stat("granted_refs", 0);
	free(op);
	munmap(map, SIZE);
	close(buf);
}

static void test_import_release_while_mapped(int card)
{
	struct ioctl_gntdev_dmabuf_imp_to_refs *op;
	struct gd_mapping m;
	int buf;
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
	/*
	 * The pending state is our debugfs; that the peer keeps the buffer's
	 * memory is the upstream ABI's promise too, and checked there.
	 */
	if (!gd_upstream()) {
		gd_assert_stat("pending_releases", 1);
		gd_assert_stat("granted_refs", NPAGES);
		f = fopen("/sys/kernel/debug/gntdev-dmabuf/buffers", "r");
		igt_assert(f);
		while (fgets(line, sizeof(line), f) && !strstr(line, " state=pending "))
			;
		fclose(f);
		igt_assert_f(strstr(line, " state=pending "),
			     "no pending import in debugfs buffers\n");
		igt_info("pending: %s", line);
	}
	/* the peer's view still is the buffer's memory, not freed pages */
	igt_assert_eq_s64(gd_check_pattern(m.map, NPAGES, 0xd0), -1);
	gd_fill_pattern(m.map, NPAGES, 0xd1);
	igt_assert_eq_s64(gd_check_pattern(m.map, NPAGES, 0xd1), -1);
	gd_unmap_grants(&m);
	igt_assert(gd_upstream() || stat_reaches("pending_releases", 0, 5000));
	gd_assert_stat("granted_refs", 0);
	gd_assert_stat("live_imports", 0);
	free(op);
}

static void test_import_grant_table_full(int card)
{
	const uint32_t pages = 40000;
	struct ioctl_gntdev_dmabuf_imp_to_refs *op;
	int buf;
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
	gd_assert_stat("granted_refs", 0);
	gd_assert_stat("live_imports", 0);
	gd_assert_stat("pending_releases", 0);
	free(op);
	munmap(map, (size_t)pages * GD_PAGE_SIZE);
	close(buf);

	buf = vgem_buf(card, NPAGES, &map);
	import_and_check(buf, map);
	munmap(map, SIZE);
	close(buf);
}

static void test_import_close_releases(int card)
{
	struct ioctl_gntdev_dmabuf_imp_to_refs *op;
	struct gd_mapping m;
	int buf;
	uint8_t *map;

	buf = vgem_buf(card, NPAGES, &map);
	op = import_legacy(buf, gd_self_domid(), NPAGES);
	gd_assert_stat("live_imports", 1);
	close(dev);
	gd_assert_stat("granted_refs", 0);
	gd_assert_stat("live_imports", 0);
	/* the stock gntdev has no counters: there the grants must not map any more */
	if (gd_upstream())
		igt_assert_neq(gd_map_grants(&m, gd_self_domid(), op->refs, NPAGES, false), 0);
	dev = gd_open_dev();
	free(op);
	munmap(map, SIZE);
	close(buf);
}

static void test_import_udmabuf(void)
{
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

static void test_import_dma_heap(void)
{
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

static void test_import_data_offset(void)
{
	const uint32_t pages = 4, offset = 256, seed = 7;
	struct gdmabuf_imp_to_refs op = { .domid = gd_self_domid() };
	struct gdmabuf_imp_release rel = { 0 };
	struct ioctl_gntdev_dmabuf_imp_to_refs *legacy;
	uint32_t refs[8];
	struct gd_mapping m;
	int buf;

	gd_require_ours("no GDMABUF_IOCTL_IMP_TO_REFS (our extension), no debugfs test exporter");
	buf = mkbuf(pages, offset, seed, "ram");
	legacy = imp_op(buf, gd_self_domid(), pages);
	do_ioctl_err(dev, IOCTL_GNTDEV_DMABUF_IMP_TO_REFS, legacy, EINVAL);
	free(legacy);

	op.fd = buf;
	do_ioctl(dev, GDMABUF_IOCTL_IMP_TO_REFS, &op);
	igt_assert_eq(op.count, pages);
	igt_assert_eq(op.offset, offset);
	igt_assert_eq_u64(op.size, pages * GD_PAGE_SIZE - offset);
	igt_assert_eq_u64(op.id, 0);
	gd_assert_stat("granted_refs", 0);

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
	gd_assert_stat("granted_refs", 0);
	close(buf);
}

static void test_import_readonly(int card)
{
	struct gdmabuf_imp_to_refs op = { .domid = gd_self_domid(), .flags = GDMABUF_IMP_READONLY };
	struct gdmabuf_imp_release rel = { 0 };
	uint32_t refs[NPAGES];
	struct gd_mapping m;
	int buf;
	uint8_t *map;

	gd_require_ours("no GDMABUF_IMP_READONLY, no GDMABUF_IOCTL_IMP_TO_REFS (our extensions)");
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
	gd_assert_stat("granted_refs", 0);
	munmap(map, SIZE);
	close(buf);
}

/* Legacy IMP_TO_REFS of a vgem buffer with a bad count (@count) or domid. */
static void bad_legacy_import(int card, uint32_t domid, const uint32_t *counts,
			      unsigned int n)
{
	struct ioctl_gntdev_dmabuf_imp_to_refs *op;
	uint8_t *map;
	int buf;

	buf = vgem_buf(card, NPAGES, &map);
	op = imp_op(buf, domid, NPAGES);
	for (unsigned int i = 0; i < n; i++) {
		op->count = counts[i];
		do_ioctl_err(dev, IOCTL_GNTDEV_DMABUF_IMP_TO_REFS, op, EINVAL);
	}
	free(op);
	gd_assert_stat("granted_refs", 0);
	munmap(map, SIZE);
	close(buf);
}

static void test_import_bad_legacy_count(int card)
{
	const uint32_t counts[] = { 0, 65537, NPAGES / 2, NPAGES + 1 };

	bad_legacy_import(card, gd_self_domid(), counts, 4);
}

static void test_import_bad_legacy_domid(int card)
{
	const uint32_t counts[] = { NPAGES };

	bad_legacy_import(card, 0x7ff0, counts, 1);
	bad_legacy_import(card, 0xffffffff, counts, 1);
}

static void test_import_bad_fd(void)
{
	struct ioctl_gntdev_dmabuf_imp_to_refs *op = imp_op(1000, gd_self_domid(), 1);
	struct gdmabuf_imp_to_refs nop = { .fd = 1000, .domid = gd_self_domid() };

	/* GDMABUF_IOCTL_* are ours: the stock gntdev answers the legacy calls only */
	do_ioctl_err(dev, IOCTL_GNTDEV_DMABUF_IMP_TO_REFS, op, EBADF);
	if (!gd_upstream())
		do_ioctl_err(dev, GDMABUF_IOCTL_IMP_TO_REFS, &nop, EBADF);
	op->fd = dev;
	nop.fd = dev;
	do_ioctl_err(dev, IOCTL_GNTDEV_DMABUF_IMP_TO_REFS, op, EINVAL);
	if (!gd_upstream())
		do_ioctl_err(dev, GDMABUF_IOCTL_IMP_TO_REFS, &nop, EINVAL);
	free(op);
}

static void test_import_bad_own_export(void)
{
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

static void test_import_bad_no_pages(void)
{
	struct ioctl_gntdev_dmabuf_imp_to_refs *op;
	int buf;

	gd_require_ours("no debugfs test exporter (mkbuf) to make a dma-buf without pages");
	buf = mkbuf(NPAGES, 0, 1, "nopage");
	op = imp_op(buf, gd_self_domid(), NPAGES);
	do_ioctl_err(dev, IOCTL_GNTDEV_DMABUF_IMP_TO_REFS, op, EOPNOTSUPP);
	free(op);
	close(buf);
}

static void test_import_bad_pointer(int card)
{
	struct gdmabuf_imp_to_refs nop = { .domid = gd_self_domid(), .count = NPAGES, .refs_ptr = 8 };
	int buf;
	uint8_t *pages = mmap(NULL, 2 * GD_PAGE_SIZE, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct ioctl_gntdev_dmabuf_imp_to_refs *op;
	uint8_t *map;

	igt_assert(pages != MAP_FAILED);
	buf = vgem_buf(card, NPAGES, &map);
	/* GDMABUF_IOCTL_* are ours: the stock gntdev answers the legacy calls only */
	do_ioctl_err(dev, IOCTL_GNTDEV_DMABUF_IMP_TO_REFS, NULL, EFAULT);
	if (!gd_upstream())
		do_ioctl_err(dev, GDMABUF_IOCTL_IMP_TO_REFS, NULL, EFAULT);
	/* header readable, refs[] running into a read-only page */
	mprotect(pages + GD_PAGE_SIZE, GD_PAGE_SIZE, PROT_READ);
	op = (void *)(pages + GD_PAGE_SIZE - offsetof(typeof(*op), refs) - 4);
	op->fd = buf;
	op->count = NPAGES;
	op->domid = gd_self_domid();
	do_ioctl_err(dev, IOCTL_GNTDEV_DMABUF_IMP_TO_REFS, op, EFAULT);
	nop.fd = buf;
	if (!gd_upstream())
		do_ioctl_err(dev, GDMABUF_IOCTL_IMP_TO_REFS, &nop, EFAULT);
	igt_assert(gd_upstream() || stat_reaches("granted_refs", 0, 2000));
	gd_assert_stat("live_imports", 0);
	munmap(pages, 2 * GD_PAGE_SIZE);
	munmap(map, SIZE);
	close(buf);
}

/*
 * GDMABUF_IOCTL_IMP_TO_REFS of a vgem buffer with one field of a valid
 * call changed by @bad: EINVAL, nothing granted.
 */
static void bad_import(int card, void (*bad)(struct gdmabuf_imp_to_refs *op, int i), int n)
{
	uint32_t refs[NPAGES];
	uint8_t *map;
	int buf;

	gd_require_ours("no GDMABUF_IOCTL_IMP_TO_REFS (our extension)");
	buf = vgem_buf(card, NPAGES, &map);
	for (int i = 0; i < n; i++) {
		struct gdmabuf_imp_to_refs op = {
			.fd = buf, .domid = gd_self_domid(), .count = NPAGES,
			.refs_ptr = (uintptr_t)refs,
		};

		bad(&op, i);
		do_ioctl_err(dev, GDMABUF_IOCTL_IMP_TO_REFS, &op, EINVAL);
	}
	gd_assert_stat("granted_refs", 0);
	munmap(map, SIZE);
	close(buf);
}

static void bad_flags(struct gdmabuf_imp_to_refs *op, int i)
{
	op->flags = i ? 0x80000000 : 0x2;
}

static void bad_pad(struct gdmabuf_imp_to_refs *op, int i)
{
	(void)i;
	op->pad = 1;
}

static void bad_domid(struct gdmabuf_imp_to_refs *op, int i)
{
	(void)i;
	op->domid = 0x7ff0;
}

/* a refs array smaller than the buffer */
static void bad_count(struct gdmabuf_imp_to_refs *op, int i)
{
	(void)i;
	op->count = NPAGES - 1;
}

static void test_import_bad_flags(int card)
{
	bad_import(card, bad_flags, 2);
}

static void test_import_bad_pad(int card)
{
	bad_import(card, bad_pad, 1);
}

static void test_import_bad_domid(int card)
{
	bad_import(card, bad_domid, 1);
}

static void test_import_bad_count(int card)
{
	bad_import(card, bad_count, 1);
}

static void test_import_bad_release_unknown(void)
{
	struct gdmabuf_imp_release rel = { .id = 12345 };

	igt_assert_eq(release_legacy(12345), -ENOENT);
	igt_assert_eq(release_legacy(-1), -ENOENT);
	/* the release by id is ours; the stock gntdev has the legacy one only */
	if (gd_upstream())
		return;
	do_ioctl_err(dev, GDMABUF_IOCTL_IMP_RELEASE, &rel, ENOENT);
	rel.id = 0;
	do_ioctl_err(dev, GDMABUF_IOCTL_IMP_RELEASE, &rel, ENOENT);
}

static void test_import_bad_release_flags(void)
{
	struct gdmabuf_imp_release rel = { .flags = 1 };

	gd_require_ours("no GDMABUF_IOCTL_IMP_RELEASE (our extension)");
	do_ioctl_err(dev, GDMABUF_IOCTL_IMP_RELEASE, &rel, EINVAL);
}

static void test_import_bad_release_pad(void)
{
	struct gdmabuf_imp_release rel = { .pad = 1 };

	gd_require_ours("no GDMABUF_IOCTL_IMP_RELEASE (our extension)");
	do_ioctl_err(dev, GDMABUF_IOCTL_IMP_RELEASE, &rel, EINVAL);
}

static void test_import_bad_release_pointer(void)
{
	if (!gd_upstream())
		do_ioctl_err(dev, GDMABUF_IOCTL_IMP_RELEASE, NULL, EFAULT);
	do_ioctl_err(dev, IOCTL_GNTDEV_DMABUF_IMP_RELEASE, NULL, EFAULT);
}

static void test_debugfs_buffers(int card)
{
	struct ioctl_gntdev_dmabuf_imp_to_refs *op;
	char list[4096], want[128];
	uint32_t handle;
	int buf, ebuf;
	struct gd_grant g;
	uint8_t *map;
	ssize_t n;
	int f;

	gd_require_ours("no debugfs buffers list");
	igt_assert_eq(gd_grant_pages(&g, gd_self_domid(), NPAGES, true), 0);
	ebuf = gd_export_refs(dev, gd_self_domid(), NPAGES, g.refs, 0);
	igt_assert_lte(0, ebuf);
	handle = gd_prime_import(card, ebuf);
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
	gd_gem_close(card, handle);
	close(ebuf);
	f = open("/sys/kernel/debug/gntdev-dmabuf/buffers", O_RDONLY);
	igt_assert_lte(0, f);
	igt_assert_eq_s64(read(f, list, sizeof(list) - 1), 0);
	close(f);
	free(op);
	munmap(map, SIZE);
	close(buf);
	gd_grant_free(&g);
}

igt_main
{
	int card = -1;

	igt_fixture
		dev = gd_open_dev();

	igt_subtest_group {
		igt_fixture
			card = gd_open_vgem();

		igt_describe("A vgem buffer granted to ourselves: the stock gntdev maps the refs and sees vgem's data, and writes through the grant appear in vgem's mapping.");
		igt_subtest("import-basic")
			test_import_basic(card);

		igt_describe("dom0 grants a vgem buffer to a domU, which maps it, reads the pattern and writes a reply that dom0 sees through vgem.");
		igt_subtest("import-cross-domain")
			test_import_cross_domain(card);

		igt_describe("IMP_RELEASE while the peer still maps the pages returns at once; the buffer is kept (the mapping still works) and the release completes when the peer unmaps.");
		igt_subtest("import-release-while-mapped")
			test_import_release_while_mapped(card);

		igt_describe("A buffer larger than the free grant table (Xen gives dom0 64 frames, 32768 entries) fails with ENOSPC part way: the grants already made are ended, nothing stays attached, and a small import works afterwards.");
		igt_subtest("import-grant-table-full")
			test_import_grant_table_full(card);

		igt_describe("Closing the device file releases everything it imported.");
		igt_subtest("import-close-releases")
			test_import_close_releases(card);

		igt_fixture
			close(card);
	}

	igt_describe("A udmabuf (memfd pages) is granted and shows the memfd's data.");
	igt_subtest("import-udmabuf")
		test_import_udmabuf();

	igt_describe("A buffer of the system dma-heap is granted and shows the heap buffer's data.");
	igt_subtest("import-dma-heap")
		test_import_dma_heap();

	igt_describe("A dma-buf whose data starts inside its first page: GDMABUF_IOCTL_IMP_TO_REFS measures it, grants the covering pages and reports the offset; the legacy call refuses it with EINVAL.");
	igt_subtest("import-data-offset")
		test_import_data_offset();

	igt_subtest_group {
		igt_fixture
			card = gd_open_vgem();

		igt_describe("GDMABUF_IMP_READONLY grants read-only: a read-only mapping works, a writable one is refused.");
		igt_subtest("import-readonly")
			test_import_readonly(card);

		igt_describe("Legacy IMP_TO_REFS: count 0, count above the limit, a count that does not match the buffer and a reserved domid are refused with EINVAL.");
		igt_subtest("import-bad-count-domid") {
			test_import_bad_legacy_count(card);
			test_import_bad_legacy_domid(card);
		}

		igt_describe("Legacy IMP_TO_REFS: count 0, count above the limit and a count that does not match the buffer are refused with EINVAL.");
		igt_subtest("import-bad-legacy-count")
			test_import_bad_legacy_count(card);

		igt_describe("Legacy IMP_TO_REFS: a reserved domid is refused with EINVAL.");
		igt_subtest("import-bad-legacy-domid")
			test_import_bad_legacy_domid(card);

		igt_fixture
			close(card);
	}

	igt_describe("An fd that is not open is EBADF; a file that is not a dma-buf is EINVAL.");
	igt_subtest("import-bad-fd")
		test_import_bad_fd();

	igt_describe("Our own export of granted pages cannot be granted on (EXDEV: Xen cannot re-grant foreign frames).");
	igt_subtest("import-bad-own-export")
		test_import_bad_own_export();

	igt_describe("A dma-buf without struct pages (device memory) is refused with EOPNOTSUPP.");
	igt_subtest("import-bad-no-pages")
		test_import_bad_no_pages();

	igt_subtest_group {
		igt_fixture
			card = gd_open_vgem();

		igt_describe("An argument or refs array that cannot be written fails with EFAULT and grants nothing.");
		igt_subtest("import-bad-pointer")
			test_import_bad_pointer(card);

		igt_describe("GDMABUF_IOCTL_IMP_TO_REFS: unknown flags, non-zero pad, a reserved domid and a refs array smaller than the buffer are refused with EINVAL.");
		igt_subtest("import-bad-flags-pad-count") {
			test_import_bad_flags(card);
			test_import_bad_pad(card);
			test_import_bad_domid(card);
			test_import_bad_count(card);
		}

		igt_describe("GDMABUF_IOCTL_IMP_TO_REFS: unknown flags are refused with EINVAL.");
		igt_subtest("import-bad-flags")
			test_import_bad_flags(card);

		igt_describe("GDMABUF_IOCTL_IMP_TO_REFS: a non-zero pad is refused with EINVAL.");
		igt_subtest("import-bad-pad")
			test_import_bad_pad(card);

		igt_describe("GDMABUF_IOCTL_IMP_TO_REFS: a reserved domid is refused with EINVAL.");
		igt_subtest("import-bad-domid")
			test_import_bad_domid(card);

		igt_describe("GDMABUF_IOCTL_IMP_TO_REFS: a refs array smaller than the buffer is refused with EINVAL.");
		igt_subtest("import-bad-count")
			test_import_bad_count(card);

		igt_fixture
			close(card);
	}

	igt_describe("Releasing an import that does not exist is ENOENT (legacy by fd, new by id); GDMABUF_IOCTL_IMP_RELEASE with non-zero flags or pad is EINVAL.");
	igt_subtest("import-bad-release") {
		gd_require_ours("no GDMABUF_IOCTL_IMP_RELEASE (legacy part: -unknown, -pointer)");
		test_import_bad_release_unknown();
		test_import_bad_release_flags();
		test_import_bad_release_pad();
		test_import_bad_release_pointer();
	}

	igt_describe("Releasing an import that does not exist is ENOENT, by fd (legacy) and by id.");
	igt_subtest("import-bad-release-unknown")
		test_import_bad_release_unknown();

	igt_describe("GDMABUF_IOCTL_IMP_RELEASE with non-zero flags is refused with EINVAL.");
	igt_subtest("import-bad-release-flags")
		test_import_bad_release_flags();

	igt_describe("GDMABUF_IOCTL_IMP_RELEASE with a non-zero pad is refused with EINVAL.");
	igt_subtest("import-bad-release-pad")
		test_import_bad_release_pad();

	igt_describe("Both release calls with an unreadable argument fail with EFAULT.");
	igt_subtest("import-bad-release-pointer")
		test_import_bad_release_pointer();

	igt_subtest_group {
		igt_fixture
			card = gd_open_vgem();

		igt_describe("debugfs buffers lists a live export with its importers and a live import, and neither once released.");
		igt_subtest("debugfs-buffers")
			test_debugfs_buffers(card);

		igt_fixture
			close(card);
	}

	igt_fixture
		close(dev);
}
