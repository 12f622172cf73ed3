// SPDX-License-Identifier: MIT
/*
 * gntdmabuf-displ: the capture sink.  Every flip is "on screen" at once;
 * the sink keeps each connector's latest frame and, when asked (SIGUSR1,
 * or every N frames), reads it through the dma-buf's mmap between
 * DMA_BUF_IOCTL_SYNC calls to write a PNG.  With a frame log it also
 * writes a hash of every frame's pixels, which is how the tests compare
 * what dom0 got with what the guest drew.  Reading for a check is not a
 * copy on the frame path: the frame itself never moves.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <drm_fourcc.h>

#include "displ.h"
#include "displ-sink.h"

struct displ_capture_conn {
	struct displ_capture_conn *next;
	struct displ_conn *conn;
	struct displ_frame last;	/* .fd < 0: nothing shown */
	uint64_t frames;
};

struct displ_capture {
	struct displ_capture_opts opts;
	FILE *log;
	struct displ_capture_conn *conns;
};

/* ---- PNG, uncompressed (stored deflate blocks): no zlib needed ---- */

static uint32_t displ_crc_table[256];

static uint32_t displ_crc(uint32_t crc, const uint8_t *p, size_t n)
{
	if (!displ_crc_table[1])
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;

			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			displ_crc_table[i] = c;
		}
	crc = ~crc;
	while (n--)
		crc = displ_crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static void displ_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static int displ_png_chunk(FILE *f, const char *type, const uint8_t *data, uint32_t len)
{
	uint8_t hdr[8], crc[4];
	uint32_t c;

	displ_be32(hdr, len);
	memcpy(hdr + 4, type, 4);
	c = displ_crc(0, hdr + 4, 4);
	c = displ_crc(c, data, len);
	displ_be32(crc, c);
	return fwrite(hdr, 8, 1, f) == 1 && (!len || fwrite(data, len, 1, f) == 1) &&
	       fwrite(crc, 4, 1, f) == 1 ? 0 : -EIO;
}

/* One pixel of @f at @p as 8-bit R, G, B. */
static void displ_rgb(uint32_t format, const uint8_t *p, uint8_t *rgb)
{
	uint32_t v;

	switch (format) {
	case DRM_FORMAT_XRGB8888:
	case DRM_FORMAT_ARGB8888:
		rgb[0] = p[2], rgb[1] = p[1], rgb[2] = p[0];
		break;
	case DRM_FORMAT_RGB888:
		rgb[0] = p[2], rgb[1] = p[1], rgb[2] = p[0];
		break;
	case DRM_FORMAT_RGB565:
		v = p[0] | p[1] << 8;
		rgb[0] = (v >> 11 & 0x1f) * 255 / 31;
		rgb[1] = (v >> 5 & 0x3f) * 255 / 63;
		rgb[2] = (v & 0x1f) * 255 / 31;
		break;
	case DRM_FORMAT_XRGB1555:
	case DRM_FORMAT_ARGB1555:
		v = p[0] | p[1] << 8;
		rgb[0] = (v >> 10 & 0x1f) * 255 / 31;
		rgb[1] = (v >> 5 & 0x1f) * 255 / 31;
		rgb[2] = (v & 0x1f) * 255 / 31;
		break;
	default:	/* XRGB4444, ARGB4444 */
		v = p[0] | p[1] << 8;
		rgb[0] = (v >> 8 & 0xf) * 17;
		rgb[1] = (v >> 4 & 0xf) * 17;
		rgb[2] = (v & 0xf) * 17;
		break;
	}
}

/**
 * displ_png_write() - write a frame as an RGB PNG
 * @path: where; written as @path.tmp first, then renamed
 * @fr: the frame's geometry and format (its @fd is not used)
 * @map: its pixels, @fr->offset bytes in
 *
 * Uncompressed (stored deflate blocks): no zlib needed, and a reader can
 * take the pixels back without inflating.
 *
 * Return: 0, -ENOMEM, or -errno of the file.
 */
