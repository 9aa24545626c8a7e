/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The primary-MMU operations on mapped pages that fire MMU notifiers: splitting a huge PMD,
 * migrating a page or a THP, MADV_DONTNEED, munmap, and aging (clear_young/test_young).
 */
#include "sim/core/mm-internal.h"

#include <errno.h>

#include "sim/core/log.h"
#include "sim/core/mutations.h"

/*
 * Models __split_huge_pmd() (mm/huge_memory.c; its notifier range, the 2 MiB around the address,
 * is the same in every copy the search index holds, v5.x to 6.x): an MMU-notifier invalidation
 * of the whole 2 MiB brackets, under the PMD lock, the replacement of a huge PMD by a PTE table
 * whose 512 PTEs map the folio's frames one by one (same frames, same young and dirty bits). A
 * PMD migration entry is split too, into 512 PTE migration entries (__split_huge_pmd_locked(),
 * read in ColinIanKing/linux-next at 0153b4ea: THP_SPLIT_PMD counted either way), which the
 * migration restores one by one. TRUE if what it split was a PMD migration entry.
 */
static gboolean
split_huge_pmd(SimMm *mm, guint64 hva)
{
	guint64 haddr = hva & HPAGE_PMD_MASK;
	guint8 *pmd = mm_pmd_of(mm_vma_of(mm, hva), hva);
	HostPte *head = mm_pte_of(mm, haddr);

	if (!pmd || *pmd != PMD_HUGE)
		return FALSE;
	mm_notify_start(mm, haddr, haddr + HPAGE_PMD_SIZE);
	sim_spin_lock(mm->sched, &mm->ptl, "split_pmd.ptl");
	gboolean split = *pmd == PMD_HUGE;
	gboolean migration = split && (head->flags & PTE_MIGRATION);

	if (split)
		*pmd = PMD_TABLE;
	sim_spin_unlock(mm->sched, &mm->ptl, "split_pmd.ptl_unlock");
	mm_notify_end(mm, haddr, haddr + HPAGE_PMD_SIZE);
	if (!split)
		return FALSE;
	sim_count(mm->counters, SIM_CTR_THP_SPLIT_PMD);
	sim_log_emit(sim_sched_log(mm->sched), "sim_mm_split_huge_pmd",
		     "hva 0x%" G_GINT64_MODIFIER "x pfn 0x%" G_GINT64_MODIFIER "x", haddr, head->pfn);
	return migration;
}

/*
 * A huge PMD that [start, end) covers only in part is split, as zap_pmd_range() splits it
 * (__split_huge_pmd()) before it zaps its PTEs (mm/memory.c, read in ColinIanKing/linux-next at
 * 042acf45). Its folio loses pages and is split as well, counted as __folio_split() counts
 * THP_SPLIT_PAGE (huge_memory.c at 0153b4ea): the kernel queues it (deferred_split_folio()) for
 * the shrinker to split later; kvmsim splits it at once, which is what lets the dropped pages'
 * frames be freed now, and does not model that split's own unmap of the remaining pages. A
 * folio under migration is not queued: zapping a migration entry removes no rmap
 * (zap_nonpresent_ptes()), and only __folio_remove_rmap() queues one.
 */
static void
split_partial_huge_pmd(SimMm *mm, guint64 haddr)
{
	if (!split_huge_pmd(mm, haddr) && !mm_pmd_trans_huge(mm, haddr))
		sim_count(mm->counters, SIM_CTR_THP_SPLIT_PAGE);
}

/*
 * zap_pmd_range()'s lockless pmd_is_huge() peek at the huge PMDs at the ends of [start, end),
 * taken before the PTL (one PTL for the whole range here, so both ends are peeked first): those
 * it covers in part are split. The walk under the PTL (clear_ptes()) decides again for what is
 * there then. Fully covered huge PMDs are zapped whole by that walk.
 */
static void
split_partial_huge_pmds(SimMm *mm, guint64 start, guint64 end)
{
	guint64 ends[2] = { start, end - 1 };

	for (guint i = 0; i < 2; i++) {
		guint64 haddr = ends[i] & HPAGE_PMD_MASK;

		if (i == 1 && haddr == (start & HPAGE_PMD_MASK))
			break;
		if (!mm_pmd_trans_huge(mm, haddr) || (haddr >= start && haddr + HPAGE_PMD_SIZE <= end))
			continue;
		split_partial_huge_pmd(mm, haddr);
	}
}

