#!/usr/bin/env bash
# run.sh PACKAGE_REGEX: boots the newest Debian kernel package matching PACKAGE_REGEX
# under qemu (software emulation), runs scenario.sh there — connect and accept over
# loopback, with each attach method — and checks every field of every line, as the
# integration tests do here.
# The package is downloaded once into $KERNEL_CACHE.
. "$(dirname "$0")/../integration/lib.sh"

. "$(dirname "$0")/kernel.sh"
fetch_kernel "$1"

# The initramfs: busybox, the programs, the shared libraries they load, the scenario.
root=$work/root
mkdir -p "$root"/{bin,proc,sys,dev,tmp}
cp /bin/busybox "$root/bin/"
for applet in sh mount ip sleep cat kill grep sed uname mkdir poweroff insmod; do
	ln -s busybox "$root/bin/$applet"
done
# nft and its modules, for a REJECT rule's ICMP errors.
mkdir -p "$root/lib/reject"
cp "$work"/modules/*.ko "$root/lib/reject/"
echo "$REJECT_MODULES" >"$root/lib/reject/order"
programs=("$TCPTRACE_BIN_DIR/tcptrace" "$TCP_PEER" "$URING_ACCEPT" "$(command -v nft)")
cp "${programs[@]}" "$root/bin/"
cp "$REFUSE_BPF_LIB" "$root/lib/refuse_bpf.so"
# bpftool and the BPF object, to make a minimal BTF in the guest (the no-BTF scenario).
programs+=("$(command -v bpftool || echo /usr/sbin/bpftool)")
cp "${programs[-1]}" "$root/bin/"
cp "$TCPTRACE_BIN_DIR/bpf/tcptrace.bpf.o" "$root/lib/"
for lib in $(ldd "${programs[@]}" "$REFUSE_BPF_LIB" | grep -o '/[^ :]*' | sort -u); do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done
cp "$(dirname "$0")/scenario.sh" "$root/init"
chmod 755 "$root/init"

boot "$root"
echo "booted: $(section KERNEL)"
expect_eq "the REJECT rule loaded" 0 "$(section REJECT-RULE)"

check_connect() {
	local method=$1
	echo "== connect -A $method"
	section $method-CONNECT >"$work/trace.out"
	cat "$work/trace.out"
	expect_eq "connect's exit status" 0 "$(section $method-CONNECT-STATUS)"
	expect_eq "connect's stderr" "" "$(section $method-CONNECT-ERR)"
	while read -r peer_lines; do
		result=$(kv result "$peer_lines")
		# A failed socket's source address is cleared before getsockname() sees it.
		peer_lines=${peer_lines/saddr=-/saddr=127.0.0.1}
		expect_attempt "$result"
	done < <(section $method-PEER)
	# The write 300 ms after connect() sent the SYN: the round trip is far shorter.
	peer_lines=$(section $method-FO-LATE)
	expect_attempt ESTABLISHED 0.001 100
	peer_lines=$(section $method-FO-UNSENT)
	expect_eq "fo-unsent: the peer saw" unsent "$(kv result "$peer_lines")"
	the_row COMM=fo-unsent && expect_row SPORT "$(kv sport "$peer_lines")" "LAT(ms)" - RESULT UNSENT
	expect_eq "connect lines" 8 "$(trace_rows | grep -c .)"
	# -e: the peers are children of /init, PID 1; read through the task's parent.
	the_row COMM=cli4 && expect_row PPID 1 PCOMM "$(section INIT-COMM)"
	# Before 5.19, kernel.unprivileged_bpf_disabled makes bpf() refuse even a map read
	# without CAP_BPF: then CAP_BPF (bit 39) alone stays; otherwise nothing does.
	local left=0000000000000000
	case "$(section KERNEL)" in
	[0-4].* | 5.[0-9].* | 5.1[0-8].*)
		[ "$(section UNPRIVILEGED-BPF-DISABLED)" != 0 ] && left=0000008000000000 ;;
	esac
	expect_eq "capabilities left while tracing (permitted, effective)" "$left $left" \
		"$(section $method-CAPS | sed 's/ *$//')"
}

check_accept() {
	local method=$1 line refused
	echo "== accept -A $method"
	section $method-ACCEPT >"$work/trace.out"
	cat "$work/trace.out"
	expect_eq "accept's exit status" 0 "$(section $method-ACCEPT-STATUS)"
	# fentry and kprobe take every accept at __inet_accept, io_uring's included.
	local missing=$missing_submit
	[ "$method" = fentry ] || [ "$method" = kprobe ] && missing=
	expect_eq "accept's stderr" "$missing" "$(section $method-ACCEPT-ERR)"
	line=$(section $method-SERVER | grep 'comm=acc-srv')
	expect_accepted "$line" && expect_row UID 0 BACKLOG 0/128 RESULT ACCEPTED \
		PPID 1 PCOMM "$(section INIT-COMM)" &&
		expect_between "QUEUED(ms), the server waited 100 ms" 100 1000 "$(kv 'QUEUED(ms)' "$row")"
	line=$(section $method-SERVER | grep 'comm=uring-srv')
	the_row RPORT="$(kv rport "$line")" LPORT="$(kv lport "$line")" &&
		expect_row PID "$(kv pid "$line")" COMM uring-srv IP 4 RADDR 127.0.0.1 RESULT ACCEPTED
	refused=$(section $method-REFUSED)
	the_row RPORT="$(kv sport "$refused")" LPORT=9 &&
		expect_row PID - COMM - IP 4 RADDR 127.0.0.1 LADDR 127.0.0.1 RESULT REFUSED
}

echo "== features"
section FEATURES | tee "$work/features"
expect_eq "features: kernel" "$(section KERNEL)" "$(awk '$1 == "kernel" { print $2 }' "$work/features")"
# Debian's kernels have kprobes and fentry: every method is there.
expect_eq "features: sock:inet_sock_set_state" "yes yes yes yes yes" \
	"$(awk '$1 == "sock:inet_sock_set_state" { print $2, $3, $4, $5, $6 }' "$work/features")"
# Only the methods without twins clean up after missed runs (bpf/connect.bpf.c).
expect_eq "features: tcp:tcp_destroy_sock" "- - yes yes yes" \
	"$(awk '$1 == "tcp:tcp_destroy_sock" { print $2, $3, $4, $5, $6 }' "$work/features")"
expect_eq "features: skb:kfree_skb" "yes yes yes - -" \
	"$(awk '$1 == "skb:kfree_skb" { print $2, $3, $4, $5, $6 }' "$work/features")"
expect_eq "features: __inet_accept()" "- - - yes yes" \
	"$(awk '$1 == "__inet_accept()" { print $2, $3, $4, $5, $6 }' "$work/features")"
expect_eq "features: sock:inet_sk_error_report" "yes yes - yes yes" \
	"$(awk '$1 == "sock:inet_sk_error_report" { print $2, $3, $4, $5, $6 }' "$work/features")"
# Debian's 6.1 names the submission event io_uring_submit_sqe: accept goes without it.
# It says so, once.
case "$(section KERNEL)" in
6.1.*)
	submit=no
	missing_submit="tcptrace: this kernel has no tracepoint io_uring:io_uring_submit_req: multishot io_uring accepts go unseen"
	;;
*) submit=yes missing_submit= ;;
esac
expect_eq "features: io_uring_submit_req" "$submit" \
	"$(awk '$1 == "io_uring:io_uring_submit_req" { print $4 }' "$work/features")"
for method in tp_btf raw_tp tracepoint fentry kprobe; do
	check_connect $method
	check_accept $method
done

echo "== accept, auto: fentry on __inet_accept, no syscall tracepoint"
section AUTO-ACCEPT >"$work/trace.out"
cat "$work/trace.out"
section AUTO-ACCEPT-ERR >"$work/trace.err"
expect_eq "accept's exit status" 0 "$(section AUTO-ACCEPT-STATUS)"
expect_eq "-v: attached at __inet_accept" 1 \
	"$(grep -c '^tcptrace: attached accept_accepted_fentry: fentry/__inet_accept$' "$work/trace.err")"
expect_eq "-v: no syscall or io_uring tracepoint" 0 \
	"$(grep -c '^tcptrace: attached .*tracepoint/' "$work/trace.err")"
expect_eq "-v: no attempt failed" 0 "$(grep -c '^tcptrace: attaching as' "$work/trace.err")"
# Blocked in accept() before tracing started, yet seen: __inet_accept runs after the wait.
line=$(section AUTO-SERVER | grep 'comm=blk-srv')
expect_accepted "$line"
# Multishot, armed before tracing started: each connection is seen.
section AUTO-SERVER | grep 'comm=mshot-srv' >"$work/mshot"
expect_eq "multishot accepts" 2 "$(grep -c . "$work/mshot")"
while read -r line; do
	the_row RPORT="$(kv rport "$line")" LPORT="$(kv lport "$line")" &&
		expect_row PID "$(kv pid "$line")" COMM mshot-srv IP 4 RADDR 127.0.0.1
done <"$work/mshot"
# A direct accept has no descriptor, but the process accepted the connection.
line=$(section AUTO-SERVER | grep '^accept direct')
port=$(section AUTO-SERVER | sed -n "s/^listening pid=$(kv pid "$line") port=\([0-9]*\).*/\1/p")
the_row LPORT="$port" && expect_row PID "$(kv pid "$line")" COMM direct-srv IP 4 RADDR 127.0.0.1
expect_eq "accept lines" 4 "$(trace_rows | grep -c .)"

