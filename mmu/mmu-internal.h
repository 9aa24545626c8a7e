/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the files of mmu/ share (arch/x86/kvm/mmu/mmu_internal.h and friends).
 *
 * include/linux/kvm_host.h definitions below were read in ColinIanKing/linux-next at a66ec810
 * (6.18 or later: kvm_memslot_is_gmem_only()). arch/x86/kvm/mmu/mmu_internal.h: no tree read
 * (no 6.18-era copy found in the search index).
 */
#ifndef KVMSIM_MMU_MMU_INTERNAL_H
#define KVMSIM_MMU_MMU_INTERNAL_H

#include "mmu/mmu.h"
#include "mmu/spte.h"
#include "sim/core/log.h"

/* Is mutation m planted in this VM? (sim/core/mutations.h; 0 for the faithful model) */
static inline gboolean
kvm_mutated(const struct kvm *kvm, SimMutation m)
{
	return sim_mutated(kvm->mutations, m);
}

/* KVM_PFN_NOSLOT (include/linux/kvm_host.h): the pfn of a gfn in no memslot. */
#define KVM_PFN_NOSLOT (1ull << 63)

/* KVM_MEMSLOT_GEN_UPDATE_IN_PROGRESS (include/linux/kvm_host.h): set in a memslots
 * generation between its publication and the end of the SRCU sync that follows. */
#define KVM_MEMSLOT_GEN_UPDATE_IN_PROGRESS (1ull << 63)

/* struct kvm_mmu_page (arch/x86/kvm/mmu/mmu_internal.h), the TDP MMU part. */
struct kvm_mmu_page {
	u64 *spt;          /* the 512-entry table */
	u64 spt_pa;        /* its host-physical address */
	int level;         /* role.level */
	gfn_t gfn;         /* first gfn it covers */
	u64 *ptep;         /* the parent SPTE pointing at this table (NULL for a root) */
	gboolean invalid;  /* role.invalid */
	int root_count;    /* references to a root */
	gboolean tdp_mmu_scheduled_root_to_zap; /* invalidated, not zapped yet */
	gboolean nx_huge_page_disallowed; /* made by a fault that could not map huge (NX) */
	gboolean possible_nx_huge_page;   /* on kvm->possible_nx_huge_pages (the list link) */
};

/* The page role every TDP page of a kvmsim VM has (kvm_calc_tdp_mmu_root_page_role()). */
#define TDP_SP_ROLE_ACCESS ACC_ALL

/* struct kvm_page_fault (arch/x86/kvm/mmu/mmu_internal.h), the fields the TDP path uses. */
struct kvm_page_fault {
	gpa_t addr;
	u64 error_code;
	gboolean prefetch;
	gboolean exec;
	gboolean write;
	gboolean present;
	gboolean rsvd;
	gboolean user;
	gfn_t gfn;
	struct kvm_memory_slot *slot;
	u8 max_level;
	u8 req_level;
	u8 goal_level;
	unsigned long mmu_seq;  /* mmu_invalidate_seq snapshot */
	kvm_pfn_t pfn;
	hva_t hva;
	gboolean map_writable;
	gboolean refcounted_page; /* a frame reference taken by faultin, dropped by finish */
	gboolean is_private;      /* the access is private (PFERR_PRIVATE_ACCESS) */
	gboolean nx_huge_page_workaround_enabled; /* is_nx_huge_page_enabled() */
	gboolean huge_page_disallowed;            /* an exec fault under the NX mitigation */
};

/* Models is_access_allowed(), an inline of arch/x86/kvm/mmu/spte.h (JonKohler/linux at
 * 04f9dc50, see spte.h): a read needs PT_PRESENT_MASK, bit 0, EPT's R. */
static inline gboolean
is_access_allowed(const struct kvm_page_fault *fault, u64 spte)
{
	if (fault->exec)
		return is_executable_pte(spte);
	if (fault->write)
		return is_writable_pte(spte);
	return (spte & VMX_EPT_READABLE_MASK) != 0;
}


