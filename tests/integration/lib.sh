# What the integration tests share: network namespaces of their own, the tracer in the
# background, test peers with known identities, and reading the tracer's table.
# Everything created is removed on exit, whether the test passed, failed or was killed.
set -u
here=$(dirname "${BASH_SOURCE[0]}")
. "$here/assert.sh"

if [ "$(id -u)" != 0 ]; then
	echo "skipped: loading BPF programs needs root"
	exit 77
fi
for var in TCPTRACE_BIN_DIR TCP_PEER NFQ_DELAY CONNECT_STORM URING_ACCEPT REFUSE_BPF_LIB; do
	[ -n "${!var:-}" ] || die "$var is not set: run the tests through ctest"
done

work=$(mktemp -d /tmp/tcptrace-test.XXXXXX)
ns_prefix="tt$$"
namespaces=()
background=()
tracer_pid=

cleanup() {
	local pid ns
	for pid in "${background[@]}" $tracer_pid; do
		kill -TERM "$pid" 2>/dev/null
	done
	wait 2>/dev/null
	for ns in "${namespaces[@]}"; do
		ip netns delete "$ns" 2>/dev/null
	done
	if [ "$failures" -ne 0 ] || [ "${KEEP_WORK:-}" ]; then
		echo "--- tracer output ($work) ---" >&2
		cat "$work"/trace.out "$work"/trace.err >&2 2>/dev/null
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ns_name() {
	echo "$ns_prefix-$1"
}

# ns_add NAME: a namespace with loopback up.
ns_add() {
	local ns
	ns=$(ns_name "$1")
	ip netns add "$ns" || die "cannot create network namespace $ns"
	namespaces+=("$ns")
	ip -n "$ns" link set lo up
	# No duplicate address detection: a tentative address would drop the first SYN.
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0
}

in_ns() {
	local ns
	ns=$(ns_name "$1")
	shift
	ip netns exec "$ns" "$@"
}

# drop_port NS PORT: SYNs to PORT in NS are dropped, so attempts there stay in SYN_SENT.
drop_port() {
	in_ns "$1" nft add table inet tt &&
		in_ns "$1" nft add chain inet tt in '{ type filter hook input priority 0; }' &&
		in_ns "$1" nft add rule inet tt in tcp dport "$2" drop ||
		die "cannot drop port $2 in $1"
}

# stalled_reader FIFO: a reader that opens FIFO and never reads it, so that a writer
# blocks once the pipe's 64 KiB are full.
stalled_reader() {
	mkfifo "$1"
	sleep 60 <"$1" &
	background+=($!)
}

# Client and server joined by veth, on documentation addresses only (RFC 5737, 3849).
CLIENT4=192.0.2.1 SERVER4=192.0.2.2 CLIENT6=2001:db8::1 SERVER6=2001:db8::2
ns_pair() {
	local client server
	ns_add client
	ns_add server
	client=$(ns_name client)
	server=$(ns_name server)
	ip link add "$ns_prefix-c" netns "$client" type veth peer name "$ns_prefix-s" netns "$server" ||
		die "cannot create veth pair"
	ip -n "$client" addr add $CLIENT4/24 dev "$ns_prefix-c"
	ip -n "$server" addr add $SERVER4/24 dev "$ns_prefix-s"
	ip -n "$client" addr add $CLIENT6/64 dev "$ns_prefix-c" nodad
	ip -n "$server" addr add $SERVER6/64 dev "$ns_prefix-s" nodad
	ip -n "$client" link set "$ns_prefix-c" up
	ip -n "$server" link set "$ns_prefix-s" up
	# IPv6 starts on a link once the kernel's link watch has seen it come up (up to a
	# second later): packets sent before are lost, and would cost a SYN retransmission.
	wait_ipv6_ready "$client" "$ns_prefix-c"
	wait_ipv6_ready "$server" "$ns_prefix-s"
}

wait_ipv6_ready() {
	local ns=$1 dev=$2 i
	for i in $(seq 60); do
		ip -n "$ns" -6 addr show dev "$dev" scope link | grep -v tentative | grep -q fe80 &&
			return 0
		sleep 0.05
	done
	die "IPv6 did not come up on $dev in $ns"
}

# fresh FILE...: empties the files a process about to start in the background will write,
# here, before it starts: the shell truncates them only once the child runs, and a
# wait_for_line() meanwhile would take an earlier process's lines for its own.
fresh() {
	local file
	for file; do : >"$file"; done
}

# wait_for_line FILE REGEX PID: until FILE has a line matching REGEX, while PID lives.
wait_for_line() {
	local file=$1 regex=$2 pid=$3 i
	for i in $(seq 200); do
		grep -qE "$regex" "$file" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# tracer_start [NAME] ARGS...: NAME is tcptrace (default) or one of its symlinks.
# Returns once the probes are attached: the header is printed after attaching.
tracer_start() {
	local name=tcptrace
	case "${1:-}" in tcp*) name=$1; shift ;; esac
	fresh "$work/trace.out" "$work/trace.err"
	"$TCPTRACE_BIN_DIR/$name" "$@" >"$work/trace.out" 2>"$work/trace.err" &
	tracer_pid=$!
	wait_for_line "$work/trace.out" . "$tracer_pid" ||
		die "tracer did not start: $(cat "$work/trace.err")"
}

# tracer_start_json ARGS...: the same with -j, which prints no header: -v's notice of the
# privileges given up, written once every probe is attached, says when.
tracer_start_json() {
	fresh "$work/trace.out" "$work/trace.err"
	"$TCPTRACE_BIN_DIR/tcptrace" "$@" -j -v >"$work/trace.out" 2>"$work/trace.err" &
	tracer_pid=$!
	wait_for_line "$work/trace.err" '^tcptrace: dropped every capability' "$tracer_pid" ||
		die "tracer did not start: $(cat "$work/trace.err")"
}

# json_start ARGS...: a second tracer, writing JSON to $work/json.out beside the first's
# table (its PID in $json_pid); returns once attached, as tracer_start_json does.
json_pid=
json_start() {
	fresh "$work/json.out" "$work/json.err"
	"$TCPTRACE_BIN_DIR/tcptrace" "$@" -j -v >"$work/json.out" 2>"$work/json.err" &
	json_pid=$!
	background+=($json_pid)
	wait_for_line "$work/json.err" '^tcptrace: dropped every capability' $json_pid ||
		die "JSON tracer did not start: $(cat "$work/json.err")"
}

# json_stop: SIGINT to it; it must exit 0.
json_stop() {
	kill -INT "$json_pid"
	wait "$json_pid"
	expect_eq "JSON tracer exit status" 0 $?
	json_pid=
}

# tracer_ended [WHAT]: the tracer in $tracer_pid ends by itself (-n, -d) within 5 s,
# with exit status 0.
tracer_ended() {
	local status
	for i in $(seq 100); do kill -0 "$tracer_pid" 2>/dev/null || break; sleep 0.05; done
	wait "$tracer_pid"
	status=$?
	tracer_pid=
	expect_eq "${1:-exit status}" 0 "$status"
}

# summary_start [-o NAME] COMMAND ARGS...: COMMAND with summaries, only this test's
# namespace ($netns), into $work/NAME.out (sum.out); no header to wait for, so -v's
# "attached" line tells. Sets tracer_pid.
summary_start() {
	local name=sum command
	if [ "$1" = -o ]; then
		name=$2
		shift 2
	fi
	command=$1
	shift
	fresh "$work/$name.out" "$work/$name.err"
	"$TCPTRACE_BIN_DIR/tcptrace" "$command" --netns "$netns" -v "$@" >"$work/$name.out" \
		2>"$work/$name.err" &
	tracer_pid=$!
	background+=($tracer_pid)
	wait_for_line "$work/$name.err" '^tcptrace: attached' $tracer_pid ||
		die "tracer did not start: $(cat "$work/$name.err")"
	sleep 0.2
}

# expect_intervals COUNT TOTAL: -H -i's histograms in $work/sum.out, several, whose
# counts add up to COUNT, as do their total lines (TOTAL: the words after the number).
expect_intervals() {
	expect_between "histograms printed" 2 20 "$(grep -c '^     usecs' "$work/sum.out")"
	expect_eq "the intervals' counts add up" "$1" \
		"$(awk '/ -> / { s += $5 } END { print s + 0 }' "$work/sum.out")"
	expect_eq "and their total lines" "$1" \
		"$(awk -v t="$2" 'index($0, t) { s += $1 } END { print s + 0 }' "$work/sum.out")"
}

# tracer_interrupt [WHAT]: SIGINT to the tracer in $tracer_pid; it must exit 0.
tracer_interrupt() {
	local status
	kill -INT "$tracer_pid"
	wait "$tracer_pid"
	status=$?
	tracer_pid=
	expect_eq "${1:-tracer exit status}" 0 "$status"
}

# tracer_stop: SIGINT, and the tracer must exit 0 with nothing on stderr.
tracer_stop() {
	tracer_interrupt
	expect_eq "tracer stderr" "" "$(cat "$work/trace.err")"
}

# server_start NS ADDR [COMM [LISTEN OPTIONS...]]: a listener in NS (tcp_peer listen);
# sets server_port, server_pid, and server_out, the file its "accept ..." lines go to.
server_start() {
	local ns=$1 addr=$2 comm=${3:-tt-server}
	shift $(($# < 3 ? $# : 3))
	server_out="$work/server.$RANDOM"
	# ip netns exec execs the peer, so $! is the server itself.
	ip netns exec "$(ns_name "$ns")" "$TCP_PEER" listen -c "$comm" "$@" "$addr" 0 >"$server_out" &
	background+=($!)
	wait_for_line "$server_out" '^listening' $! || die "server on $addr did not start"
	server_port=$(kv port "$(head -n 1 "$server_out")")
	server_pid=$(kv pid "$(head -n 1 "$server_out")")
}

# overflow_accept_queue NS PORT QUEUE: PORT's listener never accepts, and holds one
# connection (server_start NS ADDR COMM -b 1 -H). After a first connection, the
# handshakes' last ACKs are held back 300 ms (nfq_delay, on NFQUEUE QUEUE), so that two
# more get past the SYN stage while the queue has room: the first ACK to arrive fills it,
# the second is dropped, as an accept queue overflows. overflow_stop undoes the rule.
overflow_accept_queue() {
	local ns=$1 port=$2 queue=$3
	peer "$ns" -c queue-first 127.0.0.1 "$port"
	in_ns "$ns" iptables -A INPUT -p tcp --dport "$port" --tcp-flags SYN,ACK,FIN,RST ACK \
		-j NFQUEUE --queue-num "$queue" || die "iptables NFQUEUE rule"
	ip netns exec "$(ns_name "$ns")" "$NFQ_DELAY" -q "$queue" -d 300 >"$work/nfq.$queue" &
	background+=($!)
	wait_for_line "$work/nfq.$queue" '^ready' $! || die "nfq_delay did not start"
	in_ns "$ns" "$CONNECT_STORM" 127.0.0.1 "$port" 2 1000 >/dev/null || die "connect_storm"
}
overflow_stop() {
	in_ns "$1" iptables -D INPUT -p tcp --dport "$2" --tcp-flags SYN,ACK,FIN,RST ACK \
		-j NFQUEUE --queue-num "$3"
}

# free_port: a TCP port nothing on this machine's loopback listens on, just now.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# serve_start NETNS ARGS...: tcptrace serve -v ARGS on a free loopback port ($port),
# counting the network namespace NETNS alone (nor the scrapes, nor the machine's
# traffic); returns once it serves. Sets tracer_pid.
serve_start() {
	local netns=$1
	shift
	port=$(free_port)
	fresh "$work/trace.out" "$work/trace.err"
	"$TCPTRACE_BIN_DIR/tcptrace" serve -v --listen "127.0.0.1:$port" --netns "$netns" "$@" \
		>"$work/trace.out" 2>"$work/trace.err" &
	tracer_pid=$!
	wait_for_line "$work/trace.err" '^tcptrace: serving metrics' $tracer_pid ||
		die "serve did not start: $(cat "$work/trace.err")"
}

# wait_accepts FILE COUNT: until a server has printed COUNT "accept" lines.
wait_accepts() {
	local i
	for i in $(seq 200); do
		[ "$(grep -c '^accept ' "$1")" -ge "$2" ] && return 0
		sleep 0.05
	done
	die "the server did not accept $2 connection(s)"
}

# expect_accepted LINE: the tracer's line for the connection a server reported accepting
# ("accept pid=... comm=... raddr=... rport=... laddr=... lport=..."): PID and COMM are
# the server's, and every address and port is right.
expect_accepted() {
	local line=$1
	the_row RPORT="$(kv rport "$line")" LPORT="$(kv lport "$line")" || return 1
	expect_row PID "$(kv pid "$line")" COMM "$(kv comm "$line")" IP "$(kv family "$line")" \
		RADDR "$(kv raddr "$line")" LADDR "$(kv laddr "$line")"
}

# peer NS ARGS...: runs tcp_peer connect in NS; its report lines are in $peer_lines.
peer() {
	local ns=$1
	shift
	peer_lines=$(in_ns "$ns" "$TCP_PEER" connect "$@") || die "tcp_peer connect $* failed"
	# cat -v: a test's hostile COMM must not act on the terminal reading the log either.
	echo "peer: $peer_lines" | cat -v
	peer_pids+=" $(kv pid "$peer_lines") "
}

# our_rows: how many lines the tracer printed for this test's peers. The tracer sees the
# whole machine; anything else connecting meanwhile is not this test's business.
peer_pids=
our_rows() {
	local count=0 pid
	for pid in $(trace_rows | sed -n 's/.*PID=\([0-9]*\) .*/\1/p'); do
		[[ $peer_pids == *" $pid "* ]] && count=$((count + 1))
	done
	echo $count
}

# kv KEY "k=v k=v ...": the value of KEY.
kv() {
	local key=$1 pair
	for pair in $2; do
		[ "${pair%%=*}" = "$key" ] && { echo "${pair#*=}"; return; }
	done
}

# trace_rows [COLUMN=VALUE...]: the tracer's lines as "COLUMN=value ..." (named by the
# header), only those whose columns have all the given values.
trace_rows() {
	awk -v filters="$*" '
		NR == 1 { for (i = 1; i <= NF; i++) name[i] = $i; next }
		{
			n = split(filters, f, " ")
			for (j = 1; j <= n; j++) {
				split(f[j], kv, "=")
				found = 0
				for (i = 1; i <= NF; i++)
					if (name[i] == kv[1] && $i == kv[2]) found = 1
				if (!found) next
			}
			row = ""
			for (i = 1; i <= NF; i++) row = row name[i] "=" $i " "
			print row
		}' "$work/trace.out"
}

# the_row COLUMN=VALUE...: exactly one row must match; it is put in $row.
the_row() {
	local count
	row=$(trace_rows "$@")
	count=$(printf '%s' "$row" | grep -c .)
	if [ "$count" != 1 ]; then
		fail "expected 1 line with $*, found $count"
		row=
		return 1
	fi
	echo "row: $row"
}

# expect_row COLUMN VALUE [COLUMN VALUE...]: fields of $row.
expect_row() {
	while [ $# -ge 2 ]; do
		expect_eq "$1" "$2" "$(kv "$1" "$row")"
		shift 2
	done
}

# ms_of MICROSECONDS: as milliseconds with three decimals, like LAT(ms).
ms_of() {
	awk -v us="$1" 'BEGIN { printf "%.3f", us / 1000 }'
}

# expect_attempt RESULT [LAT_LOW_MS LAT_HIGH_MS]: the tracer's line for the attempt that
# tcp_peer just reported ($peer_lines) has every field right: PID, COMM, IP, addresses,
# ports, UID, RESULT, and a latency no longer than the peer's own connect() took.
# The tracer must run with -x (SPORT tells attempts apart).
expect_attempt() {
	local result=$1 line=$peer_lines elapsed_ms
	elapsed_ms=$(ms_of "$(kv elapsed_us "$line")")
	# With its PID too: a later attempt may be given the same local port.
	the_row SPORT="$(kv sport "$line")" DPORT="$(kv dport "$line")" PID="$(kv pid "$line")" ||
		return 1
	expect_row PID "$(kv pid "$line")" COMM "$(kv comm "$line")" IP "$(kv family "$line")" \
		SADDR "$(kv saddr "$line")" DADDR "$(kv daddr "$line")" UID "$(id -u)" \
		RESULT "$result"
	expect_between "LAT(ms)" "${2:-0.001}" "${3:-$elapsed_ms}" "$(kv 'LAT(ms)' "$row")"
}

# expect_attempts ENTRY...: each ENTRY is a peer's report line and, last, the RESULT the
# peer must have seen; the tracer's line for it must say the same (expect_attempt).
expect_attempts() {
	local entry
	for entry; do
		peer_lines=${entry% *}
		expect_eq "$(kv comm "$peer_lines"): the peer saw" "${entry##* }" \
			"$(kv result "$peer_lines")"
		expect_attempt "${entry##* }"
	done
}

# build_static: tcptrace built with -DTCPTRACE_STATIC=ON, in a build directory of its own
# kept between runs ($STATIC_BUILD_DIR); its path in $static_tcptrace.
build_static() {
	[ -n "${SOURCE_DIR:-}" ] && [ -n "${STATIC_BUILD_DIR:-}" ] ||
		die "SOURCE_DIR and STATIC_BUILD_DIR are not set: run the tests through ctest"
	cmake -S "$SOURCE_DIR" -B "$STATIC_BUILD_DIR" -DTCPTRACE_STATIC=ON -DBUILD_TESTING=OFF \
		>"$work/static-cmake.log" 2>&1 &&
		cmake --build "$STATIC_BUILD_DIR" --target tcptrace -j2 >>"$work/static-cmake.log" 2>&1 ||
		die "static build failed: $(tail -n 20 "$work/static-cmake.log")"
	static_tcptrace=$STATIC_BUILD_DIR/tcptrace
}
