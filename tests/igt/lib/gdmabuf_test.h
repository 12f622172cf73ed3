/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the gntdev-dmabuf tests: the device, the stock Xen
 * grant devices (gntalloc to grant, gntdev to map), page patterns, the
 * module's debugfs counters and the test domU's command channel.
 */
#ifndef GDMABUF_TEST_H
#define GDMABUF_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* <xen/gntdev.h> uses these Xen types without defining them. */
typedef uint32_t grant_ref_t;
typedef uint16_t domid_t;

#include <xen/gntalloc.h>
#include <xen/gntdev.h>

#include "gntdev-dmabuf.h"

#define GD_PAGE_SIZE 4096u
#define GD_DEV_PATH "/dev/" GDMABUF_DEVICE_NAME

/*
 * The device the tests speak to: GDMABUF_DEV when set (make check-upstream
 * sets /dev/xen/gntdev, the in-tree implementation), else GD_DEV_PATH.
 */
const char *gd_dev_path(void);
/* True when GDMABUF_DEV names another device than ours (the stock gntdev). */
bool gd_upstream(void);
/*
 * Skips the running subtest (or the fixture's subtests) against the stock
 * gntdev, which lacks @what: our extensions, debugfs, module, limits.
 */
void gd_require_ours(const char *what);

/* Opens gd_dev_path(), skipping the test when the module is not loaded. */
int gd_open_dev(void);
/*
 * The most pages one call of @fd takes: GET_INFO's max_pages_per_call, or
 * the stock gntdev's "limit" parameter (its gntdev_test_page_count()).
 */
uint32_t gd_max_pages_per_call(int fd);

/* Pages granted by this domain through /dev/xen/gntalloc. */
struct gd_grant {
	int fd;
	uint32_t count;
	uint64_t index;
	uint32_t *refs;
	uint8_t *map;
};

/* Returns 0 or -errno; @g is filled on success. */
int gd_grant_pages(struct gd_grant *g, uint16_t domid, uint32_t count, bool writable);
void gd_grant_free(struct gd_grant *g);
/* Grants @count writable pages to this domain itself; skips the subtest if it cannot. */
void gd_grant_self(struct gd_grant *g, uint32_t count);
/* Exports the first @count pages of @g (granted to ourselves); fails the subtest on error. */
int gd_export_self(int fd, const struct gd_grant *g, uint32_t count);

/* Foreign grants mapped through /dev/xen/gntdev. */
struct gd_mapping {
	int fd;
	uint32_t count;
	uint64_t index;
	uint8_t *map;
};

/* Returns 0 or -errno; @m is filled on success. */
int gd_map_grants(struct gd_mapping *m, uint32_t domid, const uint32_t *refs,
		  uint32_t count, bool writable);
void gd_unmap_grants(struct gd_mapping *m);

/* Fills / checks @count pages with a pattern derived from @seed. */
void gd_fill_pattern(void *buf, uint32_t count, uint32_t seed);
/* Returns -1 when it matches, else the first mismatching word's index. */
long gd_check_pattern(const void *buf, uint32_t count, uint32_t seed);
/* 64-bit FNV-1a of @n bytes, the hash the selftest's "vmap" and the agent use. */
uint64_t gd_hash(const void *buf, size_t n);
/* gd_hash() of more bytes after those that gave @h. */
uint64_t gd_hash_continue(uint64_t h, const void *buf, size_t n);

/* CLOCK_MONOTONIC in microseconds. */
double gd_now_us(void);
/* The median of @n values (sorts @v). */
double gd_median(double *v, unsigned int n);
/* Whether a line of the file @path holds @needle, waiting up to @ms for it. */
bool gd_file_has(const char *path, const char *needle, int ms);

/*
 * Pixel (x, y) of frame @f of gdmabuf-kms's pattern (XRGB8888): different
 * in every frame, row and column.
 */
static inline uint32_t gd_kms_pixel(uint32_t x, uint32_t y, uint32_t f)
{
	return (x * 2654435761u) ^ (y * 40503u) ^ (f * 0x9e3779b9u) ^ (f << 24);
}
/*
 * A kernel importer (the selftest's debugfs "vmap") vmaps @buf, hashes it
 * and XORs the first word of each page with 0x5a5a5a5a: checks the hash
 * against the @count pages at @granter, and that the XORs landed there
 * (undoing them, so @granter's pattern is whole again).
 */
void gd_check_vmap(int buf, void *granter, uint32_t count);

/* Runs @fn(@arg) in a forked child, which then exits 0; returns its wait status. */
int gd_in_child(void (*fn)(void *), void *arg);

/* True in a PV domain (x86_64 PV dom0), false when auto-translated. */
bool gd_pv_domain(void);

/*
 * IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS on @fd; returns the dma-buf fd or
 * -errno.
 */
int gd_export_refs(int fd, uint32_t domid, uint32_t count, const uint32_t *refs,
		   uint32_t flags);

/* True when the kernel log holds @needle (the runner clears it per test). */
bool gd_klog_has(const char *needle);

/* A /proc/meminfo value in kB ("MemFree:", "MemAvailable:"); -1 if absent. */
long long gd_meminfo_kb(const char *key);

/*
 * Writes @cmd to the test-only debugfs file @name of the module and reads
 * its answer into @res; skips the subtest when the file does not exist
 * (not a GDMABUF_SELFTEST build).
 */