/* struct tdp_iter (arch/x86/kvm/mmu/tdp_iter.h) */
struct tdp_iter {
	gfn_t next_last_level_gfn;           /* the gfn the walk is heading for */
	u64 *pt_path[PT64_ROOT_4LEVEL];      /* tables from the root down to the current level */
	u64 *sptep;                          /* the current SPTE */
	gfn_t gfn;                           /* lowest gfn it maps */
	int root_level;
	int min_level;                       /* the walk does not descend below this */
	int level;
	u64 old_spte;                        /* value read when the iterator reached it */
	gboolean valid;                      /* FALSE once the walk is done */
	gboolean yielded;                    /* mmu_lock was dropped: restart from the top */
	gfn_t yielded_gfn;                   /* next_last_level_gfn when it last yielded */
	const SimPtPool *pool;
	SimSched *step_down_sched;           /* non-NULL: a yield point between re-reading an
					      * SPTE and reading its child (see try_step_down()) */
};

/* The SPTE accessors: every read and write of table memory (the writes in tdp_iter.c). */

/* Models kvm_tdp_mmu_read_spte() (READ_ONCE; static inline in tdp_iter.h, as in the kernel); the
 * level tells a table entry from a leaf. */
static inline u64
kvm_tdp_mmu_read_spte(const u64 *sptep, int level)
{
	return spte_from_hw(*sptep, level);
}

u64 kvm_tdp_mmu_write_spte(u64 *sptep, u64 old_spte, u64 new_spte, int level);
u64 kvm_tdp_mmu_write_spte_atomic(u64 *sptep, u64 new_spte, int level);
void __kvm_tdp_mmu_write_spte(u64 *sptep, u64 new_spte, int level);
gboolean kvm_tdp_mmu_spte_need_atomic_write(u64 old_spte, int level);
gboolean tdp_mmu_try_cmpxchg_spte(u64 *sptep, u64 *old_spte, u64 new_spte, int level);
/* Log a lost compare-exchange of the SPTE of gfn at level: what it held (found) instead of
 * expected, and why (tdp_mmu.c); path names the path that lost. */
void trace_spte_cmpxchg_lost(struct kvm *kvm, const char *path, gfn_t gfn, int level,
			     u64 expected, u64 found, u64 wanted);
/* Bumped by every SPTE write above, so that a remembered walk can tell it is still true. */
extern u64 tdp_mmu_spte_writes;
/* The SPTEs the last TDP_MMU_SPTE_LOG writes above wrote, the n-th write at n modulo the size:
 * what kvm_mmu_audit() looks at again when nothing else changed since its last walk. */
#define TDP_MMU_SPTE_LOG 256
extern u64 *tdp_mmu_spte_log[TDP_MMU_SPTE_LOG];
/* The last TDP_MMU_TLB_LOG of those writes that changed an entry present to the walker (one a
 * TLB may cache), the n-th at n modulo the size; tdp_mmu_tlb_writes counts them. */
#define TDP_MMU_TLB_LOG 64
extern u64 tdp_mmu_tlb_writes;
extern u64 *tdp_mmu_tlb_log[TDP_MMU_TLB_LOG];

void tdp_iter_start(struct tdp_iter *iter, const SimPtPool *pool, struct kvm_mmu_page *root,
		    int min_level, gfn_t next_last_level_gfn);
void tdp_iter_next(struct tdp_iter *iter);
/* The last SPTE on the path from root to gfn (*out_spte, at *out_level). */
u64 *tdp_walk_last(const SimPtPool *pool, struct kvm_mmu_page *root, gfn_t gfn, u64 *out_spte,
		   int *out_level);
/* Walk again from the root to where the walk was heading (tdp_iter_restart()). */
void tdp_iter_restart(struct tdp_iter *iter);

#define for_each_tdp_pte_min_level(iter, kvm, root, min_level, start, end)                       \
	for (tdp_iter_start(&iter, (kvm)->pt_pool, root, min_level, start);                       \
	     iter.valid && iter.gfn < (end); tdp_iter_next(&iter))
#define for_each_tdp_pte(iter, kvm, root, start, end)                                              \
	for_each_tdp_pte_min_level(iter, kvm, root, PG_LEVEL_4K, start, end)

/*
 * kvm.c: walks the zapped translations a vCPU may still use, those held by a vCPU with neither a
 * TLB flush nor a new root due before it enters again (kvmsim's own bookkeeping, no kernel
 * counterpart). vcpu and entry name the current one.
 */
