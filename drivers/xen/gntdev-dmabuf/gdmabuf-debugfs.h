/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gntdev-dmabuf: the module-wide counters and the debugfs view of them.
 */
#ifndef GDMABUF_DEBUGFS_H
#define GDMABUF_DEBUGFS_H

#include <linux/atomic.h>

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
int gdmabuf_debugfs_init(void);
void gdmabuf_debugfs_exit(void);

#endif /* GDMABUF_DEBUGFS_H */
