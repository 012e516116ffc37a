#!/usr/bin/env bash
# Latency accuracy: the client's namespace holds every SYN-ACK back by 100 ms (NFQUEUE,
# tests/helpers/nfq_delay.c), so LAT must lie just above 100 ms: the delay plus the
# time the helper takes to see and release the packet.
. "$(dirname "$0")/lib.sh"

DELAY_MS=100
# The measured error is well under a millisecond; 10 ms absorbs a loaded CI machine.
SLACK_MS=10
QUEUE=7

ns_pair
ns_add loop
server_start server $SERVER4
veth4_port=$server_port
server_start server $SERVER6
veth6_port=$server_port
server_start loop 127.0.0.1
loop4_port=$server_port

# This kernel has the xtables NFQUEUE target, not nft's queue statement.
for ns in client loop; do
	in_ns $ns iptables -A INPUT -p tcp --tcp-flags SYN,ACK SYN,ACK -j NFQUEUE --queue-num $QUEUE ||
		die "iptables NFQUEUE rule"
	in_ns $ns ip6tables -A INPUT -p tcp --tcp-flags SYN,ACK SYN,ACK -j NFQUEUE --queue-num $QUEUE ||
		die "ip6tables NFQUEUE rule"
	ip netns exec "$(ns_name $ns)" "$NFQ_DELAY" -q $QUEUE -d $DELAY_MS >"$work/nfq.$ns" &
	background+=($!)
	wait_for_line "$work/nfq.$ns" '^ready' $! || die "nfq_delay did not start in $ns"
done

tracer_start connect -x
peer client -c delayed4 $SERVER4 $veth4_port
veth4=$peer_lines
peer client -c delayed6 $SERVER6 $veth6_port
veth6=$peer_lines
peer loop -c delayed-lo 127.0.0.1 $loop4_port
loop4=$peer_lines
tracer_stop

for peer_lines in "$veth4" "$veth6" "$loop4"; do
	expect_attempt ESTABLISHED $DELAY_MS $((DELAY_MS + SLACK_MS))
	# The tracer's interval lies inside the peer's own connect() call.
	expect_between "LAT(ms) within the peer's connect()" 0 \
		"$(ms_of "$(kv elapsed_us "$peer_lines")")" "$(kv 'LAT(ms)' "$row")"
	echo "measured: LAT(ms) $(kv 'LAT(ms)' "$row") for a $DELAY_MS ms delay"
done
expect_eq "lines traced" 3 "$(our_rows)"
finish