struct kvm_unflushed_tlb_iter {
	struct kvm *kvm;
	int vcpu_idx;                                /* kvm->vcpus[] index being walked */
	guint entry_idx;                             /* next entry of that vCPU's stale_tlb */
	struct kvm_vcpu *vcpu;                       /* the vCPU holding entry */
	const struct kvm_stale_tlb_entry *entry;
};

gboolean kvm_unflushed_tlb_next(struct kvm_unflushed_tlb_iter *iter);

#define for_each_unflushed_tlb_entry(iter, _kvm)                                                   \
	for (iter = (struct kvm_unflushed_tlb_iter){ .kvm = (_kvm) };                              \
	     kvm_unflushed_tlb_next(&iter);)

/* mmutrace.c: the kvmmmu tracepoints */
void trace_kvm_mmu_get_page(struct kvm *kvm, const struct kvm_mmu_page *sp, gboolean created);
void trace_kvm_mmu_prepare_zap_page(struct kvm *kvm, const struct kvm_mmu_page *sp);
void trace_kvm_tdp_mmu_spte_changed(struct kvm *kvm, int as_id, gfn_t gfn, int level,
				    u64 old_spte, u64 new_spte);
void trace_kvm_mmu_set_spte(struct kvm *kvm, int level, gfn_t gfn, u64 spte, u64 sptep_pa);
void trace_kvm_mmu_spte_requested(struct kvm *kvm, const struct kvm_page_fault *fault);
void trace_kvm_mmu_split_huge_page(struct kvm *kvm, gfn_t gfn, u64 spte, int level, int errno_);
void trace_mark_mmio_spte(struct kvm *kvm, u64 sptep_pa, gfn_t gfn, u64 spte);
void trace_check_mmio_spte(struct kvm *kvm, u64 spte, unsigned int kvm_gen,
			   unsigned int spte_gen);
void trace_handle_mmio_page_fault(struct kvm *kvm, u64 addr, gfn_t gfn, unsigned int access);
void trace_kvm_mmu_zap_all_fast(struct kvm *kvm);
void trace_fast_page_fault(struct kvm_vcpu *vcpu, const struct kvm_page_fault *fault,
			   u64 sptep_pa, u64 old_spte, u64 new_spte, int ret);

/* Models kvm_arch_nr_memslot_as_ids() for x86 with SMM: two address spaces, so memslot
 * generations step by 2 (a VM with protected state would have 1). kvm_swap_active_memslots()
 * (kvm_main.c at 03b9d314) adds it to the generation. The x86 definition
 * (arch/x86/include/asm/kvm_host.h): no tree read. */
#define KVM_ARCH_NR_MEMSLOT_AS_IDS 2

/* tdp_mmu.c */
struct kvm_mmu_page *kvm_tdp_mmu_alloc_root(struct kvm_vcpu *vcpu);
void kvm_tdp_mmu_put_root(struct kvm *kvm, struct kvm_mmu_page *root);
struct kvm_mmu_page *kvm_tdp_mmu_valid_root(struct kvm *kvm);
void kvm_rcu_read_lock(struct kvm *kvm, guint64 *ticket);
void kvm_rcu_read_unlock(struct kvm *kvm, guint64 ticket);
int kvm_tdp_mmu_map(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault);
/* tdp_mmu.c, for tdp_mmu_zap.c and tdp_mmu_walk.c: the next root with a reference taken (and
 * prev's dropped); the compare-exchange without its bookkeeping; the store under the write lock */
struct kvm_mmu_page *tdp_mmu_next_root(struct kvm *kvm, struct kvm_mmu_page *prev,
				       gboolean only_valid);
int __tdp_mmu_set_spte_atomic(struct kvm *kvm, struct tdp_iter *iter, u64 new_spte);
void tdp_mmu_iter_set_spte(struct kvm *kvm, struct tdp_iter *iter, u64 new_spte);

/* Past the last gfn of a 4-level (48-bit) guest-physical address space. */
#define TDP_MAX_GFN (1ull << (48 - PAGE_SHIFT))

/* Models for_each_tdp_mmu_root_yield_safe(): every root, valid or not. */
#define for_each_tdp_mmu_root_yield_safe(kvm, root)                                                \
	for (root = tdp_mmu_next_root(kvm, NULL, FALSE); root;                                     \
	     root = tdp_mmu_next_root(kvm, root, FALSE))

