#!/usr/bin/env bash
# tests/bench/soak.sh [-d SECONDS]: a long run (600 s by default) of tcptrace connect
# under a connection storm (loadgen, two threads, in a network namespace of its own), its
# lines counted by PID as they come. Every 10 s: the storm's rate so far, the tracer's RSS
# and CPU. At the end: RSS at the start, its range, and at the end; the lines for
# loadgen's attempts against loadgen's own count; what tcptrace reported lost. Measures,
# never judges: a benchmark, not a test.
set -u
. "$(dirname "$0")/common.sh"
seconds=600
while getopts "d:" opt; do
	case $opt in
	d) seconds=$OPTARG ;;
	*) echo "usage: soak.sh [-d SECONDS]" >&2; exit 2 ;;
	esac
done
bench_setup soak

# Lines counted per PID as they arrive (awk keeps up with far more than the storm makes);
# the FIFO makes $! the tracer itself.
mkfifo "$work/lines"
awk 'NR > 1 { n[$1]++ } END { for (p in n) print p, n[p] }' <"$work/lines" >"$work/counts" &
counter=$!
"$BIN/tcptrace" connect >"$work/lines" 2>"$work/err" &
tracer=$!
for i in $(seq 400); do
	[ "$(ls /proc/$tracer/fd 2>/dev/null | wc -l)" -gt 8 ] && break
	sleep 0.01
done
sleep 0.5

rss() { awk '/^VmRSS/ { print $2 }' /proc/$tracer/status; }
cpu_ms() { local s=($(cat /proc/$tracer/stat)); echo $(((s[13] + s[14]) * 1000 / ticks)); }
start_rss=$(rss) min_rss=$start_rss max_rss=$start_rss
echo "tracer pid $tracer, RSS at start ${start_rss} KiB; storm for ${seconds} s"
printf '%8s %10s %10s\n' "time(s)" "RSS(KiB)" "CPU(ms)" | tee "$work/series"
ip netns exec "$ns" "$LOADGEN" -t 2 -d "$seconds" >"$work/loadgen" &
storm=$!
began=$(date +%s)
while kill -0 $storm 2>/dev/null; do
	sleep 10
	kill -0 $storm 2>/dev/null || break
	now=$(rss)
	[ "$now" -lt "$min_rss" ] && min_rss=$now
	[ "$now" -gt "$max_rss" ] && max_rss=$now
	printf '%8d %10d %10d\n' $(($(date +%s) - began)) "$now" "$(cpu_ms)" | tee -a "$work/series"
done
wait $storm
run=$(cat "$work/loadgen")
end_rss=$(rss) cpu=$(cpu_ms) hwm=$(awk '/^VmHWM/ { print $2 }' /proc/$tracer/status)
kill -INT $tracer
wait $tracer
wait $counter
made=$(sed -n 's/.* attempts=\([0-9]*\).*/\1/p' <<<"$run")
pid=$(sed -n 's/.*pid=\([0-9]*\).*/\1/p' <<<"$run")
lines=$(awk -v p="$pid" '$1 == p { print $2 }' "$work/counts")
echo "loadgen: $run"
echo "RSS (KiB): start $start_rss, min $min_rss, max $max_rss, end $end_rss, peak (VmHWM) $hwm"
echo "tracer CPU: $cpu ms, $(awk -v c="$cpu" -v n="$made" 'BEGIN { printf "%.2f", n ? c * 1000 / n : 0 }') us per attempt"
echo "lines for loadgen's attempts: ${lines:-0} of $made (missing: $((made - ${lines:-0})))"
echo "tcptrace's stderr:"
sed 's/^/  /' "$work/err"
