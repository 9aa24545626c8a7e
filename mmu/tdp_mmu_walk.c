/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The TDP MMU's read-mostly walks: aging leaves for the MMU notifier's age/test-age, the lockless
 * last-SPTE walk of the fast page fault path, and lookups for dumps and expectations (models those
 * parts of arch/x86/kvm/mmu/tdp_mmu.c).
 *
 * Kernel functions named below were read in ColinIanKing/linux-next, tdp_mmu.c at 1c60d04a,
 * unless a comment says otherwise (dated in tdp_mmu.c's header).
 */
#include "mmu/mmu-internal.h"

/* Models kvm_tdp_mmu_age_spte() (v6.15+, lockless): access-track an A/D-disabled SPTE. */
static void
kvm_tdp_mmu_age_spte(struct kvm *kvm, struct tdp_iter *iter)
{
	u64 new_spte = mark_spte_for_access_track(iter->old_spte);

	/* a lost race is fine: the SPTE was most likely just used */
	if (__tdp_mmu_set_spte_atomic(kvm, iter, new_spte))
		return;
	trace_kvm_tdp_mmu_spte_changed(kvm, 0, iter->gfn, iter->level, iter->old_spte, new_spte);
}

/* Models __kvm_tdp_mmu_age_gfn_range(): age or test every accessed leaf in the range. */
static gboolean
tdp_mmu_age_range(struct kvm *kvm, struct kvm_gfn_range *range, gboolean test_only)
{
	struct kvm_mmu_page *root = kvm_tdp_mmu_valid_root(kvm);
	struct tdp_iter iter;
	gboolean young = FALSE;
	guint64 rcu;

	if (!root)
		return FALSE;
	kvm_rcu_read_lock(kvm, &rcu);
	for_each_tdp_pte(iter, kvm, root, range->start, range->end) {
		if (!is_shadow_present_pte(iter.old_spte) || !is_last_spte(iter.old_spte, iter.level) ||
		    !is_accessed_spte(iter.old_spte))
			continue;
		young = TRUE;
		if (test_only)
			break;
		kvm_tdp_mmu_age_spte(kvm, &iter);
	}
	kvm_rcu_read_unlock(kvm, rcu);
	return young;
}

gboolean
kvm_tdp_mmu_age_gfn_range(struct kvm *kvm, struct kvm_gfn_range *range)
{
	return tdp_mmu_age_range(kvm, range, FALSE);
}

gboolean
kvm_tdp_mmu_test_age_gfn(struct kvm *kvm, struct kvm_gfn_range *range)
{
	return tdp_mmu_age_range(kvm, range, TRUE);
}

/*
 * The walk to gfn under vcpu->root, remembered: the vCPU's "hardware" walks it to report an exit
 * and fast_page_fault() walks it again right after, with nothing in between that could change the
 * tables (no SPTE was written since, as tdp_mmu_spte_writes says).
 */
static void
tdp_mmu_walk_last(struct kvm_vcpu *vcpu, gfn_t gfn)
{
	if (vcpu->last_walk.root == vcpu->root && vcpu->last_walk.gfn == gfn &&
	    vcpu->last_walk.spte_writes == tdp_mmu_spte_writes)
		return;
	vcpu->last_walk.root = vcpu->root;
	vcpu->last_walk.gfn = gfn;
	vcpu->last_walk.spte_writes = tdp_mmu_spte_writes;
	vcpu->last_walk.sptep = tdp_walk_last(vcpu->kvm->pt_pool, vcpu->root, gfn,
					      &vcpu->last_walk.spte, &vcpu->last_walk.level);
}

/* Models kvm_tdp_mmu_fast_pf_get_last_sptep(): the last SPTE on the walk to gfn, lockless. */
u64 *
kvm_tdp_mmu_fast_pf_get_last_sptep(struct kvm_vcpu *vcpu, gfn_t gfn, u64 *spte)
{
	tdp_mmu_walk_last(vcpu, gfn);
	if (vcpu->last_walk.sptep)
		*spte = vcpu->last_walk.spte;
	return vcpu->last_walk.sptep;
}

/* Models kvm_tdp_mmu_get_walk() reduced to the last level reached. */
u64
kvm_tdp_mmu_get_walk_last(struct kvm_vcpu *vcpu, gpa_t gpa, int *out_level)
{
	u64 spte = SHADOW_NONPRESENT_VALUE;
	int level = PT64_ROOT_4LEVEL;

	if (vcpu->root) {
		tdp_mmu_walk_last(vcpu, gpa >> PAGE_SHIFT);
		spte = vcpu->last_walk.spte;
		level = vcpu->last_walk.level;
	}
	if (out_level)
		*out_level = level;
	return spte;
}

/* The leaf SPTE for gfn in the valid root, for dumps and expectations. */
u64
kvm_tdp_mmu_leaf_spte(struct kvm *kvm, gfn_t gfn, int *out_level)
{
	struct tdp_iter iter;

	struct kvm_mmu_page *root = kvm_tdp_mmu_valid_root(kvm);

	if (out_level)
		*out_level = PG_LEVEL_NONE;
	if (!root)
		return SHADOW_NONPRESENT_VALUE;
	for_each_tdp_pte(iter, kvm, root, gfn, gfn + 1) {
		if (is_shadow_present_pte(iter.old_spte) && is_last_spte(iter.old_spte, iter.level)) {
			if (out_level)
				*out_level = iter.level;
			return iter.old_spte;
		}
	}
	return SHADOW_NONPRESENT_VALUE;
}

/* Does a present leaf of any root, valid or invalid (a fast zap may not have torn it down yet),
 * map gfn to pfn (a huge leaf maps gfn to its head pfn plus gfn's offset in it)? */
gboolean
kvm_tdp_mmu_any_root_maps(struct kvm *kvm, gfn_t gfn, kvm_pfn_t pfn)
{
	for (guint i = 0; i < kvm->tdp_mmu_roots->len; i++) {
		struct kvm_mmu_page *root = g_ptr_array_index(kvm->tdp_mmu_roots, i);
		struct tdp_iter iter;

		for_each_tdp_pte(iter, kvm, root, gfn, gfn + 1)
			if (is_shadow_present_pte(iter.old_spte) &&
			    is_last_spte(iter.old_spte, iter.level) &&
			    spte_to_pfn(iter.old_spte) +
			    (gfn & (KVM_PAGES_PER_HPAGE(iter.level) - 1)) == pfn)
				return TRUE;
	}
	return FALSE;
}

/* How many present leaves the valid root has. */
guint64
kvm_tdp_mmu_count_present(struct kvm *kvm)
{
	struct kvm_mmu_page *root = kvm_tdp_mmu_valid_root(kvm);
	struct tdp_iter iter;
	guint64 n = 0;

	if (!root)
		return 0;
	for_each_tdp_pte(iter, kvm, root, 0, TDP_MAX_GFN)
		if (is_shadow_present_pte(iter.old_spte) && is_last_spte(iter.old_spte, iter.level))
			n++;
	return n;
}
