/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The KVM x86 MMU model (TDP MMU, EPT), faithful to Linux v6.18: struct kvm and struct kvm_vcpu,
 * memslots, the page-fault path with the mmu_invalidate_seq protocol, MMU-notifier handlers and
 * remote TLB flushes. Names follow the kernel so this code can be read next to
 * arch/x86/kvm/mmu/{mmu.c,tdp_mmu.c,tdp_iter.c,spte.h} and virt/kvm/kvm_main.c. Each file's
 * header names the tree its kernel functions were read in, and how that tree was dated.
 *
 * The model never touches a CPU emulator: it reaches "hardware" only through struct kvm_hw_ops
 * (like kvm_x86_ops), and it runs on sim/core's actors, locks, frames and event log.
 */
#ifndef KVMSIM_MMU_MMU_H
#define KVMSIM_MMU_MMU_H

#include <glib.h>

#include "mmu/types.h"
#include "sim/core/counters.h"
#include "sim/core/hostmem.h"
#include "sim/core/lock.h"
#include "sim/core/mm.h"
#include "sim/core/mutations.h"
#include "sim/core/ptpool.h"
#include "sim/core/sched.h"

/* kvmsim's own limits, not the kernel's: x86's KVM_MAX_VCPUS was not read in any tree here (it
 * is far above 64), and include/linux/kvm_host.h (ColinIanKing/linux-next at a66ec810) defines
 * KVM_USER_MEM_SLOTS as SHRT_MAX less the arch's 3 internal slots (32764); kvmsim's machines use
 * 2 memslots plus one stack slot per vCPU (workloads/abi.h). */
#define KVM_MAX_VCPUS 64
#define KVM_USER_MEM_SLOTS 128
#define KVM_MEM_MAX_NR_PAGES ((1ull << 31) - 1)

/* KVM_SET_USER_MEMORY_REGION2 flags (include/uapi/linux/kvm.h) and internal slot flags. */
#define KVM_MEM_LOG_DIRTY_PAGES (1u << 0)
#define KVM_MEM_READONLY (1u << 1)
#define KVM_MEM_GUEST_MEMFD (1u << 2)
/* PROPOSED, both on bit 3 (guest-memfd.md §4.2, §4.3): which one a slot's bit 3 means is the
 * kernel's series, kvm->postcopy_uapi. KVM_MEM_EXIT_ON_MISSING: Anish Moorthy's v7 (2024-02);
 * KVM_MEM_USERFAULT: James Houghton's v3 (2025-06-18). */
#define KVM_MEM_EXIT_ON_MISSING (1u << 3)
#define KVM_MEM_USERFAULT (1u << 3)
#define KVM_MEMSLOT_INVALID (1u << 16)
/* The slot's guest_memfd is mmap-able: shared faults are served from it too (kvm_host.h). */
#define KVM_MEMSLOT_GMEM_ONLY (1u << 17)

/* VM types, KVM_CREATE_VM's argument on x86 (arch/x86/include/uapi/asm/kvm.h). */
#define KVM_X86_DEFAULT_VM 0
#define KVM_X86_SW_PROTECTED_VM 1

/* KVM_SET_MEMORY_ATTRIBUTES (include/uapi/linux/kvm.h, v6.18). */
#define KVM_MEMORY_ATTRIBUTE_PRIVATE (1ull << 3)
struct kvm_memory_attributes {
	u64 address;
	u64 size;
	u64 attributes;
	u64 flags;
};

/* enum of page-fault results (arch/x86/kvm/mmu/mmu_internal.h, v6.12+ order; no tree read for
 * mmu_internal.h). The order matches the TRACE_DEFINE_ENUM list of mmutrace.h in JonKohler/linux
 * at 3bc467de. */
enum {
	RET_PF_CONTINUE = 0,
	RET_PF_RETRY,
	RET_PF_EMULATE,
	RET_PF_WRITE_PROTECTED,
	RET_PF_INVALID,
	RET_PF_FIXED,
	RET_PF_SPURIOUS,
};
const char *ret_pf_name(int r);

/* vCPU requests, numbered as v6.18 numbers them (KVM_REQUEST_MASK bits of include/linux/kvm_host.h
 * and arch/x86/include/asm/kvm_host.h), so kvm_exit's requests field shows the kernel's bits.
 * KVM_REQUEST_ARCH_BASE and KVM_REQ_TLB_FLUSH's bit were read in kvm_host.h at a66ec810
 * (ColinIanKing/linux-next); KVM_REQ_MMU_FREE_OBSOLETE_ROOTS' x86 number (31, with WAIT and
 * NO_WAKEUP) in arch/x86/include/asm/kvm_host.h at 046408cf (pre-6.16; no newer copy read). */
