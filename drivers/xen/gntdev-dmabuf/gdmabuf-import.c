// SPDX-License-Identifier: GPL-2.0
/*
 * gntdev-dmabuf: granting a local dma-buf's pages to another domain
 * (IOCTL_GNTDEV_DMABUF_IMP_TO_REFS, GDMABUF_IOCTL_IMP_TO_REFS) and ending
 * those grants safely (IOCTL_GNTDEV_DMABUF_IMP_RELEASE,
 * GDMABUF_IOCTL_IMP_RELEASE, closing the file).
 *
 * A grant can only be ended once the peer has unmapped it.  Until then
 * the import keeps its attachment, its DMA mapping and its dma-buf
 * reference, so the exporter cannot reuse pages the peer still reaches;
 * a delayed work retries with a growing interval.  Each pending import
 * holds a module reference, and the module's workqueue is destroyed on
 * exit, which waits for the last retry to return.
 */

#define pr_fmt(fmt) "gntdev-dmabuf: " fmt

#include <linux/dma-buf.h>
#include <linux/jiffies.h>
#include <linux/list.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/scatterlist.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#include <xen/grant_table.h>
#include <xen/page.h>
#include <xen/xen.h>

#include "gntdev-dmabuf.h"
#include "gdmabuf-compat.h"
#include "gdmabuf-debugfs.h"
#include "gdmabuf-dev.h"
#include "gdmabuf-export.h"
#include "gdmabuf-import.h"
#include "gdmabuf-limits.h"
#include "gdmabuf-selftest.h"

#define GDMABUF_NO_REF		((grant_ref_t)-1)
#define GDMABUF_RETRY_MIN_MS	100
#define GDMABUF_RETRY_MAX_MS	10000

/**
 * struct gdmabuf_import - one dma-buf granted to another domain
 * @id: the import's name in the GDMABUF_IOCTL_* interface; never reused.
 * @node: entry in the importing file's &gdmabuf_imports.list until
 *	released.
 * @fd: the dma-buf fd number given to the legacy IMP_TO_REFS, which
 *	legacy IMP_RELEASE uses as the import's name.
 * @domid: the domain the pages are granted to.
 * @count: number of pages granted.
 * @offset: where the data starts in the first page.
 * @dmabuf: our reference to the dma-buf.
 * @attach: our attachment to it.
 * @sgt: its pages, mapped for gdmabuf_dma_dev().
 * @refs: the grant reference of each page, GDMABUF_NO_REF once ended.
 * @live_refs: references not yet ended.
 * @retry: ends the remaining references later while the peer maps them.
 * @delay_ms: the next retry interval.
 * @since: jiffies when the release was asked for.
 * @charged: @count pages are charged to @domid's quota.
 * @all: entry in gdmabuf_all_imports from the first grant until freed.
 * @created: jiffies when the pages were granted.
 *
 * @node is protected by the owning file's &gdmabuf_imports.lock and @all
 * by gdmabuf_all_imports_lock; everything else belongs to whoever holds
 * the import: the ioctl creating it, then the release path, then, while
 * the peer still maps pages, the retry work alone.
 */
struct gdmabuf_import {
	u64 id;
	struct list_head node;
	int fd;
	domid_t domid;
	unsigned int count;
	unsigned int offset;
	struct dma_buf *dmabuf;
	struct dma_buf_attachment *attach;
	struct sg_table *sgt;
	grant_ref_t *refs;
	unsigned int live_refs;
	struct delayed_work retry;
	unsigned int delay_ms;
	unsigned long since;
	bool charged;
	struct list_head all;
	unsigned long created;
};

/**
 * struct gdmabuf_imports - one open file's imports
 * @lock: protects @list.
 * @list: the imports made through the file and not yet released.
 *
 * Held only to add, find-and-unlink or splice @list: granting, ending
 * grants and dma-buf calls happen outside it, on an import on no list.
 */
struct gdmabuf_imports {
	struct mutex lock;	/* protects list */
	struct list_head list;
};

/* Protects gdmabuf_all_imports: every import with grants, for debugfs. */
static DEFINE_MUTEX(gdmabuf_all_imports_lock);
static LIST_HEAD(gdmabuf_all_imports);

static struct workqueue_struct *gdmabuf_import_wq;
static atomic64_t gdmabuf_import_last_id = ATOMIC64_INIT(0);

