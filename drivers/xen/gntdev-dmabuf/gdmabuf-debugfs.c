// SPDX-License-Identifier: GPL-2.0
/*
 * gntdev-dmabuf: debugfs view of the module's state.
 *
 * DOC: debugfs
 *
 * /sys/kernel/debug/gntdev-dmabuf/stats holds one "name value" line per
 * counter of &struct gdmabuf_stats, in that order.  The harness reads it
 * after every test and fails the test unless every live counter is zero.
 *
 * Test builds (GDMABUF_SELFTEST=y) add two files:
 *
 * - "inject": writing "warn" to it raises a kernel WARNING, which proves
 *   that the harness's kernel-log gate fails a run.
 * - "vmap": writing "FD XOR" makes the module act as a kernel importer of
 *   the writer's dma-buf FD: it vmaps the buffer, takes the 64-bit FNV-1a
 *   hash of its bytes, XORs the first 32-bit word of every page with XOR
 *   and vunmaps.  Reading the file gives "fnv=<hex> size=<bytes>" for the
 *   last write.
 */

#define pr_fmt(fmt) "gntdev-dmabuf: " fmt

#include <linux/debugfs.h>
#include <linux/dma-buf.h>
#include <linux/iosys-map.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "gdmabuf-common.h"
#include "gdmabuf-compat.h"

struct gdmabuf_stats gdmabuf_stats;

static struct dentry *gdmabuf_debugfs_dir;

static int gdmabuf_stats_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "live_exports %lld\n", atomic64_read(&gdmabuf_stats.live_exports));
	seq_printf(m, "live_imports %lld\n", atomic64_read(&gdmabuf_stats.live_imports));
	seq_printf(m, "mapped_grants %lld\n", atomic64_read(&gdmabuf_stats.mapped_grants));
	seq_printf(m, "granted_refs %lld\n", atomic64_read(&gdmabuf_stats.granted_refs));
	seq_printf(m, "pending_releases %lld\n", atomic64_read(&gdmabuf_stats.pending_releases));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(gdmabuf_stats);

#ifdef GDMABUF_SELFTEST
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
#endif

/**
 * gdmabuf_debugfs_init() - create /sys/kernel/debug/gntdev-dmabuf/
 *
 * debugfs is optional: failures are not fatal, as debugfs itself wants.
 *
 * Return: 0.
 */
int gdmabuf_debugfs_init(void)
{
	gdmabuf_debugfs_dir = debugfs_create_dir(GDMABUF_NAME, NULL);
	debugfs_create_file("stats", 0400, gdmabuf_debugfs_dir, NULL,
			    &gdmabuf_stats_fops);
#ifdef GDMABUF_SELFTEST
	debugfs_create_file("inject", 0200, gdmabuf_debugfs_dir, NULL,
			    &gdmabuf_inject_fops);
	debugfs_create_file("vmap", 0600, gdmabuf_debugfs_dir, NULL,
			    &gdmabuf_vmap_fops);
#endif
	return 0;
}

/**
 * gdmabuf_debugfs_exit() - remove what gdmabuf_debugfs_init() created
 */
void gdmabuf_debugfs_exit(void)
{
	debugfs_remove_recursive(gdmabuf_debugfs_dir);
	gdmabuf_debugfs_dir = NULL;
}
