# SPDX-License-Identifier: GPL-2.0
# Building a target's module, tests and initrd, and booting it under QEMU.
# Sourced after common.sh.

# shellcheck source=tests/guest/markers.sh
. "$GD_TOP/tests/guest/markers.sh"

# gd_build_target TARGET DIR: build the module (W=1, sparse, test build)
# and the in-guest programs for TARGET into DIR, with the compilers of
# TARGET's release (gd_release_run).  Fails on any compiler or sparse
# warning.
gd_build_target() {
	local target=$1 dir=$2 karch cross rel xendev
	# shellcheck disable=SC1090
	. "$(gd_target_env "$target")"
	karch=$(gd_karch "$target")
	cross=$(gd_cross "$target")
	rel=$(gd_release "$target")
	rm -rf "$dir/src"
	mkdir -p "$dir/src"
	(cd "$GD_TOP" && cp -a Makefile VERSION README.md drivers uapi scripts tests userspace "$dir/src/")
	rm -rf "$dir/src/tests/.cache" "$dir/src/userspace/build"
	if ! gd_release_run "$rel" make -C "$dir/src" module KDIR="$GD_KDIR" ARCH="$karch" CROSS_COMPILE="$cross" \
			W=1 C=1 GDMABUF_SELFTEST=y > "$dir/build-module.log" 2>&1; then
		gd_log "$target: module build failed, see $dir/build-module.log"
		return 1
	fi
	# "warning: the compiler differs": a build with another compiler
	# than the kernel's is not what a dom0 of that release does.
	if grep -E "warning:|error:" "$dir/build-module.log" | grep -v "Skipping BTF" > "$dir/build-warnings.log"; then
		gd_log "$target: module build has warnings, see $dir/build-warnings.log"
		return 2
	fi
	# The display backend links the release's Xen libraries, statically.
	if ! xendev=$(gd_xen_dev "$(gd_debarch "$target")" "$rel" 2> "$dir/build-tests.log"); then
		gd_log "$target: cannot fetch libxen-dev, see $dir/build-tests.log"
		return 1
	fi
	if ! gd_release_run "$rel" make -C "$dir/src" tests CROSS_COMPILE="$cross" TESTS_OUT="$dir/tests" \
			XEN_DEV="$xendev" >> "$dir/build-tests.log" 2>&1; then
		gd_log "$target: test programs failed to build, see $dir/build-tests.log"
		return 1
	fi
	cp "$dir/src/drivers/xen/gntdev-dmabuf/xen-gntdev-dmabuf.ko" "$dir/"
}

# gd_stage_modules TARGET DEST MODULE...: copy MODULEs and their
# dependencies from TARGET's kernel, decompressed, under DEST/lib/modules
# and run depmod there, so that modprobe works in busybox and kmod alike.
gd_stage_modules() {
	local target=$1 dest=$2 moddest=lib/modules m f rel
	shift 2
	# shellcheck disable=SC1090
	. "$(gd_target_env "$target")"
	if [ ! -s "$GD_MODDIR/modules.dep" ]; then
		depmod -b "$GD_ROOT" "$GD_KVER"
	fi
	mkdir -p "$dest/$moddest/$GD_KVER"
	cp "$GD_MODDIR"/modules.order "$GD_MODDIR"/modules.builtin* "$dest/$moddest/$GD_KVER/" 2>/dev/null || true
	for m in "$@"; do
		modprobe -d "$GD_ROOT" -S "$GD_KVER" --show-depends "$m" 2>/dev/null |
			awk '$1 == "insmod" { print $2 }'
	done | sort -u | while read -r f; do
		rel=${f#"$GD_MODDIR"/}
		mkdir -p "$dest/$moddest/$GD_KVER/$(dirname "$rel")"
		case $f in
		*.xz) xz -dc "$f" > "$dest/$moddest/$GD_KVER/${rel%.xz}";;
		*.zst) zstd -qdc "$f" > "$dest/$moddest/$GD_KVER/${rel%.zst}";;
		*) cp "$f" "$dest/$moddest/$GD_KVER/$rel";;
		esac
	done
	depmod -b "$dest" "$GD_KVER"
}

