#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# check.sh [--targets "T1 T2"] [--test GLOB[,GLOB]] [--debug|--upstream]:
# the whole test matrix (make check).  For each target: fetch the kernel
# and Xen of its Debian release, build the module and the tests with that
# release's compilers, assemble the initrd, boot Xen + dom0 under QEMU, run
# the suite in dom0 and collect the results into build/check/results.tsv.
# Without --targets and --test, the build-only targets are also fetched and
# built, not booted.  --debug (make check-debug) runs the suite on the
# debug kernels instead, --upstream (make check-upstream) on the
# upstream-enabled ones (all of them, or those --targets names), into
# build/check-debug or build/check-upstream, without the host-only steps
# (checkpatch, packages, install).
set -uo pipefail
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/vm.sh"

targets=""
test_glob=""
inject_warn=${INJECT_WARN:-}
kernels=""	# debug or upstream: the targets whose kernel build-kernel.sh builds
while [ $# -gt 0 ]; do
	case $1 in
	--targets) targets=$2; shift 2;;
	--test) test_glob=$2; shift 2;;
	--debug) kernels=debug; shift;;
	--upstream) kernels=upstream; shift;;
	*) gd_die "usage: $0 [--targets \"...\"] [--test GLOB] [--debug|--upstream]";;
	esac
done
build_only=""
case $kernels in
debug) special=$GD_DEBUG_TARGETS;;
upstream) special=$GD_UPSTREAM_TARGETS;;
*) special="";;
esac
[ -n "$targets" ] || targets=$special
if [ -z "$targets" ]; then
	targets=$GD_ALL_TARGETS
	[ -n "$test_glob" ] || build_only=$GD_BUILD_ONLY_TARGETS
fi
for t in $targets; do
	gd_valid_target "$t" || gd_die "unknown target $t (known: $GD_ALL_TARGETS $GD_BUILD_ONLY_TARGETS $GD_DEBUG_TARGETS $GD_UPSTREAM_TARGETS)"
	[ -z "$kernels" ] || gd_in "$t" $special || gd_die "$t is not a $kernels target ($special)"
done

out=$GD_BUILD/check${kernels:+-$kernels}
mkdir -p "$out"
results=$out/results.tsv
: > "$results"
start=$(date +%s)

# The fuzz test's knobs, passed on to the guest so that a seed replays:
# make check TEST=fuzz-ioctl GDMABUF_FUZZ_SEED=0x...
guest_vars() {
	local v
	printf 'GD_TEST=%s\n' "$test_glob"
	printf 'GD_INJECT_WARN=%s\n' "$inject_warn"
	for v in GDMABUF_FUZZ_SEED GDMABUF_FUZZ_OPS GDMABUF_FUZZ_THREADS; do
		[ -n "${!v:-}" ] && printf '%s=%s\n' "$v" "${!v}"
	done
	return 0
}

add() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >> "$results"; }

"$GD_TOP/tests/host-deps.sh" || gd_die "cannot install the host packages"

# bare_check T DIR: the same kernel without Xen must refuse our module
# (mode bare, with the module the check run built in DIR).
bare_check() {
	local t=$1 dir=$2 tsv=$2/bare/guest.tsv bare msg
	gd_guest_run --built "$dir" "$t" bare 300 "$dir/bare"
	bare=$(awk -F'\t' '$1 == "BARE" { print $2; exit }' "$tsv")
	msg=$(awk -F'\t' '$1 == "BAREMSG" { print $2; exit }' "$tsv")
	case $bare in
	refused)
		if echo "$msg" | grep -q 'not running in a Xen domain'; then
			add "$t" harness@refuse-without-xen pass "same kernel without Xen: insmod refused: $msg"
		else
			add "$t" harness@refuse-without-xen fail "refused without the expected message: $(awk -F'\t' '$1 == "BARE" { print $3; exit }' "$tsv") / $msg"
		fi;;
	loaded) add "$t" harness@refuse-without-xen fail "the module loaded on a kernel running without Xen";;
	*) add "$t" harness@refuse-without-xen fail "bare kernel did not run the check (see $dir/bare/console.txt)";;
	esac
}

