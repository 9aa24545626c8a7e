/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * SPTEs in KVM's EPT encoding (arch/x86/kvm/mmu/spte.h, arch/x86/include/asm/vmx.h), as configured
 * by kvm_mmu_set_ept_masks(has_ad_bits = false, has_exec_only = false) on v6.18: every value the
 * model computes, logs or compares is the value v6.18 would hold.
 *
 * The table memory the emulated CPU walks holds a slightly different, *hardware* encoding, and
 * only the SPTE accessors (kvm_tdp_mmu_read_spte(), kvm_tdp_mmu_write_spte(),
 * tdp_mmu_try_cmpxchg_spte() in tdp_iter.c) ever see it; spte_to_hw()/spte_from_hw() below are the
 * whole difference. Unicorn walks the tree as x86-64 paging without EFER.NXE, where bit 63 of a
 * present entry (SUPPRESS_VE in shadow_present_mask) is reserved, so it is clear in memory; and it
 * sets the x86 Accessed bit (bit 5) in non-leaf entries it walks, which EPT reserves there, so it is
 * preset in memory. Leaves need no such bit: their write-back memtype and IPAT already hold bits 5
 * and 6 (x86 A and D) set.
 *
 * The kernel definitions mirrored below were read in JonKohler/linux, arch/x86/kvm/mmu/spte.h at
 * 04f9dc50 (6.17 cycle or later: it has kvm_vcpu_can_access_host_mmio() and declares
 * spte_needs_atomic_update()); the same definitions are in Aarav90-cpu/linux-kotlin at a663adb6.
 * The masks are those kvm_mmu_set_ept_masks() sets in kernelorg-mirror/virt_kvm_kvm spte.c at
 * 1d86dc79 (see spte.c). The VMX_EPT_* values (arch/x86/include/asm/vmx.h): no tree read.
 */
#ifndef KVMSIM_MMU_SPTE_H
#define KVMSIM_MMU_SPTE_H

#include <glib.h>

#include "mmu/types.h"

#define VMX_EPT_READABLE_MASK 0x1ull
#define VMX_EPT_WRITABLE_MASK 0x2ull
#define VMX_EPT_EXECUTABLE_MASK 0x4ull
#define VMX_EPT_RWX_MASK (VMX_EPT_READABLE_MASK | VMX_EPT_WRITABLE_MASK | VMX_EPT_EXECUTABLE_MASK)
#define VMX_EPT_MT_EPTE_SHIFT 3
#define VMX_EPT_IPAT_BIT (1ull << 6)
#define VMX_EPT_ACCESS_BIT (1ull << 8)
#define VMX_EPT_DIRTY_BIT (1ull << 9)
#define VMX_EPT_SUPPRESS_VE_BIT (1ull << 63)
#define VMX_EPT_MISCONFIG_WX_VALUE (VMX_EPT_WRITABLE_MASK | VMX_EPT_EXECUTABLE_MASK)
#define MTRR_TYPE_UNCACHABLE 0
#define MTRR_TYPE_WRBACK 6

#define PT_WRITABLE_MASK (1ull << 1)
#define PT_PAGE_SIZE_MASK (1ull << 7)

#define SPTE_MMU_PRESENT_MASK (1ull << 11)
#define SHADOW_NONPRESENT_VALUE (1ull << 63)
#define FROZEN_SPTE (SHADOW_NONPRESENT_VALUE | 0x5a0ull)

#define SPTE_TDP_AD_SHIFT 52
#define SPTE_TDP_AD_MASK (3ull << SPTE_TDP_AD_SHIFT)
#define SPTE_TDP_AD_ENABLED (0ull << SPTE_TDP_AD_SHIFT)
#define SPTE_TDP_AD_DISABLED (1ull << SPTE_TDP_AD_SHIFT)
#define SPTE_TDP_AD_WRPROT_ONLY (2ull << SPTE_TDP_AD_SHIFT)