echo "== accept, auto, fentry offered but refused at attach: the syscall tracepoints"
section FALLBACK-ACCEPT >"$work/trace.out"
cat "$work/trace.out"
section FALLBACK-ACCEPT-ERR | grep -v '^libbpf' >"$work/trace.err"
expect_eq "accept's exit status" 0 "$(section FALLBACK-ACCEPT-STATUS)"
expect_eq "-v: the fallback" "tcptrace: attaching as tp_btf with accept_accepted as fentry failed (attach accept_accepted_fentry: Device or resource busy): trying tp_btf without accept_accepted" \
	"$(grep '^tcptrace: attaching as' "$work/trace.err")"
expect_eq "-v: the syscall tracepoints" 2 \
	"$(grep -c '^tcptrace: attached accept_accept4\?_exit: tracepoint/syscalls/' "$work/trace.err")"
expect_accepted "$(section FALLBACK-SERVER | grep 'comm=fb-srv')"
expect_eq "accept lines" 1 "$(trace_rows | grep -c .)"

echo "== no BTF: the minimal BTF of bpftool gen min_core_btf, given with --btf"
expect_eq "bpftool gen min_core_btf's status" 0 "$(section MIN-BTF-STATUS | cut -d' ' -f1)"
echo "minimal BTF: $(section MIN-BTF-STATUS | cut -d' ' -f2) bytes"
section NOBTF-FEATURES | tee "$work/features"
expect_eq "features: BTF" "no (types from /tmp/min.btf)" \
	"$(sed -n 's/^BTF  *//p' "$work/features")"
