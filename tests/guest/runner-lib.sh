# SPDX-License-Identifier: GPL-2.0
# What every dom0 runner shares (sourced by run-<mode>.sh, POSIX sh): the
# configuration, results, the kernel-log, taint and counter checks made
# after every test, and the start and end of a run (Xen daemons, the test
# domU, loading and unloading our module, kmemleak).
G=/opt/gdmabuf
. $G/markers.sh
# Written by the host (tests/lib/vm.sh, gd_guest_boot): GD_TARGET,
# GD_MODE, GD_TEST, GD_TEST_TIMEOUT, GD_DOMU_TIMEOUT, GD_INJECT_WARN,
# GD_WITH_DOMU and any exported knobs of the test programs.
. $G/config
# The tests that restart the domU wait as long as the harness does.
export GD_DOMU_TIMEOUT GD_TEST_TIMEOUT GD_INJECT_WARN
LOGS=/tmp/gd
mkdir -p $LOGS
STATS=/sys/kernel/debug/gntdev-dmabuf/stats
KMEMLEAK=/sys/kernel/debug/kmemleak
DOMU_NAME=gdmabuf-domu
export GDMABUF_MODULE=$G/xen-gntdev-dmabuf.ko
# make check-upstream runs the suite on the in-tree implementation (Documentation/comparison.rst).
case $GD_TARGET in *-upstream) export GDMABUF_DEV=/dev/xen/gntdev;; esac
# The display backend, when it could be built (gdmabuf_displ).
[ ! -x "$G/gntdmabuf-displ" ] || export GDMABUF_DISPL=$G/gntdmabuf-displ
# The libxengnttab compatibility library and its test program (gdmabuf_compat).
[ ! -f "$G/libgntdmabuf-compat.so" ] || export GDMABUF_COMPAT_LIB=$G/libgntdmabuf-compat.so
[ ! -x "$G/xengnttab-dmabuf-user" ] || export GDMABUF_XENGNTTAB_USER=$G/xengnttab-dmabuf-user
# What QEMU's fw_cfg device holds as opt/gdmabuf/dma (arm64 only).
[ ! -f "$G/fwcfg-dma.bin" ] || export GDMABUF_FWCFG_FILE=$G/fwcfg-dma.bin
# O (out-of-tree) and E (unsigned) are expected for our module.
TAINT_OK=$(( (1 << 12) | (1 << 13) ))
npass=0
nfail=0
nskip=0

# result TEST STATUS DETAIL [LOGFILE]: report one result; a failure sends
# the end of LOGFILE along.
result() {
	case $2 in
	pass) npass=$((npass + 1));;
	fail) nfail=$((nfail + 1));;
	skip) nskip=$((nskip + 1));;
	esac
	gd_emit RESULT "$1" "$2" "$(printf '%s' "$3" | tr '\t\n' '  ' | cut -c1-300)"
	if [ "$2" = fail ] && [ -n "${4:-}" ] && [ -s "$4" ]; then
		tail -n 60 "$4" | while IFS= read -r line; do
			gd_emit LOG "$1" "$line"
		done
	fi
}

bad_taint() {
	echo $(( $(cat /proc/sys/kernel/tainted) & ~TAINT_OK ))
}

# klog_check LOGFILE: appends the new kernel messages to LOGFILE and
# prints why they are bad, if they are.  Called in a subshell ($(...)), so
# the taint seen last is kept in a file.
klog_check() {
	dmesg -c > $LOGS/klog.new 2>/dev/null
	cat $LOGS/klog.new >> $LOGS/kernel.log
	echo "---- kernel log ----" >> "$1"
	cat $LOGS/klog.new >> "$1"
	why=""
	first=$(grep -n -E -f $G/klog-patterns $LOGS/klog.new | head -n 1)
	if [ -n "$first" ]; then
		why="kernel log: ${first#*:}"
		# A failure sends the end of the log: end it with the first
		# splat, which later messages would otherwise push out.
		n=${first%%:*}
		echo "---- the first bad kernel message ----" >> "$1"
		sed -n "$(( n > 5 ? n - 5 : 1 )),$(( n + 50 ))p" $LOGS/klog.new >> "$1"
	fi
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
	[ -s "$domains" ] && awk '{ printf " domain%s-charged=%s", $1, $2 }' "$domains"
	return 0
}

# wanted NAME: does GD_TEST select the test BIN@SUB named NAME?
wanted() {
	[ -z "$GD_TEST" ] && return 0
	for pat in $(echo "$GD_TEST" | tr ',' ' '); do
		case $1 in $pat|*@$pat) return 0;; esac
	done
	return 1
}

# run_subtest BIN SUB: run one subtest and report it, checked by the
# kernel log, the taint flags and the module's counters as well as by its
# own exit status: gdmabuf-runner (tests/guest/gdmabuf-runner.c) does it
# all in one process.
run_subtest() {
	LOGS=$LOGS $G/gdmabuf-runner "$1" "$2"
	case $? in
	0) npass=$((npass + 1));;
	2) nskip=$((nskip + 1));;
	*) nfail=$((nfail + 1));;
	esac
	GD_INJECT_WARN=""
	export GD_INJECT_WARN
}

