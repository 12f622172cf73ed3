#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# check.sh [--targets "T1 T2"] [--test GLOB[,GLOB]] [--debug]: the whole
# test matrix (make check).  For each target: fetch the kernel and Xen,
# build the module and the tests, assemble the initrd, boot Xen + dom0
# under QEMU, run the suite in dom0 and collect the results into
# build/check/results.tsv.  --debug (make check-debug) runs the suite on
# the debug kernels instead (all of them, or those --targets names), into
# build/check-debug, without the host-only steps (checkpatch, packages,
# install).
set -uo pipefail
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/vm.sh"

targets=""
test_glob=""
inject_warn=${INJECT_WARN:-}
debug=""
while [ $# -gt 0 ]; do
	case $1 in
	--targets) targets=$2; shift 2;;
	--test) test_glob=$2; shift 2;;
	--debug) debug=1; shift;;
	*) gd_die "usage: $0 [--targets \"...\"] [--test GLOB] [--debug]";;
	esac
done
[ -n "$targets" ] || targets=${debug:+$GD_DEBUG_TARGETS}
[ -n "$targets" ] || targets=$GD_ALL_TARGETS
for t in $targets; do
	gd_valid_target "$t" || gd_die "unknown target $t (known: $GD_ALL_TARGETS $GD_DEBUG_TARGETS)"
	[ -z "$debug" ] || gd_is_debug "$t" || gd_die "$t is not a debug target ($GD_DEBUG_TARGETS)"
done

out=$GD_BUILD/check${debug:+-debug}
mkdir -p "$out"
results=$out/results.tsv
: > "$results"
start=$(date +%s)

# The fuzz test's knobs, passed on to the guest so that a seed replays:
# make check TEST=fuzz-ioctl GDMABUF_FUZZ_SEED=0x...
fuzz_env() {
	local v
	for v in GDMABUF_FUZZ_SEED GDMABUF_FUZZ_OPS GDMABUF_FUZZ_THREADS; do
		[ -n "${!v:-}" ] && printf 'export %s=%s\n' "$v" "${!v}"
	done
	return 0
}

add() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >> "$results"; }

"$GD_TOP/tests/host-deps.sh" || gd_die "cannot install the host packages"

run_target() {
	local t=$1 dir=$out/$1 rc tstart
	tstart=$(date +%s)
	rm -rf "$dir"
	mkdir -p "$dir"
	if gd_is_debug "$t"; then
		gd_log "$t: building the debug kernel once (cached; x86_64 takes about 25 minutes cold)"
		"$GD_TOP/tests/debug/build-kernel.sh" "$t" > "$dir/fetch.log" 2>&1
	else
		"$GD_TOP/tests/fetch-target.sh" "$t" > "$dir/fetch.log" 2>&1
	fi
	rc=$?
	if [ $rc = 2 ]; then
		add "$t" harness@fetch skip "the mirror no longer offers this kernel series"
		return
	elif [ $rc != 0 ]; then
		add "$t" harness@fetch fail "cannot download the kernel or Xen (see $dir/fetch.log)"
		return
	fi
	# shellcheck disable=SC1090
	. "$(gd_target_env "$t")"
	add "$t" harness@fetch pass "kernel $GD_KVER, $GD_XEN_DEB"

	gd_build_target "$t" "$dir"
	case $? in
	0) add "$t" harness@build pass "module (W=1, sparse) and tests built";;
	2) add "$t" harness@build fail "warnings: $(head -n 1 "$dir/build-warnings.log")"; return;;
	*) add "$t" harness@build fail "build failed (see $dir/build-*.log)"; return;;
	esac

	if [ -d "$out/pkg/debs" ]; then
		if ko=$("$GD_TOP/tests/dkms-build.sh" "$out/pkg/debs" "$t" "$dir/dkms" 2> "$dir/dkms.log"); then
			add "$t" harness@dkms-build pass "gntdev-dmabuf-dkms built ${ko##*/} for $GD_KVER"
		else
			add "$t" harness@dkms-build fail "dkms build failed (see $dir/dkms.log)"
		fi
	fi

	if [ -z "$test_glob" ]; then
		gd_boot_bare "$t" "$dir"
		local bare msg
		bare=$(tr -d '\r' < "$dir/bare-console.log" | grep -o '@@GD BARE	.*' | cut -f2-)
		msg=$(tr -d '\r' < "$dir/bare-console.log" | grep -o '@@GD BAREMSG	.*' | cut -f2- | head -n 1)
		case $bare in
		refused*)
			if echo "$msg" | grep -q 'not running in a Xen domain'; then
				add "$t" harness@refuse-without-xen pass "same kernel without Xen: insmod refused: $msg"
			else
				add "$t" harness@refuse-without-xen fail "refused without the expected message: $bare / $msg"
			fi;;
		loaded) add "$t" harness@refuse-without-xen fail "the module loaded on a kernel running without Xen";;
		*) add "$t" harness@refuse-without-xen fail "bare kernel did not run the check (see $dir/bare-console.log)";;
		esac
	fi

	gd_make_initrd "$t" "$dir" "GD_TARGET=$t
