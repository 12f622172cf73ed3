// SPDX-License-Identifier: MIT
/*
 * libgntdmabuf: the implementation.  See gntdmabuf.h for the API and its
 * conventions (negative errno returns, errno untouched, close-on-exec).
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "gntdev-dmabuf.h"
#include "gntdmabuf.h"

#define GNTDMABUF_API __attribute__((visibility("default")))

#define GNTDMABUF_MODULE_NODE	"/dev/" GDMABUF_DEVICE_NAME
#define GNTDMABUF_GNTDEV_NODE	"/dev/xen/gntdev"

/*
 * gntdmabuf.h does not include the uAPI header, so that users need not
 * have it, and repeats the values it exposes; the library passes them to
 * the kernel and back unchanged.  Every copy is checked here.
 */
#define GD_SAME(lib, uapi) _Static_assert((lib) == (uapi), #lib " differs from " #uapi)

GD_SAME(GNTDMABUF_CAP_EXPORT, GDMABUF_CAP_EXPORT);
GD_SAME(GNTDMABUF_CAP_EXPORT_CPU, GDMABUF_CAP_EXPORT_CPU);
GD_SAME(GNTDMABUF_CAP_RELEASE_POLL, GDMABUF_CAP_RELEASE_POLL);
GD_SAME(GNTDMABUF_CAP_IMPORT, GDMABUF_CAP_IMPORT);
GD_SAME(GNTDMABUF_CAP_DMA_ALLOC, GDMABUF_CAP_DMA_ALLOC);
GD_SAME(GNTDMABUF_EXPORT_WC, GNTDEV_DMA_FLAG_WC);
GD_SAME(GNTDMABUF_EXPORT_COHERENT, GNTDEV_DMA_FLAG_COHERENT);
GD_SAME(GNTDMABUF_IMPORT_READONLY, GDMABUF_IMP_READONLY);
GD_SAME(sizeof(((struct gntdmabuf_info *)0)->module_version),
	sizeof(((struct gdmabuf_info *)0)->module_version));

/*
 * struct gntdmabuf_info is part of the ABI: fields are only ever taken out
 * of the reserved space, which keeps the size and every offset.
 */
_Static_assert(sizeof(struct gntdmabuf_info) == 248, "struct gntdmabuf_info changed size");
_Static_assert(offsetof(struct gntdmabuf_info, filled) == 120,
	       "a field of struct gntdmabuf_info moved");
_Static_assert(offsetof(struct gntdmabuf_info, reserved) == 128,
	       "a field of struct gntdmabuf_info moved");

/* The bytes of struct gntdmabuf_info this version fills in. */
#define GD_INFO_FILLED	offsetof(struct gntdmabuf_info, reserved32)

struct gntdmabuf {
	int fd;
	int backend;
	char device[64];
};

/* ioctl() that returns -errno and leaves the caller's errno alone. */
static int gd_ioctl(int fd, unsigned long req, void *arg)
{
	int saved = errno, ret;

	ret = ioctl(fd, req, arg) ? -errno : 0;
	errno = saved;
	return ret;
}

static int gd_open_node(const char *path)
{
	int saved = errno, fd;

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		fd = errno == ENOENT ? -ENODEV : -errno;
	errno = saved;
	return fd;
}

/*
 * An upstream gntdev knows the dma-buf ioctls only with
 * CONFIG_XEN_GNTDEV_DMABUF: waiting on a buffer that does not exist then
 * answers ENOENT, while a gntdev without the feature answers ENOTTY.
 */
static int gd_probe_gntdev(int fd)
{
	struct ioctl_gntdev_dmabuf_exp_wait_released op = { .fd = (uint32_t)-1 };
	int ret = gd_ioctl(fd, IOCTL_GNTDEV_DMABUF_EXP_WAIT_RELEASED, &op);

	return ret == -ENOENT ? 0 : -EOPNOTSUPP;
}

