/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The TDP MMU's side of dirty logging (arch/x86/kvm/mmu/tdp_mmu.c): write-protecting a slot
 * when logging starts, and the gfns a harvest returns. wrprot_gfn_range(),
 * kvm_tdp_mmu_wrprot_slot(), clear_dirty_pt_masked() and kvm_tdp_mmu_clear_dirty_pt_masked() were
 * read in ColinIanKing/linux-next at 1c60d04a (6.18 cycle or later, as fault.c dates it);
 * tdp_mmu_clear_spte_bits() (tdp_iter.h) in intel-lab-lkp/linux at 072baca3 (6.14-era, see
 * tdp_iter.c). Simplified: one valid root (for_each_valid_tdp_mmu_root*()), no
 * tdp_mmu_iter_cond_resched() in these walks. docs/dirty-log.md.
 */
#include "mmu/mmu-internal.h"

/* Models wrprot_gfn_range() / kvm_tdp_mmu_wrprot_slot() (read at 1c60d04a): clear W of every
 * writable leaf of the slot at or above min_level, with a compare-exchange retried on a lost
 * race (mmu_lock held for read). */
gboolean
kvm_tdp_mmu_wrprot_slot(struct kvm *kvm, const struct kvm_memory_slot *slot, int min_level)
{
	struct kvm_mmu_page *root = kvm_tdp_mmu_valid_root(kvm);
	gboolean spte_set = FALSE;
	struct tdp_iter iter;
	guint64 rcu;

	g_assert(sim_rwlock_held(&kvm->mmu_lock));
	if (!root)
		return FALSE;
	kvm_rcu_read_lock(kvm, &rcu);
	for_each_tdp_pte_min_level(iter, kvm, root, min_level, slot->base_gfn,
				   slot->base_gfn + slot->npages) {
retry:
		if (!is_shadow_present_pte(iter.old_spte) ||
		    !is_last_spte(iter.old_spte, iter.level) || !is_writable_pte(iter.old_spte))
			continue;
		if (tdp_mmu_set_spte_atomic(kvm, &iter, iter.old_spte & ~PT_WRITABLE_MASK))
			goto retry;
		spte_set = TRUE;
		sim_yield(kvm->sched, "dirty_log.wrprot_spte");
	}
	kvm_rcu_read_unlock(kvm, rcu);
	return spte_set;
}

/* Models clear_dirty_pt_masked() / kvm_tdp_mmu_clear_dirty_pt_masked() (read at 1c60d04a;
 * mmu_lock held for write): for each gfn of mask, clear W (wrprot, or when the root needs
 * write-protection; else Dirty, with PML, which kvmsim does not model) of its present 4K leaf
 * with tdp_mmu_clear_spte_bits() (tdp_iter.h, read at 072baca3): an atomic AND if the SPTE
 * needs an atomic write (kvm_tdp_mmu_spte_need_atomic_write()), else a plain store. */
void
kvm_tdp_mmu_clear_dirty_pt_masked(struct kvm *kvm, struct kvm_memory_slot *slot, gfn_t gfn,
				  unsigned long mask, gboolean wrprot)
{
	struct kvm_mmu_page *root = kvm_tdp_mmu_valid_root(kvm);
	const u64 dbit = wrprot ? PT_WRITABLE_MASK : shadow_dirty_mask;
	struct tdp_iter iter;
	guint64 rcu;

	(void)slot;
	g_assert(sim_rwlock_write_held(&kvm->mmu_lock));
	if (!root)
		return;
	kvm_rcu_read_lock(kvm, &rcu);
	for_each_tdp_pte(iter, kvm, root, gfn + __builtin_ctzl(mask), gfn + 8 * sizeof(mask)) {
		if (!mask)
			break;
		if (iter.level > PG_LEVEL_4K || !(mask & (1ul << (iter.gfn - gfn))))
			continue;
		mask &= ~(1ul << (iter.gfn - gfn));
		if (!is_shadow_present_pte(iter.old_spte) || !(iter.old_spte & dbit))
			continue;
		tdp_mmu_volatile_window(kvm, iter.old_spte, iter.level);
		u64 old = tdp_mmu_write_spte_locked(kvm, iter.sptep, iter.old_spte,
						    iter.old_spte & ~dbit, iter.level, iter.gfn);

		trace_kvm_tdp_mmu_spte_changed(kvm, 0, iter.gfn, iter.level, old, old & ~dbit);
		/* atomic64_fetch_and() clears the bit in what is there now */
		if (old != iter.old_spte)
			__kvm_tdp_mmu_write_spte(iter.sptep, old & ~dbit, iter.level);
	}
	kvm_rcu_read_unlock(kvm, rcu);
}
