// SPDX-License-Identifier: MIT
/*
 * fb-share: the core of a Xen display backend with zero copy.
 *
 * A guest (xen-drm-front, the PV display protocol) grants the pages of a
 * framebuffer and sends their references.  The backend exports them as a
 * dma-buf, gives the dma-buf to a DRM driver (PRIME; a real backend then
 * calls drmModeAddFB2 and flips to it), and learns from its event loop,
 * without a blocked thread, when every user let go, so that it can tell
 * the guest the buffer is free.
 *
 *   fb-share DRM-DEVICE DOMID REF...
 *
 * Build: cc fb-share.c $(pkg-config --cflags --libs gntdmabuf)
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <gntdmabuf.h>

/* From <drm/drm.h>, so that the example needs no libdrm headers. */
struct prime_handle { uint32_t handle, flags; int32_t fd; };
struct gem_close { uint32_t handle, pad; };
#define PRIME_FD_TO_HANDLE	_IOWR('d', 0x2e, struct prime_handle)
#define GEM_CLOSE		_IOW('d', 0x09, struct gem_close)

static int fail(const char *what, int err)
{
	fprintf(stderr, "fb-share: %s: %s\n", what, gntdmabuf_strerror(err));
	return 1;
}

int main(int argc, char **argv)
{
	struct prime_handle prime = { 0 };
	struct gem_close gclose = { 0 };
	struct gntdmabuf *h;
	uint32_t domid, count, *refs;
	uint64_t id, released;
	struct pollfd pfd;
	int card, buf, ret;

	if (argc < 4) {
		fprintf(stderr, "usage: fb-share DRM-DEVICE DOMID REF...\n");
		return 2;
	}
	domid = strtoul(argv[2], NULL, 0);
	count = argc - 3;
	refs = calloc(count, sizeof(*refs));
	if (!refs)
		return 1;
	for (uint32_t i = 0; i < count; i++)
		refs[i] = strtoul(argv[3 + i], NULL, 0);

	ret = gntdmabuf_open(&h, 0);
	if (ret)
		return fail("open", ret);

	/* 1. The guest's pages become a dma-buf: no copy, same memory. */
	ret = gntdmabuf_export(h, domid, refs, count, 0, &buf);
	if (ret)
		return fail("export", ret);
	ret = gntdmabuf_export_id(h, buf, &id);
	if (ret)
		return fail("export id", ret);
	printf("guest framebuffer of %u pages is dma-buf %d (id %llu)\n", count, buf,
	       (unsigned long long)id);

	/* 2. The display driver imports it (then AddFB2 + page flip). */
	card = open(argv[1], O_RDWR | O_CLOEXEC);
	if (card < 0) {
		perror("fb-share: open DRM device");
		return 1;
	}
	prime.fd = buf;
	if (ioctl(card, PRIME_FD_TO_HANDLE, &prime)) {
		perror("fb-share: PRIME import");
		return 1;
	}
	printf("DRM handle %u scans out the guest's memory\n", prime.handle);

	/* 3. Done with it: drop our fd and the driver's handle... */
	close(buf);
	gclose.handle = prime.handle;
	ioctl(card, GEM_CLOSE, &gclose);

	/* 4. ...and let the event loop learn when the last user let go. */
	pfd.fd = gntdmabuf_fd(h);
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 5000) != 1)
		return fail("waiting for the release", -ETIMEDOUT);
	ret = gntdmabuf_released(h, &released, 1);
	if (ret != 1 || released != id)
		return fail("collecting the release", ret < 0 ? ret : -EIO);
	printf("buffer %llu released: the guest may reuse its pages\n",
	       (unsigned long long)released);

	close(card);
	gntdmabuf_close(h);
	free(refs);
	return 0;
}
