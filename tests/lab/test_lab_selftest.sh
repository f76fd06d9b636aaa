#!/bin/bash
# test_lab_selftest.sh: checks the network lab itself, without portprobe.
#
# From the client namespace it makes one blocking connect() per port and route
# case, for IPv4 and IPv6, and asserts the exact strerror text the kernel
# returns (the table in docs/internals/lab.md); it queries the lab's dnsmasq
# and the dead/refused DNS servers, exercises lab_loss, checks that nothing
# of the lab exists in the host namespace, and checks the lab's own safety
# machinery: the skip path, the guard's LAB_TIMEOUT and the teardown of a lab
# whose test was killed with SIGKILL. Exit 0 ok, 1 failure, 77 not root.
# Bounded to 25 s by LAB_TIMEOUT; a normal run takes about 10 s.

set -u
here=$(cd "$(dirname "$0")" && pwd)
LAB_TIMEOUT=45
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"

lab_require_root
lab_up

# expect NAME ADDR PORT EXPECTED [SECONDS]: assert the outcome of one connect() from the client.
expect() {
    assert_eq "$1 ($2 port $3)" "$4" "$(lab_connect -t "${5:-3}" "$2" "$3")"
}

# ------------------------------------------------------------ target port matrix
expect "open v4" "$LAB_T4" 80 connected
expect "open v6" "$LAB_T6" 80 connected
expect "open v4" "$LAB_T4" 443 connected
expect "open v6" "$LAB_T6" 443 connected
expect "open v4" "$LAB_T4" 8080 connected
expect "open v6" "$LAB_T6" 8080 connected
expect "closed v4" "$LAB_T4" 81 "Connection refused"
expect "closed v6" "$LAB_T6" 81 "Connection refused"
expect "drop v4" "$LAB_T4" 82 timeout 2
expect "drop v6" "$LAB_T6" 82 timeout 2
expect "tcp reset v4" "$LAB_T4" 83 "Connection refused"
expect "tcp reset v6" "$LAB_T6" 83 "Connection refused"
expect "icmp port-unreachable v4" "$LAB_T4" 84 "Connection refused"
expect "icmp port-unreachable v6" "$LAB_T6" 84 "Connection refused"
expect "icmp admin-prohibited v4" "$LAB_T4" 85 "No route to host"
expect "icmp admin-prohibited v6" "$LAB_T6" 85 "Permission denied"
expect "icmp host-unreachable v4" "$LAB_T4" 86 "No route to host"
expect "icmpv6 addr-unreachable v6" "$LAB_T6" 86 "No route to host"
expect "icmp net-unreachable v4" "$LAB_T4" 87 "Network is unreachable"
expect "icmpv6 no-route v6" "$LAB_T6" 87 "Network is unreachable"

# ------------------------------------------------------------ errors sent by the router
expect "router reject admin-prohibited v4" "$LAB_T4" 88 "No route to host"
expect "router reject admin-prohibited v6" "$LAB_T6" 88 "Permission denied"
expect "router unreachable route v4" "$LAB_RUNREACH4" 80 "No route to host"
expect "router unreachable route v6" "$LAB_RUNREACH6" 80 "Network is unreachable"
expect "router prohibit route v4" "$LAB_RPROHIBIT4" 80 "No route to host"
expect "router prohibit route v6" "$LAB_RPROHIBIT6" 80 "Permission denied"

# ------------------------------------------------------------ client's own routes
expect "local unreachable v4" "$LAB_UNREACH4" 80 "No route to host"
expect "local unreachable v6" "$LAB_UNREACH6" 80 "No route to host"
expect "local prohibit v4" "$LAB_PROHIBIT4" 80 "Permission denied"
expect "local prohibit v6" "$LAB_PROHIBIT6" 80 "Permission denied"
expect "local blackhole v4" "$LAB_BLACKHOLE4" 80 "Invalid argument"
expect "local blackhole v6" "$LAB_BLACKHOLE6" 80 "Invalid argument"
expect "local throw v4" "$LAB_THROW4" 80 "Network is unreachable"
expect "local throw v6" "$LAB_THROW6" 80 "Network is unreachable"

