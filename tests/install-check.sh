#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# install-check.sh TARGET OUT: "make install" and "make uninstall" into a
# DESTDIR against TARGET's kernel headers, as a user would on that dom0:
# the module lands in lib/modules/<release>/updates with depmod's files, the
# library, headers, pkg-config file, tool, display backend (with its unit)
# and man pages under usr/local;
# uninstall removes them all.  Also compiles the README's example.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

target=$1 out=$2
# shellcheck disable=SC1090
. "$(gd_target_env "$target")"
src=$out/src
rm -rf "$out"
mkdir -p "$src"
(cd "$GD_TOP" && cp -a Makefile VERSION drivers uapi scripts userspace "$src/")
rm -rf "$src/userspace/build" "$src/drivers/xen/gntdev-dmabuf/gdmabuf-compat-probed.h"
dest=$out/root

make -C "$src" install KDIR="$GD_KDIR" DESTDIR="$dest" > "$out/install.log" 2>&1 ||
	{ echo "make install failed: $(grep -m1 -E 'ERROR|Error|error' "$out/install.log")" >&2; exit 1; }
want="lib/modules/$GD_KVER/updates/xen-gntdev-dmabuf.ko lib/modules/$GD_KVER/modules.dep
      usr/local/lib/libgntdmabuf.so.0 usr/local/lib/libgntdmabuf.a
      usr/local/lib/pkgconfig/gntdmabuf.pc usr/local/include/gntdmabuf.h
      usr/local/include/gntdev-dmabuf.h usr/local/bin/gntdmabuf
      usr/local/share/man/man1/gntdmabuf.1 usr/local/share/man/man3/libgntdmabuf.3"
# The display backend, its manual page and unit, where Xen's libraries are.
if pkg-config --exists xenstore xenevtchn xengnttab xentoollog; then
	want="$want usr/local/sbin/gntdmabuf-displ usr/local/share/man/man8/gntdmabuf-displ.8
	      usr/local/lib/systemd/system/gntdmabuf-displ.service"
fi
for f in $want; do
	ls "$dest/$f"* > /dev/null 2>&1 || { echo "make install did not install $f" >&2; exit 1; }
done
[ ! -e "$dest/usr/local/lib/systemd/system/gntdmabuf-displ.service" ] ||
	grep -q '^ExecStart=/usr/local/sbin/gntdmabuf-displ ' "$dest/usr/local/lib/systemd/system/gntdmabuf-displ.service" ||
	{ echo "the installed unit does not start the installed backend" >&2; exit 1; }
grep -q "updates/xen-gntdev-dmabuf.ko" "$dest/lib/modules/$GD_KVER/modules.dep" ||
	{ echo "depmod did not record the module" >&2; exit 1; }

# A program built against the installed library, as pkg-config says.
awk '/^```c/{f=1;next}/^```/{f=0}f' "$GD_TOP/README.md" > "$out/readme-example.c"
PKG_CONFIG_PATH=$dest/usr/local/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$dest \
	pkg-config --cflags gntdmabuf > "$out/cflags"
# shellcheck disable=SC2046
gcc -Wall -Wextra -Werror $(cat "$out/cflags") -c -o "$out/readme-example.o" "$out/readme-example.c"

make -C "$src" uninstall KDIR="$GD_KDIR" DESTDIR="$dest" >> "$out/install.log" 2>&1 ||
	{ echo "make uninstall failed (see $out/install.log)" >&2; exit 1; }
left=$(find "$dest" -type f \( -name 'xen-gntdev-dmabuf*' -o -name '*gntdmabuf*' -o -name 'gntdev-dmabuf.h' \))
[ -z "$left" ] || { echo "make uninstall left: $left" >&2; exit 1; }
echo "installed and uninstalled for $GD_KVER; README example compiles"
