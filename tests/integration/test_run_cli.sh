#!/usr/bin/env bash
# test_run_cli.sh: `portprobe run` on loopback, no root: an invalid file is
# refused with FILE:LINE:COLUMN and exit 2 before anything runs; a file in
# the check_tcp_connection plugin's format plus an InfraSonar tcp_probe entry
# gives one result per unit with the plugin's JSON keys, the exact verdicts,
# a Nagios line summing them up, and the documented exit codes; -o prometheus
# gives blackbox_exporter's probe_* series for every unit (certificates
# described whether they verify or not) and -o infrasonar one tcp-probe
# result per check, with exact values against an openssl s_server.
set -u
pp=${PORTPROBE:?PORTPROBE must point at the binary}
listen=${PP_LISTEN:?PP_LISTEN must point at pp_listen}
failed=0
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$work"' EXIT

. "$(dirname "$0")/cli_lib.sh"

for tool in jq openssl; do
	command -v $tool >/dev/null || { echo "SKIP: $tool missing"; exit 77; }
done

same() {
	[ "$2" = "$3" ] || fail "$1
--- expected:
$2
--- actual:
$3"
}

# An open port (pp_listen accepts and closes) and a closed one next to it.
open=$((20000 + RANDOM % 20000))
closed=$((open + 1))
"$listen" --ready-file "$work/ready" "127.0.0.1:$open" &
pids+=($!)
for _ in $(seq 100); do [ -f "$work/ready" ] && break; sleep 0.05; done

cat >"$work/bad.yaml" <<YAML
- name: web
  plugin: check_tcp_connection
  parameters:
    host: 127.0.0.1
    port: 70000
YAML
bad "portprobe: $work/bad.yaml:5:11: checks[0].parameters.port: 70000 is not in 1..65535" run "$work/bad.yaml"
bad "portprobe: missing CONFIG (usage: portprobe run [OPTIONS] CONFIG)" run
bad "portprobe: -o 'xml': choose text, json, jsonl, nagios, prometheus or infrasonar" run -o xml "$work/bad.yaml"

cat >"$work/ok.yaml" <<YAML
- name: web
  plugin: check_tcp_connection
  parameters: {host: 127.0.0.1, port: $open, timeout: 2}
- name: box
  plugin: tcp_probe
  parameters: {address: 127.0.0.1, tcp_ports: [$open]}
YAML
"$pp" run -o jsonl "$work/ok.yaml" >"$work/ok.jsonl"
same "every unit OK exits 0" 0 $?
same "units and verdicts" "box/tcp:$open OK true open
web OK true open" "$(jq -r '"\(.name) \(.verdict) \(.connected) \(.state)"' "$work/ok.jsonl" | sort)"
same "the plugin's keys are there (error only on failure)" "attempts connected host port response_time status timestamp" \
	"$(jq -r 'select(.name == "web") | [keys[] | select(. == "status" or . == "host" or . == "port" or
	. == "connected" or . == "response_time" or . == "attempts" or . == "timestamp" or . == "error")] | join(" ")' "$work/ok.jsonl")"

cat >"$work/mixed.yaml" <<YAML
- name: web
  plugin: check_tcp_connection
  parameters: {host: 127.0.0.1, port: $open, timeout: 2}
- name: db
  plugin: check_tcp_connection
  parameters: {host: 127.0.0.1, port: $closed, timeout: 2, attempts: 2, retry_delay: 0.1}
YAML
"$pp" run -o json "$work/mixed.yaml" >"$work/mixed.json"
same "a failed unit exits 1" 1 $?
same "json: one array, failure reason as data" "db CRITICAL Connection refused 2 closed conn-refused
web OK null 1 open syn-ack" \
	"$(jq -r '.[] | "\(.name) \(.verdict) \(.failure_reason) \(.attempts) \(.state) \(.reason)"' "$work/mixed.json" | sort)"
line=$("$pp" run -o nagios "$work/mixed.yaml")
same "nagios exits 2 (CRITICAL)" 2 $?
same "nagios line" "PORTPROBE CRITICAL - 1 of 2 units not OK: db (Connection refused) | 'web'=" \
	"${line%%=*}="
