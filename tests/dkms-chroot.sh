#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# dkms-chroot.sh RELEASE DEBS OUT KVER...: install the gntdev-dmabuf-dkms
# package with dpkg in a fresh chroot of Debian RELEASE that has dkms, a
# compiler and the headers of each KVER (amd64), as on a real dom0: its
# postinst must build and install the module for every one of them;
# removing the package must remove the modules again.  The chroot is a
# copy of one cached per release, kernels and package versions.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

rel=$1 debs=$2 out=$3
shift 3
root=$out/root
rm -rf "$out"
mkdir -p "$out"
trap 'umount "$root/proc" 2>/dev/null || true; rm -rf "$root"' EXIT
headers=$(printf 'linux-headers-%s,' "$@")
pkgs="dkms,gcc,make,${headers%,}"
# The chroot before our package, cached: new versions on the mirror make a
# new one.
# shellcheck disable=SC2046
key=$(echo "$pkgs $(gd_candidates "$rel" $(printf '%s:amd64 ' ${pkgs//,/ })) v1" | sha1sum | cut -c1-12)
base=$GD_CACHE/dkms-root/$rel-$key
if [ ! -e "$base/.complete" ]; then
	mkdir -p "$GD_CACHE/dkms-root"
	rm -rf "$base"
	gd_mmdebstrap "$rel" "$base" --variant=minbase --include="$pkgs" 2> "$out/mmdebstrap.log"
	touch "$base/.complete"
fi
cp -a "$base" "$root"
cp "$debs"/gntdev-dmabuf-dkms_*_all.deb "$root/tmp/"
mount -t proc proc "$root/proc"
chroot "$root" sh -c 'dpkg -i /tmp/gntdev-dmabuf-dkms_*_all.deb' > "$out/install.log" 2>&1
for k in "$@"; do
	[ -f "$root/lib/modules/$k/updates/dkms/xen-gntdev-dmabuf.ko" ] ||
		[ -f "$root/lib/modules/$k/updates/dkms/xen-gntdev-dmabuf.ko.xz" ] ||
		{ echo "dpkg -i did not build the module for $k" >&2; exit 1; }
done
chroot "$root" dpkg -r gntdev-dmabuf-dkms > "$out/remove.log" 2>&1
if find "$root/lib/modules" -name 'xen-gntdev-dmabuf.ko*' | grep -q .; then
	echo "dpkg -r left the module behind" >&2
	exit 1
fi
echo "$rel: dpkg -i built and installed the module for $*; dpkg -r removed it"
