/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The PROPOSED userspace fault exits of post-copy (docs/postcopy.md, guest-memfd.md §4.2-§4.3):
 *
 * Exit-on-missing, Anish Moorthy's series: v6 06/14 and 07/14 (kvm list, 2023-11-09) read in the
 * search index's list archive (__gfn_to_pfn_memslot() forcing atomic and dropping async for
 * such a slot; the x86 stage-2 handler annotating its -EFAULT); of v7 (2024-02-15) only 09/14
 * (arm64) and the review of 06/14 were found, which keep those names. A memslot flag
 * KVM_MEM_EXIT_ON_MISSING (bit 3) makes guest-context stage-2 faults look the page up atomically
 * (GUP-fast only, no async PF); a miss is an annotated KVM_EXIT_MEMORY_FAULT (flags 0 or
 * PRIVATE) with -EFAULT. KVM's own accesses (kvm_vcpu_map(), emulation) pass
 * can_exit_on_missing=false and still sleep in GUP. The flag excludes KVM_MEM_READONLY.
 *
 * KVM Userfault, James Houghton's v3 (kvm list, 2025-06-18, "[PATCH v3 nn/15]", with Sean
 * Christopherson's rework of 04/15 and the x86 patch as quoted in its review thread):
 * KVM_MEM_USERFAULT (bit 3) and a per-slot bitmap in the VMM's memory; kvm_do_userfault(), first
 * thing in __kvm_mmu_faultin_pfn(), reads the long holding the gfn's bit and, if set, prepares
 * the memory-fault exit with KVM_MEMORY_EXIT_FLAG_USERFAULT. While the flag is on only 4K
 * mappings are made (kvm_mmu_hugepage_adjust()); turning it on zaps the slot
 * (kvm_arch_userfault_enabled() -> kvm_arch_flush_shadow_memslot()); a guest_memfd slot, which
 * v3 04/15 lets change anything but its place, may in effect change only this flag (no other is
 * valid on it). Setting a bit later leaves mapped pages mapped.
 */
#include "mmu/mmu-internal.h"

#include <errno.h>

/* Models kvm_is_slot_exit_on_missing() (v6 06/14, include/linux/kvm_host.h). */
gboolean
kvm_is_slot_exit_on_missing(const struct kvm *kvm, const struct kvm_memory_slot *slot)
{
	return kvm->postcopy_uapi == KVM_POSTCOPY_UAPI_EXIT_ON_MISSING && slot &&
	       (slot->flags & KVM_MEM_EXIT_ON_MISSING);
}

/* Models kvm_is_userfault_memslot() (v3 04/15, include/linux/kvm_host.h). */
gboolean
kvm_is_userfault_memslot(const struct kvm *kvm, const struct kvm_memory_slot *slot)
{
	return kvm->postcopy_uapi == KVM_POSTCOPY_UAPI_USERFAULT && slot &&
	       (slot->flags & KVM_MEM_USERFAULT);
}

/*
 * Models kvm_do_userfault() (v3 04/15 as reworked in review): TRUE means the caller returns
 * -EFAULT. An unreadable bitmap (no pointer here) is a bare -EFAULT without annotation. The bit
 * is read once (__get_user() of its long); a yield point after the read lets the VMM clear it
 * before the exit is made: the exit then reaches the VMM for a page that is already there.
 */
gboolean
kvm_do_userfault(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	struct kvm *kvm = vcpu->kvm;
	struct kvm_memory_slot *slot = fault->slot;

	if (!kvm_is_userfault_memslot(kvm, slot))
		return FALSE;
	if (!slot->userfault_bitmap) {
		vcpu->run.exit_reason = 0;
		return TRUE;
	}
	gfn_t offset = fault->gfn - slot->base_gfn;
	unsigned long chunk = __atomic_load_n(&slot->userfault_bitmap[offset / BITS_PER_LONG],
					      __ATOMIC_RELAXED);

	if (!(chunk & (1ul << (offset % BITS_PER_LONG))))
		return FALSE;
	sim_yield(kvm->sched, "userfault.bit_set");
	sim_log_emit(kvm->log, "sim_userfault_exit", "vcpu %d gfn %" G_GINT64_MODIFIER "x",
		     vcpu->vcpu_id, fault->gfn);
	kvm_mmu_prepare_memory_fault_exit_flags(vcpu, fault, KVM_MEMORY_EXIT_FLAG_USERFAULT);
	return TRUE;
}

/*
 * The memslot rules of both series, for check_memory_region_flags() and
 * kvm_set_memory_region(): bit 3 only on a kernel with one of them; EXIT_ON_MISSING never with
 * READONLY (v7); a change of an existing guest_memfd slot only toggling KVM_MEM_USERFAULT
 * (v3 04/15). Returns 0 or -EINVAL.
 */
int
kvm_postcopy_check_flags(const struct kvm *kvm, u32 flags, const struct kvm_memory_slot *old)
{
	if (!(flags & KVM_MEM_EXIT_ON_MISSING) && !(old && (old->flags & KVM_MEM_EXIT_ON_MISSING)))
		return 0;
	switch (kvm->postcopy_uapi) {
	case KVM_POSTCOPY_UAPI_EXIT_ON_MISSING:
		return (flags & KVM_MEM_READONLY) ? -EINVAL : 0;
	case KVM_POSTCOPY_UAPI_USERFAULT:
		return 0;
	default:
		return (flags & KVM_MEM_EXIT_ON_MISSING) ? -EINVAL : 0;
	}
}

/* A change of a guest_memfd slot that only toggles KVM_MEM_USERFAULT (v3 allows it). */
gboolean
kvm_userfault_flags_only(const struct kvm *kvm, const struct kvm_memory_slot *old, u32 flags)
{
	return kvm->postcopy_uapi == KVM_POSTCOPY_UAPI_USERFAULT &&
	       (old->flags & 0xffff) != flags &&
	       ((old->flags & 0xffff) ^ flags) == KVM_MEM_USERFAULT;
}
