// SPDX-License-Identifier: GPL-2.0
/*
 * gntdev-dmabuf: naming exports through the file that made them and
 * reporting their release: the legacy IOCTL_GNTDEV_DMABUF_EXP_WAIT_RELEASED
 * (by fd number), and GDMABUF_IOCTL_EXP_ID, GDMABUF_IOCTL_EXP_RELEASED and
 * poll() (by id).
 */

#define pr_fmt(fmt) "gntdev-dmabuf: " fmt

#include <linux/dma-buf.h>
#include <linux/fs.h>
#include <linux/lockdep.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include "gntdev-dmabuf.h"
#include "gdmabuf-dev.h"
#include "gdmabuf-export.h"
#include "gdmabuf-limits.h"
#include "gdmabuf-release.h"

/**
 * struct gdmabuf_releases - one open file's exports, as release sees them
 * @exports: the names of its live exports, newest first.
 * @released: the names of its exports that were released and not yet
 *	reported by GDMABUF_IOCTL_EXP_RELEASED, oldest first; each holds a
 *	reference to its export.
 * @wq: woken when a name joins @released, for poll().
 *
 * @exports and @released are protected by gdmabuf_release_lock.
 */
struct gdmabuf_releases {
	struct list_head exports;
	struct list_head released;
	wait_queue_head_t wq;
};

/*
 * Protects every file's &gdmabuf_releases lists and each name's @owner,
 * @node and @fd.  One global lock, because an export's release can run
 * after the file that made it is gone.
 */
static DEFINE_MUTEX(gdmabuf_release_lock);

/* Ids reported per copy_to_user() by GDMABUF_IOCTL_EXP_RELEASED. */
#define GDMABUF_RELEASED_CHUNK	32

/**
 * gdmabuf_release_name_init() - a new export's name, not yet given
 * @name: the name, embedded in the export
 * @exp: the export
 *
 * Context: any.
 */
void gdmabuf_release_name_init(struct gdmabuf_release_name *name, struct gdmabuf_export *exp)
{
	name->exp = exp;
	name->owner = NULL;
	INIT_LIST_HEAD(&name->node);
	name->fd = -1;
}

/**
 * gdmabuf_release_name_add() - name an export through the file that made it
 * @file: the exporting file
 * @name: the export's name
 * @fd: the fd number EXP_FROM_REFS returns for it
 *
 * Context: process context; takes gdmabuf_release_lock.
 */
void gdmabuf_release_name_add(struct gdmabuf_file *file, struct gdmabuf_release_name *name,
			      int fd)
{
	mutex_lock(&gdmabuf_release_lock);
	name->fd = fd;
	name->owner = file;
	list_add(&name->node, &file->releases->exports);
	mutex_unlock(&gdmabuf_release_lock);
}

/**
 * gdmabuf_release_report() - an export's grants are gone: report it
 * @name: the export's name
 * @count: its pages, given back to the exporting file's quota
 *
 * If the exporting file is still open, the export joins its queue of
 * releases to report (with a reference) and poll() wakes up.
 *
 * Context: process context; takes gdmabuf_release_lock.
 */
void gdmabuf_release_report(struct gdmabuf_release_name *name, unsigned int count)
{
	struct gdmabuf_file *owner;

	mutex_lock(&gdmabuf_release_lock);
	owner = name->owner;
	if (owner) {
		gdmabuf_uncharge_file(owner->quota, count);
		gdmabuf_export_get(name->exp);
		list_move_tail(&name->node, &owner->releases->released);
		wake_up_interruptible(&owner->releases->wq);
	}
	mutex_unlock(&gdmabuf_release_lock);
}

/**
 * gdmabuf_release_name_open() - is the file that made this export open?
 * @name: the export's name
 *
 * Context: process context; takes gdmabuf_release_lock.
 * Return: true while the exporting file is open and the release has not
 * been reported.
 */
bool gdmabuf_release_name_open(struct gdmabuf_release_name *name)
{
	bool open;

	mutex_lock(&gdmabuf_release_lock);
	open = name->owner;
	mutex_unlock(&gdmabuf_release_lock);
	return open;
}

