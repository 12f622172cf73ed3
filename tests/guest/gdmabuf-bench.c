// SPDX-License-Identifier: MIT
/*
 * gdmabuf-bench: the measurements of `make bench` (tests/bench.sh), run in
 * dom0 next to each other so that the noise of the emulated machine hits
 * all of them alike.  Every measure is a subtest; each prints lines
 *
 *   bench<TAB>measure<TAB>size<TAB>pages<TAB>median_us<TAB>min_us<TAB>max_us<TAB>reps
 *
 * which the host turns into build/bench/results.csv.  The grants come
 * from the test domU (both architectures), or from dom0 itself when a run
 * has no domU.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <drm.h>	/* libdrm-dev: Debian ships the DRM uAPI there */
#include <linux/dma-buf.h>

#include "igt.h"
#include "gdmabuf_test.h"

#define FRAMES 60
#define MAX_REPS 15

static const struct {
	const char *name;
	uint32_t pages;
} sizes[] = {
	{ "1page", 1 },
	{ "1080p", 2025 },	/* 1920 x 1080 x 4 bytes */
	{ "4k", 8100 },		/* 3840 x 2160 x 4 bytes */
	{ "256mib", 65536 },
};

#define N_SIZES (sizeof(sizes) / sizeof(sizes[0]))

static int dev = -1, card = -1, reps = 5;
static unsigned int cur;
/*
 * "upstream-" when GDMABUF_DEV names the in-tree gntdev of an
 * upstream-enabled kernel (make bench-upstream): bench.sh divides each
 * measure of ours by the same measure of upstream's, taken in the same boot.
 */
static const char *prefix = "";

/* Grant refs offered to dom0, by the domU or by dom0 itself. */
struct refs {
	uint32_t domid, count, *refs;
	int handle;		/* the domU agent's, or -1 */
	struct gd_grant self;
};

static void report(const char *measure, const char *size, uint32_t pages, double *v, int n)
{
	double med = gd_median(v, n);

	printf("bench\t%s%s\t%s\t%u\t%.1f\t%.1f\t%.1f\t%d\n", prefix, measure, size, pages, med,
	       v[0], v[n - 1], n);
	fflush(stdout);
}

static void get_refs(struct refs *r, uint32_t count)
{
	int ret;

	memset(r, 0, sizeof(*r));
	r->count = count;
	r->handle = -1;
	if (gd_domu_id() >= 0) {
		r->refs = calloc(count, sizeof(*r->refs));
		igt_assert(r->refs);
		r->domid = gd_domu_id();
		r->handle = gd_domu_grant(0, count, 7, r->refs);
		return;
	}
	r->domid = gd_self_domid();
	ret = gd_grant_pages(&r->self, r->domid, count, true);
	igt_require_f(ret != -ENOSPC, "this domain's grant table holds fewer than %u entries\n",
		      count);
	igt_assert_eq(ret, 0);
	r->refs = r->self.refs;
}

static void put_refs(struct refs *r)
{
	if (r->handle >= 0) {
		igt_assert_eq(gd_domu_call(NULL, 0, "free %d", r->handle), 0);
		free(r->refs);
	} else {
		gd_grant_free(&r->self);
	}
	memset(r, 0, sizeof(*r));
}

static void wait_released(int buf)
{
	struct ioctl_gntdev_dmabuf_exp_wait_released w = { .fd = buf, .wait_to_ms = 10000 };

	/* ENOENT: released already, as the final close runs the release. */
	if (ioctl(dev, IOCTL_GNTDEV_DMABUF_EXP_WAIT_RELEASED, &w))
		igt_assert_eq(errno, ENOENT);
}

/*
 * Whether this gntdev exports @r: upstream's refuses every export with
 * EINVAL where it maps grants through page tables (use_ptemod, a PV
 * dom0), and the bench says so instead of failing.
 */
static bool exports(const struct refs *r)
{
	int buf = gd_export_refs(dev, r->domid, r->count, r->refs, 0);

	if (buf == -EINVAL && gd_upstream()) {
		printf("bench\tinfo\tupstream-export-refused\t%u\tEINVAL\t0\t0\t0\n", r->count);
		fflush(stdout);
		return false;
	}
	igt_assert_lte(0, buf);
	close(buf);
	wait_released(buf);
	return true;
}

static void touch(const uint8_t *p, uint32_t pages)
{
	volatile uint8_t sink = 0;

	for (uint32_t i = 0; i < pages; i++)
		sink += p[(size_t)i * GD_PAGE_SIZE];
	(void)sink;
}

static void sync_buf(int buf, uint64_t flags)
{
	struct dma_buf_sync s = { .flags = flags };

	do_ioctl(buf, DMA_BUF_IOCTL_SYNC, &s);
}

/* A vgem buffer of @pages pages as a dma-buf, mapped; returns the fd. */
static int vgem_mapped(uint32_t pages, uint8_t **map)
{
	int buf = gd_vgem_dmabuf(card, pages);

	*map = mmap(NULL, (size_t)pages * GD_PAGE_SIZE, PROT_READ | PROT_WRITE,
		    MAP_SHARED, buf, 0);
	igt_assert(*map != MAP_FAILED);
	return buf;
}

/*
 * Create/release cycles per repetition, each timed on its own and summed:
 * a display backend creates and drops buffers one after the other, so
 * the grant pages of one cycle are recycled by the next, as they would be.
 */
static int batch(uint32_t pages)
{
	uint32_t k = 16384 / pages;

	return k < 1 ? 1 : k > 64 ? 64 : k;
}

