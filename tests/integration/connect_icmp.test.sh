#!/usr/bin/env bash
# An ICMP error answering an attempt's SYN is its RESULT, as the application got it:
# from SO_ERROR when it polls a non-blocking connect (as event loops and curl do), for
# each kind of unreachable, IPv4 and IPv6; over veth, and on loopback with a REJECT rule
# in the client's own output path (what kube-proxy installs for a Service without
# endpoints). An application that closes without asking gave up: ABANDONED.
. "$(dirname "$0")/lib.sh"

NET=20 HOST=21 ADMIN=22 PORT=23
reject_rules() {
	local hook=$1
	shift
	nft -f - <<NFT || die "nft rules in $hook"
table inet tcptrace_test {
	chain $hook {
		type filter hook $hook priority 0;
		tcp dport $NET reject with icmpx type no-route
		tcp dport $HOST reject with icmpx type host-unreachable
		tcp dport $ADMIN reject with icmpx type admin-prohibited
		tcp dport $PORT reject with icmpx type port-unreachable
	}
}
NFT
}
# Every SYN gets its error, however many come in a row: no rate limit per destination,
# nor the global one by type.
no_icmp_rate_limit() {
	in_ns "$1" sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv4.icmp_ratemask=0 \
		net.ipv6.icmp.ratelimit=0 net.ipv6.icmp.ratemask=
}

ns_pair
in_ns server bash -c "$(declare -f reject_rules); NET=$NET HOST=$HOST ADMIN=$ADMIN PORT=$PORT reject_rules input"
no_icmp_rate_limit server
ns_add loop
in_ns loop bash -c "$(declare -f reject_rules); NET=$NET HOST=$HOST ADMIN=$ADMIN PORT=$PORT reject_rules output"
no_icmp_rate_limit loop

# What each ICMP error becomes (net/ipv4/icmp.c's icmp_err_convert, net/ipv6/icmp.c).
declare -A errno4=([$NET]=ENETUNREACH [$HOST]=EHOSTUNREACH [$ADMIN]=EHOSTUNREACH [$PORT]=ECONNREFUSED)
declare -A errno6=([$NET]=ENETUNREACH [$HOST]=EHOSTUNREACH [$ADMIN]=EACCES [$PORT]=ECONNREFUSED)
declare -A message=([ENETUNREACH]="Network is unreachable" [EHOSTUNREACH]="No route to host"
	[EACCES]="Permission denied" [ECONNREFUSED]="Connection refused")

tracer_start connect -x

attempts=()
for port in $NET $HOST $ADMIN $PORT; do
	peer client -c nb4-$port -N $SERVER4 $port
	attempts+=("${peer_lines/saddr=-/saddr=$CLIENT4} ${errno4[$port]}")
	peer loop -c lo4-$port -N 127.0.0.1 $port
	attempts+=("${peer_lines/saddr=-/saddr=127.0.0.1} ${errno4[$port]}")
	peer loop -c lo6-$port -N ::1 $port
	attempts+=("${peer_lines/saddr=-/saddr=::1} ${errno6[$port]}")
done
# IPv6 queues the error for the application only with IPV6_RECVERR: without it, it
# comes again with the SYN's retransmission (1 s), when connect() no longer holds the
# socket. Both are what the application gets.
for port in $HOST $ADMIN; do
	peer client -c nb6-$port -N $SERVER6 $port
	attempts+=("${peer_lines/saddr=-/saddr=$CLIENT6} ${errno6[$port]}")
done

# curl: PID from the shell it replaces; its own words name the error it got.
curls=()
curl_to() {
	local ns=$1 url=$2 out
	out=$(in_ns "$ns" sh -c 'echo "pid=$$"; exec curl -sv --max-time 5 "$1"' sh "$url" 2>&1)
	echo "$out" | grep -E '^pid=|failed:'
	curls+=("$(sed -n 's/^pid=//p' <<<"$out") $(sed -n 's/.*port [0-9]* failed: //p' <<<"$out")")
	peer_pids+=" $(sed -n 's/^pid=//p' <<<"$out") "
}
curl_to client "http://$SERVER4:$HOST/"
curl_to client "http://[$SERVER6]:$ADMIN/"
curl_to loop "http://127.0.0.1:$PORT/"
# busybox wget connects blocking: connect() gets the error when it comes again, after the
# SYN is sent again (1 s), and says so in its own words.
wget_out=$(in_ns client sh -c 'echo "pid=$$"; exec busybox wget -O /dev/null "$1"' sh \
	"http://$SERVER4:$HOST/" 2>&1)
echo "$wget_out"
wget_pid=$(sed -n 's/^pid=//p' <<<"$wget_out")
peer_pids+=" $wget_pid "

# Closed without asking: the error was there for the taking, the application gave up.
peer client -c blind -Z 100 $SERVER4 $HOST
blind=${peer_lines/saddr=-/saddr=$CLIENT4}
tracer_stop

expect_attempts "${attempts[@]}"

expect_curl() {
	local pid=$1 daddr=$2 dport=$3 expected=$4 words=$5
	expect_eq "curl $daddr:$dport said" "${message[$expected]}" "$words"
	the_row PID="$pid" DPORT="$dport" || return
	expect_row COMM curl DADDR "$daddr" UID 0 RESULT "$expected"
	expect_between "curl $daddr:$dport SPORT" 1 65535 "$(kv SPORT "$row")"
}
read -r pid words <<<"${curls[0]}"
expect_curl "$pid" $SERVER4 $HOST EHOSTUNREACH "$words"
expect_row SADDR $CLIENT4 IP 4
expect_between "curl, IPv4 over veth: LAT(ms)" 0.001 100 "$(kv 'LAT(ms)' "$row")"
read -r pid words <<<"${curls[1]}"
expect_curl "$pid" $SERVER6 $ADMIN EACCES "$words"
expect_row SADDR $CLIENT6 IP 6
read -r pid words <<<"${curls[2]}"
expect_curl "$pid" 127.0.0.1 $PORT ECONNREFUSED "$words"
expect_row SADDR 127.0.0.1 IP 4

expect_match "busybox wget said" "No route to host" "$wget_out"
the_row PID="$wget_pid" && expect_row COMM busybox SADDR $CLIENT4 DADDR $SERVER4 DPORT $HOST \
	RESULT EHOSTUNREACH && expect_between "busybox wget: LAT(ms)" 1000 3000 "$(kv 'LAT(ms)' "$row")"

peer_lines=$blind
expect_eq "blind: the peer saw" abandoned "$(kv result "$peer_lines")"
expect_attempt ABANDONED 100 200

expect_eq "lines traced" 19 "$(our_rows)"
finish
