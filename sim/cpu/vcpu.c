/* SPDX-License-Identifier: GPL-2.0-only */
/* The vCPU: its creation, the KVM_RUN loop, and the instruction accounting for its quantum and
 * budget. The exits are in vcpu-exit.c, what runs without one in vcpu-emulate.c. */
#define G_LOG_DOMAIN "kvmsim-cpu"
#include "sim/cpu/vcpu-internal.h"

#include "mmu/async_pf.h"
#include "sim/core/log.h"

/* The vCPU stops with an error; the run ends. */
void
vcpu_fail(SimVcpu *v, const char *fmt, ...)
{
	va_list ap;

	if (!v->error) {
		va_start(ap, fmt);
		v->error = g_strdup_vprintf(fmt, ap);
		va_end(ap);
		sim_log_emit(v->kvm->log, "sim_vcpu_error", "vcpu %d: %s", v->kvcpu->vcpu_id, v->error);
	}
	v->exit = EXIT_ERROR;
	uc_emu_stop(sim_hw_uc(v->hw));
}

/*
 * The running block was left at rip, before the instruction there retired (a fault, an rdtsc
 * emulated by its hook, a store that modified the block): only the instructions before rip are
 * charged, and the block shrinks to them so that nothing is refunded twice.
 */
void
vcpu_block_cut(SimVcpu *v, guint64 rip)
{
	guint32 ran;

	if (v->block.addr == G_MAXUINT64 || rip < v->block.addr ||
	    rip >= v->block.addr + v->block.size)
		return;
	ran = sim_hw_block_index(v->hw, &v->block, rip);
	v->insns -= v->block.insns - ran;
	v->block.size = (guint32)(rip - v->block.addr);
	v->block.insns = ran;
	v->block_limit = 0;
	v->block_io = 0; /* insns went back: the next block may start from the same count */
}

/*
 * A block other than the last one starts. A store that modified the block it ran in is re-run by
 * QEMU as a block of its own (SIM_HW_BLOCK_SINGLE_STEP) inside the block it cut short. Returns
 * FALSE if the run stops before the block: it holds an rdtsc whose hook must be added first.
 */
static gboolean
block_switch(SimVcpu *v, guint64 address, guint32 size)
{
	SimHwBlock next;

	/* a fault and its retry alternate between two blocks */
	if (v->prev_block.addr == address && v->prev_block.size == size) {
		next = v->prev_block;
	} else {
		next = sim_hw_block(v->hw, address, size);
		if (G_UNLIKELY(sim_hw_tsc_pending(v->hw))) {
			v->exit = EXIT_HOOK_TSC;
			uc_emu_stop(sim_hw_uc(v->hw));
			return FALSE;
		}
	}
	if (G_UNLIKELY(next.flags & (SIM_HW_BLOCK_WRMSR | SIM_HW_BLOCK_WRMSR_INSIDE))) {
		/* an MSR-write exit before the block runs (sim_hw_intercept_wrmsr()) */
		if (next.flags & SIM_HW_BLOCK_WRMSR_INSIDE)
			vcpu_fail(v, "wrmsr inside the block at 0x%" G_GINT64_MODIFIER "x: kvmsim "
				  "intercepts only a wrmsr that starts a block (jump to it)", address);
		else
			v->exit = EXIT_WRMSR;
		uc_emu_stop(sim_hw_uc(v->hw));
		return FALSE;
	}
	if (next.flags & SIM_HW_BLOCK_SINGLE_STEP)
		vcpu_block_cut(v, address);
	v->prev_block = v->block_whole;
	v->block = v->block_whole = next;
	v->block_limit = 0;
	v->block_stale = FALSE;
	return TRUE;
}

/* The budget ran out: the guest is a runaway. */
G_NO_INLINE static void
runaway(SimVcpu *v, guint64 address)
{
	vcpu_fail(v, "runaway guest: more than %" G_GUINT64_FORMAT " instructions (at rip 0x%"
		G_GINT64_MODIFIER "x); raise --max-insns if this is expected", v->budget, address);
}