#define KVM_REQUEST_ARCH_BASE 8
#define KVM_ARCH_REQ(nr) ((nr) + KVM_REQUEST_ARCH_BASE)
#define KVM_REQ_TLB_FLUSH 0
#define KVM_REQ_MMU_FREE_OBSOLETE_ROOTS KVM_ARCH_REQ(31)

/* struct kvm_userspace_memory_region2 (include/uapi/linux/kvm.h) */
struct kvm_userspace_memory_region2 {
	u32 slot;
	u32 flags;
	u64 guest_phys_addr;
	u64 memory_size;
	u64 userspace_addr;
	u64 guest_memfd_offset;
	u32 guest_memfd;
	unsigned long *userfault_bitmap; /* PROPOSED (KVM Userfault v3, from pad2): a user pointer */
};

struct gmem_file;
struct gmem_fdtable;
typedef struct KvmRangeMap KvmRangeMap;

/* struct kvm_lpage_info (arch/x86/include/asm/kvm_host.h): why a huge page may not map one
 * huge-page frame of a memslot; non-zero forbids it. KVM_LPAGE_MIXED_FLAG marks a frame whose
 * gfns' memory attributes differ. */
#define KVM_LPAGE_MIXED_FLAG (1u << 31)
struct kvm_lpage_info {
	u32 disallow_lpage;
};

/* KVM_NR_PAGE_SIZES on x86: 4K, 2M, 1G. */
#define KVM_NR_PAGE_SIZES 3

struct kvm_dirty_log_state;

/* struct kvm_memory_slot (include/linux/kvm_host.h); its dirty bitmap lives in dirty
 * (mmu/dirty_log.c, NULL when the slot does not log); of the arch data, lpage_info (per level
 * from 2M, one entry per huge-page frame the slot touches). */
struct kvm_memory_slot {
	gfn_t base_gfn;
	u64 npages;
	hva_t userspace_addr;
	u32 flags;
	u16 id;
	struct {
		struct gmem_file *file; /* NULL: no guest_memfd, or its file was released */
		u64 pgoff;              /* file page of base_gfn */
	} gmem;
	struct kvm_lpage_info *lpage_info[KVM_NR_PAGE_SIZES - 1];
	unsigned long *userfault_bitmap;  /* KVM_MEM_USERFAULT: the VMM's bitmap, one bit a page */
	struct kvm_dirty_log_state *dirty;
};

/* Models kvm_slot_has_gmem() and kvm_memslot_is_gmem_only() (include/linux/kvm_host.h). */
static inline gboolean
kvm_slot_has_gmem(const struct kvm_memory_slot *slot)
{
	return slot && (slot->flags & KVM_MEM_GUEST_MEMFD);
}

static inline gboolean
kvm_memslot_is_gmem_only(const struct kvm_memory_slot *slot)
{
	return slot && (slot->flags & KVM_MEMSLOT_GMEM_ONLY);
}

/* One immutable generation of the memslots, swapped under SRCU (struct kvm_memslots). */
struct kvm_memslots {
	u64 generation;
	int used_slots;
	struct kvm_memory_slot *slots[KVM_USER_MEM_SLOTS]; /* sorted by base_gfn */
};

/* struct kvm_mmu_memory_cache (include/linux/kvm_types.h): pre-allocated table pages. */
#define KVM_ARCH_NR_OBJS_PER_MEMORY_CACHE 40
struct kvm_mmu_memory_cache {
	int nobjs;
	u64 pa[KVM_ARCH_NR_OBJS_PER_MEMORY_CACHE];
};

/* The exits of KVM_RUN that concern memory (struct kvm_run, reduced). A fault that ends in
 * KVM_EXIT_MEMORY_FAULT returns -EFAULT (or -EHWPOISON) from kvm_handle_ept_violation(): KVM_RUN
 * returns -1 with that errno, and memory_fault says [gpa, gpa + size) and whether the access was
 * private. */
#define KVM_EXIT_MEMORY_FAULT 39
#define KVM_MEMORY_EXIT_FLAG_PRIVATE (1ull << 3)
/* PROPOSED (KVM Userfault v3): the exit is for a gfn whose userfault bit was set */
#define KVM_MEMORY_EXIT_FLAG_USERFAULT (1ull << 4)
struct kvm_run {
	u32 exit_reason;
	struct {
		u64 flags;
		u64 gpa;
		u64 size;
		u32 async_pf_user_token; /* PROPOSED async PF user (RFC, guest-memfd.md §4.4) */
	} memory_fault;
};

/* A zapped leaf translation a vCPU's TLB may still hold until it flushes. */
struct kvm_stale_tlb_entry {
	gfn_t gfn;
	kvm_pfn_t pfn;
	guint64 zap_step; /* the logical step of the zap (for the log) */
};

