// SPDX-License-Identifier: GPL-2.0
/*
 * gntdev-dmabuf: CPU mappings of an export on a PV domain.
 *
 * A PV domain writes machine frame numbers into its page tables, and Xen
 * refuses a plain PTE that points at another domain's frame.  Such a PTE
 * can only be written by Xen itself, as a grant mapping with
 * GNTMAP_contains_pte whose host address is the machine address of the
 * PTE.  So every user mapping, and the kernel's vmap, maps each grant once
 * more, straight into its PTE.
 *
 * The grant must be unmapped before Linux zaps the PTE: Xen treats a PTE
 * cleared by the domain itself as an "implicit unmap" (debug builds crash
 * the domain, release builds leave the grant mapped for good), and the zap
 * would drop a page reference that was never taken.  An MMU interval
 * notifier does that for user mappings, and a fault handler maps a page
 * again if it is touched after a zap that left the VMA in place
 * (madvise(MADV_DONTNEED), a refused mremap()).
 */

#define pr_fmt(fmt) "gntdev-dmabuf: " fmt

#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include <xen/grant_table.h>
#include <xen/xen.h>

#include <asm/xen/hypercall.h>
#include <asm/pgtable_types.h>
#include <asm/xen/page.h>

#include "gdmabuf-debugfs.h"
#include "gdmabuf-grant.h"
#include "gdmabuf-limits.h"
#include "gdmabuf-pv.h"
#include "gdmabuf-selftest.h"
#include "gdmabuf-compat.h"

/*
 * Operations per hypercall.  The arrays live on the stack because the
 * unmap runs from an MMU notifier, where allocating memory could recurse
 * into reclaim.
 */
#define GDMABUF_PTE_BATCH	32

#define GDMABUF_PTE_FLAGS	(GNTMAP_host_map | GNTMAP_contains_pte)
/*
 * Available bit 0 of a PTE is _PAGE_SPECIAL: vm_normal_page() finds no
 * page behind it, as for any PTE of a VM_PFNMAP mapping.
 */
#define GDMABUF_USER_FLAGS	(GDMABUF_PTE_FLAGS | GNTMAP_application_map | \
				 (1 << _GNTMAP_guest_avail0))

/*
 * Maps refs[i] into the PTE at machine address ptes[i] for every i below
 * @count whose handle is invalid.  Return: 0, or the first Xen status that
 * was not GNTST_okay (the other pages are still mapped).
 */
static int gdmabuf_pte_map(const u64 *ptes, const u32 *refs, domid_t domid,
			   u32 flags, grant_handle_t *handles, unsigned int count)
{
	struct gnttab_map_grant_ref ops[GDMABUF_PTE_BATCH];
	unsigned int idx[GDMABUF_PTE_BATCH];
	unsigned int i = 0, n, k;
	int bad = 0;

	while (i < count) {
		for (n = 0; n < GDMABUF_PTE_BATCH && i < count; i++) {
			if (handles[i] != GDMABUF_INVALID_HANDLE)
				continue;
			gnttab_set_map_op(&ops[n], ptes[i], flags, refs[i], domid);
			idx[n++] = i;
		}
		if (!n)
			continue;
		gnttab_batch_map(ops, n);
		for (k = 0; k < n; k++) {
			if (ops[k].status == GNTST_okay) {
				handles[idx[k]] = ops[k].handle;
				atomic64_inc(&gdmabuf_stats.mapped_grants);
			} else if (!bad) {
				bad = ops[k].status;
			}
		}
	}
	return bad;
}

/* Undoes gdmabuf_pte_map() for every valid handle below @count. */
static void gdmabuf_pte_unmap(const u64 *ptes, u32 flags, grant_handle_t *handles,
			      unsigned int count)
{
	struct gnttab_unmap_grant_ref ops[GDMABUF_PTE_BATCH];
	unsigned int i = 0, n, k;

	while (i < count) {
		for (n = 0; n < GDMABUF_PTE_BATCH && i < count; i++) {
			if (handles[i] == GDMABUF_INVALID_HANDLE)
				continue;
			gnttab_set_unmap_op(&ops[n++], ptes[i], flags, handles[i]);
			handles[i] = GDMABUF_INVALID_HANDLE;
		}
		if (!n)
			continue;
		if (HYPERVISOR_grant_table_op(GNTTABOP_unmap_grant_ref, ops, n))
			pr_err("unmapping %u PTE grants failed\n", n);
		for (k = 0; k < n; k++)
			if (ops[k].status != GNTST_okay)
				pr_err("unmapping PTE grant handle %u failed: status %d\n",
				       ops[k].handle, ops[k].status);
		atomic64_sub(n, &gdmabuf_stats.mapped_grants);
	}
}

