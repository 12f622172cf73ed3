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
 * Test builds (GDMABUF_SELFTEST=y) add "inject": writing "warn" to it
 * raises a kernel WARNING, which proves that the harness's kernel-log gate
 * fails a run.
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
