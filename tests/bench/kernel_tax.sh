#!/usr/bin/env bash
# tests/bench/kernel_tax.sh [-r ROUNDS] [-k PACKAGE_REGEX]: the syscall tax on a kernel
# with BPF trampolines, which this machine's lacks. It boots Debian's kernel (6.12 by
# default) under qemu and, within that one boot, times a getppid() loop with no tracer,
# then under each command, then with no tracer again, ROUNDS times interleaved.
# It prints each command's median against the median with no tracer, and which program
# took the accepts. Software emulation makes every ns slower than on hardware: read the
# percentages, not the ns. Measures, never judges: a benchmark, not a test.
set -u
here=$(cd "$(dirname "$0")" && pwd)
BIN=${TCPTRACE_BIN_DIR:-$here/../../build}
SYSCALL_LOOP=${SYSCALL_LOOP:-$BIN/tests/syscall_loop}
export KERNEL_CACHE=${KERNEL_CACHE:-$BIN/kernels}
rounds=3 regex='linux-image-6\.12\.[0-9]+\+deb12-cloud-amd64-unsigned'
while getopts "r:k:" opt; do
	case $opt in
	r) rounds=$OPTARG ;;
	k) regex=$OPTARG ;;
	*) echo "usage: kernel_tax.sh [-r ROUNDS] [-k PACKAGE_REGEX]" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "skipped: apt-get download and qemu's setup want root"; exit 77; }
work=$(mktemp -d /tmp/tcptrace-kernel-tax.XXXXXX)
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM
die() {
	echo "kernel_tax.sh: $*" >&2
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
programs=("$BIN/tcptrace" "$SYSCALL_LOOP")
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
echo "TT-none \$(loop)"
for round in \$(seq $rounds); do
	while read -r label args; do
		tcptrace \$args -v >/dev/null 2>/tmp/err &
		tracer=\$!
		while ! grep -q 'dropped every capability' /tmp/err; do sleep 0.1; done
		echo "TT-\$label \$(loop)"
		kill -INT \$tracer
		wait \$tracer
		echo "TT-ATTACHED-\$label \$(grep -o 'attached accept_[a-z_0-9]*' /tmp/err | sed 's/attached //' | tr '\n' ' ')"
		echo "TT-none \$(loop)"
	done </commands
done
echo "TT-DONE"
poweroff -f
EOF
chmod 755 "$root/init"
boot "$root"

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : "-") }'; }
none=$(section none | median)
echo "kernel $(section KERNEL), qemu TCG, $rounds rounds, median ns per getppid()"
printf "%-18s %10s %10s %8s  %s\n" COMMAND "NONE(ns)" "TRACED(ns)" TAX "ACCEPT'S PROGRAMS"
while read -r label _; do
	traced=$(section "$label" | median)
	printf "%-18s %10s %10s %8s  %s\n" "$label" "$none" "$traced" \
		"$(awk -v n="$none" -v t="$traced" 'BEGIN { printf "%+.1f%%", (t - n) * 100 / n }')" \
		"$(section "ATTACHED-$label" | head -n 1)"
done <"$root/commands"
