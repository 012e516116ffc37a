#!/usr/bin/env bash
# The binary as a user runs it, through both names: bad usage exits 2 with one line and
# the usage on stderr, nothing on stdout, and no bpf() call; help exits 0 on stdout.
set -u
. "$(dirname "$0")/../integration/assert.sh"

bin=$TCPTRACE_BIN_DIR
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# run NAME ARGS...: runs bin/NAME, keeping status, stdout and stderr; no bpf() allowed.
command -v strace >/dev/null || die "strace is needed to see that bad usage loads nothing"
run() {
	local name=$1
	shift
	# LeakSanitizer (tests/sanitize) cannot work under strace's ptrace: leaks are left
	# to the other tests there.
	ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
		strace -f -qq -e trace=bpf -o "$tmp/strace" "$bin/$name" "$@" >"$tmp/out" 2>"$tmp/err"
	status=$?
	expect_eq "bpf() calls by '$(head -c 80 <<<"$name $*")'" 0 "$(grep -c 'bpf(' "$tmp/strace")"
}

bad_usage() {
	local expected_line=$1
	shift
	run "$@"
	expect_eq "status of '$*'" 2 "$status"
	expect_eq "first stderr line of '$*'" "$expected_line" "$(head -n 1 "$tmp/err")"
	expect_match "usage after the line for '$*'" '^Usage: ' "$(sed -n 2p "$tmp/err")"
	expect_eq "stdout of '$*'" "" "$(cat "$tmp/out")"
}

bad_usage "tcptrace: no command given" tcptrace
bad_usage "tcptrace: unknown command 'frob'" tcptrace frob
bad_usage "tcptrace: options go after the command: '-p'" tcptrace -p 1 connect
bad_usage "tcptrace connect: unknown option '-z'" tcptrace connect -z
bad_usage "tcptrace connect: option '-p' needs a value" tcptrace connect -p
bad_usage "tcptrace connect: invalid PID 'abc': expected a number from 1 to 4194304" \
	tcptrace connect -p abc
bad_usage "tcptrace connect: invalid min_ms '-5': expected milliseconds from 0 to 86400000, with up to 6 decimals" \
	tcptrace connect -- -5
bad_usage "tcpconnect: invalid PID '0': expected a number from 1 to 4194304" tcpconnect -p 0
bad_usage "tcpconnlat: unexpected argument '2'" tcpconnlat 1 2
bad_usage "tcpaccept: invalid port list '80,x': expected ports from 1 to 65535, separated by commas" \
	tcpaccept -P 80,x
bad_usage "tcptrace accept: unexpected argument '5'" tcptrace accept 5
# The options issues 5 and 6 added, through the binary: nothing loaded either.
bad_usage "tcpconnect: invalid ring size '3M': expected a power of two from 4K to 1G, in bytes or with K, M or G" \
	tcpconnect -b 3M
bad_usage "tcptrace connect: invalid duration '0': expected seconds, more than 0 and at most 31536000, with up to 6 decimals" \
	tcptrace connect -d 0
bad_usage "tcpaccept: invalid event count '0': expected a number from 1" tcpaccept -n 0
bad_usage "tcpconnect: invalid UID 'root': expected a number from 0 to 4294967294" tcpconnect -u root
bad_usage "tcpaccept: options '-4' and '-6' exclude each other" tcpaccept -4 -6
bad_usage "tcptrace connect: invalid cgroup '/': not on a cgroup v2 filesystem" \
	tcptrace connect --cgroup /
bad_usage "tcptrace accept: invalid network namespace '/etc/passwd': not a network namespace file (/proc/PID/ns/net, /run/netns/NAME)" \
	tcptrace accept --netns /etc/passwd
bad_usage "tcptrace connect: invalid BTF file '/etc/passwd': neither raw BTF nor an ELF file with a .BTF section" \
	tcptrace connect --btf /etc/passwd
