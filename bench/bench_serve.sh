#!/usr/bin/env bash
# bench_serve.sh: `portprobe serve` against blackbox_exporter in the same run,
# on the loopback of a private network namespace.
#
# Part 1, /probe throughput. A pp_listen (tests/lab/pp_listen.c: accepts and
# closes every connection) holds 127.0.0.1:18080 open; 127.0.0.1:18081 stays
# closed. blackbox_exporter (127.0.0.1:19115) and `portprobe serve --no-db`
# (127.0.0.1:19116, allowlist 127.0.0.0/8) both get a module tcp_connect
# (prober tcp, ip4, 5 s timeout). For each tool and target, wrk (1 thread,
# C keep-alive connections, D seconds) asks /probe?target=...&module=tcp_connect
# as fast as the tool answers, and bench_serve.lua checks every response: a
# 200 with exactly one probe_success line, `probe_success 1` for the open
# port and `probe_success 0` for the closed one. A run counts only when
# nothing mismatched (no other status, no socket error, every response
# checked); one that does not is reported with its first bad answer. The
# tools alternate (odd rounds blackbox first, even rounds portprobe first),
# after a 1 s warm-up each. Reported per tool and target: the median (min..max)
# of req/s, the tool's CPU time per request (utime+stime of /proc/PID/stat
# over the run; every thread counted), and wrk's own CPU share (near 100 %:
# the figure is wrk's limit, not the tool's); then the ratios portprobe /
# blackbox of req/s (above 1: portprobe answers more) and blackbox / portprobe
# of CPU per request (above 1: portprobe is cheaper).
#
# Part 2, scale (portprobe only; blackbox has no scheduler). N checks (10,000)
# at a 15 s interval with a 1 s timeout: N/2 on ports 20000.. held open by
# pp_listen processes of 500 listeners each, N/2 on ports 40000.. where
# nothing listens. `portprobe serve --db FILE` runs them; after one interval
# of warm-up it is measured for T seconds: CPU share (utime+stime delta over
# wall time, % of one core), VmRSS and VmHWM, and results per second from the
# units' stats counts in /api/v1/checks and from the rows of the history
# database (expected N / interval). Ground truth after the window: every open
# check is health "up" with verdict OK, every closed one "down" with
# failure_reason "Connection refused", and every unit ran T / interval times
# (+-1) in the window.
#
# Usage: bench/bench_serve.sh BUILD_DIR   (root, else exit 77)
#   env R=5 rounds, D=5 s per wrk run, C=16 connections, T=60 s window,
#   N=10000 checks, INTERVAL=15 s, ONLY=blackbox (Part 1 with blackbox alone)
#   or ONLY=portprobe, PARTS=12 (1: throughput only, 2: scale only).
# Only the namespace ppbs<PID> is touched; cleanup (also on Ctrl-C or failure)
# stops the processes started here by PID and deletes it. With the defaults,
# Part 1 takes about 2 min, Part 2 about 1.5 min.
set -euo pipefail
export LC_ALL=C

