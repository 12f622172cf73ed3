// SPDX-License-Identifier: MIT
/**
 * TEST: gdmabuf basic
 * Category: Xen
 * Feature: gntdev-dmabuf
 * Description: Basic tests of /dev/xen/gntdev-dmabuf: the node, the ioctl
 *   dispatcher, GDMABUF_IOCTL_GET_INFO and coexistence with the stock gntdev.
 *
 * SUBTEST: device-node
 * Description: The device node is a character device that only root may open
 *   (0600, like gntdev).
 *
 * SUBTEST: open-close
 * Description: The device can be opened many times and each file is
 *   independent.
 *
 * SUBTEST: unknown-ioctl
 * Description: Commands the device does not know are refused with ENOTTY,
 *   including the stock gntdev's own.
 *
 * SUBTEST: get-info
 * Description: GET_INFO reports the ABI version, the limits and the module
 *   version.
 *
 * SUBTEST: bad-get-info-pad
 * Description: GET_INFO refuses a non-zero pad field with EINVAL.
 *
 * SUBTEST: bad-get-info-fault
 * Description: GET_INFO with an unmapped or read-only argument fails with
 *   EFAULT.
 *
 * SUBTEST: stock-gntdev-alongside
 * Description: The stock gntdev and gntalloc keep working while our device is
 *   open: a self-granted page maps with its content.
 *
 * SUBTEST: debugfs-failures
 * Description: debugfs failures counts refused calls by call and errno: a bad
 *   domid, an unknown buffer to wait for, a private mapping.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "igt.h"
#include "gdmabuf_test.h"

IGT_TEST_DESCRIPTION("Basic tests of /dev/xen/gntdev-dmabuf: the node, the ioctl dispatcher, "
		     "GDMABUF_IOCTL_GET_INFO and coexistence with the stock gntdev.");

/* The count of "CALL ERRNO" in debugfs "failures" (0 when absent). */
static long long failures(const char *call, const char *err)
{
	FILE *f;
	char c[32], e[32];
	long long n, found = 0;

	gd_require_ours("no debugfs failures counters");
	f = fopen("/sys/kernel/debug/gntdev-dmabuf/failures", "r");
	igt_require_f(f, "no debugfs failures file\n");
	while (fscanf(f, "%31s %31s %lld", c, e, &n) == 3)
		if (!strcmp(c, call) && !strcmp(e, err))
			found = n;
	fclose(f);
	return found;
}

static void test_device_node(void)
{
	struct stat st;

	gd_require_ours("the node under test is ours, " GD_DEV_PATH);
	igt_assert_eq(stat(GD_DEV_PATH, &st), 0);
	igt_assert(S_ISCHR(st.st_mode));
	igt_assert_eq(st.st_mode & 07777, 0600);
	igt_assert_eq(st.st_uid, 0);
}

static void test_open_close(void)
{
	int fds[16];

	for (int i = 0; i < 16; i++) {
		fds[i] = open(gd_dev_path(), O_RDWR | O_CLOEXEC);
		igt_assert_lte(0, fds[i]);
	}
	for (int i = 0; i < 16; i++)
		igt_assert_eq(close(fds[i]), 0);
}

