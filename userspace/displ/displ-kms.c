// SPDX-License-Identifier: MIT
/*
 * gntdmabuf-displ: the KMS sink.  Each connector of a frontend is shown on
 * a CRTC of a dom0 display controller: its framebuffers are the exports'
 * dma-bufs imported with PRIME (no copy), SET_CONFIG is a modeset to the
 * connector's resolution, every PG_FLIP is a non-blocking atomic commit,
 * and the guest's EVT_PG_FLIP waits for that commit's completion event.
 * A buffer the plane cannot take is refused at FB_ATTACH by a test-only
 * commit of it.  On SIGUSR1 a writeback connector, where the device has
 * one, captures what the CRTC composed.
 *
 * It speaks the kernel's uAPI directly (drm.h, drm_mode.h): atomic
 * modesetting is required, legacy-only drivers are refused at start.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <drm.h>
#include <drm_mode.h>
#include <drm_fourcc.h>

#include "displ.h"
#include "displ-sink.h"

#define DISPL_KMS_MAX_OUTPUTS	8
#define DISPL_KMS_MAX_PROPS	24
#define DISPL_KMS_MAX_OBJS	6
/* The "type" property of a plane (an enum the uAPI headers do not name). */
#define DISPL_KMS_PLANE_PRIMARY	1

/* Property ids of the objects a commit touches. */
struct displ_kms_props {
	uint32_t conn_crtc;				/* connector CRTC_ID */
	uint32_t crtc_active, crtc_mode;		/* ACTIVE, MODE_ID */
	uint32_t fb, crtc, src_x, src_y, src_w, src_h;	/* plane */
	uint32_t crtc_x, crtc_y, crtc_w, crtc_h;
};

/*
 * One dom0 connector with the CRTC and primary plane it uses, and the
 * backend connector it shows (at most one).
 */
struct displ_kms_output {
	char name[32];
	uint32_t conn_id, crtc_id, plane_id;
	unsigned int crtc_index;
	struct displ_kms_props props;
	uint32_t *formats;		/* of the primary plane */
	uint32_t nformats;
	struct displ_conn *conn;	/* NULL: free */
	uint32_t gen;			/* counts conns: an event of an earlier one is stale */
	struct drm_mode_modeinfo mode;
	uint32_t mode_blob;
	bool active;			/* the modeset is done */
	uint32_t shown_fb;		/* committed last; 0: plane off */
	bool busy;			/* a non-blocking commit is in flight */
	bool queued;			/* ... and queued_fb comes after it */
	uint32_t queued_fb;
	bool capture;			/* a writeback capture is due */
	uint64_t commits, failed;
	/* the writeback target, mode-sized, XRGB8888 */
	uint32_t wb_handle, wb_fb, wb_pitch, wb_w, wb_h;
	uint64_t wb_size;
	uint8_t *wb_map;
};

struct displ_kms {
	struct displ_backend *be;
	struct displ_kms_opts opts;
	int fd;
	char device[64];
	struct displ_kms_output out[DISPL_KMS_MAX_OUTPUTS];
	unsigned int nout;
	uint32_t wb_conn;		/* a writeback connector, or 0 */
	uint32_t wb_possible_crtcs;
	uint32_t wb_routed;		/* the CRTC it is routed to, or 0 */
	bool wb_noclone;		/* it cannot clone an output (vkms) */
	uint32_t wb_crtc_prop, wb_fb_prop, wb_fence_prop;
	uint32_t crtc_ids[32];
	unsigned int ncrtcs;
};

/* An atomic request: objects in order, each with its properties. */
struct displ_kms_req {
	uint32_t objs[DISPL_KMS_MAX_OBJS], counts[DISPL_KMS_MAX_OBJS];
	uint32_t props[DISPL_KMS_MAX_OBJS][DISPL_KMS_MAX_PROPS];
	uint64_t values[DISPL_KMS_MAX_OBJS][DISPL_KMS_MAX_PROPS];
	unsigned int nobjs;
};

static void displ_kms_add(struct displ_kms_req *r, uint32_t obj, uint32_t prop, uint64_t value)
{
	unsigned int i;

	if (!prop)
		return;
	for (i = 0; i < r->nobjs && r->objs[i] != obj; i++)
		;
	if (i == r->nobjs) {
		if (i == DISPL_KMS_MAX_OBJS)
			return;
		r->objs[r->nobjs++] = obj;
	}
	if (r->counts[i] < DISPL_KMS_MAX_PROPS) {
		r->props[i][r->counts[i]] = prop;
		r->values[i][r->counts[i]++] = value;
	}
}

static int displ_kms_commit_req(struct displ_kms *kms, const struct displ_kms_req *r,
				uint32_t flags, uint64_t user_data)
{
	uint32_t props[DISPL_KMS_MAX_OBJS * DISPL_KMS_MAX_PROPS];
	uint64_t values[DISPL_KMS_MAX_OBJS * DISPL_KMS_MAX_PROPS];
	unsigned int n = 0;
	struct drm_mode_atomic a = {
		.flags = flags,
		.count_objs = r->nobjs,
		.objs_ptr = (uintptr_t)r->objs,
		.count_props_ptr = (uintptr_t)r->counts,
		.props_ptr = (uintptr_t)props,
		.prop_values_ptr = (uintptr_t)values,
		.user_data = user_data,
	};

	for (unsigned int i = 0; i < r->nobjs; i++)
		for (unsigned int k = 0; k < r->counts[i]; k++) {
			props[n] = r->props[i][k];
			values[n++] = r->values[i][k];
		}
	return ioctl(kms->fd, DRM_IOCTL_MODE_ATOMIC, &a) ? -errno : 0;
}

/*
 * The whole state of @o showing framebuffer @fb (0: the plane off) on a
 * CRTC that is on.  The plane covers the CRTC, the framebuffer's top left
 * corner at its top left corner: what xen-drm-front sets up.
 */
