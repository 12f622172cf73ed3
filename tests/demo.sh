#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# demo.sh (make demo): boot Xen with a Debian dom0 and a PV guest under
# QEMU and show, in words, a buffer travelling between the two domains.
set -uo pipefail
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/vm.sh"

target=${DEMO_TARGET:-x86_64-6.1}
dir=$GD_BUILD/demo

cat <<TXT
gntdev-dmabuf demo
==================
Xen domains share memory through grant references: one domain grants
pages, another maps them.  This demo boots a real Xen $(gd_xen_series "$(gd_release "$target")") hypervisor
under QEMU (software emulation, no KVM needed) with Debian's kernel as dom0,
starts a small guest domain next to it, and moves a buffer between the two.

Preparing (the first run downloads Xen, kernels and a Debian root
filesystem into $GD_CACHE and takes a few minutes; later runs
take about a minute).
TXT

"$GD_TOP/tests/host-deps.sh" || gd_die "cannot install the host packages"
echo
echo "Booting Xen + dom0 and the guest; this takes about a minute..."
echo
gd_guest_run "$target" demo 900 "$dir"
ok=$?
awk -F'\t' '$1 == "SAY" { print "  " $2 }' "$dir/guest.tsv"
echo
awk -F'\t' '$1 == "RESULT" && $3 != "pass" { bad = 1; print "  problem: " $2 ": " $4 } END { exit bad }' "$dir/guest.tsv" || ok=1
grep -q '^SAY	Demo finished: every step worked' "$dir/guest.tsv" || ok=1
# The files the guest handed over: the frame dom0's display backend
# captured, and what dom0's display controller scanned out.
for name in $(awk -F'\t' '$1 == "FILE" { print $2 }' "$dir/guest.tsv" | sort -u); do
	case $name in
	*/*|.*) continue;;
	scanout-*) what="What dom0's display pipeline scanned out (vkms, writeback)";;
	*) what="The guest's frame as dom0's backend received it";;
	esac
	awk -F'\t' -v n="$name" '$1 == "FILE" && $2 == n { print $3 }' "$dir/guest.tsv" |
		base64 -d > "$dir/$name" && echo "  $what: $dir/$name"
done
echo
cat <<TXT
Logs: the whole serial console (Xen, dom0, the runner) is in
  $dir/console.txt
and the build logs are next to it in $dir.
TXT
[ "$ok" = 0 ]
