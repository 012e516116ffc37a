#!/usr/bin/env bash
# Who connected: a non-blocking connect() (EINPROGRESS, answered later in softirq), and
# a connect() from a second thread: PID is the process, COMM the thread's own name.
. "$(dirname "$0")/lib.sh"

ns_pair
server_start server $SERVER4
port4=$server_port
server_start server $SERVER6
port6=$server_port

tracer_start connect -x
peer client -c nonblock4 -N $SERVER4 $port4
nonblock4=$peer_lines
peer client -c nonblock6 -N $SERVER6 $port6
nonblock6=$peer_lines
peer client -c worker -t $SERVER4 $port4
thread=$peer_lines
tracer_stop

for peer_lines in "$nonblock4" "$nonblock6"; do
	expect_attempt ESTABLISHED
done
peer_lines=$thread
[ "$(kv pid "$thread")" != "$(kv tid "$thread")" ] || fail "the peer did not use a second thread"
# expect_attempt checks PID against the peer's pid (not its tid) and COMM against the
# thread's name (the process's main thread is still called tcp_peer).
expect_attempt ESTABLISHED
expect_eq "lines traced" 3 "$(our_rows)"
finish