/* Undoes gdmabuf_import_open() once no grant is left. */
static void gdmabuf_import_free(struct gdmabuf_import *imp)
{
	gdmabuf_dma_buf_unmap_attachment(imp->attach, imp->sgt, DMA_BIDIRECTIONAL);
	dma_buf_detach(imp->dmabuf, imp->attach);
	dma_buf_put(imp->dmabuf);
	if (imp->charged)
		gdmabuf_uncharge_domain(imp->domid, imp->count);
	mutex_lock(&gdmabuf_all_imports_lock);
	list_del(&imp->all);
	mutex_unlock(&gdmabuf_all_imports_lock);
	kvfree(imp->refs);
	kfree(imp);
}

/* Ends every reference the peer no longer maps; returns how many remain. */
static unsigned int gdmabuf_import_end_grants(struct gdmabuf_import *imp)
{
	unsigned int i;

	for (i = 0; i < imp->count && imp->live_refs; i++) {
		if (imp->refs[i] == GDMABUF_NO_REF)
			continue;
		if (!gnttab_try_end_foreign_access(imp->refs[i]))
			continue;
		imp->refs[i] = GDMABUF_NO_REF;
		imp->live_refs--;
		atomic64_dec(&gdmabuf_stats.granted_refs);
	}
	return imp->live_refs;
}

static void gdmabuf_import_retry(struct work_struct *work)
{
	struct gdmabuf_import *imp = container_of(to_delayed_work(work),
						  struct gdmabuf_import, retry);

	if (gdmabuf_import_end_grants(imp)) {
		imp->delay_ms = min(imp->delay_ms * 2, GDMABUF_RETRY_MAX_MS);
		queue_delayed_work(gdmabuf_import_wq, &imp->retry,
				   msecs_to_jiffies(imp->delay_ms));
		return;
	}
	pr_debug("import %llu: domain %u let go after %u ms, released\n", imp->id, imp->domid,
		 jiffies_to_msecs(jiffies - imp->since));
	gdmabuf_import_free(imp);
	atomic64_dec(&gdmabuf_stats.pending_releases);
	atomic64_dec(&gdmabuf_stats.live_imports);
	/* gdmabuf_import_exit() destroys the workqueue, waiting for us to return. */
	module_put(THIS_MODULE);
}

/*
 * Ends @imp's grants and frees it, or, when the peer still maps some
 * pages, leaves it pending and retries later.  @imp is on no file's list.
 */
static void gdmabuf_import_release(struct gdmabuf_import *imp)
{
	if (!gdmabuf_import_end_grants(imp)) {
		pr_debug("import %llu released\n", imp->id);
		gdmabuf_import_free(imp);
		atomic64_dec(&gdmabuf_stats.live_imports);
		return;
	}
	pr_info_ratelimited("domain %u still maps %u of %u pages of import %llu: keeping the buffer until it lets go\n",
			    imp->domid, imp->live_refs, imp->count, imp->id);
	__module_get(THIS_MODULE);
	atomic64_inc(&gdmabuf_stats.pending_releases);
	imp->since = jiffies;
	imp->delay_ms = GDMABUF_RETRY_MIN_MS;
	queue_delayed_work(gdmabuf_import_wq, &imp->retry, msecs_to_jiffies(imp->delay_ms));
}

/*
 * Checks that the dma-buf's table describes page-backed memory this
 * domain owns, laid out so that granting whole pages covers it: only the
 * first entry may start inside a page, only the last may end inside one.
 */
static int gdmabuf_import_check_sgt(struct gdmabuf_import *imp)
{
	struct scatterlist *sg;
	struct sg_page_iter it;
	unsigned int i, n = 0;

	for_each_sgtable_sg(imp->sgt, sg, i) {
		if (!sg_page(sg)) {
			pr_info_ratelimited("dma-buf %s has no struct pages (device memory?): cannot grant it\n",
					    imp->dmabuf->exp_name);
			return -EOPNOTSUPP;
		}
		if ((i && sg->offset) ||
		    (i + 1 < imp->sgt->orig_nents && !PAGE_ALIGNED(sg->offset + sg->length))) {
			pr_info_ratelimited("dma-buf %s has holes inside its pages: cannot grant it\n",
					    imp->dmabuf->exp_name);
			return -EINVAL;
		}
	}
	for_each_sgtable_page(imp->sgt, &it, 0) {
		struct page *page = sg_page_iter_page(&it);

		if (!pfn_valid(page_to_pfn(page)) || is_zone_device_page(page)) {
			pr_info_ratelimited("dma-buf %s is not in system RAM: cannot grant it\n",
					    imp->dmabuf->exp_name);
			return -EOPNOTSUPP;
		}
		if (xen_page_foreign(page)) {
			pr_info_ratelimited("dma-buf %s holds another domain's pages, which this domain cannot grant\n",
					    imp->dmabuf->exp_name);
			return -EXDEV;
		}
		n++;
	}
	if (n != imp->count) {
		pr_info_ratelimited("dma-buf %s covers %u pages, expected %u\n",
				    imp->dmabuf->exp_name, n, imp->count);
		return -EINVAL;
	}
	return 0;
}

