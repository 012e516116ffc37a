# Assertions for the shell tests: each records a failure and goes on, so one run shows
# every field that is wrong; finish() turns the count into the exit status.
failures=0

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

expect_eq() {
	local what=$1 expected=$2 actual=$3
	if [ "$expected" = "$actual" ]; then
		echo "ok: $what = $actual"
	else
		fail "$what: expected '$expected', got '$actual'"
	fi
}

expect_match() {
	local what=$1 regex=$2 actual=$3
	if [[ $actual =~ $regex ]]; then
		echo "ok: $what ~ /$regex/"
	else
		fail "$what: '$actual' does not match /$regex/"
	fi
}

# expect_between WHAT LOW HIGH ACTUAL: LOW <= ACTUAL <= HIGH, decimals allowed.
expect_between() {
	local what=$1 low=$2 high=$3 actual=$4
	if awk -v a="$actual" -v l="$low" -v h="$high" \
		'BEGIN { exit !(a ~ /^[0-9]+(\.[0-9]+)?$/ && a + 0 >= l + 0 && a + 0 <= h + 0) }'; then
		echo "ok: $what = $actual, within [$low, $high]"
	else
		fail "$what: $actual is not within [$low, $high]"
	fi
}

# Stop the test at once: what follows depends on this.
die() {
	echo "FAIL: $*" >&2
	exit 1
}

finish() {
	if [ "$failures" -ne 0 ]; then
		echo "$failures check(s) failed" >&2
		exit 1
	fi
	echo "all checks passed"
	exit 0
}
