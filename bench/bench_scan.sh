#!/usr/bin/env bash
# bench_scan.sh: portprobe scan against nmap -sT in the same run, on the
# loopback of a private network namespace (the research file's setup).
#
#  (a) 65,535 ports, 20 listeners:        portprobe scan -p- -n -Pn   vs  nmap -sT -p- -n -Pn
#  (b) the same with 10,000 ports dropped: portprobe scan -p- -n -Pn  vs  nmap -sT -T4 -p- -n -Pn
#  (c) --list 10.0.0.0/8 (nothing sent):   portprobe scan --list      vs  nmap -sL -n (one run)
#
# Every run's XML is checked against the ground truth (the 20 open ports, the
# closed and the dropped counts); a wrong answer aborts the benchmark, since a
# fast wrong answer is worth nothing. (b) also checks that every silent port
# got at least two probes. Runs alternate between the tools; the median of R
# runs is reported, with the ratio nmap / portprobe (above 1: portprobe faster).
#
# Usage: bench/bench_scan.sh [BUILD_DIR]   (root; env R=5 runs, LIST_NMAP=1 to time nmap -sL,
#        CASES=abc the cases to run)
set -euo pipefail

build=${1:-build}
R=${R:-5}
LIST_NMAP=${LIST_NMAP:-1}
CASES=${CASES:-abc}
pp=$(realpath "$build/portprobe")
listen=$(realpath "$build/pp_listen")
[ "$(id -u)" = 0 ] || { echo "bench: needs root (network namespace)" >&2; exit 2; }
for bin in "$pp" "$listen"; do
	[ -x "$bin" ] || { echo "bench: $bin missing; run make first" >&2; exit 2; }
done
command -v nmap >/dev/null || { echo "bench: nmap missing (apt-get install nmap)" >&2; exit 2; }

