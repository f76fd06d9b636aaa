#!/usr/bin/env bash
# test_store_crash.sh: kill -9 of a process writing the history store loses no
# committed result, and the file stays intact; no root needed.
#
# pp_store_writer commits batches as fast as it can and prints each batch's
# ids and tag once its commit has returned. First we kill it within 40 ms of its
# start, most likely while it opens the file or creates the schema. Then five
# times we kill it with SIGKILL at a random moment 0.2-0.5 s after its first
# commit (each round reopens a file whose WAL the last one left behind), and
# check that every id it reported is in the file and that PRAGMA
# integrity_check says ok: through the library (pp_store_writer --verify)
# and, when it is installed, the sqlite3 command too.
set -u
writer=${PP_STORE_WRITER:?PP_STORE_WRITER must point at pp_store_writer}
failed=0
work=$(mktemp -d)
writer_pid=""
trap '[ -n "$writer_pid" ] && kill -9 "$writer_pid" 2>/dev/null; rm -rf "$work"' EXIT

fail() {
	printf 'FAIL %s\n' "$*" >&2
	failed=1
}

db=$work/history.db
committed=$work/committed
: >"$committed"

# keep_whole_lines FILE: append FILE's complete lines to $committed; a line
# the kill cut short (no newline) proves nothing
keep_whole_lines() {
	if [ -s "$1" ] && [ -n "$(tail -c 1 "$1")" ]; then
		sed '$d' "$1" >>"$committed"
	else
		cat "$1" >>"$committed"
	fi
}

# round 0: in the middle of opening
"$writer" "$db" >"$work/out.0" 2>"$work/err.0" &
writer_pid=$!
sleep "0.0$(printf '%02d' $((RANDOM % 40)))"
kill -9 "$writer_pid" 2>/dev/null
wait "$writer_pid" 2>/dev/null
writer_pid=""
keep_whole_lines "$work/out.0"

for round in 1 2 3 4 5; do
	if [ "$SECONDS" -ge 20 ]; then
		fail "round $round: the test has run for 20 s already"
		break
	fi
	out=$work/out.$round
	"$writer" "$db" >"$out" 2>"$work/err.$round" &
	writer_pid=$!
	# its first commit, within 3 s
	for _ in $(seq 300); do
		[ -s "$out" ] && break
		kill -0 "$writer_pid" 2>/dev/null || break
		sleep 0.01
	done
	ms=$((200 + RANDOM % 301))
	sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
	if ! kill -0 "$writer_pid" 2>/dev/null; then
		fail "round $round: the writer exited early: $(cat "$work/err.$round")"
		writer_pid=""
		break
	fi
	kill -9 "$writer_pid"
	wait "$writer_pid" 2>/dev/null
	writer_pid=""
	keep_whole_lines "$out"
	batches=$(wc -l <"$out")
	[ "$batches" -gt 0 ] || fail "round $round: no batch committed: $(cat "$work/err.$round")"

	# through the library: it must open the file, then every id must be there
	if ! res=$(timeout 5 "$writer" --verify "$committed" "$db" 2>&1); then
		fail "round $round (killed $ms ms after its first commit): $res"
		break
	fi
	printf 'round %d: killed %d ms after its first commit; %s\n' "$round" "$ms" "$res"
done

# an independent reader: the sqlite3 command, when installed
if command -v sqlite3 >/dev/null 2>&1; then
	res=$({
		echo "CREATE TEMP TABLE want(first INTEGER, last INTEGER, tag TEXT);"
		echo "BEGIN;"
		sed -n "s/^\([0-9][0-9]*\) \([0-9][0-9]*\) \([0-9.][0-9.]*\)$/INSERT INTO want VALUES(\1, \2, '\3');/p" "$committed"
		echo "COMMIT;"
		echo "SELECT 'missing ' || count(*) FROM temp.want WHERE (SELECT count(*) FROM results WHERE id BETWEEN first AND last AND detail = tag) != last - first + 1;"
		echo "SELECT 'batches ' || count(*) FROM temp.want;"
		echo "PRAGMA integrity_check;"
	} | timeout 5 sqlite3 "$db" 2>&1)
	want="missing 0
batches $(grep -c '^[0-9][0-9]* [0-9][0-9]* [0-9.][0-9.]*$' "$committed")
ok"
	[ "$res" = "$want" ] || fail "sqlite3 check:
  expected: $(echo $want)
  actual:   $(echo $res)"
	echo "sqlite3: $(echo $res)"
else
	echo "sqlite3 command not installed; checked through the library only"
fi

exit $failed
