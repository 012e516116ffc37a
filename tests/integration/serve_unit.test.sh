#!/usr/bin/env bash
# serve with what its systemd unit grants, without systemd: a user that is not root, the
# unit's ambient capabilities and bounding set, no_new_privs (setpriv does what systemd
# would). It attaches, serves a scrape and stops on SIGTERM, and strace shows that it
# made no system call the unit's filter refuses, opened no socket of a family it
# refuses, and opened no file for writing (the unit's file system is read-only).
. "$(dirname "$0")/lib.sh"

unit=$SOURCE_DIR/packaging/tcptrace.service.in
# A user of the range systemd takes DynamicUser= IDs from.
DYNAMIC_UID=61234

# setting NAME: the value of the unit's NAME= lines, one a line.
setting() {
	sed -n "s/^$1=//p" "$unit"
}

# setpriv_caps CAP_A CAP_B...: as setpriv takes them, "+a,+b".
setpriv_caps() {
	local cap list=
	for cap; do
		cap=${cap#CAP_}
		list+=${list:+,}+${cap,,}
	done
	echo "$list"
}

# syscalls NAME...: system calls and @groups, as names of system calls, one a line.
syscalls() {
	local name
	for name; do
		if [[ $name == @* ]]; then
			syscalls $(systemd-analyze syscall-filter "$name" | awk '$1 !~ /^#/ && NR > 1 { print $1 }')
		else
			echo "$name"
		fi
	done
}

command -v systemd-analyze >/dev/null || die "systemd-analyze is missing (package systemd)"
# shellcheck disable=SC2046 # the settings are lists of words
caps=$(setpriv_caps $(setting AmbientCapabilities))
# shellcheck disable=SC2046
bounding=$(setpriv_caps $(setting CapabilityBoundingSet))
allowed=$(setting SystemCallFilter | grep -v '^~' | tr ' ' '\n' | while read -r name; do
	syscalls "$name"
done | sort -u)
refused=$(setting SystemCallFilter | sed -n 's/^~//p' | tr ' ' '\n' | while read -r name; do
	syscalls "$name"
done | sort -u)
families=$(setting RestrictAddressFamilies | tr ' ' '\n')
echo "capabilities: $caps; bounding set: $bounding; families: $(tr '\n' ' ' <<<"$families")"
expect_between "system calls allowed" 100 1000 "$(grep -c . <<<"$allowed")"

port=$(free_port)
fresh "$work/trace.out" "$work/trace.err"
# LeakSanitizer (tests/sanitize) cannot work under strace's ptrace.
ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" strace -f -qq -o "$work/strace" setpriv --reuid=$DYNAMIC_UID --regid=$DYNAMIC_UID --clear-groups \
	--inh-caps="-all,$caps" --ambient-caps="$caps" --bounding-set="-all,$bounding" \
	--no-new-privs "$TCPTRACE_BIN_DIR/tcptrace" serve -v --listen "127.0.0.1:$port" \
	>"$work/trace.out" 2>"$work/trace.err" &
strace_pid=$!
background+=($strace_pid)
wait_for_line "$work/trace.err" '^tcptrace: serving metrics' $strace_pid ||
	die "serve did not start with the unit's privileges: $(cat "$work/trace.err")"
serve_pid=$(pgrep -P $strace_pid)
expect_match "a scrape" '^tcptrace_build_info\{' \
	"$(curl -s "http://127.0.0.1:$port/metrics" | grep '^tcptrace_build_info')"
expect_eq "serving as" "$DYNAMIC_UID $DYNAMIC_UID $DYNAMIC_UID $DYNAMIC_UID" \
	"$(awk '$1 == "Uid:" { print $2, $3, $4, $5 }' "/proc/$serve_pid/status")"
expect_eq "with no capability left" "0000000000000000" \
	"$(awk '$1 == "CapEff:" { print $2 }' "/proc/$serve_pid/status")"
kill -TERM "$serve_pid"
wait $strace_pid
expect_eq "exit status on SIGTERM" 0 $?

# What tcptrace did, from its execve() on: setpriv's own calls are not the unit's business.
awk -v bin="execve(\"$TCPTRACE_BIN_DIR/tcptrace\"" 'index($0, bin) { on = 1 } on' \
	"$work/strace" >"$work/serve.strace"
used=$(awk '{ sub(/^[0-9]+ +/, "") } match($0, /^[a-z0-9_]+\(/) { print substr($0, 1, RLENGTH - 1) }' \
	"$work/serve.strace" | sort -u)
expect_between "system calls seen" 20 200 "$(grep -c . <<<"$used")"
expect_eq "calls outside the unit's filter" "" "$(comm -23 <(echo "$used") <(echo "$allowed"))"
expect_eq "calls the unit's filter refuses" "" "$(comm -12 <(echo "$used") <(echo "$refused"))"
expect_eq "socket families the unit refuses" "" \
	"$(grep -o 'socket(AF_[A-Z0-9]*' "$work/serve.strace" | sed 's/socket(//' | sort -u |
		grep -vxF -f <(echo "$families"))"
expect_eq "files opened for writing" "" \
	"$(grep -E 'open(at)?\(.*O_(WRONLY|RDWR|CREAT)' "$work/serve.strace")"
finish
