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
 *   "nents=<DMA segments> pfn_runs=<runs of consecutive page frames>
 *   runs=<runs consecutive in page frames and in bus frames>" for the last
 *   write.
 * - "dmacheck": writing "FD UADDR" maps the writer's dma-buf FD for
 *   a device as its importer would, and maps each page of the writer's
 *   memory at UADDR for the same device with dma_map_page(); reading gives
 *   "pages=<n> same=<m>", how many pages got the same DMA address both
 *   ways.  With self-granted pages at UADDR this proves that an importer
 *   reaches the granter's frames.  The device is
 *   gdmabuf_selftest_bus_dev(); in an auto-translated domain without the
 *   fw_cfg device the command fails with ENODEV, as dma-direct's
 *   addresses would prove nothing.
 * - "floor": writing "DOMID COUNT UADDR REPEAT" maps the COUNT grant refs
 *   of DOMID that the writer holds as a u32 array at UADDR with
 *   gnttab_map_refs() and unmaps them with gnttab_unmap_refs_sync(),
 *   REPEAT times, the pages and operation arrays prepared beforehand;
 *   reading gives "map_ns=<n> unmap_ns=<n> pages_ns=<n>", the mean time
 *   of the two calls alone, and the time gnttab_alloc_pages() and
 *   gnttab_free_pages() took once.  It is the benchmark's floor for an
 *   export.
 * - "hold": writing "FD INDEX" makes the module act as a kernel importer
 *   of the writer's dma-buf FD that takes a reference (get_page()) on page
 *   INDEX of the buffer and keeps it after detaching; writing "drop" puts
 *   every reference held.  Reading gives "held=<n>".  It shows that the
 *   last close of an export never waits for such a reference.
 * - "refuse_unmap": writing "N" makes Xen refuse the next N grant unmaps
 *   of released buffers (the first grant of each unmap batch is sent with
 *   a handle Xen does not know; the real one is kept); writing "retry"
 *   restores the real handles and tries every refused unmap again.
 *   Reading gives "armed=<n> refused=<grants still refused after the last
 *   retry>".
 * - "reservation": reading gives "pages=<n>", this domain's current
 *   reservation as Xen counts it (XENMEM_current_reservation).
 * - "fail_nth": writing "PID N" makes the Nth fault-injection site
 *   (gdmabuf_faultable(): the module's allocations and hypercalls) that
 *   task PID passes fail, once; "0 0" disarms.  Reading gives
 *   "remaining=<n> hits=<m>": how many sites are still to pass before the
 *   failure (0 once it happened) and how many failures were injected
 *   since loading.  The fault-enomem tests walk N upwards until an
 *   operation completes without reaching it.
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
#include <linux/sched.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>

#include <xen/grant_table.h>
#include <xen/interface/xen.h>
#include <xen/interface/memory.h>
#include <xen/page.h>
#include <xen/xen.h>

#include <asm/xen/hypercall.h>

#include "gdmabuf-debugfs.h"
#include "gdmabuf-dev.h"
#include "gdmabuf-export.h"
#include "gdmabuf-grant.h"
#include "gdmabuf-limits.h"
#include "gdmabuf-selftest.h"
#include "gdmabuf-compat.h"

static int gdmabuf_inject_run(const char *cmd, char *res, size_t size)
{
	if (strcmp(cmd, "warn"))
		return -EINVAL;
	WARN(1, "gntdev-dmabuf: warning injected through debugfs (test build)\n");
	return 0;
}

static int gdmabuf_vmap_run(const char *cmd, char *res, size_t size)
{
	struct iosys_map map;
	struct dma_buf *dmabuf;
	u64 hash = 0xcbf29ce484222325ULL;
	size_t i;
	int fd, ret;
	u32 xor;
	u8 *p;

	if (sscanf(cmd, "%d %i", &fd, &xor) != 2)
		return -EINVAL;
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

	snprintf(res, size, "fnv=%016llx size=%zu\n", hash, dmabuf->size);
out_vunmap:
	gdmabuf_dma_buf_vunmap(dmabuf, &map);
out_put:
	dma_buf_put(dmabuf);
	return ret;
}

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

static int gdmabuf_mkbuf_run(const char *cmd, char *res, size_t size)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);
	unsigned int count, offset, seed, i, k;
	struct gdmabuf_testbuf *tb;
	struct dma_buf *dmabuf;
	char mode[8];
	bool nopage;
	int fd, ret;

	if (sscanf(cmd, "%u %u %u %7s", &count, &offset, &seed, mode) != 4)
		return -EINVAL;
	if (strcmp(mode, "ram") && strcmp(mode, "nopage"))
		return -EINVAL;
	nopage = !strcmp(mode, "nopage");
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
	snprintf(res, size, "fd=%d\n", fd);
	fd_install(fd, dmabuf->file);
	return 0;

