/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The x86 TDP page-fault path, in the kernel's order (arch/x86/kvm/mmu/mmu.c, v6.18):
 *
 *   fast path (lockless fix of a present SPTE) -> top up caches -> snapshot mmu_invalidate_seq ->
 *   early retry -> resolve the pfn -> early retry -> mmu_lock (read) -> stale check ->
 *   kvm_tdp_mmu_map() (compare-exchange install) -> finish -> unlock
 *
 * Yield points: fault.seq_snapshot, fault.pfn_resolved, fault.mmu_lock, fault.spte_install,
 * fault.mmu_unlock, and fast_pf.cmpxchg on the lockless path (gmem.get_pfn_folio inside a
 * guest_memfd lookup).
 *
 * Private memory: a SW-protected VM's fault is private when the gfn's attribute says so at
 * fault entry (kvm_mmu_page_fault()); after the seq snapshot, an access type that disagrees
 * with the attribute is a KVM_EXIT_MEMORY_FAULT, and private or gmem-only faults take their pfn
 * from guest_memfd (kvm_mmu_faultin_pfn_gmem()). The mismatch check after the snapshot and the
 * gmem path were read in kvm-x86/linux arch/x86/kvm/mmu/mmu.c at 04f2bbf1 (6.9-era:
 * kvm_faultin_pfn(), the mismatch check already after the snapshot) and in Fuad Tabba's patch
 * "KVM: x86/mmu: Handle guest page faults for guest_memfd with shared memory" (kvm list,
 * 2025-07, merged for 6.18: kvm_mmu_faultin_pfn_gmem(), kvm_memslot_is_gmem_only()).
 *
 * Kernel functions named below were read in ColinIanKing/linux-next, arch/x86/kvm/mmu/mmu.c at
 * 1c60d04a (the tdp_mmu.c commit), unless a comment says otherwise: 6.18 cycle by its content
 * (EXPORT_SYMBOL_FOR_KVM_INTERNAL; kvm_tdp_map_page() still exported, which the 16 Oct 2025
 * series for the next cycle un-exports; possible_nx_huge_pages per KVM_NR_MMU_TYPES). Its
 * private-memory path is still kvm_mmu_faultin_pfn_private(), older than the guest_memfd-mmap
 * path v6.18 has; kvmsim models neither. The shared-memory fault path modeled here (seq
 * snapshot, both unsafe pre-checks, is_page_fault_stale(), kvm_tdp_mmu_page_fault()) reads the
 * same in that repo's older mmu.c at a7626239 (6.15-era: EXPORT_SYMBOL_GPL, shadow_memtype_mask).
 */
#include "mmu/mmu-internal.h"

#include <errno.h>

#include "gmem/gmem.h"
#include "mmu/async_pf.h"

const char *
ret_pf_name(int r)
{
	static const char *const names[] = {
		"RET_PF_CONTINUE", "RET_PF_RETRY",   "RET_PF_EMULATE", "RET_PF_WRITE_PROTECTED",
		"RET_PF_INVALID",  "RET_PF_FIXED",   "RET_PF_SPURIOUS",
	};

	return r >= 0 && r < (int)G_N_ELEMENTS(names) ? names[r] : "error";
}

/* Why the fault will not install anything: the state the retry decision was made on. */
static void
trace_fault_retry(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault, const char *why)
{
	struct kvm *kvm = vcpu->kvm;

	sim_log_emit(kvm->log, "sim_fault_retry",
		     "vcpu %d gfn %" G_GINT64_MODIFIER "x %s: mmu_seq %lu seq %lu in_progress %ld "
		     "range 0x%" G_GINT64_MODIFIER "x-0x%" G_GINT64_MODIFIER "x", vcpu->vcpu_id,
		     fault->gfn, why, fault->mmu_seq, kvm->mmu_invalidate_seq,
		     kvm->mmu_invalidate_in_progress, kvm->mmu_invalidate_range_start,
		     kvm->mmu_invalidate_range_end);
}

/* The fault's snapshot of mmu_invalidate_seq, and what was in progress when it was taken: the
 * state the stale checks will compare against. */
