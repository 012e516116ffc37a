#!/usr/bin/env bash
# How tcptrace starts and stops: signals end it cleanly (status 0), a closed pipe ends it
# quietly, nothing stays in the kernel afterwards (no program, map or link, even after
# SIGKILL or a crash), two tracers run side by side, every capability is dropped once
# attached, -v shows libbpf's messages, and a missing privilege or missing BTF gets one
# line and status 1.
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
# objects: tcptrace's programs, maps and links in the kernel, as "PROGRAMS MAPS LINKS".
# Map names are the object's own (cut to 15 characters); links, those of its programs.
objects() {
	local ids
	ids=$(bpftool -j prog show | jq -c '[.[] | select((.name // "") | test("^(connect|accept)_")) | .id]')
	echo "$(programs)" \
		"$(bpftool map show | grep -cE 'name (events|counters|filter_ports|filter_cgroup|connect_|accept_|tcptrace\.)')" \
		"$(bpftool -j link show | jq --argjson ids "$ids" '[.[] | select(.prog_id as $p | $ids | index($p))] | length')"
}
objects_baseline=$(objects)
# new_objects: objects() beyond the baseline.
new_objects() {
	echo "$(objects) $objects_baseline" | awk '{ print $1 - $4, $2 - $5, $3 - $6 }'
}
# settled_objects: what is left beyond the baseline, once the kernel has had time to
# free it: "0 0 0" when nothing is.
settled_objects() {
	local i
	for i in $(seq 50); do
		[ "$(new_objects)" = "0 0 0" ] && break
		sleep 0.1
	done
	new_objects
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
	# The twins on inet_sock_set_state, and the ICMP errors' on inet_sk_error_report.
	expect_eq "programs attached while tracing ($signal)" 3 "$(residue)"
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
fresh "$work/trace.out"
unshare -m --propagation private sh -c '
	umount /sys/kernel/tracing 2>/dev/null; umount -l /sys/kernel/debug 2>/dev/null
	exec "$0" accept -v' "$tcptrace" >"$work/trace.out" 2>"$work/tracefs.err" &
tracer_pid=$!
wait_for_line "$work/trace.out" . $tracer_pid || die "accept did not start without tracefs"
tracer_interrupt "exit status"
expect_eq "what -v said" 1 \
	"$(grep -c '^tcptrace: tracefs was not mounted: mounted it on /sys/kernel/tracing$' "$work/tracefs.err")"

echo "== tracefs only under debugfs: accept uses it there, mounts nothing"
fresh "$work/trace.out"
unshare -m --propagation private sh -c '
	umount /sys/kernel/tracing 2>/dev/null; umount -l /sys/kernel/debug 2>/dev/null
	mount -t debugfs debugfs /sys/kernel/debug || exit 99
	exec "$0" accept -v' "$tcptrace" >"$work/trace.out" 2>"$work/debugfs.err" &
tracer_pid=$!
wait_for_line "$work/trace.out" . $tracer_pid || die "accept did not start: $(grep -v libbpf "$work/debugfs.err")"
tracer_interrupt "exit status"
expect_eq "tracefs mounts" 0 "$(grep -c 'mounted it' "$work/debugfs.err")"

echo "== SIGKILL, and crashes: the kernel drops everything with the last file descriptor"
for signal in KILL SEGV ABRT; do
	tracer_start connect -x
	expect_match "programs, maps and links while tracing" '^3 [1-9][0-9]* 3$' \
		"$(new_objects)"
	kill -$signal $tracer_pid
	wait $tracer_pid 2>/dev/null
	tracer_pid=
	expect_eq "programs, maps and links left after SIG$signal" "0 0 0" "$(settled_objects)"
done

echo "== two tracers side by side: each sees every attempt; one ending leaves the other be"
ns_add twins
"$tcptrace" connect -x >"$work/first.out" 2>"$work/first.err" &
first_pid=$!
background+=($first_pid)
wait_for_line "$work/first.out" . $first_pid || die "first tracer: $(cat "$work/first.err")"
tracer_start connect -x
peer twins -c side-by-side -r 3 127.0.0.1 1
tracer_interrupt "second tracer's exit status"
expect_eq "second tracer: the three attempts" 3 "$(trace_rows COMM=side-by-side | grep -c .)"
peer twins -c after-second -r 2 127.0.0.1 1
sleep 0.3
kill -INT $first_pid
wait $first_pid
expect_eq "first tracer's exit status" 0 $?
cp "$work/first.out" "$work/trace.out"
expect_eq "first tracer: the three attempts" 3 "$(trace_rows COMM=side-by-side | grep -c .)"
expect_eq "first tracer: and the two after the second ended" 2 "$(trace_rows COMM=after-second | grep -c .)"
expect_eq "first tracer: nothing on stderr" "" "$(cat "$work/first.err")"
expect_eq "programs, maps and links left after both" "0 0 0" "$(settled_objects)"

echo "== attached and mapped: every capability dropped, root left, and tracing goes on"
tracer_start connect -v
wait_for_line "$work/trace.err" '^tcptrace: dropped every capability' $tracer_pid ||
	fail "no word of dropping capabilities: $(cat "$work/trace.err")"
expect_eq "capability sets and no_new_privs" "0000000000000000 0000000000000000 0000000000000000 0000000000000000 0000000000000000 1" \
	"$(awk '/^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):/ { print $2 }' /proc/$tracer_pid/status | paste -sd' ')"
expect_eq "user and group: nobody, no supplementary group" "65534 65534 65534 65534|65534 65534 65534 65534|" \
	"$(awk -F'\t' '/^(Uid|Gid|Groups):/ { print $2, $3, $4, $5 }' /proc/$tracer_pid/status |
		sed 's/ *$//' | paste -sd'|')"