/*
 * Models remove_migration_ptes() of a THP (mm/migrate.c, read in ColinIanKing/linux-next at
 * 0136411c) under the PTL: its rmap walk finds the migration entries still there, whole PMD or
 * (once a partial zap split it) PTE by PTE, and each becomes a present PTE of dst's page (dst ==
 * src: a failed migration maps the old frames back, young and dirty kept). A page whose entry a
 * zap cleared meanwhile is not found and stays dropped: its frame of dst goes in *dropped, for
 * the caller to free (kvmsim frees it at once; the kernel keeps the folio whole, partly mapped).
 */
static void
remove_migration_ptes(SimMm *mm, guint64 haddr, SimPfn src, SimPfn dst, GArray *dropped)
{
	HostPte *ptes = mm_pte_of(mm, haddr);

	for (guint64 i = 0; i < HPAGE_PMD_NR; i++) {
		if (!(ptes[i].flags & PTE_MIGRATION)) {
			SimPfn pfn = dst + i;

			g_array_append_val(dropped, pfn);
			continue;
		}
		ptes[i].flags &= ~PTE_MIGRATION;
		if (dst == src)
			continue;
		mm_pte_install(mm, &ptes[i], haddr + i * SIM_PAGE_SIZE, dst + i);
		ptes[i].flags = (ptes[i].flags & ~PTE_YOUNG) | PTE_PRESENT;
	}
}

/* Free the frames remove_migration_ptes() found dropped. */
static void
free_dropped(SimMm *mm, GArray *dropped)
{
	for (guint i = 0; i < dropped->len; i++)
		sim_frame_free(mm->hm, g_array_index(dropped, SimPfn, i));
}

/*
 * Models migrate_pages() of a PMD-mapped THP (mm/migrate.c, read in ColinIanKing/linux-next at
 * 0136411c; x86-64 has THP migration, ARCH_ENABLE_THP_MIGRATION): the whole folio moves to a new
 * huge folio, under one notifier over its 2 MiB and a PMD migration entry; a reference on any of
 * its pages makes it busy. If no huge folio can be allocated, migrate_pages_batch() splits it
 * (try_split_folio() on -ENOMEM) and tries each split page once, asynchronously; kvmsim migrates
 * only the page asked for: 1 tells the caller to go on at 4 KiB.
 */
