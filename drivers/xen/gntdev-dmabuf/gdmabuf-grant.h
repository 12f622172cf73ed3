/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gntdev-dmabuf: foreign grants mapped into local pages (ballooned pages
 * from a pool, or a contiguous DMA buffer) and unmapped again.
 */
#ifndef GDMABUF_GRANT_H
#define GDMABUF_GRANT_H

#include <linux/types.h>

#include <xen/grant_table.h>

struct gdmabuf_dma_mem;
struct seq_file;
struct vm_area_struct;

#define GDMABUF_INVALID_HANDLE	((grant_handle_t)-1)

/**
 * struct gdmabuf_grants - foreign grants mapped into local pages
 * @domid: the granting domain.
 * @count: number of pages.
 * @refs: the grant references, kept for the PV CPU mappings; owned by
 *	the caller of gdmabuf_grants_map().
 * @pages: the local pages standing for the foreign frames.
 * @dma: the DMA buffer the pages belong to, or NULL for ballooned pages.
 * @handles: Xen's handle per mapped page, GDMABUF_INVALID_HANDLE if none.
 *
 * Owned by one export: set up by gdmabuf_grants_map() before the export
 * is visible, read-only while it lives, handed to gdmabuf_grants_unmap()
 * at its release.
 */
struct gdmabuf_grants {
	domid_t domid;
	unsigned int count;
	u32 *refs;
	struct page **pages;
	grant_handle_t *handles;
	struct gdmabuf_dma_mem *dma;
};

int gdmabuf_grants_map(struct gdmabuf_grants *map, u32 dma_flags);
void gdmabuf_grants_unmap(struct gdmabuf_grants *map, void (*done)(void *arg), void *arg);
int gdmabuf_grants_init(void);
void gdmabuf_grants_exit(void);
int gdmabuf_pool_show(struct seq_file *m, void *unused);

/* gdmabuf-dma-alloc.c: the DMA-backed kind of mapping. */
int gdmabuf_dma_alloc(struct gdmabuf_grants *map, bool coherent);
void gdmabuf_dma_free(struct gdmabuf_grants *map);
int gdmabuf_dma_mmap(const struct gdmabuf_grants *map, struct vm_area_struct *vma);

#endif /* GDMABUF_GRANT_H */
