#!/usr/bin/env bash
# bench_listen.sh: portprobe listen against ss -tlnp in the same run, in a
# private network namespace holding 10,000 listeners in 500 processes.
#
# 500 pp_hold processes (tests/lab/pp_hold.c) each hold 20 listeners that
# never accept: process k holds ports 20000+20k .. 20019+20k on 127.0.0.1,
# except every 10th process, which holds its first 10 ports on [::1]
# (v6only) and its last 10 on [::] dual-stack (IPV6_V6ONLY=0), so both
# families and both v6 kinds are in every dump. Their ready files give the
# ground truth: 10,000 (address, port, pid) rows. Timed, in the namespace:
#
#   ss -tlnp                            (iproute2: sock_diag + a scan of all of /proc)
#   portprobe listen -p -o json
#   portprobe listen -p -o text
#
# Every run's output is checked before it counts, and a wrong answer aborts
# (a fast wrong answer is worth nothing): the (address, port, pid) rows of
# ss's Local Address column and users:(("pp_hold",pid=N,fd=M)) (brackets
# stripped, `*` read as `::`) and of portprobe's JSON must both equal the
# ground truth exactly; in the text table every listener's port must share a
# line with its holder's pid (the table's layout is portprobe's to change).
# Both tools see the whole host's /proc, whose process count is printed.
# Runs alternate the order of the tools; medians (min..max) of R runs, with
# the ratio ss / portprobe (above 1: portprobe faster).
#
# Usage: bench/bench_listen.sh [BUILD_DIR]   (root, else exit 77; env R=5 runs,
#        PP_ONLY_SS=1 to time and check ss alone, e.g. before `listen` exists)
# Only the namespace pplb<PID> is touched; cleanup (also on Ctrl-C) stops the
# 500 processes by PID and deletes it. A run at R=5 takes a few seconds.
set -euo pipefail
export LC_ALL=C

build=$(realpath "${1:-build}")
R=${R:-5}
PP_ONLY_SS=${PP_ONLY_SS:-0}
NPROC=500 PER=20 BASE=20000
pp=$build/portprobe
hold=$build/pp_hold
[ "$(id -u)" = 0 ] || { echo "bench: skipped: needs root (network namespace)" >&2; exit 77; }
[ -x "$hold" ] || { echo "bench: $hold missing; build first" >&2; exit 2; }
[ "$PP_ONLY_SS" = 1 ] || [ -x "$pp" ] || { echo "bench: $pp missing; build first" >&2; exit 2; }
for tool in ip ss jq awk; do
	command -v "$tool" >/dev/null || { echo "bench: $tool missing" >&2; exit 2; }
done
[[ $R =~ ^[1-9][0-9]*$ ]] || { echo "bench: R=$R is not a positive count" >&2; exit 2; }

ns=pplb$$
work=$(mktemp -d)
pids=()

# alive PID: true while PID exists and is not a zombie.
alive() {
	local stat
	read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}
