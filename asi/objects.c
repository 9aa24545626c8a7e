/* SPDX-License-Identifier: GPL-2.0-only */
/* Host objects with a sensitivity, the direct map, user mappings, asi_map and asi_unmap. */
#include "asi/asi-internal.h"

#include <errno.h>

/* Kernel data PTEs: present, writable, accessed, dirty, NX; never _PAGE_GLOBAL under ASI
 * (__default_kernel_pte_mask, v2 03/29 and 20/29). */
#define ASI_PAGE_KERNEL (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_NX)
#define ASI_PAGE_USER (ASI_PAGE_KERNEL | _PAGE_USER)

/* Models the direct map and alloc_pages()'s __GFP_SENSITIVE (v2 14/29) for frames pfn..pfn+n
 * the caller owns (sim/core's frames): mapped at PAGE_OFFSET + pa and, when the kind is
 * nonsensitive, in the global nonsensitive tables too. The direct-map address. */
guint64
asi_track_frames(AsiHost *host, guint64 pfn, guint npages, AsiObjKind kind)
{
	guint64 va = ASI_PAGE_OFFSET + (pfn << 12);

	for (guint i = 0; i < npages; i++) {
		guint64 *key = g_new(guint64, 1);

		*key = pfn + i;
		asi_warn(host, g_hash_table_contains(host->frames, key), "asi_frame_tracked_twice");
		g_hash_table_replace(host->frames, key, GUINT_TO_POINTER(kind + 1));
		*asi_pt_lookup(host, host->init_pgd, va + i * ASI_PAGE_SIZE, TRUE) =
			((pfn + i) << 12) | ASI_PAGE_KERNEL;
	}
	if (!host->config.sensitive[kind])
		asi_map(host, NULL, va, (guint64)npages * ASI_PAGE_SIZE);
	return va;
}

/* Models alloc_pages(): frames of the model's own, tracked as above. Simplified: frames are
 * handed out in order and never reused. */
guint64
asi_alloc_pages(AsiHost *host, AsiObjKind kind, guint npages)
{
	guint64 pfn = host->next_pfn;

	host->next_pfn += npages;
	return asi_track_frames(host, pfn, npages, kind);
}

/* The kind tag of a tracked frame, 0 if untracked. */
static guint
frame_tag(AsiHost *host, guint64 pfn)
{
	return GPOINTER_TO_UINT(g_hash_table_lookup(host->frames, &pfn));
}

/* Whether the frame at pa was allocated sensitive (untracked frames count as not). */
gboolean
asi_page_sensitive(AsiHost *host, guint64 pa)
{
	guint tag = frame_tag(host, pa >> 12);

	return tag && host->config.sensitive[tag - 1];
}

/* Models __free_pages() of a nonsensitive page (v2 14/29): asi_unmap and a TLB flush first,
 * which need IRQs on (the kernel defers such frees to a workqueue; here the caller must be able
 * to flush). cpu is the CPU freeing, or NULL outside any CPU's context. The direct map stays. */
void
asi_free_pages(AsiHost *host, AsiCpu *cpu, guint64 va, guint npages)
{
	guint64 pfn = (va - ASI_PAGE_OFFSET) >> 12;

	if (!asi_page_sensitive(host, pfn << 12))
		asi_unmap(host, cpu, va, (guint64)npages * ASI_PAGE_SIZE);
	for (guint i = 0; i < npages; i++) {
		guint64 key = pfn + i;

		asi_warn(host, !g_hash_table_remove(host->frames, &key), "asi_free_untracked_frame");
	}
}

/* Models the user-half mapping of an mm (handle_mm_fault's set_pte_at) for memory whose kernel
 * alias is kva, plus asi_clone_user_pgtbl() (branch asi.c): a changed user PGD entry is copied
 * into every domain of the mm whose class maps user addresses. */
void
asi_mm_map_user(AsiHost *host, struct asi_mm *mm, guint64 uva, guint64 kva, guint npages)
{
	for (guint i = 0; i < npages; i++) {
		guint64 pa = kva - ASI_PAGE_OFFSET + i * ASI_PAGE_SIZE;
		guint64 va = uva + i * ASI_PAGE_SIZE;
		guint pgd_index = (guint)((va >> 39) & 511);

		g_assert(pgd_index < KERNEL_PGD_BOUNDARY);
		*asi_pt_lookup(host, mm->pgd, va, TRUE) = pa | ASI_PAGE_USER;
		for (guint c = 0; c < ASI_MAX_NUM_CLASSES; c++) {
			if (mm->asi[c].ref_count > 0 && asi_maps_user_addr((enum asi_class_id)c))
				asi_pt_va(host, mm->asi[c].pgd)[pgd_index] =
					asi_pt_va(host, mm->pgd)[pgd_index];
		}
	}
}

/* Models asi_map() in arch/x86/mm/asi.c (branch): copy the unrestricted PTEs of [va, va+len)
 * into the global nonsensitive tables. Simplified: 4K granularity, not pageblocks. Must not run in
 * a critical section: ASI's own tables may be unmapped there (v2 14/29). */
int
asi_map(AsiHost *host, AsiCpu *cpu, guint64 va, guint64 len)
{
	if (cpu && asi_warn(host, asi_in_critical_section(cpu), "asi_map_in_critical_section"))
		return -EINVAL;
	for (guint64 off = 0; off < len; off += ASI_PAGE_SIZE) {
		guint64 *src = asi_pt_lookup(host, host->init_pgd, va + off, FALSE);

		if (!src || !(*src & _PAGE_PRESENT))
			continue;
		*asi_pt_lookup(host, host->nonsensitive_pgd, va + off, TRUE) = *src;
	}
	return 0;
}

/* Models asi_unmap() (v2 03/29) and its flush_tlb_kernel_range(): clear the nonsensitive PTEs,
 * then shoot down every CPU's cached translation of them in every PCID (kernel PTEs are not
 * global under ASI: invalidate_other, v2 20/29). The flush sends IPIs, so IRQs must be on
 * (lockdep in smp_call_function_many_cond) and not in a critical section. */
void
asi_unmap(AsiHost *host, AsiCpu *cpu, guint64 va, guint64 len)
{
	if (cpu) {
		asi_warn(host, cpu->irqs_disabled, "asi_unmap_irqs_disabled");
		asi_warn(host, asi_in_critical_section(cpu), "asi_unmap_in_critical_section");
	}
	for (guint64 off = 0; off < len; off += ASI_PAGE_SIZE) {
		guint64 *slot = asi_pt_lookup(host, host->nonsensitive_pgd, va + off, FALSE);

		if (slot)
			*slot = 0;
	}
	asi_flush_tlb_kernel_range(host, va, len);
}
