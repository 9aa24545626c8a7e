/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The catalogue of protocol mutations. Each entry says, in kvmsim's words, what the planted bug
 * does and which kernel code it perverts; the hook that plants it sits next to the code it
 * changes (mmu/fault.c, mmu/invalidate.c, mmu/notifier.c, mmu/tdp_mmu.c, sim/core/mm-ops.c).
 *
 * Kernel code named here was read in ColinIanKing/linux-next: virt/kvm/kvm_main.c at 03b9d314
 * (kvm_handle_hva_range(), kvm_mmu_invalidate_begin/range_add/end(),
 * kvm_mmu_notifier_invalidate_range_start/end()); arch/x86/kvm/mmu/mmu.c at 1c60d04a
 * (kvm_mmu_faultin_pfn(), is_page_fault_stale(), kvm_tdp_mmu_page_fault()); tdp_mmu.c at
 * 1c60d04a (tdp_mmu_iter_cond_resched(), tdp_mmu_zap_leafs(), kvm_tdp_mmu_unmap_gfn_range(),
 * tdp_mmu_map_handle_target_level()); include/linux/kvm_host.h at a66ec810
 * (mmu_invalidate_retry_gfn() and its _unsafe() twin). The two historical fixes named
 * (d62007edf01f, a835429cda91) are cited as issue 9 gives them; their commit text was not read
 * here, only the v6.18 code that carries the fix.
 */
#include "sim/core/mutations.h"

#include <string.h>

