// SPDX-License-Identifier: MIT
/*
 * Faults: processes killed with SIGKILL in the middle of a blocking wait,
 * of a stream of exports and of a stream of imports.  Whatever the moment,
 * the kernel log stays clean and every counter returns to zero.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "igt.h"
#include "gdmabuf_test.h"

#define POOL 200	/* pages per export; below Xen's 255 pins per grant */
#define ROUNDS 10

static struct gd_grant g;

/* Forks @fn, lets it run for @us microseconds, kills it and reaps it. */
static void kill_after(void (*fn)(void), unsigned int us)
{
	pid_t pid = fork();
	int status;

	igt_assert(pid >= 0);
	if (!pid) {
		fn();
		_exit(0);
	}
	usleep(us);
	kill(pid, SIGKILL);
	igt_assert_eq(waitpid(pid, &status, 0), pid);
}

/* Waits until the counter @name is back to 0 (deferred work may lag). */
static void settle(const char *name)
{
	for (int i = 0; i < 100 && gd_stat(name) > 0; i++)
		usleep(50000);
	igt_assert_eq(gd_stat(name), 0);
}

static void blocked_waiter(void)
{
	int dev = gd_open_dev(), buf, keep;
	struct ioctl_gntdev_dmabuf_exp_wait_released w = { .wait_to_ms = 60000 };

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

igt_main
{
	igt_fixture {
		close(gd_open_dev());
		gd_grant_self(&g, POOL);
	}

	igt_describe("A process blocked in WAIT_RELEASED on a buffer it still holds is killed: the wait ends, the buffer is released with the process, nothing leaks.");
	igt_subtest("fault-process-killed-wait") {
		for (int i = 0; i < ROUNDS; i++)
			kill_after(blocked_waiter, 100000 + i * 10000);
		settle("live_exports");
		settle("mapped_grants");
	}

	igt_describe("A process exporting 200-page buffers as fast as it can is killed at varying moments: nothing stays mapped.");
	igt_subtest("fault-process-killed-export") {
		for (int i = 0; i < ROUNDS; i++)
			kill_after(exporter, 20000 + i * 7000);
		settle("live_exports");
		settle("mapped_grants");
	}

	igt_describe("A process importing vgem buffers as fast as it can is killed at varying moments: every grant ends.");
	igt_subtest("fault-process-killed-import") {
		int card = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);

		igt_require_f(card >= 0, "no /dev/dri/card0 (vgem not loaded)\n");
		close(card);
		for (int i = 0; i < ROUNDS; i++)
			kill_after(importer, 20000 + i * 7000);
		settle("pending_releases");
		settle("granted_refs");
		settle("live_imports");
	}

	igt_fixture
		gd_grant_free(&g);
}
