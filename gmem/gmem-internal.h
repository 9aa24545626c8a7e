/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the files of gmem/ share: the inode, the file, the fd table and host mappings.
 *
 * virt/kvm/guest_memfd.c was read in ColinIanKing/linux-next at 0726d3e1: the gmem_file /
 * gmem_inode split with a shared NUMA policy and GUEST_MEMFD_FLAG_INIT_SHARED, exports with
 * EXPORT_SYMBOL_FOR_KVM_INTERNAL (kvm@vger patch of 18 Sep 2025): the 6.18 cycle or later.
 */
#ifndef KVMSIM_GMEM_GMEM_INTERNAL_H
#define KVMSIM_GMEM_GMEM_INTERNAL_H

#include "gmem/gmem.h"
#include "mmu/range_map.h"
#include "sim/core/log.h"

/* One folio of the page cache: an order-0 frame (v6.18 warns on anything larger). */
struct gmem_folio {
	u64 index;
	SimPfn pfn;
	gboolean uptodate; /* zeroed (or populated): what kvm_gmem_mark_prepared() sets */
};

/* struct gmem_inode plus the inode and address_space fields guest_memfd uses. */
struct gmem_inode {
	SimSched *sched;
	SimLog *log;
	SimCounters *counters;
	SimHostMem *hm;
	guint ino;                   /* for logs: the creation number */
	u64 size;                    /* i_size, fixed at creation (setattr: -EINVAL) */
	u64 flags;                   /* GUEST_MEMFD_FLAG_* */
	GTree *folios;               /* u64 index -> struct gmem_folio (the page cache) */
	KvmRangeMap *attributes;     /* index -> KVM_MEMORY_ATTRIBUTE_PRIVATE or 0 (shared) */
	GPtrArray *files;            /* struct gmem_file, in creation order (i_private_list) */
	GPtrArray *vmas;             /* GmemVma: host mappings, for unmap_mapping_pages() */
	SimRwsem invalidate_lock;    /* mapping->invalidate_lock: filemap_invalidate_lock() */
	int i_count;                 /* files on the inode; it and its memory go at 0 */
	guint page_order;            /* PROPOSED HugeTLB folios: 9 or 18; 0: order-0 folios */
	GTree *huge_folios;          /* u64 first index -> struct gmem_huge_folio (hugetlb.c) */
};

/* struct gmem_file plus struct file's reference count. */
struct gmem_file {
	struct kvm *kvm;             /* pinned with kvm_get_kvm() */
	struct gmem_inode *inode;
	KvmRangeMap *bindings;       /* index -> memslot id + 1, 0 when unbound */
	int f_count;                 /* fds, mappings and transient users */
};

/* An entry of a process's fd table: a guest_memfd file or some other file. */
typedef struct {
	struct gmem_file *file;      /* NULL: an open fd that is not a guest_memfd */
} GmemFd;

/* A last reference dropped inside the kernel: __fput() waits for the task's task_work. */
typedef struct {
	struct gmem_file *file;
	gconstpointer task;          /* sim_sched_self() of the actor that dropped it */
} GmemDeferredFput;

struct gmem_fdtable {
	GPtrArray *fds;              /* GmemFd or NULL, indexed by fd number */
	guint next_ino;              /* inode numbers for logs, per process: deterministic */
	GArray *deferred;            /* GmemDeferredFput, in the order the references went */
	GPtrArray *opened;           /* every file of its VMs not yet released, in creation order */
};

/* A host mmap() of a guest_memfd: its PTEs, each holding a page reference. */
struct gmem_vma {
	struct gmem_file *file;      /* vma->vm_file (a reference) */
	u64 pgoff;
	u64 npages;
	GTree *ptes;                 /* u64 index -> SimPfn (boxed in a u64) */
};

/* GTree order of u64 page indices (folios, host PTEs). */
gint gmem_compare_index(gconstpointer a, gconstpointer b, gpointer unused);

