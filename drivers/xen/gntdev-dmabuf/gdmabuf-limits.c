// SPDX-License-Identifier: GPL-2.0
/*
 * gntdev-dmabuf: per-file and per-domain page quotas.
 *
 * Every export and import charges its pages to the open file that made it
 * and to the remote domain (the granter of an export, the grantee of an
 * import) until it is released, so that neither one process nor one
 * misbehaving guest can make dom0 map or grant without bound.  The limits
 * are the module parameters max_pages_per_file and max_pages_per_domain
 * (0: no limit), read at each charge, so they can change at run time.
 */

#define pr_fmt(fmt) "gntdev-dmabuf: " fmt

#include <linux/atomic.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include "gdmabuf-dev.h"
#include "gdmabuf-limits.h"
#include "gdmabuf-selftest.h"

/* Same default as the stock gntdev's per-request limit (256 MiB). */
unsigned int gdmabuf_max_pages_per_call = 65536;
module_param_named(max_pages_per_call, gdmabuf_max_pages_per_call, uint, 0644);
MODULE_PARM_DESC(max_pages_per_call,
		 "Most pages one export or import call may cover (default 65536)");

unsigned int gdmabuf_max_pages_per_file = 262144;
module_param_named(max_pages_per_file, gdmabuf_max_pages_per_file, uint, 0644);
MODULE_PARM_DESC(max_pages_per_file,
		 "Most pages one open file may have exported and imported at once, 0 for no limit (default 262144)");

unsigned int gdmabuf_max_pages_per_domain = 262144;
module_param_named(max_pages_per_domain, gdmabuf_max_pages_per_domain, uint, 0644);
MODULE_PARM_DESC(max_pages_per_domain,
		 "Most pages of one remote domain that may be exported or imported at once, 0 for no limit (default 262144)");

/* The default CMA area of Debian's arm64 kernels is 64 MiB. */
unsigned int gdmabuf_max_dma_pages = 16384;
module_param_named(max_dma_pages, gdmabuf_max_dma_pages, uint, 0644);
MODULE_PARM_DESC(max_dma_pages,
		 "Most pages one DMA-backed (WC or coherent) export may have (default 16384)");

/**
 * struct gdmabuf_quota - one open file's quota
 * @pages: pages of the file's live exports and imports.
 *
 * Lockless: charges add first and take back what went over the limit.
 */
struct gdmabuf_quota {
	atomic_long_t pages;
};

/*
 * Pages charged per remote domain, as xarray values indexed by domid;
 * absent means 0.  gdmabuf_domains_lock makes each read-modify-write of an
 * entry atomic.
 */
static DEFINE_XARRAY(gdmabuf_domain_pages);
static DEFINE_MUTEX(gdmabuf_domains_lock);

/* Context: gdmabuf_domains_lock held. */
static unsigned long gdmabuf_domain_load(domid_t domid)
{
	void *entry = xa_load(&gdmabuf_domain_pages, domid);

	lockdep_assert_held(&gdmabuf_domains_lock);
	return entry ? xa_to_value(entry) : 0;
}

/**
 * gdmabuf_charge_domain() - charge pages to a remote domain only
 * @domid: the remote domain
 * @count: pages to charge
 *
 * For what maps a domain's grants once more without a file of this
 * device: the PV CPU mappings of an export.
 *
 * Context: process context; takes gdmabuf_domains_lock.
 * Return: 0; -EDQUOT above max_pages_per_domain; -ENOMEM.
 */
int gdmabuf_charge_domain(domid_t domid, unsigned int count)
{
	unsigned int limit = READ_ONCE(gdmabuf_max_pages_per_domain);
	unsigned long cur;
	int ret;

	mutex_lock(&gdmabuf_domains_lock);
	cur = gdmabuf_domain_load(domid);
	if (limit && cur + count > limit) {
		mutex_unlock(&gdmabuf_domains_lock);
		pr_info_ratelimited("domain %u would hold %lu pages, above max_pages_per_domain (%u): refused\n",
				    domid, cur + count, limit);
		return -EDQUOT;
	}
	ret = gdmabuf_faultable(xa_err(xa_store(&gdmabuf_domain_pages, domid,
						xa_mk_value(cur + count), GFP_KERNEL)), -ENOMEM);
	mutex_unlock(&gdmabuf_domains_lock);
	return ret;
}