static void displ_kms_state(struct displ_kms_output *o, uint32_t fb, struct displ_kms_req *r)
{
	uint32_t w = o->mode.hdisplay, h = o->mode.vdisplay;

	const struct displ_kms_props *p = &o->props;

	memset(r, 0, sizeof(*r));
	displ_kms_add(r, o->conn_id, p->conn_crtc, o->crtc_id);
	displ_kms_add(r, o->crtc_id, p->crtc_mode, o->mode_blob);
	displ_kms_add(r, o->crtc_id, p->crtc_active, 1);
	displ_kms_add(r, o->plane_id, p->fb, fb);
	displ_kms_add(r, o->plane_id, p->crtc, fb ? o->crtc_id : 0);
	if (!fb)
		return;
	displ_kms_add(r, o->plane_id, p->src_x, 0);
	displ_kms_add(r, o->plane_id, p->src_y, 0);
	displ_kms_add(r, o->plane_id, p->src_w, (uint64_t)w << 16);
	displ_kms_add(r, o->plane_id, p->src_h, (uint64_t)h << 16);
	displ_kms_add(r, o->plane_id, p->crtc_x, 0);
	displ_kms_add(r, o->plane_id, p->crtc_y, 0);
	displ_kms_add(r, o->plane_id, p->crtc_w, w);
	displ_kms_add(r, o->plane_id, p->crtc_h, h);
}

/* ---- discovery ---- */

static int displ_kms_prop_ids(struct displ_kms *kms, uint32_t obj, uint32_t type,
			      const char *const *names, uint32_t *ids, uint64_t *values,
			      unsigned int n)
{
	struct drm_mode_obj_get_properties gp = { .obj_id = obj, .obj_type = type };
	uint32_t *props = NULL;
	uint64_t *vals = NULL;
	int ret = 0;

	if (ioctl(kms->fd, DRM_IOCTL_MODE_OBJ_GETPROPERTIES, &gp))
		return -errno;
	uint32_t n_alloc = gp.count_props;

	props = calloc(n_alloc + 1, sizeof(*props));
	vals = calloc(n_alloc + 1, sizeof(*vals));
	if (!props || !vals) {
		ret = -ENOMEM;
		goto out;
	}
	gp.props_ptr = (uintptr_t)props;
	gp.prop_values_ptr = (uintptr_t)vals;
	if (ioctl(kms->fd, DRM_IOCTL_MODE_OBJ_GETPROPERTIES, &gp)) {
		ret = -errno;
		goto out;
	}
	/* A count that grew between the calls filled nothing: none found. */
	for (uint32_t i = 0; i < gp.count_props && gp.count_props <= n_alloc; i++) {
		struct drm_mode_get_property p = { .prop_id = props[i] };

		if (ioctl(kms->fd, DRM_IOCTL_MODE_GETPROPERTY, &p))
			continue;
		for (unsigned int k = 0; k < n; k++)
			if (!strcmp(p.name, names[k])) {
				ids[k] = props[i];
				if (values)
					values[k] = vals[i];
			}
	}
out:
	free(props);
	free(vals);
	return ret;
}

static const char *displ_kms_type_name(uint32_t type)
{
	static const char *const names[] = {
		"Unknown", "VGA", "DVI-I", "DVI-D", "DVI-A", "Composite", "SVIDEO", "LVDS",
		"Component", "DIN", "DP", "HDMI-A", "HDMI-B", "TV", "eDP", "Virtual", "DSI",
		"DPI", "Writeback", "SPI", "USB",
	};

	return type < sizeof(names) / sizeof(names[0]) ? names[type] : "Unknown";
}

/* The primary plane that @crtc_index can use, with its formats. */
static int displ_kms_primary(struct displ_kms *kms, unsigned int crtc_index,
			     struct displ_kms_output *o)
{
	struct drm_mode_get_plane_res pr = { 0 };
	uint32_t *planes;
	int ret = -ENOENT;

	if (ioctl(kms->fd, DRM_IOCTL_MODE_GETPLANERESOURCES, &pr))
		return -errno;
	uint32_t n_alloc = pr.count_planes;

	planes = calloc(n_alloc + 1, sizeof(*planes));
	if (!planes)
		return -ENOMEM;
	pr.plane_id_ptr = (uintptr_t)planes;
	if (ioctl(kms->fd, DRM_IOCTL_MODE_GETPLANERESOURCES, &pr)) {
		free(planes);
		return -errno;
	}
	for (uint32_t i = 0; i < pr.count_planes && pr.count_planes <= n_alloc && ret; i++) {
		static const char *const names[] = { "type" };
		struct drm_mode_get_plane gp = { .plane_id = planes[i] };
		uint32_t id = 0, n;
		uint64_t type = 0;

		if (ioctl(kms->fd, DRM_IOCTL_MODE_GETPLANE, &gp) ||
		    !(gp.possible_crtcs & (1u << crtc_index)))
			continue;
		if (displ_kms_prop_ids(kms, planes[i], DRM_MODE_OBJECT_PLANE, names, &id, &type, 1) ||
		    type != DISPL_KMS_PLANE_PRIMARY)
			continue;
		n = gp.count_format_types;
		o->formats = calloc(n + 1, sizeof(*o->formats));
		if (!o->formats) {
			ret = -ENOMEM;
			break;
		}
		gp.format_type_ptr = (uintptr_t)o->formats;
		if (ioctl(kms->fd, DRM_IOCTL_MODE_GETPLANE, &gp)) {
			free(o->formats);
			o->formats = NULL;
			continue;
		}
		o->nformats = gp.count_format_types <= n ? gp.count_format_types : 0;
		o->plane_id = planes[i];
		ret = 0;
	}
	free(planes);
	return ret;
}

