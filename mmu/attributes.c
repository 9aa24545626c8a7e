/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Per-VM memory attributes (the "legacy" conversion design, merged): KVM_SET_MEMORY_ATTRIBUTES
 * stores PRIVATE or shared per gfn in kvm->mem_attr_array, zapping the range in every memslot
 * inside an mmu_invalidate window first, exactly as an MMU-notifier invalidation does, so a fault
 * that read the old attribute retries.
 *
 * kvm_vm_ioctl_set_mem_attributes(), kvm_vm_set_mem_attributes(), kvm_handle_gfn_range(),
 * kvm_pre_set_memory_attributes() and kvm_supported_mem_attributes() were read in
 * ColinIanKing/linux-next, virt/kvm/kvm_main.c at 03b9d314 (6.18 cycle or later, see
 * invalidate.c). x86's kvm_arch_pre/post_set_memory_attributes() are in huge_page.c.
 */
#include "mmu/mmu-internal.h"

#include <errno.h>

#include "gmem/gmem.h"
#include "mmu/range_map.h"

/* Models kvm_supported_mem_attributes(): PRIVATE for VMs with private memory; with in-place
 * conversion (RFC v3, vm_memory_attributes off) the VM ioctl supports none. */
u64
kvm_supported_mem_attributes(struct kvm *kvm)
{
	if (!kvm || (kvm->has_private_mem && kvm->vm_memory_attributes))
		return KVM_MEMORY_ATTRIBUTE_PRIVATE;
	return 0;
}

/* Models kvm_get_memory_attributes() (include/linux/kvm_host.h); with in-place conversion the
 * gmem inode answers (RFC v3). Lockless: callers rely on the mmu_invalidate_seq recheck. */
u64
kvm_get_memory_attributes(struct kvm *kvm, gfn_t gfn)
{
	if (!kvm->vm_memory_attributes)
		return kvm_gmem_get_memory_attributes(kvm, gfn);
	return kvm_range_map_get(kvm->mem_attr_array, gfn);
}

/* Models kvm_mem_is_private() (include/linux/kvm_host.h). */
gboolean
kvm_mem_is_private(struct kvm *kvm, gfn_t gfn)
{
	return (kvm_get_memory_attributes(kvm, gfn) & KVM_MEMORY_ATTRIBUTE_PRIVATE) != 0;
}

typedef gboolean (*gfn_range_handler_t)(struct kvm *kvm, struct kvm_gfn_range *range);

/* The gfn flavour of struct kvm_mmu_notifier_range. */
struct kvm_gfn_notifier_range {
	gfn_t start;
	gfn_t end;
	u64 attributes;
	gfn_range_handler_t handler;
	void (*on_lock)(struct kvm *kvm);
	gboolean flush_on_ret;
	const char *lock_point;
	const char *unlock_point;
};

/* Models kvm_handle_gfn_range(): every memslot the gfn range touches; mmu_lock (write) and
 * on_lock at the first one; flush before unlocking if asked. */
static void
kvm_handle_gfn_range(struct kvm *kvm, const struct kvm_gfn_notifier_range *range)
{
	gboolean found_memslot = FALSE, ret = FALSE;
	struct kvm_memslots *slots = kvm->memslots;

	for (int i = 0; i < slots->used_slots; i++) {
		struct kvm_memory_slot *slot = slots->slots[i];
		struct kvm_gfn_range gfn_range = {
			.slot = slot,
			.start = MAX(range->start, slot->base_gfn),
			.end = MIN(range->end, slot->base_gfn + slot->npages),
			.attributes = range->attributes,
			.may_block = TRUE,
		};

		if (gfn_range.start >= gfn_range.end)
			continue;
		if (!found_memslot) {
			found_memslot = TRUE;
			sim_write_lock(kvm->sched, &kvm->mmu_lock, range->lock_point);
			range->on_lock(kvm);
		}
		ret |= range->handler(kvm, &gfn_range);
	}
	if (range->flush_on_ret && ret)
		kvm_flush_remote_tlbs(kvm);
	if (found_memslot)
		sim_write_unlock(kvm->sched, &kvm->mmu_lock, range->unlock_point);
}

/* Models kvm_pre_set_memory_attributes(): the range joins the invalidation unconditionally.
 * pre-69c7916df569: only a slot that can be private (kvm_slot_can_be_private(): it has a
 * guest_memfd) had its range added, by the arch hook's kvm_mmu_unmap_gfn_range(); the zap itself
 * is kept as its sibling fix made it, so only the missing range shows. */
static gboolean
kvm_pre_set_memory_attributes(struct kvm *kvm, struct kvm_gfn_range *range)
{
	if (!kvm_mutated(kvm, SIM_MUT_PRE_69C7916DF569) || kvm_slot_has_gmem(range->slot))
		kvm_mmu_invalidate_range_add(kvm, range->start, range->end);
	return kvm_arch_pre_set_memory_attributes(kvm, range);
}