/* tdp_mmu_zap.c */
void kvm_tdp_mmu_invalidate_roots(struct kvm *kvm);
void kvm_tdp_mmu_zap_invalidated_roots(struct kvm *kvm, gboolean shared);
gboolean kvm_tdp_mmu_unmap_gfn_range(struct kvm *kvm, struct kvm_gfn_range *range,
				     gboolean flush);

/* tdp_mmu_walk.c */
gboolean kvm_tdp_mmu_age_gfn_range(struct kvm *kvm, struct kvm_gfn_range *range);
gboolean kvm_tdp_mmu_test_age_gfn(struct kvm *kvm, struct kvm_gfn_range *range);
u64 *kvm_tdp_mmu_fast_pf_get_last_sptep(struct kvm_vcpu *vcpu, gfn_t gfn, u64 *spte);
gboolean kvm_tdp_mmu_any_root_maps(struct kvm *kvm, gfn_t gfn, kvm_pfn_t pfn);

/* tdp_mmu.c */
void kvm_mmu_init_tdp_mmu(struct kvm *kvm);
void kvm_mmu_uninit_tdp_mmu(struct kvm *kvm);
struct kvm_mmu_page *sptep_to_sp(const struct kvm *kvm, u64 *sptep);
/* Dumps: the i-th table waiting for its RCU grace period, NULL past the last. */
struct kvm_mmu_page *kvm_tdp_mmu_rcu_pending(const struct kvm *kvm, guint i);
u64 sptep_pa(const struct kvm *kvm, u64 *sptep);
void kvm_mmu_free_memory_cache(struct kvm *kvm, struct kvm_mmu_memory_cache *mc);
int mmu_topup_memory_caches(struct kvm_vcpu *vcpu);

/* invalidate.c (the window and kvm_mmu_unmap_gfn_range() are public: gmem/ uses them) */
gboolean kvm_unmap_gfn_range(struct kvm *kvm, struct kvm_gfn_range *range);
int mmu_invalidate_retry_gfn(struct kvm *kvm, unsigned long mmu_seq, gfn_t gfn);
gboolean mmu_invalidate_retry_gfn_unsafe(struct kvm *kvm, unsigned long mmu_seq, gfn_t gfn);

/* notifier.c */
extern const SimMmuNotifierOps kvm_mmu_notifier_ops;

/* kvm.c */
void kvm_make_all_cpus_request(struct kvm *kvm, unsigned int req);
void kvm_record_stale_translation(struct kvm *kvm, gfn_t gfn, kvm_pfn_t pfn);
void kvm_invariant_failed(struct kvm *kvm, const char *what, const char *fmt, ...)
	G_GNUC_PRINTF(3, 4);

/* private.c */
void kvm_mmu_check_private_spte(struct kvm_vcpu *vcpu, const struct kvm_page_fault *fault);

/* nx_huge_page.c: the NX huge page mitigation's bookkeeping (tdp_mmu_pages_lock held) */
void track_possible_nx_huge_page(struct kvm *kvm, struct kvm_mmu_page *sp);
void untrack_possible_nx_huge_page(struct kvm *kvm, struct kvm_mmu_page *sp);
void unaccount_nx_huge_page(struct kvm *kvm, struct kvm_mmu_page *sp);
/* A table being freed must be off possible_nx_huge_pages (else: use-after-free by the worker). */
void kvm_nx_check_freed_sp(struct kvm *kvm, struct kvm_mmu_page *sp);
void disallowed_hugepage_adjust(struct kvm *kvm, struct kvm_page_fault *fault, u64 spte,
				int cur_level);
/* tdp_mmu_zap.c: zap the parent SPTE of a possible NX huge page, mmu_lock held for read; whether a
 * TLB flush is due */
gboolean kvm_tdp_mmu_zap_possible_nx_huge_page(struct kvm *kvm, struct kvm_mmu_page *sp);

/* kvm.c: a table unlinked from the valid root may still sit in vCPU paging-structure caches
 * until they flush; freeing it before that is a use-after-free by the hardware walker. */
void kvm_record_stale_table(struct kvm *kvm, const struct kvm_mmu_page *sp);
void kvm_check_freed_table(struct kvm *kvm, const struct kvm_mmu_page *sp);

