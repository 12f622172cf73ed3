/* SPDX-License-Identifier: MIT */
/*
 * libgntdmabuf: share memory between Xen domains as dma-bufs.
 *
 * A small C API over the gntdev-dmabuf uAPI.  It talks to the
 * xen-gntdev-dmabuf module (/dev/xen/gntdev-dmabuf) or, failing that, to a
 * stock /dev/xen/gntdev whose kernel was built with the upstream dma-buf
 * support (probed, never assumed).
 *
 * Conventions, as in liburing: every function that can fail returns 0 (or
 * a non-negative count) on success and a negative errno value on failure,
 * and never touches errno.  File descriptors the library creates are
 * close-on-exec.  A handle is not thread-safe; use one per thread or lock
 * around it.
 *
 * Buffers are named by 64-bit ids that are never reused (the module
 * backend).  The older calls that name a buffer by a file descriptor
 * number are kept for compatibility with the upstream interface and are
 * grouped at the end of this header as the legacy family.
 *
 * ABI: symbols are versioned (GNTDMABUF_0.1).  This header does not need
 * the uAPI header <gntdev-dmabuf.h>; the GNTDMABUF_* constants that mirror
 * uAPI values are equal to them, which the library checks when it is
 * built.  struct gntdmabuf_info carries reserved space, so that later
 * versions add fields to it without changing its size.
 */
#ifndef GNTDMABUF_H
#define GNTDMABUF_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** struct gntdmabuf - an open handle (opaque). */
struct gntdmabuf;

/**
 * enum gntdmabuf_backend - which kernel support a handle uses
 * @GNTDMABUF_BACKEND_MODULE: /dev/xen/gntdev-dmabuf, every feature.
 * @GNTDMABUF_BACKEND_GNTDEV: an upstream /dev/xen/gntdev with
 *	CONFIG_XEN_GNTDEV_DMABUF: legacy export and import only.
 */
enum gntdmabuf_backend {
	GNTDMABUF_BACKEND_MODULE = 1,
	GNTDMABUF_BACKEND_GNTDEV = 2,
};

/* gntdmabuf_open() flags (the library's own). */
/** Only use /dev/xen/gntdev-dmabuf. */
#define GNTDMABUF_OPEN_MODULE_ONLY	0x1u
/** Only use an upstream-enabled /dev/xen/gntdev. */
#define GNTDMABUF_OPEN_GNTDEV_ONLY	0x2u

/*
 * Capability bits in struct gntdmabuf_info.caps: the uAPI's GDMABUF_CAP_*,
 * same values.  Bits this header does not name yet are passed through.
 */
#define GNTDMABUF_CAP_EXPORT		0x1u	/* GDMABUF_CAP_EXPORT */
#define GNTDMABUF_CAP_EXPORT_CPU	0x2u	/* GDMABUF_CAP_EXPORT_CPU */
#define GNTDMABUF_CAP_RELEASE_POLL	0x4u	/* GDMABUF_CAP_RELEASE_POLL */
#define GNTDMABUF_CAP_IMPORT		0x8u	/* GDMABUF_CAP_IMPORT */
#define GNTDMABUF_CAP_DMA_ALLOC		0x10u	/* GDMABUF_CAP_DMA_ALLOC */

/* gntdmabuf_export() flags: the upstream GNTDEV_DMA_FLAG_*, same values. */
#define GNTDMABUF_EXPORT_WC		0x1u	/* GNTDEV_DMA_FLAG_WC */
#define GNTDMABUF_EXPORT_COHERENT	0x2u	/* GNTDEV_DMA_FLAG_COHERENT */

/* gntdmabuf_import_offset() flags: the uAPI's GDMABUF_IMP_*, same values. */
#define GNTDMABUF_IMPORT_READONLY	0x1u	/* GDMABUF_IMP_READONLY */

