// SPDX-License-Identifier: MIT
/**
 * TEST: gdmabuf lib
 * Category: Xen
 * Feature: gntdev-dmabuf
 * Description: libgntdmabuf and the gntdmabuf tool, in a real dom0: every
 *   library function against the module, the backend probe against the stock
 *   gntdev, the library's error conventions, and the tool's commands including
 *   the installation self-test users run.
 *
 * SUBTEST: lib-open-info
 * Description: The library opens the module, reports it with its version,
 *   limits and capabilities, and rejects bad open flags without touching
 *   errno.
 *
 * SUBTEST: lib-gntdev-probe
 * Description: The stock Debian gntdev has no dma-buf support: the library's
 *   probe finds that out and says EOPNOTSUPP, and the message tells what to
 *   do.
 *
 * SUBTEST: lib-export-release
 * Description: Export through the library: a close-on-exec dma-buf, its id,
 *   poll() on the handle's fd, the released id, then ENOENT from the blocking
 *   wait.
 *
 * SUBTEST: lib-import
 * Description: Import through the library: a vgem buffer's refs map to its
 *   data through the stock gntdev; the measuring and id-based calls work;
 *   releases of unknown buffers are ENOENT.
 *
 * SUBTEST: tool-info
 * Description: gntdmabuf info names the module, its version and capabilities.
 *
 * SUBTEST: tool-selftest
 * Description: gntdmabuf selftest, what a user runs after installing, passes
 *   every step in dom0.
 *
 * SUBTEST: tool-selftest-deb
 * Description: The gntdmabuf-tools Debian package (with libgntdmabuf0)
 *   installed in dom0: its selftest passes.
 *
 * SUBTEST: example-fb-share
 * Description: The display-backend example (userspace/examples/fb-share.c)
 *   exports granted pages, has vgem import them and learns of the release from
 *   its event loop.
 *
 * SUBTEST: readme-example
 * Description: The README's example program, built from README.md as it
 *   stands, exports self-granted pages and sees them released.
 *
 * SUBTEST: tool-usage
 * Description: gntdmabuf answers usage errors with exit status 2 and help with
 *   0; export of a bad reference fails with status 1 and a message.
 */
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>


#include "igt.h"
#include "gdmabuf_test.h"
#include "gntdmabuf.h"

IGT_TEST_DESCRIPTION("libgntdmabuf and the gntdmabuf tool, in a real dom0: every library "
		     "function against the module, the backend probe against the stock "
		     "gntdev, the library's error conventions, and the tool's commands "
		     "including the installation self-test users run.");

#define NPAGES 8
#define SIZE (NPAGES * GD_PAGE_SIZE)

static struct gntdmabuf *h;

