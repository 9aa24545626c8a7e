/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The ASI model on the simulator: the host and its CPUs, the step hook (yield points, log, the
 * per-step invariants), violations as named invariants, and host frames in the direct map.
 */
#include "asi/sim-internal.h"

#include <errno.h>
#include <string.h>

#include "sim/core/invariants.h"
#include "sim/core/log.h"

/* What a violation asi/ reports (a kernel WARN, or a §8 check) is, by invariant (the registry
 * in sim/core/invariants.c: reference §8's items). */
static const struct {
	const char *report;
	const char *invariant;
} invariant_of[] = {
	{ "asi_vmenter_unrestricted", "asi_vmenter_restricted" },         /* §8.1 */
	{ "asi_vmenter_tainted", "asi_vmenter_untainted" },               /* §8.2 */
	{ "asi_sensitive_access_in_critical_section", "asi_critical_section_sensitive" }, /* §8.3 */
	{ "asi_pf_loop", "asi_critical_section_sensitive" },
	{ "asi_restricted_unsound", "asi_restricted_sound" },             /* §8.4 */
	{ "asi_enter_preemptible", "asi_enter_relax_pairing" },           /* §8.5 */
	{ "asi_enter_nested", "asi_enter_relax_pairing" },
	{ "asi_enter_in_interrupt", "asi_enter_relax_pairing" },
	{ "asi_enter_null", "asi_enter_relax_pairing" },
	{ "asi_enter_without_relax", "asi_enter_relax_pairing" },
	{ "asi_relax_in_interrupt", "asi_enter_relax_pairing" },
	{ "asi_exit_in_critical_section", "asi_enter_relax_pairing" },
	{ "asi_start_twice", "asi_enter_relax_pairing" },
	{ "asi_start_critical_unstarted", "asi_enter_relax_pairing" },
	{ "asi_end_unstarted", "asi_enter_relax_pairing" },
	{ "asi_map_in_critical_section", "asi_enter_relax_pairing" },
	{ "asi_unmap_in_critical_section", "asi_enter_relax_pairing" },
	{ "asi_unmap_irqs_disabled", "asi_enter_relax_pairing" },
	{ "asi_switch_mm_preemptible", "asi_enter_relax_pairing" },
	{ "context_switch_preemptible", "asi_enter_relax_pairing" },
	{ "asi_intr_return_not_restored", "asi_intr_return_restores" },   /* §8.6 */
	{ "asi_order_enter", "asi_order" },                               /* §8.7 */
	{ "asi_order_exit", "asi_order" },
	{ "asi_exit_left_control_taint", "asi_exit_flushes_control" },    /* §8.8 */
	{ "asi_taint_rules", "asi_taint_rules" },                         /* §8.9 */
	{ "asi_restricted_at_switch_or_user_return", "asi_unrestricted_at_switch" }, /* §8.10 */
	{ "flush_tlb_local_in_critical_section", "asi_cr3_stable" },      /* §8.11 */
	{ "asi_steady_state_not_nop", "asi_steady_state_nop" },           /* §8.12 */
	{ "asi_pcid_clash", "asi_pcid_distinct" },                        /* §8.13 */
	{ "asi_destroy_while_current", "asi_lifecycle" },                 /* §8.14 */
	{ "asi_destroy_refcount", "asi_lifecycle" },
	{ "asi_init_class_uninitialised", "asi_lifecycle" },
	{ "asi_init_class_no_control_taint", "asi_lifecycle" },
	{ "asi_init_class_no_data_taint", "asi_lifecycle" },
	{ "asi_init_userspace_class", "asi_lifecycle" },
	{ "asi_frame_tracked_twice", "asi_lifecycle" },
	{ "asi_free_untracked_frame", "asi_lifecycle" },
};

/* The invariant a report belongs to. */
static const char *
invariant_for(const char *report)
{
	for (guint i = 0; i < G_N_ELEMENTS(invariant_of); i++) {
		if (strcmp(invariant_of[i].report, report) == 0)
			return invariant_of[i].invariant;
	}
	g_error("asi: violation %s has no invariant", report);
}

