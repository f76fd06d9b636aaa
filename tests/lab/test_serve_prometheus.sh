#!/usr/bin/env bash
# test_serve_prometheus.sh: a real Prometheus scrapes `portprobe serve` over
# the lab, and what Prometheus stored is exactly what the ports are.
#
# In the client namespace: `serve` (127.0.0.1:9115, no history database,
# every check at `interval: 1s`) and Prometheus 2 (127.0.0.1:9090,
# scrape_interval 1s, a private TSDB in LAB_DIR) with two jobs:
#   pp_metrics  serve's /metrics: the four scheduled checks below;
#   pp_probe    blackbox_exporter's multi-target pattern on /probe
#               (module tcp_connect): the open and the closed port, and
#               one target outside serve's probe_allowlist, which serve
#               must refuse with 403 (Prometheus: up 0, "403 Forbidden").
# The checks, all against the target namespace (LAB_T4):
#   open    port 80, pp_listen                       probe_success 1, up 1
#   closed  port 81, nothing listens (TCP reset)     0, "refused", down
#   dropped port 82, nftables `drop` (lab.sh)        0, "timeout" after 0.5 s, down
#   tls     port 8443, openssl s_server, TLS 1.3 only, leaf + intermediate of a
#           lab CA made here; serve's ca_file is the root: probe_success 1,
#           chain verified, TLS 1.3, the leaf's and the chain's NotAfter as
#           `openssl x509 -enddate` gives them, the leaf's identity labels.
# Everything is read back through Prometheus' HTTP API (/api/v1/query,
# /api/v1/targets) with curl and jq after bounded polling, never fixed sleeps.
#
# Exit 0 ok, 1 failure, 77 skipped (not root, or prometheus/curl/openssl
# missing). Bounded to 50 s by LAB_TIMEOUT; a run takes about 8 s
# (Prometheus starts in about 1 s; closed and dropped are down after 3 runs).
set -u
LAB_TIMEOUT=50
# shellcheck source=tests/lab/lab.sh
. "$(dirname "$0")/lab.sh"
lab_require_root
for tool in prometheus curl openssl; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "lab: skipped: '$tool' not installed" >&2
        exit 77
    fi
done
[ -x "${PORTPROBE:-}" ] || { echo "PORTPROBE is not set to the portprobe binary" >&2; exit 1; }
lab_up

SERVE=127.0.0.1:9115
PROM=127.0.0.1:9090
TLS_PORT=8443
OUTSIDE="$LAB_R4:80" # the router: inside the lab, outside the allowlist
w=$LAB_DIR
finished=0

# show_logs: at teardown, when the test failed or stopped early, what the servers said and
# serve's /metrics as it is now (LAB_DIR goes away with the lab).
# shellcheck disable=SC2317 # called through lab_at_exit
show_logs() {
    local f
    [ "$finished" -eq 1 ] && [ "$LAB__FAILED" -eq 0 ] && return 0
    for f in serve.log prometheus.log s_server.log; do
        [ -s "$w/$f" ] || continue
        echo "--- $f (last 20 lines)" >&2
        tail -n 20 "$w/$f" >&2
    done
    echo "--- serve's /metrics now" >&2
    in_client curl -s --max-time 1 "http://$SERVE/metrics" | grep -v '^#' >&2
}
lab_at_exit show_logs

