#!/usr/bin/env bash
# install-deps.sh build|test: installs the Debian packages portprobe needs,
# only those missing, through apt-get (with sudo when not root).
set -euo pipefail

build_pkgs=(cmake ninja-build gcc make pkg-config libc-ares-dev libssl-dev libyaml-dev
	libsqlite3-dev libmicrohttpd-dev libcurl4-openssl-dev)
test_pkgs=(iproute2 nftables dnsmasq-base nmap netcat-openbsd monitoring-plugins-basic jq
	clang-format procps bc libxml2-utils ndiff openssl gnutls-bin sslscan
	prometheus prometheus-blackbox-exporter wrk)

case "${1:-build}" in
build) want=("${build_pkgs[@]}") ;;
test) want=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
*)
	echo "usage: $0 build|test" >&2
	exit 2
	;;
esac

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null; then
	echo "portprobe: missing packages ${missing[*]}, and no apt-get to install them" >&2
	exit 3
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || {
		echo "portprobe: missing packages ${missing[*]}; run as root or install sudo" >&2
		exit 3
	}
	sudo=(sudo)
fi
echo "portprobe: installing ${missing[*]}" >&2
install() {
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends "${missing[@]}" >&2
}
install || { "${sudo[@]}" apt-get update -q >&2 && install; }
