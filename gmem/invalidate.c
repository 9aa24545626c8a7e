/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Invalidating what KVM maps from a guest_memfd, and fallocate(): kvm_gmem_invalidate_begin/end
 * open and close the same mmu_invalidate window MMU notifiers use, in every VM with a file on the
 * inode, so a racing fault retries instead of installing a stale SPTE. Read in
 * ColinIanKing/linux-next, virt/kvm/guest_memfd.c at 0726d3e1 (see gmem-internal.h).
 */
#include "gmem/gmem-internal.h"

#include <errno.h>

/* Models kvm_gmem_get_invalidate_filter(). */
unsigned int
kvm_gmem_get_invalidate_filter(const struct gmem_inode *inode)
{
	if (inode->flags & GUEST_MEMFD_FLAG_INIT_SHARED)
		return KVM_FILTER_SHARED;
	return KVM_FILTER_PRIVATE;
}

typedef struct {
	struct gmem_file *f;
	unsigned int attr_filter;
	gboolean found_memslot;
	gboolean flush;
} InvalidateWalk;

/* One bound slot: the gfns of it that [start, end) covers. */
static void
invalidate_slot(struct kvm_memory_slot *slot, gfn_t start, gfn_t end, gpointer data)
{
	InvalidateWalk *w = data;
	struct kvm *kvm = w->f->kvm;
	struct kvm_gfn_range range = {
		.slot = slot,
		.start = start,
		.end = end,
		.may_block = TRUE,
		.attr_filter = w->attr_filter,
	};

	if (!w->found_memslot) {
		w->found_memslot = TRUE;
		sim_write_lock(kvm->sched, &kvm->mmu_lock, "gmem.inval_mmu_lock");
		kvm_mmu_invalidate_begin(kvm);
	}
	w->flush |= kvm_mmu_unmap_gfn_range(kvm, &range);
}

/* Models __kvm_gmem_invalidate_begin(): for one file, begin the window once and zap each bound
 * slot's part of [start, end), flushing before mmu_lock is dropped. */
void
__kvm_gmem_invalidate_begin(struct gmem_file *f, u64 start, u64 end, unsigned int attr_filter)
{
	InvalidateWalk w = { .f = f, .attr_filter = attr_filter };
	struct kvm *kvm = f->kvm;

	/* pre-b25ab9cae30f: the lock and the begin came first, for every file, bound or not */
	if (sim_mutated(kvm->mutations, SIM_MUT_PRE_B25AB9CAE30F)) {
		w.found_memslot = TRUE;
		sim_write_lock(kvm->sched, &kvm->mmu_lock, "gmem.inval_mmu_lock");
		kvm_mmu_invalidate_begin(kvm);
	}
	gmem_foreach_binding(f, start, end, invalidate_slot, &w);
	if (w.flush)
		kvm_flush_remote_tlbs(kvm);
	if (w.found_memslot)
		sim_write_unlock(kvm->sched, &kvm->mmu_lock, "gmem.inval_mmu_unlock");
}

/* Models __kvm_gmem_invalidate_end(): close the window if the file binds part of the range. */
void
__kvm_gmem_invalidate_end(struct gmem_file *f, u64 start, u64 end)
{
	struct kvm *kvm = f->kvm;

	if (kvm_range_map_find_not(f->bindings, start, end, 0) == end)
		return;
	sim_write_lock(kvm->sched, &kvm->mmu_lock, "gmem.inval_end_lock");
	kvm_mmu_invalidate_end(kvm);
	sim_write_unlock(kvm->sched, &kvm->mmu_lock, "gmem.inval_end_unlock");
}

/* Models kvm_gmem_invalidate_begin(): every file of the inode, in list order. The filter is
 * the caller's: kvm_gmem_get_invalidate_filter() for v6.18's callers, SHARED|PRIVATE for an
 * in-place conversion (RFC v3). */
void
kvm_gmem_invalidate_begin(struct gmem_inode *inode, u64 start, u64 end, unsigned int attr_filter)
{
	for (guint i = 0; i < inode->files->len; i++)
		__kvm_gmem_invalidate_begin(g_ptr_array_index(inode->files, i), start, end,
					    attr_filter);
}

/* Models kvm_gmem_invalidate_end(). */
void
kvm_gmem_invalidate_end(struct gmem_inode *inode, u64 start, u64 end)
{
	for (guint i = 0; i < inode->files->len; i++)
		__kvm_gmem_invalidate_end(g_ptr_array_index(inode->files, i), start, end);
}

typedef struct {
	struct kvm *kvm;
	const char *why;
} CheckWalk;

/* One bound slot: the invariant over the gfns of it the range covers. */
static void
check_slot(struct kvm_memory_slot *slot, gfn_t start, gfn_t end, gpointer data)
{
	CheckWalk *w = data;

	kvm_mmu_check_range_unmapped(w->kvm, start, end, w->why);
}

