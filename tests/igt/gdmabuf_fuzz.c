// SPDX-License-Identifier: MIT
/**
 * TEST: gdmabuf fuzz
 * Category: Xen
 * Feature: gntdev-dmabuf
 * Description: A seeded random sequence of operations on the device from
 *   several threads at once: every ioctl with valid and invalid arguments,
 *   random counts, bogus fds, closes, forks, mmap/munmap of exports, PRIME
 *   imports into vgem, imports of vgem buffers.  Errors are expected; a kernel
 *   warning, a crash or a counter not back to zero is a failure.
 *
 * SUBTEST: fuzz-ioctl
 * Description: A seeded random sequence of at least 100,000 operations from
 *   three threads (every ioctl, valid and invalid, closes, forks, mmaps, PRIME
 *   and vgem imports): no kernel warning, and every counter back to zero.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <drm.h>	/* libdrm-dev: Debian ships the DRM uAPI there */
#include <drm_mode.h>

#include "igt.h"
#include "gdmabuf_test.h"

IGT_TEST_DESCRIPTION("A seeded random sequence of operations on the device from several "
		     "threads at once: every ioctl with valid and invalid arguments, random "
		     "counts, bogus fds, closes, forks, mmap/munmap of exports, PRIME imports "
		     "into vgem, imports of vgem buffers.  Errors are expected; a kernel "
		     "warning, a crash or a counter not back to zero is a failure.");

/*
 * The seed is printed; GDMABUF_FUZZ_SEED=<seed> replays a run and
 * GDMABUF_FUZZ_OPS=<n> changes its length (default 100000 in total).
 * vgem is optional, and the operations check nothing themselves: errors
 * are their normal outcome.
 */

#define THREADS 3
#define POOL 32		/* self-granted pages the exports draw from */
#define SLOTS 8		/* live exports, mappings, vgem buffers per thread */

static struct gd_grant g;
static int card = -1;
static uint32_t self;

struct fuzzer {
	uint64_t state;
	unsigned long ops;
	int dev;
	int exp[SLOTS];
	void *map[SLOTS];
	size_t map_len[SLOTS];
	int vgem[SLOTS];
	uint64_t stats[16];
};

static uint64_t rnd(struct fuzzer *f)
{
	/* xorshift64*: small, fast and reproducible */
	f->state ^= f->state >> 12;
	f->state ^= f->state << 25;
	f->state ^= f->state >> 27;
	return f->state * 0x2545F4914F6CDD1DULL;
}

static uint32_t below(struct fuzzer *f, uint32_t n)
{
	return n ? (uint32_t)(rnd(f) % n) : 0;
}

/* A count: mostly small and valid, sometimes 0, huge or over the limit. */
static uint32_t rnd_count(struct fuzzer *f)
{
	switch (below(f, 8)) {
	case 0: return 0;
	case 1: return 65536 + below(f, 3);
	case 2: return 0xffffffffu - below(f, 2);
	default: return 1 + below(f, 8);
	}
}

static uint32_t rnd_domid(struct fuzzer *f)
{
	switch (below(f, 6)) {
	case 0: return 0x7ff0 + below(f, 16);
	case 1: return below(f, 100);
	default: return self;
	}
}

/* An fd number that may be ours, someone else's, closed or absurd. */
static int rnd_fd(struct fuzzer *f)
{
	switch (below(f, 5)) {
	case 0: return -1 - (int)below(f, 3);
	case 1: return (int)below(f, 64);
	case 2: return f->dev;
	default: return f->exp[below(f, SLOTS)];
	}
}

static void op_export(struct fuzzer *f)
{
	uint32_t count = rnd_count(f), n = count < 64 ? count : 1;
	struct ioctl_gntdev_dmabuf_exp_from_refs *op;
	int slot = below(f, SLOTS);

	op = calloc(1, sizeof(*op) + (n ? n : 1) * sizeof(uint32_t));
	igt_assert(op);
	op->count = count;
	op->domid = rnd_domid(f);
	op->flags = below(f, 4) ? 0 : (uint32_t)rnd(f) & 0x7;
	for (uint32_t i = 0; i < n; i++)
		op->refs[i] = below(f, 10) ? g.refs[below(f, POOL)] : (uint32_t)rnd(f);
	/* a count above the array is refused before the array is read */
	if (count > n && count < 65536)
		op->count = n;
	if (f->exp[slot] < 0 && !ioctl(f->dev, IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS, op)) {
		f->exp[slot] = op->fd;
		f->stats[0]++;
	}
	free(op);
}

