#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# kvmsim's command line: bad input is one "kvmsim: error: " line on stderr, exit status 2, and no
# file left behind (neither --stats/--log outputs nor their temporaries). TAP output.
#
# usage: test-cli.sh PATH/TO/kvmsim
set -u

kvmsim=$1
case $kvmsim in
/*) ;;
*) kvmsim=$(pwd)/$kvmsim ;; # meson passes it relative to the build directory; cases cd away
esac
base=${TMPDIR:-/tmp}/kvmsim-cli.$$
n=0
failed=0

mkdir "$base" || exit 1
trap 'rm -rf "$base"' EXIT INT TERM

ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}

not_ok() {
	n=$((n + 1))
	failed=1
	echo "not ok $n - $1"
	shift
	for line in "$@"; do
		echo "# $line"
	done
}

# A fresh, empty directory for case $n + 1; kvmsim runs inside it.
fresh_dir() {
	dir=$base/case$((n + 1))
	mkdir "$dir"
}

# usage_error NAME ARG...: kvmsim ARG... (with --stats and --log in a fresh directory appended
# unless the arguments already name them) must fail as a usage error and write nothing.
usage_error() {
	name=$1
	shift
	fresh_dir
	(cd "$dir" && "$kvmsim" "$@" >"$base/out" 2>"$base/err")
	status=$?
	lines=$(wc -l <"$base/err" | tr -d ' ')
	first=$(head -n 1 "$base/err")
	left=$(ls -A "$dir")
	if [ "$status" -ne 2 ]; then
		not_ok "$name" "exit status $status, expected 2" "stderr: $first"
	elif [ "$lines" -ne 1 ]; then
		not_ok "$name" "$lines lines on stderr, expected 1:" "$(cat "$base/err")"
	else
		case $first in
		"kvmsim: error: "?*)
			if [ -n "$left" ]; then
				not_ok "$name" "files left behind: $left"
			else
				ok "$name"
			fi
			;;
		*)
			not_ok "$name" "stderr does not start with 'kvmsim: error: ': $first"
			;;
		esac
	fi
}

# The outputs a run would write, in the case's directory.
outputs() {
	echo "--stats $base/case$((n + 1))/stats.json --log $base/case$((n + 1))/run.log"
}

echo "1..15"

# shellcheck disable=SC2046 # outputs() is meant to split into words (no spaces in $base)
usage_error "unknown workload is a usage error" run no-such-workload $(outputs)
usage_error "--vcpus 0 is a usage error" run touch --vcpus 0 $(outputs)
usage_error "--vcpus 65 is a usage error" run touch --vcpus 65 $(outputs)
usage_error "--mem that is not a multiple of 4 KiB is a usage error" run touch --mem 1000 $(outputs)
usage_error "--mem beyond the arena is a usage error" run touch --mem 3G $(outputs)
usage_error "--mem with an unknown suffix is a usage error" run touch --mem 12Q $(outputs)
usage_error "--host-events without a count is a usage error" \
	run touch --host-events migrate $(outputs)
usage_error "--host-events with an unknown kind is a usage error" \
	run touch --host-events foo=1 $(outputs)
usage_error "--host-events with a non-numeric count is a usage error" \
	run touch --host-events migrate=x $(outputs)
usage_error "--host-events naming a kind twice is a usage error" \
	run touch --host-events migrate=1,migrate=2 $(outputs)
usage_error "unknown command is a usage error" frobnicate $(outputs)
usage_error "--log in a missing directory is a usage error and writes no stats" \
	run touch --mem 1M --stats "$base/case$((n + 1))/stats.json" \
	--log "$base/case$((n + 1))/missing/run.log"

# kvmsim list names the workloads, touch and stress among them.
fresh_dir
(cd "$dir" && "$kvmsim" list >"$base/out" 2>"$base/err")
status=$?
if [ "$status" -ne 0 ]; then
	not_ok "list exits 0" "exit status $status" "$(cat "$base/err")"
else
	ok "list exits 0"
fi
if grep -q '^touch ' "$base/out" && grep -q '^stress ' "$base/out"; then
	ok "list names touch and stress"
else
	not_ok "list names touch and stress" "stdout:" "$(cat "$base/out")"
fi

# A guest that runs past --max-insns is a failed run (1), not a usage error.
fresh_dir
(cd "$dir" && "$kvmsim" run touch --mem 1M --max-insns 20000 >"$base/out" 2>"$base/err")
status=$?
if [ "$status" -ne 1 ]; then
	not_ok "a runaway guest fails the run with status 1" "exit status $status" \
		"$(cat "$base/err")"
elif ! grep -q runaway "$base/err"; then
	not_ok "a runaway guest fails the run with status 1" "no 'runaway' on stderr:" \
		"$(cat "$base/err")"
else
	ok "a runaway guest fails the run with status 1"
fi

exit $failed