# Without the kernel's own BTF, tp_btf and fentry cannot attach; raw_tp and kprobe can.
expect_eq "features: sock:inet_sock_set_state" "no yes yes no yes" \
	"$(awk '$1 == "sock:inet_sock_set_state" { print $2, $3, $4, $5, $6 }' "$work/features")"
expect_eq "features: __inet_accept()" "- - - no yes" \
	"$(awk '$1 == "__inet_accept()" { print $2, $3, $4, $5, $6 }' "$work/features")"
expect_eq "without --btf: status" 1 "$(section NOBTF-BARE-STATUS)"
expect_eq "without --btf: the line" "tcptrace: this kernel has no BTF (/sys/kernel/btf/vmlinux is missing): give its types with --btf FILE, from BTFHub or bpftool gen min_core_btf (tcptrace(8), REQUIREMENTS)" \
	"$(section NOBTF-BARE-ERR)"
section NOBTF-CONNECT >"$work/trace.out"
cat "$work/trace.out"
section NOBTF-CONNECT-ERR | grep -v '^libbpf' >"$work/trace.err"
expect_eq "connect's exit status" 0 "$(section NOBTF-CONNECT-STATUS)"
expect_eq "-v: connect attached as raw_tp" 1 \
	"$(grep -c '^tcptrace: attached connect_state_raw: raw_tp/inet_sock_set_state$' "$work/trace.err")"
while read -r peer_lines; do
	result=$(kv result "$peer_lines")
	peer_lines=${peer_lines/saddr=-/saddr=127.0.0.1}
	expect_attempt "$result"
done < <(section NOBTF-PEER)
section NOBTF-ACCEPT >"$work/trace.out"
cat "$work/trace.out"
section NOBTF-ACCEPT-ERR | grep -v '^libbpf' >"$work/trace.err"
expect_eq "accept's exit status" 0 "$(section NOBTF-ACCEPT-STATUS)"
expect_eq "-v: accepts taken by kprobe" 1 \
	"$(grep -c '^tcptrace: attached accept_accepted_kprobe: kprobe/__inet_accept$' "$work/trace.err")"
line=$(section NOBTF-SERVER | grep 'comm=nb-srv')
expect_accepted "$line" && expect_row UID 0 BACKLOG 0/128
finish
