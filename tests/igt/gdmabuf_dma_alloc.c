// SPDX-License-Identifier: MIT
/**
 * TEST: gdmabuf dma alloc
 * Category: Xen
 * Feature: gntdev-dmabuf
 * Description: EXP_FROM_REFS with GNTDEV_DMA_FLAG_WC /
 *   GNTDEV_DMA_FLAG_COHERENT: the export is backed by a contiguous DMA buffer
 *   whose frames went back to Xen while the grants are mapped over them.
 *   Checks content, contiguity as an importing device sees it, and that dom0's
 *   reservation (as Xen counts it) and free memory come back after release and
 *   after every kind of failure.  On PV the flags are refused by design.
 *
 * SUBTEST: dma-alloc-wc
 * Description: GNTDEV_DMA_FLAG_WC: a contiguous write-combined buffer shows
 *   the granter's pages (mmap, which the DMA API maps write-combined, a kernel
 *   vmap and a vgem import); an importing device gets one segment; the
 *   reservation comes back on release.
 *
 * SUBTEST: dma-alloc-coherent
 * Description: GNTDEV_DMA_FLAG_COHERENT: the same with a coherent buffer.
 *
 * SUBTEST: dma-alloc-balloon-restored
 * Description: 1,000 export/release cycles of a 1080p (2025-page) WC buffer
 *   (100 on a debug kernel, which poisons every page): dom0's reservation and
 *   free memory return to their starting values, no buffer stays alive.
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

IGT_TEST_DESCRIPTION("EXP_FROM_REFS with GNTDEV_DMA_FLAG_WC / GNTDEV_DMA_FLAG_COHERENT: the "
		     "export is backed by a contiguous DMA buffer whose frames went back to "
		     "Xen while the grants are mapped over them.  Checks content, contiguity "
		     "as an importing device sees it, and that dom0's reservation (as Xen "
		     "counts it) and free memory come back after release and after every "
		     "kind of failure.  On PV the flags are refused by design.");

#define NPAGES 64
#define SIZE (NPAGES * GD_PAGE_SIZE)
#define DBG "/sys/kernel/debug/gntdev-dmabuf/"
/* 1920 x 1080 x 4 bytes */
#define FHD_PAGES 2025

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

static void sgcheck(int buf, unsigned int *nents, unsigned int *runs)
{
	char cmd[16], res[64];

	snprintf(cmd, sizeof(cmd), "%d", buf);
	gd_debugfs_cmd("sgcheck", cmd, res, sizeof(res));
	igt_assert_eq(sscanf(res, "nents=%u pfn_runs=%u", nents, runs), 2);
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

/* Exports g with @flags, checks content, contiguity and accounting. */
static void test_dma_export(uint32_t flags)
{
	long long before = reservation();
	unsigned int nents, runs;
	int buf, card;
	uint8_t *map;

	gd_fill_pattern(g.map, NPAGES, 0x90);
	buf = gd_export_refs(dev, gd_self_domid(), NPAGES, g.refs, flags);
	igt_assert_f(buf >= 0, "export failed: %s\n", strerror(-buf));
	igt_assert_eq_s64(gd_stat("dma_released_frames"), NPAGES);
	/*
	 * The buffer's own frames went back to Xen.  A direct-mapped (1:1)
	 * arm64 dom0 keeps owning them while they are unmapped, so its count
	 * need not drop; it must never grow.
	 */
	igt_info("reservation %lld pages before, %lld with the export\n", before, reservation());
	igt_assert_lte_s64(reservation(), before);

	map = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);
	igt_assert(map != MAP_FAILED);
	igt_assert_f(vma_has_flags(map, " pf", " io"),
		     "the mapping is not the DMA API's (no pf/io in VmFlags)\n");
	igt_assert_eq_s64(gd_check_pattern(map, NPAGES, 0x90), -1);
	gd_fill_pattern(map, NPAGES, 0x91);
	igt_assert_eq_s64(gd_check_pattern(g.map, NPAGES, 0x91), -1);
	munmap(map, SIZE);

	/* a kernel importer's vmap, write-combined */
	gd_check_vmap(buf, g.map, NPAGES);
	igt_assert_eq_s64(gd_check_pattern(g.map, NPAGES, 0x91), -1);

	sgcheck(buf, &nents, &runs);
	igt_info("importing device sees %u DMA segment(s), %u run(s) of page frames\n",
		 nents, runs);
	igt_assert_eq(runs, 1);
	igt_assert_eq(nents, 1);

	card = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
	if (card >= 0) {
		gd_gem_close(card, gd_prime_import(card, buf));
		close(card);
	}
	close(buf);
	igt_assert_eq_s64(gd_stat("dma_released_frames"), 0);
	igt_assert_eq_s64(reservation(), before);
	igt_assert_eq_s64(gd_check_pattern(g.map, NPAGES, 0x91), -1);
}

