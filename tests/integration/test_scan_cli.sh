#!/usr/bin/env bash
# test_scan_cli.sh: the command line of portprobe scan on loopback, no root.
# Bad input gets one stderr line naming it, exit 2, nothing on stdout; a
# listener of ours is open and its neighbours closed in every format; shards
# split a scan with no overlap and no gap; after SIGKILL every completed JSONL
# record is in the file; after SIGINT the XML and JSON documents are closed
# and valid; a resumed scan emits exactly the records the first run did not,
# and its stdout is a document of its own in JSON and XML; a damaged
# checkpoint is refused naming its line; a host cut short by --host-timeout
# is marked in every host format.
set -u
pp=${PORTPROBE:?PORTPROBE must point at the binary}
listen=${PP_LISTEN:?PP_LISTEN must point at pp_listen}
failed=0
work=$(mktemp -d)
listener_pid=""
scan_pid=""
trap '[ -n "$listener_pid" ] && kill "$listener_pid" 2>/dev/null; [ -n "$scan_pid" ] && kill -9 "$scan_pid" 2>/dev/null; rm -rf "$work"' EXIT

. "$(dirname "$0")/cli_lib.sh"

mkdir "$work/dir"
bad "portprobe: target 10.0.0.0/33: prefix length 33 is not in 0..32" scan 10.0.0.0/33
bad "portprobe: -p 0: port 0 is not in 1..65535" scan -p 0 127.0.0.1
bad "portprobe: -p 70000: port 70000 is not in 1..65535" scan -p 70000 127.0.0.1
bad "portprobe: -p 5-1: range 5-1 is reversed" scan -p 5-1 127.0.0.1
bad "portprobe: -iL $work/nonexistent: cannot read: No such file or directory" scan -iL "$work/nonexistent"
bad "portprobe: -iL $work/dir: cannot read: Is a directory" scan -iL "$work/dir"
bad "portprobe: --shard 3/2: shard 3 is not in 1..2" scan --shard 3/2 127.0.0.1
bad "portprobe: --shard 1-2: is not I/N (e.g. 1/4)" scan --shard 1-2 127.0.0.1
bad "portprobe: -T6: timing template is not in 0..5" scan -T6 127.0.0.1
bad "portprobe: target 10.0.0.256: octet 256 is not in 0..255" scan 10.0.0.256
bad "portprobe: -o yaml: is not text, json, jsonl, xml, grepable or csv" scan -o yaml 127.0.0.1
bad "portprobe: no target given (see portprobe scan --help)" scan -p 80
bad "portprobe: unknown option '--bogus' (see portprobe scan --help)" scan --bogus 127.0.0.1
bad "portprobe: -p and --top-ports/-F exclude each other" scan -p 80 -F 127.0.0.1
bad "portprobe: --resume takes no other option (the checkpoint has them)" scan --resume "$work/cp" -p 80
printf 'not a checkpoint\n' >"$work/notcp"
bad "portprobe: --resume $work/notcp: is not a portprobe scan checkpoint" scan --resume "$work/notcp"
printf 'portprobe-checkpoint 1\nseed 1\ntotal 10\nwatermark 4\ndone 6 5\nend\n' >"$work/cp_order"
bad "portprobe: --resume $work/cp_order:5: indices out of order" scan --resume "$work/cp_order"
printf 'portprobe-checkpoint 1\nseed 12x\ntotal 10\nwatermark 4\nend\n' >"$work/cp_seed"
bad "portprobe: --resume $work/cp_seed:2: seed is not a decimal number" scan --resume "$work/cp_seed"
printf 'portprobe-checkpoint 1\nseed 1\ntotal 10\nwatermark 4\nend\nend\n' >"$work/cp_after"
bad "portprobe: --resume $work/cp_after:6: data after end" scan --resume "$work/cp_after"
printf 'portprobe-checkpoint 1\nseed 1\ntotal 10\nwatermark 4\n' >"$work/cp_short"
bad "portprobe: --resume $work/cp_short: checkpoint is incomplete" scan --resume "$work/cp_short"
truncate -s 600M "$work/cp_huge"
bad "portprobe: --resume $work/cp_huge: is larger than a checkpoint can be (512 MiB)" scan --resume "$work/cp_huge"
rm -f "$work/cp_huge"
bad "portprobe: --resume $work/dir: cannot read: Is a directory" scan --resume "$work/dir"
printf '127.0.0.1\n# comment\n10.0.0.0/33\n' >"$work/targets"
bad "portprobe: -iL $work/targets:3: 10.0.0.0/33: prefix length 33 is not in 0..32" scan -iL "$work/targets"

