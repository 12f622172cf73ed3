// SPDX-License-Identifier: MIT
/**
 * TEST: gdmabuf fault
 * Category: Xen
 * Feature: gntdev-dmabuf
 * Description: Faults: processes killed with SIGKILL in the middle of a
 *   blocking wait, of a stream of exports and of a stream of imports; domUs
 *   destroyed under dom0's exports and imports; every allocation and hypercall
 *   site failed in turn; a grant unmap Xen refuses.  Whatever happens, the
 *   kernel log stays clean and every counter returns to zero.
 *
 * SUBTEST: fault-process-killed-wait
 * Description: A process blocked in WAIT_RELEASED on a buffer it still holds
 *   is killed: the wait ends at once (not at its timeout), the buffer is
 *   released with the process, nothing leaks.
 *
 * SUBTEST: fault-process-killed-export
 * Description: A process exporting 200-page buffers as fast as it can is
 *   killed at varying moments: nothing stays mapped.
 *
 * SUBTEST: fault-process-killed-import
 * Description: A process importing vgem buffers as fast as it can is killed at
 *   varying moments: every grant ends.
 *
 * SUBTEST: fault-domu-destroyed-export
 * Description: The domU whose grants dom0 exports (imported into vgem and
 *   mmapped) is destroyed: dom0 still reads and writes the buffer, releasing
 *   it frees everything, and the domain then disappears.
 *
 * SUBTEST: fault-domu-destroyed-import
 * Description: The domU that maps grants of a released dom0 import is
 *   destroyed: the pending release completes and every grant ends.
 *
 * SUBTEST: fault-enomem-export
 * Description: Every allocation and hypercall site of an export, its CPU
 *   mapping and PRIME import fails once: each gives ENOMEM, EINVAL or EMFILE
 *   and leaves nothing mapped.
 *
 * SUBTEST: fault-enomem-import
 * Description: Every allocation and grant site of an import (new and legacy
 *   ioctl) fails once: each gives ENOMEM or ENOSPC and every grant ends.
 *
 * SUBTEST: fault-unmap-refused
 * Description: Xen refuses to unmap one grant of a released export (the test
 *   build sends a handle it does not know): the export's pages never return to
 *   the pool, its release is never reported and the grant stays counted; once
 *   the unmap is retried with the real handle, everything is released.
 *
 * SUBTEST: fault-enomem-dma-alloc
 * Description: Every site of a DMA-backed (write-combined) export of the
 *   domU's grants fails once: each gives an errno and the reservation is
 *   restored; the domU's pages keep their content.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <drm.h>	/* libdrm-dev: Debian ships the DRM uAPI there */

#include "igt.h"
#include "gdmabuf_test.h"

IGT_TEST_DESCRIPTION("Faults: processes killed with SIGKILL in the middle of a blocking "
		     "wait, of a stream of exports and of a stream of imports; domUs destroyed "
		     "under dom0's exports and imports; every allocation and hypercall site "
		     "failed in turn; a grant unmap Xen refuses.  Whatever happens, the kernel "
		     "log stays clean and every counter returns to zero.");

/*
 * fault-domu-destroyed-*: the test domU is destroyed with xl while dom0
 * holds an export of its grants, or while it maps grants of a dom0
 * import; dom0 carries on, and the domain is gone for good once dom0 lets
 * go.  The domU is created again afterwards for the tests that follow.
 *
 * fault-enomem-*: the test build's fault injection (debugfs "fail_nth")
 * fails the module's allocation and hypercall sites one at a time, the
 * first, then the second, ... until an operation completes without
 * reaching the armed site: every error path is taken once, and each must
 * give an errno and leave nothing behind.
 *
 * fault-unmap-refused: Xen refuses a grant unmap of a released export
 * (the test build sends a handle Xen does not know): the pages must stay
 * out of reuse and the release unreported until the unmap succeeds.
 */

#define FAIL_NTH "/sys/kernel/debug/gntdev-dmabuf/fail_nth"
#define MAX_SITES 400

