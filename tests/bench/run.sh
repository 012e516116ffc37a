#!/usr/bin/env bash
# tests/bench/run.sh [-d SECONDS] [-r ROUNDS] [-6] [-q] [-o DIR] [-k CASES]: what tracing a connection storm
# costs. The same loopback storm (loadgen, in a network namespace of its own) runs with
# no tracer, tcptrace connect, tcptrace accept, and both, writing to a file and to
# /dev/null, interleaved round after round (A, B, A, B...) so that drift in the
# machine's speed hits every case alike; attempts held in flight by the thousand, to load
# connect's in-flight map; and attempts each answered by an ICMP error within connect()
# (a REJECT rule), which runs connect's program on the socket error report. Prints one
# table of medians.
# -q (for CI): one short round of connect and of both to a file, and a failure if any
# event was lost. -o DIR: connect's cases again with DIR/tcptrace (another build), as
# "other:" cases interleaved with the rest, for a comparison in one run. -k CASES: only
# these cases (comma-separated names: none,connect/null,serve). Timings are printed,
# never judged.
set -u
. "$(dirname "$0")/common.sh"
STAMP=${STAMP:-$BIN/tests/stamp}
seconds=3 rounds=3 family= quick= other= keep=
while getopts "d:r:6qo:k:" opt; do
	case $opt in
	d) seconds=$OPTARG ;;
	r) rounds=$OPTARG ;;
	6) family=-6 ;;
	q) quick=1 seconds=2 rounds=1 ;;
	o) other=$OPTARG ;;
	k) keep=,$OPTARG, ;;
	*) echo "usage: run.sh [-d SECONDS] [-r ROUNDS] [-6] [-q] [-o DIR] [-k CASES]" >&2; exit 2 ;;
	esac
done
[ -z "$other" ] || [ -x "$other/tcptrace" ] || { echo "no tcptrace in $other" >&2; exit 2; }
bench_setup bench
# In-flight attempts: SYNs to this port are dropped, so they stay in SYN_SENT. SYNs to
# the other are answered by an ICMP error, which the kernel keeps as a soft error.
DROPPED=9 REJECTED=10 IN_FLIGHT=4000 REJECTED_IN_FLIGHT=16
ip netns exec "$ns" nft -f - <<EOF || { echo "cannot add the packet rules"; exit 1; }
table inet bench {
	chain in { type filter hook input priority 0; tcp dport $DROPPED drop; }
	chain out {
		type filter hook output priority 0;
		tcp dport $REJECTED reject with icmpx type host-unreachable
	}
}
EOF
# Every SYN gets its error: no rate limit (per destination) nor global one (by type).
ip netns exec "$ns" sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv4.icmp_ratemask=0 \
	net.ipv6.icmp.ratelimit=0 net.ipv6.icmp.ratemask=

# A case: "<name> <commands> <output> <workload>": commands "-", "connect", "accept",
# "connect+accept" or "serve" (metrics, scraped once at the end: its count of attempts
# must equal loadgen's, as connect's lines must); "other:connect": -o's build;
# "perf:connect": the perf buffer instead of the ring buffer; "unfiltered:connect": with
# --no-seccomp; output "file" or "null";
# workload "storm", "inflight" or "icmp".
cases=("none - - storm" "connect/file connect file storm" "connect/null connect null storm"
	"accept/file accept file storm" "accept/null accept null storm"
	"both/file connect+accept file storm" "serve serve null storm"
	"connect/perf perf:connect file storm" "connect/unfiltered unfiltered:connect file storm"
	"none/inflight - - inflight"
	"connect/inflight connect file inflight" "none/icmp - - icmp"
	"connect/icmp connect file icmp")
[ -n "$quick" ] && cases=("connect/file connect file storm" "both/file connect+accept file storm"
	"serve serve null storm")
[ -n "$other" ] && cases+=("other:connect/file other:connect file storm"
	"other:connect/inflight other:connect file inflight"
	"other:connect/icmp other:connect file icmp")

# serve's metrics, or a failure.
SERVE_PORT=10099
scrape() { curl -sf -m 5 "http://127.0.0.1:$SERVE_PORT/metrics"; }

if [ -n "$keep" ]; then
	kept=()
	for c in "${cases[@]}"; do
		[[ $keep == *",${c%% *},"* ]] && kept+=("$c")
	done
	cases=("${kept[@]}")
fi

# The workload, in its namespace: prints loadgen's one line.
workload() {
	if [ "$1" = inflight ]; then
		# Two threads, each keeping IN_FLIGHT attempts open: the fds need a higher limit.
		ip netns exec "$ns" bash -c 'ulimit -n $((2 * $1 + 64)) && shift && exec "$@"' _ \
			$IN_FLIGHT "$LOADGEN" $family -t 2 -i -n $IN_FLIGHT -d "$seconds" $DROPPED
	elif [ "$1" = icmp ]; then
		ip netns exec "$ns" "$LOADGEN" $family -t 2 -i -n $REJECTED_IN_FLIGHT -d "$seconds" \
			$REJECTED
	else
		ip netns exec "$ns" "$LOADGEN" $family -t 2 -d "$seconds"
	fi
}