bad "portprobe: --source-address ::1: every target must be IPv6 as well" scan -S ::1 -p 1 127.0.0.1
bad "portprobe: --list lists every target; --shard splits (host, port) pairs, not hosts" scan --list --shard 1/2 127.0.0.1
rc=0
"$pp" scan -S 192.0.2.1 -p 1 127.0.0.1 >/dev/null 2>&1 || rc=$?
[ "$rc" = 3 ] || fail "-S with an address that is not local: exit $rc, expected 3"
# names resolve in the loop (the hosts file: localhost is 127.0.0.1 here)
out=$("$pp" scan -4 -o jsonl -p 1 localhost | jq -r '"\(.host) \(.ip)"')
[ "$out" = "localhost 127.0.0.1" ] || fail "scan localhost: $out"
# -T with a space, as nmap users type it
"$pp" scan -T 4 -p 1 127.0.0.1 >/dev/null || fail "-T 4: exit $?"

out=$("$pp" scan --help) || fail "scan --help: exit $?"
grep -q '^Usage: portprobe scan \[OPTIONS\] TARGET...$' <<<"$out" || fail "scan --help: no usage line"

# --list: the targets, nothing sent
out=$("$pp" scan --list 192.0.2.0/30 10.0.1-2.7 --exclude 192.0.2.1 | paste -sd' ')
[ "$out" = "192.0.2.0 192.0.2.2 192.0.2.3 10.0.1.7 10.0.2.7" ] || fail "--list: $out"

# a listener of ours: open; its neighbours: closed (nothing else listens on them)
. "$(dirname "$0")/../../scripts/loopback_listener.sh"
loopback_listener "$listen" "$work" || { echo "could not start a listener" >&2; exit 1; }
port=$LISTENER_PORT
listener_pid=$LISTENER_PID
p1=$((port + 1))
p2=$((port + 2))
free=1
for p in $p1 $p2; do ss -Htln "sport = :$p" | grep -q . && free=0; done
if [ $free = 1 ]; then
	out=$("$pp" scan -o jsonl -p "$port,$p1,$p2" 127.0.0.1) || fail "jsonl scan: exit $?"
	got=$(jq -r '"\(.port) \(.state) \(.reason) \(.attempts)"' <<<"$out" | sort -n | paste -sd,)
	[ "$got" = "$port open syn-ack 1,$p1 closed conn-refused 1,$p2 closed conn-refused 1" ] ||
		fail "jsonl states: $got"
	out=$("$pp" scan -p "$port,$p1,$p2" 127.0.0.1) || fail "text scan: exit $?"
	grep -Eq "^$port/tcp +open +[a-z0-9-]+ +syn-ack\$" <<<"$out" || fail "text: no open row: $out"
	grep -Eq "^$p1/tcp +closed +[a-z0-9-]+ +conn-refused\$" <<<"$out" || fail "text: no closed row: $out"
	out=$("$pp" scan --open -o csv -p "$port,$p1,$p2" 127.0.0.1) || fail "csv scan: exit $?"
	[ "$(sed -n 2p <<<"$out" | cut -d, -f1-6)" = "127.0.0.1,127.0.0.1,$port,tcp,open,syn-ack" ] ||
		fail "csv --open: $out"
	[ "$(wc -l <<<"$out")" = 2 ] || fail "csv --open: not one row: $out"
	"$pp" scan -p "$port,$p1,$p2" -oX "$work/one.xml" -oG "$work/one.gnmap" 127.0.0.1 >/dev/null ||
		fail "-oX/-oG: exit $?"
	xmllint --noout --dtdvalid /usr/share/nmap/nmap.dtd "$work/one.xml" 2>"$work/xmlerr" ||
		fail "-oX not DTD-valid: $(head -3 "$work/xmlerr")"
	grep -q "Ports: $port/open/tcp//" "$work/one.gnmap" || fail "-oG: $(cat "$work/one.gnmap")"
