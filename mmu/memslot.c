/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Memslots with KVM_SET_USER_MEMORY_REGION2 semantics (virt/kvm/kvm_main.c), for anonymous
 * memory and guest_memfd.
 * Every change publishes a new immutable struct kvm_memslots and waits with synchronize_srcu() for
 * the vCPUs still using the old one. DELETE and MOVE first publish the old slot flagged INVALID
 * (faults that see it retry), then zap the slot's SPTEs: not an mmu_invalidate event — the SRCU
 * sync guarantees that every fault that used the old, valid slot has finished.
 *
 * Kernel functions named below were read in ColinIanKing/linux-next, virt/kvm/kvm_main.c at
 * 03b9d314 (6.18 cycle or later: EXPORT_SYMBOL_FOR_KVM_INTERNAL), include/linux/kvm_host.h at
 * a66ec810 (6.18 or later: kvm_memslot_is_gmem_only()) and arch/x86/kvm/mmu/mmu.c at 1c60d04a
 * (see fault.c), unless a comment says otherwise.
 */
#include "mmu/mmu-internal.h"

#include <errno.h>
#include <string.h>

#include "gmem/gmem.h"

enum kvm_mr_change {
	KVM_MR_CREATE,
	KVM_MR_DELETE,
	KVM_MR_MOVE,
	KVM_MR_FLAGS_ONLY,
};

static const char *const change_names[] = { "create", "delete", "move", "flags" };

/* Memslot generations allocated and not yet freed, in every VM of the process (a debug count). */
static gint live_generations;

/* A generation counted live until kvm_memslots_free(). */
struct kvm_memslots *
kvm_memslots_new(void)
{
	g_atomic_int_inc(&live_generations);
	return g_new0(struct kvm_memslots, 1);
}

/* How many generations are live: after every VM is destroyed, 0 (teardown frees them all). */
guint
kvm_memslots_live(void)
{
	return (guint)g_atomic_int_get(&live_generations);
}

void
kvm_memslots_free(struct kvm_memslots *slots)
{
	if (!slots)
		return;
	g_atomic_int_add(&live_generations, -1);
	for (int i = 0; i < slots->used_slots; i++)
		g_free(slots->slots[i]);
	g_free(slots);
}

/* Models hva_to_gfn_memslot() in include/linux/kvm_host.h. */
gfn_t
hva_to_gfn_memslot(hva_t hva, const struct kvm_memory_slot *slot)
{
	return slot->base_gfn + ((hva - slot->userspace_addr) >> PAGE_SHIFT);
}

/* Models __gfn_to_hva_memslot(). */
hva_t
gfn_to_hva_memslot(const struct kvm_memory_slot *slot, gfn_t gfn)
{
	return slot->userspace_addr + ((gfn - slot->base_gfn) << PAGE_SHIFT);
}

/* Models search_memslots() (include/linux/kvm_host.h, a walk of the gfn tree): a binary search
 * of the slots sorted by base_gfn; the slot that holds gfn, or NULL. */
static struct kvm_memory_slot *
search_memslots(struct kvm_memslots *slots, gfn_t gfn)
{
	int lo = 0, hi = slots->used_slots;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		struct kvm_memory_slot *slot = slots->slots[mid];

		if (gfn < slot->base_gfn)
			hi = mid;
		else if (gfn >= slot->base_gfn + slot->npages)
			lo = mid + 1;
		else
			return slot;
	}
	return NULL;
}

/* Models try_get_memslot() (include/linux/kvm_host.h): slot if it holds gfn, else NULL. */
static struct kvm_memory_slot *
try_get_memslot(struct kvm_memory_slot *slot, gfn_t gfn)
{
	if (slot && gfn >= slot->base_gfn && gfn < slot->base_gfn + slot->npages)
		return slot;
	return NULL;
}

