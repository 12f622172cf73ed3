// SPDX-License-Identifier: GPL-2.0
/*
 * gntdev-dmabuf: exporting another domain's grant references as a dma-buf
 * (IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS): the exporter's callbacks and the
 * export's life until its grants are unmapped.  How the release is
 * reported is gdmabuf-release.c's business.
 */

#define pr_fmt(fmt) "gntdev-dmabuf: " fmt

#include <linux/dma-buf.h>
#include <linux/dma-direct.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/file.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/seq_file.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include <xen/grant_table.h>
#include <xen/page.h>
#include <xen/xen.h>

#include "gntdev-dmabuf.h"
#include "gdmabuf-compat.h"
#include "gdmabuf-debugfs.h"
#include "gdmabuf-dev.h"
#include "gdmabuf-export.h"
#include "gdmabuf-grant.h"
#include "gdmabuf-limits.h"
#include "gdmabuf-pv.h"
#include "gdmabuf-release.h"
#include "gdmabuf-selftest.h"

/**
 * struct gdmabuf_export - one exported dma-buf
 * @ref: held by the dma-buf until its release, by each waiter, and by
 *	the exporting file's release queue.
 * @id: the buffer's name in the GDMABUF_IOCTL_* interface; never reused.
 * @name: how the exporting file names it (gdmabuf-release.c).
 * @grants: the mapped foreign grants behind the dma-buf.
 * @released: completed when the dma-buf is released.
 * @lock: protects @attachments and @kmap.
 * @attachments: the &struct gdmabuf_attachment of each importer.
 * @kmap: the PV kernel mapping, made at the first vmap and kept until the
 *	release.
 * @all: entry in gdmabuf_all_exports while the dma-buf lives.
 * @flags: the GNTDEV_DMA_FLAG_* it was exported with.
 * @created: jiffies at export.
 *
 * @all is protected by gdmabuf_all_exports_lock and @name by
 * gdmabuf_release_lock (gdmabuf-release.c); @id, @grants, @flags and
 * @created are set before the dma-buf exists and read-only afterwards.
 */
struct gdmabuf_export {
	struct kref ref;
	u64 id;
	struct gdmabuf_release_name name;
	struct gdmabuf_grants grants;
	struct completion released;
	struct mutex lock;	/* protects attachments, kmap */
	struct list_head attachments;
	struct gdmabuf_pv_kmap *kmap;
	struct list_head all;
	u32 flags;
	unsigned long created;
};

/**
 * struct gdmabuf_attachment - one importer of an export
 * @node: entry in &gdmabuf_export.attachments.
 * @dev: the importing device.
 * @sgt: the importer's mapping while it has one, else NULL.
 * @dir: the direction of @sgt.
 * @needs_sync: CPU access must sync @sgt (gdmabuf_export_needs_sync(); never
 *	for a DMA-backed export).
 *
 * All fields but @dev are protected by &gdmabuf_export.lock.
 */
struct gdmabuf_attachment {
	struct list_head node;
	struct device *dev;
	struct sg_table *sgt;
	enum dma_data_direction dir;
	bool needs_sync;
};

/* Protects gdmabuf_all_exports: every live export, oldest first, for debugfs. */
static DEFINE_MUTEX(gdmabuf_all_exports_lock);
static LIST_HEAD(gdmabuf_all_exports);

/* Export ids start at 1 so that 0 never names a buffer. */
static atomic64_t gdmabuf_export_last_id = ATOMIC64_INIT(0);

static void gdmabuf_export_free(struct kref *ref)
{
	struct gdmabuf_export *exp = container_of(ref, struct gdmabuf_export, ref);

	mutex_destroy(&exp->lock);
	kfree(exp);
}

static int gdmabuf_export_attach(struct dma_buf *dmabuf, struct dma_buf_attachment *attach)
{
	struct gdmabuf_export *exp = dmabuf->priv;
	struct gdmabuf_attachment *a;

	a = gdmabuf_faultable(kzalloc(sizeof(*a), GFP_KERNEL), NULL);
	if (!a)
		return -ENOMEM;
	a->dev = attach->dev;
	attach->priv = a;
	mutex_lock(&exp->lock);
	list_add(&a->node, &exp->attachments);
	mutex_unlock(&exp->lock);
	return 0;
}

