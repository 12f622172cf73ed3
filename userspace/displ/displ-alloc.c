// SPDX-License-Identifier: MIT
/*
 * gntdmabuf-displ: backend-allocated display buffers (be-alloc).  When the
 * toolstack sets be-alloc, xen-drm-front asks for every buffer with
 * XENDISPL_DBUF_FLG_REQ_ALLOC: dom0 allocates a dma-buf, grants its pages
 * to the frontend's domain with gntdev-dmabuf's import, and writes the
 * grant references into the directory pages the frontend granted (their
 * chain is the frontend's).  The frontend maps those pages; the sink shows
 * the dma-buf itself.  On DBUF_DESTROY the import is released at once: the
 * module keeps the pages out of reuse until Xen says the frontend's
 * mappings are gone.
 *
 * Where the memory comes from (--alloc):
 *   kms      dumb buffers of the KMS sink's own device: what a display
 *            controller without an IOMMU needs (its driver's memory)
 *   heap     the system dma-heap (/dev/dma_heap/system)
 *   udmabuf  a sealed memfd's pages (/dev/udmabuf)
 *   vgem     vgem's dumb buffers (shmem)
 * auto takes the first of these the backend and the kernel offer; with
 * kms, a buffer the device lays out otherwise than the frontend computed
 * comes from the next one instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/dma-heap.h>
#include <linux/udmabuf.h>
#include <drm.h>
#include <drm_mode.h>

#include "displ.h"
#include "displ-sink.h"

#define DISPL_PAGE_SIZE		4096u

static const char *const displ_alloc_names[] = {
	[DISPL_ALLOC_AUTO] = "auto",
	[DISPL_ALLOC_KMS] = "kms",
	[DISPL_ALLOC_HEAP] = "heap",
	[DISPL_ALLOC_UDMABUF] = "udmabuf",
	[DISPL_ALLOC_VGEM] = "vgem",
};

/**
 * displ_alloc_parse() - the allocator --alloc names
 * @name: auto, kms, heap, udmabuf or vgem
 *
 * Return: its enum displ_alloc value, or -EINVAL.
 */
int displ_alloc_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(displ_alloc_names) / sizeof(displ_alloc_names[0]); i++)
		if (!strcmp(name, displ_alloc_names[i]))
			return i;
	return -EINVAL;
}

/**
 * displ_alloc_name() - the name --alloc gives allocator @a
 * @a: the allocator
 *
 * Return: a static string.
 */
const char *displ_alloc_name(enum displ_alloc a)
{
	return displ_alloc_names[a];
}

/* Whether allocator @a is there (opening its device): 0 or -ENODEV. */
static int displ_alloc_try(struct displ_backend *be, enum displ_alloc a)
{
	switch (a) {
	case DISPL_ALLOC_KMS:
		return be->sink && be->sink->ops->alloc ? 0 : -ENODEV;
	case DISPL_ALLOC_HEAP:
		if (be->heap < 0)
			be->heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
		return be->heap >= 0 ? 0 : -ENODEV;
	case DISPL_ALLOC_UDMABUF:
		if (be->udmabuf < 0)
			be->udmabuf = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
		return be->udmabuf >= 0 ? 0 : -ENODEV;
	case DISPL_ALLOC_VGEM:
		if (be->vgem < 0)
			be->vgem = displ_vgem_open();
		return be->vgem >= 0 ? 0 : -ENODEV;
	default:
		return -ENODEV;
	}
}

/**
 * displ_alloc_open() - open what be-alloc buffers come from
 * @be: the backend, whose @be->alloc says which (auto: the first the
 *	sink and the kernel offer), and gets the device's descriptor
 *
 * With auto and the KMS sink, @be->alloc_fallback gets the next allocator
 * there is, for buffers the KMS device lays out otherwise.
 *
 * Return: 0, or -ENODEV when the chosen allocator is not there.
 */
int displ_alloc_open(struct displ_backend *be)
{
	bool any = be->alloc == DISPL_ALLOC_AUTO;

	be->alloc_fallback = DISPL_ALLOC_AUTO;
	if (!any)
		return displ_alloc_try(be, be->alloc);
	for (enum displ_alloc a = DISPL_ALLOC_KMS; a <= DISPL_ALLOC_VGEM; a++) {
		if (displ_alloc_try(be, a))
			continue;
		if (be->alloc == DISPL_ALLOC_AUTO) {
			be->alloc = a;
			if (a != DISPL_ALLOC_KMS)
				return 0;
		} else {
			be->alloc_fallback = a;
			return 0;
		}
	}
	return be->alloc == DISPL_ALLOC_AUTO ? -ENODEV : 0;
}

