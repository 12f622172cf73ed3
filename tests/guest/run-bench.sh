#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# make bench, in dom0: every measure of gdmabuf-bench (or those GD_TEST
# names) is a subtest, checked like a test; the "bench" lines of its output go to the host as BENCH
# lines.
. /opt/gdmabuf/runner-lib.sh

TAB=$(printf '\t')
runner_begin
for sub in $($G/gdmabuf-bench --list-subtests); do
	wanted "gdmabuf-bench@$sub" || continue
	run_subtest $G/gdmabuf-bench "$sub"
	# One field with the line's own tabs: the host splits it.
	grep "^bench${TAB}" "$LOGS/gdmabuf-bench@$sub.log" | while IFS= read -r line; do
		gd_emit BENCH "${line#bench"${TAB}"}"
	done
done
runner_end
