#!/usr/bin/env bash
# Nothing silent: with the consumer stopped (SIGSTOP), more events arrive than the ring
# buffer holds (4 MiB: about 37,000 records). The kernel counts what it could not
# store; every attempt must be either printed or counted as lost.
. "$(dirname "$0")/lib.sh"

ROUNDS=4 PER_ROUND=12000 DROPPED=19
ns_add loop
in_ns loop nft add table inet tt
in_ns loop nft add chain inet tt in '{ type filter hook input priority 0; }'
in_ns loop nft add rule inet tt in tcp dport $DROPPED drop

tracer_start connect
kill -STOP $tracer_pid
pids=" "
for round in $(seq $ROUNDS); do
	# Each attempt is abandoned at once: one event each, none left in flight.
	storm=$(in_ns loop "$CONNECT_STORM" 127.0.0.1 $DROPPED $PER_ROUND 0) || die "connect_storm"
	pids+="$(kv pid "$storm") "
done
kill -CONT $tracer_pid
tracer_interrupt "tracer exit status"

printed=0
for pid in $pids; do
	printed=$((printed + $(trace_rows PID="$pid" | grep -c .)))
done
lost=$(sed -n 's/^tcptrace: [0-9]* events lost (\([0-9]*\) in all): the ring buffer was full$/\1/p' \
	"$work/trace.err" | tail -n 1)
echo "printed $printed, counted as lost ${lost:-none}"
expect_between "events lost (the ring is smaller than the burst)" 1 $((ROUNDS * PER_ROUND)) "${lost:-0}"
expect_eq "printed + lost = attempts" $((ROUNDS * PER_ROUND)) $((printed + ${lost:-0}))
finish
