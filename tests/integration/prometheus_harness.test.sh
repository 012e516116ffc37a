#!/usr/bin/env bash
# The Prometheus harness (prometheus.sh) against a stand-in for tcptrace serve: a static
# exposition served by python3's http.server. Prometheus reads the counter written, and
# its new value after a change; promtool passes a clean exposition and flags a bad one.
# When serve_prometheus fails and this passes, the fault is serve's, not the harness's.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prometheus.sh"

site=$work/site
mkdir -p "$site"
# exposition VALUE: the stand-in's /metrics, written whole and then renamed into place,
# so that a scrape never reads half a file.
exposition() {
	cat >"$site/metrics.new" <<-EOF
		# HELP standin_requests_total Requests the stand-in answered.
		# TYPE standin_requests_total counter
		standin_requests_total{code="200"} $1
	EOF
	mv "$site/metrics.new" "$site/metrics"
}
exposition 42
target_port=$(free_port)
python3 -m http.server --bind 127.0.0.1 --directory "$site" "$target_port" \
	>"$work/http.log" 2>&1 &
background+=($!)
for i in $(seq 100); do
	curl -sf "http://127.0.0.1:$target_port/metrics" >/dev/null && break
	sleep 0.05
done
curl -sf "http://127.0.0.1:$target_port/metrics" >/dev/null ||
	die "the stand-in did not start: $(cat "$work/http.log")"

prom_start "$(free_port)" "127.0.0.1:$target_port"
echo "prometheus ready $(since "$prom_started") s after it started"
prom_wait_scrape_after "$prom_started" 15
echo "its first scrape done $(since "$prom_started") s after it started"
expect_eq "the counter, as Prometheus read it" 42 \
	"$(prom_query 'standin_requests_total{code="200"}')"
expect_eq "the target is up" 1 "$(prom_query up)"

exposition 43
changed=$(now)
prom_wait_scrape_after "$changed"
echo "the next scrape done $(since "$changed") s after the change"
expect_eq "the counter after the change" 43 "$(prom_query 'standin_requests_total{code="200"}')"
expect_eq "a label's value before each value" "200 43" \
	"$(prom_query 'standin_requests_total' code)"
expect_eq "a query matching nothing" "" "$(prom_query 'standin_absent_total')"
prom_query 'sum(' >/dev/null 2>"$work/query.err"
expect_eq "a bad query's status" 1 $?
expect_match "and its message" 'bad_data' "$(cat "$work/query.err")"
prom_stop

clean=$(promtool_check_metrics "$site/metrics")
expect_eq "promtool's exit status on the stand-in's exposition" 0 $?
expect_eq "what it says of it" "" "$clean"
printf '# TYPE standin_requests counter\nstandin_requests 1\n' >"$work/bad"
bad=$(promtool_check_metrics "$work/bad")
expect_eq "promtool's exit status on lint problems" 3 $?
expect_match "a counter without _total" 'counter metrics should have "_total" suffix' "$bad"
expect_match "and with no HELP" 'no help text' "$bad"
finish
