/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * KVM's MMU-notifier handlers (virt/kvm/kvm_main.c): the primary MMU tells KVM that host
 * mappings of guest memory change. invalidate_range_start zaps SPTEs inside an mmu_invalidate
 * window and flushes remote TLBs before it drops mmu_lock; invalidate_range_end closes the window.
 *
 * Kernel functions named below were read in ColinIanKing/linux-next, virt/kvm/kvm_main.c at
 * 03b9d314 (6.18 cycle or later: EXPORT_SYMBOL_FOR_KVM_INTERNAL; aging lockless under
 * CONFIG_KVM_MMU_LOCKLESS_AGING), unless a comment says otherwise.
 */
#include "mmu/mmu-internal.h"

typedef gboolean (*gfn_handler_t)(struct kvm *kvm, struct kvm_gfn_range *range);
typedef void (*on_lock_fn_t)(struct kvm *kvm);

/* struct kvm_mmu_notifier_range, plus the yield-point names of its lock and unlock. */
struct kvm_mmu_notifier_range {
	u64 start;
	u64 end;
	gfn_handler_t handler;
	on_lock_fn_t on_lock;
	gboolean flush_on_ret;
	gboolean may_block;
	gboolean lockless;
	const char *lock_point;
	const char *unlock_point;
};

/*
 * Models kvm_handle_hva_range(): for every memslot the hva range touches, take mmu_lock for
 * write on the first one (and call on_lock), run the handler, flush before unlocking if asked.
 * If no memslot intersects, on_lock is never called: begin and end are both skipped.
 */
static gboolean
kvm_handle_hva_range(struct kvm *kvm, const struct kvm_mmu_notifier_range *range)
{
	gboolean ret = FALSE, locked = FALSE;
	guint64 idx = sim_srcu_read_lock(&kvm->srcu);
	struct kvm_memslots *slots = kvm->memslots;

	for (int i = 0; i < slots->used_slots; i++) {
		struct kvm_memory_slot *slot = slots->slots[i];
		hva_t slot_end = slot->userspace_addr + (slot->npages << PAGE_SHIFT);
		hva_t hva_start = MAX(range->start, slot->userspace_addr);
		hva_t hva_end = MIN(range->end, slot_end);

		if (hva_start >= hva_end)
			continue;
		struct kvm_gfn_range gfn_range = {
			.slot = slot,
			.start = hva_to_gfn_memslot(hva_start, slot),
			.end = hva_to_gfn_memslot(hva_end + PAGE_SIZE - 1, slot),
			.may_block = range->may_block,
			/* v6.18: notifiers are about the shared (HVA-backed) mappings */
			.attr_filter = KVM_FILTER_SHARED,
		};

		if (!locked) {
			locked = TRUE;
			if (!range->lockless)
				sim_write_lock(kvm->sched, &kvm->mmu_lock, range->lock_point);
			if (range->on_lock)
				range->on_lock(kvm);
			if (!range->handler)
				break;
		}
		ret |= range->handler(kvm, &gfn_range);
	}
	gboolean flush = range->flush_on_ret && ret && !kvm_mutated(kvm, SIM_MUT_NO_REMOTE_FLUSH);
	gboolean flush_late = kvm_mutated(kvm, SIM_MUT_FLUSH_AFTER_UNLOCK);

	if (flush && !flush_late)
		kvm_flush_remote_tlbs(kvm);
	if (locked && !range->lockless)
		sim_write_unlock(kvm->sched, &kvm->mmu_lock, range->unlock_point);
	if (flush && flush_late)
		kvm_flush_remote_tlbs(kvm);
	sim_srcu_read_unlock(&kvm->srcu, idx);
	return ret;
}

/* Models kvm_mmu_notifier_invalidate_range_start(). */
static void
kvm_mmu_notifier_invalidate_range_start(gpointer data, guint64 start, guint64 end)
{
	struct kvm *kvm = data;
	const struct kvm_mmu_notifier_range range = {
		.start = start,
		.end = end,
		.handler = kvm_mmu_unmap_gfn_range,
		.on_lock = kvm_mmu_invalidate_begin,
		.flush_on_ret = TRUE,
		.may_block = TRUE,
		.lock_point = "invalidate.mmu_lock",
		.unlock_point = "invalidate.mmu_unlock",
	};

	sim_log_emit(kvm->log, "kvm_unmap_hva_range",
		     "mmu notifier unmap range: %#016" G_GINT64_MODIFIER "x -- %#016"
		     G_GINT64_MODIFIER "x", start, end);
	sim_spin_lock(kvm->sched, &kvm->mn_invalidate_lock, "invalidate.mn_lock");
	kvm->mn_active_invalidate_count++;
	sim_spin_unlock(kvm->sched, &kvm->mn_invalidate_lock, "invalidate.mn_unlock");
	kvm_handle_hva_range(kvm, &range);
}