# harness_step TEST LOG STATUS FAIL_DETAIL [DETAIL_CMD...]: record a step
# of the harness whose command exited with STATUS; a bad kernel log fails
# it too.  DETAIL_CMD prints the pass detail; it runs after the kernel log
# was appended to LOG, so that it can quote it.
harness_step() {
	name=$1
	log=$2
	status=$3
	fail_detail=$4
	shift 4
	if [ "$status" != 0 ]; then
		result "$name" fail "$fail_detail" "$log"
		return
	fi
	why=$(klog_check "$log")
	if [ -n "$why" ]; then
		result "$name" fail "$why" "$log"
	else
		result "$name" pass "$("$@")"
	fi
}

domu_console() {
	cat /var/log/xen/console/guest-$DOMU_NAME.log 2>/dev/null
}

# start_domu: create the test domU and wait for its agent; exports its
# domid to the tests as GDMABUF_DOMU.
start_domu() {
	log=$LOGS/domu.log
	if ! xl create $G/domu.cfg > $log 2>&1; then
		domu_console >> $log
		result harness@domu-start fail "xl create failed" $log
		return
	fi
	domid=$(xl domid $DOMU_NAME 2>>$log)
	i=0
	while [ $i -lt $((GD_DOMU_TIMEOUT * 2)) ]; do
		[ "$(xenstore-read /local/domain/$domid/data/agent 2>/dev/null)" = ready ] && break
		sleep 0.5
		i=$((i + 1))
	done
	if [ $i -ge $((GD_DOMU_TIMEOUT * 2)) ]; then
		xl list >> $log 2>&1
		domu_console >> $log
		result harness@domu-start fail "domU $domid agent not ready after ${GD_DOMU_TIMEOUT}s" $log
		return
	fi
	export GDMABUF_DOMU=$domid
	result harness@domu-start pass "domid $domid ready in $((i / 2))s"
}

# stop_domu: destroy the test domU, by name: the fault tests destroy it and
# create it again under a new domid.
stop_domu() {
	domid=$(xl domid $DOMU_NAME 2>/dev/null)
	if xl destroy $DOMU_NAME > $LOGS/domu-stop.log 2>&1; then
		result harness@domu-stop pass "domid $domid destroyed"
	else
		result harness@domu-stop fail "xl destroy failed" $LOGS/domu-stop.log
	fi
}

module_version() {
	grep -o 'gntdev-dmabuf: version.*' $LOGS/insmod.log | head -n 1
}

module_gone() {
	echo "device node gone"
}

clean_boot() {
	echo "clean kernel log before our module"
}

# runner_begin: everything before the first test: the Xen daemons, the
# stock modules, a clean kernel log, our module, the test domU.
runner_begin() {
	gd_emit BEGIN "$(uname -r)" "$(uname -m)"
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
	harness_step harness@klog-boot $LOGS/boot.log 0 "" clean_boot

	# A kernel with kmemleak (make check-debug): forget what booting left
	# unreferenced, so that the last scan reports what the run leaked.
	if [ -w $KMEMLEAK ]; then
		echo scan > $KMEMLEAK
		echo clear > $KMEMLEAK
	fi

	# Loading the module is a test of its own.
	dmesg -c > /dev/null 2>&1
	insmod $G/xen-gntdev-dmabuf.ko > $LOGS/insmod.log 2>&1
	harness_step harness@module-load $LOGS/insmod.log $? "insmod failed" module_version

	if [ -n "$GD_WITH_DOMU" ] && command -v xl > /dev/null; then
		start_domu
	fi
}

# runner_end: the domU goes, the module unloads cleanly, kmemleak has
# nothing to report; then the summary and power off.
runner_end() {
	[ -z "${GDMABUF_DOMU:-}" ] || stop_domu

	dmesg -c > /dev/null 2>&1
	rmmod xen_gntdev_dmabuf > $LOGS/rmmod.log 2>&1 && [ ! -e /dev/xen/gntdev-dmabuf ]
	harness_step harness@module-unload $LOGS/rmmod.log $? \
		"rmmod failed or node left behind" module_gone

	if [ -w $KMEMLEAK ]; then
		# Objects must be unreferenced for 5 s before kmemleak reports
		# them, and two scans settle stale references on stacks.
		sleep 6
		echo scan > $KMEMLEAK
		sleep 1
		echo scan > $KMEMLEAK
		cat $KMEMLEAK > $LOGS/kmemleak.log
		n=$(grep -c '^unreferenced object' $LOGS/kmemleak.log)
		if [ "$n" = 0 ]; then
			result harness@kmemleak pass "no unreferenced objects after the run and rmmod"
		else
			result harness@kmemleak fail "$n unreferenced objects: $(grep -m1 -A12 '^unreferenced object' $LOGS/kmemleak.log | grep -m1 -E '\[<' | sed 's/.*\] //')" $LOGS/kmemleak.log
		fi
	fi

	gd_emit DONE "${npass} passed, ${nfail} failed, ${nskip} skipped"
	sync
	# minbase Debian has no init system, hence no poweroff of its own.
	/bin/busybox poweroff -f
}