/* hook_block() for a block other than the last one, or one that preempts or fails. */
G_NO_INLINE static void
hook_block_slow(SimVcpu *v, guint64 address, guint32 size)
{
	if ((v->block.addr != address || v->block.size != size || G_UNLIKELY(v->block_stale)) &&
	    !block_switch(v, address, size))
		return;
	if (v->insns >= v->quantum_end) {
		v->exit = EXIT_PREEMPT;
		uc_emu_stop(sim_hw_uc(v->hw));
		return;
	}
	/* an open interrupt window (an interrupt was pending with IF clear): exit once it can be
	 * taken, as interrupt-window exiting does */
	if (G_UNLIKELY(v->irq_window) && vcpu_interrupt_allowed(v->kvcpu)) {
		v->exit = EXIT_IRQ_WINDOW;
		uc_emu_stop(sim_hw_uc(v->hw));
		return;
	}
	v->insns += v->block.insns;
	if (v->insns > v->budget) {
		runaway(v, address);
		return;
	}
	/* the next run of this block takes the fast path if it starts below both limits (never
	 * while an interrupt window is open) */
	if (G_LIKELY(!v->irq_window))
		v->block_limit = MIN(v->quantum_end, v->budget - v->block.insns + 1);
}

/*
 * Instruction accounting for the quantum and the budget, one call per translation block: the
 * block is charged whole when it starts and refunded what did not run if it is cut short. A stop
 * requested here takes effect before the block runs, so a quantum runs out at the start of the
 * block after the one that used it up: every run makes progress, however small the quantum. The
 * fast path (the block that ran last, a hot loop, well inside the quantum and the budget) is a
 * few instructions; everything else is hook_block_slow().
 */
static void
hook_block(uc_engine *uc, guint64 address, guint32 size, void *data)
{
	SimVcpu *v = data;

	if (G_LIKELY(v->block.addr == address && v->block.size == size &&
		     v->insns < v->block_limit)) {
		v->insns += v->block.insns;
		return;
	}
	hook_block_slow(v, address, size);
}

/* vmx_flush_tlb_all(): drop every translation; with no root loaded, load_mmu_pgd() will. */
static void
flush_tlb_all(struct kvm_vcpu *kvcpu)
{
	SimVcpu *v = kvcpu->hw;
	u64 root_pa = kvm_mmu_root_pa(kvcpu);

	if (root_pa)
		sim_hw_flush_tlb(v->hw, root_pa);
}

/* A new root: the flush stub loads it into CR3 and flushes what the old one left. */
static void
load_mmu_pgd(struct kvm_vcpu *kvcpu, u64 root_pa)
{
	SimVcpu *v = kvcpu->hw;

	sim_hw_flush_tlb(v->hw, root_pa);
}

/* vmx_flush_tlb_all() when only these pages can hold a translation a walk would not find now
 * (kvm_vcpu_flush_tlb_all() in mmu/kvm.c): one invlpg each. */
static void
flush_tlb_gfns(struct kvm_vcpu *kvcpu, const gfn_t *gfns, guint n)
{
	SimVcpu *v = kvcpu->hw;

	sim_hw_flush_tlb_pages(v->hw, gfns, n);
}

/* The host changed guest RAM this vCPU may have translated code from (a vCPU already closed
 * has nothing left to drop). */
static void
code_changed(struct kvm_vcpu *kvcpu, gpa_t gpa, u64 size)
{
	SimVcpu *v = kvcpu->hw;

	if (v)
		sim_hw_content_changed(v->hw, gpa, size);
}

/*
 * The engine dropped its decodes of changed bytes: so do the vCPU's copies, or a rewritten block
 * of the same address and size would be charged its old instructions. The running block, whose
 * charge a cut may still refund, is only marked to be decoded again at its next start.
 */
