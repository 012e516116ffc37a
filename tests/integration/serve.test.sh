#!/usr/bin/env bash
# serve as a user meets it with curl: the two paths, HEAD, 404 and 405; exact counts of
# known connects and accepts, with their labels (result, lport, the unit, opt-in peers);
# the series limit; a scrape while a storm runs; abusive clients (a thousand idle ones,
# slow ones, junk) that neither delay a scrape past a second nor lose an event; a port
# already taken; SIGTERM and SIGHUP.
. "$(dirname "$0")/lib.sh"

ns_add loop
netns="/run/netns/$(ns_name loop)"
server_start loop 127.0.0.1 serve-srv
CLOSED=9

# serve_stop SIGNAL: serve (lib.sh's serve_start) must exit 0, its port closed.
serve_stop() {
	kill "-$1" "$tracer_pid"
	wait "$tracer_pid"
	expect_eq "exit status on SIG$1" 0 $?
	tracer_pid=
	curl -s -m 2 "http://127.0.0.1:$port/metrics" >/dev/null
	expect_eq "curl after SIG$1: connection refused" 7 $?
}
scrape() {
	curl -sf -m 5 "http://127.0.0.1:$port/metrics" >"$work/metrics" || die "scrape failed"
}
# metric SERIES: its value in the last scrape (name and labels exactly), or "none".
metric() {
	awk -v s="$1" '$1 == s { print $2; found = 1 } END { if (!found) print "none" }' \
		"$work/metrics"
}

echo "== the paths, as curl sees them"
serve_start "$netns"
expect_eq "GET /metrics" "200 text/plain; version=0.0.4; charset=utf-8" \
	"$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "http://127.0.0.1:$port/metrics")"
expect_eq "GET /" "200 text/html; charset=utf-8" \
	"$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "http://127.0.0.1:$port/")"
expect_match "/ links to /metrics" 'href="/metrics"' "$(curl -s "http://127.0.0.1:$port/")"
expect_eq "HEAD /metrics: no body" "200 0" \
	"$(curl -s -I -o /dev/null -w '%{http_code} %{size_download}' "http://127.0.0.1:$port/metrics")"
expect_eq "GET /other" 404 \
	"$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/other")"
expect_eq "POST /metrics" 405 \
	"$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/metrics")"
expect_eq "POST /metrics with a body" 405 \
	"$(curl -s -o /dev/null -w '%{http_code}' -d x "http://127.0.0.1:$port/metrics")"
expect_eq "GET /metrics with a body: closed, unanswered" 000 \
	"$(curl -s -o /dev/null -w '%{http_code}' -X GET -d x "http://127.0.0.1:$port/metrics")"
expect_eq "405's Allow" "Allow: GET, HEAD" \
	"$(curl -s -D - -o /dev/null -X DELETE "http://127.0.0.1:$port/metrics" | tr -d '\r' |
		grep -i '^allow:')"

echo "== known counts: 5 established, 2 refused; 5 accepted"
peer loop -c srv-ok -r 5 -i 10 127.0.0.1 "$server_port"
peer loop -c srv-refused -r 2 -i 10 127.0.0.1 $CLOSED
wait_accepts "$server_out" 5
scrape
# The test's processes are in whatever cgroup runs it: their unit labels are matched
# loosely, and summed.
sum() { awk -v p="$1" 'index($1, p) == 1 { s += $2 } END { print s + 0 }' "$work/metrics"; }
expect_eq "attempts, ESTABLISHED" 5 "$(sum 'tcptrace_connect_attempts_total{result="ESTABLISHED"')"
expect_eq "attempts, ECONNREFUSED" 2 "$(sum 'tcptrace_connect_attempts_total{result="ECONNREFUSED"')"
expect_eq "latency count" 5 "$(sum 'tcptrace_connect_latency_seconds_count')"
expect_eq "latency +Inf bucket" 5 \
	"$(grep '^tcptrace_connect_latency_seconds_bucket{.*le="+Inf"}' "$work/metrics" |
		awk '{ s += $2 } END { print s + 0 }')"
