/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gntdev-dmabuf: definitions shared by the module's files.
 */
#ifndef GDMABUF_COMMON_H
#define GDMABUF_COMMON_H

#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/types.h>
#include <linux/wait.h>

#include <linux/err.h>

#include <xen/grant_table.h>

#define GDMABUF_NAME	"gntdev-dmabuf"

/**
 * struct gdmabuf_file - state of one open file of /dev/xen/gntdev-dmabuf
 * @exports: the live exports made through this file, newest first.
 * @released: exports made through this file that were released and not
 *	yet reported by GDMABUF_IOCTL_EXP_RELEASED, oldest first.
 * @release_wq: woken when an export joins @released, for poll().
 * @lock: protects @imports.
 * @imports: the imports made through this file and not yet released.
 * @pages: pages of this file's live exports and imports, for the
 *	max_pages_per_file quota (gdmabuf-limits.c).
 *
 * @exports and @released are protected by gdmabuf_exports_lock
 * (gdmabuf-export.c).
 */
struct gdmabuf_file {
	struct list_head exports;
	struct list_head released;
	wait_queue_head_t release_wq;
	struct mutex lock;	/* protects imports */
	struct list_head imports;
	atomic_long_t pages;
};

#define GDMABUF_INVALID_HANDLE	((grant_handle_t)-1)

/**
 * struct gdmabuf_grants - foreign grants mapped into local pages
 * @domid: the granting domain.
 * @count: number of pages.
 * @refs: the grant references, kept for the PV CPU mappings; owned by
 *	the caller of gdmabuf_grants_map().
 * @pages: the local pages standing for the foreign frames.
 * @dma: the DMA buffer the pages belong to, or NULL for ballooned pages.
 * @handles: Xen's handle per mapped page, GDMABUF_INVALID_HANDLE if none.
 */
struct gdmabuf_grants {
	domid_t domid;
	unsigned int count;
	u32 *refs;
	struct page **pages;
	grant_handle_t *handles;
	struct gdmabuf_dma_mem *dma;
};

int gdmabuf_grants_map(struct gdmabuf_grants *map, u32 dma_flags);

int gdmabuf_dma_alloc(struct gdmabuf_grants *map, bool coherent);
void gdmabuf_dma_free(struct gdmabuf_grants *map);
int gdmabuf_dma_mmap(const struct gdmabuf_grants *map, struct vm_area_struct *vma);
unsigned int gdmabuf_dma_pfn_runs(const struct gdmabuf_grants *map);
#ifdef GDMABUF_SELFTEST
extern unsigned int gdmabuf_dma_fail_decrease_after;
#endif
void gdmabuf_grants_unmap(struct gdmabuf_grants *map, void (*done)(void *arg), void *arg);
int gdmabuf_grants_init(void);
void gdmabuf_grants_exit(void);
int gdmabuf_pool_show(struct seq_file *m, void *unused);

/**
 * struct gdmabuf_stats - module-wide counters, shown in debugfs
 * @live_exports: dma-bufs exported and not yet released.
 * @live_imports: dma-bufs imported and not yet fully released.
 * @mapped_grants: foreign grants currently mapped by this module.
 * @granted_refs: grant references this module has handed out and not
 *	yet ended.
 * @pending_releases: imports whose grants a peer still maps.
 * @dma_released_frames: frames of DMA buffers handed back to Xen for
 *	grant mappings, not yet repopulated.
 * @dma_leaked_pages: pages of DMA buffers leaked because Xen could not
 *	repopulate them (should never happen).
 * @pending_unmaps: released exports whose grants wait for a page
 *	reference to drop before they are unmapped.
 * @refused_unmaps: grants Xen refused to unmap; their buffers are never
 *	reused nor reported released (should never happen).
 *
 * All are atomics: they are updated where the state changes, under
 * whatever lock protects that state, and read locklessly.
 */
struct gdmabuf_stats {
	atomic64_t live_exports;
	atomic64_t live_imports;
	atomic64_t mapped_grants;
	atomic64_t granted_refs;
	atomic64_t pending_releases;
	atomic64_t dma_released_frames;
	atomic64_t dma_leaked_pages;
	atomic64_t pending_unmaps;
	atomic64_t refused_unmaps;
};

extern struct gdmabuf_stats gdmabuf_stats;

/**
 * enum gdmabuf_op - the calls whose failures debugfs "failures" counts
 * @GDMABUF_OP_EXPORT: both EXP_FROM_REFS ioctls.
 * @GDMABUF_OP_WAIT_RELEASED: EXP_WAIT_RELEASED.
 * @GDMABUF_OP_EXP_ID: GDMABUF_IOCTL_EXP_ID.
 * @GDMABUF_OP_EXP_RELEASED: GDMABUF_IOCTL_EXP_RELEASED.
 * @GDMABUF_OP_IMPORT: both IMP_TO_REFS ioctls.
 * @GDMABUF_OP_IMPORT_RELEASE: both IMP_RELEASE ioctls.
 * @GDMABUF_OP_GET_INFO: GDMABUF_IOCTL_GET_INFO.
 * @GDMABUF_OP_MMAP: mmap() of an export.
 * @GDMABUF_OP_VMAP: a kernel importer's vmap of an export.
 * @GDMABUF_OP_COUNT: the number of the above.
 */
