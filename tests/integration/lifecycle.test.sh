#!/usr/bin/env bash
# How tcptrace starts and stops: signals end it cleanly (status 0), a closed pipe ends it
# quietly, nothing stays attached in the kernel afterwards (even after SIGKILL), -v shows
# libbpf's messages, and a missing privilege or missing BTF gets one line and status 1.
. "$(dirname "$0")/lib.sh"

tcptrace=$TCPTRACE_BIN_DIR/tcptrace
# A copy an unprivileged user can execute, wherever the build tree is.
mkdir -m 755 "$work/bin"
cp "$tcptrace" "$work/bin/"
chmod 755 "$work"
command -v bpftool >/dev/null || die "bpftool is needed to look for leftover programs"

# Programs of tcptrace's in the kernel (names are cut to 15 characters), beyond those of
# any other tcptrace already running on the machine when the test began.
programs() {
	bpftool prog show 2>/dev/null | grep -cE 'name (connect|accept)_'
}
baseline=$(programs)
residue() {
	echo $(($(programs) - baseline))
}
# The kernel frees a program in deferred work after its last reference goes: give it
# a moment. Five seconds without it going means it stayed.
settled_residue() {
	local i
	for i in $(seq 50); do
		[ "$(residue)" = 0 ] && break
		sleep 0.1
	done
	residue
}

for signal in INT TERM HUP; do
	tracer_start connect
	expect_eq "programs attached while tracing ($signal)" 2 "$(residue)"
	kill -$signal $tracer_pid
	wait $tracer_pid
	expect_eq "exit status after SIG$signal" 0 $?
	tracer_pid=
	expect_eq "stderr after SIG$signal" "" "$(cat "$work/trace.err")"
	expect_eq "programs left after SIG$signal" 0 "$(settled_residue)"
done

echo "== accept, with every program (-f): attached while tracing, gone after"
tracer_start accept -f
expect_eq "accept programs attached" 5 "$(residue)"
tracer_stop
expect_eq "programs left after accept" 0 "$(settled_residue)"

echo "== tracefs missing: accept mounts it, and says so under -v"
# In a mount namespace of its own, so that the machine's mounts stay as they are.
unshare -m --propagation private sh -c '
	umount /sys/kernel/tracing 2>/dev/null; umount -l /sys/kernel/debug 2>/dev/null
	exec "$0" accept -v' "$tcptrace" >"$work/trace.out" 2>"$work/tracefs.err" &
tracer_pid=$!
wait_for_line "$work/trace.out" . $tracer_pid || die "accept did not start without tracefs"
tracer_interrupt "exit status"
expect_eq "what -v said" 1 \
	"$(grep -c '^tcptrace: tracefs was not mounted: mounted it on /sys/kernel/tracing$' "$work/tracefs.err")"

echo "== tracefs only under debugfs: accept uses it there, mounts nothing"
unshare -m --propagation private sh -c '
	umount /sys/kernel/tracing 2>/dev/null; umount -l /sys/kernel/debug 2>/dev/null
	mount -t debugfs debugfs /sys/kernel/debug || exit 99
	exec "$0" accept -v' "$tcptrace" >"$work/trace.out" 2>"$work/debugfs.err" &
tracer_pid=$!
wait_for_line "$work/trace.out" . $tracer_pid || die "accept did not start: $(grep -v libbpf "$work/debugfs.err")"
tracer_interrupt "exit status"
expect_eq "tracefs mounts" 0 "$(grep -c 'mounted it' "$work/debugfs.err")"

echo "== SIGKILL: the kernel drops the programs with the last file descriptor"
tracer_start connect
kill -KILL $tracer_pid
wait $tracer_pid 2>/dev/null
tracer_pid=
expect_eq "programs left after SIGKILL" 0 "$(settled_residue)"

