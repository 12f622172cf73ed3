// SPDX-License-Identifier: GPL-2.0
/*
 * gntdev-dmabuf: test-only debugfs files, built only with
 * GDMABUF_SELFTEST=y (make check always sets it; release builds never do).
 *
 * DOC: selftest debugfs files
 *
 * - "inject": writing "warn" raises a kernel WARNING, which proves that
 *   the harness's kernel-log gate fails a run.
 * - "vmap": writing "FD XOR" makes the module act as a kernel importer of
 *   the writer's dma-buf FD: it vmaps the buffer, takes the 64-bit FNV-1a
 *   hash of its bytes, XORs the first 32-bit word of every page with XOR
 *   and vunmaps.  Reading gives "fnv=<hex> size=<bytes>" for the last
 *   write.
 * - "mkbuf": writing "PAGES OFFSET SEED ram|nopage" makes the module
 *   export a dma-buf of its own, the kind no other exporter in the test
 *   bed provides: its data starts OFFSET bytes into the first of PAGES
 *   pages (size PAGES * PAGE_SIZE - OFFSET), and byte k counted from the
 *   start of the first page holds (k * 13 + SEED) & 0xff.  "nopage" gives
 *   a table with DMA addresses but no struct pages, like device memory.
 *   The new fd (close-on-exec) is installed in the writer; reading gives
 *   "fd=<n>" for the last write.
 * - "sgcheck": writing "FD" attaches gdmabuf_dma_dev() to the writer's
 *   dma-buf FD and maps it, as a device importer would; reading gives
 *   "nents=<DMA segments> pfn_runs=<runs of consecutive page frames>" for
 *   the last write.
 * - "dmacheck": writing "FD UADDR" maps the writer's dma-buf FD for
 *   gdmabuf_dma_dev() as a device importer would, and maps each page of
 *   the writer's memory at UADDR for the same device with
 *   dma_map_page(); reading gives "pages=<n> same=<m>", how many pages got
 *   the same DMA address both ways.  With self-granted pages at UADDR this
 *   proves that an importer reaches the granter's frames.
 * - "reservation": reading gives "pages=<n>", this domain's current
 *   reservation as Xen counts it (XENMEM_current_reservation).
 * - "dma_fail_decrease_after" (u32): DMA-backed exports behave as if Xen
 *   took only that many frames; UINT_MAX (the default) disables it.
 */

#define pr_fmt(fmt) "gntdev-dmabuf: " fmt

#include <linux/debugfs.h>
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/iosys-map.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include <xen/interface/xen.h>
#include <xen/interface/memory.h>
#include <xen/xen.h>

#include <asm/xen/hypercall.h>

#include "gdmabuf-common.h"
#include "gdmabuf-compat.h"

static ssize_t gdmabuf_inject_write(struct file *file, const char __user *ubuf,
				    size_t len, loff_t *ppos)
{
	char cmd[16];

	if (len >= sizeof(cmd))
		return -EINVAL;
	if (copy_from_user(cmd, ubuf, len))
		return -EFAULT;
	cmd[len] = '\0';
	strim(cmd);

	if (!strcmp(cmd, "warn"))
		WARN(1, "gntdev-dmabuf: warning injected through debugfs (test build)\n");
	else
		return -EINVAL;
	return len;
}

static const struct file_operations gdmabuf_inject_fops = {
	.owner = THIS_MODULE,
	.write = gdmabuf_inject_write,
	.llseek = noop_llseek,
};

/* Protects the result of the last "vmap" command. */
static DEFINE_MUTEX(gdmabuf_vmap_lock);
static u64 gdmabuf_vmap_hash;
static size_t gdmabuf_vmap_size;

