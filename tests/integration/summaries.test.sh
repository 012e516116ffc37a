#!/usr/bin/env bash
# connect -c and -H: the counts equal the attempts made, failures and latency per row;
# the histogram's counts add up to the established attempts; -i prints every interval,
# afresh, and the intervals add up to the whole.
. "$(dirname "$0")/lib.sh"

ns_add loop
server_start loop 127.0.0.1 sum-srv
port=$server_port
netns="/run/netns/$(ns_name loop)"

echo "== -c -H: seven established, three refused"
summary_start connect -c -H
peer loop -c sum-ok -r 7 -i 10 127.0.0.1 $port
peer loop -c sum-refused -r 3 -i 10 127.0.0.1 1
tracer_interrupt
cat "$work/sum.out"
row() { awk -v port="$1" '$1 == "127.0.0.1" && $2 == "127.0.0.1" && $3 == port' "$work/sum.out"; }
expect_eq "rows" 2 "$(grep -c '^127\.0\.0\.1 ' "$work/sum.out")"
expect_eq "port $port: attempts, failed" "7 0" "$(row $port | awk '{ print $4, $5 }')"
min=$(row $port | awk '{ print $6 }') avg=$(row $port | awk '{ print $7 }') max=$(row $port | awk '{ print $8 }')
expect_between "LAT_MIN(ms)" 0.001 "$avg" "$min"
expect_between "LAT_MAX(ms)" "$avg" 1000 "$max"
expect_eq "port 1: attempts, failed, no latency" "3 3 - - -" "$(row 1 | awk '{ print $4, $5, $6, $7, $8 }')"
expect_eq "histogram: the counts add up to the established" 7 \
	"$(awk '/ -> / { s += $5 } END { print s + 0 }' "$work/sum.out")"
expect_eq "histogram: its total line" "7 established attempts" "$(grep established "$work/sum.out")"

echo "== -H -i 0.5: every interval afresh, adding up to the whole"
summary_start connect -H -i 0.5
peer loop -c sum-slow -r 12 -i 100 127.0.0.1 $port
tracer_interrupt
expect_intervals 12 "established attempts"

echo "== -n 4 -c: four attempts counted, then the end"
summary_start connect -c -n 4
peer loop -c sum-four -r 6 -i 10 127.0.0.1 $port
tracer_ended
expect_eq "attempts counted" 4 "$(row $port | awk '{ print $4 }')"

echo "== -c -H -j -i 0.5: the same summaries in JSON, beside a text tracer"
summary_start -o json connect -c -H -j -i 0.5
json_pid=$tracer_pid
summary_start connect -c -H
peer loop -c sum-json -r 7 -i 100 127.0.0.1 $port
peer loop -c sum-json-refused -r 3 -i 10 127.0.0.1 1
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
expect_eq "time is time_ns on the wall clock" "" \
	"$(jq -r 'select((.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{9}Z$")) | not) | .time' \
		"$work/json.out")"
# The text table's rows, summed over intervals: "saddr daddr dport connects failed".
expect_eq "rows: as the text table counts them" \
	"$(awk '$1 == "127.0.0.1" { print $1, $2, $3, $4, $5 }' "$work/sum.out" | sort)" \
	"$(jq -rs '[.[] | select(.event == "counts") | .rows[]] | group_by([.saddr, .daddr, .dport])[] |
		[.[0].saddr, .[0].daddr, .[0].dport, (map(.connects) | add), (map(.failed) | add)] |
		map(tostring) | join(" ")' "$work/json.out" | sort)"
expect_eq "JSON rows: the two, ten attempts in all" "2 10" \
	"$(jq -rs '[.[] | select(.event == "counts") | .rows[]] |
		"\(group_by([.daddr, .dport]) | length) \(map(.connects) | add)"' "$work/json.out")"
expect_eq "refused rows: no latency, null" "" \
	"$(jq -c '.rows[]? | select(.dport == 1 and (.latency_min_ms, .latency_avg_ms, .latency_max_ms) != null)' \
		"$work/json.out")"
expect_eq "established rows: min <= avg <= max" "" \
	"$(jq -c '.rows[]? | select(.dport != 1 and (.latency_min_ms > .latency_avg_ms or .latency_avg_ms > .latency_max_ms))' \
		"$work/json.out")"
expect_eq "histogram: the buckets add up to the established" 7 \
	"$(jq -s '[.[] | select(.event == "histogram") | .buckets[].count] | add' "$work/json.out")"
expect_eq "histogram: and to its totals" 7 \
	"$(jq -s '[.[] | select(.event == "histogram") | .established] | add' "$work/json.out")"
expect_eq "histogram: buckets are log2, from 0" "" \
	"$(jq -c '.buckets[]? as $b | select(($b.low_us == 0 and $b.high_us == 1) or ($b.high_us == 2 * $b.low_us - 1) | not) | $b' \
		"$work/json.out")"
finish
