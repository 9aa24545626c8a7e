/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Building and decoding SPTEs in KVM's EPT encoding.
 *
 * make_spte(), make_small_spte() (with modify_spte_protections() and make_spte_executable()),
 * make_nonleaf_spte(), make_mmio_spte() and mark_spte_for_access_track() were read in
 * kernelorg-mirror/virt_kvm_kvm (kvm.git), arch/x86/kvm/mmu/spte.c at 1d86dc79: 6.18 or a little
 * later by its content (EXPORT_SYMBOL_FOR_KVM_INTERNAL, and make_spte() already tests
 * X86_FEATURE_CLEAR_CPU_BUF_VM_MMIO); restore_acc_track_spte() in JonKohler/linux spte.h (see
 * spte.h).
 */
#include "mmu/spte.h"

/* Models make_spte() in arch/x86/kvm/mmu/spte.c: a TDP leaf, A/D disabled, write-back RAM, the
 * NX huge page mitigation off; no shadow-paging unsync and no dirty logging, so write access is
 * never withheld (wrprot). A writable leaf gets shadow_dirty_mask with W, whatever the A/D mode
 * (v6.12+; the tree read sets it with PT_WRITABLE_MASK and shadow_mmu_writable_mask in one
 * statement). */
gboolean
make_spte(int level, unsigned int pte_access, kvm_pfn_t pfn, gboolean prefetch,
	  gboolean host_writable, u64 *new_spte)
{
	return make_spte_ad(level, pte_access, pfn, prefetch, host_writable, TRUE, FALSE, new_spte);
}

/* make_spte() with the page role's ad_disabled (with EPT A/D bits on, kvm_ad_enabled, a leaf
 * has A/D type 0 and the CPU sets Accessed and Dirty itself) and is_nx_huge_page_enabled() of
 * the VM: under the iTLB multihit mitigation a huge leaf is never executable, whatever the
 * access asked (an exec fault maps 4K instead, fault->huge_page_disallowed). */
gboolean
make_spte_ad(int level, unsigned int pte_access, kvm_pfn_t pfn, gboolean prefetch,
	     gboolean host_writable, gboolean ad_disabled, gboolean nx_huge_page_enabled,
	     u64 *new_spte)
{
	u64 spte = SPTE_MMU_PRESENT_MASK;

	if (ad_disabled)
		spte |= SPTE_TDP_AD_DISABLED;
	spte |= shadow_present_mask;
	if (!prefetch)
		spte |= shadow_accessed_mask;
	if (level > PG_LEVEL_4K && (pte_access & ACC_EXEC_MASK) && nx_huge_page_enabled)
		pte_access &= ~ACC_EXEC_MASK;
	if (pte_access & ACC_EXEC_MASK)
		spte |= shadow_x_mask;
	else
		spte |= shadow_nx_mask;
	if (pte_access & ACC_USER_MASK)
		spte |= shadow_user_mask;
	if (level > PG_LEVEL_4K)
		spte |= PT_PAGE_SIZE_MASK;
	/* vmx_get_mt_mask(): RAM without non-coherent DMA is WB with guest PAT ignored (vmx.c,
	 * no tree read) */
	spte |= ((u64)MTRR_TYPE_WRBACK << VMX_EPT_MT_EPTE_SHIFT) | VMX_EPT_IPAT_BIT;
	if (host_writable)
		spte |= shadow_host_writable_mask;
	else
		pte_access &= ~ACC_WRITE_MASK;
	spte |= (u64)pfn << PAGE_SHIFT;
	if (pte_access & ACC_WRITE_MASK)
		spte |= PT_WRITABLE_MASK | shadow_mmu_writable_mask | shadow_dirty_mask;
	if (prefetch)
		spte = mark_spte_for_access_track(spte);
	*new_spte = spte;
	return FALSE;
}

/* Models modify_spte_protections() in arch/x86/kvm/mmu/spte.c: an access-tracked SPTE is
 * restored, changed and tracked again, so the change lands in its saved bits. */
