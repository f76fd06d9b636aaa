#!/usr/bin/env bash
# test_serve_cli.sh: `portprobe serve` end to end, as root, in a private
# network namespace (lo only: every packet stays on its 127.0.0.1).
#
# A pp_listen holds one port open, the next one is closed, and pp_webhook
# records every alert the webhook gets; the alert command appends
# "UNIT FROM TO" to a file. Serve A runs two units every second with
# down_after 2 and up_after 2, a history database, a probe allowlist and a
# 1024-byte request limit; serve B has basic authentication. Asserted, with
# exact values:
#   options  an invalid file, no --config, --db with --no-db: exit 2 and one
#            stderr line; a port already taken (by pp_listen, by another
#            serve): exit 3 and one line
#   probe    /probe: 403 with one line outside the allowlist, 200 with
#            probe_success 1 (open) or 0 and probe_failure_info (closed),
#            400 for no target or an unknown module; debug=true: the logs,
#            metrics and module in blackbox's layout
#   bound    a certificate unit whose cipher enumeration would outlast its
#            2 s interval is stopped at 80% and reported; no run skipped
#   stop     SIGTERM while 32 keep-alive clients ask /probe: exit 0, 6 times
#   http     405 + Allow for POST, 404, 413 for a GET with a body, a request
#            over max_request_bytes: 431 (headers) or 414 (URL), garbage
#            bytes: a 400 or a close within request_timeout, then /healthz
#            still 200
#   auth     401 + WWW-Authenticate without or with wrong credentials, 200
#            with the right ones, /healthz 200 without
#   history  unknown -> up is not alerted, unknown -> down, up -> down and
#            down -> up are alerted exactly once each (webhook body fields,
#            command lines, the history's transitions at the same ms) and
#            nothing more comes in the next 3 s; kill -9 keeps every result
#            the history API showed before it, ids contiguous, integrity ok;
#            a restart on the same database restores health and alerts
#            nothing; a kill -9 the moment an alert is out (the alert
#            command kills serve) loses neither the change nor the health:
#            the restart alerts nothing; SIGHUP adds a unit without
#            resetting the others' statistics or history; an invalid file
#            on SIGHUP is refused with one FILE:LINE:COL error line, the old
#            units go on and portprobe_config_last_reload_successful is 0;
#            SIGTERM exits 0.
# Serve D has its own history file and a unit, flip, whose connect to a full
# pp_hold queue gets no answer, so each run is in flight 1.5 s of every 2 s:
#   locked   another process holds the database's write lock for 2.5 s:
#            results keep coming meanwhile, one error line, and afterwards
#            every result is committed, ids contiguous
#   reload   a run in flight across a SIGHUP that keeps its unit is counted;
#            one in flight when a SIGHUP removes its unit and another adds
#            it back is not credited to the new unit; a new store.retention
#            prunes at once; changed limits, store.path and alerts get one
#            "restart to apply" line each
# PP_SERVE_ONLY="options http" runs only those parts (default: all).
# Exit 0 ok, 1 failure, 77 skipped (not root, a tool missing). About 40 s.
# shellcheck disable=SC2317 # the predicates are called through until_true
set -u
here=$(cd "$(dirname "$0")" && pwd)
pp=${PORTPROBE:?PORTPROBE must point at the binary}
listen=${PP_LISTEN:?PP_LISTEN must point at pp_listen}
webhook=${PP_WEBHOOK:?PP_WEBHOOK must point at pp_webhook}
hold=${PP_HOLD:?PP_HOLD must point at pp_hold}
parts=${PP_SERVE_ONLY:-options probe http auth history locked reload bound stop}
LAB_TIMEOUT=120
# shellcheck source=tests/lab/lab.sh
. "$here/../lab/lab.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (network namespaces)" >&2
	exit 77
fi
for tool in ip unshare timeout jq curl; do
	command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool missing" >&2; exit 77; }
done
if ! ip netns list >/dev/null 2>&1 || ! unshare --net true >/dev/null 2>&1; then
	echo "SKIP: network namespaces are not usable here" >&2
	exit 77
fi

# Inside the namespace: the webhook and curl talk to 127.0.0.1 directly, never to a proxy.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

OPEN=7001    # pp_listen: accepts and closes
CLOSED=7002  # nothing listens
HOLD=7003    # pp_hold: its one queue slot taken, a SYN gets no answer
HOOK=7900    # pp_webhook
A=9115       # serve A
B=9116       # serve B, basic authentication
D=9117       # serve D: a database of its own, reloads

# serve_lab_up: one namespace (lo up) and LAB_DIR, torn down by lab.sh's traps and guard
# (as tls_lab.sh does): every process in the namespace is this test's.
serve_lab_up() {
	local ns="ppserve${BASHPID}"
	[ -e "/run/netns/$ns" ] && lab__die "namespace $ns already exists (left over?): ip netns del $ns"
	LAB__MAIN_PID=$BASHPID
	LAB_NS_CLIENT=$ns
	LAB_NS_TARGET=$ns
	LAB_NS_ROUTER=""
	LAB_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ppserve.XXXXXX") || lab__die "mktemp failed"
	LAB__UP=1
	trap lab__on_exit EXIT
	trap 'lab__on_signal INT 130' INT
	trap 'lab__on_signal TERM 143' TERM
	trap 'lab__on_signal HUP 129' HUP
	trap 'lab__on_signal PIPE 141' PIPE
	lab__start_guard
	lab__run "creating namespace" ip netns add "$ns"
	lab__run "lo up in $ns" ip -n "$ns" link set lo up
}

serve_lab_up
W=$LAB_DIR

# ---------------------------------------------------------------- helpers

# want PART: true when PART is to run.
want() { [[ " $parts " == *" $1 "* ]]; }

# until_true SECONDS CMD...: poll CMD every 50 ms; 0 once it succeeds, 1 after SECONDS.
until_true() {
	local limit=$1 start=$EPOCHREALTIME now
	shift
	until "$@"; do
		now=$EPOCHREALTIME
		((${now/./} - ${start/./} > limit * 1000000)) && return 1
		sleep 0.05
	done
	return 0
}

# nlines FILE: its number of lines (0 when it does not exist).
nlines() {
	if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi
}

# has_lines FILE N: true when FILE has at least N lines.
has_lines() { [ "$(nlines "$1")" -ge "$2" ]; }

# req PORT PATH OUT [CURL ARGS...]: one request from the namespace; the body goes to OUT, the
# headers to OUT.h; prints the status (000 when no answer came).
req() {
	local port=$1 path=$2 out=$3
	shift 3
	in_client curl -s --noproxy '*' --max-time 5 -o "$out" -D "$out.h" -w '%{http_code}' "$@" \
		"http://127.0.0.1:$port$path"
}

