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
for applet in sh mount ip sleep cat kill grep sed uname mkdir poweroff insmod wget; do
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

# What each kernel lacks, and the line tcptrace says it in (docs/kernel-support.md).
kernel=$(section KERNEL)
k510= before615=yes submit=yes
case $kernel in 5.10.*) k510=yes ;; esac
case $kernel in [0-5].* | 6.[0-9].* | 6.1[0-4].*) ;; *) before615= ;; esac
case $kernel in 5.* | 6.1.*) submit=no ;; esac
says() { echo "tcptrace: this kernel $*"; }
no_error_report=$(says "has no tracepoint sock:inet_sk_error_report: an ICMP error that a non-blocking connect takes with SO_ERROR shows as ABANDONED")
no_submit=$(says "has no tracepoint io_uring:io_uring_submit_req: multishot io_uring accepts go unseen")
no_uring=$(says "cannot give io_uring accepts: its io_uring:io_uring_complete carries no request")
no_refused=$(says "cannot give REFUSED, which needs the packet drop reasons of Linux 5.17, or fentry or kprobe")
no_dropped=$(says "cannot give DROPPED, which needs the drop reason TCP_LISTEN_OVERFLOW of Linux 6.15, or fentry or kprobe")
# The preferred probe accept takes its connections with: __inet_accept() from 6.1,
# do_accept() (fexit alone) on 5.10.
preferred=accepted function=__inet_accept
[ -n "$k510" ] && preferred=returned function=do_accept
# on510 A B: A on 5.10, B elsewhere.
on510() { if [ -n "$k510" ]; then echo "$1"; else echo "$2"; fi; }
# lines LINE...: the non-empty ones, one each.
lines() { printf '%s\n' "$@" | grep .; }

# accept_way METHOD: preferred where -A METHOD attaches the preferred probe, else syscalls.
accept_way() {
	case $1 in
	fentry) echo preferred ;;
	kprobe) [ -n "$k510" ] && echo syscalls || echo preferred ;;
	*) echo syscalls ;;
	esac
}

check_connect() {
	local method=$1 expected
	echo "== connect -A $method"
	section $method-CONNECT >"$work/trace.out"
	cat "$work/trace.out"
	expect_eq "connect's exit status" 0 "$(section $method-CONNECT-STATUS)"
	expect_eq "connect's stderr" "${k510:+$no_error_report}" "$(section $method-CONNECT-ERR)"
	while read -r peer_lines; do
		result=$(kv result "$peer_lines")
		# A failed socket's source address is cleared before getsockname() sees it.
		peer_lines=${peer_lines/saddr=-/saddr=127.0.0.1}
		if [ -n "$k510" ] && [ "$(kv comm "$peer_lines")" = icmp ]; then
			expect_attempt ABANDONED 0.001 10000 # as said, and until its close()
		else
			expect_attempt "$result"
		fi
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
	case "$kernel" in
	[0-4].* | 5.[0-9].* | 5.1[0-8].*)
		[ "$(section UNPRIVILEGED-BPF-DISABLED)" != 0 ] && left=0000008000000000 ;;
	esac
	expect_eq "capabilities left while tracing (permitted, effective)" "$left $left" \
		"$(section $method-CAPS | sed 's/ *$//')"
	expect_eq "the system call filter while tracing (Seccomp)" 2 "$(section $method-SECCOMP)"
}