/* The connectors with the CRTCs their encoders can drive. */
static int displ_kms_outputs(struct displ_kms *kms)
{
	struct drm_mode_card_res res = { 0 };
	uint32_t conns[32], encs[32], used = 0;

	if (ioctl(kms->fd, DRM_IOCTL_MODE_GETRESOURCES, &res))
		return -errno;
	if (!res.count_crtcs || !res.count_connectors)
		return -ENODEV;
	if (res.count_crtcs > 32 || res.count_connectors > 32 || res.count_encoders > 32)
		return -E2BIG;
	res.crtc_id_ptr = (uintptr_t)kms->crtc_ids;
	res.connector_id_ptr = (uintptr_t)conns;
	res.encoder_id_ptr = (uintptr_t)encs;
	res.count_fbs = 0;
	if (ioctl(kms->fd, DRM_IOCTL_MODE_GETRESOURCES, &res))
		return -errno;
	/* Hot-plugged in between: the arrays were not filled. */
	if (res.count_crtcs > 32 || res.count_connectors > 32 || res.count_encoders > 32)
		return -EAGAIN;
	kms->ncrtcs = res.count_crtcs;
	for (uint32_t i = 0; i < res.count_connectors && kms->nout < DISPL_KMS_MAX_OUTPUTS; i++) {
		struct drm_mode_get_connector gc = { .connector_id = conns[i] };
		uint32_t cenc[16], possible = 0;
		struct displ_kms_output *o = &kms->out[kms->nout];

		if (ioctl(kms->fd, DRM_IOCTL_MODE_GETCONNECTOR, &gc))
			continue;
		if (gc.count_encoders > 16)
			continue;
		gc.encoders_ptr = (uintptr_t)cenc;
		gc.count_modes = gc.count_props = 0;
		if (ioctl(kms->fd, DRM_IOCTL_MODE_GETCONNECTOR, &gc) || gc.count_encoders > 16)
			continue;
		for (uint32_t k = 0; k < gc.count_encoders; k++) {
			struct drm_mode_get_encoder ge = { .encoder_id = cenc[k] };

			if (!ioctl(kms->fd, DRM_IOCTL_MODE_GETENCODER, &ge))
				possible |= ge.possible_crtcs;
		}
		if (gc.connector_type == DRM_MODE_CONNECTOR_WRITEBACK) {
			static const char *const names[] = {
				"CRTC_ID", "WRITEBACK_FB_ID", "WRITEBACK_OUT_FENCE_PTR"
			};
			uint32_t ids[3] = { 0 };

			if (kms->wb_conn ||
			    displ_kms_prop_ids(kms, conns[i], DRM_MODE_OBJECT_CONNECTOR, names, ids,
					       NULL, 3) || !ids[0] || !ids[1] || !ids[2])
				continue;
			kms->wb_conn = conns[i];
			kms->wb_possible_crtcs = possible;
			kms->wb_crtc_prop = ids[0];
			kms->wb_fb_prop = ids[1];
			kms->wb_fence_prop = ids[2];
			continue;
		}
		/* 1: connected; 3: unknown, which virtual connectors may say. */
		if (gc.connection == 2)
			continue;
		memset(o, 0, sizeof(*o));
		snprintf(o->name, sizeof(o->name), "%s-%u", displ_kms_type_name(gc.connector_type),
			 gc.connector_type_id);
		o->conn_id = conns[i];
		/* The first CRTC it can use that no earlier connector took. */
		for (uint32_t c = 0; c < kms->ncrtcs && !o->crtc_id; c++)
			if ((possible & (1u << c)) && !(used & (1u << c)) &&
			    !displ_kms_primary(kms, c, o)) {
				o->crtc_id = kms->crtc_ids[c];
				o->crtc_index = c;
				used |= 1u << c;
			}
		if (!o->crtc_id)
			continue;
		{
			static const char *const cn[] = { "CRTC_ID" };
			static const char *const rn[] = { "ACTIVE", "MODE_ID" };
			static const char *const pn[] = {
				"FB_ID", "CRTC_ID", "SRC_X", "SRC_Y", "SRC_W", "SRC_H",
				"CRTC_X", "CRTC_Y", "CRTC_W", "CRTC_H"
			};
			struct displ_kms_props *p = &o->props;

			if (displ_kms_prop_ids(kms, o->conn_id, DRM_MODE_OBJECT_CONNECTOR, cn,
					       &p->conn_crtc, NULL, 1) ||
			    displ_kms_prop_ids(kms, o->crtc_id, DRM_MODE_OBJECT_CRTC, rn,
					       &p->crtc_active, NULL, 2) ||
			    displ_kms_prop_ids(kms, o->plane_id, DRM_MODE_OBJECT_PLANE, pn,
					       &p->fb, NULL, 10) ||
			    !p->conn_crtc || !p->crtc_active || !p->crtc_mode || !p->fb ||
			    !p->crtc || !p->crtc_h) {
				free(o->formats);
				continue;
			}
		}
		kms->nout++;
	}
	return kms->nout ? 0 : -ENODEV;
}

/* Whether @path is a KMS device that takes atomic commits; opens it. */
static int displ_kms_try(struct displ_kms *kms, const char *path)
{
	struct drm_set_client_cap caps[] = {
		{ DRM_CLIENT_CAP_UNIVERSAL_PLANES, 1 },
		{ DRM_CLIENT_CAP_ATOMIC, 1 },
	};
	struct drm_set_client_cap wb = { DRM_CLIENT_CAP_WRITEBACK_CONNECTORS, 1 };
	int ret;

	kms->fd = open(path, O_RDWR | O_CLOEXEC);
	if (kms->fd < 0)
		return -errno;
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		if (ioctl(kms->fd, DRM_IOCTL_SET_CLIENT_CAP, &caps[i])) {
			ret = -errno;
			goto err_close;
		}
	/* Optional: only the capture needs it. */
	ioctl(kms->fd, DRM_IOCTL_SET_CLIENT_CAP, &wb);
	ret = displ_kms_outputs(kms);
	if (ret)
		goto err_close;
	snprintf(kms->device, sizeof(kms->device), "%s", path);
	return 0;

err_close:
	for (unsigned int i = 0; i < kms->nout; i++)
		free(kms->out[i].formats);
	kms->nout = 0;
	kms->wb_conn = 0;
	close(kms->fd);
	kms->fd = -1;
	return ret;
}

