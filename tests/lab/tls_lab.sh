# shellcheck shell=bash
# tls_lab.sh: the TLS lab for `portprobe tls` tests, a bash library sourced by tests/lab tests.
#
# tls_lab_up makes one private network namespace (lo only, so every byte
# stays on its 127.0.0.1 and ::1) and a work directory, and generates a small
# PKI with the openssl CLI. tls_lab_start then starts the lab's servers in that
# namespace, each on 127.0.0.1:PORT, all at once, and waits until each one
# listens: openssl s_server in several configurations (S1-S3, S5, S7-S12, and
# S2 again on [::1]), gnutls-serv with 3DES and RC4 (S4; it cannot bind to
# loopback only, hence the namespace), and pp_starttls for ten STARTTLS
# protocols (S6) and five hostile peers. The oracles (sslscan, nmap
# ssl-enum-ciphers, openssl s_client) run in the same namespace; their suite
# lists are normalised to sorted "TLSv1.2 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
# lines (IANA names, mapped by code point).
#
# It reuses lab.sh: its traps, its guard process (LAB_TIMEOUT, teardown when
# the test is killed), lab_bg/lab_stop and the assertions. The namespace is
# registered as lab.sh's client and target namespace, so lab.sh's teardown
# kills every process in it (all started by this test: the name is private)
# and deletes it; LAB_DIR is removed with it.
#
# tests/lab/tls_expected/README.md lists the servers, their ports and what
# the oracles and s_client measured on each; test_tls_lab.sh asserts it.
#
# Typical test:
#   . "$(dirname "$0")/tls_lab.sh"
#   tls_lab_require sslscan nmap
#   tls_lab_up
#   tls_lab_start s2
#   in_tls "$PORTPROBE" tls 127.0.0.1:"${TLS_LAB_PORT[s2]}" ...
#   tls_oracle_nmap "${TLS_LAB_PORT[s2]}" "$LAB_DIR/s2"
#   assert_eq "s2 suites" "$(cat "$TLS_LAB_EXPECTED/s2.pairs")" "$(cat "$LAB_DIR/s2.nmap.pairs")"
#   lab_finish

# shellcheck source=tests/lab/lab.sh
. "$(dirname "${BASH_SOURCE[0]}")/lab.sh"

# ---------------------------------------------------------------- constants

TLS_LAB_SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Expected oracle results per server (see test_tls_lab.sh): s1.pairs ...
# shellcheck disable=SC2034 # for the tests that source this file
TLS_LAB_EXPECTED="$TLS_LAB_SRC_DIR/tls_expected"

# Every server's port on 127.0.0.1 inside the namespace. STARTTLS servers use
# their protocol's standard port, so nmap picks the right STARTTLS dialogue by
# port number alone (its sslcert.lua table; sieve is not in it).
declare -gA TLS_LAB_PORT=(
    [s1]=4431 [s2]=4432 [s2v6]=4432 [s3]=4433 [s4]=4434 [s5]=4435
    [s7]=4437 [s8]=4438 [s9]=4439 [s10]=4440 [s11]=4441 [s12]=4442
    [smtp]=25 [imap]=143 [pop3]=110 [ftp]=21 [ldap]=389 [xmpp]=5222
    [postgres]=5432 [mysql]=3306 [nntp]=119 [sieve]=4190
    [garbage]=4451 [truncated]=4452 [stall]=4453 [bigcert]=4454 [reset]=4455
)
# The listening address of each server: 127.0.0.1 unless listed here (s4: every address).
declare -gA TLS_LAB_ADDR=([s2v6]="[::1]" [s4]="*")
# What each server is (for messages and the docs).
# shellcheck disable=SC2034 # for the tests that source this file
declare -gA TLS_LAB_WHAT=(
    [s1]="openssl s_server, self-signed RSA 2048, one TLS 1.2 and one TLS 1.3 suite"
    [s2]="openssl s_server defaults, RSA 3072 leaf + ECDSA intermediate, client order"
    [s2v6]="S2 on [::1]"
    [s3]="openssl s_server ALL:COMPLEMENTOFALL:@SECLEVEL=0, all 5 TLS 1.3 suites, TLS 1.0-1.3"
    [s4]="gnutls-serv, TLS 1.0-1.2 with 3DES, RC4 and Camellia"
    [s5]="openssl s_server -serverpref, 6 TLS 1.2 + 2 TLS 1.3 suites, RSA + ECDSA P-384 certificates"
    [s7]="openssl s_server defaults, expired leaf (2020)"
    [s8]="openssl s_server defaults, leaf for wrong.lab.test"
    [s9]="openssl s_server defaults, self-signed leaf"
    [s10]="openssl s_server defaults, leaf not valid before 2099"
    [s11]="openssl s_server defaults, Ed25519 leaf"
    [s12]="openssl s_server defaults, leaf sent without its intermediate"
)
# The STARTTLS protocols (S6) and hostile modes served by pp_starttls.
TLS_LAB_STARTTLS=(smtp imap pop3 ftp ldap xmpp postgres mysql nntp sieve)
TLS_LAB_HOSTILE=(garbage truncated stall reset bigcert)
# All five TLS 1.3 suites (OpenSSL 3.0 enables only the first three by default).
TLS_LAB_ALL13="TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256"
TLS_LAB_ALL13+=":TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256"
# S5: server order, deliberately not by strength (weakest first, static RSA in the middle).
TLS_LAB_S5_CIPHER="ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES256-GCM-SHA384:AES128-GCM-SHA256"
TLS_LAB_S5_CIPHER+=":ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-SHA256"
TLS_LAB_S5_SUITES="TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256"
# S4: gnutls-serv priority (research/tls.md appendix).
TLS_LAB_S4_PRIORITY="NORMAL:-VERS-TLS1.3:+VERS-TLS1.0:+VERS-TLS1.1:+3DES-CBC:+ARCFOUR-128"
TLS_LAB_S4_PRIORITY+=":+CAMELLIA-128-CBC:+CAMELLIA-256-CBC:+RSA:+SHA1:+MD5"

