// SPDX-License-Identifier: GPL-2.0
/*
 * gntdev-dmabuf: a real importing device for test builds.  QEMU's fw_cfg
 * device has a DMA engine that writes a file given on QEMU's command line
 * to any bus address.  Bound as a platform driver, its device gets its DMA
 * operations from the bus exactly like any device of dom0's device tree:
 * on an arm64 dom0 behind Xen that is swiotlb-xen, which turns the foreign
 * frames of an export into the granter's machine addresses, or bounces.
 *
 * DOC: selftest importer device
 *
 * - "devdma": writing "map FD" attaches the fw_cfg device to the writer's
 *   dma-buf FD, maps it (DMA_BIDIRECTIONAL) and has the device write the
 *   QEMU file "opt/gdmabuf/dma" into it, page after page, through the DMA
 *   addresses of the table.  The buffer stays mapped, without any sync,
 *   until "unmap", so a reader of the memory meanwhile sees what the
 *   device wrote only if it wrote there and not into a bounce buffer.
 *   Reading gives "map_page=<the map_page of the device's DMA operations,
 *   or dma-direct> pages=<n> bus=<pages whose DMA address is their bus
 *   frame>" for the last map, "unmapped" after "unmap".
 *
 * Only a device tree with a "qemu,fw-cfg-mmio" node (QEMU's arm64 virt
 * machine, which Xen passes on to dom0) has the device.
 */

#define pr_fmt(fmt) "gntdev-dmabuf: " fmt

#include <linux/delay.h>
#include <linux/dma-buf.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/io.h>
#include <linux/kallsyms.h>
#include <linux/mod_devicetable.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/string.h>

#include <xen/page.h>
#include <xen/xen.h>

#include "gdmabuf-compat.h"
#include "gdmabuf-dev.h"
#include "gdmabuf-selftest.h"

#define GDMABUF_FWCFG_DATA		0x00
#define GDMABUF_FWCFG_SELECTOR		0x08
#define GDMABUF_FWCFG_DMA		0x10
#define GDMABUF_FWCFG_FILE_DIR		0x19
#define GDMABUF_FWCFG_DMA_ERROR		0x01
#define GDMABUF_FWCFG_DMA_READ		0x02
#define GDMABUF_FWCFG_DMA_SELECT	0x08
#define GDMABUF_FWCFG_FILE		"opt/gdmabuf/dma"

/* fw_cfg's DMA descriptor, big-endian as the device reads it. */
struct gdmabuf_fwcfg_dma_access {
	__be32 control;
	__be32 length;
	__be64 address;
};

/* An entry of fw_cfg's file directory. */
struct gdmabuf_fwcfg_file {
	__be32 size;
	__be16 select;
	__be16 reserved;
	char name[56];
};

/* The device, its DMA descriptor and the mapping "devdma" keeps. */
struct gdmabuf_fwcfg {
	struct device *dev;
	void __iomem *regs;
	struct gdmabuf_fwcfg_dma_access *desc;
	dma_addr_t desc_dma;
	struct dma_buf *dmabuf;
	struct dma_buf_attachment *attach;
	struct sg_table *sgt;
};

static DEFINE_MUTEX(gdmabuf_fwcfg_lock);	/* protects gdmabuf_fwcfg */
static struct gdmabuf_fwcfg gdmabuf_fwcfg;

/*
 * The selector and size of @name, read through the data register (not
 * through DMA, the thing under test).
 */
static int gdmabuf_fwcfg_find(void __iomem *regs, const char *name, u16 *key, u32 *size)
{
	struct gdmabuf_fwcfg_file f;
	__be32 count;
	u32 i;

	iowrite16be(GDMABUF_FWCFG_FILE_DIR, regs + GDMABUF_FWCFG_SELECTOR);
	ioread8_rep(regs + GDMABUF_FWCFG_DATA, &count, sizeof(count));
	for (i = 0; i < be32_to_cpu(count); i++) {
		ioread8_rep(regs + GDMABUF_FWCFG_DATA, &f, sizeof(f));
		if (!strncmp(f.name, name, sizeof(f.name))) {
			*key = be16_to_cpu(f.select);
			*size = be32_to_cpu(f.size);
			return 0;
		}
	}
	return -ENOENT;
}

/*
 * Has the device carry out @control for @len bytes at bus address @to.
 * Context: process context; gdmabuf_fwcfg_lock held.
 */
static int gdmabuf_fwcfg_transfer(struct gdmabuf_fwcfg *fw, u32 control, dma_addr_t to, u32 len)
{
	unsigned int i;
	u32 c;

	lockdep_assert_held(&gdmabuf_fwcfg_lock);
	WRITE_ONCE(fw->desc->length, cpu_to_be32(len));
	WRITE_ONCE(fw->desc->address, cpu_to_be64(to));
	WRITE_ONCE(fw->desc->control, cpu_to_be32(control));
	/* iowrite32be() orders the descriptor before the doorbell; the low half rings it. */
	iowrite32be(upper_32_bits(fw->desc_dma), fw->regs + GDMABUF_FWCFG_DMA);
	iowrite32be(lower_32_bits(fw->desc_dma), fw->regs + GDMABUF_FWCFG_DMA + 4);
	for (i = 0; i < 1000; i++) {
		c = be32_to_cpu(READ_ONCE(fw->desc->control));
		if (!(c & ~GDMABUF_FWCFG_DMA_ERROR))
			return c ? -EIO : 0;
		usleep_range(100, 200);
	}
	return -ETIMEDOUT;
}