static void test_unknown_ioctl(int fd)
{
	static const unsigned long cmds[] = {
		0, _IO('G', 0), _IOWR('G', 0x7f, uint64_t), _IOWR('X', 0x40, uint64_t),
		IOCTL_GNTDEV_MAP_GRANT_REF, IOCTL_GNTDEV_SET_MAX_GRANTS,
		/* GET_INFO's number with the wrong size or direction */
		_IOW(GDMABUF_IOCTL_BASE, 0x40, struct gdmabuf_info),
		_IOWR(GDMABUF_IOCTL_BASE, 0x40, uint64_t),
	};
	uint8_t buf[256] = { 0 };

	gd_require_ours("the stock gntdev's own commands are valid there, and 'G' 0x40 is ours");
	for (unsigned int i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		do_ioctl_err(fd, cmds[i], buf, ENOTTY);
}

static void test_get_info(int fd)
{
	struct gdmabuf_info info;

	gd_require_ours("no GDMABUF_IOCTL_GET_INFO (our extension)");
	memset(&info, 0xa5, sizeof(info));
	info.pad = 0;
	do_ioctl(fd, GDMABUF_IOCTL_GET_INFO, &info);
	igt_assert_eq(info.abi_version, GDMABUF_ABI_VERSION);
	igt_assert_lte_u64(1, info.max_pages_per_call);
	igt_assert_eq(info.pad, 0);
	igt_assert(memchr(info.module_version, '\0', sizeof(info.module_version)));
	igt_assert_lte_u64(1, strlen(info.module_version));
	igt_info("module %s, max %u pages per call\n", info.module_version,
		 info.max_pages_per_call);
}

static void test_bad_get_info_pad(int fd)
{
	struct gdmabuf_info info = { .pad = 1 };

	gd_require_ours("no GDMABUF_IOCTL_GET_INFO (our extension)");
	do_ioctl_err(fd, GDMABUF_IOCTL_GET_INFO, &info, EINVAL);
}

static void test_bad_get_info_fault(int fd)
{
	void *ro;

	gd_require_ours("no GDMABUF_IOCTL_GET_INFO (our extension)");
	ro = mmap(NULL, GD_PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	igt_assert(ro != MAP_FAILED);
	do_ioctl_err(fd, GDMABUF_IOCTL_GET_INFO, NULL, EFAULT);
	/* readable, valid input (zero pad), but the answer cannot be written */
	do_ioctl_err(fd, GDMABUF_IOCTL_GET_INFO, ro, EFAULT);
	munmap(ro, GD_PAGE_SIZE);
}

static void test_stock_gntdev_alongside(void)
{
	struct gd_grant g;
	struct gd_mapping m;
	uint32_t self = gd_self_domid();
	int ret;

	ret = gd_grant_pages(&g, self, 4, true);
	igt_require_f(ret != -ENOENT, "no /dev/xen/gntalloc\n");
	igt_assert_eq(ret, 0);
	gd_fill_pattern(g.map, 4, 0x1234);
	igt_assert_eq(gd_map_grants(&m, self, g.refs, 4, true), 0);
	igt_assert_eq_s64(gd_check_pattern(m.map, 4, 0x1234), -1);
	gd_fill_pattern(m.map, 4, 0x5678);
	igt_assert_eq_s64(gd_check_pattern(g.map, 4, 0x5678), -1);
	gd_unmap_grants(&m);
	gd_grant_free(&g);
}

static void test_debugfs_failures(int fd)
{
	long long exp_inval = failures("export", "EINVAL");
	long long wait_noent = failures("wait_released", "ENOENT");
	long long mmap_inval = failures("mmap", "EINVAL");
	uint32_t ref = 8;
	struct gd_grant g;
	void *p;
	int buf;

	igt_assert_eq(gd_export_refs(fd, 0x7ff0, 1, &ref, 0), -EINVAL);
	igt_assert_eq_s64(failures("export", "EINVAL"), exp_inval + 1);
	igt_assert_eq(gd_wait_released(fd, 12345, 0), -ENOENT);
	igt_assert_eq_s64(failures("wait_released", "ENOENT"), wait_noent + 1);

	gd_grant_self(&g, 1);
	buf = gd_export_self(fd, &g, 1);
	p = mmap(NULL, GD_PAGE_SIZE, PROT_READ, MAP_PRIVATE, buf, 0);
	igt_assert(p == MAP_FAILED && errno == EINVAL);
	igt_assert_eq_s64(failures("mmap", "EINVAL"), mmap_inval + 1);
	close(buf);
	gd_grant_free(&g);
}

igt_main
{
	int fd = -1;

	igt_fixture
		fd = gd_open_dev();

	igt_describe("The device node is a character device that only root may open (0600, like gntdev).");
	igt_subtest("device-node")
		test_device_node();

	igt_describe("The device can be opened many times and each file is independent.");
	igt_subtest("open-close")
		test_open_close();

	igt_describe("Commands the device does not know are refused with ENOTTY, including the stock gntdev's own.");
	igt_subtest("unknown-ioctl")
		test_unknown_ioctl(fd);

	igt_describe("GET_INFO reports the ABI version, the limits and the module version.");
	igt_subtest("get-info")
		test_get_info(fd);

	igt_describe("GET_INFO refuses a non-zero pad field with EINVAL.");
	igt_subtest("bad-get-info-pad")
		test_bad_get_info_pad(fd);

	igt_describe("GET_INFO with an unmapped or read-only argument fails with EFAULT.");
	igt_subtest("bad-get-info-fault")
		test_bad_get_info_fault(fd);

	igt_describe("The stock gntdev and gntalloc keep working while our device is open: a self-granted page maps with its content.");
	igt_subtest("stock-gntdev-alongside")
		test_stock_gntdev_alongside();

	igt_describe("debugfs failures counts refused calls by call and errno: a bad domid, an unknown buffer to wait for, a private mapping.");
	igt_subtest("debugfs-failures")
		test_debugfs_failures(fd);

	igt_fixture
		close(fd);
}