/* AsiOps.violation: the "sim_invariant" event and the run's failure, naming the invariant and
 * the kernel WARN or check that saw it, on the CPU of the running code. */
static void
sim_violation(AsiHost *host, const char *name, gpointer data)
{
	AsiSim *sim = data;
	const char *invariant = invariant_for(name);
	guint cpu = sim_hostcpu_current(sim->cpus);
	g_autofree gchar *reason = NULL;

	if (sim->tearing_down)
		return;
	g_assert(sim_invariant_lookup(invariant));
	sim_log_emit(sim_sched_log(sim->sched), "sim_invariant", "%s: %s on cpu %u", invariant, name,
		     cpu);
	reason = g_strdup_printf("invariant %s violated: %s on cpu %u", invariant, name, cpu);
	sim_sched_fail(sim->sched, reason);
}

/* §8.7: asi_enter's CR3 write comes after curr_asi names the domain it loads; asi_exit clears
 * curr_asi only once the unrestricted CR3 is in. (Not "curr_asi still set at the exit's CR3
 * write": an exit nested in another one's window, an NMI's #PF, clears it first, and the outer
 * exit's CR3 write is then a redundant one the branch's asi_exit() allows by design.) */
static void
check_order(AsiSim *sim, AsiCpu *cpu, const AsiStep *step)
{
	if (step->kind == ASI_STEP_CR3_WRITE && step->reason == NR_ASI_EXIT_REASONS) {
		if (!cpu->curr_asi || (step->cr3 & PTE_PFN_MASK) != cpu->curr_asi->pgd)
			asi_report(sim->host, "asi_order_enter");
	} else if (step->kind == ASI_STEP_CLEAR_CURR &&
		   (cpu->cr3 & PTE_PFN_MASK) != cpu->loaded_mm->pgd) {
		asi_report(sim->host, "asi_order_exit");
	}
}

/* The log line of a step, named after the branch's tracepoint (asi_exit_pf) or sim_asi_*. */
static void
log_step(AsiSim *sim, AsiCpu *cpu, const AsiStep *step)
{
	SimLog *log = sim_sched_log(sim->sched);

	switch (step->kind) {
	case ASI_STEP_CR3_WRITE:
		sim_log_emitf(log, "sim_asi_cr3", "cpu %u cr3 0x%" G_GINT64_MODIFIER "x %s", cpu->id,
			      step->cr3, cpu->curr_asi && step->reason == NR_ASI_EXIT_REASONS ?
						 "restricted" : "unrestricted");
		break;
	case ASI_STEP_IBPB:
	case ASI_STEP_RSB_FILL:
	case ASI_STEP_L1D_FLUSH:
		sim_log_emitf(log, "sim_asi_flush", "cpu %u %s", cpu->id,
			      step->kind == ASI_STEP_IBPB ? "ibpb" :
			      step->kind == ASI_STEP_RSB_FILL ? "rsb" : "l1d");
		break;
	case ASI_STEP_CLEAR_CURR:
		sim_log_emitf(log, "sim_asi_exit", "cpu %u reason %s taints 0x%02x", cpu->id,
			      asi_exit_reason_name(step->reason), step->taints);
		break;
	case ASI_STEP_EXIT_PF:
		/* TP_printk of asi_exit_pf (arch/x86/include/asm/trace/asi.h in the branch): the
		 * address, the code that faulted (%pS: kvmsim names the modelled function) */
		sim_log_emitf(log, "asi_exit_pf", "address=0x%" G_GINT64_MODIFIER "x ip=%s "
			      "error_code=0x%" G_GINT64_MODIFIER "x, user_mode=0", step->addr,
			      step->ip ? step->ip : "?", step->cr3);
		break;
	default:
		break;
	}
}