/* huge_page.c */
/* KVM_MAX_HUGEPAGE_LEVEL on x86 (arch/x86/include/asm/kvm_host.h). */
#define KVM_MAX_HUGEPAGE_LEVEL PG_LEVEL_1G
struct kvm_lpage_info *lpage_info_slot(gfn_t gfn, const struct kvm_memory_slot *slot, int level);
void kvm_alloc_memslot_metadata(struct kvm *kvm, struct kvm_memory_slot *slot);
int kvm_mmu_max_mapping_level(struct kvm *kvm, struct kvm_page_fault *fault,
			      const struct kvm_memory_slot *slot, gfn_t gfn);
void kvm_mmu_hugepage_adjust(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault);
/* Models kvm_mmu_prepare_memory_fault_exit() (fault.c): KVM_EXIT_MEMORY_FAULT for the fault. */
void kvm_mmu_prepare_memory_fault_exit(struct kvm_vcpu *vcpu, const struct kvm_page_fault *fault);
void kvm_mmu_prepare_memory_fault_exit_flags(struct kvm_vcpu *vcpu,
					     const struct kvm_page_fault *fault, u64 flags);

/* userfault.c: the PROPOSED post-copy exits (KVM_MEM_EXIT_ON_MISSING, KVM_MEM_USERFAULT). */
#define BITS_PER_LONG 64
gboolean kvm_do_userfault(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault);
int kvm_postcopy_check_flags(const struct kvm *kvm, u32 flags, const struct kvm_memory_slot *old);
gboolean kvm_userfault_flags_only(const struct kvm *kvm, const struct kvm_memory_slot *old,
				  u32 flags);
/* The 4K pfn of the faulting gfn inside fault->pfn's goal-level page (the page faultin took a
 * reference on, and what kvm_mmu_spte_requested reports). */
static inline kvm_pfn_t
fault_pfn_4k(const struct kvm_page_fault *fault)
{
	return fault->pfn | (fault->gfn & (KVM_PAGES_PER_HPAGE(fault->goal_level) - 1));
}

/* dirty_log.c */
struct kvm_dirty_log_state *kvm_alloc_dirty_log(struct kvm *kvm, u64 npages);
void kvm_free_dirty_log(gpointer data);
void mark_page_dirty_in_slot(struct kvm *kvm, const struct kvm_memory_slot *slot, gfn_t gfn);
void kvm_dirty_log_arm(struct kvm *kvm, int id);
void kvm_mmu_slot_apply_flags(struct kvm *kvm, u32 old_flags, const struct kvm_memory_slot *new);
/* tdp_mmu.c: the compare-exchange under the read lock (0, or -EBUSY with iter->old_spte
 * refreshed); the store under the write lock of what replaces old_spte (an exchange where the
 * SPTE has volatile bits; invariant spte_volatile_bit_lost); and, with dirty logging on, the
 * yield point between a walk's read of a volatile leaf and that store. */
int tdp_mmu_set_spte_atomic(struct kvm *kvm, struct tdp_iter *iter, u64 new_spte);
u64 tdp_mmu_write_spte_locked(struct kvm *kvm, u64 *sptep, u64 old_spte, u64 new_spte, int level,
			      gfn_t gfn);
void tdp_mmu_volatile_window(struct kvm *kvm, u64 old_spte, int level);
/* tdp_dirty.c, for dirty logging: write-protect every leaf of the slot at or above min_level
 * (read lock held; TRUE if some SPTE lost W), and write-protect (wrprot) the 4K leaves of the
 * gfns of mask from gfn on (write lock held). */
gboolean kvm_tdp_mmu_wrprot_slot(struct kvm *kvm, const struct kvm_memory_slot *slot,
				 int min_level);
void kvm_tdp_mmu_clear_dirty_pt_masked(struct kvm *kvm, struct kvm_memory_slot *slot, gfn_t gfn,
				       unsigned long mask, gboolean wrprot);

/* memslot.c */
gfn_t hva_to_gfn_memslot(hva_t hva, const struct kvm_memory_slot *slot);
struct kvm_memslots *kvm_memslots_new(void);
void kvm_memslots_free(struct kvm_memslots *slots);

#endif