# The address the client helpers and oracles below connect to: 127.0.0.1, or "[::1]" (s2v6).
TLS_LAB_HOST=127.0.0.1

# Set by tls_lab_up.
TLS_LAB_NS=""        # the namespace
TLS_PKI=""           # the PKI directory (see tls__pki for its files)
TLS_PP_STARTTLS=""   # the pp_starttls binary
declare -gA TLS_LAB_PID=() # server id -> PID, set by tls_lab_start

# ---------------------------------------------------------------- preconditions

# tls_lab_require [TOOL...]: exit 77 (ctest skip) unless root, namespaces work and the lab's tools
# (plus each TOOL, e.g. sslscan nmap) exist.
# shellcheck disable=SC2120 # tests pass TOOLs; tls_lab_up passes none
tls_lab_require() {
    local tool
    if [ "$(id -u)" -ne 0 ]; then
        echo "tls_lab: skipped: needs root (network namespaces)" >&2
        exit 77
    fi
    for tool in ip ss timeout openssl gnutls-serv "$@"; do
        if ! command -v "$tool" >/dev/null 2>&1; then
            echo "tls_lab: skipped: '$tool' not installed" >&2
            exit 77
        fi
    done
    if [ -z "${PP_STARTTLS:-}" ] && ! command -v gcc >/dev/null 2>&1; then
        echo "tls_lab: skipped: neither PP_STARTTLS nor gcc to build pp_starttls" >&2
        exit 77
    fi
    if ! ip netns list >/dev/null 2>&1 || ! unshare --net true >/dev/null 2>&1; then
        echo "tls_lab: skipped: network namespaces are not usable here" >&2
        exit 77
    fi
}

# ---------------------------------------------------------------- running commands

# in_tls CMD...: run CMD in the TLS lab namespace.
in_tls() { ip netns exec "$TLS_LAB_NS" "$@"; }

# tls__port_listens ADDR PORT PID: true when ADDR:PORT (127.0.0.1:4432, [::1]:4432; ADDR "*":
# any address) listens in the namespace; exits 1 if PID died first.
tls__port_listens() {
    local out
    lab__alive "$3" || lab__die "server on $1:$2 (pid $3) exited during startup"
    out=$(ip netns exec "$TLS_LAB_NS" ss -Hltn "sport = :$2" 2>/dev/null) || return 1
    [ "$1" = "*" ] && [ -n "$out" ] && return 0
    [[ $out == *" $1:$2 "* ]]
}

# ---------------------------------------------------------------- PKI

