#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The mutation score (issue 9 item 5) as a test: kvmsim explore --mutation-score over the targets
# of tests/mutations/targets.txt, DFS with 2 preemptions (1200 schedules at most per target:
# every kill there takes fewer) and then each target's own schedule. One TAP case per mutation:
# an unsafe one must be killed, a safe one must survive.
#   score.sh KVMSIM SOURCE_ROOT
set -u
kvmsim=$1
root=$2
. "$root/tests/tap.sh"
tap_init score
kvmsim=$(tap_abs "$kvmsim")
cd "$root" || exit 1
targets=$(grep -v '^#' tests/mutations/targets.txt | awk '{ print $2 }' | awk '!seen[$0]++')

# shellcheck disable=SC2086 # one argument per target
"$kvmsim" explore --mutation-score --strategy dfs,steps --preemption-bound 2 --budget 1200 \
	$targets >"$base/out" 2>"$base/err"
status=$?
rows=$(awk '/^mutation +expected/ { on = 1; next } /^score:/ { on = 0 } on' "$base/out")
echo "1..$(($(echo "$rows" | grep -c .) + 1))"
echo "$rows" | while read -r name expected verdict rest; do
	case $verdict in
	killed | survived) ok "$name ($expected): $verdict $rest" ;;
	*) not_ok "$name ($expected): $verdict" "$rest" ;;
	esac
done
# the loop ran in a subshell (a pipe): its cases are numbered 1..n, the next is n + 1
n=$(echo "$rows" | grep -c .)
if [ $status -eq 0 ] && grep -q '^score: ' "$base/out"; then
	ok "the score holds: $(grep '^score: ' "$base/out")"
else
	not_ok "the score holds" "status $status" "$(cat "$base/err")" "$(tail -2 "$base/out")"
fi
exit $status
