// SPDX-License-Identifier: MIT
/*
 * xengnttab-dmabuf-user: a program that uses libxengnttab's dma-buf calls
 * as a display backend does, built only against Debian's libxen-dev and
 * libdrm-dev (it includes nothing of gntdev-dmabuf's).  gdmabuf_compat
 * runs it with and without the compatibility library preloaded.
 *
 *   xengnttab-dmabuf-user PAGES FLAGS CARD
 *
 * Export: dom0 shares PAGES pages with itself (xengntshr) and fills them;
 * their refs become a dma-buf (xengnttab_dmabuf_exp_from_refs with FLAGS),
 * whose mapping must show the same bytes.  Another handle's WAIT_RELEASED
 * does not know the buffer; this handle's times out while the buffer's fd
 * is open and sees it released after close().
 * Import: a dumb buffer of the DRM device CARD (vgem), filled, becomes
 * refs (xengnttab_dmabuf_imp_to_refs), which are mapped
 * (xengnttab_map_domain_grant_refs) and compared, then released.
 *
 * Prints "ok", or the call that failed and its errno name; exit status 0,
 * 1 when the bytes differ, 2 when a call failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <drm.h>
#include <drm_mode.h>
#include <xengnttab.h>

static const char *errname(int e)
{
	switch (e) {
	case ENOTTY: return "ENOTTY";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EINVAL: return "EINVAL";
	case ENOENT: return "ENOENT";
	case ETIMEDOUT: return "ETIMEDOUT";
	case ENOMEM: return "ENOMEM";
	default: return strerror(e);
	}
}

/* errno 0: the call succeeded where it should have failed. */
static int failed(const char *call)
{
	printf("%s: %s\n", call, errno ? errname(errno) : "no error");
	return 2;
}

static void fill(uint8_t *p, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * seed + i / 4096);
}

/* The export of @count shared pages with @flags, checked through its mapping. */
static int test_export(xengnttab_handle *xgt, xengnttab_handle *other, uint32_t count,
		       uint32_t flags)
{
	size_t len = (size_t)count * 4096;
	xengntshr_handle *xgs = xengntshr_open(NULL, 0);
	uint32_t *refs = calloc(count, sizeof(*refs)), dmabuf;
	uint8_t *shared, *map;

	if (!xgs || !refs)
		return failed("xengntshr_open");
	shared = xengntshr_share_pages(xgs, 0, count, refs, 1);
	if (!shared)
		return failed("xengntshr_share_pages");
	fill(shared, len, 7);
	if (xengnttab_dmabuf_exp_from_refs(xgt, 0, flags, count, refs, &dmabuf))
		return failed("xengnttab_dmabuf_exp_from_refs");
	map = mmap(NULL, len, PROT_READ, MAP_SHARED, dmabuf, 0);
	if (map == MAP_FAILED)
		return failed("mmap of the export");
	if (memcmp(map, shared, len)) {
		printf("the export does not show the shared pages\n");
		return 1;
	}
	munmap(map, len);
	/* WAIT_RELEASED knows the exports of its own handle only. */
	errno = 0;
	if (!xengnttab_dmabuf_exp_wait_released(other, dmabuf, 0) || errno != ENOENT)
		return failed("another handle's xengnttab_dmabuf_exp_wait_released");
	/* While the fd is open the buffer is not released. */
	errno = 0;
	if (!xengnttab_dmabuf_exp_wait_released(xgt, dmabuf, 0) || errno != ETIMEDOUT)
		return failed("xengnttab_dmabuf_exp_wait_released before the close");
	close(dmabuf);
	if (xengnttab_dmabuf_exp_wait_released(xgt, dmabuf, 5000) && errno != ENOENT)
		return failed("xengnttab_dmabuf_exp_wait_released");
	xengntshr_unshare(xgs, shared, count);
	xengntshr_close(xgs);
	free(refs);
	return 0;
}

/* The import of a @count-page dumb buffer of @card, checked through its refs. */
static int test_import(xengnttab_handle *xgt, uint32_t count, const char *card)
{
	struct drm_mode_create_dumb create = { .width = 1024, .height = count, .bpp = 32 };
	struct drm_mode_map_dumb map_dumb = { 0 };
	struct drm_prime_handle prime = { .flags = DRM_CLOEXEC };
	struct drm_gem_close gem_close = { 0 };
	size_t len = (size_t)count * 4096;
	uint32_t *refs = calloc(count, sizeof(*refs));
	uint8_t *dumb, *mapped;
	int drm = open(card, O_RDWR | O_CLOEXEC);

	if (drm < 0 || !refs)
		return failed(card);
	if (ioctl(drm, DRM_IOCTL_MODE_CREATE_DUMB, &create))
		return failed("DRM_IOCTL_MODE_CREATE_DUMB");
	map_dumb.handle = create.handle;
	if (ioctl(drm, DRM_IOCTL_MODE_MAP_DUMB, &map_dumb))
		return failed("DRM_IOCTL_MODE_MAP_DUMB");
	dumb = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, drm, map_dumb.offset);
	if (dumb == MAP_FAILED)
		return failed("mmap of the dumb buffer");
	fill(dumb, len, 13);
	prime.handle = create.handle;
	if (ioctl(drm, DRM_IOCTL_PRIME_HANDLE_TO_FD, &prime))
		return failed("DRM_IOCTL_PRIME_HANDLE_TO_FD");

	if (xengnttab_dmabuf_imp_to_refs(xgt, 0, prime.fd, count, refs))
		return failed("xengnttab_dmabuf_imp_to_refs");
	mapped = xengnttab_map_domain_grant_refs(xgt, count, 0, refs, PROT_READ);
	if (!mapped)
		return failed("xengnttab_map_domain_grant_refs");
	if (memcmp(mapped, dumb, len)) {
		printf("the imported buffer's refs do not show its pages\n");
		return 1;
	}
	xengnttab_unmap(xgt, mapped, count);
	if (xengnttab_dmabuf_imp_release(xgt, prime.fd))
		return failed("xengnttab_dmabuf_imp_release");

	close(prime.fd);
	munmap(dumb, len);
	gem_close.handle = create.handle;
	ioctl(drm, DRM_IOCTL_GEM_CLOSE, &gem_close);
	close(drm);
	free(refs);
	return 0;
}

int main(int argc, char **argv)
{
	xengnttab_handle *xgt, *other;
	uint32_t count, flags;
	int ret;

	if (argc != 4) {
		fprintf(stderr, "usage: %s PAGES FLAGS CARD\n", argv[0]);
		return 2;
	}
	count = strtoul(argv[1], NULL, 0);
	flags = strtoul(argv[2], NULL, 0);
	xgt = xengnttab_open(NULL, 0);
	other = xengnttab_open(NULL, 0);
	if (!xgt || !other)
		return failed("xengnttab_open");
	ret = test_export(xgt, other, count, flags);
	if (!ret)
		ret = test_import(xgt, count, argv[3]);
	if (ret)
		return ret;
	xengnttab_close(other);
	xengnttab_close(xgt);
	printf("ok\n");
	return 0;
}
