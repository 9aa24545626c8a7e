#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# kvmsim explore (issue 9): DFS exhausts the canonical race on the faithful model; random, PCT
# and DFS find the planted bug; the shrunk schedule written with --out replays to the same
# failure, and so does its token; the output does not depend on --jobs; the HTML report is one
# self-contained page; bad options are one error line and exit 2. TAP output.
#
# usage: test-explore.sh PATH/TO/kvmsim PATH/TO/tests/explore
set -u

. "$(dirname "$0")/../tap.sh"
kvmsim=$(tap_abs "$1")
dir=$(tap_abs "$2")
tap_init explore
canonical=$dir/canonical-race.xml
planted=$dir/planted-no-stale-check.xml

# explore_status NAME STATUS ARG...: kvmsim explore ARG... exits STATUS; output in $base/out.
explore_status() {
	name=$1
	want=$2
	shift 2
	"$kvmsim" explore "$@" >"$base/out" 2>"$base/err"
	status=$?
	if [ "$status" -ne "$want" ]; then
		not_ok "$name" "exit status $status, expected $want" "$(cat "$base/out" "$base/err")"
		return 1
	fi
	return 0
}

# has NAME PATTERN: $base/out has a line matching PATTERN.
has() {
	if grep -q -- "$2" "$base/out"; then
		ok "$1"
	else
		not_ok "$1" "no line matching '$2':" "$(cat "$base/out")"
	fi
}

echo "1..40"

# 1-2: the faithful model is safe for every schedule with at most two preemptions
if explore_status "dfs on the canonical race exits 0" 0 "$canonical" --strategy dfs \
	--preemption-bound 2; then
	ok "dfs on the canonical race exits 0"
fi
if grep -q "^dfs: exhausted" "$base/out" && grep -q "^verdict: every invariant held" "$base/out"
then
	ok "dfs reports the canonical race exhausted and safe"
else
	not_ok "dfs reports the canonical race exhausted and safe" "$(cat "$base/out")"
fi

# 3-5: each strategy finds the planted bug (no_stale_check: an install from a stale lookup)
for s in "random" "pct --depth 3" "dfs --preemption-bound 2"; do
	# shellcheck disable=SC2086 # the strategy's options split on purpose
	if explore_status "$s finds the planted bug" 1 "$planted" --strategy $s --budget 10000; then
		has "$s finds the planted bug" "^FAIL invariant spte_matches_primary in schedule"
	fi
done

# 6-10: the shrunk counterexample: as a trace, by its token, in HTML
explore_status "random with --out and --html exits 1" 1 "$planted" --strategy random \
	--seed 3 --budget 10000 --out "$base/cex.xml" --html "$base/cex.html" &&
	ok "random with --out and --html exits 1"
cp "$base/out" "$base/found"
token=$(sed -n 's/^token: //p' "$base/found")
inv=$(sed -n 's/^FAIL invariant \([a-z_]*\) .*/\1/p' "$base/found")
shrunk=$(sed -n 's/^shrunk: \([0-9]*\) deviation.*/\1/p' "$base/found")
if [ -n "$shrunk" ] && [ "$shrunk" -le 3 ]; then
	ok "the shrunk schedule has at most 3 deviations (DFS's shortest is 2 or 3)"
else
	not_ok "the shrunk schedule has at most 3 deviations (DFS's shortest is 2 or 3)" \
		"$(cat "$base/found")"
fi
"$kvmsim" replay "$base/cex.xml" >"$base/out" 2>"$base/err"
status=$?
if [ "$status" -eq 0 ] && grep -q "PASS  an invariant fails" "$base/out" &&
	grep -q "PASS  event \"sim_invariant: $inv: \" present" "$base/out"; then
	ok "the --out trace replays to the same failure ($inv)"
else
	not_ok "the --out trace replays to the same failure ($inv)" "exit status $status" \
		"$(cat "$base/out" "$base/err")"
fi
"$kvmsim" replay --token "$token" "$planted" >"$base/out" 2>"$base/err"
status=$?
if [ "$status" -eq 1 ] && grep -q "^  FAIL  invariant $inv at step" "$base/out"; then
	ok "the token replays to the same failure"
