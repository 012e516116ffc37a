#!/usr/bin/env bash
# -DTCPTRACE_STATIC=ON: one binary with no shared library at all, which traces for real
# in a root directory that holds nothing else (chroot: no /lib, no loader).
. "$(dirname "$0")/lib.sh"

echo "== the static build"
build_static
binary=$static_tcptrace
expect_eq "no program interpreter" "" "$(readelf -l "$binary" | grep -i 'interpreter')"
expect_eq "no shared library needed" "" "$(readelf -d "$binary" 2>/dev/null | grep NEEDED)"

echo "== alone in a root directory: traces a connection"
root=$work/root
mkdir -p "$root/proc" "$root/sys"
cp "$binary" "$root/tcptrace"
mount --bind /proc "$root/proc" && mount --rbind /sys "$root/sys" || die "cannot bind /proc, /sys"
unmount_root() {
	umount -l "$root/sys" "$root/proc" 2>/dev/null
	cleanup
}
trap unmount_root EXIT
expect_eq "nothing else in it" "proc sys tcptrace" "$(ls "$root" | tr '\n' ' ' | sed 's/ $//')"

ns_add loop
server_start loop 127.0.0.1 static-srv
port=$server_port
# Only this test's namespace, named through the chroot's own /proc.
chroot "$root" /tcptrace connect -x -n 1 -d 20 --netns "/proc/$server_pid/ns/net" \
	>"$work/trace.out" 2>"$work/trace.err" &
tracer_pid=$!
wait_for_line "$work/trace.out" . $tracer_pid || die "tracer did not start: $(cat "$work/trace.err")"
peer loop -c static-peer 127.0.0.1 $port
tracer_ended
expect_attempt ESTABLISHED

echo "== serve: not in the static build, said in one line, nothing loaded"
chroot "$root" /tcptrace serve >/dev/null 2>"$work/serve.err"
expect_eq "exit status" 1 $?
expect_eq "the line" "tcptrace: serve is not in this static build: Debian has no static libmicrohttpd; use the dynamic build" \
	"$(cat "$work/serve.err")"
finish