expect_eq "accepts on the server's port" 5 "$(sum "tcptrace_accepts_total{lport=\"$server_port\"")"
expect_eq "queue wait count" 5 \
	"$(sum "tcptrace_accept_queue_wait_seconds_count{lport=\"$server_port\"")"
expect_eq "no failed accepts without -f" 0 "$(sum 'tcptrace_accept_failed_total')"
expect_eq "nothing lost" 0 "$(sum 'tcptrace_events_lost_total')"
expect_match "build info" '^tcptrace_build_info\{version="[0-9.]+",attach_method="[a-z_]+"\} 1$' \
	"$(grep '^tcptrace_build_info' "$work/metrics")"
for name in process_cpu_seconds_total process_resident_memory_bytes process_open_fds \
	process_max_fds process_start_time_seconds; do
	expect_match "$name" "^$name [0-9.]+\$" "$(grep "^$name " "$work/metrics")"
done
serve_stop TERM

echo "== --bpf-stats: the programs' run time and runs, served while it runs"
stats_before=$(sysctl -n kernel.bpf_stats_enabled)
if [ "$stats_before" = 0 ]; then
	expect_eq "no program statistics without --bpf-stats" "" \
		"$(grep '^tcptrace_bpf_program_runs_total' "$work/metrics")"
fi
serve_start "$netns" --bpf-stats
peer loop -c srv-stats -r 2 -i 10 127.0.0.1 "$server_port"
scrape
runs=$(metric 'tcptrace_bpf_program_runs_total{program="connect_state_btf"}')
echo "connect_state_btf runs: $runs"
expect_between "connect_state_btf ran, counted" 1 1000000000 "$runs"
expect_match "its run time" '^[0-9]+(\.[0-9]+)?$' \
	"$(metric 'tcptrace_bpf_program_run_seconds_total{program="connect_state_btf"}')"
serve_stop TERM
expect_eq "the kernel's statistics as they were, once serve is gone" "$stats_before" \
	"$(sysctl -n kernel.bpf_stats_enabled)"

echo "== -f, --label daddr,dport, a unit label"
serve_start "$netns" -f --label daddr,dport
unit=tt-serve-$$.service
cgroup2=$(findmnt -n -t cgroup2 -o TARGET | head -n 1)
mkdir "$cgroup2/$unit"
# The client runs in a cgroup named like a unit; the cgroup goes when the test does.
cleanup_unit() { rmdir "$cgroup2/$unit" 2>/dev/null; }
trap 'cleanup_unit; cleanup' EXIT
bash -c 'echo $$ >"$1/cgroup.procs" && exec ip netns exec "$2" "$3" connect -c srv-unit -r 3 -i 10 127.0.0.1 "$4"' \
	_ "$cgroup2/$unit" "$(ns_name loop)" "$TCP_PEER" "$server_port" >/dev/null ||
	die "the client in $unit failed"
in_ns loop "$TCP_PEER" connect -c srv-refused 127.0.0.1 $CLOSED >/dev/null
scrape
grep '^tcptrace_connect_attempts_total' "$work/metrics"
expect_eq "attempts of $unit, with the peer's labels" 3 \
	"$(metric "tcptrace_connect_attempts_total{result=\"ESTABLISHED\",daddr=\"127.0.0.1\",dport=\"$server_port\",unit=\"$unit\"}")"
expect_eq "a refused SYN, with -f" 1 \
	"$(metric "tcptrace_accept_failed_total{result=\"REFUSED\",lport=\"$CLOSED\"}")"