err_free:
	gdmabuf_testbuf_free(tb);
	return ret;
}

/* What a device importer holds: the dma-buf, an attachment, its table. */
struct gdmabuf_selftest_importer {
	struct dma_buf *dmabuf;
	struct dma_buf_attachment *attach;
	struct sg_table *sgt;
};

/* Imports dma-buf @fd for @dev as a device driver would. */
static int gdmabuf_selftest_import_for(struct device *dev, int fd,
				       struct gdmabuf_selftest_importer *imp)
{
	int ret;

	imp->dmabuf = dma_buf_get(fd);
	if (IS_ERR(imp->dmabuf))
		return PTR_ERR(imp->dmabuf);
	imp->attach = dma_buf_attach(imp->dmabuf, dev);
	if (IS_ERR(imp->attach)) {
		ret = PTR_ERR(imp->attach);
		goto err_put;
	}
	imp->sgt = gdmabuf_dma_buf_map_attachment(imp->attach, DMA_BIDIRECTIONAL);
	if (IS_ERR(imp->sgt)) {
		ret = PTR_ERR(imp->sgt);
		goto err_detach;
	}
	return 0;

err_detach:
	dma_buf_detach(imp->dmabuf, imp->attach);
err_put:
	dma_buf_put(imp->dmabuf);
	return ret;
}

/* Imports dma-buf @fd for gdmabuf_dma_dev() as a device driver would. */
static int gdmabuf_selftest_import(int fd, struct gdmabuf_selftest_importer *imp)
{
	return gdmabuf_selftest_import_for(gdmabuf_dma_dev(), fd, imp);
}

static void gdmabuf_selftest_unimport(struct gdmabuf_selftest_importer *imp)
{
	gdmabuf_dma_buf_unmap_attachment(imp->attach, imp->sgt, DMA_BIDIRECTIONAL);
	dma_buf_detach(imp->dmabuf, imp->attach);
	dma_buf_put(imp->dmabuf);
}

static int gdmabuf_sgcheck_run(const char *cmd, char *res, size_t size)
{
	struct gdmabuf_selftest_importer imp;
	unsigned int pfn_runs = 0, runs = 0;
	unsigned long prev = 0, pfn;
	struct sg_page_iter it;
	int fd, ret;

	ret = kstrtoint(cmd, 10, &fd);
	if (!ret)
		ret = gdmabuf_selftest_import(fd, &imp);
	if (ret)
		return ret;
	for_each_sgtable_page(imp.sgt, &it, 0) {
		pfn = page_to_pfn(sg_page_iter_page(&it));
		if (!pfn_runs || pfn != prev + 1)
			pfn_runs++;
		if (!runs || pfn != prev + 1 || pfn_to_bfn(pfn) != pfn_to_bfn(prev) + 1)
			runs++;
		prev = pfn;
	}
	snprintf(res, size, "nents=%u pfn_runs=%u runs=%u\n", imp.sgt->nents, pfn_runs, runs);
	gdmabuf_selftest_unimport(&imp);
	return 0;
}

/* Page references taken by "hold", dropped by "drop". */
#define GDMABUF_HELD_MAX	16
static DEFINE_MUTEX(gdmabuf_held_lock);	/* protects gdmabuf_held[], gdmabuf_held_count */
static struct page *gdmabuf_held[GDMABUF_HELD_MAX];
static unsigned int gdmabuf_held_count;

