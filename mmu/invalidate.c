/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The mmu_invalidate_* protocol (virt/kvm/kvm_main.c, include/linux/kvm_host.h). An invalidation
 * raises in_progress and grows a range under the write lock at begin; it bumps seq and only then
 * drops in_progress at end. A fault snapshots seq before it looks at the host page and rechecks
 * under mmu_lock: an in-progress range covering its gfn or any change of seq means retry.
 *
 * kvm_mmu_invalidate_begin(), _range_add(), _end() and kvm_mmu_unmap_gfn_range() were read in
 * ColinIanKing/linux-next, virt/kvm/kvm_main.c at 03b9d314 (6.18 cycle or later: it exports with
 * EXPORT_SYMBOL_FOR_KVM_INTERNAL); mmu_invalidate_retry_gfn() and mmu_invalidate_retry_gfn_unsafe()
 * in include/linux/kvm_host.h at a66ec810 (6.18 or later: kvm_memslot_is_gmem_only()).
 */
#include "mmu/mmu-internal.h"

/* Models kvm_mmu_invalidate_begin(). */
void
kvm_mmu_invalidate_begin(struct kvm *kvm)
{
	g_assert(sim_rwlock_write_held(&kvm->mmu_lock));
	kvm->mmu_invalidate_in_progress++;
	if (kvm_mutated(kvm, SIM_MUT_SEQ_BUMP_AT_BEGIN))
		kvm->mmu_invalidate_seq++;
	if (kvm->mmu_invalidate_in_progress == 1) {
		kvm->mmu_invalidate_range_start = INVALID_GPA;
		kvm->mmu_invalidate_range_end = INVALID_GPA;
	}
	sim_count(kvm->counters, SIM_CTR_INVALIDATIONS);
	sim_log_emit(kvm->log, "sim_invalidate_begin", "seq %lu in_progress %ld",
		     kvm->mmu_invalidate_seq, kvm->mmu_invalidate_in_progress);
}

/* Models kvm_mmu_invalidate_range_add(): the range is a union until in_progress drops to 0. */
void
kvm_mmu_invalidate_range_add(struct kvm *kvm, gfn_t start, gfn_t end)
{
	g_assert(sim_rwlock_write_held(&kvm->mmu_lock));
	g_warn_if_fail(kvm->mmu_invalidate_in_progress > 0);
	if (kvm->mmu_invalidate_range_start == INVALID_GPA) {
		kvm->mmu_invalidate_range_start = start;
		kvm->mmu_invalidate_range_end = end;
	} else {
		kvm->mmu_invalidate_range_start = MIN(kvm->mmu_invalidate_range_start, start);
		kvm->mmu_invalidate_range_end = MAX(kvm->mmu_invalidate_range_end, end);
	}
	sim_log_emit(kvm->log, "sim_invalidate_range_add",
		     "gfn 0x%" G_GINT64_MODIFIER "x-0x%" G_GINT64_MODIFIER "x range 0x%"
		     G_GINT64_MODIFIER "x-0x%" G_GINT64_MODIFIER "x", start, end,
		     kvm->mmu_invalidate_range_start, kvm->mmu_invalidate_range_end);
}

/* Models kvm_mmu_invalidate_end(): seq moves first, then in_progress drops. */
void
kvm_mmu_invalidate_end(struct kvm *kvm)
{
	gboolean swapped = kvm_mutated(kvm, SIM_MUT_SEQ_BUMP_ORDER_SWAPPED);
	gboolean bump = !kvm_mutated(kvm, SIM_MUT_SEQ_BUMP_AT_BEGIN);

	g_assert(sim_rwlock_write_held(&kvm->mmu_lock));
	if (bump && !swapped)
		kvm->mmu_invalidate_seq++;
	kvm->mmu_invalidate_in_progress--;
	if (bump && swapped)
		kvm->mmu_invalidate_seq++;
	if (kvm->mmu_invalidate_in_progress < 0)
		kvm_invariant_failed(kvm, "invalidate_unbalanced", "in_progress went negative");
	/* the kernel's WARN_ON_ONCE: not adding a range between begin and end is a KVM bug */
	if (kvm->mmu_invalidate_range_start == INVALID_GPA)
		kvm_invariant_failed(kvm, "invalidate_without_range",
				     "invalidate_end with no range added since begin");
	sim_log_emit(kvm->log, "sim_invalidate_end", "seq %lu in_progress %ld",
		     kvm->mmu_invalidate_seq, kvm->mmu_invalidate_in_progress);
}

