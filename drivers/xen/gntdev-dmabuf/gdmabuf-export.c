// SPDX-License-Identifier: GPL-2.0
/*
 * gntdev-dmabuf: exporting another domain's grant references as a dma-buf
 * (IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS) and waiting for its release
 * (IOCTL_GNTDEV_DMABUF_EXP_WAIT_RELEASED).
 */

#define pr_fmt(fmt) "gntdev-dmabuf: " fmt

#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/file.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <xen/grant_table.h>
#include <xen/xen.h>

#include "gntdev-dmabuf.h"
#include "gdmabuf-common.h"
#include "gdmabuf-compat.h"

/**
 * struct gdmabuf_export - one exported dma-buf
 * @ref: held by the dma-buf until its release, and by each waiter.
 * @node: entry in the exporting file's &gdmabuf_file.exports; empty once
 *	the buffer is released or that file is closed.
 * @fd: the fd number returned by EXP_FROM_REFS, which the legacy
 *	WAIT_RELEASED uses as the buffer's name.
 * @grants: the mapped foreign grants behind the dma-buf.
 * @released: completed when the dma-buf is released.
 *
 * @node and @fd are protected by gdmabuf_exports_lock; the rest is set
 * before the dma-buf exists and read-only afterwards.
 */
struct gdmabuf_export {
	struct kref ref;
	struct list_head node;
	int fd;
	struct gdmabuf_grants grants;
	struct completion released;
};

/*
 * Protects every file's export list and the exports' links in it.  One
 * global lock, because release can run after the exporting file is gone.
 */
static DEFINE_MUTEX(gdmabuf_exports_lock);

static void gdmabuf_export_free(struct kref *ref)
{
	kfree(container_of(ref, struct gdmabuf_export, ref));
}

static struct sg_table *gdmabuf_export_map(struct dma_buf_attachment *attach,
					   enum dma_data_direction dir)
{
	struct gdmabuf_export *exp = attach->dmabuf->priv;
	struct sg_table *sgt;
	int ret;

	sgt = kzalloc(sizeof(*sgt), GFP_KERNEL);
	if (!sgt)
		return ERR_PTR(-ENOMEM);
	ret = sg_alloc_table_from_pages(sgt, exp->grants.pages, exp->grants.count, 0,
					(size_t)exp->grants.count << PAGE_SHIFT,
					GFP_KERNEL);
	if (ret)
		goto err_free_sgt;
	/* The P2M already points at the foreign frames: DMA addresses follow. */
	ret = dma_map_sgtable(attach->dev, sgt, dir, 0);
	if (ret)
		goto err_free_table;
	return sgt;

err_free_table:
	sg_free_table(sgt);
err_free_sgt:
	kfree(sgt);
	return ERR_PTR(ret);
}

static void gdmabuf_export_unmap(struct dma_buf_attachment *attach,
				 struct sg_table *sgt, enum dma_data_direction dir)
{
	dma_unmap_sgtable(attach->dev, sgt, dir, 0);
	sg_free_table(sgt);
	kfree(sgt);
}

static int gdmabuf_export_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma)
{
	struct gdmabuf_export *exp = dmabuf->priv;

	/*
	 * A PV domain cannot put a foreign frame in a plain PTE: Xen refuses
	 * it.  User mappings on PV need a grant mapping per PTE and are not
	 * implemented yet; say so instead of failing obscurely.
	 */
	if (xen_pv_domain()) {
		pr_info_ratelimited("CPU mapping of an export is not supported on PV domains yet\n");
		return -EOPNOTSUPP;
	}
	return vm_map_pages(vma, exp->grants.pages, exp->grants.count);
}

static void gdmabuf_export_release(struct dma_buf *dmabuf)
{
	struct gdmabuf_export *exp = dmabuf->priv;

	mutex_lock(&gdmabuf_exports_lock);
	list_del_init(&exp->node);
	mutex_unlock(&gdmabuf_exports_lock);

	gdmabuf_grants_unmap(&exp->grants);
	atomic64_dec(&gdmabuf_stats.live_exports);
	complete_all(&exp->released);
	kref_put(&exp->ref, gdmabuf_export_free);
}

static const struct dma_buf_ops gdmabuf_export_ops = {
	.map_dma_buf = gdmabuf_export_map,
	.unmap_dma_buf = gdmabuf_export_unmap,
	.mmap = gdmabuf_export_mmap,
	.release = gdmabuf_export_release,
};

/**
 * gdmabuf_ioctl_exp_from_refs() - IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS
 * @priv: the calling file
 * @uarg: user pointer to &struct ioctl_gntdev_dmabuf_exp_from_refs
 *
 * Maps the grants, wraps them in a dma-buf and installs its fd last, once
 * nothing can fail any more.
 *
 * Return: 0; -EINVAL for a count of 0 or over the limit, unknown flags,
 * both DMA flags, a reserved domid, or a reference Xen refuses;
 * -EOPNOTSUPP for the DMA flags (not implemented yet); -EFAULT for a bad
 * user pointer; -ENOMEM; -EMFILE when no fd is free.
 */