check_accept() {
	local method=$1 line refused way expected resets= overflows=yes dropped
	# Before the overflow's drop reason, DROPPED comes from tcp_v4_syn_recv_sock().
	[ -n "$before615" ] && [ $method != fentry ] && [ $method != kprobe ] && overflows=
	# Debian's 6.1 loads a trampoline on it, but will not attach one (ENOTSUPP): said.
	case $kernel in 6.1.*) [ $method = fentry ] && overflows= ;; esac
	way=$(accept_way $method)
	# Before drop reasons, REFUSED comes from the resets sent, by fentry or kprobe.
	[ -n "$k510" ] && { [ $method = fentry ] || [ $method = kprobe ]; } && resets=yes
	echo "== accept -A $method ($way)"
	section $method-ACCEPT >"$work/trace.out"
	cat "$work/trace.out"
	expect_eq "accept's exit status" 0 "$(section $method-ACCEPT-STATUS)"
	if [ $way = syscalls ]; then
		[ $submit = no ] && expected=$no_submit
		[ -n "$k510" ] && expected=$(lines "$expected" "$no_uring")
	fi
	[ -n "$k510" ] && [ -z "$resets" ] && expected=$(lines "${expected:-}" "$no_refused")
	[ -z "$overflows" ] && expected=$(lines "${expected:-}" "$no_dropped")
	expect_eq "accept's stderr" "${expected:-}" "$(section $method-ACCEPT-ERR)"
	line=$(section $method-SERVER | grep 'comm=acc-srv')
	expect_accepted "$line" && expect_row UID 0 BACKLOG 0/128 RESULT ACCEPTED \
		PPID 1 PCOMM "$(section INIT-COMM)" &&
		expect_between "QUEUED(ms), the server waited 100 ms" 100 1000 "$(kv 'QUEUED(ms)' "$row")"
	line=$(section $method-SERVER | grep 'comm=uring-srv')
	if [ $way = syscalls ] && [ -n "$k510" ]; then
		expect_eq "io_uring accepts, as said" 0 "$(trace_rows COMM=uring-srv | grep -c .)"
	else
		the_row RPORT="$(kv rport "$line")" LPORT="$(kv lport "$line")" &&
			expect_row PID "$(kv pid "$line")" COMM uring-srv IP 4 RADDR 127.0.0.1 RESULT ACCEPTED
	fi
	refused=$(section $method-REFUSED)
	if [ -n "$k510" ] && [ -z "$resets" ]; then
		expect_eq "REFUSED lines, as said" 0 "$(trace_rows RESULT=REFUSED | grep -c .)"
	else
		the_row RPORT="$(kv sport "$refused")" LPORT=9 &&
			expect_row PID - COMM - IP 4 RADDR 127.0.0.1 LADDR 127.0.0.1 RESULT REFUSED
	fi
	check_dropped "$method" "$overflows"
}

# check_dropped METHOD GIVEN: the overflowing queue's drops, each from one of the two
# clients that found it full, if the kernel gives DROPPED that way; else none.
check_dropped() {
	local lport rports sports
	lport=$(kv port "$(section "$1-OVERFLOW")")
	dropped=$(trace_rows LPORT="$lport" RESULT=DROPPED)
	if [ -z "$2" ]; then
		expect_eq "DROPPED lines, as said" "" "$dropped"
		return
	fi
	expect_between "DROPPED lines" 1 40 "$(printf '%s' "$dropped" | grep -c .)"
	row=$(head -n 1 <<<"$dropped")
	expect_row PID - COMM - IP 4 RADDR 127.0.0.1 LADDR 127.0.0.1
	sports=$(section "$1-OVERFLOW-PEERS" | sed -n 's/.* sport=\([0-9]*\).*/\1/p' | sort -u)
	rports=$(sed -n 's/.*RPORT=\([0-9]*\).*/\1/p' <<<"$dropped" | sort -u)
	expect_eq "DROPPED from the clients alone" "" "$(comm -23 <(echo "$rports") <(echo "$sports"))"
	expect_between "clients that found the queue full" 1 2 "$(grep -c . <<<"$rports")"
}

# features_row PROBE: its five methods' cells.
features_row() {
	awk -v p="$1" '$1 == p { print $2, $3, $4, $5, $6 }' "$work/features"
}

echo "== features"
section FEATURES | tee "$work/features"
expect_eq "features: kernel" "$kernel" "$(awk '$1 == "kernel" { print $2 }' "$work/features")"
# Debian's kernels have kprobes and fentry: every method is there.
expect_eq "features: sock:inet_sock_set_state" "yes yes yes yes yes" \
	"$(features_row sock:inet_sock_set_state)"
# Only the methods without twins clean up after missed runs (bpf/connect.bpf.c).
expect_eq "features: tcp:tcp_destroy_sock" "- - yes yes yes" "$(features_row tcp:tcp_destroy_sock)"
expect_eq "features: skb:kfree_skb" "yes yes yes - -" "$(features_row skb:kfree_skb)"
expect_eq "features: __inet_accept()" "- - - $(on510 "no no" "yes yes")" \
	"$(features_row "__inet_accept()")"