static int
migrate_huge_folio(SimMm *mm, guint64 hva)
{
	guint64 haddr = hva & HPAGE_PMD_MASK;
	HostPte *ptes = mm_pte_of(mm, haddr);
	guint8 *pmd = mm_pmd_of(mm_vma_of(mm, hva), hva);

	sim_yield(mm->sched, "migrate.begin");
	SimPfn new_head = sim_frame_alloc_contig(mm->hm, HPAGE_PMD_NR);

	if (new_head == SIM_PFN_NONE) {
		split_huge_pmd(mm, hva);
		sim_count(mm->counters, SIM_CTR_THP_SPLIT_PAGE);
		return 1;
	}
	mm_notify_start(mm, haddr, haddr + HPAGE_PMD_SIZE);
	sim_spin_lock(mm->sched, &mm->ptl, "migrate.ptl");
	SimPfn old_head = ptes[0].pfn;
	/* a split (a dontneed of part of it) may have got there while the notifier ran */
	gboolean still_huge = *pmd == PMD_HUGE && !(ptes[0].flags & PTE_MIGRATION);

	for (guint64 i = 0; still_huge && i < HPAGE_PMD_NR; i++)
		ptes[i].flags |= PTE_MIGRATION;
	sim_spin_unlock(mm->sched, &mm->ptl, "migrate.ptl_unlock");
	mm_notify_end(mm, haddr, haddr + HPAGE_PMD_SIZE);
	gboolean busy = FALSE;
	g_autoptr(GArray) dropped = g_array_new(FALSE, FALSE, sizeof(SimPfn));

	for (guint64 i = 0; still_huge && i < HPAGE_PMD_NR; i++)
		busy |= sim_frame_refs(mm->hm, old_head + i) > 0;
	if (!still_huge || busy) {
		sim_spin_lock(mm->sched, &mm->ptl, "migrate.remap");
		if (still_huge)
			remove_migration_ptes(mm, haddr, old_head, old_head, dropped);
		sim_spin_unlock(mm->sched, &mm->ptl, "migrate.remap_unlock");
		for (guint64 i = 0; i < HPAGE_PMD_NR; i++)
			sim_frame_free(mm->hm, new_head + i);
		free_dropped(mm, dropped);
		if (busy) {
			sim_count(mm->counters, SIM_CTR_PROBE_MIGRATE_BUSY);
			sim_log_emit(sim_sched_log(mm->sched), "sim_mm_migrate",
				     "hva 0x%" G_GINT64_MODIFIER "x pfn 0x%" G_GINT64_MODIFIER
				     "x thp busy", haddr, old_head);
		}
		return -EAGAIN;
	}
	sim_yield(mm->sched, "migrate.copy");
	for (guint64 i = 0; i < HPAGE_PMD_NR; i++) {
		/* folio_copy(): copy_page() through the direct map, on the migrating CPU */
		sim_frame_kernel_access(mm->hm, old_head + i, FALSE, "copy_page");
		sim_frame_kernel_access(mm->hm, new_head + i, TRUE, "copy_page");
		sim_frame_copy(mm->hm, new_head + i, old_head + i);
	}
	sim_spin_lock(mm->sched, &mm->ptl, "migrate.remap");
	remove_migration_ptes(mm, haddr, old_head, new_head, dropped);
	sim_spin_unlock(mm->sched, &mm->ptl, "migrate.remap_unlock");
	sim_log_emit(sim_sched_log(mm->sched), "sim_mm_migrate",
		     "hva 0x%" G_GINT64_MODIFIER "x pfn 0x%" G_GINT64_MODIFIER
		     "x -> 0x%" G_GINT64_MODIFIER "x thp", haddr, old_head, new_head);
	free_dropped(mm, dropped);
	for (guint64 i = 0; i < HPAGE_PMD_NR; i++)
		sim_frame_free(mm->hm, old_head + i);
	sim_count(mm->counters, SIM_CTR_HOST_MIGRATE);
	sim_count(mm->counters, SIM_CTR_THP_MIGRATION);
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
	HostPte *pte = mm_pte_of(mm, hva);

	if (!pte || (pte->flags & (PTE_UNMAPPED | PTE_MIGRATION)) || !(pte->flags & PTE_PRESENT))
		return -ENOENT;
	if (pte->pfn == SIM_ZERO_PFN)
		return -EFAULT;
	if (mm_pmd_trans_huge(mm, hva)) {
		int r = migrate_huge_folio(mm, hva);

		if (r <= 0)
			return r;
	}
	sim_yield(mm->sched, "migrate.begin");
	SimPfn new_pfn = sim_frame_alloc(mm->hm);

	if (new_pfn == SIM_PFN_NONE)
		return -ENOMEM;
	/* try_to_migrate(): notifier around replacing the PTE with a migration entry */
	mm_notify_start(mm, hva, hva + SIM_PAGE_SIZE);
	sim_spin_lock(mm->sched, &mm->ptl, "migrate.ptl");
	SimPfn old_pfn = pte->pfn;
	/* another migration or a drop (and maybe a read refault of the zero page) may have got
	 * there while the notifier ran */
	gboolean still_mapped = (pte->flags & PTE_PRESENT) && !(pte->flags & PTE_MIGRATION) &&
				pte->pfn != SIM_ZERO_PFN;

	if (still_mapped)
		pte->flags |= PTE_MIGRATION;
	sim_spin_unlock(mm->sched, &mm->ptl, "migrate.ptl_unlock");
	mm_notify_end(mm, hva, hva + SIM_PAGE_SIZE);
	if (!still_mapped) {
		sim_frame_free(mm->hm, new_pfn);
		return -ENOENT;
	}
	/* folio_migrate_mapping(): a page someone pins (a fault between GUP and its finish) stays */
	if (sim_frame_refs(mm->hm, old_pfn) > 0) {
		sim_spin_lock(mm->sched, &mm->ptl, "migrate.remap");
		gboolean zapped = !(pte->flags & PTE_MIGRATION);

		pte->flags &= ~PTE_MIGRATION;
		sim_spin_unlock(mm->sched, &mm->ptl, "migrate.remap_unlock");
		sim_frame_free(mm->hm, new_pfn);
		if (zapped) /* the zap left the old frame to the migration */
			sim_frame_free(mm->hm, old_pfn);
		sim_count(mm->counters, SIM_CTR_PROBE_MIGRATE_BUSY);
		sim_log_emit(sim_sched_log(mm->sched), "sim_mm_migrate",
			     "hva 0x%" G_GINT64_MODIFIER "x pfn 0x%" G_GINT64_MODIFIER "x busy", hva,
			     old_pfn);
		return -EAGAIN;
	}
	/* move_to_new_folio(): copy the content, wherever it lives */
	sim_yield(mm->sched, "migrate.copy");
	sim_frame_kernel_access(mm->hm, old_pfn, FALSE, "copy_page");
	sim_frame_kernel_access(mm->hm, new_pfn, TRUE, "copy_page");
	sim_frame_copy(mm->hm, new_pfn, old_pfn);
	/* remove_migration_ptes(): the new frame takes the old one's place, unless a zap
	 * (MADV_DONTNEED, munmap) cleared the migration entry meanwhile: both frames go */
	sim_spin_lock(mm->sched, &mm->ptl, "migrate.remap");
	if (!(pte->flags & PTE_MIGRATION)) {
		sim_spin_unlock(mm->sched, &mm->ptl, "migrate.remap_unlock");
		sim_log_emit(sim_sched_log(mm->sched), "sim_mm_migrate",
			     "hva 0x%" G_GINT64_MODIFIER "x pfn 0x%" G_GINT64_MODIFIER
			     "x zapped during the migration", hva, old_pfn);
		sim_frame_free(mm->hm, new_pfn);
		sim_frame_free(mm->hm, old_pfn);
		return -ENOENT;
	}
	mm_pte_install(mm, pte, hva, new_pfn);
	pte->flags = (pte->flags & ~(PTE_MIGRATION | PTE_YOUNG)) | PTE_PRESENT;
	sim_spin_unlock(mm->sched, &mm->ptl, "migrate.remap_unlock");
	sim_log_emit(sim_sched_log(mm->sched), "sim_mm_migrate",
		     "hva 0x%" G_GINT64_MODIFIER "x pfn 0x%" G_GINT64_MODIFIER
		     "x -> 0x%" G_GINT64_MODIFIER "x", hva, old_pfn, new_pfn);
	sim_frame_free(mm->hm, old_pfn);
	sim_count(mm->counters, SIM_CTR_HOST_MIGRATE);
	return 0;
}

