#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# bench.sh [--targets "T1 T2"] [--test GLOB] [--upstream]: make bench.  Boots each target's Xen and
# dom0 under QEMU, runs tests/guest/gdmabuf-bench there (every measure
# side by side in one boot), and writes build/bench/results.csv, the
# ratios, a table on stdout and build/bench/cost-vs-size.png.
# --upstream (make bench-upstream): on the upstream-enabled kernels, the
# measures that go through a gntdev (export, its release and memory,
# import, zero-copy frames), ours and then the in-tree one's in the same
# boot, into build/bench-upstream, with their ratios ours/upstream.
set -uo pipefail
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/vm.sh"

targets="x86_64-6.1 arm64-6.1 x86_64-6.12-trixie"
test_glob=""
out=$GD_BUILD/bench
upstream=""
while [ $# -gt 0 ]; do
	case $1 in
	--targets) targets=$2; shift 2;;
	--test) test_glob=$2; shift 2;;
	--upstream) upstream=1; shift;;
	*) gd_die "usage: $0 [--targets \"...\"] [--test GLOB] [--upstream]";;
	esac
done
if [ -n "$upstream" ]; then
	[ "$targets" != "x86_64-6.1 arm64-6.1 x86_64-6.12-trixie" ] || targets=$GD_UPSTREAM_TARGETS
	for t in $targets; do gd_is_upstream "$t" || gd_die "$t is not an upstream target ($GD_UPSTREAM_TARGETS)"; done
	test_glob=${test_glob:-size-*,frames,import}
	out=$GD_BUILD/bench-upstream
fi
for t in $targets; do gd_valid_target "$t" || gd_die "unknown target $t (known: $GD_ALL_TARGETS)"; done

mkdir -p "$out"
csv=$out/results.csv
start=$(date +%s)
"$GD_TOP/tests/host-deps.sh" || gd_die "cannot install the host packages"
if ! command -v gnuplot > /dev/null; then
	gd_log "installing gnuplot-nox (for the plot)"
	sudo=""
	[ "$(id -u)" = 0 ] || sudo="sudo"
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		--no-upgrade gnuplot-nox > /dev/null || gd_log "no gnuplot: the plot is skipped"
fi

host_cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo | tr -s ' ' | tr ',' ' ')
echo "target,kernel,machine,measure,size,pages,median_us,min_us,max_us,reps" > "$csv"
failed=0

# Xen's grant tables default to 32768 entries: 256 MiB needs 65536 (dom0
# imports, the domU grants).  The domU needs room for 256 MiB of grants,
# and the arm64 dom0 for the ballooned pages that map them.
export GD_XEN_ARGS="gnttab_max_frames=256"
export GD_DOMU_MEM=512
export GD_ARM_DOM0_MEM=1024M

for t in $targets; do
	dir=$out/$t
	gd_log "=== $t"
	gd_guest_run "$t" bench 1500 "$dir" GD_TEST_TIMEOUT=900 GD_TEST="$test_glob" || failed=1
	# The measures are checked like tests: kernel log, counters, exit.
	if awk -F'\t' '$1 == "RESULT" && $3 == "fail"' "$dir/guest.tsv" | cut -f2- > "$dir/failed.txt" &&
	   [ -s "$dir/failed.txt" ]; then
		gd_log "$t: a measure or a step failed:"
		sed 's/^/    /' "$dir/failed.txt" >&2
		failed=1
	fi
	[ -f "$(gd_target_env "$t")" ] || continue
	# shellcheck disable=SC1090
	. "$(gd_target_env "$t")"
	machine="QEMU TCG ($(gd_arch "$t")) on $host_cpu"
	awk -F'\t' -v t="$t" -v k="$GD_KVER" -v m="$machine" 'BEGIN { OFS = "," }
		$1 == "BENCH" && $2 != "info" { print t, k, m, $2, $3, $4, $5, $6, $7, $8 }' \
		"$dir/guest.tsv" >> "$csv"
	awk -F'\t' '$1 == "BENCH" && $2 == "info" && $3 == "upstream-export-refused" { print $5 }' \
		"$dir/guest.tsv" > "$dir/refused.txt"
done

