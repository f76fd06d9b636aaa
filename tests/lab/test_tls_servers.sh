#!/usr/bin/env bash
# test_tls_servers.sh: portprobe tls against every server of the TLS lab.
#
# S1-S5 (openssl s_server restricted, with a chain, ALL at SECLEVEL 0 with TLS
# 1.0-1.3, gnutls-serv with 3DES and RC4, -serverpref with RSA + ECDSA):
# the exact (protocol, suite) set equals tls_expected/ and what sslscan and
# nmap ssl-enum-ciphers report on the same server in this run; the order
# verdict equals nmap's; S5's server order is the configured one; the number
# of certificate chains and their verdicts are exact. S7-S12: expired,
# wrong name, self-signed, not yet valid, Ed25519, missing intermediate,
# each with its own verdict. Each STARTTLS protocol: the suites of S2 (and
# of nmap and sslscan, where they speak it, in this run) and a verified chain. Hostile peers (garbage, truncated, stall, reset, a 1 MB
# chain): a classified error, within the timeout. Also over ::1.
set -u
here=$(cd "$(dirname "$0")" && pwd)
LAB_TIMEOUT=150
# shellcheck source=tests/lab/tls_lab.sh
. "$here/tls_lab.sh"

pp=${PORTPROBE:?PORTPROBE must point at the binary}
tls_lab_require sslscan nmap jq
tls_lab_up
tls_lab_start all
ca=$TLS_PKI/ca.pem
out=$LAB_DIR/pp

# the oracles, in the background, one job per server (s_server serves one
# connection at a time)
oracle_pids=()
for id in s1 s2 s3 s4 s5; do
	(tls_oracle_sslscan "${TLS_LAB_PORT[$id]}" "$LAB_DIR/or-$id"
		tls_oracle_nmap "${TLS_LAB_PORT[$id]}" "$LAB_DIR/or-$id") &
	oracle_pids+=($!)
done
# STARTTLS: one nmap for the nine protocols it speaks (not sieve); sslscan
# for the seven it speaks (its 2.0.7 LDAP STARTTLS is broken, see
# test_tls_lab.sh; no nntp, no sieve)
declare -A sslscan_flag=([smtp]=--starttls-smtp [imap]=--starttls-imap [pop3]=--starttls-pop3
	[ftp]=--starttls-ftp [xmpp]=--starttls-xmpp [postgres]=--starttls-psql
	[mysql]=--starttls-mysql)
starttls_ports=""
for proto in "${TLS_LAB_STARTTLS[@]}"; do
	[ "$proto" = sieve ] || starttls_ports+="${starttls_ports:+,}${TLS_LAB_PORT[$proto]}"
done
tls_oracle_nmap "$starttls_ports" "$LAB_DIR/or-starttls" &
oracle_pids+=($!)
for proto in "${!sslscan_flag[@]}"; do
	tls_oracle_sslscan "${TLS_LAB_PORT[$proto]}" "$LAB_DIR/or-$proto" "${sslscan_flag[$proto]}" \
		--no-groups --no-heartbleed --no-renegotiation --no-fallback --no-compression &
	oracle_pids+=($!)
done

# probe ID [ARGS...]: portprobe tls -o json on server ID; sets J (the file)
probe() {
	local id=$1 rc=0
	shift
	J=$out-$id${PROBE_TAG:-}.json
	in_tls "$pp" tls -t 5 -o json --ca-file "$ca" "$@" "${TARGET:-127.0.0.1}:${TLS_LAB_PORT[$id]}" \
		>"$J" 2>"$out-$id.err" || rc=$?
	RC=$rc
	jq -e 'type == "array" and length == 1' "$J" >/dev/null ||
		lab_fail "$id: not one JSON report: $(head -c 300 "$J") $(cat "$out-$id.err")"
}
pairs() { jq -r '.[0].ciphers[] | "\(.protocol) \(.iana)"' "$1" | sort -u; }

# ---- S1-S5 against the expected sets (the oracles are compared below)
declare -A want_chains=([s1]=1 [s2]=1 [s3]=1 [s4]=1 [s5]=2)
for id in s1 s2 s3 s4 s5; do
	probe "$id"
	assert_eq "$id pairs = tls_expected" "$(cat "$TLS_LAB_EXPECTED/$id.pairs")" "$(pairs "$J")"
	assert_eq "$id order = tls_expected" "$(cat "$TLS_LAB_EXPECTED/$id.verdicts")" \
		"$(jq -r '.[0].server_order | to_entries[] | select(.value != null) | "\(.key) \(.value)"' "$J")"
	assert_json "$J" '.[0].certificates | length' "${want_chains[$id]}"
	assert_json "$J" '.[0].error' null
	assert_json "$J" '.[0].connections <= 150' true
done
probe s1
assert_json "$J" '[.[0].certificates[0].verdict, .[0].certificates[0].hostname_match] | tojson' \
	'["self-signed",true]'
assert_eq "s1 exit" 1 "$RC"
probe s2
assert_json "$J" '[.[0].certificates[0].verdict, .[0].certificates[0].sent, .[0].certificates[0].order_ok, .[0].certificates[0].root_included, .[0].certificates[0].verified_length] | tojson' \
	'["ok",2,true,false,3]'
