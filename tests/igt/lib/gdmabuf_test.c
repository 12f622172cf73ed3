// SPDX-License-Identifier: MIT
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sched.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <drm.h>	/* libdrm-dev: Debian ships the DRM uAPI there */
#include <drm_mode.h>

#include "igt.h"
#include "gdmabuf_test.h"
#include "xs.h"

const char *gd_dev_path(void)
{
	const char *path = getenv("GDMABUF_DEV");

	return path && *path ? path : GD_DEV_PATH;
}

bool gd_upstream(void)
{
	return strcmp(gd_dev_path(), GD_DEV_PATH);
}

void gd_require_ours(const char *what)
{
	igt_require_f(!gd_upstream(), "upstream's gntdev: %s\n", what);
}

int gd_open_dev(void)
{
	int fd = open(gd_dev_path(), O_RDWR | O_CLOEXEC);

	igt_require_f(fd >= 0, "cannot open %s: %s (module not loaded?)\n",
		      gd_dev_path(), strerror(errno));
	return fd;
}

#define GD_GNTDEV_LIMIT "/sys/module/xen_gntdev/parameters/limit"

uint32_t gd_max_pages_per_call(int fd)
{
	struct gdmabuf_info info = { 0 };
	unsigned int limit;
	FILE *f;

	if (!gd_upstream()) {
		do_ioctl(fd, GDMABUF_IOCTL_GET_INFO, &info);
		return info.max_pages_per_call;
	}
	f = fopen(GD_GNTDEV_LIMIT, "r");
	igt_assert_f(f, "cannot open %s: %s\n", GD_GNTDEV_LIMIT, strerror(errno));
	igt_assert_eq(fscanf(f, "%u", &limit), 1);
	fclose(f);
	return limit;
}

int gd_grant_pages(struct gd_grant *g, uint16_t domid, uint32_t count, bool writable)
{
	struct ioctl_gntalloc_alloc_gref *op;
	size_t len = (size_t)count * GD_PAGE_SIZE;
	int ret;

	memset(g, 0, sizeof(*g));
	g->fd = open("/dev/xen/gntalloc", O_RDWR | O_CLOEXEC);
	if (g->fd < 0)
		return -errno;
	op = calloc(1, sizeof(*op) + count * sizeof(uint32_t));
	g->refs = calloc(count, sizeof(uint32_t));
	if (!op || !g->refs) {
		ret = -ENOMEM;
		goto err;
	}
	op->domid = domid;
	op->flags = writable ? GNTALLOC_FLAG_WRITABLE : 0;
	op->count = count;
	if (ioctl(g->fd, IOCTL_GNTALLOC_ALLOC_GREF, op)) {
		ret = -errno;
		goto err;
	}
	g->count = count;
	g->index = op->index;
	memcpy(g->refs, op->gref_ids, count * sizeof(uint32_t));
	g->map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, g->fd, op->index);
	if (g->map == MAP_FAILED) {
		ret = -errno;
		g->map = NULL;
		goto err;
	}
	free(op);
	return 0;
err:
	free(op);
	gd_grant_free(g);
	return ret;
}

void gd_grant_free(struct gd_grant *g)
{
	if (g->map)
		munmap(g->map, (size_t)g->count * GD_PAGE_SIZE);
	/* Closing the file ends the grants (gntalloc defers while mapped). */
	if (g->fd > 0)
		close(g->fd);
	free(g->refs);
	memset(g, 0, sizeof(*g));
}

int gd_map_grants(struct gd_mapping *m, uint32_t domid, const uint32_t *refs,
		  uint32_t count, bool writable)
{
	struct ioctl_gntdev_map_grant_ref *op;
	size_t len = (size_t)count * GD_PAGE_SIZE;
	int ret;

	memset(m, 0, sizeof(*m));
	m->fd = open("/dev/xen/gntdev", O_RDWR | O_CLOEXEC);
	if (m->fd < 0)
		return -errno;
	op = calloc(1, sizeof(*op) + count * sizeof(op->refs[0]));
	if (!op) {
		ret = -ENOMEM;
		goto err;
	}
	op->count = count;
	for (uint32_t i = 0; i < count; i++) {
		op->refs[i].domid = domid;
		op->refs[i].ref = refs[i];
	}
	if (ioctl(m->fd, IOCTL_GNTDEV_MAP_GRANT_REF, op)) {
		ret = -errno;
		goto err;
	}
	m->count = count;
	m->index = op->index;
	m->map = mmap(NULL, len, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED,
		      m->fd, op->index);
	if (m->map == MAP_FAILED) {
		ret = -errno;
		m->map = NULL;
		goto err;
	}
	free(op);
	return 0;
err:
	free(op);
	gd_unmap_grants(m);
	return ret;
}

