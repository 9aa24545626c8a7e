/* SPDX-License-Identifier: GPL-2.0-only */
/* The VMM's address space and the primary-MMU operations that fire MMU notifiers. */
#include "sim/core/mm.h"

#include <errno.h>

#include "sim/core/log.h"

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
} HostPte;

typedef struct {
	guint64 start;
	guint64 end;
	HostPte *ptes;
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
	for (guint i = 0; i < mm->vmas->len; i++)
		g_free(g_array_index(mm->vmas, Vma, i).ptes);
	g_array_free(mm->vmas, TRUE);
	g_array_free(mm->notifiers, TRUE);
	g_free(mm);
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
	Vma vma = { mm->next_hva, mm->next_hva + size, g_new0(HostPte, size / SIM_PAGE_SIZE) };

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
	Vma vma = { hva, hva + size, g_new0(HostPte, size / SIM_PAGE_SIZE) };

	g_array_insert_val(mm->vmas, pos, vma);
	mm->next_hva = MAX(mm->next_hva, (vma.end + (4ull << 20)) & ~((2ull << 20) - 1));
	return TRUE;
}

/* The PTE slot for hva, or NULL if no VMA ever covered it. */
static HostPte *
pte_of(const SimMm *mm, guint64 hva)
{
	for (guint i = 0; i < mm->vmas->len; i++) {
		Vma *vma = &g_array_index(mm->vmas, Vma, i);

		if (hva >= vma->start && hva < vma->end)
			return &vma->ptes[(hva - vma->start) / SIM_PAGE_SIZE];
	}
	return NULL;
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

/* Models the GUP slow path under the PTL: handle_mm_fault() for a missing anonymous PTE (a
 * zeroed frame, mapped writable), then a reference on whatever is mapped, taken before the
 * PTL is dropped so the frame cannot go away in between. */
static int
fault_in(SimMm *mm, HostPte *pte, guint64 hva, gboolean write, SimPfn *out_pfn)
{
	sim_spin_lock(mm->sched, &mm->ptl, "gup.ptl");
	if (pte->flags & PTE_MIGRATION) {
		/* a migration got here first: wait for it, as the caller does for a fresh entry */
		sim_spin_unlock(mm->sched, &mm->ptl, "gup.ptl_unlock");
		return -EAGAIN;
	}
	if (!(pte->flags & PTE_PRESENT)) {
		SimPfn pfn = sim_frame_alloc(mm->hm);

		if (pfn == SIM_PFN_NONE) {
			sim_spin_unlock(mm->sched, &mm->ptl, "gup.ptl_unlock");
			return -ENOMEM;
		}
		pte_install(mm, pte, hva, pfn);
		pte->flags = PTE_PRESENT;
		sim_log_emit(sim_sched_log(mm->sched), "sim_mm_fault", "hva 0x%" G_GINT64_MODIFIER
			     "x pfn 0x%" G_GINT64_MODIFIER "x", hva, pfn);
	}
	pte->flags |= PTE_YOUNG | (write ? PTE_DIRTY : 0);
	sim_frame_get(mm->hm, pte->pfn);
	*out_pfn = pte->pfn;
	sim_spin_unlock(mm->sched, &mm->ptl, "gup.ptl_unlock");
	return 0;
}

/* Models hva_to_pfn() (virt/kvm/kvm_main.c): GUP-fast without locks, else the slow path. The
 * frame comes back pinned (FOLL_GET): the caller drops the reference with sim_frame_put(). */
int
sim_mm_hva_to_pfn(SimMm *mm, guint64 hva, gboolean write, SimPfn *out_pfn,
		  gboolean *out_writable)
{
	HostPte *pte = pte_of(mm, hva);
	int ret = 0;

	*out_writable = TRUE; /* private anonymous memory, no mprotect modeled */
	if (pte && (pte->flags & PTE_PRESENT) && !(pte->flags & PTE_MIGRATION)) {
		pte->flags |= PTE_YOUNG | (write ? PTE_DIRTY : 0);
		sim_frame_get(mm->hm, pte->pfn);
		*out_pfn = pte->pfn;
		return 0;
	}
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
	return ret;
}

/* Models migrate_pages() of one anonymous page (mm/migrate.c), content preserved. */
int
sim_mm_migrate_page(SimMm *mm, guint64 hva)
{
	hva &= ~(guint64)(SIM_PAGE_SIZE - 1);
	HostPte *pte = pte_of(mm, hva);

	if (!pte || (pte->flags & (PTE_UNMAPPED | PTE_MIGRATION)) || !(pte->flags & PTE_PRESENT))
		return -ENOENT;
	sim_yield(mm->sched, "migrate.begin");
	SimPfn new_pfn = sim_frame_alloc(mm->hm);

	if (new_pfn == SIM_PFN_NONE)
		return -ENOMEM;
	/* try_to_migrate(): notifier around replacing the PTE with a migration entry */
	notify_start(mm, hva, hva + SIM_PAGE_SIZE);
	sim_spin_lock(mm->sched, &mm->ptl, "migrate.ptl");
	SimPfn old_pfn = pte->pfn;
	/* another migration or a drop may have got there while the notifier ran */
	gboolean still_mapped = (pte->flags & PTE_PRESENT) && !(pte->flags & PTE_MIGRATION);

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
		if (pte->flags & PTE_PRESENT)
			g_array_append_val(pfns, pte->pfn);
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

static void
free_frames(SimMm *mm, GArray *pfns)
{
	for (guint i = 0; i < pfns->len; i++)
		sim_frame_free(mm->hm, g_array_index(pfns, SimPfn, i));
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

	notify_end(mm, hva, hva + len);
	sim_log_emit(sim_sched_log(mm->sched), "sim_mm_dontneed",
		     "hva 0x%" G_GINT64_MODIFIER "x len 0x%" G_GINT64_MODIFIER "x frames %u", hva,
		     len, pfns->len);
	free_frames(mm, pfns); /* tlb_finish_mmu() frees after the notifier end */
	sim_up_read(mm->sched, &mm->mmap_lock, "dontneed.mmap_unlock");
	sim_count(mm->counters, SIM_CTR_HOST_DONTNEED);
	return 0;
}

/* Models page aging by reclaim: folio_referenced() clearing young in the PTE and in KVM. */
int
sim_mm_age(SimMm *mm, guint64 hva, guint64 len, guint *out_young)
{
	guint young = 0;

	if (!range_ok(mm, hva, len))
		return -ENOENT;
	sim_spin_lock(mm->sched, &mm->ptl, "age.ptl");
	for (guint64 a = hva; a < hva + len; a += SIM_PAGE_SIZE) {
		HostPte *pte = pte_of(mm, a);

		if (pte && (pte->flags & PTE_YOUNG)) {
			pte->flags &= ~PTE_YOUNG;
			young++;
		}
	}
	sim_spin_unlock(mm->sched, &mm->ptl, "age.ptl_unlock");
	for (guint i = 0; i < mm->notifiers->len; i++) {
		Notifier *n = &g_array_index(mm->notifiers, Notifier, i);

		if (n->ops->clear_young(n->data, hva, hva + len))
			young++;
	}
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

	notify_end(mm, hva, hva + len);
	sim_log_emit(sim_sched_log(mm->sched), "sim_mm_munmap",
		     "hva 0x%" G_GINT64_MODIFIER "x len 0x%" G_GINT64_MODIFIER "x frames %u", hva,
		     len, pfns->len);
	free_frames(mm, pfns);
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
