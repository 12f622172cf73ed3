#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# extract-vmlinux.sh BZIMAGE OUT: write the uncompressed ELF kernel inside
# an x86 bzImage to OUT.  xl starts a PV guest about twice as fast from the
# ELF as from the bzImage, which it would otherwise decompress each time.
set -euo pipefail
in=$1
out=$2

try() {
	local magic=$1 tool=$2 off
	for off in $(LC_ALL=C grep -obUaP "$magic" "$in" | cut -d: -f1); do
		if tail -c +$((off + 1)) "$in" | $tool -dc 2>/dev/null > "$out.tmp" ||
				[ -s "$out.tmp" ]; then
			if [ "$(head -c 4 "$out.tmp" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
				mv "$out.tmp" "$out"
				return 0
			fi
		fi
	done
	return 1
}

try '\x28\xb5\x2f\xfd' zstd || try '\xfd\x37\x7a\x58\x5a\x00' xz ||
	try '\x1f\x8b\x08' gzip || { rm -f "$out.tmp"; exit 1; }
