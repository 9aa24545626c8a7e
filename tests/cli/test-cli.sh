#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# kvmsim's command line: bad input is one "kvmsim: error: " line on stderr, exit status 2, and no
# file left behind (neither --stats/--log outputs nor their temporaries). TAP output.
#
# usage: test-cli.sh PATH/TO/kvmsim
set -u

. "$(dirname "$0")/../tap.sh"
kvmsim=$(tap_abs "$1")
tap_init cli

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

echo "1..31"

# shellcheck disable=SC2046 # outputs() is meant to split into words (no spaces in $base)
usage_error "unknown workload is a usage error" run no-such-workload $(outputs)
usage_error "--vcpus 0 is a usage error" run touch --vcpus 0 $(outputs)
usage_error "--vcpus 65 is a usage error" run touch --vcpus 65 $(outputs)
usage_error "--mem that is not a multiple of 4 KiB is a usage error" run touch --mem 1000 $(outputs)
usage_error "--mem beyond the arena is a usage error" run touch --mem 3G $(outputs)
usage_error "--mem with an unknown suffix is a usage error" run touch --mem 12Q $(outputs)
usage_error "--vm-type with an unknown type is a usage error" \
	run private --vm-type tdx $(outputs)
usage_error "--gmem-conversion with an unknown design is a usage error" \
	run private --vm-type sw-protected --gmem-conversion copy $(outputs)
usage_error "--gmem-conversion on a default VM is a usage error" \
	run private --gmem-conversion in-place $(outputs)
usage_error "--compare-conversions on a default VM is a usage error" \
	run private --compare-conversions $(outputs)
usage_error "--host-events punch on a default VM is a usage error" \
	run private --host-events punch=1 $(outputs)
usage_error "--compare-conversions with --stats is a usage error" \
	run private --vm-type sw-protected --compare-conversions $(outputs)
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

usage_error "--stats in a missing directory is a usage error before the run" \
	run touch --mem 1M --stats "$base/case$((n + 1))/missing/stats.json"
usage_error "--record in a missing directory is a usage error before the run" \
	run touch --mem 1M --record "$base/case$((n + 1))/missing/t.xml"

# A trace with an error on line 14 is rejected as FILE:14: ..., status 2, and --log writes nothing.
fresh_dir
cat >"$base/bad.xml" <<'TRACE'
<?xml version="1.0" encoding="UTF-8"?>
<kvmsim-trace format="1">
  <header kvmsim="0.1.0" seed="1">
    <mutations/>
  </header>
  <vm vcpus="1">
    <memslot id="0" gpa="0x0" size="1M" hva="0x7f0000000000"/>
  </vm>
  <events>
    <ept_violation actor="vcpu0" gpa="0x5000" access="write"/>
  </events>
  <schedule policy="steps">
    <step actor="vcpu0" until="vcpu.enter"/>
    <step actor="vcpu9" until="exit"/>
  </schedule>
  <expect/>
</kvmsim-trace>
TRACE
(cd "$dir" && "$kvmsim" replay "$base/bad.xml" --log "$dir/replay.log" >"$base/out" 2>"$base/err")
status=$?
first=$(head -n 1 "$base/err")
case "$status:$(wc -l <"$base/err" | tr -d ' '):$first:$(ls -A "$dir")" in
"2:1:kvmsim: error: $base/bad.xml:14: unknown actor 'vcpu9'"*:)
	ok "a trace with an error on line 14 is reported as FILE:14, status 2, nothing written" ;;
*)
	not_ok "a trace with an error on line 14 is reported as FILE:14, status 2, nothing written" \
		"status $status, stderr: $first, left: $(ls -A "$dir")" ;;
esac

# A recorded run replays with every expectation met; an edited expectation fails the replay.
fresh_dir
(cd "$dir" && "$kvmsim" run touch --vcpus 2 --mem 1M --seed 5 --host-events migrate=16 \
	--record t.xml >"$base/out" 2>"$base/err")