# Ratios, per target and size, from the medians.
awk -F, -v OFS=, 'NR > 1 && $4 !~ /^ratio/ {
	key = $1 SUBSEP $5; v[$1, $4, $5] = $7; kern[$1] = $2; mach[$1] = $3
	sizes[$1, $5] = $6; tg[$1] = 1
}
function r(t, a, sa, b, sb, name, s) {
	if ((t, a, sa) in v && (t, b, sb) in v && v[t, b, sb] > 0)
		printf "%s,%s,%s,ratio:%s,%s,%s,%.3f,,,\n", t, kern[t], mach[t], name, s,
			sizes[t, s], v[t, a, sa] / v[t, b, sb]
}
END {
	n = split("1page 1080p 4k 256mib", S, " ")
	for (t in tg) {
		for (i = 1; i <= n; i++) {
			s = S[i]
			r(t, "export", s, "stock-gntdev", s, "export/stock-gntdev", s)
			r(t, "export-mmap", s, "stock-gntdev", s, "export-mmap/stock-gntdev", s)
			r(t, "export", s, "floor", s, "export/floor", s)
			r(t, "export-release", s, "floor-release", s, "export-release/floor-release", s)
			r(t, "copy", s, "export", s, "copy-frame/export", s)
			# make bench-upstream: ours against the in-tree gntdev, same boot.
			r(t, "export", s, "upstream-export", s, "ours/upstream:export", s)
			r(t, "export-release", s, "upstream-export-release", s, "ours/upstream:export-release", s)
			r(t, "import", s, "upstream-import", s, "ours/upstream:import", s)
			r(t, "import-release", s, "upstream-import-release", s, "ours/upstream:import-release", s)
		}
		r(t, "frames-copy", "60x1080p", "frames-zero-copy", "60x1080p", "copy/zero-copy", "60x1080p")
		r(t, "frame-copy", "1080p", "frame-zero-copy", "1080p", "per-frame-copy/zero-copy", "1080p")
		# A CPU reader (a software compositor): the copy path is the copy
		# and the same reader reading it.
		r(t, "frames-copy-cpu", "60x1080p", "frames-zero-copy-cpu", "60x1080p", "copy-cpu/zero-copy-cpu", "60x1080p")
		r(t, "frame-copy-cpu", "1080p", "frame-zero-copy-cpu", "1080p", "per-frame-copy-cpu/zero-copy-cpu", "1080p")
		r(t, "frame-copy", "1080p", "frame-zero-copy-cpu", "1080p", "per-frame-copy-alone/zero-copy-cpu", "1080p")
		r(t, "frame-copy-cpu", "1080p", "frame-zero-copy-cpu-device", "1080p", "per-frame-copy-cpu/zero-copy-cpu-device", "1080p")
		r(t, "export", "4k", "export", "1080p", "export-4k/1080p", "4k")
		r(t, "stock-gntdev", "4k", "stock-gntdev", "1080p", "stock-gntdev-4k/1080p", "4k")
		r(t, "export", "256mib", "export", "4k", "export-256mib/4k", "256mib")
		# The display backend: per flip, copy against zero copy; buffer
		# creation through the protocol against a bare export.
		r(t, "displ-kms-flip-copy", "1080p", "displ-kms-flip-zero-copy", "1080p", "displ-kms-flip-copy/zero-copy", "1080p")
		r(t, "displ-flip-copy", "1080p", "displ-flip-zero-copy", "1080p", "displ-flip-copy/zero-copy", "1080p")
		r(t, "displ-flip-copy", "4k", "displ-flip-zero-copy", "4k", "displ-flip-copy/zero-copy", "4k")
		r(t, "displ-dbuf-create-zero-copy", "1080p", "export", "1080p", "displ-dbuf-create/export", "1080p")
		r(t, "displ-dbuf-create-zero-copy", "4k", "export", "4k", "displ-dbuf-create/export", "4k")
		r(t, "displ-backend-flip-copy", "1080p", "displ-backend-flip-zero-copy", "1080p", "displ-backend-flip-copy/zero-copy", "1080p")
		r(t, "displ-backend-flip-copy", "4k", "displ-backend-flip-zero-copy", "4k", "displ-backend-flip-copy/zero-copy", "4k")
		r(t, "displ-backend-create-zero-copy", "1080p", "displ-backend-export-zero-copy", "1080p", "displ-backend-create/its-export", "1080p")
		r(t, "displ-backend-create-zero-copy", "4k", "displ-backend-export-zero-copy", "4k", "displ-backend-create/its-export", "4k")
		# KMS scanout on vkms (60 Hz): the frame time of the display bounds every mode
		# that keeps up; what is left over is the cost per frame in dom0.
		r(t, "displ-scanout-flip-copy", "1080p", "displ-scanout-flip-zero-copy", "1080p", "scanout-flip-copy/zero-copy", "1080p")
		r(t, "displ-scanout-flip-be-alloc", "1080p", "displ-scanout-flip-zero-copy", "1080p", "scanout-flip-be-alloc/zero-copy", "1080p")
		r(t, "displ-scanout-backend-flip-copy", "1080p", "displ-scanout-backend-flip-zero-copy", "1080p", "scanout-backend-flip-copy/zero-copy", "1080p")
		# Weston in dom0 (the Wayland sink): wl_shm copies against linux-dmabuf.
		r(t, "displ-compositor-flip-shm", "1080p", "displ-compositor-flip-zero-copy", "1080p", "compositor-flip-shm/zero-copy", "1080p")
		r(t, "displ-compositor-present-shm", "1080p", "displ-compositor-present-zero-copy", "1080p", "compositor-present-shm/zero-copy", "1080p")
		r(t, "displ-compositor-dom0-cpu-shm", "1080p", "displ-compositor-dom0-cpu-zero-copy", "1080p", "compositor-dom0-cpu-shm/zero-copy", "1080p")
		r(t, "memory-export", "bytes-per-page", "upstream-memory-export", "bytes-per-page", "ours/upstream:memory-export", "bytes-per-page")
		r(t, "frames-zero-copy", "60x1080p", "upstream-frames-zero-copy", "60x1080p", "ours/upstream:frames-zero-copy", "60x1080p")
		r(t, "frame-zero-copy", "1080p", "upstream-frame-zero-copy", "1080p", "ours/upstream:frame-zero-copy", "1080p")
	}
}' "$csv" > "$out/ratios.csv"
cat "$out/ratios.csv" >> "$csv"