/* Ends an import of @file that is on no list: quota, then grants. */
static void gdmabuf_import_drop(struct gdmabuf_file *file, struct gdmabuf_import *imp)
{
	gdmabuf_uncharge_file(file->quota, imp->count);
	gdmabuf_import_release(imp);
}

/*
 * Charges @imp to @file and its domain and grants every page of it, which
 * gdmabuf_import_open() prepared.  On failure @imp is released (a peer may
 * already map a reference it guessed, so that may be deferred) and must
 * not be used again.
 */
static int gdmabuf_import_grant(struct gdmabuf_file *file, struct gdmabuf_import *imp,
				bool readonly)
{
	unsigned int i, left = 0;
	struct sg_page_iter it;
	grant_ref_t head;
	int ref, ret;

	ret = gdmabuf_charge(file->quota, imp->domid, imp->count);
	if (ret) {
		gdmabuf_import_free(imp);
		return ret;
	}
	imp->charged = true;
	imp->refs = gdmabuf_faultable(kvmalloc_array(imp->count, sizeof(*imp->refs), GFP_KERNEL),
				      NULL);
	if (!imp->refs) {
		gdmabuf_uncharge_file(file->quota, imp->count);
		gdmabuf_import_free(imp);
		return -ENOMEM;
	}
	for (i = 0; i < imp->count; i++)
		imp->refs[i] = GDMABUF_NO_REF;
	atomic64_inc(&gdmabuf_stats.live_imports);
	imp->id = atomic64_inc_return(&gdmabuf_import_last_id);
	imp->created = jiffies;
	mutex_lock(&gdmabuf_all_imports_lock);
	list_add_tail(&imp->all, &gdmabuf_all_imports);
	mutex_unlock(&gdmabuf_all_imports_lock);
	pr_debug("import %llu: %u pages (data at %u) granted to domain %u\n", imp->id,
		 imp->count, imp->offset, imp->domid);

	/*
	 * References are reserved in batches, each one trip through the
	 * grant table's lock instead of one per page.  A batch is at most
	 * U16_MAX: gnttab_alloc_grant_references() takes a u16, and 0 (65,536
	 * truncated) would unlink an entry without counting it.
	 */
	i = 0;
	for_each_sgtable_page(imp->sgt, &it, 0) {
		if (!left) {
			left = min_t(unsigned int, imp->count - i, U16_MAX);
			ret = gdmabuf_faultable(gnttab_alloc_grant_references(left, &head),
						-ENOSPC);
			if (ret) {
				pr_info_ratelimited("no %u grant references left for pages %u.. of %u to domain %u: %d\n",
						    left, i, imp->count, imp->domid, ret);
				goto drop;
			}
		}
		ref = gnttab_claim_grant_reference(&head);
		if (WARN_ON_ONCE(ref < 0)) {
			ret = -ENOSPC;
			goto free_refs;
		}
		gnttab_grant_foreign_access_ref(ref, imp->domid,
						xen_page_to_gfn(sg_page_iter_page(&it)), readonly);
		imp->refs[i++] = ref;
		imp->live_refs++;
		left--;
	}
	atomic64_add(imp->live_refs, &gdmabuf_stats.granted_refs);
	return 0;

free_refs:
	gnttab_free_grant_references(head);
drop:
	atomic64_add(imp->live_refs, &gdmabuf_stats.granted_refs);
	gdmabuf_import_drop(file, imp);
	return ret;
}

/*
 * Attaches to dma-buf @fd, maps it and measures it: on success *@out is
 * a new import with its pages checked but nothing granted, on no list.
 */