struct kvm_vcpu;
struct kvm_mmu_page;

/* The most pages flush_tlb_gfns() below is handed: the hardware invalidates that many one by
 * one, past it a whole flush is cheaper (and its page list holds no more). */
#define KVM_HW_FLUSH_TLB_GFNS_MAX 16

/* The hardware below the model (in the spirit of kvm_x86_ops). */
struct kvm_hw_ops {
	/* Flush this vCPU's whole TLB before it enters the guest (vmx_flush_tlb_all()). */
	void (*flush_tlb_all)(struct kvm_vcpu *vcpu);
	/* Point the vCPU at a new root and flush what the old one left in its TLB
	 * (vmx_load_mmu_pgd() followed by the flush kvm_mmu_load() asks for). */
	void (*load_mmu_pgd)(struct kvm_vcpu *vcpu, u64 root_pa);
	/* Optional: flush_tlb_all() where only these n pages (4K gfns, at most
	 * KVM_HW_FLUSH_TLB_GFNS_MAX) can hold a translation other than a walk would find now;
	 * NULL: flush_tlb_all() is used. */
	void (*flush_tlb_gfns)(struct kvm_vcpu *vcpu, const gfn_t *gfns, guint n);
	/* Async PF (mmu/async_pf.h); NULL in a machine without event injection. */
	/* kvm_inject_page_fault() of an async PF: #PF with CR2 = address, queued for the entry. */
	void (*queue_page_fault)(struct kvm_vcpu *vcpu, u64 address, u32 error_code);
	/* kvm_apic_set_irq(): a fixed vector made pending in the local APIC. */
	void (*apic_set_irq)(struct kvm_vcpu *vcpu, u8 vector);
	/* kvm_arch_interrupt_allowed(): RFLAGS.IF set and no interrupt shadow. */
	gboolean (*interrupt_allowed)(struct kvm_vcpu *vcpu);
	/* kvm_event_needs_reinjection() || kvm_is_exception_pending(). */
	gboolean (*event_pending)(struct kvm_vcpu *vcpu);
	/* get_cpl(). */
	int (*get_cpl)(struct kvm_vcpu *vcpu);
	/* Optional, no kernel counterpart: the host changed guest RAM code ran from, which a real
	 * CPU's instruction fetch sees at once; drop the vCPU's translations of [gpa, gpa + size).
	 * May come while the vCPU waits in an exit (its engine inside a hook). */
	void (*code_changed)(struct kvm_vcpu *vcpu, gpa_t gpa, u64 size);
};

/* vcpu->mode (include/linux/kvm_host.h, read in ColinIanKing/linux-next at a66ec810);
 * READING_SHADOW_PAGE_TABLES is for shadow paging, which kvmsim does not model. */
enum kvm_vcpu_mode {
	OUTSIDE_GUEST_MODE,
	IN_GUEST_MODE,
	EXITING_GUEST_MODE,
};

struct kvm_vcpu {
	struct kvm *kvm;
	int vcpu_id;
	int mode;                            /* enum kvm_vcpu_mode: IN_GUEST_MODE from the entry
					      * (sim_kvm_vmenter() in sim/cpu) to the VM exit */
	gulong requests;                     /* KVM_REQ_* bits */
	u8 ipi_vector;                       /* the highest vector of the IPIs sent to the vCPU
					      * IN_GUEST_MODE (0: none), taken at its entry */
	struct kvm_mmu_memory_cache mmu_shadow_page_cache;
	struct kvm_mmu_page *root;            /* arch.mmu->root */
	guint64 srcu_idx;                     /* held from exit to the next entry */
	gboolean srcu_held;
	GArray *stale_tlb;                    /* struct kvm_stale_tlb_entry */
	GPtrArray *stale_tables;              /* struct kvm_mmu_page * unlinked from the valid
					       * root since the last flush (paging-structure
					       * caches); never logged */
	GArray *tlb_writable;                 /* struct kvm_stale_tlb_entry: writable translations
					       * the CPU cached by a guest write (exit-level
					       * <guest_write>), until its next flush */
	gboolean stale_entered;               /* entered the guest with stale_tlb non-empty
					       * since its last flush (for the log) */
	guint64 stale_entry_step;             /* the first such entry's step */
	u64 tlb_log_mark;                     /* tdp_mmu_tlb_writes at the last TLB flush */
	u64 rip;                              /* of the exit being handled, for tracepoints */
	struct kvm_run run;
	gpointer hw;                          /* the emulated CPU behind this vCPU */
	struct kvm_vcpu_async_pf *async_pf;   /* async_pf and arch.apf (mmu/async_pf.h) */
	struct kvm_memory_slot *last_used_slot; /* kvm_vcpu_gfn_to_memslot()'s cache, valid */
	u64 last_used_slot_gen;               /* while the memslots have this generation */
	struct {                              /* the last kvm_tdp_mmu_get_walk_last() */
		struct kvm_mmu_page *root;    /* NULL: none */
		gfn_t gfn;
		u64 *sptep;
		u64 spte;
		int level;
		u64 spte_writes;              /* tdp_mmu_spte_writes then */
	} last_walk;
};