#define POOL 200	/* pages per export; below Xen's 255 pins per grant */
#define ROUNDS 10

static struct gd_grant g;

/* Forks @fn, lets it run for @us microseconds, kills it and reaps it. */
/*
 * Runs @fn in a child killed after @us microseconds; returns how long the
 * child took to die, in microseconds.
 */
static double kill_after(void (*fn)(void), unsigned int us)
{
	pid_t pid = fork();
	double t0;
	int status;

	igt_assert(pid >= 0);
	if (!pid) {
		fn();
		_exit(0);
	}
	usleep(us);
	t0 = gd_now_us();
	kill(pid, SIGKILL);
	igt_assert_eq(waitpid(pid, &status, 0), pid);
	return gd_now_us() - t0;
}

/*
 * Waits until the counter @name is back to 0: deferred import releases
 * retry with a back-off of up to 10 s.  The stock gntdev has no counters:
 * there the kernel log checked after each test is what stays of it.
 */
static void settle(const char *name)
{
	if (gd_upstream())
		return;
	for (int i = 0; i < 300 && gd_stat(name) > 0; i++)
		usleep(50000);
	igt_assert_eq_s64(gd_stat(name), 0);
}

static void blocked_waiter(void)
{
	int dev = gd_open_dev(), buf, keep;
	struct ioctl_gntdev_dmabuf_exp_wait_released w = { .wait_to_ms = 10000 };

	buf = gd_export_refs(dev, gd_self_domid(), 8, g.refs, 0);
	keep = dup(buf);	/* the export stays alive: the wait blocks */
	w.fd = buf;
	close(buf);
	(void)keep;
	ioctl(dev, IOCTL_GNTDEV_DMABUF_EXP_WAIT_RELEASED, &w);
}

static void exporter(void)
{
	int dev = gd_open_dev();

	for (;;) {
		int buf = gd_export_refs(dev, gd_self_domid(), POOL, g.refs, 0);

		if (buf >= 0)
			close(buf);
	}
}

static void importer(void)
{
	int dev = gd_open_dev(), card = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
	uint32_t refs[16];

	for (;;) {
		int buf = gd_vgem_dmabuf(card, 16);
		struct ioctl_gntdev_dmabuf_imp_to_refs *op = calloc(1, sizeof(*op) + sizeof(refs));

		op->fd = buf;
		op->count = 16;
		op->domid = gd_self_domid();
		ioctl(dev, IOCTL_GNTDEV_DMABUF_IMP_TO_REFS, op);
		free(op);
		/* leave some imports behind for the kill to find */
		if (buf % 3)
			close(buf);
	}
}

/* Arms the Nth fault-injection site for this process; 0 disarms. */
static void fail_arm(unsigned int n)
{
	char cmd[32];
	int fd = open(FAIL_NTH, O_WRONLY);

	igt_require_f(fd >= 0, "no %s (not a GDMABUF_SELFTEST build)\n", FAIL_NTH);
	snprintf(cmd, sizeof(cmd), "%d %u", n ? getpid() : 0, n);
	igt_assert_eq_s64(write(fd, cmd, strlen(cmd)), (ssize_t)strlen(cmd));
	close(fd);
}

/* Sites still to pass before the armed one (0: it failed). */
static unsigned int fail_remaining(void)
{
	char buf[64] = "";
	unsigned int left = 0;
	int fd = open(FAIL_NTH, O_RDONLY);

	igt_assert_lte(0, fd);
	igt_assert_lt_s64(0, read(fd, buf, sizeof(buf) - 1));
	close(fd);
	igt_assert_eq(sscanf(buf, "remaining=%u", &left), 1);
	return left;
}

static void settle_all(void)
{
	settle("pending_releases");
	settle("granted_refs");
	settle("live_imports");
	settle("live_exports");
	settle("mapped_grants");
	settle("dma_released_frames");
}

/*
 * Runs @op with the 1st, 2nd, ... site failing until it completes without
 * reaching the armed one.  Each run must end in 0 or one of @errs, with
 * every counter back to zero.  Returns how many sites were failed.
 */
