#!/usr/bin/env bash
# demo.sh PORTPROBE PP_LISTEN: what `make run` shows. portprobe check on this
# machine with no setup: a listener of our own on loopback, a closed port, a
# taken source port, an unknown name; as root, also a throwaway network lab
# (namespaces, removed at the end) where every failure class happens for real.
set -u
pp=$(realpath "$1")
listen=$(realpath "$2")
work=$(mktemp -d)
listener_pid=""
cleanup() {
	[ -n "$listener_pid" ] && kill "$listener_pid" 2>/dev/null && wait "$listener_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

bold=$'\033[1m' plain=$'\033[0m'
if [ -n "${NO_COLOR:-}" ] || [ ! -t 1 ]; then bold="" plain=""; fi
# show CMD...: prints the portprobe command line as a user would type it, runs it, shows the exit code
show() {
	local shown=() seen=0 a
	for a in "$@"; do
		[ $seen = 1 ] && shown+=("$a")
		[ "$a" = "$pp" ] && seen=1
	done
	printf '\n%s$ portprobe %s%s\n' "$bold" "${shown[*]}" "$plain"
	"$@"
	printf '(exit %d)\n' $?
}

. "$(dirname "$0")/loopback_listener.sh"
loopback_listener "$listen" "$work" || { echo "demo: could not start a listener" >&2; exit 3; }
open_port=$LISTENER_PORT
listener_pid=$LISTENER_PID
closed_port=$((open_port + 10000))

echo "portprobe check: one TCP connection test that says why it failed."
echo "A listener of ours is on 127.0.0.1:$open_port; nothing listens on port $closed_port."
show "$pp" check 127.0.0.1 "$open_port"
show "$pp" check -o nagios -w 0.5 -c 1 -H localhost -p "$open_port"
show "$pp" check -o json -a 3 -d 0.2 localhost "$closed_port"
show "$pp" check -o json --source-port "$open_port" 127.0.0.1 "$closed_port"
show "$pp" check -t 2 no-such-host.invalid 80

if [ "$(id -u)" -ne 0 ] || ! ip netns list >/dev/null 2>&1; then
	echo
	echo "(run as root to see the network lab: filtered ports, ICMP rejects, routers, routes)"
	exit 0
fi
export PP_LISTEN=$listen
# shellcheck source=../tests/lab/lab.sh
. "$(dirname "$0")/../tests/lab/lab.sh"
lab_up >/dev/null
lab_at_exit cleanup # lab_up owns the EXIT trap now
echo
echo "A network lab in namespaces: client -- router -- target (198.18.1.2)."
show in_client "$pp" check -t 1 "$LAB_T4" 82
show in_client "$pp" check "$LAB_T4" 83
show in_client "$pp" check "$LAB_T4" 85
show in_client "$pp" check "$LAB_T6" 85
show in_client "$pp" check -o json "$LAB_RPROHIBIT4" 80
show in_client "$pp" check "$LAB_BLACKHOLE4" 80
show in_client "$pp" check "$LAB_PROHIBIT4" 80
show in_client "$pp" check --all-addresses --dns-server "$LAB_DNS4" open.lab 80
show in_client "$pp" check --dns-server "$LAB_DNS4" missing.lab 80
exit 0