static int gdmabuf_import_open(int fd, domid_t domid, struct gdmabuf_import **out)
{
	struct gdmabuf_import *imp;
	int ret;

	imp = gdmabuf_faultable(kzalloc(sizeof(*imp), GFP_KERNEL), NULL);
	if (!imp)
		return -ENOMEM;
	INIT_DELAYED_WORK(&imp->retry, gdmabuf_import_retry);
	INIT_LIST_HEAD(&imp->all);
	imp->domid = domid;
	imp->fd = fd;

	imp->dmabuf = dma_buf_get(fd);
	if (IS_ERR(imp->dmabuf)) {
		ret = PTR_ERR(imp->dmabuf);
		goto err_free_imp;
	}
	if (gdmabuf_is_export(imp->dmabuf)) {
		pr_info_ratelimited("cannot grant an export of another domain's grants: Xen cannot re-grant foreign pages\n");
		ret = -EXDEV;
		goto err_put_dmabuf;
	}
	imp->attach = gdmabuf_faultable(dma_buf_attach(imp->dmabuf, gdmabuf_dma_dev()),
					ERR_PTR(-ENOMEM));
	if (IS_ERR(imp->attach)) {
		ret = PTR_ERR(imp->attach);
		goto err_put_dmabuf;
	}
	imp->sgt = gdmabuf_faultable(gdmabuf_dma_buf_map_attachment(imp->attach, DMA_BIDIRECTIONAL),
				     ERR_PTR(-ENOMEM));
	if (IS_ERR(imp->sgt)) {
		ret = PTR_ERR(imp->sgt);
		goto err_detach;
	}

	imp->offset = imp->sgt->sgl->offset;
	imp->count = DIV_ROUND_UP(imp->offset + imp->dmabuf->size, PAGE_SIZE);
	if (imp->count > READ_ONCE(gdmabuf_max_pages_per_call)) {
		ret = -EINVAL;
		goto err_unmap;
	}
	ret = gdmabuf_import_check_sgt(imp);
	if (ret)
		goto err_unmap;
	*out = imp;
	return 0;

err_unmap:
	gdmabuf_dma_buf_unmap_attachment(imp->attach, imp->sgt, DMA_BIDIRECTIONAL);
err_detach:
	dma_buf_detach(imp->dmabuf, imp->attach);
err_put_dmabuf:
	dma_buf_put(imp->dmabuf);
err_free_imp:
	kfree(imp);
	return ret;
}

static void gdmabuf_import_add(struct gdmabuf_file *file, struct gdmabuf_import *imp)
{
	struct gdmabuf_imports *imps = file->imports;

	mutex_lock(&imps->lock);
	list_add(&imp->node, &imps->list);
	mutex_unlock(&imps->lock);
}

/* Unlinks the import of @file matching @fd (if @by_fd) or @id; NULL if none. */
static struct gdmabuf_import *gdmabuf_import_take(struct gdmabuf_file *file, bool by_fd,
						  int fd, u64 id)
{
	struct gdmabuf_imports *imps = file->imports;
	struct gdmabuf_import *imp;

	mutex_lock(&imps->lock);
	list_for_each_entry(imp, &imps->list, node) {
		if (by_fd ? imp->fd == fd : imp->id == id) {
			list_del(&imp->node);
			mutex_unlock(&imps->lock);
			return imp;
		}
	}
	mutex_unlock(&imps->lock);
	return NULL;
}

/**
 * gdmabuf_ioctl_gntdev_dmabuf_imp_to_refs() - IOCTL_GNTDEV_DMABUF_IMP_TO_REFS
 * @file: the calling file
 * @uarg: user pointer to &struct ioctl_gntdev_dmabuf_imp_to_refs
 *
 * As upstream: the dma-buf must be exactly @count pages starting at
 * offset 0; the pages are granted read-write.  @reserved is ignored
 * because libxengnttab does not initialise it.
 *
 * Context: process context; sleeps.
 * Return: 0; -EINVAL for a count of 0 or over the limit, a size or data
 * offset that does not match, or a table with holes; -EBADF or -EINVAL
 * for an fd that is not a dma-buf; -EXDEV for pages this domain does not
 * own; -EOPNOTSUPP for memory without struct pages or outside system RAM;
 * -ENOSPC when the grant table is full; -EFAULT; -ENOMEM.
 */
long gdmabuf_ioctl_gntdev_dmabuf_imp_to_refs(struct gdmabuf_file *file,
					     struct ioctl_gntdev_dmabuf_imp_to_refs __user *uarg)
{
	struct ioctl_gntdev_dmabuf_imp_to_refs op;
	struct gdmabuf_import *imp;
	int ret;

