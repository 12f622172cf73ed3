/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gntdev-dmabuf: definitions shared by the module's files.
 */
#ifndef GDMABUF_COMMON_H
#define GDMABUF_COMMON_H

#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/types.h>

#include <xen/grant_table.h>

#define GDMABUF_NAME	"gntdev-dmabuf"

/**
 * struct gdmabuf_file - state of one open file of /dev/xen/gntdev-dmabuf
 * @exports: the live exports made through this file, newest first;
 *	protected by gdmabuf_exports_lock (gdmabuf-export.c).
 */
struct gdmabuf_file {
	struct list_head exports;
};

#define GDMABUF_INVALID_HANDLE	((grant_handle_t)-1)

/**
 * struct gdmabuf_grants - foreign grants mapped into local pages
 * @domid: the granting domain.
 * @count: number of pages.
 * @pages: the local pages standing for the foreign frames.
 * @handles: Xen's handle per mapped page, GDMABUF_INVALID_HANDLE if none.
 */
struct gdmabuf_grants {
	domid_t domid;
	unsigned int count;
	struct page **pages;
	grant_handle_t *handles;
};

int gdmabuf_grants_map(struct gdmabuf_grants *map, const u32 *refs);
void gdmabuf_grants_unmap(struct gdmabuf_grants *map);

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

struct ioctl_gntdev_dmabuf_exp_from_refs;
struct ioctl_gntdev_dmabuf_exp_wait_released;

long gdmabuf_ioctl_exp_from_refs(struct gdmabuf_file *priv,
				 struct ioctl_gntdev_dmabuf_exp_from_refs __user *uarg);
long gdmabuf_ioctl_exp_wait_released(struct gdmabuf_file *priv,
				     struct ioctl_gntdev_dmabuf_exp_wait_released __user *uarg);
void gdmabuf_export_file_closed(struct gdmabuf_file *priv);

int gdmabuf_debugfs_init(void);
void gdmabuf_debugfs_exit(void);

#endif /* GDMABUF_COMMON_H */
