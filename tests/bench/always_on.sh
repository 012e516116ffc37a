#!/usr/bin/env bash
# tests/bench/always_on.sh [-r ROUNDS] [-d SECONDS]: the costs of a tracer left running,
# beside the storm's (run.sh). For connect, accept and serve:
# - the syscall tax: the ns a getppid() loop gains under the tracer, against no tracer
#   just before and just after it (interleaved: none, tracer, none, ...), medians;
# - idle wakeups: the tracer's voluntary context switches per second, with nothing to
#   trace in its namespace.
# Measures, never judges: a benchmark, not a test.
set -u
. "$(dirname "$0")/common.sh"
SYSCALL_LOOP=${SYSCALL_LOOP:-$BIN/tests/syscall_loop}
rounds=5 seconds=1
while getopts "r:d:" opt; do
	case $opt in
	r) rounds=$OPTARG ;;
	d) seconds=$OPTARG ;;
	*) echo "usage: always_on.sh [-r ROUNDS] [-d SECONDS]" >&2; exit 2 ;;
	esac
done
bench_setup always-on
PORT=10097

# start COMMAND: the tracer, counting only the empty namespace; returns once attached.
start() {
	local args=(--netns "/run/netns/$ns")
	[ "$1" = serve ] && args+=(--listen "127.0.0.1:$PORT")
	"$BIN/tcptrace" "$1" "${args[@]}" -v >/dev/null 2>"$work/err" &
	tracer=$!
	for i in $(seq 400); do
		grep -q 'dropped every capability' "$work/err" && return
		sleep 0.01
	done
	echo "tcptrace $1 did not start: $(cat "$work/err")" >&2
	exit 1
}
stop() {
	kill -INT "$tracer"
	wait "$tracer"
}
loop_ns() { "$SYSCALL_LOOP" "$seconds" | sed 's/.*ns_per_call=\([0-9.]*\).*/\1/'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : "-") }'; }

printf "%-8s %12s %12s %10s %14s\n" COMMAND "NONE(ns)" "TRACED(ns)" "TAX" "WAKEUPS/S"
for command in connect accept serve; do
	: >"$work/none"
	: >"$work/traced"
	loop_ns >>"$work/none"
	for round in $(seq "$rounds"); do
		start "$command"
		loop_ns >>"$work/traced"
		stop
		loop_ns >>"$work/none"
	done
	start "$command"
	sleep 1
	before=$(awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$tracer/status")
	sleep 5
	after=$(awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$tracer/status")
	stop
	none=$(median <"$work/none")
	traced=$(median <"$work/traced")
	printf "%-8s %12s %12s %10s %14s\n" "$command" "$none" "$traced" \
		"$(awk -v n="$none" -v t="$traced" 'BEGIN { printf "%+.1f%%", (t - n) * 100 / n }')" \
		"$(awk -v w=$((after - before)) 'BEGIN { printf "%.1f", w / 5 }')"
done