static int displ_kms_open(struct displ_kms *kms)
{
	struct dirent *e;
	int ret = -ENODEV;
	DIR *dir;

	if (kms->opts.device)
		return displ_kms_try(kms, kms->opts.device);
	dir = opendir("/dev/dri");
	if (!dir)
		return -ENODEV;
	while (ret && (e = readdir(dir))) {
		char path[300];

		if (strncmp(e->d_name, "card", 4))
			continue;
		snprintf(path, sizeof(path), "/dev/dri/%s", e->d_name);
		ret = displ_kms_try(kms, path);
	}
	closedir(dir);
	return ret;
}

/* ---- modes ---- */

/*
 * The mode for @w x @h: the connector's own, preferred first, else one
 * made with reduced blanking at 60 Hz (which virtual and most digital
 * outputs take).
 */
static void displ_kms_mode(struct displ_kms *kms, struct displ_kms_output *o, uint32_t w,
			   uint32_t h, struct drm_mode_modeinfo *mode)
{
	struct drm_mode_get_connector gc = { .connector_id = o->conn_id };
	struct drm_mode_modeinfo *modes = NULL;
	bool found = false;

	if (!ioctl(kms->fd, DRM_IOCTL_MODE_GETCONNECTOR, &gc) && gc.count_modes) {
		uint32_t n = gc.count_modes;

		modes = calloc(n, sizeof(*modes));
		memset(&gc, 0, sizeof(gc));
		gc.connector_id = o->conn_id;
		gc.count_modes = n;
		gc.modes_ptr = (uintptr_t)modes;
		if (modes && !ioctl(kms->fd, DRM_IOCTL_MODE_GETCONNECTOR, &gc) && gc.count_modes <= n)
			for (uint32_t i = 0; i < gc.count_modes; i++) {
				if (modes[i].hdisplay != w || modes[i].vdisplay != h ||
				    (modes[i].flags & DRM_MODE_FLAG_INTERLACE))
					continue;
				if (!found || (modes[i].type & DRM_MODE_TYPE_PREFERRED) ||
				    (!(mode->type & DRM_MODE_TYPE_PREFERRED) &&
				     modes[i].vrefresh > mode->vrefresh)) {
					*mode = modes[i];
					found = true;
				}
			}
	}
	free(modes);
	if (found)
		return;
	memset(mode, 0, sizeof(*mode));
	mode->hdisplay = w;
	mode->hsync_start = w + 48;
	mode->hsync_end = w + 80;
	mode->htotal = w + 160;
	mode->vdisplay = h;
	mode->vsync_start = h + 3;
	mode->vsync_end = h + 9;
	mode->vtotal = h + 30;
	mode->vrefresh = 60;
	mode->clock = (uint32_t)((uint64_t)mode->htotal * mode->vtotal * 60 / 1000);
	mode->flags = DRM_MODE_FLAG_PHSYNC | DRM_MODE_FLAG_NVSYNC;
	mode->type = DRM_MODE_TYPE_USERDEF;
	snprintf(mode->name, sizeof(mode->name), "%ux%u", w, h);
}

/* ---- the writeback capture ---- */

static void displ_kms_wb_free(struct displ_kms *kms, struct displ_kms_output *o)
{
	struct drm_mode_destroy_dumb dd = { .handle = o->wb_handle };

	if (o->wb_map)
		munmap(o->wb_map, o->wb_size);
	if (o->wb_fb)
		ioctl(kms->fd, DRM_IOCTL_MODE_RMFB, &o->wb_fb);
	if (o->wb_handle)
		ioctl(kms->fd, DRM_IOCTL_MODE_DESTROY_DUMB, &dd);
	o->wb_map = NULL;
	o->wb_fb = o->wb_handle = 0;
}

/* A mode-sized XRGB8888 dumb buffer for the writeback connector. */
static int displ_kms_wb_alloc(struct displ_kms *kms, struct displ_kms_output *o)
{
	struct drm_mode_create_dumb cd = {
		.width = o->mode.hdisplay, .height = o->mode.vdisplay, .bpp = 32,
	};
	struct drm_mode_fb_cmd2 fc = {
		.width = o->mode.hdisplay, .height = o->mode.vdisplay,
		.pixel_format = DRM_FORMAT_XRGB8888,
	};
	struct drm_mode_map_dumb md = { 0 };
	void *map;
	int ret;

	if (o->wb_fb && o->wb_w == o->mode.hdisplay && o->wb_h == o->mode.vdisplay)
		return 0;
	displ_kms_wb_free(kms, o);
	if (ioctl(kms->fd, DRM_IOCTL_MODE_CREATE_DUMB, &cd))
		return -errno;
	o->wb_handle = cd.handle;
	o->wb_pitch = cd.pitch;
	o->wb_size = cd.size;
	fc.handles[0] = cd.handle;
	fc.pitches[0] = cd.pitch;
	md.handle = cd.handle;
	if (ioctl(kms->fd, DRM_IOCTL_MODE_ADDFB2, &fc)) {
		ret = -errno;
		goto err_free;
	}
	o->wb_fb = fc.fb_id;
	if (ioctl(kms->fd, DRM_IOCTL_MODE_MAP_DUMB, &md)) {
		ret = -errno;
		goto err_free;
	}
	map = mmap(NULL, o->wb_size, PROT_READ, MAP_SHARED, kms->fd, md.offset);
	if (map == MAP_FAILED) {
		ret = -errno;
		goto err_free;
	}
	o->wb_map = map;
	o->wb_w = o->mode.hdisplay;
	o->wb_h = o->mode.vdisplay;
	return 0;

err_free:
	displ_kms_wb_free(kms, o);
	return ret;
}