/* Models kvm_vcpu_gfn_to_memslot() (virt/kvm/kvm_main.c, read in ColinIanKing/linux-next at
 * 03b9d314): the vCPU's last used slot first, forgotten when the memslots' generation moves,
 * else the search. The caller holds kvm->srcu. */
struct kvm_memory_slot *
kvm_vcpu_gfn_to_memslot(struct kvm_vcpu *vcpu, gfn_t gfn)
{
	struct kvm_memslots *slots = vcpu->kvm->memslots;
	struct kvm_memory_slot *slot;

	if (G_UNLIKELY(slots->generation != vcpu->last_used_slot_gen)) {
		vcpu->last_used_slot = NULL;
		vcpu->last_used_slot_gen = slots->generation;
	}
	slot = try_get_memslot(vcpu->last_used_slot, gfn);
	if (slot)
		return slot;
	slot = search_memslots(slots, gfn);
	if (slot)
		vcpu->last_used_slot = slot;
	return slot;
}

/* Models gfn_to_memslot() (kvm_main.c at 03b9d314): the caller holds kvm->srcu or
 * slots_lock. */
struct kvm_memory_slot *
gfn_to_memslot(struct kvm *kvm, gfn_t gfn)
{
	return search_memslots(kvm->memslots, gfn);
}

struct kvm_memory_slot *
kvm_id_to_memslot(struct kvm *kvm, int id)
{
	for (int i = 0; i < kvm->memslots->used_slots; i++)
		if (kvm->memslots->slots[i]->id == id)
			return kvm->memslots->slots[i];
	return NULL;
}

/* A copy of the current memslots with slot id replaced by repl (NULL: removed). */
static struct kvm_memslots *
memslots_with(struct kvm *kvm, int id, const struct kvm_memory_slot *repl)
{
	struct kvm_memslots *next = kvm_memslots_new();
	struct kvm_memslots *cur = kvm->memslots;

	for (int i = 0; i < cur->used_slots; i++) {
		if (cur->slots[i]->id != id)
			next->slots[next->used_slots++] = g_memdup2(cur->slots[i], sizeof(*repl));
	}
	if (repl) {
		int pos = next->used_slots;

		while (pos > 0 && next->slots[pos - 1]->base_gfn > repl->base_gfn) {
			next->slots[pos] = next->slots[pos - 1];
			pos--;
		}
		next->slots[pos] = g_memdup2(repl, sizeof(*repl));
		next->used_slots++;
	}
	return next;
}

static gboolean
no_active_invalidations(gpointer data)
{
	return ((struct kvm *)data)->mn_active_invalidate_count == 0;
}

/* Models kvm_arch_memslots_updated() (x86.c, read in ColinIanKing/linux-next at 1c60d04a):
 * kvm_mmu_invalidate_mmio_sptes() (mmu.c) zaps every root when the MMIO generation (its
 * address-space bits aside) wraps to 0, as old MMIO SPTEs could look current again; then every
 * vCPU is kicked, to re-initialise its steal-time cache (which kvmsim does not model): one in
 * guest mode exits (kvm_vcpu_kick()). */
static void
kvm_arch_memslots_updated(struct kvm *kvm, u64 gen)
{
	gen &= MMIO_SPTE_GEN_MASK;
	gen &= ~((u64)KVM_ARCH_NR_MEMSLOT_AS_IDS - 1);
	if (gen == 0)
		kvm_mmu_zap_all_fast(kvm);
	for (int i = 0; i < kvm->online_vcpus; i++)
		kvm_vcpu_kick(kvm->vcpus[i]);
}

/*
 * Models kvm_swap_active_memslots() (virt/kvm/kvm_main.c, read in ColinIanKing/linux-next at
 * 03b9d314; its synchronize_srcu_expedited() is sim_synchronize_srcu()): wait until no MMU-notifier
 * invalidation is between start and end (their begin/end must see the same memslots), publish
 * with KVM_MEMSLOT_GEN_UPDATE_IN_PROGRESS set in the generation, wait for SRCU readers, then
 * step the generation by the number of address spaces with the flag cleared. MMIO SPTEs checked
 * while the flag is set are stale (check_mmio_spte()).
 */
