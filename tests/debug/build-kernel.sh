#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# build-kernel.sh: build the x86_64 debug dom0 kernel of `make check-debug`
# from Debian's linux-source-6.1 once, cache it, and describe it as the
# target x86_64-6.1-debug (same Xen as x86_64-6.1).
#
# The cache key is the source package version, the configuration fragment
# and the patches in tests/debug/ (fixes the debug run needs in the stock
# kernel, each explaining why), so a change to any of them rebuilds.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"

target=x86_64-6.1-debug
frag=$GD_TOP/tests/debug/kernel.config

"$GD_TOP/tests/fetch-target.sh" x86_64-6.1 >&2 || gd_die "cannot fetch x86_64-6.1 (for Xen)"
# shellcheck disable=SC1090
. "$(gd_target_env x86_64-6.1)"
xen=$GD_XEN
xen_deb=$GD_XEN_DEB

src_deb=$(gd_download linux-source-6.1 all) || gd_die "linux-source-6.1 is not on the mirror"
patches=$(ls "$GD_TOP"/tests/debug/*.patch 2>/dev/null || true)
# shellcheck disable=SC2086
key=$( { basename "$src_deb"; cat "$frag" $patches; } | sha1sum | cut -c1-12)
root=$GD_CACHE/debug-kernel/$key
if [ ! -e "$root/.complete" ]; then
	start=$(date +%s)
	rm -rf "$GD_CACHE/debug-kernel"
	mkdir -p "$root/src" "$root/obj"
	gd_log "unpacking $(basename "$src_deb")"
	dpkg-deb --fsys-tarfile "$src_deb" | tar -xO --wildcards './usr/src/linux-source-6.1.tar.*' |
		tar -xJ -C "$root/src" --strip-components=1
	for p in $patches; do
		gd_log "applying $(basename "$p")"
		patch -d "$root/src" -p1 -s < "$p"
	done
	gd_log "configuring (x86_64_defconfig + xen.config + tests/debug/kernel.config)"
	make -s -C "$root/src" O="$root/obj" x86_64_defconfig
	"$root/src/scripts/kconfig/merge_config.sh" -m -O "$root/obj" \
		"$root/obj/.config" "$root/src/kernel/configs/xen.config" "$frag" >&2
	make -s -C "$root/src" O="$root/obj" olddefconfig
	# Every option of the fragment must have survived the dependency solver.
	missing=""
	while read -r line; do
		case $line in
		CONFIG_*=*) grep -qxF "$line" "$root/obj/.config" || missing="$missing ${line%%=*}";;
		"# CONFIG_"*" is not set")
			opt=${line#\# }; opt=${opt%% *}
			grep -q "^$opt=" "$root/obj/.config" && missing="$missing $opt";;
		esac
	done < "$frag"
	[ -z "$missing" ] || gd_die "options lost to Kconfig dependencies:$missing"
	gd_log "building (about an hour on two cores)"
	make -s -C "$root/src" O="$root/obj" -j"$(nproc)" bzImage modules >&2
	kver=$(cat "$root/obj/include/config/kernel.release")
	make -s -C "$root/src" O="$root/obj" INSTALL_MOD_PATH="$root" INSTALL_MOD_STRIP=1 modules_install >&2
	mkdir -p "$root/boot"
	cp "$root/obj/arch/x86/boot/bzImage" "$root/boot/vmlinuz-$kver"
	cp "$root/obj/vmlinux" "$root/vmlinux.elf"
	strip --strip-debug "$root/vmlinux.elf"
	echo "$(( $(date +%s) - start ))" > "$root/build-seconds"
	touch "$root/.complete"
	gd_log "debug kernel $kver built in $(cat "$root/build-seconds")s"
fi
kver=$(cat "$root/obj/include/config/kernel.release")

mkdir -p "$GD_CACHE/targets"
cat > "$(gd_target_env "$target")" <<ENV
GD_TARGET=$target
GD_KVER=$kver
GD_ROOT=$root
GD_KDIR=$root/obj
GD_VMLINUZ=$root/boot/vmlinuz-$kver
GD_MODDIR=$root/lib/modules/$kver
GD_XEN=$xen
GD_XEN_DEB=$xen_deb
ENV
gd_log "$target: ready ($kver, built in $(cat "$root/build-seconds")s)"
