#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# package.sh OUT: build the Debian packages (dpkg-buildpackage -b -us -uc)
# from a copy of the tree into OUT/, as a user of the source would.
# The .debs end up in OUT/debs; the log in OUT/build.log.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

out=$1
rm -rf "$out"
mkdir -p "$out/src" "$out/debs"
(cd "$GD_TOP" && cp -a Makefile VERSION dkms.conf README.md drivers uapi scripts \
	userspace debian Documentation "$out/src/")
rm -rf "$out/src/userspace/build" "$out/src/drivers/xen/gntdev-dmabuf/gdmabuf-compat-probed.h"
(cd "$out/src" && dpkg-buildpackage -b -us -uc) > "$out/build.log" 2>&1
mv "$out"/*.deb "$out/debs/"
