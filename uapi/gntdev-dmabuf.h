/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR MIT) */
/*
 * gntdev-dmabuf user-space ABI: /dev/xen/gntdev-dmabuf.
 *
 * This header's kernel-doc is the ABI's reference text: the reference part
 * of Documentation/uapi.rst is generated from it (make uapi-doc).
 */

/**
 * DOC: Two families of ioctls
 *
 * The legacy ``IOCTL_GNTDEV_DMABUF_*`` calls carry the numbers, sizes,
 * flag values and semantics of Linux's ``include/uapi/xen/gntdev.h``, so a
 * program written for an upstream kernel built with
 * ``CONFIG_XEN_GNTDEV_DMABUF`` works unchanged by opening this device
 * instead of ``/dev/xen/gntdev``.  Their ABI predates today's rules and is
 * kept as it is, since changing it would break existing callers: the
 * numbers carry no direction bits (``_IOC_NONE``), the variable-length
 * arrays are declared ``refs[1]`` (the size encoded in the number counts
 * one element), ``reserved`` fields are not checked (libxengnttab does not
 * zero them), and buffers are named by file descriptor numbers.  This
 * part is guarded with ``#ifndef IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS`` so
 * that a file may include ``<xen/gntdev.h>`` first and this header after.
 *
 * The ``GDMABUF_IOCTL_*`` calls exist only on this device.  They follow
 * the kernel's ``Documentation/process/botching-up-ioctls.rst``: direction
 * and size in the number, naturally aligned fixed-width fields, pointers
 * passed as ``__u64``, every flag and pad field checked (unknown flags and
 * non-zero pad give ``EINVAL``), and buffers named by 64-bit ids that are
 * never reused, never by file descriptor numbers.  Their numbers start at
 * 0x40 of type ``'G'``, away from the stock gntdev's.
 *
 * Any other command number, including a known number with another size
 * or direction, fails with ``ENOTTY``.
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

/**
 * DOC: Export flags
 *
 * ``GNTDEV_DMA_FLAG_WC`` (1)
 *	back the export with a contiguous write-combined DMA buffer.
 * ``GNTDEV_DMA_FLAG_COHERENT`` (2)
 *	back the export with a contiguous coherent DMA buffer.
 *
 * The buffer's own frames are handed to Xen while the grants are mapped
 * in their place.  On auto-translated domains the buffer is contiguous in
 * guest-physical space, which is what a device behind an IOMMU sees; on
 * PV domains the flags give ``EOPNOTSUPP``.
 */
#define GNTDEV_DMA_FLAG_WC		0x1
#define GNTDEV_DMA_FLAG_COHERENT	0x2

