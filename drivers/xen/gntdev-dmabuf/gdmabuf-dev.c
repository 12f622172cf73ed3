// SPDX-License-Identifier: GPL-2.0
/*
 * gntdev-dmabuf: the /dev/xen/gntdev-dmabuf misc device, module init and
 * exit, and the ioctl dispatcher.
 */

/**
 * DOC: Locking
 *
 * The module's locks and the core's locks it runs under, outermost first.
 * Each lock is defined next to the state it protects, with a comment
 * naming that state; functions that need one assert it.
 *
 * 0. In test builds only: the lock of each debugfs command
 *    (gdmabuf-selftest.c), and gdmabuf_fwcfg_lock
 *    (gdmabuf-selftest-fwcfg.c) inside the "devdma" command's.  Held
 *    around all a command does, as a user of the module would call it,
 *    so outside every lock below.
 * 1. The mmap lock of the mapping process (core mm).  Held for writing
 *    around an export's ->mmap and a PV mapping's open, for reading or
 *    writing around close, and for reading around faults (a fault under
 *    the per-VMA lock alone is retried under the mmap lock for these
 *    shared mappings without ->map_pages).
 * 2. The export's reservation lock (&dma_buf.resv, a ww_mutex), held by
 *    the dma-buf core around map_dma_buf and unmap_dma_buf, and from 6.2
 *    around mmap, vmap and vunmap as well (gdmabuf_assert_resv_held()).
 *    So the mmap path takes the mmap lock, then the reservation lock,
 *    then ours: nothing the module does under locks 3 to 12 may take
 *    either of them, fault on user memory or call into the dma-buf core
 *    of that buffer.  The import side calls the core (attach, map) of
 *    foreign buffers holding none of our locks.
 * 3. gdmabuf_all_exports_lock (gdmabuf-export.c): the list of live
 *    exports, for debugfs.  Nests the next two, by the debugfs listing.
 * 4. &gdmabuf_export.lock: an export's attachments, their tables and the
 *    PV kernel mapping.  Taken inside the reservation lock by map, unmap,
 *    vmap and vunmap, alone by the CPU access brackets.
 * 5. gdmabuf_release_lock (gdmabuf-release.c): every file's lists of live
 *    and released exports, and each export's name (owner, list entry, fd
 *    number).  Global, because an export's release may run after its
 *    file is gone.  Never held across a wait or a user copy.
 * 6. &gdmabuf_umap.lock (gdmabuf-pv.c): a PV user mapping's grant handles
 *    and PTE addresses; orders faults against the MMU notifier, which may
 *    run from reclaim, so nothing under it allocates memory.
 * 7. &gdmabuf_imports.lock (gdmabuf-import.c): one file's list of
 *    imports; held only to add, find-and-unlink or splice it.
 * 8. gdmabuf_all_imports_lock (gdmabuf-import.c): every import with
 *    grants, for debugfs.
 * 9. gdmabuf_domains_lock (gdmabuf-limits.c): the pages charged to each
 *    remote domain.  Taken inside locks 1 and 2 on PV, where mmap, close,
 *    vmap and vunmap charge the CPU mappings.
 * 10. gdmabuf_pool_lock (gdmabuf-grant.c): the pool of unmapped grant
 *     pages; the balloon is called outside it.
 * 11. gdmabuf_refused_lock (gdmabuf-grant.c): the grant unmaps Xen
 *     refused.
 * 12. The test build's leaf locks (gdmabuf-selftest.c: the held pages, the
 *     refused unmaps, the fault injection).
 *
 * Locks 5 to 12 are leaves: nothing else is taken under them.  An
 * export's release (the dma-buf core's ->release at the last fput) takes
 * no lock itself: gdmabuf_grants_unmap() unmaps at once or defers to a
 * workqueue, and its completion takes locks 9, 3 and 5 one after the
 * other.  The module-wide counters (&struct gdmabuf_stats) are atomics,
 * updated where the state they count changes and read without locks.
 */

#define pr_fmt(fmt) "gntdev-dmabuf: " fmt

#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include <xen/page.h>
#include <xen/xen.h>

#include "gntdev-dmabuf.h"
#include "gdmabuf-compat.h"
#include "gdmabuf-debugfs.h"
#include "gdmabuf-dev.h"
#include "gdmabuf-export.h"
#include "gdmabuf-grant.h"
#include "gdmabuf-import.h"
#include "gdmabuf-limits.h"
#include "gdmabuf-release.h"

