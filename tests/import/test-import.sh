#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Speaking trace-cmd both ways (issue 11 items 1-3): --log-format ftrace, --trace-dat read back by
# Debian's trace-cmd, and kvmsim import of captures this suite makes itself: kvmsim's own ftrace
# logs and trace.dat files, damaged as bug reports damage them (tests/import/damage.py). TAP.
#
# usage: test-import.sh PATH/TO/kvmsim SOURCE_ROOT
set -u

. "$(dirname "$0")/../tap.sh"
kvmsim=$(tap_abs "$1")
src=$(tap_abs "$2")
damage="python3 $src/tests/import/damage.py"
rng=$src/traces/kvmsim-trace.rng
tap_init import
cd "$base" || exit 1

# The body of each line of a kvmsim log ("STEP ACTOR event: body") or an ftrace/report line
# ("comm-pid [cpu] ts: event:<padding> body") as "event: body", one per line.
bodies() {
	sed -E 's/^ *[0-9]+ [^ ]+ +([a-z_0-9]+): /\1: /; t; s/^.*\[[0-9]+\] +[0-9]+\.[0-9]+: ([a-z_0-9]+): +/\1: /' "$1"
}

# The trace between <events> and </expect>: what an import says, without its comment.
trace_body() {
	sed -n '/<events>/,/<\/expect>/p' "$1"
}

# must_fail NAME ARG...: kvmsim import ARG... -o out.xml is a usage error: status 2, one line
# "kvmsim: error: ..." on stderr, no out.xml.
must_fail() {
	name=$1
	shift
	rm -f out.xml
	"$kvmsim" import "$@" -o out.xml >out 2>err
	status=$?
	own_stderr
	if [ "$status" -ne 2 ]; then
		not_ok "$name" "exit status $status, expected 2" "$(head -n 3 err)"
	elif [ "$(wc -l <err)" -ne 1 ] || ! grep -q '^kvmsim: error: ' err; then
		not_ok "$name" "expected one 'kvmsim: error:' line:" "$(cat err)"
	elif [ -e out.xml ] || ls -A | grep -q '^\.out\.xml'; then
		not_ok "$name" "an output file was left"
	else
		ok "$name"
	fi
}

# --- captures: a run with host events, and its replay-free twin without the new options -----
run="run touch --vcpus 2 --mem 256K --seed 5 --host-events migrate=6,dontneed=4,age=6"
"$kvmsim" $run --log plain.log >/dev/null 2>&1
"$kvmsim" $run --log k.log --log-format kvmsim --trace-dat t.dat >/dev/null 2>&1
"$kvmsim" $run --log f.log --log-format ftrace >/dev/null 2>&1

if cmp -s plain.log k.log; then
	ok "the default log is byte-identical with --log-format kvmsim and --trace-dat"
else
	not_ok "the default log changed with --log-format kvmsim and --trace-dat"
fi
bodies k.log >k.bodies
bodies f.log >f.bodies
if [ -s k.bodies ] && cmp -s k.bodies f.bodies; then
	ok "--log-format ftrace has the same event bodies as the kvmsim log"
else
	not_ok "--log-format ftrace bodies differ" "$(diff k.bodies f.bodies | head -n 4)"
fi
if grep -qE '^ +vcpu[0-9]-[0-9]+ +\[[0-9]{3}\] +[0-9]+\.[0-9]{6}: kvm_exit: {13}vcpu ' f.log; then
	ok "--log-format ftrace lines carry trace-cmd report's prefix"
else
	not_ok "no line of f.log has trace-cmd report's prefix" "$(grep -m1 kvm_exit f.log)"
fi

# --- trace.dat read back by trace-cmd ---------------------------------------------------------
# %p prints a hashed pointer in the kernel (kvmsim's log) and 0x-hex in libtraceevent; the kvm
# plugin of trace-cmd reformats kvm_exit, kvm_entry and the shadow-page events, and the
# shadow-page events' print fmt (a GNU statement expression) is beyond libtraceevent without it.
norm_p='s/sptep( |:)(0x)?0*([0-9a-f]+)/sptep\1\3/'
if ! command -v trace-cmd >/dev/null 2>&1; then
	for c in "report -N prints --log-format ftrace" "report prints the kvm/kvmmmu bodies" \
		"a report capture imports like the log"; do
		skip "trace-cmd $c" "trace-cmd is not installed (Debian package trace-cmd; ./test installs it)"
	done