static void gdmabuf_held_drop(void)
{
	mutex_lock(&gdmabuf_held_lock);
	while (gdmabuf_held_count)
		put_page(gdmabuf_held[--gdmabuf_held_count]);
	mutex_unlock(&gdmabuf_held_lock);
}

static int gdmabuf_hold_run(const char *cmd, char *res, size_t size)
{
	struct gdmabuf_selftest_importer imp;
	struct page *page = NULL;
	struct sg_page_iter it;
	unsigned int index, i = 0;
	int fd, ret;

	if (!strcmp(cmd, "drop")) {
		gdmabuf_held_drop();
		snprintf(res, size, "held=0\n");
		return 0;
	}
	if (sscanf(cmd, "%d %u", &fd, &index) != 2)
		return -EINVAL;
	ret = gdmabuf_selftest_import(fd, &imp);
	if (ret)
		return ret;
	for_each_sgtable_page(imp.sgt, &it, 0) {
		if (i++ == index) {
			page = sg_page_iter_page(&it);
			break;
		}
	}
	mutex_lock(&gdmabuf_held_lock);
	if (!page) {
		ret = -EINVAL;
	} else if (gdmabuf_held_count == GDMABUF_HELD_MAX) {
		ret = -ENOSPC;
	} else {
		get_page(page);
		gdmabuf_held[gdmabuf_held_count++] = page;
		snprintf(res, size, "held=%u\n", gdmabuf_held_count);
	}
	mutex_unlock(&gdmabuf_held_lock);
	gdmabuf_selftest_unimport(&imp);
	return ret;
}

/* Handles replaced by "refuse_unmap", keyed by the unmap's host address. */
struct gdmabuf_refused_handle {
	u64 host_addr;
	grant_handle_t handle;
};

#define GDMABUF_REFUSED_MAX	16
/* A handle beyond any maptrack table: Xen answers GNTST_bad_handle. */
#define GDMABUF_UNKNOWN_HANDLE	((grant_handle_t)0x7ffffffe)

static DEFINE_MUTEX(gdmabuf_refuse_lock);	/* protects the four below */
static unsigned int gdmabuf_refuse_armed;
static struct gdmabuf_refused_handle gdmabuf_refused[GDMABUF_REFUSED_MAX];
static unsigned int gdmabuf_refused_count;
static unsigned int gdmabuf_refused_left;

/**
 * gdmabuf_fault_unmap() - make Xen refuse a grant unmap, if armed
 * @ops: the unmap operations about to be sent
 * @count: entries in @ops
 *
 * Context: process context; takes gdmabuf_refuse_lock.
 */
void gdmabuf_fault_unmap(struct gnttab_unmap_grant_ref *ops, unsigned int count)
{
	struct gdmabuf_refused_handle *r;

	mutex_lock(&gdmabuf_refuse_lock);
	if (count && gdmabuf_refuse_armed && gdmabuf_refused_count < GDMABUF_REFUSED_MAX) {
		gdmabuf_refuse_armed--;
		r = &gdmabuf_refused[gdmabuf_refused_count++];
		r->host_addr = ops[0].host_addr;
		r->handle = ops[0].handle;
		ops[0].handle = GDMABUF_UNKNOWN_HANDLE;
	}
	mutex_unlock(&gdmabuf_refuse_lock);
}

/**
 * gdmabuf_fault_unmap_undo() - give refused unmaps their real handles back
 * @ops: unmap operations that Xen refused
 * @count: entries in @ops
 *
 * Context: process context; takes gdmabuf_refuse_lock.
 */
void gdmabuf_fault_unmap_undo(struct gnttab_unmap_grant_ref *ops, unsigned int count)
{
	unsigned int i, k;

	mutex_lock(&gdmabuf_refuse_lock);
	for (i = 0; i < count; i++) {
		if (ops[i].handle != GDMABUF_UNKNOWN_HANDLE)
			continue;
		for (k = 0; k < gdmabuf_refused_count; k++) {
			if (gdmabuf_refused[k].host_addr != ops[i].host_addr)
				continue;
			ops[i].handle = gdmabuf_refused[k].handle;
			gdmabuf_refused[k] = gdmabuf_refused[--gdmabuf_refused_count];
			break;
		}
	}
	mutex_unlock(&gdmabuf_refuse_lock);
}