int displ_png_write(const char *path, const struct displ_frame *fr, const uint8_t *map)
{
	size_t row = 1 + (size_t)fr->width * 3, raw = row * fr->height, pos = 0;
	size_t nblk = raw / 65535 + 1, zlen = 2 + raw + nblk * 5 + 4;
	uint32_t a = 1, b = 0;
	uint8_t ihdr[13] = { 0 }, *z, *rowbuf;
	static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	char tmp[600];
	size_t zp = 0;
	FILE *f;
	int ret;

	z = malloc(zlen);
	rowbuf = malloc(row);
	if (!z || !rowbuf) {
		free(z);
		free(rowbuf);
		return -ENOMEM;
	}
	z[zp++] = 0x78;
	z[zp++] = 0x01;
	for (uint32_t y = 0; y < fr->height; y++) {
		const uint8_t *src = map + fr->offset + (size_t)y * fr->pitch;

		rowbuf[0] = 0;	/* filter: none */
		for (uint32_t x = 0; x < fr->width; x++)
			displ_rgb(fr->format, src + (size_t)x * fr->cpp, rowbuf + 1 + x * 3);
		for (size_t i = 0; i < row; i++) {
			if (pos % 65535 == 0) {
				size_t left = raw - pos, n = left < 65535 ? left : 65535;

				z[zp++] = left <= 65535;	/* BFINAL on the last block */
				z[zp++] = n & 0xff;
				z[zp++] = n >> 8;
				z[zp++] = ~n & 0xff;
				z[zp++] = (~n >> 8) & 0xff;
			}
			z[zp++] = rowbuf[i];
			a = (a + rowbuf[i]) % 65521;
			b = (b + a) % 65521;
			pos++;
		}
	}
	displ_be32(z + zp, b << 16 | a);
	zp += 4;
	displ_be32(ihdr, fr->width);
	displ_be32(ihdr + 4, fr->height);
	ihdr[8] = 8;		/* bits per channel */
	ihdr[9] = 2;		/* RGB */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "wb");
	ret = f ? 0 : -errno;
	if (!ret)
		ret = fwrite(sig, 8, 1, f) == 1 ? 0 : -EIO;
	if (!ret)
		ret = displ_png_chunk(f, "IHDR", ihdr, sizeof(ihdr));
	if (!ret)
		ret = displ_png_chunk(f, "IDAT", z, zp);
	if (!ret)
		ret = displ_png_chunk(f, "IEND", NULL, 0);
	if (f && fclose(f) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	free(z);
	free(rowbuf);
	return ret;
}

/* ---- the sink ---- */

uint64_t displ_frame_hash(const struct displ_frame *fr, const uint8_t *map)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (uint32_t y = 0; y < fr->height; y++) {
		const uint8_t *p = map + fr->offset + (size_t)y * fr->pitch;

		for (size_t i = 0; i < (size_t)fr->width * fr->cpp; i++)
			h = (h ^ p[i]) * 0x100000001b3ULL;
	}
	return h;
}

/* Maps @fr's dma-buf for reading, with the CPU access bracket opened. */
static uint8_t *displ_capture_map(const struct displ_frame *fr, size_t *len)
{
	struct dma_buf_sync sync = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ };
	uint8_t *map;
	off_t size = lseek(fr->fd, 0, SEEK_END);

	if (size <= 0)
		return NULL;
	map = mmap(NULL, size, PROT_READ, MAP_SHARED, fr->fd, 0);
	if (map == MAP_FAILED)
		return NULL;
	ioctl(fr->fd, DMA_BUF_IOCTL_SYNC, &sync);
	*len = size;
	return map;
}

static void displ_capture_unmap(const struct displ_frame *fr, uint8_t *map, size_t len)
{
	struct dma_buf_sync sync = { .flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ };

	ioctl(fr->fd, DMA_BUF_IOCTL_SYNC, &sync);
	munmap(map, len);
}

static void displ_capture_png(struct displ_capture *cap, struct displ_capture_conn *cc)
{
	struct displ_front *f = cc->conn->front;
	char path[512];
	uint8_t *map;
	size_t len;
	int ret;

	if (cc->last.fd < 0 || !cap->opts.dir)
		return;
	map = displ_capture_map(&cc->last, &len);
	if (!map) {
		displ_log(f, cc->conn->index, "cannot map the frame for a PNG: %m");
		return;
	}
	snprintf(path, sizeof(path), "%s/displ-%u-%u-%u.png", cap->opts.dir, f->domid, f->devid,
		 cc->conn->index);
	ret = displ_png_write(path, &cc->last, map);
	displ_capture_unmap(&cc->last, map, len);
	if (ret)
		displ_log(f, cc->conn->index, "cannot write %s: %s", path, strerror(-ret));
	else if (f->be->verbose)
		displ_log(f, cc->conn->index, "frame %llu written to %s",
			  (unsigned long long)cc->frames, path);
}

