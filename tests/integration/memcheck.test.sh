#!/usr/bin/env bash
# valgrind memcheck over traced sessions, connect, accept and serve: no invalid read or write,
# no use of an uninitialised value, and nothing definitely or indirectly leaked at exit.
# tests/memcheck/libbpf.supp holds what valgrind's bpf() wrapper gets wrong, with why.
. "$(dirname "$0")/lib.sh"

command -v valgrind >/dev/null || die "valgrind is needed"
supp=$(dirname "$0")/../memcheck/libbpf.supp
ns_add loop
server_start loop 127.0.0.1 vg-srv

# memcheck_start NAME ARGS...: tcptrace -v ARGS under memcheck as the tracer; valgrind's
# report goes to $work/NAME.vg. Without the system call filter: valgrind makes its own
# calls in the process (executable memory for its translations among them).
memcheck_start() {
	local name=$1
	shift
	fresh "$work/trace.out" "$work/trace.err"
	valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--show-leak-kinds=definite,indirect --suppressions="$supp" \
		--log-file="$work/$name.vg" "$TCPTRACE_BIN_DIR/tcptrace" "$@" -v --no-seccomp \
		>"$work/trace.out" 2>"$work/trace.err" &
	tracer_pid=$!
	# Under valgrind, loading takes seconds; -v says when the probes are attached.
	for i in $(seq 600); do
		grep -q '^tcptrace: dropped every capability' "$work/trace.err" && return
		kill -0 $tracer_pid 2>/dev/null || break
		sleep 0.1
	done
	die "tracer under valgrind did not start: $(cat "$work/trace.err" "$work/$name.vg")"
}
memcheck_finish() {
	local name=$1
	tracer_interrupt "exit status under memcheck ($name)"
	expect_eq "memcheck errors ($name)" "0 errors" \
		"$(sed -n 's/.*ERROR SUMMARY: \([0-9]* errors\).*/\1/p' "$work/$name.vg")"
	grep -q 'ERROR SUMMARY: 0 errors' "$work/$name.vg" || cat "$work/$name.vg"
}

echo "== connect -x -U: established and refused"
memcheck_start connect connect -x -U
peer loop -c vg-ok 127.0.0.1 $server_port
peer loop -c vg-refused 127.0.0.1 1
sleep 0.5
memcheck_finish connect
expect_eq "lines for both attempts" 2 "$(our_rows)"

echo "== accept -x -f"
memcheck_start accept accept -x -f
peer loop -c vg-acc 127.0.0.1 $server_port
wait_accepts "$server_out" 2
peer loop -c vg-nobody 127.0.0.1 1
sleep 0.5
memcheck_finish accept
expect_eq "the accepted and the refused" "ACCEPTED REFUSED" \
	"$(trace_rows | sed -n 's/.*RESULT=\([A-Z]*\).*/\1/p' | sort | tr '\n' ' ' | sed 's/ $//')"

echo "== connect -c -H -j: the summaries' tables"
memcheck_start summaries connect -c -H -j
peer loop -c vg-sum -r 3 127.0.0.1 $server_port
sleep 0.5
memcheck_finish summaries
# The server's port alone: the machine's other connections are counted too.
expect_eq "three counted" 3 "$(jq -s --argjson p $server_port \
	'[.[] | select(.event == "counts") | .rows[] | select(.dport == $p) | .connects] | add' \
	"$work/trace.out")"

echo "== serve -f --label daddr,dport: counted, scraped, a request refused"
port=$(free_port)
memcheck_start serve serve -f --label daddr,dport --listen "127.0.0.1:$port" \
	--netns "/run/netns/$(ns_name loop)"
for i in $(seq 100); do grep -q '^tcptrace: serving' "$work/trace.err" && break; sleep 0.1; done
peer loop -c vg-serve -r 2 127.0.0.1 $server_port
peer loop -c vg-refused 127.0.0.1 1
sleep 0.5
curl -s -m 10 "http://127.0.0.1:$port/metrics" >"$work/metrics"
curl -s -m 10 -o /dev/null -X POST "http://127.0.0.1:$port/metrics"
memcheck_finish serve
expect_eq "established, counted" 2 "$(awk '/^tcptrace_connect_attempts_total\{result="ESTABLISHED"/ { s += $2 } END { print s + 0 }' "$work/metrics")"
finish