struct kvm {
	SimSched *sched;
	SimLog *log;
	SimCounters *counters;
	SimMm *mm;
	SimHostMem *hm;
	SimPtPool *pt_pool;
	const struct kvm_hw_ops *hw_ops;

	SimRwlock mmu_lock;                   /* rwlock_t on x86 (KVM_HAVE_MMU_RWLOCK) */
	SimMutex slots_lock;
	SimSrcu srcu;
	struct kvm_memslots *memslots;        /* read under srcu; ->generation is the MMIO one */
	struct kvm_memslots *memslots_swapping[2]; /* a swap's next (not yet published) and old
						    * (published over, awaiting SRCU) generations:
						    * kvm_destroy_vm() frees them if the swapping
						    * actor was abandoned */
	u8 mmu_valid_gen;                     /* arch.mmu_valid_gen, toggled by a fast zap */

	unsigned long mmu_invalidate_seq;     /* bumped at the end of every invalidation */
	long mmu_invalidate_in_progress;      /* invalidations between begin and end */
	gfn_t mmu_invalidate_range_start;     /* union of ranges while in progress */
	gfn_t mmu_invalidate_range_end;
	SimSpinlock mn_invalidate_lock;
	unsigned long mn_active_invalidate_count;

	struct kvm_vcpu *vcpus[KVM_MAX_VCPUS];
	int online_vcpus;
	GPtrArray *tdp_mmu_roots;             /* struct kvm_mmu_page *, valid and invalid */
	SimSrcu rcu;                          /* walkers of the TDP MMU's tables */
	GArray *rcu_freed;                    /* tables waiting for a grace period */
	GPtrArray *tdp_mmu_removing;          /* tables unlinked, not yet handed to RCU (a shared
					       * zap yields in between): freed at VM destruction
					       * if their zapper was abandoned */
	gboolean gmem_hugetlb;                /* PROPOSED HugeTLB guest_memfd folios available
					       * (CONFIG_KVM_GMEM_HUGETLB with the 1G series,
					       * gmem/hugetlb.c); off: v6.18's guest_memfd */
	GPtrArray *lpage_info_arrays;         /* every lpage_info array made: the copies of a
					       * slot share them, so the VM owns them */
	gboolean mmio_caching;                /* enable_mmio_caching */
	gboolean slot_zap_all;                /* KVM_X86_QUIRK_SLOT_ZAP_ALL (on by default) */

	unsigned long vm_type;                /* arch.vm_type: KVM_X86_*_VM */
	gboolean has_private_mem;             /* arch.has_private_mem */
	gboolean vm_memory_attributes;        /* PROPOSED module param (RFC v3): TRUE keeps the
					       * per-VM attributes below (legacy); FALSE asks the
					       * gmem inode (in-place conversion) */
	KvmRangeMap *mem_attr_array;          /* gfn -> KVM_MEMORY_ATTRIBUTE_* (0 = shared) */
	int users_count;                      /* kvm_get_kvm()/kvm_put_kvm() */
	struct gmem_fdtable *files;           /* current->files of the VMM that made the VM */
	gboolean files_owned;                 /* created with the VM, freed with it */
	SimMutations mutations;               /* bugs planted on purpose (sim/core/mutations.h) */
	int postcopy_uapi;                    /* enum kvm_postcopy_uapi: the PROPOSED series this
					       * kernel carries (what memslot flag bit 3 means) */
	int apf_mode;                         /* KvmApfMode (mmu/async_pf.h); 0: none */
	gboolean hv_tlb_flush;                /* KVM runs on Hyper-V with the enlightened
					       * (ranged) EPT flush: kvm_x86_ops'
					       * flush_remote_tlbs(_range) are hv_*(); off: VMX's
					       * KVM_REQ_TLB_FLUSH requests */
	gboolean nx_huge_pages;               /* the nx_huge_pages module param (iTLB multihit
					       * mitigation): exec faults map 4K, huge leaves are
					       * not executable; off by default in kvmsim */
	unsigned int nx_huge_pages_recovery_ratio; /* module param: 1/ratio of the possible NX
						    * huge pages are zapped per worker pass */
	SimSpinlock tdp_mmu_pages_lock;       /* arch.tdp_mmu_pages_lock */
	GPtrArray *possible_nx_huge_pages;    /* struct kvm_mmu_page *, oldest first */
	GPtrArray *dirty_logs;                /* struct kvm_dirty_log_state, owned (dirty_log.c) */
	int nr_dirty_log_slots;               /* published slots with KVM_MEM_LOG_DIRTY_PAGES */
	gboolean manual_dirty_log_protect;    /* KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 enabled */
	gboolean ept_ad;                      /* kvm_ad_enabled: EPT A/D bits on, set by the CPU
					       * (off: kvm_mmu_set_ept_masks(has_ad_bits=false),
					       * kvmsim's default) */
	struct kvm_audit_mark {               /* what kvmsim's audit (mmu/audit.c) walked last */
		gboolean walked;              /* the marks below hold: the last audit passed */
		u64 spte_writes;              /* tdp_mmu_spte_writes then */
		guint64 freed, invalidations, generation;
		guint nr_roots;
		guintptr roots[8];            /* each audited root's address | its validity */
	} audit;
	struct kvm_async_pf_pool *apf_pool;   /* the workers of async PF (system_wq's kworkers) */
	SimWaitFn apf_ended;                  /* the guest ended: idle workers return */
	gpointer apf_ended_data;
};

