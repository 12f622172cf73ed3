# SPDX-License-Identifier: GPL-2.0
# The lines a guest sends to the host over the serial console, and the one
# definition of how they look:
#   @@GD <KIND><TAB><field><TAB><field>...
# KIND is one of
#   BEGIN    kernel release, machine: the runner started
#   RESULT   test, pass|fail|skip, detail
#   LOG      test, one line of a failed test's log
#   TIME     test, dom0's uptime at its start and at its end (seconds)
#   SAY      one line of the demo's narration
#   FILE     name, one line of base64 of a file the demo hands the host
#   BENCH    measure, size, pages, median, min, max, repetitions (us)
#   DONE     the summary: the runner reached its end
#   BARE     loaded|refused, insmod's message (a kernel booted without Xen)
#   BAREMSG  one kernel message of that kernel about our module
# Sourced by the guest scripts (POSIX sh, busybox ash or dash) and by the
# host's tests/lib/vm.sh, which strips the marker again.
GD_MARK=@@GD

# gd_emit KIND FIELD...: one line to the host, fields joined by tabs.
gd_emit() {
	_kind=$1
	shift
	printf '%s %s' "$GD_MARK" "$_kind"
	for _f; do
		printf '\t%s' "$_f"
	done
	printf '\n'
}
