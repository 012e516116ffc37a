#!/usr/bin/env bash
# -f: passive attempts that never reach accept(). A SYN to a port nobody listens on is
# REFUSED (the kernel answers RST); a handshake completed by the peer while the accept
# queue is full is DROPPED. Neither has a process: PID, COMM and UID are "-". Without
# -f, neither is shown.
. "$(dirname "$0")/lib.sh"

CLOSED=9 QUEUE=5
ns_add loop
# Backlog 1 holds two connections; this server never accepts.
server_start loop 127.0.0.1 srv-full -b 1 -H
full_port=$server_port

echo "== -P: only the listed ports' refused attempts"
tracer_start accept -f -P 7,8
peer loop -c refused-other 127.0.0.1 $CLOSED
tracer_stop
expect_eq "lines for a port not in -P" 0 "$(trace_rows | grep -c .)"

echo "== without -f: nothing but accepted connections"
tracer_start accept
peer loop -c refused-quiet 127.0.0.1 $CLOSED
tracer_stop
expect_eq "lines without -f" 0 "$(trace_rows | grep -c .)"

tracer_start accept -f
peer loop -c refused4 127.0.0.1 $CLOSED
refused4=$peer_lines
peer loop -c refused6 ::1 $CLOSED
refused6=$peer_lines

overflow_accept_queue loop $full_port $QUEUE
tracer_stop

expect_eq "header" "PID     COMM             IP RADDR                                   RPORT LADDR                                   LPORT RESULT" \
	"$(head -n 1 "$work/trace.out")"
the_row RPORT="$(kv sport "$refused4")" LPORT=$CLOSED &&
	expect_row PID - COMM - IP 4 RADDR 127.0.0.1 LADDR 127.0.0.1 RESULT REFUSED
the_row RPORT="$(kv sport "$refused6")" LPORT=$CLOSED &&
	expect_row PID - COMM - IP 6 RADDR ::1 LADDR ::1 RESULT REFUSED
dropped=$(trace_rows LPORT=$full_port RESULT=DROPPED)
echo "$dropped"
# The kernel gives that drop a reason of its own since Linux 6.15.
if bpftool btf dump file /sys/kernel/btf/vmlinux 2>/dev/null | grep -q 'SKB_DROP_REASON_TCP_LISTEN_OVERFLOW'; then
	expect_between "handshakes dropped on the full queue" 1 10 "$(printf '%s' "$dropped" | grep -c .)"
	row=$(head -n 1 <<<"$dropped")
	expect_row PID - COMM - IP 4 RADDR 127.0.0.1 LADDR 127.0.0.1
else
	echo "this kernel gives the accept queue's overflow no drop reason: DROPPED not checked"
	expect_eq "DROPPED lines where the kernel cannot tell" "" "$dropped"
fi
expect_eq "other lines" 0 "$(trace_rows | grep -vc -e RESULT=DROPPED -e RESULT=REFUSED)"
finish
