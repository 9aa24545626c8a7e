#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Nothing runs unbounded and nothing is misread: a schedule step that can never be reached and a
# livelocked replay end with a FAIL naming what waited (not after the 2^32-instruction budget), a
# hot loop preempted at one rip is no livelock, numbers that overflow are usage errors, and
# libxml2 adds nothing to kvmsim's one error line.
# TAP output.
#
# usage: test-bounds.sh PATH/TO/kvmsim
set -u

. "$(dirname "$0")/../tap.sh"
kvmsim=$(tap_abs "$1")
tap_init bounds

# replay_fails NAME TRACE PATTERN: the replay exits 1 with a FAIL line matching PATTERN.
replay_fails() {
	"$kvmsim" replay "$2" >"$base/out" 2>"$base/err"
	status=$?
	if [ "$status" -ne 1 ]; then
		not_ok "$1" "exit status $status, expected 1" "$(cat "$base/out" "$base/err")"
	elif ! grep -q "^  FAIL  .*$3" "$base/out"; then
		not_ok "$1" "no FAIL line matching '$3':" "$(cat "$base/out")"
	else
		ok "$1"
	fi
}

echo "1..17"

# vcpu1 alone reaches touch's barrier and spins there waiting for vcpu0, which the step keeps
# from running: main spun to the 2^32-instruction budget (~30 minutes).
cat >"$base/step.xml" <<'TRACE'
<?xml version="1.0" encoding="UTF-8"?>
<kvmsim-trace format="1">
  <header kvmsim="0.1.0" seed="1">
    <mutations/>
  </header>
  <vm vcpus="2" mem="64K" quantum="1000"/>
  <workload name="touch"/>
  <events/>
  <schedule policy="steps">
    <step actor="vcpu1" until="exit"/>
  </schedule>
  <expect/>
</kvmsim-trace>
TRACE
replay_fails "a step its actor cannot reach fails by the watchdog, naming who could run" \
	"$base/step.xml" "step.xml:10: schedule step 1 (vcpu1 until exit): vcpu1 passed 65536 yield points without reaching exit while vcpu0 could run"

# An invalidation of the whole data region that ends at step 2^40: every fault retries, and the
# notifier sleeps; retries are not progress. Main retried forever.
cat >"$base/livelock.xml" <<'TRACE'
<?xml version="1.0" encoding="UTF-8"?>
<kvmsim-trace format="1">
  <header kvmsim="0.1.0" seed="1">
    <mutations/>
  </header>
  <vm vcpus="1" mem="1M"/>
  <workload name="touch"/>
  <events>
    <invalidate_start actor="notifier" hva="0x7f0000800000" size="1M"/>
    <invalidate_end actor="notifier" hva="0x7f0000800000" size="1M" at="0x10000000000"/>
  </events>
  <schedule policy="round-robin"/>
  <expect/>
</kvmsim-trace>
TRACE
replay_fails "faults that retry while the invalidation sleeps are reported as a livelock" \
	"$base/livelock.xml" "livelock.xml: livelock: .* vcpu0 at fault\.[a-z_]*, notifier sleeps until step 1099511627776"

"$kvmsim" replay --watchdog 4096 "$base/livelock.xml" >"$base/out" 2>&1
if grep -q "in the 4096 yield points" "$base/out"; then
	ok "--watchdog sets how many yield points without progress are a livelock"
else
	not_ok "--watchdog sets how many yield points without progress are a livelock" \
		"$(cat "$base/out")"
fi

usage_error "--watchdog 0 is a usage error" replay --watchdog 0 "$base/livelock.xml"

# run_passes NAME ARGS...: the run exits 0 (a livelock or any failure is the output shown).
run_passes() {
	name=$1
	shift
	"$kvmsim" run "$@" >"$base/out" 2>&1
	status=$?
	if [ "$status" -eq 0 ]; then
		ok "$name"
	else
		not_ok "$name" "exit status $status" "$(tail -3 "$base/out")"
	fi
}

# A loop of one translation block is preempted at the same rip every quantum, yet it retires
# instructions: progress. Main counted only a moved rip and declared these livelocks.
run_passes "a hot loop preempted at the same rip is progress, not a livelock" \
	steady --vcpus 1 --mem 1M --param 0=1000000 --watchdog 1000
