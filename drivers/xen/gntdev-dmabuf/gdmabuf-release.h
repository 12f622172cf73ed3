/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gntdev-dmabuf: naming an export through the file that made it, and
 * reporting its release (EXP_WAIT_RELEASED, EXP_ID, EXP_RELEASED, poll).
 */
#ifndef GDMABUF_RELEASE_H
#define GDMABUF_RELEASE_H

#include <linux/list.h>
#include <linux/poll.h>

struct file;
struct gdmabuf_export;
struct gdmabuf_exp_id;
struct gdmabuf_exp_released;
struct gdmabuf_file;
struct gdmabuf_releases;
struct ioctl_gntdev_dmabuf_exp_wait_released;

/**
 * struct gdmabuf_release_name - an export as the file that made it knows it
 * @exp: the export, set once by gdmabuf_release_name_init().
 * @owner: the exporting file; NULL until the export is named, and again
 *	once the file is closed or the release reported.
 * @node: entry in @owner's list of live exports, then in its list of
 *	releases to report; empty otherwise.
 * @fd: the fd number EXP_FROM_REFS returned, which the legacy
 *	WAIT_RELEASED uses as the buffer's name.
 *
 * Embedded in the export; @owner, @node and @fd are protected by
 * gdmabuf_release_lock (gdmabuf-release.c).
 */
struct gdmabuf_release_name {
	struct gdmabuf_export *exp;
	struct gdmabuf_file *owner;
	struct list_head node;
	int fd;
};

void gdmabuf_release_name_init(struct gdmabuf_release_name *name, struct gdmabuf_export *exp);
void gdmabuf_release_name_add(struct gdmabuf_file *file, struct gdmabuf_release_name *name,
			      int fd);
void gdmabuf_release_report(struct gdmabuf_release_name *name, unsigned int count);
bool gdmabuf_release_name_open(struct gdmabuf_release_name *name);

int gdmabuf_release_file_open(struct gdmabuf_file *file);
void gdmabuf_release_file_closed(struct gdmabuf_file *file);
__poll_t gdmabuf_release_poll(struct gdmabuf_file *file, struct file *filp, poll_table *wait);

long
gdmabuf_ioctl_gntdev_dmabuf_exp_wait_released(struct gdmabuf_file *file,
					      struct ioctl_gntdev_dmabuf_exp_wait_released
					      __user *uarg);
long gdmabuf_ioctl_exp_id(struct gdmabuf_file *file, struct gdmabuf_exp_id __user *uarg);
long gdmabuf_ioctl_exp_released(struct gdmabuf_file *file,
				struct gdmabuf_exp_released __user *uarg);

#endif /* GDMABUF_RELEASE_H */