# tls__pki: generate the lab's PKI into TLS_PKI with the openssl CLI. Files (KEY.key, NAME.pem):
#   root       RSA 3072 root CA, "portprobe lab root CA"            (ca.pem is a copy: the trust anchor)
#   inter      ECDSA P-256 intermediate CA, signed by root          (chain.pem is a copy)
#   leaf       RSA 3072, CN=localhost, SAN DNS:localhost, DNS:tls.lab.test, IP:127.0.0.1,
#              AIA OCSP http://ocsp.lab.test/ + caIssuers, CRL http://crl.lab.test/inter.crl
#   leaf-ec    ECDSA P-384, same names and URLs (S5's second certificate)
#   leaf-ed    Ed25519, same names and URLs
#   expired    the leaf's key, same names, valid 2020-01-01..2020-12-31 (openssl ca -startdate/-enddate)
#   notyet     the leaf's key, same names, valid 2099-01-01..2099-12-31
#   wrong      the leaf's key, CN=wrong.lab.test, SAN DNS:wrong.lab.test only
#   self       RSA 2048, self-signed, CN=localhost with the leaf's SANs (S1 and S9)
#   fullchain.pem  leaf + inter (gnutls-serv reads the chain from the certificate file)
# All leaves except self are signed by inter. openssl 3.0's x509 has no -not_before, so the two
# backdated/postdated leaves go through `openssl ca` with a throwaway database (no faketime).
tls__pki() {
    local d=$TLS_PKI pids=() pid name
    mkdir -p "$d/ca.new" || lab__die "mkdir $d failed"
    : >"$d/ca.index"
    echo 2000 >"$d/ca.serial"
    cat >"$d/pki.cnf" <<EOF
[ req ]
distinguished_name = req_dn
prompt = no
[ req_dn ]
CN = unused

[ ca ]
default_ca = lab_ca
[ lab_ca ]
database = $d/ca.index
new_certs_dir = $d/ca.new
serial = $d/ca.serial
default_md = sha256
policy = lab_policy
unique_subject = no
email_in_dn = no
copy_extensions = none
[ lab_policy ]
organizationName = optional
commonName = supplied

[ v3_root ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ v3_inter ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
crlDistributionPoints = URI:http://crl.lab.test/root.crl

[ v3_leaf_rsa ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = DNS:localhost, DNS:tls.lab.test, IP:127.0.0.1
authorityInfoAccess = OCSP;URI:http://ocsp.lab.test/, caIssuers;URI:http://ca.lab.test/inter.der
crlDistributionPoints = URI:http://crl.lab.test/inter.crl

[ v3_leaf_sig ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = DNS:localhost, DNS:tls.lab.test, IP:127.0.0.1
authorityInfoAccess = OCSP;URI:http://ocsp.lab.test/, caIssuers;URI:http://ca.lab.test/inter.der
crlDistributionPoints = URI:http://crl.lab.test/inter.crl

[ v3_wrong ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = DNS:wrong.lab.test
authorityInfoAccess = OCSP;URI:http://ocsp.lab.test/, caIssuers;URI:http://ca.lab.test/inter.der
crlDistributionPoints = URI:http://crl.lab.test/inter.crl

[ v3_self ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
subjectAltName = DNS:localhost, DNS:tls.lab.test, IP:127.0.0.1
EOF
    # Keys in parallel: the two RSA 3072 keys take about a second each.
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$d/root.key" 2>/dev/null &
    pids+=($!)
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$d/leaf.key" 2>/dev/null &
    pids+=($!)
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$d/self.key" 2>/dev/null &
    pids+=($!)
    for pid in "${pids[@]}"; do
        wait "$pid" || lab__die "openssl genpkey failed"
    done
    # The expired, not-yet-valid and wrong-name certificates reuse the leaf's key (as a renewed
    # certificate often does): three RSA key generations fewer.
    for name in expired notyet wrong; do
        cp "$d/leaf.key" "$d/$name.key"
    done
    lab__run "inter key" openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$d/inter.key"
    lab__run "leaf-ec key" openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$d/leaf-ec.key"
    lab__run "leaf-ed key" openssl genpkey -algorithm ED25519 -out "$d/leaf-ed.key"

    lab__run "root CA" openssl req -x509 -new -config "$d/pki.cnf" -extensions v3_root -sha256 \
        -key "$d/root.key" -subj "/O=portprobe lab/CN=portprobe lab root CA" -days 3650 \
        -set_serial 0x1000 -out "$d/root.pem"
    lab__run "intermediate CSR" openssl req -new -config "$d/pki.cnf" -key "$d/inter.key" \
        -subj "/O=portprobe lab/CN=portprobe lab intermediate CA" -out "$d/inter.csr"
    lab__run "intermediate CA" openssl x509 -req -in "$d/inter.csr" -CA "$d/root.pem" \
        -CAkey "$d/root.key" -set_serial 0x1001 -days 3650 -sha256 \
        -extfile "$d/pki.cnf" -extensions v3_inter -out "$d/inter.pem"
    tls__leaf leaf "/O=portprobe lab/CN=localhost" v3_leaf_rsa 0x1002
    tls__leaf leaf-ec "/O=portprobe lab/CN=localhost" v3_leaf_sig 0x1003
    tls__leaf leaf-ed "/O=portprobe lab/CN=localhost" v3_leaf_sig 0x1004
    tls__leaf wrong "/O=portprobe lab/CN=wrong.lab.test" v3_wrong 0x1005
    tls__leaf expired "/O=portprobe lab/CN=localhost" v3_leaf_rsa "" 20200101000000Z 20201231235959Z
    tls__leaf notyet "/O=portprobe lab/CN=localhost" v3_leaf_rsa "" 20990101000000Z 20991231235959Z
    lab__run "self-signed leaf" openssl req -x509 -new -config "$d/pki.cnf" -extensions v3_self \
        -sha256 -key "$d/self.key" -subj "/O=portprobe lab/CN=localhost" -days 825 \
        -set_serial 0x1006 -out "$d/self.pem"
    cp "$d/root.pem" "$d/ca.pem"
    cp "$d/inter.pem" "$d/chain.pem"
    cat "$d/leaf.pem" "$d/inter.pem" >"$d/fullchain.pem"
}

# tls__leaf NAME SUBJECT EXTENSIONS SERIAL [START END]: NAME.pem for NAME.key, signed by inter;
# with START/END (YYYYMMDDHHMMSSZ) through `openssl ca` (backdated or postdated validity).
tls__leaf() {
    local d=$TLS_PKI name=$1 subj=$2 ext=$3 serial=$4
    lab__run "$name CSR" openssl req -new -config "$d/pki.cnf" -key "$d/$name.key" -subj "$subj" \
        -out "$d/$name.csr"
    if [ $# -ge 6 ]; then
        lab__run "$name certificate" openssl ca -batch -notext -config "$d/pki.cnf" \
            -cert "$d/inter.pem" -keyfile "$d/inter.key" -extensions "$ext" -extfile "$d/pki.cnf" \
            -startdate "$5" -enddate "$6" -in "$d/$name.csr" -out "$d/$name.pem"
    else
        lab__run "$name certificate" openssl x509 -req -in "$d/$name.csr" -CA "$d/inter.pem" \
            -CAkey "$d/inter.key" -set_serial "$serial" -days 825 -sha256 \
            -extfile "$d/pki.cnf" -extensions "$ext" -out "$d/$name.pem"
    fi
}

# ---------------------------------------------------------------- setup

# tls_lab_build_starttls: set TLS_PP_STARTTLS to $PP_STARTTLS if executable, else compile
# pp_starttls.c into LAB_DIR.
tls_lab_build_starttls() {
    local out
    if [ -n "${PP_STARTTLS:-}" ]; then
        [ -x "$PP_STARTTLS" ] || lab__die "PP_STARTTLS=$PP_STARTTLS is not executable"
        TLS_PP_STARTTLS=$PP_STARTTLS
        return 0
    fi
    out="$LAB_DIR/pp_starttls"
    lab__run "compiling pp_starttls" gcc -std=c17 -D_GNU_SOURCE -O2 -Wall -Wextra -Wformat=2 \
        -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla -Werror \
        -o "$out" "$TLS_LAB_SRC_DIR/pp_starttls.c" -lssl -lcrypto
    TLS_PP_STARTTLS=$out
}

# tls_lab_up: make the namespace (lo up), LAB_DIR, the PKI (TLS_PKI) and pp_starttls
# (TLS_PP_STARTTLS); load the suite-name tables; install lab.sh's teardown traps and guard.
# Starts no server.
tls_lab_up() {
    local pid
    [ "$LAB__UP" -eq 0 ] || lab__die "tls_lab_up: a lab is already up"
    # shellcheck disable=SC2119 # the lab's own tools only
    tls_lab_require
    LAB__MAIN_PID=$BASHPID
    TLS_LAB_NS="pptls${BASHPID}"
    if [ -e "/run/netns/$TLS_LAB_NS" ]; then
        lab__die "namespace $TLS_LAB_NS already exists (left over?); remove it with: ip netns del $TLS_LAB_NS"
    fi
    # lab.sh tears down LAB_NS_CLIENT/ROUTER/TARGET: the TLS lab has one namespace for both roles.
    LAB_NS_CLIENT=$TLS_LAB_NS
    LAB_NS_TARGET=$TLS_LAB_NS
    LAB_NS_ROUTER=""
    LAB_DIR=$(mktemp -d "${TMPDIR:-/tmp}/pptls.XXXXXX") || lab__die "mktemp failed"
    TLS_PKI="$LAB_DIR/pki"
    export LAB_NS_CLIENT LAB_NS_TARGET LAB_DIR TLS_LAB_NS TLS_PKI
    LAB__UP=1
    trap lab__on_exit EXIT
    trap 'lab__on_signal INT 130' INT
    trap 'lab__on_signal TERM 143' TERM
    trap 'lab__on_signal HUP 129' HUP
    trap 'lab__on_signal PIPE 141' PIPE
    lab__start_guard

    lab__run "creating namespace" ip netns add "$TLS_LAB_NS"
    lab__run "lo up in $TLS_LAB_NS" ip -n "$TLS_LAB_NS" link set lo up
    # pp_starttls compiles while the keys are generated
    tls_lab_build_starttls >"$LAB_DIR/pp_starttls.build" 2>&1 &
    pid=$!
    tls__pki
    wait "$pid" || lab__die "building pp_starttls failed: $(cat "$LAB_DIR/pp_starttls.build")"
    TLS_PP_STARTTLS=${PP_STARTTLS:-$LAB_DIR/pp_starttls}
    tls__names_load
}

# ---------------------------------------------------------------- servers

# tls__launched ID: record LAB_BG_PID as server ID; tls__wait_started (at once unless
# TLS_LAB_NOWAIT=1) waits until its port TLS_LAB_PORT[ID] listens.
TLS__PENDING=()
TLS_LAB_NOWAIT=0
tls__launched() {
    TLS_LAB_PID[$1]=$LAB_BG_PID
    TLS__PENDING+=("$1")
    [ "$TLS_LAB_NOWAIT" = 1 ] || tls__wait_started
}

# tls__wait_started: wait (10 s at most each) until every launched server listens.
tls__wait_started() {
    local id
    for id in "${TLS__PENDING[@]}"; do
        lab__wait_for "$id on port ${TLS_LAB_PORT[$id]} (see $LAB_DIR/$id.log)" 10 \
            tls__port_listens "${TLS_LAB_ADDR[$id]:-127.0.0.1}" "${TLS_LAB_PORT[$id]}" \
            "${TLS_LAB_PID[$id]}"
    done
    TLS__PENDING=()
}

# tls_lab_s_server ID PORT ARGS...: start `openssl s_server -www -quiet` on 127.0.0.1:PORT (or
# TLS_LAB_ADDR[ID]:PORT) with ARGS; record it as server ID (TLS_LAB_PID[ID]; output in
# LAB_DIR/ID.log) and wait until it listens.
tls_lab_s_server() {
    local id=$1 port=$2
    shift 2
    TLS_LAB_PORT[$id]=$port
    lab_bg target openssl s_server -accept "${TLS_LAB_ADDR[$id]:-127.0.0.1}:$port" -www -quiet "$@" \
        </dev/null >"$LAB_DIR/$id.log" 2>&1
    tls__launched "$id"
}

# tls_lab_pp_starttls ID PORT MODE [ARGS...]: start pp_starttls MODE on 127.0.0.1:PORT (or
# TLS_LAB_ADDR[ID]:PORT; ARGS: its options and CERT KEY); record it as server ID and wait until it
# listens.
tls_lab_pp_starttls() {
    local id=$1 port=$2 mode=$3
    shift 3
    TLS_LAB_PORT[$id]=$port
    lab_bg target "$TLS_PP_STARTTLS" --ready-file "$LAB_DIR/$id.ready" "$mode" \
        "${TLS_LAB_ADDR[$id]:-127.0.0.1}:$port" "$@" </dev/null >"$LAB_DIR/$id.log" 2>&1
    tls__launched "$id"
}

# tls_lab_start ID...: start the named lab servers (see TLS_LAB_PORT for the ids; "all" = every
# one) on 127.0.0.1:TLS_LAB_PORT[ID], all at once, then wait until each listens; sets
# TLS_LAB_PID[ID].
tls_lab_start() {
    local id p=$TLS_PKI nowait=$TLS_LAB_NOWAIT
    local leaf=(-cert "$p/leaf.pem" -key "$p/leaf.key" -cert_chain "$p/chain.pem")
    TLS_LAB_NOWAIT=1
    for id in "$@"; do
        if [ "$id" = all ]; then
            tls_lab_start s1 s2 s2v6 s3 s4 s5 s7 s8 s9 s10 s11 s12 \
                "${TLS_LAB_STARTTLS[@]}" "${TLS_LAB_HOSTILE[@]}"
            TLS_LAB_NOWAIT=1
            continue
        fi
        [ -n "${TLS_LAB_PORT[$id]:-}" ] || lab__die "tls_lab_start: unknown server '$id'"
        [ -z "${TLS_LAB_PID[$id]:-}" ] || lab__die "tls_lab_start: $id already started"
        case $id in
            s1) tls_lab_s_server s1 "${TLS_LAB_PORT[s1]}" -cert "$p/self.pem" -key "$p/self.key" \
                    -cipher ECDHE-RSA-AES128-GCM-SHA256 -ciphersuites TLS_AES_128_GCM_SHA256 ;;
            s2 | s2v6) tls_lab_s_server "$id" "${TLS_LAB_PORT[$id]}" "${leaf[@]}" ;;
            s3) tls_lab_s_server s3 "${TLS_LAB_PORT[s3]}" "${leaf[@]}" -min_protocol TLSv1 \
                    -cipher 'ALL:COMPLEMENTOFALL:@SECLEVEL=0' -ciphersuites "$TLS_LAB_ALL13" ;;
            s4)
                # gnutls-serv listens on every address of the namespace (0.0.0.0 and ::).
                lab_bg target gnutls-serv --quiet --http --port "${TLS_LAB_PORT[s4]}" \
                    --x509certfile "$p/fullchain.pem" --x509keyfile "$p/leaf.key" \
                    --priority "$TLS_LAB_S4_PRIORITY" </dev/null >"$LAB_DIR/s4.log" 2>&1
                tls__launched s4
                ;;
            s5) tls_lab_s_server s5 "${TLS_LAB_PORT[s5]}" "${leaf[@]}" -serverpref \
                    -dcert "$p/leaf-ec.pem" -dkey "$p/leaf-ec.key" -dcert_chain "$p/chain.pem" \
                    -min_protocol TLSv1.2 -cipher "$TLS_LAB_S5_CIPHER" \
                    -ciphersuites "$TLS_LAB_S5_SUITES" ;;
            s7) tls_lab_s_server s7 "${TLS_LAB_PORT[s7]}" -cert "$p/expired.pem" \
                    -key "$p/expired.key" -cert_chain "$p/chain.pem" ;;
            s8) tls_lab_s_server s8 "${TLS_LAB_PORT[s8]}" -cert "$p/wrong.pem" \
                    -key "$p/wrong.key" -cert_chain "$p/chain.pem" ;;
            s9) tls_lab_s_server s9 "${TLS_LAB_PORT[s9]}" -cert "$p/self.pem" -key "$p/self.key" ;;
            s10) tls_lab_s_server s10 "${TLS_LAB_PORT[s10]}" -cert "$p/notyet.pem" \
                    -key "$p/notyet.key" -cert_chain "$p/chain.pem" ;;
            s11) tls_lab_s_server s11 "${TLS_LAB_PORT[s11]}" -cert "$p/leaf-ed.pem" \
                    -key "$p/leaf-ed.key" -cert_chain "$p/chain.pem" ;;
            s12) tls_lab_s_server s12 "${TLS_LAB_PORT[s12]}" -cert "$p/leaf.pem" -key "$p/leaf.key" ;;
            garbage | truncated | stall | reset)
                tls_lab_pp_starttls "$id" "${TLS_LAB_PORT[$id]}" "$id" ;;
            bigcert)
                tls_lab_pp_starttls bigcert "${TLS_LAB_PORT[bigcert]}" bigcert \
                    "$p/leaf.pem" "$p/leaf.key" ;;
            *)
                tls_lab_pp_starttls "$id" "${TLS_LAB_PORT[$id]}" "$id" --chain "$p/chain.pem" \
                    "$p/leaf.pem" "$p/leaf.key" ;;
        esac
    done
    TLS_LAB_NOWAIT=$nowait
    [ "$TLS_LAB_NOWAIT" = 1 ] || tls__wait_started
}