/* Runs @prog (next to the tests) with @args; exit status, output in @out. */
static int run_prog(const char *prog, const char *args, char *out, size_t size)
{
	char exe[PATH_MAX], cmd[PATH_MAX + 4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	size_t len = 0;
	FILE *p;
	int status;

	igt_assert_lt_s64(0, n);
	exe[n] = '\0';
	snprintf(cmd, sizeof(cmd), "%s/../%s %s 2>&1", dirname(exe), prog, args);
	p = popen(cmd, "r");
	igt_assert(p);
	while (len + 1 < size && fgets(out + len, size - len, p))
		len += strlen(out + len);
	out[len] = '\0';
	status = pclose(p);
	igt_info("$ %s %s\n%s", prog, args, out);
	igt_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/*
 * Grants NPAGES of our pages to ourselves and runs @prog with "@prefix
 * DOMID REF..." as arguments; returns its exit status, output in @out.
 */
static int run_with_grants(const char *prog, const char *prefix, char *out, size_t size)
{
	char args[4096];
	struct gd_grant g;
	int ret;

	gd_grant_self(&g, NPAGES);
	snprintf(args, sizeof(args), "%s%u", prefix, gd_self_domid());
	for (int i = 0; i < NPAGES; i++)
		snprintf(args + strlen(args), sizeof(args) - strlen(args), " %u", g.refs[i]);
	ret = run_prog(prog, args, out, size);
	gd_grant_free(&g);
	return ret;
}

static int run_tool(const char *args, char *out, size_t size)
{
	return run_prog("gntdmabuf", args, out, size);
}

static void test_lib_open_info(void)
{
	struct gntdmabuf_info info;
	struct gntdmabuf *h2;

	igt_assert_eq(gntdmabuf_get_info(h, &info), 0);
	igt_assert_eq(info.backend, GNTDMABUF_BACKEND_MODULE);
	igt_assert(!strcmp(info.device, "/dev/xen/gntdev-dmabuf"));
	igt_assert_eq(info.abi_version, GDMABUF_ABI_VERSION);
	igt_assert(info.module_version[0]);
	igt_assert(info.caps & GNTDMABUF_CAP_EXPORT);
	igt_assert(info.caps & GNTDMABUF_CAP_IMPORT);
	igt_assert_lt_u64(0, info.max_pages_per_call);
	igt_assert_lte(0, gntdmabuf_fd(h));
	igt_assert(fcntl(gntdmabuf_fd(h), F_GETFD) & FD_CLOEXEC);

	errno = 4321;
	igt_assert_eq(gntdmabuf_open(&h2, 0x4), -EINVAL);
	igt_assert_eq(gntdmabuf_open(&h2, GNTDMABUF_OPEN_MODULE_ONLY |
				     GNTDMABUF_OPEN_GNTDEV_ONLY), -EINVAL);
	igt_assert_eq(errno, 4321);
	igt_assert_eq(gntdmabuf_open(&h2, GNTDMABUF_OPEN_MODULE_ONLY), 0);
	gntdmabuf_close(h2);
	gntdmabuf_close(NULL);
}

static void test_lib_gntdev_probe(void)
{
	struct gntdmabuf *h2;
	int fd = open("/dev/xen/gntdev", O_RDWR);

	igt_require_f(fd >= 0, "no /dev/xen/gntdev\n");
	close(fd);
	igt_assert_eq(gntdmabuf_open(&h2, GNTDMABUF_OPEN_GNTDEV_ONLY), -EOPNOTSUPP);
	igt_assert(strstr(gntdmabuf_strerror(-ENODEV), "modprobe xen-gntdev-dmabuf"));
	igt_assert(strstr(gntdmabuf_strerror(-EOPNOTSUPP), "not supported"));
}

static void test_lib_export_release(void)
{
	struct pollfd p = { .events = POLLIN };
	struct gd_grant g;
	uint64_t id, ids[4];
	int buf;

	gd_grant_self(&g, NPAGES);
	gd_fill_pattern(g.map, NPAGES, 0x33);
	igt_assert_eq(gntdmabuf_export(h, gd_self_domid(), g.refs, NPAGES, 0, &buf), 0);
	igt_assert(fcntl(buf, F_GETFD) & FD_CLOEXEC);
	igt_assert_eq(gntdmabuf_export_id(h, buf, &id), 0);
	igt_assert_neq_u64(id, 0);
	igt_assert_eq(gntdmabuf_wait_released(h, buf, 0), -ETIMEDOUT);
	igt_assert_eq(gntdmabuf_released(h, ids, 4), 0);
	close(buf);
	p.fd = gntdmabuf_fd(h);
	igt_assert_eq(poll(&p, 1, 5000), 1);
	igt_assert_eq(gntdmabuf_released(h, ids, 4), 1);
	igt_assert_eq_u64(ids[0], id);
	igt_assert_eq(gntdmabuf_wait_released(h, buf, 100), -ENOENT);
	errno = 99;
	igt_assert_eq(gntdmabuf_export(h, gd_self_domid(), g.refs, 0, 0, &buf), -EINVAL);
	igt_assert_eq(gntdmabuf_export(h, 0x7ff0, g.refs, NPAGES, 0, &buf), -EINVAL);
	igt_assert_eq(errno, 99);
	gd_grant_free(&g);
}

static void test_lib_import(void)
{
	struct gntdmabuf_import_info info;
	uint32_t refs[NPAGES];
	struct gd_mapping m;
	int card = gd_open_vgem();
	int buf = gd_vgem_dmabuf(card, NPAGES);
	uint8_t *map;

	map = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);
	igt_assert(map != MAP_FAILED);
	gd_fill_pattern(map, NPAGES, 0x44);

	igt_assert_eq(gntdmabuf_import(h, buf, gd_self_domid(), refs, NPAGES), 0);
	igt_assert_eq(gd_map_grants(&m, gd_self_domid(), refs, NPAGES, false), 0);
	igt_assert_eq_s64(gd_check_pattern(m.map, NPAGES, 0x44), -1);
	gd_unmap_grants(&m);
	igt_assert_eq(gntdmabuf_import_release(h, buf), 0);
	igt_assert_eq(gntdmabuf_import_release(h, buf), -ENOENT);

	igt_assert_eq(gntdmabuf_import_offset(h, buf, gd_self_domid(), 0, NULL, 0,
					      &info), 0);
	igt_assert_eq(info.count, NPAGES);
	igt_assert_eq(info.offset, 0);
	igt_assert_eq_u64(info.size, SIZE);
	igt_assert_eq_u64(info.id, 0);
	igt_assert_eq(gntdmabuf_import_offset(h, buf, gd_self_domid(),
					      GNTDMABUF_IMPORT_READONLY, refs, NPAGES,
					      &info), 0);
	igt_assert_neq_u64(info.id, 0);
	igt_assert_eq(gntdmabuf_import_release_id(h, info.id), 0);
	igt_assert_eq(gntdmabuf_import_release_id(h, info.id), -ENOENT);
	igt_assert_eq_s64(gd_stat("granted_refs"), 0);
	munmap(map, SIZE);
	close(buf);
	close(card);
}

static void test_tool_info(void)
{
	char out[4096];

	igt_assert_eq(run_tool("info", out, sizeof(out)), 0);
	igt_assert(strstr(out, "xen-gntdev-dmabuf module"));
	igt_assert(strstr(out, "capabilities: export"));
	igt_assert(strstr(out, "live_exports 0"));
}

static void test_tool_selftest(void)
{
	char out[4096];

	igt_assert_eq(run_tool("selftest", out, sizeof(out)), 0);
	igt_assert(strstr(out, "selftest passed"));
	igt_assert(!strstr(out, "FAIL"));
	igt_assert(strstr(out, "PASS  export grants as a dma-buf"));
	igt_assert(strstr(out, "PASS  import a DRM buffer"));
}

static void test_tool_selftest_deb(void)
{
	char out[4096];
	FILE *p;
	size_t len = 0;
	int status;

	igt_require_f(!access("/usr/bin/gntdmabuf", X_OK),
		      "no packaged gntdmabuf in this guest: the packages are built for amd64 only (arm64 runs the static tool in tool-selftest), and filtered runs skip packaging\n");
	p = popen("/usr/bin/gntdmabuf selftest 2>&1", "r");
	igt_assert(p);
	while (len + 1 < sizeof(out) && fgets(out + len, sizeof(out) - len, p))
		len += strlen(out + len);
	out[len] = '\0';
	status = pclose(p);
	igt_info("%s", out);
	igt_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	igt_assert(strstr(out, "selftest passed"));
}

static void test_example_fb_share(void)
{
	char out[4096];

	/* the example imports into vgem */
	close(gd_open_vgem());
	igt_assert_eq(run_with_grants("fb-share", "/dev/dri/card0 ", out, sizeof(out)), 0);
	igt_assert(strstr(out, "scans out the guest's memory"));
	igt_assert(strstr(out, "released: the guest may reuse its pages"));
}

static void test_readme_example(void)
{
	char out[4096];

	igt_assert_eq(run_with_grants("readme-example", "", out, sizeof(out)), 0);
	igt_assert(strstr(out, "pages are dma-buf"));
	igt_assert(strstr(out, "released: yes"));
}

static void test_tool_usage(void)
{
	char out[4096];

	igt_assert_eq(run_tool("", out, sizeof(out)), 2);
	igt_assert_eq(run_tool("bogus", out, sizeof(out)), 2);
	igt_assert(strstr(out, "unknown command"));
	igt_assert_eq(run_tool("export", out, sizeof(out)), 2);
	igt_assert_eq(run_tool("export 0 notanumber", out, sizeof(out)), 2);
	igt_assert_eq(run_tool("selftest -n 0", out, sizeof(out)), 2);
	igt_assert_eq(run_tool("help", out, sizeof(out)), 0);
	igt_assert(strstr(out, "Usage: gntdmabuf"));
	igt_assert_eq(run_tool("export 0 999999", out, sizeof(out)), 1);
	igt_assert(strstr(out, "invalid argument"));
}

igt_main
{
	igt_fixture {
		int ret;

		gd_require_ours("libgntdmabuf and its tools use our device and extensions");
		gd_open_dev();	/* skips when the module is not loaded */
		ret = gntdmabuf_open(&h, 0);
		igt_assert_f(!ret, "gntdmabuf_open: %s\n", gntdmabuf_strerror(ret));
	}

	igt_describe("The library opens the module, reports it with its version, limits and capabilities, and rejects bad open flags without touching errno.");
	igt_subtest("lib-open-info")
		test_lib_open_info();

	igt_describe("The stock Debian gntdev has no dma-buf support: the library's probe finds that out and says EOPNOTSUPP, and the message tells what to do.");
	igt_subtest("lib-gntdev-probe")
		test_lib_gntdev_probe();

	igt_describe("Export through the library: a close-on-exec dma-buf, its id, poll() on the handle's fd, the released id, then ENOENT from the blocking wait.");
	igt_subtest("lib-export-release")
		test_lib_export_release();

	igt_describe("Import through the library: a vgem buffer's refs map to its data through the stock gntdev; the measuring and id-based calls work; releases of unknown buffers are ENOENT.");
	igt_subtest("lib-import")
		test_lib_import();

	igt_describe("gntdmabuf info names the module, its version and capabilities.");
	igt_subtest("tool-info")
		test_tool_info();

	igt_describe("gntdmabuf selftest, what a user runs after installing, passes every step in dom0.");
	igt_subtest("tool-selftest")
		test_tool_selftest();

	igt_describe("The gntdmabuf-tools Debian package (with libgntdmabuf0) installed in dom0: its selftest passes.");
	igt_subtest("tool-selftest-deb")
		test_tool_selftest_deb();

	igt_describe("The display-backend example (userspace/examples/fb-share.c) exports granted pages, has vgem import them and learns of the release from its event loop.");
	igt_subtest("example-fb-share")
		test_example_fb_share();

	igt_describe("The README's example program, built from README.md as it stands, exports self-granted pages and sees them released.");
	igt_subtest("readme-example")
		test_readme_example();

	igt_describe("gntdmabuf answers usage errors with exit status 2 and help with 0; export of a bad reference fails with status 1 and a message.");
	igt_subtest("tool-usage")
		test_tool_usage();

	igt_fixture
		gntdmabuf_close(h);
}