static void gdmabuf_export_detach(struct dma_buf *dmabuf, struct dma_buf_attachment *attach)
{
	struct gdmabuf_export *exp = dmabuf->priv;
	struct gdmabuf_attachment *a = attach->priv;

	mutex_lock(&exp->lock);
	list_del(&a->node);
	mutex_unlock(&exp->lock);
	kfree(a);
}

/*
 * Whether @next may share a table entry with @prev: swiotlb-xen gives a
 * device the bus frames of an entry only if they are consecutive too, and
 * bounces the entry otherwise (or fails beyond its 256 KiB slots).  The
 * local frames of a DMA-backed export are consecutive on purpose, but the
 * granter's frames behind them usually are not.
 */
static bool gdmabuf_export_pages_follow(struct page *prev, struct page *next)
{
	unsigned long pfn = page_to_pfn(prev);

	return page_to_pfn(next) == pfn + 1 &&
	       pfn_to_bfn(pfn + 1) == pfn_to_bfn(pfn) + 1;
}

/* Whether page @i of @exp starts a new entry after @len bytes in the last. */
static bool gdmabuf_export_new_entry(struct gdmabuf_export *exp, unsigned int i,
				     unsigned int len, unsigned int max_seg)
{
	return !i || len > max_seg - PAGE_SIZE ||
	       !gdmabuf_export_pages_follow(exp->grants.pages[i - 1], exp->grants.pages[i]);
}

/*
 * An entry grows while the next page follows both in local and in bus
 * frames, up to what the importing device @dev takes in one segment: an
 * importer that uses the table's pages (dma-direct, an IOMMU) and one that
 * uses their bus frames (swiotlb-xen) both reach the granter's memory
 * without a bounce buffer.
 */
static int gdmabuf_export_fill_table(struct gdmabuf_export *exp, struct device *dev,
				     struct sg_table *sgt)
{
	unsigned int max_seg = dma_get_max_seg_size(dev);
	unsigned int i, nents = 0, len = 0;
	struct scatterlist *sg = NULL;
	int ret;

	for (i = 0; i < exp->grants.count; i++, len += PAGE_SIZE) {
		if (gdmabuf_export_new_entry(exp, i, len, max_seg)) {
			nents++;
			len = 0;
		}
	}
	ret = gdmabuf_faultable(sg_alloc_table(sgt, nents, GFP_KERNEL), -ENOMEM);
	if (ret)
		return ret;
	for (i = 0; i < exp->grants.count; i++) {
		if (gdmabuf_export_new_entry(exp, i, sg ? sg->length : 0, max_seg)) {
			sg = sg ? sg_next(sg) : sgt->sgl;
			sg_set_page(sg, exp->grants.pages[i], PAGE_SIZE, 0);
		} else {
			sg->length += PAGE_SIZE;
		}
	}
	return 0;
}

/*
 * The CPU reaches a DMA-backed export only through write-combined or
 * coherent mappings (gdmabuf_dma_mmap(), the vmap), never through its
 * cache, so importers skip cache maintenance, as DRM's PRIME helpers do
 * for such memory.  It also keeps DMA-API debugging from taking the
 * importer's mapping for an overlap with the allocation.
 */
static unsigned long gdmabuf_export_dma_attrs(const struct gdmabuf_export *exp)
{
	return exp->grants.dma ? DMA_ATTR_SKIP_CPU_SYNC : 0;
}

