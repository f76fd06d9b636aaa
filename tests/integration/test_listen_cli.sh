#!/usr/bin/env bash
# test_listen_cli.sh: the command line of portprobe listen, no root: recorded
# fixtures replayed through --dump-file and --proc-root (tests/fixtures/listen,
# recorded from a real kernel; README.md there gives the ground truth) give
# exact text, JSON, CSV and Prometheus; truncated and malformed fixtures and
# bad options give one line naming the input and exit 2 with nothing on
# stdout; a live listing finds a listener this test opens.
set -u
pp=${PORTPROBE:?PORTPROBE must point at the binary}
src=${PP_SRCDIR:?PP_SRCDIR must point at the source tree}
fx=$src/tests/fixtures/listen
failed=0
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$work"' EXIT

. "$(dirname "$0")/cli_lib.sh"

command -v jq >/dev/null || { echo "SKIP: jq missing"; exit 77; }

# same WHAT EXPECTED ACTUAL
same() {
	[ "$2" = "$3" ] || fail "$1
--- expected:
$2
--- actual:
$3"
}

# Bad input: one line, exit 2, nothing on stdout.
bad "portprobe: -o 'xml': choose text, json, csv or prometheus" listen -o xml
bad "portprobe: --port '0': port 0 is not in 1..65535" listen --port 0
bad "portprobe: -4 and -6 exclude each other" listen -4 -6
bad "portprobe: unexpected argument 'x' (see portprobe listen --help)" listen x
bad "portprobe: --dump-file '$work/none': No such file or directory" listen --dump-file "$work/none"
bad "portprobe: --proc-root '$work/none': No such file or directory" listen --proc-root "$work/none"
bad "portprobe: --watch writes events: choose -o text, json or csv" listen --watch -o prometheus
bad "portprobe: --watch '0.01' is below the 0.1 s minimum" listen --watch 0.01
bad "portprobe: --dump-file excludes --procfs and --record" listen --dump-file "$fx/lab.dump" --procfs
bad "portprobe: unknown option '--bogus' (see portprobe listen --help)" listen --bogus
bad "portprobe: $fx/bad-truncated.dump: truncated netlink message at byte 248 (header says 124 bytes, 52 left)" \
	listen --dump-file "$fx/bad-truncated.dump"
bad "portprobe: $fx/bad-nlmsg-len.dump: truncated netlink message at byte 124 (header says 4000 bytes, 932 left)" \
	listen --dump-file "$fx/bad-nlmsg-len.dump"
bad "portprobe: $fx/bad-attr-len.dump: malformed attribute 21 at byte 104 (length 200, 20 bytes left in the message)" \
	listen --dump-file "$fx/bad-attr-len.dump"
bad "portprobe: $fx/bad-no-done.dump: the dump stops at byte 620 without NLMSG_DONE (cut short?)" \
	listen --dump-file "$fx/bad-no-done.dump"
bad "portprobe: $fx/bad-text.dump: not a sock_diag dump: message type 8224 at byte 0 (expected SOCK_DIAG_BY_FAMILY, NLMSG_DONE or NLMSG_ERROR)" \
	listen --dump-file "$fx/bad-text.dump" -o json
bad "portprobe: $fx/procfs-cut/net/tcp: line 10: cut short (no newline at the end of the file)" \
	listen --procfs --proc-root "$fx/procfs-cut"
bad "portprobe: $fx/procfs-nonhex/net/tcp: line 3: local address \"0000000G\" is not hex" \
	listen --procfs --proc-root "$fx/procfs-nonhex" -o csv

# The recorded lab: every row, as text (a SO_REUSEPORT pair is one row).
same "replayed lab.dump as text" "PROTO  LOCAL                QUEUE      EXPOSURE  USER
tcp    0.0.0.0%1:29880      0/5        any       root
tcp    0.0.0.0:29881        0/4096     any       $(id -nu 65534 2>/dev/null || echo 65534)
tcp    127.0.0.1:29876      2/17       loopback  root
tcp    192.0.2.1:29879      0/64,0/64  specific  root
tcp46  [::]:29878           0/3        any       root
tcp6   [::1]:29877          0/9        loopback  root
tcp6   [2001:db8::1]:29882  0/7        specific  root" \
	"$("$pp" listen --dump-file "$fx/lab.dump" -n | sed 's/ *$//')"

# JSON: the fields of every row.
rows=$("$pp" listen --dump-file "$fx/lab.dump" -n -o json | jq -r '.[] | [.family, .address, .port,
	.dual_stack, .v6only, .device, .accept_queue, .backlog, .uid, .inode, .cookie, .exposure,
	.reuseport_group, .owners, .processes] | map(tostring) | join(" ")')
