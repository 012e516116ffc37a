#!/usr/bin/env bash
# -A: every attach method this kernel offers (tp_btf, raw_tp, tracepoint) reports the
# same connections with the same fields, for connect and for accept; -v names the
# method each probe got.
. "$(dirname "$0")/lib.sh"

ns_add loop
for method in tp_btf raw_tp tracepoint; do
	echo "== connect -A $method"
	server_start loop 127.0.0.1 srv4
	port4=$server_port
	server_start loop ::1 srv6
	port6=$server_port
	tracer_start connect -x -A $method
	peer loop -c cli4 127.0.0.1 $port4
	established4=$peer_lines
	peer loop -c cli6 ::1 $port6
	established6=$peer_lines
	peer loop -c refused -N 127.0.0.1 9
	refused=$peer_lines
	tracer_stop
	for peer_lines in "$established4" "$established6"; do
		expect_attempt ESTABLISHED
	done
	peer_lines=$refused
	expect_attempt ECONNREFUSED

	echo "== accept -A $method"
	server_start loop 127.0.0.1 acc-srv -W 100 -n 1
	tracer_start accept -x -f -v -A $method
	peer loop -c acc-cli 127.0.0.1 $server_port
	peer loop -c acc-refused 127.0.0.1 9
	acc_refused=$peer_lines
	wait_accepts "$server_out" 1
	kill -INT $tracer_pid
	wait $tracer_pid
	expect_eq "accept -A $method exit status" 0 $?
	tracer_pid=
	expect_accepted "$(grep '^accept ' "$server_out")" && expect_row RESULT ACCEPTED BACKLOG 0/128 &&
		expect_between "QUEUED(ms)" 100 1000 "$(kv 'QUEUED(ms)' "$row")"
	the_row RPORT="$(kv sport "$acc_refused")" LPORT=9 && expect_row PID - RESULT REFUSED
	expect_eq "-v: the kernel" 1 "$(grep -c "^tcptrace: kernel $(uname -r) $(uname -m)$" "$work/trace.err")"
	for probe in accept_queue accept_failed_drop; do
		suffix=$(case $method in tp_btf) echo btf ;; raw_tp) echo raw ;; *) echo tp ;; esac)
		expect_eq "-v: $probe attached as $method" 1 \
			"$(grep -c "^tcptrace: attached ${probe}_$suffix: " "$work/trace.err")"
	done
done
finish