/* pre-attr-end-unlocked: kvm_mmu_invalidate_end() with mmu_lock not held. Its seq++ and
 * in_progress-- are each a load and a store that another CPU's locked begin or end can come
 * between: the yield point attr.end_unlock, which the faithful model reaches with the window
 * ended (the post pass then unlocks at attr.post_unlock). The lockdep assertion is waived. */
static void
kvm_mmu_invalidate_end_unlocked(struct kvm *kvm)
{
	unsigned long seq = kvm->mmu_invalidate_seq;
	long in_progress = kvm->mmu_invalidate_in_progress;

	sim_yield(kvm->sched, "attr.end_unlock");
	kvm->mmu_invalidate_seq = seq + 1;
	kvm->mmu_invalidate_in_progress = in_progress - 1;
	if (kvm->mmu_invalidate_in_progress < 0)
		kvm_invariant_failed(kvm, "invalidate_unbalanced", "in_progress went negative");
	sim_log_emit(kvm->log, "sim_invalidate_end", "seq %lu in_progress %ld (mmu_lock not held)",
		     kvm->mmu_invalidate_seq, kvm->mmu_invalidate_in_progress);
}

/* The post pass's on_lock under pre-attr-end-unlocked: nothing (the end runs after unlock). */
static void
kvm_null_on_lock(struct kvm *kvm)
{
	(void)kvm;
}

/* Models kvm_vm_set_mem_attributes(): nothing to do if the range has them already; otherwise
 * zap under an open window, store, close the window; slots_lock throughout. */
static int
kvm_vm_set_mem_attributes(struct kvm *kvm, gfn_t start, gfn_t end, u64 attributes)
{
	const struct kvm_gfn_notifier_range pre_set_range = {
		.start = start,
		.end = end,
		.attributes = attributes,
		.handler = kvm_pre_set_memory_attributes,
		.on_lock = kvm_mmu_invalidate_begin,
		.flush_on_ret = TRUE,
		.lock_point = "attr.mmu_lock",
		.unlock_point = "attr.mmu_unlock",
	};
	const struct kvm_gfn_notifier_range post_set_range = {
		.start = start,
		.end = end,
		.attributes = attributes,
		.handler = kvm_arch_post_set_memory_attributes,
		.on_lock = kvm_mutated(kvm, SIM_MUT_PRE_ATTR_END_UNLOCKED) ? kvm_null_on_lock :
									 kvm_mmu_invalidate_end,
		.lock_point = "attr.end_lock",
		.unlock_point = kvm_mutated(kvm, SIM_MUT_PRE_ATTR_END_UNLOCKED) ? "attr.post_unlock" :
										  "attr.end_unlock",
	};

	/* trace_kvm_vm_set_mem_attributes() (include/trace/events/kvm.h): the format of the
	 * 2023 guest_memfd series that added it, unchanged in later copies found in the index */
	sim_log_emit(kvm->log, "kvm_vm_set_mem_attributes",
		     "%#016" G_GINT64_MODIFIER "x -- %#016" G_GINT64_MODIFIER "x [0x%"
		     G_GINT64_MODIFIER "x]", start, end, attributes);
	sim_mutex_lock(kvm->sched, &kvm->slots_lock, "attr.slots_lock");
	if (kvm_range_map_find_not(kvm->mem_attr_array, start, end, attributes) == end)
		goto out_unlock;
	kvm_handle_gfn_range(kvm, &pre_set_range);
	sim_yield(kvm->sched, "attr.store");
	kvm_mmu_check_range_unmapped(kvm, start, end, "converted_page_still_mapped");
	u64 changed = kvm_range_map_count_not(kvm->mem_attr_array, start, end, attributes);

	kvm_range_map_set(kvm->mem_attr_array, start, end, attributes);
	sim_count_add(kvm->counters, (attributes & KVM_MEMORY_ATTRIBUTE_PRIVATE) ?
			     SIM_CTR_GMEM_CONVERTED_TO_PRIVATE : SIM_CTR_GMEM_CONVERTED_TO_SHARED,
		      changed);
	kvm_handle_gfn_range(kvm, &post_set_range);
	if (kvm_mutated(kvm, SIM_MUT_PRE_ATTR_END_UNLOCKED))
		kvm_mmu_invalidate_end_unlocked(kvm);
out_unlock:
	sim_mutex_unlock(kvm->sched, &kvm->slots_lock, "attr.slots_unlock");
	return 0;
}

/* Models kvm_vm_ioctl_set_mem_attributes(): the checks in the kernel's order. */
int
kvm_vm_ioctl_set_mem_attributes(struct kvm *kvm, const struct kvm_memory_attributes *attrs)
{
	if (attrs->flags)
		return -EINVAL;
	if (attrs->attributes & ~kvm_supported_mem_attributes(kvm))
		return -EINVAL;
	if (attrs->size == 0 || attrs->address + attrs->size < attrs->address)
		return -EINVAL;
	if ((attrs->address | attrs->size) & (PAGE_SIZE - 1))
		return -EINVAL;
	return kvm_vm_set_mem_attributes(kvm, attrs->address >> PAGE_SHIFT,
					 (attrs->address + attrs->size) >> PAGE_SHIFT,
					 attrs->attributes);
}
