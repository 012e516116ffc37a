#!/usr/bin/env bash
# serve, scraped by a real Prometheus every second: after known numbers of established,
# refused and timed-out connects, accepts and refused SYNs, Prometheus' HTTP API holds
# exactly those counts. promtool finds nothing in the exposition. The scrape config and
# every query of docs/prometheus.md work against it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prometheus.sh"

CLOSED=9 DROPPED=19
ns_add loop
netns="/run/netns/$(ns_name loop)"
server_start loop 127.0.0.1 prom-srv
# SYNs to DROPPED vanish; one retry gives up after 1 s + 2 s instead of two minutes.
drop_port loop $DROPPED
in_ns loop sysctl -qw net.ipv4.tcp_syn_retries=1

# Only the test's namespace: neither Prometheus' scrapes nor the machine's traffic count.
serve_start "$netns" -f
serve_port=$port
prom_start "$(free_port)" "127.0.0.1:$serve_port"

# timeout_start: a connect that times out, in the background (3 s); its report in
# $work/timeout.N.
timeouts=()
timeout_start() {
	local out=$work/timeout.${#timeouts[@]}
	in_ns loop "$TCP_PEER" connect -c prom-timeout 127.0.0.1 $DROPPED >"$out" &
	background+=($!)
	timeouts+=("$!:$out")
}

echo "== before the first scrape: 4 established, 2 refused, 2 timing out"
timeout_start
timeout_start
peer loop -c prom-ok -r 4 -i 10 127.0.0.1 "$server_port"
peer loop -c prom-refused -r 2 -i 10 127.0.0.1 $CLOSED
# A rate needs two samples of a series that grew between them: the queries below.
prom_wait_scrape_after "$(now)" 15
echo "first scrape done $(since "$prom_started") s after Prometheus started"

echo "== after it: 3 established, 1 refused"
peer loop -c prom-ok -r 3 -i 10 127.0.0.1 "$server_port"
peer loop -c prom-refused -r 1 -i 10 127.0.0.1 $CLOSED
for entry in "${timeouts[@]}"; do
	wait "${entry%%:*}"
	expect_eq "the peer saw" ETIMEDOUT "$(kv result "$(cat "${entry#*:}")")"
done
wait_accepts "$server_out" 7
done_at=$(now)
prom_wait_scrape_after "$done_at"
echo "scraped $(since "$done_at") s after the last connection"

# count PROMQL: the query's only value, summed over the identity labels.
count() {
	prom_query "sum($1)"
}
expect_eq "attempts established" 7 "$(count 'tcptrace_connect_attempts_total{result="ESTABLISHED"}')"
expect_eq "attempts refused" 3 "$(count 'tcptrace_connect_attempts_total{result="ECONNREFUSED"}')"
expect_eq "attempts timed out" 2 "$(count 'tcptrace_connect_attempts_total{result="ETIMEDOUT"}')"
expect_eq "attempts in all" 12 "$(count tcptrace_connect_attempts_total)"
expect_eq "connect latency: established attempts" 7 "$(count tcptrace_connect_latency_seconds_count)"
expect_eq "connect latency: the +Inf bucket" 7 \
	"$(count 'tcptrace_connect_latency_seconds_bucket{le="+Inf"}')"
expect_eq "accepts, by port" "$server_port 7" \
	"$(prom_query 'sum by (lport) (tcptrace_accepts_total)' lport)"
expect_eq "accept queue wait, by port" "$server_port 7" \
	"$(prom_query 'sum by (lport) (tcptrace_accept_queue_wait_seconds_count)' lport)"
expect_eq "accept queue wait: the +Inf bucket" 7 \
	"$(count "tcptrace_accept_queue_wait_seconds_bucket{lport=\"$server_port\",le=\"+Inf\"}")"
expect_eq "refused SYNs, by port" "$CLOSED 3" \
	"$(prom_query 'tcptrace_accept_failed_total{result="REFUSED"}' lport)"
expect_eq "no other failed accepts" 1 "$(prom_query 'count(tcptrace_accept_failed_total)')"

echo "== promtool check metrics"
curl -s "http://127.0.0.1:$serve_port/metrics" >"$work/metrics" || fail "cannot read /metrics"
lint=$(promtool_check_metrics "$work/metrics")
expect_eq "promtool's exit status" 0 $?
expect_eq "what promtool says" "" "$lint"

echo "== docs/prometheus.md"
doc=$SOURCE_DIR/docs/prometheus.md
awk '$0 == "```yaml" { inside = 1; next } $0 == "```" { inside = 0 } inside' "$doc" \
	>"$work/scrape.yml"
"$prom_bin/promtool" check config "$work/scrape.yml" >"$work/check.log" 2>&1 ||
	fail "promtool check config on the documented scrape config: $(cat "$work/check.log")"
# Each promql block, on one line.
queries=$(awk '
	$0 == "```promql" { inside = 1; text = ""; next }
	inside && $0 == "```" { inside = 0; print text; next }
	inside { sub(/^ +/, ""); text = text (text == "" ? "" : " ") $0 }' "$doc")
expect_between "queries documented" 3 20 "$(grep -c . <<<"$queries")"
while read -r query; do
	values=$(prom_query "$query")
	echo "$query: $(tr "\n" " " <<<"$values")"
	expect_match "$query: a result" . "$values"
	expect_eq "$query: every value a number" "" \
		"$(grep -vE '^[0-9]+(\.[0-9]+)?(e[+-]?[0-9]+)?$' <<<"$values")"
done <<<"$queries"

tracer_interrupt "serve's exit status"
prom_stop
finish