/* EXP_FROM_REFS until the dma-buf is usable, then its release. */
static void bench_export(const char *size, const struct refs *r)
{
	double create[MAX_REPS], release[MAX_REPS], cpu[MAX_REPS];
	size_t len = (size_t)r->count * GD_PAGE_SIZE;
	int k = batch(r->count);

	for (int i = 0; i < reps; i++) {
		create[i] = release[i] = cpu[i] = 0;
		for (int j = 0; j < k; j++) {
			double t0 = gd_now_us(), t1;
			int buf = gd_export_refs(dev, r->domid, r->count, r->refs, 0);

			t1 = gd_now_us();
			igt_assert_lte(0, buf);
			close(buf);
			wait_released(buf);
			create[i] += (t1 - t0) / k;
			release[i] += (gd_now_us() - t1) / k;
		}
		/*
		 * The same with a CPU mapping touched page by page, like the
		 * stock path; upstream's exports cannot be mapped.
		 */
		for (int j = 0; j < k && !gd_upstream(); j++) {
			double t0 = gd_now_us();
			int buf = gd_export_refs(dev, r->domid, r->count, r->refs, 0);
			uint8_t *p;

			igt_assert_lte(0, buf);
			p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);
			igt_assert(p != MAP_FAILED);
			touch(p, r->count);
			cpu[i] += (gd_now_us() - t0) / k;
			munmap(p, len);
			close(buf);
			wait_released(buf);
		}
	}
	report("export", size, r->count, create, reps);
	report("export-release", size, r->count, release, reps);
	if (!gd_upstream())
		report("export-mmap", size, r->count, cpu, reps);
}

/* The stock gntdev: MAP_GRANT_REF + mmap + a read of every page. */
static void bench_stock(const char *size, const struct refs *r)
{
	double map[MAX_REPS], unmap[MAX_REPS];
	int k = batch(r->count);

	for (int i = 0; i < reps; i++) {
		map[i] = unmap[i] = 0;
		for (int j = 0; j < k; j++) {
			struct gd_mapping m;
			double t0 = gd_now_us(), t1;

			igt_assert_eq(gd_map_grants(&m, r->domid, r->refs, r->count, true), 0);
			touch(m.map, r->count);
			t1 = gd_now_us();
			gd_unmap_grants(&m);
			map[i] += (t1 - t0) / k;
			unmap[i] += (gd_now_us() - t1) / k;
		}
	}
	report("stock-gntdev", size, r->count, map, reps);
	report("stock-gntdev-release", size, r->count, unmap, reps);
}