	if (copy_from_user(&op, uarg, offsetof(typeof(op), refs)))
		return -EFAULT;
	if (!op.count || op.count > READ_ONCE(gdmabuf_max_pages_per_call))
		return -EINVAL;
	if (op.domid >= DOMID_FIRST_RESERVED)
		return -EINVAL;

	ret = gdmabuf_import_open(op.fd, op.domid, &imp);
	if (ret)
		return ret;
	if (imp->offset || imp->count != op.count) {
		pr_debug("dma-buf of %zu bytes at offset %u does not fill %u pages\n",
			 imp->dmabuf->size, imp->offset, op.count);
		gdmabuf_import_free(imp);
		return -EINVAL;
	}
	ret = gdmabuf_import_grant(file, imp, false);
	if (ret)
		return ret;
	if (copy_to_user(uarg->refs, imp->refs, imp->count * sizeof(*imp->refs))) {
		gdmabuf_import_drop(file, imp);
		return -EFAULT;
	}
	gdmabuf_import_add(file, imp);
	return 0;
}

/**
 * gdmabuf_ioctl_gntdev_dmabuf_imp_release() - IOCTL_GNTDEV_DMABUF_IMP_RELEASE
 * @file: the calling file
 * @uarg: user pointer to &struct ioctl_gntdev_dmabuf_imp_release
 *
 * Never blocks: grants the peer still maps are ended later, and the
 * buffer is held until then.  @reserved is ignored, as upstream.
 *
 * Context: process context; takes the file's &gdmabuf_imports.lock.
 * Return: 0; -ENOENT if this file has no import with that fd number;
 * -EFAULT.
 */
long gdmabuf_ioctl_gntdev_dmabuf_imp_release(struct gdmabuf_file *file,
					     struct ioctl_gntdev_dmabuf_imp_release __user *uarg)
{
	struct ioctl_gntdev_dmabuf_imp_release op;
	struct gdmabuf_import *imp;

	if (copy_from_user(&op, uarg, sizeof(op)))
		return -EFAULT;
	imp = gdmabuf_import_take(file, true, op.fd, 0);
	if (!imp)
		return -ENOENT;
	gdmabuf_import_drop(file, imp);
	return 0;
}

/**
 * gdmabuf_ioctl_imp_to_refs() - GDMABUF_IOCTL_IMP_TO_REFS
 * @file: the calling file
 * @uarg: user pointer to &struct gdmabuf_imp_to_refs
 *
 * Grants the pages covering the dma-buf's data, which may start at an
 * offset in the first page, and reports that offset.  With @count 0 it
 * only measures: @count, @offset and @size are filled, nothing is granted.
 *
 * Context: process context; sleeps.
 * Return: 0; -EINVAL for unknown flags, non-zero pad, a reserved domid, a
 * @count below what the buffer needs, more pages than the per-call limit
 * or a table with holes; the other errors of
 * gdmabuf_ioctl_gntdev_dmabuf_imp_to_refs().
 */
long gdmabuf_ioctl_imp_to_refs(struct gdmabuf_file *file, struct gdmabuf_imp_to_refs __user *uarg)
{
	struct gdmabuf_imp_to_refs op;
	struct gdmabuf_import *imp;
	bool query;
	int ret;

	if (copy_from_user(&op, uarg, sizeof(op)))
		return -EFAULT;
	if ((op.flags & ~GDMABUF_IMP_READONLY) || op.pad)
		return -EINVAL;
	if (op.domid >= DOMID_FIRST_RESERVED)
		return -EINVAL;
	query = !op.count;

	ret = gdmabuf_import_open(op.fd, op.domid, &imp);
	if (ret)
		return ret;

	op.offset = imp->offset;
	op.size = imp->dmabuf->size;
	if (query || op.count < imp->count) {
		op.count = imp->count;
		gdmabuf_import_free(imp);
		if (!query)
			return -EINVAL;
		return copy_to_user(uarg, &op, sizeof(op)) ? -EFAULT : 0;
	}
	ret = gdmabuf_import_grant(file, imp, op.flags & GDMABUF_IMP_READONLY);
	if (ret)
		return ret;
	op.count = imp->count;
	op.id = imp->id;
	if (copy_to_user(u64_to_user_ptr(op.refs_ptr), imp->refs,
			 imp->count * sizeof(*imp->refs)) ||
	    copy_to_user(uarg, &op, sizeof(op))) {
		ret = -EFAULT;
		goto err_release;
	}
	gdmabuf_import_add(file, imp);
	return 0;

err_release:
	gdmabuf_import_drop(file, imp);
	return ret;
}

