/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gntdev-dmabuf: the device file and what an open file holds.
 */
#ifndef GDMABUF_DEV_H
#define GDMABUF_DEV_H

#define GDMABUF_NAME	"gntdev-dmabuf"

struct device;
struct gdmabuf_imports;
struct gdmabuf_quota;
struct gdmabuf_releases;

/**
 * struct gdmabuf_file - one open file of /dev/xen/gntdev-dmabuf
 * @quota: its page quota (gdmabuf-limits.c).
 * @releases: how its exports are named and their releases reported
 *	(gdmabuf-release.c).
 * @imports: its imports (gdmabuf-import.c).
 *
 * Each capability owns its part, opaque to the others, and its lock.
 * The pointers are set by open and never change until release.
 */
struct gdmabuf_file {
	struct gdmabuf_quota *quota;
	struct gdmabuf_releases *releases;
	struct gdmabuf_imports *imports;
};

struct device *gdmabuf_dma_dev(void);

#endif /* GDMABUF_DEV_H */
