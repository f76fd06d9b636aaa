#!/usr/bin/env bash
# test_listen_lab.sh: `portprobe listen` against listeners of its own in the
# lab's target namespace, each row asserted, and the whole (address, port,
# pid, fd) set equal to what `ss -tlnp` prints in the same run.
#
# pp_hold opens, in the target namespace:
#   H1 (forked, so two pids hold every socket): 127.0.0.1:7101 backlog 17
#      with two connected clients never accepted, [::1]:7102 (v6only),
#      [::]:7103 (dual-stack), 127.0.0.1:7105 bound to lo, 198.18.1.2:7106
#      and [2001:db8:1::2]:7107 (specific addresses);
#   H2 and H3: 0.0.0.0:7104 with SO_REUSEPORT, one group of two.
# Then: the filters, --procfs, --record and --dump-file, an unprivileged
# run ("no-permission", never a blank), and --watch seeing one listener
# appear and go, keyed on its cookie. -N names the namespace throughout.
# Exit 0 ok, 1 failure, 77 not root. Bounded to 60 s by LAB_TIMEOUT.

set -u
here=$(cd "$(dirname "$0")" && pwd)
LAB_TIMEOUT=60
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"

lab_require_root
command -v jq >/dev/null || lab__die "jq is needed"
PP=${PORTPROBE:?PORTPROBE must name the portprobe binary}
HOLD=${PP_HOLD:?PP_HOLD must name the pp_hold binary}
lab_up
NS=$LAB_NS_TARGET

# hold ID ARGS...: pp_hold ARGS in the target, ready file LAB_DIR/ID.ready; PID in LAB_BG_PID.
hold() {
    local id=$1
    shift
    lab_bg target "$HOLD" --ready-file "$LAB_DIR/$id.ready" "$@" </dev/null 2>"$LAB_DIR/$id.err"
    lab__wait_for "pp_hold $id" 10 lab__pid_ready "$LAB_BG_PID" "$LAB_DIR/$id.ready"
}

# pids ID: the holder pids of a ready file, comma-joined in order (parent, child).
pids() { awk '$1 == "pid" {print $2}' "$LAB_DIR/$1.ready" | paste -sd,; }
# inode ID PORT: the inode of the ready file's socket on PORT.
inode() { awk -v p="$2" '$1 == "sock" && $4 == p {print $5}' "$LAB_DIR/$1.ready"; }

hold h1 --fork 127.0.0.1:7101/backlog=17/clients=2 '[::1]:7102' '[::]:7103/dual' \
    127.0.0.1:7105/dev=lo "$LAB_T4:7106" "[$LAB_T6]:7107"
hold h2 0.0.0.0:7104/reuseport
hold h3 0.0.0.0:7104/reuseport
H1=$(pids h1)
H2=$(pids h2)
H3=$(pids h3)
assert_match "h1 has two holder pids" '^[0-9]+,[0-9]+$' "$H1"

out=$LAB_DIR/listen.json
"$PP" listen -N "$NS" -p -o json >"$out" 2>"$LAB_DIR/listen.err"
assert_eq "listen -p -o json exits 0" 0 $?
assert_eq "listen -p writes nothing on stderr" "" "$(cat "$LAB_DIR/listen.err")"
sscap=$LAB_DIR/ss.txt
in_target ss -Htlnp >"$sscap"

# row PORT: the fields of each socket on PORT, one line each, in the order listed.
row() {
    jq -r --argjson p "$1" '.[] | select(.port == $p) | [.family, .address, .dual_stack,
        .v6only, .device, .accept_queue, .backlog, .uid, .user, .exposure,
        (.reuseport_group != null), .owners, ([.processes[].pid] | join(",")),
        ([.processes[].name] | unique | join(","))] | map(tostring) | join(" ")' "$out"
}
assert_eq "7101: v4, 2 unaccepted of 17, both pids" \
    "ipv4 127.0.0.1 false null null 2 17 0 root loopback false found $H1 pp_hold" "$(row 7101)"
assert_eq "7102: v6only loopback" \
    "ipv6 ::1 false true null 0 128 0 root loopback false found $H1 pp_hold" "$(row 7102)"
assert_eq "7103: dual-stack any" \
    "ipv6 :: true false null 0 128 0 root any false found $H1 pp_hold" "$(row 7103)"
assert_eq "7105: bound to lo" \
    "ipv4 127.0.0.1 false null lo 0 128 0 root loopback false found $H1 pp_hold" "$(row 7105)"
