// SPDX-License-Identifier: MIT
/*
 * gntdmabuf-displ: display buffers and framebuffers.  DBUF_CREATE reads the
 * frontend's grant directory and exports the buffer's pages once with
 * libgntdmabuf; every later frame is a flip of that dma-buf.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <drm_fourcc.h>

#include "displ.h"
#include "displ-sink.h"

#define DISPL_PAGE_SIZE		4096u
/* Grant references per directory page, after gref_dir_next_page. */
#define DISPL_DIR_REFS		((DISPL_PAGE_SIZE - sizeof(grant_ref_t)) / sizeof(grant_ref_t))

/* The pixel formats xen-drm-front offers, with their bytes per pixel. */
static const struct {
	uint32_t fourcc;
	int cpp;
} displ_formats[] = {
	{ DRM_FORMAT_RGB565, 2 },
	{ DRM_FORMAT_RGB888, 3 },
	{ DRM_FORMAT_XRGB8888, 4 },
	{ DRM_FORMAT_ARGB8888, 4 },
	{ DRM_FORMAT_XRGB4444, 2 },
	{ DRM_FORMAT_ARGB4444, 2 },
	{ DRM_FORMAT_XRGB1555, 2 },
	{ DRM_FORMAT_ARGB1555, 2 },
};

/* Bytes per pixel of @fourcc, or -EINVAL for a format we do not know. */
int displ_format_cpp(uint32_t fourcc)
{
	for (size_t i = 0; i < sizeof(displ_formats) / sizeof(displ_formats[0]); i++)
		if (displ_formats[i].fourcc == fourcc)
			return displ_formats[i].cpp;
	return -EINVAL;
}

/**
 * displ_directory() - read or fill a frontend's grant directory
 * @f: the frontend
 * @ref: the directory's first page
 * @refs: the references read, or (@write) those to write
 * @count: how many
 * @write: fill the directory (be-alloc) instead of reading it
 *
 * A directory is pages of { next, ref[1023] }, chained by the frontend;
 * the chain must be exactly as long as @count needs, and neither ref 0
 * (which ends a chain: Linux never hands out the first references) nor
 * any page twice (a cycle) may appear in it.  Each page is copied by Xen,
 * one grant-copy call per page, rather than mapped: no mapping to set up
 * and tear down, and the frontend cannot change what is read while it is
 * read.  Filling a page is a copy into it and a copy of its next
 * reference out, in the same call.
 *
 * Return: 0, -EINVAL for a chain or a page Xen refuses, -ENOMEM.
 */
int displ_directory(struct displ_front *f, grant_ref_t ref, uint32_t *refs, uint32_t count,
		    bool write)
{
	uint32_t ndir = (count + DISPL_DIR_REFS - 1) / DISPL_DIR_REFS, done = 0;
	uint32_t page[DISPL_PAGE_SIZE / sizeof(uint32_t)];
	size_t at_refs = offsetof(struct xendispl_page_directory, gref);
	size_t at_next = offsetof(struct xendispl_page_directory, gref_dir_next_page);
	grant_ref_t *seen;
	int ret = 0;

	seen = calloc(ndir, sizeof(*seen));
	if (!seen)
		return -ENOMEM;
	for (uint32_t d = 0; d < ndir; d++) {
		uint32_t n = count - done < DISPL_DIR_REFS ? count - done : DISPL_DIR_REFS;
		xengnttab_grant_copy_segment_t seg[2] = {
			{
				.source.foreign = { .ref = ref, .domid = f->domid },
				.dest.virt = page,
				.len = DISPL_PAGE_SIZE,
				.flags = GNTCOPY_source_gref,
			},
		};
		unsigned int nseg = 1;

		if (write) {
			seg[0] = (xengnttab_grant_copy_segment_t){
				.source.virt = refs + done,
				.dest.foreign = { .ref = ref, .offset = at_refs, .domid = f->domid },
				.len = n * sizeof(*refs),
				.flags = GNTCOPY_dest_gref,
			};
			seg[1] = (xengnttab_grant_copy_segment_t){
				.source.foreign = { .ref = ref, .offset = at_next, .domid = f->domid },
				.dest.virt = (char *)page + at_next,
				.len = sizeof(grant_ref_t),
				.flags = GNTCOPY_source_gref,
			};
			nseg = 2;
		}
		if (!ref) {
			ret = -EINVAL;
			goto out;
		}
		for (uint32_t k = 0; k < d; k++)
			if (seen[k] == ref) {
				if (f->be->verbose)
					displ_log(f, 0, "directory page %u repeats ref %u (a cycle)", d, ref);
				ret = -EINVAL;
				goto out;
			}
		seen[d] = ref;
		if (xengnttab_grant_copy(f->be->xgt, nseg, seg) || seg[0].status != GNTST_okay ||
		    (nseg > 1 && seg[1].status != GNTST_okay)) {
			/* A frontend controls how often this happens: not logged by default. */
			if (f->be->verbose)
				displ_log(f, 0, "cannot %s directory page %u (ref %u): status %d, %d",
					  write ? "fill" : "read", d, ref, seg[0].status,
					  seg[1].status);
			ret = -EINVAL;
			goto out;
		}
		if (!write)
			memcpy(refs + done, (const char *)page + at_refs, n * sizeof(*refs));
		ref = page[at_next / sizeof(uint32_t)];
		done += n;
	}
out:
	free(seen);
	return ret;
}