# ------------------------------------------------------------ lab_loss
lab_loss 8080 100
expect "100% loss v4" "$LAB_T4" 8080 timeout 1
lab_loss 8080 30
assert_match "loss rule" 'tcp dport 8080 numgen random mod 100 < 30 drop' \
    "$(in_target nft list chain inet pplab loss)"
lab_loss 8080 0
assert_eq "loss rules after lab_loss 8080 0" "" \
    "$(in_target nft list chain inet pplab loss | grep -c numgen | grep -v '^0$')"
expect "loss removed v6" "$LAB_T6" 8080 connected

# ------------------------------------------------------------ DNS
assert_eq "dns open.lab A" "NOERROR $LAB_T4" "$(lab_dns open.lab A)"
assert_eq "dns open.lab AAAA" "NOERROR $LAB_T6" "$(lab_dns open.lab AAAA)"
assert_eq "dns open.lab A over v6" "NOERROR $LAB_T4" "$(lab_dns open.lab A "$LAB_DNS6")"
assert_eq "dns v4.lab A" "NOERROR $LAB_T4" "$(lab_dns v4.lab A)"
assert_eq "dns v4.lab AAAA (no data)" "NOERROR" "$(lab_dns v4.lab AAAA)"
assert_eq "dns v6.lab A (no data)" "NOERROR" "$(lab_dns v6.lab A)"
assert_eq "dns v6.lab AAAA" "NOERROR $LAB_T6" "$(lab_dns v6.lab AAAA "$LAB_DNS6")"
assert_eq "dns txtonly.lab A (no data)" "NOERROR" "$(lab_dns txtonly.lab A)"
assert_eq "dns txtonly.lab AAAA (no data)" "NOERROR" "$(lab_dns txtonly.lab AAAA)"
assert_eq "dns txtonly.lab TXT" "NOERROR TXT:portprobe-lab" "$(lab_dns txtonly.lab TXT)"
assert_eq "dns missing.lab" "NXDOMAIN" "$(lab_dns missing.lab A)"
assert_eq "dns outside .lab" "REFUSED" "$(lab_dns example.com A)"
assert_eq "dns dead server" "timeout" "$(lab_dns open.lab A "$LAB_DNS_DEAD" 1)"
assert_eq "dns refused server" "Connection refused" "$(lab_dns open.lab A "$LAB_DNS_REFUSED" 1)"

# ------------------------------------------------------------ listeners and the host namespace
assert_eq "listeners in target" 6 "$(in_target ss -Hltn | grep -cE "($LAB_T4|\[$LAB_T6\]):(80|443|8080) ")"
host_links=$(ip -o link show)
assert_eq "no lab interface in the host namespace" "" \
    "$(grep -E ': (to_router|to_client|to_target)[@:]' <<<"$host_links")"

# ------------------------------------------------------------ assertion helpers
printf '{"ports":[{"port":80,"state":"open"}],"n":2}\n' >"$LAB_DIR/helper.json"
assert_json "$LAB_DIR/helper.json" '.ports[0].state' open
assert_json "$LAB_DIR/helper.json" '.n' 2

# ------------------------------------------------------------ safety machinery
# Skip path: an unprivileged user gets 77.
# shellcheck disable=SC2016 # $1 expands in the inner bash
if id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null 2>&1; then
    skip_rc=0
    setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
        bash -c '. "$1/lab.sh"; lab_require_root; exit 0' _ "$here" 2>/dev/null || skip_rc=$?
    assert_eq "lab_require_root as nobody" 77 "$skip_rc"
fi

# ns_gone FILE: true when none of the namespaces named in FILE (client name) exists.
ns_gone() {
    local c
    c=$(cat "$1")
    [ ! -e "/run/netns/$c" ] && [ ! -e "/run/netns/${c%c}r" ] && [ ! -e "/run/netns/${c%c}t" ]
}

