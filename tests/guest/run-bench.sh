#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# make bench, in dom0: every measure of gdmabuf-bench (or those GD_TEST
# names) is a subtest, checked like a test; the "bench" lines of its output go to the host as BENCH
# lines.  On an upstream-enabled kernel (make bench-upstream) the same
# subtests run a second time in the same boot against its in-tree gntdev,
# as gdmabuf-bench-upstream, and bench.sh divides the two.
. /opt/gdmabuf/runner-lib.sh

TAB=$(printf '\t')

# bench BIN: every wanted subtest of BIN (gdmabuf-bench under some name).
bench() {
	name=$(basename "$1")
	for sub in $("$1" --list-subtests); do
		wanted "$name@$sub" || continue
		run_subtest "$1" "$sub"
		# One field with the line's own tabs: the host splits it.
		grep "^bench${TAB}" "$LOGS/$name@$sub.log" | while IFS= read -r line; do
			gd_emit BENCH "${line#bench"${TAB}"}"
		done
	done
}

runner_begin
upstream=${GDMABUF_DEV:-}
unset GDMABUF_DEV
bench $G/gdmabuf-bench
if [ -n "$upstream" ]; then
	mkdir -p $LOGS/bin
	ln -sf $G/gdmabuf-bench $LOGS/bin/gdmabuf-bench-upstream
	GDMABUF_DEV=$upstream
	export GDMABUF_DEV
	bench $LOGS/bin/gdmabuf-bench-upstream
fi
runner_end