# tls_lab_stop ID: stop server ID (SIGTERM by PID, SIGKILL after 2 s) and forget it.
tls_lab_stop() {
    [ -n "${TLS_LAB_PID[$1]:-}" ] || return 0
    lab_stop "${TLS_LAB_PID[$1]}"
    unset "TLS_LAB_PID[$1]"
}

# ---------------------------------------------------------------- cipher-suite names

# Suites OpenSSL 3.0 does not know (so `openssl ciphers -V -stdname` cannot name them) that a lab
# server or an oracle may report: code point and IANA name (IANA TLS Cipher Suites registry).
TLS__EXTRA_SUITES="
0x0004 TLS_RSA_WITH_RC4_128_MD5
0x0005 TLS_RSA_WITH_RC4_128_SHA
0x000A TLS_RSA_WITH_3DES_EDE_CBC_SHA
0x000D TLS_DH_DSS_WITH_3DES_EDE_CBC_SHA
0x0010 TLS_DH_RSA_WITH_3DES_EDE_CBC_SHA
0x0013 TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA
0x0016 TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA
0x0018 TLS_DH_anon_WITH_RC4_128_MD5
0x001B TLS_DH_anon_WITH_3DES_EDE_CBC_SHA
0x008A TLS_PSK_WITH_RC4_128_SHA
0x008B TLS_PSK_WITH_3DES_EDE_CBC_SHA
0x008E TLS_DHE_PSK_WITH_RC4_128_SHA
0x008F TLS_DHE_PSK_WITH_3DES_EDE_CBC_SHA
0x0092 TLS_RSA_PSK_WITH_RC4_128_SHA
0x0093 TLS_RSA_PSK_WITH_3DES_EDE_CBC_SHA
0xC002 TLS_ECDH_ECDSA_WITH_RC4_128_SHA
0xC003 TLS_ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA
0xC007 TLS_ECDHE_ECDSA_WITH_RC4_128_SHA
0xC008 TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA
0xC00C TLS_ECDH_RSA_WITH_RC4_128_SHA
0xC00D TLS_ECDH_RSA_WITH_3DES_EDE_CBC_SHA
0xC011 TLS_ECDHE_RSA_WITH_RC4_128_SHA
0xC012 TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA
0xC016 TLS_ECDH_anon_WITH_RC4_128_SHA
0xC017 TLS_ECDH_anon_WITH_3DES_EDE_CBC_SHA
0xC01A TLS_SRP_SHA_WITH_3DES_EDE_CBC_SHA
0xC01B TLS_SRP_SHA_RSA_WITH_3DES_EDE_CBC_SHA
0xC01C TLS_SRP_SHA_DSS_WITH_3DES_EDE_CBC_SHA
0xC033 TLS_ECDHE_PSK_WITH_RC4_128_SHA
0xC034 TLS_ECDHE_PSK_WITH_3DES_EDE_CBC_SHA
"
# nmap 7.93 names the TLS 1.3 suites by their draft names (tls.lua); the RFC 8446 names.
declare -gA TLS__NMAP_DRAFT=(
    [TLS_AKE_WITH_AES_128_GCM_SHA256]=TLS_AES_128_GCM_SHA256
    [TLS_AKE_WITH_AES_256_GCM_SHA384]=TLS_AES_256_GCM_SHA384
    [TLS_AKE_WITH_CHACHA20_POLY1305_SHA256]=TLS_CHACHA20_POLY1305_SHA256
    [TLS_AKE_WITH_AES_128_CCM_SHA256]=TLS_AES_128_CCM_SHA256
    [TLS_AKE_WITH_AES_128_CCM_8_SHA256]=TLS_AES_128_CCM_8_SHA256
)
# Filled by tls__names_load (which tls_lab_up calls, so that subshells inherit them).
declare -gA TLS__IANA_BY_ID=()    # "0xC02F" (see tls__id) -> IANA name
declare -gA TLS__IANA_BY_OSSL=()  # OpenSSL name -> IANA name
declare -gA TLS__IANA_KNOWN=()    # IANA name -> 1

