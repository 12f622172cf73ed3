// SPDX-License-Identifier: MIT
/*
 * libgntdmabuf-compat: programs built on libxengnttab's dma-buf calls,
 * unchanged, on a kernel without CONFIG_XEN_GNTDEV_DMABUF.
 *
 * libxengnttab sends xengnttab_dmabuf_exp_from_refs(),
 * xengnttab_dmabuf_exp_wait_released(), xengnttab_dmabuf_imp_to_refs() and
 * xengnttab_dmabuf_imp_release() to the handle's /dev/xen/gntdev, which
 * answers ENOTTY on Debian's kernels.  Preloaded (LD_PRELOAD, or the
 * gntdmabuf-compat wrapper), this library takes exactly those four calls
 * and sends the same ioctls to /dev/xen/gntdev-dmabuf, which keeps the
 * upstream ABI.  Everything else stays with libxengnttab.
 *
 * A program that closes every fd it did not open itself (closefrom())
 * takes our files with them: its next dma-buf call fails with EBADF.
 *
 * Without our device (the module not loaded) each call goes on to
 * libxengnttab, so the library is harmless on a kernel that has upstream's
 * implementation.
 *
 * Each gntdev handle gets a file of ours of its own, opened at its first
 * dma-buf call and closed with the handle (xengnttab_close() passes
 * through here too): WAIT_RELEASED looks the fd number up among the
 * exports of the file it is called on, as upstream does per gntdev file.
 *
 * GNTDEV_DMA_FLAG_WC and _COHERENT ask for a DMA-backed export, which the
 * module cannot make on a PV dom0 (EOPNOTSUPP: contiguous pseudo-physical
 * pages mean nothing to a device there).  The best-known caller asks for
 * WC on every buffer, though most importers only need the granter's pages.
 * So the export is retried without the flags, once said on stderr; the
 * importers that need contiguous memory still refuse such a buffer when
 * they import it.  GNTDMABUF_COMPAT_DMA_FLAGS=keep passes the EOPNOTSUPP on
 * instead.  See Documentation/comparison.rst.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "gntdev-dmabuf.h"

/* libxengnttab's header defines the flags too, with the same values. */
enum { COMPAT_FLAG_WC = GNTDEV_DMA_FLAG_WC, COMPAT_FLAG_COHERENT = GNTDEV_DMA_FLAG_COHERENT };
#undef GNTDEV_DMA_FLAG_WC
#undef GNTDEV_DMA_FLAG_COHERENT
#include <xengnttab.h>
_Static_assert(GNTDEV_DMA_FLAG_WC == COMPAT_FLAG_WC, "libxengnttab's WC flag differs");
_Static_assert(GNTDEV_DMA_FLAG_COHERENT == COMPAT_FLAG_COHERENT,
	       "libxengnttab's COHERENT flag differs");

#define COMPAT_EXPORT __attribute__((visibility("default")))

/* One gntdev handle's file of ours. */
struct compat_handle {
	xengnttab_handle *xgt;
	int fd;
	struct compat_handle *next;
};

/* Protects compat_handles. */
static pthread_mutex_t compat_lock = PTHREAD_MUTEX_INITIALIZER;
static struct compat_handle *compat_handles;

/* Our file for @xgt, opened at its first use; -1 with errno when none opens. */
static int compat_fd(xengnttab_handle *xgt)
{
	struct compat_handle *h;
	int fd = -1;

	pthread_mutex_lock(&compat_lock);
	for (h = compat_handles; h; h = h->next) {
		if (h->xgt == xgt) {
			fd = h->fd;
			goto out_unlock;
		}
	}
	h = malloc(sizeof(*h));
	if (!h) {
		errno = ENOMEM;
		goto out_unlock;
	}
	h->fd = open("/dev/" GDMABUF_DEVICE_NAME, O_RDWR | O_CLOEXEC);
	if (h->fd < 0) {
		free(h);
		goto out_unlock;
	}
	h->xgt = xgt;
	h->next = compat_handles;
	compat_handles = h;
	fd = h->fd;
out_unlock:
	pthread_mutex_unlock(&compat_lock);
	return fd;
}

/* libxengnttab's own @name, of the type of ours, or NULL. */
#define compat_real(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

/* Calls libxengnttab's own @name with the arguments that follow, or fails with ENOSYS. */
#define compat_call_real(name, ...) ({					\
	__typeof__(&name) real = compat_real(name);			\
	real ? real(__VA_ARGS__) : (errno = ENOSYS, -1);		\
})

/* Whether a call goes on to libxengnttab: our device is not there. */
static bool compat_absent(int fd)
{
	return fd < 0 && (errno == ENOENT || errno == ENXIO || errno == ENODEV);
}

/* A child of fork() must not inherit compat_lock held by another thread. */
static void compat_fork_prepare(void)
{
	pthread_mutex_lock(&compat_lock);
}

static void compat_fork_done(void)
{
	pthread_mutex_unlock(&compat_lock);
}

