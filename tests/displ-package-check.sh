#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# displ-package-check.sh DEBS: the gntdmabuf-displ package in DEBS holds
# the daemon, its manual page and a systemd unit that systemd-analyze
# verifies (no warning) against the package's own files.  Prints a
# summary; exit status 1 with the reason on failure.
set -euo pipefail

debs=$1
deb=$(ls "$debs"/gntdmabuf-displ_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || { echo "no gntdmabuf-displ package in $debs"; exit 1; }
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
dpkg-deb -x "$deb" "$root"
for f in usr/sbin/gntdmabuf-displ usr/share/man/man8/gntdmabuf-displ.8.gz; do
	[ -e "$root/$f" ] || { echo "$(basename "$deb") lacks /$f"; exit 1; }
done
unit=$(cd "$root" && find . -path "*/systemd/system/gntdmabuf-displ.service" | sed "s|^\./||" | head -n 1)
[ -n "$unit" ] || { echo "$(basename "$deb") has no systemd unit"; exit 1; }
dpkg-deb -I "$deb" postinst 2>/dev/null | grep -q deb-systemd-helper ||
	{ echo "$(basename "$deb") does not enable its unit"; exit 1; }
if command -v systemd-analyze > /dev/null; then
	# The targets it refers to, from this machine's systemd.
	cp -n /lib/systemd/system/*.target "$root/$(dirname "$unit")/" 2>/dev/null || true
	out=$(cd / && systemd-analyze verify --man=no --root="$root" "/$unit" 2>&1) ||
		{ echo "systemd-analyze verify /$unit: $out"; exit 1; }
	[ -z "$out" ] || { echo "systemd-analyze verify /$unit: $out"; exit 1; }
	echo "$(basename "$deb"): daemon, manual page, /$unit (systemd-analyze verify: clean), enabled by postinst"
else
	echo "$(basename "$deb"): daemon, manual page, /$unit, enabled by postinst (no systemd-analyze here)"
fi