enum gdmabuf_op {
	GDMABUF_OP_EXPORT,
	GDMABUF_OP_WAIT_RELEASED,
	GDMABUF_OP_EXP_ID,
	GDMABUF_OP_EXP_RELEASED,
	GDMABUF_OP_IMPORT,
	GDMABUF_OP_IMPORT_RELEASE,
	GDMABUF_OP_GET_INFO,
	GDMABUF_OP_MMAP,
	GDMABUF_OP_VMAP,
	GDMABUF_OP_COUNT
};

void gdmabuf_count_failure(enum gdmabuf_op op, long err);

extern unsigned int gdmabuf_max_pages_per_call;
extern unsigned int gdmabuf_max_pages_per_file;
extern unsigned int gdmabuf_max_pages_per_domain;
extern unsigned int gdmabuf_max_dma_pages;

struct vm_area_struct;
struct gdmabuf_pv_kmap;
struct gdmabuf_dma_mem;
struct device;
struct dma_buf;
struct seq_file;
struct dentry;

struct device *gdmabuf_dma_dev(void);
bool gdmabuf_is_export(const struct dma_buf *dmabuf);

#ifdef CONFIG_XEN_PV
int gdmabuf_pv_mmap(const struct gdmabuf_grants *grants, struct vm_area_struct *vma);
struct gdmabuf_pv_kmap *gdmabuf_pv_vmap(const struct gdmabuf_grants *grants);
void *gdmabuf_pv_vaddr(const struct gdmabuf_pv_kmap *kmap);
void gdmabuf_pv_vunmap(struct gdmabuf_pv_kmap *kmap);
#else
/* Only PV domains call these; the stubs let the callers compile elsewhere. */
static inline int gdmabuf_pv_mmap(const struct gdmabuf_grants *grants,
				  struct vm_area_struct *vma)
{
	return -EOPNOTSUPP;
}

static inline struct gdmabuf_pv_kmap *gdmabuf_pv_vmap(const struct gdmabuf_grants *grants)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static inline void *gdmabuf_pv_vaddr(const struct gdmabuf_pv_kmap *kmap)
{
	return NULL;
}

static inline void gdmabuf_pv_vunmap(struct gdmabuf_pv_kmap *kmap)
{
}
#endif

struct ioctl_gntdev_dmabuf_exp_from_refs;
struct ioctl_gntdev_dmabuf_exp_wait_released;
struct gdmabuf_exp_id;
struct gdmabuf_exp_released;
struct ioctl_gntdev_dmabuf_imp_to_refs;
struct ioctl_gntdev_dmabuf_imp_release;
struct gdmabuf_imp_to_refs;
struct gdmabuf_imp_release;

long gdmabuf_ioctl_exp_from_refs(struct gdmabuf_file *priv,
				 struct ioctl_gntdev_dmabuf_exp_from_refs __user *uarg);
long gdmabuf_ioctl_exp_wait_released(struct gdmabuf_file *priv,
				     struct ioctl_gntdev_dmabuf_exp_wait_released __user *uarg);
long gdmabuf_ioctl_exp_id(struct gdmabuf_file *priv, struct gdmabuf_exp_id __user *uarg);
long gdmabuf_ioctl_exp_released(struct gdmabuf_file *priv,
				struct gdmabuf_exp_released __user *uarg);
__poll_t gdmabuf_export_poll(struct gdmabuf_file *priv, struct file *filp, poll_table *wait);
void gdmabuf_export_file_closed(struct gdmabuf_file *priv);
void gdmabuf_export_show(struct seq_file *m);

long gdmabuf_ioctl_imp_to_refs(struct gdmabuf_file *priv,
			       struct ioctl_gntdev_dmabuf_imp_to_refs __user *uarg);
long gdmabuf_ioctl_imp_release(struct gdmabuf_file *priv,
			       struct ioctl_gntdev_dmabuf_imp_release __user *uarg);
long gdmabuf_ioctl_import(struct gdmabuf_file *priv, struct gdmabuf_imp_to_refs __user *uarg);
long gdmabuf_ioctl_import_release(struct gdmabuf_file *priv,
				  struct gdmabuf_imp_release __user *uarg);
void gdmabuf_import_file_closed(struct gdmabuf_file *priv);
int gdmabuf_import_pending_show(struct seq_file *m, void *unused);
void gdmabuf_import_show(struct seq_file *m);
int gdmabuf_import_init(void);
void gdmabuf_import_exit(void);

struct gnttab_unmap_grant_ref;

#ifdef GDMABUF_SELFTEST
void gdmabuf_selftest_debugfs_init(struct dentry *dir);
bool gdmabuf_fault(void);
void gdmabuf_fault_unmap(struct gnttab_unmap_grant_ref *ops, unsigned int count);
void gdmabuf_fault_unmap_undo(struct gnttab_unmap_grant_ref *ops, unsigned int count);
unsigned int gdmabuf_grants_retry_refused(void);
#else
static inline void gdmabuf_selftest_debugfs_init(struct dentry *dir)
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
 */
#define gdmabuf_faultable(expr, err) (gdmabuf_fault() ? (err) : (expr))

int gdmabuf_charge(struct gdmabuf_file *priv, domid_t domid, unsigned int count);
void gdmabuf_uncharge_file(struct gdmabuf_file *priv, unsigned int count);
int gdmabuf_charge_domain(domid_t domid, unsigned int count);
void gdmabuf_uncharge_domain(domid_t domid, unsigned int count);
int gdmabuf_domain_pages_show(struct seq_file *m, void *unused);

int gdmabuf_debugfs_init(void);
void gdmabuf_debugfs_exit(void);

#endif /* GDMABUF_COMMON_H */
