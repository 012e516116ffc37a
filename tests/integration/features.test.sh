#!/usr/bin/env bash
# tcptrace features: what this kernel offers, and each method it calls available
# attaches for real.
. "$(dirname "$0")/lib.sh"

tcptrace=$TCPTRACE_BIN_DIR/tcptrace
"$tcptrace" features >"$work/features" 2>"$work/features.err"
expect_eq "exit status" 0 $?
expect_eq "stderr" "" "$(cat "$work/features.err")"
cat "$work/features"
field() { awk -v key="$1" -v col="$2" '$1 == key { print $col }' "$work/features"; }
expect_eq "kernel" "$(uname -r)" "$(field kernel 2)"
expect_eq "BTF" yes "$(field BTF 2)"
expect_eq "ring buffer" yes "$(awk '$1 == "ring" { print $3 }' "$work/features")"
expect_eq "header" "PROBE TP_BTF RAW_TP TRACEPOINT FENTRY KPROBE USED BY" \
	"$(grep '^PROBE' "$work/features" | tr -s ' ')"
row() { awk -v e="$1" '$1 == e { print $2, $3, $4, $7 }' "$work/features"; }
expect_eq "inet_sock_set_state" "yes yes yes connect,accept" "$(row sock:inet_sock_set_state)"
# Only the methods without twins clean up after missed runs (bpf/connect.bpf.c).
expect_eq "tcp_destroy_sock" "- - yes connect" "$(row tcp:tcp_destroy_sock)"
expect_eq "kfree_skb" "yes yes yes accept" "$(row skb:kfree_skb)"
# Its classic record has no socket: no tracepoint variant.
expect_eq "inet_sk_error_report" "yes yes - connect" "$(row sock:inet_sk_error_report)"
# This kernel has every field and outcome the commands read.
expect_eq "what the commands cannot give" "-        nothing: every field and outcome" \
	"$(sed -n '/^COMMAND  CANNOT GIVE HERE (with -A auto)$/,$p' "$work/features" | tail -n +2)"
# A function's probe alone; this kernel has neither trampolines nor kprobes.
expect_eq "__inet_accept" "- - - no no accept" \
	"$(awk '$1 == "__inet_accept()" { print $2, $3, $4, $5, $6, $7 }' "$work/features")"
for event in syscalls:sys_exit_accept4 syscalls:sys_exit_accept syscalls:sys_enter_accept4 \
	syscalls:sys_enter_accept io_uring:io_uring_complete; do
	expect_eq "$event" "- - yes accept" "$(row $event)"
done

# What it says of each method of sock:inet_sock_set_state is what forcing it does: a
# "yes" attaches, a "no" is refused with one line and status 1 (this machine's kernel
# has no kprobes and refuses fentry).
column=2
for method in tp_btf raw_tp tracepoint fentry kprobe; do
	offered=$(awk -v c=$column '$1 == "sock:inet_sock_set_state" { print $c }' "$work/features")
	column=$((column + 1))
	if [ "$offered" = yes ]; then
		tracer_start connect -A $method
		tracer_stop
		continue
	fi
	"$tcptrace" connect -A $method >"$work/forced.out" 2>"$work/forced.err"
	expect_eq "-A $method, not offered: status" 1 $?
	expect_match "-A $method, not offered: the line" \
		"^tcptrace: failed to attach [a-z_]+/tcp_set_state \(this kernel does not offer it\): Operation not supported$" \
		"$(cat "$work/forced.err")"
done
finish