/* AsiOps.step: count for §8.12, check §8.7-8.9, log, then yield at the step's point. */
static void
sim_step(AsiCpu *cpu, const AsiStep *step, gpointer data)
{
	AsiSim *sim = data;
	AsiSimCpu *pc = &sim->percpu[cpu->id];

	if (sim->tearing_down)
		return;
	switch (step->kind) {
	case ASI_STEP_CR3_WRITE:
		pc->cr3_writes++;
		check_order(sim, cpu, step);
		break;
	case ASI_STEP_IBPB:
	case ASI_STEP_RSB_FILL:
	case ASI_STEP_L1D_FLUSH:
		pc->flushes++;
		break;
	case ASI_STEP_CLEAR_CURR:
		pc->exits++;
		check_order(sim, cpu, step);
		asi_check_after_exit(cpu);
		break;
	case ASI_STEP_TAINT:
		asi_check_taint_rules(sim->host, cpu->taints);
		break;
	default:
		break;
	}
	if (sim_log_on(sim_sched_log(sim->sched)))
		log_step(sim, cpu, step);
	if (step->point && sim_sched_current_index(sim->sched) >= 0)
		sim_yield(sim->sched, step->point);
}

/* SimFrameAsiOps.alloc: every arena frame is user memory of the VMM (its anonymous memory
 * backing guest RAM, or a guest_memfd folio): GFP_HIGHUSER, so __GFP_SENSITIVE (v2 14/29). */
static void
frame_alloc(gpointer data, SimPfn pfn)
{
	AsiSim *sim = data;

	asi_track_frames(sim->host, pfn, 1, ASI_OBJ_GUEST_RAM);
}

/* SimFrameAsiOps.free: __free_pages() of the frame on the CPU freeing it. */
static void
frame_free(gpointer data, SimPfn pfn)
{
	AsiSim *sim = data;

	asi_free_pages(sim->host, asi_sim_current_cpu(sim), ASI_PAGE_OFFSET + (pfn << 12), 1);
}

/* SimFrameAsiOps.access: the one accessor, through the direct map on the current CPU. */
static void
frame_access(gpointer data, SimPfn pfn, gboolean write, const char *ip)
{
	AsiSim *sim = data;

	asi_host_access_ip(asi_sim_current_cpu(sim), ASI_PAGE_OFFSET + (pfn << 12),
			   write ? X86_PF_WRITE : 0, ip);
}

/* The TLB-flush IPI's handler, flush_tlb_func() (arch/x86/mm/tlb.c) when it flushes everything:
 * an interrupt (asi_intr_enter/exit) whose flush_tlb_local() exits first (v2 20/29). */
static void
flush_ipi(gpointer data)
{
	AsiCpu *cpu = data;

	asi_intr_enter(cpu);
	native_flush_tlb_local(cpu);
	asi_intr_exit(cpu);
}

/* Deliver the TLB-flush IPI a CPU held while its IRQs were off. */
void
asi_sim_flush_pending(AsiSim *sim, AsiCpu *cpu)
{
	if (!sim->percpu[cpu->id].flush_pending)
		return;
	sim->percpu[cpu->id].flush_pending = FALSE;
	asi_sim_run_on(sim, cpu->id, flush_ipi, cpu);
}

/* The ceiling in pages above which flush_tlb_mm_range() flushes everything rather than page by
 * page (tlb_single_page_flush_ceiling in arch/x86/mm/tlb.c, read in torvalds/linux). */
#define TLB_SINGLE_PAGE_FLUSH_CEILING 33

/*
 * SimFrameAsiOps.flush_tlb_mm: flush_tlb_mm_range() of the VMM's mm. Up to the ceiling, INVLPG
 * page by page, which leaves ASI alone (and kvmsim's CPUs cache no user translations). Above
 * it, a full local flush on this CPU and, by IPI, on every other CPU whose current task has the
 * mm loaded (lazy ones, such as an idle task after HLT, are skipped); a CPU with IRQs off takes
 * the IPI when they come back on. Each flush is a CR3 reload: asi_exit(TLB_FLUSH) first.
 */
