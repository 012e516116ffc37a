#!/usr/bin/env bash
# Nothing silent: more attempts in flight at once than the in-flight map holds. The
# oldest are evicted; each attempt must then be either reported or counted as lost, and
# the count reported on stderr.
. "$(dirname "$0")/lib.sh"

ATTEMPTS=20000	# the in-flight map holds 16384
storm_pids=()
DROPPED=19
ns_add loop
drop_port loop $DROPPED

tracer_start connect -x
# Four processes, each under the open-file limit, all holding their attempts at once.
storms=4
for i in $(seq $storms); do
	in_ns loop "$CONNECT_STORM" 127.0.0.1 $DROPPED $((ATTEMPTS / storms)) 2000 >"$work/storm.$i" &
	storm_pids+=($!)
done
for pid in "${storm_pids[@]}"; do
	wait $pid || die "connect_storm failed"
done
tracer_interrupt "tracer exit status"

reported=0
for i in $(seq $storms); do
	storm=$(cat "$work/storm.$i")
	echo "$storm"
	reported=$((reported + $(trace_rows PID="$(kv pid "$storm")" RESULT=ABANDONED | grep -c .)))
done
# The last report gives the total: "... lost (N in all): evicted from the in-flight map ..."
lost=$(sed -n 's/^tcptrace: [0-9]* connection attempts lost (\([0-9]*\) in all): evicted.*/\1/p' \
	"$work/trace.err" | tail -n 1)
echo "reported $reported, counted as lost ${lost:-none}"
expect_between "attempts lost (the map is smaller than the storm)" 1 $ATTEMPTS "${lost:-0}"
expect_eq "reported + lost = attempts" $ATTEMPTS $((reported + ${lost:-0}))
expect_eq "the reports add up to the total" "${lost:-0}" \
	"$(sed -n 's/^tcptrace: \([0-9]*\) connection attempts lost (.*/\1/p' "$work/trace.err" |
		awk '{ s += $1 } END { print s + 0 }')"
expect_eq "the total again at exit" \
	"tcptrace: in all, ${lost:-0} connection attempts lost: evicted from the in-flight map before their outcome was known" \
	"$(tail -n 1 "$work/trace.err")"
expect_eq "other stderr lines" "" "$(grep -v 'connection attempts lost' "$work/trace.err")"
# No outcome paired with a later attempt's start: every attempt was held at least 2 s
# (from the storm's last connect() to its first close()), so no latency may be shorter.
# (Neither an upper bound nor local ports can say more: opening 5,000 attempts takes the
# storms seconds under load, and a port freed by one storm's close is taken by another's
# connect before the close's own event is stamped.)
lines=$(for i in $(seq $storms); do trace_rows PID="$(kv pid "$(cat "$work/storm.$i")")"; done)
expect_eq "latencies read" "$reported" "$(grep -c ' LAT(ms)=[0-9]' <<<"$lines")"
expect_eq "every latency at least the 2 s hold" "" \
	"$(sed -n 's/.* LAT(ms)=\([0-9.]*\) .*/\1/p' <<<"$lines" | awk '$1 < 1990')"
finish
