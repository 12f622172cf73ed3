// SPDX-License-Identifier: MIT
/**
 * TEST: gdmabuf export cpu
 * Category: Xen
 * Feature: gntdev-dmabuf
 * Description: CPU access to an export: mmap() in all its shapes (offsets,
 *   fork, partial munmap, madvise, mremap, read-only, private), vmap by a
 *   kernel importer and DMA_BUF_IOCTL_SYNC. On a PV domain every user page is
 *   a grant mapping of its own, so the tests also count mapped grants.
 *
 * SUBTEST: export-mmap-offset
 * Description: A mapping at a page offset shows exactly those pages of the
 *   granter.
 *
 * SUBTEST: export-mmap-fork
 * Description: A mapping is not inherited by fork (the child faults), and the
 *   parent's mapping survives the child's exit.
 *
 * SUBTEST: export-mmap-partial-munmap
 * Description: Unmapping the middle of a mapping drops only those pages; the
 *   rest still shows the granter's memory.
 *
 * SUBTEST: export-mmap-madvise
 * Description: madvise(MADV_DONTNEED) is refused with EINVAL (a VM_PFNMAP
 *   mapping); pages that mprotect() took away fault back in with the granter's
 *   data, and writes still reach the granter.
 *
 * SUBTEST: export-mmap-mremap
 * Description: mremap() that moves a mapping: refused with EINVAL on PV (the
 *   old mapping keeps working), allowed elsewhere.
 *
 * SUBTEST: export-mmap-readonly-private
 * Description: A read-only mapping shows the data and cannot be made writable;
 *   a private mapping is refused with EINVAL.
 *
 * SUBTEST: export-cpu-sync
 * Description: DMA_BUF_IOCTL_SYNC brackets CPU access while vgem holds a DMA
 *   mapping; invalid sync flags are refused with EINVAL.
 *
 * SUBTEST: export-cpu-sync-needed
 * Description: DMA_BUF_IOCTL_SYNC syncs an importer's mapping only when a
 *   sync can do something: vgem's mapping is skipped on x86_64 (every device
 *   is DMA-coherent, and swiotlb-xen gave vgem the granter's frames without a
 *   bounce buffer) and synced on arm64 (vgem's device is not DMA-coherent).
 *
 * SUBTEST: export-vmap
 * Description: A kernel importer vmaps the export: it reads the granter's
 *   bytes and its writes reach the granter.  On PV the kernel's mapping of
 *   the grants is made once, reused by the next vmap and gone with the
 *   release.
 *
 * SUBTEST: export-cross-domain-mmap
 * Description: A domU's grants exported in dom0 and mmapped: dom0 reads the
 *   domU's data and the domU sees dom0's writes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/dma-buf.h>

#include "igt.h"
#include "gdmabuf_test.h"

IGT_TEST_DESCRIPTION("CPU access to an export: mmap() in all its shapes (offsets, fork, "
		     "partial munmap, madvise, mremap, read-only, private), vmap by a kernel"
		     " importer and DMA_BUF_IOCTL_SYNC. On a PV domain every user page is a "
		     "grant mapping of its own, so the tests also count mapped grants.");

#define NPAGES 8
#define SIZE (NPAGES * GD_PAGE_SIZE)

static struct gd_grant g;
static int dev = -1;

static int export_self(void)
{
	return gd_export_self(dev, &g, NPAGES);
}

/* Grant mappings the module holds with @user_pages of the export mapped. */
static long long grants_with(unsigned int user_pages)
{
	return NPAGES + (gd_pv_domain() ? user_pages : 0);
}

static void touch(void *arg)
{
	(void)*(volatile uint32_t *)arg;
}