/* A dma-buf of exactly @pages pages from allocator @a, in @fd. */
static int displ_alloc_buffer(struct displ_backend *be, enum displ_alloc a,
			      const struct xendispl_dbuf_create_req *r, uint32_t pages, int *fd)
{
	size_t len = (size_t)pages * DISPL_PAGE_SIZE;

	switch (a) {
	case DISPL_ALLOC_KMS:
		return be->sink->ops->alloc(be->sink->priv, r->width, r->height, r->bpp, len, fd);
	case DISPL_ALLOC_HEAP: {
		struct dma_heap_allocation_data ha = {
			.len = len, .fd_flags = O_RDWR | O_CLOEXEC,
		};

		if (ioctl(be->heap, DMA_HEAP_IOCTL_ALLOC, &ha))
			return -errno;
		*fd = ha.fd;
		return 0;
	}
	case DISPL_ALLOC_UDMABUF: {
		struct udmabuf_create c = { .flags = UDMABUF_FLAGS_CLOEXEC, .size = len };
		int memfd = memfd_create("gntdmabuf-displ", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		int ret = 0;

		if (memfd < 0)
			return -errno;
		/* udmabuf wants a memfd that cannot shrink. */
		if (ftruncate(memfd, len) || fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
			ret = -errno;
		} else {
			c.memfd = memfd;
			*fd = ioctl(be->udmabuf, UDMABUF_CREATE, &c);
			if (*fd < 0)
				ret = -errno;
		}
		/* The dma-buf holds the pages. */
		close(memfd);
		return ret;
	}
	case DISPL_ALLOC_VGEM:
		return displ_vgem_dmabuf(be->vgem, pages, fd, NULL, NULL);
	default:
		return -ENODEV;
	}
}

/**
 * displ_alloc_create() - a backend-allocated buffer for XENDISPL_DBUF_FLG_REQ_ALLOC
 * @f: the frontend
 * @d: the buffer (@d->pages set): gets its dma-buf and import
 * @r: the request, already checked
 *
 * Return: 0; -ENOMEM (the allocator has none), -EINVAL (a geometry the
 * allocator cannot lay out as the frontend computed it, a directory that
 * cannot be written), -errno of the import (-ENOSPC: grant table full).
 */
int displ_alloc_create(struct displ_front *f, struct displ_dbuf *d,
		       const struct xendispl_dbuf_create_req *r)
{
	struct displ_backend *be = f->be;
	struct gntdmabuf_import_info info;
	uint32_t *refs;
	int ret;

	refs = calloc(d->pages, sizeof(*refs));
	if (!refs)
		return -ENOMEM;
	ret = displ_alloc_buffer(be, be->alloc, r, d->pages, &d->fd);
	if (ret == -EINVAL && be->alloc_fallback != DISPL_ALLOC_AUTO) {
		if (be->verbose)
			displ_log(f, 0, "buffer %#llx: %ux%u at %u bpp is not the %s device's layout: from %s",
				  (unsigned long long)r->dbuf_cookie, r->width, r->height, r->bpp,
				  displ_alloc_name(be->alloc), displ_alloc_name(be->alloc_fallback));
		ret = displ_alloc_buffer(be, be->alloc_fallback, r, d->pages, &d->fd);
	}
	if (ret) {
		if (be->verbose)
			displ_log(f, 0, "buffer %#llx: no %u pages from %s: %s",
				  (unsigned long long)r->dbuf_cookie, d->pages,
				  displ_alloc_name(be->alloc), strerror(-ret));
		goto err_free;
	}
	ret = gntdmabuf_import_offset(be->gdb, d->fd, f->domid, 0, refs, d->pages, &info);
	if (ret) {
		if (be->verbose)
			displ_log(f, 0, "buffer %#llx: import of %u pages failed: %s",
				  (unsigned long long)r->dbuf_cookie, d->pages,
				  gntdmabuf_strerror(ret));
		goto err_close;
	}
	d->import_id = info.id;
	if (info.count != d->pages) {
		ret = -EINVAL;
		goto err_release;
	}
	ret = displ_directory(f, r->gref_directory, refs, d->pages, true);
	if (ret)
		goto err_release;
	free(refs);
	return 0;

err_release:
	gntdmabuf_import_release_id(be->gdb, d->import_id);
	d->import_id = 0;
err_close:
	close(d->fd);
	d->fd = -1;
err_free:
	free(refs);
	return ret;
}

/**
 * displ_alloc_destroy() - end a backend-allocated buffer's grants
 * @be: the backend
 * @d: the buffer, whose dma-buf the caller closes
 *
 * Never waits: the module ends each grant once the frontend has unmapped
 * it, and keeps the pages until then.
 */
void displ_alloc_destroy(struct displ_backend *be, struct displ_dbuf *d)
{
	int ret;

	if (!d->import_id)
		return;
	ret = gntdmabuf_import_release_id(be->gdb, d->import_id);
	if (ret)
		displ_log(NULL, -1, "import %llu: release failed: %s",
			  (unsigned long long)d->import_id, gntdmabuf_strerror(ret));
	d->import_id = 0;
}