void gd_unmap_grants(struct gd_mapping *m)
{
	if (m->map)
		munmap(m->map, (size_t)m->count * GD_PAGE_SIZE);
	if (m->fd > 0)
		close(m->fd);
	memset(m, 0, sizeof(*m));
}

static uint32_t pattern_word(uint32_t seed, uint64_t i)
{
	uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ull ^ ((uint64_t)seed << 32 | seed);

	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ull;
	return (uint32_t)(x ^ (x >> 32));
}

void gd_fill_pattern(void *buf, uint32_t count, uint32_t seed)
{
	uint32_t *w = buf;
	uint64_t n = (uint64_t)count * GD_PAGE_SIZE / 4;

	for (uint64_t i = 0; i < n; i++)
		w[i] = pattern_word(seed, i);
}

long gd_check_pattern(const void *buf, uint32_t count, uint32_t seed)
{
	const volatile uint32_t *w = buf;
	uint64_t n = (uint64_t)count * GD_PAGE_SIZE / 4;

	for (uint64_t i = 0; i < n; i++)
		if (w[i] != pattern_word(seed, i))
			return (long)i;
	return -1;
}

uint64_t gd_hash_continue(uint64_t h, const void *buf, size_t n)
{
	const uint8_t *p = buf;

	while (n--)
		h = (h ^ *p++) * 0x100000001b3ULL;
	return h;
}

uint64_t gd_hash(const void *buf, size_t n)
{
	return gd_hash_continue(0xcbf29ce484222325ULL, buf, n);
}

double gd_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int gd_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double gd_median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), gd_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

bool gd_file_has(const char *path, const char *needle, int ms)
{
	char line[512];

	for (int t = 0; t <= ms; t += 100) {
		FILE *f = fopen(path, "r");
		bool found = false;

		while (f && !found && fgets(line, sizeof(line), f))
			found = strstr(line, needle) != NULL;
		if (f)
			fclose(f);
		if (found)
			return true;
		usleep(100000);
	}
	return false;
}

void gd_check_vmap(int buf, void *granter, uint32_t count)
{
	size_t len = (size_t)count * GD_PAGE_SIZE, size;
	uint64_t want = gd_hash(granter, len);
	unsigned long long hash;
	char cmd[32], res[64];

	snprintf(cmd, sizeof(cmd), "%d 0x5a5a5a5a", buf);
	gd_debugfs_cmd("vmap", cmd, res, sizeof(res));
	igt_assert_eq(sscanf(res, "fnv=%llx size=%zu", &hash, &size), 2);
	igt_assert_eq_u64(size, len);
	igt_assert_eq_u64(hash, want);
	for (uint32_t i = 0; i < count; i++)
		((uint32_t *)granter)[i * GD_PAGE_SIZE / 4] ^= 0x5a5a5a5a;
}

void gd_grant_self(struct gd_grant *g, uint32_t count)
{
	int ret = gd_grant_pages(g, gd_self_domid(), count, true);

	igt_require_f(!ret, "cannot grant pages to ourselves: %s\n", strerror(-ret));
}

int gd_export_self(int fd, const struct gd_grant *g, uint32_t count)
{
	int buf = gd_export_refs(fd, gd_self_domid(), count, g->refs, 0);

	igt_assert_f(buf >= 0, "EXP_FROM_REFS failed: %s\n", strerror(-buf));
	return buf;
}

int gd_in_child(void (*fn)(void *), void *arg)
{
	int status;
	pid_t pid = fork();

	igt_assert(pid >= 0);
	if (!pid) {
		fn(arg);
		_exit(0);
	}
	igt_assert_eq(waitpid(pid, &status, 0), pid);
	return status;
}