static int gdmabuf_vmap_run(int fd, u32 xor)
{
	struct iosys_map map;
	struct dma_buf *dmabuf;
	u64 hash = 0xcbf29ce484222325ULL;
	size_t i;
	u8 *p;
	int ret;

	dmabuf = dma_buf_get(fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	ret = gdmabuf_dma_buf_vmap(dmabuf, &map);
	if (ret)
		goto out_put;
	if (map.is_iomem) {
		ret = -EOPNOTSUPP;
		goto out_vunmap;
	}
	p = map.vaddr;
	for (i = 0; i < dmabuf->size; i++)
		hash = (hash ^ p[i]) * 0x100000001b3ULL;
	for (i = 0; i < dmabuf->size; i += PAGE_SIZE)
		*(u32 *)(p + i) ^= xor;

	mutex_lock(&gdmabuf_vmap_lock);
	gdmabuf_vmap_hash = hash;
	gdmabuf_vmap_size = dmabuf->size;
	mutex_unlock(&gdmabuf_vmap_lock);
out_vunmap:
	gdmabuf_dma_buf_vunmap(dmabuf, &map);
out_put:
	dma_buf_put(dmabuf);
	return ret;
}

static ssize_t gdmabuf_vmap_write(struct file *file, const char __user *ubuf,
				  size_t len, loff_t *ppos)
{
	char cmd[32];
	int fd, ret;
	u32 xor;

	if (len >= sizeof(cmd))
		return -EINVAL;
	if (copy_from_user(cmd, ubuf, len))
		return -EFAULT;
	cmd[len] = '\0';
	if (sscanf(cmd, "%d %i", &fd, &xor) != 2)
		return -EINVAL;
	ret = gdmabuf_vmap_run(fd, xor);
	return ret ? ret : len;
}

static ssize_t gdmabuf_vmap_read(struct file *file, char __user *ubuf,
				 size_t len, loff_t *ppos)
{
	char buf[64];
	int n;

	mutex_lock(&gdmabuf_vmap_lock);
	n = scnprintf(buf, sizeof(buf), "fnv=%016llx size=%zu\n", gdmabuf_vmap_hash,
		      gdmabuf_vmap_size);
	mutex_unlock(&gdmabuf_vmap_lock);
	return simple_read_from_buffer(ubuf, len, ppos, buf, n);
}

static const struct file_operations gdmabuf_vmap_fops = {
	.owner = THIS_MODULE,
	.write = gdmabuf_vmap_write,
	.read = gdmabuf_vmap_read,
	.llseek = default_llseek,
};

/**
 * struct gdmabuf_testbuf - a dma-buf exported by "mkbuf"
 * @count: number of pages.
 * @offset: where the data starts in the first page.
 * @nopage: hand out a table without struct pages.
 * @pages: the pages.
 */
struct gdmabuf_testbuf {
	unsigned int count;
	unsigned int offset;
	bool nopage;
	struct page **pages;
};

static struct sg_table *gdmabuf_testbuf_map(struct dma_buf_attachment *attach,
					    enum dma_data_direction dir)
{
	struct gdmabuf_testbuf *tb = attach->dmabuf->priv;
	struct sg_table *sgt;
	int ret;

	sgt = kzalloc(sizeof(*sgt), GFP_KERNEL);
	if (!sgt)
		return ERR_PTR(-ENOMEM);
	if (tb->nopage) {
		ret = sg_alloc_table(sgt, 1, GFP_KERNEL);
		if (ret)
			goto err_free_sgt;
		/* What a device-memory exporter gives: a bus address, no page. */
		sgt->sgl->length = attach->dmabuf->size;
		sg_dma_address(sgt->sgl) = 0x100000000ULL;
		sg_dma_len(sgt->sgl) = attach->dmabuf->size;
		return sgt;
	}
	ret = sg_alloc_table_from_pages(sgt, tb->pages, tb->count, tb->offset,
					attach->dmabuf->size, GFP_KERNEL);
	if (ret)
		goto err_free_sgt;
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

static void gdmabuf_testbuf_unmap(struct dma_buf_attachment *attach,
				  struct sg_table *sgt, enum dma_data_direction dir)
{
	struct gdmabuf_testbuf *tb = attach->dmabuf->priv;

	if (!tb->nopage)
		dma_unmap_sgtable(attach->dev, sgt, dir, 0);
	sg_free_table(sgt);
	kfree(sgt);
}

static void gdmabuf_testbuf_free(struct gdmabuf_testbuf *tb)
{
	unsigned int i;

	for (i = 0; i < tb->count; i++)
		if (tb->pages[i])
			__free_page(tb->pages[i]);
	kvfree(tb->pages);
	kfree(tb);
}

static void gdmabuf_testbuf_release(struct dma_buf *dmabuf)
{
	gdmabuf_testbuf_free(dmabuf->priv);
}

static const struct dma_buf_ops gdmabuf_testbuf_ops = {
	.map_dma_buf = gdmabuf_testbuf_map,
	.unmap_dma_buf = gdmabuf_testbuf_unmap,
	.release = gdmabuf_testbuf_release,
};

/* Protects the fd number of the last "mkbuf" write. */
static DEFINE_MUTEX(gdmabuf_mkbuf_lock);
static int gdmabuf_mkbuf_fd = -1;

static int gdmabuf_mkbuf_run(unsigned int count, unsigned int offset, u8 seed, bool nopage)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);
	struct gdmabuf_testbuf *tb;
	struct dma_buf *dmabuf;
	unsigned int i, k;
	int fd, ret;

	if (!count || count > 1024 || offset >= PAGE_SIZE)
		return -EINVAL;
	tb = kzalloc(sizeof(*tb), GFP_KERNEL);
	if (!tb)
		return -ENOMEM;
	tb->count = count;
	tb->offset = offset;
	tb->nopage = nopage;
	tb->pages = kvcalloc(count, sizeof(*tb->pages), GFP_KERNEL);
	if (!tb->pages) {
		ret = -ENOMEM;
		goto err_free;
	}
	for (i = 0; i < count; i++) {
		u8 *p;

		tb->pages[i] = alloc_page(GFP_KERNEL);
		if (!tb->pages[i]) {
			ret = -ENOMEM;
			goto err_free;
		}
		p = page_address(tb->pages[i]);
		for (k = 0; k < PAGE_SIZE; k++)
			p[k] = ((i * PAGE_SIZE + k) * 13 + seed) & 0xff;
	}

	exp_info.ops = &gdmabuf_testbuf_ops;
	exp_info.owner = THIS_MODULE;
	exp_info.size = (size_t)count * PAGE_SIZE - offset;
	exp_info.flags = O_RDWR;
	exp_info.priv = tb;
	dmabuf = dma_buf_export(&exp_info);
	if (IS_ERR(dmabuf)) {
		ret = PTR_ERR(dmabuf);
		goto err_free;
	}
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		dma_buf_put(dmabuf);
		return fd;
	}
	mutex_lock(&gdmabuf_mkbuf_lock);
	gdmabuf_mkbuf_fd = fd;
	mutex_unlock(&gdmabuf_mkbuf_lock);
	fd_install(fd, dmabuf->file);
	return 0;

