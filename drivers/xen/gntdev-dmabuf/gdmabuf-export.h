/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gntdev-dmabuf: the dma-buf exporter behind EXP_FROM_REFS, and what the
 * release reporting (gdmabuf-release.c) may ask of an export.
 */
#ifndef GDMABUF_EXPORT_H
#define GDMABUF_EXPORT_H

#include <linux/types.h>

struct dma_buf;
struct gdmabuf_export;
struct gdmabuf_file;
struct gdmabuf_release_name;
struct ioctl_gntdev_dmabuf_exp_from_refs;
struct seq_file;

long
gdmabuf_ioctl_gntdev_dmabuf_exp_from_refs(struct gdmabuf_file *file,
					  struct ioctl_gntdev_dmabuf_exp_from_refs __user *uarg);
bool gdmabuf_is_export(const struct dma_buf *dmabuf);
struct gdmabuf_release_name *gdmabuf_export_name(const struct dma_buf *dmabuf);
u64 gdmabuf_export_id(const struct gdmabuf_export *exp);
void gdmabuf_export_get(struct gdmabuf_export *exp);
void gdmabuf_export_put(struct gdmabuf_export *exp);
int gdmabuf_export_wait_released(struct gdmabuf_export *exp, unsigned int timeout_ms);
void gdmabuf_export_show(struct seq_file *m);

#endif /* GDMABUF_EXPORT_H */
