/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Invariants of private memory (issue 8 item 7), checked where the events happen:
 *  - a leaf installed for a private fault maps the folio at the gfn's index of the slot's bound,
 *    active guest_memfd file, and one installed for a shared fault on a gmem-only slot maps that
 *    folio too; either way the access type equals the gfn's current attribute (a shared SPTE
 *    never maps a private page, a private SPTE never a shared one);
 *  - inside the window of a hole punch or a conversion, after its zap, no SPTE maps the range and
 *    no vCPU that will enter without flushing may still hold a translation of it.
 * Frees of punched frames are also checked by kvm_check_freed_frame() (kvm.c).
 */
#include "mmu/mmu-internal.h"

#include "gmem/gmem.h"

/* Called under mmu_lock right after a fault installed its leaf (RET_PF_FIXED). */
void
kvm_mmu_check_private_spte(struct kvm_vcpu *vcpu, const struct kvm_page_fault *fault)
{
	struct kvm *kvm = vcpu->kvm;
	int level;
	u64 spte;
	SimPfn folio_pfn;
	gboolean index_private;

	if (!fault->slot)
		return;
	gboolean mismatch = fault->is_private != kvm_mem_is_private(kvm, fault->gfn);

	/* a shared fault on a shared slot with the right type has nothing to check: skip the walk */
	if (!mismatch && !fault->is_private && !kvm_memslot_is_gmem_only(fault->slot))
		return;
	spte = kvm_tdp_mmu_leaf_spte(kvm, fault->gfn, &level);
	if (!is_shadow_present_pte(spte))
		return;
	if (mismatch)
		kvm_invariant_failed(kvm, "spte_type_mismatch",
				     "gfn 0x%" G_GINT64_MODIFIER "x mapped %s while its attribute "
				     "says %s", fault->gfn, fault->is_private ? "private" : "shared",
				     fault->is_private ? "shared" : "private");
	if (!fault->is_private && !kvm_memslot_is_gmem_only(fault->slot))
		return;
	/*
	 * kvm_gmem_release() clears the slot's file before its invalidation window opens (it waits
	 * for mmu_lock, which this fault holds): a leaf installed from a pfn got before the clear is
	 * legal, and the window zaps it; a fault after the window retries or exits (no file).
	 */
	if (kvm_slot_has_gmem(fault->slot) && !fault->slot->gmem.file)
		return;
	/* a huge leaf maps each of its gfns to the page at that offset (mmu/huge_page.c) */
	gfn_t base = fault->gfn & ~(KVM_PAGES_PER_HPAGE(level) - 1);

	for (gfn_t gfn = base; gfn < base + KVM_PAGES_PER_HPAGE(level); gfn++) {
		kvm_pfn_t pfn = spte_to_pfn(spte) + (gfn - base);

		if (kvm_gmem_slot_folio(fault->slot, gfn, &folio_pfn, &index_private) &&
		    folio_pfn == pfn)
			continue;
		kvm_invariant_failed(kvm, "private_spte_not_gmem",
				     "gfn 0x%" G_GINT64_MODIFIER "x maps pfn 0x%" G_GINT64_MODIFIER
				     "x, not the folio of its index in the slot's active guest_memfd",
				     gfn, pfn);
		return;
	}
	kvm_gmem_slot_folio(fault->slot, fault->gfn, &folio_pfn, &index_private);
	if (!kvm->vm_memory_attributes && index_private != fault->is_private)
		kvm_invariant_failed(kvm, "spte_type_mismatch",
				     "gfn 0x%" G_GINT64_MODIFIER "x mapped %s, its gmem page is %s",
				     fault->gfn, fault->is_private ? "private" : "shared",
				     index_private ? "private" : "shared");
}

/* No present leaf in [start, end) in any root, valid or not. */
static void
check_no_leaf(struct kvm *kvm, gfn_t start, gfn_t end, const char *why)
{
	for (guint i = 0; i < kvm->tdp_mmu_roots->len; i++) {
		struct kvm_mmu_page *root = g_ptr_array_index(kvm->tdp_mmu_roots, i);
		struct tdp_iter iter;

		for_each_tdp_pte(iter, kvm, root, start, end) {
			if (!is_shadow_present_pte(iter.old_spte) ||
			    !is_last_spte(iter.old_spte, iter.level))
				continue;
			kvm_invariant_failed(kvm, why, "gfn 0x%" G_GINT64_MODIFIER "x still mapped "
					     "to pfn 0x%" G_GINT64_MODIFIER "x inside the window",
					     iter.gfn, spte_to_pfn(iter.old_spte));
			return;
		}
	}
}

/* See mmu.h: the leaf walk, then every vCPU's zapped-but-unflushed translations. */
void
kvm_mmu_check_range_unmapped(struct kvm *kvm, gfn_t start, gfn_t end, const char *why)
{
	struct kvm_unflushed_tlb_iter iter;

	if (start >= end)
		return;
	check_no_leaf(kvm, start, end, why);
	for_each_unflushed_tlb_entry(iter, kvm) {
		if (iter.entry->gfn >= start && iter.entry->gfn < end)
			kvm_invariant_failed(kvm, why, "vcpu%d may still map gfn 0x%"
					     G_GINT64_MODIFIER "x (no TLB flush since the "
					     "zap)", iter.vcpu->vcpu_id, iter.entry->gfn);
	}
}