/* Models kvm_unmap_gfn_range() (arch/x86/kvm/mmu/mmu.c, read in ColinIanKing/linux-next at
 * 1c60d04a): its lockdep assertion (an invalidation in progress or slots_lock held) and the TDP
 * MMU zap; no rmaps, no APIC-access-page reload. The range's attr_filter picks roots only for VMs
 * with mirrored TDP (kvm_gfn_range_filter_to_root_types(), tdp_mmu.h: not read); kvmsim's VMs
 * have none, so every root is zapped whatever the filter says, private and shared SPTEs alike. */
gboolean
kvm_unmap_gfn_range(struct kvm *kvm, struct kvm_gfn_range *range)
{
	g_assert(kvm->mmu_invalidate_in_progress || sim_mutex_held(&kvm->slots_lock));
	return kvm_tdp_mmu_unmap_gfn_range(kvm, range, FALSE);
}

/* Models kvm_mmu_unmap_gfn_range() in virt/kvm/kvm_main.c: record the range, then zap. */
gboolean
kvm_mmu_unmap_gfn_range(struct kvm *kvm, struct kvm_gfn_range *range)
{
	if (!kvm_mutated(kvm, SIM_MUT_NO_RANGE_ADD))
		kvm_mmu_invalidate_range_add(kvm, range->start, range->end);
	return kvm_unmap_gfn_range(kvm, range);
}

/* Models mmu_invalidate_retry_gfn(): mmu_lock must be held (read or write). */
int
mmu_invalidate_retry_gfn(struct kvm *kvm, unsigned long mmu_seq, gfn_t gfn)
{
	/* lockdep_assert_held(), waived for the mutation that moves the check out of the lock */
	g_assert(sim_rwlock_held(&kvm->mmu_lock) ||
		 kvm_mutated(kvm, SIM_MUT_STALE_CHECK_UNLOCKED));
	if (kvm->mmu_invalidate_in_progress &&
	    !kvm_mutated(kvm, SIM_MUT_STALE_IGNORES_IN_PROGRESS)) {
		if (kvm->mmu_invalidate_range_start == INVALID_GPA ||
		    kvm->mmu_invalidate_range_end == INVALID_GPA) {
			/* the kernel WARNs (a begin whose range_add did not follow) and retries */
			kvm_invariant_failed(kvm, "invalidate_without_range",
					     "a fault found an invalidation in progress with no "
					     "range");
			return 1;
		}
		if (gfn >= kvm->mmu_invalidate_range_start && gfn < kvm->mmu_invalidate_range_end)
			return 1;
	}
	return kvm->mmu_invalidate_seq != mmu_seq;
}

/* Models mmu_invalidate_retry_gfn_unsafe(): a lockless hint, always followed by the real check
 * (READ_ONCE of in_progress and seq in the kernel; the range is read plainly). */
gboolean
mmu_invalidate_retry_gfn_unsafe(struct kvm *kvm, unsigned long mmu_seq, gfn_t gfn)
{
	if (kvm->mmu_invalidate_in_progress && gfn >= kvm->mmu_invalidate_range_start &&
	    gfn < kvm->mmu_invalidate_range_end)
		return TRUE;
	return kvm->mmu_invalidate_seq != mmu_seq;
}