static void
kvm_swap_active_memslots(struct kvm *kvm, struct kvm_memslots *next)
{
	u64 gen = kvm->memslots->generation;

	g_assert(!(gen & KVM_MEMSLOT_GEN_UPDATE_IN_PROGRESS));
	next->generation = gen | KVM_MEMSLOT_GEN_UPDATE_IN_PROGRESS;
	kvm->memslots_swapping[0] = next;
	sim_spin_lock(kvm->sched, &kvm->mn_invalidate_lock, "memslot.mn_lock");
	while (kvm->mn_active_invalidate_count) {
		sim_spin_unlock(kvm->sched, &kvm->mn_invalidate_lock, "memslot.mn_unlock");
		/* rcuwait_wait_event(): schedule() until woken */
		sim_wait_sleeping(kvm->sched, "mn_memslots_update_rcuwait", no_active_invalidations,
				  kvm);
		sim_spin_lock(kvm->sched, &kvm->mn_invalidate_lock, "memslot.mn_lock");
	}
	struct kvm_memslots *old = kvm->memslots;

	kvm->memslots = next;
	kvm->memslots_swapping[0] = NULL;
	kvm->memslots_swapping[1] = old;
	sim_spin_unlock(kvm->sched, &kvm->mn_invalidate_lock, "memslot.mn_unlock");
	sim_synchronize_srcu(kvm->sched, &kvm->srcu, "memslot.synchronize_srcu");
	gen = (next->generation & ~KVM_MEMSLOT_GEN_UPDATE_IN_PROGRESS) + KVM_ARCH_NR_MEMSLOT_AS_IDS;
	kvm_arch_memslots_updated(kvm, gen);
	next->generation = gen;
	kvm->memslots_swapping[1] = NULL;
	kvm_memslots_free(old);
}

/*
 * Models kvm_arch_flush_shadow_memslot(): with KVM_X86_QUIRK_SLOT_ZAP_ALL (the default), a fast
 * zap of every root; with the quirk off (as for TDX), zap only the slot's leaf SPTEs and flush.
 * Either way outside any mmu_invalidate window (slots_lock held instead).
 */
static void
kvm_arch_flush_shadow_memslot(struct kvm *kvm, struct kvm_memory_slot *slot)
{
	if (kvm->slot_zap_all) {
		kvm_mmu_zap_all_fast(kvm);
		return;
	}
	struct kvm_gfn_range range = {
		.slot = slot,
		.start = slot->base_gfn,
		.end = slot->base_gfn + slot->npages,
		.may_block = TRUE,
	};

	sim_write_lock(kvm->sched, &kvm->mmu_lock, "memslot.mmu_lock");
	if (kvm_unmap_gfn_range(kvm, &range))
		kvm_flush_remote_tlbs(kvm);
	sim_write_unlock(kvm->sched, &kvm->mmu_lock, "memslot.mmu_unlock");
}

