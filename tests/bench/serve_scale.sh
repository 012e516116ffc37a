#!/usr/bin/env bash
# tests/bench/serve_scale.sh [-n SERIES]: what serve's scrapes cost as its series grow.
# Refused connects to SERIES distinct ports (with --label dport, a series each) fill
# serve's table; then ten scrapes are timed with curl, and serve's RSS read, at 0 and at
# SERIES series. Timings are printed, never judged.
set -u
. "$(dirname "$0")/common.sh"
series=10000
while getopts "n:" opt; do
	case $opt in
	n) series=$OPTARG ;;
	*) echo "usage: serve_scale.sh [-n SERIES]" >&2; exit 2 ;;
	esac
done
bench_setup serve-scale
PORT=10098
"$BIN/tcptrace" serve --netns "/run/netns/$ns" --listen "127.0.0.1:$PORT" --label dport \
	--max-series $((series + 100)) 2>"$work/err" &
serve=$!
url=http://127.0.0.1:$PORT/metrics
for i in $(seq 100); do curl -sf -o /dev/null "$url" && break; sleep 0.05; done

# measure LABEL: the median of ten scrapes' times, their size, and serve's RSS.
measure() {
	local times
	times=$(for i in $(seq 10); do curl -sf -o "$work/scrape" -w '%{time_total}\n' "$url"; done |
		sort -n | sed -n 5p)
	printf "%-14s %8s %10s %12s %10s\n" "$1" \
		"$(grep -c '^tcptrace_connect_attempts_total{' "$work/scrape")" \
		"$(awk -v t="$times" 'BEGIN { printf "%.2f", t * 1000 }')" \
		"$(stat -c %s "$work/scrape")" "$(awk '/VmRSS/ { print $2 }' /proc/$serve/status)"
}
printf "%-14s %8s %10s %12s %10s\n" CASE SERIES "SCRAPE(ms)" "BYTES" "RSS(KiB)"
measure empty
# Each refused connect to another port is a series of its own.
ip netns exec "$ns" python3 -c '
import socket, sys
for port in range(1, int(sys.argv[1]) + 1):
    s = socket.socket()
    try:
        s.connect(("127.0.0.1", port))
    except OSError:
        pass
    s.close()' "$series"
sleep 0.5
measure "$series ports"
kill -INT $serve
wait $serve