# gd_drm_module TARGET DIR CONFIG MODULE: a DRM driver that TARGET's kernel
# is configured without (drivers/gpu/drm/DIR, built for CONFIG=m), built
# out of tree from its release's linux-source package with the kernel's
# own headers and compiler, unchanged.  Cached; prints MODULE.ko's path.
gd_drm_module() {
	local target=$1 sub=$2 config=$3 mod=$4 series deb dir
	# shellcheck disable=SC1090
	. "$(gd_target_env "$target")"
	series=$(echo "$GD_KVER" | sed -n 's/^\([0-9]*\.[0-9]*\).*/\1/p')
	deb=$(gd_download "linux-source-$series" all "$GD_RELEASE") || return 1
	dir=$GD_CACHE/drm-modules/$sub-$GD_KVER-$(basename "$deb" .deb | sha1sum | cut -c1-8)
	if [ ! -s "$dir/$mod.ko" ]; then
		rm -rf "$dir"
		mkdir -p "$dir/src"
		dpkg-deb --fsys-tarfile "$deb" | tar -xO --wildcards './usr/src/linux-source-*.tar.xz' |
			tar -xJ -C "$dir/src" --strip-components=5 --wildcards "*/drivers/gpu/drm/$sub/*" ||
			return 1
		gd_release_run "$GD_RELEASE" make -C "$GD_KDIR" M="$dir/src" ARCH="$(gd_karch "$target")" \
			CROSS_COMPILE="$(gd_cross "$target")" "$config=m" modules \
			> "$dir/build.log" 2>&1 || { gd_log "$sub: see $dir/build.log"; return 1; }
		cp "$dir/src/$mod.ko" "$dir/$mod.ko"
	fi
	echo "$dir/$mod.ko"
}

# Linux's xen-drm-front, for the domU: Debian's arm64 kernels leave it out.
gd_xen_drm_front() { gd_drm_module "$1" xen CONFIG_DRM_XEN_FRONTEND drm_xen_front; }
# vkms, dom0's KMS device for the display backend: no Debian kernel has it.
gd_vkms() { gd_drm_module "$1" vkms CONFIG_DRM_VKMS vkms; }

# gd_cpio DIR: newc archive of DIR on stdout, owned by root.
gd_cpio() {
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0)
}

# Modules every dom0 gets: the Xen devices and the dma-buf providers.
GD_DOM0_MODULES="xen-evtchn xen-gntdev xen-gntalloc xenfs xen-privcmd vgem udmabuf"
GD_DOMU_MODULES="xen-evtchn xen-gntdev xen-gntalloc drm_xen_front"