/**
 * struct ioctl_gntdev_dmabuf_exp_from_refs - IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS:
 *	export grants as a dma-buf
 * @flags: in, 0 or one of GNTDEV_DMA_FLAG_WC / GNTDEV_DMA_FLAG_COHERENT.
 * @count: in, number of grant references in @refs, 1 to the per-call limit.
 * @fd: out, the new dma-buf file descriptor (close-on-exec).
 * @domid: in, the domain that granted @refs.
 * @refs: in, @count grant references; declared with one element for ABI
 *	compatibility, really @count elements long.
 *
 * Maps the grants and returns a dma-buf of @count pages over the very
 * same memory.  The fd is installed only once everything else succeeded,
 * so no other thread can see or close a half-made buffer.  Unlike
 * upstream, this works on x86 PV domains as well as auto-translated ones,
 * and the buffer can be mapped by the CPU (see Documentation/uapi.rst).
 * Closing the device file does not release its exports; while any export
 * lives the module cannot be unloaded.
 *
 * Errors:
 *
 * ``EINVAL``
 *	@count is 0 or above max_pages_per_call; @flags has unknown bits or
 *	both DMA flags; @domid is DOMID_FIRST_RESERVED (0x7ff0) or above; Xen
 *	refused a reference (never granted, wrong domain, or already mapped
 *	255 times); with a DMA flag, @count is above max_dma_pages.  Nothing
 *	stays mapped after a failure.
 * ``EOPNOTSUPP``
 *	a DMA flag on a PV domain.
 * ``EAGAIN``
 *	with a DMA flag, Xen took back only part of the buffer's frames;
 *	they were restored.  Try again.
 * ``EDQUOT``
 *	the file or the granting domain would go above max_pages_per_file
 *	or max_pages_per_domain.
 * ``EFAULT``
 *	the structure or @refs cannot be read, or @fd cannot be written.
 * ``ENOMEM``, ``EMFILE``
 *	out of memory (with a DMA flag: no contiguous buffer of that size),
 *	out of file descriptors.
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
 * struct ioctl_gntdev_dmabuf_exp_wait_released - IOCTL_GNTDEV_DMABUF_EXP_WAIT_RELEASED:
 *	wait for an export's release
 * @fd: in, the fd number EXP_FROM_REFS returned through this device file.
 *	It is a name, not a descriptor: it may have been closed since (the
 *	usual case, when the fd was passed to an importer), and only its
 *	number is compared.
 * @wait_to_ms: in, timeout in milliseconds; 0 only checks.
 *
 * Waits until the export is released: every holder (fds, importers'
 * attachments, mappings) let go and Xen unmapped the grants, so the
 * granter may reuse them.  The lookup, as upstream, is among this file's
 * exports not yet released; if the number was reused by a newer export
 * of the file, the newest one is meant.  This naming is why the
 * ``GDMABUF_IOCTL_*`` calls use ids instead.
 *
 * Errors:
 *
 * ``ENOENT``
 *	this file has no export with that number that is not yet released
 *	(never existed, already released, or made through another file).
 * ``ETIMEDOUT``
 *	@wait_to_ms passed; with 0, the export is not released yet.
 * ``ERESTARTSYS``/``EINTR``
 *	a signal arrived.
 * ``EFAULT``
 *	the argument cannot be read.
 */
struct ioctl_gntdev_dmabuf_exp_wait_released {
	__u32 fd;
	__u32 wait_to_ms;
};

#define IOCTL_GNTDEV_DMABUF_EXP_WAIT_RELEASED \
	_IOC(_IOC_NONE, 'G', 10, sizeof(struct ioctl_gntdev_dmabuf_exp_wait_released))

/**
 * struct ioctl_gntdev_dmabuf_imp_to_refs - IOCTL_GNTDEV_DMABUF_IMP_TO_REFS:
 *	grant a dma-buf's pages
 * @fd: in, the dma-buf to import; it must be exactly @count pages with its
 *	data at offset 0 (GDMABUF_IOCTL_IMP_TO_REFS handles an offset).
 * @count: in, number of pages, 1 to the per-call limit.
 * @domid: in, the domain the pages are granted to (read-write).
 * @reserved: ignored (libxengnttab leaves it uninitialised).
 * @refs: out, @count grant references; declared with one element for ABI
 *	compatibility, really @count elements long.
 *
 * The module attaches to the dma-buf, maps the attachment and keeps both,
 * and a reference to the dma-buf, until every grant has ended.  Supported
 * exporters are those whose memory is system RAM with struct pages owned
 * by this domain: DRM PRIME buffers (vgem, shmem-based drivers), udmabuf,
 * dma-heaps.  IMP_RELEASE names the import by the number @fd.
 *
 * Errors:
 *
 * ``EINVAL``
 *	@count is 0 or above max_pages_per_call; @domid is reserved; the
 *	dma-buf is not @count pages or has a data offset; its table leaves
 *	holes inside pages; @fd is not a dma-buf.
 * ``EBADF``
 *	@fd is not open.
 * ``EXDEV``
 *	the pages belong to another domain (such as an export of this
 *	module): Xen cannot grant them on.
 * ``EOPNOTSUPP``
 *	the dma-buf has no struct pages, or they are not system RAM.
 * ``ENOSPC``
 *	the grant table is full; the grants made are ended again.
 * ``EDQUOT``
 *	the file or the receiving domain would go above its quota.
 * ``EFAULT``
 *	the argument cannot be read or @refs written; nothing stays granted.
 * ``ENOMEM``
 *	out of memory.
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
 * struct ioctl_gntdev_dmabuf_imp_release - IOCTL_GNTDEV_DMABUF_IMP_RELEASE:
 *	end an import
 * @fd: in, the fd number that was passed to IMP_TO_REFS through this
 *	device file (the newest import if the number was imported twice).
 * @reserved: ignored (libxengnttab leaves it uninitialised).
 *
 * Never blocks.  Unlike upstream, which ends foreign access and drops the
 * dma-buf even while the peer still maps the pages, the module ends every
 * grant the peer no longer maps and keeps the attachment, its mapping and
 * the dma-buf reference while any grant is still mapped, retrying in the
 * background (100 ms, doubling up to 10 s) until the peer lets go.
 * Closing the device file releases all its imports the same way.
 *
 * Errors: ``ENOENT`` when this file has no import with that number;
 * ``EFAULT`` when the argument cannot be read.
 */
