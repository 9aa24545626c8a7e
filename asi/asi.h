/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Address Space Isolation (DESIGN.md §6): host page tables in x86-64 format, the unrestricted PGD
 * of an mm, the global nonsensitive tables, a restricted PGD per (mm, class), host objects with a
 * sensitivity, asi_map/asi_unmap with TLB shootdown, per-CPU TLBs tagged by PCID, and the
 * enter/relax/exit state machine in the order of the ASI v2 RFC (reference/asi.md §2.3).
 * Kernel functions were read in bjackman/linux (the [branch] of reference/asi.md):
 * arch/x86/mm/asi.c at 003868f6, arch/x86/include/asm/asi.h at 0c9d9480,
 * include/linux/asi_exit.h at 1705e86e; and the v2 RFC's #PF patch (arch/x86/mm/fault.c
 * exc_page_fault, kernel_access_ok, warn_if_bad_asi_pf) as the index holds it.
 * The simulator's wiring (yield points, invariants, log, the KVM run loop) is asi/asi-sim.h.
 */
#ifndef KVMSIM_ASI_ASI_H
#define KVMSIM_ASI_ASI_H

#include <glib.h>

/* x86-64 PTE bits (arch/x86/include/asm/pgtable_types.h). */
#define _PAGE_PRESENT (1ull << 0)
#define _PAGE_RW (1ull << 1)
#define _PAGE_USER (1ull << 2)
#define _PAGE_ACCESSED (1ull << 5)
#define _PAGE_DIRTY (1ull << 6)
#define _PAGE_PSE (1ull << 7)
#define _PAGE_GLOBAL (1ull << 8)
#define _PAGE_NX (1ull << 63)
#define PTE_PFN_MASK 0x000ffffffffff000ull
#define PTRS_PER_PGD 512
#define KERNEL_PGD_BOUNDARY 256
#define ASI_PAGE_SIZE 4096ull
/* The direct map base (x86-64 4-level PAGE_OFFSET without KASLR). */
#define ASI_PAGE_OFFSET 0xffff888000000000ull

/* CR3: PCID in bits 0-11, NOFLUSH bit 63 (never set by ASI, reference §1.4). */
#define X86_CR3_PCID_MASK 0xfffull
#define X86_CR3_PCID_NOFLUSH (1ull << 63)
/* [inference] ASI's class bits sit just below the PTI user bit 11: CR3_AVAIL_PCID_BITS = 12 - 1 - 2
 * (v1 08/26, ASI_MAX_NUM_ORDER = 2), so the shift is 9. */
#define X86_CR3_ASI_PCID_BITS_SHIFT 9

/* Taints (v2 03/29, asm/asi.h). */
typedef guint8 asi_taints_t;
#define ASI_TAINT_KERNEL_DATA (1u << 0)
#define ASI_TAINT_USER_DATA (1u << 1)
#define ASI_TAINT_GUEST_DATA (1u << 2)
#define ASI_TAINT_OTHER_MM_DATA (1u << 3)
#define ASI_TAINT_USER_CONTROL (1u << 4)
#define ASI_TAINT_GUEST_CONTROL (1u << 5)
#define ASI_TAINT_OTHER_MM_CONTROL (1u << 6)
#define ASI_TAINTS_CONTROL_MASK                                                                    \
	(ASI_TAINT_USER_CONTROL | ASI_TAINT_GUEST_CONTROL | ASI_TAINT_OTHER_MM_CONTROL)
#define ASI_TAINTS_DATA_MASK (ASI_TAINT_KERNEL_DATA | ASI_TAINT_USER_DATA | ASI_TAINT_OTHER_MM_DATA)
#define ASI_TAINTS_GUEST_MASK (ASI_TAINT_GUEST_DATA | ASI_TAINT_GUEST_CONTROL)
#define ASI_TAINTS_USER_MASK (ASI_TAINT_USER_DATA | ASI_TAINT_USER_CONTROL)

enum asi_class_id { ASI_CLASS_KVM, ASI_CLASS_USERSPACE, ASI_MAX_NUM_CLASSES };

/* include/linux/asi_exit.h in the branch, as reference §2.1 lists it. */
enum asi_exit_reason {
	ASI_EXIT_PAGE_FAULT,
	ASI_EXIT_USER_RET,
	ASI_EXIT_CONTEXT_SWITCH,
	ASI_EXIT_TLB_FLUSH,
	ASI_EXIT_MISC,
	NR_ASI_EXIT_REASONS
};