/*
 * Whether syncing @sgt, just mapped for @dev, can do anything: copy
 * through a bounce buffer, or maintain the caches of a device that does
 * not snoop them.  A sync that can do neither still walks every entry
 * through the DMA ops, and on PV each entry is a page of the granter's
 * that rarely follows the last one: 2,025 entries at 1080p, so a CPU
 * reader's DMA_BUF_IOCTL_SYNC pair cost four times its read of the frame.
 *
 * dma_need_sync() answers for dma-direct; swiotlb-xen, the DMA ops of every
 * device of a PV dom0 and of most of an arm64 one, always says yes.  Its
 * address for a page it did not bounce is the page's bus frame, which
 * never lies in its bounce buffer.  Behind an IOMMU an address is an IOVA
 * that may equal a bus frame by chance, so those importers keep their
 * syncs.  (dma-direct.h and dma-map-ops.h are the DMA core's own headers:
 * fine out of tree, to be replaced by a DMA API helper upstream.)
 */
static bool gdmabuf_export_needs_sync(struct device *dev, struct sg_table *sgt)
{
	struct scatterlist *sg;
	unsigned int i;

	if (!dev_is_dma_coherent(dev) || device_iommu_mapped(dev) ||
	    sgt->nents != sgt->orig_nents)
		return true;
	for_each_sgtable_sg(sgt, sg, i) {
		phys_addr_t bus = (phys_addr_t)pfn_to_bfn(page_to_xen_pfn(sg_page(sg))) <<
				  XEN_PAGE_SHIFT;

		if (sg_dma_address(sg) != phys_to_dma(dev, bus) &&
		    dma_need_sync(dev, sg_dma_address(sg)))
			return true;
	}
	return false;
}

/* Context: the core holds the reservation lock from 6.2 (gdmabuf_assert_resv_held()). */
static struct sg_table *gdmabuf_export_map(struct dma_buf_attachment *attach,
					   enum dma_data_direction dir)
{
	struct gdmabuf_export *exp = attach->dmabuf->priv;
	struct gdmabuf_attachment *a = attach->priv;
	struct sg_table *sgt;
	bool needs_sync;
	int ret;

	gdmabuf_assert_resv_held(attach->dmabuf);
	sgt = gdmabuf_faultable(kzalloc(sizeof(*sgt), GFP_KERNEL), NULL);
	if (!sgt)
		return ERR_PTR(-ENOMEM);
	ret = gdmabuf_export_fill_table(exp, attach->dev, sgt);
	if (ret)
		goto err_free_sgt;
	/* The P2M already points at the foreign frames: DMA addresses follow. */
	ret = dma_map_sgtable(attach->dev, sgt, dir, gdmabuf_export_dma_attrs(exp));
	if (ret)
		goto err_free_table;

	/* A DMA-backed export is never synced (gdmabuf_export_dma_attrs()). */
	needs_sync = !exp->grants.dma && gdmabuf_export_needs_sync(attach->dev, sgt);
	mutex_lock(&exp->lock);
	a->sgt = sgt;
	a->dir = dir;
	a->needs_sync = needs_sync;
	mutex_unlock(&exp->lock);
	return sgt;

err_free_table:
	sg_free_table(sgt);
err_free_sgt:
	kfree(sgt);
	return ERR_PTR(ret);
}

/* Context: the core holds the reservation lock from 6.2. */
static void gdmabuf_export_unmap(struct dma_buf_attachment *attach,
				 struct sg_table *sgt, enum dma_data_direction dir)
{
	struct gdmabuf_export *exp = attach->dmabuf->priv;
	struct gdmabuf_attachment *a = attach->priv;

	gdmabuf_assert_resv_held(attach->dmabuf);
	mutex_lock(&exp->lock);
	if (a->sgt == sgt)
		a->sgt = NULL;
	mutex_unlock(&exp->lock);

	dma_unmap_sgtable(attach->dev, sgt, dir, gdmabuf_export_dma_attrs(exp));
	sg_free_table(sgt);
	kfree(sgt);
}

/*
 * CPU access brackets: make what devices wrote visible to the CPU, and
 * what the CPU wrote visible to devices, for every importer's mapping that
 * a sync can change (&gdmabuf_attachment.needs_sync: never for a
 * DMA-backed export).
 */