static void op_close_export(struct fuzzer *f)
{
	int slot = below(f, SLOTS);

	if (f->exp[slot] >= 0) {
		close(f->exp[slot]);
		f->exp[slot] = -1;
		f->stats[1]++;
	}
}

static void op_wait(struct fuzzer *f)
{
	struct ioctl_gntdev_dmabuf_exp_wait_released w = {
		.fd = (uint32_t)rnd_fd(f), .wait_to_ms = below(f, 4) ? 0 : 1,
	};

	ioctl(f->dev, IOCTL_GNTDEV_DMABUF_EXP_WAIT_RELEASED, &w);
}

static void op_ids(struct fuzzer *f)
{
	struct gdmabuf_exp_id id = { .fd = (uint32_t)rnd_fd(f) };
	uint64_t ids[4];
	struct gdmabuf_exp_released rel = {
		.ids_ptr = below(f, 8) ? (uintptr_t)ids : rnd(f), .max = below(f, 6),
		.flags = below(f, 8) ? 0 : 1, .pad = below(f, 8) ? 0 : 1,
	};

	if (!below(f, 8))
		id.flags = 1;
	ioctl(f->dev, GDMABUF_IOCTL_EXP_ID, &id);
	ioctl(f->dev, GDMABUF_IOCTL_EXP_RELEASED, &rel);
}

static void op_mmap(struct fuzzer *f)
{
	int slot = below(f, SLOTS), e = f->exp[below(f, SLOTS)];
	size_t len = (1 + below(f, 3)) * GD_PAGE_SIZE;
	off_t off = below(f, 3) * GD_PAGE_SIZE;
	int prot = below(f, 3) ? PROT_READ | PROT_WRITE : PROT_READ;
	int flags = below(f, 6) ? MAP_SHARED : MAP_PRIVATE;
	void *p;

	if (f->map[slot]) {
		/* sometimes only part of it */
		if (below(f, 3) || f->map_len[slot] == GD_PAGE_SIZE) {
			munmap(f->map[slot], f->map_len[slot]);
		} else {
			munmap(f->map[slot], GD_PAGE_SIZE);
			munmap((char *)f->map[slot] + GD_PAGE_SIZE, f->map_len[slot] - GD_PAGE_SIZE);
		}
		f->map[slot] = NULL;
		return;
	}
	if (e < 0)
		return;
	p = mmap(NULL, len, prot, flags, e, off);
	if (p == MAP_FAILED)
		return;
	(void)*(volatile uint8_t *)p;
	if (prot & PROT_WRITE)
		*(volatile uint8_t *)p = (uint8_t)rnd(f);
	if (!below(f, 4))
		madvise(p, len, MADV_DONTNEED);
	f->map[slot] = p;
	f->map_len[slot] = len;
	f->stats[2]++;
}

static void op_prime(struct fuzzer *f)
{
	struct drm_prime_handle prime = { .fd = rnd_fd(f) };
	struct drm_gem_close gclose = { 0 };

	if (card < 0)
		return;
	if (!ioctl(card, DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime)) {
		f->stats[3]++;
		gclose.handle = prime.handle;
		ioctl(card, DRM_IOCTL_GEM_CLOSE, &gclose);
	}
}

