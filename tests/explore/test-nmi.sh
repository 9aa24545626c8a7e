#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# NMIs as actors (issue 10 item 6): DFS, random and PCT place trace 30's NMI where Junaid's
# broken order VM-enters unrestricted, the shrunk schedule and its token replay the failure,
# and the correct orders (traces 31, 32) survive every placement; explore --nmi adds NMIs to a
# trace for the strategies to place (and its token and --out replay them), and one more NMI at
# every yield point of the ASI catalogue traces breaks no invariant; kvmsim run --nmi
# adds seeded NMIs, counts them in --stats, records and replays them; bad values are usage
# errors. TAP output.
#
# usage: test-nmi.sh PATH/TO/kvmsim SOURCE_ROOT
set -u

. "$(dirname "$0")/../tap.sh"
kvmsim=$(tap_abs "$1")
root=$(tap_abs "$2")
tap_init nmi
broken=$root/traces/30-broken-api-order-vm-enters-unrestricted.xml
critical=$root/traces/31-critical-api-order-survives-the-nmi.xml
v2=$root/traces/32-v2-api-order-survives-the-nmi.xml
nop=$root/traces/26-asi-enter-nop-on-reentry.xml

# run_status NAME STATUS CMD...: CMD exits STATUS (output in $base/out); else a failed case.
run_status() {
	name=$1
	want=$2
	shift 2
	"$@" >"$base/out" 2>"$base/err"
	status=$?
	if [ "$status" -ne "$want" ]; then
		not_ok "$name" "exit status $status, expected $want" "$(cat "$base/out" "$base/err")"
		return 1
	fi
	return 0
}

# check NAME PATTERN...: $base/out has a line matching each PATTERN.
check() {
	name=$1
	shift
	for pattern in "$@"; do
		if ! grep -q -- "$pattern" "$base/out"; then
			not_ok "$name" "no line matching '$pattern':" "$(cat "$base/out")"
			return
		fi
	done
	ok "$name"
}

echo "1..20"

# 1-3: every strategy finds the broken order's failure by placing the NMI
for s in "dfs --preemption-bound 1" "random --budget 200" "pct --depth 2 --budget 200"; do
	# shellcheck disable=SC2086
	if run_status "$s finds Junaid's broken order" 1 "$kvmsim" explore "$broken" \
		--strategy $s --out "$base/cex.xml"; then
		check "$s finds Junaid's broken order" \
			"^FAIL invariant asi_vmenter_restricted" "nmi0 *until"
	fi
done

# 4: the shrunk schedule replays to the same failure (the trace expects it)
if run_status "the written counterexample replays" 0 "$kvmsim" replay "$base/cex.xml"; then
	check "the written counterexample replays" "^replay: 1 passed, 0 failed"
fi

# 5: so does the token, through kvmsim replay (the trace file has the NMI)
"$kvmsim" explore "$broken" --strategy dfs --preemption-bound 1 >"$base/found" 2>&1
token=$(sed -n 's/^token: //p' "$base/found")
if run_status "the token replays the failure" 1 "$kvmsim" replay --token "$token" "$broken"; then
	check "the token replays the failure" "asi_vmenter_restricted"
fi

# 6-9: the correct orders survive every placement within two preemptions, and random ones
for t in "$critical" "$v2"; do
	if run_status "dfs exhausts $(basename "$t") safe" 0 "$kvmsim" explore "$t" \
		--strategy dfs --preemption-bound 2; then
		check "dfs exhausts $(basename "$t") safe" "^dfs: exhausted" \
			"^verdict: every invariant held"
	fi
	if run_status "random keeps $(basename "$t") safe" 0 "$kvmsim" explore "$t" \
		--strategy random --budget 300; then
		ok "random keeps $(basename "$t") safe"
	fi
done

