// SPDX-License-Identifier: MIT
/**
 * TEST: gdmabuf race
 * Category: Xen
 * Feature: gntdev-dmabuf
 * Description: Targeted races: release against a blocked wait, import release
 *   against closing the device, exports against module unload attempts, and
 *   two processes waiting for one buffer. The harness checks the kernel log
 *   and the module's counters after each.
 *
 * SUBTEST: race-close-vs-wait
 * Description: The last fd of an export is closed while another thread blocks
 *   in WAIT_RELEASED, many times: the waiter always wakes with 0 (or ENOENT
 *   when the release came first), never times out.
 *
 * SUBTEST: race-imp-release-vs-close
 * Description: IMP_RELEASE in one thread while another closes the device file,
 *   many times: every import ends exactly once, nothing leaks.
 *
 * SUBTEST: race-export-vs-unload
 * Description: Exports come and go in one thread while another tries to unload
 *   the module: the unload fails while anything lives, and if it succeeds in a
 *   gap the module is loaded again and the exporter carries on.
 *
 * SUBTEST: race-two-waiters
 * Description: Two processes wait for the same buffer through one device file:
 *   both wake when the last holder lets go.
 *
 * SUBTEST: race-mmap-vs-invalidate
 * Description: An export is mapped, written, write-protected with mprotect()
 *   (an invalidation that takes its grants away) and unmapped, many times,
 *   while another thread punches holes in a mapped memfd, which invalidates
 *   part of the process without its mmap lock and reaches the module's
 *   notifier of another mapping: every zap of the export's pages goes through
 *   the module first.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>


#include "igt.h"
#include "gdmabuf_test.h"

IGT_TEST_DESCRIPTION("Targeted races: release against a blocked wait, import release against"
		     " closing the device, exports against module unload attempts, and two "
		     "processes waiting for one buffer. The harness checks the kernel log "
		     "and the module's counters after each.");

#define NPAGES 4
#define ROUNDS 200

static struct gd_grant g;

static int export_self(int dev)
{
	return gd_export_self(dev, &g, NPAGES);
}

struct waiter {
	int dev, buf, ret;
	atomic_bool started;
};

static void *wait_thread(void *arg)
{
	struct waiter *w = arg;

	atomic_store(&w->started, true);
	w->ret = gd_wait_released(w->dev, w->buf, 10000);
	return NULL;
}

struct releaser {
	int dev, buf;
	atomic_bool go;
};

static void *release_thread(void *arg)
{
	struct releaser *r = arg;
	struct ioctl_gntdev_dmabuf_imp_release rel = { .fd = r->buf };

	while (!atomic_load(&r->go))
		;
	ioctl(r->dev, IOCTL_GNTDEV_DMABUF_IMP_RELEASE, &rel);
	return NULL;
}

static atomic_bool exporting;

static void *export_loop(void *arg)
{
	(void)arg;
	while (atomic_load(&exporting)) {
		int dev = open(GD_DEV_PATH, O_RDWR | O_CLOEXEC), buf;

		if (dev < 0)
			continue;	/* unloaded for a moment */
		buf = gd_export_refs(dev, gd_self_domid(), NPAGES, g.refs, 0);
		close(dev);
		if (buf >= 0)
			close(buf);
	}
	return NULL;
}

#define PUNCH_PAGES 2048

struct puncher {
	int fd;
	uint8_t *map;
	size_t len;
	unsigned long punches;
	atomic_bool stop;
};

/*
 * Fills a mapped memfd and punches it empty, over and over.  The punch
 * invalidates the mapping in this mm under the file's i_mmap lock alone,
 * so it overlaps the main thread's mmap() and madvise(), as a
 * copy-on-write fault under a per-VMA lock or reclaim can.
 */
static void *punch_loop(void *arg)
{
	struct puncher *pu = arg;

	while (!atomic_load(&pu->stop)) {
		if (madvise(pu->map, pu->len, MADV_POPULATE_WRITE) ||
		    fallocate(pu->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, pu->len))
			break;
		pu->punches++;
	}
	return NULL;
}