static void
trace_fault_seq_snapshot(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	struct kvm *kvm = vcpu->kvm;

	if (kvm->mmu_invalidate_in_progress)
		sim_log_emit(kvm->log, "sim_fault_seq_snapshot",
			     "vcpu %d gfn %" G_GINT64_MODIFIER "x mmu_seq %lu in_progress %ld range "
			     "0x%" G_GINT64_MODIFIER "x-0x%" G_GINT64_MODIFIER "x", vcpu->vcpu_id,
			     fault->gfn, fault->mmu_seq, kvm->mmu_invalidate_in_progress,
			     kvm->mmu_invalidate_range_start, kvm->mmu_invalidate_range_end);
	else
		sim_log_emit(kvm->log, "sim_fault_seq_snapshot",
			     "vcpu %d gfn %" G_GINT64_MODIFIER "x mmu_seq %lu in_progress 0",
			     vcpu->vcpu_id, fault->gfn, fault->mmu_seq);
}

/* Models page_fault_can_be_fast() in arch/x86/kvm/mmu/mmu.c, with EPT A/D bits disabled. A VM
 * with private memory leaves an access whose type disagrees with the gfn's attribute to the slow
 * path, which reports it (Michael Roth's v2 patch of May 2024 for the SNP series, 6.10, as the
 * search index holds it). */
static gboolean
page_fault_can_be_fast(struct kvm *kvm, const struct kvm_page_fault *fault)
{
	if (fault->rsvd)
		return FALSE;
	if (kvm->has_private_mem && fault->is_private != kvm_mem_is_private(kvm, fault->gfn))
		return FALSE;
	/* not-present: possibly an access-tracked SPTE, if A/D bits are off */
	if (!fault->present)
		return !kvm->ept_ad;
	/* present: only a write can be fixed (write-protected SPTE) */
	return fault->write;
}

/* Models fast_pf_fix_direct_spte(): a compare-exchange that only ever upgrades access. */
static gboolean
fast_pf_fix_direct_spte(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault, u64 *sptep,
			int level, u64 old_spte, u64 new_spte)
{
	const u64 expected = old_spte;

	sim_yield(vcpu->kvm->sched, "fast_pf.cmpxchg");
	if (!tdp_mmu_try_cmpxchg_spte(sptep, &old_spte, new_spte, level)) {
		sim_count(vcpu->kvm->counters, SIM_CTR_PROBE_SPTE_CMPXCHG_LOST);
		trace_spte_cmpxchg_lost(vcpu->kvm, "fast_page_fault", fault->gfn, level, expected,
					old_spte, new_spte);
		if (is_frozen_spte(old_spte))
			sim_count(vcpu->kvm->counters, SIM_CTR_PROBE_FROZEN_SPTE_SEEN);
		return FALSE;
	}
	/* the gfn is dirty once the SPTE is writable: marked after the exchange */
	if (is_writable_pte(new_spte) && !is_writable_pte(expected))
		mark_page_dirty_in_slot(vcpu->kvm, fault->slot, fault->gfn);
	sim_hostmem_make_resident(vcpu->kvm->hm, fault->gfn << PAGE_SHIFT,
				  spte_to_pfn(new_spte) +
				  (fault->gfn & (KVM_PAGES_PER_HPAGE(level) - 1)));
	return TRUE;
}