# gd_make_initrd TARGET DIR CONFIG [DEBS]: assemble DIR/initrd (base root
# filesystem + overlay with modules, our module, tests and the runner).
# CONFIG is the text of /opt/gdmabuf/config.  DEBS, if given, is a
# directory of Debian packages built by this run: an x86_64 dom0 gets its
# library and tool installed.
gd_make_initrd() {
	local target=$1 dir=$2 config=$3 debs=${4:-} arch base ov deb ko
	arch=$(gd_arch "$target")
	# shellcheck disable=SC1090
	. "$(gd_target_env "$target")"
	if printf '%s\n' "$config" | grep -qx 'GD_MODE=bare'; then
		gd_make_bare_initrd "$target" "$dir"
		return
	fi
	base=$(flock "$GD_CACHE/.rootfs-$arch.lock" "$GD_TOP/tests/build-rootfs.sh" "$arch" "$(gd_release "$target")")
	ov=$dir/overlay
	rm -rf "$ov"
	mkdir -p "$ov/opt/gdmabuf/tests"
	# Tolerate modules that a kernel has built in (udmabuf on 6.12).
	gd_stage_modules "$target" "$ov" $GD_DOM0_MODULES
	# vkms (dom0's KMS device for the display backend) and the helpers it
	# needs: the kernel's (the kernels build-kernel.sh builds), or built
	# where the kernel lacks it (every Debian kernel).
	if modprobe -d "$GD_ROOT" -S "$GD_KVER" --show-depends vkms > /dev/null 2>&1; then
		gd_stage_modules "$target" "$ov" vkms
	elif ko=$(gd_vkms "$target"); then
		# shellcheck disable=SC2046
		gd_stage_modules "$target" "$ov" $GD_DOM0_MODULES $(modinfo -F depends "$ko" | tr ',' ' ')
		mkdir -p "$ov/lib/modules/$GD_KVER/extra"
		cp "$ko" "$ov/lib/modules/$GD_KVER/extra/"
		depmod -b "$ov" "$GD_KVER"
	fi
	# Weston and Mesa's llvmpipe for the Wayland sink's tests, on trixie
	# (bookworm's Weston 10 and Mesa 22 cannot import a dma-buf without a
	# GPU: testing.rst).
	if [ "$(gd_release "$target")" = trixie ]; then
		gd_weston "$(gd_debarch "$target")" trixie "$ov" || return 1
	fi
	# The base's /lib is a symlink to usr/lib: an archive entry "lib"
	# would replace it.
	mkdir -p "$ov/usr/lib"
	mv "$ov/lib/modules" "$ov/usr/lib/modules"
	rmdir "$ov/lib"
	# The packaged library and tool, built for the host architecture.
	if [ "$arch" = x86_64 ] && [ -n "$debs" ]; then
		for deb in "$debs"/libgntdmabuf0_*_amd64.deb "$debs"/gntdmabuf-tools_*_amd64.deb; do
			dpkg -x "$deb" "$ov" || return 1
		done
		[ -d "$ov/lib" ] && { cp -a "$ov/lib/." "$ov/usr/lib/"; rm -rf "$ov/lib"; }
	fi
	cp "$GD_TOP/tests/guest/init" "$ov/init"
	cp "$GD_TOP"/tests/guest/run-*.sh "$GD_TOP/tests/guest/runner-lib.sh" \
	   "$GD_TOP/tests/guest/markers.sh" "$GD_TOP/tests/klog-patterns" "$ov/opt/gdmabuf/"
	cp "$dir/xen-gntdev-dmabuf.ko" "$ov/opt/gdmabuf/"
	find "$dir/tests" -maxdepth 1 -type f -name 'gdmabuf_*' -exec cp {} "$ov/opt/gdmabuf/tests/" \;
	cp "$dir/tests/gdmabuf-demo" "$dir/tests/gntdmabuf" "$dir/tests/fb-share" \
	   "$dir/tests/readme-example" "$dir/tests/gdmabuf-bench" "$dir/tests/gdmabuf-runner" \
	   "$ov/opt/gdmabuf/"
	# Dynamic, against the release's Xen libraries (built with XEN_DEV).
	for f in gntdmabuf-displ libgntdmabuf-compat.so xengnttab-dmabuf-user; do
		[ ! -f "$dir/tests/$f" ] || cp "$dir/tests/$f" "$ov/opt/gdmabuf/"
	done
	printf '%s\n' "$config" > "$ov/opt/gdmabuf/config"
	# What QEMU's fw_cfg device will write for the device-DMA tests: a
	# device-tree device of dom0 on arm64 only (gd_boot).
	rm -f "$dir/fwcfg-dma.bin"
	if [ "$arch" = arm64 ]; then
		head -c $((64 * 4096)) /dev/urandom > "$dir/fwcfg-dma.bin"
		cp "$dir/fwcfg-dma.bin" "$ov/opt/gdmabuf/"
	fi

	gd_make_domu "$target" "$dir" "$ov/opt/gdmabuf"
	printf 'GD_WITH_DOMU=1\n' >> "$ov/opt/gdmabuf/config"

	{ cat "$base"; gd_cpio "$ov"; } > "$dir/initrd"
}

