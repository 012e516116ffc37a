#!/usr/bin/env bash
# Bounded runs: -n COUNT stops after COUNT events, -d SECONDS after that long. Either way
# the tracer ends on its own, with status 0, and prints whole lines, no more than asked.
. "$(dirname "$0")/lib.sh"

ns_add loop
server_start loop 127.0.0.1 bounded-srv
port=$server_port

# waiting_peer NAME ARGS...: a tcp_peer connect that starts once $work/go.NAME exists; its
# PID is known before then (the shell execs the peer), in $waiting_pid.
waiting_peer() {
	local name=$1
	shift
	in_ns loop bash -c "echo \$\$ >'$work/$name.pid'; while [ ! -e '$work/go.$name' ]; do sleep 0.01; done
		exec '$TCP_PEER' connect -c $name $*" >"$work/$name.out" &
	background+=($!)
	while [ ! -s "$work/$name.pid" ]; do sleep 0.02; done
	waiting_pid=$(cat "$work/$name.pid")
}

# tracer_ends [WHAT]: the tracer must exit on its own (within 20 s), with status 0.
tracer_ends() {
	local i status
	for i in $(seq 400); do
		kill -0 "$tracer_pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$tracer_pid" 2>/dev/null && die "${1:-tracer} did not end on its own"
	wait "$tracer_pid"
	status=$?
	tracer_pid=
	expect_eq "${1:-tracer} exit status" 0 "$status"
	expect_eq "${1:-tracer} stderr" "" "$(cat "$work/trace.err")"
}

echo "== connect -n 3: five attempts, three lines, and the tracer ends"
waiting_peer five -r 5 -i 50 127.0.0.1 $port
tracer_start connect -x -n 3 -p "$waiting_pid"
touch "$work/go.five"
tracer_ends "connect -n 3"
wait_for_line "$work/five.out" 'sport=' 0 || true
expect_eq "lines printed" 3 "$(trace_rows | grep -c .)"
expect_eq "lines of the peer, established" 3 \
	"$(trace_rows PID="$waiting_pid" COMM=five DPORT="$port" RESULT=ESTABLISHED | grep -c .)"
# The lines are the first three attempts, in order: their local ports, as the peer says.
expect_eq "the first three attempts" \
	"$(sed -n 's/.*sport=\([0-9]*\).*/\1/p' "$work/five.out" | head -n 3 | tr '\n' ' ')" \
	"$(trace_rows | sed -n 's/.*SPORT=\([0-9]*\).*/\1/p' | tr '\n' ' ')"

echo "== connect -d 2: attempts during the run are printed, then the tracer ends"
waiting_peer during -r 3 -i 20 127.0.0.1 $port
tracer_start connect -x -d 2 -p "$waiting_pid"
started=$(date +%s%N)
touch "$work/go.during"
tracer_ends "connect -d 2"
elapsed_ms=$((($(date +%s%N) - started) / 1000000))
# Not a timing: -d must not stop early (the header shows up just before its clock starts).
expect_between "ms until the end (not before 2 s)" 1900 20000 "$elapsed_ms"
expect_eq "lines of the peer" 3 "$(trace_rows PID="$waiting_pid" COMM=during | grep -c .)"

echo "== connect -d 2 while a reader that stopped reading blocks the output"
DROPPED=19
drop_port loop $DROPPED
# The reader never reads: after 64 KiB, the pipe is full and write() blocks. The end of
# -d must not wait for it, any more than a signal does.
stalled_reader "$work/stalled"
"$TCPTRACE_BIN_DIR/tcptrace" connect -d 2 >"$work/stalled" 2>"$work/trace.err" &
tracer_pid=$!
sleep 1 # the probes attach (the header cannot tell us: nobody reads it)
in_ns loop "$CONNECT_STORM" 127.0.0.1 $DROPPED 2000 0 >/dev/null || die "connect_storm"
tracer_ends "connect -d 2, output blocked"

echo "== accept -n 1 -d 30: the first bound reached ends it"
waiting_peer acc -r 2 -i 50 127.0.0.1 $port
tracer_start accept -n 1 -d 30 -P "$port"
touch "$work/go.acc"
tracer_ends "accept -n 1 -d 30"
expect_eq "accepted lines" 1 "$(trace_rows COMM=bounded-srv LPORT="$port" | grep -c .)"
finish