same "text: one line per unit" "CRITICAL db
OK       web" "$("$pp" run "$work/mixed.yaml" | cut -d: -f1 | sort)"

# --- -o prometheus and -o infrasonar ------------------------------------------

# A TLS server with one suite per protocol and a 30-day self-signed
# certificate for localhost and 127.0.0.1.
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost \
	-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -days 30 \
	-keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null || { echo "FAIL: openssl req" >&2; exit 1; }
openssl s_server -accept 127.0.0.1:0 -www -cert "$work/cert.pem" -key "$work/key.pem" \
	-cipher ECDHE-RSA-AES128-GCM-SHA256 -ciphersuites TLS_AES_128_GCM_SHA256 >"$work/tls.out" 2>&1 &
pids+=($!)
tls=
for _ in $(seq 100); do
	tls=$(sed -n 's/^ACCEPT 127.0.0.1:\([0-9]*\)$/\1/p' "$work/tls.out")
	[ -n "$tls" ] && break
	sleep 0.05
done
[ -n "$tls" ] || { echo "FAIL: openssl s_server did not start: $(cat "$work/tls.out")" >&2; exit 1; }

# the certificate's facts, as each format prints them
fp() { openssl x509 -in "$work/cert.pem" -noout -fingerprint "-$1" | cut -d= -f2 | tr -d : | tr A-F a-f; }
epoch() { date -u -d "$(openssl x509 -in "$work/cert.pem" -noout "-$1" | cut -d= -f2)" +%s; }
# Go's shortest float form of a 10-digit epoch: 1797893522 -> 1.797893522e+09
gofloat() { printf '%.9e' "$1" | sed -E 's/0+e/e/; s/\.e/e/'; }
sha256=$(fp sha256)
serial=$(openssl x509 -in "$work/cert.pem" -noout -serial | cut -d= -f2 | tr A-F a-f | sed -E 's/^(00)+//')
not_before=$(epoch startdate)
not_after=$(epoch enddate)
expiry=$(gofloat "$not_after")

cat >"$work/prom.yaml" <<YAML
- name: web
  plugin: check_tcp_connection
  parameters: {host: 127.0.0.1, port: $open, timeout: 2}
  labels: {team: "ops \\"a\\""}
- name: db
  plugin: check_tcp_connection
  parameters: {host: 127.0.0.1, port: $closed, timeout: 2}
- name: site
  plugin: tls
  parameters: {host: localhost, port: $tls, ca_file: $work/cert.pem, timeout: 3}
- name: self
  plugin: tls
  parameters: {host: 127.0.0.1, port: $tls, timeout: 3}
YAML
rc=0
"$pp" run -o prometheus "$work/prom.yaml" >"$work/prom.txt" || rc=$?
same "prometheus: a failed unit exits 1" 1 $rc
if command -v promtool >/dev/null; then
	promtool check metrics <"$work/prom.txt" >/dev/null 2>&1 ||
		fail "promtool rejects the exposition: $(promtool check metrics <"$work/prom.txt" 2>&1)"