static void op_import(struct fuzzer *f)
{
	int slot = below(f, SLOTS);
	uint32_t count = rnd_count(f), n = count < 64 ? count : 1;

	if (card < 0)
		return;
	if (f->vgem[slot] < 0) {
		struct drm_mode_create_dumb dumb = {
			.width = 1024, .height = 1 + below(f, 4), .bpp = 32,
		};
		struct drm_prime_handle prime = { .flags = DRM_CLOEXEC | DRM_RDWR };
		struct drm_gem_close gclose = { 0 };

		if (ioctl(card, DRM_IOCTL_MODE_CREATE_DUMB, &dumb))
			return;
		prime.handle = dumb.handle;
		if (!ioctl(card, DRM_IOCTL_PRIME_HANDLE_TO_FD, &prime))
			f->vgem[slot] = prime.fd;
		gclose.handle = dumb.handle;
		ioctl(card, DRM_IOCTL_GEM_CLOSE, &gclose);
		return;
	}
	switch (below(f, 5)) {
	case 0: {
		struct ioctl_gntdev_dmabuf_imp_to_refs *op;

		op = calloc(1, sizeof(*op) + (n ? n : 1) * sizeof(uint32_t));
		igt_assert(op);
		op->fd = below(f, 6) ? (uint32_t)f->vgem[slot] : (uint32_t)rnd_fd(f);
		op->count = count > n && count < 65536 ? n : count;
		op->domid = rnd_domid(f);
		op->reserved = (uint32_t)rnd(f);
		if (!ioctl(f->dev, IOCTL_GNTDEV_DMABUF_IMP_TO_REFS, op))
			f->stats[4]++;
		free(op);
		break;
	}
	case 1: {
		struct ioctl_gntdev_dmabuf_imp_release rel = {
			.fd = below(f, 4) ? (uint32_t)f->vgem[slot] : (uint32_t)rnd_fd(f),
			.reserved = (uint32_t)rnd(f),
		};

		ioctl(f->dev, IOCTL_GNTDEV_DMABUF_IMP_RELEASE, &rel);
		break;
	}
	case 2: {
		uint32_t refs[8];
		struct gdmabuf_imp_to_refs op = {
			.fd = (uint32_t)f->vgem[slot], .domid = rnd_domid(f),
			.flags = below(f, 4) ? 0 : (uint32_t)rnd(f) & 3,
			.count = below(f, 9), .pad = below(f, 8) ? 0 : 1,
			.refs_ptr = below(f, 8) ? (uintptr_t)refs : rnd(f),
		};
		struct gdmabuf_imp_release rel = { 0 };

		if (!ioctl(f->dev, GDMABUF_IOCTL_IMP_TO_REFS, &op) && op.id) {
			f->stats[5]++;
			rel.id = op.id;
			if (below(f, 2))
				ioctl(f->dev, GDMABUF_IOCTL_IMP_RELEASE, &rel);
		}
		break;
	}
	case 3: {
		struct gdmabuf_imp_release rel = {
			.id = below(f, 2) ? rnd(f) : below(f, 100),
			.flags = below(f, 6) ? 0 : 1, .pad = below(f, 6) ? 0 : 1,
		};

		ioctl(f->dev, GDMABUF_IOCTL_IMP_RELEASE, &rel);
		break;
	}
	default:
		close(f->vgem[slot]);
		f->vgem[slot] = -1;
	}
}

static void op_misc(struct fuzzer *f)
{
	struct gdmabuf_info info = { .pad = below(f, 4) ? 0 : 1 };
	unsigned long cmd;

	switch (below(f, 4)) {
	case 0:
		ioctl(f->dev, GDMABUF_IOCTL_GET_INFO, below(f, 8) ? (void *)&info : (void *)(uintptr_t)rnd(f));
		break;
	case 1:
		/* random numbers of type 'G', some of them the stock gntdev's */
		cmd = _IOC(below(f, 4), 'G', below(f, 0x50), below(f, 64));
		ioctl(f->dev, cmd, &info);
		break;
	case 2:
		ioctl(f->dev, (unsigned long)rnd(f), NULL);
		break;
	default: {
		/* close and reopen the device: its imports go, its exports stay */
		int fd = open(gd_dev_path(), O_RDWR | O_CLOEXEC);

		if (fd >= 0) {
			close(f->dev);
			f->dev = fd;
			f->stats[6]++;
		}
	}
	}
}

static void op_fork(struct fuzzer *f)
{
	pid_t pid = fork();
	int status;

	igt_assert(pid >= 0);
	if (!pid) {
		/* the child inherits fds and mappings (those are not copied) */
		for (int i = 0; i < 20; i++) {
			op_export(f);
			op_close_export(f);
			op_wait(f);
		}
		_exit(0);
	}
	igt_assert_eq(waitpid(pid, &status, 0), pid);
	igt_assert(WIFEXITED(status));
	f->stats[7]++;
}