bool gd_klog_has(const char *needle)
{
	static char buf[1 << 17];
	int n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, sizeof(buf) - 1);

	igt_assert_lte(0, n);
	buf[n] = '\0';
	return strstr(buf, needle);
}

/* The number after @key on a "key value [unit]" line of @path; -1 if none. */
static long long keyed_value(const char *path, const char *key)
{
	FILE *f = fopen(path, "r");
	char line[256], name[64];
	long long val, ret = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %lld", name, &val) == 2 && !strcmp(name, key))
			ret = val;
	fclose(f);
	return ret;
}

long long gd_meminfo_kb(const char *key)
{
	return keyed_value("/proc/meminfo", key);
}

void gd_debugfs_cmd(const char *name, const char *cmd, char *res, size_t size)
{
	char path[128];
	ssize_t n;
	int fd;

	gd_require_ours("no debugfs test commands (our GDMABUF_SELFTEST build)");
	snprintf(path, sizeof(path), "/sys/kernel/debug/gntdev-dmabuf/%s", name);
	fd = open(path, O_RDWR);
	igt_require_f(fd >= 0, "no %s (not a GDMABUF_SELFTEST build)\n", path);
	igt_assert_f(write(fd, cmd, strlen(cmd)) == (ssize_t)strlen(cmd),
		     "%s: \"%s\" failed: %s\n", path, cmd, strerror(errno));
	n = pread(fd, res, size - 1, 0);
	igt_assert_lt_s64(0, n);
	res[n] = '\0';
	close(fd);
}

static void *read_whole(const char *path, size_t *size)
{
	struct stat st;
	void *p;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	igt_assert_f(fd >= 0, "cannot open %s: %s\n", path, strerror(errno));
	igt_assert_eq(fstat(fd, &st), 0);
	p = malloc(st.st_size);
	igt_assert(p);
	igt_assert_eq_s64(read(fd, p, st.st_size), st.st_size);
	close(fd);
	*size = st.st_size;
	return p;
}

#define GD_FWCFG_DRIVER "/sys/bus/platform/drivers/gntdev-dmabuf-selftest-fwcfg"

bool gd_bus_device(void)
{
	struct dirent *e;
	bool found = false;
	DIR *d = opendir(GD_FWCFG_DRIVER);

	while (d && !found && (e = readdir(d)))
		found = strstr(e->d_name, "fw-cfg") != NULL;
	if (d)
		closedir(d);
	return found;
}

void gd_check_device_write(int fd, uint32_t flags, uint32_t count)
{
	const char *path = getenv("GDMABUF_FWCFG_FILE");
	size_t len = (size_t)count * GD_PAGE_SIZE, size;
	char cmd[32], res[160], unmap_res[32];
	unsigned int pages, bus;
	uint64_t want, mapped;
	int domu, h, buf, n;
	uint32_t *refs;
	void *file;

	gd_require_ours("no fw_cfg test device (our selftest build drives it through debugfs)");
	igt_require_f(path, "no fw_cfg file: the harness gives QEMU's fw_cfg device one on arm64, where it is a device-tree device of dom0\n");
	igt_require_f(gd_bus_device(), "no device bound to %s (not a GDMABUF_SELFTEST build, or no fw_cfg node)\n",
		      GD_FWCFG_DRIVER);
	domu = gd_require_domu();
	file = read_whole(path, &size);
	igt_assert_lte_u64(len, size);
	want = gd_hash(file, len);
	free(file);

	refs = calloc(count, sizeof(*refs));
	igt_assert(refs);
	h = gd_domu_grant(0, count, 0x3c, refs);
	buf = gd_export_refs(fd, domu, count, refs, flags);
	igt_assert_f(buf >= 0, "export failed: %s\n", strerror(-buf));
	free(refs);
	igt_assert_neq_u64(gd_domu_hash(h), want);

	snprintf(cmd, sizeof(cmd), "map %d", buf);
	gd_debugfs_cmd("devdma", cmd, res, sizeof(res));
	/* still mapped, no sync yet: the device's bytes are in the domU's pages */
	mapped = gd_domu_hash(h);
	/* unmapped before any assertion, so that a failure leaves nothing held */
	gd_debugfs_cmd("devdma", "unmap", unmap_res, sizeof(unmap_res));
	igt_info("fw_cfg device: %s", res);
	igt_assert(strstr(res, " pages="));
	n = sscanf(strstr(res, " pages="), " pages=%u bus=%u", &pages, &bus);
	igt_assert_eq(n, 2);
	igt_assert_eq(pages, count);
	igt_assert_f(bus == count, "%u of %u pages have their bus frame as DMA address\n",
		     bus, count);
	igt_assert_f(mapped == want, "the device's bytes are not in the domU's pages before the sync (a bounce buffer?)\n");
	igt_assert_eq_u64(gd_domu_hash(h), want);

	close(buf);
	n = gd_wait_released(fd, buf, 5000);
	igt_assert_f(!n || n == -ENOENT, "WAIT_RELEASED: %s\n", strerror(-n));
	gd_domu_free(h);
}

