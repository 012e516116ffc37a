#!/usr/bin/env bash
# An idle tracer sleeps: connect, accept -x -f and serve, with nothing to trace in their
# namespace, make no voluntary context switch in 5 seconds (a count, from
# /proc/PID/status). Then a lone connection still shows at once, as a line or a count.
. "$(dirname "$0")/lib.sh"

ns_add idle
netns="/run/netns/$(ns_name idle)"
server_start idle 127.0.0.1 idle-srv

# switches PID: its voluntary context switches so far.
switches() { awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$1/status"; }

# expect_asleep WHAT: no wakeup of the tracer in 5 s, after a second to settle.
expect_asleep() {
	local before
	sleep 1
	before=$(switches "$tracer_pid")
	sleep 5
	expect_eq "$1: wakeups in 5 s of nothing to trace" 0 \
		$(($(switches "$tracer_pid") - before))
}

echo "== connect"
tracer_start connect --netns "$netns"
expect_asleep connect
peer idle -c idle-one 127.0.0.1 "$server_port"
wait_for_line "$work/trace.out" 'idle-one' $tracer_pid ||
	die "the lone connection was not printed: $(cat "$work/trace.out")"
tracer_stop

echo "== accept -x -f"
tracer_start accept -x -f --netns "$netns"
expect_asleep "accept -x -f"
tracer_stop

echo "== serve -f"
serve_start "$netns" -f
expect_asleep serve
peer idle -c idle-two 127.0.0.1 "$server_port"
expect_match "the lone connection, counted" '\} 1$' \
	"$(curl -s "http://127.0.0.1:$port/metrics" | grep '^tcptrace_connect_attempts_total{result="ESTABLISHED"')"
tracer_interrupt
finish