# wait_file FILE SECONDS: wait until FILE is non-empty.
wait_file() {
    local i
    for ((i = 0; i < $2 * 20; i++)); do
        [ -s "$1" ] && return 0
        sleep 0.05
    done
    return 1
}

# wait_gone FILE SECONDS: wait until the namespaces named in FILE are gone.
wait_gone() {
    local i
    for ((i = 0; i < $2 * 20; i++)); do
        ns_gone "$1" && return 0
        sleep 0.05
    done
    return 1
}

# A test killed with SIGKILL: its guard removes the namespaces and processes.
: >"$LAB_DIR/killed.ns"
LAB_TIMEOUT=20 PP_LISTEN=$LAB_PP_LISTEN bash -c \
    '. "$1/lab.sh"; lab_up; echo "$LAB_NS_CLIENT" >"$2"; exec sleep 20' _ "$here" "$LAB_DIR/killed.ns" \
    2>"$LAB_DIR/killed.err" &
killed_pid=$!
if wait_file "$LAB_DIR/killed.ns" 5; then
    kill -KILL "$killed_pid"
    wait "$killed_pid" 2>/dev/null || true
    wait_gone "$LAB_DIR/killed.ns" 5 || true
    assert_eq "guard tears down after SIGKILL" yes "$(ns_gone "$LAB_DIR/killed.ns" && echo yes || echo no)"
else
    lab_fail "nested lab did not come up: $(cat "$LAB_DIR/killed.err")"
    kill -KILL "$killed_pid" 2>/dev/null || true
    wait "$killed_pid" 2>/dev/null || true
fi

# A test that overruns LAB_TIMEOUT while blocked in a command inside the lab: stopped, torn down.
# 3 s leaves lab_up time to finish on a loaded machine (it takes about 0.5 s idle).
: >"$LAB_DIR/late.ns"
LAB_TIMEOUT=3 PP_LISTEN=$LAB_PP_LISTEN bash -c \
    '. "$1/lab.sh"; lab_up; echo "$LAB_NS_CLIENT" >"$2"; in_client sleep 20; exit 0' _ "$here" "$LAB_DIR/late.ns" \
    2>"$LAB_DIR/late.err" &
late_pid=$!
late_rc=0
wait "$late_pid" || late_rc=$?
assert_eq "LAB_TIMEOUT exit status" 143 "$late_rc"
assert_eq "LAB_TIMEOUT tears down" yes "$( [ -s "$LAB_DIR/late.ns" ] && ns_gone "$LAB_DIR/late.ns" && echo yes || echo no)"
assert_match "LAB_TIMEOUT message" 'LAB_TIMEOUT=3s reached' "$(cat "$LAB_DIR/late.err")"

# A command in the lab that ignores SIGTERM: SIGKILL 3 s after the timeout, then torn down.
: >"$LAB_DIR/deaf.ns"
deaf_start=$EPOCHSECONDS
LAB_TIMEOUT=3 PP_LISTEN=$LAB_PP_LISTEN bash -c \
    '. "$1/lab.sh"; lab_up; echo "$LAB_NS_CLIENT" >"$2"; in_client bash -c "trap \"\" TERM; sleep 30"; exit 0' \
    _ "$here" "$LAB_DIR/deaf.ns" 2>"$LAB_DIR/deaf.err" &
deaf_pid=$!
deaf_rc=0
wait "$deaf_pid" || deaf_rc=$?
assert_eq "SIGTERM ignored: exit status" 143 "$deaf_rc"
assert_eq "SIGTERM ignored: over within 20 s" yes "$( ((EPOCHSECONDS - deaf_start < 20)) && echo yes || echo no)"
assert_eq "SIGTERM ignored: torn down" yes "$( [ -s "$LAB_DIR/deaf.ns" ] && ns_gone "$LAB_DIR/deaf.ns" && echo yes || echo no)"
assert_match "SIGTERM ignored: message" 'outlived SIGTERM by 3 s; killing them' "$(cat "$LAB_DIR/deaf.err")"

lab_finish