static unsigned int walk_faults(const char *what, int (*op)(void), const int *errs)
{
	unsigned int n, failed = 0;

	for (n = 1; n <= MAX_SITES; n++) {
		unsigned int left;
		bool known = false;
		int ret;

		fail_arm(n);
		ret = op();
		left = fail_remaining();
		fail_arm(0);
		settle_all();
		if (left) {
			igt_assert_f(ret == 0, "%s failed with %s without an injected fault\n",
				     what, strerror(-ret));
			break;
		}
		failed++;
		for (const int *e = errs; *e; e++)
			known |= ret == -*e;
		igt_assert_f(ret == 0 || known, "%s: site %u failed, the operation gave %s\n",
			     what, n, strerror(-ret));
		igt_debug("%s: site %u failed: %s\n", what, n, ret ? strerror(-ret) : "recovered");
	}
	igt_assert_f(n <= MAX_SITES, "%s still reaches site %u\n", what, MAX_SITES);
	return failed;
}

static int dev_fd = -1, card_fd = -1;

/* walk_faults() with the device and vgem open; needs more than @min sites. */
static void enomem_walk(const char *what, int (*op)(void), const int *errs,
			unsigned int min)
{
	unsigned int n;

	dev_fd = gd_open_dev();
	card_fd = gd_open_vgem();
	n = walk_faults(what, op, errs);
	igt_assert_lt_u64(min, n);
	printf("summary: %u %s sites failed one by one, all clean\n", n, what);
	close(card_fd);
	close(dev_fd);
}

/*
 * An export, mapped by the CPU, imported into vgem, released.  Not
 * vmapped: the dma-buf core WARNs whenever an exporter's vmap fails, so
 * an injected vmap failure would be a kernel warning by design.
 */
static int export_op(void)
{
	struct drm_prime_handle prime = { };
	struct drm_gem_close gc = { };
	int buf, ret = 0;
	uint8_t *p;

	buf = gd_export_refs(dev_fd, gd_self_domid(), 8, g.refs, 0);
	if (buf < 0)
		return buf;
	p = mmap(NULL, 8 * GD_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);
	if (p == MAP_FAILED) {
		ret = -errno;
		goto out_close;
	}
	p[5 * GD_PAGE_SIZE] = 1;
	munmap(p, 8 * GD_PAGE_SIZE);
	prime.fd = buf;
	if (ioctl(card_fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime)) {
		ret = -errno;
		goto out_close;
	}
	gc.handle = prime.handle;
	ioctl(card_fd, DRM_IOCTL_GEM_CLOSE, &gc);
out_close:
	close(buf);
	return ret;
}

/* A vgem buffer granted through the new and the legacy import, released. */
static int import_op(void)
{
	struct gdmabuf_imp_to_refs op = { };
	struct ioctl_gntdev_dmabuf_imp_to_refs *legacy;
	struct ioctl_gntdev_dmabuf_imp_release lrel = { };
	struct gdmabuf_imp_release rel = { };
	uint32_t refs[16];
	int buf, ret = 0;

	buf = gd_vgem_dmabuf(card_fd, 16);
	op.fd = buf;
	op.domid = gd_self_domid();
	op.count = 16;
	op.refs_ptr = (uintptr_t)refs;
	if (ioctl(dev_fd, GDMABUF_IOCTL_IMP_TO_REFS, &op)) {
		ret = -errno;
		goto out_close;
	}
	rel.id = op.id;
	igt_assert_eq(ioctl(dev_fd, GDMABUF_IOCTL_IMP_RELEASE, &rel), 0);

	legacy = calloc(1, sizeof(*legacy) + sizeof(refs));
	igt_assert(legacy);
	legacy->fd = buf;
	legacy->count = 16;
	legacy->domid = gd_self_domid();
	if (ioctl(dev_fd, IOCTL_GNTDEV_DMABUF_IMP_TO_REFS, legacy)) {
		ret = -errno;
	} else {
		lrel.fd = buf;
		igt_assert_eq(ioctl(dev_fd, IOCTL_GNTDEV_DMABUF_IMP_RELEASE, &lrel), 0);
	}
	free(legacy);
out_close:
	close(buf);
	return ret;
}