# ------------------------------------------------------------ the lab CA and the TLS server
# root (trust anchor, 10 years) -> intermediate (200 days) -> leaf (400 days): the leaf
# outlives its issuer, so the leaf's expiry and the chain's earliest expiry differ.
pki() {
    local k
    for k in root inter leaf; do
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$w/$k.key" || return 1
    done
    cat >"$w/pki.cnf" <<EOF
[ req ]
distinguished_name = req_dn
prompt = no
[ req_dn ]
CN = unused
[ v3_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ v3_leaf ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = DNS:tls.lab.test, IP:$LAB_T4
EOF
    openssl req -x509 -new -config "$w/pki.cnf" -extensions v3_ca -key "$w/root.key" \
        -subj "/O=portprobe lab/CN=serve prom root CA" -days 3650 -set_serial 0x5001 -sha256 \
        -out "$w/root.pem" &&
        openssl req -new -config "$w/pki.cnf" -key "$w/inter.key" \
            -subj "/O=portprobe lab/CN=serve prom intermediate CA" -out "$w/inter.csr" &&
        openssl x509 -req -in "$w/inter.csr" -CA "$w/root.pem" -CAkey "$w/root.key" \
            -set_serial 0x5002 -days 200 -sha256 -extfile "$w/pki.cnf" -extensions v3_ca \
            -out "$w/inter.pem" &&
        openssl req -new -config "$w/pki.cnf" -key "$w/leaf.key" \
            -subj "/O=portprobe lab/CN=tls.lab.test" -out "$w/leaf.csr" &&
        openssl x509 -req -in "$w/leaf.csr" -CA "$w/inter.pem" -CAkey "$w/inter.key" \
            -set_serial 0x5003 -days 400 -sha256 -extfile "$w/pki.cnf" -extensions v3_leaf \
            -out "$w/leaf.pem"
}
pki >"$w/pki.log" 2>&1 || lab__die "making the lab CA failed: $(cat "$w/pki.log")"
# not_after PEM: the certificate's NotAfter in seconds since the epoch.
not_after() {
    date -u -d "$(openssl x509 -in "$1" -noout -enddate | sed 's/^notAfter=//')" +%s
}
leaf_expiry=$(not_after "$w/leaf.pem")
inter_expiry=$(not_after "$w/inter.pem")
[ "$inter_expiry" -lt "$leaf_expiry" ] || lab__die "the intermediate should expire first"
leaf_sha256=$(openssl x509 -in "$w/leaf.pem" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' |
    tr 'A-F' 'a-f')

# s_server answers one connection at a time, enough for one tls unit's handshakes; TLS 1.3
# only, so the version is not a negotiation outcome.
lab_bg target openssl s_server -accept "$LAB_T4:$TLS_PORT" -www -quiet -tls1_3 \
    -cert "$w/leaf.pem" -key "$w/leaf.key" -cert_chain "$w/inter.pem" \
    </dev/null >"$w/s_server.log" 2>&1
tls_pid=$LAB_BG_PID
# listens ROLE ADDR:PORT PID: true when ADDR:PORT listens in ROLE's namespace; exits 1 if PID died.
# shellcheck disable=SC2317 # called through lab__wait_for
listens() {
    lab__alive "$3" || lab__die "process $3 (for $2) exited"
    [[ $(ip netns exec "$(lab__ns "$1")" ss -Hltn 2>/dev/null) == *" $2 "* ]]
}
lab__wait_for "s_server on $LAB_T4:$TLS_PORT" 10 listens target "$LAB_T4:$TLS_PORT" "$tls_pid"

# ------------------------------------------------------------ serve
cat >"$w/serve.yaml" <<EOF
interval: 1s
checks:
  - name: open
    plugin: check_tcp_connection
    parameters: {host: "$LAB_T4", port: 80, timeout: 0.5}
  - name: closed
    plugin: check_tcp_connection
    parameters: {host: "$LAB_T4", port: 81, timeout: 0.5}
  - name: dropped
    plugin: check_tcp_connection
    parameters: {host: "$LAB_T4", port: 82, timeout: 0.5}
  - name: tls
    plugin: tls
    parameters:
      host: "$LAB_T4"
      port: $TLS_PORT
      ca_file: "$w/root.pem"
      warning_days: 20
      critical_days: 15
      timeout: 0.5
server:
  listen: "$SERVE"
  probe_allowlist:
    - 198.18.1.0/24
EOF
lab_bg client "$PORTPROBE" serve --config "$w/serve.yaml" --no-db -v \
    </dev/null >"$w/serve.log" 2>&1
serve_pid=$LAB_BG_PID
lab__wait_for "portprobe serve on $SERVE" 10 listens client "$SERVE" "$serve_pid"

# ------------------------------------------------------------ Prometheus
cat >"$w/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: pp_metrics
    static_configs:
      - targets: ["$SERVE"]
  - job_name: pp_probe
    metrics_path: /probe
    params:
      module: [tcp_connect]
    static_configs:
      - targets: ["$LAB_T4:80", "$LAB_T4:81", "$OUTSIDE"]
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: "$SERVE"
EOF
lab_bg client prometheus --config.file="$w/prometheus.yml" --storage.tsdb.path="$w/tsdb" \
    --web.listen-address="$PROM" --log.level=warn \
    </dev/null >"$w/prometheus.log" 2>&1
prom_pid=$LAB_BG_PID
# prom_ready: true when Prometheus answers /-/ready; exits 1 if it died.
# shellcheck disable=SC2317 # called through lab__wait_for
prom_ready() {
    lab__alive "$prom_pid" || lab__die "prometheus exited"
    in_client curl -sf -o /dev/null --max-time 1 "http://$PROM/-/ready"
}
lab__wait_for "prometheus ready on $PROM" 15 prom_ready

# ------------------------------------------------------------ reading Prometheus
# prom_query EXPR: the JSON answer of an instant query.
prom_query() {
    in_client curl -sf --max-time 2 -G --data-urlencode "query=$1" "http://$PROM/api/v1/query"
}
# prom_values EXPR: the sample values of EXPR, one line per series ordered by their labels;
# "" when there is none.
prom_values() {
    prom_query "$1" | jq -r '.data.result | sort_by(.metric | tostring) | .[].value[1]' 2>/dev/null
}
# prom_labels EXPR: each series' labels (without __name__) as {k="v",...}, sorted by name.
prom_labels() {
    prom_query "$1" | jq -r '.data.result[].metric | del(.__name__) | to_entries |
        sort_by(.key) | "{" + (map("\(.key)=\(.value | tojson)") | join(",")) + "}"' 2>/dev/null
}
# settled: true when Prometheus holds the decided state of all four units and a scrape of
# every /probe target.
settled() {
    [ "$(prom_values 'count(portprobe_check_up{job="pp_metrics"})')" = 4 ] &&
        [ "$(prom_values 'count(up{job="pp_probe"})')" = 3 ] &&
        [ "$(prom_values 'count(probe_success{job="pp_probe"})')" = 2 ] &&
        [ "$(prom_values 'count(probe_ssl_chain_verified{job="pp_metrics"})')" = 1 ]
}
# The closed and dropped units go down after 3 failed runs (alerts.down_after), at 1 s each.
start=$EPOCHSECONDS
until settled; do
    if ((EPOCHSECONDS - start > 20)); then
        lab_fail "Prometheus did not get every series within 20 s; asserting what it has"
        break
    fi
    sleep 0.2
done
echo "settled after $((EPOCHSECONDS - start)) s"

# ------------------------------------------------------------ job pp_metrics: /metrics
q() { prom_values "$1{job=\"pp_metrics\",check=\"$2\"}"; }
assert_eq "up of /metrics" 1 "$(prom_values 'up{job="pp_metrics"}')"
assert_eq "open: series labels" \
    "{check=\"open\",host=\"$LAB_T4\",instance=\"$SERVE\",job=\"pp_metrics\",port=\"80\",unit=\"open\"}" \
    "$(prom_labels 'probe_success{job="pp_metrics",check="open"}')"
assert_eq "open: probe_success" 1 "$(q probe_success open)"
assert_eq "closed: probe_success" 0 "$(q probe_success closed)"
assert_eq "dropped: probe_success" 0 "$(q probe_success dropped)"
assert_eq "tls: probe_success" 1 "$(q probe_success tls)"
assert_eq "open: no probe_failure_info" "" "$(q probe_failure_info open)"
assert_eq "tls: no probe_failure_info" "" "$(q probe_failure_info tls)"
assert_eq "closed: probe_failure_info" \
    "{check=\"closed\",host=\"$LAB_T4\",instance=\"$SERVE\",job=\"pp_metrics\",message=\"Connection refused\",port=\"81\",reason=\"refused\",unit=\"closed\"} 1" \
    "$(prom_labels 'probe_failure_info{job="pp_metrics",check="closed"}') $(q probe_failure_info closed)"
assert_eq "dropped: probe_failure_info" \
    "{check=\"dropped\",host=\"$LAB_T4\",instance=\"$SERVE\",job=\"pp_metrics\",message=\"Connection timeout\",port=\"82\",reason=\"timeout\",unit=\"dropped\"} 1" \
    "$(prom_labels 'probe_failure_info{job="pp_metrics",check="dropped"}') $(q probe_failure_info dropped)"
# the dropped port costs its whole 0.5 s timeout; the others answer at once
assert_eq "dropped: probe_duration_seconds in [0.5, 1.5)" true \
    "$(prom_query 'probe_duration_seconds{job="pp_metrics",check="dropped"}' |
        jq '.data.result | length == 1 and (.[0].value[1] | tonumber) >= 0.5 and (.[0].value[1] | tonumber) < 1.5')"
