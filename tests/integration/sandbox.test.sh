#!/usr/bin/env bash
# The system call filter: on while tracing (Seccomp: 2), in every mode, with tracing
# going on under it (connect and its summaries, accept with -j's identities, serve with
# a scrape); off with --no-seccomp; and a call tcptrace never makes, attempted from the
# event path (forbidden_call.so), stops the run with one line naming it. The rest of the
# suite runs under the filter too.
. "$(dirname "$0")/lib.sh"

ns_add loop
server_start loop 127.0.0.1 sbx-srv
srv=$server_port

# seccomp_mode: the tracer's Seccomp line (0: none, 2: a filter).
seccomp_mode() {
	awk '$1 == "Seccomp:" { print $2 }' "/proc/$tracer_pid/status"
}
# filter_on WHAT: once -v says the filter is on, Seccomp must be 2.
filter_on() {
	wait_for_line "$work/trace.err" '^tcptrace: system call filter on: [0-9]* calls allowed from now on$' \
		$tracer_pid || fail "$1: -v did not say the filter is on: $(cat "$work/trace.err")"
	expect_eq "$1: Seccomp" 2 "$(seccomp_mode)"
}

# A sanitizer's build runs without the filter (docs/security.md): nothing to check.
"$TCPTRACE_BIN_DIR/tcptrace" connect -v -d 0.2 >/dev/null 2>"$work/probe.err" ||
	die "a short run failed: $(grep -v '^libbpf' "$work/probe.err")"
if grep -q "^tcptrace: no system call filter: a sanitizer's build" "$work/probe.err"; then
	echo "a sanitizer's build: no filter to test"
	exit 77
fi

echo "== connect: the filter is on, and tracing goes on under it"
tracer_start_json connect
filter_on connect
peer loop -c sbx-cli 127.0.0.1 $srv
wait_for_line "$work/trace.out" sbx-cli $tracer_pid || fail "no event under the filter"
tracer_interrupt "exit status under the filter"

echo "== connect -c: the summary is printed at exit, under the filter"
tracer_start_json connect -c
filter_on "connect -c"
peer loop -c sbx-count 127.0.0.1 $srv
tracer_interrupt "exit status of -c under the filter"
expect_eq "the count" 1 \
	"$(jq -r --argjson p $srv 'select(.event == "counts") | .rows[] | select(.dport == $p) | .connects' \
		"$work/trace.out")"

echo "== accept -j: identities resolved under the filter"
tracer_start_json accept
filter_on "accept -j"
peer loop -c sbx-acc 127.0.0.1 $srv
wait_for_line "$work/trace.out" sbx-srv $tracer_pid || fail "no accept under the filter"
tracer_interrupt "exit status of accept under the filter"
expect_eq "its cgroup named" 1 \
	"$(jq -r 'select(.comm == "sbx-srv") | .cgroup | length > 0' "$work/trace.out" | grep -c true)"

echo "== serve: a scrape under the filter"
serve_start "/run/netns/$(ns_name loop)"
filter_on serve
peer loop -c sbx-scraped 127.0.0.1 $srv
expect_eq "a scrape's status" 200 \
	"$(curl -s -o "$work/metrics" -w '%{http_code}' -m 5 "http://127.0.0.1:$port/metrics")"
expect_eq "the attempt counted" 1 \
	"$(awk 'index($1, "tcptrace_connect_attempts_total{result=\"ESTABLISHED\"") == 1 { n += $2 }
		END { print n + 0 }' "$work/metrics")"
tracer_interrupt "serve's exit status under the filter"

echo "== --no-seccomp: no filter, and -v says so"
tracer_start_json connect --no-seccomp
wait_for_line "$work/trace.err" '^tcptrace: no system call filter: --no-seccomp$' $tracer_pid ||
	fail "-v did not say the filter is off: $(cat "$work/trace.err")"
expect_eq "Seccomp with --no-seccomp" 0 "$(seccomp_mode)"
tracer_interrupt "exit status without the filter"

echo "== a call tcptrace never makes, from the event path: stopped and named"
[ "$(uname -m)" = x86_64 ] || { echo "system call numbers below are x86_64's"; finish; }
for call in socket:41 execve:59; do
	name=${call%:*}
	fresh "$work/trace.out" "$work/trace.err"
	# -d bounds the wait, should the shim ever miss the event's write.
	FORBIDDEN_CALL=$name LD_PRELOAD=$FORBIDDEN_CALL_LIB "$TCPTRACE_BIN_DIR/tcptrace" connect -j -v -d 20 \
		>"$work/trace.out" 2>"$work/trace.err" &
	tracer_pid=$!
	wait_for_line "$work/trace.err" '^tcptrace: system call filter on' $tracer_pid ||
		fail "no filter: $(cat "$work/trace.err")"
	peer loop -c "sbx-$name" 127.0.0.1 $srv
	wait $tracer_pid
	expect_eq "exit status after $name()" 1 $?
	tracer_pid=
	expect_eq "the line naming it" \
		"tcptrace: stopped: system call $name (${call#*:}) is not one tcptrace makes while tracing (--no-seccomp lifts the filter)" \
		"$(tail -n 1 "$work/trace.err")"
	expect_eq "no event written past it" "" "$(cat "$work/trace.out")"
done
finish