# 10-12: explore --nmi adds an NMI to a trace without one: safe on v2, and under the mutation
# DFS finds the failure; its replay line goes through explore, and --out writes the NMI
if run_status "explore --nmi 1 on trace 26 is safe" 0 "$kvmsim" explore "$nop" --nmi 1 \
	--strategy dfs --preemption-bound 1; then
	check "explore --nmi 1 on trace 26 is safe" "^dfs: exhausted"
fi
if run_status "explore --nmi 1 finds the planted order" 1 "$kvmsim" explore "$nop" --nmi 1 \
	--strategy dfs --preemption-bound 1 --mutate asi_critical_after_enter \
	--out "$base/added.xml"; then
	again=$(sed -n 's/^replay: //p' "$base/out")
	case $again in
	"kvmsim explore $nop --mutate asi_critical_after_enter --nmi 1 --token "*)
		# shellcheck disable=SC2086
		if run_status "its replay line fails again" 1 "$kvmsim" ${again#kvmsim }; then
			check "its replay line fails again" "^FAIL invariant asi_vmenter_restricted"
		fi ;;
	*) not_ok "its replay line fails again" "replay line: $again" ;;
	esac
fi
if grep -q '<nmi actor="nmi0" touch="user"/>' "$base/added.xml" &&
	"$kvmsim" replay "$base/added.xml" >"$base/out" 2>&1; then
	ok "--out writes the added NMI and replays"
else
	not_ok "--out writes the added NMI and replays" "$(cat "$base/out")"
fi

# 13-15: kvmsim run --nmi: seeded NMIs, every invariant held, counted, recorded and replayed
cd "$base" || exit 1
if run_status "run touch --asi on --nmi 8 passes" 0 "$kvmsim" run touch --mem 256K --asi on \
	--nmi 8 --nmi-touch guest-ram --stats s.json --record r.xml --log r.log; then
	ok "run touch --asi on --nmi 8 passes"
fi
if python3 -c 'import json, sys; n = json.load(open("s.json"))["asi"]["nmi"]
sys.exit(0 if n["handled"] == 8 and n["lost"] == 0 else 1)' &&
	[ "$(grep -c 'sim_nmi:' r.log)" -eq 8 ]; then
	ok "--stats counts the 8 NMIs, the log shows each"
else
	not_ok "--stats counts the 8 NMIs, the log shows each" "$(cat s.json)"
fi
if [ "$(grep -c '<nmi actor="nmi[01]" at="[0-9]*" touch="guest-ram"/>' r.xml)" -eq 8 ] &&
	run_status "the recorded run replays" 0 "$kvmsim" replay r.xml; then
	ok "the recorded NMIs replay byte for byte"
else
	not_ok "the recorded NMIs replay byte for byte" "$(grep '<nmi' r.xml)"
fi

# 16: the same seed places them at the same steps
"$kvmsim" run touch --mem 256K --asi on --nmi 8 --nmi-touch guest-ram --log r2.log >/dev/null
if cmp -s r.log r2.log; then
	ok "NMI placement is a function of the seed"
else
	not_ok "NMI placement is a function of the seed" "the logs differ"
fi

# 17: an NMI reading user memory at every yield point of the exit-level ASI traces (one
# preemption: every placement) keeps every invariant
bad=
for t in 26 27 28 29 31 32 33 35; do
	f=$(ls "$root"/traces/$t-*.xml)
	"$kvmsim" explore "$f" --nmi 1 --strategy dfs --preemption-bound 1 >"$base/out" 2>&1 ||
		bad="$bad $t"
done
if [ -z "$bad" ]; then
	ok "one more NMI anywhere in traces 26-29, 31-33, 35 breaks nothing"
else
	not_ok "one more NMI anywhere in traces 26-29, 31-33, 35 breaks nothing" "failed:$bad"
fi

# 18-20: bad values
usage_error "--nmi out of range" run touch --nmi 100001
usage_error "--nmi-touch unknown" run touch --nmi 1 --nmi-touch secret
usage_error "--nmi-touch without --nmi" explore "$nop" --nmi-touch user

exit "$failed"
