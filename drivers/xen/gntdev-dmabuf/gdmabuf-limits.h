/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gntdev-dmabuf: the module's limits and the per-file and per-domain
 * page quotas.
 */
#ifndef GDMABUF_LIMITS_H
#define GDMABUF_LIMITS_H

#include <xen/interface/xen.h>

struct gdmabuf_file;
struct gdmabuf_quota;
struct seq_file;

extern unsigned int gdmabuf_max_pages_per_call;
extern unsigned int gdmabuf_max_pages_per_file;
extern unsigned int gdmabuf_max_pages_per_domain;
extern unsigned int gdmabuf_max_dma_pages;

int gdmabuf_quota_file_open(struct gdmabuf_file *file);
void gdmabuf_quota_file_closed(struct gdmabuf_file *file);
int gdmabuf_charge(struct gdmabuf_quota *quota, domid_t domid, unsigned int count);
void gdmabuf_uncharge_file(struct gdmabuf_quota *quota, unsigned int count);
int gdmabuf_charge_domain(domid_t domid, unsigned int count);
void gdmabuf_uncharge_domain(domid_t domid, unsigned int count);
int gdmabuf_domain_pages_show(struct seq_file *m, void *unused);

#endif /* GDMABUF_LIMITS_H */