GNTDMABUF_API int gntdmabuf_open(struct gntdmabuf **out, unsigned int flags)
{
	struct gntdmabuf *h;
	int fd = -ENODEV, ret;

	if (flags & ~(GNTDMABUF_OPEN_MODULE_ONLY | GNTDMABUF_OPEN_GNTDEV_ONLY) ||
	    flags == (GNTDMABUF_OPEN_MODULE_ONLY | GNTDMABUF_OPEN_GNTDEV_ONLY))
		return -EINVAL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;

	if (!(flags & GNTDMABUF_OPEN_GNTDEV_ONLY)) {
		fd = gd_open_node(GNTDMABUF_MODULE_NODE);
		if (fd >= 0) {
			h->backend = GNTDMABUF_BACKEND_MODULE;
			strcpy(h->device, GNTDMABUF_MODULE_NODE);
		}
	}
	if (fd < 0 && !(flags & GNTDMABUF_OPEN_MODULE_ONLY)) {
		/* The module's error wins unless the gntdev works. */
		int mod_err = fd;

		fd = gd_open_node(GNTDMABUF_GNTDEV_NODE);
		if (fd >= 0) {
			ret = gd_probe_gntdev(fd);
			if (ret) {
				close(fd);
				fd = mod_err == -ENODEV ? ret : mod_err;
			} else {
				h->backend = GNTDMABUF_BACKEND_GNTDEV;
				strcpy(h->device, GNTDMABUF_GNTDEV_NODE);
			}
		} else if (mod_err != -ENODEV) {
			fd = mod_err;
		}
	}
	if (fd < 0) {
		free(h);
		return fd;
	}
	h->fd = fd;
	*out = h;
	return 0;
}

GNTDMABUF_API void gntdmabuf_close(struct gntdmabuf *h)
{
	int saved = errno;

	if (!h)
		return;
	close(h->fd);
	free(h);
	errno = saved;
}

GNTDMABUF_API int gntdmabuf_fd(const struct gntdmabuf *h)
{
	return h->fd;
}

GNTDMABUF_API int gntdmabuf_get_info(struct gntdmabuf *h, struct gntdmabuf_info *info)
{
	struct gdmabuf_info gi;
	int ret;

	memset(info, 0, sizeof(*info));	/* reserved space included */
	info->filled = GD_INFO_FILLED;
	info->backend = h->backend;
	strcpy(info->device, h->device);
	if (h->backend == GNTDMABUF_BACKEND_GNTDEV) {
		info->caps = GNTDMABUF_CAP_EXPORT | GNTDMABUF_CAP_IMPORT;
		return 0;
	}
	memset(&gi, 0, sizeof(gi));
	ret = gd_ioctl(h->fd, GDMABUF_IOCTL_GET_INFO, &gi);
	if (ret)
		return ret;
	info->abi_version = gi.abi_version;
	info->caps = gi.caps;
	info->max_pages_per_call = gi.max_pages_per_call;
	info->max_pages_per_file = gi.max_pages_per_file;
	info->max_pages_per_domain = gi.max_pages_per_domain;
	memcpy(info->module_version, gi.module_version, sizeof(info->module_version));
	info->module_version[sizeof(info->module_version) - 1] = '\0';
	return 0;
}

GNTDMABUF_API int gntdmabuf_export(struct gntdmabuf *h, uint32_t domid, const uint32_t *refs,
				   uint32_t count, uint32_t flags, int *dmabuf_fd)
{
	struct ioctl_gntdev_dmabuf_exp_from_refs *op;
	int ret;

	if (!count)
		return -EINVAL;
	op = calloc(1, sizeof(*op) + (size_t)count * sizeof(uint32_t));
	if (!op)
		return -ENOMEM;
	op->flags = flags;
	op->count = count;
	op->domid = domid;
	memcpy(op->refs, refs, (size_t)count * sizeof(uint32_t));
	ret = gd_ioctl(h->fd, IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS, op);
	if (!ret)
		*dmabuf_fd = (int)op->fd;
	free(op);
	return ret;
}

GNTDMABUF_API int gntdmabuf_export_id(struct gntdmabuf *h, int dmabuf_fd, uint64_t *id)
{
	struct gdmabuf_exp_id op = { .fd = (uint32_t)dmabuf_fd };
	int ret;

	if (h->backend != GNTDMABUF_BACKEND_MODULE)
		return -EOPNOTSUPP;
	ret = gd_ioctl(h->fd, GDMABUF_IOCTL_EXP_ID, &op);
	if (!ret)
		*id = op.id;
	return ret;
}

