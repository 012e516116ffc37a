#!/usr/bin/env bash
# Established connections over loopback and over veth between two namespaces, IPv4,
# IPv6 and v4-mapped IPv6: every field of every line, and TIME(s) within the time the test ran.
. "$(dirname "$0")/lib.sh"

ns_pair
ns_add loop
server_start loop 127.0.0.1 lo-server4
loop4_port=$server_port
server_start loop ::1 lo-server6
loop6_port=$server_port
server_start server $SERVER4 veth-server4
veth4_port=$server_port
server_start server $SERVER6 veth-server6
veth6_port=$server_port

started=$(date +%s.%N)
tracer_start connect -tx
peer loop -c conn-lo4 127.0.0.1 $loop4_port
lo4=$peer_lines
peer loop -c conn-lo6 ::1 $loop6_port
lo6=$peer_lines
peer client -c conn-veth4 $SERVER4 $veth4_port
veth4=$peer_lines
peer client -c conn-veth6 $SERVER6 $veth6_port
veth6=$peer_lines
# An IPv6 socket to a v4-mapped address is an IPv4 connection: reported as one.
peer loop -c conn-mapped ::ffff:127.0.0.1 $loop4_port
mapped=$peer_lines
ran_for=$(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "%.3f", e - s }')
tracer_stop

expect_eq "header" "TIME(s)   PID     COMM             IP SADDR                                   SPORT DADDR                                   DPORT LAT(ms)  UID    RESULT" \
	"$(head -n 1 "$work/trace.out")"
for peer_lines in "$lo4" "$lo6" "$veth4" "$veth6"; do
	expect_attempt ESTABLISHED && expect_between "TIME(s)" 0 "$ran_for" "$(kv 'TIME(s)' "$row")"
done
expect_eq "peer's socket" 6 "$(kv family "$mapped")"
the_row SPORT="$(kv sport "$mapped")" && expect_row PID "$(kv pid "$mapped")" COMM conn-mapped \
	IP 4 SADDR 127.0.0.1 DADDR 127.0.0.1 DPORT $loop4_port RESULT ESTABLISHED
# Nothing was traced twice, and the listeners' side is not a connect.
expect_eq "lines traced" 5 "$(our_rows)"
finish
