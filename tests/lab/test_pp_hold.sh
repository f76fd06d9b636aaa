#!/usr/bin/env bash
# test_pp_hold.sh: checks the lab's listener holder pp_hold against ss, without portprobe.
#
# In the lab's target namespace pp_hold opens listeners with each option and
# the test asserts what ss reports for them: the accept queue and backlog of
# a never-accepting listener with clients (Recv-Q 2, Send-Q 17), two rows for
# a SO_REUSEPORT pair, `*:PORT` with v6only:0 for a dual-stack socket,
# `ADDR%lo` for SO_BINDTODEVICE, one row per port of a range, the port the
# kernel chose for port 0, and that every inode of the ready file is the ino:
# ss -e shows. With --fork both PIDs hold every socket (ss -p users), and the
# child goes when the parent is stopped (SIGTERM) or killed (SIGKILL:
# PR_SET_PDEATHSIG). Setup failures print one exact line and exit 1. These
# are the ground truth that `portprobe listen` tests and bench_listen.sh use.
# Exit 0 ok, 1 failure, 77 not root. Bounded to 40 s by LAB_TIMEOUT; a run
# takes about 4 s, 3 s of it the client connect that must time out.

set -u
here=$(cd "$(dirname "$0")" && pwd)
LAB_TIMEOUT=40
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"

lab_require_root
lab_up

HOLD=${PP_HOLD:-}
if [ -z "$HOLD" ]; then
    HOLD="$LAB_DIR/pp_hold"
    lab__run "compiling pp_hold" gcc -std=c17 -D_GNU_SOURCE -O2 -Wall -Wextra -Wformat=2 \
        -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla -Werror \
        -o "$HOLD" "$here/pp_hold.c"
fi
[ -x "$HOLD" ] || lab__die "PP_HOLD=$HOLD is not executable"

# hold ID ARGS...: start pp_hold ARGS in the target with ready file LAB_DIR/ID.ready (stderr in
# LAB_DIR/ID.err), wait until it is ready; its PID is LAB_BG_PID (ip netns exec execs it).
hold() {
    local id=$1
    shift
    lab_bg target "$HOLD" --ready-file "$LAB_DIR/$id.ready" "$@" </dev/null 2>"$LAB_DIR/$id.err"
    lab__wait_for "pp_hold $id" 10 lab__pid_ready "$LAB_BG_PID" "$LAB_DIR/$id.ready"
}

# rows PORT [SS FLAGS]: the target's listeners on PORT, no header.
rows() {
    local port=$1
    shift
    in_target ss -Htln "$@" "sport = :$port" 2>/dev/null
}

# ss_socks PID: "ADDR PORT INODE" of every listener PID holds, from ss -e, sorted; the
# address as the ready file writes it (no brackets, no %dev, * is ::).
ss_socks() {
    in_target ss -Htlnpe 2>/dev/null | awk -v pid="pid=$1," '
        index($0, pid) {
            local = $4
            port = local; sub(/.*:/, "", port)
            addr = substr(local, 1, length(local) - length(port) - 1)
            gsub(/[][]/, "", addr); sub(/%.*/, "", addr)
            if (addr == "*") addr = "::"
            ino = $0; sub(/.* ino:/, "", ino); sub(/ .*/, "", ino)
            print addr, port, ino
        }' | sort
}

# ready_socks FILE: "ADDR PORT INODE" of every sock line of a ready file, sorted.
ready_socks() {
    awk '$1 == "sock" {print $3, $4, $5}' "$1" | sort
}

# users PORT: the sorted, comma-joined PIDs in ss -p's users of each row on PORT, one line per row.
users() {
    rows "$1" -p | while read -r line; do
        grep -o 'pid=[0-9]*' <<<"$line" | cut -d= -f2 | sort -n | paste -sd,
    done
}

# gone PID: wait up to 2 s for PID to end; prints "gone" or "alive".
gone() {
    local i
    for ((i = 0; i < 40; i++)); do
        lab__alive "$1" || { echo gone; return; }
        sleep 0.05
    done
    echo alive
}

# ------------------------------------------------------------ one process, every option
hold a 127.0.0.1:7001/backlog=17/clients=2 127.0.0.1:7002/reuseport 127.0.0.1:7002/reuseport \
    '[::]:7003/dual' '[::1]:7004' 127.0.0.1:7005/dev=lo 127.0.0.1:7010-7014 127.0.0.1:0
a=$LAB_BG_PID
r=$LAB_DIR/a.ready
assert_eq "ready file: ready, then the one holder" "ready
pid $a" "$(sed -n '1,2p' "$r")"
assert_eq "ready file: 12 sockets" 12 "$(grep -c '^sock ' "$r")"
assert_eq "Recv-Q Send-Q local of backlog=17/clients=2" "2 17 127.0.0.1:7001" \
    "$(rows 7001 | awk '{print $2, $3, $4}')"
