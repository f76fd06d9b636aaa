#!/usr/bin/env bash
# test_check_source.sh: --source-address and --source-port, and the bind-time
# classes (Port in use, Address not available) with exit code 3.
set -u
. "$(dirname "$0")/lab.sh"
. "$(dirname "$0")/check_lib.sh"
lab_require_root
lab_up

# the target sees the connection come from the source we asked for
in_target ss -Htn state established >/dev/null
check_case src_addr 0 --source-address "$LAB_C4" "$LAB_T4" 80
expect_fields src_addr success null open syn-ack null
check_case src_addr6 0 --source-address "$LAB_C6" "$LAB_T6" 80
expect_fields src_addr6 success null open syn-ack null
check_case src_port 0 --source-port 40123 "$LAB_T4" 80
expect_fields src_port success null open syn-ack null
# the same fixed source port again right away: the RST close left no TIME_WAIT
check_case src_port_again 0 --source-port 40123 "$LAB_T4" 80
expect_fields src_port_again success null open syn-ack null
assert_eq "no TIME_WAIT left on the client" "" "$(in_client ss -Htn state time-wait)"

# a source address this host does not have
check_case not_local 3 --source-address 198.18.0.99 "$LAB_T4" 80
expect_fields not_local error "Address not available" null null null
assert_json "$CASE_JSON" '"\(.errno) \(.detail)"' "EADDRNOTAVAIL bind: Cannot assign requested address"
# a source port a listener holds
lab_bg client "$LAB_PP_LISTEN" --ready-file "$LAB_DIR/held.ready" "$LAB_C4:40200"
for _ in $(seq 100); do [ -f "$LAB_DIR/held.ready" ] && break; sleep 0.02; done
check_case port_held 3 --source-port 40200 "$LAB_T4" 80
expect_fields port_held error "Port in use" null null null
assert_json "$CASE_JSON" .errno EADDRINUSE
rc=0
out=$(in_client "$PORTPROBE" check -o nagios --source-port 40200 "$LAB_T4" 80) || rc=$?
assert_eq "nagios: a local failure is UNKNOWN" 3 "$rc"
assert_match "nagios UNKNOWN line" '^TCP UNKNOWN - Port in use on 198\.18\.1\.2 port 80: bind: Address already in use\|time=' "$out"
# a privileged source port as an unprivileged user
if command -v setpriv >/dev/null; then
	rc=0
	in_client setpriv --reuid=65534 --regid=65534 --clear-groups "$PORTPROBE" check -o json \
		--source-port 80 "$LAB_T4" 80 >"$LAB_DIR/priv.json" || rc=$?
	assert_eq "privileged source port: exit" 3 "$rc"
	assert_json "$LAB_DIR/priv.json" '"\(.error) \(.errno) \(.state // "null")"' "Permission denied EACCES null"
fi
lab_finish
