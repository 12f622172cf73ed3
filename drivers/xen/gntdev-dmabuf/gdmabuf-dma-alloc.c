// SPDX-License-Identifier: GPL-2.0
/*
 * gntdev-dmabuf: contiguous, DMA-capable pages for exports made with
 * GNTDEV_DMA_FLAG_WC or GNTDEV_DMA_FLAG_COHERENT.
 *
 * The buffer comes from the DMA API (write-combined or coherent) against
 * our device, so it is contiguous in the address space that device's DMA
 * uses.  Its frames are scrubbed and handed back to Xen (decrease
 * reservation) so that the foreign grants can be mapped in their place;
 * release reverses that (populate) before the buffer goes back to the DMA
 * API.  Debian's kernels do not build the kernel's own helper for this
 * (gnttab_dma_alloc_pages, CONFIG_XEN_GRANT_DMA_ALLOC), so it is built
 * here from exported primitives, with every partial failure undone
 * exactly: only the frames Xen really took are repopulated.
 *
 * On a PV domain the pages are contiguous only in pseudo-physical space,
 * which gives a device nothing, so the flags are refused there.
 */

#define pr_fmt(fmt) "gntdev-dmabuf: " fmt

#include <linux/dma-mapping.h>
#include <linux/mm.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/string.h>

#include <xen/grant_table.h>
#include <xen/mem-reservation.h>
#include <xen/page.h>
#include <xen/xen.h>

#include "gdmabuf-debugfs.h"
#include "gdmabuf-dev.h"
#include "gdmabuf-grant.h"
#include "gdmabuf-limits.h"
#include "gdmabuf-selftest.h"

/* Frames per memory_op call: one page of xen_pfn_t. */
#define GDMABUF_FRAMES_BATCH	(PAGE_SIZE / sizeof(xen_pfn_t))

/**
 * struct gdmabuf_dma_mem - the DMA allocation behind an export
 * @coherent: allocated with dma_alloc_coherent(), else dma_alloc_wc().
 * @vaddr: the kernel address the DMA API returned.
 * @dma: the DMA address for gdmabuf_dma_dev().
 * @size: bytes allocated.
 */
struct gdmabuf_dma_mem {
	bool coherent;
	void *vaddr;
	dma_addr_t dma;
	size_t size;
};

#ifdef GDMABUF_SELFTEST
/* Test builds: the decrease step pretends Xen stopped after this many frames. */
unsigned int gdmabuf_dma_fail_decrease_after = UINT_MAX;
#endif

/*
 * Asks Xen to populate (@increase) or release the frames of pages[0..n).
 * Return: how many frames, from the start, Xen really processed.
 */
static unsigned int gdmabuf_reservation(struct page **pages, unsigned int n, bool increase)
{
	xen_pfn_t *frames;
	unsigned int done = 0, k, i;
	int ret;

	frames = kmalloc_array(GDMABUF_FRAMES_BATCH, sizeof(*frames), GFP_KERNEL | __GFP_NOFAIL);
	while (done < n) {
		k = min_t(unsigned int, n - done, GDMABUF_FRAMES_BATCH);
#ifdef GDMABUF_SELFTEST
		if (!increase && done + k > gdmabuf_dma_fail_decrease_after)
			k = gdmabuf_dma_fail_decrease_after - done;
#endif
		for (i = 0; i < k; i++)
			frames[i] = increase ? page_to_xen_pfn(pages[done + i]) :
					       xen_page_to_gfn(pages[done + i]);
		ret = k ? (increase ? xenmem_reservation_increase(k, frames) :
				      xenmem_reservation_decrease(k, frames)) : 0;
		if (ret > 0)
			done += ret;
		if (ret != k || !k)
			break;
	}
	kfree(frames);
	return done;
}

static void gdmabuf_dma_free_mem(struct gdmabuf_dma_mem *mem)
{
	if (mem->coherent)
		dma_free_coherent(gdmabuf_dma_dev(), mem->size, mem->vaddr, mem->dma);
	else
		dma_free_wc(gdmabuf_dma_dev(), mem->size, mem->vaddr, mem->dma);
	kfree(mem);
}

/*
 * Gives pages[0..n) back their frames and the buffer back to the DMA API.
 * If Xen cannot repopulate every frame, the buffer is leaked on purpose:
 * handing out pages without memory behind them would be far worse.
 */
static void gdmabuf_dma_restore(struct gdmabuf_dma_mem *mem, struct page **pages,
				unsigned int n)
{
	unsigned int done = gdmabuf_reservation(pages, n, true);

	atomic64_sub(done, &gdmabuf_stats.dma_released_frames);
	if (done != n) {
		pr_err("Xen repopulated only %u of %u frames of a DMA buffer: leaking it\n",
		       done, n);
		atomic64_add(n, &gdmabuf_stats.dma_leaked_pages);
		kfree(mem);
		return;
	}
	gdmabuf_dma_free_mem(mem);
}

/**
 * gdmabuf_dma_alloc() - back a grant mapping with a DMA buffer
 * @map: the mapping; @map->count is set, @map->pages is an array of
 *	@map->count entries to fill
 * @coherent: coherent memory rather than write-combined
 *
 * Allocates @map->count contiguous pages, scrubs them, hands their frames
 * back to Xen and fills @map->pages, ready for the grants to be mapped
 * over them.
 *
 * Context: process context; sleeps.
 * Return: 0; -EOPNOTSUPP on a PV domain; -EINVAL above max_dma_pages;
 * -ENOMEM when no contiguous buffer of that size is free; -EAGAIN when Xen
 * took only part of the frames (everything is restored; try again).
 */