err_free:
	gdmabuf_testbuf_free(tb);
	return ret;
}

static ssize_t gdmabuf_mkbuf_write(struct file *file, const char __user *ubuf,
				   size_t len, loff_t *ppos)
{
	unsigned int count, offset, seed;
	char cmd[48], mode[8];
	int ret;

	if (len >= sizeof(cmd))
		return -EINVAL;
	if (copy_from_user(cmd, ubuf, len))
		return -EFAULT;
	cmd[len] = '\0';
	if (sscanf(cmd, "%u %u %u %7s", &count, &offset, &seed, mode) != 4)
		return -EINVAL;
	if (strcmp(mode, "ram") && strcmp(mode, "nopage"))
		return -EINVAL;
	ret = gdmabuf_mkbuf_run(count, offset, seed, !strcmp(mode, "nopage"));
	return ret ? ret : len;
}

static ssize_t gdmabuf_mkbuf_read(struct file *file, char __user *ubuf,
				  size_t len, loff_t *ppos)
{
	char buf[24];
	int n;

	mutex_lock(&gdmabuf_mkbuf_lock);
	n = scnprintf(buf, sizeof(buf), "fd=%d\n", gdmabuf_mkbuf_fd);
	mutex_unlock(&gdmabuf_mkbuf_lock);
	return simple_read_from_buffer(ubuf, len, ppos, buf, n);
}

static const struct file_operations gdmabuf_mkbuf_fops = {
	.owner = THIS_MODULE,
	.write = gdmabuf_mkbuf_write,
	.read = gdmabuf_mkbuf_read,
	.llseek = default_llseek,
};

