#!/usr/bin/env bash
# The other transport: where the kernel has no BPF ring buffer (before 5.8), events go
# through a perf buffer per CPU. The LD_PRELOAD shim refuses ring-buffer maps, as such a
# kernel would. Every attempt must be printed once, accepts too, and with the consumer
# stopped, whatever the full buffers could not hold is counted in the same loss kind:
# printed + lost = attempts.
. "$(dirname "$0")/lib.sh"

ATTEMPTS=200 BURST=6000 DROPPED=19
ns_add loop
drop_port loop $DROPPED
export REFUSE_BPF=ringbuf
netns="/run/netns/$(ns_name loop)"

# tracer_start_shimmed ARGS...: tracer_start, the shim preloaded in the tracer alone.
tracer_start_shimmed() {
	fresh "$work/trace.out" "$work/trace.err"
	LD_PRELOAD=$REFUSE_BPF_LIB "$TCPTRACE_BIN_DIR/tcptrace" "$@" >"$work/trace.out" \
		2>"$work/trace.err" &
	tracer_pid=$!
	wait_for_line "$work/trace.out" . $tracer_pid ||
		die "tracer did not start: $(grep -v '^libbpf' "$work/trace.err")"
}

echo "== connect: every attempt once, through the perf buffer"
tracer_start_shimmed connect -v --netns "$netns"
storm=$(in_ns loop "$CONNECT_STORM" 127.0.0.1 $DROPPED $ATTEMPTS 0) || die "connect_storm"
pid=$(kv pid "$storm")
tracer_interrupt "exit status"
expect_eq "-v: the perf buffer" 1 \
	"$(grep -c '^tcptrace: events go through a perf buffer per CPU: this kernel has no BPF ring buffer$' "$work/trace.err")"
expect_eq "lines of the storm" $ATTEMPTS "$(trace_rows PID="$pid" | grep -c .)"
expect_eq "nothing lost" 0 "$(grep -c 'lost' "$work/trace.err")"

echo "== accept: the accepting process, through the perf buffer"
server_start loop 127.0.0.1 pb-srv
tracer_start_shimmed accept -x --netns "$netns"
peer loop -c pb-cli 127.0.0.1 $server_port
wait_accepts "$server_out" 1
tracer_interrupt "exit status"
expect_accepted "$(grep '^accept ' "$server_out")" && expect_row BACKLOG 0/128

echo "== losses: the consumer stopped, more than the buffers hold"
tracer_start_shimmed connect -b 64K --netns "$netns"
kill -STOP $tracer_pid
storm=$(in_ns loop "$CONNECT_STORM" 127.0.0.1 $DROPPED $BURST 0) || die "connect_storm"
pid=$(kv pid "$storm")
kill -CONT $tracer_pid
wait_for_line "$work/trace.err" '^tcptrace: [0-9]+ events lost \(' $tracer_pid ||
	fail "no loss reported while tracing: $(cat "$work/trace.err")"
tracer_interrupt "exit status"
printed=$(trace_rows PID="$pid" | grep -c .)
lost=$(sed -n 's/^tcptrace: in all, \([0-9]*\) events lost: the ring buffer was full$/\1/p' "$work/trace.err")
echo "printed $printed, counted as lost ${lost:-none}"
expect_between "events lost (the buffers are smaller than the burst)" 1 $BURST "${lost:-0}"
expect_eq "printed + lost = attempts" $BURST $((printed + ${lost:-0}))
finish
