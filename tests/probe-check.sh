#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# probe-check.sh TARGET: scripts/kernel-probe.sh against TARGET's headers
# must succeed as it is, and must stop the build when a probe breaks for
# another reason than the one it tests (here: a header that does not
# exist).  Prints what it saw.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

target=$1
# shellcheck disable=SC1090
. "$(gd_target_env "$target")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -a "$GD_TOP/scripts" "$tmp/"
args=()
[ "$(gd_arch "$target")" = arm64 ] && args=(ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-)

"$tmp/scripts/kernel-probe.sh" "$GD_KDIR" "$tmp/ok.h" "${args[@]}" > "$tmp/ok.log" 2>&1 ||
	gd_die "the probes fail as they are: $(head -n 1 "$tmp/ok.log")"
cat > "$tmp/scripts/probes/zz-broken.c" <<'C'
// SPDX-License-Identifier: GPL-2.0
/*
 * Broken for another reason than the one it names.
 * Absent: vm_flags_set
 */
#include <linux/module.h>
#include <linux/gdmabuf-no-such-header.h>
MODULE_LICENSE("GPL");
C
if "$tmp/scripts/kernel-probe.sh" "$GD_KDIR" "$tmp/bad.h" "${args[@]}" > "$tmp/bad.log" 2>&1; then
	gd_die "a probe broken by a missing header selected the fallback silently"
fi
grep -q 'failed for another reason' "$tmp/bad.log" ||
	gd_die "the broken probe failed without saying why: $(head -n 1 "$tmp/bad.log")"
echo "$(grep -c '^#define GDMABUF_HAVE' "$tmp/ok.h") of $(ls "$GD_TOP"/scripts/probes/*.c | wc -l) probes present on $GD_KVER; a probe broken by a missing header stops the build"
