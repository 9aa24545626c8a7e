/* SPDX-License-Identifier: GPL-2.0-only */
/* The VMM's address space: VMAs, PTEs, MMU notifier registration, and faulting pages in (the
 * primary-MMU operations that fire the notifiers are in mm-ops.c). The mm/ functions named here
 * (do_anonymous_page(), migration_entry_wait_on_locked(), the folio allocators) are named from
 * their roles, with no tree read, unless the comment says where; handle_userfault() was read in
 * ColinIanKing/linux-next at 0891c7dd (fs/userfaultfd.c). */
#include "sim/core/mm-internal.h"

#include <errno.h>

#include "sim/core/log.h"
#include "sim/core/mutations.h"
#include "sim/core/uffd.h"

/* fault_in(): the PTE is none in a VM_UFFD_MISSING range, handle_userfault() decides. */
#define MM_FAULT_USERFAULT 1

/* The VMM's address space: no VMAs yet. */
SimMm *
sim_mm_new(SimSched *sched, SimHostMem *hm, SimCounters *counters)
{
	SimMm *mm = g_new0(SimMm, 1);

	mm->sched = sched;
	mm->hm = hm;
	mm->counters = counters;
	mm->vmas = g_array_new(FALSE, TRUE, sizeof(Vma));
	mm->notifiers = g_array_new(FALSE, TRUE, sizeof(Notifier));
	mm->next_hva = SIM_MM_MMAP_BASE;
	mm->mmap_lock.name = "mmap_lock";
	mm->ptl.name = "ptl";
	mm->zap_pfns = g_ptr_array_new();
	return mm;
}

/* Free the VMAs and their PTEs (frames are the host memory's). */
void
sim_mm_free(SimMm *mm)
{
	if (!mm)
		return;
	for (guint i = 0; i < mm->vmas->len; i++) {
		g_free(g_array_index(mm->vmas, Vma, i).ptes);
		g_free(g_array_index(mm->vmas, Vma, i).pmds);
		g_free(g_array_index(mm->vmas, Vma, i).resident);
	}
	g_array_free(mm->vmas, TRUE);
	g_array_free(mm->notifiers, TRUE);
	for (guint i = 0; i < mm->zap_pfns->len; i++)
		g_array_free(g_ptr_array_index(mm->zap_pfns, i), TRUE);
	g_ptr_array_free(mm->zap_pfns, TRUE);
	g_free(mm);
}

/* Whether an actor runs this (set-up and teardown code runs outside, and cannot wait). */
static gboolean
in_actor(const SimMm *mm)
{
	return sim_sched_self(mm->sched) != (gconstpointer)mm->sched;
}

/* Whether no invalidate_range_start() is waiting for its end. */
static gboolean
no_invalidation(gpointer data)
{
	return ((SimMm *)data)->invalidating == 0;
}

/* Whether no walk of the notifiers is under way. */
static gboolean
no_walk(gpointer data)
{
	return ((SimMm *)data)->notifying == 0;
}

void
sim_mm_set_mutations(SimMm *mm, SimMutations set)
{
	mm->mutations = set;
}

void
sim_mm_register_notifier(SimMm *mm, const SimMmuNotifierOps *ops, gpointer data)
{
	Notifier n = { ops, data };

	/* __mmu_notifier_register() runs under mmap_write_lock and mm_take_all_locks(), which no
	 * invalidation holds across its start and end: a new subscriber never sees an end without
	 * its start (a second VM created while the host invalidates: the reboot workload); the
	 * wait sleeps, as mmap_write_lock()'s down_write() does */
	if (mm->invalidating && in_actor(mm))
		sim_wait_sleeping(mm->sched, "no invalidation in progress", no_invalidation, mm);
	g_array_append_val(mm->notifiers, n);
}

