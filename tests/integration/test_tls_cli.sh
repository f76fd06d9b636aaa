#!/usr/bin/env bash
# test_tls_cli.sh: the command line of portprobe tls on loopback, no root.
# Bad input gets one stderr line naming it, exit 2, nothing on stdout; an
# openssl s_server restricted to two suites gives exactly those two (protocol,
# suite) pairs, one self-signed chain and the verdicts in text, JSON and
# Nagios, with the documented exit codes; a refused port is a classified
# failure; a server that accepts and never answers ends within the timeout;
# SIGINT closes the JSON document.
set -u
pp=${PORTPROBE:?PORTPROBE must point at the binary}
failed=0
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$work"' EXIT

. "$(dirname "$0")/cli_lib.sh"

for tool in openssl jq nc; do
	command -v $tool >/dev/null || { echo "SKIP: $tool missing"; exit 77; }
done

bad "portprobe: --output 'bogus' is not a format (expected text, json or nagios)" tls -o bogus a
bad "portprobe: --starttls 'foo' is not a protocol portprobe speaks (expected one of: smtp lmtp imap pop3 ftp ldap xmpp postgres mysql nntp sieve, none)" tls --starttls foo a
bad "portprobe: target 'a:70000': port '70000' is not in 1..65535" tls a:70000
bad "portprobe: target '[::1' has an unclosed or empty [address]" tls '[::1'
bad "portprobe: --max-conns '0' is out of range (expected 1..64)" tls --max-conns 0 a
bad "portprobe: --ca-file '$work/none': No such file or directory" tls --ca-file "$work/none" a
bad "portprobe: missing HOST[:PORT] (usage: portprobe tls [OPTIONS] HOST[:PORT]...)" tls
bad "portprobe: --sni and --no-sni exclude each other" tls --sni a --no-sni b
bad "portprobe: --critical 10 is more days than --warning 5" tls -w 5 -c 10 a
bad "portprobe: --timeout '0' must be greater than 0" tls -t 0 a

# start_server NAME ARGS...: openssl s_server on an ephemeral loopback port; sets PORT
start_server() {
	local name=$1 i
	shift
	openssl s_server -accept 127.0.0.1:0 -www "$@" >"$work/$name.out" 2>&1 &
	pids+=($!)
	for i in $(seq 100); do
		PORT=$(sed -n 's/^ACCEPT 127.0.0.1:\([0-9]*\)$/\1/p' "$work/$name.out")
		[ -n "$PORT" ] && return 0
		sleep 0.05
	done
	echo "FAIL: $name did not start: $(cat "$work/$name.out")" >&2
	exit 1
}

openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost \
	-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -days 30 \
	-keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null || { echo "FAIL: openssl req" >&2; exit 1; }

start_server s1 -cert "$work/cert.pem" -key "$work/key.pem" \
	-cipher ECDHE-RSA-AES128-GCM-SHA256 -ciphersuites TLS_AES_128_GCM_SHA256
s1=$PORT

# JSON: exact pairs, protocols, order verdicts, one self-signed chain
rc=0
"$pp" tls -t 3 -o json "127.0.0.1:$s1" >"$work/s1.json" 2>"$work/s1.err" || rc=$?
[ "$rc" = 1 ] || fail "s1 json: exit $rc, expected 1 (self-signed chain): $(cat "$work/s1.err")"
jq -e . "$work/s1.json" >/dev/null || fail "s1 json: not JSON"
got=$(jq -r '.[0].ciphers[] | "\(.protocol) \(.iana) \(.id)"' "$work/s1.json" | sort | paste -sd';')
want="TLSv1.2 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 0xC02F;TLSv1.3 TLS_AES_128_GCM_SHA256 0x1301"
[ "$got" = "$want" ] || fail "s1 suites: $got, expected $want"
got=$(jq -c '.[0].protocols' "$work/s1.json")
want='{"SSLv2":false,"SSLv3":false,"TLSv1.0":false,"TLSv1.1":false,"TLSv1.2":true,"TLSv1.3":true}'
[ "$got" = "$want" ] || fail "s1 protocols: $got"
got=$(jq -c '[.[0].server_order["TLSv1.2"], .[0].server_order["TLSv1.3"]]' "$work/s1.json")
[ "$got" = '["indeterminate","indeterminate"]' ] || fail "s1 order: $got (one suite each: indeterminate)"
got=$(jq -c '[(.[0].certificates | length), .[0].certificates[0].verdict, .[0].certificates[0].hostname_match, .[0].certificates[0].chain[0].subject, .[0].certificates[0].chain[0].key_bits, (.[0].certificates[0].chain[0].days_left >= 28)]' "$work/s1.json")
[ "$got" = '[1,"self-signed",true,"CN=localhost",2048,true]' ] || fail "s1 certificate: $got"
got=$(jq -r '.[0].certificates[0].chain[0].sha256' "$work/s1.json")
want=$(openssl x509 -in "$work/cert.pem" -noout -fingerprint -sha256 | cut -d= -f2)
[ "$got" = "$want" ] || fail "s1 fingerprint: $got, expected $want"
got=$(jq -r '.[0].error' "$work/s1.json")
[ "$got" = null ] || fail "s1 error: $got"

