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
 * "domains" lists the
 * pages charged to each remote domain's quota, one "domid pages" line
 * each; it is empty when nothing is exported or imported.  "buffers" lists
 * every live export and import with its id, domain, size, importers,
 * state and age (format: gdmabuf_export_show(), gdmabuf_import_show()).
 * "failures" counts the calls that failed, by call and errno: one
 * "call ERRNO count" line for each pair that happened since the module was
 * loaded (calls: &enum gdmabuf_op in lower case without the prefix;
 * errnos: the names in gdmabuf_errnos[], "other" for the rest), nothing
 * when no call failed.  A failure is a refusal or an error returned to
 * the caller, whatever its cause: bad arguments, a quota, Xen refusing a
 * reference, memory.
 * "pool" says how many grant pages wait for reuse: "pages <n> max <m>"
 * (module parameter pool_pages).
 * State changes are also logged with pr_debug (dynamic debug, off by
 * default).
 *
 * Test builds (GDMABUF_SELFTEST=y) add the files of gdmabuf-selftest.c.
 */

#define pr_fmt(fmt) "gntdev-dmabuf: " fmt

#include <linux/bug.h>
#include <linux/debugfs.h>
#include <linux/errno.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "gdmabuf-debugfs.h"
#include "gdmabuf-dev.h"
#include "gdmabuf-export.h"
#include "gdmabuf-grant.h"
#include "gdmabuf-import.h"
#include "gdmabuf-limits.h"
#include "gdmabuf-selftest.h"

struct gdmabuf_stats gdmabuf_stats;

static struct dentry *gdmabuf_debugfs_dir;

static const char * const gdmabuf_op_names[GDMABUF_OP_COUNT] = {
	[GDMABUF_OP_EXPORT] = "export",
	[GDMABUF_OP_WAIT_RELEASED] = "wait_released",
	[GDMABUF_OP_EXP_ID] = "exp_id",
	[GDMABUF_OP_EXP_RELEASED] = "exp_released",
	[GDMABUF_OP_IMPORT] = "import",
	[GDMABUF_OP_IMPORT_RELEASE] = "import_release",
	[GDMABUF_OP_GET_INFO] = "get_info",
	[GDMABUF_OP_MMAP] = "mmap",
	[GDMABUF_OP_VMAP] = "vmap",
};

/* The errnos the module returns, each with its own counter. */
static const struct {
	int err;
	const char *name;
} gdmabuf_errnos[] = {
	{ EINVAL, "EINVAL" }, { EFAULT, "EFAULT" }, { ENOMEM, "ENOMEM" },
	{ EDQUOT, "EDQUOT" }, { ENOSPC, "ENOSPC" }, { EXDEV, "EXDEV" },
	{ EOPNOTSUPP, "EOPNOTSUPP" }, { EAGAIN, "EAGAIN" }, { EMFILE, "EMFILE" },
	{ ENOENT, "ENOENT" }, { ETIMEDOUT, "ETIMEDOUT" }, { EBUSY, "EBUSY" },
	{ EINTR, "EINTR" }, { ERESTARTSYS, "ERESTARTSYS" },
};

/* The last column counts the errnos not in the table. */
static atomic64_t gdmabuf_failures[GDMABUF_OP_COUNT][ARRAY_SIZE(gdmabuf_errnos) + 1];

/**
 * gdmabuf_count_failure() - count a failed call for debugfs "failures"
 * @op: the call
 * @err: what it returned, a negative errno
 *
 * Context: any; lockless (atomics).
 */
void gdmabuf_count_failure(enum gdmabuf_op op, long err)
{
	unsigned int i;

	if (WARN_ON_ONCE(op >= GDMABUF_OP_COUNT) || err >= 0)
		return;
	for (i = 0; i < ARRAY_SIZE(gdmabuf_errnos); i++)
		if (gdmabuf_errnos[i].err == -err)
			break;
	atomic64_inc(&gdmabuf_failures[op][i]);
}

static int gdmabuf_failures_show(struct seq_file *m, void *unused)
{
	unsigned int op, i;
	s64 n;

	for (op = 0; op < GDMABUF_OP_COUNT; op++) {
		for (i = 0; i <= ARRAY_SIZE(gdmabuf_errnos); i++) {
			n = atomic64_read(&gdmabuf_failures[op][i]);
			if (n)
				seq_printf(m, "%s %s %lld\n", gdmabuf_op_names[op],
					   i < ARRAY_SIZE(gdmabuf_errnos) ?
					   gdmabuf_errnos[i].name : "other", n);
		}
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(gdmabuf_failures);

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
	seq_printf(m, "pending_unmaps %lld\n", atomic64_read(&gdmabuf_stats.pending_unmaps));
	seq_printf(m, "refused_unmaps %lld\n", atomic64_read(&gdmabuf_stats.refused_unmaps));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(gdmabuf_stats);

/* The show functions live with the state they print. */
DEFINE_SHOW_ATTRIBUTE(gdmabuf_domain_pages);
DEFINE_SHOW_ATTRIBUTE(gdmabuf_pool);

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
 * Context: module init.
 * Return: 0.
 */
int gdmabuf_debugfs_init(void)
{
	gdmabuf_debugfs_dir = debugfs_create_dir(GDMABUF_NAME, NULL);
	debugfs_create_file("stats", 0400, gdmabuf_debugfs_dir, NULL,
			    &gdmabuf_stats_fops);
	debugfs_create_file("domains", 0400, gdmabuf_debugfs_dir, NULL,
			    &gdmabuf_domain_pages_fops);
	debugfs_create_file("buffers", 0400, gdmabuf_debugfs_dir, NULL,
			    &gdmabuf_buffers_fops);
	debugfs_create_file("failures", 0400, gdmabuf_debugfs_dir, NULL,
			    &gdmabuf_failures_fops);
	debugfs_create_file("pool", 0400, gdmabuf_debugfs_dir, NULL,
			    &gdmabuf_pool_fops);
	gdmabuf_selftest_debugfs_init(gdmabuf_debugfs_dir);
	return 0;
}

/**
 * gdmabuf_debugfs_exit() - remove what gdmabuf_debugfs_init() created
 *
 * Context: module exit.
 */
void gdmabuf_debugfs_exit(void)
{
	gdmabuf_selftest_exit();
	debugfs_remove_recursive(gdmabuf_debugfs_dir);
	gdmabuf_debugfs_dir = NULL;
}
