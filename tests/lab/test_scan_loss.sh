#!/usr/bin/env bash
# test_scan_loss.sh: with 20% of the target's incoming TCP dropped at random
# and default settings, no open port is missed over 10 runs (IPv4 and IPv6
# together), and closed ports stay closed: retries follow the loss the scan
# observes (DESIGN.md §7).
set -u
# ten lossy runs of 2,002 ports: more than the lab's default minute under ASan
: "${LAB_TIMEOUT:=150}"
. "$(dirname "$0")/lab.sh"
lab_require_root
lab_up
in_target nft add rule inet pplab loss meta l4proto tcp numgen random mod 100 '<' 20 drop

want_open="$LAB_T4 53,$LAB_T4 80,$LAB_T4 443,$LAB_T4 8080,$LAB_T6 53,$LAB_T6 80,$LAB_T6 443,$LAB_T6 8080"
for run in $(seq 10); do
	f=$LAB_DIR/loss$run.jsonl
	in_client "$PORTPROBE" scan -o jsonl -p 1-1000,8080 "$LAB_T4" "$LAB_T6" >"$f" 2>"$LAB_DIR/loss$run.err"
	assert_eq "run $run: open ports" "$want_open" \
		"$(jq -r 'select(.state == "open") | "\(.ip) \(.port)"' "$f" | sort -V | paste -sd,)"
	assert_eq "run $run: records" 2002 "$(wc -l <"$f")"
	# closed ports answered despite the loss: only the matrix's silent and ICMP ports are filtered
	assert_eq "run $run: filtered" "82,82,85,85,86,86,87,87,88,88" \
		"$(jq -r 'select(.state == "filtered") | .port' "$f" | sort -n | paste -sd,)"
done
lab_finish
