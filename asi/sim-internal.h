/* SPDX-License-Identifier: GPL-2.0-only */
/* What the simulator wiring of asi/ (sim.c, kvm-run.c, stats.c) shares. */
#ifndef KVMSIM_ASI_SIM_INTERNAL_H
#define KVMSIM_ASI_SIM_INTERNAL_H

#include "asi/asi-sim.h"

/* A vCPU thread: its task, the VMCS HOST_CR3 field, where it is in KVM_RUN. */
typedef struct {
	AsiTask task;
	guint64 host_cr3;
	gboolean in_run;   /* inside the KVM_RUN ioctl */
	gboolean in_guest; /* between VM entry and VM exit */
} AsiSimVcpu;

/* A host CPU: its idle task, the task the sleep hook switched away from (NULL: none asleep),
 * and the counts §8.12 compares between two VM entries on it. */
typedef struct {
	AsiTask idle;
	AsiTask *sleeper;
	guint64 exits, cr3_writes, flushes;
	guint64 seen_exits, seen_cr3_writes, seen_flushes; /* at its last VM entry */
	gboolean entered;
	gboolean flush_pending; /* a TLB-flush IPI waits for IRQs on */
} AsiSimCpu;

struct AsiSim {
	AsiSimConfig config;
	SimSched *sched;
	SimHostMem *hm;
	SimHostCpus *cpus;
	AsiHost *host;
	struct asi_mm *mm;       /* the VMM's */
	struct asi *kvm_asi;     /* kvm->arch.asi */
	struct asi *user_asi;    /* --asi-userspace: mm->asi[ASI_CLASS_USERSPACE]; else NULL */
	gboolean tearing_down;   /* asi_sim_free(): steps and violations are no longer the run's */
	SimMutations mutations;
	guint nr_vcpus;
	AsiSimVcpu *vcpus;
	AsiSimCpu *percpu;
	AsiTask notifier_task;   /* the primary MMU's work on the VMM's mm */
	AsiTask vmm_task;        /* the VMM's own threads */
};

/* The CPU vCPU index vcpu runs on. */
AsiCpu *asi_sim_vcpu_cpu(AsiSim *sim, guint vcpu);
/* The TLB-flush IPI a CPU took with IRQs off, now that they are on (kvm-run.c's VM exit). */
void asi_sim_flush_pending(AsiSim *sim, AsiCpu *cpu);
/* The sleep hook (sim_sched_set_sleep_hook, kvm-run.c): schedule() of a sleeping task. */
void asi_sim_sleep(SimSched *sched, const char *what, gboolean wake, gpointer data);

#endif