# header FILE NAME: the value of header NAME in a req header file, without the CR.
header() {
	sed -n "s/^$2: \(.*\)\r$/\1/Ip" "$1"
}

# get PORT PATH: the body of a GET (empty on failure).
get() {
	in_client curl -s --noproxy '*' --max-time 5 "http://127.0.0.1:$1$2"
}

# checks_field PORT UNIT JQ: JQ applied to UNIT's entry of /api/v1/checks.
checks_field() {
	get "$1" /api/v1/checks | jq -r --arg u "$2" ".checks[] | select(.unit == \$u) | $3" 2>/dev/null
}

# health_is PORT UNIT HEALTH: true when /api/v1/checks shows UNIT in HEALTH.
health_is() { [ "$(checks_field "$1" "$2" .health)" = "$3" ]; }

# count_at_least PORT UNIT N: true when UNIT's stats.count is at least N.
count_at_least() {
	local c
	c=$(checks_field "$1" "$2" .stats.count)
	[ -n "$c" ] && [ "$c" -ge "$3" ]
}

# metric PORT NAME: the value of the unlabelled sample NAME on /metrics.
metric() {
	get "$1" /metrics | sed -n "s/^$2 //p"
}

# metric_is PORT NAME VALUE: true when metric NAME is VALUE.
metric_is() { [ "$(metric "$1" "$2")" = "$3" ]; }

# healthy PORT: true when /healthz answers 200.
healthy() { [ "$(req "$1" /healthz "$W/healthz.out")" = 200 ]; }

# listed PORT UNIT: true when /api/v1/checks has UNIT.
listed() { [ -n "$(checks_field "$1" "$2" .unit)" ]; }

# logged FILE TEXT: true when FILE has a line containing TEXT.
logged() { grep -qF -- "$2" "$1"; }

# reloads_logged FILE N: true when FILE has at least N "configuration reloaded" lines.
reloads_logged() { [ "$(grep -c ' info configuration reloaded: ' "$1")" -ge "$2" ]; }

# in_db DB SQL: sqlite3's answer (waits up to 2 s for serve's write lock).
in_db() { timeout 10 sqlite3 -cmd '.timeout 2000' "$1" "$2"; }

# dead PID: true once PID has exited.
dead() { ! lab__alive "$1"; }

# alert_counts PORT: "SENT FAILED QUEUED" of serve's alert metrics.
alert_counts() {
	printf '%s %s %s' "$(metric "$1" portprobe_alerts_sent_total)" \
		"$(metric "$1" portprobe_alerts_failed_total)" "$(metric "$1" portprobe_alerts_queued)"
}

# exits [-n NOTE] CODE WANT ARGS...: `portprobe ARGS` in the namespace exits CODE, prints
# nothing on stdout and exactly the line WANT on stderr; NOTE prefixes failure messages. At
# most 3 s: a serve that starts anyway gets SIGTERM then (and exits 124).
exits() {
	local note="" code want rc=0 out err
	if [ "$1" = -n ]; then
		note="$2: "
		shift 2
	fi
	code=$1 want=$2
	shift 2
	out=$(in_client timeout 3 "$pp" "$@" 2>"$W/exits.err") || rc=$?
	err=$(cat "$W/exits.err")
	assert_eq "${note}portprobe $*: exit code" "$code" "$rc"
	assert_eq "${note}portprobe $*: stdout" "" "$out"
	assert_eq "${note}portprobe $*: stderr" "$want" "$err"
}

# forget_pid PID: drop PID (killed and reaped by the test) from lab.sh's list of processes.
forget_pid() {
	local keep=() p
	for p in "${LAB__PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	LAB__PIDS=("${keep[@]}")
}

# stop_serve PID NAME: SIGTERM, wait up to 10 s; asserts exit status 0.
stop_serve() {
	local pid=$1 rc=0
	kill -TERM "$pid" 2>/dev/null
	until_true 10 dead "$pid" || lab_fail "$2 still runs 10 s after SIGTERM"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" || rc=$?
	forget_pid "$pid"
	assert_eq "$2: exit status after SIGTERM" 0 "$rc"
}

# start_listener: pp_listen on 127.0.0.1:OPEN; its PID in LISTEN_PID.
start_listener() {
	rm -f "$W/listen.ready"
	lab_bg client "$listen" --ready-file "$W/listen.ready" "127.0.0.1:$OPEN" </dev/null
	LISTEN_PID=$LAB_BG_PID
	lab__wait_for "pp_listen" 5 lab__pid_ready "$LISTEN_PID" "$W/listen.ready"
}

# write_config FILE [EXTRA_PORT]: serve A's configuration; with EXTRA_PORT a third check,
# "extra", on that port.
write_config() {
	{
		cat <<EOF
interval: 1s
checks:
  - name: web
    plugin: check_tcp_connection
    labels: {team: ops}
    parameters: {host: 127.0.0.1, port: $OPEN, timeout: 0.5}
  - name: gone
    plugin: check_tcp_connection
    parameters: {host: 127.0.0.1, port: $CLOSED, timeout: 0.5}
EOF
		if [ -n "${2:-}" ]; then
			cat <<EOF
  - name: extra
    plugin: check_tcp_connection
    parameters: {host: 127.0.0.1, port: $2, timeout: 0.5}
EOF
		fi
		cat <<EOF
server:
  listen: "127.0.0.1:$A"
  probe_allowlist: ["127.0.0.1:$OPEN-$CLOSED"]
  limits: {max_request_bytes: 1024, request_timeout: 2s}
alerts:
  webhook: "http://127.0.0.1:$HOOK/alert"
  webhook_timeout: 2s
  command: 'printf "%s %s %s\\n" "\$PORTPROBE_UNIT" "\$PORTPROBE_FROM" "\$PORTPROBE_TO" >>$W/command.txt; [ ! -e $W/kill-on-alert ] || kill -9 \$PPID'
  down_after: 2
  up_after: 2
modules:
  badca:
    prober: tcp
    tls: true
    tls_config: {ca_file: /nonexistent/portprobe-ca.pem}
EOF
	} >"$1"
}

A_PID=""
# start_a: serve A on $W/a.yaml and $W/history.db, stderr appended to $W/a.err; waits for /healthz.
start_a() {
	lab_bg client "$pp" serve --config "$W/a.yaml" --db "$W/history.db" </dev/null 2>>"$W/a.err"
	A_PID=$LAB_BG_PID
	until_true 5 healthy "$A" || lab__die "serve A did not answer /healthz: $(cat "$W/a.err")"
}

