#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# dkms-build.sh DEBS TARGET OUT: build the module with DKMS from the
# gntdev-dmabuf-dkms package against TARGET's kernel headers, in private
# source and DKMS trees (nothing under /usr/src or /var/lib/dkms), as
# "dkms install" would on a dom0 running that kernel.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

debs=$1 target=$2 out=$3
# shellcheck disable=SC1090
. "$(gd_target_env "$target")"
rm -rf "$out"
mkdir -p "$out/tree"
dpkg -x "$debs"/gntdev-dmabuf-dkms_*_all.deb "$out/root"
ver=$(cat "$GD_TOP/VERSION")
cross=()
case $(gd_arch "$target") in
arm64) cross=(env ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-); darch=aarch64;;
*) darch=x86_64;;
esac
"${cross[@]}" dkms build -m gntdev-dmabuf -v "$ver" -k "$GD_KVER" -a "$darch" \
	--kernelsourcedir "$GD_KDIR" --sourcetree "$out/root/usr/src" --dkmstree "$out/tree" >&2
ko=$(find "$out/tree" -name 'xen-gntdev-dmabuf.ko*' -path "*/$GD_KVER/*" | head -n 1)
[ -n "$ko" ] || { echo "dkms built no module" >&2; exit 1; }
modinfo -F vermagic "$ko" | grep -q "^$GD_KVER " || { echo "wrong vermagic in $ko" >&2; exit 1; }
echo "$ko"