/* One frame of the copy path: the mapped grants copied into vgem. */
static void bench_copy(const char *size, const struct refs *r)
{
	size_t len = (size_t)r->count * GD_PAGE_SIZE;
	int k = batch(r->count);
	double copy[MAX_REPS];
	struct gd_mapping m;
	uint8_t *dst;
	int buf;

	igt_assert_eq(gd_map_grants(&m, r->domid, r->refs, r->count, true), 0);
	buf = vgem_mapped(r->count, &dst);
	for (int i = 0; i < reps; i++) {
		double t0 = gd_now_us();

		for (int j = 0; j < k; j++) {
			sync_buf(buf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
			memcpy(dst, m.map, len);
			sync_buf(buf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
		}
		copy[i] = (gd_now_us() - t0) / k;
	}
	report("copy", size, r->count, copy, reps);
	munmap(dst, len);
	close(buf);
	gd_unmap_grants(&m);
}

/*
 * The grant map and unmap hypercalls alone (test-only debugfs "floor"),
 * repeated in the kernel as many times as a batch.
 */
static void bench_floor(const char *size, const struct refs *r)
{
	double map[MAX_REPS], unmap[MAX_REPS], pages[MAX_REPS];

	for (int i = 0; i < reps; i++) {
		unsigned long long map_ns, unmap_ns, pages_ns;
		char cmd[64], res[96];

		snprintf(cmd, sizeof(cmd), "%u %u %lx %d", r->domid, r->count,
			 (unsigned long)r->refs, batch(r->count));
		gd_debugfs_cmd("floor", cmd, res, sizeof(res));
		igt_assert_eq(sscanf(res, "map_ns=%llu unmap_ns=%llu pages_ns=%llu", &map_ns,
				     &unmap_ns, &pages_ns), 3);
		map[i] = map_ns / 1e3;
		unmap[i] = unmap_ns / 1e3;
		pages[i] = pages_ns / 1e3;
	}
	report("floor", size, r->count, map, reps);
	report("floor-release", size, r->count, unmap, reps);
	/* Not part of the floor: what the grant pages cost to allocate and free. */
	report("grant-pages-alloc-free", size, r->count, pages, reps);
}

/* How finely the clock advances, for the reader of the results. */
static void clock_info(void)
{
	double t0 = gd_now_us(), t, step = 1e9;
	int changes = 0;

	while (changes < 20 && (t = gd_now_us()) - t0 < 2e6) {
		static double last;

		if (last && t != last) {
			if (t - last < step)
				step = t - last;
			changes++;
		}
		last = t;
	}
	printf("bench\tinfo\tclock-step-us\t0\t%.3f\t0\t0\t%d\n", step, changes);
}

static long long kernel_kb(void)
{
	int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY);

	/* Folds the per-CPU counter deltas in, so that Slab is exact. */
	if (fd >= 0) {
		igt_assert_eq_s64(write(fd, "1\n", 2), 2);
		close(fd);
	}
	return gd_meminfo_kb("Slab:") + gd_meminfo_kb("VmallocUsed:");
}

/*
 * Slab + vmalloc bytes per page while one export, then one stock gntdev
 * mapping, of the refs is alive.  One at a time: the stock gntdev maps
 * at most 65536 pages in all.
 */
static void bench_memory(const struct refs *r)
{
	struct gd_mapping m;
	long long before, after;
	int buf;

	before = kernel_kb();
	buf = gd_export_refs(dev, r->domid, r->count, r->refs, 0);
	igt_assert_lte(0, buf);
	after = kernel_kb();
	close(buf);
	wait_released(buf);
	printf("bench\t%smemory-export\tbytes-per-page\t%u\t%.1f\t0.0\t0.0\t1\n", prefix,
	       r->count, (after - before) * 1024.0 / r->count);
	if (gd_upstream())
		return;

	before = kernel_kb();
	igt_assert_eq(gd_map_grants(&m, r->domid, r->refs, r->count, true), 0);
	after = kernel_kb();
	gd_unmap_grants(&m);
	printf("bench\tmemory-stock-gntdev\tbytes-per-page\t%u\t%.1f\t0.0\t0.0\t1\n",
	       r->count, (after - before) * 1024.0 / r->count);
	fflush(stdout);
}

/*
 * What a software renderer does with a frame: it reads every pixel.  The
 * sums keep the compiler from dropping the loads; the same loop reads the
 * export and the copy.  Scalar 64-bit loads, kept scalar: QEMU runs SSE
 * through helpers, and GCC's vectorised loop took twice as long on x86_64.
 */
__attribute__((optimize("no-tree-vectorize")))
static uint64_t read_frame(const uint8_t *p, size_t len)
{
	const uint64_t *w = (const uint64_t *)p;
	uint64_t a = 0, b = 0, c = 0, d = 0;

	for (size_t i = 0; i + 4 <= len / sizeof(*w); i += 4) {
		a += w[i];
		b += w[i + 1];
		c += w[i + 2];
		d += w[i + 3];
	}
	return a + b + c + d;
}

/*
 * Per frame, a consumer of a buffer: a sync_file of its fences, as a
 * compositor or KMS client waits on implicit sync; with @map also a CPU
 * reader, which reads the whole frame through the dma-buf's mapping
 * between DMA_BUF_IOCTL_SYNC calls, as a software compositor does.
 */
static uint64_t consume(int buf, const uint8_t *map, size_t len)
{
	struct dma_buf_export_sync_file sf = { .flags = DMA_BUF_SYNC_READ };
	uint64_t sum = 0;

	do_ioctl(buf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &sf);
	close(sf.fd);
	if (map) {
		sync_buf(buf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
		sum = read_frame(map, len);
		sync_buf(buf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	}
	return sum;
}

/* Who consumes the exports in frames_zero_copy(). */
enum zc_reader {
	ZC_DEVICE = 1,		/* imported into vgem, as a KMS device would */
	ZC_CPU = 2,		/* mapped and read, as a software compositor */
};

/*
 * Zero copy: both buffers exported, and imported into vgem or mapped
 * once as @readers says, then flips.  Returns the total; *@frame gets the
 * mean time of one frame after the setup.
 */
static double frames_zero_copy(struct refs *fb, unsigned int readers, double *frame)
{
	size_t len = (size_t)fb[0].count * GD_PAGE_SIZE;
	struct drm_prime_handle prime[2] = { };
	double t0 = gd_now_us(), t, t1;
	uint8_t *map[2] = { };
	volatile uint64_t sum = 0;
	int bufs[2];

	for (int b = 0; b < 2; b++) {
		bufs[b] = gd_export_refs(dev, fb[b].domid, fb[b].count, fb[b].refs, 0);
		igt_assert_lte(0, bufs[b]);
		if (readers & ZC_DEVICE) {
			prime[b].fd = bufs[b];
			do_ioctl(card, DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime[b]);
		}
		if (readers & ZC_CPU) {
			map[b] = mmap(NULL, len, PROT_READ, MAP_SHARED, bufs[b], 0);
			igt_assert(map[b] != MAP_FAILED);
		}
	}
	t1 = gd_now_us();
	for (int f = 0; f < FRAMES; f++)
		sum += consume(bufs[f & 1], map[f & 1], len);
	t = gd_now_us() - t0;
	*frame = (gd_now_us() - t1) / FRAMES;
	for (int b = 0; b < 2; b++) {
		struct drm_gem_close gc = { .handle = prime[b].handle };

		if (map[b])
			munmap(map[b], len);
		if (readers & ZC_DEVICE)
			do_ioctl(card, DRM_IOCTL_GEM_CLOSE, &gc);
		close(bufs[b]);
		wait_released(bufs[b]);
	}
	(void)sum;
	return t;
}

/*
 * The copy path: both buffers mapped once, every frame copied into vgem;
 * with @cpu every frame is copied into shared memory instead (a memfd, as
 * wl_shm is) and read there by the same CPU reader as the zero copy
 * path's.  vgem's mapping is write-combined, which would slow that reader
 * on hardware.
 */
static double frames_copy(struct refs *fb, bool cpu, double *frame)
{
	size_t len = (size_t)fb[0].count * GD_PAGE_SIZE;
	double t0 = gd_now_us(), t, t1;
	volatile uint64_t sum = 0;
	struct gd_mapping m[2];
	int vbuf = -1, shm = -1;
	uint8_t *dst;

	for (int b = 0; b < 2; b++)
		igt_assert_eq(gd_map_grants(&m[b], fb[b].domid, fb[b].refs, fb[b].count, true), 0);
	if (cpu) {
		shm = memfd_create("frame", MFD_CLOEXEC);
		igt_assert_lte(0, shm);
		igt_assert_eq(ftruncate(shm, len), 0);
		dst = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, shm, 0);
		igt_assert(dst != MAP_FAILED);
	} else {
		vbuf = vgem_mapped(fb[0].count, &dst);
	}
	t1 = gd_now_us();
	for (int f = 0; f < FRAMES; f++) {
		if (cpu) {
			memcpy(dst, m[f & 1].map, len);
			sum += read_frame(dst, len);
			continue;
		}
		sync_buf(vbuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
		memcpy(dst, m[f & 1].map, len);
		sync_buf(vbuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
		consume(vbuf, NULL, len);
	}
	t = gd_now_us() - t0;
	*frame = (gd_now_us() - t1) / FRAMES;
	munmap(dst, len);
	close(cpu ? shm : vbuf);
	gd_unmap_grants(&m[0]);
	gd_unmap_grants(&m[1]);
	(void)sum;
	return t;
}

static const struct {
	const char *name;
	unsigned int readers;	/* zero copy; 0: the copy path */
	bool cpu;
} frame_modes[] = {
	{ "zero-copy", ZC_DEVICE, false },
	{ "zero-copy-cpu", ZC_CPU, true },
	{ "zero-copy-cpu-device", ZC_CPU | ZC_DEVICE, true },
	{ "copy", 0, false },
	{ "copy-cpu", 0, true },
};

#define N_FRAME_MODES (sizeof(frame_modes) / sizeof(frame_modes[0]))

/*
 * Against upstream only zero copy into a device: its exports cannot be
 * mapped, and the copy path does not use the device.
 */
static bool skip_mode(unsigned int m)
{
	return gd_upstream() && frame_modes[m].readers != ZC_DEVICE;
}

static void bench_frames(void)
{
	double total[N_FRAME_MODES][MAX_REPS], frame[N_FRAME_MODES][MAX_REPS];
	int n = reps < 3 ? reps : 3;
	struct refs fb[2];
	char name[64];

	get_refs(&fb[0], 2025);
	get_refs(&fb[1], 2025);
	if (gd_upstream() && !exports(&fb[0]))
		goto put;
	for (int i = 0; i < n; i++) {
		for (unsigned int m = 0; m < N_FRAME_MODES; m++) {
			if (skip_mode(m))
				continue;
			if (frame_modes[m].readers)
				total[m][i] = frames_zero_copy(fb, frame_modes[m].readers,
							       &frame[m][i]);
			else
				total[m][i] = frames_copy(fb, frame_modes[m].cpu, &frame[m][i]);
		}
	}
	for (unsigned int m = 0; m < N_FRAME_MODES; m++) {
		if (skip_mode(m))
			continue;
		snprintf(name, sizeof(name), "frames-%s", frame_modes[m].name);
		report(name, "60x1080p", 2025, total[m], n);
	}
	for (unsigned int m = 0; m < N_FRAME_MODES; m++) {
		if (skip_mode(m))
			continue;
		snprintf(name, sizeof(name), "frame-%s", frame_modes[m].name);
		report(name, "1080p", 2025, frame[m], n);
	}
put:
	put_refs(&fb[0]);
	put_refs(&fb[1]);
}

/* IMP_TO_REFS of a vgem buffer, and its release. */
static void bench_import(const char *size, uint32_t pages)
{
	double imp[MAX_REPS], rel[MAX_REPS];
	struct ioctl_gntdev_dmabuf_imp_to_refs *op;
	uint32_t domid = gd_domu_id() >= 0 ? (uint32_t)gd_domu_id() : gd_self_domid();
	int buf = gd_vgem_dmabuf(card, pages);

	op = calloc(1, sizeof(*op) + pages * sizeof(uint32_t));
	igt_assert(op);
	for (int i = 0; i < reps; i++) {
		struct ioctl_gntdev_dmabuf_imp_release r = { };
		double t0 = gd_now_us(), t1;

		op->fd = buf;
		op->count = pages;
		op->domid = domid;
		if (ioctl(dev, IOCTL_GNTDEV_DMABUF_IMP_TO_REFS, op)) {
			igt_assert_eq(errno, ENOSPC);
			igt_info("import of %u pages: the grant table is too small here\n", pages);
			goto out;
		}
		t1 = gd_now_us();
		r.fd = buf;
		do_ioctl(dev, IOCTL_GNTDEV_DMABUF_IMP_RELEASE, &r);
		imp[i] = t1 - t0;
		rel[i] = gd_now_us() - t1;
	}
	report("import", size, pages, imp, reps);
	report("import-release", size, pages, rel, reps);
out:
	free(op);
	close(buf);
}

/*
 * Export, stock gntdev, copy and floor for sizes[@i]; against upstream
 * only what goes through its gntdev (the export), the rest being the
 * same code in both runs.
 */
static void bench_size(unsigned int i)
{
	int saved = reps;
	struct refs r;

	/* The biggest buffer takes seconds per repetition under TCG. */
	if (sizes[i].pages > 8100 && reps > 3)
		reps = 3;
	get_refs(&r, sizes[i].pages);
	if (gd_upstream()) {
		if (exports(&r)) {
			bench_export(sizes[i].name, &r);
			if (sizes[i].pages == 65536)
				bench_memory(&r);
		}
		goto put;
	}
	bench_floor(sizes[i].name, &r);
	bench_export(sizes[i].name, &r);
	bench_stock(sizes[i].name, &r);
	bench_copy(sizes[i].name, &r);
	if (sizes[i].pages == 65536)
		bench_memory(&r);
put:
	put_refs(&r);
	reps = saved;
}

/*
 * The display backend: gntdmabuf-displ serving the domU, zero copy
 * against its --copy mode (the stock gntdev and a memcpy per frame).
 */
#define DISPL_LOG "/tmp/displ-bench.log"
#define DISPL_WAIT_CARD "i=0; while ! ls /dev/dri/card* > /dev/null 2>&1 && [ $i -lt 100 ]; do " \
			"sleep 0.1; i=$((i+1)); done; c=$(ls /dev/dri/card* | tail -n 1); "

static pid_t displ_pid = -1;

/* Starts the backend with the options @opts (NULL-terminated, at most 6). */
static void displ_start(const char *bin, const char *const *opts)
{
	const char *argv[8] = { bin };

	for (int i = 0; opts[i]; i++) {
		igt_assert(i < 6);
		argv[i + 1] = opts[i];
	}
	displ_pid = fork();
	igt_assert(displ_pid >= 0);
	if (!displ_pid) {
		int fd = open(DISPL_LOG, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		dup2(fd, 1);
		dup2(fd, 2);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	if (!gd_file_has(DISPL_LOG, "serving vdispl devices", 5000)) {
		igt_assert(!system("cat " DISPL_LOG));
		igt_assert_f(false, "the backend did not start\n");
	}
}

static void displ_stop(void)
{
	int st;

	kill(displ_pid, SIGTERM);
	igt_assert_eq(waitpid(displ_pid, &st, 0), displ_pid);
	displ_pid = -1;
	igt_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/*
 * xl vdispl-attach of one connector at @w x @h, the backend allocating
 * with @be_alloc; returns the device's number.
 */
static int displ_attach(int domid, uint32_t w, uint32_t h, bool be_alloc)
{
	char cmd[256], line[32];
	int dev = -1;
	FILE *p;

	for (int tries = 0;; tries++) {
		snprintf(cmd, sizeof(cmd), "xl vdispl-attach %d backend=0 be-alloc=%d connectors=id0:%ux%u "
			 ">> " DISPL_LOG " 2>&1", domid, be_alloc, w, h);
		igt_assert_eq(system(cmd), 0);
		snprintf(cmd, sizeof(cmd), "xenstore-list /local/domain/0/backend/vdispl/%d", domid);
		p = popen(cmd, "r");
		while (p && fgets(line, sizeof(line), p))
			dev = atoi(line);
		if (p)
			pclose(p);
		igt_assert_lte(0, dev);
		/* The domU now and then misses a device attached right after one went (testing.rst). */
		if (!gd_domu_call(NULL, 0, "exec i=0; while [ ! -e /sys/bus/xen/devices/vdispl-%d ] && "
				  "[ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; "
				  "test -e /sys/bus/xen/devices/vdispl-%d", dev, dev))
			return dev;
		igt_assert_f(!tries, "the domU does not take vdispl %d\n", dev);
		printf("the domU did not take vdispl %d: detaching it and attaching again\n", dev);
		snprintf(cmd, sizeof(cmd), "xl vdispl-detach %d %d >> " DISPL_LOG " 2>&1; "
			 "xenstore-rm /local/domain/%d/device/vdispl/%d 2> /dev/null; true",
			 domid, dev, domid, dev);
		igt_assert_eq(system(cmd), 0);
	}
}

/* Detaches @dev and waits for the domU to let go of it (its xenbus device). */
static void displ_detach(int domid, int dev)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "xl vdispl-detach %d %d >> " DISPL_LOG " 2>&1", domid, dev);
	igt_assert_eq(system(cmd), 0);
	igt_assert(!gd_domu_call(NULL, 0, "exec i=0; while ls /sys/bus/xen/devices | grep -q '^vdispl-' && "
				 "[ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; "
				 "! ls /sys/bus/xen/devices | grep -q '^vdispl-'"));
}

/*
 * Waits for the backend's @nth report of a device's buffer creations (it
 * logs one when a device goes) and reads where their time went.
 */
/*
 * The backend logs, when a device goes, where its time went: waits for the
 * @nth line holding @needle and returns it from the number before @needle.
 */
static const char *displ_account(const char *needle, int nth, char *line, size_t size)
{
	for (int ms = 0; ms < 10000; ms += 100) {
		FILE *f = fopen(DISPL_LOG, "r");
		int n = 0;

		while (f && fgets(line, size, f)) {
			const char *p = strstr(line, needle);

			if (!p || ++n < nth)
				continue;
			fclose(f);
			while (p > line && p[-1] != ' ')
				p--;
			return p;
		}
		if (f)
			fclose(f);
		usleep(100000);
	}
	igt_assert_f(false, "the backend did not log \"%s\" %d times\n", needle, nth);
	return NULL;
}

static void displ_report(const char *measure, const char *mode, const char *size, uint32_t pages,
			 double med, double min, double max, int n)
{
	printf("bench\t%s-%s\t%s\t%u\t%.1f\t%.1f\t%.1f\t%d\n", measure, mode, size, pages, med, min,
	       max, n);
	fflush(stdout);
}

static void bench_displ(void)
{
	static const struct { const char *name; uint32_t w, h; } res[] = {
		{ "1080p", 1920, 1080 }, { "4k", 3840, 2160 },
	};
	const char *bin = getenv("GDMABUF_DISPL");
	int domid = gd_domu_id(), flips = 10 * reps;
	char resp[1100], line[512];

	igt_require_f(bin, "no gntdmabuf-displ (built with the release's libxen-dev)\n");
	igt_require_f(domid > 0, "no test domU\n");
	gd_domu_set_timeout(600);
	for (int copy = 0; copy < 2; copy++) {
		const char *mode = copy ? "copy" : "zero-copy";
		double med, min, max, fps, create, be_create, be_dir, be_exp, be_flip;
		unsigned int frames;
		int dev, reports = 0;

		displ_start(bin, (const char *[]){ copy ? "--copy" : "--destroy-timeout=2000", NULL });
		/* xen-drm-front and a KMS client: 1080p (it takes 4095x2047 at most). */
		if (!gd_domu_call(NULL, 0, "exec test -d /sys/module/drm_xen_front")) {
			dev = displ_attach(domid, 1920, 1080, false);
			igt_assert_f(!gd_domu_call(resp, sizeof(resp), "exec " DISPL_WAIT_CARD
						   "/bin/gdmabuf-kms -d $c -t %d 2>&1", flips),
				     "gdmabuf-kms: %s\n", resp);
			igt_assert_f(sscanf(resp, "0 frames=%u %*s %*s %*s %*s flip_us=%lf min=%lf max=%lf fps=%lf",
					    &frames, &med, &min, &max, &fps) == 5,
				     "gdmabuf-kms: %s\n", resp);
			displ_report("displ-kms-flip", mode, "1080p", 2025, med, min, max, flips);
			printf("bench\tinfo\tdispl-kms-fps-%s\t0\t%.1f\t0\t0\t0\n", mode, fps);
			displ_detach(domid, dev);
			reports++;
		}
		/* The protocol itself, at 1080p and 4K; no driver takes the device. */
		igt_assert_eq(gd_domu_call(NULL, 0, "exec echo 0 > /sys/bus/xen/drivers_autoprobe"), 0);
		for (unsigned int i = 0; i < sizeof(res) / sizeof(res[0]); i++) {
			uint32_t pages = (res[i].w * res[i].h * 4 + 4095) / 4096;

			dev = displ_attach(domid, res[i].w, res[i].h, false);
			igt_assert_f(!gd_domu_call(resp, sizeof(resp), "exec /bin/gdmabuf-displ-front %d bench %u %u %d 2>&1",
						   dev, res[i].w, res[i].h, flips),
				     "gdmabuf-displ-front: %s\n", resp);
			igt_assert_f(sscanf(resp, "0 create_us=%lf flip_us=%lf min=%lf max=%lf fps=%lf",
					    &create, &med, &min, &max, &fps) == 5,
				     "gdmabuf-displ-front: %s\n", resp);
			displ_report("displ-flip", mode, res[i].name, pages, med, min, max, flips);
			displ_report("displ-dbuf-create", mode, res[i].name, pages, create, create, create, 5);
			printf("bench\tinfo\tdispl-fps-%s-%s\t0\t%.1f\t0\t0\t0\n", mode, res[i].name, fps);
			displ_detach(domid, dev);
			/* Inside the backend: the whole DBUF_CREATE, its directory, its export. */
			reports++;
			igt_assert_eq(sscanf(displ_account(" buffers created, ", reports, line, sizeof(line)),
					     "%*u buffers created, %lf us each: %lf reading the directory, %lf exporting",
					     &be_create, &be_dir, &be_exp), 3);
			igt_assert_eq(sscanf(displ_account(" flips shown, ", reports, line, sizeof(line)),
					     "%*u flips shown, %lf us each", &be_flip), 1);
			displ_report("displ-backend-flip", mode, res[i].name, pages, be_flip, be_flip,
				     be_flip, flips);
			displ_report("displ-backend-create", mode, res[i].name, pages, be_create, be_create,
				     be_create, 7);
			displ_report("displ-backend-directory", mode, res[i].name, pages, be_dir, be_dir,
				     be_dir, 7);
			displ_report("displ-backend-export", mode, res[i].name, pages, be_exp, be_exp,
				     be_exp, 7);
		}
		gd_domu_call(NULL, 0, "exec echo 1 > /sys/bus/xen/drivers_autoprobe");
		igt_assert_f(gd_file_has(DISPL_LOG, copy ? "copied bytes" : " 0 copied bytes", 5000),
			     "the backend's copied bytes are not as its mode says\n");
		displ_stop();
	}
	gd_domu_set_timeout(60);
}

/*
 * Scanout on vkms in dom0 (the KMS sink) at 1080p through xen-drm-front:
 * each flip waits for the commit's completion, so its time is the
 * display's frame (16.7 ms at 60 Hz) as long as dom0 keeps up; zero copy
 * against --copy and against buffers the backend allocates from vkms
 * (be-alloc; gdmabuf-kms -N, which a PV guest needs, draws nothing).
 */
static void bench_displ_kms(void)
{
	static const struct { const char *mode; bool copy, be_alloc; } modes[] = {
		{ "zero-copy", false, false }, { "copy", true, false }, { "be-alloc", false, true },
	};
	const char *bin = getenv("GDMABUF_DISPL");
	int domid = gd_domu_id(), flips = 10 * reps;
	char resp[1100], line[512], card[64], kms[96];

	igt_require_f(bin, "no gntdmabuf-displ (built with the release's libxen-dev)\n");
	igt_require_f(domid > 0, "no test domU\n");
	igt_require_f(!gd_domu_call(NULL, 0, "exec test -d /sys/module/drm_xen_front"),
		      "no xen-drm-front in the domU\n");
	gd_domu_set_timeout(600);
	for (unsigned int m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		double med, min, max, fps, be_flip;
		unsigned int frames;
		int dev;

		close(gd_vkms_open(card, sizeof(card)));
		snprintf(kms, sizeof(kms), "--kms-device=%s", card);
		displ_start(bin, (const char *[]){ "--sink=kms", kms,
			    modes[m].copy ? "--copy" : "--destroy-timeout=2000", NULL });
		dev = displ_attach(domid, 1920, 1080, modes[m].be_alloc);
		if (gd_domu_call(resp, sizeof(resp), "exec " DISPL_WAIT_CARD
				 "/bin/gdmabuf-kms -d $c -t %s %d 2>&1", modes[m].be_alloc ? "-N" : "",
				 flips)) {
			igt_info("gdmabuf-kms: %s\n", resp);
			igt_assert_eq(system("cat " DISPL_LOG), 0);
			gd_domu_call(resp, sizeof(resp), "exec dmesg | tail -n 12 | tr '\\n' '|'");
			igt_assert_f(false, "gdmabuf-kms failed; the domU's log: %s\n", resp);
		}
		igt_assert_f(sscanf(resp, "0 frames=%u %*s %*s %*s %*s flip_us=%lf min=%lf max=%lf fps=%lf",
				    &frames, &med, &min, &max, &fps) == 5,
			     "gdmabuf-kms: %s\n", resp);
		displ_report("displ-scanout-flip", modes[m].mode, "1080p", 2025, med, min, max, flips);
		printf("bench\tinfo\tdispl-scanout-fps-%s\t0\t%.1f\t0\t0\t0\n", modes[m].mode, fps);
		displ_detach(domid, dev);
		igt_assert_eq(sscanf(displ_account(" flips shown, ", 1, line, sizeof(line)),
				     "%*u flips shown, %lf us each", &be_flip), 1);
		displ_report("displ-scanout-backend-flip", modes[m].mode, "1080p", 2025, be_flip, be_flip,
			     be_flip, flips);
		displ_stop();
		gd_vkms_unload();
	}
	gd_domu_set_timeout(60);
}

/* CPU time process @pid has used, in ms (utime + stime of /proc/PID/stat). */
static double cpu_ms(pid_t pid)
{
	unsigned long long ut, st;
	char path[64], buf[1024], *p;
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY);
	igt_assert_lte(0, fd);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	igt_assert_lt(0, n);
	buf[n] = 0;
	/* After the command's closing parenthesis: fields 3 onwards. */
	p = strrchr(buf, ')');
	igt_assert(p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			       &ut, &st) == 2);
	return (ut + st) * 1000.0 / sysconf(_SC_CLK_TCK);
}

/*
 * The Wayland sink: Weston in dom0 (headless, one 1080p output at 60 Hz,
 * GL on llvmpipe) shows the domU's frames, gdmabuf-kms -t through
 * xen-drm-front at 1080p, each flip waiting for Weston's frame callback.
 * Zero copy (linux-dmabuf: llvmpipe maps the export) against
 * --wayland-buffers=shm (each frame copied into wl_shm, which Weston then
 * uploads into its texture): the guest's flip, its frames per second, the
 * backend's flip-to-presentation latency (of both runs), and the CPU time
 * the backend and Weston spend per frame.
 */
static void bench_displ_compositor(void)
{
	static const struct { const char *mode, *buffers; } modes[] = {
		{ "zero-copy", "--wayland-buffers=dmabuf" }, { "shm", "--wayland-buffers=shm" },
	};
	const char *bin = getenv("GDMABUF_DISPL");
	int domid = gd_domu_id(), flips = 10 * reps;
	char resp[1100], line[512];

	igt_require_f(bin, "no gntdmabuf-displ (built with the release's libxen-dev)\n");
	igt_require_f(domid > 0, "no test domU\n");
	igt_require_f(!gd_domu_call(NULL, 0, "exec test -d /sys/module/drm_xen_front"),
		      "no xen-drm-front in the domU\n");
	igt_require_f(!access("/usr/bin/weston", X_OK),
		      "no Weston in this dom0 (only the trixie targets carry it)\n");
	gd_domu_set_timeout(600);
	setenv("XDG_RUNTIME_DIR", GD_WL_RUNTIME, 1);
	for (unsigned int m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		double med, min, max, fps, present, cpu[2];
		unsigned long long copied;
		unsigned int frames, presented;
		pid_t weston = gd_weston_start(1920, 1080);
		int dev;

		displ_start(bin, (const char *[]){ "--sink=wayland",
			    "--wayland-display=" GD_WL_SOCKET, modes[m].buffers,
			    "--destroy-timeout=2000", NULL });
		dev = displ_attach(domid, 1920, 1080, false);
		/*
		 * Two runs, the second @flips frames longer: the difference of
		 * their CPU times leaves out what a run costs besides its frames.
		 */
		for (int run = 0; run < 2; run++) {
			cpu[run] = cpu_ms(weston) + cpu_ms(displ_pid);
			if (gd_domu_call(resp, sizeof(resp), "exec " DISPL_WAIT_CARD
					 "/bin/gdmabuf-kms -d $c -t %d 2>&1", 10 + run * flips)) {
				igt_assert_eq(system("cat " DISPL_LOG "; tail -n 20 " GD_WESTON_LOG), 0);
				igt_assert_f(false, "gdmabuf-kms: %s\n", resp);
			}
			cpu[run] = cpu_ms(weston) + cpu_ms(displ_pid) - cpu[run];
		}
		igt_assert_f(sscanf(resp, "0 frames=%u %*s %*s %*s %*s flip_us=%lf min=%lf max=%lf fps=%lf",
				    &frames, &med, &min, &max, &fps) == 5,
			     "gdmabuf-kms: %s\n", resp);
		displ_report("displ-compositor-flip", modes[m].mode, "1080p", 2025, med, min, max,
			     flips);
		printf("bench\tinfo\tdispl-compositor-fps-%s\t0\t%.1f\t0\t0\t0\n", modes[m].mode, fps);
		displ_report("displ-compositor-dom0-cpu", modes[m].mode, "1080p", 2025,
			     (cpu[1] - cpu[0]) * 1000 / flips, 0, 0, flips);
		displ_detach(domid, dev);
		igt_assert_eq(sscanf(displ_account(" commits, ", 1, line, sizeof(line)),
				     "%*u commits, %u presented (%lf us from flip to presentation), %*u discarded, %llu bytes copied",
				     &presented, &present, &copied), 3);
		igt_assert_f(presented > 0, "Weston presented no frame\n");
		igt_assert_f(m ? copied > 0 : copied == 0,
			     "%llu bytes copied in mode %s\n", copied, modes[m].mode);
		displ_report("displ-compositor-present", modes[m].mode, "1080p", 2025, present, present,
			     present, presented);
		displ_stop();
		gd_weston_stop(weston);
	}
	gd_domu_set_timeout(60);
}

static void set_param(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY);

	if (fd >= 0) {
		igt_assert_eq_s64(write(fd, value, strlen(value)), (ssize_t)strlen(value));
		close(fd);
	}
}

igt_main
{
	igt_fixture {
		const char *e = getenv("GDMABUF_BENCH_REPS");

		if (e)
			reps = atoi(e);
		igt_assert(reps > 0 && reps <= MAX_REPS);
		dev = gd_open_dev();
		if (gd_upstream())
			prefix = "upstream-";
		card = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
		igt_require_f(card >= 0, "no vgem card: %s\n", strerror(errno));
		/* Room for 256 MiB of self-grants, and four live 256 MiB exports. */
		set_param("/sys/module/xen_gntalloc/parameters/limit", "140000\n");
		set_param("/sys/module/xen_gntdev_dmabuf/parameters/max_pages_per_domain", "0\n");
		set_param("/sys/module/xen_gntdev_dmabuf/parameters/max_pages_per_file", "0\n");
		printf("bench\tinfo\tsource\t0\t%s\t0\t0\t0\n",
		       gd_domu_id() >= 0 ? "domU" : "self");
		clock_info();
	}

	/*
	 * The biggest size last: where the grant table cannot hold it, the
	 * failed attempt must not disturb the other measures.  Static: the
	 * loop spans sigsetjmp() in igt_subtest_f().
	 */
	for (cur = 0; cur < N_SIZES - 1; cur++) {
		igt_describe("Export, the stock gntdev path, one frame of the copy path and the grant-map floor for one buffer size.");
		igt_subtest_f("size-%s", sizes[cur].name)
			bench_size(cur);
	}

	igt_describe("60 frames of a double-buffered 1080p framebuffer: zero copy against the copy path.");
	igt_subtest("frames")
		bench_frames();

	igt_describe("gntdmabuf-displ serving the domU (xen-drm-front at 1080p, the protocol itself at 1080p and 4K): per-flip cost and buffer creation, zero copy against its --copy mode.");
	igt_subtest("displ") {
		gd_require_ours("the display backend runs on this module");
		bench_displ();
	}

	igt_describe("gntdmabuf-displ's KMS sink: the domU's frames scanned out by vkms in dom0 at 1080p, per flip from the guest's request to vkms's completion, zero copy against --copy and against buffers the backend allocates from vkms.");
	igt_subtest("displ-scanout") {
		gd_require_ours("the display backend runs on this module");
		bench_displ_kms();
	}

	igt_describe("gntdmabuf-displ's Wayland sink: the domU's frames shown by Weston in dom0 (headless, GL on llvmpipe) at 1080p, paced by its frame callbacks; zero copy (linux-dmabuf) against wl_shm copies: flips, frames per second, flip-to-presentation latency and dom0's CPU time per frame.");
	igt_subtest("displ-compositor") {
		gd_require_ours("the display backend runs on this module");
		bench_displ_compositor();
	}

	igt_describe("IMP_TO_REFS of a vgem buffer of every size, and its release.");
	igt_subtest("import") {
		for (unsigned int s = 0; s < N_SIZES; s++)
			bench_import(sizes[s].name, sizes[s].pages);
	}

	cur = N_SIZES - 1;
	igt_describe("Export, the stock gntdev path, one frame of the copy path, the grant-map floor and the kernel memory per page for the biggest size.");
	igt_subtest_f("size-%s", sizes[cur].name)
		bench_size(cur);

	igt_fixture {
		close(card);
		close(dev);
	}
}
