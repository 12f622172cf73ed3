// SPDX-License-Identifier: GPL-2.0
/*
 * The _unlocked attachment helpers appeared in 6.2 (backported to 6.1.y).
 * Absent: dma_buf_(un)?map_attachment_unlocked
 */
#include <linux/module.h>
#include <linux/dma-buf.h>

struct sg_table *gdmabuf_probe(struct dma_buf_attachment *a);
struct sg_table *gdmabuf_probe(struct dma_buf_attachment *a)
{
	return dma_buf_map_attachment_unlocked(a, DMA_BIDIRECTIONAL);
}
MODULE_LICENSE("GPL");
