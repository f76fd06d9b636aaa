#!/usr/bin/env bash
# test_check_dns.sh: names resolved by c-ares inside the loop, against the
# lab's dnsmasq: found, not found, no address of the family, a server that
# never answers and one that refuses; every address with --all-addresses.
set -u
. "$(dirname "$0")/lab.sh"
. "$(dirname "$0")/check_lib.sh"
lab_require_root
lab_up
dns=(--dns-server "$LAB_DNS4")

check_case found           0 "${dns[@]}" open.lab 80
expect_fields found           success null                     open syn-ack null
assert_json "$CASE_JSON" .host open.lab
assert_json "$CASE_JSON" .ip "$LAB_T6" # RFC 6724: IPv6 first
assert_json "$CASE_JSON" '.dns_time > 0' true
check_case found_v4        0 -4 "${dns[@]}" open.lab 80
assert_json "$CASE_JSON" .ip "$LAB_T4"
check_case found_v6_server 0 --dns-server "$LAB_DNS6" v6.lab 80
assert_json "$CASE_JSON" .ip "$LAB_T6"
# the source address's family picks the address
check_case source_family   0 "${dns[@]}" --source-address "$LAB_C4" open.lab 80
assert_json "$CASE_JSON" .ip "$LAB_T4"

check_case nxdomain        1 "${dns[@]}" missing.lab 80
expect_fields nxdomain        error "Host not found"          null null null
assert_json "$CASE_JSON" '.ip // "null"' null
assert_json "$CASE_JSON" .detail "the name does not exist (NXDOMAIN)"
check_case no_family       1 -6 "${dns[@]}" v4.lab 80
expect_fields no_family       error "Host not found"          null null null
check_case no_address      1 "${dns[@]}" txtonly.lab 80
expect_fields no_address      error "Host not found"          null null null
assert_json "$CASE_JSON" .detail "the name has no address of the requested family"

start=$(date +%s.%N)
check_case dead_server     1 -t 1.5 --dns-server "$LAB_DNS_DEAD" open.lab 80
end=$(date +%s.%N)
expect_fields dead_server     error "Temporary DNS failure"   null null null
assert_json "$CASE_JSON" .detail "no answer from the DNS server within 1.5 s"
assert_eq "dead server: bounded by the timeout" true "$(echo "$end - $start >= 1.5 && $end - $start < 3" | bc -l | sed 's/1/true/;s/0/false/')"
check_case refused_server  1 -t 3 --dns-server "$LAB_DNS_REFUSED" open.lab 80
expect_fields refused_server  error "Temporary DNS failure"   null null null
# every attempt retries a temporary failure
check_case dead_attempts   1 -t 0.3 -a 3 -d 0.1 --dns-server "$LAB_DNS_DEAD" open.lab 80
assert_json "$CASE_JSON" .attempts 3

# a fast failure on the first address (IPv6 refused on 443 for this case) falls
# over to the next address within the same attempt; a silent one would not
in_target nft add rule inet pplab loss meta nfproto ipv6 tcp dport 443 reject with tcp reset
check_case fallover        0 "${dns[@]}" open.lab 443
expect_fields fallover        success null                    open syn-ack null
assert_json "$CASE_JSON" '"\(.ip) \(.attempts)"' "$LAB_T4 1"
in_target nft flush chain inet pplab loss
in_target nft add rule inet pplab loss meta nfproto ipv6 tcp dport 443 drop
check_case no_fallover_on_timeout 1 -t 0.5 "${dns[@]}" open.lab 443
expect_fields no_fallover_on_timeout error "Connection timeout" filtered no-response null
assert_json "$CASE_JSON" .ip "$LAB_T6"
in_target nft flush chain inet pplab loss

# every address, one result each, as one JSON array
check_case all             0 --all-addresses "${dns[@]}" open.lab 80
assert_json "$CASE_JSON" 'length' 2
assert_json "$CASE_JSON" '[.[].ip] | sort | join(",")' "$LAB_T4,$LAB_T6"
assert_json "$CASE_JSON" '[.[].status] | unique | join(",")' success
check_case all_closed      1 --all-addresses "${dns[@]}" open.lab 81
assert_json "$CASE_JSON" '[.[] | "\(.ip)=\(.error)"] | sort | join(",")' "$LAB_T4=Connection refused,$LAB_T6=Connection refused"
# one nagios line for all addresses; the worst result decides the exit code
rc=0
out=$(in_client "$PORTPROBE" check --all-addresses -o nagios "${dns[@]}" open.lab 81) || rc=$?
assert_eq "all-addresses nagios exit" 2 "$rc"
assert_match "all-addresses nagios line" "^TCP CRITICAL - 2 of 2 addresses failed on open.lab port 81: .*'time_$LAB_T4'=.*'time_$LAB_T6'=|^TCP CRITICAL - 2 of 2 addresses failed on open.lab port 81: .*'time_$LAB_T6'=.*'time_$LAB_T4'=" "$out"
lab_finish
