/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Huge pages in the fault path's decisions (arch/x86/kvm/mmu/mmu.c, arch/x86/kvm/x86.c): each
 * memslot's lpage_info with its disallow_lpage counts (a frame the slot covers only in part, a
 * gfn/hva misalignment, KVM_LPAGE_MIXED_FLAG), the host mapping level, the level a fault may map,
 * and the mixed-attribute bookkeeping KVM_SET_MEMORY_ATTRIBUTES drives.
 *
 * host_pfn_mapping_level(), kvm_mmu_hugepage_adjust(), hugepage_has_attrs(),
 * kvm_arch_pre_set_memory_attributes(), kvm_arch_post_set_memory_attributes() and
 * kvm_mmu_init_memslot_memory_attributes() were read in ColinIanKing/linux-next,
 * arch/x86/kvm/mmu/mmu.c at 1c60d04a (6.18 cycle, see fault.c). That tree's max-level helper is
 * still __kvm_mmu_max_mapping_level(kvm, slot, gfn, max_level, is_private); v6.18 has
 * kvm_mmu_max_mapping_level(kvm, fault, slot, gfn) from the guest_memfd-mmap series (v16
 * patches 14-15, kvm@vger July 2025, read in its review thread), which takes max_level and
 * is_private from the fault and asks guest_memfd instead of the host page tables for private
 * (or gmem-only) memory: modeled here. kvm_alloc_memslot_metadata() (x86.c): no 6.18-era tree
 * read; its lpage_info part as quoted in kvm@vger patch context (2023) and unchanged since.
 *
 * The NX huge page mitigation (off by default) is in nx_huge_page.c: an exec fault's
 * huge_page_disallowed (fault.c) caps req_level below, and make_spte() (spte.c) makes huge leaves
 * non-executable. Not modeled: write tracking (shadow paging only); dirty logging, whose slots
 * map 4K only and whose eager split (kvm_tdp_mmu_try_split_huge_pages()) kvmsim never needs;
 * huge page recovery (the fault-less kvm_mmu_max_mapping_level() caller).
 */
#include "mmu/mmu-internal.h"

/* max_huge_page_level with EPT on a CPU with 1G EPT pages (kvm_configure_mmu()). */
#define max_huge_page_level PG_LEVEL_1G

/* Models gfn_to_index() (arch/x86/include/asm/kvm_host.h). */
static u64
gfn_to_index(gfn_t gfn, gfn_t base_gfn, int level)
{
	int shift = (level - 1) * SPTE_LEVEL_BITS;

	return (gfn >> shift) - (base_gfn >> shift);
}

/* Models kvm_mmu_slot_lpages(): the huge-page frames of that level the slot touches. */
static u64
kvm_mmu_slot_lpages(const struct kvm_memory_slot *slot, int level)
{
	return gfn_to_index(slot->base_gfn + slot->npages - 1, slot->base_gfn, level) + 1;
}

/* Models lpage_info_slot() (mmu.c). */
struct kvm_lpage_info *
lpage_info_slot(gfn_t gfn, const struct kvm_memory_slot *slot, int level)
{
	g_assert(level > PG_LEVEL_4K && level <= KVM_MAX_HUGEPAGE_LEVEL);
	g_assert(gfn >= slot->base_gfn && gfn < slot->base_gfn + slot->npages);
	return &slot->lpage_info[level - 2][gfn_to_index(gfn, slot->base_gfn, level)];
}

/* Models kvm_arch_has_private_mem(). */
static gboolean
kvm_arch_has_private_mem(const struct kvm *kvm)
{
	return kvm->has_private_mem;
}

/* Models kvm_range_has_memory_attributes() (virt/kvm/kvm_main.c) with mask ~0: does every gfn
 * of [start, end) have exactly attrs? */
static gboolean
kvm_range_has_memory_attributes(struct kvm *kvm, gfn_t start, gfn_t end, u64 attrs)
{
	for (gfn_t gfn = start; gfn < end; gfn++)
		if (kvm_get_memory_attributes(kvm, gfn) != attrs)
			return FALSE;
	return TRUE;
}