# run_target T [build]: one target, booted (mode check) or only built.
run_target() {
	local t=$1 mode=${2:-check} dir=$out/$1 ko vars=() rel debs
	rel=$(gd_release "$t")
	debs=$(pkg_dir "$rel")
	mapfile -t vars < <(guest_vars)
	# Lockdep, kmemleak and the slab debugging make the debug kernel slow.
	gd_guest_run ${debs:+--debs "$debs"} "$t" "$mode" "$(gd_is_debug "$t" && echo 5400 || echo 1800)" \
		"$dir" "${vars[@]}"
	awk -F'\t' -v t="$t" -v OFS='\t' '$1 == "RESULT" { print t, $2, $3, $4 }' "$dir/guest.tsv" >> "$results"
	[ -f "$dir/xen-gntdev-dmabuf.ko" ] || return 0

	if [ -n "$debs" ]; then
		if ko=$(gd_release_run "$rel" "$GD_TOP/tests/dkms-build.sh" "$debs" "$t" "$dir/dkms" 2> "$dir/dkms.log"); then
			add "$t" harness@dkms-build pass "gntdev-dmabuf-dkms ($rel) built ${ko##*/} for $GD_KVER"
		else
			add "$t" harness@dkms-build fail "dkms build failed (see $dir/dkms.log)"
		fi
	fi
	[ -n "$test_glob" ] || [ "$mode" = build ] || bare_check "$t" "$dir"
	if [ -z "$test_glob" ] && [ -z "$kernels" ]; then
		if msg=$(gd_release_run "$rel" "$GD_TOP/tests/probe-check.sh" "$t" 2> "$dir/probe-check.log"); then
			add "$t" harness@probe-loud pass "$msg"
		else
			add "$t" harness@probe-loud fail "$(tail -n 1 "$dir/probe-check.log")"
		fi
	fi
}

mkdir -p "$out/host"
if [ -z "$kernels" ]; then
	if "$GD_TOP/tests/checkpatch.sh" > "$out/host/checkpatch.log" 2>&1; then
		add host harness@checkpatch pass "checkpatch.pl --strict: clean"
	else
		add host harness@checkpatch fail "checkpatch.pl --strict: $(grep -cE '^(ERROR|WARNING|CHECK)' "$out/host/checkpatch.log") findings, see $out/host/checkpatch.log"
	fi
	if msg=$("$GD_TOP/scripts/kernel-doc.sh" check-uapi 2> "$out/host/uapi-doc.log"); then
		add host harness@uapi-doc pass "$msg"
	else
		add host harness@uapi-doc fail "$(tail -n 1 "$out/host/uapi-doc.log") (diff in $out/host/uapi-doc.log)"
	fi
	if msg=$("$GD_TOP/scripts/kernel-doc.sh" check-docs 2> "$out/host/kernel-doc.log"); then
		add host harness@kernel-doc pass "$msg"
	else
		add host harness@kernel-doc fail "$(tail -n 1 "$out/host/kernel-doc.log") (see $out/host/kernel-doc.log)"
	fi
	if make -C "$GD_TOP/userspace" check > "$out/host/lib-check.log" 2>&1; then
		add host harness@lib-check pass "libgntdmabuf: public header alone (C99, C++11), exported symbols = libgntdmabuf.map"
	else
		add host harness@lib-check fail "make -C userspace check failed (see $out/host/lib-check.log)"
	fi
fi

# The releases of the matrix: bookworm's then trixie's.
# shellcheck disable=SC2086
releases=$(for t in $targets $build_only; do gd_release "$t"; done | sort -u)
for rel in $releases; do
	[ "$rel" = "$(gd_host_release)" ] && continue
	# On failure each step that needs it tries again and fails on its own.
	root=$(gd_build_root "$rel") && export "GD_BUILDROOT_$rel=$root"
done