static void
frame_flush_tlb_mm(gpointer data, guint64 npages)
{
	AsiSim *sim = data;
	guint self = sim_hostcpu_current(sim->cpus);

	if (npages <= TLB_SINGLE_PAGE_FLUSH_CEILING)
		return;
	for (guint c = 0; c < sim_hostcpus_nr(sim->cpus); c++) {
		AsiCpu *cpu = asi_host_cpu(sim->host, c);

		if (cpu->loaded_mm != sim->mm || !cpu->current->mm)
			continue;
		if (c == self)
			native_flush_tlb_local(cpu);
		else if (cpu->irqs_disabled)
			sim->percpu[c].flush_pending = TRUE;
		else
			asi_sim_run_on(sim, c, flush_ipi, cpu);
	}
}

static const SimFrameAsiOps frame_ops = { frame_alloc, frame_free, frame_access,
					  frame_flush_tlb_mm };

/* --asi off; when turned on: v2, an L1TF CPU with IBPB, the default costs. */
void
asi_sim_config_init(AsiSimConfig *config)
{
	*config = (AsiSimConfig){ .on = FALSE, .api = ASI_API_V2, .l1tf = TRUE, .ibpb = TRUE };
	asi_costs_parse("", &config->costs, NULL);
}

/* The --asi-api and <asi api> name of an API shape. */
const char *
asi_api_name(AsiApi api)
{
	return api == ASI_API_CRITICAL ? "critical" : "v2";
}

/* The API shape called name; FALSE for none. */
gboolean
asi_api_lookup(const char *name, AsiApi *out)
{
	if (strcmp(name, "v2") == 0)
		*out = ASI_API_V2;
	else if (strcmp(name, "critical") == 0)
		*out = ASI_API_CRITICAL;
	else
		return FALSE;
	return TRUE;
}

/*
 * Models, at set-up: kvm_x86_vendor_init() → kvm_x86_init_asi_class() and kvm_arch_init_vm() →
 * asi_init(kvm->mm, ASI_CLASS_KVM) (v2 21/29). CPU i < nr_vcpus runs vCPU i's thread, the next
 * the primary MMU's work and the one after the VMM, each on the VMM's mm (the notifier's work is
 * the VMM's madvise or a kthread borrowing its mm). The zero page is kernel static data
 * (nonsensitive), the arena's frames are tracked as they are handed out.
 */
AsiSim *
asi_sim_new(const AsiSimConfig *config, SimSched *sched, SimHostMem *hm, guint nr_vcpus,
	    SimMutations mutations)
{
	AsiSim *sim = g_new0(AsiSim, 1);
	AsiOps ops = { sim_step, sim_violation, sim };
	AsiConfig c;

	sim->config = *config;
	sim->sched = sched;
	sim->hm = hm;
	sim->nr_vcpus = nr_vcpus;
	sim->mutations = mutations;
	sim->cpus = sim_hostcpus_new(sched, nr_vcpus);
	asi_config_init(&c);
	c.l1tf = config->l1tf;
	c.ibpb = config->ibpb;
	c.kvm_vmexit_mitigated = config->vmexit_ibpb;
	c.nr_cpus = sim_hostcpus_nr(sim->cpus);
	sim->host = asi_host_new(&c, &ops);
	kvm_x86_init_asi_class(sim->host);
	sim->mm = asi_mm_new(sim->host);
	asi_init(sim->host, sim->mm, ASI_CLASS_KVM, &sim->kvm_asi);
	if (config->userspace) {
		/* asi_init_userspace_class() in start_kernel(), the domain in mm_init() (v2-user) */
		asi_init_userspace_class(sim->host);
		asi_init(sim->host, sim->mm, ASI_CLASS_USERSPACE, &sim->user_asi);
	}
	asi_check_pcids(sim->host, sim->mm);
	sim->vcpus = g_new0(AsiSimVcpu, nr_vcpus);
	sim->percpu = g_new0(AsiSimCpu, c.nr_cpus);
	for (guint i = 0; i < c.nr_cpus; i++)
		asi_task_init(&sim->percpu[i].idle, NULL);
	for (guint i = 0; i < nr_vcpus; i++) {
		asi_task_init(&sim->vcpus[i].task, sim->mm);
		asi_cpu_switch_to(asi_host_cpu(sim->host, i), &sim->vcpus[i].task);
	}
	asi_task_init(&sim->notifier_task, sim->mm);
	asi_cpu_switch_to(asi_host_cpu(sim->host, nr_vcpus), &sim->notifier_task);
	asi_task_init(&sim->vmm_task, sim->mm);
	asi_cpu_switch_to(asi_host_cpu(sim->host, nr_vcpus + 1), &sim->vmm_task);
	asi_track_frames(sim->host, SIM_ZERO_PFN, 1, ASI_OBJ_KERNEL);
	sim_hostmem_set_asi(hm, &frame_ops, sim);
	sim_sched_set_sleep_hook(sched, asi_sim_sleep, sim);
	return sim;
}