static int gdmabuf_open(struct inode *inode, struct file *filp)
{
	struct gdmabuf_file *file;
	int ret;

	file = kzalloc(sizeof(*file), GFP_KERNEL);
	if (!file)
		return -ENOMEM;
	ret = gdmabuf_quota_file_open(file);
	if (ret)
		goto err_free_file;
	ret = gdmabuf_release_file_open(file);
	if (ret)
		goto err_close_quota;
	ret = gdmabuf_import_file_open(file);
	if (ret)
		goto err_close_release;
	filp->private_data = file;
	return 0;

err_close_release:
	gdmabuf_release_file_closed(file);
err_close_quota:
	gdmabuf_quota_file_closed(file);
err_free_file:
	kfree(file);
	return ret;
}

static int gdmabuf_release(struct inode *inode, struct file *filp)
{
	struct gdmabuf_file *file = filp->private_data;

	gdmabuf_import_file_closed(file);
	gdmabuf_release_file_closed(file);
	gdmabuf_quota_file_closed(file);
	kfree(file);
	return 0;
}

/*
 * The DMA parameters of the misc device, which has none of its own; set
 * here rather than with dma_set_max_seg_size(), whose return type changed.
 */
static struct device_dma_parameters gdmabuf_dma_parms = {
	.max_segment_size = UINT_MAX,
};

/*
 * GDMABUF_IOCTL_GET_INFO: what this module offers; see &struct
 * gdmabuf_info.  -EINVAL for a non-zero pad, -EFAULT.
 */
static long gdmabuf_ioctl_get_info(struct gdmabuf_file *file, struct gdmabuf_info __user *uarg)
{
	struct gdmabuf_info info;

	if (copy_from_user(&info, uarg, sizeof(info)))
		return -EFAULT;
	if (info.pad)
		return -EINVAL;

	memset(&info, 0, sizeof(info));
	info.abi_version = GDMABUF_ABI_VERSION;
	info.caps = GDMABUF_CAP_EXPORT | GDMABUF_CAP_EXPORT_CPU | GDMABUF_CAP_RELEASE_POLL |
		    GDMABUF_CAP_IMPORT;
	if (!xen_pv_domain())
		info.caps |= GDMABUF_CAP_DMA_ALLOC;
	info.max_pages_per_call = READ_ONCE(gdmabuf_max_pages_per_call);
	info.max_pages_per_file = READ_ONCE(gdmabuf_max_pages_per_file);
	info.max_pages_per_domain = READ_ONCE(gdmabuf_max_pages_per_domain);
	strscpy(info.module_version, GDMABUF_VERSION, sizeof(info.module_version));

	if (copy_to_user(uarg, &info, sizeof(info)))
		return -EFAULT;
	return 0;
}

/*
 * Each ioctl's handler is named after it; @op is what debugfs "failures"
 * counts its failures under.
 */
static long gdmabuf_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
{
	struct gdmabuf_file *file = filp->private_data;
	void __user *uarg = (void __user *)arg;
	enum gdmabuf_op op;
	long ret;

	switch (cmd) {
	case IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS:
		op = GDMABUF_OP_EXPORT;
		ret = gdmabuf_ioctl_gntdev_dmabuf_exp_from_refs(file, uarg);
		break;
	case IOCTL_GNTDEV_DMABUF_EXP_WAIT_RELEASED:
		op = GDMABUF_OP_WAIT_RELEASED;
		ret = gdmabuf_ioctl_gntdev_dmabuf_exp_wait_released(file, uarg);
		break;
	case IOCTL_GNTDEV_DMABUF_IMP_TO_REFS:
		op = GDMABUF_OP_IMPORT;
		ret = gdmabuf_ioctl_gntdev_dmabuf_imp_to_refs(file, uarg);
		break;
	case IOCTL_GNTDEV_DMABUF_IMP_RELEASE:
		op = GDMABUF_OP_IMPORT_RELEASE;
		ret = gdmabuf_ioctl_gntdev_dmabuf_imp_release(file, uarg);
		break;
	case GDMABUF_IOCTL_GET_INFO:
		op = GDMABUF_OP_GET_INFO;
		ret = gdmabuf_ioctl_get_info(file, uarg);
		break;
	case GDMABUF_IOCTL_EXP_ID:
		op = GDMABUF_OP_EXP_ID;
		ret = gdmabuf_ioctl_exp_id(file, uarg);
		break;
	case GDMABUF_IOCTL_EXP_RELEASED:
		op = GDMABUF_OP_EXP_RELEASED;
		ret = gdmabuf_ioctl_exp_released(file, uarg);
		break;
	case GDMABUF_IOCTL_IMP_TO_REFS:
		op = GDMABUF_OP_IMPORT;
		ret = gdmabuf_ioctl_imp_to_refs(file, uarg);
		break;
	case GDMABUF_IOCTL_IMP_RELEASE:
		op = GDMABUF_OP_IMPORT_RELEASE;
		ret = gdmabuf_ioctl_imp_release(file, uarg);
		break;
	default:
		return -ENOTTY;
	}
	if (ret < 0)
		gdmabuf_count_failure(op, ret);
	return ret;
}

