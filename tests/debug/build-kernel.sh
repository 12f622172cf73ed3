#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# build-kernel.sh [--cached] TARGET: build the dom0 kernel of a debug target (make
# check-debug: x86_64-6.1-debug, arm64-6.1-debug) or an upstream target
# (make check-upstream: x86_64-6.1-upstream, arm64-6.1-upstream) from
# Debian's linux-source-6.1 once, cache it, and describe it as that target
# (same Xen as the stock 6.1 target of the architecture).
#
# The configuration is a base (x86_64: x86_64_defconfig + xen.config;
# arm64: allnoconfig) with tests/debug/ARCH.config merged over it, then
# checkers.config (debug) or upstream.config (upstream).  The debug
# kernels also get the patches in tests/debug/ (fixes the debug run needs
# in the stock kernel, each explaining why); the upstream ones are
# Debian's source as it is.  The cache key is the source package version,
# the fragments and the patches, so a change to any of them rebuilds.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"

cached_only=""
[ "${1:-}" != --cached ] || { cached_only=1; shift; }
target=${1:-}
gd_builds_kernel "$target" ||
	gd_die "usage: $0 [--cached] TARGET ($GD_DEBUG_TARGETS $GD_UPSTREAM_TARGETS)"
arch=$(gd_arch "$target")
karch=$(gd_karch "$target")
cross=$(gd_cross "$target")
if gd_is_debug "$target"; then
	kind=debug last=checkers.config
	patches=$(ls "$GD_TOP"/tests/debug/*.patch 2>/dev/null || true)
else
	kind=upstream-enabled last=upstream.config patches=""
fi
frags="$GD_TOP/tests/debug/$arch.config $GD_TOP/tests/debug/$last"

"$GD_TOP/tests/fetch-target.sh" "$arch-6.1" >&2 || gd_die "cannot fetch $arch-6.1 (for Xen)"
# shellcheck disable=SC1090
. "$(gd_target_env "$arch-6.1")"
xen=$GD_XEN
xen_deb=$GD_XEN_DEB
xen_series=$GD_XEN_SERIES

src_deb=$(gd_download linux-source-6.1 all) || gd_die "linux-source-6.1 is not on the mirror"
# shellcheck disable=SC2086
key=$( { basename "$src_deb"; cat $frags $patches; } | sha1sum | cut -c1-12)
root=$GD_CACHE/debug-kernel/$target/$key
mk() { make -s -C "$root/src" O="$root/obj" ARCH="$karch" CROSS_COMPILE="$cross" "$@"; }
# --cached: only whether this kernel is built already (.ci/run's budget).
[ -z "$cached_only" ] || { [ -e "$root/.complete" ]; exit; }
if [ ! -e "$root/.complete" ]; then
	start=$(date +%s)
	rm -rf "$GD_CACHE/debug-kernel/$target"
	mkdir -p "$root/src" "$root/obj"
	gd_log "unpacking $(basename "$src_deb")"
	dpkg-deb --fsys-tarfile "$src_deb" | tar -xO --wildcards './usr/src/linux-source-6.1.tar.*' |
		tar -xJ -C "$root/src" --strip-components=1
	for p in $patches; do
		gd_log "applying $(basename "$p")"
		patch -d "$root/src" -p1 -s < "$p"
	done
	case $arch in
	x86_64) defconfig=x86_64_defconfig base="$root/src/kernel/configs/xen.config" image=bzImage;;
	*) defconfig=allnoconfig base="" image=Image;;
	esac
	gd_log "configuring ($defconfig ${base:++ xen.config }+ $arch.config + $last)"
	mk "$defconfig"
	# shellcheck disable=SC2086
	ARCH=$karch CROSS_COMPILE=$cross "$root/src/scripts/kconfig/merge_config.sh" -m \
		-O "$root/obj" "$root/obj/.config" $base $frags >&2
	mk olddefconfig
	# Every option of the fragments must have survived the dependency
	# solver, as the last fragment that names it sets it.
	missing=""
	# shellcheck disable=SC2086
	while read -r line; do
		case $line in
		CONFIG_*=*) grep -qxF "$line" "$root/obj/.config" || missing="$missing ${line%%=*}";;
		"# CONFIG_"*" is not set")
			opt=${line#\# }; opt=${opt%% *}
			grep -q "^$opt=" "$root/obj/.config" && missing="$missing $opt";;
		esac
	done < <(cat $frags | awk '{ o = $0; sub(/^# /, "", o); sub(/[= ].*/, "", o) }
		o ~ /^CONFIG_/ { last[o] = $0; if (!(o in seen)) { seen[o] = 1; order[n++] = o } }
		END { for (i = 0; i < n; i++) print last[order[i]] }')
	[ -z "$missing" ] || gd_die "options lost to Kconfig dependencies:$missing"
	gd_log "building $image and modules (x86_64: about 25 minutes on two cores)"
	mk -j"$(nproc)" "$image" modules >&2
	kver=$(cat "$root/obj/include/config/kernel.release")
	mk INSTALL_MOD_PATH="$root" INSTALL_MOD_STRIP=1 modules_install >&2
	mkdir -p "$root/boot"
	cp "$root/obj/arch/$karch/boot/$image" "$root/boot/vmlinuz-$kver"
	cp "$root/obj/vmlinux" "$root/vmlinux.elf"
	"${cross}strip" --strip-debug "$root/vmlinux.elf"
	echo "$(( $(date +%s) - start ))" > "$root/build-seconds"
	touch "$root/.complete"
	gd_log "$kind kernel $kver built in $(cat "$root/build-seconds")s"
fi
kver=$(cat "$root/obj/include/config/kernel.release")

mkdir -p "$GD_CACHE/targets"
cat > "$(gd_target_env "$target")" <<ENV
GD_TARGET=$target
GD_RELEASE=$(gd_release "$target")
GD_XEN_SERIES=$xen_series
GD_KVER=$kver
GD_ROOT=$root
GD_KDIR=$root/obj
GD_VMLINUZ=$root/boot/vmlinuz-$kver
GD_MODDIR=$root/lib/modules/$kver
GD_XEN=$xen
GD_XEN_DEB=$xen_deb
ENV
gd_log "$target: ready ($kver, built in $(cat "$root/build-seconds")s)"