static int displ_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Whether a reference appears twice in @refs (sorted copy). */
static int displ_refs_repeat(const uint32_t *refs, uint32_t count)
{
	uint32_t *s = malloc((size_t)count * sizeof(*s));
	int rep = 0;

	if (!s)
		return -ENOMEM;
	memcpy(s, refs, (size_t)count * sizeof(*s));
	qsort(s, count, sizeof(*s), displ_cmp_u32);
	for (uint32_t i = 1; i < count && !rep; i++)
		rep = s[i] == s[i - 1];
	free(s);
	return rep;
}

static struct displ_dbuf *displ_dbuf_find(struct displ_front *f, uint64_t cookie)
{
	for (struct displ_dbuf *d = f->dbufs; d; d = d->next)
		if (d->cookie == cookie)
			return d;
	return NULL;
}

struct displ_fb *displ_fb_find(struct displ_front *f, uint64_t cookie)
{
	for (struct displ_fb *fb = f->fbs; fb; fb = fb->next)
		if (fb->cookie == cookie)
			return fb;
	return NULL;
}

/*
 * XENDISPL_OP_DBUF_CREATE: the frontend's pages exported, or with
 * XENDISPL_DBUF_FLG_REQ_ALLOC (be-alloc frontends only) dom0's pages
 * allocated and granted.  0 or -errno, which goes back as the status.
 */
