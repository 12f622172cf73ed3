// SPDX-License-Identifier: MIT
/**
 * TEST: gdmabuf dma alloc
 * Category: Xen
 * Feature: gntdev-dmabuf
 * Description: EXP_FROM_REFS with GNTDEV_DMA_FLAG_WC /
 *   GNTDEV_DMA_FLAG_COHERENT of the test domU's grants: the export is backed
 *   by a contiguous DMA buffer whose frames went back to Xen while the grants
 *   are mapped over them.  Checks content both ways, contiguity as an
 *   importing device sees it, and that dom0's reservation (as Xen counts it)
 *   and free memory come back after release and after every kind of failure.
 *   On PV the flags are refused by design.
 *
 * SUBTEST: dma-alloc-wc
 * Description: GNTDEV_DMA_FLAG_WC: a contiguous write-combined buffer shows
 *   the domU's pages (mmap, which the DMA API maps write-combined, a kernel
 *   vmap and a vgem import), dom0's writes reach the domU and the domU's
 *   reach dom0, also after an importing device mapped it (one entry per run
 *   of the domU's frames that is consecutive in bus frames too); the
 *   reservation comes back on release.
 *
 * SUBTEST: dma-alloc-device-write
 * Description: GNTDEV_DMA_FLAG_WC export of 64 of the domU's pages written
 *   by a real device (the selftest's fw_cfg device, swiotlb-xen): the local
 *   frames are contiguous but the domU's are not, and the device still
 *   writes straight into the domU's pages, with no bounce buffer.
 *
 * SUBTEST: dma-alloc-coherent
 * Description: GNTDEV_DMA_FLAG_COHERENT: the same with a coherent buffer.
 *
 * SUBTEST: dma-alloc-balloon-restored
 * Description: 1,000 export/release cycles of a 1080p (2025-page) WC buffer
 *   of the domU's pages (100 on a debug kernel, which poisons every page):
 *   dom0's reservation and free memory return to their starting values, no
 *   buffer stays alive, the domU's pages keep their content.
 *
 * SUBTEST: dma-alloc-partial-failure
 * Description: Failures leave nothing behind: an invalid gref in the middle
 *   (EINVAL), more pages than max_dma_pages (EINVAL), more than the CMA area
 *   holds (ENOMEM), Xen taking only part of the frames (EAGAIN); each time the
 *   reservation is unchanged.
 *
 * SUBTEST: dma-alloc-pv-semantics
 * Description: On PV the DMA flags are refused with EOPNOTSUPP and a log line
 *   saying why, and GET_INFO does not advertise them; elsewhere GET_INFO does.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "igt.h"
#include "gdmabuf_test.h"

IGT_TEST_DESCRIPTION("EXP_FROM_REFS with GNTDEV_DMA_FLAG_WC / GNTDEV_DMA_FLAG_COHERENT of the "
		     "test domU's grants: the export is backed by a contiguous DMA buffer "
		     "whose frames went back to Xen while the grants are mapped over them.  "
		     "Checks content both ways, contiguity as an importing device sees it, "
		     "and that dom0's reservation (as Xen counts it) and free memory come "
		     "back after release and after every kind of failure.  On PV the flags "
		     "are refused by design.");

#define NPAGES 64
#define SIZE (NPAGES * GD_PAGE_SIZE)
#define DBG "/sys/kernel/debug/gntdev-dmabuf/"
/* 1920 x 1080 x 4 bytes */
#define FHD_PAGES 2025

/* NPAGES pages the domU granted to dom0: agent handle and refs. */
static uint32_t refs[NPAGES];
static int handle = -1, domu = -1;
static struct gd_grant g;
static int dev = -1;

/* Reads "key=value" from a debugfs file of the module; -1 if absent. */
static long long dbg_value(const char *file, const char *key)
{
	char path[128], buf[128], *p;
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), DBG "%s", file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f)) {
		p = strstr(buf, key);
		if (p && p[strlen(key)] == '=')
			v = strtoll(p + strlen(key) + 1, NULL, 10);
	}
	fclose(f);
	return v;
}

/* dom0's current reservation in pages, as Xen counts it. */
static long long reservation(void)
{
	long long pages = dbg_value("reservation", "pages");

	igt_require_f(pages > 0, "no %sreservation (not a GDMABUF_SELFTEST build)\n", DBG);
	return pages;
}

