// SPDX-License-Identifier: GPL-2.0
/*
 * gntdev-dmabuf: the /dev/xen/gntdev-dmabuf misc device, its module
 * parameters and the ioctl dispatcher.
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
#include "gdmabuf-common.h"
#include "gdmabuf-compat.h"

/* Same default as the stock gntdev's per-request limit (256 MiB). */
unsigned int gdmabuf_max_pages_per_call = 65536;
module_param_named(max_pages_per_call, gdmabuf_max_pages_per_call, uint, 0644);
MODULE_PARM_DESC(max_pages_per_call,
		 "Most pages one export or import call may cover (default 65536)");

unsigned int gdmabuf_max_pages_per_file = 262144;
module_param_named(max_pages_per_file, gdmabuf_max_pages_per_file, uint, 0644);
MODULE_PARM_DESC(max_pages_per_file,
		 "Most pages one open file may have exported and imported at once, 0 for no limit (default 262144)");

unsigned int gdmabuf_max_pages_per_domain = 262144;
module_param_named(max_pages_per_domain, gdmabuf_max_pages_per_domain, uint, 0644);
MODULE_PARM_DESC(max_pages_per_domain,
		 "Most pages of one remote domain that may be exported or imported at once, 0 for no limit (default 262144)");

/* The default CMA area of Debian's arm64 kernels is 64 MiB. */
unsigned int gdmabuf_max_dma_pages = 16384;
module_param_named(max_dma_pages, gdmabuf_max_dma_pages, uint, 0644);
MODULE_PARM_DESC(max_dma_pages,
		 "Most pages one DMA-backed (WC or coherent) export may have (default 16384)");

static int gdmabuf_open(struct inode *inode, struct file *filp)
{
	struct gdmabuf_file *priv;

	priv = kzalloc(sizeof(*priv), GFP_KERNEL);
	if (!priv)
		return -ENOMEM;
	INIT_LIST_HEAD(&priv->exports);
	INIT_LIST_HEAD(&priv->released);
	init_waitqueue_head(&priv->release_wq);
	mutex_init(&priv->lock);
	INIT_LIST_HEAD(&priv->imports);
	filp->private_data = priv;
	return 0;
}

static int gdmabuf_release(struct inode *inode, struct file *filp)
{
	struct gdmabuf_file *priv = filp->private_data;

	gdmabuf_export_file_closed(priv);
	gdmabuf_import_file_closed(priv);
	mutex_destroy(&priv->lock);
	kfree(priv);
	return 0;
}

/*
 * The DMA parameters of the misc device, which has none of its own; set
 * here rather than with dma_set_max_seg_size(), whose return type changed.
 */
static struct device_dma_parameters gdmabuf_dma_parms = {
	.max_segment_size = UINT_MAX,
};

static long gdmabuf_ioctl_get_info(struct gdmabuf_file *priv,
				   struct gdmabuf_info __user *uarg)
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

static long gdmabuf_ioctl(struct file *filp, unsigned int cmd,
			  unsigned long arg)
{
	struct gdmabuf_file *priv = filp->private_data;
	void __user *uarg = (void __user *)arg;
	enum gdmabuf_op op;
	long ret;

	switch (cmd) {
	case IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS:
		op = GDMABUF_OP_EXPORT;
		ret = gdmabuf_ioctl_exp_from_refs(priv, uarg);
		break;
	case IOCTL_GNTDEV_DMABUF_EXP_WAIT_RELEASED:
		op = GDMABUF_OP_WAIT_RELEASED;
		ret = gdmabuf_ioctl_exp_wait_released(priv, uarg);
		break;
	case IOCTL_GNTDEV_DMABUF_IMP_TO_REFS:
		op = GDMABUF_OP_IMPORT;
		ret = gdmabuf_ioctl_imp_to_refs(priv, uarg);
		break;
	case IOCTL_GNTDEV_DMABUF_IMP_RELEASE:
		op = GDMABUF_OP_IMPORT_RELEASE;
		ret = gdmabuf_ioctl_imp_release(priv, uarg);
		break;
	case GDMABUF_IOCTL_IMP_TO_REFS:
		op = GDMABUF_OP_IMPORT;
		ret = gdmabuf_ioctl_import(priv, uarg);
		break;
	case GDMABUF_IOCTL_IMP_RELEASE:
		op = GDMABUF_OP_IMPORT_RELEASE;
		ret = gdmabuf_ioctl_import_release(priv, uarg);
		break;
	case GDMABUF_IOCTL_GET_INFO:
		op = GDMABUF_OP_GET_INFO;
		ret = gdmabuf_ioctl_get_info(priv, uarg);
		break;
	case GDMABUF_IOCTL_EXP_ID:
		op = GDMABUF_OP_EXP_ID;
		ret = gdmabuf_ioctl_exp_id(priv, uarg);
		break;
	case GDMABUF_IOCTL_EXP_RELEASED:
		op = GDMABUF_OP_EXP_RELEASED;
		ret = gdmabuf_ioctl_exp_released(priv, uarg);
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
	return gdmabuf_export_poll(filp->private_data, filp, wait);
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
