/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The NX huge page mitigation (iTLB multihit) and its recovery worker, TDP MMU only (models
 * arch/x86/kvm/mmu/mmu.c: disallowed_hugepage_adjust(), track/untrack_possible_nx_huge_page(),
 * unaccount_nx_huge_page(), kvm_recover_nx_huge_pages(); tdp_mmu.c has the zap).
 *
 * With the nx_huge_pages module parameter on, an exec fault maps 4K pages even where the memory
 * could be mapped huge (fault->huge_page_disallowed), and huge leaves are made non-executable.
 * The page tables such faults create where a huge page could have gone are tracked on
 * possible_nx_huge_pages; the recovery worker zaps a share of them from time to time, so that
 * the memory can be mapped huge again once it is no longer executed.
 *
 * v6.18's recovery of TDP MMU pages runs under mmu_lock held for *read* ("KVM: x86/mmu: Recover
 * TDP MMU NX huge pages using MMU read lock", James Houghton's v4 of June 2025 on the kvm list,
 * merged for 6.18 per the KVM x86 MMU pull for 6.18): the list is walked under
 * tdp_mmu_pages_lock, each page unaccounted before the lock is dropped, then its parent SPTE is
 * zapped with a compare-exchange. The rest (disallowed_hugepage_adjust(), the tracking helpers,
 * nx_huge_pages_to_zap()) as read in ColinIanKing/linux-next mmu.c at 1c60d04a. The recovery
 * period is not modeled: a worker pass is a trace event (<nx_recover>).
 */
#include "mmu/mmu-internal.h"

/* Models track_possible_nx_huge_page(): tdp_mmu_pages_lock held. */
void
track_possible_nx_huge_page(struct kvm *kvm, struct kvm_mmu_page *sp)
{
	g_assert(sim_spin_held(&kvm->tdp_mmu_pages_lock));
	if (sp->possible_nx_huge_page)
		return;
	sp->possible_nx_huge_page = TRUE;
	g_ptr_array_add(kvm->possible_nx_huge_pages, sp);
}

/* Models untrack_possible_nx_huge_page(): tdp_mmu_pages_lock held. */
void
untrack_possible_nx_huge_page(struct kvm *kvm, struct kvm_mmu_page *sp)
{
	g_assert(sim_spin_held(&kvm->tdp_mmu_pages_lock));
	if (!sp->possible_nx_huge_page)
		return;
	sp->possible_nx_huge_page = FALSE;
	g_ptr_array_remove(kvm->possible_nx_huge_pages, sp);
}

/* Models unaccount_nx_huge_page(): the page no longer forbids a huge mapping. */
void
unaccount_nx_huge_page(struct kvm *kvm, struct kvm_mmu_page *sp)
{
	sp->nx_huge_page_disallowed = FALSE;
	untrack_possible_nx_huge_page(kvm, sp);
}

/* A table is freed (RCU callback): if it is still on possible_nx_huge_pages the worker will
 * take freed memory (the list corruption of 21a36ac6b6c7's report); kvmsim unlinks it. */
void
kvm_nx_check_freed_sp(struct kvm *kvm, struct kvm_mmu_page *sp)
{
	if (!sp->possible_nx_huge_page)
		return;
	kvm_invariant_failed(kvm, "freed_sp_on_nx_list",
			     "the level-%d table for gfn 0x%" G_GINT64_MODIFIER "x is freed while "
			     "on possible_nx_huge_pages", sp->level, sp->gfn);
	sp->possible_nx_huge_page = FALSE;
	g_ptr_array_remove(kvm->possible_nx_huge_pages, sp);
}

/*
 * Models disallowed_hugepage_adjust(): a fault that would map huge where an exec fault's page
 * table (still disallowing huge pages) stands goes one level down instead, so the memory does not
 * bounce between the two sizes.
 */
void
disallowed_hugepage_adjust(struct kvm *kvm, struct kvm_page_fault *fault, u64 spte,
			   int cur_level)
{
	if (cur_level > PG_LEVEL_4K && cur_level == fault->goal_level &&
	    is_shadow_present_pte(spte) && !is_large_pte(spte) &&
	    sptep_to_sp(kvm, sim_ptpool_va(kvm->pt_pool, spte & SPTE_BASE_ADDR_MASK))
		    ->nx_huge_page_disallowed) {
		u64 page_mask = KVM_PAGES_PER_HPAGE(cur_level) - KVM_PAGES_PER_HPAGE(cur_level - 1);

		fault->pfn |= fault->gfn & page_mask;
		fault->goal_level--;
	}
}