static void write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);

	igt_assert_f(fd >= 0, "cannot open %s: %s\n", path, strerror(errno));
	igt_assert_eq_s64(write(fd, val, strlen(val)), (ssize_t)strlen(val));
	close(fd);
}

static void sgcheck(int buf, unsigned int *nents, unsigned int *pfn_runs, unsigned int *runs)
{
	char cmd[16], res[96];

	snprintf(cmd, sizeof(cmd), "%d", buf);
	gd_debugfs_cmd("sgcheck", cmd, res, sizeof(res));
	igt_assert_eq(sscanf(res, "nents=%u pfn_runs=%u runs=%u", nents, pfn_runs, runs), 3);
}

/*
 * The VmFlags of the mapping at @addr in /proc/self/smaps: "pf" and "io"
 * mean the DMA API mapped it (dma_mmap_wc()/dma_mmap_coherent()), with the
 * allocation's attributes rather than cacheable pages.
 */
static bool vma_has_flags(const void *addr, const char *a, const char *b)
{
	char line[512], start[32];
	bool found = false, ok = false;
	FILE *f = fopen("/proc/self/smaps", "r");

	igt_assert(f);
	snprintf(start, sizeof(start), "%lx-", (unsigned long)addr);
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, start, strlen(start)))
			found = true;
		else if (found && !strncmp(line, "VmFlags:", 8)) {
			ok = strstr(line, a) && strstr(line, b);
			break;
		}
	}
	fclose(f);
	igt_assert_f(found, "no mapping at %p in /proc/self/smaps\n", addr);
	return ok;
}

/*
 * With an export of the domU's pages alive: the buffer's own frames went
 * back to Xen.  A direct-mapped (1:1) arm64 dom0 keeps owning them while
 * they are unmapped, so its count need not drop; it must never grow.
 */
static void check_frames_released(long long before)
{
	igt_assert_eq_s64(gd_stat("dma_released_frames"), NPAGES);
	igt_info("reservation %lld pages before, %lld with the export\n", before, reservation());
	igt_assert_lte_s64(reservation(), before);
}

/*
 * A kernel importer of @buf, whose dom0 mapping @map holds pattern 0x91:
 * its DMA mapping, then its vmap (write-combined).
 */
static void check_kernel_importer(int buf, const uint8_t *map)
{
	unsigned int nents, pfn_runs, runs;
	uint8_t *expect;

	expect = malloc(SIZE);
	igt_assert(expect);
	sgcheck(buf, &nents, &pfn_runs, &runs);
	igt_info("importing device sees %u DMA segment(s); %u run(s) of local frames, %u of local and bus frames\n",
		 nents, pfn_runs, runs);
	igt_assert_eq(pfn_runs, 1);
	/* entries follow the granter's frames, not only the local ones */
	igt_assert_eq(nents, runs);
	gd_fill_pattern(expect, NPAGES, 0x91);
	gd_check_vmap(buf, expect, NPAGES);
	/* the vmap's writes, as dom0's mapping and the domU see them */
	igt_assert_eq(memcmp(map, expect, SIZE), 0);
	free(expect);
}

/*
 * Exports the domU's pages with @flags; checks content both ways through
 * every kind of access, contiguity and accounting.  Against the stock
 * gntdev (GNTDEV_DMA_FLAG_* are its ABI too) only the content is checked,
 * with the mapping and vgem: the reservation, the kernel importer's table
 * and its vmap are our debugfs.
 */
static void test_dma_export(uint32_t flags)
{
	bool ours = !gd_upstream();
	long long before = ours ? reservation() : 0;
	uint8_t *map;
	int buf, card;

	gd_domu_fill(handle, 0x90);
	buf = gd_export_refs(dev, domu, NPAGES, refs, flags);
	igt_assert_f(buf >= 0, "export failed: %s\n", strerror(-buf));
	if (ours)
		check_frames_released(before);

	/* dom0's CPU, through the DMA API's mapping, both ways */
	map = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);
	igt_assert(map != MAP_FAILED);
	igt_assert_f(vma_has_flags(map, " pf", " io"),
		     "the mapping is not the DMA API's (no pf/io in VmFlags)\n");
	igt_assert_eq_s64(gd_check_pattern(map, NPAGES, 0x90), -1);
	gd_fill_pattern(map, NPAGES, 0x91);
	gd_domu_check(handle, 0x91);

	if (ours)
		check_kernel_importer(buf, map);
	gd_domu_fill(handle, 0x92);
	igt_assert_eq_s64(gd_check_pattern(map, NPAGES, 0x92), -1);
	munmap(map, SIZE);

	card = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
	if (card >= 0) {
		gd_gem_close(card, gd_prime_import(card, buf));
		close(card);
	}
	close(buf);
	if (ours) {
		igt_assert_eq_s64(gd_stat("dma_released_frames"), 0);
		igt_assert_eq_s64(reservation(), before);
	}
	gd_domu_check(handle, 0x92);
}

