// SPDX-License-Identifier: MIT
/*
 * gntdmabuf: inspect and exercise gntdev-dmabuf from the command line.
 *
 *   gntdmabuf info                      what kernel support there is
 *   gntdmabuf selftest                  prove an installation end to end
 *   gntdmabuf export DOMID REF...       export grants and hold the dma-buf
 *   gntdmabuf import DOMID              grant a new DRM dumb buffer or an
 *                                       inherited dma-buf fd to DOMID
 *
 * Exit status: 0 success, 1 failure, 2 usage error, 3 no kernel support.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xen/gntalloc.h>

#include "gntdmabuf.h"

#define EXIT_USAGE	2
#define EXIT_NOSUPPORT	3
#define PAGE		4096u
#define STATS_PATH	"/sys/kernel/debug/gntdev-dmabuf/stats"
#define PARAMS_PATH	"/sys/module/xen_gntdev_dmabuf/parameters/"

/* The DRM uAPI bits used here, so that the tool needs no libdrm headers. */
struct gd_drm_prime_handle { uint32_t handle, flags; int32_t fd; };
struct gd_drm_gem_close { uint32_t handle, pad; };
struct gd_drm_create_dumb {
	uint32_t height, width, bpp, flags, handle, pitch;
	uint64_t size;
};
#define GD_DRM_IOCTL_GEM_CLOSE		_IOW('d', 0x09, struct gd_drm_gem_close)
#define GD_DRM_IOCTL_PRIME_HANDLE_TO_FD	_IOWR('d', 0x2d, struct gd_drm_prime_handle)
#define GD_DRM_IOCTL_PRIME_FD_TO_HANDLE	_IOWR('d', 0x2e, struct gd_drm_prime_handle)
#define GD_DRM_IOCTL_MODE_CREATE_DUMB	_IOWR('d', 0xB2, struct gd_drm_create_dumb)
#define GD_DRM_CLOEXEC			O_CLOEXEC
#define GD_DRM_RDWR			O_RDWR

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fputs("Usage: gntdmabuf COMMAND [OPTIONS]\n"
	      "\n"
	      "Commands:\n"
	      "  info                         show the kernel support, limits and live buffers\n"
	      "  selftest [-n PAGES]          prove the installation works, step by step\n"
	      "  export [--wc|--coherent] [--hold SEC] DOMID REF...\n"
	      "                               export grants of DOMID as a dma-buf, hold it\n"
	      "                               (SEC seconds, 0 = until interrupted), then wait\n"
	      "                               for every importer to let go\n"
	      "  import [--fd FD | --drm DEV --pages N] [--hold SEC] DOMID\n"
	      "                               grant a dma-buf to DOMID and print the refs\n"
	      "  help                         this text\n"
	      "\n"
	      "Exit status: 0 success, 1 failure, 2 usage error, 3 no kernel support.\n"
	      "See gntdmabuf(1).\n", f);
}

static int open_handle(struct gntdmabuf **h)
{
	int ret = gntdmabuf_open(h, 0);

	if (ret) {
		fprintf(stderr, "gntdmabuf: %s\n", gntdmabuf_strerror(ret));
		return ret == -ENODEV || ret == -EOPNOTSUPP ? EXIT_NOSUPPORT : EXIT_FAILURE;
	}
	return 0;
}

static void print_file(const char *title, const char *path)
{
	char line[256];
	FILE *f = fopen(path, "r");

	if (!f) {
		printf("%s: not readable (%s; mount debugfs and run as root)\n", title, path);
		return;
	}
	printf("%s:\n", title);
	while (fgets(line, sizeof(line), f))
		printf("  %s", line);
	fclose(f);
}

