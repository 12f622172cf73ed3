/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gntdev-dmabuf: granting a local dma-buf to another domain and ending
 * those grants safely.
 */
#ifndef GDMABUF_IMPORT_H
#define GDMABUF_IMPORT_H

struct gdmabuf_file;
struct gdmabuf_imp_release;
struct gdmabuf_imp_to_refs;
struct ioctl_gntdev_dmabuf_imp_release;
struct ioctl_gntdev_dmabuf_imp_to_refs;
struct seq_file;

int gdmabuf_import_file_open(struct gdmabuf_file *file);
void gdmabuf_import_file_closed(struct gdmabuf_file *file);
long gdmabuf_ioctl_gntdev_dmabuf_imp_to_refs(struct gdmabuf_file *file,
					     struct ioctl_gntdev_dmabuf_imp_to_refs __user *uarg);
long gdmabuf_ioctl_gntdev_dmabuf_imp_release(struct gdmabuf_file *file,
					     struct ioctl_gntdev_dmabuf_imp_release __user *uarg);
long gdmabuf_ioctl_imp_to_refs(struct gdmabuf_file *file, struct gdmabuf_imp_to_refs __user *uarg);
long gdmabuf_ioctl_imp_release(struct gdmabuf_file *file,
			       struct gdmabuf_imp_release __user *uarg);
void gdmabuf_import_show(struct seq_file *m);
int gdmabuf_import_init(void);
void gdmabuf_import_exit(void);

#endif /* GDMABUF_IMPORT_H */
