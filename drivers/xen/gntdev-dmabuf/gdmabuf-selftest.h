/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gntdev-dmabuf: the hooks of a test build (GDMABUF_SELFTEST=y) in the
 * module's code: fault injection and the test-only debugfs files.  In
 * other builds they compile to nothing.
 */
#ifndef GDMABUF_SELFTEST_H
#define GDMABUF_SELFTEST_H

#include <linux/types.h>

struct dentry;
struct device;
struct gnttab_unmap_grant_ref;

#ifdef GDMABUF_SELFTEST
void gdmabuf_selftest_debugfs_init(struct dentry *dir);
void gdmabuf_selftest_exit(void);
void gdmabuf_selftest_fwcfg_init(void);
void gdmabuf_selftest_fwcfg_exit(void);
struct device *gdmabuf_selftest_bus_dev(void);
int gdmabuf_devdma_run(const char *cmd, char *res, size_t size);
bool gdmabuf_fault(void);
void gdmabuf_fault_unmap(struct gnttab_unmap_grant_ref *ops, unsigned int count);
void gdmabuf_fault_unmap_undo(struct gnttab_unmap_grant_ref *ops, unsigned int count);
unsigned int gdmabuf_grants_retry_refused(void);
extern unsigned int gdmabuf_dma_fail_decrease_after;
#else
static inline void gdmabuf_selftest_debugfs_init(struct dentry *dir)
{
}

static inline void gdmabuf_selftest_exit(void)
{
}

static inline bool gdmabuf_fault(void)
{
	return false;
}

static inline void gdmabuf_fault_unmap(struct gnttab_unmap_grant_ref *ops, unsigned int count)
{
}
#endif

/*
 * gdmabuf_faultable(expr, err) - @expr, or @err when a test build's
 * fault injection (debugfs "fail_nth") picks this allocation or hypercall
 * site.  In release builds it is just @expr.
 *
 * Not <linux/fault-inject.h>: Debian's kernels, the ones this module is
 * for, are built without CONFIG_FAULT_INJECTION (checked for 6.1 and 6.12
 * on amd64 and arm64), so failslab and fail_page_alloc are not there to
 * be armed, and they could not reach the grant hypercalls anyway.
 */
#define gdmabuf_faultable(expr, err) (gdmabuf_fault() ? (err) : (expr))

#endif /* GDMABUF_SELFTEST_H */