static int cmd_info(void)
{
	static const char *const capnames[] = {
		"export", "export-cpu", "release-poll", "import", "dma-alloc",
	};
	struct gntdmabuf_info info;
	struct gntdmabuf *h;
	int ret = open_handle(&h);

	if (ret)
		return ret;
	ret = gntdmabuf_get_info(h, &info);
	if (ret) {
		fprintf(stderr, "gntdmabuf: GET_INFO failed: %s\n", gntdmabuf_strerror(ret));
		gntdmabuf_close(h);
		return EXIT_FAILURE;
	}
	printf("device: %s (%s)\n", info.device,
	       info.backend == GNTDMABUF_BACKEND_MODULE ? "xen-gntdev-dmabuf module" :
	       "upstream gntdev with dma-buf support");
	if (info.backend == GNTDMABUF_BACKEND_MODULE) {
		printf("module version: %s\nABI version: %u\n", info.module_version,
		       info.abi_version);
		printf("limits: %u pages per call, %u per file, %u per domain (0 = none)\n",
		       info.max_pages_per_call, info.max_pages_per_file,
		       info.max_pages_per_domain);
	}
	printf("capabilities:");
	for (unsigned int i = 0; i < sizeof(capnames) / sizeof(capnames[0]); i++)
		if (info.caps & (1u << i))
			printf(" %s", capnames[i]);
	printf("\n");
	if (info.backend == GNTDMABUF_BACKEND_MODULE)
		print_file("live state", STATS_PATH);
	gntdmabuf_close(h);
	return 0;
}

/* ---- selftest ---------------------------------------------------------- */

static int failures;

static void step(const char *name, int ret, const char *detail)
{
	if (ret > 0)
		printf("SKIP  %-28s %s\n", name, detail);
	else if (ret == 0)
		printf("PASS  %-28s %s\n", name, detail);
	else {
		printf("FAIL  %-28s %s\n", name, detail);
		failures++;
	}
}

static uint32_t pattern(uint32_t seed, uint64_t i)
{
	return (uint32_t)(i * 2654435761u) ^ seed;
}

static void fill(void *p, uint32_t pages, uint32_t seed)
{
	uint32_t *w = p;

	for (uint64_t i = 0; i < (uint64_t)pages * PAGE / 4; i++)
		w[i] = pattern(seed, i);
}

static int check(const void *p, uint32_t pages, uint32_t seed)
{
	const volatile uint32_t *w = p;

	for (uint64_t i = 0; i < (uint64_t)pages * PAGE / 4; i++)
		if (w[i] != pattern(seed, i))
			return -1;
	return 0;
}

/* The selftest grants to itself, which needs its own domid: dom0 only. */
static int is_dom0(void)
{
	char buf[64] = "";
	FILE *f = fopen("/proc/xen/capabilities", "r");

	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
	}
	return strstr(buf, "control_d") != NULL;
}

static uint32_t self_domid(void)
{
	return 0;
}

