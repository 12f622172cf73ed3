// SPDX-License-Identifier: MIT
/**
 * TEST: gdmabuf limits
 * Category: Xen
 * Feature: gntdev-dmabuf
 * Description: Quotas: max_pages_per_file and max_pages_per_domain hold
 *   against a process or a guest asking for more, with EDQUOT and a log line
 *   naming the domain, leave other files and domains alone, and are read at
 *   run time.
 *
 * SUBTEST: limits-per-domain
 * Description: A domU grants far more pages than its quota: dom0's exports of
 *   them stop at max_pages_per_domain with EDQUOT and a log line naming the
 *   domain; dom0's own grants are unaffected; releasing gives the quota back.
 *
 * SUBTEST: limits-per-domain-import
 * Description: Imports count against the grantee's quota too: a second buffer
 *   for the same domain past max_pages_per_domain is EDQUOT until the first is
 *   released.
 *
 * SUBTEST: limits-mmap-per-domain
 * Description: On PV every page of a CPU mapping is a grant mapping of its
 *   own, in dom0's maptrack table that every backend shares: mapping one
 *   export again and again stops at max_pages_per_domain with EDQUOT, the
 *   mappings made keep working, the stock gntdev still maps, and an unmap
 *   gives the quota back.  Auto-translated domains take no grant mapping per
 *   CPU mapping, and nothing is charged.
 *
 * SUBTEST: limits-per-file
 * Description: max_pages_per_file: one file's exports and imports together
 *   stop at the limit with EDQUOT, another file is unaffected, and a released
 *   buffer gives its pages back.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>


#include "igt.h"
#include "gdmabuf_test.h"

IGT_TEST_DESCRIPTION("Quotas: max_pages_per_file and max_pages_per_domain hold against a "
		     "process or a guest asking for more, with EDQUOT and a log line naming "
		     "the domain, leave other files and domains alone, and are read at run "
		     "time.");

#define PARAMS "/sys/module/xen_gntdev_dmabuf/parameters/"

static char saved_file[32], saved_domain[32];

static void read_param(const char *name, char *buf, size_t size)
{
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), PARAMS "%s", name);
	fd = open(path, O_RDONLY);
	igt_assert_lte(0, fd);
	n = read(fd, buf, size - 1);
	igt_assert_lt_s64(0, n);
	buf[n] = '\0';
	close(fd);
}

static void write_param(const char *name, const char *val)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), PARAMS "%s", name);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return;
	if (write(fd, val, strlen(val)) < 0)
		igt_warn("cannot restore %s\n", name);
	close(fd);
}

/* Whatever happens in a subtest, the next one sees the defaults again. */
static void restore_params(void)
{
	if (saved_file[0])
		write_param("max_pages_per_file", saved_file);
	if (saved_domain[0])
		write_param("max_pages_per_domain", saved_domain);
}

static int import(int dev, int buf, uint32_t domid, uint32_t pages)
{
	struct ioctl_gntdev_dmabuf_imp_to_refs *op;
	int ret;

	op = calloc(1, sizeof(*op) + pages * sizeof(uint32_t));
	igt_assert(op);
	op->fd = buf;
	op->count = pages;
	op->domid = domid;
	ret = igt_ioctl(dev, IOCTL_GNTDEV_DMABUF_IMP_TO_REFS, op) ? -errno : 0;
	free(op);
	return ret;
}

static void test_limits_per_domain(void)
{
	struct gdmabuf_info info = { 0 };
	uint32_t refs[64];
	struct gd_grant own;
	char needle[64];
	int dev, a, b, c, h, domu = gd_require_domu();

	dev = gd_open_dev();
	write_param("max_pages_per_domain", "16");
	do_ioctl(dev, GDMABUF_IOCTL_GET_INFO, &info);
	igt_assert_eq(info.max_pages_per_domain, 16);

	h = gd_domu_grant(0, 64, 0x61, refs);
	a = gd_export_refs(dev, domu, 16, refs, 0);
	igt_assert_lte(0, a);
	/* the guest's remaining 48 pages get nothing more mapped */
	for (int i = 16; i < 64; i += 8)
		igt_assert_eq(gd_export_refs(dev, domu, 8, refs + i, 0), -EDQUOT);
	igt_assert_eq(gd_export_refs(dev, domu, 1, refs + 16, 0), -EDQUOT);
	snprintf(needle, sizeof(needle), "domain %d would hold", domu);
	igt_assert(gd_klog_has(needle));
	igt_assert_eq_s64(gd_stat("mapped_grants"), 16);

	/* another domain (dom0's own grants) has its own quota */
	igt_assert_eq(gd_grant_pages(&own, gd_self_domid(), 8, true), 0);
	b = gd_export_refs(dev, gd_self_domid(), 8, own.refs, 0);
	igt_assert_lte(0, b);

	close(a);
	c = gd_export_refs(dev, domu, 16, refs + 16, 0);
	igt_assert_lte(0, c);
	close(c);
	close(b);
	gd_grant_free(&own);
	gd_domu_free(h);
	close(dev);
}

