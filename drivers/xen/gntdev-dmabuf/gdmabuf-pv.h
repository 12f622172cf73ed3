/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gntdev-dmabuf: CPU mappings of an export on a PV domain, where grants
 * are mapped into page-table entries by Xen.
 */
#ifndef GDMABUF_PV_H
#define GDMABUF_PV_H

#include <linux/err.h>

struct gdmabuf_grants;
struct gdmabuf_pv_kmap;
struct vm_area_struct;

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

#endif /* GDMABUF_PV_H */