expect_eq "features: do_accept()" "- - - yes -" "$(features_row "do_accept()")"
expect_eq "features: tcp_v4_send_reset()" "- - - yes yes" "$(features_row "tcp_v4_send_reset()")"
expect_eq "features: tcp_v6_send_reset()" "- - - yes yes" "$(features_row "tcp_v6_send_reset()")"
expect_eq "features: tcp_v4_syn_recv_sock()" "- - - yes yes" "$(features_row "tcp_v4_syn_recv_sock()")"
expect_eq "features: sock:inet_sk_error_report" "$(on510 "no no - no no" "yes yes - yes yes")" \
	"$(features_row sock:inet_sk_error_report)"
# Debian's 6.1 names the submission event io_uring_submit_sqe: accept goes without it.
expect_eq "features: io_uring_submit_req" "$submit" \
	"$(awk '$1 == "io_uring:io_uring_submit_req" { print $4 }' "$work/features")"
# What auto's programs cannot give: the same lines as accept -f says at start.
expected=
expect_eq "features: what accept cannot give" "${expected:--        nothing: every field and outcome}" \
	"$(sed -n '/^COMMAND  CANNOT GIVE/,$p' "$work/features" | tail -n +2)"
for method in tp_btf raw_tp tracepoint fentry kprobe; do
	check_connect $method
	check_accept $method
done

echo "== accept, auto: fentry on $function, no syscall tracepoint"
section AUTO-ACCEPT >"$work/trace.out"
cat "$work/trace.out"
section AUTO-ACCEPT-ERR >"$work/trace.err"
expect_eq "accept's exit status" 0 "$(section AUTO-ACCEPT-STATUS)"
section="fentry/$function" && [ -n "$k510" ] && section="fexit/$function"
expect_eq "-v: attached at $function" 1 \
	"$(grep -c "^tcptrace: attached accept_${preferred}_fentry: $section\$" "$work/trace.err")"
expect_eq "-v: no syscall or io_uring tracepoint" 0 \
	"$(grep -c '^tcptrace: attached .*tracepoint/' "$work/trace.err")"
expect_eq "-v: no attempt failed" 0 "$(grep -c '^tcptrace: attaching as' "$work/trace.err")"
line=$(section AUTO-SERVER | grep 'comm=blk-srv')
section AUTO-SERVER | grep 'comm=mshot-srv' >"$work/mshot"
if [ -n "$k510" ]; then
	# An fexit misses a call already in progress; 5.10 has no multishot accept.
	expect_eq "blocked before tracing, on 5.10: unseen, as documented" 0 \
		"$(trace_rows COMM=blk-srv | grep -c .)"
	expect_eq "multishot accepts" 0 "$(grep -c . "$work/mshot")"
else
	# Blocked in accept() before tracing started, yet seen: __inet_accept runs after
	# the wait.
	expect_accepted "$line"
	# Multishot, armed before tracing started: each connection is seen.
	expect_eq "multishot accepts" 2 "$(grep -c . "$work/mshot")"
fi
while read -r line; do
	the_row RPORT="$(kv rport "$line")" LPORT="$(kv lport "$line")" &&
		expect_row PID "$(kv pid "$line")" COMM mshot-srv IP 4 RADDR 127.0.0.1
done <"$work/mshot"
# A direct accept has no descriptor, but the process accepted the connection. (On
# 5.10, the helper cannot make the sparse file table it accepts into.)
line=$(section AUTO-SERVER | grep '^accept direct')
if [ -z "$k510" ]; then
	port=$(section AUTO-SERVER | sed -n "s/^listening pid=$(kv pid "$line") port=\([0-9]*\).*/\1/p")
	the_row LPORT="$port" && expect_row PID "$(kv pid "$line")" COMM direct-srv IP 4 RADDR 127.0.0.1
fi
expect_eq "accept lines" "$(on510 0 4)" "$(trace_rows | grep -c .)"

