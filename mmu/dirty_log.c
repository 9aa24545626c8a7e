/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Dirty logging: KVM_MEM_LOG_DIRTY_PAGES on a memslot, its dirty bitmap, KVM_GET_DIRTY_LOG and
 * KVM_CLEAR_DIRTY_LOG (meant for manual protect), and the write-protection that makes every
 * guest write after a harvest fault again (docs/dirty-log.md). Without PML (kvmsim models none)
 * x86 logs by write-protection: enabling logging write-protects the slot, a write fault restores
 * W (the fast path's fast_pf_fix_direct_spte(), or make_spte() in the slow one: fault.c and
 * spte.c name the trees read) and marks the gfn, a harvest clears the bits it returns and
 * write-protects those gfns again.
 *
 * Trees read. virt/kvm/kvm_main.c in ColinIanKing/linux-next at 03b9d314 (6.18 cycle or later:
 * EXPORT_SYMBOL_FOR_KVM_INTERNAL): kvm_get_dirty_log_protect() (and its comment on the order:
 * snapshot and clear, write-protect, copy out, flush; a write through a TLB entry left in between
 * is reported by the snapshot), kvm_vm_ioctl_get_dirty_log(), kvm_clear_dirty_log_protect(),
 * kvm_vm_ioctl_clear_dirty_log(), mark_page_dirty_in_slot(), kvm_prepare_memory_region() (the
 * bitmap hand-over) and kvm_flush_remote_tlbs_memslot(). arch/x86/kvm/x86.c in the same tree at
 * 046408cf: kvm_mmu_slot_apply_flags() (flags-only changes of a writable slot; the unconditional
 * flush after write-protection, outside mmu_lock). arch/x86/kvm/mmu/mmu.c at 1c60d04a:
 * kvm_arch_mmu_enable_log_dirty_pt_masked(), kvm_mmu_write_protect_pt_masked() and
 * kvm_mmu_slot_remove_write_access(). The pre-b64d740ea7dd flush is from that commit's diff.
 * Simplified: no eager huge-page split (kvm_mmu_slot_try_split_huge_pages()), no PML, no dirty
 * ring, no KVM_DIRTY_LOG_INITIALLY_SET, no address spaces, huge pages are not recovered when
 * logging is turned off (kvm_mmu_recover_huge_pages()), and a harvest covers the whole slot.
 *
 * kvmsim's check ("every guest write reaches the dirty log", dirty_log_missed_write): once the
 * ioctl that enabled logging has returned, a guest store to a gfn of the slot must find its bit
 * set, or a harvest in flight that reports the gfn (the VMM copies the page after the ioctl
 * returns, so a store before that is copied). A store through a translation KVM never marked —
 * a stale writable TLB entry — breaks it.
 */
#include "mmu/mmu-internal.h"

#include <errno.h>
#include <string.h>

/* The dirty log of one slot: the bitmap KVM sets, the copy the last KVM_GET_DIRTY_LOG returned,
 * and kvmsim's record of which gfns a harvest under way reports. */
struct kvm_dirty_log_state {
	u64 npages;
	gulong *bitmap;     /* memslot->dirty_bitmap */
	guint8 *covered;    /* a harvest in flight reports this gfn */
	gboolean armed;     /* the enabling ioctl returned: writes must be logged from now on */
};

/* Words of a dirty bitmap of npages: kvm_dirty_bitmap_bytes() / sizeof(long), rounded up to whole
 * longs (include/linux/kvm_host.h: not read). */
gsize
kvm_dirty_bitmap_words(u64 npages)
{
	return (npages + BITS_PER_LONG - 1) / BITS_PER_LONG;
}

/* Models kvm_alloc_dirty_bitmap() (kvm_main.c, read in ColinIanKing/linux-next at 03b9d314):
 * kvmsim's VM owns the bitmap, which every copy of the slot shares, as kvm_prepare_memory_region()
 * hands it over; one bitmap, not the kernel's two (the second is get_dirty_log's buffer). */
struct kvm_dirty_log_state *
kvm_alloc_dirty_log(struct kvm *kvm, u64 npages)
{
	struct kvm_dirty_log_state *d = g_new0(struct kvm_dirty_log_state, 1);

	d->npages = npages;
	d->bitmap = g_new0(gulong, kvm_dirty_bitmap_words(npages));
	d->covered = g_new0(guint8, npages);
	if (!kvm->dirty_logs)
		kvm->dirty_logs = g_ptr_array_new_with_free_func(kvm_free_dirty_log);
	g_ptr_array_add(kvm->dirty_logs, d);
	return d;
}

