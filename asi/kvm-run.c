/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The KVM run loop with ASI (reference §4.1; v2 21/29 "KVM: x86: asi: Restricted address space
 * for VM execution", as reference/asi.md gives its call sites): kvm_arch_vcpu_ioctl_run() →
 * vcpu_run() → vcpu_enter_guest() → vmx_vcpu_enter_exit(), whose asi_enter() comes before the
 * HOST_CR3 refresh and VMLAUNCH/VMRESUME and whose asi_relax() follows the VM exit; exits are
 * handled in whatever space the CPU is in (the accessor exits on a sensitive touch), and
 * kvm_arch_vcpu_ioctl_run() calls asi_exit() before the return to userspace.
 */
#include "asi/sim-internal.h"

#include "sim/core/log.h"

/* Models __schedule() switching this CPU from its current task to next: preemption off around
 * context_switch() (prev's count, given back in finish_task_switch() when prev runs again). */
static void
schedule_to(AsiCpu *cpu, AsiTask *next)
{
	AsiTask *prev = cpu->current;

	prev->preempt_count++;
	asi_context_switch(cpu, next);
	prev->preempt_count--;
}

/* Models the KVM_RUN ioctl's entry from userspace: the vCPU is in KVM_RUN again. */
void
asi_kvm_run_enter(AsiSim *sim, guint vcpu)
{
	AsiSimVcpu *sv;
	AsiCpu *cpu;

	if (!sim)
		return;
	sv = &sim->vcpus[vcpu];
	if (sv->in_run)
		return;
	sv->in_run = TRUE;
	cpu = asi_sim_vcpu_cpu(sim, vcpu);
	/* a vCPU thread of a new VM (a reboot) on a CPU whose old one halted for good: a new
	 * task, which the idle task switches to */
	if (cpu->current != &sv->task) {
		asi_task_init(&sv->task, sim->mm);
		schedule_to(cpu, &sv->task);
	}
	/* [inference] the converged shape's asi_start() where KVM_RUN begins (bp-4's
	 * "asi_start; loop { ... }; asi_end") */
	if (sim->config.api == ASI_API_CRITICAL)
		asi_start(cpu, sim->kvm_asi);
}

/* §8.12 on this CPU: no asi_exit since its last VM entry, so neither a CR3 write nor a flush. */
static void
check_steady(AsiSim *sim, AsiCpu *cpu)
{
	AsiSimCpu *pc = &sim->percpu[cpu->id];

	if (pc->entered && pc->exits == pc->seen_exits &&
	    (pc->cr3_writes != pc->seen_cr3_writes || pc->flushes != pc->seen_flushes))
		asi_report(sim->host, "asi_steady_state_not_nop");
	pc->entered = TRUE;
	pc->seen_exits = pc->exits;
	pc->seen_cr3_writes = pc->cr3_writes;
	pc->seen_flushes = pc->flushes;
}

/*
 * Models vcpu_enter_guest() (arch/x86/kvm/x86.c) up to the VM entry: preempt_disable() and
 * local_irq_disable(), then vmx_vcpu_enter_exit() with v2 21/29: asi_enter(kvm->arch.asi) and
 * the HOST_CR3 refresh after it (so the VM exit lands in the restricted space). The v2 API's
 * asi_enter, the converged API's asi_start_critical, or (the asi_critical_after_enter mutation)
 * the switch before the target. Then the VM-entry invariants (§8.1, §8.2, §8.12).
 */
void
asi_kvm_vmenter(AsiSim *sim, guint vcpu)
{
	AsiSimVcpu *sv;
	AsiCpu *cpu;
	guint64 real;

	if (!sim)
		return;
	sv = &sim->vcpus[vcpu];
	cpu = asi_sim_vcpu_cpu(sim, vcpu);
	if (sv->in_guest)
		return;
	asi_kvm_run_enter(sim, vcpu);
	real = asi_host_stats(sim->host)->enter_real;
	asi_preempt_disable(cpu);
	cpu->irqs_disabled = TRUE;
	if (sim_mutated(sim->mutations, SIM_MUT_ASI_CRITICAL_AFTER_ENTER))
		asi_enter_before_target(cpu, sim->kvm_asi);
	else if (sim->config.api == ASI_API_CRITICAL)
		asi_start_critical(cpu);
	else
		asi_enter(cpu, sim->kvm_asi);
	/* vmx_vcpu_enter_exit(): HOST_CR3 := __get_current_cr3_fast() if it changed */
	if (sv->host_cr3 != cpu->cr3)
		sv->host_cr3 = cpu->cr3;
	sim_log_emit(sim_sched_log(sim->sched), "sim_asi_enter",
		     "cpu %u vcpu %u %s taints 0x%02x host_cr3 0x%" G_GINT64_MODIFIER "x", cpu->id,
		     vcpu, asi_host_stats(sim->host)->enter_real != real ? "real" : "nop",
		     cpu->taints, sv->host_cr3);
	asi_check_vmenter_restricted(cpu, sim->kvm_asi, sv->host_cr3);
	asi_check_vmenter_taints(cpu, sim->kvm_asi);
	check_steady(sim, cpu);
	sv->in_guest = TRUE;
}

/*
 * The VM exit: the CPU loads HOST_CR3 (without a TLB flush: the host's PCID entries stay), then
 * vmx_vcpu_enter_exit() calls asi_relax() (asi_end_critical), and vcpu_enter_guest() turns
 * IRQs and preemption back on. The exit is then handled in the space the CPU is in.
 */
void
asi_kvm_vmexit(AsiSim *sim, guint vcpu)
{
	AsiSimVcpu *sv;
	AsiCpu *cpu;

	if (!sim || !sim->vcpus[vcpu].in_guest)
		return;
	sv = &sim->vcpus[vcpu];
	cpu = asi_sim_vcpu_cpu(sim, vcpu);
	sv->in_guest = FALSE;
	cpu->cr3 = sv->host_cr3;
	if (sim->config.api == ASI_API_CRITICAL)
		asi_end_critical(cpu);
	else
		asi_relax(cpu);
	cpu->irqs_disabled = FALSE;
	asi_preempt_enable(cpu);
	asi_sim_flush_pending(sim, cpu);
}

/*
 * With the userspace class (v2 "restricted execution for bare-metal processes"):
 * syscall_exit_to_user_mode() calls asi_enter_userspace() after exit_to_user_mode(), IRQs off;
 * the VMM then runs in its domain. [simplified] Its next syscall (the exit's handling, then
 * KVM_RUN) begins at once: syscall_enter_from_user_mode()'s asi_relax(). The CPU stays in the
 * userspace domain, so the next asi_enter of the VM's is a direct restricted→restricted switch.
 */
static void
enter_userspace(AsiSim *sim, AsiCpu *cpu)
{
	cpu->irqs_disabled = TRUE;
	asi_preempt_disable(cpu);
	asi_enter_userspace(cpu);
	asi_check_unrestricted(cpu, "exit_to_user_mode");
	cpu->irqs_disabled = FALSE;
	asi_preempt_enable(cpu);
	asi_relax(cpu);
}

/* Models kvm_arch_vcpu_ioctl_run()'s "r = vcpu_run(vcpu); asi_exit();" (v2 21/29; the
 * converged API's asi_end()), then exit_to_user_mode: unrestricted there (§8.10). */
void
asi_kvm_run_exit(AsiSim *sim, guint vcpu)
{
	AsiCpu *cpu;

	if (!sim || !sim->vcpus[vcpu].in_run)
		return;
	asi_kvm_vmexit(sim, vcpu);
	cpu = asi_sim_vcpu_cpu(sim, vcpu);
	if (sim->config.api == ASI_API_CRITICAL)
		asi_end(cpu, ASI_EXIT_USER_RET);
	else
		asi_exit(cpu, ASI_EXIT_USER_RET);
	asi_check_unrestricted(cpu, "exit_to_user_mode");
	sim->vcpus[vcpu].in_run = FALSE;
	if (sim->user_asi)
		enter_userspace(sim, cpu);
}

/*
 * HLT: kvm_vcpu_halt() → kvm_vcpu_block() → schedule(), which (preemption off in __schedule())
 * finds only the idle task on this CPU: context_switch() → asi_exit(CONTEXT_SWITCH) (v2 03/29).
 * Most kvmsim guests halt for good; an async PF guest's halt ends at asi_kvm_unhalt().
 */
void
asi_kvm_halt(AsiSim *sim, guint vcpu)
{
	AsiSimVcpu *sv;
	AsiCpu *cpu;

	if (!sim)
		return;
	sv = &sim->vcpus[vcpu];
	cpu = asi_sim_vcpu_cpu(sim, vcpu);
	asi_kvm_vmexit(sim, vcpu);
	schedule_to(cpu, &sim->percpu[cpu->id].idle);
	sv->in_run = FALSE;
}

/*
 * The wake from a halt (an async PF guest halted with interrupts on): schedule() on the vCPU's
 * CPU switches from the idle task back to the vCPU thread, context_switch() → asi_exit (a NOP:
 * the idle task ran unrestricted), and kvm_vcpu_halt() returns into vcpu_run()'s loop, whose
 * next entry enters the restricted space again.
 */
void
asi_kvm_unhalt(AsiSim *sim, guint vcpu)
{
	AsiSimVcpu *sv;
	AsiCpu *cpu;

	if (!sim)
		return;
	sv = &sim->vcpus[vcpu];
	cpu = asi_sim_vcpu_cpu(sim, vcpu);
	schedule_to(cpu, &sv->task);
	sv->in_run = TRUE;
}

/* Whether the vCPU is inside KVM_RUN. */
gboolean
asi_kvm_in_run(const AsiSim *sim, guint vcpu)
{
	return sim && sim->vcpus[vcpu].in_run;
}

/* The task of the actor that owns a CPU of its own, and that CPU: vcpuN's thread, the
 * notifier's; NULL for the VMM's CPU, whose actors (vmm, vmm_io, uffd, the async PF workers)
 * share one task here, and for NMIs, which never sleep. */
static AsiTask *
owned_task(AsiSim *sim, const char *actor, guint *out_cpu)
{
	guint cpu = sim_hostcpu_of_actor(sim->cpus, actor);

	*out_cpu = cpu;
	if (cpu < sim->nr_vcpus && g_str_has_prefix(actor, "vcpu"))
		return &sim->vcpus[cpu].task;
	if (cpu == sim->nr_vcpus)
		return &sim->notifier_task;
	return NULL;
}

/*
 * A task that sleeps (sim_wait_sleeping(): a wait queue, a sleeping lock, a completion) calls
 * schedule(): __schedule() with preemption off finds only the idle task on its CPU, and
 * context_switch() → asi_exit(CONTEXT_SWITCH) (v2 03/29, reference §2.3) leaves the restricted
 * space if the task was in it. On the wake, schedule() on that CPU switches back (asi_exit a NOP:
 * the idle task ran unrestricted) and the next VM entry enters again, as asi_kvm_unhalt(). A
 * task already switched out (kvm_vcpu_halt() after asi_kvm_halt()) is not switched twice.
 */
void
asi_sim_sleep(SimSched *sched, const char *what, gboolean wake, gpointer data)
{
	AsiSim *sim = data;
	guint id;
	AsiTask *task = owned_task(sim, sim_sched_current_name(sched), &id);
	AsiCpu *cpu;
	AsiSimCpu *pc;

	if (!task)
		return;
	cpu = asi_sim_cpu(sim, id);
	pc = &sim->percpu[id];
	if (!wake) {
		if (cpu->current != task)
			return;
		sim_log_emit(sim_sched_log(sched), "sim_asi_sleep", "cpu %u %s sleeps on %s %s", id,
			     sim_sched_current_name(sched), what,
			     cpu->curr_asi ? "restricted" : "unrestricted");
		schedule_to(cpu, &pc->idle);
		pc->sleeper = task;
		return;
	}
	if (pc->sleeper != task)
		return;
	pc->sleeper = NULL;
	schedule_to(cpu, task);
}
