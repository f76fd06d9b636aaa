#!/usr/bin/env bash
# test_run_cli.sh: `portprobe run` on loopback, no root: an invalid file is
# refused with FILE:LINE:COLUMN and exit 2 before anything runs; a file in
# the check_tcp_connection plugin's format plus an InfraSonar tcp_probe entry
# gives one result per unit with the plugin's JSON keys, the exact verdicts,
# a Nagios line summing them up, and the documented exit codes.
set -u
pp=${PORTPROBE:?PORTPROBE must point at the binary}
listen=${PP_LISTEN:?PP_LISTEN must point at pp_listen}
failed=0
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$work"' EXIT

. "$(dirname "$0")/cli_lib.sh"

command -v jq >/dev/null || { echo "SKIP: jq missing"; exit 77; }

same() {
	[ "$2" = "$3" ] || fail "$1
--- expected:
$2
--- actual:
$3"
}

# An open port (pp_listen accepts and closes) and a closed one next to it.
open=$((20000 + RANDOM % 20000))
closed=$((open + 1))
"$listen" --ready-file "$work/ready" "127.0.0.1:$open" &
pids+=($!)
for _ in $(seq 100); do [ -f "$work/ready" ] && break; sleep 0.05; done

cat >"$work/bad.yaml" <<YAML
- name: web
  plugin: check_tcp_connection
  parameters:
    host: 127.0.0.1
    port: 70000
YAML
bad "portprobe: $work/bad.yaml:5:11: checks[0].parameters.port: 70000 is not in 1..65535" run "$work/bad.yaml"
bad "portprobe: missing CONFIG (usage: portprobe run [OPTIONS] CONFIG)" run
bad "portprobe: -o 'xml': choose text, json, jsonl or nagios" run -o xml "$work/bad.yaml"

cat >"$work/ok.yaml" <<YAML
- name: web
  plugin: check_tcp_connection
  parameters: {host: 127.0.0.1, port: $open, timeout: 2}
- name: box
  plugin: tcp_probe
  parameters: {address: 127.0.0.1, tcp_ports: [$open]}
YAML
"$pp" run -o jsonl "$work/ok.yaml" >"$work/ok.jsonl"
same "every unit OK exits 0" 0 $?
same "units and verdicts" "box/tcp:$open OK true open
web OK true open" "$(jq -r '"\(.name) \(.verdict) \(.connected) \(.state)"' "$work/ok.jsonl" | sort)"
same "the plugin's keys are there (error only on failure)" "attempts connected host port response_time status timestamp" \
	"$(jq -r 'select(.name == "web") | [keys[] | select(. == "status" or . == "host" or . == "port" or
	. == "connected" or . == "response_time" or . == "attempts" or . == "timestamp" or . == "error")] | join(" ")' "$work/ok.jsonl")"

cat >"$work/mixed.yaml" <<YAML
- name: web
  plugin: check_tcp_connection
  parameters: {host: 127.0.0.1, port: $open, timeout: 2}
- name: db
  plugin: check_tcp_connection
  parameters: {host: 127.0.0.1, port: $closed, timeout: 2, attempts: 2, retry_delay: 0.1}
YAML
"$pp" run -o json "$work/mixed.yaml" >"$work/mixed.json"
same "a failed unit exits 1" 1 $?
same "json: one array, failure reason as data" "db CRITICAL Connection refused 2 closed conn-refused
web OK null 1 open syn-ack" \
	"$(jq -r '.[] | "\(.name) \(.verdict) \(.failure_reason) \(.attempts) \(.state) \(.reason)"' "$work/mixed.json" | sort)"
line=$("$pp" run -o nagios "$work/mixed.yaml")
same "nagios exits 2 (CRITICAL)" 2 $?
same "nagios line" "PORTPROBE CRITICAL - 1 of 2 units not OK: db (Connection refused) | 'web'=" \
	"${line%%=*}="
same "text: one line per unit" "CRITICAL db
OK       web" "$("$pp" run "$work/mixed.yaml" | cut -d: -f1 | sort)"

exit $failed
