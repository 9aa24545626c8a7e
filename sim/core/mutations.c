/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The catalogue of protocol mutations. Each entry says, in kvmsim's words, what the planted bug
 * does and which kernel code it perverts; the hook that plants it sits next to the code it
 * changes (mmu/fault.c, mmu/invalidate.c, mmu/notifier.c, mmu/tdp_mmu.c, mmu/kvm.c,
 * sim/core/mm-ops.c).
 *
 * Kernel code named here was read in ColinIanKing/linux-next: virt/kvm/kvm_main.c at 03b9d314
 * (kvm_handle_hva_range(), kvm_mmu_invalidate_begin/range_add/end(),
 * kvm_mmu_notifier_invalidate_range_start/end()); arch/x86/kvm/mmu/mmu.c at 1c60d04a
 * (kvm_mmu_faultin_pfn(), is_page_fault_stale(), kvm_tdp_mmu_page_fault()); tdp_mmu.c at
 * 1c60d04a (tdp_mmu_iter_cond_resched(), tdp_mmu_zap_leafs(), kvm_tdp_mmu_unmap_gfn_range(),
 * tdp_mmu_map_handle_target_level()); include/linux/kvm_host.h at a66ec810
 * (mmu_invalidate_retry_gfn() and its _unsafe() twin). The historical fixes (pre-<commit>
 * entries, docs/historical-races.md) were read as their patches and stable backports appear on
 * the kvm, linux-kernel and stable lists (the search index's list archives) and, for the
 * version ranges, in the merge logs listing them.
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
	 * notifier end (zap_page_range_single_batched()), then tlb_finish_mmu() frees the pages
	 * (read in ColinIanKing/linux-next at 042acf45, a tree with zap_page_range_single_batched()).
	 * Only zap_pte_range()'s force_flush (a full batch, dirty TLB entries) frees earlier, before
	 * the notifier's end: the case this entry's safety argument covers. */
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
	 * KVM_INVALID_ROOTS, so invalid roots are zapped too. The fix read as its 5.16-stable
	 * backport (stable list, Message-Id 20220405070419.762058246@linuxfoundation.org:
	 * "Fixes: b7cccd397f31", the TDP MMU's fast invalidation of v5.13); it reached mainline in
	 * the v5.18 merge window (the torvalds/linux push of 2022-03-24, 7403e6d82639, lists it). */
	[SIM_MUT_PRE_D62007EDF01F] = {
		"pre-d62007edf01f",
		"kvm_tdp_mmu_unmap_gfn_range() walks only valid roots, as before \"KVM: x86/mmu: "
		"Zap _all_ roots when unmapping gfn range in TDP MMU\" (d62007edf01f, v5.18-rc1, "
		"backported to 5.16 stable; affected v5.13-v5.17, since the TDP MMU's fast zap): "
		"a root a fast zap "
		"invalidated but has not torn down yet keeps mapping a frame the host frees",
		FALSE, NULL },
	/* tdp_mmu.c tdp_mmu_iter_cond_resched(): "if (flush) kvm_flush_remote_tlbs(kvm)" before
	 * dropping mmu_lock; tdp_mmu_zap_leafs() then clears flush. The fix's date: the kvm.git
	 * master push of 2021-04-01 (55626ca9c690) lists it, for v5.12-rc6. */
	[SIM_MUT_PRE_A835429CDA91] = {
		"pre-a835429cda91",
		"a zap yields mmu_lock with its pending flush unserved and never serves it, the "
		"effect of the code before \"KVM: x86/mmu: Ensure TLBs are flushed when yielding "
		"during GFN range zap\" (a835429cda91, v5.12-rc6; affected v5.10-v5.12-rc5), whose "
		"per-root zap did not inherit the flush an earlier root owed (kvmsim has one valid "
		"root, so the plant drops the flush at the yield of that root's walk)",
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
	/* Junaid Shahid's reply to ASI v2 03/29 (reference/asi.md §2.5, js-1): asi_enter()
	 * sets the target before the CR3 switch; the order asi_enter; asi_start_critical;
	 * vmenter is broken. The hook is asi/kvm-run.c's asi_kvm_vmenter(); needs --asi on. */
	[SIM_MUT_ASI_CRITICAL_AFTER_ENTER] = {
		"asi_critical_after_enter",
		"the VM entry switches to the restricted space before it sets the target (js-1's "
		"\"asi_enter; asi_start_critical; vmenter\"): an NMI that faults in between exits "
		"for good, its return finds no target to restore, and the vCPU VM-enters "
		"unrestricted (asi_vmenter_restricted)",
		FALSE, NULL },
	/* mmu.c is_page_fault_stale(): first is_obsolete_sp() of the vCPU's root, under
	 * mmu_lock. The fix read as Greg's failed 5.15-stable backport mail (its commit dated
	 * 2021-11-20); the kvm list's reports of December 2021 find it in v5.16-rc. */
	[SIM_MUT_PRE_A955CAD84CDA] = {
		"pre-a955cad84cda",
		"is_page_fault_stale() does not check that the vCPU's root is still valid, as "
		"before \"KVM: x86/mmu: Retry page fault if root is invalidated by memslot "
		"update\" (a955cad84cda, v5.16-rc; affected v5.13-v5.15): a fault that resolved "
		"its pfn before a fast zap installs into the invalidated root behind the zapper, "
		"and the root is freed still linking the new tables",
		FALSE, NULL },
	/* mmu.c: kvm_tdp_mmu_page_fault() takes mmu_lock for read and never calls
	 * make_mmu_pages_available(); direct_page_fault() (shadow paging) takes it for write
	 * and does. The fix read as its stable backport (stable list, December 2022) and dated by
	 * CVE-2022-45869 ("through 6.1-rc6"). */
	[SIM_MUT_PRE_47B0C2E4C220] = {
		"pre-47b0c2e4c220",
		"the TDP MMU fault path calls make_mmu_pages_available() under mmu_lock held for "
		"read, as direct_page_fault() did before \"KVM: x86/mmu: Fix race condition in "
		"direct_page_fault\" (47b0c2e4c220, v6.1; affected v5.12-v6.0): write-lock-only "
		"shadow-page reclaim runs concurrently in two vCPUs (lockdep-style check)",
		FALSE, NULL },
	/* tdp_mmu.c kvm_tdp_mmu_map(): "if (is_frozen_spte(iter.old_spte)) goto retry;" comes
	 * before "if (iter.level == fault->goal_level) goto map_target_level;". The fix (and
	 * 21a36ac6b6c7 below) reached mainline through the kvm "for-linus" merge 2258c2dc850b of
	 * v6.2-rc2 (a cel/linux push of 2023-01-01 lists both). */
	[SIM_MUT_PRE_F5D16BB9BE68] = {
		"pre-f5d16bb9be68",
		"kvm_tdp_mmu_map() stops at the goal level before it tests for a frozen SPTE, as "
		"before \"KVM: x86/mmu: Don't attempt to map leaf if target TDP MMU SPTE is "
		"frozen\" (f5d16bb9be68, v6.2; affected v6.0-v6.1, since 63d28a25e04c): a fault "
		"compare-exchanges its leaf over a FROZEN_SPTE that a read-lock zapper owns",
		FALSE, NULL },
	/* tdp_mmu.c tdp_mmu_iter_cond_resched() and mmu.c kvm_recover_nx_huge_pages(): the
	 * pending flush, then rcu_read_unlock(), then the rwlock yield. The fix's date: the
	 * torvalds/linux push of 2022-03-24 (v5.18 merge window) lists it. */
	[SIM_MUT_PRE_BD29677952FA] = {
		"pre-bd29677952fa",
		"a walk that yields leaves RCU before it serves its pending TLB flush, as "
		"tdp_mmu_iter_cond_resched() did before \"KVM: x86/mmu: Do remote TLB flush "
		"before dropping RCU in TDP MMU resched\" (bd29677952fa, v5.18; affected "
		"v5.12-v5.17): a page table it unlinked is freed while vCPUs may still cache it "
		"(planted in tdp_mmu_iter_cond_resched() and in the NX recovery loop, v6.18's "
		"walk that unlinks tables of the valid root with a flush owed across a yield)",
		FALSE, NULL },
	/* tdp_mmu.c tdp_mmu_map_handle_target_level(): a table replaced by a huge leaf is
	 * flushed with kvm_flush_remote_tlbs_gfn(kvm, iter->gfn, iter->level). The fix read as
	 * its stable backport (stable list, December 2021). */
	[SIM_MUT_PRE_574C3C55E969] = {
		"pre-574c3c55e969",
		"the ranged flush for a page table that left the tree starts at its last entry, "
		"not its base, as handle_removed_tdp_mmu_page() did before \"KVM: x86/mmu: Fix "
		"TLB flush range when handling disconnected pt\" (574c3c55e969, v5.16; affected "
		"v5.12-v5.15): the flush misses all but one entry's range (with hv_tlb_flush only)",
		TRUE,
		"in v6.18 the one ranged flush of a removed table is the fault's that replaced "
		"it by a huge leaf mapping the same frames: the translations the flush leaves "
		"map those frames, every path that frees them (notifier, guest_memfd, memslot "
		"deletion) flushes the whole range first, and a ranged flush that meets a "
		"cached table's range drops it" },
	/* tdp_mmu.c kvm_tdp_mmu_map(): under tdp_mmu_pages_lock,
	 * "if (sp->nx_huge_page_disallowed) track_possible_nx_huge_page(...);". */
	[SIM_MUT_PRE_21A36AC6B6C7] = {
		"pre-21a36ac6b6c7",
		"kvm_tdp_mmu_map() tracks the table it linked as a possible NX huge page without "
		"re-checking under tdp_mmu_pages_lock that no zapper unlinked it meanwhile, as "
		"before \"KVM: x86/mmu: Re-check under lock that TDP MMU SP hugepage is "
		"disallowed\" (21a36ac6b6c7, v6.2; affected v6.1): a table queued for RCU freeing "
		"joins the list",
		TRUE,
		"no task of kvmsim's model unlinks a table between a fault's link and its "
		"tracking: the NX recovery worker zaps only tracked tables, and with 2M frames "
		"(THP) only 4K tables are tracked, never a parent of another; faults keep off a "
		"table that disallows huge pages (disallowed_hugepage_adjust()); write-lock "
		"zappers wait for the fault. The report's zapper, dirty logging's huge page "
		"recovery, is not modeled" },
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
	/* x86.c kvm_mmu_slot_apply_flags() before b64d740ea7dd: read in the fix's v2 posting (kvm
	 * list, Message-Id 20220728222833.3850065-1-junaids@google.com; no Fixes: tag) and the
	 * v6.9-era tree (the unconditional kvm_flush_remote_tlbs_memslot()). Dated by the
	 * gregkh/tty push of 2022-09-05 that merges Linux 6.0-rc4 and lists it. */
	[SIM_MUT_PRE_B64D740EA7DD] = {
		"pre-b64d740ea7dd",
		"enabling dirty logging flushes TLBs only if write-protecting the slot cleared some "
		"Writable bit: an SPTE that aging made access-tracked (W already clear, no flush, as "
		"clear_young() never flushes) leaves a writable TLB entry, and guest writes through "
		"it never reach the dirty bitmap. Fixed by \"kvm: x86: mmu: Always flush TLBs when "
		"enabling dirty logging\" (b64d740ea7dd, v6.0-rc4, backported to stable); affected "
		"kernels before it that age SPTEs without A/D bits and without a TLB flush "
		"(clear_young())",
		FALSE, NULL },
	/* guest_memfd.c kvm_gmem_invalidate_begin() of the guest_memfd series before the fix was
	 * squashed in: read in the fix's posting (kvm list, Message-ID
	 * 20230921203331.3746712-6-seanjc@google.com, 2023-09-21, "Fixes: 1d46f95498c5", on the
	 * v12 kvm-x86/guest_memfd branch), whose diff shows the unconditional begin and the
	 * overlap-only end; b25ab9cae30f is its kvm-x86 commit, as the "applied" reply lists. */
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
	/* kvm_main.c kvm_make_vcpu_request() (read in ColinIanKing/linux-next at 03b9d314): a
	 * request to a vCPU IN_GUEST_MODE sends it an IPI (kvm_request_needs_ipi()), pending while
	 * IRQs are off, so the entry exits at once and vcpu_run() serves the request. The hook is
	 * mmu/kvm.c's kvm_request_needs_ipi(); only ASI's entry switch yields IN_GUEST_MODE, so only
	 * --asi on shows it. */
	[SIM_MUT_NO_REQUEST_IPI] = {
		"no_request_ipi",
		"kvm_make_all_cpus_request() sends no IPI to a vCPU IN_GUEST_MODE: a TLB flush a zap "
		"requests while the vCPU is in ASI's entry switch does not make the entry exit, and "
		"the vCPU runs the guest with it due, its TLB still holding the zapped translation "
		"(entry_with_flush_due)",
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