static gboolean
hugepage_test_mixed(const struct kvm_memory_slot *slot, gfn_t gfn, int level)
{
	return (lpage_info_slot(gfn, slot, level)->disallow_lpage & KVM_LPAGE_MIXED_FLAG) != 0;
}

static void
hugepage_set_mixed(const struct kvm_memory_slot *slot, gfn_t gfn, int level, gboolean mixed)
{
	if (mixed)
		lpage_info_slot(gfn, slot, level)->disallow_lpage |= KVM_LPAGE_MIXED_FLAG;
	else
		lpage_info_slot(gfn, slot, level)->disallow_lpage &= ~KVM_LPAGE_MIXED_FLAG;
}

/* Models hugepage_has_attrs(): a 2M frame is uniform if all its gfns have attrs; a 1G frame if
 * none of its 2M frames is mixed and each starts with attrs (lower levels are done first). */
static gboolean
hugepage_has_attrs(struct kvm *kvm, const struct kvm_memory_slot *slot, gfn_t gfn, int level,
		   u64 attrs)
{
	gfn_t end = gfn + KVM_PAGES_PER_HPAGE(level);

	if (level == PG_LEVEL_2M)
		return kvm_range_has_memory_attributes(kvm, gfn, end, attrs);
	for (; gfn < end; gfn += KVM_PAGES_PER_HPAGE(level - 1))
		if (hugepage_test_mixed(slot, gfn, level - 1) ||
		    kvm_get_memory_attributes(kvm, gfn) != attrs)
			return FALSE;
	return TRUE;
}

/* Models kvm_mmu_init_memslot_memory_attributes(): every frame wholly inside a new slot gets
 * its mixed flag from the attributes it already has. */
static void
kvm_mmu_init_memslot_memory_attributes(struct kvm *kvm, struct kvm_memory_slot *slot)
{
	if (!kvm_arch_has_private_mem(kvm))
		return;
	for (int level = PG_LEVEL_2M; level <= KVM_MAX_HUGEPAGE_LEVEL; level++) {
		gfn_t nr_pages = KVM_PAGES_PER_HPAGE(level);
		gfn_t start = slot->base_gfn & ~(nr_pages - 1);
		gfn_t end = (slot->base_gfn + slot->npages) & ~(nr_pages - 1);

		if (start < slot->base_gfn)
			start += nr_pages;
		for (gfn_t gfn = start; gfn < end; gfn += nr_pages) {
			u64 attrs = kvm_get_memory_attributes(kvm, gfn);

			hugepage_set_mixed(slot, gfn, level,
					   !hugepage_has_attrs(kvm, slot, gfn, level, attrs));
		}
	}
}

/*
 * Models the lpage_info part of kvm_alloc_memslot_metadata() (arch/x86/kvm/x86.c), for a slot
 * being created or moved: per level, the frames the slot covers only at its head or tail are
 * disallowed, and every frame when the gfn and the hva are not congruent modulo the huge-page
 * size (a huge host mapping could not line up with a huge SPTE). Then the mixed flags.
 */
void
kvm_alloc_memslot_metadata(struct kvm *kvm, struct kvm_memory_slot *slot)
{
	for (int level = PG_LEVEL_2M; level <= KVM_MAX_HUGEPAGE_LEVEL; level++) {
		u64 lpages = kvm_mmu_slot_lpages(slot, level);
		gfn_t mask = KVM_PAGES_PER_HPAGE(level) - 1;
		struct kvm_lpage_info *linfo = g_new0(struct kvm_lpage_info, lpages);
		gfn_t ugfn = slot->userspace_addr >> PAGE_SHIFT;

		g_ptr_array_add(kvm->lpage_info_arrays, linfo);
		slot->lpage_info[level - 2] = linfo;
		if (slot->base_gfn & mask)
			linfo[0].disallow_lpage = 1;
		if ((slot->base_gfn + slot->npages) & mask)
			linfo[lpages - 1].disallow_lpage = 1;
		/* PROPOSED (the HugeTLB guest_memfd series, see gmem/hugetlb.c): the gmem offset
		 * must be congruent with the gfn too */
		if (((slot->base_gfn ^ ugfn) & mask) ||
		    ((slot->flags & KVM_MEM_GUEST_MEMFD) &&
		     ((slot->base_gfn ^ slot->gmem.pgoff) & mask)))
			for (u64 j = 0; j < lpages; j++)
				linfo[j].disallow_lpage = 1;
	}
	kvm_mmu_init_memslot_memory_attributes(kvm, slot);
}