/* mmu_notifier_unregister(): the VM is going (a second VM may live on in the same process). */
void
sim_mm_unregister_notifier(SimMm *mm, gpointer data)
{
	/* synchronize_srcu(): a walk that may be inside this subscriber's callback ends first
	 * (outside the actors, at teardown, a walk left under way was abandoned with its run);
	 * asleep, as sim_synchronize_srcu() */
	if (mm->notifying && in_actor(mm))
		sim_wait_sleeping(mm->sched, "no notifier walk under way", no_walk, mm);
	for (guint i = 0; i < mm->notifiers->len; i++) {
		if (g_array_index(mm->notifiers, Notifier, i).data == data) {
			g_array_remove_index(mm->notifiers, i);
			return;
		}
	}
}

/* Models mmap(MAP_ANONYMOUS) at the next deterministic address. */
gboolean
sim_mm_mmap_anon(SimMm *mm, guint64 size, guint64 *out_hva, GError **error)
{
	if (size == 0 || size % SIM_PAGE_SIZE) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
			    "mmap size %" G_GUINT64_FORMAT " is not a multiple of 4 KiB", size);
		return FALSE;
	}
	Vma vma = { mm->next_hva, mm->next_hva + size, g_new0(HostPte, size / SIM_PAGE_SIZE),
		    g_new(guint32, size / SIM_PAGE_SIZE), 0, FALSE, NULL, FALSE };

	g_array_append_val(mm->vmas, vma);
	mm->next_hva = (vma.end + (4ull << 20)) & ~((2ull << 20) - 1);
	*out_hva = vma.start;
	return TRUE;
}

/* Models mmap(MAP_FIXED_NOREPLACE | MAP_ANONYMOUS) as a trace asks for. */
gboolean
sim_mm_mmap_anon_at(SimMm *mm, guint64 hva, guint64 size, GError **error)
{
	if (size == 0 || (hva | size) % SIM_PAGE_SIZE || hva + size < hva) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
			    "mapping 0x%" G_GINT64_MODIFIER "x+0x%" G_GINT64_MODIFIER
			    "x is not page aligned", hva, size);
		return FALSE;
	}
	guint pos = 0;

	for (guint i = 0; i < mm->vmas->len; i++) {
		Vma *vma = &g_array_index(mm->vmas, Vma, i);

		if (hva >= vma->start && hva + size <= vma->end)
			return TRUE;
		if (hva < vma->end && vma->start < hva + size) {
			g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
				    "mapping 0x%" G_GINT64_MODIFIER "x+0x%" G_GINT64_MODIFIER
				    "x overlaps part of another", hva, size);
			return FALSE;
		}
		if (vma->start < hva)
			pos = i + 1;
	}
	Vma vma = { hva, hva + size, g_new0(HostPte, size / SIM_PAGE_SIZE),
		    g_new(guint32, size / SIM_PAGE_SIZE), 0, FALSE, NULL, FALSE };

	g_array_insert_val(mm->vmas, pos, vma);
	mm->next_hva = MAX(mm->next_hva, (vma.end + (4ull << 20)) & ~((2ull << 20) - 1));
	return TRUE;
}

/* mm_vma_of() past its hint: the VMA that covers (or once covered) hva, or NULL. */
Vma *
mm_vma_lookup(const SimMm *mm, guint64 hva)
{
	GArray *vmas = mm->vmas;

	for (guint i = 0; i < vmas->len; i++) {
		Vma *vma = &g_array_index(vmas, Vma, i);

		if (hva >= vma->start && hva < vma->end) {
			((SimMm *)mm)->vma_hint = i;
			return vma;
		}
	}
	return NULL;
}

/* The PTE slot for hva, or NULL if no VMA ever covered it. */
HostPte *
mm_pte_of(const SimMm *mm, guint64 hva)
{
	Vma *vma = mm_vma_of(mm, hva);

	return vma ? &vma->ptes[(hva - vma->start) / SIM_PAGE_SIZE] : NULL;
}

/* The PMD state of hva in its VMA, or NULL when the VMA does not track PMDs (no THPs). */
guint8 *
mm_pmd_of(const Vma *vma, guint64 hva)
{
	if (!vma || !vma->pmds)
		return NULL;
	return &vma->pmds[(hva - (vma->start & HPAGE_PMD_MASK)) / HPAGE_PMD_SIZE];
}