static void test_limits_per_domain_import(void)
{
	int card = gd_open_vgem();
	int dev = gd_open_dev(), b1, b2;

	write_param("max_pages_per_domain", "8");
	b1 = gd_vgem_dmabuf(card, 8);
	b2 = gd_vgem_dmabuf(card, 8);
	igt_assert_eq(import(dev, b1, gd_self_domid(), 8), 0);
	igt_assert_eq(import(dev, b2, gd_self_domid(), 8), -EDQUOT);
	igt_assert_eq_s64(gd_stat("granted_refs"), 8);
	{
		struct ioctl_gntdev_dmabuf_imp_release rel = { .fd = b1 };

		do_ioctl(dev, IOCTL_GNTDEV_DMABUF_IMP_RELEASE, &rel);
	}
	igt_assert_eq(import(dev, b2, gd_self_domid(), 8), 0);
	close(dev);
	close(b1);
	close(b2);
	close(card);
}

static void test_limits_mmap_per_domain(void)
{
	int dev = gd_open_dev(), buf, other, n;
	uint32_t self = gd_self_domid();
	size_t len = 8 * GD_PAGE_SIZE;
	struct gd_mapping stock;
	struct gd_grant own;
	uint8_t *maps[16];

	igt_assert_eq(gd_grant_pages(&own, self, 16, true), 0);
	gd_fill_pattern(own.map, 16, 0x35);
	write_param("max_pages_per_domain", "64");
	buf = gd_export_refs(dev, self, 8, own.refs, 0);
	igt_assert_lte(0, buf);
	for (n = 0; n < 16; n++) {
		maps[n] = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);
		if (maps[n] == MAP_FAILED)
			break;
	}
	if (gd_pv_domain()) {
		/* the export's 8 pages and 7 mappings of 8 make 64 */
		igt_assert_eq(n, 7);
		igt_assert_eq(errno, EDQUOT);
		igt_assert(gd_klog_has("above max_pages_per_domain"));
		igt_assert_eq_s64(gd_stat("mapped_grants"), 64);
		for (int i = 0; i < n; i++)
			igt_assert_eq_s64(gd_check_pattern(maps[i], 8, 0x35), -1);
		igt_assert_eq(gd_map_grants(&stock, self, own.refs + 8, 8, true), 0);
		igt_assert_eq(memcmp(stock.map, own.map + len, len), 0);
		gd_unmap_grants(&stock);
		igt_assert_eq(gd_export_refs(dev, self, 8, own.refs + 8, 0), -EDQUOT);
		igt_assert_eq(munmap(maps[--n], len), 0);
		other = gd_export_refs(dev, self, 8, own.refs + 8, 0);
		igt_assert_lte(0, other);
		close(other);
	} else {
		igt_assert_eq(n, 16);
		igt_assert_eq_s64(gd_stat("mapped_grants"), 8);
	}
	for (int i = 0; i < n; i++)
		igt_assert_eq(munmap(maps[i], len), 0);
	close(buf);
	gd_grant_free(&own);
	close(dev);
}

static void test_limits_per_file(void)
{
	int card = gd_open_vgem();
	int dev = gd_open_dev(), dev2 = gd_open_dev(), a, b, v;
	struct gd_grant g;

	igt_assert_eq(gd_grant_pages(&g, gd_self_domid(), 24, true), 0);
	write_param("max_pages_per_file", "16");
	a = gd_export_refs(dev, gd_self_domid(), 16, g.refs, 0);
	igt_assert_lte(0, a);
	igt_assert_eq(gd_export_refs(dev, gd_self_domid(), 8, g.refs + 16, 0), -EDQUOT);
	v = gd_vgem_dmabuf(card, 8);
	igt_assert_eq(import(dev, v, gd_self_domid(), 8), -EDQUOT);
	igt_assert(gd_klog_has("above max_pages_per_file"));

	b = gd_export_refs(dev2, gd_self_domid(), 8, g.refs + 16, 0);
	igt_assert_lte(0, b);

	close(a);
	igt_assert_eq(import(dev, v, gd_self_domid(), 8), 0);
	close(dev);	/* releases the import */
	close(b);
	close(dev2);
	close(v);
	close(card);
	gd_grant_free(&g);
}

igt_main
{
	igt_fixture {
		gd_require_ours("no quotas (max_pages_per_domain, max_pages_per_file)");
		gd_open_dev();
		read_param("max_pages_per_file", saved_file, sizeof(saved_file));
		read_param("max_pages_per_domain", saved_domain, sizeof(saved_domain));
		atexit(restore_params);
	}

	igt_describe("A domU grants far more pages than its quota: dom0's exports of them stop at max_pages_per_domain with EDQUOT and a log line naming the domain; dom0's own grants are unaffected; releasing gives the quota back.");
	igt_subtest("limits-per-domain")
		test_limits_per_domain();

	igt_describe("Imports count against the grantee's quota too: a second buffer for the same domain past max_pages_per_domain is EDQUOT until the first is released.");
	igt_subtest("limits-per-domain-import")
		test_limits_per_domain_import();

	igt_describe("On PV every page of a CPU mapping is a grant mapping of its own, in dom0's maptrack table that every backend shares: mapping one export again and again stops at max_pages_per_domain with EDQUOT, the mappings made keep working, the stock gntdev still maps, and an unmap gives the quota back.  Auto-translated domains take no grant mapping per CPU mapping, and nothing is charged.");
	igt_subtest("limits-mmap-per-domain")
		test_limits_mmap_per_domain();

	igt_describe("max_pages_per_file: one file's exports and imports together stop at the limit with EDQUOT, another file is unaffected, and a released buffer gives its pages back.");
	igt_subtest("limits-per-file")
		test_limits_per_file();

	igt_fixture
		restore_params();
}