# measure NAME COMMANDS OUTPUT WORKLOAD: one run under those tracers; appends one line to
# the results: name rate lost cpu_us_per_event rss_kib startup_ms delay_p50_ms
# delay_p99_ms extra_lines. Fails, its tracers stopped, when the workload does.
measure() {
	local name=$1 commands=$2 output=$3 kind=$4 pids=() n=0 cmd run rate lost=0 cpu=0 rss=0
	local startup= p50=- p99=- connect_lines
	for cmd in ${commands//+/ }; do
		[ "$cmd" = - ] && continue
		local tcptrace=$BIN/tcptrace run=()
		[ "${cmd#other:}" != "$cmd" ] && tcptrace=$other/tcptrace
		# perf: the events through a perf buffer, the ring buffer refused as before 5.8.
		[ "${cmd#perf:}" != "$cmd" ] &&
			run=(env REFUSE_BPF=ringbuf LD_PRELOAD="${REFUSE_BPF_LIB:-$BIN/tests/refuse_bpf.so}")
		# unfiltered: without the system call filter, for what it costs.
		local extra=()
		[ "${cmd#unfiltered:}" != "$cmd" ] && extra=(--no-seccomp)
		n=$((n + 1))
		local begin=$(date +%s%N)
		if [ "$cmd" = serve ]; then
			# Only the storm's namespace: its count must equal the attempts made.
			"$tcptrace" serve --netns "/run/netns/$ns" --listen "127.0.0.1:$SERVE_PORT" \
				2>"$work/err.$n" &
		elif [ "$output" = file ]; then
			# Through a FIFO, so that $! is the tracer and stamp notes each line's arrival.
			# A file left by an earlier case would pass for this tracer's header.
			rm -f "$work/fifo.$n" "$work/out.$n"
			mkfifo "$work/fifo.$n"
			"$STAMP" <"$work/fifo.$n" >"$work/out.$n" &
			"${run[@]}" "$tcptrace" ${cmd#*:} -t "${extra[@]}" >"$work/fifo.$n" 2>"$work/err.$n" &
		else
			"${run[@]}" "$tcptrace" ${cmd#*:} -t "${extra[@]}" >/dev/null 2>"$work/err.$n" &
		fi
		pids+=($!)
		# Started: the header reached the file (to /dev/null: its programs attached).
		for i in $(seq 400); do
			if [ "$cmd" = serve ]; then
				scrape >/dev/null && break
			elif [ "$output" = file ]; then
				[ -s "$work/out.$n" ] && break
			else
				[ "$(ls /proc/${pids[-1]}/fd 2>/dev/null | wc -l)" -gt 8 ] && break
			fi
			sleep 0.005
		done
		[ "$output" = file ] && startup=$(( ($(date +%s%N) - begin) / 1000000 ))
	done
	run=$(workload "$kind")
	rate=$(sed -n 's/.*rate=\([0-9]*\).*/\1/p' <<<"$run")
	if [ -z "$rate" ]; then
		echo "loadgen failed: $run" >&2
		kill -INT "${pids[@]}" 2>/dev/null
		wait
		return 1
	fi
	# Every connect() loadgen made is one line of tcptrace connect.
	local made=$(sed -n 's/.* attempts=\([0-9]*\).*/\1/p' <<<"$run")
	local loadgen_pid=$(sed -n 's/.*pid=\([0-9]*\).*/\1/p' <<<"$run")
	sleep 0.1
	# serve: the attempts it counted, scraped before it stops.
	[ "$commands" = serve ] && connect_lines=$(scrape | awk \
		'/^tcptrace_connect_attempts_total/ { s += $NF } END { print s + 0 }')
	for i in "${!pids[@]}"; do
		local stat=($(cat /proc/${pids[$i]}/stat))
		cpu=$((cpu + (stat[13] + stat[14]) * 1000000 / ticks))
		local hwm=$(awk '/VmHWM/ { print $2 }' /proc/${pids[$i]}/status)
		[ "$hwm" -gt "$rss" ] && rss=$hwm
		kill -INT ${pids[$i]}
	done
	wait
	local connect_runs=0 i=0
	[ "$commands" = serve ] && connect_runs=1 || connect_lines=0
	for cmd in ${commands//+/ }; do
		[ "$cmd" = - ] && continue
		i=$((i + 1))
		if [ "$output" = file ] && [ "${cmd#other:}" = connect ]; then
			connect_runs=1
			connect_lines=$(awk -v p="$loadgen_pid" 'NR > 1 && $3 == p' "$work/out.$i" | wc -l)
		fi
		grep -h ' lost (' "$work/err.$i" | sed "s|^|$cmd: |" >>"$work/losses"
		# Reports are running totals: the last of each kind counts.
		lost=$((lost + $(awk -F'[()]' '/ lost \(/ { split($2, n, " "); total[$3] = n[1] }
			END { for (k in total) s += total[k]; print s + 0 }' "$work/err.$i")))
	done
	# Every attempt loadgen made has one connect line: a missing one was lost, reported or
	# not; one too many was taken twice. (Accept has no such count: the storm's last
	# connections are never accepted.)
	local extra=0
	if [ "$connect_runs" = 1 ] && [ "$connect_lines" -lt "$made" ]; then
		lost=$((lost > made - connect_lines ? lost : made - connect_lines))
	elif [ "$connect_runs" = 1 ]; then
		extra=$((connect_lines - made))
	fi
	if [ "$output" = file ]; then
		# Delay: when a line arrived, against its TIME(s) from the header's arrival.
		read -r p50 p99 < <(awk -v p="$loadgen_pid" 'NR == 1 { t0 = $1; next } $3 == p {
				d = ($1 - t0) / 1e6 - $2 * 1000; print (d < 0 ? 0 : d) }' "$work/out.1" |
			sort -n | awk '{ v[NR] = $1 } END { if (NR) printf "%.1f %.1f\n", v[int(NR * 0.5) + 1], v[int(NR * 0.99) + 1]; else print "- -" }')
	fi
	local per_event=-
	[ "$made" -gt 0 ] && [ "$n" -gt 0 ] && per_event=$(awk -v c=$cpu -v e=$((made * n)) 'BEGIN { printf "%.2f", c / e }')
	echo "$name $rate $lost $per_event $rss ${startup:--} $p50 $p99 $extra" >>"$work/results"
}

# Each round runs the cases in a new random order, so that no case always follows the
# same one (the teardown of thousands of in-flight sockets, a tracer's detach), and each
# run starts on a machine that settled for a moment, longer after the in-flight case.
for round in $(seq "$rounds"); do
	for i in $(seq 0 $((${#cases[@]} - 1)) | shuf); do
		read -r name commands output kind <<<"${cases[$i]}"
		measure "$name" "$commands" "$output" "$kind" || exit 1
		[ "$kind" = inflight ] && sleep 1.5 || sleep 0.5
	done
done

median() {
	sort -n | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : "-") }'
}
baseline() { awk -v n="$1" '$1 == n { print $2 }' "$work/results" | median; }
echo "$(nproc) CPUs, Linux $(uname -r), $([ -n "$family" ] && echo IPv6 || echo IPv4), $rounds round(s) of ${seconds} s"
printf "%-22s %9s %9s %6s %11s %8s %10s %9s %9s\n" CASE "RATE/S" OVERHEAD LOST "CPU/EVENT" "RSS" STARTUP "DELAY50" "DELAY99"
printf "%-22s %9s %9s %6s %11s %8s %10s %9s %9s\n" "" "" "" "" "(us)" "(KiB)" "(ms)" "(ms)" "(ms)"
total_lost=0 total_extra=0
for c in "${cases[@]}"; do
	read -r name _ _ kind <<<"$c"
	col() { awk -v n="$name" -v c=$1 '$1 == n { print $c }' "$work/results" | median; }
	rate=$(col 2)
	lost=$(awk -v n="$name" '$1 == n { s += $3 } END { print s + 0 }' "$work/results")
	total_lost=$((total_lost + lost))
	total_extra=$((total_extra + $(awk -v n="$name" '$1 == n { s += $9 } END { print s + 0 }' "$work/results")))
	base=$(baseline "$([ "$kind" = storm ] && echo none || echo "none/$kind")")
	overhead=-
	[ -n "$base" ] && [ "$base" != - ] && [ "${name%%/*}" != none ] &&
		overhead=$(awk -v b=$base -v r=$rate 'BEGIN { printf "%.1f%%", (b - r) * 100 / b }')
	printf "%-22s %9s %9s %6s %11s %8s %10s %9s %9s\n" "$name" "$rate" "$overhead" "$lost" \
		"$(col 4)" "$(col 5)" "$(col 6)" "$(col 7)" "$(col 8)"
done
echo "events lost: $total_lost"
[ -s "$work/losses" ] && sort "$work/losses" | uniq -c
[ "$total_extra" = 0 ] || echo "lines beyond the attempts made (taken twice): $total_extra"
[ -z "$quick" ] || [ "$total_lost" = 0 ] && [ "$total_extra" = 0 ]
