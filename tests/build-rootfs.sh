#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# build-rootfs.sh ARCH RELEASE: print the path of the cached base root
# filesystem for dom0 on ARCH with Debian RELEASE, building it first if
# needed.
#
# x86_64: a minimal RELEASE with its xl toolstack (mmdebstrap), packed as an
#         uncompressed newc cpio so that it can be concatenated with the
#         per-target overlay (kernel modules, our module, tests).
# arm64:  busybox only; the base is the busybox binary, the overlay adds
#         the rest.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

arch=$1 rel=$2
mkdir -p "$GD_CACHE/rootfs"
case $arch in
x86_64)
	pkgs="xen-utils-$(gd_xen_series "$rel"),xenstore-utils,busybox-static,kmod,util-linux"
	vers=$(for p in ${pkgs//,/ }; do echo "$p=$(gd_candidate "$p:amd64" "$rel")"; done)
	key=$(echo "$pkgs $vers v1" | sha1sum | cut -c1-12)
	out=$GD_CACHE/rootfs/x86_64-$rel-$key.cpio
	if [ ! -s "$out" ]; then
		gd_log "building the x86_64 $rel dom0 root filesystem (mmdebstrap, about a minute)"
		tmp=$(mktemp -d "$GD_CACHE/rootfs/tmp.XXXXXX")
		trap 'rm -rf "$tmp"' EXIT
		mmdebstrap --quiet --mode=root --variant=minbase --include="$pkgs" \
			--dpkgopt='path-exclude=/usr/share/doc/*' \
			--dpkgopt='path-exclude=/usr/share/man/*' \
			--dpkgopt='path-exclude=/usr/share/locale/*' \
			"$rel" "$tmp/root" >&2
		rm -rf "$tmp/root/var/cache/apt"/*.bin "$tmp/root/var/lib/apt/lists"/*
		(cd "$tmp/root" && find . | cpio --quiet -o -H newc) > "$out.tmp"
		mv "$out.tmp" "$out"
	fi
	;;
arm64)
	deb=$(gd_download busybox-static arm64 "$rel")
	key=$(basename "$deb" .deb)
	out=$GD_CACHE/rootfs/arm64-$key
	if [ ! -x "$out/bin/busybox" ]; then
		rm -rf "$out"
		mkdir -p "$out/bin"
		gd_busybox arm64 "$rel" "$out/bin/busybox"
	fi
	;;
*)	gd_die "unknown arch $arch";;
esac
echo "$out"