else
	trace-cmd report -N t.dat 2>/dev/null | tail -n +2 >n.txt
	grep -vE ' (kvm_mmu_get_page|kvm_mmu_prepare_zap_page): ' n.txt | sed -E "$norm_p" >n.cmp
	grep -vE ' (kvm_mmu_get_page|kvm_mmu_prepare_zap_page): ' f.log | sed -E "$norm_p" >f.cmp
	if [ "$(wc -l <n.txt)" -eq "$(wc -l <f.log)" ] && cmp -s n.cmp f.cmp; then
		ok "trace-cmd report -N of --trace-dat prints the --log-format ftrace log, line for line"
	else
		not_ok "trace-cmd report -N differs from --log-format ftrace" \
			"$(wc -l <n.txt) vs $(wc -l <f.log) lines" "$(diff n.cmp f.cmp | head -n 4)"
	fi
	# more of the table: MMIO SPTEs, the fast zap of all roots, memslot deletion, aging
	for cmd in "run mmio --vcpus 1" "replay $src/traces/11-fast-zap-frozen-spte.xml" \
		"replay $src/traces/10-memslot-delete-inflight-fault.xml" \
		"replay $src/traces/09-aging-access-tracking.xml"; do
		rm -f more.dat more.log
		"$kvmsim" $cmd --log-format ftrace --log more.log --trace-dat more.dat >/dev/null 2>&1
		trace-cmd report -N more.dat 2>/dev/null | tail -n +2 |
			grep -vE ' (kvm_mmu_get_page|kvm_mmu_prepare_zap_page): ' |
			sed -E "$norm_p" >more.n
		grep -vE ' (kvm_mmu_get_page|kvm_mmu_prepare_zap_page): ' more.log |
			sed -E "$norm_p" >more.f
		if [ -s more.f ] && cmp -s more.n more.f; then
			ok "kvmsim $cmd --trace-dat: trace-cmd report -N prints its ftrace log"
		else
			not_ok "kvmsim $cmd --trace-dat differs" "$(diff more.n more.f | head -n 4)"
		fi
	done
	trace-cmd report t.dat 2>/dev/null | tail -n +2 >report.txt
	plugin='(kvm_exit|kvm_entry|kvm_mmu_get_page|kvm_mmu_prepare_zap_page)'
	bodies report.txt | grep -E '^(kvm|fast_page_fault|mark_mmio|handle_mmio|check_mmio)' |
		grep -vE "^$plugin:" | sed -E "$norm_p" >r.kvm
	grep -E '^(kvm|fast_page_fault|mark_mmio|handle_mmio|check_mmio)' k.bodies |
		grep -vE "^$plugin:" | sed -E "$norm_p" >k.kvm
	if [ "$(wc -l <k.kvm)" -gt 500 ] && cmp -s r.kvm k.kvm &&
	   grep -q '^kvm_unmap_hva_range: ' k.kvm && grep -q '^kvm_tdp_mmu_spte_changed: ' k.kvm; then
		ok "trace-cmd report prints the kvm/kvmmmu bodies of --log ($(wc -l <k.kvm) lines)"
	else
		not_ok "trace-cmd report's kvm/kvmmmu bodies differ from --log" \
			"$(diff r.kvm k.kvm | head -n 4)"
	fi
fi

# --- import: the clean capture ----------------------------------------------------------------
"$kvmsim" import f.log -o f.xml >f.out 2>err
status=$?
if [ "$status" -eq 0 ] && xmllint --noout --relaxng "$rng" f.xml 2>/dev/null &&
   grep -q '<kvm_unmap\|<invalidate_start actor="notifier"' f.xml &&
   grep -q '<step actor="notifier" until="invalidate.mn_lock"' f.xml &&
   grep -q '<age actor="notifier"' f.xml; then
	ok "an ftrace capture imports into a trace that validates, with the notifier's invalidations and aging"
else
	not_ok "importing f.log: status $status" "$(head -n 3 err)"
fi
"$kvmsim" replay f.xml >replay.out 2>&1
status=$?
if [ "$status" -eq 0 ] && grep -q 'spte gfn' replay.out; then
	ok "the imported trace replays and every SPTE the capture shows is kvmsim's too"
else
	not_ok "replay of the import: status $status" "$(grep -m 3 'FAIL' replay.out)"
fi
# each invalidation's gfns through the memslots: gfn = (gpa of the slot + hva - slot hva) >> 12
unmaps=$(grep -c ' kvm_unmap_hva_range: ' f.log)
wrong=0
grep ' zaps memslot ' f.out | sed -E 's/.* hva (0x[0-9a-f]+)-.* memslot ([0-9]+) gfns (0x[0-9a-f]+)-.*/\1 \2 \3/' >zaps
while read -r hva slot gfn; do
	line=$(grep "<memslot id=\"$slot\"" f.xml)
	gpa=$(echo "$line" | sed -E 's/.* gpa="([^"]*)".*/\1/')
	shva=$(echo "$line" | sed -E 's/.* hva="([^"]*)".*/\1/')
	[ $(((gpa + hva - shva) >> 12)) -eq $((gfn)) ] || wrong=$((wrong + 1))
