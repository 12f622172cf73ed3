#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kernel-doc.sh uapi|check-uapi|check-docs: the documentation kept in the
# code, through the kernel's scripts/kernel-doc (from linux-source-6.1,
# see tests/lib/common.sh).
#
#   uapi        regenerate the Reference section of Documentation/uapi.rst
#               from uapi/gntdev-dmabuf.h (make uapi-doc)
#   check-uapi  fail, showing the difference, when the committed section
#               is not what the header generates
#   check-docs  fail on any kernel-doc warning in the module and the uAPI
#               header, and on any ".. kernel-doc::" directive of
#               Documentation/ whose DOC section or symbol does not exist
set -euo pipefail
. "$(dirname "$0")/../tests/lib/common.sh"

kd=$(gd_kernel_scripts)/scripts/kernel-doc
rst=$GD_TOP/Documentation/uapi.rst
header=$GD_TOP/uapi/gntdev-dmabuf.h
marker='.. The rest of this file is generated from uapi/gntdev-dmabuf.h by'

# generate OUT: uapi.rst as it should be.
generate() {
	grep -qF "$marker" "$rst" || gd_die "$rst lost its marker line: $marker"
	{
		sed "/^$(printf '%s' "$marker" | sed 's/[.[\*^$/]/\\&/g')/q" "$rst"
		printf '   scripts/kernel-doc.sh uapi (make uapi-doc); do not edit it by hand.\n\n'
		"$kd" -rst -sphinx-version 3.0 "$header" | sed 's/[[:space:]]*$//' | cat -s
	} > "$1"
	# One final newline, no trailing blank lines.
	printf '%s\n' "$(cat "$1")" > "$1.tmp" && mv "$1.tmp" "$1"
}

case ${1:-} in
uapi)
	generate "$rst.new"
	mv "$rst.new" "$rst"
	;;
check-uapi)
	tmp=$(mktemp)
	trap 'rm -f "$tmp"' EXIT
	generate "$tmp"
	if ! diff -u "$rst" "$tmp" > "$tmp.diff"; then
		cat "$tmp.diff" >&2
		rm -f "$tmp.diff"
		gd_die "Documentation/uapi.rst is not what uapi/gntdev-dmabuf.h generates: run make uapi-doc"
	fi
	rm -f "$tmp.diff"
	echo "the Reference section of Documentation/uapi.rst is what uapi/gntdev-dmabuf.h generates"
	;;
check-docs)
	cd "$GD_TOP"
	files=$(ls drivers/xen/gntdev-dmabuf/*.[ch] uapi/*.h | grep -v -e '\.mod\.c$' -e 'compat-probed\.h$')
	# shellcheck disable=SC2086
	warnings=$("$kd" -none $files 2>&1 | grep -v '^Warning: Sphinx version' || true)
	[ -z "$warnings" ] || { printf '%s\n' "$warnings"; gd_die "kernel-doc warnings"; }
	n=0
	while IFS=: read -r doc file; do
		read -r opt what < <(sed -n "/^\.\. kernel-doc:: ${file//\//\\/}\$/{n;p;}" "$doc" | sed 's/^ *:\([a-z]*\): */\1 /' | head -n 1)
		case $opt in
		doc) out=$("$kd" -rst -function "$what" "$file" 2>/dev/null | grep -v '^\.\. _' | grep -c '[^[:space:]]' || true);;
		*) out=$("$kd" -rst "$file" 2>/dev/null | grep -c '[^[:space:]]' || true);;
		esac
		[ "$out" -gt 2 ] || gd_die "$doc: .. kernel-doc:: $file :$opt: $what finds nothing"
		n=$((n + 1))
	done < <(grep -H '^\.\. kernel-doc:: ' Documentation/*.rst | sed 's/:\.\. kernel-doc:: /:/')
	echo "kernel-doc: no warnings in $(echo "$files" | wc -w) files; $n kernel-doc directives in Documentation/ resolve"
	;;
*)
	gd_die "usage: $0 uapi|check-uapi|check-docs"
	;;
esac
