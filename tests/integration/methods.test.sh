#!/usr/bin/env bash
# -A: every attach method this kernel offers (tp_btf, raw_tp, tracepoint) reports the
# same connections with the same fields, for connect and for accept; -v names the
# method each probe got.
. "$(dirname "$0")/lib.sh"

ns_add loop
# An ICMP error that comes within connect(): a REJECT rule in the output path.
ICMP_PORT=10
in_ns loop nft add table inet tt &&
	in_ns loop nft add chain inet tt out '{ type filter hook output priority 0; }' &&
	in_ns loop nft add rule inet tt out tcp dport $ICMP_PORT reject with icmpx type port-unreachable ||
	die "cannot reject port $ICMP_PORT"
for method in tp_btf raw_tp tracepoint; do
	echo "== connect -A $method"
	server_start loop 127.0.0.1 srv4
	port4=$server_port
	server_start loop ::1 srv6
	port6=$server_port
	tracer_start connect -x -A $method
	peer loop -c cli4 127.0.0.1 $port4
	established4=$peer_lines
	peer loop -c cli6 ::1 $port6
	established6=$peer_lines
	peer loop -c refused -N 127.0.0.1 9
	refused=$peer_lines
	peer loop -c rejected -N 127.0.0.1 $ICMP_PORT
	rejected=${peer_lines/saddr=-/saddr=127.0.0.1}
	tracer_stop
	for peer_lines in "$established4" "$established6"; do
		expect_attempt ESTABLISHED
	done
	peer_lines=$refused
	expect_attempt ECONNREFUSED
	# A classic tracepoint's record of the error report has no socket: the tp_btf program
	# serves every method.
	peer_lines=$rejected
	expect_attempt ECONNREFUSED

	echo "== accept -A $method"
	server_start loop 127.0.0.1 acc-srv -W 100 -n 1
	tracer_start accept -x -f -v -A $method
	peer loop -c acc-cli 127.0.0.1 $server_port
	peer loop -c acc-refused 127.0.0.1 9
	acc_refused=$peer_lines
	wait_accepts "$server_out" 1
	tracer_interrupt "accept -A $method exit status"
	expect_accepted "$(grep '^accept ' "$server_out")" && expect_row RESULT ACCEPTED BACKLOG 0/128 &&
		expect_between "QUEUED(ms)" 100 1000 "$(kv 'QUEUED(ms)' "$row")"
	the_row RPORT="$(kv sport "$acc_refused")" LPORT=9 && expect_row PID - RESULT REFUSED
	expect_eq "-v: the kernel" 1 "$(grep -c "^tcptrace: kernel $(uname -r) $(uname -m)$" "$work/trace.err")"
	for probe in accept_queue accept_failed_drop; do
		suffix=$(case $method in tp_btf) echo btf ;; raw_tp) echo raw ;; *) echo tp ;; esac)
		expect_eq "-v: $probe attached as $method" 1 \
			"$(grep -c "^tcptrace: attached ${probe}_$suffix: " "$work/trace.err")"
	done
done
echo "== auto falls back: a kernel that refuses tp_btf programs gets raw_tp"
server_start loop 127.0.0.1 srv-fallback
fresh "$work/trace.out" "$work/trace.err"
REFUSE_BPF=tp_btf LD_PRELOAD=$REFUSE_BPF_LIB "$TCPTRACE_BIN_DIR/tcptrace" connect -x -v >"$work/trace.out" \
	2>"$work/trace.err" &
tracer_pid=$!
wait_for_line "$work/trace.out" . $tracer_pid || die "no fallback: $(grep -v libbpf "$work/trace.err")"
peer loop -c fallback 127.0.0.1 $server_port
tracer_interrupt "exit status after falling back"
expect_eq "-v: the fallback" 1 "$(grep -c '^tcptrace: attaching as tp_btf failed (load the BPF programs: Operation not permitted): trying raw_tp$' "$work/trace.err")"
expect_eq "-v: attached as raw_tp" 1 "$(grep -c '^tcptrace: attached connect_state_raw: raw_tp/inet_sock_set_state$' "$work/trace.err")"
expect_attempt ESTABLISHED

echo "== accept -A tracepoint without -x: its probes are classic tracepoints"
tracer_start accept -A tracepoint
tracer_stop

echo "== a forced method none of the command's probes has: one line, status 1"
"$TCPTRACE_BIN_DIR/tcptrace" accept -A tp_btf >/dev/null 2>"$work/forced.err"
expect_eq "status" 1 $?
expect_eq "the line" "tcptrace: failed to attach accept's probes as tp_btf (none can be): Operation not supported" \
	"$(cat "$work/forced.err")"

echo "== accept -A fentry, here: no trampolines, so none of its probes can be fentry"
"$TCPTRACE_BIN_DIR/tcptrace" accept -A fentry >/dev/null 2>"$work/forced.err"
expect_eq "status" 1 $?
expect_eq "the line" "tcptrace: failed to attach accept's probes as fentry (none can be): Operation not supported" \
	"$(cat "$work/forced.err")"

echo "== a kernel without a helper the programs call: it is named, with its version"
REFUSE_BPF=helper:175 LD_PRELOAD=$REFUSE_BPF_LIB "$TCPTRACE_BIN_DIR/tcptrace" accept -x \
	>/dev/null 2>"$work/forced.err"
expect_eq "status" 1 $?
expect_eq "the line" "tcptrace: this kernel lacks the BPF helper bpf_task_pt_regs(), which came in Linux 5.15: run tcptrace on a newer kernel" \
	"$(cat "$work/forced.err")"

echo "== accept, auto, here: no trampoline nor kprobe, so the syscall tracepoints"
tracer_start accept -v -x
tracer_interrupt "exit status"
expect_eq "-v: the syscall tracepoints" 2 "$(grep -c '^tcptrace: attached accept_accept4\?_exit: tracepoint/syscalls/' "$work/trace.err")"
# BACKLOG's listener comes from the saved registers here (5.15): no entry tracepoint.
expect_eq "-v: no entry tracepoints" 0 "$(grep -c '^tcptrace: attached accept_listener' "$work/trace.err")"
expect_eq "-v: nothing tried first" 0 "$(grep -c '^tcptrace: attaching as' "$work/trace.err")"
finish