static void test_dma_alloc_balloon_restored(void)
{
	int cycles = access("/sys/kernel/debug/kmemleak", F_OK) ? 1000 : 100;
	struct gd_grant big;
	long long res0, free0, free1;
	int ret, buf;

	write_file("/sys/module/xen_gntalloc/parameters/limit", "65536");
	ret = gd_grant_pages(&big, gd_self_domid(), FHD_PAGES, true);
	igt_require_f(!ret, "cannot grant %d pages to ourselves: %s\n", FHD_PAGES,
		      strerror(-ret));
	/* warm up once so that lazily allocated kernel state is in place */
	buf = gd_export_refs(dev, gd_self_domid(), FHD_PAGES, big.refs, GNTDEV_DMA_FLAG_WC);
	igt_assert_f(buf >= 0, "export failed: %s\n", strerror(-buf));
	close(buf);
	res0 = reservation();
	free0 = gd_meminfo_kb("MemFree:");
	for (int i = 0; i < cycles; i++) {
		buf = gd_export_refs(dev, gd_self_domid(), FHD_PAGES, big.refs,
				     GNTDEV_DMA_FLAG_WC);
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
	gd_grant_free(&big);
}

static void test_dma_alloc_partial_failure(void)
{
	uint32_t *refs;
	long long res0;
	int buf;

	res0 = reservation();
	refs = malloc(20000 * sizeof(*refs));
	igt_assert(refs);
	for (int i = 0; i < 20000; i++)
		refs[i] = g.refs[i % NPAGES];

	memcpy(refs, g.refs, NPAGES * sizeof(*refs));
	refs[NPAGES / 2] = 0xfffff;
	buf = gd_export_refs(dev, gd_self_domid(), NPAGES, refs, GNTDEV_DMA_FLAG_WC);
	igt_assert_eq(buf, -EINVAL);
	igt_assert_eq_s64(reservation(), res0);
	igt_assert_eq_s64(gd_stat("mapped_grants"), 0);
	refs[NPAGES / 2] = g.refs[NPAGES / 2];

	buf = gd_export_refs(dev, gd_self_domid(), 16385, refs, GNTDEV_DMA_FLAG_COHERENT);
	igt_assert_eq(buf, -EINVAL);

	/* 20000 pages (78 MiB) is more than the 64 MiB CMA area */
	write_file("/sys/module/xen_gntdev_dmabuf/parameters/max_dma_pages", "65536");
	buf = gd_export_refs(dev, gd_self_domid(), 20000, refs, GNTDEV_DMA_FLAG_WC);
	write_file("/sys/module/xen_gntdev_dmabuf/parameters/max_dma_pages", "16384");
	igt_assert_eq(buf, -ENOMEM);
	igt_assert_eq_s64(reservation(), res0);

	write_file(DBG "dma_fail_decrease_after", "10");
	buf = gd_export_refs(dev, gd_self_domid(), NPAGES, refs, GNTDEV_DMA_FLAG_WC);
	write_file(DBG "dma_fail_decrease_after", "4294967295");
	igt_assert_eq(buf, -EAGAIN);
	igt_assert_eq_s64(reservation(), res0);
	igt_assert_eq_s64(gd_stat("dma_released_frames"), 0);

	/* and the allocator still works */
	buf = gd_export_refs(dev, gd_self_domid(), NPAGES, refs, GNTDEV_DMA_FLAG_WC);
	igt_assert_lte(0, buf);
	close(buf);
	igt_assert_eq_s64(reservation(), res0);
	free(refs);
}

static void test_dma_alloc_pv_semantics(void)
{
	struct gdmabuf_info info = { 0 };
	int buf;

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
		igt_fixture
			igt_require_f(!gd_pv_domain(),
				      "PV domain: the DMA flags are refused by design (see dma-alloc-pv-semantics)\n");

		igt_describe("GNTDEV_DMA_FLAG_WC: a contiguous write-combined buffer shows the granter's pages (mmap, which the DMA API maps write-combined, a kernel vmap and a vgem import); an importing device gets one segment; the reservation comes back on release.");
		igt_subtest("dma-alloc-wc")
			test_dma_export(GNTDEV_DMA_FLAG_WC);

		igt_describe("GNTDEV_DMA_FLAG_COHERENT: the same with a coherent buffer.");
		igt_subtest("dma-alloc-coherent")
			test_dma_export(GNTDEV_DMA_FLAG_COHERENT);

		igt_describe("1,000 export/release cycles of a 1080p (2025-page) WC buffer (100 on a debug kernel, which poisons every page): dom0's reservation and free memory return to their starting values, no buffer stays alive.");
		igt_subtest("dma-alloc-balloon-restored")
			test_dma_alloc_balloon_restored();

		igt_describe("Failures leave nothing behind: an invalid gref in the middle (EINVAL), more pages than max_dma_pages (EINVAL), more than the CMA area holds (ENOMEM), Xen taking only part of the frames (EAGAIN); each time the reservation is unchanged.");
		igt_subtest("dma-alloc-partial-failure")
			test_dma_alloc_partial_failure();
	}

	igt_describe("On PV the DMA flags are refused with EOPNOTSUPP and a log line saying why, and GET_INFO does not advertise them; elsewhere GET_INFO does.");
	igt_subtest("dma-alloc-pv-semantics")
		test_dma_alloc_pv_semantics();

	igt_fixture {
		gd_grant_free(&g);
		close(dev);
	}
}