static void gdmabuf_export_sync(struct gdmabuf_export *exp, enum dma_data_direction dir,
				bool for_cpu)
{
	struct gdmabuf_attachment *a;

	mutex_lock(&exp->lock);
	list_for_each_entry(a, &exp->attachments, node) {
		if (!a->sgt || !a->needs_sync)
			continue;
		if (for_cpu)
			dma_sync_sgtable_for_cpu(a->dev, a->sgt, dir);
		else
			dma_sync_sgtable_for_device(a->dev, a->sgt, dir);
	}
	mutex_unlock(&exp->lock);
}

static int gdmabuf_export_begin_cpu_access(struct dma_buf *dmabuf,
					   enum dma_data_direction dir)
{
	gdmabuf_export_sync(dmabuf->priv, dir, true);
	return 0;
}

static int gdmabuf_export_end_cpu_access(struct dma_buf *dmabuf,
					 enum dma_data_direction dir)
{
	gdmabuf_export_sync(dmabuf->priv, dir, false);
	return 0;
}

/*
 * Auto-translated: the local frames stand for the foreign ones.  They are
 * mapped by frame number, so no page reference is taken (see
 * gdmabuf_export_do_mmap()).
 *
 * Context: the mmap lock held for reading.  A fault under the per-VMA
 * lock alone (6.4 and later) is retried under the mmap lock for a shared
 * mapping without ->map_pages, such as this one.
 */
static vm_fault_t gdmabuf_export_vm_fault(struct vm_fault *vmf)
{
	struct gdmabuf_export *exp = vmf->vma->vm_private_data;

	lockdep_assert_held(&vmf->vma->vm_mm->mmap_lock);
	if (vmf->pgoff >= exp->grants.count)
		return VM_FAULT_SIGBUS;
	return vmf_insert_pfn(vmf->vma, vmf->address, page_to_pfn(exp->grants.pages[vmf->pgoff]));
}

static const struct vm_operations_struct gdmabuf_export_vm_ops = {
	.fault = gdmabuf_export_vm_fault,
};

/* Every page now, as the stock gntdev does: a fault per page costs several times more. */
static int gdmabuf_export_map_pfns(struct gdmabuf_export *exp, struct vm_area_struct *vma)
{
	struct page **pages = exp->grants.pages + vma->vm_pgoff;
	unsigned int count = vma_pages(vma), i, n;
	unsigned long pfn;
	int ret;

	for (i = 0; i < count; i += n) {
		pfn = page_to_pfn(pages[i]);
		for (n = 1; i + n < count && page_to_pfn(pages[i + n]) == pfn + n; n++)
			;
		ret = remap_pfn_range(vma, vma->vm_start + ((unsigned long)i << PAGE_SHIFT), pfn,
				      (unsigned long)n << PAGE_SHIFT, vma->vm_page_prot);
		if (ret)
			return ret;
	}
	return 0;
}

/**
 * DOC: CPU mappings of an export
 *
 * An export's user mapping is a VM_PFNMAP | VM_IO mapping on every kind of
 * domain, as privcmd's foreign mappings are, and unlike the stock gntdev's
 * VM_MIXEDMAP one:
 *
 * - page-table walkers (clear_refs, pagemap, smaps, NUMA and migration,
 *   KSM, khugepaged, MGLRU) skip it, so none of them writes a granted PTE
 *   behind the module's back, which on PV Xen refuses or treats as an
 *   implicit unmap;
 * - get_user_pages() and pin_user_pages() refuse it, so no page reference
 *   (vmsplice, O_DIRECT, io_uring fixed buffers, process_vm_readv, ptrace
 *   and /proc/PID/mem) can outlive the grant mapping: those fail with
 *   EFAULT or EIO;
 * - madvise(MADV_DOFORK) refuses a VM_IO mapping, so VM_DONTCOPY holds and
 *   fork() never copies a granted PTE into another address space;
 * - madvise(MADV_DONTNEED) refuses a VM_PFNMAP mapping (EINVAL);
 * - core dumps skip it.
 *
 * The CPU still maps it with mmap(), and kernel importers still vmap it
 * and map it for DMA: those go through the module, not through the user
 * page tables.
 *
 * ->mmap runs with the mmap lock held for writing and, from 6.2, inside
 * it the buffer's reservation lock (see DOC: Locking).
 */
