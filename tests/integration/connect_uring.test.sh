#!/usr/bin/env bash
# io_uring connects (IORING_OP_CONNECT) run in a thread of the ring: an io-wq worker
# (iou-wrk-N) with IOSQE_ASYNC, the polling thread (iou-sqp-N) with SQPOLL. PID and
# COMM are the process's, as for any other connect, over veth and on loopback.
. "$(dirname "$0")/lib.sh"

ns_pair
ns_add loop
server_start server $SERVER4 ur-srv4
port4=$server_port
server_start server $SERVER6 ur-srv6
port6=$server_port
server_start loop 127.0.0.1 ur-srvlo
portlo=$server_port

tracer_start connect -x
attempts=()
for mode in async sqpoll; do
	peer client -c ur-$mode-4 -U $mode $SERVER4 $port4
	attempts+=("$peer_lines ESTABLISHED")
	peer client -c ur-$mode-6 -U $mode $SERVER6 $port6
	attempts+=("$peer_lines ESTABLISHED")
	peer loop -c ur-$mode-lo -U $mode 127.0.0.1 $portlo
	attempts+=("$peer_lines ESTABLISHED")
	peer loop -c ur-$mode-ref -U $mode 127.0.0.1 9
	attempts+=("${peer_lines/saddr=-/saddr=127.0.0.1} ECONNREFUSED")
done
# A process that names itself like a worker is no worker: it keeps its name.
peer loop -c iou-wrk-1 127.0.0.1 $portlo
attempts+=("$peer_lines ESTABLISHED")
tracer_stop

expect_attempts "${attempts[@]}"
expect_eq "no worker's name but the impostor's" 1 "$(grep -c 'iou-' "$work/trace.out")"
expect_eq "lines traced" 9 "$(our_rows)"
finish