/**
 * gdmabuf_ioctl_imp_release() - GDMABUF_IOCTL_IMP_RELEASE
 * @file: the calling file
 * @uarg: user pointer to &struct gdmabuf_imp_release
 *
 * Like the legacy release, but names the import by its id.
 *
 * Context: process context; takes the file's &gdmabuf_imports.lock.
 * Return: 0; -EINVAL for non-zero flags or pad; -ENOENT if this file has
 * no import with that id; -EFAULT.
 */
long gdmabuf_ioctl_imp_release(struct gdmabuf_file *file,
			       struct gdmabuf_imp_release __user *uarg)
{
	struct gdmabuf_imp_release op;
	struct gdmabuf_import *imp;

	if (copy_from_user(&op, uarg, sizeof(op)))
		return -EFAULT;
	if (op.flags || op.pad)
		return -EINVAL;
	imp = gdmabuf_import_take(file, false, 0, op.id);
	if (!imp)
		return -ENOENT;
	gdmabuf_import_drop(file, imp);
	return 0;
}

/**
 * gdmabuf_import_file_open() - set up a new file's imports
 * @file: the file being opened; its quota is already set up
 *
 * Context: process context.
 * Return: 0 or -ENOMEM.
 */
int gdmabuf_import_file_open(struct gdmabuf_file *file)
{
	struct gdmabuf_imports *imps;

	imps = kzalloc(sizeof(*imps), GFP_KERNEL);
	if (!imps)
		return -ENOMEM;
	mutex_init(&imps->lock);
	INIT_LIST_HEAD(&imps->list);
	file->imports = imps;
	return 0;
}

/**
 * gdmabuf_import_file_closed() - release a closing file's imports
 * @file: the file being released
 *
 * Context: process context; takes the file's &gdmabuf_imports.lock.
 */
void gdmabuf_import_file_closed(struct gdmabuf_file *file)
{
	struct gdmabuf_imports *imps = file->imports;
	struct gdmabuf_import *imp, *next;
	LIST_HEAD(closing);

	mutex_lock(&imps->lock);
	list_splice_init(&imps->list, &closing);
	mutex_unlock(&imps->lock);
	list_for_each_entry_safe(imp, next, &closing, node) {
		list_del(&imp->node);
		gdmabuf_import_drop(file, imp);
	}
	mutex_destroy(&imps->lock);
	kfree(imps);
	file->imports = NULL;
}

/**
 * gdmabuf_import_show() - list the imports in debugfs "buffers"
 * @m: the seq_file
 *
 * One line per import with grants: "import id=<id> domid=<grantee>
 * pages=<n> offset=<data offset> state=<live|pending> live_refs=<refs not
 * yet ended> age_ms=<ms since granted>".
 *
 * Context: process context; takes gdmabuf_all_imports_lock.
 */
void gdmabuf_import_show(struct seq_file *m)
{
	struct gdmabuf_import *imp;

	mutex_lock(&gdmabuf_all_imports_lock);
	list_for_each_entry(imp, &gdmabuf_all_imports, all)
		seq_printf(m, "import id=%llu domid=%u pages=%u offset=%u state=%s live_refs=%u age_ms=%u\n",
			   imp->id, imp->domid, imp->count, imp->offset,
			   READ_ONCE(imp->since) ? "pending" : "live", READ_ONCE(imp->live_refs),
			   jiffies_to_msecs(jiffies - imp->created));
	mutex_unlock(&gdmabuf_all_imports_lock);
}

/**
 * gdmabuf_import_init() - set up the retry workqueue
 *
 * Context: module init.
 * Return: 0 or -ENOMEM.
 */
int gdmabuf_import_init(void)
{
	gdmabuf_import_wq = alloc_workqueue("gntdev-dmabuf", 0, 0);
	return gdmabuf_import_wq ? 0 : -ENOMEM;
}

/**
 * gdmabuf_import_exit() - destroy the retry workqueue
 *
 * No import is pending (each holds a module reference), but the last
 * retry may still be returning from module_put(): destroying the
 * workqueue waits for it.
 *
 * Context: module exit.
 */
void gdmabuf_import_exit(void)
{
	destroy_workqueue(gdmabuf_import_wq);
}