static u64
modify_spte_protections(u64 spte, u64 set, u64 clear)
{
	gboolean is_access_track = is_access_track_spte(spte);

	if (is_access_track)
		spte = restore_acc_track_spte(spte);
	g_assert(!(set & clear));
	spte = (spte | set) & ~clear;
	if (is_access_track)
		spte = mark_spte_for_access_track(spte);
	return spte;
}

/* Models make_spte_executable() in arch/x86/kvm/mmu/spte.c: X set, NX cleared. */
static u64
make_spte_executable(u64 spte)
{
	return modify_spte_protections(spte, shadow_x_mask, shadow_nx_mask);
}

/* Models make_small_spte() in arch/x86/kvm/mmu/spte.c: the huge SPTE with the index-th
 * child's offset ORed into its address, and bit 7 cleared for a 4K child. Under the NX huge
 * page mitigation a 4K child takes the execute permission of the table's role (ACC_ALL in the
 * TDP MMU), which the huge page lacked only because of the mitigation. */
u64
make_small_spte(u64 huge_spte, int child_level, int index, gboolean nx_huge_page_enabled)
{
	u64 child_spte = huge_spte;

	g_assert(is_shadow_present_pte(huge_spte) && is_large_pte(huge_spte));
	child_spte |= ((u64)index * KVM_PAGES_PER_HPAGE(child_level)) << PAGE_SHIFT;
	if (child_level == PG_LEVEL_4K) {
		child_spte &= ~PT_PAGE_SIZE_MASK;
		if (nx_huge_page_enabled)
			child_spte = make_spte_executable(child_spte);
	}
	return child_spte;
}

/* Models make_nonleaf_spte() in arch/x86/kvm/mmu/spte.c (A/D disabled). */
u64
make_nonleaf_spte(u64 child_pa)
{
	return make_nonleaf_spte_ad(child_pa, TRUE);
}

/* make_nonleaf_spte() with ad_disabled: with A/D bits on, a table entry has Accessed instead of
 * the A/D-disabled type. */
u64
make_nonleaf_spte_ad(u64 child_pa, gboolean ad_disabled)
{
	u64 spte = SPTE_MMU_PRESENT_MASK;

	spte |= child_pa | shadow_present_mask | PT_WRITABLE_MASK | shadow_user_mask | shadow_x_mask;
	spte |= ad_disabled ? SPTE_TDP_AD_DISABLED : shadow_accessed_mask;
	return spte;
}

/* Is this a table entry that the x86 walker follows (present to it, and not a leaf)? */
static gboolean
walker_follows(u64 value, int level)
{
	return (value & VMX_EPT_READABLE_MASK) && !is_last_spte(value, level);
}

/* The emulated CPU's view of a kernel SPTE value: see spte.h for the two bits that differ. */
u64
spte_to_hw(u64 spte, int level)
{
	if (!(spte & VMX_EPT_READABLE_MASK))
		return spte; /* not present to the walker: it checks no other bit */
	g_assert(spte & VMX_EPT_SUPPRESS_VE_BIT);
	spte &= ~VMX_EPT_SUPPRESS_VE_BIT;
	if (walker_follows(spte, level)) {
		g_assert(!(spte & SIM_SPTE_WALKER_ACCESSED));
		spte |= SIM_SPTE_WALKER_ACCESSED;
	}
	return spte;
}

/* Models make_mmio_spte() in arch/x86/kvm/mmu/spte.c, without the L1TF gfn shuffle. */
u64
make_mmio_spte(gfn_t gfn, unsigned int access, u64 gen)
{
	u64 spte = shadow_mmio_value;

	gen &= MMIO_SPTE_GEN_MASK;
	spte |= (gen & ((1ull << MMIO_SPTE_GEN_LOW_BITS) - 1)) << MMIO_SPTE_GEN_LOW_SHIFT;
	spte |= (gen >> MMIO_SPTE_GEN_LOW_BITS) << MMIO_SPTE_GEN_HIGH_SHIFT;
	spte |= gfn << PAGE_SHIFT;
	access &= shadow_mmio_access_mask; /* 0 with EPT: no access bits */
	spte |= access;
	return spte;
}

