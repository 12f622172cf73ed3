// SPDX-License-Identifier: GPL-2.0
/*
 * dma_buf_vmap() needs the reservation lock from 6.2; the _unlocked helper takes it.
 * Its presence also means the 6.2 locking convention: the core holds the
 * reservation lock around an exporter's map, unmap, mmap, vmap and vunmap.
 * Absent: dma_buf_vmap_unlocked
 */
#include <linux/module.h>
#include <linux/dma-buf.h>

int gdmabuf_probe(struct dma_buf *d, struct iosys_map *m);
int gdmabuf_probe(struct dma_buf *d, struct iosys_map *m)
{
	return dma_buf_vmap_unlocked(d, m);
}
MODULE_LICENSE("GPL");