#define SHADOW_ACC_TRACK_SAVED_BITS_MASK (VMX_EPT_READABLE_MASK | VMX_EPT_EXECUTABLE_MASK)
#define SHADOW_ACC_TRACK_SAVED_BITS_SHIFT 54
#define SHADOW_ACC_TRACK_SAVED_MASK                                                                \
	(SHADOW_ACC_TRACK_SAVED_BITS_MASK << SHADOW_ACC_TRACK_SAVED_BITS_SHIFT)

#define EPT_SPTE_HOST_WRITABLE (1ull << 57)
#define EPT_SPTE_MMU_WRITABLE (1ull << 58)

#define SPTE_BASE_ADDR_MASK 0x000ffffffffff000ull

/* MMIO generation: gen bits 0-7 in SPTE bits 3-10, gen bits 8-18 in SPTE bits 52-62. */
#define MMIO_SPTE_GEN_LOW_SHIFT 3
#define MMIO_SPTE_GEN_LOW_BITS 8
#define MMIO_SPTE_GEN_HIGH_SHIFT 52
#define MMIO_SPTE_GEN_HIGH_BITS 11
#define MMIO_SPTE_GEN_MASK ((1ull << (MMIO_SPTE_GEN_LOW_BITS + MMIO_SPTE_GEN_HIGH_BITS)) - 1)

/* The x86 walker's Accessed bit, preset in non-leaf entries of the hardware encoding. */
#define SIM_SPTE_WALKER_ACCESSED (1ull << 5)

/*
 * The masks kvm_mmu_set_ept_masks() sets (arch/x86/kvm/mmu/spte.c), under the kernel's names.
 * Since v6.12 the accessed and dirty masks are set even with A/D bits disabled: they are then
 * software bits that KVM sets itself. In the tree read, the MMIO value passed to
 * kvm_mmu_set_mmio_spte_mask() is VMX_EPT_MISCONFIG_WX_VALUE alone; SUPPRESS_VE is only in the
 * mask, so MMIO SPTEs have bit 63 clear and a non-present SPTE (bit 63 alone) is never MMIO. The
 * MMIO access mask is 0: EPT MMIO SPTEs carry no access bits.
 */
#define shadow_present_mask (VMX_EPT_SUPPRESS_VE_BIT | VMX_EPT_READABLE_MASK)
#define shadow_user_mask VMX_EPT_READABLE_MASK
#define shadow_x_mask VMX_EPT_EXECUTABLE_MASK
#define shadow_nx_mask 0ull
#define shadow_accessed_mask VMX_EPT_ACCESS_BIT
#define shadow_dirty_mask VMX_EPT_DIRTY_BIT
#define shadow_acc_track_mask VMX_EPT_RWX_MASK
#define shadow_host_writable_mask EPT_SPTE_HOST_WRITABLE
#define shadow_mmu_writable_mask EPT_SPTE_MMU_WRITABLE
#define shadow_mmio_value VMX_EPT_MISCONFIG_WX_VALUE
#define shadow_mmio_mask (VMX_EPT_RWX_MASK | VMX_EPT_SUPPRESS_VE_BIT)
#define shadow_mmio_access_mask 0ull

/* ACC_* access bits (arch/x86/kvm/mmu/mmu_internal.h / spte.h). */
#define ACC_EXEC_MASK 1u
#define ACC_WRITE_MASK 2u
#define ACC_USER_MASK 4u
#define ACC_ALL (ACC_EXEC_MASK | ACC_WRITE_MASK | ACC_USER_MASK)

static inline gboolean
is_shadow_present_pte(u64 pte)
{
	return (pte & SPTE_MMU_PRESENT_MASK) != 0;
}

static inline gboolean
is_frozen_spte(u64 spte)
{
	return spte == FROZEN_SPTE;
}

static inline gboolean
is_mmio_spte(u64 spte)
{
	return (spte & shadow_mmio_mask) == shadow_mmio_value;
}

static inline gboolean
is_large_pte(u64 pte)
{
	return (pte & PT_PAGE_SIZE_MASK) != 0;
}