struct asi_taint_policy {
	asi_taints_t prevent_control; /* control taints flushed when entering this class */
	asi_taints_t protect_data;    /* data taints flushed when entering this class */
	asi_taints_t set;             /* taints ORed in once this class is entered */
};

/* Kinds of host objects and whether v2 maps them in the restricted space. */
typedef enum {
	ASI_OBJ_KERNEL,     /* buddy/slab kernel allocations: nonsensitive in v2 */
	ASI_OBJ_USER,       /* anonymous user pages (GFP_USER ⇒ __GFP_SENSITIVE) */
	ASI_OBJ_PAGE_CACHE, /* file pages (GFP_USER) */
	ASI_OBJ_GUEST_RAM,  /* guest RAM: the VMM's user memory */
	ASI_OBJ_NR
} AsiObjKind;

typedef struct {
	gboolean sensitive[ASI_OBJ_NR]; /* defaults: v2 (user, page cache, guest RAM sensitive) */
	gboolean l1tf;                  /* boot CPU has X86_BUG_L1TF: data flush is an L1D flush */
	gboolean ibpb;                  /* X86_FEATURE_IBPB: control flush writes PRED_CMD */
	/* IBPB-on-VM-exit + retpoline + RSB-fill-on-VM-exit all present: KVM sets GUEST_DATA,
	 * otherwise GUEST_CONTROL (kvm_x86_init_asi_class, v2 21/29). */
	gboolean kvm_vmexit_mitigated;
	guint nr_cpus;
	guint tlb_entries; /* per-CPU TLB capacity (entries evicted oldest first) */
} AsiConfig;

void asi_config_init(AsiConfig *config);

/* Models struct asi (v2 03/29): one restricted address space. */
struct asi {
	guint64 pgd;              /* physical address of the restricted PGD */
	struct asi_mm *mm;        /* owning mm */
	gint64 ref_count;         /* asi_init()/asi_destroy() pairs */
	enum asi_class_id class_id;
};

/* Models the ASI-relevant part of struct mm_struct. */
struct asi_mm {
	guint64 pgd;                            /* unrestricted PGD */
	guint16 asid;                           /* the dynamic ASID it loads with */
	struct asi asi[ASI_MAX_NUM_CLASSES];    /* mm->asi[] */
};

/* Models thread.asi_state plus the preemption state of a task. */
typedef struct {
	struct asi *target;   /* domain to be in in process context; non-NULL = tense */
	int intr_nest_depth;  /* interrupts nested inside a tense region */
	int preempt_count;    /* > 0: preemption disabled */
	struct asi_mm *mm;
	struct asi *started;  /* --asi-api critical: between asi_start() and asi_end() */
} AsiTask;

typedef struct {
	guint16 pcid;
	guint64 vpn;     /* virtual page number */
	guint64 pte;     /* the leaf the walk found (4K granularity) */
	guint64 stamp;   /* insertion order, for eviction */
} AsiTlbEntry;

typedef struct AsiHost AsiHost;

/* Per host CPU: curr_asi, CR3, asi_taints, cpu_tlbstate, IRQ state and the TLB. */
typedef struct {
	AsiHost *host;
	guint id;
	struct asi *curr_asi;
	guint64 cr3;
	asi_taints_t taints;
	struct asi_mm *loaded_mm;
	gboolean irqs_disabled;
	AsiTask *current;
	AsiTlbEntry *tlb;
	guint tlb_used;
	guint64 tlb_stamp;
} AsiCpu;

/* What a step of the state machine did; each is a place an interrupt can arrive. */
typedef enum {
	ASI_STEP_SET_TARGET,  /* point "asi.enter.target" */
	ASI_STEP_CLEAR_TARGET,/* "asi.relax.target" */
	ASI_STEP_SET_CURR,    /* "asi.enter.curr" */
	ASI_STEP_CLEAR_CURR,  /* "asi.exit.curr" */
	ASI_STEP_CR3_WRITE,   /* "asi.enter.cr3" / "asi.exit.cr3" */
	ASI_STEP_IBPB,        /* "asi.flush.ibpb" */
	ASI_STEP_RSB_FILL,    /* "asi.flush.rsb" */
	ASI_STEP_L1D_FLUSH,   /* "asi.flush.l1d" */
	ASI_STEP_TAINT,       /* "asi.taint": taints changed (value in AsiStep.taints) */
	ASI_STEP_EXIT_PF,     /* tracepoint asi_exit_pf (no yield point): AsiStep.addr, .ip */
} AsiStepKind;