# gd_make_domu TARGET DIR DEST: the test domU (same kernel, busybox, the
# agent) and its xl configuration, into DEST: a PV guest on x86_64, the
# only kind of guest (PVH-like) on arm64.
gd_make_domu() {
	local target=$1 dir=$2 dest=$3 d type ko
	# shellcheck disable=SC1090
	. "$(gd_target_env "$target")"
	d=$dir/domu
	rm -rf "$d"
	mkdir -p "$d/bin" "$d/proc" "$d/sys" "$d/dev"
	gd_busybox "$(gd_debarch "$target")" "$(gd_release "$target")" "$d/bin/busybox" || return 1
	cp "$dir/tests/gdmabuf-domu-agent" "$dir/tests/gdmabuf-kms" "$d/bin/"
	[ ! -f "$dir/tests/gdmabuf-displ-front" ] || cp "$dir/tests/gdmabuf-displ-front" "$d/bin/"
	# A KMS client nobody here wrote, for the display backend's tests.
	gd_modetest "$(gd_debarch "$target")" "$(gd_release "$target")" "$d" || return 1
	cp "$GD_TOP/tests/guest/domu-init" "$d/init"
	gd_stage_modules "$target" "$d" $GD_DOMU_MODULES
	if ! modprobe -d "$GD_ROOT" -S "$GD_KVER" --show-depends drm_xen_front > /dev/null 2>&1; then
		# The kernel lacks it: ours, and the modules it needs.
		ko=$(gd_xen_drm_front "$target") || return 1
		# shellcheck disable=SC2046
		gd_stage_modules "$target" "$d" $GD_DOMU_MODULES $(modinfo -F depends "$ko" | tr ',' ' ')
		mkdir -p "$d/lib/modules/$GD_KVER/extra"
		cp "$ko" "$d/lib/modules/$GD_KVER/extra/"
		depmod -b "$d" "$GD_KVER"
	fi
	gd_cpio "$d" > "$dest/domu-initrd"
	case $(gd_arch "$target") in
	x86_64)
		# xl loads an uncompressed ELF in half the time of a bzImage.
		if [ ! -s "$GD_ROOT/vmlinux.elf" ]; then
			"$GD_TOP/tests/lib/extract-vmlinux.sh" "$GD_VMLINUZ" "$GD_ROOT/vmlinux.elf" ||
				cp "$GD_VMLINUZ" "$GD_ROOT/vmlinux.elf"
		fi
		cp "$GD_ROOT/vmlinux.elf" "$dest/domu-kernel"
		type='type = "pv"'
		;;
	arm64)
		# Debian's arm64 vmlinuz is a gzipped Image; libxenguest
		# decompresses it.
		cp "$GD_VMLINUZ" "$dest/domu-kernel"
		type=""
		;;
	esac
	cat > "$dest/domu.cfg" <<CFG
name = "gdmabuf-domu"
$type
kernel = "/opt/gdmabuf/domu-kernel"
ramdisk = "/opt/gdmabuf/domu-initrd"
extra = "console=hvc0 quiet rdinit=/init"
memory = ${GD_DOMU_MEM:-256}
vcpus = 1
on_crash = "destroy"
CFG
}

