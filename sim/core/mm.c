/* SPDX-License-Identifier: GPL-2.0-only */
/* The VMM's address space and the primary-MMU operations that fire MMU notifiers. */
#include "sim/core/mm.h"

#include <errno.h>

#include "sim/core/log.h"
#include "sim/core/mutations.h"

static void notify_start(SimMm *mm, guint64 start, guint64 end);
static void notify_end(SimMm *mm, guint64 start, guint64 end);

enum {
	PTE_PRESENT = 1 << 0,
	PTE_YOUNG = 1 << 1,
	PTE_DIRTY = 1 << 2,
	PTE_MIGRATION = 1 << 3, /* a migration entry: pfn is the frame being migrated */
	PTE_UNMAPPED = 1 << 4,  /* no VMA covers this page any more */
};

typedef struct {
	SimPfn pfn;
	guint8 flags;
	guint32 frames;  /* frames mapped here so far: the current one is the frames-th */
	guint32 resident; /* 1 + this page's place in its VMA's resident list, 0 if not on it */
} HostPte;

typedef struct {
	guint64 start;
	guint64 end;
	HostPte *ptes;
	GArray *resident; /* guint32 page indices of the pages holding a frame of their own */
} Vma;

typedef struct {
	const SimMmuNotifierOps *ops;
	gpointer data;
} Notifier;

struct SimMm {
	SimSched *sched;
	SimHostMem *hm;
	SimCounters *counters;
	GArray *vmas;        /* Vma, sorted */
	GArray *notifiers;   /* Notifier */
	guint64 next_hva;
	SimRwsem mmap_lock;
	SimSpinlock ptl;     /* one page-table lock for the whole mm (split PTLs not modeled) */
	SimMutations mutations; /* bugs planted on purpose (free_before_end) */
};

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
		g_array_free(g_array_index(mm->vmas, Vma, i).resident, TRUE);
	}
	g_array_free(mm->vmas, TRUE);
	g_array_free(mm->notifiers, TRUE);
	g_free(mm);
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

	g_array_append_val(mm->notifiers, n);
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
		    g_array_new(FALSE, FALSE, sizeof(guint32)) };

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
		    g_array_new(FALSE, FALSE, sizeof(guint32)) };

	g_array_insert_val(mm->vmas, pos, vma);
	mm->next_hva = MAX(mm->next_hva, (vma.end + (4ull << 20)) & ~((2ull << 20) - 1));
	return TRUE;
}

/* The VMA that covers (or once covered) hva, or NULL. */
static Vma *
vma_of(const SimMm *mm, guint64 hva)
{
	for (guint i = 0; i < mm->vmas->len; i++) {
		Vma *vma = &g_array_index(mm->vmas, Vma, i);

		if (hva >= vma->start && hva < vma->end)
			return vma;
	}
	return NULL;
}

/* The PTE slot for hva, or NULL if no VMA ever covered it. */
static HostPte *
pte_of(const SimMm *mm, guint64 hva)
{
	Vma *vma = vma_of(mm, hva);

	return vma ? &vma->ptes[(hva - vma->start) / SIM_PAGE_SIZE] : NULL;
}

/* The page at hva now holds a frame of its own: put it on its VMA's resident list. */
static void
resident_add(SimMm *mm, HostPte *pte, guint64 hva)
{
	Vma *vma = vma_of(mm, hva);
	guint32 index = (guint32)((hva - vma->start) / SIM_PAGE_SIZE);

	if (pte->resident)
		return;
	g_array_append_val(vma->resident, index);
	pte->resident = vma->resident->len;
}

/* The page at hva lost its frame: the last page on the list takes its place there. */
static void
resident_remove(SimMm *mm, HostPte *pte, guint64 hva)
{
	if (!pte->resident)
		return;
	Vma *vma = vma_of(mm, hva);
	guint32 last = g_array_index(vma->resident, guint32, vma->resident->len - 1);

	g_array_index(vma->resident, guint32, pte->resident - 1) = last;
	vma->ptes[last].resident = pte->resident;
	g_array_set_size(vma->resident, vma->resident->len - 1);
	pte->resident = 0;
}

