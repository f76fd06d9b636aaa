#!/usr/bin/env bash
# bench_check.sh: portprobe check against nc -z and monitoring-plugins'
# check_tcp on a loopback listener, measured in the same run.
#
# Each tool's answer is first checked against the ground truth (an open port
# must pass, a closed one must fail); then each tool runs N checks per round,
# round-robin over R rounds, and the median round gives wall and CPU time per
# check. Printed as ratios peer / portprobe: above 1 means portprobe is faster.
#
# Usage: bench/bench_check.sh [BUILD_DIR] (env: N=300 checks a round, R=5 rounds)
set -euo pipefail

build=${1:-build}
N=${N:-300}
R=${R:-5}
pp=$build/portprobe
listen=$build/pp_listen
check_tcp=/usr/lib/nagios/plugins/check_tcp
for bin in "$pp" "$listen"; do
	[ -x "$bin" ] || { echo "bench: $bin missing; run make first" >&2; exit 2; }
done
command -v nc >/dev/null || { echo "bench: nc missing (apt-get install netcat-openbsd)" >&2; exit 2; }
[ -x "$check_tcp" ] || { echo "bench: $check_tcp missing (apt-get install monitoring-plugins-basic)" >&2; exit 2; }

work=$(mktemp -d)
listener_pid=""
cleanup() {
	[ -n "$listener_pid" ] && kill "$listener_pid" 2>/dev/null && wait "$listener_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

# a listener on a free port, and a closed port
. "$(dirname "$0")/../scripts/loopback_listener.sh"
loopback_listener "$listen" "$work" || { echo "bench: could not start a listener" >&2; exit 3; }
open_port=$LISTENER_PORT
listener_pid=$LISTENER_PID
closed_port=""
for p in $(shuf -i 30000-32000 -n 50); do
	if ! nc -z -w 1 127.0.0.1 "$p" 2>/dev/null; then closed_port=$p; break; fi
done

declare -A cmd
cmd[portprobe]="$pp check -t 10 HOST PORT"
cmd[nc]="nc -z -w 10 HOST PORT"
cmd[check_tcp]="$check_tcp -H HOST -p PORT -t 10"
tools=(portprobe nc check_tcp)

run_cmd() { # tool host port
	local c=${cmd[$1]}
	c=${c//HOST/$2}
	c=${c//PORT/$3}
	$c >/dev/null 2>&1
}

# ground truth: open passes, closed fails, for every tool
for host in 127.0.0.1 localhost; do
	for t in "${tools[@]}"; do
		run_cmd "$t" "$host" "$open_port" || { echo "bench: $t says $host:$open_port (open) failed" >&2; exit 1; }
		if run_cmd "$t" "$host" "$closed_port"; then
			echo "bench: $t says $host:$closed_port (closed) passed" >&2
			exit 1
		fi
	done
done

# one round: N checks, prints "wall_s cpu_s"
round() { # tool host
	local c=${cmd[$1]} start end t0 t1 me=$BASHPID
	c=${c//HOST/$2}
	c=${c//PORT/$open_port}
	read -r t0 < <(awk '{print $14+$15+$16+$17}' /proc/$me/stat)
	start=$(date +%s.%N)
	for ((i = 0; i < N; i++)); do
		$c >/dev/null 2>&1 || { echo "bench: $1 failed during the run" >&2; exit 1; }
	done
	end=$(date +%s.%N)
	read -r t1 < <(awk '{print $14+$15+$16+$17}' /proc/$me/stat)
	echo "$(echo "$end - $start" | bc -l) $(echo "($t1 - $t0) / $(getconf CLK_TCK)" | bc -l)"
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "portprobe check vs nc -z vs check_tcp: $N checks a round, $R rounds, median round"
echo "listener 127.0.0.1:$open_port (open), closed port $closed_port: every tool agreed"
for host in 127.0.0.1 localhost; do
	declare -A wall=() cpu=()
	for ((r = 0; r < R; r++)); do
		for t in "${tools[@]}"; do
			read -r w c < <(round "$t" "$host")
			wall[$t]+="$w "
			cpu[$t]+="$c "
		done
	done
	printf '\n%s (%s)\n' "$host" "$([ $host = localhost ] && echo 'name lookup' || echo 'address literal')"
	printf '%-10s %14s %14s %14s %14s\n' tool "wall ms/check" "cpu ms/check" "wall ratio" "cpu ratio"
	pw=$(tr ' ' '\n' <<<"${wall[portprobe]}" | grep . | median)
	pc=$(tr ' ' '\n' <<<"${cpu[portprobe]}" | grep . | median)
	for t in "${tools[@]}"; do
		w=$(tr ' ' '\n' <<<"${wall[$t]}" | grep . | median)
		c=$(tr ' ' '\n' <<<"${cpu[$t]}" | grep . | median)
		printf '%-10s %14.3f %14.3f %14.2f %14.2f\n' "$t" "$(echo "$w * 1000 / $N" | bc -l)" \
			"$(echo "$c * 1000 / $N" | bc -l)" "$(echo "$w / $pw" | bc -l)" "$(echo "$c / $pc" | bc -l)"
	done
done
echo
echo "ratio = tool / portprobe: above 1.00 means portprobe is faster"
