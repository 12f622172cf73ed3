# SPDX-License-Identifier: GPL-2.0
# Shared definitions for the test-bed scripts.  Sourced, never run.

GD_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
GD_CACHE=${GDMABUF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gntdev-dmabuf}
GD_BUILD=${GDMABUF_BUILD:-$GD_TOP/build}
# A target is ARCH-SERIES[-RELEASE]: Debian's SERIES kernel for ARCH, with
# the Xen and the userspace of RELEASE (bookworm when not named).
# make check boots these, both releases on both architectures ...
GD_ALL_TARGETS="x86_64-6.1 arm64-6.1 x86_64-6.12-trixie arm64-6.12-trixie"
# ... and only builds for these: bookworm's 6.12 is the series trixie
# boots (see Documentation/testing.rst).  --targets boots them too.
GD_BUILD_ONLY_TARGETS="x86_64-6.12 arm64-6.12"
# Built from Debian's linux-source by tests/debug/build-kernel.sh, for
# make check-debug only: x86_64 with lockdep, kmemleak and the rest; arm64
# with the same and KASAN.
GD_DEBUG_TARGETS="x86_64-6.1-debug arm64-6.1-debug"
# Built the same way with the in-tree gntdev dma-buf turned on and no
# checkers, for make check-upstream (Documentation/comparison.rst).
GD_UPSTREAM_TARGETS="x86_64-6.1-upstream arm64-6.1-upstream"

gd_log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
gd_die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

gd_arch()    { echo "${1%%-*}"; }
gd_series()  { local s=${1#*-}; s=${s%-debug}; s=${s%-upstream}; echo "${s%-trixie}"; }
gd_release() { case $1 in *-trixie|*-trixie-debug) echo trixie;; *) echo bookworm;; esac; }
# gd_xen_series RELEASE: the Xen that Debian RELEASE ships.
gd_xen_series() { case $1 in bookworm) echo 4.17;; trixie) echo 4.20;; *) gd_die "unknown release $1";; esac; }
# gd_host_release: the Debian release this machine runs.
gd_host_release() { (. /etc/os-release && echo "${VERSION_CODENAME:-unknown}"); }
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
gd_valid_target() { gd_in "$1" $GD_ALL_TARGETS $GD_BUILD_ONLY_TARGETS $GD_DEBUG_TARGETS $GD_UPSTREAM_TARGETS; }
# shellcheck disable=SC2086
gd_is_debug() { gd_in "$1" $GD_DEBUG_TARGETS; }
# shellcheck disable=SC2086
gd_is_upstream() { gd_in "$1" $GD_UPSTREAM_TARGETS; }
# gd_builds_kernel TARGET: is TARGET's kernel built by tests/debug/build-kernel.sh?
gd_builds_kernel() { gd_is_debug "$1" || gd_is_upstream "$1"; }

# gd_target_env TARGET: the file that fetch-target.sh writes for TARGET.
gd_target_env() { echo "$GD_CACHE/targets/$1.env"; }

# gd_apt RELEASE COMMAND ARG...: run apt-get or apt-cache on RELEASE's
# package lists.  The host's own release uses the host's configuration;
# another release gets a private one in the cache (its own sources, lists
# and an empty dpkg status) with the suites mmdebstrap uses for it
# (RELEASE, -updates, -security), refreshed when older than six hours, so
# that the host's sources are never changed.
gd_apt() {
	local rel=$1 cmd=$2 d
	shift 2
	if [ "$rel" = "$(gd_host_release)" ]; then
		"$cmd" "$@"
		return
	fi
	d=$GD_CACHE/apt/$rel
	if [ -z "$(find "$d/lists" -maxdepth 1 -name '*_InRelease' -mmin -360 2>/dev/null | head -n1)" ]; then
		mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$d/etc/preferences.d" \
			"$d/etc/apt.conf.d"
		touch "$d/status"
		cat > "$d/etc/sources.list" <<-SRC
		deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $rel main
		deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $rel-updates main
		deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security $rel-security main
		SRC
		flock "$d/.lock" apt-get "${_gd_apt_opts[@]/@D@/$d}" update -qq >/dev/null 2>&1 ||
			{ gd_log "apt-get update for $rel failed"; return 1; }
	fi
	"$cmd" "${_gd_apt_opts[@]/@D@/$d}" "$@"
}
_gd_apt_opts=(-o Dir::Etc=@D@/etc -o Dir::Etc::SourceList=@D@/etc/sources.list
	-o Dir::Etc::SourceParts=/nonexistent -o Dir::State=@D@ -o Dir::State::Lists=@D@/lists
	-o Dir::State::status=@D@/status -o Dir::Cache=@D@/cache -o Debug::NoLocking=1
	-o APT::Architecture=amd64 -o APT::Architectures::=amd64 -o APT::Architectures::=arm64
	-o APT::Sandbox::User=root)