struct gdmabuf_pte_walk {
	unsigned long start;
	u64 *ptes;
};

static int gdmabuf_pte_note(pte_t *pte, unsigned long addr, void *data)
{
	struct gdmabuf_pte_walk *walk = data;

	walk->ptes[(addr - walk->start) >> PAGE_SHIFT] = arbitrary_virt_to_machine(pte).maddr;
	return 0;
}

/*
 * Fills ptes[] with the machine addresses of the PTEs of [start, +count)
 * in the user address space @mm, creating page tables as needed.
 */
static int gdmabuf_pte_find_user(struct mm_struct *mm, unsigned long start,
				 unsigned int count, u64 *ptes)
{
	struct gdmabuf_pte_walk walk = { .start = start, .ptes = ptes };

	return apply_to_page_range(mm, start, (unsigned long)count << PAGE_SHIFT,
				   gdmabuf_pte_note, &walk);
}

/* The same for a kernel range that vmap() populated with 4K PTEs. */
static int gdmabuf_pte_find_kernel(unsigned long start, unsigned int count, u64 *ptes)
{
	unsigned int i, level;
	pte_t *pte;

	for (i = 0; i < count; i++) {
		pte = lookup_address(start + ((unsigned long)i << PAGE_SHIFT), &level);
		if (!pte || level != PG_LEVEL_4K)
			return -EFAULT;
		ptes[i] = arbitrary_virt_to_machine(pte).maddr;
	}
	return 0;
}

/**
 * struct gdmabuf_umap - the grant mappings behind one user mapping
 * @notifier: unmaps the grants before Linux zaps their PTEs.
 * @lock: protects @handles and @ptes, and orders faults against @notifier.
 * @users: the VMAs sharing this state (more than one after a split).
 * @grants: the export's grants; the VMA's file reference keeps them alive.
 * @start: user address of page @first of the buffer.
 * @first: first buffer page mapped.
 * @count: pages mapped.
 * @ptes: machine address of the PTE of each page, 0 if not yet known.
 * @handles: Xen's handle of each page's PTE mapping, or
 *	GDMABUF_INVALID_HANDLE.
 */
struct gdmabuf_umap {
	struct mmu_interval_notifier notifier;
	struct mutex lock;	/* protects handles, ptes; see above */
	refcount_t users;
	const struct gdmabuf_grants *grants;
	unsigned long start;
	unsigned int first;
	unsigned int count;
	u64 *ptes;
	grant_handle_t *handles;
};

static u32 gdmabuf_umap_flags(const struct vm_area_struct *vma)
{
	return GDMABUF_USER_FLAGS | (vma->vm_flags & VM_WRITE ? 0 : GNTMAP_readonly);
}

static void gdmabuf_umap_free(struct gdmabuf_umap *umap)
{
	kvfree(umap->handles);
	kvfree(umap->ptes);
	kfree(umap);
}

static bool gdmabuf_umap_invalidate(struct mmu_interval_notifier *mni,
				    const struct mmu_notifier_range *range,
				    unsigned long cur_seq)
{
	struct gdmabuf_umap *umap = container_of(mni, struct gdmabuf_umap, notifier);
	unsigned long end = umap->start + ((unsigned long)umap->count << PAGE_SHIFT);
	unsigned long from, to;

	/* Sleeping is needed; only the OOM reaper asks otherwise, and it skips shared VMAs. */
	if (!mmu_notifier_range_blockable(range))
		return false;

	mutex_lock(&umap->lock);
	mmu_interval_set_seq(mni, cur_seq);
	from = max(range->start, umap->start);
	to = min(range->end, end);
	if (from < to) {
		unsigned int i = (from - umap->start) >> PAGE_SHIFT;

		gdmabuf_pte_unmap(umap->ptes + i, GDMABUF_USER_FLAGS, umap->handles + i,
				  (to - from) >> PAGE_SHIFT);
	}
	mutex_unlock(&umap->lock);
	return true;
}

