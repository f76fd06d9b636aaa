#!/usr/bin/env bash
# test_check_routes.sh: failures decided by routes. ICMP errors sent by the
# router name it in reason_ip; the client's own unreachable, prohibit,
# blackhole and throw routes fail connect() at once with no packet sent.
set -u
. "$(dirname "$0")/lab.sh"
. "$(dirname "$0")/check_lib.sh"
lab_require_root
lab_up

#          name                exit args                        status error                 state    reason           reason_ip
# ICMP from the router (a third address)
check_case r4_unreach          1 "$LAB_RUNREACH4" 80
expect_fields r4_unreach          error "No route to host"     filtered host-unreach     "$LAB_R4"
check_case r4_prohibit         1 "$LAB_RPROHIBIT4" 80
expect_fields r4_prohibit         error "No route to host"     filtered admin-prohibited "$LAB_R4"
check_case r4_fw_reject        1 "$LAB_T4" 88
expect_fields r4_fw_reject        error "No route to host"     filtered admin-prohibited "$LAB_R4"
check_case r6_unreach          1 "$LAB_RUNREACH6" 80
expect_fields r6_unreach          error "Network unreachable"  filtered no-route         "$LAB_R6"
check_case r6_prohibit         1 "$LAB_RPROHIBIT6" 80
expect_fields r6_prohibit         error "Permission denied"    filtered admin-prohibited "$LAB_R6"
check_case r6_fw_reject        1 "$LAB_T6" 88
expect_fields r6_fw_reject        error "Permission denied"    filtered admin-prohibited "$LAB_R6"
assert_json "$CASE_JSON" '.detail' "ICMPv6 admin-prohibited (type 1, code 1) from $LAB_R6"

# the client's own routing table: decided locally, nothing sent
check_case l4_unreach          1 "$LAB_UNREACH4" 80
expect_fields l4_unreach          error "No route to host"     filtered host-unreach     null
check_case l4_prohibit         1 "$LAB_PROHIBIT4" 80
expect_fields l4_prohibit         error "Permission denied"    filtered admin-prohibited null
check_case l4_blackhole        1 "$LAB_BLACKHOLE4" 80
expect_fields l4_blackhole        error "Network unreachable"  filtered no-route         null
check_case l4_throw            1 "$LAB_THROW4" 80
expect_fields l4_throw            error "Network unreachable"  filtered net-unreach      null
check_case l6_unreach          1 "$LAB_UNREACH6" 80
expect_fields l6_unreach          error "No route to host"     filtered host-unreach     null
check_case l6_prohibit         1 "$LAB_PROHIBIT6" 80
expect_fields l6_prohibit         error "Permission denied"    filtered admin-prohibited null
check_case l6_blackhole        1 "$LAB_BLACKHOLE6" 80
expect_fields l6_blackhole        error "Network unreachable"  filtered no-route         null
check_case l6_throw            1 "$LAB_THROW6" 80
expect_fields l6_throw            error "Network unreachable"  filtered net-unreach      null

# local decisions are immediate and explained as such
check_case l4_blackhole_detail 1 -t 5 "$LAB_BLACKHOLE4" 80
assert_json "$CASE_JSON" '.detail' "local routing table: blackhole route discards the packets (connect: Invalid argument)"
assert_json "$CASE_JSON" '.response_time < 0.5' true
check_case l4_prohibit_detail 1 "$LAB_PROHIBIT4" 80
assert_json "$CASE_JSON" '"\(.errno) \(.detail)"' "EACCES local routing table or firewall: prohibited (connect: Permission denied)"
lab_finish