bad_usage "tcpconnlat: option '-i' needs -c or -H: it is how often they print" tcpconnlat -i 1
bad_usage "tcptrace connect: invalid interval '1s': expected seconds, more than 0 and at most 31536000, with up to 6 decimals" \
	tcptrace connect -H -i 1s
# A 131 KB value (near the kernel's limit for one argument): the line quotes its first
# 64 bytes, not all of it. Checked apart: bad_usage would print the whole value.
huge=$(head -c 131000 /dev/zero | tr '\0' 7)
run tcptrace connect -p "$huge"
expect_eq "status with a 131 KB PID" 2 "$status"
expect_eq "first stderr line with a 131 KB PID" \
	"tcptrace connect: invalid PID '$(head -c 64 /dev/zero | tr '\0' 7)...': expected a number from 1 to 4194304" \
	"$(head -n 1 "$tmp/err")"
bad_usage "tcpaccept: options '-f' and '-u' exclude each other: -f's attempts belong to no process (select them with -P PORTS)" \
	tcpaccept -f -u 0
# --cgroup needs a cgroup v2 directory to get as far as the conflict: the machine's own.
cgroup2=$(findmnt -n -t cgroup2 -o TARGET | head -n 1)
if [ -n "$cgroup2" ]; then
	bad_usage "tcptrace accept: options '-f' and '--cgroup' exclude each other: -f's attempts belong to no process (select them with -P PORTS)" \
		tcptrace accept --cgroup "$cgroup2" -f
fi
# serve: its own options, and the shared ones it does not take.
bad_usage "tcptrace serve: invalid listen address '127.0.0.1': expected IPV4:PORT or [IPV6]:PORT, the port from 1 to 65535" \
	tcptrace serve --listen 127.0.0.1
bad_usage "tcptrace serve: invalid listen address '[::1]:0': expected IPV4:PORT or [IPV6]:PORT, the port from 1 to 65535" \
	tcptrace serve --listen '[::1]:0'
bad_usage "tcptrace serve: invalid listen address 'localhost:80': expected IPV4:PORT or [IPV6]:PORT, the port from 1 to 65535" \
	tcptrace serve --listen localhost:80
bad_usage "tcptrace serve: invalid labels 'daddr,pid': expected daddr, dport or both, comma-separated" \
	tcptrace serve --label daddr,pid
bad_usage "tcptrace serve: invalid series count '0': expected a number from 1 to 10000000" \
	tcptrace serve --max-series 0
bad_usage "tcptrace serve: invalid series TTL 'never': expected seconds, more than 0 and at most 31536000, with up to 6 decimals" \
	tcptrace serve --series-ttl never
bad_usage "tcptrace serve: unknown option '-P'" tcptrace serve -P 80
bad_usage "tcptrace serve: unknown option '--json'" tcptrace serve --json
bad_usage "tcptrace serve: options '-f' and '-p' exclude each other: -f's attempts belong to no process" \
	tcptrace serve -f -p 1
bad_usage "tcptrace serve: unexpected argument 'now'" tcptrace serve now
bad_usage "tcptrace features: unknown option '-x'" tcptrace features -x
bad_usage "tcptrace features: unexpected argument 'all'" tcptrace features all

for args in "tcptrace --help" "tcptrace help" "tcptrace help connect" "tcptrace connect -h" \
	"tcpconnect --help" "tcpconnlat -h" "tcptrace help accept" "tcpaccept -h" \
	"tcptrace help features" "tcptrace features -h" "tcptrace serve -h"; do
	run $args
	expect_eq "status of '$args'" 0 "$status"
	expect_match "usage on stdout for '$args'" '^Usage: ' "$(head -n 1 "$tmp/out")"
	expect_eq "stderr of '$args'" "" "$(cat "$tmp/err")"
done
run tcptrace --version
expect_match "version" '^tcptrace [0-9]+\.[0-9]+\.[0-9]+$' "$(cat "$tmp/out")"

finish