/* The PROPOSED userspace fault series a kernel may carry (mmu/userfault.c). */
enum kvm_postcopy_uapi {
	KVM_POSTCOPY_UAPI_NONE,            /* v6.18: bit 3 is refused */
	KVM_POSTCOPY_UAPI_EXIT_ON_MISSING, /* Anish Moorthy's v7: KVM_CAP_EXIT_ON_MISSING (236) */
	KVM_POSTCOPY_UAPI_USERFAULT,       /* James Houghton's v3: KVM_CAP_USERFAULT */
};

/* Models kvm_is_slot_exit_on_missing() (v7, include/linux/kvm_host.h). */
gboolean kvm_is_slot_exit_on_missing(const struct kvm *kvm, const struct kvm_memory_slot *slot);
/* Models kvm_is_userfault_memslot() (KVM Userfault v3, include/linux/kvm_host.h). */
gboolean kvm_is_userfault_memslot(const struct kvm *kvm, const struct kvm_memory_slot *slot);

/* Create a VM on the given host; registers its MMU notifier with mm. */
struct kvm *kvm_create_vm(SimSched *sched, SimHostMem *hm, SimPtPool *pt_pool, SimMm *mm,
			  SimCounters *counters, const struct kvm_hw_ops *hw_ops);
/* KVM_CREATE_VM's argument and what the VMM process brings. */
struct kvm_create_vm_args {
	unsigned long type;          /* KVM_X86_DEFAULT_VM or KVM_X86_SW_PROTECTED_VM */
	gboolean gmem_attributes;    /* in-place conversion: !vm_memory_attributes (RFC v3) */
	struct gmem_fdtable *files;  /* the VMM's file table (gmem fds); NULL: the VM's own */
};
/* kvm_create_vm() with a type: 0 and *out, or -EINVAL for a type x86 does not support
 * (kvm_arch_init_vm() via kvm_is_vm_type_supported()). */
int kvm_create_vm_with(SimSched *sched, SimHostMem *hm, SimPtPool *pt_pool, SimMm *mm,
		       SimCounters *counters, const struct kvm_hw_ops *hw_ops,
		       const struct kvm_create_vm_args *args, struct kvm **out);
/* The final teardown; with guest_memfd files open use kvm_put_kvm() instead: each file holds
 * a reference, and the VM goes when the last one is dropped. */
void kvm_destroy_vm(struct kvm *kvm);
/* Memslot generations not yet freed, over every VM in the process: 0 once all are destroyed,
 * whatever actor was abandoned mid-swap (a debug count for the teardown tests). */
guint kvm_memslots_live(void);
void kvm_get_kvm(struct kvm *kvm);
void kvm_put_kvm(struct kvm *kvm);

/* KVM_SET_MEMORY_ATTRIBUTES (kvm_vm_ioctl_set_mem_attributes()): 0, or -EINVAL (flags,
 * attributes the VM does not support, size 0, overflow, misalignment). Zaps the range in every
 * memslot inside an mmu_invalidate window, then stores. Call from an actor. */
int kvm_vm_ioctl_set_mem_attributes(struct kvm *kvm, const struct kvm_memory_attributes *attrs);
/* Models kvm_get_memory_attributes() and kvm_mem_is_private() (include/linux/kvm_host.h). */
u64 kvm_get_memory_attributes(struct kvm *kvm, gfn_t gfn);
gboolean kvm_mem_is_private(struct kvm *kvm, gfn_t gfn);
/* Models kvm_supported_mem_attributes() (kvm_main.c). */
u64 kvm_supported_mem_attributes(struct kvm *kvm);
/* KVM_CREATE_VCPU. */
struct kvm_vcpu *kvm_vm_ioctl_create_vcpu(struct kvm *kvm, int id, gpointer hw);