fi
# durations vary: X stands for their values
W='check="web",unit="web",host="127.0.0.1",port="'$open'",team="ops \"a\""'
D='check="db",unit="db",host="127.0.0.1",port="'$closed'"'
T='check="site",unit="site",host="localhost",port="'$tls'"'
S='check="self",unit="self",host="127.0.0.1",port="'$tls'"'
info='fingerprint_sha256="'$sha256'",issuer="CN=localhost",serialnumber="'$serial'",subject="CN=localhost",subjectalternative="localhost"'
same "prometheus: every unit, blackbox's names, exact values" "# HELP probe_dns_lookup_time_seconds Seconds spent resolving the target's name.
# TYPE probe_dns_lookup_time_seconds gauge
probe_dns_lookup_time_seconds{$W} X
probe_dns_lookup_time_seconds{$D} X
# HELP probe_duration_seconds Seconds the whole probe took.
# TYPE probe_duration_seconds gauge
probe_duration_seconds{$W} X
probe_duration_seconds{$D} X
probe_duration_seconds{$T} X
probe_duration_seconds{$S} X
# HELP probe_failure_info Why the probe failed: a stable reason slug and the human message (failed probes only).
# TYPE probe_failure_info gauge
probe_failure_info{$D,message=\"Connection refused\",reason=\"refused\"} 1
probe_failure_info{$S,message=\"self-signed certificate\",reason=\"self_signed\"} 1
# HELP probe_ip_addr_hash FNV-1a 32-bit hash of the probed IP address, to notice it change.
# TYPE probe_ip_addr_hash gauge
probe_ip_addr_hash{$W} 3.668918509e+09
probe_ip_addr_hash{$D} 3.668918509e+09
probe_ip_addr_hash{$T} 3.668918509e+09
probe_ip_addr_hash{$S} 3.668918509e+09
# HELP probe_ip_protocol IP version of the probed address: 4 or 6, 0 when unresolved.
# TYPE probe_ip_protocol gauge
probe_ip_protocol{$W} 4
probe_ip_protocol{$D} 4
probe_ip_protocol{$T} 4
probe_ip_protocol{$S} 4
# HELP probe_ssl_chain_verified 1 when the certificate chain verified and names the host, else 0.
# TYPE probe_ssl_chain_verified gauge
probe_ssl_chain_verified{$T} 1
probe_ssl_chain_verified{$S} 0
# HELP probe_ssl_earliest_cert_expiry Earliest NotAfter of the certificates the server presented, in Unix seconds.
# TYPE probe_ssl_earliest_cert_expiry gauge
probe_ssl_earliest_cert_expiry{$T} $expiry
probe_ssl_earliest_cert_expiry{$S} $expiry
# HELP probe_ssl_last_chain_expiry_timestamp_seconds Earliest NotAfter of the verified chain, in Unix seconds (only when it verified).
# TYPE probe_ssl_last_chain_expiry_timestamp_seconds gauge
probe_ssl_last_chain_expiry_timestamp_seconds{$T} $expiry
# HELP probe_ssl_last_chain_info The leaf certificate's identity.
# TYPE probe_ssl_last_chain_info gauge
probe_ssl_last_chain_info{$T,$info} 1
probe_ssl_last_chain_info{$S,$info} 1
# HELP probe_ssl_leaf_cert_expiry_timestamp_seconds NotAfter of the leaf certificate, in Unix seconds.
# TYPE probe_ssl_leaf_cert_expiry_timestamp_seconds gauge
probe_ssl_leaf_cert_expiry_timestamp_seconds{$T} $expiry
probe_ssl_leaf_cert_expiry_timestamp_seconds{$S} $expiry
# HELP probe_ssl_verify_error_info Why the certificate chain did not verify.
# TYPE probe_ssl_verify_error_info gauge
probe_ssl_verify_error_info{$S,error=\"self_signed\"} 1
# HELP probe_success 1 when the probe succeeded, else 0.
# TYPE probe_success gauge
probe_success{$W} 1
probe_success{$D} 0
probe_success{$T} 1
probe_success{$S} 0
# HELP probe_tls_version_info The TLS version negotiated.
# TYPE probe_tls_version_info gauge
probe_tls_version_info{$T,version=\"TLS 1.3\"} 1
probe_tls_version_info{$S,version=\"TLS 1.3\"} 1" \
	"$(sed -E 's/^(probe_(duration|dns_lookup_time)_seconds\{.*\}) [0-9.e+-]+$/\1 X/' "$work/prom.txt")"

cat >"$work/is.yaml" <<YAML
- name: box
  plugin: tcp_probe
  parameters: {address: 127.0.0.1, tcp_ports: [$closed, $open], certificate_ports: [$tls], ca_file: $work/cert.pem, timeout: 3}
- name: web
  plugin: check_tcp_connection
  parameters: {host: 127.0.0.1, port: $open, timeout: 2}
YAML
rc=0
"$pp" run -o infrasonar "$work/is.yaml" >"$work/is.jsonl" || rc=$?
same "infrasonar: a failed unit exits 1" 1 $rc
same "infrasonar: one document per check and line" "box
web" "$(jq -r .check "$work/is.jsonl" | sort)"
same "infrasonar: expiresIn is notAfter minus the run's time" true \
	"$(jq -r 'select(.check == "box") | .result.sslCert[0] as $c |
	($c.expiresIn - ($c.validNotAfter - .framework.timestamp)) | (. >= -2 and . <= 2)' "$work/is.jsonl")"
# durations, times and response times vary: their types stand for them
norm='select(.check == $c) | .framework |= map_values(type)
	| .result.port |= map(.responseTime |= type) | .result.sslCert |= map(.expiresIn |= type)'
same "infrasonar: box, tcp-probe's items with real verdicts, by port" \
	'{"check":"box","result":{"port":[{"name":"tcp:'$open'","state":"open","reason":"syn-ack","reasonTTL":0,"responseTime":"number","error":null},{"name":"tcp:'$closed'","state":"closed","reason":"conn-refused","reasonTTL":0,"responseTime":"null","error":"Connection refused"}],"sslCert":[{"name":"127.0.0.1:'$tls'","requestedHost":"127.0.0.1","subjectCN":"localhost","hostMatch":true,"subject":"commonName=localhost","issuer":"commonName=localhost","validNotBefore":'$not_before',"validNotAfter":'$not_after',"isValid":true,"expiresIn":"number","pubkeyType":"rsa","pubkeyBits":"2048","md5":"'$(fp md5)'","sha1":"'$(fp sha1)'","sha256":"'$sha256'","verifyError":null}],"sslEnumCiphers":[{"name":"127.0.0.1:'$tls'-TLSv1.2","sslCert":"127.0.0.1:'$tls'","protocol":"TLSv1.2","ciphers":"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 - A","warnings":"","leastStrength":"A"},{"name":"127.0.0.1:'$tls'-TLSv1.3","sslCert":"127.0.0.1:'$tls'","protocol":"TLSv1.3","ciphers":"TLS_AES_128_GCM_SHA256 - A","warnings":"","leastStrength":"A"}]},"error":null,"framework":{"duration":"number","timestamp":"number"}}' \
	"$(jq -c --arg c box "$norm" "$work/is.jsonl")"
same "infrasonar: a check_tcp_connection check is one port item" \
	'{"check":"web","result":{"port":[{"name":"tcp:'$open'","state":"open","reason":"syn-ack","reasonTTL":0,"responseTime":"number","error":null}],"sslCert":[],"sslEnumCiphers":[]},"error":null,"framework":{"duration":"number","timestamp":"number"}}' \
	"$(jq -c --arg c web "$norm" "$work/is.jsonl")"

# A unit that cannot start (its CA file is gone) is reported UNKNOWN with the
# reason, and the other units run (run used to stop at the first such unit).
cat >"$work/noca.yaml" <<YAML
- name: web
  plugin: check_tcp_connection
  parameters: {host: 127.0.0.1, port: $open, timeout: 2}
- name: cert
  plugin: tls
  parameters: {host: 127.0.0.1, port: $closed, ca_file: $work/no-such-ca.pem}
YAML
rc=0
"$pp" run "$work/noca.yaml" >"$work/noca.txt" 2>"$work/noca.err" || rc=$?
same "a unit that cannot start: exit code" 1 $rc
same "a unit that cannot start: stderr" "" "$(cat "$work/noca.err")"
same "a unit that cannot start: the lines" \
	"OK       web: 127.0.0.1 port $open: open (syn-ack) in T, 1 attempt
UNKNOWN  cert: 127.0.0.1 port $closed: Connection failed: cannot start: cannot read the CA file $work/no-such-ca.pem: No such file or directory; 1 attempt, T" \
	"$(sed -E 's/[0-9]+\.[0-9]+ m?s/T/' "$work/noca.txt" | sort)"
rc=0
"$pp" run -o nagios "$work/noca.yaml" >"$work/noca.nagios" || rc=$?
same "a unit that cannot start: nagios exit" 3 $rc
same "a unit that cannot start: nagios reason" 1 "$(grep -c 'cert (Cannot start)' "$work/noca.nagios")"

exit $failed