int displ_dbuf_create(struct displ_front *f, const struct xendispl_dbuf_create_req *r)
{
	uint64_t t0 = displ_now_us(), t_dir, t_exp;
	struct displ_backend *be = f->be;
	uint64_t pages, pitch;
	struct displ_dbuf *d;
	uint32_t *refs;
	int ret, rep;

	if (!r->dbuf_cookie || displ_dbuf_find(f, r->dbuf_cookie))
		return -EINVAL;
	if (r->flags & ~XENDISPL_DBUF_FLG_REQ_ALLOC)
		return -EINVAL;
	/* The toolstack decides whether the backend allocates, not the frontend. */
	if (!(r->flags & XENDISPL_DBUF_FLG_REQ_ALLOC) != !f->be_alloc)
		return -EINVAL;
	if (!r->buffer_sz || r->data_ofs >= r->buffer_sz)
		return -EINVAL;
	/* A buffer with a geometry must hold it; PRIME imports come without. */
	if (r->width || r->height || r->bpp) {
		if (!r->width || !r->height || !r->bpp || r->bpp > 32 || r->bpp % 8)
			return -EINVAL;
		/* pitch * height could pass 2^64: divide instead. */
		pitch = ((uint64_t)r->width * r->bpp + 7) / 8;
		if (pitch > ((uint64_t)r->buffer_sz - r->data_ofs) / r->height)
			return -EINVAL;
	}
	pages = ((uint64_t)r->buffer_sz + DISPL_PAGE_SIZE - 1) / DISPL_PAGE_SIZE;
	if (be->limits.max_dbufs) {
		unsigned int n = 0;

		for (d = f->dbufs; d; d = d->next)
			n++;
		if (n >= be->limits.max_dbufs)
			return -ENOSPC;
	}
	if (be->limits.max_pages && f->pages + pages > be->limits.max_pages)
		return -ENOSPC;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->pages = pages;
	if (f->be_alloc) {
		refs = NULL;
		t_dir = 0;
		t_exp = displ_now_us();
		ret = displ_alloc_create(f, d, r);
		if (ret)
			goto err_free;
		goto done;
	}
	refs = calloc(pages, sizeof(*refs));
	if (!refs) {
		ret = -ENOMEM;
		goto err_free;
	}
	t_dir = displ_now_us();
	ret = displ_directory(f, r->gref_directory, refs, pages, false);
	if (ret)
		goto err_free;
	t_dir = displ_now_us() - t_dir;
	rep = displ_refs_repeat(refs, pages);
	if (rep) {
		ret = rep < 0 ? rep : -EINVAL;
		if (rep > 0 && be->verbose)
			displ_log(f, 0, "buffer %#llx: a grant reference repeats",
				  (unsigned long long)r->dbuf_cookie);
		goto err_free;
	}
	d->pages = pages;
	t_exp = displ_now_us();
	if (be->copy) {
		ret = displ_copy_create(f, d, refs, pages);
		if (ret)
			goto err_free;
		goto done;
	}
	ret = gntdmabuf_export(be->gdb, f->domid, refs, pages, 0, &d->fd);
	if (ret) {
		if (be->verbose)
			displ_log(f, 0, "buffer %#llx: export of %llu pages failed: %s",
				  (unsigned long long)r->dbuf_cookie, (unsigned long long)pages,
				  gntdmabuf_strerror(ret));
		goto err_free;
	}
	ret = gntdmabuf_export_id(be->gdb, d->fd, &d->export_id);
	if (ret) {
		close(d->fd);
		goto err_free;
	}
done:
	t_exp = displ_now_us() - t_exp;
	free(refs);
	d->cookie = r->dbuf_cookie;
	d->width = r->width;
	d->height = r->height;
	d->bpp = r->bpp;
	d->size = r->buffer_sz;
	d->offset = r->data_ofs;
	d->pages = pages;
	d->next = f->dbufs;
	f->dbufs = d;
	f->pages += pages;
	f->stats.creates++;
	f->stats.create_us += displ_now_us() - t0;
	f->stats.directory_us += t_dir;
	f->stats.export_us += t_exp;
	if (be->verbose && f->be_alloc)
		displ_log(f, 0, "buffer %#llx: %ux%u, %u bpp, %u pages from %s, import %llu",
			  (unsigned long long)d->cookie, d->width, d->height, d->bpp, d->pages,
			  displ_alloc_name(be->alloc), (unsigned long long)d->import_id);
	else if (be->verbose)
		displ_log(f, 0, "buffer %#llx: %ux%u, %u bpp, %u pages, export %llu",
			  (unsigned long long)d->cookie, d->width, d->height, d->bpp, d->pages,
			  (unsigned long long)d->export_id);
	return 0;

err_free:
	free(d);
	free(refs);
	return ret;
}

/* Drops framebuffer @fb (not on screen), telling the sink first. */
static void displ_fb_free(struct displ_front *f, struct displ_fb *fb)
{
	struct displ_fb **p;

	if (f->be->sink)
		f->be->sink->ops->fb_gone(f->be->sink->priv, fb);
	for (p = &f->fbs; *p; p = &(*p)->next)
		if (*p == fb) {
			*p = fb->next;
			break;
		}
	fb->dbuf->fbs--;
	free(fb);
}

/*
 * XENDISPL_OP_DBUF_DESTROY: closes our reference to the dma-buf and hands
 * back the export's id, whose release the caller awaits before replying.
 * A buffer on screen cannot go (-EBUSY); its framebuffers go with it.
 */