static const struct mmu_interval_notifier_ops gdmabuf_umap_notifier_ops = {
	.invalidate = gdmabuf_umap_invalidate,
};

/* Context: a VMA split, the mmap lock held for writing. */
static void gdmabuf_umap_vm_open(struct vm_area_struct *vma)
{
	struct gdmabuf_umap *umap = vma->vm_private_data;

	lockdep_assert_held_write(&vma->vm_mm->mmap_lock);
	refcount_inc(&umap->users);
}

/* Context: the mmap lock held, for reading after munmap() downgraded it. */
static void gdmabuf_umap_vm_close(struct vm_area_struct *vma)
{
	struct gdmabuf_umap *umap = vma->vm_private_data;

	lockdep_assert_held(&vma->vm_mm->mmap_lock);
	if (!refcount_dec_and_test(&umap->users))
		return;
	mmu_interval_notifier_remove(&umap->notifier);
	/* The zap that preceded close went through the notifier; this is a safety net. */
	gdmabuf_pte_unmap(umap->ptes, GDMABUF_USER_FLAGS, umap->handles, umap->count);
	gdmabuf_uncharge_domain(umap->grants->domid, umap->count);
	gdmabuf_umap_free(umap);
}

/* Moving the PTEs would move Xen's mappings under its feet. */
static int gdmabuf_umap_vm_mremap(struct vm_area_struct *vma)
{
	return -EINVAL;
}

/* Context: the mmap lock held for reading (see gdmabuf_export_vm_fault()). */
static vm_fault_t gdmabuf_umap_vm_fault(struct vm_fault *vmf)
{
	struct gdmabuf_umap *umap = vmf->vma->vm_private_data;
	unsigned long addr = vmf->address & PAGE_MASK;
	unsigned int i = (addr - umap->start) >> PAGE_SHIFT;
	unsigned long seq;
	u64 pte;
	int bad;

	lockdep_assert_held(&vmf->vma->vm_mm->mmap_lock);
	if (addr < umap->start || i >= umap->count)
		return VM_FAULT_SIGBUS;

	seq = mmu_interval_read_begin(&umap->notifier);
	if (gdmabuf_pte_find_user(vmf->vma->vm_mm, addr, 1, &pte))
		return VM_FAULT_OOM;

	mutex_lock(&umap->lock);
	if (mmu_interval_read_retry(&umap->notifier, seq)) {
		mutex_unlock(&umap->lock);
		return VM_FAULT_NOPAGE;	/* fault again */
	}
	umap->ptes[i] = pte;
	/* mprotect() may have taken write access away since mmap(). */
	bad = gdmabuf_pte_map(umap->ptes + i, umap->grants->refs + umap->first + i,
			      umap->grants->domid, gdmabuf_umap_flags(vmf->vma),
			      umap->handles + i, 1);
	mutex_unlock(&umap->lock);
	if (bad) {
		pr_info_ratelimited("mapping a grant of domain %u on fault failed: status %d\n",
				    umap->grants->domid, bad);
		return VM_FAULT_SIGBUS;
	}
	return VM_FAULT_NOPAGE;
}

static const struct vm_operations_struct gdmabuf_umap_vm_ops = {
	.open = gdmabuf_umap_vm_open,
	.close = gdmabuf_umap_vm_close,
	.mremap = gdmabuf_umap_vm_mremap,
	.fault = gdmabuf_umap_vm_fault,
};

/**
 * gdmabuf_pv_mmap() - map an export's grants into a user VMA on PV
 * @grants: the export's grants
 * @vma: the new VMA, its offset and size already checked against the
 *	buffer
 *
 * Every page is mapped at once, one grant mapping per PTE; pages zapped
 * later come back through the fault handler.  Each of those mappings takes
 * an entry of dom0's maptrack table, which every backend shares, so the
 * mapped pages are charged to the granting domain like an export's.
 *
 * Context: the mmap lock held for writing.
 * Return: 0; -EDQUOT above max_pages_per_domain; -ENOMEM; -EINVAL when Xen
 * refused a mapping (the granter ended its grant, or the maptrack table is
 * full).
 */
