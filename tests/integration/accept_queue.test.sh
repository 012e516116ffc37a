#!/usr/bin/env bash
# -x: how long each connection waited in the accept queue, the listener's backlog when
# it was accepted, and the accepting process's UID. Three connections are queued at
# once; the server (backlog 7, running as an unprivileged user) waits 300 ms before each
# accept(), so they wait about 300, 600 and 900 ms, leaving 2, 1, then 0 behind them.
. "$(dirname "$0")/lib.sh"

WAIT_MS=300
# The measured error is a fraction of a millisecond; 20 ms absorbs a loaded CI machine.
SLACK_MS=20
ns_add loop
# The server runs as nobody: a copy of the peer it can execute, wherever the build is.
mkdir -m 755 "$work/bin"
chmod 755 "$work"
cp "$TCP_PEER" "$work/bin/"
nobody_uid=$(id -u nobody)
server_out="$work/server.out"
ip netns exec "$(ns_name loop)" setpriv --reuid=nobody --regid=nogroup --clear-groups \
	"$work/bin/tcp_peer" listen -c queued-srv -b 7 -W $WAIT_MS -n 3 127.0.0.1 0 >"$server_out" &
background+=($!)
wait_for_line "$server_out" '^listening' $! || die "server did not start"
port=$(kv port "$(head -n 1 "$server_out")")

tracer_start accept -x
peer loop -c client -r 3 127.0.0.1 $port
wait_accepts "$server_out" 3
tracer_stop

expect_eq "header" "PID     COMM             IP RADDR                                   RPORT LADDR                                   LPORT UID    QUEUED(ms) BACKLOG" \
	"$(head -n 1 "$work/trace.out")"
i=0
while read -r line; do
	i=$((i + 1))
	expect_accepted "$line" || continue
	expect_row UID "$nobody_uid" BACKLOG "$((3 - i))/7"
	queued=$(kv 'QUEUED(ms)' "$row")
	expect_between "QUEUED(ms) of connection $i" $((WAIT_MS * i)) $((WAIT_MS * i + SLACK_MS)) "$queued"
	echo "measured: connection $i queued $queued ms for $((WAIT_MS * i)) ms of server sleep"
done < <(grep '^accept ' "$server_out")
# The first was queued when the server woke: its own measure of the wait is the same.
first=$(grep -m 1 '^accept ' "$work/server.out")
the_row RPORT="$(kv rport "$first")" &&
	expect_between "QUEUED(ms) against the server's own measure" \
		"$(ms_of $(($(kv waited_us "$first") - 2000)))" "$(ms_of $(($(kv waited_us "$first") + 2000)))" \
		"$(kv 'QUEUED(ms)' "$row")"
echo "== queued before tracing started: its wait is unknown, its backlog is not"
server_out="$work/early.out"
ip netns exec "$(ns_name loop)" "$TCP_PEER" listen -c early-srv -W 1500 -n 1 127.0.0.1 0 \
	>"$server_out" &
background+=($!)
wait_for_line "$server_out" '^listening' $! || die "server did not start"
early_port=$(kv port "$(head -n 1 "$server_out")")
peer loop -c early 127.0.0.1 $early_port
tracer_start accept -x
wait_accepts "$server_out" 1
tracer_stop
expect_accepted "$(grep '^accept ' "$server_out")" && expect_row 'QUEUED(ms)' - BACKLOG 0/128

finish