/**
 * struct gntdmabuf_info - what the kernel support offers
 * @backend: an &enum gntdmabuf_backend.
 * @abi_version: the module's ABI version, 0 for the gntdev backend.
 * @caps: GNTDMABUF_CAP_* bits.
 * @max_pages_per_call: pages one export or import may cover, 0 if unknown.
 * @max_pages_per_file: pages one handle may hold, 0 for no limit or unknown.
 * @max_pages_per_domain: pages per remote domain, 0 for no limit or unknown.
 * @module_version: the module's version, "" for the gntdev backend.
 * @device: the device node in use.
 * @filled: how many bytes, from the start of the structure, the library
 *	that filled it in knows about; test a field with
 *	GNTDMABUF_INFO_HAS().
 * @reserved32: zeroed by the library; room for a future field.
 * @reserved: zeroed by the library; room for future fields.
 *
 * Filled in by gntdmabuf_get_info(), which zeroes the whole structure
 * first; the caller sets nothing.
 *
 * The structure has a fixed size: a later version of the library adds
 * fields by taking them out of @reserved32 and @reserved, and never moves
 * or resizes a field.  A program built with an older header keeps working,
 * as the size is the same; a program built with a newer header that runs
 * on an older library finds the new fields zero, and @filled below their
 * end.  New fields are defined so that 0 means "not known".
 *
 * Reserved space rather than an opaque structure with getters: the fields
 * are plain values that callers read directly, and a fixed size lets a
 * caller keep the structure on its stack.
 */
struct gntdmabuf_info {
	int backend;
	uint32_t abi_version;
	uint32_t caps;
	uint32_t max_pages_per_call;
	uint32_t max_pages_per_file;
	uint32_t max_pages_per_domain;
	char module_version[32];
	char device[64];
	uint32_t filled;
	uint32_t reserved32;
	uint64_t reserved[15];
};

/**
 * GNTDMABUF_INFO_HAS() - whether the library filled in a field
 * @info: a &struct gntdmabuf_info filled by gntdmabuf_get_info()
 * @field: a member name, e.g. max_pages_per_call
 *
 * True for every field this header declares when the library is at least
 * as new as the header; false for fields added after the library was
 * built.
 */
#define GNTDMABUF_INFO_HAS(info, field)					\
	((info)->filled >= offsetof(struct gntdmabuf_info, field) +	\
			   sizeof((info)->field))

/**
 * struct gntdmabuf_import_info - the result of gntdmabuf_import_offset()
 * @id: the import's id, for gntdmabuf_import_release_id(); 0 if only
 *	measured.
 * @count: pages that cover the data (refs written, or needed).
 * @offset: where the data starts in the first page.
 * @size: the dma-buf's size in bytes.
 */
struct gntdmabuf_import_info {
	uint64_t id;
	uint32_t count;
	uint32_t offset;
	uint64_t size;
};

/* ---- Handles ---------------------------------------------------------- */

/**
 * gntdmabuf_open() - open the kernel support
 * @out: receives the new handle
 * @flags: 0 (module first, then an upstream gntdev) or one of
 *	GNTDMABUF_OPEN_MODULE_ONLY / GNTDMABUF_OPEN_GNTDEV_ONLY
 *
 * Return: 0; -EINVAL for unknown or conflicting flags; -ENODEV when no
 * device node exists (module not loaded); -EOPNOTSUPP when only a gntdev
 * without dma-buf support exists; -EACCES when the node may not be
 * opened (root only by default); -ENOMEM.
 */
int gntdmabuf_open(struct gntdmabuf **out, unsigned int flags);

/**
 * gntdmabuf_close() - close a handle
 * @h: the handle, or NULL
 *
 * Exports stay valid; imports made through @h are released.
 */
void gntdmabuf_close(struct gntdmabuf *h);

/**
 * gntdmabuf_fd() - the device file descriptor, for poll()/epoll
 * @h: the handle
 *
 * It becomes readable (POLLIN) when a release can be collected with
 * gntdmabuf_released() (module backend only).
 *
 * Return: the fd, owned by @h.
 */
