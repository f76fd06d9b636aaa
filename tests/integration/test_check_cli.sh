#!/usr/bin/env bash
# test_check_cli.sh: the command line of portprobe check, no root needed.
# Bad input gets exactly one line on stderr naming it, exit 2, and nothing on
# stdout; loopback checks give the documented exit codes and JSON.
set -u
pp=${PORTPROBE:?PORTPROBE must point at the binary}
listen=${PP_LISTEN:?PP_LISTEN must point at pp_listen}
failed=0
work=$(mktemp -d)
listener_pid=""
trap '[ -n "$listener_pid" ] && kill "$listener_pid" 2>/dev/null; rm -rf "$work"' EXIT

. "$(dirname "$0")/cli_lib.sh"

bad "portprobe: host '' is empty" check "" 80
bad "portprobe: port '0' is not in 1..65535" check localhost 0
bad "portprobe: port '65536' is not in 1..65535" check localhost 65536
bad "portprobe: port 'http' is not a port number (expected 1..65535)" check localhost http
bad "portprobe: --timeout '0' must be greater than 0" check -t 0 localhost 80
bad "portprobe: --timeout '-1' is not a number of seconds (expected e.g. 2 or 0.5)" check -t -1 localhost 80
bad "portprobe: --timeout 'nan' is not a number of seconds (expected e.g. 2 or 0.5)" check --timeout nan localhost 80
bad "portprobe: --attempts '0' is out of range (expected 1..1000)" check -a 0 localhost 80
bad "portprobe: --retry-delay '-1' is not a number of seconds (expected e.g. 2 or 0.5)" check -d -1 localhost 80
bad "portprobe: unknown option '--bogus' (see portprobe check --help)" check --bogus localhost 80
bad "portprobe: unknown option '-x' (see portprobe check --help)" check -x localhost 80
bad "portprobe: option -t needs a value (see portprobe check --help)" check localhost 80 -t
bad "portprobe: missing HOST and PORT (usage: portprobe check HOST PORT)" check
bad "portprobe: missing PORT (usage: portprobe check HOST PORT)" check localhost
bad "portprobe: unexpected argument 'extra' (usage: portprobe check HOST PORT)" check localhost 80 extra
bad "portprobe: --output 'xml' is not a format (expected text, json or nagios)" check -o xml localhost 80
bad "portprobe: -4 and -6 exclude each other" check -4 -6 localhost 80
bad "portprobe: host '::1' is an IPv6 address but -4 was given" check -4 ::1 80
bad "portprobe: host '127.0.0.1' is an IPv4 address but --source-address is IPv6" check --source-address ::1 127.0.0.1 80
bad "portprobe: --dns-server 'dns.example' is not an IP address" check --dns-server dns.example localhost 80
bad "portprobe: --source-address 'nope' is not an IP address" check --source-address nope localhost 80
bad "portprobe: --source-port '0' is not in 1..65535" check --source-port 0 localhost 80
bad "portprobe: --warning 'x' is not a number of seconds (expected e.g. 2 or 0.5)" check -o nagios -w x localhost 80
bad "portprobe: host 'a b' contains a character a host name cannot have" check "a b" 80
bad "portprobe: 'nosuch' is not a portprobe command (see portprobe --help)" nosuch
bad "portprobe: option --source-port needs a value (see portprobe check --help)" check localhost 80 --source-port
bad "portprobe: option --quiet takes no value (see portprobe check --help)" check --quiet=1 localhost 80
bad "portprobe: unknown option '--bogus' (see portprobe check --help)" check --bogus=3 localhost 80
bad "portprobe: --timeout '0.0001' is below the 1 ms resolution" check -t 0.0001 localhost 80
bad "portprobe: --dns-server 'fe80::1%lo' has a scope id, which c-ares cannot use" check --dns-server fe80::1%lo localhost 80

# help and version
out=$("$pp" check --help) || fail "check --help: exit $?"
grep -q '^Usage: portprobe check \[OPTIONS\] HOST PORT$' <<<"$out" || fail "check --help: no usage line"
out=$("$pp" --version) || fail "--version: exit $?"
[ "$out" = "portprobe 0.1.0" ] || fail "--version: $out"

# loopback: a listener of ours, and a port nothing listens on
. "$(dirname "$0")/../../scripts/loopback_listener.sh"
loopback_listener "$listen" "$work" || { echo "could not start a listener" >&2; exit 1; }
port=$LISTENER_PORT
listener_pid=$LISTENER_PID
closed=$((port + 10000))

rc=0
out=$("$pp" check -o json 127.0.0.1 "$port") || rc=$?
[ "$rc" = 0 ] || fail "open: exit $rc"
[ "$(jq -r '"\(.status) \(.connected) \(.state) \(.reason) \(.attempts) \(.port)"' <<<"$out")" = \
	"success true open syn-ack 1 $port" ] || fail "open: $out"
[ "$(jq -r 'has("error")' <<<"$out")" = false ] || fail "open: has an error key: $out"
rc=0
out=$("$pp" check -o json -a 2 -d 0.05 localhost "$closed") || rc=$?
[ "$rc" = 1 ] || fail "closed: exit $rc"
[ "$(jq -r '"\(.status) \(.error) \(.state) \(.reason) \(.attempts) \(.ip)"' <<<"$out")" = \
	"error Connection refused closed conn-refused 2 127.0.0.1" ] || fail "closed: $out"
[[ $(jq -r .timestamp <<<"$out") =~ ^20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]\.[0-9]{3}Z$ ]] ||
	fail "timestamp: $out"
# the self-connect trap: source port = destination port on loopback is never open
rc=0
out=$("$pp" check -o json --source-port "$closed" 127.0.0.1 "$closed") || rc=$?
[ "$rc" = 1 ] || fail "self-connect: exit $rc"
[ "$(jq -r '"\(.status) \(.state)"' <<<"$out")" = "error closed" ] || fail "self-connect: $out"
[ "$(jq -r .detail <<<"$out")" = "every connect reached itself (source = destination): nothing listens" ] ||
	fail "self-connect detail: $out"
# text: one line per result
out=$("$pp" check 127.0.0.1 "$port")
[[ $out =~ ^127\.0\.0\.1\ port\ $port:\ open\ \(syn-ack\)\ in\ [0-9]+\.[0-9]{3}\ ms,\ 1\ attempt$ ]] ||
	fail "text: $out"
# nagios: the check_tcp shape
rc=0
out=$("$pp" check -o nagios -w 5 -c 9 -H 127.0.0.1 -p "$port") || rc=$?
[ "$rc" = 0 ] || fail "nagios: exit $rc"
[[ $out =~ ^TCP\ OK\ -\ [0-9]+\.[0-9]{3}\ second\ response\ time\ on\ 127\.0\.0\.1\ port\ $port\|time=[0-9]+\.[0-9]{6}s\;5\.000000\;9\.000000\;0\.000000\;10\.000000$ ]] ||
	fail "nagios: $out"
exit $failed