int gd_vgem_dmabuf(int card, uint32_t pages)
{
	struct drm_mode_create_dumb dumb = { .width = 1024, .height = pages, .bpp = 32 };
	struct drm_prime_handle prime = { .flags = DRM_CLOEXEC | DRM_RDWR };

	do_ioctl(card, DRM_IOCTL_MODE_CREATE_DUMB, &dumb);
	igt_assert_eq_u64(dumb.size, (uint64_t)pages * GD_PAGE_SIZE);
	prime.handle = dumb.handle;
	do_ioctl(card, DRM_IOCTL_PRIME_HANDLE_TO_FD, &prime);
	/* the dma-buf keeps the object alive */
	gd_gem_close(card, dumb.handle);
	return prime.fd;
}

int gd_open_vgem(void)
{
	int card = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);

	igt_require_f(card >= 0, "no /dev/dri/card0 (vgem not loaded)\n");
	return card;
}

int gd_vkms_open(char *path, size_t size)
{
	struct dirent *e;
	int card = -1;
	DIR *dir;

	igt_require_f(!system("modprobe vkms 2> /dev/null"),
		      "no vkms module in this dom0 (the harness builds it from linux-source)\n");
	dir = opendir("/dev/dri");
	igt_assert(dir);
	while (card < 0 && (e = readdir(dir))) {
		char name[16] = "", p[300];
		struct drm_version v = { .name = name, .name_len = sizeof(name) - 1 };
		int fd;

		if (strncmp(e->d_name, "card", 4))
			continue;
		snprintf(p, sizeof(p), "/dev/dri/%s", e->d_name);
		fd = open(p, O_RDWR | O_CLOEXEC);
		if (fd >= 0 && !ioctl(fd, DRM_IOCTL_VERSION, &v) && !strcmp(name, "vkms")) {
			card = fd;
			if (path)
				snprintf(path, size, "%s", p);
		} else if (fd >= 0) {
			close(fd);
		}
	}
	closedir(dir);
	igt_assert_f(card >= 0, "vkms loaded but no card of it\n");
	return card;
}

void gd_vkms_unload(void)
{
	/* Back as before: other tests take vgem for card0. */
	igt_assert_eq(system("rmmod vkms"), 0);
}

uint32_t gd_prime_import(int card, int buf)
{
	struct drm_prime_handle prime = { .fd = buf };

	do_ioctl(card, DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime);
	return prime.handle;
}

void gd_gem_close(int card, uint32_t handle)
{
	struct drm_gem_close gclose = { .handle = handle };

	do_ioctl(card, DRM_IOCTL_GEM_CLOSE, &gclose);
}

int gd_wait_released(int fd, int buf, uint32_t ms)
{
	struct ioctl_gntdev_dmabuf_exp_wait_released w = { .fd = buf, .wait_to_ms = ms };

	return igt_ioctl(fd, IOCTL_GNTDEV_DMABUF_EXP_WAIT_RELEASED, &w) ? -errno : 0;
}