echo "== a closed pipe: quiet exit 0, without waiting for another event"
timeout 10 "$tcptrace" connect 2>"$work/pipe.err" | head -n 1 >"$work/pipe.out"
statuses=("${PIPESTATUS[@]}")
expect_eq "tcptrace status behind | head" 0 "${statuses[0]}"
expect_match "header went through the pipe" '^PID ' "$(cat "$work/pipe.out")"
expect_eq "stderr behind | head" "" "$(cat "$work/pipe.err")"

echo "== SIGTERM while a reader that stopped reading blocks the output"
DROPPED=19
ns_add loop
drop_port loop $DROPPED
# The reader never reads: after 64 KiB, the pipe is full and write() blocks.
stalled_reader "$work/stalled"
"$tcptrace" connect >"$work/stalled" 2>"$work/blocked.err" &
tracer_pid=$!
sleep 1 # the probes attach (the header cannot tell us: nobody reads it)
in_ns loop "$CONNECT_STORM" 127.0.0.1 $DROPPED 2000 0 >/dev/null || die "connect_storm"
sleep 0.5
expect_match "tracer blocked in write()" 'pipe' "$(cat /proc/$tracer_pid/wchan)"
kill -TERM $tracer_pid
for i in $(seq 30); do kill -0 $tracer_pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $tracer_pid 2>/dev/null; then
	fail "tracer still running 3 s after SIGTERM"
else
	wait $tracer_pid
	expect_eq "exit status after SIGTERM with blocked output" 0 $?
fi
tracer_pid=

echo "== CAP_BPF and CAP_PERFMON are enough: no root needed"
setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=+bpf,+perfmon \
	--ambient-caps=+bpf,+perfmon "$work/bin/tcptrace" connect >"$work/caps.out" 2>"$work/caps.err" &
tracer_pid=$!
wait_for_line "$work/caps.out" . $tracer_pid || fail "no header: $(cat "$work/caps.err")"
tracer_interrupt "exit status with the two capabilities"

echo "== a full disk: one line, status 1"
"$tcptrace" connect >/dev/full 2>"$work/full.err"
expect_eq "status on a full disk" 1 $?
expect_eq "message on a full disk" "tcptrace: failed to write the output: No space left on device" \
	"$(cat "$work/full.err")"

echo "== -v: libbpf's messages on stderr, the table on stdout"
tracer_start connect -v
tracer_interrupt "exit status with -v"
expect_match "libbpf messages" 'libbpf: ' "$(cat "$work/trace.err")"
expect_match "header on stdout" '^PID ' "$(head -n 1 "$work/trace.out")"

echo "== no privileges: one line, status 1"
setpriv --reuid=nobody --regid=nogroup --clear-groups "$work/bin/tcptrace" connect \
	>"$work/noroot.out" 2>"$work/noroot.err"
expect_eq "status without privileges" 1 $?
expect_eq "message without privileges" \
	"tcptrace: loading BPF programs needs CAP_BPF and CAP_PERFMON: run tcptrace as root" \
	"$(cat "$work/noroot.err")"
expect_eq "stdout without privileges" "" "$(cat "$work/noroot.out")"
# Root without the capabilities is refused the same way.
setpriv --inh-caps=-all --bounding-set=-all "$tcptrace" connect 2>"$work/nocaps.err" >/dev/null
expect_eq "status without capabilities" 1 $?
expect_eq "message without capabilities" "$(cat "$work/noroot.err")" "$(cat "$work/nocaps.err")"

echo "== no BTF: one line, status 1"
unshare -m sh -c "mount -t tmpfs none /sys/kernel/btf && exec '$tcptrace' connect" \
	>"$work/nobtf.out" 2>"$work/nobtf.err"
expect_eq "status without BTF" 1 $?
expect_eq "message without BTF" \
	"tcptrace: this kernel has no BTF (/sys/kernel/btf/vmlinux is missing): tcptrace needs a kernel built with CONFIG_DEBUG_INFO_BTF=y" \
	"$(cat "$work/nobtf.err")"
expect_eq "programs left at the end" 0 "$(settled_residue)"
finish