typedef struct {
	AsiStepKind kind;
	const char *point; /* the yield-point name the run loop will use; NULL: none */
	guint64 cr3;       /* for CR3_WRITE; for EXIT_PF the #PF error code */
	asi_taints_t taints;
	guint64 addr;
	enum asi_exit_reason reason; /* for the steps of asi_exit */
	const char *ip;    /* for EXIT_PF: the modelled kernel code that faulted */
} AsiStep;

typedef struct {
	/* Called after each step, on the CPU that did it (an interrupt may run here). */
	void (*step)(AsiCpu *cpu, const AsiStep *step, gpointer data);
	/* A WARN/BUG the kernel has, or a §8 invariant, failed: name is stable. */
	void (*violation)(AsiHost *host, const char *name, gpointer data);
	gpointer data;
} AsiOps;

typedef struct {
	guint64 exits[NR_ASI_EXIT_REASONS]; /* asi.exits.{page_fault,...} */
	guint64 enter_real, enter_nop;      /* asi.enter.{real,nop} */
	guint64 cr3_writes;                 /* asi.cr3_writes: by __asi_enter and asi_exit */
	guint64 ibpb, rsb, l1d;             /* asi.flushes.{ibpb,rsb,l1d} */
	guint64 tlb_shootdowns;             /* remote flushes sent by asi_unmap */
} AsiStats;

AsiHost *asi_host_new(const AsiConfig *config, const AsiOps *ops);
void asi_host_free(AsiHost *host);
AsiCpu *asi_host_cpu(AsiHost *host, guint id);
const AsiStats *asi_host_stats(const AsiHost *host);
/* The n-th --stats key of issue 10 item 10 ("asi.exits.page_fault", ..., "asi.flushes.l1d") and
 * its value, in a fixed order; FALSE past the last. */
gboolean asi_stats_nth(const AsiHost *host, guint n, const char **out_key, guint64 *out_value);
/* Violations recorded so far, in order ("name" strings, owned by the host). */
const GPtrArray *asi_host_violations(const AsiHost *host);
const char *asi_exit_reason_name(enum asi_exit_reason reason);

/* Page tables (pgtable.c). */
guint64 *asi_pt_va(AsiHost *host, guint64 pa);
/* Walk the tables at pgd for va: the leaf entry (0 if not present) and its level (1=4K, 2=2M,
 * 3=1G) in *out_level; *out_pa gets the translated physical address. */
guint64 asi_pt_walk(AsiHost *host, guint64 pgd, guint64 va, int *out_level, guint64 *out_pa);
/* Models kernel_access_ok() in arch/x86/mm/fault.c (v1 12/26): present at every level, and
 * writable/executable if the access needs it. */
gboolean kernel_access_ok(AsiHost *host, guint64 error_code, guint64 va, guint64 pgd);
#define X86_PF_WRITE (1u << 1)
#define X86_PF_USER (1u << 2)
#define X86_PF_INSTR (1u << 4)

/* Domains (domain.c). */
extern struct asi_taint_policy asi_kvm_policy_default;
int asi_init_class(AsiHost *host, enum asi_class_id class_id, struct asi_taint_policy *policy);
void asi_uninit_class(AsiHost *host, enum asi_class_id class_id);
struct asi_mm *asi_mm_new(AsiHost *host);
void asi_mm_free(AsiHost *host, struct asi_mm *mm);
int asi_init(AsiHost *host, struct asi_mm *mm, enum asi_class_id class_id, struct asi **out_asi);
void asi_destroy(AsiHost *host, struct asi *asi);
guint64 asi_global_nonsensitive_pgd(const AsiHost *host);
gboolean asi_maps_user_addr(enum asi_class_id class_id);
/* Models kvm_x86_init_asi_class() (v2 21/29): the KVM policy for this config, initialised. */
int kvm_x86_init_asi_class(AsiHost *host);
void asi_init_userspace_class(AsiHost *host);