bool gd_pv_domain(void)
{
	char buf[16] = "";
	FILE *f = fopen("/sys/hypervisor/guest_type", "r");

	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
	}
	return !strncmp(buf, "PV", 2) && buf[2] != 'H';
}

int gd_export_refs(int fd, uint32_t domid, uint32_t count, const uint32_t *refs,
		   uint32_t flags)
{
	struct ioctl_gntdev_dmabuf_exp_from_refs *op;
	int ret;

	op = calloc(1, sizeof(*op) + (size_t)count * sizeof(uint32_t));
	if (!op)
		return -ENOMEM;
	op->flags = flags;
	op->domid = domid;
	op->count = count;
	memcpy(op->refs, refs, (size_t)count * sizeof(uint32_t));
	ret = ioctl(fd, IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS, op) ? -errno : (int)op->fd;
	free(op);
	return ret;
}

uint32_t gd_self_domid(void)
{
	char buf[64] = "";
	uint32_t domid = 0;
	struct gd_xs *xs;
	FILE *f;

	/*
	 * dom0 may run without xenstored (arm64 test bed), and a xenstore
	 * request then never returns: ask xenfs first.
	 */
	f = fopen("/proc/xen/capabilities", "r");
	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
		if (strstr(buf, "control_d"))
			return 0;
	}
	xs = gd_xs_open();
	if (xs && gd_xs_read(xs, "domid", buf, sizeof(buf)) > 0)
		domid = strtoul(buf, NULL, 10);
	gd_xs_close(xs);
	return domid;
}

long long gd_stat(const char *name)
{
	return keyed_value("/sys/kernel/debug/gntdev-dmabuf/stats", name);
}

/* The domU's current id: fault tests destroy and recreate it. */
static int domu_cached = -2;

int gd_domu_id(void)
{
	const char *s = getenv("GDMABUF_DOMU");
	FILE *p;
	int id = -1;

	if (!s || !*s)
		return -1;
	if (domu_cached != -2)
		return domu_cached;
	p = popen("xl domid " GD_DOMU_NAME " 2>/dev/null", "r");
	if (p) {
		if (fscanf(p, "%d", &id) != 1)
			id = -1;
		pclose(p);
	}
	domu_cached = id;
	return id;
}

bool gd_domain_exists(int domid)
{
	char line[256];
	bool found = false;
	FILE *p = popen("xl list 2>/dev/null", "r");

	igt_assert(p);
	while (fgets(line, sizeof(line), p)) {
		char name[128];
		int id;

		if (sscanf(line, "%127s %d", name, &id) == 2 && id == domid)
			found = true;
	}
	pclose(p);
	return found;
}

void gd_domu_destroy(void)
{
	int domid = gd_require_domu();

	igt_assert_eq(system("xl destroy " GD_DOMU_NAME " > /dev/null 2>&1"), 0);
	igt_info("domU %d destroyed\n", domid);
	domu_cached = -1;
}

int gd_domu_start(void)
{
	char path[128], buf[32];
	struct gd_xs *xs;
	int domid, timeout;

	igt_assert_eq(system("xl create -q " GD_DOMU_CFG " > /dev/null 2>&1"), 0);
	domu_cached = -2;
	domid = gd_domu_id();
	igt_assert_lt(0, domid);
	xs = gd_xs_open();
	igt_assert(xs);
	snprintf(path, sizeof(path), "/local/domain/%d/data/agent", domid);
	/* The harness says how long a domU may take to boot (GD_DOMU_TIMEOUT, seconds). */
	timeout = getenv("GD_DOMU_TIMEOUT") ? atoi(getenv("GD_DOMU_TIMEOUT")) : 60;
	for (int i = 0; i < 4 * timeout; i++) {
		if (gd_xs_read(xs, path, buf, sizeof(buf)) > 0 && !strcmp(buf, "ready"))
			break;
		usleep(250000);
	}
	igt_assert_f(gd_xs_read(xs, path, buf, sizeof(buf)) > 0 && !strcmp(buf, "ready"),
		     "the new domU %d did not start its agent\n", domid);
	gd_xs_close(xs);
	igt_info("domU restarted as %d\n", domid);
	return domid;
}