/* Models fast_page_fault(): no mmu_lock and no seq check; it never creates a mapping. */
static int
fast_page_fault(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	struct kvm *kvm = vcpu->kvm;
	int ret = RET_PF_INVALID;
	u64 old_spte = SHADOW_NONPRESENT_VALUE, new_spte = 0;
	u64 *sptep = NULL;
	int level = PG_LEVEL_4K;
	int retry_count = 0;

	if (!page_fault_can_be_fast(kvm, fault))
		return ret;
	guint64 rcu;

	kvm_rcu_read_lock(kvm, &rcu); /* walk_shadow_page_lockless_begin() */
	do {
		sptep = kvm_tdp_mmu_fast_pf_get_last_sptep(vcpu, fault->gfn, &old_spte);
		if (sptep && is_frozen_spte(old_spte))
			sim_count(kvm->counters, SIM_CTR_PROBE_FROZEN_SPTE_SEEN);
		if (!sptep || !is_shadow_present_pte(old_spte))
			break;
		level = sptep_to_sp(kvm, sptep)->level;
		if (!is_last_spte(old_spte, level))
			break;
		if (is_access_allowed(fault, old_spte)) {
			ret = RET_PF_SPURIOUS;
			break;
		}
		new_spte = old_spte;
		if (is_access_track_spte(new_spte))
			new_spte = restore_acc_track_spte(new_spte) | shadow_accessed_mask;
		if (fault->write && is_mmu_writable_spte(old_spte))
			new_spte |= PT_WRITABLE_MASK;
		if (new_spte == old_spte || !is_access_allowed(fault, new_spte))
			break;
		if (fast_pf_fix_direct_spte(vcpu, fault, sptep, level, old_spte, new_spte)) {
			ret = RET_PF_FIXED;
			break;
		}
	} while (++retry_count <= 4);
	kvm_rcu_read_unlock(kvm, rcu);

	/* the root is always present, so the walk always ends on some SPTE (the trace's arguments
	 * are computed only for a log) */
	if (sim_log_on(kvm->log))
		trace_fast_page_fault(vcpu, fault, sptep_pa(kvm, sptep), old_spte,
				      kvm_tdp_mmu_read_spte(sptep, level), ret);
	if (ret != RET_PF_INVALID)
		sim_count(kvm->counters, SIM_CTR_FAULTS_FAST);
	return ret;
}

/* Models kvm_handle_noslot_fault(): prepare an MMIO SPTE, or emulate right away. Emulated MMIO
 * is shared-only: a private access to a gfn without a slot is a memory-fault exit (v6.10+; the
 * 6.9-era tree read has the mismatch check but not this one: from the guest_memfd series). */
static int
kvm_handle_noslot_fault(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	if (fault->is_private) {
		kvm_mmu_prepare_memory_fault_exit(vcpu, fault);
		return -EFAULT;
	}
	if (!vcpu->kvm->mmio_caching)
		return RET_PF_EMULATE;
	fault->slot = NULL;
	fault->pfn = KVM_PFN_NOSLOT;
	fault->map_writable = FALSE;
	return RET_PF_CONTINUE;
}

/* Models kvm_mmu_prepare_memory_fault_exit() and kvm_prepare_memory_fault_exit()
 * (include/linux/kvm_host.h, as patches in the search index quote it around v6.18): [gpa,
 * gpa + PAGE_SIZE), flags PRIVATE iff the access was private; RWX flags "are not (yet) defined"
 * (a READ/WRITE/EXEC proposal is not modelled). */
void
kvm_mmu_prepare_memory_fault_exit(struct kvm_vcpu *vcpu, const struct kvm_page_fault *fault)
{
	kvm_mmu_prepare_memory_fault_exit_flags(vcpu, fault, 0);
}

/* The same with more exit flags (PROPOSED: KVM_MEMORY_EXIT_FLAG_USERFAULT, mmu/userfault.c). */
void
kvm_mmu_prepare_memory_fault_exit_flags(struct kvm_vcpu *vcpu, const struct kvm_page_fault *fault,
					u64 flags)
{
	struct kvm_run *run = &vcpu->run;

	run->exit_reason = KVM_EXIT_MEMORY_FAULT;
	run->memory_fault.gpa = fault->gfn << PAGE_SHIFT;
	run->memory_fault.size = PAGE_SIZE;
	run->memory_fault.flags = (fault->is_private ? KVM_MEMORY_EXIT_FLAG_PRIVATE : 0) | flags;
	run->memory_fault.async_pf_user_token = 0;
	sim_count(vcpu->kvm->counters, SIM_CTR_EXITS_MEMORY_FAULT);
	sim_log_emit(vcpu->kvm->log, "sim_memory_fault_exit",
		     "vcpu %d gpa 0x%" G_GINT64_MODIFIER "x size 0x%" G_GINT64_MODIFIER
		     "x flags 0x%" G_GINT64_MODIFIER "x", vcpu->vcpu_id, run->memory_fault.gpa,
		     run->memory_fault.size, run->memory_fault.flags);
}

/* Models kvm_mmu_faultin_pfn_gmem(): a slot without guest_memfd, or an error from it, is a
 * memory-fault exit with that error. */
