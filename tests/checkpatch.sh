#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# checkpatch.sh: run the kernel's checkpatch.pl --strict on the module and
# the uAPI header.  Debian's headers packages lack checkpatch.pl; it comes
# from the linux-source-6.1 package, downloaded once into the cache.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

dir=$GD_CACHE/checkpatch
if [ ! -x "$dir/scripts/checkpatch.pl" ]; then
	deb=$(gd_download linux-source-6.1 all) || gd_die "cannot download linux-source-6.1"
	tmp=$(mktemp -d "$GD_CACHE/checkpatch.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" --wildcards './usr/src/linux-source-*.tar.xz'
	tar -xJf "$tmp"/usr/src/linux-source-*.tar.xz -C "$tmp" --strip-components=1 --wildcards \
		'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' '*/scripts/const_structs.checkpatch'
	rm -rf "$dir"
	mkdir -p "$dir"
	mv "$tmp/scripts" "$dir/"
fi

cd "$GD_TOP"
files=$(git ls-files 'drivers/xen/gntdev-dmabuf/*.[ch]' 'uapi/*.h' 2>/dev/null ||
	ls drivers/xen/gntdev-dmabuf/*.[ch] uapi/*.h)
"$dir/scripts/checkpatch.pl" --strict --no-tree --quiet --show-types \
	--ignore FILE_PATH_CHANGES -f $files