GD_TEST=\"$test_glob\"
GD_TEST_TIMEOUT=$(gd_is_debug "$t" && echo 1200 || echo 300)
GD_INJECT_WARN=$inject_warn
$(fuzz_env)" > "$dir/initrd.log" 2>&1 ||
		{ add "$t" harness@initrd fail "cannot assemble the initrd (see $dir/initrd.log)"; return; }

	gd_log "$t: booting Xen $GD_XEN_SERIES + Linux $GD_KVER under QEMU (TCG)"
	# Lockdep, kmemleak and the slab debugging make the debug kernel slow.
	gd_boot "$t" "$dir" "$(gd_is_debug "$t" && echo 5400 || echo 1800)"
	rc=$?
	tr -d '\r' < "$dir/console.log" > "$dir/console.txt"
	grep -o '@@GD RESULT.*' "$dir/console.txt" | cut -f2- | while IFS=$'\t' read -r name status detail; do
		add "$t" "$name" "$status" "$detail"
	done
	mkdir -p "$dir/logs"
	grep -o '@@GD LOG.*' "$dir/console.txt" | cut -f2- | while IFS=$'\t' read -r name line; do
		printf '%s\n' "$line" >> "$dir/logs/$name.log"
	done
	if ! grep -q '@@GD BEGIN' "$dir/console.txt"; then
		add "$t" harness@boot fail "TARGET DID NOT BOOT (QEMU status $rc); see $dir/console.txt: $(grep -E 'Panic|panic|BUG|Oops' "$dir/console.txt" | head -n 1)"
		gd_log "!!!!!!!! $t DID NOT BOOT: see $dir/console.txt"
	elif ! grep -q '@@GD DONE' "$dir/console.txt"; then
		add "$t" harness@complete fail "the run stopped before the end (QEMU status $rc); see $dir/console.txt: $(grep -E 'Panic|panic|BUG|Oops' "$dir/console.txt" | head -n 1)"
	else
		add "$t" harness@complete pass "finished in $(( $(date +%s) - tstart ))s"
	fi
	# Whatever the kernel printed on the console despite dmesg -n 1.
	if grep -E -f "$GD_TOP/tests/klog-patterns" "$dir/console.txt" | grep -v '@@GD' > "$dir/console-bad.txt"; then
		add "$t" harness@console-log fail "$(head -n 1 "$dir/console-bad.txt")"
	fi
}

mkdir -p "$out/host"
if [ -z "$debug" ]; then
	if "$GD_TOP/tests/checkpatch.sh" > "$out/host/checkpatch.log" 2>&1; then
		add host harness@checkpatch pass "checkpatch.pl --strict: clean"
	else
		add host harness@checkpatch fail "checkpatch.pl --strict: $(grep -cE '^(ERROR|WARNING|CHECK)' "$out/host/checkpatch.log") findings, see $out/host/checkpatch.log"
	fi
fi

# The Debian packages, built as a user would; the DKMS build per target and
# the packaged tool in the x86_64 guests use them.
if [ -n "$debug" ]; then
	rm -rf "$out/pkg"
elif [ -z "$test_glob" ] || [ -n "${GD_PACKAGES:-}" ]; then
	gd_log "building the Debian packages"
	if "$GD_TOP/tests/package.sh" "$out/pkg" > "$out/host/package.log" 2>&1; then
		add host harness@deb-build pass "dpkg-buildpackage -b: $(cd "$out/pkg/debs" && ls | grep -v dbgsym | tr '\n' ' ')"
	else
		add host harness@deb-build fail "dpkg-buildpackage failed (see $out/pkg/build.log)"
	fi
else
	# A filtered run does not rebuild them; never test stale ones.
	rm -rf "$out/pkg"
fi

for t in $targets; do
	gd_log "=== $t"
	run_target "$t"
	grep "^$t	" "$results" | awk -F'\t' '{ printf "  %-5s %s %s\n", $3, $2, ($3 == "pass" ? "" : $4) }' >&2
done

if [ -z "$test_glob" ] && [ -d "$out/pkg/debs" ]; then
	# The dkms package through dpkg, on every amd64 kernel of the matrix.
	kvers=""
	for t in $targets; do
		case $t in x86_64-*) ;; *) continue;; esac
		[ -f "$(gd_target_env "$t")" ] || continue
		kvers="$kvers $(. "$(gd_target_env "$t")"; echo "$GD_KVER")"
	done
	if [ -n "$kvers" ]; then
		gd_log "installing gntdev-dmabuf-dkms with dpkg in a chroot"
		# shellcheck disable=SC2086
		if msg=$("$GD_TOP/tests/dkms-chroot.sh" "$out/pkg/debs" "$out/dkms-chroot" $kvers \
				2> "$out/host/dkms-chroot.log"); then
			add host harness@dkms-install pass "$msg"
		else
			add host harness@dkms-install fail "$(tail -n 1 "$out/host/dkms-chroot.log") (see $out/dkms-chroot/)"
		fi
	fi
fi

if [ -z "$test_glob" ] && [ -z "$debug" ]; then
	# On the first target whose headers were fetched.
	for t in $targets; do
		[ -f "$(gd_target_env "$t")" ] || continue
		if msg=$("$GD_TOP/tests/install-check.sh" "$t" "$out/install" 2> "$out/host/install.log"); then
			add host harness@install pass "$msg"
		else
			add host harness@install fail "$(tail -n 1 "$out/host/install.log") (see $out/host/install.log)"
		fi
		break
	done
fi

printf '\n'
awk -F'\t' '$3 == "fail" { printf "FAIL  %s  %s  %s\n", $1, $2, $4 }' "$results"
awk -F'\t' '$3 == "skip" { printf "skip  %s  %s  %s\n", $1, $2, $4 }' "$results"
pass=$(awk -F'\t' '$3 == "pass"' "$results" | wc -l)
fail=$(awk -F'\t' '$3 == "fail"' "$results" | wc -l)
skip=$(awk -F'\t' '$3 == "skip"' "$results" | wc -l)
printf 'results: %s (%ss)\n' "$results" "$(( $(date +%s) - start ))"
printf '%d passed, %d failed, %d skipped\n' "$pass" "$fail" "$skip"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
