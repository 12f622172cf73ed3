/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR MIT) */
/*
 * gntdev-dmabuf user-space ABI: /dev/xen/gntdev-dmabuf.
 *
 * Two families of ioctls live on the device:
 *
 * - The legacy IOCTL_GNTDEV_DMABUF_* calls.  They carry the same numbers,
 *   sizes, flag values and semantics as Linux's include/uapi/xen/gntdev.h,
 *   so a program written for an upstream kernel built with
 *   CONFIG_XEN_GNTDEV_DMABUF works unchanged by opening this device instead
 *   of /dev/xen/gntdev.  Their ABI predates today's rules: the command
 *   numbers carry no direction bits (_IOC_NONE), the variable-length
 *   arrays are declared as refs[1] (the size encoded in the number counts
 *   one element) and "reserved" fields are not checked, because
 *   libxengnttab does not zero them.  None of that can change without
 *   breaking existing callers, so it is kept and documented here.
 *
 * - The GDMABUF_IOCTL_* calls, which exist only on this device.  They
 *   follow Documentation/process/botching-up-ioctls.rst: explicit direction
 *   and size, naturally aligned fixed-width fields, pointers passed as
 *   __u64, every flag and pad field checked (unknown flags and non-zero
 *   pad give EINVAL) and buffers named by 64-bit ids that are never reused,
 *   not by file descriptor numbers.
 *
 * Documentation/uapi.rst describes every call and its error codes.
 */
#ifndef _UAPI_XEN_GNTDEV_DMABUF_H
#define _UAPI_XEN_GNTDEV_DMABUF_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* The misc device, relative to /dev. */
#define GDMABUF_DEVICE_NAME		"xen/gntdev-dmabuf"

/*
 * Legacy (upstream-compatible) interface.  Guarded so that a file may
 * include both this header and <xen/gntdev.h>.
 */
#ifndef IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS

/* Back the exported buffer with write-combined DMA memory. */
#define GNTDEV_DMA_FLAG_WC		0x1
/* Back the exported buffer with coherent DMA memory. */
#define GNTDEV_DMA_FLAG_COHERENT	0x2

/**
 * struct ioctl_gntdev_dmabuf_exp_from_refs - export grants as a dma-buf
 * @flags: in, 0 or one of GNTDEV_DMA_FLAG_WC / GNTDEV_DMA_FLAG_COHERENT.
 * @count: in, number of grant references in @refs, 1 to the per-call limit.
 * @fd: out, the new dma-buf file descriptor (close-on-exec).
 * @domid: in, the domain that granted @refs.
 * @refs: in, @count grant references; declared with one element for ABI
 *	compatibility, really @count elements long.
 */
struct ioctl_gntdev_dmabuf_exp_from_refs {
	__u32 flags;
	__u32 count;
	__u32 fd;
	__u32 domid;
	__u32 refs[1];
};

#define IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS \
	_IOC(_IOC_NONE, 'G', 9, sizeof(struct ioctl_gntdev_dmabuf_exp_from_refs))

/**
 * struct ioctl_gntdev_dmabuf_exp_wait_released - wait for an export's release
 * @fd: in, the dma-buf file descriptor returned by EXP_FROM_REFS (the
 *	buffer is looked up by the dma-buf behind it, as upstream does).
 * @wait_to_ms: in, timeout in milliseconds; 0 only polls.
 */
struct ioctl_gntdev_dmabuf_exp_wait_released {
	__u32 fd;
	__u32 wait_to_ms;
};

#define IOCTL_GNTDEV_DMABUF_EXP_WAIT_RELEASED \
	_IOC(_IOC_NONE, 'G', 10, sizeof(struct ioctl_gntdev_dmabuf_exp_wait_released))

/**
 * struct ioctl_gntdev_dmabuf_imp_to_refs - grant a dma-buf's pages
 * @fd: in, the dma-buf to import; it must be exactly @count pages.
 * @count: in, number of pages, 1 to the per-call limit.
 * @domid: in, the domain the pages are granted to (read-write).
 * @reserved: ignored (libxengnttab leaves it uninitialised).
 * @refs: out, @count grant references; declared with one element for ABI
 *	compatibility, really @count elements long.
 */
struct ioctl_gntdev_dmabuf_imp_to_refs {
	__u32 fd;
	__u32 count;
	__u32 domid;
	__u32 reserved;
	__u32 refs[1];
};

#define IOCTL_GNTDEV_DMABUF_IMP_TO_REFS \
	_IOC(_IOC_NONE, 'G', 11, sizeof(struct ioctl_gntdev_dmabuf_imp_to_refs))

/**
 * struct ioctl_gntdev_dmabuf_imp_release - end an import
 * @fd: in, the dma-buf file descriptor that was passed to IMP_TO_REFS.
 * @reserved: ignored (libxengnttab leaves it uninitialised).
 */
struct ioctl_gntdev_dmabuf_imp_release {
	__u32 fd;
	__u32 reserved;
};

#define IOCTL_GNTDEV_DMABUF_IMP_RELEASE \
	_IOC(_IOC_NONE, 'G', 12, sizeof(struct ioctl_gntdev_dmabuf_imp_release))

#endif /* IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS */

/*
 * gntdev-dmabuf's own interface.  Numbers start at 0x40 so that they never
 * collide with the stock gntdev's 'G' numbers.
 */
#define GDMABUF_IOCTL_BASE		'G'

/* The version of the GDMABUF_IOCTL_* interface described by this header. */
#define GDMABUF_ABI_VERSION		1