/* The domU's pages that dma_op() exports. */
static uint32_t domu_refs[8];
static int domu_id = -1;

/* A write-combined DMA-backed export of the domU's pages, mapped, released. */
static int dma_op(void)
{
	int buf = gd_export_refs(dev_fd, domu_id, 8, domu_refs, GNTDEV_DMA_FLAG_WC);
	uint8_t *p;
	int ret = 0;

	if (buf < 0)
		return buf;
	p = mmap(NULL, 8 * GD_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);
	if (p == MAP_FAILED)
		ret = -errno;
	else
		munmap(p, 8 * GD_PAGE_SIZE);
	close(buf);
	return ret;
}

/* Waits until Xen no longer lists @domid (it lingers while pages are held). */
static bool domain_gone(int domid)
{
	for (int i = 0; i < 100; i++) {
		if (!gd_domain_exists(domid))
			return true;
		usleep(100000);
	}
	return false;
}

static void destroyed_export(int card)
{
	int dev = gd_open_dev(), domid = gd_require_domu(), buf;
	uint32_t refs[16], handle;
	uint8_t *p;

	gd_domu_grant(0, 16, 77, refs);

	buf = gd_export_refs(dev, domid, 16, refs, 0);
	igt_assert_lte(0, buf);
	handle = gd_prime_import(card, buf);
	p = mmap(NULL, 16 * GD_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);
	igt_assert(p != MAP_FAILED);
	igt_assert_eq_s64(gd_check_pattern(p, 16, 77), -1);

	gd_domu_destroy();
	/* The frames stay with dom0's mappings: reading and writing still work. */
	igt_assert_eq_s64(gd_check_pattern(p, 16, 77), -1);
	gd_fill_pattern(p, 16, 78);
	igt_assert_eq_s64(gd_check_pattern(p, 16, 78), -1);
	igt_info("domain %d %s while dom0 maps its pages\n", domid,
		 gd_domain_exists(domid) ? "lingers as a dying domain" : "is gone");

	munmap(p, 16 * GD_PAGE_SIZE);
	gd_gem_close(card, handle);
	close(buf);
	settle("live_exports");
	settle("mapped_grants");
	igt_assert_f(domain_gone(domid),
		     "domain %d still exists 10 s after dom0 released its grants\n", domid);
	close(dev);
}

static void destroyed_import(int card)
{
	struct gdmabuf_imp_to_refs op = { };
	struct gdmabuf_imp_release rel = { };
	static char list[4096];
	int dev, domid, buf;
	char resp[64];
	uint32_t refs[16];

	gd_require_ours("no GDMABUF_IOCTL_IMP_RELEASE by id, no deferred release (our extensions)");
	dev = gd_open_dev();
	domid = gd_require_domu();
	buf = gd_vgem_dmabuf(card, 16);
	op.fd = buf;
	op.domid = domid;
	op.count = 16;
	op.refs_ptr = (uintptr_t)refs;
	do_ioctl(dev, GDMABUF_IOCTL_IMP_TO_REFS, &op);
	gd_format_refs(list, sizeof(list), refs, 16);
	igt_assert_eq(gd_domu_call(resp, sizeof(resp), "hold 0 %s", list), 0);

	rel.id = op.id;
	do_ioctl(dev, GDMABUF_IOCTL_IMP_RELEASE, &rel);
	igt_assert_eq_s64(gd_stat("pending_releases"), 1);
	close(buf);

	gd_domu_destroy();
	/* Xen drops the dead domain's mappings; the deferred release then ends. */
	settle("pending_releases");
	settle("granted_refs");
	settle("live_imports");
	igt_assert_f(domain_gone(domid), "domain %d still exists 10 s after its destruction\n",
		     domid);
	close(dev);
}

