#!/usr/bin/env bash
# The filters that run in the kernel: -4, -6, -P (connect: destination ports), -u, --netns
# and --cgroup, for both commands; and -U's column. Each runs with traffic it must pass and
# traffic it must stop at the same time, and each is checked both ways.
. "$(dirname "$0")/lib.sh"

ns_add loop
ns_add other
UID_TRACED=4321

# A cgroup v2 directory of this test's own, with a child: tasks below it count too.
cgroot=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
[ -n "$cgroot" ] || die "no cgroup v2 hierarchy mounted"
cgroup="$cgroot/tcptrace-test.$$"
mkdir "$cgroup" "$cgroup/child" || die "cannot create a cgroup under $cgroot"
remove_cgroups() {
	cleanup
	# Whatever is left in them (nothing, unless the test died early) goes first.
	echo 1 >"$cgroup/cgroup.kill" 2>/dev/null
	for i in $(seq 50); do
		rmdir "$cgroup/child" "$cgroup" 2>/dev/null && break
		sleep 0.1
	done
}
trap remove_cgroups EXIT

# spawn NS MODE OUT COMMAND...: COMMAND in the background, in namespace NS, as root, as
# UID_TRACED ("user"), or in the test's child cgroup ("cgroup"), its output in OUT; its
# PID in $spawned. The cgroup is joined before entering the namespace: ip netns exec
# mounts a /sys of its own, without the cgroup hierarchy.
spawn() {
	local ns=$1 mode=$2 out=$3
	shift 3
	case $mode in
	root) ip netns exec "$(ns_name "$ns")" "$@" >"$out" & ;;
	user) ip netns exec "$(ns_name "$ns")" setpriv --reuid=$UID_TRACED --regid=$UID_TRACED \
		--clear-groups "$@" >"$out" & ;;
	cgroup) bash -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$cgroup/child" \
		ip netns exec "$(ns_name "$ns")" "$@" >"$out" & ;;
	esac
	spawned=$!
	background+=($spawned)
}

# listener NS ADDR COMM MODE: a tcp_peer listener; its port in $listener_port.
listener() {
	local out="$work/listen.$3"
	spawn "$1" "$4" "$out" "$TCP_PEER" listen -c "$3" "$2" 0
	wait_for_line "$out" '^listening' $spawned || die "listener $3 did not start"
	listener_port=$(kv port "$(head -n 1 "$out")")
}

# traffic NS COMM ADDR PORT [MODE]: five attempts, 20 ms apart, in the background.
peers=()
traffic() {
	spawn "$1" "${5:-root}" "$work/peer.$2" "$TCP_PEER" connect -c "$2" -r 5 -i 20 "$3" "$4"
	peers+=($spawned)
}

# traced ARGS...: a tracer; then traffic, all at once; then settle: the peers are done,
# and the tracer stopped.
traced() {
	tracer_start "$@"
}
settle() {
	wait "${peers[@]}" || die "a peer failed"
	peers=()
	tracer_stop
}
lines_of() { trace_rows COMM="$1" "${@:2}" | grep -c .; }

listener loop 127.0.0.1 srv4 root
port4=$listener_port
listener loop ::1 srv6 root
port6=$listener_port
listener loop 127.0.0.1 srvb root
portb=$listener_port
listener other 127.0.0.1 srvo root
porto=$listener_port
listener loop 127.0.0.1 srvu user
portu=$listener_port
listener loop 127.0.0.1 srvc cgroup
portc=$listener_port

echo "== connect -4 and -6"
for family in 4 6; do
	traced connect -x -$family
	traffic loop v4 127.0.0.1 $port4
	traffic loop v6 ::1 $port6
	settle
	expect_eq "-$family: IPv$family lines" 5 "$(lines_of v$family IP=$family RESULT=ESTABLISHED)"
	other=$((10 - family))
	expect_eq "-$family: IPv$other lines" 0 "$(lines_of v$other)"
done

echo "== connect -P: destination ports"
traced connect -x -P "$port4,9"
traffic loop toport 127.0.0.1 $port4
traffic loop toother 127.0.0.1 $portb
settle
expect_eq "-P: lines to $port4" 5 "$(lines_of toport DPORT=$port4)"
expect_eq "-P: lines to $portb" 0 "$(lines_of toother)"

echo "== connect -u and -U"
traced connect -U -u $UID_TRACED
traffic loop byuser 127.0.0.1 $port4 user
traffic loop byroot 127.0.0.1 $port4 root
settle
expect_eq "-u: lines of UID $UID_TRACED, shown by -U" 5 "$(lines_of byuser UID=$UID_TRACED)"
expect_eq "-u: lines of root" 0 "$(lines_of byroot)"
traced connect -U -u 0
traffic loop byuser 127.0.0.1 $port4 user
traffic loop byroot 127.0.0.1 $port4 root
settle
expect_eq "-u 0: lines of root" 5 "$(lines_of byroot UID=0)"
expect_eq "-u 0: lines of UID $UID_TRACED" 0 "$(lines_of byuser)"

echo "== connect --netns"
traced connect -x --netns "/run/netns/$(ns_name loop)"
traffic loop inloop 127.0.0.1 $port4
traffic other inother 127.0.0.1 $porto
settle
expect_eq "--netns: lines from its namespace" 5 "$(lines_of inloop RESULT=ESTABLISHED)"
expect_eq "--netns: lines from another" 0 "$(lines_of inother)"

echo "== connect --cgroup: its tasks and those below it"
traced connect -x --cgroup "$cgroup"
traffic loop incg 127.0.0.1 $port4 cgroup
traffic loop outcg 127.0.0.1 $port4
settle
expect_eq "--cgroup: lines from the child cgroup" 5 "$(lines_of incg RESULT=ESTABLISHED)"
expect_eq "--cgroup: lines from outside" 0 "$(lines_of outcg)"

echo "== accept -6, -u, --netns, --cgroup: the accepting process and its socket"
accept_case() {
	local want=$1 unwanted=$2
	shift 2
	traced accept -U "$@"
	traffic loop a1 127.0.0.1 $port4
	traffic loop a2 ::1 $port6
	traffic other a3 127.0.0.1 $porto
	traffic loop a4 127.0.0.1 $portu
	traffic loop a5 127.0.0.1 $portc
	settle
	expect_eq "accept $*: lines of $want" 5 "$(lines_of $want)"
	local total=$(trace_rows | grep -c .)
	expect_eq "accept $*: no other lines ($unwanted)" 5 "$total"
}
accept_case srv6 "srv4 srvo srvu srvc" -6
accept_case srvu "srv4 srv6 srvo srvc" -u $UID_TRACED
accept_case srvo "srv4 srv6 srvu srvc" --netns "/run/netns/$(ns_name other)"
accept_case srvc "srv4 srv6 srvo srvu" --cgroup "$cgroup"
expect_eq "accept -U: the UID column" 5 "$(trace_rows COMM=srvc UID=0 | grep -c .)"
finish