fi

# shards: three machines, one scan, no overlap, no gap
for i in 1 2 3; do
	"$pp" scan -Pn --seed 42 --shard "$i/3" -o jsonl -p 1-3000 127.0.0.1 >"$work/shard$i" ||
		fail "shard $i: exit $?"
done
all=$(cat "$work"/shard? | jq -r .port | sort -n)
[ "$(wc -l <<<"$all")" = 3000 ] || fail "shards: $(wc -l <<<"$all") records, expected 3000"
[ "$(uniq <<<"$all" | wc -l)" = 3000 ] || fail "shards overlap"
[ "$(head -1 <<<"$all") $(tail -1 <<<"$all")" = "1 3000" ] || fail "shards: range"

# the same seed gives the same order; -r is sequential
a=$("$pp" scan --threads 1 --seed 7 -o jsonl -p 1-200 127.0.0.1 | jq -r .port | paste -sd,)
b=$("$pp" scan --threads 1 --seed 7 -o jsonl -p 1-200 127.0.0.1 | jq -r .port | paste -sd,)
[ "$a" = "$b" ] || fail "--seed: two orders"
[ "$a" != "$(seq -s, 1 200)" ] || fail "--seed: order is not permuted"
[ "$("$pp" scan -r --threads 1 --max-parallel 1 -o jsonl -p 1-200 127.0.0.1 | jq -r .port | paste -sd,)" = \
	"$(seq -s, 1 200)" ] || fail "-r: not sequential"

# slow scans to interrupt (rate-bound so the kill lands mid-run)
slow=(scan -Pn --max-rate 4000 -p 1-8000 127.0.0.1)

# xml_ports FILE: every port an nmap XML document lists, one per line, from
# <port> elements and the ranges of <extrareasons ports="...">
xml_ports() {
	{
		grep -o 'portid="[0-9]*"' "$1" | tr -dc '0-9\n'
		grep -o ' ports="[0-9,-]*"' "$1" | sed 's/ ports="//; s/"//' | tr ',' '\n' |
			awk -F- 'NF == 1 { print $1 } NF == 2 { for (p = $1; p <= $2; p++) print p }'
	} | grep .
}

# run_interrupted NAME ARGS...: runs portprobe ARGS with stdout to $work/NAME,
# stops it with SIGTERM 0.7 s in, and checks that it exited 143
run_interrupted() {
	local name=$1 rc=0
	shift
	"$pp" "$@" >"$work/$name" 2>/dev/null &
	scan_pid=$!
	sleep 0.7
	kill -TERM "$scan_pid"
	wait "$scan_pid" || rc=$?
	scan_pid=""
	[ "$rc" = 143 ] || fail "$name: SIGTERM: exit $rc, expected 143"
}

# SIGKILL: every completed JSONL record is in the file
"$pp" "${slow[@]}" -oJ "$work/killed.jsonl" >/dev/null 2>&1 &
scan_pid=$!
sleep 0.7
kill -9 "$scan_pid"
wait "$scan_pid" 2>/dev/null
scan_pid=""
n=$(wc -l <"$work/killed.jsonl")
[ "$n" -gt 100 ] && [ "$n" -lt 8000 ] || fail "SIGKILL: $n records"
jq -e -s 'all(.port >= 1 and .port <= 8000)' "$work/killed.jsonl" >/dev/null ||
	fail "SIGKILL: a record is not complete JSON"
[ "$(tail -c1 "$work/killed.jsonl" | od -An -c | tr -d ' ')" = '\n' ] || fail "SIGKILL: last line cut"

# SIGINT: the XML and JSON documents are closed and valid; exit 130
"$pp" "${slow[@]}" -o json -oX "$work/int.xml" >"$work/int.json" 2>/dev/null &
scan_pid=$!
sleep 0.7
kill -INT "$scan_pid"
rc=0
wait "$scan_pid" || rc=$?
scan_pid=""
[ "$rc" = 130 ] || fail "SIGINT: exit $rc, expected 130"
xmllint --noout --dtdvalid /usr/share/nmap/nmap.dtd "$work/int.xml" 2>"$work/xmlerr" ||
	fail "SIGINT: XML not valid: $(head -3 "$work/xmlerr")"
