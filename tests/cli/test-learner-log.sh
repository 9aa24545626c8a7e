#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The log a learner can follow (issue 11 item 6): each of kvmsim's explaining lines appears
# where the run must print it — the stale-TLB window (trace 07), the mmu_lock holder and
# waiters at a block (trace 12), a lost compare-exchange and why (traces 06 and 11), the seq
# snapshot (traces 02 and 03), the instruction behind each EPT violation and MMIO exit (touch,
# mmio) — as many as the counters say, and the kernel's kvm_exit line stays as it was. TAP.
#
# usage: test-learner-log.sh PATH/TO/kvmsim TRACES_DIR
set -u

. "$(dirname "$0")/../tap.sh"
kvmsim=$(tap_abs "$1")
traces=$(tap_abs "$2")
tap_init learner-log

# check NAME CONDITION-COMMAND...: one case from a shell condition; the log is $base/log.
check() {
	name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name" "$(grep -m5 'sim_' "$base/log")"; fi
}

# replay NN: replay catalogue trace NN with its log in $base/log.
replay() {
	"$kvmsim" replay "$traces/$1"-*.xml --log "$base/log" >"$base/out" 2>&1
}

# probe NAME: a probes.* counter of $base/s.json.
probe() {
	tr -d ' \n' <"$base/s.json" | sed "s/.*\"probes\":{\([^}]*\)}.*/\1/" | tr ',' '\n' |
		sed -n "s/^\"$1\":\([0-9]*\)$/\1/p"
}

# lines PATTERN: how many lines of $base/log match the extended regex PATTERN.
lines() {
	grep -cE "$1" "$base/log"
}

# has TEXT: some line of $base/log ends with TEXT (exactly: no pattern characters).
has() {
	awk -v s="$1" 'substr($0, length($0) - length(s) + 1) == s { f = 1 } END { exit !f }' \
		"$base/log"
}

# followed PATTERN NEXT: every line matching PATTERN is followed at once by one matching NEXT,
# and there is at least one.
followed() {
	awk -v p="$1" -v q="$2" '
		want { if ($0 !~ q) bad = 1; want = 0 }
		$0 ~ p { want = 1; n++ }
		END { exit !(n > 0 && !bad && !want) }' "$base/log"
}

echo "1..9"

stale_ok() {
	enter="vcpu0     sim_stale_tlb_enter: vcpu 0 enters the guest with 1 zapped translation"
	enter="$enter still in its TLB (no flush yet): gfn 0x400 pfn 0x80004 zapped at step 40"
	end="vcpu0     sim_stale_tlb_end: vcpu 0: the TLB flush drops 1 zapped translation;"
	end="$end stale since its entry at step 41"
	replay 07 && has "$enter" && has "$end" && [ "$(lines 'sim_stale_tlb_end')" -eq 1 ] &&
	# the window closes after it opened, and at the flush
	[ "$(grep -n 'sim_stale_tlb_enter' "$base/log" | tail -1 | cut -d: -f1)" -lt \
	  "$(grep -n 'sim_stale_tlb_end' "$base/log" | cut -d: -f1)" ] &&
	grep -B1 'sim_stale_tlb_end' "$base/log" | grep -q 'sim_tlb_flush: vcpu 0$'
}
check "trace 07: the vCPU enters with the zapped gfn 0x400 still cached, the flush ends it" stale_ok

lock_ok() {
	writer="notifier (write, announced: no new reader gets in)"
	replay 12 &&
	has "notifier  sim_lock_wait: mmu_lock for write waits for the readers to leave: held by \
vcpu0 (read); waiters in order: $writer" &&
	has "vcpu1     sim_lock_wait: mmu_lock for read queues on wait_lock: held by vcpu0 (read); \
waiters in order: $writer, vcpu1 (read, queued on wait_lock)" &&
	[ "$(lines 'sim_lock_wait')" -eq 2 ]
}
check "trace 12: each block on mmu_lock names the holder, its mode and the waiters in order" lock_ok

cmpxchg_ok() {
	replay 06 &&
	has "vcpu0     sim_spte_cmpxchg_lost: tdp_mmu gfn 0x5 level 1 expected 0x8000000000000000 \
found 0x8610000080000b77 wanted 0x8610000080000b77: another install: a leaf" &&
	[ "$(lines 'sim_spte_cmpxchg_lost')" -eq 1 ] &&
	replay 11 &&
	frozen='sim_spte_cmpxchg_lost: fast_page_fault gfn 0x5 level 1 expected .* found '
	grep -q "${frozen}0x80000000000005a0 .*: frozen: " "$base/log"
}
check "traces 06 and 11: a lost cmpxchg says what the SPTE held (another install, frozen)" \
	cmpxchg_ok