static void test_race_close_vs_wait(void)
{
	int dev = gd_open_dev(), woke = 0, late = 0;

	for (int i = 0; i < ROUNDS; i++) {
		struct waiter w = { .dev = dev };
		pthread_t t;

		w.buf = export_self(dev);
		igt_assert_eq(pthread_create(&t, NULL, wait_thread, &w), 0);
		while (!atomic_load(&w.started))
			;
		if (i & 1)
			usleep(100);
		close(w.buf);
		igt_assert_eq(pthread_join(t, NULL), 0);
		igt_assert_f(w.ret == 0 || w.ret == -ENOENT, "round %d: wait gave %d\n", i, w.ret);
		w.ret ? late++ : woke++;
	}
	igt_info("summary: %d rounds: %d waits woken by the release, %d found it done\n",
		 ROUNDS, woke, late);
	close(dev);
}

static void test_race_imp_release_vs_close(void)
{
	int card = gd_open_vgem();

	for (int i = 0; i < ROUNDS; i++) {
		struct ioctl_gntdev_dmabuf_imp_to_refs *op;
		struct releaser r = { .dev = gd_open_dev() };
		pthread_t t;

		r.buf = gd_vgem_dmabuf(card, NPAGES);
		op = calloc(1, sizeof(*op) + NPAGES * sizeof(uint32_t));
		igt_assert(op);
		op->fd = r.buf;
		op->count = NPAGES;
		op->domid = gd_self_domid();
		do_ioctl(r.dev, IOCTL_GNTDEV_DMABUF_IMP_TO_REFS, op);
		free(op);
		igt_assert_eq(pthread_create(&t, NULL, release_thread, &r), 0);
		atomic_store(&r.go, true);
		close(r.dev);
		igt_assert_eq(pthread_join(t, NULL), 0);
		close(r.buf);
	}
	gd_assert_stat("granted_refs", 0);
	gd_assert_stat("live_imports", 0);
	close(card);
}

static void test_race_export_vs_unload(void)
{
	const char *path = getenv("GDMABUF_MODULE");
	int unloaded = 0, busy = 0;
	pthread_t t;

	gd_require_ours("built into the kernel, no module to unload");
	igt_require_f(path, "GDMABUF_MODULE does not name the module file\n");
	atomic_store(&exporting, true);
	igt_assert_eq(pthread_create(&t, NULL, export_loop, NULL), 0);
	for (int i = 0; i < ROUNDS; i++) {
		if (syscall(SYS_delete_module, "xen_gntdev_dmabuf", O_NONBLOCK) == 0) {
			int mod = open(path, O_RDONLY | O_CLOEXEC);

			unloaded++;
			igt_assert_lte(0, mod);
			igt_assert_eq_s64(syscall(SYS_finit_module, mod, "", 0), 0);
			close(mod);
		} else {
			igt_assert_f(errno == EBUSY || errno == EAGAIN || errno == EWOULDBLOCK,
				     "delete_module: %s\n", strerror(errno));
			busy++;
		}
		usleep(1000);
	}
	atomic_store(&exporting, false);
	igt_assert_eq(pthread_join(t, NULL), 0);
	igt_info("summary: %d unload attempts: %d refused (busy), %d succeeded in a gap and were reloaded\n",
		 ROUNDS, busy, unloaded);
	igt_assert(!access(GD_DEV_PATH, F_OK));
}

static void test_race_two_waiters(void)
{
	int dev = gd_open_dev(), buf = export_self(dev), status;
	pid_t pid[2];

	for (int i = 0; i < 2; i++) {
		pid[i] = fork();
		igt_assert(pid[i] >= 0);
		if (!pid[i]) {
			/* the children's copies of buf must not keep it alive */
			close(buf);
			_exit(gd_wait_released(dev, buf, 10000) == 0 ? 0 : 1);
		}
	}
	usleep(1000000);
	close(buf);
	for (int i = 0; i < 2; i++) {
		igt_assert_eq(waitpid(pid[i], &status, 0), pid[i]);
		igt_assert(WIFEXITED(status));
		igt_assert_eq(WEXITSTATUS(status), 0);
	}
	close(dev);
}

