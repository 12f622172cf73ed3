# SPDX-License-Identifier: GPL-2.0
# Shared definitions for the test-bed scripts.  Sourced, never run.

GD_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
GD_CACHE=${GDMABUF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gntdev-dmabuf}
GD_BUILD=${GDMABUF_BUILD:-$GD_TOP/build}
GD_ALL_TARGETS="x86_64-6.1 x86_64-6.12 arm64-6.1 arm64-6.12"
# Built from Debian's linux-source by tests/debug/build-kernel.sh, for
# make check-debug only: x86_64 with lockdep, kmemleak and the rest; arm64
# with the same and KASAN.
GD_DEBUG_TARGETS="x86_64-6.1-debug arm64-6.1-debug"
GD_XEN_SERIES=4.17

gd_log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
gd_die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

gd_arch()    { echo "${1%%-*}"; }
gd_series()  { local s=${1#*-}; echo "${s%-debug}"; }
gd_debarch() { case "$(gd_arch "$1")" in x86_64) echo amd64;; arm64) echo arm64;; *) gd_die "unknown target $1";; esac; }
gd_cross()   { case "$(gd_arch "$1")" in arm64) echo aarch64-linux-gnu-;; *) echo "";; esac; }
gd_karch()   { case "$(gd_arch "$1")" in arm64) echo arm64;; *) echo x86;; esac; }

# gd_in WORD LIST...: is WORD one of LIST?
gd_in() {
	local w=$1 t
	shift
	for t; do [ "$t" = "$w" ] && return 0; done
	return 1
}

# shellcheck disable=SC2086
gd_valid_target() { gd_in "$1" $GD_ALL_TARGETS $GD_DEBUG_TARGETS; }
# shellcheck disable=SC2086
gd_is_debug() { gd_in "$1" $GD_DEBUG_TARGETS; }

# gd_target_env TARGET: the file that fetch-target.sh writes for TARGET.
gd_target_env() { echo "$GD_CACHE/targets/$1.env"; }

# gd_candidate PKG[:ARCH]: the version apt would download, empty if none.
gd_candidate() {
	apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { if ($2 != "(none)") print $2; exit }'
}

# gd_download PKG ARCH: fetch PKG's candidate .deb into the cache once and
# print its path.
gd_download() {
	local pkg=$1 arch=$2 ver file
	ver=$(gd_candidate "$pkg:$arch")
	[ -n "$ver" ] || { gd_log "package $pkg:$arch is not on the mirror"; return 1; }
	mkdir -p "$GD_CACHE/debs"
	file=$(ls "$GD_CACHE/debs/${pkg}_${ver/:/%3a}_${arch}.deb" 2>/dev/null | head -n1)
	if [ -z "$file" ]; then
		(cd "$GD_CACHE/debs" && apt-get download -q "$pkg:$arch=$ver" >/dev/null 2>&1) ||
			{ gd_log "apt-get download $pkg:$arch=$ver failed"; return 1; }
		file=$(ls "$GD_CACHE/debs/${pkg}_${ver/:/%3a}_${arch}.deb" 2>/dev/null | head -n1)
	fi
	[ -n "$file" ] || return 1
	echo "$file"
}

# gd_kernel_scripts: the kernel's checkpatch.pl (with its data files) and
# kernel-doc, which Debian's headers packages lack, taken once from
# linux-source-6.1 into the cache; prints the directory holding scripts/.
gd_kernel_scripts() {
	local dir=$GD_CACHE/kernel-scripts deb tmp
	if [ ! -x "$dir/scripts/checkpatch.pl" ] || [ ! -x "$dir/scripts/kernel-doc" ]; then
		deb=$(gd_download linux-source-6.1 all) || { gd_log "cannot download linux-source-6.1"; return 1; }
		tmp=$(mktemp -d "$GD_CACHE/kernel-scripts.XXXXXX")
		dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" --wildcards './usr/src/linux-source-*.tar.xz'
		tar -xJf "$tmp"/usr/src/linux-source-*.tar.xz -C "$tmp" --strip-components=1 --wildcards \
			'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
			'*/scripts/const_structs.checkpatch' '*/scripts/kernel-doc'
		rm -rf "$dir"
		mkdir -p "$dir"
		mv "$tmp/scripts" "$dir/"
		rm -rf "$tmp"
	fi
	echo "$dir"
}