void
kvm_free_dirty_log(gpointer data)
{
	struct kvm_dirty_log_state *d = data;

	g_free(d->bitmap);
	g_free(d->covered);
	g_free(d);
}

/* Models mark_page_dirty_in_slot() (kvm_main.c, read at 03b9d314): set the gfn's bit if the
 * slot logs (set_bit_le(); no dirty ring). */
void
mark_page_dirty_in_slot(struct kvm *kvm, const struct kvm_memory_slot *slot, gfn_t gfn)
{
	if (!slot || !slot->dirty)
		return;
	u64 rel = gfn - slot->base_gfn;

	g_atomic_pointer_or(&slot->dirty->bitmap[rel / BITS_PER_LONG], 1ul << (rel % BITS_PER_LONG));
	sim_log_emit(kvm->log, "sim_mark_page_dirty", "slot %u gfn 0x%" G_GINT64_MODIFIER "x",
		     slot->id, gfn);
}

/* Models kvm_flush_remote_tlbs_memslot() (kvm_main.c at 03b9d314; slots_lock held): a ranged
 * flush of the slot's gfns (a whole flush where the arch has no ranged one). */
static void
kvm_flush_remote_tlbs_memslot(struct kvm *kvm, const struct kvm_memory_slot *slot)
{
	g_assert(sim_mutex_held(&kvm->slots_lock)); /* lockdep_assert_held() */
	kvm_flush_remote_tlbs_range(kvm, slot->base_gfn, slot->npages);
}

/* The enabling ioctl of slot id returned: from now on every guest write must be logged. */
void
kvm_dirty_log_arm(struct kvm *kvm, int id)
{
	struct kvm_memory_slot *slot = kvm_id_to_memslot(kvm, id);

	if (slot && slot->dirty)
		slot->dirty->armed = TRUE;
}

/* Models kvm_mmu_slot_apply_flags() (x86.c, read at 046408cf) for a flags-only change of a
 * writable slot and the TDP MMU: enabling dirty logging write-protects the slot
 * (kvm_mmu_slot_remove_write_access(), mmu.c at 1c60d04a: mmu_lock held for read), then flushes
 * the slot's translations unconditionally, outside mmu_lock, as b64d740ea7dd made it;
 * pre-b64d740ea7dd flushed only if some SPTE lost W. */
void
kvm_mmu_slot_apply_flags(struct kvm *kvm, u32 old_flags, const struct kvm_memory_slot *new)
{
	/* a read-only slot can be neither dirtied nor made writable */
	if (!((old_flags ^ new->flags) & KVM_MEM_LOG_DIRTY_PAGES) ||
	    (new->flags & KVM_MEM_READONLY))
		return;
	if (!(new->flags & KVM_MEM_LOG_DIRTY_PAGES))
		return; /* kvm_mmu_recover_huge_pages(): not modelled */
	sim_read_lock(kvm->sched, &kvm->mmu_lock, "dirty_log.wrprot_lock");
	gboolean spte_set = kvm_tdp_mmu_wrprot_slot(kvm, new, PG_LEVEL_4K);

	sim_read_unlock(kvm->sched, &kvm->mmu_lock, "dirty_log.wrprot_unlock");
	if (!kvm_mutated(kvm, SIM_MUT_PRE_B64D740EA7DD) || spte_set)
		kvm_flush_remote_tlbs_memslot(kvm, new);
}

/* Models kvm_arch_mmu_enable_log_dirty_pt_masked() (mmu.c, read at 1c60d04a) without PML and
 * without KVM_DIRTY_LOG_INITIALLY_SET: kvm_mmu_write_protect_pt_masked(), i.e. the TDP MMU
 * write-protects the 4K leaves of the gfns of mask (mmu_lock held for write). */
static void
kvm_arch_mmu_enable_log_dirty_pt_masked(struct kvm *kvm, struct kvm_memory_slot *slot,
					u64 gfn_offset, gulong mask)
{
	kvm_tdp_mmu_clear_dirty_pt_masked(kvm, slot, slot->base_gfn + gfn_offset, mask, TRUE);
}

/* The gfns of mask (bits of word i) are reported by a harvest under way (or no longer); bits
 * past the slot's last page, which a KVM_CLEAR_DIRTY_LOG bitmap may hold, name no gfn. */
static void
cover(struct kvm_dirty_log_state *d, gsize i, gulong mask, guint8 on)
{
	for (gsize b = 0; b < BITS_PER_LONG && i * BITS_PER_LONG + b < d->npages; b++)
		if (mask & (1ul << b))
			d->covered[i * BITS_PER_LONG + b] = on;
}

