#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# build-root.sh RELEASE: print the path of the cached build root of Debian
# RELEASE, building it first if needed: a chroot with that release's
# compilers, kbuild dependencies, sparse, dkms and debhelper, in which the
# targets of a release other than the host's are built (gd_release_run),
# as on a dom0 that runs it.  A kernel's linux-kbuild tools and its
# compiler (gcc-14 for trixie) run only on their own release.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

rel=$1
pkgs="build-essential make gcc libc6-dev linux-libc-dev gcc-aarch64-linux-gnu libc6-dev-arm64-cross
      bc flex bison libelf-dev libssl-dev kmod sparse dwarves file python3 xz-utils
      zstd cpio rsync libdrm-dev debhelper dh-dkms dkms dpkg-dev fakeroot pkg-config libxen-dev
      libwayland-dev wayland-protocols"
# A new compiler or tool on the mirror makes a new root.
vers=$(gd_candidates "$rel" gcc:amd64 gcc-aarch64-linux-gnu:amd64 libc6-dev:amd64 sparse:amd64 \
	dkms:amd64 debhelper:amd64)
key=$(echo "$pkgs $vers v1" | sha1sum | cut -c1-12)
out=$GD_CACHE/buildroot/$rel-$key
if [ ! -e "$out/.complete" ]; then
	gd_log "building the $rel build root (mmdebstrap, about a minute)"
	mkdir -p "$GD_CACHE/buildroot"
	rm -rf "$out"
	gd_mmdebstrap "$rel" "$out" --variant=minbase --include="$(echo $pkgs | tr ' ' ',')"
	touch "$out/.complete"
fi
echo "$out"