# write_d FILE [VARIANT]: serve D's configuration: steady, on the open port every second, and
# flip, on HOLD every 2 s with a 1.5 s timeout (down at its first failure), history in $W/d.db. VARIANT more adds a check;
# no-flip leaves flip out; open-flip has flip on the open port every second; settings is
# open-flip with store.retention 1 d, and max_concurrency, store.path and alerts changed.
write_d() {
	local v=${2:-}
	{
		cat <<EOF
checks:
  - name: steady
    plugin: check_tcp_connection
    interval: 1s
    parameters: {host: 127.0.0.1, port: $OPEN, timeout: 0.5}
EOF
		case $v in
		"" | more)
			cat <<EOF
  - name: flip
    plugin: check_tcp_connection
    interval: 2s
    down_after: 1
    parameters: {host: 127.0.0.1, port: $HOLD, timeout: 1.5}
EOF
			;;
		open-flip | settings)
			cat <<EOF
  - name: flip
    plugin: check_tcp_connection
    interval: 1s
    parameters: {host: 127.0.0.1, port: $OPEN, timeout: 0.5}
EOF
			;;
		esac
		if [ "$v" = more ]; then
			cat <<EOF
  - name: more
    plugin: check_tcp_connection
    parameters: {host: 127.0.0.1, port: $OPEN}
EOF
		fi
		if [ "$v" = settings ]; then
			cat <<EOF
server: {listen: "127.0.0.1:$D", limits: {max_concurrency: 32}}
store: {path: "$W/d2.db", retention: 1d}
alerts: {webhook: "http://127.0.0.1:$HOOK/never", command: "true"}
EOF
		else
			cat <<EOF
server: {listen: "127.0.0.1:$D"}
store: {path: "$W/d.db"}
EOF
		fi
	} >"$1"
}

D_PID=""
# start_d: serve D on $W/d.yaml, stderr to $W/d.err; waits for /healthz.
start_d() {
	lab_bg client "$pp" serve --config "$W/d.yaml" </dev/null 2>>"$W/d.err"
	D_PID=$LAB_BG_PID
	until_true 5 healthy "$D" || lab__die "serve D did not answer /healthz: $(cat "$W/d.err")"
}

# ---------------------------------------------------------------- the world

start_listener
lab_bg client "$webhook" --ready-file "$W/hook.ready" --out "$W/webhook.jsonl" "127.0.0.1:$HOOK" \
	</dev/null
lab__wait_for "pp_webhook" 5 lab__pid_ready "$LAB_BG_PID" "$W/hook.ready"
write_config "$W/a.yaml"
cat >"$W/b.yaml" <<EOF
server:
  listen: "127.0.0.1:$B"
  auth: {basic: {username: prom, password: "pass word"}}
EOF
if want probe || want http || want history; then
	start_a
fi
if want locked || want reload; then
	lab_bg client "$hold" --ready-file "$W/hold.ready" "127.0.0.1:$HOLD/backlog=0/clients=1" \
		</dev/null
	lab__wait_for "pp_hold" 5 lab__pid_ready "$LAB_BG_PID" "$W/hold.ready"
	write_d "$W/d.yaml"
	start_d
fi
if want auth || want options; then
	lab_bg client "$pp" serve --config "$W/b.yaml" --no-db </dev/null 2>"$W/b.err"
	B_PID=$LAB_BG_PID
	until_true 5 healthy "$B" || lab__die "serve B did not answer /healthz: $(cat "$W/b.err")"
fi

# ---------------------------------------------------------------- options

if want options; then
	printf 'interval: 1s\nchecks:\n  - name: web\n    plugin: check_tcp_connection\n    parameters: {host: 127.0.0.1, port: 70000}\n' \
		>"$W/bad.yaml"
	exits 2 "portprobe: $W/bad.yaml:5:41: checks[0].parameters.port: 70000 is not in 1..65535" \
		serve --config "$W/bad.yaml" --no-db
	exits 2 "portprobe: serve: --config FILE is required (see portprobe serve --help)" serve
	exits 2 "portprobe: serve: --db and --no-db contradict each other" \
		serve --config "$W/b.yaml" --db "$W/x.db" --no-db
	exits 3 "portprobe: 127.0.0.1:$OPEN: cannot listen: Address already in use" \
		serve --config "$W/b.yaml" --no-db --listen "127.0.0.1:$OPEN"
	# a port a running serve holds: refused too (no SO_REUSEPORT sharing,
	# which would hand half of its requests to the second serve)
	exits -n "port taken by a serve" 3 \
		"portprobe: 127.0.0.1:$B: cannot listen: Address already in use" \
		serve --config "$W/b.yaml" --no-db --listen "127.0.0.1:$B"
	# too few descriptors for 8 HTTP workers: the ones started are stopped
	# and serve exits 3 at once (it used to wait for them forever); which
	# descriptor runs out first depends on the build (sanitizers use some)
	rc=0
	in_client prlimit --nofile=30:30 timeout -s KILL 20 "$pp" serve --config "$W/b.yaml" --no-db \
		--listen 127.0.0.1:9190 --threads 8 </dev/null >"$W/fds.out" 2>"$W/fds.err" || rc=$?
	assert_eq "8 workers, 30 descriptors: exit code" 3 "$rc"
	assert_match "8 workers, 30 descriptors: the line" \
		'^[-0-9T:.]+Z error (http worker: Too many open files|http://127\.0\.0\.1:9190: the HTTP server did not start)$' \
		"$(cat "$W/fds.err")"
fi

# ---------------------------------------------------------------- /probe

if want probe; then
	o=$W/probe.out
	assert_eq "/probe outside the allowlist: status" 403 \
		"$(req "$A" "/probe?target=127.0.0.1:22&module=tcp_connect" "$o")"
	assert_eq "/probe outside the allowlist: the one line" \
		'target "127.0.0.1:22" is not in the probe allowlist' "$(cat "$o")"
	assert_eq "/probe outside the allowlist: one line" 1 "$(nlines "$o")"
	assert_eq "/probe open port: status" 200 \
		"$(req "$A" "/probe?target=127.0.0.1:$OPEN&module=tcp_connect" "$o")"
	assert_eq "/probe open port: probe_success, no failure" "probe_success 1" \
		"$(grep -E '^probe_(success|failure_info)' "$o")"
	assert_eq "/probe closed port: status" 200 \
		"$(req "$A" "/probe?target=127.0.0.1:$CLOSED&module=tcp_connect" "$o")"
	assert_eq "/probe closed port: probe_success and why" \
		'probe_failure_info{message="Connection refused",reason="refused"} 1