int gntdmabuf_fd(const struct gntdmabuf *h);

/**
 * gntdmabuf_get_info() - describe the kernel support in use
 * @h: the handle
 * @info: filled in, reserved space zeroed (see &struct gntdmabuf_info)
 *
 * Return: 0; -errno from the GET_INFO ioctl.
 */
int gntdmabuf_get_info(struct gntdmabuf *h, struct gntdmabuf_info *info);

/* ---- Exports ---------------------------------------------------------- */

/**
 * gntdmabuf_export() - turn another domain's grants into a dma-buf
 * @h: the handle
 * @domid: the granting domain
 * @refs: @count grant references
 * @count: number of pages
 * @flags: 0, GNTDMABUF_EXPORT_WC or GNTDMABUF_EXPORT_COHERENT
 * @dmabuf_fd: receives the new dma-buf fd (close-on-exec)
 *
 * On the module backend, name the export with gntdmabuf_export_id() while
 * @dmabuf_fd is still open: release reports (gntdmabuf_released()) use
 * that id.
 *
 * Return: 0; -EINVAL (bad count, flags, domid or reference); -EOPNOTSUPP
 * (DMA flags on PV); -ENOMEM; -EMFILE; other -errno from the kernel.
 */
int gntdmabuf_export(struct gntdmabuf *h, uint32_t domid, const uint32_t *refs,
		     uint32_t count, uint32_t flags, int *dmabuf_fd);

/**
 * gntdmabuf_export_id() - the 64-bit id of an export made through @h
 * @h: the handle (module backend)
 * @dmabuf_fd: an open fd of the exported dma-buf (the buffer is found
 *	through the fd, not by its number)
 * @id: receives the id: non-zero, never reused while the module is loaded
 *
 * Return: 0; -ENOENT (exported through another handle); -EINVAL (not one
 * of our exports); -EBADF; -EOPNOTSUPP on the gntdev backend.
 */
int gntdmabuf_export_id(struct gntdmabuf *h, int dmabuf_fd, uint64_t *id);

/**
 * gntdmabuf_released() - collect released exports without blocking
 * @h: the handle (module backend)
 * @ids: receives up to @max ids, oldest release first
 * @max: capacity of @ids
 *
 * Each release of an export made through @h is reported once, after its
 * grants were unmapped.  Poll gntdmabuf_fd() for POLLIN to know when to
 * call; a poll() timeout gives a bounded wait.
 *
 * Return: the number of ids written (0 if none); -EOPNOTSUPP on the
 * gntdev backend; -EFAULT.
 */
int gntdmabuf_released(struct gntdmabuf *h, uint64_t *ids, uint32_t max);

/* ---- Imports ---------------------------------------------------------- */

/**
 * gntdmabuf_import_offset() - grant a dma-buf whose data may start inside
 *	its first page
 * @h: the handle (module backend)
 * @dmabuf_fd: the dma-buf
 * @domid: the domain to grant to
 * @flags: 0 or GNTDMABUF_IMPORT_READONLY
 * @refs: receives one reference per page; NULL with @max 0 only measures
 * @max: capacity of @refs
 * @info: receives id, count, offset and size
 *
 * Return: 0; -EINVAL (@max non-zero but below the pages needed, unknown
 * flags, bad domid); -EXDEV (foreign pages); -EOPNOTSUPP (no struct
 * pages, or the gntdev backend); -ENOSPC (grant table full); other
 * -errno.
 */
int gntdmabuf_import_offset(struct gntdmabuf *h, int dmabuf_fd, uint32_t domid,
			    uint32_t flags, uint32_t *refs, uint32_t max,
			    struct gntdmabuf_import_info *info);

