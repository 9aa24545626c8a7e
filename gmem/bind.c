/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Binding guest_memfd pages to memslots, and the KVM side of a fault on them: kvm_gmem_bind(),
 * kvm_gmem_unbind(), kvm_gmem_get_pfn(). Read in ColinIanKing/linux-next, virt/kvm/guest_memfd.c
 * at 0726d3e1 (see gmem-internal.h).
 *
 * kvmsim publishes a copy of a memslot in every memslots generation, so a binding records the
 * slot's id (plus one) rather than a pointer; gmem_binding_slot() finds the slot of that id in
 * the VM's current memslots, which is the slot the kernel's pointer names (bindings and
 * memslot changes are both serialised by slots_lock).
 */
#include "gmem/gmem-internal.h"

#include <errno.h>

/* The memslot a binding value names (id + 1) in the VM's current memslots. */
struct kvm_memory_slot *
gmem_binding_slot(struct gmem_file *f, u64 value)
{
	return kvm_id_to_memslot(f->kvm, (int)(value - 1));
}

typedef struct {
	struct gmem_file *f;
	GmemBindingFunc fn;
	gpointer data;
} BindingWalk;

/* One run of bindings: its slot and the gfns of the slot the run's indices cover. */
static void
binding_run(u64 run_start, u64 run_end, u64 value, gpointer data)
{
	BindingWalk *w = data;
	struct kvm_memory_slot *slot = value ? gmem_binding_slot(w->f, value) : NULL;

	if (!slot)
		return;
	u64 pgoff = slot->gmem.pgoff;

	w->fn(slot, slot->base_gfn + MAX(pgoff, run_start) - pgoff,
	      slot->base_gfn + MIN(pgoff + slot->npages, run_end) - pgoff, w->data);
}

/* The walk of f->bindings the kernel's callers do with xa_for_each_range() (a slot is bound to
 * one run of indices, so each slot comes once). */
void
gmem_foreach_binding(struct gmem_file *f, u64 start, u64 end, GmemBindingFunc fn, gpointer data)
{
	BindingWalk w = { f, fn, data };

	kvm_range_map_foreach(f->bindings, start, end, binding_run, &w);
}

/* Models kvm_gmem_bind(): each check in the kernel's order; the file reference is dropped
 * even on success (memslots do not pin the file). */
int
kvm_gmem_bind(struct kvm *kvm, struct kvm_memory_slot *slot, unsigned int fd, u64 offset)
{
	u64 size = slot->npages << PAGE_SHIFT;
	struct gmem_file *f;
	int r = fd > G_MAXINT ? -EBADF : gmem_fget(kvm->files, (int)fd, &f);

	if (r == GMEM_FD_NOT_GMEM)
		return -EINVAL;  /* file->f_op != &kvm_gmem_fops */
	if (r)
		return r;
	struct gmem_inode *inode = f->inode;

	r = -EINVAL;
	if (f->kvm != kvm)
		goto out;
	if ((gint64)offset < 0 || (offset & (PAGE_SIZE - 1)) || offset + size > inode->size ||
	    offset + size < offset)
		goto out;
	sim_down_write(inode->sched, &inode->invalidate_lock, "gmem.invalidate_lock");
	u64 start = offset >> PAGE_SHIFT, end = start + slot->npages;

	if (kvm_range_map_find_not(f->bindings, start, end, 0) != end) {
		sim_up_write(inode->sched, &inode->invalidate_lock, "gmem.invalidate_unlock");
		goto out;
	}
	slot->gmem.file = f;
	slot->gmem.pgoff = start;
	if (kvm_gmem_supports_mmap(inode))
		slot->flags |= KVM_MEMSLOT_GMEM_ONLY;
	kvm_range_map_set(f->bindings, start, end, (u64)slot->id + 1);
	sim_up_write(inode->sched, &inode->invalidate_lock, "gmem.invalidate_unlock");
	sim_log_emit(kvm->log, "sim_gmem_bind", "slot %u fd %u ino %u pgoff 0x%" G_GINT64_MODIFIER
		     "x npages 0x%" G_GINT64_MODIFIER "x%s", slot->id, fd, inode->ino, start,
		     slot->npages, (slot->flags & KVM_MEMSLOT_GMEM_ONLY) ? " gmem_only" : "");
	r = 0;
out:
	gmem_fput_deferred(f);
	return r;
}