seq_ok() {
	snap="sim_fault_seq_snapshot: vcpu 0 gfn 5 mmu_seq"
	replay 02 &&
	[ "$(grep -o 'sim_fault_seq_snapshot: .*' "$base/log" | tr '\n' '|')" = \
	  "$snap 0 in_progress 0|$snap 1 in_progress 0|" ] &&
	replay 03 && has "$snap 0 in_progress 1 range 0x5-0x6"
}
check "traces 02 and 03: each fault's seq snapshot, with the invalidation in progress" seq_ok

touch_run() {
	"$kvmsim" run touch --vcpus 2 --mem 1M --seed 4 --host-events migrate=8 \
		--log "$base/log" --stats "$base/s.json" >"$base/out" 2>&1
}

insn_ok() {
	touch_run &&
	followed 'kvm_exit: vcpu [0-9]+ reason EPT_VIOLATION' \
		'sim_exit_insn: vcpu [0-9]+ rip 0x[0-9a-f]+: [a-z]' &&
	[ "$(lines 'kvm_exit: .*EPT_VIOLATION')" -eq "$(lines 'sim_exit_insn')" ] &&
	store='sim_exit_insn: vcpu 0 rip 0x[0-9a-f]*: mov qword ptr \[rdx\], rax'
	grep -q "$store (write of gpa 0x400000)\$" "$base/log" &&
	# the exit's rip is the instruction's
	awk '/kvm_exit: .*EPT_VIOLATION/ { rip = $9; next }
	     /sim_exit_insn/ { if ($7 != rip ":") bad = 1 }
	     END { exit bad }' "$base/log"
}
check "touch: every EPT violation's kvm_exit is followed by its instruction, disassembled" insn_ok

counts_ok() {
	[ "$(lines 'sim_stale_tlb_enter')" -eq "$(probe entry_with_stale_tlb)" ] &&
	[ "$(lines 'sim_spte_cmpxchg_lost')" -eq "$(probe spte_cmpxchg_lost)" ] &&
	[ "$(probe entry_with_stale_tlb)" -gt 0 ]
}
check "touch: a stale-TLB entry line per probes.entry_with_stale_tlb, a lost-cmpxchg line \
per probes.spte_cmpxchg_lost" counts_ok

mmio_ok() {
	"$kvmsim" run mmio --log "$base/log" >"$base/out" 2>&1 &&
	followed 'kvm_exit: vcpu 0 reason EPT_MISCONFIG' 'sim_exit_insn: .*\(MMIO access of gpa 0x' &&
	store='sim_exit_insn: vcpu 0 rip 0x[0-9a-f]*: mov dword ptr \[rax\], 0xfeedf00d'
	grep -q "$store (MMIO access of gpa 0x" "$base/log"
}
check "mmio: every EPT misconfig exit names the MMIO instruction" mmio_ok

# kvm_exit is the kernel's line, whole: the instruction is not appended to it
format_ok() {
	touch_run && [ "$(lines ' kvm_exit: ')" -gt 0 ] &&
	! grep -E ' kvm_exit: ' "$base/log" | grep -qvE "^ *[0-9]+ vcpu[0-9]+ +kvm_exit: vcpu [0-9]+ \
reason [A-Z_]+ rip 0x[0-9a-f]+ info1 0x[0-9a-f]{16} info2 0x[0-9a-f]{16} intr_info 0x[0-9a-f]{8} \
error_code 0x[0-9a-f]{8} requests 0x[0-9a-f]{16}$"
}
check "kvm_exit keeps the kernel's format: the instruction is on its own line" format_ok

# no log, no disassembly: the same run without a log gives the same stats
nolog_ok() {
	touch_run && cp "$base/s.json" "$base/s-log.json" &&
	"$kvmsim" run touch --vcpus 2 --mem 1M --seed 4 --host-events migrate=8 \
		--stats "$base/s.json" >"$base/out" 2>&1 &&
	tr -d ' \n' <"$base/s.json" >"$base/a" &&
	tr -d ' \n' <"$base/s-log.json" | sed 's/,"log_hash":"sha256:[0-9a-f]*"//' >"$base/b" &&
	cmp -s "$base/a" "$base/b"
}
check "the learner's lines change nothing the model does: the same stats with or without a log" \
	nolog_ok
exit $failed
