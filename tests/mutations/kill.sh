#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The deterministic floor of the mutation score (issue 9 items 3 and 5): every unsafe protocol
# mutation is killed by its target in targets.txt (the target passes on the faithful model and
# fails under `--mutate NAME` on an invariant or an expectation, not only by leaving its
# schedule), every safe one survives every target, and the <mutations> element of a trace plants
# its mutations too.
#   kill.sh KVMSIM SOURCE_ROOT
set -u
kvmsim=$1
root=$2
. "$root/tests/tap.sh"
tap_init mutations
kvmsim=$(tap_abs "$kvmsim")
cd "$root" || exit 1
targets=tests/mutations/targets.txt
canonical=traces/24-two-vcpus-one-gfn-migrated-twice.xml

"$kvmsim" list --mutations | awk '$1 != "" && $0 !~ /^ / { print $1, $2 }' >"$base/catalogue"
all_targets=$(grep -v '^#' "$targets" | awk '{ print $2 }' | sort -u)

# killed_by MUTATION TARGET: the replay under the mutation failed on an invariant or on an
# expectation (a FAIL line that is not only a schedule the mutated run could not follow).
killed_by() {
	"$kvmsim" replay --mutate "$1" "$2" >"$base/out" 2>&1
	[ $? -eq 1 ] || return 1
	grep -q 'invariant .* violated' "$base/out" && return 0
	grep '^  FAIL  ' "$base/out" | grep -vq ': schedule step'
}

echo "1..$(($(wc -l <"$base/catalogue") + 9))"
while read -r name verdict; do
	if [ "$verdict" = safe ]; then
		bad=
		for t in $all_targets; do
			"$kvmsim" replay --mutate "$name" "$t" >"$base/out" 2>&1 || bad="$bad $t"
		done
		if [ -z "$bad" ]; then
			ok "safe mutation $name survives every target"
		else
			not_ok "safe mutation $name survives every target" "killed by:$bad"
		fi
		continue
	fi
	# one line: a mutation may have several targets (a hand-written one and its pinned trace)
	mine=$(awk -v m="$name" '$1 == m { printf "%s%s", sep, $2; sep = " " }' "$targets")
	if [ -z "$mine" ]; then
		not_ok "unsafe mutation $name is killed by its target" "no target in $targets"
		continue
	fi
	bad=
	for t in $mine; do
		"$kvmsim" replay "$t" >"$base/out" 2>&1 || bad="$bad $t passes-unmutated"
		killed_by "$name" "$t" || bad="$bad $t"
	done
	if [ -z "$bad" ]; then
		ok "unsafe mutation $name is killed by $mine"
	else
		not_ok "unsafe mutation $name is killed by its target" "not killed:$bad" \
			"$(tail -3 "$base/out")"
	fi
done <"$base/catalogue"

# A trace's <mutations> plants them as --mutate does.
sed 's|<mutations/>|<mutations><mutation name="no_stale_check"/></mutations>|' "$canonical" \
	>"$base/mutated.xml"
"$kvmsim" replay "$base/mutated.xml" >"$base/out" 2>&1
if [ $? -eq 1 ] && grep -q 'invariant .* violated' "$base/out"; then
	ok "a trace naming no_stale_check in <mutations> fails as --mutate does"
else
	not_ok "a trace naming no_stale_check in <mutations> fails as --mutate does" \
		"$(cat "$base/out")"
fi

# An unknown name is bad input: FILE:LINE and exit 2, nothing run.
sed 's|<mutations/>|<mutations>\n      <mutation name="no_such_bug"/>\n    </mutations>|' \
	"$canonical" >"$base/unknown.xml"
"$kvmsim" replay "$base/unknown.xml" >"$base/out" 2>"$base/err"
status=$?
own_stderr
line=$(grep -n no_such_bug "$base/unknown.xml" | cut -d: -f1)
if [ $status -eq 2 ] && [ ! -s "$base/out" ] &&
	grep -q "unknown.xml:$line: <mutation> name=\"no_such_bug\" is no mutation" \
		"$base/err"; then
	ok "an unknown <mutation> name is FILE:LINE, exit 2"
else
	not_ok "an unknown <mutation> name is FILE:LINE, exit 2" "status $status" \
		"$(cat "$base/err")"
fi

"$kvmsim" replay --mutate no_such_bug "$canonical" >"$base/out" 2>"$base/err"
status=$?
own_stderr
if [ $status -eq 2 ] && grep -q -- '--mutate no_such_bug: no such mutation' "$base/err"; then
	ok "an unknown --mutate name is a usage error"
