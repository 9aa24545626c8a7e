/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The MMU invariants an explorer checks at every step (sim/core/invariants.c names them). They are
 * kvmsim's own checks, not kernel code: each walks the model's state and, where it is wrong, fails
 * the run through kvm_invariant_failed() as the checks on the model's own paths do.
 */
#include "mmu/mmu-internal.h"

/* The memslot of the active generation holding gfn, or NULL. */
static const struct kvm_memory_slot *
audit_gfn_to_memslot(const struct kvm *kvm, gfn_t gfn)
{
	const struct kvm_memslots *slots = kvm->memslots;

	for (int i = 0; i < slots->used_slots; i++) {
		const struct kvm_memory_slot *slot = slots->slots[i];

		if (gfn >= slot->base_gfn && gfn < slot->base_gfn + slot->npages)
			return slot;
	}
	return NULL;
}

/*
 * A present leaf at gfn maps pfn (npages of them): none may be freed or in quarantine, and each
 * must be the frame the primary MMU maps at the page's hva now. Under the mmu_invalidate protocol
 * the primary changes a page only between invalidate_range_start, which zapped the SPTE, and
 * invalidate_range_end; a fault cannot install from a lookup that raced with it. So at every
 * yield point a present leaf of a gfn in a memslot names the primary's current frame (unless the
 * memslot has a guest_memfd, whose file provides the pfns).
 */
static gboolean
audit_leaf(struct kvm *kvm, gfn_t gfn, kvm_pfn_t pfn, u64 npages, gboolean check_primary)
{
	for (u64 i = 0; i < npages; i++) {
		kvm_pfn_t p = pfn + i;

		if (p != SIM_ZERO_PFN && !sim_frame_allocated(kvm->hm, p)) {
			kvm_invariant_failed(kvm, "freed_frame_mapped_by_spte",
					     "gfn 0x%" G_GINT64_MODIFIER "x maps pfn 0x%"
					     G_GINT64_MODIFIER "x, which was freed", gfn + i, p);
			return FALSE;
		}
		if (!check_primary)
			continue;
		const struct kvm_memory_slot *slot = audit_gfn_to_memslot(kvm, gfn + i);

		/* a deleted slot's leaves are zapped after the new slots are out; a guest_memfd
		 * slot's pfns come from its file, not from the primary MMU */
		if (!slot || (slot->flags & KVM_MEM_GUEST_MEMFD))
			continue;
		hva_t hva = gfn_to_hva_memslot(slot, gfn + i);
		SimPfn primary = sim_mm_lookup(kvm->mm, hva);

		if (primary != p) {
			g_autofree gchar *what = primary == SIM_PFN_NONE ? g_strdup("nothing") :
				g_strdup_printf("pfn 0x%" G_GINT64_MODIFIER "x", primary);

			kvm_invariant_failed(kvm, "spte_matches_primary",
					     "gfn 0x%" G_GINT64_MODIFIER "x maps pfn 0x%"
					     G_GINT64_MODIFIER "x but the primary MMU maps hva 0x%"
					     G_GINT64_MODIFIER "x to %s (installed from a stale lookup, "
					     "or not invalidated)", gfn + i, p, hva, what);
			return FALSE;
		}
	}
	return TRUE;
}

/* Every present leaf under one table (of a root, valid or invalid): a walk of the present
 * entries only, through the SPTE accessor (the table memory holds the hardware encoding). */
static gboolean
audit_table(struct kvm *kvm, const u64 *pt, int level, gfn_t base, gboolean valid_root)
{
	for (int i = 0; i < SPTE_ENT_PER_PAGE; i++) {
		u64 spte = kvm_tdp_mmu_read_spte(&pt[i], level);
		gfn_t gfn = base + ((gfn_t)i << ((level - 1) * SPTE_LEVEL_BITS));

		if (!is_shadow_present_pte(spte))
			continue;
		if (is_last_spte(spte, level)) {
			if (!audit_leaf(kvm, gfn, spte_to_pfn(spte), KVM_PAGES_PER_HPAGE(level),
					valid_root))
				return FALSE;
		} else if (!audit_table(kvm, sim_ptpool_va(kvm->pt_pool,
							     spte & SPTE_BASE_ADDR_MASK),
					level - 1, gfn, valid_root)) {
			return FALSE;
		}
	}
	return TRUE;
}

/*
 * What the walks below depend on: SPTE writes, frames allocated and freed (the primary MMU maps
 * another frame only through one of these), the memslots. While it stays the same, a walk finds
 * what the last one found.
 */
static guint64
audit_epoch(const struct kvm *kvm)
{
	return tdp_mmu_spte_writes + kvm->counters->v[SIM_CTR_FRAMES_ALLOCATED] +
	       kvm->counters->v[SIM_CTR_FRAMES_FREED] + kvm->memslots->generation;
}

/*
 * kvmsim's audit of the MMU at one step: no SPTE of any root maps a freed or quarantined frame;
 * every present leaf of the valid root maps what the primary MMU maps; no vCPU without a pending
 * flush holds a zapped translation to a freed frame; in_progress is not negative. FALSE (and the
 * run failed) at the first violation. With epoch, the walks are skipped while nothing they
 * depend on changed since the audit that set *epoch.
 */
gboolean
kvm_mmu_audit(struct kvm *kvm, guint64 *epoch)
{
	if (kvm->mmu_invalidate_in_progress < 0) {
		kvm_invariant_failed(kvm, "invalidate_unbalanced", "in_progress is %ld",
				     kvm->mmu_invalidate_in_progress);
		return FALSE;
	}
	if (epoch) {
		guint64 now = audit_epoch(kvm);

		if (*epoch == now)
			return TRUE;
		*epoch = now;
	}
	for (guint i = 0; i < kvm->tdp_mmu_roots->len; i++) {
		struct kvm_mmu_page *root = g_ptr_array_index(kvm->tdp_mmu_roots, i);

		if (root->root_count > 0 && !audit_table(kvm, root->spt, root->level, 0,
							   !root->invalid))
			return FALSE;
	}
	struct kvm_unflushed_tlb_iter iter;

	for_each_unflushed_tlb_entry(iter, kvm) {
		const struct kvm_stale_tlb_entry *e = iter.entry;

		if (e->pfn != SIM_ZERO_PFN && !sim_frame_allocated(kvm->hm, e->pfn)) {
			kvm_invariant_failed(kvm, "freed_frame_still_mapped",
					     "vcpu%d may still map gfn 0x%" G_GINT64_MODIFIER
					     "x to pfn 0x%" G_GINT64_MODIFIER "x, which was "
					     "freed (no TLB flush since the zap)",
					     iter.vcpu->vcpu_id, e->gfn, e->pfn);
			return FALSE;
		}
	}
	return TRUE;
}
