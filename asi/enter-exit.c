/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The ASI state machine in the order of arch/x86/mm/asi.c (bjackman/linux asi/6.16 at 003868f6;
 * v2 03/29, 05/29, 27/29). Every step calls AsiOps.step after it is done: that is where the run
 * loop puts its yield point and where an interrupt (an NMI actor) may run.
 */
#include "asi/asi-internal.h"

/* Tell the ops a step is done: where the run loop yields and an interrupt may arrive. */
void
asi_step(AsiCpu *cpu, AsiStepKind kind, const char *point, guint64 cr3, guint64 addr)
{
	AsiStep step = { kind, point, cr3, cpu->taints, addr, NR_ASI_EXIT_REASONS, NULL };

	if (cpu->host->ops.step)
		cpu->host->ops.step(cpu, &step, cpu->host->ops.data);
}

/* A step of asi_exit, which says why it exits. */
static void
exit_step(AsiCpu *cpu, AsiStepKind kind, const char *point, guint64 cr3,
	  enum asi_exit_reason reason)
{
	AsiStep step = { kind, point, cr3, cpu->taints, 0, reason, NULL };

	if (cpu->host->ops.step)
		cpu->host->ops.step(cpu, &step, cpu->host->ops.data);
}

/* Models this_cpu_or/and(asi_taints): a change is a step of its own. */
static void
set_taints(AsiCpu *cpu, asi_taints_t taints)
{
	if (taints == cpu->taints)
		return;
	cpu->taints = taints;
	asi_step(cpu, ASI_STEP_TAINT, "asi.taint", 0, 0);
}

/* Models asi_init_thread_state(): relaxed, not nested, preemptible. */
void
asi_task_init(AsiTask *task, struct asi_mm *mm)
{
	*task = (AsiTask){ .mm = mm };
}

/* Models switch_mm_irqs_off() loading task's mm with its unrestricted CR3 (no ASI state). */
void
asi_cpu_switch_to(AsiCpu *cpu, AsiTask *task)
{
	cpu->current = task;
	if (task->mm && task->mm != cpu->loaded_mm) {
		cpu->loaded_mm = task->mm;
		write_cr3_raw(cpu, build_cr3(task->mm->pgd, kern_pcid(task->mm->asid)));
	}
}

/* Models preemptible() (include/linux/preempt.h): preempt count zero and IRQs on. */
static gboolean
asi_preemptible(const AsiCpu *cpu)
{
	return cpu->current->preempt_count == 0 && !cpu->irqs_disabled;
}

/* Models asi_is_relaxed() (asm/asi.h): no target. */
gboolean
asi_is_relaxed(const AsiCpu *cpu)
{
	return cpu->current->target == NULL;
}

/* Models asi_in_critical_section() (v2 03/29): tense and not inside an interrupt. */
gboolean
asi_in_critical_section(const AsiCpu *cpu)
{
	return cpu->current->target && cpu->current->intr_nest_depth == 0;
}

/* Models maybe_flush_control() (v2 27/29): IBPB (if the CPU has it) and RSB fill when a control
 * taint the next domain cannot tolerate is set (all control taints for NULL); clears them all. */
static void
maybe_flush_control(AsiCpu *cpu, struct asi *next)
{
	AsiHost *host = cpu->host;
	asi_taints_t t = cpu->taints;

	t &= next ? host->policies[next->class_id]->prevent_control : ASI_TAINTS_CONTROL_MASK;
	if (!t)
		return;
	if (host->config.ibpb) {
		host->stats.ibpb++;
		asi_step(cpu, ASI_STEP_IBPB, "asi.flush.ibpb", 0, 0);
	}
	host->stats.rsb++;
	asi_step(cpu, ASI_STEP_RSB_FILL, "asi.flush.rsb", 0, 0);
	set_taints(cpu, cpu->taints & ~ASI_TAINTS_CONTROL_MASK);
}

/* Models maybe_flush_data() (v2 27/29): an L1D flush on L1TF CPUs when a data taint the next
 * domain protects is set; clears all data-mask taints (GUEST_DATA is not in the mask). */