# gd_boot TARGET DIR TIMEOUT [bare]: boot Xen and dom0 with DIR/initrd, or
# with "bare" the same kernel directly, without Xen; the serial console goes
# to DIR/console.log.  Returns QEMU's status (124: timeout).
gd_boot() {
	local target=$1 dir=$2 timeout=$3 mem fwcfg= weston=0 rootfs
	# shellcheck disable=SC1090
	. "$(gd_target_env "$target")"
	# The trixie dom0s carry Weston and Mesa (gd_make_initrd): 220 MiB
	# more root filesystem in RAM, and in the initrd until it is unpacked.
	[ "$(gd_release "$target")" != trixie ] || weston=1
	case $(gd_arch "$target")-${4:-xen} in
	x86_64-bare)
		timeout --foreground -k 10 "$timeout" qemu-system-x86_64 -accel tcg -cpu qemu64 -m 512 \
			-nographic -no-reboot -monitor none -serial stdio \
			-kernel "$GD_VMLINUZ" -initrd "$dir/initrd" \
			-append "console=ttyS0 quiet panic=-1 rdinit=/init" \
			< /dev/null > "$dir/console.log" 2>&1
		;;
	arm64-bare)
		timeout --foreground -k 10 "$timeout" qemu-system-aarch64 -machine virt -cpu cortex-a57 -m 512 \
			-nographic -no-reboot -monitor none -serial stdio \
			-kernel "$GD_VMLINUZ" -initrd "$dir/initrd" \
			-append "console=ttyAMA0 quiet panic=-1 rdinit=/init" \
			< /dev/null > "$dir/console.log" 2>&1
		;;
	x86_64-xen)
		mem=${GD_X86_DOM0_MEM:-$([ $weston = 1 ] && echo 1664M || echo 1024M)}
		timeout --foreground -k 10 "$timeout" qemu-system-x86_64 -accel tcg -cpu qemu64 -smp 2 \
			-m $([ $weston = 1 ] && echo 3072 || echo 2048) \
			-nographic -no-reboot -monitor none -serial stdio \
			-kernel "$GD_XEN" \
			-append "console=com1 com1=115200,8n1 dom0_mem=$mem,max:$mem bootscrub=false ${GD_XEN_ARGS:-}" \
			-initrd "$GD_VMLINUZ console=hvc0 quiet panic=-1 rootfstype=ramfs rdinit=/init,$dir/initrd" \
			< /dev/null > "$dir/console.log" 2>&1
		;;
	arm64-xen)
		# The root filesystem lives in dom0's RAM next to the domU's
		# images; KASAN's shadow and the slab debugging want more.
		# QEMU puts the device tree 128 MiB into RAM (0x48000000): the
		# initrd, which is larger than that now, goes above it.
		mem=${GD_ARM_DOM0_MEM:-$(gd_is_debug "$target" && echo 1024M || { [ $weston = 1 ] && echo 1280M; } || echo 768M)}
		# A tmpfs root takes half of RAM at most: too little for Weston's.
		rootfs=""
		[ $weston = 0 ] || rootfs=" rootfstype=ramfs"
		[ ! -f "$dir/fwcfg-dma.bin" ] || fwcfg=$dir/fwcfg-dma.bin
		timeout --foreground -k 10 "$timeout" qemu-system-aarch64 \
			-machine virt,virtualization=on,gic-version=3 -cpu cortex-a57 -smp 1 -m 2048 \
			-display none -serial stdio -monitor none -no-reboot \
			-kernel "$GD_XEN" -append "dom0_mem=$mem,max:$mem console=dtuart ${GD_XEN_ARGS:-}" \
			-device guest-loader,addr=0x42000000,kernel="$GD_VMLINUZ",bootargs="console=hvc0 earlycon=xenboot rdinit=/init panic=-1${rootfs}" \
			-device guest-loader,addr=0x50000000,initrd="$dir/initrd" \
			${fwcfg:+-fw_cfg "name=opt/gdmabuf/dma,file=$fwcfg"} \
			< /dev/null > "$dir/console.log" 2>&1
		;;
	esac
}

# gd_make_bare_initrd TARGET DIR: DIR/initrd for a kernel booted WITHOUT
# Xen (mode bare): busybox, our module and tests/guest/bare-init, which
# tries to load it.
gd_make_bare_initrd() {
	local target=$1 dir=$2 b=$2/overlay
	rm -rf "$b"
	mkdir -p "$b/bin" "$b/proc" "$b/dev"
	gd_busybox "$(gd_debarch "$target")" "$(gd_release "$target")" "$b/bin/busybox" || return 1
	cp "$GD_TOP/tests/guest/bare-init" "$b/init"
	cp "$GD_TOP/tests/guest/markers.sh" "$dir/xen-gntdev-dmabuf.ko" "$b/"
	gd_cpio "$b" | gzip -1 > "$dir/initrd"
}

# gd_collect CONSOLE OUT: the guest's marker lines (tests/guest/markers.sh)
# of the serial console CONSOLE, carriage returns and marker stripped, one
# "KIND<TAB>field..." line each, into OUT.  A kernel message may share the
# line before a marker; it is cut off.  Xen shares the serial port with
# dom0's console and may print a whole "(XEN) ..." line in the middle of
# one of dom0's (4.20's "uart interrupt taking more than 4ms"): the Xen
# message is dropped and dom0's line joined again.
gd_collect() {
	tr -d '\r' < "$1" | awk -v mark="$GD_MARK" '
		held != "" { $0 = held $0; held = "" }
		{ m = index($0, mark); x = index($0, "(XEN) ") }
		m && x > m { held = substr($0, 1, x - 1); next }
		{ print }
		END { if (held != "") print held }' |
		grep -o "$GD_MARK [A-Z]*	.*" | sed "s/^$GD_MARK //" > "$2"
	return 0
}

# _gd_lost TSV: how many of the results the guest counted in its DONE line
# are not among TSV's well-formed RESULT lines.
_gd_lost() {
	awk -F'\t' '
		$1 == "RESULT" && ($3 == "pass" || $3 == "fail" || $3 == "skip") { got++ }
		$1 == "DONE" { split($2, n, " "); want = n[1] + n[3] + n[5] }
		END { print want - got }' "$1"
}