# A full accept queue drops a handshake.
QUEUE=6
server_start loop 127.0.0.1 srv-full -b 1 -H
full_port=$server_port
overflow_accept_queue loop $full_port $QUEUE
scrape
overflow_stop loop $full_port $QUEUE
dropped=$(metric "tcptrace_accept_failed_total{result=\"DROPPED\",lport=\"$full_port\"}")
if bpftool btf dump file /sys/kernel/btf/vmlinux 2>/dev/null | grep -q 'SKB_DROP_REASON_TCP_LISTEN_OVERFLOW'; then
	expect_between "handshakes dropped on the full queue" 1 10 "$dropped"
else
	echo "this kernel gives the accept queue's overflow no drop reason: DROPPED not checked"
fi
serve_stop HUP

echo "== --max-series: beyond it, other"
# Room for one series: the first refused attempt's. The two others, to other ports, fold.
serve_start "$netns" --max-series 1 --label daddr,dport
for closed in $CLOSED 10 11; do
	in_ns loop "$TCP_PEER" connect -c srv-refused 127.0.0.1 $closed >/dev/null
done
scrape
expect_eq "the first port's attempt" 1 \
	"$(sum "tcptrace_connect_attempts_total{result=\"ECONNREFUSED\",daddr=\"127.0.0.1\",dport=\"$CLOSED\"")"
expect_eq "the others', as other" 2 \
	"$(metric 'tcptrace_connect_attempts_total{result="ECONNREFUSED",daddr="other",dport="other",unit="other"}')"
expect_eq "events folded" 2 "$(metric tcptrace_series_folded_total)"
# "other" series are made past the limit: one per metric and result at most.
expect_eq "series held: the first, and other" 2 "$(metric tcptrace_series)"
serve_stop INT

echo "== a scrape while a storm runs, and abusive clients: nothing lost, every scrape answered"
serve_start "$netns"
in_ns loop "$LOADGEN" -t 2 -d 4 >"$work/storm.out" &
storm=$!
background+=($storm)
python3 "$SOURCE_DIR/tests/helpers/http_abuse.py" 127.0.0.1 "$port" all 1000 --seconds 4 \
	>"$work/abuse.out" 2>&1
abuse_status=$?
cat "$work/abuse.out"
expect_eq "scrapes all answered (within 5 s), under abuse" 0 "$abuse_status"
wait $storm
cat "$work/storm.out"
made=$(kv attempts "$(cat "$work/storm.out")")
sleep 0.2
scrape
expect_eq "every attempt of the storm counted once" "$made" \
	"$(sum 'tcptrace_connect_attempts_total{')"
# The reader kept up. Runs the kernel skips on a busy CPU (accept's programs have no
# twin) are its own, reported as such: not the HTTP clients' doing.
expect_eq "no event lost to a full ring buffer" 0 \
	"$(metric 'tcptrace_events_lost_total{kind="ring_buffer_full"}')"
expect_eq "no attempt lost from the in-flight map" 0 \
	"$(metric 'tcptrace_events_lost_total{kind="in_flight_evicted"}')"
echo "probe runs the kernel skipped: $(metric 'tcptrace_events_lost_total{kind="probe_runs_skipped"}')"
serve_stop TERM

echo "== a port already taken: one line, exit 1, nothing loaded"
python3 -c 'import socket, time; s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(30)' \
	>"$work/taken" &
background+=($!)
wait_for_line "$work/taken" . $! || die "no listener"
taken=$(cat "$work/taken")
# LeakSanitizer (tests/sanitize) cannot work under strace's ptrace.
ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
	strace -f -qq -e trace=bpf -o "$work/strace" "$TCPTRACE_BIN_DIR/tcptrace" serve \
	--listen "127.0.0.1:$taken" >/dev/null 2>"$work/taken.err"
expect_eq "exit status" 1 $?
expect_eq "the line" "tcptrace: failed to listen on 127.0.0.1:$taken: Address already in use" \
	"$(cat "$work/taken.err")"
expect_eq "no BPF program loaded" 0 "$(grep -c 'BPF_PROG_LOAD' "$work/strace")"

finish