assert_eq "open, closed: probe_duration_seconds below the 0.5 s timeout" "true true" \
    "$(prom_query 'probe_duration_seconds{job="pp_metrics",check=~"open|closed"}' |
        jq -r '[.data.result[].value[1] | tonumber < 0.5] | map(tostring) | join(" ")')"

# blackbox's address fields, on every unit and both /probe answers: IPv4, and FNV-1a 32 of
# the address's 4 bytes
hash=2166136261
for byte in ${LAB_T4//./ }; do
    hash=$((((hash ^ byte) * 16777619) & 0xffffffff))
done
assert_eq "probe_ip_protocol" "4 4 4 4 4 4" \
    "$(prom_values 'probe_ip_protocol{job=~"pp_metrics|pp_probe"}' | paste -sd' ')"
assert_eq "probe_ip_addr_hash" "$hash $hash $hash $hash $hash $hash" \
    "$(prom_values 'probe_ip_addr_hash{job=~"pp_metrics|pp_probe"}' | paste -sd' ')"

# flap-damped state, and the counts behind it
assert_eq "open: portprobe_check_up" 1 "$(q portprobe_check_up open)"
assert_eq "closed: portprobe_check_up" 0 "$(q portprobe_check_up closed)"
assert_eq "dropped: portprobe_check_up" 0 "$(q portprobe_check_up dropped)"
assert_eq "tls: portprobe_check_up" 1 "$(q portprobe_check_up tls)"
for c in closed dropped; do
    assert_eq "$c: every result failed" 1 "$(q portprobe_check_loss_ratio "$c")"
    assert_eq "$c: at least down_after (3) results" true \
        "$(prom_query "portprobe_check_results_total{job=\"pp_metrics\",check=\"$c\"} >= 3" |
            jq '.data.result | length == 1')"
done
for c in open tls; do
    assert_eq "$c: no result failed" 0 "$(q portprobe_check_loss_ratio "$c")"
done

# the certificate
assert_eq "tls: probe_ssl_chain_verified" 1 "$(q probe_ssl_chain_verified tls)"
assert_eq "tls: probe_tls_version_info" 'version="TLS 1.3" 1' \
    "$(prom_query 'probe_tls_version_info{job="pp_metrics",check="tls"}' |
        jq -r '.data.result[] | "version=\"\(.metric.version)\" \(.value[1])"')"
