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

/* Models kvm_pre_set_memory_attributes(): the range joins the invalidation unconditionally. */
static gboolean
kvm_pre_set_memory_attributes(struct kvm *kvm, struct kvm_gfn_range *range)
{
	kvm_mmu_invalidate_range_add(kvm, range->start, range->end);
	return kvm_arch_pre_set_memory_attributes(kvm, range);
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
		.on_lock = kvm_mmu_invalidate_end,
		.lock_point = "attr.end_lock",
		.unlock_point = "attr.end_unlock",
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