/*
 * A blocking commit of @o's current state with a writeback job whose
 * out-fence goes to @fence: the writeback connector as a clone of the
 * output, or with @swap in its place (vkms's encoders cannot be cloned).
 */
static int displ_kms_wb_commit(struct displ_kms *kms, struct displ_kms_output *o, bool swap,
			       int32_t *fence)
{
	struct displ_kms_req r;
	int ret;

	displ_kms_state(o, o->shown_fb, &r);
	if (swap)
		displ_kms_add(&r, o->conn_id, o->props.conn_crtc, 0);
	displ_kms_add(&r, kms->wb_conn, kms->wb_crtc_prop, o->crtc_id);
	displ_kms_add(&r, kms->wb_conn, kms->wb_fb_prop, o->wb_fb);
	displ_kms_add(&r, kms->wb_conn, kms->wb_fence_prop, (uintptr_t)fence);
	/* Routing the writeback connector to this CRTC is a modeset. */
	ret = displ_kms_commit_req(kms, &r, kms->wb_routed == o->crtc_id && !swap ? 0 :
				   DRM_MODE_ATOMIC_ALLOW_MODESET, 0);
	if (!ret)
		kms->wb_routed = o->crtc_id;
	return ret;
}

/*
 * What @o's CRTC composes, written back and saved as a PNG: one blocking
 * commit of the current state with a writeback job, then its out-fence.
 */
static void displ_kms_capture(struct displ_kms *kms, struct displ_kms_output *o)
{
	struct displ_conn *c = o->conn;
	struct displ_front *f = c->front;
	struct displ_frame fr;
	struct pollfd pfd;
	int32_t fence = -1;
	char path[512];
	bool swap;
	int ret;

	o->capture = false;
	if (!kms->wb_conn || !(kms->wb_possible_crtcs & (1u << o->crtc_index))) {
		displ_log(f, c->index, "%s: no writeback connector for this CRTC to capture with",
			  o->name);
		return;
	}
	if (!o->active || !o->shown_fb) {
		displ_log(f, c->index, "%s: nothing on screen to capture", o->name);
		return;
	}
	ret = displ_kms_wb_alloc(kms, o);
	if (ret) {
		displ_log(f, c->index, "%s: no writeback buffer: %s", o->name, strerror(-ret));
		return;
	}
	/* A clone of the output where the device can; else in its place. */
	swap = kms->wb_noclone;
	ret = displ_kms_wb_commit(kms, o, swap, &fence);
	if (ret == -EINVAL && !swap) {
		swap = kms->wb_noclone = true;
		ret = displ_kms_wb_commit(kms, o, swap, &fence);
	}
	if (ret) {
		displ_log(f, c->index, "%s: the writeback commit failed: %s", o->name,
			  strerror(-ret));
		return;
	}
	pfd = (struct pollfd){ .fd = fence, .events = POLLIN };
	ret = fence < 0 ? -ENOENT : poll(&pfd, 1, 2000) == 1 ? 0 : -ETIMEDOUT;
	if (fence >= 0)
		close(fence);
	if (swap) {
		struct displ_kms_req back;

		displ_kms_state(o, o->shown_fb, &back);
		displ_kms_add(&back, kms->wb_conn, kms->wb_crtc_prop, 0);
		if (displ_kms_commit_req(kms, &back, DRM_MODE_ATOMIC_ALLOW_MODESET, 0)) {
			displ_log(f, c->index, "%s: cannot route the CRTC back: %m", o->name);
			/* The next commit is a modeset that takes it back. */
			o->active = false;
		} else {
			kms->wb_routed = 0;
		}
	}
	if (ret) {
		displ_log(f, c->index, "%s: no writeback: %s", o->name, strerror(-ret));
		return;
	}
	fr = (struct displ_frame){
		.fd = -1, .pitch = o->wb_pitch, .width = o->wb_w, .height = o->wb_h,
		.format = DRM_FORMAT_XRGB8888, .cpp = 4,
	};
	snprintf(path, sizeof(path), "%s/scanout-%u-%u-%u.png", kms->opts.capture_dir, f->domid,
		 f->devid, c->index);
	ret = displ_png_write(path, &fr, o->wb_map);
	if (ret)
		displ_log(f, c->index, "cannot write %s: %s", path, strerror(-ret));
	else
		displ_log(f, c->index, "%s: what the CRTC composed is in %s (writeback%s)", o->name,
			  path, swap ? " in the output's place for a frame: no clone here" : "");
}

/* ---- commits ---- */

/* The guest's buffer @fb as a framebuffer of the device: PRIME, ADDFB2. */
static int displ_kms_fb_create(struct displ_kms *kms, const struct displ_fb *fb, uint32_t *id)
{
	struct drm_prime_handle ph = { .fd = fb->dbuf->fd, .flags = DRM_CLOEXEC };
	struct drm_mode_fb_cmd2 fc = {
		.width = fb->width, .height = fb->height, .pixel_format = fb->format,
	};
	struct drm_gem_close gc = { 0 };
	int ret = 0;

	if (ioctl(kms->fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &ph))
		return -errno;
	fc.handles[0] = ph.handle;
	fc.pitches[0] = fb->pitch;
	fc.offsets[0] = fb->dbuf->offset;
	if (ioctl(kms->fd, DRM_IOCTL_MODE_ADDFB2, &fc))
		ret = -errno;
	/* The framebuffer holds the object; the handle is not needed. */
	gc.handle = ph.handle;
	ioctl(kms->fd, DRM_IOCTL_GEM_CLOSE, &gc);
	*id = fc.fb_id;
	return ret;
}

