#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Where kvmsim's outputs (--log, --stats, --record) go: a regular file appears whole by rename, a
# character device, FIFO or symlink is written through and stays what it was, "-" is stdout, two
# outputs on one file and unusable paths are usage errors before anything runs (replay too), and
# a run stopped by SIGTERM, SIGINT or SIGXFSZ leaves no temporary behind. Device nodes are mock
# nodes made with mknod in a temporary directory, never /dev. TAP output.
#
# usage: test-outputs.sh PATH/TO/kvmsim TRACES_DIR
set -u

. "$(dirname "$0")/../tap.sh"
kvmsim=$(tap_abs "$1")
traces=$(tap_abs "$2")
tap_init outputs

# check NAME CONDITION-STATUS DETAIL...: ok if the status is 0.
check() {
	name=$1
	status=$2
	shift 2
	if [ "$status" -eq 0 ]; then
		ok "$name"
	else
		not_ok "$name" "$@"
	fi
}

# A fresh, empty directory for the next case.
fresh_dir() {
	dir=$base/case$((n + 1))
	mkdir "$dir"
}

run_small="run touch --vcpus 2 --mem 1M --host-events migrate=8"

echo "1..15"

# 1: a mock character device (mknod, root only) stays a device and nothing is left beside it.
fresh_dir
if [ "$(id -u)" -ne 0 ]; then
	skip "--log onto a character device node leaves it a device" "mknod needs root"
elif ! mknod "$dir/null" c 1 3 2>"$base/err"; then
	skip "--log onto a character device node leaves it a device" "mknod: $(cat "$base/err")"
else
	(cd "$dir" && "$kvmsim" $run_small --log null >"$base/out" 2>"$base/err")
	status=$?
	[ "$status" -eq 0 ] && [ -c "$dir/null" ] && [ "$(ls -A "$dir")" = "null" ]
	check "--log onto a character device node leaves it a device" $? "status $status" \
		"$(ls -la "$dir")" "$(cat "$base/err")"
fi

# 2: a FIFO stays a FIFO, and its reader gets the whole log.
fresh_dir
mkfifo "$dir/fifo"
cat "$dir/fifo" >"$base/fifo.out" &
reader=$!
(cd "$dir" && "$kvmsim" $run_small --log fifo --record t.xml >"$base/out" 2>"$base/err")
status=$?
# a FIFO replaced by a file never gets a writer: its reader would wait forever
[ -p "$dir/fifo" ] || kill $reader 2>/dev/null
wait $reader
[ "$status" -eq 0 ] && [ -p "$dir/fifo" ] && grep -q "kvm_page_fault:" "$base/fifo.out" &&
	[ "$(ls -A "$dir" | tr '\n' ' ')" = "fifo t.xml " ]
check "--log onto a FIFO writes through it and leaves it a FIFO" $? "status $status" \
	"$(ls -la "$dir")" "$(cat "$base/err")"

# 3: a symlink stays a symlink; its target gets the output.
fresh_dir
: >"$dir/target.json"
ln -s target.json "$dir/link.json"
(cd "$dir" && "$kvmsim" $run_small --stats link.json >"$base/out" 2>"$base/err")
status=$?
[ "$status" -eq 0 ] && [ -L "$dir/link.json" ] && grep -q '"workload"' "$dir/target.json"
check "--stats onto a symlink writes its target and leaves the link" $? "status $status" \
	"$(ls -la "$dir")" "$(cat "$base/err")"

# 4: "-" is standard output, not a file called "-".
fresh_dir
(cd "$dir" && "$kvmsim" $run_small --stats - >"$base/out" 2>"$base/err")
status=$?
[ "$status" -eq 0 ] && grep -q '"workload"' "$base/out" && grep -q "^kvmsim run touch" \
	"$base/out" && [ -z "$(ls -A "$dir")" ]
check "--stats - writes the stats to stdout and no file" $? "status $status" \
	"$(ls -la "$dir")" "$(cat "$base/err")"