assert_eq "7106: a specific v4 address" \
    "ipv4 $LAB_T4 false null null 0 128 0 root specific false found $H1 pp_hold" "$(row 7106)"
assert_eq "7107: a specific v6 address" \
    "ipv6 $LAB_T6 false true null 0 128 0 root specific false found $H1 pp_hold" "$(row 7107)"
assert_eq "7104: a SO_REUSEPORT pair, one holder each" \
    "ipv4 0.0.0.0 false null null 0 128 0 root any true found $H2 pp_hold
ipv4 0.0.0.0 false null null 0 128 0 root any true found $H3 pp_hold" \
    "$(row 7104 | sort -t' ' -k13n)"
assert_json "$out" '[.[] | select(.port == 7104) | .reuseport_group] | unique | length' 1
for p in 7101 7102 7103 7105 7106 7107; do
    assert_json "$out" ".[] | select(.port == $p) | .inode" "$(inode h1 $p)"
done
assert_json "$out" "[.[] | select(.port == 7104) | .inode] | sort | map(tostring) | join(\" \")" \
    "$(printf '%s\n' "$(inode h2 7104)" "$(inode h3 7104)" | sort -n | paste -sd' ')"
assert_json "$out" '[.[] | select(.port >= 7101 and .port <= 7107) | .cookie | type] | unique | join(",")' \
    number
assert_json "$out" '.[] | select(.port == 7101) | .processes[0].cmdline' \
    "$HOLD --ready-file $LAB_DIR/h1.ready --fork 127.0.0.1:7101/backlog=17/clients=2 [::1]:7102 [::]:7103/dual 127.0.0.1:7105/dev=lo $LAB_T4:7106 [$LAB_T6]:7107"
# The cgroup is the one the creating task was in: the holder's own.
cg=$(sed -n 's/^0:://p' "/proc/${H1%%,*}/cgroup")
assert_json "$out" '.[] | select(.port == 7101) | .cgroup' "$cg"

# The same set as ss -tlnp: (address, port, pid, fd) for every socket in the namespace.
ss_set=$(awk '{
        local = $4; port = local; sub(/.*:/, "", port)
        addr = substr(local, 1, length(local) - length(port) - 1)
        gsub(/[][]/, "", addr); sub(/%.*/, "", addr); if (addr == "*") addr = "::"
        rest = $0
        while (match(rest, /pid=[0-9]+,fd=[0-9]+/)) {
            u = substr(rest, RSTART, RLENGTH); rest = substr(rest, RSTART + RLENGTH)
            split(u, kv, /[=,]/); print addr, port, kv[2], kv[4]
        }
    }' "$sscap" | sort)
pp_set=$(jq -r '.[] | .address as $a | .port as $p | .processes[] | "\($a) \($p) \(.pid) \(.fd)"' \
    "$out" | sort)
assert_eq "(address, port, pid, fd) equals ss -tlnp's" "$ss_set" "$pp_set"
assert_eq "ss saw the 14 holdings of our listeners" 14 \
    "$(grep -c ' 710[1-7] ' <<<"$ss_set")"
assert_eq "one row per socket, as ss -tln" "$(wc -l <"$sscap")" "$(jq length "$out")"

# The text table: the reuseport pair is one row with both queues and both pids.
txt=$("$PP" listen -N "$NS" -n -p --port 7104)
unit=$(jq -r '[.[] | select(.port == 7104)][0] | .unit // .cgroup // "-"' "$out")
# the members in the table's order (by cookie), each pid once
group_pids=$(jq -r '[.[] | select(.port == 7104) | .processes[].pid] | map(tostring) | join(",")' "$out")
assert_eq "text: a SO_REUSEPORT group is one row" \
    "tcp    0.0.0.0:7104  0/128,0/128  any       root  pp_hold[$group_pids]  $unit" \
    "$(sed -n 2p <<<"$txt" | sed 's/ *$//')"
assert_eq "text: the PROTO column marks dual-stack as tcp46" \
    "tcp46 [::]:7103" "$("$PP" listen -N "$NS" -n --port 7103 | awk 'NR == 2 {print $1, $2}')"

# Filters.
f=$("$PP" listen -N "$NS" -4 --port 7101,7102,7104 -o json | jq -r '[.[].port] | map(tostring) | join(",")')
assert_eq "-4 --port: v4 sockets on those ports, by address" "7104,7104,7101" "$f"
f=$("$PP" listen -N "$NS" -6 --exposed --process pp_hold -o json |
    jq -r '[.[].port] | map(tostring) | join(",")')
