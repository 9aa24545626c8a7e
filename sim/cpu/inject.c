/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Event injection, split as in the kernel (arch/x86/kvm/x86.c vcpu_enter_guest() and
 * kvm_check_and_inject_events(), vmx.c vmx_inject_irq(), vmx_inject_exception() and
 * vmx_cancel_injection(), read in ColinIanKing/linux-next at 046408cf, 6.18 cycle): after the
 * requests are served, KVM only queues the event in VM_ENTRY_INTR_INFO_FIELD (logging
 * kvm_inj_virq / kvm_inj_exception); then kvm_mmu_reload() loads the root, and the CPU delivers
 * the event at VM entry (VMRESUME, with ASI after the switch to the restricted table) through
 * that root. An entry cancelled before it runs keeps the event injected, and the next one
 * injects it again ("[reinjected]").
 *
 * The delivery itself is the CPU's (SDM Vol. 3A 6.14, 64-bit mode): Unicorn 2.0.1 hands every
 * exception to the UC_HOOK_INTR hook instead of the guest's IDT, so kvmsim does it after
 * kvm_entry and before the run: read the gate from the IDT (IDTR), align RSP down to 16, push SS,
 * RSP, RFLAGS, CS, RIP and the error code, clear IF (an interrupt gate), TF, NT and RF, and start
 * the run at the handler (kvmsim's own sim_inject_* line names the handler and CR2). The IDT and
 * the stack are reached through the SPTE tree as the CPU would: an access the tree does not
 * allow is an EPT violation exit with the event in its IDT-vectoring information (info2); KVM
 * handles it, the event stays injected (vmx_complete_interrupts()) and the next entry delivers
 * it again. Simplified: IST, privilege changes and the TSS are not modelled (kvmsim's guests run
 * at CPL 0 on their own stack, with no IST); a gate's selector must be the running CS (no far
 * transfer); the local APIC is an IRR and nothing more (no ISR, TPR or EOI: the async PF
 * protocol's ACK MSR is what paces page-ready interrupts); the STI interrupt shadow is taken to
 * be in force when the byte before RIP is sti (0xfb), which at worst delays an interrupt by one
 * entry.
 *
 * Also here: the wrmsr exit (EXIT_REASON_MSR_WRITE) for the async PF MSRs, and the halts that
 * interrupts and async PF can end (kvm_emulate_halt() and vcpu_block() of KVM_REQ_APF_HALT, read
 * in ColinIanKing/linux-next arch/x86/kvm/x86.c at 1c60d04a, 6.18 cycle).
 */
#define G_LOG_DOMAIN "kvmsim-cpu"
#include "sim/cpu/vcpu-internal.h"

#include <errno.h>

#include "mmu/async_pf.h"
#include "mmu/spte.h"
#include "sim/core/log.h"

#define RFLAGS_TF (1ull << 8)
#define RFLAGS_IF (1ull << 9)
#define RFLAGS_NT (1ull << 14)
#define RFLAGS_RF (1ull << 16)
#define IDT_GATE_INTR 0xe
#define IDT_GATE_TRAP 0xf
/* EPT violations in a row delivering one event before the vCPU fails. */
#define DELIVERY_FAULT_BUDGET 64

/* What the SPTE tree allows for an access of gpa by the CPU itself (event delivery). */
static gboolean
delivery_access_allowed(SimVcpu *v, guint64 gpa, gboolean write)
{
	u64 spte = kvm_tdp_mmu_get_walk_last(v->kvcpu, gpa, NULL);

	return is_shadow_present_pte(spte) && !is_mmio_spte(spte) &&
	       (spte & VMX_EPT_READABLE_MASK) && (!write || (spte & VMX_EPT_WRITABLE_MASK));
}

/*
 * A guest-physical access made by event delivery: the bytes at the GPA, which hold the frame the
 * SPTE maps (DESIGN §3), if the tree allows it on every page; else nothing is accessed and the
 * first GPA it does not allow is in *fault.
 */
static gboolean
delivery_access(SimVcpu *v, guint64 gpa, void *buf, guint len, gboolean write, guint64 *fault)
{
	uc_engine *uc = sim_hw_uc(v->hw);

	for (guint64 at = gpa & ~(guint64)(SIM_PAGE_SIZE - 1); at < gpa + len; at += SIM_PAGE_SIZE) {
		if (!delivery_access_allowed(v, MAX(at, gpa), write)) {
			*fault = MAX(at, gpa);
			return FALSE;
		}
	}
	if (write) {
		/* the frame's bytes, written around hostmem: code there is stale */
		uc_mem_write(uc, gpa, buf, len);
		sim_hostmem_content_changed(v->kvm->hm, gpa, len);
	} else
		uc_mem_read(uc, gpa, buf, len);
	return TRUE;
}

/* Which event the entry delivered, and through which handler: kvmsim's own lines, after the
 * kernel's kvm_inj_virq / kvm_inj_exception and kvm_entry, for what those do not carry (the
 * handler, CR2). */
static void
trace_delivery(SimVcpu *v, guint8 vector, gboolean exception, guint32 error_code, guint64 handler)
{
	if (exception)
		sim_log_emit(v->kvm->log, "sim_inject_exception", "vcpu %d #PF (0x%x) cr2 0x%"
			     G_GINT64_MODIFIER "x handler 0x%" G_GINT64_MODIFIER "x",
			     v->kvcpu->vcpu_id, error_code, v->exc_cr2, handler);
	else
		sim_log_emit(v->kvm->log, "sim_inject_irq", "vcpu %d irq %u handler 0x%"
			     G_GINT64_MODIFIER "x", v->kvcpu->vcpu_id, vector, handler);
}

/* Delivers vector through the guest's IDT. FALSE if it did not: the vCPU failed, or (*fault
 * set, else G_MAXUINT64) an access the SPTE tree did not allow, write saying which. */
static gboolean
deliver(SimVcpu *v, guint8 vector, gboolean exception, guint32 error_code, guint64 *fault,
	gboolean *write)
{
	uc_engine *uc = sim_hw_uc(v->hw);
	uc_x86_mmr idtr;
	guint64 rsp, rflags, cs = 0, ss = 0, gate[2], frame[6], handler;
	guint n = 0;

	*fault = G_MAXUINT64;
	*write = FALSE;
	uc_reg_read(uc, UC_X86_REG_IDTR, &idtr);
	uc_reg_read(uc, UC_X86_REG_RSP, &rsp);
	uc_reg_read(uc, UC_X86_REG_RFLAGS, &rflags);
	uc_reg_read(uc, UC_X86_REG_CS, &cs);
	uc_reg_read(uc, UC_X86_REG_SS, &ss);
	if ((guint64)vector * 16 + 15 > idtr.limit) {
		vcpu_fail(v, "event delivery: vector %u is past the IDT limit 0x%x (a triple fault)",
			  vector, idtr.limit);
		return FALSE;
	}
	if (!delivery_access(v, idtr.base + (guint64)vector * 16, gate, sizeof(gate), FALSE, fault))
		return FALSE;
	guint type = (guint)(gate[0] >> 40) & 0xf;

	if (!(gate[0] & (1ull << 47)) || (type != IDT_GATE_INTR && type != IDT_GATE_TRAP)) {
		vcpu_fail(v, "event delivery: IDT gate %u is not a present 64-bit interrupt or trap "
			  "gate (a triple fault)", vector);
		return FALSE;
	}
	if (((gate[0] >> 16) & 0xffff) != (cs & 0xffff)) {
		vcpu_fail(v, "event delivery: IDT gate %u selector 0x%x is not CS 0x%x (far "
			  "transfers are not modelled)", vector, (guint)((gate[0] >> 16) & 0xffff),
			  (guint)cs);
		return FALSE;
	}
	handler = (gate[0] & 0xffff) | ((gate[0] >> 32) & 0xffff0000ull) | (gate[1] << 32);
	/* pushed from the top: SS, RSP, RFLAGS, CS, RIP, error code */
	if (exception && vector == 14)
		frame[n++] = error_code;
	frame[n++] = v->rip;
	frame[n++] = cs & 0xffff;
	frame[n++] = rflags;
	frame[n++] = rsp;
	frame[n++] = ss & 0xffff;
	guint64 new_rsp = (rsp & ~0xfull) - n * 8;

	*write = TRUE;
	if (!delivery_access(v, new_rsp, frame, n * 8, TRUE, fault))
		return FALSE;
	trace_delivery(v, vector, exception, error_code, handler);
	rflags &= ~(RFLAGS_TF | RFLAGS_NT | RFLAGS_RF);
	if (type == IDT_GATE_INTR)
		rflags &= ~RFLAGS_IF;
	uc_reg_write(uc, UC_X86_REG_RSP, &new_rsp);
	uc_reg_write(uc, UC_X86_REG_RFLAGS, &rflags);
	v->rip = handler;
	return TRUE;
}

/*
 * The VM exit an EPT violation during delivery causes, and its handling: kvm_exit with the event
 * as IDT-vectoring information (info2), the switch out of the restricted space, then
 * handle_ept_violation() (vmx.c at 046408cf); a KVM_EXIT_MEMORY_FAULT goes to the VMM as the
 * guest's own faults do (vcpu_handle_exit()). FALSE if the vCPU failed.
 */
static gboolean
delivery_exit(SimVcpu *v, guint64 gpa, gboolean write)
{
	u64 spte = kvm_tdp_mmu_get_walk_last(v->kvcpu, gpa, NULL);
	guint64 qual = sim_ept_violation_qualification(!write, write, FALSE, spte);
	struct kvm_exit_info x = {
		.reason = EXIT_REASON_EPT_VIOLATION, .rip = v->rip, .info1 = qual,
		.info2 = v->entry_intr_info,
	};
	int r;

	/* __vmx_complete_interrupts(): the event goes back to injected (it already is) */
	v->entry_intr_info = 0;
	vcpu_vmexit(v);
	if (++v->delivery_faults > DELIVERY_FAULT_BUDGET) {
		vcpu_fail(v, "event delivery: gpa 0x%" G_GINT64_MODIFIER "x still not mapped after %d "
			  "EPT violations", gpa, DELIVERY_FAULT_BUDGET);
		return FALSE;
	}
	trace_kvm_exit(v->kvcpu, &x);
	sim_log_emit(v->kvm->log, "sim_delivery_fault", "vcpu %d event delivery %s gpa 0x%"
		     G_GINT64_MODIFIER "x", v->kvcpu->vcpu_id, write ? "writes" : "reads", gpa);
	kvm_vcpu_srcu_read_lock(v->kvcpu);
	r = kvm_handle_ept_violation(v->kvcpu, gpa, qual, v->rip);
	kvm_vcpu_srcu_read_unlock(v->kvcpu);
	if ((r == -EFAULT || r == -EHWPOISON) &&
	    v->kvcpu->run.exit_reason == KVM_EXIT_MEMORY_FAULT && v->ops->memory_fault) {
		/* KVM_RUN returns to the VMM, which resolves it (post-copy, a conversion); the
		 * next entry injects the event again */
		v->exit = EXIT_MEMORY_FAULT;
		v->exit_error = r;
		return vcpu_handle_exit(v, UC_ERR_OK);
	}
	if (r < 0 || r == RET_PF_EMULATE) {
		vcpu_fail(v, "event delivery: KVM cannot map gpa 0x%" G_GINT64_MODIFIER "x for the "
			  "CPU (%s)", gpa, r < 0 ? g_strerror(-r) : "emulation");
		return FALSE;
	}
	if (r != RET_PF_RETRY)
		sim_sched_progress(v->sched);
	return TRUE;
}

/*
 * The CPU's delivery, at this VM entry, of the event in VM_ENTRY_INTR_INFO_FIELD (file comment).
 * Delivered, the event is no longer injected: the exit that ends the run finds no IDT-vectoring
 * information (vmx_complete_interrupts()). A #PF that async PF queued is noted delivered.
 */
VcpuDelivery
vcpu_deliver_at_entry(SimVcpu *v)
{
	guint32 info = v->entry_intr_info;
	gboolean exception = (info & INTR_TYPE_HARD_EXCEPTION) == INTR_TYPE_HARD_EXCEPTION;
	guint64 fault;
	gboolean write;

	if (!(info & INTR_INFO_VALID_MASK))
		return VCPU_DELIVERED;
	if (!deliver(v, (guint8)info, exception, v->entry_error_code, &fault, &write)) {
		if (fault == G_MAXUINT64)
			return VCPU_DELIVERY_FAILED;
		return delivery_exit(v, fault, write) ? VCPU_DELIVERY_EXIT : VCPU_DELIVERY_FAILED;
	}
	v->entry_intr_info = 0;
	v->delivery_faults = 0;
	if (exception) {
		v->exc_injected = FALSE;
		if (v->exc_vector == 14)
			kvm_async_pf_injected(v->kvcpu);
	} else
		v->irq_injected = FALSE;
	return VCPU_DELIVERED;
}

/* The STI shadow, as far as kvmsim can see it (file comment). */
static gboolean
in_sti_shadow(SimVcpu *v)
{
	uc_engine *uc = sim_hw_uc(v->hw);
	guint8 byte = 0;
	guint64 rip;

	/* in a run, the engine's RIP (exact in a #PF hook and at a block's start); between runs,
	 * where the next run starts */
	rip = v->in_run ? sim_hw_rip(v->hw) : v->rip;
	return rip > 0 && uc_mem_read(uc, rip - 1, &byte, 1) == UC_ERR_OK && byte == 0xfb;
}

/* Whether the local APIC has any fixed vector pending. */
gboolean
vcpu_irq_pending(const SimVcpu *v)
{
	return (v->irr[0] | v->irr[1] | v->irr[2] | v->irr[3]) != 0;
}

/* Models kvm_arch_interrupt_allowed() (x86.c, read in ColinIanKing/linux-next at 1c60d04a), VMX's
 * interrupt_allowed hook reduced to RFLAGS.IF and the STI shadow (vmx.c: not read). */
gboolean
vcpu_interrupt_allowed(struct kvm_vcpu *kvcpu)
{
	SimVcpu *v = kvcpu->hw;
	guint64 rflags;

	uc_reg_read(sim_hw_uc(v->hw), UC_X86_REG_RFLAGS, &rflags);
	return (rflags & RFLAGS_IF) && !in_sti_shadow(v);
}

/* Models vmx_inject_irq() (vmx.c at 046408cf): trace_kvm_inj_virq(), then the interrupt in
 * VM_ENTRY_INTR_INFO_FIELD (an external interrupt: kvmsim injects no soft one). */
static void
inject_irq(SimVcpu *v, gboolean reinjected)
{
	trace_kvm_inj_virq(v->kvcpu, v->irq_vector, FALSE, reinjected);
	v->entry_intr_info = INTR_INFO_VALID_MASK | INTR_TYPE_EXT_INTR | v->irq_vector;
	v->entry_error_code = 0;
}

/*
 * Models kvm_inject_exception() (x86.c at 046408cf) -> vmx_inject_exception() (vmx.c at
 * 046408cf): trace_kvm_inj_exception(), the payload delivered (kvm_deliver_exception_payload():
 * a new #PF's address into CR2), then the exception in VM_ENTRY_INTR_INFO_FIELD, its error code
 * cut to the 16 bits VMX takes. Only #PF is ever queued in kvmsim.
 */
static void
inject_exception(SimVcpu *v, gboolean reinjected)
{
	gboolean has_error = v->exc_vector == 14;

	trace_kvm_inj_exception(v->kvcpu, v->exc_vector, has_error, v->exc_error_code, reinjected);
	if (v->exc_vector == 14 && !reinjected) {
		uc_reg_write(sim_hw_uc(v->hw), UC_X86_REG_CR2, &v->exc_cr2);
		v->guest_cr2 = v->exc_cr2;
		v->cr2_owned = TRUE;
	}
	v->entry_intr_info = INTR_INFO_VALID_MASK | INTR_TYPE_HARD_EXCEPTION | v->exc_vector |
			     (has_error ? INTR_INFO_DELIVER_CODE_MASK : 0);
	v->entry_error_code = has_error ? (guint16)v->exc_error_code : 0;
}

/* Whether vcpu_enter_guest() has events to inject: KVM_REQ_EVENT, as kvmsim makes it implicit. */
gboolean
vcpu_events_due(const SimVcpu *v)
{
	return vcpu_event_pending(v->kvcpu) || vcpu_irq_pending(v);
}

/*
 * Models kvm_check_and_inject_events() (x86.c, read in ColinIanKing/linux-next at 046408cf): an
 * injected event that an entry did not deliver is injected again; a pending exception next,
 * whatever IF says, and then no new interrupt on that entry (the kernel's -EBUSY and immediate
 * exit are not modelled: the interrupt waits for the next entry); else the highest IRR vector if
 * interrupt_allowed, else enable_irq_window(). Nothing is delivered here: the event waits in
 * VM_ENTRY_INTR_INFO_FIELD for the entry. No NMI or SMI.
 */
void
vcpu_check_and_inject_events(SimVcpu *v)
{
	v->kvcpu->requests &= ~(1ul << KVM_REQ_EVENT);
	v->entry_intr_info = 0;
	if (v->exc_injected)
		inject_exception(v, TRUE);
	else if (!v->exc_pending && v->irq_injected)
		inject_irq(v, TRUE);
	if (v->exc_pending) {
		inject_exception(v, FALSE);
		v->exc_pending = FALSE;
		v->exc_injected = TRUE;
		return;
	}
	v->irq_window = FALSE;
	/* kvm_event_needs_reinjection(): no new event while one waits to be delivered */
	if (!vcpu_irq_pending(v) || v->exc_injected || v->irq_injected)
		return;
	if (!vcpu_interrupt_allowed(v->kvcpu)) {
		v->irq_window = TRUE; /* enable_irq_window() */
		sim_log_emit(v->kvm->log, "sim_irq_window", "vcpu %d interrupt pending with interrupts "
			     "off at rip 0x%" G_GINT64_MODIFIER "x: exit when they are on",
			     v->kvcpu->vcpu_id, v->rip);
		return;
	}
	for (int word = 3; word >= 0; word--) {
		if (!v->irr[word])
			continue;
		v->irq_vector = (guint8)(word * 64 + 63 - __builtin_clzll(v->irr[word]));
		v->irr[word] &= ~(1ull << (v->irq_vector % 64)); /* kvm_cpu_get_interrupt() */
		v->irq_injected = TRUE;                          /* kvm_queue_interrupt() */
		inject_irq(v, FALSE);
		return;
	}
}

/* Models vmx_cancel_injection() (vmx.c at 046408cf), for an entry cancelled after the event was
 * injected: __vmx_complete_interrupts() of the field puts the event back as injected (kvmsim's
 * flags already say so) with KVM_REQ_EVENT, and the field is cleared. */
void
vcpu_cancel_injection(SimVcpu *v)
{
	if (!(v->entry_intr_info & INTR_INFO_VALID_MASK))
		return;
	v->kvcpu->requests |= 1ul << KVM_REQ_EVENT;
	v->entry_intr_info = 0;
}

/* The engine's own #PF (an EPT violation) overwrote CR2: give the guest back its own. */
void
vcpu_restore_cr2(SimVcpu *v)
{
	if (v->cr2_owned)
		uc_reg_write(sim_hw_uc(v->hw), UC_X86_REG_CR2, &v->guest_cr2);
}

/* kvm_queue_exception_e_p() of #PF for an async PF (via kvm_inject_page_fault(), x86.c at
 * 1c60d04a); kvm_multiple_exception()'s merging into #DF is not modelled, nor KVM_REQ_EVENT. */
void
vcpu_queue_page_fault(struct kvm_vcpu *kvcpu, u64 address, u32 error_code)
{
	SimVcpu *v = kvcpu->hw;

	v->exc_pending = TRUE;
	v->exc_vector = 14;
	v->exc_error_code = error_code;
	v->exc_cr2 = address;
}

/* kvm_apic_set_irq() of a fixed vector: set in the IRR (the kick is the next entry). lapic.c: no
 * 6.18-era copy read (ColinIanKing/linux-next's lapic.c at 29135852 predates the cycle). */
void
vcpu_apic_set_irq(struct kvm_vcpu *kvcpu, u8 vector)
{
	SimVcpu *v = kvcpu->hw;

	v->irr[vector / 64] |= 1ull << (vector % 64);
}

/* kvm_event_needs_reinjection() || kvm_is_exception_pending() (x86.h: not read), as
 * kvm_check_and_inject_events() uses them (x86.c at 046408cf): a pending #PF, or an injected
 * event not delivered yet. */
gboolean
vcpu_event_pending(struct kvm_vcpu *kvcpu)
{
	SimVcpu *v = kvcpu->hw;

	return v->exc_pending || v->exc_injected || v->irq_injected;
}

/* CPL: CS.RPL (kvmsim's guests run at 0). */
int
vcpu_get_cpl(struct kvm_vcpu *kvcpu)
{
	SimVcpu *v = kvcpu->hw;
	guint64 cs = 0;

	uc_reg_read(sim_hw_uc(v->hw), UC_X86_REG_CS, &cs);
	return (int)(cs & 3);
}

/* The run stopped before a block that starts with wrmsr: the MSR-write exit, before it runs
 * (the block was not charged). */
void
vcpu_wrmsr_exit(SimVcpu *v)
{
	uc_engine *uc = sim_hw_uc(v->hw);
	guint64 rcx, rax, rdx;

	uc_reg_read(uc, UC_X86_REG_RCX, &rcx);
	uc_reg_read(uc, UC_X86_REG_RAX, &rax);
	uc_reg_read(uc, UC_X86_REG_RDX, &rdx);
	v->insns++; /* it retires with the exit */
	v->msr_index = (guint32)rcx;
	v->msr_value = (rdx & G_MAXUINT32) << 32 | (rax & G_MAXUINT32);
	v->msr_rip = v->rip;
}

/*
 * Models kvm_emulate_wrmsr() (VMX's MSR_WRITE handler in vmx.c at 046408cf) ->
 * kvm_set_msr_common() for the async PF MSRs (x86.c at 046408cf); any
 * other MSR, or a value KVM refuses, would inject #GP: the guest has no handler for it in
 * kvmsim, so the vCPU fails saying so. kvm_msr's format: trace.h read in kvm-x86/linux at aebed32e.
 */
gboolean
vcpu_handle_wrmsr(SimVcpu *v)
{
	struct kvm_exit_info x = { EXIT_REASON_MSR_WRITE, v->msr_rip, 0, 0, 0, 0 };
	int r = 1;

	v->rip = v->msr_rip + 2; /* kvm_skip_emulated_instruction() */
	trace_kvm_exit(v->kvcpu, &x);
	if (v->msr_index == MSR_KVM_ASYNC_PF_EN || v->msr_index == MSR_KVM_ASYNC_PF_INT ||
	    v->msr_index == MSR_KVM_ASYNC_PF_ACK) {
		kvm_vcpu_srcu_read_lock(v->kvcpu);
		r = kvm_async_pf_set_msr(v->kvcpu, v->msr_index, v->msr_value);
		kvm_vcpu_srcu_read_unlock(v->kvcpu);
	}
	sim_log_emit(v->kvm->log, "kvm_msr", "msr_write %x = 0x%" G_GINT64_MODIFIER "x%s",
		     v->msr_index, v->msr_value, r ? " (#GP)" : "");
	if (r) {
		vcpu_fail(v, "guest wrote MSR 0x%x = 0x%" G_GINT64_MODIFIER "x at rip 0x%"
			  G_GINT64_MODIFIER "x: KVM would inject #GP", v->msr_index, v->msr_value,
			  v->msr_rip);
		return FALSE;
	}
	return TRUE;
}

/* kvm_vcpu_has_events() for a halted vCPU (x86.c, read in ColinIanKing/linux-next at 1c60d04a):
 * async PF work done, or an IRR vector (the vCPU halted with IF set; no NMI, SMI, INIT/SIPI). */
static gboolean
halt_wakes(gpointer data)
{
	SimVcpu *v = data;

	return v->stop_requested || sim_sched_failed(v->sched) || vcpu_irq_pending(v) ||
	       kvm_async_pf_vcpu_runnable(v->kvcpu) ||
	       (v->kvcpu->requests & (1ul << KVM_REQ_APF_READY));
}

/*
 * A guest hlt. With interrupts off, or a vCPU that never enabled async PF (nothing could ever
 * wake it: kvmsim models no timer or IPI), the vCPU stops for good as before. Else
 * __kvm_emulate_halt() and vcpu_block()'s kvm_vcpu_halt() (x86.c at 1c60d04a): block until an
 * event arrives, then run on after the hlt (halt polling not modelled). FALSE: stopped.
 */
gboolean
vcpu_halt(SimVcpu *v)
{
	guint64 rflags;

	uc_reg_read(sim_hw_uc(v->hw), UC_X86_REG_RFLAGS, &rflags);
	if (!(rflags & RFLAGS_IF) || !v->kvcpu->async_pf || !v->kvcpu->async_pf->msr_en_val)
		return FALSE;
	sim_log_emit(v->kvm->log, "sim_vcpu_halt", "vcpu %d halted with interrupts on",
		     v->kvcpu->vcpu_id);
	/* kvm_vcpu_block()'s schedule(): asi_kvm_halt() already switched to the idle task, so the
	 * sleep hook finds the vCPU's thread switched out and does not switch again */
	sim_wait_sleeping(v->sched, "kvm_vcpu_halt", halt_wakes, v);
	sim_count(v->kvm->counters, SIM_CTR_APF_GUEST_WAKEUPS);
	return !v->stop_requested && !sim_sched_failed(v->sched);
}

/* kvm_arch_vcpu_runnable() for a vCPU halted by KVM_REQ_APF_HALT (x86.c at 1c60d04a), reduced to
 * async PF work done: kvm_vcpu_has_events()' takeable interrupt and exception are left out. */
static gboolean
apf_halt_wakes(gpointer data)
{
	SimVcpu *v = data;

	return v->stop_requested || sim_sched_failed(v->sched) ||
	       kvm_async_pf_vcpu_runnable(v->kvcpu);
}

/* KVM_REQ_APF_HALT: vcpu_block() (x86.c at 1c60d04a) until kvm_arch_vcpu_runnable(), then clear
 * apf.halted as its mp_state switch does. */
gboolean
vcpu_apf_block(SimVcpu *v)
{
	sim_wait_sleeping(v->sched, "kvm_vcpu_block", apf_halt_wakes, v); /* schedule() */
	v->kvcpu->async_pf->halted = FALSE;
	return !v->stop_requested && !sim_sched_failed(v->sched);
}
