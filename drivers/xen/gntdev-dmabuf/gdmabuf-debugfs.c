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
 * "pending" lists the imports whose release waits for the peer to unmap,
 * one "id domid pages live_refs waited_ms" line each.  "domains" lists the
 * pages charged to each remote domain's quota, one "domid pages" line
 * each; it is empty when nothing is exported or imported.  "buffers" lists
 * every live export and import with its id, domain, size, importers,
 * state and age (format: gdmabuf_export_show(), gdmabuf_import_show()).
 * State changes are also logged with pr_debug (dynamic debug, off by
 * default).
 *
 * Test builds (GDMABUF_SELFTEST=y) add the files of gdmabuf-selftest.c.
 */

#define pr_fmt(fmt) "gntdev-dmabuf: " fmt

#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "gdmabuf-common.h"

struct gdmabuf_stats gdmabuf_stats;

static struct dentry *gdmabuf_debugfs_dir;

static int gdmabuf_stats_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "live_exports %lld\n", atomic64_read(&gdmabuf_stats.live_exports));
	seq_printf(m, "live_imports %lld\n", atomic64_read(&gdmabuf_stats.live_imports));
	seq_printf(m, "mapped_grants %lld\n", atomic64_read(&gdmabuf_stats.mapped_grants));
	seq_printf(m, "granted_refs %lld\n", atomic64_read(&gdmabuf_stats.granted_refs));
	seq_printf(m, "pending_releases %lld\n", atomic64_read(&gdmabuf_stats.pending_releases));
	seq_printf(m, "dma_released_frames %lld\n",
		   atomic64_read(&gdmabuf_stats.dma_released_frames));
	seq_printf(m, "dma_leaked_pages %lld\n", atomic64_read(&gdmabuf_stats.dma_leaked_pages));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(gdmabuf_stats);

static int gdmabuf_pending_show(struct seq_file *m, void *unused)
{
	gdmabuf_import_show_pending(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(gdmabuf_pending);

static int gdmabuf_domains_show(struct seq_file *m, void *unused)
{
	gdmabuf_domain_pages_show(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(gdmabuf_domains);

static int gdmabuf_buffers_show(struct seq_file *m, void *unused)
{
	gdmabuf_export_show(m);
	gdmabuf_import_show(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(gdmabuf_buffers);

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
	debugfs_create_file("pending", 0400, gdmabuf_debugfs_dir, NULL,
			    &gdmabuf_pending_fops);
	debugfs_create_file("domains", 0400, gdmabuf_debugfs_dir, NULL,
			    &gdmabuf_domains_fops);
	debugfs_create_file("buffers", 0400, gdmabuf_debugfs_dir, NULL,
			    &gdmabuf_buffers_fops);
	gdmabuf_selftest_debugfs_init(gdmabuf_debugfs_dir);
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