# The Debian packages, built for each release in that release as a user
# would (gd_release_run); the DKMS build per target and the packaged tool
# in the x86_64 guests use those of their release.  A run that does not
# build them tests none.
rm -rf "$out/pkg"
if [ -z "$kernels" ] && { [ -z "$test_glob" ] || [ -n "${GD_PACKAGES:-}" ]; }; then
	for rel in $releases; do
		gd_log "building the Debian packages in $rel"
		if gd_release_run "$rel" "$GD_TOP/tests/package.sh" "$out/pkg/$rel" > "$out/host/package-$rel.log" 2>&1; then
			add host "harness@deb-build-$rel" pass "dpkg-buildpackage -b in $rel: $(cd "$out/pkg/$rel/debs" && ls | grep -v dbgsym | tr '\n' ' ')"
			if msg=$("$GD_TOP/tests/displ-package-check.sh" "$out/pkg/$rel/debs"); then
				add host "harness@displ-package-$rel" pass "$msg"
			else
				add host "harness@displ-package-$rel" fail "$msg"
			fi
			compat_deb=$(ls "$out/pkg/$rel/debs"/gntdmabuf-compat_*.deb 2>/dev/null | head -n 1)
			[ -z "$compat_deb" ] || dpkg-deb -c "$compat_deb" > "$out/host/compat-$rel.list"
			if [ -n "$compat_deb" ] &&
			   grep -q '/gntdmabuf/libgntdmabuf-compat\.so$' "$out/host/compat-$rel.list" &&
			   grep -q '/usr/bin/gntdmabuf-compat$' "$out/host/compat-$rel.list" &&
			   grep -q 'man1/gntdmabuf-compat\.1\.gz$' "$out/host/compat-$rel.list"; then
				add host "harness@compat-package-$rel" pass "$(basename "$compat_deb"): the preload library, gntdmabuf-compat and its manual page"
			else
				add host "harness@compat-package-$rel" fail "no gntdmabuf-compat package with its library, command and manual page in $out/pkg/$rel/debs"
			fi
		else
			rm -rf "$out/pkg/$rel/debs"
			add host "harness@deb-build-$rel" fail "dpkg-buildpackage failed in $rel (see $out/pkg/$rel/build.log)"
		fi
	done
fi
# pkg_dir RELEASE: the directory of RELEASE's packages, empty if none.
pkg_dir() { [ ! -d "$out/pkg/$1/debs" ] || echo "$out/pkg/$1/debs"; }

# run_one T [build]: one target, its results in their own file.
run_one() {
	(
		results=$out/results-$1.tsv
		: > "$results"
		gd_log "=== $1${2:+ (build only)}"
		run_target "$@"
		awk -F'\t' '{ printf "  %-5s %s %s\n", $3, $2, ($3 == "pass" ? "" : $4) }' "$results" |
			sed "s/^/[$1] /" >&2
	)
}

# install_checks: per release, the dkms package through dpkg and make
# install, on the amd64 kernels of the release in the matrix.
install_checks() {
	local rel debs kvers first t msg
	for rel in $releases; do
		debs=$(pkg_dir "$rel")
		# The amd64 kernels of this release in the matrix.
		kvers="" first=""
		for t in $targets $build_only; do
			case $t in x86_64-*) ;; *) continue;; esac
			[ "$(gd_release "$t")" = "$rel" ] || continue
			# The other lane may not have reached it yet.
			[ -f "$(gd_target_env "$t")" ] ||
				flock "$GD_CACHE/.fetch.lock" "$GD_TOP/tests/fetch-target.sh" "$t" > /dev/null 2>&1 ||
				continue
			kvers="$kvers $(. "$(gd_target_env "$t")"; echo "$GD_KVER")"
			first=${first:-$t}
		done
		[ -n "$kvers" ] || continue
		if [ -n "$debs" ]; then
			# The dkms package through dpkg, on every amd64 kernel of the release.
			gd_log "installing gntdev-dmabuf-dkms with dpkg in a $rel chroot"
			# shellcheck disable=SC2086
			if msg=$("$GD_TOP/tests/dkms-chroot.sh" "$rel" "$debs" "$out/dkms-chroot-$rel" $kvers \
					2> "$out/host/dkms-chroot-$rel.log"); then
				add host "harness@dkms-install-$rel" pass "$msg"
			else
				add host "harness@dkms-install-$rel" fail "$(tail -n 1 "$out/host/dkms-chroot-$rel.log") (see $out/dkms-chroot-$rel/)"
			fi
		fi
		# make install on a dom0 of the release, for its first amd64 kernel:
		# make install builds for the machine it runs on.
		if msg=$(gd_release_run "$rel" "$GD_TOP/tests/install-check.sh" "$first" "$out/install-$rel" \
				2> "$out/host/install-$rel.log"); then
			add host "harness@install-$rel" pass "$rel: $msg"
		else
			add host "harness@install-$rel" fail "$(tail -n 1 "$out/host/install-$rel.log") (see $out/host/install-$rel.log)"
		fi
	done
}