expect_eq "-v says so" 1 "$(grep -c '^tcptrace: running as user and group 65534 (nobody), no longer root$' "$work/trace.err")"
peer twins -c unprivileged 127.0.0.1 1
sleep 0.3
the_row COMM=unprivileged && expect_row PID "$(kv pid "$peer_lines")" DPORT 1
tracer_interrupt "exit status without capabilities"
expect_eq "programs, maps and links left" "0 0 0" "$(settled_objects)"

echo "== root given only CAP_BPF and CAP_PERFMON: traces, and stays root (it cannot leave it)"
fresh "$work/trace.out" "$work/trace.err"
setpriv --bounding-set=-all,+bpf,+perfmon --inh-caps=-all "$tcptrace" connect -v \
	>"$work/trace.out" 2>"$work/trace.err" &
tracer_pid=$!
wait_for_line "$work/trace.out" . $tracer_pid || fail "no header: $(grep -v libbpf "$work/trace.err")"
expect_eq "user IDs" "0 0 0 0" "$(awk -F'\t' '/^Uid:/ { print $2, $3, $4, $5 }' /proc/$tracer_pid/status)"
expect_eq "capabilities left" "0000000000000000 0000000000000000" \
	"$(awk '/^Cap(Prm|Eff):/ { print $2 }' /proc/$tracer_pid/status | paste -sd' ')"
tracer_interrupt "exit status as root with two capabilities"
expect_eq "-v: capabilities dropped, no word of leaving root" "1 0" \
	"$(grep -c '^tcptrace: dropped every capability$' "$work/trace.err") $(grep -c 'no longer root' "$work/trace.err")"

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
	"tcptrace: this kernel has no BTF (/sys/kernel/btf/vmlinux is missing): give its types with --btf FILE, from BTFHub or bpftool gen min_core_btf (tcptrace(8), REQUIREMENTS)" \
	"$(cat "$work/nobtf.err")"

echo "== no BTF, but --btf FILE: traced by raw_tp, the kernel's own BTF IDs being hidden"
cp /sys/kernel/btf/vmlinux "$work/vmlinux.btf"
fresh "$work/trace.out" "$work/trace.err"
unshare -m sh -c "mount -t tmpfs none /sys/kernel/btf &&
	exec '$tcptrace' connect -x --btf '$work/vmlinux.btf' -v" >"$work/trace.out" 2>"$work/trace.err" &
tracer_pid=$!
wait_for_line "$work/trace.out" . $tracer_pid || die "no start with --btf: $(grep -v libbpf "$work/trace.err")"
peer loop -c with-btf 127.0.0.1 1
tracer_interrupt "exit status with --btf"
expect_eq "-v: attached as raw_tp" 1 \
	"$(grep -c '^tcptrace: attached connect_state_raw: raw_tp/inet_sock_set_state$' "$work/trace.err")"
the_row COMM=with-btf && expect_row PID "$(kv pid "$peer_lines")" DPORT 1 RESULT ECONNREFUSED
expect_eq "programs left at the end" 0 "$(settled_residue)"
finish
