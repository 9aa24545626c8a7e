/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The kvm tracepoints of arch/x86/kvm/trace.h that kvmsim's vCPUs hit, with v6.18's formats and
 * payloads as the running 6.18 kernel's tracefs shows them (events/kvm/<event>/format).
 * The only copy of arch/x86/kvm/trace.h read (kvm-x86/linux at aebed32e, 6.11 or later:
 * kvm_x86_call) predates kvm_entry's intr_info/error_code and kvm_exit's requests, which the 6.18
 * tracefs shows; its other formats match these. vmx.c is named where read.
 */
#include "mmu/mmu-internal.h"

/* The names kvm_exit prints for the VMX exit reasons kvmsim's vCPUs take (VMX_EXIT_REASONS). */
static const char *
exit_reason_name(u32 reason)
{
	switch (reason) {
	case EXIT_REASON_EXCEPTION_NMI:
		return "EXCEPTION_NMI";
	case EXIT_REASON_EXTERNAL_INTERRUPT:
		return "EXTERNAL_INTERRUPT";
	case EXIT_REASON_TRIPLE_FAULT:
		return "TRIPLE_FAULT";
	case EXIT_REASON_INTERRUPT_WINDOW:
		return "INTERRUPT_WINDOW";
	case EXIT_REASON_HLT:
		return "HLT";
	case EXIT_REASON_VMCALL:
		return "VMCALL";
	case EXIT_REASON_IO_INSTRUCTION:
		return "IO_INSTRUCTION";
	case EXIT_REASON_MSR_WRITE:
		return "MSR_WRITE";
	case EXIT_REASON_EPT_VIOLATION:
		return "EPT_VIOLATION";
	case EXIT_REASON_EPT_MISCONFIG:
		return "EPT_MISCONFIG";
	}
	g_assert_not_reached();
}

/*
 * Models trace_kvm_exit(vcpu, KVM_ISA_VMX), emitted by vmx_vcpu_run() right after the exit, with
 * vmx_get_exit_info()'s payload (arch/x86/kvm/vmx/vmx.c, read in ColinIanKing/linux-next): info1
 * is the exit qualification, info2 the IDT-vectoring information (non-zero only for an exit
 * during event delivery), intr_info the exit interruption information and error_code its error
 * code; requests is vcpu->requests as the exit finds it.
 */
void
trace_kvm_exit(struct kvm_vcpu *vcpu, const struct kvm_exit_info *x)
{
	sim_log_emit(vcpu->kvm->log, "kvm_exit",
		     "vcpu %d reason %s rip 0x%" G_GINT64_MODIFIER "x info1 0x%016" G_GINT64_MODIFIER
		     "x info2 0x%016x intr_info 0x%08x error_code 0x%08x requests 0x%016lx",
		     vcpu->vcpu_id, exit_reason_name(x->reason), x->rip, x->info1, x->info2, x->intr_info,
		     x->error_code, vcpu->requests);
}

/* Models trace_kvm_entry(vcpu, force_immediate_exit), emitted by vmx_vcpu_run() before the entry,
 * with vmx_get_entry_info()'s payload (vmx.c at 046408cf): VM_ENTRY_INTR_INFO_FIELD, the event
 * the entry injects (0: none), and VM_ENTRY_EXCEPTION_ERROR_CODE if that event delivers one.
 * kvmsim never forces an immediate exit. The entry invariant (kvm_vcpu_check_entry()) is checked
 * later, where the guest runs its first instruction (sim_kvm_vmenter() in sim/cpu). */
void
trace_kvm_entry(struct kvm_vcpu *vcpu, u64 rip, u32 intr_info, u32 error_code)
{
	sim_log_emit(vcpu->kvm->log, "kvm_entry",
		     "vcpu %d, rip 0x%" G_GINT64_MODIFIER "x intr_info 0x%08x error_code 0x%08x",
		     vcpu->vcpu_id, rip, intr_info,
		     (intr_info & INTR_INFO_DELIVER_CODE_MASK) ? error_code : 0);
}

/* Models trace_kvm_inj_virq(), emitted by vmx_inject_irq() (vmx.c at 046408cf) when it writes
 * the interrupt into VM_ENTRY_INTR_INFO_FIELD. */
void
trace_kvm_inj_virq(struct kvm_vcpu *vcpu, u32 vector, gboolean soft, gboolean reinjected)
{
	sim_log_emit(vcpu->kvm->log, "kvm_inj_virq", "%s 0x%x%s", soft ? "Soft/INTn" : "IRQ",
		     vector, reinjected ? " [reinjected]" : "");
}

/* The mnemonic kvm_inj_exception's __print_symbolic() gives a vector (kvm_trace_sym_exc), or
 * NULL: then it prints the number. */
static const char *
exception_mnemonic(u8 vector)
{
	static const char *const names[32] = {
		[0] = "#DE", [1] = "#DB", [3] = "#BP", [4] = "#OF", [5] = "#BR", [6] = "#UD",
		[7] = "#NM", [8] = "#DF", [10] = "#TS", [11] = "#NP", [12] = "#SS", [13] = "#GP",
		[14] = "#PF", [16] = "#MF", [17] = "#AC", [18] = "#MC", [19] = "#XM", [20] = "#VE",
		[21] = "#CP", [28] = "#HV", [29] = "#VC", [30] = "#SX",
	};

	return vector < G_N_ELEMENTS(names) ? names[vector] : NULL;
}

/* Models trace_kvm_inj_exception(), emitted by kvm_inject_exception() (x86.c at 046408cf) before
 * vmx_inject_exception() writes the event into VM_ENTRY_INTR_INFO_FIELD; the error code is
 * printed by a __print_symbolic() with no symbols, so as a number. */
void
trace_kvm_inj_exception(struct kvm_vcpu *vcpu, u8 vector, gboolean has_error, u32 error_code,
			gboolean reinjected)
{
	const char *name = exception_mnemonic(vector);
	g_autofree gchar *number = name ? NULL : g_strdup_printf("0x%x", vector);
	g_autofree gchar *code = has_error ? g_strdup_printf(" (0x%x)", error_code) : NULL;

	sim_log_emit(vcpu->kvm->log, "kvm_inj_exception", "%s%s%s", name ? name : number,
		     code ? code : "", reinjected ? " [reinjected]" : "");
}

/* Models trace_kvm_pio() for one port access: val holds size bytes, and count 1 leaves the
 * trailing field empty (after its space). */
void
trace_kvm_pio(struct kvm_vcpu *vcpu, gboolean in, u32 port, u32 size, u32 value)
{
	u32 val = size == 1 ? (u8)value : size == 2 ? (u16)value : value;

	sim_log_emit(vcpu->kvm->log, "kvm_pio", "pio_%s at 0x%x size %u count 1 val 0x%x ",
		     in ? "read" : "write", port, size, val);
}

/* Models trace_kvm_hypercall(), emitted by kvm_emulate_hypercall(). */
void
trace_kvm_hypercall(struct kvm_vcpu *vcpu, u64 nr, const u64 args[4])
{
	sim_log_emit(vcpu->kvm->log, "kvm_hypercall",
		     "nr 0x%" G_GINT64_MODIFIER "x a0 0x%" G_GINT64_MODIFIER "x a1 0x%"
		     G_GINT64_MODIFIER "x a2 0x%" G_GINT64_MODIFIER "x a3 0x%" G_GINT64_MODIFIER "x",
		     nr, args[0], args[1], args[2], args[3]);
}
