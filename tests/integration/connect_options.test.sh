#!/usr/bin/env bash
# Options and names: -p PID (in the kernel, with another process connecting meanwhile),
# min_ms, -t (the time of the answer), -L, and the tcpconnect / tcpconnlat symlinks with
# the default columns.
. "$(dirname "$0")/lib.sh"

ns_add loop
DROPPED=19
peers=()
drop_port loop $DROPPED
server_start loop 127.0.0.1
port=$server_port

echo "== -p: two processes connect at the same time, one is traced"
# Both wait on one barrier, so that their attempts interleave; the traced one's PID is
# known before it connects (the shell execs the peer).
for name in chosen other; do
	in_ns loop bash -c "echo \$\$ >'$work/$name.pid'; while [ ! -e '$work/go' ]; do sleep 0.01; done
		exec '$TCP_PEER' connect -c $name -r 10 -i 20 127.0.0.1 $port" >"$work/$name.out" &
	background+=($!)
	peers+=($!)
done
while [ ! -s "$work/chosen.pid" ] || [ ! -s "$work/other.pid" ]; do sleep 0.02; done
chosen_pid=$(cat "$work/chosen.pid")
# A second tracer, unfiltered, beside the first: it shows the attempts interleaved.
"$TCPTRACE_BIN_DIR/tcptrace" connect >"$work/all.out" 2>/dev/null &
all_pid=$!
background+=($all_pid)
wait_for_line "$work/all.out" . $all_pid || die "second tracer did not start"
tracer_start connect -x -p "$chosen_pid"
touch "$work/go"
wait "${peers[@]}"
tracer_stop
kill -INT $all_pid
wait $all_pid
expect_eq "traced lines" 10 "$(trace_rows | grep -c .)"
expect_eq "lines of the chosen PID" 10 "$(trace_rows PID="$chosen_pid" COMM=chosen | grep -c .)"
expect_eq "lines of the other process" 0 "$(trace_rows COMM=other | grep -c .)"
for sport in $(sed -n 's/.*sport=\([0-9]*\).*/\1/p' "$work/chosen.out"); do
	the_row SPORT="$sport" && expect_row PID "$chosen_pid" DPORT "$port" RESULT ESTABLISHED
done
# They did overlap: in the unfiltered trace, the two alternate more than once.
switches=$(awk '$2 == "chosen" || $2 == "other" { if (last && $2 != last) n++; last = $2 }
	END { print n + 0 }' "$work/all.out")
expect_between "alternations between the two processes" 2 1000 "$switches"

echo "== min_ms: only attempts that took at least 50 ms"
tracer_start connect -x 50
peer loop -c fast 127.0.0.1 $port
fast=$peer_lines
peer loop -c slow -a 100 127.0.0.1 $DROPPED
slow=$peer_lines
tracer_stop
expect_eq "fast attempt filtered" 0 "$(trace_rows COMM=fast | grep -c .)"
peer_lines=$slow
expect_attempt ABANDONED 100 200
expect_eq "lines traced" 1 "$(our_rows)"

echo "== -t, -T: TIME(s) and TIME are when the answer came, not when connect() began"
tracer_start connect -t -T -L
peer loop -c first 127.0.0.1 $port
first=$peer_lines
peer loop -c second -a 300 127.0.0.1 $DROPPED
tracer_stop
expect_eq "header" "TIME(s)   TIME     PID     COMM             IP SADDR                                   LPORT DADDR                                   DPORT LAT(ms)" \
	"$(head -n 1 "$work/trace.out")"
the_row COMM=first && first_time=$(kv 'TIME(s)' "$row") &&
	expect_row LPORT "$(kv sport "$first")" PID "$(kv pid "$first")"
the_row COMM=second && second_time=$(kv 'TIME(s)' "$row") &&
	expect_row LPORT "$(kv sport "$peer_lines")" DPORT $DROPPED
# -T: the same moment on the wall clock, HH:MM:SS, within two seconds of now.
clock=$(kv TIME "$row")
expect_match "TIME is HH:MM:SS" '^[0-2][0-9]:[0-5][0-9]:[0-5][0-9]$' "$clock"
now=$(date +%T)
drift=$(( (10#${now:0:2} * 3600 + 10#${now:3:2} * 60 + 10#${now:6:2}) -
	(10#${clock:0:2} * 3600 + 10#${clock:3:2} * 60 + 10#${clock:6:2}) ))
expect_between "TIME against the wall clock (s)" 0 2 "${drift#-}"
expect_between "second answer after first" 0.3 10 \
	"$(awk -v a="$first_time" -v b="$second_time" 'BEGIN { printf "%.3f", b - a }')"

for name in tcpconnect tcpconnlat; do
	echo "== $name: the symlink traces like tcptrace connect, default columns"
	tracer_start $name
	peer loop -c "via-$name" 127.0.0.1 $port
	tracer_stop
	expect_eq "$name header" "PID     COMM             IP SADDR                                   DADDR                                   DPORT LAT(ms)" \
		"$(head -n 1 "$work/trace.out")"
	the_row COMM="via-$name" && expect_row PID "$(kv pid "$peer_lines")" IP 4 \
		SADDR 127.0.0.1 DADDR 127.0.0.1 DPORT "$port"
	expect_between "LAT(ms)" 0.001 "$(ms_of "$(kv elapsed_us "$peer_lines")")" \
		"$(kv 'LAT(ms)' "$row")"
done
finish