/* Whether a huge PMD (a 2 MiB folio) maps hva, as pmd_trans_huge() says of a PMD. */
gboolean
mm_pmd_trans_huge(const SimMm *mm, guint64 hva)
{
	guint8 *pmd = mm_pmd_of(mm_vma_of(mm, hva), hva);

	return pmd && *pmd == PMD_HUGE;
}

/* Models madvise(MADV_HUGEPAGE) -> hugepage_madvise() (mm/khugepaged.c): the VMA gets
 * VM_HUGEPAGE, so its faults may allocate PMD-sized folios. Set-up time only. */
int
sim_mm_madvise_hugepage(SimMm *mm, guint64 hva, guint64 len)
{
	Vma *vma = mm_vma_of(mm, hva);

	if (!vma || len == 0 || hva + len > vma->end || (hva | len) % SIM_PAGE_SIZE)
		return -EINVAL;
	if (!vma->pmds)
		vma->pmds = g_new0(guint8, (vma->end - (vma->start & HPAGE_PMD_MASK) +
					    HPAGE_PMD_SIZE - 1) / HPAGE_PMD_SIZE);
	vma->hugepage = TRUE;
	return 0;
}

/* Models host_pfn_mapping_level()'s view of the host page table: PG_LEVEL_2M (2) for a present
 * huge PMD, else PG_LEVEL_4K (1); a PMD migration entry is not present. Lockless, like the
 * kernel's READ_ONCE walk: the caller consumes it only after its mmu_invalidate check. */
int
sim_mm_host_mapping_level(const SimMm *mm, guint64 hva)
{
	Vma *vma = mm_vma_of(mm, hva);
	const guint8 *pmd = mm_pmd_of(vma, hva); /* NULL without a VMA or THPs */

	if (!pmd || *pmd != PMD_HUGE)
		return 1;
	/* a huge PMD: the PTE slot says whether a migration entry replaced it */
	if (vma->ptes[(hva - vma->start) / SIM_PAGE_SIZE].flags & PTE_MIGRATION)
		return 1;
	return 2;
}

/* The page at hva now holds a frame of its own: put it on its VMA's resident list. */
static void
resident_add(SimMm *mm, HostPte *pte, guint64 hva)
{
	Vma *vma = mm_vma_of(mm, hva);
	guint32 index = (guint32)((hva - vma->start) / SIM_PAGE_SIZE);

	if (pte->resident)
		return;
	vma->resident[vma->nr_resident++] = index;
	pte->resident = vma->nr_resident;
}

/* The page at hva lost its frame: the last page on the list takes its place there. */
void
mm_resident_remove(SimMm *mm, HostPte *pte, guint64 hva)
{
	if (!pte->resident)
		return;
	Vma *vma = mm_vma_of(mm, hva);
	guint32 last = vma->resident[vma->nr_resident - 1];

	vma->resident[pte->resident - 1] = last;
	vma->ptes[last].resident = pte->resident;
	vma->nr_resident--;
	pte->resident = 0;
}

guint64
sim_mm_nr_resident(const SimMm *mm, guint64 hva)
{
	Vma *vma = mm_vma_of(mm, hva);

	return vma ? vma->nr_resident : 0;
}

guint64
sim_mm_resident_page(const SimMm *mm, guint64 hva, guint64 index)
{
	Vma *vma = mm_vma_of(mm, hva);

	g_return_val_if_fail(vma && index < vma->nr_resident, 0);
	return vma->start + (guint64)vma->resident[index] * SIM_PAGE_SIZE;
}

gboolean
sim_mm_mapped(const SimMm *mm, guint64 hva)
{
	HostPte *pte = mm_pte_of(mm, hva);

	return pte && !(pte->flags & PTE_UNMAPPED);
}