# usage_error NAME ARG...: kvmsim ARG... in a fresh directory fails with status 2 and one
# "kvmsim: error:" line, prints nothing on stdout (no FAIL line) and leaves the directory as it
# was (the case may put files there first: they must be untouched).
usage_error() {
	name=$1
	shift
	before=$(cd "$dir" && ls -lA --time-style=+%s.%N)
	(cd "$dir" && "$kvmsim" "$@" >"$base/out" 2>"$base/err")
	status=$?
	first=$(head -n 1 "$base/err")
	after=$(cd "$dir" && ls -lA --time-style=+%s.%N)
	case "$status:$(wc -l <"$base/err" | tr -d ' '):$(wc -c <"$base/out" | tr -d ' '):$first" in
	"2:1:0:kvmsim: error: "?*)
		if [ "$before" = "$after" ]; then
			ok "$name"
		else
			not_ok "$name" "the directory changed:" "$after"
		fi
		;;
	*)
		not_ok "$name" "status $status, stderr: $first" "stdout: $(head -n 2 "$base/out")" ;;
	esac
}

# 5-6: one file for two outputs.
fresh_dir
usage_error "--log and --stats on the same file is a usage error" \
	$run_small --log same --stats ./same
fresh_dir
echo keep >"$dir/data.json"
ln -s data.json "$dir/alias.json"
usage_error "--stats and --record through a link to one file is a usage error" \
	$run_small --stats data.json --record alias.json

# 7-9: unusable paths, before anything runs, in run and in replay.
fresh_dir
usage_error "--log naming a directory is a usage error" $run_small --log .
fresh_dir
usage_error "an empty --stats is a usage error" $run_small --stats ""
fresh_dir
usage_error "replay --log in a missing directory is a usage error, not a FAIL line" \
	replay "$traces/01-invalidation-before-snapshot.xml" --log missing/replay.log

# 10-12: replay's outputs clash as run's do ("x" and "./x" are one file, made or not).
trace01=$traces/01-invalidation-before-snapshot.xml
fresh_dir
usage_error "replay --log and --trace-dat on the same file is a usage error" \
	replay "$trace01" --log x --trace-dat ./x
fresh_dir
usage_error "replay --timeline and --trace-dat on the same file is a usage error" \
	replay "$trace01" --timeline x --trace-dat ./x
fresh_dir
echo keep >"$dir/x"
usage_error "replay --log and --timeline on one existing file is a usage error" \
	replay "$trace01" --log ./x --timeline x

# killed_run NAME SIGNAL: a long run writing --stats into its directory and --log into a FIFO
# outside it, stopped by SIGNAL while it runs, dies of it and leaves its directory empty. The
# FIFO says when to stop it, without sleeping: kvmsim opens the log after the stats' temporary,
# and a line read from it means the run is under way.
killed_run() {
	fresh_dir
	fifo=$base/killed$((n + 1)).fifo
	mkfifo "$fifo"
	(cd "$dir" && exec env --default-signal="$2" "$kvmsim" run steady --vcpus 1 --mem 1M \
		--param 0=4000000000 --log "$fifo" --stats stats.json >"$base/out" 2>"$base/err") &
	pid=$!
	exec 3<"$fifo"
	head -n 1 <&3 >/dev/null
	had_tmp=$(ls -A "$dir")
	kill -s "$2" $pid
	wait $pid
	status=$?
	exec 3<&-
	left=$(ls -A "$dir")
	case "$had_tmp" in stats.json.*) ;; *) had_tmp="" ;; esac
	[ -n "$had_tmp" ] && [ -z "$left" ] && [ "$status" -gt 128 ]
	check "$1" $? "status $status, temporary while running: $had_tmp, left: $left" \
		"$(cat "$base/err")"
}

# 13-14
killed_run "a run stopped by SIGTERM leaves no temporary file" TERM
killed_run "a run stopped by SIGINT leaves no temporary file" INT

# 15: a log past the file-size limit (SIGXFSZ) leaves no temporary file.
fresh_dir
(cd "$dir" && ulimit -f 64 && exec "$kvmsim" run touch --vcpus 2 --mem 4M --log run.log \
	--stats stats.json >"$base/out" 2>"$base/err")
status=$?
left=$(ls -A "$dir")
[ -z "$left" ] && [ "$status" -gt 128 ]
check "a log past the file-size limit (SIGXFSZ) leaves no temporary file" $? \
	"status $status, left: $left" "$(cat "$base/err")"

exit $failed