int gd_require_domu(void)
{
	int domid = gd_domu_id();

	igt_require_f(domid > 0, "no test domU (the harness did not start one: see harness@domu-start)\n");
	return domid;
}

static int gd_domu_timeout = 60;

void gd_domu_set_timeout(int seconds)
{
	gd_domu_timeout = seconds;
}

int gd_domu_call(char *resp, size_t size, const char *fmt, ...)
{
	static unsigned int seq;
	char cmd[3900], path[128], buf[4096];
	struct timespec start, now;
	int domid = gd_require_domu(), n, ret = -ETIMEDOUT;
	struct gd_xs *xs;
	va_list ap;

	xs = gd_xs_open();
	igt_assert_f(xs, "cannot reach xenstore: %s\n", strerror(errno));

	seq = seq * 7 + (unsigned int)getpid() + (unsigned int)time(NULL);
	n = snprintf(cmd, sizeof(cmd), "%u ", seq);
	va_start(ap, fmt);
	vsnprintf(cmd + n, sizeof(cmd) - n, fmt, ap);
	va_end(ap);

	snprintf(path, sizeof(path), "/local/domain/%d/data/cmd", domid);
	igt_assert_eq(gd_xs_write(xs, path, cmd), 0);
	snprintf(path, sizeof(path), "/local/domain/%d/data/resp", domid);

	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		char *end;

		if (gd_xs_read(xs, path, buf, sizeof(buf)) > 0 &&
		    strtoul(buf, &end, 10) == seq && *end == ' ') {
			char *payload = end + 1;

			ret = strncmp(payload, "ok", 2) ? -EIO : 0;
			payload += strcspn(payload, " ");
			payload += *payload == ' ';
			if (resp)
				snprintf(resp, size, "%s", payload);
			break;
		}
		usleep(5000);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec - start.tv_sec < gd_domu_timeout);
	gd_xs_close(xs);
	igt_assert_f(ret != -ETIMEDOUT, "domU %d did not answer \"%s\"\n", domid, cmd);
	return ret;
}

void gd_domu_check(int h, uint32_t seed)
{
	char resp[64];

	igt_assert_f(!gd_domu_call(resp, sizeof(resp), "check %d 0x%x", h, seed),
		     "the domU's pages of handle %d do not hold pattern 0x%x: %s\n", h, seed, resp);
}

uint64_t gd_domu_hash(int h)
{
	unsigned long long hash;
	char resp[64];

	igt_assert_f(!gd_domu_call(resp, sizeof(resp), "hash %d", h),
		     "the domU cannot hash handle %d: %s\n", h, resp);
	igt_assert_eq(sscanf(resp, "%llx", &hash), 1);
	return hash;
}

void gd_domu_fill(int h, uint32_t seed)
{
	char resp[64];

	igt_assert_f(!gd_domu_call(resp, sizeof(resp), "fill %d 0x%x", h, seed),
		     "the domU cannot fill handle %d: %s\n", h, resp);
}

void gd_domu_free(int h)
{
	char resp[64];

	igt_assert_f(!gd_domu_call(resp, sizeof(resp), "free %d", h),
		     "the domU cannot free handle %d: %s\n", h, resp);
}

int gd_domu_grant(uint32_t domid, uint32_t count, uint32_t seed, uint32_t *refs)
{
	static char resp[4096];
	uint32_t got = 0;
	char *sp;
	int h;

	igt_assert_f(!gd_domu_call(resp, sizeof(resp), "grant %u %u %u", domid, count, seed),
		     "domU cannot grant %u pages: %s\n", count, resp);
	h = atoi(resp);
	sp = strchr(resp, ' ');
	igt_assert(h >= 0 && sp);
	if (strcmp(sp + 1, "more")) {
		igt_assert_eq(gd_parse_refs(sp + 1, refs, count), count);
		return h;
	}
	while (got < count) {
		uint32_t next;

		igt_assert_eq(gd_domu_call(resp, sizeof(resp), "refs %d %u", h, got), 0);
		next = strtoul(resp, &sp, 10);
		igt_assert(next > got && next <= count && *sp == ' ');
		igt_assert_eq(gd_parse_refs(sp + 1, refs + got, next - got), next - got);
		got = next;
	}
	return h;
}

