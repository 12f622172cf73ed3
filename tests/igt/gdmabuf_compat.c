// SPDX-License-Identifier: MIT
/**
 * TEST: gdmabuf compat
 * Category: Xen
 * Feature: gntdev-dmabuf
 * Description: libxengnttab callers unchanged: a program built only against
 *   Debian's libxen-dev (tests/guest/xengnttab-dmabuf-user.c) calls
 *   xengnttab_dmabuf_* on /dev/xen/gntdev, and libgntdmabuf-compat, preloaded,
 *   takes those calls to the module.
 *
 * SUBTEST: compat-stock-enotty
 * Description: Without the library the program's export fails with ENOTTY:
 *   Debian's gntdev has no dma-buf support.
 *
 * SUBTEST: compat-round-trip
 * Description: With the library preloaded the unchanged program exports
 *   shared pages (the export's mapping shows them), waits for the export's
 *   release (another handle does not know it: ENOENT, as with upstream),
 *   and imports a vgem dumb buffer to refs whose mapping shows its bytes.
 *
 * SUBTEST: compat-wc-flag
 * Description: GNTDEV_DMA_FLAG_WC, which the best-known caller always sets:
 *   on PV the library drops it and says so once (the module cannot back an
 *   export with DMA memory there), or passes EOPNOTSUPP on with
 *   GNTDMABUF_COMPAT_DMA_FLAGS=keep; elsewhere the export is DMA-backed and
 *   the library says nothing.
 */
#include <stdlib.h>
#include <sys/wait.h>

#include "igt.h"
#include "gdmabuf_test.h"

IGT_TEST_DESCRIPTION("libxengnttab callers unchanged: a program built only against Debian's "
		     "libxen-dev calls xengnttab_dmabuf_* on /dev/xen/gntdev, and "
		     "libgntdmabuf-compat, preloaded, takes those calls to the module.");

#define NPAGES 8
#define DROPPED "GNTDEV_DMA_FLAG_WC/COHERENT dropped"

/*
 * Runs the program for NPAGES pages with @flags and vgem's card (card0 in
 * the test bed).  @env NULL: without the library; else the library is
 * preloaded and @env adds to the environment (" NAME=VALUE" or "").  Its
 * output (stdout and stderr) goes to @out.  Returns its exit status.
 */
static int run_user(const char *env, unsigned int flags, char *out, size_t size)
{
	const char *user = getenv("GDMABUF_XENGNTTAB_USER");
	const char *lib = getenv("GDMABUF_COMPAT_LIB");
	char cmd[512];
	size_t n;
	FILE *p;
	int st;

	igt_require_f(user && lib, "no xengnttab-dmabuf-user or libgntdmabuf-compat (built with the release's libxen-dev)\n");
	snprintf(cmd, sizeof(cmd), "%s%s%s %s %d %u /dev/dri/card0 2>&1",
		 env ? "env LD_PRELOAD=" : "", env ? lib : "", env ? env : "", user, NPAGES, flags);
	p = popen(cmd, "r");
	igt_assert(p);
	n = fread(out, 1, size - 1, p);
	out[n] = 0;
	st = pclose(p);
	igt_info("%s: %s", cmd, out);
	igt_assert(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void test_stock_enotty(void)
{
	char out[512];

	igt_assert_eq(run_user(NULL, 0, out, sizeof(out)), 2);
	igt_assert(strstr(out, "xengnttab_dmabuf_exp_from_refs: ENOTTY"));
}

static void test_round_trip(void)
{
	char out[512];

	igt_assert_eq(run_user("", 0, out, sizeof(out)), 0);
	igt_assert(strstr(out, "ok\n"));
	igt_assert(!strstr(out, DROPPED));
	igt_assert_eq_s64(gd_stat("live_exports"), 0);
	igt_assert_eq_s64(gd_stat("live_imports"), 0);
}

static void test_wc_flag(void)
{
	char out[512];

	if (gd_pv_domain()) {
		igt_assert_eq(run_user("", 1, out, sizeof(out)), 0);
		igt_assert(strstr(out, DROPPED));
		igt_assert_eq(run_user(" GNTDMABUF_COMPAT_DMA_FLAGS=keep", 1, out, sizeof(out)), 2);
		igt_assert(strstr(out, "xengnttab_dmabuf_exp_from_refs: EOPNOTSUPP"));
	} else {
		igt_assert_eq(run_user("", 1, out, sizeof(out)), 0);
		igt_assert(!strstr(out, DROPPED));
		igt_assert_eq(run_user(" GNTDMABUF_COMPAT_DMA_FLAGS=keep", 1, out, sizeof(out)), 0);
	}
	igt_assert_eq_s64(gd_stat("live_exports"), 0);
}

igt_main
{
	igt_fixture
		gd_require_ours("the compat preload library sends the calls to our device");

	igt_describe("Without the library the program's export fails with ENOTTY: Debian's gntdev has no dma-buf support.");
	igt_subtest("compat-stock-enotty")
		test_stock_enotty();

	igt_describe("With the library preloaded the unchanged program exports shared pages (the export's mapping shows them), waits for the export's release (another handle does not know it: ENOENT, as with upstream), and imports a vgem dumb buffer to refs whose mapping shows its bytes.");
	igt_subtest("compat-round-trip")
		test_round_trip();

	igt_describe("GNTDEV_DMA_FLAG_WC, which the best-known caller always sets: on PV the library drops it and says so once (the module cannot back an export with DMA memory there), or passes EOPNOTSUPP on with GNTDMABUF_COMPAT_DMA_FLAGS=keep; elsewhere the export is DMA-backed and the library says nothing.");
	igt_subtest("compat-wc-flag")
		test_wc_flag();
}