/* Protects the result of the last "sgcheck" write. */
static DEFINE_MUTEX(gdmabuf_sgcheck_lock);
static unsigned int gdmabuf_sgcheck_nents, gdmabuf_sgcheck_runs;

static int gdmabuf_sgcheck_run(int fd)
{
	struct dma_buf_attachment *attach;
	struct dma_buf *dmabuf;
	struct sg_page_iter it;
	struct sg_table *sgt;
	unsigned long prev = 0;
	unsigned int runs = 0;
	int ret = 0;

	dmabuf = dma_buf_get(fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	attach = dma_buf_attach(dmabuf, gdmabuf_dma_dev());
	if (IS_ERR(attach)) {
		ret = PTR_ERR(attach);
		goto out_put;
	}
	sgt = gdmabuf_dma_buf_map_attachment(attach, DMA_BIDIRECTIONAL);
	if (IS_ERR(sgt)) {
		ret = PTR_ERR(sgt);
		goto out_detach;
	}
	for_each_sgtable_page(sgt, &it, 0) {
		unsigned long pfn = page_to_pfn(sg_page_iter_page(&it));

		if (!runs || pfn != prev + 1)
			runs++;
		prev = pfn;
	}
	mutex_lock(&gdmabuf_sgcheck_lock);
	gdmabuf_sgcheck_nents = sgt->nents;
	gdmabuf_sgcheck_runs = runs;
	mutex_unlock(&gdmabuf_sgcheck_lock);
	gdmabuf_dma_buf_unmap_attachment(attach, sgt, DMA_BIDIRECTIONAL);
out_detach:
	dma_buf_detach(dmabuf, attach);
out_put:
	dma_buf_put(dmabuf);
	return ret;
}

static ssize_t gdmabuf_sgcheck_write(struct file *file, const char __user *ubuf,
				     size_t len, loff_t *ppos)
{
	int fd, ret;

	ret = kstrtoint_from_user(ubuf, len, 10, &fd);
	if (ret)
		return ret;
	ret = gdmabuf_sgcheck_run(fd);
	return ret ? ret : len;
}

static ssize_t gdmabuf_sgcheck_read(struct file *file, char __user *ubuf,
				    size_t len, loff_t *ppos)
{
	char buf[48];
	int n;

	mutex_lock(&gdmabuf_sgcheck_lock);
	n = scnprintf(buf, sizeof(buf), "nents=%u pfn_runs=%u\n", gdmabuf_sgcheck_nents,
		      gdmabuf_sgcheck_runs);
	mutex_unlock(&gdmabuf_sgcheck_lock);
	return simple_read_from_buffer(ubuf, len, ppos, buf, n);
}

static const struct file_operations gdmabuf_sgcheck_fops = {
	.owner = THIS_MODULE,
	.write = gdmabuf_sgcheck_write,
	.read = gdmabuf_sgcheck_read,
	.llseek = default_llseek,
};

/* Protects the result of the last "dmacheck" write. */
static DEFINE_MUTEX(gdmabuf_dmacheck_lock);
static unsigned int gdmabuf_dmacheck_pages, gdmabuf_dmacheck_same;

static int gdmabuf_dmacheck_run(int fd, unsigned long uaddr)
{
	struct device *dev = gdmabuf_dma_dev();
	struct dma_buf_attachment *attach;
	struct sg_dma_page_iter it;
	struct dma_buf *dmabuf;
	struct sg_table *sgt;
	unsigned int i = 0, same = 0, n;
	struct page *page;
	dma_addr_t addr;
	int ret = 0;

	dmabuf = dma_buf_get(fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	n = dmabuf->size >> PAGE_SHIFT;
	attach = dma_buf_attach(dmabuf, dev);
	if (IS_ERR(attach)) {
		ret = PTR_ERR(attach);
		goto out_put;
	}
	sgt = gdmabuf_dma_buf_map_attachment(attach, DMA_BIDIRECTIONAL);
	if (IS_ERR(sgt)) {
		ret = PTR_ERR(sgt);
		goto out_detach;
	}
	for_each_sgtable_dma_page(sgt, &it, 0) {
		if (i >= n)
			break;
		unsigned long at = uaddr + ((unsigned long)i << PAGE_SHIFT);

		if (pin_user_pages_fast(at, 1, 0, &page) != 1) {
			ret = -EFAULT;
			break;
		}
		addr = dma_map_page(dev, page, 0, PAGE_SIZE, DMA_BIDIRECTIONAL);
		if (!dma_mapping_error(dev, addr)) {
			if (addr == sg_page_iter_dma_address(&it))
				same++;
			dma_unmap_page(dev, addr, PAGE_SIZE, DMA_BIDIRECTIONAL);
		}
		unpin_user_page(page);
		i++;
	}
	mutex_lock(&gdmabuf_dmacheck_lock);
	gdmabuf_dmacheck_pages = i;
	gdmabuf_dmacheck_same = same;
	mutex_unlock(&gdmabuf_dmacheck_lock);
	gdmabuf_dma_buf_unmap_attachment(attach, sgt, DMA_BIDIRECTIONAL);
out_detach:
	dma_buf_detach(dmabuf, attach);
out_put:
	dma_buf_put(dmabuf);
	return ret;
}

static ssize_t gdmabuf_dmacheck_write(struct file *file, const char __user *ubuf,
				      size_t len, loff_t *ppos)
{
	unsigned long uaddr;
	char cmd[48];
	int fd, ret;

	if (len >= sizeof(cmd))
		return -EINVAL;
	if (copy_from_user(cmd, ubuf, len))
		return -EFAULT;
	cmd[len] = '\0';
	if (sscanf(cmd, "%d %lx", &fd, &uaddr) != 2)
		return -EINVAL;
	ret = gdmabuf_dmacheck_run(fd, uaddr);
	return ret ? ret : len;
}

static ssize_t gdmabuf_dmacheck_read(struct file *file, char __user *ubuf,
				     size_t len, loff_t *ppos)
{
	char buf[48];
	int n;

	mutex_lock(&gdmabuf_dmacheck_lock);
	n = scnprintf(buf, sizeof(buf), "pages=%u same=%u\n", gdmabuf_dmacheck_pages,
		      gdmabuf_dmacheck_same);
	mutex_unlock(&gdmabuf_dmacheck_lock);
	return simple_read_from_buffer(ubuf, len, ppos, buf, n);
}

static const struct file_operations gdmabuf_dmacheck_fops = {
	.owner = THIS_MODULE,
	.write = gdmabuf_dmacheck_write,
	.read = gdmabuf_dmacheck_read,
	.llseek = default_llseek,
};

static ssize_t gdmabuf_reservation_read(struct file *file, char __user *ubuf,
					size_t len, loff_t *ppos)
{
	domid_t self = DOMID_SELF;
	char buf[32];
	long pages;
	int n;

	pages = HYPERVISOR_memory_op(XENMEM_current_reservation, &self);
	if (pages < 0)
		return pages;
	n = scnprintf(buf, sizeof(buf), "pages=%ld\n", pages);
	return simple_read_from_buffer(ubuf, len, ppos, buf, n);
}

static const struct file_operations gdmabuf_reservation_fops = {
	.owner = THIS_MODULE,
	.read = gdmabuf_reservation_read,
	.llseek = default_llseek,
};

/**
 * gdmabuf_selftest_debugfs_init() - create the test-only debugfs files
 * @dir: the module's debugfs directory
 */
void gdmabuf_selftest_debugfs_init(struct dentry *dir)
{
	debugfs_create_file("inject", 0200, dir, NULL, &gdmabuf_inject_fops);
	debugfs_create_file("vmap", 0600, dir, NULL, &gdmabuf_vmap_fops);
	debugfs_create_file("mkbuf", 0600, dir, NULL, &gdmabuf_mkbuf_fops);
	debugfs_create_file("sgcheck", 0600, dir, NULL, &gdmabuf_sgcheck_fops);
	debugfs_create_file("dmacheck", 0600, dir, NULL, &gdmabuf_dmacheck_fops);
	debugfs_create_file("reservation", 0400, dir, NULL, &gdmabuf_reservation_fops);
	debugfs_create_u32("dma_fail_decrease_after", 0600, dir, &gdmabuf_dma_fail_decrease_after);
}
