#!/usr/bin/env bash
# accept -c and -H: a row per local address and port, whose ACCEPTS are the connections
# accepted there, with -f's REFUSED and DROPPED beside them and never in QUEUED; QUEUED
# is the accept-queue wait, at least what the server made it; the histogram's counts add
# up to the accepted; -i prints every interval, afresh, adding up to the whole.
. "$(dirname "$0")/lib.sh"

CLOSED=9 QUEUE=5 WAIT_MS=30
ns_add loop
netns="/run/netns/$(ns_name loop)"
# Two listeners: one accepts at once, the other waits WAIT_MS once each connection is
# ready, so that every one of its connections waits at least that long in the queue.
server_start loop 127.0.0.1 sum-quick
quick_port=$server_port quick_out=$server_out
server_start loop 127.0.0.1 sum-slow -W $WAIT_MS
slow_port=$server_port slow_out=$server_out
# Backlog 1 holds two connections; this one never accepts: -f's DROPPED.
server_start loop 127.0.0.1 sum-full -b 1 -H
full_port=$server_port full_pid=$server_pid

# accepted FILE: how many connections a server has accepted so far.
accepted() { grep -c '^accept ' "$1"; }

# The kernel gives a drop on a full accept queue a reason of its own since Linux 6.15.
drops_seen=
bpftool btf dump file /sys/kernel/btf/vmlinux 2>/dev/null |
	grep -q SKB_DROP_REASON_TCP_LISTEN_OVERFLOW && drops_seen=1

echo "== -c -H -f: seven accepted quickly, four slowly, three refused, some dropped"
quick_before=$(accepted "$quick_out") slow_before=$(accepted "$slow_out")
summary_start accept -c -H -f
peer loop -c sum-quick -r 7 -i 10 127.0.0.1 $quick_port
peer loop -c sum-slow -r 4 -i 10 127.0.0.1 $slow_port
peer loop -c sum-refused -r 3 -i 10 127.0.0.1 $CLOSED
overflow_accept_queue loop $full_port $QUEUE
wait_accepts "$quick_out" $((quick_before + 7))
wait_accepts "$slow_out" $((slow_before + 4))
tracer_interrupt
# Its clients go on sending to the full queue: gone, it can have no drops in later runs.
overflow_stop loop $full_port $QUEUE
kill $full_pid
cat "$work/sum.out"
expect_eq "header" "LADDR                                   LPORT  ACCEPTS  REFUSED  DROPPED QUEUED_MIN(ms) QUEUED_AVG(ms) QUEUED_MAX(ms)" \
	"$(head -n 1 "$work/sum.out")"
# row PORT: the table's row for 127.0.0.1 and that port, "laddr lport accepts refused
# dropped min avg max".
row() { awk -v port="$1" '$1 == "127.0.0.1" && $2 == port' "$work/sum.out"; }
expect_eq "rows: a listener each, and the closed port" 4 "$(grep -c '^127\.0\.0\.1 ' "$work/sum.out")"
expect_eq "quick: accepts, refused, dropped" "7 0 0" "$(row $quick_port | awk '{ print $3, $4, $5 }')"
expect_eq "slow: accepts, refused, dropped" "4 0 0" "$(row $slow_port | awk '{ print $3, $4, $5 }')"
for port in $quick_port $slow_port; do
	read -r min avg max < <(row $port | awk '{ print $6, $7, $8 }')
	expect_between "$port: QUEUED_MIN(ms)" 0 "$avg" "$min"
	expect_between "$port: QUEUED_MAX(ms)" "$avg" 10000 "$max"
done
# Every connection to the slow one waited at least WAIT_MS for the server to take it.
expect_between "slow: QUEUED_MIN(ms), at least what the server waited" $WAIT_MS 10000 \
	"$(row $slow_port | awk '{ print $6 }')"
expect_eq "closed port: refused, and no queue wait" "0 3 0 - - -" \
	"$(row $CLOSED | awk '{ print $3, $4, $5, $6, $7, $8 }')"
if [ "$drops_seen" ]; then
	expect_between "full: dropped" 1 10 "$(row $full_port | awk '{ print $5 }')"
else
	echo "this kernel gives the accept queue's overflow no drop reason: DROPPED not checked"
fi
# Never accepted: the full listener's row has its drops alone, and no queue wait.
expect_eq "full: nothing accepted nor refused, and no queue wait" "0 0 - - -" \
	"$(row $full_port | awk '{ print $3, $4, $6, $7, $8 }')"
expect_eq "histogram: the counts add up to the accepted" 11 \
	"$(awk '/ -> / { s += $5 } END { print s + 0 }' "$work/sum.out")"
expect_between "histogram: the slow ones in the slots of WAIT_MS and above" 4 11 \
	"$(awk -v low=$((WAIT_MS * 1000 / 2)) '/ -> / && $3 >= low { s += $5 } END { print s + 0 }' "$work/sum.out")"
expect_eq "histogram: its total line" "11 accepted connections with a known queue wait" \
	"$(grep accepted "$work/sum.out")"

echo "== -c without -f: no REFUSED or DROPPED column"
summary_start accept -c
quick_before=$(accepted "$quick_out")
peer loop -c sum-nof -r 2 -i 10 127.0.0.1 $quick_port
peer loop -c sum-nof-refused 127.0.0.1 $CLOSED
wait_accepts "$quick_out" $((quick_before + 2))
tracer_interrupt
expect_eq "header" "LADDR                                   LPORT  ACCEPTS QUEUED_MIN(ms) QUEUED_AVG(ms) QUEUED_MAX(ms)" \
	"$(head -n 1 "$work/sum.out")"
