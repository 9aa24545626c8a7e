/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * guest_memfd inodes and files: creation, the page cache of frames, truncation, release, and
 * the proposed KVM_LINK_GUEST_MEMFD. Functions named below were read in ColinIanKing/linux-next,
 * virt/kvm/guest_memfd.c at 0726d3e1 (see gmem-internal.h) unless a comment says otherwise.
 */
#include "gmem/gmem-internal.h"

#include <errno.h>

/* Page-index order for the GTrees of folios and host PTEs. */
gint
gmem_compare_index(gconstpointer a, gconstpointer b, gpointer unused)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* Models kvm_gmem_alloc_inode() and the inode set-up of __kvm_gmem_create(): every index starts
 * shared with INIT_SHARED, private without it. */
struct gmem_inode *
gmem_inode_new(struct kvm *kvm, u64 size, u64 flags)
{
	struct gmem_inode *inode = g_new0(struct gmem_inode, 1);

	inode->sched = kvm->sched;
	inode->log = kvm->log;
	inode->counters = kvm->counters;
	inode->hm = kvm->hm;
	inode->ino = ++kvm->files->next_ino;
	inode->size = size;
	inode->flags = flags;
	inode->folios = g_tree_new_full(gmem_compare_index, NULL, NULL, g_free);
	inode->attributes = kvm_range_map_new((flags & GUEST_MEMFD_FLAG_INIT_SHARED) ?
					      0 : KVM_MEMORY_ATTRIBUTE_PRIVATE);
	inode->files = g_ptr_array_new();
	inode->vmas = g_ptr_array_new();
	inode->invalidate_lock.name = "invalidate_lock";
	inode->page_order = (guint)MAX(gmem_hugetlb_order(flags), 0);
	inode->huge_folios = g_tree_new_full(gmem_compare_index, NULL, NULL, g_free);
	return inode;
}

/* A new file on inode for kvm: the file pins the VM (kvm_get_kvm()) and the inode. */
struct gmem_file *
gmem_file_new(struct kvm *kvm, struct gmem_inode *inode)
{
	struct gmem_file *f = g_new0(struct gmem_file, 1);

	kvm_get_kvm(kvm);
	f->kvm = kvm;
	f->inode = inode;
	f->bindings = kvm_range_map_new(0);
	f->f_count = 1;
	inode->i_count++;
	g_ptr_array_add(inode->files, f);
	g_ptr_array_add(kvm->files->opened, f);
	return f;
}

/* Models kvm_gmem_get_supported_flags() (include/linux/kvm_host.h, as the INIT_SHARED patch
 * posted 2025-10-03 adds it) with x86's kvm_arch_supports_gmem_init_shared(): INIT_SHARED only
 * for VMs without private memory. */
u64
kvm_gmem_get_supported_flags(struct kvm *kvm)
{
	u64 flags = GUEST_MEMFD_FLAG_MMAP;

	/* PROPOSED: the 1G series' HugeTLB flag and its size bits, when kvmsim is told to have it */
	if (kvm && kvm->gmem_hugetlb)
		flags |= GUEST_MEMFD_FLAG_HUGETLB |
			 (GUESTMEM_HUGETLB_FLAG_MASK << GUESTMEM_HUGETLB_FLAG_SHIFT);

	if (!kvm || !kvm->has_private_mem)
		flags |= GUEST_MEMFD_FLAG_INIT_SHARED;
	return flags;
}

/* Models kvm_gmem_create() and __kvm_gmem_create(): flags first, then size. */
int
kvm_gmem_create(struct kvm *kvm, const struct kvm_create_guest_memfd *args)
{
	if (args->flags & ~kvm_gmem_get_supported_flags(kvm))
		return -EINVAL;
	if ((gint64)args->size <= 0 || (args->size & (PAGE_SIZE - 1)))
		return -EINVAL;
	/* PROPOSED HugeTLB: a size x86 has a page for, and a file of whole huge pages */
	int order = gmem_hugetlb_order(args->flags);

	if (order < 0 || (args->size & ((PAGE_SIZE << order) - 1)))
		return -EINVAL;
	struct gmem_inode *inode = gmem_inode_new(kvm, args->size, args->flags);
	struct gmem_file *f = gmem_file_new(kvm, inode);
	int fd = gmem_fd_install(kvm->files, f);

	sim_log_emit(kvm->log, "sim_gmem_create", "fd %d ino %u size 0x%" G_GINT64_MODIFIER
		     "x flags 0x%" G_GINT64_MODIFIER "x", fd, inode->ino, args->size, args->flags);
	return fd;
}