long gdmabuf_ioctl_exp_from_refs(struct gdmabuf_file *priv,
				 struct ioctl_gntdev_dmabuf_exp_from_refs __user *uarg)
{
	struct ioctl_gntdev_dmabuf_exp_from_refs op;
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);
	struct gdmabuf_export *exp;
	struct dma_buf *dmabuf;
	u32 *refs;
	int fd, ret;

	if (copy_from_user(&op, uarg, offsetof(typeof(op), refs)))
		return -EFAULT;
	if (!op.count || op.count > READ_ONCE(gdmabuf_max_pages_per_call))
		return -EINVAL;
	if (op.flags & ~(GNTDEV_DMA_FLAG_WC | GNTDEV_DMA_FLAG_COHERENT))
		return -EINVAL;
	if ((op.flags & GNTDEV_DMA_FLAG_WC) && (op.flags & GNTDEV_DMA_FLAG_COHERENT))
		return -EINVAL;
	if (op.domid >= DOMID_FIRST_RESERVED)
		return -EINVAL;
	if (op.flags) {
		pr_info_ratelimited("DMA-backed exports (flags %#x) are not implemented yet\n",
				    op.flags);
		return -EOPNOTSUPP;
	}

	refs = kvmalloc_array(op.count, sizeof(*refs), GFP_KERNEL);
	if (!refs)
		return -ENOMEM;
	if (copy_from_user(refs, uarg->refs, op.count * sizeof(*refs))) {
		ret = -EFAULT;
		goto err_free_refs;
	}

	exp = kzalloc(sizeof(*exp), GFP_KERNEL);
	if (!exp) {
		ret = -ENOMEM;
		goto err_free_refs;
	}
	kref_init(&exp->ref);
	INIT_LIST_HEAD(&exp->node);
	init_completion(&exp->released);
	exp->grants.domid = op.domid;
	exp->grants.count = op.count;

	ret = gdmabuf_grants_map(&exp->grants, refs);
	if (ret)
		goto err_free_exp;

	exp_info.ops = &gdmabuf_export_ops;
	exp_info.owner = THIS_MODULE;
	exp_info.size = (size_t)op.count << PAGE_SHIFT;
	exp_info.flags = O_RDWR;
	exp_info.priv = exp;
	dmabuf = dma_buf_export(&exp_info);
	if (IS_ERR(dmabuf)) {
		ret = PTR_ERR(dmabuf);
		goto err_unmap;
	}
	atomic64_inc(&gdmabuf_stats.live_exports);
	/* From here on, dma_buf_put() undoes everything through ->release. */

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto err_put_dmabuf;
	}
	if (put_user(fd, &uarg->fd)) {
		ret = -EFAULT;
		goto err_put_fd;
	}

	mutex_lock(&gdmabuf_exports_lock);
	exp->fd = fd;
	list_add(&exp->node, &priv->exports);
	mutex_unlock(&gdmabuf_exports_lock);

	fd_install(fd, dmabuf->file);
	kvfree(refs);
	return 0;

err_put_fd:
	put_unused_fd(fd);
err_put_dmabuf:
	dma_buf_put(dmabuf);
	kvfree(refs);
	return ret;
err_unmap:
	gdmabuf_grants_unmap(&exp->grants);
err_free_exp:
	kfree(exp);
err_free_refs:
	kvfree(refs);
	return ret;
}

/**
 * gdmabuf_ioctl_exp_wait_released() - IOCTL_GNTDEV_DMABUF_EXP_WAIT_RELEASED
 * @priv: the calling file
 * @uarg: user pointer to &struct ioctl_gntdev_dmabuf_exp_wait_released
 *
 * As upstream, the buffer is named by the fd number EXP_FROM_REFS returned
 * through this file, even if that fd has been closed since (the usual case:
 * the fd was handed to an importer).  The newest export with that number
 * wins when the number was reused.
 *
 * Return: 0 once released; -ENOENT if this file has no live export with
 * that number; -ETIMEDOUT when @wait_to_ms passed (at once for 0);
 * -ERESTARTSYS on a signal; -EFAULT.
 */
long gdmabuf_ioctl_exp_wait_released(struct gdmabuf_file *priv,
				     struct ioctl_gntdev_dmabuf_exp_wait_released __user *uarg)
{
	struct ioctl_gntdev_dmabuf_exp_wait_released op;
	struct gdmabuf_export *exp, *found = NULL;
	long left;
	int ret = 0;

	if (copy_from_user(&op, uarg, sizeof(op)))
		return -EFAULT;

	mutex_lock(&gdmabuf_exports_lock);
	list_for_each_entry(exp, &priv->exports, node) {
		if (exp->fd == op.fd) {
			found = exp;
			kref_get(&found->ref);
			break;
		}
	}
	mutex_unlock(&gdmabuf_exports_lock);
	if (!found)
		return -ENOENT;

	if (!op.wait_to_ms) {
		if (!completion_done(&found->released))
			ret = -ETIMEDOUT;
	} else {
		left = wait_for_completion_interruptible_timeout(&found->released,
								 msecs_to_jiffies(op.wait_to_ms));
		if (left < 0)
			ret = left;
		else if (!left)
			ret = -ETIMEDOUT;
	}
	kref_put(&found->ref, gdmabuf_export_free);
	return ret;
}

/**
 * gdmabuf_export_file_closed() - detach a closing file's exports
 * @priv: the file being released
 *
 * The dma-bufs stay valid; only WAIT_RELEASED through @priv becomes
 * impossible, since @priv is going away.
 */
void gdmabuf_export_file_closed(struct gdmabuf_file *priv)
{
	struct gdmabuf_export *exp, *next;

	mutex_lock(&gdmabuf_exports_lock);
	list_for_each_entry_safe(exp, next, &priv->exports, node)
		list_del_init(&exp->node);
	mutex_unlock(&gdmabuf_exports_lock);
}