/* Models __kvm_gmem_unbind(). */
static void
__kvm_gmem_unbind(struct kvm_memory_slot *slot, struct gmem_file *f)
{
	u64 start = slot->gmem.pgoff;

	kvm_range_map_set(f->bindings, start, start + slot->npages, 0);
	slot->gmem.file = NULL;
}

/* Models kvm_gmem_unbind(): nothing to do once release cleared the slot's file; a file being
 * released (count already zero) is unbound without its lock, since release waits for
 * slots_lock, which the caller holds. */
void
kvm_gmem_unbind(struct kvm_memory_slot *slot)
{
	struct gmem_file *f = slot->gmem.file;

	if (!f)
		return;
	g_assert(sim_mutex_held(&f->kvm->slots_lock));
	if (!gmem_get_file_active(f)) {
		__kvm_gmem_unbind(slot, f);
		return;
	}
	struct gmem_inode *inode = f->inode;

	sim_down_write(inode->sched, &inode->invalidate_lock, "gmem.invalidate_lock");
	__kvm_gmem_unbind(slot, f);
	sim_up_write(inode->sched, &inode->invalidate_lock, "gmem.invalidate_unlock");
	gmem_fput_deferred(f);
}

/* Models __kvm_gmem_get_pfn(): the slot must still name this file and bind this index. */
static int
__kvm_gmem_get_pfn(struct gmem_file *f, struct kvm_memory_slot *slot, u64 index,
		   struct gmem_folio **out)
{
	if (slot->gmem.file != f)
		return -EFAULT;
	if (kvm_range_map_get(f->bindings, index) != (u64)slot->id + 1)
		return -EIO;
	/* a hole punch, a conversion or the release may run between here and the lookup */
	sim_yield(f->inode->sched, "gmem.get_pfn_folio");
	*out = kvm_gmem_get_folio(f->inode, index);
	return *out ? 0 : -ENOMEM;
}

/*
 * Models kvm_gmem_get_pfn(): take the file only if it is still active (-EFAULT once released),
 * look up or allocate the folio, zero it on first use, and return it with a reference
 * (folio_file_page() into *page: here a frame pin the caller drops).
 */
int
kvm_gmem_get_pfn(struct kvm *kvm, struct kvm_memory_slot *slot, gfn_t gfn, kvm_pfn_t *pfn,
		 int *max_order)
{
	struct gmem_file *f = slot->gmem.file;
	struct gmem_folio *folio;
	u64 index = kvm_gmem_get_index(slot, gfn);

	if (!gmem_get_file_active(f))
		return -EFAULT;
	int r = __kvm_gmem_get_pfn(f, slot, index, &folio);

	if (!r) {
		*pfn = folio->pfn;
		if (max_order)
			*max_order = f->inode->page_order ?
					     gmem_hugetlb_max_order(f->inode, index) : 0;
		/* HugeTLB: the whole folio KVM may map huge, even if this page is uptodate */
		if (f->inode->page_order)
			gmem_hugetlb_prepare_folio(f->inode, folio);
		else if (!folio->uptodate)
			kvm_gmem_prepare_folio(f->inode, folio);
		sim_frame_get(f->inode->hm, folio->pfn);
	}
	if (r)
		sim_log_emit(kvm->log, "sim_gmem_get_pfn", "gfn 0x%" G_GINT64_MODIFIER "x ino %u "
			     "index 0x%" G_GINT64_MODIFIER "x error %s", gfn, f->inode->ino, index,
			     g_strerror(-r));
	else
		sim_log_emit(kvm->log, "sim_gmem_get_pfn", "gfn 0x%" G_GINT64_MODIFIER "x ino %u "
			     "index 0x%" G_GINT64_MODIFIER "x pfn 0x%" G_GINT64_MODIFIER "x", gfn,
			     f->inode->ino, index, *pfn);
	gmem_fput_deferred(f);
	return r;
}

/* RFC v3's kvm_gmem_get_memory_attributes(): slot lookup, active file, the inode's store. */
u64
kvm_gmem_get_memory_attributes(struct kvm *kvm, gfn_t gfn)
{
	struct kvm_memory_slot *slot = gfn_to_memslot(kvm, gfn);

	if (!kvm_slot_has_gmem(slot) || !slot->gmem.file || slot->gmem.file->f_count == 0)
		return 0;
	return kvm_range_map_get(slot->gmem.file->inode->attributes,
				 kvm_gmem_get_index(slot, gfn));
}