SimPfn
sim_mm_lookup(const SimMm *mm, guint64 hva)
{
	HostPte *pte = mm_pte_of(mm, hva);

	return pte && (pte->flags & PTE_PRESENT) && !(pte->flags & PTE_MIGRATION) ? pte->pfn :
										      SIM_PFN_NONE;
}

void
sim_mm_notify_invalidate_start(SimMm *mm, guint64 start, guint64 end)
{
	mm_notify_start(mm, start, end);
}

void
sim_mm_notify_invalidate_end(SimMm *mm, guint64 start, guint64 end)
{
	mm_notify_end(mm, start, end);
}

/* Calls every registered notifier's invalidate_range_start() for [start, end). */
void
mm_notify_start(SimMm *mm, guint64 start, guint64 end)
{
	mm->invalidating++;
	mm->notifying++;
	for (guint i = 0; i < mm->notifiers->len; i++) {
		Notifier *n = &g_array_index(mm->notifiers, Notifier, i);

		n->ops->invalidate_range_start(n->data, start, end);
	}
	mm->notifying--;
}

/* Calls every registered notifier's invalidate_range_end() for [start, end). */
void
mm_notify_end(SimMm *mm, guint64 start, guint64 end)
{
	mm->notifying++;
	for (guint i = 0; i < mm->notifiers->len; i++) {
		Notifier *n = &g_array_index(mm->notifiers, Notifier, i);

		n->ops->invalidate_range_end(n->data, start, end);
	}
	mm->notifying--;
	mm->invalidating--;
}

/* A frame is now mapped at hva: it becomes that page's next frame. */
void
mm_pte_install(SimMm *mm, HostPte *pte, guint64 hva, SimPfn pfn)
{
	pte->pfn = pfn;
	pte->frames++;
	resident_add(mm, pte, hva & ~(guint64)(SIM_PAGE_SIZE - 1));
	sim_frame_set_mapping(mm->hm, pfn, hva & ~(guint64)(SIM_PAGE_SIZE - 1), pte->frames);
}

gboolean
sim_mm_frame_tag(const SimMm *mm, SimPfn pfn, guint64 *out_hva, guint *out_nth)
{
	return sim_frame_mapping(mm->hm, pfn, out_hva, out_nth);
}

static gboolean
migration_done(gpointer data)
{
	return !(((HostPte *)data)->flags & PTE_MIGRATION);
}

/*
 * Models do_huge_pmd_anonymous_page() (mm/huge_memory.c) for a VM_HUGEPAGE mapping whose PMD is
 * still none and whose 2 MiB around hva lies inside the VMA (thp_vma_suitable_order()): one
 * PMD-sized folio of 512 contiguous frames, mapped young and dirty. With
 * transparent_hugepage/use_zero_page off, a read allocates the folio too (no huge zero page).
 * Read in ColinIanKing/linux-next, mm/huge_memory.c at 0153b4ea (6.18 era: TVA_PAGEFAULT,
 * mm_flags_test()).
 * Returns 0, or 1 for VM_FAULT_FALLBACK: the fault goes on at 4 KiB (the folio could not be
 * allocated, or the PMD is not none).
 */
static int
do_huge_pmd_anonymous_page(SimMm *mm, guint64 hva)
{
	Vma *vma = mm_vma_of(mm, hva);
	guint64 haddr = hva & HPAGE_PMD_MASK;
	guint8 *pmd = mm_pmd_of(vma, hva);

	if (!vma->hugepage || haddr < vma->start || haddr + HPAGE_PMD_SIZE > vma->end ||
	    *pmd != PMD_NONE)
		return 1;
	SimPfn head = sim_frame_alloc_contig(mm->hm, HPAGE_PMD_NR);

	if (head == SIM_PFN_NONE) {
		sim_count(mm->counters, SIM_CTR_THP_FAULT_FALLBACK);
		return 1;
	}
	/* vma_alloc_anon_folio_pmd() → folio_zero_user(): every page through the direct map */
	for (guint64 i = 0; i < HPAGE_PMD_NR; i++)
		sim_frame_kernel_access(mm->hm, head + i, TRUE, "clear_page");
	for (guint64 i = 0; i < HPAGE_PMD_NR; i++) {
		HostPte *pte = mm_pte_of(mm, haddr + i * SIM_PAGE_SIZE);

		mm_pte_install(mm, pte, haddr + i * SIM_PAGE_SIZE, head + i);
		pte->flags = PTE_PRESENT | PTE_YOUNG | PTE_DIRTY;
	}
	*pmd = PMD_HUGE;
	sim_count(mm->counters, SIM_CTR_THP_FAULT_ALLOC);
	sim_log_emit(sim_sched_log(mm->sched), "sim_mm_fault", "hva 0x%" G_GINT64_MODIFIER
		     "x pfn 0x%" G_GINT64_MODIFIER "x thp", haddr, head);
	return 0;
}

