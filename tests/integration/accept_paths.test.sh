#!/usr/bin/env bash
# The other ways a connection is accepted: io_uring with IOSQE_ASYNC (an io_uring worker
# thread accepts: named after the process), multishot (one request, one completion per
# connection, without the request), into the ring's own file table (no descriptor: not
# reported), and an MPTCP listener (its own accept queue holds nothing: BACKLOG "-").
. "$(dirname "$0")/lib.sh"

ns_add loop

# uring MODE COUNT: a uring_accept server in the namespace; sets uring_out and uring_port.
uring() {
	uring_out="$work/uring.$1"
	in_ns loop "$URING_ACCEPT" -c "srv-$1" -m "$1" 127.0.0.1 0 "$2" >"$uring_out" &
	background+=($!)
	wait_for_line "$uring_out" '^listening' $! || die "uring_accept -m $1 did not start"
	uring_port=$(kv port "$(head -n 1 "$uring_out")")
}

uring async 1
async_out=$uring_out async_port=$uring_port
uring direct 1
direct_out=$uring_out direct_port=$uring_port
server_start loop 127.0.0.1 srv-mptcp -M
mptcp_out=$server_out mptcp_port=$server_port

tracer_start accept -x
# Submitted after tracing started: a multishot request's completions come without it,
# and only its submission tells that they are accepts.
uring multishot 3
multishot_out=$uring_out multishot_port=$uring_port
peer loop -c cli 127.0.0.1 $async_port
peer loop -c cli -r 3 127.0.0.1 $multishot_port
peer loop -c cli 127.0.0.1 $direct_port
peer loop -c cli 127.0.0.1 $mptcp_port
wait_accepts "$async_out" 1
wait_accepts "$multishot_out" 3
wait_accepts "$direct_out" 1
wait_accepts "$mptcp_out" 1
tracer_stop

for out in "$async_out" "$multishot_out"; do
	while read -r line; do
		the_row RPORT="$(kv rport "$line")" LPORT="$(kv lport "$line")" &&
			expect_row PID "$(kv pid "$line")" COMM "$(kv comm "$line")" IP 4 \
				RADDR 127.0.0.1 LADDR 127.0.0.1 UID 0 &&
			expect_match "BACKLOG, from the listener" '^[0-2]/16$' "$(kv BACKLOG "$row")"
	done < <(grep '^accept ' "$out")
done
expect_eq "multishot lines" 3 "$(trace_rows COMM=srv-multishot | grep -c .)"
expect_eq "the direct accept worked" 0 "$(kv result "$(grep '^accept ' "$direct_out")")"
expect_eq "direct accepts reported" 0 "$(trace_rows LPORT=$direct_port | grep -c .)"
line=$(grep '^accept ' "$mptcp_out")
expect_accepted "$line" && expect_row BACKLOG - UID 0
finish