/* Invariant: inside the window, after the zap, nothing in any VM maps [start, end) of inode. */
void
kvm_gmem_check_unmapped(struct gmem_inode *inode, u64 start, u64 end, const char *why)
{
	for (guint i = 0; i < inode->files->len; i++) {
		struct gmem_file *f = g_ptr_array_index(inode->files, i);
		CheckWalk w = { f->kvm, why };

		gmem_foreach_binding(f, start, end, check_slot, &w);
	}
}

/*
 * Models kvm_gmem_punch_hole(): bindings stay stable under the invalidate lock, so the window
 * is balanced; the folios are freed inside it. On a HugeTLB inode (PROPOSED) the window covers
 * whole huge folios, as a conversion's does (convert.c): KVM may map a folio huge, and a fault
 * on an untouched gfn of it must not map a huge leaf over the punched pages inside the window
 * (v6.18's kvm_arch_pre_set_memory_attributes() widens attribute changes for the same reason;
 * kvmsim's choice here, the series' punch path not read).
 */
static int
kvm_gmem_punch_hole(struct gmem_inode *inode, u64 offset, u64 len)
{
	u64 start = offset >> PAGE_SHIFT;
	u64 end = (offset + len) >> PAGE_SHIFT;
	u64 inv_start = start, inv_end = end;

	if (inode->page_order)
		gmem_hugetlb_round_range(inode, &inv_start, &inv_end);
	sim_down_write(inode->sched, &inode->invalidate_lock, "gmem.invalidate_lock");
	sim_yield(inode->sched, "gmem.punch_invalidate_begin");
	sim_log_emit(inode->log, "sim_gmem_punch_hole", "ino %u index 0x%" G_GINT64_MODIFIER
		     "x-0x%" G_GINT64_MODIFIER "x", inode->ino, start, end);
	kvm_gmem_invalidate_begin(inode, inv_start, inv_end,
				  kvm_gmem_get_invalidate_filter(inode));
	sim_yield(inode->sched, "gmem.punch_truncate");
	kvm_gmem_check_unmapped(inode, start, end, "punched_page_still_mapped");
	guint before = g_tree_nnodes(inode->folios);

	gmem_truncate_range(inode, start, end);
	sim_count_add(inode->counters, SIM_CTR_GMEM_PUNCHED, before - g_tree_nnodes(inode->folios));
	sim_yield(inode->sched, "gmem.punch_invalidate_end");
	kvm_gmem_invalidate_end(inode, inv_start, inv_end);
	sim_up_write(inode->sched, &inode->invalidate_lock, "gmem.invalidate_unlock");
	return 0;
}

/* Models kvm_gmem_allocate(): every folio of the range, under the shared invalidate lock; new
 * folios are not zeroed (that happens on first use). */
static int
kvm_gmem_allocate(struct gmem_inode *inode, u64 offset, u64 len)
{
	int r = 0;

	if (offset + len > inode->size || offset + len < offset)
		return -EINVAL;
	sim_down_read(inode->sched, &inode->invalidate_lock, "gmem.invalidate_lock_shared");
	for (u64 index = offset >> PAGE_SHIFT; index < (offset + len) >> PAGE_SHIFT; index++) {
		if (!kvm_gmem_get_folio(inode, index)) {
			r = -ENOMEM;
			break;
		}
	}
	sim_up_read(inode->sched, &inode->invalidate_lock, "gmem.invalidate_unlock_shared");
	return r;
}

/* Models kvm_gmem_fallocate(): the mode checks, then alignment, then the work. */
int
kvm_gmem_fallocate(GmemFdTable *files, int fd, int mode, u64 offset, u64 len)
{
	struct gmem_file *f;
	int r = gmem_fget(files, fd, &f);

	if (r == GMEM_FD_NOT_GMEM)
		return -EOPNOTSUPP; /* vfs_fallocate() on a file without ->fallocate */
	if (r)
		return r;
	/* vfs_fallocate() (fs/open.c; no tree read) refuses these before the file sees them */
	if ((gint64)offset < 0 || (gint64)len <= 0)
		r = -EINVAL;
	else if (!(mode & FALLOC_FL_KEEP_SIZE) || (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)))
		r = -EOPNOTSUPP;
	else if ((offset & (PAGE_SIZE - 1)) || (len & (PAGE_SIZE - 1)))
		r = -EINVAL;
	else if (mode & FALLOC_FL_PUNCH_HOLE)
		r = kvm_gmem_punch_hole(f->inode, offset, len);
	else
		r = kvm_gmem_allocate(f->inode, offset, len);
	gmem_fput(f);
	return r;
}