struct ioctl_gntdev_dmabuf_imp_release {
	__u32 fd;
	__u32 reserved;
};

#define IOCTL_GNTDEV_DMABUF_IMP_RELEASE \
	_IOC(_IOC_NONE, 'G', 12, sizeof(struct ioctl_gntdev_dmabuf_imp_release))

#endif /* IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS */

#define GDMABUF_IOCTL_BASE		'G'

/**
 * DOC: Capabilities
 *
 * ``GDMABUF_ABI_VERSION`` (1) is the version of the ``GDMABUF_IOCTL_*``
 * interface this header describes.  &struct gdmabuf_info.caps has:
 *
 * ``GDMABUF_CAP_EXPORT`` (0x1)
 *	the legacy export calls (EXP_FROM_REFS, EXP_WAIT_RELEASED) work.
 * ``GDMABUF_CAP_EXPORT_CPU`` (0x2)
 *	exports can be mmap()ed, vmapped and bracketed by
 *	``DMA_BUF_IOCTL_SYNC``.
 * ``GDMABUF_CAP_RELEASE_POLL`` (0x4)
 *	``GDMABUF_IOCTL_EXP_ID``, ``GDMABUF_IOCTL_EXP_RELEASED`` and poll()
 *	work.
 * ``GDMABUF_CAP_IMPORT`` (0x8)
 *	the import calls (legacy and ``GDMABUF_IOCTL_IMP_*``) work.
 * ``GDMABUF_CAP_DMA_ALLOC`` (0x10)
 *	EXP_FROM_REFS honours ``GNTDEV_DMA_FLAG_WC`` and
 *	``GNTDEV_DMA_FLAG_COHERENT`` (never on PV domains).
 */
#define GDMABUF_ABI_VERSION		1
#define GDMABUF_CAP_EXPORT		0x1U
#define GDMABUF_CAP_EXPORT_CPU		0x2U
#define GDMABUF_CAP_RELEASE_POLL	0x4U
#define GDMABUF_CAP_IMPORT		0x8U
#define GDMABUF_CAP_DMA_ALLOC		0x10U