static void test_race_mmap_vs_invalidate(void)
{
	int dev = gd_open_dev(), buf = export_self(dev);
	size_t len = NPAGES * GD_PAGE_SIZE;
	struct puncher pu = { .len = PUNCH_PAGES * GD_PAGE_SIZE };
	uint8_t *area;
	pthread_t t;

	pu.fd = memfd_create("gdmabuf-punch", MFD_CLOEXEC);
	igt_assert_lte(0, pu.fd);
	igt_assert_eq(ftruncate(pu.fd, pu.len), 0);
	/*
	 * The memfd's last page replaces the first page of an export's
	 * mapping, whose notifier still covers it: the punches then
	 * reach an interval notifier of this mm.
	 */
	area = mmap(NULL, pu.len + len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	igt_assert(area != MAP_FAILED);
	igt_assert(mmap(area + pu.len - GD_PAGE_SIZE, len, PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_FIXED, buf, 0) != MAP_FAILED);
	pu.map = mmap(area, pu.len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, pu.fd, 0);
	igt_assert(pu.map == area);

	igt_assert_eq(pthread_create(&t, NULL, punch_loop, &pu), 0);
	for (int i = 0; i < ROUNDS * 10; i++) {
		uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);

		igt_assert(p != MAP_FAILED);
		for (int k = 0; k < NPAGES; k++)
			p[k * GD_PAGE_SIZE] = (uint8_t)i;
		igt_assert_eq(mprotect(p, len, PROT_READ), 0);
		igt_assert_eq(munmap(p, len), 0);
	}
	atomic_store(&pu.stop, true);
	igt_assert_eq(pthread_join(t, NULL), 0);
	igt_info("summary: %d mappings beside %lu punches of %d pages\n",
		 ROUNDS * 10, pu.punches, PUNCH_PAGES);
	igt_assert_lt_u64(0, pu.punches);
	igt_assert_eq(munmap(area, pu.len + len), 0);
	close(pu.fd);
	close(buf);
	close(dev);
}

igt_main
{
	igt_fixture {
		/* skips without the module; not kept open, so unloading is possible */
		close(gd_open_dev());
		gd_grant_self(&g, NPAGES);
	}

	igt_describe("The last fd of an export is closed while another thread blocks in WAIT_RELEASED, many times: the waiter always wakes with 0 (or ENOENT when the release came first), never times out.");
	igt_subtest("race-close-vs-wait")
		test_race_close_vs_wait();

	igt_describe("IMP_RELEASE in one thread while another closes the device file, many times: every import ends exactly once, nothing leaks.");
	igt_subtest("race-imp-release-vs-close")
		test_race_imp_release_vs_close();

	igt_describe("Exports come and go in one thread while another tries to unload the module: the unload fails while anything lives, and if it succeeds in a gap the module is loaded again and the exporter carries on.");
	igt_subtest("race-export-vs-unload")
		test_race_export_vs_unload();

	igt_describe("Two processes wait for the same buffer through one device file: both wake when the last holder lets go.");
	igt_subtest("race-two-waiters")
		test_race_two_waiters();

	igt_describe("An export is mapped, written, write-protected with mprotect() (an invalidation that takes its grants away) and unmapped, many times, while another thread punches holes in a mapped memfd, which invalidates part of the process without its mmap lock and reaches the module's notifier of another mapping: every zap of the export's pages goes through the module first.");
	igt_subtest("race-mmap-vs-invalidate")
		test_race_mmap_vs_invalidate();

	igt_fixture
		gd_grant_free(&g);
}
