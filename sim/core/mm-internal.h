/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What mm.c (the address space: VMAs, PTEs, notifiers, faulting pages in) and mm-ops.c (the
 * primary-MMU operations that fire MMU notifiers) share. Nothing outside sim/core includes this.
 */
#ifndef KVMSIM_SIM_CORE_MM_INTERNAL_H
#define KVMSIM_SIM_CORE_MM_INTERNAL_H

#include "sim/core/mm.h"

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
	guint32 *resident; /* page indices of the pages holding a frame of their own, room for
			    * every page of the VMA so that adding one never allocates */
	guint32 nr_resident;
	gboolean hugepage; /* VM_HUGEPAGE: madvise(MADV_HUGEPAGE) asked for THPs */
	guint8 *pmds;      /* enum PmdState per 2 MiB from start rounded down (VM_HUGEPAGE only) */
	gboolean uffd_missing; /* VM_UFFD_MISSING: registered with the mm's userfaultfd */
} Vma;

/* What a PMD of a VM_HUGEPAGE mapping holds. */
enum PmdState {
	PMD_NONE = 0,  /* pmd_none(): nothing below it yet */
	PMD_TABLE,     /* a PTE table: the pages are mapped 4 KiB at a time */
	PMD_HUGE,      /* pmd_trans_huge(): one 2 MiB folio of contiguous frames */
};

/* HPAGE_PMD_SIZE on x86-64: a PMD maps 2 MiB, HPAGE_PMD_NR pages. */
#define HPAGE_PMD_SIZE (2ull << 20)
#define HPAGE_PMD_NR (HPAGE_PMD_SIZE / SIM_PAGE_SIZE)
#define HPAGE_PMD_MASK (~(HPAGE_PMD_SIZE - 1))

typedef struct {
	const SimMmuNotifierOps *ops;
	gpointer data;
} Notifier;

struct SimMm {
	SimSched *sched;
	SimHostMem *hm;
	SimCounters *counters;
	GArray *vmas;        /* Vma, sorted */
	guint vma_hint;      /* index of the VMA mm_vma_of() found last: a lookup cache only */
	GArray *notifiers;   /* Notifier */
	guint64 next_hva;
	SimRwsem mmap_lock;
	SimSpinlock ptl;     /* one page-table lock for the whole mm (split PTLs not modeled) */
	guint invalidating;  /* invalidate_range_start()s not yet ended */
	guint notifying;     /* notifier walks under way (the SRCU read side of mn_hlist_*()) */
	SimMutations mutations; /* bugs planted on purpose (free_before_end) */
	struct SimUffd *uffd;   /* the userfaultfd context, if the VMM opened one (sim/core/uffd.h) */
	GPtrArray *zap_pfns;    /* frame lists between clear_ptes() and their last free_frames():
				 * freed at teardown if their actor was abandoned mid-zap */
};

/* mm.c */
Vma *mm_vma_lookup(const SimMm *mm, guint64 hva);

/* The VMA that covers (or once covered) hva, or NULL. A fault asks several times for the same
 * VMA: the last one found is tried first (VMAs never overlap, so a hit is the answer whatever
 * was inserted since; the hint changes no result, so it may change under a const mm). */
static inline Vma *
mm_vma_of(const SimMm *mm, guint64 hva)
{
	if (G_LIKELY(mm->vma_hint < mm->vmas->len)) {
		Vma *vma = &g_array_index(mm->vmas, Vma, mm->vma_hint);

		if (hva >= vma->start && hva < vma->end)
			return vma;
	}
	return mm_vma_lookup(mm, hva);
}

HostPte *mm_pte_of(const SimMm *mm, guint64 hva);
guint8 *mm_pmd_of(const Vma *vma, guint64 hva);
gboolean mm_pmd_trans_huge(const SimMm *mm, guint64 hva);
void mm_resident_remove(SimMm *mm, HostPte *pte, guint64 hva);
void mm_notify_start(SimMm *mm, guint64 start, guint64 end);
void mm_notify_end(SimMm *mm, guint64 start, guint64 end);
void mm_pte_install(SimMm *mm, HostPte *pte, guint64 hva, SimPfn pfn);

#endif
