#!/bin/sh
# /init of the test VM (busybox sh): the connect and accept scenarios over loopback.
# Every line meant for the host starts with "TT-": the serial console mixes other
# output in.
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /tmp
ip link set lo up
echo "TT-KERNEL $(uname -r)"
echo "TT-INIT-COMM $(cat /proc/1/comm)"
echo "TT-UNPRIVILEGED-BPF-DISABLED $(cat /proc/sys/kernel/unprivileged_bpf_disabled)"
METHODS="tp_btf raw_tp tracepoint fentry kprobe"
# A REJECT rule in the output path, as kube-proxy's: its ICMP error answers a SYN to
# port 10 while connect() still holds the socket. Fast Open, for clients and servers.
for module in $(cat /lib/reject/order); do insmod /lib/reject/$module.ko; done
nft -f - <<NFT
table inet tt {
	chain out {
		type filter hook output priority 0;
		tcp dport 10 reject with icmpx type admin-prohibited
	}
}
NFT
echo "TT-REJECT-RULE $?"
echo 0 >/proc/sys/net/ipv4/icmp_ratelimit
echo 0 >/proc/sys/net/ipv4/icmp_ratemask
echo 3 >/proc/sys/net/ipv4/tcp_fastopen
mount -t tracefs tracefs /sys/kernel/tracing
tcptrace features >/tmp/features 2>&1
while IFS= read -r line; do echo "TT-FEATURES $line"; done </tmp/features