guint64
sim_mm_nr_resident(const SimMm *mm, guint64 hva)
{
	Vma *vma = vma_of(mm, hva);

	return vma ? vma->resident->len : 0;
}

guint64
sim_mm_resident_page(const SimMm *mm, guint64 hva, guint64 index)
{
	Vma *vma = vma_of(mm, hva);

	g_return_val_if_fail(vma && index < vma->resident->len, 0);
	return vma->start + (guint64)g_array_index(vma->resident, guint32, index) * SIM_PAGE_SIZE;
}

gboolean
sim_mm_mapped(const SimMm *mm, guint64 hva)
{
	HostPte *pte = pte_of(mm, hva);

	return pte && !(pte->flags & PTE_UNMAPPED);
}

SimPfn
sim_mm_lookup(const SimMm *mm, guint64 hva)
{
	HostPte *pte = pte_of(mm, hva);

	return pte && (pte->flags & PTE_PRESENT) && !(pte->flags & PTE_MIGRATION) ? pte->pfn :
										      SIM_PFN_NONE;
}

void
sim_mm_notify_invalidate_start(SimMm *mm, guint64 start, guint64 end)
{
	notify_start(mm, start, end);
}

void
sim_mm_notify_invalidate_end(SimMm *mm, guint64 start, guint64 end)
{
	notify_end(mm, start, end);
}

static void
notify_start(SimMm *mm, guint64 start, guint64 end)
{
	for (guint i = 0; i < mm->notifiers->len; i++) {
		Notifier *n = &g_array_index(mm->notifiers, Notifier, i);

		n->ops->invalidate_range_start(n->data, start, end);
	}
}

static void
notify_end(SimMm *mm, guint64 start, guint64 end)
{
	for (guint i = 0; i < mm->notifiers->len; i++) {
		Notifier *n = &g_array_index(mm->notifiers, Notifier, i);

		n->ops->invalidate_range_end(n->data, start, end);
	}
}