/*
 * Names the DMA operations of @dev by their map_page: the structure itself
 * is data, which kallsyms does not know without CONFIG_KALLSYMS_ALL.
 */
static void gdmabuf_fwcfg_ops(struct device *dev, char *name, size_t size)
{
	const struct dma_map_ops *ops = get_dma_ops(dev);

	if (ops)
		snprintf(name, size, "%ps", ops->map_page);
	else
		strscpy(name, "dma-direct", size);
}

/* Context: gdmabuf_fwcfg_lock held. */
static void gdmabuf_fwcfg_unmap(struct gdmabuf_fwcfg *fw)
{
	lockdep_assert_held(&gdmabuf_fwcfg_lock);
	if (!fw->dmabuf)
		return;
	if (fw->sgt)
		gdmabuf_dma_buf_unmap_attachment(fw->attach, fw->sgt, DMA_BIDIRECTIONAL);
	dma_buf_detach(fw->dmabuf, fw->attach);
	dma_buf_put(fw->dmabuf);
	fw->dmabuf = NULL;
	fw->attach = NULL;
	fw->sgt = NULL;
}

/* Context: gdmabuf_fwcfg_lock held. */
static int gdmabuf_fwcfg_map(struct gdmabuf_fwcfg *fw, int fd, char *res, size_t size)
{
	unsigned int i = 0, bus = 0, n;
	char ops[KSYM_SYMBOL_LEN];
	struct sg_dma_page_iter dit;
	struct sg_page_iter it;
	struct page **pages;
	u32 file_size, ctl;
	u16 key;
	int ret;

	lockdep_assert_held(&gdmabuf_fwcfg_lock);
	if (fw->dmabuf)
		return -EBUSY;
	ret = gdmabuf_fwcfg_find(fw->regs, GDMABUF_FWCFG_FILE, &key, &file_size);
	if (ret)
		return ret;
	fw->dmabuf = dma_buf_get(fd);
	if (IS_ERR(fw->dmabuf)) {
		ret = PTR_ERR(fw->dmabuf);
		fw->dmabuf = NULL;
		return ret;
	}
	n = fw->dmabuf->size >> PAGE_SHIFT;
	if ((u64)n << PAGE_SHIFT > file_size) {
		ret = -ENOSPC;
		goto err_put;
	}
	pages = kvcalloc(n, sizeof(*pages), GFP_KERNEL);
	if (!pages) {
		ret = -ENOMEM;
		goto err_put;
	}
	fw->attach = dma_buf_attach(fw->dmabuf, fw->dev);
	if (IS_ERR(fw->attach)) {
		ret = PTR_ERR(fw->attach);
		goto err_free_pages;
	}
	fw->sgt = gdmabuf_dma_buf_map_attachment(fw->attach, DMA_BIDIRECTIONAL);
	if (IS_ERR(fw->sgt)) {
		ret = PTR_ERR(fw->sgt);
		fw->sgt = NULL;
		goto err_detach;
	}
	for_each_sgtable_page(fw->sgt, &it, 0)
		if (i < n)
			pages[i++] = sg_page_iter_page(&it);
	i = 0;
	/* The first transfer selects the file, the others go on where it stopped. */
	ctl = (u32)key << 16 | GDMABUF_FWCFG_DMA_SELECT | GDMABUF_FWCFG_DMA_READ;
	for_each_sgtable_dma_page(fw->sgt, &dit, 0) {
		dma_addr_t addr = sg_page_iter_dma_address(&dit);

		if (i >= n)
			break;
		if (addr == (dma_addr_t)pfn_to_bfn(page_to_pfn(pages[i])) << PAGE_SHIFT)
			bus++;
		ret = gdmabuf_fwcfg_transfer(fw, ctl, addr, PAGE_SIZE);
		if (ret)
			goto err_unmap;
		ctl = GDMABUF_FWCFG_DMA_READ;
		i++;
	}
	kvfree(pages);
	gdmabuf_fwcfg_ops(fw->dev, ops, sizeof(ops));
	snprintf(res, size, "map_page=%s pages=%u bus=%u\n", ops, i, bus);
	return 0;

err_unmap:
	gdmabuf_dma_buf_unmap_attachment(fw->attach, fw->sgt, DMA_BIDIRECTIONAL);
	fw->sgt = NULL;
err_detach:
	dma_buf_detach(fw->dmabuf, fw->attach);
	fw->attach = NULL;
err_free_pages:
	kvfree(pages);
err_put:
	dma_buf_put(fw->dmabuf);
	fw->dmabuf = NULL;
	return ret;
}