# wait_file FILE: until it has a line, for 10 s at most.
wait_file() {
	i=0
	while [ ! -s "$1" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
}

# report TAG FILE: the file's lines for the host, each behind "TT-TAG ".
report() {
	while IFS= read -r line; do echo "TT-$1 $line"; done <"$2"
}

# port_of FILE: the port a test peer's "listening ... port=N" line gives.
port_of() {
	sed -n 's/.* port=\([0-9]*\).*/\1/p' "$1"
}

# wait_accepts COUNT FILE...: until the servers' files hold COUNT accept lines, for 5 s
# at most.
wait_accepts() {
	count=$1 i=0
	shift
	while [ "$(cat "$@" | grep -c '^accept ')" -lt "$count" ] && [ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
}

# stop TAG PID: stops the tracer, and reports its exit status as TAG-STATUS.
stop() {
	kill -INT "$2"
	wait "$2"
	echo "TT-$1-STATUS $?"
}

# Each attach method in turn: the same connections must come out the same.
for method in $METHODS; do
	rm -f /tmp/*.out /tmp/*.err /tmp/srv4 /tmp/srv6 /tmp/peers /tmp/acc-srv /tmp/uring-srv /tmp/acc-refused \
		/tmp/fo-* /tmp/ovf-*
	echo "== connect -A $method"
	tcptrace connect -x -e -A "$method" >/tmp/connect.out 2>/tmp/connect.err &
	tracer=$!
	wait_file /tmp/connect.out
	# Attached, so the capabilities are dropped: what is left, permitted and effective.
	echo "TT-$method-CAPS $(awk '/^Cap(Prm|Eff):/ { printf "%s ", $2 }' /proc/$tracer/status)"
	# The header is out, so the system call filter is on (2).
	echo "TT-$method-SECCOMP $(awk '/^Seccomp:/ { print $2 }' /proc/$tracer/status)"
	tcp_peer listen -c srv4 127.0.0.1 0 >/tmp/srv4 &
	tcp_peer listen -c srv6 ::1 0 >/tmp/srv6 &
	tcp_peer listen -F -c fo-srv 127.0.0.1 0 >/tmp/fo-srv &
	wait_file /tmp/srv4
	wait_file /tmp/srv6
	wait_file /tmp/fo-srv
	port4=$(port_of /tmp/srv4)
	port6=$(port_of /tmp/srv6)
	foport=$(port_of /tmp/fo-srv)
	tcp_peer connect -c cli4 127.0.0.1 "$port4" >/tmp/peers
	tcp_peer connect -c cli6 ::1 "$port6" >>/tmp/peers
	tcp_peer connect -c refused 127.0.0.1 9 >>/tmp/peers
	tcp_peer connect -c icmp -N 127.0.0.1 10 >>/tmp/peers
	tcp_peer connect -c uring -U async 127.0.0.1 "$port4" >>/tmp/peers
	tcp_peer connect -c fo-prime -F -s 0 127.0.0.1 "$foport" >>/tmp/peers
	tcp_peer connect -c fo-late -F -s 300 127.0.0.1 "$foport" >/tmp/fo-late
	tcp_peer connect -c fo-unsent -F 127.0.0.1 "$foport" >/tmp/fo-unsent
	stop $method-CONNECT $tracer
	report $method-CONNECT /tmp/connect.out
	report $method-CONNECT-ERR /tmp/connect.err
	report $method-PEER /tmp/peers
	report $method-FO-LATE /tmp/fo-late
	report $method-FO-UNSENT /tmp/fo-unsent

	echo "== accept -A $method"
	tcptrace accept -x -e -f -A "$method" >/tmp/accept.out 2>/tmp/accept.err &
	tracer=$!
	wait_file /tmp/accept.out
	tcp_peer listen -c acc-srv -W 100 -n 1 127.0.0.1 0 >/tmp/acc-srv &
	wait_file /tmp/acc-srv
	port=$(port_of /tmp/acc-srv)
	uring_accept -c uring-srv 127.0.0.1 0 1 >/tmp/uring-srv &
	wait_file /tmp/uring-srv
	uport=$(port_of /tmp/uring-srv)
	tcp_peer connect -c acc-cli 127.0.0.1 "$port" >/dev/null
	tcp_peer connect -c uring-cli 127.0.0.1 "$uport" >/dev/null
	tcp_peer connect -c acc-refused 127.0.0.1 9 >/tmp/acc-refused
	# An accept queue of one that overflows: three handshakes done while the deferred
	# accept makes no child, then their data, 1.5 s later. The first fills the queue;
	# the others' packets are dropped (DROPPED) until the listener goes. A client slow
	# to start, whose SYN finds the queue full already, gives up after 2 s.
	tcp_peer listen -c ovf-srv -H -A -b 0 127.0.0.1 0 >/tmp/ovf-srv &
	overflowing=$!
	wait_file /tmp/ovf-srv
	clients=
	for client in 1 2 3; do
		tcp_peer connect -c ovf-cli -a 2000 -s 1500 127.0.0.1 "$(port_of /tmp/ovf-srv)" >>/tmp/ovf-peers &
		clients="$clients $!"
	done
	# shellcheck disable=SC2086 # one PID each
	wait $clients
	sleep 0.5
	kill "$overflowing"
	wait_accepts 2 /tmp/acc-srv /tmp/uring-srv
	stop $method-ACCEPT $tracer
	report $method-ACCEPT /tmp/accept.out
	report $method-ACCEPT-ERR /tmp/accept.err
	report $method-SERVER /tmp/acc-srv
	report $method-SERVER /tmp/uring-srv
	report $method-REFUSED /tmp/acc-refused
	report $method-OVERFLOW /tmp/ovf-srv
	report $method-OVERFLOW-PEERS /tmp/ovf-peers
done
# Auto, as a user runs it: accept without the syscall tracepoints where the kernel allows.
# A server blocked in accept() and a multishot io_uring accept, both from before the
# tracer started, must show; and a direct io_uring accept, which has no descriptor.
echo "== accept, auto"
rm -f /tmp/*.out /tmp/*.err /tmp/blk-srv /tmp/mshot-srv /tmp/direct-srv
tcp_peer listen -c blk-srv -n 1 127.0.0.1 0 >/tmp/blk-srv &
uring_accept -c mshot-srv -m multishot 127.0.0.1 0 2 >/tmp/mshot-srv &
wait_file /tmp/blk-srv
wait_file /tmp/mshot-srv
sleep 0.2
tcptrace accept -v >/tmp/accept.out 2>/tmp/accept.err &
tracer=$!
wait_file /tmp/accept.out
uring_accept -c direct-srv -m direct 127.0.0.1 0 1 >/tmp/direct-srv &
wait_file /tmp/direct-srv
for server in blk-srv mshot-srv mshot-srv direct-srv; do
	port=$(port_of /tmp/$server)
	tcp_peer connect -c auto-cli 127.0.0.1 "$port" >/dev/null
done
wait_accepts 4 /tmp/blk-srv /tmp/mshot-srv /tmp/direct-srv
stop AUTO-ACCEPT $tracer
report AUTO-ACCEPT /tmp/accept.out
report AUTO-ACCEPT-ERR /tmp/accept.err
report AUTO-SERVER /tmp/blk-srv
report AUTO-SERVER /tmp/mshot-srv
report AUTO-SERVER /tmp/direct-srv
# Trampolines offered, but their attach refused (as when another ftrace user holds the
# function): auto tries a kprobe next, else the syscall tracepoints, and says so (-v).
echo "== accept, auto, trampolines refused at attach"
rm -f /tmp/accept.out /tmp/accept.err /tmp/fb-srv
REFUSE_BPF=fentry_attach LD_PRELOAD=/lib/refuse_bpf.so tcptrace accept -v >/tmp/accept.out 2>/tmp/accept.err &
tracer=$!
wait_file /tmp/accept.out
tcp_peer listen -c fb-srv -n 1 127.0.0.1 0 >/tmp/fb-srv &
wait_file /tmp/fb-srv
port=$(port_of /tmp/fb-srv)
tcp_peer connect -c fb-cli 127.0.0.1 "$port" >/dev/null
wait_accepts 1 /tmp/fb-srv
stop FALLBACK-ACCEPT $tracer
report FALLBACK-ACCEPT /tmp/accept.out
report FALLBACK-ACCEPT-ERR /tmp/accept.err
report FALLBACK-SERVER /tmp/fb-srv
# serve, scraped with busybox's wget: an accepted connection and its connect, counted.
echo "== serve"
rm -f /tmp/serve.err /tmp/sv-srv /tmp/metrics
tcptrace serve -v --listen 127.0.0.1:10026 2>/tmp/serve.err &
server=$!
i=0
while ! grep -q 'serving metrics' /tmp/serve.err && [ $i -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
tcp_peer listen -c sv-srv -n 1 127.0.0.1 0 >/tmp/sv-srv &
wait_file /tmp/sv-srv
tcp_peer connect -c sv-cli 127.0.0.1 "$(port_of /tmp/sv-srv)" >/dev/null
wait_accepts 1 /tmp/sv-srv
wget -q -O /tmp/metrics http://127.0.0.1:10026/metrics
echo "TT-SERVE-WGET-STATUS $?"
stop SERVE $server
report SERVE-METRICS /tmp/metrics
report SERVE-ERR /tmp/serve.err
report SERVE-SERVER /tmp/sv-srv
# A kernel without BTF, imitated: its own BTF hidden under a tmpfs. First the recipe of
# docs/kernel-support.md: a minimal BTF for tcptrace's object, made where BTF is.
echo "== no BTF"
bpftool gen min_core_btf /sys/kernel/btf/vmlinux /tmp/min.btf /lib/tcptrace.bpf.o
echo "TT-MIN-BTF-STATUS $? $(wc -c </tmp/min.btf)"
mount -t tmpfs tmpfs /sys/kernel/btf
tcptrace features --btf /tmp/min.btf >/tmp/features 2>&1
report NOBTF-FEATURES /tmp/features
tcptrace connect >/dev/null 2>/tmp/connect.err
echo "TT-NOBTF-BARE-STATUS $?"
report NOBTF-BARE-ERR /tmp/connect.err
rm -f /tmp/*.out /tmp/*.err /tmp/nb-srv /tmp/peers
tcptrace connect -x --btf /tmp/min.btf -v >/tmp/connect.out 2>/tmp/connect.err &
tracer=$!
tcptrace accept -x --btf /tmp/min.btf -v >/tmp/accept.out 2>/tmp/accept.err &
acceptor=$!
wait_file /tmp/connect.out
wait_file /tmp/accept.out
tcp_peer listen -c nb-srv -n 1 127.0.0.1 0 >/tmp/nb-srv &
wait_file /tmp/nb-srv
port=$(port_of /tmp/nb-srv)
tcp_peer connect -c nb-cli 127.0.0.1 "$port" >/tmp/peers
tcp_peer connect -c nb-refused 127.0.0.1 9 >>/tmp/peers
wait_accepts 1 /tmp/nb-srv
stop NOBTF-CONNECT $tracer
stop NOBTF-ACCEPT $acceptor
report NOBTF-CONNECT /tmp/connect.out
report NOBTF-CONNECT-ERR /tmp/connect.err
report NOBTF-PEER /tmp/peers
report NOBTF-ACCEPT /tmp/accept.out
report NOBTF-ACCEPT-ERR /tmp/accept.err
report NOBTF-SERVER /tmp/nb-srv
echo "TT-DONE"
poweroff -f
