/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A vCPU: one Unicorn engine (sim/cpu/hw.h) run by one actor, in the loop of KVM_RUN. Guest code
 * runs between two exits and never yields midway. Exits:
 *
 *   EPT violation   #PF from the engine's walk of the SPTE tree; handled inside the hook, on the
 *                   vCPU's own coroutine (a yield in the fault path lets other actors run while
 *                   this engine waits in its callback), then the instruction is retried
 *   EPT misconfig   the walk ended on an MMIO SPTE (W|X without R)
 *   MMIO            the MMU asked for emulation: the VMM's device handles the access
 *   port IO         out/in, handed to the VMM in the hook
 *   hypercall       vmcall (#UD, confirmed by Capstone); KVM_HC_SCHED_YIELD yields, others go
 *                   to the VMM
 *   (none)          rdtsc, rdtscp (a code hook per instruction), rdrand, rdseed (#UD) are
 *                   emulated without an exit, deterministically: the TSC counts retired
 *                   instructions, rdrand and rdseed read a per-vCPU stream seeded by the run
 *   HLT             the vCPU stops for good (no interrupts are modeled)
 *   preemption      the instruction quantum ran out: a yield point between two guest runs
 *
 * Before every entry, pending requests are served (KVM_REQ_TLB_FLUSH flushes the engine's TLB).
 */
#ifndef KVMSIM_SIM_CPU_VCPU_H
#define KVMSIM_SIM_CPU_VCPU_H

#include <glib.h>

#include "asi/asi-sim.h"
#include "mmu/mmu.h"
#include "sim/cpu/hw.h"

typedef struct SimVcpu SimVcpu;

/* What the VMM does with the exits that reach userspace. */
typedef struct {
	/* Port IO: for in, store the value; return FALSE to end the whole run. */
	gboolean (*pio)(gpointer data, SimVcpu *vcpu, gboolean in, guint16 port, guint size,
			guint32 *value);
	guint64 (*mmio_read)(void *data, guint64 gpa, guint size);
	void (*mmio_write)(void *data, guint64 gpa, guint size, guint64 value);
	/* KVM_EXIT_HYPERCALL: returns the value for RAX. */
	guint64 (*hypercall)(gpointer data, SimVcpu *vcpu, guint64 nr, const guint64 args[4]);
	/* KVM_RUN returned -1 with errno (EFAULT or EHWPOISON) and KVM_EXIT_MEMORY_FAULT in run:
	 * resolve it (e.g. an implicit conversion) and return TRUE to run the vCPU again, FALSE
	 * to stop it (the VMM has said why). NULL: the vCPU fails. */
	gboolean (*memory_fault)(gpointer data, SimVcpu *vcpu, int error,
				 const struct kvm_run *run);
} SimVcpuExitOps;

/*
 * The guest's TSC (rdtsc, rdtscp) counts the instructions its vCPU retired: a 1 GHz TSC on a CPU
 * that retires one instruction per nanosecond. Per vCPU, from 0; the same run reads the same
 * values.
 */
#define SIM_VCPU_TSC_PER_INSN 1

/* Defaults: a preemption every 10k instructions, at most 2^32 instructions per vCPU. */
#define SIM_VCPU_DEFAULT_QUANTUM 10000
#define SIM_VCPU_DEFAULT_BUDGET (1ull << 32)

/* What an EPT violation's exit qualification says for an access that hit spte (the last entry
 * of the walk): the access type (read and write both for a read-modify-write), the entry's R/W/X
 * permissions, a translated linear address. */
guint64 sim_ept_violation_qualification(gboolean read, gboolean write, gboolean fetch, u64 spte);

/* What an I/O exit's qualification says for an access of size bytes to port in this form. */
guint64 sim_io_exit_qualification(gboolean in, guint16 port, guint size, SimHwIoForm form);

/* The ops table the MMU reaches this hardware through. */
extern const struct kvm_hw_ops sim_vcpu_hw_ops;

/*
 * A vCPU of kvm (KVM_CREATE_VCPU) on a new engine that maps every guest RAM window of hm and
 * the table region of pool; sim_vcpu_map_mmio() adds the MMIO window.
 */
SimVcpu *sim_vcpu_new(struct kvm *kvm, int id, const SimVcpuExitOps *ops, gpointer ops_data,
		      GError **error);
void sim_vcpu_free(SimVcpu *vcpu);

/* Map the guest-physical MMIO window (no memslot, never RAM; one per vCPU) so accesses trap
 * with an exact RIP. */
gboolean sim_vcpu_map_mmio(SimVcpu *vcpu, guint64 gpa, guint64 size, GError **error);
/* Guard gaps inside a RAM window the engine maps but no memslot covers: count gaps of size bytes,
 * one every stride bytes from gpa. The window is one Unicorn region (one per gap and piece
 * between made setting up 64 vCPUs cost 10x); an access to a gap is still reported as one
 * outside guest memory, without an exit, as if no region covered it. */
void sim_vcpu_set_guards(SimVcpu *vcpu, guint64 gpa, guint64 stride, guint64 size,
			 guint64 count);
/* Initial registers. */
void sim_vcpu_set_entry(SimVcpu *vcpu, guint64 rip, guint64 rsp, guint64 rdi, guint64 rsi);
void sim_vcpu_set_limits(SimVcpu *vcpu, guint64 quantum, guint64 budget);

/* Models __kvm_emulate_hypercall()'s KVM_HC_MAP_GPA_RANGE checks (arch/x86/kvm/x86.c): TRUE if
 * KVM exits to userspace with it; else *ret is what the guest gets in RAX (-KVM_ENOSYS: the exit
 * is not enabled; -KVM_EINVAL: gpa not page aligned, no pages, or a gfn range that wraps). */
gboolean sim_kvm_map_gpa_range_exits(guint64 hypercall_exit, const guint64 args[4], guint64 *ret);

/* KVM_ENABLE_CAP(KVM_CAP_EXIT_HYPERCALL) as the VMM made it: the hypercalls (bit nr) KVM hands
 * to userspace. Kept per vCPU until struct kvm holds it (arch.hypercall_exit_enabled). */
void sim_vcpu_set_hypercall_exit(SimVcpu *vcpu, guint64 mask);

/* What became of a VM entry (sim_kvm_vmenter()). */
typedef enum {
	SIM_ENTRY_RUN,       /* the guest runs */
	SIM_ENTRY_CANCELLED, /* a request pending before it cancels it: no kvm_entry */
	SIM_ENTRY_IPI,       /* an IPI sent in ASI's switch is pending: exit before any guest
			      * instruction, once the injected event is delivered */
} SimEntry;

/* The VM entry at rip, injecting intr_info (0: nothing), with ASI's switch (asi NULL: off), as
 * every entry path makes it. sim_kvm_ipi_exit(): the exit of a SIM_ENTRY_IPI entry, at rip
 * (kvm_exit EXTERNAL_INTERRUPT). sim_kvm_vmexit(): the VM exit, back to OUTSIDE_GUEST_MODE. */
SimEntry sim_kvm_vmenter(struct kvm_vcpu *vcpu, AsiSim *asi, guint64 rip, u32 intr_info,
			 u32 error_code);
void sim_kvm_ipi_exit(struct kvm_vcpu *vcpu, AsiSim *asi, guint64 rip);
void sim_kvm_vmexit(struct kvm_vcpu *vcpu, AsiSim *asi);

/* Run KVM_RUN with ASI (--asi on): the run loop's asi/asi-sim.h calls. NULL: off. */
void sim_vcpu_set_asi(SimVcpu *vcpu, AsiSim *asi);

/* Start the vCPU's actor ("vcpuN") on sched. */
SimActor *sim_vcpu_start(SimVcpu *vcpu, SimSched *sched);
/* Ask the vCPU to stop at its next exit (the guest ended the run, or another vCPU failed). */
void sim_vcpu_request_stop(SimVcpu *vcpu);

int sim_vcpu_id(const SimVcpu *vcpu);
/* Whether the vCPU's actor has returned (it stopped, halted or failed). */
gboolean sim_vcpu_finished(const SimVcpu *vcpu);
/* Why the vCPU stopped abnormally (a guest fault, a KVM_RUN error, the budget), or NULL. */
const char *sim_vcpu_error(const SimVcpu *vcpu);

#endif
