// SPDX-License-Identifier: GPL-2.0
/*
 * gntdev-dmabuf: mapping another domain's grant references into pages of
 * this domain, for the kernel only.
 *
 * The pages come from gnttab_alloc_pages() (ballooned out, so that the
 * foreign frames can take their place) and are mapped with
 * GNTMAP_host_map at their kernel address, as the block and network
 * backends do: on a PV domain that rewrites the kernel's own PTE and the
 * P2M entry, on an auto-translated domain the second-stage mapping.  Either
 * way the struct pages then stand for the granter's memory.
 */

#define pr_fmt(fmt) "gntdev-dmabuf: " fmt

#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include <xen/grant_table.h>
#include <xen/page.h>

#include "gntdev-dmabuf.h"
#include "gdmabuf-common.h"

static unsigned long gdmabuf_page_kaddr(struct page *page)
{
	return (unsigned long)pfn_to_kaddr(page_to_pfn(page));
}

static void gdmabuf_unmap_handles(struct page **pages, grant_handle_t *handles,
				  unsigned int count)
{
	struct gntab_unmap_queue_data *q;
	struct gnttab_unmap_grant_ref *ops;
	struct page **batch;
	unsigned int i, n = 0;
	int ret;

	ops = kvcalloc(count, sizeof(*ops), GFP_KERNEL | __GFP_NOFAIL);
	batch = kvcalloc(count, sizeof(*batch), GFP_KERNEL | __GFP_NOFAIL);
	/*
	 * Not on the stack: gnttab_unmap_refs_sync() initialises a delayed
	 * work in it without the on-stack annotation DEBUG_OBJECTS wants.
	 */
	q = kzalloc(sizeof(*q), GFP_KERNEL | __GFP_NOFAIL);
	for (i = 0; i < count; i++) {
		if (handles[i] == GDMABUF_INVALID_HANDLE)
			continue;
		gnttab_set_unmap_op(&ops[n], gdmabuf_page_kaddr(pages[i]),
				    GNTMAP_host_map, handles[i]);
		batch[n++] = pages[i];
		handles[i] = GDMABUF_INVALID_HANDLE;
	}
	if (n) {
		q->unmap_ops = ops;
		q->pages = batch;
		q->count = n;
		/* Waits for any extra page reference (e.g. an in-flight DMA). */
		ret = gnttab_unmap_refs_sync(q);
		if (ret)
			pr_err("unmapping %u grants failed: %d\n", n, ret);
		for (i = 0; i < n; i++)
			if (ops[i].status != GNTST_okay)
				pr_err("unmapping grant handle %u failed: status %d\n",
				       ops[i].handle, ops[i].status);
		atomic64_sub(n, &gdmabuf_stats.mapped_grants);
	}
	kfree(q);
	kvfree(batch);
	kvfree(ops);
}

/*
 * Grant pages kept for reuse.  Giving a page back to the balloon and
 * taking it out again costs a reservation change per page (on arm64 with
 * 6.1 also a scrub), and a display backend creates and drops buffers all
 * the time.
 */
static unsigned int gdmabuf_pool_max = 8192;
module_param_named(pool_pages, gdmabuf_pool_max, uint, 0444);
MODULE_PARM_DESC(pool_pages,
		 "Grant pages kept for reuse after a release, 0 for none (default 8192: 32 MiB of address space, which stays ballooned out where there is no unpopulated memory)");

static DEFINE_MUTEX(gdmabuf_pool_lock);	/* protects gdmabuf_pool[] and gdmabuf_pool_count */
static struct page **gdmabuf_pool;
static unsigned int gdmabuf_pool_count;

/* Gives @count unmapped grant pages back, to the pool while it has room. */
static void gdmabuf_pages_put(unsigned int count, struct page **pages)
{
	unsigned int n = 0;

	mutex_lock(&gdmabuf_pool_lock);
	if (gdmabuf_pool) {
		n = min(count, gdmabuf_pool_max - gdmabuf_pool_count);
		memcpy(gdmabuf_pool + gdmabuf_pool_count, pages + count - n, n * sizeof(*pages));
		gdmabuf_pool_count += n;
	}
	mutex_unlock(&gdmabuf_pool_lock);
	if (count > n)
		gnttab_free_pages(count - n, pages);
}

/* Fills @pages with @count grant pages, from the pool first. */
static int gdmabuf_pages_get(unsigned int count, struct page **pages)
{
	unsigned int n = 0;
	int ret;

	if (gdmabuf_fault())
		return -ENOMEM;
	mutex_lock(&gdmabuf_pool_lock);
	if (gdmabuf_pool) {
		n = min(count, gdmabuf_pool_count);
		gdmabuf_pool_count -= n;
		memcpy(pages, gdmabuf_pool + gdmabuf_pool_count, n * sizeof(*pages));
	}
	mutex_unlock(&gdmabuf_pool_lock);
	if (n == count)
		return 0;
	ret = gnttab_alloc_pages(count - n, pages + n);
	if (ret) {
		gdmabuf_pages_put(n, pages);
		return -ENOMEM;
	}
	return 0;
}

/**
 * gdmabuf_pool_init() - allocate the pool of reusable grant pages
 *
 * Return: 0, or -ENOMEM.
 */