static void
maybe_flush_data(AsiCpu *cpu, struct asi *next)
{
	AsiHost *host = cpu->host;

	if (!(cpu->taints & host->policies[next->class_id]->protect_data))
		return;
	if (host->config.l1tf) {
		host->stats.l1d++;
		asi_step(cpu, ASI_STEP_L1D_FLUSH, "asi.flush.l1d", 0, 0);
	}
	set_taints(cpu, cpu->taints & ~ASI_TAINTS_DATA_MASK);
}

static void asi_switch(AsiCpu *cpu, struct asi *target);

/* Models __asi_enter() (branch asi.c): NOP when the target is already current, otherwise
 * curr_asi, control flush, restricted CR3 (class PCID, no NOFLUSH), data flush, taints OR-ed.
 * Also the direct restricted→restricted switch (v2). */
void
__asi_enter(AsiCpu *cpu)
{
	AsiHost *host = cpu->host;
	struct asi *target = cpu->current->target;

	asi_warn(host, asi_preemptible(cpu), "asi_enter_preemptible");
	asi_warn(host, cpu->current->intr_nest_depth != 0, "asi_enter_nested");
	if (!target || target == cpu->curr_asi) {
		host->stats.enter_nop++;
		return;
	}
	asi_switch(cpu, target);
}

/* __asi_enter()'s switch to target from "curr_asi = target" on. */
static void
asi_switch(AsiCpu *cpu, struct asi *target)
{
	AsiHost *host = cpu->host;
	guint64 cr3;

	host->stats.enter_real++;
	cpu->curr_asi = target;
	asi_step(cpu, ASI_STEP_SET_CURR, "asi.enter.curr", 0, 0);
	maybe_flush_control(cpu, target);
	cr3 = build_cr3(target->pgd, asi_pcid(target, cpu->loaded_mm->asid));
	write_cr3_raw(cpu, cr3);
	host->stats.cr3_writes++;
	asi_step(cpu, ASI_STEP_CR3_WRITE, "asi.enter.cr3", cr3, 0);
	maybe_flush_data(cpu, target);
	set_taints(cpu, cpu->taints | host->policies[target->class_id]->set);
}

/* Models asi_enter() (branch asi.c): WARN in an interrupt, on NULL, or without a prior relax;
 * target set before __asi_enter so an interrupt anywhere in it re-enters on its return. */
void
asi_enter(AsiCpu *cpu, struct asi *asi)
{
	AsiHost *host = cpu->host;

	asi_warn(host, cpu->current->intr_nest_depth != 0, "asi_enter_in_interrupt");
	if (asi_warn(host, asi == NULL, "asi_enter_null"))
		return;
	asi_warn(host, cpu->current->target != NULL, "asi_enter_without_relax");
	cpu->current->target = asi;
	asi_step(cpu, ASI_STEP_SET_TARGET, "asi.enter.target", 0, 0);
	__asi_enter(cpu);
}

/* The asi_critical_after_enter mutation (js-1's "asi_enter; asi_start_critical; vmenter"): the
 * switch runs with no target set, so an NMI that faults in between exits for good (its return
 * finds the task relaxed) and the target is set on an unrestricted CPU. */
void
asi_enter_before_target(AsiCpu *cpu, struct asi *asi)
{
	AsiHost *host = cpu->host;

	asi_warn(host, cpu->current->intr_nest_depth != 0, "asi_enter_in_interrupt");
	asi_warn(host, cpu->current->target != NULL, "asi_enter_without_relax");
	asi_warn(host, asi_preemptible(cpu), "asi_enter_preemptible");
	if (asi != cpu->curr_asi)
		asi_switch(cpu, asi);
	else
		host->stats.enter_nop++;
	cpu->current->target = asi;
	asi_step(cpu, ASI_STEP_SET_TARGET, "asi.enter.target", 0, 0);
}

/* Models asi_enter_userspace() (v2 "restricted execution for bare-metal processes"). */
void
asi_enter_userspace(AsiCpu *cpu)
{
	asi_enter(cpu, &cpu->current->mm->asi[ASI_CLASS_USERSPACE]);
}

/* Models asi_relax() (branch asi.c): ends the critical section, CR3 unchanged. */
void
asi_relax(AsiCpu *cpu)
{
	asi_warn(cpu->host, cpu->current->intr_nest_depth != 0, "asi_relax_in_interrupt");
	cpu->current->target = NULL;
	asi_step(cpu, ASI_STEP_CLEAR_TARGET, "asi.relax.target", 0, 0);
}