static void *run(void *arg)
{
	struct fuzzer *f = arg;

	for (unsigned long i = 0; i < f->ops; i++) {
		uint32_t r = below(f, 1000);

		if (r < 220)
			op_export(f);
		else if (r < 400)
			op_close_export(f);
		else if (r < 480)
			op_wait(f);
		else if (r < 560)
			op_ids(f);
		else if (r < 680)
			op_mmap(f);
		else if (r < 740)
			op_prime(f);
		else if (r < 880)
			op_import(f);
		else if (r < 998)
			op_misc(f);
		else
			op_fork(f);
	}
	for (int s = 0; s < SLOTS; s++) {
		if (f->map[s])
			munmap(f->map[s], f->map_len[s]);
		if (f->exp[s] >= 0)
			close(f->exp[s]);
		if (f->vgem[s] >= 0)
			close(f->vgem[s]);
	}
	close(f->dev);
	return NULL;
}

static void test_fuzz_ioctl(void)
{
	const char *s = getenv("GDMABUF_FUZZ_SEED"), *n = getenv("GDMABUF_FUZZ_OPS");
	const char *th = getenv("GDMABUF_FUZZ_THREADS");
	int threads = th ? atoi(th) : THREADS;
	uint64_t seed = s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL) * 2654435761u;
	unsigned long total = n ? strtoul(n, NULL, 0) : 100000;
	static struct fuzzer fz[THREADS];
	pthread_t t[THREADS];
	uint64_t sum[8] = { 0 };

	igt_info("fuzz-ioctl: seed %#" PRIx64 ", %lu operations (replay with GDMABUF_FUZZ_SEED=%#" PRIx64 ")\n",
		 seed, total, seed);
	igt_require(threads >= 1 && threads <= THREADS);
	for (int i = 0; i < threads; i++) {
		fz[i].state = seed + 0x9e3779b97f4a7c15ULL * (i + 1);
		fz[i].ops = total / threads + (i < (int)(total % threads));
		fz[i].dev = gd_open_dev();
		for (int k = 0; k < SLOTS; k++)
			fz[i].exp[k] = fz[i].vgem[k] = -1;
	}
	for (int i = 0; i < threads; i++)
		igt_assert_eq(pthread_create(&t[i], NULL, run, &fz[i]), 0);
	for (int i = 0; i < threads; i++) {
		igt_assert_eq(pthread_join(t[i], NULL), 0);
		for (int k = 0; k < 8; k++)
			sum[k] += fz[i].stats[k];
	}
	igt_info("summary: seed %#" PRIx64 ", %lu ops, %d thread(s); succeeded: %" PRIu64 " exports, %" PRIu64 " closes, %" PRIu64 " mmaps, %" PRIu64 " PRIME imports, %" PRIu64 " legacy imports, %" PRIu64 " imports with offset, %" PRIu64 " reopens, %" PRIu64 " forks\n",
		 seed, total, threads, sum[0], sum[1], sum[2], sum[3], sum[4], sum[5], sum[6], sum[7]);
	igt_assert_lt_u64(0, sum[0]);
	igt_assert_lt_u64(0, sum[2]);
	/*
	 * The exports' releases are synchronous; pending imports end soon.
	 * The stock gntdev has no counters (and takes our GDMABUF_IOCTL_*
	 * numbers for unknown ones): there the kernel log is the verdict.
	 */
	for (int i = 0; i < 100 && gd_stat("pending_releases") > 0; i++)
		usleep(50000);
	gd_assert_stat("live_exports", 0);
	gd_assert_stat("mapped_grants", 0);
	gd_assert_stat("granted_refs", 0);
}

igt_main
{
	igt_fixture {
		gd_open_dev();
		self = gd_self_domid();
		gd_grant_self(&g, POOL);
		card = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
	}

	igt_describe("A seeded random sequence of at least 100,000 operations from three threads (every ioctl, valid and invalid, closes, forks, mmaps, PRIME and vgem imports): no kernel warning, and every counter back to zero.");
	igt_subtest("fuzz-ioctl")
		test_fuzz_ioctl();

	igt_fixture {
		gd_grant_free(&g);
		if (card >= 0)
			close(card);
	}
}