/**
 * struct gdmabuf_info - GDMABUF_IOCTL_GET_INFO: what the loaded module
 *	supports
 * @abi_version: out, GDMABUF_ABI_VERSION of the running module.
 * @caps: out, GDMABUF_CAP_* bits.
 * @max_pages_per_call: out, the per-call page limit (module parameter).
 * @max_pages_per_file: out, the limit for one open file (0: none).
 * @max_pages_per_domain: out, the limit for one remote domain (0: none).
 * @pad: must be zero on input.
 * @module_version: out, the module's version string, NUL-terminated.
 *
 * The limits are the module parameters' values at the time of the call.
 *
 * Errors: ``EINVAL`` for a non-zero @pad; ``EFAULT`` when the argument
 * cannot be read or written.
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
 * struct gdmabuf_exp_id - GDMABUF_IOCTL_EXP_ID: the id of an export
 * @fd: in, an open file descriptor of a dma-buf exported through this
 *	device file (the fd EXP_FROM_REFS returned, a dup of it, or one
 *	received over a socket).
 * @flags: in, must be zero.
 * @id: out, the export's id: non-zero, never reused while the module is
 *	loaded.
 *
 * Errors:
 *
 * ``EINVAL``
 *	@flags is not zero, or @fd is not a dma-buf or is another
 *	exporter's.
 * ``EBADF``
 *	@fd is not an open file descriptor.
 * ``ENOENT``
 *	the dma-buf was exported through another device file, or through
 *	this one before it was closed and opened again.
 * ``EFAULT``
 *	the argument cannot be read or written.
 */
struct gdmabuf_exp_id {
	__u32 fd;
	__u32 flags;
	__u64 id;
};

#define GDMABUF_IOCTL_EXP_ID \
	_IOWR(GDMABUF_IOCTL_BASE, 0x41, struct gdmabuf_exp_id)

/**
 * struct gdmabuf_exp_released - GDMABUF_IOCTL_EXP_RELEASED: collect the ids
 *	of released exports
 * @ids_ptr: in, user pointer to an array of @max __u64, filled with the
 *	ids of released exports, oldest first.
 * @max: in, capacity of the array; 0 only checks the arguments.
 * @count: out, number of ids written.
 * @flags: in, must be zero.
 * @pad: in, must be zero.
 *
 * GDMABUF_IOCTL_EXP_RELEASED reports each release of an export made
 * through this open file once, oldest first, and never blocks: with
 * nothing queued @count is 0.  poll() on the device signals POLLIN while a
 * report is queued.  A release is reported only after the grants have
 * been unmapped, so the granter may reuse them.  Closing the device file
 * drops its queued reports.
 *
 * Errors: ``EINVAL`` for non-zero @flags or @pad; ``EFAULT`` when the
 * argument cannot be read, or not even the first id could be written.
 * Ids not written stay queued: if a later chunk fails, the call returns
 * the ids written so far.
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

/* Grant the pages read-only (struct gdmabuf_imp_to_refs.flags). */
#define GDMABUF_IMP_READONLY		0x1U

/**
 * struct gdmabuf_imp_to_refs - GDMABUF_IOCTL_IMP_TO_REFS: grant a dma-buf
 *	whose data may start at an offset in its first page
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
 *
 * Grants the pages that cover [@offset, @offset + @size).  With @count 0
 * nothing is granted: the call only measures the buffer, so that a caller
 * can size its array.
 *
 * Errors: those of IOCTL_GNTDEV_DMABUF_IMP_TO_REFS, and ``EINVAL`` for
 * unknown @flags, a non-zero @pad, or a @count below the pages the buffer
 * needs.
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
 * struct gdmabuf_imp_release - GDMABUF_IOCTL_IMP_RELEASE: end an import
 *	made by GDMABUF_IOCTL_IMP_TO_REFS
 * @id: in, the import's id.
 * @flags: in, must be zero.
 * @pad: in, must be zero.
 *
 * Releases the import with the semantics of the legacy release.
 *
 * Errors: ``EINVAL`` for non-zero @flags or @pad; ``ENOENT`` when this
 * file has no import with that id; ``EFAULT``.
 */
struct gdmabuf_imp_release {
	__u64 id;
	__u32 flags;
	__u32 pad;
};

#define GDMABUF_IOCTL_IMP_RELEASE \
	_IOW(GDMABUF_IOCTL_BASE, 0x44, struct gdmabuf_imp_release)

#endif /* _UAPI_XEN_GNTDEV_DMABUF_H */
