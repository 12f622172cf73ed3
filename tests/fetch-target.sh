#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# fetch-target.sh TARGET: resolve the Debian kernel ABI for TARGET from its
# release on the mirror, download that release's Xen, the kernel image and
# its headers once into the cache, unpack them and describe the result in
# $GD_CACHE/targets/TARGET.env.
#
# Exit status 2 means the mirror no longer offers this kernel series.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

target=$1
gd_valid_target "$target" || gd_die "unknown target '$target' (known: $GD_ALL_TARGETS $GD_BUILD_ONLY_TARGETS)"
debarch=$(gd_debarch "$target")
series=$(gd_series "$target")
rel=$(gd_release "$target")
xenser=$(gd_xen_series "$rel")
flav=$debarch

case $rel-$series in
bookworm-6.1|trixie-6.12)
	# The release's own series: its linux-headers-ARCH points at it.
	hdr=$(gd_apt "$rel" apt-cache depends "linux-headers-$flav:$debarch" 2>/dev/null |
		awk -v s="$series" '$1 == "Depends:" && index($2, "linux-headers-" s ".") == 1 { sub(":.*", "", $2); print $2; exit }')
	abi=${hdr#linux-headers-}
	abi=${abi%-$flav}
	;;
bookworm-6.12)
	# No metapackage points at it: the highest one with headers.
	abi=""
	for img in $(apt-cache pkgnames "linux-image-6.12." 2>/dev/null |
			grep -E "^linux-image-6\.12\.[0-9]+\+deb12-$flav-unsigned$" | sort -rV); do
		cand=${img#linux-image-}
		cand=${cand%-$flav-unsigned}
		if [ -n "$(gd_candidate "linux-headers-$cand-$flav:$debarch")" ]; then
			abi=$cand
			break
		fi
	done
	;;
*)	gd_die "no $series kernel series known for $rel";;
esac
if [ -z "${abi:-}" ]; then
	gd_log "the mirror offers no $series kernel for $debarch in $rel"
	exit 2
fi
kver=$abi-$flav
gd_log "$target: kernel $kver"

img_deb=$(gd_download "linux-image-$kver-unsigned" "$debarch" "$rel")
hdr_deb=$(gd_download "linux-headers-$kver" "$debarch" "$rel")
debs="$img_deb $hdr_deb"
# linux-kbuild's host tools run only on their own release: a target of
# another release is built in that release's build root (build-root.sh).
for dep in $(gd_apt "$rel" apt-cache depends "linux-headers-$kver:$debarch" |
		awk '/Depends: <?linux-(headers-.*-common|kbuild-)/ { gsub(/[<>]/, "", $2); sub(":.*", "", $2); print $2 }' | sort -u); do
	case $dep in
	linux-kbuild-*) debs="$debs $(gd_download "$dep" amd64 "$rel")";;
	*) debs="$debs $(gd_download "$dep" all "$rel")";;
	esac
done
xen_deb=$(gd_download "xen-hypervisor-$xenser-$debarch" "$debarch" "$rel")
debs="$debs $xen_deb"

key=$(for d in $debs; do basename "$d"; done | sort | sha1sum | cut -c1-12)
root=$GD_CACHE/kernels/$kver-$key
if [ ! -e "$root/.complete" ]; then
	gd_log "$target: unpacking into $root"
	rm -rf "$root"
	mkdir -p "$root"
	for d in $debs; do dpkg -x "$d" "$root"; done
	# trixie's packages install under /usr only: lay the tree out as a
	# merged-/usr system does, so that lib/modules is found either way.
	[ -e "$root/lib" ] || [ ! -d "$root/usr/lib" ] || ln -s usr/lib "$root/lib"
	# Debian's arch headers include the common tree by absolute path.
	sed -i "s|^include /usr/src/|include $root/usr/src/|" \
		"$root/usr/src/linux-headers-$kver/Makefile"
	touch "$root/.complete"
fi

case $debarch in
amd64)
	xen=$root/xen.elf
	[ -e "$xen" ] || gzip -dc "$root/boot/xen-$xenser-amd64.gz" > "$xen"
	;;
arm64)
	xen=$(ls "$root/boot/xen-$xenser-arm64" 2>/dev/null || ls "$root"/boot/xen-* | grep -v '\.efi$' | head -n1)
	;;
esac

mkdir -p "$GD_CACHE/targets"
cat > "$(gd_target_env "$target")" <<ENV
GD_TARGET=$target
GD_RELEASE=$rel
GD_XEN_SERIES=$xenser
GD_KVER=$kver
GD_ROOT=$root
GD_KDIR=$root/usr/src/linux-headers-$kver
GD_VMLINUZ=$root/boot/vmlinuz-$kver
GD_MODDIR=$root/lib/modules/$kver
GD_XEN=$xen
GD_XEN_DEB=$(basename "$xen_deb")
ENV
gd_log "$target: ready ($(basename "$img_deb"))"
