/* SPDX-License-Identifier: GPL-2.0-only */
/* The yield-point registry. Keep sorted; tests/cli checks it against the sources. */
#include "sim/core/points.h"

#include <string.h>

static const SimPoint points[] = {
	{ "age.ptl", "aging: before taking the page-table lock to clear young bits" },
	{ "age.ptl_unlock", "aging: after dropping the page-table lock" },
	{ "attr.end_lock", "KVM_SET_MEMORY_ATTRIBUTES: stored, before write_lock(mmu_lock) to end" },
	{ "attr.end_unlock", "KVM_SET_MEMORY_ATTRIBUTES: window ended, after write_unlock" },
	{ "attr.mmu_lock", "KVM_SET_MEMORY_ATTRIBUTES: before write_lock(mmu_lock) to begin the window" },
	{ "attr.mmu_unlock", "KVM_SET_MEMORY_ATTRIBUTES: range zapped and flushed, after write_unlock" },
	{ "attr.slots_lock", "KVM_SET_MEMORY_ATTRIBUTES: before slots_lock" },
	{ "attr.slots_unlock", "KVM_SET_MEMORY_ATTRIBUTES: done, after slots_lock" },
	{ "attr.store", "KVM_SET_MEMORY_ATTRIBUTES: window open and range zapped, before the store" },
	{ "block", "pseudo-point: the actor blocks (a contended lock, a wait)" },
	{ "cow.mmu_notifier", "COW of the zero page: new frame allocated, before the notifier start" },
	{ "cow.ptl", "COW of the zero page: notifier started, before the PTL to replace the PTE" },
	{ "cow.ptl_unlock", "COW of the zero page: new frame mapped, before the notifier end" },
	{ "dontneed.mmap_lock", "MADV_DONTNEED: before mmap_lock (read)" },
	{ "dontneed.mmap_unlock", "MADV_DONTNEED: after mmap_lock, frames freed" },
	{ "dontneed.ptl", "MADV_DONTNEED: before the PTL, between notifier start and end" },
	{ "dontneed.ptl_unlock", "MADV_DONTNEED: PTEs cleared, before notifier end" },
	{ "exit", "pseudo-point: the actor returns" },
	{ "fast_pf.cmpxchg", "fast_page_fault(): before the lockless compare-exchange" },
	{ "fault.mmu_lock", "page fault: pfn resolved, before read_lock(mmu_lock)" },
	{ "fault.mmu_unlock", "page fault: after read_unlock(mmu_lock)" },
	{ "fault.pages_lock", "page fault: exec fault's table linked, before tdp_mmu_pages_lock" },
	{ "fault.pages_unlock", "page fault: table tracked as a possible NX huge page" },
	{ "fault.pfn_resolved", "page fault: hva_to_pfn() done, before the second unsafe check" },
	{ "fault.seq_snapshot", "page fault: before mmu_invalidate_seq is snapshotted" },
	{ "fault.spte_install", "page fault: under mmu_lock, leaf built, before its cmpxchg" },
	{ "fault.step_down", "page fault (NX mitigation): SPTE re-read, before its child is read" },
	{ "gmem.convert_begin", "gmem in-place conversion: invalidate lock held, before the checks" },
	{ "gmem.convert_store", "gmem in-place conversion: window open and zapped, before the store" },
	{ "gmem.fault_lock", "gmem host fault: before the invalidate lock (read)" },
	{ "gmem.fault_unlock", "gmem host fault: page mapped (or SIGBUS), after the invalidate lock" },
	{ "gmem.get_pfn_folio", "kvm_gmem_get_pfn(): file and binding checked, before the folio lookup" },
	{ "gmem.inval_end_lock", "gmem invalidate_end: before write_lock(mmu_lock) of one VM" },
	{ "gmem.inval_end_unlock", "gmem invalidate_end: window closed in one VM, after write_unlock" },
	{ "gmem.inval_mmu_lock", "gmem invalidate_begin: before write_lock(mmu_lock) of one VM" },
	{ "gmem.inval_mmu_unlock", "gmem invalidate_begin: one VM zapped and flushed, after unlock" },
	{ "gmem.invalidate_lock", "guest_memfd: before filemap_invalidate_lock() (write)" },
	{ "gmem.invalidate_lock_shared", "gmem fallocate: before filemap_invalidate_lock_shared()" },
	{ "gmem.invalidate_unlock", "guest_memfd: after filemap_invalidate_unlock()" },
	{ "gmem.invalidate_unlock_shared", "gmem fallocate: folios allocated, after the shared unlock" },
	{ "gmem.punch_invalidate_begin", "PUNCH_HOLE: invalidate lock held, before invalidate_begin" },
	{ "gmem.punch_invalidate_end", "PUNCH_HOLE: folios truncated, before kvm_gmem_invalidate_end()" },
	{ "gmem.punch_truncate", "PUNCH_HOLE: every VM zapped, before the folios are freed" },
	{ "gmem.release_slots_lock", "kvm_gmem_release(): before slots_lock" },
	{ "gmem.release_slots_unlock", "kvm_gmem_release(): slots unbound and zapped, after slots_lock" },
	{ "gup.mmap_lock", "GUP slow path: before mmap_lock (read)" },
	{ "gup.mmap_unlock", "GUP slow path: after mmap_lock, page pinned" },
	{ "gup.ptl", "GUP slow path: before the PTL (fault in, pin)" },
	{ "gup.ptl_unlock", "GUP slow path: after the PTL, page pinned (or dropped to break COW)" },
	{ "invalidate.end", "notifier range_end: before write_lock(mmu_lock) for invalidate_end" },
	{ "invalidate.end_unlock", "notifier range_end: seq bumped, after write_unlock" },
	{ "invalidate.mmu_lock", "notifier range_start: before write_lock(mmu_lock)" },
	{ "invalidate.mmu_unlock", "notifier range_start: zapped and flushed, after write_unlock" },
	{ "invalidate.mn_lock", "notifier: before mn_invalidate_lock" },
	{ "invalidate.mn_unlock", "notifier: after mn_invalidate_lock (count changed)" },
	{ "memslot.mmu_lock", "memslot delete/move: before write_lock(mmu_lock) to zap the slot" },
	{ "memslot.mmu_unlock", "memslot delete/move: slot zapped and flushed, after unlock" },
	{ "memslot.mn_lock", "memslot swap: before mn_invalidate_lock" },
	{ "memslot.mn_unlock", "memslot swap: after mn_invalidate_lock" },
	{ "memslot.slots_lock", "KVM_SET_USER_MEMORY_REGION2: before slots_lock" },
	{ "memslot.slots_unlock", "KVM_SET_USER_MEMORY_REGION2: done, after slots_lock" },
	{ "memslot.synchronize_srcu", "memslot swap: published, before synchronize_srcu()" },
	{ "migrate.begin", "migration: before the notifier start" },
	{ "migrate.copy", "migration: PTE is a migration entry, before copying the content" },
	{ "migrate.ptl", "migration: before the PTL to install the migration entry" },
	{ "migrate.ptl_unlock", "migration: migration entry installed" },
	{ "migrate.remap", "migration: before the PTL to map the new (or old, if busy) frame" },
	{ "migrate.remap_unlock", "migration: new frame mapped, before the old one is freed" },
	{ "mmu_load.mmu_lock", "kvm_mmu_load(): before read_lock(mmu_lock) to get a root" },
	{ "mmu_load.mmu_unlock", "kvm_mmu_load(): root loaded" },
	{ "mmu_unload.mmu_lock", "kvm_mmu_free_obsolete_roots(): before read_lock(mmu_lock)" },
	{ "mmu_unload.mmu_unlock", "kvm_mmu_free_obsolete_roots(): obsolete root dropped" },
	{ "munmap.mmap_lock", "munmap: before mmap_lock (write)" },
	{ "munmap.mmap_unlock", "munmap: range gone, after mmap_lock" },
	{ "munmap.ptl", "munmap: before the PTL, between notifier start and end" },
	{ "munmap.ptl_unlock", "munmap: PTEs cleared, before notifier end" },
	{ "nx_recover.mmu_lock", "NX recovery: before read_lock(mmu_lock)" },
	{ "nx_recover.mmu_unlock", "NX recovery: done, after read_unlock(mmu_lock)" },
	{ "nx_recover.pages_lock", "NX recovery: before tdp_mmu_pages_lock, to take the oldest" },
	{ "nx_recover.pages_unlock", "NX recovery: page unaccounted, before its zap" },
	{ "nx_recover.resched_lock", "NX recovery: mmu_lock yielded to a writer, before retaking" },
	{ "nx_recover.resched_unlock", "NX recovery: a writer waits; flush done, before unlock" },
	{ "sleep", "pseudo-point: the actor sleeps until a later step" },
	{ "split_pmd.ptl", "split_huge_pmd(): notifier started over the 2 MiB, before the PMD lock" },
	{ "split_pmd.ptl_unlock", "split_huge_pmd(): PMD replaced by a PTE table, before notifier end" },
	{ "vcpu.enter", "vCPU: before the next entry into the guest (requests not served yet)" },
	{ "vcpu.sched_yield", "vCPU: the guest made the KVM_HC_SCHED_YIELD hypercall" },
	{ "zap.begin", "zap: under write mmu_lock, invalidation begun, before the first leaf" },
	{ "zap.pages_lock", "zap: an exec fault's table removed, before tdp_mmu_pages_lock" },
	{ "zap.pages_unlock", "zap: the removed table untracked, after the unlock" },
	{ "zap.pt_frozen", "zap of an invalid root: a table's entries frozen, before call_rcu" },
	{ "zap.resched_lock", "zap: yielded mmu_lock to a waiter, before taking it back" },
	{ "zap.resched_unlock", "zap: a waiter wants mmu_lock: pending flush done, before unlock" },
	{ "zap.spte_cleared", "zap: one leaf cleared, TLBs not flushed yet" },
	{ "zap_all_fast.mmu_lock", "kvm_mmu_zap_all_fast(): before write_lock(mmu_lock)" },
	{ "zap_all_fast.mmu_unlock", "kvm_mmu_zap_all_fast(): roots invalidated, vCPUs told" },
	{ "zap_roots.mmu_lock", "zapping invalidated roots: before read_lock(mmu_lock) (write_lock if not shared)" },
	{ "zap_roots.mmu_unlock", "zapping invalidated roots: done, after read_unlock" },
};

const SimPoint *
sim_points(guint *out_n)
{
	*out_n = G_N_ELEMENTS(points);
	return points;
}

gboolean
sim_point_known(const char *name)
{
	for (guint i = 0; i < G_N_ELEMENTS(points); i++)
		if (strcmp(points[i].name, name) == 0)
			return TRUE;
	return FALSE;
}