done <zaps
if [ "$unmaps" -gt 0 ] && [ "$(wc -l <zaps)" -eq "$unmaps" ] && [ "$wrong" -eq 0 ]; then
	ok "each kvm_unmap_hva_range is reported with the gfns it zaps ($unmaps)"
else
	not_ok "invalidated gfns: $(wc -l <zaps) of $unmaps reported, $wrong wrong"
fi
interrupts=$(grep -c 'reason EXTERNAL_INTERRUPT' f.log)
noted=$(grep -c '^f\.log:[0-9]*: kvm_exit: exit reason EXTERNAL_INTERRUPT: ' f.out)
if [ "$interrupts" -gt 0 ] && [ "$noted" -eq "$interrupts" ] &&
   grep -q "not modelled *$interrupts x exit reason EXTERNAL_INTERRUPT" f.out; then
	ok "each unmodelled line is reported with its line, and counted ($interrupts)"
else
	not_ok "unmodelled lines: $noted reported of $interrupts" "$(head -n 2 f.out)"
fi
# --explain on the captures of two catalogue races replayed by kvmsim: one whose interleaving
# lies between two tracepoints' reach (04: the replay agrees on every line), one that does not
# (06: two vCPUs race on one compare-exchange inside their faults; the import's schedule, at exit
# boundaries, cannot repeat that, and the lost compare-exchange shows as different lines)
"$kvmsim" replay "$src/traces/04-unrelated-invalidation-in-progress.xml" --log-format ftrace \
	--log r04.log >/dev/null 2>&1
"$kvmsim" replay "$src/traces/06-two-vcpus-one-gfn.xml" --log-format ftrace --log r06.log \
	>/dev/null 2>&1
"$kvmsim" import r04.log -o r04.xml --explain >e04.out 2>&1
s04=$?
"$kvmsim" import r06.log -o r06.xml --explain >e06.out 2>&1
s06=$?
if [ "$s04" -eq 0 ] && grep -qE '^  kvm_page_fault +[1-9][0-9]* +0 +0 +0$' e04.out &&
   grep -q '^  same       spte gfn ' e04.out && [ "$s06" -eq 1 ] &&
   grep -qE '^r06\.log:[0-9]+: [a-z_]+: different: ' e06.out; then
	ok "--explain says same, different or not modelled per event and per expectation"
else
	not_ok "--explain: status $s04 and $s06" "$(tail -n 3 e04.out)" "$(tail -n 3 e06.out)"
fi

# --- import: damaged captures read as the clean one -------------------------------------------
trace_body f.xml >f.body
for mode in wrap elide interleave pf-gen1 pf-gen2 raw quote qemu; do
	$damage "$mode" f.log "d-$mode.txt"
	"$kvmsim" import "d-$mode.txt" -o "d-$mode.xml" >"d-$mode.out" 2>err
	trace_body "d-$mode.xml" >"d-$mode.body" 2>/dev/null
	if cmp -s f.body "d-$mode.body" && xmllint --noout --relaxng "$rng" "d-$mode.xml" 2>/dev/null
	then
		ok "a capture damaged by '$mode' imports as the clean one: $(tail -n 1 "d-$mode.out" |
			sed -E 's/.*\(([^)]*)\).*/\1/')"
	else
		not_ok "'$mode' imports differently" "$(head -n 2 err)" \
			"$(diff f.body "d-$mode.body" | head -n 4)"
	fi
done
if grep -q ' 0 elisions' d-elide.out || grep -q ' 0 wrapped lines joined' d-wrap.out ||
   ! grep -q "others skipped" d-interleave.out || grep -q ' 0 others skipped' d-interleave.out
then
	not_ok "the damage was not seen" "$(tail -n 1 d-elide.out)" "$(tail -n 1 d-wrap.out)"
else
	ok "elisions, joined wraps and skipped other events are counted"
fi
$damage amd f.log d-amd.txt
"$kvmsim" import d-amd.txt -o d-amd.xml >d-amd.out 2>err
if sed -n '/<events>/,/<\/schedule>/p' d-amd.xml | cmp -s - "$(sed -n '/<events>/,/<\/schedule>/p' f.xml >f.ev; echo f.ev)" &&
   grep -q 'AMD NPT capture' d-amd.out && ! grep -q '<spte ' d-amd.xml; then
	ok "AMD exit names and NPF error codes import as the same exits; NPT SPTEs are reported"