static void test_dma_alloc_balloon_restored(void)
{
	int cycles = access("/sys/kernel/debug/kmemleak", F_OK) ? 1000 : 100;
	long long res0, free0, free1;
	uint32_t *big;
	int h, buf;

	gd_require_ours("no debugfs reservation, which the test is about");
	big = malloc(FHD_PAGES * sizeof(*big));
	igt_assert(big);
	h = gd_domu_grant(0, FHD_PAGES, 0x93, big);
	/* warm up once so that lazily allocated kernel state is in place */
	buf = gd_export_refs(dev, domu, FHD_PAGES, big, GNTDEV_DMA_FLAG_WC);
	igt_assert_f(buf >= 0, "export failed: %s\n", strerror(-buf));
	close(buf);
	res0 = reservation();
	free0 = gd_meminfo_kb("MemFree:");
	for (int i = 0; i < cycles; i++) {
		buf = gd_export_refs(dev, domu, FHD_PAGES, big, GNTDEV_DMA_FLAG_WC);
		igt_assert_f(buf >= 0, "cycle %d: export failed: %s\n", i, strerror(-buf));
		close(buf);
	}
	free1 = gd_meminfo_kb("MemFree:");
	igt_info("summary: %d cycles; reservation %lld -> %lld pages, MemFree %lld -> %lld kB\n",
		 cycles, res0, reservation(), free0, free1);
	igt_assert_eq_s64(reservation(), res0);
	/*
	 * Allocating from CMA may push page cache out, so free memory can
	 * grow; a leak would shrink it (8 MiB for a single lost buffer).
	 */
	igt_assert_lt_s64(free0 - free1, 4096);
	igt_assert_eq_s64(gd_stat("live_exports"), 0);
	igt_assert_eq_s64(gd_stat("dma_released_frames"), 0);
	gd_domu_check(h, 0x93);
	gd_domu_free(h);
	free(big);
}

static void test_dma_alloc_partial_failure(void)
{
	uint32_t *many;
	long long res0;
	int buf;

	gd_require_ours("no max_dma_pages parameter, no fault injection, no debugfs reservation");
	res0 = reservation();
	many = malloc(20000 * sizeof(*many));
	igt_assert(many);
	for (int i = 0; i < 20000; i++)
		many[i] = refs[i % NPAGES];

	many[NPAGES / 2] = 0xfffff;
	buf = gd_export_refs(dev, domu, NPAGES, many, GNTDEV_DMA_FLAG_WC);
	igt_assert_eq(buf, -EINVAL);
	igt_assert_eq_s64(reservation(), res0);
	igt_assert_eq_s64(gd_stat("mapped_grants"), 0);
	many[NPAGES / 2] = refs[NPAGES / 2];

	buf = gd_export_refs(dev, domu, 16385, many, GNTDEV_DMA_FLAG_COHERENT);
	igt_assert_eq(buf, -EINVAL);

	/* 20000 pages (78 MiB) is more than the 64 MiB CMA area */
	write_file("/sys/module/xen_gntdev_dmabuf/parameters/max_dma_pages", "65536");
	buf = gd_export_refs(dev, domu, 20000, many, GNTDEV_DMA_FLAG_WC);
	write_file("/sys/module/xen_gntdev_dmabuf/parameters/max_dma_pages", "16384");
	igt_assert_eq(buf, -ENOMEM);
	igt_assert_eq_s64(reservation(), res0);

	write_file(DBG "dma_fail_decrease_after", "10");
	buf = gd_export_refs(dev, domu, NPAGES, many, GNTDEV_DMA_FLAG_WC);
	write_file(DBG "dma_fail_decrease_after", "4294967295");
	igt_assert_eq(buf, -EAGAIN);
	igt_assert_eq_s64(reservation(), res0);
	igt_assert_eq_s64(gd_stat("dma_released_frames"), 0);

	/* and the allocator still works, and the domU's pages are intact */
	gd_domu_fill(handle, 0x94);
	buf = gd_export_refs(dev, domu, NPAGES, many, GNTDEV_DMA_FLAG_WC);
	igt_assert_lte(0, buf);
	close(buf);
	igt_assert_eq_s64(reservation(), res0);
	gd_domu_check(handle, 0x94);
	free(many);
}