/* fdtable.c */
#define GMEM_FD_NOT_GMEM (-1000) /* gmem_fget(): the fd is open but is no guest_memfd */
int gmem_fget(GmemFdTable *files, int fd, struct gmem_file **out);
/* The guest_memfd file behind fd without taking a reference, or NULL (inspection only). */
struct gmem_file *gmem_fd_peek(GmemFdTable *files, int fd);
/* get_file_active(): a reference unless the count already reached zero. */
gboolean gmem_get_file_active(struct gmem_file *file);
void gmem_get_file(struct gmem_file *file);
void gmem_fput(struct gmem_file *file);
/* fput() from kernel code that holds locks (a memslot update, a guest fault): a last reference
 * leaves the release to the task's next return to user mode or guest entry. */
void gmem_fput_deferred(struct gmem_file *file);
int gmem_fd_install(GmemFdTable *files, struct gmem_file *file);

/* inode.c */
struct gmem_inode *gmem_inode_new(struct kvm *kvm, u64 size, u64 flags);
struct gmem_file *gmem_file_new(struct kvm *kvm, struct gmem_inode *inode);
void gmem_inode_put(struct gmem_inode *inode);
/* At exit: a file that an actor stopped mid-call still referenced goes, with nothing modelled. */
void gmem_file_abandon(struct gmem_file *f);
struct gmem_folio *kvm_gmem_get_folio(struct gmem_inode *inode, u64 index);
struct gmem_folio *gmem_folio_lookup(struct gmem_inode *inode, u64 index);
void kvm_gmem_prepare_folio(struct gmem_inode *inode, struct gmem_folio *folio);
void gmem_truncate_range(struct gmem_inode *inode, u64 start, u64 end);
gboolean kvm_gmem_supports_mmap(const struct gmem_inode *inode);
gboolean kvm_gmem_is_shared_mem(const struct gmem_inode *inode, u64 index);
void kvm_gmem_release(struct gmem_file *file);

/* hugetlb.c: PROPOSED HugeTLB folios (gmem/proposed.h) */
int gmem_hugetlb_order(u64 flags);
struct gmem_folio *gmem_hugetlb_get_folio(struct gmem_inode *inode, u64 index);
void gmem_hugetlb_prepare_folio(struct gmem_inode *inode, struct gmem_folio *folio);
int gmem_hugetlb_max_order(struct gmem_inode *inode, u64 index);
void gmem_hugetlb_round_range(const struct gmem_inode *inode, u64 *start, u64 *end);
void gmem_hugetlb_split_range(struct gmem_inode *inode, u64 start, u64 end);
void gmem_hugetlb_merge_range(struct gmem_inode *inode, u64 start, u64 end);
void gmem_hugetlb_truncate(struct gmem_inode *inode, u64 start, u64 end);

/* invalidate.c */
unsigned int kvm_gmem_get_invalidate_filter(const struct gmem_inode *inode);
void __kvm_gmem_invalidate_begin(struct gmem_file *f, u64 start, u64 end,
				 unsigned int attr_filter);
void __kvm_gmem_invalidate_end(struct gmem_file *f, u64 start, u64 end);
void kvm_gmem_invalidate_begin(struct gmem_inode *inode, u64 start, u64 end,
			       unsigned int attr_filter);
void kvm_gmem_invalidate_end(struct gmem_inode *inode, u64 start, u64 end);
/* Every VM bound to [start, end) of inode: check no SPTE or unflushed TLB entry remains. */
void kvm_gmem_check_unmapped(struct gmem_inode *inode, u64 start, u64 end, const char *why);

/* mmap.c: unmap_mapping_pages() over [start, end) of every host mapping of inode */
void gmem_unmap_mapping_pages(struct gmem_inode *inode, u64 start, u64 end);

/* The slot a binding value names, in the file's VM's current memslots. */
struct kvm_memory_slot *gmem_binding_slot(struct gmem_file *f, u64 value);
/* Called for each memslot bound within a range of a file, with the gfns the range covers in it. */
typedef void (*GmemBindingFunc)(struct kvm_memory_slot *slot, gfn_t start, gfn_t end,
				gpointer data);
/* fn on each memslot bound within [start, end) of f's indices, in index order. */
void gmem_foreach_binding(struct gmem_file *f, u64 start, u64 end, GmemBindingFunc fn,
			  gpointer data);

static inline u64
kvm_gmem_get_index(const struct kvm_memory_slot *slot, gfn_t gfn)
{
	return gfn - slot->base_gfn + slot->gmem.pgoff;
}

#endif
