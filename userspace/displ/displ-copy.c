// SPDX-License-Identifier: MIT
/*
 * gntdmabuf-displ --copy: what a display backend without gntdev-dmabuf
 * must do, kept for the benchmark's comparison.  The frontend's pages are
 * mapped with the stock gntdev (libxengnttab) and every frame shown is
 * copied into a buffer of dom0's own, which the sink gets as the frame's
 * dma-buf: a udmabuf over a memfd, or where the kernel has no udmabuf
 * (Debian's 6.1) a vgem dumb buffer.  Every copied byte is counted.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <dirent.h>
#include <stdio.h>
#include <linux/udmabuf.h>
#include <drm.h>
#include <drm_mode.h>

#include "displ.h"

/**
 * displ_vgem_open() - a vgem card, for dom0's own buffers
 *
 * Return: its descriptor, or -1 when no card is vgem's.
 */
int displ_vgem_open(void)
{
	struct dirent *e;
	int vgem = -1;
	DIR *dir = opendir("/dev/dri");

	while (dir && vgem < 0 && (e = readdir(dir))) {
		char path[300], name[16] = "";
		struct drm_version v = { .name = name, .name_len = sizeof(name) - 1 };
		int fd;

		if (strncmp(e->d_name, "card", 4))
			continue;
		snprintf(path, sizeof(path), "/dev/dri/%s", e->d_name);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd >= 0 && !ioctl(fd, DRM_IOCTL_VERSION, &v) && !strcmp(name, "vgem"))
			vgem = fd;
		else if (fd >= 0)
			close(fd);
	}
	if (dir)
		closedir(dir);
	return vgem;
}

/**
 * displ_vgem_dmabuf() - a vgem dumb buffer of @pages pages as a dma-buf
 * @vgem: the card
 * @pages: its size
 * @fd: gets the dma-buf (read-write)
 * @handle: gets its GEM handle, or NULL: the handle is closed again
 * @map: gets a read-write mapping of it, or NULL
 *
 * Return: 0 or -ENOMEM.
 */
int displ_vgem_dmabuf(int vgem, uint32_t pages, int *fd, uint32_t *handle, uint8_t **map)
{
	struct drm_mode_create_dumb cd = { .width = 1024, .height = pages, .bpp = 32 };
	struct drm_mode_map_dumb md = { 0 };
	struct drm_prime_handle ph = { .flags = DRM_CLOEXEC | DRM_RDWR };
	struct drm_gem_close gc = { 0 };
	size_t len = (size_t)pages * 4096;
	void *m = NULL;

	if (ioctl(vgem, DRM_IOCTL_MODE_CREATE_DUMB, &cd))
		return -ENOMEM;
	gc.handle = md.handle = ph.handle = cd.handle;
	if (map) {
		if (ioctl(vgem, DRM_IOCTL_MODE_MAP_DUMB, &md))
			goto err_close_handle;
		m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, vgem, md.offset);
		if (m == MAP_FAILED)
			goto err_close_handle;
	}
	if (ioctl(vgem, DRM_IOCTL_PRIME_HANDLE_TO_FD, &ph))
		goto err_unmap;
	*fd = ph.fd;
	if (map)
		*map = m;
	if (handle)
		*handle = cd.handle;
	else
		ioctl(vgem, DRM_IOCTL_GEM_CLOSE, &gc);
	return 0;

err_unmap:
	if (m)
		munmap(m, len);
err_close_handle:
	ioctl(vgem, DRM_IOCTL_GEM_CLOSE, &gc);
	return -ENOMEM;
}

/**
 * displ_copy_open() - find where --copy makes dom0's buffers
 * @be: the backend: gets @be->udmabuf or @be->vgem
 *
 * Return: 0, or -ENODEV when there is neither /dev/udmabuf nor a vgem card.
 */
