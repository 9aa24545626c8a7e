/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A pre-order walk over a TDP page table (models arch/x86/kvm/mmu/tdp_iter.c), and the SPTE
 * accessors of arch/x86/kvm/mmu/tdp_iter.h: the only code that touches table memory, converting
 * between the hardware encoding it holds and the kernel values the model works with (spte.h).
 *
 * The walk (tdp_iter_start(), tdp_iter_next(), try_step_*()): no tree read. The accessors were
 * checked against the newest tdp_iter.h the index holds, intel-lab-lkp/linux at
 * 072baca3 (6.14-era: kvm_tdp_mmu_spte_need_atomic_write() still calls spte_has_volatile_bits()),
 * and against the 6.15 change that makes it call spte_needs_atomic_update(), read in its kvm@vger
 * review thread (Feb 2025); spte_needs_atomic_update() itself was read in
 * kernelorg-mirror/virt_kvm_kvm, arch/x86/kvm/mmu/spte.c at 1d86dc79 (see spte.c).
 */
#include "mmu/mmu-internal.h"

u64 tdp_mmu_spte_writes;
u64 *tdp_mmu_spte_log[TDP_MMU_SPTE_LOG];
u64 tdp_mmu_tlb_writes;
u64 *tdp_mmu_tlb_log[TDP_MMU_TLB_LOG];

/*
 * Every store of an SPTE goes through here (kvmsim's own, no kernel counterpart): it logs the
 * write, and, when the entry was present to the walker and changes, logs it as one a vCPU's TLB
 * may hold in its old form (kvm_vcpu_tlb_changed_gfns() reads that log).
 */
static inline void
tdp_mmu_store_hw(u64 *sptep, u64 hw)
{
	tdp_mmu_spte_log[tdp_mmu_spte_writes++ % TDP_MMU_SPTE_LOG] = sptep;
	if ((*sptep & VMX_EPT_READABLE_MASK) && *sptep != hw)
		tdp_mmu_tlb_log[tdp_mmu_tlb_writes++ % TDP_MMU_TLB_LOG] = sptep;
	*sptep = hw;
}

/* Models spte_needs_atomic_update(), defined in arch/x86/kvm/mmu/spte.c (declared in spte.h):
 * can something outside mmu_lock change this SPTE? The fast path may make an MMU-writable leaf
 * writable; lockless aging may access-track any A/D-disabled SPTE and the fast path restore it;
 * with A/D bits on, the CPU may set Dirty on a writable SPTE that lacks it. */
static gboolean
spte_needs_atomic_update(u64 spte)
{
	if (!is_writable_pte(spte) && is_mmu_writable_spte(spte))
		return TRUE;
	if (!spte_ad_enabled(spte))
		return TRUE;
	return is_writable_pte(spte) && !(spte & shadow_dirty_mask);
}

/* Models kvm_tdp_mmu_spte_need_atomic_write() in arch/x86/kvm/mmu/tdp_iter.h. */
gboolean
kvm_tdp_mmu_spte_need_atomic_write(u64 old_spte, int level)
{
	return is_shadow_present_pte(old_spte) && is_last_spte(old_spte, level) &&
	       spte_needs_atomic_update(old_spte);
}

/* Models kvm_tdp_mmu_write_spte() (mmu_lock held for write): an exchange when a lockless writer
 * may race, returning what was really there; else a plain store, returning old_spte. */
u64
kvm_tdp_mmu_write_spte(u64 *sptep, u64 old_spte, u64 new_spte, int level)
{
	if (kvm_tdp_mmu_spte_need_atomic_write(old_spte, level))
		return kvm_tdp_mmu_write_spte_atomic(sptep, new_spte, level);
	__kvm_tdp_mmu_write_spte(sptep, new_spte, level);
	return old_spte;
}

/* Models __kvm_tdp_mmu_write_spte(): the plain store (WRITE_ONCE). */
void
__kvm_tdp_mmu_write_spte(u64 *sptep, u64 new_spte, int level)
{
	tdp_mmu_store_hw(sptep, spte_to_hw(new_spte, level));
}

/* Models kvm_tdp_mmu_write_spte_atomic(): an unconditional exchange, returning the old value. */
u64
kvm_tdp_mmu_write_spte_atomic(u64 *sptep, u64 new_spte, int level)
{
	u64 was = kvm_tdp_mmu_read_spte(sptep, level);

	tdp_mmu_store_hw(sptep, spte_to_hw(new_spte, level));
	return was;
}

/* Models try_cmpxchg64() on an SPTE: store new_spte iff it still holds *old_spte, else refresh
 * *old_spte with what it holds. */
gboolean
tdp_mmu_try_cmpxchg_spte(u64 *sptep, u64 *old_spte, u64 new_spte, int level)
{
	u64 cur = kvm_tdp_mmu_read_spte(sptep, level);

	if (cur != *old_spte) {
		*old_spte = cur;
		return FALSE;
	}
	tdp_mmu_store_hw(sptep, spte_to_hw(new_spte, level));
	return TRUE;
}