/* KVM_SET_USER_MEMORY_REGION2: create, delete (size 0), move, flags; KVM_MEM_GUEST_MEMFD slots
 * bind [guest_memfd_offset, +memory_size) of the fd guest_memfd (in kvm->files) and can only be
 * created or deleted. 0 or a negative errno as the ioctl returns it. Called from an actor or
 * during set-up. */
int kvm_set_memory_region(struct kvm *kvm, const struct kvm_userspace_memory_region2 *mem);
struct kvm_memory_slot *kvm_vcpu_gfn_to_memslot(struct kvm_vcpu *vcpu, gfn_t gfn);
struct kvm_memory_slot *gfn_to_memslot(struct kvm *kvm, gfn_t gfn);
struct kvm_memory_slot *kvm_id_to_memslot(struct kvm *kvm, int id);
hva_t gfn_to_hva_memslot(const struct kvm_memory_slot *slot, gfn_t gfn);

/* Dirty logging (mmu/dirty_log.c, docs/dirty-log.md). KVM_GET_DIRTY_LOG of memslot id into
 * bitmap (one bit per page, npages bits): 0 or -ENOENT (no such slot, or it does not log). */
int kvm_vm_ioctl_get_dirty_log(struct kvm *kvm, int id, gulong *bitmap);
/* KVM_CLEAR_DIRTY_LOG of the whole memslot id with the bits of bitmap (those past the slot's
 * last page are ignored; manual protect is not required, as in kvm_clear_dirty_log_protect()):
 * 0 or -ENOENT. */
int kvm_vm_ioctl_clear_dirty_log(struct kvm *kvm, int id, const gulong *bitmap);
/* KVM_ENABLE_CAP(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2) with KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE. */
void kvm_vm_ioctl_enable_manual_dirty_log_protect(struct kvm *kvm);
/* Words of a bitmap for npages pages. */
gsize kvm_dirty_bitmap_words(u64 npages);
/* The CPU stores to gpa in guest mode: through a writable translation its TLB holds, else
 * through a writable leaf of its root (cached then). FALSE: the store takes an EPT violation. */
gboolean kvm_vcpu_guest_write(struct kvm_vcpu *vcpu, gpa_t gpa);

/* Models kvm_max_level_for_order() (mmu.c): the largest level a folio of that order can map. */
int kvm_max_level_for_order(int order);

/* Models kvm_mmu_zap_all_fast() in arch/x86/kvm/mmu/mmu.c: invalidate every root at once. */
void kvm_mmu_zap_all_fast(struct kvm *kvm);

/* kvm_mmu_load(): make sure the vCPU has a root; returns its physical address (CR3/EPTP). */
u64 kvm_mmu_load(struct kvm_vcpu *vcpu);
/* The vCPU's root: its physical address (0 if none) and whether it is still valid. */
u64 kvm_mmu_root_pa(const struct kvm_vcpu *vcpu);
gboolean kvm_mmu_root_valid(const struct kvm_vcpu *vcpu);
/* The part of vcpu_enter_guest() that serves requests before entry (arch/x86/kvm/x86.c). */
void kvm_vcpu_enter_guest_prepare(struct kvm_vcpu *vcpu);
/* Its two halves, around kvm_check_and_inject_events(): the requests, then kvm_mmu_reload(). */
void kvm_vcpu_serve_requests(struct kvm_vcpu *vcpu);
void kvm_vcpu_mmu_reload(struct kvm_vcpu *vcpu);
/* Whether a TLB flush or a new root is due before the vCPU may run guest code again. */
gboolean kvm_vcpu_flush_due(const struct kvm_vcpu *vcpu);
/* vcpu_enter_guest()'s check before trace_kvm_entry(): a flush or new root requested since the
 * requests were served (while the vCPU was outside guest mode) cancels the entry; TRUE, logged. */
gboolean kvm_vcpu_exit_request(struct kvm_vcpu *vcpu);
/* Models kvm_vcpu_kick() (virt/kvm/kvm_main.c): a vCPU IN_GUEST_MODE becomes EXITING_GUEST_MODE,
 * its reschedule IPI pending until the VM entry, which exits at once (sim_kvm_vmenter()). */
void kvm_vcpu_kick(struct kvm_vcpu *vcpu);
/* The invariant of every VM entry: no flush or new root due (fails the run otherwise). */
void kvm_vcpu_check_entry(struct kvm_vcpu *vcpu);
/* SRCU around exit handling, as vcpu_enter_guest() drops it across the guest run. */
void kvm_vcpu_srcu_read_lock(struct kvm_vcpu *vcpu);
void kvm_vcpu_srcu_read_unlock(struct kvm_vcpu *vcpu);