# tls__id CODE: set REPLY to a code point as the tables' key: "0x" and upper-case hex digits.
# (REPLY, not output: the normalisers call it per line and must not fork.)
tls__id() {
    local hex=${1#0[xX]}
    REPLY="0x${hex^^}"
}

# tls__names_load: fill the name tables once, from `openssl ciphers -V -stdname` and the tables above.
tls__names_load() {
    local hi lo iana ossl _ id name
    [ "${#TLS__IANA_BY_ID[@]}" -eq 0 ] || return 0
    while read -r id _ iana _ ossl _; do
        hi=${id%%,*}
        lo=${id#*,0x}
        tls__id "${hi#0x}$lo"
        TLS__IANA_BY_ID[$REPLY]=$iana
        TLS__IANA_BY_OSSL[$ossl]=$iana
        TLS__IANA_KNOWN[$iana]=1
    done < <(openssl ciphers -V -stdname -ciphersuites "$TLS_LAB_ALL13" 'ALL:COMPLEMENTOFALL:@SECLEVEL=0')
    while read -r id name; do
        [ -n "$id" ] || continue
        tls__id "$id"
        TLS__IANA_BY_ID[$REPLY]=$name
        TLS__IANA_KNOWN[$name]=1
    done <<<"$TLS__EXTRA_SUITES"
    [ "${#TLS__IANA_BY_ID[@]}" -gt 100 ] || lab__die "openssl ciphers -V -stdname gave no table"
}

# tls__iana_id CODE: set REPLY to the IANA name of a code point, or "UNKNOWN:0xHHHH".
tls__iana_id() {
    tls__id "$1"
    REPLY=${TLS__IANA_BY_ID[$REPLY]:-UNKNOWN:$REPLY}
}

# tls__iana_nmap NAME: set REPLY to the IANA name for an nmap suite name (draft TLS 1.3 names
# mapped), or "UNKNOWN:NAME" when it is no IANA name the lab knows.
tls__iana_nmap() {
    REPLY=${TLS__NMAP_DRAFT[$1]:-$1}
    [ -n "${TLS__IANA_KNOWN[$REPLY]:-}" ] || REPLY="UNKNOWN:$1"
}

# tls_iana_by_id 0xHHHH: print the IANA name of a code point, or "UNKNOWN:0xHHHH".
tls_iana_by_id() {
    tls__names_load
    tls__iana_id "$1"
    printf '%s\n' "$REPLY"
}

# tls_iana_by_openssl NAME: print the IANA name of an OpenSSL suite name, or "UNKNOWN:NAME" (also
# for the names OpenSSL 3.0 no longer knows, such as DES-CBC3-SHA).
tls_iana_by_openssl() {
    tls__names_load
    printf '%s\n' "${TLS__IANA_BY_OSSL[$1]:-UNKNOWN:$1}"
}

# tls_iana_by_nmap NAME: print the IANA name for an nmap suite name (draft TLS 1.3 names mapped),
# or "UNKNOWN:NAME" when it is no IANA name the lab knows.
tls_iana_by_nmap() {
    tls__names_load
    tls__iana_nmap "$1"
    printf '%s\n' "$REPLY"
}

# ---------------------------------------------------------------- oracle output normalisers

# tls_seq_sslscan XML: the accepted suites in the order sslscan listed them, "PROTO IANA" per line.
# sslscan's cipher names are OpenSSL names (IANA-style names for the suites OpenSSL lacks); the
# id attribute is the code point, which is what is mapped.
tls_seq_sslscan() {
    local proto id
    tls__names_load
    sed -n 's/.*<cipher status="\(accepted\|preferred\)" sslversion="\([^"]*\)".* id="\(0x[0-9A-Fa-f]*\)".*/\2 \3/p' "$1" |
        while read -r proto id; do
            tls__iana_id "$id"
            printf '%s %s\n' "$proto" "$REPLY"
        done
}

# tls_pairs_sslscan XML: sorted, unique "PROTO IANA" lines of the suites sslscan found.
tls_pairs_sslscan() { tls_seq_sslscan "$1" | sort -u; }

# tls_certs_sslscan XML: the number of certificates sslscan reported.
tls_certs_sslscan() { grep -c '<certificate ' "$1"; }

# tls__nmap_script XML PORT SCRIPT: print "PORT<TAB>LINE" for every line of SCRIPT's output
# (ssl-enum-ciphers, ssl-cert) for PORT (all ports if PORT is empty). nmap may close one script
# on the line where the next one opens, and opens the first one on the <port> line.
tls__nmap_script() {
    awk -v want="$2" -v script="$3" '
        match($0, /<port protocol="tcp" portid="[0-9]+">/) {
            port = substr($0, RSTART + 29, RLENGTH - 31)
        }
        index($0, "<script id=\"" script "\"") { on = 1 }
        on && (want == "" || want == port) { print port "\t" $0 }
        on && /<\/script>/ && !index($0, "<script id=\"" script "\"") { on = 0 }
    ' "$1"
}

# tls_seq_nmap XML [PORT]: the suites in the order ssl-enum-ciphers listed them, "PROTO IANA" per
# line (for PORT only, if given).
tls_seq_nmap() {
    local proto name
    tls__names_load
    tls__nmap_script "$1" "${2:-}" ssl-enum-ciphers | awk -F '\t' '
        match($2, /<table key="(SSLv3|TLSv1\.[0-3])">/) { proto = substr($2, RSTART + 12, RLENGTH - 14) }
        match($2, /<elem key="name">[^<]*<\/elem>/) { print proto, substr($2, RSTART + 17, RLENGTH - 24) }
    ' | while read -r proto name; do
        tls__iana_nmap "$name"
        printf '%s %s\n' "$proto" "$REPLY"
    done
}

# tls_pairs_nmap XML [PORT]: sorted, unique "PROTO IANA" lines of the suites ssl-enum-ciphers found.
tls_pairs_nmap() { tls_seq_nmap "$@" | sort -u; }

# tls_order_nmap XML [PORT]: "PROTO VERDICT" per protocol (server, client or indeterminate), as
# ssl-enum-ciphers printed its "cipher preference".
tls_order_nmap() {
    tls__nmap_script "$1" "${2:-}" ssl-enum-ciphers | awk -F '\t' '
        match($2, /<table key="(SSLv3|TLSv1\.[0-3])">/) { proto = substr($2, RSTART + 12, RLENGTH - 14) }
        match($2, /<elem key="cipher preference">[^<]*<\/elem>/) {
            print proto, substr($2, RSTART + 30, RLENGTH - 37)
        }
    '
}

# tls_certs_nmap XML [PORT]: the number of certificates ssl-cert reported (it shows the leaf only).
tls_certs_nmap() {
    tls__nmap_script "$1" "${2:-}" ssl-cert | grep -c '<script id="ssl-cert"'
}

# ---------------------------------------------------------------- oracles

# tls_oracle_sslscan PORT OUT [ARGS...]: run `sslscan --no-colour --xml` (plus ARGS, e.g.
# --starttls-smtp) against TLS_LAB_HOST:PORT in the namespace, bounded to 60 s. Writes OUT.sslscan.xml,
# .txt (its stdout/stderr), .pairs (sorted PROTO IANA), .seq (as listed), .certs (count).
tls_oracle_sslscan() {
    local port=$1 out=$2 rc=0
    shift 2
    in_tls timeout 60 sslscan --no-colour --xml="$out.sslscan.xml" "$@" "$TLS_LAB_HOST:$port" \
        >"$out.sslscan.txt" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ] || [ ! -s "$out.sslscan.xml" ]; then
        lab_fail "sslscan on port $port failed (exit $rc); see $out.sslscan.txt"
        return 1
    fi
    tls_seq_sslscan "$out.sslscan.xml" >"$out.sslscan.seq"
    sort -u "$out.sslscan.seq" >"$out.sslscan.pairs"
    tls_certs_sslscan "$out.sslscan.xml" >"$out.sslscan.certs"
}

# tls_oracle_nmap PORTS OUT [ARGS...]: run `nmap -Pn -n -p PORTS --script +ssl-enum-ciphers,+ssl-cert
# -oX` (plus ARGS) against TLS_LAB_HOST in the namespace, bounded to 60 s. Writes OUT.nmap.xml, .txt
# and per port .pairs, .seq, .order (PROTO server|client|indeterminate), .certs: as OUT.nmap.pairs
# ... for a single port, as OUT.PORT.nmap.pairs ... for a comma-separated list. nmap picks the
# STARTTLS dialogue by port number (25, 21, 110, 119, 143, 389, 3306, 5222, 5432 ...).
tls_oracle_nmap() {
    local ports=$1 out=$2 rc=0 port base host=${TLS_LAB_HOST#[}
    local family=()
    shift 2
    host=${host%]}
    [[ $host == *:* ]] && family=(-6)
    in_tls timeout 60 nmap "${family[@]}" -Pn -n -p "$ports" --script +ssl-enum-ciphers,+ssl-cert \
        -oX "$out.nmap.xml" "$@" "$host" >"$out.nmap.txt" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ] || ! grep -q '<script id="ssl-enum-ciphers"' "$out.nmap.xml" 2>/dev/null; then
        lab_fail "nmap ssl-enum-ciphers on port(s) $ports failed (exit $rc); see $out.nmap.txt"
        return 1
    fi
    for port in ${ports//,/ }; do
        base=$out
        [ "$port" = "$ports" ] || base="$out.$port"
        tls_seq_nmap "$out.nmap.xml" "$port" >"$base.nmap.seq"
        sort -u "$base.nmap.seq" >"$base.nmap.pairs"
        tls_order_nmap "$out.nmap.xml" "$port" >"$base.nmap.order"
        tls_certs_nmap "$out.nmap.xml" "$port" >"$base.nmap.certs"
    done
}

# tls_chain_count PORT [S_CLIENT_ARGS...]: print how many certificates the server on
# TLS_LAB_HOST:PORT sends (openssl s_client -showcerts, bounded to 10 s); e.g. -sigalgs ECDSA+SHA384 selects S5's EC one.
tls_chain_count() {
    local port=$1
    shift
    in_tls timeout 10 openssl s_client -connect "$TLS_LAB_HOST:$port" -showcerts "$@" </dev/null 2>/dev/null |
        grep -c -- '-----BEGIN CERTIFICATE-----'
}

# tls_handshake PORT [S_CLIENT_ARGS...]: one openssl s_client handshake with TLS_LAB_HOST:PORT
# (bounded to 10 s);
# prints "PROTOCOL SUITE" (OpenSSL names) on success, "failed: <first error>" otherwise.
tls_handshake() {
    local port=$1 out proto suite
    shift
    out=$(in_tls timeout 10 openssl s_client -connect "$TLS_LAB_HOST:$port" -brief "$@" </dev/null 2>&1 |
        tr -d '\0')
    proto=$(sed -n 's/^Protocol version: *//p' <<<"$out" | head -n1)
    suite=$(sed -n 's/^Ciphersuite: *//p' <<<"$out" | head -n1)
    if [ -n "$proto" ] && [ -n "$suite" ]; then
        printf '%s %s\n' "$proto" "$suite"
    else
        printf 'failed: %s\n' "$(grep -m1 -E 'error|errno|refused|timeout' <<<"$out" || echo "no handshake")"
    fi
}

# tls_verify PORT [HOST [S_CLIENT_ARGS...]]: the chain and name verdict of openssl s_client on
# TLS_LAB_HOST:PORT against the lab's root (ca.pem), checking HOST (default localhost); prints its "Verify return code"
# text, e.g. "0 (ok)", "10 (certificate has expired)", "62 (hostname mismatch)".
tls_verify() {
    local port=$1 host=${2:-localhost}
    shift $(($# < 2 ? $# : 2))
    in_tls timeout 10 openssl s_client -connect "$TLS_LAB_HOST:$port" -CAfile "$TLS_PKI/ca.pem" \
        -verify_hostname "$host" "$@" </dev/null 2>/dev/null | tr -d '\0' |
        sed -n 's/^ *Verify return code: //p' | head -n1
}

# tls_plain_transcript PORT INPUT [SECONDS]: connect to 127.0.0.1:PORT in plaintext, send INPUT
# (printf %b escapes allowed) at once, and print everything the server sends until it closes or
# SECONDS (default 3) pass, with CRLF turned into LF. For the STARTTLS preambles.
tls_plain_transcript() {
    # shellcheck disable=SC2016 # $1.. expand in the inner bash
    in_tls timeout "${3:-3}" bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf "%b" "$2" >&3
        cat <&3' _ "$1" "$2" 2>/dev/null | tr -d '\r'
}

# A small, valid TLS 1.2 ClientHello record: no extensions; suites ECDHE-RSA-AES128-GCM-SHA256,
# AES128-GCM-SHA256 and the renegotiation SCSV.
TLS_LAB_HELLO='\x16\x03\x01\x00\x33\x01\x00\x00\x2f\x03\x03'
TLS_LAB_HELLO+='\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10'
TLS_LAB_HELLO+='\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x20'
TLS_LAB_HELLO+='\x00\x00\x06\xc0\x2f\x00\x9c\x00\xff\x01\x00\x00\x00'

# tls_raw_probe PORT SECONDS OUTFILE: send TLS_LAB_HELLO to 127.0.0.1:PORT, save what comes back in
# OUTFILE until the server closes or SECONDS pass; prints "BYTES END" where END is eof, timeout
# (still open) or reset.
tls_raw_probe() {
    local rc=0 err end
    # shellcheck disable=SC2016 # $1.. expand in the inner bash
    err=$(in_tls bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf "%b" "$2" >&3
        exec timeout "$3" cat <&3' _ "$1" "$TLS_LAB_HELLO" "$2" 2>&1 >"$3") || rc=$?
    case $rc in
        0) end=eof ;;
        124) end=timeout ;;
        *) if [[ $err == *"reset by peer"* ]]; then end=reset; else end="error($rc): $err"; fi ;;
    esac
    printf '%s %s\n' "$(stat -c %s "$3")" "$end"
}
