#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The test runner inside dom0.  Every result goes to the console as
#   @@GD RESULT<TAB>test<TAB>pass|fail|skip<TAB>detail
# and the host (tests/check.sh) collects them.  After each test the kernel
# log, the taint flags and the module's live-object counters are checked:
# any of them going wrong fails that test.
G=/opt/gdmabuf
. $G/config
LOGS=/tmp/gd
mkdir -p $LOGS
TAB=$(printf '\t')
STATS=/sys/kernel/debug/gntdev-dmabuf/stats
export GDMABUF_MODULE=$G/xen-gntdev-dmabuf.ko
# O (out-of-tree) and E (unsigned) are expected for our module.
TAINT_OK=$(( (1 << 12) | (1 << 13) ))
npass=0
nfail=0
nskip=0

emit() { echo "@@GD $*"; }

result() {
	# result TEST STATUS DETAIL [LOGFILE]
	case $2 in
	pass) npass=$((npass + 1));;
	fail) nfail=$((nfail + 1));;
	skip) nskip=$((nskip + 1));;
	esac
	detail=$(echo "$3" | tr '\t\n' '  ' | cut -c1-300)
	emit "RESULT${TAB}$1${TAB}$2${TAB}${detail}"
	if [ "$2" = fail ] && [ -n "${4:-}" ] && [ -s "$4" ]; then
		tail -n 60 "$4" | while IFS= read -r line; do
			emit "LOG${TAB}$1${TAB}$line"
		done
	fi
}

bad_taint() {
	t=$(cat /proc/sys/kernel/tainted)
	echo $(( t & ~TAINT_OK ))
}

# klog_check TEST LOGFILE: appends the new kernel messages to LOGFILE and
# prints why they are bad, if they are.  Runs in a subshell ($(...)), so
# the taint seen last is kept in a file.
klog_check() {
	dmesg -c > $LOGS/klog.new 2>/dev/null
	cat $LOGS/klog.new >> $LOGS/kernel.log
	echo "---- kernel log ----" >> "$2"
	cat $LOGS/klog.new >> "$2"
	why=""
	bad=$(grep -E -f $G/klog-patterns $LOGS/klog.new | head -n 1)
	[ -n "$bad" ] && why="kernel log: $bad"
	t=$(bad_taint)
	if [ "$t" != "$(cat $LOGS/taint)" ]; then
		why="$why${why:+; }kernel taint changed to $(cat /proc/sys/kernel/tainted)"
		echo "$t" > $LOGS/taint
	fi
	echo "$why"
}

# stats_check: prints the module's counters that are not back to zero and
# any quota still charged to a domain.
stats_check() {
	[ -r $STATS ] || return 0
	awk '$2 != 0 { printf "%s%s=%s", sep, $1, $2; sep = " " }' $STATS
	domains=$(dirname $STATS)/domains
	[ -s $domains ] && awk '{ printf " domain%s-charged=%s", $1, $2 }' $domains
	return 0
}

wanted() {
	# wanted NAME: does GD_TEST select this test?
	[ -z "$GD_TEST" ] && return 0
	for pat in $(echo "$GD_TEST" | tr ',' ' '); do
		case $1 in $pat|*@$pat) return 0;; esac
	done
	return 1
}

run_subtest() {
	bin=$1
	sub=$2
	name=$(basename $bin)@$sub
	log=$LOGS/$name.log
	dmesg -c > /dev/null 2>&1
	timeout $GD_TEST_TIMEOUT $bin --run-subtest $sub > $log 2>&1
	rc=$?
	if [ -n "$GD_INJECT_WARN" ]; then
		echo warn > /sys/kernel/debug/gntdev-dmabuf/inject
		GD_INJECT_WARN=""
	fi
	why=$(klog_check "$name" "$log")
	leak=$(stats_check)
	reason=$(grep -E "^Subtest $sub: (SKIP|FAIL)" $log | sed -e 's/^[^(]*([0-9.]*s) (//' -e 's/)$//' | head -n 1)
	case $rc in
	0) status=pass
	   # A test may report what it measured in a "summary: ..." line.
	   reason=$(sed -n 's/^summary: //p' $log | tail -n 1);;
	77) status=skip;;
	124) status=fail; reason="timed out after ${GD_TEST_TIMEOUT}s";;
	*) status=fail; [ -n "$reason" ] || reason="exit status $rc";;
	esac
	if [ -n "$why" ]; then
		status=fail
		reason="$why${reason:+; $reason}"
	fi
	if [ -n "$leak" ]; then
		status=fail
		reason="module counters not back to zero: $leak${reason:+; $reason}"
	fi
	result "$name" $status "$reason" $log
}

# harness_step TEST LOG STATUS PASS_DETAIL FAIL_DETAIL: record a step of
# the harness whose command exited with STATUS; a bad kernel log fails it
# too.  PASS_DETAIL is expanded after the kernel log was appended to LOG.
harness_step() {
	if [ "$3" != 0 ]; then
		result "$1" fail "$5" "$2"
		return
	fi
	why=$(klog_check "$1" "$2")
	if [ -n "$why" ]; then
		result "$1" fail "$why" "$2"
	else
		eval "detail=\"$4\""
		result "$1" pass "$detail"
	fi
}

