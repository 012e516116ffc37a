#!/usr/bin/env bash
# static.sh PACKAGE_REGEX: the static tcptrace (-DTCPTRACE_STATIC=ON) in an initramfs that
# holds nothing but it and a static busybox: no /lib, no loader. The VM boots Debian's
# kernel, tcptrace traces a connection busybox's nc makes over loopback, and the host
# checks every field of the line.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/kernel.sh"
build_static
fetch_kernel "$1"

root=$work/root
mkdir -p "$root"/{bin,proc,sys,dev,tmp}
cp /bin/busybox "$static_tcptrace" "$root/bin/"
for applet in sh mount ip sleep cat nc ls uname poweroff; do
	ln -s busybox "$root/bin/$applet"
done
cat >"$root/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
ip link set lo up
echo "TT-KERNEL $(uname -r)"
echo "TT-ROOT $(ls / | tr '\n' ' ')"
tcptrace connect -x -n 1 -d 30 >/tmp/out 2>/tmp/err &
tracer=$!
i=0
while [ ! -s /tmp/out ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
nc -l -p 8080 >/dev/null &
sleep 0.5
echo hello | nc 127.0.0.1 8080 &
echo "TT-NC $!"
wait $tracer
echo "TT-STATUS $?"
while IFS= read -r line; do echo "TT-TRACE $line"; done </tmp/out
while IFS= read -r line; do echo "TT-ERR $line"; done </tmp/err
echo TT-DONE
poweroff -f
INIT
chmod 755 "$root/init"
expect_eq "the initramfs's programs" "busybox tcptrace" \
	"$(find "$root" -type f | xargs -n 1 basename | grep -v '^init$' | sort | tr '\n' ' ' | sed 's/ $//')"
expect_eq "no shared library in it" "" "$(find "$root" -name '*.so*')"

boot "$root"
echo "booted: $(section KERNEL)"
echo "root: $(section ROOT)"
section TRACE >"$work/trace.out"
cat "$work/trace.out"
expect_eq "exit status" 0 "$(section STATUS)"
expect_eq "stderr" "" "$(section ERR)"
expect_eq "lines" 1 "$(trace_rows | grep -c .)"
the_row DPORT=8080 && expect_row PID "$(section NC)" COMM nc IP 4 SADDR 127.0.0.1 \
	DADDR 127.0.0.1 UID 0 RESULT ESTABLISHED
finish