/* A PTE is about to be set under a none PMD of a VM_HUGEPAGE mapping: it now has a PTE table
 * (__pte_alloc()), so later faults in that 2 MiB stay at 4 KiB. */
static void
pmd_populate(SimMm *mm, guint64 hva)
{
	guint8 *pmd = mm_pmd_of(mm_vma_of(mm, hva), hva);

	if (pmd && *pmd == PMD_NONE)
		*pmd = PMD_TABLE;
}

/* Models do_anonymous_page() (mm/memory.c) under the PTL: a read maps the shared zero page
 * read-only (a special PTE: no frame of this page, no reference), a write a new zeroed frame.
 * Read in ColinIanKing/linux-next (6.19-cycle snapshot, unchanged in this from v6.9). */
static int
do_anonymous_page(SimMm *mm, HostPte *pte, guint64 hva, gboolean write)
{
	if (!write) {
		pte->pfn = SIM_ZERO_PFN;
		pte->flags = PTE_PRESENT;
		sim_count(mm->counters, SIM_CTR_HOST_ZERO_PAGE);
		sim_log_emit(sim_sched_log(mm->sched), "sim_mm_fault", "hva 0x%" G_GINT64_MODIFIER
			     "x pfn 0x%" G_GINT64_MODIFIER "x zero page", hva, (SimPfn)SIM_ZERO_PFN);
		return 0;
	}
	SimPfn pfn = sim_frame_alloc(mm->hm);

	if (pfn == SIM_PFN_NONE)
		return -ENOMEM;
	/* vma_alloc_zeroed_movable_folio(): the kernel clears it through the direct map */
	sim_frame_kernel_access(mm->hm, pfn, TRUE, "clear_page");
	mm_pte_install(mm, pte, hva, pfn);
	pte->flags = PTE_PRESENT;
	sim_log_emit(sim_sched_log(mm->sched), "sim_mm_fault", "hva 0x%" G_GINT64_MODIFIER
		     "x pfn 0x%" G_GINT64_MODIFIER "x", hva, pfn);
	return 0;
}

/*
 * Models wp_page_copy() (mm/memory.c) for a write to a zero-page PTE, called by do_wp_page()
 * after it dropped the PTL: the new frame is allocated zeroed (folio_prealloc(): nothing to copy)
 * *before* mmu_notifier_invalidate_range_start() of that one page; under the PTL, if the PTE still
 * maps the zero page, it is cleared and flushed and the new frame mapped writable and dirty;
 * the notifier end follows the PTL, and an unused new frame is freed after it. Read in
 * ColinIanKing/linux-next (6.19-cycle snapshot; v6.9 has the same order).
 */
