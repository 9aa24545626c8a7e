/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The host mm of the VMM process: anonymous VMAs, a host page table hva -> pfn filled on demand,
 * and the primary-MMU operations that fire MMU notifiers exactly where the kernel does:
 *
 *   migrate   (mm/migrate.c)  start, PTE -> migration entry, end, copy, new PTE, free old frame
 *   THP       (mm/huge_memory.c) a 2 MiB folio per empty PMD of a MADV_HUGEPAGE mapping; a
 *             dontneed or munmap of part of it splits the PMD first (start/end over its 2 MiB);
 *             migrate moves it whole (start/end over its 2 MiB); aging clears it whole
 *   dontneed  (mm/madvise.c)  start, clear PTEs, end, flush TLBs, free frames (next touch
 *                             sees zeros)
 *   age       (mm/rmap.c)     clear the PTE young bit, clear_young notifier (no flush on x86)
 *   munmap    (mm/mmap.c)     start, clear PTEs, end, flush TLBs, free frames, range gone
 *   COW       (mm/memory.c)   a write to the zero page: new frame, start, new PTE, end
 *
 * A read fault on a page never written maps the shared zero page (SIM_ZERO_PFN) read-only; the
 * first write breaks COW (wp_page_copy()). The zero page is never freed, migrated or aged.
 *
 * Locks follow the kernel: mmap_lock (read for faults and madvise, write for munmap; migration
 * works from the rmap without it) and the page-table lock around every PTE change. A fault that
 * finds a migration entry waits for the migration to finish (migration_entry_wait()).
 */
#ifndef KVMSIM_SIM_CORE_MM_H
#define KVMSIM_SIM_CORE_MM_H

#include <glib.h>

#include "sim/core/hostmem.h"
#include "sim/core/lock.h"
#include "sim/core/mutations.h"
#include "sim/core/sched.h"

/* struct mmu_notifier_ops, reduced to what KVM registers (include/linux/mmu_notifier.h). */
typedef struct {
	void (*invalidate_range_start)(gpointer data, guint64 start, guint64 end);
	void (*invalidate_range_end)(gpointer data, guint64 start, guint64 end);
	gboolean (*clear_young)(gpointer data, guint64 start, guint64 end);
	gboolean (*test_young)(gpointer data, guint64 hva);
} SimMmuNotifierOps;

typedef struct SimMm SimMm;

/* Base of the first anonymous mapping; later ones follow 2 MiB apart. */
#define SIM_MM_MMAP_BASE 0x7f0000000000ull

SimMm *sim_mm_new(SimSched *sched, SimHostMem *hm, SimCounters *counters);
void sim_mm_free(SimMm *mm);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SimMm, sim_mm_free)

/* The protocol mutations this mm plants (sim/core/mutations.h; 0: none). */
void sim_mm_set_mutations(SimMm *mm, SimMutations set);
void sim_mm_register_notifier(SimMm *mm, const SimMmuNotifierOps *ops, gpointer data);
void sim_mm_unregister_notifier(SimMm *mm, gpointer data);

/* mmap(MAP_PRIVATE | MAP_ANONYMOUS) of size bytes; the hva is deterministic. */
gboolean sim_mm_mmap_anon(SimMm *mm, guint64 size, guint64 *out_hva, GError **error);
/* Make sure [hva, hva + size) is anonymous memory: mapped here unless one mapping already covers
 * it all (MAP_FIXED_NOREPLACE semantics); fails if it would overlap part of another mapping. */
gboolean sim_mm_mmap_anon_at(SimMm *mm, guint64 hva, guint64 size, GError **error);
/* The notifier calls of a primary-MMU change with nothing else attached (mmu_notifier_invalidate
 * _range_start()/_end()), for traces that drive invalidations directly. */
void sim_mm_notify_invalidate_start(SimMm *mm, guint64 start, guint64 end);
void sim_mm_notify_invalidate_end(SimMm *mm, guint64 start, guint64 end);

/*
 * hva_to_pfn() of virt/kvm/kvm_main.c with GUP below it: the frame mapped at hva, faulting it in
 * if needed, returned with a reference the caller drops with sim_frame_put(). A read of a page
 * never written gets the zero page and out_writable FALSE; a write gets a writable frame of its
 * own (breaking COW: an MMU-notifier invalidation of that page). Returns 0, or -EFAULT when no
 * VMA covers hva, -ENOMEM when the arena is exhausted. May block (locks, migration entries).
 */
int sim_mm_hva_to_pfn(SimMm *mm, guint64 hva, gboolean write, SimPfn *out_pfn,
		      gboolean *out_writable);
/* sim_mm_hva_to_pfn() with GUP flags: SIM_GUP_FAST_ONLY (the atomic lookup: -EFAULT unless a
 * present writable PTE is there), SIM_GUP_NOWAIT (FOLL_NOWAIT: -EAGAIN where the fault would
 * sleep in userfaultfd). */
#define SIM_GUP_FAST_ONLY (1u << 0)
#define SIM_GUP_NOWAIT (1u << 1)
int sim_mm_hva_to_pfn_flags(SimMm *mm, guint64 hva, gboolean write, guint flags,
			    SimPfn *out_pfn, gboolean *out_writable);
/* Peek at the host PTE without faulting: the frame mapped (maybe SIM_ZERO_PFN), or SIM_PFN_NONE
 * (also for a page under migration). */
SimPfn sim_mm_lookup(const SimMm *mm, guint64 hva);
/* The host page a frame was last mapped at and which of that page's frames it was (1 for the
 * first): a name for a frame that does not depend on allocation order ("0x7f0000005000#2"). */
gboolean sim_mm_frame_tag(const SimMm *mm, SimPfn pfn, guint64 *out_hva, guint *out_nth);
/*
 * The pages of the mapping that covers hva which hold a frame of their own (written since they
 * were last dropped; not the zero page): how many, and the index-th of them, in O(1), in an order
 * that depends only on the run. What host events pick from.
 */
guint64 sim_mm_nr_resident(const SimMm *mm, guint64 hva);
guint64 sim_mm_resident_page(const SimMm *mm, guint64 hva, guint64 index);
/* Is hva inside a mapping? */
gboolean sim_mm_mapped(const SimMm *mm, guint64 hva);

/* madvise(MADV_HUGEPAGE) of part of one mapping, at set-up: its faults may then map 2 MiB
 * folios (transparent huge pages) where a whole, 2 MiB-aligned PMD of the mapping is still
 * empty. 0 or -EINVAL. */
int sim_mm_madvise_hugepage(SimMm *mm, guint64 hva, guint64 len);
/* The host page-table level that maps hva: 2 for a present huge PMD, else 1 (lockless peek). */
int sim_mm_host_mapping_level(const SimMm *mm, guint64 hva);

/* Primary-MMU operations; 0 or a negative errno (-ENOENT: nothing mapped there to act on;
 * -EFAULT from migrate: the page is the zero page, as move_pages() says of it). */
int sim_mm_migrate_page(SimMm *mm, guint64 hva);
int sim_mm_dontneed(SimMm *mm, guint64 hva, guint64 len);
int sim_mm_age(SimMm *mm, guint64 hva, guint64 len, guint *out_young);
int sim_mm_munmap(SimMm *mm, guint64 hva, guint64 len);
/* Is the page at hva young in the host PTE or in a secondary MMU? Clears nothing. */
gboolean sim_mm_test_young(SimMm *mm, guint64 hva);

#endif
