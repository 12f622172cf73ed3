// SPDX-License-Identifier: MIT
/*
 * Compile-time check of uapi/gntdev-dmabuf.h against the numbers of the
 * upstream ABI, written out by hand from _IOC()'s encoding (type 'G' =
 * 0x47, size in bits 16-29, direction in bits 30-31), so that a change to
 * the header that breaks existing binaries fails the build of every test.
 * Only our header is included: <xen/gntdev.h> would hide its legacy part.
 */
#include <stddef.h>

#include "gntdev-dmabuf.h"

_Static_assert(IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS == 0x00144709, "EXP_FROM_REFS number");
_Static_assert(IOCTL_GNTDEV_DMABUF_EXP_WAIT_RELEASED == 0x0008470a, "EXP_WAIT_RELEASED number");
_Static_assert(IOCTL_GNTDEV_DMABUF_IMP_TO_REFS == 0x0014470b, "IMP_TO_REFS number");
_Static_assert(IOCTL_GNTDEV_DMABUF_IMP_RELEASE == 0x0008470c, "IMP_RELEASE number");
_Static_assert(GNTDEV_DMA_FLAG_WC == 1 && GNTDEV_DMA_FLAG_COHERENT == 2, "DMA flags");

_Static_assert(offsetof(struct ioctl_gntdev_dmabuf_exp_from_refs, fd) == 8, "exp fd");
_Static_assert(offsetof(struct ioctl_gntdev_dmabuf_exp_from_refs, domid) == 12, "exp domid");
_Static_assert(offsetof(struct ioctl_gntdev_dmabuf_exp_from_refs, refs) == 16, "exp refs");
_Static_assert(offsetof(struct ioctl_gntdev_dmabuf_exp_wait_released, wait_to_ms) == 4, "wait");
_Static_assert(offsetof(struct ioctl_gntdev_dmabuf_imp_to_refs, domid) == 8, "imp domid");
_Static_assert(offsetof(struct ioctl_gntdev_dmabuf_imp_to_refs, refs) == 16, "imp refs");

/* Our own ioctls: sizes fixed, no implicit padding. */
_Static_assert(sizeof(struct gdmabuf_info) == 56, "gdmabuf_info size");
_Static_assert(GDMABUF_IOCTL_GET_INFO == 0xc0384740, "GET_INFO number");
_Static_assert(sizeof(struct gdmabuf_exp_id) == 16, "gdmabuf_exp_id size");
_Static_assert(GDMABUF_IOCTL_EXP_ID == 0xc0104741, "EXP_ID number");
_Static_assert(sizeof(struct gdmabuf_exp_released) == 24, "gdmabuf_exp_released size");
_Static_assert(GDMABUF_IOCTL_EXP_RELEASED == 0xc0184742, "EXP_RELEASED number");
_Static_assert(sizeof(struct gdmabuf_imp_to_refs) == 48, "gdmabuf_imp_to_refs size");
_Static_assert(GDMABUF_IOCTL_IMP_TO_REFS == 0xc0304743, "IMP_TO_REFS number");
_Static_assert(sizeof(struct gdmabuf_imp_release) == 16, "gdmabuf_imp_release size");
_Static_assert(GDMABUF_IOCTL_IMP_RELEASE == 0x40104744, "IMP_RELEASE number");