status=$?
if [ "$status" -ne 0 ] || [ ! -s "$dir/t.xml" ]; then
	not_ok "run --record writes a trace" "status $status" "$(cat "$base/err")"
else
	ok "run --record writes a trace"
fi
(cd "$dir" && "$kvmsim" replay t.xml >"$base/out" 2>"$base/err")
status=$?
if [ "$status" -eq 0 ] && grep -q "PASS  log hash" "$base/out" &&
	grep -q "^replay: 1 passed, 0 failed" "$base/out"; then
	ok "the recorded trace replays to the same log hash"
else
	not_ok "the recorded trace replays to the same log hash" "status $status" \
		"$(grep -v PASS "$base/out")"
fi
sed 's|<counter name="faults.fixed" value="\([0-9]*\)"/>|<counter name="faults.fixed" value="1\1"/>|' \
	"$dir/t.xml" >"$dir/edited.xml"
(cd "$dir" && "$kvmsim" replay edited.xml >"$base/out" 2>"$base/err")
status=$?
if [ "$status" -eq 1 ] && grep -q "FAIL  counter faults.fixed" "$base/out"; then
	ok "an edited expectation makes the replay fail with status 1"
else
	not_ok "an edited expectation makes the replay fail with status 1" "status $status" \
		"$(grep -v PASS "$base/out")"
fi

# A guest that crashes fails the run (1) with one line naming what it did and where.
crash_case() {
	fresh_dir
	(cd "$dir" && "$kvmsim" run crash --vcpus 1 --mem 64K --param "0=$1" >"$base/out" \
		2>"$base/err")
	status=$?
	own_stderr
	if [ "$status" -eq 1 ] && [ "$(wc -l <"$base/err" | tr -d ' ')" -eq 1 ] &&
		grep -q "^kvmsim: run failed: vcpu0: $2" "$base/err"; then
		ok "$3"
	else
		not_ok "$3" "status $status" "$(cat "$base/err")"
	fi
}
crash_case 0 "guest raised #DE divide error (vector 0) at rip 0x[0-9a-f]* (div " \
	"a guest dividing by zero fails the run naming #DE and the instruction"
crash_case 1 "guest raised #UD at rip 0x[0-9a-f]* (ud2)" \
	"a guest executing ud2 fails the run naming #UD"
crash_case 2 "guest accessed gpa 0x800000000000, outside guest memory" \
	"a guest reading outside all memory fails the run naming the address"

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

# --host-events dirtylog: the VMM turns dirty logging on for the data region, then harvests
# it; the guest still passes, its writes fault back in through the fast path, and the recorded
# run (the notifier making the VMM's calls) replays to the same log. With 64K, calls planned
# after the guest ended are sleeps with nothing to do.
fresh_dir
(cd "$dir" && "$kvmsim" run touch --vcpus 2 --mem 1M --host-events dirtylog=4 --log l \
	--record r.xml >"$base/out" 2>"$base/err" &&
	"$kvmsim" replay r.xml >"$base/out2" 2>&1 &&
	"$kvmsim" run touch --vcpus 1 --mem 64K --host-events dirtylog=3 --record s.xml \
		>>"$base/out2" 2>&1 &&
	"$kvmsim" replay s.xml >>"$base/out2" 2>&1)
status=$?
if [ "$status" -eq 0 ] &&
	grep -q 'sim_vmm_ioctl: KVM_SET_USER_MEMORY_REGION2 +KVM_MEM_LOG_DIRTY_PAGES slot 1: 0' \
		"$dir/l" &&
	grep -q 'sim_vmm_ioctl: KVM_GET_DIRTY_LOG slot 1: 0 dirty 0x4' "$dir/l" &&
	grep -q '<dirty_log actor="notifier" .*op="get"/>' "$dir/r.xml"; then
	ok "--host-events dirtylog logs and harvests, and the record replays"
else
	not_ok "--host-events dirtylog logs and harvests, and the record replays" \
		"exit status $status" "$(cat "$base/err" "$base/out2" 2>/dev/null | tail -5)"
fi

exit $failed