int gdmabuf_dma_alloc(struct gdmabuf_grants *map, bool coherent)
{
	struct gdmabuf_dma_mem *mem;
	struct sg_table sgt;
	unsigned int i, done;
	int ret;

	if (xen_pv_domain()) {
		pr_info_ratelimited("DMA-backed exports are not supported on PV domains: pseudo-physical contiguity means nothing to a device\n");
		return -EOPNOTSUPP;
	}
	if (map->count > READ_ONCE(gdmabuf_max_dma_pages)) {
		pr_info_ratelimited("DMA-backed export of %u pages is above max_dma_pages (%u)\n",
				    map->count, READ_ONCE(gdmabuf_max_dma_pages));
		return -EINVAL;
	}

	mem = gdmabuf_faultable(kzalloc(sizeof(*mem), GFP_KERNEL), NULL);
	if (!mem)
		return -ENOMEM;
	mem->coherent = coherent;
	mem->size = (size_t)map->count << PAGE_SHIFT;
	if (gdmabuf_fault())
		mem->vaddr = NULL;
	else if (coherent)
		mem->vaddr = dma_alloc_coherent(gdmabuf_dma_dev(), mem->size, &mem->dma,
						GFP_KERNEL | __GFP_NOWARN);
	else
		mem->vaddr = dma_alloc_wc(gdmabuf_dma_dev(), mem->size, &mem->dma,
					  GFP_KERNEL | __GFP_NOWARN);
	if (!mem->vaddr) {
		pr_info_ratelimited("no contiguous DMA buffer of %u pages is free (CMA too small or fragmented)\n",
				    map->count);
		ret = -ENOMEM;
		goto err_free_mem;
	}

	/* The DMA API knows which pages back the buffer, whatever its mapping. */
	ret = gdmabuf_faultable(dma_get_sgtable(gdmabuf_dma_dev(), &sgt, mem->vaddr, mem->dma,
						mem->size), -ENOMEM);
	if (ret)
		goto err_free_buffer;
	if (sgt.orig_nents != 1) {
		pr_err("DMA buffer of %u pages is not contiguous (%u pieces)\n",
		       map->count, sgt.orig_nents);
		sg_free_table(&sgt);
		ret = -ENOMEM;
		goto err_free_buffer;
	}
	for (i = 0; i < map->count; i++)
		map->pages[i] = nth_page(sg_page(sgt.sgl), i);
	sg_free_table(&sgt);

	/* Xen may hand these frames to anyone: nothing of ours may remain. */
	memset(mem->vaddr, 0, mem->size);
	/* Write-combined stores must reach memory before the hypercall. */
	wmb();

	done = gdmabuf_reservation(map->pages, map->count, false);
	atomic64_add(done, &gdmabuf_stats.dma_released_frames);
	if (done != map->count) {
		pr_info_ratelimited("Xen took only %u of %u frames of a DMA buffer: restoring them\n",
				    done, map->count);
		gdmabuf_dma_restore(mem, map->pages, done);
		return -EAGAIN;
	}

	ret = gnttab_pages_set_private(map->count, map->pages);
	if (ret) {
		gdmabuf_dma_restore(mem, map->pages, map->count);
		return ret;
	}
	map->dma = mem;
	return 0;

err_free_buffer:
	gdmabuf_dma_free_mem(mem);
	return ret;
err_free_mem:
	kfree(mem);
	return ret;
}

/**
 * gdmabuf_dma_free() - undo gdmabuf_dma_alloc()
 * @map: a mapping whose grants are all unmapped again
 *
 * Context: process context; sleeps.
 */
void gdmabuf_dma_free(struct gdmabuf_grants *map)
{
	gnttab_pages_clear_private(map->count, map->pages);
	gdmabuf_dma_restore(map->dma, map->pages, map->count);
	map->dma = NULL;
}

/**
 * gdmabuf_dma_mmap() - map a DMA-backed export into user space
 * @map: a DMA-backed mapping
 * @vma: the VMA, its offset and size already checked against the buffer
 *
 * The user mapping gets the attributes of the allocation (write-combined,
 * or what coherent memory needs for gdmabuf_dma_dev()), so the CPU never
 * holds in its cache what a device is to read.
 *
 * Context: an export's ->mmap: the mmap lock held for writing (and from 6.2
 * the reservation lock, which gdmabuf_export_do_mmap() asserts).
 * Return: 0, or the negative errno of dma_mmap_attrs().
 */
int gdmabuf_dma_mmap(const struct gdmabuf_grants *map, struct vm_area_struct *vma)
{
	const struct gdmabuf_dma_mem *mem = map->dma;

	lockdep_assert_held_write(&vma->vm_mm->mmap_lock);

	if (mem->coherent)
		return dma_mmap_coherent(gdmabuf_dma_dev(), vma, mem->vaddr, mem->dma, mem->size);
	return dma_mmap_wc(gdmabuf_dma_dev(), vma, mem->vaddr, mem->dma, mem->size);
}