/* Forgets a name that was on a list, dropping the queue's reference if it held one. */
static void gdmabuf_release_forget(struct gdmabuf_release_name *name, bool queued)
{
	lockdep_assert_held(&gdmabuf_release_lock);
	list_del_init(&name->node);
	name->owner = NULL;
	if (queued)
		gdmabuf_export_put(name->exp);
}

/**
 * gdmabuf_release_file_open() - set up a new file's release state
 * @file: the file being opened
 *
 * Context: process context.
 * Return: 0 or -ENOMEM.
 */
int gdmabuf_release_file_open(struct gdmabuf_file *file)
{
	struct gdmabuf_releases *rel;

	rel = kzalloc(sizeof(*rel), GFP_KERNEL);
	if (!rel)
		return -ENOMEM;
	INIT_LIST_HEAD(&rel->exports);
	INIT_LIST_HEAD(&rel->released);
	init_waitqueue_head(&rel->wq);
	file->releases = rel;
	return 0;
}

/**
 * gdmabuf_release_file_closed() - detach a closing file's exports
 * @file: the file being released
 *
 * The dma-bufs stay valid; only WAIT_RELEASED and release reports through
 * @file become impossible, since @file is going away.
 *
 * Context: process context; takes gdmabuf_release_lock.
 */
void gdmabuf_release_file_closed(struct gdmabuf_file *file)
{
	struct gdmabuf_releases *rel = file->releases;
	struct gdmabuf_release_name *name, *next;

	mutex_lock(&gdmabuf_release_lock);
	list_for_each_entry_safe(name, next, &rel->exports, node)
		gdmabuf_release_forget(name, false);
	list_for_each_entry_safe(name, next, &rel->released, node)
		gdmabuf_release_forget(name, true);
	mutex_unlock(&gdmabuf_release_lock);
	kfree(rel);
	file->releases = NULL;
}

/**
 * gdmabuf_release_poll() - poll() on the device
 * @file: the polled file
 * @filp: its struct file
 * @wait: the poll table
 *
 * Context: process context; takes gdmabuf_release_lock.
 * Return: EPOLLIN | EPOLLRDNORM while a release waits to be reported by
 * GDMABUF_IOCTL_EXP_RELEASED, else 0.
 */
__poll_t gdmabuf_release_poll(struct gdmabuf_file *file, struct file *filp, poll_table *wait)
{
	struct gdmabuf_releases *rel = file->releases;
	__poll_t mask = 0;

	poll_wait(filp, &rel->wq, wait);
	mutex_lock(&gdmabuf_release_lock);
	if (!list_empty(&rel->released))
		mask = EPOLLIN | EPOLLRDNORM;
	mutex_unlock(&gdmabuf_release_lock);
	return mask;
}

/**
 * gdmabuf_ioctl_gntdev_dmabuf_exp_wait_released() - IOCTL_GNTDEV_DMABUF_EXP_WAIT_RELEASED
 * @file: the calling file
 * @uarg: user pointer to &struct ioctl_gntdev_dmabuf_exp_wait_released
 *
 * As upstream, the buffer is named by the fd number EXP_FROM_REFS returned
 * through this file, even if that fd has been closed since (the usual case:
 * the fd was handed to an importer).  Only exports not yet released are
 * looked for; the newest one with that number wins when the number was
 * reused.
 *
 * Context: process context; sleeps.
 * Return: 0 once released; -ENOENT if this file has no live export with
 * that number (including one released already); -ETIMEDOUT when
 * @wait_to_ms passed (at once for 0); -ERESTARTSYS on a signal; -EFAULT.
 */
long
gdmabuf_ioctl_gntdev_dmabuf_exp_wait_released(struct gdmabuf_file *file,
					      struct ioctl_gntdev_dmabuf_exp_wait_released
					      __user *uarg)
{
	struct ioctl_gntdev_dmabuf_exp_wait_released op;
	struct gdmabuf_release_name *name;
	struct gdmabuf_export *found = NULL;
	int ret;

	if (copy_from_user(&op, uarg, sizeof(op)))
		return -EFAULT;

	mutex_lock(&gdmabuf_release_lock);
	list_for_each_entry(name, &file->releases->exports, node) {
		if (name->fd == op.fd) {
			found = name->exp;
			gdmabuf_export_get(found);
			break;
		}
	}
	mutex_unlock(&gdmabuf_release_lock);
	if (!found)
		return -ENOENT;

	ret = gdmabuf_export_wait_released(found, op.wait_to_ms);
	gdmabuf_export_put(found);
	return ret;
}