else
	not_ok "the AMD capture" "$(head -n 2 err)" "$(tail -n 1 d-amd.out)"
fi

# --- import: trace.dat and trace-cmd report text ----------------------------------------------
"$kvmsim" import t.dat -o t.xml >t.out 2>err
if trace_body t.xml | cmp -s f.body -; then
	ok "the trace.dat imports (libtracecmd) as the text capture of the same run"
else
	not_ok "the trace.dat imports differently" "$(head -n 2 err)"
fi
if command -v trace-cmd >/dev/null 2>&1; then
	"$kvmsim" import report.txt -o report.xml >/dev/null 2>err
	if trace_body report.xml | cmp -s f.body -; then
		ok "trace-cmd report text (the kvm plugin's kvm_exit) imports as the log does"
	else
		not_ok "the report text imports differently" "$(head -n 2 err)"
	fi
fi
slots=$(sed -nE 's/.*memslot id="[0-9]+" gpa="([^"]*)" size="([^"]*)" hva="([^"]*)".*/--memslot \1,\2,\3/p' f.xml | tr '\n' ' ')
"$kvmsim" import f.log $slots -o m.xml >/dev/null 2>err
if trace_body m.xml | cmp -s f.body -; then
	ok "--memslot giving the capture's memslots imports the same trace"
else
	not_ok "--memslot $slots" "$(head -n 2 err)"
fi

# --- a capture as a kernel gives it: no kvmsim events, so no memslots and no host addresses --
grep -v ' sim_' f.log >kernel.txt
"$kvmsim" import kernel.txt -o kernel.xml >kernel.out 2>err
status=$?
unplaced=$(grep -c "hva range in no memslot's host range" kernel.out)
hva_lines=$(grep -cE ' (kvm_unmap_hva_range|kvm_age_hva): ' kernel.txt)
"$kvmsim" replay kernel.xml >kernel.replay 2>&1
rstatus=$?
if [ "$status" -eq 0 ] && xmllint --noout --relaxng "$rng" kernel.xml 2>/dev/null &&
   grep -q '<memslot id="0" gpa="0x0" size="0x200000" hva="0x7f0000000000"/>' kernel.xml &&
   [ "$unplaced" -eq "$hva_lines" ] && [ "$rstatus" -le 1 ] &&
   ! grep -q 'FAIL  .*step' kernel.replay; then
	ok "a capture without memslots gets them inferred (2 MiB runs) and replays; its $hva_lines host ranges are reported"
else
	not_ok "the capture without memslots: import $status, replay $rstatus, $unplaced of $hva_lines reported" \
		"$(head -n 2 err)" "$(grep -m 2 FAIL kernel.replay)"
fi
"$kvmsim" import kernel.txt $slots -o kernel-m.xml >/dev/null 2>err
if trace_body kernel-m.xml | cmp -s f.body -; then
	ok "with --memslot, a capture without kvmsim's lines imports as the one with them"
else
	not_ok "kernel.txt with --memslot imports differently" "$(head -n 2 err)"
fi

# --- bad input -------------------------------------------------------------------------------
must_fail "an unreadable capture" missing.txt
printf '          <idle>-0     [000]     1.000000: sched_switch:         prev_comm=a\n' >other.txt
must_fail "a capture with nothing kvm in it" other.txt
head -c 4096 /dev/urandom >noise.bin
must_fail "a binary file" noise.bin
must_fail "--memslot with two fields" f.log --memslot 0x0,1G
must_fail "--memslot not page aligned" f.log --memslot 0x1,1G,0x7f0000000000
must_fail "--memslot not numbers" f.log --memslot a,b,c
must_fail "--memslots overlapping" f.log --memslot 0x0,1M,0x7f0000000000 --memslot 0x80000,1M,0x7f0000800000
must_fail "--strict with lines not modelled" f.log --strict
if grep -qE '^kvmsim: error: f\.log:[0-9]+: kvm_exit: exit reason EXTERNAL_INTERRUPT' err; then
	ok "--strict names the first line not modelled"
else
	not_ok "--strict's message" "$(cat err)"
fi
"$kvmsim" import f.log -o - >out 2>err
if [ $? -eq 2 ] && [ "$(wc -l <err)" -eq 1 ] && [ ! -s out ]; then
	ok "-o - is refused (the trace is loaded back from its file)"
else
	not_ok "-o -" "$(cat err)"
fi
rm -f out.xml
if "$kvmsim" import f.log -o missing-dir/out.xml >/dev/null 2>err; then
	not_ok "-o in a missing directory succeeded"
else
	ok "-o in a missing directory is refused"
fi

echo "1..$n"
exit $failed