# The table.
{
	printf '\nmake bench: medians in microseconds (min..max over the repetitions)\n'
	for t in $targets; do
		grep -q "^$t," "$csv" || continue
		printf '\n%s: %s\n' "$t" "$(awk -F, -v t="$t" '$1 == t { print "kernel " $2 ", " $3; exit }' "$csv")"
		awk -F, -v t="$t" '$1 == t && $4 !~ /^ratio/ {
			printf "  %-28s %-14s %6s pages %12s us  (%s..%s, n=%s)\n", $4, $5, $6, $7, $8, $9, $10 }' "$csv"
		printf '  ratios:\n'
		awk -F, -v t="$t" '$1 == t && $4 ~ /^ratio/ {
			sub("ratio:", "", $4); printf "  %-40s %-10s %8.3f\n", $4, $5, $7 }' "$csv"
		[ ! -s "$out/$t/refused.txt" ] ||
			printf '  upstream refuses every export here (%s): no ours/upstream ratio for export or frames\n' \
				"$(sort -u "$out/$t/refused.txt" | tr '\n' ' ' | sed 's/ $//')"
	done
} | tee "$out/table.txt"

if command -v gnuplot > /dev/null; then
	plot=""
	for t in $targets; do
		for m in export stock-gntdev copy floor; do
			awk -F, -v t="$t" -v m="$m" '$1 == t && $4 == m { print $6, $7 / 1000 }' "$csv" \
				> "$out/plot-$t-$m.dat"
			[ -s "$out/plot-$t-$m.dat" ] &&
				plot="$plot${plot:+, }'$out/plot-$t-$m.dat' with linespoints title '$t $m'"
		done
	done
	if [ -n "$plot" ]; then
		gnuplot <<PLOT && gd_log "plot: $out/cost-vs-size.png"
set terminal png size 1000,700 noenhanced
set output '$out/cost-vs-size.png'
set title 'gntdev-dmabuf: cost against buffer size (median, QEMU TCG)'
set logscale xy
set xlabel 'buffer size (4 KiB pages)'
set ylabel 'milliseconds'
set key top left
set grid
plot $plot
PLOT
	fi
fi

printf 'results: %s (%ss)\n' "$csv" "$(( $(date +%s) - start ))"
exit $failed