# mov ecx, 1000000; 1: dec ecx; jnz 1b; xor eax, eax; out 0xf4, eax (pass); hlt
printf '\271\100\102\017\000\377\311\165\374\061\300\347\364\364' >"$base/loop.bin"
run_passes "two vCPUs in a one-block loop make progress" \
	--guest "$base/loop.bin" --vcpus 2 --mem 1M --quantum 1000 --watchdog 1000

# A run's --watchdog is part of the trace it records, so that its replay stops where it would
# have: main wrote none, and the replay of a run that needed a larger one failed as a livelock.
"$kvmsim" run touch --mem 1M --watchdog 20 --record "$base/w20.xml" >"$base/out" 2>&1
if grep -q '<schedule [^>]*watchdog="20"' "$base/w20.xml" &&
	"$kvmsim" replay "$base/w20.xml" >"$base/out" 2>&1; then
	ok "a run's --watchdog is recorded in <schedule> and its replay passes"
else
	not_ok "a run's --watchdog is recorded in <schedule> and its replay passes" \
		"$(grep '<schedule' "$base/w20.xml")" "$(tail -3 "$base/out")"
fi
sed 's/watchdog="20"/watchdog="5"/' "$base/w20.xml" >"$base/w5.xml"
"$kvmsim" replay "$base/w5.xml" >"$base/out" 2>&1
if grep -q "^  FAIL  .*livelock: .* in the 5 yield points" "$base/out"; then
	ok "the replay runs with the trace's watchdog"
else
	not_ok "the replay runs with the trace's watchdog" "$(cat "$base/out")"
fi
# Its log is cut short, not different: main said "the logs differ before any mark", line 1.
"$kvmsim" replay --watchdog 5 "$base/w20.xml" >"$base/out" 2>&1
stopped="the replay stopped at clock 5 .*, in schedule step 4 of [0-9]* (vcpu0 until .*w20.xml"
if grep -q "$stopped:[0-9]*), where the recording went on" "$base/out" &&
	grep -q "its log agrees with the recording's through step 3" "$base/out" &&
	! grep -q "differ" "$base/out"; then
	ok "a replay stopped by its watchdog says where, and that its log agreed up to there"
else
	not_ok "a replay stopped by its watchdog says where, and that its log agreed up to there" \
		"$(cat "$base/out")"
fi
if "$kvmsim" replay --watchdog 65536 "$base/w5.xml" >"$base/out" 2>&1; then
	ok "replay --watchdog overrides the trace's"
else
	not_ok "replay --watchdog overrides the trace's" "$(tail -5 "$base/out")"
fi
"$kvmsim" run touch --mem 1M --record "$base/w.xml" >/dev/null 2>&1
if grep -q 'watchdog=' "$base/w.xml"; then
	not_ok "a run with the default watchdog records none" "$(grep '<schedule' "$base/w.xml")"
else
	ok "a run with the default watchdog records none"
fi
usage_error "--param whose value overflows 64 bits is a usage error" \
	run touch --mem 1M --param 0=99999999999999999999999
usage_error "--mem that overflows 64 bits is a usage error" run touch --mem 99999999999999999999999
usage_error "--mem whose suffix overflows 64 bits is a usage error" run touch --mem 18014398509481984K

# An external entity in a DTD: the one line is kvmsim's, libxml2 prints nothing of its own.
cat >"$base/entity.xml" <<'TRACE'
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE kvmsim-trace [ <!ENTITY ext SYSTEM "/nonexistent/kvmsim-entity"> ]>
<kvmsim-trace format="1">&ext;</kvmsim-trace>
TRACE
usage_error "a trace with a DTD is one error line, nothing from libxml2" replay "$base/entity.xml"

# Bytes its declared encoding cannot convert: libxml2's encoder printed three lines of its own
# ("encoding error : input conversion failed ...", "I/O error : encoder error") on main.
printf '<?xml version="1.0" encoding="SHIFT_JIS"?>\n<kvmsim-trace format="1">\201\000\377\376</kvmsim-trace>\n' \
	>"$base/encoding.xml"
usage_error "bytes the declared encoding cannot convert are one error line, nothing from libxml2" \
	replay "$base/encoding.xml"
if grep -q "not text in the declared encoding" "$base/err"; then
	ok "an encoding error is reported as one, not as the parser's next complaint"
else
	not_ok "an encoding error is reported as one, not as the parser's next complaint" \
		"$(cat "$base/err")"
fi

exit $failed