same "replayed lab.dump as JSON" "ipv4 0.0.0.0 29880 false null 1 0 5 0 16540269 1723 any null not-looked null
ipv4 0.0.0.0 29881 false null null 0 4096 65534 16540270 1722 any null not-looked null
ipv4 127.0.0.1 29876 false null null 2 17 0 16540262 1721 loopback null not-looked null
ipv4 192.0.2.1 29879 false null null 0 64 0 16540268 1724 specific 1 not-looked null
ipv4 192.0.2.1 29879 false null null 0 64 0 16540267 1725 specific 1 not-looked null
ipv6 :: 29878 true false null 0 3 0 16540266 1730 any null not-looked null
ipv6 ::1 29877 false true null 0 9 0 16540265 1732 loopback null not-looked null
ipv6 2001:db8::1 29882 false true null 0 7 0 16540271 1731 specific null not-looked null" "$rows"

# The filters on a replay, and exit 1 when nothing matches.
same "-6 --exposed" "29878 29882" \
	"$("$pp" listen --dump-file "$fx/lab.dump" -6 --exposed -o json | jq -r '[.[].port] | map(tostring) | join(" ")')"
out=$("$pp" listen --dump-file "$fx/lab.dump" --port 1-1000 -o csv)
same "--port matching nothing exits 1" 1 $?
same "... and writes only the CSV header" "family,address,port,dual_stack,device,service,accept_queue,backlog,uid,user,inode,cookie,exposure,reuseport_group,owners,pids,processes,cgroup,unit" "$out"

# Prometheus: the accept queue and backlog of the full listener.
same "prometheus gauges of 29876" 'portprobe_listen_accept_queue{family="ipv4",address="127.0.0.1",port="29876",device="",member="0"} 2
portprobe_listen_backlog{family="ipv4",address="127.0.0.1",port="29876",device="",member="0"} 17' \
	"$("$pp" listen --dump-file "$fx/lab.dump" -o prometheus | grep -E '^portprobe_listen_(accept_queue|backlog)\{.*port="29876"')"
same "prometheus socket counts" 'portprobe_listen_sockets{exposure="loopback"} 2
portprobe_listen_sockets{exposure="any"} 3
portprobe_listen_sockets{exposure="specific"} 3' \
	"$("$pp" listen --dump-file "$fx/lab.dump" -o prometheus | grep '^portprobe_listen_sockets')"

# /proc/net/tcp{,6}: the same sockets, backlog unknown.
same "procfs fixture: same sockets as the dump" \
	"$("$pp" listen --dump-file "$fx/lab.dump" -o json | jq -r '[.[] | "\(.address) \(.port) \(.inode) \(.accept_queue)"] | sort | join(";")')" \
	"$("$pp" listen --procfs --proc-root "$fx/procfs" -o json | jq -r '[.[] | "\(.address) \(.port) \(.inode) \(.accept_queue)"] | sort | join(";")')"
same "procfs: backlog, cookie and v6only unknown" null \
	"$("$pp" listen --procfs --proc-root "$fx/procfs" -o json | jq -r '[.[] | .backlog, .cookie, .v6only] | unique | map(tostring) | join(",")')"
same "procfs text shows ? for the backlog" "tcp    127.0.0.1:29876  2/?    loopback  root" \
	"$("$pp" listen --procfs --proc-root "$fx/procfs" -n --port 29876 | sed -n 2p | sed 's/ *$//')"
same "a missing tcp6 is IPv6 off, not an error" "29876 29879 29879 29880 29881" \
	"$("$pp" listen --procfs --proc-root "$fx/procfs-v4only" -o json | jq -r '[.[].port] | sort | map(tostring) | join(" ")')"

# Live: a listener of our own, with its process (same user: no privilege needed).
port=$((20000 + RANDOM % 20000))
python3 -c "
import socket, sys, time
s = socket.socket(); s.bind(('127.0.0.1', $port)); s.listen(7)
print('ready', flush=True); time.sleep(30)" >"$work/py.out" &
pids+=($!)
for _ in $(seq 100); do grep -q ready "$work/py.out" 2>/dev/null && break; sleep 0.05; done
live=$("$pp" listen -p --port "$port" -o json | jq -r '.[] | [.address, .port, .backlog, .owners,
	(.processes | map("\(.pid) \(.name)") | join(","))] | map(tostring) | join(" ")')
same "live: our listener with our process" "127.0.0.1 $port 7 found ${pids[0]} python3" "$live"

exit $failed