/*
 * Clear the present PTEs of [start, end) under the PTL; returns the frames they mapped. What to do
 * with a huge PMD is decided when the walk reaches it, under the PTL, for what is there then, as
 * in zap_pmd_range() (mm/memory.c, read in ColinIanKing/linux-next at 042acf45): one the range
 * covers whole is zapped with its folio (zap_huge_pmd()); one it covers in part and that appeared
 * after the peek (a fault between the notifier start and the PTL) makes zap_pte_range()'s
 * pte_offset_map_lock() fail, and zap_pmd_range() retries that PMD, splitting it this time: the
 * PTL is dropped at split_point, the PMD split (its own notifier over the 2 MiB), the PTL taken
 * again at point. munmap passes no split_point: it holds mmap_lock for write, so no fault can
 * map a THP after its own split. *flush_pages: the pages of the range the mmu_gather would
 * flush, from the first to the last present PTE cleared (0 if none was present): each cleared
 * PTE's tlb_remove_tlb_entries() widens the range and sets cleared_ptes (tlb_flush_pte_range(),
 * include/asm-generic/tlb.h, read in ColinIanKing/linux-next at 6eebd301).
 */
static GArray *
clear_ptes(SimMm *mm, guint64 start, guint64 end, gboolean unmap, const char *point,
	   const char *split_point, const char *unlock_point, guint64 *flush_pages)
{
	GArray *pfns = g_array_new(FALSE, FALSE, sizeof(SimPfn));
	guint64 first = end, last = start;

	g_ptr_array_add(mm->zap_pfns, pfns);
	sim_spin_lock(mm->sched, &mm->ptl, point);
	for (guint64 hva = start; hva < end; hva += SIM_PAGE_SIZE) {
		HostPte *pte = mm_pte_of(mm, hva);
		guint64 haddr = hva & HPAGE_PMD_MASK;

		if (!pte || (pte->flags & PTE_UNMAPPED))
			continue;
		if (mm_pmd_trans_huge(mm, haddr) && (haddr < start || haddr + HPAGE_PMD_SIZE > end)) {
			g_assert(split_point);
			sim_spin_unlock(mm->sched, &mm->ptl, split_point);
			split_partial_huge_pmd(mm, haddr);
			sim_spin_lock(mm->sched, &mm->ptl, point);
			hva -= SIM_PAGE_SIZE; /* this page again, under the PTL */
			continue;
		}
		/* zap_nonpresent_ptes() clears a migration entry too: the migration, which owns the
		 * old frame, then finds nothing to restore. A page under migration is not put. */
		if ((pte->flags & PTE_PRESENT) && !(pte->flags & PTE_MIGRATION)) {
			first = MIN(first, hva);
			last = MAX(last, hva + SIM_PAGE_SIZE);
			if (pte->pfn != SIM_ZERO_PFN)
				g_array_append_val(pfns, pte->pfn);
		}
		mm_resident_remove(mm, pte, hva);
		pte->flags = unmap ? PTE_UNMAPPED : 0;
		pte->pfn = 0;
		/* zap_huge_pmd(): a huge PMD the range covers whole goes with its folio */
		guint8 *pmd = mm_pmd_of(mm_vma_of(mm, hva), hva);

		if (pmd && *pmd == PMD_HUGE)
			*pmd = PMD_NONE;
	}
	sim_spin_unlock(mm->sched, &mm->ptl, unlock_point);
	*flush_pages = first < last ? (last - first) / SIM_PAGE_SIZE : 0;
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
	if (done) {
		g_ptr_array_remove_fast(mm->zap_pfns, pfns);
		g_array_free(pfns, TRUE);
	}
}

