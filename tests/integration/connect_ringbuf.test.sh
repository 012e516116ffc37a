#!/usr/bin/env bash
# Nothing silent: with the consumer stopped (SIGSTOP), more events arrive than the ring
# buffer holds (-b 256K: 1,927 records of 128 bytes and an 8-byte header, as
# docs/performance.md works out; lib/format.c asserts the record's size). The kernel
# counts what it could not store; every attempt must be either printed or counted as
# lost, and no more can be printed than the ring held. The loss is reported while
# tracing, and its total once more at exit.
. "$(dirname "$0")/lib.sh"

ROUNDS=2 PER_ROUND=6000 DROPPED=19 RING=$((256 * 1024)) RECORD=$((128 + 8))
ns_add loop
drop_port loop $DROPPED

# Only the test's namespace: the host's own connections would count among the lost.
tracer_start connect -b 256K --netns "/run/netns/$(ns_name loop)"
kill -STOP $tracer_pid
pids=" "
for round in $(seq $ROUNDS); do
	# Each attempt is abandoned at once: one event each, none left in flight.
	storm=$(in_ns loop "$CONNECT_STORM" 127.0.0.1 $DROPPED $PER_ROUND 0) || die "connect_storm"
	pids+="$(kv pid "$storm") "
done
kill -CONT $tracer_pid
# The loss is reported while tracing goes on (once a second), not only at exit.
wait_for_line "$work/trace.err" '^tcptrace: [0-9]+ events lost \(' $tracer_pid ||
	fail "no loss reported while tracing: $(cat "$work/trace.err")"
tracer_interrupt "tracer exit status"

printed=0
for pid in $pids; do
	printed=$((printed + $(trace_rows PID="$pid" | grep -c .)))
done
lost=$(sed -n 's/^tcptrace: [0-9]* events lost (\([0-9]*\) in all): the ring buffer was full$/\1/p' \
	"$work/trace.err" | tail -n 1)
echo "printed $printed, counted as lost ${lost:-none}"
expect_eq "the reports add up to the total" "${lost:-0}" \
	"$(sed -n 's/^tcptrace: \([0-9]*\) events lost (.*/\1/p' "$work/trace.err" | awk '{ s += $1 } END { print s + 0 }')"
expect_eq "the total again at exit" "tcptrace: in all, ${lost:-0} events lost: the ring buffer was full" \
	"$(tail -n 1 "$work/trace.err")"
expect_between "events lost (the ring is smaller than the burst)" 1 $((ROUNDS * PER_ROUND)) "${lost:-0}"
expect_between "printed (at most what -b 256K holds)" 1 $((RING / RECORD)) "$printed"
expect_eq "printed + lost = attempts" $((ROUNDS * PER_ROUND)) $((printed + ${lost:-0}))
finish