static int gdmabuf_refuse_unmap_run(const char *cmd, char *res, size_t size)
{
	unsigned int n;
	int ret;

	if (!strcmp(cmd, "retry")) {
		n = gdmabuf_grants_retry_refused();
		mutex_lock(&gdmabuf_refuse_lock);
		gdmabuf_refused_left = n;
		mutex_unlock(&gdmabuf_refuse_lock);
		return 0;
	}
	ret = kstrtouint(cmd, 10, &n);
	if (ret)
		return ret;
	mutex_lock(&gdmabuf_refuse_lock);
	gdmabuf_refuse_armed = n;
	mutex_unlock(&gdmabuf_refuse_lock);
	return 0;
}

static int gdmabuf_refuse_unmap_show(char *res, size_t size)
{
	mutex_lock(&gdmabuf_refuse_lock);
	snprintf(res, size, "armed=%u refused=%u\n", gdmabuf_refuse_armed, gdmabuf_refused_left);
	mutex_unlock(&gdmabuf_refuse_lock);
	return 0;
}

static int gdmabuf_dmacheck_run(const char *cmd, char *res, size_t size)
{
	struct device *dev = gdmabuf_selftest_bus_dev();
	struct gdmabuf_selftest_importer imp;
	unsigned int i = 0, same = 0, n;
	struct sg_dma_page_iter it;
	unsigned long uaddr;
	struct page *page;
	dma_addr_t addr;
	int fd, ret;

	if (sscanf(cmd, "%d %lx", &fd, &uaddr) != 2)
		return -EINVAL;
	if (!dev)
		return -ENODEV;
	ret = gdmabuf_selftest_import_for(dev, fd, &imp);
	if (ret)
		return ret;
	n = imp.dmabuf->size >> PAGE_SHIFT;
	for_each_sgtable_dma_page(imp.sgt, &it, 0) {
		unsigned long at = uaddr + ((unsigned long)i << PAGE_SHIFT);

		if (i >= n)
			break;
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
	snprintf(res, size, "pages=%u same=%u\n", i, same);
	gdmabuf_selftest_unimport(&imp);
	return ret;
}

/*
 * The floor of an export: the grant map and unmap hypercalls for the
 * writer's refs, with everything else (pages, operation arrays) prepared
 * outside the timed sections.
 */
static int gdmabuf_floor_run(const char *cmd, char *res, size_t size)
{
	struct gnttab_unmap_grant_ref *unmap_ops = NULL;
	struct gnttab_map_grant_ref *map_ops = NULL;
	struct gntab_unmap_queue_data *q = NULL;
	struct page **pages = NULL, **mapped = NULL;
	unsigned int domid, count, repeat, i, r;
	u64 map_ns = 0, unmap_ns = 0, alloc_ns, t;
	u32 *refs = NULL;
	u64 uaddr;
	int ret;

	if (sscanf(cmd, "%u %u %llx %u", &domid, &count, &uaddr, &repeat) != 4 ||
	    !count || count > gdmabuf_max_pages_per_call || domid >= DOMID_FIRST_RESERVED ||
	    !repeat || repeat > 1000)
		return -EINVAL;
	refs = vmemdup_user(u64_to_user_ptr(uaddr), array_size(count, sizeof(*refs)));
	if (IS_ERR(refs))
		return PTR_ERR(refs);
	ret = -ENOMEM;
	pages = kvcalloc(count, sizeof(*pages), GFP_KERNEL);
	map_ops = kvcalloc(count, sizeof(*map_ops), GFP_KERNEL);
	unmap_ops = kvcalloc(count, sizeof(*unmap_ops), GFP_KERNEL);
	mapped = kvcalloc(count, sizeof(*mapped), GFP_KERNEL);
	/* On the heap for DEBUG_OBJECTS, as in gdmabuf_unmap_handles(). */
	q = kzalloc(sizeof(*q), GFP_KERNEL);
	if (!pages || !map_ops || !unmap_ops || !mapped || !q)
		goto out_free;
	t = ktime_get_ns();
	if (gnttab_alloc_pages(count, pages))
		goto out_free;
	alloc_ns = ktime_get_ns() - t;

	ret = 0;
	for (r = 0; r < repeat && !ret; r++) {
		unsigned int n = 0;

		for (i = 0; i < count; i++)
			gnttab_set_map_op(&map_ops[i],
					  (unsigned long)pfn_to_kaddr(page_to_pfn(pages[i])),
					  GNTMAP_host_map, refs[i], domid);
		t = ktime_get_ns();
		ret = gnttab_map_refs(map_ops, NULL, pages, count);
		map_ns += ktime_get_ns() - t;

		/* Only what was mapped is unmapped: the ops and their pages move down. */
		for (i = 0; i < count; i++) {
			if (map_ops[i].status != GNTST_okay) {
				ret = ret ?: -EINVAL;
				continue;
			}
			/* The kernel address again: host_addr is physical when auto-translated. */
			gnttab_set_unmap_op(&unmap_ops[n],
					    (unsigned long)pfn_to_kaddr(page_to_pfn(pages[i])),
					    GNTMAP_host_map, map_ops[i].handle);
			mapped[n++] = pages[i];
		}
		q->unmap_ops = unmap_ops;
		q->pages = mapped;
		q->count = n;
		t = ktime_get_ns();
		if (gnttab_unmap_refs_sync(q))
			ret = ret ?: -EIO;
		unmap_ns += ktime_get_ns() - t;
	}
	t = ktime_get_ns();
	gnttab_free_pages(count, pages);
	alloc_ns += ktime_get_ns() - t;
	if (!ret)
		snprintf(res, size, "map_ns=%llu unmap_ns=%llu pages_ns=%llu\n",
			 div_u64(map_ns, repeat), div_u64(unmap_ns, repeat), alloc_ns);
out_free:
	kfree(q);
	kvfree(mapped);
	kvfree(unmap_ops);
	kvfree(map_ops);
	kvfree(pages);
	kvfree(refs);
	return ret;
}

/* The armed task and its countdown, for gdmabuf_fault(). */
static DEFINE_SPINLOCK(gdmabuf_fail_lock);	/* protects the three below */
static pid_t gdmabuf_fail_pid;
static unsigned int gdmabuf_fail_remaining;
static unsigned long gdmabuf_fail_hits;

/**
 * gdmabuf_fault() - decide whether this fault-injection site fails
 *
 * Counts the sites that the task armed through debugfs "fail_nth" passes
 * and says yes at the Nth; other tasks are never failed.  Called from
 * sleeping and atomic context alike.
 *
 * Context: any; takes a spinlock.
 * Return: true when the caller must act as if its allocation or hypercall
 * had failed.
 */
bool gdmabuf_fault(void)
{
	unsigned long flags;
	bool fail = false;

	if (!READ_ONCE(gdmabuf_fail_pid) || task_pid_nr(current) != READ_ONCE(gdmabuf_fail_pid))
		return false;
	spin_lock_irqsave(&gdmabuf_fail_lock, flags);
	if (gdmabuf_fail_remaining && !--gdmabuf_fail_remaining) {
		fail = true;
		gdmabuf_fail_hits++;
		gdmabuf_fail_pid = 0;
	}
	spin_unlock_irqrestore(&gdmabuf_fail_lock, flags);
	return fail;
}

static int gdmabuf_fail_nth_run(const char *cmd, char *res, size_t size)
{
	unsigned int pid, n;

	if (sscanf(cmd, "%u %u", &pid, &n) != 2 || (!pid != !n))
		return -EINVAL;
	spin_lock_irq(&gdmabuf_fail_lock);
	gdmabuf_fail_pid = pid;
	gdmabuf_fail_remaining = n;
	spin_unlock_irq(&gdmabuf_fail_lock);
	return 0;
}

static int gdmabuf_fail_nth_show(char *res, size_t size)
{
	unsigned long hits;
	unsigned int left;

	spin_lock_irq(&gdmabuf_fail_lock);
	left = gdmabuf_fail_remaining;
	hits = gdmabuf_fail_hits;
	spin_unlock_irq(&gdmabuf_fail_lock);
	snprintf(res, size, "remaining=%u hits=%lu\n", left, hits);
	return 0;
}

/**
 * struct gdmabuf_selftest_cmd - a debugfs file that carries out commands
 * @name: the file's name.
 * @run: parses the command written to the file, carries it out and puts
 *	its answer in the buffer it is given; returns 0 or -errno.
 * @show: if set, reading gives what it puts in the buffer (live state)
 *	instead of the last answer.
 * @lock: protects @result.
 * @result: the answer to the last command that succeeded, which reading
 *	the file returns.
 */
struct gdmabuf_selftest_cmd {
	const char *name;
	int (*run)(const char *cmd, char *res, size_t size);
	int (*show)(char *res, size_t size);
	struct mutex lock;	/* protects result */
	char result[96];
};

static ssize_t gdmabuf_selftest_write(struct file *file, const char __user *ubuf,
				      size_t len, loff_t *ppos)
{
	struct gdmabuf_selftest_cmd *c = file->private_data;
	char cmd[64], res[96] = "";
	int ret;

	if (len >= sizeof(cmd))
		return -EINVAL;
	if (copy_from_user(cmd, ubuf, len))
		return -EFAULT;
	cmd[len] = '\0';
	ret = c->run(strim(cmd), res, sizeof(res));
	if (ret)
		return ret;
	mutex_lock(&c->lock);
	strscpy(c->result, res, sizeof(c->result));
	mutex_unlock(&c->lock);
	return len;
}

static ssize_t gdmabuf_selftest_read(struct file *file, char __user *ubuf,
				     size_t len, loff_t *ppos)
{
	struct gdmabuf_selftest_cmd *c = file->private_data;
	char res[96];

	if (c->show) {
		c->show(res, sizeof(res));
	} else {
		mutex_lock(&c->lock);
		strscpy(res, c->result, sizeof(res));
		mutex_unlock(&c->lock);
	}
	return simple_read_from_buffer(ubuf, len, ppos, res, strlen(res));
}

static const struct file_operations gdmabuf_selftest_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = gdmabuf_selftest_write,
	.read = gdmabuf_selftest_read,
	.llseek = default_llseek,
};