assert_eq "tls: probe_ssl_leaf_cert_expiry_timestamp_seconds = the leaf's NotAfter" \
    "$leaf_expiry" "$(q probe_ssl_leaf_cert_expiry_timestamp_seconds tls)"
assert_eq "tls: probe_ssl_earliest_cert_expiry = the intermediate's NotAfter" \
    "$inter_expiry" "$(q probe_ssl_earliest_cert_expiry tls)"
assert_eq "tls: probe_ssl_last_chain_expiry_timestamp_seconds = the chain's earliest NotAfter" \
    "$inter_expiry" "$(q probe_ssl_last_chain_expiry_timestamp_seconds tls)"
assert_eq "tls: probe_ssl_last_chain_info" \
    "{check=\"tls\",fingerprint_sha256=\"$leaf_sha256\",host=\"$LAB_T4\",instance=\"$SERVE\",issuer=\"CN=serve prom intermediate CA,O=portprobe lab\",job=\"pp_metrics\",port=\"$TLS_PORT\",serialnumber=\"5003\",subject=\"CN=tls.lab.test,O=portprobe lab\",subjectalternative=\"tls.lab.test\",unit=\"tls\"} 1" \
    "$(prom_labels 'probe_ssl_last_chain_info{job="pp_metrics",check="tls"}') $(q probe_ssl_last_chain_info tls)"
assert_eq "connect units have no certificate series" "" \
    "$(prom_values 'probe_ssl_chain_verified{job="pp_metrics",check!="tls"}')"

# ------------------------------------------------------------ job pp_probe: /probe
p() { prom_values "$1{job=\"pp_probe\",instance=\"$2\"}"; }
assert_eq "/probe open: up" 1 "$(p up "$LAB_T4:80")"
assert_eq "/probe open: probe_success" 1 "$(p probe_success "$LAB_T4:80")"
assert_eq "/probe closed: up" 1 "$(p up "$LAB_T4:81")"
assert_eq "/probe closed: probe_success" 0 "$(p probe_success "$LAB_T4:81")"
assert_eq "/probe closed: probe_failure_info" \
    "{instance=\"$LAB_T4:81\",job=\"pp_probe\",message=\"Connection refused\",reason=\"refused\"} 1" \
    "$(prom_labels "probe_failure_info{job=\"pp_probe\",instance=\"$LAB_T4:81\"}") $(p probe_failure_info "$LAB_T4:81")"
# a /probe answer carries no check/unit labels (blackbox's form)
assert_eq "/probe open: series labels" "{instance=\"$LAB_T4:80\",job=\"pp_probe\"}" \
    "$(prom_labels "probe_success{job=\"pp_probe\",instance=\"$LAB_T4:80\"}")"
# outside the allowlist: refused with 403, so the scrape fails and no probe series exist
assert_eq "/probe outside the allowlist: up" 0 "$(p up "$OUTSIDE")"
assert_eq "/probe outside the allowlist: no probe_success" "" "$(p probe_success "$OUTSIDE")"
assert_eq "/probe outside the allowlist: Prometheus saw a 403" \
    "server returned HTTP status 403 Forbidden" \
    "$(in_client curl -sf --max-time 2 "http://$PROM/api/v1/targets?state=active" |
        jq -r --arg t "$OUTSIDE" '.data.activeTargets[] | select(.labels.instance == $t) | .lastError')"
assert_eq "serve counted the refused /probe requests" true \
    "$(prom_query 'portprobe_probe_refused_total{job="pp_metrics"} > 0' | jq '.data.result | length == 1')"

finished=1
lab_finish