__attribute__((constructor)) static void compat_init(void)
{
	pthread_atfork(compat_fork_prepare, compat_fork_done, compat_fork_done);
}

COMPAT_EXPORT int xengnttab_close(xengnttab_handle *xgt)
{
	struct compat_handle **p, *h;

	pthread_mutex_lock(&compat_lock);
	for (p = &compat_handles; *p; p = &(*p)->next) {
		if ((*p)->xgt == xgt) {
			h = *p;
			*p = h->next;
			close(h->fd);
			free(h);
			break;
		}
	}
	pthread_mutex_unlock(&compat_lock);
	return compat_call_real(xengnttab_close, xgt);
}

/*
 * A zeroed ioctl argument of @size bytes with room for @count refs (its
 * refs[1] included), or NULL with errno.
 */
static void *compat_op(size_t size, uint32_t count)
{
	void *op;

	if (!count) {
		errno = EINVAL;
		return NULL;
	}
	op = calloc(1, size + (count - 1) * sizeof(uint32_t));
	if (!op)
		errno = ENOMEM;
	return op;
}

static bool compat_keep_dma_flags(void)
{
	const char *v = getenv("GNTDMABUF_COMPAT_DMA_FLAGS");

	return v && !strcmp(v, "keep");
}

COMPAT_EXPORT int xengnttab_dmabuf_exp_from_refs(xengnttab_handle *xgt, uint32_t domid,
						 uint32_t flags, uint32_t count,
						 const uint32_t *refs, uint32_t *dmabuf_fd)
{
	static bool said;
	struct ioctl_gntdev_dmabuf_exp_from_refs *op;
	int fd = compat_fd(xgt), ret;

	if (compat_absent(fd))
		return compat_call_real(xengnttab_dmabuf_exp_from_refs, xgt, domid, flags, count,
					refs, dmabuf_fd);
	if (fd < 0)
		return -1;
	op = compat_op(sizeof(*op), count);
	if (!op)
		return -1;
	op->flags = flags;
	op->count = count;
	op->domid = domid;
	memcpy(op->refs, refs, count * sizeof(op->refs[0]));
	ret = ioctl(fd, IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS, op);
	if (ret && errno == EOPNOTSUPP &&
	    (flags & (GNTDEV_DMA_FLAG_WC | GNTDEV_DMA_FLAG_COHERENT)) &&
	    !compat_keep_dma_flags()) {
		if (!__atomic_exchange_n(&said, true, __ATOMIC_RELAXED))
			fprintf(stderr, "gntdmabuf-compat: this dom0 cannot back an export with DMA memory (a PV domain): GNTDEV_DMA_FLAG_WC/COHERENT dropped, exports are the granter's pages\n");
		op->flags = flags & ~(GNTDEV_DMA_FLAG_WC | GNTDEV_DMA_FLAG_COHERENT);
		ret = ioctl(fd, IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS, op);
	}
	if (!ret)
		*dmabuf_fd = op->fd;
	free(op);
	return ret;
}

COMPAT_EXPORT int xengnttab_dmabuf_exp_wait_released(xengnttab_handle *xgt, uint32_t fd,
						     uint32_t wait_to_ms)
{
	struct ioctl_gntdev_dmabuf_exp_wait_released op = {
		.fd = fd,
		.wait_to_ms = wait_to_ms,
	};
	int dev = compat_fd(xgt);

	if (compat_absent(dev))
		return compat_call_real(xengnttab_dmabuf_exp_wait_released, xgt, fd, wait_to_ms);
	if (dev < 0)
		return -1;
	return ioctl(dev, IOCTL_GNTDEV_DMABUF_EXP_WAIT_RELEASED, &op);
}

COMPAT_EXPORT int xengnttab_dmabuf_imp_to_refs(xengnttab_handle *xgt, uint32_t domid,
					       uint32_t fd, uint32_t count, uint32_t *refs)
{
	struct ioctl_gntdev_dmabuf_imp_to_refs *op;
	int dev = compat_fd(xgt), ret;

	if (compat_absent(dev))
		return compat_call_real(xengnttab_dmabuf_imp_to_refs, xgt, domid, fd, count, refs);
	if (dev < 0)
		return -1;
	op = compat_op(sizeof(*op), count);
	if (!op)
		return -1;
	op->fd = fd;
	op->count = count;
	op->domid = domid;
	ret = ioctl(dev, IOCTL_GNTDEV_DMABUF_IMP_TO_REFS, op);
	if (!ret)
		memcpy(refs, op->refs, count * sizeof(op->refs[0]));
	free(op);
	return ret;
}

COMPAT_EXPORT int xengnttab_dmabuf_imp_release(xengnttab_handle *xgt, uint32_t fd)
{
	struct ioctl_gntdev_dmabuf_imp_release op = { .fd = fd };
	int dev = compat_fd(xgt);

	if (compat_absent(dev))
		return compat_call_real(xengnttab_dmabuf_imp_release, xgt, fd);
	if (dev < 0)
		return -1;
	return ioctl(dev, IOCTL_GNTDEV_DMABUF_IMP_RELEASE, &op);
}
