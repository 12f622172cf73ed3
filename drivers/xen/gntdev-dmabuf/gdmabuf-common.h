/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gntdev-dmabuf: definitions shared by the module's files.
 */
#ifndef GDMABUF_COMMON_H
#define GDMABUF_COMMON_H

#include <linux/atomic.h>
#include <linux/mutex.h>
#include <linux/types.h>

#define GDMABUF_NAME	"gntdev-dmabuf"

/**
 * struct gdmabuf_file - state of one open file of /dev/xen/gntdev-dmabuf
 * @lock: see below.
 */
struct gdmabuf_file {
	struct mutex lock; /* protects the file's lists of buffers */
};

/**
 * struct gdmabuf_stats - module-wide counters, shown in debugfs
 * @live_exports: dma-bufs exported and not yet released.
 * @live_imports: dma-bufs imported and not yet fully released.
 * @mapped_grants: foreign grants currently mapped by this module.
 * @granted_refs: grant references this module has handed out and not
 *	yet ended.
 * @pending_releases: imports whose grants a peer still maps.
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
};

extern struct gdmabuf_stats gdmabuf_stats;

extern unsigned int gdmabuf_max_pages_per_call;
extern unsigned int gdmabuf_max_pages_per_file;
extern unsigned int gdmabuf_max_pages_per_domain;

int gdmabuf_debugfs_init(void);
void gdmabuf_debugfs_exit(void);

#endif /* GDMABUF_COMMON_H */