# cleanup: SIGTERM every pp_hold started here (by PID), SIGKILL what is left after 3 s,
# reap them, delete the namespace and the work directory.
cleanup() {
	local i pid left
	trap - EXIT INT TERM HUP
	set +e
	if [ "${#pids[@]}" -gt 0 ]; then
		kill -TERM "${pids[@]}" 2>/dev/null
		for ((i = 0; i < 60; i++)); do
			left=()
			for pid in "${pids[@]}"; do
				alive "$pid" && left+=("$pid")
			done
			[ "${#left[@]}" -eq 0 ] && break
			sleep 0.05
		done
		[ "${#left[@]}" -gt 0 ] && kill -KILL "${left[@]}" 2>/dev/null
		wait "${pids[@]}" 2>/dev/null
	fi
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

# ---------------------------------------------------------------- the world: 500 holders
t0=${EPOCHREALTIME/[.,]/}
for ((k = 0; k < NPROC; k++)); do
	lo=$((BASE + PER * k))
	if ((k % 10 == 9)); then
		specs=("[::1]:$lo-$((lo + PER / 2 - 1))" "[::]:$((lo + PER / 2))-$((lo + PER - 1))/dual")
	else
		specs=("127.0.0.1:$lo-$((lo + PER - 1))")
	fi
	# ip netns exec execs pp_hold: $! is the holder's own PID
	ip netns exec "$ns" "$hold" --ready-file "$work/$k.ready" "${specs[@]}" \
		</dev/null >/dev/null 2>>"$work/hold.err" &
	pids+=("$!")
done
for ((i = 0; ; i++)); do
	ready=("$work"/*.ready)
	[ -e "${ready[0]}" ] || ready=()
	[ "${#ready[@]}" -eq "$NPROC" ] && break
	[ -s "$work/hold.err" ] && die "a holder failed: $(head -3 "$work/hold.err")"
	((i < 600)) || die "only ${#ready[@]} of $NPROC holders ready after 30 s"
	sleep 0.05
done
t1=${EPOCHREALTIME/[.,]/}

# ground truth: "ADDR PORT PID", one row per (socket, holder)
awk '$1 == "pid" {pid = $2} $1 == "sock" {print $3, $4, pid}' "$work"/*.ready | sort >"$work/truth"
want=$((NPROC * PER))
[ "$(wc -l <"$work/truth")" = "$want" ] || die "ready files list $(wc -l <"$work/truth") sockets, not $want"
[ "$(awk '{print $3}' "$work/truth" | sort -u)" = "$(printf '%s\n' "${pids[@]}" | sort -u)" ] ||
	die "the ready files' pids are not the pids started"
[ "$(ip netns exec "$ns" ss -Htln | wc -l)" = "$want" ] || die "the namespace does not hold $want listeners"

# ---------------------------------------------------------------- parsing and checks
# ss_rows FILE: "ADDR PORT PID" of ss -tlnp output, one row per holder ("-" when none).
ss_rows() {
	awk '$1 == "LISTEN" {
		local = $4
		port = local; sub(/.*:/, "", port)
		addr = substr(local, 1, length(local) - length(port) - 1)
		gsub(/[][]/, "", addr); sub(/%.*/, "", addr)
		if (addr == "*") addr = "::"
		s = $0; n = 0
		while (match(s, /pid=[0-9]+/)) {
			print addr, port, substr(s, RSTART + 4, RLENGTH - 4)
			s = substr(s, RSTART + RLENGTH); n++
		}
		if (n == 0) print addr, port, "-"
	}' "$1" | sort
}
# json_rows FILE: "ADDR PORT PID" of portprobe listen -o json, one row per holder.
json_rows() {
	# shellcheck disable=SC2016 # jq variables
	jq -r '.[] | .address as $a | .port as $p | .processes[] | "\($a) \($p) \(.pid)"' "$1" | sort
}
# check NAME ROWS_FILE: abort unless ROWS_FILE equals the ground truth.
check() {
	cmp -s "$work/truth" "$2" && return 0
	die "WRONG RESULT from $1 ($(wc -l <"$2") rows, want $want): $(diff "$work/truth" "$2" | head -5 | paste -sd' ')"
}
# check_text FILE: abort unless every listener's port shares a line with its holder's pid.
check_text() {
	local found
	found=$(awk 'NR == FNR {pid[$2] = $3; next}
		{
			n = split($0, tok, /[^0-9]+/); delete has
			for (i = 1; i <= n; i++) has[tok[i]] = 1
			for (i = 1; i <= n; i++)
				if (tok[i] in pid && pid[tok[i]] in has) ok[tok[i]] = 1
		}
		END {print length(ok)}' "$work/truth" "$1")
	[ "$found" = "$want" ] || die "WRONG RESULT from portprobe -o text: $found of $want ports on a line with their pid"
}

# ---------------------------------------------------------------- the runs
cmd_ss=(ip netns exec "$ns" ss -tlnp)
cmd_json=(ip netns exec "$ns" "$pp" listen -p -o json)
cmd_text=(ip netns exec "$ns" "$pp" listen -p -o text)
if [ "$PP_ONLY_SS" != 1 ]; then
	"${cmd_json[@]}" >"$work/probe.json" 2>"$work/probe.err" ||
		die "'portprobe listen' failed ($(head -1 "$work/probe.err")); PP_ONLY_SS=1 measures ss alone"
fi

# timed NAME CMD...: run CMD once into work/NAME.out, add its wall time (µs) to work/NAME.us.
timed() {
	local name=$1 a b
	shift
	a=${EPOCHREALTIME/[.,]/}
	"$@" >"$work/$name.out" 2>"$work/$name.err" || die "$name failed: $(head -1 "$work/$name.err")"
	b=${EPOCHREALTIME/[.,]/}
	echo $((b - a)) >>"$work/$name.us"
}
run_ss() {
	timed ss "${cmd_ss[@]}"
	ss_rows "$work/ss.out" >"$work/ss.rows"
	check "ss -tlnp" "$work/ss.rows"
}
run_pp() {
	[ "$PP_ONLY_SS" = 1 ] && return 0
	timed json "${cmd_json[@]}"
	json_rows "$work/json.out" >"$work/json.rows" 2>"$work/json.jq" ||
		die "WRONG RESULT from portprobe -o json: not the expected JSON ($(head -1 "$work/json.jq"))"
	check "portprobe -o json" "$work/json.rows"
	timed text "${cmd_text[@]}"
	check_text "$work/text.out"
}
procs() { local p=(/proc/[0-9]*); echo "${#p[@]}"; }

: >"$work/procs"
for ((i = 1; i <= R; i++)); do
	procs >>"$work/procs"
	if ((i % 2)); then
		run_ss
		run_pp
	else
		run_pp
		run_ss
	fi
done

# ---------------------------------------------------------------- report
median() { sort -n "$1" | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
ms() { awk -v n="$1" 'BEGIN {printf "%.1f", n / 1000}'; }
span() { printf '%s ms (%s..%s)' "$(ms "$(median "$1")")" "$(ms "$(sort -n "$1" | head -1)")" \
	"$(ms "$(sort -n "$1" | tail -1)")"; }
ratio() { awk -v a="$(median "$work/ss.us")" -v b="$(median "$1")" 'BEGIN {printf "%.2f", a / b}'; }

echo "$(ss -V), kernel $(uname -r), $(nproc) CPUs, R=$R runs per tool"
if [ "$PP_ONLY_SS" != 1 ]; then
	echo "portprobe $("$pp" --version | cut -d' ' -f2)"
fi
echo "world: $NPROC pp_hold processes, $want listeners (450 x 20 on 127.0.0.1; 50 x 10 on [::1]" \
	"and 50 x 10 dual-stack on [::]), ready in $(ms $((t1 - t0))) ms"
echo "processes in /proc during the runs: $(sort -n "$work/procs" | head -1)..$(sort -n "$work/procs" | tail -1)" \
	"(the host's and the $NPROC holders; both tools look at every one)"
echo
echo "| tool | command | median (min..max) | ratio ss/tool | check |"
echo "|---|---|---|---|---|"
printf '| ss | %s | %s | 1.00 | %s/%s runs: %s (addr, port, pid) rows equal |\n' \
	"${cmd_ss[*]}" "$(span "$work/ss.us")" "$R" "$R" "$want"
if [ "$PP_ONLY_SS" = 1 ]; then
	echo "| portprobe | (PP_ONLY_SS=1: not run) | | | |"
else
	printf '| portprobe json | %s | %s | %s | %s/%s runs: %s (addr, port, pid) rows equal |\n' \
		"${cmd_json[*]}" "$(span "$work/json.us")" "$(ratio "$work/json.us")" "$R" "$R" "$want"
	printf '| portprobe text | %s | %s | %s | %s/%s runs: every port on a line with its pid |\n' \
		"${cmd_text[*]}" "$(span "$work/text.us")" "$(ratio "$work/text.us")" "$R" "$R"
fi