probe_success 0' "$(grep -E '^probe_(success|failure_info)' "$o")"
	assert_eq "/probe without a target: status" 400 "$(req "$A" "/probe?module=tcp_connect" "$o")"
	assert_eq "/probe without a target: the line" "Target parameter is missing" "$(cat "$o")"
	assert_eq "/probe unknown module: status" 400 \
		"$(req "$A" "/probe?target=127.0.0.1:$OPEN&module=nope" "$o")"
	assert_eq "/probe unknown module: the line" 'Unknown module "nope"' "$(cat "$o")"
	# a probe that cannot start answers at once (its answer used to wait for
	# another connection to wake the worker)
	assert_eq "/probe, CA file missing: status" 500 \
		"$(req "$A" "/probe?target=127.0.0.1:$OPEN&module=badca" "$o")"
	assert_eq "/probe, CA file missing: the line" \
		"cannot start the probe: module badca: tls_config.ca_file /nonexistent/portprobe-ca.pem: No such file or directory" \
		"$(cat "$o")"
	# debug=true: blackbox's three parts; times and durations masked
	assert_eq "/probe debug=true: status" 200 \
		"$(req "$A" "/probe?target=127.0.0.1:$CLOSED&module=tcp_connect&debug=true" "$o")"
	assert_eq "/probe debug=true: Content-Type" "text/plain; charset=utf-8" \
		"$(header "$o.h" Content-Type)"
	ts='ts=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z'
	assert_eq "/probe debug=true: the answer" \
		"Logs for the probe:
TS module=tcp_connect target=127.0.0.1:$CLOSED level=info msg=\"Beginning probe\" probe=tcp timeout_seconds=120
TS module=tcp_connect target=127.0.0.1:$CLOSED level=info msg=\"Resolving target address\" target=127.0.0.1 ip_protocol=ip6
TS module=tcp_connect target=127.0.0.1:$CLOSED level=info msg=\"Resolved target address\" target=127.0.0.1 ip=127.0.0.1
TS module=tcp_connect target=127.0.0.1:$CLOSED level=info msg=\"Dialing TCP without TLS\"
TS module=tcp_connect target=127.0.0.1:$CLOSED level=error msg=\"Error dialing TCP\" err=\"TCP reset in answer to the SYN\" attempts=1
TS module=tcp_connect target=127.0.0.1:$CLOSED level=error msg=\"Probe failed\" duration_seconds=D reason=refused message=\"Connection refused\"



Metrics that would have been returned:
probe_dns_lookup_time_seconds 0
probe_duration_seconds D
probe_failure_info{message=\"Connection refused\",reason=\"refused\"} 1
probe_ip_addr_hash 3.668918509e+09
probe_ip_protocol 4
probe_success 0



Module configuration:
prober: tcp
tcp:
  preferred_ip_protocol: ip6
  ip_protocol_fallback: true
  tls: false
  tls_config:
    insecure_skip_verify: false" \
		"$(grep -v '^#' "$o" | sed -E "s/^$ts /TS /; s/(duration_seconds[ =])[0-9.e+-]+/\1D/")"
	# anything but "true" is the plain answer, as in blackbox
	assert_eq "/probe debug=1: the metrics" "probe_success 0" \
		"$(req "$A" "/probe?target=127.0.0.1:$CLOSED&debug=1" "$o" >/dev/null; grep '^probe_success' "$o")"
fi

# ---------------------------------------------------------------- malformed HTTP

# raw BYTES: send BYTES (a printf format) to serve A on a connection the client keeps open
# for writing (no half-close: nc would send a FIN); prints what came back, CRs removed, a
# newline, then "closed after N s" (whole seconds) or "still open after 4 s".
raw() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	in_client bash -c '
		exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		start=$EPOCHREALTIME
		printf "$2" >&3
		timeout 4 cat <&3 | tr -d "\r"
		echo
		if [ "${PIPESTATUS[0]}" = 124 ]; then
			echo "still open after 4 s"
		else
			echo "closed after $(((${EPOCHREALTIME/./} - ${start/./}) / 1000000)) s"
		fi' _ "$A" "$1"
}

# trickle: a request sent one header line every 0.5 s for 8 s (a slow-loris
# client): prints "closed after N s" when serve closes the connection.
trickle() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	in_client bash -c '
		trap "" PIPE
		exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		start=$EPOCHREALTIME
		printf "GET /healthz HTTP/1.1\r\nHost: x\r\n" >&3
		for ((i = 0; i < 16; i++)); do
			read -r -t 0.5 -u 3 line
			rc=$?
			if ((rc > 0 && rc <= 128)); then
				echo "closed after $(((${EPOCHREALTIME/./} - ${start/./}) / 1000000)) s"
				exit 0
			fi
			[ "$rc" = 0 ] && { echo "answered: $line"; exit 0; }
			printf "X-Slow-%d: a\r\n" "$i" >&3 2>/dev/null
		done
		echo "still open after 8 s"' _ "$A"
}

# pad N: N bytes of "a".
pad() { printf "%$1s" "" | tr ' ' a; }

if want http; then
	o=$W/http.out
	assert_eq "POST /metrics: status" 405 "$(req "$A" /metrics "$o" -X POST -d x=1)"
	assert_eq "POST /metrics: Allow" "GET, HEAD" "$(header "$o.h" Allow)"
	assert_eq "POST /metrics: the line" "method POST is not allowed: use GET" "$(cat "$o")"
	assert_eq "unknown path: status" 404 "$(req "$A" /nope "$o")"
	assert_eq "unknown path: the line" \
		"no such page: /nope (try /metrics, /probe?target=HOST:PORT&module=NAME, /api/v1/checks, /healthz)" \
		"$(cat "$o")"
	assert_eq "GET with a body: status" 413 "$(req "$A" /metrics "$o" -X GET -d x=1)"
	assert_eq "GET with a body: the line" "a GET request takes no body" "$(cat "$o")"
	# max_request_bytes is 1024: a request of about 700 bytes passes; above the
	# limit MHD answers 431 when the headers do not fit, 414 when the URL does not.
	assert_eq "a 700-byte request: status" 200 "$(req "$A" /healthz "$o" -H "X-Pad: $(pad 600)")"
	assert_eq "headers of 20 kB: status" 431 "$(req "$A" /healthz "$o" -H "X-Pad: $(pad 20000)")"
	assert_eq "a URL of 20 kB: status" 414 "$(req "$A" "/$(pad 20000)" "$o")"
	# just above the limit: serve's own count, not MHD's larger buffer, decides
	assert_eq "max_request_bytes: headers of 1100 bytes: status" 431 \
		"$(req "$A" /healthz "$o" -H "X-Pad: $(pad 1100)")"
	assert_eq "max_request_bytes: a URL of 1100 bytes: status" 414 \
		"$(req "$A" "/$(pad 1100)" "$o")"
	# Garbage: a 400 answer or a closed connection. Text that is not HTTP gets
	# a 400 at once; bytes starting with a NUL get no answer and are closed
	# when request_timeout (2 s) has passed. Serve goes on.
	ans=$(raw 'NOT HTTP\r\n\r\n')
	assert_eq "garbage text: status line" "HTTP/1.1 400 Bad Request" "${ans%%$'\n'*}"
	assert_eq "garbage text: closed at once" "closed after 0 s" "${ans##*$'\n'}"
	ans=$(raw '\x00\x01 NOT HTTP\r\n\r\n')
	assert_match "garbage bytes: a 400 or closed within request_timeout" \
		'^(HTTP/1.1 400 Bad Request'$'\n''.*)?'$'\n''closed after [0-2] s$' "$ans"
	# A request trickling in (each line well within the idle timeout) is cut
	# when request_timeout (2 s) has passed since the connection opened.
	assert_match "a trickled request: closed at request_timeout" '^closed after 2 s$' "$(trickle)"
	assert_match "a trickled request: counted" '^portprobe_http_request_timeouts_total [1-9]' \
		"$(get "$A" /metrics | grep '^portprobe_http_request_timeouts_total ')"
	assert_eq "/healthz after garbage: status" 200 "$(req "$A" /healthz "$o")"
	assert_eq "/healthz after garbage: body" ok "$(cat "$o")"