GNTDMABUF_API int gntdmabuf_wait_released(struct gntdmabuf *h, int dmabuf_fd,
					  uint32_t timeout_ms)
{
	struct ioctl_gntdev_dmabuf_exp_wait_released op = {
		.fd = (uint32_t)dmabuf_fd, .wait_to_ms = timeout_ms,
	};

	return gd_ioctl(h->fd, IOCTL_GNTDEV_DMABUF_EXP_WAIT_RELEASED, &op);
}

GNTDMABUF_API int gntdmabuf_released(struct gntdmabuf *h, uint64_t *ids, uint32_t max)
{
	struct gdmabuf_exp_released op = { .ids_ptr = (uintptr_t)ids, .max = max };
	int ret;

	if (h->backend != GNTDMABUF_BACKEND_MODULE)
		return -EOPNOTSUPP;
	ret = gd_ioctl(h->fd, GDMABUF_IOCTL_EXP_RELEASED, &op);
	return ret ? ret : (int)op.count;
}

GNTDMABUF_API int gntdmabuf_import(struct gntdmabuf *h, int dmabuf_fd, uint32_t domid,
				   uint32_t *refs, uint32_t count)
{
	struct ioctl_gntdev_dmabuf_imp_to_refs *op;
	int ret;

	if (!count)
		return -EINVAL;
	op = calloc(1, sizeof(*op) + (size_t)count * sizeof(uint32_t));
	if (!op)
		return -ENOMEM;
	op->fd = (uint32_t)dmabuf_fd;
	op->count = count;
	op->domid = domid;
	ret = gd_ioctl(h->fd, IOCTL_GNTDEV_DMABUF_IMP_TO_REFS, op);
	if (!ret)
		memcpy(refs, op->refs, (size_t)count * sizeof(uint32_t));
	free(op);
	return ret;
}

GNTDMABUF_API int gntdmabuf_import_release(struct gntdmabuf *h, int dmabuf_fd)
{
	struct ioctl_gntdev_dmabuf_imp_release op = { .fd = (uint32_t)dmabuf_fd };

	return gd_ioctl(h->fd, IOCTL_GNTDEV_DMABUF_IMP_RELEASE, &op);
}

GNTDMABUF_API int gntdmabuf_import_offset(struct gntdmabuf *h, int dmabuf_fd, uint32_t domid,
					  uint32_t flags, uint32_t *refs, uint32_t max,
					  struct gntdmabuf_import_info *info)
{
	struct gdmabuf_imp_to_refs op = {
		.fd = (uint32_t)dmabuf_fd, .domid = domid, .flags = flags,
		.count = max, .refs_ptr = (uintptr_t)refs,
	};
	int ret;

	if (h->backend != GNTDMABUF_BACKEND_MODULE)
		return -EOPNOTSUPP;
	ret = gd_ioctl(h->fd, GDMABUF_IOCTL_IMP_TO_REFS, &op);
	if (ret)
		return ret;
	info->id = op.id;
	info->count = op.count;
	info->offset = op.offset;
	info->size = op.size;
	return 0;
}

GNTDMABUF_API int gntdmabuf_import_release_id(struct gntdmabuf *h, uint64_t id)
{
	struct gdmabuf_imp_release op = { .id = id };

	if (h->backend != GNTDMABUF_BACKEND_MODULE)
		return -EOPNOTSUPP;
	return gd_ioctl(h->fd, GDMABUF_IOCTL_IMP_RELEASE, &op);
}

GNTDMABUF_API const char *gntdmabuf_strerror(int err)
{
	switch (-err) {
	case 0:
		return "success";
	case ENODEV:
		return "no kernel support: module not loaded (run modprobe xen-gntdev-dmabuf)";
	case EOPNOTSUPP:
		return "not supported by the kernel support in use (see gntdmabuf info)";
	case EACCES:
	case EPERM:
		return "permission denied: the device is root-only by default";
	case ENOENT:
		return "no such buffer (unknown, already released, or made through another handle)";
	case EINVAL:
		return "invalid argument (count, flags, domain or grant reference)";
	case EXDEV:
		return "the pages belong to another domain and cannot be granted on";
	case ENOSPC:
		return "the grant table is full";
	case ETIMEDOUT:
		return "timed out";
	case ENOMEM:
		return "out of memory";
	case EAGAIN:
		return "temporary failure, try again";
	default:
		return "unexpected error (see the kernel log)";
	}
}