/**
 * gntdmabuf_import_release_id() - end an import by its id
 * @h: the handle
 * @id: the id gntdmabuf_import_offset() returned
 *
 * Never blocks; grants the peer still maps are ended in the background.
 *
 * Return: 0; -ENOENT; -EOPNOTSUPP on the gntdev backend.
 */
int gntdmabuf_import_release_id(struct gntdmabuf *h, uint64_t id);

/* ---- Errors ----------------------------------------------------------- */

/**
 * gntdmabuf_strerror() - a message that says what to do about an error
 * @err: a negative errno value returned by this library
 *
 * Return: a static string, e.g. for -ENODEV (from gntdmabuf_open()):
 * "no kernel support: module not loaded (run modprobe xen-gntdev-dmabuf)".
 */
const char *gntdmabuf_strerror(int err);

/* ---- Legacy family: buffers named by fd number ------------------------- */

/*
 * These calls mirror the upstream gntdev interface, which names an export
 * by the number of the fd gntdmabuf_export() returned and an import by the
 * number of the fd given to gntdmabuf_import().  A number is not an
 * identity: once that fd is closed (the usual case once the buffer has
 * been handed on) the process may get the same number for another buffer,
 * and a call then acts on whichever buffer holds the number now, or finds
 * none (-ENOENT).  The kernel looks the number up in its own records, not
 * in the process's fd table, so it cannot tell.
 *
 * They stay supported, and they are the only calls the gntdev backend
 * (GNTDMABUF_BACKEND_GNTDEV) offers.  With the module, prefer the
 * id-based calls, whose 64-bit ids are never reused:
 *
 * - instead of gntdmabuf_wait_released(): gntdmabuf_export_id() right
 *   after gntdmabuf_export(), then gntdmabuf_released() when
 *   gntdmabuf_fd() polls readable;
 * - instead of gntdmabuf_import() and gntdmabuf_import_release():
 *   gntdmabuf_import_offset() and gntdmabuf_import_release_id().
 */

/**
 * gntdmabuf_wait_released() - block until an export is released (legacy)
 * @h: the handle the export was made through
 * @dmabuf_fd: the fd number gntdmabuf_export() returned (it may have
 *	been closed since: the kernel names the export by that number, the
 *	newest export with it when it was reused)
 * @timeout_ms: how long to wait; 0 only checks
 *
 * Replaced by gntdmabuf_export_id() and gntdmabuf_released().
 *
 * Return: 0 once released; -ETIMEDOUT; -ENOENT (unknown or already
 * released); -EINTR.
 */
int gntdmabuf_wait_released(struct gntdmabuf *h, int dmabuf_fd, uint32_t timeout_ms);

/**
 * gntdmabuf_import() - grant a dma-buf's pages to a domain (legacy)
 * @h: the handle
 * @dmabuf_fd: the dma-buf, exactly @count pages, data at offset 0; the
 *	import is named by this number
 * @domid: the domain to grant to (read-write)
 * @refs: receives @count grant references
 * @count: number of pages
 *
 * Replaced by gntdmabuf_import_offset(), which returns an id.
 *
 * Return: 0; -EINVAL (size mismatch, data offset, bad domid); -EXDEV
 * (foreign pages); -EOPNOTSUPP (no struct pages); -ENOSPC (grant table
 * full); other -errno.
 */
int gntdmabuf_import(struct gntdmabuf *h, int dmabuf_fd, uint32_t domid, uint32_t *refs,
		     uint32_t count);

/**
 * gntdmabuf_import_release() - end an import made by gntdmabuf_import()
 *	(legacy)
 * @h: the handle
 * @dmabuf_fd: the fd number given to gntdmabuf_import()
 *
 * Never blocks; grants the peer still maps are ended in the background.
 * Replaced by gntdmabuf_import_release_id().
 *
 * Return: 0; -ENOENT.
 */
int gntdmabuf_import_release(struct gntdmabuf *h, int dmabuf_fd);

#ifdef __cplusplus
}
#endif

#endif /* GNTDMABUF_H */
