#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# checkpatch.sh: run the kernel's checkpatch.pl --strict on the module and
# the uAPI header.  Debian's headers packages lack checkpatch.pl; it comes
# from the linux-source-6.1 package (gd_kernel_scripts).
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

dir=$(gd_kernel_scripts) || gd_die "no checkpatch.pl"

cd "$GD_TOP"
files=$(git ls-files 'drivers/xen/gntdev-dmabuf/*.[ch]' 'uapi/*.h' 2>/dev/null ||
	ls drivers/xen/gntdev-dmabuf/*.[ch] uapi/*.h)
"$dir/scripts/checkpatch.pl" --strict --no-tree --quiet --show-types \
	--ignore FILE_PATH_CHANGES -f $files