static int
kvm_mmu_faultin_pfn_gmem(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	int max_order, r;

	if (!kvm_slot_has_gmem(fault->slot)) {
		kvm_mmu_prepare_memory_fault_exit(vcpu, fault);
		return -EFAULT;
	}
	r = kvm_gmem_get_pfn(vcpu->kvm, fault->slot, fault->gfn, &fault->pfn, &max_order);
	if (r) {
		kvm_mmu_prepare_memory_fault_exit(vcpu, fault);
		return r;
	}
	fault->refcounted_page = TRUE;
	fault->map_writable = !(fault->slot->flags & KVM_MEM_READONLY);
	fault->max_level = (u8)MIN(fault->max_level, kvm_max_level_for_order(max_order));
	return RET_PF_CONTINUE;
}

/* Models kvm_release_faultin_page() via kvm_mmu_finish_page_fault(). */
static void
kvm_mmu_finish_page_fault(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault, int r)
{
	if (!fault->refcounted_page)
		return;
	sim_frame_put(vcpu->kvm->hm, fault_pfn_4k(fault));
	fault->refcounted_page = FALSE;
}

/* Models __kvm_mmu_faultin_pfn(): private and gmem-only faults from guest_memfd, the rest
 * with hva_to_pfn() and a page reference. */
static int
__kvm_mmu_faultin_pfn(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	struct kvm *kvm = vcpu->kvm;
	gboolean writable = FALSE;
	SimPfn pfn;

	/* PROPOSED KVM Userfault (v3): the bitmap first, before private or shared (userfault.c) */
	if (kvm_do_userfault(vcpu, fault))
		return kvm_async_pf_user_fault(vcpu, fault->addr, fault->gfn,
					       gfn_to_hva_memslot(fault->slot, fault->gfn),
					       fault->error_code);
	if (fault->is_private || kvm_memslot_is_gmem_only(fault->slot))
		return kvm_mmu_faultin_pfn_gmem(vcpu, fault);

	/* a write to a read-only slot has no pfn: KVM_PFN_ERR_RO_FAULT -> emulate */
	if (fault->write && (fault->slot->flags & KVM_MEM_READONLY))
		return RET_PF_EMULATE;
	fault->hva = gfn_to_hva_memslot(fault->slot, fault->gfn);
	/* PROPOSED exit-on-missing (v7): a guest-context fault on such a slot looks up atomically,
	 * and a miss is an annotated memory-fault exit (v6 07/14: the stage-2 -EFAULT annotated) */
	gboolean atomic = kvm_is_slot_exit_on_missing(kvm, fault->slot);
	gboolean nowait = !atomic && kvm->apf_mode == KVM_APF_MODE_KERNEL && !fault->prefetch;
	int r = sim_mm_hva_to_pfn_flags(kvm->mm, fault->hva, fault->write,
					atomic ? SIM_GUP_FAST_ONLY : nowait ? SIM_GUP_NOWAIT : 0,
					&pfn, &writable);

	/* FOLL_NOWAIT: I/O is needed (KVM_PFN_ERR_NEEDS_IO): an async #PF, or wait after all */
	if (r == -EAGAIN && nowait) {
		if (kvm_async_pf_try(vcpu, fault->addr, fault->gfn, fault->hva, fault->error_code))
			return RET_PF_RETRY;
		r = sim_mm_hva_to_pfn_flags(kvm->mm, fault->hva, fault->write, 0, &pfn, &writable);
	}

	if (r < 0 && atomic) {
		kvm_mmu_prepare_memory_fault_exit(vcpu, fault);
		sim_log_emit(kvm->log, "sim_exit_on_missing", "vcpu %d gfn %" G_GINT64_MODIFIER "x",
			     vcpu->vcpu_id, fault->gfn);
		return -EFAULT;
	}
	if (r < 0)
		return r; /* kvm_handle_error_pfn(): -EFAULT back to userspace */
	fault->pfn = pfn;
	fault->refcounted_page = TRUE;
	fault->map_writable = writable && !(fault->slot->flags & KVM_MEM_READONLY);
	return RET_PF_CONTINUE;
}

/*
 * Models kvm_mmu_faultin_pfn() (v6.13+): the seq snapshot comes first, before anything about
 * the host page is read; two lockless pre-checks bracket the pfn lookup.
 */