static int
spte_index(gfn_t gfn, int level)
{
	return (int)((gfn >> ((level - 1) * SPTE_LEVEL_BITS)) & (SPTE_ENT_PER_PAGE - 1));
}

static gfn_t
round_gfn_for_level(gfn_t gfn, int level)
{
	return gfn & ~(KVM_PAGES_PER_HPAGE(level) - 1);
}

static void
tdp_iter_refresh_sptep(struct tdp_iter *iter)
{
	iter->sptep = iter->pt_path[iter->level - 1] + spte_index(iter->gfn, iter->level);
	iter->old_spte = kvm_tdp_mmu_read_spte(iter->sptep, iter->level);
}

/* The child table an SPTE points at, or NULL for a non-present or leaf SPTE. */
static u64 *
spte_to_child_pt(const SimPtPool *pool, u64 spte, int level)
{
	if (!is_shadow_present_pte(spte) || is_last_spte(spte, level))
		return NULL;
	return sim_ptpool_va(pool, spte & SPTE_BASE_ADDR_MASK);
}

/*
 * The SPTEs for_each_tdp_pte() visits over [gfn, gfn + 1) end with the last one on the path to
 * gfn: this goes straight down to it, for the walks that only want that one (the CPU's, and
 * kvm_tdp_mmu_fast_pf_get_last_sptep()'s).
 */
u64 *
tdp_walk_last(const SimPtPool *pool, struct kvm_mmu_page *root, gfn_t gfn, u64 *out_spte,
	      int *out_level)
{
	u64 *pt = root->spt, *sptep, *child;
	int level = root->level;

	for (;;) {
		sptep = pt + spte_index(gfn, level);
		*out_spte = kvm_tdp_mmu_read_spte(sptep, level);
		*out_level = level;
		if (level == PG_LEVEL_4K || !(child = spte_to_child_pt(pool, *out_spte, level)))
			return sptep;
		pt = child;
		level--;
	}
}

/* Models tdp_iter_restart(): walk again from the root towards next_last_level_gfn, as after a
 * yield, when the tables above may have changed. */
void
tdp_iter_restart(struct tdp_iter *iter)
{
	iter->yielded = FALSE;
	iter->yielded_gfn = iter->next_last_level_gfn;
	iter->level = iter->root_level;
	iter->gfn = round_gfn_for_level(iter->next_last_level_gfn, iter->level);
	tdp_iter_refresh_sptep(iter);
	iter->valid = TRUE;
}

/* Models tdp_iter_start(). */
void
tdp_iter_start(struct tdp_iter *iter, const SimPtPool *pool, struct kvm_mmu_page *root,
	       int min_level, gfn_t next_last_level_gfn)
{
	iter->pool = pool;
	iter->step_down_sched = NULL;
	iter->next_last_level_gfn = next_last_level_gfn;
	iter->root_level = root->level;
	iter->min_level = min_level;
	iter->pt_path[iter->root_level - 1] = root->spt;
	tdp_iter_restart(iter);
}

/* Models try_step_down(): re-read the SPTE, since it may have changed under the walk. */
static gboolean
try_step_down(struct tdp_iter *iter)
{
	if (iter->level == iter->min_level)
		return FALSE;
	iter->old_spte = kvm_tdp_mmu_read_spte(iter->sptep, iter->level);
	u64 *child = spte_to_child_pt(iter->pool, iter->old_spte, iter->level);

	if (!child)
		return FALSE;
	/* the window in which another task may unlink the child under the read lock (the NX
	 * recovery worker) and freeze its entries: a yield point where such a task exists */
	if (iter->step_down_sched)
		sim_yield(iter->step_down_sched, "fault.step_down");
	iter->level--;
	iter->pt_path[iter->level - 1] = child;
	iter->gfn = round_gfn_for_level(iter->next_last_level_gfn, iter->level);
	tdp_iter_refresh_sptep(iter);
	return TRUE;
}

/* Models try_step_side(). */
static gboolean
try_step_side(struct tdp_iter *iter)
{
	if (spte_index(iter->gfn, iter->level) == SPTE_ENT_PER_PAGE - 1)
		return FALSE;
	iter->gfn += KVM_PAGES_PER_HPAGE(iter->level);
	iter->next_last_level_gfn = iter->gfn;
	iter->sptep++;
	iter->old_spte = kvm_tdp_mmu_read_spte(iter->sptep, iter->level);
	return TRUE;
}

/* Models try_step_up(). */
static gboolean
try_step_up(struct tdp_iter *iter)
{
	if (iter->level == iter->root_level)
		return FALSE;
	iter->level++;
	iter->gfn = round_gfn_for_level(iter->gfn, iter->level);
	tdp_iter_refresh_sptep(iter);
	return TRUE;
}

/* Models tdp_iter_next(): after a yield restart from the root; else down if possible, else
 * sideways, else up and sideways. */
void
tdp_iter_next(struct tdp_iter *iter)
{
	if (iter->yielded) {
		tdp_iter_restart(iter);
		return;
	}
	if (try_step_down(iter))
		return;
	do {
		if (try_step_side(iter))
			return;
	} while (try_step_up(iter));
	iter->valid = FALSE;
}