/* Models handle_ept_violation() in arch/x86/kvm/vmx/vmx.c: trace, PFERR (computed by
 * __vmx_handle_ept_violation() in vmx/common.h, see fault.c), kvm_mmu_page_fault().
 * Returns RET_PF_* (>= 0) or a negative errno for KVM_RUN (run.exit_reason says why). */
int kvm_handle_ept_violation(struct kvm_vcpu *vcpu, gpa_t gpa, u64 exit_qualification, u64 rip);
/* Models handle_ept_misconfig(): an MMIO SPTE was hit. */
int kvm_handle_ept_misconfig(struct kvm_vcpu *vcpu, gpa_t gpa, u64 rip);
int kvm_mmu_page_fault(struct kvm_vcpu *vcpu, gpa_t gpa, u64 error_code);
/* The prefetch fault of kvm_arch_async_page_ready(). */
int kvm_mmu_prefault_page(struct kvm_vcpu *vcpu, gpa_t gpa, u64 error_code);

/* Lockless read of the last SPTE on the walk to gpa (kvm_tdp_mmu_get_walk()); *out_level
 * receives its level. Used by the "hardware" to tell an EPT misconfig from a violation. */
u64 kvm_tdp_mmu_get_walk_last(struct kvm_vcpu *vcpu, gpa_t gpa, int *out_level);

/* VMX exit reasons (arch/x86/include/uapi/asm/vmx.h) that kvmsim's vCPUs take. */
#define EXIT_REASON_EXCEPTION_NMI 0
#define EXIT_REASON_EXTERNAL_INTERRUPT 1
#define EXIT_REASON_TRIPLE_FAULT 2
#define EXIT_REASON_INTERRUPT_WINDOW 7
#define EXIT_REASON_HLT 12
#define EXIT_REASON_VMCALL 18
#define EXIT_REASON_IO_INSTRUCTION 30
#define EXIT_REASON_MSR_WRITE 32
#define EXIT_REASON_EPT_VIOLATION 48
#define EXIT_REASON_EPT_MISCONFIG 49

/* VM-exit interruption information (arch/x86/include/asm/vmx.h). */
#define INTR_INFO_VALID_MASK 0x80000000u
#define INTR_INFO_DELIVER_CODE_MASK 0x800u
#define INTR_TYPE_EXT_INTR (0u << 8)
#define INTR_TYPE_HARD_EXCEPTION (3u << 8)
/* The host's local APIC timer vector (arch/x86/include/asm/irq_vectors.h). */
#define LOCAL_TIMER_VECTOR 0xec
/* The reschedule IPI's vector, which kvm_vcpu_kick() sends (smp_send_reschedule();
 * irq_vectors.h, read in googleprodkernel/linux-kvm at 4f5929c2). */
#define RESCHEDULE_VECTOR 0xfd
/* The function-call IPIs' vectors, which smp_call_function_many() sends to one CPU or to several
 * (kernel/smp.c smp_call_function_many_cond(), read in ColinIanKing/linux-next at 878b9569;
 * irq_vectors.h in googleprodkernel/linux-kvm at 4f5929c2). */
#define CALL_FUNCTION_VECTOR 0xfc
#define CALL_FUNCTION_SINGLE_VECTOR 0xfb

/* I/O exit qualification (SDM 28.2.1, table 28-5; the kernel's handle_io() decodes it). */
#define IO_QUAL_SIZE_MASK 0x7u       /* access size - 1 */
#define IO_QUAL_IN (1u << 3)
#define IO_QUAL_STRING (1u << 4)
#define IO_QUAL_REP (1u << 5)
#define IO_QUAL_IMM (1u << 6)        /* port from an immediate, not DX */
#define IO_QUAL_PORT_SHIFT 16

/* What vmx_get_exit_info() reports about one exit; info2 (IDT vectoring) is always zero here. */
struct kvm_exit_info {
	u32 reason;
	u64 rip;
	u64 info1;      /* exit qualification */
	u32 intr_info;  /* exit interruption information */
	u32 error_code; /* its error code, if it delivers one */
	u32 info2;      /* IDT-vectoring information: an event whose delivery the exit cut short */
};

/* The kvm tracepoints (arch/x86/kvm/trace.h) as v6.18 prints them; see mmu/x86trace.c. */
void trace_kvm_exit(struct kvm_vcpu *vcpu, const struct kvm_exit_info *exit);
/* kvm_entry with the event the entry injects: VM_ENTRY_INTR_INFO_FIELD (0: none) and its
 * error code. */