/* A non-blocking commit of @fb on @o whose completion is an event. */
static int displ_kms_flip(struct displ_kms *kms, struct displ_kms_output *o, uint32_t fb)
{
	uint32_t flags = DRM_MODE_ATOMIC_NONBLOCK | DRM_MODE_PAGE_FLIP_EVENT;
	struct displ_kms_req r;
	bool unroute;
	int ret;

	displ_kms_state(o, fb, &r);
	if (!o->active)
		flags |= DRM_MODE_ATOMIC_ALLOW_MODESET;
	/* Left in the output's place by a capture whose route back failed. */
	unroute = !o->active && kms->wb_noclone && kms->wb_routed == o->crtc_id;
	if (unroute)
		displ_kms_add(&r, kms->wb_conn, kms->wb_crtc_prop, 0);
	ret = displ_kms_commit_req(kms, &r, flags, (uint64_t)o->gen << 32 | (o - kms->out + 1));
	o->commits++;
	if (ret) {
		o->failed++;
		return ret;
	}
	if (unroute)
		kms->wb_routed = 0;
	o->active = true;
	o->busy = true;
	o->shown_fb = fb;
	return 0;
}

/*
 * @o's CRTC off, blocking (after any commit in flight): the connector
 * unrouted, no mode, no plane.  Not a plane-less CRTC left on, which
 * many drivers refuse.
 */
static int displ_kms_off(struct displ_kms *kms, struct displ_kms_output *o)
{
	struct displ_kms_req r = { 0 };
	int ret;

	if (!o->active)
		return 0;
	displ_kms_add(&r, o->plane_id, o->props.fb, 0);
	displ_kms_add(&r, o->plane_id, o->props.crtc, 0);
	displ_kms_add(&r, o->conn_id, o->props.conn_crtc, 0);
	if (kms->wb_routed == o->crtc_id)
		displ_kms_add(&r, kms->wb_conn, kms->wb_crtc_prop, 0);
	displ_kms_add(&r, o->crtc_id, o->props.crtc_mode, 0);
	displ_kms_add(&r, o->crtc_id, o->props.crtc_active, 0);
	ret = displ_kms_commit_req(kms, &r, DRM_MODE_ATOMIC_ALLOW_MODESET, 0);
	o->commits++;
	if (ret) {
		o->failed++;
		return ret;
	}
	if (kms->wb_routed == o->crtc_id)
		kms->wb_routed = 0;
	o->active = false;
	o->shown_fb = 0;
	return 0;
}

/*
 * A commit completed on @o: the next queued one goes, or else the
 * guest's pending flip is on screen.
 */
static void displ_kms_complete(struct displ_kms *kms, struct displ_kms_output *o)
{
	struct displ_conn *c = o->conn;

	o->busy = false;
	if (!c)
		return;
	if (o->queued) {
		o->queued = false;
		if (o->queued_fb && !displ_kms_flip(kms, o, o->queued_fb))
			return;
		if (o->queued_fb || displ_kms_off(kms, o))
			displ_log(c->front, c->index, "%s: commit failed", o->name);
	}
	if (o->capture)
		displ_kms_capture(kms, o);
	if (c->flip_pending)
		displ_flip_done(c);
}

/* The outputs @f may use: one per connector, by --kms-map or in order. */
static struct displ_kms_output *displ_kms_pick(struct displ_kms *kms, struct displ_conn *c)
{
	const struct displ_front *f = c->front;

	for (unsigned int m = 0; m < kms->opts.nmaps; m++) {
		const struct displ_kms_map *map = &kms->opts.maps[m];

		if ((map->domid >= 0 && (uint32_t)map->domid != f->domid) ||
		    (map->devid >= 0 && (uint32_t)map->devid != f->devid) ||
		    (map->conn >= 0 && (unsigned int)map->conn != c->index))
			continue;
		for (unsigned int i = 0; i < kms->nout; i++)
			if (!strcmp(kms->out[i].name, map->connector))
				return kms->out[i].conn ? NULL : &kms->out[i];
		return NULL;
	}
	if (kms->opts.nmaps)
		return NULL;
	for (unsigned int i = 0; i < kms->nout; i++)
		if (!kms->out[i].conn)
			return &kms->out[i];
	return NULL;
}

static int displ_kms_conn_add(void *priv, struct displ_conn *c)
{
	struct displ_kms *kms = priv;
	struct displ_kms_output *o = displ_kms_pick(kms, c);

	if (!o) {
		displ_log(c->front, c->index, "no free dom0 output on %s for this connector%s",
			  kms->device, kms->opts.nmaps ? " (see --kms-map)" : "");
		return -ENODEV;
	}
	displ_kms_mode(kms, o, c->width, c->height, &o->mode);
	{
		struct drm_mode_create_blob cb = {
			.data = (uintptr_t)&o->mode, .length = sizeof(o->mode),
		};

		if (ioctl(kms->fd, DRM_IOCTL_MODE_CREATEPROPBLOB, &cb))
			return -errno;
		o->mode_blob = cb.blob_id;
	}
	o->conn = c;
	o->gen++;
	o->active = o->busy = o->queued = o->capture = false;
	o->shown_fb = 0;
	c->sink_priv = o;
	displ_log(c->front, c->index, "shown on %s of %s, mode %s %u Hz", o->name, kms->device,
		  o->mode.name, o->mode.vrefresh);
	return 0;
}

/* The CRTC goes off, blocking: nothing of the frontend stays on it. */
static void displ_kms_conn_remove(void *priv, struct displ_conn *c)
{
	struct displ_kms *kms = priv;
	struct displ_kms_output *o = c->sink_priv;
	int ret;

	if (!o)
		return;
	ret = displ_kms_off(kms, o);
	if (ret)
		displ_log(c->front, c->index, "%s: cannot turn the CRTC off: %s", o->name,
			  strerror(-ret));
	if (o->mode_blob)
		ioctl(kms->fd, DRM_IOCTL_MODE_DESTROYPROPBLOB,
		      &(struct drm_mode_destroy_blob){ .blob_id = o->mode_blob });
	displ_kms_wb_free(kms, o);
	displ_log(c->front, c->index, "%s: %llu commits, %llu refused", o->name,
		  (unsigned long long)o->commits, (unsigned long long)o->failed);
	o->mode_blob = 0;
	o->conn = NULL;
	o->active = o->queued = o->capture = false;
	o->shown_fb = 0;
	o->commits = o->failed = 0;
	c->sink_priv = NULL;
}

