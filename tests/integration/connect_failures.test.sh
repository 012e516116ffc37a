#!/usr/bin/env bash
# Attempts that fail are reported once their outcome is known, with that outcome:
# refused (RST), no answer (timeout), ICMP host unreachable, abandoned by the
# application, and no free local port (EADDRNOTAVAIL, before any SYN leaves).
. "$(dirname "$0")/lib.sh"

DROPPED=19 UNREACHABLE=29 CLOSED=9
ns_pair
# The server drops SYNs to one port and answers another with ICMP host unreachable.
in_ns server nft -f - <<NFT || die "nft rules"
table inet tcptrace_test {
	chain input {
		type filter hook input priority 0;
		tcp dport $DROPPED drop
		tcp dport $UNREACHABLE reject with icmpx type host-unreachable
	}
}
NFT
# One retry: the kernel gives up after 1 s + 2 s instead of two minutes.
in_ns client sysctl -qw net.ipv4.tcp_syn_retries=1

tracer_start connect -x

peer client -c refused4 $SERVER4 $CLOSED
refused4=$peer_lines
peer client -c refused6 $SERVER6 $CLOSED
refused6=$peer_lines
peer client -c unreach4 $SERVER4 $UNREACHABLE
unreach4=$peer_lines
peer client -c unreach6 $SERVER6 $UNREACHABLE
unreach6=$peer_lines
peer client -c abandoned -a 200 $SERVER4 $DROPPED
abandoned=$peer_lines
peer client -c timeout $SERVER4 $DROPPED
timeout=$peer_lines

# One local port only, held by an attempt stuck in SYN_SENT: a second attempt to the same
# destination finds no free port and connect() fails before sending a SYN.
in_ns client sysctl -qw net.ipv4.ip_local_port_range="40000 40000"
in_ns client "$TCP_PEER" connect -c holder -a 1000 $SERVER4 $DROPPED >"$work/holder" &
holder_pid=$!
background+=($holder_pid)
for i in $(seq 100); do
	in_ns client ss -Htn state syn-sent | grep -q ':40000 ' && break
	sleep 0.02
done
peer client -c noport $SERVER4 $DROPPED
noport=$peer_lines
# The same, on a socket that was refused once: its old port must not be shown.
peer client -c reuse -R $DROPPED $SERVER4 $CLOSED
reuse_refused=$(sed -n 1p <<<"$peer_lines")
reuse_noport=$(sed -n 2p <<<"$peer_lines")
wait $holder_pid
peer_lines=$(cat "$work/holder")
peer_pids+=" $(kv pid "$peer_lines") "
holder=$peer_lines
tracer_stop

# A failed socket's source address is cleared before getsockname() can see it: the
# tracer read it at the failure, and it can only be the client's.
failed_from() {
	peer_lines=${1/saddr=-/saddr=$2}
}

for attempt in "$refused4 $CLIENT4" "$refused6 $CLIENT6"; do
	failed_from "${attempt% *}" "${attempt##* }"
	expect_eq "peer saw" ECONNREFUSED "$(kv result "$peer_lines")"
	expect_attempt ECONNREFUSED
done
# While connect() holds the socket, the kernel takes an ICMP error as a soft one and the
# attempt fails with the next one, after the SYN is sent again (1 s).
for attempt in "$unreach4 $CLIENT4" "$unreach6 $CLIENT6"; do
	failed_from "${attempt% *}" "${attempt##* }"
	expect_eq "peer saw" EHOSTUNREACH "$(kv result "$peer_lines")"
	expect_attempt EHOSTUNREACH
done

peer_lines=$abandoned
expect_eq "peer saw" abandoned "$(kv result "$peer_lines")"
# From connect() to the close() that follows the peer's 200 ms wait.
expect_attempt ABANDONED 200 300

# tcp_syn_retries=1: SYN at 0 s, again at 1 s, given up at 3 s.
failed_from "$timeout" $CLIENT4
expect_eq "peer saw" ETIMEDOUT "$(kv result "$peer_lines")"
expect_attempt ETIMEDOUT 2900 "$(ms_of "$(kv elapsed_us "$peer_lines")")"

peer_lines=$holder
expect_attempt ABANDONED 1000 1100
expect_eq "peer saw" EADDRNOTAVAIL "$(kv result "$noport")"
# connect() failed before choosing a port: there is none to tell the attempt by.
the_row COMM=noport SPORT=0 && expect_row PID "$(kv pid "$noport")" IP 4 SADDR $CLIENT4 \
	DADDR $SERVER4 DPORT $DROPPED UID 0 RESULT EADDRNOTAVAIL
expect_between "LAT(ms)" 0 "$(ms_of "$(kv elapsed_us "$noport")")" "$(kv 'LAT(ms)' "$row")"

expect_eq "peer saw" "ECONNREFUSED EADDRNOTAVAIL" \
	"$(kv result "$reuse_refused") $(kv result "$reuse_noport")"
the_row COMM=reuse DPORT=$CLOSED && expect_row SPORT 40000 RESULT ECONNREFUSED
the_row COMM=reuse DPORT=$DROPPED && expect_row SPORT 0 RESULT EADDRNOTAVAIL \
	PID "$(kv pid "$reuse_noport")" SADDR $CLIENT4 DADDR $SERVER4

expect_eq "lines traced" 10 "$(our_rows)"
finish
