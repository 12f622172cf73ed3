// SPDX-License-Identifier: GPL-2.0
/* dma_buf_vmap() needs the reservation lock from 6.2; the _unlocked helper takes it. */
#include <linux/module.h>
#include <linux/dma-buf.h>

int gdmabuf_probe(struct dma_buf *d, struct iosys_map *m);
int gdmabuf_probe(struct dma_buf *d, struct iosys_map *m)
{
	return dma_buf_vmap_unlocked(d, m);
}
MODULE_LICENSE("GPL");