/*
 * Models tlb_finish_mmu() (mm/mmu_gather.c, read in ColinIanKing/linux-next at 064b3573) of a
 * zap that gathered npages pages: tlb_flush_mmu() flushes that range, nothing if none was
 * gathered (tlb_flush_mmu_tlbonly() returns unless a cleared_* bit is set, asm-generic/tlb.h at
 * 6eebd301; flush_tlb_mm_range(); with ASI a long one is a local flush on each CPU, which exits:
 * asi/asi-sim.h), then frees the gathered frames.
 * The zaps call it after mmu_notifier_invalidate_range_end(), as zap_page_range_single() and
 * unmap_vmas()' callers do (mm/memory.c at 042acf45). [simplified] zap_pte_range()'s force_flush
 * (a dirty shared page's delayed rmap, or a batch that cannot grow), which flushes under the PTL
 * and frees before the notifier end, is not modelled: kvmsim's memory is anonymous and its
 * batches always grow. kvmsim's host CPUs cache no user translations: a stale one used between
 * the notifier end and this flush is not modelled either, only what the flush does to ASI.
 */
static void
tlb_finish_mmu(SimMm *mm, GArray *pfns, guint64 npages)
{
	if (npages)
		sim_hostmem_flush_tlb_mm(mm->hm, npages);
	free_frames(mm, pfns, TRUE);
}

/* Models madvise(MADV_DONTNEED) -> zap_page_range_single() (mm/madvise.c, mm/memory.c). */
int
sim_mm_dontneed(SimMm *mm, guint64 hva, guint64 len)
{
	if (!range_ok(mm, hva, len))
		return -ENOENT;
	sim_down_read(mm->sched, &mm->mmap_lock, "dontneed.mmap_lock");
	mm_notify_start(mm, hva, hva + len);
	split_partial_huge_pmds(mm, hva, hva + len);
	guint64 flush_pages;
	GArray *pfns = clear_ptes(mm, hva, hva + len, FALSE, "dontneed.ptl", "dontneed.ptl_split",
				   "dontneed.ptl_unlock", &flush_pages);
	guint nr = pfns->len;

	if (sim_mutated(mm->mutations, SIM_MUT_FREE_BEFORE_END))
		free_frames(mm, pfns, FALSE);
	mm_notify_end(mm, hva, hva + len);
	sim_log_emit(sim_sched_log(mm->sched), "sim_mm_dontneed",
		     "hva 0x%" G_GINT64_MODIFIER "x len 0x%" G_GINT64_MODIFIER "x frames %u", hva,
		     len, nr);
	tlb_finish_mmu(mm, pfns, flush_pages);
	sim_up_read(mm->sched, &mm->mmap_lock, "dontneed.mmap_unlock");
	sim_count(mm->counters, SIM_CTR_HOST_DONTNEED);
	return 0;
}

