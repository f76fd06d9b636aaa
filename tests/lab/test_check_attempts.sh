#!/usr/bin/env bash
# test_check_attempts.sh: attempts, retry delay and per-attempt timeout, read
# from the attempts field and from timings with generous bounds; a port behind
# 30% random loss connects with --attempts 5; SIGINT and SIGTERM end a run
# with the JSON document closed.
set -u
. "$(dirname "$0")/lab.sh"
. "$(dirname "$0")/check_lib.sh"
lab_require_root
lab_up

between() { # NAME LOW HIGH VALUE
	assert_eq "$1: $3 in [$2, $4)" true \
		"$(echo "$3 >= $2 && $3 < $4" | bc -l | sed 's/^1$/true/;s/^0$/false/')"
}
now() { date +%s.%N; }

# three silent attempts of 0.5 s with two 0.4 s delays: 2.3 s of wall time,
# 1.5 s of attempts reported as response_time
t0=$(now)
check_case drop_attempts 1 -t 0.5 -a 3 -d 0.4 "$LAB_T4" 82
t1=$(now)
expect_fields drop_attempts error "Connection timeout" filtered no-response null
assert_json "$CASE_JSON" .attempts 3
between "drop: wall" 2.3 "$(echo "$t1 - $t0" | bc -l)" 3.5
between "drop: response_time" 1.5 "$(jq .response_time "$CASE_JSON")" 2.0

# refused attempts are quick; the delays are the wall time
t0=$(now)
check_case refused_attempts 1 -a 4 -d 0.3 "$LAB_T4" 81
t1=$(now)
assert_json "$CASE_JSON" .attempts 4
between "refused: wall" 0.9 "$(echo "$t1 - $t0" | bc -l)" 2.0
between "refused: response_time" 0 "$(jq .response_time "$CASE_JSON")" 0.3

# the first success stops the attempts
check_case open_attempts 0 -a 5 -d 1 "$LAB_T4" 80
assert_json "$CASE_JSON" .attempts 1
between "open: response_time" 0 "$(jq .response_time "$CASE_JSON")" 0.5

# 30% random loss on the target's port 8080: five attempts always get through
lab_loss 8080 30
for i in 1 2 3 4 5 6 7 8 9 10; do
	check_case "loss_$i" 0 -t 1.5 -a 5 -d 0.1 "$LAB_T4" 8080
	assert_json "$CASE_JSON" .connected true
done
lab_loss 8080 0

# SIGINT mid-run: the JSON array is closed and valid, exit 130
for sig in INT TERM; do
	lab_bg client "$PORTPROBE" check --all-addresses -o json -t 10 --dns-server "$LAB_DNS4" \
		open.lab 82 >"$LAB_DIR/sig.json" 2>"$LAB_DIR/sig.err"
	pid=$LAB_BG_PID
	sleep 0.5
	kill -"$sig" "$pid"
	rc=0
	wait "$pid" || rc=$?
	assert_eq "SIG$sig: exit code" "$([ $sig = INT ] && echo 130 || echo 143)" "$rc"
	assert_json "$LAB_DIR/sig.json" 'type' array
	assert_json "$LAB_DIR/sig.json" 'length' 0
done
lab_finish