fi

# ---------------------------------------------------------------- basic authentication

if want auth; then
	o=$W/auth.out
	challenge='Basic realm="portprobe", charset="UTF-8"'
	assert_eq "no credentials: status" 401 "$(req "$B" /metrics "$o")"
	assert_eq "no credentials: WWW-Authenticate" "$challenge" "$(header "$o.h" WWW-Authenticate)"
	assert_eq "wrong password: status" 401 "$(req "$B" /metrics "$o" -u prom:wrong)"
	assert_eq "wrong password: WWW-Authenticate" "$challenge" "$(header "$o.h" WWW-Authenticate)"
	assert_eq "wrong user: status" 401 "$(req "$B" /api/v1/checks "$o" -u other:"pass word")"
	assert_eq "right credentials: status" 200 "$(req "$B" /metrics "$o" -u "prom:pass word")"
	assert_eq "right credentials: /api/v1/checks" 200 \
		"$(req "$B" /api/v1/checks "$o" -u "prom:pass word")"
	assert_eq "/healthz without credentials: status" 200 "$(req "$B" /healthz "$o")"
	assert_eq "/healthz without credentials: body" ok "$(cat "$o")"
fi

# ---------------------------------------------------------------- alerts, kill -9, restart, SIGHUP

hook=$W/webhook.jsonl
cmds=$W/command.txt
# the webhook bodies, the fields that do not vary
hook_fields() {
	jq -c '{event, check, unit, host, port, from, to, reason, streak, labels}' "$hook"
}
G_DOWN='{"event":"state_change","check":"gone","unit":"gone","host":"127.0.0.1","port":'$CLOSED',"from":"unknown","to":"down","reason":"2 consecutive failures: Connection refused","streak":2,"labels":{}}'
W_DOWN='{"event":"state_change","check":"web","unit":"web","host":"127.0.0.1","port":'$OPEN',"from":"up","to":"down","reason":"2 consecutive failures: Connection refused","streak":2,"labels":{"team":"ops"}}'
W_UP='{"event":"state_change","check":"web","unit":"web","host":"127.0.0.1","port":'$OPEN',"from":"down","to":"up","reason":"2 consecutive successes","streak":2,"labels":{"team":"ops"}}'

# history_ids PORT: every result id of checks web and gone from the history API, ascending.
# The two reads are two snapshots: a commit between them adds rows of both
# units, of which only the second read sees its own. Ids above the lower of
# the two maxima are left out so that the list is one consistent prefix.
history_ids() {
	local web gone
	web=$(get "$1" "/api/v1/checks/web/history?limit=10000" | jq -r '.results[].id')
	gone=$(get "$1" "/api/v1/checks/gone/history?limit=10000" | jq -r '.results[].id')
	printf '%s\n%s\n' "$web" "$gone" | awk -v a="$(echo "$web" | sort -n | tail -n 1)" \
		-v b="$(echo "$gone" | sort -n | tail -n 1)" \
		'NF && $1 <= (a + 0 < b + 0 ? a + 0 : b + 0)' | sort -n
}

# contiguous FILE: "FIRST..LAST contiguous" when FILE's ids are FIRST, FIRST+1, ..., LAST.
contiguous() {
	awk 'NR == 1 { first = $1 } { if ($1 != first + NR - 1) gap = 1; last = $1 }
	     END { printf "%s..%s %s\n", first, last, gap ? "with gaps" : "contiguous" }' "$1"
}

if want history; then
	# unknown -> up is not alerted; unknown -> down is, once
	until_true 5 health_is "$A" web up || lab_fail "web is not up 5 s after the start"
	until_true 5 has_lines "$hook" 1 || lab_fail "no alert for gone (unknown -> down) within 5 s"
	until_true 3 has_lines "$cmds" 1 || lab_fail "the command did not run for gone within 3 s"
	assert_eq "alerts after the start: gone unknown -> down only" "$G_DOWN" "$(hook_fields)"
	assert_eq "commands after the start" "gone unknown down" "$(cat "$cmds" 2>/dev/null)"

	# up -> down once, then down -> up once
	lab_stop "$LISTEN_PID"
	until_true 6 has_lines "$hook" 2 || lab_fail "no alert within 6 s of closing web's port"
	until_true 3 has_lines "$cmds" 2 || lab_fail "no command within 3 s of web's up -> down"
	assert_eq "web went down" down "$(checks_field "$A" web .health)"
	start_listener
	until_true 6 has_lines "$hook" 3 || lab_fail "no alert within 6 s of reopening web's port"
	until_true 3 has_lines "$cmds" 3 || lab_fail "no command within 3 s of web's down -> up"
	# and nothing more in the next 3 s
	until_true 3 has_lines "$hook" 4 && lab_fail "a 4th webhook body within 3 s"
	has_lines "$cmds" 4 && lab_fail "a 4th command line within 3 s"
	assert_eq "webhook bodies" "$G_DOWN
$W_DOWN
$W_UP" "$(hook_fields)"
	assert_eq "command lines" "gone unknown down