static bool displ_kms_has_format(const struct displ_kms_output *o, uint32_t format)
{
	for (uint32_t i = 0; i < o->nformats; i++)
		if (o->formats[i] == format)
			return true;
	return false;
}

/*
 * FB_ATTACH: the buffer becomes a framebuffer of the device, and each
 * output of the frontend checks it with a test-only commit, so that what
 * the plane cannot take is refused now.
 */
static int displ_kms_fb_add(void *priv, struct displ_front *f, struct displ_fb *fb)
{
	struct displ_kms *kms = priv;
	unsigned int fit = 0, formats = 0;
	uint32_t id = 0;
	int ret;

	/* Said first: a kernel that knows no plane of its takes it refuses ADDFB2 too. */
	for (unsigned int i = 0; i < kms->nout; i++) {
		struct displ_kms_output *o = &kms->out[i];

		if (!o->conn || o->conn->front != f)
			continue;
		if (displ_kms_has_format(o, fb->format))
			formats++;
		else if (f->be->verbose)
			displ_log(f, o->conn->index, "%s: the plane cannot show format %#x",
				  o->name, fb->format);
	}
	if (!formats)
		return -EINVAL;
	ret = displ_kms_fb_create(kms, fb, &id);
	if (ret) {
		if (f->be->verbose)
			displ_log(f, -1, "the KMS device refuses buffer %#llx as %ux%u: %s",
				  (unsigned long long)fb->dbuf->cookie, fb->width, fb->height,
				  strerror(-ret));
		return -EINVAL;
	}
	/* Taken if one output of the frontend can show it. */
	for (unsigned int i = 0; i < kms->nout; i++) {
		struct displ_kms_output *o = &kms->out[i];
		struct displ_kms_req r;

		if (!o->conn || o->conn->front != f || !displ_kms_has_format(o, fb->format))
			continue;
		displ_kms_state(o, id, &r);
		ret = displ_kms_commit_req(kms, &r, DRM_MODE_ATOMIC_TEST_ONLY |
					   (o->active ? 0 : DRM_MODE_ATOMIC_ALLOW_MODESET), 0);
		if (!ret)
			fit++;
		else if (f->be->verbose)
			displ_log(f, o->conn->index, "%s: the plane cannot show a %ux%u framebuffer: %s",
				  o->name, fb->width, fb->height, strerror(-ret));
	}
	if (!fit) {
		ioctl(kms->fd, DRM_IOCTL_MODE_RMFB, &id);
		return -EINVAL;
	}
	fb->sink_fb = id;
	return 0;
}

static void displ_kms_fb_gone(void *priv, const struct displ_fb *fb)
{
	struct displ_kms *kms = priv;
	uint32_t id = fb->sink_fb;

	if (!id)
		return;
	for (unsigned int i = 0; i < kms->nout; i++) {
		struct displ_kms_output *o = &kms->out[i];

		/* A queued flip to it is dropped; its event still comes. */
		if (o->queued && o->queued_fb == id)
			o->queued = false;
		/*
		 * On screen (or about to be): the output goes off first, as
		 * the kernel's RMFB would otherwise do it half (the plane only,
		 * or everything behind our back).
		 */
		if (o->shown_fb == id && displ_kms_off(kms, o))
			displ_log(o->conn ? o->conn->front : NULL, o->conn ? (int)o->conn->index : -1,
				  "%s: cannot turn the CRTC off", o->name);
	}
	ioctl(kms->fd, DRM_IOCTL_MODE_RMFB, &id);
}

static int displ_kms_show(void *priv, struct displ_conn *c, const struct displ_frame *fr)
{
	struct displ_kms *kms = priv;
	struct displ_kms_output *o = c->sink_priv;

	if (!o || !fr->fb->sink_fb)
		return -EINVAL;
	if (o->busy) {
		o->queued = true;
		o->queued_fb = fr->fb->sink_fb;
		return 0;
	}
	return displ_kms_flip(kms, o, fr->fb->sink_fb);
}

static void displ_kms_blank(void *priv, struct displ_conn *c)
{
	struct displ_kms *kms = priv;
	struct displ_kms_output *o = c->sink_priv;

	if (!o || !o->active)
		return;
	if (o->busy) {
		o->queued = true;
		o->queued_fb = 0;
		return;
	}
	if (displ_kms_off(kms, o))
		displ_log(c->front, c->index, "%s: cannot turn the CRTC off", o->name);
}

/* The device's events: completions of our non-blocking commits. */
static void displ_kms_event(void *priv, int fd)
{
	struct displ_kms *kms = priv;
	char buf[1024];
	ssize_t n = read(fd, buf, sizeof(buf));

	for (ssize_t pos = 0; n > 0 && pos + (ssize_t)sizeof(struct drm_event) <= n;) {
		struct drm_event *e = (struct drm_event *)(buf + pos);

		if (e->length < sizeof(*e) || pos + (ssize_t)e->length > n)
			break;
		if (e->type == DRM_EVENT_FLIP_COMPLETE &&
		    e->length >= sizeof(struct drm_event_vblank)) {
			struct drm_event_vblank *v = (struct drm_event_vblank *)e;

			uint32_t i = (uint32_t)v->user_data;

			/* A commit of a connector that went: nothing waits for it. */
			if (i >= 1 && i <= kms->nout && kms->out[i - 1].gen == v->user_data >> 32)
				displ_kms_complete(kms, &kms->out[i - 1]);
		}
		pos += e->length;
	}
}