void trace_kvm_entry(struct kvm_vcpu *vcpu, u64 rip, u32 intr_info, u32 error_code);
void trace_kvm_inj_virq(struct kvm_vcpu *vcpu, u32 vector, gboolean soft, gboolean reinjected);
void trace_kvm_inj_exception(struct kvm_vcpu *vcpu, u8 vector, gboolean has_error,
			     u32 error_code, gboolean reinjected);
void trace_kvm_pio(struct kvm_vcpu *vcpu, gboolean in, u32 port, u32 size, u32 value);
void trace_kvm_hypercall(struct kvm_vcpu *vcpu, u64 nr, const u64 args[4]);

/* One pass of the NX huge page recovery worker (kvm_nx_huge_page_recovery_worker() ->
 * kvm_recover_nx_huge_pages(), arch/x86/kvm/mmu/mmu.c): zap 1/ratio of the page tables exec
 * faults made, so that the memory can be mapped huge again. Call from an actor. */
void kvm_nx_huge_page_recovery_worker(struct kvm *kvm);

/* Models kvm_flush_remote_tlbs() in virt/kvm/kvm_main.c. */
void kvm_flush_remote_tlbs(struct kvm *kvm);
/* Models kvm_flush_remote_tlbs_range() (kvm_main.c): the hypervisor's ranged flush of
 * [gfn, gfn + nr_pages) with hv_tlb_flush, else a whole flush. */
void kvm_flush_remote_tlbs_range(struct kvm *kvm, gfn_t gfn, u64 nr_pages);

/* enum kvm_gfn_range_filter (include/linux/kvm_host.h): which mappings an invalidation is
 * about. Only VMs with mirrored TDP (TDX) pick roots by it; SW-protected VMs zap everything in
 * range (kvm_gfn_range_filter_to_root_types()). */
#define KVM_FILTER_SHARED (1u << 0)
#define KVM_FILTER_PRIVATE (1u << 1)

/* struct kvm_gfn_range (include/linux/kvm_host.h) */
struct kvm_gfn_range {
	struct kvm_memory_slot *slot;
	gfn_t start;
	gfn_t end;
	u64 attributes;           /* arg.attributes of a memory-attribute change */
	unsigned int attr_filter; /* KVM_FILTER_* */
	gboolean may_block;
};

/* The mmu_invalidate window (virt/kvm/kvm_main.c), for MMU notifiers and guest_memfd: begin
 * and end with mmu_lock held for write; kvm_mmu_unmap_gfn_range() adds the range and zaps it,
 * returning whether a TLB flush is due. */
void kvm_mmu_invalidate_begin(struct kvm *kvm);
void kvm_mmu_invalidate_range_add(struct kvm *kvm, gfn_t start, gfn_t end);
void kvm_mmu_invalidate_end(struct kvm *kvm);
gboolean kvm_mmu_unmap_gfn_range(struct kvm *kvm, struct kvm_gfn_range *range);

/*
 * x86's side of KVM_SET_MEMORY_ATTRIBUTES (mmu/huge_page.c, from arch/x86/kvm/mmu/mmu.c), per
 * memslot with mmu_lock held for write. pre: inside the invalidation, widen it to the huge-page
 * frames at the range's head and tail that may be mapped huge now, and zap the range's mappings
 * of the old kind. post (after kvm_mmu_invalidate_end(), slots_lock held too): recompute
 * KVM_LPAGE_MIXED_FLAG over the range for range->attributes. Both return whether to flush.
 */
gboolean kvm_arch_pre_set_memory_attributes(struct kvm *kvm, struct kvm_gfn_range *range);
gboolean kvm_arch_post_set_memory_attributes(struct kvm *kvm, struct kvm_gfn_range *range);

/* Invariant (a punched or converted page is unreachable): no present leaf SPTE maps a gfn of
 * [start, end), and no vCPU without a pending flush may still hold a zapped translation of one.
 * Reported under the invariant name why. */
void kvm_mmu_check_range_unmapped(struct kvm *kvm, gfn_t start, gfn_t end, const char *why);

/* Tests and dumps: the leaf SPTE that maps gfn in the VM's valid root, or
 * SHADOW_NONPRESENT_VALUE. */
u64 kvm_tdp_mmu_leaf_spte(struct kvm *kvm, gfn_t gfn, int *out_level);
/* Number of present leaf SPTEs. */
guint64 kvm_tdp_mmu_count_present(struct kvm *kvm);
/* kvmsim's per-step audit (mmu/audit.c): FALSE, with the run failed, at a broken invariant;
 * with epoch, the walks run only when what they read changed since (*epoch 0: the first). */
gboolean kvm_mmu_audit(struct kvm *kvm, guint64 *epoch);

#endif
