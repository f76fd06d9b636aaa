# loopback_listener.sh: sourced by the demo, the benchmark and the CLI test.
# loopback_listener PP_LISTEN WORKDIR: starts pp_listen on a free port of
# 127.0.0.1 and waits until it listens; sets LISTENER_PORT and LISTENER_PID,
# or returns 1. The caller stops it (kill "$LISTENER_PID").
loopback_listener() {
	local listen=$1 work=$2 p
	LISTENER_PORT=""
	LISTENER_PID=""
	for p in $(shuf -i 20000-29999 -n 20); do
		rm -f "$work/ready"
		"$listen" --ready-file "$work/ready" "127.0.0.1:$p" 2>/dev/null &
		LISTENER_PID=$!
		for _ in $(seq 100); do
			[ -f "$work/ready" ] && break
			kill -0 "$LISTENER_PID" 2>/dev/null || break
			sleep 0.02
		done
		if [ -f "$work/ready" ]; then
			LISTENER_PORT=$p
			return 0
		fi
		kill "$LISTENER_PID" 2>/dev/null
		wait "$LISTENER_PID" 2>/dev/null
		LISTENER_PID=""
	done
	return 1
}
