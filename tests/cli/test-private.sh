#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Private memory from the command line (issue 8): the private, implicit and reboot workloads
# on a KVM_X86_SW_PROTECTED_VM under both conversion designs, what --stats says about them, and
# the --compare-conversions table. TAP output.
#
# usage: test-private.sh PATH/TO/kvmsim
set -u

. "$(dirname "$0")/../tap.sh"
kvmsim=$(tap_abs "$1")
tap_init private

# stat JSON SECTION NAME: a counter of a --stats file ("exits" "memory_fault").
stat() {
	tr -d ' \n' <"$1" | sed "s/.*\"$2\":{\([^}]*\)}.*/\1/" | tr ',' '\n' |
		sed -n "s/^\"$3\":\([0-9]*\)$/\1/p"
}

# check NAME CONDITION-COMMAND...: one case from a shell condition.
check() {
	name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name" "$(head -5 "$base/out")"; fi
}

# run_stats ARGS...: kvmsim run ARGS with --stats $base/s.json, output in $base/out.
run_stats() {
	"$kvmsim" run "$@" --stats "$base/s.json" >"$base/out" 2>&1
}

echo "1..16"
events=migrate=100,punch=20,convert=20,age=20
for design in legacy in-place; do
	private_ok() {
		run_stats private --vm-type sw-protected --gmem-conversion "$design" --mem 4M \
			--seed 2 --host-events "$events" &&
		[ "$(stat "$base/s.json" exits memory_fault)" -gt 0 ] &&
		[ "$(stat "$base/s.json" exits user_hypercall)" -gt 0 ] &&
		[ "$(stat "$base/s.json" gmem allocated)" -gt 0 ] &&
		[ "$(stat "$base/s.json" gmem punched)" -gt 0 ] &&
		[ "$(stat "$base/s.json" gmem converted_to_private)" -gt 0 ] &&
		[ "$(stat "$base/s.json" gmem converted_to_shared)" -gt 0 ] &&
		[ "$(stat "$base/s.json" faults retry)" -gt 0 ]
	}
	check "private $design with $events passes, every conversion counter non-zero" private_ok

	implicit_ok() {
		run_stats implicit --vm-type sw-protected --gmem-conversion "$design" --mem 4M \
			--host-events convert=100 --host-events-every 2 &&
		[ "$(stat "$base/s.json" exits memory_fault)" -gt 0 ] &&
		[ "$(stat "$base/s.json" exits user_hypercall)" -eq 0 ] &&
		[ "$(stat "$base/s.json" exits hypercall)" -eq 0 ]
	}
	check "implicit $design converts only through memory faults, with no hypercall" implicit_ok

	reboot_ok() {
		"$kvmsim" run reboot --vm-type sw-protected --gmem-conversion "$design" --mem 1M \
			>"$base/out" 2>&1 &&
		grep -q "second boot found the private pages" "$base/out"
	}
	check "reboot $design: the private pages outlive the first VM" reboot_ok
done

# --gmem-hugepage 2M: each vCPU converts a whole 2 MiB frame (--param 1=512), so a frame is
# uniformly private at times: 2M private leaves (bit 7 in the log's level-2 SPTEs), zapped by
# 4K conversions and punches; in-place, the folios split on shared and merge back on private
leaf_2m="kvm_tdp_mmu_spte_changed: as id 0 gfn [0-9a-f]* level 2 old_spte [0-9a-f]* "
leaf_2m="${leaf_2m}new_spte [0-9a-f]*[89a-f][0-9a-f]$" # bit 7: a 2M leaf
for design in legacy in-place; do
	huge_ok() {
		run_stats private --vm-type sw-protected --gmem-conversion "$design" \
			--gmem-hugepage 2M --mem 4M --param 0=2 --param 1=512 --seed 3 \
			--host-events "$events" --log "$base/huge.log" &&
		[ "$(stat "$base/s.json" tdp_mmu huge_leaves)" -gt 0 ] &&
		[ "$(stat "$base/s.json" tdp_mmu huge_zapped)" -gt 0 ] &&
		grep -q "$leaf_2m" "$base/huge.log" &&
		if [ "$design" = in-place ]; then
			[ "$(stat "$base/s.json" gmem huge_split)" -gt 0 ] &&
			[ "$(stat "$base/s.json" gmem huge_merge)" -gt 0 ]
		fi
	}
	check "private $design --gmem-hugepage 2M maps 2M private leaves and zaps them" huge_ok

	# without host events the guest accepts nothing but what the design promises
	huge_strict_ok() {
		run_stats private --vm-type sw-protected --gmem-conversion "$design" \
			--gmem-hugepage 2M --mem 4M --param 0=2 --param 1=512 &&
		grep -q "corrupt=0 errors=0 result=pass" "$base/out" &&
		[ "$(stat "$base/s.json" tdp_mmu huge_leaves)" -gt 0 ]
	}
	check "private $design --gmem-hugepage 2M without host events: content as designed" \
		huge_strict_ok
done

# legacy --thp: the shared half of the data region is the memslot's anonymous memory,
# madvise(MADV_HUGEPAGE)d like any guest RAM; a conversion's MADV_DONTNEED splits its PMD
thp_shared_ok() {
	run_stats private --vm-type sw-protected --gmem-conversion legacy --thp --mem 4M &&
	[ "$(stat "$base/s.json" thp split_pmd)" -gt 0 ]
}
check "private legacy --thp: the shared half gets THP, split by the discards" thp_shared_ok

# usage_error ARGS...: kvmsim run ARGS exits 2 with one line on stderr
usage_error() {
	"$kvmsim" run private "$@" >"$base/out" 2>"$base/err"
	[ $? -eq 2 ] && [ "$(wc -l <"$base/err")" -eq 1 ]
}
check "--gmem-hugepage on a default VM is a usage error" usage_error --gmem-hugepage 2M
check "--gmem-hugepage 1G with --mem 64M (not whole 1 GiB pages) is a usage error" \
	usage_error --vm-type sw-protected --gmem-hugepage 1G --mem 64M

default_ok() {
	"$kvmsim" run private --mem 1M >"$base/out" 2>&1 &&
	grep -q "MAP_GPA_RANGE returned -1000" "$base/out"
}
check "on a default VM MAP_GPA_RANGE is not forwarded: -KVM_ENOSYS" default_ok

compare_ok() {
	"$kvmsim" run private --vm-type sw-protected --compare-conversions --mem 1M \
		--host-events convert=10 >"$base/out" 2>&1 &&
	grep -q '^| exits: KVM_EXIT_HYPERCALL  *| *[1-9][0-9]* | *[1-9][0-9]* |$' "$base/out" &&
	grep -q '^legacy    pass' "$base/out" && grep -q '^in-place  pass' "$base/out"
}
check "--compare-conversions prints both designs side by side, both pass" compare_ok

determinism_ok() {
	"$kvmsim" run private --vm-type sw-protected --gmem-conversion in-place --mem 1M \
		--host-events "$events" --log "$base/a.log" >/dev/null 2>&1 &&
	"$kvmsim" run private --vm-type sw-protected --gmem-conversion in-place --mem 1M \
		--host-events "$events" --log "$base/b.log" >/dev/null 2>&1 &&
	cmp -s "$base/a.log" "$base/b.log"
}
check "the same private run twice logs the same bytes" determinism_ok
exit $failed