/*
 * Models host_pfn_mapping_level(): the level of the host page-table entry that maps the gfn's
 * hva (PMD leaf: 2M; the VMM's anonymous memory has no PUD leaves). Lockless; safe only because
 * the result is consumed under mmu_lock after the mmu_invalidate_retry_gfn() check.
 */
static int
host_pfn_mapping_level(struct kvm *kvm, gfn_t gfn, const struct kvm_memory_slot *slot)
{
	return sim_mm_host_mapping_level(kvm->mm, gfn_to_hva_memslot(slot, gfn));
}

/*
 * Models v6.18's kvm_mmu_max_mapping_level() for a fault: the fault's max_level, clamped to
 * max_huge_page_level, walked down while lpage_info disallows it; then the host mapping level
 * for shared memory. For a private fault, or any fault on a gmem-only slot, guest_memfd decides
 * (kvm_gmem_max_mapping_level() with a fault returns fault->max_level, which faultin already
 * limited to the folio's order; a software-protected VM has no CoCo limit).
 */
int
kvm_mmu_max_mapping_level(struct kvm *kvm, struct kvm_page_fault *fault,
			  const struct kvm_memory_slot *slot, gfn_t gfn)
{
	int max_level = MIN((int)fault->max_level, max_huge_page_level);
	int host_level;

	g_assert(sim_rwlock_held(&kvm->mmu_lock));
	for (; max_level > PG_LEVEL_4K; max_level--)
		if (!lpage_info_slot(gfn, slot, max_level)->disallow_lpage)
			break;
	if (max_level == PG_LEVEL_4K)
		return PG_LEVEL_4K;
	if (fault->is_private || kvm_memslot_is_gmem_only(slot))
		host_level = fault->max_level;
	else
		host_level = host_pfn_mapping_level(kvm, gfn, slot);
	return MIN(host_level, max_level);
}

/*
 * Models kvm_mmu_hugepage_adjust(): the level the fault asks for (req_level) and will map
 * (goal_level, the same without the NX mitigation), and pfn rounded down to the head of the
 * huge page. Runs under mmu_lock after the stale check, so the host mapping cannot have been
 * split since its level was read.
 */
void
kvm_mmu_hugepage_adjust(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	struct kvm_memory_slot *slot = fault->slot;

	if (fault->max_level == PG_LEVEL_4K)
		return;
	if (fault->pfn == KVM_PFN_NOSLOT)
		return;
	/* PROPOSED KVM Userfault v3: 4K only while KVM_MEM_USERFAULT is on */
	if ((slot->flags & KVM_MEM_LOG_DIRTY_PAGES) || kvm_is_userfault_memslot(vcpu->kvm, slot))
		return;
	fault->req_level = (u8)kvm_mmu_max_mapping_level(vcpu->kvm, fault, slot, fault->gfn);
	if (fault->req_level == PG_LEVEL_4K || fault->huge_page_disallowed)
		return;
	fault->goal_level = fault->req_level;
	kvm_pfn_t mask = KVM_PAGES_PER_HPAGE(fault->goal_level) - 1;

	g_assert((fault->gfn & mask) == (fault->pfn & mask));
	fault->pfn &= ~mask;
}

/* Models kvm_max_level_for_order() (mmu.c): the largest level a folio of that order fills. */
int
kvm_max_level_for_order(int order)
{
	if (order >= (int)(2 * SPTE_LEVEL_BITS))
		return PG_LEVEL_1G;
	if (order >= SPTE_LEVEL_BITS)
		return PG_LEVEL_2M;
	return PG_LEVEL_4K;
}

