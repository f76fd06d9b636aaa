#!/usr/bin/env bash
# test_scan_matrix.sh: `portprobe scan` over the lab's port matrix, IPv4 and
# IPv6 in one run: every port gets the exact state, reason and reason_ip
# (DESIGN.md §4 and §7); ICMP from the router names the router; the states
# equal what nmap -sT reports on the same matrix in the same run; the XML is
# valid against nmap's DTD.
set -u
. "$(dirname "$0")/lab.sh"
lab_require_root
command -v nmap >/dev/null || { echo "nmap is not installed" >&2; exit 77; }
lab_up

PORTS=80-88,443,8080
# scan_lines FILE: "ip port state reason reason_ip" per record, sorted
scan_lines() {
	jq -r '"\(.ip) \(.port) \(.state) \(.reason) \(.reason_ip // "-")"' "$1" | sort -V
}

# 1. the matrix, both families, host discovery on (two hosts)
rc=0
in_client "$PORTPROBE" scan -o jsonl -p "$PORTS" -oX "$LAB_DIR/matrix.xml" \
	"$LAB_T4" "$LAB_T6" >"$LAB_DIR/matrix.jsonl" 2>"$LAB_DIR/matrix.err" || rc=$?
assert_eq "matrix: exit code" 0 "$rc"
[ -s "$LAB_DIR/matrix.err" ] && lab_fail "matrix: stderr: $(cat "$LAB_DIR/matrix.err")"
expected=$(sort -V <<EOF
$LAB_T4 80 open syn-ack -
$LAB_T4 81 closed conn-refused -
$LAB_T4 82 filtered no-response -
$LAB_T4 83 closed conn-refused -
$LAB_T4 84 closed port-unreach -
$LAB_T4 85 filtered admin-prohibited -
$LAB_T4 86 filtered host-unreach -
$LAB_T4 87 filtered net-unreach -
$LAB_T4 88 filtered admin-prohibited $LAB_R4
$LAB_T4 443 open syn-ack -
$LAB_T4 8080 open syn-ack -
$LAB_T6 80 open syn-ack -
$LAB_T6 81 closed conn-refused -
$LAB_T6 82 filtered no-response -
$LAB_T6 83 closed conn-refused -
$LAB_T6 84 closed port-unreach -
$LAB_T6 85 filtered admin-prohibited -
$LAB_T6 86 filtered host-unreach -
$LAB_T6 87 filtered no-route -
$LAB_T6 88 filtered admin-prohibited $LAB_R6
$LAB_T6 443 open syn-ack -
$LAB_T6 8080 open syn-ack -
EOF
)
assert_eq "matrix: states and reasons" "$expected" "$(scan_lines "$LAB_DIR/matrix.jsonl")"
# a silent port is probed at least twice before it is called filtered
assert_eq "matrix: probes per silent port" "2 2" \
	"$(jq -r 'select(.port == 82) | .attempts' "$LAB_DIR/matrix.jsonl" | tr '\n' ' ' | sed 's/ $//')"
if ! xmllint --noout --dtdvalid /usr/share/nmap/nmap.dtd "$LAB_DIR/matrix.xml" 2>"$LAB_DIR/xmllint.err"; then
	lab_fail "matrix: XML is not valid: $(head -5 "$LAB_DIR/xmllint.err")"
fi
assert_eq "matrix: XML hosts" 'up="2" down="0" total="2"' \
	"$(grep -o 'up="[0-9]*" down="[0-9]*" total="[0-9]*"' "$LAB_DIR/matrix.xml")"

# 2. ICMP from the router for whole networks
in_client "$PORTPROBE" scan -Pn -o jsonl -p 80 "$LAB_RUNREACH4" "$LAB_RPROHIBIT4" \
	"$LAB_RUNREACH6" "$LAB_RPROHIBIT6" >"$LAB_DIR/router.jsonl" 2>&1
expected=$(sort -V <<EOF
$LAB_RUNREACH4 80 filtered host-unreach $LAB_R4
$LAB_RPROHIBIT4 80 filtered admin-prohibited $LAB_R4
$LAB_RUNREACH6 80 filtered no-route $LAB_R6
$LAB_RPROHIBIT6 80 filtered admin-prohibited $LAB_R6
EOF
)
assert_eq "router: states and reasons" "$expected" "$(scan_lines "$LAB_DIR/router.jsonl")"

# 2b. host discovery (several hosts, no -Pn): a refusal on 80/443 means up, silence means down
in_client "$PORTPROBE" scan -o json -p 81 "$LAB_T4" "$LAB_BLACKHOLE4" >"$LAB_DIR/disc.json" 2>&1
assert_json "$LAB_DIR/disc.json" '[.hosts[] | "\(.ip) \(.status) \(.status_reason) \(.ports | length)"] | join(",")' \
	"$LAB_T4 up syn-ack 1,$LAB_BLACKHOLE4 down no-route 0"
assert_json "$LAB_DIR/disc.json" '"\(.stats.hosts_up) \(.stats.hosts_down)"' "1 1"

# 3. nmap -sT on the same matrix in the same run: the same states
nmap_states() { # TARGET [-6]
	in_client nmap -n -Pn -sT --reason ${2:-} -p "$PORTS" -oX - "$1" 2>/dev/null |
		grep -o '<port protocol="tcp" portid="[0-9]*"><state state="[a-z|]*"' |
		sed 's/.*portid="\([0-9]*\)"><state state="\([a-z|]*\)"/\1 \2/' | sort -n
}
ours_states() { # IP
	jq -r --arg ip "$1" 'select(.ip == $ip) | "\(.port) \(.state)"' "$LAB_DIR/matrix.jsonl" | sort -n
}
n4=$(nmap_states "$LAB_T4")
n6=$(nmap_states "$LAB_T6" -6)
assert_eq "nmap v4 saw the matrix" 11 "$(grep -c . <<<"$n4")"
assert_eq "nmap v6 saw the matrix" 11 "$(grep -c . <<<"$n6")"
assert_eq "states equal nmap -sT (IPv4)" "$n4" "$(ours_states "$LAB_T4")"
assert_eq "states equal nmap -sT (IPv6)" "$n6" "$(ours_states "$LAB_T6")"

lab_finish