/* Models nx_huge_pages_to_zap(): a 1/ratio share of the tracked pages, rounded up. */
static unsigned long
nx_huge_pages_to_zap(struct kvm *kvm)
{
	unsigned int ratio = kvm->nx_huge_pages_recovery_ratio;

	return ratio ? (kvm->possible_nx_huge_pages->len + ratio - 1) / ratio : 0;
}

/* Models kvm_mmu_sp_dirty_logging_enabled() (mmu.c, as posted in the series above and in
 * mmu.c at b074f7bb in the index): whether the page's memslot logs dirty pages, in which case
 * recovery only unaccounts it; it is recovered with the slot's other huge pages when logging is
 * turned off. Simplified: kvmsim has no gfn write tracking, only the logging flag. */
static gboolean
kvm_mmu_sp_dirty_logging_enabled(struct kvm *kvm, const struct kvm_mmu_page *sp)
{
	const struct kvm_memory_slot *slot;

	if (!kvm->nr_dirty_log_slots)
		return FALSE;
	slot = gfn_to_memslot(kvm, sp->gfn);
	return slot && (slot->flags & KVM_MEM_LOG_DIRTY_PAGES);
}

/*
 * Models kvm_recover_nx_huge_pages() for the TDP MMU (v6.18): under SRCU, mmu_lock held for
 * read and RCU (the zapped tables are freed by RCU callback, so the flush must come before RCU is
 * left), zap the oldest tracked pages; yield the lock to a waiting writer between pages, flushing
 * first.
 */
static void
kvm_recover_nx_huge_pages(struct kvm *kvm)
{
	unsigned long to_zap = nx_huge_pages_to_zap(kvm);
	gboolean flush = FALSE;
	guint64 srcu, rcu;

	srcu = sim_srcu_read_lock(&kvm->srcu);
	sim_read_lock(kvm->sched, &kvm->mmu_lock, "nx_recover.mmu_lock");
	kvm_rcu_read_lock(kvm, &rcu);
	for (; to_zap; --to_zap) {
		sim_spin_lock(kvm->sched, &kvm->tdp_mmu_pages_lock, "nx_recover.pages_lock");
		if (!kvm->possible_nx_huge_pages->len) {
			sim_spin_unlock(kvm->sched, &kvm->tdp_mmu_pages_lock,
					"nx_recover.pages_unlock");
			break;
		}
		struct kvm_mmu_page *sp = g_ptr_array_index(kvm->possible_nx_huge_pages, 0);

		g_assert(sp->nx_huge_page_disallowed);
		unaccount_nx_huge_page(kvm, sp);
		sim_spin_unlock(kvm->sched, &kvm->tdp_mmu_pages_lock, "nx_recover.pages_unlock");
		if (!kvm_mmu_sp_dirty_logging_enabled(kvm, sp))
			flush |= kvm_tdp_mmu_zap_possible_nx_huge_page(kvm, sp);
		if (!sim_rwlock_is_contended(&kvm->mmu_lock))
			continue;
		/* before bd29677952fa the flush came after RCU was left */
		if (kvm_mutated(kvm, SIM_MUT_PRE_BD29677952FA))
			kvm_rcu_read_unlock(kvm, rcu);
		if (flush)
			kvm_flush_remote_tlbs(kvm); /* kvm_mmu_remote_flush_or_zap() */
		if (!kvm_mutated(kvm, SIM_MUT_PRE_BD29677952FA))
			kvm_rcu_read_unlock(kvm, rcu);
		sim_read_unlock(kvm->sched, &kvm->mmu_lock, "nx_recover.resched_unlock");
		sim_read_lock(kvm->sched, &kvm->mmu_lock, "nx_recover.resched_lock");
		flush = FALSE;
		kvm_rcu_read_lock(kvm, &rcu);
	}
	if (flush)
		kvm_flush_remote_tlbs(kvm);
	kvm_rcu_read_unlock(kvm, rcu);
	sim_read_unlock(kvm->sched, &kvm->mmu_lock, "nx_recover.mmu_unlock");
	sim_srcu_read_unlock(&kvm->srcu, srcu);
}

/* Models one wake-up of kvm_nx_huge_page_recovery_worker(): recover if the mitigation is on. */
void
kvm_nx_huge_page_recovery_worker(struct kvm *kvm)
{
	if (!kvm->nx_huge_pages)
		return;
	sim_log_emit(kvm->log, "sim_nx_recover", "%u possible nx huge pages, ratio %u",
		     kvm->possible_nx_huge_pages->len, kvm->nx_huge_pages_recovery_ratio);
	kvm_recover_nx_huge_pages(kvm);
}