/* A frame is now mapped at hva: it becomes that page's next frame. */
static void
pte_install(SimMm *mm, HostPte *pte, guint64 hva, SimPfn pfn)
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
	pte_install(mm, pte, hva, pfn);
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
	sim_yield(mm->sched, "cow.mmu_notifier");
	notify_start(mm, page, page + SIM_PAGE_SIZE);
	sim_spin_lock(mm->sched, &mm->ptl, "cow.ptl");
	/* pte_same() against the zero-page PTE do_wp_page() saw */
	gboolean same = (pte->flags & PTE_PRESENT) && !(pte->flags & PTE_MIGRATION) &&
			pte->pfn == SIM_ZERO_PFN;

	if (same) {
		/* ptep_clear_flush(), then set_pte_at() of the new frame */
		pte_install(mm, pte, page, new_pfn);
		pte->flags = PTE_PRESENT | PTE_YOUNG | PTE_DIRTY;
		sim_count(mm->counters, SIM_CTR_HOST_COW);
		sim_log_emit(sim_sched_log(mm->sched), "sim_mm_cow",
			     "hva 0x%" G_GINT64_MODIFIER "x pfn 0x%" G_GINT64_MODIFIER
			     "x -> 0x%" G_GINT64_MODIFIER "x", page, (SimPfn)SIM_ZERO_PFN, new_pfn);
	}
	sim_spin_unlock(mm->sched, &mm->ptl, "cow.ptl_unlock");
	notify_end(mm, page, page + SIM_PAGE_SIZE);
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
	if (!(pte->flags & PTE_PRESENT)) {
		r = do_anonymous_page(mm, pte, hva, write);
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
	HostPte *pte = pte_of(mm, hva);

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
 */
int
sim_mm_hva_to_pfn(SimMm *mm, guint64 hva, gboolean write, SimPfn *out_pfn,
		  gboolean *out_writable)
{
	HostPte *pte;
	SimPfn writable_pfn;
	int ret = 0;

	*out_writable = TRUE; /* a writable PTE: private anonymous memory, no mprotect modeled */
	if (gup_fast_write(mm, hva, write, out_pfn))
		return 0;
	sim_down_read(mm->sched, &mm->mmap_lock, "gup.mmap_lock");
	for (;;) {
		pte = pte_of(mm, hva);
		if (!pte || (pte->flags & PTE_UNMAPPED)) {
			ret = -EFAULT;
			break;
		}
		if (pte->flags & PTE_MIGRATION) {
			sim_count(mm->counters, SIM_CTR_PROBE_GUP_WAITED_MIGRATION);
			sim_wait(mm->sched, "migration_entry_wait", migration_done, pte);
			continue;
		}
		ret = fault_in(mm, pte, hva, write, out_pfn);
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

/*
 * Models migrate_pages() of one anonymous page (mm/migrate.c), content preserved. The zero page
 * is never migrated: it is on no LRU list to isolate, and move_pages() reports it as -EFAULT
 * (__add_folio_for_migration(), read in ColinIanKing/linux-next, 6.19-cycle snapshot).
 */
int
sim_mm_migrate_page(SimMm *mm, guint64 hva)
{
	hva &= ~(guint64)(SIM_PAGE_SIZE - 1);
	HostPte *pte = pte_of(mm, hva);

	if (!pte || (pte->flags & (PTE_UNMAPPED | PTE_MIGRATION)) || !(pte->flags & PTE_PRESENT))
		return -ENOENT;
	if (pte->pfn == SIM_ZERO_PFN)
		return -EFAULT;
	sim_yield(mm->sched, "migrate.begin");
	SimPfn new_pfn = sim_frame_alloc(mm->hm);

	if (new_pfn == SIM_PFN_NONE)
		return -ENOMEM;
	/* try_to_migrate(): notifier around replacing the PTE with a migration entry */
	notify_start(mm, hva, hva + SIM_PAGE_SIZE);
	sim_spin_lock(mm->sched, &mm->ptl, "migrate.ptl");
	SimPfn old_pfn = pte->pfn;
	/* another migration or a drop (and maybe a read refault of the zero page) may have got
	 * there while the notifier ran */
	gboolean still_mapped = (pte->flags & PTE_PRESENT) && !(pte->flags & PTE_MIGRATION) &&
				pte->pfn != SIM_ZERO_PFN;

	if (still_mapped)
		pte->flags |= PTE_MIGRATION;
	sim_spin_unlock(mm->sched, &mm->ptl, "migrate.ptl_unlock");
	notify_end(mm, hva, hva + SIM_PAGE_SIZE);
	if (!still_mapped) {
		sim_frame_free(mm->hm, new_pfn);
		return -ENOENT;
	}
	/* folio_migrate_mapping(): a page someone pins (a fault between GUP and its finish) stays */
	if (sim_frame_refs(mm->hm, old_pfn) > 0) {
		sim_spin_lock(mm->sched, &mm->ptl, "migrate.remap");
		pte->flags &= ~PTE_MIGRATION;
		sim_spin_unlock(mm->sched, &mm->ptl, "migrate.remap_unlock");
		sim_frame_free(mm->hm, new_pfn);
		sim_count(mm->counters, SIM_CTR_PROBE_MIGRATE_BUSY);
		sim_log_emit(sim_sched_log(mm->sched), "sim_mm_migrate",
			     "hva 0x%" G_GINT64_MODIFIER "x pfn 0x%" G_GINT64_MODIFIER "x busy", hva,
			     old_pfn);
		return -EAGAIN;
	}
	/* move_to_new_folio(): copy the content, wherever it lives */
	sim_yield(mm->sched, "migrate.copy");
	sim_frame_copy(mm->hm, new_pfn, old_pfn);
	/* remove_migration_ptes(): the new frame takes the old one's place */
	sim_spin_lock(mm->sched, &mm->ptl, "migrate.remap");
	pte_install(mm, pte, hva, new_pfn);
	pte->flags = (pte->flags & ~(PTE_MIGRATION | PTE_YOUNG)) | PTE_PRESENT;
	sim_spin_unlock(mm->sched, &mm->ptl, "migrate.remap_unlock");
	sim_log_emit(sim_sched_log(mm->sched), "sim_mm_migrate",
		     "hva 0x%" G_GINT64_MODIFIER "x pfn 0x%" G_GINT64_MODIFIER
		     "x -> 0x%" G_GINT64_MODIFIER "x", hva, old_pfn, new_pfn);
	sim_frame_free(mm->hm, old_pfn);
	sim_count(mm->counters, SIM_CTR_HOST_MIGRATE);
	return 0;
}

/* Clear the present PTEs of [start, end) under the PTL; returns the frames they mapped. */
static GArray *
clear_ptes(SimMm *mm, guint64 start, guint64 end, gboolean unmap, const char *point,
	   const char *unlock_point)
{
	GArray *pfns = g_array_new(FALSE, FALSE, sizeof(SimPfn));

	sim_spin_lock(mm->sched, &mm->ptl, point);
	for (guint64 hva = start; hva < end; hva += SIM_PAGE_SIZE) {
		HostPte *pte = pte_of(mm, hva);

		if (!pte || (pte->flags & PTE_UNMAPPED))
			continue;
		/* a page under migration is left to the migration (simplified) */
		if (pte->flags & PTE_MIGRATION)
			continue;
		/* zap_present_ptes(): the zero page has no page to put */
		if ((pte->flags & PTE_PRESENT) && pte->pfn != SIM_ZERO_PFN)
			g_array_append_val(pfns, pte->pfn);
		resident_remove(mm, pte, hva);
		pte->flags = unmap ? PTE_UNMAPPED : 0;
		pte->pfn = 0;
	}
	sim_spin_unlock(mm->sched, &mm->ptl, unlock_point);
	return pfns;
}

static gboolean
range_ok(const SimMm *mm, guint64 hva, guint64 len)
{
	if (len == 0 || (hva | len) % SIM_PAGE_SIZE)
		return FALSE;
	for (guint64 a = hva; a < hva + len; a += SIM_PAGE_SIZE)
		if (sim_mm_mapped(mm, a))
			return TRUE;
	return FALSE;
}

/* Free the frames pfns lists (once: the list is emptied), then the list if done. */
static void
free_frames(SimMm *mm, GArray *pfns, gboolean done)
{
	for (guint i = 0; i < pfns->len; i++)
		sim_frame_free(mm->hm, g_array_index(pfns, SimPfn, i));
	g_array_set_size(pfns, 0);
	if (done)
		g_array_free(pfns, TRUE);
}

/* Models madvise(MADV_DONTNEED) -> zap_page_range_single() (mm/madvise.c, mm/memory.c). */
int
sim_mm_dontneed(SimMm *mm, guint64 hva, guint64 len)
{
	if (!range_ok(mm, hva, len))
		return -ENOENT;
	sim_down_read(mm->sched, &mm->mmap_lock, "dontneed.mmap_lock");
	notify_start(mm, hva, hva + len);
	GArray *pfns = clear_ptes(mm, hva, hva + len, FALSE, "dontneed.ptl", "dontneed.ptl_unlock");
	guint nr = pfns->len;

	if (sim_mutated(mm->mutations, SIM_MUT_FREE_BEFORE_END))
		free_frames(mm, pfns, FALSE);
	notify_end(mm, hva, hva + len);
	sim_log_emit(sim_sched_log(mm->sched), "sim_mm_dontneed",
		     "hva 0x%" G_GINT64_MODIFIER "x len 0x%" G_GINT64_MODIFIER "x frames %u", hva,
		     len, nr);
	free_frames(mm, pfns, TRUE); /* tlb_finish_mmu() frees after the notifier end */
	sim_up_read(mm->sched, &mm->mmap_lock, "dontneed.mmap_unlock");
	sim_count(mm->counters, SIM_CTR_HOST_DONTNEED);
	return 0;
}

/* clear_young of every secondary MMU over [start, end); how many found it young. */
static guint
notify_clear_young(SimMm *mm, guint64 start, guint64 end)
{
	guint young = 0;

	for (guint i = 0; i < mm->notifiers->len; i++) {
		Notifier *n = &g_array_index(mm->notifiers, Notifier, i);

		if (n->ops->clear_young(n->data, start, end))
			young++;
	}
	return young;
}

/*
 * Models page aging by reclaim: folio_referenced() clearing young in the PTE and in KVM. The zero
 * page is never aged: it is on no LRU list and has no rmap, and MGLRU's PTE walks skip it
 * (get_pte_pfn() in mm/vmscan.c, used by lru_gen_look_around(), read in ColinIanKing/linux-next).
 * So its PTE stays young and the notifiers hear only of the runs of pages around it.
 */
int
sim_mm_age(SimMm *mm, guint64 hva, guint64 len, guint *out_young)
{
	g_autoptr(GArray) runs = g_array_new(FALSE, FALSE, sizeof(guint64)); /* start, end, ... */
	guint64 run_start = hva;
	guint young = 0;

	if (!range_ok(mm, hva, len))
		return -ENOENT;
	sim_spin_lock(mm->sched, &mm->ptl, "age.ptl");
	for (guint64 a = hva; a <= hva + len; a += SIM_PAGE_SIZE) {
		HostPte *pte = a < hva + len ? pte_of(mm, a) : NULL;
		gboolean zero = pte && (pte->flags & PTE_PRESENT) && pte->pfn == SIM_ZERO_PFN;

		if (pte && !zero && (pte->flags & PTE_YOUNG)) {
			pte->flags &= ~PTE_YOUNG;
			young++;
		}
		if (a < hva + len && !zero)
			continue;
		if (run_start < a) {
			g_array_append_val(runs, run_start);
			g_array_append_val(runs, a);
		}
		run_start = a + SIM_PAGE_SIZE;
	}
	sim_spin_unlock(mm->sched, &mm->ptl, "age.ptl_unlock");
	for (guint i = 0; i < runs->len; i += 2)
		young += notify_clear_young(mm, g_array_index(runs, guint64, i),
					    g_array_index(runs, guint64, i + 1));
	sim_count(mm->counters, SIM_CTR_HOST_AGE);
	if (out_young)
		*out_young = young;
	return 0;
}

/* Models munmap() of part of an anonymous mapping (mm/mmap.c: unmap_region()). */
int
sim_mm_munmap(SimMm *mm, guint64 hva, guint64 len)
{
	if (!range_ok(mm, hva, len))
		return -ENOENT;
	sim_down_write(mm->sched, &mm->mmap_lock, "munmap.mmap_lock");
	notify_start(mm, hva, hva + len);
	GArray *pfns = clear_ptes(mm, hva, hva + len, TRUE, "munmap.ptl", "munmap.ptl_unlock");
	guint nr = pfns->len;

	if (sim_mutated(mm->mutations, SIM_MUT_FREE_BEFORE_END))
		free_frames(mm, pfns, FALSE);
	notify_end(mm, hva, hva + len);
	sim_log_emit(sim_sched_log(mm->sched), "sim_mm_munmap",
		     "hva 0x%" G_GINT64_MODIFIER "x len 0x%" G_GINT64_MODIFIER "x frames %u", hva,
		     len, nr);
	free_frames(mm, pfns, TRUE);
	sim_up_write(mm->sched, &mm->mmap_lock, "munmap.mmap_unlock");
	sim_count(mm->counters, SIM_CTR_HOST_MUNMAP);
	return 0;
}

/* Models mmu_notifier_test_young() as page_idle uses it: is the page young anywhere? */
gboolean
sim_mm_test_young(SimMm *mm, guint64 hva)
{
	HostPte *pte = pte_of(mm, hva);
	gboolean young = pte && (pte->flags & PTE_YOUNG);

	for (guint i = 0; i < mm->notifiers->len; i++) {
		Notifier *n = &g_array_index(mm->notifiers, Notifier, i);

		young |= n->ops->test_young(n->data, hva);
	}
	return young;
}
