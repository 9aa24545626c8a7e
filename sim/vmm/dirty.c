/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The VMM's dirty-log calls, as a migrating VMM makes them (QEMU's migration thread): turn
 * KVM_MEM_LOG_DIRTY_PAGES on for a memslot, then harvest with KVM_GET_DIRTY_LOG (and, with
 * manual protect, KVM_CLEAR_DIRTY_LOG of what it got). Both an exit-level trace's <dirty_log>
 * events and a run's --host-events dirtylog=N come here; docs/dirty-log.md.
 */
#include "sim/vmm/vmm-internal.h"

#include <errno.h>

#include "mmu/mmu.h"
#include "sim/core/log.h"

static const char *const op_names[] = {
	[SIM_VMM_DIRTY_GET] = "KVM_GET_DIRTY_LOG",
	[SIM_VMM_DIRTY_CLEAR] = "KVM_CLEAR_DIRTY_LOG",
	[SIM_VMM_DIRTY_MANUAL_PROTECT] = "KVM_ENABLE_CAP(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2)",
	[SIM_VMM_DIRTY_ENABLE] = "KVM_SET_USER_MEMORY_REGION2 +KVM_MEM_LOG_DIRTY_PAGES",
};

/* KVM_SET_USER_MEMORY_REGION2 of slot id as it is, with KVM_MEM_LOG_DIRTY_PAGES added. */
static int
enable(SimVmm *vmm, guint32 id)
{
	struct kvm_memory_slot *slot = kvm_id_to_memslot(vmm->kvm, (int)id);

	if (!slot)
		return -EINVAL;
	struct kvm_userspace_memory_region2 region = {
		.slot = id,
		.flags = (slot->flags & (KVM_MEM_READONLY | KVM_MEM_GUEST_MEMFD)) |
			 KVM_MEM_LOG_DIRTY_PAGES,
		.guest_phys_addr = slot->base_gfn << PAGE_SHIFT,
		.memory_size = slot->npages << PAGE_SHIFT,
		.userspace_addr = slot->userspace_addr,
	};

	return kvm_set_memory_region(vmm->kvm, &region);
}

/* One dirty-log call of the VMM on memslot id; its result and the gfns a GET reported go to
 * the log. The bitmap of the last GET is kept for a CLEAR. */
int
sim_vmm_dirty_log(SimVmm *vmm, SimVmmDirtyOp op, guint32 id)
{
	struct kvm_memory_slot *slot = kvm_id_to_memslot(vmm->kvm, (int)id);
	u64 npages = slot ? slot->npages : 0, base = slot ? slot->base_gfn : 0;
	const gsize bits = 8 * sizeof(gulong);
	GString *gfns = g_string_new(NULL);
	int r = 0;

	if (vmm->dirty_npages < npages) {
		g_free(vmm->dirty_bitmap);
		vmm->dirty_npages = npages;
		vmm->dirty_bitmap = g_new0(gulong, kvm_dirty_bitmap_words(npages));
	}
	switch (op) {
	case SIM_VMM_DIRTY_GET:
		r = kvm_vm_ioctl_get_dirty_log(vmm->kvm, (int)id, vmm->dirty_bitmap);
		for (u64 i = 0; !r && i < npages; i++)
			if (vmm->dirty_bitmap[i / bits] & (1ul << (i % bits)))
				g_string_append_printf(gfns, " 0x%" G_GINT64_MODIFIER "x", base + i);
		break;
	case SIM_VMM_DIRTY_CLEAR:
		r = vmm->dirty_bitmap ? kvm_vm_ioctl_clear_dirty_log(vmm->kvm, (int)id,
								      vmm->dirty_bitmap) : -EINVAL;
		break;
	case SIM_VMM_DIRTY_MANUAL_PROTECT:
		kvm_vm_ioctl_enable_manual_dirty_log_protect(vmm->kvm);
		break;
	case SIM_VMM_DIRTY_ENABLE:
		r = enable(vmm, id);
		break;
	}
	sim_log_emit(sim_sched_log(vmm->sched), "sim_vmm_ioctl", "%s slot %u: %d%s%s", op_names[op],
		     id, r, gfns->len ? " dirty" : "", gfns->str);
	g_string_free(gfns, TRUE);
	return r;
}

/* --host-events dirtylog on the data region (workloads/abi.h): harvest it if its memslot logs
 * (KVM_MEM_LOG_DIRTY_PAGES, as KVM has it now: a reboot's new VM, or an enable that failed,
 * leaves it off), else turn logging on (SimHostEvent.op says which, for the record). */
static int
host_dirty_log(gpointer data, SimHostEvent *event)
{
	SimVmm *vmm = data;
	const guint32 id = 1;

	if (vmm->rebooting)
		return -EBUSY;
	struct kvm_memory_slot *slot = kvm_id_to_memslot(vmm->kvm, (int)id);

	event->op = slot && (slot->flags & KVM_MEM_LOG_DIRTY_PAGES) ? SIM_VMM_DIRTY_GET :
								       SIM_VMM_DIRTY_ENABLE;
	return sim_vmm_dirty_log(vmm, event->op, id);
}

const SimHostDirtyLogOps sim_vmm_dirty_log_ops = {
	.perform = host_dirty_log,
};