int displ_dbuf_destroy(struct displ_front *f, uint64_t cookie, uint64_t *export_id)
{
	struct displ_dbuf *d = displ_dbuf_find(f, cookie), **p;
	struct displ_fb *fb, *next;

	if (!d)
		return -ENOENT;
	for (fb = f->fbs; fb; fb = fb->next)
		if (fb->dbuf == d && fb->shown)
			return -EBUSY;
	for (fb = f->fbs; fb; fb = next) {
		next = fb->next;
		if (fb->dbuf == d)
			displ_fb_free(f, fb);
	}
	for (p = &f->dbufs; *p; p = &(*p)->next)
		if (*p == d) {
			*p = d->next;
			break;
		}
	f->pages -= d->pages;
	*export_id = d->export_id;
	displ_copy_destroy(f->be, d);
	displ_alloc_destroy(f->be, d);
	close(d->fd);
	free(d);
	return 0;
}

/**
 * displ_fb_frame() - what a sink gets to show of framebuffer @fb
 * @fb: the framebuffer
 * @frame: filled in: its buffer's dma-buf, offset and pitch, its size
 *	and format
 */
void displ_fb_frame(const struct displ_fb *fb, struct displ_frame *frame)
{
	*frame = (struct displ_frame){
		.fd = fb->dbuf->fd,
		.offset = fb->dbuf->offset,
		.pitch = fb->pitch,
		.width = fb->width,
		.height = fb->height,
		.format = fb->format,
		.cpp = fb->cpp,
		.fb_cookie = fb->cookie,
		.fb = fb,
	};
}

/* XENDISPL_OP_FB_ATTACH: a view of a display buffer the sink can show. */
int displ_fb_attach(struct displ_front *f, const struct xendispl_fb_attach_req *r)
{
	struct displ_dbuf *d = displ_dbuf_find(f, r->dbuf_cookie);
	struct displ_backend *be = f->be;
	struct displ_fb *fb;
	uint64_t pitch, end;
	unsigned int n = 0;
	int cpp, ret;

	if (!d || !r->fb_cookie || displ_fb_find(f, r->fb_cookie))
		return -EINVAL;
	cpp = displ_format_cpp(r->pixel_format);
	if (cpp < 0 || !r->width || !r->height)
		return -EINVAL;
	if (d->bpp && d->bpp != (uint32_t)cpp * 8)
		return -EINVAL;
	/* The pitch is the buffer's (no pitch travels in the protocol). */
	pitch = d->width ? ((uint64_t)d->width * d->bpp + 7) / 8 : (uint64_t)r->width * cpp;
	if (pitch < (uint64_t)r->width * cpp || pitch > d->size)
		return -EINVAL;
	/* pitch * (height - 1) could pass 2^64: divide first. */
	if (r->height - 1 > (d->size - d->offset) / pitch)
		return -EINVAL;
	end = d->offset + pitch * (r->height - 1) + (uint64_t)r->width * cpp;
	if (end > d->size)
		return -EINVAL;
	for (fb = f->fbs; fb; fb = fb->next)
		n++;
	if (be->limits.max_fbs && n >= be->limits.max_fbs)
		return -ENOSPC;
	fb = calloc(1, sizeof(*fb));
	if (!fb)
		return -ENOMEM;
	fb->cookie = r->fb_cookie;
	fb->dbuf = d;
	fb->width = r->width;
	fb->height = r->height;
	fb->format = r->pixel_format;
	fb->cpp = cpp;
	fb->pitch = pitch;
	if (be->sink) {
		ret = be->sink->ops->fb_add(be->sink->priv, f, fb);
		if (ret) {
			free(fb);
			return ret;
		}
	}
	fb->next = f->fbs;
	f->fbs = fb;
	d->fbs++;
	return 0;
}

/* XENDISPL_OP_FB_DETACH: not while a connector shows it (-EBUSY). */
int displ_fb_detach(struct displ_front *f, uint64_t cookie)
{
	struct displ_fb *fb = displ_fb_find(f, cookie);

	if (!fb)
		return -ENOENT;
	if (fb->shown)
		return -EBUSY;
	displ_fb_free(f, fb);
	return 0;
}

/* Everything of a frontend that goes or disconnects; nothing is on screen. */
void displ_front_free_buffers(struct displ_front *f)
{
	uint64_t id;

	while (f->fbs) {
		f->fbs->shown = 0;
		displ_fb_free(f, f->fbs);
	}
	while (f->dbufs)
		displ_dbuf_destroy(f, f->dbufs->cookie, &id);
}