/* Host objects (objects.c): pages in the direct map with a sensitivity. */
guint64 asi_track_frames(AsiHost *host, guint64 pfn, guint npages, AsiObjKind kind);
guint64 asi_alloc_pages(AsiHost *host, AsiObjKind kind, guint npages);
void asi_free_pages(AsiHost *host, AsiCpu *cpu, guint64 va, guint npages);
gboolean asi_page_sensitive(AsiHost *host, guint64 pa);
/* Map npages of user memory at uva in mm's user half (e.g. guest RAM backing). */
void asi_mm_map_user(AsiHost *host, struct asi_mm *mm, guint64 uva, guint64 kva, guint npages);
int asi_map(AsiHost *host, AsiCpu *cpu, guint64 va, guint64 len);
void asi_unmap(AsiHost *host, AsiCpu *cpu, guint64 va, guint64 len);

/* TLB and the one accessor (tlb.c). */
guint16 kern_pcid(guint16 asid);
guint16 asi_pcid(const struct asi *asi, guint16 asid);
void write_cr3_raw(AsiCpu *cpu, guint64 cr3);
guint64 build_cr3(guint64 pgd, guint16 pcid);
void native_flush_tlb_local(AsiCpu *cpu);
void asi_flush_tlb_kernel_range(AsiHost *host, guint64 va, guint64 len);
gboolean asi_tlb_cached(const AsiCpu *cpu, guint16 pcid, guint64 va);
/* Touch host memory at va through the current CR3 (TLB, then walk); a miss raises the modelled
 * #PF. 0 on success, -EFAULT when the fault path cannot fix it. */
int asi_host_access(AsiCpu *cpu, guint64 va, guint64 error_code);
/* The same, naming the kernel code that accesses (asi_exit_pf's ip). */
int asi_host_access_ip(AsiCpu *cpu, guint64 va, guint64 error_code, const char *ip);

/* State machine (enter-exit.c, intr.c). */
void asi_task_init(AsiTask *task, struct asi_mm *mm);
void asi_cpu_switch_to(AsiCpu *cpu, AsiTask *task);
void asi_enter(AsiCpu *cpu, struct asi *asi);
void asi_enter_userspace(AsiCpu *cpu);
void asi_relax(AsiCpu *cpu);
gboolean asi_exit(AsiCpu *cpu, enum asi_exit_reason reason);
void __asi_enter(AsiCpu *cpu);
void asi_intr_enter(AsiCpu *cpu);
void asi_intr_exit(AsiCpu *cpu);
void asi_handle_switch_mm(AsiCpu *cpu);
void asi_context_switch(AsiCpu *cpu, AsiTask *next);
void exc_double_fault(AsiCpu *cpu);
/* The converged API shape (reference §2.5, critical.c). */
void asi_start(AsiCpu *cpu, struct asi *asi);
void asi_start_critical(AsiCpu *cpu);
void asi_end_critical(AsiCpu *cpu);
void asi_end(AsiCpu *cpu, enum asi_exit_reason reason);
/* Junaid's broken order, planted by the asi_critical_after_enter mutation: the address space is
 * switched first and the target (the critical section) set after. */
void asi_enter_before_target(AsiCpu *cpu, struct asi *asi);
gboolean asi_is_relaxed(const AsiCpu *cpu);
gboolean asi_in_critical_section(const AsiCpu *cpu);
guint64 asi_pgd(const struct asi *asi);
static inline void
asi_preempt_disable(AsiCpu *cpu)
{
	cpu->current->preempt_count++;
}
static inline void
asi_preempt_enable(AsiCpu *cpu)
{
	cpu->current->preempt_count--;
}

/* Reference §8 invariants (invariants.c): TRUE when held; a failure is also reported by name. */
gboolean asi_check_vmenter_restricted(AsiCpu *cpu, struct asi *kvm_asi, guint64 host_cr3);
gboolean asi_check_vmenter_taints(AsiCpu *cpu, struct asi *kvm_asi);
gboolean asi_check_restricted_sound(AsiHost *host, struct asi *asi);
gboolean asi_check_intr_return(AsiCpu *cpu);
gboolean asi_check_after_exit(AsiCpu *cpu);
gboolean asi_check_taint_rules(AsiHost *host, asi_taints_t taints);
gboolean asi_check_unrestricted(AsiCpu *cpu, const char *where);
gboolean asi_check_steady_nop(AsiHost *host, const AsiStats *before);
gboolean asi_check_pcids(AsiHost *host, struct asi_mm *mm);
void asi_report(AsiHost *host, const char *name);

#endif