assert_json "$J" '.[0].certificates[0].chain[0].ocsp_urls | tojson' '["http://ocsp.lab.test/"]'
assert_eq "s2 exit" 0 "$RC"
probe s5
assert_json "$J" '[.[0].certificates[] | .chain[0].key_type] | sort | tojson' '["EC","RSA"]'
assert_json "$J" '[.[0].certificates[] | .verdict] | tojson' '["ok","ok"]'
assert_eq "s5 server order" "$(cat "$TLS_LAB_EXPECTED/s5.sequence")" \
	"$(jq -r '.[0].server_order_list | to_entries[] | select(.value != null) | .key as $p | .value[] | "\($p) \(.)"' "$J" |
		while read -r p id; do echo "$p $(jq -r --arg id "$id" '.[0].ciphers[] | select(.id == $id) | .iana' "$J" | head -1)"; done)"
probe s4
assert_json "$J" '[.[0].ciphers[] | select(.enc | test("3DES|RC4"))] | length | tojson' 18

# ---- certificate verdicts
declare -A verdict=([s7]=expired [s9]=self-signed [s10]=not-yet-valid [s11]=ok [s12]=incomplete-chain)
for id in s7 s9 s10 s11 s12; do
	probe "$id"
	assert_json "$J" '.[0].certificates[0].verdict' "${verdict[$id]}"
	# the same s_server defaults as S2 (an Ed25519 key takes ECDSA suites instead)
	[ "$id" = s11 ] ||
		assert_eq "$id pairs = s2's" "$(cat "$TLS_LAB_EXPECTED/s2.pairs")" "$(pairs "$J")"
done
probe s8
assert_json "$J" '[.[0].certificates[0].verified, .[0].certificates[0].hostname_match, .[0].certificates[0].verdict] | tojson' \
	'[true,false,"name-mismatch"]'
probe s11 --cert-only
assert_json "$J" '[.[0].certificates[0].chain[0].key_type, (.[0].certificates[0].found_by | index("eddsa") != null)] | tojson' '["Ed25519",true]'

# ---- over IPv6
TARGET="[::1]" probe s2v6
assert_eq "s2 over ::1 pairs" "$(cat "$TLS_LAB_EXPECTED/s2.pairs")" "$(pairs "$J")"
assert_json "$J" '.[0].ip' '::1'

# ---- STARTTLS: every protocol by its port, the suites of S2, a verified chain
for proto in "${TLS_LAB_STARTTLS[@]}"; do
	probe "$proto"
	assert_json "$J" '.[0].starttls' "$proto"
	assert_eq "$proto pairs = s2's" "$(cat "$TLS_LAB_EXPECTED/s2.pairs")" "$(pairs "$J")"
	assert_json "$J" '[.[0].certificates[0].verdict, .[0].error] | tojson' '["ok",null]'
done
# a STARTTLS protocol the server does not speak: a classified failure
PROBE_TAG=-wrong probe smtp --starttls imap --cert-only
assert_json "$J" '.[0].error.class' "STARTTLS failed"

# ---- hostile peers: a classified error within the timeout, never a hang
declare -A hostile=([garbage]="Not a TLS server" [truncated]="Truncated TLS answer"
	[stall]="No TLS answer" [reset]="Connection reset in handshake" [bigcert]="")
for id in "${TLS_LAB_HOSTILE[@]}"; do
	t0=$EPOCHREALTIME
	J=$out-$id.json
	rc=0
	in_tls "$pp" tls -t 2 -o json "127.0.0.1:${TLS_LAB_PORT[$id]}" >"$J" 2>"$out-$id.err" || rc=$?
	us=$((${EPOCHREALTIME/./} - ${t0/./}))
	[ $us -lt 15000000 ] || lab_fail "$id: took $((us / 1000)) ms with -t 2"
	assert_eq "$id exit" 1 "$rc"
	jq -e . "$J" >/dev/null || lab_fail "$id: not JSON: $(head -c 300 "$J")"
	if [ -n "${hostile[$id]}" ]; then
		assert_json "$J" '.[0].error.class' "${hostile[$id]}"
	else
		# the 1 MB chain is read, then the handshake goes nowhere: no suite
		# is called accepted from a broken flight, no certificate invented
		assert_json "$J" '[.[0].error != null, (.[0].certificates | length)] | tojson' '[true,0]'
	fi
done

# ---- the oracles agree with portprobe on S1-S5
for p in "${oracle_pids[@]}"; do wait "$p"; done
for id in s1 s2 s3 s4 s5; do
	assert_eq "$id sslscan = portprobe" "$(cat "$LAB_DIR/or-$id.sslscan.pairs")" "$(pairs "$out-$id.json")"
	assert_eq "$id nmap = portprobe" "$(cat "$LAB_DIR/or-$id.nmap.pairs")" "$(pairs "$out-$id.json")"
	assert_eq "$id nmap order = portprobe" "$(cat "$LAB_DIR/or-$id.nmap.order")" \
		"$(jq -r '.[0].server_order | to_entries[] | select(.value != null) | "\(.key) \(.value)"' "$out-$id.json")"
done
for proto in "${TLS_LAB_STARTTLS[@]}"; do
	[ "$proto" = sieve ] ||
		assert_eq "$proto nmap = portprobe" "$(cat "$LAB_DIR/or-starttls.${TLS_LAB_PORT[$proto]}.nmap.pairs")" \
			"$(pairs "$out-$proto.json")"
	[ -z "${sslscan_flag[$proto]:-}" ] ||
		assert_eq "$proto sslscan = portprobe" "$(cat "$LAB_DIR/or-$proto.sslscan.pairs")" \
			"$(pairs "$out-$proto.json")"
done
lab_finish