expect_eq "the listener's row alone: the refused attempt is not watched" \
	"127.0.0.1 $quick_port 2" "$(awk 'NR > 1 { print $1, $2, $3 }' "$work/sum.out")"

echo "== -H -i 0.5: every interval afresh, adding up to the whole"
summary_start accept -H -i 0.5
quick_before=$(accepted "$quick_out")
peer loop -c sum-interval -r 12 -i 100 127.0.0.1 $quick_port
wait_accepts "$quick_out" $((quick_before + 12))
tracer_interrupt
expect_intervals 12 "accepted connections"

echo "== -c -n 4: four accepts counted, then the end"
summary_start accept -c -n 4
peer loop -c sum-four -r 6 -i 10 127.0.0.1 $quick_port
tracer_ended
expect_eq "accepts counted" 4 "$(row $quick_port | awk '{ print $3 }')"

echo "== -c -H -f -j -i 0.5: the same summaries in JSON, beside a text tracer"
summary_start -o json accept -c -H -f -j -i 0.5
json_pid=$tracer_pid
summary_start accept -c -H -f
quick_before=$(accepted "$quick_out") slow_before=$(accepted "$slow_out")
peer loop -c sum-json -r 7 -i 100 127.0.0.1 $quick_port
peer loop -c sum-json-slow -r 2 -i 10 127.0.0.1 $slow_port
peer loop -c sum-json-refused -r 3 -i 10 127.0.0.1 $CLOSED
wait_accepts "$quick_out" $((quick_before + 7))
wait_accepts "$slow_out" $((slow_before + 2))
tracer_interrupt
kill -INT $json_pid
wait $json_pid
expect_eq "JSON tracer exit status" 0 $?
jq -e . "$work/json.out" >/dev/null || die "not JSON Lines: $(head -c 2000 "$work/json.out")"
expect_eq "objects alternate counts, histogram" "" \
	"$(jq -r .event "$work/json.out" | paste -d' ' - - | grep -v '^counts histogram$')"
expect_between "intervals printed" 2 40 "$(jq -r 'select(.event == "counts") | 1' "$work/json.out" | wc -l)"
expect_eq "each interval starts where the one before ended" "" \
	"$(jq -rs 'map(select(.event == "counts")) | [.[:-1], .[1:]] | transpose[] |
		select(.[0].time_ns != .[1].since_ns) | "\(.[0].time_ns) \(.[1].since_ns)"' \
		"$work/json.out")"
expect_eq "rows: their keys, in order" "" \
	"$(jq -c '.rows[]? | keys_unsorted | select(. != ["laddr", "lport", "accepts", "refused",
		"dropped", "queued_min_ms", "queued_avg_ms", "queued_max_ms"])' "$work/json.out")"
# The text table's rows, summed over intervals: "laddr lport accepts refused dropped".
expect_eq "rows: as the text table counts them" \
	"$(awk '$1 == "127.0.0.1" { print $1, $2, $3, $4, $5 }' "$work/sum.out" | sort)" \
	"$(jq -rs '[.[] | select(.event == "counts") | .rows[]] | group_by([.laddr, .lport])[] |
		[.[0].laddr, .[0].lport, (map(.accepts) | add), (map(.refused) | add),
		(map(.dropped) | add)] | map(tostring) | join(" ")' "$work/json.out" | sort)"
expect_eq "JSON rows: three, nine accepted and three refused in all" "3 9 3" \
	"$(jq -rs '[.[] | select(.event == "counts") | .rows[]] |
		"\(group_by(.lport) | length) \(map(.accepts) | add) \(map(.refused) | add)"' \
		"$work/json.out")"
expect_eq "refused rows: no queue wait, null" "" \
	"$(jq -c --argjson port $CLOSED '.rows[]? | select(.lport == $port and
		(.queued_min_ms, .queued_avg_ms, .queued_max_ms) != null)' "$work/json.out")"
expect_eq "accepting rows: min <= avg <= max" "" \
	"$(jq -c '.rows[]? | select(.accepts > 0 and (.queued_min_ms > .queued_avg_ms or
		.queued_avg_ms > .queued_max_ms))' "$work/json.out")"
expect_eq "slow rows: at least what the server waited" "" \
	"$(jq -c --argjson port $slow_port --argjson ms $WAIT_MS '.rows[]? |
		select(.lport == $port and .queued_min_ms < $ms)' "$work/json.out")"
expect_eq "histogram: the buckets add up to the accepted" 9 \
	"$(jq -s '[.[] | select(.event == "histogram") | .buckets[].count] | add' "$work/json.out")"
expect_eq "histogram: and to its totals" 9 \
	"$(jq -s '[.[] | select(.event == "histogram") | .accepted] | add' "$work/json.out")"

echo "== -c -j without -f: refused and dropped are null"
summary_start -o json accept -c -j -n 2
peer loop -c sum-json-nof -r 2 -i 10 127.0.0.1 $quick_port
tracer_ended
expect_eq "one row, two accepts, nothing of -f's" "$quick_port 2 null null" \
	"$(jq -r '.rows[] | "\(.lport) \(.accepts) \(.refused) \(.dropped)"' "$work/json.out")"
finish
