#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# make check, in dom0: every subtest of every test program that GD_TEST
# selects, one by one, each checked by runner-lib.sh's kernel-log, taint
# and counter checks.
. /opt/gdmabuf/runner-lib.sh

runner_begin
for bin in $G/tests/*; do
	[ -x "$bin" ] || continue
	for sub in $("$bin" --list-subtests); do
		wanted "${bin##*/}@$sub" && run_subtest "$bin" "$sub"
	done
done
runner_end
