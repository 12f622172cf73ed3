#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# host-deps.sh: install the Debian packages the test bed needs on this
# machine, only those missing, without upgrading anything else.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

pkgs="make gcc libc6-dev linux-libc-dev gcc-aarch64-linux-gnu libc6-dev-arm64-cross
      qemu-system-x86 qemu-system-arm mmdebstrap cpio xz-utils zstd gzip bc flex bison
      libelf-dev libssl-dev kmod sparse dwarves file python3 rsync libdrm-dev
      debhelper dh-dkms dkms dpkg-dev fakeroot pkg-config libxen-dev libwayland-dev
      wayland-protocols"

sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
need_arm64=0
dpkg --print-foreign-architectures | grep -qx arm64 || need_arm64=1

# Kernel ABIs come and go on the mirror: refresh package lists older than
# six hours so that the newest kernels are resolved.
stale=0
[ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_InRelease' -mmin -360 2>/dev/null | head -n1)" ] && stale=1

if [ -n "$missing" ] || [ $need_arm64 = 1 ] || [ $stale = 1 ]; then
	if [ $need_arm64 = 1 ]; then
		gd_log "enabling the arm64 foreign architecture (for the arm64 kernels and busybox)"
		$sudo dpkg --add-architecture arm64
	fi
	gd_log "apt-get update"
	# Other repositories configured on the machine may be unreachable; only
	# Debian's matter here.
	$sudo apt-get update -qq >/dev/null 2>&1 || true
	if [ -n "$missing" ]; then
		gd_log "installing:$missing"
		$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends --no-upgrade $missing >/dev/null
	fi
fi
