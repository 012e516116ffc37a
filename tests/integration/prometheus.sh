# A real Prometheus for the integration tests: Debian's package, unpacked (never
# installed), run on loopback by the test and scraping one target every second.
# Source it after lib.sh: Prometheus runs among lib.sh's background processes, and its
# files live in $work, so lib.sh's cleanup stops it and removes them, pass or fail.
#
# Timing (Prometheus 2.42): ready within 0.1 s of starting; the first scrape comes 5 to
# 6 s later, since target discovery hands over new targets at most every 5 s.

prom_helpers=$(dirname "${BASH_SOURCE[0]}")/../helpers
# One download for every build directory: scripts/setup.sh fetches it into build/.
prom_cache=${PROMETHEUS_CACHE:-${SOURCE_DIR:?run the tests through ctest}/build/prometheus}
prom_bin=
prom_pid=
prom_url=
prom_started=

# prom_unpack: the package, downloaded if missing, unpacked once into the cache; sets
# prom_bin, the directory that holds prometheus and promtool.
prom_unpack() {
	local deb root
	[ -n "$prom_bin" ] && return 0
	sh "$prom_helpers/prometheus_fetch.sh" "$prom_cache" || die "no prometheus package"
	deb=$(ls -v "$prom_cache"/prometheus_*.deb | tail -n 1)
	root=$prom_cache/$(basename "$deb" .deb)
	if [ ! -x "$root/usr/bin/prometheus" ]; then
		rm -rf "$root.partial"
		if ! dpkg-deb -x "$deb" "$root.partial" || ! mv "$root.partial" "$root"; then
			die "cannot unpack $deb"
		fi
	fi
	prom_bin=$root/usr/bin
}


# prom_start PORT TARGET: Prometheus on 127.0.0.1:PORT, scraping TARGET (HOST:PORT, path
# /metrics) every second; returns once it is ready. Its files are in $work/prometheus;
# prom_started is when it was started (now()).
prom_start() {
	local port=$1 target=$2 dir=$work/prometheus i
	prom_unpack
	mkdir -p "$dir"
	# The timeout must not exceed the interval.
	cat >"$dir/prometheus.yml" <<-EOF
		global:
		  scrape_interval: 1s
		  scrape_timeout: 1s
		  evaluation_interval: 1s
		scrape_configs:
		  - job_name: test
		    static_configs:
		      - targets: ['$target']
	EOF
	"$prom_bin/promtool" check config "$dir/prometheus.yml" >"$dir/check.log" 2>&1 ||
		die "promtool check config: $(cat "$dir/check.log")"
	prom_url=http://127.0.0.1:$port
	fresh "$dir/log"
	prom_started=$(now)
	"$prom_bin/prometheus" --config.file="$dir/prometheus.yml" \
		--storage.tsdb.path="$dir/data" --web.listen-address="127.0.0.1:$port" \
		>"$dir/log" 2>&1 &
	prom_pid=$!
	background+=($prom_pid)
	for i in $(seq 200); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' "$prom_url/-/ready")" = 200 ] && return 0
		kill -0 "$prom_pid" 2>/dev/null || die "prometheus exited: $(tail -n 5 "$dir/log")"
		sleep 0.05
	done
	die "prometheus was not ready after 10 s: $(tail -n 5 "$dir/log")"
}

# prom_stop: SIGTERM; Prometheus must exit 0.
prom_stop() {
	local pid kept=()
	kill -TERM "$prom_pid"
	wait "$prom_pid"
	expect_eq "prometheus exit status" 0 $?
	for pid in "${background[@]}"; do
		[ "$pid" = "$prom_pid" ] || kept+=("$pid")
	done
	background=("${kept[@]}")
	prom_pid=
}

# now: the time, as seconds since the epoch with nanoseconds, for prom_wait_scrape_after.
now() {
	date +%s.%N
}

# since TIME: the seconds from TIME (from now()) to now, with two decimals.
since() {
	awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'
}

# prom_wait_scrape_after TIME [SECONDS]: until a scrape that began after TIME (from now())
# has succeeded; at most SECONDS (10). A scrape's start is its lastScrape.
prom_wait_scrape_after() {
	local after=$1 deadline=$((SECONDS + ${2:-10})) target last health error
	while [ $SECONDS -lt $deadline ]; do
		target=$(curl -s "$prom_url/api/v1/targets?state=active" |
			jq -r '.data.activeTargets[0] // empty | "\(.lastScrape)\t\(.health)\t\(.lastError)"')
		IFS=$'\t' read -r last health error <<<"$target"
		if [ -n "$last" ] && [ "$health" = up ] &&
			awk -v a="$(date -d "$last" +%s.%N)" -v b="$after" 'BEGIN { exit !(a > b) }'; then
			return 0
		fi
		sleep 0.1
	done
	die "no successful scrape after $(date -d "@$after" +%T.%N): last at $last, health ${health:-none}${error:+, $error}"
}

# prom_query PROMQL [LABEL]: the values of the result, one a line; with LABEL, each
# preceded by that label's value, in its order. An error is told on stderr, and returns 1
# (in $(...), a fail() would not count).
prom_query() {
	local reply
	reply=$(curl -s --get --data-urlencode "query=$1" "$prom_url/api/v1/query")
	if [ "$(jq -r .status <<<"$reply" 2>/dev/null)" != success ]; then
		echo "prom_query: $1: ${reply:-no reply}" >&2
		return 1
	fi
	jq -r --arg name "${2:-}" '.data | if .resultType == "vector" then
			.result | sort_by(.metric[$name]) | .[] |
			if $name == "" then .value[1] else "\(.metric[$name]) \(.value[1])" end
		else .result[1] end' <<<"$reply"
}

# promtool_check_metrics FILE: what promtool check metrics says of the exposition in
# FILE (it writes its findings on stderr); its exit status: 0 clean, 3 lint problems,
# 1 a parse error.
promtool_check_metrics() {
	prom_unpack
	"$prom_bin/promtool" check metrics <"$1" 2>&1
}
