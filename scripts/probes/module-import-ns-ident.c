// SPDX-License-Identifier: GPL-2.0
/*
 * Until 6.13, MODULE_IMPORT_NS() takes a bare identifier, later a string.
 * Absent: DMA_BUF
 */
#include <linux/module.h>

MODULE_IMPORT_NS(DMA_BUF);
MODULE_LICENSE("GPL");