# Two lanes at once when GD_CHECK_JOBS is 2 (the default; see
# testing.rst, "Timing"): the x86_64 targets in one, the arm64 targets,
# then the build-only ones and the install checks in the other, which
# ends about when the x86_64 lane does.  The arm64 guest has one vCPU and
# the host steps of a target leave cores idle.
x86=() arm=()
for t in $targets; do
	case $t in x86_64-*) x86+=("$t");; *) arm+=("$t");; esac
done
# lane_b: the second lane's work after its booted targets.
lane_b() {
	local t
	for t in $build_only; do
		run_one "$t" build
	done
	[ -n "$test_glob" ] || [ -n "$kernels" ] || install_checks
}
if [ "${GD_CHECK_JOBS:-2}" = 1 ]; then
	for t in $targets; do
		run_one "$t"
	done
	lane_b
else
	for t in "${x86[@]}"; do
		run_one "$t"
	done &
	{
		for t in "${arm[@]}"; do
			run_one "$t"
		done
		lane_b
	} &
	wait
fi
for t in $targets $build_only; do
	cat "$out/results-$t.tsv" >> "$results"
done
# The conformance table, against the last make check's results.
if [ "$kernels" = upstream ] && [ -z "$test_glob" ]; then
	if [ ! -s "$GD_BUILD/check/results.tsv" ]; then
		add host harness@conformance skip "no results of make check to compare with"
	elif msg=$("$GD_TOP/tests/conformance.sh" "$GD_BUILD/check/results.tsv" "$results" \
		   "$out/conformance.rst" 2> "$out/host/conformance.log"); then
		add host harness@conformance pass "$msg (table: $out/conformance.rst)"
	else
		add host harness@conformance fail "$(tail -n 1 "$out/host/conformance.log") (see $out/host/conformance.log)"
	fi
fi

# What the run's verdict counts.  On the upstream-enabled kernels the
# subtests' results are upstream's, the data of the conformance table, not
# failures of this run: what fails it there is the harness (builds, boots,
# kernel logs, our module loaded beside) and harness@conformance, a
# difference nobody explained.
counted='1'
[ "$kernels" != upstream ] || counted='$2 ~ /^harness@/'
printf '\n'
awk -F'\t' "$counted"' && $3 == "fail" { printf "FAIL  %s  %s  %s\n", $1, $2, $4 }' "$results"
awk -F'\t' "!($counted)"' && $3 == "fail" { printf "upstream fails  %s  %s  %s\n", $1, $2, $4 }' "$results"
awk -F'\t' '$3 == "skip" { printf "skip  %s  %s  %s\n", $1, $2, $4 }' "$results"
pass=$(awk -F'\t' "$counted"' && $3 == "pass"' "$results" | wc -l)
fail=$(awk -F'\t' "$counted"' && $3 == "fail"' "$results" | wc -l)
skip=$(awk -F'\t' "$counted"' && $3 == "skip"' "$results" | wc -l)
printf 'results: %s (%ss)\n' "$results" "$(( $(date +%s) - start ))"
[ "$kernels" != upstream ] ||
	awk -F'\t' '$2 !~ /^harness@/ { n[$3]++ }
		END { printf "upstream'"'"'s own results (the conformance table'"'"'s data): %d pass, %d fail, %d skip\n", n["pass"], n["fail"], n["skip"] }' "$results"
printf '%d passed, %d failed, %d skipped\n' "$pass" "$fail" "$skip"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