else
	not_ok "an unknown --mutate name is a usage error" "status $status" "$(cat "$base/err")"
fi

"$kvmsim" explore --mutation-score --strategy dfs,bogus "$canonical" >"$base/out" 2>"$base/err"
status=$?
own_stderr
if [ $status -eq 2 ] && grep -q "'bogus' is not random, pct or dfs" "$base/err" &&
	[ ! -s "$base/out" ]; then
	ok "an unknown score strategy is a usage error"
else
	not_ok "an unknown score strategy is a usage error" "status $status" "$(cat "$base/err")"
fi

"$kvmsim" explore --mutation-score >"$base/out" 2>"$base/err"
status=$?
own_stderr
if [ $status -eq 2 ] && grep -q -- '--mutation-score needs at least one TARGET' "$base/err"; then
	ok "the score without a target is a usage error"
else
	not_ok "the score without a target is a usage error" "status $status" "$(cat "$base/err")"
fi

# explore --mutate: the shrunk schedule written with --out names the mutation and replays its
# failure; the replay line it prints carries --mutate.
"$kvmsim" explore --strategy dfs --mutate pre-a835429cda91 --out "$base/found.xml" \
	tests/mutations/pre-a835429cda91.xml >"$base/out" 2>&1
status=$?
if [ $status -eq 1 ] && grep -q '<mutation name="pre-a835429cda91"/>' "$base/found.xml" &&
	grep -q '^replay: kvmsim replay .*--mutate pre-a835429cda91 .*--token ' "$base/out" &&
	"$kvmsim" replay "$base/found.xml" >"$base/out2" 2>&1 &&
	grep -q "freed_frame_still_mapped" "$base/out2"; then
	ok "explore --mutate: --out names the mutation and replays its failure"
else
	not_ok "explore --mutate: --out names the mutation and replays its failure" \
		"status $status" "$(tail -3 "$base/out")"
fi

# --record writes the run's mutations, and the trace replays with them.
"$kvmsim" run touch --vcpus 1 --mem 64K --mutate seq_bump_order_swapped \
	--record "$base/rec.xml" >"$base/out" 2>&1
status=$?
if [ $status -eq 0 ] && grep -q '<mutation name="seq_bump_order_swapped"/>' "$base/rec.xml" &&
	grep -q 'mutations  seq_bump_order_swapped' "$base/out" &&
	"$kvmsim" replay "$base/rec.xml" >"$base/out2" 2>&1; then
	ok "--record writes the run's mutations and the trace replays"
else
	not_ok "--record writes the run's mutations and the trace replays" "status $status" \
		"$(tail -3 "$base/out2" 2>/dev/null)"
fi

# A whole guest as tests/cli/test-asi.sh runs it (mmio --asi on under image migrations): a zap's
# flush requested during ASI's entry switch sends the vCPU IN_GUEST_MODE an IPI, and the entry
# exits on it (kvm_exit EXTERNAL_INTERRUPT); without that IPI (kvm_request_needs_ipi()) the flush
# is still due where the guest runs, which entry_with_flush_due reports.
mmio_mutated_ok() {
	set -- mmio --vcpus 2 --asi on --host-events migrate=100 --host-events-on=image \
		--host-events-every 3 --seed 1
	"$kvmsim" run "$@" --log "$base/mmio.log" >"$base/out" 2>&1 &&
		grep -q 'reason EXTERNAL_INTERRUPT .* intr_info 0x800000fb ' "$base/mmio.log" ||
		return 1
	"$kvmsim" run "$@" --mutate no_request_ipi >"$base/out" 2>&1
	[ $? -eq 1 ] && grep -q 'invariant entry_with_flush_due violated' "$base/out"
}
what="no_request_ipi: mmio --asi on under image migrations fails on entry_with_flush_due"
if mmio_mutated_ok; then
	ok "$what"
else
	not_ok "$what" "$(tail -3 "$base/out")"
fi

# With no mutation the log is the faithful model's, byte for byte; with one that changes
# nothing observable it is too (seq_bump_order_swapped only reorders two stores).
"$kvmsim" replay --log "$base/a.log" "$canonical" >/dev/null 2>&1
"$kvmsim" replay --mutate seq_bump_order_swapped --log "$base/b.log" "$canonical" >/dev/null 2>&1
if cmp -s "$base/a.log" "$base/b.log" && [ -s "$base/a.log" ]; then
	ok "a mutation that changes nothing observable leaves the log byte-identical"
else
	not_ok "a mutation that changes nothing observable leaves the log byte-identical"
fi
exit $failed