assert_eq "-6 --exposed --process: dual-stack and specific v6" "7103,7107" "$f"
f=$("$PP" listen -N "$NS" --process "$H2" -o json | jq -r '[.[].port] | map(tostring) | join(",")')
assert_eq "--process PID" "7104" "$f"
"$PP" listen -N "$NS" --port 7199 -o json >"$LAB_DIR/none.json"
assert_eq "a filter that matches nothing exits 1" 1 $?
assert_eq "... and writes an empty array" "[]" "$(cat "$LAB_DIR/none.json")"
err=$("$PP" listen -N pp-no-such-ns 2>&1 >/dev/null)
assert_eq "-N of a missing namespace exits 2" 2 $?
assert_eq "... with one line naming it" \
    "portprobe: network namespace 'pp-no-such-ns' does not exist (/run/netns/pp-no-such-ns)" "$err"

# /proc/net/tcp{,6}: same sockets, no backlog or cookie.
"$PP" listen -N "$NS" --procfs -o json >"$LAB_DIR/procfs.json"
key='[.[] | "\(.address) \(.port) \(.inode) \(.accept_queue)"] | sort | join(";")'
assert_eq "--procfs lists the same sockets" "$(jq -r "$key" "$out")" \
    "$(jq -r "$key" "$LAB_DIR/procfs.json")"
assert_json "$LAB_DIR/procfs.json" '[.[] | .backlog, .cookie, .v6only] | unique | map(tostring) | join(",")' \
    null

# --record, then --dump-file: the replay is the live listing (devices by index).
"$PP" listen -N "$NS" --record "$LAB_DIR/ns.dump" -o json >"$LAB_DIR/live.json"
"$PP" listen --dump-file "$LAB_DIR/ns.dump" -o json >"$LAB_DIR/replay.json"
assert_eq "--dump-file replays --record" \
    "$(jq -S 'map(del(.device, .cgroup, .unit))' "$LAB_DIR/live.json")" \
    "$(jq -S 'map(del(.device, .cgroup, .unit))' "$LAB_DIR/replay.json")"
assert_json "$LAB_DIR/replay.json" '.[] | select(.port == 7105) | .device' 1

# Unprivileged: other users' processes cannot be read, and the row says so.
in_target setpriv --reuid=65534 --regid=65534 --clear-groups "$PP" listen -p -o json \
    >"$LAB_DIR/nobody.json"
assert_json "$LAB_DIR/nobody.json" '.[] | select(.port == 7101) | [.owners, (.processes | length), .backlog, .accept_queue] | map(tostring) | join(" ")' \
    "no-permission 0 17 2"
assert_eq "unprivileged text says unknown (no permission)" "unknown (no permission)" \
    "$(in_target setpriv --reuid=65534 --regid=65534 --clear-groups "$PP" listen -n -p --port 7102 |
        sed -n 2p | sed 's/.*root  //; s/  .*//')"

# --watch: one listener appears and goes; the events carry its cookie.
wfile=$LAB_DIR/watch.jsonl
lab_bg target "$PP" listen -o json --watch 0.2 >"$wfile" 2>"$LAB_DIR/watch.err"
wpid=$LAB_BG_PID
lab__wait_for "watch's first poll" 5 grep -q '"present"' "$wfile"
hold h4 127.0.0.1:7110
h4=$LAB_BG_PID
lab__wait_for "the appeared event" 5 grep -q '"appeared".*"port":7110' "$wfile"
lab_stop "$h4"
lab__wait_for "the gone event" 5 grep -q '"gone".*"port":7110' "$wfile"
kill -INT "$wpid"
wait "$wpid"
assert_eq "--watch ends with 130 on SIGINT" 130 $?
assert_eq "present events are the first snapshot" "$(jq length "$LAB_DIR/live.json")" \
    "$(grep -c '"present"' "$wfile")"
assert_eq "one appeared and one gone event, for 7110 only" "appeared 7110
gone 7110" "$(jq -r 'select(.event != "present") | "\(.event) \(.listener.port)"' "$wfile")"
assert_eq "both events carry the same cookie" 1 \
    "$(jq -r 'select(.event != "present") | .listener.cookie' "$wfile" | sort -u | wc -l)"

lab_finish