int gdmabuf_pv_mmap(const struct gdmabuf_grants *grants, struct vm_area_struct *vma)
{
	struct gdmabuf_umap *umap;
	unsigned int i;
	int ret, bad;

	/* Not mmap_assert_write_locked(): with DEBUG_VM it needs dump_mm(), unexported in 6.1. */
	lockdep_assert_held_write(&vma->vm_mm->mmap_lock);
	ret = gdmabuf_charge_domain(grants->domid, vma_pages(vma));
	if (ret)
		return ret;
	umap = gdmabuf_faultable(kzalloc(sizeof(*umap), GFP_KERNEL), NULL);
	if (!umap) {
		ret = -ENOMEM;
		goto err_uncharge;
	}
	mutex_init(&umap->lock);
	refcount_set(&umap->users, 1);
	umap->grants = grants;
	umap->start = vma->vm_start;
	umap->first = vma->vm_pgoff;
	umap->count = vma_pages(vma);
	umap->ptes = gdmabuf_faultable(kvcalloc(umap->count, sizeof(*umap->ptes), GFP_KERNEL),
				       NULL);
	umap->handles = kvmalloc_array(umap->count, sizeof(*umap->handles), GFP_KERNEL);
	if (!umap->ptes || !umap->handles) {
		ret = -ENOMEM;
		goto err_free;
	}
	for (i = 0; i < umap->count; i++)
		umap->handles[i] = GDMABUF_INVALID_HANDLE;

	ret = mmu_interval_notifier_insert_locked(&umap->notifier, vma->vm_mm, vma->vm_start,
						  vma->vm_end - vma->vm_start,
						  &gdmabuf_umap_notifier_ops);
	if (ret)
		goto err_free;

	/*
	 * While any invalidation of this mm is running (a copy-on-write fault
	 * under its VMA lock, reclaim, a hole punched in a mapped file), the
	 * notifier may join the tree only when the last one ends, and a zap of
	 * this range would not call it before then.  Wait for that.
	 */
	mmu_interval_read_begin(&umap->notifier);
	ret = gdmabuf_pte_find_user(vma->vm_mm, umap->start, umap->count, umap->ptes);
	if (ret)
		goto err_remove_notifier;

	mutex_lock(&umap->lock);
	bad = gdmabuf_pte_map(umap->ptes, grants->refs + umap->first, grants->domid,
			      gdmabuf_umap_flags(vma), umap->handles, umap->count);
	if (bad) {
		gdmabuf_pte_unmap(umap->ptes, GDMABUF_USER_FLAGS, umap->handles, umap->count);
		mutex_unlock(&umap->lock);
		pr_info_ratelimited("mapping grants of domain %u for user space failed: status %d\n",
				    grants->domid, bad);
		ret = -EINVAL;
		goto err_remove_notifier;
	}
	mutex_unlock(&umap->lock);

	vma->vm_private_data = umap;
	vma->vm_ops = &gdmabuf_umap_vm_ops;
	return 0;

err_remove_notifier:
	mmu_interval_notifier_remove(&umap->notifier);
err_free:
	gdmabuf_umap_free(umap);
err_uncharge:
	gdmabuf_uncharge_domain(grants->domid, vma_pages(vma));
	return ret;
}

/**
 * struct gdmabuf_pv_kmap - a kernel virtual mapping of an export on PV
 * @vaddr: where the buffer is mapped.
 * @placeholder: the page vmap() first maps everywhere, so that the area has
 *	PTEs for Xen to replace.
 * @domid: the granting domain, charged for the mapping.
 * @count: pages mapped.
 * @ptes: machine address of each page's PTE.
 * @handles: Xen's handle of each page's mapping.
 */
struct gdmabuf_pv_kmap {
	void *vaddr;
	struct page *placeholder;
	domid_t domid;
	unsigned int count;
	u64 *ptes;
	grant_handle_t *handles;
};

static void gdmabuf_pv_kmap_free(struct gdmabuf_pv_kmap *kmap)
{
	kvfree(kmap->handles);
	kvfree(kmap->ptes);
	if (kmap->placeholder)
		__free_page(kmap->placeholder);
	kfree(kmap);
}