/*
 * Models kvm_arch_pre_set_memory_attributes(): zap even a slot that cannot be private (making
 * memory private must stop shared access; making it shared changes where huge pages may go). A
 * head or tail frame the range covers only in part, wholly inside the slot and not mixed (so it
 * may be mapped huge right now) joins the ongoing invalidation, so that no fault maps it huge
 * over gfns whose attributes are changing; the zap of the range itself removes any huge SPTE
 * over it, whole. Only mappings of the old kind are zapped (attr_filter).
 */
gboolean
kvm_arch_pre_set_memory_attributes(struct kvm *kvm, struct kvm_gfn_range *range)
{
	const struct kvm_memory_slot *slot = range->slot;
	gfn_t slot_end = slot->base_gfn + slot->npages;

	g_assert(sim_rwlock_write_held(&kvm->mmu_lock));
	if (!kvm_arch_has_private_mem(kvm) || range->end <= range->start)
		return FALSE;
	for (int level = PG_LEVEL_2M; level <= KVM_MAX_HUGEPAGE_LEVEL; level++) {
		gfn_t nr_pages = KVM_PAGES_PER_HPAGE(level);
		gfn_t start = range->start & ~(nr_pages - 1);
		gfn_t end = (range->end - 1) & ~(nr_pages - 1);

		if ((start != range->start || start + nr_pages > range->end) &&
		    start >= slot->base_gfn && start + nr_pages <= slot_end &&
		    !hugepage_test_mixed(slot, start, level))
			kvm_mmu_invalidate_range_add(kvm, start, start + nr_pages);
		if (end == start)
			continue;
		if (end + nr_pages > range->end && end + nr_pages <= slot_end &&
		    !hugepage_test_mixed(slot, end, level))
			kvm_mmu_invalidate_range_add(kvm, end, end + nr_pages);
	}
	range->attr_filter = (range->attributes & KVM_MEMORY_ATTRIBUTE_PRIVATE) ?
				     KVM_FILTER_SHARED : KVM_FILTER_PRIVATE;
	return kvm_unmap_gfn_range(kvm, range);
}

/* Recompute the mixed flag of the frame at gfn if the slot holds all of it. */
static void
hugepage_update_mixed(struct kvm *kvm, const struct kvm_memory_slot *slot, gfn_t gfn, int level,
		      u64 attrs)
{
	if (gfn < slot->base_gfn || gfn + KVM_PAGES_PER_HPAGE(level) > slot->base_gfn + slot->npages)
		return;
	hugepage_set_mixed(slot, gfn, level, !hugepage_has_attrs(kvm, slot, gfn, level, attrs));
}

/*
 * Models kvm_arch_post_set_memory_attributes(): per level from 2M up (upper levels read the
 * lower ones' flags), the head and tail frames the range covers in part are rechecked; frames
 * it covers whole now hold only the range's attributes, so they are not mixed.
 */
gboolean
kvm_arch_post_set_memory_attributes(struct kvm *kvm, struct kvm_gfn_range *range)
{
	const struct kvm_memory_slot *slot = range->slot;
	u64 attrs = range->attributes;

	g_assert(sim_rwlock_write_held(&kvm->mmu_lock));
	g_assert(sim_mutex_held(&kvm->slots_lock));
	if (!kvm_arch_has_private_mem(kvm))
		return FALSE;
	for (int level = PG_LEVEL_2M; level <= KVM_MAX_HUGEPAGE_LEVEL; level++) {
		gfn_t nr_pages = KVM_PAGES_PER_HPAGE(level);
		gfn_t gfn = range->start & ~(nr_pages - 1);

		if (gfn != range->start || gfn + nr_pages > range->end) {
			hugepage_update_mixed(kvm, slot, gfn, level, attrs);
			gfn += nr_pages;
		}
		for (; gfn + nr_pages <= range->end; gfn += nr_pages)
			hugepage_set_mixed(slot, gfn, level, FALSE);
		if (gfn < range->end)
			hugepage_update_mixed(kvm, slot, gfn, level, attrs);
	}
	return FALSE;
}
