# check_lib.sh: helpers the check lab tests share (sourced after lab.sh).

# check_case NAME EXPECTED_EXIT ARGS...: runs portprobe check -o json ARGS in the
# client namespace; leaves the JSON in $LAB_DIR/NAME.json and asserts the exit code.
check_case() {
	local name=$1 want=$2 rc
	shift 2
	rc=0
	in_client "$PORTPROBE" check -o json "$@" >"$LAB_DIR/$name.json" 2>"$LAB_DIR/$name.err" || rc=$?
	assert_eq "$name: exit code" "$want" "$rc"
	CASE_JSON=$LAB_DIR/$name.json
}

# expect_fields NAME STATUS ERROR STATE REASON REASON_IP: exact values of the
# last check_case ("null" for an absent key).
expect_fields() {
	local name=$1
	assert_json "$CASE_JSON" .status "$2" || true
	assert_json "$CASE_JSON" '.error // "null"' "$3" || true
	assert_json "$CASE_JSON" '.state // "null"' "$4" || true
	assert_json "$CASE_JSON" '.reason // "null"' "$5" || true
	assert_json "$CASE_JSON" '.reason_ip // "null"' "$6" || true
	assert_json "$CASE_JSON" '.connected' "$([ "$2" = success ] && echo true || echo false)" || true
	if [ -s "$LAB_DIR/$name.err" ]; then
		lab_fail "$name: unexpected stderr: $(cat "$LAB_DIR/$name.err")"
	fi
	return 0
}