else
	not_ok "the token replays to the same failure" "exit status $status" \
		"$(cat "$base/out" "$base/err")"
fi
if grep -q 'id="failing-step"' "$base/cex.html" && grep -q "class=\"inv\">$inv" "$base/cex.html" &&
	! grep -Eqi '(src|href)=|<script|@import|url\(' "$base/cex.html"; then
	ok "the HTML report highlights the failing step and loads nothing from outside"
else
	not_ok "the HTML report highlights the failing step and loads nothing from outside"
fi

# 11: the token's schedule on the faithful target: the same interleaving breaks nothing
"$kvmsim" replay --token "$token" "$canonical" >"$base/out" 2>"$base/err"
if [ $? -eq 0 ] && grep -q "PASS  every invariant held" "$base/out"; then
	ok "the same token on the faithful model passes"
else
	not_ok "the same token on the faithful model passes" "$(cat "$base/out" "$base/err")"
fi

# 12: a token made on another target says that its deviations did not apply
"$kvmsim" replay --token "$token" "$(dirname "$dir")/../traces/06-two-vcpus-one-gfn.xml" \
	>"$base/out" 2>&1
has "a token on another target says so" "^  note  [1-9][0-9]* of the token's"

# 13-18: the output is the same bytes for --jobs 1 and --jobs 2, failing or not
for args in "--strategy random --budget 400" "--strategy pct --depth 2 --budget 400" \
	"--strategy dfs --preemption-bound 2"; do
	for target in "$canonical" "$planted"; do
		# shellcheck disable=SC2086
		"$kvmsim" explore "$target" $args --jobs 1 >"$base/j1" 2>&1
		# shellcheck disable=SC2086
		"$kvmsim" explore "$target" $args --jobs 2 >"$base/j2" 2>&1
		if cmp -s "$base/j1" "$base/j2"; then
			ok "$(basename "$target") $args: --jobs 1 and --jobs 2 print the same"
		else
			not_ok "$(basename "$target") $args: --jobs 1 and --jobs 2 print the same" \
				"$(diff "$base/j1" "$base/j2" | head -20)"
		fi
	done
done

# 19: a time budget in logical steps ends the search at the same schedule every time
"$kvmsim" explore "$canonical" --time-budget 5000 >"$base/t1" 2>&1
"$kvmsim" explore "$canonical" --time-budget 5000 --jobs 2 >"$base/t2" 2>&1
if cmp -s "$base/t1" "$base/t2" && grep -q "^time budget: 5000 logical steps" "$base/t1"; then
	ok "--time-budget stops at the same schedule whatever --jobs"
else
	not_ok "--time-budget stops at the same schedule whatever --jobs" \
		"$(cat "$base/t1" "$base/t2")"
fi

# 20: a run's coverage: yield-point pairs and probes are reported
"$kvmsim" explore "$canonical" --strategy dfs >"$base/out" 2>&1
has "dfs reports yield-point pairs and probes reached" \
	"^coverage: [1-9][0-9]* yield-point pairs, [1-9][0-9]* probes: "