void gd_debugfs_cmd(const char *name, const char *cmd, char *res, size_t size);

/*
 * Exports @count pages the test domU grants, with @flags, and has a real
 * device (the selftest's fw_cfg device, DMA operations from its bus) write
 * the file GDMABUF_FWCFG_FILE into the export through its DMA mapping.
 * Checks that every page got its bus frame as DMA address and that the
 * domU sees the bytes while the buffer is still mapped, before any sync
 * (a bounce buffer would hold them until then), and again after.  Skips
 * without the device, the file or the domU.
 */
void gd_check_device_write(int fd, uint32_t flags, uint32_t count);
/* True when the selftest's fw_cfg driver is bound to a device. */
bool gd_bus_device(void);

/*
 * A vgem dumb buffer of @pages pages as a dma-buf fd (read-write,
 * close-on-exec); the GEM handle is closed again.
 */
int gd_vgem_dmabuf(int card, uint32_t pages);

/* Opens vgem's DRM node, skipping the subtest when vgem is not loaded. */
int gd_open_vgem(void);
/*
 * Loads vkms in dom0 (after vgem, which stays card0) and opens its card,
 * whose path goes to @path unless NULL; skips where the harness built
 * none.  The first opener of a card is its DRM master.
 */
int gd_vkms_open(char *path, size_t size);
/* Unloads vkms again (every card of it closed). */
void gd_vkms_unload(void);

/* Logs the lines of the file at @path (igt_info), if it exists. */
void gd_print_file(const char *path);

/* Where gd_weston_start() runs Weston: XDG_RUNTIME_DIR, socket, log. */
#define GD_WL_RUNTIME	"/run/gdmabuf-wayland"
#define GD_WL_SOCKET	"gdmabuf-0"
#define GD_WESTON_LOG	GD_WL_RUNTIME "/weston.log"
/*
 * Starts Weston in dom0 as a display server without a display (headless
 * backend, GL renderer on llvmpipe, kiosk shell, one output of @width x
 * @height at 60 Hz, --debug for the capture protocol) in a fresh
 * GD_WL_RUNTIME, and waits for its socket; skips where the dom0 has no
 * Weston.  Returns its pid.
 */
pid_t gd_weston_start(int width, int height);
/* Ends Weston @pid (SIGTERM, SIGKILL after 10 s). */
void gd_weston_stop(pid_t pid);
/* PRIME-imports dma-buf @buf into DRM device @card; returns the GEM handle. */
uint32_t gd_prime_import(int card, int buf);
/* Closes GEM handle @handle of DRM device @card. */
void gd_gem_close(int card, uint32_t handle);

/* IOCTL_GNTDEV_DMABUF_EXP_WAIT_RELEASED for @buf on @fd; returns 0 or -errno. */
int gd_wait_released(int fd, int buf, uint32_t ms);

/* This domain's id (0 in dom0), from xenstore's "domid" key. */
uint32_t gd_self_domid(void);

/* Reads the module's debugfs counter @name; -1 if unavailable. */
long long gd_stat(const char *name);
/*
 * Asserts that the debugfs counter @name is @want.  The stock gntdev has no
 * counters: there the upstream ABI's part of a test runs without them.
 */
#define gd_assert_stat(name, want) \
	do { \
		if (!gd_upstream()) \
			igt_assert_eq_s64(gd_stat(name), want); \
	} while (0)

/*
 * The test domU started by the harness (both architectures), driven through
 * xenstore: gd_domu_id() returns its domid or -1 when there is none;
 * gd_domu_call() sends one command to its agent and copies the answer's
 * payload to @resp; it returns 0 when the agent answered "ok".
 */
#define GD_DOMU_NAME "gdmabuf-domu"
#define GD_DOMU_CFG "/opt/gdmabuf/domu.cfg"
int gd_domu_id(void);
/* xl destroy of the test domU; gd_domu_start() creates it again. */
void gd_domu_destroy(void);
/* Creates the test domU and waits for its agent; returns its new id. */
int gd_domu_start(void);
/* Whether Xen still lists domain @domid (a dying domain whose pages are held counts). */
bool gd_domain_exists(int domid);
/* Skips the running subtest when there is no test domU; returns its id. */
int gd_require_domu(void);
/* How long gd_domu_call() waits for an answer (60 s unless set). */
void gd_domu_set_timeout(int seconds);
int gd_domu_call(char *resp, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * Has the domU grant @count pages to @domid, filled with pattern @seed;
 * their refs go to @refs.  Returns the agent's handle, for "free".
 */
int gd_domu_grant(uint32_t domid, uint32_t count, uint32_t seed, uint32_t *refs);
/* The agent checks its pages of handle @h hold pattern @seed, or rewrites them. */
void gd_domu_check(int h, uint32_t seed);
/* gd_hash() of the agent's pages of handle @h, as the domU reads them. */
uint64_t gd_domu_hash(int h);
void gd_domu_fill(int h, uint32_t seed);
/* The agent ends the grants of handle @h. */
void gd_domu_free(int h);
/* Parses "r1,r2,r3-r4,..." (a-b: every ref from a to b) into @refs; returns how many. */
uint32_t gd_parse_refs(const char *s, uint32_t *refs, uint32_t max);
/* Formats @refs as "r1,r2,r3-r4,..." into @buf, runs of three or more as ranges. */
void gd_format_refs(char *buf, size_t size, const uint32_t *refs, uint32_t count);

#endif
