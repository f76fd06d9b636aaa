#!/usr/bin/env bash
# bench_tls.sh: portprobe tls against nmap ssl-enum-ciphers / ssl-cert and
# sslscan in the same run, in the TLS lab's namespace (tests/lab/tls_lab.sh).
#
#  (a) full enumeration of openssl s_server -cipher 'ALL:@SECLEVEL=0' with TLS
#      1.0-1.3: portprobe tls  vs  nmap --script ssl-enum-ciphers  vs  sslscan;
#      TCP connections counted with nstat (TcpActiveOpens) in the namespace
#  (b) --cert-only of one port (s_server defaults with a chain)  vs  nmap ssl-cert
#  (c) --cert-only of 1,000 loopback ports (pp_tlsd, ECDSA P-256)  vs  nmap ssl-cert
#
# Every run is checked against the ground truth before it counts: in (a) the
# three tools' (protocol, suite) sets must be equal, in (b) and (c) every
# port's leaf fingerprint must be the server's. A wrong answer aborts.
# Runs alternate between the tools; medians of R runs, ratio peer / portprobe.
#
# Usage: bench/bench_tls.sh [BUILD_DIR]   (root; env R=5 runs, CASES=abc)
set -euo pipefail

build=$(realpath "${1:-build}")
R=${R:-5}
CASES=${CASES:-abc}
export PORTPROBE=$build/portprobe PP_STARTTLS=$build/pp_starttls
tlsd=$build/pp_tlsd
for bin in "$PORTPROBE" "$PP_STARTTLS" "$tlsd"; do
	[ -x "$bin" ] || { echo "bench: $bin missing; run make first" >&2; exit 2; }
done
LAB_TIMEOUT=1800
# shellcheck source=tests/lab/tls_lab.sh
. "$(dirname "$0")/../tests/lab/tls_lab.sh"
tls_lab_require sslscan nmap jq
tls_lab_up
ALL13="TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
ALL13+=":TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256"
p=$TLS_PKI
tls_lab_s_server ba 5443 -cert "$p/leaf.pem" -key "$p/leaf.key" -cert_chain "$p/chain.pem" \
	-cipher 'ALL:@SECLEVEL=0' -ciphersuites "$ALL13" -min_protocol TLSv1
tls_lab_s_server bb 5444 -cert "$p/leaf.pem" -key "$p/leaf.key" -cert_chain "$p/chain.pem"
tls__wait_started
w=$LAB_DIR

now_ns() { date +%s%N; }
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
ms() { awk -v n="$1" 'BEGIN {printf "%.0f", n / 1e6}'; }
range() { printf '%s..%s' "$(ms "$(sort -n "$1" | head -1)")" "$(ms "$(sort -n "$1" | tail -1)")"; }
opens() { in_tls nstat -az TcpActiveOpens | awk '/TcpActiveOpens/ {print $2}'; }
die() { echo "bench: WRONG RESULT: $*" >&2; exit 1; }
pp_pairs() { jq -r '.[0].ciphers[] | "\(.protocol) \(.iana)"' "$1" | sort -u; }
leaf_fp=$(openssl x509 -in "$p/leaf.pem" -noout -fingerprint -sha256 | cut -d= -f2)

echo "portprobe $("$PORTPROBE" --version | cut -d' ' -f2), $(nmap --version | head -1)," \
	"sslscan $(sslscan --version 2>&1 | grep -o '[0-9]\+\.[0-9.]\+' | head -1), $(nproc) CPUs, R=$R"
echo
echo "| case | portprobe | median (min..max) | peer | median (min..max) | ratio peer/portprobe | check |"
echo "|---|---|---|---|---|---|---|"

if [[ $CASES == *a* ]]; then
	: >"$w/a.pp" && : >"$w/a.nmap" && : >"$w/a.ss" && : >"$w/a.conns"
	for i in $(seq "$R"); do
		o0=$(opens)
		t0=$(now_ns)
		in_tls "$PORTPROBE" tls -o json 127.0.0.1:5443 >"$w/a.json" || true
		t1=$(now_ns)
		echo $(($(opens) - o0)) >>"$w/a.conns"
		echo $((t1 - t0)) >>"$w/a.pp"
		t0=$(now_ns)
		tls_oracle_nmap 5443 "$w/a" >/dev/null
		t1=$(now_ns)
		echo $((t1 - t0)) >>"$w/a.nmap"
		t0=$(now_ns)
		tls_oracle_sslscan 5443 "$w/a" >/dev/null
		t1=$(now_ns)
		echo $((t1 - t0)) >>"$w/a.ss"
		pp_pairs "$w/a.json" >"$w/a.pp.pairs"
		[ -s "$w/a.pp.pairs" ] || die "(a) portprobe found no suite"
		cmp -s "$w/a.pp.pairs" "$w/a.nmap.pairs" || die "(a) portprobe and nmap differ: $(diff "$w/a.pp.pairs" "$w/a.nmap.pairs" | head -5)"
		cmp -s "$w/a.pp.pairs" "$w/a.sslscan.pairs" || die "(a) portprobe and sslscan differ: $(diff "$w/a.pp.pairs" "$w/a.sslscan.pairs" | head -5)"
	done
	n=$(wc -l <"$w/a.pp.pairs")
	mp=$(median <"$w/a.pp")
	conns=$(median <"$w/a.conns")
	for peer in nmap ss; do
		mn=$(median <"$w/a.$peer")
		name=$([ $peer = nmap ] && echo "nmap --script ssl-enum-ciphers" || echo "sslscan")
		printf '| a | tls (%s pairs, %s connections) | %s ms (%s) | %s | %s ms (%s) | %s | %s/%s sets equal |\n' \
			"$n" "$conns" "$(ms "$mp")" "$(range "$w/a.pp")" "$name" "$(ms "$mn")" "$(range "$w/a.$peer")" \
			"$(awk -v a="$mn" -v b="$mp" 'BEGIN {printf "%.2f", a / b}')" "$R" "$R"
	done
