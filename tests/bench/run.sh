#!/usr/bin/env bash
# tests/bench/run.sh [-d SECONDS] [-r ROUNDS] [-6] [-q]: what tracing a connection storm
# costs. The same loopback storm (loadgen) runs with no tracer, tcptrace connect,
# tcptrace accept, and both, writing to a file and to /dev/null, interleaved round after
# round (A, B, A, B...) so that drift in the machine's speed hits every case alike.
# Prints one table of medians. -q (for CI): one short round of connect to a file, and a
# failure if any event was lost.
set -u
BIN=${TCPTRACE_BIN_DIR:-$(cd "$(dirname "$0")/../.." && pwd)/build}
LOADGEN=${LOADGEN:-$BIN/tests/loadgen}
STAMP=${STAMP:-$BIN/tests/stamp}
seconds=3 rounds=3 family= quick=
while getopts "d:r:6q" opt; do
	case $opt in
	d) seconds=$OPTARG ;;
	r) rounds=$OPTARG ;;
	6) family=-6 ;;
	q) quick=1 seconds=1 rounds=1 ;;
	*) echo "usage: run.sh [-d SECONDS] [-r ROUNDS] [-6] [-q]" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "skipped: tracing needs root"; exit 77; }
work=$(mktemp -d /tmp/tcptrace-bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
ticks=$(getconf CLK_TCK)

# A case: "<name> <commands> <output>", commands "-", "connect", "accept" or "connect+accept".
cases=("none - -" "connect/file connect file" "connect/null connect null" "accept/file accept file"
	"accept/null accept null" "both/file connect+accept file")
[ -n "$quick" ] && cases=("connect/file connect file")

# measure COMMANDS OUTPUT: one storm under those tracers; prints one result line:
# rate lost cpu_us_per_event rss_kib startup_ms delay_p50_ms delay_p99_ms
measure() {
	local commands=$1 output=$2 pids=() n=0 cmd storm rate events=0 lost=0 cpu=0 rss=0
	local startup= p50=- p99=-
	for cmd in ${commands//+/ }; do
		[ "$cmd" = - ] && continue
		n=$((n + 1))
		local begin=$(date +%s%N)
		if [ "$output" = file ]; then
			# Through a FIFO, so that $! is the tracer and stamp notes each line's arrival.
			rm -f "$work/fifo.$n"
			mkfifo "$work/fifo.$n"
			"$STAMP" <"$work/fifo.$n" >"$work/out.$n" &
			"$BIN/tcptrace" $cmd -t >"$work/fifo.$n" 2>"$work/err.$n" &
		else
			"$BIN/tcptrace" $cmd -t >/dev/null 2>"$work/err.$n" &
		fi
		pids+=($!)
		# Started: the header reached the file (to /dev/null: its programs attached).
		for i in $(seq 400); do
			if [ "$output" = file ]; then
				[ -s "$work/out.$n" ] && break
			else
				[ "$(ls /proc/${pids[-1]}/fd 2>/dev/null | wc -l)" -gt 8 ] && break
			fi
			sleep 0.005
		done
		[ "$output" = file ] && startup=$(( ($(date +%s%N) - begin) / 1000000 ))
	done
	storm=$("$LOADGEN" $family -d "$seconds")
	rate=$(sed -n 's/.*rate=\([0-9]*\).*/\1/p' <<<"$storm")
	local made=$(sed -n 's/.*connections=\([0-9]*\).*/\1/p' <<<"$storm")
	sleep 0.1
	for i in "${!pids[@]}"; do
		local stat=($(cat /proc/${pids[$i]}/stat))
		cpu=$((cpu + (stat[13] + stat[14]) * 1000000 / ticks))
		rss=$(( $(awk '/VmHWM/ { print $2 }' /proc/${pids[$i]}/status) > rss ?
			$(awk '/VmHWM/ { print $2 }' /proc/${pids[$i]}/status) : rss ))
		kill -INT ${pids[$i]}
	done
	wait
	local connect_lines=0 connect_runs=0 i=0
	for cmd in ${commands//+/ }; do
		[ "$cmd" = - ] && continue
		i=$((i + 1))
		if [ "$output" = file ] && [ "$cmd" = connect ]; then
			connect_runs=1
			connect_lines=$(grep -c ' loadgen ' "$work/out.$i")
		fi
		# Reports are running totals: the last of each kind counts.
		lost=$((lost + $(awk -F'[()]' '/ lost \(/ { split($2, n, " "); total[$3] = n[1] }
			END { for (k in total) s += total[k]; print s + 0 }' "$work/err.$i")))
	done
	# Every connection the storm made has a connect line; a missing one was lost, reported
	# or not. (Accept has no such count: the storm's last connections are never accepted.)
	if [ "$connect_runs" = 1 ] && [ "$connect_lines" -lt "$made" ]; then
		lost=$((lost > made - connect_lines ? lost : made - connect_lines))
	fi
	if [ "$output" = file ]; then
		# Delay: when a line arrived, against its TIME(s) from the header's arrival.
		read -r p50 p99 < <(awk 'NR == 1 { t0 = $1; next } $4 ~ /loadgen/ {
				d = ($1 - t0) / 1e6 - $2 * 1000; print (d < 0 ? 0 : d) }' "$work/out.1" |
			sort -n | awk '{ v[NR] = $1 } END { if (NR) printf "%.1f %.1f\n", v[int(NR * 0.5) + 1], v[int(NR * 0.99) + 1]; else print "- -" }')
	fi
	local per_event=-
	[ "$made" -gt 0 ] && [ "$n" -gt 0 ] && per_event=$(awk -v c=$cpu -v e=$((made * n)) 'BEGIN { printf "%.2f", c / e }')
	echo "$rate $lost $per_event $rss ${startup:--} $p50 $p99"
}

for round in $(seq "$rounds"); do
	for c in "${cases[@]}"; do
		read -r name commands output <<<"$c"
		echo "$name $(measure "$commands" "$output")" >>"$work/results"
	done
done

median() {
	sort -n | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : "-") }'
}
base=$(awk '$1 == "none" { print $2 }' "$work/results" | median)
printf "%-14s %9s %9s %6s %11s %8s %10s %9s %9s\n" CASE "CONN/S" OVERHEAD LOST "CPU/EVENT" "RSS" STARTUP "DELAY50" "DELAY99"
printf "%-14s %9s %9s %6s %11s %8s %10s %9s %9s\n" "" "" "" "" "(us)" "(KiB)" "(ms)" "(ms)" "(ms)"
total_lost=0
for c in "${cases[@]}"; do
	read -r name _ _ <<<"$c"
	col() { awk -v n="$name" -v c=$1 '$1 == n { print $c }' "$work/results" | median; }
	rate=$(col 2)
	lost=$(awk -v n="$name" '$1 == n { s += $3 } END { print s + 0 }' "$work/results")
	total_lost=$((total_lost + lost))
	overhead=-
	[ -n "$base" ] && [ "$base" != - ] && [ "$name" != none ] &&
		overhead=$(awk -v b=$base -v r=$rate 'BEGIN { printf "%.1f%%", (b - r) * 100 / b }')
	printf "%-14s %9s %9s %6s %11s %8s %10s %9s %9s\n" "$name" "$rate" "$overhead" "$lost" \
		"$(col 4)" "$(col 5)" "$(col 6)" "$(col 7)" "$(col 8)"
done
if [ -n "$quick" ]; then
	echo "events lost: $total_lost"
	[ "$total_lost" = 0 ]
fi