# _gd_step NAME STATUS DETAIL: one of the host's own steps, as a RESULT line
# of the calling gd_guest_run's or gd_guest_boot's $out.
_gd_step() { printf 'RESULT\t%s\t%s\t%s\n' "$1" "$2" "$3" >> "$out"; }

# gd_guest_run [--debs DIR] [--built DIR] TARGET MODE TIMEOUT DIR [VAR=VALUE...]: one
# whole guest run.  Fetches TARGET's kernel and Xen (builds the debug
# kernel for a debug target), builds the module and the programs, writes
# the guest's configuration (GD_MODE=MODE, the defaults, then every
# VAR=VALUE, exported), assembles the initrd, boots Xen and dom0 for at
# most TIMEOUT seconds, which runs tests/guest/run-MODE.sh, and collects
# what it said.
#
# DIR/guest.tsv receives the parsed lines (see gd_collect): the guest's,
# and the host's own steps as RESULT lines (harness@fetch, harness@build,
# harness@initrd, harness@boot when dom0 never started,
# harness@complete, harness@console-log).  A failed test's log lines go
# to DIR/logs/TEST.log, the console to DIR/console.txt.  With --debs, the
# Debian packages in DIR are installed in an x86_64 dom0; without, none.
#
# With --built DIR, the module and the programs another run built in DIR
# are used: no fetch, no build (the bare mode, after a check run).  Mode
# "build" stops after the build: nothing boots (the build-only targets).
#
# Returns 0 when the guest reached its end, 2 when the target's kernel
# series is gone from the mirror (reported as a skip), 1 otherwise.
gd_guest_run() {
	local debs="" built="" target mode timeout dir out rc start config kv
	while :; do
		case $1 in
		--debs) debs=$2; shift 2;;
		--built) built=$2; shift 2;;
		*) break;;
		esac
	done
	target=$1 mode=$2 timeout=$3 dir=$4
	shift 4
	out=$dir/guest.tsv
	start=$(date +%s)
	rm -rf "$dir"
	mkdir -p "$dir/logs" "$GD_CACHE"
	: > "$out"

	if [ -n "$built" ]; then
		# shellcheck disable=SC1090
		. "$(gd_target_env "$target")"
		cp -a "$built/xen-gntdev-dmabuf.ko" "$built/tests" "$dir/"
		gd_guest_boot "$target" "$mode" "$timeout" "$dir" "$debs" "$@"
		return
	fi
	if gd_builds_kernel "$target"; then
		gd_log "$target: building its kernel once (cached; x86_64 takes up to 25 minutes cold)"
		"$GD_TOP/tests/debug/build-kernel.sh" "$target" > "$dir/fetch.log" 2>&1
	else
		# Targets may run in parallel: one download of a shared package at a time.
		flock "$GD_CACHE/.fetch.lock" "$GD_TOP/tests/fetch-target.sh" "$target" > "$dir/fetch.log" 2>&1
	fi
	rc=$?
	if [ $rc = 2 ]; then
		_gd_step harness@fetch skip "the mirror no longer offers this kernel series"
		return 2
	elif [ $rc != 0 ]; then
		_gd_step harness@fetch fail "cannot download the kernel or Xen (see $dir/fetch.log)"
		return 1
	fi
	# shellcheck disable=SC1090
	. "$(gd_target_env "$target")"
	_gd_step harness@fetch pass "kernel $GD_KVER, $GD_XEN_DEB"

	gd_build_target "$target" "$dir"
	case $? in
	0) _gd_step harness@build pass "module (W=1, sparse) and tests built";;
	2) _gd_step harness@build fail "warnings: $(head -n 1 "$dir/build-warnings.log")"; return 1;;
	*) _gd_step harness@build fail "build failed (see $dir/build-*.log)"; return 1;;
	esac
	[ "$mode" != build ] || return 0

	gd_guest_boot "$target" "$mode" "$timeout" "$dir" "$debs" "$@"
}