/* Proposed kvm_gmem_link() (Afranji RFC v2, see gmem/proposed.h): a new file, bound to kvm,
 * on the inode of an existing guest_memfd; every refusal is -EINVAL, in the patch's order. */
int
kvm_gmem_link(struct kvm *kvm, const struct kvm_link_guest_memfd *args)
{
	struct gmem_file *src;

	if (args->flags)
		return -EINVAL;
	if (args->fd > G_MAXINT || gmem_fget(kvm->files, (int)args->fd, &src))
		return -EINVAL;
	if (src->kvm == kvm) {
		gmem_fput(src);
		return -EINVAL;
	}
	struct gmem_file *f = gmem_file_new(kvm, src->inode);
	int fd = gmem_fd_install(kvm->files, f);

	sim_log_emit(kvm->log, "sim_gmem_link", "fd %d ino %u from fd %" G_GINT64_MODIFIER "u", fd,
		     src->inode->ino, args->fd);
	gmem_fput(src);
	return fd;
}

/* Models kvm_gmem_supports_mmap(). */
gboolean
kvm_gmem_supports_mmap(const struct gmem_inode *inode)
{
	return (inode->flags & GUEST_MEMFD_FLAG_MMAP) != 0;
}

/* The per-index shareability the host fault path asks (kvm_gmem_is_shared_mem(), the helper of
 * commit 19e612cd, linux-rng; in v6.18 the answer is the inode's INIT_SHARED flag, which is
 * what the store holds until an in-place conversion changes it). */
gboolean
kvm_gmem_is_shared_mem(const struct gmem_inode *inode, u64 index)
{
	return !(kvm_range_map_get(inode->attributes, index) & KVM_MEMORY_ATTRIBUTE_PRIVATE);
}

/* filemap_get_folio() without creating: the folio at index, or NULL. */
struct gmem_folio *
gmem_folio_lookup(struct gmem_inode *inode, u64 index)
{
	return g_tree_lookup(inode->folios, &index);
}

/* Models kvm_gmem_get_folio(): the folio at index, allocated (not zeroed: !uptodate) if the
 * page cache has none; NULL when host memory is exhausted (-ENOMEM). */
struct gmem_folio *
kvm_gmem_get_folio(struct gmem_inode *inode, u64 index)
{
	struct gmem_folio *folio = gmem_folio_lookup(inode, index);

	if (folio)
		return folio;
	if (inode->page_order)
		return gmem_hugetlb_get_folio(inode, index);
	SimPfn pfn = sim_frame_alloc(inode->hm);

	if (pfn == SIM_PFN_NONE)
		return NULL;
	folio = g_new0(struct gmem_folio, 1);
	folio->index = index;
	folio->pfn = pfn;
	g_tree_insert(inode->folios, &folio->index, folio);
	sim_count(inode->counters, SIM_CTR_GMEM_ALLOCATED);
	return folio;
}

/* Models kvm_gmem_prepare_folio() without an arch hook (x86 SW-protected VMs have none):
 * clear_highpage(), then kvm_gmem_mark_prepared() (folio_mark_uptodate()). */
void
kvm_gmem_prepare_folio(struct gmem_inode *inode, struct gmem_folio *folio)
{
	static const guint8 zeros[SIM_PAGE_SIZE];

	sim_frame_kernel_access(inode->hm, folio->pfn, TRUE, "clear_highpage");
	sim_frame_write(inode->hm, folio->pfn, 0, zeros, SIM_PAGE_SIZE);
	folio->uptodate = TRUE;
	sim_count(inode->counters, SIM_CTR_GMEM_ZEROED);
}

/* g_tree_foreach() callback: every folio, in index order. */
static gboolean
collect_folio(gpointer key, gpointer value, gpointer data)
{
	g_ptr_array_add(data, value);
	return FALSE;
}

/* The folios of [start, end), in index order. */
static GPtrArray *
folios_in(struct gmem_inode *inode, u64 start, u64 end)
{
	GPtrArray *all = g_ptr_array_new();
	GPtrArray *in = g_ptr_array_new();

	g_tree_foreach(inode->folios, collect_folio, all);
	for (guint i = 0; i < all->len; i++) {
		struct gmem_folio *folio = g_ptr_array_index(all, i);

		if (folio->index >= start && folio->index < end)
			g_ptr_array_add(in, folio);
	}
	g_ptr_array_free(all, TRUE);
	return in;
}