/**
 * gdmabuf_uncharge_domain() - give back pages charged to a domain
 * @domid: the remote domain
 * @count: pages to give back
 *
 * Context: process context; takes gdmabuf_domains_lock.
 */
void gdmabuf_uncharge_domain(domid_t domid, unsigned int count)
{
	unsigned long cur;

	mutex_lock(&gdmabuf_domains_lock);
	cur = gdmabuf_domain_load(domid);
	if (WARN_ON(cur < count))
		count = cur;
	if (cur == count)
		xa_erase(&gdmabuf_domain_pages, domid);
	else
		/* Replacing an existing value entry allocates nothing. */
		xa_store(&gdmabuf_domain_pages, domid, xa_mk_value(cur - count), GFP_KERNEL);
	mutex_unlock(&gdmabuf_domains_lock);
}

/**
 * gdmabuf_quota_file_open() - a new file's quota, empty
 * @file: the file being opened
 *
 * Context: process context.
 * Return: 0 or -ENOMEM.
 */
int gdmabuf_quota_file_open(struct gdmabuf_file *file)
{
	file->quota = kzalloc(sizeof(*file->quota), GFP_KERNEL);
	return file->quota ? 0 : -ENOMEM;
}

/**
 * gdmabuf_quota_file_closed() - free a closed file's quota
 * @file: the file being released, whose imports were dropped and whose
 *	exports were detached already
 *
 * Exports that outlive the file stay charged to it until then; the
 * charge goes with the file, and their domain's stays until release.
 *
 * Context: process context.
 */
void gdmabuf_quota_file_closed(struct gdmabuf_file *file)
{
	kfree(file->quota);
	file->quota = NULL;
}

/**
 * gdmabuf_uncharge_file() - give back pages charged to a file
 * @quota: the file's quota
 * @count: pages to give back
 *
 * Context: any; lockless (an atomic).
 */
void gdmabuf_uncharge_file(struct gdmabuf_quota *quota, unsigned int count)
{
	atomic_long_sub(count, &quota->pages);
}

/**
 * gdmabuf_charge() - charge a new buffer's pages to its file and domain
 * @quota: the quota of the file making the buffer
 * @domid: the remote domain
 * @count: the buffer's pages
 *
 * Context: process context; takes gdmabuf_domains_lock.
 * Return: 0; -EDQUOT when the file or the domain would go above its limit
 * (a rate-limited log line names the domain); -ENOMEM.
 */
int gdmabuf_charge(struct gdmabuf_quota *quota, domid_t domid, unsigned int count)
{
	unsigned int limit = READ_ONCE(gdmabuf_max_pages_per_file);
	long now = atomic_long_add_return(count, &quota->pages);
	int ret;

	if (limit && now > limit) {
		atomic_long_sub(count, &quota->pages);
		pr_info_ratelimited("a file would hold %ld pages (buffer of domain %u), above max_pages_per_file (%u): refused\n",
				    now, domid, limit);
		return -EDQUOT;
	}
	ret = gdmabuf_charge_domain(domid, count);
	if (ret)
		atomic_long_sub(count, &quota->pages);
	return ret;
}

/**
 * gdmabuf_domain_pages_show() - debugfs "domains": pages charged per domain
 * @m: the seq_file
 * @unused: seq_file show argument
 *
 * Context: process context; takes gdmabuf_domains_lock.
 * Return: 0.
 */
int gdmabuf_domain_pages_show(struct seq_file *m, void *unused)
{
	unsigned long domid;
	void *entry;

	mutex_lock(&gdmabuf_domains_lock);
	xa_for_each(&gdmabuf_domain_pages, domid, entry)
		seq_printf(m, "%lu %lu\n", domid, xa_to_value(entry));
	mutex_unlock(&gdmabuf_domains_lock);
	return 0;
}