static __poll_t gdmabuf_poll(struct file *filp, poll_table *wait)
{
	return gdmabuf_release_poll(filp->private_data, filp, wait);
}

static const struct file_operations gdmabuf_fops = {
	.owner = THIS_MODULE,
	.open = gdmabuf_open,
	.release = gdmabuf_release,
	.poll = gdmabuf_poll,
	.unlocked_ioctl = gdmabuf_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice gdmabuf_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "gntdev-dmabuf",
	.nodename = GDMABUF_DEVICE_NAME,
	.mode = 0600,
	.fops = &gdmabuf_fops,
};

/**
 * gdmabuf_dma_dev() - the device imports attach with
 *
 * Context: any.
 * Return: our misc device, with a 64-bit DMA mask: the exporter maps its
 * table for it, and only the pages are used.
 */
struct device *gdmabuf_dma_dev(void)
{
	return gdmabuf_miscdev.this_device;
}

static int __init gdmabuf_init(void)
{
	int ret;

	/* One grant per page: Xen's pages must be the kernel's. */
	BUILD_BUG_ON(PAGE_SIZE != XEN_PAGE_SIZE);

	if (!xen_domain()) {
		pr_err("not running in a Xen domain: this module shares memory between Xen domains and has nothing to do here\n");
		return -ENODEV;
	}

	ret = gdmabuf_grants_init();
	if (ret)
		return ret;
	ret = gdmabuf_import_init();
	if (ret)
		goto err_grants;

	ret = gdmabuf_debugfs_init();
	if (ret)
		goto err_import;

	ret = misc_register(&gdmabuf_miscdev);
	if (ret) {
		pr_err("cannot register /dev/%s: %d\n", GDMABUF_DEVICE_NAME, ret);
		goto err_debugfs;
	}
	ret = dma_coerce_mask_and_coherent(gdmabuf_miscdev.this_device, DMA_BIT_MASK(64));
	if (ret)
		goto err_deregister;
	/*
	 * As an importer the device takes tables as exporters build them,
	 * with segments of any length; without parameters the DMA API
	 * assumes 64 KiB (and DMA_API_DEBUG says so).
	 */
	gdmabuf_miscdev.this_device->dma_parms = &gdmabuf_dma_parms;

	pr_info("version %s loaded (%s domain)\n", GDMABUF_VERSION,
		xen_pv_domain() ? "PV" : "auto-translated");
	return 0;

err_deregister:
	misc_deregister(&gdmabuf_miscdev);
err_debugfs:
	gdmabuf_debugfs_exit();
err_import:
	gdmabuf_import_exit();
err_grants:
	gdmabuf_grants_exit();
	return ret;
}

static void __exit gdmabuf_exit(void)
{
	misc_deregister(&gdmabuf_miscdev);
	gdmabuf_debugfs_exit();
	gdmabuf_import_exit();
	gdmabuf_grants_exit();
}

module_init(gdmabuf_init);
module_exit(gdmabuf_exit);

MODULE_DESCRIPTION("Share Xen grant references as dma-bufs and dma-bufs as grant references");
MODULE_LICENSE("GPL");
MODULE_VERSION(GDMABUF_VERSION);
GDMABUF_IMPORT_NS_DMA_BUF();
