# cli_lib.sh: helpers the CLI tests share (sourced; needs $pp and $work).

# fail MESSAGE: record a failure; the test exits 1 at the end.
fail() {
	printf 'FAIL %s\n' "$*" >&2
	failed=1
}

# bad EXPECTED_STDERR ARGS...: exit 2, one stderr line equal to EXPECTED_STDERR, empty stdout
bad() {
	local want=$1 rc=0 err out
	shift
	out=$("$pp" "$@" 2>"$work/err") || rc=$?
	err=$(cat "$work/err")
	[ "$rc" = 2 ] || fail "portprobe $*: exit $rc, expected 2"
	[ -z "$out" ] || fail "portprobe $*: wrote to stdout: $out"
	[ "$(wc -l <"$work/err")" = 1 ] || fail "portprobe $*: stderr is not one line: $err"
	[ "$err" = "$want" ] || fail "portprobe $*: stderr
  expected: $want
  actual:   $err"
}