# trusting the certificate makes the chain valid: exit 0
rc=0
"$pp" tls -t 3 --cert-only --ca-file "$work/cert.pem" -o json "localhost:$s1" >"$work/s1ok.json" || rc=$?
[ "$rc" = 0 ] || fail "s1 with --ca-file: exit $rc, expected 0"
got=$(jq -c '[.[0].sni, .[0].certificates[0].verdict, .[0].certificates[0].verified, (.[0].ciphers | length), .[0].protocols["TLSv1.2"]]' "$work/s1ok.json")
[ "$got" = '["localhost","ok",true,0,null]' ] || fail "s1 --cert-only --ca-file: $got"

# text: the sections and the verdict line
"$pp" tls -t 3 "127.0.0.1:$s1" >"$work/s1.txt" 2>&1
for line in "  TLSv1.2        enabled" "  TLSv1.1        disabled" \
	"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" "    verdict        self-signed: self-signed certificate (depth 0)"; do
	grep -qF -- "$line" "$work/s1.txt" || fail "s1 text lacks: $line"
done
grep -q "Preferred\|preferred first" "$work/s1.txt" && fail "s1 text calls a suite preferred"

# nagios: CRITICAL for the self-signed chain; OK when trusted, WARNING within -w
rc=0
line=$("$pp" tls -t 3 --cert-only -o nagios "127.0.0.1:$s1") || rc=$?
[ "$rc" = 2 ] || fail "nagios self-signed: exit $rc, expected 2"
case $line in "TLS CRITICAL - "*) ;; *) fail "nagios self-signed: $line" ;; esac
rc=0
line=$("$pp" tls -t 3 --cert-only --ca-file "$work/cert.pem" -o nagios -w 60 -c 7 "localhost:$s1") || rc=$?
[ "$rc" = 1 ] || fail "nagios -w 60: exit $rc, expected 1 (30 days left, 29 after the first second)"
case $line in "TLS WARNING - "*"|days_left=29;60;7;;"* | "TLS WARNING - "*"|days_left=30;60;7;;"*) ;;
*) fail "nagios -w 60: $line" ;; esac
rc=0
line=$("$pp" tls -t 3 --cert-only --ca-file "$work/cert.pem" -o nagios -w 10 -c 5 "localhost:$s1") || rc=$?
[ "$rc" = 0 ] || fail "nagios -w 10: exit $rc, expected 0: $line"

# --delay spaces the connections to one target: 3 certificate probes, 2 gaps
t0=$(date +%s%N)
"$pp" tls -t 3 --cert-only --delay 0.3 -o json "127.0.0.1:$s1" >"$work/delay.json" || true
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -ge 600 ] || fail "--delay 0.3: 3 connections took $ms ms (expected >= 600)"
got=$(jq -c '[.[0].connections, (.[0].certificates | length)]' "$work/delay.json")
[ "$got" = '[3,1]' ] || fail "--delay 0.3: $got"

# a refused port: a classified failure, exit 1
start_server dummy -cert "$work/cert.pem" -key "$work/key.pem"
closed=$PORT
kill "${pids[-1]}" && wait "${pids[-1]}" 2>/dev/null
rc=0
"$pp" tls -t 3 -o json "127.0.0.1:$closed" >"$work/closed.json" || rc=$?
[ "$rc" = 1 ] || fail "refused: exit $rc, expected 1"
got=$(jq -c '[.[0].error.class, .[0].error.detail, .[0].protocols["TLSv1.2"]]' "$work/closed.json")
[ "$got" = '["Connection refused","TCP reset in answer to the SYN",null]' ] || fail "refused: $got"

# a server that accepts and never answers: done within the timeout, every
# protocol without a verdict
nc -lk 127.0.0.1 "$closed" >/dev/null 2>&1 &
pids+=($!)
sleep 0.3
t0=$(date +%s%N)
rc=0
"$pp" tls -t 1 --max-conns 16 -o json "127.0.0.1:$closed" >"$work/stall.json" || rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -lt 8000 ] || fail "stalling server: took $ms ms with -t 1"
got=$(jq -c '[.[0].protocols["TLSv1.2"], (.[0].certificates | length)]' "$work/stall.json")
[ "$got" = '[null,0]' ] || fail "stalling server: $got"

# SIGINT mid-run: the JSON array is closed, exit 130
"$pp" tls -t 5 -o json "127.0.0.1:$s1" "127.0.0.1:$closed" >"$work/int.json" 2>/dev/null &
tpid=$!
sleep 0.5
kill -INT $tpid
rc=0
wait $tpid || rc=$?
[ "$rc" = 130 ] || fail "SIGINT: exit $rc, expected 130"
jq -e 'type == "array"' "$work/int.json" >/dev/null || fail "SIGINT: output is not a closed JSON array: $(cat "$work/int.json")"

exit $failed