static void test_dma_alloc_pv_semantics(void)
{
	struct gdmabuf_info info = { 0 };
	int buf;

	gd_require_ours("no GDMABUF_IOCTL_GET_INFO (our extension); refuses every export on PV");
	do_ioctl(dev, GDMABUF_IOCTL_GET_INFO, &info);
	if (gd_pv_domain()) {
		igt_assert(!(info.caps & GDMABUF_CAP_DMA_ALLOC));
		buf = gd_export_refs(dev, gd_self_domid(), NPAGES, g.refs,
				     GNTDEV_DMA_FLAG_WC);
		igt_assert_eq(buf, -EOPNOTSUPP);
		buf = gd_export_refs(dev, gd_self_domid(), NPAGES, g.refs,
				     GNTDEV_DMA_FLAG_COHERENT);
		igt_assert_eq(buf, -EOPNOTSUPP);
		igt_assert(gd_klog_has("DMA-backed exports are not supported on PV domains"));
		igt_assert_eq_s64(gd_stat("mapped_grants"), 0);
	} else {
		igt_assert(info.caps & GDMABUF_CAP_DMA_ALLOC);
	}
}

igt_main
{
	igt_fixture {
		dev = gd_open_dev();
		gd_grant_self(&g, NPAGES);
	}

	igt_subtest_group {
		igt_fixture {
			igt_require_f(!gd_pv_domain(),
				      "PV domain: the DMA flags are refused by design (see dma-alloc-pv-semantics)\n");
			domu = gd_require_domu();
			handle = gd_domu_grant(0, NPAGES, 0x90, refs);
		}

		igt_describe("GNTDEV_DMA_FLAG_WC: a contiguous write-combined buffer shows the domU's pages (mmap, which the DMA API maps write-combined, a kernel vmap and a vgem import), dom0's writes reach the domU and the domU's reach dom0, also after an importing device mapped it (one entry per run of the domU's frames that is consecutive in bus frames too); the reservation comes back on release.");
		igt_subtest("dma-alloc-wc")
			test_dma_export(GNTDEV_DMA_FLAG_WC);

		igt_describe("GNTDEV_DMA_FLAG_WC export of 64 of the domU's pages written by a real device (the selftest's fw_cfg device, swiotlb-xen): the local frames are contiguous but the domU's are not, and the device still writes straight into the domU's pages, with no bounce buffer.");
		igt_subtest("dma-alloc-device-write")
			gd_check_device_write(dev, GNTDEV_DMA_FLAG_WC, 64);

		igt_describe("GNTDEV_DMA_FLAG_COHERENT: the same with a coherent buffer.");
		igt_subtest("dma-alloc-coherent")
			test_dma_export(GNTDEV_DMA_FLAG_COHERENT);

		igt_describe("1,000 export/release cycles of a 1080p (2025-page) WC buffer of the domU's pages (100 on a debug kernel, which poisons every page): dom0's reservation and free memory return to their starting values, no buffer stays alive, the domU's pages keep their content.");
		igt_subtest("dma-alloc-balloon-restored")
			test_dma_alloc_balloon_restored();

		igt_describe("Failures leave nothing behind: an invalid gref in the middle (EINVAL), more pages than max_dma_pages (EINVAL), more than the CMA area holds (ENOMEM), Xen taking only part of the frames (EAGAIN); each time the reservation is unchanged.");
		igt_subtest("dma-alloc-partial-failure")
			test_dma_alloc_partial_failure();

		igt_fixture
			gd_domu_free(handle);
	}

	igt_describe("On PV the DMA flags are refused with EOPNOTSUPP and a log line saying why, and GET_INFO does not advertise them; elsewhere GET_INFO does.");
	igt_subtest("dma-alloc-pv-semantics")
		test_dma_alloc_pv_semantics();

	igt_fixture {
		gd_grant_free(&g);
		close(dev);
	}
}
