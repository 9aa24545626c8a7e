/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Host mappings of a guest_memfd: kvm_gmem_mmap() and the fault handler behind it. A host PTE
 * holds a reference on its page (the rmap's folio reference), which is what makes a mapped page
 * fail the refcount check of an in-place conversion until unmap_mapping_pages() drops it. Read
 * in ColinIanKing/linux-next, virt/kvm/guest_memfd.c at 0726d3e1 (see gmem-internal.h).
 */
#include "gmem/gmem-internal.h"

#include <errno.h>
#include <string.h>

/* Models kvm_gmem_mmap(): only with GUEST_MEMFD_FLAG_MMAP, only shared mappings. */
int
kvm_gmem_mmap(GmemFdTable *files, int fd, u64 pgoff, u64 npages, gboolean shared, GmemVma **out)
{
	struct gmem_file *f;
	int r = gmem_fget(files, fd, &f);

	*out = NULL;
	if (r == GMEM_FD_NOT_GMEM)
		return -ENODEV; /* kvmsim's other fds are not mmap-able */
	if (r)
		return r;
	if (!npages || pgoff + npages < pgoff)
		r = -EINVAL; /* do_mmap() refuses an empty or wrapping range */
	else if (!kvm_gmem_supports_mmap(f->inode))
		r = -ENODEV;
	else if (!shared)
		r = -EINVAL;
	if (r) {
		gmem_fput(f);
		return r;
	}
	GmemVma *vma = g_new0(GmemVma, 1);

	vma->file = f; /* the mapping keeps the reference fget() took */
	vma->pgoff = pgoff;
	vma->npages = npages;
	vma->ptes = g_tree_new_full(gmem_compare_index, NULL, g_free, NULL);
	g_ptr_array_add(f->inode->vmas, vma);
	*out = vma;
	return 0;
}

typedef struct {
	u64 start, end;
	GArray *keys;
} PteWalk;

/* g_tree_foreach() callback: the PTE indices of [start, end), in order. */
static gboolean
collect_pte(gpointer key, gpointer value, gpointer data)
{
	PteWalk *w = data;
	u64 index = *(u64 *)key;

	if (index >= w->end)
		return TRUE;
	if (index >= w->start)
		g_array_append_val(w->keys, index);
	return FALSE;
}

/* zap_page_range_single() over the PTEs of [start, end) of vma: each drops its reference. */
static void
vma_zap(GmemVma *vma, u64 start, u64 end)
{
	PteWalk w = { start, end, g_array_new(FALSE, FALSE, sizeof(u64)) };
	SimHostMem *hm = vma->file->inode->hm;

	g_tree_foreach(vma->ptes, collect_pte, &w);
	for (guint i = 0; i < w.keys->len; i++) {
		u64 index = g_array_index(w.keys, u64, i);
		SimPfn pfn = (SimPfn)(guintptr)g_tree_lookup(vma->ptes, &index);

		g_tree_remove(vma->ptes, &index);
		sim_frame_put(hm, pfn);
	}
	g_array_free(w.keys, TRUE);
}

/* Models unmap_mapping_pages(): every host PTE of [start, end) in every mapping of inode. */
void
gmem_unmap_mapping_pages(struct gmem_inode *inode, u64 start, u64 end)
{
	for (guint i = 0; i < inode->vmas->len; i++)
		vma_zap(g_ptr_array_index(inode->vmas, i), start, end);
}

/* Models munmap() of the whole mapping: zap its PTEs, drop vma->vm_file. */
void
kvm_gmem_munmap(GmemVma *vma)
{
	if (!vma)
		return;
	vma_zap(vma, 0, G_MAXUINT64);
	g_ptr_array_remove(vma->file->inode->vmas, vma);
	g_tree_destroy(vma->ptes);
	struct gmem_file *f = vma->file;

	g_free(vma);
	gmem_fput(f);
}

/*
 * Models kvm_gmem_fault_user_mapping(): beyond EOF or not shared is SIGBUS; otherwise the folio
 * is looked up or allocated, zeroed if not uptodate, and mapped. kvmsim takes the invalidate
 * lock shared around it, as RFC v2 did once shareability can change (reference §8: mainline takes
 * none, its answer being fixed at creation).
 */
int
kvm_gmem_fault_user_mapping(GmemVma *vma, u64 pgoff, SimPfn *out)
{
	struct gmem_inode *inode = vma->file->inode;
	int r = 0;

	if (pgoff < vma->pgoff || pgoff - vma->pgoff >= vma->npages)
		return -EFAULT; /* no VMA there: SIGSEGV, not this handler */
	gpointer pte = g_tree_lookup(vma->ptes, &pgoff);

	if (pte) {
		*out = (SimPfn)(guintptr)pte;
		return 0;
	}
	sim_down_read(inode->sched, &inode->invalidate_lock, "gmem.fault_lock");
	if ((pgoff << PAGE_SHIFT) >= inode->size || !kvm_gmem_is_shared_mem(inode, pgoff)) {
		r = GMEM_VM_FAULT_SIGBUS;
		sim_count(inode->counters, SIM_CTR_GMEM_HOST_SIGBUS);
	} else {
		struct gmem_folio *folio = kvm_gmem_get_folio(inode, pgoff);

		if (!folio) {
			r = -ENOMEM;
		} else {
			if (!folio->uptodate)
				kvm_gmem_prepare_folio(inode, folio);
			u64 *key = g_new(u64, 1);

			*key = pgoff;
			sim_frame_get(inode->hm, folio->pfn);
			g_tree_insert(vma->ptes, key, (gpointer)(guintptr)folio->pfn);
			*out = folio->pfn;
		}
	}
	sim_up_read(inode->sched, &inode->invalidate_lock, "gmem.fault_unlock");
	return r;
}

/* The frame a host PTE of vma maps at pgoff, or SIM_PFN_NONE: follow_page_pte() without a
 * fault, under the page-table lock (no yield point). */
static SimPfn
gmem_follow_pte(GmemVma *vma, u64 pgoff)
{
	gpointer pte = g_tree_lookup(vma->ptes, &pgoff);

	return pte ? (SimPfn)(guintptr)pte : SIM_PFN_NONE;
}

/* How often a user access may fault a page in and find it gone again (a punch or conversion
 * won each time) before kvmsim calls it a livelock. */
#define GMEM_USER_FAULT_BUDGET 1024

/*
 * Models the user-access half of GUP (__get_user_pages(): follow_page_pte(), else
 * handle_mm_fault() and look again): the fault drops the invalidate lock before it returns, so a
 * punch or conversion may unmap the page again before the access; the access happens only on a
 * PTE found present, with the page table lock held. 0 and *out, or the fault's error.
 */
static int
gmem_fault_in_and_follow(GmemVma *vma, u64 pgoff, SimPfn *out)
{
	for (guint tries = 0; tries < GMEM_USER_FAULT_BUDGET; tries++) {
		*out = gmem_follow_pte(vma, pgoff);
		if (*out != SIM_PFN_NONE)
			return 0;
		int r = kvm_gmem_fault_user_mapping(vma, pgoff, out);

		if (r)
			return r;
	}
	sim_sched_fail(vma->file->inode->sched, "livelock: a host access to a guest_memfd page "
		       "lost its page to a punch or conversion " G_STRINGIFY(GMEM_USER_FAULT_BUDGET)
		       " times");
	return -EFAULT;
}

/* A VMM load or store through the mapping (one page at most). */
int
kvm_gmem_host_access(GmemVma *vma, u64 offset, void *buf, guint len, gboolean write)
{
	u64 pgoff = vma->pgoff + (offset >> PAGE_SHIFT);
	guint in_page = (guint)(offset & (PAGE_SIZE - 1));
	SimPfn pfn;

	g_assert(in_page + len <= PAGE_SIZE);
	int r = gmem_fault_in_and_follow(vma, pgoff, &pfn);

	if (r)
		return r;
	if (write)
		sim_frame_write(vma->file->inode->hm, pfn, in_page, buf, len);
	else
		sim_frame_read(vma->file->inode->hm, pfn, in_page, buf, len);
	return 0;
}

/* Models pin_user_pages(FOLL_LONGTERM) of one page of the mapping: the reference is taken on a
 * PTE found present, so no punch can free the frame in between. 0 and *out, or the fault's
 * error. The caller drops the pin with sim_frame_put(). */
int
kvm_gmem_pin_user_page(GmemVma *vma, u64 pgoff, SimPfn *out)
{
	int r = gmem_fault_in_and_follow(vma, pgoff, out);

	if (!r)
		sim_frame_get(vma->file->inode->hm, *out);
	return r;
}