static int open_drm(void)
{
	char path[32];
	int fd;

	for (int i = 0; i < 8; i++) {
		snprintf(path, sizeof(path), "/dev/dri/card%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd >= 0)
			return fd;
	}
	return -1;
}

static int cmd_selftest(uint32_t pages)
{
	struct ioctl_gntalloc_alloc_gref *alloc = NULL;
	struct ioctl_gntalloc_dealloc_gref dealloc = { 0 };
	struct gntdmabuf_info info;
	struct gntdmabuf *h;
	char msg[160];
	uint8_t *gmap = MAP_FAILED, *emap;
	uint32_t *refs = NULL;
	int ga = -1, buf = -1, card, ret;

	ret = open_handle(&h);
	step("open kernel support", ret ? -1 : 0, ret ? "no usable device" : "");
	if (ret)
		return ret;
	gntdmabuf_get_info(h, &info);
	snprintf(msg, sizeof(msg), "%s, module %s", info.device,
		 info.module_version[0] ? info.module_version : "(upstream gntdev)");
	step("query capabilities", 0, msg);

	if (!is_dom0()) {
		step("running in dom0", -1, "/proc/xen/capabilities lacks control_d (mount xenfs?)");
		goto out;
	}

	/* 1. grant pages to ourselves through the stock gntalloc */
	alloc = calloc(1, sizeof(*alloc) + pages * sizeof(uint32_t));
	ga = open("/dev/xen/gntalloc", O_RDWR | O_CLOEXEC);
	if (!alloc || ga < 0) {
		step("grant pages to self", -1, "cannot open /dev/xen/gntalloc (modprobe xen-gntalloc)");
		goto out;
	}
	alloc->domid = self_domid();
	alloc->flags = GNTALLOC_FLAG_WRITABLE;
	alloc->count = pages;
	if (ioctl(ga, IOCTL_GNTALLOC_ALLOC_GREF, alloc)) {
		snprintf(msg, sizeof(msg), "gntalloc: %s", strerror(errno));
		step("grant pages to self", -1, msg);
		goto out;
	}
	gmap = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, ga, alloc->index);
	if (gmap == MAP_FAILED) {
		step("grant pages to self", -1, "mmap of gntalloc pages failed");
		goto out;
	}
	refs = alloc->gref_ids;
	fill(gmap, pages, 0x5e1f);
	snprintf(msg, sizeof(msg), "%u pages", pages);
	step("grant pages to self", 0, msg);

	/* 2. export them */
	ret = gntdmabuf_export(h, self_domid(), refs, pages, 0, &buf);
	step("export grants as a dma-buf", ret, ret ? gntdmabuf_strerror(ret) : "");
	if (ret)
		goto out;

	/* 3. CPU view of the export */
	if (info.caps & GNTDMABUF_CAP_EXPORT_CPU) {
		emap = mmap(NULL, pages * PAGE, PROT_READ, MAP_SHARED, buf, 0);
		ret = emap == MAP_FAILED ? -1 : check(emap, pages, 0x5e1f);
		step("mmap shows the granter's data", ret, ret ? "content differs" : "");
		if (emap != MAP_FAILED)
			munmap(emap, pages * PAGE);
	} else {
		step("mmap shows the granter's data", 1, "kernel support has no CPU access");
	}

	/* 4. a DRM driver imports it */
	card = open_drm();
	if (card >= 0) {
		struct gd_drm_prime_handle prime = { .fd = buf };
		struct gd_drm_gem_close gclose = { 0 };

		ret = ioctl(card, GD_DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime) ? -1 : 0;
		step("DRM PRIME import", ret, ret ? strerror(errno) : "/dev/dri imported it");
		if (!ret) {
			gclose.handle = prime.handle;
			ioctl(card, GD_DRM_IOCTL_GEM_CLOSE, &gclose);
		}
	} else {
		step("DRM PRIME import", 1, "no /dev/dri/card* (modprobe vgem to test this)");
	}

	/* 5. release */
	close(buf);
	ret = gntdmabuf_wait_released(h, buf, 5000);
	step("release after the last holder", ret == -ENOENT || !ret ? 0 : -1,
	     ret == -ENOENT || !ret ? "" : gntdmabuf_strerror(ret));

	/* 6. import a DRM buffer back to ourselves */
	if (card >= 0 && (info.caps & GNTDMABUF_CAP_IMPORT)) {
		struct gd_drm_create_dumb dumb = { .width = 1024, .height = pages, .bpp = 32 };
		struct gd_drm_prime_handle prime = { .flags = GD_DRM_CLOEXEC | GD_DRM_RDWR };
		uint32_t *irefs = calloc(pages, sizeof(uint32_t));

		if (!irefs || ioctl(card, GD_DRM_IOCTL_MODE_CREATE_DUMB, &dumb)) {
			step("import a DRM buffer", 1, "the DRM driver cannot create dumb buffers");
		} else {
			prime.handle = dumb.handle;
			ret = ioctl(card, GD_DRM_IOCTL_PRIME_HANDLE_TO_FD, &prime) ? -errno : 0;
			if (!ret)
				ret = gntdmabuf_import(h, prime.fd, self_domid(), irefs, pages);
			step("import a DRM buffer", ret, ret ? gntdmabuf_strerror(ret) : "");
			if (!ret) {
				ret = gntdmabuf_import_release(h, prime.fd);
				step("release the import", ret, ret ? gntdmabuf_strerror(ret) : "");
			}
			if (prime.fd > 0)
				close(prime.fd);
		}
		free(irefs);
	} else {
		step("import a DRM buffer", 1, card < 0 ? "no DRM device" : "no import support");
	}
	if (card >= 0)
		close(card);

out:
	if (gmap != MAP_FAILED)
		munmap(gmap, pages * PAGE);
	if (refs) {
		dealloc.index = alloc->index;
		dealloc.count = pages;
		ioctl(ga, IOCTL_GNTALLOC_DEALLOC_GREF, &dealloc);
	}
	if (ga >= 0)
		close(ga);
	free(alloc);
	gntdmabuf_close(h);
	printf("%s\n", failures ? "selftest FAILED" : "selftest passed");
	return failures ? EXIT_FAILURE : 0;
}

