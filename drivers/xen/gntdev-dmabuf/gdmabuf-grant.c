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
#include <linux/module.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include <xen/grant_table.h>
#include <xen/page.h>

#include "gntdev-dmabuf.h"
#include "gdmabuf-debugfs.h"
#include "gdmabuf-grant.h"
#include "gdmabuf-selftest.h"

static unsigned long gdmabuf_page_kaddr(struct page *page)
{
	return (unsigned long)pfn_to_kaddr(page_to_pfn(page));
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

/*
 * Unmaps that wait for a page reference to drop run here.  Module exit
 * destroys it, which waits for the last work item to return after it
 * dropped the module reference its unmap took.
 */
static struct workqueue_struct *gdmabuf_unmap_wq;

/**
 * gdmabuf_grants_init() - allocate the page pool and the unmap workqueue
 *
 * Context: module init.
 * Return: 0, or -ENOMEM.
 */
int gdmabuf_grants_init(void)
{
	gdmabuf_unmap_wq = alloc_workqueue("gdmabuf-unmap", WQ_UNBOUND, 0);
	if (!gdmabuf_unmap_wq)
		return -ENOMEM;
	if (!gdmabuf_pool_max)
		return 0;
	gdmabuf_pool = kvcalloc(gdmabuf_pool_max, sizeof(*gdmabuf_pool), GFP_KERNEL);
	if (!gdmabuf_pool) {
		destroy_workqueue(gdmabuf_unmap_wq);
		return -ENOMEM;
	}
	return 0;
}

/**
 * gdmabuf_grants_exit() - give every pooled page back to the balloon
 *
 * Called at module exit, when no export can exist any more and no
 * deferred unmap is pending (each holds a module reference).
 *
 * Context: module exit, once no export is left.
 */
void gdmabuf_grants_exit(void)
{
	destroy_workqueue(gdmabuf_unmap_wq);
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
 * Context: process context; takes gdmabuf_pool_lock.
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

/* First retry 5 ms after a busy page is seen, then linearly later, 1 s at most. */
#define GDMABUF_UNMAP_RETRY_MS		5
#define GDMABUF_UNMAP_RETRY_MAX_MS	1000

/**
 * struct gdmabuf_unmap - the grants of one mapping on their way out
 * @work: retries while a page is still referenced.
 * @node: entry in gdmabuf_refused_unmaps while Xen refuses some unmaps.
 * @grants: the mapping, taken over from its owner: its pages, handles and
 *	DMA buffer now belong to the unmap (its refs do not).
 * @done: called once the grants are unmapped and the pages given back,
 *	if not NULL.
 * @arg: the argument of @done.
 * @ops: one unmap operation per grant still mapped.
 * @pages: the page of each operation.
 * @count: entries in @ops and @pages.
 * @age: retries so far.
 * @off_path: the unmap outlived gdmabuf_grants_unmap() (a page was
 *	referenced, or Xen refused an unmap): it holds a module reference.
 */
struct gdmabuf_unmap {
	struct delayed_work work;
	struct list_head node;
	struct gdmabuf_grants grants;
	void (*done)(void *arg);
	void *arg;
	struct gnttab_unmap_grant_ref *ops;
	struct page **pages;
	unsigned int count;
	unsigned int age;
	bool off_path;
};

/*
 * Unmaps some of whose grants Xen refused to unmap.  Their pages still show
 * the granter's frames: they are never reused, and the buffer's release is
 * never reported.  Only test builds try them again.
 */
static DEFINE_MUTEX(gdmabuf_refused_lock);	/* protects gdmabuf_refused_unmaps */
static LIST_HEAD(gdmabuf_refused_unmaps);

static void gdmabuf_unmap_hold_module(struct gdmabuf_unmap *u)
{
	if (!u->off_path)
		__module_get(THIS_MODULE);
	u->off_path = true;
}

/*
 * Someone besides the grant mapping holds a page (an importer's get_page(),
 * a DMA in flight): Xen must not take the frame away under them.
 */
static bool gdmabuf_unmap_busy(const struct gdmabuf_unmap *u)
{
	unsigned int i;

	for (i = 0; i < u->count; i++)
		if (page_count(u->pages[i]) > 1)
			return true;
	return false;
}

/* Every grant is unmapped: give the pages back, then tell the owner. */
static void gdmabuf_unmap_done(struct gdmabuf_unmap *u)
{
	struct gdmabuf_grants *map = &u->grants;
	void (*done)(void *arg) = u->done;
	bool off_path = u->off_path;
	void *arg = u->arg;

	if (map->dma)
		gdmabuf_dma_free(map);
	else
		gdmabuf_pages_put(map->count, map->pages);
	kvfree(map->handles);
	kvfree(map->pages);
	kvfree(u->pages);
	kvfree(u->ops);
	kfree(u);

	if (done)
		done(arg);
	if (off_path)
		module_put(THIS_MODULE);
}

/*
 * Unmaps the grants of @u.  What Xen refused stays in @u, which goes to
 * gdmabuf_refused_unmaps; otherwise the unmap is done.
 */
static void gdmabuf_unmap_now(struct gdmabuf_unmap *u)
{
	unsigned int i, n = 0;
	int ret;

	/* An operation Xen never got to must not pass for unmapped. */
	for (i = 0; i < u->count; i++)
		u->ops[i].status = GNTST_general_error;
	gdmabuf_fault_unmap(u->ops, u->count);
	ret = u->count ? gnttab_unmap_refs(u->ops, NULL, u->pages, u->count) : 0;
	if (ret)
		pr_debug("unmapping %u grants of domain %u: %d\n", u->count, u->grants.domid, ret);
	for (i = 0; i < u->count; i++) {
		if (u->ops[i].status == GNTST_okay)
			continue;
		pr_err("unmapping grant handle %u of domain %u failed: status %d; its buffer is never reused or reported released\n",
		       u->ops[i].handle, u->grants.domid, u->ops[i].status);
		u->ops[n] = u->ops[i];
		u->pages[n++] = u->pages[i];
	}
	/* A refused unmap leaves the grant mapped: it stays counted. */
	atomic64_sub(u->count - n, &gdmabuf_stats.mapped_grants);
	u->count = n;
	if (!n) {
		gdmabuf_unmap_done(u);
		return;
	}
	atomic64_add(n, &gdmabuf_stats.refused_unmaps);
	gdmabuf_unmap_hold_module(u);
	mutex_lock(&gdmabuf_refused_lock);
	list_add_tail(&u->node, &gdmabuf_refused_unmaps);
	mutex_unlock(&gdmabuf_refused_lock);
}

static void gdmabuf_unmap_work(struct work_struct *work)
{
	struct gdmabuf_unmap *u = container_of(to_delayed_work(work), struct gdmabuf_unmap, work);
	unsigned int delay;

	if (!gdmabuf_unmap_busy(u)) {
		atomic64_dec(&gdmabuf_stats.pending_unmaps);
		gdmabuf_unmap_now(u);
		return;
	}
	if (u->age < UINT_MAX)
		u->age++;
	delay = min_t(unsigned long, (unsigned long)GDMABUF_UNMAP_RETRY_MS * (u->age + 1),
		      GDMABUF_UNMAP_RETRY_MAX_MS);
	queue_delayed_work(gdmabuf_unmap_wq, &u->work, msecs_to_jiffies(delay));
}

/**
 * gdmabuf_grants_unmap() - undo gdmabuf_grants_map(), without waiting
 * @map: a mapping that gdmabuf_grants_map() filled; its pages, handles
 *	and DMA buffer are taken over at once (its refs stay the caller's)
 * @done: called once every grant is unmapped and the pages given back,
 *	or NULL
 * @arg: the argument of @done
 *
 * Unmaps at once when no page is referenced beyond the mapping, the usual
 * case, and calls @done before returning.  Otherwise returns at once and
 * retries from a workqueue until the references drop (counted in
 * pending_unmaps); @done then runs there.  The caller never waits on
 * whoever holds the pages.  If Xen refuses to unmap a grant, @done is
 * never called (refused_unmaps): the pages still show the granter's frames.
 *
 * Context: process context; may sleep.
 */
void gdmabuf_grants_unmap(struct gdmabuf_grants *map, void (*done)(void *arg), void *arg)
{
	struct gdmabuf_unmap *u;
	unsigned int i, n = 0;

	might_sleep();
	u = kzalloc(sizeof(*u), GFP_KERNEL | __GFP_NOFAIL);
	u->ops = kvcalloc(map->count, sizeof(*u->ops), GFP_KERNEL | __GFP_NOFAIL);
	u->pages = kvcalloc(map->count, sizeof(*u->pages), GFP_KERNEL | __GFP_NOFAIL);
	for (i = 0; i < map->count; i++) {
		if (map->handles[i] == GDMABUF_INVALID_HANDLE)
			continue;
		gnttab_set_unmap_op(&u->ops[n], gdmabuf_page_kaddr(map->pages[i]),
				    GNTMAP_host_map, map->handles[i]);
		u->pages[n++] = map->pages[i];
		map->handles[i] = GDMABUF_INVALID_HANDLE;
	}
	u->count = n;
	u->grants = *map;
	map->pages = NULL;
	map->handles = NULL;
	map->dma = NULL;
	u->done = done;
	u->arg = arg;
	INIT_LIST_HEAD(&u->node);
	INIT_DELAYED_WORK(&u->work, gdmabuf_unmap_work);

	if (!gdmabuf_unmap_busy(u)) {
		gdmabuf_unmap_now(u);
		return;
	}
	pr_debug("unmap of %u grants of domain %u deferred: a page is still referenced\n",
		 n, u->grants.domid);
	gdmabuf_unmap_hold_module(u);
	atomic64_inc(&gdmabuf_stats.pending_unmaps);
	queue_delayed_work(gdmabuf_unmap_wq, &u->work, msecs_to_jiffies(GDMABUF_UNMAP_RETRY_MS));
}

#ifdef GDMABUF_SELFTEST
/**
 * gdmabuf_grants_retry_refused() - try the refused grant unmaps again
 *
 * Test builds only: the selftest refuses unmaps on purpose and restores
 * the right handles (gdmabuf_fault_unmap_undo()) before this runs.
 *
 * Context: process context; takes gdmabuf_refused_lock.
 * Return: how many grant unmaps Xen still refuses.
 */
unsigned int gdmabuf_grants_retry_refused(void)
{
	struct gdmabuf_unmap *u, *next;
	unsigned int left = 0;
	LIST_HEAD(retry);

	mutex_lock(&gdmabuf_refused_lock);
	list_splice_init(&gdmabuf_refused_unmaps, &retry);
	mutex_unlock(&gdmabuf_refused_lock);
	list_for_each_entry_safe(u, next, &retry, node) {
		list_del_init(&u->node);
		atomic64_sub(u->count, &gdmabuf_stats.refused_unmaps);
		gdmabuf_fault_unmap_undo(u->ops, u->count);
		gdmabuf_unmap_now(u);
	}
	mutex_lock(&gdmabuf_refused_lock);
	list_for_each_entry(u, &gdmabuf_refused_unmaps, node)
		left += u->count;
	mutex_unlock(&gdmabuf_refused_lock);
	return left;
}
#endif

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
 * Context: process context; sleeps.
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
	/* Nobody saw the pages: this completes at once. */
	gdmabuf_grants_unmap(map, NULL, NULL);
	kvfree(ops);
	return ret;
err_free_arrays:
	kvfree(ops);
	kvfree(map->handles);
	kvfree(map->pages);
	map->handles = NULL;
	map->pages = NULL;
	return ret;
}