/* Models kvm_set_memslot(): publish the change in the kernel's steps. */
static void
kvm_set_memslot(struct kvm *kvm, const struct kvm_memory_slot *old,
		const struct kvm_memory_slot *new, enum kvm_mr_change change)
{
	int id = old ? old->id : new->id;
	/* old is freed with its generation by the first swap below */
	struct kvm_memory_slot deleted = old ? *old : (struct kvm_memory_slot){ 0 };

	sim_log_emit(kvm->log, "sim_memslot",
		     "%s slot %d gfn 0x%" G_GINT64_MODIFIER "x npages 0x%" G_GINT64_MODIFIER
		     "x hva 0x%" G_GINT64_MODIFIER "x", change_names[change], id,
		     (new ? new : old)->base_gfn, (new ? new : old)->npages,
		     (new ? new : old)->userspace_addr);
	if (change == KVM_MR_DELETE || change == KVM_MR_MOVE) {
		struct kvm_memory_slot invalid = *old;

		invalid.flags |= KVM_MEMSLOT_INVALID;
		kvm_swap_active_memslots(kvm, memslots_with(kvm, id, &invalid));
		kvm_arch_flush_shadow_memslot(kvm, kvm_id_to_memslot(kvm, id));
	}
	kvm_swap_active_memslots(kvm, memslots_with(kvm, id, change == KVM_MR_DELETE ? NULL : new));
	/* PROPOSED KVM Userfault v3, kvm_commit_memory_region(): turning the flag on zaps the slot
	 * (kvm_arch_userfault_enabled(), by default kvm_arch_flush_shadow_memslot()) */
	if (change == KVM_MR_FLAGS_ONLY && !kvm_is_userfault_memslot(kvm, &deleted) &&
	    kvm_is_userfault_memslot(kvm, new))
		kvm_arch_flush_shadow_memslot(kvm, kvm_id_to_memslot(kvm, id));
	/* kvm_commit_memory_region() -> kvm_free_memslot(): a deleted slot unbinds its gmem */
	if (change == KVM_MR_DELETE && (deleted.flags & KVM_MEM_GUEST_MEMFD))
		kvm_gmem_unbind(&deleted);
}

/* Would [base, base + npages) overlap a slot other than id (-EEXIST)? */
static gboolean
overlaps_other(struct kvm *kvm, int id, gfn_t base, u64 npages)
{
	for (int i = 0; i < kvm->memslots->used_slots; i++) {
		struct kvm_memory_slot *slot = kvm->memslots->slots[i];

		if (slot->id != id && base < slot->base_gfn + slot->npages &&
		    slot->base_gfn < base + npages)
			return TRUE;
	}
	return FALSE;
}

/* kvmsim cannot let two GPA pages hold one frame (see sim/core/hostmem.h): no hva aliasing. */
static gboolean
aliases_other(struct kvm *kvm, int id, hva_t hva, u64 npages)
{
	for (int i = 0; i < kvm->memslots->used_slots; i++) {
		struct kvm_memory_slot *slot = kvm->memslots->slots[i];

		if (slot->id != id && hva < slot->userspace_addr + (slot->npages << PAGE_SHIFT) &&
		    slot->userspace_addr < hva + (npages << PAGE_SHIFT))
			return TRUE;
	}
	return FALSE;
}

/* Models check_memory_region_flags() with CONFIG_KVM_GUEST_MEMFD: no dirty logging of gmem
 * slots, and READONLY only without GUEST_MEMFD (x86 has read-only memory for every VM type
 * kvmsim models: kvm_arch_has_readonly_mem() is false only for protected-state VMs). */
static int
check_memory_region_flags(struct kvm *kvm, const struct kvm_userspace_memory_region2 *mem)
{
	u32 valid = KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_GUEST_MEMFD;

	if (mem->flags & KVM_MEM_GUEST_MEMFD)
		valid &= ~KVM_MEM_LOG_DIRTY_PAGES;
	if (!(mem->flags & KVM_MEM_GUEST_MEMFD))
		valid |= KVM_MEM_READONLY;
	/* PROPOSED bit 3 (mmu/userfault.c) */
	if (kvm->postcopy_uapi != KVM_POSTCOPY_UAPI_NONE)
		valid |= KVM_MEM_EXIT_ON_MISSING;
	if (kvm_postcopy_check_flags(kvm, mem->flags, NULL))
		return -EINVAL;
	return (mem->flags & ~valid) ? -EINVAL : 0;
}

/* Models kvm_mmu_max_gfn() (arch/x86/kvm/mmu.h): with TDP, the host's physical-address bits
 * (shadow_phys_bits), which kvmsim's 4-level EPT fixes at 48. */