[ $# -ge 1 ] || { echo "usage: bench/bench_serve.sh BUILD_DIR" >&2; exit 2; }
build=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
R=${R:-5} D=${D:-5} C=${C:-16} T=${T:-60} N=${N:-10000} INTERVAL=${INTERVAL:-15}
ONLY=${ONLY:-} PARTS=${PARTS:-12}
pp=$build/portprobe
listen=$build/pp_listen
lua=$here/bench_serve.lua
bbx=prometheus-blackbox-exporter
[ "$(id -u)" = 0 ] || { echo "bench: skipped: needs root (network namespace)" >&2; exit 77; }
for v in R D C T N INTERVAL; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "bench: $v=${!v} is not a positive number" >&2; exit 2; }
done
case $ONLY in '' | blackbox | portprobe) ;; *) echo "bench: ONLY=$ONLY: blackbox or portprobe" >&2; exit 2 ;; esac
[[ $PARTS =~ ^[12]+$ ]] || { echo "bench: PARTS=$PARTS: 1, 2 or 12" >&2; exit 2; }
((N % 1000 == 0 && N <= 40000)) || { echo "bench: N=$N: a multiple of 1000, at most 40000" >&2; exit 2; }
((T >= 2 * INTERVAL)) || { echo "bench: T=$T: at least 2 x INTERVAL, so that a closed check is down (3 failures) by the end" >&2; exit 2; }
use_bb=1 use_pp=1
[ "$ONLY" = portprobe ] && use_bb=0
[[ $PARTS == *1* ]] || use_bb=0
[ "$ONLY" = blackbox ] && use_pp=0
[[ $PARTS == *2* ]] && [ "$use_pp" = 0 ] && PARTS=${PARTS//2/}
[ -x "$listen" ] || { echo "bench: $listen missing; build first" >&2; exit 2; }
[ -f "$lua" ] || { echo "bench: $lua missing" >&2; exit 2; }
if [ "$use_pp" = 1 ]; then
	[ -x "$pp" ] || { echo "bench: $pp missing; build first" >&2; exit 2; }
	"$pp" serve --help >/dev/null 2>&1 || { echo "bench: $pp has no 'serve'; ONLY=blackbox measures blackbox alone" >&2; exit 2; }
fi
tools=(ip ss wrk curl jq awk)
[ "$use_bb" = 1 ] && tools+=("$bbx")
for tool in "${tools[@]}"; do
	command -v "$tool" >/dev/null || { echo "bench: $tool missing (scripts/install-deps.sh test)" >&2; exit 2; }
done
have_time=0
[ -x /usr/bin/time ] && have_time=1
have_sqlite=0
command -v sqlite3 >/dev/null && have_sqlite=1
hz=$(getconf CLK_TCK)

ns=ppbs$$
work=$(mktemp -d)
pids=()

# alive PID: true while PID exists and is not a zombie.
alive() {
	local stat
	read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}
# stop PID...: SIGTERM the given processes (started here), SIGKILL what is left after 3 s,
# reap them and forget them, so that a PID reused later is never signalled.
stop() {
	local i pid left keep
	[ $# -gt 0 ] || return 0
	kill -TERM "$@" 2>/dev/null || true
	for ((i = 0; i < 60; i++)); do
		left=()
		for pid in "$@"; do
			alive "$pid" && left+=("$pid")
		done
		[ "${#left[@]}" -eq 0 ] && break
		sleep 0.05
	done
	[ "${#left[@]}" -gt 0 ] && kill -KILL "${left[@]}" 2>/dev/null
	wait "$@" 2>/dev/null || true
	keep=()
	for pid in "${pids[@]}"; do
		[[ " $* " == *" $pid "* ]] || keep+=("$pid")
	done
	pids=(${keep[@]+"${keep[@]}"})
}
# shellcheck disable=SC2317 # called through the EXIT trap
cleanup() {
	trap - EXIT INT TERM HUP
	set +e
	[ "${#pids[@]}" -gt 0 ] && stop "${pids[@]}"
	[ -e "/run/netns/$ns" ] && ip netns del "$ns"
	rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "bench: interrupted" >&2; exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
die() { echo "bench: $*" >&2; exit 1; }

ip netns add "$ns"
ip -n "$ns" link set lo up
in_ns() { ip netns exec "$ns" "$@"; }

# start NAME CMD...: run CMD in the namespace, output in work/NAME.log; its PID in $bg
# (ip netns exec execs CMD, so $! is CMD's own PID).
start() {
	local name=$1
	shift
	ip netns exec "$ns" "$@" </dev/null >"$work/$name.log" 2>&1 &
	bg=$!
	pids+=("$bg")
}
# wait_http NAME PID URL SECONDS: wait until URL answers 200, or die when PID exits or time is up.
wait_http() {
	local i
	for ((i = 0; i < $4 * 20; i++)); do
		in_ns curl -sf -o /dev/null --max-time 1 "$3" && return 0
		alive "$2" || die "$1 exited: $(tail -3 "$work/$1.log")"
		sleep 0.05
	done
	die "$1 did not answer $3 within $4 s: $(tail -3 "$work/$1.log")"
}
# wait_ready NAME PID FILE: wait for a pp_listen ready file (10 s).
wait_ready() {
	local i
	for ((i = 0; i < 200; i++)); do
		[ -f "$3" ] && return 0
		alive "$2" || die "$1 exited: $(tail -3 "$work/$1.log")"
		sleep 0.05
	done
	die "$1 not ready after 10 s"
}
# cpu_ticks PID: utime + stime of PID, all threads, in clock ticks.
cpu_ticks() {
	local stat f
	read -r stat <"/proc/$1/stat" || die "process $1 is gone"
	read -ra f <<<"${stat##*) }" # f[0] is field 3 (state): utime is field 14, stime 15
	echo $((f[11] + f[12]))
}
now_us() { echo "${EPOCHREALTIME/[.,]/}"; }
median() { sort -g "$1" | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
lo() { sort -g "$1" | head -1; }
hi() { sort -g "$1" | tail -1; }
fmt() { awk -v n="$1" -v p="$2" 'BEGIN {printf "%.*f", p, n}'; }

[ "$use_bb" = 1 ] && "$bbx" --version 2>&1 | head -1
[ "$use_pp" = 1 ] && echo "portprobe $("$pp" --version | cut -d' ' -f2)"
echo "$(wrk -v 2>&1 | head -1 | sed 's/ Copyright.*//'), kernel $(uname -r), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at the start"
echo

# ================================================================ Part 1: /probe throughput
part1() {
	local OPEN=18080 CLOSED=18081 BB=19115 PP=19116 lpid bbpid pppid
	start listen1 "$listen" --ready-file "$work/listen1.ready" "127.0.0.1:$OPEN"
	lpid=$bg
	wait_ready listen1 "$lpid" "$work/listen1.ready"
	in_ns ss -Htln "sport = :$CLOSED" | grep -q . && die "something listens on the closed port $CLOSED"

	declare -gA port pid
	if [ "$use_bb" = 1 ]; then
		cat >"$work/blackbox.yml" <<-EOF
			modules:
			  tcp_connect:
			    prober: tcp
			    timeout: 5s
			    tcp:
			      preferred_ip_protocol: ip4
		EOF
		start blackbox "$bbx" --config.file="$work/blackbox.yml" --web.listen-address="127.0.0.1:$BB"
		bbpid=$bg
		wait_http blackbox "$bbpid" "http://127.0.0.1:$BB/metrics" 10
		port[blackbox]=$BB pid[blackbox]=$bbpid
	fi
	if [ "$use_pp" = 1 ]; then
		cat >"$work/serve1.yaml" <<-EOF
			server:
			  listen: "127.0.0.1:$PP"
			  probe_allowlist: [127.0.0.0/8]
			modules:
			  tcp_connect:
			    prober: tcp
			    timeout: 5s
			    preferred_ip_protocol: ip4
		EOF
		start portprobe "$pp" serve --config "$work/serve1.yaml" --no-db
		pppid=$bg
		wait_http portprobe "$pppid" "http://127.0.0.1:$PP/healthz" 10
		port[portprobe]=$PP pid[portprobe]=$pppid
	fi
	local tools1=()
	[ "$use_bb" = 1 ] && tools1+=(blackbox)
	[ "$use_pp" = 1 ] && tools1+=(portprobe)

	declare -gA tport=([open]=$OPEN [closed]=$CLOSED) want=([open]=1 [closed]=0)
	url() { echo "http://127.0.0.1:${port[$1]}/probe?target=127.0.0.1:${tport[$2]}&module=tcp_connect"; }

	# ground truth, once by hand, before anything is timed
	local tool target got
	for tool in "${tools1[@]}"; do
		for target in open closed; do
			got=$(in_ns curl -s --max-time 5 "$(url "$tool" "$target")" | grep '^probe_success' || true)
			[ "$got" = "probe_success ${want[$target]}" ] ||
				die "WRONG RESULT from $tool for the $target port: '${got:-no probe_success line}'"
		done
	done

	# run TOOL TARGET SECONDS [record]: one wrk run; with `record`, its figures are kept.
	run() {
		local tool=$1 target=$2 secs=$3 c0 c1 res requests dur checked mism non200 errs rps
		c0=$(cpu_ticks "${pid[$tool]}")
		local timer=()
		[ "$have_time" = 1 ] && timer=(/usr/bin/time -f '%U %S %e' -o "$work/wrk.time")
		"${timer[@]}" ip netns exec "$ns" wrk -t1 -c"$C" -d"${secs}s" --timeout 5s -s "$lua" \
			"$(url "$tool" "$target")" -- "probe_success ${want[$target]}" >"$work/wrk.out" 2>&1 ||
			die "wrk failed: $(tail -3 "$work/wrk.out")"
		c1=$(cpu_ticks "${pid[$tool]}")
		# bench_serve.lua's RESULT line: NAME=VALUE pairs; socket errors and bad statuses summed
		res=$(awk '$1 == "RESULT" {
			for (i = 2; i <= NF; i++) {split($i, kv, "="); v[kv[1]] = kv[2]}
			print v["requests"], v["duration_us"], v["checked"], v["mismatches"], v["non200"],
				v["connect"] + v["read"] + v["write"] + v["timeout"] + v["status"]
		}' "$work/wrk.out")
		[[ $res =~ ^[0-9]+\ [1-9][0-9]*\ [0-9]+\ [0-9]+\ [0-9]+\ [0-9]+$ ]] ||
			die "wrk printed no RESULT line: $(tail -3 "$work/wrk.out")"
		read -r requests dur checked mism non200 errs <<<"$res"
		[ "${4:-}" = record ] || return 0
		if [ "$requests" -gt 0 ] && [ "$mism" = 0 ] && [ "$non200" = 0 ] && [ "$errs" = 0 ] && [ "$checked" = "$requests" ]; then
			rps=$(awk -v r="$requests" -v d="$dur" 'BEGIN {printf "%.1f", r * 1e6 / d}')
			echo "$rps" >>"$work/$tool.$target.rps"
			awk -v t=$((c1 - c0)) -v hz="$hz" -v r="$requests" 'BEGIN {printf "%.2f\n", t * 1e6 / hz / r}' \
				>>"$work/$tool.$target.cpu"
			if [ "$have_time" = 1 ]; then
				awk '{printf "%.0f\n", ($1 + $2) * 100 / ($3 > 0 ? $3 : 1)}' "$work/wrk.time" >>"$work/$tool.$target.wrk"
			fi
		else
			echo "bench: run not counted: $tool $target: $requests requests, $checked checked," \
				"$mism mismatches, $non200 non-200, $errs socket errors" >&2
			grep '^FIRST_BAD ' "$work/wrk.out" | head -1 >&2 || true
			echo x >>"$work/$tool.$target.bad"
		fi
	}

	local r order
	for tool in "${tools1[@]}"; do
		for target in open closed; do run "$tool" "$target" 1; done
	done
	for ((r = 1; r <= R; r++)); do
		order=("${tools1[@]}")
		if ((r % 2 == 0)) && [ "${#tools1[@]}" = 2 ]; then order=(portprobe blackbox); fi
		for tool in "${order[@]}"; do
			for target in open closed; do run "$tool" "$target" "$D" record; done
		done
	done
	stop "$lpid" ${bbpid:+"$bbpid"} ${pppid:+"$pppid"}

	echo "Part 1: /probe throughput, wrk -t1 -c$C -d${D}s, R=$R rounds, tools alternating, every response checked"
	echo
	echo "| tool | target | expected line | req/s median (min..max) | CPU µs/request median (min..max) | wrk CPU % | runs counted |"
	echo "|---|---|---|---|---|---|---|"
	local f bad
	for tool in "${tools1[@]}"; do
		for target in open closed; do
			f=$work/$tool.$target
			bad=0
			[ -f "$f.bad" ] && bad=$(wc -l <"$f.bad")
			if [ -s "$f.rps" ]; then
				printf '| %s | %s | probe_success %s | %s (%s..%s) | %s (%s..%s) | %s | %s/%s |\n' \
					"$tool" "$target" "${want[$target]}" "$(fmt "$(median "$f.rps")" 0)" "$(fmt "$(lo "$f.rps")" 0)" \
					"$(fmt "$(hi "$f.rps")" 0)" "$(median "$f.cpu")" "$(lo "$f.cpu")" "$(hi "$f.cpu")" \
					"$([ -s "$f.wrk" ] && median "$f.wrk" || echo -)" "$((R - bad))" "$R"
			else
				printf '| %s | %s | probe_success %s | - | - | - | 0/%s |\n' "$tool" "$target" "${want[$target]}" "$R"
			fi
		done
	done
	if [ "${#tools1[@]}" = 2 ]; then
		echo
		for target in open closed; do
			if [ -s "$work/portprobe.$target.rps" ] && [ -s "$work/blackbox.$target.rps" ]; then
				printf 'ratio %-6s req/s portprobe/blackbox: %s   CPU per request blackbox/portprobe: %s\n' "$target" \
					"$(awk -v a="$(median "$work/portprobe.$target.rps")" -v b="$(median "$work/blackbox.$target.rps")" 'BEGIN {printf "%.2f", a / b}')" \
					"$(awk -v a="$(median "$work/blackbox.$target.cpu")" -v b="$(median "$work/portprobe.$target.cpu")" 'BEGIN {printf "%.2f", a / b}')"
			else
				echo "ratio $target: n/a (a tool has no counted run)"
			fi
		done
	fi
	echo
}

# ================================================================ Part 2: scale
part2() {
	local half=$((N / 2)) OBASE=20000 CBASE=40000 SP=19117 per=500 k lo_p spid i
	local lpids=()
	# the open ports: N/2 listeners, 500 per pp_listen (well under a default 1024 fd limit)
	for ((k = 0; k < half / per; k++)); do
		lo_p=$((OBASE + k * per))
		start "hold$k" "$listen" --ready-file "$work/hold$k.ready" \
			$(seq -f "127.0.0.1:%.0f" "$lo_p" $((lo_p + per - 1)))
		lpids+=("$bg")
	done
	for ((k = 0; k < half / per; k++)); do wait_ready "hold$k" "${lpids[k]}" "$work/hold$k.ready"; done
	[ "$(in_ns ss -Htln | awk '{print $4}' | sed 's/.*://' |
		awk -v o="$OBASE" -v c="$CBASE" -v h="$half" '$1 >= o && $1 < o + h {n++} $1 >= c && $1 < c + h {bad++}
			END {print n + 0, bad + 0}')" = "$half 0" ] ||
		die "the namespace does not hold exactly $half listeners on $OBASE.. and none on $CBASE.."

	awk -v h="$half" -v o="$OBASE" -v c="$CBASE" -v iv="$INTERVAL" -v sp="$SP" 'BEGIN {
		printf "interval: %ds\nchecks:\n", iv
		for (i = 0; i < h; i++)
			printf "  - {name: o%d, plugin: check_tcp_connection, parameters: {host: 127.0.0.1, port: %d, timeout: 1}}\n", o + i, o + i
		for (i = 0; i < h; i++)
			printf "  - {name: c%d, plugin: check_tcp_connection, parameters: {host: 127.0.0.1, port: %d, timeout: 1}}\n", c + i, c + i
		printf "server:\n  listen: \"127.0.0.1:%d\"\n", sp
	}' >"$work/serve2.yaml"
	start serve2 "$pp" serve --config "$work/serve2.yaml" --db "$work/scale.db"
	spid=$bg
	wait_http serve2 "$spid" "http://127.0.0.1:$SP/healthz" 30
	local api=http://127.0.0.1:$SP/api/v1/checks
	echo "Part 2: $N checks at ${INTERVAL}s (timeout 1 s): $half on open ports (pp_listen), $half on closed ports;" \
		"warm-up ${INTERVAL} s, window $T s"
	sleep "$INTERVAL"

	# snapshot TAG: the API's view and the database's row count, with the wall time around them
	snapshot() {
		local a b
		a=$(now_us)
		in_ns curl -sf --max-time 60 "$api" >"$work/api.$1.json" || die "GET /api/v1/checks failed"
		[ "$have_sqlite" = 1 ] && sqlite3 "$work/scale.db" 'SELECT count(*) FROM results;' >"$work/db.$1"
		b=$(now_us)
		echo $(((a + b) / 2)) >"$work/at.$1"
	}
	local t0 t1 c0 c1
	snapshot 0
	t0=$(now_us) c0=$(cpu_ticks "$spid")
	sleep "$T"
	c1=$(cpu_ticks "$spid") t1=$(now_us)
	local rss hwm
	rss=$(awk '$1 == "VmRSS:" {print $2}' "/proc/$spid/status")
	hwm=$(awk '$1 == "VmHWM:" {print $2}' "/proc/$spid/status")
	snapshot 1

	local counts0 counts1 api_secs api_rate db_rate="-" cpu runs truth
	api_secs=$(awk -v a="$(cat "$work/at.0")" -v b="$(cat "$work/at.1")" 'BEGIN {print (b - a) / 1e6}')
	counts0=$(jq '[.checks[].stats.count] | add' "$work/api.0.json")
	counts1=$(jq '[.checks[].stats.count] | add' "$work/api.1.json")
	api_rate=$(awk -v a="$counts0" -v b="$counts1" -v s="$api_secs" 'BEGIN {printf "%.1f", (b - a) / s}')
	if [ "$have_sqlite" = 1 ]; then
		db_rate=$(awk -v a="$(cat "$work/db.0")" -v b="$(cat "$work/db.1")" -v s="$api_secs" 'BEGIN {printf "%.1f", (b - a) / s}')
	fi
	cpu=$(awk -v t=$((c1 - c0)) -v hz="$hz" -v w=$((t1 - t0)) 'BEGIN {printf "%.2f", t / hz * 100 / (w / 1e6)}')
	# runs per unit in the window, as "COUNT xUNITS" pairs
	# shellcheck disable=SC2016 # jq program
	runs=$(jq -rn --slurpfile a "$work/api.0.json" --slurpfile b "$work/api.1.json" '
		($a[0].checks | map({key: .unit, value: .stats.count}) | from_entries) as $before
		| [$b[0].checks[] | .stats.count - ($before[.unit] // 0)] | group_by(.) | map("\(.[0]) x\(length)") | join(", ")')
	local expect_runs=$((T / INTERVAL))
	# ground truth: "OPEN_UP OPEN_TOTAL CLOSED_DOWN CLOSED_TOTAL UNITS SKIPPED"
	truth=$(jq -r --argjson o "$OBASE" --argjson c "$CBASE" --argjson h "$half" '
		[.checks[] | select(.port >= $o and .port < $o + $h)] as $open
		| [.checks[] | select(.port >= $c and .port < $c + $h)] as $closed
		| [($open | map(select(.health == "up" and .last.verdict == "OK")) | length), ($open | length),
		   ($closed | map(select(.health == "down" and .last.failure_reason == "Connection refused")) | length),
		   ($closed | length), (.checks | length), ([.checks[].stats.runs_skipped] | add)] | join(" ")' "$work/api.1.json")
	local ou ot cd ct units skipped held=yes
	read -r ou ot cd ct units skipped <<<"$truth"
	[ "$ou" = "$half" ] && [ "$ot" = "$half" ] && [ "$cd" = "$half" ] && [ "$ct" = "$half" ] && [ "$units" = "$N" ] || held=NO
	# every unit ran T/INTERVAL times, give or take one at the window's edges
	jq -en --slurpfile a "$work/api.0.json" --slurpfile b "$work/api.1.json" --argjson e "$expect_runs" '
		($a[0].checks | map({key: .unit, value: .stats.count}) | from_entries) as $before
		| all($b[0].checks[]; (.stats.count - ($before[.unit] // 0)) as $d | $d >= $e - 1 and $d <= $e + 1)' \
		>/dev/null || held=NO
	stop "$spid" "${lpids[@]}"

	echo
	echo "| figure | value |"
	echo "|---|---|"
	echo "| CPU over the window (utime+stime / wall) | $cpu % of one core |"
	echo "| VmRSS at the end / VmHWM | $((rss / 1024)) MiB / $((hwm / 1024)) MiB ($rss kB / $hwm kB) |"
	echo "| results/s from /api/v1/checks stats counts | $api_rate (expected $(fmt "$(awk -v n="$N" -v i="$INTERVAL" 'BEGIN {print n / i}')" 1)) |"
	echo "| results/s written to the history database | $db_rate |"
	echo "| CPU per result | $(awk -v t=$((c1 - c0)) -v hz="$hz" -v a="$counts0" -v b="$counts1" -v w=$((t1 - t0)) -v s="$api_secs" \
		'BEGIN {printf "%.1f", t * 1e6 / hz / ((b - a) * (w / 1e6) / s)}') µs |"
	echo "| runs per unit in the window (expected $expect_runs +-1) | $runs |"
	echo "| runs skipped (all units, since start) | $skipped |"
	echo "| open checks up, verdict OK | $ou / $ot |"
	echo "| closed checks down, \"Connection refused\" | $cd / $ct |"
	echo "| ground truth held | $held |"
	[ "$held" = yes ] || die "WRONG RESULT: ground truth did not hold"
}

[[ $PARTS == *1* ]] && part1
[[ $PARTS == *2* ]] && part2
exit 0
