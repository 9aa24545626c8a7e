/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ASI wired into the simulator (issue 10 items 2-5, 7-10): an AsiHost whose CPUs are
 * sim/core's host CPUs, each actor's task on them, every state-machine step a yield point of
 * its own name, every failed check a named invariant (sim/core/invariants.c), host frames in
 * the direct map with their sensitivity and kernel accesses to them through asi_host_access(),
 * and the KVM run loop's calls (kvm-run.c). Only a machine built with --asi on has one.
 */
#ifndef KVMSIM_ASI_ASI_SIM_H
#define KVMSIM_ASI_ASI_SIM_H

#include <glib.h>

#include "asi/asi.h"
#include "sim/core/hostcpu.h"
#include "sim/core/hostmem.h"
#include "sim/core/mutations.h"
#include "sim/core/sched.h"

/* --asi-api: v2's asi_enter/asi_relax/asi_exit, or the converged asi_start/asi_start_critical/
 * asi_end_critical/asi_end (reference §2.5). */
typedef enum { ASI_API_V2, ASI_API_CRITICAL } AsiApi;

/* Per-action costs of the cost model, in cycles (asi.cost; stats.c says where each comes from). */
typedef struct {
	guint64 cr3_write, ibpb, rsb, l1d, page_fault;
} AsiCosts;

typedef struct {
	gboolean on;               /* --asi on */
	AsiApi api;                /* --asi-api */
	gboolean l1tf;             /* --asi-l1tf: the data flush is an L1D flush (X86_BUG_L1TF) */
	gboolean ibpb;             /* --asi-ibpb: the control flush writes PRED_CMD */
	gboolean userspace;        /* --asi-userspace: the VMM runs in its userspace domain */
	gboolean vmexit_ibpb;      /* --asi-vmexit-ibpb: VM exits already flush predictors */
	AsiCosts costs;
} AsiSimConfig;

/* --asi off; with on: v2, an L1TF CPU with IBPB, the default costs. */
void asi_sim_config_init(AsiSimConfig *config);
const char *asi_api_name(AsiApi api);
gboolean asi_api_lookup(const char *name, AsiApi *out);
/* "cr3_write=N,ibpb=N,rsb=N,l1d=N,page_fault=N" (any subset) into costs; FALSE with a reason. */
gboolean asi_costs_parse(const char *spec, AsiCosts *costs, GError **error);
gchar *asi_costs_format(const AsiCosts *costs);

typedef struct AsiSim AsiSim;

/* The host of a machine with nr_vcpus vCPUs on sched, hm's frames in its direct map, the VMM's
 * mm with its KVM domain, and the mutations planted (asi_critical_after_enter). */
AsiSim *asi_sim_new(const AsiSimConfig *config, SimSched *sched, SimHostMem *hm, guint nr_vcpus,
		    SimMutations mutations);
void asi_sim_free(AsiSim *sim);
/* Track the EPT table pages [pa, pa + size) as nonsensitive kernel memory. */
void asi_sim_track_tables(AsiSim *sim, guint64 pa, guint64 size);
/* End of run: the checks too costly for every step (§8.4 restricted mapping soundness). */
void asi_sim_finish(AsiSim *sim);

AsiHost *asi_sim_host(AsiSim *sim);
const AsiSimConfig *asi_sim_config(const AsiSim *sim);
SimHostCpus *asi_sim_hostcpus(AsiSim *sim);
/* What the NMI actors need: the AsiCpu of a host CPU, of the running code, and of an actor
 * ("nmi0" and "vcpu0" both give CPU 0's), and running code on a CPU (an NMI handler on the CPU
 * it interrupts: sim_frame_kernel_access() inside fn then walks that CPU's CR3). */
AsiCpu *asi_sim_cpu(AsiSim *sim, guint cpu);
AsiCpu *asi_sim_current_cpu(AsiSim *sim);
AsiCpu *asi_sim_actor_cpu(AsiSim *sim, const char *actor);
void asi_sim_run_on(AsiSim *sim, guint cpu, void (*fn)(gpointer data), gpointer data);
/* The VM's domain (kvm->arch.asi). */
struct asi *asi_sim_kvm_domain(AsiSim *sim);

/* asi.cost of the run so far (stats.c). */
guint64 asi_sim_cost(const AsiSim *sim);
/* The n-th --stats key with --asi on: asi_stats_nth()'s, then "asi.cost". */
gboolean asi_sim_stats_nth(const AsiSim *sim, guint n, const char **out_key, guint64 *out_value);

/*
 * The KVM run loop (kvm-run.c, reference §4.1). Each takes the vCPU's index; every one is a
 * no-op when sim is NULL (--asi off), so the callers need no test.
 *   asi_kvm_run_enter  KVM_RUN from the VMM: enter_from_user_mode (critical: asi_start)
 *   asi_kvm_vmenter    vcpu_enter_guest → vmx_vcpu_enter_exit up to VMLAUNCH/VMRESUME: preemption
 *                      and IRQs off, asi_enter (critical: asi_start_critical), HOST_CR3 refresh,
 *                      the VM-entry invariants
 *   asi_kvm_vmexit     the VM exit (CR3 := HOST_CR3), asi_relax (asi_end_critical), IRQs and
 *                      preemption on; a no-op if the vCPU is not in the guest
 *   asi_kvm_run_exit   kvm_arch_vcpu_ioctl_run()'s asi_exit (critical: asi_end) before the
 *                      return to the VMM, then exit_to_user_mode (§8.10); with --asi-userspace
 *                      the return enters the VMM's userspace domain and its next syscall
 *                      relaxes, so the next VM entry switches directly from it to the VM's
 *   asi_kvm_halt       HLT: kvm_vcpu_halt() blocks, schedule() switches to the idle task
 */
void asi_kvm_run_enter(AsiSim *sim, guint vcpu);
void asi_kvm_vmenter(AsiSim *sim, guint vcpu);
void asi_kvm_vmexit(AsiSim *sim, guint vcpu);
void asi_kvm_run_exit(AsiSim *sim, guint vcpu);
void asi_kvm_halt(AsiSim *sim, guint vcpu);
/* Whether the vCPU is inside KVM_RUN (between run_enter and run_exit). */
gboolean asi_kvm_in_run(const AsiSim *sim, guint vcpu);

#endif