static int
kvm_mmu_faultin_pfn(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	struct kvm *kvm = vcpu->kvm;

	sim_yield(kvm->sched, "fault.seq_snapshot");
	if (!kvm_mutated(kvm, SIM_MUT_SEQ_SNAPSHOT_AFTER_PFN)) {
		fault->mmu_seq = kvm->mmu_invalidate_seq;
		trace_fault_seq_snapshot(vcpu, fault);
	}

	/* the snapshot also covers attribute changes: check the access type against it now */
	if (fault->is_private != kvm_mem_is_private(kvm, fault->gfn)) {
		kvm_mmu_prepare_memory_fault_exit(vcpu, fault);
		return -EFAULT;
	}
	if (!fault->slot)
		return kvm_handle_noslot_fault(vcpu, fault);
	if (fault->slot->flags & KVM_MEMSLOT_INVALID) {
		sim_count(kvm->counters, SIM_CTR_PROBE_FAULT_RETRY_INVALID_SLOT);
		trace_fault_retry(vcpu, fault, "memslot being deleted or moved");
		return RET_PF_RETRY;
	}
	if (!kvm_mutated(kvm, SIM_MUT_SEQ_SNAPSHOT_AFTER_PFN) &&
	    !kvm_mutated(kvm, SIM_MUT_NO_UNSAFE_PRECHECK) &&
	    mmu_invalidate_retry_gfn_unsafe(kvm, fault->mmu_seq, fault->gfn)) {
		sim_count(kvm->counters, SIM_CTR_PROBE_FAULT_RETRY_UNSAFE);
		trace_fault_retry(vcpu, fault, "lockless pre-check before the pfn lookup");
		return RET_PF_RETRY;
	}
	int r = __kvm_mmu_faultin_pfn(vcpu, fault);

	if (r != RET_PF_CONTINUE)
		return r;
	sim_yield(kvm->sched, "fault.pfn_resolved");
	if (kvm_mutated(kvm, SIM_MUT_SEQ_SNAPSHOT_AFTER_PFN)) {
		fault->mmu_seq = kvm->mmu_invalidate_seq;
		trace_fault_seq_snapshot(vcpu, fault);
	}
	if (!kvm_mutated(kvm, SIM_MUT_NO_UNSAFE_PRECHECK) &&
	    mmu_invalidate_retry_gfn_unsafe(kvm, fault->mmu_seq, fault->gfn)) {
		sim_count(kvm->counters, SIM_CTR_PROBE_FAULT_RETRY_UNSAFE);
		trace_fault_retry(vcpu, fault, "lockless pre-check after the pfn lookup");
		kvm_mmu_finish_page_fault(vcpu, fault, RET_PF_RETRY);
		return RET_PF_RETRY;
	}
	return RET_PF_CONTINUE;
}

/* Models is_page_fault_stale(): mmu_lock held; the locked, exact invalidation check. */
static gboolean
is_page_fault_stale(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	struct kvm *kvm = vcpu->kvm;

	if (vcpu->root->invalid && !kvm_mutated(kvm, SIM_MUT_PRE_A955CAD84CDA)) {
		trace_fault_retry(vcpu, fault, "stale: the root is obsolete");
		return TRUE;
	}
	if (!fault->slot || kvm_mutated(kvm, SIM_MUT_NO_STALE_CHECK) ||
	    !mmu_invalidate_retry_gfn(kvm, fault->mmu_seq, fault->gfn))
		return FALSE;
	if (kvm->mmu_invalidate_in_progress && fault->gfn >= kvm->mmu_invalidate_range_start &&
	    fault->gfn < kvm->mmu_invalidate_range_end) {
		sim_count(kvm->counters, SIM_CTR_PROBE_FAULT_RETRY_IN_PROGRESS);
		trace_fault_retry(vcpu, fault, "stale: an invalidation covering it is in progress");
	} else {
		sim_count(kvm->counters, SIM_CTR_PROBE_FAULT_RETRY_SEQ_CHANGED);
		trace_fault_retry(vcpu, fault, "stale: mmu_invalidate_seq moved since the snapshot");
	}
	return TRUE;
}