/**
 * gdmabuf_ioctl_exp_id() - GDMABUF_IOCTL_EXP_ID
 * @file: the calling file
 * @uarg: user pointer to &struct gdmabuf_exp_id
 *
 * Names the export behind a dma-buf fd by its id, which release reports
 * (GDMABUF_IOCTL_EXP_RELEASED) use.
 *
 * Context: process context; takes gdmabuf_release_lock.
 * Return: 0; -EINVAL for non-zero @flags or a dma-buf that is not one of
 * our exports; -EBADF for an fd that is not open; -ENOENT for an export
 * made through another file; -EFAULT.
 */
long gdmabuf_ioctl_exp_id(struct gdmabuf_file *file, struct gdmabuf_exp_id __user *uarg)
{
	struct gdmabuf_release_name *name;
	struct gdmabuf_exp_id op;
	struct dma_buf *dmabuf;
	int ret = 0;

	if (copy_from_user(&op, uarg, sizeof(op)))
		return -EFAULT;
	if (op.flags)
		return -EINVAL;
	dmabuf = dma_buf_get(op.fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	name = gdmabuf_export_name(dmabuf);
	if (!name) {
		ret = -EINVAL;
		goto out_put;
	}
	mutex_lock(&gdmabuf_release_lock);
	if (name->owner != file)
		ret = -ENOENT;
	mutex_unlock(&gdmabuf_release_lock);
	if (!ret && put_user(gdmabuf_export_id(name->exp), &uarg->id))
		ret = -EFAULT;
out_put:
	dma_buf_put(dmabuf);
	return ret;
}

/**
 * gdmabuf_ioctl_exp_released() - GDMABUF_IOCTL_EXP_RELEASED
 * @file: the calling file
 * @uarg: user pointer to &struct gdmabuf_exp_released
 *
 * Reports, oldest first and without blocking, the ids of exports made
 * through @file that were released since the last call, and forgets them.
 * poll() on the device says when there is something to report.
 *
 * Context: process context; takes gdmabuf_release_lock, never across a
 * user copy.
 * Return: 0 with @count set (0 when nothing was released); -EINVAL for
 * non-zero @flags or @pad; -EFAULT when not even the first id could be
 * written.  Ids that could not be written stay queued.
 */
long gdmabuf_ioctl_exp_released(struct gdmabuf_file *file,
				struct gdmabuf_exp_released __user *uarg)
{
	struct gdmabuf_releases *rel = file->releases;
	struct gdmabuf_release_name *name, *next;
	u64 chunk[GDMABUF_RELEASED_CHUNK];
	struct gdmabuf_exp_released op;
	u64 __user *ids;
	LIST_HEAD(taken);
	u32 n = 0, k;

	if (copy_from_user(&op, uarg, sizeof(op)))
		return -EFAULT;
	if (op.flags || op.pad)
		return -EINVAL;
	ids = u64_to_user_ptr(op.ids_ptr);

	while (n < op.max) {
		k = 0;
		mutex_lock(&gdmabuf_release_lock);
		while (k < GDMABUF_RELEASED_CHUNK && n + k < op.max &&
		       !list_empty(&rel->released)) {
			name = list_first_entry(&rel->released, struct gdmabuf_release_name, node);
			list_move_tail(&name->node, &taken);
			chunk[k++] = gdmabuf_export_id(name->exp);
		}
		mutex_unlock(&gdmabuf_release_lock);
		if (!k)
			break;
		if (copy_to_user(ids + n, chunk, k * sizeof(*chunk))) {
			mutex_lock(&gdmabuf_release_lock);
			list_splice(&taken, &rel->released);
			mutex_unlock(&gdmabuf_release_lock);
			if (!n)
				return -EFAULT;
			break;
		}
		mutex_lock(&gdmabuf_release_lock);
		list_for_each_entry_safe(name, next, &taken, node)
			gdmabuf_release_forget(name, true);
		mutex_unlock(&gdmabuf_release_lock);
		n += k;
	}
	if (put_user(n, &uarg->count))
		return -EFAULT;
	return 0;
}
