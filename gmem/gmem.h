/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * guest_memfd (virt/kvm/guest_memfd.c): the file that backs private guest memory.
 *
 * Two layers, as in the kernel's gmem_inode/gmem_file split: the *inode* is the storage (folios,
 * here frames of sim/core's host memory, the creation flags, per-index shareability) and lives
 * as long as any file on it; a *file* is one struct kvm's view (the VM it pins, the bindings of
 * its pages to that VM's memslots). Memory is freed only with the inode.
 *
 * A process's open files are a GmemFdTable (struct files_struct): KVM_CREATE_GUEST_MEMFD installs
 * an fd in the VM's table, memslots name the fd, and the VMM closes it. Functions that can block
 * (every lock is a yield point) must run inside an actor; kvm_gmem_create() and the inspection
 * helpers at the end never block.
 *
 * Merged behaviour is Linux v6.18's; what is PROPOSED (KVM_SET_MEMORY_ATTRIBUTES2 on the gmem fd,
 * KVM_LINK_GUEST_MEMFD) follows the series named in gmem/proposed.h.
 */
#ifndef KVMSIM_GMEM_GMEM_H
#define KVMSIM_GMEM_GMEM_H

#include <glib.h>

#include "gmem/proposed.h"
#include "mmu/mmu.h"

/* KVM_CREATE_GUEST_MEMFD (include/uapi/linux/kvm.h, v6.18). */
#define GUEST_MEMFD_FLAG_MMAP (1ull << 0)
#define GUEST_MEMFD_FLAG_INIT_SHARED (1ull << 1)
struct kvm_create_guest_memfd {
	u64 size;
	u64 flags;
	u64 reserved[6];
};

/* fallocate() modes (include/uapi/linux/falloc.h). */
#define FALLOC_FL_KEEP_SIZE 0x01
#define FALLOC_FL_PUNCH_HOLE 0x02

/* A host page fault that cannot be served (VM_FAULT_SIGBUS, include/linux/mm_types.h): a
 * positive code, distinct from 0 (mapped) and from negative errnos. */
#define GMEM_VM_FAULT_SIGBUS 0x0002

typedef struct gmem_fdtable GmemFdTable;
typedef struct gmem_vma GmemVma;
struct gmem_file;
struct gmem_inode;

/* A process's file table. Freeing it closes what is still open (from an actor if a file is
 * still bound, since release takes locks). */
GmemFdTable *gmem_fdtable_new(void);
void gmem_fdtable_free(GmemFdTable *files);
/* An fd that is open but is no guest_memfd (bind and link reject it with EINVAL). */
int gmem_fd_install_other(GmemFdTable *files);
/* close(2): 0, or -EBADF. Dropping the last reference releases the file (kvm_gmem_release()). */
int gmem_close(GmemFdTable *files, int fd);
/* task_work_run() of the calling actor: releases of files whose last reference a guest fault or
 * a memslot update dropped (the kernel defers __fput() to the task's return to user mode or
 * next guest entry). kvm_vcpu_enter_guest_prepare() and kvm_set_memory_region() run it; call it
 * when KVM_RUN returns to the VMM. */
void kvm_gmem_task_work_run(struct kvm *kvm);

/* Models kvm_gmem_get_supported_flags(): MMAP always; INIT_SHARED only for VMs without
 * private memory (kvm_arch_supports_gmem_init_shared() on x86). */
u64 kvm_gmem_get_supported_flags(struct kvm *kvm);
/* KVM_CREATE_GUEST_MEMFD: a new inode and one file, installed in kvm->files; the fd, or -EINVAL
 * (unknown flags, size not positive or not page aligned). The file pins the VM. */
int kvm_gmem_create(struct kvm *kvm, const struct kvm_create_guest_memfd *args);

/* Called by kvm_set_memory_region() (mmu/) for KVM_MEM_GUEST_MEMFD slots: -EBADF, -EINVAL, or 0
 * with slot->gmem filled in and KVM_MEMSLOT_GMEM_ONLY set when the inode is mmap-able. */
int kvm_gmem_bind(struct kvm *kvm, struct kvm_memory_slot *slot, unsigned int fd, u64 offset);
/* Called when a bound slot is deleted; nothing to do if the file was released already. */
void kvm_gmem_unbind(struct kvm_memory_slot *slot);

/*
 * Models kvm_gmem_get_pfn(): the folio backing gfn, allocated and zeroed (made uptodate) on first
 * use, with a frame reference the caller drops (sim_frame_put()) once its SPTE is installed or
 * abandoned. -EFAULT if the slot's file was released, -EIO if the index is not bound to slot,
 * -ENOMEM if host memory is exhausted. *max_order is 0 (order-0 folios only, as v6.18).
 */
