#!/usr/bin/env bash
# connect -c and -H: the counts equal the attempts made, failures and latency per row;
# the histogram's counts add up to the established attempts; -i prints every interval,
# afresh, and the intervals add up to the whole.
. "$(dirname "$0")/lib.sh"

ns_add loop
server_start loop 127.0.0.1 sum-srv
port=$server_port
netns="/run/netns/$(ns_name loop)"

# summary_start ARGS...: connect with summaries, only this test's namespace (--netns),
# into $work/sum.out; no header to wait for, so -v's "attached" line tells.
summary_start() {
	"$TCPTRACE_BIN_DIR/tcptrace" connect --netns "$netns" -v "$@" >"$work/sum.out" \
		2>"$work/sum.err" &
	tracer_pid=$!
	wait_for_line "$work/sum.err" '^tcptrace: attached' $tracer_pid ||
		die "tracer did not start: $(cat "$work/sum.err")"
	sleep 0.2
}

echo "== -c -H: seven established, three refused"
summary_start -c -H
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
summary_start -H -i 0.5
peer loop -c sum-slow -r 12 -i 100 127.0.0.1 $port
tracer_interrupt
expect_between "histograms printed" 2 20 "$(grep -c '^     usecs' "$work/sum.out")"
expect_eq "the intervals' counts add up" 12 \
	"$(awk '/ -> / { s += $5 } END { print s + 0 }' "$work/sum.out")"
expect_eq "and their total lines" 12 \
	"$(awk '/established attempts/ { s += $1 } END { print s + 0 }' "$work/sum.out")"

echo "== -n 4 -c: four attempts counted, then the end"
summary_start -c -n 4
peer loop -c sum-four -r 6 -i 10 127.0.0.1 $port
for i in $(seq 100); do kill -0 $tracer_pid 2>/dev/null || break; sleep 0.05; done
wait $tracer_pid
expect_eq "exit status" 0 $?
tracer_pid=
expect_eq "attempts counted" 4 "$(row $port | awk '{ print $4 }')"
finish