/*
 * The walk kvm_get_dirty_log_protect() and kvm_clear_dirty_log_protect() share (slots_lock
 * held): under mmu_lock held for write (taken and released at the yield points lock and unlock),
 * each word's bits that want asks for (NULL: all of them) are taken from the slot's bitmap and
 * their gfns write-protected again, then the TLBs are flushed after unlock if any bit was taken.
 * got, if not NULL, receives the bits taken (0 for a word with none).
 */
static void
kvm_dirty_log_protect_walk(struct kvm *kvm, struct kvm_memory_slot *slot, const gulong *want,
			   gulong *got, const char *lock, const char *unlock)
{
	struct kvm_dirty_log_state *d = slot->dirty;
	gsize n = kvm_dirty_bitmap_words(d->npages);
	gboolean flush = FALSE;

	sim_write_lock(kvm->sched, &kvm->mmu_lock, lock);
	for (gsize i = 0; i < n; i++) {
		gulong mask = want ? want[i] & d->bitmap[i] : d->bitmap[i];

		if (got)
			got[i] = mask;
		if (!mask)
			continue;
		flush = TRUE;
		d->bitmap[i] &= ~mask; /* xchg() / atomic_long_fetch_andnot() */
		cover(d, i, mask, 1);
		kvm_arch_mmu_enable_log_dirty_pt_masked(kvm, slot, i * BITS_PER_LONG, mask);
	}
	sim_write_unlock(kvm->sched, &kvm->mmu_lock, unlock);
	if (flush)
		kvm_flush_remote_tlbs_memslot(kvm, slot);
	for (gsize i = 0; i < n; i++)
		cover(d, i, want ? want[i] : got[i], 0);
}

/* Models kvm_get_dirty_log_protect() (kvm_main.c at 03b9d314; slots_lock held): with manual
 * protect, a copy of the bitmap; else, under mmu_lock, each word is exchanged with 0, returned,
 * and its gfns write-protected again; the TLBs are flushed after unlock if any bit was set. */
static int
kvm_get_dirty_log_protect(struct kvm *kvm, int id, gulong *bitmap)
{
	struct kvm_memory_slot *slot = kvm_id_to_memslot(kvm, id);

	if (!slot || !slot->dirty)
		return -ENOENT;
	if (kvm->manual_dirty_log_protect)
		memcpy(bitmap, slot->dirty->bitmap,
		       kvm_dirty_bitmap_words(slot->dirty->npages) * sizeof(gulong));
	else
		kvm_dirty_log_protect_walk(kvm, slot, NULL, bitmap, "dirty_log.get_mmu_lock",
					   "dirty_log.get_mmu_unlock");
	return 0;
}

/* Models kvm_vm_ioctl_get_dirty_log() (kvm_main.c): kvm_get_dirty_log_protect() under
 * slots_lock. */
int
kvm_vm_ioctl_get_dirty_log(struct kvm *kvm, int id, gulong *bitmap)
{
	sim_mutex_lock(kvm->sched, &kvm->slots_lock, "dirty_log.slots_lock");
	int r = kvm_get_dirty_log_protect(kvm, id, bitmap);

	sim_mutex_unlock(kvm->sched, &kvm->slots_lock, "dirty_log.slots_unlock");
	return r;
}

/* Models kvm_clear_dirty_log_protect() (kvm_main.c at 03b9d314; slots_lock held) over the whole
 * slot: under mmu_lock, the bits both set and asked for are cleared and their gfns
 * write-protected; flush after unlock. */
static int
kvm_clear_dirty_log_protect(struct kvm *kvm, int id, const gulong *bitmap)
{
	struct kvm_memory_slot *slot = kvm_id_to_memslot(kvm, id);

	if (!slot || !slot->dirty)
		return -ENOENT;
	kvm_dirty_log_protect_walk(kvm, slot, bitmap, NULL, "dirty_log.clear_mmu_lock",
				   "dirty_log.clear_mmu_unlock");
	return 0;
}

/* Models kvm_vm_ioctl_clear_dirty_log() (kvm_main.c at 03b9d314): kvm_clear_dirty_log_protect()
 * under slots_lock, with or without manual protect (neither checks it). */
int
kvm_vm_ioctl_clear_dirty_log(struct kvm *kvm, int id, const gulong *bitmap)
{
	sim_mutex_lock(kvm->sched, &kvm->slots_lock, "dirty_log.slots_lock");
	int r = kvm_clear_dirty_log_protect(kvm, id, bitmap);

	sim_mutex_unlock(kvm->sched, &kvm->slots_lock, "dirty_log.slots_unlock");
	return r;
}