/*
 * Models make_mmu_pages_available() (mmu.c): reclaim shadow pages when fewer than
 * KVM_MIN_FREE_MMU_PAGES are left. Its reclaim, kvm_mmu_zap_oldest_mmu_pages(), needs mmu_lock
 * held for write (lockdep_assert_held_write() in __kvm_mmu_prepare_zap_page()). kvmsim's VMs
 * have no shadow pages (no nested TDP), so there is never anything to reclaim: the check is made
 * at entry, as the rule every caller must follow whether or not pages are reclaimed this time
 * (lockdep-style, reported as an invariant). Only the planted pre-47b0c2e4c220 calls it.
 */
static void
make_mmu_pages_available(struct kvm_vcpu *vcpu)
{
	struct kvm *kvm = vcpu->kvm;

	if (!sim_rwlock_write_held(&kvm->mmu_lock))
		kvm_invariant_failed(kvm, "mmu_lock_held_for_write",
				     "vcpu %d: make_mmu_pages_available() (shadow-page reclaim) "
				     "without mmu_lock held for write (lockdep_assert_held_write)",
				     vcpu->vcpu_id);
}

/* Models kvm_tdp_mmu_page_fault() in arch/x86/kvm/mmu/mmu.c. */
static int
kvm_tdp_mmu_page_fault(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	struct kvm *kvm = vcpu->kvm;
	int r = fast_page_fault(vcpu, fault);

	if (r != RET_PF_INVALID)
		return r;
	r = mmu_topup_memory_caches(vcpu);
	if (r)
		return r;
	r = kvm_mmu_faultin_pfn(vcpu, fault);
	if (r != RET_PF_CONTINUE)
		return r;

	r = RET_PF_RETRY;
	/* mutation stale_check_unlocked: the check runs before the lock, not under it */
	gboolean unlocked = kvm_mutated(kvm, SIM_MUT_STALE_CHECK_UNLOCKED);
	gboolean stale = unlocked && is_page_fault_stale(vcpu, fault);

	sim_read_lock(kvm->sched, &kvm->mmu_lock, "fault.mmu_lock");
	/* before 47b0c2e4c220, direct_page_fault() served the TDP MMU too */
	if (kvm_mutated(kvm, SIM_MUT_PRE_47B0C2E4C220))
		make_mmu_pages_available(vcpu);
	if (!stale && (unlocked || !is_page_fault_stale(vcpu, fault))) {
		r = kvm_tdp_mmu_map(vcpu, fault);
		if (r == RET_PF_FIXED)
			kvm_mmu_check_private_spte(vcpu, fault);
	}
	kvm_mmu_finish_page_fault(vcpu, fault, r);
	sim_read_unlock(kvm->sched, &kvm->mmu_lock, "fault.mmu_unlock");
	return r;
}

/* Models kvm_mmu_do_page_fault() (arch/x86/kvm/mmu/mmu_internal.h, direct MMU): not read in any
 * tree; the fields are set as kvm_tdp_mmu_page_fault() (mmu.c at 1c60d04a) reads them. */
static int
kvm_mmu_do_page_fault(struct kvm_vcpu *vcpu, gpa_t gpa, u64 error_code, gboolean prefetch)
{
	struct kvm_page_fault fault = {
		.addr = gpa,
		.error_code = error_code,
		.prefetch = prefetch,
		.exec = (error_code & PFERR_FETCH_MASK) != 0,
		.write = (error_code & PFERR_WRITE_MASK) != 0,
		.present = (error_code & PFERR_PRESENT_MASK) != 0,
		.rsvd = (error_code & PFERR_RSVD_MASK) != 0,
		.user = (error_code & PFERR_USER_MASK) != 0,
		.max_level = KVM_MAX_HUGEPAGE_LEVEL,
		.req_level = PG_LEVEL_4K,
		.goal_level = PG_LEVEL_4K,
		.gfn = gpa >> PAGE_SHIFT,
		.is_private = (error_code & PFERR_PRIVATE_ACCESS) != 0,
		.nx_huge_page_workaround_enabled = vcpu->kvm->nx_huge_pages,
	};

	/* the NX huge page mitigation: an exec fault maps 4K pages */
	fault.huge_page_disallowed = fault.exec && fault.nx_huge_page_workaround_enabled;

	fault.slot = kvm_vcpu_gfn_to_memslot(vcpu, fault.gfn);
	return kvm_tdp_mmu_page_fault(vcpu, &fault);
}