/**
 * gdmabuf_pv_vmap() - map an export's grants contiguously into the kernel
 * @grants: the export's grants
 *
 * The pages are charged to the granting domain, as for gdmabuf_pv_mmap().
 *
 * Context: process context; sleeps.  From 6.2 the reservation lock is held.
 * Return: the mapping, or an ERR_PTR: -EDQUOT above max_pages_per_domain;
 * -ENOMEM; -EINVAL when Xen refused a mapping.
 */
struct gdmabuf_pv_kmap *gdmabuf_pv_vmap(const struct gdmabuf_grants *grants)
{
	struct gdmabuf_pv_kmap *kmap;
	struct page **pages;
	unsigned int i;
	int ret, bad;

	ret = gdmabuf_charge_domain(grants->domid, grants->count);
	if (ret)
		return ERR_PTR(ret);
	kmap = gdmabuf_faultable(kzalloc(sizeof(*kmap), GFP_KERNEL), NULL);
	if (!kmap) {
		ret = -ENOMEM;
		goto err_uncharge;
	}
	kmap->domid = grants->domid;
	kmap->count = grants->count;
	kmap->placeholder = gdmabuf_faultable(alloc_page(GFP_KERNEL), NULL);
	kmap->ptes = kvcalloc(kmap->count, sizeof(*kmap->ptes), GFP_KERNEL);
	kmap->handles = kvmalloc_array(kmap->count, sizeof(*kmap->handles), GFP_KERNEL);
	pages = kvmalloc_array(kmap->count, sizeof(*pages), GFP_KERNEL);
	if (!kmap->placeholder || !kmap->ptes || !kmap->handles || !pages) {
		ret = -ENOMEM;
		goto err_free;
	}
	for (i = 0; i < kmap->count; i++) {
		kmap->handles[i] = GDMABUF_INVALID_HANDLE;
		pages[i] = kmap->placeholder;
	}

	kmap->vaddr = vmap(pages, kmap->count, VM_MAP, PAGE_KERNEL_RO);
	if (!kmap->vaddr) {
		ret = -ENOMEM;
		goto err_free;
	}
	ret = gdmabuf_pte_find_kernel((unsigned long)kmap->vaddr, kmap->count, kmap->ptes);
	if (ret)
		goto err_vunmap;
	bad = gdmabuf_pte_map(kmap->ptes, grants->refs, grants->domid, GDMABUF_PTE_FLAGS,
			      kmap->handles, kmap->count);
	if (bad) {
		pr_info_ratelimited("mapping grants of domain %u for vmap failed: status %d\n",
				    grants->domid, bad);
		ret = -EINVAL;
		goto err_unmap_grants;
	}
	kvfree(pages);
	return kmap;

err_unmap_grants:
	gdmabuf_pte_unmap(kmap->ptes, GDMABUF_PTE_FLAGS, kmap->handles, kmap->count);
err_vunmap:
	vunmap(kmap->vaddr);
err_free:
	kvfree(pages);
	gdmabuf_pv_kmap_free(kmap);
err_uncharge:
	gdmabuf_uncharge_domain(grants->domid, grants->count);
	return ERR_PTR(ret);
}

/**
 * gdmabuf_pv_vaddr() - the address of a PV kernel mapping
 * @kmap: a mapping made by gdmabuf_pv_vmap()
 *
 * Context: any.
 * Return: the start of the mapping.
 */
void *gdmabuf_pv_vaddr(const struct gdmabuf_pv_kmap *kmap)
{
	return kmap->vaddr;
}

/**
 * gdmabuf_pv_vunmap() - undo gdmabuf_pv_vmap()
 * @kmap: the mapping
 *
 * Xen clears the PTEs as it unmaps the grants; vunmap() then finds them
 * empty.
 *
 * Context: process context; sleeps.  From 6.2 the reservation lock is held.
 */
void gdmabuf_pv_vunmap(struct gdmabuf_pv_kmap *kmap)
{
	gdmabuf_pte_unmap(kmap->ptes, GDMABUF_PTE_FLAGS, kmap->handles, kmap->count);
	vunmap(kmap->vaddr);
	gdmabuf_uncharge_domain(kmap->domid, kmap->count);
	gdmabuf_pv_kmap_free(kmap);
}