static const SimMutationInfo catalogue[SIM_MUT_COUNT] = {
	/* mmu.c is_page_fault_stale(): after the obsolete-root tests it returns fault->slot &&
	 * mmu_invalidate_retry_gfn(); kvm_tdp_mmu_page_fault() calls it under read_lock. */
	[SIM_MUT_NO_STALE_CHECK] = {
		"no_stale_check",
		"is_page_fault_stale() never asks mmu_invalidate_retry_gfn() under mmu_lock: an "
		"invalidation that starts after the lockless pre-checks lets a stale pfn be mapped",
		FALSE, NULL },
	/* mmu.c kvm_mmu_faultin_pfn(): fault->mmu_seq = mmu_invalidate_seq; smp_rmb(); first, then
	 * the unsafe pre-check, __kvm_mmu_faultin_pfn(), the second pre-check. */
	[SIM_MUT_SEQ_SNAPSHOT_AFTER_PFN] = {
		"seq_snapshot_after_pfn",
		"kvm_mmu_faultin_pfn() reads mmu_invalidate_seq after hva_to_pfn(), not before "
		"(and so without the pre-check that needs it): an invalidation that ends while the "
		"pfn is looked up is never seen",
		FALSE, NULL },
	/* kvm_host.h mmu_invalidate_retry_gfn(): if in_progress, retry when the gfn is in
	 * [range_start, range_end); then retry when the seq moved. */
	[SIM_MUT_STALE_IGNORES_IN_PROGRESS] = {
		"stale_ignores_in_progress",
		"mmu_invalidate_retry_gfn() compares only the seq, not the in-progress range: a "
		"fault that takes mmu_lock between an invalidation's start and end maps the page "
		"being taken away",
		FALSE, NULL },
	/* kvm_main.c kvm_mmu_invalidate_begin() only raises in_progress (and resets the range at 0
	 * -> 1); kvm_mmu_invalidate_end() does seq++, smp_wmb(), in_progress--. */
	[SIM_MUT_SEQ_BUMP_AT_BEGIN] = {
		"seq_bump_at_begin",
		"kvm_mmu_invalidate_begin() bumps mmu_invalidate_seq, _end() does not: a fault "
		"that snapshots inside the window (its gfn not yet in the range, e.g. a second "
		"memslot of one hva range) passes every check once the window closes",
		FALSE, NULL },
	/* mmu.c kvm_tdp_mmu_page_fault(): read_lock(&kvm->mmu_lock), then is_page_fault_stale();
	 * mmu_invalidate_retry_gfn() asserts the lock (lockdep). */
	[SIM_MUT_STALE_CHECK_UNLOCKED] = {
		"stale_check_unlocked",
		"kvm_tdp_mmu_page_fault() runs is_page_fault_stale() before read_lock(mmu_lock): "
		"an invalidation that starts while the fault waits for the lock is not seen "
		"(lockdep would flag the kernel; kvmsim waives its assertion to show the race)",
		FALSE, NULL },
	/* kvm_main.c kvm_mmu_invalidate_end(): seq++, smp_wmb(), then in_progress-- (the wmb pairs
	 * with the rmb of the lockless mmu_invalidate_retry()). */
	[SIM_MUT_SEQ_BUMP_ORDER_SWAPPED] = {
		"seq_bump_order_swapped",
		"kvm_mmu_invalidate_end() drops mmu_invalidate_in_progress before it bumps the seq",
		TRUE,
		"both stores happen under the write lock with no yield point between them, so no "
		"check, locked or lockless, can run in between; in the kernel only the lockless "
		"hint could, and is_page_fault_stale() under mmu_lock decides" },
	/* kvm_main.c kvm_mmu_unmap_gfn_range(): kvm_mmu_invalidate_range_add() then
	 * kvm_unmap_gfn_range(); kvm_mmu_invalidate_end() WARNs if range_start is INVALID_GPA. */
	[SIM_MUT_NO_RANGE_ADD] = {
		"no_range_add",
		"kvm_mmu_unmap_gfn_range() zaps without kvm_mmu_invalidate_range_add(): the window "
		"has no range, which the kernel's WARN in kvm_mmu_invalidate_end() reports (and "
		"the locked check turns into a retry of every fault meanwhile)",
		FALSE, NULL },
	/* kvm_main.c kvm_handle_hva_range(): if (flush_on_ret && ret) kvm_flush_remote_tlbs(), then
	 * KVM_MMU_UNLOCK(). */
	[SIM_MUT_FLUSH_AFTER_UNLOCK] = {
		"flush_after_unlock",
		"kvm_handle_hva_range() requests the remote TLB flush after dropping mmu_lock: a "
		"second invalidation of the page finds nothing left to zap, skips its flush and "
		"frees the frame a vCPU TLB still maps",
		FALSE, NULL },
	/* kvm_main.c kvm_mmu_notifier_invalidate_range_start(): flush_on_ret = true, so
	 * kvm_handle_hva_range() flushes whenever the unmap handler zapped something. */
	[SIM_MUT_NO_REMOTE_FLUSH] = {
		"no_remote_flush",
		"kvm_handle_hva_range() never calls kvm_flush_remote_tlbs() after a zap: vCPU TLBs "
		"keep translations to frames the host then frees",
		FALSE, NULL },
	/* mm/memory.c zap_page_range_single(): tlb_gather_mmu(), then notifier start, unmap,
	 * notifier end (zap_page_range_single_batched()), then tlb_finish_mmu() frees the pages (as
	 * linux-mm patch context of 2026 quotes it; no tree read). */
	[SIM_MUT_FREE_BEFORE_END] = {
		"free_before_end",
		"MADV_DONTNEED and munmap free the frames before invalidate_range_end(), not after",
		TRUE,
		"KVM zaps and flushes in invalidate_range_start(); until its end the in-progress "
		"range keeps every fault of those gfns from mapping, and a frame a fault has "
		"pinned is freed only at its last put, so nothing of KVM can reach the frame any "
		"more" },
	/* tdp_mmu.c tdp_mmu_map_handle_target_level(): the leaf goes in with
	 * tdp_mmu_set_spte_atomic() (try_cmpxchg64); failure -> RET_PF_RETRY. */
	[SIM_MUT_INSTALL_PLAIN_STORE] = {
		"install_plain_store",
		"tdp_mmu_map_handle_target_level() writes the leaf with a plain store, not "
		"tdp_mmu_set_spte_atomic()'s compare-exchange: a fault overwrites what another "
		"installed meanwhile (in kvmsim always the same translation, so an expectation, "
		"not an invariant, sees the second install)",
		FALSE, NULL },
	/* tdp_mmu.c kvm_tdp_mmu_unmap_gfn_range(): root types from the attribute filter |
	 * KVM_INVALID_ROOTS, so invalid roots are zapped too. */
	[SIM_MUT_UNMAP_VALID_ROOTS_ONLY] = {
		"unmap_valid_roots_only",
		"kvm_tdp_mmu_unmap_gfn_range() walks only valid roots (the bug d62007edf01f "
		"fixed): a root a fast zap invalidated but has not torn down yet keeps mapping a "
		"frame the host frees",
		FALSE, NULL },
	/* tdp_mmu.c tdp_mmu_iter_cond_resched(): "if (flush) kvm_flush_remote_tlbs(kvm)" before
	 * dropping mmu_lock; tdp_mmu_zap_leafs() then clears flush. */
	[SIM_MUT_YIELD_DROPS_FLUSH] = {
		"yield_drops_flush",
		"tdp_mmu_iter_cond_resched() yields mmu_lock without the pending flush while its "
		"caller forgets it (the bug a835429cda91 fixed): zapped translations outlive the "
		"invalidation",
		FALSE, NULL },
	/* mmu.c kvm_mmu_faultin_pfn(): the two mmu_invalidate_retry_gfn_unsafe() calls, commented
	 * as avoiding mmu_lock contention; is_page_fault_stale() is "one last time". */
	[SIM_MUT_NO_UNSAFE_PRECHECK] = {
		"no_unsafe_precheck",
		"kvm_mmu_faultin_pfn() skips both lockless mmu_invalidate_retry_gfn_unsafe() "
		"pre-checks",
		TRUE,
		"they only spare a doomed fault the pfn lookup and mmu_lock (the kernel's comments "
		"say so); is_page_fault_stale() under mmu_lock sees everything they would" },
	/* Historical bugs (issue 13), named after the fix that removed them; each entry says what
	 * the code did before the fix, the fix's subject and the kernels it affected
	 * (docs/historical-races.md has the race, its timeline and its trace). */
	/* tdp_iter.h kvm_tdp_mmu_write_spte() before ba3a6120a4e7 (read as the fix's diff, kvm
	 * list, Message-Id 20220423034752.1161007-4-seanjc@google.com). */
	[SIM_MUT_PRE_BA3A6120A4E7] = {
		"pre-ba3a6120a4e7",
		"kvm_tdp_mmu_write_spte() under the write mmu_lock always stores with WRITE_ONCE, "
		"even when the old SPTE has volatile bits: a Writable bit the lockless fast page "
		"fault set (or a Dirty bit the CPU set) after the walk read the SPTE is lost, and "
		"handle_changed_spte() books a value the SPTE no longer held. Fixed by \"KVM: "
		"x86/mmu: Use atomic XCHG to write TDP MMU SPTEs with volatile bits\" "
		"(ba3a6120a4e7, v5.18); affected v5.10 (2f2fad0897cb) to v5.17",
		FALSE, NULL },
	/* x86.c kvm_mmu_slot_apply_flags() before b64d740ea7dd (read in the fix's diff and the
	 * v6.9-era tree: the unconditional kvm_flush_remote_tlbs_memslot()). */
	[SIM_MUT_PRE_B64D740EA7DD] = {
		"pre-b64d740ea7dd",
		"enabling dirty logging flushes TLBs only if write-protecting the slot cleared some "
		"Writable bit: an SPTE that aging made access-tracked (W already clear, no flush, as "
		"clear_young() never flushes) leaves a writable TLB entry, and guest writes through "
		"it never reach the dirty bitmap. Fixed by \"kvm: x86: mmu: Always flush TLBs when "
		"enabling dirty logging\" (b64d740ea7dd, v5.16); affected kernels before v5.16 "
		"that age SPTEs without A/D bits and without a TLB flush (clear_young())",
		FALSE, NULL },
	/* guest_memfd.c kvm_gmem_invalidate_begin() of the guest_memfd series before the fix was
	 * squashed in (v12/v13 postings, 2023; commit text not read, the v12 code from memory of
	 * the posting, checked against the v6.18 code that has found_memslot). */
	[SIM_MUT_PRE_B25AB9CAE30F] = {
		"pre-b25ab9cae30f",
		"kvm_gmem_invalidate_begin() takes mmu_lock and calls kvm_mmu_invalidate_begin() for "
		"every file of the inode, bound or not, while _end() closes the window only if a "
		"binding overlaps the range: a punch outside every memslot leaves "
		"mmu_invalidate_in_progress raised with no range, and every later fault retries. "
		"Fixed by \"KVM: Fix MMU invalidation bookkeeping in guest_memfd\" (b25ab9cae30f, "
		"kvm-x86 guest_memfd branch, before the v6.8 merge); no release affected",
		FALSE, NULL },
	/* kvm_main.c kvm_pre_set_memory_attributes() and x86 kvm_arch_pre_set_memory_attributes()
	 * of the guest_memfd series (v12, 2023-09, read in its kvm list posting: the hook skipped
	 * a slot that kvm_slot_can_be_private() refused, and only its kvm_mmu_unmap_gfn_range()
	 * added a range). */
	[SIM_MUT_PRE_69C7916DF569] = {
		"pre-69c7916df569",
		"KVM_SET_MEMORY_ATTRIBUTES adds a memslot's range to the invalidation set only "
		"through the arch hook's kvm_mmu_unmap_gfn_range(), which x86 skips for a slot "
		"without guest_memfd: a fault on such a gfn meets an in-progress window that does "
		"not cover it and maps it with the attribute being changed. Fixed by \"KVM: Always "
		"add relevant ranges to invalidation set when changing attributes\" "
		"(69c7916df569, before the v6.8 merge); no release affected",
		FALSE, NULL },
	/* kvm_main.c kvm_vm_set_mem_attributes(): the post pass's on_lock is
	 * kvm_mmu_invalidate_end(), inside the mmu_lock hold of kvm_handle_gfn_range(). */
	[SIM_MUT_PRE_ATTR_END_UNLOCKED] = {
		"pre-attr-end-unlocked",
		"KVM_SET_MEMORY_ATTRIBUTES ends its window after dropping mmu_lock: the seq++ and "
		"in_progress-- are plain read-modify-writes racing those of a locked begin or end "
		"(an MMU notifier's), so one update is lost and the count goes wrong. A pre-merge "
		"review point of the guest_memfd series with no commit of its own; no release "
		"affected",
		FALSE, NULL },
};

const SimMutationInfo *
sim_mutation_info(SimMutation m)
{
	g_return_val_if_fail(m < SIM_MUT_COUNT, NULL);
	return &catalogue[m];
}

gboolean
sim_mutation_lookup(const char *name, SimMutation *out)
{
	for (guint m = 0; m < SIM_MUT_COUNT; m++) {
		if (strcmp(catalogue[m].name, name) == 0) {
			*out = m;
			return TRUE;
		}
	}
	return FALSE;
}

gchar *
sim_mutations_format(SimMutations set)
{
	GString *s = g_string_new(NULL);

	for (guint m = 0; m < SIM_MUT_COUNT; m++)
		if (set & SIM_MUTATION_BIT(m))
			g_string_append_printf(s, "%s%s", s->len ? "," : "", catalogue[m].name);
	return g_string_free(s, FALSE);
}