/**
 * gdmabuf_devdma_run() - the "devdma" command (DOC: selftest importer device)
 * @cmd: "map FD" or "unmap"
 * @res: where the answer goes
 * @size: size of @res
 *
 * Context: process context; takes gdmabuf_fwcfg_lock.
 * Return: 0; -ENODEV without the device; -EINVAL for another command;
 * -EBUSY when a buffer is mapped already; -ENOENT for "unmap" when none
 * is, or without the QEMU file; -ENOSPC when the buffer is larger than the
 * file; -EIO or -ETIMEDOUT when the device fails; or what dma_buf_get(),
 * dma_buf_attach() and dma_buf_map_attachment() return.
 */
int gdmabuf_devdma_run(const char *cmd, char *res, size_t size)
{
	int fd, ret = 0;

	mutex_lock(&gdmabuf_fwcfg_lock);
	if (!gdmabuf_fwcfg.dev) {
		ret = -ENODEV;
	} else if (!strcmp(cmd, "unmap")) {
		if (gdmabuf_fwcfg.dmabuf) {
			gdmabuf_fwcfg_unmap(&gdmabuf_fwcfg);
			snprintf(res, size, "unmapped\n");
		} else {
			ret = -ENOENT;
		}
	} else if (sscanf(cmd, "map %d", &fd) == 1) {
		ret = gdmabuf_fwcfg_map(&gdmabuf_fwcfg, fd, res, size);
	} else {
		ret = -EINVAL;
	}
	mutex_unlock(&gdmabuf_fwcfg_lock);
	return ret;
}

/**
 * gdmabuf_selftest_bus_dev() - the device that stands for a real importer
 *
 * Context: any.
 * Return: the fw_cfg device when it is bound (its DMA operations are the
 * bus's); else, in a PV domain, gdmabuf_dma_dev(), which has the DMA
 * operations of every device there (swiotlb-xen); else NULL: in an
 * auto-translated domain that device has only dma-direct.
 */
struct device *gdmabuf_selftest_bus_dev(void)
{
	struct device *dev;

	mutex_lock(&gdmabuf_fwcfg_lock);
	dev = gdmabuf_fwcfg.dev;
	mutex_unlock(&gdmabuf_fwcfg_lock);
	if (!dev && xen_pv_domain())
		dev = gdmabuf_dma_dev();
	return dev;
}

static int gdmabuf_fwcfg_probe(struct platform_device *pdev)
{
	struct gdmabuf_fwcfg *fw = &gdmabuf_fwcfg;
	char ops[KSYM_SYMBOL_LEN];
	void __iomem *regs;
	int ret;

	regs = devm_platform_ioremap_resource(pdev, 0);
	if (IS_ERR(regs))
		return PTR_ERR(regs);
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;
	mutex_lock(&gdmabuf_fwcfg_lock);
	fw->desc = dmam_alloc_coherent(&pdev->dev, sizeof(*fw->desc), &fw->desc_dma, GFP_KERNEL);
	if (fw->desc) {
		fw->regs = regs;
		fw->dev = &pdev->dev;
		gdmabuf_fwcfg_ops(&pdev->dev, ops, sizeof(ops));
		dev_info(&pdev->dev, "selftest importer device, DMA through %s\n", ops);
	}
	mutex_unlock(&gdmabuf_fwcfg_lock);
	return fw->desc ? 0 : -ENOMEM;
}

static const struct of_device_id gdmabuf_fwcfg_of_match[] = {
	{ .compatible = "qemu,fw-cfg-mmio" },
	{ }
};

static struct platform_driver gdmabuf_fwcfg_driver = {
	.probe = gdmabuf_fwcfg_probe,
	.driver = {
		.name = "gntdev-dmabuf-selftest-fwcfg",
		.of_match_table = gdmabuf_fwcfg_of_match,
		/* Only gdmabuf_selftest_fwcfg_exit() unbinds: no remove callback to keep apart. */
		.suppress_bind_attrs = true,
	},
};

/**
 * gdmabuf_selftest_fwcfg_init() - bind the fw_cfg device where there is one
 *
 * Context: module init.
 */
void gdmabuf_selftest_fwcfg_init(void)
{
	int ret = platform_driver_register(&gdmabuf_fwcfg_driver);

	if (ret)
		pr_warn("selftest: cannot register the fw_cfg driver: %d\n", ret);
}

/**
 * gdmabuf_selftest_fwcfg_exit() - unbind it, unmapping what "devdma" kept
 *
 * Context: module exit.
 */
void gdmabuf_selftest_fwcfg_exit(void)
{
	mutex_lock(&gdmabuf_fwcfg_lock);
	gdmabuf_fwcfg_unmap(&gdmabuf_fwcfg);
	gdmabuf_fwcfg.dev = NULL;
	mutex_unlock(&gdmabuf_fwcfg_lock);
	/* devres frees the descriptor and the registers' mapping. */
	platform_driver_unregister(&gdmabuf_fwcfg_driver);
}