static int gdmabuf_export_do_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma)
{
	struct gdmabuf_export *exp = dmabuf->priv;

	/* Not mmap_assert_write_locked(): with DEBUG_VM it needs dump_mm(), unexported in 6.1. */
	lockdep_assert_held_write(&vma->vm_mm->mmap_lock);
	gdmabuf_assert_resv_held(dmabuf);
	/* A private mapping would let a COW fault replace a granted PTE. */
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	vm_flags_set(vma, VM_IO | VM_PFNMAP | VM_DONTCOPY | VM_DONTEXPAND | VM_DONTDUMP);
	if (!(vma->vm_flags & VM_WRITE))
		vm_flags_clear(vma, VM_MAYWRITE);

	if (exp->grants.dma)
		return gdmabuf_dma_mmap(&exp->grants, vma);
	if (xen_pv_domain())
		return gdmabuf_pv_mmap(&exp->grants, vma);
	vma->vm_private_data = exp;
	vma->vm_ops = &gdmabuf_export_vm_ops;
	return gdmabuf_export_map_pfns(exp, vma);
}

static int gdmabuf_export_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma)
{
	int ret = gdmabuf_export_do_mmap(dmabuf, vma);

	if (ret)
		gdmabuf_count_failure(GDMABUF_OP_MMAP, ret);
	return ret;
}

/* Context: the core holds the reservation lock from 6.2. */
static int gdmabuf_export_do_vmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct gdmabuf_export *exp = dmabuf->priv;
	struct gdmabuf_pv_kmap *kmap;
	void *vaddr;

	gdmabuf_assert_resv_held(dmabuf);
	if (xen_pv_domain()) {
		/*
		 * A scanout driver vmaps a framebuffer for every commit that
		 * shows it (vkms does): mapping every grant again each time
		 * would cost a hypercall per page per frame, so the mapping is
		 * kept from the first vmap until the release.
		 */
		mutex_lock(&exp->lock);
		kmap = exp->kmap;
		mutex_unlock(&exp->lock);
		if (!kmap) {
			kmap = gdmabuf_pv_vmap(&exp->grants);
			if (IS_ERR(kmap))
				return PTR_ERR(kmap);
			mutex_lock(&exp->lock);
			exp->kmap = kmap;
			mutex_unlock(&exp->lock);
		}
		vaddr = gdmabuf_pv_vaddr(kmap);
	} else {
		/* A DMA-backed export is never cached (gdmabuf_export_dma_attrs()). */
		vaddr = gdmabuf_faultable(vmap(exp->grants.pages, exp->grants.count, VM_MAP,
					       exp->grants.dma ? pgprot_writecombine(PAGE_KERNEL) :
					       PAGE_KERNEL), NULL);
		if (!vaddr)
			return -ENOMEM;
	}
	iosys_map_set_vaddr(map, vaddr);
	return 0;
}

static int gdmabuf_export_vmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	int ret = gdmabuf_export_do_vmap(dmabuf, map);

	if (ret)
		gdmabuf_count_failure(GDMABUF_OP_VMAP, ret);
	return ret;
}

/* Context: the core holds the reservation lock from 6.2. */
static void gdmabuf_export_vunmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	gdmabuf_assert_resv_held(dmabuf);
	/* PV: the mapping stays until the release (gdmabuf_export_do_vmap()). */
	if (!xen_pv_domain())
		vunmap(map->vaddr);
}

/*
 * The grants are really gone: only now is the release reported, the domain
 * uncharged and the export forgotten.
 */