static inline gboolean
is_last_spte(u64 pte, int level)
{
	return level == PG_LEVEL_4K || is_large_pte(pte);
}

static inline gboolean
is_writable_pte(u64 pte)
{
	return (pte & PT_WRITABLE_MASK) != 0;
}

static inline gboolean
is_mmu_writable_spte(u64 spte)
{
	return (spte & shadow_mmu_writable_mask) != 0;
}

static inline gboolean
is_executable_pte(u64 spte)
{
	return (spte & (shadow_x_mask | shadow_nx_mask)) == shadow_x_mask;
}

static inline kvm_pfn_t
spte_to_pfn(u64 pte)
{
	return (pte & SPTE_BASE_ADDR_MASK) >> PAGE_SHIFT;
}

static inline gboolean
spte_ad_enabled(u64 spte)
{
	return (spte & SPTE_TDP_AD_MASK) != SPTE_TDP_AD_DISABLED;
}

static inline gboolean
is_access_track_spte(u64 spte)
{
	return !spte_ad_enabled(spte) && (spte & shadow_acc_track_mask) == 0;
}

static inline gboolean
is_accessed_spte(u64 spte)
{
	return (spte & shadow_accessed_mask) != 0;
}

/* Models make_spte() in arch/x86/kvm/mmu/spte.c for a TDP MMU leaf (no shadow paging), A/D
 * disabled, the NX huge page mitigation off. */
gboolean make_spte(int level, unsigned int pte_access, kvm_pfn_t pfn, gboolean prefetch,
		   gboolean host_writable, u64 *new_spte);
/* make_spte() with the role's ad_disabled and is_nx_huge_page_enabled() of the VM, which makes
 * a huge leaf non-executable. */
gboolean make_spte_ad(int level, unsigned int pte_access, kvm_pfn_t pfn, gboolean prefetch,
		      gboolean host_writable, gboolean ad_disabled, gboolean nx_huge_page_enabled,
		      u64 *new_spte);
u64 make_nonleaf_spte_ad(u64 child_pa, gboolean ad_disabled);
/* Models make_small_spte() in arch/x86/kvm/mmu/spte.c: child index of a huge SPTE being split
 * into a table of child_level entries; a 4K child is executable again under the NX huge page
 * mitigation (nx_huge_page_enabled: is_nx_huge_page_enabled() of the VM). */
u64 make_small_spte(u64 huge_spte, int child_level, int index, gboolean nx_huge_page_enabled);
/* Models make_nonleaf_spte() in arch/x86/kvm/mmu/spte.c; child_pa is the table's address. */
u64 make_nonleaf_spte(u64 child_pa);
/* Models make_mmio_spte() in arch/x86/kvm/mmu/spte.c. */
u64 make_mmio_spte(gfn_t gfn, unsigned int access, u64 gen);
gfn_t get_mmio_spte_gfn(u64 spte);
u64 get_mmio_spte_generation(u64 spte);
/* Models mark_spte_for_access_track() in arch/x86/kvm/mmu/spte.c. */
u64 mark_spte_for_access_track(u64 spte);
/* Models restore_acc_track_spte() in arch/x86/kvm/mmu/spte.h. */
u64 restore_acc_track_spte(u64 spte);

/* The hardware encoding of the kernel value spte at level, as the table memory holds it. */
u64 spte_to_hw(u64 spte, int level);
/* The kernel value of the hardware encoding hw at level: the inverse of spte_to_hw(). Inline:
 * every SPTE read of a walk goes through it. */
static inline u64
spte_from_hw(u64 hw, int level)
{
	if (!(hw & VMX_EPT_READABLE_MASK))
		return hw;
	if (!is_last_spte(hw, level)) /* a table entry the walker follows */
		hw &= ~SIM_SPTE_WALKER_ACCESSED;
	return hw | VMX_EPT_SUPPRESS_VE_BIT;
}

/* "present leaf pfn 0x1234 RWX wb ipat A host-w mmu-w": a short decoding for logs and dumps. */
gchar *spte_describe(u64 spte, int level);

#endif
