/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A machine and the events its actors perform: what `kvmsim replay` and `kvmsim explore` both run.
 *
 * A full-system machine is the one `kvmsim run` builds for its workload; its notifier and vmm
 * actors perform host and memslot events. An exit-level machine is the MMU model alone: each vCPU
 * actor takes the exits it is given (the guest runs instantly between them). Either way the
 * scheduler's policy (or chooser) decides the interleaving. The trace format (sim/trace) is one
 * way to describe such a machine; this module knows nothing of it.
 */
#ifndef KVMSIM_SIM_VMM_MACHINE_H
#define KVMSIM_SIM_VMM_MACHINE_H

#include "sim/vmm/vmm.h"

typedef enum {
	SIM_MEV_EPT_VIOLATION,
	SIM_MEV_HLT,
	SIM_MEV_IO,
	SIM_MEV_HYPERCALL,
	SIM_MEV_MIGRATE,
	SIM_MEV_DONTNEED,
	SIM_MEV_AGE,
	SIM_MEV_MUNMAP,
	SIM_MEV_INVALIDATE_START,
	SIM_MEV_INVALIDATE_END,
	SIM_MEV_MEMSLOT,         /* KVM_SET_USER_MEMORY_REGION2 with a size: create or move */
	SIM_MEV_MEMSLOT_DELETE,
	SIM_MEV_PUNCH_HOLE,      /* fallocate(PUNCH_HOLE) of the guest_memfd behind [gpa, + size) */
	SIM_MEV_CONVERT,         /* [gpa, + size) converted by the VMM to private or shared */
	SIM_MEV_SET_ATTRIBUTES,  /* KVM_SET_MEMORY_ATTRIBUTES of [gpa, + size), nothing else */
	SIM_MEV_GMEM_CLOSE,      /* the VMM closes the guest_memfd (its release, if last) */
	SIM_MEV_MAP_GPA_RANGE,   /* a VMCALL exit of KVM_HC_MAP_GPA_RANGE (nr 12, args) */
	SIM_MEV_PIN,             /* the VMM pins the shared guest_memfd page behind gpa */
	SIM_MEV_NMI,             /* an NMI on host CPU N (actor nmiN, asi/nmi.h) */
	SIM_MEV_NX_RECOVER,      /* one pass of the NX huge page recovery worker */
	SIM_MEV_GUEST_WRITE,     /* the guest stores to gpa (exit-level: no exit unless it faults) */
	SIM_MEV_DIRTY_LOG,       /* the VMM's dirty-log ioctl nr (SimVmmDirtyOp) */
} SimMachineEventKind;

typedef enum {
	SIM_MEV_READ,
	SIM_MEV_WRITE,
	SIM_MEV_FETCH,
} SimMachineAccess;

/* One event an actor performs; the fields its kind does not use are ignored. */
typedef struct {
	SimMachineEventKind kind;
	const char *actor;       /* vcpuN (exit-level), notifier, vmm */
	guint64 at;              /* sleep until this step first; 0: no sleep */
	guint64 gpa;             /* ept_violation; memslot; guest_memfd events */
	SimMachineAccess access; /* ept_violation */
	guint64 hva;             /* host events; memslot */
	guint64 size;            /* host events; memslot; guest_memfd events */
	guint32 id;              /* memslot, memslot_delete */
	guint32 flags;           /* memslot */
	gboolean in;             /* io */
	guint16 port;            /* io */
	guint io_size;           /* io */
	guint32 value;           /* io */
	guint64 nr;              /* hypercall; dirty_log: its op */
	guint64 args[4];         /* hypercall */
	gboolean to_private;     /* convert, set_attributes */
	guint touch;             /* nmi: AsiNmiTouch */
} SimMachineEvent;

typedef struct SimMachine SimMachine;

/*
 * Build the machine config describes (an exit-level config's RAM windows are computed here from
 * its memslots and memslot events) and one actor per name the events use, vCPUs first, then
 * notifier and vmm. The events are copied; the strings they point to are borrowed until the
 * machine is freed.
 */
SimMachine *sim_machine_new(const SimVmmConfig *config, const SimMachineEvent *events,
			    guint n_events, SimSched *sched, GError **error);
void sim_machine_free(SimMachine *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SimMachine, sim_machine_free)

SimVmm *sim_machine_vmm(const SimMachine *m);

/*
 * Check at every yield point, besides the checks the model makes on its own paths: the MMU audit
 * (kvm_mmu_audit(): no SPTE of any root maps a freed frame, the valid root's leaves map what the
 * primary MMU maps, no vCPU holds a translation to a freed frame, in_progress >= 0), that
 * mmu_invalidate_seq never goes back, and that no actor passes actor_budget yield points (0: 2^20).
 * A failure emits "sim_invariant" and fails the run; nothing is logged otherwise. Call before the
 * run; it takes the scheduler's step hook.
 */
#define SIM_MACHINE_DEFAULT_ACTOR_BUDGET (1u << 20)
void sim_machine_check_every_step(SimMachine *m, guint64 actor_budget);
/* Where actor index last yielded (NULL: not yet), and the last actor that yielded (-1: none). */
const char *sim_machine_last_point(const SimMachine *m, guint index);
gint sim_machine_last_actor(const SimMachine *m);
/* Run to the end (sim_vmm_run()). */
gboolean sim_machine_run(SimMachine *m, GError **error);

#endif