/* ---- export / import ---------------------------------------------------- */

static void hold(unsigned int seconds)
{
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	for (unsigned int t = 0; !stop && (!seconds || t < seconds * 10); t++)
		usleep(100000);
}

static int parse_u32(const char *s, uint32_t *v)
{
	char *end;
	unsigned long x;

	errno = 0;
	x = strtoul(s, &end, 0);
	if (errno || *end || end == s || x > UINT32_MAX)
		return -1;
	*v = (uint32_t)x;
	return 0;
}

static int cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "wc", no_argument, NULL, 'w' },
		{ "coherent", no_argument, NULL, 'c' },
		{ "hold", required_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	uint32_t domid, flags = 0, seconds = 0, *refs;
	struct gntdmabuf *h;
	int opt, ret, buf, n;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'w')
			flags |= GNTDMABUF_EXPORT_WC;
		else if (opt == 'c')
			flags |= GNTDMABUF_EXPORT_COHERENT;
		else if (opt == 'H' && !parse_u32(optarg, &seconds))
			continue;
		else
			return EXIT_USAGE;
	}
	n = argc - optind - 1;
	if (n < 1 || parse_u32(argv[optind], &domid)) {
		fputs("gntdmabuf export: need DOMID and at least one REF\n", stderr);
		return EXIT_USAGE;
	}
	refs = calloc(n, sizeof(*refs));
	if (!refs)
		return EXIT_FAILURE;
	for (int i = 0; i < n; i++) {
		if (parse_u32(argv[optind + 1 + i], &refs[i])) {
			fprintf(stderr, "gntdmabuf export: bad grant reference '%s'\n",
				argv[optind + 1 + i]);
			free(refs);
			return EXIT_USAGE;
		}
	}
	ret = open_handle(&h);
	if (ret) {
		free(refs);
		return ret;
	}
	ret = gntdmabuf_export(h, domid, refs, n, flags, &buf);
	free(refs);
	if (ret) {
		fprintf(stderr, "gntdmabuf export: %s\n", gntdmabuf_strerror(ret));
		gntdmabuf_close(h);
		return EXIT_FAILURE;
	}
	printf("exported %d pages of domain %u as dma-buf fd %d (pid %d)\n", n, domid, buf,
	       (int)getpid());
	fflush(stdout);
	hold(seconds);
	close(buf);
	ret = gntdmabuf_wait_released(h, buf, 10000);
	printf("%s\n", ret == -ETIMEDOUT ? "still held by an importer after 10 s" : "released");
	gntdmabuf_close(h);
	return ret == -ETIMEDOUT ? EXIT_FAILURE : 0;
}