static struct gdmabuf_selftest_cmd gdmabuf_selftest_cmds[] = {
	{ .name = "inject", .run = gdmabuf_inject_run },
	{ .name = "vmap", .run = gdmabuf_vmap_run },
	{ .name = "mkbuf", .run = gdmabuf_mkbuf_run },
	{ .name = "sgcheck", .run = gdmabuf_sgcheck_run },
	{ .name = "dmacheck", .run = gdmabuf_dmacheck_run },
	{ .name = "devdma", .run = gdmabuf_devdma_run },
	{ .name = "hold", .run = gdmabuf_hold_run },
	{ .name = "refuse_unmap", .run = gdmabuf_refuse_unmap_run,
	  .show = gdmabuf_refuse_unmap_show },
	{ .name = "floor", .run = gdmabuf_floor_run },
	{ .name = "fail_nth", .run = gdmabuf_fail_nth_run, .show = gdmabuf_fail_nth_show },
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
 *
 * Context: module init.
 */
void gdmabuf_selftest_debugfs_init(struct dentry *dir)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(gdmabuf_selftest_cmds); i++) {
		mutex_init(&gdmabuf_selftest_cmds[i].lock);
		debugfs_create_file(gdmabuf_selftest_cmds[i].name, 0600, dir,
				    &gdmabuf_selftest_cmds[i], &gdmabuf_selftest_fops);
	}
	debugfs_create_file("reservation", 0400, dir, NULL, &gdmabuf_reservation_fops);
	debugfs_create_u32("dma_fail_decrease_after", 0600, dir, &gdmabuf_dma_fail_decrease_after);
	gdmabuf_selftest_fwcfg_init();
}

/**
 * gdmabuf_selftest_exit() - undo what gdmabuf_selftest_debugfs_init() set up
 * beyond its files
 *
 * Context: module exit.
 */
void gdmabuf_selftest_exit(void)
{
	gdmabuf_selftest_fwcfg_exit();
}