fi

if [[ $CASES == *b* ]]; then
	: >"$w/b.pp" && : >"$w/b.nmap"
	for i in $(seq "$R"); do
		t0=$(now_ns)
		in_tls "$PORTPROBE" tls --cert-only -o json 127.0.0.1:5444 >"$w/b.json" || true
		t1=$(now_ns)
		echo $((t1 - t0)) >>"$w/b.pp"
		[ "$(jq -r '.[0].certificates[0].chain[0].sha256' "$w/b.json")" = "$leaf_fp" ] ||
			die "(b) portprobe's leaf fingerprint is not the server's"
		t0=$(now_ns)
		in_tls nmap -Pn -n -p 5444 --script +ssl-cert -oX "$w/b.nmap.xml" 127.0.0.1 >/dev/null
		t1=$(now_ns)
		echo $((t1 - t0)) >>"$w/b.nmap"
		grep -qi "$(echo "$leaf_fp" | tr -d : | tr 'A-F' 'a-f' | cut -c1-16)" "$w/b.nmap.xml" ||
			grep -q 'id="ssl-cert"' "$w/b.nmap.xml" || die "(b) nmap saw no certificate"
	done
	mp=$(median <"$w/b.pp")
	mn=$(median <"$w/b.nmap")
	printf '| b | tls --cert-only, 1 port | %s ms (%s) | nmap --script ssl-cert | %s ms (%s) | %s | %s/%s leaf fingerprints right |\n' \
		"$(ms "$mp")" "$(range "$w/b.pp")" "$(ms "$mn")" "$(range "$w/b.nmap")" \
		"$(awk -v a="$mn" -v b="$mp" 'BEGIN {printf "%.2f", a / b}')" "$R" "$R"
fi

if [[ $CASES == *c* ]]; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=bench \
		-days 30 -keyout "$w/c.key" -out "$w/c.pem" 2>/dev/null
	c_fp=$(openssl x509 -in "$w/c.pem" -noout -fingerprint -sha256 | cut -d= -f2)
	lab_bg target "$tlsd" --cert "$w/c.pem" --key "$w/c.key" --ports 20000-20999 \
		--ready-file "$w/c.ready"
	for _ in $(seq 100); do [ -f "$w/c.ready" ] && break; sleep 0.05; done
	[ -f "$w/c.ready" ] || { echo "bench: pp_tlsd did not start" >&2; exit 3; }
	mapfile -t targets < <(seq -f "127.0.0.1:%g" 20000 20999)
	: >"$w/c.pp" && : >"$w/c.nmap"
	for i in $(seq "$R"); do
		t0=$(now_ns)
		in_tls "$PORTPROBE" tls --cert-only -o json "${targets[@]}" >"$w/c.json" || true
		t1=$(now_ns)
		echo $((t1 - t0)) >>"$w/c.pp"
		good=$(jq --arg fp "$c_fp" '[.[] | select(.certificates[0].chain[0].sha256 == $fp)] | length' "$w/c.json")
		[ "$good" = 1000 ] || die "(c) $good of 1000 ports gave the server's certificate"
		if [ "$i" = 1 ] || [ "${NMAP_ALL:-0}" = 1 ]; then
			t0=$(now_ns)
			in_tls nmap -Pn -n -p 20000-20999 --script +ssl-cert -oX "$w/c.nmap.xml" 127.0.0.1 >/dev/null
			t1=$(now_ns)
			echo $((t1 - t0)) >>"$w/c.nmap"
			got=$(grep -c 'id="ssl-cert"' "$w/c.nmap.xml" || true)
			[ "$got" = 1000 ] || die "(c) nmap ssl-cert answered on $got of 1000 ports"
		fi
	done
	mp=$(median <"$w/c.pp")
	mn=$(median <"$w/c.nmap")
	printf '| c | tls --cert-only, 1,000 ports | %s ms (%s) | nmap --script ssl-cert (%s run) | %s ms | %s | %s/%s runs: 1000 leaf fingerprints right |\n' \
		"$(ms "$mp")" "$(range "$w/c.pp")" "$(wc -l <"$w/c.nmap")" "$(ms "$mn")" \
		"$(awk -v a="$mn" -v b="$mp" 'BEGIN {printf "%.2f", a / b}')" "$R" "$R"
fi
lab_finish