static void
vcpu_forget_blocks(gpointer data, guint64 gpa, guint64 len)
{
	SimVcpu *v = data;

	if (sim_hw_block_meets(&v->prev_block, gpa, len))
		v->prev_block.addr = G_MAXUINT64;
	if (sim_hw_block_meets(&v->block_whole, gpa, len) ||
	    sim_hw_block_meets(&v->block, gpa, len)) {
		v->block_whole.addr = G_MAXUINT64; /* never the next prev_block */
		v->block_stale = TRUE;
		v->block_limit = 0; /* hook_block_slow() decodes it */
	}
}

/* A block ran from a page for the first time on this vCPU: hostmem reports its changes. */
static void
vcpu_note_code(gpointer data, guint64 gpa)
{
	SimVcpu *v = data;

	sim_hostmem_note_code(v->kvm->hm, gpa);
}

const struct kvm_hw_ops sim_vcpu_hw_ops = {
	.flush_tlb_all = flush_tlb_all,
	.load_mmu_pgd = load_mmu_pgd,
	.flush_tlb_gfns = flush_tlb_gfns,
	.queue_page_fault = vcpu_queue_page_fault,
	.apic_set_irq = vcpu_apic_set_irq,
	.interrupt_allowed = vcpu_interrupt_allowed,
	.event_pending = vcpu_event_pending,
	.get_cpl = vcpu_get_cpl,
	.code_changed = code_changed,
};

/* KVM_CREATE_VCPU on a new engine that maps guest RAM, the tables and nothing else. */
SimVcpu *
sim_vcpu_new(struct kvm *kvm, int id, const SimVcpuExitOps *ops, gpointer ops_data,
	     GError **error)
{
	g_autoptr(SimHw) hw = sim_hw_new(error);

	if (!hw)
		return NULL;
	for (guint i = 0; i < sim_hostmem_nr_windows(kvm->hm); i++) {
		guint64 gpa, size;
		guint8 *buf = sim_hostmem_window(kvm->hm, i, &gpa, &size);

		if (!sim_hw_map(hw, gpa, size, buf, error))
			return NULL;
	}
	guint64 pt_pa, pt_size;
	guint8 *pt = sim_ptpool_region(kvm->pt_pool, &pt_pa, &pt_size);

	if (!sim_hw_map(hw, pt_pa, pt_size, pt, error))
		return NULL;

	SimVcpu *v = g_new0(SimVcpu, 1);
	uc_engine *uc = sim_hw_uc(hw);
	uc_hook hook; /* never removed: the engine goes with the vCPU */

	v->kvm = kvm;
	v->hw = g_steal_pointer(&hw);
	v->ops = ops;
	v->ops_data = ops_data;
	v->quantum = SIM_VCPU_DEFAULT_QUANTUM;
	v->budget = SIM_VCPU_DEFAULT_BUDGET;
	v->block.addr = v->block_whole.addr = v->prev_block.addr = G_MAXUINT64;
	v->kvcpu = kvm_vm_ioctl_create_vcpu(kvm, id, v);
	sim_hw_emulate_tsc(v->hw, vcpu_tsc_read, v);
	sim_hw_set_code_hook(v->hw, vcpu_note_code, v);
	sim_hw_set_forget_hook(v->hw, vcpu_forget_blocks, v);
	/* hook_block() passes every block to sim_hw_block() (or saw it last time) */
	sim_hw_store_fast_path_enable(v->hw);
	sim_hw_intercept_wrmsr(v->hw);
	/* vCPU i has APIC ID i, as a VMM's KVM_SET_CPUID2 usually gives it */
	sim_hw_set_cpuid(v->hw, (guint32)id);
	uc_hook_add(uc, &hook, UC_HOOK_INTR, vcpu_hook_intr, v, 1, 0);
	uc_hook_add(uc, &hook, UC_HOOK_INSN_INVALID, vcpu_hook_insn_invalid, v, 1, 0);
	uc_hook_add(uc, &hook, UC_HOOK_INSN, vcpu_hook_out, v, 1, 0, UC_X86_INS_OUT);
	uc_hook_add(uc, &hook, UC_HOOK_INSN, vcpu_hook_in, v, 1, 0, UC_X86_INS_IN);
	/* bounded below the table region: hw's flush stub must not count as guest code */
	uc_hook_add(uc, &hook, UC_HOOK_BLOCK, hook_block, v, 0, SIM_HW_TABLE_GPA - 1);
	uc_hook_add(uc, &hook, UC_HOOK_MEM_UNMAPPED, vcpu_hook_unmapped, v, 1, 0);
	sim_hw_load_root(v->hw, kvm_mmu_load(v->kvcpu));
	return v;
}

