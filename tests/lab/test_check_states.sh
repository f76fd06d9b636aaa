#!/usr/bin/env bash
# test_check_states.sh: every port of the target's nftables matrix, IPv4 and
# IPv6, gets the exact check class, nmap state and reason (DESIGN.md §4), and
# the ICMP sender is not reported as a third party when it is the target.
set -u
. "$(dirname "$0")/lab.sh"
. "$(dirname "$0")/check_lib.sh"
lab_require_root
lab_up

#          name               exit args                   status  error                 state    reason            reason_ip
check_case v4_open            0 "$LAB_T4" 80
expect_fields v4_open            success null                 open     syn-ack           null
check_case v4_closed          1 "$LAB_T4" 81
expect_fields v4_closed          error "Connection refused"   closed   conn-refused      null
check_case v4_drop            1 -t 1 "$LAB_T4" 82
expect_fields v4_drop            error "Connection timeout"   filtered no-response       null
check_case v4_reset           1 "$LAB_T4" 83
expect_fields v4_reset           error "Connection refused"   closed   conn-refused      null
check_case v4_port_unreach    1 "$LAB_T4" 84
expect_fields v4_port_unreach    error "Connection refused"   closed   port-unreach      null
check_case v4_admin           1 "$LAB_T4" 85
expect_fields v4_admin           error "No route to host"     filtered admin-prohibited  null
check_case v4_host_unreach    1 "$LAB_T4" 86
expect_fields v4_host_unreach    error "No route to host"     filtered host-unreach      null
check_case v4_net_unreach     1 "$LAB_T4" 87
expect_fields v4_net_unreach     error "Network unreachable"  filtered net-unreach       null

check_case v6_open            0 "$LAB_T6" 80
expect_fields v6_open            success null                 open     syn-ack           null
check_case v6_closed          1 "$LAB_T6" 81
expect_fields v6_closed          error "Connection refused"   closed   conn-refused      null
check_case v6_drop            1 -t 1 "$LAB_T6" 82
expect_fields v6_drop            error "Connection timeout"   filtered no-response       null
check_case v6_reset           1 "$LAB_T6" 83
expect_fields v6_reset           error "Connection refused"   closed   conn-refused      null
check_case v6_port_unreach    1 "$LAB_T6" 84
expect_fields v6_port_unreach    error "Connection refused"   closed   port-unreach      null
check_case v6_admin           1 "$LAB_T6" 85
expect_fields v6_admin           error "Permission denied"    filtered admin-prohibited  null
check_case v6_addr_unreach    1 "$LAB_T6" 86
expect_fields v6_addr_unreach    error "No route to host"     filtered host-unreach      null
check_case v6_no_route        1 "$LAB_T6" 87
expect_fields v6_no_route        error "Network unreachable"  filtered no-route          null

# the evidence behind the reasons
check_case v4_admin_icmp 1 "$LAB_T4" 85
assert_json "$CASE_JSON" '"\(.icmp_type)/\(.icmp_code)/\(.errno)"' "3/13/EHOSTUNREACH"
check_case v6_admin_icmp 1 "$LAB_T6" 85
assert_json "$CASE_JSON" '"\(.icmp_type)/\(.icmp_code)/\(.errno)"' "1/1/EACCES"
check_case v4_reset_evidence 1 "$LAB_T4" 83
assert_json "$CASE_JSON" '"\(.icmp_type)/\(.errno)/\(.detail)"' "null/ECONNREFUSED/TCP reset in answer to the SYN"
check_case v4_drop_evidence 1 -t 0.5 "$LAB_T4" 82
assert_json "$CASE_JSON" '.detail' "no answer to the SYN within 0.5 s"
assert_json "$CASE_JSON" '.attempts' 1
assert_json "$CASE_JSON" '.response_time >= 0.5 and .response_time < 1.5' true

# text and nagios render the same verdicts
out=$(in_client "$PORTPROBE" check "$LAB_T4" 85)
assert_eq "text line" "198.18.1.2 port 85: No route to host - filtered (admin-prohibited): ICMP admin-prohibited (type 3, code 13) from 198.18.1.2; 1 attempt, $(sed -n 's/.*attempt, \(.*\) s$/\1/p' <<<"$out") s" "$out"
rc=0
out=$(in_client "$PORTPROBE" check -o nagios -t 0.5 "$LAB_T4" 82) || rc=$?
assert_eq "nagios exit on timeout" 2 "$rc"
assert_match "nagios line on timeout" '^TCP CRITICAL - Connection timeout on 198\.18\.1\.2 port 82 - filtered \(no-response\): no answer to the SYN within 0\.5 s\|time=0\.5[0-9]{5}s;;;0\.000000;0\.500000$' "$out"
rc=0
out=$(in_client "$PORTPROBE" check -q "$LAB_T4" 81) || rc=$?
assert_eq "quiet exit" 1 "$rc"
assert_eq "quiet prints nothing" "" "$out"
lab_finish
