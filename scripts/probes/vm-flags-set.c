// SPDX-License-Identifier: GPL-2.0
/*
 * vm_flags_set() appeared in 6.3; older kernels write vma->vm_flags.
 * Absent: vm_flags_set
 */
#include <linux/module.h>
#include <linux/mm.h>

void gdmabuf_probe(struct vm_area_struct *vma);
void gdmabuf_probe(struct vm_area_struct *vma)
{
	vm_flags_set(vma, VM_IO);
}
MODULE_LICENSE("GPL");