/* Models kvm_mmu_notifier_invalidate_range_end(). */
static void
kvm_mmu_notifier_invalidate_range_end(gpointer data, guint64 start, guint64 end)
{
	struct kvm *kvm = data;
	const struct kvm_mmu_notifier_range range = {
		.start = start,
		.end = end,
		.on_lock = kvm_mmu_invalidate_end,
		.may_block = TRUE,
		.lock_point = "invalidate.end",
		.unlock_point = "invalidate.end_unlock",
	};

	kvm_handle_hva_range(kvm, &range);
	sim_spin_lock(kvm->sched, &kvm->mn_invalidate_lock, "invalidate.mn_lock");
	g_warn_if_fail(kvm->mn_active_invalidate_count > 0);
	kvm->mn_active_invalidate_count--;
	/* a memslot update waiting for the count to reach 0 re-checks its condition itself */
	sim_spin_unlock(kvm->sched, &kvm->mn_invalidate_lock, "invalidate.mn_unlock");
}

/* Models kvm_age_gfn() (arch/x86/kvm/mmu/mmu.c, read in ColinIanKing/linux-next at 1c60d04a):
 * TDP MMU aging; the rmap pass it adds only when shadow pages may exist is left out (none here). */
static gboolean
kvm_age_gfn(struct kvm *kvm, struct kvm_gfn_range *range)
{
	return kvm_tdp_mmu_age_gfn_range(kvm, range);
}

/* Models kvm_test_age_gfn() (arch/x86/kvm/mmu/mmu.c, read in ColinIanKing/linux-next at 1c60d04a):
 * the TDP MMU's answer; its rmap fallback, for shadow pages, is left out as in kvm_age_gfn(). */
static gboolean
kvm_test_age_gfn(struct kvm *kvm, struct kvm_gfn_range *range)
{
	return kvm_tdp_mmu_test_age_gfn(kvm, range);
}

/* Models kvm_mmu_notifier_clear_young(): lockless on v6.15+ x86 (kvm_age_hva_range() sets
 * .lockless from CONFIG_KVM_MMU_LOCKLESS_AGING), and never flushes. */
static gboolean
kvm_mmu_notifier_clear_young(gpointer data, guint64 start, guint64 end)
{
	struct kvm *kvm = data;
	const struct kvm_mmu_notifier_range range = {
		.start = start,
		.end = end,
		.handler = kvm_age_gfn,
		.lockless = TRUE,
	};

	sim_log_emit(kvm->log, "kvm_age_hva",
		     "mmu notifier age hva: %#016" G_GINT64_MODIFIER "x -- %#016" G_GINT64_MODIFIER
		     "x", start, end);
	return kvm_handle_hva_range(kvm, &range);
}

/* Models kvm_mmu_notifier_test_young(). */
static gboolean
kvm_mmu_notifier_test_young(gpointer data, guint64 hva)
{
	struct kvm *kvm = data;
	const struct kvm_mmu_notifier_range range = {
		.start = hva,
		.end = hva + 1,
		.handler = kvm_test_age_gfn,
		.lockless = TRUE,
	};

	sim_log_emit(kvm->log, "kvm_test_age_hva", "mmu notifier test age hva: %#016"
		     G_GINT64_MODIFIER "x", hva);
	return kvm_handle_hva_range(kvm, &range);
}

const SimMmuNotifierOps kvm_mmu_notifier_ops = {
	.invalidate_range_start = kvm_mmu_notifier_invalidate_range_start,
	.invalidate_range_end = kvm_mmu_notifier_invalidate_range_end,
	.clear_young = kvm_mmu_notifier_clear_young,
	.test_young = kvm_mmu_notifier_test_young,
};