/* Runs @fn, which destroys the test domU, and creates the domU again. */
static void with_domu_restart(void (*fn)(int card), int card)
{
	fn(card);
	gd_domu_start();
}

/* Pages in the module's pool of unmapped grant pages (debugfs "pool"). */
static long long pool_pages(void)
{
	FILE *f = fopen("/sys/kernel/debug/gntdev-dmabuf/pool", "r");
	long long n = -1;

	igt_assert(f);
	igt_assert_eq(fscanf(f, "pages %lld", &n), 1);
	fclose(f);
	return n;
}

static void test_unmap_refused(void)
{
	struct ioctl_gntdev_dmabuf_exp_wait_released w = { .wait_to_ms = 100 };
	char res[96];
	long long pool;
	int dev, buf;

	gd_require_ours("no fault injection, no debugfs pool and counters");
	dev = gd_open_dev();
	buf = gd_export_refs(dev, gd_self_domid(), 8, g.refs, 0);
	igt_assert_lte(0, buf);
	pool = pool_pages();
	gd_debugfs_cmd("refuse_unmap", "1", res, sizeof(res));
	close(buf);
	igt_assert(gd_klog_has("its buffer is never reused or reported released"));
	/* One grant stays mapped: nothing goes back to the pool, no release. */
	igt_assert_eq_s64(gd_stat("refused_unmaps"), 1);
	igt_assert_eq_s64(gd_stat("mapped_grants"), 1);
	igt_assert_eq_s64(gd_stat("live_exports"), 1);
	igt_assert_eq_s64(pool_pages(), pool);
	w.fd = buf;
	do_ioctl_err(dev, IOCTL_GNTDEV_DMABUF_EXP_WAIT_RELEASED, &w, ETIMEDOUT);
	/* A new export is unaffected, and its pages do go back to the pool. */
	buf = gd_export_refs(dev, gd_self_domid(), 8, g.refs + 8, 0);
	igt_assert_lte(0, buf);
	close(buf);
	igt_assert_eq_s64(gd_stat("mapped_grants"), 1);
	/* It took what the pool had, up to 8 pages, and gave 8 back. */
	pool = pool > 8 ? pool : 8;
	igt_assert_eq_s64(pool_pages(), pool);

	gd_debugfs_cmd("refuse_unmap", "retry", res, sizeof(res));
	igt_assert(strstr(res, "refused=0"));
	igt_assert_eq_s64(gd_stat("refused_unmaps"), 0);
	igt_assert_eq_s64(gd_stat("mapped_grants"), 0);
	igt_assert_eq_s64(gd_stat("live_exports"), 0);
	igt_assert_eq_s64(pool_pages(), pool + 8);
	close(dev);
}

/*
 * The wait must end with SIGKILL, not with its timeout: a waiter that
 * cannot be killed holds its process (and, the timeout being the caller's,
 * for as long as the caller likes).
 */
static void test_fault_process_killed_wait(void)
{
	for (int i = 0; i < ROUNDS; i++) {
		double us = kill_after(blocked_waiter, 100000 + i * 10000);

		igt_assert_f(us < 3e6, "a SIGKILLed process blocked in WAIT_RELEASED took %.1f s to die (its 10 s wait is not killable)\n",
			     us / 1e6);
	}
	settle("live_exports");
	settle("mapped_grants");
}

static void test_fault_process_killed_export(void)
{
	for (int i = 0; i < ROUNDS; i++)
		kill_after(exporter, 20000 + i * 7000);
	settle("live_exports");
	settle("mapped_grants");
}

static void test_fault_process_killed_import(void)
{
	/* the children import vgem buffers */
	close(gd_open_vgem());
	for (int i = 0; i < ROUNDS; i++)
		kill_after(importer, 20000 + i * 7000);
	settle("pending_releases");
	settle("granted_refs");
	settle("live_imports");
}

static void test_fault_enomem_export(void)
{
	static const int errs[] = { ENOMEM, EINVAL, EMFILE, 0 };

	gd_require_ours("no fault injection (debugfs fail_nth)");
	enomem_walk("export", export_op, errs, 5);
}