static gfn_t
kvm_mmu_max_gfn(void)
{
	return (1ull << (48 - PAGE_SHIFT)) - 1;
}

/* Models the x86 kvm_arch_prepare_memory_region() (arch/x86/kvm/x86.c, read in the v6.3-v6.10
 * patches on the kvm list): a created or moved slot must end at or below kvm_mmu_max_gfn(). */
static int
kvm_arch_prepare_memory_region(struct kvm *kvm, const struct kvm_memory_slot *old,
			       struct kvm_memory_slot *new, enum kvm_mr_change change)
{
	if ((change == KVM_MR_CREATE || change == KVM_MR_MOVE) &&
	    new->base_gfn + new->npages - 1 > kvm_mmu_max_gfn())
		return -EINVAL;
	/* a new place needs new lpage_info; a flags change keeps the old slot's arch data */
	if (change == KVM_MR_CREATE || change == KVM_MR_MOVE)
		kvm_alloc_memslot_metadata(kvm, new);
	else if (change == KVM_MR_FLAGS_ONLY)
		memcpy(new->lpage_info, old->lpage_info, sizeof(new->lpage_info));
	return 0;
}

/* Models kvm_set_memory_region(), which in the tree read is the whole update with slots_lock
 * already held (there is no __kvm_set_memory_region() any more). Simplified: as_id 1 (SMM) is
 * refused. A KVM_MEM_GUEST_MEMFD slot is bound before it is published (kvm_gmem_bind() on the
 * new slot), and unbound if publishing fails. */