/* Unhook from host memory, then free the host, its CPUs and tasks. */
void
asi_sim_free(AsiSim *sim)
{
	if (!sim)
		return;
	sim_hostmem_set_asi(sim->hm, NULL, NULL);
	/* the VMM process exits: do_exit() switches its threads away (context_switch → asi_exit),
	 * after the run and its log */
	sim->tearing_down = TRUE;
	for (guint c = 0; c < sim_hostcpus_nr(sim->cpus); c++)
		asi_exit(asi_host_cpu(sim->host, c), ASI_EXIT_CONTEXT_SWITCH);
	sim_sched_set_sleep_hook(sim->sched, NULL, NULL);
	asi_host_free(sim->host);
	sim_hostcpus_free(sim->cpus);
	g_free(sim->vcpus);
	g_free(sim->percpu);
	g_free(sim);
}

/* The EPT tables come from KVM's mmu page caches (__get_free_page(GFP_KERNEL_ACCOUNT)): kernel
 * memory, nonsensitive in v2 (14/29), so mapped in every restricted space. */
void
asi_sim_track_tables(AsiSim *sim, guint64 pa, guint64 size)
{
	asi_track_frames(sim->host, pa >> 12, (guint)(size >> 12), ASI_OBJ_KERNEL);
}

/* End of run: §8.4 over the VM's domain (a walk of its whole tables). */
void
asi_sim_finish(AsiSim *sim)
{
	asi_check_restricted_sound(sim->host, sim->kvm_asi);
	if (sim->user_asi)
		asi_check_restricted_sound(sim->host, sim->user_asi);
}

/* The ASI host (asi/asi.h) behind the wiring. */
AsiHost *
asi_sim_host(AsiSim *sim)
{
	return sim->host;
}

/* The options the machine was built with. */
const AsiSimConfig *
asi_sim_config(const AsiSim *sim)
{
	return &sim->config;
}

/* Which CPU each actor runs on. */
SimHostCpus *
asi_sim_hostcpus(AsiSim *sim)
{
	return sim->cpus;
}

/* Host CPU cpu's ASI state. */
AsiCpu *
asi_sim_cpu(AsiSim *sim, guint cpu)
{
	return asi_host_cpu(sim->host, cpu);
}

/* The ASI state of the CPU the running code is on. */
AsiCpu *
asi_sim_current_cpu(AsiSim *sim)
{
	return asi_host_cpu(sim->host, sim_hostcpu_current(sim->cpus));
}

/* The ASI state of the CPU an actor of this name runs on. */
AsiCpu *
asi_sim_actor_cpu(AsiSim *sim, const char *actor)
{
	return asi_host_cpu(sim->host, sim_hostcpu_of_actor(sim->cpus, actor));
}

/* Run fn(data) on CPU cpu (an interrupt handler on the CPU it interrupts). */
void
asi_sim_run_on(AsiSim *sim, guint cpu, void (*fn)(gpointer data), gpointer data)
{
	sim_hostcpu_run_on(sim->cpus, cpu, fn, data);
}

/* kvm->arch.asi: the VM's restricted address space. */
struct asi *
asi_sim_kvm_domain(AsiSim *sim)
{
	return sim->kvm_asi;
}

/* vCPU vcpu runs on host CPU vcpu. */
AsiCpu *
asi_sim_vcpu_cpu(AsiSim *sim, guint vcpu)
{
	g_assert(vcpu < sim->nr_vcpus);
	return asi_host_cpu(sim->host, vcpu);
}