/* Models check_mmio_spte(): stale while a memslot update is in progress, or when the
 * SPTE's generation is not the memslots'. */
static gboolean
check_mmio_spte(struct kvm_vcpu *vcpu, u64 spte)
{
	u64 gen = vcpu->kvm->memslots->generation;

	if (gen & KVM_MEMSLOT_GEN_UPDATE_IN_PROGRESS)
		return FALSE;
	unsigned int kvm_gen = (unsigned int)(gen & MMIO_SPTE_GEN_MASK);
	unsigned int spte_gen = (unsigned int)get_mmio_spte_generation(spte);

	trace_check_mmio_spte(vcpu->kvm, spte, kvm_gen, spte_gen);
	return kvm_gen == spte_gen;
}

/* Models handle_mmio_page_fault() for a direct MMU, without the per-vCPU MMIO info cache
 * (vcpu_cache_mmio_info()), so every MMIO exit reads the SPTE. Access is traced as
 * get_mmio_spte_access(), spte & shadow_mmio_access_mask: 0 with EPT (mmu.c, read in
 * ColinIanKing/linux-next at 1c60d04a). */
static int
handle_mmio_page_fault(struct kvm_vcpu *vcpu, gpa_t gpa)
{
	int level;
	u64 spte = kvm_tdp_mmu_get_walk_last(vcpu, gpa, &level);

	if (!is_mmio_spte(spte))
		return RET_PF_RETRY; /* zapped under us: let the guest fault again */
	if (!check_mmio_spte(vcpu, spte))
		return RET_PF_INVALID;
	/* addr 0: a direct MMU has no gva to report, so the kernel zeroes it before the trace */
	trace_handle_mmio_page_fault(vcpu->kvm, 0, get_mmio_spte_gfn(spte),
				     (unsigned int)(spte & shadow_mmio_access_mask));
	return RET_PF_EMULATE;
}

/* Count a fault by its RET_PF_* outcome (or as an error). */
static void
count_outcome(struct kvm *kvm, int r)
{
	static const SimCounter by_ret[] = {
		[RET_PF_RETRY] = SIM_CTR_FAULTS_RETRY,     [RET_PF_EMULATE] = SIM_CTR_FAULTS_EMULATE,
		[RET_PF_FIXED] = SIM_CTR_FAULTS_FIXED,     [RET_PF_SPURIOUS] = SIM_CTR_FAULTS_SPURIOUS,
		[RET_PF_WRITE_PROTECTED] = SIM_CTR_FAULTS_EMULATE,
	};

	if (r < 0)
		sim_count(kvm->counters, SIM_CTR_FAULTS_ERROR);
	else if (r < (int)G_N_ELEMENTS(by_ret) && r != RET_PF_CONTINUE && r != RET_PF_INVALID)
		sim_count(kvm->counters, by_ret[r]);
}

/* Models kvm_mmu_page_fault() in arch/x86/kvm/mmu/mmu.c: a stale MMIO SPTE falls through to an
 * ordinary fault that keeps PFERR_RSVD_MASK, so it never takes the fast path. The
 * PFERR_PRIVATE_ACCESS rule for SW-protected VMs (not for reserved, i.e. MMIO, faults) was read in
 * the 2024 patch that moved it here for 6.10 (Sean Christopherson's reply on the TDX series, its
 * code as found in the search index). */
int
kvm_mmu_page_fault(struct kvm_vcpu *vcpu, gpa_t gpa, u64 error_code)
{
	int r = RET_PF_INVALID;

	/* a SW-protected VM's access is private when the gfn is (emulated MMIO is shared-only) */
	if (!(error_code & PFERR_RSVD_MASK) && vcpu->kvm->vm_type == KVM_X86_SW_PROTECTED_VM &&
	    kvm_mem_is_private(vcpu->kvm, gpa >> PAGE_SHIFT))
		error_code |= PFERR_PRIVATE_ACCESS;
	if (error_code & PFERR_RSVD_MASK)
		r = handle_mmio_page_fault(vcpu, gpa);
	if (r == RET_PF_INVALID)
		r = kvm_mmu_do_page_fault(vcpu, gpa, error_code, FALSE);
	count_outcome(vcpu->kvm, r);
	sim_log_emit(vcpu->kvm->log, "sim_page_fault_done", "vcpu %d gfn %" G_GINT64_MODIFIER "x %s",
		     vcpu->vcpu_id, gpa >> PAGE_SHIFT, r < 0 ? g_strerror(-r) : ret_pf_name(r));
	return r;
}

