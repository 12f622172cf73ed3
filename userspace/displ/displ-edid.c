// SPDX-License-Identifier: MIT
/*
 * gntdmabuf-displ: XENDISPL_OP_GET_EDID.  The EDID is generated from the
 * connector's configured resolution: one EDID 1.3 block whose preferred
 * (and only) detailed timing is that resolution at 60 Hz with reduced
 * blanking.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "displ.h"

#define DISPL_EDID_SIZE	128

static void displ_edid_timing(uint8_t *d, uint32_t w, uint32_t h)
{
	uint32_t hblank = 160, hso = 48, hsw = 32, vblank = 23 + h / 200, vso = 3, vsw = 5;
	uint32_t clock = (uint32_t)((uint64_t)(w + hblank) * (h + vblank) * 60 / 10000);
	uint32_t wmm = w * 254 / 960, hmm = h * 254 / 960;	/* 96 dpi */

	d[0] = clock & 0xff;
	d[1] = clock >> 8;
	d[2] = w & 0xff;
	d[3] = hblank & 0xff;
	d[4] = (w >> 8) << 4 | hblank >> 8;
	d[5] = h & 0xff;
	d[6] = vblank & 0xff;
	d[7] = (h >> 8) << 4 | vblank >> 8;
	d[8] = hso & 0xff;
	d[9] = hsw & 0xff;
	d[10] = (vso & 0xf) << 4 | (vsw & 0xf);
	d[11] = (hso >> 8) << 6 | (hsw >> 8) << 4 | (vso >> 4) << 2 | vsw >> 4;
	d[12] = wmm & 0xff;
	d[13] = hmm & 0xff;
	d[14] = (wmm >> 8) << 4 | (hmm >> 8);
	d[17] = 0x1e;		/* digital separate sync, both polarities positive */
}

/**
 * displ_edid() - an EDID for a connector of @width x @height
 * @edid: receives it
 * @size: room in @edid
 * @width: the connector's width in pixels (1 to 4095)
 * @height: its height (1 to 4095)
 *
 * Return: the EDID's size, or 0 when it does not fit or the resolution
 * cannot be described in a detailed timing.
 */
size_t displ_edid(uint8_t *edid, size_t size, uint32_t width, uint32_t height)
{
	static const uint8_t header[8] = { 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0 };
	static const uint8_t srgb[10] = { 0xee, 0x91, 0xa3, 0x54, 0x4c, 0x99, 0x26, 0x0f, 0x50, 0x54 };
	uint16_t vendor = ('X' - '@') << 10 | ('E' - '@') << 5 | ('N' - '@');
	uint8_t sum = 0;

	if (size < DISPL_EDID_SIZE || !width || !height || width > 4095 || height > 4095)
		return 0;
	memset(edid, 0, DISPL_EDID_SIZE);
	memcpy(edid, header, sizeof(header));
	edid[8] = vendor >> 8;
	edid[9] = vendor & 0xff;
	edid[10] = 0x01;		/* product code */
	edid[16] = 1;			/* week */
	edid[17] = 2026 - 1990;
	edid[18] = 1;
	edid[19] = 3;
	edid[20] = 0x80;		/* digital input */
	edid[21] = width * 254 / 96000 ?: 1;	/* cm */
	edid[22] = height * 254 / 96000 ?: 1;
	edid[23] = 120;			/* gamma 2.2 */
	edid[24] = 0x0a;		/* RGB colour, preferred timing first */
	memcpy(edid + 25, srgb, sizeof(srgb));
	memset(edid + 38, 0x01, 16);	/* no standard timings */
	displ_edid_timing(edid + 54, width, height);
	/* A monitor name descriptor, then two dummy ones. */
	edid[75] = 0xfc;
	memcpy(edid + 77, "gntdmabuf\n   ", 13);
	edid[93] = 0x10;
	edid[111] = 0x10;
	for (int i = 0; i < DISPL_EDID_SIZE - 1; i++)
		sum += edid[i];
	edid[127] = (uint8_t)-sum;
	return DISPL_EDID_SIZE;
}

/*
 * XENDISPL_OP_GET_EDID on connector @c's ring: writes the EDID of @c's
 * resolution into the frontend's buffer.
 */
int displ_get_edid(struct displ_conn *c, const struct xendispl_get_edid_req *r,
		   uint32_t *edid_sz)
{
	struct displ_front *f = c->front;
	uint8_t edid[DISPL_EDID_SIZE];
	uint32_t ref;
	size_t n;
	void *page;
	int ret;

	if (r->buffer_sz < XENDISPL_EDID_MAX_SIZE)
		return -EINVAL;
	n = displ_edid(edid, sizeof(edid), c->width, c->height);
	if (!n)
		return -EINVAL;
	/* Only the directory's first reference: one block fits one page. */
	ret = displ_directory(f, r->gref_directory, &ref, 1, false);
	if (ret)
		return ret;
	page = xengnttab_map_grant_ref(f->be->xgt, f->domid, ref, PROT_READ | PROT_WRITE);
	if (!page)
		return -EINVAL;
	memcpy(page, edid, n);
	xengnttab_unmap(f->be->xgt, page, 1);
	*edid_sz = n;
	return 0;
}
