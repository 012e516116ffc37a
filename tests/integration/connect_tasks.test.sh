#!/usr/bin/env bash
# Who connected: a non-blocking connect() (EINPROGRESS, answered later in softirq), a
# connect() from a second thread (PID is the process, COMM the thread's own name), and
# one by an unprivileged user (UID).
. "$(dirname "$0")/lib.sh"

ns_pair
server_start server $SERVER4
port4=$server_port
server_start server $SERVER6
port6=$server_port

# The unprivileged peer needs a copy it can execute, wherever the build tree is.
mkdir -m 755 "$work/bin"
chmod 755 "$work"
cp "$TCP_PEER" "$work/bin/"

tracer_start connect -x
peer client -c nonblock4 -N $SERVER4 $port4
nonblock4=$peer_lines
peer client -c nonblock6 -N $SERVER6 $port6
nonblock6=$peer_lines
peer client -c worker -t $SERVER4 $port4
thread=$peer_lines
unprivileged=$(in_ns client setpriv --reuid=nobody --regid=nogroup --clear-groups \
	"$work/bin/tcp_peer" connect -c nobody-peer $SERVER4 $port4) || die "unprivileged peer"
peer_pids+=" $(kv pid "$unprivileged") "
tracer_stop

for peer_lines in "$nonblock4" "$nonblock6"; do
	expect_attempt ESTABLISHED
done
peer_lines=$thread
[ "$(kv pid "$thread")" != "$(kv tid "$thread")" ] || fail "the peer did not use a second thread"
# expect_attempt checks PID against the peer's pid (not its tid) and COMM against the
# thread's name (the process's main thread is still called tcp_peer).
expect_attempt ESTABLISHED
the_row SPORT="$(kv sport "$unprivileged")" &&
	expect_row UID "$(id -u nobody)" PID "$(kv pid "$unprivileged")" COMM nobody-peer
expect_eq "lines traced" 4 "$(our_rows)"
finish