/* Close the engine. */
void
sim_vcpu_free(SimVcpu *v)
{
	if (!v)
		return;
	v->kvcpu->hw = NULL; /* the VM may outlive it: code_changed() skips it */
	sim_hw_free(v->hw);
	g_free(v->mmio_buf);
	g_free(v->error);
	g_free(v);
}

/* A window with a zeroed buffer behind it, never mapped in the SPTE tree. */
gboolean
sim_vcpu_map_mmio(SimVcpu *v, guint64 gpa, guint64 size, GError **error)
{
	/* one zeroed buffer per vCPU, mapped as long as the engine lives; the SPTE tree never maps
	 * it, so it is never read */
	g_return_val_if_fail(!v->mmio_buf, FALSE);
	v->mmio_buf = g_malloc0(size);
	if (!sim_hw_map(v->hw, gpa, size, v->mmio_buf, error)) {
		g_clear_pointer(&v->mmio_buf, g_free);
		return FALSE;
	}
	return TRUE;
}

void
sim_vcpu_set_guards(SimVcpu *v, guint64 gpa, guint64 stride, guint64 size, guint64 count)
{
	g_return_if_fail(stride && size <= stride);
	v->guard_gpa = gpa;
	v->guard_stride = stride;
	v->guard_size = size;
	v->guard_count = count;
}

void
sim_vcpu_set_entry(SimVcpu *v, guint64 rip, guint64 rsp, guint64 rdi, guint64 rsi)
{
	uc_engine *uc = sim_hw_uc(v->hw);

	v->rip = rip;
	uc_reg_write(uc, UC_X86_REG_RSP, &rsp);
	uc_reg_write(uc, UC_X86_REG_RDI, &rdi);
	uc_reg_write(uc, UC_X86_REG_RSI, &rsi);
}

void
sim_vcpu_set_limits(SimVcpu *v, guint64 quantum, guint64 budget)
{
	v->quantum = quantum;
	v->budget = budget;
}

void
sim_vcpu_set_hypercall_exit(SimVcpu *v, guint64 mask)
{
	v->hypercall_exit = mask;
}

void
sim_vcpu_set_asi(SimVcpu *v, AsiSim *asi)
{
	v->asi = asi;
}

/*
 * Runs the guest until it exits. What hardware does without a VM exit is done here and the run
 * resumed: an rdtsc about to run for the first time gets its hook, rdrand and rdseed are emulated.
 */
static uc_err
run_guest(SimVcpu *v)
{
	uc_err err;

	for (;;) {
		v->exit = EXIT_NONE;
		v->block.addr = v->block_whole.addr = v->prev_block.addr = G_MAXUINT64;
		v->block_stale = FALSE;
		v->block_limit = 0;
		v->in_run = TRUE;
		err = sim_hw_run(v->hw, v->rip);
		v->in_run = FALSE;
		v->rip = sim_hw_rip(v->hw);
		if (v->resume_rip) {
			v->rip = v->resume_rip;
			v->resume_rip = 0;
		}
		if (v->exit == EXIT_HOOK_TSC)
			sim_hw_hook_tsc(v->hw);
		else if (v->exit != EXIT_UD ||
			 sim_hw_emulate_random(v->hw, vcpu_random_read, v) == SIM_HW_UD_OTHER)
			return err;
		v->rip = sim_hw_rip(v->hw);
	}
}