static int displ_capture_conn_add(void *priv, struct displ_conn *conn)
{
	struct displ_capture *cap = priv;
	struct displ_capture_conn *cc = calloc(1, sizeof(*cc));

	if (!cc)
		return -ENOMEM;
	cc->conn = conn;
	cc->last.fd = -1;
	cc->next = cap->conns;
	cap->conns = cc;
	conn->sink_priv = cc;
	return 0;
}

static void displ_capture_conn_remove(void *priv, struct displ_conn *conn)
{
	struct displ_capture *cap = priv;

	for (struct displ_capture_conn **p = &cap->conns; *p; p = &(*p)->next)
		if ((*p)->conn == conn) {
			struct displ_capture_conn *cc = *p;

			*p = cc->next;
			free(cc);
			break;
		}
	conn->sink_priv = NULL;
}

static int displ_capture_fb_add(void *priv, struct displ_front *f, struct displ_fb *fb)
{
	(void)priv;
	(void)f;
	/* Any format the protocol side knows; the PNG's rows must stay sane. */
	return displ_format_cpp(fb->format) > 0 && fb->width <= 16384 && fb->height <= 16384 ?
	       0 : -EINVAL;
}

static int displ_capture_show(void *priv, struct displ_conn *conn, const struct displ_frame *fr)
{
	struct displ_capture *cap = priv;
	struct displ_capture_conn *cc = conn->sink_priv;
	struct displ_front *f = conn->front;

	cc->last = *fr;
	cc->frames++;
	if (cap->log) {
		uint8_t *map;
		size_t len;

		map = displ_capture_map(fr, &len);
		if (map) {
			fprintf(cap->log, "%u %u %u %llu %llx %016llx\n", f->domid, f->devid,
				conn->index, (unsigned long long)cc->frames,
				(unsigned long long)fr->fb_cookie,
				(unsigned long long)displ_frame_hash(fr, map));
			displ_capture_unmap(fr, map, len);
		} else {
			fprintf(cap->log, "%u %u %u %llu %llx unmapped\n", f->domid, f->devid,
				conn->index, (unsigned long long)cc->frames,
				(unsigned long long)fr->fb_cookie);
		}
		fflush(cap->log);
	}
	if (cap->opts.png_every && cc->frames % cap->opts.png_every == 0)
		displ_capture_png(cap, cc);
	displ_flip_done(conn);
	return 0;
}

static void displ_capture_blank(void *priv, struct displ_conn *conn)
{
	struct displ_capture_conn *cc = conn->sink_priv;

	(void)priv;
	cc->last.fd = -1;
}

static void displ_capture_fb_gone(void *priv, const struct displ_fb *fb)
{
	struct displ_capture *cap = priv;

	for (struct displ_capture_conn *cc = cap->conns; cc; cc = cc->next)
		if (cc->last.fd >= 0 && cc->last.fb == fb)
			cc->last.fd = -1;
}

static void displ_capture_signal(void *priv)
{
	struct displ_capture *cap = priv;

	for (struct displ_capture_conn *cc = cap->conns; cc; cc = cc->next)
		displ_capture_png(cap, cc);
}

static void displ_capture_destroy(void *priv)
{
	struct displ_capture *cap = priv;

	if (cap->log)
		fclose(cap->log);
	free(cap);
}

static const struct displ_sink_ops displ_capture_ops = {
	.name = "capture",
	.conn_add = displ_capture_conn_add,
	.conn_remove = displ_capture_conn_remove,
	.fb_add = displ_capture_fb_add,
	.show = displ_capture_show,
	.blank = displ_capture_blank,
	.fb_gone = displ_capture_fb_gone,
	.signal = displ_capture_signal,
	.destroy = displ_capture_destroy,
};

/**
 * displ_capture_create() - the capture sink
 * @be: the backend
 * @opts: its options
 * @sink: filled in
 *
 * Return: 0; -errno when the frame log cannot be opened.
 */
int displ_capture_create(struct displ_backend *be, const struct displ_capture_opts *opts,
			 struct displ_sink *sink)
{
	struct displ_capture *cap = calloc(1, sizeof(*cap));

	(void)be;
	if (!cap)
		return -ENOMEM;
	cap->opts = *opts;
	if (opts->frame_log) {
		cap->log = fopen(opts->frame_log, "a");
		if (!cap->log) {
			free(cap);
			return -errno;
		}
	}
	sink->ops = &displ_capture_ops;
	sink->priv = cap;
	return 0;
}