static void gdmabuf_export_unmapped(void *arg)
{
	struct gdmabuf_export *exp = arg;

	kvfree(exp->grants.refs);
	exp->grants.refs = NULL;
	atomic64_dec(&gdmabuf_stats.live_exports);
	gdmabuf_uncharge_domain(exp->grants.domid, exp->grants.count);
	mutex_lock(&gdmabuf_all_exports_lock);
	list_del_init(&exp->all);
	mutex_unlock(&gdmabuf_all_exports_lock);
	gdmabuf_release_report(&exp->name, exp->grants.count);

	pr_debug("export %llu released\n", exp->id);
	complete_all(&exp->released);
	kref_put(&exp->ref, gdmabuf_export_free);
}

/*
 * Never waits for whoever still holds a page (gdmabuf_grants_unmap()): the
 * last close of a dma-buf must not hang on an unrelated reference.
 */
static void gdmabuf_export_release(struct dma_buf *dmabuf)
{
	struct gdmabuf_export *exp = dmabuf->priv;

	/* The kernel's mapping of the grants goes first: the last user is gone. */
	if (exp->kmap) {
		gdmabuf_pv_vunmap(exp->kmap);
		exp->kmap = NULL;
	}
	gdmabuf_grants_unmap(&exp->grants, gdmabuf_export_unmapped, exp);
}

static const struct dma_buf_ops gdmabuf_export_ops = {
	.attach = gdmabuf_export_attach,
	.detach = gdmabuf_export_detach,
	.map_dma_buf = gdmabuf_export_map,
	.unmap_dma_buf = gdmabuf_export_unmap,
	.begin_cpu_access = gdmabuf_export_begin_cpu_access,
	.end_cpu_access = gdmabuf_export_end_cpu_access,
	.mmap = gdmabuf_export_mmap,
	.vmap = gdmabuf_export_vmap,
	.vunmap = gdmabuf_export_vunmap,
	.release = gdmabuf_export_release,
};

/**
 * gdmabuf_is_export() - is this dma-buf one of our exports?
 * @dmabuf: any dma-buf
 *
 * Context: any.
 * Return: true if this module exported @dmabuf.
 */
bool gdmabuf_is_export(const struct dma_buf *dmabuf)
{
	return dmabuf->ops == &gdmabuf_export_ops;
}

/**
 * gdmabuf_export_name() - how the exporting file names an export
 * @dmabuf: any dma-buf; the caller holds a reference to it
 *
 * Context: any.
 * Return: the export's &struct gdmabuf_release_name, NULL if @dmabuf is
 * not one of our exports.
 */
struct gdmabuf_release_name *gdmabuf_export_name(const struct dma_buf *dmabuf)
{
	struct gdmabuf_export *exp = dmabuf->priv;

	return gdmabuf_is_export(dmabuf) ? &exp->name : NULL;
}

/**
 * gdmabuf_export_id() - an export's id
 * @exp: the export
 *
 * Context: any.
 * Return: the id, never 0 and never reused.
 */
u64 gdmabuf_export_id(const struct gdmabuf_export *exp)
{
	return exp->id;
}

/**
 * gdmabuf_export_get() - take a reference to an export
 * @exp: the export; the caller knows it is alive
 *
 * Context: any.
 */
void gdmabuf_export_get(struct gdmabuf_export *exp)
{
	kref_get(&exp->ref);
}

/**
 * gdmabuf_export_put() - drop a reference taken by gdmabuf_export_get()
 * @exp: the export
 *
 * Context: process context: the last reference frees the export.
 */
void gdmabuf_export_put(struct gdmabuf_export *exp)
{
	kref_put(&exp->ref, gdmabuf_export_free);
}

/**
 * gdmabuf_export_wait_released() - wait until an export's grants are gone
 * @exp: the export, referenced by the caller
 * @timeout_ms: how long to wait; 0 only checks
 *
 * Context: process context; sleeps unless @timeout_ms is 0.
 * Return: 0 once released; -ETIMEDOUT when @timeout_ms passed (at once
 * for 0); -ERESTARTSYS on a signal.
 */
int gdmabuf_export_wait_released(struct gdmabuf_export *exp, unsigned int timeout_ms)
{
	long left;

	if (!timeout_ms)
		return completion_done(&exp->released) ? 0 : -ETIMEDOUT;
	left = wait_for_completion_interruptible_timeout(&exp->released,
							 msecs_to_jiffies(timeout_ms));
	if (left < 0)
		return left;
	return left ? 0 : -ETIMEDOUT;
}