uint32_t gd_parse_refs(const char *s, uint32_t *refs, uint32_t max)
{
	uint32_t n = 0;

	while (*s && n < max) {
		unsigned long first, last;
		char *end;

		first = strtoul(s, &end, 10);
		last = first;
		if (*end == '-')
			last = strtoul(end + 1, &end, 10);
		while (first <= last && n < max)
			refs[n++] = first++;
		if (*end != ',')
			break;
		s = end + 1;
	}
	return n;
}

void gd_format_refs(char *buf, size_t size, const uint32_t *refs, uint32_t count)
{
	size_t off = 0;
	uint32_t i = 0;

	buf[0] = '\0';
	while (i < count && off < size) {
		uint32_t run = 1;

		while (i + run < count && refs[i + run] == refs[i] + run)
			run++;
		if (run < 3)
			run = 1;
		off += snprintf(buf + off, size - off, "%s%u", i ? "," : "", refs[i]);
		if (run > 1 && off < size)
			off += snprintf(buf + off, size - off, "-%u", refs[i] + run - 1);
		i += run;
	}
}

void gd_print_file(const char *path)
{
	char line[512];
	FILE *f = fopen(path, "r");

	while (f && fgets(line, sizeof(line), f))
		igt_info("  %s", line);
	if (f)
		fclose(f);
}

/*
 * Weston runs without /dev/dri: given vgem's card, Mesa renders with
 * kms_swrast on vgem, which cannot map an imported dma-buf and crashes on
 * the first one (testing.rst); without a DRM device llvmpipe imports by
 * mapping the dma-buf, as on a dom0 without a GPU.
 */
pid_t gd_weston_start(int width, int height)
{
	char w[32], h[32];
	pid_t pid;
	int fd;

	igt_require_f(!access("/usr/bin/weston", X_OK),
		      "no Weston in this dom0: only the trixie targets carry it, as bookworm's Weston 10 cannot import a dma-buf without a GPU (testing.rst)\n");
	igt_assert(!system("rm -rf " GD_WL_RUNTIME " && mkdir -m 700 -p " GD_WL_RUNTIME));
	snprintf(w, sizeof(w), "--width=%d", width);
	snprintf(h, sizeof(h), "--height=%d", height);
	pid = fork();
	igt_assert(pid >= 0);
	if (!pid) {
		fd = open(GD_WESTON_LOG, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 1);
		dup2(fd, 2);
		if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    (!access("/dev/dri", F_OK) && mount("tmpfs", "/dev/dri", "tmpfs", 0, NULL))) {
			perror("hiding /dev/dri");
			_exit(126);
		}
		setenv("XDG_RUNTIME_DIR", GD_WL_RUNTIME, 1);
		if (getenv("GDMABUF_WAYLAND_DEBUG"))
			setenv("WAYLAND_DEBUG", "server", 1);
		execl("/usr/bin/weston", "weston", "--backend=headless", "--renderer=gl",
		      "--shell=kiosk", w, h, "--refresh-rate=60000", "--idle-time=0", "--debug",
		      "--socket=" GD_WL_SOCKET, (char *)NULL);
		_exit(127);
	}
	/* llvmpipe compiles its shaders at start: slow under TCG. */
	if (!gd_file_has(GD_WESTON_LOG, "kiosk-shell.so'", 120000)) {
		gd_print_file(GD_WESTON_LOG);
		gd_weston_stop(pid);
		igt_assert_f(false, "Weston did not start\n");
	}
	for (int i = 0; i < 100 && access(GD_WL_RUNTIME "/" GD_WL_SOCKET, F_OK); i++)
		usleep(100000);
	if (access(GD_WL_RUNTIME "/" GD_WL_SOCKET, F_OK)) {
		gd_weston_stop(pid);
		igt_assert_f(false, "Weston has no socket\n");
	}
	return pid;
}

void gd_weston_stop(pid_t pid)
{
	int st, i;

	kill(pid, SIGTERM);
	for (i = 0; i < 100 && waitpid(pid, &st, WNOHANG) == 0; i++)
		usleep(100000);
	if (i == 100) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
}