ns=ppbench$$
work=$(mktemp -d)
lpid=""
cleanup() {
	[ -n "$lpid" ] && kill "$lpid" 2>/dev/null && wait "$lpid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
OPEN="1 22 25 53 80 443 3306 5432 6379 8080 8443 9200 11211 27017 31337 40000 50000 60000 65000 65535"
args=()
for p in $OPEN; do args+=("127.0.0.1:$p"); done
ip netns exec "$ns" "$listen" --ready-file "$work/ready" "${args[@]}" &
lpid=$!
for _ in $(seq 200); do [ -f "$work/ready" ] && break; sleep 0.02; done
[ -f "$work/ready" ] || { echo "bench: listener did not start" >&2; exit 3; }
want_open=$(tr ' ' '\n' <<<"$OPEN" | sort -n | paste -sd,)

now_ns() { date +%s%N; }
# verify XML CLOSED FILTERED: the ground truth, from the XML either tool wrote
verify() {
	local xml=$1 want_closed=$2 want_filtered=$3 open closed filtered
	open=$(grep -o 'portid="[0-9]*"><state state="open"' "$xml" | grep -o '[0-9]*' | sort -n | paste -sd,)
	closed=$(sed -n 's/.*<extraports state="closed" count="\([0-9]*\)".*/\1/p' "$xml")
	filtered=$(sed -n 's/.*<extraports state="filtered" count="\([0-9]*\)".*/\1/p' "$xml")
	if [ "$open" != "${WANT_OPEN:-$want_open}" ] || [ "${closed:-0}" != "$want_closed" ] || [ "${filtered:-0}" != "$want_filtered" ]; then
		echo "bench: WRONG RESULT in $xml: open=$open closed=$closed filtered=$filtered" \
			"(expected open=${WANT_OPEN:-$want_open} closed=$want_closed filtered=$want_filtered)" >&2
		exit 1
	fi
}
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
ms() { awk -v n="$1" 'BEGIN {printf "%.0f", n / 1e6}'; }

# run_case NAME CLOSED FILTERED "PORTPROBE ARGS" "NMAP ARGS" [CHECK]
run_case() {
	local name=$1 closed=$2 filtered=$3 ppargs=$4 nmargs=$5 i t0 t1
	: >"$work/$name.pp"
	: >"$work/$name.nmap"
	for i in $(seq "$R"); do
		t0=$(now_ns)
		ip netns exec "$ns" "$pp" scan $ppargs -oX "$work/pp.xml" 127.0.0.1 >/dev/null 2>&1
		t1=$(now_ns)
		verify "$work/pp.xml" "$closed" "$filtered"
		if [ "$filtered" != 0 ]; then
			local timeouts
			timeouts=$(grep -o 'timeouts=[0-9]*' "$work/pp.xml" | cut -d= -f2)
			[ "$timeouts" -ge $((2 * filtered)) ] || {
				echo "bench: only $timeouts timeouts for $filtered silent ports (fewer than 2 probes each)" >&2
				exit 1
			}
		fi
		echo $((t1 - t0)) >>"$work/$name.pp"
		t0=$(now_ns)
		ip netns exec "$ns" nmap $nmargs -oX "$work/nmap.xml" 127.0.0.1 >/dev/null 2>&1
		t1=$(now_ns)
		verify "$work/nmap.xml" "$closed" "$filtered"
		echo $((t1 - t0)) >>"$work/$name.nmap"
	done
	local mp mn
	mp=$(median <"$work/$name.pp")
	mn=$(median <"$work/$name.nmap")
	printf '| %s | portprobe scan %s | %s ms (%s..%s) | nmap %s | %s ms (%s..%s) | %s | %s |\n' \
		"$name" "$ppargs" "$(ms "$mp")" "$(ms "$(sort -n "$work/$name.pp" | head -1)")" \
		"$(ms "$(sort -n "$work/$name.pp" | tail -1)")" "$nmargs" "$(ms "$mn")" \
		"$(ms "$(sort -n "$work/$name.nmap" | head -1)")" "$(ms "$(sort -n "$work/$name.nmap" | tail -1)")" \
		"$(awk -v a="$mn" -v b="$mp" 'BEGIN {printf "%.2f", a / b}')" "$R/$R correct"
}

echo "portprobe $("$pp" --version | cut -d' ' -f2), $(nmap --version | head -1), $(nproc) CPUs, R=$R runs per tool"
echo
echo "| case | portprobe | median (min..max) | peer | median (min..max) | ratio peer/portprobe | ground truth |"
echo "|---|---|---|---|---|---|---|"
[[ $CASES == *a* ]] && run_case a 65515 0 "-p- -n -Pn" "-sT -p- -n -Pn"
ip netns exec "$ns" nft add table inet bench
ip netns exec "$ns" nft add chain inet bench input '{ type filter hook input priority 0; policy accept; }'
ip netns exec "$ns" nft add rule inet bench input tcp dport 10000-19999 drop
# 11211 listens inside the dropped range: it is filtered now (19 open, 55,516 closed)
WANT_OPEN=$(tr ' ' '\n' <<<"$OPEN" | grep -vx 11211 | sort -n | paste -sd,)
[[ $CASES == *b* ]] && run_case b 55516 10000 "-p- -n -Pn" "-sT -T4 -p- -n -Pn"
[[ $CASES == *c* ]] || exit 0

# (c) listing: no traffic
t0=$(now_ns)
/usr/bin/time -f '%M' -o "$work/rss" "$pp" scan --list 10.0.0.0/8 >/dev/null
t1=$(now_ns)
lines=$("$pp" scan --list 10.0.0.0/8 | wc -l)
[ "$lines" = 16777216 ] || { echo "bench: --list gave $lines lines, expected 16777216" >&2; exit 1; }
first_last=$("$pp" scan --list 10.0.0.0/8 | sed -n '1p;$p' | paste -sd' ')
[ "$first_last" = "10.0.0.0 10.255.255.255" ] || { echo "bench: --list ends are $first_last" >&2; exit 1; }
list_ms=$(ms $((t1 - t0)))
if [ "$LIST_NMAP" = 1 ]; then
	t0=$(now_ns)
	/usr/bin/time -f '%M' -o "$work/nrss" nmap -sL -n 10.0.0.0/8 >/dev/null
	t1=$(now_ns)
	printf '| c | portprobe scan --list 10.0.0.0/8 | %s ms, %s KB RSS | nmap -sL -n 10.0.0.0/8 | %s ms, %s KB RSS | %s | 16777216 lines |\n' \
		"$list_ms" "$(cat "$work/rss")" "$(ms $((t1 - t0)))" "$(cat "$work/nrss")" \
		"$(awk -v a=$((t1 - t0)) -v b="$list_ms" 'BEGIN {printf "%.2f", a / 1e6 / b}')"
else
	printf '| c | portprobe scan --list 10.0.0.0/8 | %s ms, %s KB RSS | (nmap -sL skipped) | | | 16777216 lines |\n' \
		"$list_ms" "$(cat "$work/rss")"
fi