/* The prefetch fault of kvm_arch_async_page_ready() (mmu.c, ColinIanKing/linux-next at
 * 1c60d04a): kvm_mmu_do_page_fault() with prefetch, outcome counted like any fault. */
int
kvm_mmu_prefault_page(struct kvm_vcpu *vcpu, gpa_t gpa, u64 error_code)
{
	int r = kvm_mmu_do_page_fault(vcpu, gpa, error_code, TRUE);

	count_outcome(vcpu->kvm, r);
	sim_log_emit(vcpu->kvm->log, "sim_page_fault_done", "vcpu %d gfn %" G_GINT64_MODIFIER
		     "x %s (async PF prefault)", vcpu->vcpu_id, gpa >> PAGE_SHIFT,
		     r < 0 ? g_strerror(-r) : ret_pf_name(r));
	return r;
}

/* Models handle_ept_violation() (vmx.c, read in ColinIanKing/linux-next at 046408cf, pre-6.16:
 * the body still in vmx.c) and __vmx_handle_ept_violation(), read
 * in torvalds/linux arch/x86/kvm/vmx/common.h at 1a2f09ae:
 * 6.15 or later (EPT_VIOLATION_PROT_MASK, the EPT_VIOLATION_GVA_IS_VALID test) and older than
 * the MBEC rework in kvm-x86/linux at 09c6f74e, after which a read no longer sets
 * PFERR_USER_MASK. */
int
kvm_handle_ept_violation(struct kvm_vcpu *vcpu, gpa_t gpa, u64 exit_qualification, u64 rip)
{
	struct kvm *kvm = vcpu->kvm;
	u64 error_code;

	vcpu->rip = rip;
	sim_count(kvm->counters, SIM_CTR_EXITS_EPT_VIOLATION);
	sim_log_emit(kvm->log, "kvm_page_fault",
		     "vcpu %d rip 0x%" G_GINT64_MODIFIER "x address 0x%016" G_GINT64_MODIFIER
		     "x error_code 0x%" G_GINT64_MODIFIER "x", vcpu->vcpu_id, rip, gpa,
		     exit_qualification);
	error_code = (exit_qualification & EPT_VIOLATION_ACC_READ) ? PFERR_USER_MASK : 0;
	error_code |= (exit_qualification & EPT_VIOLATION_ACC_WRITE) ? PFERR_WRITE_MASK : 0;
	error_code |= (exit_qualification & EPT_VIOLATION_ACC_INSTR) ? PFERR_FETCH_MASK : 0;
	if (exit_qualification &
	    (EPT_VIOLATION_PROT_READ | EPT_VIOLATION_PROT_WRITE | EPT_VIOLATION_PROT_EXEC))
		error_code |= PFERR_PRESENT_MASK;
	if (exit_qualification & EPT_VIOLATION_GVA_IS_VALID)
		error_code |= (exit_qualification & EPT_VIOLATION_GVA_TRANSLATED) ?
				      PFERR_GUEST_FINAL_MASK : BIT_ULL(33);
	return kvm_mmu_page_fault(vcpu, gpa, error_code);
}

/* Models handle_ept_misconfig() (vmx.c, read in ColinIanKing/linux-next at 046408cf): an MMIO
 * SPTE was hit; the RSVD path decides. No KVM_FAST_MMIO_BUS (kvmsim has no ioeventfd). */
int
kvm_handle_ept_misconfig(struct kvm_vcpu *vcpu, gpa_t gpa, u64 rip)
{
	vcpu->rip = rip;
	sim_count(vcpu->kvm->counters, SIM_CTR_EXITS_EPT_MISCONFIG);
	return kvm_mmu_page_fault(vcpu, gpa, PFERR_RSVD_MASK);
}