/*
 * The VM entry at rip after vcpu_enter_guest() (arch/x86/kvm/x86.c, read in ColinIanKing/linux-next
 * at 046408cf) served its requests, as every entry path makes it: IN_GUEST_MODE, then the
 * kvm_vcpu_exit_request() check (a hit takes cancel_injection: no kvm_entry), then vmx_vcpu_run()
 * (vmx/vmx.c at 046408cf) traces kvm_entry before vmx_vcpu_enter_exit(), where ASI's switch
 * (asi_kvm_vmenter(), v2 21/29) yields at its named points. A request or kick made there finds
 * the vCPU IN_GUEST_MODE and sends it an IPI (kvm_make_all_cpus_request(), kvm_vcpu_kick()),
 * pending while IRQs are off and taken at the entry before any guest instruction (SIM_ENTRY_IPI:
 * the caller lets the CPU deliver the injected event, then sim_kvm_ipi_exit()). SIM_ENTRY_RUN
 * where the guest runs its first instruction, the entry invariant checked there.
 */
SimEntry
sim_kvm_vmenter(struct kvm_vcpu *vcpu, AsiSim *asi, guint64 rip, u32 intr_info, u32 error_code)
{
	vcpu->mode = IN_GUEST_MODE;
	vcpu->ipi_vector = 0;
	if (kvm_vcpu_exit_request(vcpu))
		return SIM_ENTRY_CANCELLED;
	trace_kvm_entry(vcpu, rip, intr_info, error_code);
	asi_kvm_vmenter(asi, (guint)vcpu->vcpu_id);
	if (G_LIKELY(vcpu->mode == IN_GUEST_MODE)) {
		kvm_vcpu_check_entry(vcpu);
		return SIM_ENTRY_RUN;
	}
	return SIM_ENTRY_IPI;
}

/* The exit at rip on the IPI pending at a SIM_ENTRY_IPI entry: vmx_vcpu_enter_exit()'s switch
 * back, then vmx_vcpu_run()'s trace_kvm_exit(), EXTERNAL_INTERRUPT on the IPI's vector. */
void
sim_kvm_ipi_exit(struct kvm_vcpu *vcpu, AsiSim *asi, guint64 rip)
{
	struct kvm_exit_info x = {
		.reason = EXIT_REASON_EXTERNAL_INTERRUPT,
		.rip = rip,
		.intr_info = INTR_INFO_VALID_MASK | INTR_TYPE_EXT_INTR | vcpu->ipi_vector,
	};

	asi_kvm_vmexit(asi, (guint)vcpu->vcpu_id);
	trace_kvm_exit(vcpu, &x);
	vcpu->ipi_vector = 0;
}

/* The VM exit: OUTSIDE_GUEST_MODE after ASI's switch back (asi_kvm_vmexit(), in
 * vmx_vcpu_enter_exit()), as vcpu_enter_guest() sets it once vmx_vcpu_run() returns. */
void
sim_kvm_vmexit(struct kvm_vcpu *vcpu, AsiSim *asi)
{
	asi_kvm_vmexit(asi, (guint)vcpu->vcpu_id);
	vcpu->mode = OUTSIDE_GUEST_MODE;
}

/*
 * sim_kvm_vmenter() for this vCPU, with the event its entry injects; TRUE where the guest runs.
 * On a pending IPI the CPU first delivers the injected event (VM entry completes it), then exits
 * before the handler's first instruction with no IDT-vectoring information, so nothing is
 * re-injected; a delivery that takes an EPT violation exits on that instead (VCPU_DELIVERY_EXIT),
 * and the IPI is taken with it.
 */
gboolean
vcpu_vmenter(SimVcpu *v, guint64 rip)
{
	SimEntry entry = sim_kvm_vmenter(v->kvcpu, v->asi, rip, v->entry_intr_info,
					 v->entry_error_code);

	if (G_LIKELY(entry == SIM_ENTRY_RUN))
		return TRUE;
	if (entry == SIM_ENTRY_IPI) {
		if (v->entry_intr_info) {
			if (vcpu_deliver_at_entry(v) != VCPU_DELIVERED)
				return FALSE;
			rip = v->rip; /* the handler's first instruction */
		}
		sim_kvm_ipi_exit(v->kvcpu, v->asi, rip);
	}
	return FALSE;
}