# gd_guest_boot TARGET MODE TIMEOUT DIR DEBS [VAR=VALUE...]: the second half
# of gd_guest_run, once the module and the programs are in DIR.
gd_guest_boot() {
	local target=$1 mode=$2 timeout=$3 dir=$4 debs=$5 out=$4/guest.tsv rc t0 config kv lost
	shift 5
	# From gd_guest_run's start when it called us.
	t0=${start:-$(date +%s)}
	config="GD_TARGET=$target
GD_MODE=$mode
GD_TEST=
GD_TEST_TIMEOUT=$(gd_is_debug "$target" && echo 1200 || echo 300)
GD_DOMU_TIMEOUT=$(gd_is_debug "$target" && echo 300 || echo 60)
GD_INJECT_WARN="
	for kv; do
		config="$config
export ${kv%%=*}='${kv#*=}'"
	done
	if ! gd_make_initrd "$target" "$dir" "$config" "$debs" > "$dir/initrd.log" 2>&1; then
		_gd_step harness@initrd fail "cannot assemble the initrd (see $dir/initrd.log)"
		return 1
	fi

	if [ "$mode" = bare ]; then
		gd_log "$target: booting Linux $GD_KVER under QEMU (TCG) without Xen, mode bare"
	else
		gd_log "$target: booting Xen $GD_XEN_SERIES + Linux $GD_KVER under QEMU (TCG), mode $mode"
	fi
	gd_boot "$target" "$dir" "$timeout" "$([ "$mode" = bare ] && echo bare || echo xen)"
	rc=$?
	tr -d '\r' < "$dir/console.log" > "$dir/console.txt"
	gd_collect "$dir/console.txt" "$out.guest"
	# Debian's 6.12 PV dom0 kernel now and then dies of a stray int3 of its
	# own text patching early in boot under TCG (testing.rst), before the
	# runner and the module: one more boot.  The first one's Oops is
	# reported (harness@first-boot, a skip) and its console kept.
	first=""
	if ! grep -q '^BEGIN	' "$out.guest" && grep -q 'Oops: int3' "$dir/console.txt"; then
		first="$(grep -m1 'Oops: int3' "$dir/console.txt"), $(grep -m1 -o 'RIP: [^ ]*' "$dir/console.txt")"
		mv "$dir/console.txt" "$dir/console-first-boot.txt"
		gd_log "$target: the kernel died before the runner ($first); booting again"
		gd_boot "$target" "$dir" "$timeout" "$([ "$mode" = bare ] && echo bare || echo xen)"
		rc=$?
		tr -d '\r' < "$dir/console.log" > "$dir/console.txt"
		gd_collect "$dir/console.txt" "$out.guest"
		_gd_step harness@first-boot skip "the first boot died before the runner (${first#*] }; $dir/console-first-boot.txt), booted again"
	fi
	cat "$out.guest" >> "$out"
	awk -F'\t' '$1 == "LOG" { print $3 > (d "/" $2 ".log") }' d="$dir/logs" "$out.guest"
	# Seconds per subtest, slowest first.
	awk -F'\t' '$1 == "TIME" { printf "%.1f\t%s\n", $4 - $3, $2 }' "$out.guest" |
		sort -rn > "$dir/times.tsv"
	lost=$(_gd_lost "$out.guest")
	rm -f "$out.guest"
	if ! grep -q '^BEGIN	' "$out"; then
		_gd_step harness@boot fail "TARGET DID NOT BOOT (QEMU status $rc); see $dir/console.txt: $(grep -E 'Panic|panic|BUG|Oops' "$dir/console.txt" | head -n 1)"
		gd_log "!!!!!!!! $target DID NOT BOOT: see $dir/console.txt"
		rc=1
	elif ! grep -q '^DONE	' "$out"; then
		_gd_step harness@complete fail "the run stopped before the end (QEMU status $rc); see $dir/console.txt: $(grep -E 'Panic|panic|BUG|Oops' "$dir/console.txt" | head -n 1)"
		rc=1
	elif [ "$lost" != 0 ]; then
		_gd_step harness@complete fail "$lost of the guest's results did not reach the host intact; see $dir/console.txt"
		rc=1
	else
		_gd_step harness@complete pass "finished in $(( $(date +%s) - t0 ))s"
		rc=0
	fi
	# Whatever the kernel printed on the console despite dmesg -n 1.
	if grep -E -f "$GD_TOP/tests/klog-patterns" "$dir/console.txt" | grep -v "$GD_MARK" > "$dir/console-bad.txt"; then
		_gd_step harness@console-log fail "$(head -n 1 "$dir/console-bad.txt")"
		rc=1
	fi
	return $rc
}