/* Models kvm_vm_ioctl_enable_cap_generic() (kvm_main.c; its body not read) for
 * KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 with KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE alone. */
void
kvm_vm_ioctl_enable_manual_dirty_log_protect(struct kvm *kvm)
{
	kvm->manual_dirty_log_protect = TRUE;
}

/* The invariant dirty_log_missed_write, at a guest store to gfn (see the file comment). */
static void
kvm_dirty_log_check_write(struct kvm_vcpu *vcpu, gfn_t gfn, const char *via)
{
	struct kvm_memory_slot *slot = gfn_to_memslot(vcpu->kvm, gfn);

	if (!slot || !slot->dirty || !slot->dirty->armed)
		return;
	u64 rel = gfn - slot->base_gfn;

	if ((slot->dirty->bitmap[rel / BITS_PER_LONG] & (1ul << (rel % BITS_PER_LONG))) ||
	    slot->dirty->covered[rel])
		return;
	kvm_invariant_failed(vcpu->kvm, "dirty_log_missed_write",
			     "vcpu%d wrote gfn 0x%" G_GINT64_MODIFIER "x through %s, but its dirty "
			     "bit is clear and no harvest reports it: the write escapes the dirty log",
			     vcpu->vcpu_id, gfn, via);
}

/* The CPU's A/D assist on a store that walks the tables (EPT with A/D bits on, SDM 29.3.5): it
 * sets Accessed and Dirty in the leaf with a locked OR, outside any lock KVM knows of; the TLB
 * then caches the translation as dirty, so later stores through it set nothing. */
static void
kvm_hw_set_ad(struct kvm_vcpu *vcpu, gfn_t gfn, int level)
{
	u64 spte;
	int walked;
	u64 *sptep = tdp_walk_last(vcpu->kvm->pt_pool, vcpu->root, gfn, &spte, &walked);
	const u64 ad = shadow_accessed_mask | shadow_dirty_mask;

	g_assert(walked == level);
	if ((spte & ad) == ad)
		return;
	__kvm_tdp_mmu_write_spte(sptep, spte | ad, level);
	sim_log_emit(vcpu->kvm->log, "sim_hw_set_ad",
		     "vcpu %d gfn 0x%" G_GINT64_MODIFIER "x level %d spte 0x%" G_GINT64_MODIFIER
		     "x -> 0x%" G_GINT64_MODIFIER "x", vcpu->vcpu_id, gfn, level, spte, spte | ad);
}

/* The CPU's side of a guest store (kvmsim's hardware, no kernel function): a writable
 * translation the TLB cached since the last flush is used as it is; otherwise the walk needs a
 * present writable leaf, and the translation is cached. */
gboolean
kvm_vcpu_guest_write(struct kvm_vcpu *vcpu, gpa_t gpa)
{
	gfn_t gfn = gpa >> PAGE_SHIFT;
	const char *via = "its TLB";
	kvm_pfn_t pfn = 0;
	guint i;

	for (i = 0; i < vcpu->tlb_writable->len; i++) {
		const struct kvm_stale_tlb_entry *e =
			&g_array_index(vcpu->tlb_writable, struct kvm_stale_tlb_entry, i);

		if (e->gfn == gfn) {
			pfn = e->pfn;
			break;
		}
	}
	if (i == vcpu->tlb_writable->len) {
		int level;
		u64 spte = kvm_tdp_mmu_get_walk_last(vcpu, gpa, &level);

		if (!is_shadow_present_pte(spte) || !is_last_spte(spte, level) ||
		    !is_writable_pte(spte))
			return FALSE;
		pfn = spte_to_pfn(spte) + (gfn & (KVM_PAGES_PER_HPAGE(level) - 1));
		if (spte_ad_enabled(spte))
			kvm_hw_set_ad(vcpu, gfn, level);
		struct kvm_stale_tlb_entry e = { gfn, pfn, sim_sched_now(vcpu->kvm->sched) };

		g_array_append_val(vcpu->tlb_writable, e);
		via = "a writable SPTE";
	}
	sim_log_emit(vcpu->kvm->log, "sim_guest_write",
		     "vcpu %d gpa 0x%" G_GINT64_MODIFIER "x pfn 0x%" G_GINT64_MODIFIER "x via %s",
		     vcpu->vcpu_id, gpa, pfn, via);
	kvm_dirty_log_check_write(vcpu, gfn, via);
	return TRUE;
}