static void test_fault_enomem_import(void)
{
	static const int errs[] = { ENOMEM, ENOSPC, 0 };

	gd_require_ours("no fault injection (debugfs fail_nth)");
	enomem_walk("import", import_op, errs, 3);
}

static void test_fault_enomem_dma_alloc(void)
{
	static const int errs[] = { ENOMEM, EINVAL, EMFILE, 0 };
	int h;

	gd_require_ours("no fault injection (debugfs fail_nth)");
	igt_require_f(!gd_pv_domain(), "PV domains refuse DMA-backed exports by design\n");
	domu_id = gd_require_domu();
	h = gd_domu_grant(0, 8, 0x95, domu_refs);
	enomem_walk("DMA-export", dma_op, errs, 5);
	gd_domu_check(h, 0x95);
	gd_domu_free(h);
}

igt_main
{
	int card = -1;

	igt_fixture {
		close(gd_open_dev());
		gd_grant_self(&g, POOL);
	}

	igt_describe("A process blocked in WAIT_RELEASED on a buffer it still holds is killed: the wait ends at once (not at its timeout), the buffer is released with the process, nothing leaks.");
	igt_subtest("fault-process-killed-wait")
		test_fault_process_killed_wait();

	igt_describe("A process exporting 200-page buffers as fast as it can is killed at varying moments: nothing stays mapped.");
	igt_subtest("fault-process-killed-export")
		test_fault_process_killed_export();

	igt_describe("A process importing vgem buffers as fast as it can is killed at varying moments: every grant ends.");
	igt_subtest("fault-process-killed-import")
		test_fault_process_killed_import();

	igt_subtest_group {
		igt_fixture {
			gd_require_domu();
			card = gd_open_vgem();
		}

		igt_describe("The domU whose grants dom0 exports (imported into vgem and mmapped) is destroyed: dom0 still reads and writes the buffer, releasing it frees everything, and the domain then disappears.");
		igt_subtest("fault-domu-destroyed-export")
			with_domu_restart(destroyed_export, card);

		igt_describe("The domU that maps grants of a released dom0 import is destroyed: the pending release completes and every grant ends.");
		igt_subtest("fault-domu-destroyed-import")
			with_domu_restart(destroyed_import, card);

		igt_fixture
			close(card);
	}

	igt_describe("Every allocation and hypercall site of an export, its CPU mapping and PRIME import fails once: each gives ENOMEM, EINVAL or EMFILE and leaves nothing mapped.");
	igt_subtest("fault-enomem-export")
		test_fault_enomem_export();

	igt_describe("Every allocation and grant site of an import (new and legacy ioctl) fails once: each gives ENOMEM or ENOSPC and every grant ends.");
	igt_subtest("fault-enomem-import")
		test_fault_enomem_import();

	igt_describe("Xen refuses to unmap one grant of a released export (the test build sends a handle it does not know): the export's pages never return to the pool, its release is never reported and the grant stays counted; once the unmap is retried with the real handle, everything is released.");
	igt_subtest("fault-unmap-refused")
		test_unmap_refused();

	igt_describe("Every site of a DMA-backed (write-combined) export of the domU's grants fails once: each gives an errno and the reservation is restored; the domU's pages keep their content.");
	igt_subtest("fault-enomem-dma-alloc")
		test_fault_enomem_dma_alloc();

	igt_fixture {
		int fd = open("/sys/kernel/debug/gntdev-dmabuf/refuse_unmap", O_WRONLY);

		/* A fault-unmap-refused test that failed half way. */
		if (fd >= 0) {
			if (write(fd, "0", 1) != 1 || write(fd, "retry", 5) != 5)
				fprintf(stderr, "cannot undo refused unmaps\n");
			close(fd);
		}
		gd_grant_free(&g);
		/* A fault-domu-destroyed test that failed half way. */
		if (getenv("GDMABUF_DOMU") && gd_domu_id() < 0)
			gd_domu_start();
	}
}
