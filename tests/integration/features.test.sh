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
expect_eq "header" "PROBE TP_BTF RAW_TP TRACEPOINT USED BY" \
	"$(grep '^PROBE' "$work/features" | tr -s ' ')"
expect_eq "inet_sock_set_state" "yes yes yes connect,accept" \
	"$(awk '$1 == "sock:inet_sock_set_state" { print $2, $3, $4, $5 }' "$work/features")"
expect_eq "tcp_destroy_sock" "yes yes yes connect" \
	"$(awk '$1 == "tcp:tcp_destroy_sock" { print $2, $3, $4, $5 }' "$work/features")"
expect_eq "kfree_skb" "yes yes yes accept" \
	"$(awk '$1 == "skb:kfree_skb" { print $2, $3, $4, $5 }' "$work/features")"
for event in syscalls:sys_exit_accept4 syscalls:sys_exit_accept io_uring:io_uring_complete; do
	expect_eq "$event" "- - yes accept" \
		"$(awk -v e=$event '$1 == e { print $2, $3, $4, $5 }' "$work/features")"
done

# What it calls available attaches: each method of sock:inet_sock_set_state.
for method in tp_btf raw_tp tracepoint; do
	tracer_start connect -A $method
	tracer_stop
done
finish