/* clear_young of every secondary MMU over [start, end); how many found it young. */
static guint
notify_clear_young(SimMm *mm, guint64 start, guint64 end)
{
	guint young = 0;

	mm->notifying++;
	for (guint i = 0; i < mm->notifiers->len; i++) {
		Notifier *n = &g_array_index(mm->notifiers, Notifier, i);

		if (n->ops->clear_young(n->data, start, end))
			young++;
	}
	mm->notifying--;
	return young;
}

/*
 * A huge PMD is aged whole: pmdp_clear_flush_young_notify() (include/linux/mmu_notifier.h: no
 * copy in the index's ColinIanKing/linux-next, not read)
 * clears its young bit and tells the notifiers about its whole 2 MiB. So the runs grow to the
 * huge PMDs at their ends (runs stay sorted and disjoint, merged where they now touch), and
 * the pages they grow over lose their young bit too. PTL held.
 */
static void
widen_runs_to_huge_pmds(SimMm *mm, GArray *runs)
{
	guint kept = 0;

	for (guint i = 0; i < runs->len; i += 2) {
		guint64 s = g_array_index(runs, guint64, i), e = g_array_index(runs, guint64, i + 1);

		if (mm_pmd_trans_huge(mm, s))
			s &= HPAGE_PMD_MASK;
		if (mm_pmd_trans_huge(mm, e - 1))
			e = ((e - 1) & HPAGE_PMD_MASK) + HPAGE_PMD_SIZE;
		for (guint64 a = s; a < e; a += SIM_PAGE_SIZE)
			if (mm_pmd_trans_huge(mm, a))
				mm_pte_of(mm, a)->flags &= ~PTE_YOUNG;
		if (kept && g_array_index(runs, guint64, kept - 1) >= s) {
			g_array_index(runs, guint64, kept - 1) = e;
			continue;
		}
		g_array_index(runs, guint64, kept++) = s;
		g_array_index(runs, guint64, kept++) = e;
	}
	g_array_set_size(runs, kept);
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
		HostPte *pte = a < hva + len ? mm_pte_of(mm, a) : NULL;
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
	widen_runs_to_huge_pmds(mm, runs);
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
	/* __split_vma() splits a huge PMD that straddles the new VMA boundary first */
	split_partial_huge_pmds(mm, hva, hva + len);
	mm_notify_start(mm, hva, hva + len);
	guint64 flush_pages;
	GArray *pfns = clear_ptes(mm, hva, hva + len, TRUE, "munmap.ptl", NULL,
				   "munmap.ptl_unlock", &flush_pages);
	guint nr = pfns->len;

	if (sim_mutated(mm->mutations, SIM_MUT_FREE_BEFORE_END))
		free_frames(mm, pfns, FALSE);
	mm_notify_end(mm, hva, hva + len);
	sim_log_emit(sim_sched_log(mm->sched), "sim_mm_munmap",
		     "hva 0x%" G_GINT64_MODIFIER "x len 0x%" G_GINT64_MODIFIER "x frames %u", hva,
		     len, nr);
	tlb_finish_mmu(mm, pfns, flush_pages);
	sim_up_write(mm->sched, &mm->mmap_lock, "munmap.mmap_unlock");
	sim_count(mm->counters, SIM_CTR_HOST_MUNMAP);
	return 0;
}

/* Models mmu_notifier_test_young() as page_idle uses it: is the page young anywhere? */
gboolean
sim_mm_test_young(SimMm *mm, guint64 hva)
{
	HostPte *pte = mm_pte_of(mm, hva);
	gboolean young = pte && (pte->flags & PTE_YOUNG);

	mm->notifying++;
	for (guint i = 0; i < mm->notifiers->len; i++) {
		Notifier *n = &g_array_index(mm->notifiers, Notifier, i);

		young |= n->ops->test_young(n->data, hva);
	}
	mm->notifying--;
	return young;
}