int displ_copy_open(struct displ_backend *be)
{
	be->udmabuf = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (be->udmabuf >= 0)
		return 0;
	be->vgem = displ_vgem_open();
	return be->vgem >= 0 ? 0 : -ENODEV;
}

/**
 * displ_copy_create() - map a new buffer's pages and make its local copy
 * @f: the frontend
 * @d: the buffer: gets its dma-buf (@d->fd) and both mappings
 * @refs: its grant references
 * @pages: how many
 *
 * Return: 0, -EINVAL when the grants cannot be mapped, -ENOMEM.
 */
int displ_copy_create(struct displ_front *f, struct displ_dbuf *d, uint32_t *refs,
		      uint32_t pages)
{
	struct displ_backend *be = f->be;
	size_t len = (size_t)pages * 4096;
	struct udmabuf_create create = {
		.flags = UDMABUF_FLAGS_CLOEXEC,
		.size = len,
	};
	int ret = -ENOMEM;

	d->grant_map = xengnttab_map_domain_grant_refs(be->xgt, pages, f->domid, refs, PROT_READ);
	if (!d->grant_map)
		return -EINVAL;
	d->memfd = -1;
	if (be->udmabuf < 0) {
		ret = displ_vgem_dmabuf(be->vgem, pages, &d->fd, &d->vgem_handle, &d->copy_map);
		if (ret)
			goto err_unmap_grants;
		return 0;
	}
	d->memfd = memfd_create("gntdmabuf-displ-copy", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (d->memfd < 0)
		goto err_unmap_grants;
	/* udmabuf wants a memfd that cannot shrink. */
	if (ftruncate(d->memfd, len) || fcntl(d->memfd, F_ADD_SEALS, F_SEAL_SHRINK))
		goto err_close_memfd;
	d->copy_map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, d->memfd, 0);
	if (d->copy_map == MAP_FAILED)
		goto err_close_memfd;
	create.memfd = d->memfd;
	d->fd = ioctl(be->udmabuf, UDMABUF_CREATE, &create);
	if (d->fd < 0)
		goto err_unmap_copy;
	return 0;

err_unmap_copy:
	munmap(d->copy_map, len);
err_close_memfd:
	close(d->memfd);
err_unmap_grants:
	xengnttab_unmap(be->xgt, d->grant_map, pages);
	d->grant_map = NULL;
	d->copy_map = NULL;
	return ret;
}

/**
 * displ_copy_destroy() - unmap a buffer's grants and free its copy
 * @be: the backend
 * @d: the buffer, whose dma-buf the caller closes
 *
 * The grants are free when this returns: the reply may go at once.
 */
void displ_copy_destroy(struct displ_backend *be, struct displ_dbuf *d)
{
	if (!d->grant_map)
		return;
	munmap(d->copy_map, (size_t)d->pages * 4096);
	if (d->memfd >= 0) {
		close(d->memfd);
	} else {
		struct drm_gem_close gc = { .handle = d->vgem_handle };

		ioctl(be->vgem, DRM_IOCTL_GEM_CLOSE, &gc);
	}
	xengnttab_unmap(be->xgt, d->grant_map, d->pages);
	d->grant_map = NULL;
}

/**
 * displ_copy_frame() - copy what @fb shows from the guest's pages
 * @fb: the framebuffer about to be shown
 *
 * Return: the bytes copied.
 */
uint64_t displ_copy_frame(const struct displ_fb *fb)
{
	const struct displ_dbuf *d = fb->dbuf;
	size_t row = (size_t)fb->width * fb->cpp, off = d->offset;

	if (!d->grant_map)
		return 0;
	if (row == fb->pitch) {
		memcpy(d->copy_map + off, (const uint8_t *)d->grant_map + off, row * fb->height);
	} else {
		for (uint32_t y = 0; y < fb->height; y++, off += fb->pitch)
			memcpy(d->copy_map + off, (const uint8_t *)d->grant_map + off, row);
	}
	return (uint64_t)row * fb->height;
}