web up down
web down up" "$(cat "$cmds")"
	assert_eq "alerts delivered (2 channels x 3)" "6 0 0" \
		"$(alert_counts "$A")"
	# each alert is a transition of the history, at the same millisecond; the
	# history has web's unknown -> up too
	for c in web gone; do get "$A" "/api/v1/checks/$c/history?limit=10000"; done |
		jq -c '.transitions[] | {unit, from, to, time_ms, reason}' | sort >"$W/transitions"
	assert_eq "the history's transitions but unknown -> up are the alerts" \
		"$(jq -c '{unit, from, to, time_ms: .at_ms, reason}' "$hook" | sort)" \
		"$(grep -v '"from":"unknown","to":"up"' "$W/transitions")"
	assert_eq "web's unknown -> up in the history" \
		'{"unit":"web","from":"unknown","to":"up","reason":"1 consecutive success"}' \
		"$(jq -c 'select(.from == "unknown" and .to == "up") | del(.time_ms)' "$W/transitions")"

	# kill -9: what the history API showed is committed and stays
	since_web=$(checks_field "$A" web .since)
	since_gone=$(checks_field "$A" gone .since)
	committed=$(metric "$A" portprobe_history_results_committed_total)
	history_ids "$A" >"$W/ids.before"
	kill -KILL "$A_PID"
	wait "$A_PID" 2>/dev/null
	forget_pid "$A_PID"
	nbefore=$(nlines "$W/ids.before")
	[ "$nbefore" -ge 10 ] || lab_fail "only $nbefore results in the history before the kill"
	assert_eq "ids in the history API before the kill" "1..$nbefore contiguous" \
		"$(contiguous "$W/ids.before")"
	if command -v sqlite3 >/dev/null 2>&1; then
		in_db=$({
			echo "CREATE TEMP TABLE seen(id INTEGER PRIMARY KEY);"
			sed 's/.*/INSERT INTO seen VALUES(&);/' "$W/ids.before"
			echo "SELECT 'missing ' || count(*) FROM temp.seen WHERE id NOT IN (SELECT id FROM results);"
			echo "SELECT 'gaps ' || (max(id) - min(id) + 1 - count(*)) || ' first ' || min(id) FROM results;"
			echo "SELECT 'committed ' || (count(*) >= $committed) FROM results;"
			echo "SELECT unit || ' ' || state FROM check_state ORDER BY unit;"
			echo "PRAGMA integrity_check;"
		} | timeout 10 sqlite3 "$W/history.db" 2>&1)
		assert_eq "sqlite3 after kill -9" "missing 0
gaps 0 first 1
committed 1
gone down
web up
ok" "$in_db"
	else
		echo "sqlite3 not installed: the history is checked through the API after the restart"
	fi

	# restart on the same database: health restored, nothing alerted again
	start_a
	assert_eq "restart: web's health and since restored" "up $since_web" \
		"$(checks_field "$A" web '"\(.health) \(.since)"')"
	assert_eq "restart: gone's health and since restored" "down $since_gone" \
		"$(checks_field "$A" gone '"\(.health) \(.since)"')"
	until_true 6 count_at_least "$A" gone 3 || lab_fail "gone has not run 3 times 6 s after the restart"
	until_true 3 count_at_least "$A" web 3 || lab_fail "web has not run 3 times 6 s after the restart"
	assert_eq "restart: no alert queued or sent" "0 0 0" \
		"$(alert_counts "$A")"
	assert_eq "restart: no new webhook body" 3 "$(nlines "$hook")"
	assert_eq "restart: no new command" 3 "$(nlines "$cmds")"
	history_ids "$A" >"$W/ids.after"
	assert_eq "restart: every id seen before the kill is in the history" "" \
		"$(comm -23 "$W/ids.before" "$W/ids.after" | head -n 5)"
	assert_eq "restart: ids contiguous from 1" \
		"1..$(tail -n 1 "$W/ids.after") contiguous" "$(contiguous "$W/ids.after")"

	# kill -9 the moment an alert is out: the alert command kills serve right
	# after the webhook got the body. The change was committed before the
	# alert was posted, so the restart knows web is down and alerts nothing.
	touch "$W/kill-on-alert"
	lab_stop "$LISTEN_PID"
	until_true 6 dead "$A_PID" || lab_fail "the alert command did not kill serve A within 6 s"
	rm -f "$W/kill-on-alert"
	kill -KILL "$A_PID" 2>/dev/null
	wait "$A_PID" 2>/dev/null
	forget_pid "$A_PID"
	assert_eq "kill -9 at an alert: the webhook bodies" "$G_DOWN
$W_DOWN
$W_UP
$W_DOWN" "$(hook_fields)"
	assert_eq "kill -9 at an alert: the command lines" "gone unknown down
web up down
web down up
web up down" "$(cat "$cmds")"
	start_a
	assert_eq "restart after kill -9 at an alert: web's health" down \
		"$(checks_field "$A" web .health)"
	until_true 4 count_at_least "$A" web 2 || lab_fail "web has not run twice 4 s after the restart"
	assert_eq "restart after kill -9 at an alert: no alert queued or sent" "0 0 0" \
		"$(alert_counts "$A")"
	assert_eq "restart after kill -9 at an alert: no new webhook body" 4 "$(nlines "$hook")"
	assert_eq "restart after kill -9 at an alert: no new command" 4 "$(nlines "$cmds")"
	assert_eq "restart after kill -9 at an alert: the change is in the history" "up down" \
		"$(get "$A" "/api/v1/checks/web/history?limit=1" | jq -r '.transitions[0] | "\(.from) \(.to)"')"
	# web comes back (its down -> up is among the warnings checked at the end)
	start_listener

	# SIGHUP with a new check: it appears, the others keep statistics and history
	write_config "$W/a.yaml" "$OPEN"
	c0=$(checks_field "$A" web .stats.count)
	kill -HUP "$A_PID"
	until_true 5 listed "$A" extra ||
		lab_fail "unit extra not in /api/v1/checks 5 s after SIGHUP"
	c1=$(checks_field "$A" web .stats.count)
	[ "$c1" -ge "$c0" ] || lab_fail "SIGHUP reset web's stats.count: $c0 before, $c1 after"
	assert_eq "SIGHUP: units" "web gone extra" \
		"$(get "$A" /api/v1/checks | jq -r '[.checks[].unit] | join(" ")')"
	until_true 3 logged "$W/a.err" " info configuration reloaded: 3 checks, 3 units" ||
		lab_fail "SIGHUP: no \"configuration reloaded\" line within 3 s"
	until_true 4 count_at_least "$A" web $((c1 + 2)) ||
		lab_fail "web's stats.count did not go on from $c1 after SIGHUP"
	until_true 4 count_at_least "$A" extra 1 || lab_fail "extra has no result 4 s after SIGHUP"
	assert_eq "SIGHUP: last reload successful" 1 "$(metric "$A" portprobe_config_last_reload_successful)"
	history_ids "$A" >"$W/ids.hup"
	assert_eq "SIGHUP: every earlier id still in the history" "" \
		"$(comm -23 "$W/ids.after" "$W/ids.hup" | head -n 5)"

	# SIGHUP with an invalid file: one error line, the running configuration goes on
	write_config "$W/a.yaml" 70000
	line=$(grep -n 'port: 70000' "$W/a.yaml" | cut -d: -f1)
	col=$(awk -v l="$line" 'NR == l { print index($0, "70000") }' "$W/a.yaml")
	c2=$(checks_field "$A" web .stats.count)
	kill -HUP "$A_PID"
	until_true 5 logged "$W/a.err" "reload refused" || lab_fail "no reload error 5 s after SIGHUP"
	assert_eq "invalid SIGHUP: the error line" \
		"error reload refused, the running configuration goes on: $W/a.yaml:$line:$col: checks[2].parameters.port: 70000 is not in 1..65535" \
		"$(grep 'reload refused' "$W/a.err" | cut -d' ' -f2-)"
	# the flag is set just after the line is logged
	until_true 2 metric_is "$A" portprobe_config_last_reload_successful 0
	assert_eq "invalid SIGHUP: last reload successful" 0 \
		"$(metric "$A" portprobe_config_last_reload_successful)"
	assert_eq "invalid SIGHUP: the units go on" "web gone extra" \
		"$(get "$A" /api/v1/checks | jq -r '[.checks[].unit] | join(" ")')"
	until_true 4 count_at_least "$A" web $((c2 + 2)) ||
		lab_fail "web stopped running after the refused reload (count $c2)"
	assert_eq "invalid SIGHUP: serve runs" yes "$(lab__alive "$A_PID" && echo yes)"
	assert_eq "no error or warning logged but the refused reload and web's four changes" \
		"warning unit web: up -> down (2 consecutive failures: Connection refused)