static int
wp_page_copy(SimMm *mm, HostPte *pte, guint64 hva)
{
	guint64 page = hva & ~(guint64)(SIM_PAGE_SIZE - 1);
	SimPfn new_pfn = sim_frame_alloc(mm->hm);

	if (new_pfn == SIM_PFN_NONE)
		return -ENOMEM;
	sim_frame_kernel_access(mm->hm, new_pfn, TRUE, "clear_page");
	sim_yield(mm->sched, "cow.mmu_notifier");
	mm_notify_start(mm, page, page + SIM_PAGE_SIZE);
	sim_spin_lock(mm->sched, &mm->ptl, "cow.ptl");
	/* pte_same() against the zero-page PTE do_wp_page() saw */
	gboolean same = (pte->flags & PTE_PRESENT) && !(pte->flags & PTE_MIGRATION) &&
			pte->pfn == SIM_ZERO_PFN;

	if (same) {
		/* ptep_clear_flush(), then set_pte_at() of the new frame */
		mm_pte_install(mm, pte, page, new_pfn);
		pte->flags = PTE_PRESENT | PTE_YOUNG | PTE_DIRTY;
		sim_count(mm->counters, SIM_CTR_HOST_COW);
		sim_log_emit(sim_sched_log(mm->sched), "sim_mm_cow",
			     "hva 0x%" G_GINT64_MODIFIER "x pfn 0x%" G_GINT64_MODIFIER
			     "x -> 0x%" G_GINT64_MODIFIER "x", page, (SimPfn)SIM_ZERO_PFN, new_pfn);
	}
	sim_spin_unlock(mm->sched, &mm->ptl, "cow.ptl_unlock");
	mm_notify_end(mm, page, page + SIM_PAGE_SIZE);
	if (!same)
		sim_frame_free(mm->hm, new_pfn);
	return 0;
}

/*
 * Models one pass of the GUP slow path under the PTL: handle_mm_fault() for a missing
 * anonymous PTE, then a reference on whatever is mapped, taken before the PTL is dropped so the
 * frame cannot go away in between (follow_page_pte() -> try_grab_folio(), which takes a plain
 * reference on the zero page too for FOLL_GET). A write that finds the zero page breaks COW
 * instead. -EAGAIN: look at the PTE again (a migration entry, or a COW that replaced it).
 */
static int
fault_in(SimMm *mm, HostPte *pte, guint64 hva, gboolean write, SimPfn *out_pfn)
{
	int r = 0;

	sim_spin_lock(mm->sched, &mm->ptl, "gup.ptl");
	if (pte->flags & PTE_MIGRATION) {
		/* a migration got here first: wait for it, as the caller does for a fresh entry */
		sim_spin_unlock(mm->sched, &mm->ptl, "gup.ptl_unlock");
		return -EAGAIN;
	}
	if (!(pte->flags & PTE_PRESENT) && mm_vma_of(mm, hva)->uffd_missing && mm->uffd) {
		/* do_anonymous_page() and do_huge_pmd_anonymous_page(): userfaultfd_missing() */
		sim_spin_unlock(mm->sched, &mm->ptl, "gup.ptl_unlock");
		return MM_FAULT_USERFAULT;
	}
	if (!(pte->flags & PTE_PRESENT)) {
		/* __handle_mm_fault(): a none PMD may take a huge folio, else a PTE table */
		if (do_huge_pmd_anonymous_page(mm, hva) != 0) {
			pmd_populate(mm, hva);
			r = do_anonymous_page(mm, pte, hva, write);
		}
	} else if (write && pte->pfn == SIM_ZERO_PFN) {
		/* do_wp_page(): the zero page has no page to reuse, so copy with the PTL dropped */
		sim_spin_unlock(mm->sched, &mm->ptl, "gup.ptl_unlock");
		r = wp_page_copy(mm, pte, hva);
		return r ? r : -EAGAIN;
	}
	if (r == 0) {
		pte->flags |= PTE_YOUNG | (write ? PTE_DIRTY : 0);
		sim_frame_get(mm->hm, pte->pfn);
		*out_pfn = pte->pfn;
	}
	sim_spin_unlock(mm->sched, &mm->ptl, "gup.ptl_unlock");
	return r;
}

/* Models get_user_page_fast_only(FOLL_WRITE) (gup_fast_pte_range() in mm/gup.c): lockless, and
 * only a present, writable PTE that is not special; the zero page is read-only and special. */