static void test_export_mmap_offset(void)
{
	int buf = export_self();
	uint8_t *map = mmap(NULL, 4 * GD_PAGE_SIZE, PROT_READ, MAP_SHARED, buf, 2 * GD_PAGE_SIZE);

	igt_assert(map != MAP_FAILED);
	igt_assert_eq(memcmp(map, g.map + 2 * GD_PAGE_SIZE, 4 * GD_PAGE_SIZE), 0);
	gd_assert_stat("mapped_grants", grants_with(4));
	igt_assert(mmap(NULL, 4 * GD_PAGE_SIZE, PROT_READ, MAP_SHARED, buf,
			6 * GD_PAGE_SIZE) == MAP_FAILED);
	munmap(map, 4 * GD_PAGE_SIZE);
	gd_assert_stat("mapped_grants", grants_with(0));
	close(buf);
}

static void test_export_mmap_fork(void)
{
	int buf = export_self(), status;
	uint8_t *map = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);

	igt_assert(map != MAP_FAILED);
	status = gd_in_child(touch, map);
	igt_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
	igt_assert_eq_s64(gd_check_pattern(map, NPAGES, 0xc0), -1);
	gd_assert_stat("mapped_grants", grants_with(NPAGES));
	munmap(map, SIZE);
	close(buf);
}

static void test_export_mmap_partial_munmap(void)
{
	int buf = export_self();
	uint8_t *map = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);

	igt_assert(map != MAP_FAILED);
	igt_assert_eq(munmap(map + 3 * GD_PAGE_SIZE, 2 * GD_PAGE_SIZE), 0);
	gd_assert_stat("mapped_grants", grants_with(NPAGES - 2));
	igt_assert_eq(memcmp(map, g.map, 3 * GD_PAGE_SIZE), 0);
	igt_assert_eq(memcmp(map + 5 * GD_PAGE_SIZE, g.map + 5 * GD_PAGE_SIZE,
			     3 * GD_PAGE_SIZE), 0);
	close(buf);
	munmap(map, 3 * GD_PAGE_SIZE);
	munmap(map + 5 * GD_PAGE_SIZE, 3 * GD_PAGE_SIZE);
	gd_assert_stat("mapped_grants", 0);
}

static void test_export_mmap_madvise(void)
{
	int buf = export_self();
	uint8_t *map = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);

	igt_assert(map != MAP_FAILED);
	igt_assert_eq(madvise(map, SIZE, MADV_DONTNEED), -1);
	igt_assert_eq(errno, EINVAL);
	gd_assert_stat("mapped_grants", grants_with(NPAGES));
	igt_assert_eq(mprotect(map, SIZE, PROT_NONE), 0);
	gd_assert_stat("mapped_grants", grants_with(0));
	igt_assert_eq(mprotect(map, SIZE, PROT_READ | PROT_WRITE), 0);
	igt_assert_eq_s64(gd_check_pattern(map, NPAGES, 0xc0), -1);
	gd_fill_pattern(map, NPAGES, 0xc1);
	igt_assert_eq_s64(gd_check_pattern(g.map, NPAGES, 0xc1), -1);
	gd_assert_stat("mapped_grants", grants_with(NPAGES));
	gd_fill_pattern(g.map, NPAGES, 0xc0);
	munmap(map, SIZE);
	close(buf);
}