warning unit web: down -> up (2 consecutive successes)
warning unit web: up -> down (2 consecutive failures: Connection refused)
warning unit web: down -> up (2 consecutive successes)
error reload refused, the running configuration goes on: $W/a.yaml:$line:$col: checks[2].parameters.port: 70000 is not in 1..65535" \
		"$(grep -E '^[^ ]+ (error|warning) ' "$W/a.err" | cut -d' ' -f2-)"
	stop_serve "$A_PID" "serve A"
	A_PID=""
fi

if [ -n "$A_PID" ]; then
	stop_serve "$A_PID" "serve A"
fi

# ---------------------------------------------------------------- serve D: a locked database

if want locked; then
	if ! command -v sqlite3 >/dev/null 2>&1; then
		echo "sqlite3 not installed: the locked database is not tested"
	else
		# another process takes the write lock and keeps it 2.6 s: sqlite3 reads
		# its commands from a fifo (opened read-write first: neither open waits)
		mkfifo "$W/lock.fifo"
		exec 7<>"$W/lock.fifo"
		sqlite3 -batch "$W/d.db" <"$W/lock.fifo" >"$W/lock.out" 2>&1 &
		LOCK_PID=$!
		LAB__PIDS+=("$LOCK_PID") # stopped at teardown should the test die first
		# (its output is buffered: it says when it holds the lock with a file)
		printf ".timeout 2000\nBEGIN IMMEDIATE;\n.shell touch %s/lock.held\n" "$W" >&7
		until_true 3 test -e "$W/lock.held" ||
			lab_fail "sqlite3 did not take the lock: $(cat "$W/lock.out")"
		locked_at=$EPOCHREALTIME
		# a tick has tried to commit by now: the loop must not be waiting for the lock
		sleep 1.3
		c1=$(checks_field "$D" steady .stats.count)
		sleep 1.2
		c2=$(checks_field "$D" steady .stats.count)
		total=$(metric "$D" portprobe_results_total)
		printf "COMMIT;\n.quit\n" >&7
		exec 7>&-
		wait "$LOCK_PID"
		forget_pid "$LOCK_PID"
		held=$(((${EPOCHREALTIME/./} - ${locked_at/./}) / 100000))
		[ "$held" -ge 25 ] || lab_fail "the lock was held only $held tenths of a second"
		[ "$c2" -gt "$c1" ] ||
			lab_fail "no result while the database was locked: steady's count $c1, then $c2"
		# the rows kept during the lock are committed at the next tick
		committed_all() {
			[ "$(metric "$D" portprobe_history_results_committed_total)" -ge "$total" ]
		}
		until_true 3 committed_all ||
			lab_fail "results lost: $total results, $(metric "$D" portprobe_history_results_committed_total) committed 3 s after the lock"
		until_true 2 logged "$W/d.err" " info history: written again after " ||
			lab_fail "no \"written again\" line after the lock"
		assert_eq "locked: one error line for the whole lock" 1 \
			"$(grep -c ' error history: .*: starting a transaction: database is locked' "$W/d.err")"
		assert_eq "locked: every result in the file, ids contiguous from 1" "1|1|0" \
			"$(in_db "$W/d.db" "SELECT count(*) >= $total, min(id), max(id) - min(id) + 1 - count(*) FROM results")"
	fi
fi

# ---------------------------------------------------------------- serve D: reloads

# fresh_result UNIT: waits (up to 4 s) for serve D's next result of UNIT; prints its count then.
fresh_result() {
	local n
	n=$(checks_field "$D" "$1" .stats.count)
	until_true 4 count_at_least "$D" "$1" $((n + 1)) || lab_fail "no result of $1 within 4 s"
	echo $((n + 1))
}

# reload_d VARIANT: serve D reloads write_d VARIANT; waits for its "configuration reloaded" line.
reload_d() {
	local n
	n=$(grep -c ' info configuration reloaded: ' "$W/d.err")
	write_d "$W/d.yaml" "$1"
	kill -HUP "$D_PID"
	until_true 2 reloads_logged "$W/d.err" $((n + 1)) || lab_fail "serve D did not reload ($1)"
}

