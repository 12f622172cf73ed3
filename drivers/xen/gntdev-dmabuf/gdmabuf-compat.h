/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one place where kernel API differences are handled.  The
 * GDMABUF_HAVE_* macros come from build-time probes
 * (scripts/kernel-probe.sh), never from version checks.
 */
#ifndef GDMABUF_COMPAT_H
#define GDMABUF_COMPAT_H

#include <linux/dma-buf.h>
#include <linux/dma-resv.h>
#include <linux/mm.h>
#include <linux/module.h>

#include "gdmabuf-compat-probed.h"

#ifdef GDMABUF_HAVE_MODULE_IMPORT_NS_IDENT
#define GDMABUF_IMPORT_NS_DMA_BUF()	MODULE_IMPORT_NS(DMA_BUF)
#else
#define GDMABUF_IMPORT_NS_DMA_BUF()	MODULE_IMPORT_NS("DMA_BUF")
#endif

#ifndef GDMABUF_HAVE_VM_FLAGS_SET
static inline void vm_flags_set(struct vm_area_struct *vma, vm_flags_t flags)
{
	vma->vm_flags |= flags;
}

static inline void vm_flags_clear(struct vm_area_struct *vma, vm_flags_t flags)
{
	vma->vm_flags &= ~flags;
}
#endif

/*
 * Exporter side: from 6.2 (the "dynamic locking specification", which
 * brought dma_buf_vmap_unlocked()) the dma-buf core calls map_dma_buf,
 * unmap_dma_buf, mmap, vmap and vunmap with the buffer's reservation lock
 * held; 6.1 holds it only around a dynamic importer's map calls.
 */
#ifdef GDMABUF_HAVE_DMA_BUF_VMAP_UNLOCKED
#define gdmabuf_assert_resv_held(dmabuf)	dma_resv_assert_held((dmabuf)->resv)
#else
#define gdmabuf_assert_resv_held(dmabuf)	do { } while (0)
#endif

/* Importer side: map an attachment without holding the reservation lock. */
static inline struct sg_table *
gdmabuf_dma_buf_map_attachment(struct dma_buf_attachment *attach, enum dma_data_direction dir)
{
#ifdef GDMABUF_HAVE_DMA_BUF_MAP_ATTACHMENT_UNLOCKED
	return dma_buf_map_attachment_unlocked(attach, dir);
#else
	return dma_buf_map_attachment(attach, dir);
#endif
}

static inline void gdmabuf_dma_buf_unmap_attachment(struct dma_buf_attachment *attach,
						    struct sg_table *sgt,
						    enum dma_data_direction dir)
{
#ifdef GDMABUF_HAVE_DMA_BUF_MAP_ATTACHMENT_UNLOCKED
	dma_buf_unmap_attachment_unlocked(attach, sgt, dir);
#else
	dma_buf_unmap_attachment(attach, sgt, dir);
#endif
}

/* Importer side: vmap a dma-buf without holding its reservation lock. */
static inline int gdmabuf_dma_buf_vmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
#ifdef GDMABUF_HAVE_DMA_BUF_VMAP_UNLOCKED
	return dma_buf_vmap_unlocked(dmabuf, map);
#else
	return dma_buf_vmap(dmabuf, map);
#endif
}

static inline void gdmabuf_dma_buf_vunmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
#ifdef GDMABUF_HAVE_DMA_BUF_VMAP_UNLOCKED
	dma_buf_vunmap_unlocked(dmabuf, map);
#else
	dma_buf_vunmap(dmabuf, map);
#endif
}

#endif /* GDMABUF_COMPAT_H */