static gboolean
gup_fast_write(SimMm *mm, guint64 hva, gboolean write, SimPfn *out_pfn)
{
	HostPte *pte = mm_pte_of(mm, hva);

	if (!pte || !(pte->flags & PTE_PRESENT) || (pte->flags & PTE_MIGRATION) ||
	    pte->pfn == SIM_ZERO_PFN)
		return FALSE;
	pte->flags |= PTE_YOUNG | (write ? PTE_DIRTY : 0);
	sim_frame_get(mm->hm, pte->pfn);
	*out_pfn = pte->pfn;
	return TRUE;
}

/*
 * Models hva_to_pfn() (virt/kvm/kvm_main.c, read in ColinIanKing/linux-next, 6.18-cycle). x86
 * always asks whether a read may be mapped writable, so hva_to_pfn_fast() tries GUP-fast for
 * write even on a read. Else hva_to_pfn_slow(): GUP with FOLL_WRITE only for a write, then, for a
 * read, GUP-fast for write once more, which wins only if the PTE is writable by now (it may be a
 * page a COW break just mapped: that page replaces the one found). The frame comes back pinned
 * (FOLL_GET): the caller drops the reference with sim_frame_put().
 *
 * SIM_GUP_FAST_ONLY is the atomic lookup (hva_to_pfn() with atomic: hva_to_pfn_fast() alone,
 * KVM_PFN_ERR_FAULT -> -EFAULT when it fails). SIM_GUP_NOWAIT is FOLL_NOWAIT: a fault that
 * would sleep in userfaultfd returns -EAGAIN at once instead (the async-PF probe).
 */
int
sim_mm_hva_to_pfn_flags(SimMm *mm, guint64 hva, gboolean write, guint flags, SimPfn *out_pfn,
			gboolean *out_writable)
{
	HostPte *pte;
	SimPfn writable_pfn;
	int ret = 0;

	*out_writable = TRUE; /* a writable PTE: private anonymous memory, no mprotect modeled */
	if (gup_fast_write(mm, hva, write, out_pfn))
		return 0;
	if (flags & SIM_GUP_FAST_ONLY)
		return -EFAULT;
	sim_down_read(mm->sched, &mm->mmap_lock, "gup.mmap_lock");
	for (;;) {
		pte = mm_pte_of(mm, hva);
		if (!pte || (pte->flags & PTE_UNMAPPED)) {
			ret = -EFAULT;
			break;
		}
		if (pte->flags & PTE_MIGRATION) {
			sim_count(mm->counters, SIM_CTR_PROBE_GUP_WAITED_MIGRATION);
			/* migration_entry_wait_on_locked(): io_schedule() until unlocked */
			sim_wait_sleeping(mm->sched, "migration_entry_wait", migration_done, pte);
			continue;
		}
		ret = fault_in(mm, pte, hva, write, out_pfn);
		if (ret == MM_FAULT_USERFAULT) {
			/* VM_FAULT_RETRY: mmap_lock was dropped; GUP takes it again and retries */
			sim_uffd_handle_userfault(mm->uffd, hva, write, (flags & SIM_GUP_NOWAIT) != 0);
			if (flags & SIM_GUP_NOWAIT)
				return -EAGAIN;
			sim_down_read(mm->sched, &mm->mmap_lock, "gup.mmap_lock");
			continue;
		}
		if (ret != -EAGAIN)
			break;
	}
	sim_up_read(mm->sched, &mm->mmap_lock, "gup.mmap_unlock");
	if (ret || write)
		return ret;
	if (gup_fast_write(mm, hva, FALSE, &writable_pfn)) {
		sim_frame_put(mm->hm, *out_pfn);
		*out_pfn = writable_pfn;
	} else {
		*out_writable = FALSE;
	}
	return 0;
}

int
sim_mm_hva_to_pfn(SimMm *mm, guint64 hva, gboolean write, SimPfn *out_pfn,
		  gboolean *out_writable)
{
	return sim_mm_hva_to_pfn_flags(mm, hva, write, 0, out_pfn, out_writable);
}