# Where kprobes can take __inet_accept, they do; on 5.10 the syscall tracepoints.
echo "== accept, auto, trampolines refused at attach: $(on510 "the syscall tracepoints" kprobe)"
section FALLBACK-ACCEPT >"$work/trace.out"
cat "$work/trace.out"
section FALLBACK-ACCEPT-ERR | grep -v '^libbpf' >"$work/trace.err"
expect_eq "accept's exit status" 0 "$(section FALLBACK-ACCEPT-STATUS)"
expect_eq "-v: the fallback" "tcptrace: attaching as tp_btf with accept_$preferred as fentry failed (attach accept_${preferred}_fentry: Device or resource busy): trying tp_btf $(on510 "without accept_$preferred" "with accept_accepted as kprobe")" \
	"$(grep '^tcptrace: attaching as' "$work/trace.err" | head -n 1)"
if [ -n "$k510" ]; then
	expect_eq "-v: the syscall tracepoints" 2 \
		"$(grep -c '^tcptrace: attached accept_accept4\?_exit: tracepoint/syscalls/' "$work/trace.err")"
else
	expect_eq "-v: attached by kprobe" 1 \
		"$(grep -c '^tcptrace: attached accept_accepted_kprobe: kprobe/__inet_accept$' "$work/trace.err")"
fi
expect_accepted "$(section FALLBACK-SERVER | grep 'comm=fb-srv')"
expect_eq "accept lines" 1 "$(trace_rows | grep -c .)"

echo "== serve, scraped by busybox's wget"
section SERVE-METRICS >"$work/metrics"
expect_eq "wget's exit status" 0 "$(section SERVE-WGET-STATUS)"
expect_eq "serve's exit status" 0 "$(section SERVE-STATUS)"
port=$(section SERVE-SERVER | sed -n 's/^listening .* port=\([0-9]*\).*/\1/p')
expect_eq "accepts on the server's port" 1 \
	"$(awk -v m="tcptrace_accepts_total{lport=\"$port\"" 'index($0, m) == 1 { s += $NF } END { print s + 0 }' "$work/metrics")"
# The client's, and wget's own.
expect_between "connects ESTABLISHED" 1 2 \
	"$(awk 'index($0, "tcptrace_connect_attempts_total{result=\"ESTABLISHED\"") == 1 { s += $NF } END { print s + 0 }' "$work/metrics")"
expect_eq "accept's programs" 1 "$(grep -c "^tcptrace: attached accept_${preferred}_fentry: " <(section SERVE-ERR))"

echo "== no BTF: the minimal BTF of bpftool gen min_core_btf, given with --btf"
expect_eq "bpftool gen min_core_btf's status" 0 "$(section MIN-BTF-STATUS | cut -d' ' -f1)"
echo "minimal BTF: $(section MIN-BTF-STATUS | cut -d' ' -f2) bytes"
section NOBTF-FEATURES | tee "$work/features"
expect_eq "features: BTF" "no (types from /tmp/min.btf)" \
	"$(sed -n 's/^BTF  *//p' "$work/features")"
# Without the kernel's own BTF, tp_btf and fentry cannot attach; raw_tp and kprobe can.
expect_eq "features: sock:inet_sock_set_state" "no yes yes no yes" \
	"$(features_row sock:inet_sock_set_state)"
expect_eq "features: __inet_accept()" "- - - no $(on510 no yes)" \
	"$(features_row "__inet_accept()")"
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
if [ -n "$k510" ]; then
	# No kprobe way there: the syscall tracepoints. Before bpf_task_pt_regs() (5.15),
	# the listener comes from what the entry tracepoints kept.
	expect_eq "-v: accepts taken by the syscall tracepoints" 1 \
		"$(grep -c '^tcptrace: attached accept_accept4_exit: tracepoint/syscalls/sys_exit_accept4$' "$work/trace.err")"
	expect_eq "-v: the listener kept at entry" 1 \
		"$(grep -c '^tcptrace: attached accept_listener_accept4: tracepoint/syscalls/sys_enter_accept4$' "$work/trace.err")"
else
	expect_eq "-v: accepts taken by kprobe" 1 \
		"$(grep -c '^tcptrace: attached accept_accepted_kprobe: kprobe/__inet_accept$' "$work/trace.err")"
fi
line=$(section NOBTF-SERVER | grep 'comm=nb-srv')
expect_accepted "$line" && expect_row UID 0 BACKLOG 0/128
finish