grep -q 'exit="error" errormsg="interrupted by SIGINT"' "$work/int.xml" || fail "SIGINT: XML does not say so"
[ "$(jq -r .interrupted "$work/int.json")" = true ] || fail "SIGINT: JSON: $(head -c 300 "$work/int.json")"

# resume: SIGTERM with a checkpoint, then --resume emits exactly the rest
"$pp" "${slow[@]}" -o jsonl -oX "$work/res.xml" --checkpoint "$work/cp" >"$work/r1.jsonl" 2>/dev/null &
scan_pid=$!
sleep 0.7
kill -TERM "$scan_pid"
rc=0
wait "$scan_pid" || rc=$?
scan_pid=""
[ "$rc" = 143 ] || fail "SIGTERM: exit $rc, expected 143"
grep -q '^portprobe-checkpoint 1$' "$work/cp" || fail "no checkpoint written"
rc=0
"$pp" scan --resume "$work/cp" >"$work/r2.jsonl" 2>"$work/r2.err" || rc=$?
[ "$rc" = 0 ] || fail "resume: exit $rc: $(cat "$work/r2.err")"
n1=$(wc -l <"$work/r1.jsonl")
n2=$(wc -l <"$work/r2.jsonl")
[ "$n1" -gt 0 ] && [ "$n2" -gt 0 ] || fail "resume: $n1 + $n2 records"
[ $((n1 + n2)) = 8000 ] || fail "resume: $n1 + $n2 records, expected 8000 in all"
[ "$(cat "$work/r1.jsonl" "$work/r2.jsonl" | jq -r .port | sort -nu | wc -l)" = 8000 ] ||
	fail "resume: a port was emitted twice or never"
# the XML of the first run is continued: one valid document holding every port
xmllint --noout --dtdvalid /usr/share/nmap/nmap.dtd "$work/res.xml" 2>"$work/xmlerr" ||
	fail "resume: XML not valid: $(head -3 "$work/xmlerr")"
total=$(( $(grep -o '<extraports state="[a-z]*" count="[0-9]*"' "$work/res.xml" | grep -o '[0-9]*' | paste -sd+ | bc) + \
	$(grep -c '<port protocol=' "$work/res.xml") ))
[ "$total" = 8000 ] || fail "resume: the XML holds $total ports, expected 8000"
[ "$(grep -c '<nmaprun ' "$work/res.xml")" = 1 ] || fail "resume: two documents in the XML"

# resume with -o json on stdout: stdout cannot be continued, so each run's
# stdout is one JSON document of its own, and together they hold every port once
run_interrupted j1.json "${slow[@]}" -o json --checkpoint "$work/cpj"
rc=0
"$pp" scan --resume "$work/cpj" >"$work/j2.json" 2>"$work/j2.err" || rc=$?
[ "$rc" = 0 ] || fail "json resume: exit $rc: $(cat "$work/j2.err")"
for f in j1 j2; do
	[ "$(jq -s 'length' "$work/$f.json" 2>&1)" = 1 ] ||
		fail "json resume: $f.json is not one JSON document: $(head -c 300 "$work/$f.json")"
done
[ "$(jq -r .interrupted "$work/j1.json") $(jq -r .interrupted "$work/j2.json")" = "true false" ] ||
	fail "json resume: \"interrupted\" is not true, then false"
n1=$(jq '[.hosts[].ports[]] | length' "$work/j1.json")
n2=$(jq '[.hosts[].ports[]] | length' "$work/j2.json")
[ "$n1" -gt 0 ] && [ "$n2" -gt 0 ] || fail "json resume: $n1 + $n2 ports"
ports=$(jq -r '.hosts[].ports[].port' "$work/j1.json" "$work/j2.json" | sort -n)
[ "$(wc -l <<<"$ports") $(uniq <<<"$ports" | wc -l) $(head -1 <<<"$ports") $(tail -1 <<<"$ports")" = \
	"8000 8000 1 8000" ] || fail "json resume: the two documents do not hold ports 1-8000 once each"