if want reload; then
	# a result of flip has just come: its next run starts 0.5 s later and is in flight 1.5 s
	n=$(fresh_result flip)
	sleep 0.6
	# a reload that keeps flip: that run is still counted
	reload_d more
	until_true 3 count_at_least "$D" flip $((n + 1)) ||
		lab_fail "flip's run in flight across a reload that kept it was not counted"
	assert_eq "reload: flip's runs all timed out" 0 "$(checks_field "$D" flip .stats.successes)"
	# that result has just come: a reload removes flip while its next run is
	# in flight, another adds it back on the open port; that run's timeout is
	# not the new flip's
	sleep 0.6
	reload_d no-flip
	assert_eq "reload: flip removed" "" "$(checks_field "$D" flip .unit)"
	reload_d open-flip
	sleep 1.6 # the old run has ended
	until_true 2 count_at_least "$D" flip 1 || lab_fail "the new flip has no result"
	assert_match "reload: the new flip has only its own results (count successes)" \
		'^([1-9][0-9]*) \1$' "$(checks_field "$D" flip '"\(.stats.count) \(.stats.successes)"')"
	# and it starts unknown: the removed flip's health, still in the file
	# until the next commit, is not restored into it
	assert_eq "reload: the new flip's first change" \
		"info unit flip: unknown -> up (1 consecutive success)" \
		"$(grep ' unit flip: ' "$W/d.err" | tail -n 1 | cut -d' ' -f2-)"

	if command -v sqlite3 >/dev/null 2>&1; then
		# two results of two days ago: the 30 days of retention keep them
		old=$((($(date +%s) - 2 * 86400) * 1000))
		in_db "$W/d.db" "INSERT INTO results(check_name, unit, ts_ms, ok, state, attempts)
			VALUES('old', 'old', $old, 1, 'open', 1), ('old', 'old', $old, 1, 'open', 1)"
		assert_eq "retention 30 d: the old rows are in" 2 \
			"$(in_db "$W/d.db" "SELECT count(*) FROM results WHERE unit = 'old'")"
		# a reload to 1 d prunes them at the next tick
		reload_d settings
		old_gone() { [ "$(in_db "$W/d.db" "SELECT count(*) FROM results WHERE unit = 'old'")" = 0 ]; }
		until_true 3 old_gone || lab_fail "retention 1 d: the old rows still there 3 s after SIGHUP"
	else
		echo "sqlite3 not installed: a reloaded retention is not tested"
		reload_d settings
	fi
	assert_eq "reload: one line per setting that needs a restart" \
		"warning reload: server.limits.max_concurrency changed; restart to apply
warning reload: store.path changed; restart to apply
warning reload: alerts.webhook changed; restart to apply
warning reload: alerts.command changed; restart to apply" \
		"$(grep ' warning reload: ' "$W/d.err" | cut -d' ' -f2-)"
	assert_eq "reload: no history file at the new store.path" no \
		"$([ -e "$W/d2.db" ] && echo yes || echo no)"
fi
if [ -n "$D_PID" ]; then
	stop_serve "$D_PID" "serve D"
fi

# ---------------------------------------------------------------- the 80% bound

# A certificate unit enumerating ciphers on a server that takes 0.4 s per
# handshake would run far longer than its 2 s interval (each connection has
# the whole timeout): the run is stopped at 80% (1.6 s) and reported, and
# the next one starts on time (it used to be skipped run after run).
if want bound; then
	E=9192
	SLOW=7004
	openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 30 \
		-keyout "$W/slow.key" -out "$W/slow.pem" 2>/dev/null
	cat >"$W/slow.py" <<'PY'
import socket, ssl, sys, threading, time
port, cert, key, ready = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(128)
open(ready, "w").close()
def serve(c):
    try:
        time.sleep(0.4)
        t = ctx.wrap_socket(c, server_side=True)
        t.settimeout(2)
        t.recv(1)
    except Exception:
        pass
    finally:
        c.close()
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
	lab_bg client python3 "$W/slow.py" "$SLOW" "$W/slow.pem" "$W/slow.key" "$W/slow.ready" </dev/null
	lab__wait_for "the slow TLS server" 5 lab__pid_ready "$LAB_BG_PID" "$W/slow.ready"
	cat >"$W/e.yaml" <<YAML
checks:
  - name: slow
    plugin: tcp_probe
    interval: 2s
    parameters: {address: 127.0.0.1, certificate_ports: [$SLOW], timeout: 10}
server:
  listen: "127.0.0.1:$E"
YAML
	lab_bg client "$pp" serve --config "$W/e.yaml" --no-db </dev/null 2>"$W/e.err"
	e_pid=$LAB_BG_PID
	until_true 5 healthy "$E" || lab__die "serve E did not answer /healthz: $(cat "$W/e.err")"
	unit=$(get "$E" /api/v1/checks | jq -r '.checks[0].unit')
	until_true 12 count_at_least "$E" "$unit" 3
	assert_eq "a run over 80% of the interval: stopped and reported" \
		"CRITICAL|Connection timeout|the run took more than 1.6 s (80% of the 2 s interval) and was stopped" \
		"$(checks_field "$E" "$unit" '[.last.verdict, .last.failure_reason, .last.detail] | join("|")')"
	assert_eq "a run over 80% of the interval: no run skipped" 0 \
		"$(checks_field "$E" "$unit" .stats.runs_skipped)"
	stop_serve "$e_pid" "serve E"
fi

# ---------------------------------------------------------------- SIGTERM under load

# 32 keep-alive clients asking /probe without pause, then SIGTERM: serve
# exits 0 every time (a /probe read by the last run of a stopping worker
# used to reach the freed prober: SIGSEGV in about half of the rounds).
if want stop; then
	C=9191
	printf 'server:\n  listen: "127.0.0.1:%s"\n  probe_allowlist: [127.0.0.1]\n' "$C" >"$W/c.yaml"
	urls=()
	for ((i = 0; i < 300; i++)); do urls+=("http://127.0.0.1:$C/probe?target=127.0.0.1:$CLOSED"); done
	codes=""
	for round in 1 2 3 4 5 6; do
		lab_bg client "$pp" serve --config "$W/c.yaml" --no-db </dev/null 2>"$W/c.err"
		c_pid=$LAB_BG_PID
		until_true 5 healthy "$C" || lab__die "serve C did not answer /healthz: $(cat "$W/c.err")"
		clients=()
		for ((i = 0; i < 32; i++)); do
			in_client curl -s --noproxy '*' --max-time 10 "${urls[@]}" >/dev/null 2>&1 &
			clients+=($!)
		done
		sleep 0.3
		kill -TERM "$c_pid"
		rc=0
		wait "$c_pid" || rc=$?
		codes+="$rc "
		kill "${clients[@]}" 2>/dev/null
		wait "${clients[@]}" 2>/dev/null
	done
	assert_eq "SIGTERM under /probe load: exit codes of 6 rounds" "0 0 0 0 0 0 " "$codes"
fi
if want auth || want options; then
	stop_serve "$B_PID" "serve B"
fi
[ "$LAB__FAILED" -eq 0 ] ||
	printf '\n--- serve A stderr:\n%s\n--- serve B stderr:\n%s\n--- serve D stderr:\n%s\n' \
		"$(cat "$W/a.err" 2>/dev/null)" "$(cat "$W/b.err" 2>/dev/null)" \
		"$(cat "$W/d.err" 2>/dev/null)" >&2
lab_finish
