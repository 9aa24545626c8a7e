/* SPDX-License-Identifier: GPL-2.0-only */
/* Looking at guest_memfd state without locks or yields: for the VMM, invariants and tests. */
#include "gmem/gmem-internal.h"

/* The inode behind an open guest_memfd fd, or NULL (no reference taken). */
static struct gmem_inode *
fd_inode(GmemFdTable *files, int fd)
{
	struct gmem_file *f = gmem_fd_peek(files, fd);

	return f ? f->inode : NULL;
}

/* The frame of the folio at index, or SIM_PFN_NONE. */
SimPfn
kvm_gmem_folio_pfn(GmemFdTable *files, int fd, u64 index)
{
	struct gmem_inode *inode = fd_inode(files, fd);
	struct gmem_folio *folio = inode ? gmem_folio_lookup(inode, index) : NULL;

	return folio ? folio->pfn : SIM_PFN_NONE;
}

/* The inode's shareability of index. */
gboolean
kvm_gmem_index_is_private(GmemFdTable *files, int fd, u64 index)
{
	struct gmem_inode *inode = fd_inode(files, fd);

	return inode && !kvm_gmem_is_shared_mem(inode, index);
}

/* Folios in the page cache. */
guint64
kvm_gmem_nr_folios(GmemFdTable *files, int fd)
{
	struct gmem_inode *inode = fd_inode(files, fd);

	return inode ? g_tree_nnodes(inode->folios) : 0;
}

/* What backs gfn in slot's guest_memfd, for the MMU's invariants. */
gboolean
kvm_gmem_slot_folio(const struct kvm_memory_slot *slot, gfn_t gfn, SimPfn *out_pfn,
		    gboolean *out_private)
{
	struct gmem_file *f = slot->gmem.file;

	/* a file whose last reference went but whose release has not run yet still backs the
	 * slot: the release zaps what it maps */
	if (!f)
		return FALSE;
	u64 index = kvm_gmem_get_index(slot, gfn);
	struct gmem_folio *folio = gmem_folio_lookup(f->inode, index);

	*out_pfn = folio ? folio->pfn : SIM_PFN_NONE;
	*out_private = !kvm_gmem_is_shared_mem(f->inode, index);
	return TRUE;
}
