#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# demo.sh (make demo): boot Xen with a Debian dom0 and a PV guest under
# QEMU and show, in words, a buffer travelling between the two domains.
set -uo pipefail
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/vm.sh"

target=${DEMO_TARGET:-x86_64-6.1}
dir=$GD_BUILD/demo
rm -rf "$dir"
mkdir -p "$dir"

cat <<TXT
gntdev-dmabuf demo
==================
Xen domains share memory through grant references: one domain grants
pages, another maps them.  This demo boots a real Xen $GD_XEN_SERIES hypervisor
under QEMU (software emulation, no KVM needed) with Debian's kernel as dom0,
starts a small guest domain next to it, and moves a buffer between the two.

Preparing (the first run downloads Xen, kernels and a Debian root
filesystem into $GD_CACHE and takes a few minutes; later runs
take about a minute).
TXT

"$GD_TOP/tests/host-deps.sh" || gd_die "cannot install the host packages"
"$GD_TOP/tests/fetch-target.sh" "$target" > "$dir/fetch.log" 2>&1 ||
	gd_die "cannot download Xen or the kernel, see $dir/fetch.log"
gd_build_target "$target" "$dir" || gd_die "build failed, see $dir/build-*.log"
gd_make_initrd "$target" "$dir" "GD_TARGET=$target
GD_MODE=demo
GD_TEST=
GD_TEST_TIMEOUT=300
GD_INJECT_WARN=" > "$dir/initrd.log" 2>&1 || gd_die "cannot assemble the initrd, see $dir/initrd.log"

# shellcheck disable=SC1090
. "$(gd_target_env "$target")"
echo
echo "Booting Xen + dom0 (Linux $GD_KVER) and the guest; this takes about a minute..."
echo
gd_boot "$target" "$dir" 900
tr -d '\r' < "$dir/console.log" > "$dir/console.txt"
grep -o '@@GD SAY.*' "$dir/console.txt" | cut -f2- | sed 's/^/  /'
echo
grep -o '@@GD RESULT.*' "$dir/console.txt" | cut -f2- | awk -F'\t' '$2 != "pass" { bad = 1; print "  problem: " $1 ": " $3 } END { exit bad }'
ok=$?
grep -q 'Demo finished: every step worked' "$dir/console.txt" || ok=1
cat <<TXT
Logs: the whole serial console (Xen, dom0, the runner) is in
  $dir/console.txt
and the build logs are next to it in $dir.
TXT
exit $ok