static void displ_kms_signal(void *priv)
{
	struct displ_kms *kms = priv;

	if (!kms->opts.capture_dir)
		return;
	for (unsigned int i = 0; i < kms->nout; i++) {
		struct displ_kms_output *o = &kms->out[i];

		if (!o->conn)
			continue;
		if (o->busy)
			o->capture = true;
		else
			displ_kms_capture(kms, o);
	}
}

/*
 * be-alloc from the device itself: a dumb buffer, which its planes can
 * always scan out (contiguous where the controller needs it).  The
 * frontend computed the pitch and size; a device that lays the buffer out
 * otherwise cannot serve it.
 */
static int displ_kms_alloc(void *priv, uint32_t width, uint32_t height, uint32_t bpp,
			   uint64_t size, int *fd)
{
	struct displ_kms *kms = priv;
	struct drm_mode_create_dumb cd = { .width = width, .height = height, .bpp = bpp };
	struct drm_prime_handle ph = { .flags = DRM_CLOEXEC | DRM_RDWR };
	struct drm_gem_close gc = { 0 };
	int ret = 0;

	if (!width) {
		/* No geometry (a PRIME buffer): rows of a page. */
		cd.width = 1024;
		cd.bpp = 32;
		cd.height = size / 4096;
	}
	if (ioctl(kms->fd, DRM_IOCTL_MODE_CREATE_DUMB, &cd))
		return -errno;
	gc.handle = ph.handle = cd.handle;
	if ((width && cd.pitch != ((uint64_t)width * bpp + 7) / 8) ||
	    (cd.size + 4095) / 4096 * 4096 != size)
		ret = -EINVAL;
	else if (ioctl(kms->fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &ph))
		ret = -errno;
	else
		*fd = ph.fd;
	/* The dma-buf holds the object. */
	ioctl(kms->fd, DRM_IOCTL_GEM_CLOSE, &gc);
	return ret;
}

static void displ_kms_destroy(void *priv)
{
	struct displ_kms *kms = priv;

	for (unsigned int i = 0; i < kms->nout; i++) {
		displ_kms_wb_free(kms, &kms->out[i]);
		free(kms->out[i].formats);
	}
	close(kms->fd);
	free(kms);
}

static const struct displ_sink_ops displ_kms_ops = {
	.name = "kms",
	.conn_add = displ_kms_conn_add,
	.conn_remove = displ_kms_conn_remove,
	.fb_add = displ_kms_fb_add,
	.show = displ_kms_show,
	.blank = displ_kms_blank,
	.fb_gone = displ_kms_fb_gone,
	.event = displ_kms_event,
	.signal = displ_kms_signal,
	.alloc = displ_kms_alloc,
	.destroy = displ_kms_destroy,
};

/**
 * displ_kms_parse_map() - parse a --kms-map specification
 * @spec: "DOMID.DEVID.CONN=NAME", each number or "*"
 * @map: filled in
 *
 * Return: 0, or -EINVAL for anything else.
 */
int displ_kms_parse_map(const char *spec, struct displ_kms_map *map)
{
	const char *eq = strchr(spec, '=');
	char nums[64], *tok, *save = NULL;
	int32_t *field[] = { &map->domid, &map->devid, &map->conn };
	unsigned int i = 0;

	if (!eq || (size_t)(eq - spec) >= sizeof(nums) || !eq[1] ||
	    strlen(eq + 1) >= sizeof(map->connector))
		return -EINVAL;
	memcpy(nums, spec, eq - spec);
	nums[eq - spec] = 0;
	for (tok = strtok_r(nums, ".", &save); tok; tok = strtok_r(NULL, ".", &save)) {
		char *end;
		long v;

		if (i == 3)
			return -EINVAL;
		if (!strcmp(tok, "*")) {
			*field[i++] = -1;
			continue;
		}
		v = strtol(tok, &end, 10);
		if (*end || v < 0 || v > 65535)
			return -EINVAL;
		*field[i++] = v;
	}
	if (i != 3)
		return -EINVAL;
	strcpy(map->connector, eq + 1);
	return 0;
}

/**
 * displ_kms_create() - the KMS sink
 * @be: the backend
 * @opts: its options
 * @sink: filled in
 *
 * Opens the KMS device (the first card with a CRTC, a connector and atomic
 * modesetting unless @opts names one) and becomes its master.
 *
 * Return: 0; -ENODEV when there is no such device, -errno when it cannot
 * be opened or another process is its master (-EACCES on commits later,
 * so it is checked here with DRM_IOCTL_SET_MASTER).
 */
int displ_kms_create(struct displ_backend *be, const struct displ_kms_opts *opts,
		     struct displ_sink *sink)
{
	struct displ_kms *kms = calloc(1, sizeof(*kms));
	int ret;

	if (!kms)
		return -ENOMEM;
	kms->be = be;
	kms->opts = *opts;
	kms->fd = -1;
	ret = displ_kms_open(kms);
	if (ret)
		goto err_free;
	/* The first opener is master already; anyone else's is an error. */
	if (ioctl(kms->fd, DRM_IOCTL_SET_MASTER, 0) && errno != EINVAL) {
		ret = -errno;
		goto err_close;
	}
	ret = displ_sink_watch(be, kms->fd);
	if (ret)
		goto err_close;
	for (unsigned int i = 0; i < kms->nout; i++)
		displ_log(NULL, -1, "%s: %s, CRTC %u, primary plane %u with %u formats%s",
			  kms->device, kms->out[i].name, kms->out[i].crtc_id,
			  kms->out[i].plane_id, kms->out[i].nformats,
			  kms->wb_conn && (kms->wb_possible_crtcs & (1u << kms->out[i].crtc_index)) ?
			  ", writeback" : "");
	sink->ops = &displ_kms_ops;
	sink->priv = kms;
	return 0;

err_close:
	for (unsigned int i = 0; i < kms->nout; i++)
		free(kms->out[i].formats);
	close(kms->fd);
err_free:
	free(kms);
	return ret;
}