int gdmabuf_pool_init(void)
{
	if (!gdmabuf_pool_max)
		return 0;
	gdmabuf_pool = kvcalloc(gdmabuf_pool_max, sizeof(*gdmabuf_pool), GFP_KERNEL);
	return gdmabuf_pool ? 0 : -ENOMEM;
}

/**
 * gdmabuf_pool_exit() - give every pooled page back to the balloon
 *
 * Called at module exit, when no export can exist any more.
 */
void gdmabuf_pool_exit(void)
{
	if (gdmabuf_pool_count)
		gnttab_free_pages(gdmabuf_pool_count, gdmabuf_pool);
	gdmabuf_pool_count = 0;
	kvfree(gdmabuf_pool);
	gdmabuf_pool = NULL;
}

/**
 * gdmabuf_pool_show() - debugfs "pool": "pages <n> max <m>"
 * @m: the seq_file to print to
 * @unused: seq_file show argument
 *
 * Return: 0.
 */
int gdmabuf_pool_show(struct seq_file *m, void *unused)
{
	unsigned int n;

	mutex_lock(&gdmabuf_pool_lock);
	n = gdmabuf_pool_count;
	mutex_unlock(&gdmabuf_pool_lock);
	seq_printf(m, "pages %u max %u\n", n, gdmabuf_pool_max);
	return 0;
}

static void gdmabuf_grants_free_pages(struct gdmabuf_grants *map)
{
	if (map->dma)
		gdmabuf_dma_free(map);
	else
		gdmabuf_pages_put(map->count, map->pages);
}

/**
 * gdmabuf_grants_map() - map foreign grants into freshly allocated pages
 * @map: the mapping to fill; @map->count, @map->domid and @map->refs set
 *	by the caller
 * @dma_flags: 0 for ballooned pages, or GNTDEV_DMA_FLAG_WC or
 *	GNTDEV_DMA_FLAG_COHERENT for a contiguous DMA buffer
 *
 * The grants are mapped writable: an export is shared both ways.
 * Either every reference is mapped, or none is: a partial failure unmaps
 * what was mapped and frees the pages.
 *
 * Return: 0, -ENOMEM, or -EINVAL when Xen refused a reference (bad
 * reference or domain; the first failing status is logged at debug level);
 * with @dma_flags also the errors of gdmabuf_dma_alloc().
 */
int gdmabuf_grants_map(struct gdmabuf_grants *map, u32 dma_flags)
{
	const u32 *refs = map->refs;
	struct gnttab_map_grant_ref *ops;
	unsigned int i, count = map->count;
	int ret, bad = 0;

	map->pages = gdmabuf_faultable(kvcalloc(count, sizeof(*map->pages), GFP_KERNEL), NULL);
	map->handles = gdmabuf_faultable(kvmalloc_array(count, sizeof(*map->handles), GFP_KERNEL),
					 NULL);
	ops = gdmabuf_faultable(kvcalloc(count, sizeof(*ops), GFP_KERNEL), NULL);
	if (!map->pages || !map->handles || !ops) {
		ret = -ENOMEM;
		goto err_free_arrays;
	}
	for (i = 0; i < count; i++)
		map->handles[i] = GDMABUF_INVALID_HANDLE;

	if (dma_flags) {
		ret = gdmabuf_dma_alloc(map, dma_flags & GNTDEV_DMA_FLAG_COHERENT);
		if (ret)
			goto err_free_arrays;
	} else {
		ret = gdmabuf_pages_get(count, map->pages);
		if (ret)
			goto err_free_arrays;
	}

	for (i = 0; i < count; i++)
		gnttab_set_map_op(&ops[i], gdmabuf_page_kaddr(map->pages[i]), GNTMAP_host_map,
				  refs[i], map->domid);
	/* An injected fault makes Xen itself refuse the last reference. */
	if (gdmabuf_fault())
		ops[count - 1].ref = ~0U;
	ret = gnttab_map_refs(ops, NULL, map->pages, count);

	for (i = 0; i < count; i++) {
		if (ops[i].status == GNTST_okay) {
			map->handles[i] = ops[i].handle;
			atomic64_inc(&gdmabuf_stats.mapped_grants);
		} else if (!bad) {
			bad = ops[i].status;
			pr_debug("mapping ref %u of domain %u failed: status %d\n",
				 refs[i], map->domid, bad);
		}
	}
	if (ret || bad) {
		ret = bad == GNTST_no_device_space ? -ENOMEM : -EINVAL;
		goto err_unmap;
	}
	kvfree(ops);
	return 0;

err_unmap:
	gdmabuf_unmap_handles(map->pages, map->handles, count);
	gdmabuf_grants_free_pages(map);
err_free_arrays:
	kvfree(ops);
	kvfree(map->handles);
	kvfree(map->pages);
	map->handles = NULL;
	map->pages = NULL;
	return ret;
}

/**
 * gdmabuf_grants_unmap() - undo gdmabuf_grants_map()
 * @map: a mapping that gdmabuf_grants_map() filled
 *
 * Sleeps until Xen has unmapped every grant (and no one else holds the
 * pages), then gives the pages back.
 */
void gdmabuf_grants_unmap(struct gdmabuf_grants *map)
{
	gdmabuf_unmap_handles(map->pages, map->handles, map->count);
	gdmabuf_grants_free_pages(map);
	kvfree(map->handles);
	kvfree(map->pages);
	map->handles = NULL;
	map->pages = NULL;
}