gfn_t
get_mmio_spte_gfn(u64 spte)
{
	return (spte & SPTE_BASE_ADDR_MASK) >> PAGE_SHIFT;
}

u64
get_mmio_spte_generation(u64 spte)
{
	u64 gen = (spte >> MMIO_SPTE_GEN_LOW_SHIFT) & ((1ull << MMIO_SPTE_GEN_LOW_BITS) - 1);

	gen |= ((spte >> MMIO_SPTE_GEN_HIGH_SHIFT) & ((1ull << MMIO_SPTE_GEN_HIGH_BITS) - 1))
	       << MMIO_SPTE_GEN_LOW_BITS;
	return gen;
}

/* Models mark_spte_for_access_track() in arch/x86/kvm/mmu/spte.c (v6.12+: also clears A, as the
 * tree read does: it clears shadow_acc_track_mask | shadow_accessed_mask). */
u64
mark_spte_for_access_track(u64 spte)
{
	if (spte_ad_enabled(spte))
		return spte & ~shadow_accessed_mask;
	if (is_access_track_spte(spte))
		return spte;
	spte |= (spte & SHADOW_ACC_TRACK_SAVED_BITS_MASK) << SHADOW_ACC_TRACK_SAVED_BITS_SHIFT;
	spte &= ~(shadow_acc_track_mask | shadow_accessed_mask);
	return spte;
}

/* Models restore_acc_track_spte() in arch/x86/kvm/mmu/spte.h: W is never saved (R and X are,
 * SHADOW_ACC_TRACK_SAVED_BITS_MASK). */
u64
restore_acc_track_spte(u64 spte)
{
	u64 saved = (spte >> SHADOW_ACC_TRACK_SAVED_BITS_SHIFT) & SHADOW_ACC_TRACK_SAVED_BITS_MASK;

	spte &= ~shadow_acc_track_mask;
	spte &= ~SHADOW_ACC_TRACK_SAVED_MASK;
	spte |= saved;
	return spte;
}

/* A human decoding of an SPTE for dumps and failed expectations. */
gchar *
spte_describe(u64 spte, int level)
{
	if (spte == SHADOW_NONPRESENT_VALUE)
		return g_strdup("nonpresent");
	if (is_frozen_spte(spte))
		return g_strdup("frozen");
	if (is_mmio_spte(spte))
		return g_strdup_printf("mmio gfn 0x%" G_GINT64_MODIFIER "x gen %" G_GUINT64_FORMAT,
				       get_mmio_spte_gfn(spte), get_mmio_spte_generation(spte));
	if (!is_shadow_present_pte(spte))
		return g_strdup_printf("nonpresent 0x%" G_GINT64_MODIFIER "x", spte);

	GString *s = g_string_new(NULL);
	gboolean leaf = is_last_spte(spte, level);

	g_string_append_printf(s, "%s pfn 0x%" G_GINT64_MODIFIER "x %c%c%c", leaf ? "leaf" : "table",
			       spte_to_pfn(spte), spte & VMX_EPT_READABLE_MASK ? 'r' : '-',
			       spte & VMX_EPT_WRITABLE_MASK ? 'w' : '-',
			       spte & VMX_EPT_EXECUTABLE_MASK ? 'x' : '-');
	if (leaf) {
		if (is_access_track_spte(spte))
			g_string_append(s, " acc-track");
		if (spte & shadow_accessed_mask)
			g_string_append(s, " A");
		if (spte & shadow_host_writable_mask)
			g_string_append(s, " host-w");
		if (spte & shadow_mmu_writable_mask)
			g_string_append(s, " mmu-w");
		if (is_large_pte(spte))
			g_string_append(s, " large");
	}
	return g_string_free(s, FALSE);
}