/* sim_kvm_vmexit() for this vCPU. A kick between the exit and OUTSIDE_GUEST_MODE finds the vCPU
 * still IN_GUEST_MODE; its IPI is taken in the host once IRQs are on. */
void
vcpu_vmexit(SimVcpu *v)
{
	sim_kvm_vmexit(v->kvcpu, v->asi);
}

/* The KVM_RUN loop: vcpu_run() / vcpu_enter_guest() (arch/x86/kvm/x86.c, read in
 * ColinIanKing/linux-next at 046408cf, 6.18 cycle): APF requests, the other requests, event
 * injection into VM_ENTRY_INTR_INFO_FIELD, kvm_mmu_reload(), the entry (a cancelled one takes
 * cancel_injection and loops), the CPU's delivery of the injected event through the root just
 * loaded, the run; ASI's calls around entry, exit and the return to the VMM. */
static void
vcpu_actor(SimActor *actor, gpointer data)
{
	SimVcpu *v = data;
	guint id = (guint)v->kvcpu->vcpu_id;

	asi_kvm_run_enter(v->asi, id);
	for (;;) {
		sim_yield(v->sched, "vcpu.enter");
		if (v->stop_requested || sim_sched_failed(v->sched))
			break;
		if (G_UNLIKELY(v->kvcpu->async_pf->msr_en_val || v->kvcpu->async_pf->queued) &&
		    kvm_async_pf_enter_guest(v->kvcpu)) {
			if (!vcpu_apf_block(v))
				break;
			continue;
		}
		kvm_vcpu_serve_requests(v->kvcpu);
		if (G_UNLIKELY(vcpu_events_due(v)))
			vcpu_check_and_inject_events(v);
		kvm_vcpu_mmu_reload(v->kvcpu);
		if (!vcpu_vmenter(v, v->rip)) {
			vcpu_cancel_injection(v);
			vcpu_vmexit(v);
			continue;
		}
		if (G_UNLIKELY(v->entry_intr_info)) {
			VcpuDelivery d = vcpu_deliver_at_entry(v);

			if (d == VCPU_DELIVERY_FAILED)
				break;
			if (d == VCPU_DELIVERY_EXIT)
				continue;
		}
		if (v->insns >= v->quantum_end)
			v->quantum_end = v->insns + v->quantum;
		guint64 insns = v->insns;
		uc_err err = run_guest(v);

		vcpu_vmexit(v); /* unless an exit inside the run did */
		sim_count_add(v->kvm->counters, SIM_CTR_GUEST_INSNS, v->insns - insns);
		/* the guest retired an instruction, or left for something other than the timer:
		 * progress. A loop of one block is preempted where it entered and still progresses;
		 * a fault retried in the run retires nothing (vcpu_block_cut() refunds its charge). */
		if (v->insns != insns || v->exit != EXIT_PREEMPT)
			sim_sched_progress(v->sched);
		if (!vcpu_handle_exit(v, err))
			break;
	}
	asi_kvm_run_exit(v->asi, id);
	v->finished = TRUE;
}

SimActor *
sim_vcpu_start(SimVcpu *v, SimSched *sched)
{
	g_autofree gchar *name = g_strdup_printf("vcpu%d", v->kvcpu->vcpu_id);

	v->sched = sched;
	vcpu_random_seed(v, sim_sched_seed(sched));
	return sim_actor_new(sched, name, vcpu_actor, v);
}

void
sim_vcpu_request_stop(SimVcpu *v)
{
	v->stop_requested = TRUE;
}

int
sim_vcpu_id(const SimVcpu *v)
{
	return v->kvcpu->vcpu_id;
}

gboolean
sim_vcpu_finished(const SimVcpu *v)
{
	return v->finished;
}

const char *
sim_vcpu_error(const SimVcpu *v)
{
	return v->error;
}
