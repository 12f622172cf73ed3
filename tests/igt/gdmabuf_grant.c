// SPDX-License-Identifier: MIT
/**
 * TEST: gdmabuf grant
 * Category: Xen
 * Feature: gntdev-dmabuf
 * Description: The two-domain test bed itself: grants between dom0 and the
 *   harness's PV domU through the stock Xen devices, both ways.  Every
 *   cross-domain test of gntdev-dmabuf builds on what these prove.
 *
 * SUBTEST: domu-ping
 * Description: The harness's domU answers on its xenstore command channel.
 *
 * SUBTEST: domu-grants-dom0-maps
 * Description: A domU grants pages with a pattern; dom0 maps them through the
 *   stock gntdev and reads the pattern, writes a new one, and the domU sees
 *   it.
 *
 * SUBTEST: dom0-grants-domu-maps
 * Description: dom0 grants pages to the domU through gntalloc; the domU maps
 *   them, checks the pattern and writes a reply that dom0 reads.
 *
 * SUBTEST: bogus-ref-refused
 * Description: A grant reference the domU never issued cannot be mapped: the
 *   stock gntdev fails cleanly.
 */
#include <stdlib.h>
#include <unistd.h>

#include "igt.h"
#include "gdmabuf_test.h"

IGT_TEST_DESCRIPTION("The two-domain test bed itself: grants between dom0 and the harness's "
		     "PV domU through the stock Xen devices, both ways.  Every cross-domain "
		     "test of gntdev-dmabuf builds on what these prove.");

#define NPAGES 16

static void test_domu_ping(void)
{
	char resp[64];

	igt_assert_eq(gd_domu_call(resp, sizeof(resp), "ping"), 0);
	igt_assert(!strcmp(resp, "pong"));
}

static void test_domu_grants_dom0_maps(void)
{
	uint32_t refs[NPAGES];
	struct gd_mapping m;
	int h;

	h = gd_domu_grant(0, NPAGES, 0xabc, refs);

	igt_assert_eq(gd_map_grants(&m, gd_domu_id(), refs, NPAGES, true), 0);
	igt_assert_eq_s64(gd_check_pattern(m.map, NPAGES, 0xabc), -1);
	gd_fill_pattern(m.map, NPAGES, 0xdef);
	gd_domu_check(h, 0xdef);
	/* and the other way: the domU rewrites, dom0 sees it at once */
	gd_domu_fill(h, 0x777);
	igt_assert_eq_s64(gd_check_pattern(m.map, NPAGES, 0x777), -1);
	gd_unmap_grants(&m);
	gd_domu_free(h);
}

static void test_dom0_grants_domu_maps(void)
{
	char reflist[2048], resp[256];
	struct gd_grant g;

	igt_assert_eq(gd_grant_pages(&g, gd_domu_id(), NPAGES, true), 0);
	gd_fill_pattern(g.map, NPAGES, 0x42);
	gd_format_refs(reflist, sizeof(reflist), g.refs, NPAGES);
	igt_assert_eq(gd_domu_call(resp, sizeof(resp), "mapcheck 0 0x42 0x43 %s", reflist), 0);
	igt_assert_eq_s64(gd_check_pattern(g.map, NPAGES, 0x43), -1);
	gd_grant_free(&g);
}

static void test_bogus_ref_refused(void)
{
	struct gd_mapping m;
	uint32_t ref = 0x7ffff;

	igt_assert_neq(gd_map_grants(&m, gd_domu_id(), &ref, 1, false), 0);
}

igt_main
{
	igt_fixture
		gd_require_domu();

	igt_describe("The harness's domU answers on its xenstore command channel.");
	igt_subtest("domu-ping")
		test_domu_ping();

	igt_describe("A domU grants pages with a pattern; dom0 maps them through the stock gntdev and reads the pattern, writes a new one, and the domU sees it.");
	igt_subtest("domu-grants-dom0-maps")
		test_domu_grants_dom0_maps();

	igt_describe("dom0 grants pages to the domU through gntalloc; the domU maps them, checks the pattern and writes a reply that dom0 reads.");
	igt_subtest("dom0-grants-domu-maps")
		test_dom0_grants_domu_maps();

	igt_describe("A grant reference the domU never issued cannot be mapped: the stock gntdev fails cleanly.");
	igt_subtest("bogus-ref-refused")
		test_bogus_ref_refused();
}
