#!/usr/bin/env bash
# Who accepted: the server, never the client, whatever runs the handshake. Client and
# server are different processes with different names, over veth (the handshake in
# softirq) and over loopback (the handshake in the client's own context), IPv4, IPv6
# and v4-mapped; accept(), accept4(SOCK_NONBLOCK|SOCK_CLOEXEC) and io_uring; and every
# server is already blocked in accept() when tracing starts. Unix-socket and UDP
# accepts are not reported.
. "$(dirname "$0")/lib.sh"

ns_pair
ns_add loop
server_start server $SERVER4 srv-veth4 -m accept
veth4=$server_out veth4_port=$server_port veth4_pid=$server_pid
server_start server $SERVER6 srv-veth6 -m accept4-nonblock
veth6=$server_out veth6_port=$server_port
server_start loop 127.0.0.1 srv-lo4
lo4=$server_out lo4_port=$server_port
server_start loop ::1 srv-lo6 -m accept
lo6=$server_out lo6_port=$server_port
server_start loop :: srv-mapped -D
mapped=$server_out mapped_port=$server_port mapped_pid=$server_pid
uring="$work/uring.out"
in_ns loop "$URING_ACCEPT" -c srv-uring 127.0.0.1 0 1 >"$uring" &
background+=($!)
wait_for_line "$uring" '^listening' $! || die "uring_accept did not start"
uring_port=$(kv port "$(head -n 1 "$uring")")

# The accept() calls began before the tracer: their returns must still be reported.
expect_eq "server blocked in accept() before tracing" inet_csk_accept "$(cat /proc/$veth4_pid/wchan)"

tracer_start accept
peer client -c cli-veth4 $SERVER4 $veth4_port
peer client -c cli-veth6 $SERVER6 $veth6_port
peer loop -c cli-lo4 127.0.0.1 $lo4_port
peer loop -c cli-lo6 ::1 $lo6_port
peer loop -c cli-mapped 127.0.0.1 $mapped_port
peer loop -c cli-uring 127.0.0.1 $uring_port
not_tcp=$(in_ns loop "$TCP_PEER" not-tcp "$work") || die "not-tcp peer failed"
echo "$not_tcp"
for out in "$veth4" "$veth6" "$lo4" "$lo6" "$mapped"; do
	wait_accepts "$out" 1
done
wait_accepts "$uring" 1
tracer_stop

expect_eq "header" "PID     COMM             IP RADDR                                   RPORT LADDR                                   LPORT" \
	"$(head -n 1 "$work/trace.out")"
for out in "$veth4" "$veth6" "$lo4" "$lo6"; do
	expect_accepted "$(grep '^accept ' "$out")"
done

# An IPv6 listener's IPv4 client: the server sees ::ffff:127.0.0.1; reported as IPv4.
line=$(grep '^accept ' "$mapped")
expect_eq "the server's view" "::ffff:127.0.0.1" "$(kv raddr "$line")"
the_row RPORT="$(kv rport "$line")" LPORT="$mapped_port" &&
	expect_row PID "$mapped_pid" COMM srv-mapped IP 4 RADDR 127.0.0.1 LADDR 127.0.0.1

# io_uring: named after the process that owns the ring.
line=$(grep '^accept ' "$uring")
the_row RPORT="$(kv rport "$line")" LPORT="$uring_port" &&
	expect_row PID "$(kv pid "$line")" COMM srv-uring IP 4 RADDR 127.0.0.1 LADDR 127.0.0.1

expect_eq "lines naming a client" 0 "$(trace_rows | grep -c 'COMM=cli-')"
expect_eq "lines for unix and UDP accepts" 0 "$(trace_rows PID="$(kv pid "$not_tcp")" | grep -c .)"
expect_eq "UDP accept() failed as expected" EOPNOTSUPP "$(kv udp_accept "$not_tcp")"
expect_eq "lines of this test's servers" 6 "$(trace_rows | grep -c 'COMM=srv-')"
finish
