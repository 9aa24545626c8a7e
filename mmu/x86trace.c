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
 * is the exit qualification, info2 the IDT-vectoring information (always 0 here: no exit
 * happens during event delivery), intr_info the exit interruption information and error_code
 * its error code; requests is vcpu->requests as the exit finds it.
 */
void
trace_kvm_exit(struct kvm_vcpu *vcpu, const struct kvm_exit_info *x)
{
	sim_log_emit(vcpu->kvm->log, "kvm_exit",
		     "vcpu %d reason %s rip 0x%" G_GINT64_MODIFIER "x info1 0x%016" G_GINT64_MODIFIER
		     "x info2 0x%016x intr_info 0x%08x error_code 0x%08x requests 0x%016lx",
		     vcpu->vcpu_id, exit_reason_name(x->reason), x->rip, x->info1, 0, x->intr_info,
		     x->error_code, vcpu->requests);
}

/* Models trace_kvm_entry(vcpu, force_immediate_exit), emitted by vmx_vcpu_run() before the entry;
 * kvmsim never forces an immediate exit, and logs intr_info and error_code as 0 even at an entry
 * whose event it delivered (sim/cpu/inject.c delivers before the entry, not through VMCS fields).
 * Every entry passes here, so the entry invariant (kvm_vcpu_check_entry()) is checked after it. */
void
trace_kvm_entry(struct kvm_vcpu *vcpu, u64 rip)
{
	sim_log_emit(vcpu->kvm->log, "kvm_entry",
		     "vcpu %d, rip 0x%" G_GINT64_MODIFIER "x intr_info 0x%08x error_code 0x%08x",
		     vcpu->vcpu_id, rip, 0, 0);
	kvm_vcpu_check_entry(vcpu);
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