# the same with -o xml: each run's stdout is one nmap.dtd-valid document
run_interrupted x1.xml "${slow[@]}" -o xml --checkpoint "$work/cpx"
rc=0
"$pp" scan --resume "$work/cpx" >"$work/x2.xml" 2>"$work/x2.err" || rc=$?
[ "$rc" = 0 ] || fail "xml resume: exit $rc: $(cat "$work/x2.err")"
for f in x1 x2; do
	xmllint --noout --dtdvalid /usr/share/nmap/nmap.dtd "$work/$f.xml" 2>"$work/xmlerr" ||
		fail "xml resume: $f.xml not valid: $(head -3 "$work/xmlerr")"
	[ "$(grep -c '<nmaprun ' "$work/$f.xml")" = 1 ] || fail "xml resume: $f.xml is not one document"
done
ports=$(cat <(xml_ports "$work/x1.xml") <(xml_ports "$work/x2.xml") | sort -n)
[ "$(wc -l <<<"$ports") $(uniq <<<"$ports" | wc -l) $(head -1 <<<"$ports") $(tail -1 <<<"$ports")" = \
	"8000 8000 1 8000" ] || fail "xml resume: the two documents do not hold ports 1-8000 once each"

rc=0
out=$("$pp" scan --resume "$work/cp" -oX /dev/null 2>/dev/null) || rc=$?
[ "$rc" = 2 ] || fail "resume with options: exit $rc"
rc=0
out=$("$pp" scan --resume "$work/cp") || rc=$?
[ "$rc" = 0 ] && [ -z "$out" ] || fail "resume of a finished scan: exit $rc, output $out"

# --host-timeout: 2000 ports at 200 probes/s cannot be done in 0.5 s; the
# host is marked in every host format (the XML still DTD-valid), keeps the
# ports it decided, and the count left undecided makes up the rest
rc=0
"$pp" scan -Pn --max-rate 200 --host-timeout 0.5 -p 1-2000 127.0.0.1 -o json -oX "$work/to.xml" \
	-oG "$work/to.gnmap" -oN "$work/to.nmap" >"$work/to.json" 2>"$work/to.err" || rc=$?
[ "$rc" = 0 ] || fail "--host-timeout: exit $rc: $(cat "$work/to.err")"
xmllint --noout --dtdvalid /usr/share/nmap/nmap.dtd "$work/to.xml" 2>"$work/xmlerr" ||
	fail "--host-timeout: XML not valid: $(head -3 "$work/xmlerr")"
grep -q '^<host starttime="[0-9]*" endtime="[0-9]*" timedout="true"><status state="up" ' "$work/to.xml" ||
	fail "--host-timeout: no timedout=\"true\" in the XML: $(grep '<host' "$work/to.xml")"
jq -e '.hosts | length == 1 and .[0].timed_out == true and .[0].ports_undecided > 0 and
	.[0].ports_undecided + (.[0].ports | length) == 2000' "$work/to.json" >/dev/null ||
	fail "--host-timeout: JSON: $(jq -c '.hosts[] | del(.ports)' "$work/to.json")"
[ "$(xml_ports "$work/to.xml" | wc -l)" = "$(jq '.hosts[0].ports | length' "$work/to.json")" ] ||
	fail "--host-timeout: XML and JSON disagree on the ports decided"
grep -q "$(printf '^Host: 127.0.0.1 ()\tStatus: Timeout$')" "$work/to.gnmap" ||
	fail "--host-timeout: grepable: $(cat "$work/to.gnmap")"
grep -Eq '^Skipping host 127.0.0.1 due to host timeout: [0-9]+ of 2000 ports not decided$' "$work/to.nmap" ||
	fail "--host-timeout: text: $(cat "$work/to.nmap")"
# a host finished in time has no mark
"$pp" scan -Pn --host-timeout 60 -p 1-200 -o json 127.0.0.1 |
	jq -e '.hosts[0] | (has("timed_out") or has("ports_undecided")) | not' >/dev/null ||
	fail "--host-timeout: a host finished in time is marked"

exit $failed
