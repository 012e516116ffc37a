#!/usr/bin/env bash
# accept's filters and columns: -p (in the kernel, with another server accepting at the
# same time), -P with a list of ports, -t, -T, and the tcpaccept symlink.
. "$(dirname "$0")/lib.sh"

ns_add loop

echo "== -p: two servers accept at the same time, one is traced"
server_start loop 127.0.0.1 srv-chosen -n 5
chosen=$server_out chosen_port=$server_port chosen_pid=$server_pid
server_start loop 127.0.0.1 srv-other -n 5
other=$server_out other_port=$server_port
tracer_start accept -p "$chosen_pid"
in_ns loop "$TCP_PEER" connect -c cli-a -r 5 -i 20 127.0.0.1 $chosen_port >/dev/null &
background+=($!)
in_ns loop "$TCP_PEER" connect -c cli-b -r 5 -i 20 127.0.0.1 $other_port >/dev/null &
background+=($!)
wait_accepts "$chosen" 5
wait_accepts "$other" 5
tracer_stop
expect_eq "lines" 5 "$(trace_rows | grep -c .)"
expect_eq "lines of the other server" 0 "$(trace_rows COMM=srv-other | grep -c .)"
while read -r line; do
	expect_accepted "$line"
done < <(grep '^accept ' "$chosen")

echo "== -P 80,8080: only those local ports"
for port in 80 8080 8081; do
	ip netns exec "$(ns_name loop)" "$TCP_PEER" listen -c "srv-$port" -n 1 127.0.0.1 $port \
		>"$work/srv.$port" &
	background+=($!)
	wait_for_line "$work/srv.$port" '^listening' $! || die "server on port $port"
done
tracer_start accept -P 80,8080
for port in 80 8080 8081; do
	peer loop 127.0.0.1 $port
	wait_accepts "$work/srv.$port" 1
done
tracer_stop
for port in 80 8080; do
	expect_accepted "$(grep '^accept ' "$work/srv.$port")"
done
expect_eq "lines for port 8081" 0 "$(trace_rows LPORT=8081 | grep -c .)"
expect_eq "lines" 2 "$(trace_rows | grep -c .)"

echo "== -t -T through the tcpaccept symlink"
server_start loop ::1 srv-time -n 1
started=$(date +%s.%N)
tracer_start tcpaccept -t -T
peer loop ::1 $server_port
wait_accepts "$server_out" 1
accepted_at=$(date +%s)
ran_for=$(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "%.3f", e - s }')
tracer_stop
expect_eq "header" "TIME(s)   TIME     PID     COMM             IP RADDR                                   RPORT LADDR                                   LPORT" \
	"$(head -n 1 "$work/trace.out")"
expect_accepted "$(grep '^accept ' "$server_out")" &&
	expect_between "TIME(s)" 0 "$ran_for" "$(kv 'TIME(s)' "$row")"
clock=$(kv TIME "$row")
expect_match "TIME is HH:MM:SS" '^[0-2][0-9]:[0-5][0-9]:[0-5][0-9]$' "$clock"
# Within two seconds of the wall clock when the server reported the accept.
seconds_of_day() { echo $((10#${1:0:2} * 3600 + 10#${1:3:2} * 60 + 10#${1:6:2})); }
drift=$(($(seconds_of_day "$(date -d "@$accepted_at" +%T)") - $(seconds_of_day "$clock")))
expect_between "TIME against the wall clock (s)" 0 2 "${drift#-}"
finish