/* The legacy export ioctls (EXP_FROM_REFS, EXP_WAIT_RELEASED) work. */
#define GDMABUF_CAP_EXPORT		0x1U
/* Exports can be mmap()ed, vmap()ed and bracketed by DMA_BUF_IOCTL_SYNC. */
#define GDMABUF_CAP_EXPORT_CPU		0x2U
/* GDMABUF_IOCTL_EXP_ID, GDMABUF_IOCTL_EXP_RELEASED and poll() work. */
#define GDMABUF_CAP_RELEASE_POLL	0x4U
/* The import ioctls (legacy and GDMABUF_IOCTL_IMP_*) work. */
#define GDMABUF_CAP_IMPORT		0x8U
/*
 * EXP_FROM_REFS honours GNTDEV_DMA_FLAG_WC and GNTDEV_DMA_FLAG_COHERENT
 * (not on PV domains, where they give EOPNOTSUPP).
 */
#define GDMABUF_CAP_DMA_ALLOC		0x10U

/**
 * struct gdmabuf_info - what the loaded module supports
 * @abi_version: out, GDMABUF_ABI_VERSION of the running module.
 * @caps: out, GDMABUF_CAP_* bits.
 * @max_pages_per_call: out, the per-call page limit (module parameter).
 * @max_pages_per_file: out, the limit for one open file (0: none).
 * @max_pages_per_domain: out, the limit for one remote domain (0: none).
 * @pad: must be zero on input.
 * @module_version: out, the module's version string, NUL-terminated.
 */
struct gdmabuf_info {
	__u32 abi_version;
	__u32 caps;
	__u32 max_pages_per_call;
	__u32 max_pages_per_file;
	__u32 max_pages_per_domain;
	__u32 pad;
	char module_version[32];
};

#define GDMABUF_IOCTL_GET_INFO \
	_IOWR(GDMABUF_IOCTL_BASE, 0x40, struct gdmabuf_info)

/**
 * struct gdmabuf_exp_id - the id of an export
 * @fd: in, a dma-buf file descriptor returned by EXP_FROM_REFS through
 *	the same open file of the device.
 * @flags: in, must be zero.
 * @id: out, the export's id: non-zero, never reused while the module is
 *	loaded.
 */
struct gdmabuf_exp_id {
	__u32 fd;
	__u32 flags;
	__u64 id;
};

#define GDMABUF_IOCTL_EXP_ID \
	_IOWR(GDMABUF_IOCTL_BASE, 0x41, struct gdmabuf_exp_id)

/**
 * struct gdmabuf_exp_released - collect the ids of released exports
 * @ids_ptr: in, user pointer to an array of @max __u64, filled with the
 *	ids of released exports, oldest first.
 * @max: in, capacity of the array; 0 only checks the arguments.
 * @count: out, number of ids written.
 * @flags: in, must be zero.
 * @pad: in, must be zero.
 *
 * Reports each release of an export made through this open file once, and
 * never blocks.  poll() on the device signals POLLIN while a report is
 * pending.  A release is reported only after the grants have been
 * unmapped, so the granter may reuse them.
 */
struct gdmabuf_exp_released {
	__u64 ids_ptr;
	__u32 max;
	__u32 count;
	__u32 flags;
	__u32 pad;
};

#define GDMABUF_IOCTL_EXP_RELEASED \
	_IOWR(GDMABUF_IOCTL_BASE, 0x42, struct gdmabuf_exp_released)

/* Grant the pages read-only. */
#define GDMABUF_IMP_READONLY		0x1U

/**
 * struct gdmabuf_imp_to_refs - grant a dma-buf whose data may start at an
 *	offset in its first page
 * @fd: in, the dma-buf to grant.
 * @domid: in, the domain the pages are granted to.
 * @flags: in, 0 or GDMABUF_IMP_READONLY.
 * @count: in, capacity of the array at @refs_ptr, or 0 to only measure
 *	the buffer; out, the number of pages that cover the data.
 * @refs_ptr: in, user pointer to an array of @count __u32, filled with
 *	one grant reference per page.
 * @id: out, the import's id, for GDMABUF_IOCTL_IMP_RELEASE; non-zero,
 *	never reused while the module is loaded.  0 when only measuring.
 * @offset: out, where the data starts in the first page (the Xen display
 *	protocol's data_ofs).
 * @pad: in, must be zero.
 * @size: out, the dma-buf's size in bytes.
 */
struct gdmabuf_imp_to_refs {
	__u32 fd;
	__u32 domid;
	__u32 flags;
	__u32 count;
	__u64 refs_ptr;
	__u64 id;
	__u32 offset;
	__u32 pad;
	__u64 size;
};

#define GDMABUF_IOCTL_IMP_TO_REFS \
	_IOWR(GDMABUF_IOCTL_BASE, 0x43, struct gdmabuf_imp_to_refs)

/**
 * struct gdmabuf_imp_release - end an import made by GDMABUF_IOCTL_IMP_TO_REFS
 *	(or by the legacy call)
 * @id: in, the import's id.
 * @flags: in, must be zero.
 * @pad: in, must be zero.
 */
struct gdmabuf_imp_release {
	__u64 id;
	__u32 flags;
	__u32 pad;
};

#define GDMABUF_IOCTL_IMP_RELEASE \
	_IOW(GDMABUF_IOCTL_BASE, 0x44, struct gdmabuf_imp_release)

#endif /* _UAPI_XEN_GNTDEV_DMABUF_H */