# 21: every invariant the sources raise is in kvmsim list --invariants
"$kvmsim" list --invariants >"$base/list" 2>&1
src=$(dirname "$dir")/..
missing=""
for name in $(grep -ho '\(kvm_invariant_failed([a-z]*, \|machine_fail(m, \)"[a-z_]*"' \
	"$src"/mmu/*.c "$src"/sim/vmm/*.c | sed 's/.*"\([a-z_]*\)"/\1/' | sort -u); do
	grep -q "^$name " "$base/list" || missing="$missing $name"
done
if [ -z "$missing" ] && grep -q "^spte_matches_primary " "$base/list"; then
	ok "every invariant the sources raise is listed"
else
	not_ok "every invariant the sources raise is listed" "missing:$missing"
fi

# 22-25: a workload target with kvmsim run's options (its host events replayed from a trace)
workload="touch --vcpus 2 --mem 256K --host-events migrate=20"
# shellcheck disable=SC2086 # the workload's options split on purpose
explore_status "a workload target with run's options" 0 $workload --budget 10 --jobs 2 &&
	has "a workload target with run's options" "^verdict: every invariant held"
# shellcheck disable=SC2086
if explore_status "a planted bug in a workload is found" 1 $workload --mutate no_stale_check \
	--budget 200 --out "$base/w.xml"; then
	has "a planted bug in a workload is found" "^FAIL invariant spte_matches_primary"
fi
cp "$base/out" "$base/wfound"
"$kvmsim" replay "$base/w.xml" >"$base/out" 2>&1
if [ $? -eq 0 ] && grep -q "PASS  an invariant fails" "$base/out" &&
	grep -q 'PASS  event "sim_invariant: spte_matches_primary: " present' "$base/out"; then
	ok "the workload's --out trace replays to the same failure"
else
	not_ok "the workload's --out trace replays to the same failure" "$(cat "$base/out")"
fi
again=$(sed -n 's/^replay: kvmsim explore //p' "$base/wfound")
# shellcheck disable=SC2086
"$kvmsim" explore $again >"$base/out" 2>&1
if [ $? -eq 1 ] && grep -q "^FAIL invariant spte_matches_primary at step" "$base/out"; then
	ok "the workload's token replays through explore --token"
else
	not_ok "the workload's token replays through explore --token" "$again" "$(cat "$base/out")"
fi

# 26-37: bad input is one error line and exit status 2
usage_error "unknown strategy" explore "$canonical" --strategy bfs
usage_error "--depth 0" explore "$canonical" --strategy pct --depth 0
usage_error "--depth with dfs" explore "$canonical" --strategy dfs --depth 2
usage_error "--preemption-bound with random" explore "$canonical" --preemption-bound 1
usage_error "--jobs 0" explore "$canonical" --jobs 0
usage_error "no target" explore --strategy dfs
usage_error "two targets" explore "$canonical" "$canonical"
usage_error "a missing target" explore "$base/missing.xml"
usage_error "a damaged token" replay --token kx1.AAAB "$canonical"
# --out keeps the target's machine: a guest_memfd trace's failure replays from the file
"$kvmsim" explore --strategy dfs --budget 300 --mutate no_range_add --out "$base/gmem.xml" \
	"$dir/../../traces/16-punch-hole-racing-get-pfn.xml" >"$base/out" 2>"$base/err"
"$kvmsim" replay "$base/gmem.xml" >"$base/out2" 2>"$base/err2"
status=$?
if [ "$status" -eq 0 ] && grep -q "PASS  an invariant fails" "$base/out2"; then
	ok "the --out trace of a guest_memfd target keeps its VM type and replays its failure"
else
	not_ok "the --out trace of a guest_memfd target keeps its VM type and replays its failure" \
		"exit status $status" "$(cat "$base/out" "$base/out2" "$base/err2")"
fi
# a fault that installs from a pfn got before kvm_gmem_release() cleared the slot's file is
# legal (the release's window zaps it): the schedule random search once flagged, and DFS over all
"$kvmsim" replay --token kx1.AwAAAQIIAAEGARY "$dir/../../traces/20-gmem-release-while-bound.xml" \
	>"$base/out" 2>&1
if [ $? -eq 0 ] && grep -q "PASS  every invariant held" "$base/out"; then
	ok "an install racing a guest_memfd release before its window is no violation"
else
	not_ok "an install racing a guest_memfd release before its window is no violation" \
		"$(cat "$base/out")"
fi
"$kvmsim" explore --strategy dfs --preemption-bound 2 \
	"$dir/../../traces/20-gmem-release-while-bound.xml" >"$base/out" 2>&1
if [ $? -eq 0 ] && grep -q "^dfs: exhausted" "$base/out"; then
	ok "DFS exhausts the guest_memfd release race with every invariant held"
else
	not_ok "DFS exhausts the guest_memfd release race with every invariant held" \
		"$(cat "$base/out")"
fi
usage_error "--out into a missing directory" explore "$planted" --out "$base/no/such.xml"
usage_error "an unknown workload" explore nosuchworkload --budget 1
usage_error "run's options with a trace target" explore "$canonical" --vcpus 3

exit $failed