static int
__kvm_set_memory_region(struct kvm *kvm, const struct kvm_userspace_memory_region2 *mem)
{
	int id = (int)(mem->slot & 0xffff);
	int as_id = (int)(mem->slot >> 16);
	enum kvm_mr_change change;

	if (check_memory_region_flags(kvm, mem))
		return -EINVAL;
	if ((mem->memory_size | mem->guest_phys_addr | mem->userspace_addr) & (PAGE_SIZE - 1))
		return -EINVAL;
	if ((mem->flags & KVM_MEM_GUEST_MEMFD) &&
	    ((mem->guest_memfd_offset & (PAGE_SIZE - 1)) ||
	     mem->guest_memfd_offset + mem->memory_size < mem->guest_memfd_offset))
		return -EINVAL;
	if (as_id != 0 || id >= KVM_USER_MEM_SLOTS)
		return -EINVAL;
	if (mem->guest_phys_addr + mem->memory_size < mem->guest_phys_addr)
		return -EINVAL;
	u64 npages = mem->memory_size >> PAGE_SHIFT;

	if (npages > KVM_MEM_MAX_NR_PAGES)
		return -EINVAL;
	struct kvm_memory_slot *old = kvm_id_to_memslot(kvm, id);

	if (!mem->memory_size) {
		if (!old || !old->npages)
			return -EINVAL;
		if (old->flags & KVM_MEM_LOG_DIRTY_PAGES)
			kvm->nr_dirty_log_slots--;
		kvm_set_memslot(kvm, old, NULL, KVM_MR_DELETE);
		return 0;
	}
	struct kvm_memory_slot new = {
		.base_gfn = mem->guest_phys_addr >> PAGE_SHIFT,
		.npages = npages,
		.userspace_addr = mem->userspace_addr,
		.flags = mem->flags,
		.id = (u16)id,
		.userfault_bitmap = mem->userfault_bitmap,
	};

	if (old && (old->flags & KVM_MEM_GUEST_MEMFD) &&
	    kvm_userfault_flags_only(kvm, old, mem->flags)) {
		/* PROPOSED KVM Userfault v3: a gmem slot may toggle KVM_MEM_USERFAULT, nothing else */
		new = *old;
		new.flags = (old->flags & ~KVM_MEM_USERFAULT) | (mem->flags & KVM_MEM_USERFAULT);
		new.userfault_bitmap = mem->userfault_bitmap;
		kvm_arch_prepare_memory_region(kvm, old, &new, KVM_MR_FLAGS_ONLY);
		kvm_set_memslot(kvm, old, &new, KVM_MR_FLAGS_ONLY);
		return 0;
	}
	if (!old) {
		change = KVM_MR_CREATE;
	} else {
		/* gmem slots are immutable: they can only be deleted */
		if (mem->flags & KVM_MEM_GUEST_MEMFD)
			return -EINVAL;
		/* Deviation: the tree read lets a modify drop KVM_MEM_GUEST_MEMFD from a gmem slot
		 * (a FLAGS_ONLY or MOVE change), after which the file's bindings name the freed old
		 * slot; kvmsim refuses that instead of modelling a use after free. */
		if (old->flags & KVM_MEM_GUEST_MEMFD)
			return -EINVAL;
		if (mem->userspace_addr != old->userspace_addr || npages != old->npages ||
		    ((mem->flags ^ old->flags) & KVM_MEM_READONLY))
			return -EINVAL;
		if (new.base_gfn != old->base_gfn)
			change = KVM_MR_MOVE;
		else if (new.flags != old->flags)
			change = KVM_MR_FLAGS_ONLY;
		else
			return 0;
	}
	if ((change == KVM_MR_CREATE || change == KVM_MR_MOVE) &&
	    overlaps_other(kvm, id, new.base_gfn, new.npages))
		return -EEXIST;
	if (change == KVM_MR_CREATE && aliases_other(kvm, id, new.userspace_addr, new.npages))
		return -EINVAL;
	if (mem->flags & KVM_MEM_GUEST_MEMFD) {
		int r = kvm_gmem_bind(kvm, &new, mem->guest_memfd, mem->guest_memfd_offset);

		if (r)
			return r;
	}
	/* kvm_prepare_memory_region() fails inside kvm_set_memslot(): out_unbind */
	if (kvm_arch_prepare_memory_region(kvm, old, &new, change)) {
		if (mem->flags & KVM_MEM_GUEST_MEMFD)
			kvm_gmem_unbind(&new);
		return -EINVAL;
	}
	/* kvm_prepare_memory_region(): a logging slot keeps its bitmap or gets a new one */
	u32 old_flags = old ? old->flags : 0;

	if (new.flags & KVM_MEM_LOG_DIRTY_PAGES)
		new.dirty = old && old->dirty ? old->dirty : kvm_alloc_dirty_log(kvm, new.npages);
	kvm_set_memslot(kvm, old, &new, change);
	kvm->nr_dirty_log_slots += ((new.flags & KVM_MEM_LOG_DIRTY_PAGES) != 0) -
				   ((old_flags & KVM_MEM_LOG_DIRTY_PAGES) != 0);
	/* kvm_commit_memory_region() -> kvm_arch_commit_memory_region() */
	if (change == KVM_MR_FLAGS_ONLY)
		kvm_mmu_slot_apply_flags(kvm, old_flags, kvm_id_to_memslot(kvm, id));
	return 0;
}

/* Models kvm_vm_ioctl_set_memory_region(): the whole update runs under slots_lock. */
int
kvm_set_memory_region(struct kvm *kvm, const struct kvm_userspace_memory_region2 *mem)
{
	sim_mutex_lock(kvm->sched, &kvm->slots_lock, "memslot.slots_lock");
	int r = __kvm_set_memory_region(kvm, mem);

	sim_mutex_unlock(kvm->sched, &kvm->slots_lock, "memslot.slots_unlock");
	if (!r && mem->memory_size)
		kvm_dirty_log_arm(kvm, (int)(mem->slot & 0xffff));
	kvm_gmem_task_work_run(kvm); /* a bind or unbind may have dropped a file's last reference */
	return r;
}