static int cmd_import(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "fd", required_argument, NULL, 'f' },
		{ "drm", required_argument, NULL, 'd' },
		{ "pages", required_argument, NULL, 'p' },
		{ "hold", required_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	uint32_t domid, pages = 1, seconds = 0, fdarg = 0, *refs;
	const char *drm = NULL;
	struct gntdmabuf *h;
	int opt, ret, buf = -1;
	off_t size;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'f' && !parse_u32(optarg, &fdarg))
			buf = (int)fdarg;
		else if (opt == 'd')
			drm = optarg;
		else if (opt == 'p' && !parse_u32(optarg, &pages) && pages)
			continue;
		else if (opt == 'H' && !parse_u32(optarg, &seconds))
			continue;
		else
			return EXIT_USAGE;
	}
	if (argc - optind != 1 || parse_u32(argv[optind], &domid) || (buf < 0) == !drm) {
		fputs("gntdmabuf import: need DOMID and one of --fd FD or --drm DEV\n", stderr);
		return EXIT_USAGE;
	}
	if (drm) {
		struct gd_drm_create_dumb dumb = { .width = 1024, .height = pages, .bpp = 32 };
		struct gd_drm_prime_handle prime = { .flags = GD_DRM_CLOEXEC | GD_DRM_RDWR };
		int card = open(drm, O_RDWR | O_CLOEXEC);

		if (card < 0 || ioctl(card, GD_DRM_IOCTL_MODE_CREATE_DUMB, &dumb)) {
			fprintf(stderr, "gntdmabuf import: cannot allocate from %s: %s\n", drm,
				strerror(errno));
			return EXIT_FAILURE;
		}
		prime.handle = dumb.handle;
		if (ioctl(card, GD_DRM_IOCTL_PRIME_HANDLE_TO_FD, &prime)) {
			fprintf(stderr, "gntdmabuf import: PRIME export from %s failed: %s\n",
				drm, strerror(errno));
			return EXIT_FAILURE;
		}
		/* the dma-buf keeps the buffer; the DRM file is not needed */
		close(card);
		buf = prime.fd;
	}
	size = lseek(buf, 0, SEEK_END);
	if (size <= 0 || size % PAGE) {
		fprintf(stderr, "gntdmabuf import: fd %d is not a page-sized dma-buf\n", buf);
		return EXIT_FAILURE;
	}
	pages = (uint32_t)(size / PAGE);
	refs = calloc(pages, sizeof(*refs));
	ret = refs ? open_handle(&h) : EXIT_FAILURE;
	if (ret) {
		free(refs);
		return ret;
	}
	ret = gntdmabuf_import(h, buf, domid, refs, pages);
	if (ret) {
		fprintf(stderr, "gntdmabuf import: %s\n", gntdmabuf_strerror(ret));
		free(refs);
		gntdmabuf_close(h);
		return EXIT_FAILURE;
	}
	for (uint32_t i = 0; i < pages; i++)
		printf("%s%u", i ? "," : "", refs[i]);
	printf("\n");
	fflush(stdout);
	hold(seconds);
	ret = gntdmabuf_import_release(h, buf);
	free(refs);
	gntdmabuf_close(h);
	return ret ? EXIT_FAILURE : 0;
}

int main(int argc, char **argv)
{
	uint32_t pages = 16;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "info"))
		return argc == 2 ? cmd_info() : EXIT_USAGE;
	if (!strcmp(argv[1], "selftest")) {
		if (argc == 4 && !strcmp(argv[2], "-n") && !parse_u32(argv[3], &pages) &&
		    pages && pages <= 1024)
			return cmd_selftest(pages);
		if (argc != 2) {
			fputs("gntdmabuf selftest: the only option is -n PAGES (1 to 1024)\n", stderr);
			return EXIT_USAGE;
		}
		return cmd_selftest(pages);
	}
	if (!strcmp(argv[1], "export"))
		return cmd_export(argc - 1, argv + 1);
	if (!strcmp(argv[1], "import"))
		return cmd_import(argc - 1, argv + 1);
	fprintf(stderr, "gntdmabuf: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