static void test_export_mmap_mremap(void)
{
	int buf = export_self();
	uint8_t *map = mmap(NULL, SIZE, PROT_READ, MAP_SHARED, buf, 0);
	uint8_t *hole = mmap(NULL, SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *moved;

	igt_assert(map != MAP_FAILED && hole != MAP_FAILED);
	moved = mremap(map, SIZE, SIZE, MREMAP_MAYMOVE | MREMAP_FIXED, hole);
	if (gd_pv_domain()) {
		igt_assert(moved == MAP_FAILED);
		igt_assert_eq(errno, EINVAL);
		igt_assert_eq_s64(gd_check_pattern(map, NPAGES, 0xc0), -1);
		munmap(map, SIZE);
		munmap(hole, SIZE);
	} else {
		igt_assert(moved == hole);
		igt_assert_eq_s64(gd_check_pattern(moved, NPAGES, 0xc0), -1);
		munmap(moved, SIZE);
	}
	close(buf);
	gd_assert_stat("mapped_grants", 0);
}

static void test_export_mmap_readonly_private(void)
{
	int buf = export_self();
	uint8_t *map = mmap(NULL, SIZE, PROT_READ, MAP_SHARED, buf, 0);

	igt_assert(map != MAP_FAILED);
	igt_assert_eq_s64(gd_check_pattern(map, NPAGES, 0xc0), -1);
	igt_assert_eq(mprotect(map, SIZE, PROT_READ | PROT_WRITE), -1);
	igt_assert_eq(errno, EACCES);
	munmap(map, SIZE);
	igt_assert(mmap(NULL, SIZE, PROT_READ, MAP_PRIVATE, buf, 0) == MAP_FAILED);
	igt_assert_eq(errno, EINVAL);
	close(buf);
}

static void test_export_cpu_sync(int card)
{
	struct dma_buf_sync sync = { 0 };
	int buf = export_self();
	uint32_t handle = gd_prime_import(card, buf);
	uint8_t *map;

	map = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);
	igt_assert(map != MAP_FAILED);

	sync.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW;
	do_ioctl(buf, DMA_BUF_IOCTL_SYNC, &sync);
	gd_fill_pattern(map, NPAGES, 0xc2);
	sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW;
	do_ioctl(buf, DMA_BUF_IOCTL_SYNC, &sync);
	igt_assert_eq_s64(gd_check_pattern(g.map, NPAGES, 0xc2), -1);
	sync.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ;
	do_ioctl(buf, DMA_BUF_IOCTL_SYNC, &sync);
	sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ;
	do_ioctl(buf, DMA_BUF_IOCTL_SYNC, &sync);
	sync.flags = 0x100;
	do_ioctl_err(buf, DMA_BUF_IOCTL_SYNC, &sync, EINVAL);

	gd_fill_pattern(g.map, NPAGES, 0xc0);
	munmap(map, SIZE);
	gd_gem_close(card, handle);
	close(buf);
}

/*
 * debugfs "buffers": cpu_synced= of the only live export, which has
 * @synced_mapped mapped attachments (0 or 1).
 */
static int cpu_synced(bool synced_mapped)
{
	char list[4096], *line;
	int f, synced = -1;
	ssize_t n;

	f = open("/sys/kernel/debug/gntdev-dmabuf/buffers", O_RDONLY);
	igt_require_f(f >= 0, "no debugfs buffers file\n");
	n = read(f, list, sizeof(list) - 1);
	close(f);
	igt_assert_lt_s64(0, n);
	list[n] = '\0';
	igt_info("%s", list);
	line = strstr(list, "export ");
	igt_assert(line && !strstr(line + 1, "export "));
	/* Counted among the mapped attachments only: vgem maps at import. */
	igt_assert(strstr(line, synced_mapped ? " mapped=1 " : " mapped=0 "));
	line = strstr(line, " cpu_synced=");
	igt_assert(line && sscanf(line, " cpu_synced=%d", &synced) == 1);
	return synced;
}

static void test_export_cpu_sync_needed(int card)
{
	uint32_t handle;
	int buf, want;

	gd_require_ours("no debugfs buffers list, which says whether a sync is needed");
	buf = export_self();
	igt_assert_eq(cpu_synced(false), 0);
	handle = gd_prime_import(card, buf);
#if defined(__x86_64__)
	want = 0;
#else
	want = 1;
#endif
	igt_assert_eq(cpu_synced(true), want);
	gd_gem_close(card, handle);
	igt_assert_eq(cpu_synced(false), 0);
	close(buf);
}

