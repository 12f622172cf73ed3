#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# build-rootfs.sh ARCH RELEASE: print the path of the cached base root
# filesystem for dom0 on ARCH with Debian RELEASE, building it first if
# needed: a minimal RELEASE with its xl toolstack, merged /usr, packed as
# an uncompressed newc cpio so that it can be concatenated with the
# per-target overlay (kernel modules, our module, tests, the domU).
#
# x86_64: mmdebstrap's minbase, installed (maintainer scripts run).
# arm64:  the same tools only unpacked (mmdebstrap's extract variant): an
#         amd64 host runs no arm64 maintainer script without binfmt_misc
#         and qemu-user, which a CI machine may not allow.  The test dom0
#         needs nothing they would do (users, alternatives; the dynamic
#         linker's cache is made by tests/guest/init), and what no test
#         uses (perl, python, gconv) is left out to keep the initrd small.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

arch=$1 rel=$2
xen=xen-utils-$(gd_xen_series "$rel")
# What the display backend links besides Xen's libraries (its Wayland sink),
# as its package's dependencies would bring them.
displ=libwayland-client0,libffi8
case $arch in
x86_64)
	debarch=amd64 variant=minbase hooks=() rev=v1
	pkgs="$xen,xenstore-utils,busybox-static,kmod,util-linux,$displ"
	;;
arm64)
	debarch=arm64 variant=extract rev=v2
	# minbase is merged-/usr through its maintainer scripts.
	hooks=(--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr)
	# What minbase would have: the release's Essential packages, and awk.
	essential=$(gd_apt "$rel" apt-cache dumpavail 2>/dev/null | awk '
		/^Package:/ { p = $2 } /^Architecture:/ { a = $2 } /^Essential: yes/ { e = 1 }
		/^$/ { if (e && (a == "arm64" || a == "all")) print p; e = 0 }' | sort -u)
	[ -n "$essential" ] || gd_die "no Essential packages listed for $rel"
	pkgs="$xen,xenstore-utils,busybox-static,kmod,mount,procps,mawk,$displ"
	pkgs="$pkgs,$(echo $essential | tr ' ' ',')"
	;;
*)	gd_die "unknown arch $arch";;
esac
# shellcheck disable=SC2046
vers=$(gd_candidates "$rel" $(printf '%s:'$debarch' ' ${pkgs//,/ }))
key=$(echo "$pkgs $vers $rev" | sha1sum | cut -c1-12)
mkdir -p "$GD_CACHE/rootfs"
out=$GD_CACHE/rootfs/$arch-$rel-$key.cpio
if [ ! -s "$out" ]; then
	gd_log "building the $arch $rel dom0 root filesystem (mmdebstrap, about a minute)"
	tmp=$(mktemp -d "$GD_CACHE/rootfs/tmp.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	gd_mmdebstrap "$rel" "$tmp/root" --variant=$variant --architectures=$debarch \
		"${hooks[@]}" --include="$pkgs"
	if [ $variant = extract ]; then
		# What mawk's maintainer script would do.
		ln -sf mawk "$tmp/root/usr/bin/awk"
		rm -rf "$tmp/root/usr/share/perl" "$tmp/root/usr/lib/aarch64-linux-gnu/perl" \
			"$tmp/root/usr/lib/aarch64-linux-gnu/gconv" \
			"$tmp/root/usr/lib"/python3* "$tmp/root/usr/bin"/python3*
	fi
	(cd "$tmp/root" && find . | cpio --quiet -o -H newc) > "$out.tmp"
	mv "$out.tmp" "$out"
fi
echo "$out"
