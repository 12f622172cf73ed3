// SPDX-License-Identifier: MIT
/*
 * The two-domain test bed itself: grants between dom0 and the harness's
 * PV domU through the stock Xen devices, both ways.  Every cross-domain
 * test of gntdev-dmabuf builds on what these prove.
 */
#include <stdlib.h>
#include <unistd.h>

#include "igt.h"
#include "gdmabuf_test.h"

#define NPAGES 16

igt_main
{
	igt_describe("The harness's domU answers on its xenstore command channel.");
	igt_subtest("domu-ping") {
		char resp[64];

		igt_assert_eq(gd_domu_call(resp, sizeof(resp), "ping"), 0);
		igt_assert(!strcmp(resp, "pong"));
	}

	igt_describe("A domU grants pages with a pattern; dom0 maps them through the stock gntdev and reads the pattern, writes a new one, and the domU sees it.");
	igt_subtest("domu-grants-dom0-maps") {
		uint32_t refs[NPAGES];
		char resp[64];
		struct gd_mapping m;
		int h;

		h = gd_domu_grant(0, NPAGES, 0xabc, refs);

		igt_assert_eq(gd_map_grants(&m, gd_domu_id(), refs, NPAGES, true), 0);
		igt_assert_eq_s64(gd_check_pattern(m.map, NPAGES, 0xabc), -1);
		gd_fill_pattern(m.map, NPAGES, 0xdef);
		igt_assert_eq(gd_domu_call(resp, sizeof(resp), "check %d 0xdef", h), 0);
		/* and the other way: the domU rewrites, dom0 sees it at once */
		igt_assert_eq(gd_domu_call(resp, sizeof(resp), "fill %d 0x777", h), 0);
		igt_assert_eq_s64(gd_check_pattern(m.map, NPAGES, 0x777), -1);
		gd_unmap_grants(&m);
		igt_assert_eq(gd_domu_call(resp, sizeof(resp), "free %d", h), 0);
	}

	igt_describe("dom0 grants pages to the domU through gntalloc; the domU maps them, checks the pattern and writes a reply that dom0 reads.");
	igt_subtest("dom0-grants-domu-maps") {
		char reflist[2048], resp[256];
		struct gd_grant g;

		gd_require_domu();
		igt_assert_eq(gd_grant_pages(&g, gd_domu_id(), NPAGES, true), 0);
		gd_fill_pattern(g.map, NPAGES, 0x42);
		gd_format_refs(reflist, sizeof(reflist), g.refs, NPAGES);
		igt_assert_eq(gd_domu_call(resp, sizeof(resp), "mapcheck 0 0x42 0x43 %s", reflist), 0);
		igt_assert_eq_s64(gd_check_pattern(g.map, NPAGES, 0x43), -1);
		gd_grant_free(&g);
	}

	igt_describe("A grant reference the domU never issued cannot be mapped: the stock gntdev fails cleanly.");
	igt_subtest("bogus-ref-refused") {
		struct gd_mapping m;
		uint32_t ref = 0x7ffff;

		gd_require_domu();
		igt_assert_neq(gd_map_grants(&m, gd_domu_id(), &ref, 1, false), 0);
	}
}