/* Models asi_exit() (branch asi.c at 003868f6; the reason argument from include/linux/asi_exit.h
 * at 1705e86e, counted per reason as reference §2.1 describes the stat): control flush,
 * KERNEL_DATA before the unrestricted CR3 write, curr_asi cleared after it. Simplified:
 * preempt_disable_notrace elided; returns whether it switched (the kernel's returns void). */
gboolean
asi_exit(AsiCpu *cpu, enum asi_exit_reason reason)
{
	AsiHost *host = cpu->host;
	guint64 cr3;

	if (!cpu->curr_asi)
		return FALSE;
	asi_warn(host, asi_in_critical_section(cpu), "asi_exit_in_critical_section");
	host->stats.exits[reason]++;
	maybe_flush_control(cpu, NULL);
	set_taints(cpu, cpu->taints | ASI_TAINT_KERNEL_DATA);
	cr3 = build_cr3(cpu->loaded_mm->pgd, kern_pcid(cpu->loaded_mm->asid));
	write_cr3_raw(cpu, cr3);
	host->stats.cr3_writes++;
	exit_step(cpu, ASI_STEP_CR3_WRITE, "asi.exit.cr3", cr3, reason);
	cpu->curr_asi = NULL;
	exit_step(cpu, ASI_STEP_CLEAR_CURR, "asi.exit.curr", 0, reason);
	return TRUE;
}

/* Models asi_handle_switch_mm() (branch asi.c): squash guest/user taints into OTHER_MM ones.
 * lockdep_assert_preemption_disabled as in the kernel. */
void
asi_handle_switch_mm(AsiCpu *cpu)
{
	asi_taints_t t = cpu->taints, add = 0;

	asi_warn(cpu->host, asi_preemptible(cpu), "asi_switch_mm_preemptible");
	if (t & ASI_TAINTS_CONTROL_MASK)
		add |= ASI_TAINT_OTHER_MM_CONTROL;
	if (t & ASI_TAINTS_DATA_MASK)
		add |= ASI_TAINT_OTHER_MM_DATA;
	set_taints(cpu, (t | add) & ~(ASI_TAINTS_GUEST_MASK | ASI_TAINTS_USER_MASK));
}

/* Models context_switch() in kernel/sched/core.c with v2 03/29: asi_exit first (no switching in
 * the restricted space), then switch_mm_irqs_off → asi_handle_switch_mm when the mm changes.
 * __schedule() runs with preemption off. Simplified: runqueue lock and finish_task_switch are the
 * caller's. */
void
asi_context_switch(AsiCpu *cpu, AsiTask *next)
{
	asi_warn(cpu->host, asi_preemptible(cpu), "context_switch_preemptible");
	asi_exit(cpu, ASI_EXIT_CONTEXT_SWITCH);
	asi_check_unrestricted(cpu, "context_switch");
	if (next->mm && next->mm != cpu->loaded_mm)
		asi_handle_switch_mm(cpu);
	asi_cpu_switch_to(cpu, next);
}

/* Models exc_double_fault()'s early asi_exit (v2 05/29) for a usable stack. [inference] reason
 * MISC: the branch's reasons have none for #DF. The handler dies: no asi_intr_exit. */
void
exc_double_fault(AsiCpu *cpu)
{
	asi_intr_enter(cpu);
	asi_exit(cpu, ASI_EXIT_MISC);
}

/* Models asi_intr_enter() (asm/asi.h at 0c9d9480, v2 05/29): count nesting only while tense. */
void
asi_intr_enter(AsiCpu *cpu)
{
	if (!asi_is_relaxed(cpu))
		cpu->current->intr_nest_depth++;
}

/* Models asi_intr_exit() (asm/asi.h at 0c9d9480, v2 05/29): on the outermost return into a tense
 * region, __asi_enter restores the restricted space the handler may have left (§8.6 checked
 * after). The kernel's two compiler barriers are the order of these statements here. */
void
asi_intr_exit(AsiCpu *cpu)
{
	AsiTask *task = cpu->current;

	if (asi_is_relaxed(cpu))
		return;
	if (--task->intr_nest_depth == 0) {
		__asi_enter(cpu);
		asi_check_intr_return(cpu);
	}
}