start_domu() {
	log=$LOGS/domu.log
	if ! xl create $G/domu.cfg > $log 2>&1; then
		cat /var/log/xen/console/guest-gdmabuf-domu.log >> $log 2>/dev/null
		result harness@domu-start fail "xl create failed" $log
		return
	fi
	domid=$(xl domid gdmabuf-domu 2>>$log)
	i=0
	while [ $i -lt 120 ]; do
		[ "$(xenstore-read /local/domain/$domid/data/agent 2>/dev/null)" = ready ] && break
		sleep 0.5
		i=$((i + 1))
	done
	if [ $i -ge 120 ]; then
		xl list >> $log 2>&1
		cat /var/log/xen/console/guest-gdmabuf-domu.log >> $log 2>/dev/null
		result harness@domu-start fail "domU $domid agent not ready after 60s" $log
		return
	fi
	export GDMABUF_DOMU=$domid
	result harness@domu-start pass "domid $domid ready in $((i / 2))s"
}

emit "BEGIN${TAB}$(uname -r)${TAB}$(uname -m)"
result harness@boot pass "$(uname -r), $(grep -c ^processor /proc/cpuinfo) vCPU, $(awk '/MemTotal/ { print $2 / 1024 " MiB" }' /proc/meminfo)"

if [ -x /etc/init.d/xen ]; then
	# Keep the domU's console in a file for the failure logs.
	mkdir -p /var/log/xen/console
	echo 'XENCONSOLED_ARGS="--log=guest --log-dir=/var/log/xen/console"' > /etc/default/xen
	/etc/init.d/xen start > $LOGS/xen-start.log 2>&1 ||
		result harness@xen-toolstack fail "/etc/init.d/xen start failed" $LOGS/xen-start.log
fi
for m in xen-evtchn xen-gntdev xen-gntalloc xenfs vgem; do
	modprobe $m > /dev/null 2>&1
done
mountpoint -q /proc/xen 2>/dev/null || mount -t xenfs xenfs /proc/xen 2>/dev/null

bad_taint > $LOGS/taint
harness_step harness@klog-boot $LOGS/boot.log 0 "clean kernel log before our module" ""

# A kernel with kmemleak (make check-debug): forget what booting left
# unreferenced, so that the last scan reports what the suite leaked.
KMEMLEAK=/sys/kernel/debug/kmemleak
if [ -w $KMEMLEAK ]; then
	echo scan > $KMEMLEAK
	echo clear > $KMEMLEAK
fi

# Loading the module is a test of its own.
dmesg -c > /dev/null 2>&1
insmod $G/xen-gntdev-dmabuf.ko > $LOGS/insmod.log 2>&1
harness_step harness@module-load $LOGS/insmod.log $? \
	"\$(grep -o 'gntdev-dmabuf: version.*' $LOGS/insmod.log | head -n 1)" "insmod failed"

if [ -n "$GD_DOMU" ] && command -v xl > /dev/null; then
	start_domu
fi

if [ "${GD_MODE:-}" = demo ]; then
	$G/gdmabuf-demo 2>&1 | while IFS= read -r line; do emit "SAY${TAB}$line"; done
	GD_TEST=none-in-demo-mode
fi

if [ "${GD_MODE:-}" = bench ]; then
	# make bench: every measure is a subtest, checked like a test; its
	# "bench" lines go to the host.
	for sub in $($G/gdmabuf-bench --list-subtests); do
		run_subtest $G/gdmabuf-bench $sub
		grep "^bench${TAB}" $LOGS/gdmabuf-bench@$sub.log | while IFS= read -r line; do
			emit "BENCH${TAB}${line#bench"${TAB}"}"
		done
	done
	GD_TEST=none-in-bench-mode
fi

for bin in $G/tests/*; do
	[ -x "$bin" ] || continue
	for sub in $($bin --list-subtests); do
		wanted "$(basename $bin)@$sub" && run_subtest $bin $sub
	done
done

if [ -n "$GDMABUF_DOMU" ]; then
	# By name: the fault tests destroy the domU and create it again.
	domid=$(xl domid gdmabuf-domu 2>/dev/null)
	if xl destroy gdmabuf-domu > $LOGS/domu-stop.log 2>&1; then
		result harness@domu-stop pass "domid $domid destroyed"
	else
		result harness@domu-stop fail "xl destroy failed" $LOGS/domu-stop.log
	fi
fi

dmesg -c > /dev/null 2>&1
rmmod xen_gntdev_dmabuf > $LOGS/rmmod.log 2>&1 && [ ! -e /dev/xen/gntdev-dmabuf ]
harness_step harness@module-unload $LOGS/rmmod.log $? "device node gone" \
	"rmmod failed or node left behind"

if [ -w $KMEMLEAK ]; then
	# Objects must be unreferenced for 5 s before kmemleak reports them,
	# and two scans settle stale references on stacks.
	sleep 6
	echo scan > $KMEMLEAK
	sleep 1
	echo scan > $KMEMLEAK
	cat $KMEMLEAK > $LOGS/kmemleak.log
	n=$(grep -c '^unreferenced object' $LOGS/kmemleak.log)
	if [ "$n" = 0 ]; then
		result harness@kmemleak pass "no unreferenced objects after the suite and rmmod"
	else
		result harness@kmemleak fail "$n unreferenced objects: $(grep -m1 -A12 '^unreferenced object' $LOGS/kmemleak.log | grep -m1 -E '\[<' | sed 's/.*\] //')" $LOGS/kmemleak.log
	fi
fi

emit "DONE${TAB}${npass} passed, ${nfail} failed, ${nskip} skipped"
sync
# minbase Debian has no init system, hence no poweroff of its own.
/bin/busybox poweroff -f