/* Models truncate_inode_pages_range() for [start, end): host PTEs go first
 * (unmap_mapping_range()), then each folio leaves the page cache and its frame is freed once no
 * pin holds it. */
void
gmem_truncate_range(struct gmem_inode *inode, u64 start, u64 end)
{
	gmem_unmap_mapping_pages(inode, start, end);
	if (inode->page_order) {
		gmem_hugetlb_truncate(inode, start, end);
		return;
	}
	GPtrArray *victims = folios_in(inode, start, end);

	for (guint i = 0; i < victims->len; i++) {
		struct gmem_folio *folio = g_ptr_array_index(victims, i);
		SimPfn pfn = folio->pfn;

		g_tree_remove(inode->folios, &folio->index);
		sim_frame_free(inode->hm, pfn);
		sim_count(inode->counters, SIM_CTR_GMEM_FREED);
	}
	g_ptr_array_free(victims, TRUE);
}

/* iput(): the last file gone, the inode's memory goes with it (evict -> truncate all). */
void
gmem_inode_put(struct gmem_inode *inode)
{
	g_assert(inode->i_count > 0);
	if (--inode->i_count)
		return;
	g_assert(inode->vmas->len == 0 && inode->files->len == 0);
	sim_log_emit(inode->log, "sim_gmem_evict", "ino %u folios %u", inode->ino,
		     g_tree_nnodes(inode->folios));
	gmem_truncate_range(inode, 0, G_MAXUINT64);
	g_tree_destroy(inode->folios);
	g_tree_destroy(inode->huge_folios);
	kvm_range_map_free(inode->attributes);
	g_ptr_array_free(inode->files, TRUE);
	g_ptr_array_free(inode->vmas, TRUE);
	g_free(inode);
}

/* Set slot->gmem.file = NULL for each memslot this file binds. */
static void
clear_slot_file(struct kvm_memory_slot *slot, gfn_t start, gfn_t end, gpointer data)
{
	slot->gmem.file = NULL;
}

static void gmem_file_free(struct gmem_file *f);

/*
 * Models kvm_gmem_release(): the last reference to the file is gone. Under slots_lock and the
 * invalidate lock, every slot bound to it loses its file and every SPTE the file backs is zapped;
 * the memory stays with the inode. The VM reference goes last.
 */
void
kvm_gmem_release(struct gmem_file *f)
{
	struct kvm *kvm = f->kvm;
	struct gmem_inode *inode = f->inode;

	sim_mutex_lock(kvm->sched, &kvm->slots_lock, "gmem.release_slots_lock");
	sim_down_write(inode->sched, &inode->invalidate_lock, "gmem.invalidate_lock");
	sim_log_emit(inode->log, "sim_gmem_release", "ino %u", inode->ino);
	gmem_foreach_binding(f, 0, G_MAXUINT64, clear_slot_file, NULL);
	__kvm_gmem_invalidate_begin(f, 0, G_MAXUINT64, kvm_gmem_get_invalidate_filter(inode));
	__kvm_gmem_invalidate_end(f, 0, G_MAXUINT64);
	g_ptr_array_remove(inode->files, f);
	sim_up_write(inode->sched, &inode->invalidate_lock, "gmem.invalidate_unlock");
	sim_mutex_unlock(kvm->sched, &kvm->slots_lock, "gmem.release_slots_unlock");
	gmem_file_free(f);
}

/* The file's memory goes, then its holds on the VM and the inode. */
static void
gmem_file_free(struct gmem_file *f)
{
	struct kvm *kvm = f->kvm;
	struct gmem_inode *inode = f->inode;

	if (kvm->files)
		g_ptr_array_remove(kvm->files->opened, f);
	kvm_range_map_free(f->bindings);
	g_free(f);
	kvm_put_kvm(kvm);
	gmem_inode_put(inode);
}

/*
 * A run stopped with an actor inside a call that held a reference (fallocate, a fault's
 * get_pfn): at exit no call finishes, so the file goes without its release's locks and zap
 * (they may be held by that actor; the VM's tables go with the VM). Its slots forget it first.
 */
void
gmem_file_abandon(struct gmem_file *f)
{
	gmem_foreach_binding(f, 0, G_MAXUINT64, clear_slot_file, NULL);
	g_ptr_array_remove(f->inode->files, f);
	gmem_file_free(f);
}