# gd_candidate PKG[:ARCH] [RELEASE]: the version apt would download from
# RELEASE (default bookworm), empty if none.
gd_candidate() {
	gd_apt "${2:-bookworm}" apt-cache policy "$1" 2>/dev/null |
		awk '/Candidate:/ { if ($2 != "(none)") print $2; exit }'
}

# gd_candidates RELEASE PKG...: "PKG=VERSION" for every PKG, from one
# apt-cache call (a cache key over many packages).
gd_candidates() {
	local rel=$1
	shift
	gd_apt "$rel" apt-cache policy "$@" 2>/dev/null |
		awk '/^[^ ]/ { p = substr($0, 1, length($0) - 1); sub(/:.*/, "", p) }
		     /Candidate:/ { print p "=" ($2 == "(none)" ? "" : $2) }'
}

# gd_download PKG ARCH [RELEASE]: fetch PKG's candidate .deb from RELEASE
# (default bookworm) into the cache once and print its path.
gd_download() {
	local pkg=$1 arch=$2 rel=${3:-bookworm} ver file
	ver=$(gd_candidate "$pkg:$arch" "$rel")
	[ -n "$ver" ] || { gd_log "package $pkg:$arch is not on the mirror ($rel)"; return 1; }
	mkdir -p "$GD_CACHE/debs"
	file=$(ls "$GD_CACHE/debs/${pkg}_${ver/:/%3a}_${arch}.deb" 2>/dev/null | head -n1)
	if [ -z "$file" ]; then
		(cd "$GD_CACHE/debs" && gd_apt "$rel" apt-get download -q "$pkg:$arch=$ver" >/dev/null 2>&1) ||
			{ gd_log "apt-get download $pkg:$arch=$ver failed"; return 1; }
		file=$(ls "$GD_CACHE/debs/${pkg}_${ver/:/%3a}_${arch}.deb" 2>/dev/null | head -n1)
	fi
	[ -n "$file" ] || return 1
	echo "$file"
}