/*
 * Checks @op, charges @file and the granter, maps the grants and wraps
 * them in a new dma-buf.  Its fd is not reserved yet: from the return on,
 * dma_buf_put() undoes everything but the file's charge.
 */
static struct dma_buf *gdmabuf_export_create(struct gdmabuf_file *file,
					     const struct ioctl_gntdev_dmabuf_exp_from_refs *op,
					     const u32 __user *urefs)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);
	struct gdmabuf_export *exp;
	struct dma_buf *dmabuf;
	u32 *refs;
	int ret;

	if (!op->count || op->count > READ_ONCE(gdmabuf_max_pages_per_call))
		return ERR_PTR(-EINVAL);
	if (op->flags & ~(GNTDEV_DMA_FLAG_WC | GNTDEV_DMA_FLAG_COHERENT))
		return ERR_PTR(-EINVAL);
	if ((op->flags & GNTDEV_DMA_FLAG_WC) && (op->flags & GNTDEV_DMA_FLAG_COHERENT))
		return ERR_PTR(-EINVAL);
	if (op->domid >= DOMID_FIRST_RESERVED)
		return ERR_PTR(-EINVAL);

	ret = gdmabuf_charge(file->quota, op->domid, op->count);
	if (ret)
		return ERR_PTR(ret);
	refs = gdmabuf_faultable(kvmalloc_array(op->count, sizeof(*refs), GFP_KERNEL), NULL);
	if (!refs) {
		ret = -ENOMEM;
		goto err_uncharge;
	}
	if (copy_from_user(refs, urefs, op->count * sizeof(*refs))) {
		ret = -EFAULT;
		goto err_free_refs;
	}

	exp = gdmabuf_faultable(kzalloc(sizeof(*exp), GFP_KERNEL), NULL);
	if (!exp) {
		ret = -ENOMEM;
		goto err_free_refs;
	}
	kref_init(&exp->ref);
	gdmabuf_release_name_init(&exp->name, exp);
	init_completion(&exp->released);
	mutex_init(&exp->lock);
	INIT_LIST_HEAD(&exp->attachments);
	INIT_LIST_HEAD(&exp->all);
	exp->flags = op->flags;
	exp->created = jiffies;
	exp->grants.domid = op->domid;
	exp->grants.count = op->count;
	exp->grants.refs = refs;

	ret = gdmabuf_grants_map(&exp->grants, op->flags);
	if (ret)
		goto err_free_exp;
	exp->id = atomic64_inc_return(&gdmabuf_export_last_id);

	exp_info.ops = &gdmabuf_export_ops;
	exp_info.owner = THIS_MODULE;
	exp_info.size = (size_t)op->count << PAGE_SHIFT;
	exp_info.flags = O_RDWR;
	exp_info.priv = exp;
	dmabuf = gdmabuf_faultable(dma_buf_export(&exp_info), ERR_PTR(-ENOMEM));
	if (IS_ERR(dmabuf)) {
		ret = PTR_ERR(dmabuf);
		goto err_unmap;
	}
	atomic64_inc(&gdmabuf_stats.live_exports);
	mutex_lock(&gdmabuf_all_exports_lock);
	list_add_tail(&exp->all, &gdmabuf_all_exports);
	mutex_unlock(&gdmabuf_all_exports_lock);
	pr_debug("export %llu: %u pages of domain %u, flags %#x\n", exp->id, op->count,
		 op->domid, op->flags);
	return dmabuf;

err_unmap:
	gdmabuf_grants_unmap(&exp->grants, NULL, NULL);
err_free_exp:
	mutex_destroy(&exp->lock);
	kfree(exp);
err_free_refs:
	kvfree(refs);
err_uncharge:
	gdmabuf_uncharge_file(file->quota, op->count);
	gdmabuf_uncharge_domain(op->domid, op->count);
	return ERR_PTR(ret);
}

