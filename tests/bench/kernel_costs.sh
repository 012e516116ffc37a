#!/usr/bin/env bash
# tests/bench/kernel_costs.sh [-r ROUNDS] [-k PACKAGE_REGEX]: what each command costs on
# a kernel with BPF trampolines, which this machine's lacks. It boots Debian's kernel
# (6.12 by default) under qemu, one CPU. Within that one boot, with no tracer, then under
# each command, then with no tracer again, ROUNDS times interleaved, it runs:
# - a getppid() loop: the syscall tax;
# - the loopback storm of run.sh (loadgen, 2 s): connections a second, the tracer
#   writing to a file (in the initramfs: memory).
# It prints each command's medians against those with no tracer, and which programs
# took the accepts. Software emulation makes everything slower than on hardware: read
# the percentages, not the ns. Measures, never judges: a benchmark, not a test.
set -u
here=$(cd "$(dirname "$0")" && pwd)
BIN=${TCPTRACE_BIN_DIR:-$here/../../build}
SYSCALL_LOOP=${SYSCALL_LOOP:-$BIN/tests/syscall_loop}
LOADGEN=${LOADGEN:-$BIN/tests/loadgen}
export KERNEL_CACHE=${KERNEL_CACHE:-$BIN/kernels}
rounds=3 regex='linux-image-6\.12\.[0-9]+\+deb12-cloud-amd64-unsigned'
while getopts "r:k:" opt; do
	case $opt in
	r) rounds=$OPTARG ;;
	k) regex=$OPTARG ;;
	*) echo "usage: kernel_costs.sh [-r ROUNDS] [-k PACKAGE_REGEX]" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "skipped: apt-get download and qemu's setup want root"; exit 77; }
work=$(mktemp -d /tmp/tcptrace-kernel-tax.XXXXXX)
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM
die() {
	echo "kernel_costs.sh: $*" >&2
	exit 1
}
. "$here/../kernels/kernel.sh"
fetch_kernel "$regex"

root=$work/root
mkdir -p "$root"/{bin,proc,sys,dev,tmp}
cp /bin/busybox "$root/bin/"
for applet in sh mount ip sleep cat kill grep sed seq poweroff; do
	ln -s busybox "$root/bin/$applet"
done
programs=("$BIN/tcptrace" "$SYSCALL_LOOP" "$LOADGEN")
cp "${programs[@]}" "$root/bin/"
for lib in $(ldd "${programs[@]}" | grep -o '/[^ :]*' | sort -u); do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done
# The commands, as the VM runs them: one per line, a label and the arguments.
cat >"$root/commands" <<'EOF'
accept accept
accept-tracepoint accept -A tracepoint
connect connect
serve serve
EOF
cat >"$root/init" <<EOF
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tracefs tracefs /sys/kernel/tracing
ip link set lo up
echo "TT-KERNEL \$(uname -r)"
loop() { syscall_loop 1 | sed 's/.*ns_per_call=\([0-9.]*\).*/\1/'; }
storm() { loadgen -t 2 -d 2 | sed 's/.* rate=\([0-9.]*\).*/\1/'; }
echo "TT-none \$(loop)"
echo "TT-STORM-none \$(storm)"
for round in \$(seq $rounds); do
	while read -r label args; do
		tcptrace \$args -v >/tmp/out 2>/tmp/err &
		tracer=\$!
		i=0
		while ! grep -q 'dropped every capability' /tmp/err && [ \$i -lt 300 ]; do
			sleep 0.1
			i=\$((i + 1))
		done
		grep -q 'dropped every capability' /tmp/err || echo "TT-ERROR \$label: \$(grep -v libbpf /tmp/err)"
		echo "TT-\$label \$(loop)"
		echo "TT-STORM-\$label \$(storm)"
		kill -INT \$tracer
		wait \$tracer
		rm /tmp/out
		echo "TT-ATTACHED-\$label \$(grep -o 'attached accept_[a-z_0-9]*' /tmp/err | sed 's/attached //' | tr '\n' ' ')"
		echo "TT-none \$(loop)"
		echo "TT-STORM-none \$(storm)"
	done </commands
done
echo "TT-DONE"
poweroff -f
EOF
chmod 755 "$root/init"
boot "$root"
section ERROR | grep . && exit 1

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : "-") }'; }
change() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%+.1f%%", (t - n) * 100 / n }'; }
overhead() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.1f%%", (n - t) * 100 / n }'; }
none=$(section none | median)
storm_none=$(section STORM-none | median)
echo "kernel $(section KERNEL), qemu TCG, 1 CPU, $rounds rounds, medians"
printf "%-18s %9s %7s %9s %9s  %s\n" COMMAND "NS/CALL" TAX "CONN/S" OVERHEAD "ACCEPT'S PROGRAMS"
printf "%-18s %9s %7s %9s %9s\n" none "$none" - "$storm_none" -
while read -r label _; do
	traced=$(section "$label" | median)
	rate=$(section "STORM-$label" | median)
	printf "%-18s %9s %7s %9s %9s  %s\n" "$label" "$traced" "$(change "$none" "$traced")" \
		"$rate" "$(overhead "$storm_none" "$rate")" "$(section "ATTACHED-$label" | head -n 1)"
done <"$root/commands"
