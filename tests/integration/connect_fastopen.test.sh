#!/usr/bin/env bash
# TCP Fast Open's connect (TCP_FASTOPEN_CONNECT): with a cookie from an earlier
# connection, connect() returns at once and the SYN leaves with the first write. LAT is
# still the network's round trip, not the wait before that write; a socket closed
# before writing sent nothing: UNSENT, with its real local port, and no latency.
. "$(dirname "$0")/lib.sh"

# fastopen_check NS SERVER_NS ADDR CLIENT_ADDR: the three cases against a server at ADDR,
# and curl --tcp-fastopen, whose request goes in the SYN (the server never answers it:
# curl gives up after its --max-time, the connection made).
fastopen_check() {
	local ns=$1 server_ns=$2 addr=$3 client=$4 prime unsent late host=$3 curl_pid
	server_start "$server_ns" "$addr" fo-srv -F
	tracer_start connect -x
	# The first connection gets the cookie; its SYN asks for one at connect().
	peer "$ns" -c fo-prime -F -s 0 "$addr" $server_port
	prime=$peer_lines
	peer "$ns" -c fo-unsent -F "$addr" $server_port
	unsent=$peer_lines
	peer "$ns" -c fo-late -F -s 300 "$addr" $server_port
	late=$peer_lines
	[[ $addr == *:* ]] && host="[$addr]"
	curl_pid=$(in_ns "$ns" sh -c 'echo $$; exec curl -s --tcp-fastopen --max-time 0.5 "$1" >/dev/null' \
		sh "http://$host:$server_port/")
	tracer_stop

	peer_lines=$prime
	expect_attempt ESTABLISHED
	peer_lines=$unsent
	expect_eq "unsent: the peer saw" unsent "$(kv result "$peer_lines")"
	the_row SPORT="$(kv sport "$peer_lines")" DPORT=$server_port &&
		expect_row PID "$(kv pid "$peer_lines")" COMM fo-unsent SADDR "$client" DADDR "$addr" \
			UID 0 "LAT(ms)" - RESULT UNSENT
	expect_between "unsent: SPORT, the one connect() chose" 1 65535 "$(kv sport "$peer_lines")"
	# The write came 300 ms after connect(); the round trip is well under that.
	peer_lines=$late
	expect_eq "late: the peer saw" ESTABLISHED "$(kv result "$peer_lines")"
	expect_between "late: the peer waited" 300 5000 "$(ms_of "$(kv elapsed_us "$peer_lines")")"
	expect_attempt ESTABLISHED 0.001 100
	the_row PID="$curl_pid" && expect_row COMM curl SADDR "$client" DADDR "$addr" \
		DPORT $server_port RESULT ESTABLISHED &&
		expect_between "curl --tcp-fastopen: LAT(ms)" 0.001 100 "$(kv 'LAT(ms)' "$row")"
}

echo "== over veth, IPv4 and IPv6"
ns_pair
for ns in client server; do
	in_ns $ns sysctl -qw net.ipv4.tcp_fastopen=3
done
fastopen_check client server $SERVER4 $CLIENT4
fastopen_check client server $SERVER6 $CLIENT6

echo "== on loopback"
ns_add loop
in_ns loop sysctl -qw net.ipv4.tcp_fastopen=3
fastopen_check loop loop 127.0.0.1 127.0.0.1

echo "== JSON: no latency to give"
server_start loop 127.0.0.1 fo-srv -F
tracer_start_json connect
peer loop -c fo-prime -F -s 0 127.0.0.1 $server_port
peer loop -c fo-json -F 127.0.0.1 $server_port
tracer_interrupt
line=$(grep '"comm":"fo-json"' "$work/trace.out")
expect_match "JSON line" "\"sport\":$(kv sport "$peer_lines"),\"daddr\":\"127.0.0.1\",\"dport\":$server_port,\"latency_ms\":null,\"uid\":0,\"cgroup_id\":[0-9]+,.*\"result\":\"UNSENT\"\}$" "$line"
finish
