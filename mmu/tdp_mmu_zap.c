/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The TDP MMU's zapping: clear leaves in a range, zap a possible NX huge page's parent SPTE, and
 * invalidate and tear down whole roots, yielding mmu_lock to waiters on the way (models the zap
 * half of arch/x86/kvm/mmu/tdp_mmu.c).
 *
 * Kernel functions named below were read in ColinIanKing/linux-next, tdp_mmu.c at 1c60d04a,
 * unless a comment says otherwise (dated in tdp_mmu.c's header).
 */
#include "mmu/mmu-internal.h"

/*
 * Models tdp_mmu_iter_need_resched(): after forward progress, yield if another thread waits for
 * mmu_lock (rwlock_needbreak(): contention counts only on a preemptible kernel, the case
 * kvmsim models; include/linux/sched.h: no tree read). need_resched() from the scheduler tick
 * is left out: with no waiter, dropping the lock changes nothing another actor
 * could see but when the pending flush is done.
 */
static gboolean
tdp_mmu_iter_need_resched(struct kvm *kvm, struct tdp_iter *iter)
{
	if (iter->next_last_level_gfn == iter->yielded_gfn)
		return FALSE;
	return sim_rwlock_is_contended(&kvm->mmu_lock);
}

/*
 * Models tdp_mmu_iter_cond_resched(): flush what is pending, leave RCU, let the waiter have
 * mmu_lock (cond_resched_rwlock_read/write()), take both back; the walk restarts from the root.
 */
static gboolean
tdp_mmu_iter_cond_resched(struct kvm *kvm, struct tdp_iter *iter, gboolean flush,
			  gboolean shared, guint64 *rcu)
{
	g_assert(!iter->yielded);
	if (!tdp_mmu_iter_need_resched(kvm, iter))
		return FALSE;
	/* before bd29677952fa RCU was left first */
	if (kvm_mutated(kvm, SIM_MUT_PRE_BD29677952FA))
		kvm_rcu_read_unlock(kvm, *rcu);
	if (flush && !kvm_mutated(kvm, SIM_MUT_PRE_A835429CDA91))
		kvm_flush_remote_tlbs(kvm);
	if (!kvm_mutated(kvm, SIM_MUT_PRE_BD29677952FA))
		kvm_rcu_read_unlock(kvm, *rcu);
	if (shared) {
		sim_read_unlock(kvm->sched, &kvm->mmu_lock, "zap.resched_unlock");
		sim_read_lock(kvm->sched, &kvm->mmu_lock, "zap.resched_lock");
	} else {
		sim_write_unlock(kvm->sched, &kvm->mmu_lock, "zap.resched_unlock");
		sim_write_lock(kvm->sched, &kvm->mmu_lock, "zap.resched_lock");
	}
	kvm_rcu_read_lock(kvm, rcu);
	iter->yielded = TRUE;
	return TRUE;
}

/*
 * Models tdp_mmu_zap_leafs(): clear every present leaf in [start, end) of root; mmu_lock held
 * for write. Tables stay. Returns whether a TLB flush is needed.
 */
static gboolean
tdp_mmu_zap_leafs(struct kvm *kvm, struct kvm_mmu_page *root, gfn_t start, gfn_t end,
		  gboolean can_yield, gboolean flush)
{
	struct tdp_iter iter;
	guint64 rcu;

	g_assert(sim_rwlock_write_held(&kvm->mmu_lock));
	sim_yield(kvm->sched, "zap.begin");
	kvm_rcu_read_lock(kvm, &rcu);
	for_each_tdp_pte_min_level(iter, kvm, root, PG_LEVEL_4K, start, end) {
		if (can_yield && tdp_mmu_iter_cond_resched(kvm, &iter, flush, FALSE, &rcu)) {
			flush = FALSE;
			continue;
		}
		if (!is_shadow_present_pte(iter.old_spte) || !is_last_spte(iter.old_spte, iter.level))
			continue;
		tdp_mmu_iter_set_spte(kvm, &iter, SHADOW_NONPRESENT_VALUE);
		/* zapping an invalid root needs no flush: see kvm_tdp_mmu_zap_invalidated_roots() */
		if (!root->invalid)
			flush = TRUE;
		sim_yield(kvm->sched, "zap.spte_cleared");
	}
	kvm_rcu_read_unlock(kvm, rcu);
	return flush;
}

/* Models kvm_tdp_mmu_unmap_gfn_range(): zap the range in every root, valid or invalid. */
gboolean
kvm_tdp_mmu_unmap_gfn_range(struct kvm *kvm, struct kvm_gfn_range *range, gboolean flush)
{
	struct kvm_mmu_page *root;

	for_each_tdp_mmu_root_yield_safe(kvm, root) {
		if (root->invalid && kvm_mutated(kvm, SIM_MUT_PRE_D62007EDF01F))
			continue;
		flush = tdp_mmu_zap_leafs(kvm, root, range->start, range->end, range->may_block,
					  flush);
	}
	return flush;
}

/*
 * Models kvm_tdp_mmu_zap_possible_nx_huge_page() (v6.18, mmu_lock held for read; read in James
 * Houghton's v4 patch "Recover TDP MMU NX huge pages using MMU read lock", kvm list): zap the
 * parent SPTE of sp only if it still points at sp's table (another task may have replaced it
 * meanwhile, e.g. a fault mapping the range huge), with a compare-exchange. Returns whether a
 * TLB flush is due; the table is freed by RCU callback.
 */
gboolean
kvm_tdp_mmu_zap_possible_nx_huge_page(struct kvm *kvm, struct kvm_mmu_page *sp)
{
	struct tdp_iter iter = {
		.sptep = sp->ptep,
		.level = sp->level + 1,
		.gfn = sp->gfn,
		.pool = kvm->pt_pool,
	};

	g_assert(sim_rwlock_held(&kvm->mmu_lock) && !sim_rwlock_write_held(&kvm->mmu_lock));
	g_assert(sp->ptep);
	iter.old_spte = kvm_tdp_mmu_read_spte(sp->ptep, iter.level);
	if (!is_shadow_present_pte(iter.old_spte) || is_last_spte(iter.old_spte, iter.level) ||
	    (iter.old_spte & SPTE_BASE_ADDR_MASK) != sp->spt_pa)
		return FALSE;
	return tdp_mmu_set_spte_atomic(kvm, &iter, SHADOW_NONPRESENT_VALUE) == 0;
}

/*
 * Models __tdp_mmu_zap_root(): zap every present SPTE at zap_level in root, yielding mmu_lock to
 * waiters on the way; zapping a table tears its subtree down (handle_removed_pt()).
 */
static void
__tdp_mmu_zap_root(struct kvm *kvm, struct kvm_mmu_page *root, gboolean shared, int zap_level,
		   guint64 *rcu)
{
	struct tdp_iter iter;

	for_each_tdp_pte_min_level(iter, kvm, root, zap_level, 0, TDP_MAX_GFN) {
retry:
		if (tdp_mmu_iter_cond_resched(kvm, &iter, FALSE, shared, rcu))
			continue;
		if (!is_shadow_present_pte(iter.old_spte) || iter.level > zap_level)
			continue;
		if (!shared)
			tdp_mmu_iter_set_spte(kvm, &iter, SHADOW_NONPRESENT_VALUE);
		else if (tdp_mmu_set_spte_atomic(kvm, &iter, SHADOW_NONPRESENT_VALUE))
			goto retry; /* the lost compare-exchange refreshed old_spte */
	}
}

/*
 * Models tdp_mmu_zap_root(): passes at 4K, 2M, 1G, then the root's own level (the kernel skips
 * the 4K and 2M passes only with CONFIG_KVM_PROVE_MMU), so leaves go first and each table is
 * empty by the time it is removed (which keeps each removal, and so each stretch without a
 * yield, short).
 */
static void
tdp_mmu_zap_root(struct kvm *kvm, struct kvm_mmu_page *root, gboolean shared)
{
	guint64 rcu;

	g_assert(shared ? sim_rwlock_held(&kvm->mmu_lock) : sim_rwlock_write_held(&kvm->mmu_lock));
	kvm_rcu_read_lock(kvm, &rcu);
	__tdp_mmu_zap_root(kvm, root, shared, PG_LEVEL_4K, &rcu);
	__tdp_mmu_zap_root(kvm, root, shared, PG_LEVEL_2M, &rcu);
	__tdp_mmu_zap_root(kvm, root, shared, PG_LEVEL_1G, &rcu);
	__tdp_mmu_zap_root(kvm, root, shared, root->level, &rcu);
	kvm_rcu_read_unlock(kvm, rcu);
}

/*
 * Models kvm_tdp_mmu_invalidate_roots() (mmu_lock held for write): every valid root becomes
 * invalid and scheduled for zapping; the TDP MMU's own reference to it now belongs to the
 * zapper. Faults on an invalid root are stale (is_page_fault_stale()); vCPUs load a new root
 * before entry.
 */
void
kvm_tdp_mmu_invalidate_roots(struct kvm *kvm)
{
	g_assert(sim_rwlock_write_held(&kvm->mmu_lock));
	for (guint i = 0; i < kvm->tdp_mmu_roots->len; i++) {
		struct kvm_mmu_page *root = g_ptr_array_index(kvm->tdp_mmu_roots, i);

		if (root->invalid)
			continue;
		root->invalid = TRUE;
		root->tdp_mmu_scheduled_root_to_zap = TRUE;
	}
}

/*
 * Models kvm_tdp_mmu_zap_invalidated_roots(): zap the roots invalidated above, with mmu_lock held
 * for read when shared (concurrently with faults on the new root), and put the TDP MMU's
 * reference to each. No TLB flush is needed: a vCPU flushes when it loads its new root.
 */
void
kvm_tdp_mmu_zap_invalidated_roots(struct kvm *kvm, gboolean shared)
{
	struct kvm_mmu_page *root;

	if (shared)
		sim_read_lock(kvm->sched, &kvm->mmu_lock, "zap_roots.mmu_lock");
	else
		sim_write_lock(kvm->sched, &kvm->mmu_lock, "zap_roots.mmu_lock");
	for_each_tdp_mmu_root_yield_safe(kvm, root) {
		if (!root->tdp_mmu_scheduled_root_to_zap)
			continue;
		root->tdp_mmu_scheduled_root_to_zap = FALSE;
		g_assert(root->invalid);
		tdp_mmu_zap_root(kvm, root, shared);
		kvm_tdp_mmu_put_root(kvm, root);
	}
	if (shared)
		sim_read_unlock(kvm->sched, &kvm->mmu_lock, "zap_roots.mmu_unlock");
	else
		sim_write_unlock(kvm->sched, &kvm->mmu_lock, "zap_roots.mmu_unlock");
}
