# Sourced by the benchmarks (run.sh, soak.sh). The build they measure ($BIN, $LOADGEN),
# and bench_setup NAME: root, a work directory ($work) and a network namespace ($ns) of
# the run's own, both removed on exit however the run ends, and $ticks for
# /proc/PID/stat.
BIN=${TCPTRACE_BIN_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build}
LOADGEN=${LOADGEN:-$BIN/tests/loadgen}

bench_cleanup() {
	kill $(jobs -p) 2>/dev/null
	wait 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$work"
}

bench_setup() {
	[ "$(id -u)" = 0 ] || { echo "skipped: tracing needs root"; exit 77; }
	work=$(mktemp -d "/tmp/tcptrace-$1.XXXXXX")
	ns=tcptrace-$1-$$
	trap bench_cleanup EXIT
	trap 'exit 1' INT TERM
	ip netns add "$ns" && ip -n "$ns" link set lo up ||
		{ echo "cannot make a network namespace"; exit 1; }
	ticks=$(getconf CLK_TCK)
}