assert_eq "reuseport pair: two rows on one port" "127.0.0.1:7002
127.0.0.1:7002" "$(rows 7002 | awk '{print $4}')"
assert_eq "reuseport pair: two sockets" 2 "$(rows 7002 -e | grep -o 'ino:[0-9]*' | sort -u | wc -l)"
assert_eq "dual: *:PORT, v6only:0" "*:7003 v6only:0" \
    "$(rows 7003 -e | awk '{print $4}') $(rows 7003 -e | grep -o 'v6only:[01]')"
assert_eq "v6 default: v6only:1" "[::1]:7004 v6only:1" \
    "$(rows 7004 -e | awk '{print $4}') $(rows 7004 -e | grep -o 'v6only:[01]')"
assert_eq "dev=lo: bound to lo" "127.0.0.1%lo:7005" "$(rows 7005 | awk '{print $4}')"
assert_eq "range: one listener per port" "7010 7011 7012 7013 7014" \
    "$(in_target ss -Htln 'sport >= :7010 and sport <= :7014' | awk '{print $4}' | cut -d: -f2 |
        sort -n | paste -sd' ')"
p0=$(awk '$1 == "sock" {print $4}' "$r" | tail -n 1)
assert_match "port 0: the kernel's port is in the ready file" '^[1-9][0-9]*$' "$p0"
assert_eq "port 0: ss shows that port" "127.0.0.1:$p0" "$(rows "$p0" | awk '{print $4}')"
assert_eq "ready-file sockets and inodes equal ss -e's ino:" "$(ready_socks "$r")" "$(ss_socks "$a")"

# ------------------------------------------------------------ --fork: two holders
hold b --fork --clients 1 127.0.0.1:7020 '[::1]:7020'
b=$LAB_BG_PID
r=$LAB_DIR/b.ready
bpids=$(awk '$1 == "pid" {print $2}' "$r")
assert_eq "--fork: two pids, the parent first" 2 "$(wc -l <<<"$bpids")"
assert_eq "--fork: the parent is the process started" "$b" "$(head -n 1 <<<"$bpids")"
child=$(tail -n 1 <<<"$bpids")
assert_eq "--fork: the child's parent" "$b" "$(awk '{print $4}' "/proc/$child/stat")"
both=$(sort -n <<<"$bpids" | paste -sd,)
assert_eq "--fork: ss -p users name both pids on each row" "$both
$both" "$(users 7020)"
assert_eq "--clients 1: Recv-Q of both rows" "1 127.0.0.1:7020
1 [::1]:7020" "$(rows 7020 | awk '{print $2, $4}' | sort)"
assert_eq "--fork: inodes as ss shows them for the parent" "$(ready_socks "$r")" "$(ss_socks "$b")"
assert_eq "--fork: inodes as ss shows them for the child" "$(ready_socks "$r")" "$(ss_socks "$child")"
lab_stop "$b"
assert_eq "--fork: SIGTERM to the parent stops the child" gone "$(gone "$child")"
assert_eq "--fork: nothing listens after the stop" "" "$(rows 7020)"

hold c --fork 127.0.0.1:7030
c=$LAB_BG_PID
child=$(awk '$1 == "pid" {print $2}' "$LAB_DIR/c.ready" | tail -n 1)
kill -KILL "$c"
assert_eq "--fork: the child dies with a killed parent" gone "$(gone "$child")"
lab_stop "$c"

# ------------------------------------------------------------ setup failures: one line, exit 1
# fail NAME EXPECTED_LINE ARGS...: pp_hold ARGS must exit 1 having printed EXPECTED_LINE only.
fail() {
    local name=$1 want=$2 out rc=0
    shift 2
    out=$(in_target "$HOLD" "$@" 2>&1 </dev/null) || rc=$?
    assert_eq "$name: exit status" 1 "$rc"
    assert_eq "$name: message" "$want" "$out"
}
fail "port in use" "pp_hold: 127.0.0.1:7001: bind: Address already in use" 127.0.0.1:7001
fail "range: port in use" \
    "pp_hold: 127.0.0.1:7008-7012 (port 7010): bind: Address already in use" 127.0.0.1:7008-7012
fail "unknown option" \
    "pp_hold: 127.0.0.1:7040/bogus: unknown option (want backlog=N, reuseport, dual, dev=IFNAME or clients=N): Invalid argument" \
    127.0.0.1:7040/bogus
fail "dual on IPv4" "pp_hold: 127.0.0.1:7040/dual: dual wants an IPv6 address: Invalid argument" \
    127.0.0.1:7040/dual
fail "bad port" \
    "pp_hold: 127.0.0.1:65536: bad address (want A.B.C.D:PORT[-PORT] or [IPV6]:PORT[-PORT]): Invalid argument" \
    127.0.0.1:65536
fail "unknown device" "pp_hold: 127.0.0.1:7040/dev=nosuch0: setsockopt(SO_BINDTODEVICE): No such device" \
    127.0.0.1:7040/dev=nosuch0
# backlog 0 queues one connection; the second SYN is dropped and connect() gives up after 3 s
fail "more clients than the queue takes" \
    "pp_hold: 127.0.0.1:7041/backlog=0/clients=2: client connect: Connection timed out" \
    127.0.0.1:7041/backlog=0/clients=2

lab_finish
