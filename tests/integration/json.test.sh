#!/usr/bin/env bash
# -j: JSON Lines that parse, one object per event, saying what the table says for the
# same events (a second tracer, in text, beside it); null where the table has "-"; and a
# COMM full of escape sequences (ESC [2J, BEL, a newline): the table writes it as \xHH,
# JSON as \u00XX, neither ever raw, and JSON reads back byte for byte.
. "$(dirname "$0")/lib.sh"

DROPPED=19
ns_add loop
drop_port loop $DROPPED
server_start loop 127.0.0.1 json-srv
port=$server_port

# as_table: the JSON objects of our peers as "sport dport pid comm ip saddr daddr result
# uid", one per line, sorted. (Latency is left out: each tracer's programs take their own
# time stamps, microseconds apart.)
as_table() {
	jq -r --arg pids "$peer_pids" '(.pid | tostring) as $pid |
		select($pids | contains(" " + $pid + " ")) |
		[.sport, .dport, .pid, .comm, .ip, .saddr, .daddr, .result, .uid] |
		map(tostring) | join(" ")' "$work/json.out" | sort
}

echo "== connect: the same events, in JSON and in the table"
json_start connect
tracer_start connect -x -U
peer loop -c json-ok 127.0.0.1 $port
peer loop -c json-refused 127.0.0.1 1
peer loop -c json-gaveup -a 100 127.0.0.1 $DROPPED
hostile=$'\e[2J\a"\\x'
peer loop -c "$hostile" 127.0.0.1 $port
tracer_stop
json_stop
expect_eq "every line is JSON" "$(grep -c . "$work/json.out")" \
	"$(jq -c . "$work/json.out" 2>/dev/null | grep -c .)"
expect_eq "JSON objects of our peers" 4 "$(as_table | grep -c .)"
# The table's view of the same attempts, in the same order and form. Its COMM column
# escapes as \xHH; the hostile one is compared on its own below.
table=$(trace_rows | awk -v pids="$peer_pids" '{
		for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = substr($i, length(kv[1]) + 2) }
		if (index(pids, " " f["PID"] " ") == 0) next
		print f["SPORT"], f["DPORT"], f["PID"], f["COMM"], f["IP"], f["SADDR"], f["DADDR"],
			f["RESULT"], f["UID"]
	}' | sort)
json=$(as_table)
expect_eq "JSON and table, hostile COMM aside" \
	"$(grep -v '\\x1b' <<<"$table")" "$(grep -v $'\e' <<<"$json")"
expect_eq "results" "ABANDONED ECONNREFUSED ESTABLISHED ESTABLISHED" \
	"$(as_table | awk '{ print $8 }' | sort | tr '\n' ' ' | sed 's/ $//')"
expect_eq "the hostile COMM, read back byte for byte" "$(printf '%s' "$hostile" | od -An -tx1)" \
	"$(jq -j 'select(.comm | startswith("\u001b")) | .comm' "$work/json.out" | od -An -tx1)"
expect_eq "time_ns is the monotonic clock, time its UTC date" 1 \
	"$(jq -r 'select(.comm == "json-ok") | .time' "$work/json.out" |
		grep -cE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z$')"

expect_eq "latencies: numbers of milliseconds, above 0" "true true true true" \
	"$(jq -r --arg pids "$peer_pids" '(.pid | tostring) as $pid |
		select($pids | contains(" " + $pid + " ")) |
		(.latency_ms | type == "number" and . > 0)' "$work/json.out" | tr '\n' ' ' | sed 's/ $//')"

echo "== a COMM that clears the screen, rings and breaks the line: never written raw"
json_start connect
tracer_start connect -x
peer_pids=
hostile=$'\e[2J\a\n'
peer loop -c "$hostile" 127.0.0.1 1
tracer_stop
json_stop
expect_eq "table: no control byte but the newlines" "" "$(tr -d '\n' <"$work/trace.out" | tr -d '\040-\176' | od -An -tx1)"
expect_eq "table: the header and one line" 2 "$(grep -c . "$work/trace.out")"
the_row PID="$(kv pid "$peer_lines")" && expect_row COMM '\x1b[2J\x07\x0a'
expect_eq "JSON: no control byte but the newlines" "" "$(tr -d '\n' <"$work/json.out" | tr -d '\040-\176' | od -An -tx1)"
expect_eq "JSON: escaped as \\u00XX" 1 "$(grep -cF '"comm":"\u001b[2J\u0007\u000a"' "$work/json.out")"
expect_eq "JSON: read back byte for byte" "$(printf '%s' "$hostile" | od -An -tx1)" \
	"$(jq -j "select(.pid == $(kv pid "$peer_lines")) | .comm" "$work/json.out" | od -An -tx1)"

echo "== accept -x and -f in JSON: numbers, and null for what belongs to no process"
json_start accept -x -f -P "$port,1"
peer loop -c json-acc 127.0.0.1 $port
wait_accepts "$server_out" 3
peer loop -c json-nobody 127.0.0.1 1
sleep 0.3
json_stop
accepted=$(jq -c "select(.lport == $port)" "$work/json.out" | tail -n 1)
echo "accepted: $accepted"
expect_eq "accept: types and values" "accept number json-srv number string number number true" \
	"$(jq -r '[.event, (.pid | type), .comm, (.rport | type), (.raddr | type), (.lport | type),
		(.backlog_max | type), (.queued_ms >= 0)] | map(tostring) | join(" ")' <<<"$accepted")"
refused=$(jq -c 'select(.result == "REFUSED")' "$work/json.out" | tail -n 1)
echo "refused: $refused"
expect_eq "refused: nulls" "null null null null null null 1" \
	"$(jq -r '[.pid, .comm, .uid, .queued_ms, .backlog, .backlog_max, .lport] |
		map(tostring) | join(" ")' <<<"$refused")"
finish