/**
 * gdmabuf_ioctl_gntdev_dmabuf_exp_from_refs() - IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS
 * @file: the calling file
 * @uarg: user pointer to &struct ioctl_gntdev_dmabuf_exp_from_refs
 *
 * Creates the export, reserves an fd, writes it to user space and only
 * then installs it, once nothing can fail any more.
 *
 * Context: process context; sleeps.
 * Return: 0; -EINVAL for a count of 0 or over the limit, unknown flags,
 * both DMA flags, a reserved domid, or a reference Xen refuses; -EDQUOT
 * above max_pages_per_file or max_pages_per_domain; with a
 * DMA flag, -EOPNOTSUPP on PV, -EINVAL above max_dma_pages, -ENOMEM when
 * no contiguous buffer is free, -EAGAIN when Xen took only part of the
 * frames; -EFAULT for a bad user pointer; -ENOMEM; -EMFILE when no fd is
 * free.
 */
long
gdmabuf_ioctl_gntdev_dmabuf_exp_from_refs(struct gdmabuf_file *file,
					  struct ioctl_gntdev_dmabuf_exp_from_refs __user *uarg)
{
	struct ioctl_gntdev_dmabuf_exp_from_refs op;
	struct gdmabuf_export *exp;
	struct dma_buf *dmabuf;
	int fd, ret;

	if (copy_from_user(&op, uarg, offsetof(typeof(op), refs)))
		return -EFAULT;
	dmabuf = gdmabuf_export_create(file, &op, uarg->refs);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	exp = dmabuf->priv;

	fd = gdmabuf_faultable(get_unused_fd_flags(O_CLOEXEC), -EMFILE);
	if (fd < 0) {
		ret = fd;
		goto err_put_dmabuf;
	}
	if (put_user(fd, &uarg->fd)) {
		ret = -EFAULT;
		goto err_put_fd;
	}
	gdmabuf_release_name_add(file, &exp->name, fd);
	fd_install(fd, dmabuf->file);
	return 0;

err_put_fd:
	put_unused_fd(fd);
err_put_dmabuf:
	/* ->release frees the export and uncharges the domain, not the file. */
	dma_buf_put(dmabuf);
	gdmabuf_uncharge_file(file->quota, op.count);
	return ret;
}

/**
 * gdmabuf_export_show() - list the live exports in debugfs "buffers"
 * @m: the seq_file
 *
 * One line per export: "export id=<id> domid=<granter> pages=<n>
 * flags=0x<GNTDEV_DMA_FLAG_* bits> importers=<attachments> mapped=<attachments
 * with a DMA mapping> file=<open|closed> age_ms=<ms> cpu_synced=<mapped
 * attachments that DMA_BUF_IOCTL_SYNC syncs>".
 *
 * Context: process context; takes gdmabuf_all_exports_lock, then each
 * export's lock and gdmabuf_release_lock.
 */
void gdmabuf_export_show(struct seq_file *m)
{
	struct gdmabuf_attachment *a;
	struct gdmabuf_export *exp;
	unsigned int n, mapped, synced;

	mutex_lock(&gdmabuf_all_exports_lock);
	list_for_each_entry(exp, &gdmabuf_all_exports, all) {
		n = 0;
		mapped = 0;
		synced = 0;
		mutex_lock(&exp->lock);
		list_for_each_entry(a, &exp->attachments, node) {
			n++;
			mapped += !!a->sgt;
			synced += a->sgt && a->needs_sync;
		}
		mutex_unlock(&exp->lock);
		seq_printf(m, "export id=%llu domid=%u pages=%u flags=0x%x importers=%u mapped=%u file=%s age_ms=%u cpu_synced=%u\n",
			   exp->id, exp->grants.domid, exp->grants.count, exp->flags, n, mapped,
			   gdmabuf_release_name_open(&exp->name) ? "open" : "closed",
			   jiffies_to_msecs(jiffies - exp->created), synced);
	}
	mutex_unlock(&gdmabuf_all_exports_lock);
}