int kvm_gmem_get_pfn(struct kvm *kvm, struct kvm_memory_slot *slot, gfn_t gfn, kvm_pfn_t *pfn,
		     int *max_order);

/* fallocate(2) on a guest_memfd fd: allocate, or PUNCH_HOLE (invalidate every bound VM, free
 * the folios). -EBADF, -EOPNOTSUPP (mode), -EINVAL (alignment, beyond EOF for allocate),
 * -ENOMEM, or 0. */
int kvm_gmem_fallocate(GmemFdTable *files, int fd, int mode, u64 offset, u64 len);

/* mmap(2) of [pgoff, pgoff + npages) of the file: -EBADF, -ENODEV (no GUEST_MEMFD_FLAG_MMAP),
 * -EINVAL (not MAP_SHARED, or an empty range), or 0 with *out. The mapping holds the file. */
int kvm_gmem_mmap(GmemFdTable *files, int fd, u64 pgoff, u64 npages, gboolean shared,
		  GmemVma **out);
/* munmap(2): drop every host PTE and the mapping's file reference. */
void kvm_gmem_munmap(GmemVma *vma);
/* Models kvm_gmem_fault_user_mapping(): map the page at file index pgoff (a host PTE holding a
 * page reference). 0 and *out, GMEM_VM_FAULT_SIGBUS (beyond EOF, or not shared), -ENOMEM, or
 * -EFAULT for an index outside the mapping (no VMA there: a SIGSEGV, not this handler). */
int kvm_gmem_fault_user_mapping(GmemVma *vma, u64 pgoff, SimPfn *out);
/* Models pin_user_pages(FOLL_LONGTERM) of the page at file index pgoff: faulted in as above
 * and referenced while its PTE is present. 0 and *out (drop with sim_frame_put()), or the
 * fault's error. */
int kvm_gmem_pin_user_page(GmemVma *vma, u64 pgoff, SimPfn *out);
/* A VMM load or store through the mapping at byte offset from its start (within one page),
 * faulting the page in if its PTE is gone: 0 or GMEM_VM_FAULT_SIGBUS (or -ENOMEM, -EFAULT). */
int kvm_gmem_host_access(GmemVma *vma, u64 offset, void *buf, guint len, gboolean write);

/*
 * PROPOSED (RFC v3): KVM_SET_MEMORY_ATTRIBUTES2 on the gmem fd; attrs->offset is a file offset.
 * 0; -EBADF; -ENOTTY (the VM keeps per-VM attributes, vm_memory_attributes); -EINVAL (reserved
 * or error_offset non-zero, size 0, misaligned, overflow or beyond EOF, unknown attribute or
 * flag, both content modes); -EOPNOTSUPP (content mode ZERO to private); -EAGAIN with
 * attrs->error_offset = the first page with extra references (a pin) after host PTEs were zapped.
 */
int kvm_gmem_set_memory_attributes2(GmemFdTable *files, int fd,
				    struct kvm_memory_attributes2 *attrs);

/* PROPOSED (Afranji RFC v2): KVM_LINK_GUEST_MEMFD: a new file on the inode of args->fd (looked
 * up in kvm->files), bound to kvm. The new fd, or -EINVAL (flags, bad fd, not a guest_memfd, or
 * a file of this same VM). */
int kvm_gmem_link(struct kvm *kvm, const struct kvm_link_guest_memfd *args);

/* RFC v3's kvm_gmem_get_memory_attributes(): the attributes of gfn as the gmem inode bound to
 * its slot holds them; 0 (shared) without a slot or with a released file. Lockless: callers rely
 * on the mmu_invalidate_seq recheck. */
u64 kvm_gmem_get_memory_attributes(struct kvm *kvm, gfn_t gfn);

/* Inspection for the VMM, invariants and tests (no locks, no yields). */
SimPfn kvm_gmem_folio_pfn(GmemFdTable *files, int fd, u64 index); /* SIM_PFN_NONE: no folio */
gboolean kvm_gmem_index_is_private(GmemFdTable *files, int fd, u64 index);
guint64 kvm_gmem_nr_folios(GmemFdTable *files, int fd);
/* For mmu/ invariants: the frame of the folio at index of the file bound to slot, and whether
 * that index is private, or FALSE if the slot has no file (never bound, or released). */
gboolean kvm_gmem_slot_folio(const struct kvm_memory_slot *slot, gfn_t gfn, SimPfn *out_pfn,
			     gboolean *out_private);

#endif