# gd_download_many ARCH RELEASE PKG...: gd_download for many packages, with
# one apt call for their versions and one for those not cached yet; prints
# the paths of those that exist (a virtual package has no candidate).
gd_download_many() {
	local arch=$1 rel=$2 pv p v file get=() list="" none=""
	shift 2
	mkdir -p "$GD_CACHE/debs"
	# shellcheck disable=SC2046
	for pv in $(gd_candidates "$rel" $(printf "%s:$arch " "$@")); do
		p=${pv%%=*} v=${pv#*=}
		if [ -n "$v" ]; then list="$list $p=$v=$arch"; else none="$none $p"; fi
	done
	# apt names architecture-independent packages by the native
	# architecture (amd64) only: asked for by :all, they are taken if the
	# file is one.
	# shellcheck disable=SC2046,SC2086
	[ -z "$none" ] || for pv in $(gd_candidates "$rel" $(printf "%s:all " $none)); do
		p=${pv%%=*} v=${pv#*=}
		[ -z "$v" ] || list="$list $p=$v=all"
	done
	for pv in $list; do
		IFS== read -r p v a <<< "$pv"
		file=$GD_CACHE/debs/${p}_${v/:/%3a}
		[ -e "${file}_$a.deb" ] || [ -e "${file}_all.deb" ] || get+=("$p:$a=$v")
	done
	if [ ${#get[@]} -gt 0 ]; then
		(cd "$GD_CACHE/debs" && gd_apt "$rel" apt-get download -q "${get[@]}" >/dev/null 2>&1) ||
			{ gd_log "apt-get download ${get[*]} failed"; return 1; }
	fi
	for pv in $list; do
		IFS== read -r p v a <<< "$pv"
		file=$GD_CACHE/debs/${p}_${v/:/%3a}
		if [ -e "${file}_all.deb" ]; then
			echo "${file}_all.deb"
		elif [ "$a" = "$arch" ] && [ -e "${file}_$arch.deb" ]; then
			echo "${file}_$arch.deb"
		fi
	done
}

# gd_mmdebstrap RELEASE DIR MMDEBSTRAP-ARG...: a minimal chroot of Debian
# RELEASE in DIR as root, without documentation, manual pages,
# translations and apt's caches, which nothing here reads.
gd_mmdebstrap() {
	local rel=$1 dir=$2
	shift 2
	mmdebstrap --quiet --mode=root "$@" \
		--dpkgopt='path-exclude=/usr/share/doc/*' \
		--dpkgopt='path-exclude=/usr/share/man/*' \
		--dpkgopt='path-exclude=/usr/share/locale/*' \
		"$rel" "$dir" >&2 || return 1
	rm -rf "$dir/var/cache/apt"/*.bin "$dir/var/lib/apt/lists"/*
}

# gd_xen_dev ARCH RELEASE: Debian RELEASE's libxen-dev for ARCH (amd64,
# arm64) and the runtime libraries the display backend links (xenstore,
# event channels, grant tables and their helpers), its libwayland-dev with
# the client library, wayland-protocols and the host's wayland-scanner,
# unpacked once into the cache; prints the directory that holds
# usr/include, usr/lib/<triplet>, usr/share/wayland-protocols and
# usr/bin/wayland-scanner.  The backend links them dynamically, as on a real
# dom0: Debian's static libxenstore is built without threads, and its
# xs_fileno() descriptor never becomes readable there.
gd_xen_dev() {
	local deb dir lib pkg
	deb=$(gd_download libxen-dev "$1" "$2") || return 1
	dir=$GD_CACHE/xen-dev/$(basename "$deb" .deb)-wl2
	if [ ! -e "$dir/.complete" ]; then
		rm -rf "$dir"
		mkdir -p "$dir"
		dpkg-deb -x "$deb" "$dir" || return 1
		for lib in "libwayland-dev $1" "libwayland-client0 $1" "libffi8 $1" "wayland-protocols all" \
			   "libwayland-bin amd64"; do
			# shellcheck disable=SC2086
			lib=$(gd_download $lib "$2") && dpkg-deb -x "$lib" "$dir" || return 1
		done
		for pkg in $(dpkg-deb -f "$deb" Depends | tr ',' '\n' |
			     sed -n 's/^ *\(libxen\(store\|evtchn\|gnttab\|toolcore\|toollog\)[0-9.]*\) .*/\1/p'); do
			lib=$(gd_download "$pkg" "$1" "$2") && dpkg-deb -x "$lib" "$dir" || return 1
		done
		touch "$dir/.complete"
	fi
	echo "$dir"
}

# gd_modetest ARCH RELEASE DEST: Debian RELEASE's modetest (libdrm-tests)
# for ARCH into DEST/bin/modetest, a script that starts it through its own
# loader with the libraries it needs in DEST/lib/modetest: the test domU
# has no libc.
gd_modetest() {
	local arch=$1 rel=$2 dest=$3 dir=$GD_CACHE/modetest/$1-$2 pkg deb lib need
	if [ ! -e "$dir/.complete" ]; then
		rm -rf "$dir"
		mkdir -p "$dir/root" "$dir/lib"
		for pkg in libdrm-tests libdrm2 libdrm-amdgpu1 libc6; do
			deb=$(gd_download "$pkg" "$arch" "$rel") && dpkg-deb -x "$deb" "$dir/root" || return 1
		done
		cp "$dir/root/usr/bin/modetest" "$dir/lib/modetest.bin" || return 1
		# The libraries it needs, and theirs.
		need=$(readelf -d "$dir/lib/modetest.bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
		while [ -n "$need" ]; do
			set -- $need
			need=
			for lib in "$@"; do
				[ -e "$dir/lib/$lib" ] && continue
				cp -L "$(find "$dir/root" -name "$lib" | head -n 1)" "$dir/lib/$lib" || return 1
				need="$need $(readelf -d "$dir/lib/$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')"
			done
		done
		cp -L "$(find "$dir/root" -name 'ld-linux*.so.*' | head -n 1)" "$dir/lib/ld.so" || return 1
		rm -rf "$dir/root"
		touch "$dir/.complete"
	fi
	mkdir -p "$dest/bin" "$dest/lib/modetest"
	cp "$dir"/lib/* "$dest/lib/modetest/"
	printf '#!/bin/sh\nexec /lib/modetest/ld.so --library-path /lib/modetest /lib/modetest/modetest.bin "$@"\n' \
		> "$dest/bin/modetest"
	chmod 755 "$dest/bin/modetest" "$dest/lib/modetest/ld.so"
}

# gd_weston ARCH RELEASE DEST: Debian RELEASE's Weston with its headless
# backend, GL renderer and kiosk shell, and Mesa's EGL with llvmpipe, for a
# dom0 of ARCH, into DEST at their own paths (DEST is an overlay of a
# root filesystem of RELEASE).  Only what those load is taken: the
# packages' whole dependency closure (ffmpeg, FreeRDP, PipeWire, ...) is
# five times larger.  Packages are unpacked as the libraries they hold are
# needed, starting from the roots, so that a cold cache downloads only
# those.  Cached.
gd_weston() {
	local arch=$1 rel=$2 dest=$3 trip dir key roots elfs pkgs p deb have="" unres
	case $arch in
	amd64) trip=x86_64-linux-gnu;;
	arm64) trip=aarch64-linux-gnu;;
	*) gd_die "gd_weston: unknown arch $arch";;
	esac
	roots="weston libweston-14-0 libegl-mesa0 mesa-libgallium libgbm1 libegl1 libglvnd0 libgles2 xkb-data"
	# shellcheck disable=SC2046
	key=$(gd_candidates "$rel" $(printf "%s:$arch " $roots) | sha1sum | cut -c1-12)
	dir=$GD_CACHE/weston/$arch-$rel-$key
	elfs="usr/bin/weston usr/lib/$trip/libweston-14/headless-backend.so
	      usr/lib/$trip/libweston-14/gl-renderer.so usr/lib/$trip/weston/kiosk-shell.so
	      usr/lib/$trip/libEGL_mesa.so.0 usr/lib/$trip/gbm/dri_gbm.so"
	if [ ! -e "$dir/.complete" ]; then
		rm -rf "$dir"
		mkdir -p "$dir/root" "$dir/files" "$dir/tree"
		pkgs=$roots
		while [ -n "$pkgs" ]; do
			have="$have $pkgs"
			# shellcheck disable=SC2086
			for deb in $(gd_download_many "$arch" "$rel" $pkgs); do
				p=$(dpkg-deb -f "$deb" Package)
				dpkg-deb -x "$deb" "$dir/root" || return 1
				dpkg-deb -c "$deb" | awk '{ print substr($6, 3) }' > "$dir/files/$p"
				dpkg-deb -f "$deb" Depends > "$dir/files/$p.deps"
			done
			# What the ELF files load, as far as the unpacked packages have it.
			_gd_weston_closure "$dir/root" "$trip" $elfs > "$dir/closure" 2> "$dir/unresolved"
			unres=$(grep -v -E '^(libc|libm|libdl|libpthread|librt|ld-linux.*)\.so' "$dir/unresolved" || true)
			[ -n "$unres" ] || break
			# The next level: what the packages that gave a needed file depend on.
			pkgs=$(for p in $have; do
				[ -e "$dir/files/$p" ] && grep -qxFf "$dir/closure" "$dir/files/$p" &&
					tr ',' '\n' < "$dir/files/$p.deps"
			done | sed 's/|.*//; s/(.*)//; s/:any//; s/ //g' | sort -u |
				while read -r p; do gd_in "$p" $have || echo "$p"; done)
			[ -n "$pkgs" ] || { gd_log "gd_weston: nothing provides$(echo $unres)"; return 1; }
		done
		(cd "$dir/root" && while read -r f; do
			cp -a --parents "$f" ../tree/
			[ ! -L "$f" ] || cp -a --parents "$(realpath --relative-to=. "$f")" ../tree/
		done < "$dir/closure") || return 1
		# Mesa's EGL vendor file (glvnd loads libEGL_mesa by it), and
		# the keymaps without which Weston does not start.
		(cd "$dir/root" && cp -a --parents usr/share/glvnd usr/share/X11/xkb ../tree/) || return 1
		rm -rf "$dir/root"
		touch "$dir/.complete"
	fi
	cp -a "$dir/tree/." "$dest/"
}

# _gd_weston_closure ROOT TRIPLET ELF...: the ELF files and every library
# they need that ROOT has (relative paths, soname links included), one per
# line; the sonames ROOT lacks go to stderr.
_gd_weston_closure() {
	local root=$1 trip=$2 queue seen="" f s l
	shift 2
	queue="$*"
	for f in "$@"; do echo "$f"; done
	while [ -n "$queue" ]; do
		# shellcheck disable=SC2086
		set -- $queue
		queue=""
		for f in "$@"; do
			for s in $(readelf -d "$root/$f" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
				gd_in "$s" $seen && continue
				seen="$seen $s"
				l=""
				for l in "usr/lib/$trip/$s" "lib/$trip/$s" "usr/lib/$trip/weston/$s" ""; do
					[ -z "$l" ] || [ -e "$root/$l" ] && break
				done
				if [ -n "$l" ]; then
					echo "$l"
					[ ! -L "$root/$l" ] || realpath --relative-to="$root" "$root/$l"
					queue="$queue $l"
				else
					echo "$s" >&2
				fi
			done
		done
	done
}

# gd_busybox ARCH RELEASE OUT: the static busybox of Debian RELEASE for
# ARCH (amd64, arm64) into the file OUT.  trixie's packages install it
# under /usr/bin (merged /usr), bookworm's under /bin.
gd_busybox() {
	local deb
	deb=$(gd_download busybox-static "$1" "$2") || return 1
	# tar fails on the path that is not in the package.
	dpkg-deb --fsys-tarfile "$deb" | tar -xO --wildcards './bin/busybox' './usr/bin/busybox' \
		> "$3" 2>/dev/null || true
	[ -s "$3" ] && chmod 755 "$3"
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

# gd_build_root RELEASE: the path of RELEASE's build root; a run resolves
# it once (build-root.sh asks apt for its key) and exports it as
# GD_BUILDROOT_<RELEASE>.
gd_build_root() {
	local var=GD_BUILDROOT_${1//-/_}
	if [ -n "${!var:-}" ] && [ -e "${!var}/.complete" ]; then
		echo "${!var}"
	else
		flock "$GD_CACHE/.buildroot-$1.lock" "$GD_TOP/tests/build-root.sh" "$1"
	fi
}

# gd_release_run RELEASE COMMAND ARG...: run COMMAND as on a machine that
# runs Debian RELEASE: directly on the host's own release, otherwise in
# RELEASE's build root (tests/build-root.sh), in a private mount namespace
# where the source tree, the build directory and the cache keep their
# paths, and /tmp is private.  The mounts end with COMMAND.
gd_release_run() {
	local rel=$1 root
	shift
	if [ "$rel" = "$(gd_host_release)" ]; then
		"$@"
		return
	fi
	mkdir -p "$GD_CACHE" "$GD_BUILD"
	root=$(gd_build_root "$rel") || return 1
	GD_TOP=$GD_TOP GD_BUILD=$GD_BUILD GD_CACHE=$GD_CACHE \
	unshare --mount --propagation private /bin/bash -euc '
		root=$1 cwd=$2
		shift 2
		mount --rbind /dev "$root/dev"
		mount -t proc proc "$root/proc"
		mount -t tmpfs tmpfs "$root/tmp"
		printf "%s\n" "$GD_TOP" "$GD_BUILD" "$GD_CACHE" | awk "{ print length, \$0 }" |
			sort -n | cut -d" " -f2- | while read -r d; do
				mkdir -p "$root$d"
				mount --bind "$d" "$root$d"
			done
		exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
			LC_ALL=C.UTF-8 GDMABUF_CACHE="$GD_CACHE" GDMABUF_BUILD="$GD_BUILD" \
			/bin/sh -c "cd \"\$0\" 2>/dev/null || cd /; exec \"\$@\"" "$cwd" "$@"
	' gd-release-run "$root" "$PWD" "$@"
}