static void test_export_vmap(void)
{
	int buf;

	gd_require_ours("no debugfs vmap (our selftest's kernel importer)");
	buf = export_self();
	gd_check_vmap(buf, g.map, NPAGES);
	igt_assert_eq_s64(gd_check_pattern(g.map, NPAGES, 0xc0), -1);
	/* On PV the kernel's grant mapping is kept for the next vmap... */
	gd_assert_stat("mapped_grants", grants_with(NPAGES));
	gd_check_vmap(buf, g.map, NPAGES);
	gd_assert_stat("mapped_grants", grants_with(NPAGES));
	/* ... and goes with the release. */
	close(buf);
	gd_assert_stat("mapped_grants", 0);
}

static void test_export_cross_domain_mmap(void)
{
	uint32_t refs[NPAGES];
	int buf, h, domu = gd_require_domu();
	uint8_t *map;

	h = gd_domu_grant(0, NPAGES, 0x71, refs);
	buf = gd_export_refs(dev, domu, NPAGES, refs, 0);
	igt_assert_lte(0, buf);
	map = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);
	igt_assert(map != MAP_FAILED);
	igt_assert_eq_s64(gd_check_pattern(map, NPAGES, 0x71), -1);
	gd_fill_pattern(map, NPAGES, 0x72);
	gd_domu_check(h, 0x72);
	munmap(map, SIZE);
	close(buf);
	gd_assert_stat("mapped_grants", 0);
	gd_domu_free(h);
}

igt_main
{
	int card = -1;

	igt_fixture {
		dev = gd_open_dev();
		gd_grant_self(&g, NPAGES);
		gd_fill_pattern(g.map, NPAGES, 0xc0);
	}

	igt_describe("A mapping at a page offset shows exactly those pages of the granter.");
	igt_subtest("export-mmap-offset")
		test_export_mmap_offset();

	igt_describe("A mapping is not inherited by fork (the child faults), and the parent's mapping survives the child's exit.");
	igt_subtest("export-mmap-fork")
		test_export_mmap_fork();

	igt_describe("Unmapping the middle of a mapping drops only those pages; the rest still shows the granter's memory.");
	igt_subtest("export-mmap-partial-munmap")
		test_export_mmap_partial_munmap();

	igt_describe("madvise(MADV_DONTNEED) is refused with EINVAL (a VM_PFNMAP mapping); pages that mprotect() took away fault back in with the granter's data, and writes still reach the granter.");
	igt_subtest("export-mmap-madvise")
		test_export_mmap_madvise();

	igt_describe("mremap() that moves a mapping: refused with EINVAL on PV (the old mapping keeps working), allowed elsewhere.");
	igt_subtest("export-mmap-mremap")
		test_export_mmap_mremap();

	igt_describe("A read-only mapping shows the data and cannot be made writable; a private mapping is refused with EINVAL.");
	igt_subtest("export-mmap-readonly-private")
		test_export_mmap_readonly_private();

	igt_subtest_group {
		igt_fixture
			card = gd_open_vgem();

		igt_describe("DMA_BUF_IOCTL_SYNC brackets CPU access while vgem holds a DMA mapping; invalid sync flags are refused with EINVAL.");
		igt_subtest("export-cpu-sync")
			test_export_cpu_sync(card);

		igt_describe("DMA_BUF_IOCTL_SYNC syncs an importer's mapping only when a sync can do something: vgem's mapping is skipped on x86_64 (every device is DMA-coherent, and swiotlb-xen gave vgem the granter's frames without a bounce buffer) and synced on arm64 (vgem's device is not DMA-coherent).");
		igt_subtest("export-cpu-sync-needed")
			test_export_cpu_sync_needed(card);

		igt_fixture
			close(card);
	}

	igt_describe("A kernel importer vmaps the export: it reads the granter's bytes and its writes reach the granter.  On PV the kernel's mapping of the grants is made once, reused by the next vmap and gone with the release.");
	igt_subtest("export-vmap")
		test_export_vmap();

	igt_describe("A domU's grants exported in dom0 and mmapped: dom0 reads the domU's data and the domU sees dom0's writes.");
	igt_subtest("export-cross-domain-mmap")
		test_export_cross_domain_mmap();

	igt_fixture {
		gd_grant_free(&g);
		close(dev);
	}
}
